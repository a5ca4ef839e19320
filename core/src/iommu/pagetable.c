/* SPDX-License-Identifier: MIT */
/*
 * pagetable.c - the I/O page table (invariants in pagetable.h).
 */
#include "pagetable.h"

#include <stdlib.h>

static struct pt_page *page_get(struct pt *pt)
{
	spin_lock(&pt->pool_lock);
	struct pt_page *p = pt->pool;
	if (p)
		pt->pool = p->next;
	spin_unlock(&pt->pool_lock);
	if (!p) {
		p = aligned_alloc(64, pt->page_bytes);
		if (!p)
			return NULL;
		spin_lock(&pt->pool_lock);
		p->all = pt->all;
		pt->all = p;
		spin_unlock(&pt->pool_lock);
	}
	p->next = NULL;
	/* Atomic stores: a walk that raced the page's detach may still read it
	 * (P4); it discards what it read, but the read must not be a data race. */
	for (size_t i = 0; i < (size_t)1 << pt->bits; i++)
		atomic_store_explicit(&p->e[i], 0, memory_order_relaxed);
	return p;
}

uint64_t pt_pages_put(struct pt *pt, struct pt_page *list)
{
	if (!list)
		return 0;
	uint64_t n = 1;
	struct pt_page *last = list;
	while (last->next) {
		last = last->next;
		n++;
	}
	spin_lock(&pt->pool_lock);
	last->next = pt->pool;
	pt->pool = list;
	spin_unlock(&pt->pool_lock);
	return n;
}

iova_status pt_init(struct pt *pt, unsigned levels, unsigned bits, unsigned leaf_levels)
{
	*pt = (struct pt){.levels = levels, .bits = bits};
	/* Leaves at levels 2 and 3 only, and never at the root. */
	pt->leaf_levels = 2u | (leaf_levels & 0xcu & ((1u << levels) - 1));
	pt->page_bytes = iova_round_up(sizeof(struct pt_page) + (sizeof(uint64_t) << bits), 64);
	pt->root = page_get(pt);
	return pt->root ? IOVA_OK : IOVA_ERR_NO_MEMORY;
}

void pt_fini(struct pt *pt)
{
	for (struct pt_page *p = pt->all, *next; p; p = next) {
		next = p->all;
		free(p);
	}
	*pt = (struct pt){0};
}

void pt_walk(const struct pt *pt, uint64_t g, struct pt_walk *w)
{
	const struct pt_page *p = pt->root;
	unsigned level = pt->levels, reads = 0;
	for (;;) {
		_Atomic uint64_t *e = (_Atomic uint64_t *)&p->e[pt_index(pt, g, level)];
		uint64_t v = atomic_load(e);
		reads++;
		if (level > 1 && pte_is_table(v)) {
			p = pte_table(v);
			level--;
			continue;
		}
		*w = (struct pt_walk){.entry = v, .level = level, .reads = reads, .slot = e};
		return;
	}
}

/* The highest level below @cap at which a leaf can map granule g (P1). */
static unsigned leaf_level(const struct pt *pt, uint64_t g, uint64_t end, uint64_t frame, unsigned cap)
{
	for (unsigned L = cap; L >= 2; L--) {
		const uint64_t span = UINT64_C(1) << pt_span_log2(pt, L);
		if ((pt->leaf_levels >> L & 1) && !(g & (span - 1)) && !(frame & (span - 1)) && end - g >= span)
			return L;
	}
	return 1;
}

static int blocked(uint64_t v) { return v & PTE_FREED ? PT_FREED : PT_DIRTY; }

int pt_map(struct pt *pt, uint64_t g0, uint64_t n, uint64_t frame0, uint64_t clean_below, uint64_t *done,
	   struct pt_stats *st)
{
	const uint64_t end = g0 + n;
	uint64_t g = g0;
	unsigned cap = pt->levels;
	int r = PT_OK;
	while (g < end) {
		const unsigned L = leaf_level(pt, g, end, frame0 + (g - g0), cap);
		struct pt_page *p = pt->root;
		unsigned level = pt->levels;
		while (level > L) {
			_Atomic uint64_t *e = &p->e[pt_index(pt, g, level)];
			uint64_t v = atomic_load(e);
			if (v & PTE_PRESENT) {
				if (v & PTE_LEAF) {
					r = PT_ALREADY_MAPPED;
					goto out;
				}
				p = pte_table(v);
				level--;
				continue;
			}
			if (!pte_is_clean(v, clean_below)) {
				r = blocked(v);
				goto out;
			}
			struct pt_page *np = page_get(pt);
			if (!np) {
				r = PT_NO_MEMORY;
				goto out;
			}
			/* Release: a walker that reads the new entry sees a zeroed page. */
			if (atomic_compare_exchange_strong(e, &v, (uint64_t)(uintptr_t)np | PTE_PRESENT)) {
				st->pages_alloc++;
				st->written++;
				p = np;
				level--;
			} else {
				pt_pages_put(pt, np); /* someone else installed one: use theirs */
			}
		}
		/* Consecutive leaves of level L in page p. */
		for (;;) {
			_Atomic uint64_t *e = &p->e[pt_index(pt, g, L)];
			uint64_t v = atomic_load(e);
			if (v & PTE_PRESENT) {
				if (L > 1 && !(v & PTE_LEAF)) {
					cap = L - 1; /* a table page already sits there: map below it */
					break;
				}
				r = PT_ALREADY_MAPPED;
				goto out;
			}
			if (!pte_is_clean(v, clean_below)) {
				r = blocked(v);
				goto out;
			}
			if (!atomic_compare_exchange_strong(e, &v, pte_leaf(frame0 + (g - g0))))
				continue; /* re-examine what is there now */
			st->written++;
			st->large += L > 1;
			g += UINT64_C(1) << pt_span_log2(pt, L);
			cap = pt->levels;
			if (g >= end || pt_index(pt, g, L) == 0 || leaf_level(pt, g, end, frame0 + (g - g0), cap) != L)
				break;
		}
	}
out:
	*done = g - g0;
	return r;
}

enum visit_mode { VISIT_UNMAP, VISIT_RETOMB };

struct visit {
	enum visit_mode mode;
	uint64_t g0;
	/* Written values (first_* in the entry holding g0); RETOMB replaces
	 * only entries holding from / from_first. */
	uint64_t value, first_value, from, from_first;
	struct pt_page **detached;
	struct pt_stats *st;
};

/* Push @p and every table page below it (p is at @level) on @list. */
static uint64_t collect_subtree(const struct pt *pt, struct pt_page *p, unsigned level, struct pt_page **list)
{
	uint64_t n = 1;
	if (level > 1)
		for (size_t i = 0; i < (size_t)1 << pt->bits; i++) {
			uint64_t v = atomic_load_explicit(&p->e[i], memory_order_acquire);
			if (pte_is_table(v))
				n += collect_subtree(pt, pte_table(v), level - 1, list);
		}
	p->next = *list;
	*list = p;
	return n;
}

static void visit_owned(const struct pt *pt, _Atomic uint64_t *e, unsigned level, uint64_t elo, struct visit *vc)
{
	const bool first = elo <= vc->g0; /* owned entries start at or after g0 */
	if (vc->mode == VISIT_RETOMB) {
		uint64_t expect = first ? vc->from_first : vc->from;
		atomic_compare_exchange_strong(e, &expect, first ? vc->first_value : vc->value);
		return;
	}
	/* Sequentially consistent exchange: device.c's argument that no walk can
	 * cache this entry after the covering invalidation depends on it. */
	uint64_t old = atomic_exchange(e, first ? vc->first_value : vc->value);
	if (!(old & PTE_PRESENT))
		return;
	vc->st->cleared++;
	if (level > 1 && !(old & PTE_LEAF))
		vc->st->pages_detached += collect_subtree(pt, pte_table(old), level - 1, vc->detached);
}

static void visit_range(const struct pt *pt, struct pt_page *p, unsigned level, uint64_t lo, uint64_t hi,
			struct visit *vc)
{
	const uint64_t span = UINT64_C(1) << pt_span_log2(pt, level);
	for (uint64_t g = lo; g < hi;) {
		const uint64_t elo = g & ~(span - 1), ehi = elo + span;
		_Atomic uint64_t *e = &p->e[pt_index(pt, g, level)];
		if (elo >= lo && ehi <= hi) {
			visit_owned(pt, e, level, elo, vc);
		} else {
			uint64_t v = atomic_load_explicit(e, memory_order_acquire);
			/* A partly covered leaf cannot belong to a whole allocation (P1/P3):
			 * leave it, as Linux leaves a partial superpage unmap alone. */
			if (level > 1 && pte_is_table(v))
				visit_range(pt, pte_table(v), level - 1, iova_max(lo, elo), iova_min(hi, ehi), vc);
		}
		g = ehi;
	}
}

void pt_unmap(struct pt *pt, uint64_t g, uint64_t n, uint64_t tomb, uint64_t tomb_first, struct pt_page **detached,
	      struct pt_stats *st)
{
	struct visit vc = {.mode = VISIT_UNMAP, .g0 = g, .value = tomb, .first_value = tomb_first,
			   .detached = detached, .st = st};
	visit_range(pt, pt->root, pt->levels, g, g + n, &vc);
}

void pt_retomb(struct pt *pt, uint64_t g, uint64_t n, uint64_t from, uint64_t from_first, uint64_t to,
	       uint64_t to_first)
{
	struct visit vc = {.mode = VISIT_RETOMB, .g0 = g, .value = to, .first_value = to_first, .from = from,
			   .from_first = from_first};
	visit_range(pt, pt->root, pt->levels, g, g + n, &vc);
}
