/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the allocation strategies a domain can be created with.
 *
 * Adding a strategy: one file under strategy/ defining an iova_strategy_ops
 * table (the build picks up every file there), one line naming the table in
 * STRATEGIES below. Every strategy also exists with the per-thread magazine
 * cache layer in front of it, under its name with the suffix "+cache"
 * (cache/cache.h); those tables are derived here, once, from the list.
 */
#include "../cache/cache.h"
#include "opts.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define STRATEGIES(X)                                                                                                  \
	X(iova_buddy_lf_ops)                                                                                           \
	X(iova_buddy_locked_ops)                                                                                       \
	X(iova_linux_rbtree_ops)                                                                                       \
	X(iova_bitmap_ops)                                                                                             \
	X(iova_jemalloc_ops)

#define CACHE_SUFFIX "+cache"

#define DECLARE(ops) extern const iova_strategy_ops ops;
STRATEGIES(DECLARE)

/* The cache layer's create and option check need to know the strategy
 * below; the ops table has no room for that, so each strategy gets two
 * small trampolines. */
#define CACHE_TRAMPOLINES(ops)                                                                                         \
	static iova_status ops##_cached_create(const iova_space *space, const char *options, void **state)            \
	{                                                                                                              \
		return iova_cache_create(&ops, space, options, state);                                                 \
	}                                                                                                              \
	static iova_status ops##_cached_check(const char *options, char *msg, size_t msg_size)                        \
	{                                                                                                              \
		return iova_cache_check_options(&ops, options, msg, msg_size);                                         \
	}
STRATEGIES(CACHE_TRAMPOLINES)

struct entry {
	const iova_strategy_ops *base;
	iova_status (*cached_create)(const iova_space *, const char *, void **);
	iova_status (*cached_check)(const char *, char *, size_t);
	iova_strategy_ops cached; /* filled once by build_cached() */
	char cached_name[48];
	char cached_description[200];
};

#define ENTRY(ops) {&ops, ops##_cached_create, ops##_cached_check, {0}, "", ""},
static struct entry entries[] = {STRATEGIES(ENTRY)};

#define STRATEGY_COUNT (sizeof entries / sizeof entries[0])

static pthread_once_t cached_once = PTHREAD_ONCE_INIT;

static void build_cached(void)
{
	for (size_t i = 0; i < STRATEGY_COUNT; i++) {
		struct entry *e = &entries[i];
		snprintf(e->cached_name, sizeof e->cached_name, "%s%s", e->base->name, CACHE_SUFFIX);
		snprintf(e->cached_description, sizeof e->cached_description,
			 "%s, behind per-thread magazine caches (Linux rcache)", e->base->name);
		e->cached = iova_cache_ops_template;
		e->cached.name = e->cached_name;
		e->cached.description = e->cached_description;
		e->cached.caps = iova_cache_caps(e->base);
		e->cached.create = e->cached_create;
		e->cached.check_options = e->cached_check;
	}
}

const iova_strategy_ops *iova_strategy_find(const char *name)
{
	if (!name)
		return NULL;
	pthread_once(&cached_once, build_cached);
	size_t len = strlen(name), sl = strlen(CACHE_SUFFIX);
	bool cached = len > sl && !strcmp(name + len - sl, CACHE_SUFFIX);
	if (cached)
		len -= sl;
	for (size_t i = 0; i < STRATEGY_COUNT; i++)
		if (strlen(entries[i].base->name) == len && !strncmp(entries[i].base->name, name, len))
			return cached ? &entries[i].cached : entries[i].base;
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
			used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", entries[i].base->name);
		iova_opts_message(msg, msg_size, "unknown strategy \"%s\" (known: %s; each also with the suffix %s)", name,
				  known, CACHE_SUFFIX);
		return IOVA_ERR_INVALID_ARGUMENT;
	}
	if (ops->check_options)
		return ops->check_options(options, msg, msg_size);
	return iova_opts_parse(ops->name, options, NULL, 0, NULL, NULL, msg, msg_size);
}

size_t iova_strategy_count(void) { return STRATEGY_COUNT; }

const char *iova_strategy_name(size_t index) { return index < STRATEGY_COUNT ? entries[index].base->name : NULL; }

const char *iova_strategy_description(size_t index)
{
	return index < STRATEGY_COUNT ? entries[index].base->description : NULL;
}

unsigned iova_strategy_caps(size_t index) { return index < STRATEGY_COUNT ? entries[index].base->caps : 0; }
