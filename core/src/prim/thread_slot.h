/* SPDX-License-Identifier: MIT */
/*
 * thread_slot.h - a small dense number per live thread.
 *
 * Per-thread state inside a domain (start hints, counters) lives in an array
 * indexed by this number, one cache line apart, so that the hot path needs no
 * atomic read-modify-write to touch it. Slots 0..IOVA_SLOT_SHARED-1 are owned
 * by one thread at a time (taken at first use, given back when the thread
 * exits); threads beyond that all share IOVA_SLOT_SHARED, whose users must
 * update counters with atomic read-modify-writes.
 */
#ifndef IOVA_PRIM_THREAD_SLOT_H
#define IOVA_PRIM_THREAD_SLOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define IOVA_THREAD_SLOTS 256u
#define IOVA_SLOT_SHARED (IOVA_THREAD_SLOTS - 1u)

extern _Thread_local unsigned iova_tl_slot_plus1;

/** iova_thread_slot_acquire() - slow path of iova_thread_slot(). */
unsigned iova_thread_slot_acquire(void);

/** iova_thread_slot() - this thread's slot, in [0, IOVA_THREAD_SLOTS). */
static inline unsigned iova_thread_slot(void)
{
	unsigned s = iova_tl_slot_plus1;
	return __builtin_expect(s != 0, 1) ? s - 1 : iova_thread_slot_acquire();
}

/**
 * iova_thread_slot_known() - this thread's slot if it has one already.
 * Return: true and the slot in *@slot; false if the thread has none yet
 * (iova_thread_slot() would take one). For hit paths that must not call out.
 */
static inline bool iova_thread_slot_known(unsigned *slot)
{
	*slot = iova_tl_slot_plus1 - 1;
	return __builtin_expect(*slot != ~0u, 1);
}

static inline bool iova_slot_is_shared(unsigned slot) { return slot == IOVA_SLOT_SHARED; }

/**
 * iova_slot_add() - add @v to @ctr, a counter of thread slot @slot written by
 * the calling thread. An owned slot's counters have one writer, so a relaxed
 * load and store do (no locked instruction on the paths that count); the
 * shared slot's have many and need the read-modify-write. Readers load them
 * relaxed and sum over slots.
 */
static inline void iova_slot_add(_Atomic uint64_t *ctr, uint64_t v, unsigned slot)
{
	if (__builtin_expect(iova_slot_is_shared(slot), 0))
		atomic_fetch_add_explicit(ctr, v, memory_order_relaxed);
	else
		atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + v, memory_order_relaxed);
}

/** iova_thread_slots_in_use() - how many threads own a slot right now (live
 * threads that have used the core), counting the shared slot as one. */
unsigned iova_thread_slots_in_use(void);

#endif
