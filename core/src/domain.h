/* SPDX-License-Identifier: MIT */
/*
 * domain.h - the domain object: a space, its strategy, and per-thread-slot
 * counters. Shared by domain.c, dispatch.c, handle.h and stats.c.
 */
#ifndef IOVA_DOMAIN_H
#define IOVA_DOMAIN_H

#include "internal.h"
#include "prim/thread_slot.h"

/* Operation counters of one thread slot; summed on demand. The byte total of
 * live blocks may go "negative" in one slot (a block freed by another thread
 * than its allocator's); unsigned wrap-around keeps the sum exact. */
struct domain_counters {
	_Atomic uint64_t allocs, frees, failed_allocs, failed_frees;
	_Atomic uint64_t requested_bytes;
} __attribute__((aligned(IOVA_WRITE_SPAN))); /* written on every call by its slot's thread */

struct iova_domain {
	iova_domain_config config;
	iova_space space;
	uint64_t granule_mask;
	uint64_t handle_key;
	const iova_strategy_ops *ops;
	void *strategy;
	struct domain_counters *counters; /* IOVA_THREAD_SLOTS */
	struct iommu *iommu; /* NULL without config.iommu (iommu/iommu.h) */
	/* The strategy's state when it is a cache layer and no IOMMU is
	 * simulated: the fast lane calls the layer's hit paths directly. */
	struct cache *fast_cache;
	/* The same for the lock-free buddy: its one-word claims and frees. */
	struct buddy *fast_buddy;
	/* Where iova_alloc() and iova_free() go, chosen at creation by the
	 * lanes above: one indirect jump instead of a test per lane. */
	iova_status (*alloc_entry)(iova_domain *d, const iova_request *r, iova_allocation *out);
	iova_status (*free_entry)(iova_domain *d, iova_handle h);
};

/** domain_choose_entries() - set @d's alloc_entry and free_entry from its
 * lanes (fast_cache, fast_buddy), once they are set (dispatch.c). */
void domain_choose_entries(iova_domain *d);

/* The IOMMU's hooks into the domain layer (iommu/glue.c). */
iova_status iommu_create(iova_domain *d, const iova_iommu_config *config);
void iommu_destroy(iova_domain *d);
void iommu_handout(struct iommu *m, uint64_t first_granule, uint64_t granules, unsigned slot);
iova_status iommu_free(iova_domain *d, uint64_t first_granule, uint64_t granules, unsigned slot);

#endif
