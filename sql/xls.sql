--
-- xls: legacy Excel (.xls) through credimport's own BIFF8 reader (1.4);
-- fixtures written by test/fixtures/make_xls.py
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
-- all in one transaction, rolled back at the end: the tests after this one
-- see the batch numbers they would see without it
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
BEGIN;
\set ON_ERROR_ROLLBACK on

-- formulas read as their saved results: =H2>=70 saved TRUE (row 2) and
-- FALSE (row 3), =1+1 (row 4), =TRUE() (row 4) and =FALSE() (row 5), a
-- string formula (row 6); a date-time cell is the date of its day (row 6);
-- NaN and 2e9 in date cells are no dates (rows 7, 8); a formula whose text
-- result is not in the file (row 9) and error values (row 11) are problems
-- naming the cell; row 10 is hidden; the first sheet is hidden
SELECT * FROM credimport_validate(:'fx' || 'formulas.xls', 'email');
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'formulas.xls', 'email', max_errors => 10);
-- only completed courses are on the transcripts: not XLS-2 (=H3>=70 is FALSE), not XLS-4 (=FALSE())
SELECT l.email, c.provider, c.course_title, c.course_id, c.completion_date, c.number_credits
  FROM credimport.credit c JOIN credimport.learner l ON l.id = c.learner_id
 WHERE c.batch_id = credimport_last_batch_id() ORDER BY c.course_id;
SELECT count(*) AS not_completed_imported FROM credimport.credit WHERE course_id IN ('XLS-2', 'XLS-4');
-- the error report shows the rows as read
SELECT credimport_error_report(credimport_last_batch_id());

-- the content door and sheets: the hidden sheet by name, a missing one
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'small.xls'), 'email',
                                                 format => 'xls', validate_only => true);
SELECT * FROM credimport_load_data(pg_read_binary_file(:'fx' || 'formulas.xls'), 'email',
                                   format => 'xls', sheet => 'Lookup', validate_only => true);
SELECT * FROM credimport_load_data(pg_read_binary_file(:'fx' || 'formulas.xls'), 'email',
                                   format => 'xls', sheet => 'Nope');

-- 20 cells holding the date serial 2e9: refused at once, each naming its row
SELECT count(*), min(message), max(value) FROM credimport_validate(:'fx' || 'dates2e9.xls', 'email')
 WHERE field = 'completion_date';

-- a workbook stream in the mini stream; the 1904 date system
SELECT * FROM credimport_validate(:'fx' || 'small.xls', 'email');
SELECT * FROM credimport_validate(:'fx' || 'dates1904.xls', 'email');
SELECT line_no, status FROM credimport_load(:'fx' || 'dates1904.xls', 'email');
SELECT course_id, completion_date FROM credimport.credit WHERE course_id = 'XLS-1904';

-- bad workbooks: a clear error each
\set VERBOSITY default
SELECT * FROM load_error(:'fx' || 'biff5.xls', 'email');
SELECT * FROM load_error(:'fx' || 'legacy.xls', 'email');
SELECT * FROM credimport_load_data('\xd0cf11e0a1b11ae1'::bytea, 'email', format => 'xls');
SELECT * FROM credimport_load_data(pg_read_binary_file(:'fx' || 'credits.xlsx'), 'email', format => 'xls');
-- a workbook larger than credimport.max_sheet_bytes
SET credimport.max_sheet_bytes = 4096;
SELECT * FROM credimport_load_data(pg_read_binary_file(:'fx' || 'formulas.xls'), 'email', format => 'xls');
RESET credimport.max_sheet_bytes;
-- a record longer than credimport.max_record_bytes
SET credimport.max_record_bytes = 1024;
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'formulas.xls', 'email', validate_only => true,
                                                    max_errors => 100) WHERE line_no IN (11, 12, 13);
RESET credimport.max_record_bytes;
-- values repeated by shared strings and merged ranges count against
-- credimport.max_sheet_bytes: 5.4 MB of values from a 64 kB file (a
-- 1.5 MB file of this shape took 68 s and 4.7 GB before)
SELECT count(*) AS records FROM credimport_load(:'fx' || 'amplify.xls', 'email', validate_only => true,
                                               max_errors => 100);
SET credimport.max_sheet_bytes = 1048576;
SELECT * FROM credimport_load_data(pg_read_binary_file(:'fx' || 'amplify.xls'), 'email', format => 'xls',
                                   validate_only => true, max_errors => 100);
RESET credimport.max_sheet_bytes;
\set VERBOSITY terse
ROLLBACK;
SELECT setval('credimport.batch_id_seq', :batch_seq) = :batch_seq AS batch_numbers_restored;
