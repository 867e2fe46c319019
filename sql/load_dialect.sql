--
-- load_dialect: the CSV dialects spreadsheets and other systems write
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'

-- tab-delimited, headers with spaces and hyphens, a blank line
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'tabs.tsv', 'email');
SELECT course_id, course_title FROM credimport.credit WHERE course_id LIKE 'TSV-%' ORDER BY id;

-- semicolons (a decimal comma is not a number)
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'semicolon.csv', 'email', max_errors => 1);
SELECT course_id, course_title FROM credimport.credit WHERE course_id LIKE 'SEMI-%' ORDER BY id;

-- UTF-8 BOM, CRLF, padded and upper-case headers, a newline inside quotes,
-- a blank line and an all-empty record (both skipped; line numbers are physical)
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'bom_crlf.csv', 'email');
SELECT course_id, course_title FROM credimport.credit WHERE course_id LIKE 'BOM-%' ORDER BY id;

-- CR-only line ends
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'cr_only.csv', 'email');
