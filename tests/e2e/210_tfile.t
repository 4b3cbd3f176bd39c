#!/usr/bin/env perl
# Trace files (stub/tracefile/tfile.c) against gdb 13: a file written by tracestub's writer (through the
# helper modes of build/unit/test_tfile) opened with `target tfile` (status, frames, registers
# with our full target.xml, memory, TSVs, tdump; the private status field costs no warning),
# and a file gdb itself wrote (`tsave` from a gdbserver session) read by our reader and written
# again: gdb sees the copy exactly as the original.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
no warnings qw(portable);    # 64-bit addresses through hex()

my $prog = fixture('tp');
my $helper = ($ENV{TS_ROOT} // '.') . '/build/unit/test_tfile';
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
plan skip_all => "$helper not built (make build/unit/test_tfile)" if !-x $helper;
my $tmp = TS::tmpdir();

my %sym;
for (split /\n/, `nm $prog`) {
    $sym{$2} = $1 if /^([0-9a-f]+) \S (\w+)$/;
}
my ($traced, $counter) = @sym{qw(traced counter)};
ok($traced && $counter, 'nm found traced and counter');

# gdb on a trace file; commands in @$pre run before `target tfile`.
sub tfile_gdb {
    my ($file, $pre, @cmds) = @_;
    my ($t) = TS::_run(30, 'gdb', '-nx', '-batch', '-ex', 'set pagination off',
        map({ ('-ex', $_) } @$pre, "target tfile $file", @cmds), $prog);
    $t =~ s/\Q$file\E/FILE/g;
    return $t;
}

# ---- a file from our writer ----
my $ours = "$tmp/ours.tf";
my ($out, $rc) = TS::_run(30, $helper, '--write', $ours, $traced, $counter);
is($rc, 0, 'writer: 3 frames with R (816-byte g of our target.xml), M counter, V $hits')
    or diag($out);
my $t = tfile_gdb($ours, [], 'tstatus', 'tfind start', 'info registers rip', 'print counter',
    'print $hits', 'tdump', 'tfind 2', 'print counter', 'print $hits', 'tfind', 'tfind end');
my $a = sprintf('0x%x', hex $traced);
unlike($t, qr/warning: Ignoring trace file definition/, 'no warning: the tsbias status field is silent');
unlike($t, qr/^warning:/m, 'no warning at all');
like($t, qr/^Collected 3 trace frames\.$/m, 'tstatus: 3 frames');
like($t, qr/^Trace stopped by a tstop command/m, 'tstatus: stop reason from the status line');
like($t, qr/^Found trace frame 0, tracepoint 1\nrip\s+$a\s+$a <traced>\n\$1 = 10\n\$2 = 1$/m,
    'frame 0: rip from the R block, counter from the M block, $hits from the V block');
like($t, qr/^Data collected at tracepoint 1, trace frame 0:\n(?:.*\n)*?rsp\s+0x7ffc0000\s.*\n(?:.*\n)*?counter = 10$/m,
    'tdump: registers and counter, driven by the Z cmd lines');
like($t, qr/^Found trace frame 2, tracepoint 1\n\$3 = 30\n\$4 = 3\nNo trace frame found$/m,
    'frame 2, then no frame 3');
($out) = TS::_run(30, $helper, '--dump', $ours);
like($out, qr/^frames 3\n(frame \d tp 1 size \d+: R M V\n){3}/m, 'our reader: 3 frames R M V');
like($out, qr/^complete 1$/m, 'our reader: terminator');

# ---- a file gdb wrote (tsave from a gdbserver session), read and rewritten by us ----
SKIP: {
    skip 'gdbserver not installed', 9 if system('sh', '-c', 'command -v gdbserver >/dev/null');
    my $gdbs = "$tmp/gdb.tf";
    my $script = "$tmp/tsave.gdb";
    open my $fh, '>', $script or die "$script: $!";
    print $fh "$_\n" for ('tvariable $n = 5', 'break main', 'continue', 'trace traced', 'actions', 'collect $regs',
        'collect a, b', 'collect counter', 'collect message', 'teval $n = $n + 1', 'end',
        'break done', 'tstart', 'continue', 'tstop', "tsave $gdbs");
    close $fh;
    my $s = start_server('gdbserver', launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog, cmds => ["source $script", 'kill']);
    wait_server($s, 10);
    stop_server($s);
    ok(-s $gdbs, 'gdb tsave wrote a file') or diag($o);
    note($o) if $ENV{TS_VERBOSE};
    ($out) = TS::_run(30, $helper, '--dump', $gdbs);
    like($out, qr/^frames 10$/m, 'our reader: the 10 frames of gdb\'s file') or diag($out);
    like($out, qr/^complete 1$/m, 'our reader: gdb\'s terminator');
    like($out, qr/^frame 9 tp \d+ size \d+: R( M)+$/m, 'our reader: blocks of the last frame');
    my $copy = "$tmp/copy.tf";
    ($out, $rc) = TS::_run(30, $helper, '--copy', $gdbs, $copy);
    is($rc, 0, 'read gdb\'s file, write it again') or diag($out);
    ok(length(slurp($gdbs)) > 1000 && slurp($copy) eq slurp($gdbs),
        'the copy is byte-identical to gdb\'s own file (same line order, frames, terminator)');
    my @cmds = ('tstatus', 'info tvariables', 'info tracepoints', 'tfind start', 'tdump',
        'tfind 9', 'info registers rip', 'tfind end');
    my $orig = tfile_gdb($gdbs, [], @cmds);
    is(tfile_gdb($copy, [], @cmds), $orig,
        'gdb sees the copy as the original: tstatus, tvariables, tracepoints, tdump');
    # A PIE's tfile keeps run-time addresses (PROTOCOL.md §5.3): relocate the symbols by the
    # load bias, derived from the tracepoint's run-time address inside traced.
    my ($rt) = $orig =~ /^Created tracepoint \d+ for target's tracepoint \d+ at (0x[0-9a-f]+)\./m;
    my $bias = sprintf('0x%x', (hex($rt // 0) - hex($traced)) & ~0xfff);
    @cmds = ('tfind 9', 'print a', 'print b', 'print message', 'print counter', 'print $n');
    $orig = tfile_gdb($gdbs, ["symbol-file -o $bias $prog"], @cmds);
    like($orig, qr/^\$1 = 9\n\$2 = 109\n\$3 = "hello tracepoints"/m,
        "gdb on its own file, symbols at $bias: args and a global of frame 9") or diag($orig);
    is(tfile_gdb($copy, ["symbol-file -o $bias $prog"], @cmds), $orig,
        'the same values from the copy');
}

done_testing();
