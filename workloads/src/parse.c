/* SPDX-License-Identifier: MIT */
/*
 * parse.c - the text form of a trace ("iovatrace 1", TRACE_FORMAT.md).
 *
 * One pass over the buffer, a line at a time: split into at most
 * MAX_TOKENS tokens, dispatch on the operation name, intern the ids. No
 * allocation per line beyond the trace's own arrays; the last stream token is
 * cached because consecutive lines usually share it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_TOKENS 16

/* Byte classes for splitting lines. Control characters other than the blanks
 * are token bytes here and rejected later by whoever reads the token. */
enum { C_TOKEN = 0, C_BLANK, C_NEWLINE, C_COMMENT };
static const unsigned char char_class[256] = {
	[' '] = C_BLANK, ['\t'] = C_BLANK, ['\r'] = C_BLANK, ['\n'] = C_NEWLINE, ['#'] = C_COMMENT,
};

typedef struct tok {
	const char *s;
	size_t n;
} tok;

bool wl_parse_u64(const char *s, size_t n, uint64_t *out)
{
	if (n == 0)
		return false;
	uint64_t v = 0;
	size_t i = 0;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		i = 2;
		size_t start = i;
		for (; i < n; i++) {
			unsigned c = (unsigned char)s[i], d;
			if (c - '0' < 10)
				d = c - '0';
			else if ((c | 0x20) - 'a' < 6)
				d = (c | 0x20) - 'a' + 10;
			else
				break;
			if (v >> 60)
				return false;
			v = v << 4 | d;
		}
		if (i == start)
			return false;
	} else {
		for (; i < n; i++) {
			unsigned d = (unsigned)((unsigned char)s[i] - '0');
			if (d >= 10)
				break;
			/* 19 digits always fit; only the 20th can overflow */
			if (i >= 19 && (i > 19 || v > (UINT64_MAX - d) / 10))
				return false;
			v = v * 10 + d;
		}
		if (i == 0)
			return false;
	}
	if (i < n) {
		unsigned shift;
		switch (s[i]) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		default: return false;
		}
		i++;
		if (i + 2 == n && s[i] == 'i' && s[i + 1] == 'B')
			i += 2; /* "KiB" */
		if (i != n || (v << shift >> shift) != v)
			return false;
		v <<= shift;
	}
	*out = v;
	return true;
}

typedef struct parser {
	wl_trace *t;
	const char *source;
	wl_error *err;
	uint32_t line;
	const char *last_stream;
	size_t last_stream_len;
	uint32_t last_stream_idx;
} parser;

#define FAIL(P, ...) (wl_set_error((P)->err, (P)->source, (P)->line, __VA_ARGS__), false)

static bool num(parser *p, const tok *t, const char *what, uint64_t *out)
{
	if (!wl_parse_u64(t->s, t->n, out))
		return FAIL(p, "%s: '%.*s' is not a number (decimal, or 0x hex, optional K/M/G/T suffix)", what,
			    (int)(t->n > 40 ? 40 : t->n), t->s);
	return true;
}

static bool name(parser *p, const tok *t, uint32_t *out)
{
	uint32_t id = wl_trace_intern(p->t, t->s, t->n);
	if (id == WL_NO_ID)
		return FAIL(p, "bad id '%.*s' (1-255 bytes, no control characters, '#' or '=')",
			    (int)(t->n > 40 ? 40 : t->n), t->s);
	*out = id;
	return true;
}

static bool cache_type(const tok *v, iova_cache_type *out)
{
#define IS(lit) (v->n == sizeof(lit) - 1 && memcmp(v->s, lit, v->n) == 0)
	if (IS("nc") || IS("noncached") || IS("non-cached"))
		*out = IOVA_CACHE_NON_CACHED;
	else if (IS("c") || IS("cached"))
		*out = IOVA_CACHE_CACHED;
	else if (IS("wc") || IS("writecombined") || IS("write-combined"))
		*out = IOVA_CACHE_WRITE_COMBINED;
	else
		return false;
	return true;
#undef IS
}

/* Optional key=value arguments of @op from token @first on. */
static bool named_args(parser *p, wl_op *op, const tok *tk, int first, int ntok)
{
	unsigned seen = 0;
	for (int i = first; i < ntok; i++) {
		const char *eq = memchr(tk[i].s, '=', tk[i].n);
		if (!eq)
			return FAIL(p, "%s: unexpected argument '%.*s'", wl_op_kind_name(op->kind),
				    (int)(tk[i].n > 40 ? 40 : tk[i].n), tk[i].s);
		tok k = {tk[i].s, (size_t)(eq - tk[i].s)}, v = {eq + 1, tk[i].n - k.n - 1};
		unsigned bit;
		uint64_t *dst = NULL;
#define KEY(lit) (k.n == sizeof(lit) - 1 && memcmp(k.s, lit, k.n) == 0)
		if (op->kind == WL_OP_ALLOC && KEY("lowest"))
			bit = 1, dst = &op->lowest;
		else if (op->kind == WL_OP_ALLOC && KEY("highest"))
			bit = 2, dst = &op->highest;
		else if (op->kind == WL_OP_ALLOC && KEY("boundary"))
			bit = 4, dst = &op->boundary;
		else if (op->kind == WL_OP_ALLOC && KEY("align"))
			bit = 8, dst = &op->alignment;
		else if (op->kind == WL_OP_ALLOC && KEY("cache"))
			bit = 16;
		else if (op->kind == WL_OP_MAP && KEY("segments"))
			bit = 32;
		else if (op->kind == WL_OP_FILL && KEY("value"))
			bit = 64;
		else
			return FAIL(p, "%s: unknown argument '%.*s'", wl_op_kind_name(op->kind), (int)(k.n > 40 ? 40 : k.n),
				    k.s);
#undef KEY
		if (seen & bit)
			return FAIL(p, "%s: argument '%.*s' given twice", wl_op_kind_name(op->kind), (int)k.n, k.s);
		seen |= bit;
		if (bit == 16) {
			if (!cache_type(&v, &op->cache))
				return FAIL(p, "alloc: cache must be nc, cached or wc, not '%.*s'",
					    (int)(v.n > 40 ? 40 : v.n), v.s);
			continue;
		}
		uint64_t x;
		if (!num(p, &v, wl_op_kind_name(op->kind), &x))
			return false;
		if (dst)
			*dst = x;
		else if (x > UINT32_MAX)
			return FAIL(p, "%s: %.*s above 2^32-1", wl_op_kind_name(op->kind), (int)k.n, k.s);
		else if (bit == 32)
			op->segments = (uint32_t)x;
		else
			op->value = (uint32_t)x;
	}
	return true;
}

static bool want(parser *p, const wl_op *op, int ntok, int min, int max)
{
	if (ntok < min || ntok > max)
		return FAIL(p, "%s: expected %d%s argument%s, got %d", wl_op_kind_name(op->kind), min - 3,
			    max > min ? " or more" : "", min - 3 == 1 ? "" : "s", ntok - 3);
	return true;
}

static bool op_line(parser *p, const tok *tk, int ntok)
{
	wl_op op;
	memset(&op, 0, sizeof op);
	op.line = p->line;
	if (ntok < 3)
		return FAIL(p, "expected: timestamp stream operation arguments...");
	if (!num(p, &tk[0], "timestamp", &op.ts_ns))
		return false;
	if (tk[1].n == p->last_stream_len && memcmp(tk[1].s, p->last_stream, tk[1].n) == 0) {
		op.stream = p->last_stream_idx;
	} else {
		op.stream = wl_trace_stream(p->t, tk[1].s, tk[1].n);
		if (op.stream == WL_NO_ID)
			return FAIL(p, "bad stream '%.*s'", (int)(tk[1].n > 40 ? 40 : tk[1].n), tk[1].s);
		p->last_stream = tk[1].s;
		p->last_stream_len = tk[1].n;
		p->last_stream_idx = op.stream;
	}
	op.kind = wl_op_kind_from_name(tk[2].s, tk[2].n);
	switch (op.kind) {
	case WL_OP_ALLOC:
		if (!want(p, &op, ntok, 5, MAX_TOKENS) || !name(p, &tk[3], &op.id) || !num(p, &tk[4], "alloc: size", &op.size) ||
		    !named_args(p, &op, tk, 5, ntok))
			return false;
		break;
	case WL_OP_MAP:
		if (!want(p, &op, ntok, 5, MAX_TOKENS) || !name(p, &tk[3], &op.id) || !num(p, &tk[4], "map: size", &op.size) ||
		    !named_args(p, &op, tk, 5, ntok))
			return false;
		break;
	case WL_OP_TRANSFER:
		if (!want(p, &op, ntok, 8, 8) || !name(p, &tk[3], &op.id) ||
		    !num(p, &tk[4], "transfer: source offset", &op.offset) || !name(p, &tk[5], &op.id2) ||
		    !num(p, &tk[6], "transfer: destination offset", &op.offset2) ||
		    !num(p, &tk[7], "transfer: bytes", &op.size))
			return false;
		break;
	case WL_OP_FILL:
		if (!want(p, &op, ntok, 6, MAX_TOKENS) || !name(p, &tk[3], &op.id) ||
		    !num(p, &tk[4], "fill: offset", &op.offset) || !num(p, &tk[5], "fill: bytes", &op.size) ||
		    !named_args(p, &op, tk, 6, ntok))
			return false;
		break;
	case WL_OP_FLUSH:
		op.id = WL_NO_ID;
		if (!want(p, &op, ntok, 3, 4) || (ntok == 4 && !name(p, &tk[3], &op.id)))
			return false;
		break;
	case WL_OP_FREE:
	case WL_OP_UNMAP:
	case WL_OP_EVICT:
	case WL_OP_MAKE_RESIDENT:
	case WL_OP_SIGNAL:
	case WL_OP_WAIT:
		if (!want(p, &op, ntok, 4, 4) || !name(p, &tk[3], &op.id))
			return false;
		break;
	default:
		return FAIL(p, "unknown operation '%.*s'", (int)(tk[2].n > 40 ? 40 : tk[2].n), tk[2].s);
	}
	return wl_trace_append(p->t, &op, p->err);
}

static bool header_line(parser *p, const tok *tk, int ntok)
{
	if (tk[0].n != strlen(WL_TRACE_FORMAT_NAME) || memcmp(tk[0].s, WL_TRACE_FORMAT_NAME, tk[0].n) != 0)
		return FAIL(p, "not a trace: the first line must be the header '%s %d'", WL_TRACE_FORMAT_NAME,
			    WL_TRACE_VERSION);
	uint64_t version;
	if (ntok < 2 || !wl_parse_u64(tk[1].s, tk[1].n, &version))
		return FAIL(p, "header: expected a version number after '%s'", WL_TRACE_FORMAT_NAME);
	if (version != WL_TRACE_VERSION)
		return FAIL(p, "unsupported trace version %" PRIu64 " (this reader knows version %d)", version,
			    WL_TRACE_VERSION);
	for (int i = 2; i < ntok; i++) {
		const char *eq = memchr(tk[i].s, '=', tk[i].n);
		if (!eq || eq == tk[i].s || eq + 1 == tk[i].s + tk[i].n)
			return FAIL(p, "header: expected key=value, got '%.*s'", (int)(tk[i].n > 40 ? 40 : tk[i].n),
				    tk[i].s);
		char key[256], value[256];
		size_t kl = (size_t)(eq - tk[i].s), vl = tk[i].n - kl - 1;
		if (kl >= sizeof key || vl >= sizeof value || memchr(eq + 1, '=', vl))
			return FAIL(p, "header: malformed key=value '%.*s'", (int)(tk[i].n > 40 ? 40 : tk[i].n), tk[i].s);
		memcpy(key, tk[i].s, kl);
		key[kl] = '\0';
		memcpy(value, eq + 1, vl);
		value[vl] = '\0';
		if (!wl_trace_set_header(p->t, key, value))
			return FAIL(p, "header: bad key=value '%.*s'", (int)(tk[i].n > 40 ? 40 : tk[i].n), tk[i].s);
	}
	return true;
}

bool wl_trace_parse(const char *text, size_t len, const char *source, wl_trace **out, wl_error *err)
{
	*out = NULL;
	parser p = {.source = source ? source : "trace", .err = err};
	p.t = wl_trace_new(p.source);
	if (!p.t)
		return wl_set_error(err, p.source, 0, "out of memory"), false;
	const char *s = text, *end = text + len;
	bool have_header = false;
	/* Size the operation array once: growing it by doubling would copy and
	 * fault in every page again. One memchr pass costs ~1% of parsing. */
	size_t lines = 0;
	for (const char *q = text; q < end; lines++) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		q = nl ? nl + 1 : end;
	}
	if (!wl_trace_reserve(p.t, lines)) {
		wl_set_error(err, p.source, 0, "out of memory");
		goto fail;
	}
	while (s < end) {
		p.line++;
		/* One pass over the line: split at blanks, stop at '#' or the end. */
		tok tk[MAX_TOKENS];
		int ntok = 0;
		const char *q = s;
		for (;;) {
			while (q < end && char_class[(unsigned char)*q] == C_BLANK)
				q++;
			if (q == end || char_class[(unsigned char)*q] != C_TOKEN)
				break;
			const char *b = q;
			while (q < end && char_class[(unsigned char)*q] == C_TOKEN)
				q++;
			if (ntok == MAX_TOKENS) {
				wl_set_error(p.err, p.source, p.line, "too many fields (at most %d)", MAX_TOKENS);
				goto fail;
			}
			tk[ntok].s = b;
			tk[ntok].n = (size_t)(q - b);
			ntok++;
		}
		if (q < end && *q == '#') {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			q = nl ? nl : end;
		}
		if (ntok) {
			if (!have_header) {
				if (!header_line(&p, tk, ntok))
					goto fail;
				have_header = true;
			} else if (!op_line(&p, tk, ntok)) {
				goto fail;
			}
		}
		s = q < end ? q + 1 : end; /* q is at the newline or the end */
	}
	if (!have_header) {
		wl_set_error(err, p.source, 0, "empty: no '%s %d' header line", WL_TRACE_FORMAT_NAME, WL_TRACE_VERSION);
		goto fail;
	}
	*out = p.t;
	return true;
fail:
	wl_trace_free(p.t);
	return false;
}
