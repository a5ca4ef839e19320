/* SPDX-License-Identifier: MIT */
/*
 * test_jemalloc.c - the jemalloc strategy: its size classes show up as held
 * bytes (internal fragmentation) and what jemalloc keeps without a live
 * block as cached bytes; a flush gives everything back through the extent
 * hooks; windows are refused as unsupported; stale handles are caught by the
 * byte map, inside large blocks too; options; without a thread cache.
 */
#include "check.h"
#include "test_counter.h"
#include "iova.h"

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

int main(void)
{
	test_size_classes(NULL);
	test_size_classes("tcache=0");
	test_errors_and_caps();
	test_options();
	test_purge_on_failure();
	return check_exit_code();
}
