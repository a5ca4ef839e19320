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
		iova_slot_add(&cache_slot(c, slot)->magazines, 1, slot);
	}
	return m;
}

void cache_magazine_free(struct cache *c, struct magazine *m, unsigned slot)
{
	if (m) {
		iova_slot_add(&cache_slot(c, slot)->magazines, UINT64_MAX, slot); /* -1 */
		free(m);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Put the full magazine @m (of @held-granule blocks) on slot @slot's shelf. */
static void shelf_push(struct depot *d, unsigned slot, struct magazine *m, uint64_t held)
{
	struct shelf *sh = &d->shelves[slot];
	iova_lock_acquire(&sh->lock);
	m->next = sh->list;
	sh->list = m;
	iova_count(&sh->count, 1);
	iova_count(&sh->granules, m->size * held);
	if (!m->next)
		atomic_fetch_or_explicit(&d->nonempty[slot / 64], UINT64_C(1) << (slot % 64), memory_order_relaxed);
	iova_lock_release(&sh->lock);
}

/* Take a magazine from slot @slot's shelf, or NULL if it has none. */
static struct magazine *shelf_pop(struct depot *d, unsigned slot, uint64_t held)
{
	struct shelf *sh = &d->shelves[slot];
	iova_lock_acquire(&sh->lock);
	struct magazine *m = sh->list;
	if (m) {
		sh->list = m->next;
		m->next = NULL; /* outside the depot a magazine is alone (cache_release_magazine()) */
		iova_count(&sh->count, UINT64_MAX); /* -1 */
		iova_count(&sh->granules, -(m->size * held));
		if (!sh->list)
			atomic_fetch_and_explicit(&d->nonempty[slot / 64], ~(UINT64_C(1) << (slot % 64)),
						  memory_order_relaxed);
	}
	iova_lock_release(&sh->lock);
	return m;
}

/* A magazine of slot @slot's own, else of the lowest-numbered slot that has
 * one, else NULL. The bits are read without locks: a shelf found empty once
 * locked is passed over. */
static struct magazine *depot_take(struct depot *d, unsigned slot, uint64_t held)
{
	struct magazine *m;
	if (atomic_load_explicit(&d->shelves[slot].count, memory_order_relaxed) && (m = shelf_pop(d, slot, held)))
		return m;
	for (unsigned w = 0; w < IOVA_THREAD_SLOTS / 64; w++) {
		uint64_t bits = atomic_load_explicit(&d->nonempty[w], memory_order_relaxed);
		for (; bits; bits &= bits - 1) {
			const unsigned s = w * 64 + (unsigned)__builtin_ctzll(bits);
			if (s != slot && (m = shelf_pop(d, s, held)))
				return m;
		}
	}
	return NULL;
}

/* Magazines and granules in the depot: the totals of the shelves that hold
 * a magazine (the others hold nothing), each counter read atomically. */
static void depot_totals(const struct depot *d, uint64_t *magazines, uint64_t *granules)
{
	*magazines = *granules = 0;
	for (unsigned w = 0; w < IOVA_THREAD_SLOTS / 64; w++) {
		for (uint64_t bits = atomic_load_explicit(&d->nonempty[w], memory_order_relaxed); bits; bits &= bits - 1) {
			const struct shelf *sh = &d->shelves[w * 64 + (unsigned)__builtin_ctzll(bits)];
			*magazines += atomic_load_explicit(&sh->count, memory_order_relaxed);
			*granules += atomic_load_explicit(&sh->granules, memory_order_relaxed);
		}
	}
}

/*
 * The magazines to trim, chained through next, or NULL; the caller holds no
 * shelf lock. Linux's delayed work frees one magazine every 100 ms while the
 * depot holds more than one per CPU, idle or not. Here the depot's traffic
 * drives it: the clock starts when the depot is first found above its
 * target (last_trim_ns, 0 while it is not), and each operation trims the
 * magazines whose periods have passed since, up to the excess - what the
 * work item would have trimmed by then, an idle stretch included. The clock
 * is read first: it is this thread's own, the other shelves' counts are on
 * other threads' lines. trim_ms=0: every excess magazine, at once.
 */
static struct magazine *depot_trim(struct cache *c, struct depot *d, unsigned cls, unsigned slot)
{
	const uint64_t period = c->o.trim_ms * 1000000u;
	uint64_t now = 0, last = 0;
	if (period) {
		now = now_ns();
		last = atomic_load_explicit(&d->last_trim_ns, memory_order_relaxed);
		if (last && now - last < period)
			return NULL;
	}
	uint64_t magazines, granules;
	depot_totals(d, &magazines, &granules);
	if (magazines <= c->o.depot_target) {
		if (last) /* at or below target: the work item would not run again */
			atomic_compare_exchange_strong_explicit(&d->last_trim_ns, &last, 0, memory_order_relaxed,
								memory_order_relaxed);
		return NULL;
	}
	uint64_t due = magazines - c->o.depot_target;
	if (period) {
		if (!last) { /* above target from now: the first trim is one period away */
			atomic_compare_exchange_strong_explicit(&d->last_trim_ns, &last, now, memory_order_relaxed,
								memory_order_relaxed);
			return NULL;
		}
		const uint64_t periods = (now - last) / period;
		/* Trimmed down to the target, the clock stops (it starts again when
		 * the depot next grows above it); else it keeps its phase. */
		const uint64_t next = periods >= due ? 0 : last + periods * period;
		due = iova_min(due, periods);
		/* These periods' trims are ours, whoever else got here meanwhile. */
		if (!atomic_compare_exchange_strong_explicit(&d->last_trim_ns, &last, next, memory_order_relaxed,
							     memory_order_relaxed))
			return NULL;
	}
	struct magazine *chain = NULL, *m;
	for (; due && (m = depot_take(d, slot, cache_class_granules(c, cls))); due--) {
		m->next = chain;
		chain = m;
		atomic_fetch_add_explicit(&c->depot_trims, 1, memory_order_relaxed);
	}
	return chain;
}

/**
 * cache_depot_get() - a full magazine of class @cls from the depot for slot
 * @slot (its own if it has one there), or NULL.
 * @evicted: receives the magazines trimmed from the depot (chained, or NULL),
 *           which the caller gives back with cache_release_magazine()
 *           outside its quiescence section.
 */
struct magazine *cache_depot_get(struct cache *c, unsigned cls, unsigned slot, struct magazine **evicted)
{
	struct depot *d = &c->depots[cls];
	*evicted = NULL;
	/* Racy looks, so that a miss on an empty depot (every miss while a
	 * workload grows) takes no lock: at worst one miss that could have
	 * been a hit. */
	if (!atomic_load_explicit(&d->shelves[slot].count, memory_order_relaxed)) {
		bool any = false;
		for (unsigned w = 0; w < IOVA_THREAD_SLOTS / 64 && !any; w++)
			any = atomic_load_explicit(&d->nonempty[w], memory_order_relaxed) != 0;
		if (!any)
			return NULL;
	}
	struct magazine *m = depot_take(d, slot, cache_class_granules(c, cls));
	*evicted = depot_trim(c, d, cls, slot);
	return m;
}

/**
 * cache_depot_put() - park the full magazine @m of slot @slot in the depot
 * of class @cls.
 * Return: the magazines trimmed from the depot (chained; possibly @m
 * itself), or NULL; the caller gives them back with cache_release_magazine().
 */
struct magazine *cache_depot_put(struct cache *c, unsigned cls, unsigned slot, struct magazine *m)
{
	struct depot *d = &c->depots[cls];
	shelf_push(d, slot, m, cache_class_granules(c, cls));
	return depot_trim(c, d, cls, slot);
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

/** cache_release_magazine() - give back every block of @m, then @m itself,
 * and the same for every magazine chained after it (a trim's, depot_trim()). */
void cache_release_magazine(struct cache *c, unsigned cls, struct magazine *m, unsigned slot)
{
	const uint64_t held = cache_class_granules(c, cls);
	for (struct magazine *next; m; m = next) {
		next = m->next;
		for (uint32_t i = 0; i < m->size; i++)
			cache_release_block(c, m->g[i], held, slot);
		atomic_fetch_add_explicit(&c->flushed_blocks, m->size, memory_order_relaxed);
		cache_magazine_free(c, m, slot);
	}
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
		const uint64_t held = cache_class_granules(c, cls);
		for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
			if (!atomic_load_explicit(&d->shelves[s].count, memory_order_relaxed))
				continue; /* racy, but no owned slot is in a section now */
			for (struct magazine *m; (m = shelf_pop(d, s, held));)
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
	for (unsigned cls = 0; cls < c->nclasses; cls++) {
		uint64_t magazines, granules;
		depot_totals(&c->depots[cls], &magazines, &granules);
		total += granules;
	}
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++)
		total += cache_slot_granules(c, cache_slot(c, s));
	return total;
}
