/* SPDX-License-Identifier: MIT */
/*
 * internal.h - types shared by the workloads library's source files.
 *
 * The trace keeps each operation in 32 bytes (struct wl_rec); the rare
 * arguments (alloc constraints, transfer and fill offsets, map segments, fill
 * value) go to a side table of struct wl_ext, entry 0 being all zeroes, so an
 * unconstrained alloc or a free costs no side entry.
 */
#ifndef WL_INTERNAL_H
#define WL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wl_trace.h"

typedef struct wl_rec {
	uint64_t ts;
	uint64_t size;
	uint32_t id;
	uint32_t stream;
	uint32_t ext; /* index into wl_trace.ext; 0 = no rare arguments */
	uint8_t kind;
	uint8_t cache;
	uint16_t pad;
} wl_rec;

typedef struct wl_ext {
	uint64_t a, b, c, d; /* alloc: lowest, highest, boundary, alignment; transfer: offset, offset2; fill: offset */
	uint32_t id2;        /* transfer destination */
	uint32_t u32;        /* map: segments; fill: value */
} wl_ext;

/* An interned string table: names are NUL-terminated in one pool, found
 * through an open-addressing hash of indices (load factor at most 1/2). */
typedef struct wl_strtab {
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t *off;  /* per entry: offset in pool */
	uint32_t *hash; /* per entry: full hash, to skip most compares */
	uint32_t count, cap;
	uint32_t *slot; /* entry index + 1; 0 = empty */
	uint32_t nslot; /* power of two */
} wl_strtab;

struct wl_trace {
	char *source;
	wl_rec *ops;
	size_t nops, cap;
	wl_ext *ext;
	size_t next, extcap;
	uint32_t *lines; /* parallel to ops once any op has a line; else NULL */
	wl_strtab names, streams;
	uint64_t *stream_last_ts; /* per stream */
	size_t stream_ts_cap;
	char **hkey, **hval;
	size_t nhdr, hdrcap;
};

uint32_t wl_strtab_intern(wl_strtab *s, const char *str, size_t len);
const char *wl_strtab_get(const wl_strtab *s, uint32_t i);
void wl_strtab_free(wl_strtab *s);
bool wl_token_ok(const char *s, size_t len);

/* Makes room for @n operations (with line numbers). False when out of memory. */
bool wl_trace_reserve(wl_trace *t, size_t n);

/* Appends a record without the checks of wl_trace_append (the parser has
 * done them); @line 0 for none. Returns false when out of memory. */
bool wl_trace_push(wl_trace *t, const wl_rec *r, const wl_ext *e, uint32_t line);

/* Checks that wl_trace_append and the parser share. */
bool wl_op_args_ok(const wl_op *op, char *why, size_t why_len);

void wl_set_error(wl_error *err, const char *source, uint32_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Key=value parameter lists, "a=1,b=2" or "a=1 b=2" (generators, importers). */
typedef struct wl_kv {
	char key[48];
	char value[208];
	bool used;
} wl_kv;
typedef struct wl_params {
	wl_kv kv[32];
	unsigned n;
} wl_params;

bool wl_params_parse(const char *text, wl_params *p, wl_error *err);
/* Each getter marks the key used; a malformed value is an error. */
bool wl_params_u64(wl_params *p, const char *key, uint64_t def, uint64_t *out, wl_error *err);
bool wl_params_double(wl_params *p, const char *key, double def, double *out, wl_error *err);
const char *wl_params_str(wl_params *p, const char *key, const char *def);
/* Fails naming the first key no getter asked for. */
bool wl_params_all_used(const wl_params *p, const char *what, wl_error *err);
/* A number: decimal or 0x hex, with an optional K/M/G/T (binary) suffix. */
bool wl_parse_u64(const char *s, size_t len, uint64_t *out);

/* Reads the whole file at @path into a NUL-terminated buffer (free() it). */
bool wl_read_file(const char *path, char **out, size_t *len, wl_error *err);

#endif
