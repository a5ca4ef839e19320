/* SPDX-License-Identifier: MIT */
/*
 * oracle.h - the safety oracle: follows every IOVA granule through
 * hand-out -> map -> unmap -> invalidation -> release -> hand-out again, and
 * reports each time a granule is handed out (or mapped) again while a
 * translation of its previous mapping could still be cached in the IOTLB -
 * the bug that lets a device write into someone else's buffer.
 *
 * It trusts nothing but the IOTLB's own invalidation sequence numbers
 * (iotlb.h): an unmap records inv_seq as read after its entries were
 * cleared; the granule is safe again once an invalidation covering it with a
 * larger sequence number (one that started later) has completed. Policies,
 * flush-queue counters and tombstones are what it checks, not what it uses.
 *
 * One 64-bit record per granule, in a lazily allocated three-level radix
 * array: bit 0 "held" (handed out and not yet released to the strategy),
 * bits 1-2 the translation state, bits 3-63 a payload:
 *   OR_NONE      never mapped, or unmapped and invalidated;
 *   OR_MAPPED    payload: the frame the granule is mapped to;
 *   OR_UNMAPPED  payload: inv_seq after the unmap.
 * Records change with compare-and-swap, so the oracle needs no lock; reads
 * from the device model are plain atomic loads.
 */
#ifndef IOVA_IOMMU_ORACLE_H
#define IOVA_IOMMU_ORACLE_H

#include "../internal.h"

enum { OR_NONE = 0, OR_MAPPED = 1, OR_UNMAPPED = 2 };

struct oracle {
	uint64_t first, granules;
	size_t top_count;
	_Atomic(void *) *top;          /* -> 512 mids -> 512 leaves of records */
	_Atomic uint64_t full_done_max; /* largest seq of a completed domain-wide invalidation */
	_Atomic uint64_t first_violation;
};

/* What one call found, for the caller's per-CPU counters. */
struct oracle_result {
	uint64_t checks, violations, overlaps;
};

iova_status oracle_init(struct oracle *o, uint64_t first, uint64_t granules);
void oracle_fini(struct oracle *o);

/** oracle_handout() - the strategy handed [g, g+n) out. */
void oracle_handout(struct oracle *o, uint64_t g, uint64_t n, unsigned granule_shift, struct oracle_result *r);

/** oracle_map() - [g, g+n) now translates to frames [frame, frame+n). */
void oracle_map(struct oracle *o, uint64_t g, uint64_t n, uint64_t frame, unsigned granule_shift,
		struct oracle_result *r);

/** oracle_unmap() - the entries of [g, g+n) are cleared; @seq: inv_seq read afterwards. */
void oracle_unmap(struct oracle *o, uint64_t g, uint64_t n, uint64_t seq);

/** oracle_inv_pages() - a page-selective invalidation of [g, g+n) with
 * sequence number @q has completed. */
void oracle_inv_pages(struct oracle *o, uint64_t g, uint64_t n, uint64_t q);

/** oracle_inv_all() - a domain-wide invalidation with sequence @q completed. */
void oracle_inv_all(struct oracle *o, uint64_t q);

/** oracle_release() - [g, g+n) went back to the strategy. */
void oracle_release(struct oracle *o, uint64_t g, uint64_t n);

/** oracle_stale() - would a cached translation of @g to @frame be stale
 * (its mapping gone or replaced)? */
bool oracle_stale(const struct oracle *o, uint64_t g, uint64_t frame);

#endif
