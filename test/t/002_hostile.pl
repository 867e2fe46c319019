# Hostile files: each gives a clear ERROR or row-level problems, never a
# crash, a hang or unbounded memory.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Compress::Gzip qw(gzip $GzipError);
use POSIX qw(mkfifo);

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION credimport;
	INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME');
	INSERT INTO credimport.learner (email) VALUES ('ada@example.org');
});
my $dir = $node->data_dir . '/hostile';
mkdir $dir or die "mkdir $dir: $!";
my $header = "email,provider,course_title,course_id,completion_date,number_credits,credit_type\n";
my $good = "ada\@example.org,P,T,C-1,2024-01-01,1,CME\n";

sub write_file
{
	my ($name, @parts) = @_;
	open(my $fh, '>:raw', "$dir/$name") or die "$name: $!";
	print $fh @parts;
	close $fh;
	return "$dir/$name";
}

# Run a load in a fresh session; return (stdout, stderr, VmHWM in kB).
sub load
{
	my ($path, $opts) = @_;
	$opts //= '';
	my ($out, $err) = ('', '');
	$node->psql('postgres', qq{
		SET client_min_messages = warning;
		SELECT line_no || ' ' || status || ' ' || coalesce(array_to_string(errors, '; '), '')
		  FROM credimport_load('$path', 'email', validate_only => true$opts);
		SELECT pg_backend_pid();
	}, stdout => \$out, stderr => \$err);
	my @lines = split /\n/, $out;
	my $pid = pop @lines;
	return (join("\n", @lines), $err, $pid);
}

sub server_alive
{
	return $node->safe_psql('postgres', 'SELECT 1') eq '1';
}

# a 200 MB file with no newline at all
{
	my $f = "$dir/no_newline.csv";
	open(my $fh, '>:raw', $f) or die $!;
	my $chunk = 'x' x (1024 * 1024);
	print $fh $chunk for 1 .. 200;
	close $fh;
	my ($out, $err) = load($f);
	like($err, qr/header of file .* is longer than credimport.max_record_bytes/, '200 MB without a newline: clear error');
	ok(server_alive(), 'server alive');
}

# peak memory of a backend reading it stays far below the file's size
{
	my $f = "$dir/no_newline.csv";
	# read the VmHWM of the backend that read it, from the same session
	my ($o, $e) = ('', '');
	$node->psql('postgres', qq{
		DO \$\$ BEGIN PERFORM credimport_load('$f', 'email'); EXCEPTION WHEN others THEN NULL; END \$\$;
		SELECT pg_backend_pid() \\gset
		\\setenv P :pg_backend_pid
		\\! sed -n 's/^VmHWM:[[:space:]]*\\([0-9]*\\).*/\\1/p' /proc/\$P/status
	}, stdout => \$o, stderr => \$e);
	my ($hwm) = $o =~ /(\d+)\s*$/;
	ok(defined $hwm && $hwm < 100 * 1024, "reading 200 MB without a newline peaks at " . ($hwm // '?') . " kB (< 100 MB)");
}

# one line of 1,000,000 fields: as the header, and as a data record
{
	my $wide = join(',', ('f') x 1_000_000) . "\n";
	my ($out, $err) = load(write_file('wide_header.csv', $wide, $good));
	like($err, qr/header of file .* is longer than credimport.max_record_bytes/, 'a header of 1,000,000 fields: clear error');
	($out, $err) = load(write_file('wide_record.csv', $header, $wide, $good));
	like($out, qr/^2 invalid record: record is longer than credimport.max_record_bytes/m, 'a record of 1,000,000 fields: record_too_long');
	like($out, qr/^3 valid $/m, 'and the next record is read');
	ok(server_alive(), 'server alive');
}

# an unterminated quote running to the end of the file
{
	my ($out, $err) = load(write_file('unterminated.csv', $header, $good,
		"ada\@example.org,P,\"never closed,C-2,2024-01-01,1,CME\n", ($good) x 1000));
	like($out, qr/^3 invalid record: quoted field is not closed before the end of the file$/m, 'unterminated quote: malformed_record');
	is(scalar(() = $out =~ /\n/g) + 1, 2, 'the rest of the file is that one record');
}

# CR-only line ends
{
	(my $h = $header) =~ s/\n/\r/;
	(my $g = $good) =~ s/\n/\r/;
	my ($out, $err) = load(write_file('cr_only.csv', $h, $g, $g));
	like($out, qr/^2 valid $/m, 'CR-only: first record');
	like($out, qr/^3 invalid record: same learner/m, 'CR-only: second record, on line 3');
}

# invalid and overlong UTF-8: one whole-file error naming the line and the
# byte (issue 15), whichever line it is on; a NUL byte stays its field's problem
{
	my @bad = (
		[ 'overlong UTF-8', "over\xC0\xAFlong", 'C0', 'over\\\\xC0\\\\xAFlong' ],
		[ 'UTF-16 surrogate in UTF-8', "surrogate\xED\xA0\x80", 'ED', 'surrogate\\\\xED\\\\xA0\\\\x80' ],
		[ 'Latin-1 byte', "latin1 caf\xE9", 'E9', 'latin1 caf\\\\xE9' ],
		[ 'truncated sequence', "truncated\xE2\x82", 'E2', 'truncated\\\\xE2\\\\x82' ]);
	my $n = 0;
	for my $b (@bad)
	{
		my ($what, $value, $byte, $shown) = @$b;
		$n++;
		my ($out, $err) = load(write_file("bad_utf8_$n.csv", $header, ($good) x $n,
			"ada\@example.org,P,$value,C-9,2024-01-01,1,CME\n", $good));
		my $line = $n + 2;
		like($err, qr/ERROR:  file ".*" is not valid UTF-8: line $line has the byte 0x$byte\n.*DETAIL:  Field 3 of the record on line $line reads "$shown"/s,
			"$what: a whole-file error naming line $line and the byte");
		is($out, '', "$what: no record is reported");
	}
	my ($out, $err) = load(write_file('nul_byte.csv', $header,
		"ada\@example.org,P,nul\x00byte,C-4,2024-01-01,1,CME\n"));
	like($out, qr/^2 invalid course_title: value contains a NUL byte: "nul\\x00byte"$/m, 'NUL byte');
}

# a binary file (gzip)
{
	my $gz;
	gzip(\($header . $good x 100) => \$gz) or die $GzipError;
	my ($out, $err) = load(write_file('credits.csv.gz', $gz));
	like($err, qr/ERROR:  (file ".*" is not valid UTF-8: line \d+ has the byte 0x[0-9A-F]{2}|header of column \d+ is not valid UTF-8|missing required column)/, 'gzip file: clear error');
	ok(server_alive(), 'server alive');
}

# header only, empty, a directory, a FIFO, a path that does not exist
{
	my ($out, $err) = load(write_file('header_only.csv', $header));
	is($out, '', 'header only: no records');
	like($err, qr/is empty\nDETAIL:  It has a header but no data records/, 'header only: the empty-file error (one rule for every door)');
	($out, $err) = load(write_file('empty.csv'));
	like($err, qr/is empty/, 'empty file: clear error');
	($out, $err) = load($dir);
	like($err, qr/is not a regular file/, 'a directory: clear error');
	mkfifo("$dir/fifo", 0600) or die "mkfifo: $!";
	my $t0 = time;
	($out, $err) = load("$dir/fifo");
	like($err, qr/is not a regular file/, 'a FIFO: clear error');
	cmp_ok(time - $t0, '<', 30, 'and no hang');
	($out, $err) = load("$dir/does-not-exist.csv");
	like($err, qr/could not open file .*: No such file or directory/, 'missing file: clear error');
}

ok(server_alive(), 'the server survived every file');
is($node->safe_psql('postgres', 'SELECT count(*) FROM credimport.credit'), '0', 'nothing was written');

$node->stop;
done_testing();
