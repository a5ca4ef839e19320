/* SPDX-License-Identifier: MIT */
/*
 * frag.c - fragmentation metrics, with Linux's definitions (mm/vmstat.c,
 * DOMAIN.md section 5) so that numbers compare with /proc/buddyinfo-based
 * ones. For a target order o, with nr_free[k] free blocks of 2^k granules
 * (the core's buddy view of the free space, which it gives for every
 * strategy):
 *   free_pages       = sum nr_free[k] * 2^k
 *   blocks_total     = sum nr_free[k]
 *   blocks_suitable  = sum over k >= o of nr_free[k] * 2^(k-o)
 *   unusable(o)      = (free_pages - blocks_suitable * 2^o) / free_pages, 1 if nothing is free
 *   fragindex(o)     = -1 if blocks_suitable > 0; 0 if blocks_total = 0;
 *                      else 1 - (1 + free_pages / 2^o) / blocks_total
 * Linux computes both in thousandths with integer division; these are the
 * exact values (Linux's are within 0.001 below).
 */
#include <math.h>

#include "iovabench.h"

typedef struct sums {
	double free_pages, blocks_total, blocks_suitable;
} sums;

static sums sum(const uint64_t *nr_free, unsigned n, unsigned order)
{
	sums s = {0, 0, 0};
	for (unsigned k = 0; k < n; k++) {
		double b = (double)nr_free[k];
		s.free_pages += ldexp(b, (int)k);
		s.blocks_total += b;
		if (k >= order)
			s.blocks_suitable += ldexp(b, (int)(k - order));
	}
	return s;
}

double ib_unusable_index(const uint64_t *nr_free, unsigned n, unsigned order)
{
	sums s = sum(nr_free, n, order);
	if (s.free_pages == 0)
		return 1.0;
	return (s.free_pages - ldexp(s.blocks_suitable, (int)order)) / s.free_pages;
}

double ib_fragmentation_index(const uint64_t *nr_free, unsigned n, unsigned order)
{
	sums s = sum(nr_free, n, order);
	if (s.blocks_suitable > 0)
		return -1.0;
	if (s.blocks_total == 0)
		return 0.0;
	return 1.0 - (1.0 + s.free_pages / ldexp(1.0, (int)order)) / s.blocks_total;
}

void ib_frag_from_stats(const iova_stats *st, const unsigned *orders, unsigned norders, ib_frag *out)
{
	out->total_bytes = st->total_bytes;
	out->free_bytes = st->free_bytes;
	out->allocated_bytes = st->allocated_bytes;
	out->requested_bytes = st->requested_bytes;
	out->live = st->live_allocations;
	out->largest_free_extent = st->largest_free_extent;
	out->largest_free_block = st->largest_free_block;
	out->free_extents = st->free_extents;
	out->external = st->free_bytes ? 1.0 - (double)st->largest_free_extent / (double)st->free_bytes : 0.0;
	out->internal = st->allocated_bytes && st->allocated_bytes > st->requested_bytes
				? (double)(st->allocated_bytes - st->requested_bytes) / (double)st->allocated_bytes
				: 0.0;
	for (unsigned i = 0; i < norders && i < IB_MAX_ORDERS; i++) {
		out->unusable[i] = ib_unusable_index(st->free_blocks, IOVA_MAX_ORDER, orders[i]);
		out->fragindex[i] = ib_fragmentation_index(st->free_blocks, IOVA_MAX_ORDER, orders[i]);
	}
}
