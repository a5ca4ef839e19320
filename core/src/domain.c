/* SPDX-License-Identifier: MIT */
/*
 * domain.c - domains: configuration checks, creation and destruction, and
 * the queries on a domain. Allocations and frees are dispatch.c's.
 */
#include "domain.h"
#include "cache/cache.h"
#include "prim/memory.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DOMAIN_BYTES_LOG2 50 /* handles carry the requested size in 50 bits */

static iova_status check_config(const iova_domain_config *c, unsigned *granule_shift)
{
	uint64_t g = c->granule ? c->granule : IOVA_DEFAULT_GRANULE;
	if (!iova_is_pow2(g) || g < IOVA_GRANULE_MIN || g > IOVA_GRANULE_MAX)
		return IOVA_ERR_INVALID_ARGUMENT;
	*granule_shift = iova_log2_floor(g);
	if (!c->size || (c->size & (g - 1)) || (c->base & (g - 1)))
		return IOVA_ERR_INVALID_ARGUMENT;
	if (c->base + c->size < c->base && c->base + c->size != 0)
		return IOVA_ERR_INVALID_ARGUMENT; /* wraps around */
	if ((c->size >> *granule_shift) > (UINT64_C(1) << IOVA_MAX_GRANULES_LOG2) ||
	    c->size > (UINT64_C(1) << MAX_DOMAIN_BYTES_LOG2))
		return IOVA_ERR_INVALID_ARGUMENT;
	return IOVA_OK;
}

_Static_assert(IOVA_COLOUR_DOMAIN % _Alignof(iova_domain) == 0 && IOVA_COLOUR_DOMAIN + sizeof(iova_domain) <= 0xa00,
	       "struct iova_domain outgrew its colour (prim/memory.h)");

iova_status iova_domain_create(const iova_domain_config *config, iova_domain **out)
{
	if (!out)
		return IOVA_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (!config)
		return IOVA_ERR_INVALID_ARGUMENT;
	unsigned shift;
	iova_status st = check_config(config, &shift);
	if (st)
		return st;
	const iova_strategy_ops *ops = iova_strategy_find(config->strategy ? config->strategy : "buddy-lf");
	if (!ops)
		return IOVA_ERR_INVALID_ARGUMENT;

	iova_domain *d = iova_alloc_coloured(sizeof *d, IOVA_COLOUR_DOMAIN);
	if (!d)
		return IOVA_ERR_NO_MEMORY;
	d->config = *config;
	d->config.granule = UINT64_C(1) << shift;
	d->config.strategy = ops->name;
	d->config.options = NULL; /* not retained: the caller owns the string */
	d->space.granule_shift = shift;
	d->space.first = config->base >> shift;
	d->space.end = d->space.first + (config->size >> shift);
	d->granule_mask = d->config.granule - 1;
	d->handle_key = iova_random_u64();
	d->ops = ops;
	d->counters = aligned_alloc(IOVA_WRITE_SPAN, IOVA_THREAD_SLOTS * sizeof *d->counters);
	if (!d->counters) {
		iova_free_coloured(d);
		return IOVA_ERR_NO_MEMORY;
	}
	memset(d->counters, 0, IOVA_THREAD_SLOTS * sizeof *d->counters);
	st = ops->create(&d->space, config->options, &d->strategy);
	if (st) {
		free(d->counters);
		iova_free_coloured(d);
		return st;
	}
	d->config.iommu = NULL;
	if (config->iommu && (st = iommu_create(d, config->iommu))) {
		iova_domain_destroy(d);
		return st;
	}
	if (ops->alloc == cache_alloc && !d->iommu)
		d->fast_cache = d->strategy;
	if (ops == &iova_buddy_lf_ops && !d->iommu)
		d->fast_buddy = d->strategy;
	domain_choose_entries(d);
	*out = d;
	return IOVA_OK;
}

void iova_domain_destroy(iova_domain *d)
{
	if (!d)
		return;
	iommu_destroy(d);
	d->ops->destroy(d->strategy);
	free(d->counters);
	iova_free_coloured(d);
}

iova_domain_config iova_domain_get_config(const iova_domain *d) { return d->config; }

unsigned iova_domain_caps(const iova_domain *d) { return d->ops->caps; }

void iova_domain_flush_caches(iova_domain *d)
{
	if (d && d->ops->flush)
		d->ops->flush(d->strategy);
}

const char *iova_counter_kind_name(iova_counter_kind kind)
{
	switch (kind) {
	case IOVA_COUNTER_TOTAL:
		return "total";
	case IOVA_COUNTER_LEVEL:
		return "level";
	case IOVA_COUNTER_PEAK:
		return "peak";
	}
	return NULL;
}

void iova_domain_counters(const iova_domain *d, iova_counter_fn fn, void *ctx)
{
	if (d && fn && d->ops->counters)
		d->ops->counters(d->strategy, fn, ctx);
}
