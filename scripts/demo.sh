#!/usr/bin/env bash
# make demo: the headless tracer on the bundled programs (a Go HTTP client and server; a C
# program with every kind of argument), the trace written for gdb and Perfetto, then gdb
# driving a program through tracestub.
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
