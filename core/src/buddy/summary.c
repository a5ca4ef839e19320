/* SPDX-License-Identifier: MIT */
/*
 * summary.c - the hint bytes that bound the largest free block under each
 * SPLIT field, and merging fully free children on demand.
 *
 * A hint may be too high, never too low once the free that added the free
 * space has returned. The work is put on searches, the slow path: allocations
 * never lower a hint (that would cost them a second atomic); a free that finds
 * its parent's hint below the maximum raises it straight to the maximum ("the
 * word may be entirely free") rather than computing the exact value, so the
 * next frees into that word find nothing to do; searches lower the hints they
 * find too high to the exact value, and merges lower the ones that claimed a
 * child was entirely free when it was not.
 *
 * The "never too low" rule rests on a store-buffering pattern: a free writes
 * the child word, then reads the hint; a search writes the hint, then rereads
 * the child. All of these are sequentially consistent, so at least one of the
 * two sees the other's write and the hint ends up high enough (on x86 the
 * lock prefix of the read-modify-writes gives this at no extra cost).
 */
#include "buddy.h"

/**
 * buddy_up_vmax() - buddy_word_vmax() of word j of level L >= 1 holding @w,
 * reading the hints of its SPLIT fields.
 *
 * A word whose fields are all free (FREE, or SPLIT with a full hint) counts
 * as one free block of the word's size: coalescing is lazy, the merge happens
 * when a request needs the block.
 */
unsigned buddy_up_vmax(const struct buddy *b, unsigned L, uint64_t j, uint64_t w)
{
	const struct buddy_level *lv = &b->level[L];
	const unsigned full = buddy_full_hint(b, L);
	/* Addressed once: the compiler reloads the table after each atomic load. */
	_Atomic uint8_t *const hints = buddy_hint(b, L, j << lv->fields_log2);
	uint64_t fullish = eq_mask(w, UP_FIELD_BITS, ST_FREE);
	unsigned v = 0;
	for (uint64_t split = eq_mask(w, UP_FIELD_BITS, ST_SPLIT); split; split &= split - 1) {
		unsigned e = field_of_bit((unsigned)__builtin_ctzll(split), UP_FIELD_BITS);
		unsigned h = atomic_load(&hints[e]);
		if (h >= full)
			fullish |= UINT64_C(1) << (e * UP_FIELD_BITS);
		else if (h > v)
			v = h;
	}
	return up_vmax_of(fullish, v, full, lv->word_shift);
}

/**
 * buddy_sync_up() - bring the hint of field j of level L+1 (the parent of
 * word j of level L) in line with that word, and so on up the tree.
 * @child_value: the value the caller last wrote to (or read from) the child.
 * @mode:        SYNC_RAISE after a free (raise to the maximum); SYNC_EXACT
 *               when a merge found the hint too high; SYNC_LOWER when a
 *               search did (this hint only: a search that fills words one
 *               after another would otherwise recompute every ancestor's
 *               hint, sixteen hint loads a level, for each word it fills).
 *
 * An exact update is followed by a reread of the child, so the last of
 * several racing callers leaves the hint right. A change of a hint changes
 * the parent word's largest block, which is carried on up.
 */
void buddy_sync_up(struct buddy *b, unsigned L, uint64_t j, uint64_t child_value, enum sync_mode mode)
{
	while (L < b->top) {
		const unsigned P = L + 1;
		_Atomic uint8_t *hp = buddy_hint(b, P, j);
		_Atomic uint64_t *cp = buddy_word(b, L, j);
		bool changed = false;
		const unsigned top = b->level[L].word_shift + 1; /* the whole word free */
		unsigned v = mode == SYNC_RAISE ? top : buddy_word_vmax(b, L, j, child_value);
		uint8_t h = atomic_load(hp);
		for (;;) {
			if (mode == SYNC_RAISE ? v <= h : v == h)
				break;
			if (atomic_compare_exchange_strong(hp, &h, (uint8_t)v)) {
				changed = true;
				h = (uint8_t)v;
			}
			if (mode != SYNC_RAISE) /* the child may have moved on since it was read */
				v = buddy_word_vmax(b, L, j, atomic_load(cp));
		}
		if (!changed || mode == SYNC_LOWER)
			return;
		const uint64_t pj = j >> b->level[P].fields_log2;
		child_value = atomic_load(buddy_word(b, P, pj));
		L = P;
		j = pj;
	}
}

/**
 * buddy_merge_child() - turn field e of word j at level L (a SPLIT field
 * whose hint says its region is entirely free) into a FREE field.
 *
 * Merges the child's own fully free SPLIT fields first, then takes the child
 * word from all-FREE to all-NOTHERE with one compare-and-swap (from then on
 * this thread owns the region, invariant I1) and finally marks the parent
 * FREE. Return: true if the field is now FREE; false if the region was not
 * entirely free, in which case the hint has been corrected.
 */
bool buddy_merge_child(struct buddy *b, unsigned L, uint64_t j, unsigned e)
{
	const unsigned C = L - 1;
	const uint64_t c = (j << b->level[L].fields_log2) | e;
	_Atomic uint64_t *cp = buddy_word(b, C, c);
	const unsigned cfb = b->level[C].fb;

	if (C >= 1) {
		const unsigned full = buddy_full_hint(b, C);
		uint64_t split = eq_mask(atomic_load(cp), cfb, ST_SPLIT);
		for (; split; split &= split - 1) {
			unsigned f = field_of_bit((unsigned)__builtin_ctzll(split), cfb);
			if (atomic_load(buddy_hint(b, C, (c << b->level[C].fields_log2) | f)) >= full)
				buddy_merge_child(b, C, c, f);
		}
	}
	uint64_t expect = rep(cfb, ST_FREE);
	if (!atomic_compare_exchange_strong(cp, &expect, 0)) {
		buddy_sync_up(b, C, c, expect, SYNC_EXACT);
		return false;
	}
	/* The region is ours. Only hint updates race on the parent now (nothing
	 * else acts on a SPLIT field whose child is all NOTHERE), so the field
	 * stays SPLIT until this loop replaces it. The parent word's largest free
	 * block does not change: its hint stays right. */
	_Atomic uint64_t *pp = buddy_word(b, L, j);
	uint64_t pw = atomic_load(pp);
	while (!atomic_compare_exchange_weak(pp, &pw, field_set(pw, UP_FIELD_BITS, e, ST_FREE)))
		;
	return true;
}
