/* SPDX-License-Identifier: MIT */
/* exec.c - the shipped executors: null, and the core's API (allocation and IOMMU). */
#include <string.h>

#include "wl_replay.h"

/* Null: every operation succeeds at once. */
static iova_status null_alloc(void *w, const wl_alloc_args *a, wl_handle *out)
{
	(void)w;
	out->u64[0] = a->size;
	return IOVA_OK;
}
static iova_status null_one(void *w, wl_handle *h)
{
	(void)w;
	(void)h;
	return IOVA_OK;
}
static iova_status null_map(void *w, uint64_t size, uint32_t segments, wl_handle *out)
{
	(void)w;
	(void)segments;
	out->u64[0] = size;
	return IOVA_OK;
}
static iova_status null_transfer(void *w, wl_handle *s, uint64_t so, wl_handle *d, uint64_t dof, uint64_t n)
{
	(void)w, (void)s, (void)so, (void)d, (void)dof, (void)n;
	return IOVA_OK;
}
static iova_status null_fill(void *w, wl_handle *h, uint64_t off, uint64_t n, uint32_t v)
{
	(void)w, (void)h, (void)off, (void)n, (void)v;
	return IOVA_OK;
}

static const wl_executor null_executor = {
	.name = "null",
	.alloc = null_alloc,
	.free = null_one,
	.map = null_map,
	.unmap = null_one,
	.transfer = null_transfer,
	.fill = null_fill,
	.flush = null_one,
	.evict = null_one,
	.make_resident = null_one,
};

const wl_executor *wl_executor_null(void) { return &null_executor; }

/* Core API. The worker context is the wl_iova_executor itself: the core is
 * safe to call from any thread. */
static void *iova_worker_init(void *ctx, unsigned worker, uint64_t seed, bool *ok)
{
	(void)worker, (void)seed;
	*ok = true;
	return ctx;
}

static iova_status iova_exec_create(const wl_iova_executor *x, const iova_request *r, wl_handle *out)
{
	iova_allocation got;
	iova_status s = x->iommu ? iova_alloc_map(x->domain, r, &got) : iova_alloc(x->domain, r, &got);
	if (s == IOVA_OK) {
		out->iova = got.handle;
		out->addr = got.iova;
	}
	return s;
}

static iova_status iova_exec_alloc(void *w, const wl_alloc_args *a, wl_handle *out)
{
	const wl_iova_executor *x = w;
	iova_request r = {
		.size = a->size,
		.lowest = a->lowest,
		.highest = a->highest,
		.boundary = a->boundary,
		.alignment = a->alignment,
		.cache_type = a->cache,
		.placement = x->placement,
	};
	return iova_exec_create(x, &r, out);
}

static iova_status iova_exec_map(void *w, uint64_t size, uint32_t segments, wl_handle *out)
{
	(void)segments; /* the simulated IOMMU maps granules to frames of its own */
	const wl_iova_executor *x = w;
	iova_request r = {.size = size, .placement = x->placement};
	return iova_exec_create(x, &r, out);
}

/* Bit 0 of wl_handle.addr: the buffer is evicted (IOVA held, nothing mapped). */
#define ADDR_EVICTED 1u

/* free and unmap: the DXGK pair; a buffer evicted meanwhile has nothing
 * mapped, so only its IOVA is freed. */
static iova_status iova_exec_release(void *w, wl_handle *h)
{
	const wl_iova_executor *x = w;
	if (!x->iommu || (h->addr & ADDR_EVICTED))
		return iova_free(x->domain, h->iova);
	return iova_unmap_free(x->domain, h->iova);
}

static iova_status iova_exec_transfer(void *w, wl_handle *src, uint64_t so, wl_handle *dst, uint64_t dof,
				      uint64_t bytes)
{
	const wl_iova_executor *x = w;
	iova_dma_request r = {.op = IOVA_DMA_TRANSFER,
			      .src = (src->addr & ~(uint64_t)ADDR_EVICTED) + so,
			      .dst = (dst->addr & ~(uint64_t)ADDR_EVICTED) + dof,
			      .bytes = bytes};
	return iova_device_dma(x->domain, &r, NULL);
}

static iova_status iova_exec_fill(void *w, wl_handle *h, uint64_t off, uint64_t bytes, uint32_t value)
{
	(void)value; /* the device model moves no data */
	const wl_iova_executor *x = w;
	iova_dma_request r = {.op = IOVA_DMA_FILL, .dst = (h->addr & ~(uint64_t)ADDR_EVICTED) + off, .bytes = bytes};
	return iova_device_dma(x->domain, &r, NULL);
}

static iova_status iova_exec_flush(void *w, wl_handle *h)
{
	(void)h; /* no range-selective flush in the API: a buffer's flush is a whole one */
	const wl_iova_executor *x = w;
	return iova_iommu_flush(x->domain);
}

/* Only one operation on a buffer runs at a time (the replayer's order), so
 * the flag needs no atomicity. */
static iova_status iova_exec_evict(void *w, wl_handle *h)
{
	const wl_iova_executor *x = w;
	iova_status s = iova_unmap(x->domain, h->iova);
	if (s == IOVA_OK)
		h->addr |= ADDR_EVICTED;
	return s;
}

static iova_status iova_exec_resident(void *w, wl_handle *h)
{
	const wl_iova_executor *x = w;
	iova_status s = iova_map(x->domain, h->iova);
	if (s == IOVA_OK)
		h->addr &= ~(uint64_t)ADDR_EVICTED;
	return s;
}

void wl_iova_executor_init(wl_iova_executor *x, iova_domain *domain, iova_placement placement)
{
	memset(x, 0, sizeof *x);
	x->domain = domain;
	x->placement = placement;
	x->iommu = iova_domain_get_config(domain).iommu != NULL;
	x->ex.name = "iova";
	x->ex.ctx = x;
	x->ex.worker_init = iova_worker_init;
	x->ex.alloc = iova_exec_alloc;
	x->ex.free = iova_exec_release;
	if (x->iommu) {
		x->ex.map = iova_exec_map;
		x->ex.unmap = iova_exec_release;
		x->ex.transfer = iova_exec_transfer;
		x->ex.fill = iova_exec_fill;
		x->ex.flush = iova_exec_flush;
		x->ex.evict = iova_exec_evict;
		x->ex.make_resident = iova_exec_resident;
	}
}
