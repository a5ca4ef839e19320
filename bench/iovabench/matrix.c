/* SPDX-License-Identifier: MIT */
/*
 * matrix.c - from options to jobs. Per section, values are merged (defaults
 * < [global] < the section < the command line), then every list option
 * expands: one job per combination, in a fixed order (workload outermost,
 * then invalidation, queue size and timeout, domain size, placement, clock,
 * strategy, threads innermost), so a table reads by workload and policy.
 *
 * Everything is checked here, before anything runs or is written: values,
 * strategies (by creating a domain with each configuration), workloads
 * (generated, loaded or imported now), and a job's id is made stable across
 * runs (compare matches jobs by id).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

/* The matrix dimensions, outermost first. */
static const char *const dims[] = {"workload", "invalidation", "fq_entries", "fq_timeout", "domain_size",
				   "placement", "clock", "strategy", "threads"};
#define NDIMS (sizeof dims / sizeof dims[0])

void ib_plan_notice(ib_plan *plan, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < plan->nnotices; i++)
		if (strcmp(plan->notices[i], buf) == 0)
			return;
	plan->notices = ib_realloc(plan->notices, plan->nnotices + 1, sizeof *plan->notices);
	plan->notices[plan->nnotices++] = ib_strdup(buf);
}

static uint64_t get_size(const ib_optset *s, const char *name)
{
	uint64_t v = 0;
	ib_parse_size(ib_optset_get(s, name), &v);
	return v;
}

static uint64_t get_ns(const ib_optset *s, const char *name)
{
	uint64_t v = 0;
	ib_parse_duration(ib_optset_get(s, name), &v);
	return v;
}

static bool get_bool(const ib_optset *s, const char *name)
{
	bool b = false;
	ib_parse_bool(ib_optset_get(s, name), &b);
	return b;
}

/* "where" for an option of a merged set, or the section when it was a default. */
static const char *where_of(const ib_optset *s, const char *name, const char *fallback)
{
	const char *w = ib_optset_where(s, name);
	return *w ? w : fallback;
}

/* Base name and whether the +cache suffix is there. */
static bool strategy_base(const char *name, char *base, size_t n)
{
	size_t len = strlen(name);
	bool cache = len > 6 && strcmp(name + len - 6, "+cache") == 0;
	snprintf(base, n, "%.*s", (int)(cache ? len - 6 : len), name);
	return cache;
}

static bool strategy_registered(const char *base)
{
	for (size_t i = 0; i < iova_strategy_count(); i++)
		if (strcmp(iova_strategy_name(i), base) == 0)
			return true;
	return false;
}

static bool strategy_creates(const char *name)
{
	iova_domain_config cfg = {.size = 1 << 20, .strategy = name};
	iova_domain *d;
	if (iova_domain_create(&cfg, &d) != IOVA_OK)
		return false;
	iova_domain_destroy(d);
	return true;
}

/* "buddy-lf, buddy-lf+cache, ...": what this build can run. */
static void available_strategies(char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < iova_strategy_count(); i++) {
		const char *s = iova_strategy_name(i);
		char cached[160];
		snprintf(cached, sizeof cached, "%s+cache", s);
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s%s%s", l ? ", " : "", s, strategy_creates(cached) ? ", " : "",
			 strategy_creates(cached) ? cached : "");
	}
}

void ib_job_domain_config(const ib_job *j, iova_domain_config *cfg, iova_iommu_config *mmu)
{
	memset(mmu, 0, sizeof *mmu);
	mmu->policy = j->policy;
	mmu->clock = j->clock;
	mmu->fq_entries = j->fq_entries;
	mmu->fq_timeout_us = j->fq_timeout_us;
	memset(cfg, 0, sizeof *cfg);
	cfg->base = j->domain_base;
	cfg->size = j->domain_size;
	cfg->granule = j->granule;
	cfg->strategy = j->strategy;
	cfg->options = j->strategy_options[0] ? j->strategy_options : NULL;
	cfg->iommu = mmu;
}

/* Checks that @j's domain can be created; an unknown strategy sets *@unavailable. */
static bool check_domain(const ib_job *j, bool *unavailable, ib_error *e)
{
	*unavailable = false;
	const char *ws = where_of(&j->opts, "strategy", j->section);
	char base[128];
	bool cache = strategy_base(j->strategy, base, sizeof base);
	if (!strategy_registered(base) || (cache && !strategy_creates(j->strategy))) {
		char avail[1024];
		available_strategies(avail, sizeof avail);
		*unavailable = true;
		if (!strategy_registered(base))
			ib_fail_at(e, ws, "strategy '%s' is not in this build (available: %s; iovabench list strategies)",
				   j->strategy, avail);
		else
			ib_fail_at(e, ws, "strategy '%s': the +cache front is not in this build (available: %s)", j->strategy,
				   avail);
		return false;
	}
	uint64_t g = j->granule;
	if (j->domain_size % g || j->domain_base % g) {
		ib_fail_at(e, where_of(&j->opts, j->domain_size % g ? "domain_size" : "domain_base", j->section),
			   "domain_size and domain_base must be multiples of the granule (%" PRIu64 ")", g);
		return false;
	}
	if (j->domain_size > (UINT64_C(1) << 50) || j->domain_size / g > (UINT64_C(1) << IOVA_MAX_GRANULES_LOG2)) {
		ib_fail_at(e, where_of(&j->opts, "domain_size", j->section),
			   "domain_size: at most 1P (2^50 bytes) and 2^38 granules");
		return false;
	}
	/* 4-level page table of 512 entries: addresses below 2^(granule bits + 36). */
	unsigned gbits = (unsigned)__builtin_ctzll(g);
	uint64_t limit = gbits + 36 >= 64 ? UINT64_MAX : UINT64_C(1) << (gbits + 36);
	if (j->domain_base + j->domain_size < j->domain_base || j->domain_base + j->domain_size > limit) {
		ib_fail_at(e, where_of(&j->opts, "domain_size", j->section),
			   "domain_base + domain_size must stay below 2^%u (what the simulated 4-level I/O page table maps)",
			   gbits + 36);
		return false;
	}
	iova_domain_config cfg;
	iova_iommu_config mmu;
	ib_job_domain_config(j, &cfg, &mmu);
	cfg.iommu = NULL;
	iova_domain *d;
	iova_status s = iova_domain_create(&cfg, &d);
	if (s != IOVA_OK) {
		if (j->strategy_options[0])
			ib_fail_at(e, where_of(&j->opts, "strategy_options", j->section),
				   "strategy '%s' refused strategy_options '%s' (%s)", j->strategy, j->strategy_options,
				   iova_status_name(s));
		else
			ib_fail_at(e, where_of(&j->opts, "domain_size", j->section), "cannot create a domain for %s: %s",
				   j->id, iova_status_message(s));
		return false;
	}
	iova_domain_destroy(d);
	ib_job_domain_config(j, &cfg, &mmu);
	s = iova_domain_create(&cfg, &d);
	if (s != IOVA_OK) {
		ib_fail_at(e, where_of(&j->opts, "invalidation", j->section), "the IOMMU configuration of %s was refused: %s",
			   j->id, iova_status_message(s));
		return false;
	}
	iova_domain_destroy(d);
	return true;
}

/* Fills the typed fields of @j from its (single-valued) options. */
static bool resolve(ib_job *j, ib_error *e)
{
	const ib_optset *o = &j->opts;
	snprintf(j->strategy, sizeof j->strategy, "%s", ib_optset_get(o, "strategy"));
	snprintf(j->strategy_options, sizeof j->strategy_options, "%s", ib_optset_get(o, "strategy_options"));
	snprintf(j->workload, sizeof j->workload, "%s", ib_optset_get(o, "workload"));
	snprintf(j->policy_name, sizeof j->policy_name, "%s", ib_optset_get(o, "invalidation"));
	ib_policy_from_name(j->policy_name, &j->policy);
	j->clock = strcmp(ib_optset_get(o, "clock"), "modelled") == 0 ? IOVA_CLOCK_MODELLED : IOVA_CLOCK_SPIN;
	j->placement = strcmp(ib_optset_get(o, "placement"), "top-down") == 0 ? IOVA_PLACE_TOP_DOWN : IOVA_PLACE_BOTTOM_UP;
	const char *t = ib_optset_get(o, "threads");
	if (strcmp(t, "all") == 0) {
		j->threads = ib_topo_get()->cores;
		if (j->threads > 64)
			j->threads = 64;
	} else {
		uint64_t v;
		ib_parse_size(t, &v);
		j->threads = (unsigned)v;
	}
	j->fq_entries = (uint32_t)get_size(o, "fq_entries");
	j->fq_timeout_us = (get_ns(o, "fq_timeout") + 999) / 1000;
	j->domain_base = get_size(o, "domain_base");
	j->domain_size = get_size(o, "domain_size");
	j->granule = get_size(o, "granule");
	j->repetitions = (unsigned)get_size(o, "repetitions");
	j->warmup = (unsigned)get_size(o, "warmup");
	j->loops = get_size(o, "loops");
	j->ops = get_size(o, "ops");
	j->runtime_ns = get_ns(o, "runtime");
	j->time_based = get_bool(o, "time_based");
	j->interval_ns = get_ns(o, "interval");
	j->seed = get_size(o, "seed");
	j->prefix = get_size(o, "prefix");
	j->pin = get_bool(o, "pin");
	const char *r = ib_optset_get(o, "replicate");
	j->replicate = strcmp(r, "threads") == 0 ? j->threads : (unsigned)get_size(o, "replicate");
	char **items;
	int n = ib_split_list(ib_optset_get(o, "orders"), &items);
	j->norders = 0;
	for (int i = 0; i < n && i < IB_MAX_ORDERS; i++) {
		uint64_t v;
		ib_parse_size(items[i], &v);
		j->orders[j->norders++] = (unsigned)v;
	}
	ib_free_list(items, n);
	if (j->time_based && !j->runtime_ns) {
		ib_fail_at(e, where_of(o, "time_based", j->section), "time_based needs a runtime (e.g. runtime=10s)");
		return false;
	}
	if (j->loops == 0 && j->ops == 0 && !j->time_based) {
		ib_fail_at(e, where_of(o, "loops", j->section), "loops=0 with no ops and no time_based: nothing would run");
		return false;
	}
	return true;
}

static void make_id(ib_job *j)
{
	int n = snprintf(j->id, sizeof j->id, "%s:%s/%s/%s/t%u", j->section, j->wl_label, j->policy_name, j->strategy,
			 j->threads);
	/* Other dimensions appear when they differ from their defaults, so an
	 * id does not change when a list grows. */
	for (size_t d = 0; d < NDIMS; d++) {
		const char *name = dims[d];
		if (!strcmp(name, "workload") || !strcmp(name, "invalidation") || !strcmp(name, "strategy") ||
		    !strcmp(name, "threads"))
			continue;
		const char *v = ib_optset_get(&j->opts, name);
		const ib_option *opt = ib_option_at((size_t)ib_option_find(name));
		if (strcmp(v, opt->def) != 0 && n > 0 && (size_t)n < sizeof j->id)
			n += snprintf(j->id + n, sizeof j->id - (size_t)n, "/%s=%s", name, v);
	}
}

static bool in_filter(const char *filter, const char *name)
{
	if (!filter)
		return true;
	char **items;
	int n = ib_split_list(filter, &items);
	bool found = false;
	for (int i = 0; i < n && !found; i++)
		found = strcmp(items[i], name) == 0;
	ib_free_list(items, n);
	return found;
}

/* Expands one section into plan->jobs. */
static bool expand(ib_plan *plan, const char *section, const ib_optset *merged, bool skip_unavailable, ib_error *e)
{
	char **vals[NDIMS];
	int nv[NDIMS];
	int idx[NDIMS];
	size_t first = plan->njobs;
	for (size_t d = 0; d < NDIMS; d++) {
		nv[d] = ib_split_list(ib_optset_get(merged, dims[d]), &vals[d]);
		idx[d] = 0;
		if (nv[d] <= 0) { /* checked before; only an empty default could get here */
			for (size_t k = 0; k < d; k++)
				ib_free_list(vals[k], nv[k]);
			ib_fail_at(e, where_of(merged, dims[d], section), "option '%s' has no value", dims[d]);
			return false;
		}
	}
	bool ok = true;
	for (;;) {
		ib_job j;
		memset(&j, 0, sizeof j);
		snprintf(j.section, sizeof j.section, "%s", section);
		ib_optset_merge(&j.opts, merged);
		for (size_t d = 0; d < NDIMS; d++) {
			int oi = ib_option_find(dims[d]);
			const char *w = merged->where[oi] ? merged->where[oi] : "";
			ib_optset_set(&j.opts, (size_t)oi, vals[d][idx[d]], w);
		}
		if (!resolve(&j, e)) {
			ib_optset_free(&j.opts);
			ok = false;
			break;
		}
		/* Queue options mean nothing to strict and none: such jobs run once. */
		if (j.policy == IOVA_INVAL_STRICT || j.policy == IOVA_INVAL_NONE) {
			for (int q = 0; q < 2; q++) {
				int oi = ib_option_find(q ? "fq_timeout" : "fq_entries");
				ib_optset_set(&j.opts, (size_t)oi, "0", j.opts.where[oi] ? j.opts.where[oi] : "");
			}
			j.fq_entries = 0;
			j.fq_timeout_us = 0;
		}
		snprintf(j.id, sizeof j.id, "%s:%.200s/%s/%s/t%u", section, j.workload, j.policy_name, j.strategy, j.threads);
		bool unavailable;
		if (!check_domain(&j, &unavailable, e)) {
			if (!(unavailable && skip_unavailable)) {
				ib_optset_free(&j.opts);
				ok = false;
				break;
			}
			bool seen = false;
			for (size_t k = 0; k < plan->nskipped; k++)
				seen |= strcmp(plan->skipped_strategies[k], j.strategy) == 0;
			if (!seen) {
				plan->skipped_strategies =
					ib_realloc(plan->skipped_strategies, plan->nskipped + 1, sizeof *plan->skipped_strategies);
				plan->skipped_strategies[plan->nskipped++] = ib_strdup(j.strategy);
			}
			ib_optset_free(&j.opts);
		} else {
			plan->jobs = ib_realloc(plan->jobs, plan->njobs + 1, sizeof *plan->jobs);
			plan->jobs[plan->njobs++] = j;
		}
		/* next combination (threads fastest) */
		int d = (int)NDIMS - 1;
		while (d >= 0 && ++idx[d] == nv[d])
			idx[d--] = 0;
		if (d < 0)
			break;
	}
	for (size_t d = 0; d < NDIMS; d++)
		ib_free_list(vals[d], nv[d]);
	if (!ok)
		return false;
	/* Workloads: built now, shared between jobs. */
	for (size_t k = first; k < plan->njobs; k++) {
		ib_job *j = &plan->jobs[k];
		const char *fb = ib_optset_get(&j->opts, "fallback_workload");
		ib_error we;
		j->wl = ib_workload_get(plan, j->workload, fb, j->replicate, j->prefix, j->seed, j->threads, &we);
		if (!j->wl) {
			ib_fail_at(e, where_of(&j->opts, "workload", section), "%s", we.msg);
			return false;
		}
		snprintf(j->wl_label, sizeof j->wl_label, "%s", j->wl->label);
		if (j->threads > j->wl->streams)
			ib_plan_notice(plan,
				       "[%s] workload %s has %" PRIu64 " stream(s): with threads=%u, %" PRIu64
				       " worker(s) have nothing to do (replicate=threads, or a generator parameter such as "
				       "cpus=$threads, gives each thread work)",
				       section, j->wl->label, j->wl->streams, j->threads, j->threads - j->wl->streams);
		if (j->wl->peak_live_bytes > j->domain_size)
			ib_plan_notice(plan,
				       "[%s] workload %s asks for up to %" PRIu64 " bytes at once, more than domain_size=%s: "
				       "some allocations must fail",
				       section, j->wl->label, j->wl->peak_live_bytes, ib_optset_get(&j->opts, "domain_size"));
	}
	/* Two workloads with one label in a section: name them by their specs. */
	for (size_t a = first; a < plan->njobs; a++)
		for (size_t b = a + 1; b < plan->njobs; b++)
			if (!strcmp(plan->jobs[a].wl_label, plan->jobs[b].wl->label) && plan->jobs[a].wl != plan->jobs[b].wl &&
			    strcmp(plan->jobs[a].workload, plan->jobs[b].workload) != 0)
				for (size_t k = first; k < plan->njobs; k++)
					if (!strcmp(plan->jobs[k].wl->label, plan->jobs[a].wl->label))
						snprintf(plan->jobs[k].wl_label, sizeof plan->jobs[k].wl_label, "%.250s",
							 plan->jobs[k].wl->spec);
	return true;
}

bool ib_plan_build(const ib_jobfile *jf, const ib_cli *cli, const char *default_name, ib_plan *plan, ib_error *e)
{
	memset(plan, 0, sizeof *plan);
	plan->jobfile = jf;
	/* Run options: [global], then the command line. */
	if (jf)
		ib_optset_merge(&plan->run, &jf->global);
	ib_optset_merge(&plan->run, &cli->opts);
	if (!*ib_optset_get(&plan->run, "name"))
		ib_optset_set(&plan->run, (size_t)ib_option_find("name"), default_name, "");
	bool skip = strcmp(ib_optset_get(&plan->run, "unavailable"), "skip") == 0;
	/* Job options of [global] and of the command line. */
	ib_optset global = {0}, cmd = {0};
	for (size_t i = 0; i < ib_option_count(); i++) {
		if (ib_option_at(i)->flags & OPT_RUN)
			continue;
		if (jf && jf->global.value[i])
			ib_optset_set(&global, i, jf->global.value[i], jf->global.where[i]);
		if (cli->opts.value[i])
			ib_optset_set(&cmd, i, cli->opts.value[i], cli->opts.where[i]);
	}
	bool ok = true;
	size_t nsec = jf && jf->nsections ? jf->nsections : 1;
	size_t selected = 0;
	for (size_t s = 0; s < nsec && ok; s++) {
		const char *name = jf && jf->nsections ? jf->sections[s].name : default_name;
		if (!in_filter(cli->job_filter, name))
			continue;
		selected++;
		ib_optset merged = {0};
		ib_optset_merge(&merged, &global);
		if (jf && jf->nsections)
			ib_optset_merge(&merged, &jf->sections[s].opts);
		ib_optset_merge(&merged, &cmd);
		ok = expand(plan, name, &merged, skip, e);
		ib_optset_free(&merged);
	}
	ib_optset_free(&global);
	ib_optset_free(&cmd);
	if (ok && cli->job_filter) {
		char **items;
		int n = ib_split_list(cli->job_filter, &items);
		for (int i = 0; i < n && ok; i++) {
			bool found = false;
			for (size_t s = 0; s < nsec; s++)
				found |= strcmp(items[i], jf && jf->nsections ? jf->sections[s].name : default_name) == 0;
			if (!found) {
				char list[1024] = "";
				for (size_t s = 0; s < nsec; s++) {
					strncat(list, s ? ", " : "", sizeof list - strlen(list) - 1);
					strncat(list, jf && jf->nsections ? jf->sections[s].name : default_name,
						sizeof list - strlen(list) - 1);
				}
				ib_fail(e, "--job: no job section named '%s' (sections: %s)", items[i], list);
				ok = false;
			}
		}
		ib_free_list(items, n);
	}
	if (ok && plan->nskipped) {
		char list[1024] = "", avail[1024];
		for (size_t k = 0; k < plan->nskipped; k++) {
			strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, plan->skipped_strategies[k], sizeof list - strlen(list) - 1);
		}
		available_strategies(avail, sizeof avail);
		ib_plan_notice(plan,
			       "strategies not in this build, skipped (unavailable=skip): %s; this build has: %s. They run "
			       "once they are merged.",
			       list, avail);
	}
	if (ok && plan->njobs == 0) {
		ib_fail(e, selected ? "no job left to run: every strategy asked for is unavailable in this build"
				    : "no job selected");
		ok = false;
	}
	/* Ids (deduplicated: threads=1,all on one core gives the same job twice). */
	for (size_t k = 0; ok && k < plan->njobs; k++)
		make_id(&plan->jobs[k]);
	size_t w = 0;
	for (size_t k = 0; ok && k < plan->njobs; k++) {
		bool dup = false;
		for (size_t m = 0; m < w && !dup; m++)
			dup = strcmp(plan->jobs[m].id, plan->jobs[k].id) == 0;
		if (dup) {
			ib_optset_free(&plan->jobs[k].opts);
			continue;
		}
		plan->jobs[w++] = plan->jobs[k];
	}
	if (ok)
		plan->njobs = w;
	for (size_t k = 0; ok && k < plan->njobs; k++) {
		ib_job *j = &plan->jobs[k];
		j->index = (unsigned)k + 1;
		char s[sizeof j->id];
		ib_slug(j->id, s, sizeof s);
		snprintf(j->slug, sizeof j->slug, "%03u-%.140s", j->index, s);
	}
	if (!ok)
		ib_plan_free(plan);
	return ok;
}

void ib_plan_free(ib_plan *plan)
{
	for (size_t k = 0; k < plan->njobs; k++)
		ib_optset_free(&plan->jobs[k].opts);
	free(plan->jobs);
	for (size_t i = 0; i < plan->nworkloads; i++)
		ib_workload_free(plan->workloads[i]);
	free(plan->workloads);
	ib_optset_free(&plan->run);
	for (size_t i = 0; i < plan->nnotices; i++)
		free(plan->notices[i]);
	free(plan->notices);
	for (size_t i = 0; i < plan->nskipped; i++)
		free(plan->skipped_strategies[i]);
	free(plan->skipped_strategies);
	memset(plan, 0, sizeof *plan);
}
