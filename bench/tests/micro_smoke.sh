#!/bin/sh
# SPDX-License-Identifier: MIT
# micro_smoke.sh MICRO CHECKER DIR - run iovabench-micro --quick with JSON
# output into DIR and let CHECKER validate it. Exit status: the first failure.
set -u
micro=$1 checker=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" || exit 1
strategies="buddy-lf buddy-lf+cache linux-rbtree"
"$micro" --quick --strategies="$(echo $strategies | tr ' ' ,)" --benchmark_out="$dir/out.json" --benchmark_out_format=json >"$dir/console.txt" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
	cat "$dir/console.txt"
	echo "micro_smoke: iovabench-micro exited with status $status" >&2
	exit 1
fi
# shellcheck disable=SC2086 # one argument per strategy
exec "$checker" "$dir/out.json" $strategies
