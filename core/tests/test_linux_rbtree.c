/* SPDX-License-Identifier: MIT */
/*
 * test_linux_rbtree.c - the red-black tree itself (against a sorted array),
 * and the behaviours of Linux's IOVA algorithm that linux-rbtree must
 * reproduce: top-down size-aligned placement from the cached node, the
 * retry above the cached node, the linear walk (visible in nodes_visited and
 * max_walk), and the 32-bit fast-fail with its reset on a free below 4 GiB.
 */
#include "check.h"
#include "test_counter.h"
#include "iova.h"
#include "strategy/rbtree.h"

#include <stdlib.h>
#include <string.h>

#define G UINT64_C(4096)

/* ---- the tree ---- */

struct item {
	struct iova_rb_node rb;
	uint64_t key;
};

static struct item *entry(struct iova_rb_node *n) { return IOVA_RB_ENTRY(n, struct item, rb); }

static void insert(struct iova_rb_tree *t, struct item *it)
{
	struct iova_rb_node **link = &t->root, *parent = NULL;
	while (*link) {
		parent = *link;
		link = it->key < entry(parent)->key ? &parent->left : &parent->right;
	}
	iova_rb_link(&it->rb, parent, link);
	iova_rb_insert_fixup(t, &it->rb);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_tree(void)
{
	enum { N = 3000 };
	static struct item items[N];
	static bool in[N];
	struct iova_rb_tree t = {NULL};
	uint64_t seed = 12345;
	for (int step = 0; step < 40000; step++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		int i = (int)(seed % N);
		if (in[i]) {
			iova_rb_erase(&t, &items[i].rb);
			in[i] = false;
		} else {
			items[i].key = seed >> 20; /* duplicates allowed */
			insert(&t, &items[i]);
			in[i] = true;
		}
		if (step % 1000 == 0 || step > 39900) {
			CHECK(iova_rb_check(&t) >= 0);
			/* In-order walks, both ways, against a sorted copy. */
			static uint64_t keys[N];
			int n = 0;
			for (int j = 0; j < N; j++)
				if (in[j])
					keys[n++] = items[j].key;
			qsort(keys, (size_t)n, sizeof keys[0], cmp_u64);
			int k = 0;
			for (struct iova_rb_node *x = iova_rb_first(&t); x; x = iova_rb_next(x))
				CHECK(k < n && entry(x)->key == keys[k++]);
			CHECK_EQ(k, n);
			for (struct iova_rb_node *x = iova_rb_last(&t); x; x = iova_rb_prev(x))
				CHECK(k > 0 && entry(x)->key == keys[--k]);
			CHECK_EQ(k, 0);
		}
	}
}

/* ---- Linux's behaviours ---- */

static iova_domain *open_domain(uint64_t base, uint64_t size)
{
	iova_domain *d = NULL;
	iova_domain_config cfg = {.base = base, .size = size, .strategy = "linux-rbtree"};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	return d;
}

static void test_placement(void)
{
	const uint64_t base = UINT64_C(1) << 30, size = UINT64_C(1) << 24;
	iova_domain *d = open_domain(base, size);
	iova_allocation a, b, c;
	/* Top-down, size-aligned: 3 granules go at the top 4-granule slot. */
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 3 * G}, &a), IOVA_OK);
	CHECK_EQ(a.iova, base + size - 4 * G);
	/* Bottom-up is not honoured (Linux has only top-down). */
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G, .placement = IOVA_PLACE_BOTTOM_UP}, &b), IOVA_OK);
	CHECK_EQ(b.iova, base + size - 5 * G);
	/* The granule above `a` stays free: the next search starts below the
	 * cached node (b), so it is found only by the retry... */
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 2 * G}, &c), IOVA_OK);
	CHECK_EQ(c.iova, base + size - 8 * G);
	CHECK_EQ(test_counter(d, "retries"), 0);
	/* ...which a window above the cached node forces. */
	iova_allocation top;
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G, .lowest = base + size - 4 * G}, &top), IOVA_OK);
	CHECK_EQ(top.iova, base + size - G);
	CHECK_EQ(test_counter(d, "retries"), 1);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_ERR_DOUBLE_FREE);
	CHECK_STATUS(iova_free(d, b.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, c.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, top.handle), IOVA_OK);
	iova_domain_destroy(d);
}

/* Fill with single granules, free every other one, ask for two: no fit,
 * and the search visits every node (twice, with the retry). */
static void fill_and_punch(iova_domain *d, iova_allocation *a, int n)
{
	for (int i = 0; i < n; i++)
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &a[i]), IOVA_OK);
	for (int i = 0; i < n; i += 2)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
}

static void test_linear_walk_and_fast_fail(void)
{
	enum { N = 2048 };
	static iova_allocation a[N];
	iova_allocation x;

	/* Below 4 GiB: one linear failure, then the fast-fail. */
	iova_domain *d = open_domain(UINT64_C(1) << 30, N * G);
	fill_and_punch(d, a, N);
	uint64_t visited = test_counter(d, "nodes_visited");
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 2 * G}, &x), IOVA_ERR_NO_SPACE);
	CHECK(test_counter(d, "max_walk") >= N / 2);
	CHECK(test_counter(d, "nodes_visited") - visited >= N / 2);
	visited = test_counter(d, "nodes_visited");
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 2 * G}, &x), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 4 * G}, &x), IOVA_ERR_NO_SPACE);
	CHECK_EQ(test_counter(d, "fast_fails_32bit"), 2);
	CHECK_EQ(test_counter(d, "nodes_visited"), visited); /* no walk at all */
	/* A smaller request still searches, and succeeds. */
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = G}, &x), IOVA_OK);
	/* A free below 4 GiB resets the fast-fail. Freeing a[1] and a[3] makes
	 * two aligned pairs free, one of which x may have broken. */
	CHECK_STATUS(iova_free(d, a[1].handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a[3].handle), IOVA_OK);
	iova_allocation two;
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 2 * G}, &two), IOVA_OK);
	CHECK_EQ(test_counter(d, "fast_fails_32bit"), 2);
	iova_domain_destroy(d);

	/* Above 4 GiB there is no fast-fail: every failure walks every node. */
	d = open_domain(UINT64_C(1) << 40, N * G);
	fill_and_punch(d, a, N);
	for (int k = 0; k < 3; k++) {
		visited = test_counter(d, "nodes_visited");
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 2 * G}, &x), IOVA_ERR_NO_SPACE);
		CHECK(test_counter(d, "nodes_visited") - visited >= N / 2);
	}
	CHECK_EQ(test_counter(d, "fast_fails_32bit"), 0);
	iova_domain_destroy(d);
}

/* A failure under a narrower window must not make a wider request fail
 * (Linux records it; here only failures that prove the fast-fail do). */
static void test_fast_fail_is_sound(void)
{
	iova_domain *d = open_domain(UINT64_C(1) << 30, UINT64_C(1) << 24);
	iova_allocation a, x;
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 8 * G, .lowest = (UINT64_C(1) << 30), .highest = (UINT64_C(1) << 30) + 8 * G - 1}, &a),
		     IOVA_OK);
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 8 * G, .lowest = (UINT64_C(1) << 30), .highest = (UINT64_C(1) << 30) + 16 * G - 1,
						     .alignment = 16 * G}, &x), IOVA_ERR_NO_SPACE);
	CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 8 * G}, &x), IOVA_OK);
	CHECK_EQ(test_counter(d, "fast_fails_32bit"), 0);
	CHECK_STATUS(iova_free(d, x.handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	iova_domain_destroy(d);
}

int main(void)
{
	test_tree();
	test_placement();
	test_linear_walk_and_fast_fail();
	test_fast_fail_is_sound();
	return check_exit_code();
}
