#!/usr/bin/env perl
# gdb against each server in extended mode: the launch settings gdb sends before vRun
# (QEnvironmentHexEncoded/Unset/Reset, QSetWorkingDir, QDisableRandomization, args), R
# (restart with the same arguments, used by gdb without vRun), and qAttached deciding what
# gdb does at exit: an attached process is detached and runs on, a launched one is killed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use TS;

my ($envcwd, $basic, $spin) = map { fixture($_) } qw(envcwd basic spin);
plan skip_all => 'fixtures not built (make fixtures)' if grep { !-x $_ } $envcwd, $basic, $spin;
$envcwd = abs_path($envcwd);

my %TODO_TS = ();
our $TODO;
my $n = 0;
my $dir = TS::tmpdir() . '/cwd';
mkdir $dir;
my $aslr = (TS::slurp('/proc/sys/kernel/randomize_va_space') // '') !~ /^0/;
my ($want3) = untraced($basic, 3);

sub alive { my $pid = shift; return -e "/proc/$pid" && TS::slurp("/proc/$pid/stat") !~ /^\d+ \(.*\) Z/ }

$ENV{TS_UNSET} = 'present';    # in the servers' environment, for `unset environment`
my %out;
for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    # Environment, working directory, arguments, randomisation; then everything reset.
    my $s = start_server($srv, multi => 1);
    my ($o) = run_gdb($s, prog => $envcwd, extended => 1,
        cmds => ["set remote exec-file $envcwd", 'set environment TS_SET=hello',
            'unset environment TS_UNSET', "set cwd $dir", 'set args x y', 'run',
            'set disable-randomization off', 'unset environment', 'set cwd', 'set args', 'run']);
    my @runs = $o =~ /^\[Inferior 1 \(process PID\) exited normally\]$/mg;
    is(scalar @runs, 2, $T->('two runs'));
    stop_server($s);
    my $t = TS::slurp($s->{out});
    my ($first, $second) = split /(?<=aslr=o[nf]f?\n)/, $t, 2;
    $second //= '';
    is($first, "arg1=x\narg2=y\ncwd=$dir\nTS_SET=hello\nTS_UNSET=(unset)\nTS_WRAPPED=(unset)\naslr=off\n",
        $T->('run 1: args, QSetWorkingDir, QEnvironmentHexEncoded/Unset, QDisableRandomization:1'));
    like($second, qr/\Acwd=\S+\nTS_SET=\(unset\)\nTS_UNSET=present\nTS_WRAPPED=\(unset\)\naslr=o/,
        $T->('run 2: no args, QEnvironmentReset back to the server environment'));
  SKIP: {
        skip 'address space randomisation is off on this machine', 1 if !$aslr;
        like($second, qr/^aslr=on$/m, $T->('run 2: QDisableRandomization:0'));
    }
    $out{$srv} = $t;

    # R: with vRun off in gdb, `run` restarts the server's program with its arguments.
    $s = start_server($srv, multi => 1, launch => [$basic, 3]);
    ($o) = run_gdb($s, prog => $basic, extended => 1,
        cmds => ['set remote run-packet off', 'break factorial', 'continue', 'run', 'print n',
            'delete', 'continue']);
    my @hit = $o =~ /^Breakpoint 1, factorial \(n=5\)/mg;
    is(scalar @hit, 2, $T->('R: breakpoint hit before and after the restart'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited with code 03\]$/m, $T->('R: restarted with its argument (exit 03)'));
    stop_server($s);
    like(TS::slurp($s->{out}), qr/\Q$want3\E\z/, $T->('R: output of the restarted run identical to untraced'));

    # qAttached: gdb quits without detach or kill.
    my $ready = make_fifo('ready' . ++$n);
    my $prog = make_fifo('progress' . $n);
    my $kid = fork // die;
    if (!$kid) { exec($spin, $ready, $prog) or POSIX::_exit(127) }
    read_fifo_line($ready, 10);
    read_fifo_line($prog, 10);    # the loop runs (ticks > 0) before the attach
    $s = start_server($srv, attach => $kid);
    ($o) = run_gdb($s, prog => $spin, cmds => ['print ticks > 0']);
    like($o, qr/^\$1 = 1$/m, $T->('qAttached: attached'));
    like(read_fifo_line($prog, 10, $s) // '', qr/^\d+$/, $T->('qAttached=1: gdb detached at exit, program runs'));
    wait_server($s, 10);
    stop_server($s);
    kill 'KILL', $kid;
    waitpid $kid, 0;

    $ready = make_fifo('ready' . ++$n);
    $s = start_server($srv, launch => [$spin, $ready]);
    my $g = spawn_gdb($s, prog => $spin, cmds => ['break spin_tick', 'continue']);
    my ($pid) = (read_fifo_line($ready, 10, $s) // '') =~ /^(\d+)/;
    finish_child($g, 30);
    ok(defined wait_server($s, 10), $T->('qAttached=0: server exits after gdb'));
    stop_server($s);
    ok($pid && !alive($pid), $T->('qAttached=0: gdb killed the launched program at exit'));
}
if ($out{tracestub} && $out{gdbserver}) {
    (my $a = $out{tracestub}) =~ s/^aslr=.*//mg;
    (my $b = $out{gdbserver}) =~ s/^aslr=.*//mg;
    is($a, $b, 'tracestub: launch settings give the program what gdbserver gives it');
}
done_testing();
