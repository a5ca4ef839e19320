/* SPDX-License-Identifier: MIT */
/*
 * fields.h - the packed states of the lock-free buddy and SWAR helpers.
 *
 * A metadata word is 64 bits holding equal fields: 32 fields of 2 bits at
 * level 0 (one per granule), 16 fields of 4 bits above (one per word of the
 * level below). See DESIGN.md for what each state means.
 */
#ifndef IOVA_BUDDY_FIELDS_H
#define IOVA_BUDDY_FIELDS_H

#include <stdint.h>

enum buddy_state {
	ST_NOTHERE = 0,     /* owned by an ancestor, or outside the space */
	ST_FREE = 1,        /* a free block of this field's size, owned here */
	ST_ALLOC_CONT = 2,  /* allocated, not the first field of its allocation */
	ST_ALLOC_START = 3, /* allocated, first field of its allocation */
	/* levels >= 1 only: the field's region is managed by its child word, and
	 * the field's hint byte bounds the largest free block below (DESIGN.md) */
	ST_SPLIT = 4,
	/* levels >= 1 only: the first field of an allocation of several runs
	 * whose free is under way (the others are being released) */
	ST_FREEING = 5,
};

#define L0_FIELD_BITS 2u
#define L0_FIELDS_LOG2 5u
#define UP_FIELD_BITS 4u
#define UP_FIELDS_LOG2 4u

#define LSB2 UINT64_C(0x5555555555555555)
#define LSB4 UINT64_C(0x1111111111111111)

static inline uint64_t lsb_mask(unsigned fb) { return fb == 2 ? LSB2 : LSB4; }
static inline uint64_t rep(unsigned fb, unsigned code) { return lsb_mask(fb) * code; }

/* Bit at the lowest bit of every field equal to @code. */
static inline uint64_t eq_mask(uint64_t w, unsigned fb, unsigned code)
{
	uint64_t x = w ^ rep(fb, code);
	if (fb == 2)
		return ~(x | x >> 1) & LSB2;
	return ~(x | x >> 1 | x >> 2 | x >> 3) & LSB4;
}

/* Index of the field holding bit @bit (fb is 2 or 4: no division). */
static inline unsigned field_of_bit(unsigned bit, unsigned fb) { return bit >> (fb >> 1); }

static inline unsigned field_get(uint64_t w, unsigned fb, unsigned i)
{
	return (unsigned)(w >> (i * fb)) & ((1u << fb) - 1);
}

static inline uint64_t field_set(uint64_t w, unsigned fb, unsigned i, unsigned code)
{
	uint64_t m = ((UINT64_C(1) << fb) - 1) << (i * fb);
	return (w & ~m) | ((uint64_t)code << (i * fb));
}

/* Mask covering fields [first, first+n) entirely. n >= 1, first+n <= 64/fb. */
static inline uint64_t fields_span(unsigned fb, unsigned first, unsigned n)
{
	unsigned bits = n * fb;
	uint64_t m = bits >= 64 ? ~UINT64_C(0) : ((UINT64_C(1) << bits) - 1);
	return m << (first * fb);
}

/* Keep the lowest bit of field p only where fields p..p+m-1 are all set in @g. */
static inline uint64_t runs_of(uint64_t g, unsigned fb, unsigned m)
{
	for (unsigned s = 1; s < m; s <<= 1)
		g &= g >> (s * fb);
	return g;
}

/* Lowest bits of fields lo..hi inclusive. */
static inline uint64_t field_range(unsigned fb, unsigned lo, unsigned hi)
{
	return fields_span(fb, lo, hi - lo + 1) & lsb_mask(fb);
}

/* Lowest bit of every field whose index is a multiple of a power of two,
 * indexed by log2 of the stride in bits (2..64). */
static const uint64_t stride_mask[7] = {
	0, LSB2, LSB4, UINT64_C(0x0101010101010101), UINT64_C(0x0001000100010001),
	UINT64_C(0x0000000100000001), UINT64_C(1),
};

/*
 * best_fit() - of the candidate starts @cand (lowest bits of fields, each the
 * start of an aligned run of m fields), prefer those whose buddy - the other
 * half of the enclosing aligned run of 2m - is not free: leftover halves are
 * used before a larger free block is broken up. @runs is runs_of(free, fb, m)
 * (runs of m free fields starting anywhere), which the caller has anyway.
 * One level of best fit, a few instructions; enough to keep a request from
 * splitting a block when a buddy-less block of its size is free.
 */
static inline uint64_t best_fit(uint64_t cand, uint64_t runs, unsigned fb, unsigned m)
{
	const unsigned half = m * fb; /* bits: at most 32 */
	uint64_t pairs = runs & (runs >> half) & stride_mask[(fb >> 1) + (unsigned)__builtin_ctz(2 * m)];
	uint64_t good = cand & ~(pairs | (pairs << half));
	return good | (cand & -(uint64_t)!good); /* good ? good : cand, without a branch */
}

/*
 * The best fit in a level-0 word by carries, for the buddy lane: no loop,
 * no branch, no array in memory, and every mask from one table line.
 *
 * An aligned group of 2 << k bits (2^k fields) of x = free | 0xAA..AA (a
 * free field reads 11, any other 10) is all ones exactly when 1 added at
 * its lowest bit, with its highest bit cleared first so that no carry
 * leaves the group, carries into that highest bit. So
 * ((x & ~high) + low) & high marks, at their highest bits, the naturally
 * aligned runs of 2^k free fields; with k + 1, the free buddy pairs.
 */
struct l0_fit {
	uint64_t low, high;   /* lowest and highest bits of the aligned groups of order k */
	uint64_t low2, high2; /* the same for order k + 1 */
	uint64_t not_high, not_high2; /* ~high, ~high2: one instruction each less */
	unsigned top;         /* a group's highest bit, counted from its lowest: (2 << k) - 1 */
	unsigned half;        /* bits in a group of order k: 2 << k */
};

#define L0_FIT(low, high, low2, high2, top, half) \
	{low, high, low2, high2, ~(uint64_t)(high), ~(uint64_t)(high2), top, half}
static const struct l0_fit l0_fits[5] = {
	L0_FIT(LSB2, LSB2 << 1, LSB4, LSB4 << 3, 1, 2),
	L0_FIT(LSB4, LSB4 << 3, UINT64_C(0x0101010101010101), UINT64_C(0x0101010101010101) << 7, 3, 4),
	L0_FIT(UINT64_C(0x0101010101010101), UINT64_C(0x0101010101010101) << 7, UINT64_C(0x0001000100010001),
	       UINT64_C(0x0001000100010001) << 15, 7, 8),
	L0_FIT(UINT64_C(0x0001000100010001), UINT64_C(0x0001000100010001) << 15, UINT64_C(0x0000000100000001),
	       UINT64_C(0x0000000100000001) << 31, 15, 16),
	L0_FIT(UINT64_C(0x0000000100000001), UINT64_C(0x0000000100000001) << 31, UINT64_C(1), UINT64_C(1) << 63, 31, 32),
};
#undef L0_FIT

/* A level-0 field is FREE (01) when its low bit is set and its high bit is
 * not: at each field's low bit, whether it is free; the high bits hold
 * anything (l0_fit_high() sets them). Two instructions fewer than
 * eq_mask(), on every claim. */
static inline uint64_t l0_free_low(uint64_t w) { return w & ~(w >> 1); }

/*
 * l0_fit_high() - best_fit() of the naturally aligned runs of 2^k free
 * fields (@t = &l0_fits[k]) in a level-0 word whose free fields are @f
 * (eq_mask(w, 2, ST_FREE), or l0_free_low(w): only the fields' low bits
 * count), of those whose group's highest bit is in @allowed (all ones, or a
 * coarser alignment): those whose buddy is not free if any, else all; each
 * marked at its group's highest bit (subtract t->top for the first).
 */
static inline uint64_t l0_fit_high(uint64_t f, const struct l0_fit *t, uint64_t allowed)
{
	const uint64_t x = f | UINT64_C(0xAAAAAAAAAAAAAAAA);
	const uint64_t cand = ((x & t->not_high) + t->low) & t->high & allowed;
	const uint64_t pairs = ((x & t->not_high2) + t->low2) & t->high2; /* at the upper half's highest bit */
	const uint64_t good = cand & ~(pairs | pairs >> t->half);
	return good | (cand & -(uint64_t)!good); /* good ? good : cand, without a branch */
}

/*
 * 1 + the largest order of a naturally aligned free block in a level-0 word,
 * 0 if none: the value a parent's hint byte must not be below.
 */
static inline unsigned l0_vmax(uint64_t w)
{
	if (w == LSB2)
		return 6; /* all 32 granules: order 5 */
	uint64_t g = eq_mask(w, L0_FIELD_BITS, ST_FREE);
	if (!g)
		return 0;
	unsigned v = 1;
	for (unsigned k = 1; k <= 4; k++, v++) { /* pairs of aligned order k-1 runs */
		g &= (g >> (1u << k)) & stride_mask[k + 1];
		if (!g)
			break;
	}
	return v;
}

#endif
