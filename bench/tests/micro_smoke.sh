#!/bin/sh
# SPDX-License-Identifier: MIT
# micro_smoke.sh MICRO CHECKER DIR - run iovabench-micro --quick with JSON
# output into DIR and let CHECKER validate it for every registered strategy,
# with and without "+cache". Exit status: the first failure.
#
# The run names no strategies, so it also checks that the default covers
# them all: the list comes from --list-strategies, not from this script,
# so a strategy added to the registry is smoke-tested without an edit here.
set -u
micro=$1 checker=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" || exit 1
if ! "$micro" --list-strategies >"$dir/strategies.txt" 2>&1; then
	cat "$dir/strategies.txt"
	echo "micro_smoke: iovabench-micro --list-strategies failed" >&2
	exit 1
fi
strategies=
for s in $(cut -d ' ' -f 1 "$dir/strategies.txt"); do
	strategies="$strategies $s $s+cache"
done
if [ -z "$strategies" ]; then
	echo "micro_smoke: iovabench-micro --list-strategies listed no strategy" >&2
	exit 1
fi
# Half of --quick's scale: every benchmark still runs at 1 and 2 threads, and
# the test also runs under ThreadSanitizer, where --quick's scale took 75 s.
"$micro" --quick --scale=0.005 --benchmark_out="$dir/out.json" --benchmark_out_format=json >"$dir/console.txt" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
	cat "$dir/console.txt"
	echo "micro_smoke: iovabench-micro exited with status $status" >&2
	exit 1
fi
# shellcheck disable=SC2086 # one argument per strategy
exec "$checker" "$dir/out.json" $strategies
