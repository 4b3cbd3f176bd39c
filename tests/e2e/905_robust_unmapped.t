#!/usr/bin/env perl
# Memory that was there and is gone (issue 7): the unmap fixture maps a page, calls
# mapped_now(s) with s in it, unmaps it and calls unmapped_now(s) with the dangling pointer.
# Against gdbserver and tracestub on the same sessions:
# - live: at mapped_now gdb reads the string, at unmapped_now every read of the same address
#   is an error ("Cannot access memory"), never stale bytes; the program runs on to its end;
# - tracepoints collecting *s@8 at both: every hit stored (6 frames for 3 rounds), the frames
#   of mapped_now hold the string, those of unmapped_now hold no bytes for it (unavailable),
#   and the program's output is as untraced;
# - headless `tracestub trace`: the C string argument is read while mapped and reported as
#   an EFAULT error (value null) once unmapped, output as untraced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;

my $prog = fixture('unmap');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
my $tmp = TS::tmpdir();

# gdb -ex commands (an error in one does not stop the next, unlike a sourced script); the
# tracepoint definitions, which need `actions`, are sourced first from @$defs.
sub session {
    my ($srv, $defs, @cmds) = @_;
    my $f = "$tmp/s" . (++$TS::seq) . '.gdb';
    open my $fh, '>', $f or die;
    print $fh "$_\n" for @$defs;
    close $fh;
    my $s = start_server($srv, launch => [$prog, 3]);
    my ($o, $raw) = run_gdb($s, prog => $prog, cmds => ['break main', 'continue', "source $f", @cmds]);
    wait_server($s, 10);
    stop_server($s);
    return ($o, TS::slurp($s->{out}));
}

our $TODO;
my %TODO_GS = ('trace: unmapped_now frame: the bytes are unavailable' =>
        'gdbserver 13 stores zeros for memory it could not read',
    'trace: unmapped_now frame of round 1: unavailable' =>
        'gdbserver 13 stores zeros for memory it could not read');

my ($plain) = untraced($prog, 3);
for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'gdbserver' ? $TODO_GS{ $_[0] } : undef; "$srv $_[0]" };
    my ($o, $out) = session($srv, [], 'break mapped_now', 'break unmapped_now', 'continue',
        'x/s s', 'continue', 'x/s s', 'print *s', 'print s[0]@4', 'delete', 'continue');
    like($o, qr/^0xADDR:\s+"round 0"$/m, $T->('live: the string read while mapped'));
    my ($after) = $o =~ /(Breakpoint \d+, unmapped_now.*)/s;
    $after //= '';
    like($after, qr/^0xADDR:\s+<error: Cannot access memory at address 0xADDR>$/m,
        $T->('live: x/s of the unmapped page is an error'));
    like($after, qr/^Cannot access memory at address 0xADDR$/m, $T->('live: print *s is an error'));
    unlike($after, qr/round 0/, $T->('live: no stale bytes of the unmapped page'));
    like($o, qr/\[Inferior 1 \(process \w+\) exited normally\]/, $T->('live: the program runs to its end'));

    my $line = 38;    # printf("done")
    ($o, $out) = session($srv, ['trace mapped_now', 'actions', 'collect *s@8', 'end',
        'trace unmapped_now', 'actions', 'collect *s@8', 'end'], "break unmap.c:$line", 'tstart',
        'continue', 'tstop', 'tstatus', 'tfind tracepoint 2', 'print *s@8', 'tfind tracepoint 3',
        'print *s@8', 'tfind tracepoint 2', 'print *s@8', 'tfind tracepoint 3', 'print *s@8',
        'tfind none', 'delete', 'continue');
    like($o, qr/^Collected 6 trace frames\.$/m, $T->('trace: 6 hits, 6 frames'));
    my @vals = $o =~ /^(\$\d+ = .*|Cannot access memory.*)$/mg;
    like($vals[0] // '', qr/= "round 0"/, $T->('trace: mapped_now frame 0 holds the string'));
    like($vals[1] // '', qr/<unavailable>|Cannot access memory/,
        $T->('trace: unmapped_now frame: the bytes are unavailable')) or diag(explain(\@vals));
    like($vals[2] // '', qr/= "round 1"/, $T->('trace: mapped_now frame of round 1'));
    like($vals[3] // '', qr/<unavailable>|Cannot access memory/,
        $T->('trace: unmapped_now frame of round 1: unavailable'));
    like($o, qr/\[Inferior 1 \(process \w+\) exited normally\]/, $T->('trace: the program runs to its end'));
    is($out, $plain, $T->('trace: program output as untraced'));
}

# ---- headless ----
{
    my $json = "$tmp/unmap.json";
    my $r = trace_run(60, '-q', '-e', '*mapped_now', '--json', $json, '--', $prog, 3);
    is($r->{out}, $plain, 'headless: output as untraced');
    my @calls = grep { $_->{type} eq 'call' } json_events(TS::slurp($json));
    is(scalar(@calls), 6, 'headless: 6 calls');
    my @m = grep { $_->{func} eq 'mapped_now' } @calls;
    my @u = grep { $_->{func} eq 'unmapped_now' } @calls;
    is_deeply([map { $_->{args}[0]{value} } @m], ['round 0', 'round 1', 'round 2'],
        'headless: the string of each round while mapped');
    is_deeply([map { [$_->{args}[0]{value}, $_->{args}[0]{error}] } @u],
        [[undef, 'EFAULT'], [undef, 'EFAULT'], [undef, 'EFAULT']],
        'headless: unmapped: no value, an EFAULT error, each round');
}
done_testing();
