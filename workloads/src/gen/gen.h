/* SPDX-License-Identifier: MIT */
/* gen.h - what the generators share: a trace builder that remembers the
 * first error, and the registry entry type. */
#ifndef WL_GEN_INTERNAL_H
#define WL_GEN_INTERNAL_H

#include "internal.h"
#include "wl_gen.h"

typedef struct gb {
	wl_trace *t;
	wl_error *err;
	bool ok;
} gb;

typedef struct gen_entry {
	const char *name;
	const char *description;
	const char *params; /* with defaults */
	bool (*run)(gb *b, wl_params *p, uint64_t seed);
} gen_entry;

/* Each adds one operation; after a failure they do nothing (b->ok false). */
void gb_op(gb *b, const wl_op *op);
void gb_alloc(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t size);
void gb_alloc_c(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t size, uint64_t lowest, uint64_t highest,
		uint64_t boundary, uint64_t align, iova_cache_type cache);
void gb_simple(gb *b, uint64_t ts, uint32_t stream, wl_op_kind kind, uint32_t id);
void gb_map(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t size, uint32_t segments);
void gb_fill(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t offset, uint64_t bytes, uint32_t value);
void gb_transfer(gb *b, uint64_t ts, uint32_t stream, uint32_t src, uint64_t so, uint32_t dst, uint64_t dof,
		 uint64_t bytes);
uint32_t gb_name(gb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t gb_stream(gb *b, unsigned n);

/* Parameter helpers that fail the builder with a message. */
bool gp_u64(gb *b, wl_params *p, const char *key, uint64_t def, uint64_t min, uint64_t max, uint64_t *out);
bool gp_double(gb *b, wl_params *p, const char *key, double def, double min, double max, double *out);
bool gp_dist(gb *b, wl_params *p, const char *key, const char *def, wl_sizedist **out);
/* Call after reading every parameter, before generating: fails on an unknown key. */
bool gp_done(gb *b, const wl_params *p, const char *name);

extern const gen_entry wl_gen_classic[4];
extern const gen_entry wl_gen_gpu_frame, wl_gen_streaming_dma, wl_gen_fragmenter, wl_gen_churn, wl_gen_ml_training;

#endif
