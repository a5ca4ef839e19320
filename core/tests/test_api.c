/* SPDX-License-Identifier: MIT */
/*
 * test_api.c - every error of the public API, provoked and checked by name.
 *
 * Domain configurations, request validation (each rule alone, so exactly one
 * error applies), unsatisfiable versus out-of-space, NULL pointers, double
 * frees, stale handles, forged handles (every bit of a valid handle flipped,
 * handles of another domain, random values). After every refused free the
 * domain must be exactly as before: same free extents, same statistics, only
 * failed_frees one higher. Also: cache types carried, granule rounding and
 * requested-byte accounting, status names and messages, strategy
 * enumeration, and where the lock-free buddy places blocks (top-down from
 * the top, bottom-up from the bottom, threads spread apart).
 *
 * The stale-handle and largest-domain tests are regression tests for four
 * defects test_differential and this test found in the first cut of the
 * buddy (fixed in d8547ff "refuse stale handles that name a prefix...").
 */
#include "testutil.h"
#include "prim/thread_slot.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define DOMAIN_BASE (UINT64_C(1) << 30)
#define DOMAIN_PAGES UINT64_C(1024)

static iova_domain *make_domain(uint64_t base, uint64_t pages)
{
	iova_domain_config cfg = {.base = base, .size = pages * PAGE};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (!d) {
		fprintf(stderr, "cannot create a domain; giving up\n");
		exit(1);
	}
	return d;
}

/* Allocate @pages pages inside the window of @window pages at page @at of
 * the domain (relative to DOMAIN_BASE); check it lands at @at. */
static iova_allocation alloc_at(iova_domain *d, uint64_t pages, uint64_t at, uint64_t window)
{
	iova_request r = {.size = pages * PAGE, .lowest = DOMAIN_BASE + at * PAGE,
			  .highest = DOMAIN_BASE + (at + window) * PAGE - 1};
	iova_allocation a;
	iova_status st = iova_alloc(d, &r, &a);
	CHECK_MSG(st == IOVA_OK && a.iova == DOMAIN_BASE + at * PAGE,
		  "alloc %" PRIu64 " pages in window [%" PRIu64 ", +%" PRIu64 "): %s at page %" PRId64, pages, at, window,
		  iova_status_name(st), (int64_t)((a.iova - DOMAIN_BASE) / PAGE));
	return a;
}

/* Is page @page (relative to DOMAIN_BASE) free? */
struct page_probe {
	uint64_t addr;
	bool free;
};

static bool probe_extent(void *ctx, uint64_t iova, uint64_t bytes)
{
	struct page_probe *p = ctx;
	if (p->addr >= iova && p->addr < iova + bytes)
		p->free = true;
	return !p->free;
}

static bool page_free(const iova_domain *d, uint64_t page)
{
	struct page_probe p = {DOMAIN_BASE + page * PAGE, false};
	iova_domain_for_each_free(d, probe_extent, &p);
	return p.free;
}

/* Free @h, expecting @want and, if it is an error, no change at all. */
static void bad_free(iova_domain *d, iova_handle h, iova_status want, const char *what)
{
	domain_snapshot before = {0};
	snapshot_take(d, &before);
	iova_status st = iova_free(d, h);
	CHECK_MSG(st == want, "%s: iova_free returned %s, want %s", what, iova_status_name(st), iova_status_name(want));
	if (st != IOVA_OK)
		snapshot_unchanged(d, &before, 1, what);
	snapshot_free(&before);
}

/* ---------------------------------------------------------------------- */

static void test_status_text(void)
{
	static const struct {
		iova_status s;
		const char *name;
	} names[] = {
#define S(x) {x, #x}
		S(IOVA_OK),
		S(IOVA_ERR_INVALID_ARGUMENT),
		S(IOVA_ERR_ZERO_SIZE),
		S(IOVA_ERR_SIZE_TOO_LARGE),
		S(IOVA_ERR_RANGE_INVERTED),
		S(IOVA_ERR_RANGE_TOO_SMALL),
		S(IOVA_ERR_BAD_BOUNDARY),
		S(IOVA_ERR_BOUNDARY_TOO_SMALL),
		S(IOVA_ERR_BAD_ALIGNMENT),
		S(IOVA_ERR_BAD_CACHE_TYPE),
		S(IOVA_ERR_BAD_PLACEMENT),
		S(IOVA_ERR_UNSATISFIABLE),
		S(IOVA_ERR_NO_SPACE),
		S(IOVA_ERR_DOUBLE_FREE),
		S(IOVA_ERR_UNKNOWN_HANDLE),
		S(IOVA_ERR_FORGED_HANDLE),
		S(IOVA_ERR_NO_MEMORY),
		S(IOVA_ERR_UNSUPPORTED),
		S(IOVA_ERR_NOT_MAPPED),
		S(IOVA_ERR_ALREADY_MAPPED),
		S(IOVA_ERR_STILL_MAPPED),
		S(IOVA_ERR_DEVICE_FAULT),
		S(IOVA_ERR_NO_IOMMU),
#undef S
	};
	CHECK_EQ(sizeof names / sizeof names[0], IOVA_STATUS_COUNT);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *n = iova_status_name(names[i].s), *m = iova_status_message(names[i].s);
		CHECK_MSG(n && !strcmp(n, names[i].name), "iova_status_name(%d) = %s, want %s", (int)names[i].s,
			  n ? n : "NULL", names[i].name);
		CHECK_MSG(m && strlen(m) > 5, "iova_status_message(%s) is empty", names[i].name);
		for (size_t j = 0; j < i; j++) {
			CHECK_MSG(strcmp(n, iova_status_name(names[j].s)) != 0, "%s and %s share a name", names[i].name,
				  names[j].name);
			CHECK_MSG(strcmp(m, iova_status_message(names[j].s)) != 0, "%s and %s share a message",
				  names[i].name, names[j].name);
		}
	}
	CHECK(!strcmp(iova_status_name(IOVA_STATUS_COUNT), "IOVA_ERR_UNKNOWN_STATUS"));
	CHECK(!strcmp(iova_status_name((iova_status)-1), "IOVA_ERR_UNKNOWN_STATUS"));
	CHECK(iova_status_message((iova_status)12345) && *iova_status_message((iova_status)12345));
}

static void test_strategies(void)
{
	const size_t n = iova_strategy_count();
	CHECK(n >= 1);
	bool have_buddy = false;
	for (size_t i = 0; i < n; i++) {
		const char *name = iova_strategy_name(i), *desc = iova_strategy_description(i);
		CHECK_MSG(name && *name && desc && *desc, "strategy %zu has no name or description", i);
		if (!name)
			continue;
		CHECK_MSG((iova_strategy_caps(i) & ~(unsigned)IOVA_CAP_ALL) == 0, "%s: unknown capability bits", name);
		for (size_t j = 0; j < i; j++)
			CHECK_MSG(strcmp(name, iova_strategy_name(j)) != 0, "two strategies named %s", name);
		if (!strcmp(name, "buddy-lf")) {
			have_buddy = true;
			CHECK_EQ(iova_strategy_caps(i), IOVA_CAP_ALL);
		}
		/* Every listed strategy creates a domain that allocates and frees. */
		iova_domain_config cfg = {.base = 0, .size = 64 * PAGE, .strategy = name};
		iova_domain *d = NULL;
		CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
		if (!d)
			continue;
		CHECK(!strcmp(iova_domain_get_config(d).strategy, name));
		CHECK_EQ(iova_domain_caps(d), iova_strategy_caps(i));
		iova_request r = {.size = 3 * PAGE};
		iova_allocation a;
		CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
		iova_domain_destroy(d);
	}
	CHECK_MSG(have_buddy, "buddy-lf is not listed");
	CHECK(iova_strategy_name(n) == NULL);
	CHECK(iova_strategy_description(n) == NULL);
	CHECK_EQ(iova_strategy_caps(n), 0);
}

static void expect_config(iova_domain_config cfg, iova_status want, const char *what)
{
	iova_domain *d = (iova_domain *)&cfg; /* anything non-NULL: must be reset */
	iova_status st = iova_domain_create(&cfg, &d);
	CHECK_MSG(st == want, "config %s: %s, want %s", what, iova_status_name(st), iova_status_name(want));
	if (st == IOVA_OK) {
		CHECK(d != NULL);
		iova_domain_destroy(d);
	} else {
		CHECK_MSG(d == NULL, "config %s: *out not NULL after failure", what);
	}
}

static void test_domain_configs(void)
{
	const iova_status BAD = IOVA_ERR_INVALID_ARGUMENT;
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(NULL, &d), BAD);
	CHECK(d == NULL);
	iova_domain_config ok = {.base = 0, .size = 16 * PAGE};
	CHECK_STATUS(iova_domain_create(&ok, NULL), BAD);

	/* Granules: 0 (4 KiB) or a power of two in [4 KiB, 64 KiB]. */
	expect_config((iova_domain_config){.size = 1 << 20, .granule = 0}, IOVA_OK, "granule 0");
	for (uint64_t g = 4096; g <= 65536; g <<= 1) {
		char what[64];
		snprintf(what, sizeof what, "granule %" PRIu64, g);
		expect_config((iova_domain_config){.base = g * 3, .size = g * 5, .granule = g}, IOVA_OK, what);
	}
	expect_config((iova_domain_config){.size = 1 << 20, .granule = 3000}, BAD, "granule 3000 (not a power of two)");
	expect_config((iova_domain_config){.size = 1 << 20, .granule = 4097}, BAD, "granule 4097");
	expect_config((iova_domain_config){.size = 1 << 20, .granule = 2048}, BAD, "granule 2 KiB (below 4 KiB)");
	expect_config((iova_domain_config){.size = 1 << 20, .granule = 1}, BAD, "granule 1");
	expect_config((iova_domain_config){.size = 1 << 20, .granule = 131072}, BAD, "granule 128 KiB (above 64 KiB)");
	expect_config((iova_domain_config){.size = 1 << 20, .granule = UINT64_C(1) << 63}, BAD, "granule 2^63");

	/* Size: a non-zero multiple of the granule. */
	expect_config((iova_domain_config){.size = 0}, BAD, "size 0");
	expect_config((iova_domain_config){.size = 4097}, BAD, "size 4097");
	expect_config((iova_domain_config){.size = 100}, BAD, "size 100 (below one granule)");
	expect_config((iova_domain_config){.size = 3 * 8192 + 4096, .granule = 8192}, BAD, "size not a multiple of 8 KiB");
	expect_config((iova_domain_config){.size = PAGE}, IOVA_OK, "one granule");
	expect_config((iova_domain_config){.size = 3 * PAGE}, IOVA_OK, "three granules");

	/* Base: a multiple of the granule. */
	expect_config((iova_domain_config){.base = 1, .size = 16 * PAGE}, BAD, "base 1");
	expect_config((iova_domain_config){.base = 2048, .size = 16 * PAGE}, BAD, "base 2 KiB");
	expect_config((iova_domain_config){.base = PAGE, .size = 16 * 65536, .granule = 65536}, BAD,
		      "base 4 KiB with 64 KiB granules");
	expect_config((iova_domain_config){.base = 7 * PAGE, .size = 16 * PAGE}, IOVA_OK, "unaligned base 7 pages");

	/* base + size must not overflow. */
	expect_config((iova_domain_config){.base = UINT64_MAX - 4 * PAGE + 1, .size = 8 * PAGE}, BAD, "wraps around");
	expect_config((iova_domain_config){.base = UINT64_C(0xFFFF000000000000), .size = UINT64_C(1) << 49}, BAD,
		      "wraps around by 2^48");
	expect_config((iova_domain_config){.base = UINT64_C(1) << 60, .size = 16 * PAGE}, IOVA_OK, "base 2^60");

	/* At most 2^38 granules. */
	expect_config((iova_domain_config){.size = ((UINT64_C(1) << 38) + 1) * PAGE}, BAD, "2^38 + 1 granules");
	expect_config((iova_domain_config){.size = UINT64_C(1) << 51}, BAD, "2^39 granules");
	expect_config((iova_domain_config){.size = UINT64_MAX & ~(PAGE - 1)}, BAD, "2^52 - 1 granules");
	/* Exactly 2^38 granules: see test_largest_domain(). */

	/* Strategies and options. */
	expect_config((iova_domain_config){.size = 16 * PAGE, .strategy = "no-such-strategy"}, BAD, "unknown strategy");
	expect_config((iova_domain_config){.size = 16 * PAGE, .strategy = ""}, BAD, "empty strategy name");
	expect_config((iova_domain_config){.size = 16 * PAGE, .strategy = "buddy-lf "}, BAD, "strategy with a trailing space");
	expect_config((iova_domain_config){.size = 16 * PAGE, .strategy = "buddy-lf"}, IOVA_OK, "buddy-lf by name");
	expect_config((iova_domain_config){.size = 16 * PAGE, .options = "magazine_size=127"}, BAD,
		      "options given to buddy-lf");
	expect_config((iova_domain_config){.size = 16 * PAGE, .strategy = "buddy-lf", .options = "nonsense"}, BAD,
		      "malformed options");
	expect_config((iova_domain_config){.size = 16 * PAGE, .options = ""}, IOVA_OK, "empty options");

	/* What the domain reports back: defaults filled in, options not kept. */
	char opts[] = "";
	iova_domain_config cfg = {.base = 5 * PAGE, .size = 11 * PAGE, .options = opts};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (d) {
		iova_domain_config got = iova_domain_get_config(d);
		CHECK_EQ(got.base, 5 * PAGE);
		CHECK_EQ(got.size, 11 * PAGE);
		CHECK_EQ(got.granule, IOVA_DEFAULT_GRANULE);
		CHECK(got.strategy && !strcmp(got.strategy, "buddy-lf"));
		CHECK(got.options == NULL);
		iova_domain_destroy(d);
	}
	iova_domain_destroy(NULL); /* ignored */
}

/* One request that breaks exactly one rule; *out must come back zeroed and
 * the domain unchanged. */
static void expect_request(iova_domain *d, iova_request r, iova_status want, const char *what)
{
	domain_snapshot before = {0};
	snapshot_take(d, &before);
	iova_allocation a;
	memset(&a, 0x5a, sizeof a);
	iova_status st = iova_alloc(d, &r, &a);
	CHECK_MSG(st == want, "request %s: %s, want %s", what, iova_status_name(st), iova_status_name(want));
	if (st == IOVA_OK) {
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
		snapshot_free(&before);
		return;
	}
	static const iova_allocation zero;
	CHECK_MSG(!memcmp(&a, &zero, sizeof a), "request %s: *out not zeroed", what);
	iova_stats now;
	CHECK_STATUS(iova_domain_stats(d, &now), IOVA_OK);
	CHECK_MSG(now.failed_allocs == before.stats.failed_allocs + 1, "request %s: failed_allocs not counted", what);
	before.stats.failed_allocs++;
	snapshot_unchanged(d, &before, 0, what);
	snapshot_free(&before);
}

static void test_request_errors(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	const uint64_t B = DOMAIN_BASE, END = DOMAIN_BASE + DOMAIN_PAGES * PAGE;
	iova_allocation keep = alloc_at(d, 5, 96, 8); /* something live, so "unchanged" means something */

	expect_request(d, (iova_request){.size = 0}, IOVA_ERR_ZERO_SIZE, "size 0");
	expect_request(d, (iova_request){.size = 0, .lowest = B, .highest = END - 1}, IOVA_ERR_ZERO_SIZE,
		       "size 0 in a window");

	expect_request(d, (iova_request){.size = DOMAIN_PAGES * PAGE + 1}, IOVA_ERR_SIZE_TOO_LARGE, "domain + 1 byte");
	expect_request(d, (iova_request){.size = UINT64_MAX}, IOVA_ERR_SIZE_TOO_LARGE, "size 2^64 - 1");
	expect_request(d, (iova_request){.size = UINT64_C(1) << 63}, IOVA_ERR_SIZE_TOO_LARGE, "size 2^63");

	expect_request(d, (iova_request){.size = PAGE, .lowest = B + 2 * PAGE, .highest = B + PAGE}, IOVA_ERR_RANGE_INVERTED,
		       "lowest > highest");
	expect_request(d, (iova_request){.size = PAGE, .lowest = B + 1, .highest = B}, IOVA_ERR_RANGE_INVERTED,
		       "lowest = highest + 1");

	expect_request(d, (iova_request){.size = 3 * PAGE, .lowest = B + 16 * PAGE, .highest = B + 18 * PAGE - 1},
		       IOVA_ERR_RANGE_TOO_SMALL, "3 pages in a 2-page window");
	expect_request(d, (iova_request){.size = 2 * PAGE, .lowest = B + 1, .highest = B + 2 * PAGE - 1},
		       IOVA_ERR_RANGE_TOO_SMALL, "window holding 1 whole granule (unaligned lowest)");
	expect_request(d, (iova_request){.size = 2 * PAGE, .lowest = B, .highest = B + 2 * PAGE - 2},
		       IOVA_ERR_RANGE_TOO_SMALL, "window holding 1 whole granule (unaligned highest)");
	expect_request(d, (iova_request){.size = PAGE, .lowest = 0, .highest = B - 1}, IOVA_ERR_RANGE_TOO_SMALL,
		       "window below the domain");
	expect_request(d, (iova_request){.size = PAGE, .lowest = END}, IOVA_ERR_RANGE_TOO_SMALL,
		       "window above the domain");
	expect_request(d, (iova_request){.size = 4 * PAGE, .lowest = END - 2 * PAGE}, IOVA_ERR_RANGE_TOO_SMALL,
		       "window overlapping the domain's top by 2 pages");

	expect_request(d, (iova_request){.size = PAGE, .boundary = 3 * PAGE}, IOVA_ERR_BAD_BOUNDARY, "boundary 3 pages");
	expect_request(d, (iova_request){.size = PAGE, .boundary = 12345}, IOVA_ERR_BAD_BOUNDARY, "boundary 12345");
	expect_request(d, (iova_request){.size = PAGE, .boundary = UINT64_MAX}, IOVA_ERR_BAD_BOUNDARY, "boundary 2^64-1");

	expect_request(d, (iova_request){.size = 2 * PAGE, .boundary = PAGE}, IOVA_ERR_BOUNDARY_TOO_SMALL,
		       "2 pages, boundary 1 page");
	expect_request(d, (iova_request){.size = 5 * PAGE, .boundary = 4 * PAGE}, IOVA_ERR_BOUNDARY_TOO_SMALL,
		       "5 pages, boundary 4 pages");
	expect_request(d, (iova_request){.size = 1, .boundary = 2048}, IOVA_ERR_BOUNDARY_TOO_SMALL,
		       "1 byte (one granule), boundary 2 KiB");

	expect_request(d, (iova_request){.size = PAGE, .alignment = 3 * PAGE}, IOVA_ERR_BAD_ALIGNMENT, "alignment 3 pages");
	expect_request(d, (iova_request){.size = PAGE, .alignment = 6000}, IOVA_ERR_BAD_ALIGNMENT, "alignment 6000");

	expect_request(d, (iova_request){.size = PAGE, .cache_type = (iova_cache_type)3}, IOVA_ERR_BAD_CACHE_TYPE,
		       "cache type 3");
	expect_request(d, (iova_request){.size = PAGE, .cache_type = (iova_cache_type)-1}, IOVA_ERR_BAD_CACHE_TYPE,
		       "cache type -1");
	expect_request(d, (iova_request){.size = PAGE, .placement = (iova_placement)2}, IOVA_ERR_BAD_PLACEMENT,
		       "placement 2");
	expect_request(d, (iova_request){.size = PAGE, .placement = (iova_placement)-1}, IOVA_ERR_BAD_PLACEMENT,
		       "placement -1");

	/* Unsatisfiable: well formed, but no placement even in an empty domain. */
	expect_request(d, (iova_request){.size = 2 * PAGE, .lowest = B + PAGE, .highest = B + 3 * PAGE - 1},
		       IOVA_ERR_UNSATISFIABLE, "2 pages in a misaligned 2-page window");
	/* A trimmed block needs only its held pages inside the window; the tail of
	 * its rounded block must still fit in the domain. */
	expect_request(d, (iova_request){.size = 3 * PAGE, .lowest = B + 8 * PAGE, .highest = B + 11 * PAGE - 1},
		       IOVA_OK, "3 pages in a 3-page window (the tail of the rounded 4 lies beyond it)");
	{
		/* 1023 pages: the last three could hold 3 pages, but their rounded
		 * block of 4 would end past the domain. */
		iova_domain *odd = make_domain(DOMAIN_BASE, DOMAIN_PAGES - 1);
		expect_request(odd, (iova_request){.size = 3 * PAGE, .lowest = B + (DOMAIN_PAGES - 4) * PAGE},
			       IOVA_ERR_UNSATISFIABLE, "3 pages in the last 3 of a 1023-page domain");
		expect_request(odd, (iova_request){.size = 3 * PAGE, .lowest = B + (DOMAIN_PAGES - 8) * PAGE},
			       IOVA_OK, "3 pages in the last 7 of a 1023-page domain");
		iova_domain_destroy(odd);
	}
	expect_request(d, (iova_request){.size = PAGE, .alignment = UINT64_C(1) << 31}, IOVA_ERR_UNSATISFIABLE,
		       "alignment 2 GiB in [1 GiB, 1 GiB + 4 MiB)");
	expect_request(d, (iova_request){.size = PAGE, .lowest = B + PAGE, .highest = B + 100 * PAGE, .alignment = 128 * PAGE},
		       IOVA_ERR_UNSATISFIABLE, "no 128-page-aligned page in the window");
	expect_request(d, (iova_request){.size = PAGE, .alignment = UINT64_C(1) << 63}, IOVA_ERR_UNSATISFIABLE,
		       "alignment 2^63");

	/* Accepted shapes next to the rules: boundary equal to the size, a
	 * boundary with a non-power-of-two size, alignment below the granule. */
	expect_request(d, (iova_request){.size = 4 * PAGE, .boundary = 4 * PAGE}, IOVA_OK, "boundary = size");
	expect_request(d, (iova_request){.size = 3 * PAGE, .boundary = 4 * PAGE}, IOVA_OK, "3 pages, boundary 4 pages");
	expect_request(d, (iova_request){.size = PAGE, .alignment = 512}, IOVA_OK, "alignment 512 bytes");
	expect_request(d, (iova_request){.size = PAGE, .lowest = B + 5, .highest = 0}, IOVA_OK, "lowest only (highest 0)");
	expect_request(d, (iova_request){.size = PAGE, .lowest = 0, .highest = UINT64_MAX}, IOVA_OK, "highest 2^64-1");

	/* NULL pointers. */
	iova_request r = {.size = PAGE};
	iova_allocation a;
	memset(&a, 0x5a, sizeof a);
	CHECK_STATUS(iova_alloc(NULL, &r, &a), IOVA_ERR_INVALID_ARGUMENT);
	static const iova_allocation zero;
	CHECK(!memcmp(&a, &zero, sizeof a));
	memset(&a, 0x5a, sizeof a);
	CHECK_STATUS(iova_alloc(d, NULL, &a), IOVA_ERR_INVALID_ARGUMENT);
	CHECK(!memcmp(&a, &zero, sizeof a));
	CHECK_STATUS(iova_alloc(d, &r, NULL), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_STATUS(iova_free(NULL, keep.handle), IOVA_ERR_INVALID_ARGUMENT);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(NULL, &st), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_STATUS(iova_domain_stats(d, NULL), IOVA_ERR_INVALID_ARGUMENT);
	iova_domain_for_each_free(NULL, extent_list_add, NULL); /* no call, no crash */
	iova_domain_for_each_free(d, NULL, NULL);
	iova_domain_flush_caches(NULL);
	iova_domain_counters(NULL, NULL, NULL);

	CHECK_STATUS(iova_free(d, keep.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* IOVA_ERR_UNSATISFIABLE is about the constraints, IOVA_ERR_NO_SPACE about
 * the current occupancy: fill a window and ask again. */
static void test_unsatisfiable_vs_no_space(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	const uint64_t B = DOMAIN_BASE;
	iova_request in_window = {.size = 4 * PAGE, .lowest = B + 64 * PAGE, .highest = B + 80 * PAGE - 1};
	iova_request impossible = {.size = 4 * PAGE, .lowest = B + 66 * PAGE, .highest = B + 70 * PAGE - 1};
	iova_allocation a[4], x;
	CHECK_STATUS(iova_alloc(d, &impossible, &x), IOVA_ERR_UNSATISFIABLE); /* empty domain */
	for (int i = 0; i < 4; i++) {
		CHECK_STATUS(iova_alloc(d, &in_window, &a[i]), IOVA_OK);
		CHECK(a[i].iova >= B + 64 * PAGE && a[i].iova + a[i].size <= B + 80 * PAGE);
	}
	CHECK_STATUS(iova_alloc(d, &in_window, &x), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(iova_alloc(d, &impossible, &x), IOVA_ERR_UNSATISFIABLE); /* still about the constraints */
	/* The rest of the domain is free: a request outside the window succeeds. */
	iova_request outside = {.size = 4 * PAGE};
	CHECK_STATUS(iova_alloc(d, &outside, &x), IOVA_OK);
	CHECK_STATUS(iova_free(d, x.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a[2].handle), IOVA_OK);
	CHECK_STATUS(iova_alloc(d, &in_window, &x), IOVA_OK);
	CHECK_EQ(x.iova, a[2].iova);
	/* A full domain: every satisfiable request is NO_SPACE, the rest UNSATISFIABLE. */
	iova_request page = {.size = PAGE};
	iova_allocation fill;
	uint64_t n = 0;
	while (iova_alloc(d, &page, &fill) == IOVA_OK)
		n++;
	CHECK_EQ(n, DOMAIN_PAGES - 16);
	CHECK_STATUS(iova_alloc(d, &page, &fill), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(iova_alloc(d, &impossible, &fill), IOVA_ERR_UNSATISFIABLE);
	iova_request huge_align = {.size = PAGE, .alignment = UINT64_C(1) << 40};
	CHECK_STATUS(iova_alloc(d, &huge_align, &fill), IOVA_ERR_UNSATISFIABLE);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.free_bytes, 0);
	iova_domain_destroy(d); /* live allocations are discarded */
}

static void test_double_free(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	static const uint64_t sizes[] = {1, 2, 3, 16, 17, 32, 100, 513, DOMAIN_PAGES};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		iova_request r = {.size = sizes[i] * PAGE - 7};
		iova_allocation a, other;
		CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
		iova_request small = {.size = PAGE};
		bool have_other = sizes[i] < DOMAIN_PAGES && iova_alloc(d, &small, &other) == IOVA_OK;
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
		char what[64];
		snprintf(what, sizeof what, "double free of %" PRIu64 " pages", sizes[i]);
		bad_free(d, a.handle, IOVA_ERR_DOUBLE_FREE, what);
		bad_free(d, a.handle, IOVA_ERR_DOUBLE_FREE, what); /* and a third time */
		if (have_other)
			CHECK_STATUS(iova_free(d, other.handle), IOVA_OK);
	}
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.free_bytes, DOMAIN_PAGES * PAGE);
	CHECK_EQ(st.live_allocations, 0);
	CHECK_EQ(st.failed_frees, 2 * (sizeof sizes / sizeof sizes[0]));
	iova_domain_destroy(d);
}

/*
 * Stale handles: authentic, but the block was freed and the space reused.
 *
 * iova.h: IOVA_ERR_DOUBLE_FREE "when the block is already free",
 * IOVA_ERR_UNKNOWN_HANDLE "when the handle is authentic but its block is no
 * longer allocated as issued (freed, then reused)". A failed free changes
 * nothing.
 */
static void test_stale_reused_smaller(void)
{
	/* A 4-page handle; the space now holds a 2-page block at the same address. */
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	iova_allocation a = alloc_at(d, 4, 64, 4);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	iova_allocation b = alloc_at(d, 2, 64, 2);
	bad_free(d, a.handle, IOVA_ERR_UNKNOWN_HANDLE, "stale 4-page handle over a live 2-page block");
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	/* A 2-page handle; the space now holds a 3-page block at the same address. */
	a = alloc_at(d, 2, 64, 2);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	b = alloc_at(d, 3, 64, 4);
	bad_free(d, a.handle, IOVA_ERR_UNKNOWN_HANDLE, "stale 2-page handle over a live 3-page block");
	/* A 1-page handle; the page is now the second page of a live block. */
	iova_allocation c = alloc_at(d, 1, 201, 1);
	CHECK_STATUS(iova_free(d, c.handle), IOVA_OK);
	iova_allocation e = alloc_at(d, 2, 200, 2);
	bad_free(d, c.handle, IOVA_ERR_UNKNOWN_HANDLE, "stale 1-page handle on the second page of a live block");
	CHECK_STATUS(iova_free(d, e.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/*
 * Defect 1 (fixed in d8547ff; was free.c, bad_free()): a stale handle whose block is entirely free
 * is reported as IOVA_ERR_UNKNOWN_HANDLE when the block's first field has
 * since been split (a smaller block was allocated and freed inside it, so the
 * field reads SPLIT_FULL rather than FREE). iova.h asks for DOUBLE_FREE.
 */
static void test_stale_block_entirely_free(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	iova_allocation a = alloc_at(d, 32, 64, 32);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	iova_allocation b = alloc_at(d, 1, 64, 1);
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	for (uint64_t p = 64; p < 96; p++)
		CHECK(page_free(d, p));
	bad_free(d, a.handle, IOVA_ERR_DOUBLE_FREE, "defect 1: stale 32-page handle, block entirely free but split");
	/* The same at level 0 is right: a 2-page block, split and re-merged. */
	iova_allocation c = alloc_at(d, 2, 128, 2);
	CHECK_STATUS(iova_free(d, c.handle), IOVA_OK);
	iova_allocation e = alloc_at(d, 1, 129, 1);
	CHECK_STATUS(iova_free(d, e.handle), IOVA_OK);
	bad_free(d, c.handle, IOVA_ERR_DOUBLE_FREE, "stale 2-page handle, block entirely free");
	iova_domain_destroy(d);
}

/*
 * Defect 2 (fixed in d8547ff; was free.c, free_l0() / bad_free()): a stale handle whose first
 * granule now lies inside a larger live block (allocated at a higher level,
 * so the level-0 word below it reads NOTHERE) is reported as
 * IOVA_ERR_DOUBLE_FREE. iova.h asks for UNKNOWN_HANDLE: the block was reused.
 */
static void test_stale_inside_larger_block(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	iova_allocation a = alloc_at(d, 1, 64, 1);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	iova_allocation b = alloc_at(d, 32, 64, 32);
	CHECK(!page_free(d, 64));
	bad_free(d, a.handle, IOVA_ERR_UNKNOWN_HANDLE, "defect 2: stale 1-page handle inside a live 32-page block");
	/* Likewise a 64-page handle inside a live 512-page block. */
	iova_allocation c = alloc_at(d, 64, 512, 64);
	CHECK_STATUS(iova_free(d, c.handle), IOVA_OK);
	iova_allocation e = alloc_at(d, 512, 512, 512);
	bad_free(d, c.handle, IOVA_ERR_UNKNOWN_HANDLE, "defect 2: stale 64-page handle inside a live 512-page block");
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, e.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/*
 * Defect 3 (fixed in d8547ff; was free.c, piece_live()): a stale handle whose block is a prefix of
 * a larger live allocation at the same address is accepted and frees that
 * prefix. Here a 32-page handle (one level-1 field) meets a live 40-page
 * allocation (that field ALLOC_START plus a SPLIT field holding 8 more pages
 * at level 0). piece_live() only rejects a run followed by ALLOC_CONT at the
 * same level, not one followed by a SPLIT field that continues it. The free
 * succeeds, the 32 pages can be handed out again while the 40-page owner
 * still holds them, the 8-page remainder leaks, and the owner's own free
 * then fails.
 */
static void test_stale_prefix_of_live_block(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	iova_allocation a = alloc_at(d, 32, 64, 32);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	iova_allocation b = alloc_at(d, 40, 64, 64);
	bad_free(d, a.handle, IOVA_ERR_UNKNOWN_HANDLE, "defect 3: stale 32-page handle, prefix of a live 40-page block");
	/* The consequences, if it was accepted: */
	iova_request again = {.size = 32 * PAGE, .lowest = DOMAIN_BASE + 64 * PAGE, .highest = DOMAIN_BASE + 96 * PAGE - 1};
	iova_allocation c;
	iova_status st = iova_alloc(d, &again, &c);
	CHECK_MSG(st == IOVA_ERR_NO_SPACE, "defect 3: pages 64..95 of a live block handed out again (%s)",
		  iova_status_name(st));
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	if (st == IOVA_OK)
		iova_free(d, c.handle);
	iova_stats s;
	CHECK_STATUS(iova_domain_stats(d, &s), IOVA_OK);
	CHECK_MSG(s.free_bytes == DOMAIN_PAGES * PAGE, "defect 3: %" PRIu64 " pages leaked",
		  (DOMAIN_PAGES * PAGE - s.free_bytes) / PAGE);
	iova_domain_destroy(d);

	/* The same shape one level up: a 512-page handle, a live 600-page block. */
	d = make_domain(DOMAIN_BASE, 2048);
	a = alloc_at(d, 512, 1024, 512);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	b = alloc_at(d, 600, 1024, 1024);
	bad_free(d, a.handle, IOVA_ERR_UNKNOWN_HANDLE, "defect 3: stale 512-page handle, prefix of a live 600-page block");
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/*
 * Defect 4 (fixed in d8547ff; was handle.h with domain.c's MAX_DOMAIN_BYTES_LOG2): a domain of
 * exactly 2^38 granules of 4 KiB (2^50 bytes) is accepted, and a request for
 * all of it succeeds, but the handle keeps the requested byte count in 50
 * bits: 2^50 spills into the cache-type bits, handle_open() reads a size of 0
 * and refuses its own handle as forged. The block can never be freed.
 */
static void test_largest_domain(void)
{
	iova_domain_config cfg = {.size = (UINT64_C(1) << 38) * PAGE};
	iova_domain *d = NULL;
	iova_status st = iova_domain_create(&cfg, &d);
	/* The host may refuse the (uncommitted) metadata reservation. */
	CHECK_MSG(st == IOVA_OK || st == IOVA_ERR_NO_MEMORY, "2^38 granules: %s", iova_status_name(st));
	if (st != IOVA_OK)
		return;
	iova_request r = {.size = cfg.size};
	iova_allocation a;
	CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
	CHECK_EQ(a.iova, 0);
	CHECK_EQ(a.size, cfg.size);
	st = iova_free(d, a.handle);
	CHECK_MSG(st == IOVA_OK, "defect 4: the handle of a 2^50-byte block is refused: %s", iova_status_name(st));
	iova_stats s;
	CHECK_STATUS(iova_domain_stats(d, &s), IOVA_OK);
	CHECK_MSG(s.free_bytes == cfg.size, "defect 4: the whole 2^50-byte domain stays allocated");
	/* One byte less fits the handle. */
	r.size = cfg.size - 1;
	if (s.free_bytes == cfg.size) {
		CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	}
	iova_domain_destroy(d);
}

/* Every single-bit change of a valid handle is refused as forged. The tag
 * is keyed per domain; a changed address or size could collide with
 * probability 2^-24 per bit (so about 1 run in 130,000 would see another
 * error here); a changed tag bit never does. */
static void test_forged_bit_flips(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	static const struct {
		uint64_t bytes;
		iova_cache_type cache;
	} shapes[] = {{PAGE, IOVA_CACHE_NON_CACHED}, {100 * PAGE - 5, IOVA_CACHE_WRITE_COMBINED}, {3 * PAGE, IOVA_CACHE_CACHED}};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		iova_request r = {.size = shapes[s].bytes, .cache_type = shapes[s].cache, .lowest = DOMAIN_BASE + 256 * PAGE};
		iova_allocation a;
		CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
		domain_snapshot before = {0};
		snapshot_take(d, &before);
		unsigned wrong = 0;
		for (unsigned bit = 0; bit < 128; bit++) {
			iova_handle h = a.handle;
			h.opaque[bit / 64] ^= UINT64_C(1) << (bit % 64);
			iova_status st = iova_free(d, h);
			if (st != IOVA_ERR_FORGED_HANDLE && wrong++ < 4)
				CHECK_MSG(false, "handle with bit %u of word %u flipped: %s, want IOVA_ERR_FORGED_HANDLE", bit % 64,
					  bit / 64, iova_status_name(st));
		}
		snapshot_unchanged(d, &before, 128, "after 128 bit-flipped frees");
		snapshot_free(&before);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK); /* the real handle still works */
	}
	iova_domain_destroy(d);
}

static void test_forged_foreign_and_random(void)
{
	iova_domain *d = make_domain(DOMAIN_BASE, DOMAIN_PAGES);
	iova_domain *twin = make_domain(DOMAIN_BASE, DOMAIN_PAGES); /* same space, another key */
	iova_domain *other = make_domain(0, 4 * DOMAIN_PAGES);
	iova_allocation mine[8], theirs[8], far[8];
	for (int i = 0; i < 8; i++) {
		iova_request r = {.size = (uint64_t)(i + 1) * PAGE};
		CHECK_STATUS(iova_alloc(d, &r, &mine[i]), IOVA_OK);
		CHECK_STATUS(iova_alloc(twin, &r, &theirs[i]), IOVA_OK);
		CHECK_STATUS(iova_alloc(other, &r, &far[i]), IOVA_OK);
	}
	domain_snapshot before = {0};
	snapshot_take(d, &before);
	for (int i = 0; i < 8; i++) {
		CHECK_STATUS(iova_free(d, theirs[i].handle), IOVA_ERR_FORGED_HANDLE);
		CHECK_STATUS(iova_free(d, far[i].handle), IOVA_ERR_FORGED_HANDLE);
	}
	snapshot_unchanged(d, &before, 16, "after foreign handles");
	snapshot_free(&before);

	/* Random values, and the extremes. */
	snapshot_take(d, &before);
	test_rng g;
	rng_seed(&g, 42);
	unsigned refused = 0, forged = 0;
	for (int i = 0; i < 20000; i++) {
		iova_handle h = {{rng_next(&g), rng_next(&g)}};
		if (i & 1) /* plausible address, random rest */
			h.opaque[0] = DOMAIN_BASE + rng_below(&g, DOMAIN_PAGES) * PAGE + rng_below(&g, PAGE);
		iova_status st = iova_free(d, h);
		refused += st != IOVA_OK;
		forged += st == IOVA_ERR_FORGED_HANDLE;
	}
	CHECK_EQ(refused, 20000);
	CHECK_MSG(forged >= 19998, "%u of 20000 random handles refused as forged", forged);
	CHECK_STATUS(iova_free(d, (iova_handle){{0, 0}}), IOVA_ERR_FORGED_HANDLE);
	CHECK_STATUS(iova_free(d, (iova_handle){{UINT64_MAX, UINT64_MAX}}), IOVA_ERR_FORGED_HANDLE);
	snapshot_unchanged(d, &before, 20002, "after random handles");
	snapshot_free(&before);

	for (int i = 0; i < 8; i++) {
		CHECK_STATUS(iova_free(d, mine[i].handle), IOVA_OK);
		CHECK_STATUS(iova_free(twin, theirs[i].handle), IOVA_OK);
		CHECK_STATUS(iova_free(other, far[i].handle), IOVA_OK);
	}
	iova_domain_destroy(d);
	iova_domain_destroy(twin);
	iova_domain_destroy(other);
}

/* Cache types are carried; sizes are rounded to the granule; requested and
 * allocated bytes are accounted separately. */
static void test_cache_and_accounting(void)
{
	iova_domain_config cfg = {.base = UINT64_C(1) << 32, .size = 1024 * 16384, .granule = 16384};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (!d)
		return;
	static const iova_cache_type types[] = {IOVA_CACHE_NON_CACHED, IOVA_CACHE_CACHED, IOVA_CACHE_WRITE_COMBINED};
	iova_allocation a[3];
	uint64_t requested = 0, held = 0;
	for (int i = 0; i < 3; i++) {
		iova_request r = {.size = 16384 * (uint64_t)(i + 1) + 1 + (uint64_t)i * 1000, .cache_type = types[i],
				  .placement = i == 1 ? IOVA_PLACE_TOP_DOWN : IOVA_PLACE_BOTTOM_UP};
		CHECK_STATUS(iova_alloc(d, &r, &a[i]), IOVA_OK);
		CHECK_EQ(a[i].cache_type, types[i]);
		CHECK_EQ(a[i].size, 16384 * (uint64_t)(i + 2));
		CHECK_EQ(a[i].iova % 16384, 0);
		requested += r.size;
		held += a[i].size;
	}
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.granule, 16384);
	CHECK_EQ(st.total_bytes, cfg.size);
	CHECK_EQ(st.requested_bytes, requested);
	CHECK_EQ(st.allocated_bytes, held);
	CHECK_EQ(st.free_bytes, cfg.size - held);
	CHECK_EQ(st.live_allocations, 3);
	CHECK_EQ(st.allocs, 3);
	/* A handle carries its cache type: changing it makes the handle forged. */
	iova_handle h = a[2].handle;
	h.opaque[1] ^= UINT64_C(3) << 50;
	bad_free(d, h, IOVA_ERR_FORGED_HANDLE, "handle with its cache type changed");
	for (int i = 0; i < 3; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.requested_bytes, 0);
	CHECK_EQ(st.live_allocations, 0);
	CHECK_EQ(st.frees, 3);
	CHECK_EQ(st.failed_frees, 1);
	iova_domain_destroy(d);
}


/* Where the lock-free buddy's slot @slot starts in a space of @pages pages:
 * its own sixty-fourth (the (37 slot mod 64)-th), at the end its direction
 * prefers (buddy_slot_home()). */
static uint64_t home_page(unsigned slot, uint64_t pages, bool top_down)
{
	const uint64_t offset = pages / 64 * ((slot * 37u) % 64u);
	return top_down ? pages - 1 - offset : offset;
}

/* @n blocks of @pages pages each, in window [@lo, @hi) pages (0, 0: none) of
 * a fresh domain of @domain_pages, in direction @top_down: the first at
 * @first, each next one adjacent below (top-down) or above (bottom-up). */
static void expect_sequence(uint64_t domain_pages, uint64_t pages, uint64_t lo, uint64_t hi, bool top_down,
			    uint64_t first, int n)
{
	iova_domain *d = make_domain(DOMAIN_BASE, domain_pages);
	iova_allocation *a = calloc((size_t)n, sizeof *a);
	CHECK(a != NULL);
	if (!a)
		return;
	iova_request r = {.size = pages * PAGE,
			  .placement = top_down ? IOVA_PLACE_TOP_DOWN : IOVA_PLACE_BOTTOM_UP};
	if (hi) {
		r.lowest = DOMAIN_BASE + lo * PAGE;
		r.highest = DOMAIN_BASE + hi * PAGE - 1;
	}
	for (int i = 0; i < n; i++) {
		CHECK_STATUS(iova_alloc(d, &r, &a[i]), IOVA_OK);
		const uint64_t want = top_down ? first - (uint64_t)i * pages : first + (uint64_t)i * pages;
		CHECK_MSG(a[i].iova == DOMAIN_BASE + want * PAGE,
			  "%s block %d of %" PRIu64 " pages in [%" PRIu64 ", %" PRIu64 "): page %" PRIu64
			  ", expected %" PRIu64,
			  top_down ? "top-down" : "bottom-up", i, pages, lo, hi, (a[i].iova - DOMAIN_BASE) / PAGE, want);
	}
	for (int i = 0; i < n; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	free(a);
	iova_domain_destroy(d);
}

/* Placement: Linux allocates top-down from the top of the space; a thread
 * asking for top-down here starts at the top of its own region, bottom-up
 * at the bottom, and goes on from there without gaps. Several words and
 * several sizes, so that word switches and the search keep the direction. */
static void test_placement(void)
{
	const uint64_t pages = UINT64_C(1) << 16;
	const unsigned slot = iova_thread_slot();
	for (int down = 0; down < 2; down++) {
		const uint64_t home = home_page(slot, pages, down);
		expect_sequence(pages, 1, 0, 0, down, home, 200);
		/* Aligned blocks: the home rounded to their size. */
		expect_sequence(pages, 16, 0, 0, down, home / 16 * 16, 40);
		/* A window away from the home: the home folded into it, keeping its
		 * distance from the end the direction starts at. Word-aligned, so
		 * that the first block is at the edge of a level-0 word, and the
		 * next ones follow it without a gap. */
		const uint64_t lo = home < pages / 2 ? pages / 2 + 1024 : 1024, hi = lo + 4000;
		const uint64_t edge = down ? hi - 1 - (pages - 1 - home) % (hi - lo) : lo + home % (hi - lo);
		expect_sequence(pages, 1, lo, hi, down, edge, 100);
	}
}

#define SPREAD_THREADS 4

struct spread {
	iova_domain *d;
	atomic_int placed;
	pthread_barrier_t all_placed;
	uint64_t page[SPREAD_THREADS];
	iova_allocation a[SPREAD_THREADS];
};

struct spread_arg {
	struct spread *s;
	int i;
};

static void *spread_thread(void *arg)
{
	struct spread_arg *sa = arg;
	struct spread *s = sa->s;
	CHECK_STATUS(iova_alloc(s->d, &(iova_request){.size = PAGE}, &s->a[sa->i]), IOVA_OK);
	s->page[sa->i] = (s->a[sa->i].iova - DOMAIN_BASE) / PAGE;
	atomic_fetch_add(&s->placed, 1);
	/* Stay alive, keeping the slot, until every thread has placed its block. */
	pthread_barrier_wait(&s->all_placed);
	return NULL;
}

/* Threads do not all start at the same place: each one's first block lies in
 * a sixty-fourth of the space no other live thread starts in (the threads
 * allocate one after another, so this tests where they start, not races). */
static void test_threads_spread(void)
{
	const uint64_t pages = UINT64_C(1) << 16;
	struct spread s = {.d = make_domain(DOMAIN_BASE, pages)};
	pthread_barrier_init(&s.all_placed, NULL, SPREAD_THREADS);
	pthread_t t[SPREAD_THREADS];
	struct spread_arg args[SPREAD_THREADS];
	for (int i = 0; i < SPREAD_THREADS; i++) {
		args[i] = (struct spread_arg){&s, i};
		CHECK(pthread_create(&t[i], NULL, spread_thread, &args[i]) == 0);
		while (atomic_load(&s.placed) <= i)
			sched_yield();
	}
	for (int i = 0; i < SPREAD_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < SPREAD_THREADS; i++)
		for (int k = 0; k < i; k++)
			CHECK_MSG(s.page[i] / (pages / 64) != s.page[k] / (pages / 64),
				  "threads %d and %d both started in sixty-fourth %" PRIu64 " (pages %" PRIu64
				  " and %" PRIu64 ")",
				  k, i, s.page[i] / (pages / 64), s.page[k], s.page[i]);
	for (int i = 0; i < SPREAD_THREADS; i++)
		CHECK_STATUS(iova_free(s.d, s.a[i].handle), IOVA_OK);
	pthread_barrier_destroy(&s.all_placed);
	iova_domain_destroy(s.d);
}

int main(void)
{
	test_status_text();
	test_strategies();
	test_domain_configs();
	test_largest_domain();
	test_request_errors();
	test_unsatisfiable_vs_no_space();
	test_double_free();
	test_stale_reused_smaller();
	test_stale_block_entirely_free();
	test_stale_inside_larger_block();
	test_stale_prefix_of_live_block();
	test_forged_bit_flips();
	test_forged_foreign_and_random();
	test_cache_and_accounting();
	test_placement();
	test_threads_spread();
	return check_exit_code();
}
