/* SPDX-License-Identifier: MIT */
/*
 * compile.c - checking a trace's names and lifetimes (wl_trace_check) and
 * building the replayable form (wl_compile). See compiled.h for the
 * invariants the result holds.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "compiled.h"
#include "internal.h"

typedef struct inst_info {
	uint64_t size;
	size_t create_op;
	size_t end_op;     /* SIZE_MAX while live */
	uint32_t nops;     /* operations on it so far */
	uint32_t last_worker;
	uint8_t kind;      /* INST_* */
	uint8_t evicted;
	uint8_t multi;     /* touched by two workers or more */
} inst_info;

typedef struct resolver {
	const wl_trace *t;
	wl_error *err;
	uint32_t *cur;  /* per name: current instance, WL_NO_ID if none */
	inst_info *inst;
	uint32_t ninst;
	uint32_t *op_inst, *op_inst2; /* per op, filled when non-NULL */
} resolver;

static uint32_t op_line(const wl_trace *t, size_t i) { return t->lines ? t->lines[i] : 0; }

static bool fail_at(resolver *r, size_t i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_at(resolver *r, size_t i, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	uint32_t line = op_line(r->t, i);
	if (line)
		wl_set_error(r->err, r->t->source, line, "%s", msg);
	else
		wl_set_error(r->err, r->t->source, 0, "operation %zu: %s", i + 1, msg);
	return false;
}

/* "line 12" or "operation 12" for messages pointing back. */
static const char *at(const wl_trace *t, size_t i, char *buf, size_t n)
{
	uint32_t line = op_line(t, i);
	if (line)
		snprintf(buf, n, "line %" PRIu32, line);
	else
		snprintf(buf, n, "operation %zu", i + 1);
	return buf;
}

static const char *inst_kind_name(uint8_t k) { return k == INST_BUFFER ? "an allocation" : k == INST_MAPPED ? "a mapping" : "a fence"; }

/* The live buffer @id names, or fails explaining why there is none. */
static bool live_buffer(resolver *r, size_t i, const char *what, uint32_t id, uint32_t *out)
{
	const char *name = wl_trace_name(r->t, id);
	uint32_t k = r->cur[id];
	char where[48];
	if (k == WL_NO_ID)
		return fail_at(r, i, "%s of unknown id '%s' (never allocated or mapped)", what, name);
	const inst_info *in = &r->inst[k];
	if (in->kind == INST_FENCE)
		return fail_at(r, i, "%s of '%s', which is a fence (signalled at %s)", what, name,
			       at(r->t, in->create_op, where, sizeof where));
	if (in->end_op != SIZE_MAX)
		return fail_at(r, i, "%s of '%s', already released at %s", what, name,
			       at(r->t, in->end_op, where, sizeof where));
	*out = k;
	return true;
}

static bool in_bounds(resolver *r, size_t i, const char *what, uint32_t id, uint32_t k, uint64_t off, uint64_t bytes)
{
	uint64_t size = r->inst[k].size;
	if (off > size || bytes > size - off)
		return fail_at(r, i, "%s of %" PRIu64 " bytes at offset %" PRIu64 " runs past the end of '%s' (%" PRIu64 " bytes)",
			       what, bytes, off, wl_trace_name(r->t, id), size);
	return true;
}

static bool new_instance(resolver *r, size_t i, uint32_t id, uint8_t kind, uint64_t size, uint32_t *out)
{
	uint32_t k = r->cur[id];
	char where[48];
	if (k != WL_NO_ID) {
		const inst_info *in = &r->inst[k];
		if (kind == INST_FENCE && in->kind != INST_FENCE && in->end_op == SIZE_MAX)
			return fail_at(r, i, "signal of '%s', which is a live buffer (created at %s)", wl_trace_name(r->t, id),
				       at(r->t, in->create_op, where, sizeof where));
		if (kind != INST_FENCE && in->kind == INST_FENCE)
			return fail_at(r, i, "%s of '%s', which is a fence (signalled at %s)", kind == INST_BUFFER ? "alloc" : "map",
				       wl_trace_name(r->t, id), at(r->t, in->create_op, where, sizeof where));
		if (kind != INST_FENCE && in->end_op == SIZE_MAX)
			return fail_at(r, i, "%s of '%s', which is still live (%s at %s)", kind == INST_BUFFER ? "alloc" : "map",
				       wl_trace_name(r->t, id), in->kind == INST_BUFFER ? "allocated" : "mapped",
				       at(r->t, in->create_op, where, sizeof where));
	}
	k = r->ninst++;
	inst_info *in = &r->inst[k];
	memset(in, 0, sizeof *in);
	in->size = size;
	in->create_op = i;
	in->end_op = SIZE_MAX;
	in->kind = kind;
	in->last_worker = UINT32_MAX;
	r->cur[id] = k;
	*out = k;
	return true;
}

/* One pass in file order; fills op_inst/op_inst2 when asked. */
static bool resolve(resolver *r)
{
	const wl_trace *t = r->t;
	for (size_t i = 0; i < t->nops; i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		uint32_t k = WL_NO_ID, k2 = WL_NO_ID;
		char where[48];
		switch (op.kind) {
		case WL_OP_ALLOC:
			if (!new_instance(r, i, op.id, INST_BUFFER, op.size, &k))
				return false;
			break;
		case WL_OP_MAP:
			if (!new_instance(r, i, op.id, INST_MAPPED, op.size, &k))
				return false;
			break;
		case WL_OP_SIGNAL:
			if (!new_instance(r, i, op.id, INST_FENCE, 0, &k))
				return false;
			break;
		case WL_OP_FREE:
		case WL_OP_UNMAP: {
			const char *what = op.kind == WL_OP_FREE ? "free" : "unmap";
			if (!live_buffer(r, i, what, op.id, &k))
				return false;
			uint8_t want = op.kind == WL_OP_FREE ? INST_BUFFER : INST_MAPPED;
			if (r->inst[k].kind != want)
				return fail_at(r, i, "%s of '%s', which is %s (created at %s): use %s", what,
					       wl_trace_name(t, op.id), inst_kind_name(r->inst[k].kind),
					       at(t, r->inst[k].create_op, where, sizeof where),
					       want == INST_BUFFER ? "unmap" : "free");
			r->inst[k].end_op = i;
			break;
		}
		case WL_OP_TRANSFER:
			if (!live_buffer(r, i, "transfer", op.id, &k) || !live_buffer(r, i, "transfer", op.id2, &k2) ||
			    !in_bounds(r, i, "transfer source", op.id, k, op.offset, op.size) ||
			    !in_bounds(r, i, "transfer destination", op.id2, k2, op.offset2, op.size))
				return false;
			if (k == k2)
				k2 = WL_NO_ID; /* a copy within one buffer is one dependency */
			break;
		case WL_OP_FILL:
			if (!live_buffer(r, i, "fill", op.id, &k) || !in_bounds(r, i, "fill", op.id, k, op.offset, op.size))
				return false;
			break;
		case WL_OP_FLUSH:
			if (op.id != WL_NO_ID && !live_buffer(r, i, "flush", op.id, &k))
				return false;
			break;
		case WL_OP_EVICT:
			if (!live_buffer(r, i, "evict", op.id, &k))
				return false;
			if (r->inst[k].evicted)
				return fail_at(r, i, "evict of '%s', which is already evicted", wl_trace_name(t, op.id));
			r->inst[k].evicted = 1;
			break;
		case WL_OP_MAKE_RESIDENT:
			if (!live_buffer(r, i, "resident", op.id, &k))
				return false;
			if (!r->inst[k].evicted)
				return fail_at(r, i, "resident of '%s', which is not evicted", wl_trace_name(t, op.id));
			r->inst[k].evicted = 0;
			break;
		case WL_OP_WAIT: {
			uint32_t c = r->cur[op.id];
			if (c == WL_NO_ID || r->inst[c].kind != INST_FENCE)
				return fail_at(r, i, "wait for '%s', which no earlier line signals", wl_trace_name(t, op.id));
			k = c;
			break;
		}
		default:
			return fail_at(r, i, "unknown operation kind %d", (int)op.kind);
		}
		if (r->op_inst) {
			r->op_inst[i] = k;
			r->op_inst2[i] = k2;
		}
	}
	return true;
}

static bool resolver_init(resolver *r, const wl_trace *t, wl_error *err)
{
	memset(r, 0, sizeof *r);
	r->t = t;
	r->err = err;
	size_t nn = t->names.count ? t->names.count : 1;
	r->cur = malloc(nn * sizeof *r->cur);
	r->inst = malloc((t->nops ? t->nops : 1) * sizeof *r->inst);
	if (!r->cur || !r->inst) {
		free(r->cur);
		free(r->inst);
		return wl_set_error(err, t->source, 0, "out of memory"), false;
	}
	memset(r->cur, 0xff, nn * sizeof *r->cur);
	return true;
}

static void resolver_fini(resolver *r)
{
	free(r->cur);
	free(r->inst);
	free(r->op_inst);
	free(r->op_inst2);
}

bool wl_trace_check(const wl_trace *t, wl_error *err)
{
	resolver r;
	if (!resolver_init(&r, t, err))
		return false;
	bool ok = resolve(&r);
	resolver_fini(&r);
	return ok;
}

/* ------------------------------------------------------------------------ */

void wl_compiled_free(wl_compiled *c)
{
	if (!c)
		return;
	for (unsigned w = 0; c->plan && w < c->workers; w++) {
		free(c->plan[w].ops);
		free(c->plan[w].ext);
		free(c->plan[w].lines);
	}
	free(c->plan);
	free(c->inst_kind);
	free(c->stream_worker);
	free(c);
}

unsigned wl_compiled_workers(const wl_compiled *c) { return c->workers; }
size_t wl_compiled_op_count(const wl_compiled *c) { return c->total_ops; }
size_t wl_compiled_worker_ops(const wl_compiled *c, unsigned w) { return w < c->workers ? c->plan[w].nops : 0; }
unsigned wl_compiled_stream_worker(const wl_compiled *c, uint32_t s) { return s < c->nstreams ? c->stream_worker[s] : 0; }
size_t wl_compiled_cross_deps(const wl_compiled *c) { return c->cross_deps; }

static void assign_streams(const wl_trace *t, unsigned workers, wl_assign how, unsigned *sw)
{
	uint32_t ns = t->streams.count;
	if (how == WL_ASSIGN_ROUND_ROBIN) {
		for (uint32_t s = 0; s < ns; s++)
			sw[s] = s % workers;
		return;
	}
	/* Balanced: longest stream first onto the least loaded worker
	 * (ties: lower index), deterministic. */
	uint64_t *len = calloc(ns ? ns : 1, sizeof *len);
	uint32_t *order = malloc((ns ? ns : 1) * sizeof *order);
	uint64_t *load = calloc(workers, sizeof *load);
	if (!len || !order || !load) {
		for (uint32_t s = 0; s < ns; s++)
			sw[s] = s % workers;
		goto out;
	}
	for (size_t i = 0; i < t->nops; i++)
		len[t->ops[i].stream]++;
	for (uint32_t s = 0; s < ns; s++)
		order[s] = s;
	/* insertion sort would be quadratic for Android's hundreds of streams
	 * times... still tiny; use a simple shell sort by length descending */
	for (uint32_t gap = ns / 2; gap > 0; gap /= 2)
		for (uint32_t i = gap; i < ns; i++)
			for (uint32_t j = i; j >= gap; j -= gap) {
				uint32_t a = order[j - gap], b = order[j];
				if (len[a] > len[b] || (len[a] == len[b] && a < b))
					break;
				order[j - gap] = b;
				order[j] = a;
			}
	for (uint32_t i = 0; i < ns; i++) {
		unsigned best = 0;
		for (unsigned w = 1; w < workers; w++)
			if (load[w] < load[best])
				best = w;
		sw[order[i]] = best;
		load[best] += len[order[i]];
	}
out:
	free(len);
	free(order);
	free(load);
}

bool wl_compile(const wl_trace *t, const wl_compile_options *opt, wl_compiled **out, wl_error *err)
{
	*out = NULL;
	unsigned workers = opt && opt->workers ? opt->workers : 1;
	if (workers > 1024)
		return wl_set_error(err, t->source, 0, "too many workers (%u; at most 1024)", workers), false;
	resolver r;
	if (!resolver_init(&r, t, err))
		return false;
	size_t n = t->nops;
	r.op_inst = malloc((n ? n : 1) * sizeof *r.op_inst);
	r.op_inst2 = malloc((n ? n : 1) * sizeof *r.op_inst2);
	wl_compiled *c = calloc(1, sizeof *c);
	if (!r.op_inst || !r.op_inst2 || !c)
		goto oom;
	if (!resolve(&r))
		goto fail;

	c->workers = workers;
	c->nstreams = t->streams.count;
	c->total_ops = n;
	c->lines_are_text = t->lines != NULL;
	c->plan = calloc(workers, sizeof *c->plan);
	c->stream_worker = malloc((c->nstreams ? c->nstreams : 1) * sizeof *c->stream_worker);
	c->ninst = r.ninst;
	c->inst_kind = malloc(r.ninst ? r.ninst : 1);
	if (!c->plan || !c->stream_worker || !c->inst_kind)
		goto oom;
	assign_streams(t, workers, opt ? opt->assign : WL_ASSIGN_BALANCED, c->stream_worker);

	/* Sizes per worker, and which instances more than one worker touches. */
	size_t *count = calloc(workers, sizeof *count), *ext = calloc(workers, sizeof *ext);
	if (!count || !ext) {
		free(count);
		free(ext);
		goto oom;
	}
	uint64_t ts0 = UINT64_MAX, ts1 = 0;
	for (size_t i = 0; i < n; i++) {
		const wl_rec *rec = &t->ops[i];
		unsigned w = c->stream_worker[rec->stream];
		count[w]++;
		if (rec->ext || rec->kind == WL_OP_TRANSFER)
			ext[w]++;
		ts0 = rec->ts < ts0 ? rec->ts : ts0;
		ts1 = rec->ts > ts1 ? rec->ts : ts1;
		uint32_t ks[2] = {r.op_inst[i], r.op_inst2[i]};
		for (int j = 0; j < 2; j++) {
			if (ks[j] == WL_NO_ID)
				continue;
			inst_info *in = &r.inst[ks[j]];
			if (in->last_worker != UINT32_MAX && in->last_worker != w)
				in->multi = 1;
			in->last_worker = w;
		}
	}
	c->span_ns = n ? ts1 - ts0 : 0;
	for (uint32_t k = 0; k < r.ninst; k++) {
		c->inst_kind[k] = r.inst[k].kind;
		r.inst[k].last_worker = UINT32_MAX;
		r.inst[k].nops = 0;
	}
	bool oom_plan = false;
	for (unsigned w = 0; w < workers; w++) {
		wl_worker_plan *p = &c->plan[w];
		p->ops = malloc((count[w] ? count[w] : 1) * sizeof *p->ops);
		p->lines = malloc((count[w] ? count[w] : 1) * sizeof *p->lines);
		p->ext = calloc(ext[w] + 1, sizeof *p->ext);
		p->next = 1;
		if (!p->ops || !p->lines || !p->ext)
			oom_plan = true;
	}
	free(count);
	free(ext);
	if (oom_plan)
		goto oom;

	for (size_t i = 0; i < n; i++) {
		const wl_rec *rec = &t->ops[i];
		const wl_ext *e = &t->ext[rec->ext];
		unsigned w = c->stream_worker[rec->stream];
		wl_worker_plan *p = &c->plan[w];
		wl_cop *op = &p->ops[p->nops];
		p->lines[p->nops] = t->lines ? t->lines[i] : (uint32_t)(i + 1 > UINT32_MAX ? UINT32_MAX : i + 1);
		p->nops++;
		memset(op, 0, sizeof *op);
		op->ts = rec->ts - ts0;
		op->size = rec->size;
		op->kind = rec->kind;
		op->cache = rec->cache;
		op->inst = r.op_inst[i];
		uint32_t need[2] = {0, 0};
		uint32_t ks[2] = {r.op_inst[i], r.op_inst2[i]};
		for (int j = 0; j < 2; j++) {
			if (ks[j] == WL_NO_ID)
				continue;
			inst_info *in = &r.inst[ks[j]];
			if (in->nops > 0 && in->last_worker != w) {
				need[j] = in->nops;
				c->cross_deps++;
			}
			in->nops++;
			in->last_worker = w;
			if (in->multi)
				op->flags |= j == 0 ? COP_PUBLISH : COP_PUBLISH2;
		}
		op->need = need[0];
		if (rec->ext || rec->kind == WL_OP_TRANSFER) {
			wl_cext *x = &p->ext[p->next];
			x->a = e->a;
			x->b = e->b;
			x->c = e->c;
			x->d = e->d;
			x->u32 = e->u32;
			x->inst2 = r.op_inst2[i];
			x->need2 = need[1];
			op->x = (uint32_t)p->next++;
		}
	}
	resolver_fini(&r);
	*out = c;
	return true;
oom:
	wl_set_error(err, t->source, 0, "out of memory");
fail:
	resolver_fini(&r);
	wl_compiled_free(c);
	return false;
}
