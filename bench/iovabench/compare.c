/* SPDX-License-Identifier: MIT */
/*
 * compare.c - two runs side by side. For each job id present in both
 * summaries: the ratio B/A of the median throughput and of the median p50
 * and p99 latency (all operations), each with a 95% bootstrap interval over
 * the repetitions (stats.c). A regression is a change in the bad direction
 * whose whole interval lies beyond the threshold (default 5%): throughput
 * interval entirely below 1 - threshold, or a latency interval entirely
 * above 1 + threshold. Improvements are shown the same way.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

#define BOOTSTRAP_ITERS 4000
#define BOOTSTRAP_SEED 0x1b0a7

static json_t *load(const char *dir, ib_error *e)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/summary.json", dir);
	if (!ib_file_exists(dir)) {
		ib_fail(e, "%s: no such folder", dir);
		return NULL;
	}
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root) {
		ib_fail(e, "%s:%d: %s", path, je.line, je.text);
		return NULL;
	}
	const char *schema = json_string_value(json_object_get(root, "schema"));
	if (!schema || strcmp(schema, "iovabench/summary") != 0 || !json_is_array(json_object_get(root, "jobs"))) {
		ib_fail(e, "%s: not an iovabench summary (no \"schema\": \"iovabench/summary\" with jobs)", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

static json_t *find_job(json_t *root, const char *id)
{
	json_t *jobs = json_object_get(root, "jobs"), *j;
	size_t i;
	json_array_foreach(jobs, i, j)
	{
		const char *jid = json_string_value(json_object_get(j, "id"));
		if (jid && !strcmp(jid, id))
			return j;
	}
	return NULL;
}

/* The repetitions' values of @field (only positive ones). */
static size_t values(json_t *job, const char *field, double *out, size_t max)
{
	json_t *reps = json_object_get(job, "repetitions"), *r;
	size_t i, n = 0;
	json_array_foreach(reps, i, r)
	{
		json_t *v = json_object_get(r, field);
		if (json_is_number(v) && json_number_value(v) > 0 && n < max)
			out[n++] = json_number_value(v);
	}
	return n;
}

typedef struct verdict {
	double ratio, lo, hi;
	bool valid, regression, improvement;
} verdict;

static verdict judge(json_t *a, json_t *b, const char *field, bool higher_is_better, double t)
{
	double va[1000], vb[1000];
	size_t na = values(a, field, va, 1000), nb = values(b, field, vb, 1000);
	verdict v = {0};
	if (!na || !nb)
		return v;
	v.valid = true;
	v.ratio = ib_median(vb, nb) / ib_median(va, na);
	ib_bootstrap_ratio(va, na, vb, nb, BOOTSTRAP_ITERS, BOOTSTRAP_SEED, &v.lo, &v.hi);
	if (higher_is_better) {
		v.regression = v.hi < 1 - t;
		v.improvement = v.lo > 1 + t;
	} else {
		v.regression = v.lo > 1 + t;
		v.improvement = v.hi < 1 - t;
	}
	return v;
}

static void cell(FILE *f, const verdict *v)
{
	char buf[64];
	if (!v->valid)
		snprintf(buf, sizeof buf, "-");
	else
		snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]%s", v->ratio, v->lo, v->hi,
			 v->regression ? " !" : v->improvement ? " +" : "");
	fprintf(f, " %-26s", buf);
}

int ib_compare_dirs(const char *dir_a, const char *dir_b, double threshold, FILE *f, ib_error *e)
{
	json_t *a = load(dir_a, e);
	if (!a)
		return -1;
	json_t *b = load(dir_b, e);
	if (!b) {
		json_decref(a);
		return -1;
	}
	fprintf(f, "compare: B = %s against A = %s; ratios B/A of medians over repetitions, 95%% bootstrap intervals;\n"
		   "a regression (!) has its whole interval more than %.0f%% on the bad side (+: an improvement).\n\n",
		dir_b, dir_a, threshold * 100);
	fprintf(f, "%-60s %-26s %-26s %-26s\n", "job", " throughput", " p50 latency", " p99 latency");
	json_t *jobs = json_object_get(b, "jobs"), *jb;
	size_t i;
	int regressions = 0, common = 0, few_reps = 0;
	char regress_text[8192] = "";
	json_array_foreach(jobs, i, jb)
	{
		const char *id = json_string_value(json_object_get(jb, "id"));
		json_t *ja = id ? find_job(a, id) : NULL;
		if (!ja)
			continue;
		common++;
		if (json_array_size(json_object_get(ja, "repetitions")) < 3 ||
		    json_array_size(json_object_get(jb, "repetitions")) < 3)
			few_reps++;
		verdict tp = judge(ja, jb, "ops_per_sec", true, threshold);
		verdict p50 = judge(ja, jb, "latency_p50_ns", false, threshold);
		verdict p99 = judge(ja, jb, "latency_p99_ns", false, threshold);
		fprintf(f, "%-60.60s", id);
		cell(f, &tp);
		cell(f, &p50);
		cell(f, &p99);
		fputc('\n', f);
		const verdict *vs[3] = {&tp, &p50, &p99};
		const char *names[3] = {"throughput", "p50 latency", "p99 latency"};
		for (int k = 0; k < 3; k++)
			if (vs[k]->regression) {
				regressions++;
				size_t l = strlen(regress_text);
				snprintf(regress_text + l, sizeof regress_text - l, "  %s: %s x%.3f (interval %.3f to %.3f)\n", id,
					 names[k], vs[k]->ratio, vs[k]->lo, vs[k]->hi);
			}
	}
	json_t *ja;
	int only_a = 0, only_b = 0;
	json_array_foreach(json_object_get(a, "jobs"), i, ja)
	{
		const char *id = json_string_value(json_object_get(ja, "id"));
		if (id && !find_job(b, id))
			only_a++;
	}
	json_array_foreach(jobs, i, jb)
	{
		const char *id = json_string_value(json_object_get(jb, "id"));
		if (id && !find_job(a, id))
			only_b++;
	}
	fprintf(f, "\n%d job(s) compared", common);
	if (only_a || only_b)
		fprintf(f, "; %d only in A, %d only in B (not compared)", only_a, only_b);
	fprintf(f, ".\n");
	if (few_reps)
		fprintf(f, "note: %d job(s) have fewer than 3 repetitions on a side: their intervals are too narrow to trust.\n",
			few_reps);
	const char *sa = json_string_value(json_object_get(a, "state")), *sb = json_string_value(json_object_get(b, "state"));
	if ((sa && strcmp(sa, "complete")) || (sb && strcmp(sb, "complete")))
		fprintf(f, "note: A is %s, B is %s.\n", sa ? sa : "?", sb ? sb : "?");
	if (regressions)
		fprintf(f, "\n%d significant regression(s):\n%s", regressions, regress_text);
	else
		fprintf(f, "no significant regression.\n");
	json_decref(a);
	json_decref(b);
	if (!common) {
		ib_fail(e, "no job id is in both runs: nothing to compare");
		return -1;
	}
	return regressions;
}
