/* SPDX-License-Identifier: MIT */
/*
 * extent_set.h - a set of free ranges of granules, first fit, for the
 * jemalloc strategy's extent hooks.
 *
 * jemalloc asks its extent hooks for page-multiple ranges with an alignment
 * (rarely at a given address) and gives ranges back in pieces that need not
 * match what it took - it splits and merges extents itself. So the hooks
 * need an allocator over arbitrary ranges: free ranges in a red-black tree
 * keyed by start, coalesced on every add; a take is address-ordered first
 * fit, linear in the free ranges it passes. That is enough: jemalloc caches
 * extents itself and calls its hooks only to grow or when purging, off the
 * allocation fast path. First fit from the bottom also matches jemalloc's
 * own preference for low addresses.
 *
 * Not thread-safe: the caller holds its lock. Nodes come from a pool that
 * maps memory straight from the host, never from malloc (the hooks run
 * inside jemalloc, which may be the process's malloc).
 */
#ifndef IOVA_STRATEGY_EXTENT_SET_H
#define IOVA_STRATEGY_EXTENT_SET_H

#include "../internal.h"
#include "pool.h"
#include "rbtree.h"

struct extent_set {
	struct iova_rb_tree tree;
	struct iova_pool pool;
	uint64_t free_granules;
};

void extent_set_init(struct extent_set *s);
void extent_set_release(struct extent_set *s);

/** extent_set_add() - make [start, start+len) free, merging with neighbours.
 * Return: false (nothing changed) if part of it is free already, or if the
 * host refused memory for a node. */
bool extent_set_add(struct extent_set *s, uint64_t start, uint64_t len);

/** extent_set_take() - the lowest start aligned to @align (a power of two)
 * with [start, start+len) free; removed from the set. False if none (or no
 * memory for a node). */
bool extent_set_take(struct extent_set *s, uint64_t len, uint64_t align, uint64_t *start);

/** extent_set_take_at() - remove [start, start+len) if it is entirely free. */
bool extent_set_take_at(struct extent_set *s, uint64_t start, uint64_t len);

/** extent_set_walk() - report the free ranges in increasing order. */
void extent_set_walk(const struct extent_set *s, iova_extent_fn fn, void *ctx);

#endif
