/* SPDX-License-Identifier: MIT */
/*
 * test_gbench_shim.c - the C shim does what gbench.h promises.
 *
 *	test_gbench_shim OUT.json
 *
 * Registers small benchmarks through every gbench.h function, runs them
 * with gb_main() writing a JSON report to OUT.json, and checks: hooks run
 * once per run around the threads with that run's arguments; ranges, thread
 * indices and iteration counts reach the body; each counter flag has the
 * library's meaning; names carry the argument names and options; one
 * benchmark failing with gb_skip_with_error() makes gb_main() return 1 and
 * is reported with its message; the report is renamed into place.
 */
#include "check.h"
#include "gbench.h"
#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* @obj's member @key if it is a string, else NULL. */
static const char *member_string(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* Written by the hooks (main thread) before the benchmark threads start and
 * after they are joined; the library's thread creation and joining order
 * these accesses. */
static int setups, teardowns, setup_threads;
static int64_t setup_range;

static void setup_hook(const gb_state *st)
{
	CHECK_MSG(setups == teardowns, "setup %d while a run is open", setups);
	setups++;
	setup_threads = gb_threads_count(st);
	setup_range = gb_range(st, 0);
}

static void teardown_hook(const gb_state *st)
{
	teardowns++;
	CHECK_EQ(setups, teardowns);
	CHECK_EQ(gb_threads_count(st), setup_threads);
	CHECK_EQ(gb_range(st, 0), setup_range);
}

/* "counters/<arg>": one counter per flag, with values whose aggregate
 * over threads and iterations is known in advance. */
static void bm_counters(gb_state *st)
{
	CHECK_MSG(setups == teardowns + 1, "body outside a setup/teardown pair");
	CHECK_EQ(gb_threads_count(st), setup_threads);
	CHECK_EQ(gb_range(st, 0), setup_range);
	CHECK(gb_thread_index(st) >= 0 && gb_thread_index(st) < gb_threads_count(st));
	int64_t n = 0;
	while (gb_keep_running(st)) {
		gb_pause_timing(st);
		gb_resume_timing(st);
		n++;
	}
	CHECK_EQ(gb_iterations_done(st), n);
	gb_counter(st, "sum", 1.0, GB_COUNTER_DEFAULT);                        /* -> threads */
	gb_counter(st, "avg_threads", 3.0, GB_COUNTER_AVG_THREADS);            /* -> 3 */
	gb_counter(st, "per_iteration", 5.0 * (double)n, GB_COUNTER_AVG_ITERATIONS); /* -> 5 */
	gb_counter(st, "rate", 1.0, GB_COUNTER_RATE);                          /* -> threads / s */
	gb_set_items_processed(st, n);
	gb_set_label(st, "label-ok");
}

/* "args": two ranges in one run. */
static void bm_args(gb_state *st)
{
	CHECK_EQ(gb_range(st, 0), 11);
	CHECK_EQ(gb_range(st, 1), 22);
	while (gb_keep_running(st))
		;
}

static void bm_fails(gb_state *st)
{
	gb_skip_with_error(st, "expected failure");
	while (gb_keep_running(st))
		CHECK_MSG(false, "loop ran after gb_skip_with_error");
}

static double number(const json_t *b, const char *key)
{
	const json_t *v = json_object_get(b, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Doubles, not CHECK_EQ: converting a NaN (missing key) to an integer is
 * undefined. The expected values are small integers, exact in a double. */
static void check_number(const json_t *b, const char *name, const char *key, double want)
{
	double got = number(b, key);
	CHECK_MSG(got == want, "%s: %s = %g, want %g", name, key, got, want);
}

static const json_t *find(const json_t *benchmarks, const char *name)
{
	for (size_t i = 0; i < json_array_size(benchmarks); i++) {
		const char *n = member_string(json_array_get(benchmarks, i), "name");
		if (n && !strcmp(n, name))
			return json_array_get(benchmarks, i);
	}
	CHECK_MSG(false, "no entry named \"%s\" in the report", name);
	return NULL;
}

static void check_counters(const json_t *benchmarks, int64_t arg, int threads)
{
	char name[128];
	snprintf(name, sizeof name, "counters/order:%lld/iterations:10/threads:%d", (long long)arg, threads);
	const json_t *b = find(benchmarks, name);
	if (!b)
		return;
	check_number(b, name, "iterations", 10.0 * threads);
	check_number(b, name, "sum", threads);
	check_number(b, name, "avg_threads", 3);
	check_number(b, name, "per_iteration", 5);
	CHECK_MSG(number(b, "rate") > 0, "%s: rate %g", name, number(b, "rate"));
	CHECK_MSG(number(b, "items_per_second") > 0, "%s: items_per_second %g", name, number(b, "items_per_second"));
	const char *label = member_string(b, "label");
	CHECK_MSG(label && !strcmp(label, "label-ok"), "%s: label %s", name, label ? label : "(none)");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_gbench_shim OUT.json\n");
		return 2;
	}
	gb_bench *b = gb_register("counters", bm_counters);
	gb_arg_name(b, "order");
	gb_arg(b, 7);
	gb_arg(b, 9);
	gb_threads(b, 1);
	gb_threads(b, 2);
	gb_iterations(b, 10);
	gb_setup(b, setup_hook);
	gb_teardown(b, teardown_hook);

	const int64_t two[] = {11, 22};
	b = gb_register("args", bm_args);
	gb_args(b, two, 2);
	gb_min_time(b, 0.01);
	gb_use_real_time(b);

	b = gb_register("aggregates", bm_args);
	gb_args(b, two, 2);
	gb_iterations(b, 3);
	gb_repetitions(b, 3);
	gb_report_aggregates_only(b, true);

	b = gb_register("fails", bm_fails);
	gb_iterations(b, 1);

	char out_flag[4200];
	snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", argv[1]);
	char format_flag[] = "--benchmark_out_format=json";
	char *gb_argv[] = {argv[0], out_flag, format_flag, NULL};
	unlink(argv[1]);
	CHECK_EQ(gb_main(3, gb_argv), 1); /* "fails" failed */

	/* 2 args x 2 thread counts; the hooks ran for none of the others. */
	CHECK_EQ(setups, 4);
	CHECK_EQ(teardowns, 4);

	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", argv[1], (long)getpid());
	CHECK_MSG(access(tmp, F_OK) != 0, "%s left behind", tmp);

	json_t *root;
	json_error_t err;
	if (!(root = json_load_file(argv[1], 0, &err))) {
		CHECK_MSG(false, "%s:%d:%d: %s", argv[1], err.line, err.column, err.text);
		return check_exit_code();
	}
	const json_t *benchmarks = json_object_get(root, "benchmarks");
	CHECK(benchmarks && json_is_array(benchmarks));
	if (benchmarks && json_is_array(benchmarks)) {
		check_counters(benchmarks, 7, 1);
		check_counters(benchmarks, 7, 2);
		check_counters(benchmarks, 9, 1);
		check_counters(benchmarks, 9, 2);
		find(benchmarks, "args/11/22/min_time:0.010/real_time");

		/* Aggregates only: the median is there, the repetitions are not. */
		int aggregates = 0, iterations = 0;
		for (size_t i = 0; i < json_array_size(benchmarks); i++) {
			const json_t *e = json_array_get(benchmarks, i);
			const char *run = member_string(e, "run_name");
			const char *type = member_string(e, "run_type");
			if (run && type && !strcmp(run, "aggregates/11/22/iterations:3/repeats:3"))
				!strcmp(type, "aggregate") ? aggregates++ : iterations++;
		}
		CHECK_MSG(aggregates >= 3 && iterations == 0, "aggregates: %d aggregate and %d iteration entries",
			  aggregates, iterations);
		find(benchmarks, "aggregates/11/22/iterations:3/repeats:3_median");

		const json_t *f = find(benchmarks, "fails/iterations:1");
		if (f) {
			const json_t *e = json_object_get(f, "error_occurred");
			const char *msg = member_string(f, "error_message");
			CHECK(json_is_true(e));
			CHECK_MSG(msg && !strcmp(msg, "expected failure"), "error_message %s", msg ? msg : "(none)");
		}
	}
	json_decref(root);
	return check_exit_code();
}
