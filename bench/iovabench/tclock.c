/* SPDX-License-Identifier: MIT */
/*
 * tclock.c - the clock latencies are measured with: the TSC on x86 (one
 * read costs a few ns), calibrated against CLOCK_MONOTONIC; elsewhere
 * CLOCK_MONOTONIC itself. The cost of one read (the median of many
 * back-to-back pairs) is measured once, recorded in summary.json and
 * subtracted from every latency: a measured operation is bracketed by two
 * reads, so its sample holds one read's cost on top of the operation.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "iovabench.h"

static ib_clock clk;
static pthread_once_t once = PTHREAD_ONCE_INIT;

uint64_t ib_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A (ticks, ns) pair read close together: of 64 tries, the one whose two
 * tick reads around clock_gettime() are nearest. */
static void tight_pair(uint64_t *ticks, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 64; i++) {
		uint64_t a = ib_ticks(), n = ib_mono_ns(), b = ib_ticks();
		if (b - a < best) {
			best = b - a;
			*ticks = a + (b - a) / 2;
			*ns = n;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void calibrate(void)
{
	clk.source = IB_CLOCK_SOURCE;
	uint64_t t0, n0, t1, n1;
	tight_pair(&t0, &n0);
	struct timespec ts = {0, 20000000};
	while (nanosleep(&ts, &ts) != 0)
		;
	tight_pair(&t1, &n1);
	clk.ticks_per_ns = n1 > n0 && t1 > t0 ? (double)(t1 - t0) / (double)(n1 - n0) : 1.0;
	enum { N = 4001 };
	uint64_t *d = malloc(N * sizeof *d);
	if (d) {
		for (int i = 0; i < N; i++) {
			uint64_t a = ib_ticks();
			uint64_t b = ib_ticks();
			d[i] = b - a;
		}
		qsort(d, N, sizeof *d, cmp_u64);
		clk.read_cost_ticks = d[N / 2];
		free(d);
	}
	clk.read_cost_ns = (double)clk.read_cost_ticks / clk.ticks_per_ns;
}

const ib_clock *ib_clock_get(void)
{
	pthread_once(&once, calibrate);
	return &clk;
}
