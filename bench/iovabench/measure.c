/* SPDX-License-Identifier: MIT */
/*
 * measure.c - the measuring executor: wraps another executor (the core's)
 * and, per worker thread, times every call with the calibrated clock (two
 * reads around the call, one read's cost subtracted), counts calls by kind
 * and status, and publishes running totals the sampler reads.
 *
 * Each worker owns its ib_mworker: histograms and counts are plain data
 * written by that worker only and read after the replay has joined its
 * threads. The three totals the sampler reads while workers run are atomics
 * written by their owner with relaxed stores (a load and a store, no
 * read-modify-write: one writer) and read with relaxed loads: a sample only
 * needs each total to be some recent value.
 *
 * Stopping: when the deadline passes or the user interrupts, calls that
 * would do work return IOVA_ERR_UNSUPPORTED without calling the core and are
 * not recorded (the pass then runs out in microseconds); releases are still
 * forwarded so the domain is left clean.
 */
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

static inline void bump(_Atomic uint64_t *a, uint64_t by)
{
	atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + by, memory_order_relaxed);
}

/* Whether work must stop; called with the first clock read of a call. */
static inline bool stopping(ib_measure *m, uint64_t now)
{
	if (__builtin_expect(now < atomic_load_explicit(&m->deadline, memory_order_relaxed) &&
				     !atomic_load_explicit(&ib_interrupted, memory_order_relaxed),
			     1))
		return false;
	atomic_store_explicit(&m->cut, true, memory_order_relaxed);
	return true;
}

static inline void record(ib_mworker *w, wl_op_kind kind, iova_status s, uint64_t t0, uint64_t t1, uint64_t size)
{
	ib_measure *m = w->m;
	if (!atomic_load_explicit(&m->recording, memory_order_relaxed))
		return;
	uint64_t d = t1 - t0;
	d = d > m->clk->read_cost_ticks ? d - m->clk->read_cost_ticks : 0;
	wl_hist_record(&w->lat[kind], ib_ticks_to_ns(m->clk, d));
	w->count[kind]++;
	w->status[kind][s]++;
	bump(&w->ops, 1);
	if (kind == WL_OP_ALLOC || kind == WL_OP_MAP) {
		bump(&w->requests, 1);
		wl_fail_reason why = s == IOVA_OK ? WL_FAIL_REASON_COUNT : wl_fail_reason_of(s);
		unsigned cls = size ? 63u - (unsigned)__builtin_clzll(size) : 0;
		w->req_by_size[cls]++;
		if (why == WL_FAIL_NO_SPACE || why == WL_FAIL_UNSATISFIABLE) {
			bump(&w->failed, 1);
			w->failed_by_size[cls]++;
		}
	}
}

#define CUT_STATUS IOVA_ERR_UNSUPPORTED

static iova_status m_alloc(void *wc, const wl_alloc_args *a, wl_handle *out)
{
	ib_mworker *w = wc;
	uint64_t t0 = ib_ticks();
	if (stopping(w->m, t0))
		return CUT_STATUS;
	iova_status s = w->m->inner->alloc(w->inner_wctx, a, out);
	record(w, WL_OP_ALLOC, s, t0, ib_ticks(), a->size);
	return s;
}

static iova_status m_map(void *wc, uint64_t size, uint32_t segments, wl_handle *out)
{
	ib_mworker *w = wc;
	uint64_t t0 = ib_ticks();
	if (stopping(w->m, t0))
		return CUT_STATUS;
	iova_status s = w->m->inner->map(w->inner_wctx, size, segments, out);
	record(w, WL_OP_MAP, s, t0, ib_ticks(), size);
	return s;
}

/* Releases: always forwarded, recorded unless stopping. */
static iova_status release(ib_mworker *w, wl_op_kind kind, wl_handle *h)
{
	ib_measure *m = w->m;
	uint64_t t0 = ib_ticks();
	bool stop = stopping(m, t0);
	iova_status s = kind == WL_OP_FREE ? m->inner->free(w->inner_wctx, h) : m->inner->unmap(w->inner_wctx, h);
	if (!stop)
		record(w, kind, s, t0, ib_ticks(), 0);
	return s;
}

static iova_status m_free(void *wc, wl_handle *h) { return release(wc, WL_OP_FREE, h); }
static iova_status m_unmap(void *wc, wl_handle *h) { return release(wc, WL_OP_UNMAP, h); }

static iova_status m_transfer(void *wc, wl_handle *src, uint64_t so, wl_handle *dst, uint64_t dof, uint64_t n)
{
	ib_mworker *w = wc;
	uint64_t t0 = ib_ticks();
	if (stopping(w->m, t0))
		return CUT_STATUS;
	iova_status s = w->m->inner->transfer(w->inner_wctx, src, so, dst, dof, n);
	record(w, WL_OP_TRANSFER, s, t0, ib_ticks(), 0);
	return s;
}

static iova_status m_fill(void *wc, wl_handle *h, uint64_t off, uint64_t n, uint32_t v)
{
	ib_mworker *w = wc;
	uint64_t t0 = ib_ticks();
	if (stopping(w->m, t0))
		return CUT_STATUS;
	iova_status s = w->m->inner->fill(w->inner_wctx, h, off, n, v);
	record(w, WL_OP_FILL, s, t0, ib_ticks(), 0);
	return s;
}

static iova_status one(void *wc, wl_op_kind kind, wl_handle *h)
{
	ib_mworker *w = wc;
	const wl_executor *in = w->m->inner;
	uint64_t t0 = ib_ticks();
	if (stopping(w->m, t0))
		return CUT_STATUS;
	iova_status s = kind == WL_OP_FLUSH ? in->flush(w->inner_wctx, h)
			: kind == WL_OP_EVICT ? in->evict(w->inner_wctx, h)
					      : in->make_resident(w->inner_wctx, h);
	record(w, kind, s, t0, ib_ticks(), 0);
	return s;
}

static iova_status m_flush(void *wc, wl_handle *h) { return one(wc, WL_OP_FLUSH, h); }
static iova_status m_evict(void *wc, wl_handle *h) { return one(wc, WL_OP_EVICT, h); }
static iova_status m_resident(void *wc, wl_handle *h) { return one(wc, WL_OP_MAKE_RESIDENT, h); }

static void *m_worker_init(void *ctx, unsigned worker, uint64_t seed, bool *ok)
{
	ib_measure *m = ctx;
	if (m->pin)
		ib_topo_pin(worker); /* best effort: a refused pin still measures */
	ib_mworker *w = &m->w[worker];
	*ok = true;
	w->inner_wctx = m->inner->worker_init ? m->inner->worker_init(m->inner->ctx, worker, seed, ok) : m->inner->ctx;
	return w;
}

static void m_worker_fini(void *wc)
{
	ib_mworker *w = wc;
	if (w->m->inner->worker_fini)
		w->m->inner->worker_fini(w->inner_wctx);
}

/* After each pass, with every worker waiting: the state the pass left. */
static void m_loop_end(void *ctx, unsigned loop)
{
	(void)loop;
	ib_measure *m = ctx;
	if (!atomic_load_explicit(&m->recording, memory_order_relaxed) ||
	    atomic_load_explicit(&m->cut, memory_order_relaxed))
		return;
	iova_stats st;
	if (iova_domain_stats(m->domain, &st) == IOVA_OK) {
		ib_frag_from_stats(&st, m->orders, m->norders, &m->end);
		m->end_valid = true;
	}
	m->passes++;
}

bool ib_measure_init(ib_measure *m, const wl_executor *inner, unsigned nworkers, iova_domain *domain,
		     const unsigned *orders, unsigned norders, bool pin)
{
	memset(m, 0, sizeof *m);
	m->inner = inner;
	m->clk = ib_clock_get();
	m->nworkers = nworkers;
	m->domain = domain;
	m->orders = orders;
	m->norders = norders;
	m->pin = pin;
	m->w = aligned_alloc(64, sizeof *m->w * nworkers);
	if (!m->w)
		return false;
	atomic_store(&m->deadline, UINT64_MAX);
	ib_measure_reset(m);
	wl_executor *ex = &m->ex;
	ex->name = "measure";
	ex->ctx = m;
	ex->worker_init = m_worker_init;
	ex->worker_fini = m_worker_fini;
	ex->loop_end = m_loop_end;
	/* A kind the inner executor lacks stays NULL: the replayer counts it as
	 * unsupported without calling anything. */
	ex->alloc = inner->alloc ? m_alloc : NULL;
	ex->free = inner->free ? m_free : NULL;
	ex->map = inner->map ? m_map : NULL;
	ex->unmap = inner->unmap ? m_unmap : NULL;
	ex->transfer = inner->transfer ? m_transfer : NULL;
	ex->fill = inner->fill ? m_fill : NULL;
	ex->flush = inner->flush ? m_flush : NULL;
	ex->evict = inner->evict ? m_evict : NULL;
	ex->make_resident = inner->make_resident ? m_resident : NULL;
	return true;
}

void ib_measure_reset(ib_measure *m)
{
	for (unsigned i = 0; i < m->nworkers; i++) {
		ib_mworker *w = &m->w[i];
		memset(w, 0, offsetof(ib_mworker, lat));
		w->m = m;
		for (unsigned k = 0; k < IB_KINDS; k++)
			wl_hist_init(&w->lat[k]);
	}
	m->end_valid = false;
	m->passes = 0;
	atomic_store(&m->cut, false);
}

void ib_measure_fini(ib_measure *m)
{
	free(m->w);
	m->w = NULL;
}
