--
-- test/review/defects.sql -- reproductions of defects found in review
-- (branch review), each an assertion that FAILS while the defect is there.
-- Not in the regression schedule (the owners of the code fix and move
-- them).  Run in a scratch database with the extension installed, as a
-- superuser:
--     createdb rvx && psql -d rvx -c 'CREATE EXTENSION credimport' \
--         && psql -d rvx -X -f test/review/defects.sql
-- Each block prints "ok" or "DEFECT <n>: ...".
--
-- Fixed and moved into the suite: D1 (sql/limits.sql), D2
-- (test/t/006_problem_memory.pl, sql/limits.sql), D4 (sql/privileges.sql),
-- D7 (sql/report.sql), D8 (test/unit/test_xlsx_reader.c, sql/report.sql),
-- and in 1.6 (sql/tenants.sql): D6 (a loader's INSERT on credimport.batch
-- is per column, never id), D5 and D9 (the restrictive policies
-- batch_seen_insert/_update: a row names only a batch its writer sees --
-- across tenants, and within one for every loader but credimport_admin's
-- members, who see all their tenant's batches).
-- 1.6 (tenants) closes D3 ACROSS tenants (sql/tenants.sql: a tenant's role
-- deletes no credential of another tenant) but not within one.
-- Still OPEN: D3 below between two loaders of ONE tenant (or with tenancy
-- off) -- loads run with the caller's rights, so a loader holds table
-- privileges it can also use directly; the lead documents it.  D5 between
-- two members of credimport_admin of one tenant (by design: they act on
-- every batch of their tenant).
-- OPEN since 1.6: D10 below, across tenants -- foreign keys are checked
-- without row-level security, so they tell whether an id exists.
--
\set VERBOSITY terse
SET client_min_messages = warning;

-- least privilege: two loaders (credimport_grant_loader)
CREATE ROLE rv_la; CREATE ROLE rv_lb;
SELECT credimport_grant_loader('rv_la'), credimport_grant_loader('rv_lb');
INSERT INTO credimport.credit_type (code, name) VALUES ('RVCME', 'review') ON CONFLICT DO NOTHING;
INSERT INTO credimport.credential_type (code, name) VALUES ('RVRN', 'review nurse') ON CONFLICT DO NOTHING;
SET ROLE rv_lb;
SELECT count(*) FROM credimport_load_users_data(E'email,first_name,last_name\nrv.b1@example.org,B,One\nrv.b2@example.org,B,Two\n');
SELECT count(*) FROM credimport_load_data(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
                                          'rv.b1@example.org,P,T,RV-B,2024-01-01,1,RVCME\n', 'email');
SELECT credimport_last_batch_id() AS b_credits \gset
SELECT count(*) FROM credimport_load_credentials_data(E'email,credential_type,license_number,issue_date\n'
                                                      'rv.b1@example.org,RVRN,RV-L1,2020-01-01\n', 'email');
RESET ROLE;

-- OPEN (D3: loads run with the caller's rights, so a loader holds table
-- privileges it can use directly; left to the lead to document).  Both
-- loaders here are of one tenant (tenancy is off): across tenants the
-- restrictive policy tenant_rows closes it (sql/tenants.sql)
-- D3: loader A deletes loader B's credentials (policy credential_delete USING (true))
SET ROLE rv_la;
DELETE FROM credimport.credential WHERE license_number = 'RV-L1';
RESET ROLE;
SELECT CASE WHEN EXISTS (SELECT FROM credimport.credential WHERE license_number = 'RV-L1') THEN 'ok'
            ELSE 'DEFECT 3: loader A deleted loader B''s credential' END AS d3;

-- D5 (fixed in 1.6, kept as the reproduction of D9's fix within one
-- tenant): loader A writes a credit into B's batch, unvalidated (INSERT on
-- credit, no row-level security): B's audit trail and revert now cover it
SET ROLE rv_la;
INSERT INTO credimport.credit (learner_id, batch_id, provider, course_title, course_id, completion_date,
                               number_credits, credit_type_id, user_editable)
SELECT l.id, :b_credits, '=HYPERLINK("http://evil.example")', '', 'RV-FORGED', '1900-01-01', 999999,
       (SELECT id FROM credimport.credit_type WHERE code = 'RVCME'), false
  FROM credimport.learner l WHERE email = 'rv.b1@example.org';
RESET ROLE;
SELECT CASE WHEN NOT EXISTS (SELECT FROM credimport.credit WHERE course_id = 'RV-FORGED') THEN 'ok'
            ELSE 'DEFECT 5: loader A wrote an unvalidated credit into loader B''s batch' END AS d5;

-- D9 (fixed in 1.6 by the policies batch_seen_insert/_update; the fix's
-- test is in sql/tenants.sql) across tenants: tenant A's loader writes a row of its own
-- tenant that names tenant B's batch -- the foreign key is checked without
-- row-level security, so the INSERT succeeds -- and B's credimport_approve
-- (and credimport_revert), which act by batch_id as the tables' owner, then
-- approve (delete) A's row and count it: A, without the approval right, has
-- its credential approved by B's approver.
CREATE ROLE rv_ta; CREATE ROLE rv_tb;              -- the tenants' roles
CREATE ROLE rv_a IN ROLE rv_ta; CREATE ROLE rv_b IN ROLE rv_tb;
SELECT credimport_grant_loader('rv_ta'), credimport_grant_loader('rv_tb'), credimport_grant_approver('rv_b');
SELECT credimport_create_tenant('rv_org_a', 'rv_ta'), credimport_create_tenant('rv_org_b', 'rv_tb');
SET ROLE rv_b;
SELECT count(*) FROM credimport_load_users_data(E'email,first_name,last_name\nrv.tb1@example.org,B,One\n');
SELECT count(*) FROM credimport_load_credentials_data(E'email,credential_type,license_number,issue_date\n'
                                                      'rv.tb1@example.org,RVRN,RV-TB1,2020-01-01\n', 'email');
SELECT credimport_last_batch_id() AS b_tenant_creds \gset
RESET ROLE;
SET rv.batch = :b_tenant_creds;
SET ROLE rv_a;
SELECT count(*) FROM credimport_load_users_data(E'email,first_name,last_name\nrv.ta1@example.org,A,One\n');
DO $$ BEGIN
  INSERT INTO credimport.credential (learner_id, credential_type_id, license_number, issue_date, batch_id)
  SELECT l.id, t.id, 'RV-PLANTED', '2020-01-01', current_setting('rv.batch')::bigint
    FROM credimport.learner l, credimport.credential_type t
   WHERE l.email = 'rv.ta1@example.org' AND t.code = 'RVRN';
EXCEPTION WHEN others THEN RAISE NOTICE 'refused: %', SQLERRM;
END $$;
RESET ROLE;
SET ROLE rv_b;
SELECT credimport_approve(:b_tenant_creds) AS approved_by_b;
RESET ROLE;
SELECT CASE WHEN NOT EXISTS (SELECT FROM credimport.credential WHERE license_number = 'RV-PLANTED' AND status = 'approved')
            THEN 'ok'
            ELSE 'DEFECT 9: tenant B''s approval approved a credential tenant A wrote into B''s batch' END AS d9;

-- D10 (1.6, across tenants): the same foreign keys tell tenant A whether a
-- learner id (or batch id) exists in any tenant: an INSERT naming B's
-- learner succeeds, one naming no learner fails.  Such a row of A's also
-- holds B's learner when B reverts the batch that created it (revert asks
-- every tenant's rows, as the tables' owner): B's learner is kept, and B's
-- NOTICE says something else references it
SELECT id AS b_learner FROM credimport.learner WHERE email = 'rv.tb1@example.org' \gset
SET rv.learner = :b_learner;
SET ROLE rv_a;
DO $$ BEGIN
  INSERT INTO credimport.credit (learner_id, provider, course_title, course_id, completion_date,
                                 number_credits, credit_type_id, user_editable)
  SELECT current_setting('rv.learner')::bigint, 'p', 't', 'RV-PROBE', '2024-01-01', 1, t.id, false
    FROM credimport.credit_type t WHERE t.code = 'RVCME';
  RAISE WARNING 'DEFECT 10: tenant A wrote a credit on tenant B''s learner (and so learned that the id exists)';
EXCEPTION WHEN foreign_key_violation OR insufficient_privilege THEN RAISE WARNING 'ok';
END $$;
RESET ROLE;
SELECT credimport_drop_tenant('rv_org_a'), credimport_drop_tenant('rv_org_b');
