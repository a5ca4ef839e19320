/* SPDX-License-Identifier: MIT */
/*
 * imp.h - what the importers share: building a valid trace out of messy
 * input. Callers report allocations and frees by name; imp.c keeps which
 * names are live, turns the anomalies of real traces into counted problems
 * (with line numbers), and keeps each stream's timestamps from going back.
 */
#ifndef WL_IMP_H
#define WL_IMP_H

#include "internal.h"

#include <string.h>
#include "wl_import.h"

typedef struct imp {
	wl_trace *t;
	const char *source;
	const wl_import_options *opt;
	wl_import_report *rep;
	wl_error *err;
	bool failed;   /* strict stop, or out of memory */
	uint64_t line; /* current input line, for notes */
	uint8_t *state; /* per name: NAME_* */
	size_t state_cap;
	uint64_t *last_ts; /* per stream */
	size_t last_ts_cap;
} imp;

enum { NAME_NONE = 0, NAME_ALLOC, NAME_MAP, NAME_DROPPED };

typedef struct imp_entry {
	const char *name;
	const char *description;
	const char *params;
	bool (*run)(imp *m, const char *data, size_t len, wl_params *p);
	bool zip_ok; /* may read a zip archive (path only) */
} imp_entry;

/* Counts @p, keeps a note; returns false (and sets m->failed and the error)
 * when strict. */
bool imp_problem(imp *m, wl_import_problem p, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Stream by name; WL_NO_ID (and m->failed) on a bad token. */
uint32_t imp_stream(imp *m, const char *name, size_t len);
/* Allocation (@map: a page-list mapping) of @name; false only on failure. */
bool imp_create(imp *m, uint64_t ts, uint32_t stream, const char *name, size_t len, uint64_t size, uint64_t align,
		bool map, uint32_t segments);
/* Release of @name: free or unmap, whichever created it. */
bool imp_release(imp *m, uint64_t ts, uint32_t stream, const char *name, size_t len);
/* Marks @name as deliberately dropped (its release is then dropped too). */
bool imp_drop(imp *m, const char *name, size_t len);
bool imp_oom(imp *m);

/* A piece of the input: not NUL-terminated, so always compared by length. */
typedef struct sv {
	const char *s;
	size_t n;
} sv;

/* Is @v exactly @lit? */
static inline bool sv_is(sv v, const char *lit) { return v.n == strlen(lit) && memcmp(v.s, lit, v.n) == 0; }

/* @v, surrounding spaces removed, as a decimal or 0x-hex number (K/M/G
 * suffixes excluded: the last character must be a digit). */
static inline bool sv_num(sv v, uint64_t *out)
{
	while (v.n && v.s[0] == ' ')
		v.s++, v.n--;
	while (v.n && v.s[v.n - 1] == ' ')
		v.n--;
	return v.n && v.s[v.n - 1] >= '0' && v.s[v.n - 1] <= '9' && wl_parse_u64(v.s, v.n, out);
}

/* Cut @line at each comma into at most @max fields; returns how many. */
static inline int sv_split_commas(sv line, sv *f, int max)
{
	int n = 0;
	size_t b = 0;
	for (size_t i = 0; i <= line.n && n < max; i++)
		if (i == line.n || line.s[i] == ',') {
			f[n++] = (sv){line.s + b, i - b};
			b = i + 1;
		}
	return n;
}

/*
 * imp_next_line() - the next line of the input at *@s (before @end) into
 * @line, without its newline and trailing carriage return and spaces; moves
 * *@s past it and counts it (m->line, the report's lines).
 * Return: false at the end of the input.
 */
static inline bool imp_next_line(imp *m, const char **s, const char *end, sv *line)
{
	if (*s >= end)
		return false;
	const char *nl = memchr(*s, '\n', (size_t)(end - *s));
	const char *e = nl ? nl : end;
	m->line++;
	m->rep->lines++;
	*line = (sv){*s, (size_t)(e - *s)};
	while (line->n && (line->s[line->n - 1] == '\r' || line->s[line->n - 1] == ' '))
		line->n--;
	*s = nl ? nl + 1 : end;
	return true;
}

/* "12.345678" seconds to ns, exactly (up to 9 decimals). */
bool imp_seconds_ns(const char *s, size_t n, uint64_t *ns);

extern const imp_entry wl_imp_ftrace, wl_imp_vma, wl_imp_minimalloc, wl_imp_android;

#endif
