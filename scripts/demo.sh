#!/usr/bin/env bash
# make demo: debug the bundled demo program through tracestub with the real gdb.
set -eu
cd "$(dirname "$0")/.."
prog=build/fixtures/basic
echo "== gdb drives $prog through tracestub (target remote | tracestub - $prog)"
gdb -nx -batch -ex "set pagination off" -ex "target remote | build/tracestub - $prog 3" \
	-ex 'break compare_ints' -ex continue -ex bt -ex 'info registers rip' -ex finish \
	-ex 'delete' -ex continue "$prog" 2>&1 | grep -v '^warning: \|^Reading '
