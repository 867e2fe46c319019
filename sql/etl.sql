--
-- etl: staging tables, content, validation, the pipeline procedure, the
-- template, the error report, revert, if_exists and re-import warnings
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set etl :fx 'etl.csv'
\set etl_bad :fx 'etl_bad.csv'

-- templates: the header a file for each mode must have
SELECT mode, credimport_template(mode) FROM unnest(ARRAY['email', 'remote_id', 'user_id', 'full']) mode;
INSERT INTO credimport.profile_field VALUES ('department', true);
SELECT credimport_template('full');
DELETE FROM credimport.profile_field WHERE name = 'department';
SELECT credimport_template('nonsense');

-- a staging table filled with \copy, as an ETL tool would
CREATE TABLE etl_staging (email text, provider text, course_title text, course_id text,
                          completion_date text, number_credits text, credit_type text);
\set copy_cmd '\\copy etl_staging FROM ' :'etl' ' WITH (FORMAT csv, HEADER)'
:copy_cmd
SELECT * FROM credimport_validate('etl_staging'::regclass, 'email');   -- clean: no rows
SELECT line_no, status, learner_id IS NOT NULL AS matched FROM credimport_load('etl_staging'::regclass, 'email');
SELECT source, sha256, status, records, imported, header FROM credimport.batch ORDER BY id DESC LIMIT 1;
-- a plain name is a path: the hint says how to name a table
SELECT * FROM credimport_load('etl_staging', 'email');

-- typed columns (date, numeric) and a line_no column; column names like
-- file headers, in any order
CREATE TABLE etl_typed ("Line No" integer, "Credit Type" text, "Number Credits" numeric,
                        "Completion Date" date, "Course ID" text, "Course Title" text,
                        provider text, "E-mail" text, email text);
INSERT INTO etl_typed VALUES
    (10, 'CME', 3.5, '2024-08-04', 'ETL-T1', 'Typed', 'Typed Provider', 'x', 'ada@example.org'),
    (20, 'CE', 0.25, '2024-08-05', 'ETL-T1', 'Typed', 'Typed Provider', 'x', 'grace@example.org'),
    (30, 'CE', 1.257, '2024-08-05', 'ETL-T2', 'Typed', 'Typed Provider', 'x', 'grace@example.org');
SET datestyle = 'Postgres, DMY';   -- the caller's DateStyle does not matter
SELECT * FROM credimport_validate('etl_typed'::regclass, 'email');
SELECT line_no, status, errors FROM credimport_load('etl_typed'::regclass, 'email', max_errors => 1);
RESET datestyle;
SELECT course_id, completion_date, number_credits FROM credimport.credit WHERE course_id LIKE 'ETL-T%' ORDER BY id;

-- content sent by the client (no file privilege needed)
SELECT line_no, status, errors FROM credimport_load_data(
    E'email\tprovider\tcourse_title\tcourse_id\tcompletion_date\tnumber_credits\tcredit_type\n'
    'linus@example.org\tContent\tSent as text\tETL-C1\t2024-08-06\t1\tCME\n', 'email');
SELECT source, sha256 IS NOT NULL AS has_sha256 FROM credimport.batch ORDER BY id DESC LIMIT 1;

-- credimport_validate on a file: the problems, one row each; nothing written
SELECT max(id) AS last_batch FROM credimport.batch \gset
SELECT * FROM credimport_validate(:'etl_bad', 'email');
SELECT count(*) AS batches_written FROM credimport.batch WHERE id > :last_batch;

-- the error report: the invalid records as they were, with their problems,
-- ready to fix and upload again
SELECT count(*) FROM credimport_load(:'etl_bad', 'email', max_errors => 3);
SELECT credimport_last_batch_id() AS bad_batch \gset
SELECT credimport_error_report(:bad_batch);
-- it parses back as CSV with the same records, and they fail the same way
SELECT line_no, status, errors FROM credimport_load_data(credimport_error_report(:bad_batch), 'email', validate_only => true);
SELECT credimport_error_report(-1);

-- if_exists => 'skip': re-sending yesterday's rows is not an error, while
-- a changed credit still is (the importer never updates a credit)
SELECT line_no, status, errors FROM credimport_load(:'etl', 'email', if_exists => 'skip');
UPDATE etl_staging SET number_credits = '2.5' WHERE email = 'grace@example.org';
SELECT line_no, status, errors FROM credimport_load('etl_staging'::regclass, 'email', if_exists => 'skip');
SELECT line_no, status, errors FROM credimport_load('etl_staging'::regclass, 'email', if_exists => 'skip', max_errors => 1);
SELECT status, records, imported, invalid, skipped FROM credimport.batch ORDER BY id DESC LIMIT 1;
SELECT * FROM credimport_load(:'etl', 'email', if_exists => 'update');

-- the pipeline procedure: a step that fails visibly when the batch is rejected
CALL credimport_import(:'etl_bad', 'email');
CALL credimport_import('etl_typed', 'email');
CALL credimport_import('no_such_table', 'email');
CREATE TABLE etl_step (email text, provider text, course_title text, course_id text,
                       completion_date date, number_credits numeric, credit_type text);
INSERT INTO etl_step VALUES ('linus@example.org', 'Step', 'Procedure', 'ETL-P1', '2024-08-07', 4, 'CME');
CALL credimport_import('public.etl_step', 'email', true);

-- revert: undo a batch; a learner created by it stays if a later batch used it
SELECT line_no, status FROM credimport_load_data(
    E'email,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'reverted.one@example.org,Rev,One,Rev,Revert me,REV-1,2024-08-08,1,CME\n'
    'reverted.two@example.org,Rev,Two,Rev,Revert me,REV-1,2024-08-08,1,CME\n', 'full');
SELECT credimport_last_batch_id() AS first_batch \gset
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'reverted.two@example.org,Rev,Keep me,REV-2,2024-08-09,1,CME\n', 'email');
SELECT * FROM credimport_revert(:first_batch);
SELECT email FROM credimport.learner WHERE email LIKE 'reverted.%' ORDER BY email;
SELECT c.course_id FROM credimport.credit c WHERE c.course_id LIKE 'REV-%';
SELECT status FROM credimport.batch WHERE id = :first_batch;
SELECT * FROM credimport_revert(:first_batch);
SELECT * FROM credimport_revert((SELECT max(id) FROM credimport.batch WHERE status = 'rejected'));
SELECT * FROM credimport_revert(-1);

-- a role with only SELECT on a staging table can load it; a file path is refused
CREATE ROLE etl_role;
GRANT USAGE ON SCHEMA credimport TO etl_role;
GRANT SELECT ON ALL TABLES IN SCHEMA credimport TO etl_role;
GRANT INSERT ON credimport.credit, credimport.learner, credimport.batch, credimport.batch_error,
    credimport.batch_record TO etl_role;
GRANT UPDATE ON credimport.batch TO etl_role;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA credimport TO etl_role;
GRANT EXECUTE ON FUNCTION credimport_load(regclass, text, boolean, boolean, integer, text, jsonb),
    credimport_load(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer) TO etl_role;
CREATE TABLE etl_role_staging (email text, provider text, course_title text, course_id text,
                               completion_date text, number_credits text, credit_type text);
INSERT INTO etl_role_staging VALUES ('ada@example.org', 'Role', 'Only SELECT', 'ETL-R1', '2024-08-10', '1', 'CME');
SET ROLE etl_role;
SELECT line_no, status FROM credimport_load('etl_role_staging'::regclass, 'email');   -- no SELECT yet
RESET ROLE;
GRANT SELECT ON etl_role_staging TO etl_role;
SET ROLE etl_role;
SELECT line_no, status FROM credimport_load('etl_role_staging'::regclass, 'email');
SELECT * FROM credimport_load(:'etl', 'email');
RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA credimport FROM etl_role;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA credimport FROM etl_role;
REVOKE ALL ON SCHEMA credimport FROM etl_role;
REVOKE ALL ON FUNCTION credimport_load(regclass, text, boolean, boolean, integer, text, jsonb),
    credimport_load(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer) FROM etl_role;
DROP TABLE etl_role_staging;
DROP ROLE etl_role;
DROP TABLE etl_staging, etl_typed, etl_step;
