/* SPDX-License-Identifier: MIT */
/*
 * fast.c - the cache layer's alloc and free: the magazine hit paths (hit.h), the
 * way to the strategy below on a miss, and the flush-and-retry on failure
 * (see cache.h for the rules and the lock discipline).
 */
#include "hit.h"

/* Index in @m of the last block that meets @r, or -1. */
static int find_fitting(const struct magazine *m, const iova_req *r, bool plain)
{
	if (!m || !m->size)
		return -1;
	if (plain)
		return (int)m->size - 1;
	for (int i = (int)m->size - 1; i >= 0; i--) {
		uint64_t g = m->g[i];
		if (g >= r->lo && g <= r->hi - r->granules && !(g & (r->align - 1)))
			return i;
	}
	return -1;
}

static uint64_t take_at(struct magazine *m, int i)
{
	uint64_t g = m->g[i];
	m->g[i] = m->g[--m->size];
	return g;
}

/*
 * Take a cached block for @r from slot @s (entered or locked by the caller).
 * Returns false on a miss; *@evicted may receive a magazine trimmed from
 * the depot and *@dropped an emptied magazine, both to be dealt with once
 * the caller has left the slot.
 */
static bool take(struct cache *c, struct cache_slot *s, unsigned cls, const iova_req *r, bool plain, uint64_t *g,
		 struct magazine **evicted, struct magazine **dropped)
{
	struct cache_pair *p = &s->pair[cls];
	int i = find_fitting(p->loaded, r, plain);
	if (i < 0 && (i = find_fitting(p->prev, r, plain)) >= 0) {
		struct magazine *t = p->loaded;
		p->loaded = p->prev;
		p->prev = t;
	}
	if (i < 0 && (!p->loaded || !p->loaded->size) && (!p->prev || !p->prev->size)) {
		struct magazine *m = cache_depot_get(c, cls, r->slot, evicted);
		if (m) {
			slot_add(&s->depot_gets, 1);
			slot_add(&s->moved, m->size * cache_class_granules(c, cls));
			if (!s->spare)
				s->spare = p->loaded;
			else
				*dropped = p->loaded;
			p->loaded = m;
			i = find_fitting(m, r, plain);
		}
	}
	if (i < 0)
		return false;
	*g = take_at(p->loaded, i);
	slot_add(&p->taken, 1);
	return true;
}

/*
 * Push block @g of class @cls into slot @s (entered or locked by the
 * caller). Returns false if no magazine had room and no empty one was at
 * hand; *@evicted may receive a magazine trimmed from the depot.
 */
static bool push(struct cache *c, struct cache_slot *s, unsigned slot, unsigned cls, uint64_t g,
		 struct magazine **evicted)
{
	struct cache_pair *p = &s->pair[cls];
	const uint32_t cap = c->magazine_cap;
	if (!p->loaded || p->loaded->size == cap) {
		if (p->prev && p->prev->size < cap) {
			struct magazine *t = p->loaded;
			p->loaded = p->prev;
			p->prev = t;
		} else if (!s->spare) {
			return false;
		} else {
			if (!p->prev) { /* the slot's first full magazine becomes its previous one */
				p->prev = p->loaded;
			} else if (p->loaded) {
				slot_add(&s->depot_puts, 1);
				slot_add(&s->moved, -(p->loaded->size * cache_class_granules(c, cls)));
				*evicted = cache_depot_put(c, cls, slot, p->loaded);
			}
			p->loaded = s->spare;
			s->spare = NULL;
		}
	}
	p->loaded->g[p->loaded->size++] = g;
	slot_add(&p->pushed, 1);
	return true;
}

/* Enter slot @slot's magazines: quiescence for owned slots, the lock for
 * the shared one. False: a flush is running, bypass the cache. */
static inline bool slot_enter(struct cache *c, struct cache_slot *s, unsigned slot)
{
	if (IOVA_UNLIKELY(iova_slot_is_shared(slot))) {
		iova_lock_acquire(&c->shared_lock);
		return true;
	}
	return iova_quiesce_enter(&c->q, &s->busy);
}

static inline void slot_exit(struct cache *c, struct cache_slot *s, unsigned slot)
{
	if (IOVA_UNLIKELY(iova_slot_is_shared(slot)))
		iova_lock_release(&c->shared_lock);
	else
		iova_quiesce_exit(&s->busy);
}

/* Allocate from the strategy below; if it has no space and anything is
 * cached, flush every cache back to it and try once more. */
static iova_status below_alloc(struct cache *c, const iova_req *r, uint64_t *g, bool *flushed)
{
	iova_status st = c->inner->alloc(c->below, r, g);
	if (st == IOVA_ERR_NO_SPACE && !*flushed && cache_cached_granules(c)) {
		*flushed = true;
		cache_flush_all(c, r->slot);
		st = c->inner->alloc(c->below, r, g);
	}
	return st;
}

static __attribute__((noinline)) iova_status alloc_miss(struct cache *c, const iova_req *req, unsigned cls, uint64_t *g)
{
	struct cache_slot *s = cache_slot(c, req->slot);
	const uint64_t held = cache_class_granules(c, cls);
	bool flushed = false;
	iova_status st = IOVA_ERR_NO_SPACE;
	iova_slot_add(&s->misses, 1, req->slot);
	if (held == req->granules || iova_round_up(req->lo, req->align) + held <= req->hi) {
		iova_req r = *req;
		r.granules = held;
		st = below_alloc(c, &r, g, &flushed);
		if (st == IOVA_OK) {
			atomic_store_explicit(cache_state(c, *g), (uint8_t)(MAP_LIVE | (req->granules - 1)),
					      memory_order_relaxed);
			return IOVA_OK;
		}
		if (held == req->granules)
			return st;
	}
	/* The rounded block does not fit: hold exactly what was asked, uncached. */
	st = below_alloc(c, req, g, &flushed);
	if (st == IOVA_OK) {
		iova_slot_add(&s->exact_fallbacks, 1, req->slot);
		atomic_store_explicit(cache_state(c, *g), (uint8_t)(MAP_LIVE_EXACT | (req->granules - 1)),
				      memory_order_relaxed);
	}
	return st;
}

/* Everything but a plain hit in an owned slot's loaded magazine (hit.h). */
__attribute__((noinline)) iova_status cache_alloc_slow(struct cache *c, const iova_req *req, uint64_t *out)
{
	if (IOVA_UNLIKELY(req->granules > c->max_granules)) {
		bool flushed = false;
		return below_alloc(c, req, out, &flushed);
	}
	const unsigned cls = cache_class(c, req->granules);
	struct cache_slot *s = cache_slot(c, req->slot);
	const bool plain = req->lo == c->space.first && req->hi == c->space.end &&
			   req->align == (UINT64_C(1) << req->order);
	struct magazine *evicted = NULL, *dropped = NULL;
	uint64_t g;
	bool hit = false;
	if (slot_enter(c, s, req->slot)) {
		hit = take(c, s, cls, req, plain, &g, &evicted, &dropped);
		slot_exit(c, s, req->slot);
	} else {
		iova_slot_add(&s->bypasses, 1, req->slot);
	}
	if (IOVA_UNLIKELY(evicted || dropped)) {
		cache_release_magazine(c, cls, evicted, req->slot);
		cache_magazine_free(c, dropped, req->slot);
	}
	if (IOVA_LIKELY(hit)) {
		/* The block was cached in this slot: no other writer of its state. */
		atomic_store_explicit(cache_state(c, g), (uint8_t)(MAP_LIVE | (req->granules - 1)), memory_order_relaxed);
		*out = g;
		return IOVA_OK;
	}
	return alloc_miss(c, req, cls, out);
}

/**
 * cache_alloc() - the layer's alloc operation (see iova_strategy_ops).
 * Blocks above the largest class go straight to the strategy below (with
 * the flush-and-retry); others come from the slot's magazines when one
 * meets the request.
 *
 * The hit path - a request with no window or alignment of its own, in an
 * owned slot whose loaded magazine is not empty - is cache_hit_take();
 * everything else is cache_alloc_slow()'s.
 */
iova_status cache_alloc(void *state, const iova_req *req, uint64_t *out)
{
	struct cache *c = state;
	if (IOVA_LIKELY(req->granules <= c->max_granules && !iova_slot_is_shared(req->slot) &&
			req->lo == c->space.first && req->hi == c->space.end &&
			req->align == (UINT64_C(1) << req->order) &&
			cache_hit_take(c, req->slot, cache_class(c, req->granules), req->granules, c->map_by_address, out)))
		return IOVA_OK;
	return cache_alloc_slow(c, req, out);
}

/* Put the block (now CACHED in the map) into the slot's magazines, or give
 * it back below if that cannot be done now. */
static void cache_free_slow(struct cache *c, uint64_t g, unsigned cls, unsigned slot)
{
	struct cache_slot *s = cache_slot(c, slot);
	struct magazine *evicted = NULL;
	bool done = false;
	for (int attempt = 0; attempt < 2 && !done; attempt++) {
		if (!slot_enter(c, s, slot)) {
			iova_slot_add(&s->bypasses, 1, slot);
			break;
		}
		done = push(c, s, slot, cls, g, &evicted);
		slot_exit(c, s, slot);
		if (evicted) {
			cache_release_magazine(c, cls, evicted, slot);
			evicted = NULL;
		}
		if (done)
			break;
		/* No room and no spare: get an empty magazine outside the slot
		 * (the spare is the owner's alone; the shared slot's is locked). */
		if (!iova_slot_is_shared(slot)) {
			if (!s->spare)
				s->spare = cache_magazine_new(c, slot);
		} else {
			struct magazine *m = cache_magazine_new(c, slot);
			iova_lock_acquire(&c->shared_lock);
			if (!s->spare) {
				s->spare = m;
				m = NULL;
			}
			iova_lock_release(&c->shared_lock);
			cache_magazine_free(c, m, slot);
		}
	}
	if (!done)
		cache_release_block(c, g, cache_class_granules(c, cls), slot);
}

/* A free whose block is too large to cache or outside the space. */
static iova_status cache_free_uncached(struct cache *c, uint64_t g, uint64_t granules, unsigned slot)
{
	if (granules > c->max_granules)
		return c->inner->free(c->below, g, granules, slot);
	return IOVA_ERR_UNKNOWN_HANDLE;
}

/* A free whose block the state map does not show as live at its class size
 * (@v: the state found). */
static iova_status cache_free_not_live(struct cache *c, uint64_t g, uint64_t granules, unsigned slot, uint8_t v)
{
	_Atomic uint8_t *st = cache_state(c, g);
	switch (v & MAP_KIND) {
	case MAP_CACHED:
		return IOVA_ERR_DOUBLE_FREE;
	case MAP_LIVE:
		return IOVA_ERR_UNKNOWN_HANDLE; /* another size */
	case MAP_LIVE_EXACT:
		if ((v & MAP_GRANULES) + 1u != granules)
			return IOVA_ERR_UNKNOWN_HANDLE;
		if (!atomic_compare_exchange_strong_explicit(st, &v, (uint8_t)(MAP_CACHED | (granules - 1)),
							     memory_order_relaxed, memory_order_relaxed))
			return IOVA_ERR_DOUBLE_FREE; /* a racing free of the same handle won */
		cache_release_block(c, g, granules, slot);
		return IOVA_OK;
	default:
		/* Not a block this layer holds: the strategy below knows what it is. */
		return c->inner->free(c->below, g, cache_class_granules(c, cache_class(c, granules)), slot);
	}
}

__attribute__((noinline)) iova_status cache_free_finish(struct cache *c, uint64_t g, uint64_t granules, unsigned slot,
							 enum cache_push what, uint8_t found)
{
	if (what == CACHE_PUSH_LATER) {
		cache_free_slow(c, g, cache_class(c, granules), slot);
		return IOVA_OK;
	}
	const uint64_t i = g - c->space.first;
	if (granules > c->max_granules || i >= c->map_granules || granules > c->map_granules - i)
		return cache_free_uncached(c, g, granules, slot);
	return cache_free_not_live(c, g, granules, slot, found);
}

/**
 * cache_free() - the layer's free operation (see iova_strategy_ops).
 *
 * Return: IOVA_OK; IOVA_ERR_DOUBLE_FREE if the block is cached already;
 * IOVA_ERR_UNKNOWN_HANDLE if a block of another size starts there; for
 * blocks the layer does not know, whatever the strategy below says.
 *
 * The hit path is cache_hit_push() (hit.h), the rest cache_free_finish().
 */
iova_status cache_free(void *state, uint64_t g, uint64_t granules, unsigned slot)
{
	return cache_hit_free(state, g, granules, slot);
}
