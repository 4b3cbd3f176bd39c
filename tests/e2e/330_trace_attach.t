#!/usr/bin/env perl
# tracestub trace -p PID: attach to a running program, trace it, and on SIGTERM (and SIGINT)
# detach leaving it running with its code bytes exactly as before (the text mapping read from
# /proc/PID/mem before the attach and after the detach). Synchronisation through FIFOs: the
# JSON output is a FIFO the test reads, the program reports progress on another. -q: with pads
# spin_tick is hit millions of times a second, and per-call lines on a stderr pipe this test
# reads only at the end would fill it and block the tracer.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX qw(:sys_wait_h);
use TS;
use TraceRun;
no warnings qw(portable);

trace_ok_or_skip();
my $spin = fixture('spin');
plan skip_all => 'spin not built (make fixtures)' if !-x $spin;

for my $sig ('TERM', 'INT') {
    my $ready = TS::make_fifo("ready$sig");
    my $prog = TS::make_fifo("progress$sig");
    my $pid = fork // die;
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        exec $spin, $ready, $prog or POSIX::_exit(127);
    }
    my $line = TS::read_fifo_line($ready, 10) // '';
    like($line, qr/^$pid ready/, "$sig: spin is running");
    my $before = TS::code_of($pid, 'spin');
    ok(length $before > 0, "$sig: its code read from /proc/PID/mem");

    my $json = TS::make_fifo("json$sig");
    my $errf = TS::tmpdir() . "/attach$sig.err";
    pipe my $er, my $ew or die "pipe: $!";
    my $tpid = fork // die;
    if (!$tpid) {
        close $er;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', TS::tmpdir() . "/attach$sig.out";
        open STDERR, '>&', $ew;
        exec TS::tracestub_path(), 'trace', '-q', '-p', $pid, '-e', 'spin_tick', '--json', $json
            or POSIX::_exit(127);
    }
    close $ew;
    # The tracer opens its JSON FIFO, attaches, places its probes, then says so; only then
    # does a helper read spin's progress FIFO once, so spin (which waits for a reader every
    # 2^20 ticks) ticks on traced while we read the first call from the JSON FIFO.
    my ($err, $jfh) = ('');
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 30;
        open $jfh, '<', $json or die "open $json: $!";
        while ($err !~ /attached to process/) {
            sysread($er, $err, 4096, length $err) or last;
        }
        alarm 0;
    };
    alarm 0;
    like($err, qr/^tracestub trace: attached to process $pid; Ctrl-C detaches$/m, "$sig: attached");
    my $helper = fork // die;
    if (!$helper) {
        open my $p, '<', $prog or POSIX::_exit(1);
        my $l = <$p>;
        POSIX::_exit(0);
    }
    my $ev = '';
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 30;
        $ev = <$jfh> // '' if $jfh;
        alarm 0;
    };
    close $jfh if $jfh;    # later writes fail with EPIPE: the tracer goes on
    alarm 0;
    kill 'KILL', $helper;
    waitpid $helper, 0;
    like($ev, qr/"type":"call".*"func":"spin_tick"/, "$sig: traced calls arrive");
    kill $sig, $tpid;
    my $st;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 20;
        waitpid $tpid, 0;
        $st = $?;
        alarm 0;
    };
    alarm 0;
    is($st, 0, "$sig: tracestub detached and exited 0");
    my $tick = TS::read_fifo_line($prog, 20) // '';
    like($tick, qr/^\d+/, "$sig: spin still runs after the detach");
    is(waitpid($pid, WNOHANG), 0, "$sig: spin is alive");
    my $after = TS::code_of($pid, 'spin');
    ok($after eq $before, "$sig: code bytes unchanged (no int3 left)");
    {
        local $/;
        $err .= <$er> // '';
    }
    close $er;
    like($err, qr/^spin_tick\s+spin\s+\d+/m, "$sig: the summary table is printed");
    kill 'KILL', $pid;
    waitpid $pid, 0;
}
# --duration with -p: the trace ends by itself, detached, the program untouched.
{
    my $ready = TS::make_fifo('readyD');
    my $pid = fork // die;
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        exec $spin, $ready or POSIX::_exit(127);
    }
    like(TS::read_fifo_line($ready, 10) // '', qr/^$pid ready/, '--duration: spin is running');
    my $before = TS::code_of($pid, 'spin');
    my $r = trace_run(60, '-q', '-p', $pid, '-e', 'spin_tick', '--duration', '0.2');
    is($r->{rc}, 0, '--duration 0.2: tracestub ends by itself, exit 0');
    like($r->{err}, qr/^spin_tick\s+spin\s+\d+/m, '--duration: summary printed');
    is(waitpid($pid, WNOHANG), 0, '--duration: spin still alive');
    ok(TS::code_of($pid, 'spin') eq $before, '--duration: code bytes unchanged');
    kill 'KILL', $pid;
    waitpid $pid, 0;
}
done_testing();
