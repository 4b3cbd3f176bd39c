#!/usr/bin/env bash
# make demo: the headless tracer on the bundled programs (a Go HTTP client and server; a C
# program with every kind of argument), the trace written for gdb and Perfetto, then gdb
# driving a program through tracestub, a psql query joined to its backend as one OpenTelemetry
# trace, and a recording stepped through post-mortem.
set -eu
cd "$(dirname "$0")/.."
ts=build/tracestub
web=build/fixtures/go_webapp
out=${TMPDIR:-/tmp}/tracestub-demo
mkdir -p "$out"

run() {
	echo "\$ $*"
	"$@"
}

echo "== 1. A Go program's own functions and net/http, with arguments, results and durations"
echo "   (no SDK, no recompilation; the program's output is untouched, the trace is on stderr)"
run $ts trace -e main.fetch -e main.greet -e main.add -e net/http.Get \
	-o "$out/webapp.tf" --chrome "$out/webapp.chrome.json" --json "$out/webapp.jsonl" \
	-- "$web" 3
echo
echo "== 2. The written trace"
echo "   JSON Lines ($out/webapp.jsonl), first call:"
grep -m1 '"type":"call"' "$out/webapp.jsonl" | cut -c1-200
echo "   in gdb:"
run gdb -nx -batch -iex 'set auto-load python-scripts off' -ex "target tfile $out/webapp.tf" \
	-ex 'tfind start' -ex 'info registers rip' -ex 'bt 2' "$web" 2>&1 |
	grep -v '^warning: \|^Reading \|^Created tracepoint\|^Tracepoint \|^Assuming tracepoint'
echo "   open it yourself:  gdb $web -ex 'target tfile $out/webapp.tf'"
echo "   in Perfetto:       open https://ui.perfetto.dev and load $out/webapp.chrome.json"
echo
echo "== 3. C: every argument kind DWARF describes, returns through tail calls"
run $ts trace -e 'f_*' -- build/fixtures/dw_args
echo
echo "== 4. gdb drives a program through tracestub (target remote | tracestub - PROG)"
prog=build/fixtures/basic
gdb -nx -batch -ex "set pagination off" -ex "target remote | $ts - $prog 3" \
	-ex 'break compare_ints' -ex continue -ex bt -ex 'info registers rip' -ex finish \
	-ex 'delete' -ex continue "$prog" 2>&1 | grep -v '^warning: \|^Reading '
echo
echo "== 5. A psql query and the PostgreSQL backend work it caused, as one OpenTelemetry trace"
echo "   (two tracers that never talk: one attached to the postmaster and its backends, one"
echo "   running psql; the spans join by the socket they share)"
pgbin=/usr/lib/postgresql/15/bin
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && [ -x "$pgbin/postgres" ]; then
	pg=$(mktemp -d "${TMPDIR:-/tmp}/tracestub-demo-pg.XXXXXX")
	mkdir -p "$pg/sock"
	chmod 755 "$pg"
	chown postgres:postgres "$pg" "$pg/sock"
	runuser -u postgres -- "$pgbin/initdb" -D "$pg/data" -A trust -U postgres >/dev/null
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg/data" -o "-k $pg/sock -c listen_addresses=" \
		-w -l "$pg/log" start >/dev/null
	pm=$(head -1 "$pg/data/postmaster.pid")
	rm -f "$out/server.otlp.jsonl" "$out/client.otlp.jsonl"
	echo "\$ $ts trace -f -p $pm --correlate -e pg_parse_query -e PortalRun -q --otlp-file $out/server.otlp.jsonl &"
	$ts trace -f -p "$pm" --correlate -e pg_parse_query -e PortalRun -q \
		--otlp-file "$out/server.otlp.jsonl" >/dev/null 2>"$out/server.err" &
	tracer=$!
	for _ in $(seq 100); do grep -q 'attached to process' "$out/server.err" && break; sleep 0.1; done
	run $ts trace --correlate -e libpq.so.5:PQsendQuery -q --otlp-file "$out/client.otlp.jsonl" \
		-- psql -h "$pg/sock" -U postgres -d postgres -X -A -t -c 'SELECT 40+2' 2>/dev/null
	sleep 0.5
	kill -INT "$tracer"
	wait "$tracer" || true
	runuser -u postgres -- "$pgbin/pg_ctl" -D "$pg/data" -m immediate stop >/dev/null
	rm -rf "$pg"
	run scripts/otlp_tree.pl "$out/server.otlp.jsonl" "$out/client.otlp.jsonl"
	echo "   to a collector (Jaeger, Tempo, ...) instead: --otlp http://HOST:4318"
else
	echo "   (skipped: needs root, the postgres user and PostgreSQL 15)"
fi
echo
echo "== 6. Post-mortem stepping: a headless recording, then gdb from the recording alone"
echo "   (probes only at the entries and returns of price and discount; replay runs the code"
echo "   between them, so the breakpoint after discount's prologue, next and finish work)"
shop=build/fixtures/shop
run $ts trace -q -o "$out/shop.tf" --stack 512 -e price -e discount -- "$shop" build/fixtures/libdisc.so
gdb -nx -batch -ex 'set pagination off' -ex "target remote | $ts replay $out/shop.tf -" \
	-ex 'break discount' -ex continue -ex bt -ex next -ex next -ex next -ex 'info locals' \
	-ex finish "$shop" 2>&1 |
	grep -v '^warning: \|^Reading \|^Created tracepoint\|^Tracepoint \|^Remote debugging\|^\[replay\]'
echo "   open it yourself:  $ts replay $out/shop.tf :1234, then gdb or lldb (gdb-remote 1234)"
