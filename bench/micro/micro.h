/* SPDX-License-Identifier: MIT */
/*
 * micro.h - shared pieces of the iovabench-micro benchmarks.
 *
 * Every benchmark run (one strategy, one thread count, one repetition) gets a
 * fresh domain of MICRO_SPACE_BYTES created by a setup hook and destroyed by
 * the teardown hook; all threads of the run share it. The hooks only receive
 * the run's gb_state, which knows nothing of strategies, so each strategy of
 * the run's list owns one setup function (a "slot"), and the benchmark
 * bodies find the domain through micro_domain().
 */
#ifndef IOVA_BENCH_MICRO_H
#define IOVA_BENCH_MICRO_H

#include "gbench.h"
#include "iova.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MICRO_SPACE_BYTES (UINT64_C(16) << 30) /* 16 GiB */
#define MICRO_GRANULE 4096u
#define MICRO_MAX_STRATEGIES 32 /* setup slots, see fixture.c */
#define MICRO_MAX_THREAD_COUNTS 16

/* What the command line chose; set by main() before any registration. */
struct micro_options {
	double scale;          /* multiplies workload operation counts */
	uint64_t block_bytes;  /* the workloads' block size S */
	int repetitions;       /* of each whole workload */
	int thread_counts[MICRO_MAX_THREAD_COUNTS];
	int thread_count_n;
};
extern struct micro_options micro_opts;

/** micro_scaled() - @count * micro_opts.scale, rounded, at least 1. */
uint64_t micro_scaled(uint64_t count);

/**
 * micro_fixture_hook() - the setup hook that creates the domain for strategy
 * slot @slot, after binding the slot to @strategy (kept, not copied).
 * Return: NULL when all MICRO_MAX_STRATEGIES slots are taken.
 */
gb_hook_fn micro_fixture_hook(unsigned slot, const char *strategy);

/** micro_fixture_teardown() - the teardown hook of every benchmark. */
void micro_fixture_teardown(const gb_state *st);

/**
 * micro_domain() - the domain of the current run, for a benchmark body.
 * Return: the domain, or NULL after reporting the setup failure with
 * gb_skip_with_error() (the body must then still end its gb_keep_running()
 * loop, which runs zero times).
 */
iova_domain *micro_domain(gb_state *st);

/** micro_fail() - report a failed @what ("iova_alloc", "iova_free") of
 * @bytes with @status through gb_skip_with_error(). */
void micro_fail(gb_state *st, const char *what, uint64_t bytes, iova_status status);

/** micro_alloc() - iova_alloc() of @req, its handle into *@h; false after
 * reporting a failure with micro_fail(). */
static inline bool micro_alloc(gb_state *st, iova_domain *d, const iova_request *req, iova_handle *h)
{
	iova_allocation a;
	iova_status s = iova_alloc(d, req, &a);
	if (__builtin_expect(s != IOVA_OK, 0)) {
		micro_fail(st, "iova_alloc", req->size, s);
		return false;
	}
	*h = a.handle;
	return true;
}

/** micro_free() - iova_free() of @h (a block of @bytes, for the report);
 * false after reporting a failure with micro_fail(). */
static inline bool micro_free(gb_state *st, iova_domain *d, iova_handle h, uint64_t bytes)
{
	iova_status s = iova_free(d, h);
	if (__builtin_expect(s != IOVA_OK, 0)) {
		micro_fail(st, "iova_free", bytes, s);
		return false;
	}
	return true;
}

/**
 * micro_span_begin() / micro_span_end() - bracket one thread's whole
 * workload, inside its gb_keep_running() loop (that is, inside the timed
 * region), for micro_report_ops().
 */
void micro_span_begin(void);
void micro_span_end(void);

/**
 * micro_report_ops() - report the thread's @ops alloc and free operations
 * as the "ops" rate counter (Google Benchmark: summed over threads, divided
 * by the threads' mean wall time) and, from whichever thread reports last,
 * "ops_makespan": all threads' operations divided by the time from the
 * first thread's micro_span_begin() to the last one's micro_span_end().
 * The two differ when threads finish at different times (a descheduled
 * thread on a shared machine); ops_makespan is the conservative one.
 * Also "ops_cpu": all operations divided by the threads' mean CPU time,
 * i.e. what "ops" would be had no thread ever been descheduled. Robust
 * against a shared machine's steal time, but blind to time a strategy
 * spends asleep (on a mutex, say): compare strategies by it only when none
 * of them sleeps.
 */
void micro_report_ops(gb_state *st, uint64_t ops);

/**
 * micro_handle_array() - room for @count handles, allocated and touched
 * before the timed loop so that host page faults on it are not counted as
 * the allocator's cost. Free with free().
 * Return: the array, or NULL after gb_skip_with_error().
 */
iova_handle *micro_handle_array(gb_state *st, size_t count);

/**
 * micro_run_bursts() - the whole body of a burst workload (threadtest,
 * linux-scalability): @bursts times, allocate @blocks blocks of size S, then
 * free them in allocation order; timed, counted and reported like every
 * whole workload. A failure is reported and ends the thread's work.
 */
void micro_run_bursts(gb_state *st, uint64_t bursts, size_t blocks);

/** micro_threads_and_clock() - run @b at micro_opts' thread counts, timed by
 * the wall clock (what every benchmark here does). */
void micro_threads_and_clock(gb_bench *b);

/**
 * micro_register_workload() - register @fn as "@family/@strategy" the way
 * every whole-workload benchmark is run: one iteration per thread (the
 * iteration is the workload), wall-clock time, micro_opts' thread counts
 * and repetitions, the fixture hooks @setup/teardown.
 */
gb_bench *micro_register_workload(const char *family, const char *strategy, gb_fn fn, gb_hook_fn setup);

/* The benchmarks, one file each; @setup is the strategy's fixture hook. */
void micro_register_alloc_free(const char *strategy, gb_hook_fn setup);
/** micro_register_floors() - "alloc-free/empty-call", "alloc-free/cas-call"
 * and "alloc-free/hit-call": the round trip's floors, calls with the API's
 * signatures and no domain (see alloc_free.c). */
void micro_register_floors(void);
void micro_register_cached_alloc(const char *strategy, gb_hook_fn setup);
void micro_register_threadtest(const char *strategy, gb_hook_fn setup);
void micro_register_constant_occupancy(const char *strategy, gb_hook_fn setup);
void micro_register_linux_scalability(const char *strategy, gb_hook_fn setup);
void micro_register_long_lived_churn(const char *strategy, gb_hook_fn setup);

/* Other suites (their own files). */
void bench_streaming_dma_register(const char *const *strategies, int count);
void bench_workloads_register(void);

/* splitmix64 (Steele, Lea, Flood 2014): a tiny, seedable, thread-private
 * generator; rand() is neither thread-safe nor reproducible per thread. */
static inline uint64_t micro_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A value in [0, n) from 64 random bits, by multiply-shift (no modulo bias
 * worth speaking of for small n, no division on the hot path). */
static inline uint32_t micro_below(uint64_t random, uint32_t n)
{
	return (uint32_t)(((random >> 32) * (uint64_t)n) >> 32);
}

#endif
