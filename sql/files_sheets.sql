--
-- files_sheets: which sheet of a workbook is read, formats taken from the
-- content, numbers as their format displays them, and the column mapping a
-- batch records (issue 15)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set SHOW_CONTEXT never
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS learner_seq FROM credimport.learner_id_seq \gset
SELECT last_value AS credit_seq FROM credimport.credit_id_seq \gset

-- ---------------------------------------------------------------------------
-- sheets: "the first sheet" is the first visible worksheet
-- ---------------------------------------------------------------------------
-- a chart sheet, then a hidden worksheet, then the data: the data is read,
-- and a NOTICE names the hidden worksheet passed over (as for .xls)
SELECT line_no, status FROM credimport_load(:'fx' || 'hidden_first.xlsx', 'email', validate_only => true);
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'hidden_first.xlsx'), 'email',
                                                 validate_only => true);
SELECT * FROM credimport_validate(:'fx' || 'hidden_first.xlsx', 'email');
-- the .xls reader the same (padded.xls: a hidden sheet "Notes" first)
SELECT line_no, status FROM credimport_load(:'fx' || 'padded.xls', 'email', validate_only => true);
-- errors about a sheet name the worksheet read and list the sheets, with
-- their visibility: an empty first visible worksheet
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email')$q$, :'fx' || 'visible_empty.xlsx'));
-- a header that does not name the columns (a hidden sheet, by name)
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', sheet => 'Lookup')$q$,
                                  :'fx' || 'hidden_first.xlsx'));
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', sheet => 'Notes')$q$,
                                  :'fx' || 'padded.xls'));
-- no such sheet; a chart sheet by name; no visible worksheet at all
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', sheet => 'Nope')$q$,
                                  :'fx' || 'hidden_first.xlsx'));
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', sheet => 'Chart 1')$q$,
                                  :'fx' || 'hidden_first.xlsx'));
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email')$q$, :'fx' || 'chart_only.xlsx'));

-- ---------------------------------------------------------------------------
-- formats by content
-- ---------------------------------------------------------------------------
-- no extension: a workbook, an XML document, a CSV file, each by its bytes
SELECT * FROM credimport_validate(:'fx' || 'workbook_noext', 'email');
SELECT line_no, status FROM credimport_load(:'fx' || 'document_noext', 'email', validate_only => true, max_errors => 5);
SELECT line_no, status FROM credimport_load(:'fx' || 'text_noext', 'email', validate_only => true, max_errors => 5);
-- an extension that contradicts the bytes: the bytes win, and a NOTICE says so
SELECT line_no, status FROM credimport_load(:'fx' || 'legacy_named.xlsx', 'email', validate_only => true, max_errors => 5);
SELECT line_no, status FROM credimport_load(:'fx' || 'modern_named.xls', 'email', validate_only => true, max_errors => 5);
SELECT line_no, status FROM credimport_load(:'fx' || 'workbook_named.csv', 'email', validate_only => true, max_errors => 5);
-- format values are case-insensitive
SELECT line_no, status FROM credimport_load(:'fx' || 'padded.xls', 'email', format => 'XLS', validate_only => true);
SELECT count(*) FROM credimport_validate(:'fx' || 'credits.xlsx', 'email', format => 'Xlsx');
-- content: a .xls sent as bytea, with no format, is read as .xls; XML text as XML
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'padded.xls'), 'email',
                                                 validate_only => true);
SELECT line_no, status FROM credimport_load_data(
    E'\n  <rows><row><email>ada@example.org</email><provider>P</provider><course_title>T</course_title>'
    '<course_id>SNIFF-1</course_id><completion_date>2024-03-03</completion_date><number_credits>1</number_credits>'
    '<credit_type>CME</credit_type></row></rows>', 'email', validate_only => true);
-- ... and CSV bytes as CSV
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'basic.csv'), 'email',
                                                 validate_only => true, max_errors => 5);
-- a zip that is not a workbook (an OpenDocument file, say)
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email')$q$, :'fx' || 'not_a_workbook.dat'));
-- a wrong guess: the error names the format tried
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email')$q$, :'fx' || 'binary_noext'));

-- ---------------------------------------------------------------------------
-- displayed numbers: 7 in a cell formatted 000 is "007"; @ keeps the text
-- ---------------------------------------------------------------------------
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'padded.xlsx', 'email');
SELECT course_id FROM credimport.credit WHERE batch_id = credimport_last_batch_id() ORDER BY id;
ROLLBACK;
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'padded.xls', 'email');
SELECT course_id FROM credimport.credit WHERE batch_id = credimport_last_batch_id() ORDER BY id;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- the batch records the column mapping used (NULL when none was given)
-- ---------------------------------------------------------------------------
\set mapped '''E-mail Address,Org,Kurs,Code,Datum,Credits Earned,Art\nada@example.org,P,T,MAP-1,2024-03-14,1,CME\n'''
\set map '''{"E-mail Address": "email", "Org": "provider", "Kurs": "course_title", "Code": "course_id", "Datum": "completion_date", "Art": "credit_type"}'''
SELECT line_no, status FROM credimport_load_data(E:mapped, 'email', validate_only => true, columns => :map);
SELECT columns FROM credimport.batch WHERE id = credimport_last_batch_id();
SELECT line_no, status FROM credimport_load(:'fx' || 'hidden_first.xlsx', 'email', validate_only => true);
SELECT columns IS NULL AS no_mapping FROM credimport.batch WHERE id = credimport_last_batch_id();
-- a loader (credimport_grant_loader) still records its batches, mapping and all
CREATE ROLE credimport_mapper;
SELECT credimport_grant_loader('credimport_mapper');
SET ROLE credimport_mapper;
SELECT line_no, status FROM credimport_load_data(E:mapped, 'email', validate_only => true, columns => :map);
SELECT columns->>'Code' AS code_is, imported_by FROM credimport.batch WHERE id = credimport_last_batch_id();
RESET ROLE;
SELECT credimport_revoke_loader('credimport_mapper');
DROP ROLE credimport_mapper;

-- leave the database as the later tests expect it
DELETE FROM credimport.batch WHERE id > :batch_seq;
SELECT setval('credimport.batch_id_seq', :batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :learner_seq) > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :credit_seq) > 0 AS credit_seq_restored;
