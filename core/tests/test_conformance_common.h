/* SPDX-License-Identifier: MIT */
/*
 * test_conformance_common.h - what the conformance suites share: the list
 * of strategy combinations (every registered strategy, without and with the
 * cache layer), a seeded generator, the check that a block meets its
 * request, and the matrix of results printed at the end.
 */
#ifndef TEST_CONFORMANCE_COMMON_H
#define TEST_CONFORMANCE_COMMON_H

#include "check.h"
#include "iova.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMBOS 64

struct combo {
	char name[64];
	unsigned caps;
	bool cached;
};

/* Every registered strategy, plain and "+cache"; argv[1], if given, keeps
 * only the combination of that name. */
static inline size_t combos_list(struct combo *out, int argc, char **argv)
{
	size_t n = 0;
	for (size_t i = 0; i < iova_strategy_count(); i++) {
		for (int c = 0; c < 2 && n < MAX_COMBOS; c++) {
			struct combo *k = &out[n];
			snprintf(k->name, sizeof k->name, "%s%s", iova_strategy_name(i), c ? "+cache" : "");
			k->cached = c;
			if (argc > 1 && strcmp(argv[1], k->name))
				continue;
			iova_domain *d;
			iova_domain_config cfg = {.size = 1 << 20, .strategy = k->name};
			if (iova_domain_create(&cfg, &d) != IOVA_OK) {
				check_failed(__FILE__, __LINE__, "cannot create a domain with %s", k->name);
				continue;
			}
			k->caps = iova_domain_caps(d);
			iova_domain_destroy(d);
			n++;
		}
	}
	return n;
}

/* xorshift64*: reproducible runs from a printed seed. */
static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static inline uint64_t rnd_below(uint64_t *s, uint64_t n) { return n ? rnd(s) % n : 0; }

static inline unsigned log2_ceil_u64(uint64_t x) { return x <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(x - 1); }

/* Does @a meet @r in a domain configured by @cfg? Writes why not. */
static inline bool meets(const iova_domain_config *cfg, const iova_request *r, const iova_allocation *a, char *why,
			 size_t why_size)
{
	const uint64_t g = cfg->granule ? cfg->granule : 4096;
	const uint64_t held = (r->size + g - 1) / g * g;
	const uint64_t natural = g << log2_ceil_u64(held / g);
	const uint64_t last = a->iova + a->size - 1;
	const uint64_t hi = r->highest ? r->highest : UINT64_MAX;
	const char *bad = NULL;
	if (a->size != held)
		bad = "size is not the request rounded up to the granule";
	else if (a->iova < cfg->base || last > cfg->base + cfg->size - 1)
		bad = "outside the domain";
	else if (a->iova < r->lowest || last > hi)
		bad = "outside [lowest, highest]";
	else if (r->boundary && a->iova / r->boundary != last / r->boundary)
		bad = "crosses the boundary";
	else if (a->iova % natural || (r->alignment && a->iova % r->alignment))
		bad = "misaligned";
	else if (a->cache_type != r->cache_type)
		bad = "cache type not carried";
	if (bad)
		snprintf(why, why_size, "%s: iova 0x%llx size 0x%llx for size 0x%llx lowest 0x%llx highest 0x%llx "
			 "boundary 0x%llx alignment 0x%llx", bad, (unsigned long long)a->iova, (unsigned long long)a->size,
			 (unsigned long long)r->size, (unsigned long long)r->lowest, (unsigned long long)r->highest,
			 (unsigned long long)r->boundary, (unsigned long long)r->alignment);
	return !bad;
}

/* ---- the matrix: combination x aspect -> PASS, SKIP (reason) or FAIL ---- */

#define MAX_ASPECTS 12

struct matrix {
	const char *aspects[MAX_ASPECTS];
	size_t n_aspects;
	char cell[MAX_COMBOS][MAX_ASPECTS][160];
};

static inline void matrix_set(struct matrix *m, size_t combo, const char *aspect, int failures_before, const char *skip)
{
	size_t a = 0;
	while (a < m->n_aspects && strcmp(m->aspects[a], aspect))
		a++;
	if (a == m->n_aspects && a < MAX_ASPECTS)
		m->aspects[m->n_aspects++] = aspect;
	if (a >= MAX_ASPECTS)
		return;
	if (check_failure_count() != failures_before)
		snprintf(m->cell[combo][a], sizeof m->cell[combo][a], "FAIL");
	else if (skip)
		snprintf(m->cell[combo][a], sizeof m->cell[combo][a], "SKIP (%s)", skip);
	else
		snprintf(m->cell[combo][a], sizeof m->cell[combo][a], "PASS");
}

/* Replace a cell's text (e.g. to report a known deviation). */
static inline void matrix_note(struct matrix *m, size_t combo, const char *aspect, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline void matrix_note(struct matrix *m, size_t combo, const char *aspect, const char *fmt, ...)
{
	for (size_t a = 0; a < m->n_aspects; a++) {
		if (strcmp(m->aspects[a], aspect))
			continue;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->cell[combo][a], sizeof m->cell[combo][a], fmt, ap);
		va_end(ap);
	}
}

static inline void matrix_print(const struct matrix *m, const struct combo *combos, size_t n)
{
	for (size_t c = 0; c < n; c++)
		for (size_t a = 0; a < m->n_aspects; a++)
			printf("matrix %-22s %-18s %s\n", combos[c].name, m->aspects[a], m->cell[c][a]);
}

#endif
