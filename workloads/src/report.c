/* SPDX-License-Identifier: MIT */
/* report.c - a human-readable replay summary, fio-like. */
#include <inttypes.h>

#include "wl_replay.h"

static void print_hist(FILE *f, const char *label, const wl_hist *h)
{
	wl_hist_summary s;
	wl_hist_summarize(h, &s);
	fprintf(f,
		"  %-9s n=%-10" PRIu64 " min=%" PRIu64 " mean=%.1f stddev=%.1f p50=%" PRIu64 " p90=%" PRIu64
		" p99=%" PRIu64 " p99.9=%" PRIu64 " p99.99=%" PRIu64 " max=%" PRIu64 " (ns)\n",
		label, s.count, s.min, s.mean, s.stddev, s.p50, s.p90, s.p99, s.p999, s.p9999, s.max);
}

void wl_replay_print(const wl_replay_result *r, FILE *f)
{
	double secs = (double)r->elapsed_ns / 1e9;
	fprintf(f, "replay: %u worker(s), %u loop(s), %" PRIu64 " ops in %.3f s (%.0f ops/s)\n", r->workers, r->loops,
		r->ops, secs, secs > 0 ? (double)r->ops / secs : 0.0);
	for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++)
		if (r->latency[k].count)
			print_hist(f, wl_op_kind_name((wl_op_kind)k), &r->latency[k]);
	if (r->all_latency.count)
		print_hist(f, "all", &r->all_latency);
	if (r->failed) {
		fprintf(f, "  failures: %" PRIu64 "\n", r->failed);
		for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++)
			for (unsigned why = 0; why < WL_FAIL_REASON_COUNT; why++)
				if (r->failures[k][why])
					fprintf(f, "    %-9s %-13s %" PRIu64 "\n", wl_op_kind_name((wl_op_kind)k),
						wl_fail_reason_name((wl_fail_reason)why), r->failures[k][why]);
	}
	if (r->cross_waits)
		fprintf(f, "  cross-worker waits: %" PRIu64 "\n", r->cross_waits);
	if (r->lag.count) {
		fprintf(f, "  schedule %.3f s; behind schedule: max %" PRIu64 " ns, at the end %" PRIu64
			   " ns, %" PRIu64 " late op(s)\n",
			(double)r->schedule_ns / 1e9, r->lag_max_ns, r->lag_final_ns, r->late_ops);
		print_hist(f, "lag", &r->lag);
	}
	if (r->stopped)
		fprintf(f, "  stopped at the first failure: %s\n", r->stop_reason);
}
