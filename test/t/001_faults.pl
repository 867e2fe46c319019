# Faults in the middle of a large load: a backend killed with SIGKILL (the
# server restarts), pg_cancel_backend, statement_timeout, a caller's
# ROLLBACK.  Each must leave no credit, learner or batch of that load and no
# lock behind, and a cancel must end the load promptly.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('faults');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;

my $file = $node->data_dir . '/faults.csv';
$node->safe_psql('postgres', qq{
	CREATE EXTENSION credimport;
	INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME'), ('CE', 'CE');
	INSERT INTO credimport.learner (email, first_name, last_name)
	SELECT format('l%s\@example.org', i), 'L', i::text FROM generate_series(1, 20000) i;
	-- 300,000 credits, some for 2,000 learners the load creates (full mode)
	COPY (SELECT format('l%s\@example.org', i % 22000 + 1) AS email, 'N' AS first_name, 'N' AS last_name,
	             'Provider' AS provider, 'Course ' || (i / 22000) AS course_title,
	             'C-' || (i / 22000) AS course_id, '2024-01-01' AS completion_date, '1.5' AS number_credits,
	             CASE WHEN i % 2 = 0 THEN 'CME' ELSE 'CE' END AS credit_type
	        FROM generate_series(0, 299999) i) TO '$file' (FORMAT csv, HEADER);
});

my $load = "SELECT count(*) FROM credimport_load('$file', 'full')";
sub state_now
{
	return $node->safe_psql('postgres', q{
		SELECT (SELECT count(*) FROM credimport.credit) || ' credits, '
		    || (SELECT count(*) FROM credimport.learner) || ' learners, '
		    || (SELECT count(*) FROM credimport.batch) || ' batches, '
		    || (SELECT count(*) FROM pg_locks WHERE locktype = 'object' AND classid = 1668441444) || ' load locks'});
}
my $clean = state_now();
is($clean, '0 credits, 20000 learners, 0 batches, 0 load locks', 'starting state');

# How long does the whole load take here?  (It is rolled back.)
my $t0 = time;
my $n = $node->safe_psql('postgres', "BEGIN; $load; ROLLBACK;");
my $full = time - $t0;
is($n, '300000', 'the load reads every record');
is(state_now(), $clean, 'a load the caller rolls back leaves nothing');
note sprintf('a full load takes %.2f s here', $full);

# start the load in a background session; return the session and its pid
sub start_load
{
	my ($prefix) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/started/, "\\echo started\n$prefix$load;\n");
	return ($bg, $pid);
}

# --- SIGKILL in the middle: the server restarts, nothing of the load remains
{
	my ($bg, $pid) = start_load('');
	usleep(int($full * 0.6 * 1e6));
	ok(kill('KILL', $pid), 'killed the loading backend with SIGKILL');
	$bg->quit;
	$node->poll_query_until('postgres', 'SELECT 1', '1')
	  or die 'the server did not come back after the crash';
	is(state_now(), $clean, 'after SIGKILL and crash recovery: no credit, learner, batch or lock of the load');
}

# --- pg_cancel_backend in the middle: ends promptly, nothing written
{
	my ($bg, $pid) = start_load('');
	usleep(int($full * 0.6 * 1e6));
	my $c0 = time;
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	pump_until($bg->{run}, $bg->{timeout}, \$bg->{stderr}, qr/canceling statement due to user request/);
	my $took = time - $c0;
	like($bg->{stderr}, qr/canceling statement due to user request/, 'pg_cancel_backend ends the load');
	cmp_ok($took, '<', 1.0, sprintf('the load ended %.3f s after the cancel', $took));
	$bg->quit;
	is(state_now(), $clean, 'after a cancel: nothing written, no lock');
}

# --- statement_timeout in the middle: ends promptly, nothing written
{
	my $limit_ms = int($full * 0.5 * 1000) + 1;
	my $s0 = time;
	my ($bg, $pid) = start_load("SET statement_timeout = $limit_ms;\n");
	pump_until($bg->{run}, $bg->{timeout}, \$bg->{stderr}, qr/canceling statement due to statement timeout/);
	my $took = time - $s0;
	like($bg->{stderr}, qr/canceling statement due to statement timeout/, 'statement_timeout ends the load');
	cmp_ok($took, '<', $limit_ms / 1000 + 1.0,
		sprintf('the load ended %.3f s after it started, with a %d ms timeout', $took, $limit_ms));
	$bg->quit;
	is(state_now(), $clean, 'after a timeout: nothing written, no lock');
}

# and the load still works, start to end
is($node->safe_psql('postgres', $load), '300000', 'a load after all that imports every record');
like(state_now(), qr/^300000 credits, 22000 learners, 1 batches, 0 load locks$/, 'and writes them once');

$node->stop;
done_testing();
