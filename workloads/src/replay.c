/* SPDX-License-Identifier: MIT */
/*
 * replay.c - running a compiled trace on pinned worker threads.
 *
 * Each worker walks its own operation list (compiled.h). The only shared
 * state touched per operation is the per-instance record of a buffer that
 * more than one worker uses: its handle, written by whichever worker runs an
 * operation on it, and its done counter, which hands the buffer from one
 * worker to the next:
 *   - the worker that ran operation k stores done = k + 1 with release order
 *     after writing the handle and the ok flag;
 *   - the worker about to run operation k + 1, if it is another one, loads
 *     done with acquire order until it reads k + 1, so it sees that handle.
 * Only one operation on an instance runs at a time, so the store needs no
 * read-modify-write. Between loops (not measured) workers meet at barriers,
 * release what is still live and reset the records.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "compiled.h"
#include "internal.h"
#include "pin.h"

typedef struct inst_rt {
	wl_handle h;
	_Atomic uint32_t done; /* operations finished on this instance (shared instances only) */
	uint8_t ok;            /* created and not yet released */
	uint8_t pad[3];
} inst_rt;
_Static_assert(sizeof(inst_rt) == 32, "two instance records per cache line");

typedef struct worker_stats {
	uint64_t count[WL_OP_KIND_COUNT];
	uint64_t status[WL_OP_KIND_COUNT][IOVA_STATUS_COUNT];
	uint64_t failures[WL_OP_KIND_COUNT][WL_FAIL_REASON_COUNT];
	uint64_t cross_waits, late_ops, lag_final_ticks;
	wl_hist lat[WL_OP_KIND_COUNT]; /* ns */
	wl_hist lag;                   /* ns */
} worker_stats;

typedef struct replay replay;

typedef struct worker {
	replay *rp;
	unsigned index;
	pthread_t thread;
	void *wctx;
	worker_stats *st;
} worker;

struct replay {
	const wl_compiled *c;
	wl_executor ex;
	wl_replay_options opt;
	const wl_clock *clk;
	double tick_scale; /* ticks per trace ns, time scale included */
	uint64_t late_ticks;
	inst_rt *rt;
	pthread_barrier_t barrier;
	wl_pinner *pinner;
	worker *w;
	_Atomic bool setup_failed;
	_Atomic bool stop;
	_Atomic bool stop_claimed;
	char stop_reason[256];
	uint64_t loop_t0;       /* ticks: the loop's time zero (timed mode), set by worker 0 */
	uint64_t elapsed_ticks; /* measured loops, by worker 0 */
};

const char *wl_fail_reason_name(wl_fail_reason r)
{
	static const char *const names[WL_FAIL_REASON_COUNT] = {"no-space", "unsatisfiable", "unsupported", "error",
								"skipped"};
	return (unsigned)r < WL_FAIL_REASON_COUNT ? names[r] : "?";
}

wl_fail_reason wl_fail_reason_of(iova_status s)
{
	switch (s) {
	case IOVA_ERR_NO_SPACE:
	case IOVA_ERR_NO_MEMORY:
		return WL_FAIL_NO_SPACE;
	case IOVA_ERR_UNSATISFIABLE:
	case IOVA_ERR_RANGE_TOO_SMALL:
	case IOVA_ERR_RANGE_INVERTED:
	case IOVA_ERR_BOUNDARY_TOO_SMALL:
	case IOVA_ERR_SIZE_TOO_LARGE:
		return WL_FAIL_UNSATISFIABLE;
	case IOVA_ERR_UNSUPPORTED:
		return WL_FAIL_UNSUPPORTED;
	default:
		return WL_FAIL_ERROR;
	}
}

static void request_stop(replay *rp, const worker *wk, size_t i, wl_op_kind kind, const char *what)
{
	bool expected = false;
	if (atomic_compare_exchange_strong(&rp->stop_claimed, &expected, true)) {
		const wl_worker_plan *p = &rp->c->plan[wk->index];
		snprintf(rp->stop_reason, sizeof rp->stop_reason, "%s %" PRIu32 ": %s: %s",
			 rp->c->lines_are_text ? "line" : "operation", p->lines[i], wl_op_kind_name(kind), what);
	}
	atomic_store_explicit(&rp->stop, true, memory_order_relaxed);
}

/* Waits until @r's done counter reaches @need; false if the replay stops. */
static bool wait_done(replay *rp, inst_rt *r, uint32_t need, worker_stats *st)
{
	if (atomic_load_explicit(&r->done, memory_order_acquire) >= need)
		return true;
	st->cross_waits++;
	for (unsigned spins = 0; atomic_load_explicit(&r->done, memory_order_acquire) < need; spins++) {
		if (atomic_load_explicit(&rp->stop, memory_order_relaxed))
			return false;
		if (spins < 128)
			wl_cpu_relax();
		else
			sched_yield(); /* the other worker may need this CPU */
	}
	return true;
}

static inline void publish(inst_rt *r)
{
	/* Only this worker runs an operation on @r now (see the top comment). */
	uint32_t d = atomic_load_explicit(&r->done, memory_order_relaxed);
	atomic_store_explicit(&r->done, d + 1, memory_order_release);
}

static void sleep_until(const replay *rp, uint64_t due)
{
	uint64_t now = wl_ticks();
	if (now >= due)
		return;
	uint64_t ns = wl_ticks_to_ns(rp->clk, due - now);
	if (ns > 200000) {
		/* Sleep most of the way, spin the rest: a sleep overshoots. */
		uint64_t s = ns - 100000;
		struct timespec ts = {.tv_sec = (time_t)(s / 1000000000u), .tv_nsec = (long)(s % 1000000000u)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	while (wl_ticks() < due)
		wl_cpu_relax();
}

/* Dispatches @op to the executor. Returns the status; *@attempted is false when
 * nothing was called (skipped, or no executor function). */
static inline iova_status execute(const wl_executor *ex, void *wctx, const wl_cop *op, const wl_cext *x, inst_rt *r,
				  inst_rt *r2, wl_fail_reason *why)
{
	iova_status s;
	switch (op->kind) {
	case WL_OP_ALLOC:
		if (!ex->alloc)
			goto unsupported;
		{
			wl_alloc_args a = {op->size, x->a, x->b, x->c, x->d, (iova_cache_type)op->cache};
			s = ex->alloc(wctx, &a, &r->h);
		}
		r->ok = s == IOVA_OK;
		return s;
	case WL_OP_MAP:
		if (!ex->map)
			goto unsupported;
		s = ex->map(wctx, op->size, x->u32, &r->h);
		r->ok = s == IOVA_OK;
		return s;
	case WL_OP_FREE:
	case WL_OP_UNMAP:
		if (!r->ok)
			goto skipped;
		if (op->kind == WL_OP_FREE ? !ex->free : !ex->unmap)
			goto unsupported;
		s = op->kind == WL_OP_FREE ? ex->free(wctx, &r->h) : ex->unmap(wctx, &r->h);
		if (s == IOVA_OK)
			r->ok = 0;
		return s;
	case WL_OP_TRANSFER:
		if (!r->ok || !r2->ok)
			goto skipped;
		if (!ex->transfer)
			goto unsupported;
		return ex->transfer(wctx, &r->h, x->a, &r2->h, x->b, op->size);
	case WL_OP_FILL:
		if (!r->ok)
			goto skipped;
		if (!ex->fill)
			goto unsupported;
		return ex->fill(wctx, &r->h, x->a, op->size, x->u32);
	case WL_OP_FLUSH:
		if (r && !r->ok)
			goto skipped;
		if (!ex->flush)
			goto unsupported;
		return ex->flush(wctx, r ? &r->h : NULL);
	case WL_OP_EVICT:
	case WL_OP_MAKE_RESIDENT:
		if (!r->ok)
			goto skipped;
		if (op->kind == WL_OP_EVICT ? !ex->evict : !ex->make_resident)
			goto unsupported;
		return op->kind == WL_OP_EVICT ? ex->evict(wctx, &r->h) : ex->make_resident(wctx, &r->h);
	case WL_OP_SIGNAL:
		r->ok = 1;
		return IOVA_OK;
	default: /* WL_OP_WAIT: the dependency wait was the operation */
		return IOVA_OK;
	}
unsupported:
	*why = WL_FAIL_UNSUPPORTED;
	return IOVA_STATUS_COUNT;
skipped:
	*why = WL_FAIL_SKIPPED;
	return IOVA_STATUS_COUNT;
}

/*
 * The hot loop, specialised by the compiler for each (timed, latency) pair.
 * Returns false when the replay was stopped.
 */
static inline __attribute__((always_inline)) void run_ops(worker *wk, const bool timed, const wl_latency_mode lat)
{
	replay *rp = wk->rp;
	const wl_worker_plan *p = &rp->c->plan[wk->index];
	const wl_executor *ex = &rp->ex;
	void *wctx = wk->wctx;
	worker_stats *st = wk->st;
	inst_rt *rt = rp->rt;
	const bool stop_on_failure = rp->opt.stop_on_failure;
	const wl_clock clk = *rp->clk;
	uint64_t t_prev = lat == WL_LATENCY_CHAINED ? wl_ticks() : 0;
	uint64_t last_lag = 0;
	for (size_t i = 0; i < p->nops; i++) {
		const wl_cop *op = &p->ops[i];
		if (atomic_load_explicit(&rp->stop, memory_order_relaxed))
			break;
		uint64_t due = 0;
		if (timed) {
			due = rp->loop_t0 + (uint64_t)((double)op->ts * rp->tick_scale);
			sleep_until(rp, due);
		}
		const wl_cext *x = &p->ext[op->x];
		inst_rt *r = op->inst != WL_NO_ID ? &rt[op->inst] : NULL;
		inst_rt *r2 = NULL;
		uint64_t t0 = 0;
		if (lat == WL_LATENCY_BRACKET && op->kind == WL_OP_WAIT)
			t0 = wl_ticks(); /* a wait's latency is the wait */
		if (op->need && !wait_done(rp, r, op->need, st))
			break;
		if (op->kind == WL_OP_TRANSFER) {
			r2 = x->inst2 != WL_NO_ID ? &rt[x->inst2] : r;
			if (x->need2 && !wait_done(rp, r2, x->need2, st))
				break;
		}
		if (timed) {
			uint64_t now = wl_ticks();
			uint64_t lag = now > due ? now - due : 0;
			wl_hist_record(&st->lag, wl_ticks_to_ns(&clk, lag));
			st->late_ops += lag > rp->late_ticks;
			last_lag = lag;
			if (lat == WL_LATENCY_CHAINED)
				t_prev = now;
		}
		if (lat == WL_LATENCY_BRACKET && op->kind != WL_OP_WAIT)
			t0 = wl_ticks();
		wl_fail_reason why = WL_FAIL_ERROR;
		iova_status s = execute(ex, wctx, op, x, r, r2, &why);
		if (lat != WL_LATENCY_OFF) {
			uint64_t t1 = wl_ticks();
			uint64_t start = lat == WL_LATENCY_CHAINED ? t_prev : t0;
			if (s != IOVA_STATUS_COUNT)
				wl_hist_record(&st->lat[op->kind], wl_ticks_to_ns(&clk, t1 - start));
			t_prev = t1;
		}
		st->count[op->kind]++;
		if (s != IOVA_STATUS_COUNT)
			st->status[op->kind][s]++;
		if (__builtin_expect(s != IOVA_OK, 0)) {
			if (s != IOVA_STATUS_COUNT)
				why = wl_fail_reason_of(s);
			st->failures[op->kind][why]++;
			if (stop_on_failure && why != WL_FAIL_SKIPPED)
				request_stop(rp, wk, i, (wl_op_kind)op->kind,
					     s != IOVA_STATUS_COUNT ? iova_status_name(s) : wl_fail_reason_name(why));
		}
		if (op->flags & COP_PUBLISH)
			publish(r);
		if (op->flags & COP_PUBLISH2)
			publish(r2);
	}
	if (timed)
		st->lag_final_ticks = last_lag;
}

static void run_fast_bracket(worker *wk) { run_ops(wk, false, WL_LATENCY_BRACKET); }
static void run_fast_chained(worker *wk) { run_ops(wk, false, WL_LATENCY_CHAINED); }
static void run_fast_off(worker *wk) { run_ops(wk, false, WL_LATENCY_OFF); }
static void run_timed_bracket(worker *wk) { run_ops(wk, true, WL_LATENCY_BRACKET); }
static void run_timed_chained(worker *wk) { run_ops(wk, true, WL_LATENCY_CHAINED); }
static void run_timed_off(worker *wk) { run_ops(wk, true, WL_LATENCY_OFF); }

static void stats_reset(worker_stats *st)
{
	memset(st, 0, offsetof(worker_stats, lat));
	for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++)
		wl_hist_init(&st->lat[k]);
	wl_hist_init(&st->lag);
}

/* Releases what this worker's slice of instances still holds, then resets it. */
static void cleanup_slice(replay *rp, worker *wk)
{
	uint32_t n = rp->c->ninst, W = rp->c->workers;
	uint32_t lo = (uint32_t)((uint64_t)n * wk->index / W), hi = (uint32_t)((uint64_t)n * (wk->index + 1) / W);
	for (uint32_t k = lo; k < hi; k++) {
		inst_rt *r = &rp->rt[k];
		if (r->ok && rp->c->inst_kind[k] == INST_BUFFER && rp->ex.free)
			rp->ex.free(wk->wctx, &r->h);
		else if (r->ok && rp->c->inst_kind[k] == INST_MAPPED && rp->ex.unmap)
			rp->ex.unmap(wk->wctx, &r->h);
	}
	if (hi > lo)
		memset(&rp->rt[lo], 0, (size_t)(hi - lo) * sizeof *rp->rt);
}

static void *worker_main(void *arg)
{
	worker *wk = arg;
	replay *rp = wk->rp;
	if (rp->pinner)
		wl_pinner_pin(rp->pinner, wk->index); /* best effort: a refused pin still replays */
	bool ok = true;
	if (rp->ex.worker_init) {
		uint64_t seed = rp->opt.seed ^ (0x9e3779b97f4a7c15ull * (wk->index + 1));
		wk->wctx = rp->ex.worker_init(rp->ex.ctx, wk->index, seed, &ok);
	}
	if (!ok)
		atomic_store(&rp->setup_failed, true);
	pthread_barrier_wait(&rp->barrier);
	if (atomic_load(&rp->setup_failed))
		goto out;
	void (*run)(worker *);
	bool timed = rp->opt.mode == WL_REPLAY_TIMED;
	switch (rp->opt.latency) {
	case WL_LATENCY_CHAINED: run = timed ? run_timed_chained : run_fast_chained; break;
	case WL_LATENCY_OFF: run = timed ? run_timed_off : run_fast_off; break;
	default: run = timed ? run_timed_bracket : run_fast_bracket; break;
	}
	unsigned total = rp->opt.warmup_loops + rp->opt.loops;
	for (unsigned loop = 0; loop < total; loop++) {
		if (loop == rp->opt.warmup_loops)
			stats_reset(wk->st);
		if (wk->index == 0)
			rp->loop_t0 = wl_ticks() + (uint64_t)(50000 * rp->clk->ticks_per_ns); /* 50 us to get going */
		pthread_barrier_wait(&rp->barrier);
		uint64_t start = wl_ticks();
		run(wk);
		pthread_barrier_wait(&rp->barrier);
		if (wk->index == 0 && loop >= rp->opt.warmup_loops)
			rp->elapsed_ticks += wl_ticks() - (rp->opt.mode == WL_REPLAY_TIMED ? rp->loop_t0 : start);
		if (rp->ex.loop_end) {
			if (wk->index == 0)
				rp->ex.loop_end(rp->ex.ctx, loop);
			pthread_barrier_wait(&rp->barrier);
		}
		cleanup_slice(rp, wk);
		pthread_barrier_wait(&rp->barrier);
		if (atomic_load_explicit(&rp->stop, memory_order_relaxed))
			break;
	}
out:
	if (rp->ex.worker_fini)
		rp->ex.worker_fini(wk->wctx);
	return NULL;
}

static void merge(replay *rp, wl_replay_result *res)
{
	const wl_clock *clk = rp->clk;
	for (unsigned w = 0; w < rp->c->workers; w++) {
		const worker_stats *st = rp->w[w].st;
		for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++) {
			res->count[k] += st->count[k];
			res->ops += st->count[k];
			for (unsigned s = 0; s < IOVA_STATUS_COUNT; s++)
				res->status[k][s] += st->status[k][s];
			for (unsigned f = 0; f < WL_FAIL_REASON_COUNT; f++) {
				res->failures[k][f] += st->failures[k][f];
				res->failed += st->failures[k][f];
			}
			wl_hist_merge(&res->latency[k], &st->lat[k]);
		}
		res->cross_waits += st->cross_waits;
		res->late_ops += st->late_ops;
		wl_hist_merge(&res->lag, &st->lag);
		uint64_t lf = wl_ticks_to_ns(clk, st->lag_final_ticks);
		if (lf > res->lag_final_ns)
			res->lag_final_ns = lf;
	}
	for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++)
		wl_hist_merge(&res->all_latency, &res->latency[k]);
	res->lag_max_ns = res->lag.count ? res->lag.max : 0;
	res->elapsed_ns = wl_ticks_to_ns(clk, rp->elapsed_ticks);
}

void wl_replay_result_free(wl_replay_result *r) { free(r); }

bool wl_replay(const wl_compiled *c, const wl_executor *ex, const wl_replay_options *opt, wl_replay_result **out,
	       wl_error *err)
{
	*out = NULL;
	replay *rp = calloc(1, sizeof *rp);
	wl_replay_result *res = calloc(1, sizeof *res);
	if (!rp || !res) {
		free(rp);
		free(res);
		return wl_set_error(err, "replay", 0, "out of memory"), false;
	}
	bool ok = false;
	unsigned W = c->workers;
	rp->c = c;
	rp->ex = *ex;
	if (opt)
		rp->opt = *opt;
	if (!rp->opt.loops)
		rp->opt.loops = 1;
	if (!(rp->opt.time_scale > 0))
		rp->opt.time_scale = 1.0;
	if (!rp->opt.late_threshold_ns)
		rp->opt.late_threshold_ns = 10000;
	rp->clk = wl_clock_get();
	rp->tick_scale = rp->opt.time_scale * rp->clk->ticks_per_ns;
	rp->late_ticks = (uint64_t)((double)rp->opt.late_threshold_ns * rp->clk->ticks_per_ns);
	rp->rt = calloc(c->ninst ? c->ninst : 1, sizeof *rp->rt);
	rp->w = calloc(W, sizeof *rp->w);
	if (!rp->rt || !rp->w) {
		wl_set_error(err, "replay", 0, "out of memory");
		goto out;
	}
	for (unsigned w = 0; w < W; w++) {
		rp->w[w].rp = rp;
		rp->w[w].index = w;
		rp->w[w].st = aligned_alloc(64, (sizeof(worker_stats) + 63) / 64 * 64);
		if (!rp->w[w].st) {
			wl_set_error(err, "replay", 0, "out of memory");
			goto out;
		}
		stats_reset(rp->w[w].st);
	}
	if (rp->opt.pin)
		rp->pinner = wl_pinner_new(); /* NULL: run unpinned */
	if (pthread_barrier_init(&rp->barrier, NULL, W) != 0) {
		wl_set_error(err, "replay", 0, "cannot create a barrier");
		goto out;
	}
	unsigned started = 0;
	for (; started < W; started++) {
		int e = pthread_create(&rp->w[started].thread, NULL, worker_main, &rp->w[started]);
		if (e) {
			wl_set_error(err, "replay", 0, "cannot start worker %u: %s", started, strerror(e));
			break;
		}
	}
	if (started < W) {
		/* The started workers wait at the first barrier for W arrivals:
		 * make up the missing ones, telling them to give up. */
		atomic_store(&rp->setup_failed, true);
		for (unsigned i = started; i < W; i++)
			pthread_barrier_wait(&rp->barrier);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(rp->w[i].thread, NULL);
	pthread_barrier_destroy(&rp->barrier);
	if (started < W)
		goto out;
	if (atomic_load(&rp->setup_failed)) {
		wl_set_error(err, "replay", 0, "executor '%s' refused to set up a worker", ex->name ? ex->name : "?");
		goto out;
	}
	res->workers = W;
	res->loops = rp->opt.loops;
	for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++)
		wl_hist_init(&res->latency[k]);
	wl_hist_init(&res->all_latency);
	wl_hist_init(&res->lag);
	merge(rp, res);
	res->schedule_ns = rp->opt.mode == WL_REPLAY_TIMED ? (uint64_t)((double)c->span_ns * rp->opt.time_scale) : 0;
	res->stopped = atomic_load(&rp->stop);
	snprintf(res->stop_reason, sizeof res->stop_reason, "%s", rp->stop_reason);
	ok = true;
out:
	if (rp->w)
		for (unsigned w = 0; w < W; w++)
			free(rp->w[w].st);
	free(rp->w);
	free(rp->rt);
	wl_pinner_free(rp->pinner);
	free(rp);
	if (ok)
		*out = res;
	else
		free(res);
	return ok;
}
