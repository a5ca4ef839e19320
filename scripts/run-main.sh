#!/usr/bin/env bash
# run-main.sh - install what is missing, build Release, run the main job and keep its results.
#
#   ./scripts/run-main.sh [ARGS...]
#
# The main job is, for now, the micro-benchmarks: build/release/bench/iovabench-micro, with
# ARGS passed through to it (Google Benchmark's --benchmark_* flags, --quick, --strategies=...).
# It writes results/<YYYYmmdd-HHMMSS>-micro/micro.json (Google Benchmark JSON) and points the
# symlink results/latest at that folder. The JSON is written under a temporary name and renamed
# only when the run succeeds, so an interrupted or failed run leaves no partial micro.json.
# Exit status: that of the benchmark run, or 1 when the build fails or the binary is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/install-deps.sh

build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOVA_SANITIZE=
cmake --build "$build" --parallel "${IOVA_JOBS:-$(nproc)}"

micro=$build/bench/iovabench-micro
if [ ! -x "$micro" ]; then
	echo "run-main: $micro was not built: the micro-benchmarks (bench/) are not in this checkout yet," >&2
	echo "run-main: so there is no main job to run." >&2
	exit 1
fi

stamp=$(date +%Y%m%d-%H%M%S)
run=results/$stamp-micro
n=1
while [ -e "$run" ]; do # two runs in the same second
	n=$((n + 1))
	run=results/$stamp-$n-micro
done
mkdir -p "$run"

# A failed or interrupted run leaves neither the temporary file nor an empty run folder.
tmp=$run/micro.json.tmp
trap 'rm -f "$tmp"; rmdir "$run" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "run-main: running $micro $*"
"$micro" --benchmark_out="$tmp" --benchmark_out_format=json "$@"
mv -f "$tmp" "$run/micro.json"

# Repoint results/latest atomically: a new link under a temporary name, renamed over the old.
ln -sfn "$(basename "$run")" results/latest.tmp
mv -Tf results/latest.tmp results/latest

echo
echo "run-main: results in $run/micro.json (results/latest -> $(basename "$run"))"
echo "run-main: see results/README.md for what the files hold"
