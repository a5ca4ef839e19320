/* SPDX-License-Identifier: MIT */
/*
 * iova.h - the public interface of the iovabench core.
 *
 * Contiguous allocation in a simulated IOMMU logical (I/O virtual) address
 * space, with the request shape of Windows' DxgkCbAllocateContiguousMemory:
 * a size, the lowest and highest acceptable address, a boundary the block
 * must not cross, an alignment and a cache type. A domain owns one such
 * space; an allocation strategy (the lock-free buddy by default) hands out
 * blocks of it.
 *
 * Every function reports failure as an iova_status value; none aborts on bad
 * input. All functions are safe to call concurrently on the same domain
 * except iova_domain_create() and iova_domain_destroy().
 */
#ifndef IOVA_H
#define IOVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

typedef enum iova_status {
	IOVA_OK = 0,
	IOVA_ERR_INVALID_ARGUMENT,   /* null pointer or malformed domain config */
	IOVA_ERR_ZERO_SIZE,          /* request size is zero */
	IOVA_ERR_SIZE_TOO_LARGE,     /* request size exceeds the domain */
	IOVA_ERR_RANGE_INVERTED,     /* lowest acceptable > highest acceptable */
	IOVA_ERR_RANGE_TOO_SMALL,    /* acceptable range (within the domain) is smaller than the size */
	IOVA_ERR_BAD_BOUNDARY,       /* boundary multiple is not 0 or a power of two */
	IOVA_ERR_BOUNDARY_TOO_SMALL, /* boundary multiple is smaller than the size */
	IOVA_ERR_BAD_ALIGNMENT,      /* alignment is not 0 or a power of two */
	IOVA_ERR_BAD_CACHE_TYPE,     /* cache type is not one of iova_cache_type */
	IOVA_ERR_BAD_PLACEMENT,      /* placement is not one of iova_placement */
	IOVA_ERR_UNSATISFIABLE,      /* no placement meets the constraints, even in an empty domain */
	IOVA_ERR_NO_SPACE,           /* placements exist, but none is free now */
	IOVA_ERR_DOUBLE_FREE,        /* the handle's block was already freed */
	IOVA_ERR_UNKNOWN_HANDLE,     /* authentic handle, but no live block matches it */
	IOVA_ERR_FORGED_HANDLE,      /* the handle was not issued by this domain */
	IOVA_ERR_NO_MEMORY,          /* the host could not provide metadata memory */
	IOVA_ERR_UNSUPPORTED,        /* the strategy cannot honour this constraint */
	IOVA_ERR_NOT_MAPPED,         /* unmap of an allocation that is not mapped */
	IOVA_ERR_ALREADY_MAPPED,     /* map of an allocation that is already mapped */
	IOVA_ERR_STILL_MAPPED,       /* free of an allocation that is still mapped */
	IOVA_ERR_DEVICE_FAULT,       /* the IOMMU blocked a device access (no translation) */
	IOVA_ERR_NO_IOMMU,           /* the domain was created without an IOMMU */
	IOVA_STATUS_COUNT
} iova_status;

/** iova_status_name() - the enumerator's name, e.g. "IOVA_ERR_NO_SPACE".
 * Returns "IOVA_ERR_UNKNOWN_STATUS" for values outside the enum. */
const char *iova_status_name(iova_status status);

/** iova_status_message() - one sentence explaining @status to a user. */
const char *iova_status_message(iova_status status);

/* ------------------------------------------------------------------------ */
/* Requests and results                                                     */
/* ------------------------------------------------------------------------ */

/* MEMORY_CACHING_TYPE subset that DXGKARGCB_ALLOCATECONTIGUOUSMEMORY takes.
 * The simulation carries it with the block and reports it; it does not
 * change placement. */
typedef enum iova_cache_type {
	IOVA_CACHE_NON_CACHED = 0,
	IOVA_CACHE_CACHED = 1,
	IOVA_CACHE_WRITE_COMBINED = 2,
} iova_cache_type;

/* Where in the acceptable range a strategy should prefer to place blocks.
 * A preference, not an exact rule: the lock-free buddy starts each thread
 * in its own sixty-fourth of the space (of the window, for a request with
 * one) so that threads do not contend - at its top for top-down, its bottom
 * for bottom-up; the first thread's is the top (bottom) of the space - and
 * goes on downwards (upwards) from where it last allocated. Blocks served
 * from a magazine cache ignore it. */
typedef enum iova_placement {
	IOVA_PLACE_BOTTOM_UP = 0,
	IOVA_PLACE_TOP_DOWN = 1, /* what Linux's IOVA allocator does */
} iova_placement;

/*
 * struct iova_request - what DxgkCbAllocateContiguousMemory is asked for.
 *
 * @size:      bytes; rounded up to the domain's granule. A size that is not a
 *             power of two of granules occupies exactly the granules asked
 *             for: the buddy allocates the rounded-up block and hands the
 *             unused tail straight back to the free pool.
 * @lowest:    lowest acceptable address of the block's first byte (inclusive).
 * @highest:   highest acceptable address of the block's last byte (inclusive);
 *             0 means "no upper limit". Both are clamped to the domain. They
 *             bound the bytes held; the unused tail of a buddy's rounded
 *             block may lie beyond @highest (it is never held).
 * @boundary:  0, or a power of two: the block must not cross a multiple of it.
 * @alignment: 0 for the natural alignment of the rounded block (its size
 *             rounded up to a power of two), or a power of two; the block is
 *             aligned to the larger of the two.
 * @cache_type, @placement: see the enums.
 *
 * A zero-initialised request with only @size set asks for "anywhere".
 */
typedef struct iova_request {
	uint64_t size;
	uint64_t lowest;
	uint64_t highest;
	uint64_t boundary;
	uint64_t alignment;
	iova_cache_type cache_type;
	iova_placement placement;
} iova_request;

/* An opaque token naming one live allocation. It authenticates itself to the
 * domain that issued it, so a handle that was altered, made up or belongs to
 * another domain is refused with IOVA_ERR_FORGED_HANDLE (with probability
 * 1 - 2^-24 for a random value) instead of corrupting the allocator. */
typedef struct iova_handle {
	uint64_t opaque[2];
} iova_handle;

/* What a successful allocation returns (DXGKARGCB_ALLOCATECONTIGUOUSMEMORY's
 * outputs plus what the simulation knows about the block). */
typedef struct iova_allocation {
	iova_handle handle;         /* pass to iova_free() */
	uint64_t iova;              /* first address of the block */
	uint64_t size;              /* bytes held: the request rounded up to the granule */
	iova_cache_type cache_type; /* as requested */
} iova_allocation;

/* ------------------------------------------------------------------------ */
/* Domains                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct iova_domain iova_domain;

/*
 * struct iova_domain_config - the IOVA space a domain manages.
 *
 * @base:     first address; a multiple of @granule.
 * @size:     bytes; a non-zero multiple of @granule, at most 2^38 granules
 *            and at most 2^50 bytes (1 PiB); base + size must not overflow.
 * @granule:  0 for 4 KiB, else a power of two from 4 KiB to 64 KiB.
 * @strategy: name of the allocation strategy; NULL for "buddy-lf". A name
 *            ending in "+cache" puts per-CPU magazine caches in front of
 *            the named strategy. iova_strategy_name() lists them all.
 * @options:  NULL, or strategy options as comma-separated key=value pairs
 *            (e.g. "magazine_size=127,classes=6"); unknown keys are errors.
 * @iommu:    NULL (what a zero-initialised config holds) for a bare IOVA
 *            space; else the simulated IOMMU the domain owns (copied). In
 *            iova_domain_get_config() it points to the domain's copy, with
 *            defaults filled in, valid while the domain lives.
 */
typedef struct iova_domain_config {
	uint64_t base;
	uint64_t size;
	uint64_t granule;
	const char *strategy;
	const char *options;
	const struct iova_iommu_config *iommu; /* NULL: no IOMMU; see "IOMMU simulation" below */
} iova_domain_config;

#define IOVA_GRANULE_MIN 4096u
#define IOVA_GRANULE_MAX 65536u
#define IOVA_DEFAULT_GRANULE 4096u
#define IOVA_MAX_GRANULES_LOG2 38

/**
 * iova_domain_create() - create a domain over an IOVA space.
 * @config: the space and the strategy; copied, the caller keeps ownership.
 * @out:    receives the domain on success, NULL otherwise.
 *
 * Metadata is reserved, not committed: creating a 1 TiB domain costs a few
 * pages until blocks are used.
 *
 * Return: IOVA_OK; IOVA_ERR_INVALID_ARGUMENT for a malformed config or an
 * unknown strategy; IOVA_ERR_NO_MEMORY if the host refuses the reservation.
 */
iova_status iova_domain_create(const iova_domain_config *config, iova_domain **out);

/**
 * iova_domain_destroy() - release a domain and all its metadata.
 *
 * Live allocations are discarded. The caller must ensure no other thread
 * uses the domain. NULL is ignored.
 */
void iova_domain_destroy(iova_domain *domain);

/** iova_domain_get_config() - the configuration the domain was created with
 * (granule and strategy filled in with their defaults). */
iova_domain_config iova_domain_get_config(const iova_domain *domain);

/**
 * iova_alloc() - allocate a block contiguous in the IOVA space.
 * @domain:  the domain.
 * @request: the constraints; not retained.
 * @out:     receives handle, address and size on success; zeroed on failure.
 *
 * Return: IOVA_OK, one of the request-validation errors (each names the
 * offending field), IOVA_ERR_UNSATISFIABLE when no placement could ever meet
 * the constraints, or IOVA_ERR_NO_SPACE when none is free now. Without
 * concurrent callers a failure is exact: IOVA_ERR_NO_SPACE means no suitable
 * free block exists. With concurrent callers a block being split or merged by
 * another thread at that instant may be missed.
 */
iova_status iova_alloc(iova_domain *domain, const iova_request *request, iova_allocation *out);

/**
 * iova_free() - return an allocation's block to the domain.
 * @handle: as returned in iova_allocation.handle.
 *
 * Return: IOVA_OK; IOVA_ERR_FORGED_HANDLE for a handle this domain did not
 * issue; IOVA_ERR_DOUBLE_FREE when the block is already free;
 * IOVA_ERR_UNKNOWN_HANDLE when the handle is authentic but its block is no
 * longer allocated as issued (freed, then reused). A failed free changes
 * nothing. Freeing a stale handle whose block was freed and then handed out
 * again with the same address and size cannot be told apart from a valid
 * free: as with any allocator, the caller must not free twice.
 */
iova_status iova_free(iova_domain *domain, iova_handle handle);

/* ------------------------------------------------------------------------ */
/* Statistics                                                               */
/* ------------------------------------------------------------------------ */

#define IOVA_MAX_ORDER 64

/* What a strategy counter measures (iova_domain_counters()). */
typedef enum iova_counter_kind {
	IOVA_COUNTER_TOTAL, /* events since the domain was created: the difference
			     * of two snapshots counts what happened between them */
	IOVA_COUNTER_LEVEL, /* an amount now (blocks cached, tree nodes live) */
	IOVA_COUNTER_PEAK,  /* the largest value seen since the domain was created */
} iova_counter_kind;

/** iova_counter_kind_name() - "total", "level" or "peak"; NULL if unknown. */
const char *iova_counter_kind_name(iova_counter_kind kind);

/* One of a strategy's own counters. */
typedef struct iova_counter {
	const char *name; /* a string of the library's: valid while the program runs */
	uint64_t value;
	iova_counter_kind kind;
} iova_counter;

/* Room for every registered strategy's counters, its cache layer's included
 * (core/tests/test_counters.c checks that each fits). */
#define IOVA_STATS_MAX_COUNTERS 40

/*
 * struct iova_stats - a snapshot of a domain's space.
 *
 * Exact when no allocation or free runs concurrently; otherwise each word of
 * metadata is read atomically but the whole is not one instant.
 *
 * "Blocks" are the buddy view: the free space cut into maximal naturally
 * aligned power-of-two blocks (Linux's nr_free[order]); "extents" are
 * maximal runs of contiguous free granules.
 */
typedef struct iova_stats {
	uint64_t granule;
	uint64_t total_bytes;
	uint64_t free_bytes;
	uint64_t allocated_bytes;       /* bytes held by live blocks */
	uint64_t requested_bytes;       /* bytes asked for by live blocks (before granule rounding) */
	uint64_t live_allocations;
	uint64_t free_blocks[IOVA_MAX_ORDER];      /* by order, in granules: 2^order */
	uint64_t free_extents;
	uint64_t free_extents_by_order[IOVA_MAX_ORDER]; /* extents of [2^o, 2^(o+1)) granules */
	uint64_t largest_free_extent;   /* bytes */
	uint64_t largest_free_block;    /* bytes */
	uint64_t metadata_reserved_bytes;
	uint64_t metadata_resident_bytes; /* pages of metadata the host actually backs */
	uint64_t allocs, frees, failed_allocs, failed_frees; /* operation counts since creation */
	/* Bytes taken out of the free space but held by no live block: blocks
	 * parked in magazine caches, jemalloc's own free lists and slab slack.
	 * free_bytes + allocated_bytes + cached_bytes = total_bytes, and
	 * allocated_bytes - requested_bytes is internal fragmentation (granule
	 * rounding, size classes). (Appended last to keep existing offsets.) */
	uint64_t cached_bytes;
	/* The strategy's own counters, as iova_domain_counters() reports them,
	 * in its fixed order: cache hits and depot traffic, lock acquisitions,
	 * tree nodes visited, slow paths taken... */
	uint32_t counter_count;
	iova_counter counters[IOVA_STATS_MAX_COUNTERS];
} iova_stats;

/** iova_domain_stats() - fill @out with a snapshot of @domain. Walks the
 * metadata: cost grows with the number of fragments, not the space. */
iova_status iova_domain_stats(const iova_domain *domain, iova_stats *out);

/**
 * iova_domain_for_each_free() - call @fn for each maximal free extent, in
 * increasing address order.
 * @fn: receives the extent's first address and length in bytes; returning
 *      false stops the walk.
 */
void iova_domain_for_each_free(const iova_domain *domain,
			       bool (*fn)(void *ctx, uint64_t iova, uint64_t bytes), void *ctx);

/* ------------------------------------------------------------------------ */
/* Strategies                                                               */
/* ------------------------------------------------------------------------ */

/* What a strategy can honour. A request needing a capability the domain's
 * strategy lacks fails with IOVA_ERR_UNSUPPORTED instead of a wrong block. */
enum iova_capability {
	IOVA_CAP_WINDOW = 1u << 0,     /* lowest/highest narrower than the domain */
	IOVA_CAP_ALIGNMENT = 1u << 1,  /* alignment above the natural one */
	IOVA_CAP_TOP_DOWN = 1u << 2,   /* placement preference honoured */
	IOVA_CAP_EXACT_SIZE = 1u << 3, /* holds exactly the granules asked for */
	IOVA_CAP_ALL = (1u << 4) - 1,
};

/** iova_strategy_count() / iova_strategy_name() / iova_strategy_description()
 * / iova_strategy_caps(): enumerate the registered allocation strategies
 * (index 0..count-1). Each can also be used with a "+cache" suffix. */
size_t iova_strategy_count(void);
const char *iova_strategy_name(size_t index);
const char *iova_strategy_description(size_t index);
unsigned iova_strategy_caps(size_t index);

/**
 * iova_strategy_check() - validate a strategy name and options string
 * without creating a domain.
 * @name:     as iova_domain_config.strategy (NULL for the default).
 * @options:  as iova_domain_config.options.
 * @msg:      receives one sentence naming the problem (the bad key or value
 *            and what is accepted), or "" on success; may be NULL.
 *
 * iova_domain_create() reports the same problems only as
 * IOVA_ERR_INVALID_ARGUMENT; callers that show errors to users call this.
 * Return: IOVA_OK or IOVA_ERR_INVALID_ARGUMENT.
 */
iova_status iova_strategy_check(const char *name, const char *options, char *msg, size_t msg_size);

/** iova_domain_caps() - the enum iova_capability bits of the domain's strategy. */
unsigned iova_domain_caps(const iova_domain *domain);

/** iova_domain_flush_caches() - return every cached block to the strategy
 * below (no effect without caches). Concurrent allocations stay correct. */
void iova_domain_flush_caches(iova_domain *domain);

/* Receives one counter: its name (a string of the library's, valid while
 * the program runs), value and kind. */
typedef void (*iova_counter_fn)(void *ctx, const char *name, uint64_t value, iova_counter_kind kind);

/**
 * iova_domain_counters() - report the strategy's own counters (cache hits,
 * lock acquisitions, nodes visited...) to @fn, in an order fixed for the
 * strategy, without the walk of the free space that iova_domain_stats()
 * makes. Safe while other threads allocate: each value is read once,
 * relaxed, so counters read together need not agree to the operation.
 */
void iova_domain_counters(const iova_domain *domain, iova_counter_fn fn, void *ctx);

/* ------------------------------------------------------------------------ */
/* IOMMU simulation                                                         */
/* ------------------------------------------------------------------------ */

/*
 * A domain created with config.iommu set owns a simulated IOMMU between its
 * callers and its strategy: an I/O page table, an IOTLB, an invalidation
 * policy with its flush queues, a cost model with per-CPU clocks, and a
 * safety oracle. Model and invariants: core/src/iommu/DESIGN.md.
 *
 * Life of a streaming mapping:  iova_alloc_map() -> iova_device_dma() ->
 * iova_unmap_free(); or iova_alloc() -> iova_map() -> ... -> iova_unmap() ->
 * iova_free(). Under a deferred policy (flush queues) the IOVA of an unmapped
 * range goes back to the strategy only after an IOTLB flush that started
 * after the unmap finished, so a device can never reach a reused address
 * through a stale translation.
 *
 * In an IOMMU domain iova_free() refuses a mapped allocation
 * (IOVA_ERR_STILL_MAPPED) and may defer the block's return to the strategy
 * as above; every function is safe to call concurrently, like the rest.
 */

/* When unmapped ranges are invalidated in the IOTLB (DOMAIN.md section 3). */
typedef enum iova_inval_policy {
	IOVA_INVAL_STRICT = 0,       /* each unmap: page-selective invalidation, wait, then free */
	IOVA_INVAL_PERCPU_QUEUE = 1, /* Linux lazy mode: per-CPU flush queues (256 entries, 10 ms) */
	IOVA_INVAL_GLOBAL_QUEUE = 2, /* Linux single flush queue (32,768 entries, 1,000 ms) */
	IOVA_INVAL_NONE = 3,         /* passthrough: no translation, no protection (upper bound) */
	/* Deliberately broken: per-CPU queues that return the IOVA to the
	 * strategy *before* the flush. Exists to show that the oracle catches it. */
	IOVA_INVAL_UNSAFE_EARLY_RELEASE = 4,
	IOVA_INVAL_POLICY_COUNT
} iova_inval_policy;

/* How simulated costs are spent. */
typedef enum iova_clock_mode {
	/* Each CPU (thread slot) keeps a virtual clock in cycles and costs are
	 * added to it: deterministic with one thread. Shared hardware (the
	 * invalidation queue) and the global flush-queue lock are modelled as
	 * servers in virtual time. */
	IOVA_CLOCK_MODELLED = 0,
	/* Costs are spent busy-waiting on the real clock, so contention on
	 * locks and on the invalidation hardware is real wall-clock time. */
	IOVA_CLOCK_SPIN = 1,
	IOVA_CLOCK_MODE_COUNT
} iova_clock_mode;

typedef enum iova_iotlb_replacement {
	IOVA_IOTLB_LRU = 0,
	IOVA_IOTLB_FIFO = 1,
	IOVA_IOTLB_RANDOM = 2, /* seeded per set: reproducible */
	IOVA_IOTLB_REPLACEMENT_COUNT
} iova_iotlb_replacement;

/* In a cost field, where 0 means "default": a cost of really zero cycles. */
#define IOVA_IOMMU_ZERO UINT32_MAX

/*
 * struct iova_iommu_costs - the cost model, in CPU cycles; 0 takes the
 * default, IOVA_IOMMU_ZERO means none. Defaults (DESIGN.md says why): one
 * strict invalidation with its wait costs 2,100 cycles (rIOMMU, ASPLOS 2015),
 * split 200 to submit and 1,900 to wait; a page-table entry write 20; a page
 * walk 100 per level read; an IOTLB lookup 0; a flush-queue operation 20;
 * a cache line moving between CPUs 100.
 */
typedef struct iova_iommu_costs {
	uint32_t inv_submit;   /* queue one invalidation descriptor */
	uint32_t inv_wait;     /* until the IOMMU reports it complete (hardware is serial) */
	uint32_t pte_write;    /* per page-table entry written or cleared */
	uint32_t walk_level;   /* per page-table level read by a walk on an IOTLB miss */
	uint32_t iotlb_lookup; /* per translation looked up */
	uint32_t queue_op;     /* per flush-queue entry added */
	uint32_t line_transfer; /* a cache line moving between CPUs: the global queue's lock,
				 * (N-1)/N of it per acquisition among N CPUs (modelled
				 * mode; in spin mode the transfer is real) */
} iova_iommu_costs;

enum iova_iommu_flags {
	IOVA_IOMMU_NO_L2_LEAVES = 1u << 0, /* no leaves at level 2 (2 MiB with the defaults) */
	IOVA_IOMMU_NO_L3_LEAVES = 1u << 1, /* no leaves at level 3 (1 GiB) */
	IOVA_IOMMU_NO_ORACLE = 1u << 2,    /* no safety oracle: violations and stale hits go uncounted */
};

/*
 * struct iova_iommu_config - the simulated IOMMU. A zero-initialised config
 * is a strict IOMMU with every default; fields left 0 take their default.
 *
 * @pt_levels:        page-table levels, 2..6 (default 4). The domain's last
 *                    address must be below 2^(granule bits + levels * entry bits).
 * @pt_entries_log2:  entries per table page as a power of two, 1..12 (default
 *                    9: 512 entries; with 4 KiB granules leaves at level 2 map
 *                    2 MiB and at level 3 1 GiB).
 * @iotlb_sets:       sets, a power of two up to 65,536 (default 64).
 * @iotlb_ways:       ways per set, 1..64 (default 4).
 * @fq_entries:       flush-queue entries, a power of two up to 2^20 (default
 *                    256 per CPU, 32,768 for the global queue).
 * @fq_timeout_us:    a queued range waits at most this long for a flush
 *                    (default 10,000 per CPU, 1,000,000 global), measured on
 *                    the clock of @clock.
 * @cycles_per_us:    converts timeouts and spin waits (default 2,000: 2 GHz).
 */
typedef struct iova_iommu_config {
	iova_inval_policy policy;
	iova_clock_mode clock;
	uint32_t flags; /* enum iova_iommu_flags */
	uint32_t pt_levels;
	uint32_t pt_entries_log2;
	uint32_t iotlb_sets;
	uint32_t iotlb_ways;
	iova_iotlb_replacement iotlb_replacement;
	uint32_t fq_entries;
	uint64_t fq_timeout_us;
	uint32_t cycles_per_us;
	iova_iommu_costs costs;
} iova_iommu_config;

/** iova_inval_policy_name() - "strict", "percpu", "global", "none" or
 * "unsafe-early-release"; NULL outside the enum. */
const char *iova_inval_policy_name(iova_inval_policy policy);

/** iova_clock_mode_name() - "modelled" or "spin"; NULL outside the enum. */
const char *iova_clock_mode_name(iova_clock_mode mode);

/**
 * iova_map() - map an allocation into the I/O page table for the device.
 * @handle: from iova_alloc(); the whole allocation (rounded to granules) is
 *          mapped to simulated physical frames, with level-2/3 leaves where
 *          the range is aligned and large enough.
 *
 * Return: IOVA_OK; IOVA_ERR_ALREADY_MAPPED; IOVA_ERR_FORGED_HANDLE;
 * IOVA_ERR_UNKNOWN_HANDLE when the allocation was already freed;
 * IOVA_ERR_NO_MEMORY; IOVA_ERR_NO_IOMMU. A failed map changes nothing.
 * Remapping a range whose unmap has not been invalidated yet first forces a
 * flush (counted in flushes_forced), so no stale translation can serve it.
 */
iova_status iova_map(iova_domain *domain, iova_handle handle);

/**
 * iova_unmap() - remove an allocation's translations; the allocation stays
 * the caller's. Strict: the IOTLB is invalidated before this returns. Queued
 * policies: the invalidation is queued; the device may still reach the old
 * frames through cached translations until the flush (the vulnerability
 * window). Table pages emptied by the unmap are freed after the invalidation.
 *
 * Return: IOVA_OK; IOVA_ERR_NOT_MAPPED; IOVA_ERR_FORGED_HANDLE;
 * IOVA_ERR_NO_IOMMU. A failed unmap changes nothing.
 */
iova_status iova_unmap(iova_domain *domain, iova_handle handle);

/**
 * iova_alloc_map() - allocate a contiguous block and map it for its lifetime
 * (DxgkCbAllocateContiguousMemory): iova_alloc() then iova_map().
 * Return: as iova_alloc(), or IOVA_ERR_NO_MEMORY / IOVA_ERR_NO_IOMMU; on
 * failure nothing stays allocated and @out is zeroed.
 */
iova_status iova_alloc_map(iova_domain *domain, const iova_request *request, iova_allocation *out);

/**
 * iova_unmap_free() - unmap and free in one step (DxgkCbFreeContiguousMemory,
 * Linux dma_unmap): under a queued policy the IOVA returns to the strategy
 * after the covering flush, in one flush-queue entry.
 * Return: IOVA_OK; IOVA_ERR_NOT_MAPPED (nothing freed either: use iova_free()
 * for an allocation that was never mapped); IOVA_ERR_FORGED_HANDLE;
 * IOVA_ERR_NO_IOMMU.
 */
iova_status iova_unmap_free(iova_domain *domain, iova_handle handle);

/**
 * iova_translate() - look @iova up in the page table as software would (no
 * IOTLB, no cost). @phys receives the simulated physical address.
 * Return: IOVA_OK, IOVA_ERR_NOT_MAPPED, IOVA_ERR_NO_IOMMU (passthrough
 * domains have no translations either: IOVA_ERR_NO_IOMMU).
 */
iova_status iova_translate(const iova_domain *domain, uint64_t iova, uint64_t *phys);

/* Paging operations the device model performs. Values follow
 * DXGK_BUILDPAGINGBUFFER_OPERATION; the others are reserved. */
typedef enum iova_dma_op {
	IOVA_DMA_TRANSFER = 0, /* read [src, src+bytes), write [dst, dst+bytes) */
	IOVA_DMA_FILL = 1,     /* write [dst, dst+bytes) */
} iova_dma_op;

typedef struct iova_dma_request {
	iova_dma_op op;
	uint64_t src; /* TRANSFER only */
	uint64_t dst;
	uint64_t bytes;
} iova_dma_request;

/* What one device operation did. The device translates each granule it
 * touches (source then destination, granule by granule) and stops at the
 * first access the IOMMU blocks. */
typedef struct iova_dma_result {
	uint64_t accesses;    /* translations requested */
	uint64_t iotlb_hits;
	uint64_t iotlb_misses;
	uint64_t stale_hits;  /* served by a cached translation whose mapping is gone */
	uint64_t faults;      /* 0 or 1 */
	uint64_t fault_iova;  /* the blocked address, when faults == 1 */
	uint64_t cycles;      /* translation time of the device (lookups and walks), not on any CPU clock */
} iova_dma_result;

/**
 * iova_device_dma() - have the simulated device perform a paging operation
 * through the IOMMU, on behalf of the calling CPU.
 * @out: optional.
 *
 * Return: IOVA_OK, even when stale translations served some accesses (as on
 * real hardware: that is the vulnerability, counted in stale_hits);
 * IOVA_ERR_DEVICE_FAULT when an access found no translation (the IOMMU
 * blocks it; counted in dma_faults); IOVA_ERR_INVALID_ARGUMENT for a bad op,
 * a zero size or a range that wraps; IOVA_ERR_NO_IOMMU. A passthrough domain
 * translates nothing and blocks nothing.
 */
iova_status iova_device_dma(iova_domain *domain, const iova_dma_request *request, iova_dma_result *out);

/**
 * iova_iommu_flush() - invalidate the domain's IOTLB entries now and return
 * to the strategy every queued range this covers (all queued ranges, unless
 * other threads queue more meanwhile). A no-op for passthrough domains.
 */
iova_status iova_iommu_flush(iova_domain *domain);

/**
 * iova_iommu_now() - the calling CPU's clock in cycles: its virtual clock in
 * modelled mode, the real clock since the domain's creation in spin mode.
 * Returns 0 without an IOMMU.
 */
uint64_t iova_iommu_now(const iova_domain *domain);

/**
 * iova_iommu_charge() - account @cycles of the caller's own work (driver
 * work between DMA operations) to the calling CPU: added to its virtual
 * clock in modelled mode, busy-waited in spin mode. Due flush-queue
 * timeouts fire afterwards.
 */
void iova_iommu_charge(iova_domain *domain, uint64_t cycles);

/*
 * struct iova_iommu_statistics - what the IOMMU did since the domain's creation.
 * Counters are summed over CPUs (thread slots); each word is read
 * atomically, the whole is not one instant while threads run. Times are
 * cycles (divide by cycles_per_us for microseconds).
 */
typedef struct iova_iommu_statistics {
	iova_iommu_config config; /* as used: defaults filled in */
	/* Operations. */
	uint64_t maps, unmaps, map_errors, unmap_errors;
	/* Page table. */
	uint64_t pte_written, pte_cleared;   /* entries at any level */
	uint64_t large_leaves;               /* leaves written above level 1 */
	uint64_t table_pages_allocated, table_pages_freed;
	uint64_t table_pages_pending;        /* detached, waiting for their invalidation */
	uint64_t frames_mapped, frames_unmapped;
	/* Device and IOTLB. */
	uint64_t dma_ops, dma_accesses, dma_faults;
	uint64_t iotlb_hits, iotlb_misses, iotlb_evictions;
	uint64_t page_walks, walk_levels, walk_retries; /* retries: an invalidation raced the walk */
	uint64_t fills_dropped;              /* walk results not cached: an invalidation started meanwhile */
	uint64_t stale_hits;                 /* accesses served by a translation whose mapping is gone */
	/* Invalidation. */
	uint64_t inv_page, inv_domain;       /* hardware invalidations: page-selective, domain-wide */
	uint64_t flushes;                    /* whole-domain flushes of the flush queues ... */
	uint64_t flushes_full, flushes_timeout, flushes_forced; /* ... by cause */
	uint64_t ranges_queued, ranges_released, ranges_pending; /* flush-queue entries */
	uint64_t iovas_deferred;             /* frees that waited for a flush */
	uint64_t release_errors;             /* strategy refused a queued release (a bug: should stay 0) */
	/* Clocks: per-CPU virtual clocks (modelled) or cycles spent (spin). */
	uint64_t cpus;                       /* thread slots that did IOMMU work */
	uint64_t clock_max, clock_sum;       /* largest and summed CPU clock */
	uint64_t cycles_invalidate;          /* submitting and waiting for invalidations */
	uint64_t cycles_inv_queueing;        /* waiting for other CPUs' invalidations (serial hardware) */
	uint64_t cycles_pte, cycles_queue;   /* page-table entry writes; flush-queue operations */
	uint64_t cycles_lock_wait;           /* waiting for the global flush-queue lock */
	uint64_t cycles_charged;             /* iova_iommu_charge() */
	uint64_t device_cycles;              /* the device's translation time: IOTLB lookups and walks
					      * (DMA latency, on no CPU clock) */
	/* Safety oracle. */
	uint64_t oracle_checks;              /* granules checked at hand-out and map */
	uint64_t oracle_violations;          /* IOVA reused while a stale translation could be cached */
	uint64_t oracle_overlaps;            /* IOVA handed out while still allocated (a strategy bug) */
	uint64_t oracle_first_violation;     /* address of the first violation (0 if none) */
	/* Vulnerability window: unmap finished -> covering invalidation complete,
	 * one sample per unmapped range; percentiles within 1/16 (log-linear). */
	uint64_t window_count, window_mean, window_p50, window_p90, window_p99, window_max;
} iova_iommu_statistics;

/** iova_iommu_stats() - fill @out. Return: IOVA_OK, IOVA_ERR_INVALID_ARGUMENT
 * or IOVA_ERR_NO_IOMMU. */
iova_status iova_iommu_stats(const iova_domain *domain, iova_iommu_statistics *out);

/**
 * iova_iommu_window_histogram() - the vulnerability-window distribution:
 * @fn receives each non-empty bucket [lo, hi] (cycles) with its count, in
 * increasing order.
 */
void iova_iommu_window_histogram(const iova_domain *domain,
				 void (*fn)(void *ctx, uint64_t lo, uint64_t hi, uint64_t count), void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* IOVA_H */
