#!/usr/bin/env perl
# Hardware breakpoints and read/access watchpoints through the debug registers (Z1, Z3, Z4),
# gdb against each server. Where the debug registers trap, hbreak/rwatch/awatch stop as they
# do natively and both servers give the same answers; where they never trap (some
# hypervisors), tracestub refuses Z1 so gdb says it could not insert the breakpoint, while
# gdbserver accepts it and the program runs past (see 055 for Z2).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('basic');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;

my %TODO_TS = ();
our $TODO;
my ($want) = untraced($prog);

my (%norm, $works);
for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };
    if ($srv eq 'tracestub') {
        my $s = start_server($srv, launch => [$prog]);
        my ($o) = run_gdb($s, prog => $prog, cmds => ['monitor hwdebug', 'kill']);
        stop_server($s);
        $works = $o =~ /^hardware debug registers: working/m;
        like($o, qr/^hardware debug registers: (working|not triggering)/m, 'tracestub: monitor hwdebug');
    }
    my $s = start_server($srv, launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['hbreak add_ints', 'continue', 'bt 1', 'delete', 'rwatch counter', 'awatch total',
            'continue', 'continue', 'continue', 'delete', 'continue']);
    wait_server($s, 10);
    stop_server($s);
    if ($srv eq 'tracestub' && !$works) {
        like($o, qr/Could not insert hardware breakpoint|Cannot insert hardware breakpoint/,
            'tracestub: debug registers dead here: Z1 refused, gdb says so');
        next;
    }
    if ($srv eq 'gdbserver' && $o !~ /Hardware assisted breakpoint 1, |^Breakpoint 1, add_ints/m) {
        note('gdbserver: hardware breakpoint accepted but never triggered (dead debug registers)');
        next;
    }
    like($o, qr/^Hardware assisted breakpoint 1 at 0xADDR: file tests\/fixtures\/basic.c, line 19\.$/m,
        $T->('hbreak set (Z1)'));
    like($o, qr/^Breakpoint 1, add_ints \(a=1, b=2, out=0xADDR, name=0xADDR "first", pt=\.\.\.\) at tests\/fixtures\/basic.c:19$/m,
        $T->('hardware breakpoint hit'));
    like($o, qr/^Hardware read watchpoint 2: counter\n+Value = 7\n/m, $T->('rwatch: read of counter'));
    like($o, qr/^Hardware access \(read\/write\) watchpoint 3: total\n+Value = 0\n/m, $T->('awatch: read of total (Z4)'));
    like($o, qr/^Hardware access \(read\/write\) watchpoint 3: total\n+Old value = 0\nNew value = 1\n/m,
        $T->('awatch: write of total'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('exits normally'));
    is(TS::slurp($s->{out}), $want, $T->('output identical to untraced'));
    $norm{$srv} = $o;
}
if ($norm{tracestub} && $norm{gdbserver}) {
    is($norm{tracestub}, $norm{gdbserver}, 'tracestub: hbreak/rwatch/awatch session same as gdbserver');
}

# A watched region wider than one debug register (int arr[6]: 24 bytes, three 8-byte pieces),
# as gdb's watchpoint.exp watches a struct: split over several slots, the first write in qsort
# reported. Was "Could not insert hardware watchpoint" (gdbserver splits the same way).
my %wide;
for my $srv ($works ? gdb_servers() : ()) {
    my $s = start_server($srv, launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['break basic.c:55', 'continue', 'watch arr', 'continue', 'delete', 'continue']);
    wait_server($s, 10);
    stop_server($s);
    like($o, qr/^Hardware watchpoint 2: arr\n+Old value = \{5, 3, 9, 1, 7, 2\}\nNew value = /m,
        "$srv: watch of a 24-byte array: three debug registers, the first write seen");
    like($o, qr/exited normally/, "$srv: and the program runs to its end");
    ($wide{$srv}) = $o =~ /(Hardware watchpoint 2: arr\n+Old value = [^\n]*\nNew value = [^\n]*)/;
}
if ($wide{tracestub} && $wide{gdbserver}) {
    is($wide{tracestub}, $wide{gdbserver}, 'tracestub: the same change reported as by gdbserver');
}
done_testing();
