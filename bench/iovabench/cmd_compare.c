/* SPDX-License-Identifier: MIT */
/* cmd_compare.c - `iovabench compare DIR_A DIR_B`: exit 1 on a significant regression. */
#include "iovabench.h"

int ib_cmd_compare(int argc, char **argv)
{
	ib_cli c;
	ib_error e;
	if (!ib_cli_parse(argc, argv, CLI_THRESHOLD, &c, &e))
		return ib_usage_error("compare", &e);
	if (c.help) {
		printf("usage: iovabench compare DIR_A DIR_B [--threshold=0.05]\n\n"
		       "For each job present in both runs (matched by id), prints the ratios B/A of the median throughput\n"
		       "and of the median p50 and p99 latency, with 95%% bootstrap intervals over the repetitions, and\n"
		       "flags significant regressions: the whole interval beyond the threshold on the bad side.\n\n"
		       "Exit status: 0 no regression, 1 a regression, 2 bad usage (missing folder, not a summary, no\n"
		       "job in common).\n\nExamples:\n  iovabench compare results/20261124-101500-main results/latest\n"
		       "  iovabench compare base/ new/ --threshold=0.10   # in CI: fails on a >10%% regression\n");
		ib_cli_free(&c);
		return EXIT_OK;
	}
	if (c.npos != 2) {
		ib_fail(&e, "compare needs two result folders, got %d", c.npos);
		ib_cli_free(&c);
		return ib_usage_error("compare", &e);
	}
	int n = ib_compare_dirs(c.pos[0], c.pos[1], c.threshold_set ? c.threshold : 0.05, stdout, &e);
	ib_cli_free(&c);
	if (n < 0)
		return ib_usage_error("compare", &e);
	return n ? EXIT_FAILURE_RUN : EXIT_OK;
}
