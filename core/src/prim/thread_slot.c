/* SPDX-License-Identifier: MIT */
#include "thread_slot.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

_Thread_local unsigned iova_tl_slot_plus1;

/* Bit i set: slot i is owned by a live thread. The shared slot is never owned. */
static _Atomic uint64_t slot_owned[IOVA_THREAD_SLOTS / 64];
static _Atomic unsigned slots_in_use; /* owned slots, for iova_thread_slots_in_use() */
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;

static void slot_release(void *value)
{
	unsigned slot = (unsigned)(uintptr_t)value - 1;
	if (slot < IOVA_SLOT_SHARED) {
		atomic_fetch_and(&slot_owned[slot / 64], ~(UINT64_C(1) << (slot % 64)));
		atomic_fetch_sub_explicit(&slots_in_use, 1, memory_order_relaxed);
	}
}

static void slot_key_create(void) { (void)pthread_key_create(&slot_key, slot_release); }

unsigned iova_thread_slot_acquire(void)
{
	unsigned slot = IOVA_SLOT_SHARED;
	for (unsigned w = 0; w < IOVA_THREAD_SLOTS / 64 && slot == IOVA_SLOT_SHARED; w++) {
		uint64_t owned = atomic_load(&slot_owned[w]);
		for (;;) {
			uint64_t avail = ~owned;
			if (w == IOVA_SLOT_SHARED / 64)
				avail &= ~(UINT64_C(1) << (IOVA_SLOT_SHARED % 64));
			if (!avail)
				break;
			unsigned bit = (unsigned)__builtin_ctzll(avail);
			if (atomic_compare_exchange_weak(&slot_owned[w], &owned, owned | (UINT64_C(1) << bit))) {
				slot = w * 64 + bit;
				atomic_fetch_add_explicit(&slots_in_use, 1, memory_order_relaxed);
				break;
			}
		}
	}
	pthread_once(&slot_key_once, slot_key_create);
	/* The key's destructor gives an owned slot back when the thread exits. */
	(void)pthread_setspecific(slot_key, (void *)(uintptr_t)(slot + 1));
	iova_tl_slot_plus1 = slot + 1;
	return slot;
}

unsigned iova_thread_slots_in_use(void)
{
	/* A hint for placement policy only: relaxed, and the shared slot counts
	 * as one more whenever its users exist. */
	return atomic_load_explicit(&slots_in_use, memory_order_relaxed) + (iova_tl_slot_plus1 == IOVA_SLOT_SHARED + 1);
}
