/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.c - libFuzzer target for the trace parser, checker and compiler.
 *
 * Properties beyond "no crash, no sanitizer report": a trace that parses
 * writes back to text that parses to the same operations; a trace that
 * checks compiles, and small ones replay on the null executor without a
 * failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "wl_replay.h"
#include "wl_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	wl_trace *t;
	wl_error err;
	if (!wl_trace_parse((const char *)data, size, "fuzz", &t, &err))
		return 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f || !wl_trace_write(t, f, &err))
		abort();
	fclose(f);
	wl_trace *u;
	if (!wl_trace_parse(buf, len, "fuzz-rewritten", &u, &err)) {
		fprintf(stderr, "rewritten trace does not parse: %s\n", err.message);
		abort();
	}
	char why[256];
	if (!wl_trace_equal(t, u, why, sizeof why)) {
		fprintf(stderr, "round trip changed the trace: %s\n", why);
		abort();
	}
	free(buf);
	wl_trace_free(u);
	if (wl_trace_check(t, &err)) {
		wl_compiled *c;
		if (!wl_compile(t, &(wl_compile_options){.workers = 2}, &c, &err)) {
			fprintf(stderr, "checked trace does not compile: %s\n", err.message);
			abort();
		}
		if (wl_trace_count(t) <= 64) {
			wl_replay_result *r;
			if (!wl_replay(c, wl_executor_null(), &(wl_replay_options){.latency = WL_LATENCY_OFF}, &r, &err))
				abort();
			if (r->failed != 0 || r->ops != wl_trace_count(t))
				abort();
			wl_replay_result_free(r);
		}
		wl_compiled_free(c);
	}
	wl_trace_free(t);
	return 0;
}
