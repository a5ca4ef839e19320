/* SPDX-License-Identifier: MIT */
/* hist.c - log-linear histograms (wl_hist.h states the error bound). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wl_hist.h"

void wl_hist_init(wl_hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

wl_hist *wl_hist_new(void)
{
	wl_hist *h = malloc(sizeof *h);
	if (h)
		wl_hist_init(h);
	return h;
}

void wl_hist_record_n(wl_hist *h, uint64_t v, uint64_t n)
{
	if (!n)
		return;
	h->bucket[wl_hist_index(v)] += n;
	h->count += n;
	h->sum += v * n;
	h->sumsq += (double)v * (double)v * (double)n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void wl_hist_merge(wl_hist *dst, const wl_hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < WL_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->sumsq += src->sumsq;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t wl_hist_bucket_lower(unsigned index)
{
	if (index < 2u * WL_HIST_SUB)
		return index;
	unsigned shift = index / WL_HIST_SUB - 1u;
	uint64_t off = index % WL_HIST_SUB;
	return (WL_HIST_SUB + off) << shift;
}

uint64_t wl_hist_bucket_upper(unsigned index)
{
	if (index < 2u * WL_HIST_SUB)
		return index;
	unsigned shift = index / WL_HIST_SUB - 1u;
	return wl_hist_bucket_lower(index) + ((UINT64_C(1) << shift) - 1u);
}

uint64_t wl_hist_bucket_value(unsigned index)
{
	uint64_t lo = wl_hist_bucket_lower(index), hi = wl_hist_bucket_upper(index);
	return lo + (hi - lo) / 2;
}

uint64_t wl_hist_percentile(const wl_hist *h, double p)
{
	if (!h->count)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	/* nearest rank: the smallest value with at least p% of values at or below it */
	double r = ceil(p / 100.0 * (double)h->count);
	uint64_t rank = r < 1 ? 1 : (uint64_t)r;
	uint64_t seen = 0;
	for (unsigned i = 0; i < WL_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = wl_hist_bucket_value(i);
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}

double wl_hist_mean(const wl_hist *h) { return h->count ? (double)h->sum / (double)h->count : 0.0; }

double wl_hist_stddev(const wl_hist *h)
{
	if (h->count < 2)
		return 0.0;
	double n = (double)h->count, mean = (double)h->sum / n;
	double var = h->sumsq / n - mean * mean;
	return var > 0 ? sqrt(var) : 0.0;
}

void wl_hist_summarize(const wl_hist *h, wl_hist_summary *s)
{
	s->count = h->count;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	s->mean = wl_hist_mean(h);
	s->stddev = wl_hist_stddev(h);
	s->p50 = wl_hist_percentile(h, 50);
	s->p90 = wl_hist_percentile(h, 90);
	s->p99 = wl_hist_percentile(h, 99);
	s->p999 = wl_hist_percentile(h, 99.9);
	s->p9999 = wl_hist_percentile(h, 99.99);
}
