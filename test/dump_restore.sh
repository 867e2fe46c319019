#!/usr/bin/env bash
# test/dump_restore.sh -- pg_dump of a database using credimport restores
# into a fresh database with all of the extension's data: learners,
# credits, batches, problems, the user's changes to the shipped
# profile_field and header_alias rows, the target configuration (a role
# pointed at the platform's own table or view, with its column mapping),
# and sequences that continue where they were.  And tenancy (1.6): the
# mapping credimport.tenant, every row's tenant_id, a shared and a tenant's
# own credit type, the row-level security flags, policies and grants of
# the shipped tables come back; a tenant role in the restored database sees
# its own rows only, and loads.  Both a plain dump restored with psql and
# a custom-format dump restored with pg_restore are checked.
#
# The roles (cluster-wide: pg_dump does not dump them) are created here and
# dropped at the end.
# Needs PGHOST/PGPORT/PGUSER of a running cluster with credimport installed.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
fx=$(cd "$(dirname "$0")/fixtures" && pwd)
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "dump_restore: FAIL: $*" >&2; exit 1; }

roles="ci_dump_acme_loader ci_dump_globex_loader ci_dump_acme ci_dump_globex"
for db in ci_dump_src ci_dump_dst ci_dump_dst2; do "$PGBIN/dropdb" --if-exists "$db"; done
for r in $roles; do psql -d postgres -c "DROP ROLE IF EXISTS $r" 2>/dev/null; done
psql -d postgres >/dev/null <<'SQL'
CREATE ROLE ci_dump_acme NOLOGIN;
CREATE ROLE ci_dump_globex NOLOGIN;
CREATE ROLE ci_dump_acme_loader NOLOGIN IN ROLE ci_dump_acme;
CREATE ROLE ci_dump_globex_loader NOLOGIN IN ROLE ci_dump_globex;
SQL
"$PGBIN/createdb" ci_dump_src
# globex's files, sent as data (no server file: a tenant's loader reads none)
glx_users=$'email,first_name,last_name,role,parent\nkid@globex.example,Kid,Glob,student,hopper@example.org\nada@example.org,Ada,Globex,instructor,\n'
glx_credits=$'email,provider,course_title,course_id,completion_date,number_credits,credit_type\nada@example.org,Globex U,Glob 1,GLX-1,2024-02-01,2,GLX\nhopper@example.org,Globex U,Glob 1,GLX-1,2024-02-01,1,CME\nnobody@example.org,Globex U,Glob 1,GLX-1,2024-02-01,1,CME\n'
glx_credentials=$'email,credential_type,license_number,issue_date\nhopper@example.org,RN,L-1,2024-01-01\n'
acme_full=$'email,first_name,last_name,provider,course_title,course_id,completion_date,number_credits,credit_type\nnew@acme.example,New,Acme,Acme,After,AFTER-1,2024-05-01,1,CME\n'
psql -d ci_dump_src -v sample="$fx/sample.csv" -v full="$fx/full.csv" -v glx_users="$glx_users" \
	-v glx_credits="$glx_credits" -v glx_credentials="$glx_credentials" -v acme_full="$acme_full" >/dev/null <<'SQL'
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
-- tenancy: the data so far (one organization's) becomes acme's; globex is
-- a second tenant, with a learner of the same e-mail as one of acme's
INSERT INTO credimport.credential_type (code, name) VALUES ('RN', 'Registered nurse');
SELECT credimport_grant_loader('ci_dump_acme_loader');
SELECT credimport_grant_loader('ci_dump_globex_loader');
SELECT credimport_create_tenant('acme', 'ci_dump_acme', adopt => true);
SELECT credimport_create_tenant('globex', 'ci_dump_globex');
-- CME, CE, ETHICS and RN are shared by the tenants; GLX is globex's own
INSERT INTO credimport.credit_type (code, name, tenant_id) VALUES ('GLX', 'Globex hours', 'globex');
INSERT INTO credimport.learner (email, first_name, tenant_id) VALUES
    ('ada@example.org', 'Ada of Globex', 'globex'), ('hopper@example.org', 'Grace', 'globex');
SET ROLE ci_dump_globex_loader;
SELECT count(*) FROM credimport_load_users_data(:'glx_users', auto_invite => true);
SELECT count(*) FROM credimport_load_data(:'glx_credits', 'email', max_errors => 1);
SELECT count(*) FROM credimport_load_credentials_data(:'glx_credentials', 'email');
RESET ROLE;
SET ROLE ci_dump_acme_loader;
SELECT count(*) FROM credimport_load_data(:'acme_full', 'full');
RESET ROLE;
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
SELECT 'learners', count(*), string_agg(coalesce(email, '-') || '/' || profile::text || '/' || coalesce(tenant_id, '-'), ','
       ORDER BY id) FROM credimport.learner;
SELECT 'credits', count(*), string_agg(course_id || '/' || number_credits || '/' || coalesce(tenant_id, '-'), ','
       ORDER BY id) FROM credimport.credit;
SELECT 'batches', count(*), string_agg(status || '/' || records || '/' || coalesce(tenant_id, '-'), ',' ORDER BY id)
  FROM credimport.batch;
SELECT 'problems', count(*), string_agg(code, ',' ORDER BY batch_id, line_no, code) FROM credimport.batch_error;
SELECT 'profile_field', count(*), string_agg(name || '=' || required, ',' ORDER BY name) FROM credimport.profile_field;
SELECT 'header_alias', count(*), string_agg(alias || '=' || coalesce(field, '-') || '/' || coalesce(kind, '*'), ','
       ORDER BY alias, kind) FROM credimport.header_alias;
SELECT 'target', count(*), string_agg(role || '=' || relation::text || '/' || columns::text, ',' ORDER BY role)
  FROM credimport.target;
SELECT 'targets', count(*), string_agg(role || '=' || relation::text || '/' || columns::text || '/' || shipped, ','
       ORDER BY role) FROM credimport.targets;
-- tenancy
SELECT 'tenant', count(*), string_agg(tenant || '=' || role::text, ',' ORDER BY tenant) FROM credimport.tenant;
SELECT 'credit_types', count(*), string_agg(code || '/' || coalesce(tenant_id, '-'), ',' ORDER BY id) FROM credimport.credit_type;
SELECT 'tenant_id ' || t, (SELECT string_agg(coalesce(x, '-') || '=' || n, ',' ORDER BY x NULLS FIRST)
                             FROM (SELECT (xpath('/row/t/text()', r))[1]::text x, count(*) n
                                     FROM query_to_xml(format('SELECT tenant_id AS t FROM credimport.%I', t), false, false, '') q,
                                          unnest(xpath('/table/row', q)) r GROUP BY 1) g)
  FROM unnest(ARRAY['learner', 'credit_type', 'credit', 'credential_type', 'credential', 'learner_link',
                    'invitation', 'batch', 'batch_error', 'batch_record', 'provenance']) t ORDER BY t;
SELECT 'rls', count(*), string_agg(relname || '=' || relrowsecurity || '/' || relforcerowsecurity, ',' ORDER BY relname)
  FROM pg_class WHERE relnamespace = 'credimport'::regnamespace AND relkind = 'r';
SELECT 'policies', count(*), string_agg(tablename || '.' || policyname || '/' || permissive || '/' || cmd || '/' || roles::text
       || '/' || md5(coalesce(qual, '') || '|' || coalesce(with_check, '')), ',' ORDER BY tablename, policyname)
  FROM pg_policies WHERE schemaname = 'credimport';
SELECT 'acl', count(*), string_agg(relname || '=' || coalesce(relacl::text, '-'), ',' ORDER BY relname)
  FROM pg_class WHERE relnamespace = 'credimport'::regnamespace AND relkind IN ('r', 'S', 'v');
SELECT 'column_acl', count(*), string_agg(c.relname || '.' || a.attname || '=' || a.attacl::text, ',' ORDER BY c.relname, a.attnum)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'credimport'::regnamespace AND a.attacl IS NOT NULL;
SQL
}

# what a tenant's role sees: its own rows (and the shared types)
tenant_view() {
	psql -d "$1" -At -v role="$2" <<'SQL'
SET ROLE :"role";
SELECT 'learners', string_agg(email || '/' || tenant_id, ',' ORDER BY id) FROM credimport.learner;
SELECT 'credits', string_agg(course_id || '/' || tenant_id, ',' ORDER BY id) FROM credimport.credit;
SELECT 'credit_types', string_agg(code || '/' || coalesce(tenant_id, '-'), ',' ORDER BY id) FROM credimport.credit_type;
SELECT 'credentials', string_agg(license_number || '/' || tenant_id, ',' ORDER BY id) FROM credimport.credential;
SELECT 'batches', string_agg(kind || '/' || tenant_id, ',' ORDER BY id) FROM credimport.batch;
SELECT 'problems', string_agg(code || '/' || tenant_id, ',' ORDER BY batch_id, line_no) FROM credimport.batch_error;
SELECT 'tenant', string_agg(tenant, ',') FROM credimport.tenant;
SELECT 'current_tenant', credimport.current_tenant();
SQL
}
before=$(snapshot ci_dump_src)
acme_before=$(tenant_view ci_dump_src ci_dump_acme_loader)
globex_before=$(tenant_view ci_dump_src ci_dump_globex_loader)

"$PGBIN/pg_dump" -d ci_dump_src -f /tmp/credimport_dump.sql
"$PGBIN/pg_dump" -d ci_dump_src -Fc -f /tmp/credimport_dump.custom
"$PGBIN/createdb" ci_dump_dst
psql -d ci_dump_dst -f /tmp/credimport_dump.sql >/dev/null 2>/tmp/credimport_restore.err ||
	{ cat /tmp/credimport_restore.err; fail "restore failed"; }
[ -s /tmp/credimport_restore.err ] && { cat /tmp/credimport_restore.err; fail "restore printed errors"; }
"$PGBIN/createdb" ci_dump_dst2
"$PGBIN/pg_restore" --exit-on-error -d ci_dump_dst2 /tmp/credimport_dump.custom 2>/tmp/credimport_restore.err ||
	{ cat /tmp/credimport_restore.err; fail "pg_restore failed"; }
[ -s /tmp/credimport_restore.err ] && { cat /tmp/credimport_restore.err; fail "pg_restore printed errors"; }
[ -n "${DUMP_RESTORE_VERBOSE:-}" ] && { echo "$before"; echo "$acme_before"; echo "$globex_before"; }
for db in ci_dump_dst ci_dump_dst2; do
	after=$(snapshot $db)
	[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after"); fail "$db: restored data differs"; }
	[ "$acme_before" = "$(tenant_view $db ci_dump_acme_loader)" ] ||
		{ diff <(echo "$acme_before") <(tenant_view $db ci_dump_acme_loader); fail "$db: acme's loader sees other rows"; }
	[ "$globex_before" = "$(tenant_view $db ci_dump_globex_loader)" ] ||
		{ diff <(echo "$globex_before") <(tenant_view $db ci_dump_globex_loader); fail "$db: globex's loader sees other rows"; }
done
grep -q 'credits|0|' <<<"$before" && fail "the source database has no credits: the test proves nothing"
grep -q '^target|2|credit_type=platform.credit_kinds/{},learner=platform.mdl_user/' <<<"$before" ||
	fail "the source database has not the two targets set: the test proves nothing"
# the source has what the checks are about: two tenants, rows of both in
# every table of tenant data (acme's adopted from before tenancy), a shared
# and a tenant's type, row-level security on, the tenant policies
grep -q '^tenant|2|acme=ci_dump_acme,globex=ci_dump_globex$' <<<"$before" || fail "the source has not the two tenants"
for t in learner credit batch batch_error batch_record provenance; do
	grep -q "^tenant_id $t|acme=[0-9]*,globex=[0-9]*\$" <<<"$before" || fail "the source has not rows of both tenants (only) in $t"
done
for t in credential learner_link invitation; do
	grep -q "^tenant_id $t|globex=[0-9]*\$" <<<"$before" || fail "the source has not globex's rows in $t"
done
grep -q '^tenant_id credit_type|-=3,globex=1$' <<<"$before" || fail "the source has not shared and globex's credit types"
grep -q '^rls|.*learner=true/false' <<<"$before" || fail "row-level security is off on credimport.learner in the source"
[ "$(grep -o 'tenant_rows/RESTRICTIVE' <<<"$before" | wc -l)" = 11 ] || fail "the source has not the 11 tenant policies"
grep -q '^learners|.*/globex' <<<"$acme_before" && fail "acme's loader sees globex's learners in the source"
grep -q '^learners|.*/acme' <<<"$globex_before" && fail "globex's loader sees acme's learners in the source"
grep -q '^credit_types|CME/-,CE/-,ETHICS/-$' <<<"$acme_before" || fail "acme's loader does not see exactly the shared types"
grep -q '^credit_types|CME/-,CE/-,ETHICS/-,GLX/globex$' <<<"$globex_before" || fail "globex's loader does not see the shared types and its own"
grep -q '^current_tenant|globex$' <<<"$globex_before" || fail "globex's loader's tenant is not globex"

# sequences continue: a new learner, credit and batch get fresh ids; the
# tenants' loaders load after the restore, each into its own tenant
for db in ci_dump_dst ci_dump_dst2; do
	loaded=$(psql -d $db -At -v basic="$(cat "$fx/basic.csv")" -v glx="$glx_credits" <<'SQL'
SET client_min_messages = error;
-- (the shipped tables again, for these loads)
SELECT credimport_reset_target('learner') \g /dev/null
SELECT credimport_reset_target('credit_type') \g /dev/null
INSERT INTO credimport.learner (email, tenant_id) VALUES ('after.restore@example.org', 'acme');
SET ROLE ci_dump_acme_loader;
SELECT 'acme', count(*) FILTER (WHERE status = 'imported') > 0 FROM credimport_load_data(:'basic', 'email', max_errors => 10);
RESET ROLE;
SET ROLE ci_dump_globex_loader;
-- the same file as before the dump: the same credits again (invalid)
SELECT 'globex', string_agg(status, ',' ORDER BY line_no) FROM credimport_load_data(:'glx', 'email', max_errors => 3);
INSERT INTO credimport.learner (email) VALUES ('later@globex.example');
SELECT 'globex sees', count(*) FILTER (WHERE tenant_id = 'globex'), count(*) FROM credimport.learner;
RESET ROLE;
SELECT 'new rows', string_agg(DISTINCT coalesce(tenant_id, '-'), ',') FROM credimport.credit WHERE id > (SELECT max(id) - 1 FROM credimport.credit);
SELECT 'after.restore', tenant_id FROM credimport.learner WHERE email = 'after.restore@example.org';
SELECT 'later', tenant_id FROM credimport.learner WHERE email = 'later@globex.example';
SQL
)
	[ -n "${DUMP_RESTORE_VERBOSE:-}" ] && echo "$loaded"
	expect=$'acme|t\nglobex|invalid,invalid,invalid\nglobex sees|4|4\nnew rows|acme\nafter.restore|acme\nlater|globex'
	[ "$loaded" = "$expect" ] || { diff <(echo "$expect") <(echo "$loaded"); fail "$db: loads after the restore"; }
done
echo "dump_restore: ok ($(grep -c . <<<"$before") tables compared, twice; two tenants' views)"
for db in ci_dump_src ci_dump_dst ci_dump_dst2; do "$PGBIN/dropdb" "$db"; done
for r in $roles; do psql -d postgres -c "DROP ROLE $r"; done
