/* SPDX-License-Identifier: MIT */
/*
 * check.c - buddy_check(): the invariants of buddy.h verified on a tree
 * nobody is changing, for tests (the statistics and the free-extent walk
 * would not notice a lost granule or a stale hint).
 *
 * The tree is read in address order as a sequence of extents - FREE fields,
 * ALLOC_START and ALLOC_CONT fields, at whatever level - which must cover the
 * space exactly (I1); ALLOC_CONT must continue an allocation, and every
 * allocation must start aligned to its size rounded up to a power of two
 * (I4); a field that is not SPLIT must have an all-NOTHERE child word (I2), a
 * SPLIT one a child word (I3); every hint must be at least the true largest
 * free block under its field (I5), computed here from the words alone.
 */
#include "buddy.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

struct check {
	const struct buddy *b;
	char *msg;
	size_t msg_size;
	bool ok;
	uint64_t next;        /* first granule of the space not yet covered */
	bool in_alloc;        /* the last extent was allocated */
	uint64_t alloc_start; /* the allocation it belongs to */
};

static void fail(struct check *c, const char *fmt, ...)
{
	if (!c->ok)
		return; /* the first problem is the one to report */
	c->ok = false;
	va_list ap;
	va_start(ap, fmt);
	if (c->msg && c->msg_size)
		vsnprintf(c->msg, c->msg_size, fmt, ap);
	va_end(ap);
}

/* The allocation that ended at c->next: aligned to its rounded size? */
static void end_alloc(struct check *c)
{
	if (!c->in_alloc)
		return;
	c->in_alloc = false;
	const uint64_t len = c->next - c->alloc_start;
	const uint64_t rounded = UINT64_C(1) << iova_log2_ceil(len);
	if (c->alloc_start & (rounded - 1))
		fail(c, "allocation at granule %" PRIu64 " of %" PRIu64 " granules is not aligned to %" PRIu64,
		     c->alloc_start, len, rounded);
}

/* Field @idx of level @L, state @st, is a leaf extent of the tree. */
static void extent(struct check *c, unsigned L, uint64_t idx, unsigned st)
{
	const unsigned shift = c->b->level[L].entry_shift;
	const uint64_t start = idx << shift;
	if (start != c->next) {
		fail(c, "level %u field %" PRIu64 " starts at granule %" PRIu64 ", but granules from %" PRIu64
			" are covered by no field",
		     L, idx, start, c->next);
		return;
	}
	switch (st) {
	case ST_FREE:
		end_alloc(c);
		break;
	case ST_ALLOC_START:
		end_alloc(c);
		c->in_alloc = true;
		c->alloc_start = start;
		break;
	case ST_ALLOC_CONT:
		if (!c->in_alloc)
			fail(c, "level %u field %" PRIu64 " (granule %" PRIu64 ") continues an allocation that never started",
			     L, idx, start);
		break;
	default:
		fail(c, "level %u field %" PRIu64 " (granule %" PRIu64 ") is in state %u inside the space", L, idx, start,
		     st);
	}
	c->next = start + (UINT64_C(1) << shift);
}

/* Word j of level L must not exist or be all NOTHERE (I2). */
static void expect_unused(struct check *c, unsigned L, uint64_t j)
{
	if (buddy_has_word(c->b, L, j) && atomic_load(buddy_word(c->b, L, j)))
		fail(c, "level %u word %" PRIu64 " is not NOTHERE under a field that is not SPLIT", L, j);
}

/* 1 + the largest order of a free block in word j of level L (0: none),
 * from the words below alone, as buddy_word_vmax() would give it if every
 * hint were exact; checks the word and everything under it on the way. */
static unsigned check_word(struct check *c, unsigned L, uint64_t j)
{
	const struct buddy *b = c->b;
	const struct buddy_level *lv = &b->level[L];
	const uint64_t w = atomic_load(buddy_word(b, L, j));
	const unsigned nf = 1u << lv->fields_log2, full = lv->entry_shift + 1;
	uint64_t fullish = 0;
	unsigned v = 0;
	for (unsigned e = 0; e < nf && c->ok; e++) {
		const uint64_t idx = (j << lv->fields_log2) | e;
		const uint64_t fs = idx << lv->entry_shift, fe = fs + (UINT64_C(1) << lv->entry_shift);
		const unsigned st = field_get(w, lv->fb, e);
		if (fe <= b->space.first || fs >= b->space.end) {
			if (st != ST_NOTHERE)
				fail(c, "level %u field %" PRIu64 " lies outside the space but is in state %u", L, idx, st);
			if (L)
				expect_unused(c, L - 1, idx);
			continue;
		}
		const bool partial = fs < b->space.first || fe > b->space.end;
		if (st == ST_SPLIT && L) {
			if (!buddy_has_word(b, L - 1, idx)) {
				fail(c, "level %u field %" PRIu64 " is SPLIT but has no child word", L, idx);
				continue;
			}
			const unsigned truth = check_word(c, L - 1, idx);
			const unsigned hint = atomic_load(buddy_hint(b, L, idx));
			if (hint < truth)
				fail(c, "level %u field %" PRIu64 ": hint %u below the truth %u", L, idx, hint, truth);
			if (truth >= full)
				fullish |= UINT64_C(1) << (e * lv->fb);
			else if (truth > v)
				v = truth;
			continue;
		}
		if (partial) {
			fail(c, "level %u field %" PRIu64 " straddles the end of the space but is in state %u", L, idx, st);
			continue;
		}
		if (L)
			expect_unused(c, L - 1, idx);
		extent(c, L, idx, st);
		if (st == ST_FREE)
			fullish |= UINT64_C(1) << (e * lv->fb);
	}
	/* As buddy_word_vmax(), from the children's true values, not hints. */
	return L == 0 ? l0_vmax(w) : up_vmax_of(fullish, v, full, lv->word_shift);
}

/**
 * buddy_check() - verify invariants I1 to I5 (buddy.h) of @state, a
 * lock-free buddy no thread is changing.
 * Return: true if they hold; otherwise false, with the first violation
 * found, as a sentence, in @msg.
 */
bool buddy_check(const void *state, char *msg, size_t msg_size)
{
	const struct buddy *b = state;
	struct check c = {.b = b, .msg = msg, .msg_size = msg_size, .ok = true, .next = b->space.first};
	if (msg && msg_size)
		msg[0] = 0;
	const struct buddy_level *tl = &b->level[b->top];
	for (uint64_t t = tl->first; t < tl->first + tl->count && c.ok; t++)
		check_word(&c, b->top, t);
	if (c.ok && c.next != b->space.end)
		fail(&c, "granules from %" PRIu64 " to the end of the space (%" PRIu64 ") are covered by no field", c.next,
		     b->space.end);
	end_alloc(&c);
	return c.ok;
}
