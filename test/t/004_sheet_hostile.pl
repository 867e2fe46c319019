# Hostile workbooks and XML documents (issue 14): each is refused or read
# quickly, within credimport.max_sheet_bytes plus a fixed amount, without a
# crash; and a cancel ends a load of a large workbook at once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

my $node = PostgreSQL::Test::Cluster->new('sheet_hostile');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION credimport;
	INSERT INTO credimport.credit_type (code, name) VALUES ('CME', 'CME');
	INSERT INTO credimport.learner (email) VALUES ('ada@example.org');
});
my $dir = $node->data_dir . '/sheet_hostile';
mkdir $dir or die "mkdir $dir: $!";

# the crafted files, written with Python's standard library (zipfile)
open(my $py, '>', "$dir/gen.py") or die $!;
print $py <<'PY';
import sys, os, zipfile
out = sys.argv[1]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
HEAD = ["email", "provider", "course_title", "course_id", "completion_date", "number_credits", "credit_type"]
GOOD = ["ada@example.org", "P", "T", "C-1", "2024-01-01", "1", "CME"]

def col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s

def inl(ref, t):
    return f'<c r="{ref}" t="inlineStr"><is><t>{t}</t></is></c>'

def row(n, vals):
    return f'<row r="{n}">' + "".join(inl(f"{col(i)}{n}", v) for i, v in enumerate(vals)) + "</row>"

def xlsx(name, sheet_body, sst=None, styles=None, merges="", level=9):
    with zipfile.ZipFile(os.path.join(out, name), "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("xl/workbook.xml", f'<workbook {NS} {RNS}><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        if sst is not None:
            z.writestr("xl/sharedStrings.xml", sst)
        if styles is not None:
            z.writestr("xl/styles.xml", styles)
        if callable(sheet_body):
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
                f.write(f'<worksheet {NS}><sheetData>'.encode())
                sheet_body(f)
                f.write(f'</sheetData>{merges}</worksheet>'.encode())
        else:
            z.writestr("xl/worksheets/sheet1.xml", f'<worksheet {NS}><sheetData>{sheet_body}</sheetData>{merges}</worksheet>')

what = sys.argv[2:] or ["all"]
def want(n): return "all" in what or n in what

# 3 million empty <si/> (about 23 kB)
if want("sst"):
    xlsx("sst_3m.xlsx", row(1, HEAD) + row(2, GOOD),
         sst=f'<sst {NS}>' + "<si/>" * 3_000_000 + "</sst>")
# 2 million <c><is/></c> inline strings in one row
if want("inline"):
    xlsx("inline_2m.xlsx", row(1, HEAD) + '<row r="2">' + '<c t="inlineStr"><is/></c>' * 2_000_000 + "</row>")
# one 9 MB shared string in a cell merged over E2:E1048576
if want("bigmerge"):
    xlsx("big_merge.xlsx", row(1, HEAD) + '<row r="2">' + "".join(inl(f"{col(i)}2", v) for i, v in enumerate(GOOD) if i != 4)
         + '<c r="E2" t="s"><v>0</v></c></row>',
         sst=f'<sst {NS}><si><t>' + "x" * (9 * 1024 * 1024) + "</t></si></sst>",
         merges='<mergeCells><mergeCell ref="E2:E1048576"/></mergeCells>')
# one merged range A2:A1048576
if want("mergea"):
    xlsx("merge_a.xlsx", row(1, HEAD) + row(2, GOOD), merges='<mergeCells><mergeCell ref="A2:A1048576"/></mergeCells>')
# 400,000 rows listed bottom-up
if want("reversed"):
    xlsx("reversed.xlsx", row(1, HEAD) + "".join(f'<row r="{n}"><c r="A{n}"><v>1</v></c></row>' for n in range(400_001, 1, -1)))
# styles.xml with 200,000 numFmt and 200,000 xf
if want("styles"):
    n = 200_000
    xlsx("styles_200k.xlsx", row(1, HEAD) + row(2, GOOD),
         styles=f'<styleSheet {NS}><numFmts>' + "".join(f'<numFmt numFmtId="{164 + i}" formatCode="0.0"/>' for i in range(n))
         + '</numFmts><cellXfs>' + "".join(f'<xf numFmtId="{164 + i}"/>' for i in range(n)) + "</cellXfs></styleSheet>")
# a header of 100,000 distinct names in cells without r=
if want("wideheader"):
    xlsx("wide_header.xlsx", '<row r="1">' + "".join(f'<c t="inlineStr"><is><t>h{i}</t></is></c>' for i in range(100_000)) + "</row>")
# an XML element with 100,000 attributes
if want("xmlattrs"):
    with open(os.path.join(out, "attrs.xml"), "w") as f:
        f.write("<rows><row " + " ".join(f'a{i}="v"' for i in range(100_000)) + "/></rows>")
# a 2.2 MB XML document, for the content door's max_sheet_bytes
if want("bigxml"):
    with open(os.path.join(out, "big.xml"), "w") as f:
        f.write("<rows>" + "<row><email>ada@example.org</email><n>1</n></row>" * 50_000 + "</rows>")
# a big legitimate workbook, to cancel in the middle
if want("big"):
    def body(f):
        f.write(row(1, HEAD).encode())
        for n in range(2, 300_002):
            f.write(row(n, ["ada@example.org", "P", f"T{n}", f"C-{n}", "2024-01-01", "1", "CME"]).encode())
    xlsx("big.xlsx", body, level=1)
PY
close $py;
system('python3', "$dir/gen.py", $dir) == 0 or die "gen.py failed";
chmod 0644, glob("$dir/*");

# limits of this test: the crafted files are judged against these
my $sheet_mb = 64;
# what a backend takes whatever it loads (code, catalogs, libxml2's buffers): generous
my $fixed_mb = 80;

# Load a file (validate only) in a session of its own.  Returns the rows
# ("line status errors"), the errors, the backend's peak memory (VmHWM, kB)
# and the seconds the load took inside the server.
sub load
{
	my ($path, %o) = @_;
	my $call = $o{call} // "credimport_load('$path', 'email', validate_only => true)";
	my ($out, $err) = ('', '');
	$node->psql('postgres', qq{
		SET client_min_messages = warning;
		SET credimport.max_sheet_bytes = '${sheet_mb}MB';
		@{[ $o{set} // '' ]}
		SELECT clock_timestamp() AS t0 \\gset
		SELECT line_no || ' ' || status || ' ' || coalesce(array_to_string(errors, '; '), '') FROM $call;
		SELECT 'SECONDS=' || extract(epoch FROM clock_timestamp() - :'t0');
		SELECT pg_backend_pid() AS pid \\gset
		\\setenv P :pid
		\\! sed -n 's/^VmHWM:[[:space:]]*\\([0-9]*\\).*/HWM=\\1/p' /proc/\$P/status
	}, stdout => \$out, stderr => \$err, on_error_stop => 0);
	my ($secs) = $out =~ /^SECONDS=([0-9.]+)$/m;
	my ($hwm) = $out =~ /^HWM=(\d+)$/m;
	$out =~ s/^(SECONDS|HWM)=.*\n?//mg;
	$out =~ s/\n+$//;
	return ($out, $err, $hwm // 0, $secs // 999);
}

sub within
{
	my ($name, $hwm, $secs, $max_secs) = @_;
	cmp_ok($hwm, '<', ($sheet_mb + $fixed_mb) * 1024,
		sprintf("%s: peak backend memory %.0f MB (< max_sheet_bytes %d MB + %d MB)", $name, $hwm / 1024, $sheet_mb, $fixed_mb));
	cmp_ok($secs, '<', $max_secs, sprintf("%s: %.3f s (< %g s)", $name, $secs, $max_secs));
}

sub server_alive
{
	return $node->safe_psql('postgres', 'SELECT 1') eq '1';
}

# 3 million empty <si/> shared strings (a 23 kB file; 3.1 GB in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/sst_3m.xlsx");
	ok($out eq '2 valid ' || $err =~ /max_sheet_bytes/, '3 million empty shared strings: read, or refused by the limit')
	  or diag("out: $out\nerr: $err");
	within('3 million empty shared strings', $hwm, $secs, 5);
}

# 2 million <c><is/></c> inline strings in one row (2.08 GB in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/inline_2m.xlsx");
	like($err, qr/row 2 of ".*inline_2m.xlsx" has more than 16,384 cells/, '2 million inline strings in a row: refused');
	within('2 million inline strings', $hwm, $secs, 1);
}

# one 9 MB shared string in a cell merged over E2:E1048576 (out of memory in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/big_merge.xlsx");
	is($out, '2 invalid record: record is longer than credimport.max_record_bytes (1048576 bytes)',
		'a 9 MB value merged down a million rows: one record, too long');
	is($err, '', 'and no error');
	within('9 MB merged value', $hwm, $secs, 2);
}

# one merged range A2:A1048576 in a 1.2 kB workbook (1,048,575 records in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/merge_a.xlsx");
	is($out, '2 valid ', 'a merged range down to row 1,048,576: only the rows the sheet has');
	within('tall merged range', $hwm, $secs, 1);
	is($node->safe_psql('postgres', 'SELECT records || \' \' || (SELECT count(*) FROM credimport.batch_error e WHERE e.batch_id = b.id) FROM credimport.batch b ORDER BY id DESC LIMIT 1'),
		'1 0', 'one record in the batch, no problems stored');
}

# 400,000 rows listed bottom-up (55 s in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/reversed.xlsx");
	like($err, qr/worksheet of ".*reversed.xlsx" lists row 400000 after row 400001/, 'rows bottom-up: refused');
	within('rows bottom-up', $hwm, $secs, 1);
}

# styles.xml with 200,000 numFmt and 200,000 xf (27 s in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/styles_200k.xlsx");
	is($out, '2 valid ', '200,000 number formats and cell styles: read');
	within('200,000 styles', $hwm, $secs, 1);
}

# a header of 100,000 distinct names in cells without r= (12-26 s in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/wide_header.xlsx");
	like($err, qr/row 1 of ".*wide_header.xlsx" has more than 16,384 cells/, '100,000 header cells: refused');
	within('100,000 header cells', $hwm, $secs, 1);
}

# an XML element with 100,000 attributes (77 s in 1.3)
{
	my ($out, $err, $hwm, $secs) = load("$dir/attrs.xml");
	like($err, qr/an element of ".*attrs.xml" has more than 16,384 attributes/, '100,000 attributes: refused');
	within('100,000 attributes', $hwm, $secs, 1);
}

# the XML content door applies max_sheet_bytes (skipped in 1.3)
{
	my ($out, $err) = load("$dir/big.xml", set => "SET credimport.max_sheet_bytes = '1MB';",
		call => "credimport_load_data(pg_read_binary_file('$dir/big.xml'), 'email', format => 'xml', validate_only => true)");
	like($err, qr/XML document "\(content\)" is larger than credimport.max_sheet_bytes \(1048576 bytes\)/,
		'a 2.2 MB XML document through the content door: refused at 1 MB');
	($out, $err) = load("$dir/big.xml", set => "SET credimport.max_sheet_bytes = '1MB';");
	like($err, qr/larger than credimport.max_sheet_bytes/, 'and through the file door');
}

# a cancel ends the load of a large workbook at once
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, qq{
		\\echo started
		SELECT count(*) FROM credimport_load('$dir/big.xlsx', 'email', validate_only => true);
	});
	my $pid;
	for (1 .. 500)
	{
		$pid = $node->safe_psql('postgres',
			"SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%big.xlsx%' AND pid <> pg_backend_pid()");
		last if $pid;
		usleep(10_000);
	}
	ok($pid, 'the load of a 300,000-row workbook is running');
	usleep(1_500_000);
	my $state = $node->safe_psql('postgres', "SELECT state FROM pg_stat_activity WHERE pid = $pid");
	is($state, 'active', 'still running after 1.5 s');
	my $t0 = $node->safe_psql('postgres', "SELECT clock_timestamp() FROM pg_cancel_backend($pid)");
	my $ended;
	for (1 .. 1000)
	{
		$ended = $node->safe_psql('postgres',
			"SELECT extract(epoch FROM state_change - '$t0'::timestamptz) FROM pg_stat_activity WHERE pid = $pid AND state <> 'active'");
		last if $ended ne '';
		usleep(5_000);
	}
	ok($ended ne '', 'the cancelled load ended');
	cmp_ok($ended, '<', 0.1, sprintf('a cancel ends the load in %.1f ms (< 100 ms)', ($ended || 0) * 1000));
	$bg->quit;
}

ok(server_alive(), 'the server survived every file');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no backend was terminated by a signal');
is($node->safe_psql('postgres', 'SELECT count(*) FROM credimport.credit'), '0', 'nothing was written');

$node->stop;
done_testing();
