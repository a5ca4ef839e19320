/* SPDX-License-Identifier: MIT */
/*
 * stats.c - domain statistics, computed from the strategy's free extents so
 * that every strategy is measured the same way (the Linux buddy view: free
 * space cut into maximal naturally aligned blocks, and the extent view).
 */
#include "domain.h"

#include <string.h>

struct stats_walk {
	iova_stats *st;
	unsigned shift;
};

static bool account_extent(void *ctx, uint64_t first, uint64_t granules)
{
	struct stats_walk *sw = ctx;
	iova_stats *st = sw->st;
	st->free_bytes += granules << sw->shift;
	st->free_extents++;
	st->free_extents_by_order[iova_log2_floor(granules)]++;
	if ((granules << sw->shift) > st->largest_free_extent)
		st->largest_free_extent = granules << sw->shift;
	/* Cut into maximal aligned blocks, as a buddy allocator would hold them. */
	while (granules) {
		unsigned k = iova_log2_floor(granules);
		if (first && (unsigned)__builtin_ctzll(first) < k)
			k = (unsigned)__builtin_ctzll(first);
		st->free_blocks[k]++;
		if ((UINT64_C(1) << (k + sw->shift)) > st->largest_free_block)
			st->largest_free_block = UINT64_C(1) << (k + sw->shift);
		first += UINT64_C(1) << k;
		granules -= UINT64_C(1) << k;
	}
	return true;
}

/* Keeps what iova_domain_counters() reports; a counter beyond the room is
 * dropped (tests/test_counters.c makes sure none is). */
static void keep_counter(void *ctx, const char *name, uint64_t value, iova_counter_kind kind)
{
	iova_stats *st = ctx;
	if (st->counter_count < IOVA_STATS_MAX_COUNTERS)
		st->counters[st->counter_count++] = (iova_counter){name, value, kind};
}

iova_status iova_domain_stats(const iova_domain *d, iova_stats *out)
{
	if (!d || !out)
		return IOVA_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof *out);
	const unsigned shift = d->space.granule_shift;
	out->granule = d->config.granule;
	out->total_bytes = d->config.size;
	struct stats_walk sw = {out, shift};
	d->ops->walk_free(d->strategy, account_extent, &sw);
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		const struct domain_counters *c = &d->counters[s];
		out->allocs += atomic_load_explicit(&c->allocs, memory_order_relaxed);
		out->frees += atomic_load_explicit(&c->frees, memory_order_relaxed);
		out->failed_allocs += atomic_load_explicit(&c->failed_allocs, memory_order_relaxed);
		out->failed_frees += atomic_load_explicit(&c->failed_frees, memory_order_relaxed);
		out->requested_bytes += atomic_load_explicit(&c->requested_bytes, memory_order_relaxed);
	}
	/* Cached granules are read after the walk; under concurrency the two may
	 * disagree, so clamp rather than wrap. */
	out->cached_bytes = d->ops->cached ? d->ops->cached(d->strategy) << shift : 0;
	if (out->cached_bytes > out->total_bytes - out->free_bytes)
		out->cached_bytes = out->total_bytes - out->free_bytes;
	out->allocated_bytes = out->total_bytes - out->free_bytes - out->cached_bytes;
	out->live_allocations = out->allocs - out->frees;
	out->metadata_reserved_bytes = d->ops->metadata_reserved(d->strategy);
	out->metadata_resident_bytes = d->ops->metadata_resident(d->strategy);
	iova_domain_counters(d, keep_counter, out);
	return IOVA_OK;
}

struct free_walk {
	bool (*fn)(void *ctx, uint64_t iova, uint64_t bytes);
	void *ctx;
	unsigned shift;
};

static bool forward_extent(void *ctx, uint64_t first, uint64_t granules)
{
	struct free_walk *fw = ctx;
	return fw->fn(fw->ctx, first << fw->shift, granules << fw->shift);
}

void iova_domain_for_each_free(const iova_domain *d, bool (*fn)(void *ctx, uint64_t iova, uint64_t bytes), void *ctx)
{
	if (!d || !fn)
		return;
	struct free_walk fw = {fn, ctx, d->space.granule_shift};
	d->ops->walk_free(d->strategy, forward_extent, &fw);
}
