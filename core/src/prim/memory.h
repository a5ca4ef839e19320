/* SPDX-License-Identifier: MIT */
/*
 * memory.h - address-space reservations for metadata.
 *
 * Metadata arrays are reserved, not committed: the host backs a page only
 * when it is first written, so a domain over 1 TiB costs what it uses.
 */
#ifndef IOVA_PRIM_MEMORY_H
#define IOVA_PRIM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/** iova_reserve() - @bytes of zero-filled, lazily committed memory, page
 * aligned; NULL when the host refuses. */
void *iova_reserve(size_t bytes);

/** iova_release() - give back a reservation of @bytes made by iova_reserve(). */
void iova_release(void *p, size_t bytes);

/*
 * Page colours: where in its 4 KiB page a hot structure starts.
 *
 * A core checks a load against the stores still in flight by the low 12
 * bits of their addresses first; a load that matches a store's, in another
 * page, waits as if it read that store's data ("4K aliasing"). Allocators
 * put many things at the start of a page - the first object of a fresh
 * slab, large allocations, mmap - so a thread's first magazine (written on
 * every cache hit), the domain (read on every call) and the state bytes of
 * blocks at region starts all sat at page offset 0, and a cache hit took
 * 22 ns instead of 17. The structures read or written on every operation
 * therefore start at fixed, distinct offsets, clear of the first bytes of
 * every 256 (where the default 1280-byte magazines start) and of each
 * other: the state bytes of the blocks at the regions' starts, every 4096th
 * byte of the map, are then at 0x880. One table, so that they stay apart.
 */
#define IOVA_COLOUR_PAGE 4096u /* what 4K aliasing compares: the low 12 bits */

enum iova_page_colour {
	IOVA_COLOUR_CACHE = 0x240,     /* struct cache: read on every hit (its end: cache/layer.c) */
	IOVA_COLOUR_CACHE_MAP = 0x880, /* the cache's state map (128-byte pairs: a multiple of 128) */
	IOVA_COLOUR_DOMAIN = 0x940,    /* struct iova_domain: read on every call (its end: domain.c) */
};

/** iova_alloc_coloured() - @bytes of zeroed heap memory starting at page
 * offset @colour (a multiple of 64, below IOVA_COLOUR_PAGE); NULL when the
 * host refuses. Free with iova_free_coloured(). */
void *iova_alloc_coloured(size_t bytes, size_t colour);
void iova_free_coloured(void *p);
/** iova_coloured_bytes() - what iova_alloc_coloured(@bytes, @colour) takes
 * from the host, for metadata reports. */
size_t iova_coloured_bytes(size_t bytes, size_t colour);

/** iova_reserve_coloured() - iova_reserve() of @bytes starting at page
 * offset @colour; release with iova_release_coloured() and the same @bytes. */
void *iova_reserve_coloured(size_t bytes, size_t colour);
void iova_release_coloured(void *p, size_t bytes);

/** iova_resident_bytes() - bytes the host currently backs in the pages that
 * [p, p+bytes) touches (whole pages: p need not start one). */
uint64_t iova_resident_bytes(const void *p, size_t bytes);

/** iova_random_u64() - 64 random bits from the host (for per-domain keys). */
uint64_t iova_random_u64(void);

#endif
