/* SPDX-License-Identifier: MIT */
/*
 * test_tree.h - the lock-free buddy's own invariants (buddy.h I1 to I5,
 * checked by buddy_check()) for tests that hold a domain of any strategy:
 * a state can break them while its statistics and free extents still look
 * right. The domain must be quiet.
 */
#ifndef IOVA_TEST_TREE_H
#define IOVA_TEST_TREE_H

#include "buddy/buddy.h"
#include "domain.h"
#include "testutil.h"

/* True if @d is not a lock-free buddy or its tree keeps every invariant;
 * else false, with a check failure naming @where and the violation. */
static inline bool test_tree_ok(const iova_domain *d, const char *where)
{
	char msg[256];
	if (d->ops != &iova_buddy_lf_ops || buddy_check(d->strategy, msg, sizeof msg))
		return true;
	CHECK_MSG(false, "%s: buddy-lf invariants: %s", where, msg);
	return false;
}

#endif
