#!/usr/bin/env bash
# make bench: per-hit cost of tracing f(a,b) (general registers + 64 stack bytes per hit),
# tracestub beside gdbserver and two minimal ptrace floors, interleaved, several rounds; the
# headless tracer's pads (fast path) beside the in-process floor (the same pads calling an
# agent that saves the 16 registers and 64 stack bytes into a ring and nothing else: no clock,
# no thread id, no atomic), beside the pad alone (an agent that returns at once) and beside
# its own trap path.
# Prints ns per hit (median, min-max) and the ratios. Not a test: nothing here asserts.
#   probe engine rows: bench/probebench drives stub/live/live.h directly (one PTRACE_GETREGS, one
#   process_vm_readv per hit), with 1, 100 and 10000 probes installed (the extra ones on a
#   never-executed nop sled) and with the calls spread over 1, 2 and 8 threads.
set -u
cd "$(dirname "$0")/.."
W=build/bench/workload F=build/bench/floor TS=build/tracestub PB=build/bench/probebench
ROUNDS=${ROUNDS:-5}
N_FAST=${N_FAST:-20000}   # hits for the ptrace floors and the probe engine
N_SLOW=${N_SLOW:-2000}     # extra hits for gdb break+continue (marginal cost, see rundiff)
N_TRACE=${N_TRACE:-10000}  # extra hits for the gdb tracepoint rows
addr=0x$(nm "$W" | awk '$3=="f"{print $1}')
now() { date +%s%N; }
declare -A res tput

# run NAME N CMD...: wall time of CMD in ns, minus the untraced time of N calls, per hit.
run() {
	local name=$1 n=$2; shift 2
	local t0 t1
	t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
	local base=${untraced[$n]}
	res[$name]+="$(( (t1 - t0 - base) / n )) "
}
# rundiff NAME N FN SERVER: a gdb session FN with 200 and with 200+N calls of f; the per-hit
# cost is the difference over N, so gdb's start-up and file transfers do not count.
rundiff() {
	local name=$1 n=$2 fn=$3 srv=$4 t0 t1 t2 t3
	t0=$(now); "$fn" "$srv" - "$W" 200 >/dev/null 2>&1; t1=$(now)
	t2=$(now); "$fn" "$srv" - "$W" "$((200 + n))" >/dev/null 2>&1; t3=$(now)
	res[$name]+="$(( ((t3 - t2) - (t1 - t0)) / n )) "
}
# gdbloop NAME N FN SERVER: a gdb session FN over N calls, timed by the workload's own loop
# (WORKLOAD_TIME, printed through the server), minus the untraced loop, per hit: for costs
# far below what two gdb sessions differ by (the ftrace rows).
gdbloop() {
	local name=$1 n=$2 fn=$3 srv=$4 out loop
	out=$(WORKLOAD_TIME=1 "$fn" "$srv" - "$W" "$n" 2>&1)
	loop=$(sed -n 's/^loop_ns=//p' <<<"$out" | tail -1)
	[ -n "$loop" ] || { echo "gdb run failed: $name" >&2; return; }
	res[$name]+="$(( (loop - ${loopbase[$n/1]}) / n )) "
}
declare -A untraced
measure_untraced() { # N [THREADS]
	local n=$1 t=${2:-1} t0 t1
	t0=$(now); "$W" "$((n / t))" "$t" >/dev/null; t1=$(now)
	untraced[$n/$t]=$((t1 - t0))
	[ "$t" = 1 ] && untraced[$n]=$((t1 - t0))
}
# probe NAME N THREADS EXTRA [OFFSET]: the engine's own timing of the traced run, per hit;
# hits/s.
probe() {
	local name=$1 n=$2 t=$3 extra=$4 off=${5:-0} out hits ns
	out=$("$PB" -p "$extra" -o "$off" "$W" "$((n / t))" "$t" 2>/dev/null | grep "^hits=") ||
		{ echo "probebench failed: $name" >&2; return; }
	hits=${out#hits=}; hits=${hits%% *}; ns=${out##*ns=}
	[ "$hits" -gt 0 ] || return
	res[$name]+="$(( (ns - ${untraced[$n/$t]}) / hits )) "
	tput[$name]+="$(( hits * 1000000000 / ns )) "
}

# The headless tracer on f, timed by the workload itself (WORKLOAD_TIME: its loop, not the
# tracer's start-up), minus the untraced loop, per hit (a call and its return are 2 hits).
# Rings big enough that no hit is lost (a lost hit costs less than a recorded one) and that
# none is drained before the loop ends (an eighth of 128 MiB is more than the 9 MB a thread
# writes). The 8-thread row makes 8 times the calls, the same per thread as the 1-thread row:
# with an eighth each, a thread's 130 us of work was shorter than the scheduler's wake-ups
# of 8 threads on 2 cores, which the row then measured. The threads exit when every loop is
# over (the tracer handles an exiting thread's records at its exit, on one of the 2 cores).
declare -A loopbase cpubase cpuhit
loop_untraced() { # N THREADS
	local out
	out=$(WORKLOAD_TIME=1 "$W" "$(($1 / $2))" "$2" 2>&1 >/dev/null)
	loopbase[$1/$2]=$(sed -n 's/^loop_ns=//p' <<<"$out")
	cpubase[$1/$2]=$(sed -n 's/^cpu_ns=//p' <<<"$out")
}
# headless NAME N THREADS [--trap] [ENV=VALUE...]
headless() {
	local name=$1 n=$2 t=$3 mode=$4 out loop cpu; shift 4
	out=$(env "$@" WORKLOAD_TIME=1 "$TS" trace -q --ring 128M --stack 64 $mode -e f -- \
		"$W" "$((n / t))" "$t" 2>&1 >/dev/null)
	loop=$(sed -n 's/^loop_ns=//p' <<<"$out")
	[ -n "$loop" ] || { echo "headless run failed: $name" >&2; return; }
	grep -q "fast hits lost" <<<"$out" && echo "note: $name lost hits" >&2
	[ "$mode" = --trap ] || grep -q "^tracestub trace: f: fast" <<<"$out" ||
		{ echo "no pads in: $name" >&2; return; }
	res[$name]+="$(( (loop - ${loopbase[$n/$t]}) / (2 * n) )) "
	tput[$name]+="$(( 2 * n * 1000000000 / loop )) "
	# what a hit costs the threads' own CPU time, in picoseconds (the scheduler's placement left out)
	cpu=$(sed -n 's/^cpu_ns=//p' <<<"$out")
	[ -n "$cpu" ] && cpuhit[$name]+="$(( (cpu - ${cpubase[$n/$t]}) * 1000 / (2 * n) )) "
}

# floor_at NAME N ADDR: the in-process floor at one address (*ADDR: one hit a call), the site
# gdb's ftrace rows use: the same pad, saving the same bytes, with no clock, thread or ring
# protocol.
floor_at() {
	local name=$1 n=$2 at=$3 out loop
	out=$(TRACESTUB_BENCH_FLOOR=1 WORKLOAD_TIME=1 "$TS" trace -q --ring 16M -e "*$at" -- \
		"$W" "$n" 1 2>&1 >/dev/null)
	loop=$(sed -n 's/^loop_ns=//p' <<<"$out")
	[ -n "$loop" ] && grep -q ": fast$" <<<"$out" || { echo "floor_at failed: $name" >&2; return; }
	res[$name]+="$(( (loop - ${loopbase[$n/1]}) / n )) "
}

TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
# gdb runs breakpoint commands only from a script file in batch mode, not from -ex.
gdb_break() { # server command as "$@": gdb break + silent continue
	printf '%s\n' "set pagination off" "target remote | $*" "break f" "commands 1" \
		silent continue end continue >"$TMP/b.gdb"
	gdb -nx -batch -x "$TMP/b.gdb" "$W"
}
gdb_trace() {
	# From main on: gdbserver refuses tracepoints set before the libraries load (E01).
	# A 64 MiB buffer: gdbserver's 2.5 KB frames fill the default 5 MiB in 2,130 hits.
	printf '%s\n' "set pagination off" "target remote | $*" "break main" "continue" \
		"set trace-buffer-size 67108864" "trace f" "actions 2" \
		'collect $regs' 'collect *(unsigned char (*)[64])$rsp' end tstart continue tstatus \
		>"$TMP/t.gdb"
	gdb -nx -batch -x "$TMP/t.gdb" "$W"
}
# gdb's fast tracepoint (ftrace), the same collection: on tracestub a pad of its in-process
# agent; on gdbserver its libinproctrace.so, preloaded (--wrapper), which needs a non-PIE
# program (the workload is) and an instruction of 5 bytes or more at the site: f's 5-byte
# nop, where both rows put it.
ft_at=0x$(objdump -d "$W" | awk '/<f>:/,/ret/' | grep -m1 '0f 1f 44 00 00' | awk '{print $1}' | tr -d :)
IPA=$(dpkg -L gdbserver 2>/dev/null | grep -m1 'libinproctrace\.so$')
gdb_ftrace() {
	printf '%s\n' "set pagination off" "target remote | $*" "break main" "continue" \
		"set trace-buffer-size 67108864" "set circular-trace-buffer on" "ftrace *$ft_at" \
		"actions 2" 'collect $regs' 'collect *(unsigned char (*)[64])$rsp' end tstart \
		continue tstatus >"$TMP/ft.gdb"
	gdb -nx -batch -x "$TMP/ft.gdb" "$W"
}
ts_has_trace() { printf '' | timeout 5 gdb -nx -batch -ex "target remote | $TS - $W 1" \
	-ex 'tstatus' 2>&1 | grep -q 'Trace can be started\|Trace is running\|No trace has been run'; }

have_trace=0; ts_has_trace && have_trace=1
for r in $(seq "$ROUNDS"); do
	measure_untraced "$N_FAST"; measure_untraced "$N_SLOW"
	measure_untraced "$N_FAST" 2; measure_untraced "$N_FAST" 8
	loop_untraced "$N_FAST" 1; loop_untraced "$((8 * N_FAST))" 8
	headless "pad alone (no record)" "$N_FAST" 1 "" TRACESTUB_BENCH_FLOOR=pad
	headless "in-process floor (regs + 64 B)" "$N_FAST" 1 "" TRACESTUB_BENCH_FLOOR=1
	floor_at "in-process floor at the ftrace site" "$N_FAST" "$ft_at"
	headless "headless fast path, 1 thread" "$N_FAST" 1 ""
	headless "headless fast path, 8 threads" "$((8 * N_FAST))" 8 ""
	headless "headless fast path + OTLP spans" "$N_FAST" 1 "--otlp-file /dev/null"
	headless "headless trap path (--trap)" "$N_FAST" 1 --trap
	run "floor A (single-step)" "$N_FAST" "$F" step "$addr" "$W" "$N_FAST"
	run "floor B (emulate)" "$N_FAST" "$F" emul "$addr" "$W" "$N_FAST"
	probe "probe engine, 1 probe" "$N_FAST" 1 0
	probe "probe engine, out of line (f+4)" "$N_FAST" 1 0 4
	probe "probe engine, 100 probes" "$N_FAST" 1 99
	probe "probe engine, 10000 probes" "$N_FAST" 1 9999
	probe "probe engine, 2 threads" "$N_FAST" 2 0
	probe "probe engine, 8 threads" "$N_FAST" 8 0
	rundiff "gdb break+continue, gdbserver" "$N_SLOW" gdb_break gdbserver
	rundiff "gdb break+continue, tracestub" "$N_SLOW" gdb_break "$TS"
	rundiff "gdb tracepoint, gdbserver" "$N_TRACE" gdb_trace gdbserver
	[ $have_trace = 1 ] && rundiff "gdb tracepoint, tracestub" "$N_TRACE" gdb_trace "$TS"
	[ $have_trace = 1 ] && gdbloop "gdb ftrace, tracestub" "$N_FAST" gdb_ftrace "$TS"
	[ -n "$IPA" ] && gdbloop "gdb ftrace, gdbserver+libinproctrace" "$N_FAST" gdb_ftrace \
		"gdbserver --wrapper env LD_PRELOAD=$IPA --"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)], a[1], a[NR]}'; }
printf '%-36s %12s %20s %12s\n' configuration "ns/hit(med)" "min-max" "hits/s(med)"
declare -A med
for k in "floor A (single-step)" "floor B (emulate)" "probe engine, 1 probe" \
	 "probe engine, out of line (f+4)" \
	 "probe engine, 100 probes" "probe engine, 10000 probes" "probe engine, 2 threads" \
	 "probe engine, 8 threads" "gdb break+continue, gdbserver" \
	 "gdb break+continue, tracestub" "gdb tracepoint, gdbserver" "gdb tracepoint, tracestub" \
	 "gdb ftrace, tracestub" "gdb ftrace, gdbserver+libinproctrace" \
	 "pad alone (no record)" "in-process floor (regs + 64 B)" \
	 "in-process floor at the ftrace site" \
	 "headless fast path, 1 thread" \
	 "headless fast path, 8 threads" "headless fast path + OTLP spans" \
	 "headless trap path (--trap)"; do
	[ -n "${res[$k]:-}" ] || { printf '%-36s %12s\n' "$k" "n/a"; continue; }
	read -r m lo hi < <(echo "${res[$k]}" | median)
	med[$k]=$m
	tp=""
	[ -n "${tput[$k]:-}" ] && read -r tp _ < <(echo "${tput[$k]}" | median)
	printf '%-36s %12s %20s %12s\n' "$k" "$m" "$lo-$hi" "$tp"
done
ratio() { [ -n "${med[$1]:-}" ] && [ -n "${med[$2]:-}" ] && [ "${med[$2]}" -gt 0 ] &&
	awk -v a="${med[$1]}" -v b="${med[$2]}" -v l="$3" 'BEGIN{printf "%-44s %.2fx\n", l, a/b}'; }
ratio "gdb break+continue, gdbserver" "gdb break+continue, tracestub" "gdbserver / tracestub (break+continue)"
ratio "gdb tracepoint, gdbserver" "gdb tracepoint, tracestub" "gdbserver / tracestub (tracepoints)"
ratio "gdb tracepoint, tracestub" "floor B (emulate)" "tracestub tracepoint / floor B"
ratio "gdb tracepoint, tracestub" "gdb ftrace, tracestub" "tracestub trace / ftrace"
ratio "gdb tracepoint, gdbserver" "gdb ftrace, tracestub" "gdbserver trace / tracestub ftrace"
ratio "gdb ftrace, tracestub" "in-process floor (regs + 64 B)" "tracestub ftrace / in-process floor"
ratio "gdb ftrace, tracestub" "in-process floor at the ftrace site" "  / the floor at its own site"
ratio "gdb ftrace, gdbserver+libinproctrace" "gdb ftrace, tracestub" "gdbserver ftrace / tracestub ftrace"
ratio "probe engine, 1 probe" "floor B (emulate)" "probe engine / floor B"
ratio "probe engine, out of line (f+4)" "floor A (single-step)" "probe engine out of line / floor A"
ratio "probe engine, 10000 probes" "probe engine, 1 probe" "10000 probes / 1 probe"
ratio "floor A (single-step)" "floor B (emulate)" "floor A / floor B"
ratio "headless fast path, 1 thread" "in-process floor (regs + 64 B)" "headless fast path / in-process floor"
ratio "headless fast path, 1 thread" "pad alone (no record)" "  / the pad alone"
ratio "headless trap path (--trap)" "headless fast path, 1 thread" "headless trap path / fast path"
ratio "headless fast path + OTLP spans" "headless fast path, 1 thread" "fast path with OTLP spans / without"
ratio "gdb tracepoint, gdbserver" "headless fast path, 1 thread" "gdbserver tracepoint / fast path"
[ -n "${tput[headless fast path, 8 threads]:-}" ] && [ -n "${tput[headless fast path, 1 thread]:-}" ] &&
	awk -v a="$(echo "${tput[headless fast path, 8 threads]}" | median | cut -d' ' -f1)" \
	    -v b="$(echo "${tput[headless fast path, 1 thread]}" | median | cut -d' ' -f1)" \
	    'BEGIN{printf "%-44s %.2fx\n", "fast path hits/s, 8 threads / 1 thread", a/b}'
# The same from what a hit costs the threads' own CPU time (median picoseconds a hit), times
# the cores they can run on: 8 threads on 2 cores woken together (the workload's barrier)
# often run one after another, a thread waiting milliseconds behind another's time slice
# while the other core idles; the wall-clock ratio above keeps that, this one is the hit
# path's own scaling (a lock or a cache line shared per hit would show here).
[ -n "${cpuhit[headless fast path, 8 threads]:-}" ] && [ -n "${cpuhit[headless fast path, 1 thread]:-}" ] &&
	awk -v a="$(echo "${cpuhit[headless fast path, 1 thread]}" | median | cut -d' ' -f1)" \
	    -v b="$(echo "${cpuhit[headless fast path, 8 threads]}" | median | cut -d' ' -f1)" \
	    -v c="$(nproc)" \
	    'BEGIN{if (b > 0) printf "%-44s %.2fx (%.1f / %.1f ns of CPU a hit)\n", "  from the threads'"'"' CPU time x cores", (c < 8 ? c : 8) * a / b, a / 1000, b / 1000}'
# Fairness of the trap path: 32 threads trapping on one function; the slowest call waited
# for the others' traps to be served (arrival order keeps that to about one round).
fair=$("$TS" trace -q --trap -e f -- "$W" 1000 32 2>&1 >/dev/null | awk '$1=="f"{print $6, $7, $10, $11}')
read -r avg avgu worst worstu <<<"$fair"
printf '%-44s average %s %s, slowest %s %s\n' "trap path, 32 threads x 1000 calls:" \
	"${avg:-?}" "${avgu:-}" "${worst:-?}" "${worstu:-}"
scripts/bench_pg.sh
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%d GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
