/* SPDX-License-Identifier: MIT */
/*
 * walk.c - reporting the free space as maximal extents, in address order.
 *
 * Free space is FREE fields at any level; a SPLIT_* field is walked into.
 * Adjacent free fields are joined whatever their level, so a region that is
 * entirely free is reported as one extent even while it is still represented
 * unmerged (the merge happens when a request needs the larger block).
 */
#include "buddy.h"

struct walk {
	const struct buddy *b;
	iova_extent_fn fn;
	void *ctx;
	uint64_t run_start, run_len;
	bool stopped;
};

static void emit(struct walk *wk, uint64_t start, uint64_t len)
{
	if (wk->run_len && wk->run_start + wk->run_len == start) {
		wk->run_len += len;
		return;
	}
	if (wk->run_len && !wk->fn(wk->ctx, wk->run_start, wk->run_len))
		wk->stopped = true;
	wk->run_start = start;
	wk->run_len = len;
}

static void walk_word(struct walk *wk, unsigned L, uint64_t j)
{
	const struct buddy_level *lv = &wk->b->level[L];
	const uint64_t w = atomic_load(buddy_word(wk->b, L, j));
	const unsigned nf = 1u << lv->fields_log2;
	for (unsigned e = 0; e < nf && !wk->stopped; e++) {
		unsigned st = field_get(w, lv->fb, e);
		uint64_t idx = (j << lv->fields_log2) | e;
		if (st == ST_FREE)
			emit(wk, idx << lv->entry_shift, UINT64_C(1) << lv->entry_shift);
		else if (st == ST_SPLIT)
			walk_word(wk, L - 1, idx);
	}
}

void buddy_walk_free(const void *state, iova_extent_fn fn, void *ctx)
{
	const struct buddy *b = state;
	struct walk wk = {.b = b, .fn = fn, .ctx = ctx};
	const struct buddy_level *tl = &b->level[b->top];
	for (uint64_t t = tl->first; t < tl->first + tl->count && !wk.stopped; t++)
		walk_word(&wk, b->top, t);
	if (!wk.stopped && wk.run_len)
		fn(ctx, wk.run_start, wk.run_len);
}
