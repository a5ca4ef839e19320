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
	/* levels >= 1 only: the field's region is managed by its child word */
	ST_SPLIT = 4,       /* child holds some free space */
	ST_SPLIT_FULL = 5,  /* child may be entirely free (a hint; see DESIGN.md) */
	ST_SPLIT_EMPTY = 6, /* child holds no free space */
};

/* A word's class, summarised into its parent's field as one of the split states. */
enum buddy_class { CLS_EMPTY, CLS_SOME, CLS_FULL };

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

/* Lowest bits of fields whose index is a multiple of a (a a power of two). */
static inline uint64_t aligned_fields(unsigned fb, unsigned a)
{
	uint64_t m = 0;
	unsigned n = 64 / fb;
	for (unsigned i = 0; i < n; i += a)
		m |= UINT64_C(1) << (i * fb);
	return m;
}

/* Lowest bits of fields lo..hi inclusive. */
static inline uint64_t field_range(unsigned fb, unsigned lo, unsigned hi)
{
	return fields_span(fb, lo, hi - lo + 1) & lsb_mask(fb);
}

static inline enum buddy_class word_class(uint64_t w, unsigned fb)
{
	if (fb == 2) {
		if (w == LSB2) /* every granule free */
			return CLS_FULL;
		return eq_mask(w, 2, ST_FREE) ? CLS_SOME : CLS_EMPTY;
	}
	uint64_t fullish = eq_mask(w, 4, ST_FREE) | eq_mask(w, 4, ST_SPLIT_FULL);
	if (fullish == LSB4)
		return CLS_FULL;
	return (fullish | eq_mask(w, 4, ST_SPLIT)) ? CLS_SOME : CLS_EMPTY;
}

static inline unsigned split_state_for(enum buddy_class c)
{
	return c == CLS_FULL ? ST_SPLIT_FULL : c == CLS_SOME ? ST_SPLIT : ST_SPLIT_EMPTY;
}

static inline int is_split(unsigned st) { return st >= ST_SPLIT && st <= ST_SPLIT_EMPTY; }

#endif
