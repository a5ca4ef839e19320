/* SPDX-License-Identifier: MIT */
/*
 * iovabench.h - the types the iovabench command's files share.
 *
 * Flow of `iovabench run`: options from a job file (jobfile.c) and the
 * command line (cli.c) are merged per section, lists expand to a matrix of
 * jobs (matrix.c), each job's workload becomes a compiled trace (workload.c),
 * and the runner (runner.c) replays it per repetition on a fresh domain
 * through a measuring executor (measure.c) while a sampler thread
 * (sampler.c) records time series. Results go to a run folder (results.c):
 * summary.json (summary.c), latency histograms as .hgrm (hgrm.c), CSV time
 * series, then plots (plot.c). compare.c reads two summaries back.
 *
 * Dependencies: workloads.h and iova.h (through it); inih, jansson and hwloc
 * are used by the files that need them only.
 */
#ifndef IOVABENCH_H
#define IOVABENCH_H

#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "workloads.h"

/* Exit codes of every subcommand. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUN = 1, /* the run went wrong (oracle violation, I/O) or compare found a regression */
	EXIT_USAGE = 2,       /* bad option, value, file: nothing was written */
	EXIT_INTERRUPTED = 130,
};

/* ------------------------------------------------------------------------ */
/* Errors and small helpers (util.c)                                        */
/* ------------------------------------------------------------------------ */

/* A message for the user, "where: what"; empty when there is none. */
typedef struct ib_error {
	char msg[1024];
} ib_error;

void ib_fail(ib_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ib_fail() with @where (a "file:line" or "--option") first, unless empty. */
void ib_fail_at(ib_error *e, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

char *ib_strdup(const char *s);                 /* aborts when out of memory */
void *ib_calloc(size_t n, size_t size);         /* aborts when out of memory */
void *ib_realloc(void *p, size_t n, size_t size); /* aborts when out of memory */
/* Trims @s in place (leading and trailing blanks); returns @s advanced. */
char *ib_trim(char *s);
/* Splits @text at commas outside parentheses into trimmed, non-empty
 * items; returns the count, *@items (free with ib_free_list), or -1 on an
 * empty item or unbalanced parentheses. */
int ib_split_list(const char *text, char ***items);
void ib_free_list(char **items, int n);
/* Formats @v with a binary suffix, "256M", "4K", "1.5G". */
void ib_format_bytes(uint64_t v, char *buf, size_t n);
/* Formats a rate: "1.23M", "456k", "12.3". */
void ib_format_si(double v, char *buf, size_t n);
/* Formats nanoseconds for people: "812 ns", "1.25 us", "3.4 ms". */
void ib_format_ns(double ns, char *buf, size_t n);
/* Replaces characters outside [A-Za-z0-9._+-] with '-'. */
void ib_slug(const char *in, char *out, size_t n);
/* Reads a whole file (NUL-terminated); "-" is standard input. */
bool ib_read_file(const char *path, char **out, size_t *len, ib_error *e);
bool ib_mkdir_p(const char *path, ib_error *e);
bool ib_file_exists(const char *path);

/* Atomic files: written under "<path>.tmp.<pid>", flushed, then renamed
 * over @path, so a reader sees the old file or the whole new one. */
typedef struct ib_afile {
	FILE *f;
	char path[4096];
	char tmp[4200];
} ib_afile;

bool ib_afile_open(ib_afile *a, const char *path, ib_error *e);
/* Closes and renames; false (and the temporary removed) on a write error. */
bool ib_afile_commit(ib_afile *a, ib_error *e);
void ib_afile_abort(ib_afile *a);
/* Writes @len bytes of @data to @path atomically. */
bool ib_write_atomic(const char *path, const char *data, size_t len, ib_error *e);

/* ------------------------------------------------------------------------ */
/* Value parsers (values.c)                                                 */
/* ------------------------------------------------------------------------ */

/* A byte count or plain number: decimal or 0x hex, optional binary suffix
 * K/M/G/T (also KiB...). */
bool ib_parse_size(const char *s, uint64_t *out);
/* A plain non-negative integer (decimal). */
bool ib_parse_uint(const char *s, uint64_t *out);
/* A duration: a number with ns/us/ms/s/m, bare numbers are seconds; out in ns. */
bool ib_parse_duration(const char *s, uint64_t *out_ns);
/* 1/0, yes/no, true/false, on/off. */
bool ib_parse_bool(const char *s, bool *out);

/* Invalidation policy names in job files: strict, batched (= percpu),
 * percpu, global, none. */
bool ib_policy_from_name(const char *s, iova_inval_policy *out);
/* One-line meaning of a job-file policy name (for `list`). */
size_t ib_policy_name_count(void);
const char *ib_policy_name_at(size_t i, iova_inval_policy *policy, const char **meaning);

/* ------------------------------------------------------------------------ */
/* Options (options.c)                                                      */
/* ------------------------------------------------------------------------ */

enum {
	OPT_LIST = 1u << 0,   /* a comma list: one job per value (the matrix) */
	OPT_MULTI = 1u << 1,  /* a comma list that stays one value (orders) */
	OPT_RUN = 1u << 2,    /* about the whole run: [global] or the command line only */
	OPT_CLI = 1u << 3,    /* command line only */
};

typedef struct ib_option {
	const char *name;
	unsigned flags;
	const char *def;   /* default, as text */
	const char *help;  /* one line */
	const char *valid; /* what a valid value looks like, for errors */
	/* Checks one value (one list item); NULL accepts anything. */
	bool (*check)(const char *value, char *why, size_t why_len);
} ib_option;

size_t ib_option_count(void);
const ib_option *ib_option_at(size_t i);
/* The option's index, or -1. */
int ib_option_find(const char *name);
/* The closest known option name to @name (for "did you mean"), or NULL. */
const char *ib_option_suggest(const char *name);
/* Checks @value for option @i: every item of a list. On failure @e says
 * "<where>: option 'x': 'value' is ..., <valid>". */
bool ib_option_check(size_t i, const char *value, const char *where, ib_error *e);

/* A set of option values as text: NULL means "not set here". @where[i]
 * says where value i came from ("jobs/main.ini:12", "--threads"). */
typedef struct ib_optset {
	char *value[64];
	char *where[64];
} ib_optset;

void ib_optset_set(ib_optset *s, size_t i, const char *value, const char *where);
void ib_optset_free(ib_optset *s);
/* @dst gets every value set in @src (overriding). */
void ib_optset_merge(ib_optset *dst, const ib_optset *src);
/* The value of option @name in @s, else its default. */
const char *ib_optset_get(const ib_optset *s, const char *name);
const char *ib_optset_where(const ib_optset *s, const char *name);

/* ------------------------------------------------------------------------ */
/* Job files (jobfile.c)                                                    */
/* ------------------------------------------------------------------------ */

typedef struct ib_section {
	char name[64];
	unsigned line;
	ib_optset opts;
} ib_section;

typedef struct ib_jobfile {
	char path[1024];
	ib_optset global;
	ib_section *sections;
	size_t nsections;
	char *text; /* the file as read (copied into the results) */
} ib_jobfile;

/* Parses @path (inih). Return: false with @e = "path:line: what". */
bool ib_jobfile_load(const char *path, ib_jobfile *jf, ib_error *e);
/* The same from memory (@path names it in messages). */
bool ib_jobfile_parse(const char *path, const char *text, ib_jobfile *jf, ib_error *e);
void ib_jobfile_free(ib_jobfile *jf);

/* ------------------------------------------------------------------------ */
/* Command line (cli.c)                                                     */
/* ------------------------------------------------------------------------ */

/* Options given as --name=value or --name value; positional arguments kept
 * in order. Unknown options and bad values are errors naming them. */
typedef struct ib_cli {
	ib_optset opts;
	char **pos;
	int npos;
	bool help;
	bool dry_run;
	char *job_filter; /* --job=A,B */
	char *out;        /* -o / --out (gen, import) */
	bool strict;      /* --strict (import) */
	double threshold; /* compare: --threshold */
	bool threshold_set;
} ib_cli;

enum {
	CLI_JOB = 1u << 0,       /* job and run options, --job, --dry-run (run, replay) */
	CLI_OUT = 1u << 1,       /* -o / --out (gen, import) */
	CLI_STRICT = 1u << 2,    /* --strict (import) */
	CLI_THRESHOLD = 1u << 3, /* --threshold (compare) */
};

/* Parses argv[1..] (argv[0] is the subcommand); @allow: which flags. */
bool ib_cli_parse(int argc, char **argv, unsigned allow, ib_cli *c, ib_error *e);
void ib_cli_free(ib_cli *c);

/* ------------------------------------------------------------------------ */
/* Topology and pinning (topo.c)                                            */
/* ------------------------------------------------------------------------ */

typedef struct ib_topo {
	unsigned packages, numa_nodes, cores, pus;
	char model[128];
	char arch[32];
	unsigned *pin_order; /* PU os index per worker: one per core before any second thread */
	unsigned npin;
	uint64_t l1d, l2, l3; /* bytes, 0 if unknown */
	char text[2048];      /* a human-readable summary */
} ib_topo;

/* Loads the topology once (hwloc); later calls return the same. */
const ib_topo *ib_topo_get(void);
/* Binds the calling thread to the PU of @worker (wrapping around). */
bool ib_topo_pin(unsigned worker);

/* ------------------------------------------------------------------------ */
/* Clock (tclock.c)                                                         */
/* ------------------------------------------------------------------------ */

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t ib_ticks(void) { return __rdtsc(); }
#define IB_CLOCK_SOURCE "tsc"
#else
#include <time.h>
static inline uint64_t ib_ticks(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#define IB_CLOCK_SOURCE "clock_gettime(CLOCK_MONOTONIC)"
#endif

typedef struct ib_clock {
	double ticks_per_ns;
	uint64_t read_cost_ticks; /* median cost of one read, subtracted from every latency */
	double read_cost_ns;
	const char *source;
} ib_clock;

/* Calibrates once (about 20 ms) and measures the cost of a read. */
const ib_clock *ib_clock_get(void);
uint64_t ib_mono_ns(void);
static inline uint64_t ib_ticks_to_ns(const ib_clock *c, uint64_t t) { return (uint64_t)((double)t / c->ticks_per_ns); }

/* ------------------------------------------------------------------------ */
/* Fragmentation (frag.c)                                                   */
/* ------------------------------------------------------------------------ */

#define IB_MAX_ORDERS 8

/* Linux mm/vmstat.c, DOMAIN.md section 5. @nr_free[k]: free blocks of order
 * k (2^k granules), k < @n. */
double ib_unusable_index(const uint64_t *nr_free, unsigned n, unsigned order);
double ib_fragmentation_index(const uint64_t *nr_free, unsigned n, unsigned order);

typedef struct ib_frag {
	uint64_t total_bytes, free_bytes, allocated_bytes, requested_bytes, live;
	uint64_t largest_free_extent, largest_free_block, free_extents;
	double external;                      /* 1 - largest free extent / free bytes; 0 when nothing is free */
	double internal;                      /* (held - requested) / held; 0 when nothing is held */
	double unusable[IB_MAX_ORDERS];       /* per chosen order */
	double fragindex[IB_MAX_ORDERS];
} ib_frag;

void ib_frag_from_stats(const iova_stats *st, const unsigned *orders, unsigned norders, ib_frag *out);

/* ------------------------------------------------------------------------ */
/* Jobs (matrix.c, workload.c)                                              */
/* ------------------------------------------------------------------------ */

/* One job: one point of the matrix, every option resolved. */
typedef struct ib_job {
	unsigned index;         /* 1-based, in run order */
	char section[64];
	char id[512];           /* stable across runs: section and matrix values */
	char slug[160];         /* file-name form, with the index */
	ib_optset opts;         /* every option's value as text (matrix values single) */
	/* resolved */
	char strategy[128];
	char strategy_options[256];
	char workload[1024];    /* the spec as written */
	char wl_label[256];     /* the workload's name in ids, tables and plots */
	char policy_name[32];   /* as written: "batched" */
	iova_inval_policy policy;
	iova_clock_mode clock;
	iova_placement placement;
	unsigned threads;
	uint32_t fq_entries;
	uint64_t fq_timeout_us;
	uint64_t domain_base, domain_size, granule;
	unsigned repetitions, warmup;
	uint64_t loops, ops, runtime_ns, interval_ns, seed, prefix;
	bool time_based, pin;
	unsigned replicate;     /* copies of the trace (resolved from "threads") */
	unsigned orders[IB_MAX_ORDERS];
	unsigned norders;
	struct ib_workload *wl; /* shared by jobs with the same workload */
} ib_job;

/* A resolved workload: the trace, compiled per worker count on demand. */
typedef struct ib_workload {
	char key[1200];         /* spec + transforms: jobs with equal keys share it */
	char label[128];        /* short name for ids and tables */
	char spec[1024];        /* what was run (the fallback's spec when it was used) */
	char source[1100];      /* "gen:gpu-frame", a path */
	bool fallback;          /* the trace file was missing; the fallback ran */
	char note[1400];        /* what the user is told, e.g. about the fallback */
	wl_trace *trace;
	uint64_t ops, streams, peak_live_bytes, max_request;
	wl_compiled *compiled[65]; /* by worker count (1..64) */
	wl_import_report import_report;
	bool imported;
} ib_workload;

typedef struct ib_plan {
	ib_job *jobs;
	size_t njobs;
	ib_workload **workloads;
	size_t nworkloads;
	ib_optset run;          /* run options (name, output, plots, progress, unavailable) */
	char **notices;         /* printed and recorded */
	size_t nnotices;
	char **skipped_strategies;
	size_t nskipped;
	const ib_jobfile *jobfile;
} ib_plan;

/*
 * ib_plan_build() - merge @jf (may be NULL) and @cli into jobs: defaults <
 * [global] < section < command line; lists expand; every value, strategy,
 * workload and domain configuration is checked (workloads are generated or
 * loaded here, before anything is written).
 * @default_name: the run's name when none is given.
 * Return: false with @e naming the option and where it was set.
 */
bool ib_plan_build(const ib_jobfile *jf, const ib_cli *cli, const char *default_name, ib_plan *plan,
		   ib_error *e);
void ib_plan_free(ib_plan *plan);
/* The domain @j runs on; @mmu receives the IOMMU part (cfg->iommu points to it). */
void ib_job_domain_config(const ib_job *j, iova_domain_config *cfg, iova_iommu_config *mmu);
void ib_plan_notice(ib_plan *plan, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* workload.c: resolves @spec ("gpu-frame(frames=10)", "trace:PATH",
 * "import:FORMAT[(params)]:PATH") with the transforms; @fallback used when
 * the file of a trace or import is missing. Shared through @plan. */
ib_workload *ib_workload_get(ib_plan *plan, const char *spec, const char *fallback, unsigned replicate,
			     uint64_t prefix, uint64_t seed, unsigned threads, ib_error *e);
/* The compiled form for @workers workers (cached). */
wl_compiled *ib_workload_compiled(ib_workload *w, unsigned workers, ib_error *e);
void ib_workload_free(ib_workload *w);
/* Syntax check of a workload spec (for option checking). */
bool ib_workload_spec_ok(const char *spec, char *why, size_t n);
/* Builds a trace from @spec without transforms (gen/import/replay use it). */
bool ib_workload_load(const char *spec, uint64_t seed, unsigned threads, wl_trace **out, wl_import_report *rep,
		      bool *imported, ib_error *e);

/* ------------------------------------------------------------------------ */
/* Interruption (interrupt.c)                                               */
/* ------------------------------------------------------------------------ */

/* The signal number, or 0. An atomic, not a volatile sig_atomic_t, because
 * worker threads read it while the handler may write it (lock-free atomics
 * are async-signal-safe). */
extern _Atomic int ib_interrupted;
/* SIGINT and SIGTERM set ib_interrupted; a second one kills the process. */
void ib_interrupt_install(void);

/* ------------------------------------------------------------------------ */
/* Measurement (measure.c, sampler.c)                                       */
/* ------------------------------------------------------------------------ */

#define IB_KINDS WL_OP_KIND_COUNT

/* Per worker: written by the worker only; the sampler reads the atomics. */
typedef struct ib_mworker {
	_Atomic uint64_t ops;      /* operations recorded */
	_Atomic uint64_t requests; /* alloc and map attempts */
	_Atomic uint64_t failed;   /* alloc and map that failed for lack of space or a constraint */
	uint64_t count[IB_KINDS];
	uint64_t status[IB_KINDS][IOVA_STATUS_COUNT];
	uint64_t req_by_size[64], failed_by_size[64]; /* alloc and map, by floor(log2(bytes)) */
	void *inner_wctx;
	struct ib_measure *m;
	wl_hist lat[IB_KINDS];     /* ns, clock cost subtracted */
} __attribute__((aligned(64))) ib_mworker;

/*
 * struct ib_measure - an executor wrapped around another (the core's): it
 * times each call with the calibrated clock, counts results per kind and
 * status, and stops forwarding work (returning IOVA_ERR_UNSUPPORTED, not
 * recorded) after a deadline or an interruption, so a pass ends quickly.
 * Releases (free, unmap) are always forwarded so nothing leaks.
 */
typedef struct ib_measure {
	wl_executor ex;            /* give &m->ex to wl_replay() */
	const wl_executor *inner;
	const ib_clock *clk;
	ib_mworker *w;
	unsigned nworkers;
	bool pin;
	_Atomic bool recording;
	_Atomic uint64_t deadline; /* ticks; UINT64_MAX for none */
	_Atomic bool cut;          /* something was not forwarded (deadline or interruption) */
	/* loop_end: the domain's state after each complete recorded pass */
	iova_domain *domain;
	const unsigned *orders;
	unsigned norders;
	bool end_valid;
	ib_frag end;
	unsigned passes;           /* recorded passes that ran to their end */
} ib_measure;

bool ib_measure_init(ib_measure *m, const wl_executor *inner, unsigned nworkers, iova_domain *domain,
		     const unsigned *orders, unsigned norders, bool pin);
void ib_measure_reset(ib_measure *m); /* zero the counts and histograms */
void ib_measure_fini(ib_measure *m);

/* One row of a job's time series. */
typedef struct ib_sample {
	unsigned rep;
	double t;                /* seconds since the repetition's measurement started */
	uint64_t ops;            /* cumulative in this repetition */
	double ops_per_s;        /* over the interval */
	uint64_t requests, failed;
	double fail_rate;        /* over the interval: failed / requests */
	ib_frag frag;
	double iotlb_hit_rate;   /* cumulative in the repetition; -1 without IOMMU activity */
	uint64_t inv_page, inv_domain, flushes, ranges_pending, stale_hits;
	bool final;              /* taken when the repetition ended */
} ib_sample;

typedef struct ib_series {
	ib_sample *rows;
	size_t n, cap;
} ib_series;

typedef struct ib_sampler ib_sampler;
/* Progress callback: called from the sampler thread after each sample. */
typedef void (*ib_progress_fn)(void *ctx, uint64_t ops, double rate);

/* Starts a thread sampling @m and @domain every @interval_ns into @out. */
ib_sampler *ib_sampler_start(ib_measure *m, iova_domain *domain, uint64_t interval_ns, unsigned rep,
			     const unsigned *orders, unsigned norders, ib_series *out, ib_progress_fn fn,
			     void *fn_ctx);
/* Takes a last sample (marked final) and joins the thread. */
void ib_sampler_stop(ib_sampler *s);
/* One sample now, from the calling thread (also used for the final one). */
void ib_sample_take(ib_measure *m, iova_domain *domain, const unsigned *orders, unsigned norders, ib_sample *out);
void ib_series_free(ib_series *s);

/* ------------------------------------------------------------------------ */
/* Running (runner.c)                                                       */
/* ------------------------------------------------------------------------ */

typedef enum ib_job_state {
	JOB_PENDING = 0,
	JOB_COMPLETE,
	JOB_INTERRUPTED,
	JOB_FAILED,
} ib_job_state;

const char *ib_job_state_name(ib_job_state s);

typedef struct ib_rep {
	uint64_t ops, elapsed_ns, requests, failed, unsupported;
	unsigned passes;
	double ops_per_s;
	double modelled_ops_per_s; /* modelled clock: operations per modelled second; 0 otherwise */
	uint64_t p50_ns, p99_ns, alloc_p50_ns, alloc_p99_ns; /* all operations; alloc */
	bool cut;                  /* stopped by the runtime cap or an interruption */
} ib_rep;

/* IOMMU figures summed over repetitions (measured part only). */
typedef struct ib_iommu_sum {
	bool present;
	iova_iommu_statistics last; /* the last repetition's, for its configuration */
	uint64_t maps, unmaps, map_errors, unmap_errors;
	uint64_t dma_ops, dma_accesses, dma_faults;
	uint64_t iotlb_hits, iotlb_misses, iotlb_evictions, page_walks, walk_levels;
	uint64_t stale_hits;
	uint64_t inv_page, inv_domain, flushes, flushes_full, flushes_timeout, flushes_forced;
	uint64_t ranges_queued, ranges_released, iovas_deferred, release_errors;
	uint64_t ranges_drained;    /* released by the flush that ends each repetition */
	uint64_t clock_max, clock_sum, cycles_invalidate, cycles_inv_queueing, cycles_pte, cycles_queue,
		cycles_lock_wait, device_cycles;
	uint64_t oracle_checks, oracle_violations, oracle_overlaps, oracle_first_violation;
	wl_hist *window;            /* vulnerability window, cycles */
} ib_iommu_sum;

typedef struct ib_job_result {
	ib_job_state state;
	char error[512];
	ib_rep *reps;
	unsigned nreps;
	unsigned workers;           /* workers with operations (streams permitting) */
	/* Histograms (ns): dropped by ib_job_result_drop_hists() once written;
	 * the summaries stay. */
	wl_hist *lat[IB_KINDS];     /* merged over workers and repetitions */
	wl_hist *lat_thread[64][IB_KINDS];
	wl_hist *all;
	wl_hist_summary lat_sum[IB_KINDS], all_sum;
	wl_hist_summary *thread_sum; /* [workers][IB_KINDS] */
	unsigned nthreads;           /* threads the job ran */
	uint64_t count[IB_KINDS];
	uint64_t status[IB_KINDS][IOVA_STATUS_COUNT];
	uint64_t skipped[IB_KINDS]; /* not attempted: the buffer's creation had failed (complete passes) */
	uint64_t unsupported;       /* IOVA_ERR_UNSUPPORTED, and kinds the executor cannot do */
	uint64_t requests, failed;
	uint64_t req_by_size[64], failed_by_size[64]; /* by floor(log2(request bytes)) */
	ib_iommu_sum iommu;
	/* The strategy's own counters (iova_domain_counters()): totals over the
	 * measured passes, summed over repetitions; levels as the last
	 * repetition's measured passes ended; peaks the largest any repetition's
	 * domain reached (warm-up included). */
	unsigned ncounters;
	iova_counter counters[IOVA_STATS_MAX_COUNTERS];
	bool end_valid;
	ib_frag end;                /* after the last complete pass, before leftovers are released */
	ib_frag worst;              /* the smallest largest-free-extent seen (samples and pass ends) */
	bool worst_valid;
	ib_series series;
	double wall_s;
	double median_ops_per_s, min_ops_per_s, max_ops_per_s;
	double median_modelled_ops_per_s;
} ib_job_result;

typedef struct ib_run_hooks {
	void (*job_start)(void *ctx, const ib_job *job, unsigned rep);
	ib_progress_fn progress;
	void *ctx;
} ib_run_hooks;

/* Runs @job's repetitions into @r (allocated inside; free with
 * ib_job_result_free). Stops early on ib_interrupted. */
void ib_run_job(const ib_job *job, const ib_run_hooks *hooks, ib_job_result *r);
void ib_job_result_free(ib_job_result *r);
/* Frees the histograms (the summaries stay). */
void ib_job_result_drop_hists(ib_job_result *r);

/* ------------------------------------------------------------------------ */
/* Results (results.c, summary.c, hgrm.c, table.c)                          */
/* ------------------------------------------------------------------------ */

typedef struct ib_buildinfo {
	const char *version, *revision, *compiler, *c_flags, *build_type, *sanitize;
	bool dirty;
} ib_buildinfo;

const ib_buildinfo *ib_buildinfo_get(void);

typedef struct ib_run {
	char dir[4096];       /* results/<stamp>-<name> */
	char root[4096];      /* results */
	char name[128];
	char started[64];     /* ISO 8601 */
	char finished[64];
	double wall_s;
	const char *state;    /* "running", "complete", "interrupted", "failed" */
	char **argv;
	int argc;
	const ib_plan *plan;
	ib_job_result *results; /* per job (state PENDING until run) */
	char plots_note[512];
	uint64_t oracle_violations;
} ib_run;

/* Creates results/<stamp>-<name>/ (a new name if it exists). */
bool ib_run_create_dir(ib_run *run, ib_error *e);
/* Writes a job's time series and histograms. */
bool ib_results_write_job(const ib_run *run, size_t job, ib_error *e);
/* Writes summary.json (atomically). */
bool ib_summary_write(const ib_run *run, ib_error *e);
/* Points <root>/latest at the run's folder (atomically). */
bool ib_results_link_latest(const ib_run *run, ib_error *e);

/* hgrm.c: HdrHistogram's percentile distribution text, values in
 * microseconds (ns / 1000) with @ticks_per_half percentile ticks. */
void ib_hgrm_write(const wl_hist *h, FILE *f);

/* table.c: the summary table, one line per job. */
void ib_table_print(const ib_run *run, FILE *f);

/* ------------------------------------------------------------------------ */
/* Statistics for compare (stats.c)                                         */
/* ------------------------------------------------------------------------ */

double ib_median(const double *v, size_t n);
/* 95% bootstrap interval of median(b)/median(a), @iters resamples, seeded. */
void ib_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb, unsigned iters, uint64_t seed,
			double *lo, double *hi);

/* compare.c: prints the comparison of two result folders to @f; returns
 * the number of significant regressions, or -1 with @e (missing folder, not
 * a summary, no job in common). */
int ib_compare_dirs(const char *dir_a, const char *dir_b, double threshold, FILE *f, ib_error *e);

/* ------------------------------------------------------------------------ */
/* Plots (plot.c)                                                           */
/* ------------------------------------------------------------------------ */

/* Writes data files and gnuplot scripts under @dir/plots and renders them
 * with gnuplot when @render (and gnuplot is found). @note receives what the
 * user should be told ("12 PNG and 12 SVG files in ...", or why not). */
bool ib_plot_results(const char *dir, bool render, char *note, size_t note_len, ib_error *e);
/* The scripts of plots/, compiled in (embed.cmake); ends with {NULL, NULL}. */
typedef struct ib_embedded {
	const char *name, *text;
} ib_embedded;
extern const ib_embedded ib_plot_scripts[];
/* Whether gnuplot can be run. */
bool ib_gnuplot_found(void);
/* The fixed colour of a strategy, "#rrggbb". */
const char *ib_strategy_colour(const char *strategy);

/* ------------------------------------------------------------------------ */
/* Subcommands (cmd_*.c)                                                    */
/* ------------------------------------------------------------------------ */

int ib_cmd_run(int argc, char **argv, bool replay);
int ib_cmd_gen(int argc, char **argv);
int ib_cmd_import(int argc, char **argv);
int ib_cmd_list(int argc, char **argv);
int ib_cmd_topo(int argc, char **argv);
int ib_cmd_plot(int argc, char **argv);
int ib_cmd_compare(int argc, char **argv);

/* Prints "iovabench: <msg>" and a hint to stderr; returns EXIT_USAGE. */
int ib_usage_error(const char *cmd, const ib_error *e);

#endif
