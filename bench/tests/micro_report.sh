#!/bin/sh
# SPDX-License-Identifier: MIT
# micro_report.sh MICRO CHECKER DIR - where iovabench-micro writes its JSON:
# results/micro-DATE-TIME.json under the working directory by default (a
# second run in the same second gets its own name), exactly the
# --benchmark_out file when one is given, nothing for --benchmark_list_tests,
# and a clear error, no report, when results/ cannot be made.
set -u
micro=$1 checker=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
fail() {
	echo "micro_report: $*" >&2
	exit 1
}
run() { # a quick run of every benchmark of one strategy (about a second)
	"$micro" --quick --strategies=bitmap "$@"
}

run >console1.txt 2>&1 || { cat console1.txt; fail "default run failed"; }
run >console2.txt 2>&1 || { cat console2.txt; fail "second default run failed"; }
set -- results/micro-*.json
[ $# -eq 2 ] || fail "expected two reports in results/, found: $*"
for f in "$@"; do
	grep -q "report written to $f" console1.txt console2.txt || fail "no run said it wrote $f"
	"$checker" "$f" bitmap >check.txt 2>&1 || { cat check.txt; fail "$f is not a valid report"; }
done
ls results | grep -q '\.tmp\.' && fail "a temporary file was left in results/"

mkdir explicit && run --benchmark_out=explicit/out.json >console3.txt 2>&1 || { cat console3.txt; fail "run with --benchmark_out failed"; }
[ -s explicit/out.json ] || fail "--benchmark_out=explicit/out.json was not written"
[ "$(ls results | wc -l)" -eq 2 ] || fail "a run with --benchmark_out also wrote into results/"

mkdir listing && cd listing || exit 1
"$micro" --strategies=bitmap --benchmark_list_tests >list.txt 2>&1 || fail "--benchmark_list_tests failed"
[ -e results ] && fail "--benchmark_list_tests wrote a report"
cd ..

mkdir blocked && cd blocked && : >results || exit 1
run >console4.txt 2>&1 && fail "a run whose results/ is a file succeeded"
grep -q "cannot create results/" console4.txt || { cat console4.txt; fail "no error naming results/"; }
exit 0
