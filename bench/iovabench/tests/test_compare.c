/* compare on synthetic result sets: a planted throughput regression and a
 * planted p99 regression are found (and named), noise and improvements are
 * not regressions, jobs in one run only are not compared, bad folders are
 * errors. And the bootstrap interval itself. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "iovabench.h"

typedef struct spec {
	const char *id;
	double ops, p50, p99; /* medians; repetitions spread around them */
} spec;

/* Writes <dir>/summary.json with five repetitions per job, +-1% noise. */
static void write_run(const char *dir, const spec *jobs, size_t n, uint64_t seed)
{
	mkdir(dir, 0777);
	wl_rng r;
	wl_rng_seed(&r, seed);
	json_t *root = json_pack("{s:s, s:i, s:s, s:[]}", "schema", "iovabench/summary", "schema_version", 1, "state",
				 "complete", "jobs");
	json_t *arr = json_object_get(root, "jobs");
	for (size_t i = 0; i < n; i++) {
		json_t *reps = json_array();
		for (int k = 0; k < 5; k++) {
			double f = 1.0 + (wl_rng_unit(&r) - 0.5) * 0.02;
			json_array_append_new(reps, json_pack("{s:f, s:f, s:f}", "ops_per_sec", jobs[i].ops * f, "latency_p50_ns",
							      jobs[i].p50 / f, "latency_p99_ns", jobs[i].p99 / f));
		}
		json_array_append_new(arr, json_pack("{s:s, s:o}", "id", jobs[i].id, "repetitions", reps));
	}
	char path[512];
	snprintf(path, sizeof path, "%s/summary.json", dir);
	CHECK(json_dump_file(root, path, JSON_INDENT(1)) == 0);
	json_decref(root);
}

static int compare(const char *a, const char *b, char **out, ib_error *e)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	int n = ib_compare_dirs(a, b, 0.05, f, e);
	fclose(f);
	return n;
}

int main(void)
{
	char base[] = "/tmp/iovabench-compare-XXXXXX";
	CHECK(mkdtemp(base) != NULL);
	char a[600], b[600], c[600], d[600], empty[600];
	snprintf(a, sizeof a, "%s/a", base);
	snprintf(b, sizeof b, "%s/b", base);
	snprintf(c, sizeof c, "%s/c", base);
	snprintf(d, sizeof d, "%s/d", base);
	snprintf(empty, sizeof empty, "%s/empty", base);
	const spec base_jobs[] = {
		{"m:gpu-frame/strict/buddy-lf/t1", 1e6, 100, 1000},
		{"m:gpu-frame/strict/buddy-lf/t2", 2e6, 120, 1500},
		{"m:fragmenter/batched/buddy-lf/t1", 3e6, 80, 900},
		{"m:only-in-a/strict/buddy-lf/t1", 1e6, 100, 1000},
	};
	write_run(a, base_jobs, 4, 1);
	/* B: the same but for two planted regressions and one improvement. */
	const spec b_jobs[] = {
		{"m:gpu-frame/strict/buddy-lf/t1", 0.6e6, 100, 1000},  /* throughput -40% */
		{"m:gpu-frame/strict/buddy-lf/t2", 2e6, 120, 3000},    /* p99 x2 */
		{"m:fragmenter/batched/buddy-lf/t1", 4e6, 60, 600},    /* better */
		{"m:only-in-b/strict/buddy-lf/t1", 1e6, 100, 1000},
	};
	write_run(b, b_jobs, 4, 2);
	write_run(c, base_jobs, 3, 3); /* A again, other noise */
	ib_error e;
	char *out = NULL;
	int n = compare(a, b, &out, &e);
	CHECK_MSG(n == 2, "%d regressions found, want 2:\n%s", n, out ? out : e.msg);
	if (out) {
		CHECK(strstr(out, "m:gpu-frame/strict/buddy-lf/t1: throughput x0.6") != NULL);
		const char *p99 = strstr(out, "m:gpu-frame/strict/buddy-lf/t2: p99 latency x");
		CHECK(p99 && fabs(atof(p99 + strlen("m:gpu-frame/strict/buddy-lf/t2: p99 latency x")) - 2.0) < 0.05);
		CHECK(strstr(out, "fragmenter/batched/buddy-lf/t1: ") == NULL); /* the improvement is no regression */
		CHECK(strstr(out, "3 job(s) compared; 1 only in A, 1 only in B") != NULL);
	}
	free(out);
	out = NULL;
	n = compare(a, c, &out, &e);
	CHECK_MSG(n == 0, "noise taken for a regression:\n%s", out ? out : e.msg);
	CHECK(out && strstr(out, "no significant regression") != NULL);
	free(out);
	/* errors */
	out = NULL;
	CHECK_EQ(compare(a, "/nonexistent/run", &out, &e), (uint64_t)-1);
	CHECK(strstr(e.msg, "/nonexistent/run") != NULL);
	free(out);
	mkdir(empty, 0777);
	out = NULL;
	CHECK_EQ(compare(empty, a, &out, &e), (uint64_t)-1);
	CHECK(strstr(e.msg, "summary.json") != NULL);
	free(out);
	const spec other[] = {{"x:y/strict/z/t1", 1, 1, 1}};
	write_run(d, other, 1, 4);
	out = NULL;
	CHECK_EQ(compare(a, d, &out, &e), (uint64_t)-1);
	CHECK(strstr(e.msg, "no job id is in both runs") != NULL);
	free(out);

	/* The bootstrap interval: identical samples give [1, 1]; a clear shift
	 * gives an interval that excludes 1; it is reproducible. */
	double x[5] = {10, 11, 9, 10, 10.5}, y[5] = {20, 22, 18, 20, 21};
	double lo, hi, lo2, hi2;
	ib_bootstrap_ratio(x, 5, x, 5, 2000, 7, &lo, &hi);
	CHECK(lo <= 1.0 && hi >= 1.0);
	ib_bootstrap_ratio(x, 5, y, 5, 2000, 7, &lo, &hi);
	CHECK_MSG(lo > 1.5 && hi < 2.5 && lo <= 2.0 && hi >= 2.0, "[%.3f, %.3f]", lo, hi);
	ib_bootstrap_ratio(x, 5, y, 5, 2000, 7, &lo2, &hi2);
	CHECK(lo == lo2 && hi == hi2);
	CHECK(ib_median(x, 5) == 10 && ib_median(y, 4) == 20);

	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	CHECK(system(cmd) == 0);
	return check_exit_code();
}
