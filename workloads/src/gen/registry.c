/* SPDX-License-Identifier: MIT */
/* registry.c - the generator table, the builder, parameter helpers. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"

static const gen_entry *entries[] = {
	&wl_gen_gpu_frame, &wl_gen_streaming_dma, &wl_gen_fragmenter, &wl_gen_churn, &wl_gen_ml_training,
	&wl_gen_classic[0], &wl_gen_classic[1], &wl_gen_classic[2], &wl_gen_classic[3],
};
#define NGEN (sizeof entries / sizeof entries[0])

size_t wl_gen_count(void) { return NGEN; }
const char *wl_gen_name(size_t i) { return i < NGEN ? entries[i]->name : NULL; }
const char *wl_gen_description(size_t i) { return i < NGEN ? entries[i]->description : NULL; }
const char *wl_gen_params(size_t i) { return i < NGEN ? entries[i]->params : NULL; }

void gb_op(gb *b, const wl_op *op)
{
	if (b->ok && !wl_trace_append(b->t, op, b->err))
		b->ok = false;
}

void gb_alloc(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t size)
{
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = WL_OP_ALLOC, .id = id, .size = size};
	gb_op(b, &op);
}

void gb_alloc_c(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t size, uint64_t lowest, uint64_t highest,
		uint64_t boundary, uint64_t align, iova_cache_type cache)
{
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = WL_OP_ALLOC, .id = id, .size = size, .lowest = lowest,
		    .highest = highest, .boundary = boundary, .alignment = align, .cache = cache};
	gb_op(b, &op);
}

void gb_simple(gb *b, uint64_t ts, uint32_t stream, wl_op_kind kind, uint32_t id)
{
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = kind, .id = id};
	gb_op(b, &op);
}

void gb_map(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t size, uint32_t segments)
{
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = WL_OP_MAP, .id = id, .size = size, .segments = segments};
	gb_op(b, &op);
}

void gb_fill(gb *b, uint64_t ts, uint32_t stream, uint32_t id, uint64_t offset, uint64_t bytes, uint32_t value)
{
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = WL_OP_FILL, .id = id, .offset = offset, .size = bytes,
		    .value = value};
	gb_op(b, &op);
}

void gb_transfer(gb *b, uint64_t ts, uint32_t stream, uint32_t src, uint64_t so, uint32_t dst, uint64_t dof,
		 uint64_t bytes)
{
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = WL_OP_TRANSFER, .id = src, .offset = so, .id2 = dst,
		    .offset2 = dof, .size = bytes};
	gb_op(b, &op);
}

uint32_t gb_name(gb *b, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	uint32_t id = n > 0 && (size_t)n < sizeof buf ? wl_trace_intern(b->t, buf, (size_t)n) : WL_NO_ID;
	if (id == WL_NO_ID && b->ok) {
		wl_set_error(b->err, wl_trace_source(b->t), 0, "cannot intern name '%s'", buf);
		b->ok = false;
	}
	return id == WL_NO_ID ? 0 : id;
}

uint32_t gb_stream(gb *b, unsigned n)
{
	uint32_t s = wl_trace_stream_u64(b->t, n);
	if (s == WL_NO_ID && b->ok) {
		wl_set_error(b->err, wl_trace_source(b->t), 0, "out of memory");
		b->ok = false;
	}
	return s == WL_NO_ID ? 0 : s;
}

bool gp_u64(gb *b, wl_params *p, const char *key, uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!wl_params_u64(p, key, def, out, b->err))
		return b->ok = false;
	if (*out < min || *out > max) {
		wl_set_error(b->err, NULL, 0, "parameter %s=%" PRIu64 " outside [%" PRIu64 ", %" PRIu64 "]", key, *out, min,
			     max);
		return b->ok = false;
	}
	return true;
}

bool gp_double(gb *b, wl_params *p, const char *key, double def, double min, double max, double *out)
{
	if (!wl_params_double(p, key, def, out, b->err))
		return b->ok = false;
	if (!(*out >= min && *out <= max)) {
		wl_set_error(b->err, NULL, 0, "parameter %s=%g outside [%g, %g]", key, *out, min, max);
		return b->ok = false;
	}
	return true;
}

bool gp_dist(gb *b, wl_params *p, const char *key, const char *def, wl_sizedist **out)
{
	const char *spec = wl_params_str(p, key, def);
	if (!wl_sizedist_parse(spec, out, b->err)) {
		char msg[300];
		snprintf(msg, sizeof msg, "%.250s", b->err->message);
		wl_set_error(b->err, NULL, 0, "parameter %s: %s", key, msg);
		return b->ok = false;
	}
	return true;
}

bool gp_done(gb *b, const wl_params *p, const char *name)
{
	if (!wl_params_all_used(p, name, b->err))
		return b->ok = false;
	return true;
}

bool wl_generate(const char *name, const char *params, wl_trace **out, wl_error *err)
{
	*out = NULL;
	const gen_entry *g = NULL;
	for (size_t i = 0; i < NGEN; i++)
		if (strcmp(entries[i]->name, name) == 0)
			g = entries[i];
	if (!g) {
		char list[512] = "";
		for (size_t i = 0; i < NGEN; i++) {
			strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, entries[i]->name, sizeof list - strlen(list) - 1);
		}
		return wl_set_error(err, NULL, 0, "unknown generator '%s' (known: %s)", name, list), false;
	}
	wl_params p;
	if (!wl_params_parse(params, &p, err))
		return false;
	char source[80];
	snprintf(source, sizeof source, "gen:%s", name);
	gb b = {.t = wl_trace_new(source), .err = err, .ok = true};
	if (!b.t)
		return wl_set_error(err, source, 0, "out of memory"), false;
	uint64_t seed;
	b.ok = wl_params_u64(&p, "seed", 1, &seed, err);
	char sv[24];
	snprintf(sv, sizeof sv, "%" PRIu64, seed);
	wl_trace_set_header(b.t, "generator", name);
	wl_trace_set_header(b.t, "seed", sv);
	for (unsigned i = 0; i < p.n; i++) {
		if (strcmp(p.kv[i].key, "seed") == 0)
			continue;
		char key[64];
		snprintf(key, sizeof key, "gen.%s", p.kv[i].key);
		wl_trace_set_header(b.t, key, p.kv[i].value); /* a value that is no token is just not recorded */
	}
	if (b.ok)
		b.ok = g->run(&b, &p, seed);
	if (b.ok)
		b.ok = wl_params_all_used(&p, name, err);
	if (!b.ok) {
		wl_trace_free(b.t);
		return false;
	}
	*out = b.t;
	return true;
}
