/* SPDX-License-Identifier: MIT */
/* json.c - see json.h. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *text, *p, *end;
	const char *error; /* first error; p is left where it occurred */
	int depth;
};

#define MAX_DEPTH 64

static bool fail(struct parser *ps, const char *msg)
{
	if (!ps->error)
		ps->error = msg;
	return false;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return false;
	ps->p += n;
	return true;
}

static void *grow(void *array, size_t count, size_t size)
{
	/* Capacity doubles at powers of two: no separate capacity field. */
	if (count && (count & (count - 1)))
		return array;
	return realloc(array, (count ? 2 * count : 1) * size);
}

static bool put_utf8(char **buf, size_t *len, unsigned cp)
{
	char tmp[4];
	size_t n;
	if (cp < 0x80) {
		tmp[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | cp >> 6), tmp[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | cp >> 12), tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		tmp[0] = (char)(0xf0 | cp >> 18), tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), tmp[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	for (size_t i = 0; i < n; i++) {
		char *b = grow(*buf, *len + 1, 1); /* +1: room for the NUL */
		if (!b)
			return false;
		*buf = b;
		b[(*len)++] = tmp[i];
	}
	return true;
}

static bool hex4(struct parser *ps, unsigned *out)
{
	if (ps->end - ps->p < 4)
		return fail(ps, "truncated \\u escape");
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(ps, "bad hex digit in \\u escape");
	}
	*out = v;
	return true;
}

static bool parse_string(struct parser *ps, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	ps->p++; /* the opening quote */
	for (;;) {
		if (ps->p >= ps->end) {
			free(buf);
			return fail(ps, "unterminated string");
		}
		unsigned char c = (unsigned char)*ps->p++;
		unsigned cp = c;
		if (c == '"')
			break;
		if (c < 0x20) {
			free(buf);
			return fail(ps, "control character in string");
		}
		if (c == '\\') {
			if (ps->p >= ps->end) {
				free(buf);
				return fail(ps, "unterminated escape");
			}
			switch (*ps->p++) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (!hex4(ps, &cp)) {
					free(buf);
					return false;
				}
				if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
				    ps->p[1] == 'u') {
					unsigned lo;
					ps->p += 2;
					if (!hex4(ps, &lo) || lo < 0xdc00 || lo > 0xdfff) {
						free(buf);
						return fail(ps, "bad surrogate pair");
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				break;
			default:
				free(buf);
				return fail(ps, "unknown escape");
			}
			if (!put_utf8(&buf, &len, cp)) {
				free(buf);
				return fail(ps, "out of memory");
			}
			continue;
		}
		char *b = grow(buf, len + 1, 1);
		if (!b) {
			free(buf);
			return fail(ps, "out of memory");
		}
		buf = b;
		buf[len++] = (char)c;
	}
	char *b = grow(buf, len + 1, 1);
	if (!b) {
		free(buf);
		return fail(ps, "out of memory");
	}
	b[len] = '\0';
	*out = b;
	return true;
}

static bool parse_number(struct parser *ps, double *out)
{
	const char *s = ps->p;
	if (literal(ps, "NaN")) {
		*out = NAN;
		return true;
	}
	if (literal(ps, "Infinity") || literal(ps, "-Infinity")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return true;
	}
#define DIGITS() while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++
	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return fail(ps, "bad number");
	if (*ps->p == '0')
		ps->p++;
	else
		DIGITS();
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad fraction");
		DIGITS();
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad exponent");
		DIGITS();
	}
#undef DIGITS
	/* The span is validated JSON, which strtod reads the same way. */
	char tmp[64];
	size_t n = (size_t)(ps->p - s);
	if (n >= sizeof tmp)
		return fail(ps, "number too long");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, NULL);
	return true;
}

static bool parse_value(struct parser *ps, jvalue *v);

static bool parse_container(struct parser *ps, jvalue *v, bool object)
{
	char close = object ? '}' : ']';
	ps->p++;
	v->kind = object ? J_OBJECT : J_ARRAY;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return true;
	}
	for (;;) {
		char *key = NULL;
		if (object) {
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a member name");
			if (!parse_string(ps, &key))
				return false;
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				return fail(ps, "expected ':'");
			}
			ps->p++;
			char **keys = grow(v->keys, v->count, sizeof *keys);
			if (!keys) {
				free(key);
				return fail(ps, "out of memory");
			}
			v->keys = keys;
			keys[v->count] = key;
		}
		jvalue *items = grow(v->items, v->count, sizeof *items);
		if (!items) {
			free(key);
			return fail(ps, "out of memory");
		}
		v->items = items;
		memset(&items[v->count], 0, sizeof *items);
		v->count++; /* counted before parsing so that cleanup frees it */
		if (!parse_value(ps, &items[v->count - 1]))
			return false;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return true;
		}
		return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool parse_value(struct parser *ps, jvalue *v)
{
	if (++ps->depth > MAX_DEPTH)
		return fail(ps, "nested too deeply");
	skip_space(ps);
	bool ok;
	if (ps->p >= ps->end)
		ok = fail(ps, "unexpected end of input");
	else if (*ps->p == '{' || *ps->p == '[')
		ok = parse_container(ps, v, *ps->p == '{');
	else if (*ps->p == '"')
		ok = (v->kind = J_STRING, parse_string(ps, &v->string));
	else if (literal(ps, "null"))
		ok = (v->kind = J_NULL, true);
	else if (literal(ps, "true"))
		ok = (v->kind = J_TRUE, true);
	else if (literal(ps, "false"))
		ok = (v->kind = J_FALSE, true);
	else
		ok = (v->kind = J_NUMBER, parse_number(ps, &v->number));
	ps->depth--;
	return ok;
}

void json_free(jvalue *v)
{
	for (size_t i = 0; i < v->count; i++) {
		json_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
}

const jvalue *json_member(const jvalue *obj, const char *key)
{
	if (!obj || obj->kind != J_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->count; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

const char *json_member_string(const jvalue *obj, const char *key)
{
	const jvalue *v = json_member(obj, key);
	return v && v->kind == J_STRING ? v->string : NULL;
}

static bool load(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			char *b = realloc(buf, cap);
			if (!b)
				break;
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	bool ok = !ferror(f) && buf;
	fclose(f);
	if (!ok) {
		free(buf);
		return false;
	}
	*text = buf;
	*len = n;
	return true;
}

bool json_parse_file(const char *path, jvalue *out, char *err, size_t err_size)
{
	char *text;
	size_t len;
	memset(out, 0, sizeof *out);
	if (!load(path, &text, &len)) {
		snprintf(err, err_size, "%s: cannot read", path);
		return false;
	}
	struct parser ps = {.text = text, .p = text, .end = text + len};
	bool ok = parse_value(&ps, out);
	skip_space(&ps);
	if (ok && ps.p != ps.end)
		ok = fail(&ps, "trailing characters after the JSON value");
	if (!ok) {
		int line = 1, col = 1;
		for (const char *c = text; c < ps.p; c++) {
			if (*c == '\n')
				line++, col = 1;
			else
				col++;
		}
		snprintf(err, err_size, "%s:%d:%d: %s", path, line, col, ps.error);
		json_free(out);
		memset(out, 0, sizeof *out);
	}
	free(text);
	return ok;
}
