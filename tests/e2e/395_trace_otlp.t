#!/usr/bin/env perl
# OpenTelemetry export: every traced call a span, nested by call stack, in OTLP requests that
# the official protobuf schema (@opentelemetry/otlp-transformer's generated code) decodes:
# over HTTP (protobuf, --otlp-json) to a receiver on loopback, and as OTLP/JSON lines to a
# file. JSON Lines and OTLP carry the same ids. A collector that is down or refuses costs
# spans (counted), never the program's output or exit status; 503s are retried.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use POSIX ();
use TS;
use TraceRun;

trace_ok_or_skip();
my $dw = fixture('dw_args');
my $npm = "$FindBin::Bin/../../build/npm/node_modules";
plan skip_all => 'fixtures not built (make fixtures)' if !-x $dw || !-d "$npm/\@opentelemetry/otlp-transformer";
my $tmp = TS::tmpdir();
my $recv_js = "$FindBin::Bin/lib/otlp_receiver.js";

# The receiver in the background: [pid, port, file of decoded requests].
sub receiver {
    my (%env) = @_;
    my $out = "$tmp/recv" . int(rand(1e9)) . '.jsonl';
    pipe(my $r, my $w) or die;
    my $pid = fork // die;
    if (!$pid) {
        close $r;
        open STDOUT, '>&', $w;
        $ENV{$_} = $env{$_} for keys %env;
        exec 'node', $recv_js, $npm, $out or POSIX::_exit(127);
    }
    close $w;
    my $port = <$r>;
    chomp($port) if defined $port;
    return [$pid, $port, $out];
}

sub stop_receiver {
    my ($rv) = @_;
    kill 'TERM', $rv->[0];
    waitpid($rv->[0], 0);
    return map { decode_json($_) } grep { /\S/ } split /\n/, (-e $rv->[2] ? TS::slurp($rv->[2]) : '');
}

# All spans of some ExportTraceServiceRequest objects, each with its resource's attributes.
sub spans_of {
    my @s;
    for my $req (@_) {
        for my $rs (@{ $req->{resourceSpans} // [] }) {
            my %res = map { $_->{key} => (values %{ $_->{value} })[0] } @{ $rs->{resource}{attributes} // [] };
            for my $ss (@{ $rs->{scopeSpans} // [] }) {
                for my $sp (@{ $ss->{spans} // [] }) {
                    my %a = map { $_->{key} => (values %{ $_->{value} })[0] } @{ $sp->{attributes} // [] };
                    push @s, { %$sp, attr => \%a, res => \%res, scope => $ss->{scope} };
                }
            }
        }
    }
    return @s;
}

my @specs = ('-e', 'main', '-e', 'f_int', '-e', 'f_str');
my $u = plain_run(30, $dw);

# ---- --otlp-file: OTLP/JSON lines, and the same ids as --json ----
{
    my $r = trace_run(60, @specs, '-q', '--otlp-file', "$tmp/o.jsonl", '--json', "$tmp/e.jsonl", '--', $dw);
    is($r->{out}, $u->{out}, 'otlp-file: stdout identical to an untraced run');
    is($r->{rc}, $u->{rc}, 'otlp-file: exit status identical');
    my @req = map { decode_json($_) } grep { /\S/ } split /\n/, TS::slurp("$tmp/o.jsonl");
    ok(@req >= 1, 'otlp-file: one ExportTraceServiceRequest per line');
    my @s = spans_of(@req);
    my %by = map { $_->{name} => $_ } @s;
    is(join(',', sort map { $_->{name} } @s), 'f_int,f_str,main', 'otlp-file: one span per call');
    is($by{f_int}{attr}{'arg.i'}, '1', 'otlp-file: f_int argument i=1 as an attribute');
    is($by{f_int}{attr}{'ret.0'}, '2', 'otlp-file: its result 2');
    is($by{f_str}{attr}{'arg.s'}, 'hello', 'otlp-file: a string argument as its text');
    is($by{f_int}{parentSpanId}, $by{main}{spanId}, 'otlp-file: f_int is a child of main');
    ok(!$by{main}{parentSpanId}, 'otlp-file: main is a root');
    is($by{f_int}{traceId}, $by{main}{traceId}, 'otlp-file: one trace');
    like($by{main}{traceId}, qr/^[0-9a-f]{32}$/, 'otlp-file: trace id as 32 hex digits');
    like($by{main}{spanId}, qr/^[0-9a-f]{16}$/, 'otlp-file: span id as 16 hex digits');
    ok($by{f_int}{startTimeUnixNano} >= $by{main}{startTimeUnixNano}
        && $by{f_int}{endTimeUnixNano} <= $by{main}{endTimeUnixNano}
        && $by{f_int}{endTimeUnixNano} >= $by{f_int}{startTimeUnixNano},
        'otlp-file: a child lies within its parent');
    ok(abs($by{main}{startTimeUnixNano} / 1e9 - time()) < 120, 'otlp-file: times are Unix times');
    is($by{main}{res}{'service.name'}, 'dw_args', 'otlp-file: service.name is the executable');
    is($by{main}{res}{'process.pid'}, $by{main}{attr}{'thread.id'}, 'otlp-file: process.pid (its main thread)');
    ok(length($by{main}{res}{'host.name'} // ''), 'otlp-file: host.name');
    my @ev = json_events(TS::slurp("$tmp/e.jsonl"));
    my ($call) = grep { $_->{type} eq 'call' && $_->{func} eq 'f_int' } @ev;
    is($call && $call->{span_id}, $by{f_int}{spanId}, '--json: the same span id as OTLP');
    is($call && $call->{trace_id}, $by{f_int}{traceId}, '--json: the same trace id');
    is($call && $call->{parent_span_id}, $by{main}{spanId}, '--json: the same parent');
}

# ---- --otlp: protobuf over HTTP, decoded by the official schema ----
{
    my $rv = receiver();
    ok($rv->[1], 'receiver listening');
    my $r = trace_run(60, @specs, '-q', '--otlp', "http://127.0.0.1:$rv->[1]", '--service', 'shop', '--', $dw);
    my @got = stop_receiver($rv);
    is($r->{out}, $u->{out}, 'otlp http: stdout identical to an untraced run');
    ok(@got >= 1 && !grep({ $_->{request}{error} } @got), 'otlp http: every request decodes with the official schema')
        or diag(explain(\@got));
    is($got[0]{path}, '/v1/traces', 'otlp http: POSTed to /v1/traces (added to a base URL)');
    is($got[0]{contentType}, 'application/x-protobuf', 'otlp http: protobuf by default');
    my @s = spans_of(map { $_->{request} } @got);
    my %by = map { $_->{name} => $_ } @s;
    is(join(',', sort map { $_->{name} } @s), 'f_int,f_str,main', 'otlp http: the three spans');
    is($by{f_int}{parentSpanId}, $by{main}{spanId}, 'otlp http: parent ids survive the wire');
    is($by{f_int}{attr}{'arg.i'}, '1', 'otlp http: f_int(i=1), an int64 attribute');
    is($by{main}{res}{'service.name'}, 'shop', 'otlp http: --service names the service');
    is($by{main}{scope}{name}, 'tracestub', 'otlp http: instrumentation scope');
    is($by{main}{kind}, 1, 'otlp http: kind INTERNAL for a call inside a process');
    like($r->{err}, qr/otlp: 3 spans in \d+ requests to http:\/\/127\.0\.0\.1:\d+\/v1\/traces; 0 dropped/,
        'otlp http: the account at the end');
}

# ---- --otlp-json ----
{
    my $rv = receiver();
    trace_run(60, @specs, '-q', '--otlp', "http://127.0.0.1:$rv->[1]/v1/traces", '--otlp-json', '--', $dw);
    my @got = stop_receiver($rv);
    is($got[0]{contentType} // '', 'application/json', 'otlp-json: JSON content type');
    is(scalar(my @s = spans_of(map { $_->{request} } @got)), 3, 'otlp-json: the three spans');
}

# ---- a collector that answers 503 twice: retried, nothing lost ----
{
    my $rv = receiver(FAIL => 2);
    my $r = trace_run(60, @specs, '-q', '--otlp', "http://127.0.0.1:$rv->[1]", '--', $dw);
    my @got = stop_receiver($rv);
    is(scalar(my @s = spans_of(map { $_->{request} } @got)), 3, '503 twice: retried, all spans arrive');
    like($r->{err}, qr/HTTP 503 \(retrying\)/, '503 twice: one line says so');
}

# ---- no collector: the program as untraced, the spans counted as dropped ----
{
    my $port = do { my $rv = receiver(); stop_receiver($rv); $rv->[1] };    # a port nobody listens on now
    my $r = trace_run(60, @specs, '-q', '--otlp', "http://127.0.0.1:$port", '--', $dw);
    is($r->{out}, $u->{out}, 'collector down: stdout identical');
    is($r->{rc}, $u->{rc}, 'collector down: exit status identical');
    like($r->{err}, qr/otlp: 0 spans in 0 requests to \S+; 3 dropped/, 'collector down: 3 spans dropped, counted');
}

# ---- bad command lines ----
for my $bad (['--otlp', 'ftp://x'], ['--otlp', 'http://'], ['--otlp-json'], ['--service', 'x']) {
    my $r = trace_run(20, '-e', 'main', @$bad, '--', '/bin/true');
    is($r->{rc}, 2, "@$bad: exit status 2");
    is(scalar(my @l = split /\n/, $r->{err}), 1, "@$bad: one line");
}
done_testing();
