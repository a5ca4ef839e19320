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

/** iova_resident_bytes() - bytes of [p, p+bytes) the host currently backs. */
uint64_t iova_resident_bytes(const void *p, size_t bytes);

/** iova_random_u64() - 64 random bits from the host (for per-domain keys). */
uint64_t iova_random_u64(void);

#endif
