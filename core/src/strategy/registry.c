/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the allocation strategies a domain can be created with.
 *
 * Adding a strategy: one file implementing iova_strategy_ops, one line in
 * STRATEGIES below.
 */
#include "opts.h"
#include "strategies.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define STRATEGIES(X)                                                                                                  \
	X(iova_buddy_lf_ops)                                                                                           \
	X(iova_buddy_locked_ops)                                                                                       \
	X(iova_linux_rbtree_ops)                                                                                       \
	X(iova_bitmap_ops)                                                                                             \
	X(iova_jemalloc_ops)

#define ENTRY(ops) &ops,
static const iova_strategy_ops *const entries[] = {STRATEGIES(ENTRY)};

#define STRATEGY_COUNT (sizeof entries / sizeof entries[0])

const iova_strategy_ops *iova_strategy_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < STRATEGY_COUNT; i++)
		if (!strcmp(entries[i]->name, name))
			return entries[i];
	return NULL;
}

iova_status iova_strategy_check(const char *name, const char *options, char *msg, size_t msg_size)
{
	iova_opts_message(msg, msg_size, "%s", "");
	const iova_strategy_ops *ops = iova_strategy_find(name ? name : "buddy-lf");
	if (!ops) {
		char known[256];
		size_t used = 0;
		known[0] = 0;
		for (size_t i = 0; i < STRATEGY_COUNT && used < sizeof known; i++)
			used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", entries[i]->name);
		iova_opts_message(msg, msg_size, "unknown strategy \"%s\" (known: %s)", name, known);
		return IOVA_ERR_INVALID_ARGUMENT;
	}
	if (ops->check_options)
		return ops->check_options(options, msg, msg_size);
	return iova_opts_parse(ops->name, options, NULL, 0, NULL, NULL, msg, msg_size);
}

size_t iova_strategy_count(void) { return STRATEGY_COUNT; }

const char *iova_strategy_name(size_t index) { return index < STRATEGY_COUNT ? entries[index]->name : NULL; }

const char *iova_strategy_description(size_t index)
{
	return index < STRATEGY_COUNT ? entries[index]->description : NULL;
}

unsigned iova_strategy_caps(size_t index) { return index < STRATEGY_COUNT ? entries[index]->caps : 0; }
