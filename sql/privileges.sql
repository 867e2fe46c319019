--
-- privileges: the documented roles, the file-privilege check, and no
-- hijacking through the caller's search_path
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'

CREATE ROLE credimport_clerk;     -- the documented grants, no file access
CREATE ROLE credimport_reader;    -- the documented grants and pg_read_server_files
GRANT pg_read_server_files TO credimport_reader;

-- not open to PUBLIC
SELECT has_function_privilege('public', 'credimport_load(text, text, boolean, boolean, integer, text, text, text)', 'EXECUTE') AS public_may_load;
SET ROLE credimport_clerk;
SELECT * FROM credimport_load(:'fx' || 'privileged.csv', 'email');
RESET ROLE;

-- the grants the README documents for a loading role
GRANT USAGE ON SCHEMA credimport TO credimport_clerk, credimport_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA credimport TO credimport_clerk, credimport_reader;
GRANT INSERT ON credimport.credit, credimport.learner, credimport.batch, credimport.batch_error,
    credimport.batch_record TO credimport_clerk, credimport_reader;
GRANT UPDATE ON credimport.batch TO credimport_clerk, credimport_reader;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA credimport TO credimport_clerk, credimport_reader;
GRANT EXECUTE ON FUNCTION credimport_load(text, text, boolean, boolean, integer, text, text, text)
    TO credimport_clerk, credimport_reader;

-- without pg_read_server_files: refused before the file is opened (the
-- same message for a file that does not exist)
SET ROLE credimport_clerk;
SELECT * FROM credimport_load(:'fx' || 'privileged.csv', 'email');
SELECT * FROM credimport_load('/nonexistent/secret', 'email');
RESET ROLE;

-- with it: validates and imports
SET ROLE credimport_reader;
SELECT line_no, status FROM credimport_load(:'fx' || 'privileged.csv', 'email', validate_only => true);
SELECT line_no, status FROM credimport_load(:'fx' || 'privileged.csv', 'email');
SELECT imported_by, status, records, imported FROM credimport.batch ORDER BY id DESC LIMIT 1;
RESET ROLE;

-- the field checker is harmless and open to all
SET ROLE credimport_clerk;
SELECT credimport_check_value('date', '2024-02-29');
RESET ROLE;

-- no function is SECURITY DEFINER, and the loader pins its search_path
SELECT p.proname, p.prosecdef, p.proconfig
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'credimport'
 ORDER BY p.oid::regprocedure::text;

-- a hostile search_path: look-alike objects in a schema searched first
-- are never used by a load
CREATE SCHEMA hijack;
CREATE FUNCTION hijack.lower(text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked lower() was called'; END $$;
CREATE FUNCTION hijack.texteq_hijack(text, text) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'hijacked = operator was called'; END $$;
CREATE OPERATOR hijack.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hijack.texteq_hijack);
CREATE TABLE hijack.credit (id bigint);
CREATE TABLE hijack.learner (id bigint);
CREATE TABLE hijack.credit_type (id int);
SET search_path = hijack, pg_catalog, public;
SELECT lower('X');   -- the trap works for an unqualified call
SELECT status, count(*) FROM public.credimport_load(:'fx' || 'basic.csv', 'email', validate_only => true) GROUP BY status;
-- the pipeline procedure resolves table names in the caller's search_path,
-- so it names everything with its schema instead
CREATE TABLE hijack.stage (email text, provider text, course_title text, course_id text,
                           completion_date text, number_credits text, credit_type text);
INSERT INTO hijack.stage VALUES ('ada@example.org', 'Hijack', 'Not hijacked', 'HJ-1', '2024-09-01', '1', 'CME');
CALL public.credimport_import('stage', 'email');
RESET search_path;
DROP SCHEMA hijack CASCADE;

REVOKE ALL ON ALL TABLES IN SCHEMA credimport FROM credimport_clerk, credimport_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA credimport FROM credimport_clerk, credimport_reader;
REVOKE ALL ON SCHEMA credimport FROM credimport_clerk, credimport_reader;
REVOKE ALL ON FUNCTION credimport_load(text, text, boolean, boolean, integer, text, text, text)
    FROM credimport_clerk, credimport_reader;
DROP ROLE credimport_clerk;
DROP ROLE credimport_reader;
