/* credimport--1.5--1.6.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.6'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- section: tenants (mapping, caller's tenant, columns, keys, policies, grants)
-- ---------------------------------------------------------------------------

/*
 * A tenant is an organization: a name, and the role whose members load and
 * read for it.  A role's tenants follow from role membership -- what it
 * could SET ROLE to -- never from a setting a session can SET.  Tenancy is
 * on as soon as this table has a row: from then on every row credimport
 * writes carries its writer's tenant, and every table credimport reads,
 * writes and keeps shows a role the rows of its tenants only.
 */
CREATE TABLE credimport.tenant (
    tenant     text PRIMARY KEY
               CONSTRAINT tenant_name_check CHECK (tenant OPERATOR(pg_catalog.<>) ''),
    role       regrole NOT NULL CONSTRAINT tenant_role_key UNIQUE,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE credimport.tenant IS
    'tenants (organizations): a role belongs to the tenants whose role it is a member of';
SELECT pg_catalog.pg_extension_config_dump('credimport.tenant', '');
-- each role reads the rows of its own tenants
ALTER TABLE credimport.tenant ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_own ON credimport.tenant FOR SELECT
    USING (pg_catalog.pg_has_role(role, 'MEMBER'));
GRANT SELECT ON credimport.tenant TO PUBLIC;

-- the caller's tenant, for column defaults (NULL while tenancy is off;
-- an error for a role of no tenant or of several)
CREATE FUNCTION credimport.current_tenant()
RETURNS text
AS 'MODULE_PATHNAME', 'credimport_current_tenant'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION credimport.current_tenant() IS
    'the tenant of the current role (NULL while tenancy is off): the default of every tenant column';

-- the caller's tenants, for row-level security (NULL while tenancy is off)
CREATE FUNCTION credimport.caller_tenants()
RETURNS text[]
AS 'MODULE_PATHNAME', 'credimport_caller_tenants'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION credimport.caller_tenants() IS
    'the tenants of the current role (NULL while tenancy is off): for row-level security policies';

-- a tenant is created or dropped only while no load writes for it (nor,
-- for one created, for the database with tenancy off); the first enables
-- row-level security on the shipped tables; every backend drops its
-- cached mapping when the change commits
CREATE FUNCTION credimport.tenant_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'credimport_tenant_changed'
LANGUAGE C;
REVOKE ALL ON FUNCTION credimport.tenant_changed() FROM PUBLIC;
CREATE TRIGGER tenant_changed AFTER INSERT OR UPDATE OR DELETE ON credimport.tenant
    FOR EACH ROW EXECUTE FUNCTION credimport.tenant_changed();
CREATE TRIGGER tenant_truncated BEFORE TRUNCATE ON credimport.tenant
    FOR EACH STATEMENT EXECUTE FUNCTION credimport.tenant_changed();

/*
 * Every table of tenant data carries its tenant.  The column is added
 * without a default (existing rows stay NULL: no tenant) and then given the
 * caller's tenant as its default, so that the update rewrites nothing.
 */
ALTER TABLE credimport.learner ADD COLUMN tenant_id text;
ALTER TABLE credimport.credit_type ADD COLUMN tenant_id text;
ALTER TABLE credimport.credit ADD COLUMN tenant_id text;
ALTER TABLE credimport.credential_type ADD COLUMN tenant_id text;
ALTER TABLE credimport.credential ADD COLUMN tenant_id text;
ALTER TABLE credimport.learner_link ADD COLUMN tenant_id text;
ALTER TABLE credimport.invitation ADD COLUMN tenant_id text;
ALTER TABLE credimport.batch ADD COLUMN tenant_id text;
ALTER TABLE credimport.batch_error ADD COLUMN tenant_id text;
ALTER TABLE credimport.batch_record ADD COLUMN tenant_id text;
ALTER TABLE credimport.provenance ADD COLUMN tenant_id text;
-- a type without a tenant is shared by all tenants: no default there
ALTER TABLE credimport.learner ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.credit ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.credential ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.learner_link ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.invitation ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.batch ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.batch_error ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.batch_record ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
ALTER TABLE credimport.provenance ALTER COLUMN tenant_id SET DEFAULT credimport.current_tenant();
COMMENT ON COLUMN credimport.learner.tenant_id IS 'the tenant (organization) of the row; NULL: no tenant (before tenancy)';
COMMENT ON COLUMN credimport.credit_type.tenant_id IS 'the tenant whose type this is; NULL: shared by all tenants';
COMMENT ON COLUMN credimport.credential_type.tenant_id IS 'the tenant whose type this is; NULL: shared by all tenants';

/*
 * Every unique key of tenant data includes the tenant: an e-mail, a remote
 * id, a user name and a type code are unique per tenant, not per database.
 * (NULL, no tenant, counts as one tenant.)  The key comes first, so that
 * the lookups of a load (by e-mail, remote id ...) use the index.  Keys on
 * a learner (links) hold within its tenant already; ids are identities,
 * unique in the whole database.
 */
DROP INDEX credimport.learner_email_key;
CREATE UNIQUE INDEX learner_email_key ON credimport.learner
    (pg_catalog.lower(email), COALESCE(tenant_id, ''));
ALTER TABLE credimport.learner DROP CONSTRAINT learner_remote_id_key;
CREATE UNIQUE INDEX learner_remote_id_key ON credimport.learner
    (remote_id, COALESCE(tenant_id, ''));
DROP INDEX credimport.learner_username_key;
CREATE UNIQUE INDEX learner_username_key ON credimport.learner
    (pg_catalog.lower(username), COALESCE(tenant_id, ''));
DROP INDEX credimport.credit_type_code_key;
CREATE UNIQUE INDEX credit_type_code_key ON credimport.credit_type
    (pg_catalog.lower(code), COALESCE(tenant_id, ''));
DROP INDEX credimport.credential_type_code_key;
CREATE UNIQUE INDEX credential_type_code_key ON credimport.credential_type
    (pg_catalog.lower(code), COALESCE(tenant_id, ''));
-- the natural keys of credits and credentials (their other columns are
-- NOT NULL: NULLS NOT DISTINCT makes "no tenant" one tenant)
ALTER TABLE credimport.credit DROP CONSTRAINT credit_natural_key;
ALTER TABLE credimport.credit ADD CONSTRAINT credit_natural_key
    UNIQUE NULLS NOT DISTINCT (learner_id, course_id, credit_type_id, completion_date, tenant_id);
ALTER TABLE credimport.credential DROP CONSTRAINT credential_natural_key;
ALTER TABLE credimport.credential ADD CONSTRAINT credential_natural_key
    UNIQUE NULLS NOT DISTINCT (learner_id, credential_type_id, license_number, tenant_id);
CREATE INDEX batch_tenant_idx ON credimport.batch (tenant_id, id);

/*
 * Row-level security on every table of tenant data: one RESTRICTIVE policy
 * per table keeps every role that row-level security restricts (not a
 * superuser, not the tables' owner) to the rows of its tenants, for
 * reading and for writing.  Types without a tenant are shared.
 * caller_tenants() runs once per statement (an initplan), so the policy
 * costs one comparison per row.
 *
 * The tables that had no row-level security (learner, credit, the types,
 * learner_link) get a policy admitting every row, and keep row-level
 * security off until tenancy turns on: the first credimport_create_tenant
 * enables it (the trigger on credimport.tenant), so that a database of one
 * organization keeps its plans (under row-level security PostgreSQL uses
 * no index for lower(email)).  A table on which the DBA enabled row-level
 * security before 1.6 gets no policy admitting every row: it would widen
 * the DBA's (policies are OR'ed).
 */
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['learner', 'credit', 'credit_type', 'credential_type', 'learner_link'] LOOP
        IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c
             WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.format('credimport.%I', t)::pg_catalog.regclass)
           OR EXISTS (SELECT FROM pg_catalog.pg_policy p
                       WHERE p.polrelid OPERATOR(pg_catalog.=) pg_catalog.format('credimport.%I', t)::pg_catalog.regclass) THEN
            RAISE NOTICE 'credimport.% has row-level security or policies of its own: kept as they are, with the tenant policy added', t;
        ELSE
            EXECUTE pg_catalog.format('CREATE POLICY %I ON credimport.%I USING (true) WITH CHECK (true)',
                                      t OPERATOR(pg_catalog.||) '_all', t);
        END IF;
    END LOOP;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['learner', 'credit', 'credential', 'learner_link', 'invitation',
                             'batch', 'batch_error', 'batch_record', 'provenance'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_rows ON credimport.%I AS RESTRICTIVE '
            'USING ((SELECT credimport.caller_tenants()) IS NULL '
            '       OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT credimport.caller_tenants())::pg_catalog.text[])) '
            'WITH CHECK ((SELECT credimport.caller_tenants()) IS NULL '
            '       OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT credimport.caller_tenants())::pg_catalog.text[]))', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['credit_type', 'credential_type'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_rows ON credimport.%I AS RESTRICTIVE '
            'USING ((SELECT credimport.caller_tenants()) IS NULL OR tenant_id IS NULL '
            '       OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT credimport.caller_tenants())::pg_catalog.text[])) '
            'WITH CHECK ((SELECT credimport.caller_tenants()) IS NULL '
            '       OR tenant_id OPERATOR(pg_catalog.=) ANY ((SELECT credimport.caller_tenants())::pg_catalog.text[]))', t);
    END LOOP;
END
$$;

/*
 * A loader inserts its batch rows, but never chooses a batch id (taking the
 * ids other loads are about to get would make every other load fail): the
 * INSERT privilege on credimport.batch is per column, every column but id.
 * Roles granted before 1.6 keep what they had, minus that: every grant of
 * INSERT is revoked (with the grants made from it) and made again per
 * column, by the same grantor, with the same grant option.
 */
CREATE FUNCTION credimport.batch_insert_columns()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum)
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) 'credimport.batch'::pg_catalog.regclass
       AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
       AND a.attname OPERATOR(pg_catalog.<>) ALL (ARRAY['id', 'tenant_id']::pg_catalog.name[]);
$$;
REVOKE ALL ON FUNCTION credimport.batch_insert_columns() FROM PUBLIC;

DO $$
DECLARE
    grantors oid[];
    grantees oid[];
    grantable boolean[];
    who text;
    cols text := credimport.batch_insert_columns();
    owner oid := (SELECT c.relowner FROM pg_catalog.pg_class c
                   WHERE c.oid OPERATOR(pg_catalog.=) 'credimport.batch'::pg_catalog.regclass);
    me name := CURRENT_USER;
BEGIN
    -- every grant of INSERT, owner's first, then in ACL order (a grantor's
    -- own grant comes before the grants it made)
    SELECT pg_catalog.array_agg(x.grantor ORDER BY x.grantor OPERATOR(pg_catalog.<>) owner, x.ord),
           pg_catalog.array_agg(x.grantee ORDER BY x.grantor OPERATOR(pg_catalog.<>) owner, x.ord),
           pg_catalog.array_agg(x.is_grantable ORDER BY x.grantor OPERATOR(pg_catalog.<>) owner, x.ord)
      INTO grantors, grantees, grantable
      FROM pg_catalog.pg_class c,
           pg_catalog.aclexplode(c.relacl) WITH ORDINALITY x(grantor, grantee, privilege_type, is_grantable, ord)
     WHERE c.oid OPERATOR(pg_catalog.=) 'credimport.batch'::pg_catalog.regclass
       AND x.privilege_type OPERATOR(pg_catalog.=) 'INSERT'
       AND x.grantee OPERATOR(pg_catalog.<>) c.relowner;
    IF grantors IS NULL THEN RETURN; END IF;
    FOR i IN 1 .. pg_catalog.array_length(grantors, 1) LOOP
        IF grantors[i] OPERATOR(pg_catalog.=) owner THEN
            who := CASE WHEN grantees[i] OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                        ELSE grantees[i]::pg_catalog.regrole::pg_catalog.text END;
            EXECUTE pg_catalog.format('REVOKE INSERT ON credimport.batch FROM %s CASCADE', who);
        END IF;
    END LOOP;
    FOR i IN 1 .. pg_catalog.array_length(grantors, 1) LOOP
        who := CASE WHEN grantees[i] OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                    ELSE grantees[i]::pg_catalog.regrole::pg_catalog.text END;
        IF grantors[i] OPERATOR(pg_catalog.<>) owner THEN
            EXECUTE pg_catalog.format('SET LOCAL ROLE %s', grantors[i]::pg_catalog.regrole);
        END IF;
        EXECUTE pg_catalog.format('GRANT INSERT (%s) ON credimport.batch TO %s%s', cols, who,
                                  CASE WHEN grantable[i] THEN ' WITH GRANT OPTION' ELSE '' END);
        IF grantors[i] OPERATOR(pg_catalog.<>) owner THEN
            EXECUTE pg_catalog.format('SET LOCAL ROLE %I', me);   -- back to who runs the update
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.credimport_grant_loader(role regrole)
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
    -- the columns it updates -- never id, tenant_id, created_by_batch or
    -- created_at, which credimport_revert relies on; credentials by the
    -- credentials loader's update and delete actions).  A table-wide UPDATE
    -- granted before is taken back first.  Row-level security keeps every
    -- role to its tenants' rows.
    EXECUTE format('REVOKE UPDATE ON credimport.learner FROM %s', r);
    EXECUTE format('GRANT SELECT, INSERT ON credimport.learner TO %s', r);
    EXECUTE format('GRANT UPDATE (first_name, last_name, remote_id, username, role, profile) '
                   'ON credimport.learner TO %s', r);
    EXECUTE format('GRANT SELECT, INSERT ON credimport.credit TO %s', r);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON credimport.credential TO %s', r);
    EXECUTE format('GRANT INSERT ON credimport.learner_link, credimport.invitation TO %s', r);
    -- (no sequence privilege: a load, like an INSERT, needs none)
    -- its batches (row-level security: its own), never choosing a batch's
    -- id, and of a batch's row only what a load fills in after the insert
    -- -- never who, what, or status
    EXECUTE format('REVOKE INSERT ON credimport.batch FROM %s', r);
    EXECUTE format('GRANT SELECT ON credimport.batch TO %s', r);
    EXECUTE format('GRANT INSERT (%s) ON credimport.batch TO %s', credimport.batch_insert_columns(), r);
    EXECUTE format('GRANT SELECT, INSERT ON credimport.batch_error, credimport.batch_record TO %s', r);
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

-- creating and dropping tenants: the DBA's
CREATE FUNCTION @extschema@.credimport_create_tenant(tenant text, role regrole, adopt boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
    n bigint;
BEGIN
    IF tenant IS NULL OR tenant = '' THEN
        RAISE EXCEPTION 'a tenant needs a name'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF role IS NULL OR role = 0 THEN
        RAISE EXCEPTION 'tenant "%" needs a role', tenant
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Create a role for the tenant (CREATE ROLE ... NOLOGIN) and grant it to the tenant''s loaders.';
    END IF;
    IF (SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles r WHERE r.oid = role) THEN
        RAISE EXCEPTION 'role % cannot be the role of tenant "%"', role, tenant
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Row-level security does not restrict a superuser or a role with BYPASSRLS: its members would see every tenant''s rows.';
    END IF;
    IF EXISTS (SELECT FROM credimport.tenant x WHERE x.tenant = credimport_create_tenant.tenant) THEN
        RAISE EXCEPTION 'tenant "%" already exists', tenant
            USING ERRCODE = 'duplicate_object';
    END IF;
    IF EXISTS (SELECT FROM credimport.tenant x WHERE x.role = credimport_create_tenant.role) THEN
        RAISE EXCEPTION 'role % is already the role of tenant "%"', role,
                        (SELECT x.tenant FROM credimport.tenant x WHERE x.role = credimport_create_tenant.role)
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Give each tenant a role of its own.';
    END IF;
    -- a tenant's role inside another's (or holding another's) would put
    -- the members of one in both
    IF EXISTS (SELECT FROM credimport.tenant x
                WHERE x.role <> credimport_create_tenant.role
                  AND (pg_catalog.pg_has_role(credimport_create_tenant.role, x.role, 'MEMBER')
                       OR pg_catalog.pg_has_role(x.role, credimport_create_tenant.role, 'MEMBER'))) THEN
        RAISE EXCEPTION 'role % is a member of the role of another tenant, or has one as a member', role
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The members of one tenant''s role would belong to both tenants.',
                  HINT = 'Give each tenant a role of its own that no other tenant''s role is a member of.';
    END IF;
    INSERT INTO credimport.tenant (tenant, role) VALUES (tenant, role);
    -- the data of a database that had one organization becomes that tenant's
    IF adopt THEN
        FOREACH t IN ARRAY ARRAY['learner', 'credit', 'credential', 'learner_link', 'invitation',
                                 'batch', 'batch_error', 'batch_record', 'provenance'] LOOP
            EXECUTE format('UPDATE credimport.%I SET tenant_id = $1 WHERE tenant_id IS NULL', t)
                USING tenant;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                RAISE NOTICE 'tenant "%" adopted % rows of credimport.%', tenant, n, t;
            END IF;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.credimport_create_tenant(text, regrole, boolean) IS
    'create a tenant whose role''s members load and read for it (the first tenant turns tenancy on); adopt: rows without a tenant become its';
REVOKE ALL ON FUNCTION @extschema@.credimport_create_tenant(text, regrole, boolean) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_drop_tenant(tenant text)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM credimport.tenant x WHERE x.tenant = credimport_drop_tenant.tenant;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tenant "%" does not exist', tenant
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.credimport_drop_tenant(text) IS
    'drop a tenant: its rows stay, visible to no tenant role (the last tenant turns tenancy off)';
REVOKE ALL ON FUNCTION @extschema@.credimport_drop_tenant(text) FROM PUBLIC;

/*
 * (Fix by helper thost, review of issue 17: its own commit; the lead may
 * fold it in.)  A row that names a batch may name only a batch its writer
 * sees.  Foreign keys are checked without row-level security: without this
 * a tenant's role could write a row of its own tenant -- a credit, a
 * credential, an association, a learner's created_by_batch -- naming
 * another tenant's batch, and that tenant's credimport_approve and
 * credimport_revert, which act by batch as the tables' owner, would approve
 * or delete it and count it (test/review/defects.sql D9; sql/tenants.sql).
 * Within one tenant it keeps a loader out of other loaders' batches (D5)
 * as invitation_insert does for invitations.  Loads name their own batch:
 * one index probe of credimport.batch per row written.
 */
DO $$
DECLARE
    t text;
    c text;
BEGIN
    FOREACH t IN ARRAY ARRAY['credit', 'credential', 'learner_link', 'learner'] LOOP
        c := CASE t WHEN 'learner' THEN 'created_by_batch' ELSE 'batch_id' END;
        EXECUTE pg_catalog.format(
            'CREATE POLICY batch_seen_insert ON credimport.%1$I AS RESTRICTIVE FOR INSERT '
            'WITH CHECK (%2$I IS NULL OR EXISTS (SELECT FROM credimport.batch b '
            '            WHERE b.id OPERATOR(pg_catalog.=) %1$I.%2$I))', t, c);
        EXECUTE pg_catalog.format(
            'CREATE POLICY batch_seen_update ON credimport.%1$I AS RESTRICTIVE FOR UPDATE '
            'USING (true) '
            'WITH CHECK (%2$I IS NULL OR EXISTS (SELECT FROM credimport.batch b '
            '            WHERE b.id OPERATOR(pg_catalog.=) %1$I.%2$I))', t, c);
    END LOOP;
END
$$;

/*
 * With tenancy on, a row names only learners and types its writer sees:
 * foreign keys are checked without row-level security, so without this a
 * tenant's role could write rows of its own naming another tenant's
 * learners -- an invitation (whose token it chose) for another tenant's
 * learner, a link that takes the key of another tenant's association, a
 * credit that keeps another tenant's learner from being reverted -- and
 * learn from the foreign key which learner ids exist.  The check fails
 * alike for a learner of another tenant and for one that does not exist
 * (it runs before the foreign key).  Off while tenancy is off (one
 * initplan).
 */
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES
            ('credit', 'EXISTS (SELECT FROM credimport.learner l WHERE l.id OPERATOR(pg_catalog.=) credit.learner_id) '
                       'AND EXISTS (SELECT FROM credimport.credit_type y WHERE y.id OPERATOR(pg_catalog.=) credit.credit_type_id)'),
            ('credential', 'EXISTS (SELECT FROM credimport.learner l WHERE l.id OPERATOR(pg_catalog.=) credential.learner_id) '
                           'AND EXISTS (SELECT FROM credimport.credential_type y WHERE y.id OPERATOR(pg_catalog.=) credential.credential_type_id)'),
            ('learner_link', 'EXISTS (SELECT FROM credimport.learner l WHERE l.id OPERATOR(pg_catalog.=) learner_link.learner_id) '
                             'AND EXISTS (SELECT FROM credimport.learner l WHERE l.id OPERATOR(pg_catalog.=) learner_link.related_learner_id)'),
            ('invitation', 'EXISTS (SELECT FROM credimport.learner l WHERE l.id OPERATOR(pg_catalog.=) invitation.learner_id)')
        ) AS v(t, refs) LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_refs_insert ON credimport.%I AS RESTRICTIVE FOR INSERT '
            'WITH CHECK ((SELECT credimport.caller_tenants()) IS NULL OR (%s))', r.t, r.refs);
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_refs_update ON credimport.%I AS RESTRICTIVE FOR UPDATE USING (true) '
            'WITH CHECK ((SELECT credimport.caller_tenants()) IS NULL OR (%s))', r.t, r.refs);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- section: targets (the tenant field of a platform's tables)
-- ---------------------------------------------------------------------------
