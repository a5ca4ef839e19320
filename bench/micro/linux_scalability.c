/* SPDX-License-Identifier: MIT */
/*
 * linux_scalability.c - "linux-scalability/<strategy>" (Lever and Boreham's
 * linux-scalability, as NBBS runs it): each thread allocates 87,040 blocks
 * of size S, then frees them in allocation order; twice. Unlike threadtest
 * the per-thread working set does not shrink with more threads, so the
 * domain holds threads * 87,040 blocks at the peak.
 */
#include "micro.h"

#define SCALABILITY_BLOCKS 87040u
#define SCALABILITY_PASSES 2u

static void bm_linux_scalability(gb_state *st)
{
	micro_run_bursts(st, SCALABILITY_PASSES, (size_t)micro_scaled(SCALABILITY_BLOCKS));
}

void micro_register_linux_scalability(const char *strategy, gb_hook_fn setup)
{
	micro_register_workload("linux-scalability", strategy, bm_linux_scalability, setup);
}
