/* SPDX-License-Identifier: MIT */
/*
 * test_jemalloc.c - the jemalloc strategy: its size classes show up as held
 * bytes (internal fragmentation) and what jemalloc keeps without a live
 * block as cached bytes; a flush gives everything back through the extent
 * hooks; windows are refused as unsupported; stale handles are caught by the
 * byte map, inside large blocks too; options; without a thread cache; an
 * arena per thread slot.
 *
 *	test_jemalloc                              the tests above
 *	test_jemalloc --refused-by-malloc-conf=OPT with MALLOC_CONF setting OPT
 *	                                           (junk or zero) to true: the
 *	                                           strategy must refuse to run
 */
#include "check.h"
#include "test_counter.h"
#include "iova.h"

#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define G UINT64_C(4096)
#define BASE (UINT64_C(1) << 32)
#define SIZE (UINT64_C(1) << 28)

static iova_domain *open_domain(const char *options)
{
	iova_domain *d = NULL;
	iova_domain_config cfg = {.base = BASE, .size = SIZE, .strategy = "jemalloc", .options = options};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	return d;
}

static iova_stats stats(const iova_domain *d)
{
	iova_stats s;
	CHECK_STATUS(iova_domain_stats(d, &s), IOVA_OK);
	return s;
}

static unsigned log2_ceil(uint64_t x) { return x <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(x - 1); }

/* Held bytes are jemalloc's usable sizes for naturally aligned requests. */
static void test_size_classes(const char *options)
{
	static const struct {
		uint64_t granules, held;
	} cases[] = {
		{1, 1},   /* the 4 KiB small class */
		{2, 4},   /* 8 KiB aligned to 8 KiB: large, whose smallest class is 16 KiB */
		{3, 4},   {4, 4},   /* 16 KiB */
		{5, 5},   {6, 6},   {7, 7},   {8, 8},   /* 4 classes per doubling */
		{9, 10},  {17, 20}, {33, 40}, {100, 112},
	};
	iova_domain *d = open_domain(options);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		iova_allocation a;
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = cases[i].granules * G - 1}, &a), IOVA_OK);
		iova_stats s = stats(d);
		CHECK_MSG(s.allocated_bytes == cases[i].held * G, "%llu granules: held %llu granules, expected %llu",
			  (unsigned long long)cases[i].granules, (unsigned long long)(s.allocated_bytes / G),
			  (unsigned long long)cases[i].held);
		CHECK_EQ(s.requested_bytes, cases[i].granules * G - 1);
		CHECK_EQ(s.free_bytes + s.allocated_bytes + s.cached_bytes, SIZE);
		CHECK_EQ(a.iova % (G << log2_ceil(cases[i].granules)), 0);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
		s = stats(d);
		CHECK_EQ(s.allocated_bytes, 0);
		CHECK_EQ(s.free_bytes + s.cached_bytes, SIZE);
	}
	iova_domain_flush_caches(d);
	iova_stats s = stats(d);
	CHECK_EQ(s.free_bytes, SIZE);
	CHECK_EQ(s.cached_bytes, 0);
	CHECK_EQ(s.free_extents, 1);
	CHECK(test_counter(d, "extent_hook_allocs") > 0);
	CHECK(test_counter(d, "extent_hook_deallocs") > 0);
	CHECK_EQ(test_counter(d, "extent_hook_errors"), 0);
	CHECK_EQ(test_counter(d, "misplaced"), 0);
	CHECK_EQ(test_counter(d, "opt_retain"), 0);
	iova_domain_destroy(d);
}

static void test_errors_and_caps(void)
{
	iova_domain *d = open_domain(NULL);
	CHECK_EQ(iova_domain_caps(d), IOVA_CAP_ALIGNMENT);
	iova_allocation a, x;
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G, .lowest = BASE + G}, &x), IOVA_ERR_UNSUPPORTED);
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G, .highest = BASE + SIZE / 2}, &x), IOVA_ERR_UNSUPPORTED);
	/* Alignment above natural is honoured. */
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G, .alignment = UINT64_C(1) << 24}, &a), IOVA_OK);
	CHECK_EQ(a.iova % (UINT64_C(1) << 24), 0);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	/* Stale handles: the block at their address was freed and the space
	 * now belongs to a larger block. The byte map knows the block's start
	 * and the granules after it that hold its size, six bits each (two for
	 * 64 granules): a handle naming one of them is unknown; deeper inside,
	 * the map only knows that no block starts there, which reads as a
	 * double free. */
	iova_allocation small[16];
	iova_domain_flush_caches(d); /* all of the space back in the extent set: first fit from the bottom */
	for (int i = 0; i < 16; i++)
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &small[i]), IOVA_OK);
	for (int i = 0; i < 16; i++)
		CHECK_STATUS(iova_free(d, small[i].handle), IOVA_OK);
	iova_domain_flush_caches(d);
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 64 * G}, &a), IOVA_OK);
	iova_stats before = stats(d);
	int unknown = 0;
	for (int i = 0; i < 16; i++) {
		uint64_t at = small[i].iova;
		iova_status want = IOVA_ERR_DOUBLE_FREE;
		if (at >= a.iova && at <= a.iova + 2 * G)
			want = IOVA_ERR_UNKNOWN_HANDLE, unknown++;
		CHECK_STATUS(iova_free(d, small[i].handle), want);
	}
	CHECK(unknown > 0);
	iova_stats after = stats(d);
	CHECK_EQ(after.allocated_bytes, before.allocated_bytes);
	CHECK_EQ(after.live_allocations, 1);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	iova_domain_flush_caches(d);
	CHECK_EQ(stats(d).free_bytes, SIZE);
	iova_domain_destroy(d);
}

static void test_options(void)
{
	char msg[256];
	CHECK_STATUS(iova_strategy_check("jemalloc", "tcache=0,dirty_decay_ms=0,muzzy_decay_ms=0,purge_on_failure=0", msg,
					 sizeof msg), IOVA_OK);
	CHECK_STATUS(iova_strategy_check("jemalloc", "tcache=maybe", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_MSG(strstr(msg, "tcache") && strstr(msg, "boolean"), "%s", msg);
	CHECK_STATUS(iova_strategy_check("jemalloc", "dirty_decay_ms=-1", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	iova_domain *d = open_domain("tcache=0");
	iova_allocation a;
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &a), IOVA_OK);
	CHECK_EQ(test_counter(d, "jemalloc_tcaches"), 0);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* Exhaustion: space held dirty by the arena is purged and reused. */
static void test_purge_on_failure(void)
{
	iova_domain *d = open_domain("dirty_decay_ms=3600000");
	static iova_allocation a[4096];
	int n = 0;
	while (n < 4096 && iova_alloc(d, &(iova_request){.size = 16 * G}, &a[n]) == IOVA_OK)
		n++;
	CHECK(n > 1000);
	for (int i = 0; i < n; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK(stats(d).cached_bytes > 0);
	iova_allocation big;
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = SIZE / 2}, &big), IOVA_OK);
	CHECK(test_counter(d, "purge_retries") >= 1);
	CHECK_STATUS(iova_free(d, big.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* ---- an arena per thread slot ---- */

#define ARENA_THREADS 3

static struct {
	iova_domain *d;
	pthread_barrier_t all_allocated;
} A;

/* Allocate, hold the block until every thread has one - so that all of
 * them own a thread slot at once (an exiting thread's slot goes to the
 * next thread) - then free. */
static void *arena_user(void *wait)
{
	iova_allocation a;
	CHECK_STATUS(iova_alloc(A.d, &(iova_request){.size = G}, &a), IOVA_OK);
	if (wait)
		pthread_barrier_wait(&A.all_allocated);
	CHECK_STATUS(iova_free(A.d, a.handle), IOVA_OK);
	return NULL;
}

/* Three threads allocating at once get three arenas; a later thread takes
 * over a slot that has one, and with it the arena. */
static void test_arena_per_thread(void)
{
	A.d = open_domain(NULL);
	CHECK_EQ(test_counter(A.d, "jemalloc_arenas"), 0); /* created on first use, not with the domain */
	pthread_barrier_init(&A.all_allocated, NULL, ARENA_THREADS);
	pthread_t t[ARENA_THREADS];
	for (int i = 0; i < ARENA_THREADS; i++)
		pthread_create(&t[i], NULL, arena_user, (void *)1);
	for (int i = 0; i < ARENA_THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&A.all_allocated);
	CHECK_EQ(test_counter(A.d, "jemalloc_arenas"), ARENA_THREADS);
	pthread_t later;
	pthread_create(&later, NULL, arena_user, NULL);
	pthread_join(later, NULL);
	CHECK_EQ(test_counter(A.d, "jemalloc_arenas"), ARENA_THREADS);
	CHECK_EQ(stats(A.d).live_allocations, 0);
	iova_domain_destroy(A.d);
}

/* ---- refusing to run when jemalloc would write to the range ---- */

/* Whether jemalloc itself reads MALLOC_CONF as asking for @opt: without
 * that, a refusal (or its absence) would say nothing. */
static bool jemalloc_fills(const char *opt)
{
	if (!strcmp(opt, "junk")) {
		const char *junk = "false";
		size_t sz = sizeof junk;
		return !mallctl("opt.junk", &junk, &sz, NULL, 0) && strcmp(junk, "false");
	}
	bool zero = false;
	size_t sz = sizeof zero;
	return !mallctl("opt.zero", &zero, &sz, NULL, 0) && zero;
}

/* MALLOC_CONF asks jemalloc to junk-fill or zero (@opt): "jemalloc" and
 * "jemalloc+cache" domains are refused as unsupported, since jemalloc would
 * write to the stand-in range, which has no memory; other strategies are
 * unaffected. */
static int refused_by_malloc_conf(const char *opt)
{
	const char *conf = getenv("MALLOC_CONF");
	if (strcmp(opt, "junk") && strcmp(opt, "zero")) {
		fprintf(stderr, "test_jemalloc: --refused-by-malloc-conf takes junk or zero, not \"%s\"\n", opt);
		return 2;
	}
	CHECK_MSG(conf && strstr(conf, opt), "MALLOC_CONF is \"%s\", not one setting %s (the CTest case sets it)",
		  conf ? conf : "(unset)", opt);
	CHECK_MSG(jemalloc_fills(opt), "jemalloc did not take MALLOC_CONF=%s: opt.%s is not set", conf ? conf : "", opt);
	static const char *const refused[] = {"jemalloc", "jemalloc+cache"};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		iova_domain *d = NULL;
		iova_domain_config cfg = {.base = BASE, .size = SIZE, .strategy = refused[i]};
		iova_status st = iova_domain_create(&cfg, &d);
		CHECK_MSG(st == IOVA_ERR_UNSUPPORTED && !d, "%s with MALLOC_CONF=%s: %s, want IOVA_ERR_UNSUPPORTED",
			  refused[i], conf ? conf : "", iova_status_name(st));
		if (d)
			iova_domain_destroy(d); /* allocating from it could fault: no memory behind the range */
		/* The check a command line or job file runs first says why. */
		char msg[256] = "";
		st = iova_strategy_check(refused[i], NULL, msg, sizeof msg);
		CHECK_MSG(st == IOVA_ERR_UNSUPPORTED && strstr(msg, "MALLOC_CONF") &&
				  strstr(msg, !strcmp(opt, "junk") ? "junk filling" : "zeroing"),
			  "iova_strategy_check(%s) with MALLOC_CONF=%s: %s, \"%s\"", refused[i], conf ? conf : "",
			  iova_status_name(st), msg);
		printf("%s refused with MALLOC_CONF=%s: %s\n", refused[i], conf ? conf : "", msg);
	}
	iova_domain *d = NULL;
	iova_domain_config cfg = {.base = BASE, .size = SIZE, .strategy = "bitmap"};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (d) {
		iova_allocation a;
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &a), IOVA_OK);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
		iova_domain_destroy(d);
	}
	return check_exit_code();
}

int main(int argc, char **argv)
{
	static const char mode[] = "--refused-by-malloc-conf=";
	if (argc == 2 && !strncmp(argv[1], mode, strlen(mode)))
		return refused_by_malloc_conf(argv[1] + strlen(mode));
	if (argc > 1) {
		fprintf(stderr, "usage: test_jemalloc [%sjunk|zero]\n", mode);
		return 2;
	}
	test_size_classes(NULL);
	test_size_classes("tcache=0");
	test_errors_and_caps();
	test_options();
	test_purge_on_failure();
	test_arena_per_thread();
	return check_exit_code();
}
