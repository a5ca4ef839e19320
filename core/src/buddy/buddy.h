/* SPDX-License-Identifier: MIT */
/*
 * buddy.h - the lock-free buddy allocator's data structure (see DESIGN.md).
 *
 * The space is a radix tree of packed 64-bit words. Level 0 has one 2-bit
 * field per granule, 32 to a word; every level above has one 4-bit field per
 * word of the level below, 16 to a word. Word j of level L-1 is the child of
 * field j of level L (field j lives in word j >> 4, at position j & 15).
 *
 * Invariants (hold between atomic steps; "owned" means some thread holds the
 * granules while it writes the words below an entry it just claimed):
 *  I1 every granule of the space is exactly one of: covered by one FREE field,
 *     covered by one ALLOC field, or owned by a thread in the middle of a
 *     split or merge;
 *  I2 a field that is not SPLIT_* has a child word of all NOTHERE (zero);
 *  I3 a SPLIT_* field's child word is "live": its fields describe the region;
 *  I4 a block claimed at level L is an aligned run of fields of that level,
 *     the first ALLOC_START or ALLOC_CONT, the rest ALLOC_CONT;
 *  I5 (summaries) every field of levels >= 1 has a hint byte; for a SPLIT
 *     field it is at least 1 + the largest order of a free block in its
 *     region (0: nothing free) whenever no free is in flight. It may be
 *     higher (allocations never lower it; searches do).
 */
#ifndef IOVA_BUDDY_H
#define IOVA_BUDDY_H

#include "../internal.h"
#include "../prim/thread_slot.h"
#include "fields.h"

#define BUDDY_MAX_LEVELS 10 /* 2^38 granules need levels 0..9 */

struct buddy_level {
	_Atomic uint64_t *words; /* words[j - first] is word j of the level */
	_Atomic uint8_t *hints;  /* levels >= 1: one per field, hints[f - (first << fields_log2)] */
	size_t hint_bytes;
	uint64_t first, count;   /* absolute indices of the words that meet the space */
	size_t bytes;            /* size of the reservation behind words */
	unsigned fb;             /* bits per field: 2 at level 0, 4 above */
	unsigned fields_log2;    /* fields per word: 32 at level 0, 16 above */
	unsigned entry_shift;    /* log2 of granules per field */
	unsigned word_shift;     /* log2 of granules per word */
	/* log2 of the words' spacing in 64-bit units: 0 (packed) at the big low
	 * levels, 3 (one cache line per word) at levels with few words, where
	 * threads working in different subtrees would otherwise share a line. */
	unsigned stride_log2;
};

/*
 * Per-thread-slot state. Written only by the slot's owner (relaxed atomics so
 * that the shared overflow slot stays race-free), so touching it costs no
 * read-modify-write and no cache line is shared between threads.
 */
struct buddy_slot {
	/* Granule to start searching at, per level: where the slot last claimed
	 * a block there, or BUDDY_NO_HINT before its first (buddy_slot_home()). */
	_Atomic uint64_t hint[BUDDY_MAX_LEVELS];
	/* The last level-0 word this slot wrote and the value it left there: the
	 * expected value of the next compare-and-swap on that word, which saves
	 * re-reading a line the core has just written with a locked instruction. */
	_Atomic uint64_t l0_word;
	_Atomic uint64_t l0_value;
	/* Events of the slot's threads, for the strategy's counters (tree.c),
	 * added with iova_slot_add() on paths that are slow already or have
	 * just lost a race: the one-word claim and free count nothing. */
	_Atomic uint64_t searches;    /* allocations the one-word claim did not serve */
	_Atomic uint64_t splits;      /* free blocks split to place an allocation */
	_Atomic uint64_t merges;      /* fully free split fields merged back by a search */
	_Atomic uint64_t cas_retries; /* compare-and-swaps that found their word changed */
} __attribute__((aligned(IOVA_WRITE_SPAN)));

/* The counters fit beside the hints: a slot stays one write span. */
_Static_assert(sizeof(struct buddy_slot) == IOVA_WRITE_SPAN, "a buddy slot must stay one write span");

struct buddy {
	iova_space space;
	unsigned top; /* highest level; its (at most two) words have no parent */
	struct buddy_level level[BUDDY_MAX_LEVELS];
	struct buddy_slot *slots; /* IOVA_THREAD_SLOTS of them */
};

/* A slot's hint before the slot has claimed anything at that level: no word
 * has this index, so the fast path's hint word is none. */
#define BUDDY_NO_HINT UINT64_MAX

/*
 * buddy_slot_home() - where slot @slot_index starts searching before it has
 * claimed anything: the edge of its own sixty-fourth of the space that the
 * direction prefers. The sixty-fourths are scattered (slot s gets the
 * (37 s mod 64)-th) so that the first few threads are far apart, and
 * mirrored for top-down, so that one thread allocating top-down starts at the
 * top of the space, as Linux does, and bottom-up at the bottom.
 */
static inline uint64_t buddy_slot_home(const struct buddy *b, unsigned slot_index, bool top_down)
{
	const uint64_t offset = (b->space.end - b->space.first) / 64 * ((slot_index * 37u) % 64u);
	return top_down ? b->space.end - 1 - offset : b->space.first + offset;
}

/* buddy_slot_count() - add one to counter @ctr of slot @s of @b, the caller's. */
static inline void buddy_slot_count(const struct buddy *b, const struct buddy_slot *s, _Atomic uint64_t *ctr)
{
	iova_slot_add(ctr, 1, (unsigned)(s - b->slots));
}

static inline _Atomic uint64_t *buddy_word(const struct buddy *b, unsigned L, uint64_t j)
{
	return &b->level[L].words[(j - b->level[L].first) << b->level[L].stride_log2];
}

/* buddy_word() at level 0, which is always packed: one load less on the hot path. */
static inline _Atomic uint64_t *buddy_word0(const struct buddy *b, uint64_t j)
{
	return &b->level[0].words[j - b->level[0].first];
}

static inline bool buddy_has_word(const struct buddy *b, unsigned L, uint64_t j)
{
	return j - b->level[L].first < b->level[L].count;
}

/* The level whose fields hold blocks of order k, and how many fields a block takes. */
static inline unsigned buddy_level_of_order(unsigned k) { return k < 5 ? 0 : 1 + (k - 5) / 4; }

static inline _Atomic uint8_t *buddy_hint(const struct buddy *b, unsigned L, uint64_t field)
{
	return &b->level[L].hints[field - (b->level[L].first << b->level[L].fields_log2)];
}

/* The hint byte value of a fully free field of level L (1 + its order). */
static inline unsigned buddy_full_hint(const struct buddy *b, unsigned L) { return b->level[L].entry_shift + 1; }

/* Summaries and merging (summary.c). */
enum sync_mode {
	SYNC_RAISE, /* after a free: raise hints to "may be entirely free" */
	SYNC_EXACT, /* after a merge found a hint too high: set it exactly, and so on up */
	SYNC_LOWER, /* after a search found a hint too high: set that one exactly; the
		     * ones above may stay high until a search looks under them */
};
unsigned buddy_up_vmax(const struct buddy *b, unsigned L, uint64_t j, uint64_t w);

/*
 * up_vmax_of() - the end of buddy_up_vmax() for a word of level L: @fullish
 * has the lowest bit of each field whose region is entirely free, @v is
 * 1 + the largest order free under the others. Coalescing is lazy, so a
 * word of fully free fields is one free block of the word's size
 * (@word_shift), and aligned runs of 2, 4, 8 of them are blocks too (@full:
 * buddy_full_hint()).
 */
static inline unsigned up_vmax_of(uint64_t fullish, unsigned v, unsigned full, unsigned word_shift)
{
	if (fullish == LSB4)
		return word_shift + 1;
	for (unsigned k = 0; fullish && k < UP_FIELDS_LOG2; k++) {
		if (full + k > v)
			v = full + k;
		fullish &= (fullish >> (UP_FIELD_BITS << k)) & stride_mask[k + 3];
	}
	return v;
}

/**
 * buddy_word_vmax() - 1 + the largest order of a free block in word j of level
 * L holding @w (0: nothing free); above level 0 it reads the hints of the
 * word's SPLIT fields (buddy_up_vmax()). Level 0, the one every word switch
 * and every raised hint asks about, is answered inline.
 */
static inline unsigned buddy_word_vmax(const struct buddy *b, unsigned L, uint64_t j, uint64_t w)
{
	return L == 0 ? l0_vmax(w) : buddy_up_vmax(b, L, j, w);
}
void buddy_sync_up(struct buddy *b, unsigned L, uint64_t j, uint64_t child_value, enum sync_mode mode);
bool buddy_merge_child(struct buddy *b, unsigned L, uint64_t j, unsigned e);

/*
 * buddy_summary_low() - whether, after a free changed word j of level L,
 * its parent's hint may be too low, so that buddy_summarise() must call
 * buddy_sync_up(). Usually not: one byte load.
 */
static inline bool buddy_summary_low(const struct buddy *b, unsigned L, uint64_t j)
{
	if (L >= b->top)
		return false;
	/* Sequentially consistent, after the caller's compare-and-swap on the
	 * child: see summary.c for why the order matters. Above word_shift the
	 * hint already says "may be entirely free": nothing is higher. */
	return atomic_load(buddy_hint(b, L + 1, j)) <= b->level[L].word_shift;
}

/*
 * buddy_summarise() - after a free changed word j of level L to @after, make
 * sure its parent's hint is not too low. Inline because the common outcome
 * is "high enough already"; the slow case calls buddy_sync_up().
 */
static inline void buddy_summarise(struct buddy *b, unsigned L, uint64_t j, uint64_t after)
{
	if (buddy_summary_low(b, L, j))
		buddy_sync_up(b, L, j, after, SYNC_RAISE);
}

/* For tests (check.c): whether invariants I1 to I5 hold in a tree no thread
 * is changing; if not, the first violation as a sentence in @msg. */
bool buddy_check(const void *state, char *msg, size_t msg_size);

/* Strategy entry points (alloc.c, free.c, walk.c, tree.c). */
iova_status buddy_alloc(void *state, const iova_req *req, uint64_t *first_granule);
iova_status buddy_free(void *state, uint64_t first_granule, uint64_t granules, unsigned slot);
void buddy_walk_free(const void *state, iova_extent_fn fn, void *ctx);

#endif
