/* SPDX-License-Identifier: MIT */
/*
 * cache.h - per-thread magazine caches in front of any strategy (the layer
 * behind every "<strategy>+cache" name), after Linux's IOVA rcache and
 * Bonwick & Adams' magazines (USENIX 2001).
 *
 * Structure. Blocks of up to 2^(classes-1) granules (32 by default) are
 * cached per size class. Each thread slot (prim/thread_slot.h) - the "CPU"
 * of the design, since a slot belongs to one thread at a time and a thread
 * keeps its slot however the scheduler moves it - has, per class, a loaded
 * and a previous magazine of magazine_size block addresses (127). Full
 * magazines go to a depot per class, which hands each slot its own
 * magazines back first (struct depot).
 *
 * Swap rules (Linux's, from Bonwick and Adams). Free: push onto loaded; if
 * it is full and previous is not, swap them first; if both are full, the
 * loaded one goes to the depot and an empty one takes its place. Alloc: pop
 * from loaded; if it is empty and previous is not, swap; if both are empty,
 * a full magazine comes from the depot (the empty loaded one is dropped);
 * else the request goes to the strategy below. A request with a window or
 * an alignment above natural takes the last cached block of loaded (then
 * previous) that meets it - as Linux's iova_magazine_pop() scans for one
 * below the limit - and otherwise goes below. Placement preferences are not
 * honoured for cached blocks. The depot is trimmed towards depot_target
 * magazines (default: the number of online CPUs), one magazine per trim_ms
 * (default 100) from the time it first went above the target, as Linux's
 * delayed work does. No timer runs: each depot operation trims what the
 * periods passed since call for, so an idle stretch is made up for at the
 * next one (a snapshot taken while idle still shows the untrimmed depot).
 * trim_ms=0 makes depot_target a hard cap.
 *
 * Sizes (rounding=pow2, the default, as Linux): a request of s granules is
 * held as its power-of-two class, 2^ceil(log2 s) granules, so that any
 * cached block of the class serves any request of it; the extra granules
 * count as held by the live block (iova_stats.allocated_bytes), i.e. as
 * internal fragmentation. rounding=exact caches by exact granule count
 * instead (one class per count, 1..2^(classes-1)), so nothing is rounded
 * and a cached block only serves requests of its exact size. When the
 * rounded block cannot be placed (a window too tight for it, or space too
 * fragmented) the block is taken at its exact size and not cached.
 *
 * Errors. A byte per granule (the state map) records for the first granule
 * of each block the cache layer knows: live (held at its class size), live
 * and held exactly (not cacheable), or cached; and the exact granule count.
 * A free moves live -> cached with one compare-and-swap, so a double free or
 * a stale size is refused even when the block sits in another thread's
 * magazine; a block the map does not know is passed to the strategy below,
 * which decides. This CAS is the one atomic read-modify-write on the free
 * hit path: no thread-local structure can tell that another thread already
 * freed the block.
 *
 * Failure and flushing. If the strategy below cannot allocate, every cache
 * is flushed back to it and the request retried once, so caching never makes
 * a request fail that would succeed without it (exactly so without
 * concurrent callers). A flush empties other threads' magazines using slot
 * quiescence (quiesce.h), so owners need no lock.
 *
 * Lock discipline. Hit path (alloc and free in a slot's own magazines,
 * hit.h, which the domain's fast lane calls directly): no lock; plain loads
 * and stores on the slot's own lines, plus the state-map CAS on free.
 * Depot: one iova_lock per slot and class (the slot's shelf, struct depot),
 * taken when a magazine moves between the slot and its shelf (once per
 * magazine_size operations), by another slot taking a magazine from that
 * shelf, and by trims and flushes. A shelf lock is taken last and never
 * held with another shelf's. The shared overflow slot (IOVA_SLOT_SHARED,
 * used by threads beyond the first 255) has one lock around its magazines,
 * held across its depot visits. Flushes are serialised by the quiescence
 * mutex and take shelf locks only while no slot is waited for.
 *
 * Options (comma-separated, mixed freely with the strategy's own):
 * magazine_size=1..65535 (127), classes=1..7 (6), rounding=pow2|exact (pow2),
 * depot_target=0..65536 (online CPUs), trim_ms=0..3600000 (100).
 */
#ifndef IOVA_CACHE_H
#define IOVA_CACHE_H

#include "../internal.h"
#include "../prim/thread_slot.h"
#include "../strategy/lock.h"
#include "quiesce.h"

/* The state map: per granule, for the first granule of a block. */
enum {
	MAP_NONE = 0,            /* not the start of a block the layer knows */
	MAP_LIVE = 1u << 6,      /* live, held at its class size */
	MAP_CACHED = 2u << 6,    /* in a magazine or the depot */
	MAP_LIVE_EXACT = 3u << 6, /* live, held at exactly its size, not cacheable */
	MAP_KIND = 3u << 6,
	MAP_GRANULES = 63,       /* granule count - 1 */
};

#define CACHE_MAX_CLASSES 7 /* 64 granules: the state map's six size bits */

/*
 * The state map's layout. Neighbouring blocks often belong to different
 * threads (strategies hand out adjacent blocks to threads that ask one after
 * the other), and every free writes its block's state byte with a
 * compare-and-swap: in address order, two threads' hot states would share a
 * cache line and the threads would take turns owning it. So inside each page
 * of the map (4096 granules, 32 pairs of cache lines: the adjacent-line
 * prefetcher fetches lines in pairs) granule i's byte goes to offset
 * o = (i >> 5) mod 128 of pair (i ^ o ^ o >> 1 ^ (o >> 5) << 1) mod 32:
 * granules less than 16 apart, and aligned buddies of any order, never share
 * a pair (tests/test_cache_map.c), and two granules at any distance share
 * one with probability about 1/32. A bijection that keeps every granule in
 * its page (4096 entries from a multiple of 4096; the map itself starts at
 * page offset IOVA_COLOUR_CACHE_MAP, prim/memory.h), so the map touches the
 * same pages as one in address order; and
 * a run of consecutive granules keeps 32 pairs busy, a byte further on in
 * each for each 32 granules, so a thread sweeping its blocks in order still
 * hits its L1 cache (a plain rotation, 128 bytes per granule across a whole
 * unit, tripled L1 misses in threadtest).
 *
 * Below a strategy that gives each thread a part of the space of its own
 * (iova_strategy_ops.spreads_threads: buddy-lf) neighbours seldom belong to
 * different threads, and the map stays in address order: a thread's blocks
 * then share the fewest lines, and the hit paths skip the permutation (6-10 %
 * of a cached alloc+free pair's time, measured). jemalloc does not qualify
 * although each thread has an arena: the arenas' small extents come from
 * the space next to each other, and in address order two threads' state
 * bytes shared lines (cached-alloc at 2 threads fell from 111 to 39 Mops/s).
 */
#define CACHE_MAP_PAGE_LOG2 12
#define CACHE_MAP_PAIR_LOG2 7

static inline uint64_t cache_map_index(uint64_t i)
{
	/* The same as above with o's bits read straight from i. */
	const uint64_t pair = (i ^ i >> 5 ^ i >> 6 ^ (i >> 9 & 6)) & 31;
	return (i & ~(uint64_t)((1u << CACHE_MAP_PAGE_LOG2) - 1)) | pair << CACHE_MAP_PAIR_LOG2 | (i >> 5 & 127);
}

struct magazine {
	uint32_t size;
	struct magazine *next; /* in the depot */
	uint64_t g[];          /* first granules, magazine_size of them */
};

/*
 * A slot's magazines of one class, and what its hits did to them: blocks
 * taken by allocations and pushed by frees. 32 bytes, so that the hit path
 * finds its magazine pointer and counter on one line.
 */
struct cache_pair {
	struct magazine *loaded, *prev;
	_Atomic uint64_t taken, pushed;
} __attribute__((aligned(32)));

/*
 * One thread slot. Written by the slot's owner only (the shared slot: under
 * shared_lock), with relaxed loads and stores; the magazines, `taken`,
 * `pushed` and `moved` only inside the owner's quiescence section, so that a
 * flusher holding the slot quiesced may change the magazines and `moved`
 * too. The granules the slot's magazines hold are
 *     moved + sum over classes of (pushed - taken) * class granules,
 * kept this way so that each hit updates one counter; every term may wrap
 * (a flusher drains what the owner pushed), the sum does not.
 */
struct cache_slot {
	_Atomic unsigned busy;
	struct magazine *spare; /* an empty magazine kept for the next swap */
	_Atomic uint64_t moved; /* granules moved in (+) and out (-) other than by hits */
	/* Owner-only, also outside its section (never written by flushers). */
	_Atomic uint64_t magazines; /* allocated minus freed by this slot's thread */
	_Atomic uint64_t misses, bypasses, depot_gets, depot_puts, exact_fallbacks;
	struct cache_pair pair[]; /* one per class */
};

/* One slot's full magazines of one class in the depot, under a lock of its
 * own, on lines of its own. */
struct shelf {
	struct iova_lock lock;
	struct magazine *list; /* LIFO, linked through next */
	/* Written under the lock; read without it by the slot's own misses
	 * (an empty shelf is not locked), by trims and by statistics. */
	_Atomic uint64_t count, granules;
} __attribute__((aligned(IOVA_WRITE_SPAN)));

/*
 * The depot of one class: a shelf per slot. A slot puts its full magazines
 * on its own shelf and takes its own back first: blocks then stay with the
 * thread that freed them - their state bytes, and the magazine itself, in
 * that thread's cache - and move to another thread only when it has none of
 * its own (a magazine from the lowest-numbered slot that has one). A
 * workload where every thread frees what it allocates (threadtest) would
 * otherwise trade magazines between threads on every depot visit, and pay a
 * cache miss per block for it. A visit to one's own shelf touches no line
 * another thread writes: with one lock per class, taking that lock and the
 * first look at the depot were 6 % of threadtest's cycles at 2 threads (the
 * lock's line moved between the cores on nearly every visit), under 2 % now.
 */
struct depot {
	/* Bit s: shelves[s] holds a magazine. Changed only under shelf s's
	 * lock; read without a lock to find a shelf to take from. */
	_Atomic uint64_t nonempty[IOVA_THREAD_SLOTS / 64];
	_Atomic uint64_t last_trim_ns;
	struct shelf shelves[IOVA_THREAD_SLOTS];
} __attribute__((aligned(IOVA_WRITE_SPAN)));

struct cache_opts {
	uint64_t magazine_size, classes, depot_target, trim_ms;
	unsigned rounding; /* 0 pow2, 1 exact */
};

/*
 * The layer. The first lines are read by every operation and written only
 * at creation (q.state: by flushes); what else is written lives on lines
 * of its own, so that no operation's read misses because another thread
 * wrote a neighbour.
 */
struct cache {
	const iova_strategy_ops *inner;
	void *below;
	iova_space space;
	uint64_t map_granules; /* entries of the state map (cache_map_index's range) */
	_Atomic uint8_t *map;
	bool map_by_address;   /* inner->spreads_threads: no permutation */
	char *slots; /* IOVA_THREAD_SLOTS of slot_stride bytes */
	size_t slot_stride;
	uint64_t max_granules; /* largest cached block */
	uint32_t magazine_cap; /* o.magazine_size */
	unsigned rounding;     /* o.rounding */
	unsigned nclasses;     /* class slots: classes (pow2) or 2^(classes-1) (exact) */
	uint8_t class_of[(1u << (CACHE_MAX_CLASSES - 1)) + 1]; /* granules -> class, up to max_granules */
	struct depot *depots;  /* nclasses */
	size_t map_bytes;
	struct cache_opts o;
	struct iova_quiesce q; /* flushing, then the flushers' mutex */
	struct iova_lock shared_lock __attribute__((aligned(IOVA_CACHE_LINE)));
	_Atomic uint64_t flushes __attribute__((aligned(IOVA_CACHE_LINE)));
	_Atomic uint64_t flushed_blocks, depot_trims, inner_free_errors;
};

static inline struct cache_slot *cache_slot(const struct cache *c, unsigned s)
{
	return (struct cache_slot *)(c->slots + (size_t)s * c->slot_stride);
}

/* The class of a block of @granules, 1..max_granules: a table, because the
 * hit paths ask on every operation. */
static inline unsigned cache_class(const struct cache *c, uint64_t granules) { return c->class_of[granules]; }

/* Granules a block of class @cls is held at. */
static inline uint64_t cache_class_granules(const struct cache *c, unsigned cls)
{
	return c->rounding ? cls + 1 : UINT64_C(1) << cls;
}

/* The state byte of the block starting @i granules into the space, in a map
 * in address order if @by_address (c->map_by_address, or that value fixed by
 * a caller chosen for it, as the domain's lanes are, to test nothing on every
 * call). */
static inline __attribute__((always_inline)) _Atomic uint8_t *cache_state_in(const struct cache *c, uint64_t i,
									    bool by_address)
{
	return &c->map[by_address ? i : cache_map_index(i)];
}

/* The state byte of the block starting @i granules into the space. */
static inline _Atomic uint8_t *cache_state_at(const struct cache *c, uint64_t i)
{
	return cache_state_in(c, i, c->map_by_address);
}

/* The state byte of the block starting at granule @g (inside the space). */
static inline _Atomic uint8_t *cache_state(const struct cache *c, uint64_t g)
{
	return cache_state_at(c, g - c->space.first);
}

/* Owner-only counter update (see struct cache_slot). */
static inline void slot_add(_Atomic uint64_t *ctr, uint64_t v)
{
	atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + v, memory_order_relaxed);
}

/* Interface to the registry (strategy/registry.c). */

/* Everything of a "<strategy>+cache" table but its name, description,
 * capabilities, create and check_options. */
extern const iova_strategy_ops iova_cache_ops_template;

/**
 * iova_cache_create() - the layer's create operation, over @inner.
 * @options: the layer's keys and @inner's, mixed; the layer takes its own
 *           and passes the rest to @inner's create.
 * Return: IOVA_OK; IOVA_ERR_INVALID_ARGUMENT for a bad option (see
 * iova_cache_check_options for the message); whatever @inner's create
 * returns; IOVA_ERR_NO_MEMORY.
 */
iova_status iova_cache_create(const iova_strategy_ops *inner, const iova_space *space, const char *options, void **state);

/** iova_cache_check_options() - validate @options for "<inner>+cache",
 * writing one sentence about the first problem into @msg. */
iova_status iova_cache_check_options(const iova_strategy_ops *inner, const char *options, char *msg, size_t msg_size);
/** iova_cache_caps() - what "<inner>+cache" can honour: the inner's
 * capabilities except exact sizes (classes round up). */
unsigned iova_cache_caps(const iova_strategy_ops *inner);

/* Magazines and the depot (magazine.c). */

/** cache_magazine_new() - an empty magazine (malloc'd, counted in @slot,
 * the calling thread's), or NULL. */
struct magazine *cache_magazine_new(struct cache *c, unsigned slot);
/** cache_magazine_free() - free @m (may be NULL) without looking at its
 * blocks, counted in @slot (the calling thread's). */
void cache_magazine_free(struct cache *c, struct magazine *m, unsigned slot);
struct magazine *cache_depot_get(struct cache *c, unsigned cls, unsigned slot, struct magazine **evicted);
struct magazine *cache_depot_put(struct cache *c, unsigned cls, unsigned slot, struct magazine *m);
void cache_release_block(struct cache *c, uint64_t g, uint64_t held, unsigned slot);
void cache_release_magazine(struct cache *c, unsigned cls, struct magazine *m, unsigned slot);
void cache_flush_all(struct cache *c, unsigned slot);
uint64_t cache_cached_granules(const struct cache *c);
/** cache_slot_granules() - granules in slot @s's magazines (see struct
 * cache_slot; may wrap for one slot, not summed over all). */
uint64_t cache_slot_granules(const struct cache *c, const struct cache_slot *s);

/* The operations (fast.c). */
iova_status cache_alloc(void *state, const iova_req *req, uint64_t *first_granule);
iova_status cache_free(void *state, uint64_t first_granule, uint64_t granules, unsigned slot);

#endif
