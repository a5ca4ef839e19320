/* SPDX-License-Identifier: MIT */
/*
 * flushq.c - deferred invalidation: flush queues, the two-counter release
 * rule, and the flush timer (Linux drivers/iommu/dma-iommu.c, re-expressed).
 *
 * An unmapped range is queued with token = fq_start, read after its unmap
 * finished. A flush increments fq_start, invalidates the domain's IOTLB
 * entries, then increments fq_finish. An entry may be released once
 * token < fq_finish: then at least token + 1 flushes have finished and only
 * token of them can have started before the entry's unmap finished, so one
 * that started after it has completed. Tokens grow along a queue, so entries
 * leave a queue in order and the first one that is not releasable stops the
 * scan.
 *
 * Queues. Per-CPU (one ring per thread slot) or one global ring. A full
 * queue triggers a flush by the CPU that found it full; a timer (one per
 * domain, armed by the first entry queued while it is off) triggers a flush
 * and a drain of every queue when it expires. There is no timer thread: the
 * deadline is checked at every IOMMU operation, against the caller's clock
 * (virtual in modelled mode), and the first caller past it fires it.
 *
 * Rings (lock-free for the per-CPU case). Each cell carries a sequence
 * number, as in Vyukov's bounded queue: cell i of lap k holds seq
 * k*capacity + i when free and k*capacity + i + 1 when full. The producer
 * (the slot's owner; several threads only in the shared overflow slot, which
 * then serialise on the ring's producer_lock) fills the cell at its tail
 * and publishes it with a release store of seq. Consumers (the owner, and
 * any CPU draining for the timer or an explicit flush) claim the head cell
 * with a compare-and-swap of head after checking its token, copy it, and
 * hand the cell back with a release store of seq. A producer that finds its
 * tail cell still full after a flush knows that flush covers its entry (it
 * started after the unmap) and releases the entry directly instead of
 * waiting, so no path waits for another thread.
 *
 * The global queue keeps Linux's discipline: one spinlock around queueing,
 * releasing and the flush a full queue triggers. In modelled mode the lock
 * is also a server in virtual time (global_free_at), so its contention
 * costs virtual time too.
 */
#include "iommu.h"

#include <stdlib.h>
#include <string.h>

struct fq_cell {
	_Atomic uint64_t seq;
	_Atomic uint64_t token;
	struct fq_entry e;
};

struct fq_ring {
	uint64_t mask;
	_Atomic uint64_t head __attribute__((aligned(IOVA_CACHE_LINE)));
	_Atomic uint64_t tail __attribute__((aligned(IOVA_CACHE_LINE)));
	iommu_spinlock producer_lock;
	struct fq_cell cells[] __attribute__((aligned(IOVA_CACHE_LINE)));
};

static struct fq_ring *ring_new(uint64_t entries)
{
	size_t bytes = iova_round_up(sizeof(struct fq_ring) + entries * sizeof(struct fq_cell), IOVA_CACHE_LINE);
	struct fq_ring *r = aligned_alloc(IOVA_CACHE_LINE, bytes);
	if (!r)
		return NULL;
	memset(r, 0, bytes);
	r->mask = entries - 1;
	for (uint64_t i = 0; i < entries; i++)
		atomic_init(&r->cells[i].seq, i);
	return r;
}

iova_status fq_init(struct iommu *m)
{
	if (m->cfg.policy == IOVA_INVAL_GLOBAL_QUEUE) {
		m->global = ring_new(m->cfg.fq_entries);
		return m->global ? IOVA_OK : IOVA_ERR_NO_MEMORY;
	}
	m->rings = calloc(IOVA_THREAD_SLOTS, sizeof *m->rings);
	return m->rings ? IOVA_OK : IOVA_ERR_NO_MEMORY;
}

void fq_fini(struct iommu *m)
{
	for (unsigned s = 0; m->rings && s < IOVA_THREAD_SLOTS; s++)
		free(atomic_load(&m->rings[s]));
	free(m->rings);
	free(m->global);
	m->rings = NULL;
	m->global = NULL;
}

/* The slot's ring, created at its first use. */
static struct fq_ring *slot_ring(struct iommu *m, unsigned slot)
{
	struct fq_ring *r = atomic_load_explicit(&m->rings[slot], memory_order_acquire);
	if (IOVA_LIKELY(r))
		return r;
	struct fq_ring *fresh = ring_new(m->cfg.fq_entries);
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong(&m->rings[slot], &r, fresh)) /* the shared slot may race */
		return fresh;
	free(fresh);
	return r;
}

static bool ring_push(struct fq_ring *r, const struct fq_entry *e, uint64_t token)
{
	const uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
	struct fq_cell *cell = &r->cells[pos & r->mask];
	if (atomic_load_explicit(&cell->seq, memory_order_acquire) != pos)
		return false; /* full (or its consumer is still copying it out) */
	cell->e = *e;
	atomic_store_explicit(&cell->token, token, memory_order_relaxed);
	atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
	atomic_store_explicit(&r->tail, pos + 1, memory_order_relaxed);
	return true;
}

/*
 * When the vulnerability window of @e (token @token) closed: when flush
 * number token + 1, the first to start after its unmap, completed.
 *
 * The flush log is a ring of tiny seqlocks (n, at, slot): the writer clears
 * n, writes the rest, sets n; a reader trusts what it read only if it saw
 * the same n before and after. All sequentially consistent (a rare path,
 * and TSan has no fences).
 *
 * Spin mode has one clock for all CPUs: the flush's completion is the end.
 * Modelled clocks are per CPU and not synchronised, so the window is
 * measured on the owner's clock: exact when the owner flushed; otherwise
 * the owner's clock now (the flush completed before this release, in real
 * time, so this is an upper bound by at most the owner's progress since).
 */
static uint64_t window_end(struct iommu *m, struct iommu_cpu *c, const struct fq_entry *e, uint64_t token)
{
	typeof(m->flush_log[0]) *l = &m->flush_log[(token + 1) % FLUSH_LOG];
	const uint64_t n = atomic_load(&l->n), at = atomic_load(&l->at), slot = atomic_load(&l->slot);
	const bool known = n == token + 1 && atomic_load(&l->n) == n;
	if (m->cfg.clock == IOVA_CLOCK_SPIN)
		return known ? at : clk_now(m, c);
	if (known && slot == e->owner)
		return at;
	return atomic_load_explicit(&cpu_of(m, e->owner)->clock, memory_order_relaxed);
}

/* Release every entry at the head of @r whose flush has finished. */
static void ring_release(struct iommu *m, struct iommu_cpu *c, unsigned slot, struct fq_ring *r)
{
	const uint64_t finish = atomic_load_explicit(&m->fq_finish, memory_order_acquire);
	for (;;) {
		uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
		struct fq_cell *cell = &r->cells[pos & r->mask];
		if (atomic_load_explicit(&cell->seq, memory_order_acquire) != pos + 1)
			return; /* empty, or another consumer took it */
		const uint64_t token = atomic_load_explicit(&cell->token, memory_order_relaxed);
		if (token >= finish)
			return;
		if (!atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1, memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		/* Claimed: the producer cannot refill the cell until seq moves on. */
		struct fq_entry e = cell->e;
		atomic_store_explicit(&cell->seq, pos + r->mask + 1, memory_order_release);
		iommu_release_entry(m, c, slot, &e, window_end(m, c, &e, token));
	}
}

void fq_flush(struct iommu *m, struct iommu_cpu *c, unsigned slot, enum iommu_ctr cause)
{
	const uint64_t n = atomic_fetch_add(&m->fq_start, 1) + 1;
	const uint64_t done = hw_inv_domain(m, c, slot);
	typeof(m->flush_log[0]) *l = &m->flush_log[n % FLUSH_LOG];
	atomic_store(&l->n, 0);
	atomic_store(&l->at, done);
	atomic_store(&l->slot, slot);
	atomic_store(&l->n, n);
	atomic_fetch_add_explicit(&m->fq_finish, 1, memory_order_release);
	cpu_add(c, C_FLUSHES, 1, slot);
	cpu_add(c, cause, 1, slot);
}

static void arm_timer(struct iommu *m, struct iommu_cpu *c)
{
	if (atomic_load_explicit(&m->timer_deadline, memory_order_relaxed))
		return;
	uint64_t off = 0;
	atomic_compare_exchange_strong_explicit(&m->timer_deadline, &off, clk_now(m, c) + m->timeout_cycles,
						memory_order_relaxed, memory_order_relaxed);
}

static void global_lock(struct iommu *m, struct iommu_cpu *c, unsigned slot)
{
	if (m->cfg.clock == IOVA_CLOCK_SPIN) {
		const uint64_t t0 = clk_real_now(m);
		spin_lock(&m->global_lock);
		cpu_add(c, C_CYC_LOCK, clk_real_now(m) - t0, slot);
	} else {
		spin_lock(&m->global_lock);
		/* The lock as a server in virtual time: one holder at a time. A
		 * waiter waits at most one hold per other CPU; the last hold (a
		 * queue operation, or one with a flush) stands for the next. */
		const uint64_t hold = iova_max(m->global_last_hold, m->cost.queue_op);
		const uint64_t start = clk_server(m, &m->global_free_at, clk_now(m, c), 0, hold,
						  &m->global_hold_position);
		clk_wait_until(m, c, slot, start, C_CYC_LOCK);
		/* The lock's cache line comes from the previous holder: another CPU
		 * with probability (N-1)/N among N CPUs sharing it. The expected
		 * cost, not the observed handoff, so that the result does not depend
		 * on how the host interleaves the threads. */
		const unsigned cpus = atomic_load_explicit(&m->active_cpus, memory_order_relaxed);
		if (cpus > 1)
			clk_charge(m, c, slot, m->cost.line_transfer * (cpus - 1) / cpus, C_CYC_LOCK);
		m->global_hold_start = clk_now(m, c);
	}
}

static void global_unlock(struct iommu *m, struct iommu_cpu *c)
{
	if (m->cfg.clock == IOVA_CLOCK_MODELLED) { /* the hold, placed on the lock's own timeline */
		m->global_last_hold = clk_now(m, c) - m->global_hold_start;
		atomic_store(&m->global_free_at, m->global_hold_position + m->global_last_hold);
	}
	spin_unlock(&m->global_lock);
}

/* Queue @e in @r; a full queue is flushed first. */
static void push_or_flush(struct iommu *m, struct iommu_cpu *c, unsigned slot, struct fq_ring *r,
			  const struct fq_entry *e, uint64_t token)
{
	ring_release(m, c, slot, r); /* entries other CPUs' flushes already covered */
	if (!ring_push(r, e, token)) {
		fq_flush(m, c, slot, C_FLUSH_FULL);
		ring_release(m, c, slot, r);
		if (!ring_push(r, e, token)) {
			/* A consumer is still copying the tail cell out. The flush
			 * above started after @e's unmap finished: it covers @e. */
			cpu_add(c, C_QUEUED, 1, slot);
			iommu_release_entry(m, c, slot, e, window_end(m, c, e, token));
			return;
		}
	}
	cpu_add(c, C_QUEUED, 1, slot);
}

void fq_queue(struct iommu *m, struct iommu_cpu *c, unsigned slot, const struct fq_entry *e, uint64_t token)
{
	if (m->cfg.policy == IOVA_INVAL_GLOBAL_QUEUE) {
		global_lock(m, c, slot);
		clk_charge(m, c, slot, m->cost.queue_op, C_CYC_QUEUE);
		push_or_flush(m, c, slot, m->global, e, token);
		global_unlock(m, c);
	} else {
		struct fq_ring *r = slot_ring(m, slot);
		clk_charge(m, c, slot, m->cost.queue_op, C_CYC_QUEUE);
		if (IOVA_UNLIKELY(!r)) {
			/* No memory for a ring: fall back to a flush of our own. */
			fq_flush(m, c, slot, C_FLUSH_FULL);
			cpu_add(c, C_QUEUED, 1, slot);
			iommu_release_entry(m, c, slot, e, window_end(m, c, e, token));
			return;
		}
		if (IOVA_UNLIKELY(iova_slot_is_shared(slot))) {
			spin_lock(&r->producer_lock);
			push_or_flush(m, c, slot, r, e, token);
			spin_unlock(&r->producer_lock);
		} else {
			push_or_flush(m, c, slot, r, e, token);
		}
	}
	arm_timer(m, c);
}

void fq_drain_all(struct iommu *m, struct iommu_cpu *c, unsigned slot)
{
	if (m->global) {
		global_lock(m, c, slot);
		ring_release(m, c, slot, m->global);
		global_unlock(m, c);
		return;
	}
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		struct fq_ring *r = atomic_load_explicit(&m->rings[s], memory_order_acquire);
		if (r)
			ring_release(m, c, slot, r);
	}
}

void fq_tick_slow(struct iommu *m, struct iommu_cpu *c, unsigned slot)
{
	uint64_t deadline = atomic_load_explicit(&m->timer_deadline, memory_order_relaxed);
	if (!deadline || clk_now(m, c) < deadline)
		return;
	if (!atomic_compare_exchange_strong(&m->timer_deadline, &deadline, 0))
		return; /* another CPU fired it */
	fq_flush(m, c, slot, C_FLUSH_TIMEOUT);
	fq_drain_all(m, c, slot);
}

uint64_t fq_pending(struct iommu *m)
{
	uint64_t n = 0;
	if (m->global)
		return atomic_load(&m->global->tail) - atomic_load(&m->global->head);
	for (unsigned s = 0; m->rings && s < IOVA_THREAD_SLOTS; s++) {
		struct fq_ring *r = atomic_load(&m->rings[s]);
		if (r)
			n += atomic_load(&r->tail) - atomic_load(&r->head);
	}
	return n;
}
