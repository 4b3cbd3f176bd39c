#!/usr/bin/env perl
# What GDB's own testsuite (gdb.server) waits for, run against gdbserver 13 and tracestub:
# `stdio` as COMM and a program that does not exist (non-existing-program.exp), a host that
# does not resolve (server-connect.exp), a bare program name found in the current directory
# (abspath.exp), and gdbserver's monitor commands with its answers (server-mon.exp).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(getcwd);
use File::Copy qw(copy);
use IO::Socket::INET;
use TS;
use TraceRun;

my $basic = fixture('basic');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $basic;
my $tmp = TS::tmpdir();
my @servers = ('tracestub', -x '/usr/bin/gdbserver' ? 'gdbserver' : ());

for my $srv (@servers) {
    my $bin = $srv eq 'tracestub' ? TS::tracestub_path() : 'gdbserver';

    # non-existing-program.exp's second pattern (the shell's words; gdbserver runs PROG
    # through one, tracestub says the same)
    my $r = plain_run(20, $bin, 'stdio', 'non-existing-program');
    like($r->{err}, qr/stdin\/stdout redirected.*exec: non-existing-program: not found\nDuring startup program exited with code 127\.\nExiting\n\z/s,
        "$srv: stdio and a missing program, in gdbserver's words");
    isnt($r->{rc}, 0, "$srv: and a non-zero exit status");

    # server-connect.exp: gdbserver_start gives up on ": cannot resolve name: "
    for my $host ('tcp8:123', 'udp123:::', 'garbage:1234') {
        $r = plain_run(20, $bin, '--once', "$host:2346", $basic);
        like($r->{err}, qr/: cannot resolve name: /, "$srv: $host:2346 refused: cannot resolve name");
        isnt($r->{rc}, 0, "$srv: $host:2346: non-zero exit status");
    }

    # unittest.exp: --selftest ("Selftests have been disabled for this build." is Debian's
    # gdbserver, which the testsuite counts as unsupported)
    $r = plain_run(20, $bin, '--selftest');
    if ($srv eq 'tracestub') {
        like($r->{out}, qr/^Ran ([1-9]\d*) unit tests, 0 failed$/m, "$srv: --selftest runs its checks");
        is($r->{rc}, 0, "$srv: --selftest: exit status 0");
    } else {
        like($r->{out} . $r->{err}, qr/Ran \d+ unit tests, 0 failed|Selftests have been disabled/,
            "$srv: --selftest answers as the testsuite expects");
    }

    # every test's gdbserver_start: a port in use is said in gdbserver's words (the harness
    # then takes the next port)
    {
        my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1)
            or die "listen: $!";
        my $port = $busy->sockport;
        $r = plain_run(20, $bin, '--once', "127.0.0.1:$port", $basic);
        like($r->{err}, qr/Can't bind address: Address already in use\.\n/,
            "$srv: a port in use: Can't bind address: Address already in use.");
        close $busy;
    }

    # ext-wrapper.exp: --multi with a wrapper and no program yet (gdb runs it later)
    {
        my $pid = open(my $fh, '-|', "$bin --once --multi --wrapper env TEST=1 -- 127.0.0.1:0 2>&1")
            or die;
        my $line = <$fh>;
        like($line // '', qr/Listening on port \d+/, "$srv: --multi --wrapper CMD -- without a program: listening");
        kill 'TERM', $pid;
        close $fh;
    }

    # abspath.exp: a bare name that is a file in the current directory
    my $dir = "$tmp/abs-$srv";
    mkdir $dir;
    copy($basic, "$dir/basicprog") or die;
    chmod 0755, "$dir/basicprog";
    my $cwd = getcwd();
    my $s;
    {
        local $ENV{TS_TRACESTUB} = Cwd::abs_path(TS::tracestub_path());
        chdir $dir or die;
        $s = start_server($srv, launch => ['basicprog']);
        chdir $cwd;
    }
    ok($s->{port}, "$srv: started basicprog from the current directory");
    my ($o) = run_gdb($s, prog => "$dir/basicprog", cmds => ['break main', 'continue', 'kill']);
    like($o, qr/Breakpoint 1, main \(/, "$srv: and gdb stops at its main");
    stop_server($s);

    # server-mon.exp, command for command
    $s = start_server($srv, launch => [$basic]);
    ($o) = run_gdb($s, prog => $basic, cmds => ['monitor help', 'monitor', 'monitor set debug 1',
        'monitor set debug 0', 'monitor set remote-debug 1', 'monitor set remote-debug 0',
        'monitor set debug-format all', 'monitor set debug-format none', 'kill']);
    stop_server($s);
    if ($srv eq 'tracestub') {
        # the log is really switched: the packets between "on" and "off", and only those
        my $e = $s->{err};
        like($e, qr/^<- qRcmd,7365742072656d6f74652d64656275672030$/m,
            'tracestub: set remote-debug 1 logs the next packet received (the one turning it off)');
        unlike($e, qr/^<- qRcmd,7365742064656275672031$/m, 'tracestub: nothing logged before it');
        unlike($e, qr/^<- qRcmd,7365742064656275672d666f726d617420616c6c$/m,
            'tracestub: nor after set remote-debug 0');
    }
    like($o, qr/The following monitor commands are supported:/, "$srv: monitor help");
    like($o, qr/Unknown monitor command.*Protocol error/s, "$srv: monitor (nothing): unknown, and an error");
    like($o, qr/Debug output enabled\.\n.*Debug output disabled\./s, "$srv: set debug 1 / 0");
    like($o, qr/Protocol debug output enabled\.\n.*Protocol debug output disabled\./s, "$srv: set remote-debug 1 / 0");
    like($o, qr/All extra debug format options enabled\.\n.*All extra debug format options disabled\./s,
        "$srv: set debug-format all / none");
}
done_testing();
