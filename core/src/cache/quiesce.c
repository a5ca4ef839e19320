/* SPDX-License-Identifier: MIT */
/*
 * quiesce.c - the flusher's side of slot quiescence (see quiesce.h).
 */
#define _GNU_SOURCE
#include "quiesce.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_once_t membarrier_once = PTHREAD_ONCE_INIT;
static bool membarrier_ok;

static long membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0, 0); }

static void membarrier_register(void)
{
	long cmds = membarrier(MEMBARRIER_CMD_QUERY);
	membarrier_ok = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
			membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

void iova_quiesce_init(struct iova_quiesce *q)
{
	pthread_once(&membarrier_once, membarrier_register);
	q->owner_fence = membarrier_ok ? 0 : IOVA_QUIESCE_OWNER_FENCE;
	atomic_init(&q->state, q->owner_fence);
	pthread_mutex_init(&q->flusher, NULL);
}

void iova_quiesce_destroy(struct iova_quiesce *q) { pthread_mutex_destroy(&q->flusher); }

void iova_quiesce_begin(struct iova_quiesce *q)
{
	pthread_mutex_lock(&q->flusher);
	atomic_store(&q->state, IOVA_QUIESCE_FLUSHING | q->owner_fence);
	/* Once the process is registered, the expedited barrier cannot fail
	 * (its only errors are for unregistered or unsupported use). Without
	 * membarrier, owners fence themselves and this fence pairs with theirs. */
	if (membarrier_ok)
		(void)membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

void iova_quiesce_wait(_Atomic unsigned *busy)
{
	for (unsigned spins = 0; atomic_load_explicit(busy, memory_order_acquire); spins++) {
		if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else {
			sched_yield(); /* the owner may be preempted inside its section */
		}
	}
}

void iova_quiesce_end(struct iova_quiesce *q)
{
	atomic_store_explicit(&q->state, q->owner_fence, memory_order_release);
	pthread_mutex_unlock(&q->flusher);
}
