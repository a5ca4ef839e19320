/* SPDX-License-Identifier: MIT */
/* main.c - `iovabench SUBCOMMAND ...`: dispatch, --help, --version. */
#include <string.h>

#include "iovabench.h"

static void help(FILE *f)
{
	fprintf(f, "usage: iovabench SUBCOMMAND [ARGS...]   (iovabench SUBCOMMAND --help for each)\n\n"
		   "  run [JOBFILE] [--opt=v ...]   run a job file and/or options: strategies x workloads x policies x threads\n"
		   "  replay TRACE|- [--opt=v ...]  replay a trace file (or standard input) as a job\n"
		   "  gen GENERATOR [k=v ...] [-o OUT]      write a generated trace\n"
		   "  import FORMAT FILE [k=v ...] [-o OUT] convert a real trace (ftrace, vma, minimalloc, android)\n"
		   "  list [WHAT]                   strategies, generators, importers, invalidation policies, options\n"
		   "  topo                          the machine as hwloc sees it, and the pinning order\n"
		   "  plot RESULTS_DIR              (re)draw a run's plots\n"
		   "  compare DIR_A DIR_B           ratios B/A per job with confidence intervals; exit 1 on a regression\n\n"
		   "Examples:\n"
		   "  iovabench run jobs/main.ini\n"
		   "  iovabench run --workload=fragmenter --strategy=buddy-lf --threads=1,all\n"
		   "  iovabench compare results/run-a results/latest\n");
}

int ib_usage_error(const char *cmd, const ib_error *e)
{
	fprintf(stderr, "iovabench %s: %s\n", cmd, e->msg);
	fprintf(stderr, "iovabench %s: see iovabench %s --help\n", cmd, cmd);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		const ib_buildinfo *b = ib_buildinfo_get();
		printf("iovabench %s (revision %s%s; %s; %s %s)\n", b->version, b->revision, b->dirty ? ", modified" : "",
		       b->compiler, b->build_type, b->c_flags);
		return EXIT_OK;
	}
	argc--, argv++;
	if (!strcmp(cmd, "run"))
		return ib_cmd_run(argc, argv, false);
	if (!strcmp(cmd, "replay"))
		return ib_cmd_run(argc, argv, true);
	if (!strcmp(cmd, "gen"))
		return ib_cmd_gen(argc, argv);
	if (!strcmp(cmd, "import"))
		return ib_cmd_import(argc, argv);
	if (!strcmp(cmd, "list"))
		return ib_cmd_list(argc, argv);
	if (!strcmp(cmd, "topo"))
		return ib_cmd_topo(argc, argv);
	if (!strcmp(cmd, "plot"))
		return ib_cmd_plot(argc, argv);
	if (!strcmp(cmd, "compare"))
		return ib_cmd_compare(argc, argv);
	fprintf(stderr, "iovabench: unknown subcommand '%s' (run, replay, gen, import, list, topo, plot, compare)\n", cmd);
	return EXIT_USAGE;
}
