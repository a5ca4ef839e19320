/* The runner on small jobs with two worker threads (label concurrent: also
 * under TSan, with the sampler reading while workers run): every operation
 * of every pass is measured once, per-thread histograms add up to the
 * merged ones, the time series starts and ends, the end state is the one
 * the last pass left, the IOMMU figures are those of the measured passes,
 * a runtime cap cuts a repetition short, an interruption stops the job. */
#include <string.h>

#include "check.h"
#include "iovabench.h"

static bool plan(const char *const *args, ib_plan *p)
{
	char *argv[32] = {"run"};
	int argc = 1;
	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	ib_cli cli;
	ib_error e;
	bool ok = ib_cli_parse(argc, argv, CLI_JOB, &cli, &e) && ib_plan_build(NULL, &cli, "t", p, &e);
	CHECK_MSG(ok, "%s", e.msg);
	ib_cli_free(&cli);
	return ok;
}

static void progress(void *ctx, uint64_t ops, double rate)
{
	(void)rate;
	uint64_t *calls = ctx;
	(*calls)++;
	(void)ops;
}

static void streaming_two_threads(void)
{
	ib_plan p;
	const char *args[] = {"--workload=streaming-dma(cpus=2 packets=3000 ring=64 remote=0.3)", "--threads=2",
			      "--invalidation=batched", "--repetitions=2", "--loops=3", "--interval=1ms",
			      "--domain_size=256M", NULL};
	if (!plan(args, &p))
		return;
	uint64_t calls = 0;
	ib_run_hooks hooks = {.progress = progress, .ctx = &calls};
	ib_job_result r;
	ib_run_job(&p.jobs[0], &hooks, &r);
	CHECK_MSG(r.state == JOB_COMPLETE, "state %s: %s", ib_job_state_name(r.state), r.error);
	CHECK_EQ(r.nreps, 2);
	CHECK_EQ(r.workers, 2);
	uint64_t per_pass = p.jobs[0].wl->ops; /* maps and unmaps only */
	CHECK_EQ(per_pass, 2 * 2 * 3000);
	for (unsigned i = 0; i < r.nreps; i++) {
		CHECK_EQ(r.reps[i].ops, 3 * per_pass);
		CHECK_EQ(r.reps[i].passes, 3);
		CHECK(!r.reps[i].cut);
		CHECK(r.reps[i].elapsed_ns > 0 && r.reps[i].ops_per_s > 0);
		CHECK(r.reps[i].p50_ns <= r.reps[i].p99_ns);
		CHECK_EQ(r.reps[i].requests, 3 * per_pass / 2);
	}
	CHECK_EQ(r.count[WL_OP_MAP], 2 * 3 * per_pass / 2);
	CHECK_EQ(r.status[WL_OP_MAP][IOVA_OK], r.count[WL_OP_MAP]);
	CHECK_EQ(r.status[WL_OP_UNMAP][IOVA_OK], r.count[WL_OP_UNMAP]);
	CHECK_EQ(r.failed + r.unsupported + r.skipped[WL_OP_UNMAP], 0);
	CHECK(r.median_ops_per_s >= r.min_ops_per_s && r.median_ops_per_s <= r.max_ops_per_s);
	/* histograms: merged = sum over threads; all = sum over kinds */
	CHECK(r.lat[WL_OP_MAP] && r.lat[WL_OP_UNMAP] && r.all);
	if (r.lat[WL_OP_MAP]) {
		CHECK_EQ(r.lat[WL_OP_MAP]->count, r.count[WL_OP_MAP]);
		uint64_t sum = 0;
		for (unsigned t = 0; t < 2; t++)
			sum += r.lat_thread[t][WL_OP_MAP] ? r.lat_thread[t][WL_OP_MAP]->count : 0;
		CHECK_EQ(sum, r.count[WL_OP_MAP]);
		CHECK(r.lat_thread[0][WL_OP_MAP] && r.lat_thread[1][WL_OP_MAP]); /* both threads worked */
		CHECK_EQ(r.lat_sum[WL_OP_MAP].count, r.count[WL_OP_MAP]);
		CHECK_EQ(r.thread_sum[0 * IB_KINDS + WL_OP_MAP].count + r.thread_sum[1 * IB_KINDS + WL_OP_MAP].count,
			 r.count[WL_OP_MAP]);
	}
	if (r.all)
		CHECK_EQ(r.all->count, r.count[WL_OP_MAP] + r.count[WL_OP_UNMAP]);
	/* time series: a first row at t = 0 and a final row per repetition */
	unsigned finals = 0, starts = 0;
	for (size_t i = 0; i < r.series.n; i++) {
		finals += r.series.rows[i].final;
		starts += r.series.rows[i].t == 0 || (r.series.rows[i].ops == 0 && !r.series.rows[i].final);
		CHECK(r.series.rows[i].frag.total_bytes == 256 << 20);
		if (i && r.series.rows[i].rep == r.series.rows[i - 1].rep)
			CHECK(r.series.rows[i].ops >= r.series.rows[i - 1].ops);
	}
	CHECK_EQ(finals, 2);
	CHECK(starts >= 2);
	CHECK(calls >= 4); /* progress reported from the sampler */
	if (r.series.n)
		CHECK_EQ(r.series.rows[r.series.n - 1].ops, 3 * per_pass);
	/* the end of the last pass: every packet unmapped (the trace drains its
	 * rings), some IOVAs possibly still waiting in flush queues */
	CHECK(r.end_valid);
	CHECK_EQ(r.end.live, 0);
	CHECK(r.worst_valid && r.worst.largest_free_extent <= r.end.largest_free_extent);
	/* IOMMU figures: the measured passes only */
	CHECK(r.iommu.present);
	CHECK_EQ(r.iommu.maps, r.count[WL_OP_MAP]);
	CHECK_EQ(r.iommu.unmaps, r.count[WL_OP_UNMAP]);
	CHECK_EQ(r.iommu.oracle_violations + r.iommu.oracle_overlaps + r.iommu.release_errors, 0);
	CHECK(r.iommu.ranges_queued > 0 && r.iommu.window && r.iommu.window->count > 0);
	ib_job_result_free(&r);
	ib_plan_free(&p);
}

/* Requests that fail for lack of room: failures by size, and the skipped
 * operations of the buffers that were never allocated. */
static void failures(void)
{
	ib_plan p;
	const char *args[] = {"--workload=fragmenter(count=256 large=64K requests=8)", "--threads=1",
			      "--domain_size=1M", "--repetitions=1", "--warmup=0", NULL};
	if (!plan(args, &p))
		return;
	ib_job_result r;
	ib_run_job(&p.jobs[0], NULL, &r);
	CHECK(r.state == JOB_COMPLETE);
	/* 256 x 4K fill the 1M domain; freeing every other page leaves no 64K run */
	CHECK_EQ(r.failed, 8);
	CHECK_EQ(r.failed_by_size[16], 8);
	CHECK_EQ(r.req_by_size[16], 8);
	CHECK_EQ(r.req_by_size[12], 256);
	CHECK_EQ(r.skipped[WL_OP_FREE], 8); /* the frees of the large blocks never allocated */
	CHECK_EQ(r.status[WL_OP_ALLOC][IOVA_ERR_NO_SPACE], 8);
	CHECK(r.end_valid && r.end.live == 0);
	ib_job_result_free(&r);
	ib_plan_free(&p);
}

/* A runtime cap that has passed before the first operation: the repetition
 * is marked cut and nothing is measured; an interruption stops the job. */
static void cut_and_interrupt(void)
{
	ib_plan p;
	const char *args[] = {"--workload=streaming-dma(cpus=2 packets=2000)", "--threads=2", "--runtime=1ns",
			      "--repetitions=2", "--warmup=1", NULL};
	if (!plan(args, &p))
		return;
	ib_job_result r;
	ib_run_job(&p.jobs[0], NULL, &r);
	CHECK(r.state == JOB_COMPLETE);
	CHECK_EQ(r.nreps, 2);
	for (unsigned i = 0; i < r.nreps; i++)
		CHECK(r.reps[i].cut && r.reps[i].ops < 100);
	CHECK(!r.end_valid); /* no pass ran to its end */
	ib_job_result_free(&r);

	ib_interrupted = 2; /* as the SIGINT handler does */
	ib_run_job(&p.jobs[0], NULL, &r);
	CHECK(r.state == JOB_INTERRUPTED);
	CHECK_EQ(r.nreps, 0);
	ib_job_result_free(&r);
	ib_interrupted = 0;
	ib_plan_free(&p);
}

int main(void)
{
	streaming_two_threads();
	failures();
	cut_and_interrupt();
	return check_exit_code();
}
