/* Latency histograms: percentiles against the exact percentiles of known
 * samples (within fio's 1% bound), per-thread histograms merged equal one
 * recorded whole, and the .hgrm text HdrHistogram tools read: its layout,
 * its percentile ladder, and every line's value against the exact one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iovabench.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p% of the samples at or below it. */
static uint64_t exact(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

typedef uint64_t (*gen_fn)(wl_rng *r, size_t i);

static uint64_t uniform(wl_rng *r, size_t i) { return (void)i, 50 + wl_rng_below(r, 200000); }
static uint64_t lognormalish(wl_rng *r, size_t i)
{
	(void)i;
	return (uint64_t)(100.0 * exp(4.0 * wl_rng_unit(r)) * (1.0 + wl_rng_unit(r))); /* 100 ns .. 10 ms, skewed */
}
static uint64_t bimodal(wl_rng *r, size_t i)
{
	/* fast path around 40 ns, 0.5% slow path around 20 us */
	return i % 200 == 7 ? 20000 + wl_rng_below(r, 5000) : 35 + wl_rng_below(r, 10);
}
static uint64_t small(wl_rng *r, size_t i) { return (void)i, wl_rng_below(r, 100); } /* exact buckets */

static void accuracy(const char *name, gen_fn gen, size_t n)
{
	uint64_t *v = malloc(n * sizeof *v);
	wl_hist *whole = wl_hist_new(), *merged = wl_hist_new(), *t[3] = {wl_hist_new(), wl_hist_new(), wl_hist_new()};
	wl_rng r;
	wl_rng_seed(&r, 42);
	for (size_t i = 0; i < n; i++) {
		v[i] = gen(&r, i);
		wl_hist_record(whole, v[i]);
		wl_hist_record(t[i % 3], v[i]); /* as three worker threads would */
	}
	for (int k = 0; k < 3; k++)
		wl_hist_merge(merged, t[k]);
	CHECK_MSG(memcmp(whole->bucket, merged->bucket, sizeof whole->bucket) == 0 && whole->count == merged->count &&
			  whole->sum == merged->sum && whole->min == merged->min && whole->max == merged->max,
		  "%s: merged per-thread histograms differ from the whole", name);
	qsort(v, n, sizeof *v, cmp_u64);
	const double ps[] = {50, 90, 99, 99.9, 99.99, 100};
	for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
		uint64_t want = exact(v, n, ps[k]), got = wl_hist_percentile(merged, ps[k]);
		double err = want ? fabs((double)got - (double)want) / (double)want : (double)got;
		CHECK_MSG(err <= 0.01, "%s: p%g = %llu, exact %llu (error %.3f%%)", name, ps[k], (unsigned long long)got,
			  (unsigned long long)want, err * 100);
	}
	wl_hist_summary s;
	wl_hist_summarize(merged, &s);
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += (double)v[i];
	mean /= (double)n;
	CHECK_MSG(fabs(s.mean - mean) <= 1e-6 * mean + 1e-9, "%s: mean %.3f, exact %.3f", name, s.mean, mean);
	CHECK_EQ(s.min, v[0]);
	CHECK_EQ(s.max, v[n - 1]);

	/* The .hgrm text. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ib_hgrm_write(merged, f);
	fclose(f);
	static const char header[] = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n";
	CHECK_MSG(strncmp(text, header, sizeof header - 1) == 0, "%s: header: %.60s", name, text);
	const char *p = text + sizeof header - 1;
	double prev_value = -1, prev_pct = -1;
	unsigned lines = 0;
	bool saw_last = false;
	uint64_t prev_count = 0;
	while (*p && *p != '#') {
		double value, pct, inv;
		unsigned long long count;
		int got = sscanf(p, "%lf %lf %llu %lf", &value, &pct, &count, &inv);
		CHECK_MSG(got == 4 || (got == 3 && pct == 1.0), "%s: line %u: '%.60s'", name, lines, p);
		CHECK_MSG(value >= prev_value && pct > prev_pct && count >= prev_count, "%s: line %u not increasing", name,
			  lines);
		if (got == 4)
			CHECK_MSG(fabs(inv - 1.0 / (1.0 - pct)) <= 0.01 * inv + 0.01, "%s: line %u: 1/(1-p) %.2f", name, lines,
				  inv);
		/* The value is the top of the bucket where the level is reached: at
		 * least the exact percentile, at most 1/64 above it. */
		double level = pct * 100 - 1e-7; /* the printed level, without its decimal rounding */
		double want = (double)exact(v, n, level > 0 ? level : 1e-9) / 1000.0;
		CHECK_MSG(value + 0.0005 >= want && value <= want * (1 + 1.0 / 64) + 0.0015, "%s: %.6f%%: %.3f us, exact %.3f",
			  name, pct * 100, value, want);
		if (got == 3) {
			saw_last = true;
			CHECK_EQ(count, n);
			CHECK_MSG(fabs(value - (double)v[n - 1] / 1000.0) < 0.0005, "%s: 100%% line %.3f, max %llu ns", name,
				  value, (unsigned long long)v[n - 1]);
		}
		prev_value = value, prev_pct = pct, prev_count = count;
		lines++;
		p = strchr(p, '\n');
		p = p ? p + 1 : "";
	}
	CHECK_MSG(saw_last && lines > 20, "%s: %u lines, last at 100%%: %d", name, lines, saw_last);
	double fmean, fsd, fmax;
	unsigned long long ftotal;
	CHECK_MSG(sscanf(p, "#[Mean    = %lf, StdDeviation   = %lf]\n#[Max     = %lf, Total count    = %llu]", &fmean, &fsd,
			 &fmax, &ftotal) == 4,
		  "%s: footer '%.80s'", name, p);
	CHECK_EQ(ftotal, n);
	CHECK_MSG(fabs(fmean - mean / 1000.0) < 0.001, "%s: footer mean %.3f", name, fmean);
	free(text);
	free(v);
	free(whole);
	free(merged);
	for (int k = 0; k < 3; k++)
		free(t[k]);
}

/* HdrHistogram's percentile ladder with 5 ticks per half distance. */
static void ladder(void)
{
	wl_hist *h = wl_hist_new();
	for (uint64_t i = 1; i <= 100000; i++)
		wl_hist_record(h, 1000 + i % 1000);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ib_hgrm_write(h, f);
	fclose(f);
	const double want[] = {0, .1, .2, .3, .4, .5, .55, .6, .65, .7, .75, .775, .8, .825, .85, .875, .8875, .9};
	const char *p = strchr(text, '\n') + 2;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		double value, pct;
		CHECK(sscanf(p, "%lf %lf", &value, &pct) == 2);
		CHECK_MSG(fabs(pct - want[i]) < 1e-9, "ladder step %zu: %.6f, want %.6f", i, pct, want[i]);
		p = strchr(p, '\n') + 1;
	}
	free(text);
	/* empty: header and footer, no lines */
	wl_hist_init(h);
	text = NULL;
	f = open_memstream(&text, &len);
	ib_hgrm_write(h, f);
	fclose(f);
	CHECK(strstr(text, "Total count    =            0]") != NULL);
	free(text);
	free(h);
}

int main(void)
{
	accuracy("uniform", uniform, 200000);
	accuracy("log-skewed", lognormalish, 200000);
	accuracy("bimodal", bimodal, 100000);
	accuracy("small", small, 50000);
	ladder();
	return check_exit_code();
}
