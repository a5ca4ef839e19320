/* SPDX-License-Identifier: MIT */
/*
 * android.c - Android memory_replay dumps (AOSP system/extras/memory_replay),
 * text or the .zip as distributed:
 *   <tid>: malloc <ptr> <size>
 *   <tid>: calloc <ptr> <nmemb> <size>
 *   <tid>: memalign <ptr> <alignment> <size>
 *   <tid>: realloc <new> <old> <size>     (old 0x0: a malloc)
 *   <tid>: free <ptr>                     (0x0: nothing)
 *   <tid>: thread_done 0x0
 * Threads become streams (hundreds of them); pointers name the buffers. The
 * dumps have no timestamps: an operation's timestamp is its line number, so
 * a timed replay keeps the recorded interleaving at 1 ns a line.
 */
#include <string.h>

#include "imp.h"

static bool is_null(sv v) { return sv_is(v, "0x0") || sv_is(v, "0") || sv_is(v, "0x00000000") || sv_is(v, "0x0000000000000000"); }

static bool bad(imp *m, const char *what, sv line)
{
	return imp_problem(m, WL_IMPORT_UNPARSEABLE, "%s: '%.*s'", what, (int)(line.n > 80 ? 80 : line.n), line.s);
}

static bool action(imp *m, sv line)
{
	sv tok[6];
	int n = 0;
	size_t i = 0;
	while (i < line.n && n < 6) {
		while (i < line.n && (line.s[i] == ' ' || line.s[i] == '\t'))
			i++;
		size_t b = i;
		while (i < line.n && line.s[i] != ' ' && line.s[i] != '\t')
			i++;
		if (i > b)
			tok[n++] = (sv){line.s + b, i - b};
	}
	if (n < 2 || tok[0].n < 2 || tok[0].s[tok[0].n - 1] != ':')
		return bad(m, "expected '<tid>: <action> ...'", line);
	uint64_t tid;
	sv tid_s = {tok[0].s, tok[0].n - 1};
	if (!sv_num(tid_s, &tid))
		return bad(m, "thread id is not a number", line);
	uint64_t ts = m->line;
	sv act = tok[1];
	uint64_t a, b, size;
	if (sv_is(act, "thread_done")) {
		m->rep->events++;
		return true;
	}
	uint32_t stream = imp_stream(m, tid_s.s, tid_s.n);
	if (stream == WL_NO_ID)
		return !m->failed;
	if (sv_is(act, "malloc")) {
		if (n != 4 || !sv_num(tok[3], &size))
			return bad(m, "malloc: expected <ptr> <size>", line);
		m->rep->events++;
		if (is_null(tok[2]))
			return imp_problem(m, WL_IMPORT_UNCONVERTIBLE, "malloc returned NULL");
		return imp_create(m, ts, stream, tok[2].s, tok[2].n, size, 0, false, 0);
	}
	if (sv_is(act, "calloc")) {
		if (n != 5 || !sv_num(tok[3], &a) || !sv_num(tok[4], &b))
			return bad(m, "calloc: expected <ptr> <nmemb> <size>", line);
		m->rep->events++;
		if (b && a > UINT64_MAX / b)
			return imp_problem(m, WL_IMPORT_UNCONVERTIBLE, "calloc size overflows");
		if (is_null(tok[2]))
			return imp_problem(m, WL_IMPORT_UNCONVERTIBLE, "calloc returned NULL");
		return imp_create(m, ts, stream, tok[2].s, tok[2].n, a * b, 0, false, 0);
	}
	if (sv_is(act, "memalign")) {
		if (n != 5 || !sv_num(tok[3], &a) || !sv_num(tok[4], &size))
			return bad(m, "memalign: expected <ptr> <alignment> <size>", line);
		m->rep->events++;
		if (is_null(tok[2]))
			return imp_problem(m, WL_IMPORT_UNCONVERTIBLE, "memalign returned NULL");
		return imp_create(m, ts, stream, tok[2].s, tok[2].n, size, a & (a - 1) ? 0 : a, false, 0);
	}
	if (sv_is(act, "realloc")) {
		if (n != 5 || !sv_num(tok[4], &size))
			return bad(m, "realloc: expected <new> <old> <size>", line);
		m->rep->events++;
		if (!is_null(tok[3]) && !imp_release(m, ts, stream, tok[3].s, tok[3].n))
			return false;
		if (is_null(tok[2]))
			return true; /* realloc(p, 0): a free */
		return imp_create(m, ts, stream, tok[2].s, tok[2].n, size, 0, false, 0);
	}
	if (sv_is(act, "free")) {
		if (n != 3)
			return bad(m, "free: expected <ptr>", line);
		m->rep->events++;
		if (is_null(tok[2]))
			return true; /* free(NULL) */
		return imp_release(m, ts, stream, tok[2].s, tok[2].n);
	}
	return bad(m, "unknown action", line);
}

static bool run_android(imp *m, const char *data, size_t len, wl_params *p)
{
	(void)p;
	wl_trace_set_header(m->t, "time", "line");
	const char *s = data, *end = data + len;
	sv line;
	while (!m->failed && imp_next_line(m, &s, end, &line)) {
		if (!line.n || line.s[0] == '#') {
			m->rep->ignored++;
			continue;
		}
		if (!action(m, line))
			return false;
	}
	return !m->failed;
}

const imp_entry wl_imp_android = {"android", "Android memory_replay dumps, text or zip; threads become streams", "",
				  run_android, true};
