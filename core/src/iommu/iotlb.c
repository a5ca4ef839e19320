/* SPDX-License-Identifier: MIT */
/*
 * iotlb.c - the set-associative IOTLB (see iotlb.h).
 */
#include "iotlb.h"

#include <stdlib.h>
#include <string.h>

static inline struct iotlb_set *set_at(const struct iotlb *t, uint64_t i)
{
	return (struct iotlb_set *)(t->sets + (size_t)i * t->set_stride);
}

static inline unsigned span_log2(const struct iotlb *t, unsigned level) { return t->bits * (level - 1); }

static inline struct iotlb_set *set_of(const struct iotlb *t, uint64_t page)
{
	return set_at(t, page & ((UINT64_C(1) << t->sets_log2) - 1));
}

iova_status iotlb_init(struct iotlb *t, unsigned sets, unsigned ways, iova_iotlb_replacement r, unsigned bits)
{
	*t = (struct iotlb){.sets_log2 = iova_log2_floor(sets), .ways = ways, .bits = bits, .replacement = r};
	t->set_stride = iova_round_up(sizeof(struct iotlb_set) + ways * sizeof(struct iotlb_way), IOVA_CACHE_LINE);
	t->sets = aligned_alloc(IOVA_CACHE_LINE, t->set_stride * sets);
	if (!t->sets)
		return IOVA_ERR_NO_MEMORY;
	memset(t->sets, 0, t->set_stride * sets);
	for (unsigned i = 0; i < sets; i++)
		set_at(t, i)->rng = 0x9e3779b9u ^ (i * 0x85ebca6bu) ^ 1u; /* non-zero, reproducible */
	return IOVA_OK;
}

void iotlb_fini(struct iotlb *t)
{
	free(t->sets);
	t->sets = NULL;
}

static bool probe(struct iotlb *t, uint16_t did, uint64_t g, unsigned level, uint64_t *frame)
{
	const uint64_t page = g >> span_log2(t, level);
	struct iotlb_set *s = set_of(t, page);
	bool hit = false;
	spin_lock(&s->lock);
	for (unsigned w = 0; w < t->ways; w++) {
		struct iotlb_way *e = &s->way[w];
		if (e->level == level && e->did == did && e->page == page) {
			*frame = e->frame + (g & ((UINT64_C(1) << span_log2(t, level)) - 1));
			if (t->replacement == IOVA_IOTLB_LRU)
				e->stamp = ++s->tick;
			hit = true;
			break;
		}
	}
	spin_unlock(&s->lock);
	return hit;
}

bool iotlb_lookup(struct iotlb *t, uint16_t did, uint64_t g, uint64_t *frame, unsigned *level)
{
	if (probe(t, did, g, 1, frame)) {
		*level = 1;
		return true;
	}
	unsigned large = atomic_load_explicit(&t->large_levels, memory_order_relaxed);
	for (unsigned L = 2; large >> L; L++) {
		if ((large >> L & 1) && probe(t, did, g, L, frame)) {
			*level = L;
			return true;
		}
	}
	return false;
}

static unsigned victim(struct iotlb *t, struct iotlb_set *s)
{
	for (unsigned w = 0; w < t->ways; w++)
		if (!s->way[w].level)
			return w;
	if (t->replacement == IOVA_IOTLB_RANDOM) {
		uint32_t x = s->rng; /* xorshift32 */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s->rng = x;
		return x % t->ways;
	}
	unsigned v = 0; /* LRU and FIFO: the smallest stamp */
	for (unsigned w = 1; w < t->ways; w++)
		if (s->way[w].stamp < s->way[v].stamp)
			v = w;
	return v;
}

bool iotlb_fill(struct iotlb *t, uint16_t did, uint64_t g, unsigned level, uint64_t page_frame, uint64_t seq0,
		bool *evicted)
{
	const uint64_t page = g >> span_log2(t, level);
	struct iotlb_set *s = set_of(t, page);
	*evicted = false;
	if (level > 1 && !(atomic_load_explicit(&t->large_levels, memory_order_relaxed) >> level & 1))
		atomic_fetch_or(&t->large_levels, 1u << level);
	spin_lock(&s->lock);
	/* Under the set lock, after the invalidation's increment or before its
	 * scan of this set: see iotlb.h. */
	if (atomic_load(&t->inv_seq) != seq0) {
		spin_unlock(&s->lock);
		return false;
	}
	unsigned w;
	for (w = 0; w < t->ways; w++) /* another walker may have filled it meanwhile */
		if (s->way[w].level == level && s->way[w].did == did && s->way[w].page == page)
			break;
	if (w == t->ways) {
		w = victim(t, s);
		*evicted = s->way[w].level != 0;
	}
	s->way[w] = (struct iotlb_way){.page = page, .frame = page_frame, .stamp = ++s->tick, .did = did,
				       .level = (uint8_t)level};
	spin_unlock(&s->lock);
	return true;
}

/* Drop the entries of set @s for which @match holds. */
static void scrub(struct iotlb_set *s, unsigned ways, bool (*match)(const struct iotlb_way *, const void *),
		  const void *arg)
{
	spin_lock(&s->lock);
	for (unsigned w = 0; w < ways; w++)
		if (s->way[w].level && match(&s->way[w], arg))
			s->way[w].level = 0;
	spin_unlock(&s->lock);
}

struct page_match {
	uint16_t did;
	unsigned level;
	uint64_t first, last; /* page numbers at that level */
};

static bool match_pages(const struct iotlb_way *e, const void *arg)
{
	const struct page_match *m = arg;
	return e->did == m->did && e->level == m->level && e->page >= m->first && e->page <= m->last;
}

static bool match_domain(const struct iotlb_way *e, const void *arg) { return e->did == *(const uint16_t *)arg; }

static bool match_all(const struct iotlb_way *e, const void *arg)
{
	(void)e;
	(void)arg;
	return true;
}

uint64_t iotlb_inv_pages(struct iotlb *t, uint16_t did, uint64_t g, uint64_t n)
{
	const uint64_t q = atomic_fetch_add(&t->inv_seq, 1) + 1;
	const uint64_t sets = UINT64_C(1) << t->sets_log2;
	const unsigned large = atomic_load(&t->large_levels);
	for (unsigned L = 1; L == 1 || large >> L; L++) {
		if (L > 1 && !(large >> L & 1))
			continue;
		struct page_match m = {did, L, g >> span_log2(t, L), (g + n - 1) >> span_log2(t, L)};
		if (m.last - m.first >= sets) { /* the range touches every set: scan them all once */
			for (uint64_t i = 0; i < sets; i++)
				scrub(set_at(t, i), t->ways, match_pages, &m);
		} else {
			for (uint64_t p = m.first; p <= m.last; p++)
				scrub(set_of(t, p), t->ways, match_pages, &m);
		}
	}
	return q;
}

uint64_t iotlb_inv_domain(struct iotlb *t, uint16_t did)
{
	const uint64_t q = atomic_fetch_add(&t->inv_seq, 1) + 1;
	for (uint64_t i = 0; i < UINT64_C(1) << t->sets_log2; i++)
		scrub(set_at(t, i), t->ways, match_domain, &did);
	return q;
}

uint64_t iotlb_inv_global(struct iotlb *t)
{
	const uint64_t q = atomic_fetch_add(&t->inv_seq, 1) + 1;
	for (uint64_t i = 0; i < UINT64_C(1) << t->sets_log2; i++)
		scrub(set_at(t, i), t->ways, match_all, NULL);
	return q;
}

uint64_t iotlb_count(struct iotlb *t, uint16_t did, bool any)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < UINT64_C(1) << t->sets_log2; i++) {
		struct iotlb_set *s = set_at(t, i);
		spin_lock(&s->lock);
		for (unsigned w = 0; w < t->ways; w++)
			n += s->way[w].level && (any || s->way[w].did == did);
		spin_unlock(&s->lock);
	}
	return n;
}
