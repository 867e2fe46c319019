--
-- platform_moodle: credimport's targets pointed at a Moodle-shaped schema:
-- mdl_user as Moodle's lib/db/install.xml defines it (bigserial id,
-- smallint suspended/deleted flags, NOT NULL DEFAULT '' text columns,
-- duplicate e-mails and idnumbers allowed), and a transcript, credit types,
-- licenses, user links and invitations of the platform's own (uuid and
-- GENERATED ALWAYS keys, no batch columns, the transcript partitioned by year)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/platform/'

-- the batch numbers of this file do not depend on the files run before it
-- (given back at the end)
SELECT last_value AS plat_batch_seq FROM credimport.batch_id_seq \gset
SELECT setval('credimport.batch_id_seq', 900) AS batches_from;

-- run a statement that must fail: its SQLSTATE, message and context (the
-- machine's fixture directory masked; the SQL statements credimport and
-- this function run left out: what stays is the platform's trigger and the
-- source line credimport names)
CREATE FUNCTION plat_error(q text) RETURNS TABLE (sqlstate text, message text, context text)
LANGUAGE plpgsql AS $$
DECLARE st text; msg text; ctx text;
BEGIN
    EXECUTE q;
    RETURN QUERY SELECT 'no error'::text, NULL::text, NULL::text;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, ctx = PG_EXCEPTION_CONTEXT;
    RETURN QUERY SELECT st, regexp_replace(msg, '/[^ "]*/test/fixtures/platform/', '<fixtures>/', 'g'),
        (SELECT string_agg(l, E'\n')
           FROM regexp_split_to_table(regexp_replace(regexp_replace(ctx, 'SQL statement ".*?"(\n|$)', '', 'g'),
                                                     '/[^ "]*/test/fixtures/platform/', '<fixtures>/', 'g'), E'\n') l
          WHERE l !~ '^PL/pgSQL function plat_error' AND l <> '');
END $$;

-- ---------------------------------------------------------------------------
-- the platform: Moodle's mdl_user (the columns of lib/db/install.xml up to
-- timemodified that a site uses; Moodle's own indexes: unique only on
-- (mnethostid, username), e-mail and idnumber indexed but not unique)
-- ---------------------------------------------------------------------------
CREATE SCHEMA moodle;
CREATE TABLE moodle.mdl_user (
    id           bigserial PRIMARY KEY,
    auth         varchar(20) NOT NULL DEFAULT 'manual',
    confirmed    smallint NOT NULL DEFAULT 0,
    policyagreed smallint NOT NULL DEFAULT 0,
    deleted      smallint NOT NULL DEFAULT 0,
    suspended    smallint NOT NULL DEFAULT 0,
    mnethostid   bigint NOT NULL DEFAULT 0,
    username     varchar(100) NOT NULL DEFAULT '',
    password     varchar(255) NOT NULL DEFAULT '',
    idnumber     varchar(255) NOT NULL DEFAULT '',
    firstname    varchar(100) NOT NULL DEFAULT '',
    lastname     varchar(100) NOT NULL DEFAULT '',
    email        varchar(100) NOT NULL DEFAULT '',
    emailstop    smallint NOT NULL DEFAULT 0,
    phone1       varchar(20) NOT NULL DEFAULT '',
    institution  varchar(255) NOT NULL DEFAULT '',
    department   varchar(255) NOT NULL DEFAULT '',
    city         varchar(120) NOT NULL DEFAULT '',
    country      varchar(2) NOT NULL DEFAULT '',
    lang         varchar(30) NOT NULL DEFAULT 'en',
    timezone     varchar(100) NOT NULL DEFAULT '99',
    firstaccess  bigint NOT NULL DEFAULT 0,
    lastaccess   bigint NOT NULL DEFAULT 0,
    lastlogin    bigint NOT NULL DEFAULT 0,
    currentlogin bigint NOT NULL DEFAULT 0,
    timecreated  bigint NOT NULL DEFAULT 0,
    timemodified bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX mdl_user_mneuse_uix ON moodle.mdl_user (mnethostid, username);
CREATE INDEX mdl_user_del_ix ON moodle.mdl_user (deleted);
CREATE INDEX mdl_user_con_ix ON moodle.mdl_user (confirmed);
CREATE INDEX mdl_user_fir_ix ON moodle.mdl_user (firstname);
CREATE INDEX mdl_user_las_ix ON moodle.mdl_user (lastname);
CREATE INDEX mdl_user_ema_ix ON moodle.mdl_user (email);
CREATE INDEX mdl_user_aut_ix ON moodle.mdl_user (auth);
CREATE INDEX mdl_user_idn_ix ON moodle.mdl_user (idnumber);
CREATE TABLE moodle.mdl_mnet_host (id bigserial PRIMARY KEY, wwwroot varchar(255) NOT NULL DEFAULT '',
                                   name varchar(80) NOT NULL DEFAULT '');
INSERT INTO moodle.mdl_mnet_host (wwwroot, name) VALUES ('https://school.example', 'School');

-- the platform's own tables: no batch, user_editable or created_by_batch column
CREATE SCHEMA platform;
CREATE TABLE platform.credit_type (
    id        serial PRIMARY KEY,
    shortname text NOT NULL UNIQUE,
    fullname  text NOT NULL,
    visible   boolean NOT NULL DEFAULT true
);
CREATE TABLE platform.transcript (
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id      bigint NOT NULL REFERENCES moodle.mdl_user (id),
    course_code  text NOT NULL,
    title        text NOT NULL,
    provider     text NOT NULL,
    completed_on date NOT NULL,
    credits      numeric(6,2) NOT NULL CHECK (credits > 0 AND credits <= 40),
    type_id      integer NOT NULL REFERENCES platform.credit_type (id),
    PRIMARY KEY (id, completed_on),
    UNIQUE (user_id, course_code, type_id, completed_on)
) PARTITION BY RANGE (completed_on);
CREATE TABLE platform.transcript_2023 PARTITION OF platform.transcript FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE platform.transcript_2024 PARTITION OF platform.transcript FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE platform.transcript_2025 PARTITION OF platform.transcript FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX transcript_user_idx ON platform.transcript (user_id);
CREATE TABLE platform.license_type (
    id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         text NOT NULL UNIQUE,
    title        text NOT NULL,
    needs_expiry boolean NOT NULL DEFAULT false,
    enabled      boolean NOT NULL DEFAULT true
);
CREATE TABLE platform.license (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES moodle.mdl_user (id),
    type_id     integer NOT NULL REFERENCES platform.license_type (id),
    number      text NOT NULL,
    issued_by   text,
    issued_on   date NOT NULL,
    expires_on  date,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved')),
    url         text,
    approved_at timestamptz,
    approved_by name,
    UNIQUE (user_id, type_id, number)
);
CREATE TABLE platform.user_link (
    student_id bigint NOT NULL REFERENCES moodle.mdl_user (id) ON DELETE CASCADE,
    related_id bigint NOT NULL REFERENCES moodle.mdl_user (id) ON DELETE CASCADE,
    relation   text NOT NULL,
    PRIMARY KEY (student_id, related_id, relation)
);
CREATE TABLE platform.invitation (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    bigint NOT NULL REFERENCES moodle.mdl_user (id) ON DELETE CASCADE,
    token      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);

INSERT INTO moodle.mdl_user (username, idnumber, firstname, lastname, email, confirmed, mnethostid, suspended, deleted) VALUES
    ('guest', '', 'Guest user', ' ', 'root@localhost', 1, 1, 0, 0),                   -- 1
    ('admin', '', 'Admin', 'User', 'admin@school.example', 1, 1, 0, 0),               -- 2
    ('ada', 'M-ADA', 'Ada', 'Lovelace', 'ada@school.example', 1, 1, 0, 0),            -- 3
    ('grace', 'M-GRACE', 'Grace', 'Hopper', 'Grace@School.example', 1, 1, 0, 0),      -- 4
    ('twin1', 'M-TWIN', 'Twin', 'One', 'twins@school.example', 1, 1, 0, 0),           -- 5: same e-mail
    ('twin2', 'M-TWIN', 'Twin', 'Two', 'twins@school.example', 1, 1, 0, 0),           -- 6: and idnumber
    ('susan', 'M-SUS', 'Susan', 'Suspended', 'susan@school.example', 1, 1, 1, 0),     -- 7: suspended
    ('dora', 'M-DEL', 'Dora', 'Deleted', 'dora@school.example', 1, 1, 0, 1);          -- 8: deleted
INSERT INTO platform.credit_type (shortname, fullname, visible) VALUES
    ('CME', 'Continuing Medical Education', true), ('CE', 'Continuing Education', true),
    ('RETIRED', 'A retired credit type', false);
INSERT INTO platform.license_type (code, title, needs_expiry, enabled) VALUES
    ('RN', 'Registered nurse license', true, true), ('BLS', 'Basic life support card', true, true),
    ('OLD', 'Retired license', false, false);

-- ---------------------------------------------------------------------------
-- the targets: once per database, credimport's field names mapped to the
-- platform's columns ("active" from Moodle's two flags, or a boolean column)
-- ---------------------------------------------------------------------------
SELECT credimport_set_target('learner', 'moodle.mdl_user',
    '{"email": "email", "remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "username": "username", "active": {"unless": ["suspended", "deleted"]}}');
SELECT credimport_set_target('credit_type', 'platform.credit_type',
    '{"code": "shortname", "name": "fullname", "active": "visible"}');
SELECT credimport_set_target('credit', 'platform.transcript',
    '{"learner_id": "user_id", "course_id": "course_code", "course_title": "title",
      "completion_date": "completed_on", "number_credits": "credits", "credit_type_id": "type_id"}');
SELECT credimport_set_target('credential_type', 'platform.license_type',
    '{"name": "title", "requires_expiration": "needs_expiry", "active": "enabled"}');
SELECT credimport_set_target('credential', 'platform.license',
    '{"learner_id": "user_id", "credential_type_id": "type_id", "license_number": "number",
      "issuer": "issued_by", "issue_date": "issued_on", "expiration_date": "expires_on",
      "status": "state", "media_url": "url", "approved_at": "approved_at", "approved_by": "approved_by"}');
SELECT credimport_set_target('learner_link', 'platform.user_link',
    '{"learner_id": "student_id", "related_learner_id": "related_id"}');
SELECT credimport_set_target('invitation', 'platform.invitation', '{"learner_id": "user_id"}');
SELECT * FROM credimport.targets ORDER BY 1;

-- a mapping that does not fit is refused at once, naming what is missing
SELECT * FROM plat_error($$SELECT credimport_set_target('learner', 'moodle.mdl_user', '{"email": "mail"}')$$);
SELECT * FROM plat_error($$SELECT credimport_set_target('learner', 'moodle.mdl_user',
    '{"active": {"unless": ["suspended", "no_such_flag"]}}')$$);
SELECT * FROM plat_error($$SELECT credimport_set_target('credit', 'moodle.no_such_table')$$);
SELECT * FROM plat_error($$SELECT credimport_set_target('teacher', 'moodle.mdl_user')$$);

-- ---------------------------------------------------------------------------
-- credits by e-mail: duplicate e-mails are ambiguous, suspended and deleted
-- users inactive; validate_only, max_errors, the platform's ids in the result
-- ---------------------------------------------------------------------------
SELECT line_no, status, learner_id, credit_id, errors
  FROM credimport_load(:'fx' || 'moodle_credits.csv', 'email', validate_only => true);
SELECT count(*) AS transcript_rows FROM platform.transcript;
SELECT line_no, status FROM credimport_load(:'fx' || 'moodle_credits.csv', 'email', max_errors => 4);
SELECT count(*) AS transcript_rows FROM platform.transcript;
CREATE TEMP TABLE email_result AS
SELECT * FROM credimport_load(:'fx' || 'moodle_credits.csv', 'email', max_errors => 5);
SELECT credimport_last_batch_id() AS email_batch \gset
SELECT line_no, status, learner_id, credit_key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS credit_key_is_uuid,
       errors
  FROM email_result ORDER BY line_no;
-- the result rows name the platform's rows: its user ids and its uuids
SELECT r.line_no, u.username, t.course_code, t.completed_on, t.credits, ct.shortname, t.tableoid::regclass AS partition
  FROM email_result r
  JOIN platform.transcript t ON t.id = r.credit_key::uuid
  JOIN moodle.mdl_user u ON u.id = t.user_id AND u.id = r.learner_id
  JOIN platform.credit_type ct ON ct.id = t.type_id
 ORDER BY r.line_no;
SELECT status, records, imported, invalid, learners_created, match_mode FROM credimport.batch WHERE id = :email_batch;
SELECT line_no, field, code, message, value FROM credimport.batch_error WHERE batch_id = :email_batch ORDER BY line_no, field;

-- the results file for the sender
SELECT credimport_error_report(:email_batch);

-- the same file again: a WARNING names the batch; every imported record is
-- already on the transcript; if_exists => 'skip' skips them instead
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'moodle_credits.csv', 'email', max_errors => 5)
 WHERE status <> 'invalid' OR errors[1] LIKE 'record:%';
SELECT line_no, status FROM credimport_load(:'fx' || 'moodle_credits.csv', 'email', max_errors => 5, if_exists => 'skip')
 WHERE status <> 'invalid';
SELECT count(*) AS transcript_rows FROM platform.transcript;

-- ---------------------------------------------------------------------------
-- credits by remote_id (Moodle's idnumber; content sent by a client) and by
-- user_id (Moodle's id; a staging table)
-- ---------------------------------------------------------------------------
SELECT line_no, status, learner_id, errors FROM credimport_load_data(
    E'remote_id,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
     'M-GRACE,Moodle Academy,Remote Course,REM-1,2024-06-01,2,CE\n'
     'M-TWIN,Moodle Academy,Remote Course,REM-1,2024-06-01,2,CE\n'
     'M-SUS,Moodle Academy,Remote Course,REM-1,2024-06-01,2,CE\n'
     'M-NONE,Moodle Academy,Remote Course,REM-1,2024-06-01,2,CE\n', 'remote_id', max_errors => 3);
CREATE TABLE plat_stage (user_id bigint, provider text, course_title text, course_id text,
                         completion_date date, number_credits numeric, credit_type text);
INSERT INTO plat_stage VALUES
    (3, 'Moodle Academy', 'Staged Course', 'STG-1', '2023-11-30', 3, 'CME'),
    (8, 'Moodle Academy', 'Staged Course', 'STG-1', '2023-11-30', 3, 'CME'),
    (99, 'Moodle Academy', 'Staged Course', 'STG-1', '2023-11-30', 3, 'CME');
SELECT line_no, status, learner_id, errors FROM credimport_load('plat_stage'::regclass, 'user_id', max_errors => 2);
DROP TABLE plat_stage;
SELECT u.username, t.course_code, t.completed_on, t.tableoid::regclass AS partition
  FROM platform.transcript t JOIN moodle.mdl_user u ON u.id = t.user_id
 WHERE t.course_code IN ('REM-1', 'STG-1') ORDER BY 1, 2;

-- revert: the credits leave the platform's transcript (found through the
-- keys credimport kept of the batch's rows; the record of them stays)
SELECT * FROM credimport_revert(:email_batch);
SELECT count(*) AS still_there FROM platform.transcript t JOIN email_result r ON t.id = r.credit_key::uuid;
SELECT status FROM credimport.batch WHERE id = :email_batch;
SELECT count(*) AS provenance_rows_of_reverted_batch FROM credimport.provenance_rows WHERE batch_id = :email_batch;
SELECT * FROM credimport_revert(:email_batch);

-- ---------------------------------------------------------------------------
-- full: learners created through a view over mdl_user
-- ---------------------------------------------------------------------------
-- (1) a simple, auto-updatable view: this host's users; a new user gets
-- the view's default host and Moodle's defaults for the rest
CREATE VIEW moodle.local_user AS
SELECT id, auth, confirmed, deleted, suspended, mnethostid, username, idnumber, firstname, lastname, email, timecreated
  FROM moodle.mdl_user WHERE mnethostid = 1;
ALTER VIEW moodle.local_user ALTER COLUMN mnethostid SET DEFAULT 1;
SELECT credimport_set_target('learner', 'moodle.local_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "active": {"unless": ["suspended", "deleted"]}}');
CREATE TEMP TABLE full_result AS SELECT * FROM credimport_load_data(
    E'email,remote_id,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
     'ada@school.example,,,,Moodle Academy,Full Course,FULL-1,2024-09-01,1,CME\n'
     ',M-GRACE,,,Moodle Academy,Full Course,FULL-1,2024-09-01,1,CME\n'
     'new.nurse@school.example,M-200,Nina,Nurse,Moodle Academy,Full Course,FULL-1,2024-09-01,1,CME\n'
     'NEW.NURSE@school.example,,,,Moodle Academy,Full Course,FULL-2,2024-09-01,1,CME\n', 'full');
SELECT credimport_last_batch_id() AS full_batch \gset
SELECT line_no, status, learner_id = (SELECT id FROM moodle.mdl_user WHERE email ILIKE r.email_wanted) AS learner_is_right,
       credit_key::uuid IS NOT NULL AS has_credit, errors
  FROM full_result, LATERAL (SELECT CASE line_no WHEN 2 THEN 'ada@school.example' WHEN 3 THEN 'grace@school.example'
                                                 ELSE 'new.nurse@school.example' END AS email_wanted) r
 ORDER BY line_no;
SELECT learners_created FROM credimport.batch WHERE id = :full_batch;
SELECT id = (SELECT max(learner_id) FROM full_result) AS id_returned, auth, confirmed, mnethostid, username,
       idnumber, firstname, lastname, email, suspended, deleted
  FROM moodle.mdl_user WHERE lower(email) = 'new.nurse@school.example';
SELECT * FROM credimport_revert(:full_batch);
SELECT count(*) AS nurse_left FROM moodle.mdl_user WHERE lower(email) = 'new.nurse@school.example';
SELECT count(*) AS full_credits_left FROM platform.transcript WHERE course_code LIKE 'FULL-%';

-- (2) a view that is not updatable (a join), with INSTEAD OF triggers doing
-- what Moodle's user creation does; "active" is a boolean column of the view
CREATE VIEW moodle.user_directory AS
SELECT u.id, u.email, u.idnumber, u.firstname, u.lastname, u.username, h.name AS host,
       (u.suspended = 0 AND u.deleted = 0) AS is_active
  FROM moodle.mdl_user u JOIN moodle.mdl_mnet_host h ON h.id = u.mnethostid;
CREATE FUNCTION moodle.user_directory_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO moodle.mdl_user (auth, confirmed, mnethostid, username, idnumber, firstname, lastname, email,
                                 timecreated, timemodified)
    VALUES ('manual', 1, 1, coalesce(nullif(NEW.username, ''), lower(NEW.email)), coalesce(NEW.idnumber, ''),
            coalesce(NEW.firstname, ''), coalesce(NEW.lastname, ''), coalesce(NEW.email, ''),
            extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint)
    RETURNING id INTO NEW.id;
    NEW.host := 'School';
    NEW.is_active := true;
    RETURN NEW;
END $$;
CREATE FUNCTION moodle.user_directory_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM moodle.mdl_user WHERE id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER user_directory_insert INSTEAD OF INSERT ON moodle.user_directory
    FOR EACH ROW EXECUTE FUNCTION moodle.user_directory_insert();
CREATE TRIGGER user_directory_delete INSTEAD OF DELETE ON moodle.user_directory
    FOR EACH ROW EXECUTE FUNCTION moodle.user_directory_delete();
SELECT credimport_set_target('learner', 'moodle.user_directory',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname", "active": "is_active"}');
CREATE TEMP TABLE full2_result AS SELECT * FROM credimport_load_data(
    E'email,remote_id,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
     'new.doc@school.example,M-300,Doc,Tor,Moodle Academy,Full Course,FULL-3,2025-02-01,1,CE\n'
     'new.vet@school.example,,Vet,Erinary,Moodle Academy,Full Course,FULL-3,2025-02-01,1,CE\n'
     'susan@school.example,,,,Moodle Academy,Full Course,FULL-3,2025-02-01,1,CE\n', 'full', max_errors => 1);
SELECT credimport_last_batch_id() AS full2_batch \gset
SELECT r.line_no, r.status, u.username, u.idnumber, u.firstname, u.lastname, u.timecreated > 0 AS stamped,
       t.id IS NOT NULL AS credit_found, r.errors
  FROM full2_result r LEFT JOIN moodle.mdl_user u ON u.id = r.learner_id
  LEFT JOIN platform.transcript t ON t.id = r.credit_key::uuid
 ORDER BY r.line_no;
SELECT learners_created FROM credimport.batch WHERE id = :full2_batch;
SELECT * FROM credimport_revert(:full2_batch);
SELECT count(*) AS created_left FROM moodle.mdl_user WHERE email IN ('new.doc@school.example', 'new.vet@school.example');

-- a created user whose field is empty (no idnumber): credimport writes NULL
-- (not the column's default), which Moodle's NOT NULL DEFAULT '' column
-- refuses through the simple view; the error names the line (the view with
-- an INSTEAD OF trigger above writes '')
SELECT credimport_set_target('learner', 'moodle.local_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "active": {"unless": ["suspended", "deleted"]}}');
SELECT * FROM plat_error($$SELECT * FROM credimport_load_data(
    E'email,remote_id,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
     'no.idnumber@school.example,,No,Idnumber,Moodle Academy,Full Course,FULL-4,2025-02-01,1,CE\n', 'full')$$);
SELECT count(*) AS written FROM moodle.mdl_user WHERE email = 'no.idnumber@school.example';

-- ---------------------------------------------------------------------------
-- users into mdl_user itself, with links and invitations in the platform's
-- tables; both write routes store the same users
-- ---------------------------------------------------------------------------
SELECT credimport_set_target('learner', 'moodle.mdl_user',
    '{"email": "email", "remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "username": "username", "active": {"unless": ["suspended", "deleted"]}}');
SELECT line_no, status, errors FROM credimport_load_users(:'fx' || 'moodle_users.csv', validate_only => true);
-- (the INSERT route's outcome is kept in files across the ROLLBACK)
SELECT current_setting('data_directory') || '/credimport_plat_users_' AS plat_out \gset
BEGIN;
SET LOCAL credimport.write_method = 'insert';
CREATE TEMP TABLE users_by_insert AS
SELECT line_no, status, errors FROM credimport_load_users(:'fx' || 'moodle_users.csv', auto_invite => true, max_errors => 1);
\set ECHO none
SELECT format('COPY users_by_insert TO %L', :'plat_out' || 'report') \gexec
SELECT format('COPY (SELECT auth, confirmed, mnethostid, username, idnumber, firstname, lastname, email, suspended, deleted
                     FROM moodle.mdl_user) TO %L', :'plat_out' || 'rows') \gexec
\set ECHO all
ROLLBACK;
CREATE TEMP TABLE users_by_insert (line_no bigint, status text, errors text[]);
CREATE TEMP TABLE users_rows_insert AS
SELECT auth, confirmed, mnethostid, username, idnumber, firstname, lastname, email, suspended, deleted
  FROM moodle.mdl_user WITH NO DATA;
\set ECHO none
SELECT format('COPY users_by_insert FROM %L', :'plat_out' || 'report') \gexec
SELECT format('COPY users_rows_insert FROM %L', :'plat_out' || 'rows') \gexec
\set ECHO all
SELECT count(*) AS users_by_insert_route FROM users_rows_insert;
SELECT setval('moodle.mdl_user_id_seq', 8) AS user_ids_from;
CREATE TEMP TABLE users_result AS
SELECT * FROM credimport_load_users(:'fx' || 'moodle_users.csv', auto_invite => true, max_errors => 1);
SELECT credimport_last_batch_id() AS users_batch \gset
SELECT r.line_no, r.status, u.id AS mdl_user_id, u.username, u.idnumber, u.firstname, u.lastname, r.errors
  FROM users_result r LEFT JOIN moodle.mdl_user u ON u.id = r.learner_id ORDER BY r.line_no;
SELECT (SELECT count(*) FROM (SELECT auth, confirmed, mnethostid, username, idnumber, firstname, lastname, email, suspended, deleted
                                FROM moodle.mdl_user EXCEPT ALL SELECT * FROM users_rows_insert) d) AS only_default_route,
       (SELECT count(*) FROM (SELECT * FROM users_rows_insert EXCEPT ALL
                              SELECT auth, confirmed, mnethostid, username, idnumber, firstname, lastname, email, suspended, deleted
                                FROM moodle.mdl_user) d) AS only_insert_route,
       (SELECT count(*) FROM (SELECT line_no, status, errors FROM users_result EXCEPT ALL SELECT * FROM users_by_insert) d) AS report_differs;
SELECT kind, status, records, imported, invalid, learners_created, learners_updated FROM credimport.batch WHERE id = :users_batch;
SELECT s.username AS student, l.relation, r.username AS related
  FROM platform.user_link l JOIN moodle.mdl_user s ON s.id = l.student_id JOIN moodle.mdl_user r ON r.id = l.related_id;
SELECT u.username, length(i.token) AS token_length, i.sent_at IS NULL AS unsent
  FROM platform.invitation i JOIN moodle.mdl_user u ON u.id = i.user_id ORDER BY 1;
SELECT credimport_error_report(:users_batch);
-- revert: the users the batch created leave mdl_user, with their links and
-- invitations; the update of ada stays
SELECT * FROM credimport_revert(:users_batch);
SELECT username, lastname FROM moodle.mdl_user WHERE username IN ('pat', 'nina', 'ada') ORDER BY 1;
SELECT (SELECT count(*) FROM platform.user_link) AS links, (SELECT count(*) FROM platform.invitation) AS invitations;

-- ---------------------------------------------------------------------------
-- credentials into the platform's licenses (GENERATED ALWAYS key), approve
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE license_result AS
SELECT * FROM credimport_load_credentials(:'fx' || 'moodle_licenses.csv', 'email', max_errors => 2);
SELECT credimport_last_batch_id() AS license_batch \gset
SELECT r.line_no, r.status, u.username, l.number, l.state, l.id IS NOT NULL AS license_found, r.errors
  FROM license_result r LEFT JOIN moodle.mdl_user u ON u.id = r.learner_id
  LEFT JOIN platform.license l ON l.id = r.credential_id ORDER BY r.line_no;
SELECT credimport_approve(:license_batch) AS approved;
SELECT l.number, l.state, l.approved_by = current_user AS by_me, l.approved_at IS NOT NULL AS approved_at_set
  FROM platform.license l ORDER BY l.number;
SELECT count(*) AS expiring_within_100_years FROM credimport_expiring_credentials(36500);
-- an update makes the credential pending again, and approving the batch
-- approves it (the license table has no batch column: the batch's updated
-- rows must be known to credimport too)
SELECT line_no, status, errors FROM credimport_load_credentials_data(
    E'remote_id,credential_type,license_number,issue_date,expiration_date,action\n'
     'M-ADA,RN,RN-1,2022-01-15,2040-01-15,update\n'
     'M-GRACE,RN,RN-2,2023-02-01,,delete\n', 'remote_id');
SELECT credimport_last_batch_id() AS license_update_batch \gset
SELECT l.number, l.state, l.expires_on FROM platform.license l ORDER BY l.number;
SELECT credimport_approve(:license_update_batch) AS approved;
SELECT l.number, l.state, l.expires_on FROM platform.license l ORDER BY l.number;
-- approve => true: approved as written
SELECT line_no, status, errors FROM credimport_load_credentials_data(
    E'user_id,credential_type,license_number,issue_date,expiration_date\n'
     '3,BLS,B-9,2024-01-01,2034-01-01\n', 'user_id', approve => true);
SELECT l.number, l.state, l.approved_by = current_user AS by_me FROM platform.license l ORDER BY l.number;

-- ---------------------------------------------------------------------------
-- the platform refuses a row: its CHECK constraint, its trigger; the error
-- says which line of the file the row came from, and nothing is written
-- ---------------------------------------------------------------------------
SELECT * FROM plat_error(format('SELECT * FROM credimport_load(%L, %L)', :'fx' || 'moodle_refused.csv', 'email'));
SELECT count(*) AS written FROM platform.transcript WHERE course_code IN ('GR-1', 'MAR-1');
BEGIN;
CREATE FUNCTION moodle.refuse_domain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.email LIKE '%@blocked.example' THEN
        RAISE EXCEPTION 'e-mail domain blocked.example is not allowed on this site';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_domain BEFORE INSERT ON moodle.mdl_user FOR EACH ROW EXECUTE FUNCTION moodle.refuse_domain();
SELECT * FROM plat_error($$SELECT * FROM credimport_load_users_data(
    E'email,username,first_name,last_name,remote_id\nok@school.example,ok,Ok,User,M-OK\n\nbad@blocked.example,bad,Bad,User,M-BAD\n')$$);
ROLLBACK;

-- a users file without a remote_id column writes nothing into idnumber:
-- Moodle's default ('') applies
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT line_no, status, errors FROM credimport_load_users_data(
    E'email,username,first_name,last_name\nno.id@school.example,no.id,No,Idnumber\n');
SELECT username, idnumber = '' AS idnumber_is_default FROM moodle.mdl_user WHERE username = 'no.id';
ROLLBACK;

-- ---------------------------------------------------------------------------
-- what credimport kept of the batches' rows (the platform's tables have no
-- batch column)
-- ---------------------------------------------------------------------------
SELECT b.id - 900 AS batch, b.status, p.role, p.relation, count(p.row_key) AS rows_kept
  FROM credimport.batch b LEFT JOIN credimport.provenance_rows p ON p.batch_id = b.id
 WHERE b.id > 900 AND b.kind = 'credits' AND b.status IN ('imported', 'reverted')
 GROUP BY b.id, b.status, p.role, p.relation ORDER BY b.id, p.role;
-- the keys kept are the rows' own keys: the transcript's uuids, mdl_user's ids
SELECT p.role, count(*) AS keys, count(t.id) AS naming_a_transcript_row, count(u.id) AS naming_a_user
  FROM credimport.provenance_rows p
  JOIN credimport.batch b ON b.id = p.batch_id AND b.status = 'imported'
  LEFT JOIN platform.transcript t ON p.role = 'credit' AND t.id::text = p.row_key
  LEFT JOIN moodle.mdl_user u ON p.role = 'learner' AND u.id::text = p.row_key
 WHERE p.batch_id > 900 AND b.kind = 'credits' GROUP BY p.role ORDER BY p.role;

-- back to the shipped tables, and the batch numbers as they were
SELECT credimport_reset_target(r)
  FROM unnest(ARRAY['learner', 'credit_type', 'credit', 'credential_type', 'credential',
                    'learner_link', 'invitation']) r;
SELECT * FROM credimport.targets ORDER BY 1;
DELETE FROM credimport.batch WHERE id > 900;
SELECT setval('credimport.batch_id_seq', :plat_batch_seq) > 0 AS batch_seq_restored;
DROP SCHEMA moodle, platform CASCADE;
DROP FUNCTION plat_error(text);
