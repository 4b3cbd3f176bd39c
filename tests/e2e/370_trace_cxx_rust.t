#!/usr/bin/env perl
# Programs as C++ and Rust build them: names demangled with libiberty (as gdb shows them),
# probes by demangled name (every overload, a parameter list picking one, globs, templates),
# and values: a member function's result (its type on the in-class declaration), `this`,
# references, std::string (by reference, by value: an invisible reference, and returned
# through a hidden pointer), std::vector; Rust &str, String, Vec, slices and the variant of
# an Option or Result. Output as untraced; gdb finds as many locations for a name.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use TS;
use TraceRun;

trace_ok_or_skip();
my $tmp = TS::tmpdir();
my ($cxx, $rs) = (fixture('cxx_shop'), fixture('rust_m'));
plan skip_all => 'fixtures not built (make fixtures)' if !-x $cxx || !-x $rs;

sub lines_of {
    my ($err) = @_;
    return map { s/this=0x[0-9a-f]+/this=0xA/r } $err =~ /^\S+ \[\d+\] +(\S.*?) <[\d.]+ \S+>$/mg;
}

# ---- C++ ----
my $json = "$tmp/cxx.json";
my $r = trace_run(60, '-e', 'shop::Cart::add', '-e', 'shop::label', '-e', 'shop::Cart::total',
    '-e', 'twice<int>', '--json', $json, '--', $cxx);
my $u = plain_run(30, $cxx);
is($r->{out}, $u->{out}, 'C++: stdout identical to an untraced run');
is($r->{rc}, $u->{rc}, 'C++: exit status identical');
is_deeply([lines_of($r->{err})], [
    'shop::Cart::add(this=0xA, x=1, tag="ab") = 4',
    'shop::Cart::add(this=0xA, x=5) = 7',
    'shop::Cart::total(this=0xA, v=[1, 2, 3]) = 13',
    'shop::label(name="box", k=7) = "box#7"',
    'twice<int>(x=21) = 42',
], 'C++: both overloads, member results, this, std::string in and out, std::vector, a template')
    or diag($r->{err});
like($r->{err}, qr/^shop::Cart::add\s+cxx_shop\s+2\s/m, 'summary: the demangled name, 2 calls');
like($r->{err}, qr/^tracestub trace: shop::Cart::add: fast \(entry and 1 returns\)$/m,
    'shop::Cart::add (a std::string by reference) on pads: the object and its characters read at the hit');
my @ev = json_events(TS::slurp($json));
is(join(',', map { $_->{func} } grep { $_->{type} eq 'call' } @ev),
    'shop::Cart::add,shop::Cart::add,shop::Cart::total,shop::label,twice<int>', 'JSON: demangled names');
my ($lbl) = grep { $_->{type} eq 'return' && $_->{func} eq 'shop::label' } @ev;
is($lbl && $lbl->{ret}[0]{value}, 'box#7', 'JSON: a std::string result as a string');

my $g = `gdb -nx -batch -ex 'break shop::Cart::add' $cxx 2>&1`;
my ($locs) = $g =~ /\((\d+) locations\)/;
is($locs, 2, 'gdb: shop::Cart::add has 2 locations, as many as traced');

$r = trace_run(60, '-e', 'shop::Cart::add(int)', '--', $cxx);
is_deeply([lines_of($r->{err})], ['shop::Cart::add(this=0xA, x=5) = 7'], 'a parameter list picks one overload');
$r = trace_run(60, '-e', 'shop::Cart::add(int, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)', '--', $cxx);
is_deeply([lines_of($r->{err})], ['shop::Cart::add(this=0xA, x=1, tag="ab") = 4'], 'the full signature picks the other');
$r = trace_run(60, '-e', 'shop::Cart::*', '--', $cxx);
is(scalar(() = lines_of($r->{err})), 3, "a glob over demangled names: 'shop::Cart::*' is add, add, total");
$r = trace_run(60, '-e', '_ZN4shop4Cart3addEi', '--bt', '--', $cxx);
like($r->{err}, qr/shop::Cart::add\(this=0x[0-9a-f]+, x=5\) \.\.\.\n\s+#0 .* shop::Cart::add\+0x0 \(cxx_shop\)\n\s+#1 .* main\+0x[0-9a-f]+ \(cxx_shop\)/,
    'the mangled name still works; backtraces demangled');

# ---- Rust ----
$json = "$tmp/rs.json";
$r = trace_run(60, '-e', 'm::*', '--json', $json, '--', $rs);
$u = plain_run(30, $rs);
is($r->{out}, $u->{out}, 'Rust: stdout identical to an untraced run');
my @l = lines_of($r->{err});
for my $want ('m::add(a=1, b=10, s="hey") = 14', 'm::owned(s="abc", v=[1, 2]) = 5',
    'm::sum(xs=[1, 2, 3, 4]) = 10', 'm::half(x=8) = Some', 'm::half(x=3) = None',
    'm::parse(s="42") = Ok') {
    ok((grep { $_ eq $want } @l), "Rust: $want") or diag($r->{err});
}
like($r->{err}, qr/^\S+ \[\d+\]   <\.\.\. m::parse resumed> = Err </m, 'Rust: a Result that is Err');
@ev = json_events(TS::slurp($json));
my ($half) = grep { $_->{type} eq 'return' && $_->{func} eq 'm::half' } @ev;
is_deeply($half && $half->{ret}[0], { name => 'ret0', value => 'Some', variant => JSON::PP::true },
    'JSON: a variant is a string marked variant') or diag(explain($half));
$g = `gdb -nx -batch -ex 'break m::add' -ex run -ex 'info args' $rs 2>&1`;
like($g, qr/^s = "hey"$/m, 'gdb shows the same &str');

done_testing();
