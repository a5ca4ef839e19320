/* SPDX-License-Identifier: MIT */
/*
 * magazine.c - magazines, the depot, giving blocks back to the strategy
 * below, and flushing (see cache.h for the rules and the lock discipline).
 */
#include "cache.h"

#include <stdlib.h>
#include <time.h>

struct magazine *cache_magazine_new(struct cache *c, unsigned slot)
{
	struct magazine *m = malloc(sizeof *m + c->o.magazine_size * sizeof m->g[0]);
	if (m) {
		m->size = 0;
		m->next = NULL;
		cache_ctr_add(&cache_slot(c, slot)->magazines, 1, slot);
	}
	return m;
}

void cache_magazine_free(struct cache *c, struct magazine *m, unsigned slot)
{
	if (m) {
		cache_ctr_add(&cache_slot(c, slot)->magazines, UINT64_MAX, slot); /* -1 */
		free(m);
	}
}

/* Under the depot's lock: its magazine and granule counts change by the
 * given amounts (two's complement for decrements). */
static void depot_account(struct depot *d, uint64_t magazines, uint64_t granules)
{
	iova_count(&d->count, magazines);
	iova_count(&d->granules, granules);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Under the depot's lock: push @m onto slot @slot's list. */
static void push_locked(struct depot *d, unsigned slot, struct magazine *m)
{
	m->next = d->lists[slot];
	d->lists[slot] = m;
	d->nonempty[slot / 64] |= UINT64_C(1) << (slot % 64);
}

/* Under the depot's lock: a magazine of slot @slot's, else of the first slot
 * that has one, else NULL. */
static struct magazine *pop_locked(struct depot *d, unsigned slot)
{
	if (!d->lists[slot]) {
		unsigned w = 0;
		while (w < IOVA_THREAD_SLOTS / 64 && !d->nonempty[w])
			w++;
		if (w == IOVA_THREAD_SLOTS / 64)
			return NULL;
		slot = w * 64 + (unsigned)__builtin_ctzll(d->nonempty[w]);
	}
	struct magazine *m = d->lists[slot];
	d->lists[slot] = m->next;
	if (!m->next)
		d->nonempty[slot / 64] &= ~(UINT64_C(1) << (slot % 64));
	return m;
}

/* Under the depot's lock: the magazine to trim, if the depot is above its
 * target and a trim is due. Linux frees one magazine per 100 ms while the
 * depot holds more than one per CPU. */
static struct magazine *trim_locked(struct cache *c, struct depot *d, unsigned cls, unsigned slot)
{
	if (atomic_load_explicit(&d->count, memory_order_relaxed) <= c->o.depot_target)
		return NULL;
	if (c->o.trim_ms) {
		uint64_t now = now_ns();
		if (now - d->last_trim_ns < c->o.trim_ms * 1000000u)
			return NULL;
		d->last_trim_ns = now;
	}
	struct magazine *m = pop_locked(d, slot);
	if (!m)
		return NULL;
	depot_account(d, -1, -(m->size * cache_class_granules(c, cls)));
	atomic_fetch_add_explicit(&c->depot_trims, 1, memory_order_relaxed);
	return m;
}

/**
 * cache_depot_get() - a full magazine of class @cls from the depot for slot
 * @slot (its own if it has one there), or NULL.
 * @evicted: receives a magazine trimmed from the depot (or NULL), which the
 *           caller gives back with cache_release_magazine() outside its
 *           quiescence section.
 */
struct magazine *cache_depot_get(struct cache *c, unsigned cls, unsigned slot, struct magazine **evicted)
{
	struct depot *d = &c->depots[cls];
	*evicted = NULL;
	if (!atomic_load_explicit(&d->count, memory_order_relaxed))
		return NULL; /* a racy look: at worst one miss that could have been a hit */
	iova_lock_acquire(&d->lock);
	struct magazine *m = pop_locked(d, slot);
	if (m)
		depot_account(d, -1, -(m->size * cache_class_granules(c, cls)));
	*evicted = trim_locked(c, d, cls, slot);
	iova_lock_release(&d->lock);
	return m;
}

/**
 * cache_depot_put() - park the full magazine @m of slot @slot in the depot
 * of class @cls.
 * Return: a magazine trimmed from the depot (possibly @m itself), or NULL;
 * the caller gives it back with cache_release_magazine().
 */
struct magazine *cache_depot_put(struct cache *c, unsigned cls, unsigned slot, struct magazine *m)
{
	struct depot *d = &c->depots[cls];
	iova_lock_acquire(&d->lock);
	push_locked(d, slot, m);
	depot_account(d, 1, m->size * cache_class_granules(c, cls));
	struct magazine *evicted = trim_locked(c, d, cls, slot);
	iova_lock_release(&d->lock);
	return evicted;
}

/**
 * cache_release_block() - give a cached block back to the strategy below:
 * free it there, then clear its state. In that order, so that a racing
 * double free still finds it cached until it is free below; clearing with a
 * compare-and-swap leaves alone a state the block got from a new life.
 */
void cache_release_block(struct cache *c, uint64_t g, uint64_t held, unsigned slot)
{
	_Atomic uint8_t *st = cache_state(c, g);
	uint8_t v = atomic_load_explicit(st, memory_order_relaxed);
	if (c->inner->free(c->below, g, held, slot) != IOVA_OK)
		atomic_fetch_add_explicit(&c->inner_free_errors, 1, memory_order_relaxed);
	if ((v & MAP_KIND) == MAP_CACHED)
		atomic_compare_exchange_strong_explicit(st, &v, MAP_NONE, memory_order_relaxed, memory_order_relaxed);
}

/** cache_release_magazine() - give back every block of @m, then @m itself. */
void cache_release_magazine(struct cache *c, unsigned cls, struct magazine *m, unsigned slot)
{
	if (!m)
		return;
	const uint64_t held = cache_class_granules(c, cls);
	for (uint32_t i = 0; i < m->size; i++)
		cache_release_block(c, m->g[i], held, slot);
	atomic_fetch_add_explicit(&c->flushed_blocks, m->size, memory_order_relaxed);
	cache_magazine_free(c, m, slot);
}

/* Give back the blocks of a slot's magazines, keeping the magazines. The
 * caller has the slot quiesced (or holds shared_lock). */
static void drain_slot(struct cache *c, struct cache_slot *s, unsigned slot)
{
	uint64_t granules = 0;
	for (unsigned cls = 0; cls < c->nclasses; cls++) {
		struct magazine *ms[2] = {s->pair[cls].loaded, s->pair[cls].prev};
		const uint64_t held = cache_class_granules(c, cls);
		for (int k = 0; k < 2; k++) {
			if (!ms[k])
				continue;
			for (uint32_t i = 0; i < ms[k]->size; i++)
				cache_release_block(c, ms[k]->g[i], held, slot);
			atomic_fetch_add_explicit(&c->flushed_blocks, ms[k]->size, memory_order_relaxed);
			granules += ms[k]->size * held;
			ms[k]->size = 0;
		}
	}
	slot_add(&s->moved, -granules);
}

/**
 * cache_flush_all() - give every cached block back to the strategy below:
 * all slots' magazines and the depots. Owners that operate meanwhile bypass
 * their caches. @slot is the calling thread's slot.
 */
void cache_flush_all(struct cache *c, unsigned slot)
{
	atomic_fetch_add_explicit(&c->flushes, 1, memory_order_relaxed);
	iova_quiesce_begin(&c->q);
	for (unsigned s = 0; s < IOVA_SLOT_SHARED; s++) {
		struct cache_slot *cs = cache_slot(c, s);
		iova_quiesce_wait(&cs->busy);
		if (cache_slot_granules(c, cs))
			drain_slot(c, cs, slot);
	}
	iova_lock_acquire(&c->shared_lock);
	drain_slot(c, cache_slot(c, IOVA_SLOT_SHARED), slot);
	iova_lock_release(&c->shared_lock);
	for (unsigned cls = 0; cls < c->nclasses; cls++) {
		struct depot *d = &c->depots[cls];
		iova_lock_acquire(&d->lock);
		struct magazine *m = NULL, *next;
		while ((next = pop_locked(d, slot))) {
			next->next = m;
			m = next;
		}
		atomic_store_explicit(&d->count, 0, memory_order_relaxed);
		atomic_store_explicit(&d->granules, 0, memory_order_relaxed);
		iova_lock_release(&d->lock);
		for (; m; m = next) {
			next = m->next;
			cache_release_magazine(c, cls, m, slot);
		}
	}
	iova_quiesce_end(&c->q);
}

uint64_t cache_slot_granules(const struct cache *c, const struct cache_slot *s)
{
	uint64_t g = atomic_load_explicit(&s->moved, memory_order_relaxed);
	for (unsigned cls = 0; cls < c->nclasses; cls++)
		g += (atomic_load_explicit(&s->pair[cls].pushed, memory_order_relaxed) -
		      atomic_load_explicit(&s->pair[cls].taken, memory_order_relaxed)) *
		     cache_class_granules(c, cls);
	return g;
}

/** cache_cached_granules() - granules held in magazines and depots. Exact
 * when no operation runs; otherwise each counter is read atomically, the
 * whole is not one instant. */
uint64_t cache_cached_granules(const struct cache *c)
{
	uint64_t total = 0;
	for (unsigned cls = 0; cls < c->nclasses; cls++)
		total += atomic_load_explicit(&c->depots[cls].granules, memory_order_relaxed);
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++)
		total += cache_slot_granules(c, cache_slot(c, s));
	return total;
}
