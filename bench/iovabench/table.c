/* SPDX-License-Identifier: MIT */
/*
 * table.c - the summary table printed at the end of a run (and kept as
 * summary.txt): one line per job with its median throughput, the p99 of its
 * allocations (or of its maps, for workloads that allocate by mapping), the
 * largest free extent the last complete pass left, failed requests and
 * requests the strategy could not honour.
 */
#include <string.h>

#include "iovabench.h"

/* The options besides strategy, workload, invalidation and threads whose
 * value differs between jobs of @job's section, as "name=value ...". */
static void variant(const ib_plan *plan, const ib_job *job, char *out, size_t n)
{
	static const char *const extra[] = {"fq_entries", "fq_timeout", "domain_size", "placement", "clock"};
	out[0] = '\0';
	bool queued = job->policy == IOVA_INVAL_PERCPU_QUEUE || job->policy == IOVA_INVAL_GLOBAL_QUEUE;
	for (size_t d = 0; d < sizeof extra / sizeof extra[0]; d++) {
		if (d < 2 && !queued)
			continue; /* queue options mean nothing to strict and none */
		const char *v = ib_optset_get(&job->opts, extra[d]);
		bool varies = false;
		for (size_t i = 0; i < plan->njobs && !varies; i++)
			varies = !strcmp(plan->jobs[i].section, job->section) &&
				 strcmp(ib_optset_get(&plan->jobs[i].opts, extra[d]), v) != 0;
		if (varies) {
			size_t l = strlen(out);
			snprintf(out + l, n - l, "%s%s=%s", l ? " " : "", extra[d], v);
		}
	}
}

void ib_table_print(const ib_run *run, FILE *f)
{
	const ib_plan *plan = run->plan;
	bool any_map = false;
	fprintf(f, "%-20s %-24s %-8s %3s %10s %11s %13s %9s %11s\n", "strategy", "workload", "policy", "thr", "ops/s",
		"p99 alloc", "largest free", "failed", "unsupported");
	const char *last_section = NULL, *last_wl = NULL;
	for (size_t i = 0; i < plan->njobs; i++) {
		const ib_job *j = &plan->jobs[i];
		const ib_job_result *r = &run->results[i];
		if (last_section && (strcmp(last_section, j->section) || strcmp(last_wl, j->wl_label)))
			fputc('\n', f);
		if (!last_section || strcmp(last_section, j->section))
			fprintf(f, "[%s]\n", j->section);
		last_section = j->section;
		last_wl = j->wl_label;
		char rate[32] = "-", p99[32] = "-", largest[32] = "-", failed[32] = "-", unsup[32] = "-";
		if (r->nreps) {
			ib_format_si(r->median_ops_per_s, rate, sizeof rate);
			const wl_hist_summary *s = &r->lat_sum[WL_OP_ALLOC];
			bool map = false;
			if (!s->count && r->lat_sum[WL_OP_MAP].count) {
				s = &r->lat_sum[WL_OP_MAP];
				map = any_map = true;
			}
			if (s->count) {
				ib_format_ns((double)s->p99, p99, sizeof p99);
				if (map)
					strcat(p99, "*");
			}
			snprintf(failed, sizeof failed, "%llu", (unsigned long long)r->failed);
			snprintf(unsup, sizeof unsup, "%llu", (unsigned long long)r->unsupported);
		}
		if (r->end_valid)
			ib_format_bytes(r->end.largest_free_extent, largest, sizeof largest);
		char wl[64];
		snprintf(wl, sizeof wl, "%.60s", j->wl_label);
		char pol[40];
		snprintf(pol, sizeof pol, "%s", j->policy_name);
		char var[256];
		variant(plan, j, var, sizeof var);
		fprintf(f, "%-20s %-24.24s %-8s %3u %10s %11s %13s %9s %11s", j->strategy, wl, pol, j->threads, rate, p99,
			largest, failed, unsup);
		if (var[0])
			fprintf(f, "  %s", var);
		if (r->state != JOB_COMPLETE)
			fprintf(f, "  %s", ib_job_state_name(r->state));
		if (r->iommu.oracle_violations)
			fprintf(f, "  ORACLE VIOLATIONS: %llu", (unsigned long long)r->iommu.oracle_violations);
		bool cut = false;
		for (unsigned k = 0; k < r->nreps; k++)
			cut |= r->reps[k].cut;
		if (cut && r->state == JOB_COMPLETE)
			fprintf(f, "  (capped by runtime)");
		fputc('\n', f);
	}
	fprintf(f, "\nops/s: median over repetitions; p99 alloc: 99th percentile of allocation latency%s;\n"
		   "largest free: largest free extent after the last complete pass; failed: allocations refused for\n"
		   "lack of space or an unsatisfiable constraint; unsupported: requests the strategy cannot honour.\n",
		any_map ? " (* of map: the workload allocates its IOVAs by mapping)" : "");
}
