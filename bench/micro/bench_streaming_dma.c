/* SPDX-License-Identifier: MIT */
/*
 * bench_streaming_dma.c - streaming DMA through the simulated IOMMU: what a
 * network driver does per packet. Each CPU maps a buffer of 1-16 pages
 * (iova_alloc_map), the device writes it (FILL), and the driver unmaps and
 * frees it shortly after (iova_unmap_free), FIFO_DEPTH buffers later. Now
 * and then a rogue device access goes to the buffer just unmapped: under a
 * queued policy it may still be served by a stale IOTLB entry (counted),
 * under strict it is blocked.
 *
 * Benchmarks (all through bench/shim/gbench.h):
 *   streaming_dma/<policy>/<strategy>/<clock>/threads:{1,2}
 *       every invalidation policy x every strategy (and its "+cache" form
 *       when it exists) x modelled and spin clocks. Real time is what Google
 *       Benchmark measures; the modelled throughput (model_Mops: operations
 *       per second of the busiest CPU's virtual clock) is the cost model's
 *       answer, deterministic with one thread.
 *   streaming_dma_window/<policy>/entries:N | timeout_us:T
 *       the trade-off curve: modelled throughput and vulnerability window
 *       as the queue grows, or (with driver work between packets, so that
 *       the queue does not fill first) as the timeout grows.
 *   streaming_dma_shape/driver_cycles:{0,1000}
 *       one pass of fixed work (100,000 packets per CPU) per policy, clock
 *       mode and thread count, reporting the shape the literature describes
 *       as ratios measured in the same run: queued policies against strict,
 *       per-CPU queues against the single queue, against passthrough, at one
 *       and two threads. driver_cycles is the driver's own work per packet
 *       (passthrough's only cost). Modelled ratios come from virtual clocks,
 *       spin ratios from wall-clock time.
 * Counters: model_Mops and cyc_per_op (modelled CPU cycles per op; modelled
 * runs only), win_p50_us/win_p99_us/win_max_us (vulnerability window),
 * stale_per_rogue (share of rogue accesses served by a stale translation),
 * inv_per_op, ranges_per_flush, iotlb_hit, walks_per_op, violations (oracle;
 * must be 0). In spin mode the simulation's own work is real time too (the
 * device model translates every page on the calling CPU), which compresses
 * real-time ratios towards 1; modelled runs give the cost model's answer.
 */
#include "gbench.h"
#include "iova.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 4096u
#define FIFO_DEPTH 4
#define ROGUE_ONE_IN 4
#define MAX_THREADS 64
#define MAX_CONFIGS 512
#define DOMAIN_BYTES (UINT64_C(1) << 36)

struct stream_config {
	char strategy[64];
	iova_inval_policy policy;
	iova_clock_mode clock;
	uint32_t fq_entries;
	uint64_t fq_timeout_us;
	uint64_t think_cycles; /* driver work per packet */
};

/* One CPU's stream: its buffers in flight and its counts. */
struct stream {
	iova_domain *d;
	uint64_t rng;
	iova_allocation fifo[FIFO_DEPTH + 1];
	unsigned head, count;
	uint64_t last_freed;
	uint64_t ops, rogue, errors;
	iova_status first_error;
};

static struct stream_config configs[MAX_CONFIGS];
static int nconfigs;

static uint64_t next_rand(struct stream *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static void fail(struct stream *s, iova_status st)
{
	if (!s->errors++)
		s->first_error = st;
}

/* One packet. */
static void stream_op(struct stream *s, uint64_t think)
{
	iova_request r = {.size = PAGE * (1 + next_rand(s) % 16)};
	iova_allocation a;
	iova_status st = iova_alloc_map(s->d, &r, &a);
	if (st) {
		fail(s, st);
		return;
	}
	iova_dma_request fill = {.op = IOVA_DMA_FILL, .dst = a.iova, .bytes = r.size};
	if ((st = iova_device_dma(s->d, &fill, NULL)))
		fail(s, st);
	s->fifo[(s->head + s->count++) % (FIFO_DEPTH + 1)] = a;
	if (s->count > FIFO_DEPTH) {
		const iova_allocation old = s->fifo[s->head];
		s->head = (s->head + 1) % (FIFO_DEPTH + 1);
		s->count--;
		if ((st = iova_unmap_free(s->d, old.handle)))
			fail(s, st);
		s->last_freed = old.iova;
		if (next_rand(s) % ROGUE_ONE_IN == 0) {
			iova_dma_request rogue = {.op = IOVA_DMA_FILL, .dst = old.iova, .bytes = PAGE};
			(void)iova_device_dma(s->d, &rogue, NULL); /* blocked or stale: counted by the IOMMU */
			s->rogue++;
		}
	}
	if (think)
		iova_iommu_charge(s->d, think);
	s->ops++;
}

static void stream_drain(struct stream *s)
{
	while (s->count) {
		iova_status st = iova_unmap_free(s->d, s->fifo[s->head].handle);
		if (st)
			fail(s, st);
		s->head = (s->head + 1) % (FIFO_DEPTH + 1);
		s->count--;
	}
}

static iova_domain *make_domain(const struct stream_config *c)
{
	iova_iommu_config ic = {.policy = c->policy, .clock = c->clock, .fq_entries = c->fq_entries,
				.fq_timeout_us = c->fq_timeout_us};
	iova_domain_config dc = {.size = DOMAIN_BYTES, .strategy = c->strategy[0] ? c->strategy : NULL, .iommu = &ic};
	iova_domain *d = NULL;
	return iova_domain_create(&dc, &d) == IOVA_OK ? d : NULL;
}

/* What one run measured. */
struct result {
	double model_ops_per_s, cyc_per_op;
	double win_p50_us, win_p99_us, win_max_us;
	double stale_per_rogue, inv_per_op, ranges_per_flush, iotlb_hit, walks_per_op;
	uint64_t violations, ops, errors;
};

static struct result summarise(iova_domain *d, uint64_t ops, uint64_t rogue, uint64_t errors)
{
	struct result r = {0};
	iova_iommu_statistics s;
	if (iova_iommu_stats(d, &s) != IOVA_OK)
		return r;
	const double cpu = s.config.cycles_per_us;
	r.ops = ops;
	r.errors = errors;
	r.model_ops_per_s = s.clock_max ? (double)ops * cpu * 1e6 / (double)s.clock_max : 0;
	r.cyc_per_op = ops ? (double)s.clock_sum / (double)ops : 0;
	r.stale_per_rogue = rogue ? (double)s.stale_hits / (double)rogue : 0;
	r.inv_per_op = ops ? (double)(s.inv_page + s.inv_domain) / (double)ops : 0;
	r.ranges_per_flush = s.flushes ? (double)s.ranges_released / (double)s.flushes : 0;
	r.iotlb_hit = s.iotlb_hits + s.iotlb_misses ? (double)s.iotlb_hits / (double)(s.iotlb_hits + s.iotlb_misses) : 0;
	r.walks_per_op = ops ? (double)s.page_walks / (double)ops : 0;
	r.violations = s.oracle_violations;
	/* Ranges still queued have no window yet: flush them (their windows
	 * end now) so that the distribution has every range, the longest
	 * included. After the figures above, which this flush must not touch. */
	iova_iommu_flush(d);
	if (iova_iommu_stats(d, &s) == IOVA_OK) {
		r.win_p50_us = (double)s.window_p50 / cpu;
		r.win_p99_us = (double)s.window_p99 / cpu;
		r.win_max_us = (double)s.window_max / cpu;
		r.violations = s.oracle_violations;
	}
	return r;
}

static void report(gb_state *st, const struct result *r, iova_clock_mode clock)
{
	if (clock == IOVA_CLOCK_MODELLED) { /* in spin mode, real time is the answer */
		gb_counter(st, "model_Mops", r->model_ops_per_s / 1e6, GB_COUNTER_DEFAULT);
		gb_counter(st, "cyc_per_op", r->cyc_per_op, GB_COUNTER_DEFAULT);
	}
	gb_counter(st, "win_p50_us", r->win_p50_us, GB_COUNTER_DEFAULT);
	gb_counter(st, "win_p99_us", r->win_p99_us, GB_COUNTER_DEFAULT);
	gb_counter(st, "win_max_us", r->win_max_us, GB_COUNTER_DEFAULT);
	gb_counter(st, "stale_per_rogue", r->stale_per_rogue, GB_COUNTER_DEFAULT);
	gb_counter(st, "inv_per_op", r->inv_per_op, GB_COUNTER_DEFAULT);
	gb_counter(st, "ranges_per_flush", r->ranges_per_flush, GB_COUNTER_DEFAULT);
	gb_counter(st, "iotlb_hit", r->iotlb_hit, GB_COUNTER_DEFAULT);
	gb_counter(st, "walks_per_op", r->walks_per_op, GB_COUNTER_DEFAULT);
	gb_counter(st, "violations", (double)r->violations, GB_COUNTER_DEFAULT);
}

/* ---- Google Benchmark runs: one domain per run, shared by its threads. ---- */

static iova_domain *run_domain;
static struct stream run_streams[MAX_THREADS];
static _Atomic int run_drained;

static void run_setup(const gb_state *st)
{
	const struct stream_config *c = &configs[gb_range(st, 0)];
	run_domain = make_domain(c);
	atomic_store(&run_drained, 0);
	for (int i = 0; i < MAX_THREADS; i++)
		run_streams[i] = (struct stream){.rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)};
}

static void run_teardown(const gb_state *st)
{
	(void)st;
	iova_domain_destroy(run_domain);
	run_domain = NULL;
}

static void bm_streaming_dma(gb_state *st)
{
	const struct stream_config *c = &configs[gb_range(st, 0)];
	const int ti = gb_thread_index(st), nt = gb_threads_count(st);
	struct stream *s = &run_streams[ti];
	s->d = run_domain;
	if (!run_domain || nt > MAX_THREADS) {
		gb_skip_with_error(st, "cannot create the domain (strategy or IOMMU config refused)");
		while (gb_keep_running(st))
			;
		return;
	}
	while (gb_keep_running(st))
		stream_op(s, c->think_cycles);
	/* Untimed: every thread gives its buffers back, then thread 0 reads
	 * the statistics of the whole run. */
	stream_drain(s);
	atomic_fetch_add(&run_drained, 1);
	gb_set_items_processed(st, (int64_t)s->ops);
	if (s->errors) {
		char msg[96];
		snprintf(msg, sizeof msg, "%" PRIu64 " failed operations, first: %s", s->errors,
			 iova_status_name(s->first_error));
		gb_skip_with_error(st, msg);
	}
	if (ti != 0)
		return;
	while (atomic_load(&run_drained) < nt)
		sched_yield();
	uint64_t ops = 0, rogue = 0, errors = 0;
	for (int i = 0; i < nt; i++) {
		ops += run_streams[i].ops;
		rogue += run_streams[i].rogue;
		errors += run_streams[i].errors;
	}
	struct result r = summarise(run_domain, ops, rogue, errors);
	report(st, &r, c->clock);
}

/* ---- The shape, in one pass: fixed work, ratios measured in the same run. ---- */

struct shape_job {
	struct stream s;
	uint64_t ops, think;
};

static void *shape_thread(void *p)
{
	struct shape_job *j = p;
	for (uint64_t i = 0; i < j->ops; i++)
		stream_op(&j->s, j->think);
	stream_drain(&j->s);
	return NULL;
}

static double wall_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* @threads CPUs, @ops packets each, @think cycles of driver work per packet.
 * Throughput: modelled, from the busiest virtual clock; spin, from the
 * wall-clock time of the whole pass (threads included). */
static struct result shape_run(iova_inval_policy policy, iova_clock_mode clock, int threads, uint64_t ops,
			       uint64_t think, double *ops_per_s)
{
	struct stream_config c = {.policy = policy, .clock = clock};
	iova_domain *d = make_domain(&c);
	struct result r = {.errors = 1};
	*ops_per_s = 0;
	if (!d)
		return r;
	struct shape_job jobs[2];
	pthread_t t[2];
	const double t0 = wall_seconds();
	for (int i = 0; i < threads; i++) {
		jobs[i] = (struct shape_job){.s = {.d = d, .rng = 0x2545f4914f6cdd1dull * (uint64_t)(i + 1)},
					     .ops = ops, .think = think};
		pthread_create(&t[i], NULL, shape_thread, &jobs[i]);
	}
	uint64_t done = 0, rogue = 0, errors = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		done += jobs[i].s.ops;
		rogue += jobs[i].s.rogue;
		errors += jobs[i].s.errors;
	}
	const double wall = wall_seconds() - t0;
	r = summarise(d, done, rogue, errors);
	*ops_per_s = clock == IOVA_CLOCK_SPIN ? (double)done / wall : r.model_ops_per_s;
	iova_domain_destroy(d);
	return r;
}

/* Arg: driver work per packet in cycles. With 0, passthrough costs nothing
 * in modelled mode and has no finite rate, so it is left out there. */
static void bm_shape(gb_state *st)
{
	enum { OPS = 100000, NP = 4 };
	static const iova_inval_policy policies[NP] = {IOVA_INVAL_STRICT, IOVA_INVAL_PERCPU_QUEUE,
						       IOVA_INVAL_GLOBAL_QUEUE, IOVA_INVAL_NONE};
	const uint64_t think = (uint64_t)gb_range(st, 0);
	struct result r[IOVA_CLOCK_MODE_COUNT][NP][2];
	double rate[IOVA_CLOCK_MODE_COUNT][NP][2];
	while (gb_keep_running(st))
		for (int m = 0; m < IOVA_CLOCK_MODE_COUNT; m++)
			for (int p = 0; p < NP; p++)
				for (int t = 0; t < 2; t++)
					r[m][p][t] = shape_run(policies[p], (iova_clock_mode)m, t + 1, OPS, think,
							       &rate[m][p][t]);
	uint64_t violations = 0, errors = 0;
	char name[96];
	for (int m = 0; m < IOVA_CLOCK_MODE_COUNT; m++) {
		const char *mode = iova_clock_mode_name((iova_clock_mode)m);
		const bool none_ok = m == IOVA_CLOCK_SPIN || think > 0;
		for (int p = 0; p < NP; p++)
			for (int t = 0; t < 2; t++) {
				violations += r[m][p][t].violations;
				errors += r[m][p][t].errors;
				if (p == 3 && !none_ok)
					continue;
				snprintf(name, sizeof name, "%s_%s_%dt_Mops", mode, iova_inval_policy_name(policies[p]), t + 1);
				gb_counter(st, name, rate[m][p][t] / 1e6, GB_COUNTER_DEFAULT);
				if (p == 1 || p == 2) {
					snprintf(name, sizeof name, "%s_%s_%dt_win_p99_us", mode,
						 iova_inval_policy_name(policies[p]), t + 1);
					gb_counter(st, name, r[m][p][t].win_p99_us, GB_COUNTER_DEFAULT);
				}
			}
		for (int t = 0; t < 2; t++) {
			const double strict = rate[m][0][t], percpu = rate[m][1][t], global = rate[m][2][t],
				     none = rate[m][3][t];
			snprintf(name, sizeof name, "%s_percpu_vs_strict_%dt", mode, t + 1);
			gb_counter(st, name, strict ? percpu / strict : 0, GB_COUNTER_DEFAULT);
			snprintf(name, sizeof name, "%s_global_vs_strict_%dt", mode, t + 1);
			gb_counter(st, name, strict ? global / strict : 0, GB_COUNTER_DEFAULT);
			snprintf(name, sizeof name, "%s_percpu_vs_global_%dt", mode, t + 1);
			gb_counter(st, name, global ? percpu / global : 0, GB_COUNTER_DEFAULT);
			if (none_ok) {
				snprintf(name, sizeof name, "%s_percpu_vs_none_%dt", mode, t + 1);
				gb_counter(st, name, none ? percpu / none : 0, GB_COUNTER_DEFAULT);
			}
		}
	}
	gb_counter(st, "violations", (double)violations, GB_COUNTER_DEFAULT);
	if (errors)
		gb_skip_with_error(st, "failed operations");
}

/* ---- Registration. ---- */

static int add_config(struct stream_config c)
{
	if (nconfigs == MAX_CONFIGS)
		return -1;
	configs[nconfigs] = c;
	return nconfigs++;
}

static void register_run(const char *name, struct stream_config c, bool two_threads)
{
	int i = add_config(c);
	if (i < 0)
		return;
	gb_bench *b = gb_register(name, bm_streaming_dma);
	gb_arg(b, i);
	gb_arg_name(b, "cfg");
	gb_setup(b, run_setup);
	gb_teardown(b, run_teardown);
	gb_use_real_time(b);
	gb_threads(b, 1);
	if (two_threads)
		gb_threads(b, 2);
}

/* Strategy names a domain can be created with: each registered strategy
 * and, where it exists, its "+cache" form. */
static bool strategy_exists(const char *name)
{
	struct stream_config c = {.policy = IOVA_INVAL_NONE};
	snprintf(c.strategy, sizeof c.strategy, "%s", name);
	iova_domain *d = make_domain(&c);
	iova_domain_destroy(d);
	return d != NULL;
}

/** bench_streaming_dma_register() - register this file's benchmarks for
 * @strategies (each policy and clock mode), plus the shape and trade-off runs
 * on the default strategy. Names a domain cannot be created with are skipped. */
void bench_streaming_dma_register(const char *const *strategies, int count)
{
	static const iova_inval_policy policies[] = {IOVA_INVAL_STRICT, IOVA_INVAL_PERCPU_QUEUE, IOVA_INVAL_GLOBAL_QUEUE,
						     IOVA_INVAL_NONE};
	char name[160];
	gb_bench *shape = gb_register("streaming_dma_shape", bm_shape);
	gb_arg(shape, 0);
	gb_arg(shape, 1000); /* 0.5 us of driver work per packet */
	gb_arg_name(shape, "driver_cycles");
	gb_iterations(shape, 1);
	gb_use_real_time(shape);

	for (int si = 0; si < count; si++) {
		const char *strategy = strategies[si];
		if (!strategy_exists(strategy))
			continue;
		for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++)
			for (int clock = 0; clock < IOVA_CLOCK_MODE_COUNT; clock++) {
				struct stream_config c = {.policy = policies[p], .clock = (iova_clock_mode)clock};
				snprintf(c.strategy, sizeof c.strategy, "%s", strategy);
				snprintf(name, sizeof name, "streaming_dma/%s/%s/%s", iova_inval_policy_name(policies[p]),
					 strategy, iova_clock_mode_name((iova_clock_mode)clock));
				register_run(name, c, true);
			}
	}

	/* The trade-off curve, modelled, one CPU, the default strategy. */
	for (uint32_t entries = 16; entries <= 4096; entries *= 4) {
		struct stream_config c = {.policy = IOVA_INVAL_PERCPU_QUEUE, .fq_entries = entries};
		snprintf(name, sizeof name, "streaming_dma_window/percpu/entries:%u", entries);
		register_run(name, c, false);
	}
	/* Timeouts: 20,000 cycles (10 us) of driver work per packet, so the
	 * queues fill slower than the timers expire. */
	for (uint64_t us = 100; us <= 100000; us *= 10) {
		struct stream_config c = {.policy = IOVA_INVAL_GLOBAL_QUEUE, .fq_timeout_us = us, .think_cycles = 20000};
		snprintf(name, sizeof name, "streaming_dma_window/global/timeout_us:%" PRIu64, us);
		register_run(name, c, false);
		c.policy = IOVA_INVAL_PERCPU_QUEUE;
		c.fq_entries = 1u << 16;
		snprintf(name, sizeof name, "streaming_dma_window/percpu/timeout_us:%" PRIu64, us);
		register_run(name, c, false);
	}
	struct stream_config strict = {.policy = IOVA_INVAL_STRICT};
	register_run("streaming_dma_window/strict", strict, false);
}
