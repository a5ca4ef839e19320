/* SPDX-License-Identifier: MIT */
/*
 * fixture.c - the per-run domain every micro-benchmark shares, and the
 * registration and failure-reporting helpers around it.
 */
#include "micro.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct micro_options micro_opts = {.scale = 1.0, .block_bytes = MICRO_GRANULE, .repetitions = 1};

/*
 * The run's domain. Written by the setup hook on the main thread before the
 * benchmark threads are started and cleared by the teardown hook after they
 * are joined, so thread creation and joining order every access: no atomics.
 */
static iova_domain *run_domain;
static iova_status run_status = IOVA_ERR_INVALID_ARGUMENT;
static const char *run_strategy;

static const char *slot_strategy[MICRO_MAX_STRATEGIES];

/*
 * The run's span, for ops_makespan and ops_cpu. Reset by the setup hook
 * before the threads start. Threads publish their start, end, CPU time and
 * operations with relaxed min/max/add, then count themselves done with a
 * release increment; the thread whose increment completes the count
 * acquires all of them and reports.
 */
static _Atomic uint64_t span_first_start, span_last_end, span_ops, span_cpu;
static _Atomic int span_done;
static _Thread_local uint64_t span_my_start, span_my_cpu_start;

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void micro_span_begin(void)
{
	span_my_cpu_start = now_ns(CLOCK_THREAD_CPUTIME_ID);
	span_my_start = now_ns(CLOCK_MONOTONIC);
}

void micro_span_end(void)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC);
	atomic_fetch_add_explicit(&span_cpu, now_ns(CLOCK_THREAD_CPUTIME_ID) - span_my_cpu_start,
				  memory_order_relaxed);
	uint64_t v = atomic_load_explicit(&span_first_start, memory_order_relaxed);
	while (span_my_start < v &&
	       !atomic_compare_exchange_weak_explicit(&span_first_start, &v, span_my_start, memory_order_relaxed,
						      memory_order_relaxed))
		;
	v = atomic_load_explicit(&span_last_end, memory_order_relaxed);
	while (end > v && !atomic_compare_exchange_weak_explicit(&span_last_end, &v, end, memory_order_relaxed,
								memory_order_relaxed))
		;
}

void micro_report_ops(gb_state *st, uint64_t ops)
{
	gb_counter(st, "ops", (double)ops, GB_COUNTER_RATE);
	atomic_fetch_add_explicit(&span_ops, ops, memory_order_relaxed);
	if (atomic_fetch_add_explicit(&span_done, 1, memory_order_acq_rel) + 1 != gb_threads_count(st))
		return;
	uint64_t first = atomic_load_explicit(&span_first_start, memory_order_relaxed);
	uint64_t last = atomic_load_explicit(&span_last_end, memory_order_relaxed);
	uint64_t total = atomic_load_explicit(&span_ops, memory_order_relaxed);
	uint64_t cpu = atomic_load_explicit(&span_cpu, memory_order_relaxed);
	/* Not rate counters: the divisions are ours. Only this thread sets
	 * them, so their sums over threads are these values. */
	if (last > first)
		gb_counter(st, "ops_makespan", (double)total * 1e9 / (double)(last - first), GB_COUNTER_DEFAULT);
	if (cpu > 0)
		gb_counter(st, "ops_cpu", (double)total * 1e9 * gb_threads_count(st) / (double)cpu,
			   GB_COUNTER_DEFAULT);
	/* The metadata the workload left behind: resident is what it touched
	 * (pages are not given back when blocks are freed). */
	iova_stats s;
	if (run_domain && iova_domain_stats(run_domain, &s) == IOVA_OK) {
		gb_counter(st, "meta_reserved_MiB", (double)s.metadata_reserved_bytes / (1 << 20), GB_COUNTER_DEFAULT);
		gb_counter(st, "meta_resident_MiB", (double)s.metadata_resident_bytes / (1 << 20), GB_COUNTER_DEFAULT);
	}
}

static void fixture_setup(unsigned slot)
{
	const iova_domain_config cfg = {
		.base = 0,
		.size = MICRO_SPACE_BYTES,
		.granule = MICRO_GRANULE,
		.strategy = slot_strategy[slot],
	};
	run_strategy = slot_strategy[slot];
	atomic_store(&span_first_start, UINT64_MAX);
	atomic_store(&span_last_end, 0);
	atomic_store(&span_ops, 0);
	atomic_store(&span_cpu, 0);
	atomic_store(&span_done, 0);
	run_status = iova_domain_create(&cfg, &run_domain);
}

/* gb_hook_fn carries no context, so the slot number is baked into one small
 * function per slot. */
#define SLOT_HOOK(i)                                                                                   \
	static void setup_slot_##i(const gb_state *st)                                                 \
	{                                                                                              \
		(void)st;                                                                              \
		fixture_setup(i);                                                                      \
	}
SLOT_HOOK(0) SLOT_HOOK(1) SLOT_HOOK(2) SLOT_HOOK(3) SLOT_HOOK(4) SLOT_HOOK(5) SLOT_HOOK(6) SLOT_HOOK(7)
SLOT_HOOK(8) SLOT_HOOK(9) SLOT_HOOK(10) SLOT_HOOK(11) SLOT_HOOK(12) SLOT_HOOK(13) SLOT_HOOK(14) SLOT_HOOK(15)
SLOT_HOOK(16) SLOT_HOOK(17) SLOT_HOOK(18) SLOT_HOOK(19) SLOT_HOOK(20) SLOT_HOOK(21) SLOT_HOOK(22) SLOT_HOOK(23)
SLOT_HOOK(24) SLOT_HOOK(25) SLOT_HOOK(26) SLOT_HOOK(27) SLOT_HOOK(28) SLOT_HOOK(29) SLOT_HOOK(30) SLOT_HOOK(31)
#undef SLOT_HOOK

static const gb_hook_fn slot_hooks[MICRO_MAX_STRATEGIES] = {
	setup_slot_0,  setup_slot_1,  setup_slot_2,  setup_slot_3,  setup_slot_4,  setup_slot_5,  setup_slot_6,
	setup_slot_7,  setup_slot_8,  setup_slot_9,  setup_slot_10, setup_slot_11, setup_slot_12, setup_slot_13,
	setup_slot_14, setup_slot_15, setup_slot_16, setup_slot_17, setup_slot_18, setup_slot_19, setup_slot_20,
	setup_slot_21, setup_slot_22, setup_slot_23, setup_slot_24, setup_slot_25, setup_slot_26, setup_slot_27,
	setup_slot_28, setup_slot_29, setup_slot_30, setup_slot_31,
};

gb_hook_fn micro_fixture_hook(unsigned slot, const char *strategy)
{
	if (slot >= MICRO_MAX_STRATEGIES)
		return NULL;
	slot_strategy[slot] = strategy;
	return slot_hooks[slot];
}

void micro_fixture_teardown(const gb_state *st)
{
	(void)st;
	iova_domain_destroy(run_domain);
	run_domain = NULL;
	run_status = IOVA_ERR_INVALID_ARGUMENT;
}

iova_domain *micro_domain(gb_state *st)
{
	if (run_domain)
		return run_domain;
	char msg[160];
	snprintf(msg, sizeof msg, "iova_domain_create(strategy \"%s\") failed: %s", run_strategy ? run_strategy : "?",
		 iova_status_name(run_status));
	gb_skip_with_error(st, msg);
	return NULL;
}

void micro_fail(gb_state *st, const char *what, uint64_t bytes, iova_status status)
{
	char msg[160];
	snprintf(msg, sizeof msg, "%s(%llu bytes) failed in thread %d: %s", what, (unsigned long long)bytes,
		 gb_thread_index(st), iova_status_name(status));
	gb_skip_with_error(st, msg);
}

iova_handle *micro_handle_array(gb_state *st, size_t count)
{
	iova_handle *h = malloc((count ? count : 1) * sizeof *h);
	if (!h) {
		char msg[96];
		snprintf(msg, sizeof msg, "no host memory for %zu handles", count);
		gb_skip_with_error(st, msg);
		return NULL;
	}
	memset(h, 0, (count ? count : 1) * sizeof *h);
	return h;
}

uint64_t micro_scaled(uint64_t count)
{
	double v = nearbyint((double)count * micro_opts.scale);
	/* main() bounds the scale, so v fits; the clamp keeps the conversion
	 * defined regardless. */
	return v < 1.0 ? 1 : v >= 0x1p62 ? UINT64_C(1) << 62 : (uint64_t)v;
}

void micro_threads_and_clock(gb_bench *b)
{
	for (int i = 0; i < micro_opts.thread_count_n; i++)
		gb_threads(b, micro_opts.thread_counts[i]);
	/* Several threads share the wall clock: per-thread CPU time would
	 * report each thread's rate, not the domain's. */
	gb_use_real_time(b);
}

gb_bench *micro_register_workload(const char *family, const char *strategy, gb_fn fn, gb_hook_fn setup)
{
	char name[256];
	snprintf(name, sizeof name, "%s/%s", family, strategy);
	gb_bench *b = gb_register(name, fn);
	micro_threads_and_clock(b);
	/* One iteration is the whole workload: its wall-clock time is what the
	 * "ops" rate counter divides by. */
	gb_iterations(b, 1);
	gb_repetitions(b, micro_opts.repetitions);
	gb_setup(b, setup);
	gb_teardown(b, micro_fixture_teardown);
	return b;
}

/* Allocate @n blocks of @req into @h, then free them in allocation order.
 * False after reporting the first failure. */
static bool burst(gb_state *st, iova_domain *d, const iova_request *req, iova_handle *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!micro_alloc(st, d, req, &h[i]))
			return false;
	for (size_t i = 0; i < n; i++)
		if (!micro_free(st, d, h[i], req->size))
			return false;
	return true;
}

void micro_run_bursts(gb_state *st, uint64_t bursts, size_t blocks)
{
	iova_domain *d = micro_domain(st);
	const iova_request req = {.size = micro_opts.block_bytes};
	iova_handle *h = d ? micro_handle_array(st, blocks) : NULL;
	if (!h)
		d = NULL;
	uint64_t ops = 0;
	while (gb_keep_running(st)) {
		micro_span_begin();
		for (uint64_t b = 0; d && b < bursts; b++) {
			if (!burst(st, d, &req, h, blocks))
				d = NULL; /* it may hold blocks: discarded at teardown */
			ops += d ? 2 * (uint64_t)blocks : 0;
		}
		micro_span_end();
	}
	free(h);
	micro_report_ops(st, ops);
}
