/* Histogram: bucket geometry, the 1% error bound, percentiles against an exact
 * reference, merging. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wl_gen.h"
#include "wl_hist.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void check_close(uint64_t got, uint64_t want, const char *what)
{
	double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;
	CHECK_MSG(err < 0.01, "%s: histogram says %llu, exact %llu (error %.4f)", what, (unsigned long long)got,
		  (unsigned long long)want, err);
}

int main(void)
{
	/* Buckets tile the whole range without gaps or overlaps. */
	CHECK_EQ(wl_hist_bucket_lower(0), 0);
	for (unsigned i = 0; i + 1 < WL_HIST_BUCKETS; i++) {
		CHECK_MSG(wl_hist_bucket_upper(i) + 1 == wl_hist_bucket_lower(i + 1), "gap after bucket %u", i);
		CHECK(wl_hist_bucket_lower(i) <= wl_hist_bucket_upper(i));
	}
	CHECK_EQ(wl_hist_bucket_upper(WL_HIST_BUCKETS - 1), UINT64_MAX);
	CHECK_EQ(wl_hist_index(UINT64_MAX), WL_HIST_BUCKETS - 1);
	CHECK_EQ(wl_hist_index(127), 127);
	CHECK_EQ(wl_hist_index(128), 128);

	/* Every value lands in a bucket that holds it, and the bucket's value is
	 * within 1% of it. */
	wl_rng rng;
	wl_rng_seed(&rng, 42);
	for (int i = 0; i < 200000; i++) {
		uint64_t v = wl_rng_next(&rng) >> wl_rng_below(&rng, 64);
		unsigned b = wl_hist_index(v);
		CHECK_MSG(b < WL_HIST_BUCKETS && wl_hist_bucket_lower(b) <= v && v <= wl_hist_bucket_upper(b),
			  "value %llu misplaced in bucket %u", (unsigned long long)v, b);
		if (v) {
			double err = fabs((double)wl_hist_bucket_value(b) - (double)v) / (double)v;
			CHECK_MSG(err < 0.01, "value %llu reported as %llu", (unsigned long long)v,
				  (unsigned long long)wl_hist_bucket_value(b));
		}
	}

	/* Empty. */
	wl_hist *h = wl_hist_new();
	CHECK(h != NULL);
	CHECK_EQ(wl_hist_percentile(h, 50), 0);
	CHECK(wl_hist_mean(h) == 0.0);

	/* Percentiles, mean and stddev of a heavy-tailed sample versus exact. */
	enum { N = 300000 };
	uint64_t *v = malloc(N * sizeof *v);
	wl_hist *a = wl_hist_new(), *b = wl_hist_new();
	double sum = 0;
	for (size_t i = 0; i < N; i++) {
		double u = wl_rng_unit(&rng);
		v[i] = (uint64_t)(50.0 * exp(6.0 * u * u)) + wl_rng_below(&rng, 10); /* 50 ns .. ~20 us */
		wl_hist_record(h, v[i]);
		wl_hist_record(i % 2 ? a : b, v[i]);
		sum += (double)v[i];
	}
	qsort(v, N, sizeof *v, cmp_u64);
	const double ps[] = {1, 50, 90, 99, 99.9, 99.99};
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
		char what[32];
		snprintf(what, sizeof what, "p%g", ps[i]);
		check_close(wl_hist_percentile(h, ps[i]), exact_percentile(v, N, ps[i]), what);
	}
	CHECK_EQ(wl_hist_percentile(h, 100), v[N - 1]);
	CHECK_EQ(wl_hist_percentile(h, 0), v[0]);
	CHECK_EQ(h->count, N);
	double mean = sum / N, var = 0;
	for (size_t i = 0; i < N; i++)
		var += ((double)v[i] - mean) * ((double)v[i] - mean);
	var /= N;
	CHECK_MSG(fabs(wl_hist_mean(h) - mean) < 1e-6 * mean, "mean %f versus %f", wl_hist_mean(h), mean);
	CHECK_MSG(fabs(wl_hist_stddev(h) - sqrt(var)) < 1e-6 * sqrt(var), "stddev %f versus %f", wl_hist_stddev(h),
		  sqrt(var));

	/* Merging two halves gives the whole. */
	wl_hist_merge(a, b);
	CHECK(memcmp(a->bucket, h->bucket, sizeof h->bucket) == 0);
	CHECK_EQ(a->count, h->count);
	CHECK_EQ(a->sum, h->sum);
	CHECK_EQ(a->min, h->min);
	CHECK_EQ(a->max, h->max);

	/* record_n is n records. */
	wl_hist_init(a);
	wl_hist_init(b);
	wl_hist_record_n(a, 1234567, 1000);
	for (int i = 0; i < 1000; i++)
		wl_hist_record(b, 1234567);
	CHECK(memcmp(a, b, sizeof *a) == 0);

	wl_hist_summary s;
	wl_hist_summarize(h, &s);
	CHECK(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.p9999 && s.p9999 <= s.max);
	free(v);
	free(a);
	free(b);
	free(h);
	return check_exit_code();
}
