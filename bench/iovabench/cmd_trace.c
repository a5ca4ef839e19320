/* SPDX-License-Identifier: MIT */
/*
 * cmd_trace.c - `iovabench gen` and `iovabench import`: write a trace to a
 * file (atomically) or to standard output.
 */
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

static void join_params(const ib_cli *c, int from, char *out, size_t n)
{
	out[0] = '\0';
	for (int i = from; i < c->npos; i++) {
		strncat(out, i > from ? " " : "", n - strlen(out) - 1);
		strncat(out, c->pos[i], n - strlen(out) - 1);
	}
}

static int emit(const wl_trace *t, const char *out)
{
	wl_error err;
	if (out) {
		if (!wl_trace_save(t, out, &err)) {
			fprintf(stderr, "iovabench: %s\n", err.message);
			return EXIT_FAILURE_RUN;
		}
		fprintf(stderr, "iovabench: wrote %zu operations to %s\n", wl_trace_count(t), out);
		return EXIT_OK;
	}
	if (!wl_trace_write(t, stdout, &err) || fflush(stdout) != 0) {
		fprintf(stderr, "iovabench: writing to standard output: %s\n", err.message);
		return EXIT_FAILURE_RUN;
	}
	return EXIT_OK;
}

int ib_cmd_gen(int argc, char **argv)
{
	ib_cli c;
	ib_error e;
	if (!ib_cli_parse(argc, argv, CLI_OUT, &c, &e))
		return ib_usage_error("gen", &e);
	if (c.help || c.npos == 0) {
		FILE *f = c.help ? stdout : stderr;
		fprintf(f, "usage: iovabench gen GENERATOR [key=value ...] [-o OUT]\n\n"
			   "Writes the trace of a generator (iovabench list generators) to OUT, or to standard output.\n"
			   "Same generator, parameters and seed: same trace.\n\nGenerators and their parameters (defaults):\n");
		for (size_t i = 0; i < wl_gen_count(); i++)
			fprintf(f, "  %-20s %s\n  %-20s   %s\n", wl_gen_name(i), wl_gen_description(i), "", wl_gen_params(i));
		fprintf(f, "\nExamples:\n  iovabench gen gpu-frame frames=60 seed=7 -o gpu.trace\n"
			   "  iovabench gen fragmenter count=4096 | iovabench replay - --strategy=buddy-lf\n");
		bool h = c.help;
		ib_cli_free(&c);
		if (h)
			return EXIT_OK;
		ib_fail(&e, "gen needs a generator name");
		return ib_usage_error("gen", &e);
	}
	char params[4096];
	join_params(&c, 1, params, sizeof params);
	wl_trace *t;
	wl_error err;
	if (!wl_generate(c.pos[0], params, &t, &err)) {
		ib_fail(&e, "%s", err.message);
		ib_cli_free(&c);
		return ib_usage_error("gen", &e);
	}
	int rc = emit(t, c.out);
	wl_trace_free(t);
	ib_cli_free(&c);
	return rc;
}

int ib_cmd_import(int argc, char **argv)
{
	ib_cli c;
	ib_error e;
	if (!ib_cli_parse(argc, argv, CLI_OUT | CLI_STRICT, &c, &e))
		return ib_usage_error("import", &e);
	if (c.help || c.npos < 2) {
		FILE *f = c.help ? stdout : stderr;
		fprintf(f, "usage: iovabench import FORMAT FILE [key=value ...] [--strict] [-o OUT]\n\n"
			   "Converts a real trace to iovatrace 1, written to OUT or standard output. Problems (frees of\n"
			   "unknown ids, zero sizes, unreadable lines) are counted and reported on standard error; --strict\n"
			   "stops at the first one.\n\nFormats:\n");
		for (size_t i = 0; i < wl_import_count(); i++)
			fprintf(f, "  %-12s %s%s%s\n", wl_import_name(i), wl_import_description(i),
				*wl_import_params(i) ? "; parameters: " : "", wl_import_params(i));
		fprintf(f, "  (PyTorch snapshots: workloads/tools/pytorch_snapshot.py)\n\nExamples:\n"
			   "  iovabench import minimalloc ../shared/traces/minimalloc/A.1048576.csv -o a.trace\n"
			   "  iovabench import ftrace trace.txt as=alloc --strict | iovabench replay -\n");
		bool h = c.help;
		ib_cli_free(&c);
		if (h)
			return EXIT_OK;
		ib_fail(&e, "import needs a format and a file");
		return ib_usage_error("import", &e);
	}
	bool known = false;
	for (size_t i = 0; i < wl_import_count(); i++)
		known |= strcmp(wl_import_name(i), c.pos[0]) == 0;
	if (!known) {
		char list[256] = "";
		for (size_t i = 0; i < wl_import_count(); i++) {
			strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
			strncat(list, wl_import_name(i), sizeof list - strlen(list) - 1);
		}
		ib_fail(&e, "unknown import format '%s' (known: %s)", c.pos[0], list);
		ib_cli_free(&c);
		return ib_usage_error("import", &e);
	}
	if (!ib_file_exists(c.pos[1])) {
		ib_fail(&e, "%s: no such file", c.pos[1]);
		ib_cli_free(&c);
		return ib_usage_error("import", &e);
	}
	char params[4096];
	join_params(&c, 2, params, sizeof params);
	wl_import_options io = {.strict = c.strict, .params = params[0] ? params : NULL};
	wl_import_report rep;
	wl_trace *t;
	wl_error err;
	if (!wl_import_file(c.pos[0], c.pos[1], &io, &t, &rep, &err)) {
		ib_fail(&e, "%s", err.message);
		ib_cli_free(&c);
		return ib_usage_error("import", &e);
	}
	wl_import_report_print(&rep, stderr);
	int rc = emit(t, c.out);
	wl_trace_free(t);
	ib_cli_free(&c);
	return rc;
}
