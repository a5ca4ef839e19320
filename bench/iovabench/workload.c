/* SPDX-License-Identifier: MIT */
/*
 * workload.c - what a job replays. A workload is written
 *   GENERATOR[(key=value ...)]      a generator (iovabench list generators);
 *                                   "$threads" in the parameters becomes the
 *                                   job's thread count; seed= defaults to the
 *                                   job's seed
 *   trace:PATH                      an iovatrace file ("-": standard input)
 *   import:FORMAT[(key=value ...)]:PATH   a real trace, converted on the fly
 * and shaped by two options: prefix (the first N operations) and replicate
 * (N independent copies side by side, names and streams renamed per copy,
 * so N workers can each replay one).
 *
 * Workloads are built while the plan is checked, before anything runs or is
 * written, and shared by the jobs that use the same one; each is compiled
 * once per worker count.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iovabench.h"

/* Splits "NAME(params)" into name and params (without parentheses). */
static bool split_call(const char *s, char *name, size_t nn, char *params, size_t pn)
{
	const char *open = strchr(s, '(');
	size_t len = open ? (size_t)(open - s) : strlen(s);
	if (len == 0 || len >= nn)
		return false;
	memcpy(name, s, len);
	name[len] = '\0';
	params[0] = '\0';
	if (open) {
		size_t sl = strlen(s);
		if (s[sl - 1] != ')')
			return false;
		size_t plen = sl - len - 2;
		if (plen >= pn)
			return false;
		memcpy(params, open + 1, plen);
		params[plen] = '\0';
		if (strchr(params, '(') || strchr(params, ')'))
			return false;
	}
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static const char *gen_list(void)
{
	static char list[512];
	if (!list[0])
		for (size_t i = 0; i < wl_gen_count(); i++) {
			strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, wl_gen_name(i), sizeof list - strlen(list) - 1);
		}
	return list;
}

static const char *imp_list(void)
{
	static char list[256];
	if (!list[0])
		for (size_t i = 0; i < wl_import_count(); i++) {
			strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, wl_import_name(i), sizeof list - strlen(list) - 1);
		}
	return list;
}

/* Parses an import spec "import:FORMAT[(params)]:PATH". */
static bool parse_import(const char *spec, char *fmt, size_t fn, char *params, size_t pn, const char **path)
{
	const char *rest = spec + strlen("import:");
	const char *close = strchr(rest, ')');
	const char *colon = strchr(close ? close : rest, ':');
	if (!colon || !colon[1])
		return false;
	char head[512];
	size_t hl = (size_t)(colon - rest);
	if (hl >= sizeof head)
		return false;
	memcpy(head, rest, hl);
	head[hl] = '\0';
	*path = colon + 1;
	return split_call(head, fmt, fn, params, pn);
}

bool ib_workload_spec_ok(const char *spec, char *why, size_t n)
{
	char name[64], params[1024];
	if (strncmp(spec, "trace:", 6) == 0) {
		if (!spec[6]) {
			snprintf(why, n, "trace: needs a path");
			return false;
		}
		return true;
	}
	if (strncmp(spec, "import:", 7) == 0) {
		const char *path;
		if (!parse_import(spec, name, sizeof name, params, sizeof params, &path)) {
			snprintf(why, n, "not import:FORMAT:PATH or import:FORMAT(key=value ...):PATH");
			return false;
		}
		for (size_t i = 0; i < wl_import_count(); i++)
			if (strcmp(wl_import_name(i), name) == 0)
				return true;
		snprintf(why, n, "unknown import format '%s' (known: %s)", name, imp_list());
		return false;
	}
	if (!split_call(spec, name, sizeof name, params, sizeof params)) {
		snprintf(why, n, "not GENERATOR, GENERATOR(key=value ...), trace:PATH or import:FORMAT:PATH");
		return false;
	}
	for (size_t i = 0; i < wl_gen_count(); i++)
		if (strcmp(wl_gen_name(i), name) == 0)
			return true;
	snprintf(why, n, "unknown generator '%s' (known: %s)", name, gen_list());
	return false;
}

/* @params with "$threads" replaced and "seed=" added when absent. */
static void expand_params(const char *params, uint64_t seed, unsigned threads, char *out, size_t n)
{
	size_t j = 0;
	for (const char *p = params; *p && j + 1 < n;) {
		if (strncmp(p, "$threads", 8) == 0) {
			j += (size_t)snprintf(out + j, n - j, "%u", threads);
			p += 8;
		} else {
			out[j++] = *p++;
		}
	}
	if (j >= n)
		j = n - 1;
	out[j] = '\0';
	bool has_seed = strncmp(out, "seed=", 5) == 0 || strstr(out, " seed=") || strstr(out, ",seed=");
	if (!has_seed && j + 32 < n)
		snprintf(out + j, n - j, "%sseed=%" PRIu64, j ? " " : "", seed);
}

/* Whether @spec names a file, and which. */
static const char *spec_path(const char *spec)
{
	if (strncmp(spec, "trace:", 6) == 0)
		return spec + 6;
	if (strncmp(spec, "import:", 7) == 0) {
		char fmt[64], params[1024];
		const char *path;
		if (parse_import(spec, fmt, sizeof fmt, params, sizeof params, &path))
			return path;
	}
	return NULL;
}

bool ib_workload_load(const char *spec, uint64_t seed, unsigned threads, wl_trace **out, wl_import_report *rep,
		      bool *imported, ib_error *e)
{
	wl_error err;
	*out = NULL;
	if (imported)
		*imported = false;
	if (strncmp(spec, "trace:", 6) == 0) {
		const char *path = spec + 6;
		if (strcmp(path, "-") != 0) {
			if (!wl_trace_load(path, out, &err)) {
				ib_fail(e, "%s", err.message);
				return false;
			}
			return true;
		}
		char *text;
		size_t len;
		if (!ib_read_file("-", &text, &len, e))
			return false;
		bool ok = wl_trace_parse(text, len, "<stdin>", out, &err) && wl_trace_check(*out, &err);
		free(text);
		if (!ok) {
			wl_trace_free(*out);
			*out = NULL;
			ib_fail(e, "%s", err.message);
		}
		return ok;
	}
	char name[64], params[1024], expanded[1200];
	if (strncmp(spec, "import:", 7) == 0) {
		const char *path;
		if (!parse_import(spec, name, sizeof name, params, sizeof params, &path)) {
			ib_fail(e, "workload '%s': not import:FORMAT:PATH", spec);
			return false;
		}
		expand_params(params, seed, threads, expanded, sizeof expanded);
		/* importers take no seed: drop the one added */
		char *s = strstr(expanded, "seed=");
		if (s && !strstr(params, "seed="))
			*(s > expanded ? s - 1 : s) = '\0';
		wl_import_options io = {.strict = false, .params = expanded[0] ? expanded : NULL};
		wl_import_report local;
		if (!wl_import_file(name, path, &io, out, rep ? rep : &local, &err)) {
			ib_fail(e, "%s", err.message);
			return false;
		}
		if (imported)
			*imported = true;
		return true;
	}
	if (!split_call(spec, name, sizeof name, params, sizeof params)) {
		ib_fail(e, "workload '%s': not GENERATOR(key=value ...)", spec);
		return false;
	}
	expand_params(params, seed, threads, expanded, sizeof expanded);
	if (!wl_generate(name, expanded, out, &err)) {
		ib_fail(e, "workload '%s': %s", spec, err.message);
		return false;
	}
	return true;
}

/* The first @n operations of @t (all when n = 0 or n >= count). A prefix of
 * a valid trace is valid: it only leaves buffers live at the end. */
static wl_trace *take_prefix(wl_trace *t, uint64_t n, ib_error *e)
{
	if (n == 0 || n >= wl_trace_count(t))
		return t;
	wl_trace *p = wl_trace_new(wl_trace_source(t));
	if (!p)
		goto oom;
	for (size_t i = 0; i < wl_trace_header_count(t); i++) {
		const char *k, *v;
		wl_trace_header_at(t, i, &k, &v);
		wl_trace_set_header(p, k, v);
	}
	wl_error err;
	for (size_t i = 0; i < n; i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		const char *nm = wl_trace_name(t, op.id), *nm2 = op.kind == WL_OP_TRANSFER ? wl_trace_name(t, op.id2) : NULL;
		const char *st = wl_trace_stream_name(t, op.stream);
		if (op.id != WL_NO_ID)
			op.id = wl_trace_intern(p, nm, strlen(nm));
		if (nm2)
			op.id2 = wl_trace_intern(p, nm2, strlen(nm2));
		op.stream = wl_trace_stream(p, st, strlen(st));
		if (!wl_trace_append(p, &op, &err)) {
			ib_fail(e, "prefix: %s", err.message);
			wl_trace_free(p);
			wl_trace_free(t);
			return NULL;
		}
	}
	wl_trace_free(t);
	return p;
oom:
	ib_fail(e, "out of memory");
	wl_trace_free(t);
	return NULL;
}

/* @copies independent copies of @t: copy c's names and streams are prefixed
 * "c<c>.", so copies share nothing and run side by side. */
static wl_trace *replicate(wl_trace *t, unsigned copies, ib_error *e)
{
	if (copies <= 1)
		return t;
	wl_trace *r = wl_trace_new(wl_trace_source(t));
	if (!r) {
		ib_fail(e, "out of memory");
		wl_trace_free(t);
		return NULL;
	}
	for (size_t i = 0; i < wl_trace_header_count(t); i++) {
		const char *k, *v;
		wl_trace_header_at(t, i, &k, &v);
		wl_trace_set_header(r, k, v);
	}
	char cv[16];
	snprintf(cv, sizeof cv, "%u", copies);
	wl_trace_set_header(r, "iovabench.replicate", cv);
	uint32_t nn = wl_trace_name_count(t), ns = wl_trace_stream_count(t);
	uint32_t *nmap = ib_calloc(nn ? nn : 1, sizeof *nmap), *smap = ib_calloc(ns ? ns : 1, sizeof *smap);
	bool ok = true;
	wl_error err;
	for (unsigned c = 0; c < copies && ok; c++) {
		char buf[300];
		for (uint32_t i = 0; i < nn && ok; i++) {
			int len = snprintf(buf, sizeof buf, "c%u.%s", c, wl_trace_name(t, i));
			nmap[i] = len > 0 && len < 256 ? wl_trace_intern(r, buf, (size_t)len) : WL_NO_ID;
			ok = nmap[i] != WL_NO_ID;
		}
		for (uint32_t i = 0; i < ns && ok; i++) {
			int len = snprintf(buf, sizeof buf, "c%u.%s", c, wl_trace_stream_name(t, i));
			smap[i] = len > 0 && len < 256 ? wl_trace_stream(r, buf, (size_t)len) : WL_NO_ID;
			ok = smap[i] != WL_NO_ID;
		}
		if (!ok) {
			ib_fail(e, "replicate: a name is too long to rename");
			break;
		}
		for (size_t i = 0; i < wl_trace_count(t) && ok; i++) {
			wl_op op;
			wl_trace_get(t, i, &op);
			if (op.id != WL_NO_ID)
				op.id = nmap[op.id];
			if (op.kind == WL_OP_TRANSFER)
				op.id2 = nmap[op.id2];
			op.stream = smap[op.stream];
			op.line = 0;
			if (!wl_trace_append(r, &op, &err)) {
				ib_fail(e, "replicate: %s", err.message);
				ok = false;
			}
		}
	}
	free(nmap);
	free(smap);
	wl_trace_free(t);
	if (!ok) {
		wl_trace_free(r);
		return NULL;
	}
	return r;
}

/* Peak of the bytes held by live buffers over the trace, in file order. */
static void measure_trace(ib_workload *w)
{
	wl_trace *t = w->trace;
	uint32_t nn = wl_trace_name_count(t);
	uint64_t *live = ib_calloc(nn ? nn : 1, sizeof *live);
	uint64_t cur = 0, peak = 0, maxreq = 0;
	for (size_t i = 0; i < wl_trace_count(t); i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		if (op.kind == WL_OP_ALLOC || op.kind == WL_OP_MAP) {
			live[op.id] = op.size;
			cur += op.size;
			if (op.size > maxreq)
				maxreq = op.size;
			if (cur > peak)
				peak = cur;
		} else if (op.kind == WL_OP_FREE || op.kind == WL_OP_UNMAP) {
			cur -= live[op.id];
			live[op.id] = 0;
		}
	}
	free(live);
	w->ops = wl_trace_count(t);
	w->streams = wl_trace_stream_count(t);
	w->peak_live_bytes = peak;
	w->max_request = maxreq;
}

static void make_label(const char *spec, char *out, size_t n)
{
	const char *path = spec_path(spec);
	if (path) {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		char b[128];
		snprintf(b, sizeof b, "%s", strcmp(path, "-") == 0 ? "stdin" : base);
		char *dot = strrchr(b, '.');
		if (dot && dot != b && (strcmp(dot, ".csv") == 0 || strcmp(dot, ".trace") == 0 || strcmp(dot, ".txt") == 0 ||
					strcmp(dot, ".zip") == 0))
			*dot = '\0';
		if (strncmp(spec, "import:", 7) == 0) {
			char fmt[64], params[1024];
			const char *p;
			parse_import(spec, fmt, sizeof fmt, params, sizeof params, &p);
			snprintf(out, n, "%.60s-%.60s", fmt, b);
		} else {
			snprintf(out, n, "%s", b);
		}
		return;
	}
	char name[64], params[1024];
	if (split_call(spec, name, sizeof name, params, sizeof params))
		snprintf(out, n, "%s", name);
	else
		snprintf(out, n, "%s", spec);
}

ib_workload *ib_workload_get(ib_plan *plan, const char *spec, const char *fallback, unsigned copies, uint64_t prefix,
			     uint64_t seed, unsigned threads, ib_error *e)
{
	char key[1200];
	bool uses_threads = strstr(spec, "$threads") || (fallback && strstr(fallback, "$threads"));
	snprintf(key, sizeof key, "%s|%s|r%u|p%" PRIu64 "|s%" PRIu64 "|t%u", spec, fallback ? fallback : "", copies,
		 prefix, seed, uses_threads ? threads : 0);
	for (size_t i = 0; i < plan->nworkloads; i++)
		if (strcmp(plan->workloads[i]->key, key) == 0)
			return plan->workloads[i];
	ib_workload *w = ib_calloc(1, sizeof *w);
	snprintf(w->key, sizeof w->key, "%s", key);
	const char *run_spec = spec;
	const char *path = spec_path(spec);
	if (path && strcmp(path, "-") != 0 && access(path, R_OK) != 0) {
		int err = errno;
		if (!fallback || !*fallback) {
			ib_fail(e, "workload '%s': %s: %s", spec, path, strerror(err));
			free(w);
			return NULL;
		}
		run_spec = fallback;
		w->fallback = true;
		snprintf(w->note, sizeof w->note, "workload %s: %s is not here (%s): ran the generated equivalent %s instead",
			 spec, path, strerror(err), fallback);
	}
	snprintf(w->spec, sizeof w->spec, "%s", run_spec);
	make_label(run_spec, w->label, sizeof w->label);
	wl_trace *t;
	if (!ib_workload_load(run_spec, seed, threads, &t, &w->import_report, &w->imported, e)) {
		free(w);
		return NULL;
	}
	snprintf(w->source, sizeof w->source, "%s", wl_trace_source(t));
	t = take_prefix(t, prefix, e);
	if (t)
		t = replicate(t, copies, e);
	if (!t) {
		free(w);
		return NULL;
	}
	wl_error err;
	if (!wl_trace_check(t, &err)) {
		ib_fail(e, "workload '%s': %s", run_spec, err.message);
		wl_trace_free(t);
		free(w);
		return NULL;
	}
	w->trace = t;
	measure_trace(w);
	plan->workloads = ib_realloc(plan->workloads, plan->nworkloads + 1, sizeof *plan->workloads);
	plan->workloads[plan->nworkloads++] = w;
	if (w->note[0])
		ib_plan_notice(plan, "%s", w->note);
	return w;
}

wl_compiled *ib_workload_compiled(ib_workload *w, unsigned workers, ib_error *e)
{
	if (workers == 0 || workers > 64) {
		ib_fail(e, "bad worker count %u", workers);
		return NULL;
	}
	if (!w->compiled[workers]) {
		wl_error err;
		if (!wl_compile(w->trace, &(wl_compile_options){.workers = workers}, &w->compiled[workers], &err)) {
			ib_fail(e, "workload %s: %s", w->spec, err.message);
			return NULL;
		}
	}
	return w->compiled[workers];
}

void ib_workload_free(ib_workload *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < 65; i++)
		wl_compiled_free(w->compiled[i]);
	wl_trace_free(w->trace);
	free(w);
}
