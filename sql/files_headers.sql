--
-- files_headers: headers as people write them (aliases, Unicode spaces,
-- trailing punctuation) and title rows above the header (issue 15)
--
-- (the sequences are restored at the end, so that later tests see the
-- numbers they expect)
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS learner_seq FROM credimport.learner_id_seq \gset
SELECT last_value AS credit_seq FROM credimport.credit_id_seq \gset
SELECT count(*) AS learners_before FROM credimport.learner \gset

-- the shipped aliases
SELECT alias, field, kind FROM credimport.header_alias WHERE shipped ORDER BY field, alias;

-- E-mail Address, Provider:, Course<NBSP>Title, Course Code, Date Completed,
-- Credits Earned<NBSP>; values with NBSP, narrow NBSP and zero-width spaces
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'nbsp_headers.csv', 'email', validate_only => true);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'nbsp_headers.csv', 'email', max_errors => 1);
SELECT c.course_id, c.course_title, c.number_credits, c.completion_date, l.email
  FROM credimport.credit c JOIN credimport.learner l ON l.id = c.learner_id
 WHERE c.course_id LIKE 'ALIAS-%' ORDER BY c.course_id;
-- the batch keeps the headers as written
SELECT header FROM credimport.batch WHERE id = credimport_last_batch_id();
ROLLBACK;

-- a header that is itself the field wins over an alias of it (e_mail is ignored)
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,E-mail,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,other@example.org,P,T,HDR-1,2024-03-14,1,CME\n', 'email', validate_only => true);
-- two aliases of one field: an error naming both headers
SELECT line_no, status FROM credimport_load_data(
  E'E-mail,Mail,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,ada@example.org,P,T,HDR-1,2024-03-14,1,CME\n', 'email', validate_only => true);
-- hours is number_credits for credits ...
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,provider,course_title,course_id,completion_date,hours,credit_type\n'
  'ada@example.org,P,T,HDR-1,2024-03-14,1,CME\n', 'email', validate_only => true);
-- ... but an alias applies only where the kind has the field: a users file
-- has no number_credits, and first_name is no field of the email match mode
SELECT line_no, status, errors FROM credimport_load_users_data(
  E'email,first_name,last_name,hours\nada@example.org,Ada,Lovelace,3\n', validate_only => true);
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,Firstname,provider,course_title,course_id,completion_date,hours,credit_type\n'
  'ada@example.org,Ada,P,T,HDR-1,2024-03-14,1,CME\n', 'email', validate_only => true);

-- the administrator's aliases: per kind, turning a shipped one off
INSERT INTO credimport.header_alias (alias, field, kind) VALUES
  ('Anbieter', 'provider', 'credits'),
  ('Kurs', 'course_title', 'users');             -- not for credits
UPDATE credimport.header_alias SET field = NULL WHERE alias = 'hours' AND kind IS NULL;
SELECT alias, field, kind, shipped FROM credimport.header_alias WHERE NOT shipped OR field IS NULL ORDER BY alias;
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,Anbieter,Kurs,course_title,course_id,completion_date,hours,number_credits,credit_type\n'
  'ada@example.org,P,K,T,HDR-1,2024-03-14,9,1,CME\n', 'email', validate_only => true);
-- inserting a shipped alias again changes it (and makes it the administrator's)
INSERT INTO credimport.header_alias (alias, field) VALUES ('credits', 'number_credits');
SELECT alias, field, kind, shipped FROM credimport.header_alias WHERE alias = 'credits';
-- an alias is normalised as headers are
INSERT INTO credimport.header_alias (alias, field) VALUES ('Kurs-Nr.', 'course_id');
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,provider,course_title,KURS NR,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,HDR-2,2024-03-14,1,CME\n', 'email', validate_only => true);
-- a shipped row is never put back over the administrator's (as on restore)
INSERT INTO credimport.header_alias (alias, field, shipped) VALUES ('hours', 'number_credits', true);
SELECT alias, field, shipped FROM credimport.header_alias WHERE alias = 'hours';
DELETE FROM credimport.header_alias WHERE NOT shipped AND alias NOT IN ('hours', 'credits');
UPDATE credimport.header_alias SET field = 'number_credits', shipped = true WHERE alias IN ('hours', 'credits');
-- what pg_dump dumps of the table: only the administrator's rows
SELECT extconfig::regclass[] @> ARRAY['credimport.header_alias'::regclass] AS dumped,
       extcondition[array_position(extconfig, 'credimport.header_alias'::regclass)] AS dump_filter
  FROM pg_extension WHERE extname = 'credimport';

-- users: Firstname and Surname are first_name and last_name, not ignored
BEGIN;
SELECT line_no, status, errors FROM credimport_load_users(:'fx' || 'users_aliases.csv');
SELECT email, first_name, last_name, role FROM credimport.learner WHERE email = 'alias.user@example.org';
ROLLBACK;

-- a title row (merged across the columns), a note and a blank row above the
-- header: skipped and named; line numbers stay the file's own
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'title_rows.csv', 'email', validate_only => true);
SELECT line_no, field, code FROM credimport_validate(:'fx' || 'title_rows.csv', 'email');
-- the error report of such a batch has the header and the invalid record
SELECT line_no, status FROM credimport_load(:'fx' || 'title_rows.csv', 'email', validate_only => true);
SELECT credimport_error_report(credimport_last_batch_id());
-- the same from content
SELECT line_no, status, errors FROM credimport_load_data(
  E'Credits 2024\n\nemail,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,TITLE-9,2024-03-14,1,CME\n', 'email', validate_only => true);
-- no row within the first 20 names the columns: the first row's error
SELECT line_no, status FROM credimport_load_data(
  repeat(E'note\n', 20) || E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,TITLE-9,2024-03-14,1,CME\n', 'email', validate_only => true);
-- ... but 19 rows above it are fine
SELECT line_no, status FROM credimport_load_data(
  repeat(E'note\n', 19) || E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,TITLE-9,2024-03-14,1,CME\n', 'email', validate_only => true);
-- a staging table's header is its columns, never a data row
CREATE TEMP TABLE files_stage (note text);
INSERT INTO files_stage VALUES ('email');
SELECT line_no, status FROM credimport_load('files_stage'::regclass, 'email', validate_only => true);

-- a row of nothing but Unicode spaces is blank, like ",,,,"
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  || E'\u00a0,\u200b,\u202f,,,,\n'
  || E'ada@example.org,P,T,BLANK-1,2024-03-14,1,CME\n', 'email', validate_only => true);

-- leave the database as the later tests expect it
DELETE FROM credimport.batch WHERE id > :batch_seq;
SELECT count(*) = :learners_before AS no_learner_left FROM credimport.learner;
SELECT setval('credimport.batch_id_seq', :batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :learner_seq) > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :credit_seq) > 0 AS credit_seq_restored;
