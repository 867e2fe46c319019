# Limits: problem counts that never wrap (a 16-bit counter crashed the
# backend), loads that end promptly when cancelled, and the server surviving
# all of it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('limits');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION credimport;
	INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME');
	INSERT INTO credimport.learner (email) VALUES ('ada@example.org');
});

sub server_alive
{
	return $node->safe_psql('postgres', 'SELECT 1') eq '1';
}

# users records whose parent cell lists 32,768, 65,535 and 65,536 invalid
# addresses; the last without a usable e-mail (identify() followed a NULL)
for my $case ([32768, 'wrap@example.org,A,B'], [65536, 'wrap@example.org,A,B'], [65535, 'not-an-email,,'])
{
	my ($n, $who) = @$case;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET client_min_messages = warning;
		SELECT status || ' ' || cardinality(errors) || ' ' || errors[101]
		  FROM credimport_load_users_data(E'email,first_name,last_name,parent\\n$who,' || repeat('\@;', $n) || E'\\n',
		                                  max_errors => 5);
	});
	is($ret, 0, "$n problems in one record: the load ends normally") or diag($err);
	like($out, qr/^invalid 101 record: \d+ more problems in this record are not listed/,
		"$n problems: invalid, the first 100 kept and one counting the rest");
	ok(server_alive(), "$n problems: server alive");
}
is($node->safe_psql('postgres', "SELECT count(*) FROM credimport.learner WHERE email = 'wrap\@example.org'"),
	'0', 'no learner written for a record with problems');

# a cancel (here statement_timeout, which arrives the same way) ends a load
# promptly, whichever phase it is in
$node->safe_psql('postgres', q{
	CREATE TABLE big AS
	SELECT 'email,first_name,last_name,parent' || E'\n' ||
	       string_agg(format('p%s@example.org,A,B,%s', i,
	                         CASE WHEN i < 300000 THEN format('p%s@example.org', i + 1) ELSE 'nobody@example.org' END),
	                  E'\n') AS content
	  FROM generate_series(1, 300000) i;
});
my $t0 = time;
$node->safe_psql('postgres', q{
	SET client_min_messages = warning;
	SELECT count(*) FROM credimport_load_users_data((SELECT content FROM big), validate_only => true);
});
my $full = time - $t0;
note(sprintf('the whole validation takes %.0f ms', $full * 1000));
for my $ms (50, 200, 500, 1000)
{
	next if $ms >= $full * 1000;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET client_min_messages = warning;
		SET statement_timeout = $ms;
		SELECT count(*) FROM credimport_load_users_data((SELECT content FROM big), validate_only => true);
	});
	like($err, qr/canceling statement due to statement timeout/, "timeout at $ms ms: the load is cancelled");
}
# the time from the timeout to the end of the statement, measured by the client
for my $ms (100, 400)
{
	next if $ms >= $full * 1000;
	my $t = time;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
		SET client_min_messages = warning;
		SET statement_timeout = $ms;
		SELECT count(*) FROM credimport_load_users_data((SELECT content FROM big), validate_only => true);
	});
	my $took = (time - $t) * 1000;
	cmp_ok($took - $ms, '<', 500, sprintf('timeout at %d ms: the session ends %.0f ms after it', $ms, $took - $ms));
}

# a role that is not superuser cannot raise the limits, not even before the
# library is loaded in its session (a placeholder setting is dropped then)
$node->safe_psql('postgres', q{
	CREATE ROLE sender LOGIN;
	GRANT EXECUTE ON FUNCTION credimport_check_value(text, text) TO sender;
});
{
	my ($ret, $out, $err) = $node->psql('postgres', q{
		SET credimport.max_rows = 0;
		SET credimport.max_record_bytes = '64MB';
		SELECT credimport_check_value('date', '2024-01-01');
		SHOW credimport.max_rows;
		SHOW credimport.max_record_bytes;
		SET credimport.max_sheet_bytes = '512MB';
	}, extra_params => ['-U', 'sender']);
	like($err, qr/permission denied to set parameter "credimport.max_rows"/, 'a placeholder max_rows set before loading is refused');
	like($out, qr/^2024-01-01\n1000000\n1MB$/m, 'and the limits keep their defaults');
	like($err, qr/permission denied to set parameter "credimport.max_sheet_bytes"/, 'SET after loading is refused');
}

ok(server_alive(), 'the server survived');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend died');

$node->stop;
done_testing();
