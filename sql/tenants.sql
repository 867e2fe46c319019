--
-- tenants: two organizations (acme, globex) on the shipped tables, and
-- every hostile attempt of a tenant's admin that runs arbitrary SQL (issue
-- 17).  Each attempt runs AS the tenant's role and asserts what really
-- happened, comparing with the outcome for something that does not exist
-- where "as if it did not exist" is the promise.
--
-- (everything created here is dropped at the end, the tenants last:
-- tenancy is off again for the files after this one, and the sequences
-- are given back, so their numbers do not change)
SELECT last_value AS t_batch_seq, is_called AS t_batch_called FROM credimport.batch_id_seq \gset
SELECT last_value AS t_learner_seq, is_called AS t_learner_called FROM credimport.learner_id_seq \gset
SELECT last_value AS t_credit_seq, is_called AS t_credit_called FROM credimport.credit_id_seq \gset
SELECT last_value AS t_cred_seq, is_called AS t_cred_called FROM credimport.credential_id_seq \gset
SELECT setval('credimport.batch_id_seq', 700) AS batches_from;

-- ---------------------------------------------------------------------------
-- the roles: a NOLOGIN role per tenant, its loaders members of it
-- ---------------------------------------------------------------------------
CREATE ROLE acme NOLOGIN;
CREATE ROLE globex NOLOGIN;
CREATE ROLE acme_admin NOLOGIN IN ROLE acme, credimport_admin;   -- a tenant admin
CREATE ROLE acme_clerk NOLOGIN IN ROLE acme;                     -- a tenant loader
CREATE ROLE globex_admin NOLOGIN IN ROLE globex, credimport_admin;
CREATE ROLE ten_nobody NOLOGIN IN ROLE credimport_admin;         -- an admin of no tenant
CREATE ROLE ten_both NOLOGIN IN ROLE acme, globex;                -- a loader of two tenants
SELECT credimport_grant_loader(r) FROM unnest('{acme,globex,ten_nobody}'::regrole[]) r;

-- tenancy off: no tenant, every role as before 1.6
SELECT credimport.current_tenant() AS current_tenant, credimport.caller_tenants() AS caller_tenants;
SET ROLE ten_nobody;
SELECT credimport.current_tenant() AS current_tenant, credimport.caller_tenants() AS caller_tenants;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- creating tenants: the DBA's call, and what it refuses
-- ---------------------------------------------------------------------------
CREATE ROLE ten_super NOLOGIN SUPERUSER;
CREATE ROLE ten_bypass NOLOGIN BYPASSRLS;
SELECT * FROM expect_error($$SELECT credimport_create_tenant('', 'acme')$$);
SELECT * FROM expect_error($$SELECT credimport_create_tenant(NULL, 'acme')$$);
SELECT * FROM expect_error($$SELECT credimport_create_tenant('acme', NULL)$$);
SELECT * FROM expect_error($$SELECT credimport_create_tenant('acme', 'ten_super')$$);
SELECT * FROM expect_error($$SELECT credimport_create_tenant('acme', 'ten_bypass')$$);
SELECT * FROM expect_error($$SELECT credimport_create_tenant('acme', 'no_such_role_here')$$);
DROP ROLE ten_super;
DROP ROLE ten_bypass;
-- nor by a tenant's admin: not through the function, nor the table
SET ROLE acme_admin;
SELECT * FROM expect_error($$SELECT credimport_create_tenant('acme', 'acme')$$);
SELECT * FROM expect_error($$INSERT INTO credimport.tenant (tenant, role) VALUES ('acme', 'acme')$$);
RESET ROLE;
SELECT credimport_create_tenant('acme', 'acme');
SELECT credimport_create_tenant('globex', 'globex');
SELECT * FROM expect_error($$SELECT credimport_create_tenant('acme', 'ten_both')$$);
SELECT * FROM expect_error($$SELECT credimport_create_tenant('acme2', 'acme')$$);
SELECT tenant, role FROM credimport.tenant ORDER BY tenant;
-- a role reads its own tenants' rows of the mapping only
SET ROLE acme_clerk;
SELECT tenant, role FROM credimport.tenant ORDER BY tenant;
SELECT credimport.current_tenant() AS current_tenant, credimport.caller_tenants() AS caller_tenants;
RESET ROLE;
SET ROLE ten_both;
SELECT tenant FROM credimport.tenant ORDER BY tenant;
SELECT credimport.caller_tenants() AS caller_tenants;
SELECT * FROM expect_error($$SELECT credimport.current_tenant()$$);
RESET ROLE;

-- the types: shared ones (no tenant: CME of the setup file, TENRN) and
-- one of each kind that is globex's only
INSERT INTO credimport.credit_type (code, name, tenant_id) VALUES ('GXCME', 'Globex CME', 'globex');
INSERT INTO credimport.credential_type (code, name, tenant_id) VALUES ('GXRN', 'Globex nurse', 'globex');
INSERT INTO credimport.credential_type (code, name) VALUES ('TENRN', 'Nurse (tenants test, shared)');

-- ---------------------------------------------------------------------------
-- globex's data, loaded by globex's admin
-- ---------------------------------------------------------------------------
SET ROLE globex_admin;
SELECT line_no, status FROM credimport_load_users_data(
    E'email,remote_id,username,first_name,last_name\n'
    'g.one@example.org,G-1,g.one,Gina,One\n'
    'g.two@example.org,G-2,g.two,Gus,Two\n'
    'shared@example.org,G-3,g.three,Globex,Shared\n', auto_invite => true);
SELECT credimport_last_batch_id() AS gx_users \gset
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'g.one@example.org,Globex U,Safety,GX-1,2024-01-01,1,CME\n'
    'g.two@example.org,Globex U,Safety,GX-1,2024-01-01,2,GXCME\n', 'email');
SELECT credimport_last_batch_id() AS gx_credits \gset
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,expiration_date\n'
    'g.one@example.org,TENRN,GX-L1,2020-01-01,2099-01-01\n'
    'g.two@example.org,GXRN,GX-L2,2020-01-01,2099-01-01\n', 'email');
SELECT credimport_last_batch_id() AS gx_creds \gset
-- a rejected batch: its problems and invalid records hold a person's data
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'secret.globex@example.org,Globex U,Secret,GX-S,2024-01-01,1,CME\n', 'email');
SELECT credimport_last_batch_id() AS gx_rejected \gset
SELECT kind, status, tenant_id FROM credimport.batch ORDER BY id;
RESET ROLE;
SELECT id AS gx_one FROM credimport.learner WHERE email = 'g.one@example.org' \gset
SELECT id AS gx_two FROM credimport.learner WHERE email = 'g.two@example.org' \gset
SELECT id AS gx_shared FROM credimport.learner WHERE email = 'shared@example.org' \gset
SELECT id AS gx_credential FROM credimport.credential WHERE license_number = 'GX-L1' \gset
SELECT token AS gx_token FROM credimport.invitation WHERE learner_id = :gx_one \gset
-- every row written carries globex
SELECT 'learner' AS tab, count(*), array_agg(DISTINCT tenant_id) FROM credimport.learner WHERE created_by_batch = :gx_users
UNION ALL SELECT 'credit', count(*), array_agg(DISTINCT tenant_id) FROM credimport.credit WHERE batch_id = :gx_credits
UNION ALL SELECT 'credential', count(*), array_agg(DISTINCT tenant_id) FROM credimport.credential WHERE batch_id = :gx_creds
UNION ALL SELECT 'invitation', count(*), array_agg(DISTINCT tenant_id) FROM credimport.invitation WHERE batch_id = :gx_users
UNION ALL SELECT 'batch_error', count(*), array_agg(DISTINCT tenant_id) FROM credimport.batch_error WHERE batch_id = :gx_rejected
UNION ALL SELECT 'batch_record', count(*), array_agg(DISTINCT tenant_id) FROM credimport.batch_record WHERE batch_id = :gx_rejected
UNION ALL SELECT 'provenance', count(*), array_agg(DISTINCT tenant_id) FROM credimport.provenance WHERE batch_id IN (:gx_users, :gx_credits, :gx_creds);

-- acme's own: one learner, one credit, one credential
SET ROLE acme_admin;
SELECT line_no, status FROM credimport_load_users_data(
    E'email,remote_id,first_name,last_name\na.one@example.org,A-1,Ann,One\n');
SELECT credimport_last_batch_id() AS acme_users \gset
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,Acme U,Safety,AC-1,2024-01-01,1,CME\n', 'email');
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,expiration_date\n'
    'a.one@example.org,TENRN,AC-L1,2020-01-01,2099-01-01\n', 'email');
SELECT credimport_last_batch_id() AS acme_creds \gset
RESET ROLE;
SELECT id AS acme_one FROM credimport.learner WHERE email = 'a.one@example.org' \gset

-- what acme sees of globex: nothing (the counts of all its rows here)
CREATE FUNCTION ten_seen() RETURNS TABLE (tab text, rows bigint, not_acme bigint)
LANGUAGE sql AS $$
    SELECT 'learner', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.learner
    UNION ALL SELECT 'credit', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.credit
    UNION ALL SELECT 'credential', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.credential
    UNION ALL SELECT 'learner_link', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.learner_link
    UNION ALL SELECT 'invitation', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.invitation
    UNION ALL SELECT 'batch', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.batch
    UNION ALL SELECT 'batch_error', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.batch_error
    UNION ALL SELECT 'batch_record', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.batch_record
    UNION ALL SELECT 'provenance', count(*), count(*) FILTER (WHERE tenant_id IS DISTINCT FROM 'acme') FROM credimport.provenance
    UNION ALL SELECT 'provenance_rows', count(*), count(*) FILTER (WHERE batch_id NOT IN (SELECT id FROM credimport.batch WHERE tenant_id = 'acme')) FROM credimport.provenance_rows
    UNION ALL SELECT 'credential_expiring', count(*), count(*) FILTER (WHERE learner_id IS DISTINCT FROM (SELECT id FROM credimport.learner WHERE email = 'a.one@example.org')) FROM credimport.credential_expiring
    UNION ALL SELECT 'credit_type', count(*), count(*) FILTER (WHERE tenant_id IS NOT NULL AND tenant_id <> 'acme') FROM credimport.credit_type
              WHERE code IN ('CME', 'GXCME')      -- (this file's: earlier files add shared ones)
    UNION ALL SELECT 'credential_type', count(*), count(*) FILTER (WHERE tenant_id IS NOT NULL AND tenant_id <> 'acme') FROM credimport.credential_type
              WHERE code IN ('TENRN', 'GXRN')
$$;
GRANT EXECUTE ON FUNCTION ten_seen() TO acme, ten_nobody;
-- (the superuser sees everything: the counts below are of acme's rows)
SET ROLE acme_admin;
SELECT * FROM ten_seen();
RESET ROLE;
-- and globex's admin, of its own
SET ROLE globex_admin;
SELECT count(*) AS batches, count(*) FILTER (WHERE tenant_id <> 'globex') AS not_globex FROM credimport.batch;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 1. settings: nothing a session can SET chooses the tenant
-- ---------------------------------------------------------------------------
-- (a session of acme_admin's own: SET ROLE is checked against the
-- session's user, which for this file's own session is a superuser)
SET SESSION AUTHORIZATION acme_admin;
SELECT session_user, current_user;
SELECT * FROM expect_error($$SET credimport.tenant = 'globex'$$);   -- the prefix is reserved
SET credimport.date_format = 'DD/MM/YYYY';
SELECT * FROM expect_error($$SET credimport.max_rows = 10$$);   -- the administrator's
SET app.tenant = 'globex';
SET app.current_tenant = 'globex';
SET search_path = pg_catalog;
SELECT count(*) FILTER (WHERE not_acme > 0) AS tables_showing_others FROM public.ten_seen();
RESET search_path;
RESET credimport.date_format;
-- row_security off: reading a tenant table is an error, not every row
SET row_security = off;
SELECT * FROM expect_error($$SELECT count(*) FROM credimport.learner$$);
SELECT * FROM expect_error($$SELECT count(*) FROM credimport.batch$$);
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'g.one@example.org,P,T,X-1,2024-01-01,1,CME\n', 'email')$$);
RESET row_security;
-- roles it is not a member of: refused
SELECT * FROM expect_error($$SET ROLE globex$$);
SELECT * FROM expect_error($$SET ROLE globex_admin$$);
SELECT * FROM expect_error($$SET ROLE ten_both$$);
SELECT * FROM expect_error($$SET ROLE ten_nobody$$);
SELECT current_user;
-- roles it is a member of: its tenant's role (acme still), or a role of no
-- tenant (nothing at all)
SET ROLE acme;
SELECT current_user, credimport.current_tenant() AS current_tenant, count(*) AS batches_seen FROM credimport.batch;
SET ROLE credimport_admin;
SELECT current_user, credimport.caller_tenants() AS caller_tenants, count(*) AS batches_seen FROM credimport.batch;
RESET ROLE;
RESET SESSION AUTHORIZATION;
-- session_authorization: only a session whose own user is a superuser may
-- set it (this file's may, so it cannot show the refusal a session of
-- acme_admin gets); whatever the session becomes, its tenant follows the
-- role it is
SET session_authorization = globex_admin;
SELECT session_user, credimport.current_tenant() AS current_tenant,
       count(*) FILTER (WHERE tenant_id <> 'globex') AS others_seen FROM credimport.batch;
RESET session_authorization;
-- a search_path with look-alikes of credimport's tables and functions
-- searched first: the policies and the mapping are bound to credimport's own
CREATE SCHEMA ten_look;
CREATE TABLE ten_look.tenant (tenant text, role regrole);
INSERT INTO ten_look.tenant VALUES ('globex', 'acme');
CREATE FUNCTION ten_look.caller_tenants() RETURNS text[] LANGUAGE sql AS $$ SELECT '{acme,globex}'::text[] $$;
CREATE FUNCTION ten_look.current_tenant() RETURNS text LANGUAGE sql AS $$ SELECT 'globex'::text $$;
CREATE FUNCTION ten_look.is_member_of_role(oid, oid) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE FUNCTION ten_look.pg_has_role(name, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE TABLE ten_look.batch (LIKE credimport.batch);
CREATE TABLE ten_look.learner (LIKE credimport.learner);
GRANT USAGE ON SCHEMA ten_look TO acme;
GRANT SELECT ON ALL TABLES IN SCHEMA ten_look TO acme;
SET ROLE acme_admin;
SET search_path = ten_look, pg_catalog, public;
SELECT count(*) FILTER (WHERE not_acme > 0) AS tables_showing_others FROM public.ten_seen();
SELECT credimport.current_tenant() AS current_tenant, credimport.caller_tenants() AS caller_tenants;
-- a load in that search_path: acme's learner found, globex's not
SELECT line_no, status, errors FROM public.credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,Acme U,Look,AC-LOOK,2024-01-01,1,CME\n'
    'g.one@example.org,Acme U,Look,AC-LOOK,2024-01-01,1,CME\n', 'email', validate_only => true);
SELECT * FROM expect_error($$SELECT public.credimport_error_report($$ || :gx_rejected || $$)$$);
RESET search_path;
RESET ROLE;
DROP SCHEMA ten_look CASCADE;

-- ---------------------------------------------------------------------------
-- 2. globex's learners through acme's loaders: unknown_learner, with the
--    message of an identifier nobody has (no existence leak)
-- ---------------------------------------------------------------------------
SET ROLE acme_admin;
-- credits: e-mail, remote_id, user_id
CREATE TEMP TABLE ten_probe AS
SELECT 'credits/email' AS probe, line_no, status, learner_id, errors
  FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'g.one@example.org,Acme U,Probe,AC-P,2024-01-01,1,CME\n'
    'nobody.here@example.org,Acme U,Probe,AC-P,2024-01-01,1,CME\n', 'email', validate_only => true);
INSERT INTO ten_probe
SELECT 'credits/remote_id', line_no, status, learner_id, errors
  FROM credimport_load_data(
    E'remote_id,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'G-1,Acme U,Probe,AC-P,2024-01-01,1,CME\n'
    'NOBODY-1,Acme U,Probe,AC-P,2024-01-01,1,CME\n', 'remote_id', validate_only => true);
INSERT INTO ten_probe
SELECT 'credits/user_id', line_no, status, learner_id, errors
  FROM credimport_load_data(
    E'user_id,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    || :gx_one || E',Acme U,Probe,AC-P,2024-01-01,1,CME\n'
    '999999999,Acme U,Probe,AC-P,2024-01-01,1,CME\n', 'user_id', validate_only => true);
-- credentials: e-mail, remote_id, user_id
INSERT INTO ten_probe
SELECT 'credentials/email', line_no, status, learner_id, errors
  FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\n'
    'g.one@example.org,TENRN,AC-P1,2020-01-01\n'
    'nobody.here@example.org,TENRN,AC-P1,2020-01-01\n', 'email', validate_only => true);
INSERT INTO ten_probe
SELECT 'credentials/remote_id', line_no, status, learner_id, errors
  FROM credimport_load_credentials_data(
    E'remote_id,credential_type,license_number,issue_date\n'
    'G-1,TENRN,AC-P1,2020-01-01\n'
    'NOBODY-1,TENRN,AC-P1,2020-01-01\n', 'remote_id', validate_only => true);
INSERT INTO ten_probe
SELECT 'credentials/user_id', line_no, status, learner_id, errors
  FROM credimport_load_credentials_data(
    E'user_id,credential_type,license_number,issue_date\n'
    || :gx_one || E',TENRN,AC-P1,2020-01-01\n'
    '999999999,TENRN,AC-P1,2020-01-01\n', 'user_id', validate_only => true);
-- a delete of globex's credential by its learner's e-mail and license number
INSERT INTO ten_probe
SELECT 'credentials/delete', line_no, status, learner_id, errors
  FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,action\n'
    'g.one@example.org,TENRN,GX-L1,2020-01-01,delete\n'
    'nobody.here@example.org,TENRN,GX-L1,2020-01-01,delete\n', 'email', validate_only => true);
-- users: globex's learners named as associates
INSERT INTO ten_probe
SELECT 'users/parent', line_no, status, learner_id, errors
  FROM credimport_load_users_data(
    E'email,first_name,last_name,role,parent\n'
    'a.kid1@example.org,Kid,One,student,g.one@example.org\n'
    'a.kid2@example.org,Kid,Two,student,nobody.here@example.org\n', validate_only => true);
INSERT INTO ten_probe
SELECT 'users/instructor', line_no, status, learner_id, errors
  FROM credimport_load_users_data(
    E'email,first_name,last_name,role,instructor\n'
    'a.kid1@example.org,Kid,One,student,g.one\n'
    'a.kid2@example.org,Kid,Two,student,nobody.here\n', validate_only => true);
RESET ROLE;
-- the nobody's line of each probe, and whether globex's line says the same
-- with the identifier swapped (and found no learner)
SELECT n.probe, n.errors AS nobody_line,
       g.learner_id IS NULL AS no_learner,
       replace(replace(g.errors::text, 'g.one@example.org', '<id>'), 'G-1', '<id>')
       = replace(replace(n.errors::text, 'nobody.here@example.org', '<id>'), 'NOBODY-1', '<id>')
       OR replace(replace(g.errors::text, :'gx_one', '<id>'), 'g.one', '<id>')
       = replace(replace(n.errors::text, '999999999', '<id>'), 'nobody.here', '<id>') AS same_message
  FROM ten_probe g JOIN ten_probe n ON n.probe = g.probe AND n.line_no = 3
 WHERE g.line_no = 2 ORDER BY 1;
DROP TABLE ten_probe;
-- the very bytes of globex's credits file: no "imported before" warning
-- (globex itself gets one)
SET ROLE acme_admin;
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'g.one@example.org,Globex U,Safety,GX-1,2024-01-01,1,CME\n'
    'g.two@example.org,Globex U,Safety,GX-1,2024-01-01,2,GXCME\n', 'email', validate_only => true);
RESET ROLE;
SET ROLE globex_admin;
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'g.one@example.org,Globex U,Safety,GX-1,2024-01-01,1,CME\n'
    'g.two@example.org,Globex U,Safety,GX-1,2024-01-01,2,GXCME\n', 'email', validate_only => true);
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 3. globex's batches through acme's functions: as if they did not exist
-- ---------------------------------------------------------------------------
SET ROLE acme_admin;
CREATE TEMP TABLE ten_calls (call text, batch text, sqlstate text, message text, detail text, hint text);
INSERT INTO ten_calls
SELECT c.call, b.which, e.*
  FROM (VALUES ('credimport_revert(%s)'), ('credimport_approve(%s)'), ('credimport_error_report(%s)'),
               ('credimport_error_report(%s, ''xlsx'')'), ('credimport_error_report(%s, ''csv'')')) c(call),
       (VALUES ('globex', :gx_rejected), ('globex', :gx_creds), ('globex', :gx_credits),
               ('none', 999999999)) b(which, id),
       LATERAL expect_error('SELECT * FROM ' || format(c.call, b.id)) e;
RESET ROLE;
SELECT DISTINCT call, sqlstate, regexp_replace(message, '[0-9]+', 'N') AS message, detail, hint
  FROM ten_calls ORDER BY 1, 2, 3;
-- (the same row for globex's batches as for none: one row per call above)
SELECT call, count(DISTINCT (sqlstate, regexp_replace(message, '[0-9]+', 'N'), detail, hint)) AS outcomes
  FROM ten_calls GROUP BY call ORDER BY 1;
DROP TABLE ten_calls;
-- nothing happened to them
SELECT id = :gx_credits AS credits_batch, status FROM credimport.batch WHERE id IN (:gx_credits, :gx_creds) ORDER BY id;
SELECT license_number, status FROM credimport.credential WHERE tenant_id = 'globex' ORDER BY 1;
-- acme's own: its admin acts on them
SET ROLE acme_admin;
SELECT credimport_approve(:acme_creds) AS approved_own;
SELECT position('AC-' IN credimport_error_report(:acme_creds)) >= 0 AS own_report;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 4. globex's rows through acme's SQL: no rows read, none written
-- ---------------------------------------------------------------------------
SET ROLE acme_admin;
SELECT count(*) AS globex_rows FROM credimport.learner WHERE id IN (:gx_one, :gx_two, :gx_shared);
SELECT count(*) AS tokens FROM credimport.invitation WHERE token = :'gx_token';
SELECT count(*) AS problems FROM credimport.batch_error WHERE batch_id = :gx_rejected;
SELECT count(*) AS records FROM credimport.batch_record WHERE batch_id = :gx_rejected;
SELECT count(*) AS provenance FROM credimport.provenance_rows WHERE batch_id IN (:gx_users, :gx_credits, :gx_creds);
SELECT count(*) AS expiring_of_others FROM credimport_expiring_credentials(1000000) WHERE license_number NOT LIKE 'AC-%';
-- a known token: marking it sent finds nothing
SELECT credimport_invitation_sent(:'gx_token') AS marked;
-- updates and deletes of globex's rows: zero rows
WITH u AS (UPDATE credimport.learner SET first_name = 'Hacked' WHERE id = :gx_one RETURNING 1)
SELECT count(*) AS learners_updated FROM u;
WITH u AS (UPDATE credimport.credential SET license_number = 'HACKED' WHERE id = :gx_credential RETURNING 1)
SELECT count(*) AS credentials_updated FROM u;
WITH d AS (DELETE FROM credimport.credential WHERE tenant_id = 'globex' OR id = :gx_credential RETURNING 1)
SELECT count(*) AS credentials_deleted FROM d;       -- D3, across tenants
WITH u AS (UPDATE credimport.batch SET finished_at = now() WHERE id = :gx_credits RETURNING 1)
SELECT count(*) AS batches_updated FROM u;
WITH u AS (UPDATE credimport.invitation SET sent_at = now() WHERE token = :'gx_token' RETURNING 1)
SELECT count(*) AS invitations_updated FROM u;
-- its own rows cannot be given to globex
SELECT * FROM expect_error($$UPDATE credimport.credential SET tenant_id = 'globex' WHERE license_number = 'AC-L1'$$);
SELECT * FROM expect_error($$UPDATE credimport.learner SET tenant_id = 'globex' WHERE email = 'a.one@example.org'$$);
-- inserts of globex's rows: refused
SELECT * FROM expect_error($$INSERT INTO credimport.learner (email, tenant_id) VALUES ('planted@example.org', 'globex')$$);
SELECT * FROM expect_error($$INSERT INTO credimport.learner (email, tenant_id) VALUES ('planted@example.org', NULL)$$);
SELECT * FROM expect_error(format($$INSERT INTO credimport.credit (learner_id, provider, course_title, course_id, completion_date,
    number_credits, credit_type_id, user_editable, tenant_id)
    SELECT %s, 'p', 't', 'PLANTED', '2024-01-01', 1, id, false, 'globex' FROM credimport.credit_type WHERE code = 'CME'$$, :acme_one));
SELECT * FROM expect_error(format($$INSERT INTO credimport.credential (learner_id, credential_type_id, license_number, issue_date, tenant_id)
    SELECT %s, id, 'PLANTED', '2020-01-01', 'globex' FROM credimport.credential_type WHERE code = 'TENRN'$$, :acme_one));
SELECT * FROM expect_error(format($$INSERT INTO credimport.learner_link (learner_id, related_learner_id, relation, tenant_id)
    VALUES (%s, %s, 'parent', 'globex')$$, :acme_one, :gx_one));
SELECT * FROM expect_error(format($$INSERT INTO credimport.invitation (learner_id, batch_id, token, tenant_id)
    VALUES (%s, %s, 'planted', 'globex')$$, :acme_one, :acme_users));
-- D5, across tenants: problems and records into globex's batch
SELECT * FROM expect_error(format($$INSERT INTO credimport.batch_error (batch_id, line_no, field, code, message)
    VALUES (%s, 1, 'email', 'planted', 'planted')$$, :gx_rejected));
SELECT * FROM expect_error(format($$INSERT INTO credimport.batch_record (batch_id, line_no, fields)
    VALUES (%s, 1, '{planted}')$$, :gx_rejected));
-- D9: rows of acme's own that name globex's batch (a foreign key is checked
-- without row-level security): refused, or globex's approval and revert,
-- which act by batch, would approve and delete them
SELECT * FROM expect_error(format($$INSERT INTO credimport.credential (learner_id, credential_type_id, license_number,
    issue_date, batch_id) SELECT %s, id, 'PLANTED', '2020-01-01', %s FROM credimport.credential_type WHERE code = 'TENRN'$$,
    :acme_one, :gx_creds));
SELECT * FROM expect_error(format($$UPDATE credimport.credential SET batch_id = %s WHERE license_number = 'AC-L1'$$,
    :gx_creds));
SELECT * FROM expect_error(format($$INSERT INTO credimport.credit (learner_id, provider, course_title, course_id,
    completion_date, number_credits, credit_type_id, user_editable, batch_id)
    SELECT %s, 'p', 't', 'PLANTED', '2024-01-01', 1, id, false, %s FROM credimport.credit_type WHERE code = 'CME'$$,
    :acme_one, :gx_credits));
SELECT * FROM expect_error(format($$INSERT INTO credimport.learner (email, created_by_batch) VALUES ('planted@example.org', %s)$$,
    :gx_users));
SELECT * FROM expect_error(format($$INSERT INTO credimport.learner_link (learner_id, related_learner_id, relation, batch_id)
    VALUES (%s, %s, 'parent', %s)$$, :acme_one, :gx_one, :gx_users));
-- (D5 within one tenant: acme's clerk writes nothing into a batch of acme's
-- admin either -- a batch it cannot see)
SET ROLE acme_clerk;
SELECT * FROM expect_error(format($$INSERT INTO credimport.credential (learner_id, credential_type_id, license_number,
    issue_date, batch_id) SELECT %s, id, 'CLERK-PLANTED', '2020-01-01', %s FROM credimport.credential_type WHERE code = 'TENRN'$$,
    :acme_one, :acme_creds));
SET ROLE acme_admin;
-- a batch of globex's
SELECT * FROM expect_error($$INSERT INTO credimport.batch (source, match_mode, allow_edit, validate_only, status,
    records, imported, invalid, started_at, tenant_id)
    VALUES ('planted', 'email', false, false, 'imported', 0, 0, 0, now(), 'globex')$$);
-- D6: no loader chooses a batch id (column privilege), in no tenant
SELECT * FROM expect_error($$INSERT INTO credimport.batch (id, source, match_mode, allow_edit, validate_only, status,
    records, imported, invalid, started_at)
    VALUES (999999, 'squat', 'email', false, false, 'imported', 0, 0, 0, now())$$);
-- the rest of the bookkeeping: no privilege at all
SELECT * FROM expect_error(format($$DELETE FROM credimport.batch WHERE id = %s$$, :gx_credits));
SELECT * FROM expect_error(format($$DELETE FROM credimport.learner WHERE id = %s$$, :gx_one));
SELECT * FROM expect_error(format($$DELETE FROM credimport.credit WHERE batch_id = %s$$, :gx_credits));
SELECT * FROM expect_error($$INSERT INTO credimport.provenance (batch_id, role, relation, key_column, row_keys)
    VALUES (1, 'credit', 'credimport.credit', 'id', '{1}')$$);
SELECT * FROM expect_error($$UPDATE credimport.credit_type SET active = false WHERE code = 'GXCME'$$);
RESET ROLE;
-- globex's rows are as they were
SELECT email, first_name, tenant_id FROM credimport.learner WHERE tenant_id = 'globex' ORDER BY 1;
SELECT license_number, tenant_id FROM credimport.credential WHERE tenant_id = 'globex' ORDER BY 1;
SELECT sent_at IS NULL AS not_sent FROM credimport.invitation WHERE token = :'gx_token';
SELECT count(*) AS planted FROM credimport.batch_error WHERE code = 'planted';
SELECT count(*) AS squatted FROM credimport.batch WHERE id = 999999 OR source = 'planted';
SELECT count(*) AS planted_in_globex_batches FROM credimport.credit c JOIN credimport.batch b ON b.id = c.batch_id
 WHERE c.tenant_id IS DISTINCT FROM b.tenant_id;
-- globex's approval approves its own two credentials, nothing else
SET ROLE globex_admin;
SELECT credimport_approve(:gx_creds) AS approved;
RESET ROLE;
SELECT license_number, status, tenant_id, batch_id = :gx_creds AS in_globex_batch FROM credimport.credential
 WHERE tenant_id IS NOT NULL ORDER BY 1;
-- approved and expiring: each tenant its own
SET ROLE acme_admin;
SELECT license_number FROM credimport_expiring_credentials(1000000) ORDER BY 1;
SELECT license_number FROM credimport.credential_expiring ORDER BY 1;
SET ROLE globex_admin;
SELECT license_number FROM credimport_expiring_credentials(1000000) ORDER BY 1;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 5. a learner with globex's e-mail, remote_id, username: a new one of acme's
-- ---------------------------------------------------------------------------
SET ROLE acme_admin;
SELECT line_no, status, errors FROM credimport_load_users_data(
    E'email,remote_id,username,first_name,last_name\n'
    'shared@example.org,G-3,g.three,Acme,Shared\n'
    'G.One@Example.org,,,Acme,One\n');
SELECT line_no, status, errors FROM credimport_load_data(
    E'email,remote_id,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'g.two@example.org,G-2,Acme,Two,Acme U,Full,AC-F1,2024-01-01,1,CME\n', 'full');
SELECT email, remote_id, username, first_name FROM credimport.learner ORDER BY 1;
-- uniqueness within acme holds as before: a second learner with an
-- e-mail, remote_id or username acme has is refused or matched
SELECT line_no, status, errors FROM credimport_load_users_data(
    E'email,first_name,last_name\nshared@example.org,Acme,Again\nSHARED@example.org,Acme,Again\n',
    max_errors => 1);
SELECT line_no, status, learner_id IS NOT NULL AS matched, errors FROM credimport_load_data(
    E'email,remote_id,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'g.two@example.org,G-2,Acme,Two,Acme U,Full,AC-F2,2024-01-01,1,CME\n', 'full');
RESET ROLE;
SELECT * FROM expect_error($$INSERT INTO credimport.learner (email, tenant_id) VALUES ('Shared@Example.org', 'acme')$$);
SELECT * FROM expect_error($$INSERT INTO credimport.learner (email, remote_id, tenant_id) VALUES ('x.y@example.org', 'G-3', 'acme')$$);
SELECT * FROM expect_error($$INSERT INTO credimport.learner (email, username, tenant_id) VALUES ('x.y@example.org', 'G.Three', 'acme')$$);
-- one of each tenant; globex's untouched
SELECT tenant_id, email, remote_id, username, first_name, last_name FROM credimport.learner
 WHERE lower(email) IN ('shared@example.org', 'g.one@example.org', 'g.two@example.org') ORDER BY 2, 1;
SELECT c.course_id, c.tenant_id, l.tenant_id AS learner_tenant FROM credimport.credit c
  JOIN credimport.learner l ON l.id = c.learner_id WHERE c.course_id LIKE 'AC-F%' ORDER BY 1;

-- ---------------------------------------------------------------------------
-- 6. types: shared ones by both, globex's own by globex only
-- ---------------------------------------------------------------------------
SET ROLE acme_admin;
SELECT code FROM credimport.credit_type WHERE code IN ('CME', 'GXCME', 'NOSUCH') ORDER BY 1;
SELECT * FROM credimport_credential_types() WHERE code IN ('TENRN', 'GXRN') ORDER BY 1;
CREATE TEMP TABLE ten_types AS
SELECT 'credit' AS kind, line_no, errors FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,Acme U,Types,AC-T,2024-01-01,1,GXCME\n'
    'a.one@example.org,Acme U,Types,AC-T,2024-01-01,1,NOSUCH\n', 'email', validate_only => true);
INSERT INTO ten_types
SELECT 'credential', line_no, errors FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\n'
    'a.one@example.org,GXRN,AC-T1,2020-01-01\n'
    'a.one@example.org,NOSUCH,AC-T1,2020-01-01\n', 'email', validate_only => true);
RESET ROLE;
SELECT n.kind, n.errors AS no_such_type,
       replace(g.errors::text, 'GXCME', 'NOSUCH') = n.errors::text
       OR replace(g.errors::text, 'GXRN', 'NOSUCH') = n.errors::text AS same_message
  FROM ten_types g JOIN ten_types n ON n.kind = g.kind AND n.line_no = 3
 WHERE g.line_no = 2 ORDER BY 1;
DROP TABLE ten_types;
-- globex uses both (loaded above); acme may have a type of the same code
INSERT INTO credimport.credit_type (code, name, tenant_id) VALUES ('gxcme', 'Acme''s own GXCME', 'acme');
SET ROLE acme_admin;
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,Acme U,Types,AC-T,2024-01-01,1,GXCME\n', 'email', validate_only => true);
RESET ROLE;

-- ---------------------------------------------------------------------------
-- 7. roles of no tenant, of two, and the superuser: refused, nothing written
-- ---------------------------------------------------------------------------
SELECT count(*) AS batches_before FROM credimport.batch \gset
SELECT count(*) AS learners_before FROM credimport.learner \gset
SET ROLE ten_nobody;
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,P,T,N-1,2024-01-01,1,CME\n', 'email')$$);
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,P,T,N-1,2024-01-01,1,CME\n', 'email', validate_only => true)$$);
SELECT * FROM expect_error($$SELECT * FROM credimport_load_users_data(E'email\nnew.nobody@example.org\n')$$);
SELECT * FROM expect_error($$SELECT * FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\na.one@example.org,TENRN,N-1,2020-01-01\n', 'email')$$);
SELECT * FROM expect_error($$INSERT INTO credimport.learner (email) VALUES ('direct.nobody@example.org')$$);
-- it sees nothing of anyone's (but the shared types)
SELECT tab, rows FROM public.ten_seen() WHERE rows > 0;
RESET ROLE;
-- (a session of ten_both's own)
SET SESSION AUTHORIZATION ten_both;
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,P,T,N-1,2024-01-01,1,CME\n', 'email')$$);
RESET SESSION AUTHORIZATION;
-- a role's tenants follow its memberships as they change (the cache of
-- them is dropped), in a transaction and across transactions
BEGIN;
GRANT globex TO ten_nobody;
SET ROLE ten_nobody;
SELECT credimport.current_tenant() AS current_tenant, count(*) AS batches_seen FROM credimport.batch;
RESET ROLE;
REVOKE globex FROM ten_nobody;
SET ROLE ten_nobody;
SELECT credimport.caller_tenants() AS caller_tenants, count(*) AS batches_seen FROM credimport.batch;
RESET ROLE;
COMMIT;
GRANT globex TO ten_nobody;
SET ROLE ten_nobody;
SELECT credimport.current_tenant() AS current_tenant;
RESET ROLE;
REVOKE globex FROM ten_nobody;
SET ROLE ten_nobody;
SELECT credimport.caller_tenants() AS caller_tenants;
RESET ROLE;
-- a superuser without SET ROLE (the name of this file's superuser masked)
SELECT e.sqlstate, replace(e.message, current_user, '<superuser>') AS message, e.detail, e.hint
  FROM expect_error($$SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,P,T,N-1,2024-01-01,1,CME\n', 'email')$$) e;
SELECT e.sqlstate, replace(e.message, current_user, '<superuser>') AS message, e.detail, e.hint
  FROM expect_error($$SELECT * FROM credimport_load_users_data(E'email,first_name,last_name\nnew.super@example.org,New,Super\n')$$) e;
SELECT (SELECT count(*) FROM credimport.batch) - :batches_before AS batches_written,
       (SELECT count(*) FROM credimport.learner) - :learners_before AS learners_written;
-- SET ROLE to one tenant's role: a load for that tenant
SET SESSION AUTHORIZATION ten_both;
SET ROLE acme;
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'a.one@example.org,P,T,N-1,2024-01-01,1,CME\n', 'email', validate_only => true);
RESET SESSION AUTHORIZATION;
SET ROLE globex;
SELECT line_no, status FROM credimport_load_users_data(E'email,first_name,last_name\nnew.super@example.org,New,Super\n',
                                                       validate_only => true);
RESET ROLE;
SELECT imported_by, tenant_id, kind, status FROM credimport.batch ORDER BY id DESC LIMIT 2;

-- ---------------------------------------------------------------------------
-- 8. adopt: a database of one organization becomes a tenant's (rolled back)
-- ---------------------------------------------------------------------------
BEGIN;
-- (the rows of the earlier files are set aside, so that the counts are this file's)
UPDATE credimport.learner SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.credit SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.credential SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.learner_link SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.invitation SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.batch SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.batch_error SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.batch_record SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
UPDATE credimport.provenance SET tenant_id = '(aside)' WHERE tenant_id IS NULL;
INSERT INTO credimport.learner (email, tenant_id) VALUES ('old.one@example.org', NULL), ('old.two@example.org', NULL);
INSERT INTO credimport.credit (learner_id, provider, course_title, course_id, completion_date, number_credits,
                               credit_type_id, user_editable, tenant_id)
SELECT l.id, 'Old', 'Old', 'OLD-1', '2020-01-01', 1, t.id, false, NULL
  FROM credimport.learner l, credimport.credit_type t WHERE l.email = 'old.one@example.org' AND t.code = 'CME';
CREATE ROLE initech NOLOGIN;
GRANT initech TO ten_nobody;
SELECT credimport_create_tenant('initech', 'initech', adopt => true);
SELECT email, tenant_id FROM credimport.learner WHERE email LIKE 'old.%' ORDER BY 1;
SET ROLE ten_nobody;
SELECT credimport.current_tenant() AS current_tenant;
SELECT email FROM credimport.learner ORDER BY 1;
SELECT course_id FROM credimport.credit;
RESET ROLE;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- dropping the tenants: tenancy is off again
-- ---------------------------------------------------------------------------
SELECT * FROM expect_error($$SELECT credimport_drop_tenant('no such tenant')$$);
SET ROLE acme_admin;
SELECT * FROM expect_error($$SELECT credimport_drop_tenant('globex')$$);
SELECT * FROM expect_error($$DELETE FROM credimport.tenant$$);
RESET ROLE;
-- (what this file wrote goes; the rows of the earlier files stay)
DELETE FROM credimport.provenance WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.invitation WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.learner_link WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.credential WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.credit WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.learner WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.batch WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.credit_type WHERE tenant_id IN ('acme', 'globex');
DELETE FROM credimport.credential_type WHERE tenant_id IN ('acme', 'globex') OR code = 'TENRN';
SELECT credimport_drop_tenant('acme');
-- a dropped tenant's rows stay, visible to none of its members
SET ROLE acme_admin;
SELECT * FROM expect_error($$SELECT credimport.current_tenant()$$);
RESET ROLE;
SELECT credimport_drop_tenant('globex');
SELECT count(*) AS tenants FROM credimport.tenant;
SET ROLE acme_admin;
SELECT credimport.current_tenant() AS current_tenant, credimport.caller_tenants() AS caller_tenants;
RESET ROLE;
SELECT count(*) AS rows_of_tenants FROM (
    SELECT tenant_id FROM credimport.learner UNION ALL SELECT tenant_id FROM credimport.credit
    UNION ALL SELECT tenant_id FROM credimport.credential UNION ALL SELECT tenant_id FROM credimport.batch
    UNION ALL SELECT tenant_id FROM credimport.batch_error UNION ALL SELECT tenant_id FROM credimport.batch_record
    UNION ALL SELECT tenant_id FROM credimport.invitation UNION ALL SELECT tenant_id FROM credimport.learner_link
    UNION ALL SELECT tenant_id FROM credimport.provenance UNION ALL SELECT tenant_id FROM credimport.credit_type
    UNION ALL SELECT tenant_id FROM credimport.credential_type) t WHERE tenant_id IS NOT NULL;

DROP FUNCTION ten_seen();
SELECT credimport_revoke_loader(r) FROM unnest('{acme,globex,ten_nobody}'::regrole[]) r;
DROP ROLE acme_admin;
DROP ROLE acme_clerk;
DROP ROLE globex_admin;
DROP ROLE ten_nobody;
DROP ROLE ten_both;
DROP ROLE acme;
DROP ROLE globex;
SELECT setval('credimport.batch_id_seq', :t_batch_seq, :'t_batch_called') > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :t_learner_seq, :'t_learner_called') > 0 AS learner_seq_restored,
       setval('credimport.credit_id_seq', :t_credit_seq, :'t_credit_called') > 0 AS credit_seq_restored,
       setval('credimport.credential_id_seq', :t_cred_seq, :'t_cred_called') > 0 AS credential_seq_restored;
