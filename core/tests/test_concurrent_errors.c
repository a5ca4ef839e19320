/* SPDX-License-Identifier: MIT */
/*
 * test_concurrent_errors.c - bad frees racing each other and normal traffic.
 *
 * 1. Racing double frees: N threads (2, 4, 8) free the same handle at the
 *    same moment. Exactly one gets IOVA_OK, every other IOVA_ERR_DOUBLE_FREE
 *    (the handle was valid; by the time it lost, its block was free); the
 *    domain is whole afterwards. Shapes cover the single-word fast path
 *    (up to 16 granules) and allocations spread over several tree levels,
 *    where the free checks and releases several runs. (Fails while
 *    free_pieces() answers a loser that validated the first run before the
 *    winner freed it, and a later run after, with bad_free()'s range check -
 *    UNKNOWN_HANDLE while the winner is still mid-way. Under ThreadSanitizer
 *    about one round in ten; in a release build about one in 20,000.)
 * 2. Forged handles amid traffic: worker threads allocate and free (with a
 *    shadow map of owners, as in test_stress) while forger threads free
 *    handles that were never issued: live handles of the workers with one
 *    bit of the tag, of the address or of the size and cache type flipped
 *    (each refused with IOVA_ERR_FORGED_HANDLE, every time: the tag catches
 *    every single-bit change), handles of another domain over the same space
 *    and of one over another space, random values (refused as forged but
 *    for a 2^-24 tag collision); and handles with an authentic tag, made
 *    with the domain's key (handle.h), over contents the domain cannot have
 *    issued - an address outside the space, a size running past its end, an
 *    unknown cache type - which must still be refused as forged, and over
 *    blocks larger than any worker allocates, which name no live block and
 *    must be refused as IOVA_ERR_UNKNOWN_HANDLE or IOVA_ERR_DOUBLE_FREE. No
 *    worker's free fails, nothing overlaps, and at the end the domain is
 *    whole with failed_frees equal to the number of forgeries.
 * 3. A valid free racing the free of the block that held the same address
 *    before: one thread allocates and frees 61-granule blocks (a level-1
 *    field ALLOC_START plus a SPLIT field holding 29 granules below) in a
 *    window, another 32-granule blocks (that level-1 field alone) at the
 *    same address. Every free of a block one holds must succeed. (Found by
 *    test_stress: free_pieces() releases the ALLOC_START run before the
 *    remainder, so the field can be taken again meanwhile, and the new
 *    owner's free then reads the dying remainder as its own continuation -
 *    piece_live()/continues_below() - and is refused as UNKNOWN_HANDLE.)
 */
#include "refmodel.h"
#include "testutil.h"

#include "handle.h" /* handle_make(): authentic tags over impossible contents */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ThreadSanitizer runs about twenty times slower; its rounds are scaled down
 * so that this test stays well under a minute there. */
#if TEST_UNDER_TSAN
#define ROUNDS 150
#define TRAFFIC_OPS 40000
#define PREFIX_RACE_ITERATIONS 100000
#else
#define ROUNDS 6000
#define TRAFFIC_OPS 400000
#define PREFIX_RACE_ITERATIONS 3000000
#endif

#define DOMAIN_FIRST (UINT64_C(1) << 20) /* granule 2^20: 4 GiB */
#define DOMAIN_GRANULES (UINT64_C(1) << 16)

static iova_domain *make_domain(void)
{
	iova_domain_config cfg = {.base = DOMAIN_FIRST * PAGE, .size = DOMAIN_GRANULES * PAGE};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (!d) {
		fprintf(stderr, "cannot create a domain\n");
		exit(1);
	}
	return d;
}

static void check_whole(iova_domain *d, const char *what)
{
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_MSG(st.free_bytes == DOMAIN_GRANULES * PAGE && st.free_extents == 1 && st.live_allocations == 0 &&
			  st.requested_bytes == 0,
		  "%s: not whole: %" PRIu64 " of %" PRIu64 " pages free in %" PRIu64 " extents, %" PRIu64 " live", what,
		  st.free_bytes / PAGE, DOMAIN_GRANULES, st.free_extents, st.live_allocations);
	iova_request all = {.size = DOMAIN_GRANULES * PAGE};
	iova_allocation a;
	iova_status s = iova_alloc(d, &all, &a);
	CHECK_MSG(s == IOVA_OK, "%s: the whole domain cannot be allocated: %s", what, iova_status_name(s));
	if (s == IOVA_OK)
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
}

/* ---- 1. Racing double frees. ---- */

struct race {
	iova_domain *d;
	pthread_barrier_t go, done;
	unsigned threads;
	iova_handle h; /* written by main between barriers */
	_Atomic unsigned count[IOVA_STATUS_COUNT + 1];
	bool stop;
};

static void *racer(void *arg)
{
	struct race *R = arg;
	for (;;) {
		pthread_barrier_wait(&R->go);
		if (R->stop)
			return NULL;
		iova_status st = iova_free(R->d, R->h);
		atomic_fetch_add(&R->count[(unsigned)st < IOVA_STATUS_COUNT ? st : IOVA_STATUS_COUNT], 1);
		pthread_barrier_wait(&R->done);
	}
}

static void racing_double_frees(unsigned threads)
{
	/* Granule counts: the level-0 fast path, then runs on several levels
	 * (32 granules per level-1 field, 512 per level-2 field, 8192 per
	 * level-3 field). */
	static const uint64_t shapes[] = {1, 3, 16, 17, 33, 100, 527, 4095, 4096 + 512 + 33, 9000, 30001};
	const size_t nshapes = sizeof shapes / sizeof shapes[0];
	struct race *R = calloc(1, sizeof *R);
	R->d = make_domain();
	R->threads = threads;
	pthread_barrier_init(&R->go, NULL, threads + 1);
	pthread_barrier_init(&R->done, NULL, threads + 1);
	pthread_t *tid = calloc(threads, sizeof *tid);
	for (unsigned t = 0; t < threads; t++)
		pthread_create(&tid[t], NULL, racer, R);
	test_rng g;
	rng_seed(&g, threads);
	unsigned bad_rounds = 0;
	for (unsigned round = 0; round < ROUNDS; round++) {
		const uint64_t s = shapes[round % nshapes];
		/* Another live block beside it, so that the race is not always on a
		 * word of its own. */
		iova_allocation a, neighbour;
		iova_request r = {.size = s * PAGE - rng_below(&g, PAGE), .placement = (iova_placement)(round & 1),
				  .cache_type = (iova_cache_type)(round % 3)};
		CHECK_STATUS(iova_alloc(R->d, &r, &a), IOVA_OK);
		iova_request nr = {.size = (1 + rng_below(&g, 40)) * PAGE};
		CHECK_STATUS(iova_alloc(R->d, &nr, &neighbour), IOVA_OK);
		for (unsigned i = 0; i <= IOVA_STATUS_COUNT; i++)
			atomic_store(&R->count[i], 0);
		R->h = a.handle;
		pthread_barrier_wait(&R->go); /* all threads free a.handle now */
		pthread_barrier_wait(&R->done);
		const unsigned ok = atomic_load(&R->count[IOVA_OK]);
		const unsigned dbl = atomic_load(&R->count[IOVA_ERR_DOUBLE_FREE]);
		if (ok != 1 || dbl != threads - 1) {
			if (bad_rounds++ < 5) {
				char other[256] = "";
				for (unsigned i = 0; i < IOVA_STATUS_COUNT; i++)
					if (i != IOVA_OK && i != IOVA_ERR_DOUBLE_FREE && atomic_load(&R->count[i]))
						snprintf(other + strlen(other), sizeof other - strlen(other), " %s x%u",
							 iova_status_name((iova_status)i), atomic_load(&R->count[i]));
				CHECK_MSG(false,
					  "%u threads freeing one %" PRIu64 "-granule handle: %u x IOVA_OK, %u x DOUBLE_FREE,%s"
					  " (want 1 and %u)",
					  threads, s, ok, dbl, other[0] ? other : " nothing else", threads - 1);
			}
		}
		CHECK_STATUS(iova_free(R->d, neighbour.handle), IOVA_OK);
		if (ok == 0) /* nobody freed it: do, or the next rounds fail for nothing */
			iova_free(R->d, a.handle);
		if (round % 97 == 0 || round + 1 == ROUNDS) {
			char what[64];
			snprintf(what, sizeof what, "%u racing frees, round %u", threads, round);
			check_whole(R->d, what);
		}
	}
	R->stop = true;
	pthread_barrier_wait(&R->go);
	for (unsigned t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	CHECK_MSG(bad_rounds == 0, "%u threads: %u of %u rounds went wrong", threads, bad_rounds, (unsigned)ROUNDS);
	printf("racing double frees, %u threads: %u rounds, %u wrong\n", threads, (unsigned)ROUNDS, bad_rounds);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(R->d, &st), IOVA_OK);
	CHECK_EQ(st.allocs, st.frees); /* every block freed exactly once */
	if (!bad_rounds) /* each round: one free succeeded, threads - 1 were refused */
		CHECK_EQ(st.failed_frees, (uint64_t)ROUNDS * (threads - 1));
	pthread_barrier_destroy(&R->go);
	pthread_barrier_destroy(&R->done);
	iova_domain_destroy(R->d);
	free(tid);
	free(R);
}

/* ---- 2. Forged handles amid traffic. ---- */

#define WORKERS 3
#define FORGERS 2
#define HELD 64
/* Workers ask for blocks of order 8 at most (traffic_worker_main()): a
 * block of more granules is never live. */
#define WORKER_MAX_GRANULES 256

/* What the forgers make, and what each must be refused with. */
enum forgery {
	FORGE_TAG_BIT,      /* a live handle, one tag bit flipped: FORGED */
	FORGE_ADDRESS_BIT,  /* a live handle, one address bit flipped: FORGED */
	FORGE_SIZE_BIT,     /* a live handle, one size or cache-type bit flipped: FORGED */
	FORGE_TWIN,         /* a handle of a domain over the same space: FORGED but for a tag collision */
	FORGE_FAR,          /* a handle of a domain over another space: as FORGE_TWIN */
	FORGE_RANDOM,       /* random words: as FORGE_TWIN */
	FORGE_IMPOSSIBLE,   /* authentic tag, contents outside the domain: FORGED */
	FORGE_NOT_LIVE,     /* authentic tag, a block larger than any live one: UNKNOWN or DOUBLE_FREE */
	FORGE_KINDS
};

static const char *const forgery_name[FORGE_KINDS] = {
	"tag bit flipped", "address bit flipped", "size or cache bit flipped", "same-space domain's",
	"other-space domain's", "random", "authentic tag, impossible contents", "authentic tag, no such live block",
};

struct traffic {
	iova_domain *d, *twin, *far;
	refmodel geometry;
	_Atomic uint32_t *shadow; /* owner id per granule */
	/* Handles of live blocks, published for forgers: two words each, word 0
	 * (never 0 in a handle) cleared before the slot is reused. A forger must
	 * not read a torn pair: one bit flipped in a pair spliced from two
	 * handles is not a single-bit change, and its tag would match with
	 * probability 2^-24 instead of never (see published_handle()). */
	_Atomic uint64_t published[WORKERS][HELD][2];
	iova_handle twin_handles[32], far_handles[32];
	_Atomic bool workers_done;
	_Atomic uint64_t forged, forged_refused;
	/* Per enum forgery: tried, and refused otherwise than it must be. */
	_Atomic uint64_t kind_tried[FORGE_KINDS], kind_wrong[FORGE_KINDS];
	pthread_barrier_t start;
};

struct traffic_worker {
	struct traffic *T;
	unsigned index;
	uint64_t allocs, frees;
};

static void traffic_take(struct traffic *T, const iova_allocation *a, uint32_t id)
{
	const uint64_t g0 = a->iova / PAGE - DOMAIN_FIRST, n = a->size / PAGE;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t old = atomic_exchange_explicit(&T->shadow[g0 + i], id, memory_order_relaxed);
		CHECK_MSG(old == 0, "granule %" PRIu64 " given to %u while %u holds it", DOMAIN_FIRST + g0 + i, id, old);
	}
}

static void traffic_release(struct traffic *T, const iova_allocation *a, uint32_t id)
{
	const uint64_t g0 = a->iova / PAGE - DOMAIN_FIRST, n = a->size / PAGE;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t old = atomic_exchange_explicit(&T->shadow[g0 + i], 0, memory_order_relaxed);
		CHECK_MSG(old == id, "granule %" PRIu64 " of %u found held by %u", DOMAIN_FIRST + g0 + i, id, old);
	}
}

static void *traffic_worker_main(void *arg)
{
	struct traffic_worker *W = arg;
	struct traffic *T = W->T;
	test_rng g;
	rng_seed(&g, 1000 + W->index);
	iova_allocation held[HELD];
	bool live[HELD] = {false};
	pthread_barrier_wait(&T->start);
	for (unsigned long op = 0; op < TRAFFIC_OPS; op++) {
		const unsigned i = (unsigned)rng_below(&g, HELD);
		const uint32_t id = W->index * HELD + i + 1;
		if (live[i]) {
			/* Unpublish first: from here on forgers may see a stale copy,
			 * which they alter anyway. */
			atomic_store_explicit(&T->published[W->index][i][0], 0, memory_order_relaxed);
			traffic_release(T, &held[i], id);
			iova_status st = iova_free(T->d, held[i].handle);
			CHECK_MSG(st == IOVA_OK, "worker %u: freeing its block: %s", W->index, iova_status_name(st));
			live[i] = false;
			W->frees++;
			continue;
		}
		const unsigned k = (unsigned)rng_below(&g, 9);
		iova_request r = {.size = ((UINT64_C(1) << k) - rng_below(&g, (UINT64_C(1) << k) / 2 + 1)) * PAGE,
				  .placement = (iova_placement)rng_below(&g, 2)};
		if (rng_chance(&g, 200)) {
			const uint64_t at = DOMAIN_FIRST + rng_below(&g, DOMAIN_GRANULES);
			r.lowest = at * PAGE;
			r.highest = (at + (UINT64_C(4) << k)) * PAGE - 1;
		}
		refmodel_req q;
		if (refmodel_request_errors(&T->geometry, &r, &q) || !refmodel_satisfiable(&T->geometry, &q))
			continue;
		iova_status st = iova_alloc(T->d, &r, &held[i]);
		if (st == IOVA_ERR_NO_SPACE)
			continue;
		CHECK_MSG(st == IOVA_OK, "worker %u: alloc: %s", W->index, iova_status_name(st));
		if (st != IOVA_OK)
			continue;
		traffic_take(T, &held[i], id);
		live[i] = true;
		W->allocs++;
		/* Release on both: a forger that reads word 1 sees word 0 cleared
		 * since, or rewritten; one that reads word 0 sees its word 1. */
		atomic_store_explicit(&T->published[W->index][i][1], held[i].handle.opaque[1], memory_order_release);
		atomic_store_explicit(&T->published[W->index][i][0], held[i].handle.opaque[0], memory_order_release);
	}
	for (unsigned i = 0; i < HELD; i++)
		if (live[i]) {
			atomic_store_explicit(&T->published[W->index][i][0], 0, memory_order_relaxed);
			traffic_release(T, &held[i], W->index * HELD + i + 1);
			CHECK_STATUS(iova_free(T->d, held[i].handle), IOVA_OK);
			W->frees++;
		}
	return NULL;
}

/* A handle a worker issued (live, or being freed), as published; false if
 * the slot is empty or was republished while being read. */
static bool published_handle(struct traffic *T, test_rng *g, iova_handle *h)
{
	const unsigned w = (unsigned)rng_below(g, WORKERS), i = (unsigned)rng_below(g, HELD);
	_Atomic uint64_t *p = T->published[w][i];
	h->opaque[0] = atomic_load_explicit(&p[0], memory_order_acquire);
	h->opaque[1] = atomic_load_explicit(&p[1], memory_order_acquire);
	/* Word 1 of a later handle is stored after word 0 was cleared, so a
	 * torn pair shows as word 0 changed. (Word 0 rewritten to the same
	 * value is the later handle itself, whole.) */
	return h->opaque[0] != 0 && atomic_load_explicit(&p[0], memory_order_relaxed) == h->opaque[0];
}

/* A handle tagged with the domain's own key over contents it never issues:
 * only handle_open()'s checks of the contents stand between it and the
 * strategy. */
static iova_handle impossible_handle(struct traffic *T, test_rng *g)
{
	const uint64_t base = DOMAIN_FIRST * PAGE, end = (DOMAIN_FIRST + DOMAIN_GRANULES) * PAGE;
	const uint64_t requested = (1 + rng_below(g, 16)) * PAGE - rng_below(g, PAGE);
	switch (rng_below(g, 5)) {
	case 0: /* below the space */
		return handle_make(T->d, base - (1 + rng_below(g, DOMAIN_FIRST)) * PAGE, requested, IOVA_CACHE_CACHED);
	case 1: /* at or above its end */
		return handle_make(T->d, end + rng_below(g, UINT64_C(1) << 30) * PAGE, requested, IOVA_CACHE_NON_CACHED);
	case 2: { /* anywhere else in the 64-bit space */
		uint64_t a = rng_next(g) & ~(PAGE - 1);
		if (a - base < end - base)
			a = end;
		return handle_make(T->d, a, requested, IOVA_CACHE_WRITE_COMBINED);
	}
	case 3: { /* inside, but running past the end */
		const uint64_t left = 1 + rng_below(g, 64);
		return handle_make(T->d, end - left * PAGE, (left + 1 + rng_below(g, 64)) * PAGE - rng_below(g, PAGE),
				   IOVA_CACHE_NON_CACHED);
	}
	default: /* a cache type that does not exist */
		return handle_make(T->d, base + rng_below(g, DOMAIN_GRANULES) * PAGE, requested, (iova_cache_type)3);
	}
}

/* A handle with an authentic tag over more granules than any worker ever
 * holds, starting at a live block or anywhere: it can never name a live
 * block, so it must never free one, whatever is live at that instant.
 * False if the published slot was empty. */
static bool not_live_handle(struct traffic *T, test_rng *g, iova_handle *h)
{
	const uint64_t granules = WORKER_MAX_GRANULES + 1 + rng_below(g, 4 * WORKER_MAX_GRANULES);
	uint64_t first;
	if (rng_chance(g, 500)) {
		iova_handle live;
		if (!published_handle(T, g, &live))
			return false;
		first = live.opaque[0] / PAGE;
	} else {
		first = DOMAIN_FIRST + rng_below(g, DOMAIN_GRANULES);
	}
	if (first + granules > DOMAIN_FIRST + DOMAIN_GRANULES)
		first = DOMAIN_FIRST + DOMAIN_GRANULES - granules;
	*h = handle_make(T->d, first * PAGE, granules * PAGE - rng_below(g, PAGE),
			 (iova_cache_type)rng_below(g, 3));
	return true;
}

static void *forger_main(void *arg)
{
	struct traffic *T = arg;
	test_rng g;
	rng_seed(&g, (uint64_t)(uintptr_t)arg ^ 0xf0f0);
	pthread_barrier_wait(&T->start);
	while (!atomic_load_explicit(&T->workers_done, memory_order_relaxed)) {
		iova_handle h;
		const enum forgery kind = (enum forgery)rng_below(&g, FORGE_KINDS);
		switch (kind) {
		case FORGE_TAG_BIT: {
			if (!published_handle(T, &g, &h))
				continue;
			const unsigned bit = (unsigned)rng_below(&g, 24);
			if (bit < 12)
				h.opaque[0] ^= UINT64_C(1) << bit;
			else
				h.opaque[1] ^= UINT64_C(1) << (52 + bit - 12);
			break;
		}
		case FORGE_ADDRESS_BIT: /* bits 12..63 of the first word */
			if (!published_handle(T, &g, &h))
				continue;
			h.opaque[0] ^= UINT64_C(1) << (12 + rng_below(&g, 52));
			break;
		case FORGE_SIZE_BIT: /* bits 0..49 (size - 1) and 50..51 (cache type) of the second */
			if (!published_handle(T, &g, &h))
				continue;
			h.opaque[1] ^= UINT64_C(1) << rng_below(&g, 52);
			break;
		case FORGE_TWIN:
			h = T->twin_handles[rng_below(&g, 32)];
			break;
		case FORGE_FAR:
			h = T->far_handles[rng_below(&g, 32)];
			break;
		case FORGE_RANDOM:
			h.opaque[0] = rng_next(&g);
			h.opaque[1] = rng_next(&g);
			break;
		case FORGE_IMPOSSIBLE:
			h = impossible_handle(T, &g);
			break;
		default:
			if (!not_live_handle(T, &g, &h))
				continue;
			break;
		}
		const iova_status st = iova_free(T->d, h);
		atomic_fetch_add_explicit(&T->forged, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&T->kind_tried[kind], 1, memory_order_relaxed);
		if (st == IOVA_ERR_FORGED_HANDLE)
			atomic_fetch_add_explicit(&T->forged_refused, 1, memory_order_relaxed);
		const bool right = kind == FORGE_NOT_LIVE ? st == IOVA_ERR_UNKNOWN_HANDLE || st == IOVA_ERR_DOUBLE_FREE
							  : st == IOVA_ERR_FORGED_HANDLE;
		if (right)
			continue;
		/* Twin, far and random handles pass the tag with probability
		 * 2^-24 and are then refused by another name: counted, judged in
		 * forged_amid_traffic(). Any other kind refused wrongly, or any
		 * forgery freed, is reported at once. */
		const uint64_t n = atomic_fetch_add_explicit(&T->kind_wrong[kind], 1, memory_order_relaxed);
		const bool collision_kind = kind == FORGE_TWIN || kind == FORGE_FAR || kind == FORGE_RANDOM;
		if ((st == IOVA_OK || !collision_kind) && n < 3)
			CHECK_MSG(false, "forged handle (%s) {0x%" PRIx64 ", 0x%" PRIx64 "}: %s", forgery_name[kind], h.opaque[0],
				  h.opaque[1], iova_status_name(st));
	}
	return NULL;
}

static void forged_amid_traffic(void)
{
	struct traffic *T = calloc(1, sizeof *T);
	T->d = make_domain();
	T->twin = make_domain(); /* same space, another key */
	iova_domain_config far_cfg = {.base = 0, .size = DOMAIN_FIRST * PAGE}; /* just below T->d's space */
	CHECK_STATUS(iova_domain_create(&far_cfg, &T->far), IOVA_OK);
	if (!T->far)
		abort();
	iova_domain_config cfg = iova_domain_get_config(T->d);
	if (!refmodel_init(&T->geometry, &cfg))
		abort();
	T->shadow = calloc(DOMAIN_GRANULES, sizeof *T->shadow);
	iova_allocation twin_blocks[32], far_blocks[32];
	for (int i = 0; i < 32; i++) {
		iova_request r = {.size = (uint64_t)(1 + i % 7) * PAGE, .placement = (iova_placement)(i & 1)};
		CHECK_STATUS(iova_alloc(T->twin, &r, &twin_blocks[i]), IOVA_OK);
		T->twin_handles[i] = twin_blocks[i].handle;
		CHECK_STATUS(iova_alloc(T->far, &r, &far_blocks[i]), IOVA_OK);
		T->far_handles[i] = far_blocks[i].handle;
	}
	pthread_barrier_init(&T->start, NULL, WORKERS + FORGERS);
	struct traffic_worker W[WORKERS];
	pthread_t wt[WORKERS], ft[FORGERS];
	for (unsigned w = 0; w < WORKERS; w++) {
		W[w] = (struct traffic_worker){T, w, 0, 0};
		pthread_create(&wt[w], NULL, traffic_worker_main, &W[w]);
	}
	for (unsigned f = 0; f < FORGERS; f++)
		pthread_create(&ft[f], NULL, forger_main, T);
	uint64_t allocs = 0, frees = 0;
	for (unsigned w = 0; w < WORKERS; w++) {
		pthread_join(wt[w], NULL);
		allocs += W[w].allocs;
		frees += W[w].frees;
	}
	atomic_store(&T->workers_done, true);
	for (unsigned f = 0; f < FORGERS; f++)
		pthread_join(ft[f], NULL);

	const uint64_t forged = atomic_load(&T->forged), refused = atomic_load(&T->forged_refused);
	/* A foreign or random handle passes the 24-bit tag with probability
	 * 2^-24; even then it is refused (it names no live block), only by
	 * another name. The other kinds have no such excuse. */
	const uint64_t collisions = atomic_load(&T->kind_wrong[FORGE_TWIN]) + atomic_load(&T->kind_wrong[FORGE_FAR]) +
				    atomic_load(&T->kind_wrong[FORGE_RANDOM]);
	CHECK_MSG(collisions <= 2, "%" PRIu64 " foreign or random handles were not refused as forged", collisions);
	for (unsigned k = 0; k < FORGE_KINDS; k++) {
		const uint64_t tried = atomic_load(&T->kind_tried[k]), wrong = atomic_load(&T->kind_wrong[k]);
		/* Each kind must have been tried against live traffic often enough to mean something. */
		CHECK_MSG(tried >= 200, "forgeries \"%s\": only %" PRIu64 " tried", forgery_name[k], tried);
		if (k != FORGE_TWIN && k != FORGE_FAR && k != FORGE_RANDOM)
			CHECK_MSG(wrong == 0, "forgeries \"%s\": %" PRIu64 " of %" PRIu64 " refused with the wrong error",
				  forgery_name[k], wrong, tried);
	}
	CHECK_EQ(allocs, frees);
	for (uint64_t i = 0; i < DOMAIN_GRANULES; i++)
		if (atomic_load(&T->shadow[i])) {
			CHECK_MSG(false, "granule %" PRIu64 " still held", DOMAIN_FIRST + i);
			break;
		}
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(T->d, &st), IOVA_OK);
	CHECK_EQ(st.allocs, allocs);
	CHECK_EQ(st.frees, frees);
	CHECK_EQ(st.failed_frees, forged);
	check_whole(T->d, "after forged frees amid traffic");
	printf("forged handles amid traffic: %" PRIu64 " blocks allocated and freed by %d workers, %" PRIu64
	       " forged frees refused (%" PRIu64 " as forged)\n",
	       allocs, WORKERS, forged, refused);
	for (unsigned k = 0; k < FORGE_KINDS; k++)
		printf("  %s: %" PRIu64 " tried, %" PRIu64 " refused otherwise than expected\n", forgery_name[k],
		       atomic_load(&T->kind_tried[k]), atomic_load(&T->kind_wrong[k]));
	for (int i = 0; i < 32; i++) {
		CHECK_STATUS(iova_free(T->twin, twin_blocks[i].handle), IOVA_OK);
		CHECK_STATUS(iova_free(T->far, far_blocks[i].handle), IOVA_OK);
	}
	pthread_barrier_destroy(&T->start);
	iova_domain_destroy(T->d);
	iova_domain_destroy(T->twin);
	iova_domain_destroy(T->far);
	refmodel_destroy(&T->geometry);
	free(T->shadow);
	free(T);
}

/* ---- 3. A free racing the free of the address's previous block. ---- */

struct prefix_race {
	iova_domain *d;
	_Atomic bool stop;
	pthread_barrier_t start;
	uint64_t at; /* page */
};

struct prefix_racer {
	struct prefix_race *P;
	uint64_t pages, window;
	uint64_t allocs, refused;
};

static void *prefix_racer_main(void *arg)
{
	struct prefix_racer *R = arg;
	struct prefix_race *P = R->P;
	const iova_request r = {.size = R->pages * PAGE, .lowest = P->at * PAGE, .highest = (P->at + R->window) * PAGE - 1};
	pthread_barrier_wait(&P->start);
	for (unsigned long i = 0; i < PREFIX_RACE_ITERATIONS && !atomic_load_explicit(&P->stop, memory_order_relaxed); i++) {
		iova_allocation a;
		if (iova_alloc(P->d, &r, &a) != IOVA_OK)
			continue;
		R->allocs++;
		iova_status st = iova_free(P->d, a.handle);
		if (st != IOVA_OK) {
			R->refused++;
			CHECK_MSG(false, "freeing its own %" PRIu64 "-page block at page %" PRIu64 " (after %" PRIu64 " allocations): %s",
				  R->pages, a.iova / PAGE, R->allocs, iova_status_name(st));
			atomic_store(&P->stop, true); /* the block is stuck: the window is spoilt */
		}
	}
	return NULL;
}

static void free_races_previous_owner(void)
{
	struct prefix_race P = {.d = make_domain(), .at = DOMAIN_FIRST + 64};
	pthread_barrier_init(&P.start, NULL, 2);
	struct prefix_racer R[2] = {{&P, 61, 64, 0, 0}, {&P, 32, 32, 0, 0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, prefix_racer_main, &R[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&P.start);
	printf("free racing the previous owner's free: %" PRIu64 " 61-page and %" PRIu64 " 32-page blocks, %" PRIu64
	       " frees refused\n",
	       R[0].allocs, R[1].allocs, R[0].refused + R[1].refused);
	CHECK(R[0].allocs > 0 && R[1].allocs > 0);
	if (!R[0].refused && !R[1].refused)
		check_whole(P.d, "after the prefix race");
	iova_domain_destroy(P.d);
}

int main(void)
{
	racing_double_frees(2);
	racing_double_frees(4);
	racing_double_frees(8);
	forged_amid_traffic();
	free_races_previous_owner();
	return check_exit_code();
}
