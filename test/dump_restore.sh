#!/usr/bin/env bash
# test/dump_restore.sh -- pg_dump of a database using credimport restores
# into a fresh database with all of the extension's data: learners,
# credits, batches, problems, the user's changes to the shipped
# profile_field and header_alias rows, the target configuration (a role
# pointed at the platform's own table or view, with its column mapping),
# and sequences that continue where they were.
#
# Needs PGHOST/PGPORT/PGUSER of a running cluster with credimport installed.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
fx=$(cd "$(dirname "$0")/fixtures" && pwd)
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "dump_restore: FAIL: $*" >&2; exit 1; }

for db in ci_dump_src ci_dump_dst; do "$PGBIN/dropdb" --if-exists "$db"; done
"$PGBIN/createdb" ci_dump_src
psql -d ci_dump_src -v sample="$fx/sample.csv" -v full="$fx/full.csv" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION credimport;
INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME'), ('CE', 'CE'), ('ETHICS', 'Ethics');
INSERT INTO credimport.learner (email, remote_id) VALUES
    ('ada@example.org', 'R-ADA'), ('grace@example.org', 'R-GRACE'), ('linus@example.org', NULL),
    ('ghost@example.org', 'R-GHOST');
-- a user's changes to the shipped rows, and a row of their own
UPDATE credimport.profile_field SET required = false WHERE name = 'last_name';
INSERT INTO credimport.profile_field VALUES ('department', false);
-- header aliases: one of the user's own, a shipped one changed, one turned off
INSERT INTO credimport.header_alias (alias, field, kind) VALUES ('Anbieter', 'provider', 'credits');
UPDATE credimport.header_alias SET field = 'course_id' WHERE alias = 'course_name';
UPDATE credimport.header_alias SET field = NULL WHERE alias = 'hours';
SELECT count(*) FROM credimport_load(:'sample', 'email');
SELECT count(*) FROM credimport_load(:'full', 'full', max_errors => 10);
-- targets: credit types read from a view of the platform's, learners from
-- its table (set and reset again: only the configured rows are dumped)
CREATE SCHEMA platform;
CREATE TABLE platform.mdl_user (id bigserial PRIMARY KEY, username varchar(100), email varchar(100),
    idnumber varchar(255), firstname varchar(100), lastname varchar(100),
    suspended smallint NOT NULL DEFAULT 0, deleted smallint NOT NULL DEFAULT 0);
CREATE TABLE platform.course_kind (kind_id smallint PRIMARY KEY, shortname text NOT NULL);
CREATE VIEW platform.credit_kinds AS SELECT kind_id AS id, shortname AS code FROM platform.course_kind;
SELECT credimport_set_target('learner', 'platform.mdl_user',
    '{"remote_id": "idnumber", "first_name": "firstname", "last_name": "lastname",
      "active": {"unless": ["suspended", "deleted"]}}');
SELECT credimport_set_target('credit_type', 'platform.credit_kinds');
SELECT credimport_set_target('credential_type', 'credimport.credential_type');
SELECT credimport_reset_target('credential_type');
SQL

snapshot() {
	psql -d "$1" -At <<'SQL'
SELECT 'learners', count(*), string_agg(coalesce(email, '-') || '/' || profile::text, ',' ORDER BY id) FROM credimport.learner;
SELECT 'credits', count(*), string_agg(course_id || '/' || number_credits, ',' ORDER BY id) FROM credimport.credit;
SELECT 'batches', count(*), string_agg(status || '/' || records, ',' ORDER BY id) FROM credimport.batch;
SELECT 'problems', count(*), string_agg(code, ',' ORDER BY batch_id, line_no, code) FROM credimport.batch_error;
SELECT 'profile_field', count(*), string_agg(name || '=' || required, ',' ORDER BY name) FROM credimport.profile_field;
SELECT 'header_alias', count(*), string_agg(alias || '=' || coalesce(field, '-') || '/' || coalesce(kind, '*'), ','
       ORDER BY alias, kind) FROM credimport.header_alias;
SELECT 'target', count(*), string_agg(role || '=' || relation::text || '/' || columns::text, ',' ORDER BY role)
  FROM credimport.target;
SELECT 'targets', count(*), string_agg(role || '=' || relation::text || '/' || columns::text || '/' || shipped, ','
       ORDER BY role) FROM credimport.targets;
SQL
}
before=$(snapshot ci_dump_src)

"$PGBIN/pg_dump" -d ci_dump_src -f /tmp/credimport_dump.sql
"$PGBIN/createdb" ci_dump_dst
psql -d ci_dump_dst -f /tmp/credimport_dump.sql >/dev/null 2>/tmp/credimport_restore.err ||
	{ cat /tmp/credimport_restore.err; fail "restore failed"; }
[ -s /tmp/credimport_restore.err ] && { cat /tmp/credimport_restore.err; fail "restore printed errors"; }
after=$(snapshot ci_dump_dst)
[ -n "${DUMP_RESTORE_VERBOSE:-}" ] && echo "$after"
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); fail "restored data differs"; }
grep -q 'credits|0|' <<<"$before" && fail "the source database has no credits: the test proves nothing"
grep -q '^target|2|credit_type=platform.credit_kinds/{},learner=platform.mdl_user/' <<<"$before" ||
	fail "the source database has not the two targets set: the test proves nothing"

# sequences continue: a new learner, credit and batch get fresh ids
psql -d ci_dump_dst -v f="$fx/basic.csv" >/dev/null <<'SQL'
SET client_min_messages = warning;
-- (the shipped tables again, for this load)
SELECT credimport_reset_target('learner');
SELECT credimport_reset_target('credit_type');
INSERT INTO credimport.learner (email) VALUES ('after.restore@example.org');
SELECT count(*) FROM credimport_load(:'f', 'email', max_errors => 10);
SQL
echo "dump_restore: ok ($(grep -c . <<<"$before") tables compared)"
"$PGBIN/dropdb" ci_dump_src
"$PGBIN/dropdb" ci_dump_dst
