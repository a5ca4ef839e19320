/* SPDX-License-Identifier: MIT */
/*
 * linux_scalability.c - "linux-scalability/<strategy>" (Lever and Boreham's
 * linux-scalability, as NBBS runs it): each thread allocates 87,040 blocks
 * of size S, then frees them in allocation order; twice. Unlike threadtest
 * the per-thread working set does not shrink with more threads, so the
 * domain holds threads * 87,040 blocks at the peak.
 */
#include "micro.h"

#include <stdlib.h>

#define SCALABILITY_BLOCKS 87040u
#define SCALABILITY_PASSES 2u

static void bm_linux_scalability(gb_state *st)
{
	iova_domain *d = micro_domain(st);
	const uint64_t bytes = micro_opts.block_bytes;
	const iova_request req = {.size = bytes};
	const size_t blocks = (size_t)micro_scaled(SCALABILITY_BLOCKS);
	iova_handle *h = d ? micro_handle_array(st, blocks) : NULL;
	if (!h)
		d = NULL;
	uint64_t ops = 0;
	while (gb_keep_running(st)) {
		micro_span_begin();
		for (unsigned pass = 0; d && pass < SCALABILITY_PASSES; pass++) {
			if (!micro_burst(st, d, &req, h, blocks))
				d = NULL;
			ops += d ? 2 * (uint64_t)blocks : 0;
		}
		micro_span_end();
	}
	free(h);
	micro_report_ops(st, ops);
}

void micro_register_linux_scalability(const char *strategy, gb_hook_fn setup)
{
	micro_register_workload("linux-scalability", strategy, bm_linux_scalability, setup);
}
