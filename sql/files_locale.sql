--
-- files_locale: decimal commas, YYYY/MM/DD, and problems that name the
-- setting that would read a value (issue 15)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS learner_seq FROM credimport.learner_id_seq \gset
SELECT last_value AS credit_seq FROM credimport.credit_id_seq \gset

-- a German export with the default settings: every problem says what to SET
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'german_utf8.csv', 'email', validate_only => true);
SHOW credimport.decimal_separator;
SET credimport.decimal_separator = ';';      -- only '.' or ','

-- with the decimal comma and DD.MM.YYYY: 1,5 is 1.5; 1.234,5 stays a problem
SET credimport.decimal_separator = ',';
SET credimport.date_format = 'DD.MM.YYYY';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'german_utf8.csv', 'email', validate_only => true);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'german_utf8.csv', 'email', max_errors => 1);
SELECT course_id, number_credits, completion_date FROM credimport.credit WHERE course_id LIKE 'DE-%' ORDER BY course_id;
ROLLBACK;
-- with the comma, a point is not read as a decimal point either
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,LOC-1,2024-03-14,1.5,CME\n', 'email', validate_only => true);
RESET credimport.decimal_separator;
RESET credimport.date_format;

-- Gnumeric's YYYY/MM/DD, whatever credimport.date_format says
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'slash_dates.csv', 'email', validate_only => true);
SET credimport.date_format = 'MM/DD/YYYY';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'slash_dates.csv', 'email', validate_only => true);
-- a date both day-first and month-first formats read: both are named
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,LOC-1,14.03.2024,1,CME\n'
  'ada@example.org,P,T,LOC-2,03/04/2024,1,CME\n', 'email', validate_only => true);
RESET credimport.date_format;
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  'ada@example.org,P,T,LOC-2,03/04/2024,1,CME\n', 'email', validate_only => true);

-- credentials' dates name the setting too
SELECT line_no, status, errors FROM credimport_load_credentials_data(
  E'email,credential_type,license_number,issue_date\nada@example.org,RN,L-1,14.03.2024\n',
  'email', validate_only => true);

-- credimport_check_value agrees with the loaders
SELECT v, credimport_check_value('credits', v) AS point FROM (VALUES ('1,5'), ('1.5'), ('1.234,5'), (E'1.5\u00a0')) t(v);
SET credimport.decimal_separator = ',';
SELECT v, credimport_check_value('credits', v) AS comma FROM (VALUES ('1,5'), ('1.5'), ('1.234,5'), ('0,25'), ('1,257')) t(v);
RESET credimport.decimal_separator;
SELECT v, credimport_check_value('date', v) FROM (VALUES ('2024/03/14'), ('2024/3/5'), ('2024/02/30'), (E'\u200b2024-03-14\u200b')) t(v);

-- leave the database as the later tests expect it
DELETE FROM credimport.batch WHERE id > :batch_seq;
SELECT setval('credimport.batch_id_seq', :batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :learner_seq) > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :credit_seq) > 0 AS credit_seq_restored;
