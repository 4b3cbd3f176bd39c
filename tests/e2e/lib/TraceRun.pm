package TraceRun;

# Helpers for the headless tracer's e2e tests (tests/e2e/3xx_trace_*.t): run
# `tracestub trace` with a hard timeout and separate stdout/stderr, read its JSON Lines back,
# run the same program untraced for comparison, and skip (with the reason) when the probe
# engine is not in this build.

use strict;
use warnings;
use Exporter 'import';
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Test::More;
use TS;

our @EXPORT = qw(trace_run trace_ok_or_skip json_events json_summary plain_run calls_of returns_of);

my $n = 0;

# Run @cmd with stdin from /dev/null, stdout and stderr to files; at most $secs seconds.
# Returns { rc => exit code (or 128+signal), sig => signal or 0, out => stdout, err => stderr }.
sub plain_run {
    my ($secs, @cmd) = @_;
    my $tmp = TS::tmpdir();
    $n++;
    my ($o, $e) = ("$tmp/tr$n.out", "$tmp/tr$n.err");
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $o;
        open STDERR, '>', $e;
        exec @cmd or POSIX::_exit(127);
    }
    my $st = TS::wait_pid($pid, $secs, 1);
    my $timeout = !defined $st;
    if ($timeout) {
        $st = 9;    # SIGKILLed
        diag("timed out after ${secs}s: @cmd");
    }
    my $sig = $st & 127;
    return { rc => $sig ? 128 + $sig : $st >> 8, sig => $sig, out => TS::slurp($o),
        err => TS::slurp($e), timeout => $timeout };
}

# tracestub trace ARGS... (the program after -- included by the caller).
sub trace_run {
    my ($secs, @args) = @_;
    return plain_run($secs, TS::tracestub_path(), 'trace', @args);
}

# Skip the whole test file when tracing cannot work here, saying why.
sub trace_ok_or_skip {
    my $ts = TS::tracestub_path();
    plan skip_all => "$ts not built" if !-x $ts;
    my $r = trace_run(20, '-q', '-e', 'main', '--', '/bin/true');
    plan skip_all => 'the probe engine is not in this build (branch probe-engine)'
        if $r->{err} =~ /probe engine is not built in/;
}

# Decode JSON Lines text (dies on invalid JSON, which fails the test): the events (call,
# return, hit) as a list of hashes; json_summary gives the summary lines at the end.
sub _json_lines {
    my ($text) = @_;
    my $js = JSON::PP->new->allow_nonref;
    return map { $js->decode($_) } grep { length } split /\n/, $text;
}
sub json_events { return grep { $_->{type} ne 'summary' } _json_lines(@_) }
sub json_summary { return grep { $_->{type} eq 'summary' } _json_lines(@_) }

sub calls_of {
    my ($func, @ev) = @_;
    return grep { $_->{type} eq 'call' && $_->{func} eq $func } @ev;
}

sub returns_of {
    my ($func, @ev) = @_;
    return grep { $_->{type} eq 'return' && $_->{func} eq $func } @ev;
}

1;
