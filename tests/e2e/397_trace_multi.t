#!/usr/bin/env perl
# Several processes in one trace run (issue 16, Deliver 1): `-p` repeated attaches to each,
# and with a program after `--` the program runs while the others are attached. One event
# stream carries every process's calls, each with its pid; the end (--duration here, a
# signal in 330) removes every probe and detaches each process with its code bytes as they
# were; a launched program's end ends the trace of the attached ones. The command line
# refuses the same pid twice and more than 16. (The cross-process case, a launched client and
# an attached server joined through their sockets, is in 396.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;

trace_ok_or_skip();
my $spin = fixture('spin');
my $basic = fixture('basic');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $spin || !-x $basic;
my $tmp = TS::tmpdir();

my @kids;
END { kill 'KILL', @kids if @kids }

sub start_spin {
    my ($tag) = @_;
    my $ready = TS::make_fifo("ready$tag");
    my $pid = fork // die;
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        exec $spin, $ready or POSIX::_exit(127);
    }
    my $line = TS::read_fifo_line($ready, 10) // '';
    push @kids, $pid;
    like($line, qr/^$pid ready/, "spin $tag is running");
    return $pid;
}

for my $mode ('trap', 'fast') {
    my @m = $mode eq 'trap' ? ('--trap') : ();
    my ($p1, $p2) = (start_spin("a$mode"), start_spin("b$mode"));
    my %before;
    $before{$p1} = TS::code_of($p1, 'spin');    # (code_of's reads clobber $_)
    $before{$p2} = TS::code_of($p2, 'spin');
    my $json = "$tmp/two-$mode.json";
    my $r = trace_run(60, '-q', @m, '-p', $p1, '-p', $p2, '-e', 'spin_tick', '--duration', '1',
        '--json', $json);
    is($r->{rc}, 0, "$mode: -p twice, --duration 1: exit status 0") or diag($r->{err});
    like($r->{err}, qr/^tracestub trace: attached to process $p1; Ctrl-C detaches\ntracestub trace: attached to process $p2 as well$/m,
        "$mode: both attached, said once each");
    my %n;
    for my $l (split /\n/, (-e $json ? TS::slurp($json) : '')) {
        $n{$1}++ if $l =~ /"type":"call".*"pid":(\d+)/ || $l =~ /"pid":(\d+).*"type":"call"/;
    }
    ok(($n{$p1} // 0) > 10 && ($n{$p2} // 0) > 10, "$mode: calls of both processes in one stream ($p1: "
        . ($n{$p1} // 0) . ", $p2: " . ($n{$p2} // 0) . ')');
    ok(kill(0, $p1) && kill(0, $p2), "$mode: both still run after the detach");
    is(TS::code_of($p1, 'spin'), $before{$p1}, "$mode: the first one's code bytes as before");
    is(TS::code_of($p2, 'spin'), $before{$p2}, "$mode: the second one's code bytes as before");
    unlike($r->{err}, qr/never called/, "$mode: no 'never called' for a function called in both");
    kill 'KILL', $p1, $p2;
    waitpid $_, 0 for $p1, $p2;
}

# a launched program and an attached one: the program's end ends the trace
my $s = start_spin('l');
my $before = TS::code_of($s, 'spin');
my $r = trace_run(60, '-q', '-p', $s, '-e', 'spin_tick', '-e', 'main', '--', $basic);
is($r->{rc}, 0, 'launched + attached: the launched program\'s exit status');
like($r->{err}, qr/attached to process $s as well/, 'launched + attached: the other attached');
like($r->{err}, qr/^spin_tick\s+spin\s+\d+/m, 'launched + attached: the attached one\'s calls in the summary');
like($r->{err}, qr/^main\s+basic\s+1\s/m, 'launched + attached: the launched one\'s main');
ok(kill(0, $s), 'launched + attached: the attached one runs on after the launched one ended');
is(TS::code_of($s, 'spin'), $before, 'launched + attached: its code bytes as before');
kill 'KILL', $s;
waitpid $s, 0;

# the command line
$r = trace_run(10, '-p', '1', '-p', '1', '-e', 'f');
is($r->{rc}, 2, '-p twice with the same pid: exit status 2');
like($r->{err}, qr/^tracestub trace: -p 1 given twice/m, 'and says so in one line');
$r = trace_run(10, (map { ('-p', $_) } 2 .. 18), '-e', 'f');
is($r->{rc}, 2, '17 processes: exit status 2');
like($r->{err}, qr/too many -p \(max 16\)/, 'and says the limit');
$s = start_spin('x');
$r = trace_run(20, '-p', $s, '-p', '999999999', '-e', 'spin_tick');
isnt($r->{rc}, 0, 'a second pid that does not exist: an error');
like($r->{err}, qr/cannot attach to process 999999999/, 'naming it');
ok(kill(0, $s), 'the first one left running');
kill 'KILL', $s;
waitpid $s, 0;

done_testing();
