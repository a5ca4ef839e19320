/* SPDX-License-Identifier: MIT */
/*
 * oracle.c - the safety oracle (see oracle.h).
 */
#include "oracle.h"

#include <stdlib.h>

#define LEAF_LOG2 9
#define MID_LOG2 9
#define HELD UINT64_C(1)
#define KIND_SHIFT 1
#define PAYLOAD_SHIFT 3

static inline unsigned rec_kind(uint64_t r) { return (unsigned)(r >> KIND_SHIFT) & 3u; }
static inline uint64_t rec_payload(uint64_t r) { return r >> PAYLOAD_SHIFT; }
static inline uint64_t rec_make(uint64_t held, unsigned kind, uint64_t payload)
{
	return held | (uint64_t)kind << KIND_SHIFT | payload << PAYLOAD_SHIFT;
}

iova_status oracle_init(struct oracle *o, uint64_t first, uint64_t granules)
{
	*o = (struct oracle){.first = first, .granules = granules};
	o->top_count = (size_t)((granules + (UINT64_C(1) << (LEAF_LOG2 + MID_LOG2)) - 1) >> (LEAF_LOG2 + MID_LOG2));
	o->top = calloc(o->top_count, sizeof *o->top);
	return o->top ? IOVA_OK : IOVA_ERR_NO_MEMORY;
}

void oracle_fini(struct oracle *o)
{
	for (size_t i = 0; o->top && i < o->top_count; i++) {
		_Atomic(void *) *mid = atomic_load(&o->top[i]);
		for (size_t j = 0; mid && j < (1u << MID_LOG2); j++)
			free(atomic_load(&mid[j]));
		free(mid);
	}
	free(o->top);
	o->top = NULL;
}

/* Install a zeroed array of @n elements of @size at @slot unless one is there. */
static void *get_or_create(_Atomic(void *) *slot, size_t n, size_t size, bool create)
{
	void *p = atomic_load_explicit(slot, memory_order_acquire);
	if (p || !create)
		return p;
	void *fresh = calloc(n, size);
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(slot, &p, fresh, memory_order_acq_rel, memory_order_acquire))
		return fresh;
	free(fresh);
	return p;
}

/* The record of granule @g; NULL when it was never written (and !create) or
 * when the host refused memory (the oracle then skips the granule). */
static _Atomic uint64_t *record(const struct oracle *o, uint64_t g, bool create)
{
	const uint64_t i = g - o->first;
	if (i >= o->granules)
		return NULL;
	_Atomic(void *) *mid = get_or_create(&o->top[i >> (LEAF_LOG2 + MID_LOG2)], 1u << MID_LOG2, sizeof(void *), create);
	if (!mid)
		return NULL;
	_Atomic uint64_t *leaf = get_or_create(&mid[(i >> LEAF_LOG2) & ((1u << MID_LOG2) - 1)], 1u << LEAF_LOG2,
					       sizeof(uint64_t), create);
	return leaf ? &leaf[i & ((1u << LEAF_LOG2) - 1)] : NULL;
}

/*
 * Iterate over the records of [g, g+n), fetching each leaf array once:
 *	for (struct run r = run_start(o, g, n, create); run_next(o, &r);)
 *		... r.rec[0 .. r.len) are the records of granules r.g .. r.g+r.len ...
 * Granules outside the domain, or whose leaf could not be allocated, are
 * skipped.
 */
struct run {
	uint64_t g, end, len;
	_Atomic uint64_t *rec;
	bool create;
};

static inline struct run run_start(uint64_t g, uint64_t n, bool create)
{
	return (struct run){.g = g, .end = g + n, .len = 0, .create = create};
}

static bool run_next(const struct oracle *o, struct run *r)
{
	for (r->g += r->len; r->g < r->end; r->g += r->len) {
		const uint64_t i = r->g - o->first;
		r->len = iova_min(r->end - r->g, (UINT64_C(1) << LEAF_LOG2) - (i & ((1u << LEAF_LOG2) - 1)));
		if ((r->rec = record(o, r->g, r->create)))
			return true;
	}
	return false;
}

/* May a translation recorded by this (unmapped) record still be cached? */
static bool dirty(const struct oracle *o, uint64_t r)
{
	return rec_kind(r) == OR_UNMAPPED && atomic_load(&o->full_done_max) <= rec_payload(r);
}

static void note_violation(struct oracle *o, uint64_t g, unsigned shift)
{
	uint64_t zero = 0;
	atomic_compare_exchange_strong(&o->first_violation, &zero, (g << shift) | 1); /* |1: address 0 is a violation too */
}

void oracle_handout(struct oracle *o, uint64_t g, uint64_t n, unsigned shift, struct oracle_result *res)
{
	for (struct run r = run_start(g, n, true); run_next(o, &r);)
		for (uint64_t k = 0; k < r.len; k++) {
			_Atomic uint64_t *rp = &r.rec[k];
			uint64_t v = atomic_load(rp);
			res->checks++;
			if ((v & HELD) || rec_kind(v) == OR_MAPPED)
				res->overlaps++;
			else if (dirty(o, v)) {
				res->violations++;
				note_violation(o, r.g + k, shift);
			}
			while (!atomic_compare_exchange_weak(rp, &v, v | HELD))
				;
		}
}

void oracle_map(struct oracle *o, uint64_t g, uint64_t n, uint64_t frame, unsigned shift, struct oracle_result *res)
{
	for (struct run r = run_start(g, n, true); run_next(o, &r);)
		for (uint64_t k = 0; k < r.len; k++) {
			_Atomic uint64_t *rp = &r.rec[k];
			uint64_t v = atomic_load(rp);
			res->checks++;
			if (dirty(o, v)) {
				res->violations++;
				note_violation(o, r.g + k, shift);
			}
			while (!atomic_compare_exchange_weak(rp, &v, rec_make(v & HELD, OR_MAPPED, frame + (r.g - g) + k)))
				;
		}
}

void oracle_unmap(struct oracle *o, uint64_t g, uint64_t n, uint64_t seq)
{
	for (struct run r = run_start(g, n, true); run_next(o, &r);)
		for (uint64_t k = 0; k < r.len; k++) {
			uint64_t v = atomic_load(&r.rec[k]);
			while (!atomic_compare_exchange_weak(&r.rec[k], &v, rec_make(v & HELD, OR_UNMAPPED, seq)))
				;
		}
}

void oracle_inv_pages(struct oracle *o, uint64_t g, uint64_t n, uint64_t q)
{
	for (struct run r = run_start(g, n, false); run_next(o, &r);)
		for (uint64_t k = 0; k < r.len; k++) {
			uint64_t v = atomic_load(&r.rec[k]);
			while (rec_kind(v) == OR_UNMAPPED && rec_payload(v) < q &&
			       !atomic_compare_exchange_weak(&r.rec[k], &v, rec_make(v & HELD, OR_NONE, 0)))
				;
		}
}

void oracle_inv_all(struct oracle *o, uint64_t q)
{
	uint64_t m = atomic_load(&o->full_done_max);
	while (q > m && !atomic_compare_exchange_weak(&o->full_done_max, &m, q))
		;
}

void oracle_release(struct oracle *o, uint64_t g, uint64_t n)
{
	for (struct run r = run_start(g, n, false); run_next(o, &r);)
		for (uint64_t k = 0; k < r.len; k++)
			atomic_fetch_and(&r.rec[k], ~HELD);
}

bool oracle_stale(const struct oracle *o, uint64_t g, uint64_t frame)
{
	_Atomic uint64_t *rp = record(o, g, false);
	if (!rp)
		return true; /* never mapped at all */
	uint64_t r = atomic_load_explicit(rp, memory_order_acquire);
	return rec_kind(r) != OR_MAPPED || rec_payload(r) != frame;
}
