/* SPDX-License-Identifier: MIT */
/*
 * internal.h - types shared inside the core: the normalised request every
 * strategy receives, the strategy operations table, and small bit helpers.
 */
#ifndef IOVA_INTERNAL_H
#define IOVA_INTERNAL_H

#include "iova.h"

#include <stdatomic.h>

#define IOVA_CACHE_LINE 64
/* What one thread's written data must not share with another's: the
 * adjacent-line prefetcher fetches 64-byte lines in 128-byte pairs. */
#define IOVA_WRITE_SPAN 128
#define IOVA_LIKELY(x) __builtin_expect(!!(x), 1)
#define IOVA_UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline bool iova_is_pow2(uint64_t x) { return x && !(x & (x - 1)); }
static inline unsigned iova_log2_floor(uint64_t x) { return 63u - (unsigned)__builtin_clzll(x); }
/* ceil(log2(x)), 0 for x <= 1; without a branch, which mixed request sizes
 * would mispredict (the "| 1" keeps clz away from 0). */
static inline unsigned iova_log2_ceil(uint64_t x)
{
	return (64u - (unsigned)__builtin_clzll((x - 1) | 1)) & -(unsigned)(x > 1);
}
static inline uint64_t iova_round_up(uint64_t x, uint64_t pow2) { return (x + pow2 - 1) & ~(pow2 - 1); }
static inline uint64_t iova_round_down(uint64_t x, uint64_t pow2) { return x & ~(pow2 - 1); }
static inline uint64_t iova_min(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t iova_max(uint64_t a, uint64_t b) { return a > b ? a : b; }

/*
 * The space a strategy manages, in granules. Granule numbers are absolute
 * (address >> granule_shift) so that natural alignment of a block is the
 * alignment of its address, as the hardware sees it.
 */
typedef struct iova_space {
	uint64_t first;        /* first granule of the domain */
	uint64_t end;          /* one past the last granule */
	unsigned granule_shift;
} iova_space;

/*
 * A request after validation, in granules. Every strategy receives this and
 * nothing else; the domain layer has already rejected malformed requests.
 *
 * Invariants: granules >= 1; order = ceil(log2(granules)); align is a power
 * of two >= 2^order; lo < hi and [lo, hi) lies inside the space; some block
 * of `granules` granules aligned to `align` fits in [lo, hi).
 */
typedef struct iova_req {
	uint64_t granules;
	unsigned order;
	iova_placement placement;
	uint64_t align;
	uint64_t lo; /* first acceptable granule */
	uint64_t hi; /* one past the last acceptable granule */
	unsigned slot; /* the calling thread's slot (prim/thread_slot.h) */
} iova_req;

/* A maximal run of free granules, reported in increasing address order. */
typedef bool (*iova_extent_fn)(void *ctx, uint64_t first_granule, uint64_t granules);

/*
 * struct iova_strategy_ops - what every allocation strategy implements.
 *
 * alloc() returns the first granule of a block of req->granules granules
 * inside the request's window, aligned to req->align; IOVA_ERR_NO_SPACE or
 * IOVA_ERR_UNSATISFIABLE otherwise. free() receives what alloc() returned
 * (and the calling thread's slot) and reports IOVA_ERR_DOUBLE_FREE / IOVA_ERR_UNKNOWN_HANDLE, changing
 * nothing, when no such block is live. walk_free() reports maximal free
 * extents in increasing order.
 */
typedef struct iova_strategy_ops {
	const char *name;
	const char *description;
	unsigned caps; /* enum iova_capability */
	/* Each thread allocates in a part of the space of its own, so blocks
	 * next to each other seldom belong to different threads (the cache
	 * layer then keeps its state map in address order, cache/cache.h). */
	bool spreads_threads;
	/* @options: NULL or "key=value,..."; unknown keys -> IOVA_ERR_INVALID_ARGUMENT. */
	iova_status (*create)(const iova_space *space, const char *options, void **state);
	void (*destroy)(void *state);
	iova_status (*alloc)(void *state, const iova_req *req, uint64_t *first_granule);
	iova_status (*free)(void *state, uint64_t first_granule, uint64_t granules, unsigned slot);
	void (*walk_free)(const void *state, iova_extent_fn fn, void *ctx);
	uint64_t (*metadata_reserved)(const void *state);
	uint64_t (*metadata_resident)(const void *state);
	/* Optional (NULL when there is nothing to report or flush). */
	void (*counters)(const void *state, iova_counter_fn fn, void *ctx);
	void (*flush)(void *state);
	/* Optional: granules out of the free space (not reported by walk_free)
	 * that no live block holds: caches, allocator-internal free lists.
	 * NULL means 0: every granule not free is held by a live block. */
	uint64_t (*cached)(const void *state);
	/* Optional: validate @options as create() would, writing one sentence
	 * about the first problem into @msg. NULL: the strategy takes no options. */
	iova_status (*check_options)(const char *options, char *msg, size_t msg_size);
} iova_strategy_ops;

/* Registry (strategy/registry.c). */
const iova_strategy_ops *iova_strategy_find(const char *name);

/* Strategies. The default one's entry points are declared so that the
 * domain can call them directly (and, with link-time optimisation, inline
 * their fast paths). */
extern const iova_strategy_ops iova_buddy_lf_ops;
iova_status buddy_alloc(void *state, const iova_req *req, uint64_t *first_granule);
iova_status buddy_free(void *state, uint64_t first_granule, uint64_t granules, unsigned slot);

#endif /* IOVA_INTERNAL_H */
