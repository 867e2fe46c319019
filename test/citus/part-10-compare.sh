#!/usr/bin/env bash
# part-10-compare: the same inputs through every door and kind (credits,
# users, credentials; CSV, TSV, .xlsx, .xls, XML; files, content, staging
# tables, the procedure), as the superuser and as a loading role, into a
# single-node database (plain PostgreSQL on the coordinator's server) and
# into the cluster's database, where the platform's tables are distributed
# by organization.  Passes when
#   (a) the two outputs are identical,
#   (b) the single-node output is test/citus/expected/compare.out,
#   (c) the distributed tables' rows are in the shards on the workers (each
#       worker holds some, their sum is what the coordinator sees) and none
#       in the local heap of the coordinator's shell tables.
# Tenancy stays off here (part-20 tests tenants).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
out=${CMP_OUT:-$(mktemp -d /tmp/credimport-cmp.XXXXXX)}; mkdir -p "$out"
chmod 755 "$out"
export CMP_FX="$root/test/fixtures"
single=cmp_single
p() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$@"; }
worker() { local port=$1; shift; "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$port" -U "$PGUSER" -d "$CITUS_DB" "$@"; }

p -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $single" -c "CREATE DATABASE $single"
# the loading role, created through Citus (which creates it on the workers too);
# LOGIN: Citus connects to the workers as the current user, SET ROLE too
# (and a rerun starts from scratch in the cluster's database too)
p -d "$CITUS_DB" -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS credimport CASCADE" \
	-c "DROP SCHEMA IF EXISTS app CASCADE"
if [ -z "$(p -At -d "$CITUS_DB" -c "SELECT 1 FROM pg_roles WHERE rolname = 'cmp_loader'")" ]; then
	p -d "$CITUS_DB" -c "CREATE ROLE cmp_loader LOGIN" -c "GRANT pg_read_server_files TO cmp_loader"
fi

run() {	# run DB CITUS(0|1) NAME
	local db=$1 citus=$2 name=$3
	p -d "$db" -v citus="$citus" -f "$here/platform.sql" >"$out/$name.platform.log" 2>&1 ||
		{ echo "platform.sql failed in $db:"; cat "$out/$name.platform.log"; return 1; }
	: >"$out/$name.out"
	for loader in 0 1; do
		"$PGBIN/psql" -X -a -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$db" -v loader=$loader \
			-v fx="$CMP_FX" -f "$here/compare.sql" 2>&1 | sed -e "s|psql:$here/|psql:|" -e "s|$CMP_FX|<fixtures>|g" >>"$out/$name.out"
	done
}
run "$single" 0 single
run "$CITUS_DB" 1 cluster
fail=0
if ! diff -u "$out/single.out" "$out/cluster.out" >"$out/single-vs-cluster.diff"; then
	echo "FAIL (a): the cluster's results differ from the single node's:"; head -150 "$out/single-vs-cluster.diff"; fail=1
else
	echo "ok (a): single node and cluster give the same output ($(wc -l <"$out/single.out") lines)"
fi
if [ -n "${CMP_ACCEPT:-}" ]; then cp "$out/single.out" "$here/expected/compare.out"; fi
if ! diff -u "$here/expected/compare.out" "$out/single.out" >"$out/expected-vs-single.diff"; then
	echo "FAIL (b): the single node's output differs from test/citus/expected/compare.out:"; head -150 "$out/expected-vs-single.diff"; fail=1
else
	echo "ok (b): the output is test/citus/expected/compare.out"
fi

# (c) rows in the shards, none in the shells
tables="app.users app.transcript app.license app.user_link app.invitation"
for t in $tables; do
	coord=$(p -At -d "$CITUS_DB" -c "SELECT count(*) FROM $t")
	sum=0; per=""
	for port in $((CITUS_PORT + 1)) $((CITUS_PORT + 2)); do
		# every shard placement of $t on this worker, counted there
		n=$(worker "$port" -c "SET citus.override_table_visibility = off" -c "
			SELECT coalesce(sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %s', c.oid::regclass), false, true, '')))[1]::text::bigint), 0)
			  FROM pg_class c
			 WHERE c.relkind = 'r' AND c.relnamespace = 'app'::regnamespace
			   AND c.relname ~ ('^' || split_part('$t', '.', 2) || '_[0-9]+\$')")
		sum=$((sum + n)); per="$per $port:$n"
		if [ "$n" -eq 0 ]; then
			echo "FAIL (c): worker $port holds no row of $t"; fail=1
		fi
	done
	# the coordinator's shell: its own heap is empty (a row there, even a
	# deleted one, would take a page)
	shell_pages=$(p -At -d "$CITUS_DB" -c "SELECT pg_relation_size('$t')")
	echo "   $t: coordinator sees $coord, shards on workers:$per (sum $sum), shell heap ${shell_pages} bytes"
	[ "$coord" -gt 0 ] || { echo "FAIL (c): no row of $t at all"; fail=1; }
	[ "$sum" -eq "$coord" ] || { echo "FAIL (c): the shards of $t hold $sum rows, the coordinator sees $coord"; fail=1; }
	[ "$shell_pages" -eq 0 ] || { echo "FAIL (c): the coordinator's shell table $t has $shell_pages bytes in its heap"; fail=1; }
done
echo "outputs in $out"
exit $fail
