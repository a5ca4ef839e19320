/* SPDX-License-Identifier: MIT */
/*
 * test_cache_threads.c - the cache layer across threads: magazines outlive
 * the thread that filled them (its slot's next owner uses them), frees from
 * another thread land in the freeing thread's magazines, the depot hands a
 * slot its own magazines back first (and another slot's when it has none),
 * and the shared overflow slot (IOVA_SLOT_SHARED) stays correct with many threads in it -
 * driven directly through the strategy operations, and through the public
 * API with more threads than there are slots. Concurrent flushes run
 * throughout the shared-slot tests.
 */
#include "check.h"
#include "test_counter.h"
#include "iova.h"
#include "internal.h"
#include "prim/thread_slot.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define BASE (UINT64_C(1) << 30)
#define G UINT64_C(4096)

/* ---- a slot's magazines outlive its thread; cross-thread frees ---- */

#define N 64
static iova_domain *D;
static iova_allocation blocks[N];

static void *fill_and_free(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &blocks[i]), IOVA_OK);
	for (int i = 0; i < N; i++)
		CHECK_STATUS(iova_free(D, blocks[i].handle), IOVA_OK);
	return NULL;
}

static void *alloc_only(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &blocks[i]), IOVA_OK);
	return NULL;
}

static void test_inheritance_and_cross_thread(void)
{
	iova_domain_config cfg = {.base = BASE, .size = 1 << 24, .strategy = "buddy-locked+cache"};
	CHECK_STATUS(iova_domain_create(&cfg, &D), IOVA_OK);
	iova_stats st;
	iova_domain_stats(D, &st); /* this thread takes its slot now */

	pthread_t t;
	pthread_create(&t, NULL, fill_and_free, NULL);
	pthread_join(t, NULL);
	CHECK_EQ(test_counter(D, "cache_cached_granules"), N);
	/* The next thread gets the exited thread's slot, magazines included. */
	uint64_t hits = test_counter(D, "cache_hits");
	pthread_create(&t, NULL, alloc_only, NULL);
	pthread_join(t, NULL);
	CHECK_EQ(test_counter(D, "cache_hits") - hits, N);
	CHECK_EQ(test_counter(D, "cache_cached_granules"), 0);

	/* Freed here, cached here: this thread's allocations then hit. */
	for (int i = 0; i < N; i++)
		CHECK_STATUS(iova_free(D, blocks[i].handle), IOVA_OK);
	hits = test_counter(D, "cache_hits");
	for (int i = 0; i < N; i++)
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &blocks[i]), IOVA_OK);
	CHECK_EQ(test_counter(D, "cache_hits") - hits, N);
	for (int i = 0; i < N; i++)
		CHECK_STATUS(iova_free(D, blocks[i].handle), IOVA_OK);
	iova_domain_flush_caches(D);
	iova_domain_stats(D, &st);
	CHECK_EQ(st.free_bytes, cfg.size);
	iova_domain_destroy(D);
}

/* ---- the depot hands a slot its own magazines back first ---- */

static iova_allocation own_blocks[16];

static void *free_second_half(void *arg)
{
	(void)arg;
	for (int i = 8; i < 16; i++)
		CHECK_STATUS(iova_free(D, own_blocks[i].handle), IOVA_OK);
	return NULL;
}

static bool in_half(uint64_t iova, int half)
{
	for (int i = half * 8; i < half * 8 + 8; i++)
		if (own_blocks[i].iova == iova)
			return true;
	return false;
}

/* With 2-block magazines, 8 frees leave 4 blocks in a slot's magazines and
 * 2 magazines in the depot. This thread and another free 8 blocks each;
 * this thread's next 8 allocations get its own 8 back (2 of them from the
 * depot, although the other thread's magazines were parked after its own);
 * the 4 after those come from the other thread's depot magazines; the
 * next one misses. */
static void test_depot_own_first(void)
{
	iova_domain_config cfg = {.base = BASE, .size = 1 << 24, .strategy = "bitmap+cache",
				  .options = "magazine_size=2,depot_target=64,trim_ms=0"};
	CHECK_STATUS(iova_domain_create(&cfg, &D), IOVA_OK);
	for (int i = 0; i < 16; i++)
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &own_blocks[i]), IOVA_OK);
	for (int i = 0; i < 8; i++)
		CHECK_STATUS(iova_free(D, own_blocks[i].handle), IOVA_OK);
	pthread_t t;
	pthread_create(&t, NULL, free_second_half, NULL);
	pthread_join(t, NULL);
	CHECK_EQ(test_counter(D, "cache_depot_puts"), 4);
	iova_allocation a;
	for (int i = 0; i < 8; i++) {
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &a), IOVA_OK);
		CHECK_MSG(in_half(a.iova, 0), "allocation %d got 0x%llx, not one of this thread's blocks", i,
			  (unsigned long long)a.iova);
	}
	CHECK_EQ(test_counter(D, "cache_depot_gets"), 2);
	for (int i = 0; i < 4; i++) {
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &a), IOVA_OK);
		CHECK_MSG(in_half(a.iova, 1), "allocation %d got 0x%llx, not one of the other thread's depot blocks",
			  8 + i, (unsigned long long)a.iova);
	}
	CHECK_EQ(test_counter(D, "cache_depot_gets"), 4);
	uint64_t misses = test_counter(D, "cache_misses");
	CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &a), IOVA_OK);
	CHECK_EQ(test_counter(D, "cache_misses"), misses + 1);
	iova_domain_destroy(D); /* live blocks are discarded */
}

/* ---- the shared slot, through the operations ---- */

#define SPACE_GRANULES 4096
static const iova_strategy_ops *OPS;
static void *STATE;
static iova_space SPACE;
static _Atomic uint8_t OWNER[SPACE_GRANULES];
static _Atomic bool STOP;

static void mark(uint64_t g, uint64_t n, uint8_t from, uint8_t to)
{
	for (uint64_t i = g - SPACE.first; i < g - SPACE.first + n; i++) {
		uint8_t want = from;
		CHECK_MSG(atomic_compare_exchange_strong(&OWNER[i], &want, to), "granule %llu: %u, expected %u",
			  (unsigned long long)i, want, from);
	}
}

static void *shared_worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9E3779B97F4A7C15u + 7;
	uint64_t mine[64][2];
	int n = 0;
	for (int op = 0; op < 4000; op++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		if (n && (seed % 2 || n == 64)) {
			int i = (int)(seed / 2 % (uint64_t)n);
			mark(mine[i][0], mine[i][1], 1, 0);
			CHECK_STATUS(OPS->free(STATE, mine[i][0], mine[i][1], IOVA_SLOT_SHARED), IOVA_OK);
			mine[i][0] = mine[--n][0];
			mine[i][1] = mine[n][1];
			continue;
		}
		uint64_t s = 1 + seed / 2 % 8, g;
		iova_req r = {.granules = s, .order = s <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(s - 1), .lo = SPACE.first,
			      .hi = SPACE.end, .slot = IOVA_SLOT_SHARED};
		r.align = UINT64_C(1) << r.order;
		iova_status st = OPS->alloc(STATE, &r, &g);
		if (st == IOVA_ERR_NO_SPACE)
			continue;
		CHECK_STATUS(st, IOVA_OK);
		CHECK(g % r.align == 0 && g >= SPACE.first && g + s <= SPACE.end);
		mark(g, s, 0, 1);
		mine[n][0] = g;
		mine[n++][1] = s;
	}
	while (n--) {
		mark(mine[n][0], mine[n][1], 1, 0);
		CHECK_STATUS(OPS->free(STATE, mine[n][0], mine[n][1], IOVA_SLOT_SHARED), IOVA_OK);
	}
	return NULL;
}

static void *flusher(void *arg)
{
	(void)arg;
	while (!atomic_load(&STOP)) {
		OPS->flush(STATE);
		sched_yield();
	}
	return NULL;
}

static bool count_extent(void *ctx, uint64_t first, uint64_t n)
{
	(void)first;
	uint64_t *c = ctx;
	c[0]++;
	c[1] += n;
	return true;
}

static void test_shared_slot_ops(const char *name)
{
	OPS = iova_strategy_find(name);
	CHECK(OPS != NULL);
	SPACE = (iova_space){.first = BASE / G, .end = BASE / G + SPACE_GRANULES, .granule_shift = 12};
	CHECK_STATUS(OPS->create(&SPACE, "magazine_size=8", &STATE), IOVA_OK);
	atomic_store(&STOP, false);
	pthread_t w[4], f;
	pthread_create(&f, NULL, flusher, NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&w[i], NULL, shared_worker, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < 4; i++)
		pthread_join(w[i], NULL);
	atomic_store(&STOP, true);
	pthread_join(f, NULL);
	OPS->flush(STATE);
	uint64_t c[2] = {0, 0};
	OPS->walk_free(STATE, count_extent, c);
	CHECK_MSG(c[0] == 1 && c[1] == SPACE_GRANULES, "%s: %llu extents, %llu granules free", name,
		  (unsigned long long)c[0], (unsigned long long)c[1]);
	CHECK_EQ(OPS->cached(STATE), 0);
	OPS->destroy(STATE);
}

/* ---- more threads than slots, through the public API ---- */

#define CROWD 300
/* Room for every thread's largest blocks at once (300 * 4 * 4 granules) and
 * as much again cached: a failed allocation flushes every cache and retries
 * once, but 300 threads can refill their caches meanwhile. */
#define CROWD_SPACE (UINT64_C(1) << 25)
static pthread_barrier_t crowd_barrier;
static const char *crowd_strategy;
static _Atomic uint64_t crowd_shadow[CROWD_SPACE / G / 64];
static _Atomic unsigned crowd_shared;

static void *crowd_member(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x2545F4914F6CDD1Du + 3;
	iova_allocation a[4];
	pthread_barrier_wait(&crowd_barrier); /* all alive at once: the last ones share a slot */
	if (iova_thread_slot() == IOVA_SLOT_SHARED)
		atomic_fetch_add(&crowd_shared, 1);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 4; i++) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			iova_status st = iova_alloc(D, &(iova_request){.size = G * (1 + seed % 4)}, &a[i]);
			if (st != IOVA_OK) {
				iova_stats ds;
				iova_domain_stats(D, &ds);
				CHECK_MSG(0, "%s: iova_alloc of %llu granules: %s with %llu bytes free, %llu cached",
					  crowd_strategy, (unsigned long long)(1 + seed % 4), iova_status_name(st),
					  (unsigned long long)ds.free_bytes, (unsigned long long)ds.cached_bytes);
				a[i].handle = (iova_handle){{0, 0}};
				a[i].iova = BASE;
				a[i].size = 0;
				continue;
			}
			for (uint64_t g = (a[i].iova - BASE) / G; g < (a[i].iova - BASE + a[i].size) / G; g++)
				CHECK(!(atomic_fetch_or(&crowd_shadow[g / 64], UINT64_C(1) << (g % 64)) & (UINT64_C(1) << (g % 64))));
		}
		for (int i = 0; i < 4; i++) {
			if (!a[i].size)
				continue; /* its allocation failed */
			for (uint64_t g = (a[i].iova - BASE) / G; g < (a[i].iova - BASE + a[i].size) / G; g++)
				atomic_fetch_and(&crowd_shadow[g / 64], ~(UINT64_C(1) << (g % 64)));
			CHECK_STATUS(iova_free(D, a[i].handle), IOVA_OK);
		}
	}
	pthread_barrier_wait(&crowd_barrier);
	return NULL;
}

static void test_crowd(const char *name)
{
	iova_domain_config cfg = {.base = BASE, .size = CROWD_SPACE, .strategy = name};
	CHECK_STATUS(iova_domain_create(&cfg, &D), IOVA_OK);
	crowd_strategy = name;
	atomic_store(&crowd_shared, 0);
	pthread_barrier_init(&crowd_barrier, NULL, CROWD);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	pthread_t t[CROWD];
	for (int i = 0; i < CROWD; i++)
		CHECK(pthread_create(&t[i], &attr, crowd_member, (void *)(uintptr_t)(i + 1)) == 0);
	for (int i = 0; i < CROWD; i++)
		pthread_join(t[i], NULL);
	pthread_attr_destroy(&attr);
	pthread_barrier_destroy(&crowd_barrier);
	CHECK_MSG(atomic_load(&crowd_shared) >= CROWD - (IOVA_THREAD_SLOTS - 1), "%s: only %u threads shared a slot",
		  name, atomic_load(&crowd_shared));
	if (strstr(name, "+cache"))
		CHECK(test_counter(D, "cache_shared_slot_locks") > 0);
	iova_domain_flush_caches(D);
	iova_stats st;
	iova_domain_stats(D, &st);
	CHECK_MSG(st.free_bytes == cfg.size && st.free_extents == 1 && st.live_allocations == 0, "%s: free %llu in %llu",
		  name, (unsigned long long)st.free_bytes, (unsigned long long)st.free_extents);
	iova_domain_destroy(D);
}

int main(void)
{
	test_inheritance_and_cross_thread();
	test_depot_own_first();
	test_shared_slot_ops("bitmap+cache");
	test_shared_slot_ops("buddy-lf+cache");
	test_shared_slot_ops("jemalloc+cache");
	test_crowd("linux-rbtree+cache");
	test_crowd("jemalloc");
	return check_exit_code();
}
