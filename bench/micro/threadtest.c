/* SPDX-License-Identifier: MIT */
/*
 * threadtest.c - "threadtest/<strategy>" (Hoard's threadtest, as NBBS runs
 * it): each thread does 500 bursts; a burst allocates 50,000/threads blocks
 * of size S, then frees them in allocation order. The total working set is
 * the same at every thread count, so perfect scaling keeps the time flat.
 * --scale multiplies the number of bursts, not the burst, so that a scaled
 * run keeps the working set that shapes the allocator's behaviour.
 */
#include "micro.h"

#include <stdlib.h>

#define THREADTEST_BURSTS 500u
#define THREADTEST_BLOCKS 50000u

static void bm_threadtest(gb_state *st)
{
	iova_domain *d = micro_domain(st);
	const uint64_t bytes = micro_opts.block_bytes;
	const iova_request req = {.size = bytes};
	const uint64_t bursts = micro_scaled(THREADTEST_BURSTS);
	const size_t blocks = THREADTEST_BLOCKS / (unsigned)gb_threads_count(st);
	iova_handle *h = d ? micro_handle_array(st, blocks) : NULL;
	if (!h)
		d = NULL;
	uint64_t ops = 0;
	while (gb_keep_running(st)) {
		micro_span_begin();
		for (uint64_t b = 0; d && b < bursts; b++) {
			if (!micro_burst(st, d, &req, h, blocks))
				d = NULL; /* the domain is discarded at teardown */
			ops += d ? 2 * (uint64_t)blocks : 0;
		}
		micro_span_end();
	}
	free(h);
	micro_report_ops(st, ops);
}

void micro_register_threadtest(const char *strategy, gb_hook_fn setup)
{
	micro_register_workload("threadtest", strategy, bm_threadtest, setup);
}
