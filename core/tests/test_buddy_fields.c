/* SPDX-License-Identifier: MIT */
/*
 * test_buddy_fields.c - the lock-free buddy's branch-free SWAR helpers
 * (buddy/fields.h) and iova_log2_ceil() against plain loops over fields, on
 * random words and on every word with few free fields: runs_of() must find
 * every run for every order, best_fit() must return the candidates whose
 * buddy is taken when there are any and all candidates otherwise, and
 * l0_fit_high() (the level-0 claims' carries) must pick what best_fit()
 * picks, at every alignment. The lanes' table of run shapes (buddy/fast.h)
 * must agree with the fields and orders they stand for.
 */
#include "check.h"
#include "testutil.h"
#include "internal.h"
#include "buddy/fast.h"

/* Field i of a level-0 word is free. */
static bool free_at(uint64_t w, unsigned i) { return ((w >> (2 * i)) & 3) == ST_FREE; }

/* Lowest bits of the fields that start a run of m free fields (any start). */
static uint64_t naive_runs(uint64_t w, unsigned m)
{
	uint64_t r = 0;
	for (unsigned i = 0; i + m <= 32; i++) {
		bool all = true;
		for (unsigned k = 0; k < m; k++)
			all &= free_at(w, i + k);
		if (all)
			r |= UINT64_C(1) << (2 * i);
	}
	return r;
}

static void check_word(uint64_t w)
{
	const uint64_t g = eq_mask(w, L0_FIELD_BITS, ST_FREE);
	for (unsigned order = 0; order <= 4; order++) {
		const unsigned m = 1u << order;
		const uint64_t runs = runs_of(g, L0_FIELD_BITS, m);
		/* Exactly the runs that fit inside the word. */
		const uint64_t inside = naive_runs(w, m);
		CHECK_MSG(runs == inside, "word %016llx order %u: runs_of %016llx, want %016llx", (unsigned long long)w,
			  order, (unsigned long long)runs, (unsigned long long)inside);
		/* best_fit over the aligned candidates. */
		const uint64_t cand = inside & stride_mask[order + 1];
		uint64_t lone = 0;
		for (unsigned i = 0; i < 32; i += m)
			if (cand >> (2 * i) & 1) {
				const unsigned buddy = i ^ m;
				if (!(inside >> (2 * buddy) & 1))
					lone |= UINT64_C(1) << (2 * i);
			}
		const uint64_t want = lone ? lone : cand;
		const uint64_t got = best_fit(cand, inside, L0_FIELD_BITS, m);
		CHECK_MSG(got == want, "word %016llx order %u: best_fit %016llx, want %016llx", (unsigned long long)w,
			  order, (unsigned long long)got, (unsigned long long)want);
		/* l0_fit_high() for every alignment from the natural one up to a
		 * whole word (32 fields), at the runs' highest bits. */
		const struct l0_fit *t = &l0_fits[order];
		for (unsigned a = m; a <= 32; a *= 2) {
			const uint64_t amask = a == 32 ? 1 : stride_mask[__builtin_ctz(a) + 1];
			const uint64_t high = l0_fit_high(g, t, amask << t->top);
			const uint64_t expect = best_fit(inside & amask, inside, L0_FIELD_BITS, m);
			CHECK_MSG(!(high & ~t->high) && high >> t->top == expect,
				  "word %016llx order %u align %u: l0_fit_high %016llx (>> %u), want %016llx",
				  (unsigned long long)w, order, a, (unsigned long long)high, t->top,
				  (unsigned long long)expect);
		}
		CHECK_EQ(l0_fit_high(g, t, ~UINT64_C(0)) >> t->top, want);
		/* What the claims pass: the free fields' low bits, junk above. */
		CHECK_EQ(l0_free_low(w) & LSB2, g);
		CHECK_EQ(l0_fit_high(l0_free_low(w), t, ~UINT64_C(0)) >> t->top, want);
	}
}

/* l0_shapes[n]: the fields of n granules, ALLOC_START then ALLOC_CONT, and
 * the fit of order ceil(log2(n)); l0_fits' complements. */
static void check_shapes(void)
{
	for (unsigned k = 0; k <= 4; k++) {
		CHECK_EQ(l0_fits[k].not_high, ~l0_fits[k].high);
		CHECK_EQ(l0_fits[k].not_high2, ~l0_fits[k].high2);
	}
	for (unsigned n = 1; n <= 16; n++) {
		const struct l0_shape *sh = &l0_shapes[n];
		uint64_t pattern = 0, span = 0;
		for (unsigned i = 0; i < n; i++) {
			pattern |= (uint64_t)(i ? ST_ALLOC_CONT : ST_ALLOC_START) << (2 * i);
			span |= UINT64_C(3) << (2 * i);
		}
		CHECK_MSG(sh->pattern == pattern && sh->span == span && sh->fit == &l0_fits[iova_log2_ceil(n)],
			  "l0_shapes[%u]: pattern %016llx span %016llx fit %td", n, (unsigned long long)sh->pattern,
			  (unsigned long long)sh->span, sh->fit - l0_fits);
	}
}

int main(int argc, char **argv)
{
	check_shapes();
	const uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	test_rng rng;
	rng_seed(&rng, seed);
	/* Random mixtures of the four level-0 states. */
	for (int i = 0; i < 200000; i++)
		check_word(rng_next(&rng));
	/* Mostly free words with a few allocated fields, where runs are long. */
	for (int i = 0; i < 200000; i++) {
		uint64_t w = LSB2;
		for (int k = (int)(rng_next(&rng) % 4); k >= 0; k--)
			w = field_set(w, L0_FIELD_BITS, (unsigned)(rng_next(&rng) % 32), (unsigned)(rng_next(&rng) % 4));
		check_word(w);
	}
	/* iova_log2_ceil() at every boundary. */
	CHECK_EQ(iova_log2_ceil(0), 0u);
	CHECK_EQ(iova_log2_ceil(1), 0u);
	for (unsigned k = 1; k < 64; k++) {
		const uint64_t p = UINT64_C(1) << k;
		CHECK_EQ(iova_log2_ceil(p), k);
		CHECK_EQ(iova_log2_ceil(p - 1), k - (p - 1 > (p >> 1) ? 0u : 1u));
		CHECK_EQ(iova_log2_ceil(p + 1), k + 1);
	}
	CHECK_EQ(iova_log2_ceil(UINT64_MAX), 64u);
	return check_exit_code();
}
