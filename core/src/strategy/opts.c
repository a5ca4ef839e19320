/* SPDX-License-Identifier: MIT */
/*
 * opts.c - the options parser shared by all strategies (see opts.h).
 */
#include "opts.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void iova_opts_message(char *msg, size_t msg_size, const char *fmt, ...)
{
	if (!msg || !msg_size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msg_size, fmt, ap);
	va_end(ap);
}

/* [*s, *e) without surrounding spaces. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

static bool parse_u64(const char *s, size_t len, uint64_t *v)
{
	char buf[32];
	if (!len || len >= sizeof buf || s[0] == '-' || s[0] == '+')
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *end;
	unsigned long long x = strtoull(buf, &end, 0);
	if (*end || end == buf)
		return false;
	*v = x;
	return x != ~0ULL; /* strtoull's overflow value: no option needs it */
}

static bool parse_bool(const char *s, size_t len, bool *v)
{
	static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strlen(yes[i]) == len && !strncasecmp(s, yes[i], len)) {
			*v = true;
			return true;
		}
		if (strlen(no[i]) == len && !strncasecmp(s, no[i], len)) {
			*v = false;
			return true;
		}
	}
	return false;
}

/* "a, b, c" into @buf. */
static void list_keys(const struct iova_opt *spec, size_t n, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", spec[i].key);
}

static void list_choices(const char *const *choices, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; choices[i] && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", choices[i]);
}

static iova_status append_rest(char **rest, const char *s, size_t len)
{
	size_t old = *rest ? strlen(*rest) : 0;
	char *r = realloc(*rest, old + len + 2);
	if (!r)
		return IOVA_ERR_NO_MEMORY;
	if (old)
		r[old++] = ',';
	memcpy(r + old, s, len);
	r[old + len] = 0;
	*rest = r;
	return IOVA_OK;
}

static iova_status set_value(const char *who, const struct iova_opt *o, const char *v, size_t vlen, void *out,
			     char *msg, size_t msg_size)
{
	char *field = (char *)out + o->offset;
	char list[256];
	switch (o->type) {
	case IOVA_OPT_U64: {
		uint64_t x;
		if (!parse_u64(v, vlen, &x)) {
			iova_opts_message(msg, msg_size, "%s option \"%s\": \"%.*s\" is not a non-negative integer", who,
					  o->key, (int)vlen, v);
			return IOVA_ERR_INVALID_ARGUMENT;
		}
		if (x < o->min || x > o->max) {
			iova_opts_message(msg, msg_size, "%s option \"%s\": %llu is outside [%llu, %llu]", who, o->key,
					  (unsigned long long)x, (unsigned long long)o->min, (unsigned long long)o->max);
			return IOVA_ERR_INVALID_ARGUMENT;
		}
		memcpy(field, &x, sizeof x);
		return IOVA_OK;
	}
	case IOVA_OPT_BOOL: {
		bool b;
		if (!parse_bool(v, vlen, &b)) {
			iova_opts_message(msg, msg_size, "%s option \"%s\": \"%.*s\" is not a boolean (0/1, true/false, yes/no, on/off)",
					  who, o->key, (int)vlen, v);
			return IOVA_ERR_INVALID_ARGUMENT;
		}
		memcpy(field, &b, sizeof b);
		return IOVA_OK;
	}
	case IOVA_OPT_CHOICE:
		for (unsigned i = 0; o->choices[i]; i++) {
			if (strlen(o->choices[i]) == vlen && !strncmp(o->choices[i], v, vlen)) {
				memcpy(field, &i, sizeof i);
				return IOVA_OK;
			}
		}
		list_choices(o->choices, list, sizeof list);
		iova_opts_message(msg, msg_size, "%s option \"%s\": \"%.*s\" is not one of %s", who, o->key, (int)vlen, v,
				  list);
		return IOVA_ERR_INVALID_ARGUMENT;
	}
	return IOVA_ERR_INVALID_ARGUMENT;
}

iova_status iova_opts_parse(const char *who, const char *options, const struct iova_opt *spec, size_t n_spec,
			    void *out, char **rest, char *msg, size_t msg_size)
{
	if (rest)
		*rest = NULL;
	iova_opts_message(msg, msg_size, "%s", "");
	if (!options || !*options)
		return IOVA_OK;
	uint64_t seen = 0; /* bit i: spec[i] given already (tables are short) */
	char list[256];
	iova_status st = IOVA_OK;
	for (const char *p = options; st == IOVA_OK;) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *ks = p, *eq = memchr(p, '=', (size_t)(end - p));
		const char *ke = eq ? eq : end;
		trim(&ks, &ke);
		if (ks == ke) {
			iova_opts_message(msg, msg_size, "%s options \"%s\": empty entry (expected key=value,key=value)", who,
					  options);
			st = IOVA_ERR_INVALID_ARGUMENT;
			break;
		}
		size_t i = 0;
		while (i < n_spec && !(strlen(spec[i].key) == (size_t)(ke - ks) && !strncmp(spec[i].key, ks, (size_t)(ke - ks))))
			i++;
		if (i == n_spec) {
			if (rest) {
				st = append_rest(rest, p, (size_t)(end - p));
			} else {
				list_keys(spec, n_spec, list, sizeof list);
				iova_opts_message(msg, msg_size, "%s: unknown option \"%.*s\" (%s%s)", who, (int)(ke - ks), ks,
						  n_spec ? "known: " : "it takes no options", list);
				st = IOVA_ERR_INVALID_ARGUMENT;
			}
		} else if (!eq) {
			iova_opts_message(msg, msg_size, "%s option \"%s\" needs a value (%s=...)", who, spec[i].key,
					  spec[i].key);
			st = IOVA_ERR_INVALID_ARGUMENT;
		} else if (seen & (UINT64_C(1) << i)) {
			iova_opts_message(msg, msg_size, "%s option \"%s\" is given twice", who, spec[i].key);
			st = IOVA_ERR_INVALID_ARGUMENT;
		} else {
			seen |= UINT64_C(1) << i;
			const char *vs = eq + 1, *ve = end;
			trim(&vs, &ve);
			st = set_value(who, &spec[i], vs, (size_t)(ve - vs), out, msg, msg_size);
		}
		if (!*end)
			break;
		p = end + 1;
	}
	if (st != IOVA_OK && rest) {
		free(*rest);
		*rest = NULL;
	}
	return st;
}
