#!/usr/bin/env perl
# tracestub replay with lldb (issue 6): the headless trace of replay_threads (see 400) served
# by `tracestub replay`, lldb connects with gdb-remote and walks the frames with continue; at
# each stop `frame variable`, `bt`, `register read`, `disassemble` and `memory read` must
# print what lldb printed against lldb-server on a live run at the same breakpoint (addresses
# aside). Then the end of the trace, `monitor frame N` (lldb has no tfind) and the thread
# filter, through `process plugin packet monitor`.
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
plan skip_all => 'no lldb-server for the live reference' if !grep { -x "$_/lldb-server" } split /:/, $ENV{PATH};
my $tmp = TS::tmpdir();
my $tf = "$tmp/rt.tf";
my $line = 'replay_threads.c:25';
my @per = ('frame variable', 'bt', 'register read rip rdi', 'disassemble -c 2 -s $pc',
    'memory read -s 8 -f d -c 1 &v');
my %per = map { $_ => 1 } @per;

# The output of the @per commands at each stop (a stop starts at gdb-remote or continue).
sub stops {
    my ($out) = @_;
    my @s;
    for my $b (lldb_blocks($out)) {
        my ($cmd, $text) = @$b;
        push @s, '' if $cmd =~ /^(continue|gdb-remote)/;
        next if !$per{$cmd} || !@s;
        # the caller's arguments differ where lldb prints pointers it cannot read (replay:
        # `init=(_rtld_global)`, live `init=0xA`): frames past #0 keep module`function + line
        $text =~ s/^( +frame #[1-9]\d*: 0xA \S+?`[^(\s]+)\(.*?\)( at |$)/$1$2/mg if $cmd eq 'bt';
        $text =~ s/^(\* thread #\d+, name = '[^']*'), stop reason = .*$/$1/m;    # said apart
        $s[-1] .= "($cmd)\n$text";
    }
    return @s;
}

record($tf, '--stack', '4096', '-e', $line, '--', $fix);

my $live_srv = start_server('lldb-server', launch => [$fix]);
my (undef, $live_raw) = run_lldb($live_srv, prog => $fix, timeout => 90,
    cmds => ["b $line", map({ ('continue', @per) } 1 .. 7), 'process kill']);
stop_server($live_srv);
my @live = stops($live_raw);
shift @live;    # the launch stop, before the breakpoint
is(scalar @live, 7, 'live: seven hits');
like($live[1] // '', qr/step\(id=0, i=0, tag="alpha"\)/, 'live: worker 0 second');
like($live[1] // '', qr/frame #2: 0xA libc\.so\.6`start_thread at pthread_create\.c/,
    'live: backtraces go into libc');
like($live[6] // '', qr/^0xA: 64$/m, 'live: v of the last hit');

my $s = replay_server($tf);
my ($o, $raw) = run_lldb($s, prog => $fix, timeout => 90, cmds => ["b $line", @per,
    map({ ('continue', @per) } 1 .. 6), 'continue', 'thread list',
    'process plugin packet monitor frame 3', 'continue', @per]);
my @rep = stops($raw);
is(scalar @rep, 9, 'replay: 7 frames, the end, frame 3 again');
for my $i (0 .. 6) {
    is($rep[$i], $live[$i], "frame $i: lldb prints what it printed at the live hit $i");
}
like($raw, qr/stop reason = trace frame 0 of 7, tracepoint \d+/, 'the first stop says where the replay is');
like($raw, qr/\* thread #\d+, name = 'replay_threads', stop reason = end of the trace, (?:1 instruction on from )?trace frame 6 of 7/,
    'continue off the end: the end of the trace');
my ($tl) = $raw =~ /^\(lldb\) thread list\n(.*?)^\(lldb\)/ms;
my @threads = ($tl // '') =~ /^[* ] thread #\d+: tid = \d+/mg;
is(scalar @threads, 4, 'thread list: four threads by the end');
is($rep[8], $live[3], 'monitor frame 3 + continue: frame 3 again');
stop_server($s);

# ---- no breakpoint: continue visits every frame; a thread filter ----
$s = replay_server($tf);
($o, $raw) = run_lldb($s, prog => $fix, timeout => 90, cmds => ['continue', 'continue',
    'process plugin packet monitor frames', 'continue', 'frame variable id i']);
my @reasons = $raw =~ /stop reason = (trace frame \d+) of 7/g;
is_deeply(\@reasons, ['trace frame 0', 'trace frame 1', 'trace frame 2', 'trace frame 3'],
    'without breakpoints every frame is a stop');
like($raw, qr/\(int\) id = 1\n\(int\) i = 0/, 'frame 3: worker 1, step 0');
my ($main_tid) = $raw =~ /^\s+\*?\s+0  tracepoint \d+ +thread (\d+)/m;
stop_server($s);
$s = replay_server($tf);
($o, $raw) = run_lldb($s, prog => $fix, timeout => 90, cmds => [
    'process plugin packet monitor thread ' . ($main_tid // 0), 'continue']);
like($raw, qr/continue stops only in thread \Q$main_tid\E/, 'monitor thread: the filter is set');
like($raw, qr/stop reason = end of the trace/, 'the main thread has no other frame: the end');
stop_server($s);
done_testing();
