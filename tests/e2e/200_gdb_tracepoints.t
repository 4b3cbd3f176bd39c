#!/usr/bin/env perl
# gdb 13 tracepoint sessions (issue 3) against gdbserver and tracestub on the same fixture:
# collect $regs/$args/$locals/globals/*ptr@n/stack bytes, tstart/tstop/tstatus, the tfind
# family, tdump, conditions, passcount, trace state variables, while-stepping, circular buffer,
# trace-buffer-size, tsave + target tfile, and 8 threads with every hit accounted for.
# gdbserver refuses tracepoints defined before the program's libraries are loaded (E01 at
# tstart): the shared scripts therefore start at main; the last block checks tracestub does
# better.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $prog = fixture('tp');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
my $tmp = TS::tmpdir();

my %TODO_TS = ();
# gdbserver 13 bugs on this very session, where tracestub must be right:
my %TODO_GS = (
    'info tracepoints: hit 10 times' => 'gdbserver counts 16 hits for 10 (step-overs counted)',
    '8 threads: 410 hits' => 'gdbserver counts 1040 hits for 410',
    'target tfile: tdump of frame 0 identical to the live one' =>
        'gdbserver/gdb tsave of a PIE: tfile tracepoint addresses unrelocated, tdump empty',
);
our $TODO;

# Until tracestub's tracepoint engine is in, its checks are TODO (reported, not failing).
my $ts_missing;
if (-x tracestub_path()) {
    my $s = start_server('tracestub', launch => [$prog]);
    my ($o) = run_gdb($s, prog => $prog, cmds => ['tstatus', 'kill']);
    stop_server($s);
    $ts_missing = 'tracepoints not implemented in tracestub yet' if $o !~ /Trace can be started|No trace has been run/;
}

# Run gdb with a script (lines) against a fresh server launching @launch.
sub session {
    my ($srv, $lines, @launch) = @_;
    my $f = "$tmp/s" . (++$TS::seq) . '.gdb';
    open my $fh, '>', $f or die;
    print $fh "$_\n" for ('break main', 'continue', @$lines);
    close $fh;
    my $s = start_server($srv, launch => [$prog, @launch]);
    my ($o, $raw) = run_gdb($s, prog => $prog, cmds => ["source $f", 'kill']);
    wait_server($s, 10);
    stop_server($s);
    return ($o, $raw);
}

my @collect = ('trace traced', 'actions', 'collect $regs', 'collect a, b', 'collect $locals',
    'collect counter', 'collect *p', 'collect message', 'collect values[2]@3',
    'collect *(unsigned char (*)[64])$rsp', 'end', 'break done', 'tstart', 'continue', 'tstop');
my %tdump0;

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub {
        $TODO = $srv eq 'tracestub' ? $ts_missing // $TODO_TS{ $_[0] } : $TODO_GS{ $_[0] };
        "$srv: $_[0]";
    };

    # ---- collection, tstatus, tfind family, tdump ----
    my ($o) = session($srv, [@collect, 'tstatus', 'info tracepoints', 'tfind start', 'tdump',
        'tfind', 'print a', 'print counter', 'print p->x', 'print values[2]@3', 'print values[0]',
        'tfind 5', 'print a', 'print b', 'print local', 'tfind -', 'print a',
        'tfind tracepoint 2', 'tfind pc', 'tfind line tp.c:19', 'tfind range traced,done',
        'tfind outside traced,done', 'tfind end',
        'print $trace_frame']);
    like($o, qr/^Collected 10 trace frames\.$/m, $T->('tstatus: 10 frames'));
    like($o, qr/^Trace stopped by a tstop command/m, $T->('tstatus: stopped by tstop'));
    like($o, qr/tracepoint already hit 10 times/, $T->('info tracepoints: hit 10 times'));
    like($o, qr/^Found trace frame 0, tracepoint 2$/m, $T->('tfind start'));
    my ($dump) = $o =~ /^(Data collected at tracepoint 2, trace frame 0:\n.*?)^Found trace frame 1/ms;
    $dump //= '';
    like($dump, qr/^rip\s+0xADDR\s+0xADDR <traced\+\d+>$/m, $T->('tdump: rip at traced'));
    like($dump, qr/^a = 0\nb = 100$/m, $T->('tdump: $args'));
    like($dump, qr/^local = 0$/m, $T->('tdump: $locals'));
    like($dump, qr/^counter = 0$/m, $T->('tdump: global'));
    like($dump, qr/^\*p = \{x = 1, y = 2\}$/m, $T->('tdump: *p'));
    like($dump, qr/^message = "hello tracepoints"/m, $T->('tdump: string'));
    like($dump, qr/^values\[2\]\@3 = \{3, 4, 5\}$/m, $T->('tdump: array slice'));
    like($dump, qr/^\*\(unsigned char \(\*\)\[64\]\)\$rsp = /m, $T->('tdump: 64 stack bytes'));
    $tdump0{$srv} = $dump;
    like($o, qr/^Found trace frame 1, tracepoint 2\n\$1 = 1\n\$2 = 0\n\$3 = 1\n\$4 = \{3, 4, 5\}\n\$5 = <unavailable>$/m,
        $T->('tfind next: args, global, *p, slice; uncollected memory <unavailable>'));
    # local is collected before its first store: the previous call's 8 left on the stack.
    like($o, qr/^Found trace frame 5, tracepoint 2\n\$6 = 5\n\$7 = 105\n\$8 = 8$/m,
        $T->('tfind 5: a=5 b=105, local as collected'));
    like($o, qr/^Found trace frame 4, tracepoint 2\n\$9 = 4$/m, $T->('tfind -: frame 4'));
    like($o, qr/^Found trace frame 4, tracepoint 2\n\$9 = 4\nFound trace frame 5, tracepoint 2\nFound trace frame 6, tracepoint 2\nFound trace frame 7, tracepoint 2\nFound trace frame 8, tracepoint 2\nNo trace frame found$/m,
        $T->('tfind tracepoint 2, tfind pc, tfind line, tfind range each find the next frame; tfind outside none'));
    like($o, qr/^No longer looking at any trace frame$|^Not looking at any trace frame/m,
        $T->('tfind end'));
    like($o, qr/^\$\d+ = -1$/m, $T->('$trace_frame -1 after tfind end'));

    # ---- conditions, passcount, trace state variables ----
    ($o) = session($srv, ['tvariable $hits = 0', 'trace traced if a == 3', 'actions',
        'collect a', 'teval $hits = $hits + 1', 'end', 'trace done', 'actions', 'collect sum',
        'end', 'passcount 1 3', 'break done', 'tstart', 'continue', 'tstatus',
        'print $hits', 'tfind start', 'print a', 'tfind', 'print sum', 'info tvariables']);
    like($o, qr/^Collected 2 trace frames\.$/m, $T->('condition a == 3 + passcount on done: 2 frames'));
    like($o, qr/^Trace stopped by tracepoint 3\.$/m, $T->('passcount 1 on done stopped the trace'));
    like($o, qr/^\$1 = 1$/m, $T->('tvariable $hits counted the one conditional hit'));
    like($o, qr/^Found trace frame 0, tracepoint 2\n\$2 = 3\nFound trace frame 1, tracepoint 3\n\$3 = 1305$/m,
        $T->('frames: a = 3 at traced, sum = 1305 at done'));

    # ---- while-stepping ----
    ($o) = session($srv, ['trace traced', 'actions', 'collect a', 'while-stepping 2',
        'collect local', 'end', 'end', 'break done', 'tstart', 'continue', 'tstop', 'tstatus']);
    like($o, qr/^Collected 30 trace frames\.$/m, $T->('while-stepping 2: 10 hits x 3 frames'));

    # ---- circular buffer keeps exactly the newest frames ----
    ($o) = session($srv, ['set trace-buffer-size 8000', 'set circular-trace-buffer on',
        'trace traced', 'actions', 'collect $regs', 'collect a', 'end', 'break done', 'tstart',
        'continue', 'tstop', 'tstatus', 'tfind start', 'print a', 'tfind end', 'tfind -1',
        'tfind start']);
    my ($n) = $o =~ /^(?:Collected|Buffer contains) (\d+) trace frames/m;
    ok(($n // 0) >= 1 && $n < 10, $T->('circular 8000-byte buffer keeps fewer than 10 frames'));
    like($o, qr/^Trace buffer is circular\.$/m, $T->('tstatus says circular'));
    my ($first_a) = $o =~ /^Found trace frame \d+, tracepoint 2\n\$\d+ = (\d+)$/m;
    is($first_a, 10 - ($n // 0), $T->('the oldest kept frame is hit number 10-N: newest frames kept'));
    note("$srv: circular buffer of 8000 bytes keeps $n frames of \$regs + a") if $n;

    # ---- tsave, then target tfile in a new gdb ----
    my $file = "$tmp/$srv.tf";
    unlink $file;
    ($o) = session($srv, [@collect, 'tfind start', 'tdump', 'tfind end', "tsave $file"]);
    ($tdump0{$srv}) = $o =~ /^(Data collected at tracepoint 2, trace frame 0:\n.*?)^No longer looking/ms;
    ok(-s $file, $T->('tsave wrote a file'));
    my ($t) = TS::_run(30, 'gdb', '-nx', '-batch', '-ex', 'set pagination off', '-ex',
        "target tfile $file", '-ex', 'tfind start', '-ex', 'tdump', $prog);
    $t = TS::norm($t);
    my ($fdump) = $t =~ /^(Data collected at tracepoint \d+, trace frame 0:\n.*)/ms;
    $fdump //= '';
    $fdump =~ s/tracepoint \d+/tracepoint 2/;
    my $want = $tdump0{$srv} // '';
    # A trace file shows a PIE at its link addresses (gdb has no load bias there): tracestub
    # writes rip as 0x1191 where the live session showed 0x555555555191; same function+offset.
    s/^rip\s+0x[0-9a-fA-FADR]+\s+0x[0-9a-fA-FADR]+/rip PC PC/m for $fdump, $want;
    is($fdump, $want, $T->('target tfile: tdump of frame 0 identical to the live one'));

    # ---- 8 threads: every hit accounted for ----
    ($o) = session($srv, ['trace traced', 'actions', 'collect a', 'end', 'break done', 'tstart',
        'continue', 'tstop', 'tstatus', 'info tracepoints'], '10', 'threads');
    like($o, qr/^Collected 410 trace frames\.$/m, $T->('8 threads: 410 frames'));
    like($o, qr/tracepoint already hit 410 times/, $T->('8 threads: 410 hits'));
}

# ---- tracestub only: tracepoints defined before the libraries load (gdbserver: E01) ----
$TODO = $ts_missing;
SKIP: {
    skip 'tracestub not built', 2 if !-x tracestub_path();
    my $s = start_server('tracestub', launch => [$prog]);
    my $f = "$tmp/early.gdb";
    open my $fh, '>', $f or die;
    print $fh "$_\n" for ('trace traced', 'actions', 'collect a', 'end', 'break done', 'tstart',
        'continue', 'tstop', 'tstatus');
    close $fh;
    my ($o) = run_gdb($s, prog => $prog, cmds => ["source $f", 'kill']);
    wait_server($s, 10);
    stop_server($s);
    unlike($o, qr/Target returns error code/, 'tracestub: tstart before libraries load accepted (gdbserver: E01)');
    like($o, qr/^Collected 10 trace frames\.$/m, 'tracestub: 10 frames from a tracepoint set at _start');
}
done_testing();
