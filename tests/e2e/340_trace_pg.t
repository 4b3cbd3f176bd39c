#!/usr/bin/env perl
# tracestub trace against a real PostgreSQL: a throwaway cluster (Debian's postgresql 15, run
# as the postgres user) on a unix socket in a temp dir. psql, started through Debian's Perl
# wrapper that execs the real (stripped, PIE) binary, traced on libpq.so.5 before libpq is
# even loaded: the SQL texts of PQexec/PQsendQuery (a 10-byte thunk ending in a tail jmp),
# their call counts and returns, and a backtrace from libpq into psql's main unwound by CFI.
# Then tests/fixtures/pqclient (libpq dlopen'ed) with a glob over PQ*.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use TS;
use TraceRun;

trace_ok_or_skip();
my $bin = '/usr/lib/postgresql/15/bin';
plan skip_all => "PostgreSQL 15 not installed ($bin)" if !-x "$bin/postgres";
plan skip_all => 'no postgres user' if !getpwnam('postgres');
plan skip_all => 'needs root (to run the server as postgres)' if $>;
my $pqclient = fixture('pqclient');

my $dir = tempdir('ts-pg-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/sock";
my ($uid, $gid) = (getpwnam('postgres'))[2, 3];
chown $uid, $gid, $dir, "$dir/sock";
my $r = plain_run(120, 'runuser', '-u', 'postgres', '--', "$bin/initdb", '-D', "$dir/data",
    '-A', 'trust', '-U', 'postgres');
is($r->{rc}, 0, 'initdb') or diag($r->{out} . $r->{err});
$r = plain_run(60, 'runuser', '-u', 'postgres', '--', "$bin/pg_ctl", '-D', "$dir/data", '-o',
    "-k $dir/sock -c listen_addresses=", '-w', '-l', "$dir/log", 'start');
is($r->{rc}, 0, 'server started on a unix socket') or BAIL_OUT("postgres: $r->{err}");
END {
    system('runuser', '-u', 'postgres', '--', "$bin/pg_ctl", '-D', "$dir/data", '-m',
        'immediate', 'stop') if $dir && -d "$dir/data";
}

sub query_of { my $e = shift; my ($q) = grep { $_->{name} eq 'query' } @{ $e->{args} }; return $q ? $q->{value} : undef }

# ---- psql through the wrapper ----
my @psql = ('psql', '-h', "$dir/sock", '-U', 'postgres', '-d', 'postgres', '-X', '-A', '-t',
    '-c', 'SELECT 40+2', '-c', 'SELECT 7*6');
my $json = "$dir/psql.json";
$r = trace_run(120, '-e', 'libpq.so.5:PQexec', '-e', 'libpq.so.5:PQsendQuery', '--bt',
    '--json', $json, '--', @psql);
my $u = plain_run(60, @psql);
is($u->{out}, "42\n42\n", 'psql untraced prints 42 twice');
is($r->{out}, $u->{out}, 'psql traced: stdout identical');
is($r->{rc}, 0, 'psql traced: exit status 0');
my @ev = json_events(TS::slurp($json));
my @calls = grep { $_->{type} eq 'call' } @ev;
my @q1 = grep { (query_of($_) // '') eq 'SELECT 40+2' } @calls;
my @q2 = grep { (query_of($_) // '') eq 'SELECT 7*6' } @calls;
is(scalar @q1, 1, "'SELECT 40+2' sent once, its SQL text read from libpq's argument");
is(scalar @q2, 1, "'SELECT 7*6' sent once");
ok(@q1 && $q1[0]{module} =~ /^libpq\.so\.5/, 'the call is in libpq.so.5 (loaded after the exec)');
for my $c (@q1, @q2) {
    my ($rt) = grep { $_->{type} eq 'return' && $_->{func} eq $c->{func} && $_->{tid} == $c->{tid}
            && $_->{depth} == $c->{depth} && $_->{seq} > $c->{seq} } @ev;
    ok($rt && defined $rt->{ret}[0]{value}, "$c->{func}('" . query_of($c) . "') returns (tail jmp seen through)");
    my @bt = map { $_->{func} // '' } @{ $c->{bt} // [] };
    is($bt[0], $c->{func}, 'backtrace frame 0 is the libpq function');
    ok((grep { $_ eq 'main' } @bt), 'the backtrace reaches psql\'s main (stripped: main from _start, CFI)')
        or diag("bt: @bt");
    my ($m) = grep { ($_->{func} // '') eq 'main' } @{ $c->{bt} // [] };
    is($m && $m->{module}, 'psql', 'main is psql\'s');
}
like($r->{err}, qr/^PQ(exec|sendQuery)\s+libpq\.so\.5\.\d+\s+\d+/m, 'summary rows for libpq');

# ---- pqclient, PQ* ----
SKIP: {
    skip 'pqclient not built', 6 if !-x $pqclient;
    my $conn = "host=$dir/sock user=postgres dbname=postgres";
    my @cmd = ($pqclient, $conn, 'SELECT 1', "SELECT 'a'||'b'", 'SELECT 3');
    $json = "$dir/pq.json";
    $r = trace_run(120, '-e', 'PQ*', '--json', $json, '--', @cmd);
    $u = plain_run(60, @cmd);
    is($r->{out}, "1\nab\n3\n", 'pqclient traced: its output');
    is($r->{out}, $u->{out}, 'pqclient: stdout identical to untraced');
    @ev = json_events(TS::slurp($json));
    my @ex = grep { $_->{type} eq 'call' && $_->{func} eq 'PQexec' } @ev;
    is_deeply([map { query_of($_) } @ex], ['SELECT 1', "SELECT 'a'||'b'", 'SELECT 3'],
        'PQexec: 3 calls, the SQL texts in order');
    is(scalar(grep { $_->{type} eq 'return' && $_->{func} eq 'PQexec' } @ev), 3,
        'PQexec: 3 returns although it ends in a tail jmp');
    my @gv = grep { $_->{type} eq 'return' && $_->{func} eq 'PQgetvalue' } @ev;
    is_deeply([map { $_->{ret}[0]{value} } @gv], ['1', 'ab', '3'], 'PQgetvalue results (C strings)');
    my ($cd) = grep { $_->{type} eq 'call' && $_->{func} eq 'PQconnectdb' } @ev;
    is($cd && $cd->{args}[0]{value}, $conn, 'PQconnectdb(conninfo)');
}
done_testing();
