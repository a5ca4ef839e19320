/* SPDX-License-Identifier: MIT */
/*
 * test_stress.c - randomized multi-threaded stress of buddy-lf with invariant
 * checks.
 *
 * 2, 4 and 8 threads each make CALLS_PER_THREAD calls of iova_alloc() and
 * iova_free() on one domain (a thread loops until it has made that many,
 * since some of its passes hand blocks over or do nothing; each thread's
 * count is checked at the end): allocations of mixed orders 0..12
 * (non-powers of two mostly, now and then a block of 2^13..2^15 granules),
 * some with windows, alignments, boundaries and top-down placement; frees of
 * random held blocks; and hand-offs of live blocks to other threads through
 * a shared array of slots (atomic exchange), so that blocks are often freed
 * by a thread other than their allocator.
 *
 * Invariants, checked as the threads run:
 *  - shadow map: one atomic owner id per granule, set with an exchange on
 *    allocation (finding anything but 0 means two live blocks overlap) and
 *    cleared with an exchange on free (finding anything but the freeing
 *    block's id means a block was handed out over it);
 *  - payload: a plain, non-atomic word per granule written by the block's
 *    owner after allocating and read back before freeing. The allocator must
 *    order a block's free before its next allocation (release/acquire on its
 *    metadata); if it does not, ThreadSanitizer reports a race here;
 *  - each block lies inside its constraints; IOVA_ERR_UNSATISFIABLE only for
 *    requests that are; every free of a held block succeeds.
 * At the end (single-threaded, so exact): everything freed, the shadow all
 * zero, one free extent covering the domain, free_blocks[] equal to the
 * roots, counters balanced, and each root-sized allocation succeeding.
 *
 * Domains: 2^18 granules (2 threads), 200003 granules at an unaligned base
 * (4 threads), 2^19 granules (8 threads). The seed is printed; argv[1]
 * replays the random choices (not the interleaving); argv[2], if given, runs
 * only the configuration with that many threads.
 */
#include "refmodel.h"
#include "test_tree.h"
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* iova_alloc() and iova_free() calls per thread: at least 10^6 is the
 * requirement. ThreadSanitizer slows this test down about twentyfold; its run makes
 * a tenth of the calls so that it stays well under two minutes on two cores. */
#if TEST_UNDER_TSAN
#define CALLS_PER_THREAD 100000
#else
#define CALLS_PER_THREAD 1000000
#endif
/* A thread whose records have all been handed away and not come back can
 * only wait for hand-offs; this bounds its loop, and the count check at the
 * end reports the shortfall instead of the test hanging. */
#define PASSES_MAX (3 * CALLS_PER_THREAD)

#define HELD_MAX 256    /* blocks one thread holds at most */
#define RECS_PER_THREAD 320
#define XCHG_SLOTS 64

/* One live block. Owned by exactly one thread at a time (or parked in an
 * exchange slot); its id is its index + 1. */
struct rec {
	iova_allocation a;
	uint64_t granules;
};

struct shared {
	iova_domain *d;
	refmodel geometry; /* for the requests' validity only; its map is not used */
	uint64_t first, end, n; /* granules */
	_Atomic uint32_t *shadow; /* [g - first]: id of the block holding granule g, or 0 */
	uint32_t *payload;        /* [g - first]: written by the holder only (not atomic on purpose) */
	struct rec *recs;
	_Atomic uint32_t xchg[XCHG_SLOTS];
	pthread_barrier_t start;
	unsigned threads;
	_Atomic uint64_t allocs, frees, nospace, overlaps;
};

struct worker {
	struct shared *S;
	unsigned index;
	uint64_t seed;
	pthread_t tid;
	uint32_t *held, nheld;
	uint32_t *spare, nspare; /* record ids not in use */
	uint32_t cap;
	uint64_t allocs, frees, nospace, handoffs;
	uint64_t calls; /* of iova_alloc() and iova_free(), failed ones included */
};

/* The tree's invariants (test_tree.h) on the quiescent domain of a run. */
static void check_tree(const iova_domain *d, unsigned threads, const char *when)
{
	char where[96];
	snprintf(where, sizeof where, "%u threads, %s", threads, when);
	test_tree_ok(d, where);
}

static void describe(const iova_request *r, char *buf, size_t len)
{
	snprintf(buf, len, "{size 0x%" PRIx64 " lowest 0x%" PRIx64 " highest 0x%" PRIx64 " boundary 0x%" PRIx64
		 " alignment 0x%" PRIx64 " placement %d}",
		 r->size, r->lowest, r->highest, r->boundary, r->alignment, (int)r->placement);
}

static iova_request random_request(struct shared *S, test_rng *g)
{
	iova_request r = {0};
	unsigned k;
	if (rng_chance(g, 5))
		k = 13 + (unsigned)rng_below(g, 3);
	else if (rng_chance(g, 600))
		k = (unsigned)rng_below(g, 6);
	else
		k = (unsigned)rng_below(g, 13);
	const uint64_t lo = k ? (UINT64_C(1) << (k - 1)) + 1 : 1, hi = UINT64_C(1) << k;
	const uint64_t s = lo + rng_below(g, hi - lo + 1);
	r.size = s * PAGE - (rng_chance(g, 300) ? rng_below(g, PAGE) : 0);
	if (rng_chance(g, 200)) { /* a window a few rounded blocks wide, anywhere */
		const uint64_t span = (UINT64_C(1) << k) * (1 + rng_below(g, 8)) + rng_below(g, 64);
		const uint64_t at = S->first + rng_below(g, S->n);
		r.lowest = at * PAGE;
		r.highest = (at + span) * PAGE - 1;
	}
	if (rng_chance(g, 100))
		r.alignment = PAGE << (k + rng_below(g, 4));
	if (rng_chance(g, 100))
		r.boundary = PAGE << (k + rng_below(g, 8));
	r.cache_type = (iova_cache_type)rng_below(g, 3);
	r.placement = (iova_placement)rng_below(g, 2);
	return r;
}

/* Claim the block's granules in the shadow map and write its payload. */
static void shadow_take(struct shared *S, uint32_t id)
{
	const struct rec *rc = &S->recs[id - 1];
	const uint64_t g0 = rc->a.iova / PAGE - S->first;
	for (uint64_t i = 0; i < rc->granules; i++) {
		/* Relaxed: the shadow must not add ordering of its own, so that any
		 * ordering the allocator forgets shows up on the payload. */
		uint32_t old = atomic_exchange_explicit(&S->shadow[g0 + i], id, memory_order_relaxed);
		if (old) {
			atomic_fetch_add(&S->overlaps, 1);
			CHECK_MSG(false, "granule %" PRIu64 " of block %u [0x%" PRIx64 ", +0x%" PRIx64 ") is also held by block %u",
				  S->first + g0 + i, id, rc->a.iova, rc->a.size, old);
			return;
		}
		S->payload[g0 + i] = id;
	}
}

/* Check the payload, release the shadow, free the block. */
static void release(struct shared *S, uint32_t id)
{
	const struct rec *rc = &S->recs[id - 1];
	const uint64_t g0 = rc->a.iova / PAGE - S->first;
	for (uint64_t i = 0; i < rc->granules; i++) {
		CHECK_MSG(S->payload[g0 + i] == id, "granule %" PRIu64 " of block %u: payload %u", S->first + g0 + i, id,
			  S->payload[g0 + i]);
		uint32_t old = atomic_exchange_explicit(&S->shadow[g0 + i], 0, memory_order_relaxed);
		if (old != id) {
			atomic_fetch_add(&S->overlaps, 1);
			CHECK_MSG(false, "freeing block %u: granule %" PRIu64 " is held by block %u", id, S->first + g0 + i, old);
		}
	}
	iova_status st = iova_free(S->d, rc->a.handle);
	CHECK_MSG(st == IOVA_OK, "freeing block %u [0x%" PRIx64 ", +0x%" PRIx64 "): %s", id, rc->a.iova, rc->a.size,
		  iova_status_name(st));
}

static void do_alloc(struct worker *W, test_rng *g)
{
	struct shared *S = W->S;
	iova_request r = random_request(S, g);
	refmodel_req q;
	const unsigned errs = refmodel_request_errors(&S->geometry, &r, &q);
	const uint32_t id = W->spare[W->nspare - 1];
	struct rec *rc = &S->recs[id - 1];
	iova_allocation a;
	const iova_status st = iova_alloc(S->d, &r, &a);
	W->calls++;
	char desc[200];
	if (errs || !refmodel_satisfiable(&S->geometry, &q)) {
		const iova_status want = errs ? (iova_status)__builtin_ctz(errs) : IOVA_ERR_UNSATISFIABLE;
		if (st != want) {
			describe(&r, desc, sizeof desc);
			CHECK_MSG(false, "request %s: %s, want %s", desc, iova_status_name(st), iova_status_name(want));
		}
		if (st == IOVA_OK) {
			iova_free(S->d, a.handle);
			W->calls++;
		}
		return;
	}
	if (st == IOVA_ERR_NO_SPACE) {
		W->nospace++;
		return;
	}
	if (st != IOVA_OK) {
		describe(&r, desc, sizeof desc);
		CHECK_MSG(false, "request %s: unexpected %s", desc, iova_status_name(st));
		return;
	}
	const uint64_t p = a.iova / PAGE;
	const bool ok = a.iova % PAGE == 0 && p % q.align == 0 && p >= q.lo && p + q.granules <= q.hi &&
			p + (UINT64_C(1) << q.order) <= q.block_hi &&
			a.size == q.granules * PAGE && a.cache_type == r.cache_type && !crosses_boundary(a.iova, a.size, r.boundary);
	if (!ok) {
		describe(&r, desc, sizeof desc);
		CHECK_MSG(false, "request %s: block [0x%" PRIx64 ", +0x%" PRIx64 ") breaks its constraints", desc, a.iova, a.size);
	}
	W->allocs++;
	W->nspare--;
	rc->a = a;
	rc->granules = q.granules;
	shadow_take(S, id);
	W->held[W->nheld++] = id;
}

static void do_free(struct worker *W, test_rng *g)
{
	const uint32_t i = (uint32_t)rng_below(g, W->nheld);
	const uint32_t id = W->held[i];
	W->held[i] = W->held[--W->nheld];
	release(W->S, id);
	W->frees++;
	W->calls++;
	W->spare[W->nspare++] = id;
}

/* Park a held block in a random slot, taking over whatever was parked there;
 * or just take. Acquire-release: the block's record (and payload) written by
 * its previous holder is visible to the next. */
static void do_handoff(struct worker *W, test_rng *g)
{
	struct shared *S = W->S;
	_Atomic uint32_t *slot = &S->xchg[rng_below(g, XCHG_SLOTS)];
	uint32_t give = 0;
	if (W->nheld && rng_chance(g, 700)) {
		const uint32_t i = (uint32_t)rng_below(g, W->nheld);
		give = W->held[i];
		W->held[i] = W->held[--W->nheld];
	}
	const uint32_t got = atomic_exchange_explicit(slot, give, memory_order_acq_rel);
	if (got) {
		W->held[W->nheld++] = got;
		W->handoffs++;
	}
}

static void *worker_main(void *arg)
{
	struct worker *W = arg;
	test_rng g;
	rng_seed(&g, W->seed);
	pthread_barrier_wait(&W->S->start);
	for (unsigned long op = 0; W->calls < CALLS_PER_THREAD && op < PASSES_MAX; op++) {
		const unsigned c = (unsigned)rng_below(&g, 1000);
		/* Hold between a few and HELD_MAX blocks; drift up and down. */
		const unsigned alloc_share = (op / 20000) % 2 ? 650 : 420;
		if (c < 60) {
			if (W->nheld < HELD_MAX - 1)
				do_handoff(W, &g);
		} else if (W->nheld == 0 || (c < alloc_share && W->nheld < HELD_MAX - 1 && W->nspare)) {
			if (W->nspare)
				do_alloc(W, &g);
		} else {
			do_free(W, &g);
		}
		if (check_failure_count() > 20)
			break; /* the first failures tell the story */
	}
	return NULL;
}

static void run(unsigned threads, uint64_t first, uint64_t n, uint64_t seed)
{
	struct shared *S = calloc(1, sizeof *S);
	if (!S)
		abort();
	iova_domain_config cfg = {.base = first * PAGE, .size = n * PAGE};
	CHECK_STATUS(iova_domain_create(&cfg, &S->d), IOVA_OK);
	if (!S->d || !refmodel_init(&S->geometry, &cfg)) {
		CHECK_MSG(false, "cannot set up");
		return;
	}
	S->first = first;
	S->n = n;
	S->end = first + n;
	S->threads = threads;
	S->shadow = calloc(n, sizeof *S->shadow);
	S->payload = calloc(n, sizeof *S->payload);
	S->recs = calloc((size_t)threads * RECS_PER_THREAD, sizeof *S->recs);
	struct worker *W = calloc(threads, sizeof *W);
	if (!S->shadow || !S->payload || !S->recs || !W)
		abort();
	const uint32_t total_recs = threads * RECS_PER_THREAD;
	pthread_barrier_init(&S->start, NULL, threads);
	for (unsigned t = 0; t < threads; t++) {
		W[t].S = S;
		W[t].index = t;
		W[t].seed = seed * 1000003 + t;
		/* Records move between threads with hand-offs: any thread may end up
		 * holding or having spare any of them. */
		W[t].held = malloc(total_recs * sizeof *W[t].held);
		W[t].spare = malloc(total_recs * sizeof *W[t].spare);
		if (!W[t].held || !W[t].spare)
			abort();
		for (uint32_t i = 0; i < RECS_PER_THREAD; i++)
			W[t].spare[W[t].nspare++] = t * RECS_PER_THREAD + i + 1;
	}
	for (unsigned t = 0; t < threads; t++)
		if (pthread_create(&W[t].tid, NULL, worker_main, &W[t])) {
			fprintf(stderr, "pthread_create failed\n");
			abort();
		}
	uint64_t allocs = 0, frees = 0, nospace = 0, handoffs = 0, min_calls = UINT64_MAX;
	for (unsigned t = 0; t < threads; t++) {
		pthread_join(W[t].tid, NULL);
		CHECK_MSG(W[t].calls >= CALLS_PER_THREAD,
			  "%u threads: thread %u made %" PRIu64 " iova_alloc()/iova_free() calls, want at least %lu", threads, t,
			  W[t].calls, (unsigned long)CALLS_PER_THREAD);
		if (W[t].calls < min_calls)
			min_calls = W[t].calls;
		allocs += W[t].allocs;
		frees += W[t].frees;
		nospace += W[t].nospace;
		handoffs += W[t].handoffs;
	}

	/* Quiescent from here: everything is exact. The tree the threads left,
	 * blocks of every thread still in it, must keep every invariant. */
	check_tree(S->d, threads, "after the threads");
	/* Free what is left. */
	for (unsigned t = 0; t < threads; t++)
		while (W[t].nheld) {
			release(S, W[t].held[--W[t].nheld]);
			frees++;
		}
	for (unsigned i = 0; i < XCHG_SLOTS; i++) {
		uint32_t id = atomic_exchange(&S->xchg[i], 0);
		if (id) {
			release(S, id);
			frees++;
		}
	}
	CHECK_EQ(allocs, frees);
	for (uint64_t i = 0; i < n; i++)
		if (atomic_load(&S->shadow[i])) {
			CHECK_MSG(false, "granule %" PRIu64 " still held by block %u", first + i, atomic_load(&S->shadow[i]));
			break;
		}
	check_tree(S->d, threads, "after freeing everything");
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(S->d, &st), IOVA_OK);
	CHECK_EQ(st.allocs, allocs);
	CHECK_EQ(st.frees, frees);
	CHECK_EQ(st.failed_frees, 0);
	CHECK_EQ(st.live_allocations, 0);
	CHECK_EQ(st.requested_bytes, 0);
	CHECK_EQ(st.free_bytes, n * PAGE);
	CHECK_EQ(st.free_extents, 1);
	uint64_t roots[IOVA_MAX_ORDER];
	refmodel_roots(first, first + n, roots);
	for (unsigned k = 0; k < IOVA_MAX_ORDER; k++)
		CHECK_MSG(st.free_blocks[k] == roots[k], "%u threads: free_blocks[%u] = %" PRIu64 ", roots %" PRIu64, threads,
			  k, st.free_blocks[k], roots[k]);
	extent_list l = {0};
	domain_extents(S->d, &l);
	CHECK_MSG(l.n == 1 && l.e[0].iova == first * PAGE && l.e[0].bytes == n * PAGE,
		  "%u threads: %zu free extents after freeing everything", threads, l.n);
	extent_list_free(&l);
	/* Fully coalesced: root-sized requests, largest first, all succeed. */
	iova_allocation *rootblk = calloc(IOVA_MAX_ORDER * 2, sizeof *rootblk);
	size_t nroot = 0;
	for (unsigned k = IOVA_MAX_ORDER; k-- > 0;)
		for (uint64_t i = 0; i < roots[k]; i++) {
			iova_request r = {.size = PAGE << k};
			iova_status s = iova_alloc(S->d, &r, &rootblk[nroot]);
			CHECK_MSG(s == IOVA_OK, "%u threads: root-sized request of 2^%u granules: %s", threads, k,
				  iova_status_name(s));
			if (s == IOVA_OK)
				nroot++;
		}
	CHECK_STATUS(iova_alloc(S->d, &(iova_request){.size = PAGE}, &(iova_allocation){0}), IOVA_ERR_NO_SPACE);
	check_tree(S->d, threads, "with the roots allocated");
	for (size_t i = 0; i < nroot; i++)
		CHECK_STATUS(iova_free(S->d, rootblk[i].handle), IOVA_OK);
	free(rootblk);
	printf("%u threads, %" PRIu64 " granules at %" PRIu64 ": at least %" PRIu64 " alloc/free calls each; %" PRIu64
	       " blocks allocated and freed, %" PRIu64 " no space, %" PRIu64 " hand-offs\n",
	       threads, n, first, min_calls, allocs, nospace, handoffs);
	fflush(stdout);

	pthread_barrier_destroy(&S->start);
	for (unsigned t = 0; t < threads; t++) {
		free(W[t].held);
		free(W[t].spare);
	}
	free(W);
	iova_domain_destroy(S->d);
	refmodel_destroy(&S->geometry);
	free(S->shadow);
	free(S->payload);
	free(S->recs);
	free(S);
}

int main(int argc, char **argv)
{
	const uint64_t seed = test_seed(argc, argv, 31337, "test_stress");
	const unsigned only = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 0; /* argv[2]: one thread count */
	if (!only || only == 2)
		run(2, UINT64_C(1) << 18, UINT64_C(1) << 18, seed);
	if (!only || only == 4)
		run(4, 777, 200003, seed + 1);
	if (!only || only == 8)
		run(8, 0, UINT64_C(1) << 19, seed + 2);
	return check_exit_code();
}
