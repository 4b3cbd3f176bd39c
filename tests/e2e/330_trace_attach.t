#!/usr/bin/env perl
# tracestub trace -p PID: attach to a running program, trace it, and on SIGTERM (and SIGINT)
# detach leaving it running with its code bytes exactly as before (the text mapping read from
# /proc/PID/mem before the attach and after the detach). Synchronisation through FIFOs: the
# JSON output is a FIFO the test reads, the program reports progress on another.
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

sub text_of {
    my ($pid) = @_;
    open my $m, '<', "/proc/$pid/maps" or return '';
    my ($lo, $hi);
    while (<$m>) {
        if (/^([0-9a-f]+)-([0-9a-f]+) r-xp \S+ \S+ \S+\s+(\S+)/ && $3 =~ m{/spin$}) {
            ($lo, $hi) = (hex $1, hex $2);
            last;
        }
    }
    return '' if !$lo;
    open my $fh, '<:raw', "/proc/$pid/mem" or return '';
    sysseek $fh, $lo, 0 or return '';
    my $buf = '';
    sysread $fh, $buf, $hi - $lo;
    return $buf;
}

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
    my $before = text_of($pid);
    ok(length $before > 0, "$sig: its code read from /proc/PID/mem");

    my $json = TS::make_fifo("json$sig");
    my $tpid = fork // die;
    if (!$tpid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', TS::tmpdir() . "/attach$sig.out";
        open STDERR, '>', TS::tmpdir() . "/attach$sig.err";
        exec TS::tracestub_path(), 'trace', '-p', $pid, '-e', 'spin_tick', '--json', $json
            or POSIX::_exit(127);
    }
    my $ev = TS::read_fifo_line($json, 20) // '';
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
    my $after = text_of($pid);
    ok($after eq $before, "$sig: code bytes unchanged (no int3 left)");
    my $err = TS::slurp(TS::tmpdir() . "/attach$sig.err");
    like($err, qr/^spin_tick\s+spin\s+\d+/m, "$sig: the summary table is printed");
    kill 'KILL', $pid;
    waitpid $pid, 0;
}
done_testing();
