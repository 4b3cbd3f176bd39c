#!/usr/bin/env perl
# `tracestub replay` command line (issue 6): usage errors are one line and exit status 2,
# --help, stdio mode (target remote | tracestub replay FILE -), a second client starting again
# at the first frame, `monitor exit`.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;
use ReplayRun;

trace_ok_or_skip();
my $fix = fixture('replay_threads');
plan skip_all => "$fix not built (make fixtures)" if !-x $fix;
my $ts = tracestub_path();
my $tmp = TS::tmpdir();
my $tf = "$tmp/rt.tf";
record($tf, '-e', 'replay_threads.c:25', '--', $fix);

sub cli {
    my (@args) = @_;
    my $r = plain_run(20, $ts, 'replay', @args);
    return ($r->{rc}, $r->{out} . $r->{err});
}
my @bad = (
    [[], qr/^tracestub replay: missing FILE/, 'no arguments'],
    [[$tf], qr/^tracestub replay: missing COMM/, 'no COMM'],
    [[$tf, 'nonsense'], qr/^tracestub replay: bad COMM nonsense/, 'bad COMM'],
    [['--bogus', $tf, ':0'], qr/^tracestub replay: unknown option --bogus/, 'unknown option'],
    [[$tf, ':0', 'extra'], qr/^tracestub replay: unexpected argument extra/, 'extra argument'],
    [['--exe'], qr/^tracestub replay: --exe needs a program/, '--exe without a program'],
    [["$tmp/none.tf", ':0'], qr/^tracestub replay: cannot read \S+none\.tf: No such file/, 'missing file'],
    [['/etc/passwd', ':0'], qr/^tracestub replay: cannot read \/etc\/passwd: /, 'not a trace file'],
);
for my $b (@bad) {
    my ($rc, $out) = cli(@{ $b->[0] });
    is($rc, 2, "$b->[2]: exit status 2");
    like($out, $b->[1], "$b->[2]: the reason");
    is(scalar(() = $out =~ /\n/g), 1, "$b->[2]: one line");
}
my ($rc, $out) = cli('--help');
is($rc, 0, '--help: exit 0');
like($out, qr/^Usage: tracestub replay \[OPTIONS\] FILE COMM/m, '--help: usage');
my $r = plain_run(20, $ts, '--help');
like($r->{out}, qr/tracestub replay \[OPTIONS\] FILE COMM/, 'tracestub --help names replay');

# stdio: gdb starts the server itself
my ($g) = TS::_run(60, 'gdb', '-nx', '-batch', '-ex', "target remote | $ts replay $tf -",
    '-ex', 'print id', '-ex', 'continue', '-ex', 'print id');
like($g, qr/^\$1 = 7$/m, 'stdio: the first frame');
like($g, qr/^\$2 = 0$/m, 'stdio: continue to the next');

# two clients in turn; the second starts at the first frame again; monitor exit ends it
my $s = replay_server($tf);
my ($o1) = run_gdb($s, cmds => ['continue', 'continue', 'print id', 'print i']);
like($o1, qr/^\$1 = 0\n\$2 = 1$/m, 'first client: moved to frame 2');
my ($o2) = run_gdb($s, cmds => ['print id', 'monitor exit']);
like($o2, qr/^\$1 = 7$/m, 'second client: back at frame 0');
my $st = wait_server($s, 10);
is($st, 0, 'monitor exit: the server ends, status 0');
stop_server($s);
done_testing();
