/* Differential test: random map/unmap/free/DMA sequences against the
 * reference model (test_iommu_model.h), under every policy and page-table
 * shape, with the end state every policy must reach. */
#include "test_iommu_model.h"

#include <stdio.h>

static void run(iova_iommu_config ic, bool large, int steps, uint64_t seed)
{
	char what[96];
	snprintf(what, sizeof what, "%s flags %u fq %u", iova_inval_policy_name(ic.policy), ic.flags, ic.fq_entries);
	iova_domain_config cfg = {.size = UINT64_C(1) << 36, .iommu = &ic};
	struct model m = {.rng = seed, .large = large};
	CHECK_STATUS(iova_domain_create(&cfg, &m.d), IOVA_OK);
	for (int s = 0; s < steps; s++) {
		model_step(&m);
		if (s % 64 == 0) {
			model_check(&m);
			iova_stats ds;
			iova_domain_stats(m.d, &ds);
			CHECK_EQ(ds.live_allocations, model_live(&m));
		}
		if (s % 997 == 0)
			CHECK_STATUS(iova_iommu_flush(m.d), IOVA_OK);
	}
	model_drain(&m);
	CHECK_STATUS(iova_iommu_flush(m.d), IOVA_OK);
	check_quiescent(m.d, what);
	iova_domain_destroy(m.d);
}

int main(void)
{
	for (int p = 0; p < IOVA_INVAL_UNSAFE_EARLY_RELEASE; p++) {
		const iova_inval_policy policy = (iova_inval_policy)p;
		run((iova_iommu_config){.policy = policy}, true, 20000, 0x9e3779b97f4a7c15ull + (uint64_t)p);
		run((iova_iommu_config){.policy = policy, .fq_entries = 8}, false, 20000, 12345 + (uint64_t)p);
		run((iova_iommu_config){.policy = policy, .flags = IOVA_IOMMU_NO_L2_LEAVES | IOVA_IOMMU_NO_L3_LEAVES,
					.fq_entries = 16},
		    true, 20000, 777 + (uint64_t)p);
		run((iova_iommu_config){.policy = policy, .pt_levels = 5, .pt_entries_log2 = 6, .iotlb_sets = 4,
					.iotlb_ways = 2, .iotlb_replacement = IOVA_IOTLB_RANDOM, .fq_entries = 4},
		    true, 20000, 4242 + (uint64_t)p);
	}
	return check_exit_code();
}
