#!/usr/bin/env perl
# gdb against each server on the Go 1.19 fixture go_hello: break main.add (//go:noinline), bt
# through goroutine frames, next with scheduler-locking, SIGURG preemption signals passed
# silently by gdb's default `handle SIGURG nostop noprint pass`, output identical to untraced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('go_hello');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;

my %TODO_TS = ();
our $TODO;

my ($want, $want_rc) = untraced($prog);
is($want_rc, 0, 'untraced go_hello exits 0');
like($want, qr/^add\(2, 3\) = 5$/m, 'untraced output');

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    my $s = start_server($srv, launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['break main.add', 'continue', 'bt', 'info args', 'set scheduler-locking step',
            'next', 'next', 'delete', 'info signals SIGURG', 'continue'], timeout => 45);
    like($o, qr/^Breakpoint 1 at 0xADDR: file \S+\/go\/hello\/main\.go, line 12\.$/m, $T->('break main.add'));
    like($o, qr/^(Thread N "go_hello" hit )?Breakpoint 1, main\.add \(a=\d+, b=\d+, ~r0=.*\) at \S+main\.go:12$/m,
        $T->('main.add hit'));
    like($o, qr/^#1  0xADDR in main\.busy \(n=\d+, ~r0=.*\) at \S+main\.go:18\n#2  0xADDR in main\.main\.func1 \(g=\d\) at \S+main\.go:\d+$/m,
        $T->('bt through main.busy and the goroutine closure'));
    like($o, qr/^#\d+  0xADDR in runtime\.goexit \(\)/m, $T->('bt reaches runtime.goexit'));
    like($o, qr/^a = \d+\nb = \d+$/m, $T->('info args'));
    like($o, qr/^(main\.busy \(n=\d+, ~r0=.*\) at \S+main\.go:1[78]|1[78]\t.*)$/m, $T->('next returns into main.busy'));
    like($o, qr/^SIGURG\s+No\s+No\s+Yes\s+Urgent I\/O condition$/m, $T->('SIGURG: nostop noprint pass'));
    unlike($o, qr/SIGURG, Urgent/, $T->('SIGURG never shown to the user'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('exits normally'));
    wait_server($s, 30);
    stop_server($s);
    is(TS::slurp($s->{out}), $want, $T->('output identical to untraced'));

    # SIGURG really flows through the stub: stop on it once, then let it pass silently.
    $s = start_server($srv, launch => [$prog]);
    ($o) = run_gdb($s, prog => $prog,
        cmds => ['handle SIGURG stop print', 'continue', 'handle SIGURG nostop noprint pass', 'continue'],
        timeout => 45);
    like($o, qr/^Thread N "[^"]*" received signal SIGURG, Urgent I\/O condition\.$|^Program received signal SIGURG/m,
        $T->('preemption signal SIGURG seen when asked'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('exits normally after SIGURG passed'));
    wait_server($s, 30);
    stop_server($s);
    is(TS::slurp($s->{out}), $want, $T->('output identical after SIGURG stop'));
}
done_testing();
