/* SPDX-License-Identifier: MIT */
/*
 * minimalloc.c - MiniMalloc CSVs: "id,lower,upper,size" (an optional
 * alignment column is accepted), buffer id live over logical time
 * [lower, upper). Each buffer becomes an alloc at lower and a free at upper,
 * one stream, logical time units as nanoseconds; at equal times frees come
 * first (the interval is half open). A capacity in the file name
 * ("A.1048576.csv") is recorded in the header as capacity=.
 */
#include <stdlib.h>
#include <string.h>

#include "imp.h"

typedef struct mm_event {
	uint64_t t;
	uint64_t size;
	uint64_t align;
	uint32_t row; /* index into the name offsets */
	uint8_t is_alloc;
} mm_event;

static int cmp_event(const void *a, const void *b)
{
	const mm_event *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->is_alloc != y->is_alloc)
		return x->is_alloc ? 1 : -1; /* frees first */
	return x->row < y->row ? -1 : x->row > y->row;
}


static void capacity_from_name(imp *m)
{
	/* the number between the last two dots of the file name */
	const char *base = strrchr(m->source, '/');
	base = base ? base + 1 : m->source;
	const char *last = strrchr(base, '.');
	if (!last)
		return;
	const char *prev = last;
	while (prev > base && prev[-1] != '.')
		prev--;
	if (prev == base || prev == last)
		return;
	uint64_t cap;
	if (wl_parse_u64(prev, (size_t)(last - prev), &cap) && prev[0] >= '0' && prev[0] <= '9') {
		char v[24];
		snprintf(v, sizeof v, "%llu", (unsigned long long)cap);
		wl_trace_set_header(m->t, "capacity", v);
	}
}

static bool run_minimalloc(imp *m, const char *data, size_t len, wl_params *p)
{
	(void)p;
	size_t cap = 1024, nev = 0;
	mm_event *ev = malloc(cap * sizeof *ev);
	sv *names = malloc(cap / 2 * sizeof *names);
	size_t names_cap = cap / 2, nnames = 0;
	if (!ev || !names) {
		free(ev);
		free(names);
		return imp_oom(m);
	}
	capacity_from_name(m);
	wl_trace_set_header(m->t, "time", "logical");
	const char *s = data, *end = data + len;
	bool ok = true;
	int align_col = -1;
	sv line;
	while (ok && imp_next_line(m, &s, end, &line)) {
		sv f[6];
		const int n = sv_split_commas(line, f, 6);
		if (!line.n) {
			m->rep->ignored++;
			continue;
		}
		if (m->line == 1) {
			/* Fields are not NUL-terminated: compare lengths first. */
			if (n < 4 || !sv_is(f[0], "id") || !sv_is(f[1], "lower") || !sv_is(f[2], "upper") ||
			    !sv_is(f[3], "size")) {
				wl_set_error(m->err, m->source, 1, "not a MiniMalloc CSV: expected the header 'id,lower,upper,size'");
				ok = false;
				break;
			}
			if (n >= 5 && sv_is(f[4], "alignment"))
				align_col = 4;
			m->rep->ignored++;
			continue;
		}
		uint64_t lo, hi, size, align = 0;
		if (n < 4 || !sv_num(f[1], &lo) || !sv_num(f[2], &hi) || !sv_num(f[3], &size) || !f[0].n ||
		    (align_col >= 0 && (n <= align_col || !sv_num(f[align_col], &align)))) {
			ok = imp_problem(m, WL_IMPORT_UNPARSEABLE, "expected id,lower,upper,size: '%.*s'",
					 (int)(line.n > 60 ? 60 : line.n), line.s);
			continue;
		}
		m->rep->events++;
		if (size == 0) {
			ok = imp_problem(m, WL_IMPORT_ZERO_SIZE, "buffer %.*s has size 0: dropped", (int)f[0].n, f[0].s);
			continue;
		}
		if (hi <= lo) {
			ok = imp_problem(m, WL_IMPORT_UNCONVERTIBLE, "buffer %.*s lives over an empty interval [%llu, %llu)",
					 (int)f[0].n, f[0].s, (unsigned long long)lo, (unsigned long long)hi);
			continue;
		}
		if (nev + 2 > cap) {
			cap *= 2;
			mm_event *ne = realloc(ev, cap * sizeof *ev);
			if (!ne) {
				ok = imp_oom(m);
				break;
			}
			ev = ne;
		}
		if (nnames == names_cap) {
			names_cap *= 2;
			sv *nn = realloc(names, names_cap * sizeof *names);
			if (!nn) {
				ok = imp_oom(m);
				break;
			}
			names = nn;
		}
		names[nnames] = f[0];
		ev[nev++] = (mm_event){lo, size, align & (align - 1) ? 0 : align, (uint32_t)nnames, 1};
		ev[nev++] = (mm_event){hi, size, 0, (uint32_t)nnames, 0};
		nnames++;
	}
	if (ok && !m->failed) {
		qsort(ev, nev, sizeof *ev, cmp_event);
		uint32_t stream = imp_stream(m, "0", 1);
		m->line = 0; /* problems from here on are about events, not lines */
		for (size_t i = 0; i < nev && ok && stream != WL_NO_ID; i++) {
			sv name = names[ev[i].row];
			ok = ev[i].is_alloc ? imp_create(m, ev[i].t, stream, name.s, name.n, ev[i].size, ev[i].align, false, 0)
					    : imp_release(m, ev[i].t, stream, name.s, name.n);
		}
	}
	free(ev);
	free(names);
	return ok && !m->failed;
}

const imp_entry wl_imp_minimalloc = {"minimalloc", "MiniMalloc CSV (id,lower,upper,size): buffer lifetimes in logical time",
				     "", run_minimalloc, false};
