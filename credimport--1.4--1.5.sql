/* credimport--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.5'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- section: targets (configuration, credimport_set_target, credimport.targets)
-- ---------------------------------------------------------------------------

/*
 * Targets: the table or view each role reads and writes.  No row: the
 * shipped table credimport.<role>.  The relation is a regclass (it follows
 * renames, and pg_dump and pg_upgrade carry it); columns maps credimport's
 * field names to the relation's column names (unmapped fields keep their
 * names).  Written only through credimport_set_target() and
 * credimport_reset_target(), which validate; dumped by pg_dump.  Loads read
 * it without any privilege on it (target.c); only the extension's owner
 * writes it, or a role the owner grants EXECUTE on both functions and
 * SELECT, INSERT, UPDATE, DELETE on this table -- and that role may point a
 * target only at a relation it may read (and, for the roles credimport
 * writes, insert into) itself.
 */
CREATE TABLE credimport.target (
    role     text PRIMARY KEY
             CHECK (role OPERATOR(pg_catalog.=) ANY (ARRAY['learner', 'credit_type', 'credit',
                    'credential_type', 'credential', 'learner_link', 'invitation'])),
    relation pg_catalog.regclass NOT NULL,
    columns  jsonb NOT NULL DEFAULT '{}'
             CHECK (pg_catalog.jsonb_typeof(columns) OPERATOR(pg_catalog.=) 'object')
);
SELECT pg_catalog.pg_extension_config_dump('credimport.target', '');

CREATE FUNCTION @extschema@.credimport_set_target(role text, relation regclass, columns jsonb DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'credimport_set_target'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_set_target(text, regclass, jsonb) IS
    'point a target role (learner, credit_type, credit, credential_type, credential, learner_link, invitation) at a table or view, with credimport''s field names mapped to its columns';
REVOKE ALL ON FUNCTION @extschema@.credimport_set_target(text, regclass, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_reset_target(role text)
RETURNS void
AS 'MODULE_PATHNAME', 'credimport_reset_target'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_reset_target(text) IS
    'point a target role back at the shipped table';
REVOKE ALL ON FUNCTION @extschema@.credimport_reset_target(text) FROM PUBLIC;

-- every role, its relation, the effective mapping (field -> column, null
-- when the relation has none), and whether it is the shipped table
CREATE FUNCTION credimport.target_list(
    OUT role text, OUT relation regclass, OUT columns jsonb, OUT shipped boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'credimport_target_list'
LANGUAGE C STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION credimport.target_list() FROM PUBLIC;

CREATE VIEW credimport.targets AS
    SELECT t.role, t.relation, t.columns, t.shipped FROM credimport.target_list() t;
COMMENT ON VIEW credimport.targets IS
    'the table or view of each target role, and its columns: credimport''s field -> the relation''s column';

GRANT SELECT ON credimport.target, credimport.targets TO credimport_admin;
GRANT EXECUTE ON FUNCTION credimport.target_list() TO credimport_admin;

/*
 * A configured target cannot be dropped (its OID would dangle in
 * credimport.target, and a dump would carry it): DROP TABLE, DROP VIEW,
 * DROP SCHEMA ... CASCADE of a relation a role points at is refused until
 * credimport_reset_target() points the role elsewhere.  SECURITY DEFINER:
 * whoever drops a table needs no privilege on the configuration.  The
 * configuration gone (DROP EXTENSION): nothing to keep.  (pg_restore --clean
 * into a database whose targets are configured is refused the same way:
 * reset the targets first, or restore into a fresh database.)
 */
CREATE FUNCTION credimport.target_drop_guard()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF pg_catalog.to_regclass('credimport.target') IS NULL THEN
        RETURN;
    END IF;
    FOR r IN EXECUTE $q$
        SELECT t.role, d.object_identity, d.object_type
          FROM pg_catalog.pg_event_trigger_dropped_objects() d
          JOIN credimport.target t ON t.relation OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.objsubid OPERATOR(pg_catalog.=) 0
         ORDER BY t.role LIMIT 1$q$
    LOOP
        RAISE EXCEPTION 'cannot drop % %: it is the relation of credimport target "%"',
                        r.object_type, r.object_identity, r.role
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'credimport loads read and write it.',
                  HINT = pg_catalog.format('Point the target elsewhere first: SELECT credimport_reset_target(%L);', r.role);
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION credimport.target_drop_guard() FROM PUBLIC;

CREATE EVENT TRIGGER credimport_target_drop ON sql_drop
    EXECUTE FUNCTION credimport.target_drop_guard();


-- ---------------------------------------------------------------------------
-- section: provenance and writes (which batch wrote which row of a target)
-- ---------------------------------------------------------------------------

/*
 * Which batch wrote which rows of which target.  A platform's own table has
 * no batch column: credimport keeps the keys of the rows each batch wrote,
 * per target role and relation, one row per chunk of up to 10,000 keys
 * (a load of 1,000,000 rows adds about 100 small rows).  credimport_revert
 * and credimport_approve find a batch's rows through it.  The loaders write
 * it as its owner (a loader needs, and has, no privilege on it: it cannot
 * record rows its batch did not write); it is read like batch_error.
 */
CREATE TABLE credimport.provenance (
    batch_id   bigint NOT NULL REFERENCES credimport.batch (id) ON DELETE CASCADE,
    role       text NOT NULL,
    relation   regclass NOT NULL,
    key_column text NOT NULL,
    row_keys   text[] NOT NULL
);
COMMENT ON TABLE credimport.provenance IS
    'the keys of the rows each batch wrote, per target role and relation, in chunks';
CREATE INDEX provenance_batch_idx ON credimport.provenance (batch_id, role);
SELECT pg_catalog.pg_extension_config_dump('credimport.provenance', '');
ALTER TABLE credimport.provenance ENABLE ROW LEVEL SECURITY;
CREATE POLICY provenance_own ON credimport.provenance
    USING (EXISTS (SELECT FROM credimport.batch b WHERE b.id OPERATOR(pg_catalog.=) provenance.batch_id));
GRANT SELECT ON credimport.provenance TO credimport_admin;

-- one row per key (read with the reader's rights: its batches only)
CREATE VIEW credimport.provenance_rows WITH (security_invoker = true) AS
SELECT p.batch_id, p.role, p.relation, k.row_key
  FROM credimport.provenance p
 CROSS JOIN LATERAL pg_catalog.unnest(p.row_keys) AS k(row_key);
COMMENT ON VIEW credimport.provenance_rows IS
    'which batch wrote which row (by key) of which target relation';
GRANT SELECT ON credimport.provenance_rows TO credimport_admin;

/*
 * Called by the INSERT that writes a chunk of rows, once per row just
 * before the row is inserted, so that an error raised while writing it
 * names its source line.  Harmless to anyone: it records, in the calling
 * backend, which row credimport is writing, and returns whether the row
 * is one to write.
 */
CREATE FUNCTION credimport.writing_row(ordinal bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'credimport_writing_row'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

/*
 * The expiring credentials, from whatever the credential, credential type
 * and learner targets are: the view reads through a function that builds
 * its query from the targets (with the reader's rights).  credential_id
 * is the key of an integer-keyed credential target (NULL otherwise);
 * credential_key is the key of any target, as text.
 */
CREATE FUNCTION credimport.credential_expiring_rows(
    OUT credential_id bigint, OUT learner_id bigint, OUT email text, OUT first_name text,
    OUT last_name text, OUT credential_type text, OUT license_number text, OUT issuer text,
    OUT expiration_date date, OUT days_left integer, OUT credential_key text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'credimport_credential_expiring_rows'
LANGUAGE C STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE VIEW credimport.credential_expiring AS
SELECT e.credential_id, e.learner_id, e.email, e.first_name, e.last_name, e.credential_type,
       e.license_number, e.issuer, e.expiration_date, e.days_left, e.credential_key
  FROM credimport.credential_expiring_rows() e;

-- ---------------------------------------------------------------------------
-- section: kinds and options (one pipeline)
-- ---------------------------------------------------------------------------

/*
 * The credit and credential loaders report the written row's key as text
 * too (credit_key, credential_key): a target's key need not be an integer
 * (a platform transcript keyed by uuid DEFAULT gen_random_uuid()), and
 * credit_id / credential_id stay bigint (NULL for such a key).  A result
 * type cannot change in place: each loader is dropped and created again
 * with the same arguments, defaults and settings, bound to the C entry
 * point of the 1.5 API, keeping its owner, comment and every EXECUTE grant
 * (PUBLIC, WITH GRANT OPTION and the grantor included: a grant made by a
 * holder of the grant option is made again by that role, unless the session
 * may not become it, when the owner makes it), as 1.2--1.3 and 1.3--1.4 did
 * (they kept grantee and grant option).  The users loaders do not change.
 */
DO $$
DECLARE
    saved pg_catalog.jsonb := '{}';
    sig pg_catalog.text;
    fn pg_catalog.oid;
BEGIN
    FOREACH sig IN ARRAY ARRAY[
        'credimport_load(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)',
        'credimport_load(regclass, text, boolean, boolean, integer, text, jsonb)',
        'credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)',
        'credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)',
        'credimport_load_credentials(text, text, boolean, boolean, integer, text, text, jsonb, text, integer)',
        'credimport_load_credentials(regclass, text, boolean, boolean, integer, jsonb)',
        'credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text, jsonb, text, integer)',
        'credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text, jsonb, text, integer)']
    LOOP
        fn := ('@extschema@.' OPERATOR(pg_catalog.||) sig)::pg_catalog.regprocedure::pg_catalog.oid;
        saved := saved OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(sig, pg_catalog.jsonb_build_object(
            'owner', (SELECT p.proowner::pg_catalog.text FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) fn),
            'comment', pg_catalog.obj_description(fn, 'pg_proc'),
            'grants', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(
                                  a.grantee::pg_catalog.text, a.is_grantable, a.grantor::pg_catalog.text)
                                  ORDER BY a.ord), '[]')
                         FROM pg_catalog.pg_proc p
                        CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(
                              p.proacl, pg_catalog.acldefault('f', p.proowner))) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, ord)
                        WHERE p.oid OPERATOR(pg_catalog.=) fn
                          AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
                          AND a.grantee OPERATOR(pg_catalog.<>) p.proowner)));
    END LOOP;
    PERFORM pg_catalog.set_config('credimport_upgrade.key_loaders', saved::pg_catalog.text, true);
END
$$;

DROP FUNCTION @extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer);
DROP FUNCTION @extschema@.credimport_load(regclass, text, boolean, boolean, integer, text, jsonb);
DROP FUNCTION @extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer);
DROP FUNCTION @extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text, jsonb, text, integer);
DROP FUNCTION @extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text, jsonb, text, integer);
DROP FUNCTION @extschema@.credimport_load_credentials(regclass, text, boolean, boolean, integer, jsonb);
DROP FUNCTION @extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text, jsonb, text, integer);
DROP FUNCTION @extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text, jsonb, text, integer);

CREATE FUNCTION @extschema@.credimport_load(
    path text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[], credit_key text)
AS 'MODULE_PATHNAME', 'credimport_load_file_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load(
    staging regclass,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    columns jsonb DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[], credit_key text)
AS 'MODULE_PATHNAME', 'credimport_load_table_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

REVOKE ALL ON FUNCTION @extschema@.credimport_load(regclass, text, boolean, boolean, integer, text, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_data(
    content text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[], credit_key text)
AS 'MODULE_PATHNAME', 'credimport_load_data_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_data(
    content bytea,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[], credit_key text)
AS 'MODULE_PATHNAME', 'credimport_load_bytes_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_credentials(
    path text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[], credential_key text)
AS 'MODULE_PATHNAME', 'credimport_load_credentials_file_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_credentials(
    staging regclass,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    columns jsonb DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[], credential_key text)
AS 'MODULE_PATHNAME', 'credimport_load_credentials_table_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials(regclass, text, boolean, boolean, integer, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_credentials_data(
    content text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[], credential_key text)
AS 'MODULE_PATHNAME', 'credimport_load_credentials_data_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_credentials_data(
    content bytea,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[], credential_key text)
AS 'MODULE_PATHNAME', 'credimport_load_credentials_bytes_1_5'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;

-- the owner, comment and grants of each old loader carry over to the new one
DO $$
DECLARE
    loader record;
    g pg_catalog.jsonb;
    fn pg_catalog.regprocedure;
    grantor pg_catalog.oid;
    as_grantor boolean;
    prev_role pg_catalog.text;
BEGIN
    FOR loader IN SELECT * FROM pg_catalog.jsonb_each(
        pg_catalog.current_setting('credimport_upgrade.key_loaders')::pg_catalog.jsonb)
    LOOP
        fn := ('@extschema@.' OPERATOR(pg_catalog.||) loader.key)::pg_catalog.regprocedure;
        IF (SELECT p.proowner FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) fn)
           OPERATOR(pg_catalog.<>) (loader.value OPERATOR(pg_catalog.->>) 'owner')::pg_catalog.oid THEN
            EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO %I', fn,
                pg_catalog.pg_get_userbyid((loader.value OPERATOR(pg_catalog.->>) 'owner')::pg_catalog.oid));
        END IF;
        IF (loader.value OPERATOR(pg_catalog.->>) 'comment') IS NOT NULL THEN
            EXECUTE pg_catalog.format('COMMENT ON FUNCTION %s IS %L', fn,
                loader.value OPERATOR(pg_catalog.->>) 'comment');
        END IF;
        -- in the ACL's order, so that a grant made by a holder of the grant
        -- option follows the grant it depends on; it is made again by that
        -- holder (SET ROLE), when the session may become it
        FOR g IN SELECT * FROM pg_catalog.jsonb_array_elements(loader.value OPERATOR(pg_catalog.->) 'grants')
        LOOP
            grantor := (g OPERATOR(pg_catalog.->>) 2)::pg_catalog.oid;
            as_grantor := grantor OPERATOR(pg_catalog.<>) (loader.value OPERATOR(pg_catalog.->>) 'owner')::pg_catalog.oid
                AND pg_catalog.pg_has_role(SESSION_USER, grantor, 'MEMBER');
            IF as_grantor THEN
                prev_role := pg_catalog.current_setting('role');
                PERFORM pg_catalog.set_config('role', pg_catalog.pg_get_userbyid(grantor), true);
            END IF;
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', fn,
                CASE WHEN (g OPERATOR(pg_catalog.->>) 0)::pg_catalog.oid OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                     ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid((g OPERATOR(pg_catalog.->>) 0)::pg_catalog.oid)) END,
                CASE WHEN (g OPERATOR(pg_catalog.->>) 1)::pg_catalog.bool THEN ' WITH GRANT OPTION' ELSE '' END);
            IF as_grantor THEN
                PERFORM pg_catalog.set_config('role', prev_role, true);
            END IF;
        END LOOP;
    END LOOP;
END
$$;
