/* SPDX-License-Identifier: MIT */
/*
 * strategies.h - the introspection hooks the baseline strategies' tests use.
 * (Their operation tables are declared where they are listed, registry.c.)
 */
#ifndef IOVA_STRATEGIES_H
#define IOVA_STRATEGIES_H

#include "../internal.h"

/**
 * iova_buddy_locked_check() - verify the drm_buddy invariants of a
 * buddy-locked state (for tests): every block free, allocated or split; its
 * start aligned to its size; children at start and start + half; no two free
 * buddies; the free trees hold exactly the free blocks, in their order.
 * Return: true if they hold; otherwise false with a sentence in @msg.
 */
bool iova_buddy_locked_check(const void *state, char *msg, size_t msg_size);

#endif
