/* SPDX-License-Identifier: MIT */
/*
 * summary.c - keeping parent fields' SPLIT / SPLIT_FULL / SPLIT_EMPTY in step
 * with their children, and merging fully free children on demand.
 *
 * All read-modify-writes here are sequentially consistent: the summaries rely
 * on "I changed the child, then read the parent" racing with "I changed the
 * parent, then read the child" - a store-buffering pattern in which at least
 * one side must see the other (on x86 the lock prefix gives this for free).
 */
#include "buddy.h"

static bool summary_acceptable(unsigned st, enum buddy_class cls, bool strict)
{
	if (st == split_state_for(cls))
		return true;
	/* A stale "maybe full" is allowed: allocations do not clear it (that would
	 * cost a second atomic on every allocation); a merge that finds the child
	 * not full clears it in strict mode. */
	return !strict && st == ST_SPLIT_FULL && cls == CLS_SOME;
}

static bool summary_changed(enum buddy_class before, enum buddy_class after)
{
	return before != after && !(before == CLS_FULL && after == CLS_SOME);
}

/**
 * buddy_sync_up() - make field j of level L+1 summarise word j of level L.
 * @child_value: the value the caller last wrote to (or read from) the child.
 * @strict:      also clear a stale SPLIT_FULL (used when a merge failed).
 *
 * The caller has just changed the child's class (or found the parent's
 * summary wrong). Each call rereads the child after changing the parent, so
 * the last of several racing callers leaves the summary right. A change of
 * the parent's own class is carried on up the tree.
 */
void buddy_sync_up(struct buddy *b, unsigned L, uint64_t j, uint64_t child_value, bool strict)
{
	while (L < b->top) {
		const unsigned P = L + 1;
		const uint64_t pj = j >> b->level[P].fields_log2;
		const unsigned e = (unsigned)(j & ((1u << b->level[P].fields_log2) - 1));
		_Atomic uint64_t *pp = buddy_word(b, P, pj);
		_Atomic uint64_t *cp = buddy_word(b, L, j);
		const unsigned cfb = b->level[L].fb;
		bool propagate = false;
		uint64_t pw = atomic_load(pp);
		uint64_t cw = child_value;
		for (;;) {
			enum buddy_class cls = word_class(cw, cfb);
			unsigned st = field_get(pw, UP_FIELD_BITS, e);
			if (!is_split(st))
				return; /* merged or claimed meanwhile: nothing to summarise */
			if (summary_acceptable(st, cls, strict))
				break;
			uint64_t npw = field_set(pw, UP_FIELD_BITS, e, split_state_for(cls));
			if (atomic_compare_exchange_strong(pp, &pw, npw)) {
				if (summary_changed(word_class(pw, UP_FIELD_BITS), word_class(npw, UP_FIELD_BITS)))
					propagate = true;
				pw = npw;
			}
			cw = atomic_load(cp); /* the child may have moved on since cw was read */
		}
		if (!propagate)
			return;
		strict = false;
		L = P;
		j = pj;
		child_value = pw;
	}
}

/**
 * buddy_merge_child() - turn field e of word j at level L (a SPLIT_* field)
 * into a FREE field, if its whole region is free.
 *
 * Merges the child's own SPLIT_FULL fields first, then takes the child word
 * from all-FREE to all-NOTHERE with one compare-and-swap (from then on this
 * thread owns the region, invariant I1) and finally marks the parent FREE.
 * Return: true if the field is now FREE; false if the region was not entirely
 * free, in which case the stale SPLIT_FULL summary has been corrected.
 */
bool buddy_merge_child(struct buddy *b, unsigned L, uint64_t j, unsigned e)
{
	const unsigned C = L - 1;
	const uint64_t c = (j << b->level[L].fields_log2) | e;
	_Atomic uint64_t *cp = buddy_word(b, C, c);
	const unsigned cfb = b->level[C].fb;

	if (C >= 1) {
		uint64_t fullm = eq_mask(atomic_load(cp), cfb, ST_SPLIT_FULL);
		for (; fullm; fullm &= fullm - 1)
			buddy_merge_child(b, C, c, field_of_bit((unsigned)__builtin_ctzll(fullm), cfb));
	}
	uint64_t expect = rep(cfb, ST_FREE);
	if (!atomic_compare_exchange_strong(cp, &expect, 0)) {
		buddy_sync_up(b, C, c, expect, true);
		return false;
	}
	/* The region is ours. Only summary updates can race on the parent field
	 * now (nothing else acts on a SPLIT_* field whose child is all NOTHERE),
	 * so the field stays SPLIT_* until this loop replaces it. */
	_Atomic uint64_t *pp = buddy_word(b, L, j);
	uint64_t pw = atomic_load(pp), npw;
	do {
		npw = field_set(pw, UP_FIELD_BITS, e, ST_FREE);
	} while (!atomic_compare_exchange_weak(pp, &pw, npw));
	if (summary_changed(word_class(pw, UP_FIELD_BITS), word_class(npw, UP_FIELD_BITS)))
		buddy_sync_up(b, L, j, npw, false);
	return true;
}
