--
-- sheets_values: what a workbook cell means (1.4)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'

-- ISO date cells (t="d") are dates; a date-time is the calendar date of its
-- day, from an ISO cell or a date-formatted serial alike; a day that does
-- not exist stays refused
SELECT * FROM credimport_validate(:'fx' || 'dates_iso.xlsx', 'email');
SELECT line_no, status FROM credimport_load(:'fx' || 'dates_iso.xlsx', 'email', max_errors => 1);
SELECT course_id, completion_date FROM credimport.credit
 WHERE batch_id = credimport_last_batch_id() ORDER BY course_id;

-- a workbook that says its cached values are stale (fullCalcOnLoad): a
-- formula is a problem naming its cell, never its cached value (here 0)
SELECT * FROM credimport_validate(:'fx' || 'stale.xlsx', 'email');
-- a formula with no cached value at all is unknown too; one with a value is read
SELECT * FROM credimport_validate(:'fx' || 'nocache.xlsx', 'email');

-- a sheet without r:id is named in the error
\set VERBOSITY default
-- (and a header cell whose formula is not calculated names no column)
SELECT * FROM load_error(:'fx' || 'stale_header.xlsx', 'email');
SELECT * FROM load_error(:'fx' || 'norid.xlsx', 'email');
-- rows out of order are refused at once
SELECT * FROM load_error(:'fx' || 'rows_reversed.xlsx', 'email');
-- a merged range down to row 1,048,576 fills only the rows the sheet has
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'merge_tall.xlsx', 'email', validate_only => true);

-- max_record_bytes applies to workbook, XML and staging-table records
SET credimport.max_record_bytes = '1kB';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'long_cell.xlsx', 'email', validate_only => true);
SELECT line_no, status, errors FROM credimport_load_data(
    '<rows><row><email>ada@example.org</email><provider>P</provider><course_title>T</course_title>'
    '<course_id>XML-LONG</course_id><completion_date>2024-03-03</completion_date><number_credits>1</number_credits>'
    '<credit_type>CME</credit_type><note>' || repeat('x', 2000) || '</note></row></rows>', 'email',
    format => 'xml', validate_only => true);
CREATE TABLE stage_long (email text, provider text, course_title text, course_id text,
                         completion_date text, number_credits text, credit_type text);
INSERT INTO stage_long VALUES ('ada@example.org', 'P', repeat('t', 2000), 'TBL-LONG', '2024-03-03', '1', 'CME'),
                              ('ada@example.org', 'P', 'T', 'TBL-OK', '2024-03-03', '1', 'CME');
SELECT line_no, status, errors FROM credimport_load('stage_long'::regclass, 'email', validate_only => true);
RESET credimport.max_record_bytes;
DROP TABLE stage_long;

-- the XML content door applies max_sheet_bytes as the file door does
SET credimport.max_sheet_bytes = '1kB';
SELECT * FROM credimport_load_data(('<rows>' || repeat('<row><email>ada@example.org</email></row>', 40) || '</rows>')::bytea,
                                   'email', format => 'xml', validate_only => true);
RESET credimport.max_sheet_bytes;
