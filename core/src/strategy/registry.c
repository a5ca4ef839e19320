/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the allocation strategies a domain can be created with.
 * Adding a strategy: one file implementing iova_strategy_ops, one line here.
 */
#include "../internal.h"

#include <string.h>

static const iova_strategy_ops *const strategies[] = {
	&iova_buddy_lf_ops,
};

#define STRATEGY_COUNT (sizeof strategies / sizeof strategies[0])

const iova_strategy_ops *iova_strategy_find(const char *name)
{
	for (size_t i = 0; i < STRATEGY_COUNT; i++)
		if (!strcmp(strategies[i]->name, name))
			return strategies[i];
	return NULL;
}

size_t iova_strategy_count(void) { return STRATEGY_COUNT; }

const char *iova_strategy_name(size_t index) { return index < STRATEGY_COUNT ? strategies[index]->name : NULL; }

const char *iova_strategy_description(size_t index)
{
	return index < STRATEGY_COUNT ? strategies[index]->description : NULL;
}

unsigned iova_strategy_caps(size_t index) { return index < STRATEGY_COUNT ? strategies[index]->caps : 0; }
