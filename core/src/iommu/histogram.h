/* SPDX-License-Identifier: MIT */
/*
 * histogram.h - a log-linear histogram of 64-bit values (HdrHistogram-like,
 * 16 sub-buckets per power of two: a value's bucket is within 1/16 of it).
 * One per thread slot, written by its owner with relaxed atomics and summed
 * when read, so recording costs no shared write.
 */
#ifndef IOVA_IOMMU_HISTOGRAM_H
#define IOVA_IOMMU_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_SUB_LOG2 4
#define HIST_SUB (1u << HIST_SUB_LOG2)
#define HIST_BUCKETS ((64 - HIST_SUB_LOG2 + 1) * HIST_SUB)

struct histogram {
	_Atomic uint64_t count[HIST_BUCKETS];
	_Atomic uint64_t max, sum;
};

static inline unsigned hist_bucket(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_LOG2 */
	unsigned m = (unsigned)(v >> (e - HIST_SUB_LOG2)) & (HIST_SUB - 1);
	return (e - HIST_SUB_LOG2 + 1) * HIST_SUB + m;
}

/* Smallest and largest value of bucket @b. */
static inline uint64_t hist_lo(unsigned b)
{
	if (b < HIST_SUB)
		return b;
	unsigned e = b / HIST_SUB + HIST_SUB_LOG2 - 1, m = b % HIST_SUB;
	return (uint64_t)(HIST_SUB + m) << (e - HIST_SUB_LOG2);
}

static inline uint64_t hist_hi(unsigned b)
{
	if (b < HIST_SUB)
		return b;
	unsigned e = b / HIST_SUB + HIST_SUB_LOG2 - 1;
	return hist_lo(b) + (UINT64_C(1) << (e - HIST_SUB_LOG2)) - 1;
}

/* Owner-only update (@shared: the slot is shared by several threads). */
static inline void hist_add(struct histogram *h, uint64_t v, int shared)
{
	_Atomic uint64_t *c = &h->count[hist_bucket(v)];
	if (shared) {
		atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
		uint64_t m = atomic_load_explicit(&h->max, memory_order_relaxed);
		while (v > m && !atomic_compare_exchange_weak_explicit(&h->max, &m, v, memory_order_relaxed,
								       memory_order_relaxed))
			;
		return;
	}
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
	atomic_store_explicit(&h->sum, atomic_load_explicit(&h->sum, memory_order_relaxed) + v, memory_order_relaxed);
	if (v > atomic_load_explicit(&h->max, memory_order_relaxed))
		atomic_store_explicit(&h->max, v, memory_order_relaxed);
}

#endif
