/* SPDX-License-Identifier: MIT */
/* clock.c - TSC calibration. */
#include <pthread.h>
#include <time.h>

#include "clock.h"

static wl_clock clock_cal;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

#ifdef WL_CLOCK_TSC
/* A (ticks, ns) pair read close together: of 64 tries, the one whose two TSC
 * reads around the clock_gettime() are nearest, with the TSC taken at their
 * midpoint. A preemption inside a try only makes that try lose. */
static void tight_pair(uint64_t *ticks, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 64; i++) {
		uint64_t a = wl_ticks(), n = wl_mono_ns(), b = wl_ticks();
		if (b - a < best) {
			best = b - a;
			*ticks = a + (b - a) / 2;
			*ns = n;
		}
	}
}
#endif

static void calibrate(void)
{
#ifdef WL_CLOCK_TSC
	/* Two tight pairs 20 ms apart: the pairs' own error is a few ns, so the
	 * ratio is good to about 1e-6 however loaded the machine is (a sleep
	 * that overshoots only lengthens the window). */
	uint64_t t0, n0, t1, n1;
	tight_pair(&t0, &n0);
	struct timespec ts = {0, 20000000};
	while (nanosleep(&ts, &ts) != 0)
		;
	tight_pair(&t1, &n1);
	clock_cal.ticks_per_ns = n1 > n0 && t1 > t0 ? (double)(t1 - t0) / (double)(n1 - n0) : 1.0;
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
