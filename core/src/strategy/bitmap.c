/* SPDX-License-Identifier: MIT */
/*
 * bitmap.c - the "bitmap" strategy: first fit over a bitmap of granules
 * under one lock, as genalloc and the older IOMMU drivers (iommu-helper's
 * iommu_area_alloc) do it.
 *
 * Design: bit i of `used` says granule first+i is allocated; bit i of
 * `start` says an allocation begins there. An allocation of s granules is a
 * run of s used bits whose first bit alone is a start bit and which is not
 * followed by a used bit without a start bit - so a free checks the handle
 * against the bits exactly (double frees and stale sizes are refused without
 * touching anything), and needs no per-allocation record.
 *
 * Search: bottom-up first fit (or next fit from the end of the previous
 * allocation, option fit=next, as iommu_area_alloc does), or top-down last
 * fit; candidates are aligned positions inside the window, and a collision
 * with a used bit skips past the run of used bits. Cost: linear in the
 * words scanned - the point of this baseline.
 *
 * Lock discipline: one iova_lock (lock.h) around every operation, walks
 * included. The bitmaps are reserved, not committed (prim/memory.h).
 *
 * Options: fit=first|next (default first).
 */
#include "../internal.h"
#include "../prim/memory.h"
#include "lock.h"
#include "opts.h"

#include <stdlib.h>

#define NONE UINT64_MAX

struct bitmap_opts {
	unsigned fit; /* 0 first, 1 next */
};

static const char *const fit_choices[] = {"first", "next", NULL};
static const struct iova_opt bitmap_spec[] = {
	IOVA_OPT_CHOICE_FIELD("fit", struct bitmap_opts, fit, fit_choices),
};

struct bitmap {
	struct iova_lock lock;
	iova_space space;
	uint64_t n;             /* granules */
	uint64_t *used, *start; /* n bits each */
	size_t map_bytes;       /* of each bitmap */
	bool next_fit;
	uint64_t hint;          /* next fit: granule after the previous allocation */
	_Atomic uint64_t words_scanned, searches, failed;
};

/* ---- word-at-a-time bit searches over [from, to), relative indices ---- */

static inline uint64_t upto_mask(unsigned k) { return k == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (k + 1)) - 1; }

/* First bit in [from, to) whose value is @want, or @to. */
static uint64_t find_bit(const uint64_t *b, uint64_t from, uint64_t to, bool want, uint64_t *scanned)
{
	if (from >= to)
		return to;
	const uint64_t flip = want ? 0 : ~UINT64_C(0), last = (to - 1) >> 6;
	uint64_t w = from >> 6, x = (b[w] ^ flip) & (~UINT64_C(0) << (from & 63));
	for (;;) {
		(*scanned)++;
		if (x) {
			uint64_t r = (w << 6) + (uint64_t)__builtin_ctzll(x);
			return r < to ? r : to;
		}
		if (++w > last)
			return to;
		x = b[w] ^ flip;
	}
}

/* Last bit in [from, to) whose value is @want, or NONE. */
static uint64_t rfind_bit(const uint64_t *b, uint64_t from, uint64_t to, bool want, uint64_t *scanned)
{
	if (from >= to)
		return NONE;
	const uint64_t flip = want ? 0 : ~UINT64_C(0), first = from >> 6;
	uint64_t w = (to - 1) >> 6, x = (b[w] ^ flip) & upto_mask((unsigned)((to - 1) & 63));
	for (;;) {
		(*scanned)++;
		if (x) {
			uint64_t r = (w << 6) + 63 - (uint64_t)__builtin_clzll(x);
			return r >= from ? r : NONE;
		}
		if (w-- == first)
			return NONE;
		x = b[w] ^ flip;
	}
}

static void set_range(uint64_t *b, uint64_t from, uint64_t to, bool value)
{
	while (from < to) {
		uint64_t w = from >> 6;
		unsigned lo = (unsigned)(from & 63);
		uint64_t n = iova_min(64 - lo, to - from);
		uint64_t m = (n == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1)) << lo;
		b[w] = value ? b[w] | m : b[w] & ~m;
		from += n;
	}
}

static inline bool test_bit(const uint64_t *b, uint64_t i) { return (b[i >> 6] >> (i & 63)) & 1; }

/* ---- search ---- */

/* Lowest aligned p in [from, hi - s] with granules [p, p+s) free, or NONE. */
static uint64_t search_up(struct bitmap *bm, uint64_t from, uint64_t hi, uint64_t s, uint64_t align, uint64_t *scanned)
{
	const uint64_t first = bm->space.first;
	uint64_t p = iova_round_up(from, align);
	while (p >= from && p <= hi && hi - p >= s) {
		uint64_t i = p - first;
		uint64_t q = find_bit(bm->used, i, i + s, true, scanned);
		if (q == i + s)
			return p;
		uint64_t z = find_bit(bm->used, q + 1, hi - first, false, scanned);
		if (z >= hi - first)
			return NONE;
		p = iova_round_up(first + z, align);
	}
	return NONE;
}

/* Highest aligned p in [lo, hi - s] with granules [p, p+s) free, or NONE. */
static uint64_t search_down(struct bitmap *bm, uint64_t lo, uint64_t hi, uint64_t s, uint64_t align, uint64_t *scanned)
{
	const uint64_t first = bm->space.first;
	if (hi - lo < s)
		return NONE;
	uint64_t p = iova_round_down(hi - s, align);
	while (p >= lo) {
		uint64_t i = p - first;
		uint64_t q = rfind_bit(bm->used, i, i + s, true, scanned);
		if (q == NONE)
			return p;
		/* The block must end at or below q: skip the used run below it. */
		uint64_t z = rfind_bit(bm->used, lo - first, q, false, scanned);
		if (z == NONE || first + z + 1 - lo < s)
			return NONE;
		p = iova_round_down(first + z + 1 - s, align);
	}
	return NONE;
}

static iova_status bitmap_alloc(void *state, const iova_req *req, uint64_t *out)
{
	struct bitmap *bm = state;
	const uint64_t s = req->granules;
	uint64_t scanned = 0, p;
	iova_lock_acquire(&bm->lock);
	if (req->placement == IOVA_PLACE_TOP_DOWN) {
		p = search_down(bm, req->lo, req->hi, s, req->align, &scanned);
	} else if (bm->next_fit && bm->hint > req->lo && bm->hint < req->hi) {
		p = search_up(bm, bm->hint, req->hi, s, req->align, &scanned);
		if (p == NONE) /* wrap around, as iommu_area_alloc does */
			p = search_up(bm, req->lo, iova_min(req->hi, bm->hint + s - 1), s, req->align, &scanned);
	} else {
		p = search_up(bm, req->lo, req->hi, s, req->align, &scanned);
	}
	if (p != NONE) {
		set_range(bm->used, p - bm->space.first, p - bm->space.first + s, true);
		set_range(bm->start, p - bm->space.first, p - bm->space.first + 1, true);
		bm->hint = p + s;
		*out = p;
	} else {
		iova_count(&bm->failed, 1);
	}
	iova_count(&bm->searches, 1);
	iova_count(&bm->words_scanned, scanned);
	iova_lock_release(&bm->lock);
	return p != NONE ? IOVA_OK : IOVA_ERR_NO_SPACE;
}

static iova_status bitmap_free(void *state, uint64_t g, uint64_t s, unsigned slot)
{
	(void)slot;
	struct bitmap *bm = state;
	if (g < bm->space.first || g >= bm->space.end || !s || s > bm->space.end - g)
		return IOVA_ERR_UNKNOWN_HANDLE;
	const uint64_t i = g - bm->space.first;
	uint64_t scanned = 0;
	iova_status st = IOVA_OK;
	iova_lock_acquire(&bm->lock);
	if (!test_bit(bm->start, i))
		st = test_bit(bm->used, i) ? IOVA_ERR_UNKNOWN_HANDLE : IOVA_ERR_DOUBLE_FREE;
	else if (find_bit(bm->used, i, i + s, false, &scanned) != i + s ||      /* not all allocated */
		 find_bit(bm->start, i + 1, i + s, true, &scanned) != i + s ||  /* another allocation inside */
		 (i + s < bm->n && test_bit(bm->used, i + s) && !test_bit(bm->start, i + s))) /* it goes on */
		st = IOVA_ERR_UNKNOWN_HANDLE;
	if (st == IOVA_OK) {
		set_range(bm->used, i, i + s, false);
		set_range(bm->start, i, i + 1, false);
	}
	iova_count(&bm->words_scanned, scanned);
	iova_lock_release(&bm->lock);
	return st;
}

static void bitmap_walk_free(const void *state, iova_extent_fn fn, void *ctx)
{
	struct bitmap *bm = (struct bitmap *)state;
	uint64_t scanned = 0;
	iova_lock_acquire(&bm->lock);
	for (uint64_t i = 0; i < bm->n;) {
		uint64_t z = find_bit(bm->used, i, bm->n, false, &scanned);
		if (z == bm->n)
			break;
		uint64_t e = find_bit(bm->used, z, bm->n, true, &scanned);
		if (!fn(ctx, bm->space.first + z, e - z))
			break;
		i = e;
	}
	iova_lock_release(&bm->lock);
}

static void bitmap_destroy(void *state)
{
	struct bitmap *bm = state;
	if (!bm)
		return;
	iova_release(bm->used, bm->map_bytes);
	iova_release(bm->start, bm->map_bytes);
	iova_lock_destroy(&bm->lock);
	free(bm);
}

static iova_status bitmap_check_options(const char *options, char *msg, size_t msg_size)
{
	struct bitmap_opts o = {0};
	return iova_opts_parse("bitmap", options, bitmap_spec, 1, &o, NULL, msg, msg_size);
}

static iova_status bitmap_create(const iova_space *space, const char *options, void **state)
{
	struct bitmap_opts o = {0};
	iova_status st = iova_opts_parse("bitmap", options, bitmap_spec, 1, &o, NULL, NULL, 0);
	if (st)
		return st;
	struct bitmap *bm = calloc(1, sizeof *bm);
	if (!bm)
		return IOVA_ERR_NO_MEMORY;
	iova_lock_init(&bm->lock);
	bm->space = *space;
	bm->n = space->end - space->first;
	bm->next_fit = o.fit == 1;
	bm->hint = space->first;
	bm->map_bytes = (size_t)((bm->n + 63) / 64 * 8);
	bm->used = iova_reserve(bm->map_bytes);
	bm->start = iova_reserve(bm->map_bytes);
	if (!bm->used || !bm->start) {
		bitmap_destroy(bm);
		return IOVA_ERR_NO_MEMORY;
	}
	*state = bm;
	return IOVA_OK;
}

static uint64_t bitmap_metadata_reserved(const void *state)
{
	const struct bitmap *bm = state;
	return sizeof *bm + 2 * (uint64_t)bm->map_bytes;
}

static uint64_t bitmap_metadata_resident(const void *state)
{
	const struct bitmap *bm = state;
	return sizeof *bm + iova_resident_bytes(bm->used, bm->map_bytes) + iova_resident_bytes(bm->start, bm->map_bytes);
}

static void bitmap_counters(const void *state, iova_counter_fn fn, void *ctx)
{
	const struct bitmap *bm = state;
	fn(ctx, "lock_acquisitions", iova_counter_read(&bm->lock.acquisitions), IOVA_COUNTER_TOTAL);
	fn(ctx, "lock_contended", iova_counter_read(&bm->lock.contended), IOVA_COUNTER_TOTAL);
	fn(ctx, "searches", iova_counter_read(&bm->searches), IOVA_COUNTER_TOTAL);
	fn(ctx, "failed_searches", iova_counter_read(&bm->failed), IOVA_COUNTER_TOTAL);
	fn(ctx, "words_scanned", iova_counter_read(&bm->words_scanned), IOVA_COUNTER_TOTAL);
}

const iova_strategy_ops iova_bitmap_ops = {
	.name = "bitmap",
	.description = "first fit over a bitmap of granules under one lock (genalloc, iommu-helper); fit=first|next",
	.caps = IOVA_CAP_ALL,
	.create = bitmap_create,
	.destroy = bitmap_destroy,
	.alloc = bitmap_alloc,
	.free = bitmap_free,
	.walk_free = bitmap_walk_free,
	.metadata_reserved = bitmap_metadata_reserved,
	.metadata_resident = bitmap_metadata_resident,
	.counters = bitmap_counters,
	.check_options = bitmap_check_options,
};
