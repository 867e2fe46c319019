--
-- test/citus/compare.sql: the same inputs through every door and kind,
-- printed so that a single node and a Citus cluster can be compared line
-- by line (test/citus/part-10-compare.sh).  Variables: fx (the fixture
-- directory, absolute: the server reads the files), loader (0: run as the
-- superuser; 1: as the loading role cmp_loader).  Results are shown by
-- natural keys (e-mails, codes, course ids), never by generated ids.
--
\set VERBOSITY terse
SET client_min_messages = notice;
-- a fresh platform: the types shared by every organization, four people of
-- organization acme (ghost is deactivated)
SET app.org = 'acme';
TRUNCATE app.transcript, app.license, app.user_link, app.invitation, app.users;
DELETE FROM app.credit_type;
DELETE FROM app.license_type;
INSERT INTO app.credit_type (id, code, name, active) VALUES
    (1, 'CME', 'Continuing Medical Education', true), (2, 'CE', 'Continuing Education', true),
    (3, 'ETHICS', 'Ethics', true), (4, 'OLD', 'Retired credit type', false);
INSERT INTO app.license_type (id, code, title, requires_expiration, active) VALUES
    (1, 'RN', 'Registered nurse', true, true), (2, 'CPR', 'CPR card', true, true),
    (3, 'BOARD', 'Board certification', false, true), (4, 'OLDCERT', 'Retired', false, false);
INSERT INTO app.users (id, email, idnumber, firstname, lastname, active) VALUES
    (1, 'ada@example.org', 'R-ADA', 'Ada', 'Lovelace', true),
    (2, 'Grace@Example.org', 'R-GRACE', 'Grace', 'Hopper', true),
    (3, 'linus@example.org', NULL, 'Linus', 'Torvalds', true),
    (4, 'ghost@example.org', 'R-GHOST', 'Gone', 'Away', false),
    (5, 'sam@shared.example', 'A-SAM', 'Sam', 'Acme', true);
-- organization globex (on the other worker) has a Sam with the same e-mail:
-- with tenancy off, credimport sees both
INSERT INTO app.users (org, id, email, idnumber, firstname, lastname) VALUES
    ('globex', 6, 'sam@shared.example', 'G-SAM', 'Sam', 'Globex');
-- (a limit only the superuser may set: records of more than 1kB are too long)
SET credimport.max_record_bytes = '1kB';

SELECT coalesce(max(id), 0) AS first_batch FROM credimport.batch \gset

\if :loader
SET ROLE cmp_loader;
\endif
SELECT current_user = 'cmp_loader' AS as_loader;

-- what a load returned, by line, with the learner's e-mail
\set res 'SELECT r.line_no, r.status, u.org, coalesce(u.email, u.username) AS learner, r.errors FROM res r LEFT JOIN app.users u ON u.id OPERATOR(pg_catalog.=) r.learner_id ORDER BY r.line_no'
-- every problem the last load stored
\set problems 'SELECT line_no, field, code, message, value FROM credimport.batch_error WHERE batch_id = credimport_last_batch_id() ORDER BY line_no, field, code, message'
-- the batch
\set batch 'SELECT kind, status, records, imported, invalid, skipped, learners_created FROM credimport.batch WHERE id = credimport_last_batch_id()'
-- the platform's rows
\set transcript 'SELECT t.org, u.email, t.course_code, ct.code AS type, t.completed_on, t.credits, t.title, t.provider, t.editable FROM app.transcript t JOIN app.users u ON u.org = t.org AND u.id = t.user_id JOIN app.credit_type ct ON ct.id = t.type_id ORDER BY 1, 2, 3, 4, 5'
\set users 'SELECT org, email, username, idnumber, firstname, lastname, role, active FROM app.users ORDER BY org, email COLLATE "C", username COLLATE "C"'
\set licenses 'SELECT l.org, u.email, lt.code AS type, l.number, l.issuer, l.issued_on, l.expires_on, l.media_url, l.state, l.approved_by FROM app.license l JOIN app.users u ON u.org = l.org AND u.id = l.user_id JOIN app.license_type lt ON lt.id = l.type_id ORDER BY 1, 2, 3, 4'
\set links 'SELECT k.org, coalesce(a.email, a.username) AS learner, k.relation, coalesce(b.email, b.username) AS related FROM app.user_link k JOIN app.users a ON a.org = k.org AND a.id = k.user_id JOIN app.users b ON b.org = k.org AND b.id = k.related_id ORDER BY 1, 2, 3, 4'
\set invitations 'SELECT i.org, coalesce(u.email, u.username) AS learner, length(i.token) AS token_length FROM app.invitation i JOIN app.users u ON u.org = i.org AND u.id = i.user_id ORDER BY 1, 2'

-- ===========================================================================
-- credits
-- ===========================================================================
-- 1. a clean CSV file, by e-mail (the file door)
CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/sample.csv', 'email', allow_edit => true);
:res;
:batch;
-- 2. the same file again: every record is already on the transcript ...
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/sample.csv', 'email');
:res;
-- ... and with if_exists => 'skip' each is skipped, nothing written
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/sample.csv', 'email', if_exists => 'skip');
:res;
:batch;
-- 3. every problem code of the credit loader (content door, text)
\set content `cat "$CMP_FX/errors.csv"`
SELECT * FROM credimport_validate_data(:'content', 'email') ORDER BY line_no, field, code;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_data(:'content', 'email');
:res;
:problems;
:batch;
-- bytes that are not UTF-8 in content: the whole content is refused
SELECT count(*) FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n', 'UTF8')
    || '\x616461406578616d706c652e6f72672c41636d652cff2c432d312c323032342d30312d30312c312c434d450a'::bytea, 'email');
-- a record too long, an ambiguous learner, a quote never closed
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'ada@example.org,Acme,' || repeat('x', 1100) || E',C-2,2024-01-01,1,CME\n'
    'sam@shared.example,Acme,Course S,S-1,2024-01-01,1,CME\n'
    'ada@example.org,Acme,"open,C-3,2024-01-01,1,CME\n', 'email', max_errors => 10);
:res;
:problems;
-- a NUL byte in a file: that record
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/nul_byte.csv', 'email', max_errors => 10);
:res;
:problems;
-- 4. TSV, a workbook (.xlsx), legacy Excel (.xls) and XML: the file door
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/tabs.tsv', 'email');
:res;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/credits.xlsx', 'email', max_errors => 5);
:res;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/credits.xls', 'email', max_errors => 5);
:res;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/credits.xml', 'email', max_errors => 5);
:res;
:problems;
-- the workbook again, sent as content (bytea): already on the transcript
\set content `base64 -w0 "$CMP_FX/credits.xlsx"`
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_data(decode(:'content', 'base64'), 'email', max_errors => 5);
:res;
-- 5. a staging table, by remote id (the staging door)
CREATE TEMP TABLE stg (remote_id text, provider text, course_title text, course_id text,
                       completion_date text, number_credits text, credit_type text);
\copy stg FROM 'test/fixtures/remote.csv' WITH (FORMAT csv, HEADER)
SELECT * FROM credimport_validate('stg'::regclass, 'remote_id') ORDER BY line_no, field, code;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load('stg'::regclass, 'remote_id', max_errors => 5);
:res;
-- 6. the procedure, by user id: rejected (commits the batch, then raises) ...
CALL credimport_import(:'fx' || '/userid.csv', 'user_id', false, NULL, NULL, NULL);
:problems;
-- ... and a clean staging table through it
CREATE TEMP TABLE stg2 AS SELECT * FROM stg WHERE remote_id = 'R-ADA';
UPDATE stg2 SET course_id = 'PROC-1';
CALL credimport_import('stg2', 'remote_id', false, NULL, NULL, NULL);
:batch;
-- 7. full mode: learners created, found by remote id or e-mail
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load(:'fx' || '/full.csv', 'full', max_errors => 10);
:res;
:problems;
:batch;
:transcript;
:users;
-- 8. revert the full-mode batch: its credits and the learners it created
SELECT id AS full_batch FROM credimport.batch WHERE id = credimport_last_batch_id() \gset
SELECT * FROM credimport_revert(:full_batch);
SELECT status FROM credimport.batch WHERE id = :full_batch;
:transcript;
:users;

-- ===========================================================================
-- users, with associations and invitations
-- ===========================================================================
-- 9. every users problem code, validated
SELECT line_no, status, errors FROM credimport_load_users(:'fx' || '/users.csv', validate_only => true, max_errors => 20) ORDER BY line_no;
-- 10. loaded with invalid records allowed, invitations for those created
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_users(:'fx' || '/users.csv', auto_invite => true, max_errors => 20);
:res;
:problems;
SELECT kind, status, records, imported, invalid, learners_created, learners_updated, learners_unchanged FROM credimport.batch WHERE id = credimport_last_batch_id();
SELECT id AS users_batch FROM credimport.batch WHERE id = credimport_last_batch_id() \gset
:users;
:links;
:invitations;
-- 11. a workbook of users (content door, bytea) and the same again: unchanged
\set content `base64 -w0 "$CMP_FX/users.xlsx"`
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_users_data(decode(:'content', 'base64'), sheet => 'Learners');
:res;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_users_data(decode(:'content', 'base64'), sheet => 'Learners');
:res;
-- 12. users from a staging table: an update and a new one
CREATE TEMP TABLE ustg (email text, first_name text, last_name text, role text, parent text);
INSERT INTO ustg VALUES ('grace@example.org', 'Grace', 'Hopper-Murray', NULL, NULL),
                        ('staged.kid@example.org', 'Staged', 'Kid', 'student', 'new.parent@example.org');
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_users('ustg'::regclass);
:res;
-- 13. revert the users batch of step 10: the learners it created go, with
-- their links and invitations, unless something else holds them
SELECT * FROM credimport_revert(:users_batch);
:users;
:links;
:invitations;

-- ===========================================================================
-- credentials
-- ===========================================================================
-- 14. every credentials problem code, and each action
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_credentials(:'fx' || '/credentials.csv', 'email', max_errors => 20);
:res;
:problems;
SELECT kind, status, records, imported, invalid FROM credimport.batch WHERE id = credimport_last_batch_id();
SELECT id AS cred_batch FROM credimport.batch WHERE id = credimport_last_batch_id() \gset
:licenses;
-- 15. approve the batch
SELECT credimport_approve(:cred_batch);
:licenses;
-- 16. XML (file door), approved at once
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_credentials(:'fx' || '/credentials.xml', 'email', approve => true, max_errors => 5);
:res;
-- 17. update and delete (content door, text), by remote id
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_credentials_data(
    E'remote_id,credential_type,license_number,issuer,issue_date,expiration_date,action\n'
    'R-ADA,RN,RN-1001,State Board of Nursing (renamed),2022-01-15,2027-01-15,update\n'
    'R-ADA,BOARD,B-1,,2019-06-01,,delete\n'
    'R-ADA,BOARD,B-404,,2019-06-01,,delete\n'
    'R-GRACE,CPR,CPR-7,Red Cross,2024-03-01,2028-03-01,add\n', 'remote_id', max_errors => 5);
:res;
:licenses;
-- 18. a credentials batch cannot be reverted
SELECT * FROM credimport_revert(credimport_last_batch_id());

-- ===========================================================================
-- a second organization (on the other worker): its own people, an e-mail
-- that acme has too (ambiguous with tenancy off), credits and a revert
-- ===========================================================================
SET app.org = 'globex';
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_users_data(
    E'email,username,first_name,last_name,role,parent,student\n'
    'gus@globex.example,,Gus,Globex,instructor,,kim@globex.example\n'
    'kim@globex.example,,Kim,Globex,student,pam@globex.example,\n'
    'pam@globex.example,,Pam,Globex,parent,,\n'
    ',kid.globex,Kid,Globex,student,pam@globex.example,\n'
    'sam@shared.example,,Samuel,,,,\n', auto_invite => true, max_errors => 5);
:res;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'gus@globex.example,Globex U,Safety,GX-1,2024-06-01,2,CME\n'
    'kim@globex.example,Globex U,Safety,GX-1,2024-06-01,2,CME\n'
    'sam@shared.example,Globex U,Safety,GX-1,2024-06-01,2,CME\n'
    'new.globex@globex.example,Globex U,Safety,GX-1,2024-06-01,2,CME\n', 'email', max_errors => 5);
:res;
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_data(
    E'email,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'new.globex@globex.example,New,Globex,Globex U,Safety,GX-1,2024-06-01,2,CE\n'
    'kim@globex.example,,,Globex U,Safety,GX-2,2024-06-02,1.5,CE\n', 'full');
:res;
SELECT id AS globex_full FROM credimport.batch WHERE id = credimport_last_batch_id() \gset
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,expiration_date\n'
    'kim@globex.example,RN,GX-RN-1,2023-01-01,2027-01-01\n'
    'pam@globex.example,CPR,GX-CPR-1,2023-01-01,2025-01-01\n', 'email', approve => true);
:res;
SELECT * FROM credimport_revert(:globex_full);
DROP TABLE res; CREATE TEMP TABLE res AS SELECT * FROM credimport_load_data(
    E'email,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'new.globex@globex.example,New,Globex,Globex U,Safety,GX-1,2024-06-01,2,CE\n', 'full');
:res;

-- ===========================================================================
-- the end state of the platform, and of credimport's bookkeeping
-- ===========================================================================
RESET ROLE;
:transcript;
:users;
:licenses;
:links;
:invitations;
SELECT kind, status, count(*), sum(records) AS records, sum(imported) AS imported, sum(invalid) AS invalid
  FROM credimport.batch WHERE id > :first_batch GROUP BY 1, 2 ORDER BY 1, 2;
SELECT b.kind, p.role, p.relation, count(*) AS keys
  FROM credimport.provenance_rows p JOIN credimport.batch b ON b.id = p.batch_id
 WHERE b.id > :first_batch GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
