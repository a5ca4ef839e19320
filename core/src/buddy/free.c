/* SPDX-License-Identifier: MIT */
/*
 * free.c - returning an allocation, with the checks that make a bad free
 * harmless.
 *
 * An allocation of s granules whose rounded block has order k is, from its
 * level down, at most one run of whole fields per level, each level's
 * remainder sitting under one SPLIT field of the level above (alloc.c writes
 * it that way). Freeing checks every run first, reading only; then frees the
 * runs, the one holding ALLOC_START first: of two threads freeing the same
 * handle, exactly one turns that field FREE and the other stops there having
 * changed nothing.
 */
#include "fast.h"

struct piece {
	unsigned level;
	uint64_t word;
	unsigned first_field, fields; /* fields == 0: a SPLIT field to check */
	bool first;                   /* holds ALLOC_START */
	bool last;                    /* the allocation's last run */
};

#define MAX_PIECES (2 * BUDDY_MAX_LEVELS)

static unsigned decompose(const struct buddy *b, uint64_t g, uint64_t s, struct piece *out)
{
	unsigned n = 0, L = buddy_level_of_order(iova_log2_ceil(s));
	bool first = true;
	for (;;) {
		const struct buddy_level *lv = &b->level[L];
		const uint64_t full = s >> lv->entry_shift;
		const uint64_t idx = g >> lv->entry_shift;
		const unsigned mask = (1u << lv->fields_log2) - 1;
		if (full) {
			out[n++] = (struct piece){L, idx >> lv->fields_log2, (unsigned)(idx & mask), (unsigned)full, first, false};
			first = false;
			g += full << lv->entry_shift;
			s -= full << lv->entry_shift;
		}
		if (!s)
			break;
		const uint64_t sidx = g >> lv->entry_shift;
		out[n++] = (struct piece){L, sidx >> lv->fields_log2, (unsigned)(sidx & mask), 0, false, false};
		L--;
	}
	for (unsigned i = n; i-- > 0;) {
		if (out[i].fields) {
			out[i].last = true;
			break;
		}
	}
	return n;
}

/* Does the SPLIT field idx of level L lead, through the first fields of the
 * words below it, to an ALLOC_CONT field: an allocation continuing there? */
static bool continues_below(const struct buddy *b, unsigned L, uint64_t idx)
{
	while (L-- > 0) {
		uint64_t w = atomic_load(buddy_word(b, L, idx));
		unsigned st = field_get(w, b->level[L].fb, 0);
		if (st != ST_SPLIT)
			return st == ST_ALLOC_CONT;
		idx <<= b->level[L].fields_log2;
	}
	return false;
}

/* Does word w hold piece p as allocated, its first field in state @head
 * (ALLOC_START for the allocation's first run - or FREEING once its free
 * has begun - ALLOC_CONT otherwise)? */
static bool piece_live_as(const struct buddy *b, const struct piece *p, uint64_t w, unsigned head)
{
	const unsigned fb = b->level[p->level].fb;
	if (!p->fields)
		return field_get(w, fb, p->first_field) == ST_SPLIT;
	uint64_t span = fields_span(fb, p->first_field, p->fields);
	uint64_t want = field_set(rep(fb, ST_ALLOC_CONT) & span, fb, p->first_field, head);
	if ((w & span) != want)
		return false;
	/* A handle naming fewer granules than its allocation would otherwise
	 * pass: the allocation must not go on after the handle's last granule,
	 * in this word or under a SPLIT field that follows the run. */
	unsigned next = p->first_field + p->fields;
	if (!p->last || next >= (1u << b->level[p->level].fields_log2))
		return true;
	unsigned st = field_get(w, fb, next);
	return st != ST_ALLOC_CONT &&
	       !(st == ST_SPLIT && continues_below(b, p->level, (p->word << b->level[p->level].fields_log2) | next));
}

static bool piece_live(const struct buddy *b, const struct piece *p, uint64_t w)
{
	return piece_live_as(b, p, w, p->first ? ST_ALLOC_START : ST_ALLOC_CONT);
}

/* Are all granules of [g, e) that word j of level L covers free? */
static bool range_free_in(const struct buddy *b, unsigned L, uint64_t j, uint64_t g, uint64_t e)
{
	const struct buddy_level *lv = &b->level[L];
	const uint64_t w = atomic_load(buddy_word(b, L, j));
	for (unsigned f = 0; f < (1u << lv->fields_log2); f++) {
		const uint64_t idx = (j << lv->fields_log2) | f;
		const uint64_t fs = idx << lv->entry_shift, fe = fs + (UINT64_C(1) << lv->entry_shift);
		if (fe <= g || fs >= e)
			continue;
		const unsigned st = field_get(w, lv->fb, f);
		if (st == ST_SPLIT ? !range_free_in(b, L - 1, idx, g, e) : st != ST_FREE)
			return false;
	}
	return true;
}

/**
 * buddy_free_refused() - why a free of granules [g, g+s) was refused: if every
 * one of them is free, the block was freed already (IOVA_ERR_DOUBLE_FREE);
 * otherwise the space has been handed out again differently since, and the
 * handle names nothing live (IOVA_ERR_UNKNOWN_HANDLE).
 */
iova_status buddy_free_refused(const struct buddy *b, uint64_t g, uint64_t s)
{
	const struct buddy_level *tl = &b->level[b->top];
	for (uint64_t t = tl->first; t < tl->first + tl->count; t++)
		if (!range_free_in(b, b->top, t, g, g + s))
			return IOVA_ERR_UNKNOWN_HANDLE;
	return IOVA_ERR_DOUBLE_FREE;
}

/* Turn run p's fields from "allocated, first field @head" to FREE. False if
 * they are not (any more) in that state: another free of the same handle. */
static bool release_run(struct buddy *b, struct buddy_slot *slot, const struct piece *p, unsigned head)
{
	const struct buddy_level *lv = &b->level[p->level];
	_Atomic uint64_t *wp = buddy_word(b, p->level, p->word);
	const uint64_t span = fields_span(lv->fb, p->first_field, p->fields);
	bool guessed = p->level == 0 && atomic_load_explicit(&slot->l0_word, memory_order_relaxed) == p->word;
	uint64_t w = guessed ? atomic_load_explicit(&slot->l0_value, memory_order_relaxed)
			     : atomic_load_explicit(wp, memory_order_relaxed);
	uint64_t nw;
	for (;;) {
		if (!piece_live_as(b, p, w, head)) {
			if (!guessed) /* a guess from the slot may be stale; the word decides */
				return false;
			guessed = false;
			w = atomic_load_explicit(wp, memory_order_relaxed);
			continue;
		}
		nw = (w & ~span) | (rep(lv->fb, ST_FREE) & span);
		if (atomic_compare_exchange_strong(wp, &w, nw))
			break;
		buddy_slot_count(b, slot, &slot->cas_retries);
		guessed = false;
	}
	if (p->level == 0) {
		atomic_store_explicit(&slot->l0_word, p->word, memory_order_relaxed);
		atomic_store_explicit(&slot->l0_value, nw, memory_order_relaxed);
	}
	buddy_summarise(b, p->level, p->word, nw);
	return true;
}

/* A refused free: if the allocation's first field is FREEING, its free is
 * under way in another thread: a double free. Else see bad_free(). */
static iova_status refused(const struct buddy *b, const struct piece *head, uint64_t g, uint64_t s)
{
	uint64_t w = atomic_load(buddy_word(b, head->level, head->word));
	if (head->level && field_get(w, b->level[head->level].fb, head->first_field) == ST_FREEING)
		return IOVA_ERR_DOUBLE_FREE;
	return buddy_free_refused(b, g, s);
}

/*
 * The general case: validate every run, reading only; then free them. An
 * allocation of several runs first turns its first field from ALLOC_START to
 * FREEING with one compare-and-swap - of racing frees of the same handle
 * exactly one gets past that step - then frees its other runs from the
 * deepest up, then the first run. So no run's space is free while a run below
 * it is not, and nobody can take that space and then misread our dying
 * remainder as the continuation of their own block.
 */
static __attribute__((noinline)) iova_status free_pieces(struct buddy *b, uint64_t g, uint64_t s, struct buddy_slot *slot)
{
	struct piece pieces[MAX_PIECES];
	const unsigned n = decompose(b, g, s, pieces);
	unsigned runs = 0, head = 0;
	for (unsigned i = 0; i < n; i++) {
		if (pieces[i].first)
			head = i;
		runs += pieces[i].fields != 0;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct piece *p = &pieces[i];
		if (!piece_live(b, p, atomic_load_explicit(buddy_word(b, p->level, p->word), memory_order_relaxed)))
			return refused(b, &pieces[head], g, s);
	}
	if (runs == 1)
		return release_run(b, slot, &pieces[head], ST_ALLOC_START) ? IOVA_OK : refused(b, &pieces[head], g, s);

	const struct piece *h = &pieces[head]; /* at a level >= 1: only level 0 has no remainder below */
	_Atomic uint64_t *hp = buddy_word(b, h->level, h->word);
	uint64_t w = atomic_load(hp);
	for (;;) {
		if (!piece_live(b, h, w))
			return refused(b, h, g, s);
		if (atomic_compare_exchange_strong(hp, &w, field_set(w, UP_FIELD_BITS, h->first_field, ST_FREEING)))
			break;
		buddy_slot_count(b, slot, &slot->cas_retries);
	}
	/* Deepest run first: a run's space must not become free while a run
	 * below the SPLIT field after it is still allocated, or a block placed in
	 * that space would seem to go on into our dying remainder. */
	for (unsigned i = n; i-- > 0;)
		if (i != head && pieces[i].fields && !release_run(b, slot, &pieces[i], ST_ALLOC_CONT))
			return IOVA_ERR_UNKNOWN_HANDLE; /* cannot happen: the runs are ours since FREEING */
	release_run(b, slot, h, ST_FREEING);
	return IOVA_OK;
}

/**
 * buddy_free() - the strategy's free operation (see iova_strategy_ops).
 *
 * Return: IOVA_OK; IOVA_ERR_DOUBLE_FREE if the allocation's first field is
 * already free; IOVA_ERR_UNKNOWN_HANDLE if the granules are not allocated as
 * one allocation of exactly this size. Either error changes nothing.
 */
iova_status buddy_free(void *state, uint64_t g, uint64_t s, unsigned slot_index)
{
	struct buddy *b = state;
	struct buddy_slot *slot = &b->slots[slot_index];
	if (IOVA_UNLIKELY(!s || g < b->space.first || g >= b->space.end || s > b->space.end - g))
		return IOVA_ERR_UNKNOWN_HANDLE;
	if (IOVA_UNLIKELY(g & ((UINT64_C(1) << iova_log2_ceil(s)) - 1)))
		return IOVA_ERR_UNKNOWN_HANDLE; /* not where a block of this size can start */
	if (s <= 16)
		return buddy_free_small(b, g, s, slot_index);
	if (!(s & (s - 1))) {
		/* A whole power-of-two block: one run at its level, which
		 * release_run() checks as it frees. */
		const unsigned L = buddy_level_of_order(iova_log2_floor(s));
		const struct buddy_level *lv = &b->level[L];
		const uint64_t idx = g >> lv->entry_shift;
		const struct piece p = {L, idx >> lv->fields_log2, (unsigned)(idx & ((1u << lv->fields_log2) - 1)),
					(unsigned)(s >> lv->entry_shift), true, true};
		return release_run(b, slot, &p, ST_ALLOC_START) ? IOVA_OK : buddy_free_refused(b, g, s);
	}
	return free_pieces(b, g, s, slot);
}
