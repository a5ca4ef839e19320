/* SPDX-License-Identifier: MIT */
/*
 * fast.h - the lock-free buddy's common cases, inline: a block of at most 16
 * granules claimed or freed in one level-0 word with one compare-and-swap.
 *
 * buddy_alloc() and buddy_free() start here, and so does the domain when its
 * strategy is the buddy (dispatch.c): inlining them there saves a call, the
 * argument marshalling and a second thread-slot lookup on the hottest path.
 */
#ifndef IOVA_BUDDY_FAST_H
#define IOVA_BUDDY_FAST_H

#include "buddy.h"

iova_status buddy_free_refused(const struct buddy *b, uint64_t g, uint64_t s);
iova_status buddy_alloc_slow(void *state, const iova_req *req, uint64_t *first_granule);

/*
 * The shape of an allocation of n granules (1..16) at level 0, looked up by
 * n on the hot paths instead of computed: its fields from bit 0 (ALLOC_START,
 * then ALLOC_CONT), both bits of each of those fields, and the fit of its
 * order (l0_fits[ceil(log2(n))]).
 */
struct l0_shape {
	uint64_t pattern, span;
	const struct l0_fit *fit;
} __attribute__((aligned(32))); /* a shift, not a multiply, to index */

#define L0_SPAN(n) ((UINT64_C(1) << (2 * (n))) - 1)
#define L0_SHAPE(n, k) {(UINT64_C(0xAAAAAAAAAAAAAAAA) & L0_SPAN(n)) | ST_ALLOC_START, L0_SPAN(n), &l0_fits[k]}
static const struct l0_shape l0_shapes[17] = {
	{0, 0, &l0_fits[0]}, L0_SHAPE(1, 0),  L0_SHAPE(2, 1),  L0_SHAPE(3, 2),  L0_SHAPE(4, 2),  L0_SHAPE(5, 3),
	L0_SHAPE(6, 3),      L0_SHAPE(7, 3),  L0_SHAPE(8, 3),  L0_SHAPE(9, 4),  L0_SHAPE(10, 4), L0_SHAPE(11, 4),
	L0_SHAPE(12, 4),     L0_SHAPE(13, 4), L0_SHAPE(14, 4), L0_SHAPE(15, 4), L0_SHAPE(16, 4),
};
#undef L0_SHAPE
#undef L0_SPAN

/*
 * The value word value @w takes when the best fitting run allowed by
 * @allowed (l0_fit_high() with @sh's fit) receives @sh's pattern at the
 * preferred end. Return: true, with the new value in *@nw and the run's
 * first bit in *@bit; false if nothing fits.
 */
static inline __attribute__((always_inline)) bool l0_claim_value(uint64_t w, const struct l0_shape *sh,
								 uint64_t allowed, bool top_down, unsigned *bit,
								 uint64_t *nw)
{
	const struct l0_fit *t = sh->fit;
	const uint64_t cand = l0_fit_high(l0_free_low(w), t, allowed);
	if (!cand)
		return false;
	*bit = (top_down ? 63u - (unsigned)__builtin_clzll(cand) : (unsigned)__builtin_ctzll(cand)) - t->top;
	*nw = (w & ~(sh->span << *bit)) | (sh->pattern << *bit);
	return true;
}

/*
 * Claim a block of at most 16 granules in level-0 word j, starting from the
 * value w (a guess when @guessed). One compare-and-swap when it works.
 * @windowed: false when the request takes any place in the domain (then the
 * word's NOTHERE fields already keep the block inside the space, and the
 * alignment is the natural one), so that check folds away.
 */
static inline __attribute__((always_inline)) bool claim_small_in(struct buddy *b, const iova_req *req,
								 struct buddy_slot *slot, uint64_t j, uint64_t w,
								 bool guessed, bool windowed, uint64_t *out)
{
	if (!buddy_has_word(b, 0, j))
		return false; /* also the "no word yet" marker UINT64_MAX */
	const uint64_t ws = j << L0_FIELDS_LOG2;
	const struct l0_shape *sh = &l0_shapes[req->granules];
	const struct l0_fit *t = sh->fit;
	uint64_t allowed = ~UINT64_C(0); /* at the runs' highest bits (l0_fit_high()) */
	if (windowed) {
		if (ws < req->lo || ws + (1u << L0_FIELDS_LOG2) > req->hi)
			return false;
		/* An alignment above the natural one: only the runs starting
		 * where it allows, the first field or none from 32 granules up. */
		allowed = req->align >= 32 ? (uint64_t)!(ws & (req->align - 1)) << t->top
					   : stride_mask[iova_log2_floor(req->align) + 1] << t->top;
	}
	_Atomic uint64_t *wp = buddy_word0(b, j);
	const bool top_down = req->placement == IOVA_PLACE_TOP_DOWN;
	for (;;) {
		unsigned bit;
		uint64_t nw;
		if (!l0_claim_value(w, sh, allowed, top_down, &bit, &nw)) {
			if (!guessed)
				return false;
			guessed = false; /* the guess may predate frees by other threads */
			w = atomic_load_explicit(wp, memory_order_relaxed);
			continue;
		}
		if (atomic_compare_exchange_strong(wp, &w, nw)) {
			atomic_store_explicit(&slot->l0_word, j, memory_order_relaxed);
			atomic_store_explicit(&slot->l0_value, nw, memory_order_relaxed);
			*out = ws + (bit >> 1);
			/* No hint update: the parent's hint may now be too high, which
			 * only costs a later search a look; searches lower it lazily. */
			return true;
		}
		buddy_slot_count(b, slot, &slot->cas_retries);
		guessed = false;
	}
}

/*
 * buddy_alloc_small() - the common case: a block of at most 16 granules in
 * the last level-0 word this thread touched (the value it left there is the
 * expected value: no load at all), else in its hint word. False sends the
 * request to the search. @windowed as for claim_small_in().
 */
static inline __attribute__((always_inline)) bool buddy_alloc_small(struct buddy *b, const iova_req *req,
								    bool windowed, uint64_t *out)
{
	struct buddy_slot *slot = &b->slots[req->slot];
	const uint64_t last = atomic_load_explicit(&slot->l0_word, memory_order_relaxed);
	if (claim_small_in(b, req, slot, last, atomic_load_explicit(&slot->l0_value, memory_order_relaxed), true,
			   windowed, out))
		return true;
	const uint64_t j = atomic_load_explicit(&slot->hint[0], memory_order_relaxed) >> L0_FIELDS_LOG2;
	return j != last && buddy_has_word(b, 0, j) &&
	       claim_small_in(b, req, slot, j, atomic_load_explicit(buddy_word0(b, j), memory_order_relaxed), false,
			      windowed, out);
}

/* A run of @s granules (s <= 16) starting at granule @g, in its level-0 word:
 * the fields it must hold as one allocation, and where the next field is. */
struct l0_run {
	uint64_t want; /* ALLOC_START, then ALLOC_CONT, at the run's place */
	uint64_t span; /* both bits of every field of the run */
	unsigned next; /* the bit of the field after the run (64: none) */
};

static inline struct l0_run l0_run_at(uint64_t g, uint64_t s)
{
	const unsigned bit = (unsigned)(g & 31) * 2;
	const struct l0_shape *sh = &l0_shapes[s];
	return (struct l0_run){sh->pattern << bit, sh->span << bit, bit + 2 * (unsigned)s};
}

/* Whether word value @w holds run @r as one allocation of exactly its size. */
static inline bool l0_run_allocated(uint64_t w, const struct l0_run *r)
{
	return (w & r->span) == r->want && (r->next >= 64 || ((w >> r->next) & 3) != ST_ALLOC_CONT);
}

/*
 * One attempt, no loop, no call, so that the domain's lanes (dispatch.c)
 * keep everything in registers. A failed attempt changes nothing; the caller
 * then takes the general path, which retries, explains a refusal and raises
 * hints.
 */

/**
 * buddy_claim_once() - a block of @granules (1 to 16) anywhere, in the
 * last level-0 word slot @slot_index touched, from the value it left there,
 * with one compare-and-swap.
 * Return: true and the block's first granule in *@out; false if that word
 * has no fitting block by that value, or another thread changed it.
 */
static inline __attribute__((always_inline)) bool buddy_claim_once(struct buddy *b, unsigned slot_index,
								   uint64_t granules, iova_placement placement,
								   uint64_t *out)
{
	struct buddy_slot *slot = &b->slots[slot_index];
	const uint64_t j = atomic_load_explicit(&slot->l0_word, memory_order_relaxed);
	if (!buddy_has_word(b, 0, j))
		return false; /* also the "no word yet" marker UINT64_MAX */
	uint64_t w = atomic_load_explicit(&slot->l0_value, memory_order_relaxed), nw;
	unsigned bit;
	if (!l0_claim_value(w, &l0_shapes[granules], ~UINT64_C(0), placement == IOVA_PLACE_TOP_DOWN, &bit, &nw))
		return false;
	if (!atomic_compare_exchange_strong(buddy_word0(b, j), &w, nw))
		return false;
	atomic_store_explicit(&slot->l0_value, nw, memory_order_relaxed);
	*out = (j << L0_FIELDS_LOG2) + (bit >> 1);
	return true;
}

/* What buddy_free_once() did. */
enum buddy_free_once {
	BUDDY_FREED,          /* done */
	BUDDY_FREED_HINT_LOW, /* freed; the caller owes buddy_sync_up(SYNC_RAISE) */
	BUDDY_REFUSED,        /* not allocated as one allocation of this size: nothing changed */
	BUDDY_RACED,          /* another thread changed the word first: nothing changed, try again */
};

/**
 * buddy_free_once() - block @g of @s granules (one run in one level-0 word:
 * g aligned, s <= 16, the caller checked) made free with one
 * compare-and-swap.
 * Return: BUDDY_REFUSED if the run is not allocated as one allocation of
 * exactly @s granules; BUDDY_RACED if another thread changed the word
 * first; else BUDDY_FREED, or BUDDY_FREED_HINT_LOW with the word's new
 * value in *@after when the parent's hint must be raised
 * (buddy_summary_low(), read after the compare-and-swap as summary.c
 * requires).
 */
static inline __attribute__((always_inline)) enum buddy_free_once
buddy_free_once(struct buddy *b, uint64_t g, uint64_t s, unsigned slot_index, uint64_t *after)
{
	const uint64_t j = g >> L0_FIELDS_LOG2;
	const struct l0_run r = l0_run_at(g, s);
	_Atomic uint64_t *wp = buddy_word0(b, j);
	/* Always the word itself, not the slot's guess as in allocation: frees
	 * come in any order, and whether the block is in the last word touched
	 * would be a branch mispredicted that often; the load costs what the
	 * guess's store-forwarded load does. */
	uint64_t w = atomic_load_explicit(wp, memory_order_relaxed);
	if (!l0_run_allocated(w, &r))
		return BUDDY_REFUSED;
	const uint64_t nw = (w & ~r.span) | (LSB2 & r.span);
	if (!atomic_compare_exchange_strong(wp, &w, nw))
		return BUDDY_RACED; /* the caller counts it: nothing here but the claim */
	struct buddy_slot *slot = &b->slots[slot_index];
	atomic_store_explicit(&slot->l0_word, j, memory_order_relaxed);
	atomic_store_explicit(&slot->l0_value, nw, memory_order_relaxed);
	if (IOVA_UNLIKELY(buddy_summary_low(b, 0, j))) {
		*after = nw;
		return BUDDY_FREED_HINT_LOW;
	}
	return BUDDY_FREED;
}

/* buddy_free_small() - the common case: an allocation of at most 16 granules,
 * one run in one level-0 word (g aligned, s <= 16: the caller checked). Same
 * rules and results as the general path. */
static inline iova_status buddy_free_small(struct buddy *b, uint64_t g, uint64_t s, unsigned slot_index)
{
	uint64_t after;
	for (;;) {
		switch (buddy_free_once(b, g, s, slot_index, &after)) {
		case BUDDY_FREED:
			return IOVA_OK;
		case BUDDY_FREED_HINT_LOW:
			buddy_sync_up(b, 0, g >> L0_FIELDS_LOG2, after, SYNC_RAISE);
			return IOVA_OK;
		case BUDDY_REFUSED:
			return buddy_free_refused(b, g, s);
		case BUDDY_RACED:
			iova_slot_add(&b->slots[slot_index].cas_retries, 1, slot_index);
			break;
		}
	}
}

#endif
