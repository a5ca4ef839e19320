/* SPDX-License-Identifier: MIT */
/*
 * alloc_free.c - "alloc-free/<strategy>/order:<k>": the latency of one
 * allocation of 2^k granules immediately freed again, the allocator's
 * shortest round trip. Google Benchmark chooses the iteration count.
 *
 * "alloc-free/empty-call" is the floor under all of them, measured in the
 * same run: the same loop calling two functions with the signatures of
 * iova_alloc() and iova_free() that only fill in the caller's record, as a
 * call that allocates nothing would. A cache hit is judged against it
 * ("within a small factor of an empty function call").
 */
#include "micro.h"

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

/* noipa: the compiler may neither inline these nor use what it knows of
 * their bodies at the call, so each is a real call, as into the library. */
static __attribute__((noipa)) iova_status empty_alloc(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	(void)d;
	memset(out, 0, sizeof *out);
	out->size = r->size;
	return IOVA_OK;
}

static __attribute__((noipa)) iova_status empty_free(iova_domain *d, iova_handle h)
{
	(void)d;
	(void)h;
	return IOVA_OK;
}

static void bm_empty_call(gb_state *st)
{
	const iova_request req = {.size = MICRO_GRANULE};
	int64_t pairs = 0;
	while (gb_keep_running(st)) {
		iova_allocation a;
		if (empty_alloc(NULL, &req, &a) != IOVA_OK || empty_free(NULL, a.handle) != IOVA_OK)
			continue;
		pairs++;
	}
	gb_set_items_processed(st, pairs);
	gb_counter(st, "ops", 2.0 * (double)pairs, GB_COUNTER_RATE);
}

void micro_register_empty_call(void) { micro_threads_and_clock(gb_register("alloc-free/empty-call", bm_empty_call)); }

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
