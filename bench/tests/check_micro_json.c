/* SPDX-License-Identifier: MIT */
/*
 * check_micro_json.c - validate an iovabench-micro JSON report.
 *
 *	check_micro_json OUT.json
 *
 * Checks that the file parses as JSON, has a non-empty "benchmarks" array,
 * contains an iteration entry for every benchmark family, strategy and
 * thread count the micro-benchmarks must cover (1 and 2 threads), that no
 * entry reports an error, and that every "ops" rate is finite and > 0. It
 * never judges speed.
 */
#include "check.h"
#include "iova.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What every report must contain, per strategy: run_name prefixes. */
static const char *const families[] = {
	"alloc-free/%s/order:0/", "alloc-free/%s/order:4/", "alloc-free/%s/order:9/", "alloc-free/%s/order:18/",
	"cached-alloc/%s/",       "threadtest/%s/",         "constant-occupancy/%s/", "linux-scalability/%s/",
};
static const int required_threads[] = {1, 2};

static bool has_run(const jvalue *benchmarks, const char *prefix, int threads)
{
	for (size_t i = 0; i < benchmarks->count; i++) {
		const jvalue *b = &benchmarks->items[i];
		const char *run_name = json_member_string(b, "run_name");
		const char *run_type = json_member_string(b, "run_type");
		const jvalue *t = json_member(b, "threads");
		if (run_name && run_type && !strcmp(run_type, "iteration") && t && t->kind == J_NUMBER &&
		    t->number == threads && !strncmp(run_name, prefix, strlen(prefix)))
			return true;
	}
	return false;
}

static void check_entry(const jvalue *b, size_t index)
{
	const char *name = json_member_string(b, "name");
	const char *run_type = json_member_string(b, "run_type");
	CHECK_MSG(name && run_type, "benchmarks[%zu]: no \"name\" or \"run_type\"", index);
	if (!name || !run_type)
		return;
	const jvalue *err = json_member(b, "error_occurred");
	if (err && err->kind == J_TRUE) {
		const char *msg = json_member_string(b, "error_message");
		CHECK_MSG(false, "%s: error: %s", name, msg ? msg : "(no message)");
		return;
	}
	/* Iterations and their mean/median carry rates; stddev and cv are
	 * spreads, which may legitimately be 0. */
	const char *aggregate = json_member_string(b, "aggregate_name");
	bool is_rate = !strcmp(run_type, "iteration") ||
		       (aggregate && (!strcmp(aggregate, "mean") || !strcmp(aggregate, "median")));
	if (!is_rate)
		return;
	const jvalue *ops = json_member(b, "ops");
	CHECK_MSG(ops && ops->kind == J_NUMBER, "%s: no numeric \"ops\" counter", name);
	if (ops && ops->kind == J_NUMBER)
		CHECK_MSG(isfinite(ops->number) && ops->number > 0, "%s: ops = %g, want a finite rate > 0", name,
			  ops->number);
	/* The whole workloads also report these; where present they are rates too. */
	static const char *const also[] = {"ops_makespan", "ops_cpu"};
	for (size_t i = 0; i < sizeof also / sizeof also[0]; i++) {
		const jvalue *v = json_member(b, also[i]);
		if (v)
			CHECK_MSG(v->kind == J_NUMBER && isfinite(v->number) && v->number > 0,
				  "%s: %s is not a finite rate > 0", name, also[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: check_micro_json OUT.json STRATEGY...\n");
		return 2;
	}
	jvalue root;
	char err[512];
	if (!json_parse_file(argv[1], &root, err, sizeof err)) {
		fprintf(stderr, "check_micro_json: %s\n", err);
		return 1;
	}

	const jvalue *benchmarks = json_member(&root, "benchmarks");
	CHECK_MSG(benchmarks && benchmarks->kind == J_ARRAY && benchmarks->count > 0,
		  "%s: no non-empty \"benchmarks\" array", argv[1]);
	if (benchmarks && benchmarks->kind == J_ARRAY) {
		for (size_t i = 0; i < benchmarks->count; i++)
			check_entry(&benchmarks->items[i], i);
		for (int s = 2; s < argc; s++) {
			for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
				char prefix[256];
				snprintf(prefix, sizeof prefix, families[f], argv[s]);
				for (size_t t = 0; t < sizeof required_threads / sizeof required_threads[0]; t++)
					CHECK_MSG(has_run(benchmarks, prefix, required_threads[t]),
						  "no run \"%s...\" at %d threads", prefix, required_threads[t]);
			}
		}
		printf("check_micro_json: %zu entries checked\n", benchmarks->count);
	}
	json_free(&root);
	return check_exit_code();
}
