/* SPDX-License-Identifier: MIT */
/*
 * main.c - iovabench-micro: parse our own flags (and remove them from argv),
 * register every benchmark for every chosen strategy, and hand the rest of
 * the command line to Google Benchmark.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "micro.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_REPETITIONS 5
#define DEFAULT_MIN_TIME 0.5 /* Google Benchmark's own default, in seconds */
#define QUICK_SCALE 0.01
#define MAX_SCALE 1000.0 /* constant-occupancy would take hours beyond this */

static const char usage[] =
	"iovabench-micro: allocator micro-benchmarks (Google Benchmark; its --benchmark_* flags apply)\n"
	"  --strategies=A,B,...  strategies to benchmark (default: every registered one,\n"
	"                        with and without \"+cache\"); each may carry the suffix\n"
	"  --suite=S,...         core (default: alloc+free per order, the four NBBS\n"
	"                        workloads and long-lived-churn), streaming-dma (IOMMU\n"
	"                        policies), workloads\n"
	"                        (trace parsing and replayer overhead), or all\n"
	"  --scale=F             multiply the workloads' operation counts by F (default 1)\n"
	"  --quick               --scale=0.01 and one repetition: a smoke test, not a measurement\n"
	"  --block-size=BYTES    block size S of the workloads (default 4096; K, M, G suffixes)\n"
	"  --list-strategies     print the registered strategies and exit\n"
	"The JSON report goes to results/micro-DATE-TIME.json unless --benchmark_out=FILE says where.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "iovabench-micro: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 1;
}

/* The CPUs this process may run on (taskset, cgroups), not all online ones. */
static int usable_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* 1 and 2 threads always (the comparisons we publish), then doubling up to
 * the CPU count, and the CPU count itself. */
static void choose_thread_counts(void)
{
	int cpus = usable_cpus();
	int n = 0;
	micro_opts.thread_counts[n++] = 1;
	micro_opts.thread_counts[n++] = 2;
	for (int t = 4; t < cpus && n < MICRO_MAX_THREAD_COUNTS - 1; t *= 2)
		micro_opts.thread_counts[n++] = t;
	if (cpus > 2)
		micro_opts.thread_counts[n++] = cpus;
	micro_opts.thread_count_n = n;
}

static bool parse_scale(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > MAX_SCALE)
		return false;
	*out = v;
	return true;
}

static bool parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return false; /* strtoull would accept "-1" */
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == s || *end || v == 0 || v > (MICRO_SPACE_BYTES >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

/* The value of --benchmark_repetitions, or 0 to let Google Benchmark
 * reject a malformed one itself. */
static int parse_repetitions(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 1 || v > 1000000 ? 0 : (int)v;
}

static bool is_registered(const char *name, size_t len)
{
	for (size_t i = 0; i < iova_strategy_count(); i++) {
		const char *s = iova_strategy_name(i);
		if (strlen(s) == len && !strncmp(s, name, len))
			return true;
	}
	return false;
}

/* Split @list on commas (in place), check every name, store them in @names.
 * A name is checked by creating the benchmarks' domain with it: the core is
 * the authority on what it accepts (e.g. whether "+cache" is available). */
static int parse_strategies(char *list, const char **names, int *count)
{
	*count = 0;
	for (char *save, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok), suffix = strlen("+cache");
		size_t base = len > suffix && !strcmp(tok + len - suffix, "+cache") ? len - suffix : len;
		if (!is_registered(tok, base))
			return usage_error("--strategies: unknown strategy \"%s\" (iovabench-micro --list-strategies "
					   "shows them)",
					   tok);
		for (int i = 0; i < *count; i++)
			if (!strcmp(names[i], tok))
				return usage_error("--strategies: \"%s\" is listed twice", tok);
		if (*count == MICRO_MAX_STRATEGIES)
			return usage_error("--strategies: more than %s strategies", "32");
		const iova_domain_config cfg = {.size = MICRO_SPACE_BYTES, .granule = MICRO_GRANULE, .strategy = tok};
		iova_domain *d;
		iova_status st = iova_domain_create(&cfg, &d);
		if (st != IOVA_OK) {
			fprintf(stderr, "iovabench-micro: --strategies: the core refuses a domain with strategy \"%s\": %s\n",
				tok, iova_status_name(st));
			return 1;
		}
		iova_domain_destroy(d);
		names[(*count)++] = tok;
	}
	if (*count == 0)
		return usage_error("--strategies: empty list%s", "");
	return 0;
}

static void list_strategies(void)
{
	for (size_t i = 0; i < iova_strategy_count(); i++)
		printf("%-16s %s\n", iova_strategy_name(i), iova_strategy_description(i));
}

static bool has_prefix(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

/*
 * The default report file, so that every run leaves its numbers behind as
 * `iovabench run` does: results/micro-<local date>-<time>.json under the
 * working directory, with -2, -3... for runs started in the same second.
 * Return: false, having said why, if results/ cannot be made.
 */
static bool default_report(char *path, size_t size)
{
	struct stat st;
	if (mkdir("results", 0777) != 0 && (errno != EEXIST || stat("results", &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "iovabench-micro: cannot create results/: %s (give --benchmark_out=FILE)\n",
			errno == EEXIST ? "a file of that name is in the way" : strerror(errno));
		return false;
	}
	char stamp[32];
	const time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
	for (int n = 1;; n++) {
		char suffix[16] = "";
		if (n > 1)
			snprintf(suffix, sizeof suffix, "-%d", n);
		snprintf(path, size, "results/micro-%s%s.json", stamp, suffix);
		if (access(path, F_OK) != 0)
			return true;
	}
}

int main(int argc, char **argv)
{
	const char *strategies[MICRO_MAX_STRATEGIES];
	int strategy_n = 0;
	bool quick = false, scale_given = false, min_time_given = false;
	bool out_given = false, format_given = false, report_wanted = true;
	bool suite_core = true, suite_dma = false, suite_workloads = false;
	int user_reps = 0;
	char *context_flag = NULL;
	int kept = 1;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (has_prefix(a, "--strategies=")) {
			if (parse_strategies(a + strlen("--strategies="), strategies, &strategy_n))
				return 1;
		} else if (has_prefix(a, "--scale=")) {
			if (!parse_scale(a + strlen("--scale="), &micro_opts.scale))
				return usage_error("--scale: \"%s\" is not a number above 0 and at most 1000",
						   a + strlen("--scale="));
			scale_given = true;
		} else if (has_prefix(a, "--suite=")) {
			suite_core = suite_dma = suite_workloads = false;
			char *list = a + strlen("--suite=");
			for (char *save, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (!strcmp(tok, "core"))
					suite_core = true;
				else if (!strcmp(tok, "streaming-dma"))
					suite_dma = true;
				else if (!strcmp(tok, "workloads"))
					suite_workloads = true;
				else if (!strcmp(tok, "all"))
					suite_core = suite_dma = suite_workloads = true;
				else
					return usage_error("--suite: unknown suite \"%s\" (core, streaming-dma, workloads, all)", tok);
			}
		} else if (!strcmp(a, "--quick")) {
			quick = true;
		} else if (has_prefix(a, "--block-size=")) {
			if (!parse_bytes(a + strlen("--block-size="), &micro_opts.block_bytes))
				return usage_error("--block-size: \"%s\" is not a size from 1 byte to 16G",
						   a + strlen("--block-size="));
		} else if (!strcmp(a, "--list-strategies")) {
			list_strategies();
			return 0;
		} else {
			if (!strcmp(a, "--help") || !strcmp(a, "-h"))
				fputs(usage, stdout); /* Google Benchmark prints its own part next */
			if (has_prefix(a, "--benchmark_repetitions="))
				user_reps = parse_repetitions(a + strlen("--benchmark_repetitions="));
			min_time_given |= has_prefix(a, "--benchmark_min_time");
			out_given |= has_prefix(a, "--benchmark_out=");
			format_given |= has_prefix(a, "--benchmark_out_format=");
			/* Runs that measure nothing leave no report. */
			report_wanted &= !has_prefix(a, "--benchmark_list_tests") && strcmp(a, "--help") && strcmp(a, "-h");
			if (has_prefix(a, "--benchmark_context="))
				context_flag = a; /* extended below with our settings */
			argv[kept++] = a;
		}
	}
	argv[kept] = NULL;
	argc = kept;

	if (quick && !scale_given)
		micro_opts.scale = QUICK_SCALE;
	/* The whole workloads always repeat (five times unless told), so that
	 * their names carry the same "repeats:N" however N was chosen. */
	micro_opts.repetitions = user_reps ? user_reps : quick ? 1 : DEFAULT_REPETITIONS;
	choose_thread_counts();

	static char cached_names[MICRO_MAX_STRATEGIES][64];
	if (strategy_n == 0) {
		if (2 * iova_strategy_count() > MICRO_MAX_STRATEGIES)
			return usage_error("more than %s registered strategies: choose with --strategies", "16");
		for (size_t i = 0; i < iova_strategy_count(); i++) {
			strategies[strategy_n++] = iova_strategy_name(i);
			snprintf(cached_names[i], sizeof cached_names[i], "%s+cache", iova_strategy_name(i));
			strategies[strategy_n++] = cached_names[i];
		}
	}
	if (suite_dma)
		bench_streaming_dma_register(strategies, strategy_n);
	if (suite_workloads)
		bench_workloads_register();
	if (suite_core)
		micro_register_floors();
	for (int i = 0; suite_core && i < strategy_n; i++) {
		gb_hook_fn setup = micro_fixture_hook((unsigned)i, strategies[i]);
		micro_register_alloc_free(strategies[i], setup);
		micro_register_cached_alloc(strategies[i], setup);
		micro_register_threadtest(strategies[i], setup);
		micro_register_constant_occupancy(strategies[i], setup);
		micro_register_linux_scalability(strategies[i], setup);
		micro_register_long_lived_churn(strategies[i], setup);
	}

	/* Record the settings that change what the numbers mean in the
	 * report's context (console header and JSON "context"). */
	char context[1024];
	int len = snprintf(context, sizeof context,
			   "--benchmark_context=%s%siovabench_scale=%g,iovabench_block_bytes=%llu",
			   context_flag ? context_flag + strlen("--benchmark_context=") : "", context_flag ? "," : "",
			   micro_opts.scale, (unsigned long long)micro_opts.block_bytes);
	if (len < 0 || (size_t)len >= sizeof context)
		return usage_error("--benchmark_context: too long (%s)", "over 900 characters");
	/* Scaling the workloads scales the time-driven alloc-free runs too.
	 * Through the flag, not Benchmark::MinTime(), which would put
	 * "min_time:" into the benchmark names. */
	char min_time[64];
	snprintf(min_time, sizeof min_time, "--benchmark_min_time=%g", DEFAULT_MIN_TIME * micro_opts.scale);
	char out_path[96] = "", out_flag[128], format_flag[] = "--benchmark_out_format=json";
	const bool default_out = !out_given && report_wanted;
	if (default_out && !default_report(out_path, sizeof out_path))
		return 1;
	snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", out_path);
	char *gb_argv[argc + 5];
	int gb_argc = 0;
	for (int i = 0; i < argc; i++)
		if (argv[i] != context_flag)
			gb_argv[gb_argc++] = argv[i];
	gb_argv[gb_argc++] = context;
	if (!min_time_given && micro_opts.scale != 1.0)
		gb_argv[gb_argc++] = min_time;
	if (default_out) {
		gb_argv[gb_argc++] = out_flag;
		if (!format_given)
			gb_argv[gb_argc++] = format_flag;
	}
	gb_argv[gb_argc] = NULL;
	const int status = gb_main(gb_argc, gb_argv);
	if (default_out && access(out_path, F_OK) == 0)
		fprintf(stderr, "iovabench-micro: report written to %s\n", out_path);
	return status;
}
