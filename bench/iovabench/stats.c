/* SPDX-License-Identifier: MIT */
/*
 * stats.c - medians and the bootstrap interval compare uses: resample each
 * run's repetitions with replacement, take the ratio of the medians, and
 * keep the 2.5th and 97.5th percentiles of those ratios. Seeded, so the
 * same two result folders always give the same verdict.
 */
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double ib_median(const double *v, size_t n)
{
	if (n == 0)
		return 0;
	double *s = ib_calloc(n, sizeof *s);
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static double resampled_median(const double *v, size_t n, wl_rng *rng, double *buf)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = v[wl_rng_below(rng, n)];
	qsort(buf, n, sizeof *buf, cmp_double);
	return n % 2 ? buf[n / 2] : (buf[n / 2 - 1] + buf[n / 2]) / 2;
}

void ib_bootstrap_ratio(const double *a, size_t na, const double *b, size_t nb, unsigned iters, uint64_t seed,
			double *lo, double *hi)
{
	*lo = *hi = 0;
	if (!na || !nb || !iters)
		return;
	wl_rng rng;
	wl_rng_seed(&rng, seed);
	double *ratios = ib_calloc(iters, sizeof *ratios);
	double *buf = ib_calloc(na > nb ? na : nb, sizeof *buf);
	unsigned n = 0;
	for (unsigned i = 0; i < iters; i++) {
		double ma = resampled_median(a, na, &rng, buf);
		double mb = resampled_median(b, nb, &rng, buf);
		if (ma > 0)
			ratios[n++] = mb / ma;
	}
	if (n) {
		qsort(ratios, n, sizeof *ratios, cmp_double);
		*lo = ratios[(size_t)((double)(n - 1) * 0.025)];
		*hi = ratios[(size_t)((double)(n - 1) * 0.975 + 0.5)];
	}
	free(ratios);
	free(buf);
}
