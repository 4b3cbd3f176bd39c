#!/usr/bin/env perl
# The server's command line, gdbserver-compatible: help/version, one-line errors with exit 2,
# a port in use (exit 1, like gdbserver), :PORT bound to loopback only, unix:PATH mode 0600,
# the non-loopback warning, options after COMM, `-` mode (only packets on stdout), --once,
# serving again after a disconnect, monitor help/exit.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use TS;
use RSP;

my $ts = tracestub_path();
plan skip_all => "$ts not built" if !-x $ts;
my $basic = fixture('basic');
my $spin = fixture('spin');
my $tmp = TS::tmpdir();

# Run a command, return (exit status, stdout, stderr).
sub run3 {
    my @cmd = @_;
    my ($o, $e) = ("$tmp/run3.out", "$tmp/run3.err");
    my $pid = fork // die;
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $o;
        open STDERR, '>', $e;
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return ($? >> 8, TS::slurp($o), TS::slurp($e));
}

my ($rc, $out, $err) = run3($ts, '--help');
is($rc, 0, '--help exits 0');
like($out, qr/^Usage: tracestub .*COMM/m, '--help prints usage on stdout');
($rc, $out) = run3($ts, '--version');
is($rc, 0, '--version exits 0');
like($out, qr/^tracestub \d+\.\d+/, '--version prints the version');

for my $bad ([['--frobnicate', ':0', $basic], 'unknown option'],
    [[], 'missing COMM'], [[':0'], 'no program'], [['nonsense', $basic], 'bad COMM'],
    [['--attach', ':0'], '--attach without pid'], [['--attach', 'x', ':0'], '--attach x'],
    [['--wrapper', 'env', ':0', $basic], '--wrapper without --']) {
    my ($args, $what) = @$bad;
    ($rc, $out, $err) = run3($ts, @$args);
    is($rc, 2, "$what: exit status 2");
    like($err, qr/\Atracestub: [^\n]+\n\z/, "$what: exactly one line on stderr");
}

# A port in use: exit 1 with a clear message (gdbserver also exits 1).
my $busy = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0', ReuseAddr => 0)
    or die "listen: $!";
my $bport = $busy->sockport;
($rc, $out, $err) = run3($ts, "127.0.0.1:$bport", $basic);
is($rc, 1, 'port in use: exit status 1');
like($err, qr/cannot listen on $bport: Address already in use/, 'port in use: message names the port');
SKIP: {
    skip 'gdbserver not installed', 1 if system('which gdbserver >/dev/null 2>&1');
    my ($grc) = run3('gdbserver', "127.0.0.1:$bport", $basic);
    is($grc, $rc, 'same exit status as gdbserver on a port in use');
}
close $busy;

# :0 binds loopback only and prints the port.
my $s = TS::start_server('tracestub', launch => [$basic]);
ok($s->{port}, ':0 (via 127.0.0.1:0) prints Listening on port N');
stop_server($s);
{
    my $pid = open(my $fh, '-|', "$ts :0 $basic 2>&1") or die;
    my $line = <$fh>;
    my ($port) = ($line // '') =~ /Listening on port (\d+)/;
    ok($port, ':PORT prints the chosen port');
    my $tcp = TS::slurp('/proc/net/tcp');
    my $hex = sprintf('%04X', $port // 0);
    like($tcp, qr/^\s*\d+: 0100007F:$hex 00000000:0000 0A /m, ':PORT listens on 127.0.0.1 only');
    kill 'TERM', $pid;
    waitpid $pid, 0;
    is($? >> 8, 0, 'SIGTERM: clean exit 0');
}

# Non-loopback address: served, with a one-time warning.
{
    my $pid = open(my $fh, '-|', "$ts 0.0.0.0:0 $basic 2>&1") or die;
    my $text = '';
    while (my $l = <$fh>) { $text .= $l; last if $l =~ /Listening/ }
    my @w = $text =~ /warning: .*no authentication/g;
    is(scalar @w, 1, 'non-loopback address: one warning about authentication');
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

# unix:PATH is created 0600 and serves gdb.
{
    my $path = "$tmp/ts.sock";
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', "$tmp/unix.out";
        open STDERR, '>', "$tmp/unix.err";
        exec $ts, "unix:$path", $basic or POSIX::_exit(127);
    }
    for (1 .. 100) { last if -S $path; select undef, undef, undef, 0.05 }
    ok(-S $path, 'unix: socket created');
    is((stat $path)[2] & 07777, 0600, 'unix: socket mode 0600');
    my ($o) = TS::_run(30, 'gdb', '-nx', '-batch', '-ex', "target remote $path",
        '-ex', 'continue', $basic);
    like($o, qr/exited normally/, 'unix: gdb runs the program to the end');
    waitpid $pid, 0;
    is($? >> 8, 0, 'unix: tracestub exits 0 after the program exits');
    like(TS::slurp("$tmp/unix.out"), qr/^exit 0$/m, 'unix: program output on the stub stdout');
    ok(!-e $path, 'unix: socket removed on exit');
}

# `-` mode: gdb sees only packets (no warnings), the program writes to stderr.
{
    my ($all) = TS::_run(30, 'sh', '-c',
        "gdb -nx -batch -ex 'target remote | $ts - $basic 2>$tmp/dash.err' -ex continue $basic");
    unlike($all, qr/Ignoring packet error|Bad packet|warning: Invalid remote reply/,
        '- mode: gdb reads clean packets');
    like($all, qr/exited normally/, '- mode: program runs to the end');
    like(TS::slurp("$tmp/dash.err"), qr/^exit 0$/m, '- mode: program stdout goes to stderr');
}

# Options after COMM (gdbserver's `COMM --attach PID`), and detach leaves it running.
{
    my $kid = fork // die;
    if (!$kid) { open STDOUT, '>', '/dev/null'; exec $spin or POSIX::_exit(127) }
    select undef, undef, undef, 0.2;
    my $pid = open(my $fh, '-|', "$ts 127.0.0.1:0 --attach $kid 2>&1") or die;
    my $port;
    while (my $l = <$fh>) { ($port) = $l =~ /Listening on port (\d+)/ and last }
    ok($port, 'COMM --attach PID: accepted after COMM');
    my ($o) = TS::run_gdb({ port => $port, kind => 'tracestub' }, cmds => ['detach']);
    like($o, qr/^\[Inferior 1 \(process PID\) detached\]$/m, 'attached and detached');
    waitpid $pid, 0;
    is($? >> 8, 0, 'exit 0 once the attached process is detached');
    ok(kill(0, $kid), 'the detached process still runs');
    kill 'KILL', $kid;
    waitpid $kid, 0;
}

# Without --once, serve again after a disconnect; monitor help/exit.
{
    my $s2 = TS::start_server('tracestub', launch => [$basic]);
    my ($o) = TS::run_gdb($s2, prog => $basic, cmds => ['disconnect']);
    like($o, qr/in _start \(\)/, 'first client connects (then disconnects)');
    ($o) = TS::run_gdb($s2, prog => $basic, cmds => ['monitor help', 'monitor exit']);
    like($o, qr/exit/, 'second client served: monitor help lists exit');
    is(wait_server($s2, 10) >> 8, 0, 'monitor exit: tracestub exits 0');
    stop_server($s2);
}

# --once: one connection only.
{
    my $pid = open(my $fh, '-|', "$ts --once 127.0.0.1:0 $basic 2>&1") or die;
    my $port;
    while (my $l = <$fh>) { ($port) = $l =~ /Listening on port (\d+)/ and last }
    TS::run_gdb({ port => $port, kind => 'tracestub' }, prog => $basic, cmds => ['disconnect']);
    my $st;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 10;
        waitpid $pid, 0;
        $st = $?;
        alarm 0;
    };
    is(defined $st ? $st >> 8 : -1, 0, '--once: exits after the first client goes');
}

# --disable-randomization (gdbserver's option, and its default): two launches map the program at
# one address; gdbserver 13 does the same with no option.
sub load_base {
    my ($server, $opt) = @_;
    my $cmd = $server eq 'gdbserver' ? "gdbserver --once $opt 127.0.0.1:0 $basic 2>&1"
                                     : "$ts --once $opt 127.0.0.1:0 $basic 2>&1";
    my $pid = open(my $fh, '-|', $cmd) or die;
    my $port;
    while (my $l = <$fh>) { ($port) = $l =~ /Listening on port (\d+)/ and last }
    my $c = RSP->connect($port);
    my ($p) = ($c->ask('qC') // '') =~ /^QC(?:p)?([0-9a-f]+)/;
    my ($base) = TS::slurp('/proc/' . hex($p // 0) . '/maps') =~ /^([0-9a-f]+)-/;
    $c->ask('k');
    $c->close;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    return $base // 'none';
}
{
    my @def = map { load_base('tracestub', '') } 1 .. 2;
    is($def[0], '555555554000', 'no option: randomisation off by default (the usual no-ASLR base)');
    is($def[1], $def[0], 'no option: the same address on the next run');
    SKIP: {
        skip 'gdbserver not installed', 1 if !-x '/usr/bin/gdbserver';
        is(load_base('gdbserver', ''), $def[0], 'gdbserver 13 starts it at the same address by default');
    }
}
{
    my @bases;
    for my $opt ('--disable-randomization', '--disable-randomization', '--no-disable-randomization') {
        my $pid = open(my $fh, '-|', "$ts --once $opt 127.0.0.1:0 $basic 2>&1") or die;
        my $port;
        while (my $l = <$fh>) { ($port) = $l =~ /Listening on port (\d+)/ and last }
        my $c = RSP->connect($port);
        my ($p) = ($c->ask('qC') // '') =~ /^QC(?:p)?([0-9a-f]+)/;
        my ($base) = TS::slurp('/proc/' . hex($p // 0) . '/maps') =~ /^([0-9a-f]+)-/;
        push @bases, $base // 'none';
        $c->ask('k');
        $c->close;
        waitpid $pid, 0;
    }
    is($bases[0], $bases[1], '--disable-randomization: same load address twice');
    is($bases[0], '555555554000', '--disable-randomization: the usual no-ASLR base');
}
# make install puts the man page beside the binary; it renders without a warning and names
# every option --help and trace --help list.
{
    my $dest = TS::tmpdir() . '/inst';
    my $root = "$FindBin::Bin/../..";
    my $log = `make -s -C $root install DESTDIR=$dest PREFIX=/usr 2>&1`;
    ok(-x "$dest/usr/bin/tracestub" && -f "$dest/usr/share/man/man1/tracestub.1",
        'make install: the binary and tracestub(1)') or diag($log);
    my $warn = `groff -man -Tutf8 -ww $dest/usr/share/man/man1/tracestub.1 2>&1 >/dev/null`;
    is($warn, '', 'the man page renders without warnings');
    my $man = `MANWIDTH=200 man -l $dest/usr/share/man/man1/tracestub.1 2>/dev/null`;
    $man =~ s/\x{2010}|‐/-/g;
    my %opts;
    $opts{$_} = 1 for (`$ts --help 2>&1` . `$ts trace --help 2>&1` . `$ts replay --help 2>&1`) =~ /(--[a-z][a-z-]+)/g;
    my @missing = grep { index($man, $_) < 0 && index($man, s/^--no-/--/r) < 0 } sort keys %opts;
    is("@missing", '', 'the man page names every option of the three --help texts');
}
done_testing();
