/* SPDX-License-Identifier: MIT */
/*
 * clock.c - the cost model's clocks.
 *
 * Modelled mode: each CPU (thread slot) has a virtual clock in cycles; a
 * cost is added to it. Nothing real is spent, so a run with one thread is
 * deterministic. Spin mode: the clock is the real monotonic clock (in cycles
 * at cycles_per_us, since the domain's creation) and a cost is spent
 * busy-waiting, so that contention for locks and for the serial invalidation
 * hardware costs real time. Costs below SPIN_QUANTUM are accumulated and
 * spent together, because reading the clock costs about as much as they do.
 */
#include "iommu.h"

#include <time.h>

#define SPIN_QUANTUM 256

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clk_real_now(const struct iommu *m)
{
	return (mono_ns() - m->epoch_ns) * m->cfg.cycles_per_us / 1000u;
}

uint64_t clk_now(const struct iommu *m, struct iommu_cpu *c)
{
	if (m->cfg.clock == IOVA_CLOCK_SPIN)
		return clk_real_now(m);
	return atomic_load_explicit(&c->clock, memory_order_relaxed);
}

static void spin_for(const struct iommu *m, uint64_t cycles)
{
	const uint64_t until = clk_real_now(m) + cycles;
	while (clk_real_now(m) < until)
		cpu_relax();
}

void clk_charge(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t cycles, enum iommu_ctr kind)
{
	if (!cycles)
		return;
	if (IOVA_UNLIKELY(!atomic_load_explicit(&c->active, memory_order_relaxed)) &&
	    !atomic_exchange_explicit(&c->active, true, memory_order_relaxed))
		atomic_fetch_add_explicit(&m->active_cpus, 1, memory_order_relaxed);
	cpu_add(c, kind, cycles, slot);
	cpu_add(c, C_USED, cycles, slot);
	if (m->cfg.clock == IOVA_CLOCK_MODELLED) {
		if (IOVA_UNLIKELY(iova_slot_is_shared(slot)))
			atomic_fetch_add_explicit(&c->clock, cycles, memory_order_relaxed);
		else
			atomic_store_explicit(&c->clock, atomic_load_explicit(&c->clock, memory_order_relaxed) + cycles,
					      memory_order_relaxed);
		return;
	}
	/* Spin: the clock records what was spent. */
	atomic_fetch_add_explicit(&c->clock, cycles, memory_order_relaxed);
	if (cycles < SPIN_QUANTUM && !iova_slot_is_shared(slot)) {
		uint64_t owed = atomic_load_explicit(&c->debt, memory_order_relaxed) + cycles;
		if (owed < SPIN_QUANTUM) {
			atomic_store_explicit(&c->debt, owed, memory_order_relaxed);
			return;
		}
		atomic_store_explicit(&c->debt, 0, memory_order_relaxed);
		cycles = owed;
	}
	spin_for(m, cycles);
}

void clk_wait_until(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t t, enum iommu_ctr kind)
{
	if (m->cfg.clock != IOVA_CLOCK_MODELLED)
		return; /* in spin mode waiting is real */
	uint64_t now = atomic_load_explicit(&c->clock, memory_order_relaxed);
	if (t > now)
		clk_charge(m, c, slot, t - now, kind);
}

/*
 * clk_server() - a shared resource that serves one request at a time, in
 * modelled time: a request arriving at @arrival (the caller's clock) starts
 * when the resource is free and holds it for @service. Returns the start.
 *
 * CPUs' virtual clocks are not synchronised: a CPU that ran ahead in real
 * time leaves busy_until far in the future of a CPU that lagged. Waiting
 * for that gap would be an artefact of the simulation, not queueing, so the
 * wait is bounded by what can physically be ahead: at most one request per
 * other CPU (each CPU waits for its own), of at most @max_service each.
 * The server's capacity is conserved all the same: every request pushes
 * busy_until on by its service, so the resource never serves more than one
 * request per @service of the leading CPU's time.
 * @position: if not NULL, receives where the request sits on the server's
 * own timeline (>= the returned start).
 */
uint64_t clk_server(struct iommu *m, _Atomic uint64_t *busy_until, uint64_t arrival, uint64_t service,
		    uint64_t max_service, uint64_t *position)
{
	const unsigned cpus = atomic_load_explicit(&m->active_cpus, memory_order_relaxed);
	const uint64_t bound = (cpus > 1 ? cpus - 1 : 0) * max_service;
	uint64_t busy = atomic_load(busy_until), start;
	do {
		start = arrival + iova_min(busy > arrival ? busy - arrival : 0, bound);
	} while (!atomic_compare_exchange_weak(busy_until, &busy, iova_max(busy, start) + service));
	if (position)
		*position = iova_max(busy, start);
	return start;
}
