#!/usr/bin/env perl
# lldb 14 against lldb-server (the incumbent for lldb) and tracestub: breakpoint in a PIE,
# pending breakpoint in libplugin.so, bt through libc, frame variable, register read, memory
# read, finish/step, thread list (threads8), process detach (program keeps running), exit
# status. lldb 14 + gdbserver 13 cannot do this on a PIE (PROTOCOL.md §2.3: no swbreak
# negotiation so the PC is not rewound, and the svr4 main-lm misread): that difference is
# recorded below as a TODO check against gdbserver.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;

my ($basic, $dl, $lib, $thr, $spin) =
    map { fixture($_) } qw(basic dlopen libplugin.so threads8 spin);
plan skip_all => 'fixtures not built (make fixtures)' if grep { !-e $_ } $basic, $dl, $lib, $thr, $spin;

my %TODO_TS = ();
our $TODO;
my $n = 0;

# The program's output must appear, in order, either through lldb (lldb-server forwards the
# inferior's stdout) or on the server's own stdout (inherited).
sub output_ok {
    my ($lldb_raw, $s, $want) = @_;
    my $all = $lldb_raw . "\n" . TS::slurp($s->{out});
    $all =~ s/\r//g;
    my $pos = 0;
    for my $l (split /\n/, $want) {
        my $i = index($all, "$l\n", $pos);
        return 0 if $i < 0;
        $pos = $i + length $l;
    }
    return 1;
}

my ($want3) = untraced($basic, 3);
my ($want_dl) = untraced($dl, $lib);
my ($want_thr) = untraced($thr);

for my $srv (lldb_servers()) {
    TS::preflight($srv, q{lldb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "lldb+$srv: $_[0]" };

    my $s = start_server($srv, launch => [$basic, 3]);
    my ($o, $raw) = run_lldb($s, prog => $basic,
        cmds => ['b compare_ints', 'c', 'bt', 'frame variable', 'register read rip',
            'memory read -f x -s 4 -c 4 &counter', 'breakpoint delete 1', 'b bump', 'c', 'finish',
            'step', 'c']);
    like($o, qr/^Breakpoint 1: where = basic`compare_ints \+ 12 at basic.c:35:\d+, address = 0xADDR$/m,
        $T->('breakpoint in PIE'));
    like($o, qr/^\* thread #N, name = 'basic', stop reason = breakpoint 1\.1\n    frame #0: 0xADDR basic`compare_ints\(a=0xADDR, b=0xADDR\) at basic.c:35:\d+$/m,
        $T->('stopped at breakpoint'));
    like($o, qr/^    frame #\d+: 0xADDR libc\.so\.6`__GI___qsort_r\(.*\n    frame #\d+: 0xADDR basic`main\(argc=2, argv=0xADDR\) at basic.c:55:\d+$/m,
        $T->('bt through libc qsort to main'));
    like($o, qr/^\(const void \*\) a = 0xADDR\n\(const void \*\) b = 0xADDR\n\(int\) x = \d+\n\(int\) y = \d+$/m,
        $T->('frame variable'));
    like($o, qr/^     rip = 0xADDR  basic`compare_ints \+ 12 at basic.c:35:\d+$/m, $T->('register read rip'));
    like($o, qr/^0xADDR: 0x00000008 0x00000000 0x00000000 0x00000000$/m, $T->('memory read'));
    like($o, qr/stop reason = breakpoint 2\.1\n    frame #0: 0xADDR basic`bump at basic.c:42:\d+$/m,
        $T->('second breakpoint'));
    like($o, qr/stop reason = step out\n    frame #0: 0xADDR basic`main\(argc=2, argv=0xADDR\) at basic.c:61:\d+$/m,
        $T->('finish'));
    like($o, qr/stop reason = step in\n    frame #0: 0xADDR libc.so.6`__printf\(/m, $T->('step into printf'));
    like($o, qr/^Process PID exited with status = 3 \(0x00000003\)$/m, $T->('exited with status = 3'));
    wait_server($s, 10);
    stop_server($s);
    ok(output_ok($raw, $s, $want3), $T->('program output identical to untraced'));

    $s = start_server($srv, launch => [$dl, $lib]);
    ($o, $raw) = run_lldb($s, prog => $dl,
        cmds => ['b plugin_fn', 'c', 'bt', 'image list', 'frame variable x', 'c',
            'print plugin_calls', 'breakpoint delete', 'c']);
    like($o, qr/^Breakpoint 1: no locations \(pending\)\.$/m, $T->('pending breakpoint'));
    like($o, qr/^1 location added to breakpoint 1$/m, $T->('pending breakpoint resolved after dlopen'));
    like($o, qr/stop reason = breakpoint 1\.1\n    frame #0: 0xADDR libplugin\.so`plugin_fn\(x=4\) at libplugin\.c:\d+:\d+$/m,
        $T->('breakpoint hit in libplugin.so'));
    like($o, qr/^    frame #1: 0xADDR dlopen`main\(argc=2, argv=0xADDR\) at dlopen\.c:\d+:\d+$/m,
        $T->('bt from plugin to main'));
    like($o, qr/^\[\s*\d+\] \S+ 0xADDR \S*libplugin\.so$/m, $T->('image list has libplugin.so'));
    like($o, qr/^\(int\) x = 4$/m, $T->('frame variable x'));
    like($o, qr/plugin_fn\(x=5\)/, $T->('second hit'));
    like($o, qr/^\(int\) \$0 = 1$/m, $T->('print plugin global'));
    like($o, qr/^Process PID exited with status = 0 \(0x00000000\)$/m, $T->('dlopen exits 0'));
    wait_server($s, 10);
    stop_server($s);
    ok(output_ok($raw, $s, $want_dl), $T->('dlopen output identical to untraced'));

    $s = start_server($srv, launch => [$thr]);
    ($o, $raw) = run_lldb($s, prog => $thr,
        cmds => ['b worker_step', 'c', 'thread list', 'thread select 1', 'bt', 'breakpoint delete', 'c']);
    my @rows = $o =~ /^[ *] thread #N: tid = \d+, .*, name = '([^']+)'/mg;
    is(scalar @rows, 9, $T->('thread list: 9 threads'));
    is(join(',', sort @rows), join(',', 'threads8', map {"worker$_"} 0 .. 7), $T->('thread names'));
    like($o, qr/^    frame #\d+: 0xADDR threads8`main\(argc=1, argv=0xADDR\) at threads8\.c:\d+:\d+$/m,
        $T->('thread 1 bt reaches main'));
    like($o, qr/^Process PID exited with status = 0 \(0x00000000\)$/m, $T->('threads8 exits 0'));
    wait_server($s, 10);
    stop_server($s);
    ok(output_ok($raw, $s, $want_thr), $T->('threads8 output identical to untraced'));

    # process detach: spin keeps running (writes to the progress FIFO).
    my $ready = TS::tmpdir() . '/lready' . ++$n;    # regular file: spin does not block on it
    my $prog = make_fifo('lprogress' . $n);
    $s = start_server($srv, launch => [$spin, $ready, $prog]);
    ($o) = run_lldb($s, prog => $spin, cmds => ['b spin_tick', 'c', 'bt', 'process detach']);
    like($o, qr/stop reason = breakpoint 1\.1\n    frame #0: 0xADDR spin`spin_tick at spin\.c:\d+:\d+$/m,
        $T->('breakpoint in spin_tick'));
    like($o, qr/^Process PID detached$/m, $T->('process detach'));
    like(read_fifo_line($prog, 10, $s) // '', qr/^\d+$/, $T->('program keeps running after detach'));
    my ($pid) = TS::slurp($ready) =~ /^(\d+)/;
    kill 'KILL', $pid if $pid;
    wait_server($s, 10);
    stop_server($s);
}

# lldb 14 + gdbserver 13 on a PIE: documented incompatibility (PROTOCOL.md §2.3). Expected to
# fail; if gdbserver or lldb change, this TODO starts passing and prove reports it.
{
    my $s = start_server('gdbserver', launch => [$basic, 3]);
    my ($o) = run_lldb($s, prog => $basic, cmds => ['b compare_ints', 'c', 'bt 1', 'process kill'], timeout => 30);
    stop_server($s);
    local $TODO = 'lldb 14 + gdbserver 13: no swbreak, PC not rewound, svr4 main-lm misread on PIE (PROTOCOL.md 2.3)';
    like($o, qr/stop reason = breakpoint 1\.1/, 'lldb+gdbserver: breakpoint in PIE hit');
}
done_testing();
