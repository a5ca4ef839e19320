/* SPDX-License-Identifier: MIT */
/*
 * handle.c - allocation handles that authenticate themselves.
 *
 * A handle is the block's address and the requested byte count (from which
 * the granule count follows) plus a 24-bit tag keyed with a secret of the
 * domain: the low 12 bits of the address (always zero, granules are at least
 * 4 KiB) carry 12 bits of it, the top of the second word the other 12.
 * Strategies therefore need no per-allocation record to free a block, and a
 * handle that was altered, invented or issued by another domain is refused
 * before any strategy sees it.
 */
#include "domain.h"

#define TAG_LOW_BITS 12
#define REQUESTED_BITS 50
#define CACHE_SHIFT REQUESTED_BITS
#define META_BITS 52

static uint64_t tag_of(uint64_t key, uint64_t iova, uint64_t meta)
{
	/* A keyed mix (SplitMix64's finaliser), not a cryptographic MAC: it guards
	 * against mistakes, not an adversary who can query the domain. */
	uint64_t x = (iova ^ key) * UINT64_C(0x9e3779b97f4a7c15) ^ meta;
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x >> (64 - 24);
}

iova_handle domain_handle_make(const iova_domain *d, uint64_t iova, uint64_t requested, iova_cache_type cache)
{
	uint64_t meta = requested | (uint64_t)cache << CACHE_SHIFT;
	uint64_t tag = tag_of(d->handle_key, iova, meta);
	return (iova_handle){{iova | (tag & ((1u << TAG_LOW_BITS) - 1)), meta | (tag >> TAG_LOW_BITS) << META_BITS}};
}

/**
 * domain_handle_open() - check a handle and recover what it names.
 * Return: IOVA_OK, or IOVA_ERR_FORGED_HANDLE if the tag does not match or the
 * contents could not have been issued by @d.
 */
iova_status domain_handle_open(const iova_domain *d, iova_handle h, uint64_t *iova, uint64_t *requested,
			       iova_cache_type *cache)
{
	uint64_t a = h.opaque[0] & ~(uint64_t)((1u << TAG_LOW_BITS) - 1);
	uint64_t meta = h.opaque[1] & ((UINT64_C(1) << META_BITS) - 1);
	uint64_t tag = (h.opaque[0] & ((1u << TAG_LOW_BITS) - 1)) | (h.opaque[1] >> META_BITS) << TAG_LOW_BITS;
	if (tag != tag_of(d->handle_key, a, meta))
		return IOVA_ERR_FORGED_HANDLE;
	uint64_t req = meta & ((UINT64_C(1) << REQUESTED_BITS) - 1);
	uint64_t c = meta >> CACHE_SHIFT;
	uint64_t base = d->space.first << d->space.granule_shift;
	uint64_t size = (d->space.end - d->space.first) << d->space.granule_shift;
	if (c > IOVA_CACHE_WRITE_COMBINED || !req || (a & d->granule_mask) || a < base || a - base >= size ||
	    req > size - (a - base))
		return IOVA_ERR_FORGED_HANDLE;
	*iova = a;
	*requested = req;
	*cache = (iova_cache_type)c;
	return IOVA_OK;
}
