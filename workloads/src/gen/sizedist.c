/* SPDX-License-Identifier: MIT */
/* sizedist.c - size distributions (spelling in wl_gen.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "wl_gen.h"

typedef enum { D_FIXED, D_UNIFORM, D_LOGUNIFORM, D_POWERLAW, D_EMPIRICAL } dist_kind;

struct wl_sizedist {
	dist_kind kind;
	uint64_t min, max;
	double alpha;
	bool page;
	uint64_t *sizes;
	size_t n;
};

static uint64_t round_page(const wl_sizedist *d, uint64_t v)
{
	if (!d->page)
		return v;
	uint64_t r = (v + 4095) & ~(uint64_t)4095;
	return r ? r : v;
}

uint64_t wl_sizedist_sample(const wl_sizedist *d, wl_rng *r)
{
	uint64_t v;
	switch (d->kind) {
	case D_FIXED:
		v = d->min;
		break;
	case D_UNIFORM:
		v = d->min + wl_rng_below(r, d->max - d->min + 1);
		break;
	case D_LOGUNIFORM: {
		double lo = log((double)d->min), hi = log((double)d->max + 1.0);
		v = (uint64_t)exp(lo + (hi - lo) * wl_rng_unit(r));
		break;
	}
	case D_POWERLAW: {
		/* Inverse CDF of x^-alpha on [min, max + 1). */
		double a = d->alpha, lo = (double)d->min, hi = (double)d->max + 1.0, u = wl_rng_unit(r);
		double x;
		if (fabs(a - 1.0) < 1e-12) {
			x = lo * pow(hi / lo, u);
		} else {
			double e = 1.0 - a, l = pow(lo, e), h = pow(hi, e);
			x = pow(l + u * (h - l), 1.0 / e);
		}
		v = (uint64_t)x;
		break;
	}
	default:
		v = d->sizes[wl_rng_below(r, d->n)];
		break;
	}
	if (v < d->min)
		v = d->min;
	if (v > d->max)
		v = d->max;
	return round_page(d, v);
}

uint64_t wl_sizedist_min(const wl_sizedist *d) { return round_page(d, d->min); }
uint64_t wl_sizedist_max(const wl_sizedist *d) { return round_page(d, d->max); }

void wl_sizedist_free(wl_sizedist *d)
{
	if (d) {
		free(d->sizes);
		free(d);
	}
}

bool wl_sizedist_empirical(const uint64_t *sizes, size_t n, wl_sizedist **out, wl_error *err)
{
	*out = NULL;
	if (n == 0)
		return wl_set_error(err, NULL, 0, "empirical size distribution: no sizes"), false;
	wl_sizedist *d = calloc(1, sizeof *d);
	uint64_t *copy = malloc(n * sizeof *copy);
	if (!d || !copy) {
		free(d);
		free(copy);
		return wl_set_error(err, NULL, 0, "out of memory"), false;
	}
	d->kind = D_EMPIRICAL;
	d->min = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (!sizes[i]) {
			free(d);
			free(copy);
			return wl_set_error(err, NULL, 0, "empirical size distribution: size 0"), false;
		}
		copy[i] = sizes[i];
		d->min = sizes[i] < d->min ? sizes[i] : d->min;
		d->max = sizes[i] > d->max ? sizes[i] : d->max;
	}
	d->sizes = copy;
	d->n = n;
	*out = d;
	return true;
}

bool wl_sizedist_from_trace(const wl_trace *t, wl_sizedist **out, wl_error *err)
{
	size_t n = 0, total = wl_trace_count(t);
	uint64_t *s = malloc((total ? total : 1) * sizeof *s);
	if (!s)
		return wl_set_error(err, NULL, 0, "out of memory"), false;
	for (size_t i = 0; i < total; i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		if (op.kind == WL_OP_ALLOC || op.kind == WL_OP_MAP)
			s[n++] = op.size;
	}
	bool ok = n ? wl_sizedist_empirical(s, n, out, err)
		    : (wl_set_error(err, wl_trace_source(t), 0, "no alloc or map operations to take sizes from"), false);
	free(s);
	return ok;
}

/* Splits "a:b:c" into at most @max fields; returns the count. */
static int fields(char *s, char **f, int max)
{
	int n = 0;
	f[n++] = s;
	for (char *p = s; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

bool wl_sizedist_parse(const char *spec, wl_sizedist **out, wl_error *err)
{
	*out = NULL;
	char buf[256];
	if (!spec || strlen(spec) >= sizeof buf)
		return wl_set_error(err, NULL, 0, "size distribution: missing or too long"), false;
	strcpy(buf, spec);
	bool page = false;
	char *f[6];
	int n = fields(buf, f, 6);
	if (n > 1 && strcmp(f[n - 1], "page") == 0) {
		page = true;
		n--;
	}
	if (strncmp(spec, "empirical:", 10) == 0) {
		/* the path is everything after the colon (it may hold colons itself) */
		strcpy(buf, spec + 10);
		size_t bl = strlen(buf);
		if (bl > 5 && strcmp(buf + bl - 5, ":page") == 0)
			buf[bl - 5] = '\0';
		else
			page = false;
		if (!buf[0])
			return wl_set_error(err, NULL, 0, "size distribution '%s': expected empirical:PATH", spec), false;
		wl_trace *t;
		if (!wl_trace_load(buf, &t, err))
			return false;
		bool ok = wl_sizedist_from_trace(t, out, err);
		wl_trace_free(t);
		if (ok)
			(*out)->page = page;
		return ok;
	}
	struct {
		const char *name;
		dist_kind kind;
		int nfields;
	} const kinds[] = {{"fixed", D_FIXED, 2}, {"uniform", D_UNIFORM, 3}, {"loguniform", D_LOGUNIFORM, 3},
			   {"powerlaw", D_POWERLAW, 4}};
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		if (strcmp(f[0], kinds[k].name) != 0)
			continue;
		if (n != kinds[k].nfields)
			return wl_set_error(err, NULL, 0, "size distribution '%s': %s takes %d value(s)", spec, f[0],
					    kinds[k].nfields - 1),
			       false;
		uint64_t lo, hi;
		if (!wl_parse_u64(f[1], strlen(f[1]), &lo) || (n > 2 && !wl_parse_u64(f[2], strlen(f[2]), &hi)))
			return wl_set_error(err, NULL, 0, "size distribution '%s': bad size", spec), false;
		if (n == 2)
			hi = lo;
		if (lo == 0 || hi < lo)
			return wl_set_error(err, NULL, 0, "size distribution '%s': need 0 < MIN <= MAX", spec), false;
		double alpha = 0;
		if (kinds[k].kind == D_POWERLAW) {
			char *end;
			alpha = strtod(f[3], &end);
			if (end == f[3] || *end || !(alpha > 0) || !isfinite(alpha))
				return wl_set_error(err, NULL, 0, "size distribution '%s': ALPHA must be > 0", spec), false;
		}
		wl_sizedist *d = calloc(1, sizeof *d);
		if (!d)
			return wl_set_error(err, NULL, 0, "out of memory"), false;
		d->kind = kinds[k].kind;
		d->min = lo;
		d->max = hi;
		d->alpha = alpha;
		d->page = page;
		*out = d;
		return true;
	}
	return wl_set_error(err, NULL, 0,
			    "size distribution '%s': unknown kind '%s' (fixed, uniform, loguniform, powerlaw, empirical)",
			    spec, f[0]),
	       false;
}
