#!/usr/bin/env perl
# Post-mortem stepping in a Go program (issue 17): go_args recorded headless with probes at
# the entries and returns of main.greet and main.sum. gdb's `break main.greet` sits after the
# goroutine stack check (`cmp 0x10(%r14),%rsp`), where no frame is: the recording keeps the
# goroutine's stack bound (g.stackguard0) at a Go entry so the emulator can run the check,
# and continue stops there with the arguments; `next` walks lines 19 and 22, `finish` returns
# to main.main with the result's length in rbx (gdb shows no Go "Value returned", live
# either); reverse-continue comes back. gdb against gdbserver on a live run is the reference;
# then lldb (frames, lines, registers: it has no Go variables) against lldb-server.
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
plan skip_all => 'no gdbserver for the live reference' if !-x '/usr/bin/gdbserver';
my $tmp = TS::tmpdir();
my $tf = "$tmp/go.tf";

record($tf, '--stack', '4096', '-e', 'main.greet', '-e', 'main.sum', '--', $go);
my @session = ('break main.greet', 'continue', gdb_marks('info args', 'bt'), 'next', 'next',
    'finish', gdb_marks('p $rbx', 'bt'));

my $srv = start_server('gdbserver', launch => [$go]);
my (undef, $live) = run_gdb($srv, prog => $go, timeout => 90, cmds => [@session, 'kill']);
stop_server($srv);
my @lh = hits($live);
is(scalar @lh, 2, 'live: two marked outputs');
like($lh[0] // '', qr/^name = 0xA "gopher"\nn = 1$/m, 'live: greet("gopher", 1)');

my $s = replay_server($tf);
my ($o, $raw) = run_gdb($s, timeout => 90, cmds => [@session, 'reverse-continue',
    gdb_marks('info args'), 'monitor why']);
stop_server($s);
like($raw, qr/^(?:Thread \d+ "go_args" hit )?Breakpoint \d+, main\.greet \(name=\.\.\., n=1, .*\) at \S+main\.go:18$/m,
    'break main.greet + continue: past the stack check, in greet');
my @rh = hits($raw);
is($rh[0], $lh[0], 'info args and bt in greet: as live');
my @live_lines = (($live =~ /^(?:Thread \d+ "go_args" hit )?Breakpoint \d+, main\.greet[^\n]*\n(.*)/ms)[0] // '') =~ /^(\d+\t.*)$/mg;
my @rep_lines = (($raw =~ /^(?:Thread \d+ "go_args" hit )?Breakpoint \d+, main\.greet[^\n]*\n(.*)/ms)[0] // '') =~ /^(\d+\t.*)$/mg;
is(scalar(@live_lines) >= 4 && $live_lines[1], "19\t\tif n < 0 {", 'live: next goes to line 19');
is_deeply([@rep_lines[0 .. 3]], [@live_lines[0 .. 3]], 'next, next, finish: lines 18, 19, 22, 87 as live')
    or diag(join "\n", @rep_lines);
is($rh[1], $lh[1], 'after finish: rbx (the string\'s length, 14) and bt as live');
like($rh[1] // '', qr/^\$N = 14$/m, 'the result "hello gopher 1" is 14 bytes');
like($rh[2] // '', qr/^name = 0xA "gopher"\nn = 1$/m, 'reverse-continue: back at the breakpoint in greet');
like($raw, qr/^thread \d+: \d+ instructions run on from trace frame 8, pc 0x48/m, 'monitor why: where the emulator is');

# ---- lldb: the same from the recording, against lldb-server live (lldb has no Go
# variables: frames, lines and registers) ----
SKIP: {
    skip 'no lldb-server for the live reference', 6 if !grep { -x "$_/lldb-server" } split /:/, $ENV{PATH};
    my @lcmds = ('process handle SIGURG -p true -s false -n false', 'b main.greet', 'continue', 'bt', 'next', 'next', 'finish', 'register read rbx');
    my $ls = start_server('lldb-server', launch => [$go]);
    my (undef, $llive) = run_lldb($ls, prog => $go, timeout => 90, cmds => [@lcmds, 'process kill']);
    stop_server($ls);
    $s = replay_server($tf);
    my (undef, $lrep) = run_lldb($s, prog => $go, timeout => 90, cmds => \@lcmds);
    stop_server($s);
    my %lb = map { $_->[0] => $_->[1] } grep { $_->[0] ne 'continue' } lldb_blocks($lrep);
    my %ll = map { $_->[0] => $_->[1] } grep { $_->[0] ne 'continue' } lldb_blocks($llive);
    like($lrep, qr/stop reason = breakpoint 1\.1\n +frame #0: 0x[0-9a-f]+ go_args`main\.greet at main\.go:19/,
        'lldb: b main.greet + continue stops past the stack check');
    my ($bt_r) = ($lb{bt} // '') =~ /((?:^ +\*? *frame #\d+:.*\n)+)/m;
    my ($bt_l) = ($ll{bt} // '') =~ /((?:^ +\*? *frame #\d+:.*\n)+)/m;
    ok($bt_r && $bt_r eq $bt_l, 'lldb: bt as live (main.greet, main.main, runtime.main, goexit)')
        or diag("replay:\n" . ($bt_r // '') . "live:\n" . ($bt_l // ''));
    like($lrep, qr/stop reason = step over\n +frame #0: 0x[0-9a-f]+ go_args`main\.greet at main\.go:22/,
        'lldb: next, next: line 22');
    like($lrep, qr/stop reason = step out\n +frame #0: 0x[0-9a-f]+ go_args`main\.main at main\.go:87/,
        'lldb: finish: back in main.main');
    like($lrep, qr/^ +rbx = 0x0+e$/m, 'lldb: the result\'s length in rbx, 14');
    is($lb{'register read rbx'}, $ll{'register read rbx'}, 'lldb: as live');
}

done_testing();
