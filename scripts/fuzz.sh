#!/usr/bin/env bash
# Run one libFuzzer binary over its checked-in seed corpus for N seconds.
# New inputs go to a scratch corpus under build/, never into the checked-in seeds.
set -eu
bin=$1 seeds=$2 secs=$3
work=build/fuzz-corpus/$(basename "$bin")
mkdir -p "$work" "$seeds"
out=$("$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=8192 \
	-artifact_prefix=build/fuzz-crash- "$work" "$seeds" 2>&1) || { echo "$out" | tail -40; exit 1; }
runs=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
echo "fuzz $(basename "$bin"): ${runs:-?} executions in ${secs}s, no crash"
