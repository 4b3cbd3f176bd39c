package TS;

# End-to-end harness: start a remote stub (gdbserver, lldb-server or tracestub) on a free port,
# drive the real gdb / lldb against it in batch mode, normalise the output.
# Every child gets a hard timeout; every process started here is killed in END.
# Environment: TS_SERVERS=gdbserver,lldb-server,tracestub (which servers to test; default the
# incumbent plus tracestub when build/tracestub exists), TS_TRACESTUB=path (binary to use as
# tracestub), TS_VERBOSE=1 (print every debugger transcript as TAP notes).

use strict;
use warnings;
use Exporter 'import';
use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h mkfifo);
use Test::More;

our @EXPORT = qw(fixture tracestub_path gdb_servers lldb_servers start_server stop_server
  wait_server run_gdb run_lldb spawn_gdb finish_child untraced norm tmpdir slurp
  make_fifo read_fifo_line server_label mi_start mi_cmd mi_wait mi_end);

my $ROOT = $ENV{TS_ROOT} // '.';
my @KIDS;    # pids to kill at END
my %HUNG;    # server kind => number of debugger sessions that hit their timeout
my $TMP = tempdir('ts-e2e-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub tmpdir { return $TMP }
sub fixture { return "$ROOT/build/fixtures/$_[0]" }
# TS_TRACESTUB=path overrides the binary (e.g. to validate the harness with a wrapper).
sub tracestub_path { return $ENV{TS_TRACESTUB} // "$ROOT/build/tracestub" }

# Servers to test a gdb scenario against: the incumbent first, tracestub when it is built.
# TS_SERVERS=gdbserver,tracestub overrides.
sub _servers {
    my @def = @_;
    if ($ENV{TS_SERVERS}) {
        my %want = map { $_ => 1 } split /,/, $ENV{TS_SERVERS};
        push @def, 'tracestub';
        my %seen;
        return grep { $want{$_} && !$seen{$_}++ } @def;
    }
    push @def, 'tracestub' if -x tracestub_path();
    return @def;
}
sub gdb_servers  { return _servers('gdbserver') }
sub lldb_servers { return _servers('lldb-server') }

sub server_label { my $s = shift; return ref $s ? $s->{kind} : $s }

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    my $t = <$fh>;
    return $t // '';
}

# Read from $fh until $re matches the accumulated text, at most $secs seconds.
sub _read_until {
    my ($fh, $re, $secs) = @_;
    my $buf = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm $secs;
        while ($buf !~ $re) {
            my $n = sysread $fh, $buf, 4096, length $buf;
            last if !$n;
        }
        alarm 0;
        1;
    };
    alarm 0;
    return ($buf, $ok && $buf =~ $re);
}

# start_server(KIND, launch => [PROG, ARGS...]) | (KIND, attach => PID) | (KIND, multi => 1)
# | ('tracestub', replay => [OPTIONS..., FILE]) (tracestub replay OPTIONS FILE 127.0.0.1:0)
# reconnect => 1: the server keeps serving after a client leaves (gdbserver without --once).
# Returns { kind, pid, port, out => file with the inferior's stdout, err => stderr so far }.
sub start_server {
    my ($kind, %o) = @_;
    my $id = ++$TS::seq;
    my $out = "$TMP/server$id.out";
    pipe my $er, my $ew or die "pipe: $!";
    my ($pr, $pw);
    my @cmd;
    if ($kind eq 'lldb-server') {
        pipe $pr, $pw or die "pipe: $!";
        my $fl = fcntl $pw, F_GETFD, 0;
        fcntl $pw, F_SETFD, $fl & ~FD_CLOEXEC;
        @cmd = ('lldb-server', 'gdbserver', '--pipe', fileno($pw), '127.0.0.1:0');
        push @cmd, '--attach', $o{attach} if $o{attach};
        push @cmd, '--', @{ $o{launch} } if $o{launch};
    } else {
        my $bin = $kind eq 'tracestub' ? tracestub_path() : 'gdbserver';
        @cmd = ($bin);
        push @cmd, 'replay', @{ $o{replay} } if $o{replay};
        push @cmd, '--once' if $kind eq 'gdbserver' && !$o{multi} && !$o{reconnect};
        push @cmd, '--multi' if $o{multi};
        push @cmd, '--attach' if $o{attach} && $kind eq 'gdbserver';
        push @cmd, '--attach', $o{attach} if $o{attach} && $kind eq 'tracestub';
        push @cmd, '127.0.0.1:0';
        push @cmd, $o{attach} if $o{attach} && $kind eq 'gdbserver';
        push @cmd, @{ $o{launch} } if $o{launch};
    }
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        setpgrp(0, 0);
        close $er;
        close $pr if $pr;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>&', $ew;
        exec @cmd or POSIX::_exit(127);
    }
    push @KIDS, $pid;
    close $ew;
    my ($port, $text, $ok);
    if ($pr) {
        close $pw;
        ($text, $ok) = _read_until($pr, qr/^\d+\D/, 10);
        close $pr;
        ($port) = $text =~ /^(\d+)/;
    } else {
        ($text, $ok) = _read_until($er, qr/Listening on port (\d+)/, 10);
        ($port) = $text =~ /Listening on port (\d+)/ if $ok;
    }
    my $s = { kind => $kind, pid => $pid, port => $port, out => $out, errfh => $er,
        cmd => "@cmd", err => $pr ? '' : $text };
    if (!$port) {
        diag("server did not start: @cmd: $text");
        $HUNG{$kind}++;
    }
    return $s;
}

sub _drain_err {
    my ($s) = @_;
    return if !$s->{errfh};
    my ($t) = _read_until($s->{errfh}, qr/\z(?!)/, 2);    # until EOF or 2s
    $s->{err} .= $t;
    close $s->{errfh};
    delete $s->{errfh};
}

# Wait (at most $secs) for the server to exit by itself; returns its wait status or undef.
sub wait_server {
    my ($s, $secs) = @_;
    return $s->{status} if defined $s->{status};
    my $st;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(_budget($s, $secs // 10));
        waitpid $s->{pid}, 0;
        $st = $?;
        alarm 0;
    };
    alarm 0;
    if (defined $st) {
        $s->{status} = $st;
        _drain_err($s);
    }
    return $st;
}

sub stop_server {
    my ($s) = @_;
    return if !$s || !$s->{pid};
    if (!defined $s->{status}) {
        kill 'KILL', -$s->{pid};
        kill 'KILL', $s->{pid};
        waitpid $s->{pid}, 0;
        $s->{status} = $?;
    }
    _drain_err($s);
    return $s->{err};
}

# Run a command with a hard timeout; returns (stdout+stderr, exit code, wait status).
sub _run {
    my ($secs, @cmd) = @_;
    my $outf = "$TMP/run" . (++$TS::seq) . ".out";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $outf;
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    push @KIDS, $pid;
    return finish_child({ pid => $pid, out => $outf }, $secs);
}

# Wait for a child started by _run/spawn_gdb, killing it after $secs.
sub finish_child {
    my ($c, $secs) = @_;
    $secs = _budget($c->{server}, $secs) if $c->{server};
    my $st;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm $secs;
        waitpid $c->{pid}, 0;
        $st = $?;
        alarm 0;
    };
    alarm 0;
    $TS::last_timed_out = !defined $st;
    if (!defined $st) {
        diag("timeout after ${secs}s, killing pid $c->{pid}");
        kill 'KILL', -$c->{pid};
        kill 'KILL', $c->{pid};
        waitpid $c->{pid}, 0;
        $st = $?;
    }
    _note_hang($c->{server}) if $c->{server};
    my $text = slurp($c->{out});
    return wantarray ? ($text, $st >> 8, $st) : $text;
}

# Once a server made a session hang (or did not start), every later wait involving that server
# kind gets a short leash, so a broken server cannot stretch the suite past a few minutes.
sub _budget {
    my ($s, $secs) = @_;
    return $secs if !ref $s;
    return $HUNG{ $s->{kind} } ? ($secs < 2 ? $secs : 2) : $secs;
}

sub _note_hang {
    my ($s) = @_;
    $HUNG{ $s->{kind} }++ if $TS::last_timed_out;
}

# The last session's hang was the client's own (a known flake of it, seen with the reference
# server too) and the caller runs it again: later waits keep their full budget.
sub forgive_hang {
    my ($s) = @_;
    $HUNG{ $s->{kind} }-- if $HUNG{ $s->{kind} };
}

# One quick session against $kind with a short timeout: if the server cannot even connect,
# stop and report, every later wait for that server kind is cut short (see _budget).
sub preflight {
    my ($kind, $client) = @_;
    return 1 if $kind ne 'tracestub';
    my $s = start_server($kind, launch => [fixture('basic')]);
    my $ok = 0;
    my $o;
    if ($s->{port}) {
        ($o) = ($client // 'gdb') eq 'lldb'
            ? run_lldb($s, prog => fixture('basic'), cmds => ['register read rip', 'process kill'], timeout => 10)
            : run_gdb($s, prog => fixture('basic'), cmds => ['info registers rip', 'kill'], timeout => 10);
        $ok = $o =~ /rip.*0xADDR/;
    }
    stop_server($s);
    if (!$ok) {
        $HUNG{$kind}++;
        diag("$kind: preflight session failed; later waits for it are cut to 2s\n" . ($o // q{}));
    }
    return $ok;
}

sub _gdb_argv {
    my ($s, %o) = @_;
    my $mode = $o{extended} ? 'extended-remote' : 'remote';
    my @a = ('gdb', '-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off',
        '-ex', 'set width 0', '-ex', 'set sysroot /', '-ex', 'set debuginfod enabled off');
    push @a, map { ('-ex', $_) } @{ $o{pre} || [] };
    push @a, '-ex', "target $mode 127.0.0.1:$s->{port}";
    push @a, map { ('-ex', $_) } @{ $o{cmds} || [] };
    push @a, $o{prog} if $o{prog};
    return @a;
}

# run_gdb($server, prog => PATH, cmds => [...], pre => [...], extended => 0|1, timeout => 60)
# Returns (normalised output, raw output, exit code of gdb).
sub run_gdb {
    my ($s, %o) = @_;
    my ($raw, $rc) = _run(_budget($s, $o{timeout} // 30), _gdb_argv($s, %o));
    _note_hang($s);
    note("---- gdb vs $s->{kind} ----\n$raw") if $ENV{TS_VERBOSE};
    return (norm($raw), $raw, $rc);
}

# gdb under MI, driven one command at a time (asynchronous records, such as non-stop's
# *stopped, arrive between commands): mi_start($server, prog => PATH, pre => [MI commands]),
# then mi_cmd($mi, COMMAND, qr/until/, secs) returns the text read up to the match (and
# whether it matched), mi_wait($mi, qr/until/, secs) reads without sending, mi_end($mi)
# returns everything gdb printed.
sub mi_start {
    my ($s, %o) = @_;
    pipe my $ir, my $iw or die "pipe: $!";
    pipe my $or, my $ow or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        setpgrp(0, 0);
        close $iw;
        close $or;
        open STDIN, '<&', $ir;
        open STDOUT, '>&', $ow;
        open STDERR, '>&', $ow;
        exec 'gdb', '-nx', '-q', '-i=mi2', $o{prog} or POSIX::_exit(127);
    }
    push @KIDS, $pid;
    close $ir;
    close $ow;
    my $old = select $iw;
    $| = 1;
    select $old;
    my $mi = { pid => $pid, in => $iw, out => $or, buf => '', all => '', server => $s };
    mi_wait($mi, qr/^\(gdb\)/m, 20);
    mi_cmd($mi, $_, qr/^\^(done|error)/m, 10) for '-gdb-set pagination off',
        '-gdb-set sysroot /', '-gdb-set debuginfod enabled off', @{ $o{pre} || [] };
    return $mi;
}

sub mi_wait {
    my ($mi, $re, $secs) = @_;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(_budget($mi->{server}, $secs));
        while ($mi->{buf} !~ $re) {
            my $n = sysread $mi->{out}, $mi->{buf}, 4096, length $mi->{buf};
            last if !$n;
        }
        alarm 0;
        1;
    };
    alarm 0;
    my $got = $ok && $mi->{buf} =~ $re;
    my $text;
    if ($got) {
        $text = substr($mi->{buf}, 0, $+[0]);
        $mi->{buf} = substr($mi->{buf}, $+[0]);
    } else {
        $text = $mi->{buf};
        $mi->{buf} = '';
        diag("MI: no $re within ${secs}s");
    }
    $mi->{all} .= $text;
    return wantarray ? ($text, $got) : $text;
}

sub mi_cmd {
    my ($mi, $cmd, $re, $secs) = @_;
    print { $mi->{in} } "$cmd\n";
    $mi->{all} .= "<<< $cmd\n";
    return mi_wait($mi, $re // qr/^\^(done|error|running|connected)[^\n]*\n/m, $secs // 10);
}

sub mi_end {
    my ($mi) = @_;
    print { $mi->{in} } "-gdb-exit\n";
    close $mi->{in};
    finish_child({ pid => $mi->{pid}, out => '/dev/null' }, 10);
    note("---- MI vs $mi->{server}{kind} ----\n$mi->{all}") if $ENV{TS_VERBOSE};
    return $mi->{all};
}

# Start gdb in the background (for Ctrl-C); returns a child handle for finish_child().
sub spawn_gdb {
    my ($s, %o) = @_;
    my $outf = "$TMP/gdb" . (++$TS::seq) . ".out";
    my @argv = _gdb_argv($s, %o);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $outf;
        open STDERR, '>&', \*STDOUT;
        exec @argv or POSIX::_exit(127);
    }
    push @KIDS, $pid;
    return { pid => $pid, out => $outf, server => $s };
}

# run_lldb($server, prog => PATH, cmds => [...], timeout => 60)
sub run_lldb {
    my ($s, %o) = @_;
    my @a = ('lldb', '--no-lldbinit', '-b', '-o', 'settings set auto-confirm true');
    push @a, '-o', "target create $o{prog}" if $o{prog};
    push @a, map { ('-o', $_) } @{ $o{pre} || [] };
    push @a, '-o', "gdb-remote 127.0.0.1:$s->{port}";
    push @a, map { ('-o', $_) } @{ $o{cmds} || [] };
    my ($raw, $rc) = _run(_budget($s, $o{timeout} // 30), @a);
    _note_hang($s);
    note("---- lldb vs $s->{kind} ----\n$raw") if $ENV{TS_VERBOSE};
    return (norm($raw), $raw, $rc);
}

# Run a fixture without any debugger: (stdout+stderr, exit code).
sub untraced {
    my (@cmd) = @_;
    my ($out, $rc) = _run(30, @cmd);
    return ($out, $rc);
}

sub make_fifo {
    my ($name) = @_;
    my $p = "$TMP/$name";
    unlink $p;
    mkfifo($p, 0600) or die "mkfifo $p: $!";
    return $p;
}

# Open a FIFO for reading and return its first line (blocks until a writer comes, at most $secs;
# less if server $s already hung).
sub read_fifo_line {
    my ($p, $secs, $s) = @_;
    $secs = _budget($s, $secs // 10);
    my $line;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm $secs;
        open my $fh, '<', $p or die "open $p: $!";
        $line = <$fh>;
        close $fh;
        alarm 0;
    };
    alarm 0;
    return $line;
}

# The bytes of the executable mapping of $pid's file whose basename is $name, read through
# /proc/PID/mem (what the program runs, int3s included); '' when not found.
sub code_of {
    my ($pid, $name) = @_;
    no warnings qw(portable);
    open my $m, '<', "/proc/$pid/maps" or return '';
    my ($lo, $hi);
    while (<$m>) {
        my ($a, $b, $path) = /^([0-9a-f]+)-([0-9a-f]+) r-xp \S+ \S+ \S+\s+(\S+)/ or next;
        if ($path =~ m{/\Q$name\E$}) {
            ($lo, $hi) = (hex $a, hex $b);
            last;
        }
    }
    return '' if !$lo;
    open my $fh, '<:raw', "/proc/$pid/mem" or return '';
    sysseek $fh, $lo, 0 or return '';
    my $buf = '';
    sysread $fh, $buf, $hi - $lo;
    return $buf;
}

# Wait at most $secs for child $pid; its wait status, or undef after killing it (timed out;
# its whole process group when $group).
sub wait_pid {
    my ($pid, $secs, $group) = @_;
    my $st;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm $secs;
        waitpid $pid, 0;
        $st = $?;
        alarm 0;
    };
    alarm 0;
    if (!defined $st) {
        kill 'KILL', $group ? -$pid : $pid;
        waitpid $pid, 0;
    }
    return $st;
}

# Normalise debugger output so runs against different servers can be compared.
sub norm {
    my ($t) = @_;
    my @out;
    for my $l (split /\n/, $t) {
        next if $l =~ /^Reading .* from remote target\.\.\.$/;
        next if $l =~ /^warning: File transfers from remote targets can be slow/;
        next if $l =~ /^Reading symbols from /;
        next if $l =~ /^\[Thread debugging using libthread_db enabled\]/;
        next if $l =~ /^Using host libthread_db library/;
        next if $l =~ /^(Download|Debuginfod)/;
        next if $l =~ /^\[New Thread /;
        next if $l =~ /^\[Thread .* exited\]/;
        next if $l =~ /^\[Switching to Thread /;
        next if $l =~ /^Traceback|^  File "<string>"|^ModuleNotFoundError/;    # lldb python noise
        next if $l =~ /^\s*$/;
        $l =~ s/\(process \d+\)/(process PID)/g;
        $l =~ s/\bprocess \d+\b/process PID/g;
        $l =~ s/\bpid = \d+/pid = PID/g;
        $l =~ s/\bLWP \d+/LWP TID/g;
        $l =~ s/\bProcess \d+/Process PID/g;
        $l =~ s/\btid = 0x[0-9a-f]+/tid = TID/g;
        $l =~ s/\bThread 0x[0-9a-f]+/Thread THREAD/g;
        $l =~ s/\bThread \d+(\.\d+)?\b/Thread N/g;
        $l =~ s/^\*?\s*\d+\s+Thread N/  N Thread N/;                # info threads rows
        $l =~ s/\* thread #\d+/* thread #N/g;
        $l =~ s/\bthread #\d+/thread #N/g;
        $l =~ s/0x0*[1-9a-f][0-9a-f]{5,}/0xADDR/g;
        $l =~ s/127\.0\.0\.1:\d+/127.0.0.1:PORT/g;
        $l =~ s/\s+$//;
        push @out, $l;
    }
    return join("\n", @out) . "\n";
}

END {
    my $rc = $?;
    for my $p (@KIDS) {
        next if waitpid($p, WNOHANG) != 0;
        kill 'KILL', -$p;
        kill 'KILL', $p;
        waitpid $p, 0;
    }
    $? = $rc;
}

1;
