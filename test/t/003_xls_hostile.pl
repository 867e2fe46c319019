# Hostile .xls workbooks (issue 14): the crafted file that crashed FreeXL,
# random mutations of a real workbook, date serials FreeXL walked to day by
# day, a load that must stop when cancelled, and the reader's memory bound.
# The server must survive every one: no "terminated by signal" in its log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use File::Spec;
use Time::HiRes qw(time usleep);

my $fixtures = File::Spec->rel2abs(dirname(__FILE__) . '/../fixtures');

my $node = PostgreSQL::Test::Cluster->new('xls_hostile');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION credimport;
	INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME'), ('CE', 'CE');
	INSERT INTO credimport.learner (email) VALUES ('ada@example.org'), ('grace@example.org'), ('linus@example.org');
	-- the learners of the big workbook (make_xls.py big): its rows are valid
	INSERT INTO credimport.learner (email) SELECT format('learner%s@example.org', i) FROM generate_series(2, 65001) i;
});
my $dir = $node->data_dir . '/xls';
mkdir $dir or die "mkdir $dir: $!";

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!";
	local $/;
	my $d = <$fh>;
	close $fh;
	return $d;
}

sub write_file
{
	my ($name, $data) = @_;
	open(my $fh, '>:raw', "$dir/$name") or die "$name: $!";
	print $fh $data;
	close $fh;
	return "$dir/$name";
}

# load a file's bytes through the content door (bytea); (stdout, stderr)
sub load_data
{
	my ($path, $extra) = @_;
	$extra //= '';
	my ($out, $err) = ('', '');
	$node->psql('postgres', qq{
		SET client_min_messages = warning;
		$extra
		SELECT line_no || ' ' || status || ' ' || coalesce(array_to_string(errors, '; '), '')
		  FROM credimport_load_data(pg_read_binary_file('$path'), 'email', format => 'xls',
		                            validate_only => true, max_errors => 1000000);
	}, stdout => \$out, stderr => \$err);
	return ($out, $err);
}

sub server_alive
{
	return $node->safe_psql('postgres', 'SELECT 1') eq '1';
}

my $credits = slurp("$fixtures/credits.xls");

# --- the crafted file of issue 14: a LABELSST record header (type 0x00FD,
# length 10) turned into type 0x01FD, length 0; FreeXL 1.0.6 died of SIGSEGV
{
	my $at = index($credits, "\xFD\x00\x0A\x00", 512);
	ok($at > 0, 'found a LABELSST record in credits.xls');
	my $crafted = $credits;
	substr($crafted, $at, 4) = "\xFD\x01\x00\x00";
	my ($out, $err) = load_data(write_file('issue14.xls', $crafted));
	ok($out ne '' || $err =~ /ERROR:  .*(is not a valid \.xls workbook|cannot be read)/,
		'the crafted file: rows or a clear error') or diag("out: $out\nerr: $err");
	ok(server_alive(), 'server alive after the crafted file');
}

# --- a few hundred random mutations of credits.xls, in one session
{
	srand(14);
	my $n = 400;
	for my $i (1 .. $n)
	{
		my $m = $credits;
		my $changes = 1 + int(rand(8));
		for (1 .. $changes)
		{
			my $pos = 512 + int(rand(length($m) - 512));
			substr($m, $pos, 1) = chr(int(rand(256)));
		}
		# now and then a record header: a type and a length, as in issue 14
		if ($i % 4 == 0)
		{
			my $at = index($m, "\xFD\x00\x0A\x00", 512 + int(rand(length($m) - 600)));
			substr($m, $at, 4) = pack('vv', int(rand(65536)), int(rand(64))) if $at > 0;
		}
		# and now and then a truncated file
		$m = substr($m, 0, int(rand(length($m)))) if $i % 25 == 0;
		write_file("mut_$i.xls", $m);
	}
	my $t0 = time;
	my ($out, $err) = ('', '');
	$node->psql('postgres', qq{
		DO \$\$
		DECLARE ok int := 0; bad int := 0; other text := '';
		BEGIN
			SET LOCAL client_min_messages = warning;
			FOR i IN 1..$n LOOP
				BEGIN
					PERFORM credimport_load_data(pg_read_binary_file('$dir/mut_' || i || '.xls'), 'email',
					                             format => 'xls', validate_only => true, max_errors => 1000000);
					ok := ok + 1;
				EXCEPTION WHEN bad_copy_file_format OR undefined_object OR program_limit_exceeded
				               OR character_not_in_repertoire THEN
					bad := bad + 1;
				WHEN others THEN
					other := other || SQLSTATE || ' ' || SQLERRM || E'\\n';
				END;
			END LOOP;
			RAISE WARNING 'mutations: % read, % refused; other errors: %', ok, bad, nullif(other, '');
		END \$\$;
	}, stdout => \$out, stderr => \$err);
	my $took = time - $t0;
	like($err, qr/mutations: \d+ read, \d+ refused; other errors: <NULL>/,
		"$n mutated workbooks: each read or refused with a clear error") or diag($err);
	note(($err =~ /(mutations: [^\n]*)/)[0] // $err);
	note(sprintf('%d mutated workbooks in %.2f s', $n, $took));
	ok(server_alive(), 'server alive after the mutations');
}

# --- 20 cells holding the date serial 2e9 (FreeXL: 31-35 s, uncancellable)
{
	my $t0 = time;
	my ($out, $err) = load_data("$fixtures/dates2e9.xls");
	my $took = time - $t0;
	is(scalar(() = $out =~ /invalid completion_date: "2000000000" is not a valid date/g), 20,
		'20 cells of 2e9: 20 invalid dates');
	cmp_ok($took, '<', 1.0, sprintf('and done in %.3f s', $took));
}

# --- a long .xls load: how long it takes, its memory, a cancel in the middle
my $big = "$dir/big.xls";
system('python3', "$fixtures/make_xls.py", 'big', $big, '65000') == 0 or die 'make_xls.py big failed';
note(sprintf('big.xls: %d bytes, 65,000 rows', -s $big));
my $load = "SELECT count(*) FROM credimport_load_data(pg_read_binary_file('$big'), 'email', format => 'xls', "
  . "validate_only => true, max_errors => 1000000) WHERE status = 'valid'";
my $full;
{
	my ($o, $e) = ('', '');
	my $t0 = time;
	$node->psql('postgres', qq{
		SET client_min_messages = warning;
		$load;
		SELECT pg_backend_pid() \\gset
		\\setenv P :pg_backend_pid
		\\! sed -n 's/^VmHWM:[[:space:]]*\\([0-9]*\\).*/\\1/p' /proc/\$P/status
	}, stdout => \$o, stderr => \$e);
	$full = time - $t0;
	my ($count, $hwm) = $o =~ /^(\d+)\s+(\d+)\s*$/;
	is($count, '65000', 'the big workbook: every row read and valid');
	ok(defined $hwm && $hwm < 300 * 1024,
		sprintf('and the loading backend peaks at %s kB (< 300 MB)', $hwm // '?'));
	note(sprintf('a validation of 65,000 .xls rows takes %.2f s here', $full));
}
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/started/, "\\echo started\n$load;\n");
	usleep(int($full * 0.4 * 1e6));
	my $c0 = time;
	is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"), 't', 'cancelled the .xls load in the middle');
	pump_until($bg->{run}, $bg->{timeout}, \$bg->{stderr}, qr/canceling statement due to user request/);
	my $took = time - $c0;
	like($bg->{stderr}, qr/canceling statement due to user request/, 'pg_cancel_backend ends the .xls load');
	cmp_ok($took, '<', 1.0, sprintf('the load ended %.3f s after the cancel', $took));
	$bg->quit;
}

# --- the reader's memory: bounded by credimport.max_sheet_bytes (+ 1 MB)
{
	my ($out, $err) = load_data($big, "SET credimport.max_sheet_bytes = '9MB';");
	like($err, qr/ERROR:  workbook "\(content\)" cannot be read within credimport.max_sheet_bytes \(9437184 bytes\)/,
		'a workbook whose reading needs more than max_sheet_bytes: refused');
	($out, $err) = load_data($big, "SET credimport.max_sheet_bytes = '8MB';");
	like($err, qr/ERROR:  workbook "\(content\)" is larger than credimport.max_sheet_bytes/,
		'a workbook larger than max_sheet_bytes: refused');
}

ok(server_alive(), 'the server survived every workbook');
my $log = slurp($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend was terminated by a signal');
is($node->safe_psql('postgres', 'SELECT count(*) FROM credimport.credit'), '0', 'nothing was written');

$node->stop;
done_testing();
