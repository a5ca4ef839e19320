#!/usr/bin/env bash
# run-tests.sh - install what is missing, then build and test iovabench in six configurations.
#
#   ./scripts/run-tests.sh
#
# Configurations, each in its own build folder:
#   release  build/release  Release
#   debug    build/debug    Debug
#   clang    build/clang    Release built with clang instead of gcc, all tests
#   asan     build/asan     Debug + AddressSanitizer + UBSan (-DIOVA_SANITIZE=address), all tests
#   tsan     build/tsan     Debug + ThreadSanitizer (-DIOVA_SANITIZE=thread), only the tests
#                           labelled "concurrent" (ctest -L concurrent)
#   fuzz     build/fuzz     clang + ASan + UBSan, the libFuzzer targets only, each run for a
#                           bounded time (IOVA_FUZZ_SECONDS, default 30) from its committed corpus
# Every configuration runs even when an earlier one fails; a summary table follows, and last
# the line "tests: N passed, N failed".
#
# Environment:
#   IOVA_CONFIGS   the configurations to run, e.g. IOVA_CONFIGS="release asan" (default: all six)
#   IOVA_FUZZ_SECONDS  how long each fuzz target runs (default: 30)
#   IOVA_JOBS      parallel build jobs (default: nproc)
#   IOVA_TEST_TIMEOUT  seconds a test may run unless it sets its own TIMEOUT (default: 300)
# Exit status: 0 when every configuration configured, built and passed its tests; 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."

configs=${IOVA_CONFIGS:-release debug clang asan tsan fuzz}
fuzz_seconds=${IOVA_FUZZ_SECONDS:-30}
jobs=${IOVA_JOBS:-$(nproc)}
test_timeout=${IOVA_TEST_TIMEOUT:-300}

# config_args NAME: the cmake arguments, the build targets and the ctest selection of one configuration.
cmake_args=() ctest_args=() build_args=()
config_args() {
	ctest_args=() build_args=()
	case "$1" in
		release) cmake_args=(-DCMAKE_BUILD_TYPE=Release -DIOVA_SANITIZE=) ;;
		debug) cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DIOVA_SANITIZE=) ;;
		clang) cmake_args=(-DCMAKE_BUILD_TYPE=Release -DIOVA_SANITIZE= -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
		asan) cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DIOVA_SANITIZE=address) ;;
		tsan) cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DIOVA_SANITIZE=thread) ctest_args=(-L concurrent) ;;
		fuzz)
			cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DIOVA_SANITIZE=address -DIOVA_FUZZ=ON
				-DIOVA_FUZZ_SECONDS="$fuzz_seconds" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
			build_args=(--target fuzz_trace fuzz_import) ctest_args=(-L fuzz) ;;
		*) return 1 ;;
	esac
}

for name in $configs; do
	config_args "$name" || {
		echo "run-tests: unknown configuration '$name' in IOVA_CONFIGS (known: release debug clang asan tsan fuzz)" >&2
		exit 2
	}
done

./scripts/install-deps.sh

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

rows=() total_passed=0 total_failed=0 any_failed=0
for name in $configs; do
	config_args "$name"
	dir=build/$name
	echo
	echo "=== $name: configure, build and test in $dir ==="
	start=$SECONDS
	passed=0 failed=0 state=ok
	if ! cmake -S . -B "$dir" "${cmake_args[@]}"; then
		state="configure failed"
	elif ! cmake --build "$dir" --parallel "$jobs" "${build_args[@]}"; then
		state="build failed"
	else
		log=$dir/ctest.log
		ctest_rc=0
		ctest --test-dir "$dir" --output-on-failure --no-tests=ignore --timeout "$test_timeout" "${ctest_args[@]}" 2>&1 \
			| tee "$log" || ctest_rc=$?
		# "100% tests passed, 0 tests failed out of 7": the only line that gives both counts.
		summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
		if [ -n "$summary" ]; then
			read -r failed total < <(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1 \2/' <<<"$summary")
			passed=$((total - failed))
		fi
		if [ "$ctest_rc" -ne 0 ]; then
			state="tests failed"
			[ "$failed" -gt 0 ] || failed=1
		elif [ $((passed + failed)) -eq 0 ]; then
			state="no tests to run"
		fi
	fi
	[ "$state" = ok ] || [ "$state" = "no tests to run" ] || any_failed=1
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
	rows+=("$(printf '%-13s %6d %6d %7d  %s' "$name" "$passed" "$failed" $((SECONDS - start)) "$state")")
done

echo
echo "=== summary ==="
printf '%-13s %6s %6s %7s  %s\n' configuration passed failed seconds result
printf '%s\n' "${rows[@]}"
echo
echo "tests: $total_passed passed, $total_failed failed"
exit "$any_failed"
