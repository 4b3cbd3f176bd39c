#!/usr/bin/env perl
# The fast path (issue 15): headless probes as jumps to pads inside the program, no trap.
# fastcalls (PIE, 4 threads, a C string argument, a hit from a signal handler) traced with
# pads and with --trap (today's int3 path, the reference: gdbserver has no headless mode):
# the same calls, arguments, results and threads, exact counts, the program's output as
# untraced; the end says per function which path and why; a full ring loses hits counted and
# never pairs a return with the wrong call; probes a pad cannot take trap and say why.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use TS;
use TraceRun;

trace_ok_or_skip();
my $prog = fixture('fastcalls');
plan skip_all => 'fastcalls not built (make fixtures)' if !-x $prog;
my $tmp = TS::tmpdir();
my $js = JSON::PP->new->canonical;

sub run_json {
    my ($tag, $threads, $calls, @opt) = @_;
    my $json = "$tmp/$tag.json";
    my $r = trace_run(120, @opt, '-e', 'fc_add', '-e', 'fc_name', '--json', $json, '--', $prog,
        $threads, $calls);
    my $text = -e $json ? TS::slurp($json) : '';
    $r->{ev} = [json_events($text)];
    return $r;
}

sub args { my $e = shift; return { map { $_->{name} => $_->{value} } @{ $e->{args} } } }
sub ret0 { my $e = shift; return @{ $e->{ret} } ? $e->{ret}[0]{value} : undef }

# What a run saw, independent of thread ids and timing: each call with its arguments and
# the value its return gave, sorted.
sub seen {
    my @ev = @_;
    my (%open, @out);
    for my $e (@ev) {
        my $k = "$e->{tid}";
        if ($e->{type} eq 'call') {
            push @{ $open{$k} }, $e;
        } elsif ($e->{type} eq 'return') {
            my $c = pop @{ $open{$k} } or next;
            push @out, "$c->{func}(" . $js->encode(args($c)) . ")=" . (ret0($e) // '?');
        }
    }
    return [sort @out];
}

my $u = plain_run(30, $prog, 4, 400);
my $f = run_json('fast', 4, 400);
my $t = run_json('trap', 4, 400, '--trap');

is($f->{rc}, 0, 'fast: tracestub exits 0');
is($f->{out}, $u->{out}, 'fast: the program prints what it prints untraced');
is($t->{out}, $u->{out}, '--trap: the same');
like($f->{err}, qr/^tracestub trace: fc_add: fast \(entry and 1 returns\)$/m,
    'fc_add: entry and return are pads');
like($f->{err}, qr/^tracestub trace: fc_name: fast entry, 0 of 1 exits fast \(trap: a displaced instruction is not plain code \(jmp, call, syscall\)\)$/m,
    'fc_name (a C string argument): a pad at entry; its exit (call strlen; leave; ret) traps');
unlike($t->{err}, qr/: fast|fast entry/, '--trap: no pad anywhere');
unlike($f->{err}, qr/lost/, 'fast: no hit lost (the rings hold a run this size)');

my @fc = calls_of('fc_add', @{ $f->{ev} });
is(scalar @fc, 4 * 400 + 1, 'fast: every call of fc_add reported (4 x 400 + 1 from the handler)');
is(scalar(returns_of('fc_add', @{ $f->{ev} })), 4 * 400 + 1, 'fast: and every return');
is(scalar(calls_of('fc_name', @{ $f->{ev} })), 4 * 4, 'fast: fc_name 16 times');
is(scalar(grep { args($_)->{a} == 10 && args($_)->{b} == 1000 } @fc), 1,
    'fast: the call from the SIGUSR1 handler, fc_add(a=10, b=1000)');
my %labels = map { (args($_)->{label} // '') => 1 } calls_of('fc_name', @{ $f->{ev} });
is_deeply([sort keys %labels], [map { "worker-$_" } 0 .. 3],
    'fast: the string argument read through its pointer at the hit');
my %tids = map { $_->{tid} => 1 } @fc;
is(scalar keys %tids, 5, 'fast: calls from 5 threads (4 workers and main)');
my $seen_f = seen(@{ $f->{ev} });
is(scalar @$seen_f, 4 * 400 + 1 + 16, 'fast: every call paired with its return');
is_deeply($seen_f, seen(@{ $t->{ev} }),
    'fast and --trap saw the same calls, arguments and results');
my @bad = grep { $_->{type} eq 'return' && $_->{duration_ns} !~ /^\d+$/ } @{ $f->{ev} };
is(scalar @bad, 0, 'fast: every return has a duration');
my ($tf) = grep { $_->{func} eq 'fc_add' } @fc;
ok($tf && $tf->{time_ns} > 0 && $tf->{time_ns} < 60e9, 'fast: timestamps on the session clock');

# -q shows no arguments, so none are collected, but a condition still reads the one it names
my $q = trace_run(120, '-q', '-e', 'fc_name if label == "worker-2"', '-e', 'fc_add', '--', $prog, 4, 400);
like($q->{err}, qr/^fc_name\s+fastcalls\s+4\s/m, '-q with a condition on a string argument: the 4 calls of worker-2');
like($q->{err}, qr/^fc_add\s+fastcalls\s+1601\s/m, '-q: every call counted');

# A ring fills when one thread hits faster than it is drained: hits are lost and counted,
# and no return is paired with a call it does not belong to (text output: JSON::PP is slow).
my $big = trace_run(120, '-e', 'fc_add', '--', $prog, 1, 300000);
is($big->{out}, plain_run(30, $prog, 1, 300000)->{out}, 'a hot loop: output as untraced');
my ($n) = $big->{err} =~ /^fc_add\s+fastcalls\s+(\d+)\s/m;
ok(defined $n && ($n == 300001 || $big->{err} =~ /^tracestub trace: \d+ fast hits lost/m),
    'a hot loop: all calls reported, or the end counts what was lost (' . ($n // '?') . ' calls)');
my ($pairs, $mismatch) = (0, 0);
while ($big->{err} =~ /\] fc_add\(a=(\d+), b=(\d+)\) = (\d+) </g) {
    $pairs++;
    $mismatch++ if $3 != $1 + $2;
}
ok($pairs > 1000 && !$mismatch, "a hot loop: each of $pairs calls shown with its result has a + b");

# Signals anywhere, pads included: SIGALRM every 50 us runs a handler that calls fc_add on
# whichever thread it lands. A hit inside a hit of the same thread is dropped and counted
# (the ring is busy); the workers' own calls are all there, every result pairs right.
my $r = trace_run(120, '--ring', '64M', '-e', 'fc_add', '--', $prog, 4, 20000, 'timer');
is($r->{rc}, 0, 'timer signals: tracestub exits 0');
my ($ran) = $r->{out} =~ /handler ran (\d+) times/;
ok(defined $ran && $ran > 0, 'timer signals: the handler ran (' . ($ran // '?') . ' times)');
my ($wk, $hd, $bad) = (0, 0, 0);
while ($r->{err} =~ /fc_add\(a=(\d+), b=(\d+)\)( = (\d+))?/g) {
    ($1 >= 10 && $2 == 1000) ? $hd++ : $wk++; # the handler: a = the signal number
    $bad++ if defined $4 && $4 != $1 + $2;
}
is($wk, 4 * 20000, 'timer signals: all 80,000 calls of the workers reported');
ok($hd <= ($ran // 0), "timer signals: $hd of the handler's calls reported, never more than ran");
is($bad, 0, 'timer signals: every result shown is its call\'s a + b');

# Go: pads move to the thread's g0 stack (24 bytes on the goroutine's), never touch a
# return address; go_webapp (an HTTP server and client in one process, goroutines, a
# recursion that grows its stack) traced with pads beside --trap: the same calls, strings,
# results; output as untraced.
my $web = fixture('go_webapp');
SKIP: {
    skip 'go_webapp not built', 6 if !-x $web;
    my @fn = map { ('-e', $_) } qw(main.greet main.fetch main.deep main.handle);
    my ($gj, $gt) = ("$tmp/go.json", "$tmp/gotrap.json");
    my $g = trace_run(120, @fn, '--json', $gj, '--', $web, 5);
    my $gr = trace_run(120, @fn, '--trap', '--json', $gt, '--', $web, 5);
    is($g->{out}, plain_run(60, $web, 5)->{out}, 'Go: output as untraced');
    like($g->{err}, qr/^tracestub trace: main\.fetch: fast \(entry and 4 returns\)$/m,
        'Go: main.fetch (strings in, string and error out) on pads at entry and every return');
    like($g->{err}, qr/^tracestub trace: main\.deep: fast \(entry and 2 returns\)$/m,
        'Go: main.deep (recursion 100 deep, the stack grows under it) on pads');
    my $norm = sub {
        my @e = json_events(TS::slurp($_[0]));
        return [sort map {
            my $x = $js->encode([$_->{type}, $_->{func}, $_->{args} // [], $_->{ret} // []]);
            $x =~ s/0x[0-9a-f]+|127\.0\.0\.1:\d+/X/g;
            $x
        } @e];
    };
    is_deeply($norm->($gj), $norm->($gt),
        'Go: pads and --trap saw the same calls, arguments and results (addresses aside)');
    my $ga = fixture('go_args');
    my ($aj, $at) = ("$tmp/goargs.json", "$tmp/goargstrap.json");
    $g = trace_run(120, '-e', 'main.sum', '-e', 'main.fact', '--json', $aj, '--', $ga);
    trace_run(120, '--trap', '-e', 'main.sum', '-e', 'main.fact', '--json', $at, '--', $ga);
    like($g->{err}, qr/^tracestub trace: main\.sum: fast \(entry and 1 returns\)$/m,
        'Go: main.sum (a slice argument, its elements read at the hit) on pads');
    is_deeply($norm->($aj), $norm->($at), 'Go: slices and recursion as --trap sees them');
}

# Go under load: 16 goroutines recurse 2000 deep 3 times (the stacks grow and move), the GC
# runs (runtime.GC at every 500 levels), two goroutines spin without calls (preempted by
# SIGURG): every call and return counted, output as untraced.
my $stress = fixture('go_stress');
SKIP: {
    skip 'go_stress not built', 4 if !-x $stress;
    my $g = trace_run(180, '--ring', '64M', '-e', 'main.walk', '--', $stress);
    is($g->{out}, plain_run(60, $stress)->{out}, 'Go stress: output as untraced');
    like($g->{err}, qr/^tracestub trace: main\.walk: fast \(entry and 2 returns\)$/m,
        'Go stress: main.walk on pads');
    my $calls = () = $g->{err} =~ /\] +main\.walk\(/g;
    my $rets = () = $g->{err} =~ /(?:resumed> = |\) = )\d+ </g;
    is($calls, 16 * 3 * 2001, 'Go stress: all 96,048 calls');
    is($rets, 16 * 3 * 2001, 'Go stress: and as many returns, each once (a call the stack grew under is one call)');
}

# A library loaded while other threads run: its probes go in as traps (patching needs every
# thread stopped, and the loader's hook stops only the loading one), then the tracer holds
# the process between events and puts the pads in; every call counted once across the switch.
my $plugin = fixture('libplugin.so');
SKIP: {
    skip 'libplugin.so not built', 3 if !-f $plugin;
    my @cmd = ($prog, 2, 3000000, 'dlopen', $plugin);
    my $d = trace_run(120, '-q', '-e', 'plugin_fn', '--', @cmd);
    is($d->{out}, plain_run(60, @cmd)->{out}, 'dlopen under running threads: output as untraced');
    like($d->{err}, qr/^plugin_fn\s+libplugin\.so\s+200\s/m, 'dlopen: all 200 calls of plugin_fn');
    like($d->{err}, qr/^tracestub trace: plugin_fn: fast \(entry and 1 returns\)$/m,
        'dlopen: plugin_fn ends up on pads');
}

# Probes a pad cannot take: the end says why, and they are traced by traps all the same.
my $opt = fixture('dw_opt');
SKIP: {
    skip 'dw_opt not built', 3 if !-x $opt;
    $r = trace_run(60, '-e', 'leaf', '-e', 'tail', '--', $opt);
    like($r->{err}, qr/^tracestub trace: leaf: trap entry, 0 of 1 exits fast \(trap: fewer than 5 bytes of code to displace\)$/m,
        'leaf (4 bytes of code): traps, and says why');
    like($r->{err}, qr/^tracestub trace: tail: fast entry, 0 of 1 exits fast \(trap: an exit that jumps out \(a tail call\)\)$/m,
        'tail: a pad at entry, its tail jump traps');
    like($r->{err}, qr/leaf\(a=2, b=11\) = 13/, 'leaf traced through its traps');
}
# -f: fork children write into their parent's rings (their pads are copies); each record
# says its process. forker: 50 children (every 10th a vfork child) and the parent call
# forker_fn; --trap is the reference.
my $forker = fixture('forker');
SKIP: {
    skip 'forker not built', 5 if !-x $forker;
    my ($fj, $tj) = ("$tmp/fork.json", "$tmp/forktrap.json");
    $r = trace_run(120, '-f', '-e', 'forker_fn', '--json', $fj, '--', $forker, 50);
    my $rt = trace_run(120, '-f', '--trap', '-e', 'forker_fn', '--json', $tj, '--', $forker, 50);
    is($r->{out}, $rt->{out}, '-f: the program prints the same (every child ended as expected)');
    like($r->{err}, qr/^tracestub trace: forker_fn: fast \(entry and 1 returns\)$/m,
        '-f: pads (fork children share the rings)');
    my @ev = json_events(TS::slurp($fj));
    my @tev = json_events(TS::slurp($tj));
    is(scalar(calls_of('forker_fn', @ev)), scalar(calls_of('forker_fn', @tev)),
        '-f: as many calls as --trap sees (' . scalar(calls_of('forker_fn', @tev)) . ')');
    is_deeply(seen(@ev), seen(@tev), '-f: the same arguments and results as --trap');
    my %pids = map { $_->{pid} => 1 } calls_of('forker_fn', @ev);
    ok(keys %pids > 40, '-f: calls from the fork children, each with its own pid (' .
        scalar(keys %pids) . ' processes; a vfork child runs in its parent\'s thread block '
        . 'and counts as its parent)');
}
# --bt on pads: the pad keeps 4 KiB of stack and the unwinder reads the caller frames from it;
# the same backtraces as the trap path's, through the worker threads and through the signal
# frame of the SIGUSR1 handler's call.
{
    my ($fj, $tj) = ("$tmp/bt-fast.jsonl", "$tmp/bt-trap.jsonl");
    $r = trace_run(60, '--bt', '-e', 'fc_add', '--json', $fj, '--', $prog, 1, 10);
    like($r->{err}, qr/^tracestub trace: fc_add: fast \(entry and \d+ returns\)$/m, '--bt: on pads');
    trace_run(60, '--bt', '--trap', '-e', 'fc_add', '--json', $tj, '--', $prog, 1, 10);
    my $bts = sub { [map { join(' < ', map { $_->{func} // '?' } @{ $_->{bt} // [] }) } calls_of('fc_add', json_events(TS::slurp($_[0])))] };
    my ($fb, $tb) = ($bts->($fj), $bts->($tj));
    ok(@$fb == 11 && (grep { /^fc_add < worker < start_thread/ } @$fb) == 10
        && (grep { /^fc_add < on_usr1 < .* < _start$/ } @$fb) == 1,
        '--bt on pads: 11 calls, 10 unwound to the thread start, 1 from the signal handler to _start');
    is_deeply([sort @$fb], [sort @$tb], '--bt on pads: the same frames as --trap (threads interleave: sorted)');
}
# FILE:LINE probes on pads: inside the function, its locals read off the frame register the
# CFI names at the line (rbp at -O0, rsp when optimised; a leaf's slots in the red zone; a
# C string whose pointer sits in a slot: the pointer, then the string; 9 threads of tp):
# the same events as --trap (stack addresses aside: each run has its own), and the end says
# fast.
{
    my @cases = (['basic', 'basic.c:30', 'factorial', 4], ['basic', 'basic.c:36', 'compare_ints', 0],
        ['dw_opt', 'dw_opt.c:20', 'tail', 0], ['basic', 'basic.c:22', 'add_ints', 1],
        ['tp', 'tp.c:21', 'traced', 403, 3, 'threads']);
    for my $c (@cases) {
        my ($fx, $spec, $fn, $want, @args) = @$c;
        my $bin = fixture($fx);
        my ($fj, $tj) = ("$tmp/line-$fx-fast.jsonl", "$tmp/line-$fx-trap.jsonl");
        my $lf = trace_run(60, '-e', $spec, '--json', $fj, '--', $bin, @args);
        trace_run(60, '--trap', '-e', $spec, '--json', $tj, '--', $bin, @args);
        like($lf->{err}, qr/^tracestub trace: \Q$fn\E @ 0x[0-9a-f]+: fast$/m, "$spec: on a pad");
        my $hits = sub {
            [map { (my $h = join(',', $_->{func} // '?', map { "$_->{name}=$_->{value}" } @{ $_->{args} // [] }))
                    =~ s/0x[0-9a-f]{8,}/ADDR/g; $h }
                grep { $_->{type} eq 'hit' } json_events(TS::slurp($_[0]))]
        };
        my ($fh, $th) = ([sort @{ $hits->($fj) }], [sort @{ $hits->($tj) }]); # threads interleave
        ok(@$th > 0 && (!$want || @$th == $want), "$spec: --trap saw " . scalar(@$th) . ' hits');
        is_deeply($fh, $th, "$spec: the pad reports the same hits and values as --trap");
    }
}

$r = trace_run(30, '--ring', '3K', '-e', 'fc_add', '--', $prog, 1, 10);
is($r->{rc}, 2, '--ring 3K: exit status 2');
like($r->{err}, qr/^tracestub trace: bad --ring size '3K' \(want a power of two, 64K\.\.1G\)/,
    '--ring 3K: one line says why');
$r = trace_run(60, '--ring', '64M', '-e', 'fc_add', '--', $prog, 1, 100000);
unlike($r->{err}, qr/lost/, '--ring 64M: a 100,000-call burst (200,000 records of 224 bytes) fits, nothing lost');
like($r->{err}, qr/^fc_add\s+fastcalls\s+100001\s/m, '--ring 64M: all 100,001 calls counted');
done_testing();
