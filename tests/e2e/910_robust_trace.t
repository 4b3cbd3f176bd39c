#!/usr/bin/env perl
# Faults during gdb tracepoint runs (issue 7), against gdbserver and tracestub:
# - the traced program is SIGKILLed mid-run: gdb gets the exit, the run is stopped with a
#   reason, and the frames so far are kept: tstatus counts them, tsave writes them, and
#   `target tfile` reads them back;
# - the client disconnects mid-run without disconnected tracing: the run stops
#   (tdisconnected) and a reconnecting gdb sees the tracepoint and the frames;
# - 2000 short-lived threads (born and joined 8 at a time, far above 200 a second) each hit a
#   tracepoint once: every hit stored, output as untraced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my $spin = fixture('spin');
my $tp   = fixture('tp');
my $churn = fixture('churn');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $spin || !-x $tp;
my $tmp = TS::tmpdir();
our $TODO;
my %TODO_GS = (
    'SIGKILL: tstatus says why the run stopped' =>
        'gdbserver 13 keeps reporting the run as going after the program is gone',
    '2000 short-lived threads: 2000 hits' => 'gdbserver 13 counts its step-overs as hits',
    'SIGKILL: target tfile reads the frame back' =>
        'gdbserver 13 + PIE: the saved frames are at run-time addresses, `ticks` reads <unavailable>',
);
my $n = 0;

sub script {
    my $f = "$tmp/s" . (++$TS::seq) . '.gdb';
    open my $fh, '>', $f or die;
    print $fh "$_\n" for @_;
    close $fh;
    return $f;
}

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? undef : $TODO_GS{ $_[0] }; "$srv: $_[0]" };

    # ---- SIGKILL mid-run (extended-remote: gdb stays connected after the exit) ----
    my $ready = make_fifo('ready' . ++$n);
    my $file  = "$tmp/$srv-kill.tf";
    unlink $file;
    my $s = start_server($srv, launch => [$spin, $ready], reconnect => 1);
    my $g = spawn_gdb($s, prog => $spin, extended => 1, cmds => ['source ' . script(
        'break main', 'continue', 'trace write_file', 'actions', 'collect ticks', 'end', 'tstart',
        'continue', 'tstatus', "tsave $file")]);
    my $line = read_fifo_line($ready, 10, $s);
    my ($pid) = ($line // '') =~ /^(\d+)/;
    ok($pid, $T->('spin reported ready under a tracepoint'));
    kill 'KILL', $pid if $pid;
    my $o = norm(finish_child($g, 30));
    like($o, qr/^Program terminated with signal SIGKILL, Killed\.$/m, $T->('SIGKILL: gdb gets the exit'));
    like($o, qr/^Trace stopped by an error \(the traced process is gone\)\.$/m,
        $T->('SIGKILL: tstatus says why the run stopped'));
    my ($frames) = $o =~ /^Collected (\d+) trace frames\./m;
    ok(($frames // 0) >= 1, $T->('SIGKILL: the frames so far are kept (write_file of "ready")'));
    ok(-s $file, $T->('SIGKILL: tsave of the frames so far'));
    my ($t) = TS::_run(30, 'gdb', '-nx', '-batch', '-ex', "target tfile $file", '-ex', 'tfind start',
        '-ex', 'print ticks', $spin);
    like($t, qr/^Found trace frame 0, tracepoint \d+\n\$1 = 1$/m,
        $T->('SIGKILL: target tfile reads the frame back'));
    stop_server($s);

    # ---- the client goes away mid-run, disconnected tracing off ----
    $s = start_server($srv, launch => [$tp], reconnect => 1);
    my ($o1) = run_gdb($s, prog => $tp, cmds => ['source ' . script('break traced if a == 3',
        'continue', 'trace done', 'actions', 'collect sum', 'end', 'tstart', 'delete 1',
        'break traced', 'continue', 'tstatus', 'disconnect')]);
    like($o1, qr/^Trace is running on the target\.$/m, $T->('disconnect: the run was going'));
    my ($o2) = run_gdb($s, prog => $tp, cmds => ['tstatus', 'info tracepoints', 'kill']);
    like($o2, qr/^Created tracepoint \d+ for target's tracepoint \d+ at 0xADDR\.$/m,
        $T->('reconnect: the tracepoint is uploaded'));
    like($o2, qr/^Trace stopped because of disconnection\.$/m,
        $T->('reconnect: the run stopped when gdb left (tdisconnected)'));
    wait_server($s, 10);
    stop_server($s);

    # ---- 2000 short-lived threads (batches of 8) hitting a tracepoint ----
    my ($want) = TS::untraced($churn, 2000);
    $s = start_server($srv, launch => [$churn, 2000]);
    my ($o3) = run_gdb($s, prog => $churn, timeout => 120, cmds => ['source ' . script(
        'break main', 'continue', 'trace hit', 'actions', 'collect i', 'end', 'break done',
        'tstart', 'continue', 'tstop', 'tstatus', 'info tracepoints', 'continue')]);
    like($o3, qr/^Collected 2000 trace frames\.$/m, $T->('2000 short-lived threads: 2000 frames'));
    like($o3, qr/tracepoint already hit 2000 times/, $T->('2000 short-lived threads: 2000 hits'));
    like(TS::slurp($s->{out}), qr/^\Q$want\E/m, $T->('2000 short-lived threads: output as untraced'));
    wait_server($s, 10);
    stop_server($s);
}
done_testing();
