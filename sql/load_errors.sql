--
-- load_errors: every record-level problem code, and the whole-file errors
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set errors :fx 'errors.csv'
\set VERBOSITY default

SELECT count(*) AS credits_before FROM credimport.credit \gset

-- one or more problems per record, all of them listed
SELECT line_no, status, errors FROM credimport_load(:'errors', 'email');
SELECT count(*) = :credits_before AS nothing_written FROM credimport.credit;

-- the results file: one row per problem, with the offending value
SELECT line_no, field, code, value FROM credimport.batch_error
 WHERE batch_id = (SELECT max(id) FROM credimport.batch) ORDER BY line_no, field, code;
SELECT code, count(*) FROM credimport.batch_error
 WHERE batch_id = (SELECT max(id) FROM credimport.batch) GROUP BY code ORDER BY code;

-- max_errors: up to that many invalid records are skipped, the rest imported
SELECT status, count(*) FROM credimport_load(:'errors', 'email', max_errors => 21) GROUP BY status ORDER BY status;
SELECT status, count(*) FROM credimport_load(:'errors', 'email', max_errors => 22) GROUP BY status ORDER BY status;
SELECT status, records, imported, invalid FROM credimport.batch ORDER BY id DESC LIMIT 2;
SELECT course_id, number_credits FROM credimport.credit WHERE course_id LIKE 'F-%' ORDER BY id;

-- duplicate_in_file names the earlier line, and only an otherwise valid one:
-- line 2 has a bad date, so line 3 (its corrected copy) imports and line 4 is
-- the duplicate; line 5 is another credit type for the same course: fine
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'dup_fixed.csv', 'email', max_errors => 2);

-- date formats from the GUC
SET credimport.date_format = 'MM/DD/YYYY';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'date_formats.csv', 'email', validate_only => true);
SET credimport.date_format = 'DD/MM/YYYY';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'date_formats.csv', 'email', validate_only => true);
SET credimport.date_format = 'DD.MM.YYYY';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'date_formats.csv', 'email', validate_only => true);
RESET credimport.date_format;
SET credimport.date_format = 'YYYY/MM/DD';

-- encoding: a file that is not UTF-8 is one whole-file error naming the
-- line and the byte (issue 15; files_encoding has the rest)
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', validate_only => true)$q$, :'fx' || 'encoding.csv'));
-- NUL bytes are named, with the bytes escaped;
-- an unterminated quote swallows the rest of the file into one record
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'nul_quote.csv', 'email', validate_only => true);
SELECT line_no, field, code, value FROM credimport.batch_error
 WHERE batch_id = (SELECT max(id) FROM credimport.batch) ORDER BY line_no;

-- whole-file errors: nothing at all is written, not even a batch
SELECT max(id) AS last_batch FROM credimport.batch \gset
\x on
SELECT * FROM load_error('/nonexistent/credimport/missing.csv', 'email');
SELECT * FROM load_error(:'abs_srcdir' || '/test/fixtures', 'email');
SELECT * FROM load_error('relative/path.csv', 'email');
SELECT * FROM load_error(:'fx' || 'empty.csv', 'email');
SELECT * FROM load_error(:'fx' || 'blank.csv', 'email');
SELECT * FROM load_error(:'fx' || 'missing_header.csv', 'email');
SELECT * FROM load_error(:'fx' || 'dup_header.csv', 'email');
SELECT * FROM load_error(:'fx' || 'basic.csv', 'remote_id');
SELECT * FROM load_error(:'fx' || 'basic.csv', 'mail');
SELECT * FROM load_error(:'fx' || 'basic.csv', 'email', max_errors => -1);
SELECT * FROM load_error(NULL, 'email');
SET credimport.max_rows = 3;
SELECT * FROM load_error(:'fx' || 'basic.csv', 'email');
SET credimport.max_rows = 5;
SELECT * FROM load_error(:'fx' || 'basic.csv', 'email', validate_only => true);
RESET credimport.max_rows;
SET credimport.max_record_bytes = 1024;
SELECT * FROM load_error(:'fx' || 'long_header.csv', 'email');
\x off
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'long_record.csv', 'email', validate_only => true);
RESET credimport.max_record_bytes;
SELECT count(*) AS batches_written_by_failed_calls
  FROM credimport.batch WHERE id > :last_batch AND NOT validate_only;
