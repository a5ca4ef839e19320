/* SPDX-License-Identifier: MIT */
/*
 * bench_workloads.c - the workloads library's own speed: text parsing and
 * the replayer's overhead on the null executor. Each figure comes with a
 * baseline measured in the same run, so reports can give ratios:
 *
 *   workloads/scan_lines       memchr over the same text (the floor for any parser)
 *   workloads/parse_text       wl_trace_parse(): counter "lines" per second
 *   workloads/direct_calls     the same operations called straight through the
 *                              null executor's function pointers, no replayer
 *   workloads/replay_null/M    wl_replay() on one worker, latency mode M
 *                              (0 bracket, 1 chained, 2 off): counter "ops" per second
 *   workloads/replay_iova      the core's allocator through the replayer (cached-alloc)
 *
 * Targets (issue 5): parsing at least 5 million lines/s; the null replay at
 * least 20 million operations/s on one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench.h"
#include "workloads.h"

void bench_workloads_register(void);

/* One text and one compiled trace, built once before any clock starts. */
static char *text;
static size_t text_len, text_lines;
static wl_trace *trace;
static wl_compiled *compiled;

static void die(const char *what, const wl_error *err)
{
	fprintf(stderr, "bench_workloads: %s: %s\n", what, err->message);
	exit(1);
}

static void build_inputs(void)
{
	if (trace)
		return;
	wl_error err;
	/* A mix that looks like real traces: allocs with and without
	 * constraints, frees, fills, transfers, two streams; ~2 million lines. */
	if (!wl_generate("long-lived-churn", "long_lived=20000 churn=1900000 window=64 streams=4", &trace, &err))
		die("generate", &err);
	FILE *f = open_memstream(&text, &text_len);
	if (!f || !wl_trace_write(trace, f, &err))
		die("write", &err);
	fclose(f);
	for (size_t i = 0; i < text_len; i++)
		text_lines += text[i] == '\n';
	if (!wl_compile(trace, &(wl_compile_options){.workers = 1}, &compiled, &err))
		die("compile", &err);
}

static void bm_scan_lines(gb_state *st)
{
	build_inputs();
	uint64_t lines = 0;
	while (gb_keep_running(st)) {
		const char *s = text, *end = text + text_len;
		size_t n = 0;
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			n++;
			s = nl ? nl + 1 : end;
		}
		lines += n;
	}
	gb_counter(st, "lines", (double)lines, GB_COUNTER_RATE);
}

static void bm_parse_text(gb_state *st)
{
	build_inputs();
	uint64_t lines = 0;
	while (gb_keep_running(st)) {
		wl_trace *t;
		wl_error err;
		if (!wl_trace_parse(text, text_len, "bench", &t, &err)) {
			gb_skip_with_error(st, err.message);
			return;
		}
		lines += text_lines;
		gb_pause_timing(st);
		wl_trace_free(t);
		gb_resume_timing(st);
	}
	gb_counter(st, "lines", (double)lines, GB_COUNTER_RATE);
}

static void bm_direct_calls(gb_state *st)
{
	build_inputs();
	const wl_executor *ex = wl_executor_null();
	size_t n = wl_trace_count(trace);
	wl_op *ops = malloc(n * sizeof *ops);
	wl_handle *h = calloc(wl_trace_name_count(trace), sizeof *h);
	for (size_t i = 0; i < n; i++)
		wl_trace_get(trace, i, &ops[i]);
	uint64_t done = 0;
	while (gb_keep_running(st)) {
		for (size_t i = 0; i < n; i++) {
			const wl_op *op = &ops[i];
			if (op->kind == WL_OP_ALLOC) {
				wl_alloc_args a = {op->size, op->lowest, op->highest, op->boundary, op->alignment, op->cache};
				ex->alloc(NULL, &a, &h[op->id]);
			} else {
				ex->free(NULL, &h[op->id]);
			}
		}
		done += n;
	}
	gb_counter(st, "ops", (double)done, GB_COUNTER_RATE);
	free(ops);
	free(h);
}

static void bm_replay_null(gb_state *st)
{
	build_inputs();
	wl_replay_options o = {.latency = (wl_latency_mode)gb_range(st, 0)};
	uint64_t ops = 0, replay_ns = 0;
	while (gb_keep_running(st)) {
		wl_replay_result *r;
		wl_error err;
		if (!wl_replay(compiled, wl_executor_null(), &o, &r, &err)) {
			gb_skip_with_error(st, err.message);
			return;
		}
		ops += r->ops;
		replay_ns += r->elapsed_ns;
		wl_replay_result_free(r);
	}
	/* "ops" counts thread start-up and result merging; "ops_in_loop" only
	 * the replay loop itself (the replayer's own clock). */
	gb_counter(st, "ops", (double)ops, GB_COUNTER_RATE);
	gb_counter(st, "ops_in_loop", replay_ns ? (double)ops * 1e9 / (double)replay_ns : 0, GB_COUNTER_DEFAULT);
}

static void bm_replay_iova(gb_state *st)
{
	wl_error err;
	wl_trace *t;
	if (!wl_generate("cached-alloc", "threads=1 scale=0.2", &t, &err))
		die("generate", &err);
	wl_compiled *c;
	if (!wl_compile(t, NULL, &c, &err))
		die("compile", &err);
	wl_trace_free(t);
	iova_domain *d;
	iova_domain_config cfg = {.base = 0, .size = UINT64_C(1) << 36};
	if (iova_domain_create(&cfg, &d) != IOVA_OK) {
		gb_skip_with_error(st, "iova_domain_create failed");
		return;
	}
	wl_iova_executor x;
	wl_iova_executor_init(&x, d, IOVA_PLACE_BOTTOM_UP);
	uint64_t ops = 0;
	while (gb_keep_running(st)) {
		wl_replay_result *r;
		if (!wl_replay(c, &x.ex, NULL, &r, &err)) {
			gb_skip_with_error(st, err.message);
			break;
		}
		ops += r->ops;
		wl_replay_result_free(r);
	}
	gb_counter(st, "ops", (double)ops, GB_COUNTER_RATE);
	iova_domain_destroy(d);
	wl_compiled_free(c);
}

void bench_workloads_register(void)
{
	gb_bench *b = gb_register("workloads/scan_lines", bm_scan_lines);
	gb_use_real_time(b);
	b = gb_register("workloads/parse_text", bm_parse_text);
	gb_use_real_time(b);
	b = gb_register("workloads/direct_calls", bm_direct_calls);
	gb_use_real_time(b);
	b = gb_register("workloads/replay_null", bm_replay_null);
	gb_arg(b, WL_LATENCY_BRACKET);
	gb_arg(b, WL_LATENCY_CHAINED);
	gb_arg(b, WL_LATENCY_OFF);
	gb_use_real_time(b);
	b = gb_register("workloads/replay_iova", bm_replay_iova);
	gb_use_real_time(b);
}
