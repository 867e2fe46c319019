--
-- load_volume: a file large enough to grow every hash table and to span
-- several write chunks (10,000 rows), generated on the server
--
INSERT INTO credimport.learner (email, first_name, last_name)
SELECT format('volume.%s@example.org', i), 'Volume', i::text FROM generate_series(1, 3000) i;

-- 24,000 credits: every learner, four courses, two credit types; e-mails
-- in mixed case, some with blanks around them (written into the data
-- directory, so that no machine path shows in the output)
SELECT current_setting('data_directory') || '/credimport_volume.csv' AS volume_file \gset
CREATE TEMP TABLE volume_rows AS
    SELECT CASE WHEN i % 10 = 0 THEN upper(format('volume.%s@example.org', i))
                WHEN i % 50 = 1 THEN format('  volume.%s@example.org ', i)
                ELSE format('volume.%s@example.org', i) END AS email,
           'Volume Provider' AS provider, format('Course %s, part %s', c, c) AS course_title,
           format('VOL-%s', c) AS course_id,
           to_char(date '2020-01-01' + (i % 365), 'YYYY-MM-DD') AS completion_date,
           ((i % 7) + 1)::text || '.25' AS number_credits,
           t AS credit_type
      FROM generate_series(1, 3000) i, generate_series(1, 4) c, unnest(ARRAY['CME', 'CE']) t
     ORDER BY i, c, t;
\set ECHO none
SELECT format('COPY volume_rows TO %L WITH (FORMAT csv, HEADER)', :'volume_file') \gexec
\set ECHO all

SELECT status, count(*), count(DISTINCT learner_id) AS learners, count(credit_id) AS credits
  FROM credimport_load(:'volume_file', 'email') GROUP BY status;
SELECT count(*), sum(number_credits), count(DISTINCT learner_id), min(completion_date), max(completion_date),
       sum(number_credits) = (SELECT sum(number_credits::numeric) FROM volume_rows) AS sum_matches_file
  FROM credimport.credit WHERE course_id LIKE 'VOL-%';
-- every credit belongs to the learner its e-mail names
SELECT count(*) AS mismatched FROM credimport.credit c JOIN credimport.learner l ON l.id = c.learner_id
 WHERE c.course_id LIKE 'VOL-%' AND l.email NOT LIKE 'volume.%';

-- the whole file again: all already on transcripts, found by the probe
SELECT status, count(*) FROM credimport_load(:'volume_file', 'email', validate_only => true) GROUP BY status;
SELECT code, count(*) FROM credimport.batch_error
 WHERE batch_id = (SELECT max(id) FROM credimport.batch) GROUP BY code;
-- every problem is counted; the first credimport.max_stored_problems (1000)
-- of a code are stored, and one row says how many more there were
SELECT invalid FROM credimport.batch WHERE id = (SELECT max(id) FROM credimport.batch);
SELECT sum(CASE WHEN code = 'problems_not_stored' THEN split_part(message, ' ', 1)::int ELSE 1 END) AS counted,
       string_agg(message, '' ORDER BY code) FILTER (WHERE line_no IS NULL) AS summary
  FROM credimport.batch_error WHERE batch_id = (SELECT max(id) FROM credimport.batch);
SELECT count(*) AS records_saved FROM credimport.batch_record WHERE batch_id = (SELECT max(id) FROM credimport.batch);
