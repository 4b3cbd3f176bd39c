#!/usr/bin/env perl
# More gdb 13 tracepoint sessions against gdbserver and tracestub on the tp fixture:
# tsave -r (the stub writes the file: QTSave), disable/enable of a tracepoint during a run
# (QTDisable/QTEnable) with a user breakpoint on the same address, a tracepoint created during
# a run (InstallInTrace), a full linear buffer (tfull), tstatus numbers, and disconnected
# tracing: gdb disconnects, a new gdb reconnects and finds the tracepoints (qTfP) and the
# frames (qTStatus) of the run that went on without it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use RSP;

my $prog = fixture('tp');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
my $tmp = TS::tmpdir();
our $TODO;
my %TODO_GS = (
    'tsave -r wrote a file' => 'gdbserver 13 has no QTSave ("Target does not support this command")',
    'tsave -r file: tdump of frame 0' => 'gdbserver 13 has no QTSave',
    'condition a == 3 + while-stepping 2: 1 hit x 3 frames' =>
        'gdbserver 13 starts while-stepping when the condition is false (PROTOCOL.md 3.5)',
    'tfull' => 'gdbserver 13 never reports tfull: once full it counts 0-byte frames (seen in its tsave file)',
    'a 4000-byte buffer holds fewer than 10 frames' => 'gdbserver 13 counts 0-byte frames when full',
    'reconnect: frame 9 has a = 9' =>
        'gdb 13 asks qTP:<its own number>:addr after re-creating the target tracepoint; gdbserver E01 ends the script',
);

sub script {
    my @l = @_;
    my $f = "$tmp/s" . (++$TS::seq) . '.gdb';
    open my $fh, '>', $f or die;
    print $fh "$_\n" for @l;
    close $fh;
    return $f;
}

sub session {
    my ($srv, $lines, %o) = @_;
    my $s = start_server($srv, launch => [$prog], %o);
    my ($out) = run_gdb($s, prog => $prog, cmds => ['source ' . script('break main', 'continue', @$lines), 'kill']);
    wait_server($s, 10);
    stop_server($s);
    return $out;
}

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? undef : $TODO_GS{ $_[0] }; "$srv: $_[0]" };

    # ---- tsave -r: the stub writes the trace file itself ----
    my $file = "$tmp/$srv-r.tf";
    unlink $file;
    my $o = session($srv, ['trace traced', 'actions', 'collect $regs', 'collect a, b', 'end',
        'break done', 'tstart', 'continue', 'tstop', 'tfind start', 'tdump', 'tfind end',
        "tsave -r $file"]);
    my ($live) = $o =~ /^(Data collected at tracepoint 2, trace frame 0:\n.*?)^No longer looking/ms;
    ok(-s $file, $T->('tsave -r wrote a file'));
    my ($t) = TS::_run(30, 'gdb', '-nx', '-batch', '-ex', 'set pagination off', '-ex',
        "target tfile $file", '-ex', 'tstatus', '-ex', 'tfind start', '-ex', 'tdump', $prog);
    $t = TS::norm($t);
    my ($fdump) = $t =~ /^(Data collected at tracepoint \d+, trace frame 0:\n.*)/ms;
    s/^rip\s+0x[0-9a-fA-FADR]+\s+0x[0-9a-fA-FADR]+/rip PC PC/m for grep { defined } $fdump, $live;
    $fdump =~ s/tracepoint \d+/tracepoint 2/ if defined $fdump;
    is($fdump // '', $live // 'no live dump', $T->('tsave -r file: tdump of frame 0'));
    like($t, qr/^Collected 10 trace frames\.$/m, $T->('tsave -r file: tstatus frames')) if -s $file;

    # ---- disable during the run, with a user breakpoint on the same address ----
    $o = session($srv, ['trace traced', 'actions', 'collect a', 'end', 'break done',
        'tstart', 'break traced if a == 5', 'continue', 'print a', 'disable 2', 'delete 4',
        'continue', 'tstop', 'tstatus', 'tfind start', 'tfind', 'tfind', 'tfind', 'tfind', 'tfind',
        'print a', 'tfind', 'info tracepoints']);
    like($o, qr/^Breakpoint 4, traced \(a=5,/m, $T->('user breakpoint on the tracepoint address stops'));
    like($o, qr/^Collected 6 trace frames\.$/m, $T->('disable during the run: hits 0..5 collected, none after'));
    like($o, qr/^Found trace frame 5, tracepoint 2\n\$2 = 5\n/m, $T->('frame 5 is the hit where gdb stopped'));
    like($o, qr/tracepoint already hit 6 times/, $T->('hit count 6'));

    # ---- while-stepping only after a hit whose condition held ----
    $o = session($srv, ['trace traced if a == 3', 'actions', 'collect a', 'while-stepping 2',
        'collect local', 'end', 'end', 'break done', 'tstart', 'continue', 'tstop', 'tstatus']);
    like($o, qr/^Collected 3 trace frames\.$/m, $T->('condition a == 3 + while-stepping 2: 1 hit x 3 frames'));

    # ---- a tracepoint created during the run ----
    $o = session($srv, ['trace traced', 'actions', 'collect a', 'end', 'break traced if a == 5',
        'tstart', 'continue', 'trace done', 'actions', 'collect sum', 'end', 'delete 3',
        'break done', 'continue', 'tstop', 'tstatus', 'tfind tracepoint 4', 'print sum']);
    # gdb downloads a tracepoint created during a run at once (InstallInTrace), before its
    # actions exist: the hit is recorded, `sum` is not (gdbserver and tracestub alike).
    like($o, qr/^Collected 11 trace frames\.$/m, $T->('tracepoint created during the run: 10 + 1 frames'));
    like($o, qr/^Found trace frame 10, tracepoint 4\n\$1 = <unavailable>$/m,
        $T->('tracepoint created during the run collected its hit'));

    # ---- a full linear buffer stops the run ----
    $o = session($srv, ['set trace-buffer-size 4000', 'trace traced', 'actions', 'collect $regs',
        'end', 'break done', 'tstart', 'continue', 'tstatus',
        $srv eq 'tracestub' ? 'monitor tstats' : ()]);
    like($o, qr/^Trace stopped because the buffer was full\.$/m, $T->('tfull'));
    my ($n) = $o =~ /^Collected (\d+) trace frames\./m;
    if ($srv eq 'tracestub') {
        # Every hit is either stored or counted as dropped (the hit that found it full).
        like($o, qr/^tracepoint 2 at 0xADDR: hits (\d+), stored \Q@{[$n \/\/ -1]}\E, dropped 1, /m,
            'tracestub: monitor tstats: stored = frames, the refused hit counted as dropped');
    }
    ok(defined $n && $n >= 1 && $n < 10, $T->('a 4000-byte buffer holds fewer than 10 frames'));
    like($o, qr/^Trace buffer has \d+ bytes of 4000 bytes free/m, $T->('tstatus: buffer size 4000'));

    # ---- trace state variables come back newest first (qTfV/qTsV), as from gdbserver: gdb
    # downloads them newest first, so a reconnecting gdb (MI =tsv-created) sees them in
    # creation order (mi-tsv-changed.exp) ----
    {
        my $s = start_server($srv, launch => [$prog]);
        my $c = RSP->connect($s->{port});
        $c->ask('QTinit');
        $c->ask('QTDV:6:2d:0:' . unpack('H*', 'tvar2'));
        $c->ask('QTDV:5:0:0:' . unpack('H*', 'tvar1'));
        my @names;
        for (my $r = $c->ask('qTfV'); defined $r && $r =~ /^[0-9a-f]+:[0-9a-f]+:\d:([0-9a-f]*)$/;
            $r = $c->ask('qTsV')) {
            push @names, pack('H*', $1);
        }
        $c->ask('k');
        $c->close;
        stop_server($s);
        is(join(',', @names), 'tvar1,tvar2,trace_timestamp',
            $T->('qTfV: the newest definition first, the built-in last'));
    }

    # ---- any size gdb can set: 4 bytes hold no frame (trace-buffer-size.exp) ----
    $o = session($srv, ['set trace-buffer-size 4', 'tstatus', 'trace traced', 'actions',
        'collect $regs', 'end', 'break done', 'tstart', 'continue', 'tstatus']);
    unlike($o, qr/error in outgoing packet|Bogus reply/, $T->('set trace-buffer-size 4: accepted'));
    like($o, qr/^Trace buffer has 4 bytes of 4 bytes free/m, $T->('tstatus: buffer size 4'));
    like($o, qr/^Trace stopped because the buffer was full\.\nCollected 0 trace frames\./m,
        $T->('a 4-byte buffer: full at the first hit, no frame'));

    # ---- disconnected tracing: a reconnecting gdb finds the run ----
    my $s = start_server($srv, launch => [$prog], reconnect => 1);
    my ($o1) = run_gdb($s, prog => $prog, cmds => ['source ' . script('break main', 'continue',
        'set disconnected-tracing on', 'trace traced', 'actions', 'collect a', 'end', 'tstart',
        'tstatus', 'disconnect')]);
    like($o1, qr/^Trace will continue if GDB disconnects\.$/m, $T->('disconnected-tracing on'));
    my ($o2) = run_gdb($s, prog => $prog, cmds => ['source ' . script('tstatus', 'info tracepoints',
        'break done', 'continue', 'tstop', 'tstatus', 'tfind 9', 'print a'), 'kill']);
    like($o2, qr/^Created tracepoint \d+ for target's tracepoint 2 at 0xADDR\.$/m,
        $T->('reconnect: gdb uploads the tracepoint (qTfP)'));
    like($o2, qr/^Trace is running on the target\.$/m, $T->('reconnect: the run is still going'));
    like($o2, qr/^Collected 10 trace frames\.$/m, $T->('reconnect: 10 frames after the run'));
    like($o2, qr/^Found trace frame 9, tracepoint \d+\n\$1 = 9$/m, $T->('reconnect: frame 9 has a = 9'));
    wait_server($s, 10);
    stop_server($s);
}
done_testing();
