/* SPDX-License-Identifier: MIT */
/*
 * summary.c - summary.json (jansson): the whole configuration, the tool,
 * build and machine, and every metric of every job. results/README.md
 * documents the schema; schema_version grows when a field changes meaning.
 * Written at the start (state "running"), and at the end (or on Ctrl-C),
 * always atomically.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "iovabench.h"

#define SCHEMA_VERSION 1

static json_t *jreal(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *jint(uint64_t v) { return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v); }
static json_t *jstr(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *frag_json(const ib_frag *g, const ib_job *job)
{
	json_t *o = json_object();
	json_object_set_new(o, "total_bytes", jint(g->total_bytes));
	json_object_set_new(o, "free_bytes", jint(g->free_bytes));
	json_object_set_new(o, "allocated_bytes", jint(g->allocated_bytes));
	json_object_set_new(o, "requested_bytes", jint(g->requested_bytes));
	json_object_set_new(o, "live_allocations", jint(g->live));
	json_object_set_new(o, "largest_free_extent", jint(g->largest_free_extent));
	json_object_set_new(o, "largest_free_block", jint(g->largest_free_block));
	json_object_set_new(o, "free_extents", jint(g->free_extents));
	json_object_set_new(o, "external_fragmentation", jreal(g->external));
	json_object_set_new(o, "internal_fragmentation", jreal(g->internal));
	json_t *u = json_array(), *f = json_array();
	for (unsigned i = 0; i < job->norders; i++) {
		json_array_append_new(u, jreal(g->unusable[i]));
		json_array_append_new(f, jreal(g->fragindex[i]));
	}
	json_object_set_new(o, "unusable_index", u);
	json_object_set_new(o, "fragmentation_index", f);
	return o;
}

static json_t *hist_json(const wl_hist_summary *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "count", jint(s->count));
	json_object_set_new(o, "min", jint(s->count ? s->min : 0));
	json_object_set_new(o, "max", jint(s->max));
	json_object_set_new(o, "mean", jreal(s->mean));
	json_object_set_new(o, "stddev", jreal(s->stddev));
	json_object_set_new(o, "p50", jint(s->p50));
	json_object_set_new(o, "p90", jint(s->p90));
	json_object_set_new(o, "p99", jint(s->p99));
	json_object_set_new(o, "p99.9", jint(s->p999));
	json_object_set_new(o, "p99.99", jint(s->p9999));
	return o;
}

static json_t *iommu_json(const ib_iommu_sum *m)
{
	if (!m->present)
		return json_null();
	const iova_iommu_config *c = &m->last.config;
	json_t *o = json_object();
	json_object_set_new(o, "policy", jstr(iova_inval_policy_name(c->policy)));
	json_object_set_new(o, "clock", jstr(iova_clock_mode_name(c->clock)));
	json_object_set_new(o, "fq_entries", jint(c->fq_entries));
	json_object_set_new(o, "fq_timeout_us", jint(c->fq_timeout_us));
	json_object_set_new(o, "cycles_per_us", jint(c->cycles_per_us));
	json_object_set_new(o, "iotlb_sets", jint(c->iotlb_sets));
	json_object_set_new(o, "iotlb_ways", jint(c->iotlb_ways));
	json_object_set_new(o, "maps", jint(m->maps));
	json_object_set_new(o, "unmaps", jint(m->unmaps));
	json_object_set_new(o, "map_errors", jint(m->map_errors));
	json_object_set_new(o, "unmap_errors", jint(m->unmap_errors));
	json_object_set_new(o, "dma_ops", jint(m->dma_ops));
	json_object_set_new(o, "dma_accesses", jint(m->dma_accesses));
	json_object_set_new(o, "dma_faults", jint(m->dma_faults));
	json_t *inv = json_object();
	json_object_set_new(inv, "page", jint(m->inv_page));
	json_object_set_new(inv, "domain", jint(m->inv_domain));
	json_object_set_new(inv, "total", jint(m->inv_page + m->inv_domain));
	json_object_set_new(o, "invalidations", inv);
	json_t *fl = json_object();
	json_object_set_new(fl, "total", jint(m->flushes));
	json_object_set_new(fl, "full", jint(m->flushes_full));
	json_object_set_new(fl, "timeout", jint(m->flushes_timeout));
	json_object_set_new(fl, "forced", jint(m->flushes_forced));
	json_object_set_new(o, "flushes", fl);
	json_object_set_new(o, "ranges_queued", jint(m->ranges_queued));
	json_object_set_new(o, "ranges_released", jint(m->ranges_released));
	json_object_set_new(o, "ranges_per_flush",
			    m->flushes ? jreal((double)m->ranges_released / (double)m->flushes) : json_null());
	json_object_set_new(o, "ranges_drained_at_end", jint(m->ranges_drained));
	json_object_set_new(o, "iovas_deferred", jint(m->iovas_deferred));
	json_object_set_new(o, "release_errors", jint(m->release_errors));
	json_t *tlb = json_object();
	uint64_t look = m->iotlb_hits + m->iotlb_misses;
	json_object_set_new(tlb, "hits", jint(m->iotlb_hits));
	json_object_set_new(tlb, "misses", jint(m->iotlb_misses));
	json_object_set_new(tlb, "evictions", jint(m->iotlb_evictions));
	json_object_set_new(tlb, "hit_rate", look ? jreal((double)m->iotlb_hits / (double)look) : json_null());
	json_object_set_new(o, "iotlb", tlb);
	json_object_set_new(o, "page_walks", jint(m->page_walks));
	json_object_set_new(o, "walk_levels", jint(m->walk_levels));
	json_object_set_new(o, "stale_accesses", jint(m->stale_hits));
	json_t *cy = json_object();
	json_object_set_new(cy, "clock_max", jint(m->clock_max));
	json_object_set_new(cy, "clock_sum", jint(m->clock_sum));
	json_object_set_new(cy, "invalidate", jint(m->cycles_invalidate));
	json_object_set_new(cy, "inv_queueing", jint(m->cycles_inv_queueing));
	json_object_set_new(cy, "pte", jint(m->cycles_pte));
	json_object_set_new(cy, "queue", jint(m->cycles_queue));
	json_object_set_new(cy, "lock_wait", jint(m->cycles_lock_wait));
	json_object_set_new(cy, "device", jint(m->device_cycles));
	json_object_set_new(o, "modelled_cycles", cy);
	json_t *w = json_object();
	wl_hist_summary ws;
	memset(&ws, 0, sizeof ws);
	if (m->window)
		wl_hist_summarize(m->window, &ws);
	double cpu = c->cycles_per_us ? c->cycles_per_us : 2000;
	json_object_set_new(w, "count", jint(ws.count));
	/* No window measured (no unmap, or passthrough): no percentiles, not zeros. */
	json_object_set_new(w, "mean_cycles", ws.count ? jreal(ws.mean) : json_null());
	json_object_set_new(w, "p50_cycles", ws.count ? jint(ws.p50) : json_null());
	json_object_set_new(w, "p90_cycles", ws.count ? jint(ws.p90) : json_null());
	json_object_set_new(w, "p99_cycles", ws.count ? jint(ws.p99) : json_null());
	json_object_set_new(w, "p99.9_cycles", ws.count ? jint(ws.p999) : json_null());
	json_object_set_new(w, "max_cycles", ws.count ? jint(ws.max) : json_null());
	json_object_set_new(w, "p50_us", ws.count ? jreal((double)ws.p50 / cpu) : json_null());
	json_object_set_new(w, "p99_us", ws.count ? jreal((double)ws.p99 / cpu) : json_null());
	json_object_set_new(w, "max_us", ws.count ? jreal((double)ws.max / cpu) : json_null());
	json_object_set_new(o, "vulnerability_window", w);
	json_t *orc = json_object();
	json_object_set_new(orc, "checks", jint(m->oracle_checks));
	json_object_set_new(orc, "violations", jint(m->oracle_violations));
	json_object_set_new(orc, "overlaps", jint(m->oracle_overlaps));
	json_object_set_new(orc, "first_violation", jint(m->oracle_first_violation));
	json_object_set_new(o, "oracle", orc);
	return o;
}

static json_t *job_json(const ib_run *run, size_t index)
{
	const ib_job *j = &run->plan->jobs[index];
	const ib_job_result *r = &run->results[index];
	json_t *o = json_object();
	json_object_set_new(o, "index", jint(j->index));
	json_object_set_new(o, "id", jstr(j->id));
	json_object_set_new(o, "slug", jstr(j->slug));
	json_object_set_new(o, "section", jstr(j->section));
	json_object_set_new(o, "state", jstr(ib_job_state_name(r->state)));
	json_object_set_new(o, "error", r->error[0] ? jstr(r->error) : json_null());
	json_object_set_new(o, "strategy", jstr(j->strategy));
	json_object_set_new(o, "workload", jstr(j->wl_label));
	json_object_set_new(o, "invalidation", jstr(j->policy_name));
	json_object_set_new(o, "policy", jstr(iova_inval_policy_name(j->policy)));
	json_object_set_new(o, "threads", jint(j->threads));
	json_object_set_new(o, "clock", jstr(iova_clock_mode_name(j->clock)));
	json_object_set_new(o, "placement", jstr(j->placement == IOVA_PLACE_TOP_DOWN ? "top-down" : "bottom-up"));
	json_object_set_new(o, "fq_entries", jint(j->fq_entries));
	json_object_set_new(o, "fq_timeout_us", jint(j->fq_timeout_us));
	json_t *cfg = json_object();
	for (size_t i = 0; i < ib_option_count(); i++) {
		const ib_option *opt = ib_option_at(i);
		if (!(opt->flags & OPT_RUN))
			json_object_set_new(cfg, opt->name, jstr(ib_optset_get(&j->opts, opt->name)));
	}
	json_object_set_new(o, "config", cfg);
	json_t *tr = json_object();
	const ib_workload *w = j->wl;
	json_object_set_new(tr, "spec", jstr(w->spec));
	json_object_set_new(tr, "asked", jstr(j->workload));
	json_object_set_new(tr, "source", jstr(w->source));
	json_object_set_new(tr, "fallback", json_boolean(w->fallback));
	json_object_set_new(tr, "note", w->note[0] ? jstr(w->note) : json_null());
	json_object_set_new(tr, "ops_per_pass", jint(w->ops));
	json_object_set_new(tr, "streams", jint(w->streams));
	json_object_set_new(tr, "peak_live_bytes", jint(w->peak_live_bytes));
	json_object_set_new(tr, "max_request_bytes", jint(w->max_request));
	json_object_set_new(tr, "occupancy", jreal(j->domain_size ? (double)w->peak_live_bytes / (double)j->domain_size : 0));
	json_object_set_new(tr, "replicate", jint(j->replicate));
	json_object_set_new(tr, "prefix", jint(j->prefix));
	if (w->imported) {
		json_t *p = json_object();
		for (unsigned k = 0; k < WL_IMPORT_PROBLEM_COUNT; k++)
			json_object_set_new(p, wl_import_problem_name((wl_import_problem)k), jint(w->import_report.problems[k]));
		json_object_set_new(tr, "import_problems", p);
	}
	json_object_set_new(o, "trace", tr);
	json_t *dom = json_object();
	json_object_set_new(dom, "base", jint(j->domain_base));
	json_object_set_new(dom, "size", jint(j->domain_size));
	json_object_set_new(dom, "granule", jint(j->granule));
	json_object_set_new(o, "domain", dom);
	json_object_set_new(o, "workers", jint(r->workers));
	json_object_set_new(o, "wall_seconds", jreal(r->wall_s));
	json_t *reps = json_array();
	for (unsigned i = 0; i < r->nreps; i++) {
		const ib_rep *p = &r->reps[i];
		json_t *x = json_object();
		json_object_set_new(x, "ops", jint(p->ops));
		json_object_set_new(x, "elapsed_ns", jint(p->elapsed_ns));
		json_object_set_new(x, "ops_per_sec", jreal(p->ops_per_s));
		json_object_set_new(x, "modelled_ops_per_sec", p->modelled_ops_per_s > 0 ? jreal(p->modelled_ops_per_s) : json_null());
		json_object_set_new(x, "passes", jint(p->passes));
		json_object_set_new(x, "cut", json_boolean(p->cut));
		json_object_set_new(x, "requests", jint(p->requests));
		json_object_set_new(x, "failed", jint(p->failed));
		json_object_set_new(x, "unsupported", jint(p->unsupported));
		json_object_set_new(x, "latency_p50_ns", jint(p->p50_ns));
		json_object_set_new(x, "latency_p99_ns", jint(p->p99_ns));
		json_object_set_new(x, "alloc_p50_ns", jint(p->alloc_p50_ns));
		json_object_set_new(x, "alloc_p99_ns", jint(p->alloc_p99_ns));
		json_array_append_new(reps, x);
	}
	json_object_set_new(o, "repetitions", reps);
	json_t *tp = json_object();
	json_object_set_new(tp, "median_ops_per_sec", jreal(r->median_ops_per_s));
	json_object_set_new(tp, "min_ops_per_sec", jreal(r->min_ops_per_s));
	json_object_set_new(tp, "max_ops_per_sec", jreal(r->max_ops_per_s));
	json_object_set_new(tp, "median_modelled_ops_per_sec",
			    r->median_modelled_ops_per_s > 0 ? jreal(r->median_modelled_ops_per_s) : json_null());
	json_object_set_new(o, "throughput", tp);
	json_t *lat = json_object();
	for (unsigned k = 0; k < IB_KINDS; k++) {
		if (!r->lat_sum[k].count)
			continue;
		const char *kind = wl_op_kind_name((wl_op_kind)k);
		json_t *h = hist_json(&r->lat_sum[k]);
		char path[400];
		snprintf(path, sizeof path, "hgrm/%s/%s.hgrm", j->slug, kind);
		json_object_set_new(h, "hgrm", jstr(path));
		json_t *th = json_array();
		for (unsigned t = 0; t < r->nthreads && r->thread_sum; t++)
			json_array_append_new(th, hist_json(&r->thread_sum[t * IB_KINDS + k]));
		json_object_set_new(h, "threads", th);
		json_object_set_new(lat, kind, h);
	}
	if (r->all_sum.count) {
		json_t *h = hist_json(&r->all_sum);
		char path[400];
		snprintf(path, sizeof path, "hgrm/%s/all.hgrm", j->slug);
		json_object_set_new(h, "hgrm", jstr(path));
		json_object_set_new(lat, "all", h);
	}
	json_object_set_new(o, "latency_ns", lat);
	json_t *ops = json_object();
	for (unsigned k = 0; k < IB_KINDS; k++) {
		if (!r->count[k] && !r->skipped[k])
			continue;
		json_t *x = json_object();
		json_object_set_new(x, "count", jint(r->count[k]));
		json_object_set_new(x, "ok", jint(r->status[k][IOVA_OK]));
		json_object_set_new(x, "skipped", jint(r->skipped[k]));
		json_t *st = json_object();
		for (unsigned s = 1; s < IOVA_STATUS_COUNT; s++)
			if (r->status[k][s])
				json_object_set_new(st, iova_status_name((iova_status)s), jint(r->status[k][s]));
		json_object_set_new(x, "errors", st);
		json_object_set_new(ops, wl_op_kind_name((wl_op_kind)k), x);
	}
	json_object_set_new(o, "operations", ops);
	json_t *fl = json_object();
	json_object_set_new(fl, "requests", jint(r->requests));
	json_object_set_new(fl, "failed", jint(r->failed));
	json_object_set_new(fl, "failed_rate", r->requests ? jreal((double)r->failed / (double)r->requests) : json_null());
	json_object_set_new(fl, "unsupported", jint(r->unsupported));
	if (r->unsupported) {
		char why[512];
		int n = snprintf(why, sizeof why, "%s:", iova_status_message(IOVA_ERR_UNSUPPORTED));
		for (unsigned k = 0; k < IB_KINDS && n > 0 && (size_t)n < sizeof why; k++)
			if (r->status[k][IOVA_ERR_UNSUPPORTED])
				n += snprintf(why + n, sizeof why - (size_t)n, " %s %llu,", wl_op_kind_name((wl_op_kind)k),
					      (unsigned long long)r->status[k][IOVA_ERR_UNSUPPORTED]);
		if (n > 0 && (size_t)n < sizeof why && why[n - 1] == ',')
			why[n - 1] = '\0';
		json_object_set_new(fl, "unsupported_reason", jstr(why));
	}
	json_t *bs = json_array();
	for (unsigned c = 0; c < 64; c++)
		if (r->req_by_size[c]) {
			json_t *x = json_object();
			json_object_set_new(x, "min_bytes", jint(UINT64_C(1) << c));
			json_object_set_new(x, "requests", jint(r->req_by_size[c]));
			json_object_set_new(x, "failed", jint(r->failed_by_size[c]));
			json_array_append_new(bs, x);
		}
	json_object_set_new(fl, "by_size", bs);
	json_object_set_new(o, "failures", fl);
	json_t *fr = json_object();
	json_t *ord = json_array(), *ordb = json_array();
	for (unsigned i = 0; i < j->norders; i++) {
		json_array_append_new(ord, jint(j->orders[i]));
		json_array_append_new(ordb, jint(j->granule << j->orders[i]));
	}
	json_object_set_new(fr, "orders", ord);
	json_object_set_new(fr, "order_bytes", ordb);
	json_object_set_new(fr, "end", r->end_valid ? frag_json(&r->end, j) : json_null());
	json_object_set_new(fr, "worst", r->worst_valid ? frag_json(&r->worst, j) : json_null());
	json_object_set_new(o, "fragmentation", fr);
	json_object_set_new(o, "iommu", iommu_json(&r->iommu));
	json_t *sc = json_object();
	for (unsigned i = 0; i < r->ncounters; i++) {
		const iova_counter *c = &r->counters[i];
		json_t *x = json_object();
		json_object_set_new(x, "kind", jstr(iova_counter_kind_name(c->kind)));
		json_object_set_new(x, "value", jint(c->value));
		if (c->kind == IOVA_COUNTER_TOTAL) {
			const double per = (double)c->value / (double)r->requests;
			json_object_set_new(x, "per_request", r->requests ? jreal(per) : json_null());
		}
		json_object_set_new(sc, c->name, x);
	}
	json_object_set_new(o, "strategy_counters", sc);
	char ts[400];
	snprintf(ts, sizeof ts, "timeseries/%s.csv", j->slug);
	json_object_set_new(o, "timeseries", r->state == JOB_PENDING ? json_null() : jstr(ts));
	return o;
}

static json_t *machine_json(void)
{
	json_t *o = json_object();
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	json_object_set_new(o, "hostname", jstr(host));
	struct utsname u;
	if (uname(&u) == 0) {
		char os[600];
		snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
		json_object_set_new(o, "os", jstr(os));
	}
	json_object_set_new(o, "cpus_online", jint((uint64_t)sysconf(_SC_NPROCESSORS_ONLN)));
	const ib_topo *t = ib_topo_get();
	json_t *tp = json_object();
	json_object_set_new(tp, "model", jstr(t->model));
	json_object_set_new(tp, "arch", jstr(t->arch));
	json_object_set_new(tp, "packages", jint(t->packages));
	json_object_set_new(tp, "numa_nodes", jint(t->numa_nodes));
	json_object_set_new(tp, "cores", jint(t->cores));
	json_object_set_new(tp, "pus", jint(t->pus));
	json_object_set_new(tp, "l1d_bytes", jint(t->l1d));
	json_object_set_new(tp, "l2_bytes", jint(t->l2));
	json_object_set_new(tp, "l3_bytes", jint(t->l3));
	json_t *pin = json_array();
	for (unsigned i = 0; i < t->npin; i++)
		json_array_append_new(pin, jint(t->pin_order[i]));
	json_object_set_new(tp, "pin_order", pin);
	json_object_set_new(tp, "summary", jstr(t->text));
	json_object_set_new(o, "topology", tp);
	return o;
}

bool ib_summary_write(const ib_run *run, ib_error *e)
{
	const ib_plan *plan = run->plan;
	const ib_buildinfo *b = ib_buildinfo_get();
	json_t *root = json_object();
	json_object_set_new(root, "schema", jstr("iovabench/summary"));
	json_object_set_new(root, "schema_version", jint(SCHEMA_VERSION));
	json_object_set_new(root, "state", jstr(run->state));
	json_t *tool = json_object();
	json_object_set_new(tool, "name", jstr("iovabench"));
	json_object_set_new(tool, "version", jstr(b->version));
	json_object_set_new(tool, "git_revision", jstr(b->revision));
	json_object_set_new(tool, "git_dirty", json_boolean(b->dirty));
	json_object_set_new(root, "tool", tool);
	json_t *build = json_object();
	json_object_set_new(build, "compiler", jstr(b->compiler));
	json_object_set_new(build, "c_flags", jstr(b->c_flags));
	json_object_set_new(build, "build_type", jstr(b->build_type));
	json_object_set_new(build, "sanitizer", jstr(b->sanitize));
	json_object_set_new(root, "build", build);
	json_t *rn = json_object();
	json_object_set_new(rn, "name", jstr(run->name));
	json_object_set_new(rn, "started", jstr(run->started));
	json_object_set_new(rn, "finished", run->finished[0] ? jstr(run->finished) : json_null());
	json_object_set_new(rn, "wall_seconds", jreal(run->wall_s));
	json_t *argv = json_array();
	for (int i = 0; i < run->argc; i++)
		json_array_append_new(argv, jstr(run->argv[i]));
	json_object_set_new(rn, "command_line", argv);
	json_object_set_new(rn, "job_file", plan->jobfile ? jstr(plan->jobfile->path) : json_null());
	json_t *ro = json_object();
	for (size_t i = 0; i < ib_option_count(); i++) {
		const ib_option *opt = ib_option_at(i);
		if (opt->flags & OPT_RUN)
			json_object_set_new(ro, opt->name, jstr(ib_optset_get(&plan->run, opt->name)));
	}
	json_object_set_new(rn, "options", ro);
	json_object_set_new(rn, "plots", run->plots_note[0] ? jstr(run->plots_note) : json_null());
	json_object_set_new(root, "run", rn);
	json_object_set_new(root, "machine", machine_json());
	const ib_clock *c = ib_clock_get();
	json_t *ck = json_object();
	json_object_set_new(ck, "source", jstr(c->source));
	json_object_set_new(ck, "ticks_per_ns", jreal(c->ticks_per_ns));
	json_object_set_new(ck, "read_cost_ns", jreal(c->read_cost_ns));
	json_object_set_new(ck, "read_cost_subtracted", json_true());
	json_object_set_new(root, "clock", ck);
	json_t *notes = json_array();
	for (size_t i = 0; i < plan->nnotices; i++)
		json_array_append_new(notes, jstr(plan->notices[i]));
	json_object_set_new(root, "notices", notes);
	json_t *sk = json_array();
	for (size_t i = 0; i < plan->nskipped; i++)
		json_array_append_new(sk, jstr(plan->skipped_strategies[i]));
	json_object_set_new(root, "skipped_strategies", sk);
	json_object_set_new(root, "oracle_violations", jint(run->oracle_violations));
	json_t *jobs = json_array();
	for (size_t i = 0; i < plan->njobs; i++)
		json_array_append_new(jobs, job_json(run, i));
	json_object_set_new(root, "jobs", jobs);
	char path[4200];
	snprintf(path, sizeof path, "%s/summary.json", run->dir);
	ib_afile a;
	bool ok = ib_afile_open(&a, path, e);
	if (ok) {
		if (json_dumpf(root, a.f, JSON_INDENT(1) | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER) != 0) {
			ib_afile_abort(&a);
			ib_fail(e, "%s: cannot write the JSON", path);
			ok = false;
		} else {
			fputc('\n', a.f);
			fflush(a.f);
			fsync(fileno(a.f)); /* the one file a run must not lose */
			ok = ib_afile_commit(&a, e);
		}
	}
	json_decref(root);
	return ok;
}
