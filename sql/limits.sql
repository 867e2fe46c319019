--
-- limits: problem counts that never wrap, bounded storage of problems, the
-- administrator's limits, linear header and association checks, and one
-- rule for a source with nothing to import
--
-- (batch numbers are not shown, and the sequences are restored at the end,
-- so that later tests see the numbers they expect)
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS learner_seq FROM credimport.learner_id_seq \gset
SELECT last_value AS credit_seq FROM credimport.credit_id_seq \gset
SELECT count(*) AS learners_before FROM credimport.learner \gset
SET client_min_messages = warning;

CREATE FUNCTION limits_error(sql text)
RETURNS TABLE (sqlstate text, message text, detail text)
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    EXECUTE sql;
    RETURN QUERY SELECT 'no error'::text, NULL::text, NULL::text;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN QUERY SELECT st, left(msg, 200), nullif(left(det, 200), '');
END $$;

-- ---------------------------------------------------------------------------
-- a record's problems are counted in an int and never wrap (a 16-bit counter
-- made 65,536 problems "created", 32,768 an invalid memory request, and
-- 65,535 with no usable e-mail a crash); the first 100 are kept, then one
-- saying how many more
-- ---------------------------------------------------------------------------
BEGIN;
SELECT status, learner_id IS NULL AS no_learner, cardinality(errors) AS kept, errors[1], errors[101]
  FROM credimport_load_users_data(E'email,first_name,last_name,parent\nwrap65536@example.org,A,B,'
                                  || repeat('@;', 65536) || E'\nfine.one@example.org,F,One,\n', max_errors => 1);
SELECT count(*) AS wrapped_learner_written FROM credimport.learner WHERE email = 'wrap65536@example.org';
SELECT code, count(*) FROM credimport.batch_error WHERE batch_id = credimport_last_batch_id()
 GROUP BY code ORDER BY code;
ROLLBACK;
SELECT status, cardinality(errors) AS kept, errors[101]
  FROM credimport_load_users_data(E'email,first_name,last_name,parent\nwrap32768@example.org,A,B,'
                                  || repeat('@;', 32768) || E'\n', validate_only => true);
SELECT status, cardinality(errors) AS kept, errors[1], errors[101]
  FROM credimport_load_users_data(E'email,parent\nnot-an-email,' || repeat('@;', 65535) || E'\n',
                                  validate_only => true);
SELECT 1 AS server_still_here;

-- ---------------------------------------------------------------------------
-- a problem message longer than 511 bytes is cut at a character boundary
-- (it was cut in the middle of a UTF-8 character: invalid text stored)
-- ---------------------------------------------------------------------------
SELECT count(*) FROM credimport_load_data(
  E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,C1,2024-01-01,1,' || repeat(U&'\65E5', 200) || E'\n', 'email', validate_only => true);
SELECT code, octet_length(message) AS bytes, length(message) AS chars,
       pg_catalog.convert_from(message::bytea, 'UTF8') = message AS valid_utf8
  FROM credimport.batch_error WHERE batch_id = credimport_last_batch_id();

-- ---------------------------------------------------------------------------
-- problems stored per batch: every one counted, the first
-- credimport.max_stored_problems of each code stored, one row per code saying
-- how many more; invalid records saved only when a problem of theirs is
-- ---------------------------------------------------------------------------
SHOW credimport.max_stored_problems;
SET credimport.max_stored_problems = 5;
SELECT status, count(*) FROM credimport_load_users_data(
    'email,first_name,last_name,role' || E'\n' ||
    (SELECT string_agg(format('bad%s,A,B,', i), E'\n') FROM generate_series(1, 12) i) || E'\n' ||
    (SELECT string_agg(format('ok%s@example.org,A,B,pilot', i), E'\n') FROM generate_series(1, 3) i) || E'\n')
 GROUP BY status;
SELECT records, invalid FROM credimport.batch WHERE id = credimport_last_batch_id();
SELECT code, count(*) AS stored, min(line_no), max(line_no), string_agg(value, ',') FILTER (WHERE line_no IS NULL) AS of_code,
       string_agg(message, '') FILTER (WHERE line_no IS NULL) AS not_stored
  FROM credimport.batch_error WHERE batch_id = credimport_last_batch_id()
 GROUP BY code ORDER BY code;
SELECT count(*) AS records_saved, min(line_no), max(line_no)
  FROM credimport.batch_record WHERE batch_id = credimport_last_batch_id();
-- past that bound a record keeps one short problem per code (memory no
-- longer grows with the problems not stored: 1,000,000 invalid records
-- peaked at 1.25 GB): still invalid, every problem counted, its errors and
-- credimport_validate's rows in short form
SET credimport.max_stored_problems = 2;
SELECT line_no, status, errors FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'x,,,C,2024-01-01,1,CME\ny,,,C,2024-01-01,1,CME\nz,,T,C,2024-01-01,-1,CME\n', 'email',
    validate_only => true);
SELECT records, invalid FROM credimport.batch WHERE id = credimport_last_batch_id();
SELECT line_no, field, code, message, value FROM credimport.batch_error
 WHERE batch_id = credimport_last_batch_id() ORDER BY line_no NULLS LAST, field, code;
CREATE TEMP TABLE limits_stage (email text, provider text, course_title text, course_id text,
                                completion_date text, number_credits text, credit_type text);
INSERT INTO limits_stage VALUES ('x', '', '', 'C', '2024-01-01', '1', 'CME'),
                                ('y', '', '', 'C', '2024-01-01', '1', 'CME');
SELECT line_no, field, code, message, value FROM credimport_validate('limits_stage'::regclass, 'email');
DROP TABLE limits_stage;
SET credimport.max_stored_problems = 1;
SELECT line_no, status, errors FROM credimport_load_users_data(E'email,first_name,last_name,parent\nx,,,@;@\ny,,,@\n',
                                                               validate_only => true);
RESET credimport.max_stored_problems;

-- ---------------------------------------------------------------------------
-- the limits that protect the server are the administrator's: the role that
-- sends the content cannot raise them
-- ---------------------------------------------------------------------------
SHOW credimport.max_rows;
SELECT name, context FROM pg_settings WHERE name LIKE 'credimport.%' ORDER BY name;
CREATE ROLE credimport_limits_sender;
SET ROLE credimport_limits_sender;
SET credimport.max_rows = 0;
SET credimport.max_record_bytes = '64MB';
SET credimport.max_sheet_bytes = '512MB';
SET credimport.max_stored_problems = 100000000;
SET credimport.date_format = 'MM/DD/YYYY';    -- not a limit: anyone may
RESET credimport.date_format;
SHOW credimport.max_rows;
RESET ROLE;
DROP ROLE credimport_limits_sender;

-- ---------------------------------------------------------------------------
-- columns: at most 16,384 (a header of 100,000 distinct names took 26 s,
-- uncancellable); repeats found in linear time
-- ---------------------------------------------------------------------------
SET statement_timeout = '5s';
SET credimport.max_record_bytes = '4MB';   -- (only an administrator may)
SELECT * FROM limits_error($$
    SELECT * FROM credimport_load_data(
        (SELECT string_agg('c' || i, ',') FROM generate_series(1, 100000) i) || E'\nx\n',
        'email', validate_only => true) $$);
RESET credimport.max_record_bytes;
SELECT * FROM limits_error($$
    SELECT * FROM credimport_load_data(
        (SELECT string_agg('col' || i, ',') FROM generate_series(1, 16385) i) || E'\nx\n',
        'email', validate_only => true) $$);
SELECT * FROM limits_error($$
    SELECT * FROM credimport_load_data(
        (SELECT string_agg('col' || i, ',') FROM generate_series(1, 16383) i) || E',col77\nx\n',
        'email', validate_only => true) $$);

-- ---------------------------------------------------------------------------
-- users: associations are settled with a worklist (80,000 records whose
-- parents chain to the next record and end in an unknown one took 29 s)
-- ---------------------------------------------------------------------------
SELECT status, count(*) FROM credimport_load_users_data('email,first_name,last_name,parent' || E'\n' ||
    (SELECT string_agg(format('chain%s@example.org,A,B,%s', i,
                              CASE WHEN i < 80000 THEN format('chain%s@example.org', i + 1)
                                   ELSE 'nobody.at.all@example.org' END), E'\n')
       FROM generate_series(1, 80000) i), validate_only => true)
 GROUP BY status;
SELECT errors FROM credimport_load_users_data('email,first_name,last_name,parent' || E'\n' ||
    (SELECT string_agg(format('chain%s@example.org,A,B,%s', i,
                              CASE WHEN i < 3 THEN format('chain%s@example.org', i + 1)
                                   ELSE 'nobody.at.all@example.org' END), E'\n')
       FROM generate_series(1, 3) i), validate_only => true);
-- a cascade that alternates: a username-only student without a parent
-- falls, then the instructor naming it, then the parent naming that
-- instructor, then that parent's username-only student, ...
SELECT status, count(*) FROM credimport_load_users_data('email,username,first_name,last_name,role,student' || E'\n' ||
    E',kid0,A,B,student,\n' ||
    (SELECT string_agg(format('ins%s@example.org,,A,B,instructor,kid%s', i, i - 1) || E'\n' ||
                       format('par%s@example.org,,A,B,parent,kid%s;ins%s@example.org', i, i, i) || E'\n' ||
                       format(',kid%s,A,B,student,', i), E'\n')
       FROM generate_series(1, 20000) i), validate_only => true)
 GROUP BY status;
SELECT line_no, errors FROM credimport_load_users_data('email,username,first_name,last_name,role,student' || E'\n' ||
    E',kid0,A,B,student,\n' ||
    (SELECT string_agg(format('ins%s@example.org,,A,B,instructor,kid%s', i, i - 1) || E'\n' ||
                       format('par%s@example.org,,A,B,parent,kid%s;ins%s@example.org', i, i, i) || E'\n' ||
                       format(',kid%s,A,B,student,', i), E'\n')
       FROM generate_series(1, 2) i) || E'\n,kid9,A,B,student,\nparent9@example.org,,A,B,parent,kid9\n',
    validate_only => true);
RESET statement_timeout;

-- ---------------------------------------------------------------------------
-- nothing to import is 22P04 at every door: an empty staging table as an
-- empty file or a header without records
-- ---------------------------------------------------------------------------
CREATE TABLE limits_empty_credits (email text, provider text, course_title text, course_id text,
                                   completion_date text, number_credits text, credit_type text);
CREATE TABLE limits_empty_users (email text, first_name text, last_name text);
CREATE TABLE limits_empty_creds (email text, credential_type text, license_number text, issue_date text);
SELECT count(*) AS batches_before FROM credimport.batch \gset
SELECT * FROM limits_error($$ SELECT * FROM credimport_load('limits_empty_credits'::regclass, 'email') $$);
SELECT * FROM limits_error($$ SELECT * FROM credimport_load_users('limits_empty_users'::regclass) $$);
SELECT * FROM limits_error($$ SELECT * FROM credimport_load_credentials('limits_empty_creds'::regclass, 'email') $$);
SELECT * FROM limits_error($$ SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n', 'email') $$);
SELECT * FROM limits_error($$ SELECT * FROM credimport_load_data('', 'email') $$);
SELECT * FROM limits_error($$ CALL credimport_import('limits_empty_credits', 'email') $$);
SELECT count(*) - :batches_before AS batches_recorded FROM credimport.batch;
DROP TABLE limits_empty_credits, limits_empty_users, limits_empty_creds;

-- ---------------------------------------------------------------------------
-- dates: the locale formats take 3/14/2024 (one- or two-digit month and day)
-- ---------------------------------------------------------------------------
SET credimport.date_format = 'MM/DD/YYYY';
SELECT line_no, status, errors FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'ada@example.org,P,T,LIM-1,3/14/2024,1,CME\n'
    'ada@example.org,P,T,LIM-2,12/5/2024,1,CME\n'
    'ada@example.org,P,T,LIM-3,2024-3-5,1,CME\n'
    'ada@example.org,P,T,LIM-4,2/30/2024,1,CME\n', 'email', validate_only => true);
RESET credimport.date_format;

-- ---------------------------------------------------------------------------
-- a load needs no privilege on the identity sequences, as an INSERT into an
-- identity column needs none
-- ---------------------------------------------------------------------------
CREATE ROLE credimport_limits_loader;
GRANT USAGE ON SCHEMA credimport TO credimport_limits_loader;
GRANT SELECT ON ALL TABLES IN SCHEMA credimport TO credimport_limits_loader;
GRANT INSERT ON credimport.credit, credimport.learner, credimport.batch, credimport.batch_error,
    credimport.batch_record TO credimport_limits_loader;
GRANT UPDATE ON credimport.batch TO credimport_limits_loader;
GRANT EXECUTE ON FUNCTION credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer),
    credimport_load_users_data(text, boolean, boolean, integer, text, text, jsonb, text, integer) TO credimport_limits_loader;
BEGIN;
SET LOCAL ROLE credimport_limits_loader;
SELECT has_sequence_privilege('credimport.credit_id_seq', 'USAGE') AS seq_usage;
SELECT line_no, status, credit_id IS NOT NULL AS has_credit FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'ada@example.org,P,T,LIM-SEQ,2024-03-14,1,CME\n', 'email');
SELECT line_no, status, learner_id IS NOT NULL AS has_learner FROM credimport_load_users_data(
    E'email,first_name,last_name\nseq.less@example.org,Seq,Less\n');
ROLLBACK;
REVOKE ALL ON ALL TABLES IN SCHEMA credimport FROM credimport_limits_loader;
REVOKE ALL ON SCHEMA credimport FROM credimport_limits_loader;
REVOKE ALL ON FUNCTION credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer),
    credimport_load_users_data(text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM credimport_limits_loader;
DROP ROLE credimport_limits_loader;

-- leave the database as the later tests expect it
RESET client_min_messages;
DELETE FROM credimport.batch WHERE id > :batch_seq;
SELECT count(*) = :learners_before AS no_learner_left FROM credimport.learner;
SELECT setval('credimport.batch_id_seq', :batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :learner_seq) > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :credit_seq) > 0 AS credit_seq_restored;
DROP FUNCTION limits_error(text);
