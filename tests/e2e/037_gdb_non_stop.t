#!/usr/bin/env perl
# gdb in non-stop mode (MI, as IDEs drive it) against each server, on 8 spinning threads:
# connect, a breakpoint that stops every worker while main runs on, one worker continued and
# interrupted alone while the others stay where they stopped, a thread-specific breakpoint hit
# in one thread while all the others run, interrupt of all, detach; the program's own check
# of every thread's sum says no instruction was skipped or repeated.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('spin8');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $prog;

my $STATE = qr/\{id="(\d+)",target-id="[^"]*",name="[^"]*",(?:frame=\{.*?\},)?state="(\w+)"/;

sub states {
    my ($t) = @_;
    my %st;
    while ($t =~ /$STATE/g) { $st{$1} = $2 }
    return \%st;
}

# Wait for n *stopped records; the thread ids of those with reason, sorted.
sub stopped_ids {
    my ($mi, $n, $reason, $secs) = @_;
    my ($t) = mi_wait($mi, qr/(\*stopped[^\n]*\n(?:.*\n)*?){$n}/, $secs);
    return join ' ', sort { $a <=> $b } $t =~ /^\*stopped,reason="$reason".*thread-id="(\d+)"/mg;
}

# `n`, the worker's call count, read in thread $id's worker frame.
sub calls_of {
    my ($mi, $id) = @_;
    my ($t) = mi_cmd($mi, "-stack-list-frames --thread $id");
    my ($level) = $t =~ /frame=\{level="(\d+)",[^}]*func="worker"/;
    return undef if !defined $level;
    ($t) = mi_cmd($mi, "-data-evaluate-expression --thread $id --frame $level n");
    return $t =~ /\^done,value="(\d+)"/ ? $1 : undef;
}

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $s = start_server($srv, launch => [$prog]);
    my $mi = mi_start($s, prog => $prog, pre => ['-gdb-set mi-async on', '-gdb-set non-stop on']);
    my ($t, $ok) = mi_cmd($mi, "-target-select remote 127.0.0.1:$s->{port}", qr/^\*stopped.*\n/m, 30);
    like($t, qr/^\*stopped,reason="signal-received",signal-name="0".*thread-id="1"/m,
        "$srv: connected in non-stop, thread 1 stopped");
    my ($pid) = $t =~ /pid="(\d+)"/;

    # Every worker stops at the breakpoint; main (in pthread_join) keeps running.
    mi_cmd($mi, '-break-insert spin8_work');
    mi_cmd($mi, '-exec-continue');
    is(stopped_ids($mi, 8, 'breakpoint-hit', 30), '2 3 4 5 6 7 8 9',
        "$srv: all 8 workers stop at the breakpoint, each reported");
    ($t) = mi_cmd($mi, '-thread-info');
    my $st = states($t);
    is($st->{1}, 'running', "$srv: main still running while the workers are stopped");

    # Worker 2 runs alone, then is interrupted alone; worker 3 never moves.
    mi_cmd($mi, '-break-delete');
    my $n3 = calls_of($mi, 3);
    my $n2 = calls_of($mi, 2);
    mi_cmd($mi, '-exec-continue --thread 2');
    select undef, undef, undef, 0.5;
    ($t) = mi_cmd($mi, '-thread-info');
    $st = states($t);
    is(join(',', map { "$_=" . ($st->{$_} // '?') } 1 .. 4), '1=running,2=running,3=stopped,4=stopped',
        "$srv: worker 2 runs while workers 3 and 4 stay stopped");
    mi_cmd($mi, '-exec-interrupt --thread 2');
    ($t) = mi_wait($mi, qr/^\*stopped.*\n/m, 10);
    like($t, qr/^\*stopped,reason="signal-received",signal-name="0".*thread-id="2",stopped-threads=\["2"\]/m,
        "$srv: -exec-interrupt --thread 2 stops worker 2 alone");
    my $n2b = calls_of($mi, 2);
    ok(defined $n2 && defined $n2b && $n2b > $n2 + 1000, "$srv: worker 2 ran ($n2 -> $n2b calls)");
    is(calls_of($mi, 3), $n3, "$srv: worker 3 did not move ($n3 calls)");
    ($t) = mi_cmd($mi, '-thread-info 1');
    like($t, qr/state="running"/, "$srv: main still running");

    # A thread-specific breakpoint: worker 4 stops, every other thread keeps running.
    mi_cmd($mi, '-exec-continue --all');
    mi_cmd($mi, '-break-insert -p 4 spin8_work');
    ($t) = mi_wait($mi, qr/^\*stopped.*\n/m, 20);
    like($t, qr/^\*stopped,reason="breakpoint-hit".*thread-id="4",stopped-threads=\["4"\]/m,
        "$srv: the breakpoint hits in worker 4 while the others run");
    ($t) = mi_cmd($mi, '-thread-info');
    $st = states($t);
    is(join(' ', map { $st->{$_} // '?' } 1 .. 9), 'running running running stopped running running running running running',
        "$srv: only worker 4 stopped");
    mi_cmd($mi, '-break-delete');

    # Interrupt everything: one stop for each of the 8 running threads.
    mi_cmd($mi, '-exec-interrupt --all');
    is(stopped_ids($mi, 8, 'signal-received', 20), '1 2 3 5 6 7 8 9',
        "$srv: interrupt --all stops the 8 running threads");
    ($t) = mi_cmd($mi, '-thread-info');
    $st = states($t);
    is(scalar(grep { $st->{$_} eq 'stopped' } keys %$st), 9, "$srv: all 9 threads stopped");

    ($t) = mi_cmd($mi, '-target-detach');
    like($t, qr/^\^done/m, "$srv: detach");
    my $all = mi_end($mi);
    unlike($all, qr/internal-error|Remote connection closed|Remote failure/, "$srv: no gdb error");
    kill 'USR1', $pid if $pid;
    my $out = '';
    for (1 .. 100) {
        $out = TS::slurp($s->{out});
        last if $out =~ /^sigtraps/m;
        select undef, undef, undef, 0.1;
    }
    my @okl = $out =~ /^thread \d: \d+ calls ok$/mg;
    is(scalar @okl, 8, "$srv: after detach the program checks all 8 sums ok");
    wait_server($s, 10);
    stop_server($s);

    # CLI, non-stop: breakpoints across fork, vfork (gdb takes them out of the shared memory
    # until vfork-done, then back) and exec; a signal reported on its own thread.
    my $fe = fixture('forkexec');
    $s = start_server($srv, launch => [$fe]);
    my ($o) = run_gdb($s, prog => $fe, pre => ['set non-stop on'],
        cmds => ['break child_work', 'continue', 'continue', 'continue']);
    my @hits = $o =~ /^Breakpoint 1, child_work \(x=(\d+)\)/mg;
    is("@hits", '2 21', "$srv: non-stop: the breakpoint after vfork (x=2) and after exec (x=21)");
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, "$srv: non-stop: forkexec exits");
    wait_server($s, 10);
    stop_server($s);
    my $sg = fixture('sigthread');
    $s = start_server($srv, launch => [$sg]);
    ($o) = run_gdb($s, prog => $sg, pre => ['set non-stop on'],
        cmds => ['continue', 'info threads']);
    like($o, qr/^Thread N "sigworker" received signal SIGUSR1, User defined signal 1\.$/m,
        "$srv: non-stop: SIGUSR1 stops the thread that raised it");
    like($o, qr/^  N Thread N "sigthread" \(running\)$/m, "$srv: ...while main runs");
    stop_server($s);

    # extended-remote: run to the end in non-stop (vRun, 9 threads, the exit as a %Stop).
    my $thr = fixture('threads8');
    $s = start_server($srv, multi => 1);
    $mi = mi_start($s, prog => $thr, pre => ['-gdb-set mi-async on', '-gdb-set non-stop on']);
    mi_cmd($mi, "-target-select extended-remote 127.0.0.1:$s->{port}", qr/^\^(connected|error).*\n/m, 20);
    mi_cmd($mi, "-gdb-set remote exec-file $thr");
    mi_cmd($mi, '-exec-arguments 1000');
    ($t) = mi_cmd($mi, '-exec-run');
    $t .= mi_wait($mi, qr/^\*stopped,reason="exited[^\n]*\n/m, 30);
    like($t, qr/^\*stopped,reason="exited-normally"/m, "$srv: extended-remote run in non-stop exits normally");
    $all = mi_end($mi);
    unlike($all, qr/internal-error/, "$srv: no gdb error");
    my @sums = TS::slurp($s->{out}) =~ /^worker\d sum (\d+)$/mg;
    is("@sums", join(' ', map { $_ * 100000 + 499500 } 0 .. 7), "$srv: threads8's 8 sums right");
    stop_server($s);
}

done_testing;
