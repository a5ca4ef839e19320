/* SPDX-License-Identifier: MIT */
/* imp.c - the importer registry and the shared trace building. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "imp.h"

static const imp_entry *entries[] = {&wl_imp_ftrace, &wl_imp_vma, &wl_imp_minimalloc, &wl_imp_android};
#define NIMP (sizeof entries / sizeof entries[0])

size_t wl_import_count(void) { return NIMP; }
const char *wl_import_name(size_t i) { return i < NIMP ? entries[i]->name : NULL; }
const char *wl_import_description(size_t i) { return i < NIMP ? entries[i]->description : NULL; }
const char *wl_import_params(size_t i) { return i < NIMP ? entries[i]->params : NULL; }

const char *wl_import_problem_name(wl_import_problem p)
{
	static const char *const names[WL_IMPORT_PROBLEM_COUNT] = {"unparseable", "unknown-free", "zero-size",
								   "live-realloc", "unconvertible"};
	return (unsigned)p < WL_IMPORT_PROBLEM_COUNT ? names[p] : "?";
}

bool imp_oom(imp *m)
{
	wl_set_error(m->err, m->source, 0, "out of memory");
	m->failed = true;
	return false;
}

bool imp_problem(imp *m, wl_import_problem p, const char *fmt, ...)
{
	char text[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	m->rep->problems[p]++;
	if (m->rep->nnotes < WL_IMPORT_NOTES) {
		wl_import_note *n = &m->rep->notes[m->rep->nnotes++];
		n->line = m->line;
		n->problem = p;
		snprintf(n->text, sizeof n->text, "%s", text);
	}
	if (m->opt->strict) {
		wl_set_error(m->err, m->source, (uint32_t)(m->line > UINT32_MAX ? UINT32_MAX : m->line), "%s: %s",
			     wl_import_problem_name(p), text);
		m->failed = true;
		return false;
	}
	return true;
}

uint32_t imp_stream(imp *m, const char *name, size_t len)
{
	uint32_t s = wl_trace_stream(m->t, name, len);
	if (s == WL_NO_ID) {
		imp_problem(m, WL_IMPORT_UNPARSEABLE, "bad stream name '%.*s'", (int)(len > 40 ? 40 : len), name);
		return WL_NO_ID;
	}
	if (s >= m->last_ts_cap) {
		size_t cap = m->last_ts_cap ? m->last_ts_cap * 2 : 64;
		while (cap <= s)
			cap *= 2;
		uint64_t *a = realloc(m->last_ts, cap * sizeof *a);
		if (!a)
			return imp_oom(m), WL_NO_ID;
		memset(a + m->last_ts_cap, 0, (cap - m->last_ts_cap) * sizeof *a);
		m->last_ts = a;
		m->last_ts_cap = cap;
	}
	return s;
}

/* The name's index with room in the state table; WL_NO_ID on a bad token. */
static uint32_t name_index(imp *m, const char *name, size_t len)
{
	uint32_t id = wl_trace_intern(m->t, name, len);
	if (id == WL_NO_ID) {
		imp_problem(m, WL_IMPORT_UNPARSEABLE, "bad id '%.*s'", (int)(len > 40 ? 40 : len), name);
		return WL_NO_ID;
	}
	if (id >= m->state_cap) {
		size_t cap = m->state_cap ? m->state_cap * 2 : 1024;
		while (cap <= id)
			cap *= 2;
		uint8_t *s = realloc(m->state, cap);
		if (!s)
			return imp_oom(m), WL_NO_ID;
		memset(s + m->state_cap, 0, cap - m->state_cap);
		m->state = s;
		m->state_cap = cap;
	}
	return id;
}

static bool emit(imp *m, wl_op *op)
{
	/* Inputs can step back in time within a stream (merged per-CPU buffers,
	 * rounding): keep the stream's order, not the clock's. */
	if (op->ts_ns < m->last_ts[op->stream])
		op->ts_ns = m->last_ts[op->stream];
	m->last_ts[op->stream] = op->ts_ns;
	op->line = 0;
	if (!wl_trace_append(m->t, op, m->err)) {
		m->failed = true;
		return false;
	}
	return true;
}

bool imp_create(imp *m, uint64_t ts, uint32_t stream, const char *name, size_t len, uint64_t size, uint64_t align,
		bool map, uint32_t segments)
{
	uint32_t id = name_index(m, name, len);
	if (id == WL_NO_ID)
		return !m->failed;
	if (size == 0) {
		m->state[id] = NAME_DROPPED;
		return imp_problem(m, WL_IMPORT_ZERO_SIZE, "%s of '%.*s' with size 0: dropped", map ? "map" : "allocation",
				   (int)(len > 40 ? 40 : len), name);
	}
	if (m->state[id] == NAME_ALLOC || m->state[id] == NAME_MAP) {
		if (!imp_problem(m, WL_IMPORT_LIVE_REALLOC, "'%.*s' allocated again while live: freed first",
				 (int)(len > 40 ? 40 : len), name))
			return false;
		wl_op f = {.ts_ns = ts, .stream = stream, .kind = m->state[id] == NAME_MAP ? WL_OP_UNMAP : WL_OP_FREE, .id = id};
		if (!emit(m, &f))
			return false;
	}
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = map ? WL_OP_MAP : WL_OP_ALLOC, .id = id, .size = size,
		    .segments = map ? segments : 0, .alignment = map ? 0 : align};
	m->state[id] = map ? NAME_MAP : NAME_ALLOC;
	return emit(m, &op);
}

bool imp_release(imp *m, uint64_t ts, uint32_t stream, const char *name, size_t len)
{
	uint32_t id = name_index(m, name, len);
	if (id == WL_NO_ID)
		return !m->failed;
	uint8_t s = m->state[id];
	if (s == NAME_DROPPED) {
		m->state[id] = NAME_NONE;
		return true; /* its allocation was dropped, and counted then */
	}
	if (s == NAME_NONE)
		return imp_problem(m, WL_IMPORT_UNKNOWN_FREE, "release of '%.*s', which is not live",
				   (int)(len > 40 ? 40 : len), name);
	wl_op op = {.ts_ns = ts, .stream = stream, .kind = s == NAME_MAP ? WL_OP_UNMAP : WL_OP_FREE, .id = id};
	m->state[id] = NAME_NONE;
	return emit(m, &op);
}

bool imp_drop(imp *m, const char *name, size_t len)
{
	uint32_t id = name_index(m, name, len);
	if (id == WL_NO_ID)
		return !m->failed;
	m->state[id] = NAME_DROPPED;
	return true;
}

bool imp_seconds_ns(const char *s, size_t n, uint64_t *ns)
{
	uint64_t sec = 0, frac = 0;
	size_t i = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (sec > UINT64_MAX / 10 / 1000000000u)
			return false;
		sec = sec * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return false;
	unsigned digits = 0;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (digits < 9) {
				frac = frac * 10 + (uint64_t)(s[i] - '0');
				digits++;
			}
	}
	if (i != n)
		return false;
	for (; digits < 9; digits++)
		frac *= 10;
	*ns = sec * 1000000000u + frac;
	return true;
}

static const imp_entry *find(const char *format, wl_error *err)
{
	for (size_t i = 0; i < NIMP; i++)
		if (strcmp(entries[i]->name, format) == 0)
			return entries[i];
	if (strcmp(format, "pytorch") == 0)
		wl_set_error(err, NULL, 0,
			     "PyTorch snapshots are imported by workloads/tools/pytorch_snapshot.py (python3), not the C library");
	else
		wl_set_error(err, NULL, 0, "unknown import format '%s' (ftrace, vma, minimalloc, android, pytorch)", format);
	return NULL;
}

static bool run(const imp_entry *e, const char *data, size_t len, const char *source, const wl_import_options *opt,
		wl_trace **out, wl_import_report *rep, wl_error *err)
{
	static const wl_import_options defaults;
	wl_import_report scratch;
	if (!rep)
		rep = &scratch;
	memset(rep, 0, sizeof *rep);
	wl_params p;
	if (!wl_params_parse(opt ? opt->params : NULL, &p, err))
		return false;
	imp m = {.source = source, .opt = opt ? opt : &defaults, .rep = rep, .err = err};
	m.t = wl_trace_new(source);
	if (!m.t)
		return imp_oom(&m);
	wl_trace_set_header(m.t, "importer", e->name);
	bool ok = e->run(&m, data, len, &p) && !m.failed;
	if (ok && !wl_params_all_used(&p, e->name, err))
		ok = false;
	if (ok && !wl_trace_check(m.t, err))
		ok = false; /* a bug in the importer: the builder keeps names consistent */
	free(m.state);
	free(m.last_ts);
	if (!ok) {
		wl_trace_free(m.t);
		return false;
	}
	rep->ops = wl_trace_count(m.t);
	*out = m.t;
	return true;
}

bool wl_import_buffer(const char *format, const char *data, size_t len, const char *source,
		      const wl_import_options *opt, wl_trace **out, wl_import_report *rep, wl_error *err)
{
	*out = NULL;
	const imp_entry *e = find(format, err);
	return e && run(e, data, len, source ? source : format, opt, out, rep, err);
}

bool wl_import_zip_entry(const char *path, char **data, size_t *len, char *entry, size_t entry_len, wl_error *err);

bool wl_import_file(const char *format, const char *path, const wl_import_options *opt, wl_trace **out,
		    wl_import_report *rep, wl_error *err)
{
	*out = NULL;
	const imp_entry *e = find(format, err);
	if (!e)
		return false;
	char *data;
	size_t len;
	if (!wl_read_file(path, &data, &len, err))
		return false;
	if (len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0) {
		free(data);
		if (!e->zip_ok)
			return wl_set_error(err, path, 0, "a zip archive: the %s importer reads text", e->name), false;
		char entry[256];
		if (!wl_import_zip_entry(path, &data, &len, entry, sizeof entry, err))
			return false;
		char source[600];
		snprintf(source, sizeof source, "%s:%s", path, entry);
		bool ok = run(e, data, len, source, opt, out, rep, err);
		free(data);
		return ok;
	}
	bool ok = run(e, data, len, path, opt, out, rep, err);
	free(data);
	return ok;
}

void wl_import_report_print(const wl_import_report *r, FILE *f)
{
	fprintf(f, "%" PRIu64 " lines, %" PRIu64 " events, %" PRIu64 " ignored, %" PRIu64 " operations\n", r->lines,
		r->events, r->ignored, r->ops);
	for (unsigned p = 0; p < WL_IMPORT_PROBLEM_COUNT; p++)
		if (r->problems[p])
			fprintf(f, "  %-13s %" PRIu64 "\n", wl_import_problem_name((wl_import_problem)p), r->problems[p]);
	for (unsigned i = 0; i < r->nnotes; i++)
		fprintf(f, "  line %" PRIu64 ": %s: %s\n", r->notes[i].line,
			wl_import_problem_name(r->notes[i].problem), r->notes[i].text);
}
