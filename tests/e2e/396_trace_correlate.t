#!/usr/bin/env perl
# --correlate: requests followed through sockets. A client's write becomes the CLIENT span
# ("send request") of the request's own trace, linked to the traced call that wrote it; the
# server's read of it a SERVER span ("serve request") under it, and the calls the server
# thread makes meanwhile nest under that. Ids come from the connection and byte offsets, so
# one tracer watching both processes and two tracers one each give the same spans. Checked
# with tests/fixtures/netpair (8 concurrent connections, TCP and Unix sockets) and with a real
# PostgreSQL: psql's PQsendQuery -> its backend's pg_parse_query and PortalRun.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Math::BigInt;
use File::Temp qw(tempdir);
use TS;
use TraceRun;

trace_ok_or_skip();
my $np = fixture('netpair');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $np;
my $tmp = TS::tmpdir();

sub spans_in {
    my @s;
    for my $file (@_) {
        for my $line (grep { /\S/ } split /\n/, (-e $file ? TS::slurp($file) : '')) {
            my $req = decode_json($line);
            for my $rs (@{ $req->{resourceSpans} }) {
                my %res = map { $_->{key} => (values %{ $_->{value} })[0] } @{ $rs->{resource}{attributes} };
                for my $sp (map { @{ $_->{spans} } } @{ $rs->{scopeSpans} }) {
                    my %a = map { $_->{key} => (values %{ $_->{value} })[0] } @{ $sp->{attributes} // [] };
                    push @s, { %$sp, attr => \%a, service => $res{'service.name'}, pid => $res{'process.pid'} };
                }
            }
        }
    }
    return @s;
}

# For each span named $inner: its server span (its parent, or its parent's parent when that
# parent is named $via), the server span's parent, and the span that one links to.
sub chains_via {
    my ($inner, $via, @s) = @_;
    my %by = map { $_->{spanId} => $_ } @s;
    my @out;
    for my $h (grep { $_->{name} eq $inner } @s) {
        my $srv = $by{ $h->{parentSpanId} // '' };
        $srv = $srv && $srv->{name} eq $via ? $by{ $srv->{parentSpanId} // '' } : undef if defined $via;
        my $anc = $srv ? $by{ $srv->{parentSpanId} // '' } : undef;
        my $lnk = $anc && $anc->{links} ? $by{ $anc->{links}[0]{spanId} } : undef;
        push @out, [$h, $srv, $anc, $lnk];
    }
    return @out;
}
sub chains { return chains_via($_[0], undef, @_[1 .. $#_]) }

# How many of the chains join: serve request (SERVER) under send request (CLIENT), all in one
# trace, linked to $asker whose argument $arg equals the inner span's.
sub joined {
    my ($asker, $arg, @c) = @_;
    return scalar grep {
        my ($h, $srv, $anc, $lnk) = @$_;
        $srv && $srv->{name} eq 'serve request' && $srv->{kind} == 2
            && $anc && $anc->{name} eq 'send request' && $anc->{kind} == 3
            && $h->{traceId} eq $srv->{traceId} && $srv->{traceId} eq $anc->{traceId}
            && $lnk && $lnk->{name} eq $asker
            && ($lnk->{attr}{"arg.$arg"} // -1) eq ($h->{attr}{"arg.$arg"} // -2)
    } @c;
}

# every handle(id) under serve request (SERVER) under send request (CLIENT, same trace) that
# links to ask(fd, id) with the same id
sub check_netpair {
    my ($what, $n, @s) = @_;
    my @c = chains('handle', @s);
    is(scalar @c, $n, "$what: $n handle spans");
    is(joined('ask', 'id', @c), $n, "$what: each under the request its own ask(id) sent (same id, no cross-talk)")
        or diag(explain([map { [map { $_ ? "$_->{name} " . ($_->{attr}{'arg.id'} // '') : 'none' } @$_] } @c[0 .. 2]]));
    my ($srv) = grep { $_->{name} eq 'serve request' } @s;
    ok($srv && $srv->{attr}{'net.transport'} && defined $srv->{attr}{'net.peer.name'},
        "$what: net.transport and net.peer.name on the socket spans");
}

# The ids README promises, computed here from what the spans say: FNV-1a 64 of
# "CLIENT>SERVER/OFFSET/TAG" (big-endian hex), the client's and server's ip:port as the
# server span and the request span name their peers.
sub fnv1a {
    my ($text) = @_;
    my $h = Math::BigInt->from_hex('cbf29ce484222325');
    my ($prime, $mod) = (Math::BigInt->from_hex('100000001b3'), Math::BigInt->new(2)**64);
    for my $c (unpack 'C*', $text) {
        $h = (($h ^ $c) * $prime) % $mod;
    }
    return sprintf '%016s', substr($h->as_hex, 2);
}

sub check_formula {
    my ($what, @s) = @_;
    my %by = map { $_->{spanId} => $_ } @s;
    my ($n, $good) = (0, 0);
    for my $srv (grep { $_->{name} eq 'serve request' } @s) {
        my $anc = $by{ $srv->{parentSpanId} // '' } or next;
        my $flow = "$srv->{attr}{'net.peer.name'}:$srv->{attr}{'net.peer.port'}>"
            . "$anc->{attr}{'net.peer.name'}:$anc->{attr}{'net.peer.port'}";
        # the first request of each connection is at offset 0
        next if $srv->{spanId} ne fnv1a("$flow/0/server");
        $n++;
        $good++ if $srv->{parentSpanId} eq fnv1a("$flow/0/anchor")
            && $srv->{traceId} eq fnv1a("$flow/0/trace-hi") . fnv1a("$flow/0/trace-lo");
    }
    ok($n == 8 && $good == 8, "$what: the 8 connections' first requests carry the ids README gives ($good of $n)");
}

# A netpair server for 8 connections under a tracer of its own (handle traced, OTLP into
# $file); its pid.
sub traced_server {
    my ($name, $file, $port, @u) = @_;
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', "$tmp/$name.out";
        open STDERR, '>', "$tmp/$name.err";
        exec TS::tracestub_path(), 'trace', '--correlate', '-e', 'handle', '-q', '--otlp-file', $file,
            '--', $np, 'server', $port, 8, @u or POSIX::_exit(127);
    }
    return $pid;
}

for my $mode ('tcp', 'unix') {
    my @u = $mode eq 'unix' ? ('unix') : ();
    # one tracer, both processes (the server is a fork of the client)
    my $f1 = "$tmp/one-$mode.jsonl";
    my $r = trace_run(120, '-f', '--correlate', '-e', 'handle', '-e', 'ask', '-q', '--otlp-file', $f1,
        '--', $np, 'both', 8, 5, @u);
    like($r->{out}, qr/served 40/, "$mode, one tracer: the server served 40");
    like($r->{out}, qr/answered 40/, "$mode, one tracer: the client got 40 answers");
    is($r->{rc}, 0, "$mode, one tracer: exit status 0");
    check_netpair("$mode, one tracer", 40, spans_in($f1));
    check_formula("$mode, one tracer", spans_in($f1)) if $mode eq 'tcp';

    # two tracers, one per process, never talking
    my ($fs, $fc, $port) = ("$tmp/s-$mode.jsonl", "$tmp/c-$mode.jsonl", "$tmp/port-$mode");
    my $spid = traced_server("srv-$mode", $fs, $port, @u);
    my $rc = trace_run(120, '--correlate', '-e', 'ask', '-q', '--otlp-file', $fc, '--', $np, 'client', $port, 8, 5, @u);
    waitpid($spid, 0);
    like($rc->{out}, qr/answered 40/, "$mode, two tracers: the client got 40 answers");
    check_netpair("$mode, two tracers", 40, spans_in($fs, $fc));
    my %svc = map { $_->{name} => $_->{service} } spans_in($fs, $fc);
    is("$svc{'send request'} $svc{'serve request'}", 'netpair netpair', "$mode, two tracers: each side's service.name");

    # one tracer, a launched client and an attached server (-p with a program)
    my ($fa, $porta) = ("$tmp/a-$mode.jsonl", "$tmp/porta-$mode");
    my $apid = fork // die;
    if (!$apid) {
        open STDOUT, '>', "$tmp/asrv-$mode.out";
        open STDERR, '>', "$tmp/asrv-$mode.err";
        exec $np, 'server', $porta, 8, @u or POSIX::_exit(127);
    }
    for (1 .. 100) { last if -s $porta; select undef, undef, undef, 0.05 }
    my $ra = trace_run(120, '--correlate', '-e', 'handle', '-e', 'ask', '-q', '--otlp-file', $fa,
        '-p', $apid, '--', $np, 'client', $porta, 8, 5, @u);
    waitpid($apid, 0);
    like($ra->{out}, qr/answered 40/, "$mode, -p server -- client: the client got 40 answers");
    like($ra->{err}, qr/attached to process $apid as well/, "$mode, -p server -- client: the server attached");
    is($ra->{rc}, 0, "$mode, -p server -- client: the client's exit status");
    like(TS::slurp("$tmp/asrv-$mode.out"), qr/served 40/, "$mode, -p server -- client: the server served 40");
    check_netpair("$mode, -p server -- client", 40, spans_in($fa));
    my %pids = map { ($_->{pid} // 0) => 1 } grep { $_->{name} eq 'handle' } spans_in($fa);
    is_deeply([keys %pids], [$apid], "$mode, -p server -- client: the handle spans are the attached server's");
}

# ---- pipelined requests: 3 at a time, written back to back before any answer; the server
# reading a line at a time, or whatever has arrived (several requests in one read) ----
for my $bulk (1, 30, 0) {
    my $what = $bulk == 30 ? 'pipelined, each batch in one read' : $bulk ? 'pipelined, bulk reads'
        : 'pipelined, line reads';
    local $ENV{NETPAIR_PIPE} = 3;
    local $ENV{NETPAIR_BULK} = $bulk;
    delete $ENV{NETPAIR_BULK} if !$bulk;
    my $f = "$tmp/pipe$bulk.jsonl";
    my $r = trace_run(120, '-f', '--correlate', '-e', 'handle', '-e', 'send_req', '-q', '--otlp-file', $f,
        '--', $np, 'both', 8, 6);
    like($r->{out}, qr/answered 48/, "$what, one tracer: 48 answers");
    my @c = chains('handle', spans_in($f));
    is(scalar @c, 48, "$what, one tracer: 48 handle spans");
    is(joined('send_req', 'id', @c), 48, "$what, one tracer: each under the request its own send_req(id) wrote")
        or diag(explain([map { [map { $_ ? "$_->{name} " . ($_->{attr}{'arg.id'} // '') : 'none' } @$_] } @c[0 .. 5]]));
    next if !$bulk;
    my ($fs, $fc, $port) = ("$tmp/ps$bulk.jsonl", "$tmp/pc$bulk.jsonl", "$tmp/port-pipe$bulk");
    my $spid = traced_server("psrv$bulk", $fs, $port);
    my $rc = trace_run(120, '--correlate', '-e', 'send_req', '-q', '--otlp-file', $fc, '--', $np, 'client', $port, 8, 6);
    waitpid($spid, 0);
    like($rc->{out}, qr/answered 48/, "$what, two tracers: 48 answers");
    @c = chains('handle', spans_in($fs, $fc));
    is(joined('send_req', 'id', @c), 48, "$what, two tracers: each under the request its own send_req(id) wrote");
}

# ---- PostgreSQL: psql and the backend it talks to, a tracer each ----
SKIP: {
    my $bin = '/usr/lib/postgresql/15/bin';
    skip 'PostgreSQL 15, the postgres user and root needed', 8
        if !-x "$bin/postgres" || !getpwnam('postgres') || $>;
    my $dir = tempdir('ts-pgc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    mkdir "$dir/sock";
    my ($uid, $gid) = (getpwnam('postgres'))[2, 3];
    chown $uid, $gid, $dir, "$dir/sock";
    plain_run(120, 'runuser', '-u', 'postgres', '--', "$bin/initdb", '-D', "$dir/data", '-A', 'trust', '-U', 'postgres');
    my $st = plain_run(60, 'runuser', '-u', 'postgres', '--', "$bin/pg_ctl", '-D', "$dir/data", '-o',
        "-k $dir/sock -c listen_addresses=", '-w', '-l', "$dir/log", 'start');
    skip "postgres did not start: $st->{err}", 8 if $st->{rc};
    my ($pm) = split /\n/, TS::slurp("$dir/data/postmaster.pid");
    my ($fs, $fc) = ("$tmp/pg-s.jsonl", "$tmp/pg-c.jsonl");
    my $spid = fork // die;
    if (!$spid) {
        open STDOUT, '>', "$tmp/pg-s.out";
        open STDERR, '>', "$tmp/pg-s.err";
        exec TS::tracestub_path(), 'trace', '-f', '-p', $pm, '--correlate', '-e', 'pg_parse_query',
            '-e', 'PortalRun', '-q', '--otlp-file', $fs or POSIX::_exit(127);
    }
    for (1 .. 100) { last if TS::slurp("$tmp/pg-s.err") =~ /attached to process/; select(undef, undef, undef, 0.1) }
    my @psql = ('psql', '-h', "$dir/sock", '-U', 'postgres', '-d', 'postgres', '-X', '-A', '-t',
        '-c', 'SELECT 40+2', '-c', 'SELECT 7*6');
    my $r = trace_run(120, '--correlate', '-e', 'libpq.so.5:PQsendQuery', '-e', 'libpq.so.5:PQexec', '-q',
        '--otlp-file', $fc, '--', @psql);
    select(undef, undef, undef, 0.5);
    kill 'INT', $spid;
    waitpid($spid, 0);
    # one tracer for both: psql launched, the postmaster attached (-f: its backends)
    my $f1 = "$tmp/pg-one.jsonl";
    my $r1 = trace_run(120, '-f', '-p', $pm, '--correlate', '-e', 'pg_parse_query', '-e', 'PortalRun',
        '-e', 'libpq.so.5:PQsendQuery', '-e', 'libpq.so.5:PQexec', '-q', '--otlp-file', $f1, '--', @psql);
    is($r1->{out}, "42\n42\n", 'pg, one tracer (-f -p postmaster -- psql): psql prints 42 twice');
    my @c1 = chains('pg_parse_query', spans_in($f1));
    my @q1 = map { $_->[3] ? $_->[3]{attr}{'arg.query'} // '' : '' } sort { $a->[0]{startTimeUnixNano} <=> $b->[0]{startTimeUnixNano} } @c1;
    is("@q1", 'SELECT 40+2 SELECT 7*6', 'pg, one tracer: each pg_parse_query under the PQsendQuery of its query')
        or diag($r1->{err});
    system('runuser', '-u', 'postgres', '--', "$bin/pg_ctl", '-D', "$dir/data", '-m', 'immediate', 'stop');
    is($r->{out}, "42\n42\n", 'pg: psql traced prints 42 twice');
    my @s = spans_in($fs, $fc);
    my @c = chains('pg_parse_query', @s);
    is(scalar @c, 2, 'pg: the backend parsed 2 queries');
    my @q = map { $_->[3] ? $_->[3]{attr}{'arg.query'} // '' : '' } sort { $a->[0]{startTimeUnixNano} <=> $b->[0]{startTimeUnixNano} } @c;
    is("@q", 'SELECT 40+2 SELECT 7*6',
        "pg: each pg_parse_query under serve request under send request, linked to psql's PQsendQuery of that query")
        or diag(explain([map { [map { $_ ? $_->{name} : 'none' } @$_] } @c]));
    ok(!grep({ !$_->[1] || $_->[1]{service} ne 'postgres' || !$_->[2] || $_->[2]{service} ne 'psql' } @c),
        'pg: the server span from the postgres process, the request span from psql');
    my @pr = chains('PortalRun', @s);
    is(scalar(grep { $_->[1] && $_->[1]{name} eq 'serve request' } @pr), 2, 'pg: PortalRun nests under the same server spans');
    is(scalar(grep { $_->[0]{traceId} eq ($_->[2] ? $_->[2]{traceId} : '') } @c), 2,
        'pg: the backend work is in the request trace psql started');
}
# ---- Go: net/http client and server in one process (go_webapp). The server side through
# the runtime's poller, nesting by goroutine; the client's bytes are written by the
# transport's writer goroutine, so the link goes to the asker through the *http.Request
# that roundTrip hands over and Request.write writes. ----
SKIP: {
    my $web = fixture('go_webapp');
    skip 'go_webapp not built', 4 if !-x $web;
    my $f = "$tmp/go.jsonl";
    my $u = plain_run(60, $web, 3);
    my $r = trace_run(120, '--correlate', '-e', 'main.handle', '-e', 'main.fetch', '-e', 'main.greet', '-q',
        '--otlp-file', $f, '--', $web, 3);
    is($r->{out}, $u->{out}, 'go: output identical to an untraced run');
    my @s = spans_in($f);
    my @c = chains_via('main.greet', 'main.handle', @s);
    is(scalar @c, 4, 'go: 4 greet spans (3 and the failing one)');
    is(joined('main.fetch', 'n', @c), 4, 'go: each greet(n) under handle, under serve request, under the request linked to fetch(n) of the same n');
    is(scalar(grep { $_->{name} eq 'serve request' } @s), 4, 'go: one server span per request');
}
# ---- Go: client and server as two processes (go_httppair), a tracer each ----
SKIP: {
    my $hp = fixture('go_httppair');
    skip 'go_httppair not built', 3 if !-x $hp;
    my ($fs, $fc, $port) = ("$tmp/hp-s.jsonl", "$tmp/hp-c.jsonl", "$tmp/hp.port");
    my $spid = fork // die;
    if (!$spid) {
        open STDOUT, '>', "$tmp/hp-s.out";
        open STDERR, '>', "$tmp/hp-s.err";
        exec TS::tracestub_path(), 'trace', '--correlate', '-e', 'main.handle', '-e', 'main.work', '-q',
            '--otlp-file', $fs, '--', $hp, 'server', $port, 12 or POSIX::_exit(127);
    }
    my $rc = trace_run(120, '--correlate', '-e', 'main.ask', '-q', '--otlp-file', $fc, '--', $hp, 'client', $port, 12);
    waitpid($spid, 0);
    like($rc->{out}, qr/answered 12/, 'go, two processes: 12 answers (4 goroutines, keep-alive connections)');
    my @c = chains_via('main.work', 'main.handle', spans_in($fs, $fc));
    is(scalar @c, 12, 'go, two processes: 12 work spans');
    is(joined('main.ask', 'n', @c), 12, 'go, two processes: each work(n) under the request linked to the client\'s ask(n), no cross-talk');
}
done_testing();
