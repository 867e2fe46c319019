--
-- kinds: one pipeline for every kind, option vocabularies declared once,
-- ambiguous learners and values a target cannot store
--
-- (nothing here stays: the batch numbers of later files do not change)
SELECT last_value AS kinds_batch_seq FROM credimport.batch_id_seq \gset
SELECT setval('credimport.batch_id_seq', 800) AS batches_from;

-- the option vocabularies: the hint is built from the words
SELECT * FROM credimport_load_data(E'email\n', 'mail');
SELECT * FROM credimport_load_credentials_data(E'email\n', 'full');
SELECT * FROM credimport_load_data(E'email\n', 'email', if_exists => 'sometimes');
SELECT * FROM credimport_load_data(E'email\n', 'email', format => 'ods');
SELECT credimport_check_value('nonsense', 'x');
-- a kind's name or a match_mode: credimport_template goes by the registry of kinds
SELECT credimport_template('credentials');
SELECT credimport_template('remote_id');
SELECT credimport_template('attendance');
-- any registered kind through one door (declared here: no SQL declaration binds it in 1.5)
CREATE FUNCTION kinds_load(content text, kind text, match_mode text, validate_only boolean, max_errors integer)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, key bigint, errors text[])
AS '$libdir/credimport', 'credimport_load_kind_data' LANGUAGE C;
-- (the hint lists the registered kinds: terse, so that a new kind changes no test here)
\set VERBOSITY terse
SELECT * FROM kinds_load(E'email\n', 'attendance', 'email', true, 0);
\set VERBOSITY default
SELECT * FROM kinds_load(E'email\n', 'credentials', 'full', true, 0);
SELECT line_no, status, errors FROM kinds_load(
    E'email,credential_type,license_number,issue_date,expiration_date\nada@example.org,RN,X-1,2024-01-02,2026-01-02\n',
    'credentials', 'email', true, 0);
DROP FUNCTION kinds_load(text, text, text, boolean, integer);
-- words are matched as their vocabulary says: actions and roles without regard to case
SELECT line_no, status, errors FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,action\nada@example.org,RN,X-1,2024-01-02,Renew\n',
    'email', validate_only => true);
SELECT line_no, status, errors FROM credimport_load_users_data(
    E'email,role\nnew.person@example.org,Teacher\nnew.other@example.org,INSTRUCTOR\n', validate_only => true);

-- ---------------------------------------------------------------------------
-- a platform's people: e-mails and idnumbers not unique, no role, username
-- or profile column, "active" unless suspended
-- ---------------------------------------------------------------------------
CREATE SCHEMA kinds_platform;
CREATE TABLE kinds_platform.person (
    id        bigserial PRIMARY KEY,
    email     text NOT NULL DEFAULT '',
    idnumber  text NOT NULL DEFAULT '',
    firstname text NOT NULL DEFAULT '',
    lastname  text NOT NULL DEFAULT '',
    suspended smallint NOT NULL DEFAULT 0
);
INSERT INTO kinds_platform.person (email, idnumber, firstname, lastname, suspended) VALUES
    ('solo@school.example', 'P-SOLO', 'Solo', 'One', 0),
    ('twins@school.example', 'P-TWIN', 'Twin', 'One', 0),
    ('Twins@School.example', 'P-TWIN', 'Twin', 'Two', 0),
    ('gone@school.example', 'P-GONE', 'Gone', 'Away', 1);

BEGIN;
SELECT credimport_set_target('learner', 'kinds_platform.person',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "active": {"unless": ["suspended"]}}');
-- credits: a key two learners share is ambiguous_learner, in every match mode
SELECT line_no, status, learner_id IS NOT NULL AS matched, errors
  FROM credimport_load_data(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
       'solo@school.example,P,T,C1,2024-01-02,1,CME\n'
       'twins@school.example,P,T,C1,2024-01-02,1,CME\n'
       'gone@school.example,P,T,C1,2024-01-02,1,CME\n', 'email', validate_only => true);
SELECT line_no, status, learner_id IS NOT NULL AS matched, errors
  FROM credimport_load_data(E'remote_id,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
       'P-SOLO,P,T,C1,2024-01-02,1,CME\nP-TWIN,P,T,C1,2024-01-02,1,CME\n', 'remote_id', validate_only => true);
-- users: the person named by a shared e-mail or idnumber is ambiguous; a role
-- or a profile field the target has no column for cannot be stored
SELECT line_no, status, errors
  FROM credimport_load_users_data(E'email,remote_id,role,first_name\n'
       'solo@school.example,,,Solo\n'
       'twins@school.example,,,Twin\n'
       'someone@school.example,P-TWIN,,Some\n'
       'new@school.example,,instructor,New\n', validate_only => true);
-- credentials: the same identifier rules
SELECT line_no, status, errors
  FROM credimport_load_credentials_data(E'email,credential_type,license_number,issue_date\n'
       'twins@school.example,RN,L-1,2024-01-02\n', 'email', validate_only => true);
ROLLBACK;

SELECT setval('credimport.batch_id_seq', :kinds_batch_seq) AS batch_seq_given_back;
DROP SCHEMA kinds_platform CASCADE;
