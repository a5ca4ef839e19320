/* SPDX-License-Identifier: MIT */
/* exec.c - the shipped executors: null, and the core's allocation API. */
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

/* Core allocation API. The worker context is the wl_iova_executor itself:
 * the core is safe to call from any thread. */
static void *iova_worker_init(void *ctx, unsigned worker, uint64_t seed, bool *ok)
{
	(void)worker, (void)seed;
	*ok = true;
	return ctx;
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
	iova_allocation got;
	iova_status s = iova_alloc(x->domain, &r, &got);
	if (s == IOVA_OK)
		out->iova = got.handle;
	return s;
}

static iova_status iova_exec_free(void *w, wl_handle *h)
{
	const wl_iova_executor *x = w;
	return iova_free(x->domain, h->iova);
}

void wl_iova_executor_init(wl_iova_executor *x, iova_domain *domain, iova_placement placement)
{
	memset(x, 0, sizeof *x);
	x->ex.name = "iova";
	x->ex.ctx = x;
	x->ex.worker_init = iova_worker_init;
	x->ex.alloc = iova_exec_alloc;
	x->ex.free = iova_exec_free;
	x->domain = domain;
	x->placement = placement;
}
