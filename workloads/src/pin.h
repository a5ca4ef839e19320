/* SPDX-License-Identifier: MIT */
/* pin.h - pinning worker threads: one per core before any core's second
 * hardware thread (hwloc). */
#ifndef WL_PIN_H
#define WL_PIN_H

#include <stdbool.h>

typedef struct wl_pinner wl_pinner;

/** wl_pinner_new() - load the machine's topology; NULL if hwloc fails. */
wl_pinner *wl_pinner_new(void);
/** wl_pinner_pin() - bind the calling thread to the PU for @worker (workers
 * beyond the PU count wrap around). Returns false if the OS refused. */
bool wl_pinner_pin(wl_pinner *p, unsigned worker);
/** wl_pinner_pu() - the OS index of the PU @worker is pinned to. */
int wl_pinner_pu(const wl_pinner *p, unsigned worker);
void wl_pinner_free(wl_pinner *p);

#endif
