--
-- files_columns: the per-call arguments of files as people export them --
-- columns, encoding, header_row -- on every loader and validator, and the
-- README's worked example of a German Excel export (issue 15)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set SHOW_CONTEXT never
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS learner_seq FROM credimport.learner_id_seq \gset
SELECT last_value AS credit_seq FROM credimport.credit_id_seq \gset
SELECT count(*) AS learners_before FROM credimport.learner \gset

-- ---------------------------------------------------------------------------
-- README: "Files from other systems" -- a German Excel export
-- (Windows-1252, semicolons, decimal commas, DD.MM.YYYY, German headers)
-- ---------------------------------------------------------------------------
BEGIN;
SET LOCAL credimport.decimal_separator = ',';
SET LOCAL credimport.date_format = 'DD.MM.YYYY';
SELECT line_no, status, errors
  FROM credimport_load(:'fx' || 'german_excel.csv', 'email',
         encoding => 'WIN1252',
         columns  => '{"Anbieter": "provider", "Kurstitel": "course_title",
                       "Kursnummer": "course_id", "Abschlussdatum": "completion_date",
                       "Punkte": "number_credits", "Art": "credit_type"}');
SELECT course_id, course_title, provider, completion_date, number_credits
  FROM credimport.credit WHERE course_id LIKE 'ÄK-%' ORDER BY course_id;
-- the batch keeps the file's own headers, for the error report
SELECT header FROM credimport.batch WHERE id = credimport_last_batch_id();
ROLLBACK;
-- without the encoding: one error, and the hint says what to give
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email')$q$, :'fx' || 'german_excel.csv'));

-- ---------------------------------------------------------------------------
-- columns
-- ---------------------------------------------------------------------------
\set odd '''Mail,Org,Kurs,Code,Datum,Punkte,Art\nada@example.org,P,T,COL-1,2024-03-14,1,CME\n'''
\set oddmap '''{"Mail": "email", "Org": "provider", "Kurs": "course_title", "Code": "course_id", "Datum": "completion_date", "Punkte": "number_credits", "Art": "credit_type"}'''
SELECT line_no, status, errors FROM credimport_load_data(E:odd, 'email', validate_only => true, columns => :oddmap);
-- headers are matched as credimport normalises them
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true,
  columns => '{"MAIL": "email", "org:": "provider", " Kurs ": "course_title", "code": "course_id",
               "datum": "completion_date", "punkte": "number_credits", "art": "credit_type"}');
-- a mapped header the file lacks
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true,
  columns => '{"Courriel": "email"}');
\echo :LAST_ERROR_SQLSTATE
-- a field mapped twice (as written, or once normalised)
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true,
  columns => '{"Mail": "email", "E-mail Address": "email"}');
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true,
  columns => '{"Mail": "email", "Org": "Email"}');
\echo :LAST_ERROR_SQLSTATE
-- a field the kind does not have (first_name is no field of match mode email)
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true,
  columns => '{"Mail": "e_mail"}');
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true,
  columns => '{"Kurs": "first_name"}');
\echo :LAST_ERROR_SQLSTATE
-- not an object of strings; a header mapped twice once normalised
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true, columns => '["Mail"]');
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true, columns => '{"Mail": 1}');
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load_data(E:odd, 'email', validate_only => true,
  columns => '{"Mail": "email", "mail ": "email"}');
\echo :LAST_ERROR_SQLSTATE
-- an explicit mapping wins over a header named like its field (and an alias)
SELECT line_no, status, errors FROM credimport_load_data(
  E'email,E-mail,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
  ',ada@example.org,P,T,COL-2,2024-03-14,1,CME\n', 'email', validate_only => true,
  columns => '{"E-mail": "email"}');
-- mapping, aliases and a title row above the header together
SELECT line_no, status, errors FROM credimport_load_data(
  E'Export;;;;;;\nMail;Provider:;Course Title;Course Code;Datum;Credits;Credit Type\n'
  'ada@example.org;P;T;COL-3;2024-03-14;1;CME\n', 'email', validate_only => true,
  columns => '{"Mail": "email", "Datum": "completion_date"}');
-- a staging table's columns
CREATE TEMP TABLE files_cols_stage ("Mail" text, "Org" text, "Kurs" text, "Code" text,
                                    "Datum" date, "Punkte" numeric, "Art" text);
INSERT INTO files_cols_stage VALUES ('ada@example.org', 'P', 'T', 'COL-4', '2024-03-14', 1, 'CME');
SELECT line_no, status, errors FROM credimport_load('files_cols_stage'::regclass, 'email',
  validate_only => true, columns => :oddmap);
-- users and credentials
SELECT line_no, status, errors FROM credimport_load_users_data(
  E'Courriel,Prénom,Nom\nnouveau@example.org,Zoé,Martin\n', validate_only => true,
  columns => '{"Courriel": "email", "Prénom": "first_name", "Nom": "last_name"}');
SELECT line_no, status, errors FROM credimport_load_credentials_data(
  E'Mail,Typ,Nummer,Ausgestellt,Gültig bis\nada@example.org,RN,L-77,2024-01-01,2030-01-01\n', 'email',
  validate_only => true,
  columns => '{"Mail": "email", "Typ": "credential_type", "Nummer": "license_number",
               "Ausgestellt": "issue_date", "Gültig bis": "expiration_date"}');
SELECT line_no, status FROM credimport_load_users_data(E'Courriel\nx@example.org\n', validate_only => true,
  columns => '{"Courriel": "number_credits"}');
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------------------
-- header_row
-- ---------------------------------------------------------------------------
\set titled '''Credits earned,,,,,,\nemail,provider,course_title,course_id,completion_date,number_credits,credit_type\nada@example.org,P,T,HR-1,2024-03-14,1,CME\n'''
SELECT line_no, status FROM credimport_load_data(E:titled, 'email', validate_only => true, header_row => 2);
-- the row given is the header, whatever it names
SELECT line_no, status FROM credimport_load_data(E:titled, 'email', validate_only => true, header_row => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load_data(E:titled, 'email', validate_only => true, header_row => 9);
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load_data(E:titled, 'email', validate_only => true, header_row => 0);
\echo :LAST_ERROR_SQLSTATE
-- a blank line is no header
SELECT line_no, status FROM credimport_load_data(E'\n' || E:titled, 'email', validate_only => true, header_row => 1);
\echo :LAST_ERROR_SQLSTATE
-- a header further down than the search goes
SELECT line_no, status FROM credimport_load_data(repeat(E'note\n', 30) || E:titled, 'email',
  validate_only => true, header_row => 32);

-- ---------------------------------------------------------------------------
-- encoding
-- ---------------------------------------------------------------------------
SET credimport.date_format = 'DD/MM/YYYY';
SET credimport.decimal_separator = ',';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'french_win1252.csv', 'email',
  validate_only => true, encoding => 'WIN1252');
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'french_win1252.csv', 'email', encoding => 'win1252');
SELECT course_id, course_title, provider, number_credits FROM credimport.credit WHERE course_id LIKE 'FR-%' ORDER BY 1;
ROLLBACK;
-- the bytes as bytea content
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'french_win1252.csv'), 'email',
  validate_only => true, format => 'csv', encoding => 'WIN1252');
RESET credimport.date_format;
RESET credimport.decimal_separator;
-- LATIN1 reads encoding.csv (with its NUL byte still its field's problem)
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'encoding.csv', 'email',
  validate_only => true, encoding => 'LATIN1');
-- bytes that are not of the encoding given: the line and the byte
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email',
  validate_only => true, encoding => 'EUC_JP')$q$, :'fx' || 'french_win1252.csv'));
-- a multi-byte encoding across the 64 kB blocks it is converted in: 3000
-- records of Shift-JIS
SELECT count(*) AS records, count(*) FILTER (WHERE status = 'valid') AS valid,
       min(line_no) AS first_line, max(line_no) AS last_line
  FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n' ||
               (SELECT string_agg(format('ada@example.org,日本医師会,医療倫理の講習 第%s回,JP-%s,2024-03-14,1,CME', i, i), E'\n')
                  FROM generate_series(1, 3000) i) || E'\n', 'SJIS'),
    'email', validate_only => true, format => 'csv', encoding => 'SJIS');
-- UTF8 is the default; unknown encodings, the wrong doors
SELECT line_no, status FROM credimport_load_data(E:titled, 'email', validate_only => true, encoding => 'UTF8');
SELECT line_no, status FROM credimport_load(:'fx' || 'french_win1252.csv', 'email', encoding => 'CP-1252-ish');
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load_data(E:titled, 'email', encoding => 'WIN1252');
\echo :LAST_ERROR_SQLSTATE
SELECT line_no, status FROM credimport_load(:'fx' || 'credits.xlsx', 'email', validate_only => true, encoding => 'WIN1252');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', validate_only => true, encoding => 'WIN1252')$q$, :'fx' || 'utf16le.txt'));

-- ---------------------------------------------------------------------------
-- credimport_validate: the loaders' arguments, and content forms
-- ---------------------------------------------------------------------------
SELECT * FROM credimport_validate(:'fx' || 'german_excel.csv', 'email', encoding => 'WIN1252',
  columns => '{"Anbieter": "provider", "Kurstitel": "course_title", "Kursnummer": "course_id",
               "Abschlussdatum": "completion_date", "Punkte": "number_credits", "Art": "credit_type"}');
SELECT * FROM credimport_validate_data(E:titled, 'email');
SELECT * FROM credimport_validate_data(E:odd, 'email', columns => :oddmap);
SELECT * FROM credimport_validate_data(pg_read_binary_file(:'fx' || 'credits.xlsx'), 'email');
SELECT * FROM credimport_validate_data(pg_read_binary_file(:'fx' || 'french_win1252.csv'), 'email',
  format => 'csv', encoding => 'WIN1252');
SELECT * FROM credimport_validate('files_cols_stage'::regclass, 'email', columns => :oddmap);
-- allow_edit and if_exists as the loaders take them
SELECT * FROM credimport_validate(:'fx' || 'sample.csv', 'email', if_exists => 'sometimes');
\echo :LAST_ERROR_SQLSTATE

-- leave the database as the later tests expect it
DELETE FROM credimport.batch WHERE id > :batch_seq;
SELECT count(*) = :learners_before AS no_learner_left FROM credimport.learner;
SELECT setval('credimport.batch_id_seq', :batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :learner_seq) > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :credit_seq) > 0 AS credit_seq_restored;
