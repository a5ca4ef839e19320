/* SPDX-License-Identifier: MIT */
/*
 * wl_gen.h - seeded random numbers, size distributions and the named
 * synthetic workload generators.
 *
 * Every generator is deterministic: the same name, parameters and seed give
 * the same trace, operation for operation, on every machine.
 */
#ifndef WL_GEN_H
#define WL_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wl_trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* xoshiro256** seeded through splitmix64. */
typedef struct wl_rng {
	uint64_t s[4];
} wl_rng;

void wl_rng_seed(wl_rng *r, uint64_t seed);
uint64_t wl_rng_next(wl_rng *r);
/** wl_rng_below() - uniform in [0, @n) without modulo bias; 0 when @n is 0. */
uint64_t wl_rng_below(wl_rng *r, uint64_t n);
/** wl_rng_unit() - uniform in [0, 1). */
double wl_rng_unit(wl_rng *r);

/*
 * Size distributions, spelled as in parameters and job files:
 *   fixed:SIZE                     always SIZE
 *   uniform:MIN:MAX                uniform in [MIN, MAX]
 *   loguniform:MIN:MAX             log2(size) uniform: as many 4-8 KiB as 4-8 MiB
 *   powerlaw:MIN:MAX:ALPHA         density proportional to size^-ALPHA (ALPHA > 0), cut to [MIN, MAX]
 *   empirical:PATH                 the sizes of the alloc and map operations of an
 *                                  iovatrace file, drawn uniformly
 * Sizes take K/M/G/T suffixes (binary). A ":page" suffix rounds each draw up
 * to a multiple of 4 KiB (e.g. "loguniform:4K:64M:page").
 */
typedef struct wl_sizedist wl_sizedist;

bool wl_sizedist_parse(const char *spec, wl_sizedist **out, wl_error *err);
/** wl_sizedist_empirical() - draw from a copy of @sizes[0..@n) (n > 0, no zero). */
bool wl_sizedist_empirical(const uint64_t *sizes, size_t n, wl_sizedist **out, wl_error *err);
/** wl_sizedist_from_trace() - the sizes of @t's alloc and map operations. */
bool wl_sizedist_from_trace(const wl_trace *t, wl_sizedist **out, wl_error *err);
uint64_t wl_sizedist_sample(const wl_sizedist *d, wl_rng *r);
uint64_t wl_sizedist_min(const wl_sizedist *d);
uint64_t wl_sizedist_max(const wl_sizedist *d);
void wl_sizedist_free(wl_sizedist *d);

/* ------------------------------------------------------------------------ */
/* Generators                                                               */
/* ------------------------------------------------------------------------ */

/** wl_gen_count() / wl_gen_name() / wl_gen_description() / wl_gen_params():
 * enumerate the generators: name, a one-line description, and the parameters
 * with their defaults ("frames=120 streams=3 ... seed=1"). */
size_t wl_gen_count(void);
const char *wl_gen_name(size_t index);
const char *wl_gen_description(size_t index);
const char *wl_gen_params(size_t index);

/**
 * wl_generate() - run generator @name with @params ("key=value" pairs
 * separated by commas or spaces; NULL for the defaults). Every generator takes
 * seed=N; unknown keys are errors. The header records generator=NAME, seed=N
 * and each parameter given as gen.KEY=VALUE.
 * Return: true with *@out, or false with @err.
 */
bool wl_generate(const char *name, const char *params, wl_trace **out, wl_error *err);

#ifdef __cplusplus
}
#endif

#endif
