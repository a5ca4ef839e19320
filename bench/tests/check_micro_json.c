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
#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* @obj's member @key if it is a string, else NULL. */
static const char *member_string(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* What every report must contain, per strategy: run_name prefixes. */
static const char *const families[] = {
	"alloc-free/%s/order:0/", "alloc-free/%s/order:4/", "alloc-free/%s/order:9/", "alloc-free/%s/order:18/",
	"cached-alloc/%s/",       "threadtest/%s/",         "constant-occupancy/%s/", "linux-scalability/%s/",
};
/* ... and once per report, whatever the strategies. */
static const char *const baselines[] = {"alloc-free/empty-call/", "alloc-free/cas-call/", "alloc-free/hit-call/"};
static const int required_threads[] = {1, 2};

static bool has_run(const json_t *benchmarks, const char *prefix, int threads)
{
	for (size_t i = 0; i < json_array_size(benchmarks); i++) {
		const json_t *b = json_array_get(benchmarks, i);
		const char *run_name = member_string(b, "run_name");
		const char *run_type = member_string(b, "run_type");
		const json_t *t = json_object_get(b, "threads");
		if (run_name && run_type && !strcmp(run_type, "iteration") && t && json_is_number(t) &&
		    json_number_value(t) == threads && !strncmp(run_name, prefix, strlen(prefix)))
			return true;
	}
	return false;
}

static void check_entry(const json_t *b, size_t index)
{
	const char *name = member_string(b, "name");
	const char *run_type = member_string(b, "run_type");
	CHECK_MSG(name && run_type, "benchmarks[%zu]: no \"name\" or \"run_type\"", index);
	if (!name || !run_type)
		return;
	const json_t *err = json_object_get(b, "error_occurred");
	if (json_is_true(err)) {
		const char *msg = member_string(b, "error_message");
		CHECK_MSG(false, "%s: error: %s", name, msg ? msg : "(no message)");
		return;
	}
	/* Iterations and their mean/median carry rates; stddev and cv are
	 * spreads, which may legitimately be 0. */
	const char *aggregate = member_string(b, "aggregate_name");
	bool is_rate = !strcmp(run_type, "iteration") ||
		       (aggregate && (!strcmp(aggregate, "mean") || !strcmp(aggregate, "median")));
	if (!is_rate)
		return;
	const json_t *ops = json_object_get(b, "ops");
	CHECK_MSG(ops && json_is_number(ops), "%s: no numeric \"ops\" counter", name);
	if (ops && json_is_number(ops))
		CHECK_MSG(isfinite(json_number_value(ops)) && json_number_value(ops) > 0, "%s: ops = %g, want a finite rate > 0", name,
			  json_number_value(ops));
	/* The whole workloads also report these; where present they are rates (or, for metadata, sizes) above zero. */
	static const char *const also[] = {"ops_makespan", "ops_cpu", "meta_reserved_MiB", "meta_resident_MiB"};
	for (size_t i = 0; i < sizeof also / sizeof also[0]; i++) {
		const json_t *v = json_object_get(b, also[i]);
		if (v)
			CHECK_MSG(json_is_number(v) && isfinite(json_number_value(v)) && json_number_value(v) > 0,
				  "%s: %s is not a finite rate > 0", name, also[i]);
	}
	/* Every strategy keeps some metadata, and cannot back more than it reserved. */
	const json_t *reserved = json_object_get(b, "meta_reserved_MiB"), *resident = json_object_get(b, "meta_resident_MiB");
	if (json_object_get(b, "ops_cpu"))
		CHECK_MSG(reserved && resident, "%s: a whole workload without meta_reserved_MiB and meta_resident_MiB", name);
	if (json_is_number(reserved) && json_is_number(resident))
		CHECK_MSG(json_number_value(resident) <= json_number_value(reserved), "%s: %g MiB of metadata resident of %g reserved", name,
			  json_number_value(resident), json_number_value(reserved));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: check_micro_json OUT.json STRATEGY...\n");
		return 2;
	}
	json_t *root;
	json_error_t err;
	if (!(root = json_load_file(argv[1], 0, &err))) {
		fprintf(stderr, "check_micro_json: %s:%d:%d: %s\n", argv[1], err.line, err.column, err.text);
		return 1;
	}

	const json_t *benchmarks = json_object_get(root, "benchmarks");
	CHECK_MSG(benchmarks && json_is_array(benchmarks) && json_array_size(benchmarks) > 0,
		  "%s: no non-empty \"benchmarks\" array", argv[1]);
	if (benchmarks && json_is_array(benchmarks)) {
		for (size_t i = 0; i < json_array_size(benchmarks); i++)
			check_entry(json_array_get(benchmarks, i), i);
		for (size_t f = 0; f < sizeof baselines / sizeof baselines[0]; f++)
			for (size_t t = 0; t < sizeof required_threads / sizeof required_threads[0]; t++)
				CHECK_MSG(has_run(benchmarks, baselines[f], required_threads[t]), "no run \"%s...\" at %d threads",
					  baselines[f], required_threads[t]);
		for (int s = 2; s < argc; s++) {
			for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
				char prefix[256];
				snprintf(prefix, sizeof prefix, families[f], argv[s]);
				for (size_t t = 0; t < sizeof required_threads / sizeof required_threads[0]; t++)
					CHECK_MSG(has_run(benchmarks, prefix, required_threads[t]),
						  "no run \"%s...\" at %d threads", prefix, required_threads[t]);
			}
		}
		printf("check_micro_json: %zu entries checked\n", json_array_size(benchmarks));
	}
	json_decref(root);
	return check_exit_code();
}
