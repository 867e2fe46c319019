--
-- files_encoding: files that are not UTF-8 are one whole-file error with a
-- hint; UTF-16 with a byte order mark is read as such (issue 15)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
SELECT last_value AS batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS learner_seq FROM credimport.learner_id_seq \gset
SELECT last_value AS credit_seq FROM credimport.credit_id_seq \gset

-- French Excel's "CSV (point-virgule)": Windows-1252; one error, not one
-- problem per field, and nothing written, not even a batch
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', validate_only => true)$q$, :'fx' || 'french_win1252.csv'));
SELECT count(*) = 0 AS no_batch FROM credimport.batch WHERE id > :batch_seq;
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_validate(%L, 'email')$q$, :'fx' || 'french_win1252.csv'));
-- the same bytes sent as content (bytea, format csv)
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'french_win1252.csv'),
  'email', validate_only => true, format => 'csv');

-- MacRoman: 0x8D (c-cedilla) is no Windows-1252 character, so no such hint
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', validate_only => true)$q$, :'fx' || 'macroman.csv'));

-- a NUL byte stays the problem of its field in an otherwise UTF-8 file
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'nul_byte.csv', 'email', validate_only => true);

-- Excel's "Unicode Text": UTF-16LE with a byte order mark, tab-delimited
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'utf16le.txt', 'email', validate_only => true);
BEGIN;
SELECT line_no, status FROM credimport_load(:'fx' || 'utf16le.txt', 'email');
SELECT course_id, course_title, number_credits FROM credimport.credit WHERE course_id LIKE 'U16-%' ORDER BY course_id;
ROLLBACK;
-- as bytea content, and big-endian
SELECT line_no, status FROM credimport_load_data(pg_read_binary_file(:'fx' || 'utf16le.txt'),
  'email', validate_only => true, format => 'csv');
SELECT line_no, status FROM credimport_load_data(
  '\xfeff'::bytea || decode('0065006d00610069006c000900700072006f0076006900640065007200090063006f0075007200730065005f007400690074006c006500090063006f0075007200730065005f0069006400090063006f006d0070006c006500740069006f006e005f00640061007400650009006e0075006d006200650072005f00630072006500640069007400730009006300720065006400690074005f0074007900700065000a0061006400610040006500780061006d0070006c0065002e006f007200670009005000090054000900420045002d003100090032003000320034002d00300033002d0031003400090031000900430045000a', 'hex'),
  'email', validate_only => true, format => 'csv');
-- broken UTF-16: an unpaired surrogate
SELECT line_no, status FROM credimport_load_data('\xfffe61003dd86200'::bytea, 'email', validate_only => true, format => 'csv');
-- a UTF-16 file is converted in memory: the in-memory bound applies
SET credimport.max_sheet_bytes = 1024;
SELECT * FROM expect_error(format($q$SELECT * FROM credimport_load(%L, 'email', validate_only => true)$q$, :'fx' || 'utf16le.txt'));
RESET credimport.max_sheet_bytes;

-- leave the database as the later tests expect it
DELETE FROM credimport.batch WHERE id > :batch_seq;
SELECT setval('credimport.batch_id_seq', :batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :learner_seq) > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :credit_seq) > 0 AS credit_seq_restored;
