#!/usr/bin/env perl
# gdb's fast tracepoints (`ftrace`, issue 15) on tracestub: FastTracepoints+ and qTMinFTPILen
# let gdb send them as such; tracestub makes each a jump to a pad of its in-process agent (no
# trap per hit) and turns the records into trace frames when gdb reads the trace. On the PIE
# fixture tp, where gdbserver's libinproctrace cannot place a pad: tdump of an ftrace frame is
# the tdump of a trap tracepoint's frame at the same hit (registers, arguments, locals,
# globals, *p, a string); 8 threads + main: all 410 hits stored; conditions (evaluated by the
# agent at the hit, a global's value too); collect expressions run by the agent, trace state
# variables too (teval over 9 threads counts exactly, as a trap tracepoint does; a condition
# on one), or (a built-in one) by tracestub over a stack window; a passcount; the patched
# bytes read as the original code.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('tp');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
my $tmp = TS::tmpdir();

sub session {
    my ($lines, @args) = @_;
    my $f = "$tmp/f" . (++$TS::seq) . '.gdb';
    open my $fh, '>', $f or die;
    print $fh "$_\n" for ('break main', 'continue', @$lines);
    close $fh;
    my $s = start_server('tracestub', launch => [$prog, @args]);
    my (undef, $raw) = run_gdb($s, prog => $prog, timeout => 60, cmds => ["source $f", 'kill']);
    stop_server($s);
    return $raw;
}

my @collect = ('actions', 'collect $regs', 'collect a, b', 'collect $locals', 'collect counter',
    'collect *p', 'collect *(unsigned char (*)[16])$rsp', 'collect message', 'end', 'break done', 'tstart', 'continue', 'tstop', 'tstatus',
    'info tracepoints', 'tfind start', 'tdump', 'tfind 9', 'tdump', 'monitor tstats');
my $fast = session(['ftrace traced', @collect], 10);
my $trap = session(['trace traced', @collect], 10);
like($fast, qr/^Fast tracepoint 2 at 0x[0-9a-f]+: file \S*tp\.c, line 19\.$/m, 'gdb: a fast tracepoint (FastTracepoints+)');
like($fast, qr/^2\s+fast tracepoint keep y .*\n\s+tracepoint already hit 10 times$/m, 'info tracepoints: hit 10 times');
like($fast, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 10, stored 10, dropped 0, bytes \d+, fast \(\d+ collect expressions in the agent\)$/m,
    'monitor tstats: placed as a pad, every hit stored, the collect expressions run by the agent');
my @df = $fast =~ /^(Data collected at tracepoint 2, trace frame \d+:\n(?:.*\n)*?message = .*)$/mg;
my @dt = $trap =~ /^(Data collected at tracepoint 2, trace frame \d+:\n(?:.*\n)*?message = .*)$/mg;
is(scalar @df, 2, 'tdump of frames 0 and 9');
is($df[0], $dt[0], 'frame 0: what a trap tracepoint collects at the same hit');
is($df[1], $dt[1], 'frame 9: the same');
like($df[1] // '', qr/^a = 9\nb = 109$/m, 'frame 9: its arguments');
# gdb 13 sends that collect as reg rsp, zero_ext 64, const 16, trace: the pad copies the 16
# bytes as a fixed range (test_agent_acts: no bytecode interpreted); the same bytes as a trap
like($df[1] // '', qr/^\*\(unsigned char \(\*\)\[16\]\)\$rsp = (?:"|\{)/m, 'frame 9: the 16 bytes at rsp');

my $mt = session(['ftrace traced', 'actions', 'collect $regs', 'collect a', 'end', 'break done',
    'tstart', 'continue', 'tstatus', 'monitor tstats'], 10, 'threads');
like($mt, qr/^Collected 410 trace frames\.$/m, '8 threads and main: 410 frames');
like($mt, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 410, stored 410, dropped 0, .*fast \(1 collect expression in the agent\)$/m, 'every hit accounted, none dropped');

# 20,000 hits in ~50 ms: the server drains the rings while the program runs (a ring holds
# ~75,000 records), so none is lost
my $many = session(['set trace-buffer-size 100000000', 'ftrace traced', 'actions', 'collect $regs',
    'end', 'break done', 'tstart', 'continue', 'tstatus', 'monitor tstats'], 20000);
like($many, qr/^Collected 20000 trace frames\.$/m, '20,000 hits: 20,000 frames');
like($many, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 20000, stored 20000, dropped 0, .*fast$/m, 'none dropped (registers only: no expression)');

# two runs in one session: the pads come out at tstop and go in again at the next tstart
my $two = session(['ftrace traced', 'actions', 'collect a', 'end', 'break tp.c:53', 'break done',
    'tstart', 'continue', 'tstop', 'tstatus', 'tstart', 'continue', 'tstop', 'tstatus',
    'monitor tstats'], 10, 'threads');
my @runs = $two =~ /^Collected (\d+) trace frames\.$/mg;
is("@runs", '10 400', 'tstart twice: main\'s 10 hits, then the threads\' 400');
like($two, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 400, stored 400, dropped 0, .*fast \(1 collect expression in the agent\)$/m, 'the second run fast too');

my $cond = session(['ftrace traced if a == 5', 'actions', 'collect a', 'end', 'break done', 'tstart',
    'continue', 'tstop', 'tstatus', 'tfind start', 'print a'], 10);
like($cond, qr/^Collected 1 trace frames\.$/m, 'a condition: one hit of ten');
like($cond, qr/^\$1 = 5$/m, 'the one with a == 5');

# A condition on memory the record does not hold (a global): the agent evaluates it at the
# hit, as the trap path does; a false hit writes nothing.
for my $kind ('ftrace', 'trace') {
    my $g = session(["$kind traced if counter == 10", 'actions', 'collect a', 'end', 'break done',
        'tstart', 'continue', 'tstop', 'tstatus', 'tfind start', 'print a', 'monitor tstats'], 10);
    like($g, qr/^Collected 1 trace frames\.$/m, "$kind: a condition reading a global: one hit of ten");
    like($g, qr/^\$1 = 5$/m, "$kind: the one where counter was 10 (a == 5)");
    like($g, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 1, stored 1, dropped 0, .*fast \(1 collect expression in the agent\)$/m,
        'monitor tstats: as a pad, one hit counted') if $kind eq 'ftrace';
}

# Trace state variables, run by the agent at the hit (its table, one lock per hit of such a
# site): teval counts every hit, exactly, over 8 threads and main as on the trap path; a
# frame holds the value its hit saw; a condition on one stops recording at the hit.
for my $kind ('ftrace', 'trace') {
    my $tsv = session(['tvariable $n = 0', "$kind traced", 'actions', 'teval $n = $n + 1',
        'collect a, $n', 'end', 'break done', 'tstart', 'continue', 'tstop', 'tstatus',
        'info tvariables', 'tfind 6', 'print $n', 'monitor tstats'], 10, 'threads');
    like($tsv, qr/^Collected 410 trace frames\.$/m, "$kind, teval in the actions: 410 frames");
    like($tsv, qr/^\$n\s+0\s+410\s*$/m, "$kind: the variable counted the 410 hits of 9 threads");
    like($tsv, qr/^\$1 = 7$/m, "$kind: frame 6 holds the value its hit made (7)");
    like($tsv, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 410, stored 410, .*fast \(3 collect expressions in the agent\)$/m,
        'monitor tstats: fast, the three expressions (teval, a, $n) run by the agent') if $kind eq 'ftrace';
}
my $tc = session(['tvariable $n = 0', 'ftrace traced if $n < 3', 'actions', 'teval $n = $n + 1',
    'collect a', 'end', 'break done', 'tstart', 'continue', 'tstop', 'tstatus', 'info tvariables',
    'monitor tstats'], 10);
like($tc, qr/^Collected 3 trace frames\.$/m, 'a condition on a trace state variable: 3 frames of 10 hits');
like($tc, qr/^\$n\s+0\s+3\s*$/m, 'and the variable stopped at 3');
like($tc, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 3, stored 3, .*fast \(2 collect expressions in the agent\)$/m,
    'monitor tstats: the condition in the agent (no record for the 7 false hits)');
# A built-in trace state variable ($trace_timestamp: tracestub's clock): the agent does not
# hold it; all of that tracepoint's expressions are evaluated by tracestub, over a stack
# window copied at the hit.
my $fl = session(['ftrace traced', 'actions', 'collect $trace_timestamp', 'end', 'break done',
    'tstart', 'continue', 'tstop', 'tstatus', 'monitor tstats'], 10);
like($fl, qr/^Collected 10 trace frames\.$/m, 'collect $trace_timestamp: 10 frames');
like($fl, qr/^tracepoint 2 at 0x[0-9a-f]+: hits 10, stored 10, .*fast \(expressions over a stack window\)$/m,
    'monitor tstats: fast, its expression left to tracestub over a window');

my $pass = session(['ftrace traced', 'passcount 3', 'actions', 'collect a', 'end', 'break done',
    'tstart', 'continue', 'tstatus'], 10);
like($pass, qr/^Trace stopped by tracepoint 2\.$/m, 'passcount 3: the trace stops there');
like($pass, qr/^Collected 3 trace frames\.$/m, 'with 3 frames');
# The agent stops at the passcount itself: the hits after it run no action (a teval counts
# 3, as on the trap path, not the program's 10 calls).
for my $kind ('ftrace', 'trace') {
    my $pt = session(['tvariable $n = 0', "$kind traced", 'passcount 3', 'actions',
        'teval $n = $n + 1', 'end', 'break done', 'tstart', 'continue', 'tstatus',
        'info tvariables'], 10);
    like($pt, qr/^Collected 3 trace frames\.$/m, "$kind, passcount 3 with teval: 3 frames");
    like($pt, qr/^\$n\s+0\s+3\s*$/m, "$kind: the actions ran for those 3 hits only");
}

# While the trace runs (stopped at done), the patched bytes read as the program's own, as an
# int3 does; and gdb itself refuses while-stepping on a fast tracepoint.
my $bytes = session(['ftrace traced', 'actions', 'collect a', 'end', 'break done', 'tstart', 'continue',
    'x/8xb (char *)traced + 24', 'tstop'], 3);
my $bytes_trap = session(['trace traced', 'actions', 'collect a', 'end', 'break done', 'tstart', 'continue',
    'x/8xb (char *)traced + 24', 'tstop'], 3);
my ($bf) = $bytes =~ /^(0x[0-9a-f]+ <traced\+24>:.*)$/m;
my ($bt) = $bytes_trap =~ /^(0x[0-9a-f]+ <traced\+24>:.*)$/m;
ok($bf && $bf eq $bt, 'the code under a pad\'s jump reads as the program\'s bytes (as under an int3)')
    or diag("fast: " . ($bf // '') . "\ntrap: " . ($bt // ''));

done_testing();
