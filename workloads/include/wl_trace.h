/* SPDX-License-Identifier: MIT */
/*
 * wl_trace.h - paging-operation traces: the in-memory form, the text format
 * (TRACE_FORMAT.md, "iovatrace 1"), parsing, writing and checking.
 *
 * A trace is a list of operations in file order. Each operation carries a
 * timestamp (ns), a stream (a CPU, a hardware queue, a thread: whatever issued
 * it), a kind and the kind's arguments. Buffers and fences are named by the
 * trace's own ids (strings); a name may be reused once its buffer is freed.
 * File order is the happens-before order: a name refers to the latest
 * allocation of that name before the line, and a `wait` to the latest
 * `signal` before it, whatever the streams.
 *
 * Names and streams are interned: operations refer to them by dense indices
 * (wl_trace_name(), wl_trace_stream_name()).
 */
#ifndef WL_TRACE_H
#define WL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "iova.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WL_TRACE_FORMAT_NAME "iovatrace"
#define WL_TRACE_VERSION 1

/*
 * Operation kinds. The numbering is part of the in-memory API only (the text
 * format spells names); new kinds are appended (DXGK_BUILDPAGINGBUFFER_OPERATION
 * keeps growing), so switch statements must have a default.
 */
typedef enum wl_op_kind {
	WL_OP_ALLOC = 0,     /* allocate-contiguous: id size [constraints] */
	WL_OP_FREE,          /* free-contiguous: id */
	WL_OP_MAP,           /* map a page list (backing need not be contiguous): id size [segments] */
	WL_OP_UNMAP,         /* unmap a page list: id */
	WL_OP_TRANSFER,      /* copy bytes: src src_offset dst dst_offset bytes */
	WL_OP_FILL,          /* fill bytes of a buffer with a pattern: id offset bytes [value] */
	WL_OP_FLUSH,         /* explicit IOTLB flush: whole (no id) or one buffer's range */
	WL_OP_EVICT,         /* residency: unmap the buffer's pages, keep the id */
	WL_OP_MAKE_RESIDENT, /* residency: map an evicted buffer again */
	WL_OP_SIGNAL,        /* signal fence id */
	WL_OP_WAIT,          /* wait until fence id has been signalled */
	WL_OP_KIND_COUNT
} wl_op_kind;

/** wl_op_kind_name() - the kind's name in the text format ("alloc", "free",
 * ...); "?" outside the enum. */
const char *wl_op_kind_name(wl_op_kind kind);

/** wl_op_kind_from_name() - the kind spelled by @name[0..@len); returns
 * WL_OP_KIND_COUNT for an unknown name. */
wl_op_kind wl_op_kind_from_name(const char *name, size_t len);

#define WL_NO_ID UINT32_MAX /* flush without a buffer */

/*
 * struct wl_op - one operation, fully spelled out (the trace stores it more
 * compactly; this is what wl_trace_get() returns and wl_trace_append() takes).
 * Fields a kind does not use are zero.
 *
 * @ts_ns:     timestamp in nanoseconds.
 * @stream:    stream index (wl_trace_stream_name()).
 * @id:        buffer or fence name index (wl_trace_name()); for transfer the
 *             source; WL_NO_ID for a flush of the whole IOTLB.
 * @id2:       transfer destination.
 * @size:      alloc, map: bytes of the buffer; transfer, fill: bytes moved.
 * @offset:    transfer: source offset; fill: offset.
 * @offset2:   transfer: destination offset.
 * @lowest, @highest, @boundary, @alignment, @cache: alloc constraints, with
 *             the meaning of struct iova_request (highest 0 = no limit).
 * @segments:  map: physically contiguous runs backing the list (0 = unknown).
 * @value:     fill: the byte pattern (a 32-bit word).
 * @line:      the text line it came from; 0 when the trace was built in memory.
 */
typedef struct wl_op {
	uint64_t ts_ns;
	uint32_t stream;
	wl_op_kind kind;
	uint32_t id;
	uint32_t id2;
	uint64_t size;
	uint64_t offset;
	uint64_t offset2;
	uint64_t lowest;
	uint64_t highest;
	uint64_t boundary;
	uint64_t alignment;
	iova_cache_type cache;
	uint32_t segments;
	uint32_t value;
	uint32_t line;
} wl_op;

/* Where a failed call explains itself: "source:line: message". @line is 0
 * when the problem has no line (I/O errors, in-memory traces). */
typedef struct wl_error {
	char message[512];
	uint32_t line;
} wl_error;

typedef struct wl_trace wl_trace;

/** wl_trace_new() - an empty trace. @source names it in messages ("gen:gpu-frame",
 * a file path); copied. Returns NULL when out of memory. */
wl_trace *wl_trace_new(const char *source);

/** wl_trace_free() - release @t and everything it owns; NULL is ignored. */
void wl_trace_free(wl_trace *t);

/** wl_trace_source() - the name given to wl_trace_new() or the parsed path. */
const char *wl_trace_source(const wl_trace *t);

/**
 * wl_trace_intern() - the index of name @name[0..@len) (a buffer or fence id),
 * adding it if new. Names are tokens: 1..255 bytes, none of them whitespace,
 * '#', '=' or a control character.
 *
 * Return: the index, or WL_NO_ID if the name is not a valid token or memory
 * ran out.
 */
uint32_t wl_trace_intern(wl_trace *t, const char *name, size_t len);

/** wl_trace_intern_u64() - wl_trace_intern() of @n in decimal (generators'
 * numeric ids). */
uint32_t wl_trace_intern_u64(wl_trace *t, uint64_t n);

/** wl_trace_stream() - the index of stream @name[0..@len) (same token rules),
 * adding it if new; WL_NO_ID on a bad token or out of memory. */
uint32_t wl_trace_stream(wl_trace *t, const char *name, size_t len);

/** wl_trace_stream_u64() - wl_trace_stream() of @n in decimal. */
uint32_t wl_trace_stream_u64(wl_trace *t, uint64_t n);

const char *wl_trace_name(const wl_trace *t, uint32_t index);   /* NULL out of range */
const char *wl_trace_stream_name(const wl_trace *t, uint32_t index);
uint32_t wl_trace_name_count(const wl_trace *t);
uint32_t wl_trace_stream_count(const wl_trace *t);

/**
 * wl_trace_append() - add @op at the end of @t.
 *
 * Checks the operation on its own (known kind, indices in range, stream
 * timestamps not decreasing, constraints well formed); whether names are live
 * is wl_trace_check()'s job. Return: true, or false with @err filled.
 */
bool wl_trace_append(wl_trace *t, const wl_op *op, wl_error *err);

/** wl_trace_count() - number of operations. */
size_t wl_trace_count(const wl_trace *t);

/** wl_trace_get() - operation @i (0-based) spelled out into @out. @i must be
 * below wl_trace_count(). */
void wl_trace_get(const wl_trace *t, size_t i, wl_op *out);

/**
 * wl_trace_set_header() - set header key @key to @value (both copied); a key
 * set twice keeps the last value. Keys are tokens without '='; values are
 * tokens. Written on the header line as key=value, in insertion order.
 * Return: false on a bad token or out of memory.
 */
bool wl_trace_set_header(wl_trace *t, const char *key, const char *value);

/** wl_trace_header() - the value of header key @key, or NULL. */
const char *wl_trace_header(const wl_trace *t, const char *key);

/** wl_trace_header_count() / wl_trace_header_at(): iterate the header keys. */
size_t wl_trace_header_count(const wl_trace *t);
void wl_trace_header_at(const wl_trace *t, size_t i, const char **key, const char **value);

/* ------------------------------------------------------------------------ */
/* Text                                                                     */
/* ------------------------------------------------------------------------ */

/**
 * wl_trace_parse() - parse the text form from memory.
 * @text, @len: the whole text (need not be NUL-terminated).
 * @source:     name used in messages ("file.trace").
 * @out:        receives the trace on success, NULL on failure.
 *
 * Checks syntax only (see wl_trace_check() for names and lifetimes).
 * Return: true, or false with @err = "source:line: message" for the first
 * problem.
 */
bool wl_trace_parse(const char *text, size_t len, const char *source, wl_trace **out, wl_error *err);

/** wl_trace_load() - read and parse the file at @path, then wl_trace_check()
 * it. Return: true, or false with @err filled. */
bool wl_trace_load(const char *path, wl_trace **out, wl_error *err);

/** wl_trace_write() - write @t in text form to @f. Return: false with @err on
 * an I/O error. */
bool wl_trace_write(const wl_trace *t, FILE *f, wl_error *err);

/** wl_trace_save() - write @t to @path atomically (a temporary file in the
 * same folder, then rename). Return: false with @err on failure; the
 * destination is then untouched. */
bool wl_trace_save(const wl_trace *t, const char *path, wl_error *err);

/**
 * wl_trace_check() - check names and lifetimes in file order: every buffer is
 * allocated (alloc or map) before use and not while still live, freed by the
 * matching kind (free for alloc, unmap for map), evicted only when resident
 * and made resident only when evicted; transfers and fills stay inside their
 * buffers; every wait follows a signal of its fence; a fence name is never a
 * live buffer. Buffers still live at the end are allowed (the replayer frees
 * them after each loop).
 * Return: true, or false with @err for the first violation.
 */
bool wl_trace_check(const wl_trace *t, wl_error *err);

/** wl_trace_equal() - whether @a and @b hold the same operations with the
 * same names and streams (by string, not index), ignoring line numbers. On a
 * difference, writes a description of the first one to @why if non-NULL. */
bool wl_trace_equal(const wl_trace *a, const wl_trace *b, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif

#endif
