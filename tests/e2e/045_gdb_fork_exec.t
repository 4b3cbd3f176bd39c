#!/usr/bin/env perl
# fork, vfork and exec under gdb, against gdbserver and tracestub on the same fixture:
# breakpoints survive fork (removed from the unfollowed child) and exec (re-set by gdb),
# catch fork/vfork/exec, and follow-fork-mode child.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('forkexec');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;

my %TODO_TS = ();
our $TODO;
my ($want_out, $want_rc) = untraced($prog);
is($want_rc, 0, 'untraced forkexec exits 0');
like($want_out, qr/^child 2\nvfork child exit 3\nparent 4\nafter exec 42\n\z/, 'untraced output');

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    # Breakpoint in the parent only (detach-on-fork), and again after exec.
    my $s = start_server($srv, launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['break child_work', 'continue', 'continue', 'continue']);
    my @hits = $o =~ /^Breakpoint 1, child_work \(x=(\d+)\)/mg;
    is("@hits", '2 21', $T->('breakpoint hit in the parent (x=2) and after exec (x=21), never in the children'));
    like($o, qr/is executing new program: /, $T->('exec reported'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('exits normally'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $want_out, $T->('program output identical to untraced'));

    # Catchpoints.
    $s = start_server($srv, launch => [$prog]);
    ($o) = run_gdb($s, prog => $prog,
        cmds => ['catch fork', 'catch vfork', 'catch exec', 'continue', 'continue', 'continue',
            'continue']);
    like($o, qr/^Catchpoint 1 \(forked process PID\)/m, $T->('catch fork'));
    like($o, qr/^Catchpoint 2 \(vforked process PID\)/m, $T->('catch vfork'));
    like($o, qr/^Catchpoint 3 \(exec'd \S*forkexec\)/m, $T->('catch exec'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('exits normally after catchpoints'));
    wait_server($s, 10);
    stop_server($s);

    # Follow the fork child.
    $s = start_server($srv, launch => [$prog]);
    ($o) = run_gdb($s, prog => $prog,
        cmds => ['set follow-fork-mode child', 'break child_work', 'continue', 'bt 1', 'continue']);
    like($o, qr/^\[Attaching after .* fork to child /m, $T->('follow-fork-mode child attaches to the child'));
    like($o, qr/^Thread N(?: "forkexec")? hit Breakpoint 1, child_work \(x=1\)|^Breakpoint 1, child_work \(x=1\)/m,
        $T->('breakpoint hit in the child (x=1)'));
    wait_server($s, 10);
    stop_server($s);

    # detach-on-fork off: two inferiors, each resumed on its own; breakpoints in both.
    my $pair = fixture('forkpair');
    $s = start_server($srv, launch => [$pair]);
    ($o) = run_gdb($s, prog => $pair,
        cmds => ['set detach-on-fork off', 'break pair_fn', 'continue', 'info inferiors',
            'inferior 2', 'continue', 'bt 1', 'continue', 'inferior 1', 'continue']);
    like($o, qr/^(?:Thread N "forkpair" hit )?Breakpoint 1\.1, pair_fn \(who=2\)/m,
        $T->('detach-on-fork off: the parent hits the breakpoint'));
    like($o, qr/^\* 1 +process PID .*\n  2 +process PID /m, $T->('two inferiors, both live'));
    like($o, qr/^(?:Thread N "forkpair" hit )?Breakpoint 1\.2, pair_fn \(who=1\)/m,
        $T->('the child, resumed alone, hits its copy of the breakpoint'));
    like($o, qr/^\[Inferior 2 \(process PID\) exited with code 012\]$/m, $T->('the child exits (10)'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('then the parent'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), "parent 20\nchild exit 10\n", $T->('forkpair output'));
}
done_testing();
