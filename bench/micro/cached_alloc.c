/* SPDX-License-Identifier: MIT */
/*
 * cached_alloc.c - "cached-alloc/<strategy>" (NBBS' cached allocation):
 * each thread allocates one block of size S and frees it at once,
 * 5,000,000 times. Rewards allocators that hand the same block straight
 * back (per-CPU caches, per-thread start hints).
 */
#include "micro.h"

#define CACHED_ALLOC_ROUNDS 5000000u

static void bm_cached_alloc(gb_state *st)
{
	iova_domain *d = micro_domain(st);
	const uint64_t bytes = micro_opts.block_bytes;
	const iova_request req = {.size = bytes};
	const uint64_t rounds = micro_scaled(CACHED_ALLOC_ROUNDS);
	uint64_t ops = 0;
	while (gb_keep_running(st)) {
		micro_span_begin();
		for (uint64_t i = 0; d && i < rounds; i++) {
			iova_handle h;
			if (!micro_alloc(st, d, &req, &h) || !micro_free(st, d, h, bytes))
				break;
			ops += 2;
		}
		micro_span_end();
	}
	micro_report_ops(st, ops);
}

void micro_register_cached_alloc(const char *strategy, gb_hook_fn setup)
{
	micro_register_workload("cached-alloc", strategy, bm_cached_alloc, setup);
}
