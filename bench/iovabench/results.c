/* SPDX-License-Identifier: MIT */
/*
 * results.c - the run's folder and the files of each job:
 *
 *   <output>/<YYYYmmdd-HHMMSS>-<name>/
 *     summary.json               summary.c
 *     job.ini                    the job file as given (when there was one)
 *     timeseries/<slug>.csv      one row per sample, every repetition
 *     hgrm/<slug>/<kind>.hgrm    latency histograms, merged
 *     hgrm/<slug>/<kind>.thread<N>.hgrm   per worker thread (threads > 1)
 *     plots/                     plot.c
 *   <output>/latest -> <YYYYmmdd-HHMMSS>-<name>
 *
 * Every file is written atomically (temporary name, then rename).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iovabench.h"

bool ib_run_create_dir(ib_run *run, ib_error *e)
{
	if (!ib_mkdir_p(run->root, e))
		return false;
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	struct tm g;
	gmtime_r(&now, &g);
	strftime(run->started, sizeof run->started, "%Y-%m-%dT%H:%M:%SZ", &g);
	for (unsigned n = 1; n < 1000; n++) {
		if (n == 1)
			snprintf(run->dir, sizeof run->dir, "%.3900s/%s-%s", run->root, stamp, run->name);
		else
			snprintf(run->dir, sizeof run->dir, "%.3900s/%s-%u-%s", run->root, stamp, n, run->name);
		if (mkdir(run->dir, 0777) == 0)
			goto made;
		if (errno != EEXIST) {
			ib_fail(e, "%s: cannot create the folder: %s", run->dir, strerror(errno));
			return false;
		}
	}
	ib_fail(e, "%s: too many runs in the same second", run->root);
	return false;
made:;
	char sub[4200];
	snprintf(sub, sizeof sub, "%s/timeseries", run->dir);
	if (!ib_mkdir_p(sub, e))
		return false;
	snprintf(sub, sizeof sub, "%s/hgrm", run->dir);
	return ib_mkdir_p(sub, e);
}

static bool write_series(const ib_run *run, const ib_job *job, const ib_job_result *r, ib_error *e)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/timeseries/%s.csv", run->dir, job->slug);
	ib_afile a;
	if (!ib_afile_open(&a, path, e))
		return false;
	FILE *f = a.f;
	fprintf(f, "rep,t_s,final,ops,ops_per_s,requests,failed,fail_rate,free_bytes,largest_free_extent,"
		   "largest_free_block,free_extents,external_frag,internal_frag,live_allocations,allocated_bytes,"
		   "requested_bytes");
	for (unsigned i = 0; i < job->norders; i++)
		fprintf(f, ",unusable_o%u", job->orders[i]);
	for (unsigned i = 0; i < job->norders; i++)
		fprintf(f, ",fragindex_o%u", job->orders[i]);
	fprintf(f, ",iotlb_hit_rate,inv_page,inv_domain,flushes,ranges_pending,stale_hits\n");
	for (size_t i = 0; i < r->series.n; i++) {
		const ib_sample *s = &r->series.rows[i];
		const ib_frag *g = &s->frag;
		fprintf(f, "%u,%.6f,%d,%llu,%.1f,%llu,%llu,%.6f,%llu,%llu,%llu,%llu,%.6f,%.6f,%llu,%llu,%llu", s->rep, s->t,
			s->final, (unsigned long long)s->ops, s->ops_per_s, (unsigned long long)s->requests,
			(unsigned long long)s->failed, s->fail_rate, (unsigned long long)g->free_bytes,
			(unsigned long long)g->largest_free_extent, (unsigned long long)g->largest_free_block,
			(unsigned long long)g->free_extents, g->external, g->internal, (unsigned long long)g->live,
			(unsigned long long)g->allocated_bytes, (unsigned long long)g->requested_bytes);
		for (unsigned k = 0; k < job->norders; k++)
			fprintf(f, ",%.6f", g->unusable[k]);
		for (unsigned k = 0; k < job->norders; k++)
			fprintf(f, ",%.6f", g->fragindex[k]);
		fprintf(f, ",%.6f,%llu,%llu,%llu,%llu,%llu\n", s->iotlb_hit_rate, (unsigned long long)s->inv_page,
			(unsigned long long)s->inv_domain, (unsigned long long)s->flushes,
			(unsigned long long)s->ranges_pending, (unsigned long long)s->stale_hits);
	}
	return ib_afile_commit(&a, e);
}

static bool write_hgrm(const char *path, const wl_hist *h, ib_error *e)
{
	ib_afile a;
	if (!ib_afile_open(&a, path, e))
		return false;
	ib_hgrm_write(h, a.f);
	return ib_afile_commit(&a, e);
}

bool ib_results_write_job(const ib_run *run, size_t index, ib_error *e)
{
	const ib_job *job = &run->plan->jobs[index];
	const ib_job_result *r = &run->results[index];
	if (!write_series(run, job, r, e))
		return false;
	char dir[4400];
	snprintf(dir, sizeof dir, "%s/hgrm/%s", run->dir, job->slug);
	bool any = r->all != NULL;
	if (!any)
		return true;
	if (!ib_mkdir_p(dir, e))
		return false;
	char path[4600];
	for (unsigned k = 0; k < IB_KINDS; k++) {
		if (!r->lat[k])
			continue;
		const char *kind = wl_op_kind_name((wl_op_kind)k);
		snprintf(path, sizeof path, "%s/%s.hgrm", dir, kind);
		if (!write_hgrm(path, r->lat[k], e))
			return false;
		if (r->nthreads > 1)
			for (unsigned t = 0; t < r->nthreads && t < 64; t++)
				if (r->lat_thread[t][k]) {
					snprintf(path, sizeof path, "%s/%s.thread%u.hgrm", dir, kind, t);
					if (!write_hgrm(path, r->lat_thread[t][k], e))
						return false;
				}
	}
	snprintf(path, sizeof path, "%s/all.hgrm", dir);
	return write_hgrm(path, r->all, e);
}

bool ib_results_link_latest(const ib_run *run, ib_error *e)
{
	char link[4200], tmp[4300];
	snprintf(link, sizeof link, "%s/latest", run->root);
	snprintf(tmp, sizeof tmp, "%s/latest.tmp.%ld", run->root, (long)getpid());
	const char *base = strrchr(run->dir, '/');
	base = base ? base + 1 : run->dir;
	unlink(tmp);
	if (symlink(base, tmp) != 0 || rename(tmp, link) != 0) {
		ib_fail(e, "%s: cannot point it at %s: %s", link, base, strerror(errno));
		unlink(tmp);
		return false;
	}
	return true;
}
