#!/usr/bin/env perl
# tracestub trace across fork and exec: the forkexec fixture forks (a child calls
# child_work), vforks, then execs itself (the new image calls child_work again). Without -f
# the child is left untraced (and clean); with -f its call is reported under its own pid;
# the exec'd image is traced in both cases. Output identical to an untraced run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;

trace_ok_or_skip();
my $fe = fixture('forkexec');
plan skip_all => 'forkexec not built (make fixtures)' if !-x $fe;
my $tmp = TS::tmpdir();
my $u = plain_run(30, $fe);

for my $follow (0, 1) {
    my $json = "$tmp/fe$follow.json";
    my $r = trace_run(60, ($follow ? ('-f') : ()), '-e', 'child_work', '--json', $json, '--', $fe);
    my $what = $follow ? '-f' : 'no -f';
    is($r->{out}, $u->{out}, "$what: stdout identical to an untraced run");
    is($r->{rc}, $u->{rc}, "$what: exit status identical");
    my @ev = json_events(TS::slurp($json));
    my @c = calls_of('child_work', @ev);
    my @args = map { $_->{args}[0]{value} } @c;
    my %pids = map { $_->{pid} => 1 } @c;
    if ($follow) {
        is_deeply([sort { $a <=> $b } @args], [1, 2, 21], '-f: the fork child, the parent and the exec\'d image');
        is(scalar keys %pids, 2, '-f: the child under its own pid');
    } else {
        is_deeply(\@args, [2, 21], 'no -f: the parent and, after exec, the new image');
        is(scalar keys %pids, 1, 'no -f: one pid (exec keeps it)');
    }
    is_deeply([map { $_->{ret}[0]{value} } returns_of('child_work', @ev)],
        [map { 2 * $_ } @args], "$what: every call returns");
}
done_testing();
