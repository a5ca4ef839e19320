/* SPDX-License-Identifier: MIT */
/*
 * wl_hist.h - log-linear latency histograms (fio's scheme).
 *
 * Values below 128 have a bucket each; above, every power of two [2^m, 2^m+1)
 * is cut into 64 equal buckets, so a bucket's midpoint is within 1/128 (0.8%)
 * of any value in it, over the whole uint64_t range, in 3,776 buckets (30 KiB).
 * Count, sum, minimum and maximum are exact; the standard deviation comes from
 * an exact sum and a double sum of squares.
 *
 * A histogram is plain data with no locking: give each thread its own, record
 * without synchronisation, and wl_hist_merge() them after the threads are
 * joined (that is what the replayer does).
 */
#ifndef WL_HIST_H
#define WL_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WL_HIST_SUB_BITS 6
#define WL_HIST_SUB (1u << WL_HIST_SUB_BITS)                 /* buckets per power of two */
#define WL_HIST_BUCKETS ((64 - WL_HIST_SUB_BITS + 1) * WL_HIST_SUB) /* 3776 */

typedef struct wl_hist {
	uint64_t count;
	uint64_t sum;   /* wraps only past 2^64 total: 584 years of nanoseconds */
	uint64_t min;   /* UINT64_MAX while empty */
	uint64_t max;
	double sumsq;
	uint64_t bucket[WL_HIST_BUCKETS];
} wl_hist;

/* The usual report: what fio prints for completion latencies. */
typedef struct wl_hist_summary {
	uint64_t count, min, max;
	double mean, stddev;
	uint64_t p50, p90, p99, p999, p9999;
} wl_hist_summary;

/** wl_hist_index() - the bucket holding @v. */
static inline unsigned wl_hist_index(uint64_t v)
{
	if (v < 2u * WL_HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - WL_HIST_SUB_BITS;
	return (shift + 1u) * WL_HIST_SUB + (unsigned)((v >> shift) & (WL_HIST_SUB - 1u));
}

/** wl_hist_record() - count one value. Not thread-safe: one writer per histogram. */
static inline void wl_hist_record(wl_hist *h, uint64_t v)
{
	h->bucket[wl_hist_index(v)]++;
	h->count++;
	h->sum += v;
	h->sumsq += (double)v * (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/** wl_hist_init() - make @h empty (it may hold garbage before). */
void wl_hist_init(wl_hist *h);

/** wl_hist_new() - a heap-allocated empty histogram (free() it), or NULL. */
wl_hist *wl_hist_new(void);

/** wl_hist_record_n() - count @v @n times. */
void wl_hist_record_n(wl_hist *h, uint64_t v, uint64_t n);

/** wl_hist_merge() - add @src's counts into @dst. */
void wl_hist_merge(wl_hist *dst, const wl_hist *src);

/** wl_hist_bucket_lower() / wl_hist_bucket_upper() - the smallest and largest
 * value bucket @index holds (inclusive). */
uint64_t wl_hist_bucket_lower(unsigned index);
uint64_t wl_hist_bucket_upper(unsigned index);

/** wl_hist_bucket_value() - the value reported for bucket @index: its
 * midpoint, rounded down. */
uint64_t wl_hist_bucket_value(unsigned index);

/**
 * wl_hist_percentile() - the value below or at which @p percent of the
 * recorded values lie (nearest rank), within 0.8%; clamped to [min, max], so
 * p = 0 gives the minimum and p = 100 the exact maximum. 0 for an empty
 * histogram.
 */
uint64_t wl_hist_percentile(const wl_hist *h, double p);

double wl_hist_mean(const wl_hist *h);   /* 0 when empty */
double wl_hist_stddev(const wl_hist *h); /* population standard deviation; 0 when count < 2 */

/** wl_hist_summarize() - count, min, max, mean, stddev, p50/90/99/99.9/99.99. */
void wl_hist_summarize(const wl_hist *h, wl_hist_summary *out);

#ifdef __cplusplus
}
#endif

#endif
