#!/usr/bin/env perl
# gdb against each server: pending breakpoint in libplugin.so resolved after dlopen; signals
# stopped+printed, passed silently (handle nostop noprint pass), and suppressed (nopass).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $dl  = fixture('dlopen');
my $lib = fixture('libplugin.so');
my $sig = fixture('signals');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $dl || !-e $lib || !-x $sig;

my %TODO_TS = ();
our $TODO;

my ($dl_out, $dl_rc) = untraced($dl, $lib);
is($dl_rc, 0, 'untraced dlopen exits 0');
my ($sig_out, $sig_rc) = untraced($sig);
is($sig_rc, 0, 'untraced signals exits 0');

my %norm;
for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    # dlopen: pending breakpoint.
    my $s = start_server($srv, launch => [$dl, $lib]);
    my ($o) = run_gdb($s, prog => $dl,
        cmds => ['set breakpoint pending on', 'break plugin_fn', 'continue', 'bt', 'print x',
            'info sharedlibrary', 'continue', 'print plugin_calls', 'delete', 'continue']);
    like($o, qr/^Breakpoint 1 \(plugin_fn\) pending\.$/m, $T->('breakpoint pending before dlopen'));
    like($o, qr/^Breakpoint 1, plugin_fn \(x=4\) at tests\/fixtures\/libplugin.c:\d+$/m,
        $T->('pending breakpoint resolved and hit in libplugin.so'));
    like($o, qr/^#0  plugin_fn \(x=4\) at tests\/fixtures\/libplugin.c:\d+\n#1  0xADDR in main \(argc=2, argv=0xADDR\) at tests\/fixtures\/dlopen.c:\d+$/m,
        $T->('bt from the plugin into main'));
    like($o, qr/^\$1 = 4$/m, $T->('print arg in plugin'));
    like($o, qr/^0xADDR\s+0xADDR\s+Yes\s+\S*libplugin\.so$/m, $T->('info sharedlibrary lists libplugin.so'));
    like($o, qr/^0xADDR\s+0xADDR\s+Yes\s+\S*libc\.so\.6$/m, $T->('info sharedlibrary lists libc'));
    like($o, qr/^Breakpoint 1, plugin_fn \(x=5\)/m, $T->('second hit'));
    like($o, qr/^\$2 = 1$/m, $T->('plugin global read'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('dlopen exits normally'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $dl_out, $T->('dlopen output identical to untraced'));
    $norm{$srv}{dlopen} = $o;

    # signals: default stop+print, then breakpoint in the handler.
    $s = start_server($srv, launch => [$sig]);
    ($o) = run_gdb($s, prog => $sig,
        cmds => ['break usr1_handler', 'continue', 'continue', 'bt 3', 'continue', 'continue',
            'continue', 'continue', 'continue']);
    my @recv = $o =~ /^(Program received signal SIGUSR1, User defined signal 1\.)$/mg;
    is(scalar @recv, 3, $T->('three SIGUSR1 stops printed'));
    my @hand = $o =~ /^(Breakpoint 1, usr1_handler \(sig=10\) at tests\/fixtures\/signals.c:\d+)$/mg;
    is(scalar @hand, 3, $T->('handler breakpoint hit 3 times (signal delivered)'));
    like($o, qr/^#0  usr1_handler \(sig=10\) at tests\/fixtures\/signals.c:\d+\n#1  <signal handler called>$/m,
        $T->('bt shows <signal handler called>'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('signals exits normally'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $sig_out, $T->('signals output identical to untraced'));
    $norm{$srv}{signals} = $o;

    # nostop noprint pass: invisible to the user, delivered to the program.
    $s = start_server($srv, launch => [$sig]);
    ($o) = run_gdb($s, prog => $sig, cmds => ['handle SIGUSR1 nostop noprint pass', 'continue']);
    unlike($o, qr/Program received signal/, $T->('nostop noprint: nothing printed'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('nostop noprint pass: exits 0'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($s->{out}), $sig_out, $T->('nostop noprint pass: output identical'));

    # nopass: the program never sees the signal (hits=0, exit 1).
    $s = start_server($srv, launch => [$sig]);
    ($o) = run_gdb($s, prog => $sig, cmds => ['handle SIGUSR1 nostop noprint nopass', 'continue']);
    like($o, qr/^\[Inferior 1 \(process PID\) exited with code 01\]$/m, $T->('nopass: exit code 01'));
    wait_server($s, 10);
    stop_server($s);
    like(TS::slurp($s->{out}), qr/^final hits=0$/m, $T->('nopass: handler never ran'));
}

if ($norm{tracestub} && $norm{gdbserver}) {
    local $TODO = $TODO_TS{same};
    for my $k (sort keys %{ $norm{gdbserver} }) {
        is($norm{tracestub}{$k}, $norm{gdbserver}{$k}, "tracestub: session '$k' same as gdbserver");
    }
}
done_testing();
