/* SPDX-License-Identifier: MIT */
/* clock.c - TSC calibration. */
#include <pthread.h>

#include "clock.h"

static wl_clock clock_cal;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

static void calibrate(void)
{
#ifdef WL_CLOCK_TSC
	/* Both clocks run through a preemption, so only a preemption between
	 * the two reads of a pair skews a window; the median of three windows
	 * of 5 ms drops one such window. */
	double r[3];
	for (int i = 0; i < 3; i++) {
		uint64_t n0 = wl_mono_ns(), t0 = wl_ticks();
		uint64_t n1;
		do
			n1 = wl_mono_ns();
		while (n1 - n0 < 5000000u);
		uint64_t t1 = wl_ticks();
		r[i] = (double)(t1 - t0) / (double)(n1 - n0);
	}
	double lo = r[0] < r[1] ? r[0] : r[1], hi = r[0] < r[1] ? r[1] : r[0];
	double best = r[2] < lo ? lo : r[2] > hi ? hi : r[2];
	clock_cal.ticks_per_ns = best;
#else
	clock_cal.ticks_per_ns = 1.0;
#endif
	clock_cal.ns_mult = (uint64_t)(4294967296.0 / clock_cal.ticks_per_ns + 0.5);
}

const wl_clock *wl_clock_get(void)
{
	pthread_once(&clock_once, calibrate);
	return &clock_cal;
}
