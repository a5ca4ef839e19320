/* SPDX-License-Identifier: MIT */
/*
 * test_counter.h - read one of a domain's named counters
 * (iova_domain_counters()) in a test.
 */
#ifndef IOVA_TEST_COUNTER_H
#define IOVA_TEST_COUNTER_H

#include "check.h"
#include "iova.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct test_counter_find {
	const char *name;
	uint64_t value;
	bool found;
};

static inline void test_counter_visit(void *ctx, const char *name, uint64_t value, iova_counter_kind kind)
{
	(void)kind;
	struct test_counter_find *f = ctx;
	if (!strcmp(f->name, name)) {
		f->value = value;
		f->found = true;
	}
}

/* test_counter() - the value of @d's counter @name; a failed check (and 0)
 * when the domain does not report it. */
static inline uint64_t test_counter(const iova_domain *d, const char *name)
{
	struct test_counter_find f = {name, 0, false};
	iova_domain_counters(d, test_counter_visit, &f);
	CHECK_MSG(f.found, "counter %s not reported", name);
	return f.value;
}

#endif
