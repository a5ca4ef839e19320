/* SPDX-License-Identifier: MIT */
/*
 * refmodel.h - a reference model of the domain API's semantics, for tests.
 *
 * Simple and slow on purpose: one bit per granule (set = free), one record
 * per granule of the live allocation starting there, one mutex around it all,
 * and searches that look at every candidate position. It knows nothing of
 * buddy trees; it states what iova.h promises:
 *
 *  - a request of s granules is served by a block of the rounded size
 *    2^k >= s granules (k = ceil(log2 s)), starting at a granule number
 *    (absolute: address >> granule shift) that is a multiple of
 *    A = max(2^k, alignment in granules); the s granules held lie inside
 *    the acceptable window [lo, hi), the whole rounded block lies inside the
 *    domain and is free when it is claimed (its tail may stick out of the
 *    window: it goes straight back to the free pool);
 *  - only the first s granules are held; the tail of the rounded block
 *    stays free;
 *  - a boundary B (a power of two >= the granule-rounded size) never needs a
 *    search of its own: an aligned block of 2^k <= B granules cannot cross it;
 *  - placement is only a preference.
 *
 * Validation is modelled as a set of violated rules (refmodel_request_errors):
 * iova.h does not say which error wins when a request breaks several rules,
 * so a test accepts any member of the set, and exactly the one when there is
 * one.
 */
#ifndef IOVA_TEST_REFMODEL_H
#define IOVA_TEST_REFMODEL_H

#include "iova.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* A request after validation, in granules (absolute granule numbers). */
typedef struct refmodel_req {
	uint64_t granules; /* s: granules held */
	unsigned order;    /* k: the rounded block is 2^k granules */
	uint64_t align;    /* A: granules, a power of two >= 2^k */
	uint64_t lo, hi;   /* the granules held must lie inside [lo, hi) */
	uint64_t block_hi; /* the rounded block must end by here: min(hi + tail, domain end) */
	bool top_down;
} refmodel_req;

typedef struct refmodel {
	pthread_mutex_t lock;
	unsigned shift;       /* log2 of the granule */
	uint64_t base, size;  /* bytes, as configured */
	uint64_t first, end;  /* granules of the domain: [first, end) */
	uint64_t origin;      /* first rounded down to 64: bit i of the map is granule origin + i */
	uint64_t words;
	uint64_t *free_map;   /* bit set: granule free; granules outside the domain read as held */
	uint32_t *live_size;  /* [g - origin]: granules of the live allocation starting at g, or 0 */
	uint64_t free_granules;
	uint64_t live_allocations;
} refmodel;

/** refmodel_init() - a model of a fresh domain with configuration @cfg
 * (granule 0 means 4 KiB). The domain must be small (at most 2^26 granules).
 * Return: false if @cfg is not a valid configuration or memory ran out. */
bool refmodel_init(refmodel *m, const iova_domain_config *cfg);
void refmodel_destroy(refmodel *m);

/**
 * refmodel_request_errors() - which of iova.h's validation rules @r breaks
 * against this domain.
 * Return: a mask of (1u << status) bits, one per violated rule (ZERO_SIZE,
 * SIZE_TOO_LARGE, RANGE_INVERTED, RANGE_TOO_SMALL, BAD_BOUNDARY,
 * BOUNDARY_TOO_SMALL, BAD_ALIGNMENT, BAD_CACHE_TYPE, BAD_PLACEMENT); 0 when
 * the request is well formed, in which case @q receives it in granules.
 * Rules that cannot be evaluated because another rule failed first (e.g. the
 * range of a zero-sized request) are not reported.
 */
unsigned refmodel_request_errors(const refmodel *m, const iova_request *r, refmodel_req *q);

/** refmodel_satisfiable() - could @q be placed in the empty domain? */
bool refmodel_satisfiable(const refmodel *m, const refmodel_req *q);

/**
 * refmodel_find() - is there a free block for @q now?
 * Return: true and the block's first granule in @pos (the lowest such, or the
 * highest for a top-down request) if some position aligned to q->align has
 * its whole rounded block free inside [q->lo, q->hi).
 */
bool refmodel_find(refmodel *m, const refmodel_req *q, uint64_t *pos);

/** refmodel_find_naive() - refmodel_find() by testing every granule of every
 * candidate one at a time; the model's own self-test compares the two. */
bool refmodel_find_naive(refmodel *m, const refmodel_req *q, uint64_t *pos);

/**
 * refmodel_can_place() - would @q be served correctly by a block at @pos?
 * Return: 0 if so; otherwise a short reason ("misaligned", "outside the
 * window", "rounded block not free").
 */
const char *refmodel_can_place(refmodel *m, const refmodel_req *q, uint64_t pos);

/** refmodel_take() - hold the first q->granules granules at @pos (the caller
 * has checked refmodel_can_place()). */
void refmodel_take(refmodel *m, const refmodel_req *q, uint64_t pos);

/** refmodel_alloc() - the whole request, as the model would serve it.
 * Return: IOVA_OK (block at *pos, taken), IOVA_ERR_UNSATISFIABLE or
 * IOVA_ERR_NO_SPACE. */
iova_status refmodel_alloc(refmodel *m, const refmodel_req *q, uint64_t *pos);

/**
 * refmodel_free() - release the allocation of @granules granules at @pos.
 * Return: IOVA_OK if exactly that allocation was live; IOVA_ERR_DOUBLE_FREE
 * if all its granules are free; IOVA_ERR_UNKNOWN_HANDLE if its first granule
 * is held by some allocation (not this one). For the remaining, mixed case
 * (first granule free, some other granule held) iova.h allows either error:
 * the model returns IOVA_ERR_UNKNOWN_HANDLE and sets *ambiguous.
 */
iova_status refmodel_free(refmodel *m, uint64_t pos, uint64_t granules, bool *ambiguous);

/** refmodel_live_size() - granules of the live allocation starting at @pos, or 0. */
uint64_t refmodel_live_size(refmodel *m, uint64_t pos);

/** refmodel_is_free() - is granule @g free? (false outside the domain) */
bool refmodel_is_free(refmodel *m, uint64_t g);

uint64_t refmodel_free_bytes(refmodel *m);
uint64_t refmodel_live_allocations(refmodel *m);

/** refmodel_for_each_extent() - call @fn for each maximal run of free
 * granules, in increasing address order, as (address, bytes) - the shape of
 * iova_domain_for_each_free(). Returning false stops the walk. */
void refmodel_for_each_extent(refmodel *m, bool (*fn)(void *ctx, uint64_t iova, uint64_t bytes), void *ctx);

/**
 * refmodel_stats() - the space part of iova_stats computed from the model
 * (granule, total/free/allocated bytes, free_blocks[], free_extents,
 * free_extents_by_order[], largest_free_extent, largest_free_block); the
 * other fields are zero.
 */
void refmodel_stats(refmodel *m, iova_stats *out);

/** refmodel_roots() - the maximal naturally aligned blocks that tile the
 * granules [first, end): the free_blocks[] of an empty domain. */
void refmodel_roots(uint64_t first, uint64_t end, uint64_t blocks[IOVA_MAX_ORDER]);

#endif
