/* SPDX-License-Identifier: MIT */
/*
 * iommu.h - the simulated IOMMU a domain owns (see DESIGN.md): its parts,
 * its per-CPU state, and the entry points the domain layer calls.
 */
#ifndef IOVA_IOMMU_H
#define IOVA_IOMMU_H

#include "../domain.h"
#include "histogram.h"
#include "iotlb.h"
#include "oracle.h"
#include "pagetable.h"

/* Per-CPU counters, summed by iova_iommu_stats(). */
enum iommu_ctr {
	C_MAPS, C_UNMAPS, C_MAP_ERRORS, C_UNMAP_ERRORS,
	C_PTE_WRITTEN, C_PTE_CLEARED, C_LARGE, C_PAGES_ALLOC, C_PAGES_DETACHED, C_PAGES_FREED,
	C_FRAMES_MAPPED, C_FRAMES_UNMAPPED,
	C_DMA_OPS, C_DMA_ACCESSES, C_DMA_FAULTS, C_HITS, C_MISSES, C_EVICTIONS,
	C_WALKS, C_WALK_LEVELS, C_WALK_RETRIES, C_FILLS_DROPPED, C_STALE,
	C_INV_PAGE, C_INV_DOMAIN,
	C_FLUSHES, C_FLUSH_FULL, C_FLUSH_TIMEOUT, C_FLUSH_FORCED,
	C_QUEUED, C_RELEASED, C_DEFERRED, C_RELEASE_ERRORS,
	C_CYC_INV, C_CYC_INV_QUEUEING, C_CYC_PTE, C_CYC_DEVICE, C_CYC_QUEUE, C_CYC_LOCK, C_CYC_CHARGED,
	C_OR_CHECKS, C_OR_VIOLATIONS, C_OR_OVERLAPS,
	C_USED, /* non-zero once the CPU did IOMMU work */
	C_COUNT
};

/*
 * One per thread slot ("CPU"). Written by the slot's owner with relaxed
 * load+store (no read-modify-write), except in the shared overflow slot,
 * whose users use atomic read-modify-writes (cpu_add()).
 */
struct iommu_cpu {
	_Atomic uint64_t clock; /* modelled: virtual cycles; spin: cycles spent */
	_Atomic uint64_t debt;  /* spin mode: small costs not yet spent */
	_Atomic uint64_t frame_next, frame_end;
	_Atomic unsigned ticks; /* spin mode: timer checks skipped */
	_Atomic bool active;    /* counted in iommu.active_cpus */
	_Atomic uint64_t ctr[C_COUNT];
	struct histogram window;
} __attribute__((aligned(IOVA_CACHE_LINE)));

/* Costs in cycles, resolved from the config (IOVA_IOMMU_ZERO -> 0). */
struct iommu_costs {
	uint64_t inv_submit, inv_wait, pte_write, walk_level, iotlb_lookup, queue_op, line_transfer;
};

/* A flush-queue entry: an unmapped range waiting for its invalidation. */
#define FQ_WINDOW 1u  /* came from an unmap: closes a vulnerability window */
#define FQ_RELEASE 2u /* its IOVA goes back to the strategy when released */
struct fq_entry {
	uint64_t first, granules;
	uint64_t unmapped_at;  /* clock of @owner when the unmap finished */
	struct pt_page *pages; /* table pages the unmap detached */
	unsigned flags;
	unsigned owner;        /* slot of the CPU that unmapped */
};

struct fq_ring;
#define FLUSH_LOG 256

struct iommu {
	iova_iommu_config cfg; /* defaults filled in */
	struct iommu_costs cost;
	iova_domain *domain;
	uint16_t did;
	unsigned shift; /* granule shift */
	bool oracle_on, deferred;
	uint64_t timeout_cycles;
	uint64_t epoch_ns; /* spin mode: time 0 */
	struct pt pt;
	struct iotlb tlb;
	struct oracle oracle;
	struct iommu_cpu *cpu; /* IOVA_THREAD_SLOTS */

	/* Invalidation hardware: serial. Modelled: a server in virtual time;
	 * spin: a lock held while the invalidation's cost is spent. */
	_Atomic uint64_t hw_busy_until __attribute__((aligned(IOVA_CACHE_LINE)));
	iommu_spinlock hw_lock;
	_Atomic unsigned active_cpus; /* CPUs that were charged a cost: bounds modelled queueing */

	/* Flush queues: Linux's two counters, each on its own line. */
	_Atomic uint64_t fq_start __attribute__((aligned(IOVA_CACHE_LINE)));
	_Atomic uint64_t fq_finish __attribute__((aligned(IOVA_CACHE_LINE)));
	_Atomic uint64_t timer_deadline __attribute__((aligned(IOVA_CACHE_LINE))); /* 0: not armed */
	struct {
		_Atomic uint64_t n, at, slot; /* flush number n completed at `at` on CPU `slot`'s clock */
	} flush_log[FLUSH_LOG];
	_Atomic(struct fq_ring *) *rings; /* per slot (per-CPU queues) */
	struct fq_ring *global;           /* the single queue */
	iommu_spinlock global_lock __attribute__((aligned(IOVA_CACHE_LINE)));
	/* Modelled: the lock as a server. When it is next free on its own
	 * timeline; and, under the lock, where the current hold began on that
	 * timeline and on the holder's clock. */
	_Atomic uint64_t global_free_at;
	uint64_t global_hold_position, global_hold_start, global_last_hold;

	_Atomic uint64_t frame_chunk __attribute__((aligned(IOVA_CACHE_LINE)));
};

static inline struct iommu_cpu *cpu_of(struct iommu *m, unsigned slot) { return &m->cpu[slot]; }

static inline void cpu_add(struct iommu_cpu *c, enum iommu_ctr k, uint64_t v, unsigned slot)
{
	if (!v)
		return;
	iova_slot_add(&c->ctr[k], v, slot);
}

/* Clocks and costs (clock.c). */
uint64_t clk_now(const struct iommu *m, struct iommu_cpu *c);
void clk_charge(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t cycles, enum iommu_ctr kind);
void clk_wait_until(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t t, enum iommu_ctr kind);
uint64_t clk_real_now(const struct iommu *m);
uint64_t clk_server(struct iommu *m, _Atomic uint64_t *busy_until, uint64_t arrival, uint64_t service,
		    uint64_t max_service, uint64_t *position);

/* Invalidation hardware (invalidate.c): cost, IOTLB scope, oracle. Return
 * the invalidation's completion time on the caller's clock. */
uint64_t hw_inv_pages(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n);
uint64_t hw_inv_domain(struct iommu *m, struct iommu_cpu *c, unsigned slot);

/* Flush queues (flushq.c). */
iova_status fq_init(struct iommu *m);
void fq_fini(struct iommu *m);
void fq_queue(struct iommu *m, struct iommu_cpu *c, unsigned slot, const struct fq_entry *e, uint64_t token);
void fq_flush(struct iommu *m, struct iommu_cpu *c, unsigned slot, enum iommu_ctr cause);
void fq_drain_all(struct iommu *m, struct iommu_cpu *c, unsigned slot);
void fq_tick_slow(struct iommu *m, struct iommu_cpu *c, unsigned slot);
/* Fire the flush timer if it is due. Called by every operation; in spin
 * mode only every 8th call per CPU reads the real clock, which costs about
 * as much as an operation's bookkeeping (a timer is a few ops late at most). */
static inline void fq_tick(struct iommu *m, struct iommu_cpu *c, unsigned slot)
{
	if (!atomic_load_explicit(&m->timer_deadline, memory_order_relaxed))
		return;
	if (m->cfg.clock == IOVA_CLOCK_SPIN) {
		const unsigned t = atomic_load_explicit(&c->ticks, memory_order_relaxed) + 1;
		atomic_store_explicit(&c->ticks, t, memory_order_relaxed);
		if (t & 7)
			return;
	}
	fq_tick_slow(m, c, slot);
}
/* Tombstones with a token below this are clean (the two-counter rule). */
static inline uint64_t fq_clean_below(struct iommu *m)
{
	return m->deferred && m->cfg.policy != IOVA_INVAL_UNSAFE_EARLY_RELEASE
		       ? atomic_load_explicit(&m->fq_finish, memory_order_acquire)
		       : UINT64_MAX;
}
uint64_t fq_pending(struct iommu *m);

/* Frames (frames.c). */
uint64_t frames_alloc(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n);

/* Glue (glue.c). */
void iommu_release_entry(struct iommu *m, struct iommu_cpu *c, unsigned slot, const struct fq_entry *e,
			 uint64_t window_end);

/* The hooks domain.c and dispatch.c call are declared in domain.h. */

#endif
