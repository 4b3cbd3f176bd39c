#!/usr/bin/env bash
# make bench, real-server row: pgbench (select-only, 2 clients, 2 threads) against a
# PostgreSQL started here, untraced and while `tracestub trace -f -p POSTMASTER` traces
# pg_parse_query and PortalRun in every backend (pads; then --trap), interleaved rounds.
# Prints TPS (median) and the ratios. Not a test: nothing here asserts.
set -u
cd "$(dirname "$0")/.."
TS=$PWD/build/tracestub
ROUNDS=${PG_ROUNDS:-3} SECS=${PG_SECS:-4}
B=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$B/pgbench" ] && getent passwd postgres >/dev/null || { echo "pgbench row: n/a (no PostgreSQL)"; exit 0; }
D=$(mktemp -d); chmod 755 "$D"; mkdir "$D/sock"; chown -R postgres "$D"
as_pg() { runuser -u postgres -- "$@"; }
stop() { as_pg "$B/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1; rm -rf "$D"; }
trap stop EXIT
as_pg "$B/initdb" -D "$D/data" >/dev/null 2>&1 &&
	as_pg "$B/pg_ctl" -D "$D/data" -o "-k $D/sock -c listen_addresses=''" -l "$D/log" -w start \
		>/dev/null 2>&1 &&
	as_pg "$B/pgbench" -h "$D/sock" -i -s 2 postgres >/dev/null 2>&1 ||
	{ echo "pgbench row: n/a (server did not start)"; exit 0; }
pm=$(head -1 "$D/data/postmaster.pid")
tps() { as_pg "$B/pgbench" -h "$D/sock" -S -c 2 -j 2 -T "$SECS" postgres 2>/dev/null |
	awk '/^tps/{printf "%d", $3}'; }
# traced MODE: pgbench while the tracer is attached (it detaches on SIGINT afterwards)
traced() {
	"$TS" trace -q -f $1 -p "$pm" -e pg_parse_query -e PortalRun >"$D/trace.out" 2>&1 &
	local t=$!
	for _ in $(seq 50); do grep -q "attached to process" "$D/trace.out" && break; sleep 0.1; done
	sleep 0.5
	tps
	kill -INT $t; wait $t 2>/dev/null
}
declare -a un fa tr
for r in $(seq "$ROUNDS"); do
	un+=("$(tps)"); fa+=("$(traced "")")
	[ "$r" = 1 ] && tr+=("$(traced --trap)")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
u=$(med "${un[@]}") f=$(med "${fa[@]}") t=$(med "${tr[@]}")
printf '%-44s %s\n' "pgbench -S TPS untraced (median)" "$u"
printf '%-44s %s\n' "pgbench -S TPS, fast path (median)" "$f"
printf '%-44s %s\n' "pgbench -S TPS, --trap" "$t"
awk -v a="$f" -v b="$u" 'BEGIN{if (b) printf "%-44s %.2fx\n", "pgbench traced (fast) / untraced", a/b}'
awk -v a="$t" -v b="$u" 'BEGIN{if (b) printf "%-44s %.2fx\n", "pgbench traced (--trap) / untraced", a/b}'
