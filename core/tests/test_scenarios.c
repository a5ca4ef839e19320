/* SPDX-License-Identifier: MIT */
/*
 * test_scenarios.c - the drm_buddy scenarios of DOMAIN.md section 4 and
 * NBBS-style whole-tree exercises (section 6), re-expressed for this API.
 *
 * Pages are 4 KiB granules and are named by absolute page number (address /
 * 4096), so natural alignment is the alignment of that number. Wherever a
 * scenario's outcome does not depend on which valid position the allocator
 * picks (placement is only a preference), it is asserted exactly.
 *
 *  optimistic    (2^17 - 1) pages hold one block of each order 0..16, then a
 *                page request fails;
 *  pessimistic   2^16 pages: one block of each order 0..15 plus a page fill
 *                it; every order fails; freeing blocks from the smallest up
 *                makes each next order available; finally the whole space;
 *  pathological  drm_buddy's whittling: repeatedly free the largest block and
 *                refill it with one block of each smaller order plus a page,
 *                until the free space is single pages whose buddies are all
 *                held; plus "every other page pinned";
 *  contiguous    48 pages dealt round-robin to three lists; this allocator
 *                never spans non-buddy neighbours, so after freeing two lists
 *                a 2-page request succeeds only on aligned pairs; trimming:
 *                a 3-page block holds exactly 3 pages, its 4th page is
 *                someone else's to take and comes back when freed;
 *  range         in any aligned window a window-sized request succeeds;
 *                window + 1 page, a shifted or misaligned window fails;
 *                a random tiling of the space by aligned windows;
 *  counts        exactly as many blocks of each order as fit, in power-of-two
 *                and non-power-of-two spaces at aligned and unaligned bases,
 *                and in a space covered by two root words;
 *  buddy pairs   (NBBS) free every other block of an order: nothing of the
 *                next order appears until the partners are freed;
 *  coalescing    after every scenario: one extent, free_blocks[] equal to
 *                the roots, and each root-sized allocation succeeds.
 *
 * Wherever a scenario reads the statistics, the tree's invariants are
 * checked too (buddy_check(): coverage, allocation runs, child words, hints).
 */
#include "refmodel.h"
#include "test_tree.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A domain over pages [first, first + pages). */
static iova_domain *make(uint64_t first, uint64_t pages)
{
	iova_domain_config cfg = {.base = first * PAGE, .size = pages * PAGE};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (!d) {
		fprintf(stderr, "cannot create a domain\n");
		exit(1);
	}
	return d;
}

/* Allocate @pages pages, inside pages [lo, hi) when hi > lo. */
static iova_status alloc_pages(iova_domain *d, uint64_t pages, uint64_t lo, uint64_t hi, iova_placement pl,
			       iova_allocation *a)
{
	iova_request r = {.size = pages * PAGE, .placement = pl};
	if (hi > lo) {
		r.lowest = lo * PAGE;
		r.highest = hi * PAGE - 1;
	}
	return iova_alloc(d, &r, a);
}

static uint64_t page_of(const iova_allocation *a) { return a->iova / PAGE; }

/* A growable list of allocations. */
typedef struct alist {
	iova_allocation *a;
	size_t n, cap;
} alist;

static void alist_push(alist *l, const iova_allocation *a)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->a = realloc(l->a, l->cap * sizeof *l->a);
		if (!l->a)
			abort();
	}
	l->a[l->n++] = *a;
}

static void alist_free_all(iova_domain *d, alist *l)
{
	for (size_t i = 0; i < l->n; i++)
		CHECK_STATUS(iova_free(d, l->a[i].handle), IOVA_OK);
	l->n = 0;
}

static void alist_release(alist *l)
{
	free(l->a);
	memset(l, 0, sizeof *l);
}

/* The statistics, and the tree's invariants at every state a scenario
 * looks at the statistics of. */
static iova_stats stats_of(const iova_domain *d)
{
	test_tree_ok(d, "scenario");
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	return st;
}

/* The roots of pages [first, end): maximal aligned blocks, in address order. */
static size_t roots_of(uint64_t first, uint64_t end, uint64_t pos[IOVA_MAX_ORDER], unsigned order[IOVA_MAX_ORDER])
{
	size_t n = 0;
	while (first < end) {
		unsigned k = 63u - (unsigned)__builtin_clzll(end - first);
		if (first && (unsigned)__builtin_ctzll(first) < k)
			k = (unsigned)__builtin_ctzll(first);
		pos[n] = first;
		order[n++] = k;
		first += UINT64_C(1) << k;
	}
	return n;
}

/*
 * Full coalescing: everything is free, as one extent; free_blocks[] is
 * exactly the roots; root-sized requests, largest first, each succeed and
 * together land on exactly the roots; then the space is full.
 */
static void check_whole(iova_domain *d, uint64_t first, uint64_t pages, const char *scenario)
{
	const uint64_t end = first + pages;
	iova_stats st = stats_of(d);
	CHECK_MSG(st.free_bytes == pages * PAGE && st.live_allocations == 0 && st.free_extents == 1,
		  "%s: not whole: free %" PRIu64 " of %" PRIu64 " pages, %" PRIu64 " live, %" PRIu64 " extents", scenario,
		  st.free_bytes / PAGE, pages, st.live_allocations, st.free_extents);
	uint64_t roots[IOVA_MAX_ORDER];
	refmodel_roots(first, end, roots);
	for (unsigned k = 0; k < IOVA_MAX_ORDER; k++)
		CHECK_MSG(st.free_blocks[k] == roots[k], "%s: free_blocks[%u] = %" PRIu64 ", the roots have %" PRIu64,
			  scenario, k, st.free_blocks[k], roots[k]);
	extent_list l = {0};
	domain_extents(d, &l);
	CHECK_MSG(l.n == 1 && l.e[0].iova == first * PAGE && l.e[0].bytes == pages * PAGE, "%s: free extents not [%" PRIu64
		  ", +%" PRIu64 ") pages", scenario, first, pages);
	extent_list_free(&l);

	uint64_t pos[IOVA_MAX_ORDER];
	unsigned order[IOVA_MAX_ORDER];
	bool used[IOVA_MAX_ORDER] = {false};
	const size_t n = roots_of(first, end, pos, order);
	alist held = {0};
	for (unsigned k = IOVA_MAX_ORDER; k-- > 0;) {
		for (uint64_t i = 0; i < roots[k]; i++) {
			iova_allocation a;
			iova_status s = alloc_pages(d, UINT64_C(1) << k, 0, 0, IOVA_PLACE_BOTTOM_UP, &a);
			CHECK_MSG(s == IOVA_OK, "%s: root-sized request of 2^%u pages: %s", scenario, k, iova_status_name(s));
			if (s != IOVA_OK)
				continue;
			bool found = false;
			for (size_t r = 0; r < n && !found; r++)
				if (!used[r] && pos[r] == page_of(&a) && order[r] == k)
					found = used[r] = true;
			CHECK_MSG(found, "%s: 2^%u pages at page %" PRIu64 " is not a root", scenario, k, page_of(&a));
			alist_push(&held, &a);
		}
	}
	iova_allocation a;
	CHECK_STATUS(alloc_pages(d, 1, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
	alist_free_all(d, &held);
	alist_release(&held);
	st = stats_of(d);
	CHECK_MSG(st.free_bytes == pages * PAGE && st.free_extents == 1, "%s: roots freed, but not whole", scenario);
}

/* Every order 0..max fails with IOVA_ERR_NO_SPACE. */
static void expect_all_orders_fail(iova_domain *d, unsigned max, const char *what)
{
	for (unsigned k = 0; k <= max; k++) {
		iova_allocation a;
		iova_status s = alloc_pages(d, UINT64_C(1) << k, 0, 0, IOVA_PLACE_BOTTOM_UP, &a);
		CHECK_MSG(s == IOVA_ERR_NO_SPACE, "%s: order %u: %s, want IOVA_ERR_NO_SPACE", what, k, iova_status_name(s));
		if (s == IOVA_OK)
			iova_free(d, a.handle);
	}
}

/* ---------------------------------------------------------------------- */

static void scenario_optimistic(void)
{
	const uint64_t pages = (UINT64_C(1) << 17) - 1;
	for (int pl = 0; pl < 2; pl++) {
		iova_domain *d = make(0, pages);
		alist held = {0};
		/* Largest first: each block has exactly one place to go, the root of
		 * its order (roots of 2^17 - 1 pages: 2^16 at 0, 2^15 at 2^16, ...). */
		for (unsigned k = 17; k-- > 0;) {
			iova_allocation a;
			iova_status s = alloc_pages(d, UINT64_C(1) << k, 0, 0, (iova_placement)pl, &a);
			CHECK_MSG(s == IOVA_OK, "optimistic: order %u: %s", k, iova_status_name(s));
			if (s != IOVA_OK)
				continue;
			CHECK_MSG(page_of(&a) == pages + 1 - (UINT64_C(2) << k), "optimistic: order %u at page %" PRIu64, k,
				  page_of(&a));
			alist_push(&held, &a);
		}
		CHECK_EQ(stats_of(d).free_bytes, 0);
		iova_allocation a;
		CHECK_STATUS(alloc_pages(d, 1, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
		alist_free_all(d, &held);
		check_whole(d, 0, pages, "optimistic");

		/* Smallest first, each in its root's window: the same 17 blocks. */
		for (unsigned k = 0; k < 17; k++) {
			const uint64_t root = pages + 1 - (UINT64_C(2) << k);
			CHECK_STATUS(alloc_pages(d, UINT64_C(1) << k, root, root + (UINT64_C(1) << k), (iova_placement)pl, &a),
				     IOVA_OK);
			alist_push(&held, &a);
		}
		CHECK_STATUS(alloc_pages(d, 1, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
		alist_free_all(d, &held);

		/* Smallest first without windows depends on placement, which is only
		 * a preference: drm_buddy (best fit) fits all 17; report, don't assert. */
		unsigned fitted = 0;
		for (unsigned k = 0; k < 17; k++) {
			if (alloc_pages(d, UINT64_C(1) << k, 0, 0, (iova_placement)pl, &a) == IOVA_OK) {
				fitted++;
				alist_push(&held, &a);
			}
		}
		printf("optimistic, smallest first, %s: %u of 17 orders fitted (drm_buddy's best fit: 17)\n",
		       pl ? "top-down" : "bottom-up", fitted);
		alist_free_all(d, &held);
		check_whole(d, 0, pages, "optimistic");
		alist_release(&held);
		iova_domain_destroy(d);
	}
}

static void scenario_pessimistic(void)
{
	const unsigned max = 16;
	const uint64_t first = UINT64_C(1) << 20; /* at 4 GiB */
	iova_domain *d = make(first, UINT64_C(1) << max);
	iova_allocation blk[16], extra, a;
	/* Largest first, so that the layout is forced whatever the placement
	 * (smallest first, a block may land in the half a larger one needs:
	 * placement is only a preference, and this allocator is not best fit). */
	for (unsigned k = max; k-- > 0;)
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << k, 0, 0, (iova_placement)(k & 1), &blk[k]), IOVA_OK);
	CHECK_STATUS(alloc_pages(d, 1, 0, 0, IOVA_PLACE_BOTTOM_UP, &extra), IOVA_OK);
	CHECK_EQ(stats_of(d).free_bytes, 0);
	expect_all_orders_fail(d, max, "pessimistic, full");
	/* The extra page and the order-0 block are buddies; with the order-1
	 * block they make an order-2 block, and so on. */
	CHECK_EQ(page_of(&extra) ^ page_of(&blk[0]), 1);
	CHECK_STATUS(iova_free(d, extra.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, blk[0].handle), IOVA_OK);
	for (unsigned k = 1; k <= max; k++) {
		/* Blocks 0..k-1 are free: exactly one order-k block, nothing larger. */
		const uint64_t where = page_of(&blk[0]) & ~((UINT64_C(1) << k) - 1);
		if (k < max) {
			CHECK_STATUS(alloc_pages(d, UINT64_C(2) << k, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
			CHECK_EQ(stats_of(d).free_bytes, (UINT64_C(1) << k) * PAGE);
		}
		iova_status s = alloc_pages(d, UINT64_C(1) << k, 0, 0, IOVA_PLACE_BOTTOM_UP, &a);
		CHECK_MSG(s == IOVA_OK && page_of(&a) == where, "pessimistic: order %u: %s at page %" PRIu64 ", want %" PRIu64,
			  k, iova_status_name(s), page_of(&a), where);
		if (s == IOVA_OK)
			CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
		if (k < max)
			CHECK_STATUS(iova_free(d, blk[k].handle), IOVA_OK);
	}
	check_whole(d, first, UINT64_C(1) << max, "pessimistic");
	iova_domain_destroy(d);
}

/* drm_buddy's pathological test, for a space of 2^max pages. */
static void scenario_pathological(unsigned max)
{
	iova_domain *d = make(0, UINT64_C(1) << max);
	alist blocks = {0}, holes = {0};
	size_t next_to_free = 0;
	char what[64];
	for (unsigned top = max; top; top--) {
		/* Make room by freeing the largest block still held. */
		if (next_to_free < blocks.n) {
			CHECK_STATUS(iova_free(d, blocks.a[next_to_free].handle), IOVA_OK);
			next_to_free++;
		}
		for (unsigned k = top; k-- > 0;) {
			iova_allocation a;
			iova_status s = alloc_pages(d, UINT64_C(1) << k, 0, 0, (iova_placement)(k & 1), &a);
			CHECK_MSG(s == IOVA_OK, "pathological(%u): top %u, order %u: %s", max, top, k, iova_status_name(s));
			if (s == IOVA_OK)
				alist_push(&blocks, &a);
		}
		/* One page is left for this sub-allocation, then nothing. */
		iova_allocation a;
		CHECK_STATUS(alloc_pages(d, 1, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_OK);
		alist_push(&holes, &a);
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << top, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
		CHECK_EQ(stats_of(d).free_bytes, 0);
	}
	alist_free_all(d, &holes);
	/* The free space is max single pages, none with a free buddy. */
	iova_stats st = stats_of(d);
	CHECK_EQ(st.free_bytes, max * PAGE);
	CHECK_EQ(st.free_blocks[0], max);
	CHECK_EQ(st.largest_free_block, PAGE);
	snprintf(what, sizeof what, "pathological(%u), holes freed", max);
	for (unsigned k = 1; k <= max; k++) {
		iova_allocation a;
		iova_status s = alloc_pages(d, UINT64_C(1) << k, 0, 0, IOVA_PLACE_BOTTOM_UP, &a);
		CHECK_MSG(s == IOVA_ERR_NO_SPACE, "%s: order %u: %s", what, k, iova_status_name(s));
	}
	for (size_t i = next_to_free; i < blocks.n; i++)
		CHECK_STATUS(iova_free(d, blocks.a[i].handle), IOVA_OK);
	snprintf(what, sizeof what, "pathological(%u)", max);
	check_whole(d, 0, UINT64_C(1) << max, what);
	alist_release(&blocks);
	alist_release(&holes);
	iova_domain_destroy(d);
}

/* Half the space free, as single pages: every other page pinned. */
static void scenario_every_other_page(uint64_t pages)
{
	iova_domain *d = make(pages * 8, pages);
	iova_allocation *a = calloc(pages, sizeof *a);
	for (uint64_t i = 0; i < pages; i++)
		CHECK_STATUS(alloc_pages(d, 1, 0, 0, IOVA_PLACE_BOTTOM_UP, &a[i]), IOVA_OK);
	/* Free the pages at even page numbers. */
	for (uint64_t i = 0; i < pages; i++)
		if (page_of(&a[i]) % 2 == 0)
			CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	iova_stats st = stats_of(d);
	CHECK_EQ(st.free_bytes, pages / 2 * PAGE);
	CHECK_EQ(st.free_blocks[0], pages / 2);
	CHECK_EQ(st.free_extents, pages / 2);
	CHECK_EQ(st.largest_free_block, PAGE);
	unsigned max = 63u - (unsigned)__builtin_clzll(pages);
	for (unsigned k = 1; k <= max; k++) {
		iova_allocation x;
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << k, 0, 0, IOVA_PLACE_BOTTOM_UP, &x), IOVA_ERR_NO_SPACE);
	}
	/* ... and exactly pages/2 single pages fit. */
	alist refill = {0};
	iova_allocation x;
	while (alloc_pages(d, 1, 0, 0, IOVA_PLACE_TOP_DOWN, &x) == IOVA_OK) {
		CHECK(page_of(&x) % 2 == 0);
		alist_push(&refill, &x);
	}
	CHECK_EQ(refill.n, pages / 2);
	alist_free_all(d, &refill);
	alist_release(&refill);
	for (uint64_t i = 0; i < pages; i++)
		if (page_of(&a[i]) % 2 == 1)
			CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	check_whole(d, pages * 8, pages, "every other page");
	free(a);
	iova_domain_destroy(d);
}

static void scenario_contiguous(void)
{
	/* 48 pages (roots: 32 + 16), every page a 1-page allocation, dealt to
	 * three lists by page number: left (p % 3 == 0), middle, right. */
	iova_domain *d = make(0, 48);
	alist list[3] = {{0}};
	iova_allocation a;
	for (int i = 0; i < 48; i++) {
		CHECK_STATUS(alloc_pages(d, 1, 0, 0, (iova_placement)(i & 1), &a), IOVA_OK);
		alist_push(&list[page_of(&a) % 3], &a);
	}
	CHECK(list[0].n == 16 && list[1].n == 16 && list[2].n == 16);
	CHECK_STATUS(alloc_pages(d, 3, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
	alist_free_all(d, &list[1]);
	CHECK_STATUS(alloc_pages(d, 3, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(alloc_pages(d, 2, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
	alist_free_all(d, &list[2]);
	CHECK_STATUS(alloc_pages(d, 3, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
	/* Free pages come in runs of two, p % 3 in {1, 2}. A run is a buddy pair
	 * only when p is even: p = 4 (mod 6). drm_buddy's "try harder" would also
	 * use the non-buddy runs at p = 1 (mod 6); this allocator never spans
	 * non-buddies, so exactly the 8 aligned pairs are handed out. */
	iova_stats st = stats_of(d);
	CHECK_EQ(st.free_bytes, 32 * PAGE);
	CHECK_EQ(st.largest_free_extent, 2 * PAGE);
	alist pairs = {0};
	while (alloc_pages(d, 2, 0, 0, IOVA_PLACE_BOTTOM_UP, &a) == IOVA_OK) {
		CHECK_MSG(page_of(&a) % 6 == 4, "2-page block at page %" PRIu64, page_of(&a));
		alist_push(&pairs, &a);
	}
	CHECK_EQ(pairs.n, 8);
	st = stats_of(d);
	CHECK_EQ(st.free_bytes, 16 * PAGE);
	CHECK_EQ(st.largest_free_block, PAGE); /* the runs at p = 1 (mod 6) */
	alist_free_all(d, &pairs);
	alist_free_all(d, &list[0]);
	/* All free: a 3-page request succeeds and holds exactly 3 pages. */
	CHECK_STATUS(alloc_pages(d, 3, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_OK);
	CHECK_EQ(a.size, 3 * PAGE);
	CHECK_EQ(stats_of(d).free_bytes, 45 * PAGE);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	check_whole(d, 0, 48, "contiguous");
	for (int i = 0; i < 3; i++)
		alist_release(&list[i]);
	alist_release(&pairs);
	iova_domain_destroy(d);
}

/*
 * Trimming, at every size class: a block of s pages (2^(k-1) < s < 2^k)
 * holds exactly s pages; the 2^k - s tail pages of its rounded block are
 * allocatable by others (here with 1-page requests inside the tail) and come
 * back when freed; freeing the block then restores the whole space. Sizes
 * around 2^4, 2^8, 2^12 cross the levels of buddy-lf's packed tree (2-bit
 * fields per page below 32 pages, 4-bit fields above), as NBBS's bunches do.
 */
static void scenario_trimming(void)
{
	const uint64_t first = 3 * (UINT64_C(1) << 14), pages = UINT64_C(1) << 14;
	iova_domain *d = make(first, pages);
	for (unsigned k = 1; k <= 13; k++) {
		const uint64_t sizes[3] = {(UINT64_C(1) << k) - 1, (UINT64_C(1) << (k - 1)) + 1, (UINT64_C(3) << k) / 4};
		for (int v = 0; v < 3; v++) {
			const uint64_t s = sizes[v];
			if (s <= (UINT64_C(1) << (k - 1)) || s >= (UINT64_C(1) << k))
				continue; /* not a size of this class (small k) */
			iova_allocation blk, a;
			CHECK_STATUS(alloc_pages(d, s, 0, 0, (iova_placement)(v & 1), &blk), IOVA_OK);
			const uint64_t p = page_of(&blk);
			CHECK_EQ(p % (UINT64_C(1) << k), 0);
			CHECK_EQ(blk.size, s * PAGE);
			CHECK_EQ(stats_of(d).free_bytes, (pages - s) * PAGE);
			/* Its rounded block's tail is free and anyone's to take. */
			alist tail = {0};
			for (uint64_t t = p + s; t < p + (UINT64_C(1) << k); t++) {
				iova_status st = alloc_pages(d, 1, t, t + 1, IOVA_PLACE_BOTTOM_UP, &a);
				CHECK_MSG(st == IOVA_OK && page_of(&a) == t, "trim %" PRIu64 " pages: tail page %" PRIu64 ": %s", s,
					  t - p, iova_status_name(st));
				if (st == IOVA_OK)
					alist_push(&tail, &a);
			}
			CHECK_EQ(stats_of(d).free_bytes, (pages - (UINT64_C(1) << k)) * PAGE);
			/* A page just below the block is not the block's. */
			CHECK_STATUS(alloc_pages(d, 1, p, p + s, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
			alist_free_all(d, &tail);
			CHECK_EQ(stats_of(d).free_bytes, (pages - s) * PAGE);
			CHECK_STATUS(iova_free(d, blk.handle), IOVA_OK);
			/* The rounded block is whole again. */
			CHECK_STATUS(alloc_pages(d, UINT64_C(1) << k, p, p + (UINT64_C(1) << k), IOVA_PLACE_BOTTOM_UP, &a),
				     IOVA_OK);
			CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
			alist_release(&tail);
		}
	}
	/* The 3-page case of the brief, spelled out: the 4th page goes to
	 * someone else, and comes back when that someone frees it. */
	iova_allocation three, fourth, again;
	CHECK_STATUS(alloc_pages(d, 3, 0, 0, IOVA_PLACE_BOTTOM_UP, &three), IOVA_OK);
	const uint64_t p4 = page_of(&three) + 3;
	CHECK_STATUS(alloc_pages(d, 1, p4, p4 + 1, IOVA_PLACE_BOTTOM_UP, &fourth), IOVA_OK);
	CHECK_EQ(page_of(&fourth), p4);
	CHECK_STATUS(iova_free(d, fourth.handle), IOVA_OK);
	CHECK_STATUS(alloc_pages(d, 1, p4, p4 + 1, IOVA_PLACE_BOTTOM_UP, &again), IOVA_OK);
	CHECK_EQ(page_of(&again), p4);
	CHECK_STATUS(iova_free(d, three.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, again.handle), IOVA_OK);
	check_whole(d, first, pages, "trimming");
	iova_domain_destroy(d);
}

static void scenario_range(void)
{
	const unsigned n = 12;
	const uint64_t first = UINT64_C(1) << 18, pages = UINT64_C(1) << n, end = first + pages;
	iova_domain *d = make(first, pages);
	test_rng g;
	rng_seed(&g, 7);
	iova_allocation a;
	for (unsigned w = 0; w <= n; w++) {
		const uint64_t wp = UINT64_C(1) << w;
		for (int trial = 0; trial < 6; trial++) {
			uint64_t start = first + wp * (trial == 0 ? 0 : trial == 1 ? pages / wp - 1 : rng_below(&g, pages / wp));
			iova_placement pl = (iova_placement)(trial & 1);
			/* The window-sized request lands on the window. */
			iova_status s = alloc_pages(d, wp, start, start + wp, pl, &a);
			CHECK_MSG(s == IOVA_OK && page_of(&a) == start, "range 2^%u at %" PRIu64 ": %s at %" PRIu64, w, start,
				  iova_status_name(s), page_of(&a));
			if (s == IOVA_OK)
				CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
			/* One page more does not fit in it (nor in the domain, for the
			 * whole-domain window). */
			CHECK_STATUS(alloc_pages(d, wp + 1, start, start + wp, pl, &a),
				     w == n ? IOVA_ERR_SIZE_TOO_LARGE : IOVA_ERR_RANGE_TOO_SMALL);
			/* Nor does the window's size fit a byte short of the window. */
			iova_request r = {.size = wp * PAGE, .lowest = start * PAGE + 1, .highest = (start + wp) * PAGE - 1};
			CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_ERR_RANGE_TOO_SMALL);
			r = (iova_request){.size = wp * PAGE, .lowest = start * PAGE, .highest = (start + wp) * PAGE - 2};
			CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_ERR_RANGE_TOO_SMALL);
			if (w == 0)
				continue;
			/* Shifted by a page, or by half a window: no aligned place. */
			if (start + wp + 1 <= end)
				CHECK_STATUS(alloc_pages(d, wp, start + 1, start + wp + 1, pl, &a), IOVA_ERR_UNSATISFIABLE);
			if (start + wp + wp / 2 <= end)
				CHECK_STATUS(alloc_pages(d, wp, start + wp / 2, start + wp + wp / 2, pl, &a), IOVA_ERR_UNSATISFIABLE);
			if (start >= first + 1)
				CHECK_STATUS(alloc_pages(d, wp, start - 1, start + wp - 1, pl, &a), IOVA_ERR_UNSATISFIABLE);
			/* A non-power-of-two size needs its held pages in the window and
			 * its whole rounded block in the domain (the tail may stick out of
			 * the window: it is never held). */
			if (w >= 2) {
				CHECK_STATUS(alloc_pages(d, wp - 1, start, start + wp - 1, pl, &a), IOVA_OK);
				CHECK_EQ(page_of(&a), start);
				CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
				CHECK_STATUS(alloc_pages(d, wp - 1, start, start + wp, pl, &a), IOVA_OK);
				CHECK_EQ(page_of(&a), start);
				CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
				if (start + wp == end && start >= first + wp)
					CHECK_STATUS(alloc_pages(d, wp - 1, start + 1, end, pl, &a), IOVA_ERR_UNSATISFIABLE);
			}
		}
	}
	check_whole(d, first, pages, "range windows");

	/* Fill one window with random requests constrained to it: all land inside,
	 * it fills completely, and the space outside is untouched. */
	for (int trial = 0; trial < 20; trial++) {
		const unsigned w = 3 + (unsigned)rng_below(&g, n - 3);
		const uint64_t wp = UINT64_C(1) << w, start = first + wp * rng_below(&g, pages / wp);
		alist in = {0};
		uint64_t held = 0;
		for (int misses = 0; misses < 64;) {
			uint64_t s = 1 + rng_below(&g, wp / 4);
			iova_status st = alloc_pages(d, s, start, start + wp, (iova_placement)rng_below(&g, 2), &a);
			if (st != IOVA_OK) {
				CHECK_STATUS(st, IOVA_ERR_NO_SPACE);
				misses++;
				continue;
			}
			CHECK(page_of(&a) >= start && page_of(&a) + s <= start + wp);
			held += s;
			alist_push(&in, &a);
		}
		/* Top up with single pages: the window ends up exactly full. */
		while (alloc_pages(d, 1, start, start + wp, IOVA_PLACE_BOTTOM_UP, &a) == IOVA_OK) {
			CHECK(page_of(&a) >= start && page_of(&a) < start + wp);
			held++;
			alist_push(&in, &a);
		}
		CHECK_EQ(held, wp);
		iova_stats st = stats_of(d);
		CHECK_EQ(st.free_bytes, (pages - wp) * PAGE);
		CHECK_EQ(st.free_extents, (start > first) + (start + wp < end));
		alist_free_all(d, &in);
		alist_release(&in);
	}
	check_whole(d, first, pages, "range fill");

	/* A random tiling of the space by aligned windows, each allocated exactly. */
	alist tiles = {0};
	for (uint64_t p = first; p < end;) {
		unsigned k = (unsigned)__builtin_ctzll(p);
		if (k > n)
			k = n;
		k = (unsigned)rng_below(&g, k + 1);
		while (p + (UINT64_C(1) << k) > end)
			k--;
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << k, p, p + (UINT64_C(1) << k), IOVA_PLACE_TOP_DOWN, &a), IOVA_OK);
		CHECK_EQ(page_of(&a), p);
		alist_push(&tiles, &a);
		p += UINT64_C(1) << k;
	}
	CHECK_EQ(stats_of(d).free_bytes, 0);
	alist_free_all(d, &tiles);
	alist_release(&tiles);
	check_whole(d, first, pages, "range tiling");
	iova_domain_destroy(d);
}

/* Aligned blocks of 2^k pages that fit in [first, first + pages). */
static uint64_t blocks_that_fit(uint64_t first, uint64_t pages, unsigned k)
{
	const uint64_t b = UINT64_C(1) << k;
	const uint64_t lo = (first + b - 1) / b, hi = (first + pages) / b;
	return hi > lo ? hi - lo : 0;
}

/* Fill the space with blocks of each order in turn: exactly as many fit as
 * there are aligned places; all distinct; then nothing more. */
static void scenario_counts(uint64_t first, uint64_t pages, const char *name)
{
	iova_domain *d = make(first, pages);
	const unsigned max = 63u - (unsigned)__builtin_clzll(pages);
	char what[96];
	if (first == 0) {
		/* At base 0 the roots are popcount(size) blocks, one per set bit of
		 * the size, largest first. */
		iova_stats st = stats_of(d);
		uint64_t nblocks = 0;
		for (unsigned k = 0; k < IOVA_MAX_ORDER; k++) {
			CHECK_MSG(st.free_blocks[k] == ((pages >> k) & 1), "%s: free_blocks[%u] = %" PRIu64, name, k,
				  st.free_blocks[k]);
			nblocks += st.free_blocks[k];
		}
		CHECK_EQ(nblocks, (uint64_t)__builtin_popcountll(pages));
	}
	for (unsigned k = 0; k <= max; k++) {
		const uint64_t want = blocks_that_fit(first, pages, k);
		alist held = {0};
		iova_allocation a;
		const iova_placement pl = (iova_placement)(k & 1);
		iova_status s;
		while ((s = alloc_pages(d, UINT64_C(1) << k, 0, 0, pl, &a)) == IOVA_OK) {
			CHECK_MSG(page_of(&a) % (UINT64_C(1) << k) == 0 && page_of(&a) >= first &&
					  page_of(&a) + (UINT64_C(1) << k) <= first + pages,
				  "%s: order %u block at page %" PRIu64, name, k, page_of(&a));
			alist_push(&held, &a);
			if (held.n > want)
				break;
		}
		CHECK_MSG(held.n == want, "%s: %zu blocks of order %u fit, want %" PRIu64, name, held.n, k, want);
		CHECK_MSG(s == (want ? IOVA_ERR_NO_SPACE : IOVA_ERR_UNSATISFIABLE), "%s: order %u after filling: %s", name, k,
			  iova_status_name(s));
		/* Distinct blocks: the held bytes add up. */
		CHECK_EQ(stats_of(d).allocated_bytes, held.n * (UINT64_C(1) << k) * PAGE);
		alist_free_all(d, &held);
		alist_release(&held);
		snprintf(what, sizeof what, "%s, after order %u", name, k);
		check_whole(d, first, pages, what);
	}
	iova_allocation big;
	CHECK_STATUS(alloc_pages(d, UINT64_C(2) << max, 0, 0, IOVA_PLACE_BOTTOM_UP, &big), IOVA_ERR_SIZE_TOO_LARGE);
	/* Non-power-of-two sizes: as many as there are aligned rounded blocks. */
	for (uint64_t s = 3; s <= pages / 4; s = s * 5 + 1) {
		const unsigned k = test_log2_ceil(s);
		const uint64_t want = blocks_that_fit(first, pages, k);
		alist held = {0};
		iova_allocation a;
		while (alloc_pages(d, s, 0, 0, IOVA_PLACE_BOTTOM_UP, &a) == IOVA_OK && held.n <= want)
			alist_push(&held, &a);
		CHECK_MSG(held.n == want, "%s: %zu blocks of %" PRIu64 " pages fit, want %" PRIu64, name, held.n, s, want);
		CHECK_EQ(stats_of(d).allocated_bytes, held.n * s * PAGE);
		alist_free_all(d, &held);
		alist_release(&held);
	}
	check_whole(d, first, pages, name);
	iova_domain_destroy(d);
}

/* NBBS-style: for each order k, take every block of order k, free one of each
 * buddy pair: the free space is half the domain, yet no block of order k+1
 * exists until the partners go too. Exercises merging at every level. */
static void scenario_buddy_pairs(void)
{
	const unsigned n = 12;
	const uint64_t first = UINT64_C(5) << n, pages = UINT64_C(1) << n;
	iova_domain *d = make(first, pages);
	for (unsigned k = 0; k < n; k++) {
		const uint64_t b = UINT64_C(1) << k;
		alist held = {0};
		iova_allocation a;
		while (alloc_pages(d, b, 0, 0, (iova_placement)(k & 1), &a) == IOVA_OK)
			alist_push(&held, &a);
		CHECK_EQ(held.n, pages / b);
		alist partners = {0};
		for (size_t i = 0; i < held.n; i++) {
			if ((page_of(&held.a[i]) / b) % 2 == (k % 2)) /* alternate which half of the pair goes first */
				CHECK_STATUS(iova_free(d, held.a[i].handle), IOVA_OK);
			else
				alist_push(&partners, &held.a[i]);
		}
		iova_stats st = stats_of(d);
		CHECK_EQ(st.free_bytes, pages / 2 * PAGE);
		CHECK_EQ(st.free_blocks[k], pages / b / 2);
		CHECK_EQ(st.largest_free_block, b * PAGE);
		CHECK_STATUS(alloc_pages(d, 2 * b, 0, 0, IOVA_PLACE_BOTTOM_UP, &a), IOVA_ERR_NO_SPACE);
		/* Free the partners one by one: each frees exactly one order-(k+1)
		 * block, which a request then finds at the pair's place. */
		for (size_t i = 0; i < partners.n; i++) {
			CHECK_STATUS(iova_free(d, partners.a[i].handle), IOVA_OK);
			if (i % 37 == 0) {
				const uint64_t pair = page_of(&partners.a[i]) & ~(2 * b - 1);
				iova_status s = alloc_pages(d, 2 * b, 0, 0, IOVA_PLACE_BOTTOM_UP, &a);
				/* Earlier pairs are free too; the block lies on some freed pair. */
				CHECK_MSG(s == IOVA_OK && page_of(&a) % (2 * b) == 0, "buddy pairs %u: %s", k, iova_status_name(s));
				if (s == IOVA_OK) {
					CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
					CHECK_STATUS(alloc_pages(d, 2 * b, pair, pair + 2 * b, IOVA_PLACE_BOTTOM_UP, &a), IOVA_OK);
					CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
				}
			}
		}
		char what[48];
		snprintf(what, sizeof what, "buddy pairs, order %u", k);
		check_whole(d, first, pages, what);
		alist_release(&held);
		alist_release(&partners);
	}
	iova_domain_destroy(d);
}

int main(void)
{
	scenario_optimistic();
	scenario_pessimistic();
	scenario_pathological(3);
	scenario_pathological(12);
	scenario_every_other_page(8);
	scenario_every_other_page(UINT64_C(1) << 12);
	scenario_contiguous();
	scenario_trimming();
	scenario_range();
	scenario_counts(0, UINT64_C(1) << 14, "2^14 pages at 0");
	scenario_counts(0, (UINT64_C(1) << 17) - 1, "2^17 - 1 pages at 0");
	scenario_counts(3, 5000, "5000 pages at page 3");
	scenario_counts(UINT64_C(1) << 30, 12345, "12345 pages at page 2^30");
	/* Two root words (the space straddles a boundary of the top level):
	 * a failing search ends in the other root, which has no parent. */
	scenario_counts((UINT64_C(1) << 18) - 768, 1536, "1536 pages straddling two root words");
	scenario_buddy_pairs();
	return check_exit_code();
}
