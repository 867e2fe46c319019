/* credimport--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.4'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- section: entry points (one C symbol per SQL API version)
-- ---------------------------------------------------------------------------

/*
 * Each loader is bound to the C entry point of its own SQL API version
 * (as pg_stat_statements_1_2 ... _1_10): credimport_load_file served both
 * credimport_validate (2 arguments) and credimport_load (6, then 8) and told
 * them apart by counting arguments.  CREATE OR REPLACE keeps each function's
 * oid, so its EXECUTE grants, owner, comment and dependants stay; signature,
 * argument names, defaults and settings are restated exactly as before.  The
 * old symbols stay in the module for databases not yet updated.
 */

-- credits
CREATE OR REPLACE FUNCTION @extschema@.credimport_validate(path text, match_mode text)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_file'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_validate(staging regclass, match_mode text)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_table'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD';

CREATE OR REPLACE FUNCTION @extschema@.credimport_load(
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
AS 'MODULE_PATHNAME', 'credimport_load_file_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load(
    staging regclass,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error')
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_table_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_data(
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
AS 'MODULE_PATHNAME', 'credimport_load_data_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_data(
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
AS 'MODULE_PATHNAME', 'credimport_load_bytes_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- users
CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users(
    path text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_file_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users(
    staging regclass,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_table_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users_data(
    content text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_data_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users_data(
    content bytea,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_bytes_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- credentials
CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials(
    path text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_file_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials(
    staging regclass,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_table_1_2'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials_data(
    content text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_data_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials_data(
    content bytea,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_bytes_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------
-- section: limits and problems
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: workbooks
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: results file and least privilege
-- ---------------------------------------------------------------------------

/*
 * The results file.  A report is opened by someone other than the sender of
 * the data: no cell may become a formula.  CSV follows OWASP's advice on
 * CSV injection: every field is quoted (a spreadsheet that splits on ; or
 * TAB -- Excel in many locales, LibreOffice by default -- does not split
 * inside quotes), and a cell that starts with = + - @ TAB or CR is
 * prefixed with a single quote, so spreadsheets show it as text.  A NULL
 * field is empty and unquoted.  That
 * changes the value (the quote stays when the CSV is loaded again); the
 * workbook report (format => 'xlsx') writes every cell as a text cell and
 * round-trips exactly.
 */
CREATE OR REPLACE FUNCTION credimport.csv_line(fields text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.string_agg(
            CASE WHEN f IS NULL THEN ''
                 WHEN f OPERATOR(pg_catalog.~) E'^[-=+@\t\r]'
                 THEN '"''' OPERATOR(pg_catalog.||) pg_catalog.replace(f, '"', '""') OPERATOR(pg_catalog.||) '"'
                 ELSE '"' OPERATOR(pg_catalog.||) pg_catalog.replace(f, '"', '""') OPERATOR(pg_catalog.||) '"'
                 END, ',' ORDER BY n) OPERATOR(pg_catalog.||) E'\n'
          FROM pg_catalog.unnest(fields) WITH ORDINALITY AS u(f, n));

-- the report's rows: the header (line_no 0, with an errors column), then
-- each invalid record as it was followed by its problems.  A batch the
-- caller may not see (row-level security below) does not exist for it.
CREATE FUNCTION credimport.error_report_rows(batch_id bigint)
RETURNS TABLE (line_no bigint, fields text[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    b credimport.batch;
    width integer;
BEGIN
    SELECT * INTO b FROM credimport.batch WHERE id = error_report_rows.batch_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'credimport batch % does not exist', error_report_rows.batch_id
            USING ERRCODE = '22023';
    END IF;
    width := coalesce(array_length(b.header, 1), 0);
    RETURN QUERY
        SELECT 0::bigint, b.header || 'errors'::text
        UNION ALL
        SELECT r.line_no,
               -- the record as it was (NULL: too long to keep), then its problems
               coalesce(r.fields, array_fill(''::text, ARRAY[width]))
               || (SELECT string_agg(e.field || ': ' || e.message, '; ' ORDER BY e.field, e.code)
                     FROM credimport.batch_error e
                    WHERE e.batch_id = r.batch_id AND e.line_no = r.line_no)
          FROM credimport.batch_record r
         WHERE r.batch_id = b.id;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.credimport_error_report(batch_id bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.string_agg(credimport.csv_line(r.fields), '' ORDER BY r.line_no)
      FROM credimport.error_report_rows($1) r;
$$;
COMMENT ON FUNCTION @extschema@.credimport_error_report(bigint) IS
    'CSV text of a batch''s invalid records as they were, with an errors column (cells that a spreadsheet would read as a formula get a leading single quote)';
REVOKE ALL ON FUNCTION @extschema@.credimport_error_report(bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_error_report(batch_id bigint, format text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'credimport_error_report_file'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_error_report(bigint, text) IS
    'the error report as a file: format xlsx (a workbook of text cells, which loads back exactly) or csv (UTF-8 bytes of the CSV report)';
REVOKE ALL ON FUNCTION @extschema@.credimport_error_report(bigint, text) FROM PUBLIC;

-- whether the calling procedure may COMMIT (CALL outside a transaction block)
CREATE FUNCTION credimport.procedure_may_commit()
RETURNS boolean
AS 'MODULE_PATHNAME', 'credimport_procedure_may_commit'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

/*
 * A rejected batch raises an ERROR, which rolls the batch back.  Called
 * outside a transaction block, the procedure first commits the batch and
 * its problems so that the report it points at exists; inside one, the
 * message names no batch.
 */
CREATE OR REPLACE PROCEDURE @extschema@.credimport_import(
    source text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    INOUT batch_id bigint DEFAULT NULL,
    INOUT imported integer DEFAULT NULL,
    INOUT invalid integer DEFAULT NULL)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    rel pg_catalog.regclass;
    b credimport.batch;
    problems pg_catalog.text;
    listed pg_catalog.text;
    may_commit boolean;
BEGIN
    IF source IS NULL OR match_mode IS NULL THEN
        RAISE EXCEPTION 'source and match_mode must not be null' USING ERRCODE = '22004';
    END IF;
    may_commit := credimport.procedure_may_commit();
    IF NOT may_commit THEN
        -- a rejected batch will roll back: the load's NOTICE must not name it
        PERFORM pg_catalog.set_config('credimport_import.rolls_back', 'on', true);
    END IF;
    IF pg_catalog.left(source, 1) OPERATOR(pg_catalog.=) '/' THEN
        PERFORM pg_catalog.count(*) FROM @extschema@.credimport_load(source, match_mode, allow_edit);
    ELSE
        rel := pg_catalog.to_regclass(source);
        IF rel IS NULL THEN
            RAISE EXCEPTION 'source "%" is neither an absolute path nor a table', source
                USING ERRCODE = '22023',
                      HINT = 'Give the absolute path of a server file, or the name of a staging table.';
        END IF;
        PERFORM pg_catalog.count(*) FROM @extschema@.credimport_load(rel, match_mode, allow_edit);
    END IF;
    IF NOT may_commit THEN
        PERFORM pg_catalog.set_config('credimport_import.rolls_back', '', true);
    END IF;
    SELECT * INTO b FROM credimport.batch
     WHERE id OPERATOR(pg_catalog.=) @extschema@.credimport_last_batch_id();
    batch_id := b.id;
    imported := b.imported;
    invalid := b.invalid;
    IF b.status OPERATOR(pg_catalog.=) 'rejected' THEN
        SELECT pg_catalog.string_agg(pg_catalog.format('line %s, %s: %s', e.line_no, e.field, e.message),
                                     E'\n' ORDER BY e.line_no, e.field, e.code)
          INTO problems
          FROM (SELECT * FROM credimport.batch_error e
                 WHERE e.batch_id OPERATOR(pg_catalog.=) b.id
                 ORDER BY e.line_no, e.field, e.code LIMIT 10) e;
        listed := CASE WHEN b.invalid OPERATOR(pg_catalog.>) 10
                       THEN 'The first ten problems' ELSE 'The problems' END;
        IF may_commit THEN
            -- keep the rejected batch and its problems: the report exists
            COMMIT;
            RAISE EXCEPTION 'credimport batch % rejected: % of % records are invalid', b.id, b.invalid, b.records
                USING ERRCODE = '22P04',
                      DETAIL = pg_catalog.format(E'Batch %s was kept with its problems. %s:\n%s', b.id, listed, problems),
                      HINT = pg_catalog.format('See credimport.batch_error for batch %s (or credimport_error_report(%s)), fix the records and run the step again, or allow some invalid records with credimport_load(..., max_errors => n).', b.id, b.id);
        END IF;
        RAISE EXCEPTION 'credimport import rejected: % of % records are invalid', b.invalid, b.records
            USING ERRCODE = '22P04',
                  DETAIL = pg_catalog.format(E'Nothing was kept: the error rolls back the batch with the transaction. %s:\n%s', listed, problems),
                  HINT = 'Fix the records and run the step again, or allow some invalid records with credimport_load(..., max_errors => n). Called outside a transaction block, the procedure keeps the rejected batch and its problems.';
    END IF;
END
$$;

/*
 * Least privilege.
 *
 * A loader needs to read the directories (learners, credit and credential
 * types, transcripts), write what its loads write, and read its own
 * batches, problems and invalid records -- not other roles'.  Row-level
 * security on batch, batch_error and batch_record keeps every role to the
 * batches it imported (batch.imported_by), except members of
 * credimport_admin (and superusers and the tables' owner, whom row-level
 * security does not restrict).  Invitation tokens are for the
 * administrator (the mail sender) only.  Credentials are approved only by
 * roles with the approval right, EXECUTE on credimport_approve: a load
 * with approve => true checks it, and row-level security on credential
 * refuses an approved row written by anyone else.
 */
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'credimport_admin') THEN
        CREATE ROLE credimport_admin NOLOGIN;
        COMMENT ON ROLE credimport_admin IS 'credimport: may read, report, revert and approve every batch, and send invitations';
    END IF;
END
$$;

ALTER TABLE credimport.batch ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_own ON credimport.batch
    USING (imported_by OPERATOR(pg_catalog.=) CURRENT_USER
           OR (SELECT pg_catalog.pg_has_role('credimport_admin', 'USAGE')))
    WITH CHECK (imported_by OPERATOR(pg_catalog.=) CURRENT_USER
           OR (SELECT pg_catalog.pg_has_role('credimport_admin', 'USAGE')));

-- problems and invalid records follow their batch (its policy applies in
-- the subquery)
ALTER TABLE credimport.batch_error ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_error_own ON credimport.batch_error
    USING (EXISTS (SELECT FROM credimport.batch b WHERE b.id OPERATOR(pg_catalog.=) batch_error.batch_id));
ALTER TABLE credimport.batch_record ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_record_own ON credimport.batch_record
    USING (EXISTS (SELECT FROM credimport.batch b WHERE b.id OPERATOR(pg_catalog.=) batch_record.batch_id));

-- a loader writes invitations for its batches and reads none
ALTER TABLE credimport.invitation ENABLE ROW LEVEL SECURITY;
CREATE POLICY invitation_admin ON credimport.invitation
    USING ((SELECT pg_catalog.pg_has_role('credimport_admin', 'USAGE')));
CREATE POLICY invitation_insert ON credimport.invitation FOR INSERT
    WITH CHECK (EXISTS (SELECT FROM credimport.batch b WHERE b.id OPERATOR(pg_catalog.=) invitation.batch_id));

-- an approved credential is written only with the approval right
ALTER TABLE credimport.credential ENABLE ROW LEVEL SECURITY;
CREATE POLICY credential_read ON credimport.credential FOR SELECT USING (true);
CREATE POLICY credential_delete ON credimport.credential FOR DELETE USING (true);
CREATE POLICY credential_insert ON credimport.credential FOR INSERT
    WITH CHECK (status OPERATOR(pg_catalog.=) 'pending'
                OR (SELECT pg_catalog.has_function_privilege('@extschema@.credimport_approve(bigint)', 'EXECUTE')));
CREATE POLICY credential_update ON credimport.credential FOR UPDATE USING (true)
    WITH CHECK (status OPERATOR(pg_catalog.=) 'pending'
                OR (SELECT pg_catalog.has_function_privilege('@extschema@.credimport_approve(bigint)', 'EXECUTE')));

/*
 * Revert and approve act on a batch the caller may act on -- its own, or
 * any for credimport_admin -- and refuse any other as if it did not exist.
 * They then write as the tables' owner, so that a loader needs no DELETE
 * on credits nor an approver UPDATE on credentials.
 */
CREATE OR REPLACE FUNCTION @extschema@.credimport_revert(batch_id bigint)
RETURNS TABLE (credits_removed integer, learners_removed integer)
AS 'MODULE_PATHNAME', 'credimport_revert_1_4'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_approve(batch_id bigint)
RETURNS integer
AS 'MODULE_PATHNAME', 'credimport_approve_1_4'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- the routines a loader may execute: every signature of these names (so
-- that a later version's new arguments need no change here)
CREATE FUNCTION credimport.loader_routines()
RETURNS SETOF regprocedure
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.oid::pg_catalog.regprocedure
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_depend d ON d.objid OPERATOR(pg_catalog.=) p.oid
       AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND d.deptype OPERATOR(pg_catalog.=) 'e'
      JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
       AND e.extname OPERATOR(pg_catalog.=) 'credimport'
     WHERE p.proname OPERATOR(pg_catalog.=) ANY (ARRAY[
             'credimport_load', 'credimport_load_data', 'credimport_validate',
             'credimport_load_users', 'credimport_load_users_data',
             'credimport_load_credentials', 'credimport_load_credentials_data',
             'credimport_import', 'credimport_error_report', 'credimport_revert'])
     ORDER BY 1;
$$;

-- the least a loading role needs, in one call (and its undoing)
CREATE FUNCTION @extschema@.credimport_grant_loader(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r text := role::text;   -- regrole's output is a quoted identifier
    fn regprocedure;
    cols text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA credimport TO %s', r);
    -- to match and check
    EXECUTE format('GRANT SELECT ON credimport.credit_type, credimport.credential_type, '
                   'credimport.profile_field TO %s', r);
    -- what loads write (learners are updated by the users loader, only in
    -- the columns it updates -- never id, created_by_batch or created_at,
    -- which credimport_revert relies on; credentials by the credentials
    -- loader's update and delete actions).  A table-wide UPDATE granted
    -- before is taken back first.
    EXECUTE format('REVOKE UPDATE ON credimport.learner FROM %s', r);
    EXECUTE format('GRANT SELECT, INSERT ON credimport.learner TO %s', r);
    EXECUTE format('GRANT UPDATE (first_name, last_name, remote_id, username, role, profile) '
                   'ON credimport.learner TO %s', r);
    EXECUTE format('GRANT SELECT, INSERT ON credimport.credit TO %s', r);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON credimport.credential TO %s', r);
    EXECUTE format('GRANT INSERT ON credimport.learner_link, credimport.invitation TO %s', r);
    -- (no sequence privilege: a load, like an INSERT, needs none)
    -- its batches (row-level security: its own), and of a batch's row only
    -- what a load fills in after the insert -- never who, what, or status
    EXECUTE format('GRANT SELECT, INSERT ON credimport.batch, credimport.batch_error, '
                   'credimport.batch_record TO %s', r);
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_attribute a
     WHERE a.attrelid = 'credimport.batch'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname = ANY (ARRAY['imported', 'learners_created', 'learners_updated',
                                  'learners_unchanged', 'finished_at']);  -- an allow list: a
                                  -- column added later is not granted by accident
    EXECUTE format('GRANT UPDATE (%s) ON credimport.batch TO %s', cols, r);
    FOR fn IN SELECT * FROM credimport.loader_routines() LOOP
        EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO %s', fn, r);
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.credimport_grant_loader(regrole) IS
    'grant a role what loading needs: the loaders, its own batches'' reports and reverts; not the approval right, nor server files';
REVOKE ALL ON FUNCTION @extschema@.credimport_grant_loader(regrole) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_revoke_loader(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r text := role::text;
    fn regprocedure;
BEGIN
    FOR fn IN SELECT * FROM credimport.loader_routines() LOOP
        EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM %s', fn, r);
    END LOOP;
    EXECUTE format('REVOKE ALL ON SEQUENCE credimport.learner_id_seq, credimport.credit_id_seq, '
                   'credimport.credential_id_seq FROM %s', r);
    EXECUTE format('REVOKE ALL ON credimport.credit_type, credimport.credential_type, credimport.profile_field, '
                   'credimport.learner, credimport.credit, credimport.credential, credimport.learner_link, '
                   'credimport.invitation, credimport.batch, credimport.batch_error, credimport.batch_record '
                   'FROM %s', r);
    EXECUTE format('REVOKE USAGE ON SCHEMA credimport FROM %s', r);
END
$$;
COMMENT ON FUNCTION @extschema@.credimport_revoke_loader(regrole) IS
    'revoke what credimport_grant_loader granted: every privilege on the credimport tables and sequences, and EXECUTE on the loaders, reports and revert';
REVOKE ALL ON FUNCTION @extschema@.credimport_revoke_loader(regrole) FROM PUBLIC;

-- the approval right: credimport_approve on the batches the role may act
-- on, and approve => true in the credentials loaders
CREATE FUNCTION @extschema@.credimport_grant_approver(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA credimport TO %s', role::text);
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.credimport_approve(bigint) TO %s', role::text);
END
$$;
COMMENT ON FUNCTION @extschema@.credimport_grant_approver(regrole) IS
    'grant a role the approval right of credentials (credimport_approve, and approve => true when loading)';
REVOKE ALL ON FUNCTION @extschema@.credimport_grant_approver(regrole) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_revoke_approver(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('REVOKE EXECUTE ON FUNCTION @extschema@.credimport_approve(bigint) FROM %s', role::text);
END
$$;
COMMENT ON FUNCTION @extschema@.credimport_revoke_approver(regrole) IS
    'revoke the approval right granted by credimport_grant_approver';
REVOKE ALL ON FUNCTION @extschema@.credimport_revoke_approver(regrole) FROM PUBLIC;

-- the administrator role: a loader and approver of every batch, who may
-- read every table and send the invitations
SELECT @extschema@.credimport_grant_loader('credimport_admin');
SELECT @extschema@.credimport_grant_approver('credimport_admin');
GRANT SELECT ON ALL TABLES IN SCHEMA credimport TO credimport_admin;
GRANT UPDATE (sent_at) ON credimport.invitation TO credimport_admin;
GRANT EXECUTE ON FUNCTION @extschema@.credimport_invitation_sent(text) TO credimport_admin;

-- ---------------------------------------------------------------------------
-- section: files as people export them
-- ---------------------------------------------------------------------------

/*
 * Header aliases: a header, normalised as credimport normalises headers
 * ("E-mail Address" is e_mail_address), read as one of credimport's fields,
 * for every kind (kind NULL) or for one.  A header that is itself a field
 * of the kind is never read through an alias, and an alias applies only
 * where the kind has its field.  field NULL turns an alias off.
 *
 * The shipped rows have shipped = true; pg_dump dumps the others (the
 * administrator's rows, and shipped rows the administrator changed, which
 * the update trigger marks as theirs).  On restore CREATE EXTENSION has
 * just inserted the shipped rows again: the insert trigger turns the
 * restored copy of a shipped row into an update, as for profile_field.
 */
CREATE TABLE credimport.header_alias (
    alias   text NOT NULL CHECK (alias OPERATOR(pg_catalog.<>) ''),
    field   text,
    kind    text CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['credits', 'users', 'credentials'])),
    shipped boolean NOT NULL DEFAULT false,
    CONSTRAINT header_alias_alias_kind_key UNIQUE NULLS NOT DISTINCT (alias, kind)
);

CREATE FUNCTION credimport.header_alias_upsert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old_shipped boolean;
BEGIN
    SELECT shipped INTO old_shipped FROM credimport.header_alias
     WHERE alias = NEW.alias AND kind IS NOT DISTINCT FROM NEW.kind;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    -- a shipped row never replaces the administrator's
    IF NOT (NEW.shipped AND NOT old_shipped) THEN
        UPDATE credimport.header_alias SET field = NEW.field, shipped = NEW.shipped
         WHERE alias = NEW.alias AND kind IS NOT DISTINCT FROM NEW.kind;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER header_alias_upsert BEFORE INSERT ON credimport.header_alias
    FOR EACH ROW EXECUTE FUNCTION credimport.header_alias_upsert();

-- a changed shipped row is the administrator's: pg_dump dumps it
CREATE FUNCTION credimport.header_alias_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (NEW.alias, NEW.field, NEW.kind) IS DISTINCT FROM (OLD.alias, OLD.field, OLD.kind) THEN
        NEW.shipped := false;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER header_alias_changed BEFORE UPDATE ON credimport.header_alias
    FOR EACH ROW EXECUTE FUNCTION credimport.header_alias_changed();

INSERT INTO credimport.header_alias (alias, field, shipped) VALUES
    ('e_mail', 'email', true), ('e_mail_address', 'email', true),
    ('email_address', 'email', true), ('mail', 'email', true),
    ('firstname', 'first_name', true), ('first', 'first_name', true),
    ('given_name', 'first_name', true),
    ('lastname', 'last_name', true), ('last', 'last_name', true),
    ('surname', 'last_name', true), ('family_name', 'last_name', true),
    ('credits', 'number_credits', true), ('credits_earned', 'number_credits', true),
    ('credit_hours', 'number_credits', true), ('hours', 'number_credits', true),
    ('course_code', 'course_id', true), ('course_number', 'course_id', true),
    ('course_name', 'course_title', true),
    ('date_completed', 'completion_date', true), ('completed_on', 'completion_date', true),
    ('date_of_completion', 'completion_date', true),
    ('credit_category', 'credit_type', true);

SELECT pg_catalog.pg_extension_config_dump('credimport.header_alias', 'WHERE NOT shipped');

-- every loader reads the aliases with the caller's rights; they are not secret
GRANT SELECT ON credimport.header_alias TO PUBLIC;

/*
 * Every loader and validator takes the per-call arguments of files as
 * people export them: columns (the file's headers mapped to fields),
 * encoding (file and content doors) and header_row (not for staging
 * tables); credimport_validate takes the loaders' arguments and has content
 * forms, credimport_validate_data.  Arguments cannot change in place: the
 * old functions are dropped and the new ones created, each bound to the C
 * entry point of the 1.4 API -- keeping the EXECUTE grants (WITH GRANT
 * OPTION included) and comments of the old ones, as 1.2--1.3 did; the
 * grants on credimport_validate(text, text) carry over to the content forms.
 */
DO $$
DECLARE
    saved pg_catalog.jsonb := '[]';
    comments pg_catalog.jsonb := '{}';
    r record;
BEGIN
    FOR r IN
        SELECT p.oid::pg_catalog.regprocedure::pg_catalog.text AS sig, a.grantee, a.is_grantable
          FROM pg_catalog.pg_proc p
         CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
                 '@extschema@.credimport_validate(text, text)',
                 '@extschema@.credimport_validate(regclass, text)',
                 '@extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text)',
                 '@extschema@.credimport_load(regclass, text, boolean, boolean, integer, text)',
                 '@extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text)',
                 '@extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text)',
                 '@extschema@.credimport_load_users(text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_users(regclass, boolean, boolean, integer)',
                 '@extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_credentials(regclass, text, boolean, boolean, integer)',
                 '@extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text)'
               ]::pg_catalog.regprocedure[]::pg_catalog.oid[])
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        saved := saved OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_array(
                     r.sig, r.grantee::pg_catalog.text, r.is_grantable));
    END LOOP;
    FOR r IN
        SELECT p.oid::pg_catalog.regprocedure::pg_catalog.text AS sig,
               pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
          FROM pg_catalog.pg_proc p
         WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
                 '@extschema@.credimport_validate(text, text)',
                 '@extschema@.credimport_validate(regclass, text)',
                 '@extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text)',
                 '@extschema@.credimport_load(regclass, text, boolean, boolean, integer, text)',
                 '@extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text)',
                 '@extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text)',
                 '@extschema@.credimport_load_users(text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_users(regclass, boolean, boolean, integer)',
                 '@extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_credentials(regclass, text, boolean, boolean, integer)',
                 '@extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text)',
                 '@extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text)'
               ]::pg_catalog.regprocedure[]::pg_catalog.oid[])
           AND pg_catalog.obj_description(p.oid, 'pg_proc') IS NOT NULL
    LOOP
        comments := comments OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(r.sig, r.comment);
    END LOOP;
    PERFORM pg_catalog.set_config('credimport_upgrade.files_grants', saved::pg_catalog.text, true);
    PERFORM pg_catalog.set_config('credimport_upgrade.files_comments', comments::pg_catalog.text, true);
END
$$;

DROP FUNCTION @extschema@.credimport_validate(text, text);
DROP FUNCTION @extschema@.credimport_validate(regclass, text);
DROP FUNCTION @extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text);
DROP FUNCTION @extschema@.credimport_load(regclass, text, boolean, boolean, integer, text);
DROP FUNCTION @extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text);
DROP FUNCTION @extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text);
DROP FUNCTION @extschema@.credimport_load_users(text, boolean, boolean, integer, text, text);
DROP FUNCTION @extschema@.credimport_load_users(regclass, boolean, boolean, integer);
DROP FUNCTION @extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text);
DROP FUNCTION @extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text);
DROP FUNCTION @extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text);
DROP FUNCTION @extschema@.credimport_load_credentials(regclass, text, boolean, boolean, integer);
DROP FUNCTION @extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text);
DROP FUNCTION @extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text);

CREATE FUNCTION @extschema@.credimport_validate(
    path text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_file_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_validate(text, text, boolean, text, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_validate(
    staging regclass,
    match_mode text,
    allow_edit boolean DEFAULT false,
    if_exists text DEFAULT 'error',
    columns jsonb DEFAULT NULL)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_table_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD';

REVOKE ALL ON FUNCTION @extschema@.credimport_validate(regclass, text, boolean, text, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_validate_data(
    content text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_data_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_validate_data(text, text, boolean, text, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_validate_data(
    content bytea,
    match_mode text,
    allow_edit boolean DEFAULT false,
    if_exists text DEFAULT 'error',
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_validate_data(bytea, text, boolean, text, text, text, jsonb, text, integer) FROM PUBLIC;

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
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_file_1_4'
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
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_table_1_4'
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
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_data_1_4'
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
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_users(
    path text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_file_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_users(text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_users(
    staging regclass,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    columns jsonb DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_table_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_users(regclass, boolean, boolean, integer, jsonb) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_users_data(
    content text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_data_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_users_data(
    content bytea,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;

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
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_file_1_4'
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
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_table_1_4'
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
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_data_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_load_credentials_data(
    content bytea,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION @extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text, jsonb, text, integer) FROM PUBLIC;


COMMENT ON FUNCTION @extschema@.credimport_validate_data(text, text, boolean, text, text, text, jsonb, text, integer) IS
    'the problems of credit file content sent by the client (CSV text), one row each; writes nothing';
COMMENT ON FUNCTION @extschema@.credimport_validate_data(bytea, text, boolean, text, text, text, jsonb, text, integer) IS
    'the problems of a credit file sent by the client (a workbook, or CSV with format), one row each; writes nothing';

-- the grants and comments of the old functions carry over to the new ones
DO $$
DECLARE
    entry pg_catalog.jsonb;
    m record;
BEGIN
    FOR m IN
        SELECT old_sig::pg_catalog.text AS old_sig, new_sig::pg_catalog.regprocedure AS new_sig, primary_target
          FROM (VALUES
                ('credimport_validate(text, text)', '@extschema@.credimport_validate(text, text, boolean, text, text, text, jsonb, text, integer)', true),
                ('credimport_validate(text, text)', '@extschema@.credimport_validate_data(text, text, boolean, text, text, text, jsonb, text, integer)', false),
                ('credimport_validate(text, text)', '@extschema@.credimport_validate_data(bytea, text, boolean, text, text, text, jsonb, text, integer)', false),
                ('credimport_validate(regclass, text)', '@extschema@.credimport_validate(regclass, text, boolean, text, jsonb)', true),
                ('credimport_load(text, text, boolean, boolean, integer, text, text, text)', '@extschema@.credimport_load(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)', true),
                ('credimport_load(regclass, text, boolean, boolean, integer, text)', '@extschema@.credimport_load(regclass, text, boolean, boolean, integer, text, jsonb)', true),
                ('credimport_load_data(text, text, boolean, boolean, integer, text, text, text)', '@extschema@.credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)', true),
                ('credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text)', '@extschema@.credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)', true),
                ('credimport_load_users(text, boolean, boolean, integer, text, text)', '@extschema@.credimport_load_users(text, boolean, boolean, integer, text, text, jsonb, text, integer)', true),
                ('credimport_load_users(regclass, boolean, boolean, integer)', '@extschema@.credimport_load_users(regclass, boolean, boolean, integer, jsonb)', true),
                ('credimport_load_users_data(text, boolean, boolean, integer, text, text)', '@extschema@.credimport_load_users_data(text, boolean, boolean, integer, text, text, jsonb, text, integer)', true),
                ('credimport_load_users_data(bytea, boolean, boolean, integer, text, text)', '@extschema@.credimport_load_users_data(bytea, boolean, boolean, integer, text, text, jsonb, text, integer)', true),
                ('credimport_load_credentials(text, text, boolean, boolean, integer, text, text)', '@extschema@.credimport_load_credentials(text, text, boolean, boolean, integer, text, text, jsonb, text, integer)', true),
                ('credimport_load_credentials(regclass, text, boolean, boolean, integer)', '@extschema@.credimport_load_credentials(regclass, text, boolean, boolean, integer, jsonb)', true),
                ('credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text)', '@extschema@.credimport_load_credentials_data(text, text, boolean, boolean, integer, text, text, jsonb, text, integer)', true),
                ('credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text)', '@extschema@.credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text, jsonb, text, integer)', true)
               ) AS v(old_sig, new_sig, primary_target)
    LOOP
        FOR entry IN SELECT * FROM pg_catalog.jsonb_array_elements(
            pg_catalog.current_setting('credimport_upgrade.files_grants')::pg_catalog.jsonb)
        LOOP
            IF pg_catalog.replace(entry OPERATOR(pg_catalog.->>) 0, ' ', '') OPERATOR(pg_catalog.=)
               pg_catalog.replace(pg_catalog.regexp_replace(m.old_sig, '^.*\.', ''), ' ', '') THEN
                EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I%s', m.new_sig,
                    pg_catalog.pg_get_userbyid((entry OPERATOR(pg_catalog.->>) 1)::pg_catalog.oid),
                    CASE WHEN (entry OPERATOR(pg_catalog.->>) 2)::pg_catalog.bool THEN ' WITH GRANT OPTION' ELSE '' END);
            END IF;
        END LOOP;
        IF m.primary_target THEN
            FOR entry IN SELECT pg_catalog.to_jsonb(c) FROM pg_catalog.jsonb_each_text(
                pg_catalog.current_setting('credimport_upgrade.files_comments')::pg_catalog.jsonb) c
            LOOP
                IF pg_catalog.replace(pg_catalog.regexp_replace(entry OPERATOR(pg_catalog.->>) 'key', '^.*\.', ''), ' ', '')
                   OPERATOR(pg_catalog.=) pg_catalog.replace(pg_catalog.regexp_replace(m.old_sig, '^.*\.', ''), ' ', '') THEN
                    EXECUTE pg_catalog.format('COMMENT ON FUNCTION %s IS %L', m.new_sig, entry OPERATOR(pg_catalog.->>) 'value');
                END IF;
            END LOOP;
        END IF;
    END LOOP;
END
$$;

-- credimport_grant_loader and credimport_revoke_loader cover the content
-- validators too
CREATE OR REPLACE FUNCTION credimport.loader_routines()
RETURNS SETOF regprocedure
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.oid::pg_catalog.regprocedure
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_depend d ON d.objid OPERATOR(pg_catalog.=) p.oid
       AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND d.deptype OPERATOR(pg_catalog.=) 'e'
      JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
       AND e.extname OPERATOR(pg_catalog.=) 'credimport'
     WHERE p.proname OPERATOR(pg_catalog.=) ANY (ARRAY[
             'credimport_load', 'credimport_load_data', 'credimport_validate', 'credimport_validate_data',
             'credimport_load_users', 'credimport_load_users_data',
             'credimport_load_credentials', 'credimport_load_credentials_data',
             'credimport_import', 'credimport_error_report', 'credimport_revert'])
     ORDER BY 1;
$$;

-- section: formats and sheets
-- the batch records the column mapping its load was given (columns => ...)
ALTER TABLE credimport.batch ADD COLUMN columns jsonb;
COMMENT ON COLUMN credimport.batch.columns IS
    'the columns argument of the load (the file''s headers mapped to fields); NULL when none was given';

-- content sent as bytea has no format by default: its bytes say (an .xlsx
-- or .xls workbook, XML), else it is CSV -- a .xls is no longer read as .xlsx
CREATE OR REPLACE FUNCTION @extschema@.credimport_validate_data(
    content bytea,
    match_mode text,
    allow_edit boolean DEFAULT false,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_data(
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
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users_data(
    content bytea,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL,
    columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL,
    header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials_data(
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
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_bytes_1_4'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
