--
-- sheets: .xlsx workbooks and XML files, through the same pipeline (1.3)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'

-- a workbook: shared and inline strings, leading zeros kept, date styles as
-- ISO dates, no float noise, a merged cell, a hidden row, formulas' cached
-- values, an error cell named by its reference; line numbers are the
-- spreadsheet's row numbers
SELECT * FROM credimport_validate(:'fx' || 'credits.xlsx', 'email');
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'credits.xlsx', 'email', max_errors => 1);
SELECT l.email, c.provider, c.course_title, c.course_id, c.completion_date, c.number_credits, t.code
  FROM credimport.credit c JOIN credimport.learner l ON l.id = c.learner_id
  JOIN credimport.credit_type t ON t.id = c.credit_type_id
 WHERE c.batch_id = credimport_last_batch_id() ORDER BY c.id;
SELECT sha256 = encode(sha256(pg_read_binary_file(:'fx' || 'credits.xlsx')), 'hex') AS sha256_of_file
  FROM credimport.batch WHERE id = credimport_last_batch_id();
-- the error report of a workbook batch: its rows as they were read
SELECT credimport_error_report(credimport_last_batch_id());

-- a named sheet; a missing one; the format argument wins over the extension
SELECT * FROM credimport_load(:'fx' || 'credits.xlsx', 'email', validate_only => true, sheet => 'Other');
SELECT * FROM load_error(:'fx' || 'credits.xlsx', 'email');   -- (default max_errors: rejected, no error)
SELECT * FROM credimport_load_data(pg_read_binary_file(:'fx' || 'credits.xlsx'), 'email', sheet => 'Nope');
SELECT * FROM credimport_load(:'fx' || 'credits.xml', 'email', format => 'csv', validate_only => true);
SELECT * FROM credimport_load(:'fx' || 'basic.csv', 'email', sheet => 'Credits');
SELECT * FROM credimport_load(:'fx' || 'basic.csv', 'email', format => 'ods');

-- the content door takes a workbook as bytea
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'credits.xlsx'), 'email', validate_only => true);
-- (a workbook in the 1904 date system)
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'dates1904.xlsx'), 'email');
SELECT course_id, completion_date FROM credimport.credit WHERE course_id = 'DATE-1904';

-- users and credentials read them too
SELECT line_no, status, errors FROM credimport_load_users(:'fx' || 'users.xlsx', sheet => 'Learners');
SELECT email, first_name, role FROM credimport.learner WHERE email = 'sheet.user@example.org';
SELECT line_no, status, errors FROM credimport_load_credentials(:'fx' || 'credentials.xml', 'email', max_errors => 1);

-- XML: records are the root's children, fields their children or attributes
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'credits.xml', 'email', max_errors => 1);
SELECT line_no, status FROM credimport_load_data(
    '<rows><row><email>ada@example.org</email><provider>P</provider><course_title>T</course_title>'
    '<course_id>XML-C</course_id><completion_date>2024-03-03</completion_date><number_credits>1</number_credits>'
    '<credit_type>CME</credit_type></row></rows>', 'email', format => 'xml', validate_only => true);

-- legacy Excel (.xls, the same workbook saved by LibreOffice): read as the
-- .xlsx is -- merged range, hidden row, formulas' cached values, an error
-- cell named by its reference (more in sql/xls.sql)
SELECT * FROM credimport_validate(:'fx' || 'credits.xls', 'email');
SELECT line_no, status FROM credimport_load_users(:'fx' || 'users.xls', validate_only => true, sheet => 'Learners');
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'credits.xls'), 'email',
                                                 format => 'xls', validate_only => true, max_errors => 5);

-- bad workbooks and documents: a clear error each, never a crash
\set VERBOSITY default
SELECT * FROM load_error(:'fx' || 'corrupt.xlsx', 'email');
SELECT * FROM load_error(:'fx' || 'nosheets.xlsx', 'email');
SET credimport.max_sheet_bytes = '1MB';
SELECT * FROM load_error(:'fx' || 'bomb.xlsx', 'email');
RESET credimport.max_sheet_bytes;
SELECT * FROM load_error(:'fx' || 'legacy.xls', 'email');
SELECT sqlstate, message FROM load_error(:'fx' || 'zcorrupt.xlsx', 'email');
SET credimport.max_sheet_bytes = '10MB';
SELECT * FROM load_error(:'fx' || 'sparse.xlsx', 'email');   -- a few kB that would take 300 MB of cells
RESET credimport.max_sheet_bytes;
SELECT * FROM load_error(:'fx' || 'merges.xlsx', 'email');   -- one merged range of 13 million cells
SELECT * FROM load_error(:'fx' || 'entities.xml', 'email');
SELECT * FROM load_error(:'fx' || 'broken.xml', 'email');
SELECT * FROM credimport_load_data('not a workbook'::bytea, 'email');
SELECT * FROM credimport_load_data('<rows/>', 'email', format => 'xml');
-- records that share a line are numbered by position; namespace declarations are not fields
SELECT line_no, status, errors FROM credimport_load_data(
    '<rows xmlns:x="urn:x"><row email="nobody@example.org" xmlns:y="urn:y" provider="P" course_title="T" course_id="NS-1" '
    'completion_date="2024-01-01" number_credits="1" credit_type="CME"/><row email="ada@example.org" provider="P" '
    'course_title="T" course_id="NS-1" completion_date="2024-01-01" number_credits="1" credit_type="CME"/></rows>',
    'email', format => 'xml', validate_only => true);
