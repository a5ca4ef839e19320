/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `iovabench run [JOBFILE] [--option=value ...]` and
 * `iovabench replay TRACE|- [--option=value ...]`.
 *
 * Order of events: parse and check everything (usage errors exit 2 before
 * anything is written); create the run folder and write summary.json as
 * "running"; run the jobs, writing each job's files as it ends; write the
 * table, summary.json and the plots; point <output>/latest at the run.
 * Ctrl-C stops the current job's work quickly (see measure.c), skips the
 * rest and the plots, writes what there is marked interrupted, exits 130.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iovabench.h"

static void run_help(FILE *f, bool replay)
{
	if (replay)
		fprintf(f, "usage: iovabench replay TRACE|- [--option=value ...]\n\n"
			   "Replays an iovatrace file (or standard input) as a job: the same options, measurements and\n"
			   "results as `iovabench run` with workload=trace:TRACE.\n\n");
	else
		fprintf(f, "usage: iovabench run [JOBFILE] [--option=value ...] [--job=NAME,...] [--dry-run]\n\n"
			   "Runs the jobs of an INI job file (a [global] section and one section per job, as fio's) and/or\n"
			   "the options given here: the command line overrides the file. Lists (strategy=a,b threads=1,2)\n"
			   "expand to one job per combination. Writes results/<date-time>-<name>/ (summary.json, .hgrm\n"
			   "histograms, CSV time series, plots) and points results/latest at it.\n\n");
	fprintf(f, "Options (the same names in a job file, as name = value):\n");
	for (size_t i = 0; i < ib_option_count(); i++) {
		const ib_option *o = ib_option_at(i);
		char head[64];
		snprintf(head, sizeof head, "--%s=%s", o->name, *o->def ? o->def : "\"\"");
		fprintf(f, "  %-26s %s%s%s\n", head, o->help, o->flags & OPT_LIST ? " [list: one job per value]" : "",
			o->flags & OPT_RUN ? " [run: global]" : "");
	}
	fprintf(f, "  %-26s %s\n", "--job=NAME,...", "run only these sections of the job file");
	fprintf(f, "  %-26s %s\n", "--dry-run", "check everything and list the jobs, run nothing");
	fprintf(f, "\nExamples:\n");
	if (replay)
		fprintf(f, "  iovabench replay my.trace --strategy=buddy-lf --invalidation=strict,batched --threads=1,2\n"
			   "  iovabench gen streaming-dma packets=5000 | iovabench replay - --threads=2\n");
	else
		fprintf(f, "  iovabench run jobs/main.ini                      # the main comparison\n"
			   "  iovabench run jobs/main.ini --strategy=buddy-lf --job=gpu-frame\n"
			   "  iovabench run --workload='fragmenter(count=4096)' --strategy=buddy-lf --repetitions=5\n"
			   "  iovabench run --workload=streaming-dma --invalidation=percpu --fq_entries=16,64,256 --threads=all\n"
			   "  iovabench run jobs/main.ini --dry-run             # what would run\n");
	fprintf(f, "\nExit status: 0 done; 1 the run failed (an oracle violation, a job error, a write error);\n"
		   "2 bad usage (nothing written); 130 interrupted (what was measured is written, marked interrupted).\n");
}

/* The progress line: on a terminal, rewritten in place on stderr. */
typedef struct progress {
	bool on;
	pthread_mutex_t lock;
	const ib_plan *plan;
	unsigned total_reps, done_reps;
	uint64_t t0_ns, last_print_ns;
	const ib_job *job;
	unsigned rep;
	uint64_t ops;
	double rate;
} progress;

static void progress_print(progress *p)
{
	if (!p->on || !p->job)
		return;
	uint64_t now = ib_mono_ns();
	char eta[32] = "?";
	if (p->done_reps) {
		double per = (double)(now - p->t0_ns) / 1e9 / p->done_reps;
		double left = per * (p->total_reps - p->done_reps);
		snprintf(eta, sizeof eta, "%d:%02d", (int)left / 60, (int)left % 60);
	}
	char ops[32], rate[32];
	if (p->ops < 1000)
		snprintf(ops, sizeof ops, "%llu", (unsigned long long)p->ops);
	else
		ib_format_si((double)p->ops, ops, sizeof ops);
	ib_format_si(p->rate, rate, sizeof rate);
	fprintf(stderr, "\r\033[K[%u/%zu] %s rep %u/%u  %s ops  %s ops/s  ETA %s", p->job->index, p->plan->njobs,
		p->job->id, p->rep + 1, p->job->repetitions, ops, rate, eta);
	fflush(stderr);
	p->last_print_ns = now;
}

static void on_job_start(void *ctx, const ib_job *job, unsigned rep)
{
	progress *p = ctx;
	pthread_mutex_lock(&p->lock);
	if (p->job)
		p->done_reps++;
	p->job = job;
	p->rep = rep;
	p->ops = 0;
	p->rate = 0;
	progress_print(p);
	pthread_mutex_unlock(&p->lock);
}

static void on_progress(void *ctx, uint64_t ops, double rate)
{
	progress *p = ctx;
	pthread_mutex_lock(&p->lock);
	p->ops = ops;
	p->rate = rate;
	if (ib_mono_ns() - p->last_print_ns > 100000000)
		progress_print(p);
	pthread_mutex_unlock(&p->lock);
}

static void progress_clear(progress *p)
{
	if (p->on) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

static void dry_run(const ib_plan *plan)
{
	printf("%zu job(s):\n", plan->njobs);
	for (size_t i = 0; i < plan->njobs; i++) {
		const ib_job *j = &plan->jobs[i];
		printf("  %3u  %-60s  %s  (%llu ops/pass, %llu stream(s), %u repetition(s))\n", j->index, j->id, j->wl->spec,
		       (unsigned long long)j->wl->ops, (unsigned long long)j->wl->streams, j->repetitions);
	}
}

static void basename_noext(const char *path, char *out, size_t n)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	snprintf(out, n, "%s", b);
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = '\0';
	char s[128];
	ib_slug(out, s, sizeof s);
	snprintf(out, n, "%s", *s ? s : "run");
}

int ib_cmd_run(int argc, char **argv, bool replay)
{
	const char *cmd = replay ? "replay" : "run";
	ib_cli cli;
	ib_error e;
	if (!ib_cli_parse(argc, argv, CLI_JOB, &cli, &e))
		return ib_usage_error(cmd, &e);
	if (cli.help) {
		run_help(stdout, replay);
		ib_cli_free(&cli);
		return EXIT_OK;
	}
	ib_jobfile jf, *jfp = NULL;
	char default_name[128] = "run";
	if (replay) {
		if (cli.npos != 1) {
			if (cli.npos)
				ib_fail(&e, "replay takes one trace (a file or -), got %d arguments", cli.npos);
			else
				ib_fail(&e, "replay needs a trace (a file, or - for standard input)");
			ib_cli_free(&cli);
			return ib_usage_error(cmd, &e);
		}
		int wi = ib_option_find("workload");
		if (cli.opts.value[wi]) {
			ib_fail(&e, "--workload: replay's workload is its TRACE argument");
			ib_cli_free(&cli);
			return ib_usage_error(cmd, &e);
		}
		char spec[4200];
		snprintf(spec, sizeof spec, "trace:%s", cli.pos[0]);
		ib_optset_set(&cli.opts, (size_t)wi, spec, "TRACE");
		snprintf(default_name, sizeof default_name, "replay");
	} else {
		if (cli.npos > 1) {
			ib_fail(&e, "run takes at most one job file, got %d: %s %s...", cli.npos, cli.pos[0], cli.pos[1]);
			ib_cli_free(&cli);
			return ib_usage_error(cmd, &e);
		}
		if (cli.npos == 1) {
			if (!ib_jobfile_load(cli.pos[0], &jf, &e)) {
				ib_cli_free(&cli);
				return ib_usage_error(cmd, &e);
			}
			jfp = &jf;
			basename_noext(cli.pos[0], default_name, sizeof default_name);
		}
	}
	ib_plan plan;
	if (!ib_plan_build(jfp, &cli, default_name, &plan, &e)) {
		if (jfp)
			ib_jobfile_free(jfp);
		ib_cli_free(&cli);
		return ib_usage_error(cmd, &e);
	}
	if (cli.dry_run) {
		for (size_t i = 0; i < plan.nnotices; i++)
			printf("note: %s\n", plan.notices[i]);
		dry_run(&plan);
		ib_plan_free(&plan);
		if (jfp)
			ib_jobfile_free(jfp);
		ib_cli_free(&cli);
		return EXIT_OK;
	}
	for (size_t i = 0; i < plan.nnotices; i++)
		fprintf(stderr, "iovabench: note: %s\n", plan.notices[i]);

	ib_run run;
	memset(&run, 0, sizeof run);
	run.plan = &plan;
	run.argc = argc + 1;
	run.argv = argv - 1; /* "iovabench" */
	snprintf(run.root, sizeof run.root, "%s", ib_optset_get(&plan.run, "output"));
	snprintf(run.name, sizeof run.name, "%s", ib_optset_get(&plan.run, "name"));
	run.state = "running";
	run.results = ib_calloc(plan.njobs, sizeof *run.results);
	int rc = EXIT_OK;
	ib_clock_get();
	ib_topo_get();
	if (!ib_run_create_dir(&run, &e)) {
		rc = ib_usage_error(cmd, &e);
		goto out;
	}
	if (jfp) {
		char path[4200];
		snprintf(path, sizeof path, "%s/job.ini", run.dir);
		if (!ib_write_atomic(path, jfp->text, strlen(jfp->text), &e))
			fprintf(stderr, "iovabench: %s\n", e.msg);
	}
	if (!ib_summary_write(&run, &e)) {
		fprintf(stderr, "iovabench: %s\n", e.msg);
		rc = EXIT_FAILURE_RUN;
		goto out;
	}
	ib_interrupt_install();
	const char *pmode = ib_optset_get(&plan.run, "progress");
	progress prog = {.on = strcmp(pmode, "yes") == 0 || (strcmp(pmode, "auto") == 0 && isatty(2)),
			 .plan = &plan,
			 .t0_ns = ib_mono_ns()};
	pthread_mutex_init(&prog.lock, NULL);
	for (size_t i = 0; i < plan.njobs; i++)
		prog.total_reps += plan.jobs[i].repetitions;
	ib_run_hooks hooks = {.job_start = on_job_start, .progress = on_progress, .ctx = &prog};
	uint64_t t0 = ib_mono_ns();
	bool failed = false;
	for (size_t i = 0; i < plan.njobs && !ib_interrupted; i++) {
		ib_run_job(&plan.jobs[i], &hooks, &run.results[i]);
		ib_job_result *r = &run.results[i];
		if (!ib_results_write_job(&run, i, &e)) {
			progress_clear(&prog);
			fprintf(stderr, "iovabench: %s\n", e.msg);
			failed = true;
		}
		ib_job_result_drop_hists(r);
		if (r->state == JOB_FAILED) {
			progress_clear(&prog);
			fprintf(stderr, "iovabench: job %s failed: %s\n", plan.jobs[i].id, r->error);
			failed = true;
		}
		if (r->iommu.oracle_violations || r->iommu.oracle_overlaps || r->iommu.release_errors) {
			progress_clear(&prog);
			fprintf(stderr,
				"iovabench: ERROR: job %s: the IOMMU safety oracle counted %llu violation(s) (an IOVA reused "
				"while a stale translation could be cached), %llu overlap(s) and %llu release error(s); first "
				"at IOVA 0x%llx. This run FAILS.\n",
				plan.jobs[i].id, (unsigned long long)r->iommu.oracle_violations,
				(unsigned long long)r->iommu.oracle_overlaps, (unsigned long long)r->iommu.release_errors,
				(unsigned long long)r->iommu.oracle_first_violation);
			run.oracle_violations += r->iommu.oracle_violations + r->iommu.oracle_overlaps + r->iommu.release_errors;
			failed = true;
		}
	}
	progress_clear(&prog);
	pthread_mutex_destroy(&prog.lock);
	run.wall_s = (double)(ib_mono_ns() - t0) / 1e9;
	time_t now = time(NULL);
	struct tm g;
	gmtime_r(&now, &g);
	strftime(run.finished, sizeof run.finished, "%Y-%m-%dT%H:%M:%SZ", &g);
	bool interrupted = atomic_load(&ib_interrupted) != 0;
	run.state = interrupted ? "interrupted" : failed ? "failed" : "complete";
	/* The table, on the terminal and in summary.txt. */
	char path[4200];
	snprintf(path, sizeof path, "%s/summary.txt", run.dir);
	ib_afile a;
	if (ib_afile_open(&a, path, &e)) {
		ib_table_print(&run, a.f);
		if (!ib_afile_commit(&a, &e))
			fprintf(stderr, "iovabench: %s\n", e.msg);
	}
	if (!ib_summary_write(&run, &e)) {
		fprintf(stderr, "iovabench: %s\n", e.msg);
		failed = true;
	}
	/* Plots: data and scripts always; rendered when gnuplot is here. */
	const char *pl = ib_optset_get(&plan.run, "plots");
	if (!interrupted && strcmp(pl, "no") != 0) {
		bool have = ib_gnuplot_found();
		if (!have && strcmp(pl, "yes") == 0) {
			fprintf(stderr, "iovabench: plots=yes but gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
			failed = true;
		}
		if (!ib_plot_results(run.dir, have, run.plots_note, sizeof run.plots_note, &e)) {
			fprintf(stderr, "iovabench: plots: %s\n", e.msg);
			snprintf(run.plots_note, sizeof run.plots_note, "plots failed: %.480s", e.msg);
			failed = failed || strcmp(pl, "yes") == 0;
		}
		if (!ib_summary_write(&run, &e)) {
			fprintf(stderr, "iovabench: %s\n", e.msg);
			failed = true;
		}
	} else if (interrupted) {
		snprintf(run.plots_note, sizeof run.plots_note, "not drawn: the run was interrupted (iovabench plot %.400s draws them)",
			 run.dir);
	}
	if (!ib_results_link_latest(&run, &e))
		fprintf(stderr, "iovabench: %s\n", e.msg);
	printf("\n");
	ib_table_print(&run, stdout);
	printf("\n");
	for (size_t i = 0; i < plan.nnotices; i++)
		printf("note: %s\n", plan.notices[i]);
	if (run.oracle_violations)
		printf("ERROR: the IOMMU safety oracle counted violations: see above and summary.json.\n");
	if (interrupted)
		printf("interrupted: the results so far are written, marked interrupted.\n");
	printf("wall time: %.1f s for %zu job(s)\n", run.wall_s, plan.njobs);
	printf("results: %s (%s/latest)\n", run.dir, run.root);
	if (run.plots_note[0])
		printf("plots: %s\n", run.plots_note);
	fflush(stdout);
	rc = interrupted ? EXIT_INTERRUPTED : failed ? EXIT_FAILURE_RUN : EXIT_OK;
out:
	for (size_t i = 0; i < plan.njobs; i++)
		ib_job_result_free(&run.results[i]);
	free(run.results);
	ib_plan_free(&plan);
	if (jfp)
		ib_jobfile_free(jfp);
	ib_cli_free(&cli);
	return rc;
}
