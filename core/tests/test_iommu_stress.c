/* Multi-threaded stress of map/unmap/free/DMA under each policy and clock
 * mode: every thread checks its own allocations against its own reference
 * model (test_iommu_model.h) while the others churn the same domain, flush
 * it, and let the flush-queue timer fire; at the end the oracle must have
 * seen no violation and everything must be back in the strategy. */
#include "test_iommu_model.h"

#include <pthread.h>
#include <stdio.h>

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define STEPS 6000
#else
#define STEPS 40000
#endif
#define THREADS 4

struct worker {
	iova_domain *d;
	uint64_t seed;
	bool large;
};

static void *work(void *p)
{
	struct worker *w = p;
	struct model m = {.d = w->d, .rng = w->seed, .large = w->large};
	for (int s = 0; s < STEPS; s++) {
		model_step(&m);
		if (s % 256 == 0)
			model_check(&m);
		const uint64_t r = model_rand(&m) % 1000;
		if (r == 0)
			CHECK_STATUS(iova_iommu_flush(w->d), IOVA_OK); /* drains the others' queues */
		else if (r < 20)
			iova_iommu_charge(w->d, 50000); /* driver work: lets the timer fire */
	}
	model_drain(&m);
	return NULL;
}

static void run(iova_iommu_config ic, const char *strategy)
{
	char what[128];
	snprintf(what, sizeof what, "%s/%s/fq %u/%s", iova_inval_policy_name(ic.policy),
		 iova_clock_mode_name(ic.clock), ic.fq_entries, strategy ? strategy : "default");
	iova_domain_config cfg = {.size = UINT64_C(1) << 36, .strategy = strategy, .iommu = &ic};
	iova_domain *d;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	pthread_t t[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){d, 0x1234567ull * (uint64_t)(i + 1) ^ (uint64_t)ic.policy << 40, i % 2 == 0};
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	check_quiescent(d, what);
	iova_domain_destroy(d);
}

int main(void)
{
	/* Cheap spin costs: contention is real, the run stays short. */
	const iova_iommu_costs cheap = {.inv_submit = 20, .inv_wait = 100, .pte_write = IOVA_IOMMU_ZERO,
					.walk_level = IOVA_IOMMU_ZERO, .queue_op = IOVA_IOMMU_ZERO};
	for (int p = 0; p < IOVA_INVAL_UNSAFE_EARLY_RELEASE; p++) {
		const iova_inval_policy policy = (iova_inval_policy)p;
		/* Small queues and a short timeout: full-queue flushes, timer
		 * flushes and cross-CPU drains all race the owners. */
		run((iova_iommu_config){.policy = policy, .fq_entries = 8, .fq_timeout_us = 50}, NULL);
		run((iova_iommu_config){.policy = policy, .clock = IOVA_CLOCK_SPIN, .fq_entries = 16,
					.fq_timeout_us = 20, .costs = cheap},
		    NULL);
		run((iova_iommu_config){.policy = policy, .iotlb_sets = 4, .iotlb_ways = 2,
					.flags = IOVA_IOMMU_NO_L2_LEAVES | IOVA_IOMMU_NO_L3_LEAVES},
		    NULL);
	}
	return check_exit_code();
}
