/* SPDX-License-Identifier: MIT */
/*
 * domain.h - the domain object: a space, its strategy, and per-thread-slot
 * counters. Shared by domain.c, handle.c and stats.c.
 */
#ifndef IOVA_DOMAIN_H
#define IOVA_DOMAIN_H

#include "internal.h"
#include "prim/thread_slot.h"

/* Operation counters of one thread slot; summed on demand. Byte and granule
 * totals of live blocks may go "negative" in one slot (a block freed by
 * another thread than its allocator's); unsigned wrap-around keeps the sum
 * exact. */
struct domain_counters {
	_Atomic uint64_t allocs, frees, failed_allocs, failed_frees;
	_Atomic uint64_t requested_bytes, held_granules;
} __attribute__((aligned(IOVA_CACHE_LINE)));

struct iova_domain {
	iova_domain_config config;
	iova_space space;
	uint64_t granule_mask;
	uint64_t handle_key;
	const iova_strategy_ops *ops;
	void *strategy;
	struct domain_counters *counters; /* IOVA_THREAD_SLOTS */
};

/* handle.c */
iova_handle domain_handle_make(const iova_domain *d, uint64_t iova, uint64_t requested, iova_cache_type cache);
iova_status domain_handle_open(const iova_domain *d, iova_handle h, uint64_t *iova, uint64_t *requested,
			       iova_cache_type *cache);

#endif
