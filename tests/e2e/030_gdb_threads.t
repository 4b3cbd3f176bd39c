#!/usr/bin/env perl
# gdb against each server on `threads8` (main + 8 named workers): thread stops, info threads
# (9 threads, names), thread N + bt, dprintf hit by every thread (24 hits), output identical.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('threads8');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;

my %TODO_TS = ();
our $TODO;

my ($want_out, $want_rc) = untraced($prog);
is($want_rc, 0, 'untraced threads8 exits 0');
my @want_hits = sort map { my $t = $_; map {"hit $t $_"} 0 .. 2 } 0 .. 7;

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    my $s = start_server($srv, launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['break worker_step', 'continue', 'info threads', 'thread 1', 'bt', 'thread 5',
            'delete', 'continue']);
    like($o, qr/^Thread N "worker(\d)" hit Breakpoint 1, worker_step \(id=\1, i=0\) at tests\/fixtures\/threads8.c:\d+$/m,
        $T->('worker thread stops at worker_step, name matches id'));
    my @rows = $o =~ /^[ *] N Thread N "([^"]+)"/mg;
    is(scalar @rows, 9, $T->('info threads lists 9 threads'));
    is(join(',', sort @rows), join(',', 'threads8', map {"worker$_"} 0 .. 7),
        $T->('thread names threads8, worker0..7'));
    like($o, qr/^\[Switching to thread 1 \(Thread N\)\]$/m, $T->('thread 1'));
    like($o, qr/^#\d+  0xADDR in main \(argc=1, argv=0xADDR\) at tests\/fixtures\/threads8.c:\d+$/m,
        $T->('bt of thread 1 reaches main'));
    like($o, qr/^\[Switching to thread 5 \(Thread N\)\]$/m, $T->('thread 5'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('exits normally'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $want_out, $T->('program output identical to untraced'));

    # Every thread passes the breakpoint 3 times: 24 stops, each stepped over correctly.
    $s = start_server($srv, launch => [$prog]);
    ($o) = run_gdb($s, prog => $prog,
        cmds => ['dprintf worker_step,"hit %d %d\n",id,i', 'continue']);
    my @hits = sort $o =~ /^(hit \d \d)$/mg;
    is_deeply(\@hits, \@want_hits, $T->('dprintf hit 24 times, once per (thread, step)'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('exits normally after 24 hits'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $want_out, $T->('output identical after 24 hits'));
}
done_testing();
