--
-- real_files: workbooks and CSV exports written by real programs --
-- XlsxWriter, openpyxl, LibreOffice, Gnumeric (issues 13 and 15); the
-- fixtures and what each holds: test/fixtures/make_real.sh
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set SHOW_CONTEXT never
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS learner_seq FROM credimport.learner_id_seq \gset
SELECT last_value AS credit_seq FROM credimport.credit_id_seq \gset
CREATE TEMP VIEW real_read AS
SELECT c.course_id, l.email, c.provider, c.course_title,
       to_char(c.completion_date, 'YYYY-MM-DD') AS completion_date, c.number_credits, t.code
  FROM credimport.credit c JOIN credimport.learner l ON l.id = c.learner_id
  JOIN credimport.credit_type t ON t.id = c.credit_type_id
 WHERE c.batch_id = credimport_last_batch_id() ORDER BY c.course_id;

-- ---------------------------------------------------------------------------
-- XlsxWriter: fullCalcOnLoad="1", every formula cached as 0
-- ---------------------------------------------------------------------------
-- a date serial (row 2) and a date-time (row 3, 2024-03-15 13:45) are
-- dates; 7 formatted 000 is 007 (row 4); a string formula (C5) and =H6>=70
-- (I6) are problems naming the cell, never their cached 0; boolean FALSE is
-- not a completed course (row 7)
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'real_xlsxwriter.xlsx', 'email',
                                                    validate_only => true, max_errors => 10);
SELECT * FROM credimport_validate(:'fx' || 'real_xlsxwriter.xlsx', 'email');
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'real_xlsxwriter.xlsx', 'email', max_errors => 10);
SELECT * FROM real_read;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- openpyxl: a hidden first sheet "Lookup" is skipped; date and date-time cells
-- ---------------------------------------------------------------------------
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'real_openpyxl.xlsx', 'email', validate_only => true);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'real_openpyxl.xlsx', 'email');
SELECT * FROM real_read;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- LibreOffice (recalculated on load, results saved): .xlsx, .xls, and
-- "CSV (semicolon), Windows-1252"; each must read the same: =H2>=70 TRUE
-- (LO-1), FALSE (LO-2: not completed), =1+1 is 2 (LO-3), =TRUE() (LO-4),
-- a boolean FALSE, in .xls a =FALSE() formula (LO-5: not completed)
-- ---------------------------------------------------------------------------
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'real_lo.xlsx', 'email',
                                                    validate_only => true, max_errors => 10);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'real_lo.xlsx', 'email', max_errors => 10);
SELECT * FROM real_read;
ROLLBACK;
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'real_lo.xls', 'email',
                                                    validate_only => true, max_errors => 10);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'real_lo.xls', 'email', max_errors => 10);
SELECT * FROM real_read;
ROLLBACK;
-- the CSV export: without an encoding, one whole-file error with a hint
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', validate_only => true)$q$,
                                  :'fx' || 'real_lo_1252.csv'));
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'real_lo_1252.csv', 'email', encoding => 'WIN1252',
                                                    validate_only => true, max_errors => 10);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'real_lo_1252.csv', 'email', encoding => 'WIN1252',
                                            max_errors => 10);
SELECT * FROM real_read;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- Gnumeric ssconvert (--recalc): .xls and CSV (dates written 2024/03/14)
-- ---------------------------------------------------------------------------
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'real_gnumeric.xls', 'email',
                                                    validate_only => true, max_errors => 10);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'real_gnumeric.xls', 'email', max_errors => 10);
SELECT * FROM real_read;
ROLLBACK;
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'real_gnumeric.csv', 'email',
                                                    validate_only => true, max_errors => 10);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'real_gnumeric.csv', 'email', max_errors => 10);
SELECT * FROM real_read;
ROLLBACK;

-- one real import, kept until the end of this file: the LibreOffice .xls
SELECT line_no, status FROM credimport_load(:'fx' || 'real_lo.xls', 'email', max_errors => 10);
SELECT * FROM real_read;
SELECT status, records, imported, invalid FROM credimport.batch
 WHERE id = credimport_last_batch_id();

-- leave the database as the later tests expect it
DROP VIEW real_read;
DELETE FROM credimport.credit WHERE batch_id > :batch_seq;
DELETE FROM credimport.batch WHERE id > :batch_seq;
SELECT setval('credimport.batch_id_seq', :batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :learner_seq) > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :credit_seq) > 0 AS credit_seq_restored;
