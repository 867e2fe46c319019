--
-- field_checks: credimport's strict field checks against PostgreSQL's own
-- input functions.  Ours are stricter by design; wherever ours accepts a
-- value, the server must read the same value from it.
--
CREATE FUNCTION pg_date(s text, style text DEFAULT 'ISO, YMD') RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('datestyle', style, true);
    RETURN to_char(s::date, 'YYYY-MM-DD');
EXCEPTION WHEN others THEN
    RETURN 'invalid_date';
END $$;

CREATE FUNCTION pg_credits(s text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE n numeric;
BEGIN
    n := s::numeric;
    IF n <= 0 THEN RETURN 'non_positive_credits'; END IF;
    IF scale(trim_scale(n)) > 2 THEN RETURN 'too_many_decimals'; END IF;
    RETURN (n::numeric(8,2))::text;
EXCEPTION WHEN others THEN
    RETURN 'invalid_number';
END $$;

-- every ISO-shaped string of days 00..32 in every month of some leap and
-- non-leap years: ours and the server's must agree exactly
SELECT count(*) AS iso_strings_checked,
       count(*) FILTER (WHERE credimport_check_value('date', s) <> pg_date(s)) AS disagreements
  FROM (SELECT format('%s-%s-%s', lpad(y::text, 4, '0'), lpad(m::text, 2, '0'), lpad(d::text, 2, '0')) AS s
          FROM generate_series(1896, 1904) y, generate_series(0, 13) m, generate_series(0, 32) d
        UNION ALL
        SELECT format('%s-%s-%s', y, lpad(m::text, 2, '0'), lpad(d::text, 2, '0'))
          FROM unnest(ARRAY[1999, 2000, 2023, 2024, 2100, 2400]) y, generate_series(1, 12) m,
               generate_series(28, 31) d) v;

-- the same for the alternative formats, against the server under the
-- matching DateStyle
SELECT fmt, count(*) AS checked,
       count(*) FILTER (WHERE credimport_check_value(fmt, s) <> pg_date(s, style)) AS disagreements
  FROM (VALUES ('date_mdy', 'ISO, MDY', '%2$s/%3$s/%1$s'),
               ('date_dmy', 'ISO, DMY', '%3$s/%2$s/%1$s'),
               ('date_dmy_dot', 'ISO, DMY', '%3$s.%2$s.%1$s')) f(fmt, style, pattern),
       LATERAL (SELECT format(pattern, y, lpad(m::text, 2, '0'), lpad(d::text, 2, '0')) AS s
                  FROM unnest(ARRAY[1900, 2000, 2023, 2024]) y, generate_series(1, 12) m,
                       generate_series(1, 31) d) v
 GROUP BY fmt ORDER BY fmt;

-- the locale formats take one- or two-digit month and day (3/14/2024, as
-- spreadsheet exports write them): every mix, against the server
SELECT fmt, count(*) AS checked,
       count(*) FILTER (WHERE credimport_check_value(fmt, s) <> pg_date(s, style)) AS disagreements,
       count(*) FILTER (WHERE credimport_check_value(fmt, s) = 'invalid_date') AS invalid
  FROM (VALUES ('date_mdy', 'ISO, MDY', '%2$s/%3$s/%1$s'),
               ('date_dmy', 'ISO, DMY', '%3$s/%2$s/%1$s'),
               ('date_dmy_dot', 'ISO, DMY', '%3$s.%2$s.%1$s')) f(fmt, style, pattern),
       LATERAL (SELECT format(pattern, y, mm, dd) AS s
                  FROM unnest(ARRAY[2023, 2024]) y, generate_series(1, 12) m, generate_series(1, 31) d,
                       LATERAL (VALUES (m::text, d::text), (lpad(m::text, 2, '0'), d::text),
                                       (m::text, lpad(d::text, 2, '0'))) p(mm, dd)) v
 GROUP BY fmt ORDER BY fmt;
SELECT s, credimport_check_value('date_mdy', s) AS mdy, credimport_check_value('date_dmy', s) AS dmy,
       credimport_check_value('date_dmy_dot', s) AS dmy_dot, credimport_check_value('date', s) AS iso
  FROM unnest(ARRAY['3/14/2024', '14/3/2024', '3/5/2024', '5.3.2024', '03/5/2024', '2/30/2024',
                    '3/14/24', '003/14/2024', '3/14/2024 ', '2021-3-5']) s;

-- where the server is lenient and we are strict (by design: a file that
-- says 2021-3-5 or 20210315 is most likely not what the person meant)
SELECT s, credimport_check_value('date', s) AS ours, pg_date(s) AS server
  FROM unnest(ARRAY['2021-3-5', '20210315', '03/15/2021', '2021-03-15 ', ' 2021-03-15',
                    '2021-02-29', '0000-01-01', '9999-12-31', 'epoch', '', 'Jan 5 2021',
                    '2021-03-15T00:00', '15.03.2021']) s;

-- credits: decimal strings of many shapes
SELECT count(*) AS credit_strings_checked,
       count(*) FILTER (WHERE credimport_check_value('credits', s) <> pg_credits(s)) AS disagreements
  FROM (SELECT (i / 1000.0)::text AS s FROM generate_series(-50, 20000, 7) i
        UNION ALL SELECT (i / 100.0)::text FROM generate_series(99999000, 100000100, 13) i
        UNION ALL SELECT i::text || '.' || lpad(j::text, 3, '0')
                    FROM generate_series(0, 3) i, generate_series(0, 999, 37) j) v;

SELECT s, credimport_check_value('credits', s) AS ours, pg_credits(s) AS server
  FROM unnest(ARRAY['1.5', '0.25', '10', '1.250', '1.255', '+2', '.5', '5.', '000001.50',
                    '0', '-1', '-0.001', '999999.99', '1000000', '1e2', '1,5', 'abc', ' 3 ',
                    'NaN', 'Infinity', '1 000', '0x10', '']) s;

-- e-mail addresses and booleans
SELECT s, credimport_check_value('email', s) AS email
  FROM unnest(ARRAY['ada@example.org', 'first.last+tag@sub.example.co.uk', 'no-at.example.org',
                    'two@@example.org', 'a@b', '@example.org', 'ada@', 'ada@.example.org',
                    'ada@example.', 'ada..x@example.org', 'ada lovelace@example.org',
                    'ada@exa mple.org', '"quoted"@example.org', 'ünï@exämple.org']) s;
SELECT s, credimport_check_value('bool', s) AS complete
  FROM unnest(ARRAY['1', '0', 'true', 'FALSE', 'Yes', 'no', 'Y', 'n', 't', 'F', '', 'maybe', '2']) s;

SELECT credimport_check_value('nonsense', 'x');

DROP FUNCTION pg_date(text, text);
DROP FUNCTION pg_credits(text);
