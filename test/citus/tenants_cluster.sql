--
-- tenants_cluster: the tenants' mapping on the workers, after
-- tenants_isolation.sql on the cluster (test/citus/part-20-tenants.sh;
-- w1, w2: the workers' ports).
--
\set VERBOSITY terse
\set ON_ERROR_STOP 0
-- the mirror: a reference table, one shard with a placement on every node
SELECT tenant, role FROM credimport.tenant_map ORDER BY tenant;
SELECT count(*) AS placements FROM pg_dist_placement
 WHERE shardid IN (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'credimport.tenant_map'::regclass);
SELECT has_table_privilege('ti_acme_etl', 'credimport.tenant_map', 'SELECT') AS loader_reads_mirror;
-- every row of the platform's tables in its tenant's shard (defaults
-- evaluated on the coordinator, before routing)
SELECT t AS tbl, bool_and(s.shardid = get_shard_id_for_distribution_column(t, o)) AS rows_in_tenant_shards,
       count(DISTINCT o) AS tenants
  FROM unnest('{app.users,app.transcript,app.license}'::regclass[]) t,
       LATERAL run_command_on_shards(t, $$SELECT string_agg(DISTINCT org, ',') FROM %s$$) s,
       LATERAL unnest(string_to_array(s.result, ',')) o
 GROUP BY t ORDER BY 1;

-- on a worker directly: the caller's tenants, from the mirror
\connect :DBNAME postgres localhost :w1
-- (the loaders' USAGE on schema credimport is granted on the coordinator
-- only; the policies need none: here the function is called by name)
GRANT USAGE ON SCHEMA credimport TO ti_acme_etl, ti_globex_etl, ti_nobody;
SELECT credimport.caller_tenants() AS superuser_tenants;
SET ROLE ti_acme_etl;
SELECT credimport.caller_tenants() AS acme_tenants, credimport.current_tenant() AS acme_tenant;
SET ROLE ti_globex_etl;
SELECT credimport.caller_tenants() AS globex_tenants;
SET ROLE ti_nobody;
SELECT credimport.caller_tenants() AS nobody_tenants;
RESET ROLE;
SELECT count(*) AS worker_own_tenant_rows FROM credimport.tenant;
\connect :DBNAME postgres localhost :w2
GRANT USAGE ON SCHEMA credimport TO ti_globex_etl;
SET ROLE ti_globex_etl;
SELECT credimport.caller_tenants() AS globex_tenants_w2;
RESET ROLE;
\connect :DBNAME postgres localhost :cport

-- a tenant's role renamed: the workers no longer know it (fail closed),
-- a load refuses to run until the mirror is copied again
ALTER ROLE ti_acme RENAME TO ti_acme_renamed;
SET ROLE ti_acme_etl;
SELECT count(*) AS acme_sees_after_rename FROM app.users;
SELECT line_no, status FROM credimport_load_users_data(E'email,first_name,last_name\nrename@example.org,Re,Name\n');
RESET ROLE;
UPDATE credimport.tenant SET role = role;
SELECT tenant, role FROM credimport.tenant_map ORDER BY tenant;
SET ROLE ti_acme_etl;
SELECT count(*) > 0 AS acme_sees_after_resync FROM app.users;
SELECT line_no, status FROM credimport_load_users_data(E'email,first_name,last_name\nrename@example.org,Re,Name\n');
RESET ROLE;
ALTER ROLE ti_acme_renamed RENAME TO ti_acme;
UPDATE credimport.tenant SET role = role;

-- the mirror follows the mapping in the same transaction, also rolled back
BEGIN;
SELECT credimport_drop_tenant('globex');
SELECT tenant FROM credimport.tenant_map ORDER BY tenant;
ROLLBACK;
BEGIN;
TRUNCATE credimport.tenant;
SELECT count(*) AS mirror_after_truncate FROM credimport.tenant_map;
ROLLBACK;
SELECT tenant, role FROM credimport.tenant_map ORDER BY tenant;
SET ROLE ti_globex_etl;
SELECT string_agg(DISTINCT org, ',') AS globex_sees FROM app.users;
RESET ROLE;
