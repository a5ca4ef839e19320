/* SPDX-License-Identifier: MIT */
/*
 * device.c - the device model: paging operations (TRANSFER, FILL) performed
 * through the IOMMU, one translation per granule touched.
 *
 * A translation is an IOTLB lookup; on a miss the walker reads the page
 * table and caches the leaf it finds. Against concurrent unmaps (DESIGN.md):
 *  - the walk reads inv_seq before starting and again after; if an
 *    invalidation started in between, the walk may have read a table page
 *    that was detached and recycled meanwhile, so it is redone;
 *  - iotlb_fill() refuses to cache what the walk read if an invalidation
 *    started since (iotlb.h), so no invalidation can miss a translation a
 *    walk read before it.
 * Page-table loads, the unmap's exchange and inv_seq operations are all
 * sequentially consistent: a walk that read a leaf before an unmap cleared
 * it has read inv_seq before the unmap's invalidation incremented it.
 *
 * Translation costs (IOTLB lookups, walks) are the device's time, not the
 * CPU's: the CPU posts the operation and a miss delays the DMA, not the
 * driver. They are added up per CPU (device_cycles) and per operation
 * (iova_dma_result.cycles), never to a CPU clock.
 *
 * An access with no translation is blocked and counted as a fault, and the
 * operation stops there (the device aborts the DMA). A hit on a cached
 * translation whose mapping is gone goes through, as on hardware: that is a
 * stale access, counted with the oracle's help.
 */
#include "iommu.h"

#include <string.h>

struct dma_ctx {
	struct iommu *m;
	struct iommu_cpu *c;
	unsigned slot;
	iova_dma_result *res;
};

static inline void device_time(struct dma_ctx *x, uint64_t cycles) { x->res->cycles += cycles; }

/* Translate granule @g for the device. Return: false if blocked. */
static bool translate(struct dma_ctx *x, uint64_t g)
{
	struct iommu *m = x->m;
	struct iommu_cpu *c = x->c;
	x->res->accesses++;
	if (m->cfg.policy == IOVA_INVAL_NONE)
		return true; /* passthrough: untranslated, unprotected */
	const iova_domain *d = m->domain;
	if (g < d->space.first || g >= d->space.end)
		return false;
	device_time(x, m->cost.iotlb_lookup);
	uint64_t frame;
	unsigned level;
	if (iotlb_lookup(&m->tlb, m->did, g, &frame, &level)) {
		x->res->iotlb_hits++;
		if (m->oracle_on && oracle_stale(&m->oracle, g, frame))
			x->res->stale_hits++;
		return true;
	}
	x->res->iotlb_misses++;
	struct pt_walk w;
	uint64_t seq0;
	for (;;) {
		seq0 = iotlb_seq(&m->tlb);
		pt_walk(&m->pt, g, &w);
		cpu_add(c, C_WALKS, 1, x->slot);
		cpu_add(c, C_WALK_LEVELS, w.reads, x->slot);
		device_time(x, m->cost.walk_level * w.reads);
		if (iotlb_seq(&m->tlb) == seq0)
			break;
		cpu_add(c, C_WALK_RETRIES, 1, x->slot);
	}
	if (!pte_is_leaf(w.entry))
		return false;
	const uint64_t page_frame = pte_frame(w.entry);
	bool evicted;
	if (!iotlb_fill(&m->tlb, m->did, g, w.level, page_frame, seq0, &evicted))
		cpu_add(c, C_FILLS_DROPPED, 1, x->slot);
	cpu_add(c, C_EVICTIONS, evicted, x->slot);
	/* A walk of a live mapping is never stale; one that raced its unmap may be. */
	frame = page_frame + (g & ((UINT64_C(1) << pt_span_log2(&m->pt, w.level)) - 1));
	if (m->oracle_on && oracle_stale(&m->oracle, g, frame))
		x->res->stale_hits++;
	return true;
}

static bool range_ok(uint64_t a, uint64_t bytes) { return a + bytes - 1 >= a; }

iova_status iova_device_dma(iova_domain *d, const iova_dma_request *req, iova_dma_result *out)
{
	iova_dma_result res = {0};
	if (out)
		memset(out, 0, sizeof *out);
	if (!d || !req)
		return IOVA_ERR_INVALID_ARGUMENT;
	struct iommu *m = d->iommu;
	if (!m)
		return IOVA_ERR_NO_IOMMU;
	if ((req->op != IOVA_DMA_TRANSFER && req->op != IOVA_DMA_FILL) || !req->bytes || !range_ok(req->dst, req->bytes) ||
	    (req->op == IOVA_DMA_TRANSFER && !range_ok(req->src, req->bytes)))
		return IOVA_ERR_INVALID_ARGUMENT;
	const unsigned slot = iova_thread_slot();
	struct iommu_cpu *c = cpu_of(m, slot);
	fq_tick(m, c, slot);
	struct dma_ctx x = {m, c, slot, &res};
	const unsigned s = m->shift;
	const uint64_t dst = req->dst >> s, nd = ((req->dst + req->bytes - 1) >> s) - dst + 1;
	uint64_t src = 0, ns = 0;
	if (req->op == IOVA_DMA_TRANSFER) {
		src = req->src >> s;
		ns = ((req->src + req->bytes - 1) >> s) - src + 1;
	}
	iova_status st = IOVA_OK;
	for (uint64_t i = 0; i < iova_max(ns, nd) && st == IOVA_OK; i++) {
		if (i < ns && !translate(&x, src + i)) {
			res.fault_iova = i ? (src + i) << s : req->src;
			st = IOVA_ERR_DEVICE_FAULT;
		} else if (i < nd && !translate(&x, dst + i)) {
			res.fault_iova = i ? (dst + i) << s : req->dst;
			st = IOVA_ERR_DEVICE_FAULT;
		}
	}
	res.faults = st != IOVA_OK;
	cpu_add(c, C_CYC_DEVICE, res.cycles, slot);
	cpu_add(c, C_USED, 1, slot);
	cpu_add(c, C_DMA_OPS, 1, slot);
	cpu_add(c, C_DMA_ACCESSES, res.accesses, slot);
	cpu_add(c, C_HITS, res.iotlb_hits, slot);
	cpu_add(c, C_MISSES, res.iotlb_misses, slot);
	cpu_add(c, C_STALE, res.stale_hits, slot);
	cpu_add(c, C_DMA_FAULTS, res.faults, slot);
	if (out)
		*out = res;
	return st;
}
