/* SPDX-License-Identifier: MIT */
/*
 * test_differential.c - the lock-free buddy against the reference model.
 *
 * Over a million random operations drive a buddy-lf domain through the
 * public API: allocations with random sizes (non-powers of two up to a few
 * thousand granules, sometimes a large part of the domain, sometimes
 * invalid), windows, alignments, boundaries, placements and cache types;
 * frees of live blocks; and bad frees (stale handles, bit-flipped, random
 * and foreign handles). Every outcome is checked against refmodel:
 *
 *  - a malformed request fails with one of the errors it deserves (exactly
 *    that error when it breaks one rule), with *out zeroed;
 *  - a well-formed request fails with IOVA_ERR_UNSATISFIABLE exactly when
 *    no placement exists in the empty domain;
 *  - otherwise it succeeds exactly when the model has a free, aligned rounded
 *    block inside the window, and fails with IOVA_ERR_NO_SPACE exactly when
 *    it has none (single-threaded, so iova.h promises exactness);
 *  - a block is aligned, inside the window, does not cross the boundary, and
 *    its whole rounded block was free (so it overlaps no live block);
 *  - a bad free fails with the right error and changes nothing;
 *  - every few thousand operations and at the end of each phase, the free
 *    extents and iova_domain_stats() equal the model's, counters included.
 *
 * Phases: power-of-two domains of 2^14, 2^16 and 2^18 granules, a domain of
 * 100003 granules at an unaligned base, then one for each other granule the
 * API allows (8, 16, 32 and 64 KiB), at aligned and unaligned bases: 1.15
 * million operations in all. The workload alternates filling and draining
 * epochs so that the space is often full and fragmented. The seed is
 * printed; pass one as argv[1] to replay.
 */
#include "refmodel.h"
#include "test_tree.h"
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_EVERY 4096
#define STALE_RING 512

struct live {
	iova_allocation a;
	uint64_t requested;
};

struct stale {
	iova_handle h;
	uint64_t iova, bytes; /* bytes held */
};

struct phase {
	const char *name;
	uint64_t base, size, granule;
	unsigned long ops;
};

struct run {
	test_rng rng;
	iova_domain *d, *foreign;
	iova_allocation foreign_alloc;
	refmodel m;
	unsigned shift;
	uint64_t granule, first, end, n; /* granules */
	struct live *live;
	size_t nlive, cap;
	struct stale stale[STALE_RING];
	size_t nstale, stale_next;
	uint64_t requested_live;
	uint64_t allocs, frees, failed_allocs, failed_frees;
	/* outcome counts, printed at the end of a phase */
	uint64_t n_ok, n_nospace, n_unsat, n_invalid, n_free, n_stale, n_forged, n_forged_other_status;
	/* Stale frees refused with the other error name (see op_stale_free). */
	uint64_t n_free_block_unknown, n_held_block_double;
	unsigned restarts;
	bool diverged;
	extent_list got, want;
};

static void describe(const iova_request *r, char *buf, size_t len)
{
	snprintf(buf, len,
		 "{size 0x%" PRIx64 " lowest 0x%" PRIx64 " highest 0x%" PRIx64 " boundary 0x%" PRIx64 " alignment 0x%" PRIx64
		 " cache %d placement %d}",
		 r->size, r->lowest, r->highest, r->boundary, r->alignment, (int)r->cache_type, (int)r->placement);
}

/* ---- Random requests. ---- */

static uint64_t random_granules(struct run *R)
{
	test_rng *g = &R->rng;
	unsigned c = (unsigned)rng_below(g, 1000);
	if (c < 25) /* a large part of the domain */
		return R->n / 8 + rng_below(g, R->n - R->n / 8) + 1;
	/* Mostly small: order 0..5 half the time, 0..12 otherwise. */
	unsigned k = (unsigned)(rng_chance(g, 500) ? rng_below(g, 6) : rng_below(g, 13));
	uint64_t lo = k ? (UINT64_C(1) << (k - 1)) + 1 : 1, hi = UINT64_C(1) << k;
	return lo + rng_below(g, hi - lo + 1);
}

static iova_request random_request(struct run *R)
{
	test_rng *g = &R->rng;
	const uint64_t gsz = R->granule;
	iova_request r = {0};
	uint64_t s = random_granules(R);
	r.size = s * gsz - (rng_chance(g, 500) ? rng_below(g, gsz) : 0);
	unsigned c = (unsigned)rng_below(g, 1000);
	if (c < 4)
		r.size = 0;
	else if (c < 10)
		r.size = R->n * gsz + 1 + rng_below(g, 4 * gsz);
	else if (c < 12)
		r.size = UINT64_MAX - rng_below(g, 4);

	if (rng_chance(g, 400)) { /* a window */
		const uint64_t span = rng_chance(g, 500) ? (s << rng_below(g, 4)) + rng_below(g, 3 * s + 2)
							 : rng_below(g, R->n + 1);
		uint64_t lo_g = R->first + rng_below(g, R->n);
		if (rng_chance(g, 50))
			lo_g = R->first > 100 ? R->first - rng_below(g, 100) : 0;
		r.lowest = lo_g * gsz + (rng_chance(g, 125) ? rng_below(g, gsz) : 0);
		r.highest = r.lowest + span * gsz - 1;
		if (rng_chance(g, 125))
			r.highest -= rng_below(g, gsz);
		unsigned w = (unsigned)rng_below(g, 100);
		if (w < 10)
			r.lowest = 0; /* only an upper limit */
		else if (w < 20)
			r.highest = 0; /* only a lower limit */
		else if (w < 23 && r.lowest > 0)
			r.highest = r.lowest - 1 - rng_below(g, r.lowest); /* inverted (or 0: no limit) */
		else if (w < 25)
			r.lowest = (R->end + rng_below(g, 16)) * gsz; /* above the domain */
	}
	if (rng_chance(g, 150)) {
		unsigned top = R->shift + 64 - (unsigned)__builtin_clzll(R->n) + 1;
		r.alignment = UINT64_C(1) << (9 + rng_below(g, top - 9 + 1));
		if (rng_chance(g, 60))
			r.alignment += 1 + rng_below(g, r.alignment - 1);
	}
	if (rng_chance(g, 150)) {
		unsigned k = test_log2_ceil(s) + R->shift;
		unsigned lo = k > 3 ? k - 3 : 0;
		r.boundary = UINT64_C(1) << (lo + rng_below(g, 10));
		if (rng_chance(g, 60))
			r.boundary += 1 + rng_below(g, r.boundary - 1);
	}
	r.cache_type = (iova_cache_type)rng_below(g, 3);
	if (rng_chance(g, 5))
		r.cache_type = rng_chance(g, 500) ? (iova_cache_type)3 : (iova_cache_type)-1;
	r.placement = (iova_placement)rng_below(g, 2);
	if (rng_chance(g, 5))
		r.placement = rng_chance(g, 500) ? (iova_placement)2 : (iova_placement)-7;
	return r;
}

/* ---- Checks against the model. ---- */

static bool zeroed(const iova_allocation *a)
{
	static const iova_allocation zero;
	return !memcmp(a, &zero, sizeof zero);
}

static void check_counters(struct run *R, const iova_stats *st, const char *where)
{
	CHECK_MSG(st->allocs == R->allocs && st->frees == R->frees && st->failed_allocs == R->failed_allocs &&
			  st->failed_frees == R->failed_frees,
		  "%s: counters allocs %" PRIu64 "/%" PRIu64 " frees %" PRIu64 "/%" PRIu64 " failed_allocs %" PRIu64
		  "/%" PRIu64 " failed_frees %" PRIu64 "/%" PRIu64 " (got/want)",
		  where, st->allocs, R->allocs, st->frees, R->frees, st->failed_allocs, R->failed_allocs, st->failed_frees,
		  R->failed_frees);
	CHECK_MSG(st->live_allocations == R->nlive && st->requested_bytes == R->requested_live,
		  "%s: live %" PRIu64 "/%zu requested %" PRIu64 "/%" PRIu64 " (got/want)", where, st->live_allocations,
		  R->nlive, st->requested_bytes, R->requested_live);
}

/* The whole comparison: extents, space statistics, counters, and the
 * tree's own invariants (test_tree.h). */
static bool matches_model(struct run *R, const char *where)
{
	bool tree = test_tree_ok(R->d, where);
	domain_extents(R->d, &R->got);
	extent_list_reset(&R->want);
	refmodel_for_each_extent(&R->m, extent_list_add, &R->want);
	bool ok = extents_equal(&R->got, &R->want, where);
	iova_stats st, want;
	CHECK_STATUS(iova_domain_stats(R->d, &st), IOVA_OK);
	refmodel_stats(&R->m, &want);
	ok = space_stats_equal(&st, &want, where) && ok;
	check_counters(R, &st, where);
	return ok && tree;
}

/* After a bad free: the same free extents as the model, the tree intact. */
static bool extents_match_model(struct run *R, const char *where)
{
	/* The whole tree on every eighth bad free: most of this test's time
	 * otherwise, and a bad free that broke it would break it again. */
	bool tree = (R->n_stale + R->n_forged) % 8 || test_tree_ok(R->d, where);
	domain_extents(R->d, &R->got);
	extent_list_reset(&R->want);
	refmodel_for_each_extent(&R->m, extent_list_add, &R->want);
	return extents_equal(&R->got, &R->want, where) && tree;
}

static void push_live(struct run *R, const iova_allocation *a, uint64_t requested)
{
	if (R->nlive == R->cap) {
		R->cap = R->cap ? 2 * R->cap : 1024;
		R->live = realloc(R->live, R->cap * sizeof *R->live);
		if (!R->live)
			abort();
	}
	R->live[R->nlive++] = (struct live){*a, requested};
	R->requested_live += requested;
}

static void remember_stale(struct run *R, const iova_allocation *a)
{
	R->stale[R->stale_next] = (struct stale){a->handle, a->iova, a->size};
	R->stale_next = (R->stale_next + 1) % STALE_RING;
	if (R->nstale < STALE_RING)
		R->nstale++;
}

static void op_alloc(struct run *R)
{
	iova_request r = random_request(R);
	refmodel_req q;
	const unsigned errs = refmodel_request_errors(&R->m, &r, &q);
	iova_allocation a;
	memset(&a, 0xa5, sizeof a);
	const iova_status st = iova_alloc(R->d, &r, &a);
	char desc[256];
	if (st != IOVA_OK) {
		R->failed_allocs++;
		CHECK_MSG(zeroed(&a), "failed iova_alloc left *out non-zero");
	}
	if (errs) {
		R->n_invalid++;
		bool ok = st != IOVA_OK && (errs & (1u << st)) && (__builtin_popcount(errs) > 1 || errs == 1u << st);
		if (!ok) {
			describe(&r, desc, sizeof desc);
			CHECK_MSG(false, "request %s: got %s, want one of mask 0x%x (%s...)", desc, iova_status_name(st),
				  errs, iova_status_name((iova_status)__builtin_ctz(errs)));
		}
		if (st == IOVA_OK) { /* keep the model in step so later checks stay meaningful */
			R->diverged = true;
		}
		return;
	}
	if (!refmodel_satisfiable(&R->m, &q)) {
		R->n_unsat++;
		if (st != IOVA_ERR_UNSATISFIABLE) {
			describe(&r, desc, sizeof desc);
			CHECK_MSG(false, "request %s (granules %" PRIu64 " align %" PRIu64 " window [%" PRIu64 ", %" PRIu64
					 ")) cannot be placed even in an empty domain: got %s",
				  desc, q.granules, q.align, q.lo, q.hi, iova_status_name(st));
			R->diverged = st == IOVA_OK;
		}
		return;
	}
	uint64_t pos;
	if (st == IOVA_ERR_NO_SPACE) {
		R->n_nospace++;
		if (refmodel_find(&R->m, &q, &pos)) {
			describe(&r, desc, sizeof desc);
			CHECK_MSG(false,
				  "request %s: IOVA_ERR_NO_SPACE, but granules [%" PRIu64 ", +%" PRIu64 ") are free, aligned to %" PRIu64
				  " and inside window [%" PRIu64 ", %" PRIu64 ")",
				  desc, pos, UINT64_C(1) << q.order, q.align, q.lo, q.hi);
		}
		return;
	}
	if (st != IOVA_OK) {
		describe(&r, desc, sizeof desc);
		CHECK_MSG(false, "request %s: unexpected %s", desc, iova_status_name(st));
		return;
	}
	R->n_ok++;
	R->allocs++;
	pos = a.iova >> R->shift;
	const char *why = (a.iova & (R->granule - 1)) ? "address not granule aligned" : refmodel_can_place(&R->m, &q, pos);
	if (!why && a.size != q.granules << R->shift)
		why = "size is not the request rounded to the granule";
	if (!why && a.cache_type != r.cache_type)
		why = "cache type not carried";
	if (!why && crosses_boundary(a.iova, a.size, r.boundary))
		why = "crosses the boundary";
	if (!why && (a.iova < r.lowest || (r.highest && a.iova + a.size - 1 > r.highest)))
		why = "outside [lowest, highest]";
	if (why) {
		describe(&r, desc, sizeof desc);
		CHECK_MSG(false, "request %s got [0x%" PRIx64 ", +0x%" PRIx64 ") cache %d: %s", desc, a.iova, a.size,
			  (int)a.cache_type, why);
		R->diverged = true;
		return;
	}
	refmodel_take(&R->m, &q, pos);
	push_live(R, &a, r.size);
}

static void op_free(struct run *R)
{
	if (!R->nlive)
		return;
	size_t i = rng_below(&R->rng, R->nlive);
	struct live l = R->live[i];
	R->live[i] = R->live[--R->nlive];
	iova_status st = iova_free(R->d, l.a.handle);
	R->n_free++;
	if (st != IOVA_OK) {
		CHECK_MSG(false, "freeing live block [0x%" PRIx64 ", +0x%" PRIx64 "): %s", l.a.iova, l.a.size,
			  iova_status_name(st));
		R->failed_frees++;
		R->diverged = true;
		return;
	}
	R->frees++;
	R->requested_live -= l.requested;
	bool amb;
	CHECK_STATUS(refmodel_free(&R->m, l.a.iova >> R->shift, l.a.size >> R->shift, &amb), IOVA_OK);
	remember_stale(R, &l.a);
}

/* A stale handle: its block was freed; the space may have been reused. */
static void op_stale_free(struct run *R)
{
	if (!R->nstale)
		return;
	const struct stale *s = &R->stale[rng_below(&R->rng, R->nstale)];
	const uint64_t pos = s->iova >> R->shift, granules = s->bytes >> R->shift;
	/* Same address and size live again: indistinguishable from a valid free
	 * (iova.h says so); not a bad free. */
	if (refmodel_live_size(&R->m, pos) == granules)
		return;
	bool ambiguous;
	const iova_status want = refmodel_free(&R->m, pos, granules, &ambiguous);
	const iova_status st = iova_free(R->d, s->h);
	R->n_stale++;
	if (st == IOVA_OK) {
		CHECK_MSG(false, "stale handle [0x%" PRIx64 ", +0x%" PRIx64 ") was freed (model: %s)", s->iova, s->bytes,
			  iova_status_name(want));
		R->frees++;
		R->diverged = true;
		return;
	}
	R->failed_frees++;
	if (ambiguous || st == want) {
		CHECK_MSG(st == IOVA_ERR_DOUBLE_FREE || st == IOVA_ERR_UNKNOWN_HANDLE,
			  "stale handle [0x%" PRIx64 ", +0x%" PRIx64 "): %s", s->iova, s->bytes, iova_status_name(st));
	} else if (want == IOVA_ERR_DOUBLE_FREE && st == IOVA_ERR_UNKNOWN_HANDLE) {
		/* The block is entirely free: iova.h says DOUBLE_FREE. Counted and
		 * reported once per phase (test_api has the minimal reproducer). */
		if (R->n_free_block_unknown++ < 2)
			printf("  stale handle [0x%" PRIx64 ", +0x%" PRIx64 "), block entirely free: %s, want %s\n", s->iova,
			       s->bytes, iova_status_name(st), iova_status_name(want));
	} else if (want == IOVA_ERR_UNKNOWN_HANDLE && st == IOVA_ERR_DOUBLE_FREE) {
		/* The first granule is held by another allocation: UNKNOWN_HANDLE. */
		if (R->n_held_block_double++ < 2)
			printf("  stale handle [0x%" PRIx64 ", +0x%" PRIx64 "), first granule held by another block: %s, want %s\n",
			       s->iova, s->bytes, iova_status_name(st), iova_status_name(want));
	} else {
		CHECK_MSG(false, "stale handle [0x%" PRIx64 ", +0x%" PRIx64 "): %s, want %s", s->iova, s->bytes,
			  iova_status_name(st), iova_status_name(want));
	}
	if (!extents_match_model(R, "after a stale free"))
		R->diverged = true;
}

/* A handle this domain never issued. The tag is 24 bits keyed per domain, so
 * a made-up handle passes it with probability 2^-24; flipping one of the tag
 * bits themselves is always caught. Whatever passes the tag must still be
 * refused (it names no live block), so only the error's name is statistical:
 * run() allows a handful of non-FORGED refusals, expecting none. */
static void op_forged_free(struct run *R)
{
	iova_handle h;
	bool tag_bit = false;
	unsigned kind = (unsigned)rng_below(&R->rng, 4);
	if (kind == 0 && R->nlive) {
		h = R->live[rng_below(&R->rng, R->nlive)].a.handle;
		unsigned bit = (unsigned)rng_below(&R->rng, 128);
		if (bit >= 64 && bit < 64 + R->shift)
			bit += R->shift; /* a flip below the granule would keep the size (test_api flips those) */
		h.opaque[bit / 64] ^= UINT64_C(1) << (bit % 64);
		tag_bit = bit < 12 || bit >= 64 + 52;
	} else if (kind == 1 && R->nlive) {
		/* a live block's address and tag, another granule count: even a
		 * tag collision names no live block */
		h = R->live[rng_below(&R->rng, R->nlive)].a.handle;
		h.opaque[1] += R->granule * (1 + rng_below(&R->rng, 1000));
	} else if (kind == 2) {
		h = R->foreign_alloc.handle;
	} else {
		h.opaque[0] = rng_next(&R->rng);
		h.opaque[1] = rng_next(&R->rng);
	}
	iova_status st = iova_free(R->d, h);
	R->n_forged++;
	if (st == IOVA_OK) {
		CHECK_MSG(false, "forged handle {0x%" PRIx64 ", 0x%" PRIx64 "} was freed", h.opaque[0], h.opaque[1]);
		R->frees++;
		R->diverged = true;
		return;
	}
	R->failed_frees++;
	if (st != IOVA_ERR_FORGED_HANDLE) {
		CHECK_MSG(!tag_bit, "handle with a flipped tag bit: %s, want IOVA_ERR_FORGED_HANDLE", iova_status_name(st));
		R->n_forged_other_status++;
	}
	if (!extents_match_model(R, "after a forged free"))
		R->diverged = true;
}

/* Free everything, then check the space is whole again: one extent, the
 * roots as free blocks, and each root allocatable. */
static void drain_and_check_roots(struct run *R, const char *phase)
{
	while (R->nlive)
		op_free(R);
	char where[128];
	snprintf(where, sizeof where, "%s: all freed", phase);
	matches_model(R, where);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(R->d, &st), IOVA_OK);
	uint64_t roots[IOVA_MAX_ORDER];
	refmodel_roots(R->first, R->end, roots);
	for (unsigned k = 0; k < IOVA_MAX_ORDER; k++)
		CHECK_MSG(st.free_blocks[k] == roots[k], "%s: free_blocks[%u] = %" PRIu64 ", roots %" PRIu64, where, k,
			  st.free_blocks[k], roots[k]);
	CHECK_EQ(st.free_extents, 1);
	/* Root-sized requests, largest first, land exactly on the roots. */
	for (unsigned k = IOVA_MAX_ORDER; k-- > 0;) {
		for (uint64_t i = 0; i < roots[k]; i++) {
			iova_request r = {.size = (UINT64_C(1) << k) * R->granule};
			iova_allocation a;
			iova_status s = iova_alloc(R->d, &r, &a);
			CHECK_MSG(s == IOVA_OK, "%s: root-sized request of 2^%u granules: %s", where, k, iova_status_name(s));
			if (s != IOVA_OK)
				continue;
			uint64_t p = a.iova >> R->shift;
			CHECK_MSG((p & ((UINT64_C(1) << k) - 1)) == 0 && p >= R->first && p + (UINT64_C(1) << k) <= R->end,
				  "%s: root block of order %u at granule %" PRIu64, where, k, p);
			push_live(R, &a, r.size);
			R->allocs++;
			refmodel_req q = {.granules = UINT64_C(1) << k, .order = k, .align = UINT64_C(1) << k,
					  .lo = R->first, .hi = R->end, .block_hi = R->end};
			const char *why = refmodel_can_place(&R->m, &q, p);
			CHECK_MSG(!why, "%s: root block of order %u at granule %" PRIu64 ": %s", where, k, p, why);
			if (!why)
				refmodel_take(&R->m, &q, p);
		}
	}
	iova_request one = {.size = 1};
	iova_allocation a;
	CHECK_STATUS(iova_alloc(R->d, &one, &a), IOVA_ERR_NO_SPACE);
	R->failed_allocs++;
	snprintf(where, sizeof where, "%s: filled with roots", phase);
	matches_model(R, where);
	while (R->nlive)
		op_free(R);
}

/* A fresh domain and model (at the start, and after a divergence: once the
 * two disagree about the state, later comparisons would only repeat it). */
static bool fresh_domain(struct run *R, const struct phase *ph)
{
	if (R->d) {
		iova_domain_destroy(R->d);
		refmodel_destroy(&R->m);
	}
	R->d = NULL;
	R->nlive = R->nstale = R->stale_next = 0;
	R->requested_live = R->allocs = R->frees = R->failed_allocs = R->failed_frees = 0;
	R->diverged = false;
	iova_domain_config cfg = {.base = ph->base, .size = ph->size, .granule = ph->granule};
	CHECK_STATUS(iova_domain_create(&cfg, &R->d), IOVA_OK);
	if (!R->d || !refmodel_init(&R->m, &cfg)) {
		CHECK_MSG(false, "%s: cannot set up", ph->name);
		return false;
	}
	return true;
}

static void run_phase(const struct phase *ph, uint64_t seed)
{
	struct run *R = calloc(1, sizeof *R);
	if (!R)
		abort();
	rng_seed(&R->rng, seed);
	iova_domain_config fcfg = {.base = ph->base, .size = ph->size, .granule = ph->granule};
	CHECK_STATUS(iova_domain_create(&fcfg, &R->foreign), IOVA_OK);
	if (!R->foreign || !fresh_domain(R, ph))
		return;
	iova_request fr = {.size = 3 * ph->granule};
	CHECK_STATUS(iova_alloc(R->foreign, &fr, &R->foreign_alloc), IOVA_OK);
	R->granule = ph->granule;
	R->shift = (unsigned)__builtin_ctzll(ph->granule);
	R->first = ph->base >> R->shift;
	R->n = ph->size >> R->shift;
	R->end = R->first + R->n;

	bool filling = true;
	unsigned long op;
	for (op = 0; op < ph->ops; op++) {
		if (R->diverged) {
			CHECK_MSG(false, "%s: buddy and model diverged at op %lu; going on with a fresh domain", ph->name, op);
			if (++R->restarts > 50 || !fresh_domain(R, ph))
				break;
		}
		/* Epochs of 3000 ops alternate between filling and draining. */
		if (op % 3000 == 0)
			filling = !filling || R->nlive == 0;
		unsigned c = (unsigned)rng_below(&R->rng, 1000);
		if (c < 30) {
			unsigned bad = (unsigned)rng_below(&R->rng, 3);
			if (bad == 0)
				op_stale_free(R);
			else
				op_forged_free(R);
		} else if (c < (filling ? 720u : 380u)) {
			op_alloc(R);
		} else {
			op_free(R);
		}
		if ((op + 1) % CHECK_EVERY == 0) {
			char where[96];
			snprintf(where, sizeof where, "%s op %lu", ph->name, op + 1);
			if (!matches_model(R, where))
				R->diverged = true;
		}
	}
	if (!R->diverged) {
		char where[96];
		snprintf(where, sizeof where, "%s end", ph->name);
		matches_model(R, where);
		drain_and_check_roots(R, ph->name);
	}
	/* A handful of non-FORGED refusals is the 2^-24 tag collision; more is a bug. */
	CHECK_MSG(R->n_forged_other_status <= 2, "%s: %" PRIu64 " of %" PRIu64 " forged handles got another error",
		  ph->name, R->n_forged_other_status, R->n_forged);
	CHECK_MSG(R->n_free_block_unknown == 0,
		  "%s: %" PRIu64 " stale handles whose block was entirely free got IOVA_ERR_UNKNOWN_HANDLE, not DOUBLE_FREE",
		  ph->name, R->n_free_block_unknown);
	CHECK_MSG(R->n_held_block_double == 0,
		  "%s: %" PRIu64 " stale handles whose first granule another block holds got IOVA_ERR_DOUBLE_FREE, not "
		  "UNKNOWN_HANDLE",
		  ph->name, R->n_held_block_double);
	printf("%s: %lu ops (%u restarts): %" PRIu64 " allocated, %" PRIu64 " no space, %" PRIu64 " unsatisfiable, %" PRIu64
	       " malformed, %" PRIu64 " freed, %" PRIu64 " stale and %" PRIu64 " forged frees refused\n",
	       ph->name, op, R->restarts, R->n_ok, R->n_nospace, R->n_unsat, R->n_invalid, R->n_free, R->n_stale, R->n_forged);
	iova_domain_destroy(R->d);
	iova_domain_destroy(R->foreign);
	refmodel_destroy(&R->m);
	extent_list_free(&R->got);
	extent_list_free(&R->want);
	free(R->live);
	free(R);
}

/* The model's word-at-a-time search against its granule-by-granule one. */
static void model_self_test(uint64_t seed)
{
	test_rng g;
	rng_seed(&g, seed ^ 0x5e1f);
	for (int round = 0; round < 40; round++) {
		const uint64_t base_g = rng_below(&g, 300), n = 1 + rng_below(&g, 1500);
		iova_domain_config cfg = {.base = base_g * PAGE, .size = n * PAGE};
		refmodel m;
		CHECK(refmodel_init(&m, &cfg));
		for (int op = 0; op < 400; op++) {
			refmodel_req q;
			q.granules = 1 + rng_below(&g, rng_chance(&g, 800) ? 8 : 300);
			q.order = test_log2_ceil(q.granules);
			q.align = UINT64_C(1) << (q.order + (rng_chance(&g, 800) ? 0 : rng_below(&g, 8)));
			q.lo = base_g + rng_below(&g, n + 1);
			q.hi = q.lo + rng_below(&g, base_g + n + 1 - q.lo);
			if (rng_chance(&g, 300)) {
				q.lo = base_g;
				q.hi = base_g + n;
			}
			q.block_hi = q.hi + ((UINT64_C(1) << q.order) - q.granules);
			if (q.block_hi > base_g + n)
				q.block_hi = base_g + n;
			q.top_down = rng_chance(&g, 500);
			uint64_t p1 = 0, p2 = 0;
			bool f1 = refmodel_find(&m, &q, &p1), f2 = refmodel_find_naive(&m, &q, &p2);
			CHECK_MSG(f1 == f2 && (!f1 || p1 == p2),
				  "model self-test: find %d@%" PRIu64 ", naive %d@%" PRIu64 " (granules %" PRIu64 " align %" PRIu64
				  " [%" PRIu64 ", %" PRIu64 ") top_down %d)",
				  f1, p1, f2, p2, q.granules, q.align, q.lo, q.hi, q.top_down);
			if (f1 && rng_chance(&g, 700)) {
				CHECK(refmodel_can_place(&m, &q, p1) == NULL);
				refmodel_take(&m, &q, p1);
			} else if (rng_chance(&g, 300)) {
				/* free a random live allocation, if the probe hits one */
				uint64_t p = base_g + rng_below(&g, n), s = refmodel_live_size(&m, p);
				bool amb;
				if (s)
					CHECK_STATUS(refmodel_free(&m, p, s, &amb), IOVA_OK);
			}
		}
		/* Free-granule count and extents agree. */
		extent_list l = {0};
		refmodel_for_each_extent(&m, extent_list_add, &l);
		uint64_t sum = 0, prev_end = 0;
		for (size_t i = 0; i < l.n; i++) {
			CHECK(l.e[i].bytes > 0 && (i == 0 || l.e[i].iova > prev_end));
			for (uint64_t a = l.e[i].iova; a < l.e[i].iova + l.e[i].bytes; a += PAGE)
				CHECK(refmodel_is_free(&m, a / PAGE));
			if (l.e[i].iova > 0)
				CHECK(!refmodel_is_free(&m, l.e[i].iova / PAGE - 1));
			CHECK(!refmodel_is_free(&m, (l.e[i].iova + l.e[i].bytes) / PAGE));
			sum += l.e[i].bytes;
			prev_end = l.e[i].iova + l.e[i].bytes;
		}
		CHECK_EQ(sum, refmodel_free_bytes(&m));
		extent_list_free(&l);
		refmodel_destroy(&m);
	}
}

int main(int argc, char **argv)
{
	const uint64_t seed = test_seed(argc, argv, 20240611, "test_differential");
	model_self_test(seed);
	const struct phase phases[] = {
		{"2^14 granules at 0", 0, (UINT64_C(1) << 14) * PAGE, PAGE, 200000},
		{"2^16 granules at 1 GiB", UINT64_C(1) << 30, (UINT64_C(1) << 16) * PAGE, PAGE, 250000},
		{"2^18 granules at 3 GiB", UINT64_C(3) << 30, (UINT64_C(1) << 18) * PAGE, PAGE, 170000},
		{"100003 granules at granule 12345", 12345 * PAGE, 100003 * PAGE, PAGE, 190000},
		/* Every granule size converts bytes to granules with its own shift
		 * (sizes, windows, alignments, boundaries, handles, statistics): one
		 * phase each. Fewer operations than above, which pays for them. */
		{"8 KiB granules, 65537 at granule 3", 3 * UINT64_C(8192), 65537 * UINT64_C(8192), 8192, 80000},
		{"16 KiB granules, 50000 at 1 TiB + 5 granules", (UINT64_C(1) << 40) + 5 * 16384, 50000 * UINT64_C(16384),
		 16384, 100000},
		{"32 KiB granules, 2^15 at 64 GiB", UINT64_C(1) << 36, (UINT64_C(1) << 15) * UINT64_C(32768), 32768, 80000},
		{"64 KiB granules, 40009 at 2^48 + 7 granules", (UINT64_C(1) << 48) + 7 * UINT64_C(65536),
		 40009 * UINT64_C(65536), 65536, 80000},
	};
	for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++)
		run_phase(&phases[i], seed + i);
	return check_exit_code();
}
