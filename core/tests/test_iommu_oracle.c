/* The safety oracle: its rules on their own, the deliberately broken policy
 * it must catch, every correct policy it must pass while IOVAs really are
 * reused, and the vulnerability window it measures. */
#include "check.h"
#include "iommu/oracle.h"

#include <stdlib.h>
#include <string.h>

#define PAGE 4096u

static void test_rules(void)
{
	struct oracle o;
	CHECK_STATUS(oracle_init(&o, 100, 1000), IOVA_OK);
	struct oracle_result r = {0};

	/* Full flushes: one that started after the unmap (seq > 3) cleans it. */
	oracle_handout(&o, 100, 4, 12, &r);
	oracle_map(&o, 100, 4, 50, 12, &r);
	CHECK(!oracle_stale(&o, 101, 51));
	CHECK(oracle_stale(&o, 101, 50));
	oracle_unmap(&o, 100, 4, 3);
	CHECK(oracle_stale(&o, 101, 51));
	oracle_release(&o, 100, 4);
	oracle_inv_all(&o, 3);
	oracle_handout(&o, 100, 4, 12, &r);
	CHECK_EQ(r.checks, 12);
	CHECK_EQ(r.violations, 4);
	CHECK_EQ(r.overlaps, 0);
	CHECK_EQ(atomic_load(&o.first_violation) & ~UINT64_C(1), 100u << 12);
	oracle_release(&o, 100, 4);
	oracle_inv_all(&o, 4);
	memset(&r, 0, sizeof r);
	oracle_handout(&o, 100, 4, 12, &r);
	CHECK_EQ(r.violations, 0);

	/* Page-selective: only the invalidated granules, only if it started later. */
	oracle_map(&o, 200, 4, 70, 12, &r);
	oracle_unmap(&o, 200, 4, 7);
	oracle_inv_pages(&o, 200, 2, 7);
	oracle_inv_pages(&o, 201, 2, 8);
	memset(&r, 0, sizeof r);
	oracle_map(&o, 200, 4, 80, 12, &r); /* remapping while 200 and 203 may be cached */
	CHECK_EQ(r.violations, 2);

	/* Handing out what is still held is an overlap (a strategy bug). */
	memset(&r, 0, sizeof r);
	oracle_handout(&o, 300, 2, 12, &r);
	oracle_handout(&o, 300, 2, 12, &r);
	CHECK_EQ(r.overlaps, 2);
	oracle_fini(&o);
}

static iova_domain *make(iova_iommu_config *ic)
{
	iova_domain_config cfg = {.size = UINT64_C(1) << 32, .iommu = ic};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	return d;
}

static iova_iommu_statistics stats(const iova_domain *d)
{
	iova_iommu_statistics s;
	CHECK_STATUS(iova_iommu_stats(d, &s), IOVA_OK);
	return s;
}

static iova_status fill(iova_domain *d, uint64_t iova, uint64_t bytes, iova_dma_result *res)
{
	iova_dma_request q = {.op = IOVA_DMA_FILL, .dst = iova, .bytes = bytes};
	return iova_device_dma(d, &q, res);
}

/* Released before the flush: the same IOVA comes straight back while the
 * IOTLB still translates it to the old frames. */
static void test_broken_policy(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_UNSAFE_EARLY_RELEASE};
	iova_domain *d = make(&ic);
	iova_request r = {.size = 4 * PAGE};
	iova_allocation a, b;
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
	CHECK_STATUS(fill(d, a.iova, r.size, NULL), IOVA_OK);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	bool reused = false;
	for (int i = 0; i < 64 && !reused; i++) {
		CHECK_STATUS(iova_alloc_map(d, &r, &b), IOVA_OK);
		reused = b.iova == a.iova;
		if (!reused)
			CHECK_STATUS(iova_unmap_free(d, b.handle), IOVA_OK);
	}
	CHECK_MSG(reused, "the strategy never handed the IOVA out again");
	iova_iommu_statistics s = stats(d);
	CHECK(s.oracle_violations >= 4);
	CHECK_EQ(s.oracle_first_violation, a.iova);
	/* The consequence: the device writes the new buffer into the old frames. */
	iova_dma_result res;
	CHECK_STATUS(fill(d, b.iova, r.size, &res), IOVA_OK);
	CHECK_EQ(res.stale_hits, 4);
	iova_domain_destroy(d);
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Streaming DMA with rogue accesses after each unmap: no violation, no stale
 * hit on a live mapping, and IOVAs really are handed out again. */
static void test_correct_policy(iova_inval_policy policy)
{
	enum { OPS = 3000 };
	iova_iommu_config ic = {.policy = policy, .fq_entries = 64};
	iova_domain *d = make(&ic);
	static uint64_t seen[OPS];
	uint64_t rogue_stale = 0;
	for (int i = 0; i < OPS; i++) {
		iova_request r = {.size = PAGE * (1 + next_rand() % 16)};
		iova_allocation a;
		CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
		seen[i] = a.iova;
		iova_dma_result res;
		CHECK_STATUS(fill(d, a.iova, r.size, &res), IOVA_OK);
		CHECK_EQ(res.stale_hits, 0);
		CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
		iova_status st = fill(d, a.iova, PAGE, &res); /* a late, rogue access */
		rogue_stale += res.stale_hits;
		if (policy == IOVA_INVAL_STRICT)
			CHECK_STATUS(st, IOVA_ERR_DEVICE_FAULT);
	}
	qsort(seen, OPS, sizeof seen[0], cmp_u64);
	int reuses = 0;
	for (int i = 1; i < OPS; i++)
		reuses += seen[i] == seen[i - 1];
	CHECK_MSG(reuses > OPS / 2, "%s: only %d reuses", iova_inval_policy_name(policy), reuses);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.oracle_violations, 0);
	CHECK_EQ(s.oracle_overlaps, 0);
	CHECK_EQ(s.stale_hits, rogue_stale);
	if (policy == IOVA_INVAL_STRICT || policy == IOVA_INVAL_NONE)
		CHECK_EQ(rogue_stale, 0);
	else
		CHECK(rogue_stale > 0); /* the window is real */
	if (policy != IOVA_INVAL_NONE)
		CHECK(s.oracle_checks > 0);
	iova_domain_destroy(d);
}

/* One thread, modelled clock: @ops of streaming DMA with @think cycles of
 * driver work each; returns the window statistics. */
static iova_iommu_statistics stream(iova_iommu_config ic, int ops, uint64_t think)
{
	iova_domain *d = make(&ic);
	for (int i = 0; i < ops; i++) {
		iova_request r = {.size = PAGE};
		iova_allocation a;
		CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
		CHECK_STATUS(fill(d, a.iova, PAGE, NULL), IOVA_OK);
		CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
		iova_iommu_charge(d, think);
	}
	iova_iommu_statistics s = stats(d);
	iova_domain_destroy(d);
	return s;
}

static void test_window_curve(void)
{
	/* Queue size: the window grows with it. */
	uint64_t prev = 0;
	for (uint32_t entries = 16; entries <= 1024; entries *= 4) {
		iova_iommu_statistics s =
			stream((iova_iommu_config){.policy = IOVA_INVAL_PERCPU_QUEUE, .fq_entries = entries}, 4096, 0);
		CHECK_MSG(s.window_p50 > prev, "entries %u: p50 %" PRIu64 " <= %" PRIu64, entries, s.window_p50, prev);
		CHECK_EQ(s.oracle_violations, 0);
		prev = s.window_p50;
	}
	/* Timeout (a queue too large to fill): the window follows it. */
	prev = 0;
	for (uint64_t us = 100; us <= 10000; us *= 10) {
		iova_iommu_statistics s = stream(
			(iova_iommu_config){.policy = IOVA_INVAL_GLOBAL_QUEUE, .fq_timeout_us = us}, 2000, 20000);
		CHECK(s.flushes_timeout > 0);
		CHECK_EQ(s.flushes_full, 0);
		CHECK_MSG(s.window_max >= us * 2000 && s.window_max <= us * 2000 + 30000,
			  "timeout %" PRIu64 " us: max %" PRIu64, us, s.window_max);
		CHECK(s.window_p50 > prev);
		prev = s.window_p50;
	}
	/* Strict: the window is the invalidation, nothing more. */
	iova_iommu_statistics s = stream((iova_iommu_config){.policy = IOVA_INVAL_STRICT}, 100, 0);
	CHECK_EQ(s.window_max, 2100);
	CHECK_EQ(s.window_count, 100);
}

struct hist_sum {
	uint64_t count, last_hi;
	bool ordered;
};

static void add_bucket(void *ctx, uint64_t lo, uint64_t hi, uint64_t count)
{
	struct hist_sum *h = ctx;
	h->ordered &= lo <= hi && (h->count == 0 || lo > h->last_hi);
	h->last_hi = hi;
	h->count += count;
}

static void test_histogram_export(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_PERCPU_QUEUE, .fq_entries = 32};
	iova_domain *d = make(&ic);
	for (int i = 0; i < 500; i++) {
		iova_request r = {.size = PAGE};
		iova_allocation a;
		CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
		CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	}
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	struct hist_sum h = {0, 0, true};
	iova_iommu_window_histogram(d, add_bucket, &h);
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(h.count, s.window_count);
	CHECK_EQ(s.window_count, 500);
	CHECK(h.ordered);
	CHECK(s.window_p50 <= s.window_p90 && s.window_p90 <= s.window_p99 && s.window_p99 <= s.window_max);
	iova_domain_destroy(d);
}

int main(void)
{
	test_rules();
	test_broken_policy();
	test_correct_policy(IOVA_INVAL_STRICT);
	test_correct_policy(IOVA_INVAL_PERCPU_QUEUE);
	test_correct_policy(IOVA_INVAL_GLOBAL_QUEUE);
	test_correct_policy(IOVA_INVAL_NONE);
	test_window_curve();
	test_histogram_export();
	return check_exit_code();
}
