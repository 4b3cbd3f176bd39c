#!/usr/bin/env perl
# gdb against each server, per-thread control: with scheduler-locking on, continue resumes only
# the current thread (vCont;c:TID) and the next stops are that thread's own, though the other
# workers sit at the same breakpoint; a signal a thread sends itself is reported on that thread
# and delivered to it (its handler runs there), stopped or passed silently.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my ($thr, $sig) = map { fixture($_) } qw(threads8 sigthread);
plan skip_all => 'fixtures not built (make fixtures)' if grep { !-x $_ } $thr, $sig;

my %TODO_TS = ();
our $TODO;

my ($want_thr) = untraced($thr);
my ($want_sig, $rc) = untraced($sig);
is($rc, 0, 'untraced sigthread: handler runs in the sending thread');

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    # scheduler-locking: three stops of one worker in a row, i = 0, 1, 2.
    my $s = start_server($srv, launch => [$thr]);
    my ($o) = run_gdb($s, prog => $thr,
        cmds => ['break worker_step', 'continue', 'set scheduler-locking on', 'continue', 'continue',
            'info threads', 'set scheduler-locking off', 'delete', 'continue']);
    my @hits = $o =~ /^Thread N "worker(\d)" hit Breakpoint 1, worker_step \(id=(\d), i=(\d)\)/mg;
    my @who;
    push @who, [ splice @hits, 0, 3 ] while @hits;
    is(scalar @who, 3, $T->('scheduler-locking: three breakpoint stops'));
    ok(@who == 3 && !grep({ $_->[0] ne $who[0][0] || $_->[1] ne $who[0][0] } @who),
        $T->('scheduler-locking: every stop in the same worker'));
    is(join(',', map { $_->[2] } @who), '0,1,2', $T->('scheduler-locking: that worker advanced i=0,1,2'));
    my @rows = $o =~ /^[ *] N Thread N "([^"]+)"/mg;
    is(scalar @rows, 9, $T->('scheduler-locking: 9 threads while locked'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('unlocked: exits normally'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $want_thr, $T->('threads8 output identical to untraced'));

    # A thread's own signal: reported on it, delivered to it.
    $s = start_server($srv, launch => [$sig]);
    ($o) = run_gdb($s, prog => $sig,
        cmds => ['break usr1_handler', 'continue', 'bt 1', 'continue', 'bt 1', 'continue']);
    like($o, qr/^Thread N "sigworker" received signal SIGUSR1, User defined signal 1\.$/m,
        $T->('signal reported on the sending thread'));
    like($o, qr/^Thread N "sigworker" hit Breakpoint 1, usr1_handler \(sig=10\) at tests\/fixtures\/sigthread.c:\d+$/m,
        $T->('handler breakpoint hit in the sending thread'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('sigthread exits 0'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $want_sig, $T->('handler ran in the sender (output identical)'));

    $s = start_server($srv, launch => [$sig]);
    ($o) = run_gdb($s, prog => $sig, cmds => ['handle SIGUSR1 nostop noprint pass', 'continue']);
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('passed silently: exits 0'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $want_sig, $T->('passed silently: handler ran in the sender'));
}
done_testing();
