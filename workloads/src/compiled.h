/* SPDX-License-Identifier: MIT */
/*
 * compiled.h - the replayable form of a trace (built by compile.c, run by
 * replay.c).
 *
 * Invariants, established by wl_compile():
 * - worker w's operations are the trace's operations of the streams assigned
 *   to w, in file order;
 * - every operation names at most two instances (a transfer two); an
 *   instance is one lifetime of a name: created by alloc, map or signal;
 *   used by the others; ended by free or unmap;
 * - the k-th operation (k from 0) on an instance has need = k when the
 *   (k-1)-th ran on another worker, else need = 0 (no wait: program order);
 * - every operation on an instance touched by two or more workers carries
 *   the PUBLISH flag for it: after it, the instance's done counter is k+1.
 * So each operation on a shared instance starts only when all earlier ones
 * on that instance have finished, whatever their worker.
 */
#ifndef WL_COMPILED_H
#define WL_COMPILED_H

#include <stdint.h>

#include "wl_replay.h"

enum {
	COP_PUBLISH = 1u << 0,  /* publish inst after this op */
	COP_PUBLISH2 = 1u << 1, /* publish the transfer destination after this op */
};

typedef struct wl_cop {
	uint64_t ts;   /* timestamp, ns, minus the trace's first */
	uint64_t size; /* alloc, map: bytes; transfer, fill: bytes moved */
	uint32_t inst; /* WL_NO_ID for a flush of everything */
	uint32_t need; /* wait until inst's done counter reaches this; 0 = no wait */
	uint32_t x;    /* index into the worker's wl_cext table; 0 = none */
	uint8_t kind;
	uint8_t flags;
	uint8_t cache;
	uint8_t pad;
} wl_cop;

typedef struct wl_cext {
	uint64_t a, b, c, d; /* alloc: lowest, highest, boundary, alignment; transfer: offsets; fill: offset */
	uint32_t inst2, need2; /* transfer destination */
	uint32_t u32;          /* map: segments; fill: value */
	uint32_t pad;
} wl_cext;

enum { INST_BUFFER = 0, INST_MAPPED, INST_FENCE };

typedef struct wl_worker_plan {
	wl_cop *ops;
	size_t nops;
	wl_cext *ext;
	size_t next;
	uint32_t *lines; /* per op: text line, or op index + 1 for in-memory traces */
} wl_worker_plan;

struct wl_compiled {
	unsigned workers;
	wl_worker_plan *plan;
	uint32_t ninst;
	uint8_t *inst_kind; /* INST_* per instance */
	uint32_t nstreams;
	unsigned *stream_worker;
	size_t total_ops;
	size_t cross_deps;
	uint64_t span_ns; /* last timestamp minus first */
	bool lines_are_text;
};

#endif
