--
-- upgrade: every earlier version updates to the current one, and the
-- result is the same, object for object, as a fresh install; every update
-- path keeps the data in place; the loaders of every older SQL version work
-- through the current module; a database left at 1.5 works with the
-- current module, and one updated to 1.6 keeps its rows untenanted and its
-- loaders loading until tenancy is turned on.  (Runs last: it drops and
-- re-creates the extension.)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;

-- everything that makes up the installed extension, as comparable text
-- (its body names the schema the extension creates)
SET check_function_bodies = false;
CREATE FUNCTION ext_fingerprint() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT 'member: ' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE e.extname = 'credimport' AND d.deptype = 'e'
    UNION ALL
    SELECT format('column: %s.%s #%s %s notnull=%s default=%s identity=%s', c.relname, a.attname,
                  a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity)
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE c.relnamespace = 'credimport'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint: %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE connamespace = 'credimport'::regnamespace
    UNION ALL
    SELECT 'index: ' || pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace = 'credimport'::regnamespace
    UNION ALL
    SELECT format('trigger: %s', pg_get_triggerdef(t.oid))
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = 'credimport'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT format('routine: %s %s acl=%s', p.oid::regprocedure, md5(pg_get_functiondef(p.oid)), p.proacl)
      FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'credimport'
    UNION ALL
    -- (no ACL is the default ACL: a REVOKE of what was never granted writes the default out)
    SELECT format('table acl: %s %s', c.oid::regclass,
                  coalesce(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner)))
      FROM pg_class c WHERE c.relnamespace = 'credimport'::regnamespace
    UNION ALL
    -- (1.6: column privileges, row-level security and its policies)
    SELECT format('column acl: %s.%s %s', c.relname, a.attname, a.attacl)
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'credimport'::regnamespace AND a.attacl IS NOT NULL
    UNION ALL
    SELECT format('row security: %s enabled=%s forced=%s', c.oid::regclass, c.relrowsecurity, c.relforcerowsecurity)
      FROM pg_class c WHERE c.relnamespace = 'credimport'::regnamespace AND c.relkind IN ('r', 'p')
    UNION ALL
    SELECT format('policy: %s.%s %s %s to=%s using=%s check=%s', p.schemaname, p.tablename, p.policyname,
                  p.permissive, p.cmd, p.roles, p.qual, p.with_check)
      FROM pg_policies p WHERE p.schemaname = 'credimport'
    UNION ALL
    SELECT format('comment: %s %s', pg_describe_object(dd.classoid, dd.objoid, dd.objsubid), md5(dd.description))
      FROM pg_description dd
     WHERE (dd.classoid = 'pg_class'::regclass
            AND dd.objoid IN (SELECT oid FROM pg_class WHERE relnamespace = 'credimport'::regnamespace))
        OR (dd.classoid = 'pg_proc'::regclass
            AND dd.objoid IN (SELECT d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                               WHERE e.extname = 'credimport' AND d.classid = 'pg_proc'::regclass))
    UNION ALL
    SELECT 'dumped: ' || c.relname
      FROM pg_extension e, unnest(e.extconfig) cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
     WHERE e.extname = 'credimport'
    UNION ALL
    SELECT 'row: profile_field ' || name || '=' || required FROM credimport.profile_field
$$;
RESET check_function_bodies;

-- the versions there are, and the update paths between them
SELECT version FROM pg_available_extension_versions WHERE name = 'credimport' ORDER BY version;
SELECT source, target, path FROM pg_extension_update_paths('credimport')
 WHERE path IS NOT NULL ORDER BY source, target;

-- 1.0, with data, used through the current module
CREATE EXTENSION credimport VERSION '1.0';
INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME');
INSERT INTO credimport.learner (email) VALUES ('old@example.org');
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'old@example.org,P,T,UP-1,2024-01-01,1,CME\n', 'email');

-- ... updated step by step: the data stays, the new loaders work
ALTER EXTENSION credimport UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
SELECT l.email, l.role, c.course_id, b.kind FROM credimport.credit c
  JOIN credimport.learner l ON l.id = c.learner_id JOIN credimport.batch b ON b.id = c.batch_id;
SELECT line_no, status FROM credimport_load_users_data(E'email,first_name,last_name,role\nold@example.org,Old,Timer,instructor\n');
ALTER EXTENSION credimport UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
INSERT INTO credimport.credential_type (code, name) VALUES ('RN', 'Registered nurse');
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\nold@example.org,RN,RN-1,2020-01-01\n', 'email');
CREATE TEMP TABLE upgraded_from_1_0 AS SELECT * FROM ext_fingerprint() f;
TRUNCATE credimport.credit, credimport.learner, credimport.batch, credimport.credential_type CASCADE;

-- 1.2, with a role granted a loader, updated to the current version: the
-- loaders' arguments change in 1.3, and the grant carries over
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport VERSION '1.2';
CREATE ROLE "upgrade loader; with spaces";
GRANT EXECUTE ON FUNCTION credimport_load(text, text, boolean, boolean, integer, text) TO "upgrade loader; with spaces";
GRANT EXECUTE ON FUNCTION credimport_load_users_data(text, boolean, boolean, integer)
    TO "upgrade loader; with spaces" WITH GRANT OPTION;
ALTER EXTENSION credimport UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
SELECT p.oid::regprocedure AS routine,
       has_function_privilege('upgrade loader; with spaces', p.oid, 'EXECUTE WITH GRANT OPTION') AS grantable
  FROM pg_proc p WHERE has_function_privilege('upgrade loader; with spaces', p.oid, 'EXECUTE')
   AND p.proname LIKE 'credimport_load%' ORDER BY p.oid::regprocedure::text;
REVOKE ALL ON FUNCTION credimport_load(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer),
    credimport_load_users_data(text, boolean, boolean, integer, text, text, jsonb, text, integer),
    credimport_load_users_data(bytea, boolean, boolean, integer, text, text, jsonb, text, integer)
    FROM "upgrade loader; with spaces" CASCADE;
DROP ROLE "upgrade loader; with spaces";
CREATE TEMP TABLE upgraded_from_1_2 AS SELECT * FROM ext_fingerprint() f;

-- 1.1 updated to the current version
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport VERSION '1.1';
ALTER EXTENSION credimport UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
CREATE TEMP TABLE upgraded_from_1_1 AS SELECT * FROM ext_fingerprint() f;

-- 1.3, with data and a role granted loaders, updated to the current version:
-- 1.4 re-points the loaders to their entry points (CREATE OR REPLACE); the
-- functions, their grants, defaults, settings and comments stay
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport VERSION '1.3';
INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME');
INSERT INTO credimport.learner (email) VALUES ('old@example.org');
SELECT line_no, status FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'old@example.org,P,T,UP-3,2024-01-01,1,CME\n', 'UTF8'), 'email', format => 'csv');
CREATE ROLE "upgrade loader 1.3";
GRANT EXECUTE ON FUNCTION credimport_validate(text, text),
    credimport_load(regclass, text, boolean, boolean, integer, text) TO "upgrade loader 1.3";
GRANT EXECUTE ON FUNCTION credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text)
    TO "upgrade loader 1.3" WITH GRANT OPTION;
CREATE TEMP TABLE loaders_1_3 AS
SELECT p.oid, p.oid::regprocedure::text AS routine, p.proname AS routine_name, p.proargtypes[0] AS door,
       p.pronamespace, p.pronargs, p.prosrc, p.proargnames,
       pg_get_expr(p.proargdefaults, 0) AS defaults, p.proconfig, p.provolatile, p.proparallel,
       p.proisstrict, p.prosecdef, p.procost, p.prorows, p.prorettype, p.proallargtypes, p.proacl,
       obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc p WHERE p.probin IS NOT NULL AND p.proname ~ '^credimport_(load|validate)';
ALTER EXTENSION credimport UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
SELECT l.email, c.course_id, b.kind, b.status FROM credimport.credit c
  JOIN credimport.learner l ON l.id = c.learner_id JOIN credimport.batch b ON b.id = c.batch_id;
-- every target is its shipped table
SELECT count(*) AS targets, count(*) FILTER (WHERE shipped) AS shipped FROM credimport.targets;
-- each function of 1.3 is replaced by one with the same name, door and
-- leading arguments, then columns (and, but for tables, encoding and
-- header_row; credimport_validate takes allow_edit and if_exists first),
-- bound to a 1.4 entry point (a 1.5 one for the credit and credential
-- loaders, whose result 1.5 extends); its settings, volatility, grants and comment
-- are kept
SELECT o.routine, o.prosrc AS symbol_1_3, p.prosrc AS symbol_now,
       p.proargnames[o.pronargs + 1:p.pronargs] AS arguments_added,
       o.proargnames[1:o.pronargs] = p.proargnames[1:o.pronargs] OR o.routine LIKE 'credimport_validate%'
         AS leading_kept,
       (o.proconfig, o.provolatile, o.proparallel, o.proisstrict, o.prosecdef, o.procost, o.prorows,
        o.prorettype, o.proacl, o.comment)
       -- (1.4 also grants every loader to the new credimport_admin role: not compared)
       IS NOT DISTINCT FROM
       (p.proconfig, p.provolatile, p.proparallel, p.proisstrict, p.prosecdef, p.procost, p.prorows,
        p.prorettype,
        array(SELECT a FROM unnest(p.proacl) a WHERE a::text NOT LIKE 'credimport_admin=%'),
        obj_description(p.oid, 'pg_proc')) AS all_else_kept
  FROM loaders_1_3 o
  LEFT JOIN pg_proc p ON p.proname = o.routine_name AND p.proargtypes[0] = o.door
   AND p.pronamespace = o.pronamespace
 ORDER BY 1;
SELECT p.oid::regprocedure AS routine,
       has_function_privilege('upgrade loader 1.3', p.oid, 'EXECUTE WITH GRANT OPTION') AS grantable
  FROM pg_proc p WHERE has_function_privilege('upgrade loader 1.3', p.oid, 'EXECUTE')
   AND p.proname ~ '^credimport_(load|validate)' ORDER BY p.oid::regprocedure::text;
REVOKE ALL ON FUNCTION credimport_validate(text, text, boolean, text, text, text, jsonb, text, integer),
    credimport_validate_data(text, text, boolean, text, text, text, jsonb, text, integer),
    credimport_validate_data(bytea, text, boolean, text, text, text, jsonb, text, integer),
    credimport_load(regclass, text, boolean, boolean, integer, text, jsonb),
    credimport_load_data(bytea, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)
    FROM "upgrade loader 1.3" CASCADE;
DROP ROLE "upgrade loader 1.3";
CREATE TEMP TABLE upgraded_from_1_3 AS SELECT * FROM ext_fingerprint() f;

-- 1.4, with data (learners, credits, credentials, a batch of users with a
-- link and invitations), updated to the current version: every role's
-- target is its shipped table, the data stays, and loads after the update
-- find and write the same tables
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport VERSION '1.4';
INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME');
INSERT INTO credimport.credential_type (code, name) VALUES ('RN', 'Registered nurse');
SELECT line_no, status FROM credimport_load_users_data(
    convert_to(E'email,first_name,last_name,role,parent\n'
               'kid@example.org,Kid,One,student,mum@example.org\n'
               'mum@example.org,Mum,One,parent,\n', 'UTF8'), format => 'csv', auto_invite => true);
SELECT line_no, status FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'kid@example.org,P,T,UP-4,2024-01-01,1.5,CME\n', 'UTF8'), 'email', format => 'csv');
SELECT line_no, status FROM credimport_load_credentials_data(
    convert_to(E'email,credential_type,license_number,issue_date\n'
               'mum@example.org,RN,L-14,2024-02-01\n', 'UTF8'), 'email', format => 'csv');
CREATE TEMP TABLE rows_1_4 AS
SELECT 'learner' AS t, count(*) AS n, string_agg(email || '/' || role, ',' ORDER BY id) AS rows FROM credimport.learner
UNION ALL SELECT 'credit', count(*), string_agg(course_id || '/' || number_credits, ',' ORDER BY id) FROM credimport.credit
UNION ALL SELECT 'credential', count(*), string_agg(license_number || '/' || status, ',' ORDER BY id) FROM credimport.credential
UNION ALL SELECT 'learner_link', count(*), string_agg(relation, ',') FROM credimport.learner_link
UNION ALL SELECT 'invitation', count(*), NULL FROM credimport.invitation
UNION ALL SELECT 'batch', count(*), string_agg(kind || '/' || status, ',' ORDER BY id) FROM credimport.batch;
-- a role granted loaders (a credit loader WITH GRANT OPTION, which it
-- grants on), a loader granted to PUBLIC, a comment of the DBA's: 1.5 drops and creates the
-- credit and credential loaders again (their result gains credit_key or
-- credential_key); arguments, defaults, settings, owner, grants and
-- comments are kept, and the users loaders are not touched
CREATE ROLE "upgrade loader 1.4";
GRANT EXECUTE ON FUNCTION credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)
    TO "upgrade loader 1.4" WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION credimport_load_credentials(regclass, text, boolean, boolean, integer, jsonb),
    credimport_load_users_data(text, boolean, boolean, integer, text, text, jsonb, text, integer) TO "upgrade loader 1.4";
GRANT EXECUTE ON FUNCTION credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text, jsonb, text, integer)
    TO PUBLIC;
-- (and the role grants on: that grant's grantor is the role)
CREATE ROLE "upgrade loader 1.4, granted by a loader";
SET ROLE "upgrade loader 1.4";
GRANT EXECUTE ON FUNCTION credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)
    TO "upgrade loader 1.4, granted by a loader";
RESET ROLE;
COMMENT ON FUNCTION credimport_load(regclass, text, boolean, boolean, integer, text, jsonb) IS 'the DBA''s words';
CREATE TEMP TABLE loaders_1_4 AS
SELECT p.oid, p.oid::regprocedure::text AS routine, p.proname AS routine_name, p.proargtypes AS args,
       p.pronamespace, p.pronargs, p.prosrc, p.proargnames, p.proargmodes, p.proallargtypes,
       pg_get_expr(p.proargdefaults, 0) AS defaults, p.proconfig, p.provolatile, p.proparallel,
       p.proisstrict, p.prosecdef, p.procost, p.prorows, p.prorettype, p.proowner, p.proacl,
       obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc p WHERE p.probin IS NOT NULL AND p.proname ~ '^credimport_load';
ALTER EXTENSION credimport UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
SELECT role, relation, shipped FROM credimport.targets;
SELECT count(*) AS configured FROM credimport.target;
SELECT r.t, r.n, r.rows IS NOT DISTINCT FROM o.rows AS same_rows
  FROM (SELECT 'learner' AS t, count(*) AS n, string_agg(email || '/' || role, ',' ORDER BY id) AS rows FROM credimport.learner
        UNION ALL SELECT 'credit', count(*), string_agg(course_id || '/' || number_credits, ',' ORDER BY id) FROM credimport.credit
        UNION ALL SELECT 'credential', count(*), string_agg(license_number || '/' || status, ',' ORDER BY id) FROM credimport.credential
        UNION ALL SELECT 'learner_link', count(*), string_agg(relation, ',') FROM credimport.learner_link
        UNION ALL SELECT 'invitation', count(*), NULL FROM credimport.invitation
        UNION ALL SELECT 'batch', count(*), string_agg(kind || '/' || status, ',' ORDER BY id) FROM credimport.batch) r
  JOIN rows_1_4 o USING (t) ORDER BY 1;
-- each loader of 1.4: the same arguments and result columns, then (credit
-- and credential loaders) the key as text, bound to a 1.5 entry point;
-- all else kept
SELECT o.routine, p.oid = o.oid AS same_function, o.prosrc AS symbol_1_4, p.prosrc AS symbol_now,
       p.proargnames[array_length(o.proargnames, 1) + 1:] AS result_added,
       p.proargnames[1:array_length(o.proargnames, 1)] = o.proargnames
         AND p.proallargtypes[1:array_length(o.proallargtypes, 1)] = o.proallargtypes
         AND p.proargmodes[1:array_length(o.proargmodes, 1)] = o.proargmodes AS leading_kept,
       (o.defaults, o.proconfig, o.provolatile, o.proparallel, o.proisstrict, o.prosecdef, o.procost,
        o.prorows, o.prorettype, o.proowner, o.proacl, o.comment)
       IS NOT DISTINCT FROM
       (pg_get_expr(p.proargdefaults, 0), p.proconfig, p.provolatile, p.proparallel, p.proisstrict,
        p.prosecdef, p.procost, p.prorows, p.prorettype, p.proowner, p.proacl,
        obj_description(p.oid, 'pg_proc')) AS all_else_kept
  FROM loaders_1_4 o
  LEFT JOIN pg_proc p ON p.proname = o.routine_name AND p.proargtypes = o.args
   AND p.pronamespace = o.pronamespace
 ORDER BY 1;
SELECT p.oid::regprocedure AS routine,
       has_function_privilege('upgrade loader 1.4', p.oid, 'EXECUTE WITH GRANT OPTION') AS grantable
  FROM pg_proc p WHERE has_function_privilege('upgrade loader 1.4', p.oid, 'EXECUTE')
   AND p.proname ~ '^credimport_load' AND p.proacl::text LIKE '%upgrade loader 1.4%'
 ORDER BY p.oid::regprocedure::text;
SELECT a.grantee::regrole AS grantee,
       CASE WHEN a.grantor = p.proowner THEN 'the owner' ELSE a.grantor::regrole::text END AS grantor, a.is_grantable
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.oid = 'credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)'::regprocedure
   AND a.grantee::regrole::text LIKE '"upgrade loader%' ORDER BY 1;
-- the grant option works: the role grants on
SET ROLE "upgrade loader 1.4";
GRANT EXECUTE ON FUNCTION credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)
    TO credimport_admin;
RESET ROLE;
REVOKE ALL ON FUNCTION credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer),
    credimport_load_credentials(regclass, text, boolean, boolean, integer, jsonb),
    credimport_load_users_data(text, boolean, boolean, integer, text, text, jsonb, text, integer)
    FROM "upgrade loader 1.4" CASCADE;
REVOKE ALL ON FUNCTION credimport_load_credentials_data(bytea, text, boolean, boolean, integer, text, text, jsonb, text, integer)
    FROM PUBLIC;
COMMENT ON FUNCTION credimport_load(regclass, text, boolean, boolean, integer, text, jsonb) IS
    'import external credits from a staging table (columns named like file headers), atomically, with a per-record report';
DROP ROLE "upgrade loader 1.4", "upgrade loader 1.4, granted by a loader";
-- a load after the update, into the same tables
SELECT line_no, status FROM credimport_load_data(
    convert_to(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
               'mum@example.org,P,T,UP-5,2024-03-01,2,CME\n', 'UTF8'), 'email', format => 'csv');
SELECT l.email, c.course_id, c.number_credits FROM credimport.credit c
  JOIN credimport.learner l ON l.id = c.learner_id ORDER BY c.id;
CREATE TEMP TABLE upgraded_from_1_4 AS SELECT * FROM ext_fingerprint() f;

-- 1.5, with data in every table of tenant data, written by a role granted
-- credimport_grant_loader under 1.5; and a role holding INSERT on
-- credimport.batch WITH GRANT OPTION.  First the current module serves the
-- database left at 1.5 (no tenant table, no tenant columns): a load, an
-- error report, a revert.
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport VERSION '1.5';
INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME');
INSERT INTO credimport.credential_type (code, name) VALUES ('RN', 'Registered nurse');
INSERT INTO credimport.learner (email, remote_id, username) VALUES ('direct@example.org', 'R-1', 'Direct');
CREATE ROLE "upgrade loader 1.5";
SELECT credimport_grant_loader('"upgrade loader 1.5"');
CREATE ROLE "upgrade batch writer 1.5";
GRANT USAGE ON SCHEMA credimport TO "upgrade batch writer 1.5";
GRANT INSERT ON credimport.batch TO "upgrade batch writer 1.5" WITH GRANT OPTION;
SET ROLE "upgrade loader 1.5";
SELECT line_no, status FROM credimport_load_users_data(
    E'email,first_name,last_name,role,parent\n'
    'kid@example.org,Kid,One,student,mum@example.org\n'
    'mum@example.org,Mum,One,parent,\n', auto_invite => true);
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'kid@example.org,P,T,UP-15,2024-01-01,1,CME\n', 'email');
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'kid@example.org,P,T,UP-16,2024-01-01,1,CME\n'
    'nobody@example.org,P,T,UP-17,2024-01-01,1,NOPE\n', 'email');
SELECT line_no, status FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\nmum@example.org,RN,L-15,2024-02-01\n', 'email');
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'mum@example.org,P,T,UP-18,2024-01-01,2,CME\n', 'email');
SELECT credimport_error_report(3);
SELECT * FROM credimport_revert(5);
SELECT id, kind, status, imported, invalid FROM credimport.batch ORDER BY id;
RESET ROLE;
CREATE TEMP TABLE tenant_tables (t) AS
    VALUES ('learner'), ('credit'), ('credential'), ('learner_link'), ('invitation'), ('batch'), ('batch_error'),
           ('batch_record'), ('provenance'), ('credit_type'), ('credential_type');
CREATE FUNCTION tenant_rows() RETURNS TABLE (tbl text, rows bigint, tenants text) LANGUAGE plpgsql AS $$
BEGIN
    FOR tbl IN SELECT t FROM tenant_tables ORDER BY t LOOP
        IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = ('credimport.' || tbl)::regclass
                                             AND attname = 'tenant_id' AND NOT attisdropped) THEN
            EXECUTE format('SELECT count(*), string_agg(DISTINCT coalesce(tenant_id, ''(none)''), '','')
                              FROM credimport.%I', tbl) INTO rows, tenants;
        ELSE
            EXECUTE format('SELECT count(*), ''(no column)'' FROM credimport.%I', tbl) INTO rows, tenants;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
SELECT * FROM tenant_rows();

-- ... updated: every row there was has no tenant
ALTER EXTENSION credimport UPDATE TO '1.6';
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
SELECT * FROM tenant_rows();
-- the unique keys are per tenant, and among rows without a tenant they
-- still refuse a duplicate (e-mails, user names and codes regardless of case)
SELECT c.relname AS index, i.indisunique AS is_unique, pg_get_indexdef(i.indexrelid) LIKE '%COALESCE(tenant_id%' AS per_tenant
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname IN ('learner_email_key', 'learner_remote_id_key', 'learner_username_key',
                     'credit_type_code_key', 'credential_type_code_key') ORDER BY 1;
INSERT INTO credimport.learner (email) VALUES ('KID@Example.ORG');
INSERT INTO credimport.learner (email, remote_id) VALUES ('other@example.org', 'R-1');
INSERT INTO credimport.learner (email, username) VALUES ('other@example.org', 'DIRECT');
INSERT INTO credimport.credit_type (code, name) VALUES ('cme', 'again');
INSERT INTO credimport.credential_type (code, name) VALUES ('rn', 'again');

-- the loader granted under 1.5 keeps loading; INSERT on credimport.batch is
-- now per column, every column but id and tenant_id, for every role that
-- had it, the grant option kept
SELECT r AS role, has_table_privilege(r, 'credimport.batch', 'INSERT') AS table_insert,
       has_column_privilege(r, 'credimport.batch', 'id', 'INSERT') AS id,
       has_column_privilege(r, 'credimport.batch', 'tenant_id', 'INSERT') AS tenant_id,
       (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = 'credimport.batch'::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND has_column_privilege(r, 'credimport.batch', a.attname, 'INSERT')) AS columns,
       has_column_privilege(r, 'credimport.batch', 'source', 'INSERT WITH GRANT OPTION') AS grantable,
       has_column_privilege(r, 'credimport.batch', 'finished_at', 'UPDATE') AS update_finished_at
  FROM unnest(ARRAY['upgrade loader 1.5', 'upgrade batch writer 1.5', 'credimport_admin']) r ORDER BY 1;
SELECT count(*) - 2 AS batch_columns_but_id_and_tenant_id FROM pg_attribute
 WHERE attrelid = 'credimport.batch'::regclass AND attnum > 0 AND NOT attisdropped;
SET ROLE "upgrade loader 1.5";
INSERT INTO credimport.batch (id, source, match_mode, allow_edit, validate_only, status, records, imported,
                              invalid, started_at)
     VALUES (1000, 'mine', 'email', false, false, 'imported', 0, 0, 0, now());
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'kid@example.org,P,T,UP-19,2024-01-01,1,CME\n', 'email');
SELECT id, kind, status, tenant_id FROM credimport.batch ORDER BY id;
RESET ROLE;
-- the grant option works: the role grants on
CREATE ROLE "upgrade batch writer 1.5, granted on";
SET ROLE "upgrade batch writer 1.5";
GRANT INSERT (source) ON credimport.batch TO "upgrade batch writer 1.5, granted on";
RESET ROLE;
SELECT has_column_privilege('upgrade batch writer 1.5, granted on', 'credimport.batch', 'source', 'INSERT') AS granted_on;

-- tenancy turned on in the upgraded database: the rows there were become
-- the first tenant's (types stay shared); its old loader, made a member,
-- sees and reverts its old batches and loads; a second tenant's
-- administrator sees none of them and may act on none
CREATE ROLE "upgrade tenant acme" NOLOGIN;
CREATE ROLE "upgrade tenant beta" NOLOGIN;
CREATE ROLE "upgrade admin beta";
SELECT credimport_grant_loader('"upgrade admin beta"');
GRANT "upgrade tenant acme" TO "upgrade loader 1.5";
GRANT "upgrade tenant beta", credimport_admin TO "upgrade admin beta";   -- reads every table
SELECT credimport_create_tenant('acme', '"upgrade tenant acme"', adopt => true);
SELECT credimport_create_tenant('beta', '"upgrade tenant beta"');
SELECT * FROM tenant_rows();
SET ROLE "upgrade loader 1.5";
SELECT credimport.current_tenant(), credimport.caller_tenants();
SELECT id, kind, status, tenant_id FROM credimport.batch ORDER BY id;
SELECT email, tenant_id FROM credimport.learner ORDER BY id;
SELECT line_no, status FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'mum@example.org,P,T,UP-20,2024-01-01,1,CME\n', 'email');
SELECT * FROM credimport_revert(2);   -- a batch of 1.5
SELECT credimport_error_report(3);    -- a batch of 1.5
SELECT b.id, b.kind, b.status, b.tenant_id, count(c.id) AS credits
  FROM credimport.batch b LEFT JOIN credimport.credit c ON c.batch_id = b.id GROUP BY b.id ORDER BY b.id;
RESET ROLE;
SET ROLE "upgrade admin beta";
SELECT credimport.current_tenant();
SELECT (SELECT count(*) FROM credimport.batch) AS batches, (SELECT count(*) FROM credimport.batch_error) AS problems,
       (SELECT count(*) FROM credimport.batch_record) AS records, (SELECT count(*) FROM credimport.provenance) AS provenance,
       (SELECT count(*) FROM credimport.learner) AS learners, (SELECT count(*) FROM credimport.credit) AS credits,
       (SELECT count(*) FROM credimport.provenance_rows) AS provenance_rows,
       (SELECT count(*) FROM credimport.invitation) AS invitations, (SELECT count(*) FROM credimport.learner_link) AS links,
       (SELECT count(*) FROM credimport.credential) AS credentials, (SELECT count(*) FROM credimport.credit_type) AS credit_types;
SELECT * FROM credimport_revert(4);
SELECT credimport_error_report(3);
SELECT credimport_approve(4);
SELECT line_no, status, errors FROM credimport_load_data(
    E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
    'kid@example.org,P,T,UP-21,2024-01-01,1,CME\n', 'email');
-- the same e-mail, a learner of its own
SELECT line_no, status FROM credimport_load_users_data(
    E'email,first_name,last_name,role\nkid@example.org,Kid,Beta,student\n');
SELECT email, tenant_id FROM credimport.learner ORDER BY id;
RESET ROLE;
SELECT tenant_id, count(*) AS learners, count(*) FILTER (WHERE lower(email) = 'kid@example.org') AS kid
  FROM credimport.learner GROUP BY 1 ORDER BY 1;
SELECT credimport_drop_tenant('acme'), credimport_drop_tenant('beta');
-- credimport_revoke_loader takes back the per-column grants too
SELECT credimport_revoke_loader('"upgrade loader 1.5"');
SELECT has_any_column_privilege('upgrade loader 1.5', 'credimport.batch', 'INSERT') AS batch_insert,
       has_any_column_privilege('upgrade loader 1.5', 'credimport.batch', 'UPDATE') AS batch_update,
       has_any_column_privilege('upgrade loader 1.5', 'credimport.learner', 'UPDATE') AS learner_update;
DROP OWNED BY "upgrade loader 1.5", "upgrade admin beta", "upgrade batch writer 1.5",
    "upgrade batch writer 1.5, granted on", "upgrade tenant acme", "upgrade tenant beta";
DROP ROLE "upgrade loader 1.5", "upgrade admin beta", "upgrade batch writer 1.5",
    "upgrade batch writer 1.5, granted on", "upgrade tenant acme", "upgrade tenant beta";
DROP FUNCTION tenant_rows();
DROP TABLE tenant_tables;
-- the first tenant enabled row-level security on the shipped tables that had
-- none; it stays on when the tenants are dropped.  Off again to compare with
-- a fresh install (where tenancy was never on)
SELECT c.relname, c.relrowsecurity FROM pg_class c
 WHERE c.relnamespace = 'credimport'::regnamespace
   AND c.relname IN ('learner', 'credit', 'credit_type', 'credential_type', 'learner_link')
 ORDER BY 1;
ALTER TABLE credimport.learner DISABLE ROW LEVEL SECURITY;
ALTER TABLE credimport.credit DISABLE ROW LEVEL SECURITY;
ALTER TABLE credimport.credit_type DISABLE ROW LEVEL SECURITY;
ALTER TABLE credimport.credential_type DISABLE ROW LEVEL SECURITY;
ALTER TABLE credimport.learner_link DISABLE ROW LEVEL SECURITY;
CREATE TEMP TABLE upgraded_from_1_5 AS SELECT * FROM ext_fingerprint() f;

-- a fresh install of the current version
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport;
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
CREATE TEMP TABLE fresh AS SELECT * FROM ext_fingerprint() f;

SELECT (SELECT count(*) FROM fresh) AS objects_compared,
       (SELECT count(*) FROM (SELECT * FROM upgraded_from_1_0 EXCEPT ALL SELECT * FROM fresh) d) AS only_from_1_0,
       (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_0) d) AS missing_from_1_0,
       (SELECT count(*) FROM (SELECT * FROM upgraded_from_1_1 EXCEPT ALL SELECT * FROM fresh) d) AS only_from_1_1,
       (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_1) d) AS missing_from_1_1,
       (SELECT count(*) FROM (SELECT * FROM upgraded_from_1_2 EXCEPT ALL SELECT * FROM fresh) d) AS only_from_1_2,
       (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_2) d) AS missing_from_1_2,
       (SELECT count(*) FROM (SELECT * FROM upgraded_from_1_3 EXCEPT ALL SELECT * FROM fresh) d) AS only_from_1_3,
       (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_3) d) AS missing_from_1_3,
       (SELECT count(*) FROM (SELECT * FROM upgraded_from_1_4 EXCEPT ALL SELECT * FROM fresh) d) AS only_from_1_4,
       (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_4) d) AS missing_from_1_4,
       (SELECT count(*) FROM (SELECT * FROM upgraded_from_1_5 EXCEPT ALL SELECT * FROM fresh) d) AS only_from_1_5,
       (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_5) d) AS missing_from_1_5;
(SELECT 'only after update from 1.0' AS side, * FROM (SELECT * FROM upgraded_from_1_0 EXCEPT ALL SELECT * FROM fresh) d)
UNION ALL
(SELECT 'only in fresh install (1.0)', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_0) d)
UNION ALL
(SELECT 'only after update from 1.1', * FROM (SELECT * FROM upgraded_from_1_1 EXCEPT ALL SELECT * FROM fresh) d)
UNION ALL
(SELECT 'only in fresh install (1.1)', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_1) d)
UNION ALL
(SELECT 'only after update from 1.2', * FROM (SELECT * FROM upgraded_from_1_2 EXCEPT ALL SELECT * FROM fresh) d)
UNION ALL
(SELECT 'only in fresh install (1.2)', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_2) d)
UNION ALL
(SELECT 'only after update from 1.3', * FROM (SELECT * FROM upgraded_from_1_3 EXCEPT ALL SELECT * FROM fresh) d)
UNION ALL
(SELECT 'only in fresh install (1.3)', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_3) d)
UNION ALL
(SELECT 'only after update from 1.4', * FROM (SELECT * FROM upgraded_from_1_4 EXCEPT ALL SELECT * FROM fresh) d)
UNION ALL
(SELECT 'only in fresh install (1.4)', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_4) d)
UNION ALL
(SELECT 'only after update from 1.5', * FROM (SELECT * FROM upgraded_from_1_5 EXCEPT ALL SELECT * FROM fresh) d)
UNION ALL
(SELECT 'only in fresh install (1.5)', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_5) d);

-- ---------------------------------------------------------------------------
-- The loaders of every SQL version, through every door, served by the
-- current module: each routine with the C symbol its declaration names and
-- what it returned (validate_only: nothing is written; the staging table
-- and dup_fixed.csv, which credimport_validate reads, have invalid records).
-- ---------------------------------------------------------------------------
CREATE TABLE stage_credits (email text, provider text, course_title text, course_id text,
                            completion_date date, number_credits numeric, credit_type text);
INSERT INTO stage_credits VALUES ('exercise@example.org', 'P', 'T', 'EX-1', '2024-01-01', 1, 'CME'),
    ('exercise@example.org', 'P', 'T', 'EX-2', '2024-01-02', 1, 'NOPE');
CREATE TABLE stage_users (email text, first_name text, last_name text, role text);
INSERT INTO stage_users VALUES ('exercise.user@example.org', 'Ex', 'User', 'student');
CREATE TABLE stage_credentials (email text, credential_type text, license_number text, issue_date date);
INSERT INTO stage_credentials VALUES ('exercise@example.org', 'RN', 'RN-9', '2020-01-01');

CREATE FUNCTION exercise_loaders(fx text)
RETURNS TABLE (routine text, symbol text, outcome text)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE
    p record;
    kind text;
    csv text;
    args text;
BEGIN
    FOR p IN
        SELECT f.oid::regprocedure::text AS sig, f.proname, f.prosrc, f.proargnames AS names,
               f.proargtypes[0]::regtype::text AS door
          FROM pg_proc f JOIN pg_depend d ON d.objid = f.oid AND d.classid = 'pg_proc'::regclass
          JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'credimport'
         WHERE f.proname ~ '^credimport_(load|validate)'
         ORDER BY 1
    LOOP
        kind := CASE WHEN p.proname LIKE '%users%' THEN 'users'
                     WHEN p.proname LIKE '%credentials%' THEN 'credentials' ELSE 'credits' END;
        csv := CASE kind
            WHEN 'credits' THEN E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
                                'exercise@example.org,P,T,EX-1,2024-01-01,1,CME\n'
            WHEN 'users' THEN E'email,first_name,last_name,role\nexercise.user@example.org,Ex,User,student\n'
            ELSE E'email,credential_type,license_number,issue_date\nexercise@example.org,RN,RN-9,2020-01-01\n' END;
        args := CASE
            WHEN p.door = 'regclass' THEN quote_literal('stage_' || kind) || '::regclass'
            WHEN p.door = 'bytea' THEN format('convert_to(%L, %L)', csv, 'UTF8')
            WHEN p.proname = 'credimport_validate' THEN quote_literal(fx || 'dup_fixed.csv')
            WHEN p.names[1] = 'path' THEN quote_literal(fx || CASE kind WHEN 'credits' THEN 'sample.csv'
                                                                        ELSE kind || '.csv' END)
            ELSE quote_literal(csv) END;
        IF 'match_mode' = ANY (p.names) THEN args := args || ', match_mode => ''email'''; END IF;
        IF 'validate_only' = ANY (p.names) THEN args := args || ', validate_only => true'; END IF;
        IF p.door = 'bytea' THEN args := args || ', format => ''csv'''; END IF;
        routine := p.sig;
        symbol := p.prosrc;
        IF p.proname LIKE 'credimport_validate%' THEN
            EXECUTE format('SELECT coalesce(string_agg(n || '' '' || code, '', '' ORDER BY code), ''no problems'')
                              FROM (SELECT code, count(*) n FROM %s(%s) GROUP BY code) s', p.proname, args)
               INTO outcome;
        ELSE
            EXECUTE format('SELECT string_agg(n || '' '' || status, '', '' ORDER BY status)
                              FROM (SELECT status, count(*) n FROM %s(%s) GROUP BY status) s', p.proname, args)
               INTO outcome;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- reference rows the exercise files name (credential_type exists from 1.2)
CREATE FUNCTION reference_rows() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO credimport.learner (email)
        SELECT e FROM unnest(ARRAY['exercise@example.org', 'ada@example.org', 'grace@example.org',
                                   'linus@example.org']) e
         WHERE NOT EXISTS (SELECT FROM credimport.learner l WHERE l.email = e);
    INSERT INTO credimport.credit_type (code, name)
        SELECT c, c FROM unnest(ARRAY['CME', 'CE', 'ETHICS']) c
         WHERE NOT EXISTS (SELECT FROM credimport.credit_type t WHERE t.code = c);
    IF to_regclass('credimport.credential_type') IS NOT NULL THEN
        INSERT INTO credimport.credential_type (code, name)
            SELECT 'RN', 'Registered nurse' WHERE NOT EXISTS (SELECT FROM credimport.credential_type WHERE code = 'RN');
    END IF;
END
$$;

SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport VERSION '1.0';
SELECT reference_rows();
SELECT * FROM exercise_loaders(:'fx');
ALTER EXTENSION credimport UPDATE TO '1.1';
SELECT * FROM exercise_loaders(:'fx');
ALTER EXTENSION credimport UPDATE TO '1.2';
SELECT reference_rows();
SELECT * FROM exercise_loaders(:'fx');
ALTER EXTENSION credimport UPDATE TO '1.3';
SELECT * FROM exercise_loaders(:'fx');
ALTER EXTENSION credimport UPDATE TO '1.4';
SELECT * FROM exercise_loaders(:'fx');
ALTER EXTENSION credimport UPDATE TO '1.5';
SELECT * FROM exercise_loaders(:'fx');
ALTER EXTENSION credimport UPDATE TO '1.6';
SELECT * FROM exercise_loaders(:'fx');

-- ---------------------------------------------------------------------------
-- Every update path (every source and target pg_extension_update_paths
-- lists), with data in place: data written through the source version's
-- loaders is unchanged after the update (every column the source version
-- had, every row); the objects are those of a fresh install of the target;
-- the target's loaders give what they give on that fresh install.
-- ---------------------------------------------------------------------------
-- count and digest of the rows of each table over the given columns
CREATE FUNCTION table_digest(tbl text, cols text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE format('SELECT count(*) || '' rows '' || md5(coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), ''''))
                      FROM (SELECT %s FROM %s) x', cols, tbl) INTO d;
    RETURN d;
END
$$;
CREATE FUNCTION ext_tables() RETURNS TABLE (tbl text, cols text) LANGUAGE sql AS $$
    SELECT c.oid::regclass::text, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
      FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relnamespace = 'credimport'::regnamespace AND c.relkind = 'r'
     GROUP BY c.oid
$$;

-- what an update path changed that it should not have, one row each
CREATE TABLE upgrade_path_difference (source text, target text, what text, detail text);

CREATE FUNCTION walk_path(fx text, source text, target text)
RETURNS TABLE (tables_kept text, objects_compared bigint, loaders_compared bigint, untenanted text,
               differences bigint)
LANGUAGE plpgsql SET client_min_messages = error AS $$
DECLARE
    t text;
    n_rows bigint;
    n_set bigint;
    rows_all bigint := 0;
    rows_set bigint := 0;
    credits_csv text := E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
                         'old@example.org,P,T,UP-1,2024-01-01,1,CME\n';
    n_kept int;
    n_tables int;
BEGIN
    -- a fresh install of the target: its objects and its loaders' outcomes
    DROP EXTENSION IF EXISTS credimport CASCADE;
    EXECUTE format('CREATE EXTENSION credimport VERSION %L', target);
    PERFORM reference_rows();
    CREATE TEMP TABLE walk_fresh AS SELECT * FROM ext_fingerprint() f;
    CREATE TEMP TABLE walk_fresh_loaders AS SELECT * FROM exercise_loaders(fx);

    -- the source, with data written through its own loaders
    DROP EXTENSION credimport CASCADE;
    EXECUTE format('CREATE EXTENSION credimport VERSION %L', source);
    PERFORM reference_rows();
    INSERT INTO credimport.learner (email) VALUES ('old@example.org');
    PERFORM credimport_load_data(credits_csv, 'email');
    IF EXISTS (SELECT FROM pg_proc WHERE proname = 'credimport_load_users_data') THEN
        PERFORM credimport_load_users_data(E'email,first_name,last_name,role\nold@example.org,Old,Timer,instructor\n'
                                            'young@example.org,Young,Learner,student\n');
    END IF;
    IF EXISTS (SELECT FROM pg_proc WHERE proname = 'credimport_load_credentials_data') THEN
        PERFORM credimport_load_credentials_data(
            E'email,credential_type,license_number,issue_date\nold@example.org,RN,RN-1,2020-01-01\n', 'email');
    END IF;
    PERFORM credimport_load_data(credits_csv, 'email');   -- rejected: on the transcript already
    CREATE TEMP TABLE walk_data AS
        SELECT t.tbl, t.cols, table_digest(t.tbl, t.cols) AS before FROM ext_tables() t;

    EXECUTE format('ALTER EXTENSION credimport UPDATE TO %L', target);

    INSERT INTO upgrade_path_difference
        SELECT source, target, 'data changed', w.tbl || ': ' || w.before || ' -> ' || table_digest(w.tbl, w.cols)
          FROM walk_data w WHERE w.before IS DISTINCT FROM table_digest(w.tbl, w.cols);
    SELECT count(*) FILTER (WHERE w.before NOT LIKE '0 rows%'), count(*) INTO n_kept, n_tables FROM walk_data w;
    tables_kept := format('%s of %s (%s with rows)', n_tables - (SELECT count(*) FROM upgrade_path_difference d
                                WHERE d.source = walk_path.source AND d.target = walk_path.target), n_tables, n_kept);

    -- 1.6: every row there was has no tenant (tenancy is off)
    IF to_regclass('credimport.tenant') IS NOT NULL THEN
        FOREACH t IN ARRAY ARRAY['learner', 'credit', 'credential', 'learner_link', 'invitation', 'batch',
                                 'batch_error', 'batch_record', 'provenance', 'credit_type', 'credential_type'] LOOP
            EXECUTE format('SELECT count(*), count(tenant_id) FROM credimport.%I', t) INTO n_rows, n_set;
            rows_all := rows_all + n_rows;
            rows_set := rows_set + n_set;
            IF n_set > 0 THEN
                INSERT INTO upgrade_path_difference
                    VALUES (source, target, 'tenant set', format('%s: %s of %s rows', t, n_set, n_rows));
            END IF;
        END LOOP;
        untenanted := format('%s of %s rows', rows_all - rows_set, rows_all);
    END IF;

    INSERT INTO upgrade_path_difference
        (SELECT source, target, 'only after the update', f FROM (SELECT f FROM ext_fingerprint() f
                                                              EXCEPT ALL SELECT f FROM walk_fresh) d)
        UNION ALL
        (SELECT source, target, 'only in a fresh install', f FROM (SELECT f FROM walk_fresh
                                                                EXCEPT ALL SELECT f FROM ext_fingerprint() f) d);
    objects_compared := (SELECT count(*) FROM walk_fresh);

    PERFORM reference_rows();
    INSERT INTO upgrade_path_difference
        (SELECT source, target, 'loader after the update', l::text FROM (SELECT * FROM exercise_loaders(fx)
                                                             EXCEPT ALL SELECT * FROM walk_fresh_loaders) l)
        UNION ALL
        (SELECT source, target, 'loader in a fresh install', l::text FROM (SELECT * FROM walk_fresh_loaders
                                                               EXCEPT ALL SELECT * FROM exercise_loaders(fx)) l);
    loaders_compared := (SELECT count(*) FROM walk_fresh_loaders);
    differences := (SELECT count(*) FROM upgrade_path_difference d
                     WHERE d.source = walk_path.source AND d.target = walk_path.target);
    DROP TABLE walk_fresh, walk_fresh_loaders, walk_data;
    RETURN NEXT;
END
$$;

-- one path per transaction (each creates and drops the extension three
-- times: all of them in one transaction outgrow the lock table)
CREATE TABLE walk_result (source text, target text, path text, tables_kept text, objects_compared bigint,
                          loaders_compared bigint, untenanted text, differences bigint);
CREATE TABLE walk_fx AS SELECT :'fx'::text AS fx;
SELECT format('INSERT INTO walk_result SELECT %L, %L, %L, w.* FROM walk_path((SELECT fx FROM walk_fx), %L, %L) w',
              u.source, u.target, u.path, u.source, u.target)
  FROM pg_extension_update_paths('credimport') u
 WHERE u.path IS NOT NULL ORDER BY u.source, u.target \gexec
SELECT * FROM walk_result ORDER BY source, target;
SELECT * FROM upgrade_path_difference ORDER BY 1, 2, 3, 4;

-- ---------------------------------------------------------------------------
-- Entry points: in the current version each C symbol serves one SQL
-- signature, and an entry point refuses a declaration of another API
-- ---------------------------------------------------------------------------
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport;
SELECT p.oid::regprocedure AS routine, p.prosrc AS symbol
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'credimport'
 WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') ORDER BY p.oid::regprocedure::text;
-- symbols bound to more than one signature (none)
SELECT p.prosrc AS symbol, array_agg(p.oid::regprocedure ORDER BY p.oid::regprocedure::text) AS routines
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'credimport'
 WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
 GROUP BY p.prosrc HAVING count(*) > 1;
-- credimport_validate's shape bound to the entry point of the 1.3 credits API
CREATE FUNCTION wrong_shape(path text, match_mode text)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, credit_id bigint, errors text[])
AS '$libdir/credimport', 'credimport_load_file_1_3' LANGUAGE C;
SELECT * FROM wrong_shape(:'fx' || 'sample.csv', 'email');
DROP FUNCTION wrong_shape(text, text);
-- 1.5's result (credit_key appended) bound to the entry point of 1.4's: refused before reading
CREATE FUNCTION wrong_width(content text, match_mode text, allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false, max_errors integer DEFAULT 0, if_exists text DEFAULT 'error',
    format text DEFAULT NULL, sheet text DEFAULT NULL, columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL, header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, credit_id bigint,
               errors text[], credit_key text)
AS '$libdir/credimport', 'credimport_load_data_1_4' LANGUAGE C;
SELECT * FROM wrong_width(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
                          'old@example.org,P,T,UP-1,2024-01-01,1,CME\n', 'email', validate_only => true);
DROP FUNCTION wrong_width(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer);

-- ---------------------------------------------------------------------------
-- 1.5 -> 1.6 where a role holding INSERT on credimport.batch WITH GRANT
-- OPTION has granted it on: the update converts both grants to per column
-- (every column but id and tenant_id), each from the same grantor, and the
-- second role can no longer choose a batch id either.
-- ---------------------------------------------------------------------------
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
CREATE EXTENSION credimport VERSION '1.5';
CREATE ROLE "upgrade batch writer";
CREATE ROLE "upgrade batch writer, granted by a writer";
GRANT USAGE ON SCHEMA credimport TO "upgrade batch writer", "upgrade batch writer, granted by a writer";
GRANT INSERT ON credimport.batch TO "upgrade batch writer" WITH GRANT OPTION;
SET ROLE "upgrade batch writer";
GRANT INSERT ON credimport.batch TO "upgrade batch writer, granted by a writer";
RESET ROLE;
ALTER EXTENSION credimport UPDATE TO '1.6';
SELECT extversion FROM pg_extension WHERE extname = 'credimport';
SELECT r AS role, has_table_privilege(r, 'credimport.batch', 'INSERT') AS table_insert,
       has_column_privilege(r, 'credimport.batch', 'id', 'INSERT') AS id,
       has_column_privilege(r, 'credimport.batch', 'tenant_id', 'INSERT') AS tenant_id,
       has_column_privilege(r, 'credimport.batch', 'source', 'INSERT') AS source,
       has_column_privilege(r, 'credimport.batch', 'source', 'INSERT WITH GRANT OPTION') AS grantable
  FROM unnest(ARRAY['upgrade batch writer', 'upgrade batch writer, granted by a writer']) r ORDER BY 1;
SELECT DISTINCT a.grantee::regrole AS grantee,
       CASE WHEN a.grantor = c.relowner THEN 'the owner' ELSE a.grantor::regrole::text END AS grantor, a.is_grantable
  FROM pg_class c, pg_attribute att, aclexplode(att.attacl) a
 WHERE c.oid = 'credimport.batch'::regclass AND att.attrelid = c.oid AND a.privilege_type = 'INSERT'
   AND a.grantee::regrole::text LIKE '"upgrade batch writer%' ORDER BY 1;
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
DROP OWNED BY "upgrade batch writer", "upgrade batch writer, granted by a writer";
DROP ROLE "upgrade batch writer", "upgrade batch writer, granted by a writer";
CREATE EXTENSION credimport;

DROP FUNCTION walk_path(text, text, text), ext_tables(), table_digest(text, text), reference_rows(),
    exercise_loaders(text), ext_fingerprint();
DROP TABLE stage_credits, stage_users, stage_credentials, upgrade_path_difference, walk_result, walk_fx;
