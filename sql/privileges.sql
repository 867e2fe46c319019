--
-- privileges: reading a server file needs what COPY FROM a file needs
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'

CREATE ROLE credimport_clerk;
CREATE ROLE credimport_reader;
GRANT pg_read_server_files TO credimport_reader;

-- not open to PUBLIC
SET ROLE credimport_clerk;
SELECT * FROM credimport_load(:'fx' || 'basic.csv', 'email');
RESET ROLE;

-- EXECUTE alone is not enough: the file check comes before the file is opened
GRANT EXECUTE ON FUNCTION credimport_load(text, text, boolean, boolean, integer)
    TO credimport_clerk, credimport_reader;
SET ROLE credimport_clerk;
SELECT * FROM credimport_load('/nonexistent/secret', 'email');
RESET ROLE;

-- a member of pg_read_server_files still needs rights on the tables
SET ROLE credimport_reader;
SELECT * FROM credimport_load(:'fx' || 'basic.csv', 'email');
RESET ROLE;
GRANT USAGE ON SCHEMA credimport TO credimport_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA credimport TO credimport_reader;
GRANT INSERT, UPDATE ON credimport.batch, credimport.batch_error, credimport.credit,
    credimport.learner TO credimport_reader;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA credimport TO credimport_reader;
SET ROLE credimport_reader;
SELECT status, count(*) FROM credimport_load(:'fx' || 'basic.csv', 'email', validate_only => true) GROUP BY 1;
RESET ROLE;

-- the field checker is harmless and open to all
SET ROLE credimport_clerk;
SELECT credimport_check_value('date', '2024-02-29');
RESET ROLE;

REVOKE ALL ON ALL TABLES IN SCHEMA credimport FROM credimport_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA credimport FROM credimport_reader;
REVOKE ALL ON SCHEMA credimport FROM credimport_reader;
REVOKE ALL ON FUNCTION credimport_load(text, text, boolean, boolean, integer)
    FROM credimport_clerk, credimport_reader;
DROP ROLE credimport_clerk;
DROP ROLE credimport_reader;
