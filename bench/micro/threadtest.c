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

#define THREADTEST_BURSTS 500u
#define THREADTEST_BLOCKS 50000u

static void bm_threadtest(gb_state *st)
{
	micro_run_bursts(st, micro_scaled(THREADTEST_BURSTS), THREADTEST_BLOCKS / (unsigned)gb_threads_count(st));
}

void micro_register_threadtest(const char *strategy, gb_hook_fn setup)
{
	micro_register_workload("threadtest", strategy, bm_threadtest, setup);
}
