/* SPDX-License-Identifier: MIT */
/*
 * constant_occupancy.c - "constant-occupancy/<strategy>" (NBBS' constant
 * occupancy): each thread holds 31 blocks - 1 of 16S, 2 of 8S, 4 of 4S,
 * 8 of 2S, 16 of S - and then, 50,000,000/threads times, frees a randomly
 * chosen one and allocates a block of the same size in its place. The
 * occupancy never changes, but the free space is continually re-fragmented
 * at mixed orders, so splits and merges stay on the hot path.
 */
#include "micro.h"

#define OCCUPANCY_BLOCKS 31u
#define OCCUPANCY_ROUNDS 50000000u

static void bm_constant_occupancy(gb_state *st)
{
	iova_domain *d = micro_domain(st);
	const uint64_t rounds = micro_scaled(OCCUPANCY_ROUNDS / (unsigned)gb_threads_count(st));
	iova_request req[OCCUPANCY_BLOCKS];
	iova_handle h[OCCUPANCY_BLOCKS];
	/* Block i has size S * 2^(4 - floor(log2(i + 1))): 1 block of 16S,
	 * then 2 of 8S, 4 of 4S, 8 of 2S, 16 of S. */
	for (unsigned i = 0; i < OCCUPANCY_BLOCKS; i++) {
		unsigned level = 31u - (unsigned)__builtin_clz(i + 1u);
		req[i] = (iova_request){.size = micro_opts.block_bytes << (4 - level)};
	}
	/* A fixed seed per thread: every run draws the same sequence. */
	uint64_t rng = UINT64_C(0x243f6a8885a308d3) ^ ((uint64_t)gb_thread_index(st) << 32);
	uint64_t ops = 0;
	while (gb_keep_running(st)) {
		micro_span_begin();
		unsigned held = 0;
		for (; d && held < OCCUPANCY_BLOCKS; held++) {
			if (!micro_alloc(st, d, &req[held], &h[held])) {
				d = NULL;
				break;
			}
			ops++;
		}
		for (uint64_t r = 0; d && r < rounds; r++) {
			unsigned i = micro_below(micro_splitmix64(&rng), OCCUPANCY_BLOCKS);
			if (!micro_free(st, d, h[i], req[i].size) || !micro_alloc(st, d, &req[i], &h[i])) {
				d = NULL;
				break;
			}
			ops += 2;
		}
		/* Give everything back, as the other workloads do; after a
		 * failure the domain is discarded at teardown instead. */
		for (unsigned i = 0; d && i < held; i++) {
			if (!micro_free(st, d, h[i], req[i].size)) {
				d = NULL;
				break;
			}
			ops++;
		}
		micro_span_end();
	}
	micro_report_ops(st, ops);
}

void micro_register_constant_occupancy(const char *strategy, gb_hook_fn setup)
{
	micro_register_workload("constant-occupancy", strategy, bm_constant_occupancy, setup);
}
