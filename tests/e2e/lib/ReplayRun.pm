package ReplayRun;

# Helpers for the replay e2e tests (tests/e2e/4xx_replay_*.t): record a trace headless, serve
# it with `tracestub replay`, cut debugger transcripts into the output of each stop, and
# normalise what legitimately differs between a live run and its replay (addresses: a PIE
# sits at its link addresses in replay; ASLR moves stacks and libraries between runs).

use strict;
use warnings;
use Exporter 'import';
use Test::More;
use TS;
use TraceRun;

our @EXPORT = qw(record replay_server hits lldb_blocks addrs_out gdb_marks);

# tracestub trace -o FILE ARGS... -- PROG; dies (failing the test) when no file came out.
sub record {
    my ($file, @args) = @_;
    my $r = trace_run(120, '-q', '-o', $file, @args);
    ok(-s $file, "recorded $file") or diag($r->{err});
    return $r;
}

# A replay server for FILE (options before it).
sub replay_server {
    my (@args) = @_;
    my $s = start_server('tracestub', replay => [@args]);
    ok($s->{port}, 'replay server listening') or diag($s->{err});
    return $s;
}

# Every 0x... number becomes 0xA (link-time vs run-time addresses, stack addresses), runs of
# spaces one space, gdb's $1, $2... $N.
sub addrs_out {
    my ($t) = @_;
    $t =~ s/0x[0-9a-f]+/0xA/g;
    $t =~ s/ {2,}/ /g;          # columns padded to the width of the addresses
    $t =~ s/^\$\d+ = /\$N = /mg;    # gdb's value history numbers
    return $t;
}

# gdb -ex commands that bracket the output of @cmds with markers.
sub gdb_marks {
    my (@cmds) = @_;
    return ('echo ==HIT==\n', @cmds, 'echo ==END==\n');
}

# The text between each pair of markers of a gdb transcript, addresses normalised.
sub hits {
    my ($out) = @_;
    return map { addrs_out($_) } $out =~ /^==HIT==\n(.*?)^==END==$/msg;
}

# An lldb -b transcript as [command, output] pairs (output addresses normalised).
sub lldb_blocks {
    my ($out) = @_;
    my @b;
    for my $l (split /\n/, $out) {
        if ($l =~ /^\(lldb\) (.*)$/) {
            push @b, [$1, ''];
        } elsif (@b) {
            (my $n = addrs_out($l)) =~ s/\s+$//;
            $b[-1][1] .= "$n\n";
        }
    }
    return @b;
}

1;
