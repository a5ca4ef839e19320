/* SPDX-License-Identifier: MIT */
/*
 * frames.c - the simulated physical frames mappings point to.
 *
 * Frames are numbers, never memory. Each CPU bumps through a private chunk
 * of frame numbers taken from a shared counter, so mapping costs no shared
 * write; numbers are not reused (below 2^40 they never repeat before 4 EiB
 * of mappings with 4 KiB granules). Never reusing a frame number lets the
 * oracle recognise a stale translation by its frame alone.
 *
 * A run of frames for granules [g, g+n) starts at a frame congruent to g
 * modulo the largest leaf span that fits in n, so that wherever the IOVA is
 * aligned for a large leaf, the frames are too (pagetable.h, P1).
 */
#include "iommu.h"

#define CHUNK_LOG2 18

static uint64_t take(struct iommu *m, uint64_t n)
{
	const uint64_t limit = UINT64_C(1) << PTE_FRAME_BITS;
	for (;;) {
		uint64_t base = atomic_fetch_add_explicit(&m->frame_chunk, n, memory_order_relaxed) & (limit - 1);
		if (base + n <= limit)
			return base;
	}
}

uint64_t frames_alloc(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n)
{
	uint64_t align = 1;
	for (unsigned L = 3; L >= 2; L--) {
		const uint64_t span = UINT64_C(1) << pt_span_log2(&m->pt, L);
		if (L < m->pt.levels && (m->pt.leaf_levels >> L & 1) && n >= span) {
			align = span;
			break;
		}
	}
	const uint64_t want = n + align - 1; /* room to reach the congruent frame */
	if (IOVA_UNLIKELY(iova_slot_is_shared(slot) || want > (UINT64_C(1) << CHUNK_LOG2))) {
		const uint64_t base = take(m, iova_round_up(want, 64));
		return base + ((g - base) & (align - 1));
	}
	uint64_t next = atomic_load_explicit(&c->frame_next, memory_order_relaxed);
	uint64_t end = atomic_load_explicit(&c->frame_end, memory_order_relaxed);
	uint64_t f = next + ((g - next) & (align - 1));
	if (f + n > end || f < next) {
		next = take(m, UINT64_C(1) << CHUNK_LOG2);
		end = next + (UINT64_C(1) << CHUNK_LOG2);
		f = next + ((g - next) & (align - 1));
	}
	atomic_store_explicit(&c->frame_next, f + n, memory_order_relaxed);
	atomic_store_explicit(&c->frame_end, end, memory_order_relaxed);
	return f;
}
