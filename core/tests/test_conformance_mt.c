/* SPDX-License-Identifier: MIT */
/*
 * test_conformance_mt.c - every strategy, without and with the cache layer,
 * under randomized multi-threaded stress: workers allocate (with the
 * constraints the strategy supports) and free, hand some blocks to other
 * threads to free, and exit; a second round of threads inherits their thread
 * slots (and any magazines in them). Meanwhile another thread flushes the
 * caches and takes statistics. Invariants: every block meets its request; no
 * two live blocks overlap (an atomic shadow bitmap); every free of a live
 * block succeeds; afterwards, with everything freed and flushed, the whole
 * domain is one free extent and the accounting is zero. Then two threads
 * free the same handles at once: exactly one free of each must succeed.
 * Requests a strategy cannot honour (windows, alignment above natural) are
 * left out of its stress, and its matrix row says so with a SKIP and why.
 *
 * Usage: test_conformance_mt [combination]
 */
#include "test_conformance_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define BASE (UINT64_C(3) << 30)
#define SIZE (UINT64_C(256) << 20)
#define GRANULE UINT64_C(4096)
#define NGRANULES (SIZE / GRANULE)
#define WORKERS 4
#define ROUNDS 2
#ifndef OPS_PER_WORKER
#define OPS_PER_WORKER 6000
#endif
#define MAX_OWN 512
#define EXCHANGE 256

struct block {
	iova_allocation a;
	iova_request r;
};

static struct {
	const struct combo *k;
	iova_domain_config cfg;
	iova_domain *d;
	_Atomic uint64_t shadow[NGRANULES / 64];
	pthread_mutex_t xlock; /* the test's own hand-over of blocks between threads */
	struct block exchange[EXCHANGE];
	size_t n_exchange;
	_Atomic bool stop;
	_Atomic uint64_t allocs, frees, no_space, handed;
	_Atomic uint64_t windowed, aligned; /* blocks allocated for such requests */
} T;

static void shadow_set(const iova_allocation *a)
{
	for (uint64_t g = (a->iova - BASE) / GRANULE, e = g + a->size / GRANULE; g < e; g++) {
		uint64_t old = atomic_fetch_or(&T.shadow[g / 64], UINT64_C(1) << (g % 64));
		CHECK_MSG(!(old & (UINT64_C(1) << (g % 64))), "%s: block at 0x%llx size 0x%llx overlaps a live block",
			  T.k->name, (unsigned long long)a->iova, (unsigned long long)a->size);
	}
}

/* Cleared before the free: afterwards another thread may get the granules. */
static void shadow_clear(const iova_allocation *a)
{
	for (uint64_t g = (a->iova - BASE) / GRANULE, e = g + a->size / GRANULE; g < e; g++)
		atomic_fetch_and(&T.shadow[g / 64], ~(UINT64_C(1) << (g % 64)));
}

static void release(const struct block *b)
{
	shadow_clear(&b->a);
	CHECK_STATUS(iova_free(T.d, b->a.handle), IOVA_OK);
	atomic_fetch_add_explicit(&T.frees, 1, memory_order_relaxed);
}

static iova_request random_request(uint64_t *seed)
{
	uint64_t g = rnd_below(seed, 20) ? 1 + rnd_below(seed, 48) : 1 + rnd_below(seed, 512);
	iova_request r = {.size = g * GRANULE - rnd_below(seed, 2) * rnd_below(seed, GRANULE),
			  .placement = (iova_placement)rnd_below(seed, 2), .cache_type = (iova_cache_type)rnd_below(seed, 3)};
	uint64_t rounded = GRANULE << log2_ceil_u64(g), align = rounded;
	if ((T.k->caps & IOVA_CAP_ALIGNMENT) && rnd_below(seed, 10) == 0) {
		r.alignment = GRANULE << (log2_ceil_u64(g) + rnd_below(seed, 4));
		align = r.alignment;
	}
	if ((T.k->caps & IOVA_CAP_WINDOW) && rnd_below(seed, 7) == 0) {
		/* Room for at least two aligned rounded blocks: always satisfiable. */
		uint64_t span = 2 * align + rnd_below(seed, SIZE / 8) / align * align;
		if (span > SIZE)
			span = SIZE;
		r.lowest = BASE + rnd_below(seed, (SIZE - span) / align + 1) * align;
		r.highest = r.lowest + span - 1;
	}
	if (rnd_below(seed, 10) == 0)
		r.boundary = rounded << rnd_below(seed, 3);
	return r;
}

static void *worker(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg * UINT64_C(0x9E3779B97F4A7C15) + 1;
	struct block own[MAX_OWN];
	size_t n = 0;
	for (int op = 0; op < OPS_PER_WORKER; op++) {
		uint64_t dice = rnd_below(&seed, 100);
		if (dice < 5) { /* free a block another thread handed over */
			struct block b;
			bool got = false;
			pthread_mutex_lock(&T.xlock);
			if (T.n_exchange) {
				b = T.exchange[--T.n_exchange];
				got = true;
			}
			pthread_mutex_unlock(&T.xlock);
			if (got)
				release(&b);
		} else if (n && (dice < 50 || n == MAX_OWN)) {
			size_t i = rnd_below(&seed, n);
			struct block b = own[i];
			own[i] = own[--n];
			bool handed = false;
			if (rnd_below(&seed, 10) == 0) {
				pthread_mutex_lock(&T.xlock);
				if (T.n_exchange < EXCHANGE) {
					T.exchange[T.n_exchange++] = b;
					handed = true;
				}
				pthread_mutex_unlock(&T.xlock);
			}
			if (handed)
				atomic_fetch_add_explicit(&T.handed, 1, memory_order_relaxed);
			else
				release(&b);
		} else {
			struct block b = {.r = random_request(&seed)};
			iova_status st = iova_alloc(T.d, &b.r, &b.a);
			if (st == IOVA_ERR_NO_SPACE) {
				atomic_fetch_add_explicit(&T.no_space, 1, memory_order_relaxed);
				continue;
			}
			CHECK_MSG(st == IOVA_OK, "%s: %s", T.k->name, iova_status_name(st));
			if (st != IOVA_OK)
				continue;
			char why[256];
			CHECK_MSG(meets(&T.cfg, &b.r, &b.a, why, sizeof why), "%s: %s", T.k->name, why);
			shadow_set(&b.a);
			own[n++] = b;
			atomic_fetch_add_explicit(&T.allocs, 1, memory_order_relaxed);
			if (b.r.lowest || b.r.highest)
				atomic_fetch_add_explicit(&T.windowed, 1, memory_order_relaxed);
			if (b.r.alignment)
				atomic_fetch_add_explicit(&T.aligned, 1, memory_order_relaxed);
		}
	}
	while (n)
		release(&own[--n]);
	return NULL;
}

static bool count_extent(void *ctx, uint64_t iova, uint64_t bytes)
{
	(void)iova;
	uint64_t *c = ctx;
	c[0]++;
	c[1] += bytes;
	return true;
}

static void ignore_counter(void *ctx, const char *name, uint64_t value, iova_counter_kind kind)
{
	(void)ctx, (void)name, (void)value, (void)kind;
}

/* Flushes and reads statistics while the workers run. */
static void *meddler(void *arg)
{
	(void)arg;
	while (!atomic_load(&T.stop)) {
		iova_domain_flush_caches(T.d);
		iova_stats st;
		CHECK_STATUS(iova_domain_stats(T.d, &st), IOVA_OK);
		CHECK(st.free_bytes <= SIZE && st.cached_bytes <= SIZE - st.free_bytes);
		uint64_t c[2] = {0, 0};
		iova_domain_for_each_free(T.d, count_extent, c);
		iova_domain_counters(T.d, ignore_counter, NULL);
		for (int i = 0; i < 20 && !atomic_load(&T.stop); i++)
			sched_yield();
	}
	return NULL;
}

static void print_counter(void *ctx, const char *name, uint64_t value, iova_counter_kind kind)
{
	fprintf(stderr, "%s: counter %s = %llu (%s)\n", (const char *)ctx, name, (unsigned long long)value,
		iova_counter_kind_name(kind));
}

static bool print_extent(void *ctx, uint64_t iova, uint64_t bytes)
{
	fprintf(stderr, "%s: free [0x%llx, 0x%llx)\n", (const char *)ctx, (unsigned long long)iova,
		(unsigned long long)(iova + bytes));
	return true;
}

static void run(const struct combo *k)
{
	memset(&T, 0, sizeof T);
	pthread_mutex_init(&T.xlock, NULL);
	T.k = k;
	T.cfg = (iova_domain_config){.base = BASE, .size = SIZE, .granule = GRANULE, .strategy = k->name};
	CHECK_STATUS(iova_domain_create(&T.cfg, &T.d), IOVA_OK);
	if (!T.d)
		return;
	pthread_t m;
	pthread_create(&m, NULL, meddler, NULL);
	for (int round = 0; round < ROUNDS; round++) {
		pthread_t w[WORKERS];
		for (int i = 0; i < WORKERS; i++)
			pthread_create(&w[i], NULL, worker, (void *)(uintptr_t)(round * WORKERS + i + 1));
		for (int i = 0; i < WORKERS; i++)
			pthread_join(w[i], NULL);
	}
	atomic_store(&T.stop, true);
	pthread_join(m, NULL);
	while (T.n_exchange)
		release(&T.exchange[--T.n_exchange]);
	iova_domain_flush_caches(T.d);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(T.d, &st), IOVA_OK);
	CHECK_MSG(st.free_bytes == SIZE && st.free_extents == 1 && st.cached_bytes == 0 && st.allocated_bytes == 0,
		  "%s: after the run: free %llu in %llu extents, cached %llu, allocated %llu", k->name,
		  (unsigned long long)st.free_bytes, (unsigned long long)st.free_extents,
		  (unsigned long long)st.cached_bytes, (unsigned long long)st.allocated_bytes);
	if (st.free_bytes != SIZE) { /* say what the strategy thinks */
		iova_domain_counters(T.d, print_counter, (void *)k->name);
		iova_domain_for_each_free(T.d, print_extent, (void *)k->name);
	}
	CHECK_EQ(st.requested_bytes, 0);
	CHECK_EQ(st.live_allocations, 0);
	CHECK_EQ(st.allocs, atomic_load(&T.allocs));
	CHECK_EQ(st.frees, atomic_load(&T.frees));
	CHECK_EQ(st.failed_frees, 0);
	for (size_t i = 0; i < NGRANULES / 64; i++)
		CHECK_EQ(atomic_load(&T.shadow[i]), 0);
	printf("%-22s allocs %llu (no space %llu) frees %llu handed over %llu\n", k->name,
	       (unsigned long long)atomic_load(&T.allocs), (unsigned long long)atomic_load(&T.no_space),
	       (unsigned long long)atomic_load(&T.frees), (unsigned long long)atomic_load(&T.handed));
	iova_domain_destroy(T.d);
	pthread_mutex_destroy(&T.xlock);
}

/*
 * A kind of request that random_request() issues only with capability
 * @cap: with it, the stress must have served some (else PASS would mean
 * nothing); without it, one such request must be refused with
 * IOVA_ERR_UNSUPPORTED - the reason it was left out - and the matrix
 * says SKIP with that reason.
 */
static void leave_out(struct matrix *mx, size_t ci, const struct combo *k, const char *aspect, unsigned cap,
		      const char *cap_name, uint64_t served, iova_request r)
{
	int before = check_failure_count();
	if (k->caps & cap) {
		CHECK_MSG(served > 0, "%s: the threaded stress served no request needing %s", k->name, cap_name);
		matrix_set(mx, ci, aspect, before, NULL);
		return;
	}
	iova_domain *d = NULL;
	iova_domain_config cfg = {.base = BASE, .size = SIZE, .granule = GRANULE, .strategy = k->name};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (d) {
		iova_allocation a;
		CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_ERR_UNSUPPORTED);
		iova_domain_destroy(d);
	}
	char why[128];
	snprintf(why, sizeof why, "no %s: such requests refused with IOVA_ERR_UNSUPPORTED, left out of the stress", cap_name);
	matrix_set(mx, ci, aspect, before, why);
}

/* ---- racing frees: two threads free the same handles at once ---- */

#define RACED 256
static struct {
	iova_domain *d;
	iova_allocation a[RACED];
	_Atomic unsigned ok[RACED];
	pthread_barrier_t go;
} R;

static void *racer(void *arg)
{
	const bool backwards = arg != NULL;
	pthread_barrier_wait(&R.go);
	for (int j = 0; j < RACED; j++) {
		int i = backwards ? RACED - 1 - j : j;
		iova_status st = iova_free(R.d, R.a[i].handle);
		if (st == IOVA_OK)
			atomic_fetch_add(&R.ok[i], 1);
		else
			CHECK_MSG(st == IOVA_ERR_DOUBLE_FREE || st == IOVA_ERR_UNKNOWN_HANDLE, "racing free: %s",
				  iova_status_name(st));
	}
	return NULL;
}

/* Exactly one free of each handle succeeds; nothing is corrupted. */
static void race(const struct combo *k)
{
	iova_domain_config cfg = {.base = BASE, .size = SIZE, .granule = GRANULE, .strategy = k->name};
	CHECK_STATUS(iova_domain_create(&cfg, &R.d), IOVA_OK);
	if (!R.d)
		return;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < RACED; i++) {
			CHECK_STATUS(iova_alloc(R.d, &(iova_request){.size = GRANULE * (1 + (uint64_t)(i % 5))}, &R.a[i]), IOVA_OK);
			atomic_store(&R.ok[i], 0);
		}
		pthread_barrier_init(&R.go, NULL, 2);
		pthread_t t[2];
		pthread_create(&t[0], NULL, racer, NULL);
		pthread_create(&t[1], NULL, racer, round % 2 ? (void *)1 : NULL);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		pthread_barrier_destroy(&R.go);
		for (int i = 0; i < RACED; i++)
			CHECK_MSG(atomic_load(&R.ok[i]) == 1, "%s: handle %d freed %u times", k->name, i, atomic_load(&R.ok[i]));
	}
	iova_domain_flush_caches(R.d);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(R.d, &st), IOVA_OK);
	CHECK_MSG(st.free_bytes == SIZE && st.free_extents == 1 && st.live_allocations == 0,
		  "%s: after racing frees: free %llu in %llu extents, %llu live", k->name, (unsigned long long)st.free_bytes,
		  (unsigned long long)st.free_extents, (unsigned long long)st.live_allocations);
	iova_domain_destroy(R.d);
}

int main(int argc, char **argv)
{
	static struct combo combos[MAX_COMBOS];
	static struct matrix mx;
	const size_t n = combos_list(combos, argc, argv);
	CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		int before = check_failure_count();
		run(&combos[i]);
		matrix_set(&mx, i, "threads", before, NULL);
		leave_out(&mx, i, &combos[i], "threads-windows", IOVA_CAP_WINDOW, "IOVA_CAP_WINDOW", atomic_load(&T.windowed),
			  (iova_request){.size = GRANULE, .lowest = BASE + SIZE / 2});
		leave_out(&mx, i, &combos[i], "threads-alignment", IOVA_CAP_ALIGNMENT, "IOVA_CAP_ALIGNMENT",
			  atomic_load(&T.aligned), (iova_request){.size = GRANULE, .alignment = 64 * GRANULE});
		before = check_failure_count();
		race(&combos[i]);
		matrix_set(&mx, i, "double-free-race", before, NULL);
		fflush(stdout);
	}
	matrix_print(&mx, combos, n);
	return check_exit_code();
}
