/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - iova_alloc() and iova_free(): request validation, the fast
 * lanes, and the general path to the domain's strategy.
 *
 * Everything a request can get wrong is caught here, once, so that every
 * strategy receives a normalised request (iova_req) in granules.
 *
 * Two fast lanes come first: a request that takes any place in the domain
 * is served by a hit in the cache layer's magazines (cache/hit.h) or by one
 * compare-and-swap in the lock-free buddy's last word (buddy/fast.h),
 * called directly rather than through the strategy table, and frees of
 * such blocks go the same way back. Anything they do not serve takes the
 * general path (alloc_untried(), free_untried()).
 *
 * iova_alloc() and iova_free() jump to the domain's entries, chosen at
 * creation (domain_choose_entries()): the cache lane (alloc_cache_lane(),
 * free_cache_lane(), one entry per layout of the cache's state map) for a
 * domain with a cache layer and no IOMMU, the
 * buddy lane (alloc_buddy_lane(), free_buddy_lane()) for the lock-free
 * buddy without one, the rest (alloc_untried(), free_untried()) otherwise.
 * A lane calls nothing on the way to its common case, so the compiler
 * saves no registers there.
 */
#include "domain.h"
#include "handle.h"
#include "buddy/fast.h"
#include "cache/hit.h"

#include <string.h>

/* Validate @r against @d and normalise it into granules. */
static iova_status normalise_constrained(const iova_domain *d, const iova_request *r, iova_req *q)
{
	const unsigned shift = d->space.granule_shift;
	const uint64_t gmask = d->granule_mask;
	if (!r->size)
		return IOVA_ERR_ZERO_SIZE;
	if ((unsigned)r->cache_type > IOVA_CACHE_WRITE_COMBINED)
		return IOVA_ERR_BAD_CACHE_TYPE;
	if ((unsigned)r->placement > IOVA_PLACE_TOP_DOWN)
		return IOVA_ERR_BAD_PLACEMENT;
	if (r->boundary && !iova_is_pow2(r->boundary))
		return IOVA_ERR_BAD_BOUNDARY;
	if (r->alignment && !iova_is_pow2(r->alignment))
		return IOVA_ERR_BAD_ALIGNMENT;
	if (r->size > d->config.size)
		return IOVA_ERR_SIZE_TOO_LARGE;
	const uint64_t granules = (r->size >> shift) + ((r->size & gmask) != 0);
	const uint64_t highest = r->highest ? r->highest : UINT64_MAX;
	if (r->lowest > highest)
		return IOVA_ERR_RANGE_INVERTED;
	/* Whole granules inside [lowest, highest], clamped to the domain. */
	uint64_t lo = (r->lowest >> shift) + ((r->lowest & gmask) != 0);
	uint64_t hi = (highest >> shift) + ((highest & gmask) == gmask);
	lo = iova_max(lo, d->space.first);
	hi = iova_min(hi, d->space.end);
	if (hi <= lo || hi - lo < granules)
		return IOVA_ERR_RANGE_TOO_SMALL;
	if (r->boundary && r->boundary < (granules << shift))
		return IOVA_ERR_BOUNDARY_TOO_SMALL;
	q->granules = granules;
	q->order = iova_log2_ceil(granules);
	q->align = UINT64_C(1) << q->order;
	if ((r->alignment >> shift) > q->align)
		q->align = r->alignment >> shift;
	q->lo = lo;
	q->hi = hi;
	q->placement = r->placement;
	const unsigned caps = d->ops->caps;
	if (((lo != d->space.first || hi != d->space.end) && !(caps & IOVA_CAP_WINDOW)) ||
	    (q->align > (UINT64_C(1) << q->order) && !(caps & IOVA_CAP_ALIGNMENT)))
		return IOVA_ERR_UNSUPPORTED;
	/* The block is aligned to at least its rounded size, which the boundary
	 * (a power of two no smaller than the size) is a multiple of: an aligned
	 * block never crosses it, so the boundary needs no search of its own. */
	if (iova_round_up(lo, q->align) + granules > hi || iova_round_up(lo, q->align) < lo)
		return IOVA_ERR_UNSATISFIABLE;
	return IOVA_OK;
}

/* Most requests say only "this many bytes, anywhere": no window, boundary or
 * alignment, valid enums, a size the domain can hold. */
static inline bool unconstrained(const iova_domain *d, const iova_request *r)
{
	return (r->lowest | r->highest | r->boundary | r->alignment) == 0 && r->size - 1 < d->config.size &&
	       (unsigned)r->cache_type <= IOVA_CACHE_WRITE_COMBINED && (unsigned)r->placement <= IOVA_PLACE_TOP_DOWN;
}

static inline iova_status normalise(const iova_domain *d, const iova_request *r, bool any_place, iova_req *q)
{
	if (!any_place)
		return normalise_constrained(d, r, q);
	const unsigned shift = d->space.granule_shift;
	q->granules = (r->size + d->granule_mask) >> shift;
	q->order = iova_log2_ceil(q->granules);
	q->align = UINT64_C(1) << q->order;
	q->lo = d->space.first;
	q->hi = d->space.end;
	q->placement = r->placement;
	return iova_round_up(q->lo, q->align) + q->granules <= q->hi ? IOVA_OK : IOVA_ERR_UNSATISFIABLE;
}

/* What every successful allocation ends with: the handle, the caller's
 * record, the counters. */
static inline void alloc_done(iova_domain *d, const iova_request *r, uint64_t g, uint64_t granules, unsigned slot,
			      iova_allocation *out)
{
	struct domain_counters *ctr = &d->counters[slot];
	const uint64_t iova = g << d->space.granule_shift;
	handle_store(&out->handle, handle_make(d, iova, r->size, r->cache_type));
	out->iova = iova;
	out->size = granules << d->space.granule_shift;
	out->cache_type = r->cache_type;
	iova_slot_add(&ctr->allocs, 1, slot);
	iova_slot_add(&ctr->requested_bytes, r->size, slot);
}

/*
 * The entry of domains without a lane of their own, and of every request a
 * lane did not serve: validation, then the strategy. The strategy's own
 * common cases come first where a lane may have tried less: the cache's
 * magazines (cache_alloc_slow() takes hits too), the buddy's claim in the
 * thread's last word from the word's value and in its hint word.
 */
static __attribute__((noinline)) iova_status alloc_untried(iova_domain *d, const iova_request *r,
							   iova_allocation *out)
{
	if (IOVA_UNLIKELY(!r || !out)) {
		if (out)
			memset(out, 0, sizeof *out);
		return IOVA_ERR_INVALID_ARGUMENT;
	}
	const unsigned slot = iova_thread_slot();
	const bool any_place = unconstrained(d, r);
	iova_req q;
	q.slot = slot;
	uint64_t g;
	iova_status st = normalise(d, r, any_place, &q);
	if (IOVA_LIKELY(st == IOVA_OK)) {
		if (any_place && d->fast_cache)
			st = cache_alloc_slow(d->fast_cache, &q, &g);
		else if (d->ops != &iova_buddy_lf_ops)
			st = d->ops->alloc(d->strategy, &q, &g);
		else if (q.order >= 5 ||
			 !(any_place ? buddy_alloc_small(d->strategy, &q, false, &g) : buddy_alloc_small(d->strategy, &q, true, &g)))
			st = buddy_alloc_slow(d->strategy, &q, &g);
	}
	if (IOVA_UNLIKELY(st != IOVA_OK)) {
		memset(out, 0, sizeof *out);
		iova_slot_add(&d->counters[slot].failed_allocs, 1, slot);
		return st;
	}
	if (IOVA_UNLIKELY(d->iommu))
		iommu_handout(d->iommu, g, q.granules, slot); /* the safety oracle's check */
	alloc_done(d, r, g, q.granules, slot, out);
	return IOVA_OK;
}

/*
 * The cache lane, the entry of domains with a cache layer: a request that
 * takes any place, served by a hit in an owned slot's loaded magazine,
 * needs neither a normalised request in memory nor the strategy table. It
 * calls nothing on the way to a hit, so that it saves no registers: a hit's
 * stores are few, and the compare-and-swap of the next free waits for
 * every one of them. Anything else, a miss included, is alloc_untried()'s.
 */
static inline __attribute__((always_inline)) iova_status alloc_cache_lane(iova_domain *d, const iova_request *r,
									   iova_allocation *out, bool by_address)
{
	struct cache *c = d->fast_cache;
	unsigned slot;
	uint64_t granules, g;
	if (IOVA_LIKELY(r && out && iova_thread_slot_known(&slot) && !iova_slot_is_shared(slot) &&
			unconstrained(d, r)) &&
	    IOVA_LIKELY((granules = (r->size + d->granule_mask) >> d->space.granule_shift) <= c->max_granules) &&
	    IOVA_LIKELY(cache_hit_take(c, slot, cache_class(c, granules), granules, by_address, &g))) {
		alloc_done(d, r, g, granules, slot, out);
		return IOVA_OK;
	}
	return alloc_untried(d, r, out);
}

/* The cache lane for each layout of the state map (cache.h), one entry
 * each, so that no call asks which. */
static iova_status alloc_cache_lane_by_address(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	return alloc_cache_lane(d, r, out, true);
}

static iova_status alloc_cache_lane_permuted(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	return alloc_cache_lane(d, r, out, false);
}

/*
 * The buddy lane, the entry of domains whose strategy is the lock-free
 * buddy: a block of at most 16 granules anywhere, claimed with one
 * compare-and-swap in the thread's last word (buddy_claim_once()), calling
 * nothing on the way (as the cache lane). Every size the same way: a test
 * that sent one size elsewhere would be mispredicted whenever sizes are
 * mixed at random. Anything else, a retry included, is alloc_untried()'s.
 */
static iova_status alloc_buddy_lane(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	unsigned slot;
	if (IOVA_LIKELY(r && out && iova_thread_slot_known(&slot) && unconstrained(d, r))) {
		const uint64_t granules = (r->size + d->granule_mask) >> d->space.granule_shift;
		uint64_t g;
		if (IOVA_LIKELY(granules <= 16) &&
		    IOVA_LIKELY(buddy_claim_once(d->fast_buddy, slot, granules, r->placement, &g))) {
			alloc_done(d, r, g, granules, slot, out);
			return IOVA_OK;
		}
	}
	return alloc_untried(d, r, out);
}

iova_status iova_alloc(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	if (IOVA_UNLIKELY(!d)) {
		if (out)
			memset(out, 0, sizeof *out);
		return IOVA_ERR_INVALID_ARGUMENT;
	}
	return d->alloc_entry(d, r, out);
}

/* What every free ends with: the counters. */
static inline iova_status free_done(iova_domain *d, unsigned slot, uint64_t requested, iova_status st)
{
	struct domain_counters *ctr = &d->counters[slot];
	if (IOVA_UNLIKELY(st != IOVA_OK)) {
		iova_slot_add(&ctr->failed_frees, 1, slot);
		return st;
	}
	iova_slot_add(&ctr->frees, 1, slot);
	iova_slot_add(&ctr->requested_bytes, -requested, slot);
	return IOVA_OK;
}

/*
 * What both free lanes start with: the thread's slot (false if it has none
 * yet: the general path takes one) and the opened handle, as the block's
 * first granule and granule count (handle_open() has checked that the
 * block lies inside the space).
 */
static inline bool lane_open(const iova_domain *d, iova_handle h, unsigned *slot, uint64_t *requested,
			     uint64_t *first, uint64_t *granules)
{
	uint64_t iova;
	if (IOVA_UNLIKELY(!iova_thread_slot_known(slot) || handle_open(d, h, &iova, requested) != IOVA_OK))
		return false;
	const unsigned shift = d->space.granule_shift;
	*first = iova >> shift;
	*granules = (*requested + d->granule_mask) >> shift;
	return true;
}

/* A free the cache lane began and did not finish. */
static __attribute__((noinline)) iova_status free_cache_finish(iova_domain *d, uint64_t first, uint64_t granules,
							       unsigned slot, uint64_t requested, enum cache_push what,
							       uint8_t found)
{
	return free_done(d, slot, requested, cache_free_finish(d->fast_cache, first, granules, slot, what, found));
}

/* The entry of domains without a cache lane, and of the frees the cache
 * lane does not take: the buddy's fast lane, the IOMMU, the strategy. */
static iova_status free_untried(iova_domain *d, iova_handle h)
{
	const unsigned slot = iova_thread_slot();
	uint64_t iova, requested = 0;
	iova_status st = handle_open(d, h, &iova, &requested);
	if (IOVA_LIKELY(st == IOVA_OK)) {
		const unsigned shift = d->space.granule_shift;
		const uint64_t first = iova >> shift, granules = (requested + d->granule_mask) >> shift;
		/* handle_open() has checked that the block lies inside the space. */
		if (d->fast_cache)
			st = cache_hit_free(d->fast_cache, first, granules, slot);
		else if (d->fast_buddy && granules <= 16 && !(first & (granules - 1)))
			st = buddy_free_small(d->fast_buddy, first, granules, slot);
		else if (IOVA_UNLIKELY(d->iommu)) /* may wait for an IOTLB flush */
			st = iommu_free(d, first, granules, slot);
		else
			st = d->ops->free(d->strategy, first, granules, slot);
	}
	return free_done(d, slot, requested, st);
}

/* The cache lane's free, calling nothing on the way to a push (see
 * alloc_cache_lane()). */
static inline __attribute__((always_inline)) iova_status free_cache_lane(iova_domain *d, iova_handle h,
									  bool by_address)
{
	unsigned slot;
	uint64_t requested, first, granules;
	if (IOVA_LIKELY(lane_open(d, h, &slot, &requested, &first, &granules))) {
		uint8_t found = MAP_NONE;
		const enum cache_push what = cache_hit_push(d->fast_cache, first, granules, slot, &found, true, by_address);
		if (IOVA_LIKELY(what == CACHE_PUSHED)) {
			if (iova_slot_is_shared(slot))
				__builtin_unreachable(); /* pushed: an owned slot, plain counters */
			return free_done(d, slot, requested, IOVA_OK);
		}
		return free_cache_finish(d, first, granules, slot, requested, what, found);
	}
	return free_untried(d, h);
}

static iova_status free_cache_lane_by_address(iova_domain *d, iova_handle h)
{
	return free_cache_lane(d, h, true);
}

static iova_status free_cache_lane_permuted(iova_domain *d, iova_handle h)
{
	return free_cache_lane(d, h, false);
}

/* A free by the buddy lane after which the parent word's hint is too low. */
static __attribute__((noinline)) iova_status free_buddy_raise(iova_domain *d, uint64_t first, uint64_t after,
							      unsigned slot, uint64_t requested)
{
	buddy_sync_up(d->fast_buddy, 0, first >> L0_FIELDS_LOG2, after, SYNC_RAISE);
	return free_done(d, slot, requested, IOVA_OK);
}

/* A free by the buddy lane whose compare-and-swap lost to another thread:
 * counted here, out of the lane, then retried by the general path. */
static __attribute__((noinline)) iova_status free_buddy_raced(iova_domain *d, iova_handle h, unsigned slot)
{
	iova_slot_add(&d->fast_buddy->slots[slot].cas_retries, 1, slot);
	return free_untried(d, h);
}

/* The buddy lane's free of a block of at most 16 granules with one
 * compare-and-swap (buddy_free_once()), calling nothing on the way (see
 * alloc_buddy_lane()); anything else, refusals and lost races included, is
 * free_untried()'s. */
static iova_status free_buddy_lane(iova_domain *d, iova_handle h)
{
	unsigned slot;
	uint64_t requested, first, granules, after;
	if (IOVA_LIKELY(lane_open(d, h, &slot, &requested, &first, &granules)) && IOVA_LIKELY(granules <= 16) &&
	    IOVA_LIKELY(!(first & (granules - 1)))) {
		switch (buddy_free_once(d->fast_buddy, first, granules, slot, &after)) {
		case BUDDY_FREED:
			return free_done(d, slot, requested, IOVA_OK);
		case BUDDY_FREED_HINT_LOW:
			return free_buddy_raise(d, first, after, slot, requested);
		case BUDDY_RACED:
			return free_buddy_raced(d, h, slot);
		case BUDDY_REFUSED:
			break;
		}
	}
	return free_untried(d, h);
}

iova_status iova_free(iova_domain *d, iova_handle h)
{
	if (IOVA_UNLIKELY(!d))
		return IOVA_ERR_INVALID_ARGUMENT;
	return d->free_entry(d, h);
}

void domain_choose_entries(iova_domain *d)
{
	if (d->fast_cache) {
		const bool by_address = d->fast_cache->map_by_address;
		d->alloc_entry = by_address ? alloc_cache_lane_by_address : alloc_cache_lane_permuted;
		d->free_entry = by_address ? free_cache_lane_by_address : free_cache_lane_permuted;
		return;
	}
	d->alloc_entry = d->fast_buddy ? alloc_buddy_lane : alloc_untried;
	d->free_entry = d->fast_buddy ? free_buddy_lane : free_untried;
}
