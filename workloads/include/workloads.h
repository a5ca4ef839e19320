/* SPDX-License-Identifier: MIT */
/*
 * workloads.h - the workloads library in one include: traces (wl_trace.h),
 * histograms (wl_hist.h), compiling and replaying (wl_replay.h), generators
 * (wl_gen.h) and importers (wl_import.h). Uses the core through iova.h only.
 */
#ifndef WORKLOADS_H
#define WORKLOADS_H

#include "wl_gen.h"
#include "wl_hist.h"
#include "wl_import.h"
#include "wl_replay.h"
#include "wl_trace.h"

#endif
