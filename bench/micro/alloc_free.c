/* SPDX-License-Identifier: MIT */
/*
 * alloc_free.c - "alloc-free/<strategy>/order:<k>": the latency of one
 * allocation of 2^k granules immediately freed again, the allocator's
 * shortest round trip. Google Benchmark chooses the iteration count.
 *
 * Three floors are measured in the same run, the same loop calling two
 * functions with the signatures of iova_alloc() and iova_free() that fill in
 * the caller's record as a real call would:
 *   alloc-free/empty-call  they do nothing else: the floor of any round trip
 *                          ("within a small factor of an empty function call");
 *   alloc-free/cas-call    each also does one compare-and-swap on a word of
 *                          its thread: the floor of an allocator with no cache,
 *                          whose allocations and frees must each do an atomic
 *                          read-modify-write (two racing allocators must not
 *                          both get a block, of two racing frees of one block
 *                          one must fail);
 *   alloc-free/hit-call    only the free does one: the floor of a cache hit
 *                          that still tells a double free exactly, racing ones
 *                          included.
 * Each word sits on its thread's own line, so the floors cost what the
 * instruction costs and nothing for sharing.
 */
#include "micro.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const int64_t orders[] = {0, 4, 9, 18};

static void bm_alloc_free(gb_state *st)
{
	iova_domain *d = micro_domain(st);
	const uint64_t bytes = (uint64_t)MICRO_GRANULE << gb_range(st, 0);
	const iova_request req = {.size = bytes};
	int64_t pairs = 0;
	while (gb_keep_running(st)) {
		if (!d)
			continue; /* setup failed and was reported: the loop ends now */
		iova_handle h;
		if (!micro_alloc(st, d, &req, &h) || !micro_free(st, d, h, bytes)) {
			d = NULL;
			continue;
		}
		pairs++;
	}
	gb_set_items_processed(st, pairs);
	gb_counter(st, "ops", 2.0 * (double)pairs, GB_COUNTER_RATE);
}

/* What every floor's allocation writes: the caller's record, as a real one. */
static inline iova_status fill_record(const iova_request *r, iova_allocation *out)
{
	memset(out, 0, sizeof *out);
	out->size = r->size;
	return IOVA_OK;
}

/*
 * FLOOR_FN: the compiler may neither inline these nor use what it knows of
 * their bodies at the call, so each is a real call, as into the library.
 * GCC says so with noipa. Clang has no noipa: there the functions are
 * noinline, and FLOOR_BODY(), an empty volatile asm statement, gives each
 * body an effect that keeps the calls from being deleted.
 */
#if defined(__clang__)
#define FLOOR_FN __attribute__((noinline))
#define FLOOR_BODY() __asm__ volatile("")
#else
#define FLOOR_FN __attribute__((noipa))
#define FLOOR_BODY() ((void)0)
#endif

static FLOOR_FN iova_status empty_alloc(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	FLOOR_BODY();
	(void)d;
	return fill_record(r, out);
}

static FLOOR_FN iova_status empty_free(iova_domain *d, iova_handle h)
{
	FLOOR_BODY();
	(void)d;
	(void)h;
	return IOVA_OK;
}

/* The word a floor's compare-and-swap works on, in its thread's own storage:
 * a line no other thread writes. */
static _Thread_local _Alignas(64) _Atomic uint64_t floor_word;

/* One compare-and-swap that succeeds unless another thread wrote the word,
 * which none does: what a claim or a free costs at the least. Relaxed, as
 * an allocator's claim of a word may be; x86 has only one kind anyway. */
static inline bool floor_cas(uint64_t delta)
{
	uint64_t v = atomic_load_explicit(&floor_word, memory_order_relaxed);
	return atomic_compare_exchange_strong_explicit(&floor_word, &v, v + delta, memory_order_relaxed,
						       memory_order_relaxed);
}

static FLOOR_FN iova_status cas_alloc(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	FLOOR_BODY();
	(void)d;
	return floor_cas(1) ? fill_record(r, out) : IOVA_ERR_NO_SPACE;
}

static FLOOR_FN iova_status cas_free(iova_domain *d, iova_handle h)
{
	FLOOR_BODY();
	(void)d;
	(void)h;
	return floor_cas(UINT64_MAX) ? IOVA_OK : IOVA_ERR_DOUBLE_FREE;
}

typedef iova_status (*floor_alloc_fn)(iova_domain *, const iova_request *, iova_allocation *);
typedef iova_status (*floor_free_fn)(iova_domain *, iova_handle);

/* The alloc-free loop over two floor functions; inlined into each caller
 * with constant arguments, so the calls are direct, as into the library. */
static inline __attribute__((always_inline)) void floor_loop(gb_state *st, floor_alloc_fn alloc, floor_free_fn free_fn)
{
	const iova_request req = {.size = MICRO_GRANULE};
	int64_t pairs = 0;
	while (gb_keep_running(st)) {
		iova_allocation a;
		if (alloc(NULL, &req, &a) != IOVA_OK || free_fn(NULL, a.handle) != IOVA_OK)
			continue;
		pairs++;
	}
	gb_set_items_processed(st, pairs);
	gb_counter(st, "ops", 2.0 * (double)pairs, GB_COUNTER_RATE);
}

static void bm_empty_call(gb_state *st) { floor_loop(st, empty_alloc, empty_free); }
static void bm_cas_call(gb_state *st) { floor_loop(st, cas_alloc, cas_free); }
static void bm_hit_call(gb_state *st) { floor_loop(st, empty_alloc, cas_free); }

void micro_register_floors(void)
{
	micro_threads_and_clock(gb_register("alloc-free/empty-call", bm_empty_call));
	micro_threads_and_clock(gb_register("alloc-free/cas-call", bm_cas_call));
	micro_threads_and_clock(gb_register("alloc-free/hit-call", bm_hit_call));
}

void micro_register_alloc_free(const char *strategy, gb_hook_fn setup)
{
	char name[256];
	snprintf(name, sizeof name, "alloc-free/%s", strategy);
	gb_bench *b = gb_register(name, bm_alloc_free);
	gb_arg_name(b, "order");
	for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
		gb_arg(b, orders[i]);
	micro_threads_and_clock(b);
	gb_setup(b, setup);
	gb_teardown(b, micro_fixture_teardown);
}
