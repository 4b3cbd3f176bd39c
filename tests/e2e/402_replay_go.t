#!/usr/bin/env perl
# tracestub replay of a Go program (issue 6): a headless trace of go_args (main.greet on the
# main goroutine, main.sum on four goroutines) served by `tracestub replay`. gdb and lldb stop
# at main.greet's entry and must print the backtrace (unwound through Go's .debug_frame),
# registers (the register ABI's arguments) and disassembly that they print against
# gdbserver / lldb-server at a breakpoint on the same address; the four main.sum hits must
# be the live ones in some order (goroutines run concurrently); reverse-continue walks every
# frame back to the start.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;
use ReplayRun;

trace_ok_or_skip();
my $go = fixture('go_args');
plan skip_all => 'Go fixtures not built (make fixtures)' if !-x $go;
my $tmp = TS::tmpdir();
my $tf = "$tmp/go.tf";

my $r = record($tf, '--stack', '4096', '-e', 'main.greet', '-e', 'main.sum', '--', $go);
like($r->{err}, qr/10 frames in \Q$tf\E/, 'ten frames: greet and 4 sums, calls and returns');
my ($nm) = TS::_run(20, 'nm', $go);
my ($greet) = $nm =~ /^0*([0-9a-f]+) T main\.greet$/m;
my ($sum) = $nm =~ /^0*([0-9a-f]+) T main\.sum$/m;
ok($greet && $sum, 'main.greet and main.sum in the symbol table');

# ---- gdb ----
my @at = gdb_marks('bt', 'info registers rip rbx rcx', 'x/3i $pc');    # rax: a heap slice in sum
my $srv = start_server('gdbserver', launch => [$go]);
my (undef, $live) = run_gdb($srv, prog => $go, timeout => 90, cmds => ["break *0x$greet",
    "break *0x$sum", map({ ('continue', @at) } 1 .. 5), 'kill']);
stop_server($srv);
my @lh = hits($live);
is(scalar @lh, 5, 'live gdb: four sums and greet');
my ($lg) = grep { /^#0 main\.greet/ } @lh;
like($lg // '', qr/^#0 main\.greet \(name=.*\n#1 0xA in main\.main \(\)/m, 'live: greet called by main.main');

# The first frame is the first sum's call: the initial stop is the first hit.
my $s = replay_server($tf);
my ($o, $raw) = run_gdb($s, timeout => 90, cmds => ["break *0x$greet", "break *0x$sum", @at,
    map({ ('continue', @at) } 1 .. 4), 'delete', 'monitor frame 9', 'continue',
    map({ 'reverse-continue' } 1 .. 10)]);
my @rh = hits($raw);
is(scalar @rh, 5, 'replay gdb: five hits');
my ($rg) = grep { /^#0 main\.greet/ } @rh;
is($rg, $lg, 'main.greet: backtrace, registers and code as live');
is_deeply([sort @rh], [sort @lh], 'main.sum: the four goroutines\' hits as live, in some order');
my @back = $raw =~ /^\[replay\] (?:start of the trace, )?trace frame (\d+) of 10/mg;
is_deeply([@back[-10 .. -1]], [8, 7, 6, 5, 4, 3, 2, 1, 0, 0], 'reverse-continue walks back to the start');
like($raw, qr/No more reverse-execution history/, 'and stops there');
stop_server($s);

# ---- lldb ----
my @per = ('bt', 'register read rip rax rbx rcx', 'disassemble -c 3 --pc');
my %per = map { $_ => 1 } @per;
sub first_stop {
    my ($out) = @_;
    my ($text, $on) = ('', 0);
    for my $b (lldb_blocks($out)) {
        $on = 1 if $b->[0] eq 'continue';
        next if !$on || !$per{ $b->[0] };
        (my $t = $b->[1]) =~ s/, stop reason = .*$//mg;
        $t =~ s/thread #\d+/thread #N/g;    # goroutines' threads appear in another order
        $text .= "($b->[0])\n$t";
    }
    return $text;
}
$srv = start_server('lldb-server', launch => [$go]);
(undef, $live) = run_lldb($srv, prog => $go, timeout => 90, cmds => [
    'process handle SIGURG -s false -n false -p true', "b -a 0x$greet", 'continue', @per,
    'process kill']);
stop_server($srv);
my $lt = first_stop($live);
like($lt, qr/frame #1: 0xA go_args`main\.main at main\.go:\d+/, 'live lldb: greet called by main.main');

$s = replay_server($tf);
($o, $raw) = run_lldb($s, prog => $go, timeout => 90, cmds => ["b -a 0x$greet", 'continue', @per]);
is(first_stop($raw), $lt, 'lldb: main.greet backtrace, registers and code as live');
like($raw, qr/stop reason = breakpoint 1\.1/, 'lldb: a breakpoint stop');
stop_server($s);
done_testing();
