/* SPDX-License-Identifier: MIT */
/*
 * test_jemalloc_teardown.c - the jemalloc strategy (bare and under the cache
 * layer) across many domains created and destroyed one after another, as
 * iovabench-micro runs them: generations of threads that exit and leave
 * their slots to new threads, frees of blocks another thread allocated (so
 * that one slot's thread cache holds blocks of another slot's arena), blocks
 * handed from one generation to the next, blocks still live at destroy.
 *
 * Teardown used to destroy each slot's thread cache and arena in turn, so a
 * later slot's thread cache, holding blocks of an arena destroyed before it,
 * was flushed against extents jemalloc had discarded: a segfault at address
 * 0 inside libjemalloc, in the first domain. Destroying every thread cache
 * before any arena fixes it; this test crashes without that.
 */
#include "check.h"
#include "test_counter.h"
#include "iova.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define G UINT64_C(4096)
#define BASE (UINT64_C(1) << 34)
#define SIZE (UINT64_C(1) << 30)
#define THREADS 3
#define GENERATIONS 4
#define DOMAINS 24
#define PER_THREAD 48 /* blocks each thread allocates per generation */

static const char *const strategies[] = {"jemalloc", "jemalloc+cache", "jemalloc+cache"};
/* Tiny magazines, every depot put trimmed at once: magazines filled by one
 * slot go back to jemalloc through another slot's thread cache. */
static const char *const options[] = {NULL, NULL, "magazine_size=4,depot_target=0,trim_ms=0"};

/* Sizes in granules: jemalloc's small (slab) classes, a large class its
 * thread cache keeps (up to 32 KiB), one it does not. */
static const uint64_t sizes[] = {1, 1, 1, 3, 2, 4, 8, 1, 40};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static iova_domain *D;
static pthread_barrier_t barrier;
static iova_allocation made[THREADS][PER_THREAD];
/* Blocks one generation leaves for the next one to free. */
static iova_allocation handed[THREADS][PER_THREAD / 4];
static bool have_handed;

struct worker {
	int k;
	unsigned seed;
};

static void *worker(void *arg)
{
	const struct worker *w = arg;
	const int k = w->k;
	for (int i = 0; i < PER_THREAD; i++) {
		uint64_t g = sizes[(w->seed + (unsigned)i) % NSIZES];
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = g * G}, &made[k][i]), IOVA_OK);
	}
	/* Some of this thread's own blocks go back at once: its thread cache
	 * (or magazines) start holding blocks of its own arena. */
	for (int i = 0; i < PER_THREAD / 4; i++) {
		CHECK_STATUS(iova_free(D, made[k][i].handle), IOVA_OK);
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = sizes[(unsigned)i % NSIZES] * G}, &made[k][i]),
			     IOVA_OK);
	}
	/* What the previous generation left is freed by this one. */
	if (have_handed)
		for (int i = 0; i < PER_THREAD / 4; i++)
			CHECK_STATUS(iova_free(D, handed[k][i].handle), IOVA_OK);
	pthread_barrier_wait(&barrier);
	/* Free most of the next thread's blocks: another slot's arena. */
	const int n = (k + 1) % THREADS;
	for (int i = 0; i < PER_THREAD / 2; i++)
		CHECK_STATUS(iova_free(D, made[n][i].handle), IOVA_OK);
	pthread_barrier_wait(&barrier);
	/* Of this thread's remaining blocks, a quarter is handed on, the rest
	 * freed, except in the last generation, where the rest stays live
	 * until the domain is destroyed. */
	for (int i = PER_THREAD / 2; i < PER_THREAD; i++) {
		int j = i - PER_THREAD / 2;
		if (j < PER_THREAD / 4)
			handed[k][j] = made[k][i];
		else if (w->seed % 2)
			CHECK_STATUS(iova_free(D, made[k][i].handle), IOVA_OK);
	}
	return NULL;
}

static void check_accounting(const iova_domain *d)
{
	iova_stats s;
	CHECK_STATUS(iova_domain_stats(d, &s), IOVA_OK);
	CHECK_EQ(s.free_bytes + s.allocated_bytes + s.cached_bytes, SIZE);
	CHECK_EQ(test_counter(d, "extent_hook_errors"), 0);
	CHECK_EQ(test_counter(d, "misplaced"), 0);
}

static void run_domain(int strategy, int round)
{
	iova_domain_config cfg = {.base = BASE, .size = SIZE, .strategy = strategies[strategy], .options = options[strategy]};
	CHECK_STATUS(iova_domain_create(&cfg, &D), IOVA_OK);
	if (!D)
		return;
	have_handed = false;
	for (int gen = 0; gen < GENERATIONS; gen++) {
		pthread_t t[THREADS];
		struct worker w[THREADS];
		for (int k = 0; k < THREADS; k++) {
			w[k] = (struct worker){k, (unsigned)(round * 7 + gen * 3 + k) | (gen + 1 < GENERATIONS)};
			CHECK(pthread_create(&t[k], NULL, worker, &w[k]) == 0);
		}
		for (int k = 0; k < THREADS; k++)
			pthread_join(t[k], NULL); /* the slots are free for the next generation */
		have_handed = true;
		check_accounting(D);
	}
	if (round % 3 == 0)
		iova_domain_flush_caches(D); /* sometimes everything back through the hooks first */
	CHECK_EQ(test_counter(D, "jemalloc_leaked_domains"), 0);
	iova_domain_destroy(D); /* with live blocks, and thread caches holding other slots' blocks */
	D = NULL;
}

int main(void)
{
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int round = 0; round < DOMAINS; round++)
		for (int s = 0; s < (int)(sizeof strategies / sizeof strategies[0]); s++)
			run_domain(s, round);
	/* A last domain sees that jemalloc is still sound and nothing leaked. */
	iova_domain_config cfg = {.base = BASE, .size = SIZE, .strategy = "jemalloc"};
	CHECK_STATUS(iova_domain_create(&cfg, &D), IOVA_OK);
	iova_allocation a;
	CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &a), IOVA_OK);
	CHECK_STATUS(iova_free(D, a.handle), IOVA_OK);
	CHECK_EQ(test_counter(D, "jemalloc_leaked_domains"), 0);
	iova_domain_destroy(D);
	pthread_barrier_destroy(&barrier);
	return check_exit_code();
}
