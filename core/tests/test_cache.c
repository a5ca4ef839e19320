/* SPDX-License-Identifier: MIT */
/*
 * test_cache.c - the cache layer's rules, single-threaded so that every
 * counter is exact: the magazine swap rules and the depot (Bonwick & Adams,
 * as Linux's rcache), trimming, cached blocks served only to requests they
 * meet, power-of-two versus exact classes and what each holds, the exact
 * fallback when a rounded block cannot be placed, flush on failure, the
 * defaults (magazine_size, depot_target, trim_ms) seen through their effects,
 * and the registry's "+cache" names. Over "bitmap" so that placements are
 * predictable (bottom-up first fit).
 */
#include "check.h"
#include "test_counter.h"
#include "iova.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE (UINT64_C(1) << 30)
#define G UINT64_C(4096)

static iova_domain *open_domain(uint64_t size, const char *strategy, const char *options)
{
	iova_domain *d = NULL;
	iova_domain_config cfg = {.base = BASE, .size = size, .granule = G, .strategy = strategy, .options = options};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	return d;
}

static iova_stats stats(const iova_domain *d)
{
	iova_stats s;
	CHECK_STATUS(iova_domain_stats(d, &s), IOVA_OK);
	return s;
}

static iova_allocation must_alloc(iova_domain *d, iova_request r)
{
	iova_allocation a = {0};
	CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
	return a;
}

/* Loaded, previous, depot: 12 one-granule frees with 4-entry magazines fill
 * loaded, then previous, then send one full magazine to the depot; 12
 * allocations take them back magazine by magazine, the last four from the
 * depot. */
static void test_swap_rules(void)
{
	iova_domain *d = open_domain(1 << 24, "bitmap+cache", "magazine_size=4,depot_target=8,trim_ms=0");
	iova_allocation a[12];
	for (int i = 0; i < 12; i++)
		a[i] = must_alloc(d, (iova_request){.size = G});
	CHECK_EQ(test_counter(d, "cache_misses"), 12);
	CHECK_EQ(test_counter(d, "cache_hits"), 0);
	for (int i = 0; i < 12; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK_EQ(test_counter(d, "cache_depot_puts"), 1);
	CHECK_EQ(test_counter(d, "cache_cached_granules"), 12);
	iova_stats s = stats(d);
	CHECK_EQ(s.cached_bytes, 12 * G);
	CHECK_EQ(s.allocated_bytes, 0);
	CHECK_EQ(s.free_bytes + s.cached_bytes, s.total_bytes);
	/* Loaded holds a8..a11, previous a0..a3 (swapped in when loaded filled),
	 * the depot a4..a7 (loaded when both were full). Allocation pops loaded,
	 * swaps in previous, then takes the depot's magazine. */
	static const int order[12] = {11, 10, 9, 8, 3, 2, 1, 0, 7, 6, 5, 4};
	for (int i = 0; i < 12; i++) {
		iova_allocation b = must_alloc(d, (iova_request){.size = G});
		CHECK_EQ(b.iova, a[order[i]].iova);
	}
	CHECK_EQ(test_counter(d, "cache_hits"), 12);
	CHECK_EQ(test_counter(d, "cache_depot_gets"), 1);
	CHECK_EQ(test_counter(d, "cache_cached_granules"), 0);
	iova_domain_destroy(d);
}

/* depot_target=1, trim_ms=0: a second magazine in the depot is trimmed at
 * once, its blocks going back to the strategy below; with trim_ms large no
 * trim happens however full the depot gets. */
static void test_trim(void)
{
	iova_domain *d = open_domain(1 << 24, "bitmap+cache", "magazine_size=2,depot_target=1,trim_ms=0");
	iova_allocation a[10];
	for (int i = 0; i < 10; i++)
		a[i] = must_alloc(d, (iova_request){.size = G});
	for (int i = 0; i < 10; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	/* loaded 2 + previous 2 + depot: puts of 3 magazines, of which 2 trimmed */
	CHECK_EQ(test_counter(d, "cache_depot_puts"), 3);
	CHECK_EQ(test_counter(d, "cache_depot_trims"), 2);
	CHECK_EQ(test_counter(d, "cache_cached_granules"), 6);
	CHECK_EQ(stats(d).cached_bytes, 6 * G);
	iova_domain_destroy(d);

	d = open_domain(1 << 24, "bitmap+cache", "magazine_size=2,depot_target=1,trim_ms=3600000");
	for (int i = 0; i < 10; i++)
		a[i] = must_alloc(d, (iova_request){.size = G});
	for (int i = 0; i < 10; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK_EQ(test_counter(d, "cache_depot_puts"), 3);
	CHECK(test_counter(d, "cache_depot_trims") <= 1); /* at most the first, if the clock allows */
	iova_domain_destroy(d);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
	while (nanosleep(&ts, &ts))
		;
}

static uint64_t online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (uint64_t)n : 1;
}

/* @n one-granule blocks, allocated before any is freed so that every free
 * below is a push into the magazines. */
static iova_allocation *alloc_singles(iova_domain *d, size_t n)
{
	iova_allocation *a = calloc(n, sizeof *a);
	CHECK(a != NULL);
	for (size_t i = 0; a && i < n; i++)
		a[i] = must_alloc(d, (iova_request){.size = G});
	return a;
}

/* Frees with magazines of @m blocks, loaded and previous starting empty:
 * the (2m+1)-th free parks the first full magazine, every m-th after it
 * another. The number of frees that parks @p magazines. */
static size_t frees_to_park(size_t m, size_t p) { return m * (p + 1) + 1; }

/* Free a[from..to). */
static void free_range(iova_domain *d, const iova_allocation *a, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
}

/* No options: magazines of 127 blocks. Loaded and previous hold 254 blocks
 * between them, so the 255th free is the first to reach the depot - which
 * pins the size to exactly 127 (126 would park at 253, 128 not at 255). */
static void test_default_magazine_size(void)
{
	iova_domain *d = open_domain(1 << 24, "bitmap+cache", NULL);
	iova_allocation *a = alloc_singles(d, 255);
	if (!a)
		return;
	free_range(d, a, 0, 254);
	CHECK_EQ(test_counter(d, "cache_depot_puts"), 0);
	CHECK_EQ(test_counter(d, "cache_cached_granules"), 254);
	free_range(d, a, 254, 255);
	CHECK_EQ(test_counter(d, "cache_depot_puts"), 1);
	CHECK_EQ(test_counter(d, "cache_depot_trims"), 0);
	CHECK_EQ(test_counter(d, "cache_cached_granules"), 255);
	free(a);
	iova_domain_destroy(d);
}

/* depot_target left out: one magazine per online CPU. With trim_ms=0 the
 * target is a hard cap, so parking ncpu + 3 magazines trims exactly 3, and
 * what stays cached is loaded + previous + ncpu magazines. */
static void test_default_depot_target(void)
{
	const size_t m = 2, extra = 3, ncpu = (size_t)online_cpus();
	const size_t n = frees_to_park(m, ncpu + extra);
	iova_domain *d = open_domain(1 << 28, "bitmap+cache", "magazine_size=2,trim_ms=0");
	iova_allocation *a = alloc_singles(d, n);
	if (!a)
		return;
	free_range(d, a, 0, n);
	CHECK_EQ(test_counter(d, "cache_depot_puts"), ncpu + extra);
	CHECK_MSG(test_counter(d, "cache_depot_trims") == extra, "%llu trims with %zu online CPUs, want %zu",
		  (unsigned long long)test_counter(d, "cache_depot_trims"), ncpu, extra);
	/* loaded holds one block after the last park, previous m, the depot ncpu magazines */
	CHECK_EQ(test_counter(d, "cache_cached_granules"), 1 + m + ncpu * m);
	free(a);
	iova_domain_destroy(d);
}

/*
 * The default trim_ms (100): a burst that parks 64 magazines above the
 * target trims one magazine per 100 ms since the depot first went above
 * it, not one per park. A stalled machine may let one more through per
 * 100 ms the burst took - so the bound grows with the measured time, plus
 * one for the coarse clock the layer reads, and only ever loosens.
 * Trimming without a period would trim all 64.
 */
static void test_trim_period_default(void)
{
	const size_t m = 2, above = 64, ncpu = (size_t)online_cpus();
	const size_t n = frees_to_park(m, ncpu + above);
	iova_domain *d = open_domain(1 << 28, "bitmap+cache", "magazine_size=2");
	iova_allocation *a = alloc_singles(d, n);
	if (!a)
		return;
	const uint64_t start = mono_ns();
	free_range(d, a, 0, n);
	const uint64_t periods = (mono_ns() - start) / (100 * 1000000u);
	const uint64_t trims = test_counter(d, "cache_depot_trims");
	CHECK_EQ(test_counter(d, "cache_depot_puts"), ncpu + above);
	CHECK_MSG(trims <= 1 + periods, "%llu trims in a burst of %llu x 100 ms, want at most %llu",
		  (unsigned long long)trims, (unsigned long long)periods, (unsigned long long)(1 + periods));
	free(a);
	iova_domain_destroy(d);
}

/*
 * trim_ms=20, as Linux's delayed work: one magazine per period while the
 * depot is above its target, an idle stretch included. After 120 ms without
 * depot traffic, the next depot operation makes up for the six periods
 * (five, allowing for the coarse clock), and never more trims than periods
 * have passed since the depot first went above its target, nor so many that
 * it drops below it.
 */
static void test_trim_after_period(void)
{
	const size_t m = 2, parked = 16;
	const size_t n = frees_to_park(m, parked);
	iova_domain *d = open_domain(1 << 24, "bitmap+cache", "magazine_size=2,depot_target=1,trim_ms=20");
	iova_allocation *a = alloc_singles(d, n + m);
	if (!a)
		return;
	const uint64_t start = mono_ns();
	free_range(d, a, 0, n);
	CHECK_EQ(test_counter(d, "cache_depot_puts"), parked);
	const uint64_t trims = test_counter(d, "cache_depot_trims");
	CHECK(trims < parked);
	sleep_ms(120);
	/* loaded holds one block: the first free fills it, the second parks it */
	free_range(d, a, n, n + m);
	const uint64_t periods = (mono_ns() - start) / (20 * 1000000u);
	const uint64_t after = test_counter(d, "cache_depot_trims");
	CHECK_EQ(test_counter(d, "cache_depot_puts"), parked + 1);
	CHECK_MSG(after >= trims + 5, "%llu trims after 120 ms idle, had %llu: the idle periods were not made up for",
		  (unsigned long long)after, (unsigned long long)trims);
	CHECK_MSG(after <= 1 + periods && after <= parked, "%llu trims of %zu parked magazines in %llu periods",
		  (unsigned long long)after, parked + 1, (unsigned long long)periods);
	free(a);
	iova_domain_destroy(d);
}

/* A cached block is returned only to a request it meets. */
static void test_constraints(void)
{
	iova_domain *d = open_domain(1 << 24, "bitmap+cache", NULL);
	iova_allocation low = must_alloc(d, (iova_request){.size = G}); /* at BASE: first fit */
	CHECK_EQ(low.iova, BASE);
	CHECK_STATUS(iova_free(d, low.handle), IOVA_OK);
	/* A window above it: not served from the cache. */
	iova_allocation w = must_alloc(d, (iova_request){.size = G, .lowest = BASE + 64 * G});
	CHECK(w.iova >= BASE + 64 * G);
	CHECK_EQ(test_counter(d, "cache_hits"), 0);
	/* Alignment the cached block does not have: BASE + G is cached next. */
	iova_allocation odd = must_alloc(d, (iova_request){.size = G, .lowest = BASE + G, .highest = BASE + 2 * G - 1});
	CHECK_EQ(odd.iova, BASE + G);
	CHECK_STATUS(iova_free(d, odd.handle), IOVA_OK);
	iova_allocation al = must_alloc(d, (iova_request){.size = G, .alignment = 2 * G});
	CHECK_EQ(al.iova % (2 * G), 0);
	CHECK(al.iova != BASE + G);
	/* The aligned one (BASE) is found behind it in the magazine. */
	CHECK_EQ(al.iova, BASE);
	CHECK_EQ(test_counter(d, "cache_hits"), 1);
	/* An unconstrained request takes the last cached block. */
	iova_allocation any = must_alloc(d, (iova_request){.size = G});
	CHECK_EQ(any.iova, BASE + G);
	CHECK_EQ(test_counter(d, "cache_hits"), 2);
	CHECK_STATUS(iova_free(d, any.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, al.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, w.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* pow2 holds a 3-granule block as 4 and serves a 4-granule request with it;
 * exact holds 3 and serves only 3-granule requests. */
static void test_rounding(void)
{
	iova_domain *d = open_domain(1 << 24, "bitmap+cache", NULL);
	iova_allocation a = must_alloc(d, (iova_request){.size = 3 * G - 100});
	iova_stats s = stats(d);
	CHECK_EQ(a.size, 3 * G);
	CHECK_EQ(s.allocated_bytes, 4 * G); /* held: the class */
	CHECK_EQ(s.requested_bytes, 3 * G - 100);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	CHECK_EQ(stats(d).cached_bytes, 4 * G);
	iova_allocation b = must_alloc(d, (iova_request){.size = 4 * G});
	CHECK_EQ(b.iova, a.iova);
	CHECK_EQ(test_counter(d, "cache_hits"), 1);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_ERR_UNKNOWN_HANDLE); /* stale: another size lives there */
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, b.handle), IOVA_ERR_DOUBLE_FREE);
	iova_domain_destroy(d);

	d = open_domain(1 << 24, "bitmap+cache", "rounding=exact");
	a = must_alloc(d, (iova_request){.size = 3 * G});
	CHECK_EQ(stats(d).allocated_bytes, 3 * G);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	CHECK_EQ(stats(d).cached_bytes, 3 * G);
	b = must_alloc(d, (iova_request){.size = 4 * G});
	CHECK(b.iova != a.iova);
	CHECK_EQ(test_counter(d, "cache_hits"), 0);
	iova_allocation c = must_alloc(d, (iova_request){.size = 3 * G});
	CHECK_EQ(c.iova, a.iova);
	CHECK_EQ(test_counter(d, "cache_hits"), 1);
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, c.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* Exact classes up to 64 granules (classes=7): every size is its own class. */
static void test_exact_classes(void)
{
	iova_domain *d = open_domain(1 << 26, "buddy-locked+cache", "rounding=exact,classes=7,magazine_size=3");
	static iova_allocation a[64];
	for (int round = 0; round < 3; round++) {
		for (uint64_t s = 1; s <= 64; s++) {
			a[s - 1] = must_alloc(d, (iova_request){.size = s * G});
			CHECK_EQ(a[s - 1].iova % (G << (s <= 1 ? 0 : 64 - __builtin_clzll(s - 1))), 0);
		}
		CHECK_EQ(stats(d).allocated_bytes, 64 * 65 / 2 * G);
		for (int i = 0; i < 64; i++)
			CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
		CHECK_EQ(stats(d).cached_bytes, 64 * 65 / 2 * G);
	}
	CHECK_EQ(test_counter(d, "cache_misses"), 64);
	CHECK_EQ(test_counter(d, "cache_hits"), 128);
	/* 65 granules is beyond the classes: not cached. */
	iova_allocation big = must_alloc(d, (iova_request){.size = 65 * G});
	CHECK_STATUS(iova_free(d, big.handle), IOVA_OK);
	CHECK_EQ(stats(d).cached_bytes, 64 * 65 / 2 * G);
	iova_domain_flush_caches(d);
	CHECK_EQ(stats(d).free_bytes, 1 << 26);
	iova_domain_destroy(d);
}

/* A window exactly 3 granules wide holds no 4-granule block: the layer
 * takes exactly 3, does not cache them, and says so. */
static void test_exact_fallback(void)
{
	iova_domain *d = open_domain(1 << 24, "bitmap+cache", NULL);
	iova_request r = {.size = 3 * G, .lowest = BASE + 4 * G, .highest = BASE + 7 * G - 1};
	iova_allocation a = must_alloc(d, r);
	CHECK_EQ(a.iova, BASE + 4 * G);
	CHECK_EQ(stats(d).allocated_bytes, 3 * G);
	CHECK_EQ(test_counter(d, "cache_exact_fallbacks"), 1);
	iova_allocation one = must_alloc(d, (iova_request){.size = G, .lowest = BASE + 7 * G, .highest = BASE + 8 * G - 1});
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_ERR_DOUBLE_FREE);
	iova_stats s = stats(d);
	CHECK_EQ(s.cached_bytes, 0);
	CHECK_EQ(s.allocated_bytes, G);
	CHECK_STATUS(iova_free(d, one.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* Allocation failure flushes every cache once and retries. */
static void test_flush_on_failure(void)
{
	const uint64_t size = 256 * G;
	iova_domain *d = open_domain(size, "linux-rbtree+cache", NULL);
	iova_allocation a[256];
	for (int i = 0; i < 256; i++)
		a[i] = must_alloc(d, (iova_request){.size = G});
	iova_allocation x;
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &x), IOVA_ERR_NO_SPACE);
	CHECK_EQ(test_counter(d, "cache_flushes"), 0); /* nothing cached: no flush */
	for (int i = 0; i < 256; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK_EQ(stats(d).cached_bytes, size);
	iova_allocation big = must_alloc(d, (iova_request){.size = size / 2});
	CHECK_EQ(test_counter(d, "cache_flushes"), 1);
	CHECK_EQ(test_counter(d, "cache_flushed_blocks"), 256);
	iova_stats s = stats(d);
	CHECK_EQ(s.cached_bytes, 0);
	CHECK_EQ(s.free_bytes, size / 2);
	CHECK_STATUS(iova_free(d, big.handle), IOVA_OK);
	/* With nothing cached, a failure is final and flushes nothing. */
	iova_allocation whole = must_alloc(d, (iova_request){.size = size});
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &x), IOVA_ERR_NO_SPACE);
	CHECK_EQ(test_counter(d, "cache_flushes"), 1);
	CHECK_STATUS(iova_free(d, whole.handle), IOVA_OK);
	iova_domain_destroy(d);
}

static void test_registry(void)
{
	char msg[256];
	CHECK_STATUS(iova_strategy_check("bitmap+cache", NULL, msg, sizeof msg), IOVA_OK);
	CHECK_STATUS(iova_strategy_check("bitmap+cache+cache", NULL, msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_MSG(strstr(msg, "unknown strategy") && strstr(msg, "+cache"), "%s", msg);
	CHECK_STATUS(iova_strategy_check("+cache", NULL, msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	/* Layer keys and the strategy's keys mix; unknown keys name both sets. */
	CHECK_STATUS(iova_strategy_check("bitmap+cache", "fit=next,magazine_size=16", msg, sizeof msg), IOVA_OK);
	CHECK_STATUS(iova_strategy_check("bitmap+cache", "fit=worst", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_MSG(strstr(msg, "fit") && strstr(msg, "first"), "%s", msg);
	CHECK_STATUS(iova_strategy_check("buddy-lf+cache", "bogus=1", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_MSG(strstr(msg, "bogus") && strstr(msg, "magazine_size"), "%s", msg);
	CHECK_STATUS(iova_strategy_check("buddy-lf", "classes=6", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_MSG(strstr(msg, "takes no options"), "%s", msg);
	CHECK_STATUS(iova_strategy_check(NULL, NULL, msg, sizeof msg), IOVA_OK);
	for (size_t i = 0; i < iova_strategy_count(); i++) {
		char name[64];
		snprintf(name, sizeof name, "%s+cache", iova_strategy_name(i));
		iova_domain *d = open_domain(1 << 20, name, NULL);
		if (!d)
			continue;
		CHECK_EQ(iova_domain_caps(d), iova_strategy_caps(i) & ~(unsigned)IOVA_CAP_EXACT_SIZE);
		CHECK(!strcmp(iova_domain_get_config(d).strategy, name));
		iova_domain_destroy(d);
		CHECK(iova_strategy_description(i) && *iova_strategy_description(i));
	}
	CHECK(iova_strategy_name(iova_strategy_count()) == NULL);
}

int main(void)
{
	test_swap_rules();
	test_trim();
	test_default_magazine_size();
	test_default_depot_target();
	test_trim_period_default();
	test_trim_after_period();
	test_constraints();
	test_rounding();
	test_exact_classes();
	test_exact_fallback();
	test_flush_on_failure();
	test_registry();
	return check_exit_code();
}
