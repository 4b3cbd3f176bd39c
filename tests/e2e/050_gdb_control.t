#!/usr/bin/env perl
# gdb against each server, process control: Ctrl-C during continue, detach (program keeps
# running), kill, attach (server --attach and extended-remote `attach`), extended-remote
# `run` twice with exit codes. Synchronisation with `spin` is through FIFOs, never sleeps.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $spin  = fixture('spin');
my $basic = fixture('basic');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $spin || !-x $basic;

my %TODO_TS = ();
our $TODO;
my $n = 0;

my ($want3) = untraced($basic, 3);
my ($want4) = untraced($basic, 4);

sub alive { my $pid = shift; return -e "/proc/$pid" && TS::slurp("/proc/$pid/stat") !~ /^\d+ \(.*\) Z/ }

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    # Ctrl-C: continue, wait for "ready" from the running program, SIGINT the gdb process.
    # One progress report first, so the loop has ticked before the interrupt.
    my $ready = make_fifo('ready' . ++$n);
    my $tick1 = make_fifo('tick' . $n);
    my $s = start_server($srv, launch => [$spin, $ready, $tick1]);
    my $g = spawn_gdb($s, prog => $spin, cmds => ['continue', 'print ticks > 0', 'kill']);
    my $line = read_fifo_line($ready, 10, $s);
    like($line // '', qr/^\d+ ready$/, $T->('spin running under gdb'));
    like(read_fifo_line($tick1, 10, $s) // '', qr/^\d+$/, $T->('spin ticking under gdb'));
    my ($pid) = ($line // '') =~ /^(\d+)/;
    kill 'INT', $g->{pid};
    my $o = norm(finish_child($g, 30));
    like($o, qr/^Program received signal SIGINT, Interrupt\.$/m, $T->('Ctrl-C stops with SIGINT'));
    like($o, qr/^\$1 = 1$/m, $T->('program state readable after Ctrl-C'));
    like($o, qr/^\[Inferior 1 \(process PID\) killed\]$/m, $T->('kill after Ctrl-C'));
    wait_server($s, 10);
    stop_server($s);
    ok($pid && !alive($pid), $T->('killed program is gone'));

    # Detach: the program keeps running (it writes to the progress FIFO afterwards).
    $ready = make_fifo('ready' . ++$n);
    my $prog = make_fifo('progress' . $n);
    $s = start_server($srv, launch => [$spin, $ready, $prog]);
    $g = spawn_gdb($s, prog => $spin, cmds => ['break spin_tick', 'continue', 'bt 2', 'detach']);
    $line = read_fifo_line($ready, 10, $s);
    ($pid) = ($line // '') =~ /^(\d+)/;
    $o = norm(finish_child($g, 30));
    like($o, qr/^Breakpoint 1, spin_tick \(\) at tests\/fixtures\/spin.c:\d+$/m, $T->('breakpoint before detach'));
    like($o, qr/^#1  0xADDR in main \(argc=3, argv=0xADDR\) at tests\/fixtures\/spin.c:\d+$/m, $T->('bt before detach'));
    like($o, qr/^\[Inferior 1 \(process PID\) detached\]$/m, $T->('detached'));
    my $tick = read_fifo_line($prog, 10, $s);
    like($tick // '', qr/^\d+$/, $T->('program keeps running after detach (breakpoint removed)'));
    ok($pid && alive($pid), $T->('program alive after detach'));
    kill 'KILL', $pid if $pid;
    wait_server($s, 10);
    stop_server($s);

    # kill: program and server go away, no exit status printed by the program.
    $s = start_server($srv, launch => [$basic, 3]);
    ($o) = run_gdb($s, prog => $basic, cmds => ['break add_ints', 'continue', 'kill', 'info inferiors']);
    like($o, qr/^\[Inferior 1 \(process PID\) killed\]$/m, $T->('kill'));
    ok(defined wait_server($s, 10), $T->('server exits after kill'));
    stop_server($s);
    is(TS::slurp($s->{out}), '', $T->('killed program printed nothing (stopped before output)'));

    # Attach with the server's --attach, then detach; the program survives.
    $ready = make_fifo('ready' . ++$n);
    $prog  = make_fifo('progress' . $n);
    my $kid = fork // die;
    if (!$kid) { exec($spin, $ready, $prog) or POSIX::_exit(127) }
    $line = read_fifo_line($ready, 10, $s);
    ($pid) = ($line // '') =~ /^(\d+)/;
    # One progress report first: the attach then finds the loop running (ticks > 0).
    like(read_fifo_line($prog, 10, $s) // '', qr/^\d+$/, $T->('attach: program ticking before attach'));
    $s = start_server($srv, attach => $kid);
    ($o) = run_gdb($s, prog => $spin, cmds => ['bt', 'print ticks > 0', 'detach']);
    like($o, qr/^#\d+  (0xADDR in )?main \(argc=3, argv=0xADDR\) at tests\/fixtures\/spin.c:\d+$/m,
        $T->('attach: bt reaches main'));
    like($o, qr/^\$1 = 1$/m, $T->('attach: read memory'));
    like($o, qr/^\[Inferior 1 \(process PID\) detached\]$/m, $T->('attach: detach'));
    like(read_fifo_line($prog, 10, $s) // '', qr/^\d+$/, $T->('attach: program runs after detach'));
    wait_server($s, 10);
    stop_server($s);

    # extended-remote `attach PID` to the same process.
    $s = start_server($srv, multi => 1);
    ($o) = run_gdb($s, prog => $spin, extended => 1,
        cmds => ["attach $kid", 'print ticks > 0', 'detach']);
    like($o, qr/^0xADDR in \w+ \(.*\) at /m, $T->(q{extended attach PID: stopped, frame shown}));
    like($o, qr/^\$1 = 1$/m, $T->('extended attach: read memory'));
    like($o, qr/^\[Inferior 1 \(process PID\) detached\]$/m, $T->('extended attach: detach'));
    like(read_fifo_line($prog, 10, $s) // '', qr/^\d+$/, $T->('extended attach: program runs after detach'));
    stop_server($s);
    kill 'KILL', $kid;
    waitpid $kid, 0;

    # extended-remote: run twice with different exit codes, then run to a breakpoint and kill.
    $s = start_server($srv, multi => 1);
    ($o) = run_gdb($s, prog => $basic, extended => 1,
        cmds => ["set remote exec-file $basic", 'set args 3', 'run', 'set args 4', 'run',
            'break factorial', 'run', 'print n', 'kill']);
    like($o, qr/^\[Inferior 1 \(process PID\) exited with code 03\]\n(.*\n)*\[Inferior 1 \(process PID\) exited with code 04\]$/m,
        $T->('extended: run twice, exit codes 03 then 04'));
    like($o, qr/^Breakpoint 1, factorial \(n=5\) at tests\/fixtures\/basic.c:\d+\n(.*\n)*\$1 = 5$/m, $T->('extended: third run stops at breakpoint'));
    like($o, qr/^\[Inferior 1 \(process PID\) killed\]$/m, $T->('extended: kill'));
    stop_server($s);
    like(TS::slurp($s->{out}), qr/\A\Q$want3$want4\E/, $T->('extended: outputs of both runs identical to untraced'));
}
done_testing();
