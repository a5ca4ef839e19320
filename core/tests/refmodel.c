/* SPDX-License-Identifier: MIT */
/*
 * refmodel.c - the reference model (see refmodel.h): a bitmap of free
 * granules and a table of live allocations, under one mutex.
 *
 * The only cleverness is in refmodel_find(): for blocks and alignments below
 * 64 granules it tests all candidate positions of one 64-bit map word at once
 * ("bit i survives iff bits i..i+2^k-1 are all set"); refmodel_find_naive()
 * checks it against a granule-by-granule search.
 */
#include "refmodel.h"

#include <stdlib.h>
#include <string.h>

#define MODEL_MAX_GRANULES (UINT64_C(1) << 26)

static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }
static unsigned log2_floor(uint64_t x) { return 63u - (unsigned)__builtin_clzll(x); }
static unsigned log2_ceil(uint64_t x) { return x <= 1 ? 0 : log2_floor(x - 1) + 1; }
static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

bool refmodel_init(refmodel *m, const iova_domain_config *cfg)
{
	memset(m, 0, sizeof *m);
	const uint64_t g = cfg->granule ? cfg->granule : IOVA_DEFAULT_GRANULE;
	if (!is_pow2(g) || g < IOVA_GRANULE_MIN || g > IOVA_GRANULE_MAX || !cfg->size || cfg->size % g ||
	    cfg->base % g || cfg->base + cfg->size < cfg->base || cfg->size / g > MODEL_MAX_GRANULES)
		return false;
	m->shift = log2_floor(g);
	m->base = cfg->base;
	m->size = cfg->size;
	m->first = cfg->base >> m->shift;
	m->end = m->first + (cfg->size >> m->shift);
	m->origin = m->first & ~UINT64_C(63);
	m->words = (m->end - m->origin + 63) / 64;
	m->free_map = calloc(m->words, sizeof *m->free_map);
	m->live_size = calloc(m->words * 64, sizeof *m->live_size);
	if (!m->free_map || !m->live_size) {
		refmodel_destroy(m);
		return false;
	}
	for (uint64_t g2 = m->first; g2 < m->end; g2++)
		m->free_map[(g2 - m->origin) / 64] |= UINT64_C(1) << ((g2 - m->origin) % 64);
	m->free_granules = m->end - m->first;
	pthread_mutex_init(&m->lock, NULL);
	return true;
}

void refmodel_destroy(refmodel *m)
{
	if (m->free_map)
		pthread_mutex_destroy(&m->lock);
	free(m->free_map);
	free(m->live_size);
	memset(m, 0, sizeof *m);
}

#define ERR(s) (1u << (s))

unsigned refmodel_request_errors(const refmodel *m, const iova_request *r, refmodel_req *q)
{
	const uint64_t g = UINT64_C(1) << m->shift;
	unsigned e = 0;
	if (!r->size)
		e |= ERR(IOVA_ERR_ZERO_SIZE);
	if ((unsigned)r->cache_type > IOVA_CACHE_WRITE_COMBINED)
		e |= ERR(IOVA_ERR_BAD_CACHE_TYPE);
	if ((unsigned)r->placement > IOVA_PLACE_TOP_DOWN)
		e |= ERR(IOVA_ERR_BAD_PLACEMENT);
	if (r->boundary && !is_pow2(r->boundary))
		e |= ERR(IOVA_ERR_BAD_BOUNDARY);
	if (r->alignment && !is_pow2(r->alignment))
		e |= ERR(IOVA_ERR_BAD_ALIGNMENT);
	if (r->size > m->size)
		e |= ERR(IOVA_ERR_SIZE_TOO_LARGE);
	const uint64_t highest = r->highest ? r->highest : UINT64_MAX;
	const bool inverted = r->lowest > highest;
	if (inverted)
		e |= ERR(IOVA_ERR_RANGE_INVERTED);
	const uint64_t granules = r->size / g + (r->size % g != 0);
	/* Whole granules whose every byte lies in [lowest, highest], within the domain. */
	uint64_t lo = r->lowest / g + (r->lowest % g != 0);
	uint64_t hi = highest / g + (highest % g == g - 1);
	lo = max_u64(lo, m->first);
	hi = min_u64(hi, m->end);
	if (r->size && !inverted && (hi <= lo || hi - lo < granules))
		e |= ERR(IOVA_ERR_RANGE_TOO_SMALL);
	/* The boundary must be at least the granule-rounded size. */
	if (r->size && is_pow2(r->boundary) && (r->boundary < g || r->boundary / g < granules))
		e |= ERR(IOVA_ERR_BOUNDARY_TOO_SMALL);
	if (e)
		return e;
	q->granules = granules;
	q->order = log2_ceil(granules);
	q->align = UINT64_C(1) << q->order;
	if (r->alignment / g > q->align)
		q->align = r->alignment / g;
	q->lo = lo;
	q->hi = hi;
	q->block_hi = min_u64(hi + ((UINT64_C(1) << q->order) - granules), m->end);
	q->top_down = r->placement == IOVA_PLACE_TOP_DOWN;
	return 0;
}

/* The candidate positions of @q: multiples of q->align in [*first, *last]. */
static bool candidates(const refmodel_req *q, uint64_t *first, uint64_t *last)
{
	const uint64_t bsize = UINT64_C(1) << q->order;
	if (q->block_hi < q->lo || q->block_hi - q->lo < bsize)
		return false;
	const uint64_t f = (q->lo + q->align - 1) & ~(q->align - 1);
	if (f < q->lo) /* wrapped */
		return false;
	const uint64_t l = (q->block_hi - bsize) & ~(q->align - 1);
	if (f > l)
		return false;
	*first = f;
	*last = l;
	return true;
}

bool refmodel_satisfiable(const refmodel *m, const refmodel_req *q)
{
	uint64_t f, l;
	return q->lo >= m->first && q->block_hi <= m->end && candidates(q, &f, &l);
}

static bool bit_free(const refmodel *m, uint64_t g)
{
	if (g < m->first || g >= m->end)
		return false;
	return (m->free_map[(g - m->origin) / 64] >> ((g - m->origin) % 64)) & 1;
}

/* Are granules [p, p + 2^order) all free? p is a multiple of 2^order. */
static bool block_free(const refmodel *m, uint64_t p, unsigned order)
{
	if (p < m->first || p + (UINT64_C(1) << order) > m->end)
		return false;
	const uint64_t i = p - m->origin;
	if (order >= 6) { /* whole words: origin and p are multiples of 64 */
		for (uint64_t wd = i / 64; wd < (i >> 6) + (UINT64_C(1) << (order - 6)); wd++)
			if (m->free_map[wd] != UINT64_MAX)
				return false;
		return true;
	}
	const uint64_t mask = ((UINT64_C(1) << (1u << order)) - 1) << (i % 64);
	return (m->free_map[i / 64] & mask) == mask;
}

static bool find_locked(refmodel *m, const refmodel_req *q, uint64_t *pos)
{
	uint64_t f, l;
	if (!candidates(q, &f, &l))
		return false;
	f = max_u64(f, m->first);
	if (l + (UINT64_C(1) << q->order) > m->end || f > l)
		return false;
	if (q->align >= 64) {
		const uint64_t n = (l - f) / q->align + 1;
		for (uint64_t t = 0; t < n; t++) {
			uint64_t p = q->top_down ? l - t * q->align : f + t * q->align;
			if (block_free(m, p, q->order)) {
				*pos = p;
				return true;
			}
		}
		return false;
	}
	/* Block and alignment below 64 granules: every candidate of a map word at
	 * once. After the loop, bit i of `runs` is set iff bits i..i+2^k-1 of
	 * the word are all set; a candidate (a multiple of the alignment) plus
	 * its block never crosses the word's end since 64 is a multiple of both. */
	uint64_t amask = 0;
	for (unsigned b = 0; b < 64; b += (unsigned)q->align)
		amask |= UINT64_C(1) << b;
	const uint64_t wf = (f - m->origin) / 64, wl = (l - m->origin) / 64;
	for (uint64_t t = 0; t <= wl - wf; t++) {
		const uint64_t wd = q->top_down ? wl - t : wf + t;
		uint64_t runs = m->free_map[wd];
		for (unsigned s = 1; s < (1u << q->order); s <<= 1)
			runs &= runs >> s;
		runs &= amask;
		/* Keep candidates inside [f, l]. */
		const uint64_t ws = m->origin + wd * 64;
		if (f > ws)
			runs &= UINT64_MAX << (f - ws);
		if (l < ws + 63)
			runs &= UINT64_MAX >> (63 - (l - ws));
		if (runs) {
			unsigned bit = q->top_down ? 63u - (unsigned)__builtin_clzll(runs) : (unsigned)__builtin_ctzll(runs);
			*pos = ws + bit;
			return true;
		}
	}
	return false;
}

bool refmodel_find(refmodel *m, const refmodel_req *q, uint64_t *pos)
{
	pthread_mutex_lock(&m->lock);
	bool found = find_locked(m, q, pos);
	pthread_mutex_unlock(&m->lock);
	return found;
}

bool refmodel_find_naive(refmodel *m, const refmodel_req *q, uint64_t *pos)
{
	uint64_t f, l;
	if (!candidates(q, &f, &l))
		return false;
	pthread_mutex_lock(&m->lock);
	bool found = false;
	const uint64_t n = (l - f) / q->align + 1;
	for (uint64_t t = 0; t < n && !found; t++) {
		uint64_t p = q->top_down ? l - t * q->align : f + t * q->align;
		bool all = true;
		for (uint64_t i = 0; i < (UINT64_C(1) << q->order) && all; i++)
			all = bit_free(m, p + i);
		if (all) {
			*pos = p;
			found = true;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return found;
}

const char *refmodel_can_place(refmodel *m, const refmodel_req *q, uint64_t pos)
{
	if (pos & (q->align - 1))
		return "misaligned";
	if (pos < q->lo || pos > q->hi || q->hi - pos < q->granules)
		return "granules held outside the window";
	if (pos > q->block_hi || q->block_hi - pos < (UINT64_C(1) << q->order))
		return "rounded block outside the domain";
	pthread_mutex_lock(&m->lock);
	bool ok = block_free(m, pos, q->order);
	pthread_mutex_unlock(&m->lock);
	return ok ? NULL : "rounded block not entirely free";
}

static void take_locked(refmodel *m, uint64_t pos, uint64_t granules)
{
	for (uint64_t g = pos; g < pos + granules; g++)
		m->free_map[(g - m->origin) / 64] &= ~(UINT64_C(1) << ((g - m->origin) % 64));
	m->live_size[pos - m->origin] = (uint32_t)granules;
	m->free_granules -= granules;
	m->live_allocations++;
}

void refmodel_take(refmodel *m, const refmodel_req *q, uint64_t pos)
{
	pthread_mutex_lock(&m->lock);
	take_locked(m, pos, q->granules);
	pthread_mutex_unlock(&m->lock);
}

iova_status refmodel_alloc(refmodel *m, const refmodel_req *q, uint64_t *pos)
{
	if (!refmodel_satisfiable(m, q))
		return IOVA_ERR_UNSATISFIABLE;
	pthread_mutex_lock(&m->lock);
	iova_status st = IOVA_ERR_NO_SPACE;
	if (find_locked(m, q, pos)) {
		take_locked(m, *pos, q->granules);
		st = IOVA_OK;
	}
	pthread_mutex_unlock(&m->lock);
	return st;
}

iova_status refmodel_free(refmodel *m, uint64_t pos, uint64_t granules, bool *ambiguous)
{
	*ambiguous = false;
	pthread_mutex_lock(&m->lock);
	iova_status st;
	if (pos >= m->first && pos < m->end && m->live_size[pos - m->origin] == granules) {
		for (uint64_t g = pos; g < pos + granules; g++)
			m->free_map[(g - m->origin) / 64] |= UINT64_C(1) << ((g - m->origin) % 64);
		m->live_size[pos - m->origin] = 0;
		m->free_granules += granules;
		m->live_allocations--;
		st = IOVA_OK;
	} else {
		bool all_free = true;
		for (uint64_t g = pos; g < pos + granules && all_free; g++)
			all_free = bit_free(m, g);
		if (all_free) {
			st = IOVA_ERR_DOUBLE_FREE;
		} else {
			st = IOVA_ERR_UNKNOWN_HANDLE;
			*ambiguous = bit_free(m, pos);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return st;
}

uint64_t refmodel_live_size(refmodel *m, uint64_t pos)
{
	if (pos < m->first || pos >= m->end)
		return 0;
	pthread_mutex_lock(&m->lock);
	uint64_t s = m->live_size[pos - m->origin];
	pthread_mutex_unlock(&m->lock);
	return s;
}

bool refmodel_is_free(refmodel *m, uint64_t g)
{
	pthread_mutex_lock(&m->lock);
	bool f = bit_free(m, g);
	pthread_mutex_unlock(&m->lock);
	return f;
}

uint64_t refmodel_free_bytes(refmodel *m)
{
	pthread_mutex_lock(&m->lock);
	uint64_t b = m->free_granules << m->shift;
	pthread_mutex_unlock(&m->lock);
	return b;
}

uint64_t refmodel_live_allocations(refmodel *m)
{
	pthread_mutex_lock(&m->lock);
	uint64_t n = m->live_allocations;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void refmodel_for_each_extent(refmodel *m, bool (*fn)(void *ctx, uint64_t iova, uint64_t bytes), void *ctx)
{
	pthread_mutex_lock(&m->lock);
	uint64_t g = m->first;
	while (g < m->end) {
		/* Skip held granules a word at a time, then measure the free run. */
		uint64_t i = g - m->origin;
		uint64_t w = m->free_map[i / 64] & (UINT64_MAX << (i % 64));
		if (!w) {
			g = m->origin + (i / 64 + 1) * 64;
			continue;
		}
		g = m->origin + (i & ~UINT64_C(63)) + (unsigned)__builtin_ctzll(w);
		if (g >= m->end)
			break;
		uint64_t start = g;
		for (;;) {
			i = g - m->origin;
			uint64_t held = ~m->free_map[i / 64] & (UINT64_MAX << (i % 64));
			if (held) {
				g = m->origin + (i & ~UINT64_C(63)) + (unsigned)__builtin_ctzll(held);
				break;
			}
			g = m->origin + (i / 64 + 1) * 64;
			if (g >= m->end)
				break;
		}
		g = min_u64(g, m->end);
		if (!fn(ctx, start << m->shift, (g - start) << m->shift))
			break;
	}
	pthread_mutex_unlock(&m->lock);
}

/* Cut granules [first, first + n) into maximal naturally aligned blocks. */
static void cut_blocks(uint64_t first, uint64_t n, uint64_t blocks[IOVA_MAX_ORDER], unsigned *largest)
{
	while (n) {
		unsigned k = log2_floor(n);
		if (first && (unsigned)__builtin_ctzll(first) < k)
			k = (unsigned)__builtin_ctzll(first);
		blocks[k]++;
		if (largest && k > *largest)
			*largest = k;
		first += UINT64_C(1) << k;
		n -= UINT64_C(1) << k;
	}
}

void refmodel_roots(uint64_t first, uint64_t end, uint64_t blocks[IOVA_MAX_ORDER])
{
	memset(blocks, 0, IOVA_MAX_ORDER * sizeof *blocks);
	cut_blocks(first, end - first, blocks, NULL);
}

struct stats_ctx {
	iova_stats *st;
	unsigned shift;
	unsigned largest_block;
	bool any;
};

static bool stats_extent(void *ctx, uint64_t iova, uint64_t bytes)
{
	struct stats_ctx *sc = ctx;
	uint64_t first = iova >> sc->shift, n = bytes >> sc->shift;
	sc->st->free_extents++;
	sc->st->free_extents_by_order[log2_floor(n)]++;
	sc->st->largest_free_extent = max_u64(sc->st->largest_free_extent, bytes);
	cut_blocks(first, n, sc->st->free_blocks, &sc->largest_block);
	sc->any = true;
	return true;
}

void refmodel_stats(refmodel *m, iova_stats *out)
{
	memset(out, 0, sizeof *out);
	out->granule = UINT64_C(1) << m->shift;
	out->total_bytes = m->size;
	struct stats_ctx sc = {out, m->shift, 0, false};
	refmodel_for_each_extent(m, stats_extent, &sc);
	out->free_bytes = refmodel_free_bytes(m);
	out->allocated_bytes = out->total_bytes - out->free_bytes;
	out->largest_free_block = sc.any ? UINT64_C(1) << (sc.largest_block + m->shift) : 0;
}
