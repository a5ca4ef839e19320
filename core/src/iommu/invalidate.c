/* SPDX-License-Identifier: MIT */
/*
 * invalidate.c - the IOMMU's invalidation queue: submitting an IOTLB
 * invalidation and waiting for its completion.
 *
 * The hardware processes invalidations one at a time, from every CPU, so a
 * CPU may wait for others' invalidations before its own starts (the
 * scalability limit of strict mode). Modelled: the hardware is a server in
 * virtual time (clk_server(), hw_busy_until); a CPU submits at its clock +
 * inv_submit, the invalidation starts when the server is free (waiting at
 * most one invalidation per other CPU) and completes inv_wait later, and the
 * CPU's clock jumps to the completion. Spin: the invalidation's cost
 * is spent while holding hw_lock, so waiting for the hardware is waiting for
 * the lock.
 *
 * The IOTLB is scrubbed during the invalidation, and the oracle hears of it
 * only once it has completed.
 */
#include "iommu.h"

enum scope { SCOPE_PAGES, SCOPE_DOMAIN };

static uint64_t hw_run(struct iommu *m, struct iommu_cpu *c, unsigned slot, enum scope scope, uint64_t g, uint64_t n)
{
	uint64_t q;
	if (m->cfg.clock == IOVA_CLOCK_MODELLED) {
		clk_charge(m, c, slot, m->cost.inv_submit, C_CYC_INV);
		q = scope == SCOPE_PAGES ? iotlb_inv_pages(&m->tlb, m->did, g, n) : iotlb_inv_domain(&m->tlb, m->did);
		const uint64_t start =
			clk_server(m, &m->hw_busy_until, clk_now(m, c), m->cost.inv_wait, m->cost.inv_wait, NULL);
		clk_wait_until(m, c, slot, start, C_CYC_INV_QUEUEING);
		clk_charge(m, c, slot, m->cost.inv_wait, C_CYC_INV);
	} else {
		const uint64_t t0 = clk_real_now(m);
		spin_lock(&m->hw_lock);
		cpu_add(c, C_CYC_INV_QUEUEING, clk_real_now(m) - t0, slot);
		clk_charge(m, c, slot, m->cost.inv_submit + m->cost.inv_wait, C_CYC_INV);
		q = scope == SCOPE_PAGES ? iotlb_inv_pages(&m->tlb, m->did, g, n) : iotlb_inv_domain(&m->tlb, m->did);
		spin_unlock(&m->hw_lock);
	}
	return q;
}

uint64_t hw_inv_pages(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n)
{
	const uint64_t q = hw_run(m, c, slot, SCOPE_PAGES, g, n);
	if (m->oracle_on)
		oracle_inv_pages(&m->oracle, g, n, q);
	cpu_add(c, C_INV_PAGE, 1, slot);
	return clk_now(m, c);
}

uint64_t hw_inv_domain(struct iommu *m, struct iommu_cpu *c, unsigned slot)
{
	const uint64_t q = hw_run(m, c, slot, SCOPE_DOMAIN, 0, 0);
	if (m->oracle_on)
		oracle_inv_all(&m->oracle, q);
	cpu_add(c, C_INV_DOMAIN, 1, slot);
	return clk_now(m, c);
}
