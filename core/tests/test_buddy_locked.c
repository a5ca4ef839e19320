/* SPDX-License-Identifier: MIT */
/*
 * test_buddy_locked.c - buddy-locked against drm_buddy's own test scenarios
 * (DOMAIN.md section 4, re-expressed for requests that are always
 * contiguous and naturally aligned) and its invariants after random work.
 */
#include "check.h"
#include "test_counter.h"
#include "domain.h"
#include "iova.h"
#include "strategy/strategies.h"

#include <stdio.h>
#include <string.h>

#define G UINT64_C(4096)

static iova_domain *open_domain(uint64_t base, uint64_t pages, const char *options)
{
	iova_domain *d = NULL;
	iova_domain_config cfg = {.base = base, .size = pages * G, .strategy = "buddy-locked", .options = options};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	return d;
}

static void check_invariants(const iova_domain *d, const char *where)
{
	char msg[200];
	CHECK_MSG(iova_buddy_locked_check(d->strategy, msg, sizeof msg), "%s: %s", where, msg);
}

static iova_status alloc_pages(iova_domain *d, uint64_t pages, iova_allocation *a)
{
	return iova_alloc(d, &(iova_request){.size = pages * G}, a);
}

/* (2^17 - 1) pages hold exactly one block of each order 0..16. */
static void test_optimistic(void)
{
	iova_domain *d = open_domain(0, (UINT64_C(1) << 17) - 1, NULL);
	iova_allocation a[17], x;
	for (unsigned o = 0; o <= 16; o++)
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << o, &a[o]), IOVA_OK);
	CHECK_STATUS(alloc_pages(d, 1, &x), IOVA_ERR_NO_SPACE);
	check_invariants(d, "optimistic");
	for (unsigned o = 0; o <= 16; o++)
		CHECK_STATUS(iova_free(d, a[o].handle), IOVA_OK);
	iova_stats st;
	iova_domain_stats(d, &st);
	CHECK_EQ(st.free_blocks[16] + st.free_blocks[15], 2); /* the roots, whole again */
	check_invariants(d, "optimistic, freed");
	iova_domain_destroy(d);
}

/* 2^16 pages: one block of each order 0..15 plus a page fill it; freeing in
 * increasing size makes each next order available; then all of it is. */
static void test_pessimistic(void)
{
	iova_domain *d = open_domain(0, UINT64_C(1) << 16, NULL);
	iova_allocation a[16], extra, x;
	for (unsigned o = 0; o < 16; o++)
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << o, &a[o]), IOVA_OK);
	CHECK_STATUS(alloc_pages(d, 1, &extra), IOVA_OK);
	for (unsigned o = 0; o <= 16; o++)
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << o, &x), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(iova_free(d, extra.handle), IOVA_OK);
	for (unsigned o = 0; o < 16; o++) {
		CHECK_STATUS(iova_free(d, a[o].handle), IOVA_OK);
		CHECK_STATUS(alloc_pages(d, UINT64_C(1) << (o + 1), &x), IOVA_OK);
		CHECK_STATUS(iova_free(d, x.handle), IOVA_OK);
	}
	CHECK_STATUS(alloc_pages(d, UINT64_C(1) << 16, &x), IOVA_OK);
	check_invariants(d, "pessimistic");
	CHECK_STATUS(iova_free(d, x.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* 8 pages, every other one pinned: half free, no 2-page block. */
static void test_pathological(void)
{
	iova_domain *d = open_domain(0, 8, NULL);
	iova_allocation p[8], x;
	for (int i = 0; i < 8; i++)
		CHECK_STATUS(alloc_pages(d, 1, &p[i]), IOVA_OK);
	for (int i = 0; i < 8; i++)
		if (p[i].iova / G % 2 == 0)
			CHECK_STATUS(iova_free(d, p[i].handle), IOVA_OK);
	iova_stats st;
	iova_domain_stats(d, &st);
	CHECK_EQ(st.free_bytes, 4 * G);
	CHECK_STATUS(alloc_pages(d, 2, &x), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(alloc_pages(d, 3, &x), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(alloc_pages(d, 1, &x), IOVA_OK);
	check_invariants(d, "pathological");
	iova_domain_destroy(d);
}

/*
 * Contiguous. drm's scenario: 48 pages allocated round-robin to three
 * lists; freeing two lists leaves single pages pinned every third page.
 * Here requests are naturally aligned, so a 2-page request is met by two
 * free buddies; a 3-page request needs a 4-aligned start with three free
 * pages, which exists only once all lists are freed.
 */
static void test_contiguous(void)
{
	iova_domain *d = open_domain(0, 48, NULL);
	iova_allocation p[48], x;
	for (int i = 0; i < 48; i++)
		CHECK_STATUS(alloc_pages(d, 1, &p[i]), IOVA_OK);
	for (int i = 0; i < 48; i++)
		if (p[i].iova / G % 3 != 2)
			CHECK_STATUS(iova_free(d, p[i].handle), IOVA_OK);
	CHECK_STATUS(alloc_pages(d, 3, &x), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(alloc_pages(d, 2, &x), IOVA_OK);
	CHECK_STATUS(iova_free(d, x.handle), IOVA_OK);
	for (int i = 0; i < 48; i++)
		if (p[i].iova / G % 3 == 2)
			CHECK_STATUS(iova_free(d, p[i].handle), IOVA_OK);
	CHECK_STATUS(alloc_pages(d, 3, &x), IOVA_OK);
	check_invariants(d, "contiguous");
	iova_domain_destroy(d);
}

/* Try-harder: three free pages at a 4-aligned start whose fourth is pinned
 * span free blocks that are not buddies ([0,2) and [2,3)). */
static void test_try_harder(void)
{
	for (int enabled = 1; enabled >= 0; enabled--) {
		iova_domain *d = open_domain(0, 8, enabled ? NULL : "try_harder=0");
		iova_allocation p[8], x;
		for (int i = 0; i < 8; i++)
			CHECK_STATUS(alloc_pages(d, 1, &p[i]), IOVA_OK);
		for (int i = 0; i < 8; i++) {
			uint64_t page = p[i].iova / G;
			if (page < 3 || page == 5 || page == 6)
				CHECK_STATUS(iova_free(d, p[i].handle), IOVA_OK);
		}
		iova_status st = alloc_pages(d, 3, &x);
		if (enabled) {
			CHECK_STATUS(st, IOVA_OK);
			CHECK_EQ(x.iova, 0);
			CHECK_EQ(test_counter(d, "try_harder_hits"), 1);
			check_invariants(d, "try harder");
			CHECK_STATUS(iova_free(d, x.handle), IOVA_OK);
		} else {
			CHECK_STATUS(st, IOVA_ERR_NO_SPACE);
		}
		check_invariants(d, "try harder, freed");
		iova_domain_destroy(d);
	}
}

/* Range: inside an aligned window a window-sized request succeeds, also a
 * non-power-of-two one whose rounded block would overhang the window;
 * window + 1 page, or a window one page off alignment, fails. */
static void test_range(void)
{
	const uint64_t pages = 1024;
	iova_domain *d = open_domain(0, pages, NULL);
	iova_allocation x;
	for (uint64_t size = 1; size <= 256; size *= 2) {
		for (uint64_t start = 0; start + size <= pages; start += size * 3) {
			iova_request r = {.size = size * G, .lowest = start * G, .highest = (start + size) * G - 1};
			CHECK_STATUS(iova_alloc(d, &r, &x), IOVA_OK);
			CHECK_EQ(x.iova, start * G);
			CHECK_STATUS(iova_free(d, x.handle), IOVA_OK);
			r.size += G;
			CHECK_STATUS(iova_alloc(d, &r, &x), IOVA_ERR_RANGE_TOO_SMALL);
			if (size > 1) {
				r = (iova_request){.size = size * G, .lowest = (start + 1) * G, .highest = (start + size + 1) * G - 1};
				CHECK_STATUS(iova_alloc(d, &r, &x), start + size + 1 <= pages ? IOVA_ERR_UNSATISFIABLE
											  : IOVA_ERR_RANGE_TOO_SMALL);
			}
		}
	}
	iova_request three = {.size = 3 * G, .lowest = 8 * G, .highest = 11 * G - 1};
	CHECK_STATUS(iova_alloc(d, &three, &x), IOVA_OK);
	CHECK_EQ(x.iova, 8 * G);
	check_invariants(d, "range");
	iova_domain_destroy(d);
}

/* Random work with every constraint, the invariants checked throughout. */
static void test_random(void)
{
	const uint64_t base = UINT64_C(5) << 20, pages = 3000; /* not a power of two, base not aligned to it */
	iova_domain *d = open_domain(base, pages, NULL);
	static iova_allocation live[512];
	int n = 0;
	uint64_t seed = 99;
	for (int step = 0; step < 20000; step++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		if (n && (seed % 100 < 45 || n == 512)) {
			int i = (int)(seed / 100 % (uint64_t)n);
			CHECK_STATUS(iova_free(d, live[i].handle), IOVA_OK);
			live[i] = live[--n];
		} else {
			iova_request r = {.size = (1 + seed / 7 % 37) * G, .placement = (iova_placement)(seed / 11 % 2)};
			if (seed / 13 % 4 == 0) {
				r.lowest = base + seed / 17 % pages * G;
				r.highest = r.lowest + 512 * G;
			}
			if (seed / 19 % 6 == 0)
				r.alignment = G << (seed / 23 % 8);
			iova_status st = iova_alloc(d, &r, &live[n]);
			if (st == IOVA_OK)
				n++;
			else
				CHECK_MSG(st == IOVA_ERR_NO_SPACE || st == IOVA_ERR_UNSATISFIABLE || st == IOVA_ERR_RANGE_TOO_SMALL,
					  "%s", iova_status_name(st));
		}
		if (step % 500 == 0)
			check_invariants(d, "random");
	}
	while (n)
		CHECK_STATUS(iova_free(d, live[--n].handle), IOVA_OK);
	check_invariants(d, "random, all freed");
	iova_stats st;
	iova_domain_stats(d, &st);
	CHECK_EQ(st.free_bytes, pages * G);
	CHECK_EQ(st.free_extents, 1);
	iova_domain_destroy(d);
}

int main(void)
{
	test_optimistic();
	test_pessimistic();
	test_pathological();
	test_contiguous();
	test_try_harder();
	test_range();
	test_random();
	return check_exit_code();
}
