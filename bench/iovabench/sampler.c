/* SPDX-License-Identifier: MIT */
/*
 * sampler.c - the time series: a thread that wakes every interval (on
 * absolute deadlines, so it does not drift) and records the workers' running
 * totals, the domain's space (iova_domain_stats(), safe while workers run:
 * each word is read atomically, the whole is not one instant) and the
 * IOMMU's counters. The last sample is taken when the repetition ends.
 *
 * The sampler is not pinned: on a machine where every core runs a worker it
 * takes a little of someone's time each interval, which is why the interval
 * is an option and why the walk's cost is bounded by the fragments, not the
 * space (iova.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iovabench.h"

struct ib_sampler {
	ib_measure *m;
	iova_domain *domain;
	uint64_t interval_ns;
	unsigned rep;
	const unsigned *orders;
	unsigned norders;
	ib_series *out;
	ib_progress_fn fn;
	void *fn_ctx;
	uint64_t t0_ns;
	uint64_t last_ops, last_requests, last_failed, last_ns;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

void ib_sample_take(ib_measure *m, iova_domain *domain, const unsigned *orders, unsigned norders, ib_sample *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned i = 0; i < m->nworkers; i++) {
		out->ops += atomic_load_explicit(&m->w[i].ops, memory_order_relaxed);
		out->requests += atomic_load_explicit(&m->w[i].requests, memory_order_relaxed);
		out->failed += atomic_load_explicit(&m->w[i].failed, memory_order_relaxed);
	}
	iova_stats st;
	if (iova_domain_stats(domain, &st) == IOVA_OK)
		ib_frag_from_stats(&st, orders, norders, &out->frag);
	iova_iommu_statistics ms;
	out->iotlb_hit_rate = -1;
	if (iova_iommu_stats(domain, &ms) == IOVA_OK) {
		uint64_t look = ms.iotlb_hits + ms.iotlb_misses;
		out->iotlb_hit_rate = look ? (double)ms.iotlb_hits / (double)look : -1;
		out->inv_page = ms.inv_page;
		out->inv_domain = ms.inv_domain;
		out->flushes = ms.flushes;
		out->ranges_pending = ms.ranges_pending;
		out->stale_hits = ms.stale_hits;
	}
}

static void append(ib_sampler *s, bool final)
{
	ib_sample row;
	ib_sample_take(s->m, s->domain, s->orders, s->norders, &row);
	uint64_t now = ib_mono_ns();
	row.rep = s->rep;
	row.final = final;
	row.t = (double)(now - s->t0_ns) / 1e9;
	double dt = (double)(now - s->last_ns) / 1e9;
	row.ops_per_s = dt > 0 ? (double)(row.ops - s->last_ops) / dt : 0;
	uint64_t dreq = row.requests - s->last_requests, dfail = row.failed - s->last_failed;
	row.fail_rate = dreq ? (double)dfail / (double)dreq : 0;
	s->last_ops = row.ops;
	s->last_requests = row.requests;
	s->last_failed = row.failed;
	s->last_ns = now;
	ib_series *o = s->out;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->rows = ib_realloc(o->rows, o->cap, sizeof *o->rows);
	}
	o->rows[o->n++] = row;
	if (s->fn)
		s->fn(s->fn_ctx, row.ops, row.ops_per_s);
}

static void *sampler_main(void *arg)
{
	ib_sampler *s = arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		uint64_t ns = (uint64_t)next.tv_nsec + s->interval_ns;
		next.tv_sec += (time_t)(ns / 1000000000u);
		next.tv_nsec = (long)(ns % 1000000000u);
		int rc = 0;
		while (!s->stop && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&s->cond, &s->lock, &next);
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		append(s, false);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

ib_sampler *ib_sampler_start(ib_measure *m, iova_domain *domain, uint64_t interval_ns, unsigned rep,
			     const unsigned *orders, unsigned norders, ib_series *out, ib_progress_fn fn, void *fn_ctx)
{
	ib_sampler *s = ib_calloc(1, sizeof *s);
	s->m = m;
	s->domain = domain;
	s->interval_ns = interval_ns;
	s->rep = rep;
	s->orders = orders;
	s->norders = norders;
	s->out = out;
	s->fn = fn;
	s->fn_ctx = fn_ctx;
	s->t0_ns = s->last_ns = ib_mono_ns();
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->lock, NULL);
	append(s, false); /* where the measurement starts */
	if (pthread_create(&s->thread, NULL, sampler_main, s) != 0) {
		/* No time series, but the repetition still runs and gets its final sample. */
		s->stop = true;
		s->thread = 0;
	}
	return s;
}

void ib_sampler_stop(ib_sampler *s)
{
	pthread_mutex_lock(&s->lock);
	bool running = !s->stop;
	s->stop = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (running)
		pthread_join(s->thread, NULL);
	append(s, true);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void ib_series_free(ib_series *s)
{
	free(s->rows);
	memset(s, 0, sizeof *s);
}
