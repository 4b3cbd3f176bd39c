#!/usr/bin/env perl
# gdb against each server on `basic`: the register set of target.xml (general, segment,
# fs_base/gs_base, x87/SSE, AVX, orig_rax), register writes through P and through G, memory
# writes through X and through M, info auxv, the executable and libraries read over vFile with
# no local file (qXfer:exec-file, vFile:setfs/open/pread/fstat/close), remote put/get/delete
# (vFile:pwrite/unlink), info proc (vFile:readlink), and an exit by signal (X). Each packet
# is proved by its effect on the program or on the files (gdb uses G and M once P and X are off).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Cwd qw(abs_path getcwd);
use TS;

my $prog = fixture('basic');
plan skip_all => "$prog not built (make fixtures)" if !-x $prog;
$prog = abs_path($prog);    # both servers exec the same path (AT_EXECFN, info proc)

my %TODO_TS = ();
our $TODO;
my $tmp = TS::tmpdir();
my $cwd = getcwd();

# AVX-512 state tracestub's target.xml does not describe (the issue asks up to AVX).
my $avx512 = qr/^(k[0-7]|xmm(1[6-9]|2\d|3[01])|ymm(1[6-9]|2\d|3[01])h|zmm\d+h|pkru)$/;
my @need = (qw(rax rbx rcx rdx rsi rdi rbp rsp), (map {"r$_"} 8 .. 15), qw(rip eflags cs ss ds es
    fs gs fs_base gs_base), (map {"st$_"} 0 .. 7), qw(fctrl fstat ftag fiseg fioff foseg fooff fop),
    (map {"xmm$_"} 0 .. 15), 'mxcsr', (map {"ymm${_}h"} 0 .. 15), 'orig_rax');

sub remote_regs {
    my ($o) = @_;
    my @n = $o =~ /^ (\w+)\s+\d+\s+\d+\s+\d+\s+\d+\s+\S+\s+\d+\s+\d+$/mg;
    return \@n;
}

my $blob = "$tmp/blob";
{
    open my $fh, '>:raw', $blob or die;
    print $fh pack('N*', map { ($_ * 2654435761) & 0xffffffff } 1 .. 20000), "#\$}*\x03";
    close $fh;
}

my (%norm, %regs);
for my $srv (gdb_servers()) {
    TS::preflight($srv, q{gdb});
    my $T = sub { $TODO = $srv eq 'tracestub' ? $TODO_TS{ $_[0] } : undef; "$srv: $_[0]" };

    # Registers: names from target.xml and values at a fixed point of the program.
    my $s = start_server($srv, launch => [$prog, 3]);
    my ($o) = run_gdb($s, prog => $prog,
        cmds => ['maint print remote-registers', 'break add_ints', 'continue',
            'info registers cs ss ds es fs gs mxcsr fctrl fstat ftag orig_rax',    # not eflags:
            # its parity bit follows address arithmetic, and only gdbserver disables ASLR
            'p $fs_base != 0', 'p $gs_base', 'p $st0', 'p $xmm7.v4_int32', 'p/x $ymm7h',
            'kill']);
    stop_server($s);
    my $names = remote_regs($o);
    $regs{$srv} = { map { $_ => 1 } @$names };
    my @missing = grep { !$regs{$srv}{$_} } @need;
    ok(!@missing, $T->('target.xml: general, segment, fs/gs_base, x87, SSE, AVX, orig_rax'))
        or diag("missing: @missing");
    like($o, qr/^orig_rax\s+0xADDR\s+-1$/m, $T->('orig_rax readable'));
    like($o, qr/^\$1 = 1$/m, $T->('fs_base set (TLS)'));
    $o =~ s/^ (\w+|'')\s+\d+\s+\d+.*\n//mg;    # the table itself is compared as a set below
    $norm{$srv}{regs} = $o;

    # Register writes (return pops the frame: rip, rsp, rbp, rax) and memory writes, first
    # through P and X, then with those packets off in gdb, through G and M.
    for my $pk (['P, X'], ['G, M', 'set remote set-register-packet off',
            'set remote binary-download-packet off']) {
        my ($what, @pre) = @$pk;
        $s = start_server($srv, launch => [$prog, 3]);
        ($o) = run_gdb($s, prog => $prog,
            cmds => [@pre, 'break main', 'continue', 'set var counter = 100', 'break add_ints',
                'continue', 'return 42', 'bt 1', 'print counter', 'delete', 'continue']);
        like($o, qr/^#0  0xADDR in main \(argc=2, argv=0xADDR\) at tests\/fixtures\/basic.c:53$/m,
            $T->("$what: return popped the frame"));
        like($o, qr/^\$1 = 100$/m, $T->("$what: memory write read back"));
        like($o, qr/^\[Inferior 1 \(process PID\) exited with code 03\]$/m, $T->("$what: exits 3"));
        wait_server($s, 10);
        stop_server($s);
        my $out = TS::slurp($s->{out});
        like($out, qr/^counter = 200 total = 27$/m, $T->("$what: the program saw both writes"));
        unlike($out, qr/^add_ints/m, $T->("$what: the returned-from function printed nothing"));
    }

    # info auxv.
    $s = start_server($srv, launch => [$prog, 3]);
    ($o) = run_gdb($s, prog => $prog, cmds => ['info auxv', 'kill']);
    stop_server($s);
    like($o, qr/^9\s+AT_ENTRY\s+Entry point of program\s+0xADDR$/m, $T->('info auxv: AT_ENTRY'));
    like($o, qr/^31\s+AT_EXECFN\s+File name of executable\s+0xADDR "\Q$prog\E"$/m,
        $T->('info auxv: AT_EXECFN'));
    like($o, qr/^0\s+AT_NULL\s+End of vector\s+0x0$/m, $T->('info auxv: AT_NULL ends it'));
    $norm{$srv}{auxv} = $o;

    # No local file: gdb asks for the executable's name and reads it and the libraries over
    # vFile; then files are put, fetched and deleted through the server; info proc.
    my ($remote, $back) = ("$tmp/blob.$srv", "$tmp/blob.$srv.back");
    $s = start_server($srv, launch => [$prog, 3]);
    my $raw;
    ($o, $raw) = run_gdb($s,
        cmds => ['set sysroot target:', 'info inferiors', 'break compare_ints', 'continue',
            'bt -1', 'info sharedlibrary', "remote put $blob $remote", "remote get $remote $back",
            'info proc', 'delete', 'signal SIGTERM']);
    like($raw, qr/^Reading \/lib64\/ld-linux-x86-64\.so\.2 from remote target\.\.\.$/m,
        $T->('vFile: libraries read over the connection'));
    like($o, qr/^\* 1\s+process PID\s+1 \(remote 127\.0\.0\.1:PORT\)\s+\Q$prog\E$/m,
        $T->('exec-file: gdb learnt the executable from the server'));
    like($o, qr/^Breakpoint 1, compare_ints \(a=0xADDR, b=0xADDR\) at tests\/fixtures\/basic.c:35$/m,
        $T->('vFile: breakpoint from the fetched executable hit'));
    like($o, qr/^#\d+  0xADDR in main \(argc=2, argv=0xADDR\) at tests\/fixtures\/basic.c:55$/m,
        $T->('vFile: bt reaches main'));
    like($o, qr/^0xADDR\s+0xADDR\s+Yes\s+target:\/lib\/x86_64-linux-gnu\/libc\.so\.6$/m,
        $T->('vFile: libc from the target'));
    like($o, qr/^cmdline = '\Q$prog\E 3'\ncwd = '\Q$cwd\E'\nexe = '\Q$prog\E'$/m,
        $T->('info proc: cmdline, cwd, exe'));
    like($o, qr/^Program terminated with signal SIGTERM, Terminated\.$/m, $T->('X: exit by signal'));
    wait_server($s, 10);
    stop_server($s);
    is(TS::slurp($remote), TS::slurp($blob), $T->('remote put: file written through the server'));
    is(TS::slurp($back), TS::slurp($blob), $T->('remote get: file read back'));
    $s = start_server($srv, launch => [$prog]);
    run_gdb($s, prog => $prog, cmds => ["remote delete $remote", 'kill']);
    stop_server($s);
    ok(!-e $remote, $T->('remote delete: file gone'));
    $norm{$srv}{files} = $o;
}

if ($regs{tracestub} && $regs{gdbserver}) {
    my @extra = grep { !$regs{gdbserver}{$_} } sort keys %{ $regs{tracestub} };
    my @less = grep { !$regs{tracestub}{$_} && $_ !~ $avx512 } sort keys %{ $regs{gdbserver} };
    ok(!@extra && !@less, 'tracestub: same registers as gdbserver up to AVX (AVX-512 left out)')
        or diag("extra: @extra; missing: @less");
    for my $k (sort keys %{ $norm{gdbserver} }) {
        is($norm{tracestub}{$k}, $norm{gdbserver}{$k}, "tracestub: session '$k' same as gdbserver");
    }
}
# __thread variables of the executable in two threads (qGetTLSAddr): gdbserver asks
# libthread_db; tracestub computes the static TLS block below the thread pointer. Same values
# and addresses (randomisation off on both), and gdbserver's answer to its monitor command.
my $tls = fixture('tlsvars');
my %tlsout;
for my $srv (-x $tls ? gdb_servers() : ()) {
    my $s = start_server($srv, launch => [$tls]);
    my ($o) = run_gdb($s, prog => $tls, cmds => ['break worker', 'continue', 'print foo',
        'print tag', 'next', 'next', 'print foo', 'print tag', 'print &foo', 'thread 1',
        'print foo', 'print &foo', 'monitor set libthread-db-search-path /foo/bar', 'kill']);
    stop_server($s);
    $tlsout{$srv} = join("\n", $o =~ /^(\$\d+ = .*)$/mg);
    like($o, qr/\$3 = 42\n\$4 = "wain.*\n(?s:.*)\$6 = 7\n/, "$srv: __thread variables of two threads");
    like($o, qr/libthread-db-search-path set to `\/foo\/bar'/, "$srv: monitor set libthread-db-search-path");
}
SKIP: {
    skip 'gdbserver not installed', 1 if !exists $tlsout{gdbserver};
    is($tlsout{tracestub}, $tlsout{gdbserver}, 'tracestub: the values and addresses gdbserver gives');
}
done_testing();
