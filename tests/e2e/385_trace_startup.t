#!/usr/bin/env perl
# Start-up in proportion to what is traced: a cold run reads the DWARF of the modules a spec
# can find something in, and there only the units of traced functions; libc's debug file
# (libc6-dbg) is not parsed for a function of the program. What was read shows in the cache
# folder: index files, the vet verdicts per part ("index", "u<offset>"), the name answers.
# A warm run vets nothing again. gdb reads every unit's index (its cooked index) instead.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;

trace_ok_or_skip();
my $dw = fixture('dw_args');
plan skip_all => 'fixtures not built (make fixtures)' if !-x $dw;
my $tmp = TS::tmpdir();
my $dir = "$tmp/cache/tracestub";
$ENV{XDG_CACHE_HOME} = "$tmp/cache";
my $ino = (stat $dw)[1];

# [inode, scope, result] of every verdict on disk
sub verdicts {
    my $t = -r "$dir/dwarfvet-2" ? TS::slurp("$dir/dwarfvet-2") : '';
    return map { [ $_->[1], $_->[5], $_->[6] ] } map { [split] } split /\n/, $t;
}

my $u = plain_run(30, $dw);
my $r = trace_run(60, '-e', 'f_int', '--', $dw);
is($r->{out}, $u->{out}, 'cold: stdout identical to an untraced run');
like($r->{err}, qr/^\S+ \[\d+\] +f_int\(i=1\) = 2/m, 'cold: f_int(i=1) = 2, its parameter named from DWARF')
    or diag($r->{err});
my @idx = glob("$dir/dwarfidx-*");
is(scalar @idx, 1, "cold: one index built, the program's (no other module's DWARF parsed)");
my @v = verdicts();
is(scalar(grep { $_->[1] eq 'all' } @v), 0, 'cold: no file vetted whole');
is(join(',', map { $_->[0] == $ino ? 'dw' : 'other' } grep { $_->[1] eq 'index' } @v), 'dw',
    'cold: only the program had its index walks vetted');
my @units = grep { $_->[1] =~ /^u[0-9a-f]+$/ } @v;
ok(@units >= 1 && !grep({ $_->[0] != $ino || $_->[2] != 0 } @units),
    "cold: the unit of f_int vetted (and only the program's units)") or diag(explain(\@v));
SKIP: {
    skip 'libc6-dbg not installed', 1 if !glob('/usr/lib/debug/.build-id/*/*.debug');
    my $names = -r "$dir/dwarfnames-1" ? TS::slurp("$dir/dwarfnames-1") : '';
    like($names, qr/ 0 f_int$/m, "cold: a module whose DWARF strings lack f_int was only scanned (libelf), not parsed");
}
my $size = -s "$dir/dwarfvet-2";
my $r2 = trace_run(60, '-e', 'f_int', '--', $dw);
is(($r2->{err} =~ /^\S+ \[\d+\] +(f_int\(.*?) </m)[0], ($r->{err} =~ /^\S+ \[\d+\] +(f_int\(.*?) </m)[0],
    'warm: the same trace line');
is(-s "$dir/dwarfvet-2", $size, 'warm: nothing vetted again (no new verdict)');
is(scalar(my @i2 = glob("$dir/dwarfidx-*")), 1, 'warm: still one index file');

# A function only inlined (no symbol): the program's strings hold its name, its index finds it.
my $r3 = trace_run(60, '-e', 'f_inl', '--json', "$tmp/inl.json", '--', $dw);
is(scalar(grep { $_->{type} eq 'hit' && $_->{func} eq 'f_inl' } json_events(TS::slurp("$tmp/inl.json"))), 2,
    'an inlined-only function: its 2 instances found through the index');
# A name no module holds: no DWARF parsed at all.
$ENV{XDG_CACHE_HOME} = "$tmp/cache2";
my $r4 = trace_run(60, '-e', 'no_such_function_xyz', '--', $dw);
like($r4->{err}, qr/no_such_function_xyz/, 'a name found nowhere is reported');
is(scalar(my @i4 = glob("$tmp/cache2/tracestub/dwarfidx-*")), 0, 'a name found nowhere: no index built');
ok(!-e "$tmp/cache2/tracestub/dwarfvet-2" || !grep({ $_->[1] eq 'index' } verdicts()),
    'a name found nowhere: no index walk vetted');
done_testing();
