#!/usr/bin/env perl
# `catch syscall` (QCatchSyscalls) with gdb against each server: the call to and the return
# from write, a catchpoint by name on exit_group, deleting them continues to the end without
# stops, and a multi-threaded program where only the caught syscall stops.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my ($prog, $thr) = map { fixture($_) } qw(basic threads8);
plan skip_all => 'fixtures not built (make fixtures)' if grep { !-x $_ } $prog, $thr;
my ($want) = untraced($prog);

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $s = start_server($srv, launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['catch syscall write', 'continue', 'continue', 'delete',
            'catch syscall exit_group', 'continue', 'info registers orig_rax', 'delete',
            'continue']);
    like($o, qr/^Catchpoint 1 \(call to syscall write\), .*__GI___libc_write \(fd=1, /m,
        "$srv: stops at the call to write");
    like($o, qr/^Catchpoint 1 \(returned from syscall write\), /m, "$srv: and at its return");
    like($o, qr/^Catchpoint 2 \(call to syscall exit_group\), /m, "$srv: catchpoint by name: exit_group");
    like($o, qr/^orig_rax +0xe7 +231$/m, "$srv: at exit_group, orig_rax is 231");
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, "$srv: no stops once deleted: exits");
    my @stops = $o =~ /^Catchpoint \d \((?:call|returned)/mg;
    is(scalar @stops, 3, "$srv: exactly three catchpoint stops");
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $want, "$srv: output identical to untraced");

    # 9 threads, only clone3 (pthread_create's) is caught: 8 calls and 8 returns in the parent
    # (a new thread starts after the call: its own return is not a stop gdb asked for).
    $s = start_server($srv, launch => [$thr, 10]);
    ($o) = run_gdb($s, prog => $thr,
        cmds => ['catch syscall clone3', ('continue') x 17]);
    my @calls = $o =~ /Catchpoint 1 \(call to syscall clone3\)/mg;
    my @rets = $o =~ /Catchpoint 1 \(returned from syscall clone3\)/mg;
    is(scalar @calls, 8, "$srv: 8 calls to clone3 caught");
    ok(@rets >= 8, "$srv: and their returns (" . scalar(@rets) . ')');
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, "$srv: threads8 exits normally");
    wait_server($s, 10);
    stop_server($s);
}

done_testing;
