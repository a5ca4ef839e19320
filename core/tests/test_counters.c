/* SPDX-License-Identifier: MIT */
/*
 * test_counters.c - strategies' own counters: what iova_domain_counters()
 * reports is what the statistics snapshot carries, for every registered
 * strategy with and without its cache layer; and the lock-free buddy's
 * counters count what they say (searches, splits, merges, lost
 * compare-and-swaps).
 */
#include "check.h"
#include "test_counter.h"
#include "iova.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define G UINT64_C(4096)
#define SPACE (UINT64_C(1) << 34) /* 16 GiB */

struct seen {
	unsigned n;
	iova_counter c[IOVA_STATS_MAX_COUNTERS + 8];
};

static void record(void *ctx, const char *name, uint64_t value, iova_counter_kind kind)
{
	struct seen *s = ctx;
	if (s->n < sizeof s->c / sizeof s->c[0])
		s->c[s->n] = (iova_counter){name, value, kind};
	s->n++;
}

/* Some traffic that moves every kind of counter a little. */
static void exercise(iova_domain *d)
{
	iova_allocation a[40];
	for (int i = 0; i < 40; i++)
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G << (i % 5)}, &a[i]), IOVA_OK);
	for (int i = 0; i < 40; i += 2)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a[0].handle), IOVA_ERR_DOUBLE_FREE);
}

/* @st's counters are @s's, all of them, in the same order, with valid kinds
 * and distinct names (@name: the strategy, for messages). */
static void check_same(const char *name, const iova_stats *st, const struct seen *s)
{
	CHECK_MSG(s->n <= IOVA_STATS_MAX_COUNTERS, "%s reports %u counters, the snapshot holds %u", name, s->n,
		  (unsigned)IOVA_STATS_MAX_COUNTERS);
	CHECK_MSG(s->n > 0, "%s reports no counters", name);
	CHECK_EQ(st->counter_count, s->n);
	for (unsigned k = 0; k < st->counter_count && k < s->n; k++) {
		const iova_counter *c = &st->counters[k], *r = &s->c[k];
		CHECK_MSG(!strcmp(c->name, r->name), "%s: counter %u is %s in the snapshot, %s in the report", name, k,
			  c->name, r->name);
		CHECK_MSG(iova_counter_kind_name(c->kind) != NULL, "%s: %s has no valid kind", name, c->name);
		CHECK_EQ(c->kind, r->kind);
		/* Nothing ran in between: totals and levels agree. */
		CHECK_MSG(c->value == r->value, "%s: %s is %llu in the snapshot, %llu in the report", name, c->name,
			  (unsigned long long)c->value, (unsigned long long)r->value);
		for (unsigned m = 0; m < k; m++)
			CHECK_MSG(strcmp(c->name, st->counters[m].name) != 0, "%s: counter %s twice", name, c->name);
	}
}

/* For each strategy, with and without "+cache": the snapshot carries what
 * iova_domain_counters() reports. */
static void test_snapshot_carries_counters(void)
{
	for (size_t i = 0; i < iova_strategy_count(); i++) {
		for (int cached = 0; cached < 2; cached++) {
			char name[64];
			snprintf(name, sizeof name, "%s%s", iova_strategy_name(i), cached ? "+cache" : "");
			iova_domain *d;
			iova_domain_config cfg = {.size = UINT64_C(1) << 30, .strategy = name};
			CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
			if (!d)
				continue;
			exercise(d);
			/* The snapshot first: its walk may take the strategy's lock,
			 * which lock counters count. */
			iova_stats st;
			CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
			struct seen s = {0};
			iova_domain_counters(d, record, &s);
			check_same(name, &st, &s);
			iova_domain_destroy(d);
		}
	}
	CHECK(!strcmp(iova_counter_kind_name(IOVA_COUNTER_TOTAL), "total"));
	CHECK(!strcmp(iova_counter_kind_name(IOVA_COUNTER_LEVEL), "level"));
	CHECK(!strcmp(iova_counter_kind_name(IOVA_COUNTER_PEAK), "peak"));
	CHECK(iova_counter_kind_name((iova_counter_kind)7) == NULL);
}

/* The value of counter @name in snapshot @st (a failed check if absent). */
static uint64_t snap(const iova_stats *st, const char *name)
{
	for (unsigned k = 0; k < st->counter_count; k++)
		if (!strcmp(st->counters[k].name, name))
			return st->counters[k].value;
	CHECK_MSG(0, "counter %s not in the snapshot", name);
	return 0;
}

/* The cache layer's hits, as the snapshot reports them, and its levels. */
static void test_cache_counters_in_snapshot(void)
{
	iova_domain *d;
	iova_domain_config cfg = {.size = UINT64_C(1) << 30, .strategy = "buddy-lf+cache"};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	iova_allocation a;
	for (int i = 0; i < 10; i++) {
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &a), IOVA_OK);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	}
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(snap(&st, "cache_misses"), 1); /* the first allocation */
	CHECK_EQ(snap(&st, "cache_hits"), 9);
	CHECK_EQ(snap(&st, "cache_cached_granules"), 1);
	CHECK_EQ(st.cached_bytes, G);
	CHECK_EQ(snap(&st, "searches"), 1); /* the buddy's own, below the cache */
	for (unsigned k = 0; k < st.counter_count; k++)
		if (!strcmp(st.counters[k].name, "cache_cached_granules"))
			CHECK_EQ(st.counters[k].kind, IOVA_COUNTER_LEVEL);
	iova_domain_destroy(d);
}

/* ---- the lock-free buddy's counters ---- */

static iova_domain *D;
static iova_allocation held[33];

static void *free_one(void *arg)
{
	CHECK_STATUS(iova_free(D, held[*(int *)arg].handle), IOVA_OK);
	return NULL;
}

static void test_buddy_counters(void)
{
	iova_domain_config cfg = {.size = SPACE, .strategy = "buddy-lf"};
	CHECK_STATUS(iova_domain_create(&cfg, &D), IOVA_OK);
	/* A fresh tree: the first allocation searches and splits the root down
	 * to a level-0 word; the next ones take that word's other granules
	 * with one compare-and-swap each. */
	for (int i = 0; i < 16; i++)
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &held[i]), IOVA_OK);
	CHECK_EQ(test_counter(D, "searches"), 1);
	CHECK(test_counter(D, "splits") >= 1);
	CHECK_EQ(test_counter(D, "merges"), 0);
	CHECK_EQ(test_counter(D, "cas_retries"), 0);

	/* Another thread frees a block of this thread's word: the value this
	 * thread left there is stale, so its next claim's compare-and-swap
	 * finds the word changed, and it claims again from what it found. */
	pthread_t t;
	int victim = 5;
	pthread_create(&t, NULL, free_one, &victim);
	pthread_join(t, NULL);
	CHECK_EQ(test_counter(D, "cas_retries"), 0);
	CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &held[victim]), IOVA_OK);
	CHECK_EQ(test_counter(D, "cas_retries"), 1);
	CHECK_EQ(test_counter(D, "searches"), 1);

	/* The word's 32 granules in use, the next allocation searches. */
	for (int i = 16; i < 32; i++)
		CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &held[i]), IOVA_OK);
	CHECK_EQ(test_counter(D, "searches"), 1);
	CHECK_STATUS(iova_alloc(D, &(iova_request){.size = G}, &held[32]), IOVA_OK);
	CHECK_EQ(test_counter(D, "searches"), 2);

	/* Everything back: coalescing is lazy, so the tree is whole again only
	 * once a search merges the split fields, as a request for the whole
	 * space makes it do. */
	for (int i = 0; i < 33; i++)
		CHECK_STATUS(iova_free(D, held[i].handle), IOVA_OK);
	CHECK_EQ(test_counter(D, "merges"), 0);
	iova_allocation all;
	CHECK_STATUS(iova_alloc(D, &(iova_request){.size = SPACE}, &all), IOVA_OK);
	CHECK(test_counter(D, "merges") >= 1);
	CHECK_STATUS(iova_free(D, all.handle), IOVA_OK);
	iova_domain_destroy(D);
}

int main(void)
{
	test_snapshot_carries_counters();
	test_cache_counters_in_snapshot();
	test_buddy_counters();
	return check_exit_code();
}
