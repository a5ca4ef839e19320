/* SPDX-License-Identifier: MIT */
/*
 * layer.c - creating and destroying the cache layer, its options, and what
 * it reports (see cache.h for the design).
 */
#include "cache.h"
#include "../prim/memory.h"
#include "../strategy/opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const rounding_choices[] = {"pow2", "exact", NULL};
static const struct iova_opt cache_spec[] = {
	IOVA_OPT_U64_FIELD("magazine_size", struct cache_opts, magazine_size, 1, 65535),
	IOVA_OPT_U64_FIELD("classes", struct cache_opts, classes, 1, CACHE_MAX_CLASSES),
	IOVA_OPT_CHOICE_FIELD("rounding", struct cache_opts, rounding, rounding_choices),
	IOVA_OPT_U64_FIELD("depot_target", struct cache_opts, depot_target, 0, 65536),
	IOVA_OPT_U64_FIELD("trim_ms", struct cache_opts, trim_ms, 0, 3600000),
};
#define CACHE_SPEC_N (sizeof cache_spec / sizeof cache_spec[0])

static struct cache_opts default_opts(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return (struct cache_opts){
		.magazine_size = 127, /* Linux: the magazine is then exactly 1 KiB */
		.classes = 6,         /* 1..32 granules */
		.rounding = 0,
		.depot_target = cpus > 0 ? (uint64_t)cpus : 1,
		.trim_ms = 100,
	};
}

/* Split @options into the layer's keys and the rest, which belong to the
 * strategy below. */
static iova_status parse(const iova_strategy_ops *inner, const char *options, struct cache_opts *o, char **rest,
			 char *msg, size_t msg_size)
{
	char who[64];
	snprintf(who, sizeof who, "%s+cache", inner->name);
	*o = default_opts();
	return iova_opts_parse(who, options, cache_spec, CACHE_SPEC_N, o, rest, msg, msg_size);
}

iova_status iova_cache_check_options(const iova_strategy_ops *inner, const char *options, char *msg, size_t msg_size)
{
	struct cache_opts o;
	char *rest;
	iova_status st = parse(inner, options, &o, &rest, msg, msg_size);
	if (st)
		return st;
	if (inner->check_options)
		st = inner->check_options(rest, msg, msg_size);
	else
		st = iova_opts_parse(inner->name, rest, NULL, 0, NULL, NULL, msg, msg_size);
	if (st && rest && msg && msg_size) {
		/* Say which keys the layer itself would have taken. */
		size_t used = strlen(msg);
		snprintf(msg + used, msg_size - used,
			 "; the cache layer takes magazine_size, classes, rounding, depot_target, trim_ms");
	}
	free(rest);
	return st;
}

unsigned iova_cache_caps(const iova_strategy_ops *inner) { return inner->caps & ~(unsigned)IOVA_CAP_EXACT_SIZE; }

static void cache_destroy(void *state)
{
	struct cache *c = state;
	if (!c)
		return;
	if (c->slots) {
		for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
			struct cache_slot *cs = cache_slot(c, s);
			for (unsigned cls = 0; cls < c->nclasses; cls++) {
				free(cs->pair[cls].loaded);
				free(cs->pair[cls].prev);
			}
			free(cs->spare);
		}
		free(c->slots);
	}
	if (c->depots) {
		for (unsigned cls = 0; cls < c->nclasses; cls++) {
			for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
				for (struct magazine *m = c->depots[cls].shelves[s].list, *n; m; m = n) {
					n = m->next;
					free(m);
				}
				iova_lock_destroy(&c->depots[cls].shelves[s].lock);
			}
		}
		free(c->depots);
	}
	if (c->below)
		c->inner->destroy(c->below);
	iova_release_coloured((void *)c->map, c->map_bytes);
	iova_lock_destroy(&c->shared_lock);
	iova_quiesce_destroy(&c->q);
	iova_free_coloured(c);
}

_Static_assert(IOVA_COLOUR_CACHE % _Alignof(struct cache) == 0 && IOVA_COLOUR_CACHE + sizeof(struct cache) <= 0x400,
	       "struct cache outgrew its colour (prim/memory.h)");
_Static_assert(IOVA_COLOUR_CACHE_MAP % IOVA_WRITE_SPAN == 0, "the state map's pairs must stay whole spans");

iova_status iova_cache_create(const iova_strategy_ops *inner, const iova_space *space, const char *options, void **state)
{
	struct cache_opts o;
	char *rest;
	iova_status st = parse(inner, options, &o, &rest, NULL, 0);
	if (st)
		return st;
	struct cache *c = iova_alloc_coloured(sizeof *c, IOVA_COLOUR_CACHE);
	if (!c) {
		free(rest);
		return IOVA_ERR_NO_MEMORY;
	}
	c->inner = inner;
	c->space = *space;
	c->o = o;
	iova_lock_init(&c->shared_lock);
	iova_quiesce_init(&c->q);
	st = inner->create(space, rest, &c->below);
	free(rest);
	if (st) {
		c->below = NULL;
		cache_destroy(c);
		return st;
	}
	c->max_granules = UINT64_C(1) << (o.classes - 1);
	c->nclasses = o.rounding ? (unsigned)c->max_granules : (unsigned)o.classes;
	for (uint64_t n = 1; n <= c->max_granules; n++)
		c->class_of[n] = (uint8_t)(o.rounding ? n - 1 : iova_log2_ceil(n));
	c->rounding = o.rounding;
	c->magazine_cap = (uint32_t)o.magazine_size;
	c->map_granules = space->end - space->first;
	c->map_by_address = inner->spreads_threads;
	c->map_bytes = (size_t)iova_round_up(c->map_granules, UINT64_C(1) << CACHE_MAP_PAGE_LOG2);
	c->map = iova_reserve_coloured(c->map_bytes, IOVA_COLOUR_CACHE_MAP);
	c->slot_stride = iova_round_up(sizeof(struct cache_slot) + c->nclasses * sizeof(struct cache_pair), IOVA_WRITE_SPAN);
	c->slots = aligned_alloc(IOVA_WRITE_SPAN, IOVA_THREAD_SLOTS * c->slot_stride);
	c->depots = aligned_alloc(_Alignof(struct depot), c->nclasses * sizeof(struct depot));
	if (!c->map || !c->slots || !c->depots) {
		free(c->depots);
		c->depots = NULL;
		cache_destroy(c);
		return IOVA_ERR_NO_MEMORY;
	}
	memset(c->slots, 0, IOVA_THREAD_SLOTS * c->slot_stride);
	for (unsigned cls = 0; cls < c->nclasses; cls++) {
		memset(&c->depots[cls], 0, sizeof c->depots[cls]);
		for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++)
			iova_lock_init(&c->depots[cls].shelves[s].lock);
	}
	*state = c;
	return IOVA_OK;
}

static void cache_walk_free(const void *state, iova_extent_fn fn, void *ctx)
{
	const struct cache *c = state;
	c->inner->walk_free(c->below, fn, ctx);
}

static uint64_t cache_cached(const void *state)
{
	const struct cache *c = state;
	return cache_cached_granules(c) + (c->inner->cached ? c->inner->cached(c->below) : 0);
}

static void cache_flush(void *state)
{
	struct cache *c = state;
	cache_flush_all(c, iova_thread_slot());
	if (c->inner->flush)
		c->inner->flush(c->below);
}

/* Magazines allocated and not freed (per-slot counts may wrap, the sum not). */
static uint64_t magazine_count(const struct cache *c)
{
	uint64_t n = 0;
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++)
		n += atomic_load_explicit(&cache_slot(c, s)->magazines, memory_order_relaxed);
	return n;
}

static uint64_t own_metadata(const struct cache *c)
{
	return iova_coloured_bytes(sizeof *c, IOVA_COLOUR_CACHE) + IOVA_THREAD_SLOTS * c->slot_stride +
	       c->nclasses * sizeof(struct depot) +
	       magazine_count(c) * (sizeof(struct magazine) + c->o.magazine_size * sizeof(uint64_t));
}

static uint64_t cache_metadata_reserved(const void *state)
{
	const struct cache *c = state;
	return own_metadata(c) + c->map_bytes + c->inner->metadata_reserved(c->below);
}

static uint64_t cache_metadata_resident(const void *state)
{
	const struct cache *c = state;
	return own_metadata(c) + iova_resident_bytes((const void *)c->map, c->map_bytes) +
	       c->inner->metadata_resident(c->below);
}

static void cache_counters(const void *state, iova_counter_fn fn, void *ctx)
{
	const struct cache *c = state;
	uint64_t hits = 0, misses = 0, bypasses = 0, gets = 0, puts = 0, exact = 0;
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		const struct cache_slot *cs = cache_slot(c, s);
		for (unsigned cls = 0; cls < c->nclasses; cls++)
			hits += atomic_load_explicit(&cs->pair[cls].taken, memory_order_relaxed);
		misses += atomic_load_explicit(&cs->misses, memory_order_relaxed);
		bypasses += atomic_load_explicit(&cs->bypasses, memory_order_relaxed);
		gets += atomic_load_explicit(&cs->depot_gets, memory_order_relaxed);
		puts += atomic_load_explicit(&cs->depot_puts, memory_order_relaxed);
		exact += atomic_load_explicit(&cs->exact_fallbacks, memory_order_relaxed);
	}
	fn(ctx, "cache_hits", hits, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_misses", misses, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_depot_gets", gets, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_depot_puts", puts, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_depot_trims", atomic_load_explicit(&c->depot_trims, memory_order_relaxed), IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_flushes", atomic_load_explicit(&c->flushes, memory_order_relaxed), IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_flushed_blocks", atomic_load_explicit(&c->flushed_blocks, memory_order_relaxed),
	   IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_bypasses", bypasses, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_exact_fallbacks", exact, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_cached_granules", cache_cached_granules(c), IOVA_COUNTER_LEVEL);
	fn(ctx, "cache_magazines", magazine_count(c), IOVA_COUNTER_LEVEL);
	fn(ctx, "cache_shared_slot_locks", iova_counter_read(&c->shared_lock.acquisitions), IOVA_COUNTER_TOTAL);
	uint64_t depot_locks = 0, depot_waits = 0;
	for (unsigned cls = 0; cls < c->nclasses; cls++) {
		for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
			depot_locks += iova_counter_read(&c->depots[cls].shelves[s].lock.acquisitions);
			depot_waits += iova_counter_read(&c->depots[cls].shelves[s].lock.contended);
		}
	}
	fn(ctx, "cache_depot_locks", depot_locks, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_depot_lock_waits", depot_waits, IOVA_COUNTER_TOTAL);
	fn(ctx, "cache_below_free_errors", atomic_load_explicit(&c->inner_free_errors, memory_order_relaxed),
	   IOVA_COUNTER_TOTAL);
	if (c->inner->counters)
		c->inner->counters(c->below, fn, ctx);
}

/* The registry copies this and fills in name, description, caps, create
 * and check_options for each strategy below. */
const iova_strategy_ops iova_cache_ops_template = {
	.destroy = cache_destroy,
	.alloc = cache_alloc,
	.free = cache_free,
	.walk_free = cache_walk_free,
	.metadata_reserved = cache_metadata_reserved,
	.metadata_resident = cache_metadata_resident,
	.counters = cache_counters,
	.flush = cache_flush,
	.cached = cache_cached,
};
