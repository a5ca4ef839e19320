/* SPDX-License-Identifier: MIT */
/*
 * stats.c - what the IOMMU did, summed over CPUs, and the names of its
 * policies and clock modes.
 */
#include "iommu.h"

#include <string.h>

const char *iova_inval_policy_name(iova_inval_policy p)
{
	static const char *const names[IOVA_INVAL_POLICY_COUNT] = {
		[IOVA_INVAL_STRICT] = "strict",
		[IOVA_INVAL_PERCPU_QUEUE] = "percpu",
		[IOVA_INVAL_GLOBAL_QUEUE] = "global",
		[IOVA_INVAL_NONE] = "none",
		[IOVA_INVAL_UNSAFE_EARLY_RELEASE] = "unsafe-early-release",
	};
	return (unsigned)p < IOVA_INVAL_POLICY_COUNT ? names[p] : NULL;
}

const char *iova_clock_mode_name(iova_clock_mode mode)
{
	return mode == IOVA_CLOCK_MODELLED ? "modelled" : mode == IOVA_CLOCK_SPIN ? "spin" : NULL;
}

/* The window histogram of every CPU, merged. */
static void merge_windows(const struct iommu *m, uint64_t *counts, uint64_t *max, uint64_t *sum)
{
	*max = *sum = 0;
	memset(counts, 0, HIST_BUCKETS * sizeof *counts);
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		const struct histogram *h = &m->cpu[s].window;
		if (!atomic_load_explicit(&h->max, memory_order_relaxed) &&
		    !atomic_load_explicit(&h->count[0], memory_order_relaxed))
			continue; /* no sample: any non-zero one sets max */
		for (unsigned b = 0; b < HIST_BUCKETS; b++)
			counts[b] += atomic_load_explicit(&h->count[b], memory_order_relaxed);
		*sum += atomic_load_explicit(&h->sum, memory_order_relaxed);
		*max = iova_max(*max, atomic_load_explicit(&h->max, memory_order_relaxed));
	}
}

/* Smallest bucket bound below which a fraction @q of @total samples lie. */
static uint64_t quantile(const uint64_t *counts, uint64_t total, uint64_t max, double q)
{
	if (!total)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)total + 0.999999), seen = 0;
	if (!rank)
		rank = 1;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += counts[b];
		if (seen >= rank)
			return iova_min(hist_hi(b), max);
	}
	return max;
}

iova_status iova_iommu_stats(const iova_domain *d, iova_iommu_statistics *out)
{
	if (!d || !out)
		return IOVA_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof *out);
	struct iommu *m = d->iommu;
	if (!m)
		return IOVA_ERR_NO_IOMMU;
	out->config = m->cfg;
	uint64_t c[C_COUNT] = {0};
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		const struct iommu_cpu *cpu = &m->cpu[s];
		if (!atomic_load_explicit(&cpu->ctr[C_USED], memory_order_relaxed))
			continue;
		for (unsigned k = 0; k < C_COUNT; k++)
			c[k] += atomic_load_explicit(&cpu->ctr[k], memory_order_relaxed);
		const uint64_t clock = atomic_load_explicit(&cpu->clock, memory_order_relaxed);
		out->cpus++;
		out->clock_sum += clock;
		out->clock_max = iova_max(out->clock_max, clock);
	}
	out->maps = c[C_MAPS];
	out->unmaps = c[C_UNMAPS];
	out->map_errors = c[C_MAP_ERRORS];
	out->unmap_errors = c[C_UNMAP_ERRORS];
	out->pte_written = c[C_PTE_WRITTEN];
	out->pte_cleared = c[C_PTE_CLEARED];
	out->large_leaves = c[C_LARGE];
	out->table_pages_allocated = c[C_PAGES_ALLOC];
	out->table_pages_freed = c[C_PAGES_FREED];
	out->table_pages_pending = c[C_PAGES_DETACHED] - c[C_PAGES_FREED];
	out->frames_mapped = c[C_FRAMES_MAPPED];
	out->frames_unmapped = c[C_FRAMES_UNMAPPED];
	out->dma_ops = c[C_DMA_OPS];
	out->dma_accesses = c[C_DMA_ACCESSES];
	out->dma_faults = c[C_DMA_FAULTS];
	out->iotlb_hits = c[C_HITS];
	out->iotlb_misses = c[C_MISSES];
	out->iotlb_evictions = c[C_EVICTIONS];
	out->page_walks = c[C_WALKS];
	out->walk_levels = c[C_WALK_LEVELS];
	out->walk_retries = c[C_WALK_RETRIES];
	out->fills_dropped = c[C_FILLS_DROPPED];
	out->stale_hits = c[C_STALE];
	out->inv_page = c[C_INV_PAGE];
	out->inv_domain = c[C_INV_DOMAIN];
	out->flushes = c[C_FLUSHES];
	out->flushes_full = c[C_FLUSH_FULL];
	out->flushes_timeout = c[C_FLUSH_TIMEOUT];
	out->flushes_forced = c[C_FLUSH_FORCED];
	out->ranges_queued = c[C_QUEUED];
	out->ranges_released = c[C_RELEASED];
	out->ranges_pending = fq_pending(m);
	out->iovas_deferred = c[C_DEFERRED];
	out->release_errors = c[C_RELEASE_ERRORS];
	out->cycles_invalidate = c[C_CYC_INV];
	out->cycles_inv_queueing = c[C_CYC_INV_QUEUEING];
	out->cycles_pte = c[C_CYC_PTE];
	out->device_cycles = c[C_CYC_DEVICE];
	out->cycles_queue = c[C_CYC_QUEUE];
	out->cycles_lock_wait = c[C_CYC_LOCK];
	out->cycles_charged = c[C_CYC_CHARGED];
	out->oracle_checks = c[C_OR_CHECKS];
	out->oracle_violations = c[C_OR_VIOLATIONS];
	out->oracle_overlaps = c[C_OR_OVERLAPS];
	if (m->oracle_on)
		out->oracle_first_violation = atomic_load(&m->oracle.first_violation) & ~UINT64_C(1);

	uint64_t counts[HIST_BUCKETS], max, sum, total = 0;
	merge_windows(m, counts, &max, &sum);
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		total += counts[b];
	out->window_count = total;
	out->window_mean = total ? sum / total : 0;
	out->window_p50 = quantile(counts, total, max, 0.50);
	out->window_p90 = quantile(counts, total, max, 0.90);
	out->window_p99 = quantile(counts, total, max, 0.99);
	out->window_max = max;
	return IOVA_OK;
}

void iova_iommu_window_histogram(const iova_domain *d, void (*fn)(void *ctx, uint64_t lo, uint64_t hi, uint64_t count),
				 void *ctx)
{
	if (!d || !d->iommu || !fn)
		return;
	uint64_t counts[HIST_BUCKETS], max, sum;
	merge_windows(d->iommu, counts, &max, &sum);
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		if (counts[b])
			fn(ctx, hist_lo(b), hist_hi(b), counts[b]);
}
