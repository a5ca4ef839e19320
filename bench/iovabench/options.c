/* SPDX-License-Identifier: MIT */
/*
 * options.c - every option of `iovabench run`, spelled the same in a job
 * file (name = value) and on the command line (--name=value): its default,
 * a one-line help, and the check of one value.
 */
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

static bool check_name(const char *v, char *why, size_t n)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '+' || *p == '.')) {
			snprintf(why, n, "'%c' is not allowed in a name", *p);
			return false;
		}
	return *v || (snprintf(why, n, "empty"), false);
}

static bool check_workload(const char *v, char *why, size_t n) { return ib_workload_spec_ok(v, why, n); }

static bool check_fallback(const char *v, char *why, size_t n) { return !*v || ib_workload_spec_ok(v, why, n); }

static bool check_uint_range(const char *v, uint64_t lo, uint64_t hi, char *why, size_t n)
{
	uint64_t x;
	if (!ib_parse_size(v, &x)) {
		snprintf(why, n, "not a number");
		return false;
	}
	if (x < lo || x > hi) {
		snprintf(why, n, "outside [%llu, %llu]", (unsigned long long)lo, (unsigned long long)hi);
		return false;
	}
	return true;
}

static bool check_replicate(const char *v, char *why, size_t n)
{
	return strcmp(v, "threads") == 0 || check_uint_range(v, 1, 64, why, n);
}

static bool check_size(const char *v, char *why, size_t n) { return check_uint_range(v, 0, UINT64_MAX, why, n); }

static bool check_positive_size(const char *v, char *why, size_t n)
{
	return check_uint_range(v, 1, UINT64_MAX, why, n);
}

static bool check_policy(const char *v, char *why, size_t n)
{
	iova_inval_policy p;
	if (ib_policy_from_name(v, &p))
		return true;
	snprintf(why, n, "unknown policy");
	return false;
}

static bool check_fq_entries(const char *v, char *why, size_t n)
{
	uint64_t x;
	if (!ib_parse_size(v, &x)) {
		snprintf(why, n, "not a number");
		return false;
	}
	if (x & (x - 1) || x > (1u << 20)) {
		snprintf(why, n, "not 0 or a power of two up to 1048576");
		return false;
	}
	return true;
}

static bool check_duration(const char *v, char *why, size_t n)
{
	uint64_t ns;
	if (ib_parse_duration(v, &ns))
		return true;
	snprintf(why, n, "not a duration");
	return false;
}

static bool check_interval(const char *v, char *why, size_t n)
{
	uint64_t ns;
	if (!ib_parse_duration(v, &ns)) {
		snprintf(why, n, "not a duration");
		return false;
	}
	if (ns < 1000000) {
		snprintf(why, n, "shorter than 1 ms");
		return false;
	}
	return true;
}

static bool check_enum(const char *v, const char *const *names, char *why, size_t n)
{
	for (; *names; names++)
		if (strcmp(v, *names) == 0)
			return true;
	snprintf(why, n, "not one of the choices");
	return false;
}

static bool check_clock(const char *v, char *why, size_t n)
{
	static const char *const names[] = {"modelled", "spin", NULL};
	return check_enum(v, names, why, n);
}

static bool check_placement(const char *v, char *why, size_t n)
{
	static const char *const names[] = {"bottom-up", "top-down", NULL};
	return check_enum(v, names, why, n);
}

static bool check_auto(const char *v, char *why, size_t n)
{
	static const char *const names[] = {"auto", "yes", "no", NULL};
	return check_enum(v, names, why, n);
}

static bool check_unavailable(const char *v, char *why, size_t n)
{
	static const char *const names[] = {"error", "skip", NULL};
	return check_enum(v, names, why, n);
}

static bool check_threads(const char *v, char *why, size_t n)
{
	return strcmp(v, "all") == 0 || check_uint_range(v, 1, 64, why, n);
}

static bool check_granule(const char *v, char *why, size_t n)
{
	uint64_t x;
	if (!ib_parse_size(v, &x) || x < IOVA_GRANULE_MIN || x > IOVA_GRANULE_MAX || (x & (x - 1))) {
		snprintf(why, n, "not a power of two from 4K to 64K");
		return false;
	}
	return true;
}

static bool check_bool(const char *v, char *why, size_t n)
{
	bool b;
	if (ib_parse_bool(v, &b))
		return true;
	snprintf(why, n, "not a yes/no value");
	return false;
}

static bool check_repetitions(const char *v, char *why, size_t n) { return check_uint_range(v, 1, 1000, why, n); }

static bool check_passes(const char *v, char *why, size_t n) { return check_uint_range(v, 0, 1000000000, why, n); }

static bool check_order(const char *v, char *why, size_t n) { return check_uint_range(v, 0, 63, why, n); }

static bool check_run_name(const char *v, char *why, size_t n) { return !*v || check_name(v, why, n); }

static const ib_option options[] = {
	/* What runs: the matrix. */
	{"strategy", OPT_LIST, "buddy-lf",
	 "allocation strategies (iovabench list strategies); a +cache suffix puts per-CPU magazines in front",
	 "a strategy name such as buddy-lf or buddy-lf+cache", check_name},
	{"workload", OPT_LIST, "gpu-frame",
	 "workloads: GENERATOR[(key=value ...)], trace:PATH or import:FORMAT[(key=value ...)]:PATH",
	 "e.g. gpu-frame, fragmenter(count=4096 streams=2), trace:my.trace, import:minimalloc:A.1048576.csv",
	 check_workload},
	{"invalidation", OPT_LIST, "strict", "IOTLB invalidation policies: strict, batched (= percpu), percpu, global, none",
	 "one of strict, batched, percpu, global, none (iovabench list policies)", check_policy},
	{"threads", OPT_LIST, "1", "worker threads (one per core before hyperthreads), or all (every core)",
	 "a number from 1 to 64, or all", check_threads},
	{"fq_entries", OPT_LIST, "0", "flush-queue entries of percpu/batched and global (0: the policy's default, 256 per CPU or 32768)",
	 "0 or a power of two up to 1048576", check_fq_entries},
	{"fq_timeout", OPT_LIST, "0", "flush-queue timeout of percpu/batched and global (0: the policy's default, 10ms or 1s)",
	 "a duration such as 10ms, 500us or 1s", check_duration},
	{"domain_size", OPT_LIST, "64G", "bytes of IOVA space per domain", "a size such as 64G or 0x100000000",
	 check_positive_size},
	{"clock", OPT_LIST, "spin",
	 "how IOMMU costs are spent: spin (busy-waited, in the measured time) or modelled (virtual clocks)",
	 "modelled or spin", check_clock},
	{"placement", OPT_LIST, "bottom-up", "address preference passed with each request", "bottom-up or top-down",
	 check_placement},
	/* How the workload is shaped. */
	{"fallback_workload", 0, "", "workload run instead of a trace:/import: one whose file is missing (said in the output)",
	 "a workload as for workload=", check_fallback},
	{"replicate", 0, "1", "run N independent copies of the workload side by side, or one per thread (threads)",
	 "a number from 1 to 64, or threads", check_replicate},
	{"prefix", 0, "0", "keep only the first N operations of the workload (0: all)", "a number", check_size},
	{"strategy_options", 0, "", "strategy options as key=value pairs separated by commas", "key=value,...", NULL},
	{"domain_base", 0, "0", "first address of the IOVA space", "a multiple of the granule", check_size},
	{"granule", 0, "4K", "allocation granule (and IOMMU page)", "a power of two from 4K to 64K", check_granule},
	/* How long and how often. */
	{"repetitions", 0, "3", "repetitions per job, each on a fresh domain (speed is the median)", "1 to 1000",
	 check_repetitions},
	{"warmup", 0, "1", "passes over the workload before measuring (not recorded)", "a number of passes",
	 check_passes},
	{"loops", 0, "1", "passes over the workload per repetition (unless ops or time_based)", "a number of passes",
	 check_passes},
	{"ops", 0, "0", "operations per repetition, rounded up to whole passes (0: use loops)", "a number", check_size},
	{"runtime", 0, "0",
	 "cap per repetition and per warm-up (0: none); a capped repetition is marked, its last pass cut short",
	 "a duration such as 2s or 500ms", check_duration},
	{"time_based", 0, "0", "repeat passes until runtime has elapsed", "yes or no", check_bool},
	{"seed", 0, "1", "seed of the generators (unless given in their parameters)", "a number", check_size},
	/* What is recorded. */
	{"interval", 0, "100ms", "sampling interval of the time series (throughput, fragmentation, IOMMU)",
	 "a duration of at least 1ms", check_interval},
	{"orders", OPT_MULTI, "0,4,9,18",
	 "orders (in granules: 9 = 2 MiB, 18 = 1 GiB with 4K) of the unusable-space and fragmentation indices",
	 "up to 8 numbers from 0 to 63", check_order},
	{"pin", 0, "1", "pin worker threads (hwloc): one per core before hyperthreads", "yes or no", check_bool},
	/* The run as a whole. */
	{"name", OPT_RUN, "", "the run's name: results/<date-time>-<name>/ (default: the job file's name)",
	 "letters, digits, - _ + .", check_run_name},
	{"output", OPT_RUN, "results", "folder that receives the run's folder and the latest link", "a folder",
	 NULL},
	{"plots", OPT_RUN, "auto", "render plots with gnuplot: auto (when installed), yes or no", "auto, yes or no",
	 check_auto},
	{"progress", OPT_RUN, "auto", "the live progress line: auto (on a terminal), yes or no", "auto, yes or no",
	 check_auto},
	{"unavailable", OPT_RUN, "error",
	 "strategies this build lacks: error (exit 2) or skip (run the others, say which were skipped)",
	 "error or skip", check_unavailable},
	{"description", OPT_RUN, "", "free text recorded in summary.json", "any text", NULL},
};

#define NOPT (sizeof options / sizeof options[0])
_Static_assert(NOPT <= 64, "ib_optset holds 64 options");

size_t ib_option_count(void) { return NOPT; }
const ib_option *ib_option_at(size_t i) { return i < NOPT ? &options[i] : NULL; }

int ib_option_find(const char *name)
{
	for (size_t i = 0; i < NOPT; i++)
		if (strcmp(options[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Levenshtein distance, for suggestions. */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	unsigned d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			unsigned x = d[i - 1][j] + 1, y = d[i][j - 1] + 1;
			d[i][j] = c < x ? (c < y ? c : y) : (x < y ? x : y);
		}
	return d[la][lb];
}

const char *ib_option_suggest(const char *name)
{
	const char *best = NULL;
	unsigned bd = 3; /* at most two edits away */
	for (size_t i = 0; i < NOPT; i++) {
		unsigned dd = distance(name, options[i].name);
		if (dd < bd) {
			bd = dd;
			best = options[i].name;
		}
	}
	if (!best && strlen(name) >= 3)
		for (size_t i = 0; i < NOPT; i++)
			if (strstr(options[i].name, name) || strstr(name, options[i].name))
				return options[i].name;
	return best;
}

bool ib_option_check(size_t i, const char *value, const char *where, ib_error *e)
{
	const ib_option *o = &options[i];
	char **items = NULL;
	int n;
	if (o->flags & (OPT_LIST | OPT_MULTI)) {
		n = ib_split_list(value, &items);
		if (n < 0) {
			ib_fail_at(e, where, "option '%s': '%s' is not a valid list (empty item or unbalanced parentheses); "
					     "expected %s, separated by commas",
				   o->name, value, o->valid);
			return false;
		}
		if ((o->flags & OPT_MULTI) && n > IB_MAX_ORDERS) {
			ib_fail_at(e, where, "option '%s': at most %d values", o->name, IB_MAX_ORDERS);
			ib_free_list(items, n);
			return false;
		}
	} else {
		items = ib_calloc(1, sizeof *items);
		items[0] = ib_strdup(value);
		n = 1;
	}
	bool ok = true;
	for (int k = 0; k < n && ok; k++) {
		char why[256] = "";
		if (o->check && !o->check(items[k], why, sizeof why)) {
			ib_fail_at(e, where, "option '%s': '%s': %s; expected %s", o->name, items[k], why, o->valid);
			ok = false;
		}
	}
	ib_free_list(items, n);
	return ok;
}

void ib_optset_set(ib_optset *s, size_t i, const char *value, const char *where)
{
	/* copied first: @value or @where may be the strings being replaced */
	char *v = ib_strdup(value), *w = ib_strdup(where);
	free(s->value[i]);
	free(s->where[i]);
	s->value[i] = v;
	s->where[i] = w;
}

void ib_optset_free(ib_optset *s)
{
	for (size_t i = 0; i < 64; i++) {
		free(s->value[i]);
		free(s->where[i]);
		s->value[i] = s->where[i] = NULL;
	}
}

void ib_optset_merge(ib_optset *dst, const ib_optset *src)
{
	for (size_t i = 0; i < NOPT; i++)
		if (src->value[i])
			ib_optset_set(dst, i, src->value[i], src->where[i]);
}

const char *ib_optset_get(const ib_optset *s, const char *name)
{
	int i = ib_option_find(name);
	if (i < 0)
		return "";
	return s->value[i] ? s->value[i] : options[i].def;
}

const char *ib_optset_where(const ib_optset *s, const char *name)
{
	int i = ib_option_find(name);
	if (i < 0 || !s->where[i])
		return "";
	return s->where[i];
}
