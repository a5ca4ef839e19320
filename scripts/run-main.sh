#!/usr/bin/env bash
# run-main.sh - install what is missing, build Release, run the main job and keep its results.
#
#   ./scripts/run-main.sh [OPTIONS...]
#
# The main job is jobs/main.ini run by the harness: build/release/bench/iovabench/iovabench run
# jobs/main.ini OPTIONS... (the default comparison of strategies, workloads, invalidation policies
# and thread counts; it takes under 3 minutes on 2 cores). OPTIONS override the job file, e.g.
#   ./scripts/run-main.sh --strategy=buddy-lf --job=gpu-frame --repetitions=5
# (iovabench run --help lists them). The run writes results/<YYYYmmdd-HHMMSS>-main/ (summary.json,
# summary.txt, .hgrm histograms, CSV time series, plots/), every file atomically, and points
# results/latest at it; it prints a summary table and where the results and plots are.
# Exit status: that of iovabench (0 done, 1 the run failed, 2 bad options, 130 interrupted), or 1
# when the build fails.
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/install-deps.sh

build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOVA_SANITIZE=
cmake --build "$build" --parallel "${IOVA_JOBS:-$(nproc)}"

iovabench=$build/bench/iovabench/iovabench
if [ ! -x "$iovabench" ]; then
	echo "run-main: $iovabench was not built" >&2
	exit 1
fi
echo "run-main: $iovabench run jobs/main.ini $*"
exec "$iovabench" run jobs/main.ini "$@"
