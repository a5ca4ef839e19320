/* SPDX-License-Identifier: MIT */
/*
 * handle.h - allocation handles that authenticate themselves.
 *
 * A handle is the block's address and the requested byte count minus one
 * (from which the granule count follows; minus one so that 2^50 fits in 50
 * bits) plus a 24-bit tag keyed with a secret of the
 * domain: the low 12 bits of the address (always zero, granules are at least
 * 4 KiB) carry 12 bits of it, the top of the second word the other 12.
 * Strategies therefore need no per-allocation record to free a block, and a
 * handle that was altered, invented or issued by another domain is refused
 * before any strategy sees it. Inline: both sit on every alloc and free.
 */
#ifndef IOVA_HANDLE_H
#define IOVA_HANDLE_H

#include "domain.h"

#include <string.h>

#define HANDLE_TAG_LOW_BITS 12
#define HANDLE_REQUESTED_BITS 50
#define HANDLE_META_BITS 52

/* A keyed multiply, not a cryptographic MAC: it guards against mistakes (a
 * handle altered, made up or mixed between domains), not against an
 * adversary who can query the domain. The metadata is rotated so that its
 * low bits (the requested size) land on the address's always-zero low bits.
 * Changing bit i of the product's input adds or subtracts K << i, which
 * always changes the top 24 bits (no 24-bit window of K is all zeros or all
 * ones), so every single-bit change is caught (tests/test_api.c flips each).
 * One multiply: the tag is made on every allocation and checked on every
 * free, and the handle is most of what those paths compute. */
static inline uint64_t handle_tag(uint64_t key, uint64_t iova, uint64_t meta)
{
	const uint64_t x = iova ^ key ^ (meta << 52 | meta >> 12);
	return (x * UINT64_C(0xbf58476d1ce4e5b9)) >> (64 - 24);
}

static inline iova_handle handle_make(const iova_domain *d, uint64_t iova, uint64_t requested, iova_cache_type cache)
{
	uint64_t meta = (requested - 1) | (uint64_t)cache << HANDLE_REQUESTED_BITS;
	uint64_t tag = handle_tag(d->handle_key, iova, meta);
	return (iova_handle){{iova | (tag & ((1u << HANDLE_TAG_LOW_BITS) - 1)),
			      meta | (tag >> HANDLE_TAG_LOW_BITS) << HANDLE_META_BITS}};
}

/*
 * handle_store() - write @h to @dst with one 16-byte store. Callers copy a
 * handle as a whole (one 16-byte load, as compilers do for a struct of two
 * words); after two 8-byte stores that load cannot be forwarded from the
 * store buffer and waits for both stores to reach the cache - 10 to 20
 * cycles on every allocation, serialised by the next compare-and-swap.
 */
static inline void handle_store(iova_handle *dst, iova_handle h)
{
	typedef uint64_t handle_vec __attribute__((vector_size(16)));
	const handle_vec v = {h.opaque[0], h.opaque[1]};
	memcpy(dst, &v, sizeof v);
}

/**
 * handle_open() - check a handle and recover what it names.
 * Return: IOVA_OK, or IOVA_ERR_FORGED_HANDLE if the tag does not match or the
 * contents could not have been issued by @d.
 */
static inline iova_status handle_open(const iova_domain *d, iova_handle h, uint64_t *iova, uint64_t *requested)
{
	const uint64_t a = h.opaque[0] & ~(uint64_t)((1u << HANDLE_TAG_LOW_BITS) - 1);
	const uint64_t meta = h.opaque[1] & ((UINT64_C(1) << HANDLE_META_BITS) - 1);
	const uint64_t tag = (h.opaque[0] & ((1u << HANDLE_TAG_LOW_BITS) - 1)) |
			     (h.opaque[1] >> HANDLE_META_BITS) << HANDLE_TAG_LOW_BITS;
	const uint64_t req = (meta & ((UINT64_C(1) << HANDLE_REQUESTED_BITS) - 1)) + 1;
	if (IOVA_UNLIKELY(tag != handle_tag(d->handle_key, a, meta)))
		return IOVA_ERR_FORGED_HANDLE;
	/* An authentic tag over impossible contents still means forged. */
	if (IOVA_UNLIKELY((meta >> HANDLE_REQUESTED_BITS) > IOVA_CACHE_WRITE_COMBINED ||
			  (a & d->granule_mask) || a - d->config.base >= d->config.size ||
			  req > d->config.size - (a - d->config.base)))
		return IOVA_ERR_FORGED_HANDLE;
	*iova = a;
	*requested = req;
	return IOVA_OK;
}

#endif
