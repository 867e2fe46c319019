--
-- targets: each role's table or view (credimport_set_target,
-- credimport_reset_target, credimport.targets) and every refusal
--
\pset null '(null)'

-- the shipped tables, with every field under its own name
SELECT role, relation, shipped FROM credimport.targets;
SELECT role, jsonb_pretty(columns) FROM credimport.targets WHERE role IN ('learner', 'credit');
SELECT * FROM credimport.target;

-- a platform's own schema, written from Moodle's definition of mdl_user:
-- duplicate e-mails allowed, usernames unique per (mnethostid, username),
-- suspended and deleted as smallint flags
CREATE SCHEMA platform;
CREATE TABLE platform.mdl_user (
    id          bigserial PRIMARY KEY,
    auth        varchar(20) NOT NULL DEFAULT 'manual',
    confirmed   smallint NOT NULL DEFAULT 0,
    deleted     smallint NOT NULL DEFAULT 0,
    suspended   smallint NOT NULL DEFAULT 0,
    mnethostid  bigint NOT NULL DEFAULT 0,
    username    varchar(100) NOT NULL DEFAULT '',
    idnumber    varchar(255) NOT NULL DEFAULT '',
    firstname   varchar(100) NOT NULL DEFAULT '',
    lastname    varchar(100) NOT NULL DEFAULT '',
    email       varchar(100) NOT NULL DEFAULT '',
    timecreated bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX mdl_user_mneuse_uix ON platform.mdl_user (mnethostid, username);
CREATE INDEX mdl_user_ema_ix ON platform.mdl_user (email);
CREATE INDEX mdl_user_idn_ix ON platform.mdl_user (idnumber);

-- Moodle's learners: nothing keeps e-mail, idnumber or username unique on
-- their own, and the notices say so
SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "active": {"unless": ["suspended", "deleted"]}}');
SELECT role, relation, shipped, jsonb_pretty(columns) FROM credimport.targets WHERE role = 'learner';
SELECT role, relation, columns FROM credimport.target;
-- setting it again replaces the row
SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname", "active": null}');
SELECT role, relation, columns->'active' AS active, shipped FROM credimport.targets WHERE role = 'learner';
SELECT count(*) FROM credimport.target;
-- the relation follows a rename
ALTER TABLE platform.mdl_user RENAME TO mdl_user_renamed;
SELECT role, relation FROM credimport.target;
ALTER TABLE platform.mdl_user_renamed RENAME TO mdl_user;
-- unique indexes (of lower() for e-mail and username) silence the notices
CREATE TABLE platform.people (
    person_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mail        text NOT NULL,
    login       text,
    external_id text UNIQUE,
    is_active   boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX people_mail_key ON platform.people (lower(mail));
CREATE UNIQUE INDEX people_login_key ON platform.people (lower(login));
SELECT credimport_set_target('learner', 'platform.people',
    '{"id": "person_id", "email": "mail", "username": "login", "remote_id": "external_id",
      "active": "is_active"}');
SELECT columns->>'id' AS id, columns->>'email' AS email, columns->>'active' AS active,
       columns->>'first_name' AS first_name FROM credimport.targets WHERE role = 'learner';
-- an index on lower() of a varchar column counts too; a unique index on
-- the column itself does not keep lower() unique; a partial one keeps nothing
CREATE TABLE platform.staff (staff_no smallint PRIMARY KEY, email varchar(100), username varchar(50),
                             remote_id text);
CREATE UNIQUE INDEX staff_email_key ON platform.staff (lower(email));
CREATE UNIQUE INDEX staff_username_key ON platform.staff (username);
CREATE UNIQUE INDEX staff_remote_id_key ON platform.staff (remote_id) WHERE remote_id <> '';
SELECT credimport_set_target('learner', 'platform.staff', '{"id": "staff_no"}');
-- the shipped table named, under its own names: still the shipped table,
-- and its unique indexes keep every match key unique (no notice)
SELECT credimport_set_target('learner', 'credimport.learner');
SELECT role, relation, shipped FROM credimport.targets WHERE role = 'learner';
SELECT credimport_set_target('learner', 'credimport.learner', '{"email": "email", "active": "active"}');
SELECT role, relation, shipped FROM credimport.targets WHERE role = 'learner';
-- ... but not with a field unmapped (null), and never with two fields in
-- one column
SELECT credimport_set_target('credit', 'credimport.credit', '{"provider": null}');
SELECT role, relation, shipped, columns->>'provider' AS provider FROM credimport.targets WHERE role = 'credit';
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'credimport.credit', '{"provider": "course_title"}')$$);
SELECT credimport_reset_target('credit');
-- back to the shipped table
SELECT credimport_reset_target('learner');
SELECT role, relation, shipped FROM credimport.targets WHERE role = 'learner';
SELECT count(*) FROM credimport.target;
SELECT credimport_reset_target('learner');   -- nothing to reset: no error

-- a view over the platform's table: simple views are insertable
CREATE VIEW platform.learners AS
    SELECT id, email, idnumber AS remote_id, firstname AS first_name, lastname AS last_name,
           username, suspended, deleted FROM platform.mdl_user;
SELECT credimport_set_target('learner', 'platform.learners',
    '{"active": {"unless": ["suspended", "deleted"]}}');
-- a view that is not: refused for a role credimport writes ...
CREATE VIEW platform.learner_summary AS
    SELECT min(id) AS id, email FROM platform.mdl_user GROUP BY email;
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.learner_summary')$$);
-- ... accepted once it has an INSTEAD OF INSERT trigger
CREATE FUNCTION platform.learner_summary_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO platform.mdl_user (email) VALUES (NEW.email) RETURNING id INTO NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER learner_summary_insert INSTEAD OF INSERT ON platform.learner_summary
    FOR EACH ROW EXECUTE FUNCTION platform.learner_summary_insert();
SELECT credimport_set_target('learner', 'platform.learner_summary');
SELECT credimport_reset_target('learner');
-- ... and accepted for a role credimport only reads
CREATE TABLE platform.course_kind (kind_id smallint PRIMARY KEY, shortname text NOT NULL, title text);
CREATE VIEW platform.credit_kinds AS
    SELECT kind_id AS id, upper(shortname) AS code, title AS name FROM platform.course_kind;
SELECT credimport_set_target('credit_type', 'platform.credit_kinds');
SELECT relation, columns FROM credimport.targets WHERE role = 'credit_type';
SELECT credimport_reset_target('credit_type');

-- a transcript of the platform's own: uuid key, no batch column, partitioned by year
CREATE TABLE platform.transcript (
    entry_id    uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id     bigint NOT NULL,
    course_code text NOT NULL,
    course_name text NOT NULL,
    completed   date NOT NULL,
    hours       numeric(6,2) NOT NULL,
    kind        integer NOT NULL,
    PRIMARY KEY (entry_id, completed)
) PARTITION BY RANGE (completed);
CREATE TABLE platform.transcript_2024 PARTITION OF platform.transcript
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE platform.transcript_other PARTITION OF platform.transcript DEFAULT;
SELECT credimport_set_target('credit', 'platform.transcript',
    '{"id": "entry_id", "learner_id": "user_id", "course_id": "course_code",
      "course_title": "course_name", "completion_date": "completed",
      "number_credits": "hours", "credit_type_id": "kind"}');
SELECT jsonb_pretty(columns) FROM credimport.targets WHERE role = 'credit';
SELECT credimport_reset_target('credit');

-- refusals: each names the role, the relation and the column
SELECT * FROM expect_error($$SELECT credimport_set_target('learners', 'platform.mdl_user')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target(NULL, 'platform.mdl_user')$$);
SELECT * FROM expect_error($$SELECT credimport_reset_target('transcript')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', NULL)$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.no_such_table')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user_id_seq')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user', '[]')$$);
-- a field credimport does not know
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"idnumber": "idnumber"}')$$);
-- a mapped column that does not exist
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "id_number"}')$$);
-- a mapping that is not a column name
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"id": 1}')$$);
-- a required field without a column
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'platform.transcript',
    '{"id": "entry_id", "learner_id": "user_id", "course_title": "course_name",
      "completion_date": "completed", "number_credits": "hours", "credit_type_id": "kind"}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'platform.transcript',
    '{"learner_id": "user_id", "course_id": "course_code", "course_title": "course_name",
      "completion_date": "completed", "number_credits": "hours", "credit_type_id": "kind"}')$$);
-- a column whose type cannot hold the value
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'platform.transcript',
    '{"id": "entry_id", "learner_id": "user_id", "course_id": "course_code",
      "course_title": "course_name", "completion_date": "kind",
      "number_credits": "hours", "credit_type_id": "kind"}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'platform.transcript',
    '{"id": "entry_id", "learner_id": "entry_id", "course_id": "course_code",
      "course_title": "course_name", "completion_date": "completed",
      "number_credits": "hours", "credit_type_id": "kind"}')$$);
-- Moodle's suspended is a smallint: not "active", but {"unless": [...]}
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"active": "suspended"}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"active": {"unless": ["suspended", "removed"]}}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"active": {"unless": []}}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"active": {"if": ["suspended"]}}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"active": true}')$$);
-- learner and type keys are whole numbers
CREATE TABLE platform.accounts (uid uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.accounts',
    '{"id": "uid"}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit_type', 'platform.course_kind',
    '{"id": "shortname", "code": "shortname"}')$$);
-- a learner table without an id column
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.accounts')$$);
-- a materialized view cannot take the credits credimport writes
CREATE MATERIALIZED VIEW platform.transcript_copy AS SELECT * FROM platform.transcript;
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'platform.transcript_copy',
    '{"id": "entry_id", "learner_id": "user_id", "course_id": "course_code",
      "course_title": "course_name", "completion_date": "completed",
      "number_credits": "hours", "credit_type_id": "kind"}')$$);
DROP MATERIALIZED VIEW platform.transcript_copy;
-- nothing was stored by the refused calls
SELECT count(*) FROM credimport.target;
-- the table itself refuses what the functions would
INSERT INTO credimport.target VALUES ('learners', 'platform.mdl_user');
INSERT INTO credimport.target VALUES ('learner', 'platform.mdl_user', '[]');

-- only the extension's owner, or a role it grants, may change targets
CREATE ROLE credimport_tgt_clerk;
SELECT credimport_grant_loader('credimport_tgt_clerk');
SET ROLE credimport_tgt_clerk;
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'credimport.learner')$$);
SELECT * FROM expect_error($$SELECT credimport_reset_target('learner')$$);
SELECT * FROM expect_error($$INSERT INTO credimport.target VALUES ('learner', 'credimport.learner')$$);
SELECT * FROM expect_error($$SELECT * FROM credimport.targets$$);
RESET ROLE;
-- credimport_admin reads them
SET ROLE credimport_admin;
SELECT role, shipped FROM credimport.targets WHERE role = 'learner';
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'credimport.learner')$$);
SELECT * FROM expect_error($$DELETE FROM credimport.target$$);
RESET ROLE;
-- a role granted the right may not point a target at what it cannot use itself
GRANT EXECUTE ON FUNCTION credimport_set_target(text, regclass, jsonb),
                          credimport_reset_target(text) TO credimport_tgt_clerk;
GRANT SELECT, INSERT, UPDATE, DELETE ON credimport.target TO credimport_tgt_clerk;
GRANT USAGE ON SCHEMA platform TO credimport_tgt_clerk;
GRANT SELECT ON platform.mdl_user TO credimport_tgt_clerk;
SET ROLE credimport_tgt_clerk;
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname"}')$$);
RESET ROLE;
GRANT INSERT ON platform.mdl_user TO credimport_tgt_clerk;
SET ROLE credimport_tgt_clerk;
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname"}');
RESET client_min_messages;
SELECT credimport_reset_target('learner');
RESET ROLE;
REVOKE ALL ON credimport.target FROM credimport_tgt_clerk;
REVOKE ALL ON FUNCTION credimport_set_target(text, regclass, jsonb),
                       credimport_reset_target(text) FROM credimport_tgt_clerk;
SELECT credimport_revoke_loader('credimport_tgt_clerk');
REVOKE ALL ON platform.mdl_user FROM credimport_tgt_clerk;
REVOKE ALL ON SCHEMA platform FROM credimport_tgt_clerk;
DROP ROLE credimport_tgt_clerk;

-- ---------------------------------------------------------------------------
-- loads against targets: Moodle's users, the platform's credit kinds (a
-- view) and its transcript (partitioned, uuid key, no batch column)
-- ---------------------------------------------------------------------------
-- (the batches of this section are removed at its end, and the batch ids
-- continue as before it, for the tests that follow)
SELECT last_value AS batch_last, is_called AS batch_called
  FROM credimport.batch_id_seq \gset
INSERT INTO platform.mdl_user (username, idnumber, firstname, lastname, email, suspended, deleted) VALUES
    ('ada', 'M-ADA', 'Ada', 'Lovelace', 'ada@example.org', 0, 0),
    ('grace', 'M-GRACE', 'Grace', 'Hopper', 'Grace@Example.org', 0, 0),
    ('twin1', 'M-T1', 'Twin', 'One', 'twin@example.org', 0, 0),
    ('twin2', 'M-T2', 'Twin', 'Two', 'TWIN@example.org', 0, 0),    -- Moodle allows it
    ('sus', 'M-SUS', 'Sus', 'Pended', 'sus@example.org', 1, 0),
    ('del', 'M-DEL', 'Del', 'Eted', 'del@example.org', 0, 1);
INSERT INTO platform.course_kind VALUES (1, 'cme', 'Continuing Medical Education'), (2, 'ce', 'Continuing Education');
ALTER TABLE platform.transcript ADD COLUMN provider text;
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "active": {"unless": ["suspended", "deleted"]}}');
RESET client_min_messages;
SELECT credimport_set_target('credit_type', 'platform.credit_kinds');
SELECT credimport_set_target('credit', 'platform.transcript',
    '{"id": "entry_id", "learner_id": "user_id", "course_id": "course_code",
      "course_title": "course_name", "completion_date": "completed",
      "number_credits": "hours", "credit_type_id": "kind"}');
-- by e-mail: case-insensitive; two learners sharing an e-mail, a suspended
-- and a deleted one are refused, each with its reason
SELECT line_no, status, u.username, errors FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'ada@example.org,P,Anatomy,C-1,2024-03-01,1.5,CME\n'
               'GRACE@example.org,P,Biology,C-2,2023-06-01,2,ce\n'
               'twin@example.org,P,Chemistry,C-3,2024-01-01,2,CME\n'
               'sus@example.org,P,Chemistry,C-4,2024-01-01,2,CME\n'
               'del@example.org,P,Chemistry,C-5,2024-01-01,2,CME\n'
               'nobody@example.org,P,Chemistry,C-6,2024-01-01,2,CME\n', 'UTF8'),
    'email', format => 'csv', max_errors => 10) r
  LEFT JOIN platform.mdl_user u ON u.id = r.learner_id ORDER BY line_no;
-- the rows are the platform's, in their partitions, with the platform's keys
SELECT t.tableoid::regclass AS partition, u.username, t.course_code, t.course_name, t.hours, t.kind, t.provider
  FROM platform.transcript t JOIN platform.mdl_user u ON u.id = t.user_id ORDER BY t.course_code;
-- by remote_id (Moodle's idnumber) and by id; the same credit again is skipped
SELECT line_no, status, u.username, errors FROM credimport_load_data(
    convert_to(E'remote_id,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'M-ADA,P,Anatomy,C-1,2024-03-01,1.5,CME\n'
               'M-GRACE,P,Dentistry,C-7,2024-02-01,3,CME\n'
               'M-SUS,P,Dentistry,C-7,2024-02-01,3,CME\n', 'UTF8'),
    'remote_id', format => 'csv', max_errors => 10, if_exists => 'skip') r
  LEFT JOIN platform.mdl_user u ON u.id = r.learner_id ORDER BY line_no;
SELECT line_no, status, u.username, errors FROM credimport_load_data(
    convert_to(E'user_id,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               '1,P,Ethics,C-9,2024-04-01,1,CE\n'
               '5,P,Ethics,C-9,2024-04-01,1,CE\n'
               '99999999999,P,Ethics,C-9,2024-04-01,1,CE\n', 'UTF8'),
    'user_id', format => 'csv', max_errors => 10) r
  LEFT JOIN platform.mdl_user u ON u.id = r.learner_id ORDER BY line_no;
-- full: learners created through a view -- a simple one (auto-updatable)
-- and one with an INSTEAD OF INSERT trigger -- with the platform's ids
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'platform.learners',
    '{"active": {"unless": ["suspended", "deleted"]}}');
RESET client_min_messages;
-- (the results first: the rows a load writes are not seen by the statement that runs it)
CREATE TEMP TABLE r AS SELECT * FROM credimport_load_data(
    convert_to(E'email,remote_id,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'ada@example.org,M-ADA,Ada,Lovelace,P,Hydrology,C-11,2024-06-01,1,CME\n'
               'new.one@example.org,M-NEW1,New,One,P,Hydrology,C-11,2024-06-01,1,CME\n', 'UTF8'),
    'full', format => 'csv');
SELECT line_no, status, u.username, u.email, u.idnumber, u.firstname, u.lastname, errors
  FROM r LEFT JOIN platform.mdl_user u ON u.id = r.learner_id ORDER BY line_no;
DROP TABLE r;
CREATE VIEW platform.learners_distinct AS
    SELECT DISTINCT id, email, firstname AS first_name, lastname AS last_name FROM platform.mdl_user;
CREATE FUNCTION platform.learners_distinct_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO platform.mdl_user (username, email, firstname, lastname, auth)
    VALUES (NEW.email, NEW.email, NEW.first_name, NEW.last_name, 'trigger') RETURNING id INTO NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER learners_distinct_insert INSTEAD OF INSERT ON platform.learners_distinct
    FOR EACH ROW EXECUTE FUNCTION platform.learners_distinct_insert();
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'platform.learners_distinct');
RESET client_min_messages;
CREATE TEMP TABLE r AS SELECT * FROM credimport_load_data(
    convert_to(E'email,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'new.two@example.org,New,Two,P,Hydrology,C-11,2024-06-01,1,CME\n', 'UTF8'),
    'full', format => 'csv');
SELECT line_no, status, u.email, u.firstname, u.auth, errors FROM r LEFT JOIN platform.mdl_user u ON u.id = r.learner_id;
DROP TABLE r;
SELECT u.email, t.course_code FROM platform.transcript t JOIN platform.mdl_user u ON u.id = t.user_id
 WHERE t.course_code = 'C-11' ORDER BY u.email;
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "active": {"unless": ["suspended", "deleted"]}}');
RESET client_min_messages;
-- a loader needs no privilege on the configuration, only on the relations
CREATE ROLE credimport_tgt_loader;
SELECT credimport_grant_loader('credimport_tgt_loader');
GRANT USAGE ON SCHEMA platform TO credimport_tgt_loader;
GRANT SELECT ON platform.mdl_user, platform.credit_kinds TO credimport_tgt_loader;
GRANT SELECT, INSERT ON platform.transcript TO credimport_tgt_loader;
SET ROLE credimport_tgt_loader;
SELECT * FROM expect_error($$SELECT * FROM credimport.target$$);
SELECT line_no, status, errors FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'ada@example.org,P,Geology,C-10,2024-05-01,1,CME\n', 'UTF8'), 'email', format => 'csv');
RESET ROLE;
SELECT credimport_revoke_loader('credimport_tgt_loader');
REVOKE ALL ON platform.mdl_user, platform.credit_kinds, platform.transcript FROM credimport_tgt_loader;
REVOKE ALL ON SCHEMA platform FROM credimport_tgt_loader;
DROP ROLE credimport_tgt_loader;
SELECT count(*) AS transcript_rows FROM platform.transcript;
-- the configuration is checked again at every load: a column dropped since
-- is named, with the same message credimport_set_target gives
ALTER TABLE platform.mdl_user RENAME COLUMN idnumber TO id_number;
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(
    convert_to(E'remote_id,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'M-ADA,P,Anatomy,C-8,2024-03-01,1,CME\n', 'UTF8'), 'remote_id', format => 'csv')$$);
ALTER TABLE platform.mdl_user RENAME COLUMN id_number TO idnumber;
ALTER TABLE platform.transcript DROP COLUMN hours;
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'ada@example.org,P,Anatomy,C-8,2024-03-01,1,CME\n', 'UTF8'), 'email', format => 'csv')$$);
SELECT credimport_reset_target('credit');
-- ... and a relation dropped since
-- (the event trigger refuses to drop a configured target: disabled here,
-- as a restore of an older dump or a superuser could still drop it)
CREATE TABLE platform.kinds_gone (id integer PRIMARY KEY, code text NOT NULL);
SELECT credimport_set_target('credit_type', 'platform.kinds_gone');
ALTER EVENT TRIGGER credimport_target_drop DISABLE;
DROP TABLE platform.kinds_gone;
ALTER EVENT TRIGGER credimport_target_drop ENABLE;
SELECT * FROM regexp_replace((SELECT message FROM expect_error($$SELECT * FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'ada@example.org,P,Anatomy,C-8,2024-03-01,1,CME\n', 'UTF8'), 'email', format => 'csv')$$)),
    'OID [0-9]+', 'OID n') AS message;
SELECT credimport_reset_target('credit_type');
SELECT credimport_reset_target('learner');
DELETE FROM credimport.batch WHERE id > :batch_last;
SELECT setval('credimport.batch_id_seq', :batch_last, :'batch_called') IS NOT NULL AS batch_ids_restored;

-- a target whose relation has gone: the listing still shows it
CREATE TABLE platform.gone (id bigint PRIMARY KEY, email text);
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'platform.gone');
RESET client_min_messages;
ALTER EVENT TRIGGER credimport_target_drop DISABLE;
DROP TABLE platform.gone;
ALTER EVENT TRIGGER credimport_target_drop ENABLE;
SELECT role, relation IS NOT NULL AS has_oid, columns, shipped FROM credimport.targets WHERE role = 'learner';
SELECT credimport_reset_target('learner');

-- ---------------------------------------------------------------------------
-- what a review found
-- ---------------------------------------------------------------------------
SELECT last_value AS rv_batch_last, is_called AS rv_batch_called FROM credimport.batch_id_seq \gset
SELECT setval('credimport.batch_id_seq', 3000) AS batches_from;
CREATE SCHEMA rv;
CREATE TABLE rv.person (id bigserial PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX ON rv.person (lower(email));
INSERT INTO rv.person (email) VALUES ('rv.one@example.org');
CREATE TABLE rv.ctype (id integer PRIMARY KEY, code text NOT NULL UNIQUE);
INSERT INTO rv.ctype VALUES (1, 'CME');
SELECT credimport_set_target('learner', 'rv.person');
SELECT credimport_set_target('credit_type', 'rv.ctype');

-- 1. credimport's bookkeeping fields bind only when mapped: a platform's
-- own batch_id column is its own (a revert must not delete the platform's
-- rows that carry the batch's number)
CREATE TABLE rv.transcript (id bigserial PRIMARY KEY, learner_id bigint, provider text, course_title text,
    course_id text, completion_date date, number_credits numeric, credit_type_id int, batch_id int,
    created_at timestamptz, user_editable boolean);
INSERT INTO rv.transcript (learner_id, course_title, course_id) SELECT 1, 'SIS row', 'S' || g FROM generate_series(1, 5) g;
SELECT credimport_set_target('credit', 'rv.transcript');
SELECT columns->'batch_id' AS batch_id, columns->'created_at' AS created_at, columns->'user_editable' AS user_editable,
       columns->'provider' AS provider FROM credimport.targets WHERE role = 'credit';
SELECT line_no, status FROM credimport_load_data(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'rv.one@example.org,P,T,Z1,2024-01-01,1,CME\n', 'email');
SELECT credimport_last_batch_id() AS rv_b \gset
SELECT course_id, batch_id IS NULL AS batch_id_untouched FROM rv.transcript WHERE course_id = 'Z1';
UPDATE rv.transcript SET batch_id = :rv_b WHERE course_title = 'SIS row';
SELECT * FROM credimport_revert(:rv_b);
SELECT count(*) AS sis_rows_left, count(*) FILTER (WHERE course_id = 'Z1') AS loaded_left FROM rv.transcript;
-- mapped explicitly, it is credimport's
SELECT credimport_set_target('credit', 'rv.transcript', '{"batch_id": "batch_id"}');
SELECT columns->'batch_id' AS batch_id FROM credimport.targets WHERE role = 'credit';
-- null unmaps an optional field; a required one cannot be unmapped
SELECT credimport_set_target('credit', 'rv.transcript', '{"provider": null, "user_editable": null}');
SELECT columns->'provider' AS provider, columns->'user_editable' AS user_editable FROM credimport.targets WHERE role = 'credit';
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.transcript', '{"course_id": null}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.transcript', '{"id": null}')$$);

-- 2. the row key must be unique: a primary key or a unique index on
-- exactly the key column (with the partition key on a partitioned table)
CREATE TABLE rv.nokey (id bigserial, learner_id bigint, provider text, course_title text, course_id text,
    completion_date date, number_credits numeric, credit_type_id int);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.nokey')$$);
CREATE UNIQUE INDEX nokey_two ON rv.nokey (id, learner_id);
CREATE UNIQUE INDEX nokey_partial ON rv.nokey (id) WHERE id > 0;
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.nokey')$$);
CREATE UNIQUE INDEX nokey_id ON rv.nokey (id);
SELECT credimport_set_target('credit', 'rv.nokey');
CREATE TABLE rv.part (id bigserial, learner_id bigint, provider text, course_title text, course_id text,
    completion_date date, number_credits numeric, credit_type_id int, UNIQUE (id, learner_id, completion_date))
    PARTITION BY RANGE (completion_date);
CREATE TABLE rv.part_all PARTITION OF rv.part DEFAULT;
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.part')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.part_all')$$);
ALTER TABLE rv.part ADD PRIMARY KEY (id, completion_date);
SELECT credimport_set_target('credit', 'rv.part');
SELECT credimport_set_target('credit', 'rv.part_all');
-- the learner key too
CREATE TABLE rv.person_nokey (id bigint, email text);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'rv.person_nokey')$$);

-- 3. types, under their domains: "active" needs a boolean column (every
-- type has an assignment cast to text), keys of other roles an integer one,
-- a date a column that is not text
CREATE DOMAIN rv.flag_text AS text;
CREATE DOMAIN rv.flag AS boolean;
CREATE DOMAIN rv.uid AS bigint;
CREATE TABLE rv.person_t (id bigint PRIMARY KEY, email text, active text);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'rv.person_t')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'rv.person_t', '{"active": "email"}')$$);
ALTER TABLE rv.person_t ALTER COLUMN active TYPE rv.flag_text;
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'rv.person_t')$$);
ALTER TABLE rv.person_t ALTER COLUMN active TYPE rv.flag USING active::boolean;
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'rv.person_t');
RESET client_min_messages;
CREATE TABLE rv.tx_types (id bigint PRIMARY KEY, learner_id text, provider text, course_title text, course_id text,
    completion_date text, number_credits numeric, credit_type_id int);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.tx_types')$$);
ALTER TABLE rv.tx_types ALTER COLUMN learner_id TYPE rv.uid USING learner_id::bigint;
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.tx_types')$$);
ALTER TABLE rv.tx_types ALTER COLUMN completion_date TYPE date USING completion_date::date;
SELECT credimport_set_target('credit', 'rv.tx_types');
-- a learner key of a domain over bigint: accepted (the writer reads the
-- key back through TargetField.basetype)
CREATE SEQUENCE rv.person_seq START 700;
CREATE TABLE rv.person_d (id rv.uid PRIMARY KEY DEFAULT nextval('rv.person_seq'), email text UNIQUE,
    first_name text, last_name text);
SET client_min_messages = warning;
SELECT credimport_set_target('learner', 'rv.person_d');
RESET client_min_messages;
SELECT credimport_set_target('learner', 'rv.person');
SELECT credimport_set_target('credit', 'rv.transcript');

-- 4. two fields in one column: refused
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.transcript', '{"provider": "course_id"}')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.transcript', '{"course_title": "course_id"}')$$);

-- 5. a view: what it cannot do is said (a missing INSERT path is refused)
CREATE VIEW rv.transcript_v AS SELECT t.*, 1 AS one FROM rv.transcript t JOIN (SELECT 1) x ON true;
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'rv.transcript_v')$$);
CREATE FUNCTION rv.transcript_v_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rv.transcript (learner_id, provider, course_title, course_id, completion_date, number_credits, credit_type_id)
    VALUES (NEW.learner_id, NEW.provider, NEW.course_title, NEW.course_id, NEW.completion_date, NEW.number_credits,
            NEW.credit_type_id) RETURNING id INTO NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER i INSTEAD OF INSERT ON rv.transcript_v FOR EACH ROW EXECUTE FUNCTION rv.transcript_v_ins();
SELECT credimport_set_target('credit', 'rv.transcript_v');
CREATE VIEW rv.person_v AS SELECT p.*, 1 AS one FROM rv.person p JOIN (SELECT 1) x ON true;
CREATE FUNCTION rv.person_v_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO rv.person (email) VALUES (NEW.email) RETURNING id INTO NEW.id; RETURN NEW; END $$;
CREATE TRIGGER i INSTEAD OF INSERT ON rv.person_v FOR EACH ROW EXECUTE FUNCTION rv.person_v_ins();
SELECT credimport_set_target('learner', 'rv.person_v');
CREATE TABLE rv.lic (id bigint PRIMARY KEY, learner_id bigint, credential_type_id bigint, license_number text,
    issue_date date, status text);
CREATE VIEW rv.lic_v AS SELECT l.*, 1 AS one FROM rv.lic l JOIN (SELECT 1) x ON true;
CREATE FUNCTION rv.lic_v_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO rv.lic VALUES (NEW.id, NEW.learner_id, NEW.credential_type_id, NEW.license_number, NEW.issue_date,
    NEW.status); RETURN NEW; END $$;
CREATE TRIGGER i INSTEAD OF INSERT ON rv.lic_v FOR EACH ROW EXECUTE FUNCTION rv.lic_v_ins();
SELECT credimport_set_target('credential', 'rv.lic_v');
SELECT credimport_reset_target('credential');
SELECT credimport_set_target('learner', 'rv.person');
SELECT credimport_set_target('credit', 'rv.transcript');

-- 6. credimport's own relations are not targets, but for the role's own table
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'credimport.batch')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'credimport.learner')$$);
SELECT * FROM expect_error($$SELECT credimport_set_target('learner_link', 'credimport.target')$$);

-- 7. a configured target cannot be dropped, alone or with its schema; an
-- unrelated table can; a dropped mapped column is named at the next load
DROP VIEW rv.transcript_v;
CREATE TABLE rv.unrelated (a int);
DROP TABLE rv.unrelated;
-- (by a role with no privilege on credimport's configuration, too)
CREATE ROLE credimport_tgt_nobody;
SET ROLE credimport_tgt_nobody;
CREATE TEMP TABLE nobody_table (a int);
DROP TABLE nobody_table;
RESET ROLE;
DROP ROLE credimport_tgt_nobody;
SELECT * FROM expect_error($$DROP TABLE rv.transcript$$);
SET client_min_messages = warning;
SELECT * FROM expect_error($$DROP SCHEMA rv CASCADE$$);
SELECT credimport_set_target('learner', 'rv.person_v');
RESET client_min_messages;
SELECT * FROM expect_error($$DROP VIEW rv.person_v$$);
SELECT credimport_set_target('learner', 'rv.person');
SELECT count(*) AS transcript_rows FROM rv.transcript;
ALTER TABLE rv.transcript DROP COLUMN course_title;
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'rv.one@example.org,P,T,Z2,2024-01-01,1,CME\n', 'email')$$);
SELECT credimport_reset_target('credit');
DROP TABLE rv.transcript;
SELECT credimport_reset_target('learner');
SELECT credimport_reset_target('credit_type');
DELETE FROM credimport.batch WHERE id > :rv_batch_last;
SELECT setval('credimport.batch_id_seq', :rv_batch_last, :'rv_batch_called') IS NOT NULL AS batch_ids_restored;
SET client_min_messages = warning;
DROP SCHEMA rv CASCADE;
RESET client_min_messages;

-- every role is back on its shipped table
SELECT role, relation, shipped FROM credimport.targets;
DROP SCHEMA platform CASCADE;

-- ---------------------------------------------------------------------------
-- a learner target without first_name/last_name columns: a learner created
-- needs only the profile fields the target can store; a value given for a
-- field it has no column for is not_stored
-- ---------------------------------------------------------------------------
SELECT last_value AS nf_batch_last, is_called AS nf_batch_called FROM credimport.batch_id_seq \gset
SELECT setval('credimport.batch_id_seq', 4000) AS batches_from;
CREATE SCHEMA nf;
CREATE TABLE nf.person (id bigserial PRIMARY KEY, email text NOT NULL, full_name text);
CREATE UNIQUE INDEX ON nf.person (lower(email));
CREATE TABLE nf.ctype (id integer PRIMARY KEY, code text NOT NULL UNIQUE);
INSERT INTO nf.ctype VALUES (1, 'CME');
CREATE TABLE nf.transcript (id bigserial PRIMARY KEY, learner_id bigint, provider text, course_title text,
    course_id text, completion_date date, number_credits numeric, credit_type_id int);
SELECT credimport_set_target('learner', 'nf.person');
SELECT credimport_set_target('credit_type', 'nf.ctype');
SELECT credimport_set_target('credit', 'nf.transcript');
SELECT columns->'first_name' AS first_name, columns->'last_name' AS last_name
  FROM credimport.targets WHERE role = 'learner';
-- (first_name and last_name are required profile fields)
SELECT name, required FROM credimport.profile_field WHERE name IN ('first_name', 'last_name') ORDER BY name;
SELECT line_no, status, learner_id IS NOT NULL AS has_learner, errors FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'nf.one@example.org,P,Hydrology,NF-1,2024-06-01,1,CME\n', 'full');
SELECT line_no, status, learner_id IS NOT NULL AS has_learner, errors FROM credimport_load_data(
    E'email,first_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'nf.two@example.org,Two,P,Hydrology,NF-2,2024-06-01,1,CME\n', 'full');
SELECT line_no, field, code, value FROM credimport.batch_error
 WHERE batch_id = credimport_last_batch_id() ORDER BY line_no;
SELECT p.email, p.full_name, t.course_id FROM nf.transcript t JOIN nf.person p ON p.id = t.learner_id
 ORDER BY p.email;
SELECT credimport_reset_target('credit');
SELECT credimport_reset_target('credit_type');
SELECT credimport_reset_target('learner');
DELETE FROM credimport.batch WHERE id > 4000;
SELECT setval('credimport.batch_id_seq', :nf_batch_last, :'nf_batch_called') IS NOT NULL AS batch_ids_restored;
SET client_min_messages = warning;
DROP SCHEMA nf CASCADE;
RESET client_min_messages;
SELECT role, relation, shipped FROM credimport.targets WHERE NOT shipped;
