#!/usr/bin/env perl
# Signals numbered for the client that asks: gdb's numbering for gdb, Linux's for lldb once it
# sent qHostInfo (lldb 14 reads stop-reply numbers as the host's: gdb's 30, SIGUSR1, was shown
# as SIGPWR). raiser raises every signal 1-31 but SIGKILL and SIGSTOP, each caught by a
# handler; the debugger is told to pass and print each without stopping. tracestub beside
# lldb-server (lldb) and gdbserver (gdb): the same names, in kernel order, and exit 0.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $fix = fixture('raiser');
plan skip_all => "$fix not built (make fixtures)" if !-x $fix;
my @names = qw(SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGUSR1 SIGSEGV
    SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGTSTP SIGTTIN SIGTTOU SIGURG
    SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS);

for my $srv (lldb_servers()) {
    my $s = start_server($srv, launch => [$fix]);
    my (undef, $raw) = run_lldb($s, prog => $fix, timeout => 60,
        cmds => ["process handle -s false -p true -n true @names", 'continue']);
    stop_server($s);
    my @got = $raw =~ /received signal: (SIG\w+)/g;
    is("@got", "@names", server_label($srv) . ': lldb names the 29 signals as raised');
    like($raw, qr/exited with status = 0/, server_label($srv) . ': each reached its handler (exit 0)');
}
# gdb: every name it knows, passed without stopping; SIGTRAP (gdb's own breakpoints) and
# signal 16 (SIGSTKFLT, no name in gdb: "?") stop, and `signal` or `continue` hand them on.
my %gdb;
for my $srv (gdb_servers()) {
    my $s = start_server($srv, launch => [$fix]);
    my (undef, $raw) = run_gdb($s, prog => $fix, timeout => 60,
        cmds => ['handle all nostop print pass', 'handle SIGINT nostop print pass', 'continue',
            'signal SIGTRAP', 'continue', 'continue']);
    stop_server($s);
    my @got = $raw =~ /Program received signal (\S+?),/g;
    $gdb{ server_label($srv) } = "@got";
    like("@got", qr/^SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGUSR1 SIGSEGV SIGUSR2 SIGPIPE SIGALRM SIGTERM \?/,
        server_label($srv) . ': gdb names signals 1-16 in its own numbering') or diag($raw);
}
SKIP: {
    skip 'gdbserver not installed', 1 if !exists $gdb{gdbserver};
    is($gdb{tracestub}, $gdb{gdbserver}, 'gdb: tracestub reports what gdbserver 13 reports, signal for signal');
}
done_testing();
