--
-- upgrade: every earlier version updates to the current one, and the
-- result is the same, object for object, as a fresh install.  (Runs last:
-- it drops and re-creates the extension.)
--
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
    SELECT format('table acl: %s %s', c.oid::regclass, c.relacl)
      FROM pg_class c WHERE c.relnamespace = 'credimport'::regnamespace
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
   AND p.proname LIKE 'credimport_load%' ORDER BY 1::text;
REVOKE ALL ON FUNCTION credimport_load(text, text, boolean, boolean, integer, text, text, text),
    credimport_load_users_data(text, boolean, boolean, integer, text, text),
    credimport_load_users_data(bytea, boolean, boolean, integer, text, text) FROM "upgrade loader; with spaces" CASCADE;
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
       (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_2) d) AS missing_from_1_2;
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
(SELECT 'only in fresh install (1.2)', * FROM (SELECT * FROM fresh EXCEPT ALL SELECT * FROM upgraded_from_1_2) d);
DROP FUNCTION ext_fingerprint();
