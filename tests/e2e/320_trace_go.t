#!/usr/bin/env perl
# tracestub trace on Go programs (go 1.19, register ABI, compressed DWARF): go_webapp (a local
# HTTP server and client, a recursion deep enough to grow and move the goroutine's stack, a GC
# forced at its bottom) and go_args (strings, slices, errors, goroutines, recursion). Checks
# arguments, results (from the ABI at return), durations, exact call counts (the entry probe
# firing again after runtime.morestack is not a second call), goroutine ids, the inlined
# net/http.Get, and output and exit status identical to an untraced run. go_args stripped of
# .symtab and DWARF: its functions from .gopclntab, calls and returns as unstripped.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;
use JSON::PP;

trace_ok_or_skip();
my $tmp = TS::tmpdir();
my $web = fixture('go_webapp');
my $args = fixture('go_args');
plan skip_all => 'Go fixtures not built (make fixtures)' if !-x $web || !-x $args;

sub vals { my ($e, $k) = @_; return [map { $_->{value} } @{ $e->{$k} // [] }] }

my $json = "$tmp/web.json";
my $r = trace_run(120, '-e', 'main.add', '-e', 'main.greet', '-e', 'main.fetch', '-e',
    'main.deep', '-e', 'main.handle', '-e', 'net/http.Get', '--json', $json, '--', $web, '5');
my $u = plain_run(60, $web, '5');
is($r->{out}, $u->{out}, 'go_webapp: stdout identical to an untraced run');
is($r->{rc}, $u->{rc}, 'go_webapp: exit status identical');
like($u->{out}, qr/^deep 100\nsum 10\n\z/m, 'the untraced run itself is as expected');
my @ev = json_events(TS::slurp($json));

my @add = calls_of('main.add', @ev);
is_deeply([map { vals($_, 'args') } @add], [[0, 0], [0, 1], [1, 2], [3, 3], [6, 4]],
    'main.add: 5 calls, a and b from rax, rbx');
is_deeply([map { vals($_, 'ret')->[0] } returns_of('main.add', @ev)], [0, 1, 3, 6, 10],
    'main.add: results from rax at return');
my @greet = calls_of('main.greet', @ev);
is_deeply([map { vals($_, 'args') } @greet],
    [(map { ['gopher', $_] } 0 .. 4), ['nobody', -1]], 'main.greet: Go strings read by length');
my @gr = returns_of('main.greet', @ev);
is_deeply([map { vals($_, 'ret') } @gr[0 .. 4]], [map { ["hello gopher #$_", '0x0'] } 0 .. 4],
    'main.greet: (string, nil error) results');
is(vals($gr[5], 'ret')->[0], '', 'greet(nobody, -1): empty string');
isnt(vals($gr[5], 'ret')->[1], '0x0', 'greet(nobody, -1): a non-nil error');
my @fr = returns_of('main.fetch', @ev);
is(scalar(calls_of('main.fetch', @ev)), 6, 'main.fetch: 6 calls');
is_deeply([map { vals($_, 'ret')->[0] } @fr[0 .. 4]], [map { "200 hello gopher #$_" } 0 .. 4],
    'main.fetch: results (the HTTP round trip through our own server)');
is(scalar(calls_of('main.handle', @ev)), 6, 'main.handle: 6 calls on the server goroutines');
my @deep = calls_of('main.deep', @ev);
is(scalar @deep, 201, 'main.deep: exactly 201 calls although its stack grew (morestack)');
is(scalar(returns_of('main.deep', @ev)), 201, 'main.deep: 201 returns (after a GC at the bottom)');
my %depths = map { $_->{depth} => 1 } @deep;
is_deeply([sort { $a <=> $b } keys %depths], [0 .. 200], 'main.deep: depths 0..200');
is_deeply([map { vals($_, 'args')->[0] } @deep[0, 1, 200]], [200, 199, 0], 'deep(n) arguments');
is(vals((returns_of('main.deep', @ev))[-1], 'ret')->[0], 100, 'deep(200) returns 100');
ok(!grep({ !defined $_->{goid} || $_->{goid} < 1 } grep { $_->{func} =~ /^main\./ } @ev),
    'every Go event has a goroutine id');
my %g = map { $_->{goid} => 1 } @deep;
is(scalar keys %g, 1, 'main.deep: one goroutine throughout');
ok(!grep({ $_->{type} eq 'return' && !($_->{duration_ns} > 0) } @ev), 'every return has a duration');
my @get = grep { $_->{type} eq 'hit' && $_->{func} eq 'net/http.Get' } @ev;
is(scalar @get, 6, 'net/http.Get: 6 hits at its inlined instance');
like(vals($get[0], 'args')->[0] // '', qr{^http://127\.0\.0\.1:\d+/gopher\?n=0$}, 'net/http.Get(url)');
like($r->{err}, qr/net\/http\.Get is inlined into main\.fetch \([^)]*main\.go:\d+\).*it calls net\/http\.\(\*Client\)\.Get/,
    'the inlining is said, with the function it calls');
like($r->{err}, qr/^main\.greet\s+go_webapp\s+6\s.*\s1$/m, 'summary: greet 6 calls, 1 error');

# go_args: slices, goroutines, recursion
$json = "$tmp/args.json";
$r = trace_run(60, '-e', 'main.sum', '-e', 'main.fact', '-e', 'main.greet', '--json', $json, '--', $args);
$u = plain_run(30, $args);
is($r->{out}, $u->{out}, 'go_args: stdout identical');
@ev = json_events(TS::slurp($json));
is_deeply([sort map { join ',', @{ vals($_, 'args')->[0] } } calls_of('main.sum', @ev)],
    ['0,2,3', '1,2,3', '2,2,3', '3,2,3'], 'main.sum(xs []int): slice elements');
is(scalar(calls_of('main.fact', @ev)), 18, 'main.fact: 3+4+5+6 recursive calls');
is(scalar(returns_of('main.fact', @ev)), 18, 'main.fact: 18 returns');
is_deeply([sort { $a <=> $b } map { vals($_, 'ret')->[0] } grep { $_->{depth} == 0 } returns_of('main.fact', @ev)],
    [6, 24, 120, 720], 'fact(3..6) results at depth 0');
is_deeply(vals((calls_of('main.greet', @ev))[0], 'args'), ['gopher', 1], 'greet("gopher", 1)');

# go_args built with -ldflags='-s -w' (no .symtab, no DWARF): functions found in .gopclntab,
# the same calls and returns as the unstripped build (no argument values: no types)
my $stripped = fixture('go_args_stripped');
SKIP: {
    skip 'go_args_stripped not built', 6 if !-x $stripped;
    $json = "$tmp/stripped.json";
    $r = trace_run(60, '-e', 'main.sum', '-e', 'main.fact', '-e', 'main.greet', '--json', $json,
        '--', $stripped);
    is($r->{out}, plain_run(30, $stripped)->{out}, 'go_args stripped: stdout identical');
    unlike($r->{err}, qr/never resolved/, 'go_args stripped: every function found (.gopclntab)');
    my @sev = json_events(TS::slurp($json));
    for my $f ('main.sum', 'main.fact', 'main.greet') {
        is(scalar(calls_of($f, @sev)) . '/' . scalar(returns_of($f, @sev)),
            scalar(calls_of($f, @ev)) . '/' . scalar(returns_of($f, @ev)),
            "go_args stripped: $f calls/returns as unstripped");
    }
    ok(!grep({ $_->{type} eq 'return' && !($_->{duration_ns} > 0) } @sev),
        'go_args stripped: every return has a duration');
}
# ---- a non-nil error as its message (err.Error()), found through the runtime's type data ----
{
    my ($json, $otlp) = ("$tmp/err.jsonl", "$tmp/err.otlp.jsonl");
    my $r = trace_run(60, '--trap', '-e', 'main.load', '-e', 'main.openIt', '-e', 'main.parse', '-e', 'main.greet',
        '--json', $json, '--otlp-file', $otlp, '--', $args);
    my @ev = json_events(TS::slurp($json));
    my %ret = map { $_->{func} => $_->{ret} } grep { $_->{type} eq 'return' } @ev;
    is($ret{'main.load'}[0]{value} // '', 'load /nonexistent/tracestub.cfg: open /nonexistent/tracestub.cfg: no such file or directory',
        'a *fmt.wrapError: its message, as err.Error() gives it');
    is($ret{'main.openIt'}[0]{value} // '', 'open /nonexistent/x: no such file or directory',
        'a *fs.PathError holding a syscall.Errno: Op, Path and the errno\'s text');
    is($ret{'main.parse'}[1]{value} // '', 'strconv.Atoi: parsing "12x": invalid syntax',
        'a *strconv.NumError holding an *errors.errorString');
    like($r->{err}, qr/main\.parse\(s="12x"\) = \(~r0=0, ~r1="strconv\.Atoi: parsing \\"12x\\": invalid syntax"\)/,
        'the text line shows the message');
    like($r->{err}, qr/^main\.load\s+go_args\s+1\s.*\s1$/m, 'the summary still counts it as an error');
    my ($st) = map { $_->{status} } grep { $_->{name} eq 'main.openIt' }
        map { @{ $_->{spans} } } map { @{ $_->{scopeSpans} } } map { @{ decode_json($_)->{resourceSpans} } }
        grep { /\S/ } split /\n/, TS::slurp($otlp);
    is_deeply($st, { code => 2, message => 'open /nonexistent/x: no such file or directory' },
        'OTLP: the span\'s status is ERROR with the message');
}
done_testing();
