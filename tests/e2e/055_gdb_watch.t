#!/usr/bin/env perl
# Watchpoints. Where the machine's debug registers work, `watch` uses them (Z2) and stops on the
# write. Where they do not (some hypervisors: DR writes accepted, traps never raised),
# gdbserver accepts Z2 and the program runs to its end without stopping; tracestub refuses Z2
# (gdb says it could not insert the hardware watchpoint) so the user is not misled, and
# software watchpoints (set can-use-hw-watchpoints 0) work on both.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('basic');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
our $TODO;

my $hw_works;
for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $s = start_server($srv, launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['monitor hwdebug', 'break main', 'continue', 'watch counter', 'continue',
            'info watchpoints']);
    wait_server($s, 10);
    stop_server($s);
    if ($srv eq 'tracestub') {
        like($o, qr/^hardware debug registers: (working|not triggering)/m, 'tracestub: monitor hwdebug answers');
        $hw_works = $o =~ /debug registers: working/ ? 1 : 0;
        if ($hw_works) {
            like($o, qr/^Hardware watchpoint 2: counter\nOld value = \d+\nNew value = \d+$/m,
                'tracestub: hardware watchpoint stops on the write');
        } else {
            like($o, qr/Could not insert hardware watchpoint 2/,
                'tracestub: debug registers dead here: Z2 refused, gdb says so');
        }
    } else {
        my $stopped = $o =~ /^Old value = \d+\nNew value = \d+$/m;
        my $exited = $o =~ /exited normally/;
        ok($stopped || $exited, "$srv: watch either stops or (dead debug registers) runs to the end");
        note("$srv: hardware watchpoint " . ($stopped ? 'triggered' : 'accepted but never triggered'));
    }

    # Software watchpoints: single-stepping, on every machine.
    $s = start_server($srv, launch => [$prog]);
    ($o) = run_gdb($s, prog => $prog,
        cmds => ['set can-use-hw-watchpoints 0', 'break main', 'continue', 'watch counter',
            'continue', 'continue', 'bt 1']);
    wait_server($s, 10);
    stop_server($s);
    like($o, qr/^Watchpoint 2: counter\nOld value = 7\nNew value = 8$/m, "$srv: software watchpoint: first write");
    # gdbserver 13 here: single-stepping through printf, the program dies of SIGSEGV in
    # printf_positional (reproducible); tracestub steps it correctly.
    local $TODO = $srv eq 'gdbserver' && $o =~ /SIGSEGV/ ? 'gdbserver kills the program with SIGSEGV while stepping printf' : undef;
    like($o, qr/^Old value = 8\nNew value = 16$/m, "$srv: software watchpoint: second write");
    like($o, qr/^#0  bump \(\) at tests\/fixtures\/basic.c:\d+$/m, "$srv: stopped in bump");
}
done_testing();
