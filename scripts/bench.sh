#!/usr/bin/env bash
# make bench: per-hit cost of tracing f(a,b) (general registers + 64 stack bytes per hit),
# tracestub beside gdbserver and two minimal ptrace floors, interleaved, several rounds.
# Prints ns per hit (median, min-max) and the ratios. Not a test: nothing here asserts.
set -u
cd "$(dirname "$0")/.."
W=build/bench/workload F=build/bench/floor TS=build/tracestub
ROUNDS=${ROUNDS:-3}
N_FAST=${N_FAST:-20000}   # hits for the ptrace floors
N_SLOW=${N_SLOW:-2000}     # hits for the debugger-driven configurations
addr=0x$(nm "$W" | awk '$3=="f"{print $1}')
now() { date +%s%N; }
declare -A res

# run NAME N CMD...: wall time of CMD in ns, minus the untraced time of N calls, per hit.
run() {
	local name=$1 n=$2; shift 2
	local t0 t1
	t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
	local base=${untraced[$n]}
	res[$name]+="$(( (t1 - t0 - base) / n )) "
}
declare -A untraced
measure_untraced() {
	local n=$1 t0 t1
	t0=$(now); "$W" "$n" >/dev/null; t1=$(now)
	untraced[$n]=$((t1 - t0))
}

TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# gdb runs breakpoint commands only from a script file in batch mode, not from -ex.
gdb_break() { # server command as "$@": gdb break + silent continue
	printf '%s\n' "set pagination off" "target remote | $*" "break f" "commands 1" \
		silent continue end continue >"$TMP/b.gdb"
	gdb -nx -batch -x "$TMP/b.gdb" "$W"
}
gdb_trace() {
	printf '%s\n' "set pagination off" "target remote | $*" "trace f" "actions 1" \
		'collect $regs' 'collect *(unsigned char (*)[64])$rsp' end tstart continue tstatus \
		>"$TMP/t.gdb"
	gdb -nx -batch -x "$TMP/t.gdb" "$W"
}
ts_has_trace() { printf '' | timeout 5 gdb -nx -batch -ex "target remote | $TS - $W 1" \
	-ex 'tstatus' 2>&1 | grep -q 'Trace can be started\|Trace is running\|No trace has been run'; }

have_trace=0; ts_has_trace && have_trace=1
for r in $(seq "$ROUNDS"); do
	measure_untraced "$N_FAST"; measure_untraced "$N_SLOW"
	run "floor A (single-step)" "$N_FAST" "$F" step "$addr" "$W" "$N_FAST"
	run "floor B (emulate)" "$N_FAST" "$F" emul "$addr" "$W" "$N_FAST"
	run "gdb break+continue, gdbserver" "$N_SLOW" gdb_break gdbserver - "$W" "$N_SLOW"
	run "gdb break+continue, tracestub" "$N_SLOW" gdb_break "$TS" - "$W" "$N_SLOW"
	run "gdb tracepoint, gdbserver" "$N_SLOW" gdb_trace gdbserver - "$W" "$N_SLOW"
	[ $have_trace = 1 ] && run "gdb tracepoint, tracestub" "$N_SLOW" gdb_trace "$TS" - "$W" "$N_SLOW"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)], a[1], a[NR]}'; }
printf '%-36s %12s %20s\n' configuration "ns/hit(med)" "min-max"
declare -A med
for k in "floor A (single-step)" "floor B (emulate)" "gdb break+continue, gdbserver" \
	 "gdb break+continue, tracestub" "gdb tracepoint, gdbserver" "gdb tracepoint, tracestub"; do
	[ -n "${res[$k]:-}" ] || { printf '%-36s %12s\n' "$k" "n/a"; continue; }
	read -r m lo hi < <(echo "${res[$k]}" | median)
	med[$k]=$m
	printf '%-36s %12s %20s\n' "$k" "$m" "$lo-$hi"
done
ratio() { [ -n "${med[$1]:-}" ] && [ -n "${med[$2]:-}" ] && [ "${med[$2]}" -gt 0 ] &&
	awk -v a="${med[$1]}" -v b="${med[$2]}" -v l="$3" 'BEGIN{printf "%-44s %.2fx\n", l, a/b}'; }
ratio "gdb break+continue, gdbserver" "gdb break+continue, tracestub" "gdbserver / tracestub (break+continue)"
ratio "gdb tracepoint, gdbserver" "gdb tracepoint, tracestub" "gdbserver / tracestub (tracepoints)"
ratio "gdb tracepoint, tracestub" "floor B (emulate)" "tracestub tracepoint / floor B"
ratio "floor A (single-step)" "floor B (emulate)" "floor A / floor B"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%d GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
