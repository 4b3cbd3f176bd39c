#!/usr/bin/env perl
# tracestub trace on C fixtures: dw_args (-O0, one function per argument kind DWARF can
# describe: sizes and signedness, char, bool, enum, typedef, pointers, C strings, a struct by
# value, a double, seven arguments with one on the stack, inlined instances), dw_opt (-O2:
# location lists, a tail jmp into another function, a tail call through the PLT). Output and
# exit status identical to an untraced run; the text, JSON Lines, Chrome and gdb trace-file
# outputs; --bt, --stack, --regs, FILE:LINE, conditions, -n, -q, unresolved specs.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use TS;
use TraceRun;

trace_ok_or_skip();
my $tmp = TS::tmpdir();
my $dw = fixture('dw_args');
my $opt = fixture('dw_opt');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $dw || !-x $opt;

# ---- every argument kind ----
my $json = "$tmp/dw.json";
my $r = trace_run(60, '-e', 'f_*', '--json', $json, '--', $dw);
my $u = plain_run(30, $dw);
is($r->{out}, $u->{out}, 'dw_args: stdout identical to an untraced run');
is($r->{rc}, $u->{rc}, 'dw_args: exit status identical');
my @ev = json_events(TS::slurp($json));
my %call = map { $_->{func} => $_ } grep { $_->{type} eq 'call' } @ev;
my %ret = map { $_->{func} => $_ } grep { $_->{type} eq 'return' } @ev;

sub args { my $e = shift; return $e ? { map { $_->{name} => $_->{value} } @{ $e->{args} } } : {} }
sub ret0 { my $e = shift; return $e && @{ $e->{ret} } ? $e->{ret}[0]{value} : undef }

my %want = (
    f_int => [{ i => 1 }, 2],
    f_uchar => [{ c => 1 }, 2],
    f_short => [{ s => 1 }, 2],
    f_long => [{ l => 1 }, 2],
    f_llong => [{ ll => 1 }, 2],
    f_str => [{ s => 'hello' }, 104],
    f_struct => [{ 'pv.a' => 1, 'pv.b' => 2 }, 3],
    f_double => [{ d => 1 }, 2],
    f_bool => [{ b => JSON::PP::false }, 1],
    f_enum => [{ c => 6 }, 7],
    f_typedef => [{ u => 1 }, 2],
    f_many => [{ a => 1, b => 'x', c => 3, d => 'd', e => 5, f => 6, g => 7 }, 242],
    f_calls_inl => [{ x => 1 }, 11],
);
for my $f (sort keys %want) {
    my ($args, $rv) = @{ $want{$f} };
    is_deeply(args($call{$f}), $args, "$f: arguments from DWARF") or diag(explain($call{$f}));
    is(ret0($ret{$f}), $rv, "$f: return value");
}
like(args($call{f_ptr})->{p} // '', qr/^0x[0-9a-f]+$/, 'f_ptr: a pointer as a hex string');
like(args($call{f_structp})->{pp} // '', qr/^0x[0-9a-f]+$/, 'f_structp: struct pointer');
is(scalar(grep { $_->{type} eq 'call' } @ev), 15, '15 calls (every f_ function once)');
is(scalar(grep { $_->{type} eq 'return' } @ev), 15, '15 returns');
my @inl = grep { $_->{type} eq 'hit' && $_->{func} eq 'f_inl' } @ev;
is(scalar @inl, 2, 'f_inl: its 2 inlined instances reported as hits');
like($r->{err}, qr/f_inl is inlined into f_calls_inl \([^)]*dw_args\.c:75\)/,
    'the inlining is said, with the call site');
ok(!grep({ $_->{type} eq 'return' && $_->{duration_ns} !~ /^\d+$/ } @ev), 'every return has a duration');
is($call{f_many}{depth}, 0, 'depth 0 for calls from main');
like($r->{err}, qr/^\d+\.\d{6} \[\d+\] f_many\(a=1, b='x', c=3, d="d", e=5, f=6, g=7\) = 242 <[\d.]+ (ns|µs|ms)>$/m,
    'text line: time, thread, call with arguments, result, duration');
like($r->{err}, qr/^function\s+module\s+calls\s+total\s+avg\s+min\s+max\s+errors$/m, 'summary table');
like($r->{err}, qr/^f_many\s+dw_args\s+1\s/m, 'summary row: f_many, 1 call');

# ---- optimised code: location lists, a tail jmp, a tail call through the PLT ----
$json = "$tmp/opt.json";
$r = trace_run(60, '-e', 'tail', '-e', 'leaf', '-e', 'uses_inline', '-e', 'len_of', '-e', 'sq',
    '--json', $json, '--', $opt);
$u = plain_run(30, $opt);
is($r->{out}, $u->{out}, 'dw_opt: stdout identical');
@ev = json_events(TS::slurp($json));
my @seq = map { "$_->{type} $_->{func} $_->{depth}" } grep { $_->{func} =~ /^(tail|leaf)$/ } @ev;
is_deeply(\@seq, ['call tail 0', 'call leaf 1', 'return leaf 1', 'return tail 0'],
    'tail jmp into leaf: leaf nested in tail, both return');
%call = map { $_->{func} => $_ } grep { $_->{type} eq 'call' } @ev;
%ret = map { $_->{func} => $_ } grep { $_->{type} eq 'return' } @ev;
is_deeply(args($call{tail}), { a => 1, b => 10 }, 'tail(a=1, b=10): registers from location lists');
is_deeply(args($call{leaf}), { a => 2, b => 11 }, 'leaf(a=2, b=11)');
is(ret0($ret{tail}), 13, 'tail returns 13, seen at its caller\'s return site');
is(ret0($ret{uses_inline}), 29, 'uses_inline returns 29');
ok($ret{len_of} && ret0($ret{len_of}) == length($opt), 'len_of: tail call through the PLT returns strlen');
is(scalar(grep { $_->{type} eq 'hit' && $_->{func} eq 'sq' } @ev), 2, 'sq: 2 inlined instances');

# ---- backtrace, stack, registers, FILE:LINE, conditions, -n ----
$r = trace_run(60, '-e', 'f_int', '--bt', '--stack', '32', '--regs', '--json', '-', '--', $dw);
@ev = json_events(join "\n", grep { /^\{/ } split /\n/, $r->{out});
my ($c) = grep { $_->{type} eq 'call' } @ev;
is($c->{bt}[0]{func}, 'f_int', '--bt: frame 0 is f_int');
is($c->{bt}[1]{func}, 'main', '--bt: frame 1 is main (CFI)');
ok($c->{stack} && length($c->{stack}) >= 64, '--stack 32: 32 bytes as hex');
my %regs = %{ $c->{regs} // {} };
is($regs{rip}, $c->{addr}, '--regs: rip is the probe address');
$r = trace_run(60, '-e', 'dw_args.c:14', '--json', '-', '--', $dw);
@ev = json_events(join "\n", grep { /^\{/ } split /\n/, $r->{out});
is(scalar @ev, 1, 'FILE:LINE: one hit');
is($ev[0]{type} // '', 'hit', 'FILE:LINE: a hit event');
is($ev[0]{func} // '', 'f_int', 'FILE:LINE: inside f_int');
is(args($ev[0])->{i}, 1, 'FILE:LINE: i=1 from DWARF after the prologue');
$r = trace_run(60, '-q', '-e', 'f_int if i == 1', '-e', 'f_long if l == 2', '--', $dw);
like($r->{err}, qr/^f_int\s+dw_args\s+1\s/m, 'condition true: counted');
unlike($r->{err}, qr/^f_long\s/m, 'condition false: not reported');
unlike($r->{err}, qr/^\d+\.\d{6} \[/m, '-q: no per-call lines');
$r = trace_run(60, '--json', '-', '-n', '3', '-e', 'f_*', '--', $dw);
is(scalar(grep { /"type":"call"/ } split /\n/, $r->{out}), 3, '-n 3: three calls');
is($r->{rc}, 0, '-n: the program still runs to its end');

# ---- Chrome trace and gdb trace file ----
my ($chrome, $tf) = ("$tmp/dw.chrome.json", "$tmp/dw.tf");
$r = trace_run(60, '-q', '-e', 'f_int', '-e', 'f_many', '--chrome', $chrome, '-o', $tf, '--', $dw);
my $arr = eval { decode_json(TS::slurp($chrome)) };
ok(ref $arr eq 'ARRAY', 'Chrome trace: a JSON array');
is_deeply([map { "$_->{ph} $_->{name}" } grep { $_->{ph} =~ /^[BE]$/ } @{ $arr // [] }],
    ['B f_int', 'E f_int', 'B f_many', 'E f_many'], 'Chrome trace: B/E pairs');
like($r->{err}, qr/open with:\n  gdb \S*dw_args -ex 'target tfile \Q$tf\E'/, 'how to open the trace file');
my ($g) = TS::_run(60, 'gdb', '-nx', '-batch', '-ex', "target tfile $tf", '-ex', 'tfind start',
    '-ex', 'bt', '-ex', 'tfind', '-ex', 'tfind', '-ex', 'info frame', $dw);
# At the first instruction a -O0 argument is not in its stack slot yet: gdb says unavailable.
like($g, qr/^#0\s+(0x[0-9a-f]+ in )?f_int \(i=<unavailable>\) at \S*dw_args\.c:\d+\n#1\s+0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at \S*dw_args\.c:\d+$/m,
    'gdb target tfile: PIE symbols right, backtrace into main with its arguments from the stack');
like($g, qr/Found trace frame 2, tracepoint \d+\nStack level 0, frame at 0x[0-9a-f]+:\n rip = 0x[0-9a-f]+ in f_many \(/,
    'gdb: the third frame is f_many\'s call');
like($g, qr/args: a=<unavailable>.* g=7\n/, 'gdb: f_many\'s stack argument g from the collected stack');
# A return frame: the stack from below rsp (the slots the epilogue popped, which the CFI at
# the ret still names), so gdb unwinds it into main (pads and traps alike).
for my $how ([], ['--trap']) {
    my $rtf = "$tmp/ret@{$how}.tf";
    trace_run(60, '-q', @$how, '-e', 'f_int', '-o', $rtf, '--', $dw);
    my ($gr) = TS::_run(60, 'gdb', '-nx', '-batch', '-ex', "target tfile $rtf", '-ex', 'tfind 1', '-ex', 'bt', $dw);
    like($gr, qr/^#0\s+0x[0-9a-f]+ in f_int \(i=1\) at \S*dw_args\.c:\d+\n#1\s+0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at \S*dw_args\.c:\d+$/m,
        "gdb at a return frame@{$how}: bt into main, f_int's and main's arguments read");
}

# ---- specs that never resolve; the exit status of a failing program ----
$r = trace_run(60, '-e', 'no_such_function', '-e', 'f_int', '--', $dw);
like($r->{err}, qr/-e no_such_function: never resolved/, 'an unresolved spec is reported');
$r = trace_run(60, '-e', 'nothing', '--', '/bin/sh', '-c', 'exit 3');
is($r->{rc}, 3, 'exit status of the program passed on');
$r = trace_run(60, '-e', 'nothing', '--', '/bin/sh', '-c', 'kill -TERM $$');
is($r->{sig}, 15, 'killed by SIGTERM: tracestub dies of the same signal');
done_testing();
