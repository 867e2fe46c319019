--
-- tenants_review: findings of the adversarial review of issue 17 (trev).
-- The expected output shows the CORRECT behaviour: the file FAILS until
-- the findings are fixed.  Everything created here is removed at the end
-- (rows, roles, tenants; the sequences are given back).
--
SELECT last_value AS r_batch_seq, is_called AS r_batch_called FROM credimport.batch_id_seq \gset
SELECT last_value AS r_learner_seq, is_called AS r_learner_called FROM credimport.learner_id_seq \gset
SELECT setval('credimport.batch_id_seq', 800) AS batches_from;
CREATE ROLE rv_acme NOLOGIN;
CREATE ROLE rv_globex NOLOGIN;
CREATE ROLE rv_acme_admin NOLOGIN IN ROLE rv_acme, credimport_admin;
CREATE ROLE rv_globex_admin NOLOGIN IN ROLE rv_globex, credimport_admin;
SELECT credimport_grant_loader(r) FROM unnest('{rv_acme,rv_globex}'::regrole[]) r;
SELECT credimport_create_tenant('rv_acme', 'rv_acme');
SELECT credimport_create_tenant('rv_globex', 'rv_globex');

-- globex's people: a student and her parent
SET ROLE rv_globex_admin;
SELECT line_no, status FROM credimport_load_users_data(
    E'email,first_name,last_name\nrv.kid@example.org,Kid,G\nrv.mom@example.org,Mom,G\n');
RESET ROLE;
SELECT id AS g_kid FROM credimport.learner WHERE email = 'rv.kid@example.org' \gset
SELECT id AS g_mom FROM credimport.learner WHERE email = 'rv.mom@example.org' \gset
SET rv.kid = :g_kid;
SET rv.mom = :g_mom;

-- ---------------------------------------------------------------------------
-- F2: the key of credimport.learner_link has no tenant.  acme's admin writes
-- a link of its own tenant between globex's learners (ids are sequential);
-- globex's users load of that association then inserts ON CONFLICT DO
-- NOTHING, reports the row as loaded, and globex has no link.
-- Expected: acme's row is refused, or does not stop globex's own link.
-- ---------------------------------------------------------------------------
SET ROLE rv_acme_admin;
DO $$
BEGIN
    INSERT INTO credimport.learner_link (learner_id, related_learner_id, relation)
    VALUES (current_setting('rv.kid')::bigint, current_setting('rv.mom')::bigint, 'parent');
EXCEPTION WHEN OTHERS THEN NULL;   -- refused: fine
END $$;
RESET ROLE;
SET ROLE rv_globex_admin;
SELECT line_no, status FROM credimport_load_users_data(
    E'email,first_name,last_name,role,student\nrv.mom@example.org,Mom,G,parent,rv.kid@example.org\n');
-- globex sees its association
SELECT count(*) AS globex_links FROM credimport.learner_link
 WHERE learner_id = :g_kid AND related_learner_id = :g_mom AND relation = 'parent';
RESET ROLE;

-- ---------------------------------------------------------------------------
-- F2b: an invitation of acme's, with a token acme chose, for globex's
-- learner (the foreign key ignores row-level security; invitation_insert
-- checks only the batch).  A mail sender that sends every pending
-- invitation (as the owner) mails globex's learner a token acme knows.
-- Expected: refused -- no invitation names a learner of another tenant.
-- ---------------------------------------------------------------------------
SET ROLE rv_acme_admin;
SELECT line_no, status FROM credimport_load_users_data(E'email,first_name,last_name\nrv.a@example.org,A,One\n');
DO $$
BEGIN
    INSERT INTO credimport.invitation (learner_id, batch_id, token)
    SELECT current_setting('rv.kid')::bigint, max(b.id), 'rv-acme-knows-this-token' FROM credimport.batch b;
EXCEPTION WHEN OTHERS THEN NULL;   -- refused: fine
END $$;
RESET ROLE;
SELECT count(*) AS invitations_across_tenants
  FROM credimport.invitation i JOIN credimport.learner l ON l.id = i.learner_id
 WHERE i.tenant_id IS DISTINCT FROM l.tenant_id;

-- ---------------------------------------------------------------------------
-- F3: a tenant's load cannot use the e-mail index.  The loads match e-mails
-- with lower(email) = ANY ($1); with row-level security on learner (1.6)
-- lower() is not leakproof, so the clause may not be an index condition:
-- every load of every tenant reads the whole table, all tenants' learners.
-- Expected: the index on lower(email) serves a tenant's lookup.
-- ---------------------------------------------------------------------------
CREATE FUNCTION rv_plan_uses(q text, ix text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF position(ix IN l) > 0 THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;
SET enable_seqscan = off;
-- the table's owner: the index serves
SELECT rv_plan_uses($$SELECT pg_catalog.lower(t.email), t.id FROM credimport.learner t
                      WHERE pg_catalog.lower(t.email) OPERATOR(pg_catalog.=) ANY ('{rv.kid@example.org}'::text[])$$,
                    'learner_email_key') AS owner_uses_index;
SET ROLE rv_globex_admin;
SELECT rv_plan_uses($$SELECT pg_catalog.lower(t.email), t.id FROM credimport.learner t
                      WHERE pg_catalog.lower(t.email) OPERATOR(pg_catalog.=) ANY ('{rv.kid@example.org}'::text[])$$,
                    'learner_email_key') AS tenant_uses_index;
RESET ROLE;
RESET enable_seqscan;
DROP FUNCTION rv_plan_uses(text, text);

-- ---------------------------------------------------------------------------
-- F9: a platform table whose row key is unique per tenant only (PRIMARY KEY
-- (org, id), ids numbered per organization) is accepted as a target in 1.6;
-- revert (and approve) find a batch's rows by the keys provenance recorded,
-- as the table's owner, with no tenant: acme's revert deletes globex's row
-- that has the same id.
-- Expected: globex's row stays (or set_target refuses such a key).
-- ---------------------------------------------------------------------------
CREATE SCHEMA rv_app;
GRANT USAGE ON SCHEMA rv_app TO rv_acme, rv_globex;
CREATE SEQUENCE rv_app.tseq;
GRANT USAGE ON SEQUENCE rv_app.tseq TO rv_acme, rv_globex;
CREATE TABLE rv_app.transcript (
    org text NOT NULL DEFAULT credimport.current_tenant(),
    id bigint NOT NULL DEFAULT nextval('rv_app.tseq'),
    user_id bigint NOT NULL, type_id bigint NOT NULL, provider text, course_code text NOT NULL,
    title text NOT NULL, completed_on date NOT NULL, credits numeric NOT NULL,
    PRIMARY KEY (org, id), UNIQUE (org, user_id, course_code, type_id, completed_on));
ALTER TABLE rv_app.transcript ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_rows ON rv_app.transcript
    USING (org = ANY ((SELECT credimport.caller_tenants())::text[]))
    WITH CHECK (org = ANY ((SELECT credimport.caller_tenants())::text[]));
GRANT SELECT, INSERT ON rv_app.transcript TO rv_acme, rv_globex;
SELECT credimport_set_target('credit', 'rv_app.transcript',
       '{"tenant_id": "org", "learner_id": "user_id", "credit_type_id": "type_id",
         "course_id": "course_code", "course_title": "title",
         "completion_date": "completed_on", "number_credits": "credits"}');
-- globex's own row number 1
INSERT INTO rv_app.transcript (org, id, user_id, type_id, course_code, title, completed_on, credits)
SELECT 'rv_globex', 1, :g_kid, t.id, 'GLOBEX-OWN', 'Globex own', '2024-01-01', 5
  FROM credimport.credit_type t WHERE t.code = 'CME' AND t.tenant_id IS NULL;
SET ROLE rv_acme_admin;
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'rv.a@example.org,P,T,RV-A,2024-01-01,1,CME\n', 'email');
SELECT credimport_last_batch_id() AS rv_acme_credits \gset
SELECT * FROM credimport_revert(:rv_acme_credits);
RESET ROLE;
SELECT org, id, course_code FROM rv_app.transcript ORDER BY org, id;
SELECT credimport_reset_target('credit');
DROP SCHEMA rv_app CASCADE;

-- ---------------------------------------------------------------------------
-- everything removed
-- ---------------------------------------------------------------------------
DELETE FROM credimport.learner_link WHERE tenant_id IN ('rv_acme', 'rv_globex');
DELETE FROM credimport.invitation WHERE tenant_id IN ('rv_acme', 'rv_globex');
DELETE FROM credimport.learner WHERE tenant_id IN ('rv_acme', 'rv_globex');
DELETE FROM credimport.batch WHERE tenant_id IN ('rv_acme', 'rv_globex');
SELECT credimport_drop_tenant('rv_acme'), credimport_drop_tenant('rv_globex');
SELECT credimport_revoke_loader(r) FROM unnest('{rv_acme,rv_globex}'::regrole[]) r;
DROP ROLE rv_acme_admin;
DROP ROLE rv_globex_admin;
DROP ROLE rv_acme;
DROP ROLE rv_globex;
SELECT setval('credimport.batch_id_seq', :r_batch_seq, :'r_batch_called') > 0 AS batch_seq_restored,
       setval('credimport.learner_id_seq', :r_learner_seq, :'r_learner_called') > 0 AS learner_seq_restored;
