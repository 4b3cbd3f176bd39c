#!/usr/bin/env perl
# lldb 14 against lldb-server and tracestub on `basic`, and the two transcripts compared:
# breakpoint in the PIE, bt through libc's start code, memory region (qMemoryRegionInfo) of
# data and code, expression writing memory, thread return (register writes), register read,
# frame variable, exit status. Normalised: the first stop (lldb-server reports SIGSTOP,
# tracestub T05 as PROTOCOL.md 2.3 asks) and where the program's own output appears
# (lldb-server forwards it into lldb, tracestub shares its stdout); lines compared sorted.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path);
use TS;

my $prog = fixture('basic');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
my $path = abs_path($prog);

my %TODO_TS = ();
our $TODO;
my ($want) = untraced($prog, 3);
my %prog_line = map { $_ => 1 } split /\n/, $want;

my %norm;
for my $srv (lldb_servers()) {
    TS::preflight($srv, q{lldb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "lldb+$srv: $_[0]" };
    # lldb 14 now and then hangs once the process has exited, with lldb-server as with
    # tracestub (its buffered output lost with it): such a session runs once more.
    my ($s, $o, $raw);
    for my $try (1, 2) {
        $s = start_server($srv, launch => [$prog, 3]);
        ($o, $raw) = run_lldb($s, prog => $prog,
            cmds => ['b add_ints', 'c', 'bt', 'memory region &counter', 'memory region main',
                'expression counter = 100', 'thread return 42', 'bt 1', 'register read rax',
                'frame variable', 'c']);
        my $hung = $TS::last_timed_out;
        wait_server($s, 10);
        stop_server($s);
        last if !$hung || $try == 2;
        diag("lldb+$srv: lldb hung (lldb's own flake): the session runs again");
        TS::forgive_hang($s);
    }
    like($o, qr/^    frame #\d+: 0xADDR libc\.so\.6`__libc_start_main_impl\(/m, $T->('bt into libc start code'));
    like($o, qr/^\[0xADDR-0xADDR\) rw- \Q$path\E PT_LOAD\[\d\]$/m, $T->('memory region of data: rw-, file'));
    like($o, qr/^\[0xADDR-0xADDR\) r-x \Q$path\E PT_LOAD\[\d\]$/m, $T->('memory region of code: r-x, file'));
    like($o, qr/^\(int\) \$\d+ = 100$/m, $T->('expression wrote memory'));
    like($o, qr/^    frame #0: 0xADDR basic`main\(argc=2, argv=0xADDR\) at basic.c:53:\d+$/m,
        $T->('thread return popped the frame'));
    like($o, qr/^     rax = 0x000000000000002a$/m, $T->('thread return set rax'));
    like($o, qr/^\(int\) code = 3$/m, $T->('frame variable in main'));
    like($o, qr/^Process PID exited with status = 3 \(0x00000003\)$/m, $T->('exit status 3'));
    my $all = $raw . TS::slurp($s->{out});
    like($all, qr/^counter = 200 total = 27\r?$/m, $T->('the program saw the memory write and the return'));
    unlike($all, qr/^add_ints/m, $T->('the returned-from function printed nothing'));
    # lldb prints some stop displays asynchronously, so their place varies run to run:
    # the transcripts are compared as sorted lines.
    my @keep = sort grep { !$prog_line{ s/\r$//r } && !/^counter = 200/ } split /\n/, $o;
    ($norm{$srv} = join("\n", @keep)) =~ s/stop reason = signal SIG(STOP|TRAP)/stop reason = signal (initial)/;
    # An asynchronous stop display printed after the next command ran (thread return) shows
    # the thread without its stop reason: whether it does depends on lldb's timing (seen
    # once in a loaded CI run), so the thread line's reason is not compared.
    $norm{$srv} =~ s/^(\* thread #N, name = '[^']*'), stop reason = breakpoint [\d.]+$/$1/mg;
}
if ($norm{tracestub} && $norm{'lldb-server'}) {
    is($norm{tracestub}, $norm{'lldb-server'}, 'tracestub: lldb session same as with lldb-server');
}
done_testing();
