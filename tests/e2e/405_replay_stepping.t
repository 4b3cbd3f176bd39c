#!/usr/bin/env perl
# Post-mortem stepping (issue 17): shop (a threaded PIE program that dlopens libdisc.so) is
# recorded headless with probes at the entries and returns of price and discount only; the
# replay runs on from those frames with the emulator, so gdb's `break discount` (after the
# prologue, where no frame is) stops in discount with its arguments, `next` walks its lines,
# `finish` shows the value returned, `bt` reaches main at entry and return frames, and
# reverse-continue goes back. gdb against gdbserver on a live run of the same program gives
# the reference; lldb does the same session from the recording.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;
use ReplayRun;
use RSP;

trace_ok_or_skip();
my $fix = fixture('shop');
my $lib = fixture('libdisc.so');
plan skip_all => "$fix not built (make fixtures)" if !-x $fix || !-e $lib;
my $tmp = TS::tmpdir();
my $tf = "$tmp/shop.tf";

my $r = record($tf, '--stack', '512', '-e', 'price', '-e', 'discount', '--', $fix, $lib);
like($r->{err}, qr/12 frames in \Q$tf\E/, 'twelve frames: entry and return of 3 prices, 3 discounts');

# What the session prints at each step, in both runs: the stop line, the source line, ...
my @session = ('break discount', 'continue', gdb_marks('bt'), 'next', 'next', 'next',
    gdb_marks('info locals'), 'finish', gdb_marks('bt'), 'continue', gdb_marks('info args'));

# ---- the live reference: gdb + gdbserver ----
my $live_srv = start_server(-x '/usr/bin/gdbserver' ? 'gdbserver' : 'tracestub',
    launch => [$fix, $lib]);
my (undef, $live) = run_gdb($live_srv, prog => $fix, timeout => 60,
    pre => ['set breakpoint pending on'], cmds => [@session, 'kill']);
stop_server($live_srv);
like($live, qr/Breakpoint 1, discount \(pct=15, code=0x[0-9a-f]+ "WINTER"\)/, 'live: the breakpoint');
my @lh = hits($live);
is(scalar @lh, 4, 'live: four marked outputs');

# ---- the replay ----
my $s = replay_server($tf);
my ($o, $raw) = run_gdb($s, timeout => 60, cmds => [@session, 'reverse-continue',
    gdb_marks('info args'), 'stepi', 'info registers rip', 'reverse-stepi', 'info registers rip',
    'monitor why', 'reverse-continue', 'reverse-continue', 'monitor why']);
stop_server($s);
like($raw, qr/^Breakpoint \d+, discount \(pct=15, code=0x[0-9a-f]+ "WINTER"\) at \S*libdisc\.c:4$/m,
    'break discount + continue: in discount after its prologue, with its arguments');
my @rh = hits($raw);
is($rh[0], $lh[0], 'bt in discount: the live backtrace (discount, price, main)');
like($rh[0] // '', qr/^#2 0xA in main \(argc=2, argv=0xA\)/m, 'bt reaches main');
# the three `next`s and the finish print the same lines as live
my @live_lines = (($live =~ /^Breakpoint \d+, discount[^\n]*\n(.*)/ms)[0] // '') =~ /^(\d+\t.*)$/mg;
my @rep_lines = (($raw =~ /^Breakpoint \d+, discount[^\n]*\n(.*)/ms)[0] // '') =~ /^(\d+\t.*)$/mg;
is(scalar(@live_lines) >= 5 && $live_lines[4], "30\t\tint off = discount(it->pct, it->code);",
    'live: line 4, next to 5, 7, 8, finish to 30');
is_deeply([@rep_lines[0 .. 4]], [@live_lines[0 .. 4]],
    'the breakpoint line 4, next to 5, 7, 8, finish to 30: as live') or diag(join "\n", @rep_lines);
is($rh[1], $lh[1], 'info locals after the nexts: base = 150, bonus = 0, as live');
like($rh[1] // '', qr/^base = 150\nbonus = 0$/m, 'the locals the emulated code wrote');
like($raw, qr/^Value returned is \$\d+ = 156$/m, 'finish: Value returned is 156');
is($rh[2], $lh[2], 'bt after finish: price, main, as live');
like($raw, qr/Thread 2 "shop" hit Breakpoint \d+, discount \(pct=10, code=0x[0-9a-f]+ "SPRING"\)/,
    'continue: the next thread in discount');
is($rh[3], $lh[3], 'its arguments, as live');
like($rh[4] // '', qr/^pct = 15\ncode = 0xA "WINTER"$/m, 'reverse-continue: back in the first discount');
my @rips = $raw =~ /^rip\s+(0x[0-9a-f]+) +0x[0-9a-f]+ <discount\+(\d+)>$/mg;
is_deeply([@rips[1, 3]], [14, 11], 'stepi: one instruction on (discount+14), reverse-stepi: back at +11');
like($raw, qr/^thread \d+: 4 instructions run on from trace frame 1, pc 0x[0-9a-f]+\nits next instruction runs/m,
    'monitor why at the breakpoint: 4 instructions on from the entry frame, the next runs');
like($raw, qr/^No more reverse-execution history\.$/m, 'reverse-continue twice: the start of the trace');
like($raw, qr/^thread \d+: at trace frame 0\n/m, 'monitor why at the first frame');

# ---- a file:line a few lines in, reverse-next, a return frame ----
$s = replay_server($tf);
(undef, $raw) = run_gdb($s, timeout => 60, cmds => ['break libdisc.c:9', 'continue',
    'p base + bonus', 'reverse-next', 'reverse-next', 'p bonus', 'delete', 'monitor frame 2',
    'continue', gdb_marks('bt'), 'reverse-stepi', 'info registers rip']);
stop_server($s);
like($raw, qr/^Breakpoint \d+, discount \(pct=15, code=0x[0-9a-f]+ "WINTER"\) at \S*libdisc\.c:9\n9\t\treturn base \+ bonus;$/m,
    'break libdisc.c:9 + continue: five lines into discount');
like($raw, qr/^\$1 = 156$/m, 'p base + bonus there: 156');
like($raw, qr/^8\t\t\tbonus = 6;\n(?:.*\n)*?7\t\tif \(code\[0\] == 'W'\)\n\$2 = 0$/m,
    'reverse-next twice: lines 8 then 7, where bonus is still 0');
my ($bt_ret) = hits($raw);
like($bt_ret // '', qr/^#0 0xA in discount \(pct=15, code=0xA "WINTER"\) at \S+:10\n#1 0xA in price \(it=0xA <items>\) at \S+:30\n#2 0xA in main \(argc=2, argv=0xA\)/m,
    'bt at discount\'s return frame reaches main');
like($raw, qr/^rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <discount\+59>$/m,
    'reverse-stepi from the return frame: the instruction before it (pop %rbp), emulated');

# ---- lldb, from the recording alone ----
$s = replay_server($tf);
my (undef, $lraw) = run_lldb($s, prog => $fix, timeout => 90, cmds => ['b discount', 'continue',
    'frame variable', 'bt', 'next', 'next', 'next', 'frame variable base', 'finish', 'bt']);
stop_server($s);
like($lraw, qr/stop reason = breakpoint 1\.1\n +frame #0: 0x[0-9a-f]+ libdisc\.so`discount\(pct=15, code="WINTER"\) at libdisc\.c:4/,
    'lldb: b discount + continue stops in discount');
like($lraw, qr/^\(int\) pct = 15\n\(const char \*\) code = 0x[0-9a-f]+ "WINTER"$/m, 'lldb: frame variable');
like($lraw, qr/frame #2: 0x[0-9a-f]+ shop`main\(argc=2, argv=0x[0-9a-f]+\) at shop\.c:\d+/, 'lldb: bt reaches shop`main');
like($lraw, qr/^\(int\) base = 150$/m, 'lldb: next over three lines, base computed');
like($lraw, qr/^Return value: \(int\) \$\d+ = 156$/m, 'lldb: finish shows the return value');
like($lraw, qr/stop reason = step out(?:\n.*)*\n +frame #0: 0x[0-9a-f]+ shop`price\(it=0x[0-9a-f]+\) at shop\.c:30/,
    'lldb: finish lands in price');

# lldb 14 reads memory a 512-byte cache line at a time and overruns its own buffer when a
# line comes back short (fixed in LLVM 17): a recorded window ends anywhere in a line, so an x
# read is whole or an error (as lldb-server 14), where m answers the bytes there are (as
# gdbserver). The window: 512 bytes from the first frame's rsp.
$s = replay_server($tf);
my $c = RSP->connect($s->{port});
my $rsp = unpack('Q<', pack('H*', $c->ask('p7') // ''));
my $end = sprintf('%x', $rsp + 512 - 8);
my $m8 = $c->ask("m$end,8") // '';
like($m8, qr/^[0-9a-f]{16}$/, 'm of the last 8 recorded bytes');
is($c->ask("m$end,10"), $m8, 'm across the end of the recorded window: those 8 bytes, short');
is($c->ask("x$end,10"), 'E05', 'x across the end of the window: an error, not a short line');
my $x8 = $c->ask("x$end,8") // '';
$x8 =~ s/\}(.)/chr(ord($1) ^ 0x20)/gse;    # the binary reply's escapes
is(unpack('H*', $x8), $m8, 'x of the 8 bytes inside it: the bytes m gives');
$c->close;
stop_server($s);

done_testing();
