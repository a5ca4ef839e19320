/* SPDX-License-Identifier: MIT */
/*
 * tree.c - laying out, initialising and releasing the buddy's metadata.
 */
#include "buddy.h"
#include "../prim/memory.h"

#include <stdlib.h>
#include <string.h>

static void level_geometry(struct buddy_level *lv, unsigned L)
{
	lv->fb = L ? UP_FIELD_BITS : L0_FIELD_BITS;
	lv->fields_log2 = L ? UP_FIELDS_LOG2 : L0_FIELDS_LOG2;
	lv->entry_shift = L ? 5 + 4 * (L - 1) : 0;
	lv->word_shift = lv->entry_shift + lv->fields_log2;
}

/* Write word j of level L of a fresh domain: fields inside the space FREE,
 * outside NOTHERE, straddling an edge SPLIT (the words below written first).
 * Return: the word's largest free block, for its parent's hint. */
static unsigned build(struct buddy *b, unsigned L, uint64_t j)
{
	const struct buddy_level *lv = &b->level[L];
	uint64_t w = 0;
	for (unsigned e = 0; e < (1u << lv->fields_log2); e++) {
		const uint64_t idx = (j << lv->fields_log2) | e;
		const uint64_t rs = idx << lv->entry_shift, re = rs + (UINT64_C(1) << lv->entry_shift);
		unsigned st = ST_NOTHERE;
		if (rs >= b->space.first && re <= b->space.end) {
			st = ST_FREE;
		} else if (re > b->space.first && rs < b->space.end) { /* only levels >= 1 can straddle */
			atomic_store_explicit(buddy_hint(b, L, idx), (uint8_t)build(b, L - 1, idx), memory_order_relaxed);
			st = ST_SPLIT;
		}
		w = field_set(w, lv->fb, e, st);
	}
	atomic_store_explicit(buddy_word(b, L, j), w, memory_order_relaxed);
	return buddy_word_vmax(b, L, j, w);
}

static void buddy_destroy(void *state)
{
	struct buddy *b = state;
	if (!b)
		return;
	for (unsigned L = 0; L < BUDDY_MAX_LEVELS; L++) {
		iova_release((void *)b->level[L].words, b->level[L].bytes);
		iova_release((void *)b->level[L].hints, b->level[L].hint_bytes);
	}
	free(b->slots);
	free(b);
}

static iova_status buddy_create(const iova_space *space, const char *options, void **state)
{
	if (options && *options)
		return IOVA_ERR_INVALID_ARGUMENT; /* the buddy takes no options */
	struct buddy *b = calloc(1, sizeof *b);
	if (!b)
		return IOVA_ERR_NO_MEMORY;
	b->space = *space;
	const uint64_t granules = space->end - space->first;
	/* The top level's words must hold the largest block as a run of fields. */
	while (5 + 4 * b->top <= iova_log2_floor(granules))
		b->top++;
	for (unsigned L = 0; L <= b->top; L++) {
		struct buddy_level *lv = &b->level[L];
		level_geometry(lv, L);
		lv->first = space->first >> lv->word_shift;
		lv->count = ((space->end - 1) >> lv->word_shift) - lv->first + 1;
		/* Pad the words of small levels to a cache line each (at most 1 MiB). */
		lv->stride_log2 = L && (lv->count << 6) <= (1u << 20) ? 3 : 0;
		lv->bytes = (lv->count << lv->stride_log2) * sizeof(uint64_t);
		lv->words = iova_reserve(lv->bytes);
		if (L) {
			lv->hint_bytes = lv->count << lv->fields_log2;
			lv->hints = iova_reserve(lv->hint_bytes);
		}
		if (!lv->words || (L && !lv->hints)) {
			buddy_destroy(b);
			return IOVA_ERR_NO_MEMORY;
		}
	}
	b->slots = aligned_alloc(_Alignof(struct buddy_slot), IOVA_THREAD_SLOTS * sizeof *b->slots);
	if (!b->slots) {
		buddy_destroy(b);
		return IOVA_ERR_NO_MEMORY;
	}
	memset(b->slots, 0, IOVA_THREAD_SLOTS * sizeof *b->slots);
	/* No position yet: the first search starts at the slot's home
	 * (buddy_slot_home()), which depends on the request's direction. */
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		for (unsigned L = 0; L < BUDDY_MAX_LEVELS; L++)
			atomic_init(&b->slots[s].hint[L], BUDDY_NO_HINT);
		atomic_init(&b->slots[s].l0_word, UINT64_MAX);
	}
	const struct buddy_level *tl = &b->level[b->top];
	for (uint64_t t = tl->first; t < tl->first + tl->count; t++)
		build(b, b->top, t);
	*state = b;
	return IOVA_OK;
}

static uint64_t buddy_metadata_reserved(const void *state)
{
	const struct buddy *b = state;
	uint64_t total = sizeof *b + IOVA_THREAD_SLOTS * sizeof *b->slots;
	for (unsigned L = 0; L <= b->top; L++)
		total += b->level[L].bytes + b->level[L].hint_bytes;
	return total;
}

static uint64_t buddy_metadata_resident(const void *state)
{
	const struct buddy *b = state;
	uint64_t total = sizeof *b + IOVA_THREAD_SLOTS * sizeof *b->slots;
	for (unsigned L = 0; L <= b->top; L++)
		total += iova_resident_bytes((const void *)b->level[L].words, b->level[L].bytes) +
			 iova_resident_bytes((const void *)b->level[L].hints, b->level[L].hint_bytes);
	return total;
}

static void buddy_counters(const void *state, iova_counter_fn fn, void *ctx)
{
	const struct buddy *b = state;
	uint64_t searches = 0, splits = 0, merges = 0, retries = 0;
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		const struct buddy_slot *sl = &b->slots[s];
		searches += atomic_load_explicit(&sl->searches, memory_order_relaxed);
		splits += atomic_load_explicit(&sl->splits, memory_order_relaxed);
		merges += atomic_load_explicit(&sl->merges, memory_order_relaxed);
		retries += atomic_load_explicit(&sl->cas_retries, memory_order_relaxed);
	}
	fn(ctx, "searches", searches, IOVA_COUNTER_TOTAL);
	fn(ctx, "splits", splits, IOVA_COUNTER_TOTAL);
	fn(ctx, "merges", merges, IOVA_COUNTER_TOTAL);
	fn(ctx, "cas_retries", retries, IOVA_COUNTER_TOTAL);
}

const iova_strategy_ops iova_buddy_lf_ops = {
	.name = "buddy-lf",
	.description = "lock-free buddy: packed radix tree of 64-bit words, one CAS per small allocation",
	.caps = IOVA_CAP_ALL,
	.spreads_threads = true, /* each slot starts in its own 1/64 of the space (buddy_slot_home()) */
	.create = buddy_create,
	.destroy = buddy_destroy,
	.alloc = buddy_alloc,
	.free = buddy_free,
	.walk_free = buddy_walk_free,
	.metadata_reserved = buddy_metadata_reserved,
	.metadata_resident = buddy_metadata_resident,
	.counters = buddy_counters,
};
