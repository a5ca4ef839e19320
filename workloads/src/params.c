/* SPDX-License-Identifier: MIT */
/* params.c - key=value parameter lists for generators and importers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

bool wl_params_parse(const char *text, wl_params *p, wl_error *err)
{
	memset(p, 0, sizeof *p);
	if (!text)
		return true;
	const char *s = text;
	while (*s) {
		while (*s == ',' || *s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		const char *b = s;
		while (*s && *s != ',' && *s != ' ' && *s != '\t' && *s != '\n')
			s++;
		const char *eq = memchr(b, '=', (size_t)(s - b));
		if (!eq || eq == b)
			return wl_set_error(err, NULL, 0, "parameter '%.*s': expected key=value", (int)(s - b), b), false;
		size_t kl = (size_t)(eq - b), vl = (size_t)(s - eq - 1);
		if (p->n == sizeof p->kv / sizeof p->kv[0])
			return wl_set_error(err, NULL, 0, "too many parameters"), false;
		wl_kv *kv = &p->kv[p->n];
		if (kl >= sizeof kv->key || vl >= sizeof kv->value)
			return wl_set_error(err, NULL, 0, "parameter '%.*s' is too long", (int)(s - b), b), false;
		memcpy(kv->key, b, kl);
		memcpy(kv->value, eq + 1, vl);
		for (unsigned i = 0; i < p->n; i++)
			if (strcmp(p->kv[i].key, kv->key) == 0)
				return wl_set_error(err, NULL, 0, "parameter '%s' given twice", kv->key), false;
		p->n++;
	}
	return true;
}

static wl_kv *find(wl_params *p, const char *key)
{
	for (unsigned i = 0; i < p->n; i++)
		if (strcmp(p->kv[i].key, key) == 0) {
			p->kv[i].used = true;
			return &p->kv[i];
		}
	return NULL;
}

bool wl_params_u64(wl_params *p, const char *key, uint64_t def, uint64_t *out, wl_error *err)
{
	wl_kv *kv = find(p, key);
	if (!kv) {
		*out = def;
		return true;
	}
	if (!wl_parse_u64(kv->value, strlen(kv->value), out))
		return wl_set_error(err, NULL, 0, "parameter %s=%s: not a number", key, kv->value), false;
	return true;
}

bool wl_params_double(wl_params *p, const char *key, double def, double *out, wl_error *err)
{
	wl_kv *kv = find(p, key);
	if (!kv) {
		*out = def;
		return true;
	}
	char *end;
	errno = 0;
	double v = strtod(kv->value, &end);
	if (end == kv->value || *end || errno || !isfinite(v))
		return wl_set_error(err, NULL, 0, "parameter %s=%s: not a number", key, kv->value), false;
	*out = v;
	return true;
}

const char *wl_params_str(wl_params *p, const char *key, const char *def)
{
	wl_kv *kv = find(p, key);
	return kv ? kv->value : def;
}

bool wl_params_all_used(const wl_params *p, const char *what, wl_error *err)
{
	for (unsigned i = 0; i < p->n; i++)
		if (!p->kv[i].used)
			return wl_set_error(err, NULL, 0, "%s: unknown parameter '%s'", what, p->kv[i].key), false;
	return true;
}
