/* SPDX-License-Identifier: MIT */
/* cmd_plot.c - `iovabench plot RESULTS_DIR`: (re)draw a run's figures. */
#include "iovabench.h"

int ib_cmd_plot(int argc, char **argv)
{
	ib_cli c;
	ib_error e;
	if (!ib_cli_parse(argc, argv, 0, &c, &e))
		return ib_usage_error("plot", &e);
	if (c.help) {
		printf("usage: iovabench plot RESULTS_DIR\n\n"
		       "Writes RESULTS_DIR/plots/: the data and a gnuplot script per figure, and renders them as PNG and SVG\n"
		       "when gnuplot is installed. Edit a script and re-render it with `cd RESULTS_DIR/plots && gnuplot\n"
		       "NAME.gp`. Figures: latency CDFs and percentile spectra per strategy, throughput against threads,\n"
		       "fragmentation over time, the invalidation trade-off, failure rate against occupancy.\n\n"
		       "Example:\n  iovabench plot results/latest\n");
		ib_cli_free(&c);
		return EXIT_OK;
	}
	if (c.npos != 1) {
		ib_fail(&e, "plot needs one results folder, got %d", c.npos);
		ib_cli_free(&c);
		return ib_usage_error("plot", &e);
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", c.pos[0]);
	ib_cli_free(&c);
	char path[4200];
	snprintf(path, sizeof path, "%s/summary.json", dir);
	if (!ib_file_exists(path)) {
		ib_fail(&e, "%s: no summary.json (not a results folder?)", dir);
		return ib_usage_error("plot", &e);
	}
	char note[1024] = "";
	if (!ib_plot_results(dir, ib_gnuplot_found(), note, sizeof note, &e)) {
		fprintf(stderr, "iovabench plot: %s\n", e.msg);
		return EXIT_FAILURE_RUN;
	}
	printf("plots: %s\n", note);
	return EXIT_OK;
}
