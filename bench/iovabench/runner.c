/* SPDX-License-Identifier: MIT */
/*
 * runner.c - one job: its repetitions, each on a fresh domain.
 *
 * A repetition: create the domain (strategy, IOMMU); replay the warm-up
 * passes unrecorded; snapshot the IOMMU's counters; replay the measured
 * passes with the sampler running; subtract the snapshot. Passes: `loops`,
 * or enough whole passes for `ops` operations, or (time_based) batches of
 * passes until `runtime` has elapsed. `runtime` also caps a repetition (and
 * its warm-up): past it the measuring executor stops forwarding work and the
 * repetition is marked cut.
 *
 * Throughput is operations recorded by the measuring executor over the
 * replayer's measured time (first to last barrier of the passes, without
 * thread start-up). Speed is reported as the median over repetitions.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

const char *ib_job_state_name(ib_job_state s)
{
	static const char *const names[] = {"pending", "complete", "interrupted", "failed"};
	return (unsigned)s < 4 ? names[s] : "?";
}

/* The vulnerability-window histogram of a domain, as (lo, count) pairs. */
typedef struct window {
	uint64_t lo[1024], hi[1024], count[1024];
	unsigned n;
} window;

static void window_cb(void *ctx, uint64_t lo, uint64_t hi, uint64_t count)
{
	window *w = ctx;
	if (w->n < 1024) {
		w->lo[w->n] = lo;
		w->hi[w->n] = hi;
		w->count[w->n++] = count;
	}
}

/* Adds @after minus @before (bucket by bucket) to @h at bucket midpoints:
 * within the core's 1/16 resolution. */
static void window_add(wl_hist *h, const window *before, const window *after)
{
	for (unsigned i = 0; i < after->n; i++) {
		uint64_t c = after->count[i];
		for (unsigned k = 0; k < before->n; k++)
			if (before->lo[k] == after->lo[i])
				c -= before->count[k] <= c ? before->count[k] : c;
		if (c)
			wl_hist_record_n(h, after->lo[i] + (after->hi[i] - after->lo[i]) / 2, c);
	}
}

#define DIFF(f) (b->f - a->f)

static void iommu_add(ib_iommu_sum *s, const iova_iommu_statistics *a, const iova_iommu_statistics *b)
{
	s->present = true;
	s->last = *b;
	s->maps += DIFF(maps);
	s->unmaps += DIFF(unmaps);
	s->map_errors += DIFF(map_errors);
	s->unmap_errors += DIFF(unmap_errors);
	s->dma_ops += DIFF(dma_ops);
	s->dma_accesses += DIFF(dma_accesses);
	s->dma_faults += DIFF(dma_faults);
	s->iotlb_hits += DIFF(iotlb_hits);
	s->iotlb_misses += DIFF(iotlb_misses);
	s->iotlb_evictions += DIFF(iotlb_evictions);
	s->page_walks += DIFF(page_walks);
	s->walk_levels += DIFF(walk_levels);
	s->stale_hits += DIFF(stale_hits);
	s->inv_page += DIFF(inv_page);
	s->inv_domain += DIFF(inv_domain);
	s->flushes += DIFF(flushes);
	s->flushes_full += DIFF(flushes_full);
	s->flushes_timeout += DIFF(flushes_timeout);
	s->flushes_forced += DIFF(flushes_forced);
	s->ranges_queued += DIFF(ranges_queued);
	s->ranges_released += DIFF(ranges_released);
	s->iovas_deferred += DIFF(iovas_deferred);
	s->release_errors += DIFF(release_errors);
	s->clock_max += DIFF(clock_max);
	s->clock_sum += DIFF(clock_sum);
	s->cycles_invalidate += DIFF(cycles_invalidate);
	s->cycles_inv_queueing += DIFF(cycles_inv_queueing);
	s->cycles_pte += DIFF(cycles_pte);
	s->cycles_queue += DIFF(cycles_queue);
	s->cycles_lock_wait += DIFF(cycles_lock_wait);
	s->device_cycles += DIFF(device_cycles);
	s->oracle_checks += DIFF(oracle_checks);
	/* Violations count from the domain's creation: warm-up ones count too. */
	s->oracle_violations += b->oracle_violations;
	s->oracle_overlaps += b->oracle_overlaps;
	if (!s->oracle_first_violation)
		s->oracle_first_violation = b->oracle_first_violation;
}

static wl_hist *hist_of(wl_hist **slot)
{
	if (!*slot) {
		*slot = wl_hist_new();
		if (!*slot) {
			fputs("iovabench: out of memory\n", stderr);
			abort();
		}
	}
	return *slot;
}

static void set_deadline(ib_measure *m, uint64_t runtime_ns)
{
	const ib_clock *c = ib_clock_get();
	uint64_t d = runtime_ns ? ib_ticks() + (uint64_t)((double)runtime_ns * c->ticks_per_ns) : UINT64_MAX;
	atomic_store(&m->deadline, d);
}

typedef struct rep_ctx {
	const ib_job *job;
	const ib_run_hooks *hooks;
	ib_job_result *r;
	wl_compiled *c;
	unsigned rep;
} rep_ctx;

static void fail(ib_job_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(ib_job_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	r->state = JOB_FAILED;
}

/* Replays @loops passes; adds elapsed time, skipped and unsupported counts. */
static bool replay(rep_ctx *x, ib_measure *m, uint64_t loops, uint64_t *elapsed, uint64_t *skipped,
		   uint64_t *unsupported_null)
{
	wl_replay_options o = {
		.loops = (unsigned)(loops > 1000000000 ? 1000000000 : loops),
		.seed = x->job->seed + x->rep,
		.pin = false, /* the measuring executor pins */
		.latency = WL_LATENCY_OFF,
	};
	wl_replay_result *res;
	wl_error err;
	if (!wl_replay(x->c, &m->ex, &o, &res, &err)) {
		fail(x->r, "replay: %s", err.message);
		return false;
	}
	if (elapsed)
		*elapsed += res->elapsed_ns;
	if (skipped && !atomic_load(&m->cut))
		for (unsigned k = 0; k < IB_KINDS; k++) {
			skipped[k] += res->failures[k][WL_FAIL_SKIPPED];
			/* kinds the executor has no function for were never called */
			bool missing = (k == WL_OP_ALLOC && !m->ex.alloc) || (k == WL_OP_FREE && !m->ex.free) ||
				       (k == WL_OP_MAP && !m->ex.map) || (k == WL_OP_UNMAP && !m->ex.unmap) ||
				       (k == WL_OP_TRANSFER && !m->ex.transfer) || (k == WL_OP_FILL && !m->ex.fill) ||
				       (k == WL_OP_FLUSH && !m->ex.flush) || (k == WL_OP_EVICT && !m->ex.evict) ||
				       (k == WL_OP_MAKE_RESIDENT && !m->ex.make_resident);
			if (missing)
				*unsupported_null += res->failures[k][WL_FAIL_UNSUPPORTED];
		}
	wl_replay_result_free(res);
	return true;
}

/* Add the strategy counters' change between snapshots @s0 and @s1 (one
 * repetition's measured passes) to @r's: totals by difference, levels as
 * at @s1, peaks by maximum. */
static void counters_add(ib_job_result *r, const iova_stats *s0, const iova_stats *s1)
{
	const unsigned n = s1->counter_count;
	if (s0->counter_count != n || (r->ncounters && r->ncounters != n))
		return; /* a strategy reports a fixed list: cannot happen */
	if (!r->ncounters) {
		for (unsigned i = 0; i < n; i++)
			r->counters[i] = (iova_counter){s1->counters[i].name, 0, s1->counters[i].kind};
		r->ncounters = n;
	}
	for (unsigned i = 0; i < n; i++) {
		iova_counter *out = &r->counters[i];
		const uint64_t before = s0->counters[i].value, after = s1->counters[i].value;
		switch (out->kind) {
		case IOVA_COUNTER_TOTAL:
			out->value += after >= before ? after - before : 0;
			break;
		case IOVA_COUNTER_LEVEL:
			out->value = after;
			break;
		case IOVA_COUNTER_PEAK:
			out->value = after > out->value ? after : out->value;
			break;
		}
	}
}

static void run_rep(rep_ctx *x)
{
	const ib_job *job = x->job;
	ib_job_result *r = x->r;
	iova_domain_config cfg;
	iova_iommu_config mmu;
	ib_job_domain_config(job, &cfg, &mmu);
	iova_domain *d;
	iova_status s = iova_domain_create(&cfg, &d);
	if (s != IOVA_OK) {
		fail(r, "cannot create the domain: %s", iova_status_message(s));
		return;
	}
	wl_iova_executor ix;
	wl_iova_executor_init(&ix, d, job->placement);
	ib_measure m;
	if (!ib_measure_init(&m, &ix.ex, job->threads, d, job->orders, job->norders, job->pin)) {
		fail(r, "out of memory");
		iova_domain_destroy(d);
		return;
	}
	if (job->warmup && !ib_interrupted) {
		atomic_store(&m.recording, false);
		set_deadline(&m, job->runtime_ns);
		if (!replay(x, &m, job->warmup, NULL, NULL, NULL))
			goto out;
	}
	if (ib_interrupted)
		goto out;
	/* Measure from a settled domain: what the warm-up freed is released,
	 * not left waiting in flush queues. */
	iova_iommu_flush(d);
	ib_measure_reset(&m);
	iova_iommu_statistics ms0, ms1;
	bool has_mmu = iova_iommu_stats(d, &ms0) == IOVA_OK;
	window *w0 = ib_calloc(1, sizeof *w0), *w1 = ib_calloc(1, sizeof *w1);
	if (has_mmu)
		iova_iommu_window_histogram(d, window_cb, w0);
	/* Snapshots outside the measured time: their walk of the free space may
	 * take the strategy's lock. */
	iova_stats *s0 = ib_calloc(1, sizeof *s0), *s1 = ib_calloc(1, sizeof *s1);
	const bool have_s0 = iova_domain_stats(d, s0) == IOVA_OK;
	atomic_store(&m.recording, true);
	size_t first_row = r->series.n;
	ib_sampler *smp = ib_sampler_start(&m, d, job->interval_ns, x->rep + 1, job->orders, job->norders, &r->series,
					   x->hooks ? x->hooks->progress : NULL, x->hooks ? x->hooks->ctx : NULL);
	uint64_t elapsed = 0, skipped[IB_KINDS] = {0}, unsupported_null = 0;
	set_deadline(&m, job->runtime_ns);
	bool ok = true;
	if (job->time_based) {
		uint64_t batch = 1, passes = 0;
		while (ok && !atomic_load(&m.cut) && !ib_interrupted && elapsed < job->runtime_ns) {
			ok = replay(x, &m, batch, &elapsed, skipped, &unsupported_null);
			passes += batch;
			uint64_t per_pass = elapsed / passes + 1, left = job->runtime_ns > elapsed ? job->runtime_ns - elapsed : 0;
			batch = left / per_pass / 2;
			if (batch < 1)
				batch = 1;
		}
		/* An interruption that falls between two batches stops the loop
		 * without any operation seeing it: the repetition is cut all the
		 * same (it did not run its time). */
		if (ib_interrupted && elapsed < job->runtime_ns)
			atomic_store(&m.cut, true);
	} else {
		uint64_t per = job->wl->ops ? job->wl->ops : 1;
		uint64_t loops = job->ops ? (job->ops + per - 1) / per : job->loops;
		ok = replay(x, &m, loops, &elapsed, skipped, &unsupported_null);
	}
	ib_sampler_stop(smp);
	if (ok && have_s0 && iova_domain_stats(d, s1) == IOVA_OK)
		counters_add(r, s0, s1);
	free(s0);
	free(s1);
	if (!ok) {
		free(w0);
		free(w1);
		goto out;
	}
	/* The last row: the state the last complete pass left, not the emptied domain. */
	if (m.end_valid && r->series.n > first_row)
		r->series.rows[r->series.n - 1].frag = m.end;
	/* Collect. */
	ib_rep *rep = &r->reps[r->nreps++];
	memset(rep, 0, sizeof *rep);
	wl_hist *all = wl_hist_new(), *alloc = wl_hist_new();
	if (!all || !alloc)
		abort();
	for (unsigned i = 0; i < m.nworkers; i++) {
		ib_mworker *wk = &m.w[i];
		rep->ops += atomic_load(&wk->ops);
		rep->requests += atomic_load(&wk->requests);
		rep->failed += atomic_load(&wk->failed);
		for (unsigned c = 0; c < 64; c++) {
			r->req_by_size[c] += wk->req_by_size[c];
			r->failed_by_size[c] += wk->failed_by_size[c];
		}
		for (unsigned k = 0; k < IB_KINDS; k++) {
			r->count[k] += wk->count[k];
			for (unsigned st = 0; st < IOVA_STATUS_COUNT; st++)
				r->status[k][st] += wk->status[k][st];
			rep->unsupported += wk->status[k][IOVA_ERR_UNSUPPORTED]; /* cut calls are not recorded */
			if (!wk->lat[k].count)
				continue;
			wl_hist_merge(hist_of(&r->lat[k]), &wk->lat[k]);
			wl_hist_merge(hist_of(&r->lat_thread[i][k]), &wk->lat[k]);
			wl_hist_merge(hist_of(&r->all), &wk->lat[k]);
			wl_hist_merge(all, &wk->lat[k]);
			if (k == WL_OP_ALLOC)
				wl_hist_merge(alloc, &wk->lat[k]);
		}
	}
	/* The replayer's counts of what it did not call are exact only when
	 * nothing was cut (a cut creation makes its buffer's later operations
	 * "skipped" too). */
	if (!atomic_load(&m.cut)) {
		for (unsigned k = 0; k < IB_KINDS; k++)
			r->skipped[k] += skipped[k];
		rep->unsupported += unsupported_null;
	}
	r->unsupported += rep->unsupported;
	r->requests += rep->requests;
	r->failed += rep->failed;
	rep->passes = m.passes;
	rep->cut = atomic_load(&m.cut);
	rep->elapsed_ns = elapsed;
	rep->ops_per_s = elapsed ? (double)rep->ops / ((double)elapsed / 1e9) : 0;
	rep->p50_ns = wl_hist_percentile(all, 50);
	rep->p99_ns = wl_hist_percentile(all, 99);
	rep->alloc_p50_ns = wl_hist_percentile(alloc, 50);
	rep->alloc_p99_ns = wl_hist_percentile(alloc, 99);
	free(all);
	free(alloc);
	if (has_mmu && iova_iommu_stats(d, &ms1) == IOVA_OK) {
		iommu_add(&r->iommu, &ms0, &ms1);
		/* Ranges still queued when the workload stops would otherwise never
		 * be invalidated, and their windows - the longest ones, under a
		 * big queue - would be missing from the distribution (all of it,
		 * when no flush came due during the run). Drain the queues so that
		 * every unmapped range has a window, cut at the end of the run, and
		 * say how many were cut. The drain's own invalidation is not part
		 * of the workload: its counters and clocks stay out of ms1. */
		iova_iommu_statistics drained;
		iova_iommu_flush(d);
		if (iova_iommu_stats(d, &drained) == IOVA_OK)
			r->iommu.ranges_drained += drained.ranges_released - ms1.ranges_released;
		iova_iommu_window_histogram(d, window_cb, w1);
		window_add(hist_of(&r->iommu.window), w0, w1);
		if (job->clock == IOVA_CLOCK_MODELLED && ms1.clock_max > ms0.clock_max) {
			double cpus = ms1.config.cycles_per_us ? ms1.config.cycles_per_us : 2000;
			rep->modelled_ops_per_s = (double)rep->ops / ((double)(ms1.clock_max - ms0.clock_max) / (cpus * 1e6));
		}
	}
	free(w0);
	free(w1);
	if (m.end_valid) {
		r->end = m.end;
		r->end_valid = true;
	}
	/* The worst moment seen: smallest largest free extent. */
	for (size_t i = first_row; i < r->series.n; i++) {
		const ib_frag *f = &r->series.rows[i].frag;
		if (!r->worst_valid || f->largest_free_extent < r->worst.largest_free_extent) {
			r->worst = *f;
			r->worst_valid = true;
		}
	}
	if (m.end_valid && (!r->worst_valid || m.end.largest_free_extent < r->worst.largest_free_extent)) {
		r->worst = m.end;
		r->worst_valid = true;
	}
out:
	ib_measure_fini(&m);
	iova_domain_destroy(d);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void ib_run_job(const ib_job *job, const ib_run_hooks *hooks, ib_job_result *r)
{
	memset(r, 0, sizeof *r);
	r->state = JOB_PENDING;
	r->nthreads = job->threads;
	r->reps = ib_calloc(job->repetitions, sizeof *r->reps);
	ib_error e;
	rep_ctx x = {.job = job, .hooks = hooks, .r = r};
	x.c = ib_workload_compiled(job->wl, job->threads, &e);
	if (!x.c) {
		fail(r, "%s", e.msg);
		return;
	}
	r->workers = job->threads < job->wl->streams ? job->threads : (unsigned)job->wl->streams;
	uint64_t t0 = ib_mono_ns();
	for (unsigned rep = 0; rep < job->repetitions && !ib_interrupted && r->state != JOB_FAILED; rep++) {
		x.rep = rep;
		if (hooks && hooks->job_start)
			hooks->job_start(hooks->ctx, job, rep);
		run_rep(&x);
	}
	r->wall_s = (double)(ib_mono_ns() - t0) / 1e9;
	if (r->state != JOB_FAILED)
		r->state = ib_interrupted ? JOB_INTERRUPTED : JOB_COMPLETE;
	if (r->nreps) {
		double *v = ib_calloc(r->nreps, sizeof *v);
		for (unsigned i = 0; i < r->nreps; i++)
			v[i] = r->reps[i].ops_per_s;
		qsort(v, r->nreps, sizeof *v, cmp_double);
		r->min_ops_per_s = v[0];
		r->max_ops_per_s = v[r->nreps - 1];
		r->median_ops_per_s = ib_median(v, r->nreps);
		for (unsigned i = 0; i < r->nreps; i++)
			v[i] = r->reps[i].modelled_ops_per_s;
		r->median_modelled_ops_per_s = ib_median(v, r->nreps);
		free(v);
	}
	for (unsigned k = 0; k < IB_KINDS; k++)
		if (r->lat[k])
			wl_hist_summarize(r->lat[k], &r->lat_sum[k]);
	if (r->all)
		wl_hist_summarize(r->all, &r->all_sum);
	r->thread_sum = ib_calloc((size_t)r->nthreads * IB_KINDS, sizeof *r->thread_sum);
	for (unsigned t = 0; t < r->nthreads && t < 64; t++)
		for (unsigned k = 0; k < IB_KINDS; k++)
			if (r->lat_thread[t][k])
				wl_hist_summarize(r->lat_thread[t][k], &r->thread_sum[t * IB_KINDS + k]);
}

void ib_job_result_drop_hists(ib_job_result *r)
{
	for (unsigned k = 0; k < IB_KINDS; k++) {
		free(r->lat[k]);
		r->lat[k] = NULL;
		for (unsigned t = 0; t < 64; t++) {
			free(r->lat_thread[t][k]);
			r->lat_thread[t][k] = NULL;
		}
	}
	free(r->all);
	r->all = NULL;
}

void ib_job_result_free(ib_job_result *r)
{
	ib_job_result_drop_hists(r);
	free(r->iommu.window);
	free(r->reps);
	free(r->thread_sum);
	ib_series_free(&r->series);
	memset(r, 0, sizeof *r);
}
