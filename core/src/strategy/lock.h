/* SPDX-License-Identifier: MIT */
/*
 * lock.h - the one lock of the locked baselines, with counters.
 *
 * A pthread mutex of the adaptive kind (spins briefly, then sleeps): the
 * user-space stand-in for the kernel's spinlocks and mutexes. A plain
 * spinlock would be unfair here - in user space its holder can be preempted
 * while everyone else spins, which the kernel prevents by disabling
 * preemption. Every acquisition is counted, and so is every acquisition
 * that found the lock taken (a try-lock first), so benchmarks can report
 * contention. The counters are written only while the lock is held, with
 * relaxed atomic loads and stores (no read-modify-write), so that readers
 * without the lock see whole values.
 */
#ifndef IOVA_STRATEGY_LOCK_H
#define IOVA_STRATEGY_LOCK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct iova_lock {
	pthread_mutex_t mutex;
	_Atomic uint64_t acquisitions;
	_Atomic uint64_t contended;
};

static inline void iova_lock_init(struct iova_lock *l)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&l->mutex, &a);
	pthread_mutexattr_destroy(&a);
	atomic_init(&l->acquisitions, 0);
	atomic_init(&l->contended, 0);
}

static inline void iova_lock_destroy(struct iova_lock *l) { pthread_mutex_destroy(&l->mutex); }

static inline void iova_lock_bump(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

static inline void iova_lock_acquire(struct iova_lock *l)
{
	if (pthread_mutex_trylock(&l->mutex) != 0) {
		pthread_mutex_lock(&l->mutex);
		iova_lock_bump(&l->contended);
	}
	iova_lock_bump(&l->acquisitions);
}

static inline void iova_lock_release(struct iova_lock *l) { pthread_mutex_unlock(&l->mutex); }

/* Counters that are only written under a lock: plain increments by relaxed
 * load and store, readable without the lock. */
static inline void iova_count(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

static inline uint64_t iova_counter_read(const _Atomic uint64_t *c)
{
	return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

#endif
