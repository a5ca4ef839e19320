/* SPDX-License-Identifier: MIT */
/* trace.c - the in-memory trace: operations, names, streams, header keys. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const kind_names[WL_OP_KIND_COUNT] = {
	[WL_OP_ALLOC] = "alloc",       [WL_OP_FREE] = "free",   [WL_OP_MAP] = "map",
	[WL_OP_UNMAP] = "unmap",       [WL_OP_TRANSFER] = "transfer", [WL_OP_FILL] = "fill",
	[WL_OP_FLUSH] = "flush",       [WL_OP_EVICT] = "evict", [WL_OP_MAKE_RESIDENT] = "resident",
	[WL_OP_SIGNAL] = "signal",     [WL_OP_WAIT] = "wait",
};

const char *wl_op_kind_name(wl_op_kind kind) { return (unsigned)kind < WL_OP_KIND_COUNT ? kind_names[kind] : "?"; }

wl_op_kind wl_op_kind_from_name(const char *name, size_t len)
{
	/* Called for every line parsed: candidates by length (kind + 1; 0 ends). */
	static const unsigned char by_len[9][4] = {
		[3] = {WL_OP_MAP + 1},
		[4] = {WL_OP_FREE + 1, WL_OP_FILL + 1, WL_OP_WAIT + 1},
		[5] = {WL_OP_ALLOC + 1, WL_OP_UNMAP + 1, WL_OP_FLUSH + 1, WL_OP_EVICT + 1},
		[6] = {WL_OP_SIGNAL + 1},
		[8] = {WL_OP_TRANSFER + 1, WL_OP_MAKE_RESIDENT + 1},
	};
	if (len >= 9)
		return WL_OP_KIND_COUNT;
	for (int i = 0; i < 4 && by_len[len][i]; i++) {
		unsigned k = by_len[len][i] - 1u;
		if (memcmp(kind_names[k], name, len) == 0)
			return (wl_op_kind)k;
	}
	return WL_OP_KIND_COUNT;
}

void wl_set_error(wl_error *err, const char *source, uint32_t line, const char *fmt, ...)
{
	if (!err)
		return;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err->line = line;
	if (source && line)
		snprintf(err->message, sizeof err->message, "%s:%" PRIu32 ": %s", source, line, msg);
	else if (source)
		snprintf(err->message, sizeof err->message, "%s: %s", source, msg);
	else
		snprintf(err->message, sizeof err->message, "%s", msg);
}

wl_trace *wl_trace_new(const char *source)
{
	wl_trace *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->source = strdup(source ? source : "trace");
	t->ext = calloc(16, sizeof *t->ext);
	if (!t->source || !t->ext) {
		wl_trace_free(t);
		return NULL;
	}
	t->next = 1; /* entry 0: all zeroes */
	t->extcap = 16;
	return t;
}

void wl_trace_free(wl_trace *t)
{
	if (!t)
		return;
	free(t->source);
	free(t->ops);
	free(t->ext);
	free(t->lines);
	wl_strtab_free(&t->names);
	wl_strtab_free(&t->streams);
	free(t->stream_last_ts);
	for (size_t i = 0; i < t->nhdr; i++) {
		free(t->hkey[i]);
		free(t->hval[i]);
	}
	free(t->hkey);
	free(t->hval);
	free(t);
}

const char *wl_trace_source(const wl_trace *t) { return t->source; }

uint32_t wl_trace_intern(wl_trace *t, const char *name, size_t len) { return wl_strtab_intern(&t->names, name, len); }

uint32_t wl_trace_intern_u64(wl_trace *t, uint64_t n)
{
	char buf[24];
	int len = snprintf(buf, sizeof buf, "%" PRIu64, n);
	return wl_strtab_intern(&t->names, buf, (size_t)len);
}

static bool stream_ts_room(wl_trace *t, uint32_t need)
{
	if (need <= t->stream_ts_cap)
		return true;
	size_t cap = t->stream_ts_cap ? t->stream_ts_cap : 16;
	while (cap < need)
		cap *= 2;
	uint64_t *a = realloc(t->stream_last_ts, cap * sizeof *a);
	if (!a)
		return false;
	memset(a + t->stream_ts_cap, 0, (cap - t->stream_ts_cap) * sizeof *a);
	t->stream_last_ts = a;
	t->stream_ts_cap = cap;
	return true;
}

uint32_t wl_trace_stream(wl_trace *t, const char *name, size_t len)
{
	uint32_t s = wl_strtab_intern(&t->streams, name, len);
	if (s != WL_NO_ID && !stream_ts_room(t, s + 1))
		return WL_NO_ID;
	return s;
}

uint32_t wl_trace_stream_u64(wl_trace *t, uint64_t n)
{
	char buf[24];
	int len = snprintf(buf, sizeof buf, "%" PRIu64, n);
	return wl_trace_stream(t, buf, (size_t)len);
}

const char *wl_trace_name(const wl_trace *t, uint32_t i) { return wl_strtab_get(&t->names, i); }
const char *wl_trace_stream_name(const wl_trace *t, uint32_t i) { return wl_strtab_get(&t->streams, i); }
uint32_t wl_trace_name_count(const wl_trace *t) { return t->names.count; }
uint32_t wl_trace_stream_count(const wl_trace *t) { return t->streams.count; }
size_t wl_trace_count(const wl_trace *t) { return t->nops; }

bool wl_trace_reserve(wl_trace *t, size_t n)
{
	if (n <= t->cap)
		return true;
	wl_rec *ops = realloc(t->ops, n * sizeof *ops);
	if (!ops)
		return false;
	t->ops = ops;
	bool had_lines = t->lines != NULL;
	uint32_t *lines = realloc(t->lines, n * sizeof *lines);
	if (!lines)
		return false;
	if (!had_lines)
		memset(lines, 0, t->nops * sizeof *lines);
	t->lines = lines;
	t->cap = n;
	return true;
}

bool wl_trace_push(wl_trace *t, const wl_rec *r, const wl_ext *e, uint32_t line)
{
	if (t->nops == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		wl_rec *ops = realloc(t->ops, cap * sizeof *ops);
		if (!ops)
			return false;
		t->ops = ops;
		if (t->lines) {
			uint32_t *lines = realloc(t->lines, cap * sizeof *lines);
			if (!lines)
				return false;
			t->lines = lines;
		}
		t->cap = cap;
	}
	if (line && !t->lines) {
		t->lines = calloc(t->cap, sizeof *t->lines);
		if (!t->lines)
			return false;
	}
	wl_rec rec = *r;
	rec.ext = 0;
	if (e && (e->a | e->b | e->c | e->d | e->id2 | e->u32)) {
		if (t->next == t->extcap) {
			size_t cap = t->extcap * 2;
			wl_ext *ext = realloc(t->ext, cap * sizeof *ext);
			if (!ext)
				return false;
			t->ext = ext;
			t->extcap = cap;
		}
		t->ext[t->next] = *e;
		rec.ext = (uint32_t)t->next++;
		if (t->next > UINT32_MAX)
			return false;
	}
	t->ops[t->nops] = rec;
	if (t->lines)
		t->lines[t->nops] = line;
	t->nops++;
	t->stream_last_ts[r->stream] = r->ts;
	return true;
}

bool wl_op_args_ok(const wl_op *op, char *why, size_t n)
{
	switch (op->kind) {
	case WL_OP_ALLOC:
		if (op->size == 0)
			return snprintf(why, n, "alloc: size is zero"), false;
		if ((unsigned)op->cache > IOVA_CACHE_WRITE_COMBINED)
			return snprintf(why, n, "alloc: unknown cache type %d", (int)op->cache), false;
		break;
	case WL_OP_MAP:
		if (op->size == 0)
			return snprintf(why, n, "map: size is zero"), false;
		break;
	case WL_OP_TRANSFER:
		if (op->size == 0)
			return snprintf(why, n, "transfer: byte count is zero"), false;
		if (op->id2 == WL_NO_ID)
			return snprintf(why, n, "transfer: no destination"), false;
		break;
	case WL_OP_FILL:
		if (op->size == 0)
			return snprintf(why, n, "fill: byte count is zero"), false;
		break;
	case WL_OP_FREE:
	case WL_OP_UNMAP:
	case WL_OP_FLUSH:
	case WL_OP_EVICT:
	case WL_OP_MAKE_RESIDENT:
	case WL_OP_SIGNAL:
	case WL_OP_WAIT:
		break;
	default:
		return snprintf(why, n, "unknown operation kind %d", (int)op->kind), false;
	}
	if (op->id == WL_NO_ID && op->kind != WL_OP_FLUSH)
		return snprintf(why, n, "%s: no id", wl_op_kind_name(op->kind)), false;
	return true;
}

/* Splits @op into a record and its rare arguments. */
static void op_to_rec(const wl_op *op, wl_rec *r, wl_ext *e)
{
	memset(r, 0, sizeof *r);
	memset(e, 0, sizeof *e);
	r->ts = op->ts_ns;
	r->stream = op->stream;
	r->kind = (uint8_t)op->kind;
	r->id = op->id;
	switch (op->kind) {
	case WL_OP_ALLOC:
		r->size = op->size;
		r->cache = (uint8_t)op->cache;
		e->a = op->lowest;
		e->b = op->highest;
		e->c = op->boundary;
		e->d = op->alignment;
		break;
	case WL_OP_MAP:
		r->size = op->size;
		e->u32 = op->segments;
		break;
	case WL_OP_TRANSFER:
		r->size = op->size;
		e->a = op->offset;
		e->b = op->offset2;
		e->id2 = op->id2;
		break;
	case WL_OP_FILL:
		r->size = op->size;
		e->a = op->offset;
		e->u32 = op->value;
		break;
	default:
		break;
	}
}

bool wl_trace_append(wl_trace *t, const wl_op *op, wl_error *err)
{
	char why[200];
	if (!wl_op_args_ok(op, why, sizeof why)) {
		wl_set_error(err, t->source, op->line, "%s", why);
		return false;
	}
	uint32_t nnames = t->names.count;
	if ((op->id != WL_NO_ID && op->id >= nnames) || (op->kind == WL_OP_TRANSFER && op->id2 >= nnames)) {
		wl_set_error(err, t->source, op->line, "%s: id index out of range", wl_op_kind_name(op->kind));
		return false;
	}
	if (op->stream >= t->streams.count) {
		wl_set_error(err, t->source, op->line, "stream index %" PRIu32 " out of range", op->stream);
		return false;
	}
	if (op->ts_ns < t->stream_last_ts[op->stream]) {
		wl_set_error(err, t->source, op->line,
			     "timestamp %" PRIu64 " is before the previous one of stream %s (%" PRIu64 ")", op->ts_ns,
			     wl_trace_stream_name(t, op->stream), t->stream_last_ts[op->stream]);
		return false;
	}
	wl_rec r;
	wl_ext e;
	op_to_rec(op, &r, &e);
	if (!wl_trace_push(t, &r, &e, op->line)) {
		wl_set_error(err, t->source, op->line, "out of memory");
		return false;
	}
	return true;
}

void wl_trace_get(const wl_trace *t, size_t i, wl_op *out)
{
	const wl_rec *r = &t->ops[i];
	const wl_ext *e = &t->ext[r->ext];
	memset(out, 0, sizeof *out);
	out->ts_ns = r->ts;
	out->stream = r->stream;
	out->kind = (wl_op_kind)r->kind;
	out->id = r->id;
	out->line = t->lines ? t->lines[i] : 0;
	switch (out->kind) {
	case WL_OP_ALLOC:
		out->size = r->size;
		out->cache = (iova_cache_type)r->cache;
		out->lowest = e->a;
		out->highest = e->b;
		out->boundary = e->c;
		out->alignment = e->d;
		break;
	case WL_OP_MAP:
		out->size = r->size;
		out->segments = e->u32;
		break;
	case WL_OP_TRANSFER:
		out->size = r->size;
		out->offset = e->a;
		out->offset2 = e->b;
		out->id2 = e->id2;
		break;
	case WL_OP_FILL:
		out->size = r->size;
		out->offset = e->a;
		out->value = e->u32;
		break;
	default:
		break;
	}
}

bool wl_trace_set_header(wl_trace *t, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	if (!wl_token_ok(key, kl) || !wl_token_ok(value, vl))
		return false;
	for (size_t i = 0; i < t->nhdr; i++) {
		if (strcmp(t->hkey[i], key) == 0) {
			char *v = strdup(value);
			if (!v)
				return false;
			free(t->hval[i]);
			t->hval[i] = v;
			return true;
		}
	}
	if (t->nhdr == t->hdrcap) {
		size_t cap = t->hdrcap ? t->hdrcap * 2 : 8;
		char **k = realloc(t->hkey, cap * sizeof *k);
		if (!k)
			return false;
		t->hkey = k;
		char **v = realloc(t->hval, cap * sizeof *v);
		if (!v)
			return false;
		t->hval = v;
		t->hdrcap = cap;
	}
	char *k = strdup(key), *v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return false;
	}
	t->hkey[t->nhdr] = k;
	t->hval[t->nhdr] = v;
	t->nhdr++;
	return true;
}

const char *wl_trace_header(const wl_trace *t, const char *key)
{
	for (size_t i = 0; i < t->nhdr; i++)
		if (strcmp(t->hkey[i], key) == 0)
			return t->hval[i];
	return NULL;
}

size_t wl_trace_header_count(const wl_trace *t) { return t->nhdr; }

void wl_trace_header_at(const wl_trace *t, size_t i, const char **key, const char **value)
{
	*key = t->hkey[i];
	*value = t->hval[i];
}

static const char *name_or_none(const wl_trace *t, uint32_t id) { return id == WL_NO_ID ? "" : wl_trace_name(t, id); }

bool wl_trace_equal(const wl_trace *a, const wl_trace *b, char *why, size_t n)
{
	char dummy[8];
	if (!why) {
		why = dummy;
		n = sizeof dummy;
	}
	if (a->nops != b->nops)
		return snprintf(why, n, "%zu operations versus %zu", a->nops, b->nops), false;
	for (size_t i = 0; i < a->nops; i++) {
		wl_op x, y;
		wl_trace_get(a, i, &x);
		wl_trace_get(b, i, &y);
		bool same = x.ts_ns == y.ts_ns && x.kind == y.kind && x.size == y.size && x.offset == y.offset &&
			    x.offset2 == y.offset2 && x.lowest == y.lowest && x.highest == y.highest &&
			    x.boundary == y.boundary && x.alignment == y.alignment && x.cache == y.cache &&
			    x.segments == y.segments && x.value == y.value &&
			    strcmp(wl_trace_stream_name(a, x.stream), wl_trace_stream_name(b, y.stream)) == 0 &&
			    strcmp(name_or_none(a, x.id), name_or_none(b, y.id)) == 0 &&
			    (x.kind != WL_OP_TRANSFER || strcmp(wl_trace_name(a, x.id2), wl_trace_name(b, y.id2)) == 0);
		if (!same)
			return snprintf(why, n, "operation %zu differs: %s %s versus %s %s", i, wl_op_kind_name(x.kind),
					name_or_none(a, x.id), wl_op_kind_name(y.kind), name_or_none(b, y.id)),
			       false;
	}
	return true;
}
