/* SPDX-License-Identifier: MIT */
/*
 * glue.c - the IOMMU a domain owns: creation from the config, map and unmap,
 * the DXGK-style pairs, and the path of an IOVA back to the strategy under
 * each invalidation policy (DESIGN.md, "Life of a range").
 */
#include "iommu.h"
#include "../handle.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_LEVELS 4
#define DEFAULT_ENTRIES_LOG2 9
#define DEFAULT_SETS 64
#define DEFAULT_WAYS 4
#define DEFAULT_CYCLES_PER_US 2000
#define PERCPU_ENTRIES 256
#define PERCPU_TIMEOUT_US 10000
#define GLOBAL_ENTRIES 32768
#define GLOBAL_TIMEOUT_US 1000000
#define MAX_TIMEOUT_US (UINT64_C(3600) * 1000000) /* an hour */

/* Default costs in cycles (DESIGN.md, "Cost model"). */
static const iova_iommu_costs default_costs = {
	.inv_submit = 200, .inv_wait = 1900, .pte_write = 20, .walk_level = 100, .iotlb_lookup = 0, .queue_op = 20,
	.line_transfer = 100,
};

static _Atomic unsigned next_did;

static uint64_t resolve_cost(uint32_t *field, uint32_t dflt)
{
	if (!*field)
		*field = dflt ? dflt : IOVA_IOMMU_ZERO;
	return *field == IOVA_IOMMU_ZERO ? 0 : *field;
}

static iova_status resolve(const iova_domain *d, const iova_iommu_config *in, iova_iommu_config *c,
			   struct iommu_costs *cost)
{
	*c = *in;
	if ((unsigned)c->policy >= IOVA_INVAL_POLICY_COUNT || (unsigned)c->clock >= IOVA_CLOCK_MODE_COUNT ||
	    (unsigned)c->iotlb_replacement >= IOVA_IOTLB_REPLACEMENT_COUNT ||
	    (c->flags & ~(unsigned)(IOVA_IOMMU_NO_L2_LEAVES | IOVA_IOMMU_NO_L3_LEAVES | IOVA_IOMMU_NO_ORACLE)))
		return IOVA_ERR_INVALID_ARGUMENT;
	c->pt_levels = c->pt_levels ? c->pt_levels : DEFAULT_LEVELS;
	c->pt_entries_log2 = c->pt_entries_log2 ? c->pt_entries_log2 : DEFAULT_ENTRIES_LOG2;
	if (c->pt_levels < 2 || c->pt_levels > PT_MAX_LEVELS || c->pt_entries_log2 > PT_MAX_BITS)
		return IOVA_ERR_INVALID_ARGUMENT;
	/* The table must reach the domain's last granule. */
	const unsigned reach = c->pt_levels * c->pt_entries_log2;
	if (reach < 64 && d->space.end - 1 >= UINT64_C(1) << reach)
		return IOVA_ERR_INVALID_ARGUMENT;
	c->iotlb_sets = c->iotlb_sets ? c->iotlb_sets : DEFAULT_SETS;
	c->iotlb_ways = c->iotlb_ways ? c->iotlb_ways : DEFAULT_WAYS;
	if (!iova_is_pow2(c->iotlb_sets) || c->iotlb_sets > 65536 || c->iotlb_ways > 64)
		return IOVA_ERR_INVALID_ARGUMENT;
	const bool global = c->policy == IOVA_INVAL_GLOBAL_QUEUE;
	c->fq_entries = c->fq_entries ? c->fq_entries : global ? GLOBAL_ENTRIES : PERCPU_ENTRIES;
	c->fq_timeout_us = c->fq_timeout_us ? c->fq_timeout_us : global ? GLOBAL_TIMEOUT_US : PERCPU_TIMEOUT_US;
	c->cycles_per_us = c->cycles_per_us ? c->cycles_per_us : DEFAULT_CYCLES_PER_US;
	if (!iova_is_pow2(c->fq_entries) || c->fq_entries > (1u << 20) || c->fq_timeout_us > MAX_TIMEOUT_US ||
	    c->cycles_per_us > 1000000)
		return IOVA_ERR_INVALID_ARGUMENT;
	cost->inv_submit = resolve_cost(&c->costs.inv_submit, default_costs.inv_submit);
	cost->inv_wait = resolve_cost(&c->costs.inv_wait, default_costs.inv_wait);
	cost->pte_write = resolve_cost(&c->costs.pte_write, default_costs.pte_write);
	cost->walk_level = resolve_cost(&c->costs.walk_level, default_costs.walk_level);
	cost->iotlb_lookup = resolve_cost(&c->costs.iotlb_lookup, default_costs.iotlb_lookup);
	cost->queue_op = resolve_cost(&c->costs.queue_op, default_costs.queue_op);
	cost->line_transfer = resolve_cost(&c->costs.line_transfer, default_costs.line_transfer);
	return IOVA_OK;
}

static void iommu_free_struct(struct iommu *m)
{
	fq_fini(m);
	oracle_fini(&m->oracle);
	iotlb_fini(&m->tlb);
	pt_fini(&m->pt);
	free(m->cpu);
	free(m);
}

iova_status iommu_create(iova_domain *d, const iova_iommu_config *config)
{
	struct iommu *m = aligned_alloc(IOVA_CACHE_LINE, iova_round_up(sizeof *m, IOVA_CACHE_LINE));
	if (!m)
		return IOVA_ERR_NO_MEMORY;
	memset(m, 0, sizeof *m);
	iova_status st = resolve(d, config, &m->cfg, &m->cost);
	if (st) {
		free(m);
		return st;
	}
	m->domain = d;
	m->did = (uint16_t)(atomic_fetch_add(&next_did, 1) % 65535u + 1);
	m->shift = d->space.granule_shift;
	const iova_inval_policy p = m->cfg.policy;
	m->deferred = p == IOVA_INVAL_PERCPU_QUEUE || p == IOVA_INVAL_GLOBAL_QUEUE || p == IOVA_INVAL_UNSAFE_EARLY_RELEASE;
	/* Passthrough translates nothing, so there is nothing to check. */
	m->oracle_on = !(m->cfg.flags & IOVA_IOMMU_NO_ORACLE) && p != IOVA_INVAL_NONE;
	m->timeout_cycles = m->cfg.fq_timeout_us * m->cfg.cycles_per_us;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	m->epoch_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	const unsigned leaves = (m->cfg.flags & IOVA_IOMMU_NO_L2_LEAVES ? 0 : 4u) |
				(m->cfg.flags & IOVA_IOMMU_NO_L3_LEAVES ? 0 : 8u);
	m->cpu = aligned_alloc(IOVA_CACHE_LINE, IOVA_THREAD_SLOTS * sizeof *m->cpu);
	if (m->cpu)
		memset(m->cpu, 0, IOVA_THREAD_SLOTS * sizeof *m->cpu);
	if (!m->cpu || pt_init(&m->pt, m->cfg.pt_levels, m->cfg.pt_entries_log2, leaves) ||
	    iotlb_init(&m->tlb, m->cfg.iotlb_sets, m->cfg.iotlb_ways, m->cfg.iotlb_replacement, m->cfg.pt_entries_log2) ||
	    (m->oracle_on && oracle_init(&m->oracle, d->space.first, d->space.end - d->space.first)) || fq_init(m)) {
		iommu_free_struct(m);
		return IOVA_ERR_NO_MEMORY;
	}
	d->iommu = m;
	d->config.iommu = &m->cfg;
	return IOVA_OK;
}

void iommu_destroy(iova_domain *d)
{
	if (d->iommu)
		iommu_free_struct(d->iommu); /* queued ranges are discarded with the domain */
	d->iommu = NULL;
}

static void count_oracle(struct iommu_cpu *c, unsigned slot, const struct oracle_result *r)
{
	cpu_add(c, C_OR_CHECKS, r->checks, slot);
	cpu_add(c, C_OR_VIOLATIONS, r->violations, slot);
	cpu_add(c, C_OR_OVERLAPS, r->overlaps, slot);
}

void iommu_handout(struct iommu *m, uint64_t g, uint64_t n, unsigned slot)
{
	if (!m->oracle_on)
		return;
	struct oracle_result r = {0};
	oracle_handout(&m->oracle, g, n, m->shift, &r);
	count_oracle(cpu_of(m, slot), slot, &r);
}

/* Table pages back to the pool, counted (not in passthrough). */
static void free_pages(struct iommu *m, struct iommu_cpu *c, unsigned slot, struct pt_page *list)
{
	const uint64_t n = pt_pages_put(&m->pt, list);
	if (m->cfg.policy != IOVA_INVAL_NONE)
		cpu_add(c, C_PAGES_FREED, n, slot);
}

/* Page-table work: counted and charged (passthrough keeps its table as
 * bookkeeping only, free of cost and of counts). */
static void account_pt(struct iommu *m, struct iommu_cpu *c, unsigned slot, const struct pt_stats *ps)
{
	if (m->cfg.policy == IOVA_INVAL_NONE)
		return;
	cpu_add(c, C_PTE_WRITTEN, ps->written, slot);
	cpu_add(c, C_PTE_CLEARED, ps->cleared, slot);
	cpu_add(c, C_LARGE, ps->large, slot);
	cpu_add(c, C_PAGES_ALLOC, ps->pages_alloc, slot);
	cpu_add(c, C_PAGES_DETACHED, ps->pages_detached, slot);
	clk_charge(m, c, slot, m->cost.pte_write * (ps->written + ps->cleared), C_CYC_PTE);
}

static iova_status release_to_strategy(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n)
{
	if (m->oracle_on)
		oracle_release(&m->oracle, g, n); /* before anyone can be handed it again */
	const iova_domain *d = m->domain;
	iova_status st = d->ops->free(d->strategy, g, n, slot);
	if (st)
		cpu_add(c, C_RELEASE_ERRORS, 1, slot);
	return st;
}

void iommu_release_entry(struct iommu *m, struct iommu_cpu *c, unsigned slot, const struct fq_entry *e,
			 uint64_t window_end)
{
	if (e->flags & FQ_WINDOW)
		hist_add(&c->window, window_end > e->unmapped_at ? window_end - e->unmapped_at : 0,
			 iova_slot_is_shared(slot));
	if (e->pages)
		free_pages(m, c, slot, e->pages);
	if (e->flags & FQ_RELEASE) {
		struct pt_walk w;
		pt_walk(&m->pt, e->first, &w);
		uint64_t v = w.entry;
		if ((v & (PTE_PRESENT | PTE_FREED)) == PTE_FREED)
			atomic_compare_exchange_strong(w.slot, &v, v & ~PTE_FREED);
		release_to_strategy(m, c, slot, e->first, e->granules);
	}
	cpu_add(c, C_RELEASED, 1, slot);
}

iova_status iommu_free(iova_domain *d, uint64_t g, uint64_t n, unsigned slot)
{
	struct iommu *m = d->iommu;
	struct iommu_cpu *c = cpu_of(m, slot);
	fq_tick(m, c, slot);
	for (;;) {
		struct pt_walk w;
		pt_walk(&m->pt, g, &w);
		uint64_t v = w.entry;
		if (pte_is_leaf(v))
			return IOVA_ERR_STILL_MAPPED;
		if (!m->deferred || pte_is_clean(v, fq_clean_below(m)))
			return release_to_strategy(m, c, slot, g, n);
		if (v & PTE_FREED)
			return IOVA_ERR_DOUBLE_FREE; /* its release is already queued */
		/* Its unmap's invalidation is still queued: queue the release
		 * behind it, with a token read now, after that unmap. */
		if (!atomic_compare_exchange_strong(w.slot, &v, v | PTE_FREED))
			continue;
		const struct fq_entry e = {.first = g, .granules = n, .flags = FQ_RELEASE, .owner = slot};
		fq_queue(m, c, slot, &e, atomic_load(&m->fq_start));
		cpu_add(c, C_DEFERRED, 1, slot);
		return IOVA_OK;
	}
}

/* Undo the first @n granules of a failed map: they were visible, so a
 * device may have cached them; invalidate before anyone reuses them. */
static void undo_map(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n)
{
	struct pt_page *detached = NULL;
	struct pt_stats ps = {0};
	pt_unmap(&m->pt, g, n, 0, 0, &detached, &ps);
	account_pt(m, c, slot, &ps);
	if (m->cfg.policy != IOVA_INVAL_NONE)
		hw_inv_pages(m, c, slot, g, n);
	free_pages(m, c, slot, detached);
}

static iova_status map_range(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n)
{
	const bool passthrough = m->cfg.policy == IOVA_INVAL_NONE;
	/* Passthrough: the device address is the physical one. */
	const uint64_t frame = passthrough ? g : frames_alloc(m, c, slot, g, n);
	for (unsigned tries = 0;; tries++) {
		uint64_t done = 0;
		struct pt_stats ps = {0};
		const int r = pt_map(&m->pt, g, n, frame, fq_clean_below(m), &done, &ps);
		account_pt(m, c, slot, &ps);
		if (r == PT_OK)
			break;
		if (done)
			undo_map(m, c, slot, g, done);
		if (r == PT_DIRTY) {
			/* Mapped again before its unmap was invalidated: the old
			 * translation may still be cached, so flush first. The flush
			 * is clean once every flush started before it has finished
			 * (the two-counter rule): with a straggler, flush again. */
			if (tries > 2)
				sched_yield();
			fq_flush(m, c, slot, C_FLUSH_FORCED);
			continue;
		}
		cpu_add(c, C_MAP_ERRORS, 1, slot);
		return r == PT_ALREADY_MAPPED ? IOVA_ERR_ALREADY_MAPPED
		       : r == PT_FREED	       ? IOVA_ERR_UNKNOWN_HANDLE
					       : IOVA_ERR_NO_MEMORY;
	}
	if (m->oracle_on && !passthrough) {
		struct oracle_result res = {0};
		oracle_map(&m->oracle, g, n, frame, m->shift, &res);
		count_oracle(c, slot, &res);
	}
	cpu_add(c, C_MAPS, 1, slot);
	cpu_add(c, C_FRAMES_MAPPED, n, slot);
	return IOVA_OK;
}

static iova_status unmap_range(struct iommu *m, struct iommu_cpu *c, unsigned slot, uint64_t g, uint64_t n,
			       bool release)
{
	struct pt_walk w;
	pt_walk(&m->pt, g, &w);
	if (!pte_is_leaf(w.entry)) {
		cpu_add(c, C_UNMAP_ERRORS, 1, slot);
		return IOVA_ERR_NOT_MAPPED;
	}
	const iova_inval_policy policy = m->cfg.policy;
	const bool passthrough = policy == IOVA_INVAL_NONE;
	const bool early = release && policy == IOVA_INVAL_UNSAFE_EARLY_RELEASE;
	const bool queued_release = release && m->deferred && !early;
	/* Deferred: the entries become tombstones (walks fault on them) whose
	 * token must be fq_start read once they all are. Written with the value
	 * read before; rewritten only if a flush started meanwhile (rare). */
	const uint64_t token0 = m->deferred ? atomic_load(&m->fq_start) : 0;
	const uint64_t tomb0 = m->deferred ? pte_tomb(token0) : 0;
	const uint64_t tomb0_first = queued_release ? tomb0 | PTE_FREED : tomb0;
	struct pt_page *detached = NULL;
	struct pt_stats ps = {0};
	pt_unmap(&m->pt, g, n, tomb0, tomb0_first, &detached, &ps);
	account_pt(m, c, slot, &ps);
	if (m->oracle_on && !passthrough)
		oracle_unmap(&m->oracle, g, n, iotlb_seq(&m->tlb));
	const uint64_t unmapped_at = clk_now(m, c);
	cpu_add(c, C_UNMAPS, 1, slot);
	cpu_add(c, C_FRAMES_UNMAPPED, n, slot);

	if (!m->deferred) {
		if (!passthrough) { /* strict */
			const uint64_t done = hw_inv_pages(m, c, slot, g, n);
			hist_add(&c->window, done - unmapped_at, iova_slot_is_shared(slot));
		}
		free_pages(m, c, slot, detached);
		return release ? release_to_strategy(m, c, slot, g, n) : IOVA_OK;
	}
	const uint64_t token = atomic_load(&m->fq_start); /* after the unmap finished */
	if (IOVA_UNLIKELY(token != token0)) {
		const uint64_t tomb = pte_tomb(token);
		pt_retomb(&m->pt, g, n, tomb0, tomb0_first, tomb, queued_release ? tomb | PTE_FREED : tomb);
	}
	const struct fq_entry e = {.first = g, .granules = n, .unmapped_at = unmapped_at, .pages = detached,
				   .flags = FQ_WINDOW | (queued_release ? FQ_RELEASE : 0), .owner = slot};
	if (early)
		release_to_strategy(m, c, slot, g, n); /* the deliberate bug */
	fq_queue(m, c, slot, &e, token);
	if (queued_release)
		cpu_add(c, C_DEFERRED, 1, slot);
	return IOVA_OK;
}

/* Common prologue: the domain's IOMMU, the caller's CPU, the handle's range. */
struct call {
	struct iommu *m;
	struct iommu_cpu *c;
	unsigned slot;
	uint64_t g, n, requested;
};

static iova_status open_call(iova_domain *d, iova_handle h, struct call *k, enum iommu_ctr error_ctr)
{
	if (!d)
		return IOVA_ERR_INVALID_ARGUMENT;
	if (!(k->m = d->iommu))
		return IOVA_ERR_NO_IOMMU;
	k->slot = iova_thread_slot();
	k->c = cpu_of(k->m, k->slot);
	cpu_add(k->c, C_USED, 1, k->slot);
	fq_tick(k->m, k->c, k->slot);
	uint64_t iova;
	iova_status st = handle_open(d, h, &iova, &k->requested);
	if (st) {
		cpu_add(k->c, error_ctr, 1, k->slot);
		return st;
	}
	k->g = iova >> d->space.granule_shift;
	k->n = (k->requested + d->granule_mask) >> d->space.granule_shift;
	return IOVA_OK;
}

iova_status iova_map(iova_domain *d, iova_handle h)
{
	struct call k;
	iova_status st = open_call(d, h, &k, C_MAP_ERRORS);
	return st ? st : map_range(k.m, k.c, k.slot, k.g, k.n);
}

iova_status iova_unmap(iova_domain *d, iova_handle h)
{
	struct call k;
	iova_status st = open_call(d, h, &k, C_UNMAP_ERRORS);
	return st ? st : unmap_range(k.m, k.c, k.slot, k.g, k.n, false);
}

iova_status iova_unmap_free(iova_domain *d, iova_handle h)
{
	struct call k;
	iova_status st = open_call(d, h, &k, C_UNMAP_ERRORS);
	if (!st)
		st = unmap_range(k.m, k.c, k.slot, k.g, k.n, true);
	if (!st) {
		iova_slot_add(&d->counters[k.slot].frees, 1, k.slot);
		iova_slot_add(&d->counters[k.slot].requested_bytes, -k.requested, k.slot);
	}
	return st;
}

iova_status iova_alloc_map(iova_domain *d, const iova_request *r, iova_allocation *out)
{
	if (d && !d->iommu) {
		if (out)
			memset(out, 0, sizeof *out);
		return IOVA_ERR_NO_IOMMU;
	}
	iova_status st = iova_alloc(d, r, out);
	if (st)
		return st;
	st = iova_map(d, out->handle);
	if (st) {
		iova_free(d, out->handle);
		memset(out, 0, sizeof *out);
	}
	return st;
}

iova_status iova_translate(const iova_domain *d, uint64_t iova, uint64_t *phys)
{
	if (!d || !phys)
		return IOVA_ERR_INVALID_ARGUMENT;
	struct iommu *m = d->iommu;
	if (!m || m->cfg.policy == IOVA_INVAL_NONE)
		return IOVA_ERR_NO_IOMMU;
	const uint64_t g = iova >> m->shift;
	if (g < d->space.first || g >= d->space.end)
		return IOVA_ERR_NOT_MAPPED;
	struct pt_walk w;
	pt_walk(&m->pt, g, &w);
	if (!pte_is_leaf(w.entry))
		return IOVA_ERR_NOT_MAPPED;
	const uint64_t frame = pte_frame(w.entry) + (g & ((UINT64_C(1) << pt_span_log2(&m->pt, w.level)) - 1));
	*phys = frame << m->shift | (iova & d->granule_mask);
	return IOVA_OK;
}

iova_status iova_iommu_flush(iova_domain *d)
{
	if (!d)
		return IOVA_ERR_INVALID_ARGUMENT;
	struct iommu *m = d->iommu;
	if (!m)
		return IOVA_ERR_NO_IOMMU;
	if (m->cfg.policy == IOVA_INVAL_NONE)
		return IOVA_OK;
	const unsigned slot = iova_thread_slot();
	struct iommu_cpu *c = cpu_of(m, slot);
	fq_flush(m, c, slot, C_FLUSH_FORCED);
	if (m->deferred)
		fq_drain_all(m, c, slot);
	return IOVA_OK;
}

uint64_t iova_iommu_now(const iova_domain *d)
{
	if (!d || !d->iommu)
		return 0;
	return clk_now(d->iommu, cpu_of(d->iommu, iova_thread_slot()));
}

void iova_iommu_charge(iova_domain *d, uint64_t cycles)
{
	if (!d || !d->iommu)
		return;
	struct iommu *m = d->iommu;
	const unsigned slot = iova_thread_slot();
	struct iommu_cpu *c = cpu_of(m, slot);
	clk_charge(m, c, slot, cycles, C_CYC_CHARGED);
	if (atomic_load_explicit(&m->timer_deadline, memory_order_relaxed))
		fq_tick_slow(m, c, slot); /* time passed: always look */
}
