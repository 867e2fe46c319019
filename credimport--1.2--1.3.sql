/* credimport--1.2--1.3.sql: spreadsheets (.xlsx) and XML for every loader */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.3'" to load this file. \quit

/*
 * The file and content loaders take two more arguments, format and sheet.
 * A function's arguments cannot change in place: the old ones are dropped
 * and the new ones created -- keeping the EXECUTE grants administrators
 * gave on the old ones.
 */
DO $$
DECLARE
    saved text := '';
    r record;
BEGIN
    -- entries "function:grantee oid:grantable;" (oids: any role name is safe)
    FOR r IN
        SELECT p.proname, a.grantee, a.is_grantable
          FROM pg_catalog.pg_proc p
         CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
                 '@extschema@.credimport_load(text,text,boolean,boolean,integer,text)',
                 '@extschema@.credimport_load_data(text,text,boolean,boolean,integer,text)',
                 '@extschema@.credimport_load_users(text,boolean,boolean,integer)',
                 '@extschema@.credimport_load_users_data(text,boolean,boolean,integer)',
                 '@extschema@.credimport_load_credentials(text,text,boolean,boolean,integer)',
                 '@extschema@.credimport_load_credentials_data(text,text,boolean,boolean,integer)'
               ]::pg_catalog.regprocedure[]::pg_catalog.oid[])
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        saved := saved || r.proname || ':' || r.grantee::pg_catalog.text || ':' || r.is_grantable::pg_catalog.text || ';';
    END LOOP;
    PERFORM pg_catalog.set_config('credimport_upgrade.grants', saved, true);
END
$$;

DROP FUNCTION @extschema@.credimport_load(text, text, boolean, boolean, integer, text);
DROP FUNCTION @extschema@.credimport_load_data(text, text, boolean, boolean, integer, text);
DROP FUNCTION @extschema@.credimport_load_users(text, boolean, boolean, integer);
DROP FUNCTION @extschema@.credimport_load_users_data(text, boolean, boolean, integer);
DROP FUNCTION @extschema@.credimport_load_credentials(text, text, boolean, boolean, integer);
DROP FUNCTION @extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer);

-- credits
CREATE FUNCTION @extschema@.credimport_load(
    path text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_file'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text) IS
    'import external credits from a server file (CSV, TSV, .xlsx or .xml), atomically, with a per-record report';

CREATE FUNCTION @extschema@.credimport_load_data(
    content text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_data'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text) IS
    'import external credits from CSV, TSV or XML text sent by the client, atomically, with a per-record report';

CREATE FUNCTION @extschema@.credimport_load_data(
    content bytea,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_bytes'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text) IS
    'import external credits from an .xlsx workbook sent by the client, atomically, with a per-record report';

-- users
CREATE FUNCTION @extschema@.credimport_load_users(
    path text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_file'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_users(text, boolean, boolean, integer, text, text) IS
    'add or update learners (students, instructors, parents) and their associations from a server file';

CREATE FUNCTION @extschema@.credimport_load_users_data(
    content text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_data'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text) IS
    'add or update learners and their associations from CSV, TSV or XML text sent by the client';

CREATE FUNCTION @extschema@.credimport_load_users_data(
    content bytea,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_bytes'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text) IS
    'add or update learners and their associations from an .xlsx workbook sent by the client';

-- credentials
CREATE FUNCTION @extschema@.credimport_load_credentials(
    path text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_file'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text) IS
    'add, update or delete learners'' licenses and certifications from a server file';

CREATE FUNCTION @extschema@.credimport_load_credentials_data(
    content text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_data'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text) IS
    'add, update or delete learners'' licenses and certifications from CSV, TSV or XML text sent by the client';

CREATE FUNCTION @extschema@.credimport_load_credentials_data(
    content bytea,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_bytes'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text) IS
    'add, update or delete learners'' licenses and certifications from an .xlsx workbook sent by the client';

REVOKE ALL ON FUNCTION @extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_users(text, boolean, boolean, integer, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text) FROM PUBLIC;

-- the grants on the old loaders carry over to the new ones (and to the
-- workbook variants of the content loaders), WITH GRANT OPTION included
DO $$
DECLARE
    entry text;
    parts text[];
    targets text;
    tail text;
BEGIN
    FOREACH entry IN ARRAY pg_catalog.string_to_array(
        pg_catalog.rtrim(pg_catalog.current_setting('credimport_upgrade.grants', true), ';'), ';')
    LOOP
        parts := pg_catalog.string_to_array(entry, ':');
        targets := CASE parts[1]
            WHEN 'credimport_load' THEN
                '@extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text)'
            WHEN 'credimport_load_data' THEN
                '@extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text), '
                '@extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text)'
            WHEN 'credimport_load_users' THEN
                '@extschema@.credimport_load_users(text, boolean, boolean, integer, text, text)'
            WHEN 'credimport_load_users_data' THEN
                '@extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text), '
                '@extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text)'
            WHEN 'credimport_load_credentials' THEN
                '@extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text)'
            WHEN 'credimport_load_credentials_data' THEN
                '@extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text), '
                '@extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text)'
            END;
        tail := CASE WHEN parts[3] OPERATOR(pg_catalog.=) 'true' THEN ' WITH GRANT OPTION' ELSE '' END;
        IF targets IS NOT NULL THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I%s', targets,
                                      pg_catalog.pg_get_userbyid(parts[2]::pg_catalog.oid), tail);
        END IF;
    END LOOP;
END
$$;

-- a staging table is scanned twice when a load has invalid records (the
-- second time for the error report): both scans must see the rows in the
-- same order
ALTER FUNCTION @extschema@.credimport_load(regclass, text, boolean, boolean, integer, text)
    SET synchronize_seqscans = off;
ALTER FUNCTION @extschema@.credimport_load_users(regclass, boolean, boolean, integer)
    SET synchronize_seqscans = off;
ALTER FUNCTION @extschema@.credimport_load_credentials(regclass, text, boolean, boolean, integer)
    SET synchronize_seqscans = off;
