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
 * in its own region so that threads do not contend, and prefers lower
 * (bottom-up) or higher (top-down) addresses from there. */
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
 *             0 means "no upper limit". Both are clamped to the domain.
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
 */
typedef struct iova_domain_config {
	uint64_t base;
	uint64_t size;
	uint64_t granule;
	const char *strategy;
	const char *options;
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

/** iova_domain_caps() - the enum iova_capability bits of the domain's strategy. */
unsigned iova_domain_caps(const iova_domain *domain);

/** iova_domain_flush_caches() - return every cached block to the strategy
 * below (no effect without caches). Concurrent allocations stay correct. */
void iova_domain_flush_caches(iova_domain *domain);

/**
 * iova_domain_counters() - report the strategy's own counters (cache hits,
 * lock acquisitions, nodes visited...) as name/value pairs, in a fixed order.
 */
void iova_domain_counters(const iova_domain *domain, void (*fn)(void *ctx, const char *name, uint64_t value),
			  void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* IOVA_H */
