/* SPDX-License-Identifier: MIT */
/*
 * gbench.h - Google Benchmark for benchmarks written in C.
 *
 * A thin C API over the C++ library (gbench_shim.cc): register a C function,
 * give it arguments and thread counts, loop with gb_keep_running(), report
 * counters. Everything Google Benchmark does with the results (console and
 * JSON output, repetitions, median/mean/stddev aggregates) is unchanged.
 *
 *	static void bm_alloc(gb_state *st) {
 *		while (gb_keep_running(st)) { ... }
 *		gb_counter(st, "ops", (double)ops, GB_COUNTER_RATE);
 *	}
 *	int main(int argc, char **argv) {
 *		gb_bench *b = gb_register("alloc", bm_alloc);
 *		gb_arg(b, 0); gb_threads(b, 1); gb_threads(b, 2);
 *		return gb_main(argc, argv);
 *	}
 */
#ifndef IOVA_GBENCH_H
#define IOVA_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state; /* benchmark::State */
typedef struct gb_bench gb_bench; /* benchmark::internal::Benchmark */

typedef void (*gb_fn)(gb_state *st);
/* Runs once per run (all threads of one thread count), before or after it;
 * receives the state of thread 0 for gb_range()/gb_threads_count(). */
typedef void (*gb_hook_fn)(const gb_state *st);

/* Counter flags, as benchmark::Counter::Flags. */
enum {
	GB_COUNTER_DEFAULT = 0,
	GB_COUNTER_RATE = 1,         /* divide by the run's time: "per second" */
	GB_COUNTER_AVG_THREADS = 2,  /* average over threads instead of sum */
	GB_COUNTER_AVG_ITERATIONS = 4,
};

/** gb_register() - register @fn under @name; returns the handle to configure. */
gb_bench *gb_register(const char *name, gb_fn fn);
void gb_arg(gb_bench *b, int64_t arg);                     /* one run per call */
void gb_args(gb_bench *b, const int64_t *args, int count); /* one run with several ranges */
void gb_arg_name(gb_bench *b, const char *name);
void gb_threads(gb_bench *b, int threads);                 /* one run per call */
void gb_iterations(gb_bench *b, int64_t iterations);       /* fixed count, e.g. 1 for a whole workload */
void gb_repetitions(gb_bench *b, int repetitions);
void gb_report_aggregates_only(gb_bench *b, bool only);
void gb_use_real_time(gb_bench *b);
void gb_min_time(gb_bench *b, double seconds);
void gb_setup(gb_bench *b, gb_hook_fn fn);
void gb_teardown(gb_bench *b, gb_hook_fn fn);

/** gb_keep_running() - the benchmark loop condition (State::KeepRunning). */
bool gb_keep_running(gb_state *st);
int64_t gb_range(const gb_state *st, int index);
int gb_thread_index(const gb_state *st);
int gb_threads_count(const gb_state *st);
int64_t gb_iterations_done(const gb_state *st);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
void gb_set_items_processed(gb_state *st, int64_t items);
void gb_set_label(gb_state *st, const char *label);
void gb_skip_with_error(gb_state *st, const char *message);
/** gb_counter() - set a user counter (summed over threads unless flagged). */
void gb_counter(gb_state *st, const char *name, double value, unsigned flags);

/** gb_main() - parse the standard --benchmark_* flags, run, report.
 * Return: 0 on success, 1 on bad flags or failed benchmarks. */
int gb_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
