#!/usr/bin/env perl
# Separate debug info found the way gdb finds it: a program stripped of its DWARF and local
# symbols with a .gnu_debuglink to sorter_split.debug beside it (CRC checked), and libc with
# Debian's libc6-dbg (/usr/lib/debug/.build-id/xx/yyyy.debug). Names, arguments and
# backtraces come from the debug files; output as untraced; gdb reads the same files.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;

trace_ok_or_skip();
my $tmp = TS::tmpdir();
my ($plain, $split) = (fixture('sorter'), fixture('sorter_split'));
plan skip_all => 'fixtures not built (make fixtures)' if !-x $split || !-r "$split.debug";
$ENV{XDG_CACHE_HOME} = "$tmp/cache";    # verdicts of the DWARF vet kept apart

sub lines_of {
    my ($err) = @_;
    return map { s/0x[0-9a-f]+/0xA/gr } $err =~ /^\S+ \[\d+\] +(\S.*?)(?: <[\d.]+ \S+>)?$/mg;
}

# ---- .gnu_debuglink ----
my $syms = `nm $split 2>&1`;
unlike($syms, qr/\bby_key\b/, 'sorter_split has no local symbols (by_key is in the .debug file only)');
my $r = trace_run(60, '-e', 'weigh', '-e', 'by_key', '--', $split);
my $u = plain_run(30, $split);
is($r->{out}, $u->{out}, 'debuglink: stdout identical to an untraced run');
my @l = lines_of($r->{err});
ok((grep { $_ eq 'weigh(name="ab", times=2) = 390' } @l), 'debuglink: arguments named from the .debug file')
    or diag($r->{err});
is(scalar(grep { /^by_key\(a=0xA, b=0xA\) = -?\d$/ } @l), 4, 'debuglink: a static function from its .symtab, 4 calls');
my $g = `gdb -nx -batch -ex 'info address by_key' $split 2>&1`;
like($g, qr/Symbol "by_key" is a function at address/, 'gdb finds by_key through the same debuglink');

# A debug file whose CRC does not match is not used (gdb: "the debug information found ... does not match").
my $bad = "$tmp/sorter_split";
system('cp', $split, $bad) == 0 or die;
open my $fh, '>', "$tmp/sorter_split.debug" or die;
print $fh "not the debug file\n";
close $fh;
$r = trace_run(60, '-e', 'weigh', '--', $bad);
like($r->{err}, qr/-e weigh: never resolved/,
    'a debug file with the wrong CRC is ignored (weigh is only in the right one)');
is($r->{out}, $u->{out}, 'and the program runs as untraced');

# ---- by build-id under a debug root (TRACESTUB_DEBUG_ROOT, /usr/lib/debug by default) ----
my $bid = fixture('sorter_bid');
my ($root) = fixture('debugroot');
SKIP: {
    skip 'sorter_bid not built', 3 if !-x $bid || !-d $root;
    $r = trace_run(60, '-e', 'weigh', '--', $bid);
    like($r->{err}, qr/-e weigh: never resolved/, 'build-id: without the root, no symbol for weigh');
    {
        local $ENV{TRACESTUB_DEBUG_ROOT} = $root;
        $r = trace_run(60, '-e', 'weigh', '-e', 'by_key', '--', $bid);
    }
    @l = lines_of($r->{err});
    ok((grep { $_ eq 'weigh(name="ab", times=2) = 390' } @l),
        'build-id: ROOT/.build-id/xx/yyyy.debug found: arguments named') or diag($r->{err});
    is(scalar(grep { /^by_key\(a=0xA, b=0xA\) = -?\d$/ } @l), 4, 'build-id: its local symbols too');
}

# ---- libc6-dbg, by build-id ----
my ($id) = `readelf -n /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null` =~ /Build ID: ([0-9a-f]+)/;
my $dbg = $id ? '/usr/lib/debug/.build-id/' . substr($id, 0, 2) . '/' . substr($id, 2) . '.debug' : '';
SKIP: {
    skip 'libc6-dbg not installed', 4 if !$dbg || !-r $dbg;
    $r = trace_run(60, '-e', 'qsort', '-e', '__GI___qsort_r', '-e', 'by_key', '--bt', '-n', '6', '--', $plain);
    is($r->{out}, plain_run(30, $plain)->{out}, 'libc6-dbg: stdout identical');
    like($r->{err}, qr/^\S+ \[\d+\] qsort\(b=0x[0-9a-f]+, n=3, s=4, cmp=0x[0-9a-f]+\) \.\.\.$/m,
        'libc6-dbg: qsort(b, n, s, cmp) named as gdb names them');
    like($r->{err}, qr/__GI___qsort_r\(b=0x[0-9a-f]+, n=3, s=4, cmp=0x[0-9a-f]+, arg=0x0\)/,
        'libc6-dbg: a local symbol of the debug file is a probe');
    like($r->{err}, qr/#1 +0x[0-9a-f]+ msort_with_tmp[.\w]*\+0x[0-9a-f]+ \(libc\.so\.6\)/,
        'libc6-dbg: backtraces name libc\'s static functions');
}
done_testing();
