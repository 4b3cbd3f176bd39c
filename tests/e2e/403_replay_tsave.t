#!/usr/bin/env perl
# tracestub replay of trace files from a live gdb session (issue 6): gdb traces the PIE tp
# fixture through tracestub, looks at frames with tfind, then saves them with `tsave -r`
# (the stub writes the file, load bias included) and with gdb's own `tsave`. Replay (the
# executable given with --exe; `tsave -r` files also name it themselves) must show, with tfind and with
# continue, what tfind showed live: registers, arguments, a backtrace into main, the code.
# gdb's own file has no load bias: replay says so, and frame 0 is still right.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use ReplayRun;

my $prog = fixture('tp');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
plan skip_all => tracestub_path() . ' not built' if !-x tracestub_path();
my $tmp = TS::tmpdir();
my ($rfile, $gfile) = ("$tmp/r.tf", "$tmp/g.tf");
my @at = gdb_marks('bt', 'print a', 'print b', 'info registers rip', 'x/2i $pc');

my $script = "$tmp/s.gdb";
open my $fh, '>', $script or die;
print $fh "$_\n" for ('break main', 'continue', 'trace traced', 'actions', 'collect $regs',
    'collect *(unsigned char (*)[512])$rsp', 'end', 'break done', 'tstart', 'continue', 'tstop',
    map({ ("tfind $_", @at) } 0 .. 2), 'tfind none', "tsave -r $rfile", "tsave $gfile", 'kill');
close $fh;
my $srv = start_server('tracestub', launch => [$prog, 3]);
my (undef, $live) = run_gdb($srv, prog => $prog, timeout => 60, cmds => ["source $script"]);
stop_server($srv);
my @live = hits($live);
is(scalar @live, 3, 'live: three frames looked at');
like($live[1] // '', qr/^#0 traced \(a=1, b=101, .*\n#1 0xA in main \(argc=2/m, 'live frame 1: traced(1, 101) from main');
ok(-s $rfile && -s $gfile, 'tsave -r and tsave wrote their files');

for my $f ($rfile, $gfile) {
    my $s = replay_server('--exe', $prog, $f);
    my ($o, $raw) = run_gdb($s, timeout => 60, cmds => ['set print frame-arguments none', @at,
        'continue', @at, 'continue', @at, 'continue', 'set print frame-arguments scalars',
        map({ ("tfind $_", @at) } 0 .. 2)]);
    my @h = hits($raw);
    is(scalar @h, 6, "$f: three stops, three tfinds");
    if ($f eq $rfile) {
        is($h[3 + $_], $live[$_], "tsave -r: tfind $_ as live") for 0 .. 2;
        like($h[$_] // '', qr/^#0 traced \(a=\.\.\., .*\n#1 0xA in main \(argc=\.\.\./m,
            "tsave -r: stop $_ backtrace into main") for 0 .. 2;
        like($h[2] // '', qr/^\$N = 2\n\$N = 102\n/m, 'tsave -r: third stop a=2 b=102');
        like($raw, qr/No more reverse-execution history/, 'tsave -r: continue off the end');
    } else {
        like($s->{err}, qr/warning: no load bias recorded/, 'gdb tsave: no bias, and replay says so');
        like($h[4] // '', qr/^#0 traced \(a=1, b=101, /m, 'gdb tsave: frame 1 registers and arguments');
        like($h[4] // '', qr/<traced\+\d+>:/, 'gdb tsave: code from the executable');
    }
    stop_server($s);
}

# tsave -r names the executable and libraries itself (tsexe/tslib): no --exe needed.
{
    my $s = replay_server($rfile);
    my ($o, $raw) = run_gdb($s, timeout => 60, cmds => ['set print frame-arguments scalars', @at]);
    my @h = hits($raw);
    is($h[0] // '', $live[0], 'tsave -r without --exe: frame 0 as live');
    stop_server($s);
}
done_testing();
