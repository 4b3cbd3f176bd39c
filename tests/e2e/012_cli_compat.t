#!/usr/bin/env perl
# gdbserver's command line, run the same way against gdbserver and tracestub: --wrapper,
# --disable-packet (vCont, T, Tthread, threads, qC, qfThreadInfo; gdb then uses c/C/s/S),
# --debug, `-` mode carrying nothing but packets, localhost:PORT --attach PID on IPv4, monitor
# help/exit, the program reading the server's stdin, and a second client after the first one
# vanished while the program ran. Options reach the servers through a wrapper script, since
# gdbserver takes them only before COMM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use IPC::Open3;
use Symbol qw(gensym);
use TS;
use RSP;

my ($envcwd, $sig, $basic, $spin) = map { fixture($_) } qw(envcwd signals basic spin);
plan skip_all => 'fixtures not built (make fixtures)' if grep { !-x $_ } $envcwd, $sig, $basic, $spin;

my %TODO_TS = ();
# gdbserver 13 answers without vCont differ from native gdb (which tracestub matches).
my %TODO_GS = (
    'no vCont: next in the handler' => 'gdbserver 13 with s packets: next runs past the handler\'s last line',
    'no vCont: stepi with the signal pending (S) enters the handler' =>
        'gdbserver 13: S runs the handler prologue, stops at the breakpoint, not at the entry',
);
our $TODO;
my $n = 0;
my $tmp = TS::tmpdir();

sub shq { my $s = shift; $s =~ s/'/'\\''/g; return "'$s'" }

# start_server with extra server options (and optionally stdin from a file, or without
# gdbserver's --once so it serves again), through a wrapper named like the server.
sub start_with {
    my ($srv, $opts, %o) = @_;
    my $dir = "$tmp/wrap" . ++$n;
    mkdir $dir or die "mkdir $dir: $!";
    my $real = $srv eq 'tracestub' ? abs_path(tracestub_path()) : `sh -c 'command -v gdbserver'`;
    chomp $real;
    my $stdin = delete $o{stdin};
    my $again = delete $o{serve_again};
    open my $fh, '>', "$dir/$srv" or die;
    print $fh "#!/bin/sh\n", ($again ? "[ \"\$1\" = --once ] && shift\n" : ''),
        'exec ', join(' ', map { shq($_) } $real, @$opts), ' "$@"',
        ($stdin ? ' <' . shq($stdin) : ''), "\n";
    close $fh;
    chmod 0755, "$dir/$srv";
    local $ENV{PATH} = "$dir:$ENV{PATH}";
    local $ENV{TS_TRACESTUB} = "$dir/tracestub";
    return start_server($srv, %o);
}

# Copy a server's stderr to a file as it comes (a --debug log outgrows the pipe the harness
# reads only at the end). Returns a sub giving the text once the server is gone.
sub log_to_file {
    my ($s) = @_;
    my $f = "$tmp/log" . ++$n;
    my $pid = fork // die;
    if (!$pid) {
        open my $o, '>', $f or POSIX::_exit(1);
        my $b;
        print $o $b while sysread $s->{errfh}, $b, 65536;
        close $o;
        POSIX::_exit(0);
    }
    close delete $s->{errfh};
    return sub { waitpid $pid, 0; return TS::slurp($f) };
}

my ($sig_out) = untraced($sig);

for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : $TODO_GS{ $_[0] }; "$srv: $_[0]" };

    # --wrapper CMD... --: the program runs through env, gdb debugs the program, not env.
    my $s = start_with($srv, ['--wrapper', 'env', 'TS_WRAPPED=yes', '--'], launch => [$envcwd, 'one']);
    my ($o) = run_gdb($s, prog => $envcwd, cmds => ['break report', 'continue', 'print argc', 'continue']);
    like($o, qr/^Breakpoint 1, report \(argc=2, argv=0xADDR\) at tests\/fixtures\/envcwd.c:\d+$/m,
        $T->('--wrapper: breakpoint in the wrapped PIE'));
    like($o, qr/^\$1 = 2$/m, $T->('--wrapper: program arguments kept'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('--wrapper: exits normally'));
    wait_server($s, 10);
    stop_server($s);
    my $out = TS::slurp($s->{out});
    like($out, qr/^TS_WRAPPED=yes$/m, $T->('--wrapper: the wrapper set the environment'));
    like($out, qr/^arg1=one$/m, $T->('--wrapper: argument reached the program'));

    # --disable-packet as gdbserver defines the names: check the replies.
    for my $case (['vCont', '?' => qr/^T05.*thread:/, 'vCont?' => qr/^$/, 'qC' => qr/^QC/],
        ['T', '?' => qr/^S05$/, 'vCont?' => qr/^vCont;/],
        ['Tthread', '?' => qr/^T05(?!.*thread:)(?!.*core:)/, 'qC' => qr/^QC/],
        ['threads', '?' => qr/^T05(?!.*thread:)/, 'vCont?' => qr/^$/, 'qC' => qr/^$/,
            'qfThreadInfo' => qr/^$/],
        ['qC', 'qC' => qr/^$/, 'qfThreadInfo' => qr/^m/],
        ['qfThreadInfo', 'qfThreadInfo' => qr/^$/, 'qsThreadInfo' => qr/^$/, 'qC' => qr/^QC/]) {
        my ($name, @pairs) = @$case;
        $s = start_with($srv, ["--disable-packet=$name"], launch => [$basic]);
        my $c = RSP->connect($s->{port});
        $c->ask('qSupported:multiprocess+;swbreak+');
        my @bad;
        while (my ($pkt, $want) = splice @pairs, 0, 2) {
            my $r = $c->ask($pkt) // '(none)';
            push @bad, "$pkt -> $r" if $r !~ $want;
        }
        $c->ask('k');
        $c->close;
        stop_server($s);
        ok(!@bad, $T->("--disable-packet=$name: replies as gdbserver defines them")) or diag("@bad");
    }

    # Without vCont gdb falls back to c, C (signal delivery), s and S (step into the handler).
    my @dbg = $srv eq 'tracestub' ? ('--debug') : ();
    $s = start_with($srv, ['--disable-packet=vCont', @dbg], launch => [$sig]);
    my $log = log_to_file($s);
    ($o) = run_gdb($s, prog => $sig,
        cmds => ['break usr1_handler', 'continue', 'continue', 'bt 1', 'next', 'next', 'continue',
            'stepi', 'bt 1', 'delete', 'continue', 'continue']);
    like($o, qr/^Program received signal SIGUSR1, User defined signal 1\.$/m,
        $T->('no vCont: signal stop'));
    like($o, qr/^Breakpoint 1, usr1_handler \(sig=10\) at tests\/fixtures\/signals.c:\d+$/m,
        $T->('no vCont: C delivers the signal, handler breakpoint hit'));
    like($o, qr/^#0  usr1_handler \(sig=10\) at .*\n\d+\t}$/m, $T->('no vCont: next in the handler'));
    like($o, qr/^usr1_handler \(sig=-?\d+\) at tests\/fixtures\/signals.c:(\d+)\n\1\t\{$/m,
        $T->('no vCont: stepi with the signal pending (S) enters the handler'));
    like($o, qr/^\[Inferior 1 \(process PID\) exited normally\]$/m, $T->('no vCont: exits normally'));
    wait_server($s, 10);
    stop_server($s);
    my $err = $log->();
    is(TS::slurp($s->{out}), $sig_out, $T->('no vCont: output identical to untraced'));
    if ($srv eq 'tracestub') {
        my %seen = map { $_ => 1 } $err =~ /^<- (c|C1e|s|S1e|vCont\?)$/mg;    # gdb's SIGUSR1 is 0x1e
        is(join(',', sort keys %seen), 'C1e,S1e,c,s,vCont?',
            '--debug: the packet log shows gdb used c, C, s and S (vCont refused)');
        like($err, qr/^-> PacketSize=/m, '--debug: replies logged too');
    }

    # monitor help lists exit; monitor exit ends the server with status 0.
    $s = start_server($srv, launch => [$basic]);
    ($o) = run_gdb($s, prog => $basic, cmds => ['monitor help',
        $srv eq 'tracestub' ? ('monitor set debug 2', 'monitor tstats') : (), 'monitor exit']);
    like($o, qr/^\s*exit\s/m, $T->('monitor help lists exit'));
    if ($srv eq 'tracestub') {
        # One table per layer, help generated from it: the live target's, then the
        # tracepoint layer's over it.
        like($o, qr/^  hwdebug - .*\n  set debug 0\|1 - engine event log on stderr\n(?:  set .*\n)*  tstats - /m,
            'monitor help: live commands, then the tracepoint layer\'s');
        like($o, qr/^usage: monitor set debug 0\|1$/m, 'monitor set debug 2: the usage line');
        like($o, qr/^frames held 0, created 0/m, 'monitor tstats through the tracepoint layer');
    }
    is(wait_server($s, 10), 0, $T->('monitor exit: server exits with status 0'));
    stop_server($s);

    # The program shares the server's stdin and stdout.
    my $in = "$tmp/stdin$n";
    open my $fh, '>', $in or die;
    print $fh "line one\nline two\n";
    close $fh;
    {
        local $ENV{TS_CAT} = 1;
        $s = start_with($srv, [], stdin => $in, launch => [$envcwd]);
    }
    ($o) = run_gdb($s, prog => $envcwd, cmds => ['continue']);
    like($o, qr/exited normally/, $T->('stdin: program runs to the end'));
    wait_server($s, 10);
    stop_server($s);
    like(TS::slurp($s->{out}), qr/^aslr=\w+\nline one\nline two\n\z/m,
        $T->('stdin: the program read the server\'s stdin and wrote its stdout'));
}

# `-` mode: every byte on stdout belongs to a packet or an ack, even with --debug and while the
# program writes; the program's output goes to stderr.
for my $cmd (['gdbserver', '-'], [tracestub_path(), '-'], [tracestub_path(), '--debug', '-']) {
    my $label = join(' ', map { m{/} ? 'tracestub' : $_ } @$cmd);
    next if $cmd->[0] eq 'gdbserver' && !grep { $_ eq 'gdbserver' } gdb_servers();
    my $errf = "$tmp/dash" . ++$n . '.err';
    open my $errfh, '>', $errf or die;
    my $pid = open3(my $w, my $r, '>&' . fileno($errfh), @$cmd, $basic, 3);
    binmode $r;
    my ($all, $reply) = ('', undef);
    my $ask = sub {
        my ($p) = @_;
        syswrite $w, RSP::frame($p);
        my $start = length $all;
        eval {
            local $SIG{ALRM} = sub { die "timeout\n" };
            alarm 10;
            while (substr($all, $start) !~ /\$([^#]*)#[0-9a-f]{2}/) {
                sysread($r, $all, 65536, length $all) or last;
            }
            alarm 0;
        };
        alarm 0;
        ($reply) = substr($all, $start) =~ /\$([^#]*)#/;
        return $reply // '';
    };
    syswrite $w, '+';
    $ask->('qSupported:multiprocess+;swbreak+');
    syswrite $w, '+';
    $ask->('QStartNoAckMode');
    syswrite $w, '+';
    like($ask->('?'), qr/^T05/, "$label: stop reply on stdout");
    like($ask->('vCont;c'), qr/^W0?3\b/, "$label: program ran to exit 3");
    close $w;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 10;
        1 while sysread($r, $all, 65536, length $all);
        waitpid $pid, 0;
        alarm 0;
    };
    alarm 0;
    kill 'KILL', $pid;
    close $errfh;
    (my $rest = $all) =~ s/\+|-|\$[^\$#]*#[0-9a-f]{2}//g;
    is($rest, '', "$label: nothing but packets and acks on stdout");
    like(TS::slurp($errf), qr/^exit 3$/m, "$label: the program's stdout went to stderr");
}

# localhost:PORT --attach PID (the option after COMM): on 127.0.0.1 even where /etc/hosts
# lists ::1 first (Debian's default; checked in a mount namespace when possible).
my $kid = fork // die;
if (!$kid) { open STDOUT, '>', '/dev/null'; exec $spin or POSIX::_exit(127) }
my @hosts_ns;
my $hosts = "$tmp/hosts";
if ($> == 0 && !system('unshare -m true 2>/dev/null')) {
    open my $hfh, '>', $hosts or die;
    print $hfh "::1 localhost ip6-localhost\n127.0.0.1 localhost\n";
    close $hfh;
    @hosts_ns = ('unshare', '-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', $hosts);
}
for my $ns (0, 1) {
  SKIP: {
        skip 'needs root and unshare for a private /etc/hosts', 3 if $ns && !@hosts_ns;
        my @cmd = (($ns ? @hosts_ns : ()), tracestub_path(), 'localhost:0', '--attach', $kid);
        my $what = $ns ? 'localhost:0 --attach PID (::1 first in /etc/hosts)' : 'localhost:0 --attach PID';
        my $pid = open(my $lfh, '-|', 'sh', '-c', 'exec "$@" 2>&1', 'sh', @cmd) // die;
        my $port;
        while (my $l = <$lfh>) { ($port) = $l =~ /Listening on port (\d+)/ and last }
        ok($port, "$what: listening");
        my $hex = sprintf('%04X', $port // 0);
        like(TS::slurp('/proc/net/tcp'), qr/^\s*\d+: 0100007F:$hex 00000000:0000 0A /m,
            "$what: bound to 127.0.0.1");
        my ($o) = run_gdb({ port => $port, kind => 'tracestub' }, prog => $spin, cmds => ['detach']);
        like($o, qr/^\[Inferior 1 \(process PID\) detached\]$/m, "$what: gdb on 127.0.0.1 attached and detached");
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}
kill 'KILL', $kid;
waitpid $kid, 0;

# The first client vanishes (SIGKILL) while the program runs; without --once a second client
# is served and finds the program stopped. gdbserver 13 never answers the second client.
for my $srv (gdb_servers()) {
    my $ready = make_fifo('again' . ++$n);
    my $tick = make_fifo('tick' . $n);
    my $s = start_with($srv, [], serve_again => 1, launch => [$spin, $ready, $tick]);
    my $g = spawn_gdb($s, prog => $spin, cmds => ['continue']);
    like(read_fifo_line($ready, 10, $s) // '', qr/^\d+ ready$/, "$srv: first client continued the program");
    like(read_fifo_line($tick, 10, $s) // '', qr/^\d+$/, "$srv: the program ticks");
    kill 'KILL', -$g->{pid}, $g->{pid};
    waitpid $g->{pid}, 0;
    local $TODO = $srv eq 'gdbserver' ? 'gdbserver 13 waits for the running program and never answers the next client' : undef;
    my ($o) = run_gdb($s, prog => $spin, cmds => ['print ticks > 0', 'bt 1', 'kill'],
        timeout => $srv eq 'gdbserver' ? 8 : 30);
    like($o, qr/^\$1 = 1$/m, "$srv: second client reads the stopped program");
    like($o, qr/^\[Inferior 1 \(process PID\) killed\]$/m, "$srv: second client kills it");
    stop_server($s);
}
done_testing();
