#!/usr/bin/env bash
# part-20-tenants: tenant isolation and tenant concurrency on the cluster.
#
#  1. test/citus/tenants_isolation.sql -- the platform of
#     sql/tenants_platform.sql distributed by tenant, and the hostile
#     attempts of the single-node tenant tests -- runs in a plain database
#     on the coordinator's server (no Citus) and on the cluster; both
#     outputs must equal test/citus/expected/tenants_isolation.out.
#  2. test/citus/tenants_cluster.sql: the mapping on the workers (the
#     mirror credimport.tenant_map), a renamed role, rows in the shards.
#  3. Two tenants whose shards are on different workers load at once: acme
#     loads inside an open transaction; globex's load completes meanwhile,
#     with no lock wait on any node; a second load of acme waits.
# Run by test/citus/run (PGBIN, CITUS_*, PG* set, cluster running).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d /tmp/citus-tenants.XXXXXX)
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
W1=$((CITUS_PORT + 1)); W2=$((CITUS_PORT + 2))
fail=0
bad() { echo "FAIL: $*"; fail=1; }
q() { "${PSQL[@]}" -At -d "$CITUS_DB" "$@"; }

cleanup() {
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS ti_single" 2>/dev/null
	for c in "DROP EXTENSION IF EXISTS credimport CASCADE" "DROP SCHEMA IF EXISTS app CASCADE" \
		"DROP FUNCTION IF EXISTS expect_error(text)" "DROP FUNCTION IF EXISTS ti_seen(), ti_masked(text[], text), ti_users()"; do
		q -c "SET client_min_messages = warning" -c "$c" >/dev/null 2>&1
	done
	for r in ti_acme_admin ti_acme_etl ti_globex_etl ti_nobody ti_acme_renamed ti_acme ti_globex; do
		q -c "DROP OWNED BY $r" >/dev/null 2>&1; q -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
	done
}
cleanup

# the roles, cluster-wide (Citus propagates them to the workers).  Citus
# opens its connections to the workers as the current role: a role that
# runs distributed queries (also after SET ROLE) must be able to log in
q <<'SQL' || bad "roles"
CREATE ROLE ti_acme NOLOGIN;
CREATE ROLE ti_globex NOLOGIN;
CREATE ROLE ti_acme_etl LOGIN IN ROLE ti_acme;
CREATE ROLE ti_globex_etl LOGIN IN ROLE ti_globex;
CREATE ROLE ti_nobody LOGIN;
SQL

# (the extension creates credimport_admin, on every node)
q -c "CREATE EXTENSION credimport" -c "CREATE ROLE ti_acme_admin LOGIN IN ROLE ti_acme, credimport_admin" || bad "extension"

run_isolation() {   # database citus
	local db=$1 citus=$2
	"$PGBIN/psql" -X -a -d "$db" -v citus="$citus" -f "$here/tenants_isolation.sql" 2>&1 \
		| sed -E 's/_1[0-9]{5}\b//g; s/^psql:[^:]*:[0-9]+: //'
}

# 1. the same attempts on one node and on the cluster
"${PSQL[@]}" -d postgres -c "CREATE DATABASE ti_single" || bad "createdb"
run_isolation ti_single 0 >"$out/single.out"
run_isolation "$CITUS_DB" 1 >"$out/cluster.out"
if ! diff -u "$out/single.out" "$out/cluster.out" >"$out/single-vs-cluster.diff"; then
	bad "the cluster differs from one node ($out/single-vs-cluster.diff):"; head -60 "$out/single-vs-cluster.diff"
fi
if ! diff -u "$here/expected/tenants_isolation.out" "$out/cluster.out" >"$out/expected.diff"; then
	bad "the output differs from expected/tenants_isolation.out ($out/expected.diff):"; head -60 "$out/expected.diff"
fi

# 2. the mapping on the workers, a renamed role, the rows in the shards
"$PGBIN/psql" -X -a -d "$CITUS_DB" -v w1="$W1" -v w2="$W2" -v cport="$CITUS_PORT" -f "$here/tenants_cluster.sql" 2>&1 \
	| sed -E 's/_1[0-9]{5}\b//g; s/^psql:[^:]*:[0-9]+: //; s/ \(address "[^"]*"\) at port "[0-9]+"\./ (address masked) at port (masked)./' >"$out/tenants_cluster.out"
if ! diff -u "$here/expected/tenants_cluster.out" "$out/tenants_cluster.out" >"$out/cluster.diff"; then
	bad "tenants_cluster differs ($out/cluster.diff):"; head -60 "$out/cluster.diff"
fi

# 3. concurrency: acme's shards on one worker, globex's on the other
nodes=$(q -c "SELECT string_agg(DISTINCT n.nodeport::text, ',' ORDER BY n.nodeport::text) || ' ' ||
                     (SELECT string_agg(DISTINCT n2.nodeport::text, ',') FROM pg_dist_placement p2
                        JOIN pg_dist_node n2 USING (groupid)
                       WHERE p2.shardid = get_shard_id_for_distribution_column('app.users', 'globex'))
                FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
               WHERE p.shardid = get_shard_id_for_distribution_column('app.users', 'acme')")
set -- $nodes
[ "$1" != "$2" ] || bad "acme's and globex's shards are on the same worker ($nodes)"
echo "acme's shards on :$1, globex's on :$2"
gen() {   # tenant-prefix rows: a users file, the same users renamed, and a credits file
	local p=$1 n=$2
	{ echo "email,first_name,last_name,remote_id"
	  for i in $(seq 1 "$n"); do echo "$p.$i@example.org,F$i,L$i,$p-$i"; done; } >"$out/$p-users.csv"
	{ echo "email,first_name,last_name,remote_id"
	  for i in $(seq 1 "$n"); do echo "$p.$i@example.org,F$i,Renamed$i,$p-$i"; done; } >"$out/$p-users2.csv"
	{ echo "email,provider,course_title,course_id,completion_date,number_credits,credit_type"
	  for i in $(seq 1 "$n"); do echo "$p.$i@example.org,P,T,C-$p,2024-02-02,1,CME"; done; } >"$out/$p-credits.csv"
}
gen acmeconc 500; gen globexconc 500
chmod a+r "$out"/*.csv; chmod a+rx "$out"
q -c "GRANT pg_read_server_files TO ti_acme_etl, ti_globex_etl" >/dev/null
# the users of both, committed; then each tenant's load updates all of its
# users (UPDATE statements) and adds credits
for t in acme globex; do
	"${PSQL[@]}" -At -d "$CITUS_DB" -c "SET client_min_messages = warning" -c "SET ROLE ti_${t}_etl" \
		-c "SELECT count(*) FROM credimport_load_users('$out/${t}conc-users.csv')" >/dev/null || bad "$t's users"
done
# A: acme's load, then its transaction stays open
"$PGBIN/psql" -X -q -d "$CITUS_DB" >"$out/a.out" 2>&1 <<SQL &
SET application_name = 'ti_load_a';
BEGIN;
SET ROLE ti_acme_etl;
SELECT count(*) AS a_users FROM credimport_load_users('$out/acmeconc-users2.csv');
SELECT count(*) AS a_credits FROM credimport_load('$out/acmeconc-credits.csv', 'email');
SET application_name = 'ti_load_a_done';
SELECT pg_sleep(120);
ROLLBACK;
SQL
apid=$!
for i in $(seq 1 600); do
	[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ti_load_a_done'")" = 1 ] && break
	sleep 0.1
done
[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ti_load_a_done' AND state = 'active' AND xact_start IS NOT NULL")" = 1 ] \
	|| bad "acme's load did not finish inside its open transaction: $(cat "$out/a.out")"
# B: globex's load must complete while A's transaction is open (a wait
# would be cancelled by the timeout: nothing in B waits for A)
waits() {   # lock waits on every node
	for p in "$CITUS_PORT" "$W1" "$W2"; do
		"${PSQL[@]}" -At -p "$p" -d "$CITUS_DB" -c "SELECT '$p:' || count(*) FROM pg_locks WHERE NOT granted"
	done | tr '\n' ' '
}
watch() {   # watch PID: the lock waits on the nodes until PID ends (maxw), its time (took_ms), its status
	local t0; t0=$(date +%s%N); maxw=""
	while kill -0 "$1" 2>/dev/null; do
		w=$(waits); case "$w" in *:[1-9]*) maxw="$maxw [$w]";; esac; sleep 0.05
	done
	took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	wait "$1"
}
"$PGBIN/psql" -X -q -At -d "$CITUS_DB" >"$out/b.out" 2>&1 <<SQL &
SET statement_timeout = '30s';
SET application_name = 'ti_load_b';
SET ROLE ti_globex_etl;
SELECT status, count(*) FROM credimport_load_users('$out/globexconc-users2.csv') GROUP BY 1;
SELECT status, count(*) FROM credimport_load('$out/globexconc-credits.csv', 'email') GROUP BY 1;
SELECT 'reverted|' || credits_removed FROM credimport_revert(credimport_last_batch_id());
SQL
bpid=$!
watch $bpid; brc=$?
echo "globex's load took $took_ms ms"
echo "globex's load while acme's is open: $(tr '\n' ' ' <"$out/b.out")"
[ $brc -eq 0 ] && grep -q '^updated|500$' "$out/b.out" && grep -q '^imported|500$' "$out/b.out" && grep -q '^reverted|500$' "$out/b.out" || bad "globex's load did not complete: $(cat "$out/b.out")"
[ -z "$maxw" ] || bad "lock waits on the nodes during globex's load:$maxw"
[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ti_load_a_done' AND xact_start IS NOT NULL")" = 1 ] \
	|| bad "acme's transaction was no longer open when globex's load completed"
# and a second load of acme does wait for the first (the tenant's lock)
"$PGBIN/psql" -X -q -At -d "$CITUS_DB" >"$out/c.out" 2>&1 <<SQL
SET statement_timeout = '3s';
SET ROLE ti_acme_etl;
SELECT count(*) FROM credimport_load_users('$out/acmeconc-users.csv');
SQL
grep -q "statement timeout" "$out/c.out" || bad "a second load of acme did not wait for the first: $(cat "$out/c.out")"
echo "a second load of acme meanwhile: $(tr '\n' ' ' <"$out/c.out")"
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'ti_load_a_done'" >/dev/null
wait $apid
n=$(q -c "SELECT count(*) FROM app.users WHERE email LIKE 'acmeconc.%' AND lastname LIKE 'Renamed%'")
[ "$n" = 0 ] || bad "acme's rolled-back load left $n users renamed"
n=$(q -c "SELECT count(*) FROM app.users WHERE org = 'globex' AND email LIKE 'globexconc.%' AND lastname LIKE 'Renamed%'")
[ "$n" = 500 ] || bad "globex's load left $n users renamed, not 500"

# and the other way round: acme's revert (DELETE statements) open while
# globex loads (users updated back, credits)
abatch=$("${PSQL[@]}" -At -d "$CITUS_DB" -c "SET client_min_messages = warning" -c "SET ROLE ti_acme_etl" \
	-c "SELECT count(*) FROM credimport_load('$out/acmeconc-credits.csv', 'email')" \
	-c "SELECT credimport_last_batch_id()" | tail -1) || bad "acme's credits"
"$PGBIN/psql" -X -q -d "$CITUS_DB" >"$out/a2.out" 2>&1 <<SQL &
SET application_name = 'ti_revert_a';
BEGIN;
SET ROLE ti_acme_etl;
SELECT credits_removed FROM credimport_revert($abatch);
SET application_name = 'ti_revert_a_done';
SELECT pg_sleep(120);
ROLLBACK;
SQL
apid=$!
for i in $(seq 1 600); do
	[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ti_revert_a_done'")" = 1 ] && break
	sleep 0.1
done
grep -qx " *500" "$out/a2.out" || bad "acme's revert did not run: $(cat "$out/a2.out")"
"$PGBIN/psql" -X -q -At -d "$CITUS_DB" >"$out/b2.out" 2>&1 <<SQL &
SET statement_timeout = '30s';
SET client_min_messages = warning;
SET ROLE ti_globex_etl;
SELECT status, count(*) FROM credimport_load_users('$out/globexconc-users.csv') GROUP BY 1;
SELECT status, count(*) FROM credimport_load('$out/globexconc-credits.csv', 'email') GROUP BY 1;
SELECT 'reverted|' || credits_removed FROM credimport_revert(credimport_last_batch_id());
SQL
bpid=$!
watch $bpid
echo "globex's loads and revert took $took_ms ms"
[ -z "$maxw" ] || bad "lock waits on the nodes during globex's loads:$maxw"
echo "globex's loads while acme's revert is open: $(tr '\n' ' ' <"$out/b2.out")"
grep -q '^updated|500$' "$out/b2.out" && grep -q '^imported|500$' "$out/b2.out" && grep -q '^reverted|500$' "$out/b2.out" \
	|| bad "globex's load did not complete while acme's revert was open: $(cat "$out/b2.out")"
[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ti_revert_a_done' AND xact_start IS NOT NULL")" = 1 ] \
	|| bad "acme's revert was no longer open when globex's load completed"
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'ti_revert_a_done'" >/dev/null
wait $apid

# routing: with tenancy on, every statement of a tenant's loads that reads
# or writes the platform's tables names the tenant, so that Citus sends it
# to that tenant's shards only (the learner lookup and the check for rows
# already there once went to all shards).  citus.log_remote_commands shows
# each command sent to a worker; each shard it names must be acme's.
acme_shards=$(q -c "SELECT string_agg(shardid::text, ' ') FROM pg_dist_shard
                     WHERE logicalrelid IN ('app.users'::regclass, 'app.transcript'::regclass, 'app.license'::regclass)
                       AND shardid = get_shard_id_for_distribution_column(logicalrelid, 'acme')")
"$PGBIN/psql" -X -q -At -d "$CITUS_DB" >"$out/route.out" 2>"$out/route.err" <<SQL
SET client_min_messages = log;
SET citus.log_remote_commands = on;
SET ROLE ti_acme_etl;
SELECT 'users|' || count(*) FILTER (WHERE status = 'updated') FROM credimport_load_users('$out/acmeconc-users2.csv');
SELECT 'cleared|' || credits_removed FROM credimport_revert($abatch);
SELECT 'credits|' || count(*) FILTER (WHERE status = 'imported') FROM credimport_load('$out/acmeconc-credits.csv', 'email');
SELECT credimport_last_batch_id() AS cbatch \gset
SELECT 'again|' || count(*) FILTER (WHERE status = 'skipped')
  FROM credimport_load('$out/acmeconc-credits.csv', 'email', if_exists => 'skip');
SELECT 'reverted|' || credits_removed FROM credimport_revert(:cbatch);
SQL
grep -q '^users|500$' "$out/route.out" && grep -q '^cleared|500$' "$out/route.out" && grep -q '^credits|500$' "$out/route.out" \
	&& grep -q '^again|500$' "$out/route.out" && grep -q '^reverted|500$' "$out/route.out" \
	|| bad "acme's routed loads did not complete: $(cat "$out/route.out" "$out/route.err")"
used=$(grep -o 'app\.\(users\|transcript\|license\)_[0-9]\+' "$out/route.err" | sed 's/.*_//' | sort -u | tr '\n' ' ')
ncmd=$(grep -c 'issuing .*app\.\(users\|transcript\|license\)_[0-9]' "$out/route.err")
stray=""
for sh in $used; do case " $acme_shards " in *" $sh "*) ;; *) stray="$stray $sh";; esac; done
echo "acme's loads: $ncmd commands to the workers on the platform's tables, shards named: $used(acme's: $acme_shards)"
[ "$ncmd" -gt 0 ] || bad "no command to the workers was logged (citus.log_remote_commands)"
[ -z "$stray" ] || bad "acme's loads sent commands to shards of other tenants:$stray; e.g. $(grep -m2 "_${stray##* }\b" "$out/route.err" | cut -c1-300)"

[ $fail -eq 0 ] && { cleanup; rm -rf "$out"; }
exit $fail
