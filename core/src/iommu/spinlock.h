/* SPDX-License-Identifier: MIT */
/*
 * spinlock.h - a test-and-test-and-set lock for the few short critical
 * sections of the simulation that may block (DESIGN.md, "Lock discipline").
 * Spins politely and yields after a while, since a holder may be preempted
 * on a machine with fewer cores than threads.
 */
#ifndef IOVA_IOMMU_SPINLOCK_H
#define IOVA_IOMMU_SPINLOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct iommu_spinlock {
	_Atomic unsigned held;
} iommu_spinlock;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static inline bool spin_trylock(iommu_spinlock *l)
{
	return !atomic_load_explicit(&l->held, memory_order_relaxed) &&
	       !atomic_exchange_explicit(&l->held, 1, memory_order_acquire);
}

static inline void spin_lock(iommu_spinlock *l)
{
	for (unsigned spins = 0; !spin_trylock(l);) {
		if (++spins < 256)
			cpu_relax();
		else
			sched_yield();
	}
}

static inline void spin_unlock(iommu_spinlock *l) { atomic_store_explicit(&l->held, 0, memory_order_release); }

#endif
