/* Job files and the matrix: parsing (sections, comments, continuation
 * lines), precedence (defaults < [global] < section < command line), list
 * expansion and its order, job ids, and bad files: every error names the
 * file, the line and the option, and says what would be valid. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iovabench.h"

/* Parses @text as t.ini, then builds the plan with command-line @args
 * (NULL-terminated). Returns false with @e on the first error. */
static bool plan_from(const char *text, const char *const *args, ib_plan *plan, ib_jobfile *jf, ib_error *e)
{
	char *argv[32] = {"run"};
	int argc = 1;
	for (; args && args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	ib_cli cli;
	if (!ib_cli_parse(argc, argv, CLI_JOB, &cli, e))
		return false;
	bool ok = true;
	if (text)
		ok = ib_jobfile_parse("t.ini", text, jf, e);
	if (ok)
		ok = ib_plan_build(text ? jf : NULL, &cli, "t", plan, e);
	if (!ok && text)
		ib_jobfile_free(jf);
	ib_cli_free(&cli);
	return ok;
}

static void done(ib_plan *plan, ib_jobfile *jf, bool had_file)
{
	ib_plan_free(plan);
	if (had_file)
		ib_jobfile_free(jf);
}

/* Expects failure with every @needle in the message. */
static void expect_error(const char *text, const char *const *args, const char *n1, const char *n2, const char *n3)
{
	ib_plan plan;
	ib_jobfile jf;
	ib_error e = {""};
	bool ok = plan_from(text, args, &plan, &jf, &e);
	CHECK_MSG(!ok, "accepted: %s", text ? text : "(command line)");
	if (ok) {
		done(&plan, &jf, text != NULL);
		return;
	}
	const char *needles[] = {n1, n2, n3};
	for (int i = 0; i < 3; i++)
		if (needles[i])
			CHECK_MSG(strstr(e.msg, needles[i]) != NULL, "error '%s' lacks '%s'", e.msg, needles[i]);
}

static const char *const good =
	"; the jobs of a test\n"
	"# comments both ways\n"
	"[global]\n"
	"strategy = buddy-lf\n"
	"invalidation = strict, batched\n"
	"threads = 1, 2       ; inline comment\n"
	"repetitions = 2\n"
	"name = mytest\n"
	"\n"
	"[a]\n"
	"workload = fragmenter(count=64 large=16K requests=2), streaming-dma(packets=10 cpus=1)\n"
	"domain_size = 4M\n"
	"\n"
	"[b]\n"
	"workload = gpu-frame(frames=2 resident=2 transients=2)\n"
	"invalidation = percpu\n"
	"fq_entries = 16,\n"
	"    64\n"
	"threads = 1\n"
	"[c]\n";

static void matrix(void)
{
	ib_plan plan;
	ib_jobfile jf;
	ib_error e;
	bool ok = plan_from(good, NULL, &plan, &jf, &e);
	CHECK_MSG(ok, "%s", e.msg);
	if (!ok)
		return;
	/* a: 2 workloads x 2 policies x 2 threads; b: 2 queue sizes; c: global values */
	CHECK_EQ(plan.njobs, 8 + 2 + 4);
	CHECK(!strcmp(ib_optset_get(&plan.run, "name"), "mytest"));
	const char *ids[] = {
		"a:fragmenter/strict/buddy-lf/t1/domain_size=4M",    "a:fragmenter/strict/buddy-lf/t2/domain_size=4M",
		"a:fragmenter/batched/buddy-lf/t1/domain_size=4M",   "a:fragmenter/batched/buddy-lf/t2/domain_size=4M",
		"a:streaming-dma/strict/buddy-lf/t1/domain_size=4M", "a:streaming-dma/strict/buddy-lf/t2/domain_size=4M",
		"a:streaming-dma/batched/buddy-lf/t1/domain_size=4M", "a:streaming-dma/batched/buddy-lf/t2/domain_size=4M",
		"b:gpu-frame/percpu/buddy-lf/t1/fq_entries=16",      "b:gpu-frame/percpu/buddy-lf/t1/fq_entries=64",
		"c:gpu-frame/strict/buddy-lf/t1",                     "c:gpu-frame/strict/buddy-lf/t2",
		"c:gpu-frame/batched/buddy-lf/t1",                    "c:gpu-frame/batched/buddy-lf/t2",
	};
	for (size_t i = 0; i < plan.njobs && i < 14; i++) {
		const ib_job *j = &plan.jobs[i];
		CHECK_MSG(!strcmp(j->id, ids[i]), "job %zu: %s, want %s", i, j->id, ids[i]);
		CHECK_EQ(j->index, i + 1);
		CHECK_EQ(j->repetitions, 2);
		CHECK(j->wl != NULL && j->wl->trace != NULL);
	}
	CHECK_EQ(plan.jobs[0].domain_size, 4 << 20);
	CHECK_EQ(plan.jobs[8].domain_size, 64ull << 30); /* the default */
	CHECK_EQ(plan.jobs[8].fq_entries, 16);
	CHECK_EQ(plan.jobs[9].fq_entries, 64);
	CHECK_EQ(plan.jobs[2].policy, IOVA_INVAL_PERCPU_QUEUE);
	CHECK(!strcmp(plan.jobs[2].policy_name, "batched"));
	/* jobs with one workload share it */
	CHECK(plan.jobs[0].wl == plan.jobs[3].wl && plan.jobs[0].wl != plan.jobs[4].wl);
	CHECK(strncmp(plan.jobs[0].slug, "001-a-fragmenter-strict-buddy-lf-t1", 35) == 0);
	/* where values came from */
	CHECK(!strcmp(ib_optset_where(&plan.jobs[0].opts, "domain_size"), "t.ini:12"));
	CHECK(!strcmp(ib_optset_where(&plan.jobs[0].opts, "repetitions"), "t.ini:7"));
	done(&plan, &jf, true);

	/* The command line overrides the file; --job selects sections. */
	const char *args[] = {"--threads=1", "--repetitions=1", "--job=a,c", NULL};
	ok = plan_from(good, args, &plan, &jf, &e);
	CHECK_MSG(ok, "%s", e.msg);
	if (ok) {
		CHECK_EQ(plan.njobs, 4 + 2);
		CHECK(!strcmp(plan.jobs[4].section, "c"));
		CHECK_EQ(plan.jobs[5].repetitions, 1);
		CHECK(!strcmp(ib_optset_where(&plan.jobs[0].opts, "threads"), "--threads"));
		done(&plan, &jf, true);
	}

	/* Strict ignores queue sizes: one job, not three. threads=1,all: two jobs
	 * unless the machine has one core. */
	ok = plan_from("[q]\nworkload = fragmenter(count=64)\ninvalidation = strict, global\nfq_entries = 16, 64, 256\n"
		       "threads = 1, all\n",
		       NULL, &plan, &jf, &e);
	CHECK_MSG(ok, "%s", e.msg);
	if (ok) {
		unsigned t = ib_topo_get()->cores > 1 ? 2 : 1;
		CHECK_EQ(plan.njobs, (1 + 3) * t);
		done(&plan, &jf, true);
	}

	/* No job section: one job named after the file; no file at all: the command line. */
	ok = plan_from("[global]\nworkload = fragmenter(count=64)\n", NULL, &plan, &jf, &e);
	CHECK_MSG(ok && plan.njobs == 1 && !strcmp(plan.jobs[0].section, "t"), "%s", ok ? plan.jobs[0].id : e.msg);
	if (ok)
		done(&plan, &jf, true);
	const char *cli_only[] = {"--workload=fragmenter(count=64)", "--strategy=buddy-lf", "--seed=3", NULL};
	ok = plan_from(NULL, cli_only, &plan, &jf, &e);
	CHECK_MSG(ok && plan.njobs == 1 && plan.jobs[0].seed == 3, "%s", e.msg);
	if (ok)
		done(&plan, &jf, false);

	/* A strategy this build lacks: skipped when asked, and said. */
	ok = plan_from("[global]\nunavailable = skip\n[s]\nworkload = fragmenter(count=64)\nstrategy = buddy-lf, no-such-one\n",
		       NULL, &plan, &jf, &e);
	CHECK_MSG(ok, "%s", e.msg);
	if (ok) {
		CHECK_EQ(plan.njobs, 1);
		CHECK(plan.nskipped == 1 && !strcmp(plan.skipped_strategies[0], "no-such-one"));
		bool said = false;
		for (size_t i = 0; i < plan.nnotices; i++)
			said |= strstr(plan.notices[i], "no-such-one") != NULL;
		CHECK(said);
		done(&plan, &jf, true);
	}

	/* A missing trace with a fallback: the fallback runs, and it is said. */
	ok = plan_from("[r]\nworkload = import:minimalloc:/nonexistent/A.1048576.csv\n"
		       "fallback_workload = fragmenter(count=64)\n",
		       NULL, &plan, &jf, &e);
	CHECK_MSG(ok, "%s", e.msg);
	if (ok) {
		CHECK(plan.jobs[0].wl->fallback);
		CHECK(!strcmp(plan.jobs[0].wl_label, "fragmenter"));
		CHECK(plan.nnotices >= 1 && strstr(plan.notices[0], "/nonexistent/A.1048576.csv") &&
		      strstr(plan.notices[0], "fragmenter(count=64)"));
		done(&plan, &jf, true);
	}
	/* replicate=threads: one copy of the trace per thread */
	ok = plan_from("[r]\nworkload = fragmenter(count=64)\nreplicate = threads\nthreads = 2\n", NULL, &plan, &jf, &e);
	CHECK_MSG(ok, "%s", e.msg);
	if (ok) {
		CHECK_EQ(plan.jobs[0].wl->streams, 2);
		CHECK_EQ(plan.jobs[0].wl->ops, 2 * (64 + 32 + 64 + 64 + 32));
		done(&plan, &jf, true);
	}
}

static void bad_files(void)
{
	expect_error("[a]\nworkload = fragmenter\nthread = 2\n", NULL, "t.ini:3:", "unknown option 'thread'",
		     "did you mean 'threads'");
	expect_error("[a]\nthreads = two\n", NULL, "t.ini:2:", "'two'", "a number from 1 to 64, or all");
	expect_error("[a]\nthreads = 1, 0\n", NULL, "t.ini:2:", "'0'", "outside");
	expect_error("[a]\ninvalidation = lazy\n", NULL, "t.ini:2:", "'lazy'", "strict, batched, percpu, global, none");
	expect_error("[a]\noutput = elsewhere\n", NULL, "t.ini:2:", "'output'", "[global]");
	expect_error("[a]\nseed = 1\nseed = 2\n", NULL, "t.ini:3:", "set twice", "t.ini:2");
	expect_error("[a]\n[b]\n[a]\n", NULL, "t.ini:3:", "[a] is defined twice", "line 1");
	expect_error("seed = 1\n[a]\n", NULL, "t.ini:1:", "before any section", NULL);
	expect_error("[a]\nthis line has no equals sign\n", NULL, "t.ini:2:", "expected", NULL);
	expect_error("[a]\nstrategy = buddy-lf,,buddy-lf\n", NULL, "t.ini:2:", "empty item", NULL);
	expect_error("[a]\nworkload = no-such-generator\n", NULL, "t.ini:2:", "unknown generator 'no-such-generator'",
		     "fragmenter");
	expect_error("[a]\nworkload = import:nosuchformat:x.csv\n", NULL, "t.ini:2:", "unknown import format",
		     "minimalloc");
	expect_error("[a]\nfq_entries = 100\n", NULL, "t.ini:2:", "power of two", NULL);
	expect_error("[a]\ngranule = 3K\n", NULL, "t.ini:2:", "granule", "4K to 64K");
	expect_error("[a]\ninterval = 10us\n", NULL, "t.ini:2:", "interval", "1ms");
	char longline[400];
	snprintf(longline, sizeof longline, "[a]\nworkload = fragmenter(%0300d)\n", 0);
	expect_error(longline, NULL, "t.ini:2:", "longer than", NULL);
	/* found while building the plan */
	expect_error("[a]\nworkload = fragmenter(count=64)\nstrategy = no-such-strategy\n", NULL, "t.ini:3:",
		     "strategy 'no-such-strategy' is not in this build", "buddy-lf");
	expect_error("[a]\nworkload = fragmenter(nosuch=1)\n", NULL, "t.ini:2:", "nosuch", NULL);
	expect_error("[a]\nworkload = trace:/nonexistent/x.trace\n", NULL, "t.ini:2:", "/nonexistent/x.trace", NULL);
	expect_error("[a]\nworkload = fragmenter(count=64)\ntime_based = 1\n", NULL, "t.ini:3:", "runtime", NULL);
	expect_error("[a]\nworkload = fragmenter(count=64)\ndomain_size = 12345\n", NULL, "t.ini:3:", "granule", NULL);
	expect_error("[a]\nworkload = fragmenter(count=64)\n", (const char *const[]){"--job=zzz", NULL}, "--job",
		     "'zzz'", "sections: a");
	/* the command line */
	expect_error(NULL, (const char *const[]){"--threds=2", NULL}, "--threds", "did you mean '--threads'", NULL);
	expect_error(NULL, (const char *const[]){"--repetitions=0", NULL}, "--repetitions", "'0'", "1 to 1000");
	expect_error(NULL, (const char *const[]){"--seed", NULL}, "--seed needs a value", NULL, NULL);
	expect_error(NULL, (const char *const[]){"--seed=1", "--seed=2", NULL}, "--seed is given twice", NULL, NULL);
	expect_error(NULL, (const char *const[]){"-x", NULL}, "unknown option '-x'", NULL, NULL);
}

int main(void)
{
	matrix();
	bad_files();
	return check_exit_code();
}
