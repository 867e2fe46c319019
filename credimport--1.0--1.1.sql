/* credimport--1.0--1.1.sql: bulk add and update of users */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.1'" to load this file. \quit

-- learners get a username (for students without e-mail) and a role
ALTER TABLE credimport.learner
    ADD COLUMN username text,
    ADD COLUMN role text NOT NULL DEFAULT 'student'
        CONSTRAINT learner_role_check CHECK (role IN ('student', 'instructor', 'parent'));
CREATE UNIQUE INDEX learner_username_key ON credimport.learner (lower(username));

-- associations, stored from the student's side
CREATE TABLE credimport.learner_link (
    learner_id         bigint NOT NULL REFERENCES credimport.learner (id) ON DELETE CASCADE,
    related_learner_id bigint NOT NULL REFERENCES credimport.learner (id) ON DELETE CASCADE,
    relation           text NOT NULL CHECK (relation IN ('parent', 'instructor')),
    batch_id           bigint REFERENCES credimport.batch (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (learner_id, related_learner_id, relation),
    CHECK (learner_id <> related_learner_id)
);
CREATE INDEX learner_link_related_idx ON credimport.learner_link (related_learner_id);

-- account activation e-mails to send: one per learner a batch created
CREATE TABLE credimport.invitation (
    learner_id bigint NOT NULL REFERENCES credimport.learner (id) ON DELETE CASCADE,
    batch_id   bigint NOT NULL REFERENCES credimport.batch (id) ON DELETE CASCADE,
    token      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX invitation_batch_idx ON credimport.invitation (batch_id);

-- what a batch loaded, and the outcome of a users batch
ALTER TABLE credimport.batch
    ADD COLUMN kind text NOT NULL DEFAULT 'credits',
    ADD COLUMN learners_updated integer NOT NULL DEFAULT 0,
    ADD COLUMN learners_unchanged integer NOT NULL DEFAULT 0;

SELECT pg_catalog.pg_extension_config_dump('credimport.learner_link', '');
SELECT pg_catalog.pg_extension_config_dump('credimport.invitation', '');

-- the users loader: the same pipeline as the credit loaders, three doors
CREATE FUNCTION @extschema@.credimport_load_users(
    path text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_file'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_users(text, boolean, boolean, integer) IS
    'add or update learners (students, instructors, parents) and their associations from a server file';

CREATE FUNCTION @extschema@.credimport_load_users(
    staging regclass,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_table'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD';
COMMENT ON FUNCTION @extschema@.credimport_load_users(regclass, boolean, boolean, integer) IS
    'add or update learners and their associations from a staging table';

CREATE FUNCTION @extschema@.credimport_load_users_data(
    content text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_data'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.credimport_load_users_data(text, boolean, boolean, integer) IS
    'add or update learners and their associations from CSV text sent by the client';

REVOKE ALL ON FUNCTION @extschema@.credimport_load_users(text, boolean, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_users(regclass, boolean, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.credimport_load_users_data(text, boolean, boolean, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.credimport_invitation_sent(token text)
RETURNS boolean
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    WITH marked AS (
        UPDATE credimport.invitation i SET sent_at = pg_catalog.now()
         WHERE i.token OPERATOR(pg_catalog.=) $1 AND i.sent_at IS NULL
        RETURNING 1)
    SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 FROM marked;
$$;
COMMENT ON FUNCTION @extschema@.credimport_invitation_sent(text) IS
    'mark the invitation with this token as sent; false when there is no such unsent invitation';
REVOKE ALL ON FUNCTION @extschema@.credimport_invitation_sent(text) FROM PUBLIC;
