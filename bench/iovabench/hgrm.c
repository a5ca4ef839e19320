/* SPDX-License-Identifier: MIT */
/*
 * hgrm.c - latency histograms as HdrHistogram's percentile distribution
 * text (what HistogramLogProcessor and outputPercentileDistribution() print,
 * what hdr-plot and the HdrHistogram plotter read):
 *
 *        Value     Percentile TotalCount 1/(1-Percentile)
 *
 *        0.042 0.000000000000          1           1.00
 *        ...
 *       12.345 1.000000000000       1000
 *   #[Mean    =        0.100, StdDeviation   =        0.020]
 *   #[Max     =       12.345, Total count    =         1000]
 *   #[Buckets =           58, SubBuckets     =          128]
 *
 * Values in microseconds (the histogram holds ns; scaling ratio 1000).
 * Percentile levels follow HdrHistogram with 5 ticks per half distance:
 * 0, 10, ..., 50, 55, 60, ..., 75, 77.5, ... ever closer to 100, then one
 * line at 100%. Each level reports the highest value of the bucket where the
 * cumulative count first reaches it (clamped to the exact minimum and
 * maximum), as HdrHistogram reports a bucket's highest equivalent value.
 */
#include <math.h>

#include "iovabench.h"

#define TICKS_PER_HALF 5

static double bucket_value(const wl_hist *h, unsigned i)
{
	uint64_t v = wl_hist_bucket_upper(i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return (double)v / 1000.0;
}

void ib_hgrm_write(const wl_hist *h, FILE *f)
{
	fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
	uint64_t total = h->count, cum = 0;
	double level = 0;
	if (total) {
		for (unsigned i = 0; i < WL_HIST_BUCKETS; i++) {
			if (!h->bucket[i])
				continue;
			cum += h->bucket[i];
			bool last = cum == total;
			while (100.0 * (double)cum / (double)total >= level) {
				fprintf(f, "%12.3f %2.12f %10llu %14.2f\n", bucket_value(h, i), level / 100.0,
					(unsigned long long)cum, 1.0 / (1.0 - level / 100.0));
				/* next level: finer as it nears 100 */
				double ticks = TICKS_PER_HALF * pow(2.0, floor(log2(100.0 / (100.0 - level))) + 1);
				level += 100.0 / ticks;
				if (last)
					break;
			}
			if (last)
				break;
		}
		fprintf(f, "%12.3f %2.12f %10llu\n", (double)h->max / 1000.0, 1.0, (unsigned long long)total);
	}
	fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", wl_hist_mean(h) / 1000.0,
		wl_hist_stddev(h) / 1000.0);
	fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n", (double)h->max / 1000.0,
		(unsigned long long)total);
	fprintf(f, "#[Buckets = %12u, SubBuckets     = %12u]\n", WL_HIST_BUCKETS / WL_HIST_SUB, 2 * WL_HIST_SUB);
}
