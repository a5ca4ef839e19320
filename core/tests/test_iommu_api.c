/* The IOMMU part of the public API: configuration checks and defaults, and
 * bad input - each gets its own error and changes nothing. */
#include "check.h"
#include "iova.h"

#include <string.h>

#define PAGE 4096u

static iova_status try_create(iova_iommu_config ic, uint64_t size, iova_domain **d)
{
	iova_domain_config cfg = {.size = size, .iommu = &ic};
	return iova_domain_create(&cfg, d);
}

static void test_configs(void)
{
	const iova_iommu_config bad[] = {
		{.policy = (iova_inval_policy)99},
		{.clock = (iova_clock_mode)5},
		{.iotlb_replacement = (iova_iotlb_replacement)7},
		{.flags = 1u << 5},
		{.pt_levels = 1},
		{.pt_levels = 7},
		{.pt_entries_log2 = 13},
		{.iotlb_sets = 48},
		{.iotlb_sets = 1u << 17},
		{.iotlb_ways = 65},
		{.fq_entries = 100},
		{.fq_entries = 1u << 21},
		{.fq_timeout_us = UINT64_C(1) << 40},
		{.cycles_per_us = 2000000},
		{.pt_levels = 2}, /* 2 x 9 bits of 4 KiB granules reach 1 GiB, not 16 GiB */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		iova_domain *d = (iova_domain *)1;
		CHECK_MSG(try_create(bad[i], UINT64_C(1) << 34, &d) == IOVA_ERR_INVALID_ARGUMENT, "bad config %zu accepted", i);
		CHECK(d == NULL);
	}
	iova_domain *d;
	CHECK_STATUS(try_create((iova_iommu_config){.pt_levels = 2}, UINT64_C(1) << 30, &d), IOVA_OK);
	iova_domain_destroy(d);

	/* Zero means default; the config reports what is used. */
	CHECK_STATUS(try_create((iova_iommu_config){0}, UINT64_C(1) << 34, &d), IOVA_OK);
	const iova_iommu_config *c = iova_domain_get_config(d).iommu;
	CHECK(c != NULL);
	CHECK_EQ(c->policy, IOVA_INVAL_STRICT);
	CHECK_EQ(c->clock, IOVA_CLOCK_MODELLED);
	CHECK_EQ(c->pt_levels, 4);
	CHECK_EQ(c->pt_entries_log2, 9);
	CHECK_EQ(c->iotlb_sets, 64);
	CHECK_EQ(c->iotlb_ways, 4);
	CHECK_EQ(c->fq_entries, 256);
	CHECK_EQ(c->fq_timeout_us, 10000);
	CHECK_EQ(c->cycles_per_us, 2000);
	CHECK_EQ(c->costs.inv_submit + c->costs.inv_wait, 2100);
	CHECK_EQ(c->costs.iotlb_lookup, IOVA_IOMMU_ZERO);
	CHECK_EQ(c->costs.line_transfer, 100);
	iova_domain_destroy(d);
	CHECK_STATUS(try_create((iova_iommu_config){.policy = IOVA_INVAL_GLOBAL_QUEUE}, UINT64_C(1) << 34, &d), IOVA_OK);
	c = iova_domain_get_config(d).iommu;
	CHECK_EQ(c->fq_entries, 32768);
	CHECK_EQ(c->fq_timeout_us, 1000000);
	iova_domain_destroy(d);

	/* No IOMMU asked for: none there. */
	iova_domain_config plain = {.size = UINT64_C(1) << 30};
	CHECK_STATUS(iova_domain_create(&plain, &d), IOVA_OK);
	CHECK(iova_domain_get_config(d).iommu == NULL);
	iova_domain_destroy(d);
}

static iova_domain *make(iova_inval_policy policy)
{
	iova_domain *d = NULL;
	CHECK_STATUS(try_create((iova_iommu_config){.policy = policy}, UINT64_C(1) << 34, &d), IOVA_OK);
	return d;
}

static uint64_t live(const iova_domain *d)
{
	iova_stats s;
	iova_domain_stats(d, &s);
	return s.live_allocations;
}

static void test_no_iommu(void)
{
	iova_domain_config cfg = {.size = UINT64_C(1) << 30};
	iova_domain *d;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	iova_request r = {.size = PAGE};
	iova_allocation a;
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_ERR_NO_IOMMU);
	CHECK_EQ(a.iova | a.size, 0);
	CHECK_EQ(live(d), 0);
	CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
	CHECK_STATUS(iova_map(d, a.handle), IOVA_ERR_NO_IOMMU);
	CHECK_STATUS(iova_unmap(d, a.handle), IOVA_ERR_NO_IOMMU);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_ERR_NO_IOMMU);
	iova_dma_request q = {.op = IOVA_DMA_FILL, .dst = a.iova, .bytes = PAGE};
	CHECK_STATUS(iova_device_dma(d, &q, NULL), IOVA_ERR_NO_IOMMU);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_ERR_NO_IOMMU);
	iova_iommu_statistics s;
	CHECK_STATUS(iova_iommu_stats(d, &s), IOVA_ERR_NO_IOMMU);
	uint64_t phys;
	CHECK_STATUS(iova_translate(d, a.iova, &phys), IOVA_ERR_NO_IOMMU);
	CHECK_EQ(iova_iommu_now(d), 0);
	iova_iommu_charge(d, 100);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK); /* the bare domain is unchanged */
	iova_domain_destroy(d);
	CHECK_STATUS(iova_map(NULL, a.handle), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_STATUS(iova_iommu_stats(NULL, &s), IOVA_ERR_INVALID_ARGUMENT);
}

static void test_handles_and_states(iova_inval_policy policy)
{
	iova_domain *d = make(policy);
	iova_request r = {.size = 3 * PAGE};
	iova_allocation a;
	CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
	iova_handle forged = a.handle;
	forged.opaque[0] ^= 1u << 20;
	CHECK_STATUS(iova_map(d, forged), IOVA_ERR_FORGED_HANDLE);
	CHECK_STATUS(iova_unmap(d, forged), IOVA_ERR_FORGED_HANDLE);
	CHECK_STATUS(iova_unmap_free(d, forged), IOVA_ERR_FORGED_HANDLE);

	CHECK_STATUS(iova_unmap(d, a.handle), IOVA_ERR_NOT_MAPPED);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_ERR_NOT_MAPPED);
	CHECK_EQ(live(d), 1); /* nothing was freed */
	CHECK_STATUS(iova_map(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_map(d, a.handle), IOVA_ERR_ALREADY_MAPPED);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_ERR_STILL_MAPPED);
	CHECK_EQ(live(d), 1);

	uint64_t p0, p1, p2;
	if (policy == IOVA_INVAL_NONE) { /* passthrough: nothing to translate */
		CHECK_STATUS(iova_translate(d, a.iova, &p0), IOVA_ERR_NO_IOMMU);
	} else {
		CHECK_STATUS(iova_translate(d, a.iova + 123, &p0), IOVA_OK);
		CHECK_STATUS(iova_translate(d, a.iova + PAGE, &p1), IOVA_OK);
		CHECK_STATUS(iova_translate(d, a.iova + 3 * PAGE, &p2), IOVA_ERR_NOT_MAPPED);
		CHECK_EQ(p0 & (PAGE - 1), 123);
		CHECK_EQ(p1, p0 - 123 + PAGE); /* frames are contiguous */
		CHECK_STATUS(iova_translate(d, UINT64_C(1) << 40, &p2), IOVA_ERR_NOT_MAPPED);
	}
	CHECK_STATUS(iova_translate(d, a.iova, NULL), IOVA_ERR_INVALID_ARGUMENT);

	iova_iommu_statistics s;
	CHECK_STATUS(iova_iommu_stats(d, &s), IOVA_OK);
	CHECK_EQ(s.maps, 1);
	CHECK_EQ(s.map_errors, 2);
	CHECK_EQ(s.unmap_errors, 4);
	CHECK_EQ(s.unmaps, 0);

	/* The mapping survived every refusal. */
	iova_dma_request q = {.op = IOVA_DMA_FILL, .dst = a.iova, .bytes = 3 * PAGE};
	CHECK_STATUS(iova_device_dma(d, &q, NULL), IOVA_OK);
	CHECK_STATUS(iova_unmap(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	iova_stats ds;
	iova_domain_stats(d, &ds);
	CHECK_EQ(ds.free_bytes, ds.total_bytes);
	CHECK_EQ(ds.failed_frees, 1);
	iova_domain_destroy(d);
}

static void test_dma_errors(void)
{
	iova_domain *d = make(IOVA_INVAL_PERCPU_QUEUE);
	iova_request r = {.size = 2 * PAGE};
	iova_allocation a;
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
	iova_dma_result res;
	const iova_dma_request bad[] = {
		{.op = (iova_dma_op)5, .dst = a.iova, .bytes = PAGE},
		{.op = IOVA_DMA_FILL, .dst = a.iova, .bytes = 0},
		{.op = IOVA_DMA_FILL, .dst = UINT64_MAX - 10, .bytes = PAGE},
		{.op = IOVA_DMA_TRANSFER, .src = UINT64_MAX, .dst = a.iova, .bytes = 2},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_MSG(iova_device_dma(d, &bad[i], &res) == IOVA_ERR_INVALID_ARGUMENT, "bad dma %zu accepted", i);
	CHECK_STATUS(iova_device_dma(d, NULL, &res), IOVA_ERR_INVALID_ARGUMENT);

	/* One page too far: the device stops at the first blocked access. */
	iova_dma_request q = {.op = IOVA_DMA_FILL, .dst = a.iova + 100, .bytes = 2 * PAGE};
	CHECK_STATUS(iova_device_dma(d, &q, &res), IOVA_ERR_DEVICE_FAULT);
	CHECK_EQ(res.accesses, 3);
	CHECK_EQ(res.faults, 1);
	CHECK_EQ(res.fault_iova, a.iova + 2 * PAGE);
	/* Outside the domain. */
	q = (iova_dma_request){.op = IOVA_DMA_FILL, .dst = UINT64_C(1) << 40, .bytes = 8};
	CHECK_STATUS(iova_device_dma(d, &q, &res), IOVA_ERR_DEVICE_FAULT);
	CHECK_EQ(res.fault_iova, UINT64_C(1) << 40);
	/* TRANSFER reads the source, then writes the destination, page by page. */
	q = (iova_dma_request){.op = IOVA_DMA_TRANSFER, .src = a.iova, .dst = a.iova + 64 * PAGE, .bytes = PAGE};
	CHECK_STATUS(iova_device_dma(d, &q, &res), IOVA_ERR_DEVICE_FAULT);
	CHECK_EQ(res.accesses, 2);
	CHECK_EQ(res.fault_iova, a.iova + 64 * PAGE);
	q = (iova_dma_request){.op = IOVA_DMA_TRANSFER, .src = a.iova, .dst = a.iova + PAGE, .bytes = PAGE};
	CHECK_STATUS(iova_device_dma(d, &q, &res), IOVA_OK);
	CHECK_EQ(res.accesses, 2);
	CHECK_EQ(res.faults, 0);
	CHECK(res.cycles > 0 || res.iotlb_misses == 0);

	iova_iommu_statistics s;
	CHECK_STATUS(iova_iommu_stats(d, &s), IOVA_OK);
	CHECK_EQ(s.dma_faults, 3);
	CHECK_EQ(s.oracle_violations, 0);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	iova_domain_destroy(d); /* with the range still queued: discarded, no leak */
}

static void test_alloc_map_failure(void)
{
	iova_domain *d;
	CHECK_STATUS(try_create((iova_iommu_config){0}, 16 * PAGE, &d), IOVA_OK);
	iova_request r = {.size = 16 * PAGE};
	iova_allocation a, b;
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
	CHECK_STATUS(iova_alloc_map(d, &r, &b), IOVA_ERR_NO_SPACE);
	CHECK_EQ(b.iova | b.size, 0);
	r.size = 0;
	CHECK_STATUS(iova_alloc_map(d, &r, &b), IOVA_ERR_ZERO_SIZE);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	CHECK_EQ(live(d), 0);
	iova_domain_destroy(d);
}

static void test_names(void)
{
	const iova_status added[] = {IOVA_ERR_NOT_MAPPED, IOVA_ERR_ALREADY_MAPPED, IOVA_ERR_STILL_MAPPED,
				     IOVA_ERR_DEVICE_FAULT, IOVA_ERR_NO_IOMMU};
	for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
		const char *n = iova_status_name(added[i]);
		CHECK(n && !strncmp(n, "IOVA_ERR_", 9));
		CHECK(strcmp(iova_status_message(added[i]), "unknown status code") != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(n, iova_status_name(added[j])) != 0);
	}
	CHECK(!strcmp(iova_inval_policy_name(IOVA_INVAL_STRICT), "strict"));
	CHECK(!strcmp(iova_inval_policy_name(IOVA_INVAL_PERCPU_QUEUE), "percpu"));
	CHECK(!strcmp(iova_inval_policy_name(IOVA_INVAL_GLOBAL_QUEUE), "global"));
	CHECK(!strcmp(iova_inval_policy_name(IOVA_INVAL_NONE), "none"));
	CHECK(iova_inval_policy_name(IOVA_INVAL_POLICY_COUNT) == NULL);
	CHECK(!strcmp(iova_clock_mode_name(IOVA_CLOCK_SPIN), "spin"));
	CHECK(iova_clock_mode_name(IOVA_CLOCK_MODE_COUNT) == NULL);
}

int main(void)
{
	test_configs();
	test_no_iommu();
	for (int p = 0; p < IOVA_INVAL_POLICY_COUNT; p++)
		test_handles_and_states((iova_inval_policy)p);
	test_dma_errors();
	test_alloc_map_failure();
	test_names();
	return check_exit_code();
}
