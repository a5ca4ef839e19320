/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - finding and claiming a block that meets a request.
 *
 * The search starts in the word the thread last allocated from (its hint),
 * then climbs: at each level up it searches the sibling subtrees of the one
 * it came from, nearest first. Within a word it prefers subtrees already in
 * use, then subtrees that are entirely free, and splits a free field last, so
 * that allocations pack together and large free blocks survive. Constraints
 * (window, alignment) prune the search; a block is claimed only where it
 * meets them, never allocated first and checked afterwards.
 */
#include "fast.h"

enum claim_result { CLAIM_NONE, CLAIM_DONE, CLAIM_RETRY };

/* One allocation in progress. */
struct claim {
	unsigned level;     /* level whose fields hold the block */
	unsigned order;     /* log2 of the rounded block in granules */
	unsigned m;         /* fields the block spans at that level */
	uint64_t bsize;     /* 2^order granules: the rounded block */
	uint64_t size;      /* granules kept; the rest of the block stays free */
	uint64_t align;     /* granules, a power of two >= bsize */
	uint64_t lo, hi;    /* the block must lie inside [lo, hi) */
	uint64_t hint;      /* granule the thread would like to be near */
	bool top_down;
	bool spread;        /* several threads: open the thread's own region first */
	bool word_seen;     /* the fast path has just found no room in the hint word */
	struct buddy_slot *slot;
	uint64_t result;
};


/* Lowest bits of the fields of word j at level L where the block may start. */
static uint64_t start_mask(const struct buddy *b, const struct claim *c, unsigned L, uint64_t j)
{
	const struct buddy_level *lv = &b->level[L];
	const uint64_t ws = j << lv->word_shift;
	const uint64_t nf = UINT64_C(1) << lv->fields_log2;
	if (c->hi - c->bsize < ws || c->lo >= ws + (UINT64_C(1) << lv->word_shift))
		return 0;
	uint64_t first = c->lo <= ws ? 0 : (c->lo - ws + (UINT64_C(1) << lv->entry_shift) - 1) >> lv->entry_shift;
	uint64_t last = (c->hi - c->bsize - ws) >> lv->entry_shift;
	if (last >= nf)
		last = nf - 1;
	if (first > last)
		return 0;
	uint64_t amask;
	uint64_t afields = c->align >> lv->entry_shift;
	if (afields >= nf)
		amask = (ws & (c->align - 1)) ? 0 : 1;
	else
		amask = stride_mask[iova_log2_floor(afields * lv->fb)];
	return field_range(lv->fb, (unsigned)first, (unsigned)last) & amask;
}

static unsigned pick(uint64_t cand, unsigned fb, bool top_down)
{
	unsigned bit = top_down ? 63u - (unsigned)__builtin_clzll(cand) : (unsigned)__builtin_ctzll(cand);
	return field_of_bit(bit, fb);
}

/* The fields of a claimed run: the first ALLOC_START (first piece of the
 * allocation) or ALLOC_CONT, then ALLOC_CONT. */
static uint64_t put_run(uint64_t w, unsigned fb, unsigned p, unsigned n, bool first)
{
	if (!n)
		return w;
	uint64_t span = fields_span(fb, p, n);
	w = (w & ~span) | (rep(fb, ST_ALLOC_CONT) & span);
	return first ? field_set(w, fb, p, ST_ALLOC_START) : w;
}

/*
 * Write the part of an allocation that does not fill whole fields at level
 * L+1: @rem granules at the start of word j of level L, a word this thread
 * owns (its parent field was FREE, now SPLIT, so it held all NOTHERE).
 * Deeper remainders are written first, so each hint is set from a complete
 * child. Return: the word's largest free block, for its parent's hint.
 */
static unsigned put_remainder(struct buddy *b, struct buddy_slot *slot, unsigned L, uint64_t j, uint64_t rem, bool first)
{
	const struct buddy_level *lv = &b->level[L];
	const unsigned full = (unsigned)(rem >> lv->entry_shift);
	uint64_t w = put_run(rep(lv->fb, ST_FREE), lv->fb, 0, full, first);
	rem &= (UINT64_C(1) << lv->entry_shift) - 1;
	if (rem) {
		const uint64_t child = (j << lv->fields_log2) | full;
		unsigned v = put_remainder(b, slot, L - 1, child, rem, first && full == 0);
		atomic_store_explicit(buddy_hint(b, L, child), (uint8_t)v, memory_order_release);
		w = field_set(w, lv->fb, full, ST_SPLIT);
	}
	/* Release: a searcher that reads this word sees a complete value; the
	 * region was invisible (NOTHERE) until now, so a plain store suffices. */
	atomic_store_explicit(buddy_word(b, L, j), w, memory_order_release);
	if (L == 0) {
		atomic_store_explicit(&slot->l0_word, j, memory_order_relaxed);
		atomic_store_explicit(&slot->l0_value, w, memory_order_relaxed);
	}
	return buddy_word_vmax(b, L, j, w);
}

/* The block's fields at its level: whole fields ALLOC, a partial last field
 * SPLIT (its remainder is written below by put_remainder), the unused tail
 * of the rounded block left FREE. */
static uint64_t claim_pattern(const struct buddy_level *lv, uint64_t w, unsigned p, uint64_t size, unsigned *split_field)
{
	unsigned full = (unsigned)(size >> lv->entry_shift);
	w = put_run(w, lv->fb, p, full, true);
	*split_field = UINT32_MAX;
	if (size & ((UINT64_C(1) << lv->entry_shift) - 1)) {
		*split_field = p + full;
		w = field_set(w, lv->fb, p + full, ST_SPLIT);
	}
	return w;
}

static void claimed(struct buddy *b, struct claim *c, unsigned L, uint64_t j, unsigned p, unsigned split_field)
{
	const struct buddy_level *lv = &b->level[L];
	c->result = (j << lv->word_shift) + ((uint64_t)p << lv->entry_shift);
	if (split_field != UINT32_MAX) {
		const uint64_t child = (j << lv->fields_log2) | split_field;
		unsigned v = put_remainder(b, c->slot, L - 1, child, c->size & ((UINT64_C(1) << lv->entry_shift) - 1),
					   (c->size >> lv->entry_shift) == 0);
		atomic_store_explicit(buddy_hint(b, L, child), (uint8_t)v, memory_order_release);
	}
	atomic_store_explicit(&c->slot->hint[L], c->result, memory_order_relaxed);
}

/* Lowest bits of the SPLIT fields of word j (level L >= 1, value w) whose
 * hint says their region may be entirely free. */
static uint64_t full_split_fields(const struct buddy *b, unsigned L, uint64_t j, uint64_t w)
{
	const unsigned full = buddy_full_hint(b, L);
	_Atomic uint8_t *const hints = buddy_hint(b, L, j << UP_FIELDS_LOG2); /* as in search_word() */
	uint64_t out = 0;
	for (uint64_t split = eq_mask(w, UP_FIELD_BITS, ST_SPLIT); split; split &= split - 1) {
		unsigned bit = (unsigned)__builtin_ctzll(split);
		if (atomic_load(&hints[field_of_bit(bit, UP_FIELD_BITS)]) >= full)
			out |= UINT64_C(1) << bit;
	}
	return out;
}

/*
 * Claim a block inside word j of the block's own level: an aligned run of m
 * FREE fields, or of fields that are FREE or fully free SPLIT ones, merging
 * the latter first. One compare-and-swap claims the run and trims it.
 */
static enum claim_result claim_in_word(struct buddy *b, struct claim *c, uint64_t j)
{
	const unsigned L = c->level;
	const struct buddy_level *lv = &b->level[L];
	if (!buddy_has_word(b, L, j))
		return CLAIM_NONE;
	const uint64_t smask = start_mask(b, c, L, j);
	if (!smask)
		return CLAIM_NONE;
	_Atomic uint64_t *wp = buddy_word(b, L, j);
	bool guessed = false;
	uint64_t w;
	if (L == 0 && atomic_load_explicit(&c->slot->l0_word, memory_order_relaxed) == j) {
		w = atomic_load_explicit(&c->slot->l0_value, memory_order_relaxed);
		guessed = true;
	} else {
		w = atomic_load_explicit(wp, memory_order_relaxed);
	}
	for (;;) {
		const uint64_t f = eq_mask(w, lv->fb, ST_FREE);
		const uint64_t runs = runs_of(f, lv->fb, c->m);
		uint64_t cand = runs & smask;
		if (cand) {
			cand = best_fit(cand, runs, lv->fb, c->m);
			unsigned p = pick(cand, lv->fb, c->top_down), split_field;
			uint64_t nw = claim_pattern(lv, w, p, c->size, &split_field);
			if (atomic_compare_exchange_strong(wp, &w, nw)) {
				if (L == 0) {
					atomic_store_explicit(&c->slot->l0_word, j, memory_order_relaxed);
					atomic_store_explicit(&c->slot->l0_value, nw, memory_order_relaxed);
				}
				claimed(b, c, L, j, p, split_field);
				return CLAIM_DONE;
			}
			buddy_slot_count(b, c->slot, &c->slot->cas_retries);
			guessed = false; /* w now holds the word's current value */
			continue;
		}
		if (guessed) { /* the guess may predate frees by other threads */
			w = atomic_load_explicit(wp, memory_order_relaxed);
			guessed = false;
			continue;
		}
		if (L == 0)
			return CLAIM_NONE;
		const uint64_t full_split = full_split_fields(b, L, j, w);
		const uint64_t full_runs = runs_of(f | full_split, lv->fb, c->m);
		cand = full_runs & smask;
		if (!cand)
			return CLAIM_NONE;
		cand = best_fit(cand, full_runs, lv->fb, c->m);
		/* Each failed merge corrects its hint, so this loop ends. */
		unsigned p = pick(cand, lv->fb, c->top_down);
		uint64_t fullm = full_split & fields_span(lv->fb, p, c->m);
		for (; fullm; fullm &= fullm - 1)
			if (buddy_merge_child(b, L, j, field_of_bit((unsigned)__builtin_ctzll(fullm), lv->fb)))
				buddy_slot_count(b, c->slot, &c->slot->merges);
		w = atomic_load(wp);
	}
}

/* Where, inside the region of field @field of level @lv, the block may
 * start: the aligned position nearest the hint, else the preferred end.
 * False if none fits. */
static bool place_in(const struct claim *c, const struct buddy_level *lv, uint64_t field, uint64_t *pos)
{
	const uint64_t rs = field << lv->entry_shift, re = rs + (UINT64_C(1) << lv->entry_shift);
	uint64_t lo = iova_max(c->lo, rs), hi = iova_min(c->hi, re);
	if (hi < lo || hi - lo < c->bsize)
		return false;
	uint64_t first = iova_round_up(lo, c->align);
	uint64_t last = iova_round_down(hi - c->bsize, c->align);
	if (first > last || first < lo)
		return false;
	if (c->hint >= first && c->hint < last + c->bsize)
		*pos = iova_round_down(c->hint, c->align);
	else
		*pos = c->top_down ? last : first;
	return true;
}

/* Split FREE field e of word j at level L down to the block's level and claim
 * the block at granule pos inside it. */
static enum claim_result split_claim(struct buddy *b, struct claim *c, unsigned L, uint64_t j, unsigned e, uint64_t pos)
{
	_Atomic uint64_t *wp = buddy_word(b, L, j);
	uint64_t w = atomic_load(wp);
	for (;;) {
		if (field_get(w, UP_FIELD_BITS, e) != ST_FREE)
			return CLAIM_RETRY;
		if (atomic_compare_exchange_strong(wp, &w, field_set(w, UP_FIELD_BITS, e, ST_SPLIT)))
			break;
		buddy_slot_count(b, c->slot, &c->slot->cas_retries);
	}
	buddy_slot_count(b, c->slot, &c->slot->splits);
	/* The field's region is now ours (I1); its words below are all NOTHERE.
	 * Write them bottom-up, the block's word first, so that every hint is
	 * computed from a complete child. */
	const struct buddy_level *lv = &b->level[c->level];
	const uint64_t cj = pos >> lv->word_shift;
	unsigned p = (unsigned)((pos >> lv->entry_shift) & ((1u << lv->fields_log2) - 1)), split_field;
	uint64_t nw = claim_pattern(lv, rep(lv->fb, ST_FREE), p, c->size, &split_field);
	atomic_store_explicit(buddy_word(b, c->level, cj), nw, memory_order_release);
	if (c->level == 0) {
		atomic_store_explicit(&c->slot->l0_word, cj, memory_order_relaxed);
		atomic_store_explicit(&c->slot->l0_value, nw, memory_order_relaxed);
	}
	claimed(b, c, c->level, cj, p, split_field);
	unsigned v = buddy_word_vmax(b, c->level, cj, nw);
	for (unsigned M = c->level + 1; M < L; M++) {
		const struct buddy_level *mv = &b->level[M];
		const uint64_t mj = pos >> mv->word_shift;
		const uint64_t child = pos >> mv->entry_shift; /* the field on the path */
		atomic_store_explicit(buddy_hint(b, M, child), (uint8_t)v, memory_order_release);
		uint64_t mw = field_set(rep(mv->fb, ST_FREE), mv->fb, (unsigned)(child & ((1u << mv->fields_log2) - 1)), ST_SPLIT);
		atomic_store_explicit(buddy_word(b, M, mj), mw, memory_order_release);
		v = buddy_word_vmax(b, M, mj, mw);
	}
	atomic_store_explicit(buddy_hint(b, L, (j << UP_FIELDS_LOG2) | e), (uint8_t)v, memory_order_release);
	return CLAIM_DONE;
}

/*
 * The order in which a search tries the fields of a word of level L >= 1:
 * from the field holding the hint outwards, the preferred direction first,
 * then the other side nearest first. Fields are sets of field bits (bit 4e
 * for field e, as eq_mask() gives them), so a search visits only the fields
 * that matter instead of walking all sixteen.
 */
struct field_order {
	uint64_t near;  /* the hint's field and those beyond it in the preferred direction */
	bool up;        /* preferred direction: increasing addresses */
};

static struct field_order field_order(const struct buddy *b, const struct claim *c, unsigned L, uint64_t j)
{
	const struct buddy_level *lv = &b->level[L];
	const uint64_t ws = j << lv->word_shift;
	struct field_order o = {.up = !c->top_down};
	if (c->hint < ws || c->hint - ws >= (UINT64_C(1) << lv->word_shift)) {
		o.near = ~UINT64_C(0); /* outside the word: all of it from the preferred end */
	} else {
		const unsigned h = (unsigned)((c->hint - ws) >> lv->entry_shift) * UP_FIELD_BITS;
		/* Fields from h up, and fields up to h (two shifts: h + 4 may be 64). */
		const uint64_t from_h = ~UINT64_C(0) << h, to_h = ~(from_h << UP_FIELD_BITS);
		o.near = o.up ? from_h : to_h;
	}
	return o;
}

/* Take the next field of *@set in order @o: its number, or -1 if none. */
static int next_field(const struct field_order *o, uint64_t *set)
{
	const uint64_t near = *set & o->near, far = *set & ~o->near;
	unsigned bit;
	if (near)
		bit = o->up ? (unsigned)__builtin_ctzll(near) : 63u - (unsigned)__builtin_clzll(near);
	else if (far)
		bit = o->up ? 63u - (unsigned)__builtin_clzll(far) : (unsigned)__builtin_ctzll(far);
	else
		return -1;
	*set &= ~(UINT64_C(1) << bit);
	return (int)(bit / UP_FIELD_BITS);
}

static enum claim_result search_word(struct buddy *b, struct claim *c, unsigned L, uint64_t j, int excluded);

/* Lower the parent hint of word j of level L if the word holds less than it
 * says (a root word has no parent hint). */
static void correct_hint(struct buddy *b, unsigned L, uint64_t j)
{
	if (L >= b->top)
		return;
	uint64_t w = atomic_load(buddy_word(b, L, j));
	if (buddy_word_vmax(b, L, j, w) < atomic_load(buddy_hint(b, L + 1, j)))
		buddy_sync_up(b, L, j, w, SYNC_LOWER);
}

/*
 * Search the live child word j of level L. A child whose parent hint turns
 * out too high gets it lowered here, so later searches skip it: allocations
 * themselves never update hints, which keeps them at one compare-and-swap.
 */

static enum claim_result descend(struct buddy *b, struct claim *c, unsigned L, uint64_t j)
{
	enum claim_result r = L == c->level ? claim_in_word(b, c, j) : search_word(b, c, L, j, -1);
	if (r != CLAIM_DONE)
		correct_hint(b, L, j);
	return r;
}

/* Depth-first search of the subtree under word j of level L (> c->level). */
static enum claim_result search_word(struct buddy *b, struct claim *c, unsigned L, uint64_t j, int excluded)
{
	if (!buddy_has_word(b, L, j))
		return CLAIM_NONE;
	const struct buddy_level *lv = &b->level[L];
	const struct field_order order = field_order(b, c, L, j);
	const unsigned need = c->order + 1, full = buddy_full_hint(b, L);
	const uint64_t first_field = j << lv->fields_log2;
	/* The word's hints, addressed once: every hint load below is an
	 * atomic one, after which the compiler would reload the level's table. */
	_Atomic uint8_t *const hints = buddy_hint(b, L, first_field);
	const uint64_t others = excluded >= 0 ? ~(UINT64_C(1) << (excluded * UP_FIELD_BITS)) : ~UINT64_C(0);
	for (;;) {
		const uint64_t w = atomic_load(buddy_word(b, L, j));
		uint64_t pos;
		/* Climbing out of a field that is still FREE (nothing below it was
		 * live): that field is the thread's own region. With several threads
		 * about, split it near the hint before moving into regions other
		 * threads may be using; alone, pack into used regions first. */
		if (c->spread && excluded >= 0 && field_get(w, lv->fb, (unsigned)excluded) == ST_FREE) {
			if (place_in(c, lv, first_field | (unsigned)excluded, &pos)) {
				enum claim_result r = split_claim(b, c, L, j, (unsigned)excluded, pos);
				if (r == CLAIM_DONE)
					return r;
				continue;
			}
		}
		/* Partly used subtrees first, then entirely free ones; a subtree whose
		 * hint says it holds no block of this order is skipped. */
		uint64_t partly = 0, entirely = 0;
		for (uint64_t split = eq_mask(w, UP_FIELD_BITS, ST_SPLIT) & others; split; split &= split - 1) {
			const unsigned bit = (unsigned)__builtin_ctzll(split);
			const unsigned h = atomic_load(&hints[bit / UP_FIELD_BITS]);
			if (h >= full)
				entirely |= UINT64_C(1) << bit;
			else if (h >= need)
				partly |= UINT64_C(1) << bit;
		}
		for (int pass = 0; pass < 2; pass++) {
			uint64_t set = pass ? entirely : partly;
			for (int e; (e = next_field(&order, &set)) >= 0;) {
				if (place_in(c, lv, first_field | (unsigned)e, &pos) &&
				    descend(b, c, L - 1, first_field | (unsigned)e) == CLAIM_DONE)
					return CLAIM_DONE;
			}
		}
		enum claim_result r = CLAIM_NONE;
		uint64_t free_fields = eq_mask(w, UP_FIELD_BITS, ST_FREE);
		for (int e; (e = next_field(&order, &free_fields)) >= 0;) {
			if (place_in(c, lv, first_field | (unsigned)e, &pos)) {
				r = split_claim(b, c, L, j, (unsigned)e, pos);
				break;
			}
		}
		if (r != CLAIM_RETRY)
			return r;
	}
}

static bool search(struct buddy *b, struct claim *c)
{
	const unsigned L = c->level;
	const uint64_t j = c->hint >> b->level[L].word_shift;
	/* The thread has usually just filled this word by allocations, which
	 * leave its parent's hint high; correcting it now, once, keeps later
	 * searches from descending into the word to find it full (the climb that
	 * ends a run of filled siblings would visit each of them again). */
	if (c->word_seen)
		correct_hint(b, L, j);
	else if (descend(b, c, L, j) == CLAIM_DONE)
		return true;
	uint64_t child = j;
	for (unsigned P = L + 1; P <= b->top; P++) {
		uint64_t pj = child >> b->level[P].fields_log2;
		int from = (int)(child & ((1u << b->level[P].fields_log2) - 1));
		if (search_word(b, c, P, pj, from) == CLAIM_DONE)
			return true;
		child = pj;
	}
	/* The other root word, if the space straddles two. */
	const struct buddy_level *tl = &b->level[b->top];
	for (uint64_t t = tl->first; t < tl->first + tl->count; t++)
		if (t != child && descend(b, c, b->top, t) == CLAIM_DONE)
			return true;
	return false;
}

/* Everything but the fast path (fast.h): the search from the hint outwards. */
static __attribute__((noinline)) iova_status alloc_search(struct buddy *b, const iova_req *req, struct buddy_slot *slot,
							uint64_t *first_granule)
{
	const uint64_t bsize = UINT64_C(1) << req->order;
	/* The granules held must lie in the window; the unused tail of the
	 * rounded block may stick out of it (it is free again at once) but not
	 * out of the space. */
	const uint64_t hi = iova_min(req->hi + (bsize - req->granules), b->space.end);
	if (iova_round_up(req->lo, req->align) + bsize > hi || req->order >= 5 + 4 * b->top)
		return IOVA_ERR_UNSATISFIABLE;
	struct claim c = {
		.level = buddy_level_of_order(req->order),
		.order = req->order,
		.bsize = bsize,
		.size = req->granules,
		.align = req->align,
		.lo = req->lo,
		.hi = hi,
		.top_down = req->placement == IOVA_PLACE_TOP_DOWN,
		.spread = iova_thread_slots_in_use() > 1,
		.slot = slot,
	};
	c.m = (unsigned)(bsize >> b->level[c.level].entry_shift);
	buddy_slot_count(b, slot, &slot->searches);
	uint64_t hint = atomic_load_explicit(&c.slot->hint[c.level], memory_order_relaxed);
	if (hint == BUDDY_NO_HINT)
		hint = buddy_slot_home(b, (unsigned)(slot - b->slots), c.top_down);
	/* Spread threads over the window too, keeping each one's distance from
	 * the end its direction starts at. */
	if (hint < c.lo || hint >= c.hi)
		hint = c.top_down ? c.hi - 1 - (b->space.end - 1 - hint) % (c.hi - c.lo)
				  : c.lo + (hint - b->space.first) % (c.hi - c.lo);
	c.hint = hint;
	/* buddy_alloc_small() has just looked at the hint word, all of it when
	 * the request takes any place (a window may cut a word in two, which
	 * the fast path leaves to claim_in_word()). */
	c.word_seen = req->order < 5 && req->lo == b->space.first && req->hi == b->space.end &&
		      req->align == bsize && hint >> L0_FIELDS_LOG2 == atomic_load_explicit(&c.slot->l0_word, memory_order_relaxed);
	/* A second pass only matters under concurrency: a block another thread was
	 * splitting or merging during the first pass may be visible now. */
	for (int pass = 0; pass < 2; pass++, c.word_seen = false) {
		if (search(b, &c)) {
			*first_granule = c.result;
			return IOVA_OK;
		}
	}
	return IOVA_ERR_NO_SPACE;
}

/**
 * buddy_alloc() - the strategy's alloc operation (see iova_strategy_ops).
 *
 * The block is 2^order granules at an aligned position inside the window;
 * its first req->granules granules are held, the tail is left free.
 */
iova_status buddy_alloc(void *state, const iova_req *req, uint64_t *first_granule)
{
	struct buddy *b = state;
	if (req->order < 5 && buddy_alloc_small(b, req, true, first_granule))
		return IOVA_OK;
	return alloc_search(b, req, &b->slots[req->slot], first_granule);
}

/** buddy_alloc_slow() - buddy_alloc() for a caller that has already tried
 * buddy_alloc_small() (or knows it does not apply). */
iova_status buddy_alloc_slow(void *state, const iova_req *req, uint64_t *first_granule)
{
	struct buddy *b = state;
	return alloc_search(b, req, &b->slots[req->slot], first_granule);
}
