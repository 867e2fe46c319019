--
-- privileges: least privilege for loaders (credimport_grant_loader), the
-- approval right, the administrator role, the file-privilege check, and no
-- hijacking through the caller's search_path
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'

CREATE ROLE credimport_clerk;     -- a loader, no file access
CREATE ROLE credimport_reader;    -- a loader with pg_read_server_files
CREATE ROLE credimport_other;     -- another loader
CREATE ROLE credimport_approver;  -- a loader with the approval right
CREATE ROLE credimport_boss;      -- a member of credimport_admin
GRANT pg_read_server_files TO credimport_reader;
GRANT credimport_admin TO credimport_boss;

-- what PUBLIC may execute: nothing that loads, reports, reverts, approves
-- or grants
SELECT p.oid::regprocedure AS public_may_execute
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'credimport'
 WHERE has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1::text;
SET ROLE credimport_clerk;
SELECT * FROM credimport_load(:'fx' || 'privileged.csv', 'email');
SELECT credimport_grant_loader('credimport_clerk');
RESET ROLE;

-- one call grants a loader what it needs
SELECT credimport_grant_loader(r)
  FROM unnest('{credimport_clerk,credimport_reader,credimport_other,credimport_approver}'::regrole[]) r;
SELECT credimport_grant_approver('credimport_approver');

-- neither a sequence nor the tokens nor deleting: not needed to load
SELECT has_sequence_privilege('credimport_clerk', 'credimport.credit_id_seq', 'USAGE') AS sequence_usage,
       has_table_privilege('credimport_clerk', 'credimport.invitation', 'SELECT') AS reads_invitations,
       has_table_privilege('credimport_clerk', 'credimport.credit', 'DELETE') AS deletes_credits,
       has_column_privilege('credimport_clerk', 'credimport.batch', 'status', 'UPDATE') AS updates_status,
       has_column_privilege('credimport_clerk', 'credimport.batch', 'finished_at', 'UPDATE') AS updates_finished_at;

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

-- a loader loads every kind through the doors it has, and reads its own
-- batches, problems and reports
CREATE TABLE priv_stage (email text, provider text, course_title text, course_id text,
                         completion_date text, number_credits text, credit_type text);
INSERT INTO priv_stage VALUES ('ada@example.org', 'Stage', 'Staged', 'PRIV-S1', '2024-07-02', '1', 'CME');
GRANT SELECT ON priv_stage TO credimport_clerk;
INSERT INTO credimport.credential_type (code, name) VALUES ('PRIVRN', 'Nurse (privileges test)');
SET ROLE credimport_clerk;
SELECT line_no, status, errors FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'ada@example.org,Clerk,Clerk course,PRIV-C1,2024-07-03,1,CME\n'
    'secret.person@example.org,Clerk,Clerk course,PRIV-C1,2024-07-03,1,CME\n', 'email', max_errors => 1);
SELECT credimport_last_batch_id() AS clerk_batch \gset
SELECT line_no, status FROM credimport_load('priv_stage'::regclass, 'email');
SELECT credimport_last_batch_id() AS clerk_stage_batch \gset
SELECT line_no, status FROM credimport_load_users_data(
    E'email,first_name,last_name,role,parent\npriv.kid@example.org,Priv,Kid,student,priv.parent@example.org\n'
    'priv.parent@example.org,Priv,Parent,parent,\n', auto_invite => true);
SELECT line_no, status FROM credimport_load_users_data(E'email,last_name\npriv.kid@example.org,Kidd\n');
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\nada@example.org,PRIVRN,P-1,2020-01-01\n'
    'grace@example.org,PRIVRN,P-2,2020-01-01\n', 'email');
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,action\nada@example.org,PRIVRN,P-1,2020-01-02,update\n'
    'grace@example.org,PRIVRN,P-2,2020-01-01,delete\n', 'email');
-- this batch holds P-1, pending
SELECT credimport_last_batch_id() AS clerk_cred_batch \gset
SELECT kind, status, records, imported, invalid FROM credimport.batch ORDER BY id;
SELECT line_no, code FROM credimport.batch_error WHERE batch_id = :clerk_batch;
SELECT credimport_error_report(:clerk_batch);
SELECT length(credimport_error_report(:clerk_batch, 'xlsx')) > 0 AS xlsx_report;
RESET ROLE;

-- another loader sees none of it: no batch, problem, invalid record (the
-- personal data of secret.person) or invitation token
SET ROLE credimport_other;
SELECT count(*) AS batches_seen FROM credimport.batch;
SELECT count(*) AS problems_seen FROM credimport.batch_error;
SELECT count(*) AS records_seen FROM credimport.batch_record;
SELECT token FROM credimport.invitation;
-- cannot rewrite another's audit row, nor its own
WITH u AS (UPDATE credimport.batch SET finished_at = now() WHERE id = :clerk_batch RETURNING 1)
SELECT count(*) AS rows_updated FROM u;
UPDATE credimport.batch SET imported_by = 'nobody', status = 'reverted' WHERE id = :clerk_batch;
-- reports, reverts and approvals of another's batch: as if it did not exist
SELECT credimport_error_report(:clerk_batch);
SELECT credimport_error_report(:clerk_batch, 'xlsx');
SELECT * FROM credimport_revert(:clerk_stage_batch);
-- no approval right: not through the function, the loader or the table
SELECT credimport_approve(:clerk_cred_batch);
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\nada@example.org,PRIVRN,P-3,2020-01-01\n', 'email',
    approve => true);
UPDATE credimport.credential SET status = 'approved', approved_at = now(), approved_by = current_user
 WHERE batch_id = :clerk_cred_batch;
INSERT INTO credimport.credential (learner_id, credential_type_id, license_number, issue_date, status, approved_at)
SELECT l.id, t.id, 'P-4', '2020-01-01', 'approved', now()
  FROM credimport.learner l, credimport.credential_type t
 WHERE l.email = 'ada@example.org' AND t.code = 'PRIVRN';
-- nor delete what loads wrote
DELETE FROM credimport.credit WHERE batch_id = :clerk_stage_batch;
DELETE FROM credimport.batch WHERE id = :clerk_batch;
-- its own batch is its own
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'grace@example.org,Other,Other course,PRIV-O1,2024-07-04,1,CME\n', 'email');
SELECT credimport_last_batch_id() AS other_batch \gset
SELECT imported_by, kind, status FROM credimport.batch;
RESET ROLE;
SELECT status FROM credimport.batch WHERE id = :clerk_batch;
SELECT status, approved_at IS NULL AS not_approved FROM credimport.credential WHERE batch_id = :clerk_cred_batch;

-- of its own batch's row a loader may change only what a load fills in
-- after the insert (an allow list): not its mapping, source or status
SET ROLE credimport_clerk;
UPDATE credimport.batch SET columns = '{"x": "email"}' WHERE id = :clerk_batch;
UPDATE credimport.batch SET status = 'reverted' WHERE id = :clerk_batch;
UPDATE credimport.batch SET finished_at = finished_at WHERE id = :clerk_batch;
RESET ROLE;

-- a loader reverts its own batch (without DELETE on credits)
SET ROLE credimport_clerk;
SELECT * FROM credimport_revert(:clerk_stage_batch);
SELECT * FROM credimport_revert(:other_batch);
RESET ROLE;

-- a loader updates only the learner columns the users loader updates:
-- never id, created_by_batch or created_at, which credimport_revert (it
-- deletes as the tables' owner) relies on; and revert deletes only learners
-- of the batch that no other batch's link or invitation holds
SELECT has_column_privilege('credimport_other', 'credimport.learner', 'first_name', 'UPDATE') AS updates_first_name,
       has_column_privilege('credimport_other', 'credimport.learner', 'profile', 'UPDATE') AS updates_profile,
       has_column_privilege('credimport_other', 'credimport.learner', 'created_by_batch', 'UPDATE') AS updates_created_by_batch,
       has_column_privilege('credimport_other', 'credimport.learner', 'created_at', 'UPDATE') AS updates_created_at,
       has_column_privilege('credimport_other', 'credimport.learner', 'id', 'UPDATE') AS updates_id,
       has_column_privilege('credimport_other', 'credimport.learner', 'active', 'UPDATE') AS updates_active;
SET ROLE credimport_other;
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'grace@example.org,Other,Other course,PRIV-O2,2024-07-05,1,CME\n', 'email');
SELECT credimport_last_batch_id() AS other_batch2 \gset
UPDATE credimport.learner SET created_by_batch = :other_batch2 WHERE email = 'priv.parent@example.org';
RESET ROLE;
-- (as if it had: the learner is held by the clerk's link and invitation)
SELECT created_by_batch AS parent_batch FROM credimport.learner WHERE email = 'priv.parent@example.org' \gset
UPDATE credimport.learner SET created_by_batch = :other_batch2 WHERE email = 'priv.parent@example.org'
RETURNING email;
SET ROLE credimport_other;
SELECT * FROM credimport_revert(:other_batch2);
RESET ROLE;
SELECT l.email, count(k.*) AS links, (SELECT count(*) FROM credimport.invitation i WHERE i.learner_id = l.id) AS invitations
  FROM credimport.learner l LEFT JOIN credimport.learner_link k ON k.related_learner_id = l.id
 WHERE l.email = 'priv.parent@example.org' GROUP BY l.email, l.id;
UPDATE credimport.learner SET created_by_batch = :parent_batch WHERE email = 'priv.parent@example.org';

-- the approval right: approve => true, and credimport_approve on its own batches
SET ROLE credimport_approver;
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\nada@example.org,PRIVRN,P-5,2020-01-01\n', 'email',
    approve => true);
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\ngrace@example.org,PRIVRN,P-6,2020-01-01\n', 'email');
SELECT credimport_approve(credimport_last_batch_id()) AS approved_own;
SELECT credimport_approve(:clerk_cred_batch);
RESET ROLE;
SELECT license_number, status, approved_by FROM credimport.credential
 WHERE license_number IN ('P-1', 'P-5', 'P-6') ORDER BY 1;

-- the administrator role acts on every batch and sends the invitations
SET ROLE credimport_boss;
SELECT imported_by, count(*) FROM credimport.batch
 WHERE imported_by IN ('credimport_clerk', 'credimport_other', 'credimport_approver', 'credimport_reader')
 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS invitations_seen FROM credimport.invitation WHERE batch_id > :clerk_batch;
SELECT credimport_invitation_sent((SELECT token FROM credimport.invitation ORDER BY created_at DESC LIMIT 1));
SELECT credimport_approve(:clerk_cred_batch) AS approved_by_admin;
SELECT length(credimport_error_report(:clerk_batch)) > 0 AS report_of_another;
SELECT * FROM credimport_revert(:other_batch);
RESET ROLE;

-- revoking: nothing is left
SELECT credimport_revoke_loader('credimport_other');
SELECT credimport_revoke_approver('credimport_approver');
SELECT (SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = 'credimport_other')
     + (SELECT count(*) FROM information_schema.column_privileges WHERE grantee = 'credimport_other')
     + (SELECT count(*) FROM information_schema.role_routine_grants WHERE grantee = 'credimport_other')
     + (SELECT count(*) FROM information_schema.usage_privileges WHERE grantee = 'credimport_other') AS privileges_left;
SET ROLE credimport_other;
SELECT * FROM credimport_load_data(E'email\n', 'email');
RESET ROLE;
SET ROLE credimport_approver;
SELECT credimport_approve(:clerk_cred_batch);
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

DROP TABLE priv_stage;
SELECT credimport_revoke_loader(r)
  FROM unnest('{credimport_clerk,credimport_reader,credimport_approver}'::regrole[]) r;
DROP ROLE credimport_clerk;
DROP ROLE credimport_reader;
DROP ROLE credimport_other;
DROP ROLE credimport_approver;
DROP ROLE credimport_boss;
