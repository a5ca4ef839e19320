/* SPDX-License-Identifier: MIT */
/*
 * long_lived_churn.c - "long-lived-churn/<strategy>": thousands of
 * long-lived blocks plus high-rate churn, the pattern in which Malka et al.
 * (FAST'15) saw the Linux IOVA allocator "regularly induce linear
 * complexity".
 *
 * Each thread first (untimed) allocates 8,000 single-granule blocks and frees
 * every other one: 4,000 long-lived blocks with 4,000 one-granule holes
 * between them. Then, 100,000 times: allocate one granule (it takes a hole),
 * allocate two granules (no hole fits: the search must get past the
 * long-lived blocks), free the one granule, free the two. For the red-black
 * tree, freeing the one-granule block above its cached node sends the next
 * search back to the top, so every round walks all 4,000 long-lived nodes;
 * an allocator with free-space summaries does not walk at all. Reports
 * alloc+free operations per second, as the other workloads.
 */
#include "micro.h"

#include <stdlib.h>

#define CHURN_LONG_LIVED 4000u
#define CHURN_ROUNDS 100000u

static void bm_long_lived_churn(gb_state *st)
{
	iova_domain *d = micro_domain(st);
	const uint64_t page = micro_opts.block_bytes;
	const iova_request one = {.size = page}, two = {.size = 2 * page};
	const uint64_t rounds = micro_scaled(CHURN_ROUNDS);
	iova_handle *held = d ? micro_handle_array(st, 2 * CHURN_LONG_LIVED) : NULL;
	if (!held)
		d = NULL;
	for (unsigned i = 0; d && i < 2 * CHURN_LONG_LIVED; i++)
		if (!micro_alloc(st, d, &one, &held[i]))
			d = NULL;
	for (unsigned i = 0; d && i < 2 * CHURN_LONG_LIVED; i += 2)
		if (!micro_free(st, d, held[i], page))
			d = NULL;
	uint64_t ops = 0;
	while (gb_keep_running(st)) {
		micro_span_begin();
		for (uint64_t r = 0; d && r < rounds; r++) {
			iova_handle h1, h2;
			if (!micro_alloc(st, d, &one, &h1) || !micro_alloc(st, d, &two, &h2) ||
			    !micro_free(st, d, h1, page) || !micro_free(st, d, h2, 2 * page)) {
				d = NULL; /* may hold blocks: discarded at teardown */
				break;
			}
			ops += 4;
		}
		micro_span_end();
	}
	for (unsigned i = 1; d && i < 2 * CHURN_LONG_LIVED; i += 2)
		iova_free(d, held[i]);
	free(held);
	micro_report_ops(st, ops);
}

void micro_register_long_lived_churn(const char *strategy, gb_hook_fn setup)
{
	micro_register_workload("long-lived-churn", strategy, bm_long_lived_churn, setup);
}
