# Memory of a load with many invalid records: the problems a batch stores
# are bounded (credimport.max_stored_problems per code), and so is what a
# record keeps of the others.  1,000,000 invalid records (an 8 MB CSV)
# peaked at 1.25 GB (VmHWM of the backend) before.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('problem_memory');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION credimport');

# run sql in a fresh session; return (its last line of output, VmHWM in kB)
sub peak
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', qq{
		SET client_min_messages = warning;
		$sql
		SELECT substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\\s+(\\d+) kB');
	}, stdout => \$out, stderr => \$err);
	my @lines = split /\n/, $out;
	my $hwm = pop @lines;
	return (join("\n", @lines), $hwm, $err);
}

my $content = q{'email,provider,course_title,course_id,completion_date,number_credits,credit_type' || E'\n' || repeat(E'x,,,,,,\n', 1000000)};

my ($out, $hwm, $err) = peak(qq{
	SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'invalid') || ' '
	       || count(*) FILTER (WHERE cardinality(errors) = 2)
	  FROM credimport_load_data($content, 'email', validate_only => true, max_errors => 2000000);
	SELECT invalid FROM credimport.batch WHERE id = credimport_last_batch_id();
	SELECT string_agg(code || '=' || n, ' ' ORDER BY code) FROM (
	  SELECT CASE WHEN line_no IS NULL THEN value ELSE code END AS code,
	         sum(CASE WHEN line_no IS NULL THEN substring(message FROM '^\\d+')::bigint ELSE 1 END) AS n
	    FROM credimport.batch_error WHERE batch_id = credimport_last_batch_id() GROUP BY 1) s;
});
is($err, '', 'load: no error');
# records 168 on have two short problems or one full and one short (the
# first 1000 invalid_email and missing_value problems are kept in full)
is($out, "1000000 1000000 999833\n1000000\ninvalid_email=1000000 missing_value=6000000",
	'every record invalid, every problem counted; records past the bound keep short problems');
ok(defined $hwm && $hwm =~ /^\d+$/ && $hwm < 400 * 1024,
	'1,000,000 invalid records: the load peaks at ' . ($hwm // '?') . ' kB (< 400 MB)');

# credimport_validate's door (one row per problem) from a staging table
$node->safe_psql('postgres', qq{
	CREATE TABLE stage AS SELECT 'x'::text AS email, ''::text AS provider, ''::text AS course_title,
	       ''::text AS course_id, ''::text AS completion_date, ''::text AS number_credits, ''::text AS credit_type
	  FROM generate_series(1, 1000000);
});
($out, $hwm, $err) = peak(q{SELECT count(*) FROM credimport_validate('stage'::regclass, 'email');});
is($err, '', 'validate: no error');
ok(defined $hwm && $hwm =~ /^\d+$/ && $hwm < 400 * 1024,
	'credimport_validate of 1,000,000 invalid rows peaks at ' . ($hwm // '?') . ' kB (< 400 MB)');

$node->stop;
done_testing();
