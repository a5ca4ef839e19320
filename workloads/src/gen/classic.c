/* SPDX-License-Identifier: MIT */
/*
 * classic.c - the four classic allocator workloads of the core issue, with
 * the same definitions (per thread; "threads" streams), a size S and a scale
 * that multiplies the repetition counts:
 *   cached-alloc         5,000,000 x (alloc one block of S, free it)
 *   threadtest           500 bursts; a burst allocates 50,000/threads blocks
 *                        of S, then frees them in allocation order
 *   constant-occupancy   hold 31 blocks (1 of 16S, 2 of 8S, 4 of 4S, 8 of 2S,
 *                        16 of S), then 50,000,000/threads times free a random
 *                        one and allocate its size again
 *   linux-scalability    allocate 87,040 blocks of S, free them in order; twice
 * Streams are independent; each stream's timestamps count its operations
 * (1 ns apart), and streams follow one another in the file.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "gen.h"

#define CLASSIC_PARAMS "threads=2 size=4K scale=1 seed=1"

typedef struct classic_args {
	uint64_t threads, size;
	double scale;
} classic_args;

static bool classic_params(gb *b, wl_params *p, const char *name, classic_args *a)
{
	return gp_u64(b, p, "threads", 2, 1, 1024, &a->threads) && gp_u64(b, p, "size", 4096, 1, UINT64_C(1) << 40, &a->size) &&
	       gp_double(b, p, "scale", 1.0, 1e-9, 1e3, &a->scale) && gp_done(b, p, name);
}

static uint64_t scaled(double n, double scale)
{
	double v = floor(n * scale + 0.5);
	return v < 1 ? 1 : (uint64_t)v;
}

static bool cached_alloc(gb *b, wl_params *p, uint64_t seed)
{
	(void)seed;
	classic_args a;
	if (!classic_params(b, p, "cached-alloc", &a))
		return false;
	uint64_t n = scaled(5000000, a.scale);
	for (uint64_t t = 0; t < a.threads && b->ok; t++) {
		uint32_t s = gb_stream(b, (unsigned)t), id = gb_name(b, "t%" PRIu64, t);
		for (uint64_t i = 0; i < n && b->ok; i++) {
			gb_alloc(b, 2 * i, s, id, a.size);
			gb_simple(b, 2 * i + 1, s, WL_OP_FREE, id);
		}
	}
	return b->ok;
}

/* Names t<thread>.<j> for j < n, interned once. */
static uint32_t *block_names(gb *b, uint64_t t, uint64_t n)
{
	uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
	if (!ids) {
		wl_set_error(b->err, NULL, 0, "out of memory");
		b->ok = false;
		return NULL;
	}
	for (uint64_t j = 0; j < n; j++)
		ids[j] = gb_name(b, "t%" PRIu64 ".%" PRIu64, t, j);
	return ids;
}

static bool threadtest(gb *b, wl_params *p, uint64_t seed)
{
	(void)seed;
	classic_args a;
	if (!classic_params(b, p, "threadtest", &a))
		return false;
	uint64_t bursts = scaled(500, a.scale), per = 50000 / a.threads;
	if (!per)
		per = 1;
	for (uint64_t t = 0; t < a.threads && b->ok; t++) {
		uint32_t s = gb_stream(b, (unsigned)t), *ids = block_names(b, t, per);
		uint64_t ts = 0;
		for (uint64_t k = 0; k < bursts && b->ok; k++) {
			for (uint64_t j = 0; j < per; j++)
				gb_alloc(b, ts++, s, ids[j], a.size);
			for (uint64_t j = 0; j < per; j++)
				gb_simple(b, ts++, s, WL_OP_FREE, ids[j]);
		}
		free(ids);
	}
	return b->ok;
}

static bool constant_occupancy(gb *b, wl_params *p, uint64_t seed)
{
	classic_args a;
	if (!classic_params(b, p, "constant-occupancy", &a))
		return false;
	uint64_t rounds = scaled(50000000.0 / (double)a.threads, a.scale);
	for (uint64_t t = 0; t < a.threads && b->ok; t++) {
		wl_rng rng;
		wl_rng_seed(&rng, seed * 1000003 + t);
		uint32_t s = gb_stream(b, (unsigned)t), *ids = block_names(b, t, 31);
		uint64_t size[31], ts = 0;
		unsigned j = 0;
		for (unsigned order = 4, count = 1; count <= 16; order--, count *= 2)
			for (unsigned c = 0; c < count; c++, j++) {
				size[j] = a.size << order;
				gb_alloc(b, ts++, s, ids[j], size[j]);
			}
		for (uint64_t r = 0; r < rounds && b->ok; r++) {
			unsigned k = (unsigned)wl_rng_below(&rng, 31);
			gb_simple(b, ts++, s, WL_OP_FREE, ids[k]);
			gb_alloc(b, ts++, s, ids[k], size[k]);
		}
		for (j = 0; j < 31; j++)
			gb_simple(b, ts++, s, WL_OP_FREE, ids[j]);
		free(ids);
	}
	return b->ok;
}

static bool linux_scalability(gb *b, wl_params *p, uint64_t seed)
{
	(void)seed;
	classic_args a;
	if (!classic_params(b, p, "linux-scalability", &a))
		return false;
	uint64_t n = scaled(87040, a.scale);
	for (uint64_t t = 0; t < a.threads && b->ok; t++) {
		uint32_t s = gb_stream(b, (unsigned)t), *ids = block_names(b, t, n);
		uint64_t ts = 0;
		for (int pass = 0; pass < 2 && b->ok; pass++) {
			for (uint64_t j = 0; j < n; j++)
				gb_alloc(b, ts++, s, ids[j], a.size);
			for (uint64_t j = 0; j < n; j++)
				gb_simple(b, ts++, s, WL_OP_FREE, ids[j]);
		}
		free(ids);
	}
	return b->ok;
}

const gen_entry wl_gen_classic[4] = {
	{"cached-alloc", "each thread allocates one block of size S and frees it, 5,000,000 x scale times",
	 CLASSIC_PARAMS, cached_alloc},
	{"threadtest", "each thread: 500 x scale bursts of 50,000/threads allocations of S, freed in allocation order",
	 CLASSIC_PARAMS, threadtest},
	{"constant-occupancy",
	 "each thread holds 31 blocks (1x16S, 2x8S, 4x4S, 8x2S, 16xS), then 50,000,000/threads x scale times frees a random one and reallocates its size",
	 CLASSIC_PARAMS, constant_occupancy},
	{"linux-scalability", "each thread allocates 87,040 x scale blocks of S and frees them in order, twice",
	 CLASSIC_PARAMS, linux_scalability},
};
