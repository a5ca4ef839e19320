/* SPDX-License-Identifier: MIT */
/*
 * plot.c - a run's plots, from its files alone (summary.json, .hgrm, CSV),
 * so `iovabench plot DIR` redraws any run. Under DIR/plots/:
 *
 *   lib/ *.gp       the generic scripts of the project's plots/ folder
 *   data/ *.dat     data the scripts need that the run's files do not hold
 *   <figure>.gp     one small script per figure: its variables, then
 *                   `load "lib/<kind>.gp"`; edit and re-run it with
 *                   `cd DIR/plots && gnuplot <figure>.gp`
 *   all.gp          loads every figure's script
 *   <figure>.png/.svg
 *
 * Figures (each only when its data is there):
 *   latency-cdf-*         per workload/policy/threads: CDF per strategy, alloc and free panels
 *                         (map and unmap for workloads that allocate by mapping)
 *   percentiles-*         the same as HdrHistogram percentile spectra
 *   throughput-threads-*  per workload/policy: throughput against threads (two or more thread counts)
 *   fragmentation-*       per workload/policy, fewest threads: largest free extent and unusable
 *                         index over time (first repetition)
 *   tradeoff-*            per workload/threads: throughput against vulnerability-window p99,
 *                         one point per policy and queue size (two or more points)
 *   failure-occupancy-*   fragmenter workloads: refused requests against occupancy (two or more)
 * Every strategy keeps one colour in every figure (ib_strategy_colour()).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iovabench.h"

const char *ib_strategy_colour(const char *s)
{
	static const struct {
		const char *name, *colour;
	} fixed[] = {
		{"buddy-lf", "#1f77b4"},     {"buddy-lf+cache", "#17becf"}, {"buddy-locked", "#9467bd"},
		{"linux-rbtree", "#d62728"}, {"linux-rbtree+cache", "#ff7f0e"}, {"bitmap", "#2ca02c"},
		{"jemalloc", "#8c564b"},     {"windows", "#e377c2"},
	};
	static const char *const spare[] = {"#7f7f7f", "#bcbd22", "#393b79", "#637939",
					    "#8c6d31", "#843c39", "#7b4173", "#3182bd"};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (strcmp(fixed[i].name, s) == 0)
			return fixed[i].colour;
	uint32_t h = 2166136261u; /* FNV-1a: the same name, the same colour, in every run */
	for (const char *p = s; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return spare[h % (sizeof spare / sizeof spare[0])];
}

bool ib_gnuplot_found(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

typedef struct pjob {
	const char *id, *slug, *section, *strategy, *workload, *inval, *clock, *placement, *dsize, *fqt;
	unsigned threads;
	uint64_t fq_entries, fq_actual;
	double median, min, max;
	double window_p99_us; /* < 0: none */
	double failed_rate;   /* < 0: none */
	double large_failed_rate; /* of the largest request size class; < 0: none */
	uint64_t large_bytes;
	double occupancy;
	bool hgrm[IB_KINDS];
	unsigned unusable_col, order;
	uint64_t order_bytes;
	bool usable;
} pjob;

typedef struct plotter {
	const char *dir;
	char pdir[4200];
	pjob *jobs;
	size_t n;
	FILE *all;
	unsigned figures;
	char **outputs;
	size_t noutputs;
	ib_afile *open;             /* files being written */
	size_t nopen;
	ib_error *e;
	bool ok;
} plotter;

static const char *jstr_or(json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : def;
}

static double jnum(json_t *o, const char *key, double def)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

static void load_jobs(plotter *p, json_t *root)
{
	json_t *jobs = json_object_get(root, "jobs");
	size_t n = json_array_size(jobs);
	p->jobs = ib_calloc(n, sizeof *p->jobs);
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_array_get(jobs, i);
		pjob *q = &p->jobs[p->n];
		json_t *reps = json_object_get(j, "repetitions");
		if (!json_array_size(reps))
			continue; /* never ran (interrupted before it) */
		q->usable = true;
		q->id = jstr_or(j, "id", "?");
		q->slug = jstr_or(j, "slug", "?");
		q->section = jstr_or(j, "section", "");
		q->strategy = jstr_or(j, "strategy", "?");
		q->workload = jstr_or(j, "workload", "?");
		q->inval = jstr_or(j, "invalidation", "?");
		q->clock = jstr_or(j, "clock", "");
		q->placement = jstr_or(j, "placement", "");
		json_t *cfg = json_object_get(j, "config");
		q->dsize = jstr_or(cfg, "domain_size", "");
		q->fqt = jstr_or(cfg, "fq_timeout", "0");
		q->threads = (unsigned)jnum(j, "threads", 1);
		q->fq_entries = (uint64_t)jnum(j, "fq_entries", 0);
		json_t *tp = json_object_get(j, "throughput");
		q->median = jnum(tp, "median_ops_per_sec", 0);
		q->min = jnum(tp, "min_ops_per_sec", q->median);
		q->max = jnum(tp, "max_ops_per_sec", q->median);
		json_t *mmu = json_object_get(j, "iommu");
		q->window_p99_us = -1;
		if (json_is_object(mmu)) {
			q->fq_actual = (uint64_t)jnum(mmu, "fq_entries", 0);
			json_t *w = json_object_get(mmu, "vulnerability_window");
			if (jnum(w, "count", 0) > 0)
				q->window_p99_us = jnum(w, "p99_us", -1);
		}
		json_t *fl = json_object_get(j, "failures");
		q->failed_rate = jnum(fl, "failed_rate", -1);
		json_t *bs = json_object_get(fl, "by_size");
		q->large_failed_rate = -1;
		if (json_array_size(bs)) {
			json_t *last = json_array_get(bs, json_array_size(bs) - 1);
			double req = jnum(last, "requests", 0);
			q->large_bytes = (uint64_t)jnum(last, "min_bytes", 0);
			if (req > 0)
				q->large_failed_rate = jnum(last, "failed", 0) / req;
		}
		q->occupancy = jnum(json_object_get(j, "trace"), "occupancy", 0);
		json_t *lat = json_object_get(j, "latency_ns");
		for (unsigned k = 0; k < IB_KINDS; k++)
			q->hgrm[k] = json_is_object(json_object_get(lat, wl_op_kind_name((wl_op_kind)k)));
		/* unusable index column: the first order at or above 9 (2 MiB with 4K), else the last */
		json_t *fr = json_object_get(j, "fragmentation");
		json_t *ord = json_object_get(fr, "orders"), *ob = json_object_get(fr, "order_bytes");
		size_t no = json_array_size(ord), pick = no ? no - 1 : 0;
		for (size_t k = 0; k < no; k++)
			if (json_integer_value(json_array_get(ord, k)) >= 9) {
				pick = k;
				break;
			}
		q->order = no ? (unsigned)json_integer_value(json_array_get(ord, pick)) : 0;
		q->order_bytes = no ? (uint64_t)json_integer_value(json_array_get(ob, pick)) : 0;
		q->unusable_col = no ? 18 + (unsigned)pick : 0;
		p->n++;
	}
}

/* Group keys: what must be equal for two jobs to share a figure. */
static void key(const pjob *q, bool threads, bool inval, bool dsize, char *out, size_t n)
{
	snprintf(out, n, "%s|%s|%s|%u|%llu|%s|%s|%s|%s", q->section, q->workload, inval ? q->inval : "*",
		 threads ? q->threads : 0, inval ? (unsigned long long)q->fq_entries : 0ull, inval ? q->fqt : "*",
		 dsize ? q->dsize : "*", q->clock, q->placement);
}

/* A readable, file-safe name for a group. */
static void group_name(const pjob *q, bool threads, bool inval, bool dsize, char *out, size_t n)
{
	char raw[600];
	int len = strcmp(q->section, q->workload) ? snprintf(raw, sizeof raw, "%s-%s", q->section, q->workload)
						  : snprintf(raw, sizeof raw, "%s", q->section);
	if (inval)
		len += snprintf(raw + len, sizeof raw - (size_t)len, "-%s", q->inval);
	if (inval && q->fq_entries)
		len += snprintf(raw + len, sizeof raw - (size_t)len, "-q%llu", (unsigned long long)q->fq_entries);
	if (inval && strcmp(q->fqt, "0") != 0)
		len += snprintf(raw + len, sizeof raw - (size_t)len, "-timeout%s", q->fqt);
	const ib_option *ds = ib_option_at((size_t)ib_option_find("domain_size"));
	if (dsize && strcmp(q->dsize, ds->def) != 0)
		len += snprintf(raw + len, sizeof raw - (size_t)len, "-%s", q->dsize);
	if (threads)
		snprintf(raw + len, sizeof raw - (size_t)len, "-t%u", q->threads);
	ib_slug(raw, out, n);
}

/* "2 MiB", "512 KiB", "4096 B". */
static void iec(uint64_t v, char *out, size_t n)
{
	char b[24];
	ib_format_bytes(v, b, sizeof b);
	size_t l = strlen(b);
	if (l && b[l - 1] >= 'A' && b[l - 1] <= 'Z')
		snprintf(out, n, "%.*s %ciB", (int)(l - 1), b, b[l - 1]);
	else
		snprintf(out, n, "%.20s B", b);
}

static const char *threads_text(unsigned t) { return t == 1 ? "thread" : "threads"; }

/* Strategies of the jobs in @idx, in order of first appearance. */
static size_t strategies(const plotter *p, const size_t *idx, size_t n, const char **out)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = p->jobs[idx[i]].strategy;
		bool seen = false;
		for (size_t k = 0; k < m && !seen; k++)
			seen = strcmp(out[k], s) == 0;
		if (!seen)
			out[m++] = s;
	}
	return m;
}

/*
 * Every file the plotter writes is an ib_afile: written under a temporary
 * name and renamed into place by plot_close(), so that neither a reader nor
 * an interrupted plot ever sees half a script or half a data file.
 */
static FILE *plot_open(plotter *p, const char *path)
{
	p->open = ib_realloc(p->open, p->nopen + 1, sizeof *p->open);
	if (!ib_afile_open(&p->open[p->nopen], path, p->e)) {
		p->ok = false;
		return NULL;
	}
	return p->open[p->nopen++].f;
}

static void plot_close(plotter *p, FILE *f)
{
	for (size_t i = 0; i < p->nopen; i++)
		if (p->open[i].f == f) {
			if (!ib_afile_commit(&p->open[i], p->e))
				p->ok = false;
			p->open[i] = p->open[--p->nopen];
			return;
		}
}

static FILE *open_script(plotter *p, const char *name, const char *what)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s.gp", p->pdir, name);
	FILE *f = plot_open(p, path);
	if (!f)
		return NULL;
	fprintf(f, "# %s\n# Generated by `iovabench plot`; edit freely, then re-render from this folder:\n"
		   "#   gnuplot %s.gp\n",
		what, name);
	fprintf(p->all, "load \"%s.gp\"\n", name);
	p->outputs = ib_realloc(p->outputs, p->noutputs + 1, sizeof *p->outputs);
	p->outputs[p->noutputs++] = ib_strdup(name);
	p->figures++;
	return f;
}

static void list_var(FILE *f, const char *var, const char *const *items, size_t n)
{
	fprintf(f, "%s = \"", var);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", items[i]);
	fprintf(f, "\"\n");
}

/* Latency CDFs and percentile spectra of one group (jobs differing only by strategy). */
static void latency_figures(plotter *p, const size_t *idx, size_t n)
{
	const pjob *q0 = &p->jobs[idx[0]];
	bool alloc = false, map = false;
	for (size_t i = 0; i < n; i++) {
		alloc |= p->jobs[idx[i]].hgrm[WL_OP_ALLOC] || p->jobs[idx[i]].hgrm[WL_OP_FREE];
		map |= p->jobs[idx[i]].hgrm[WL_OP_MAP] || p->jobs[idx[i]].hgrm[WL_OP_UNMAP];
	}
	if (!alloc && !map)
		return;
	wl_op_kind kinds[2] = {alloc ? WL_OP_ALLOC : WL_OP_MAP, alloc ? WL_OP_FREE : WL_OP_UNMAP};
	char g[400];
	group_name(q0, true, true, true, g, sizeof g);
	for (int fig = 0; fig < 2 && p->ok; fig++) {
		char name[512];
		snprintf(name, sizeof name, "%s-%s", fig ? "percentiles" : "latency-cdf", g);
		FILE *f = open_script(p, name, fig ? "percentile spectrum per strategy" : "latency CDF per strategy");
		if (!f)
			return;
		fprintf(f, "out = \"%s\"\nwidth = 1100\nheight = 480\n", name);
		fprintf(f, "title_text = \"%s latency: %s, %s invalidation, %u %s\"\n", fig ? "Percentile spectrum of" : "CDF of",
			q0->workload, q0->inval, q0->threads, threads_text(q0->threads));
		fprintf(f, "panels = \"%s %s\"\n", wl_op_kind_name(kinds[0]), wl_op_kind_name(kinds[1]));
		for (int k = 0; k < 2; k++) {
			const char *kn = wl_op_kind_name(kinds[k]);
			const char **names = ib_calloc(n, sizeof *names), **cols = ib_calloc(n, sizeof *cols);
			char **files = ib_calloc(n, sizeof *files);
			size_t m = 0;
			for (size_t i = 0; i < n; i++) {
				const pjob *q = &p->jobs[idx[i]];
				if (!q->hgrm[kinds[k]])
					continue;
				names[m] = q->strategy;
				cols[m] = ib_strategy_colour(q->strategy);
				char path[600];
				snprintf(path, sizeof path, "../hgrm/%s/%s.hgrm", q->slug, kn);
				files[m++] = ib_strdup(path);
			}
			char var[64];
			snprintf(var, sizeof var, "names_%s", kn);
			list_var(f, var, names, m);
			snprintf(var, sizeof var, "colours_%s", kn);
			list_var(f, var, cols, m);
			snprintf(var, sizeof var, "files_%s", kn);
			list_var(f, var, (const char *const *)files, m);
			for (size_t i = 0; i < m; i++)
				free(files[i]);
			free(files);
			free(names);
			free(cols);
		}
		fprintf(f, "load \"lib/%s.gp\"\n", fig ? "percentile_spectrum" : "latency_cdf");
		plot_close(p, f);
	}
}

static FILE *open_data(plotter *p, const char *name)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/data/%s.dat", p->pdir, name);
	return plot_open(p, path);
}

/* A figure drawn from one data block per strategy: its name
 * (@prefix-<group>), the group's strategies in order, its open data file. */
typedef struct by_strategy {
	char name[512];
	const char **strats; /* free() when done */
	size_t ns;
	FILE *data;
} by_strategy;

/* by_strategy_open() - start such a figure for the group @idx[0..n) (the
 * flags say which keys its name shows, as for group_name()).
 * Return: false, with nothing to free, when the data file cannot be opened. */
static bool by_strategy_open(plotter *p, const size_t *idx, size_t n, const char *prefix, bool threads, bool inval,
			     bool dsize, by_strategy *sf)
{
	char g[400];
	group_name(&p->jobs[idx[0]], threads, inval, dsize, g, sizeof g);
	snprintf(sf->name, sizeof sf->name, "%s-%s", prefix, g);
	sf->strats = ib_calloc(n, sizeof *sf->strats);
	sf->ns = strategies(p, idx, n, sf->strats);
	sf->data = open_data(p, sf->name);
	if (!sf->data)
		free(sf->strats);
	return sf->data != NULL;
}

/* The unit of a rate axis, from the largest rate drawn. */
static void rate_unit(FILE *f, const plotter *p, const size_t *idx, size_t n)
{
	double max = 0;
	for (size_t i = 0; i < n; i++)
		if (p->jobs[idx[i]].max > max)
			max = p->jobs[idx[i]].max;
	if (max >= 1e6)
		fprintf(f, "yscale = 1e6\nyunit = \"million operations/s\"\n");
	else if (max >= 1e3)
		fprintf(f, "yscale = 1e3\nyunit = \"thousand operations/s\"\n");
	else
		fprintf(f, "yscale = 1\nyunit = \"operations/s\"\n");
}

static void names_and_colours(FILE *f, const char *const *strats, size_t ns)
{
	const char **cols = ib_calloc(ns, sizeof *cols);
	for (size_t i = 0; i < ns; i++)
		cols[i] = ib_strategy_colour(strats[i]);
	list_var(f, "names", strats, ns);
	list_var(f, "colours", cols, ns);
	free(cols);
}

static void throughput_figure(plotter *p, const size_t *idx, size_t n)
{
	unsigned t0 = p->jobs[idx[0]].threads;
	bool several = false;
	for (size_t i = 0; i < n; i++)
		several |= p->jobs[idx[i]].threads != t0;
	if (!several)
		return;
	const pjob *q0 = &p->jobs[idx[0]];
	by_strategy sf;
	if (!by_strategy_open(p, idx, n, "throughput-threads", false, true, true, &sf))
		return;
	const char *name = sf.name, **strats = sf.strats;
	const size_t ns = sf.ns;
	FILE *d = sf.data;
	fprintf(d, "# throughput by threads, one block per strategy: threads median min max (ops/s)\n");
	for (size_t s = 0; s < ns; s++) {
		fprintf(d, "# %s\n", strats[s]);
		for (size_t i = 0; i < n; i++) {
			const pjob *q = &p->jobs[idx[i]];
			if (!strcmp(q->strategy, strats[s]))
				fprintf(d, "%u %.3f %.3f %.3f\n", q->threads, q->median, q->min, q->max);
		}
		fprintf(d, "\n\n");
	}
	plot_close(p, d);
	FILE *f = open_script(p, name, "throughput versus worker threads per strategy");
	if (f) {
		fprintf(f, "out = \"%s\"\nwidth = 900\nheight = 520\ndata = \"data/%s.dat\"\n", name, name);
		fprintf(f, "title_text = \"Throughput by threads: %s, %s invalidation\"\n", q0->workload, q0->inval);
		rate_unit(f, p, idx, n);
		names_and_colours(f, strats, ns);
		fprintf(f, "load \"lib/throughput_threads.gp\"\n");
		plot_close(p, f);
	}
	free(strats);
}

static void fragmentation_figure(plotter *p, const size_t *idx, size_t n)
{
	const pjob *q0 = &p->jobs[idx[0]];
	if (!q0->unusable_col)
		return;
	char g[400], name[512];
	group_name(q0, true, true, true, g, sizeof g);
	snprintf(name, sizeof name, "fragmentation-%s", g);
	FILE *f = open_script(p, name, "fragmentation over time per strategy");
	if (!f)
		return;
	fprintf(f, "out = \"%s\"\nwidth = 1100\nheight = 480\nrep = 1\ncol_t = 2\ncol_largest = 10\ncol_unusable = %u\n",
		name, q0->unusable_col);
	char ob[40];
	iec(q0->order_bytes, ob, sizeof ob);
	fprintf(f, "unusable_label = \"unusable free space index, order %u (%s blocks)\"\n", q0->order, ob);
	fprintf(f, "title_text = \"Fragmentation over time: %s, %s invalidation, %u %s (repetition 1)\"\n", q0->workload,
		q0->inval, q0->threads, threads_text(q0->threads));
	const char **names = ib_calloc(n, sizeof *names);
	char **files = ib_calloc(n, sizeof *files);
	for (size_t i = 0; i < n; i++) {
		names[i] = p->jobs[idx[i]].strategy;
		char path[600];
		snprintf(path, sizeof path, "../timeseries/%s.csv", p->jobs[idx[i]].slug);
		files[i] = ib_strdup(path);
	}
	names_and_colours(f, names, n);
	list_var(f, "files", (const char *const *)files, n);
	fprintf(f, "load \"lib/fragmentation_time.gp\"\n");
	plot_close(p, f);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(names);
}

static void tradeoff_figure(plotter *p, const size_t *idx, size_t n)
{
	/* A trade-off needs at least two settings to trade between: two
	 * policies, or two queue sizes of one, that measured a window. */
	const pjob *first = NULL;
	bool several = false;
	for (size_t i = 0; i < n; i++) {
		const pjob *q = &p->jobs[idx[i]];
		if (q->window_p99_us <= 0)
			continue;
		if (!first)
			first = q;
		else if (strcmp(q->inval, first->inval) || q->fq_entries != first->fq_entries || strcmp(q->fqt, first->fqt))
			several = true;
	}
	if (!several)
		return;
	const pjob *q0 = &p->jobs[idx[0]];
	by_strategy sf;
	if (!by_strategy_open(p, idx, n, "tradeoff", true, false, true, &sf))
		return;
	const char *name = sf.name, **strats = sf.strats;
	const size_t ns = sf.ns;
	FILE *d = sf.data;
	fprintf(d, "# invalidation trade-off, one block per strategy: window_p99_us median_ops_per_s label\n");
	for (size_t s = 0; s < ns; s++) {
		fprintf(d, "# %s\n", strats[s]);
		for (size_t i = 0; i < n; i++) {
			const pjob *q = &p->jobs[idx[i]];
			if (strcmp(q->strategy, strats[s]) || q->window_p99_us <= 0)
				continue;
			char label[128];
			if (!strcmp(q->inval, "strict"))
				snprintf(label, sizeof label, "strict");
			else
				snprintf(label, sizeof label, "%s-q%llu%s%s", q->inval, (unsigned long long)q->fq_actual,
					 strcmp(q->fqt, "0") ? "-" : "", strcmp(q->fqt, "0") ? q->fqt : "");
			fprintf(d, "%.6f %.3f %s\n", q->window_p99_us, q->median, label);
		}
		fprintf(d, "\n\n");
	}
	plot_close(p, d);
	FILE *f = open_script(p, name, "invalidation trade-off: throughput versus vulnerability window");
	if (f) {
		fprintf(f, "out = \"%s\"\nwidth = 1000\nheight = 560\ndata = \"data/%s.dat\"\n", name, name);
		fprintf(f, "title_text = \"Invalidation trade-off: %s, %u %s\"\n", q0->workload, q0->threads,
			threads_text(q0->threads));
		rate_unit(f, p, idx, n);
		names_and_colours(f, strats, ns);
		fprintf(f, "load \"lib/invalidation_tradeoff.gp\"\n");
		plot_close(p, f);
	}
	free(strats);
}

static void occupancy_figure(plotter *p, const size_t *idx, size_t n)
{
	const pjob *q0 = &p->jobs[idx[0]];
	if (strncmp(q0->workload, "fragmenter", 10) != 0)
		return;
	bool several = false;
	for (size_t i = 0; i < n; i++)
		several |= p->jobs[idx[i]].occupancy != q0->occupancy;
	if (!several)
		return;
	by_strategy sf;
	if (!by_strategy_open(p, idx, n, "failure-occupancy", true, true, false, &sf))
		return;
	const char *name = sf.name, **strats = sf.strats;
	const size_t ns = sf.ns;
	FILE *d = sf.data;
	fprintf(d, "# failure rate by occupancy, one block per strategy: occupancy failed_fraction_of_largest "
		   "failed_fraction_of_all\n");
	uint64_t large = 0;
	for (size_t s = 0; s < ns; s++) {
		fprintf(d, "# %s\n", strats[s]);
		for (size_t i = 0; i < n; i++) {
			const pjob *q = &p->jobs[idx[i]];
			if (!strcmp(q->strategy, strats[s]) && q->large_failed_rate >= 0) {
				fprintf(d, "%.6f %.6f %.6f\n", q->occupancy, q->large_failed_rate, q->failed_rate);
				large = q->large_bytes > large ? q->large_bytes : large;
			}
		}
		fprintf(d, "\n\n");
	}
	plot_close(p, d);
	FILE *f = open_script(p, name, "failure rate versus occupancy on the fragmenter workload");
	if (f) {
		fprintf(f, "out = \"%s\"\nwidth = 900\nheight = 520\ndata = \"data/%s.dat\"\n", name, name);
		fprintf(f, "title_text = \"Refused requests by occupancy: %s, %s invalidation, %u %s\"\n", q0->workload, q0->inval,
			q0->threads, threads_text(q0->threads));
		char lb[40];
		iec(large, lb, sizeof lb);
		fprintf(f, "ylabel_text = \"requests of %s or more refused (%%)\"\n", lb);
		names_and_colours(f, strats, ns);
		fprintf(f, "load \"lib/failure_occupancy.gp\"\n");
		plot_close(p, f);
	}
	free(strats);
}

/* Calls @fn for each group of jobs with equal keys (in order of first appearance). */
static void for_groups(plotter *p, bool threads, bool inval, bool dsize, bool fewest_threads,
		       void (*fn)(plotter *, const size_t *, size_t))
{
	bool *done = ib_calloc(p->n, sizeof *done);
	size_t *idx = ib_calloc(p->n, sizeof *idx);
	for (size_t i = 0; i < p->n && p->ok; i++) {
		if (done[i])
			continue;
		char k0[1024], k[1024];
		key(&p->jobs[i], threads, inval, dsize, k0, sizeof k0);
		size_t n = 0;
		for (size_t j = i; j < p->n; j++) {
			key(&p->jobs[j], threads, inval, dsize, k, sizeof k);
			if (!done[j] && !strcmp(k, k0)) {
				done[j] = true;
				idx[n++] = j;
			}
		}
		if (fewest_threads) {
			/* only the group with the fewest threads among those equal but for threads */
			char a[1024], b[1024];
			key(&p->jobs[i], false, inval, dsize, a, sizeof a);
			bool fewest = true;
			for (size_t j = 0; j < p->n && fewest; j++) {
				key(&p->jobs[j], false, inval, dsize, b, sizeof b);
				fewest = strcmp(a, b) || p->jobs[j].threads >= p->jobs[i].threads;
			}
			if (!fewest)
				continue;
		}
		fn(p, idx, n);
	}
	free(done);
	free(idx);
}

static bool write_lib(plotter *p)
{
	char path[4400];
	for (const ib_embedded *s = ib_plot_scripts; s->name; s++) {
		snprintf(path, sizeof path, "%s/lib/%s", p->pdir, s->name);
		if (!ib_write_atomic(path, s->text, strlen(s->text), p->e))
			return false;
	}
	return true;
}

static bool run_gnuplot(plotter *p)
{
	pid_t pid = fork();
	if (pid < 0) {
		ib_fail(p->e, "cannot start gnuplot: %s", strerror(errno));
		return false;
	}
	if (pid == 0) {
		if (chdir(p->pdir) != 0)
			_exit(126);
		FILE *log = freopen("gnuplot.log", "w", stderr);
		(void)log;
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("gnuplot", "gnuplot", "all.gp", (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		ib_fail(p->e, "gnuplot failed (exit %d): see %s/gnuplot.log", WIFEXITED(st) ? WEXITSTATUS(st) : -1, p->pdir);
		return false;
	}
	return true;
}

/*
 * The figures an earlier `iovabench plot` of this folder drew are the ones its
 * all.gp loads. A figure this run no longer draws (its group changed, or the
 * plotter's rules did) would otherwise stay beside the new ones, and be
 * counted by a reader as part of this run: remove its script, data and
 * renderings - only those, never a file the plotter did not write.
 */
static char **previous_figures(const char *pdir, size_t *n)
{
	char path[4400], line[1200], name[1100];
	snprintf(path, sizeof path, "%s/all.gp", pdir);
	char **names = NULL;
	*n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "load \"%1099[^\"]\"", name) == 1) {
			size_t len = strlen(name);
			if (len > 3 && !strcmp(name + len - 3, ".gp") && !strchr(name, '/')) {
				name[len - 3] = '\0';
				names = ib_realloc(names, *n + 1, sizeof *names);
				names[(*n)++] = ib_strdup(name);
			}
		}
	fclose(f);
	return names;
}

static void remove_stale_figures(const plotter *p, char **old, size_t nold)
{
	static const char *const kinds[] = {"%s/%s.gp", "%s/%s.png", "%s/%s.svg", "%s/data/%s.dat"};
	for (size_t i = 0; i < nold; i++) {
		bool kept = false;
		for (size_t j = 0; j < p->noutputs && !kept; j++)
			kept = !strcmp(old[i], p->outputs[j]);
		for (size_t k = 0; !kept && k < sizeof kinds / sizeof kinds[0]; k++) {
			char path[4400];
			snprintf(path, sizeof path, kinds[k], p->pdir, old[i]);
			unlink(path);
		}
		free(old[i]);
	}
	free(old);
}

bool ib_plot_results(const char *dir, bool render, char *note, size_t note_len, ib_error *e)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/summary.json", dir);
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root) {
		ib_fail(e, "%s:%d: %s", path, je.line, je.text);
		return false;
	}
	plotter p = {.dir = dir, .e = e, .ok = true};
	snprintf(p.pdir, sizeof p.pdir, "%s/plots", dir);
	char sub[4400];
	snprintf(sub, sizeof sub, "%s/lib", p.pdir);
	bool ok = ib_mkdir_p(sub, e);
	snprintf(sub, sizeof sub, "%s/data", p.pdir);
	ok = ok && ib_mkdir_p(sub, e) && write_lib(&p);
	size_t nold = 0;
	char **old = ok ? previous_figures(p.pdir, &nold) : NULL;
	if (ok) {
		load_jobs(&p, root);
		snprintf(path, sizeof path, "%s/all.gp", p.pdir);
		p.all = plot_open(&p, path);
		ok = p.all != NULL;
	}
	if (ok) {
		fprintf(p.all, "# Every figure of this run: cd to this folder, then `gnuplot all.gp`.\n");
		for_groups(&p, true, true, true, false, latency_figures);
		for_groups(&p, false, true, true, false, throughput_figure);
		for_groups(&p, true, true, true, true, fragmentation_figure);
		for_groups(&p, true, false, true, false, tradeoff_figure);
		for_groups(&p, true, true, false, false, occupancy_figure);
		plot_close(&p, p.all);
		ok = p.ok;
	}
	if (ok)
		remove_stale_figures(&p, old, nold);
	else {
		for (size_t i = 0; i < nold; i++)
			free(old[i]);
		free(old);
	}
	if (ok && render && p.figures) {
		ok = run_gnuplot(&p);
		size_t missing = 0;
		for (size_t i = 0; ok && i < p.noutputs; i++)
			for (int f = 0; f < 2; f++) {
				struct stat st;
				snprintf(path, sizeof path, "%s/%s.%s", p.pdir, p.outputs[i], f ? "svg" : "png");
				if (stat(path, &st) != 0 || st.st_size == 0)
					missing++;
			}
		if (ok && missing) {
			ib_fail(e, "gnuplot left %zu of %zu files missing or empty: see %s/gnuplot.log", missing, 2 * p.noutputs,
				p.pdir);
			ok = false;
		}
	}
	if (ok) {
		if (!p.figures)
			snprintf(note, note_len, "no figure has data in this run (%s/plots)", dir);
		else if (render)
			snprintf(note, note_len, "%u figures as PNG and SVG in %s/plots/ (scripts beside them: gnuplot all.gp)",
				 p.figures, dir);
		else
			snprintf(note, note_len,
				 "gnuplot not found: the data and scripts of %u figures are in %s/plots/ (install gnuplot-nox, "
				 "then iovabench plot %s)",
				 p.figures, dir, dir);
	}
	for (size_t i = 0; i < p.nopen; i++)
		ib_afile_abort(&p.open[i]); /* a figure that failed half-way */
	free(p.open);
	for (size_t i = 0; i < p.noutputs; i++)
		free(p.outputs[i]);
	free(p.outputs);
	free(p.jobs);
	json_decref(root);
	return ok;
}
