/* SPDX-License-Identifier: MIT */
/*
 * quiesce.h - taking over state that other threads own, without making the
 * owners pay for it.
 *
 * Per-thread-slot state (magazines, jemalloc thread caches) is used by its
 * owner on every operation and by someone else only when a flush must empty
 * it. A lock would make every owner operation pay an atomic read-modify-write
 * for the rare flush. Instead each slot has a `busy` word the owner sets
 * around its use with plain stores, and a flusher raises `flushing`:
 *
 *   owner (enter):  busy = 1; compiler barrier; if (flushing) { busy = 0; back off }
 *                   ... use the slot's state ...
 *   owner (exit):   busy = 0 (release)
 *   flusher:        flushing = 1; membarrier(); for each slot: wait until busy == 0;
 *                   ... take the slots' state ...; flushing = 0 (release)
 *
 * This is Dekker's mutual exclusion with the owner's store-load fence moved
 * to the flusher: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) runs a full
 * memory barrier on every CPU running a thread of the process, so after it
 * returns either an owner's `busy = 1` is visible to the flusher, or that
 * owner's later load of `flushing` sees 1 and it backs off (an owner that
 * backs off bypasses its cache for that one operation). Where membarrier is
 * unavailable the owner executes a sequentially consistent fence instead:
 * correct, slower. The owner's side is therefore two plain stores and one
 * plain load on lines it alone writes. Happens-before, which
 * ThreadSanitizer checks, comes from the release store of busy = 0 read by
 * the flusher's acquire load, and from the release store of flushing = 0
 * read by the owner's acquire load.
 *
 * Flushers are serialised by a mutex; a flusher must not hold any lock an
 * owner may take inside its busy section while it waits.
 */
#ifndef IOVA_CACHE_QUIESCE_H
#define IOVA_CACHE_QUIESCE_H

#include "../internal.h"

#include <pthread.h>

/* iova_quiesce.state: what an owner must look at on entering, in one word
 * so that the common case (neither) costs one load. */
enum {
	IOVA_QUIESCE_FLUSHING = 1u,    /* a flusher is at work: back off */
	IOVA_QUIESCE_OWNER_FENCE = 2u, /* no membarrier: owners fence themselves */
};

struct iova_quiesce {
	_Atomic unsigned state;
	unsigned owner_fence; /* IOVA_QUIESCE_OWNER_FENCE or 0, fixed at init */
	pthread_mutex_t flusher;
};

/** iova_quiesce_init() - set up @q; registers the process for membarrier
 * the first time (a no-op afterwards). */
void iova_quiesce_init(struct iova_quiesce *q);
void iova_quiesce_destroy(struct iova_quiesce *q);

/* The rest of iova_quiesce_enter() when @state is not 0. */
static inline bool iova_quiesce_enter_slow(const struct iova_quiesce *q, _Atomic unsigned *busy, unsigned state)
{
	if (state & IOVA_QUIESCE_OWNER_FENCE) {
		atomic_thread_fence(memory_order_seq_cst);
		state = atomic_load_explicit((_Atomic unsigned *)&q->state, memory_order_acquire);
		if (!(state & IOVA_QUIESCE_FLUSHING))
			return true;
	}
	atomic_store_explicit(busy, 0, memory_order_release);
	return false;
}

/**
 * iova_quiesce_enter() - the owner of a slot starts using its state.
 * Return: true, and the caller must call iova_quiesce_exit() when done; or
 * false when a flush is in progress, and the caller must not touch the
 * slot's state for this operation.
 */
static inline bool iova_quiesce_enter(const struct iova_quiesce *q, _Atomic unsigned *busy)
{
	atomic_store_explicit(busy, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst); /* the flusher's membarrier is the fence */
	const unsigned state = atomic_load_explicit((_Atomic unsigned *)&q->state, memory_order_acquire);
	if (IOVA_LIKELY(state == 0))
		return true;
	/* Without membarrier the load above proves nothing: fence, and look again. */
	return iova_quiesce_enter_slow(q, busy, state);
}

/** iova_quiesce_exit() - the owner is done with its state. */
static inline void iova_quiesce_exit(_Atomic unsigned *busy) { atomic_store_explicit(busy, 0, memory_order_release); }

/** iova_quiesce_begin() - become the flusher: owners entering from now on
 * back off. Follow with iova_quiesce_wait() per slot, then iova_quiesce_end(). */
void iova_quiesce_begin(struct iova_quiesce *q);

/** iova_quiesce_wait() - wait until the owner of @busy has left its state;
 * afterwards the flusher may use it until iova_quiesce_end(). */
void iova_quiesce_wait(_Atomic unsigned *busy);

/** iova_quiesce_end() - owners may use their state again. */
void iova_quiesce_end(struct iova_quiesce *q);

#endif
