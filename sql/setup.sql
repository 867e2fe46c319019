--
-- setup: the extension's objects and the data the other tests use
--
CREATE EXTENSION credimport;

-- the data model
\dt credimport.*
SELECT name, required FROM credimport.profile_field ORDER BY name;

-- every table and sequence is marked for pg_dump
SELECT c.relname, c.relkind
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'credimport' ORDER BY c.relname;

-- GUCs
SHOW credimport.max_rows;
SHOW credimport.max_record_bytes;
SHOW credimport.date_format;
SET credimport.no_such_setting = 1;   -- the prefix is reserved

INSERT INTO credimport.credit_type (code, name, active) VALUES
    ('CME', 'Continuing Medical Education', true),
    ('CE', 'Continuing Education', true),
    ('ETHICS', 'Ethics', true),
    ('OLD', 'Retired credit type', false);
-- codes are unique case-insensitively
INSERT INTO credimport.credit_type (code, name) VALUES ('cme', 'duplicate');

INSERT INTO credimport.learner (email, remote_id, first_name, last_name, active) VALUES
    ('ada@example.org', 'R-ADA', 'Ada', 'Lovelace', true),        -- id 1
    ('Grace@Example.org', 'R-GRACE', 'Grace', 'Hopper', true),    -- id 2
    ('linus@example.org', NULL, 'Linus', 'Torvalds', true),       -- id 3
    ('ghost@example.org', 'R-GHOST', 'Gone', 'Away', false);      -- id 4
-- e-mails are unique case-insensitively
INSERT INTO credimport.learner (email) VALUES ('ADA@example.org');
SELECT id, email, remote_id, active FROM credimport.learner ORDER BY id;

-- credits must be positive (terse: the failing row would show a timestamp)
\set VERBOSITY terse
INSERT INTO credimport.credit (learner_id, provider, course_title, course_id, completion_date,
                               number_credits, credit_type_id, user_editable)
VALUES (1, 'p', 't', 'c', '2020-01-01', 0, 1, false);
\set VERBOSITY default

-- for the tests: run any statement that must fail, and show its SQLSTATE,
-- message, detail and hint with the machine's fixture directory masked
CREATE FUNCTION expect_error(q text)
RETURNS TABLE (sqlstate text, message text, detail text, hint text)
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hin text;
BEGIN
    EXECUTE q;
    RETURN QUERY SELECT 'no error'::text, NULL::text, NULL::text, NULL::text;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
    RETURN QUERY SELECT st, regexp_replace(msg, '"/[^"]*/test/fixtures', '"<fixtures>', 'g'),
                        nullif(det, ''), nullif(hin, '');
END $$;

-- for the tests: run a load that must fail, and show its SQLSTATE and
-- message with the machine's fixture directory masked
CREATE FUNCTION load_error(path text, mode text, max_errors integer DEFAULT 0,
                           validate_only boolean DEFAULT false)
RETURNS TABLE (sqlstate text, message text, detail text, hint text)
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hin text;
BEGIN
    PERFORM credimport_load(path, mode, validate_only => validate_only, max_errors => max_errors);
    RETURN QUERY SELECT 'no error'::text, NULL::text, NULL::text, NULL::text;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
    RETURN QUERY SELECT st, regexp_replace(msg, '"/[^"]*/test/fixtures', '"<fixtures>', 'g'),
                        nullif(det, ''), nullif(hin, '');
END $$;
