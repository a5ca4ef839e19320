/* SPDX-License-Identifier: MIT */
/*
 * wl_replay.h - compile a trace once, then replay it on worker threads
 * against an executor.
 *
 * Compiling (before any clock starts) assigns each stream to a worker, turns
 * names into buffer instances (one per lifetime: a name reused after a free is
 * a new instance) and computes the cross-worker dependencies. Replaying runs
 * each worker's operations in file order; the operations on one instance keep
 * file order across workers: an operation whose previous operation on the same
 * instance ran on another worker waits for that worker to publish it (an
 * acquire load of a per-instance counter, no lock, no read-modify-write).
 * Because each worker's list is a subsequence of file order and every
 * dependency points earlier in file order, a replay cannot deadlock.
 *
 * What an operation *does* is the executor's business: a table of functions,
 * one per kind, with a per-worker context. Shipped: a null executor (does
 * nothing; measures the replayer itself) and one over the core's allocation
 * API.
 */
#ifndef WL_REPLAY_H
#define WL_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "iova.h"
#include "wl_hist.h"
#include "wl_trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Executors                                                                */
/* ------------------------------------------------------------------------ */

/* What an executor keeps per live buffer: written by the operation that
 * creates the buffer, passed back to every later one. */
typedef union wl_handle {
	uint64_t u64[3];
	struct {
		iova_handle iova; /* wl_iova_executor: the allocation's handle */
		uint64_t addr;    /* ... its first IOVA; bit 0 (free: IOVAs are
				   * granule-aligned) set while it is evicted */
	};
	void *ptr;
} wl_handle;

typedef struct wl_alloc_args {
	uint64_t size, lowest, highest, boundary, alignment;
	iova_cache_type cache;
} wl_alloc_args;

/*
 * struct wl_executor - what each operation kind does.
 *
 * Every function runs on a worker thread with that worker's context and
 * returns an iova_status. A NULL function means the kind is not supported:
 * the replayer counts it as WL_FAIL_UNSUPPORTED without calling anything.
 * When a creating operation (alloc, map) fails, later operations on that
 * buffer are not attempted and count as WL_FAIL_SKIPPED.
 *
 * @worker_init: called on each worker thread (after pinning) before its first
 *               operation; returns the worker context (may be NULL if the
 *               executor needs none). @seed is derived from the replay seed
 *               and the worker number. Sets *@ok = false to refuse.
 * @worker_fini: called on the worker thread after its last operation.
 * @loop_end:    optional; called once per loop (warm-up loops included, @loop
 *               counting them from 0) on worker 0, after every worker has run
 *               the loop's last operation and before the buffers still live
 *               are released: the moment to look at the state a pass leaves.
 *               No operation runs meanwhile. It costs each loop one more
 *               barrier, so it is only waited for when set.
 * Buffers still live at the end of a loop are released with free or unmap
 * (not measured) before the next loop.
 */
typedef struct wl_executor {
	const char *name;
	void *ctx;
	void *(*worker_init)(void *ctx, unsigned worker, uint64_t seed, bool *ok);
	void (*worker_fini)(void *wctx);
	void (*loop_end)(void *ctx, unsigned loop);
	iova_status (*alloc)(void *wctx, const wl_alloc_args *a, wl_handle *out);
	iova_status (*free)(void *wctx, wl_handle *h);
	iova_status (*map)(void *wctx, uint64_t size, uint32_t segments, wl_handle *out);
	iova_status (*unmap)(void *wctx, wl_handle *h);
	iova_status (*transfer)(void *wctx, wl_handle *src, uint64_t src_offset, wl_handle *dst,
				uint64_t dst_offset, uint64_t bytes);
	iova_status (*fill)(void *wctx, wl_handle *h, uint64_t offset, uint64_t bytes, uint32_t value);
	iova_status (*flush)(void *wctx, wl_handle *h); /* NULL @h: the whole IOTLB */
	iova_status (*evict)(void *wctx, wl_handle *h);
	iova_status (*make_resident)(void *wctx, wl_handle *h);
} wl_executor;

/** wl_executor_null() - an executor whose every operation succeeds at once
 * (the replayer's own overhead). */
const wl_executor *wl_executor_null(void);

/*
 * struct wl_iova_executor - an executor over the core's API, on @domain with
 * @placement. Pass &x.ex to wl_replay(); it points at @x, so @x must stay
 * where it is, and @domain must outlive the replays.
 *
 * In a domain with an IOMMU (config.iommu set; @iommu true):
 *   alloc, map        iova_alloc_map(): an IOVA range mapped for its lifetime
 *                     (DxgkCbAllocateContiguousMemory; dma_map_sg's IOVA)
 *   free, unmap       iova_unmap_free() (the DXGK pair, Linux dma_unmap); of
 *                     an evicted buffer (nothing mapped): iova_free()
 *   transfer, fill    iova_device_dma() at the buffers' IOVAs plus offsets
 *   flush             iova_iommu_flush(): the whole IOTLB, also for a flush
 *                     of one buffer (the API has no range flush)
 *   evict, resident   iova_unmap() and iova_map(): the IOVA stays held
 * Without an IOMMU, alloc and free are iova_alloc() and iova_free(); the
 * other kinds need an IOMMU (a page list has no IOVA without one) and count
 * as WL_FAIL_UNSUPPORTED.
 */
typedef struct wl_iova_executor {
	wl_executor ex;
	iova_domain *domain;
	iova_placement placement;
	bool iommu;
} wl_iova_executor;

/** wl_iova_executor_init() - fill @x for @domain and @placement. */
void wl_iova_executor_init(wl_iova_executor *x, iova_domain *domain, iova_placement placement);

/* ------------------------------------------------------------------------ */
/* Compiling                                                                */
/* ------------------------------------------------------------------------ */

typedef enum wl_assign {
	WL_ASSIGN_BALANCED = 0, /* largest stream first onto the least loaded worker */
	WL_ASSIGN_ROUND_ROBIN,  /* stream i to worker i mod workers, by first appearance */
} wl_assign;

typedef struct wl_compile_options {
	unsigned workers; /* 0 means 1 */
	wl_assign assign;
} wl_compile_options;

typedef struct wl_compiled wl_compiled;

/**
 * wl_compile() - check @t (wl_trace_check()) and build the replayable form.
 * The result does not refer to @t, which may be freed; it is read-only, so
 * one compiled trace may be replayed any number of times.
 * Return: true, or false with @err filled (the trace's first violation).
 */
bool wl_compile(const wl_trace *t, const wl_compile_options *opt, wl_compiled **out, wl_error *err);

void wl_compiled_free(wl_compiled *c);
unsigned wl_compiled_workers(const wl_compiled *c);
size_t wl_compiled_op_count(const wl_compiled *c);                /* all workers */
size_t wl_compiled_worker_ops(const wl_compiled *c, unsigned worker);
unsigned wl_compiled_stream_worker(const wl_compiled *c, uint32_t stream);
/** wl_compiled_cross_deps() - operations that wait for another worker. */
size_t wl_compiled_cross_deps(const wl_compiled *c);

/* ------------------------------------------------------------------------ */
/* Replaying                                                                */
/* ------------------------------------------------------------------------ */

typedef enum wl_replay_mode {
	WL_REPLAY_FAST = 0, /* as fast as possible, order per stream kept */
	WL_REPLAY_TIMED,    /* each operation starts no earlier than its scaled timestamp */
} wl_replay_mode;

typedef enum wl_latency_mode {
	WL_LATENCY_BRACKET = 0, /* a clock read before and after each operation */
	WL_LATENCY_CHAINED,     /* one read per operation: an operation's end is the next one's
				 * start, so the replayer's few ns of bookkeeping count as latency */
	WL_LATENCY_OFF,
} wl_latency_mode;

typedef enum wl_fail_reason {
	WL_FAIL_NO_SPACE = 0,  /* IOVA_ERR_NO_SPACE, IOVA_ERR_NO_MEMORY */
	WL_FAIL_UNSATISFIABLE, /* the constraints can never be met (UNSATISFIABLE, RANGE_*, *_TOO_*) */
	WL_FAIL_UNSUPPORTED,   /* no executor function, or IOVA_ERR_UNSUPPORTED */
	WL_FAIL_ERROR,         /* any other status */
	WL_FAIL_SKIPPED,       /* not attempted: its buffer's creation had failed */
	WL_FAIL_REASON_COUNT
} wl_fail_reason;

const char *wl_fail_reason_name(wl_fail_reason r); /* "no-space", ... */
wl_fail_reason wl_fail_reason_of(iova_status s);   /* for s != IOVA_OK */

typedef struct wl_replay_options {
	wl_replay_mode mode;
	double time_scale;          /* timed: timestamps are multiplied by it (fio's
				     * replay_time_scale / 100): 0.5 replays twice as fast; 0 means 1 */
	unsigned loops;             /* measured passes over the trace; 0 means 1 */
	unsigned warmup_loops;      /* passes before, not recorded */
	uint64_t seed;              /* everything random: executor worker seeds */
	bool stop_on_failure;       /* stop all workers at the first failed operation */
	bool pin;                   /* pin worker i to a core (hwloc), cores before hyperthreads */
	wl_latency_mode latency;
	uint64_t late_threshold_ns; /* timed: an operation starting later than this is late; 0 means 10 us */
} wl_replay_options;

/*
 * struct wl_replay_result - what a replay measured (measured loops only).
 * Latencies and lags are in nanoseconds.
 */
typedef struct wl_replay_result {
	unsigned workers;
	unsigned loops;
	uint64_t ops;                        /* operations processed, attempted or skipped */
	uint64_t elapsed_ns;                 /* wall time of the measured loops */
	uint64_t count[WL_OP_KIND_COUNT];
	uint64_t status[WL_OP_KIND_COUNT][IOVA_STATUS_COUNT]; /* attempted operations by result */
	uint64_t failures[WL_OP_KIND_COUNT][WL_FAIL_REASON_COUNT];
	uint64_t failed;                     /* sum of failures */
	uint64_t cross_waits;                /* waits for another worker that had to spin */
	wl_hist latency[WL_OP_KIND_COUNT];   /* empty with WL_LATENCY_OFF */
	wl_hist all_latency;                 /* every kind together */
	/* timed mode: how far the replay fell behind its schedule */
	wl_hist lag;                         /* per operation: start - scheduled start (0 if early) */
	uint64_t lag_max_ns;
	uint64_t lag_final_ns;               /* the largest lag of any worker's last operation */
	uint64_t late_ops;                   /* lag above late_threshold_ns */
	uint64_t schedule_ns;                /* scaled span of the timestamps */
	/* stop_on_failure */
	bool stopped;
	char stop_reason[256];               /* "line N: kind: IOVA_ERR_...", empty if none */
} wl_replay_result;

/**
 * wl_replay() - replay @c on wl_compiled_workers(@c) threads against @ex.
 *
 * Operation failures do not fail the call: they are counted in the result
 * (and end the replay early with @opt->stop_on_failure). The caller must not
 * use @ex's contexts concurrently.
 *
 * Return: true with *@out (free with wl_replay_result_free()), or false with
 * @err when the replay could not run (thread creation, executor refused a
 * worker, out of memory).
 */
bool wl_replay(const wl_compiled *c, const wl_executor *ex, const wl_replay_options *opt,
	       wl_replay_result **out, wl_error *err);

void wl_replay_result_free(wl_replay_result *r);

/** wl_replay_print() - a human-readable summary (fio-like) of @r to @f. */
void wl_replay_print(const wl_replay_result *r, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
