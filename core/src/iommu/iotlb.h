/* SPDX-License-Identifier: MIT */
/*
 * iotlb.h - the simulated IOTLB: a set-associative cache of translations,
 * tagged by domain id, with LRU, FIFO or random replacement and the three
 * invalidation scopes of VT-d (page-selective within a domain,
 * domain-selective, global).
 *
 * An entry caches one leaf: the page number at its level, the level, and the
 * frame of the page's first granule; a lookup of a granule probes the level-1
 * set and, once large leaves have been cached, the level-2 and -3 sets.
 * Sets are indexed by page number modulo the number of sets.
 *
 * Invalidation versus fills. Every invalidation first increments inv_seq
 * (sequentially consistent), then clears entries set by set under the set
 * locks. A walker reads inv_seq before its walk and passes it to
 * iotlb_fill(), which under the set lock refuses to cache the walk's result
 * if inv_seq moved. So once an invalidation has returned, no entry it
 * covers can hold a translation read before it started: in-flight walks
 * complete with what they read, but cache nothing (what the hardware's
 * invalidation-wait guarantees).
 *
 * Lock discipline: one spinlock per set, held for a scan of its ways; never
 * two at once.
 */
#ifndef IOVA_IOMMU_IOTLB_H
#define IOVA_IOMMU_IOTLB_H

#include "../internal.h"
#include "spinlock.h"

struct iotlb_way {
	uint64_t page;  /* page number at its level (granule >> span bits) */
	uint64_t frame; /* frame of the page's first granule */
	uint64_t stamp; /* LRU: last use; FIFO: fill order */
	uint16_t did;
	uint8_t level;  /* 0: invalid */
};

struct iotlb {
	unsigned sets_log2, ways, bits; /* bits: page-table entries per page, log2 */
	iova_iotlb_replacement replacement;
	_Atomic uint64_t inv_seq;             /* invalidations started */
	_Atomic unsigned large_levels;        /* bit L: a level-L entry was ever cached */
	size_t set_stride;
	unsigned char *sets;
};

struct iotlb_set {
	iommu_spinlock lock;
	uint32_t rng;  /* random replacement */
	uint64_t tick; /* stamps */
	struct iotlb_way way[];
};

/** iotlb_init() - Return: IOVA_OK or IOVA_ERR_NO_MEMORY. */
iova_status iotlb_init(struct iotlb *t, unsigned sets, unsigned ways, iova_iotlb_replacement r, unsigned bits);
void iotlb_fini(struct iotlb *t);

/** iotlb_seq() - invalidations started so far; read before a walk. */
static inline uint64_t iotlb_seq(struct iotlb *t) { return atomic_load(&t->inv_seq); }

/**
 * iotlb_lookup() - look granule @g of domain @did up.
 * Return: true on a hit, with the granule's frame in *@frame and the entry's
 * level in *@level.
 */
bool iotlb_lookup(struct iotlb *t, uint16_t did, uint64_t g, uint64_t *frame, unsigned *level);

/**
 * iotlb_fill() - cache the leaf a walk found for @g: level @level, mapping
 * the page that holds @g to frames from @page_frame.
 * @seq0: iotlb_seq() read before the walk.
 * @evicted: set when a valid entry was replaced.
 * Return: false if an invalidation started since @seq0 (nothing cached).
 */
bool iotlb_fill(struct iotlb *t, uint16_t did, uint64_t g, unsigned level, uint64_t page_frame, uint64_t seq0,
		bool *evicted);

/** iotlb_inv_pages() - page-selective: drop @did's entries that translate any
 * granule of [g, g+n). Return: the invalidation's sequence number. */
uint64_t iotlb_inv_pages(struct iotlb *t, uint16_t did, uint64_t g, uint64_t n);

/** iotlb_inv_domain() - domain-selective: drop all of @did's entries. */
uint64_t iotlb_inv_domain(struct iotlb *t, uint16_t did);

/** iotlb_inv_global() - drop every entry. */
uint64_t iotlb_inv_global(struct iotlb *t);

/** iotlb_count() - valid entries of @did (all domains if @any); for tests. */
uint64_t iotlb_count(struct iotlb *t, uint16_t did, bool any);

#endif
