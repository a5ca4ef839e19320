// SPDX-License-Identifier: MIT
//
// gbench_shim.cc - gbench.h implemented on Google Benchmark (1.7.x).
//
// gb_state and gb_bench are never defined: a gb_state* is a
// benchmark::State* and a gb_bench* a benchmark::internal::Benchmark*, cast
// back before every use. Everything else forwards to the C++ API one to one;
// the only state the shim keeps is the setup/teardown trampoline table and a
// flag recording gb_skip_with_error() for gb_main()'s exit status.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace {

benchmark::State *cxx(gb_state *st) { return reinterpret_cast<benchmark::State *>(st); }
const benchmark::State *cxx(const gb_state *st) { return reinterpret_cast<const benchmark::State *>(st); }
benchmark::internal::Benchmark *cxx(gb_bench *b) { return reinterpret_cast<benchmark::internal::Benchmark *>(b); }

// Set by gb_skip_with_error() from any benchmark thread, read by gb_main()
// after all runs: the library reports errors but RunSpecifiedBenchmarks()
// does not return them.
std::atomic<bool> g_any_error{false};

// Benchmark::Setup/Teardown take a plain void(*)(const State&) with no
// context pointer, and calling a gb_hook_fn through that type would be
// undefined. So each distinct C hook gets a slot in a fixed table of
// template-generated trampolines; a program registers few distinct hook
// functions (not one per benchmark), so a small table suffices.
constexpr std::size_t kMaxHooks = 128;
gb_hook_fn g_hooks[kMaxHooks];
std::size_t g_hook_count;
std::mutex g_hooks_lock; // registration may come from static initialisers

template <std::size_t I> void trampoline(const benchmark::State &st)
{
	g_hooks[I](reinterpret_cast<const gb_state *>(&st));
}

using Callback = void (*)(const benchmark::State &);

template <std::size_t... I> constexpr std::array<Callback, sizeof...(I)> make_trampolines(std::index_sequence<I...>)
{
	return {{&trampoline<I>...}};
}

constexpr std::array<Callback, kMaxHooks> kTrampolines = make_trampolines(std::make_index_sequence<kMaxHooks>{});

Callback trampoline_for(gb_hook_fn fn)
{
	if (!fn) {
		std::fprintf(stderr, "gbench shim: setup/teardown hook must not be NULL\n");
		std::abort();
	}
	std::lock_guard<std::mutex> lock(g_hooks_lock);
	for (std::size_t i = 0; i < g_hook_count; i++)
		if (g_hooks[i] == fn)
			return kTrampolines[i];
	if (g_hook_count == kMaxHooks) {
		// A programming error (hooks are functions, not data): fail loudly.
		std::fprintf(stderr, "gbench shim: more than %zu distinct setup/teardown hooks\n", kMaxHooks);
		std::abort();
	}
	g_hooks[g_hook_count] = fn;
	return kTrampolines[g_hook_count++];
}

} // namespace

extern "C" {

gb_bench *gb_register(const char *name, gb_fn fn)
{
	if (!name || !fn) {
		std::fprintf(stderr, "gbench shim: gb_register needs a name and a function\n");
		std::abort();
	}
	auto *b = benchmark::RegisterBenchmark(name, [fn](benchmark::State &st) {
		fn(reinterpret_cast<gb_state *>(&st));
	});
	return reinterpret_cast<gb_bench *>(b);
}

void gb_arg(gb_bench *b, int64_t arg) { cxx(b)->Arg(arg); }

void gb_args(gb_bench *b, const int64_t *args, int count)
{
	cxx(b)->Args(std::vector<int64_t>(args, args + (count > 0 ? count : 0)));
}

void gb_arg_name(gb_bench *b, const char *name) { cxx(b)->ArgName(name); }
void gb_threads(gb_bench *b, int threads) { cxx(b)->Threads(threads); }
void gb_iterations(gb_bench *b, int64_t iterations) { cxx(b)->Iterations(iterations); }
void gb_repetitions(gb_bench *b, int repetitions) { cxx(b)->Repetitions(repetitions); }
void gb_report_aggregates_only(gb_bench *b, bool only) { cxx(b)->ReportAggregatesOnly(only); }
void gb_use_real_time(gb_bench *b) { cxx(b)->UseRealTime(); }
void gb_min_time(gb_bench *b, double seconds) { cxx(b)->MinTime(seconds); }
void gb_setup(gb_bench *b, gb_hook_fn fn) { cxx(b)->Setup(trampoline_for(fn)); }
void gb_teardown(gb_bench *b, gb_hook_fn fn) { cxx(b)->Teardown(trampoline_for(fn)); }

bool gb_keep_running(gb_state *st) { return cxx(st)->KeepRunning(); }
int64_t gb_range(const gb_state *st, int index) { return cxx(st)->range(static_cast<std::size_t>(index)); }
int gb_thread_index(const gb_state *st) { return cxx(st)->thread_index(); }
int gb_threads_count(const gb_state *st) { return cxx(st)->threads(); }
int64_t gb_iterations_done(const gb_state *st) { return cxx(st)->iterations(); }
void gb_pause_timing(gb_state *st) { cxx(st)->PauseTiming(); }
void gb_resume_timing(gb_state *st) { cxx(st)->ResumeTiming(); }
void gb_set_items_processed(gb_state *st, int64_t items) { cxx(st)->SetItemsProcessed(items); }
void gb_set_label(gb_state *st, const char *label) { cxx(st)->SetLabel(label); }

void gb_skip_with_error(gb_state *st, const char *message)
{
	g_any_error.store(true, std::memory_order_relaxed); // read after the threads are joined
	cxx(st)->SkipWithError(message);
}

void gb_counter(gb_state *st, const char *name, double value, unsigned flags)
{
	// The GB_COUNTER_* values are ours, not the library's (kAvgIterations is
	// 1 << 3 there): translate bit by bit.
	int f = benchmark::Counter::kDefaults;
	if (flags & GB_COUNTER_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & GB_COUNTER_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	if (flags & GB_COUNTER_AVG_ITERATIONS)
		f |= benchmark::Counter::kAvgIterations;
	cxx(st)->counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

int gb_main(int argc, char **argv)
{
	// The library writes --benchmark_out=FILE as it goes, so a crash or
	// kill would leave a truncated report where the previous good one
	// was. Point it at FILE.tmp.PID and rename once the run is complete.
	static const char kOutFlag[] = "--benchmark_out=";
	std::string out_path, tmp_flag;
	std::vector<char *> args(argv, argv + argc);
	args.push_back(nullptr);
	for (int i = 1; i < argc; i++) {
		if (std::strncmp(args[i], kOutFlag, sizeof kOutFlag - 1) == 0 && args[i][sizeof kOutFlag - 1]) {
			out_path = args[i] + sizeof kOutFlag - 1;
			tmp_flag = kOutFlag + out_path + ".tmp." + std::to_string(getpid());
			args[i] = &tmp_flag[0];
		}
	}
	int n = argc;
	benchmark::Initialize(&n, args.data());
	if (benchmark::ReportUnrecognizedArguments(n, args.data()))
		return 1;
	std::size_t ran = benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown(); // flushes and closes the output file
	if (!out_path.empty()) {
		const char *tmp = tmp_flag.c_str() + sizeof kOutFlag - 1;
		if (std::rename(tmp, out_path.c_str()) != 0) {
			std::fprintf(stderr, "gbench shim: cannot rename %s to %s: %s\n", tmp, out_path.c_str(),
				     std::strerror(errno));
			return 1;
		}
	}
	// A --benchmark_filter matching nothing is a bad flag (the library has
	// already said so on stderr); a run that did nothing must not pass CI.
	if (ran == 0)
		return 1;
	return g_any_error.load(std::memory_order_relaxed) ? 1 : 0;
}

} // extern "C"
