--
-- targets_tenant: the tenant column of a target ({"tenant_id": "column"}):
-- any type, never written by credimport (its DEFAULT gives the row its
-- tenant, by both write routes), refused without a default and in a
-- column of another field; unique keys within a tenant count as unique
--
\pset null '(null)'
-- (later tests expect the numbers of batches as they were)
SELECT last_value AS tt_batch_last, is_called AS tt_batch_called FROM credimport.batch_id_seq \gset
SELECT setval('credimport.batch_id_seq', 7100, false) AS tt_first_batch;
CREATE SCHEMA tt;
-- (stands in for the caller's tenant: any default will do, credimport binds none)
CREATE FUNCTION tt.caller_org() RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT current_setting('tt.org', true) $$;

-- every role knows the field; on a platform's relation it is bound only
-- when mapped
SELECT role, columns ? 'tenant_id' AS knows_tenant_id FROM credimport.targets ORDER BY role;
SELECT sqlstate, hint FROM expect_error($$SELECT credimport_set_target('invitation', 'credimport.invitation', '{"org": "tenant_id"}')$$) \gx

-- a learner table of the platform's: the tenant column, and keys unique
-- within a tenant (in either order, lower()ed where the match is)
CREATE TABLE tt.users (
    id          bigserial PRIMARY KEY,
    org         text NOT NULL,
    email       text,
    ext_id      text,
    login       text,
    first_name  text,
    last_name   text
);
CREATE UNIQUE INDEX users_email_key ON tt.users (org, lower(email));
CREATE UNIQUE INDEX users_ext_key ON tt.users (ext_id, org);
CREATE UNIQUE INDEX users_login_key ON tt.users (lower(login), org);

-- without a default: refused (credimport never writes the tenant column)
SELECT * FROM expect_error($$SELECT credimport_set_target('learner', 'tt.users',
    '{"tenant_id": "org", "remote_id": "ext_id", "username": "login"}')$$) \gx
-- with one: accepted, and the keys unique within a tenant raise no notice
ALTER TABLE tt.users ALTER COLUMN org SET DEFAULT tt.caller_org();
SELECT credimport_set_target('learner', 'tt.users',
    '{"tenant_id": "org", "remote_id": "ext_id", "username": "login"}');
SELECT columns->>'tenant_id' AS tenant_id, columns->>'email' AS email FROM credimport.targets WHERE role = 'learner';
-- not mapped, org is just another column: nothing keeps the keys unique
SELECT credimport_set_target('learner', 'tt.users', '{"remote_id": "ext_id", "username": "login"}');
SELECT columns->>'tenant_id' AS tenant_id FROM credimport.targets WHERE role = 'learner';
-- the tenant column in the column of another field: refused
SELECT sqlstate, message FROM expect_error($$SELECT credimport_set_target('learner', 'tt.users',
    '{"tenant_id": "id"}')$$);
SELECT sqlstate, message FROM expect_error($$SELECT credimport_set_target('learner', 'tt.users',
    '{"tenant_id": "org", "remote_id": "org"}')$$);
SELECT sqlstate, message FROM expect_error($$SELECT credimport_set_target('learner', 'tt.users',
    '{"tenant_id": "nope"}')$$);

-- a nullable tenant column: a unique index with it keeps nothing unique
-- among the rows without a tenant, unless it treats nulls as equal or
-- indexes COALESCE(tenant, constant); an index without the column, or
-- with a third column, keeps nothing unique
CREATE TABLE tt.people (
    id          bigserial PRIMARY KEY,
    org         text DEFAULT tt.caller_org(),
    email       text,
    ext_id      text,
    login       text,
    other       text
);
CREATE UNIQUE INDEX people_email_key ON tt.people (org, lower(email));
CREATE UNIQUE INDEX people_ext_key ON tt.people (COALESCE(org, ''), ext_id);
CREATE UNIQUE INDEX people_login_key ON tt.people (org, lower(login)) NULLS NOT DISTINCT;
SELECT credimport_set_target('learner', 'tt.people', '{"tenant_id": "org", "remote_id": "ext_id", "username": "login"}');
DROP INDEX tt.people_email_key;
CREATE UNIQUE INDEX people_email_key ON tt.people (lower(email), COALESCE(org, 'none'));
DROP INDEX tt.people_ext_key;
CREATE UNIQUE INDEX people_ext_key ON tt.people (COALESCE(org, ''), other);
DROP INDEX tt.people_login_key;
CREATE UNIQUE INDEX people_login_key ON tt.people (org, lower(login), other) NULLS NOT DISTINCT;
SELECT credimport_set_target('learner', 'tt.people', '{"tenant_id": "org", "remote_id": "ext_id", "username": "login"}');
-- COALESCE of another column, or with a column as its fallback: not the tenant
DROP INDEX tt.people_ext_key;
CREATE UNIQUE INDEX people_ext_key ON tt.people (COALESCE(other, ''), ext_id);
CREATE UNIQUE INDEX people_ext_key2 ON tt.people (COALESCE(org, other), ext_id);
SELECT credimport_set_target('learner', 'tt.people', '{"tenant_id": "org", "remote_id": "ext_id"}');

-- the row key: a primary key on (tenant, key) counts, as one with the
-- partition columns does; without the tenant mapped it does not
CREATE TABLE tt.transcript (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    org         text NOT NULL DEFAULT tt.caller_org(),
    user_id     bigint NOT NULL,
    provider    text,
    course      text NOT NULL,
    code        text NOT NULL,
    completed   date NOT NULL,
    credits     numeric(6,2) NOT NULL,
    type_id     integer NOT NULL,
    PRIMARY KEY (org, id)
);
CREATE FUNCTION tt.transcript_columns(extra jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT '{"learner_id": "user_id", "provider": "provider", "course_title": "course", "course_id": "code",
             "completion_date": "completed", "number_credits": "credits", "credit_type_id": "type_id"}'::jsonb || extra
$$;
SELECT credimport_set_target('credit', 'tt.transcript', tt.transcript_columns('{"tenant_id": "org"}'));
SELECT sqlstate, message FROM expect_error($$SELECT credimport_set_target('credit', 'tt.transcript', tt.transcript_columns())$$);
-- COALESCE(tenant, constant) in a unique index on the key counts too
CREATE TABLE tt.transcript_c (LIKE tt.transcript INCLUDING DEFAULTS);
ALTER TABLE tt.transcript_c ALTER COLUMN org DROP NOT NULL;
CREATE UNIQUE INDEX transcript_c_key ON tt.transcript_c (id, COALESCE(org, ''));
SELECT credimport_set_target('credit', 'tt.transcript_c', tt.transcript_columns('{"tenant_id": "org"}'));
-- ... and the plain nullable column does not
DROP INDEX tt.transcript_c_key;
CREATE UNIQUE INDEX transcript_c_key ON tt.transcript_c (id, org);
SELECT sqlstate, message FROM expect_error($$SELECT credimport_set_target('credit', 'tt.transcript_c', tt.transcript_columns('{"tenant_id": "org"}'))$$);
-- partitioned: key, partition column and tenant
CREATE TABLE tt.transcript_p (LIKE tt.transcript INCLUDING DEFAULTS, PRIMARY KEY (id, completed, org))
    PARTITION BY RANGE (completed);
CREATE TABLE tt.transcript_p_all PARTITION OF tt.transcript_p DEFAULT;
SELECT credimport_set_target('credit', 'tt.transcript_p', tt.transcript_columns('{"tenant_id": "org"}'));

-- any type: an integer and a uuid tenant, each hinted with its cast
CREATE TABLE tt.transcript_i (LIKE tt.transcript INCLUDING DEFAULTS);
ALTER TABLE tt.transcript_i DROP COLUMN org;
ALTER TABLE tt.transcript_i ADD COLUMN org integer NOT NULL, ADD PRIMARY KEY (id, org);
SELECT * FROM expect_error($$SELECT credimport_set_target('credit', 'tt.transcript_i', tt.transcript_columns('{"tenant_id": "org"}'))$$) \gx
ALTER TABLE tt.transcript_i ALTER COLUMN org SET DEFAULT 7;
SELECT credimport_set_target('credit', 'tt.transcript_i', tt.transcript_columns('{"tenant_id": "org"}'));
CREATE TABLE tt.transcript_u (LIKE tt.transcript INCLUDING DEFAULTS);
ALTER TABLE tt.transcript_u DROP COLUMN org;
ALTER TABLE tt.transcript_u ADD COLUMN org uuid NOT NULL, ADD PRIMARY KEY (id, org);
SELECT hint FROM expect_error($$SELECT credimport_set_target('credit', 'tt.transcript_u', tt.transcript_columns('{"tenant_id": "org"}'))$$);
-- a generated column is no default: it cannot give the caller's tenant
CREATE TABLE tt.transcript_g (LIKE tt.transcript INCLUDING DEFAULTS);
ALTER TABLE tt.transcript_g DROP COLUMN org;
ALTER TABLE tt.transcript_g ADD COLUMN org text GENERATED ALWAYS AS (upper(code)) STORED, ADD PRIMARY KEY (id);
SELECT sqlstate, message FROM expect_error($$SELECT credimport_set_target('credit', 'tt.transcript_g', tt.transcript_columns('{"tenant_id": "org"}'))$$);
-- a view: the view's own default counts (ALTER VIEW ... SET DEFAULT)
CREATE VIEW tt.transcript_v AS SELECT * FROM tt.transcript;
SELECT hint FROM expect_error($$SELECT credimport_set_target('credit', 'tt.transcript_v', tt.transcript_columns('{"tenant_id": "org"}'))$$);
ALTER VIEW tt.transcript_v ALTER COLUMN org SET DEFAULT tt.caller_org();
SELECT credimport_set_target('credit', 'tt.transcript_v', tt.transcript_columns('{"tenant_id": "org"}'));
-- types are only read: a tenant column needs no default there
CREATE TABLE tt.credit_type (id serial PRIMARY KEY, org text, code text NOT NULL, name text);
SELECT credimport_set_target('credit_type', 'tt.credit_type', '{"tenant_id": "org"}');
SELECT columns->>'tenant_id' AS tenant_id FROM credimport.targets WHERE role = 'credit_type';
SELECT credimport_reset_target('credit_type');
SELECT credimport_reset_target('learner');

-- writing: credimport binds no value for the tenant column; the default
-- gives it, by both routes (auto: the multi-insert route, which calls
-- credimport.writing_row for no row; insert: INSERT ... SELECT, which does)
SELECT string_agg(format('%s,TT Provider,TT course %s,TT-%s,2024-03-%s,1.5,CME',
                         CASE WHEN i % 2 = 0 THEN 'ada@example.org' ELSE 'Grace@Example.org' END, i, i, 10 + i),
                  E'\n' ORDER BY i) AS tt_body FROM generate_series(1, 6) i \gset
SELECT E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n' || :'tt_body' || E'\n' AS tt_content \gset
SET track_functions = 'all';
CREATE FUNCTION tt.load(org text, route text, content text)
RETURNS TABLE (status text, n bigint, by_insert boolean) LANGUAGE plpgsql AS $$
DECLARE
    calls0 bigint;
BEGIN
    PERFORM set_config('tt.org', org, true);
    PERFORM set_config('credimport.write_method', route, true);
    SELECT coalesce(sum(f.calls), 0) INTO calls0 FROM pg_stat_xact_user_functions f WHERE f.funcname = 'writing_row';
    -- (each load its own courses)
    CREATE TEMP TABLE tt_result ON COMMIT DROP AS
        SELECT * FROM credimport_load_data(replace(content, 'TT-', format('TT-%s-%s-', org, route)), 'email');
    SELECT coalesce(sum(f.calls), 0) > calls0 INTO by_insert FROM pg_stat_xact_user_functions f WHERE f.funcname = 'writing_row';
    RETURN QUERY SELECT r.status, count(*), by_insert FROM tt_result r GROUP BY r.status;
    DROP TABLE tt_result;
END $$;
SELECT credimport_set_target('credit', 'tt.transcript', tt.transcript_columns('{"tenant_id": "org"}'));
SELECT * FROM tt.load('acme', 'auto', :'tt_content');
SELECT * FROM tt.load('globex', 'insert', :'tt_content');
SELECT org, count(*), min(code), max(code) FROM tt.transcript GROUP BY org ORDER BY org;
-- a tenant column of another type: its default's value, by both routes
ALTER TABLE tt.transcript_i ALTER COLUMN org SET DEFAULT length(tt.caller_org());
SELECT credimport_set_target('credit', 'tt.transcript_i', tt.transcript_columns('{"tenant_id": "org"}'));
SELECT * FROM tt.load('initech', 'auto', :'tt_content');
SELECT * FROM tt.load('umbrella', 'insert', :'tt_content');
SELECT org, count(*), min(code), max(code) FROM tt.transcript_i GROUP BY org ORDER BY org;

-- a file cannot set the tenant column: a column of it named like the
-- tenant field or the tenant column is not a column of the import
SET tt.org = 'hooli';
SELECT status, errors FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type,tenant_id,org\n'
    'ada@example.org,TT Provider,TT file course,TT-F1,2024-04-01,1,CME,99,99\n', 'email');
SELECT org, code FROM tt.transcript_i WHERE code = 'TT-F1';
RESET tt.org;
SELECT * FROM expect_error($$SELECT * FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type,whose\n'
    'ada@example.org,TT Provider,TT file course,TT-F2,2024-04-01,1,CME,globex\n', 'email',
    columns => '{"whose": "tenant_id"}')$$) \gx

SELECT credimport_reset_target('credit');

/*
 * Tenancy on (credimport.tenant has a row): credimport_set_target says
 * which targets leave a tenant's rows open to every tenant's loaders -- a
 * table without row-level security (a view: its tables' policies; a type
 * table without a tenant column: shared by all tenants), a written role
 * without a tenant column -- and the default of the tenant column gives
 * each row its writer's tenant, by both routes.
 */
CREATE ROLE tt_acme NOLOGIN;
CREATE ROLE tt_globex NOLOGIN;
SELECT credimport_grant_loader('tt_acme'), credimport_grant_loader('tt_globex');
CREATE TABLE tt.ledger (
    id          bigint GENERATED BY DEFAULT AS IDENTITY,
    org         text NOT NULL DEFAULT credimport.current_tenant(),
    user_id     bigint NOT NULL,
    provider    text,
    course      text NOT NULL,
    code        text NOT NULL,
    completed   date NOT NULL,
    credits     numeric(6,2) NOT NULL,
    type_id     integer NOT NULL,
    PRIMARY KEY (org, id)
);
-- tenancy off: nothing to say
SELECT credimport_set_target('credit', 'tt.ledger', tt.transcript_columns('{"tenant_id": "org"}'));
SELECT credimport_create_tenant('acme', 'tt_acme');
SELECT credimport_create_tenant('globex', 'tt_globex');
-- on: a table without row-level security
SELECT credimport_set_target('credit', 'tt.ledger', tt.transcript_columns('{"tenant_id": "org"}'));
-- ... of another tenant type: the policy's array of that type
SELECT credimport_set_target('credit', 'tt.transcript_i', tt.transcript_columns('{"tenant_id": "org"}'));
-- ... with no tenant column either (and then: nothing at all with it on)
CREATE TABLE tt.open_credit (LIKE tt.ledger INCLUDING DEFAULTS);
ALTER TABLE tt.open_credit DROP COLUMN org, ADD PRIMARY KEY (id);
SELECT credimport_set_target('credit', 'tt.open_credit', tt.transcript_columns());
ALTER TABLE tt.open_credit ENABLE ROW LEVEL SECURITY;
SELECT credimport_set_target('credit', 'tt.open_credit', tt.transcript_columns());
-- with row-level security and the tenant column: nothing to say
CREATE TABLE tt.closed_credit (LIKE tt.ledger INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
ALTER TABLE tt.closed_credit ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_rows ON tt.closed_credit
    USING (org = ANY ((SELECT credimport.caller_tenants())::text[]))
    WITH CHECK (org = ANY ((SELECT credimport.caller_tenants())::text[]));
SELECT credimport_set_target('credit', 'tt.closed_credit', tt.transcript_columns('{"tenant_id": "org"}'));
-- a view: only the tenant column is its business
CREATE VIEW tt.closed_view AS SELECT * FROM tt.closed_credit;
ALTER VIEW tt.closed_view ALTER COLUMN org SET DEFAULT credimport.current_tenant();
SELECT credimport_set_target('credit', 'tt.closed_view', tt.transcript_columns('{"tenant_id": "org"}'));
CREATE VIEW tt.closed_view_nt AS SELECT id, user_id, provider, course, code, completed, credits, type_id
  FROM tt.closed_credit;
SELECT credimport_set_target('credit', 'tt.closed_view_nt', tt.transcript_columns());
-- types shared by all tenants (no tenant column) need no policy; a
-- tenant's types do
CREATE TABLE tt.shared_type (id serial PRIMARY KEY, code text NOT NULL UNIQUE, name text);
SELECT credimport_set_target('credit_type', 'tt.shared_type');
SELECT credimport_set_target('credit_type', 'tt.credit_type', '{"tenant_id": "org"}');
SELECT credimport_reset_target('credit_type');
-- the shipped tables: row-level security and a tenant column, no notice
SELECT credimport_set_target('learner', 'credimport.learner');
SELECT credimport_set_target('credit', 'credimport.credit');
SELECT role, relation, shipped, columns->>'tenant_id' AS tenant_id FROM credimport.targets ORDER BY role;

-- a tenant's role writes: its rows get its tenant from the default, by
-- both routes (the multi-insert route into a table without row-level
-- security, INSERT into one with it); each sees its own learners only
ALTER TABLE tt.users ALTER COLUMN org SET DEFAULT credimport.current_tenant();
ALTER TABLE tt.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_rows ON tt.users
    USING (org = ANY ((SELECT credimport.caller_tenants())::text[]))
    WITH CHECK (org = ANY ((SELECT credimport.caller_tenants())::text[]));
SELECT credimport_set_target('learner', 'tt.users', '{"tenant_id": "org", "remote_id": "ext_id", "username": "login"}');
GRANT USAGE ON SCHEMA tt TO tt_acme, tt_globex;
GRANT SELECT, INSERT ON tt.users, tt.ledger, tt.closed_credit TO tt_acme, tt_globex;
GRANT USAGE ON SEQUENCE tt.users_id_seq TO tt_acme, tt_globex;
SET ROLE tt_acme;
INSERT INTO tt.users (email) VALUES ('ada@example.org'), ('grace@example.org');
SET ROLE tt_globex;
INSERT INTO tt.users (email) VALUES ('ada@example.org'), ('grace@example.org');
RESET ROLE;
SELECT org, count(*) FROM tt.users GROUP BY org ORDER BY org;
SELECT credimport_set_target('credit', 'tt.ledger', tt.transcript_columns('{"tenant_id": "org"}'));
SET ROLE tt_acme;
SELECT * FROM tt.load('acme', 'auto', :'tt_content');
SET ROLE tt_globex;
SELECT * FROM tt.load('globex', 'insert', :'tt_content');
RESET ROLE;
SELECT l.org, u.org AS learner_org, count(*), min(l.code), max(l.code)
  FROM tt.ledger l JOIN tt.users u ON u.id = l.user_id GROUP BY 1, 2 ORDER BY 1;
SELECT b.tenant_id, b.status FROM credimport.batch b WHERE b.id >= 7100 AND b.tenant_id IS NOT NULL ORDER BY b.id;
SELECT credimport_set_target('credit', 'tt.closed_credit', tt.transcript_columns('{"tenant_id": "org"}'));
-- (row-level security: the auto route takes INSERT too)
SET ROLE tt_acme;
SELECT * FROM tt.load('acme-rls', 'auto', :'tt_content');
SET ROLE tt_globex;
SELECT * FROM tt.load('globex-rls', 'insert', :'tt_content');
SELECT org, count(*), min(code) FROM tt.closed_credit GROUP BY org;
RESET ROLE;
SELECT org, count(*), min(code) FROM tt.closed_credit GROUP BY org ORDER BY org;

SELECT credimport_reset_target('credit');
SELECT credimport_reset_target('learner');
SELECT credimport_drop_tenant('acme'), credimport_drop_tenant('globex');
SELECT count(*) AS tenants FROM credimport.tenant;
SELECT count(*) AS configured FROM credimport.target;
DELETE FROM credimport.batch WHERE id >= 7100;
SELECT setval('credimport.batch_id_seq', :tt_batch_last, :'tt_batch_called') IS NOT NULL AS batch_ids_restored;
SET client_min_messages = warning;
DROP SCHEMA tt CASCADE;
DROP OWNED BY tt_acme, tt_globex;
DROP ROLE tt_acme, tt_globex;
RESET client_min_messages;
RESET track_functions;
