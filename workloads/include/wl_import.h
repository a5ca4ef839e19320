/* SPDX-License-Identifier: MIT */
/*
 * wl_import.h - converting real traces to iovatrace 1.
 *
 * Formats (wl_import_name()):
 *   ftrace      Linux ftrace text: IOMMU map/unmap events (with or without
 *               "- 0xEND" and "dev=") and the DMA events dma_map_page,
 *               dma_unmap_page, dma_alloc, dma_free, dma_map_sg
 *   vma         Vulkan Memory Allocator call recordings (CSV, format 1.x)
 *   minimalloc  MiniMalloc CSV (id,lower,upper,size)
 *   android     Android memory_replay dumps, text or the .zip as distributed
 * PyTorch CUDA snapshots are imported by workloads/tools/pytorch_snapshot.py
 * (a pickle needs Python; that script refuses every global while loading).
 *
 * Real traces are messy: frees of ids never allocated (the trace started
 * mid-run), zero sizes, lines nobody can read. Each is counted, the first few
 * are kept with their line numbers, and the import goes on, unless strict.
 */
#ifndef WL_IMPORT_H
#define WL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wl_trace.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wl_import_problem {
	WL_IMPORT_UNPARSEABLE = 0, /* a line of the format that could not be read */
	WL_IMPORT_UNKNOWN_FREE,    /* free or unmap of an id not live (never allocated, or already freed) */
	WL_IMPORT_ZERO_SIZE,       /* allocation of zero bytes: dropped, and so is its free */
	WL_IMPORT_LIVE_REALLOC,    /* allocation of an id still live: a free is inserted before it */
	WL_IMPORT_UNCONVERTIBLE,   /* a recognised event without enough information (e.g. an image of
				    * unknown format): dropped */
	WL_IMPORT_PROBLEM_COUNT
} wl_import_problem;

const char *wl_import_problem_name(wl_import_problem p);

#define WL_IMPORT_NOTES 32

typedef struct wl_import_note {
	uint64_t line;
	wl_import_problem problem;
	char text[160];
} wl_import_note;

typedef struct wl_import_report {
	uint64_t lines;   /* input lines (records) read */
	uint64_t events;  /* lines recognised as events of the format */
	uint64_t ignored; /* lines deliberately skipped: comments, other events, headers */
	uint64_t ops;     /* operations in the trace */
	uint64_t problems[WL_IMPORT_PROBLEM_COUNT];
	unsigned nnotes;  /* the first WL_IMPORT_NOTES problems */
	wl_import_note notes[WL_IMPORT_NOTES];
} wl_import_report;

typedef struct wl_import_options {
	bool strict;        /* fail at the first problem (with its line) */
	const char *params; /* format-specific key=value list, NULL for defaults */
} wl_import_options;

size_t wl_import_count(void);
const char *wl_import_name(size_t index);
const char *wl_import_description(size_t index);
const char *wl_import_params(size_t index); /* parameters with their defaults */

/**
 * wl_import_file() - convert the file at @path, in format @format, to a trace.
 * @rep: receives the counts (may be NULL).
 * Return: true with *@out (checked with wl_trace_check()), or false with
 * @err = "path:line: message" (unreadable file, unknown format, or the first
 * problem when strict).
 */
bool wl_import_file(const char *format, const char *path, const wl_import_options *opt, wl_trace **out,
		    wl_import_report *rep, wl_error *err);

/** wl_import_buffer() - the same from text in memory (not for zip files). */
bool wl_import_buffer(const char *format, const char *data, size_t len, const char *source,
		      const wl_import_options *opt, wl_trace **out, wl_import_report *rep, wl_error *err);

/** wl_import_report_print() - the counts and notes, one per line. */
void wl_import_report_print(const wl_import_report *rep, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
