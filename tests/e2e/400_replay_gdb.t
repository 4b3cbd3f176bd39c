#!/usr/bin/env perl
# tracestub replay with gdb (issue 6): a headless trace of a PIE C program with threads
# (replay_threads: main, then three workers in turn, each hit at replay_threads.c:25) served
# by `tracestub replay`; gdb walks every frame forward with continue and back with
# reverse-continue, and at each stop prints a backtrace, the arguments, a local, rip and the
# disassembly, which must match what gdb printed against gdbserver on a live run at the same
# breakpoint (addresses aside: the PIE is at its link addresses in replay). Also: the ends of
# the history (replaylog), tfind on the replay, stepi over a breakpoint, continue without
# breakpoints visiting every frame, threads appearing as they first hit, and the monitor
# commands.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;
use ReplayRun;

trace_ok_or_skip();
my $fix = fixture('replay_threads');
plan skip_all => "$fix not built (make fixtures)" if !-x $fix;
my $tmp = TS::tmpdir();
my $tf = "$tmp/rt.tf";
my $line = 'replay_threads.c:25';
my @at = gdb_marks('bt', 'info args', 'print v', 'info registers rip', 'x/2i $pc');

my $r = record($tf, '--stack', '4096', '-e', $line, '--', $fix);
like($r->{err}, qr/7 frames in \Q$tf\E/, 'seven frames recorded');

# ---- the live reference: gdb + gdbserver, breakpoint at the same line ----
my $live_srv = start_server(-x '/usr/bin/gdbserver' ? 'gdbserver' : 'tracestub',
    launch => [$fix]);
my (undef, $live_raw) = run_gdb($live_srv, prog => $fix, timeout => 60,
    cmds => ["break $line", map({ ('continue', @at) } 1 .. 7), 'kill']);
stop_server($live_srv);
my @live = hits($live_raw);
is(scalar @live, 7, 'live: seven hits');
like($live[0] // '', qr/^#0 step \(id=7, i=0, tag=0xA "main"\) at \S+replay_threads\.c:25\n#1 0xA in main \(\)/m,
    'live: the main thread first');
like($live[1] // '', qr/^#0 step \(id=0, i=0, tag=0xA "alpha"\).*\n#1 0xA in worker \(arg=0xA\).*\n#2 0xA in start_thread/m,
    'live: then worker 0, its backtrace into libc');
like($live[6] // '', qr/^\$N = 64$/m, 'live: the last hit, worker 2 step 1: v = 64');

# ---- the replay: forward over every frame, then back ----
my $s = replay_server($tf);
like($s->{err}, qr/Replaying 7 frames of process \d+ \(4 threads\)/, 'replay: 7 frames, 4 threads');
my ($o, $raw) = run_gdb($s, timeout => 60, cmds => ["break $line", @at,
    map({ ('continue', @at) } 1 .. 6), 'info threads', 'continue', 'info registers rip',
    map({ ('reverse-continue', @at) } 1 .. 7), 'reverse-continue', 'info threads']);
my @rep = hits($raw);
is(scalar @rep, 14, 'replay: 7 stops forward, 7 back');
for my $i (0 .. 6) {
    is($rep[$i], $live[$i], "forward: frame $i prints what the live hit $i printed");
}
# gdb stepped over the breakpoint before continuing off the end: the first reverse-continue
# comes back to the last frame's breakpoint hit, as with rr.
like($raw, qr/^rip\s+0x120e\s+0x120e <step\+58>$/m, 'off the end: one instruction past the last hit');
for my $i (0 .. 6) {
    is($rep[7 + $i], $live[6 - $i], 'back: frame ' . (6 - $i) . ' again');
}
like($raw, qr/Reading symbols from \S+replay_threads\.\.\./, 'gdb found the executable by itself (qXfer:exec-file)');
like($raw, qr/Thread 2 "replay_threads" hit Breakpoint \d+, step \(id=0, i=1, tag=0x2004 "alpha"\)/,
    'a stop is a breakpoint hit of the thread that hit the frame, at link addresses');
my @ends = $raw =~ /^No more reverse-execution history\.$/mg;
is(scalar @ends, 2, 'both ends of the history: replaylog end and begin');
like($raw, qr/\[replay\] end of the trace, (?:1 instruction on from )?trace frame 6 of 7/, 'the end says so');
like($raw, qr/\[replay\] start of the trace, trace frame 0 of 7/, 'so does the start');
my @tables = $raw =~ /^  Id   Target Id[^\n]*\n((?:[* ] +\d+ +Thread[^\n]*\n)*)/mg;
my @rows0 = ($tables[0] // '') =~ /^[* ] +\d+ +Thread/mg;
my @rows1 = ($tables[1] // '') =~ /^[* ] +\d+ +Thread/mg;
is(scalar @rows0, 4, 'at the last frame, four threads have appeared');
is(scalar @rows1, 1, 'back at the first frame, only the main thread');
stop_server($s);

# ---- tfind on the replay, stepi over a breakpoint, continue without breakpoints ----
$s = replay_server($tf);
($o, $raw) = run_gdb($s, timeout => 60, cmds => ['tstatus', 'tfind 3', gdb_marks('bt', 'info args', 'print v',
    'info registers rip', 'x/2i $pc'), 'tfind none', "break $line", 'stepi', 'info registers rip',
    'print $rsp', 'reverse-stepi', 'info registers rip', 'delete', map({ 'continue' } 1 .. 7)]);
like($raw, qr/^Collected 7 trace frames\.$/m, 'tstatus: the file\'s status');
like($raw, qr/^Found trace frame 3, tracepoint \d+$/m, 'tfind 3');
my ($t3) = hits($raw);
is($t3, $live[3], 'tfind 3 prints what the live hit 3 printed');
like($raw, qr/^rip\s+0x120e\s+0x120e <step\+58>$/m, 'stepi at the breakpoint: one instruction on');
like($raw, qr/^\$\d+ = <unavailable>$/m, 'then rsp is unknown, not zero');
like($raw, qr/^rip\s+0x1207\s+0x1207 <step\+51>$/m, 'reverse-stepi: back at the frame');
my @sigs = $raw =~ /received signal SIGTRAP/g;
is(scalar @sigs, 6, 'no breakpoints: continue stops at each of the other 6 frames');
like($raw, qr/No more reverse-execution history\.\n.*step \(id=2, i=1/s, 'then the end');
stop_server($s);

# ---- monitor commands (what lldb uses instead of tfind) ----
$s = replay_server($tf);
($o, $raw) = run_gdb($s, timeout => 60, cmds => ['monitor help', 'monitor frames', 'monitor frame 4',
    'continue', 'print id', 'print i', 'monitor tp 99', 'continue', 'monitor tp all', 'monitor info']);
like($raw, qr/^  frame N - the next continue \(or reverse-continue\) goes to frame N$/m, 'monitor help lists the replay commands');
my @listed = $raw =~ /^[* ] +(\d+)  tracepoint \d+ +thread (\d+)/mg;
my %tids = @listed;
is_deeply([sort keys %tids], [0 .. 6], 'monitor frames: 7 frames listed');
is(scalar(keys %{ { map { $_ => 1 } values %tids } }), 4, 'monitor frames: 4 threads');
like($raw, qr/\$1 = 1\n\$2 = 1\n/, 'monitor frame 4 + continue: worker 1, step 1');
like($raw, qr/continue stops only at tracepoint 99.*end of the trace/s,
    'monitor tp: a filter nothing matches runs to the end');
like($raw, qr/^\*      6  tracepoint/m, 'monitor info: at the last frame');
stop_server($s);

# ---- the thread filter ----
my $t2 = $tids{2};    # frame 2's thread: worker 0
$s = replay_server($tf);
($o, $raw) = run_gdb($s, timeout => 60, cmds => ["monitor thread $t2", 'continue', 'print id',
    'continue', 'print id', 'continue', 'print i']);
like($raw, qr/\$1 = 0\n.*\$2 = 0\n/s, "monitor thread $t2: only worker 0's frames");
like($raw, qr/No more reverse-execution history/, 'and after its two frames, the end');
stop_server($s);
done_testing();
