/* SPDX-License-Identifier: MIT */
/*
 * hit.h - the cache layer's hit paths, inline: a pop from and a push onto
 * an owned slot's loaded magazine (see cache.h for the rules).
 *
 * They are used twice: by the layer's own alloc and free operations
 * (fast.c), and by the domain's fast lane (dispatch.c), which calls them
 * directly for requests with no window or alignment of their own, so that a
 * hit costs no call through the strategy table, no normalised request and
 * no repeated checks. Everything else - misses, swaps, the depot, flushes,
 * errors - stays behind the noinline functions declared here, and the
 * inline parts call none of them, so that their callers need no saved
 * registers on the way to a hit.
 */
#ifndef IOVA_CACHE_HIT_H
#define IOVA_CACHE_HIT_H

#include "cache.h"

/**
 * cache_hit_take() - pop the top block of class @cls from owned slot
 * @slot's loaded magazine and mark it live with @granules.
 * Return: true and the block's first granule in *@g; false, with nothing
 * changed, if that magazine is empty or a flush is running.
 * The caller has checked that @slot is not the shared slot, that the
 * request is plain (no window, natural alignment) and that @granules is of
 * class @cls. @by_address: c->map_by_address (cache_state_in()).
 */
static inline __attribute__((always_inline)) bool cache_hit_take(struct cache *c, unsigned slot, unsigned cls,
								  uint64_t granules, bool by_address, uint64_t *g)
{
	struct cache_slot *s = cache_slot(c, slot);
	if (IOVA_UNLIKELY(!iova_quiesce_enter(&c->q, &s->busy)))
		return false;
	struct cache_pair *p = &s->pair[cls];
	struct magazine *m = p->loaded;
	uint32_t n;
	if (IOVA_UNLIKELY(!m || !(n = m->size))) {
		iova_quiesce_exit(&s->busy);
		return false;
	}
	const uint64_t b = m->g[n - 1];
	m->size = n - 1;
	slot_add(&p->taken, 1);
	iova_quiesce_exit(&s->busy);
	/* Cached in this slot: no other writer of its state. */
	atomic_store_explicit(cache_state_in(c, b - c->space.first, by_address), (uint8_t)(MAP_LIVE | (granules - 1)),
			      memory_order_relaxed);
	*g = b;
	return true;
}

/**
 * cache_alloc_slow() - the layer's allocation of @req (iova_strategy_ops.alloc)
 * without the inline hit: swaps, the depot, the strategy below, flushes.
 * For a caller that has just tried cache_hit_take() (or need not).
 */
iova_status cache_alloc_slow(struct cache *c, const iova_req *req, uint64_t *first_granule);

/* What cache_hit_push() did with a free. */
enum cache_push {
	CACHE_PUSHED,     /* the block is cached in the slot's loaded magazine: done */
	CACHE_PUSH_LATER, /* the block is CACHED in the map; cache_free_finish() places it */
	CACHE_NOT_PUSHED, /* nothing changed; cache_free_finish() decides what the free is */
};

/**
 * cache_hit_push() - the inline part of the layer's free of block @g of
 * @granules granules by slot @slot: the state byte's compare-and-swap from
 * live to cached, then a push onto the owned slot's loaded magazine.
 * @inside: the caller has checked that the block lies inside the space,
 * which the state map covers exactly (a domain's opened handle), so the
 * map's bounds need no second check. @by_address: as for cache_hit_take().
 * Return: what it did (enum cache_push); unless CACHE_PUSHED the caller
 * must pass that and *@found (the state byte seen) to cache_free_finish().
 * Nothing in it calls out, so that a caller which inlines it needs no
 * registers saved on the way to the push.
 */
static inline __attribute__((always_inline)) enum cache_push
cache_hit_push(struct cache *c, uint64_t g, uint64_t granules, unsigned slot, uint8_t *found, bool inside,
	       bool by_address)
{
	const uint64_t i = g - c->space.first;
	if (IOVA_UNLIKELY(granules > c->max_granules ||
			  (!inside && (i >= c->map_granules || granules > c->map_granules - i))))
		return CACHE_NOT_PUSHED;
	_Atomic uint8_t *st = cache_state_in(c, i, by_address);
	uint8_t v = (uint8_t)(MAP_LIVE | (granules - 1));
	/* Live -> cached: of two frees of one block, exactly one gets here.
	 * Relaxed: the byte orders nothing but itself; the block's address
	 * reaches another thread only through a magazine, published by the
	 * depot's lock or the quiescence protocol. */
	if (IOVA_UNLIKELY(!atomic_compare_exchange_strong_explicit(st, &v, (uint8_t)(MAP_CACHED | (granules - 1)),
								   memory_order_relaxed, memory_order_relaxed))) {
		*found = v;
		return CACHE_NOT_PUSHED;
	}
	if (IOVA_UNLIKELY(iova_slot_is_shared(slot)))
		return CACHE_PUSH_LATER;
	struct cache_slot *s = cache_slot(c, slot);
	if (IOVA_UNLIKELY(!iova_quiesce_enter(&c->q, &s->busy)))
		return CACHE_PUSH_LATER;
	struct cache_pair *p = &s->pair[cache_class(c, granules)];
	struct magazine *m = p->loaded;
	uint32_t n;
	if (IOVA_LIKELY(m && (n = m->size) < c->magazine_cap)) {
		m->g[n] = g;
		m->size = n + 1;
		slot_add(&p->pushed, 1);
		iova_quiesce_exit(&s->busy);
		return CACHE_PUSHED;
	}
	iova_quiesce_exit(&s->busy);
	return CACHE_PUSH_LATER;
}

/**
 * cache_free_finish() - the rest of a free that cache_hit_push() did not
 * finish (@what, @found: what it returned and found): a swap, the depot or
 * the strategy below for a block it marked cached; an error or the
 * strategy below for one it did not touch.
 * Return: as cache_free() (cache.h).
 */
iova_status cache_free_finish(struct cache *c, uint64_t g, uint64_t granules, unsigned slot, enum cache_push what,
			      uint8_t found);

/**
 * cache_hit_free() - the layer's free of block @g of @granules granules by
 * slot @slot: cache_hit_push(), then cache_free_finish() if needed.
 * Return: as cache_free() (cache.h).
 */
static inline iova_status cache_hit_free(struct cache *c, uint64_t g, uint64_t granules, unsigned slot)
{
	uint8_t found = MAP_NONE;
	const enum cache_push what = cache_hit_push(c, g, granules, slot, &found, false, c->map_by_address);
	return IOVA_LIKELY(what == CACHE_PUSHED) ? IOVA_OK : cache_free_finish(c, g, granules, slot, what, found);
}

#endif
