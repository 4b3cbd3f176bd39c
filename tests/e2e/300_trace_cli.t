#!/usr/bin/env perl
# `tracestub trace` command line: --help on stdout, bad lines as one line on stderr with exit
# status 2 (before anything is started). Runs without the probe engine.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;

my $ts = TS::tracestub_path();
plan skip_all => "$ts not built" if !-x $ts;

my $r = trace_run(10, '--help');
is($r->{rc}, 0, '--help exits 0');
like($r->{out}, qr/^usage: tracestub trace \[OPTIONS\] \(-p PID\.\.\. \| \[-p PID\.\.\.\] -- PROG ARGS\.\.\.\)/m, 'usage on stdout');
for my $bad ([[], 'nothing to trace'], [['--', '/bin/true'], 'no probe'],
    [['-e', 'x', '-p', '1', '-p', '1', '--', '/bin/true'], '-p twice with the same pid'],
    [['-e', 'x if y ~ 3', '--', '/bin/true'], 'bad condition'], [['-e', 'x', '--stack', '0', '--', '/bin/true'], '--stack 0'],
    [['-e', 'x', '--frob', '--', '/bin/true'], 'unknown option']) {
    my ($args, $what) = @$bad;
    $r = trace_run(10, @$args);
    is($r->{rc}, 2, "$what: exit status 2");
    like($r->{err}, qr/\Atracestub trace: [^\n]+ \(see tracestub trace --help\)\n\z/, "$what: one line on stderr");
}
$r = trace_run(20, '-e', 'x', '--', '/nonexistent/prog');
is($r->{rc}, 1, 'a program that cannot run: exit status 1');
like($r->{err}, qr/cannot run \/nonexistent\/prog/, 'a program that cannot run: said');
done_testing();
