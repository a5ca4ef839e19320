/* SPDX-License-Identifier: MIT */
/*
 * pool.h - fixed-size objects (tree nodes, block records) for the locked
 * baselines.
 *
 * Objects come from chunks mapped straight from the host (prim/memory.h),
 * not from malloc: the jemalloc strategy's extent hooks use a pool while
 * jemalloc holds its own locks, where calling back into malloc - which is
 * jemalloc when it is linked - must be avoided. Chunks grow geometrically
 * from 64 KiB to 4 MiB and are only given back when the pool is released.
 * Not thread-safe: each pool belongs to one lock.
 */
#ifndef IOVA_STRATEGY_POOL_H
#define IOVA_STRATEGY_POOL_H

#include <stddef.h>
#include <stdint.h>

struct iova_pool {
	size_t obj_size;
	void *free_list;         /* freed objects, linked through their first word */
	struct pool_chunk *chunks;
	char *bump, *bump_end;   /* never-used tail of the newest chunk */
	size_t next_chunk;       /* bytes of the next chunk */
	uint64_t reserved_bytes; /* all chunks */
	uint64_t live;           /* objects handed out */
};

/** iova_pool_init() - an empty pool of @obj_size-byte objects (>= a pointer). */
void iova_pool_init(struct iova_pool *p, size_t obj_size);

/** iova_pool_get() - an object (contents undefined), or NULL if the host
 * refuses memory. */
void *iova_pool_get(struct iova_pool *p);

/** iova_pool_put() - give back an object obtained from iova_pool_get(). */
void iova_pool_put(struct iova_pool *p, void *obj);

/** iova_pool_release() - unmap every chunk; the pool is empty afterwards. */
void iova_pool_release(struct iova_pool *p);

/** iova_pool_resident() - bytes of the chunks the host actually backs. */
uint64_t iova_pool_resident(const struct iova_pool *p);

#endif
