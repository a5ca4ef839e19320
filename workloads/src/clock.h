/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the replayer's clock: the TSC on x86-64 (invariant on every CPU
 * this project targets; calibrated once against CLOCK_MONOTONIC), else
 * CLOCK_MONOTONIC itself. One read costs about 20 ns on this project's
 * machines either way, which is why the replayer offers a chained latency
 * mode that reads it once per operation.
 */
#ifndef WL_CLOCK_H
#define WL_CLOCK_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define WL_CLOCK_TSC 1
#endif

static inline uint64_t wl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t wl_ticks(void)
{
#ifdef WL_CLOCK_TSC
	return __rdtsc();
#else
	return wl_mono_ns();
#endif
}

typedef struct wl_clock {
	uint64_t ns_mult;      /* ns = ticks * ns_mult >> 32 */
	double ticks_per_ns;
} wl_clock;

/** wl_clock_get() - the calibration (measured once per process, ~20 ms). */
const wl_clock *wl_clock_get(void);

static inline uint64_t wl_ticks_to_ns(const wl_clock *c, uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * c->ns_mult) >> 32);
}

static inline void wl_cpu_relax(void)
{
#ifdef WL_CLOCK_TSC
	_mm_pause();
#endif
}

#endif
