# Tenants and faults: a large load of tenant acme, holding acme's lock,
# does not block a load of globex (it completes while acme's still runs);
# a cancelled acme load ends promptly and leaves nothing (no credit,
# learner or batch, no lock); and another acme load that was waiting for
# it then runs and imports everything, once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('tenant_cancel');
$node->init;
$node->start;

# two tenants and their loaders; 20,000 learners of acme, 3 of globex;
# acme's 200,000 credits (2,000 for learners the load creates in full
# mode) in a staging table its loader may read: no server file
$node->safe_psql('postgres', q{
	CREATE EXTENSION credimport;
	CREATE ROLE acme NOLOGIN;
	CREATE ROLE globex NOLOGIN;
	CREATE ROLE acme_loader NOLOGIN IN ROLE acme;
	CREATE ROLE globex_loader NOLOGIN IN ROLE globex;
	SELECT credimport_grant_loader('acme_loader');
	SELECT credimport_grant_loader('globex_loader');
	SELECT credimport_create_tenant('acme', 'acme');
	SELECT credimport_create_tenant('globex', 'globex');
	INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME'), ('CE', 'CE');
	INSERT INTO credimport.learner (email, first_name, last_name, tenant_id)
	SELECT format('l%s@example.org', i), 'L', i::text, 'acme' FROM generate_series(1, 20000) i;
	INSERT INTO credimport.learner (email, first_name, last_name, tenant_id)
	SELECT format('g%s@example.org', i), 'G', i::text, 'globex' FROM generate_series(1, 3) i;
	CREATE TABLE acme_stage AS
	SELECT format('l%s@example.org', i % 22000 + 1) AS email, 'N' AS first_name, 'N' AS last_name,
	       'Provider' AS provider, 'Course ' || (i / 22000) AS course_title,
	       'C-' || (i / 22000) AS course_id, '2024-01-01' AS completion_date, '1.5' AS number_credits,
	       CASE WHEN i % 2 = 0 THEN 'CME' ELSE 'CE' END AS credit_type
	  FROM generate_series(0, 199999) i;
	GRANT SELECT ON acme_stage TO acme_loader;
});

my $acme_load = "SET ROLE acme_loader; SELECT count(*) FROM credimport_load('acme_stage'::regclass, 'full')";
my $globex_load = q{SET ROLE globex_loader; SELECT string_agg(status, ',' ORDER BY line_no) FROM credimport_load_data(
	E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
	 'g1@example.org,P,T,G-1,2024-01-01,1,CME\ng2@example.org,P,T,G-1,2024-01-01,1,CME\n'
	 'g3@example.org,P,T,G-1,2024-01-01,1,CME\n', 'email')};

sub state_now
{
	return $node->safe_psql('postgres', q{
		SELECT string_agg(t || ': ' || credits || ' credits, ' || learners || ' learners, ' || batches || ' batches', '; ' ORDER BY t)
		       || '; ' || (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory') || ' advisory locks'
		  FROM (SELECT t,
		               (SELECT count(*) FROM credimport.credit WHERE tenant_id = t) credits,
		               (SELECT count(*) FROM credimport.learner WHERE tenant_id = t) learners,
		               (SELECT count(*) FROM credimport.batch WHERE tenant_id = t) batches
		          FROM unnest(ARRAY['acme', 'globex']) t) s});
}
my $clean = state_now();
is($clean, 'acme: 0 credits, 20000 learners, 0 batches; globex: 0 credits, 3 learners, 0 batches; 0 advisory locks',
	'starting state');

# How long does acme's load take here?  (It is rolled back.)
my $t0 = time;
my $n = $node->safe_psql('postgres', "BEGIN; $acme_load; ROLLBACK;");
my $full = time - $t0;
is($n, '200000', "acme's load reads every record");
is(state_now(), $clean, 'a load the caller rolls back leaves nothing');
note sprintf("acme's load takes %.2f s here", $full);

# start acme's load in a background session; return the session and its pid
sub start_acme
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/started/, "\\echo started\n$acme_load;\n");
	return ($bg, $pid);
}

# wait until the backend holds (or, $granted false, waits for) an advisory lock
sub wait_lock
{
	my ($pid, $granted) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $pid AND granted = $granted", '1')
	  or die "backend $pid did not " . ($granted eq 'true' ? 'take' : 'wait for') . ' an advisory lock';
}

sub still_loading
{
	my ($pid) = @_;
	return $node->safe_psql('postgres',
		"SELECT state = 'active' AND query LIKE '%credimport_load%' FROM pg_stat_activity WHERE pid = $pid");
}

# --- acme's load holds acme's lock: globex's load completes meanwhile;
# then acme's load is cancelled, and a second acme load waiting for it runs
{
	my ($bg, $pid) = start_acme();
	wait_lock($pid, 'true');
	my $g0 = time;
	is($node->safe_psql('postgres', $globex_load), 'imported,imported,imported',
		"globex's load imports while acme's load holds acme's lock");
	my $gtook = time - $g0;
	is(still_loading($pid), 't', "acme's load was still running when globex's completed (it did not wait for it)");
	note sprintf("globex's load took %.3f s", $gtook);

	# a second acme load waits for the first (polled until it waits or
	# the first is no longer running: no hang when the check fails)
	my ($bg2, $pid2) = start_acme();
	$node->poll_query_until('postgres', qq{
		SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid = $pid2 AND NOT granted)
		    OR NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $pid AND state = 'active')}, 't')
	  or die 'the second acme load neither waited nor ran';
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $pid2 AND NOT granted"),
		'1', 'a second load of acme waits for the first');
	is(still_loading($pid), 't', 'while the first still runs');

	my $c0 = time;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	pump_until($bg->{run}, $bg->{timeout}, \$bg->{stderr}, qr/canceling statement due to user request/);
	my $took = time - $c0;
	like($bg->{stderr}, qr/canceling statement due to user request/, "pg_cancel_backend ends acme's load");
	cmp_ok($took, '<', 1.0, sprintf('the load ended %.3f s after the cancel', $took));
	$bg->quit;

	# the second acme load now takes the lock and imports everything, once
	pump_until($bg2->{run}, $bg2->{timeout}, \$bg2->{stdout}, qr/^200000$/m);
	like($bg2->{stdout}, qr/^200000$/m, "the waiting acme load ran after the cancel");
	$bg2->quit;
	is(state_now(),
		'acme: 200000 credits, 22000 learners, 1 batches; globex: 3 credits, 3 learners, 1 batches; 0 advisory locks',
		"the cancelled load left nothing: one acme batch (the second load's), globex's batch, no lock");
}

# --- a cancelled acme load, nothing waiting: it leaves nothing at all
{
	my $before = state_now();
	my ($bg, $pid) = start_acme();
	wait_lock($pid, 'true');
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	pump_until($bg->{run}, $bg->{timeout}, \$bg->{stderr}, qr/canceling statement due to user request/);
	like($bg->{stderr}, qr/canceling statement due to user request/, "pg_cancel_backend ends acme's (second) load");
	$bg->quit;
	is(state_now(), $before, 'after the cancel: no credit, learner or batch of the load, no lock');
	is($node->safe_psql('postgres', $globex_load), 'invalid,invalid,invalid',
		"globex loads after acme's cancel (its credits are there already)");
}

$node->stop;
done_testing();
