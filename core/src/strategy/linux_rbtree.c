/* SPDX-License-Identifier: MIT */
/*
 * linux_rbtree.c - the "linux-rbtree" strategy: Linux's IOVA allocator
 * (drivers/iommu/iova.c, alloc_iova with size_aligned) reimplemented.
 *
 * Design, as in Linux: a red-black tree of the allocated ranges, with an
 * anchor node above the top of the space so the tree is never empty. An
 * allocation walks the tree downward (rb_prev) from a cached node - the
 * last allocation, or the node above the last free - taking the first gap
 * below it where an aligned block fits; only if none does is the part above
 * the cached node searched (the "retry"). Two cached nodes: one for requests
 * limited to 32-bit addresses, one for the rest. A failed 32-bit request
 * records its size; later 32-bit requests at least that big fail at once
 * until something below 4 GiB is freed (the max32_alloc_size fast-fail).
 * Blocks hold exactly the granules asked for, at a start aligned to the
 * size rounded up to a power of two (or the requested alignment).
 *
 * The walk is linear in the number of allocated ranges it passes - Linux's
 * known worst case, kept on purpose and counted (nodes_visited, max_walk).
 *
 * Differences from Linux, each because a request here says more than
 * alloc_iova's (size, limit_pfn): the search stops at the request's lowest
 * acceptable granule rather than the domain start; the retry is tracked by
 * a flag (Linux compares low_pfn with start_pfn); and a failure records
 * max32_alloc_size only when it proves the fast-fail sound (the request had
 * natural alignment, no lower bound, and a limit covering everything below
 * 4 GiB) - Linux records every failure, so a failure under a narrower limit
 * can make it refuse a request that would fit. Placement is always top-down.
 *
 * Lock discipline: one iova_lock (lock.h, Linux's iova_rbtree_lock) around
 * every operation and walk; nodes come from a pool (pool.h) under it.
 */
#include "../internal.h"
#include "lock.h"
#include "opts.h"
#include "pool.h"
#include "rbtree.h"

#include <stdlib.h>

struct range {
	struct iova_rb_node rb;
	uint64_t lo, hi; /* granules [lo, hi], inclusive as Linux's pfn_lo/pfn_hi */
};

#define ANCHOR UINT64_MAX

struct linux_rbtree {
	struct iova_lock lock;
	iova_space space;
	struct iova_rb_tree tree;
	struct range anchor;
	struct iova_rb_node *cached_node, *cached32_node;
	uint64_t dma_32bit_pfn;    /* first granule at or above 4 GiB */
	uint64_t max32_alloc_size; /* 32-bit requests this big fail at once */
	struct iova_pool pool;
	_Atomic uint64_t nodes_visited, max_walk, retries, fast_fails, failed, live_nodes;
};

static inline struct range *to_range(const struct iova_rb_node *n) { return IOVA_RB_ENTRY(n, struct range, rb); }

static struct iova_rb_node *cached_for(const struct linux_rbtree *t, uint64_t limit)
{
	return limit <= t->dma_32bit_pfn ? t->cached32_node : t->cached_node;
}

static void cached_insert_update(struct linux_rbtree *t, struct range *n)
{
	if (n->hi < t->dma_32bit_pfn)
		t->cached32_node = &n->rb;
	else
		t->cached_node = &n->rb;
}

static void cached_delete_update(struct linux_rbtree *t, struct range *f)
{
	struct range *c = to_range(t->cached32_node);
	if (f == c || (f->hi < t->dma_32bit_pfn && f->lo >= c->lo))
		t->cached32_node = iova_rb_next(&f->rb);
	if (f->lo < t->dma_32bit_pfn)
		t->max32_alloc_size = t->dma_32bit_pfn;
	c = to_range(t->cached_node);
	if (f->lo >= c->lo)
		t->cached_node = iova_rb_next(&f->rb);
}

/* Where a retry starts: the lowest range with lo >= limit. Like Linux, above
 * 32 bits it does not search and starts from the anchor. */
static struct iova_rb_node *find_limit(const struct linux_rbtree *t, uint64_t limit, uint64_t *visited)
{
	if (limit > t->dma_32bit_pfn)
		return (struct iova_rb_node *)&t->anchor.rb;
	struct iova_rb_node *n = t->tree.root, *best = NULL;
	while (n) {
		(*visited)++;
		if (to_range(n)->lo >= limit) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best; /* the anchor at least */
}

static iova_status lrb_alloc(void *state, const iova_req *req, uint64_t *out)
{
	struct linux_rbtree *t = state;
	const uint64_t size = req->granules, limit = req->hi, align_mask = ~(req->align - 1);
	uint64_t visited = 0;
	iova_status st = IOVA_ERR_NO_SPACE;
	iova_lock_acquire(&t->lock);
	struct range *n = iova_pool_get(&t->pool);
	if (!n) {
		st = IOVA_ERR_NO_MEMORY;
		goto out;
	}
	if (limit <= t->dma_32bit_pfn && size >= t->max32_alloc_size) {
		iova_count(&t->fast_fails, 1);
		goto fail;
	}
	struct iova_rb_node *curr = cached_for(t, limit), *prev;
	const uint64_t retry_pfn = to_range(curr)->hi;
	uint64_t high = limit, low = req->lo, new_pfn;
	bool retried = false;
	for (;;) {
		do {
			visited++;
			high = iova_min(high, to_range(curr)->lo);
			new_pfn = (high - size) & align_mask; /* wraps when high < size: caught below */
			prev = curr;
			curr = iova_rb_prev(curr);
		} while (curr && new_pfn <= to_range(curr)->hi && new_pfn >= low);
		if (high >= size && new_pfn >= low)
			break;
		if (retried || retry_pfn >= limit) {
			if (req->lo == t->space.first && req->align == (UINT64_C(1) << req->order) &&
			    limit >= iova_min(t->dma_32bit_pfn, t->space.end))
				t->max32_alloc_size = size;
			goto fail;
		}
		/* Nothing below the cached node: search above it. */
		retried = true;
		iova_count(&t->retries, 1);
		high = limit;
		low = iova_max(retry_pfn + 1, req->lo);
		curr = find_limit(t, limit, &visited);
	}
	n->lo = new_pfn;
	n->hi = new_pfn + size - 1;
	/* The new range sits between curr and prev in order: as prev's left
	 * child, or as the right child of prev's predecessor. */
	struct iova_rb_node **link = &prev->left, *parent = prev;
	if (prev->left) {
		parent = prev->left;
		while (parent->right)
			parent = parent->right;
		link = &parent->right;
	}
	iova_rb_link(&n->rb, parent, link);
	iova_rb_insert_fixup(&t->tree, &n->rb);
	cached_insert_update(t, n);
	iova_count(&t->live_nodes, 1);
	*out = new_pfn;
	st = IOVA_OK;
	goto out;
fail:
	iova_pool_put(&t->pool, n);
	iova_count(&t->failed, 1);
out:
	iova_count(&t->nodes_visited, visited);
	if (visited > iova_counter_read(&t->max_walk))
		atomic_store_explicit(&t->max_walk, visited, memory_order_relaxed);
	iova_lock_release(&t->lock);
	return st;
}

/* The range containing granule g (Linux's private_find_iova), or NULL. */
static struct range *find_range(const struct linux_rbtree *t, uint64_t g, uint64_t *visited)
{
	struct iova_rb_node *n = t->tree.root;
	while (n) {
		(*visited)++;
		struct range *r = to_range(n);
		if (g < r->lo)
			n = n->left;
		else if (g > r->hi)
			n = n->right;
		else
			return r;
	}
	return NULL;
}

static iova_status lrb_free(void *state, uint64_t g, uint64_t s, unsigned slot)
{
	(void)slot;
	struct linux_rbtree *t = state;
	uint64_t visited = 0;
	iova_status st = IOVA_OK;
	iova_lock_acquire(&t->lock);
	struct range *r = find_range(t, g, &visited);
	if (!r)
		st = IOVA_ERR_DOUBLE_FREE; /* every granule of the block is free again */
	else if (r->lo != g || r->hi - r->lo + 1 != s || r == &t->anchor)
		st = IOVA_ERR_UNKNOWN_HANDLE;
	if (st == IOVA_OK) {
		cached_delete_update(t, r);
		iova_rb_erase(&t->tree, &r->rb);
		iova_pool_put(&t->pool, r);
		iova_count(&t->live_nodes, (uint64_t)-1);
	}
	iova_count(&t->nodes_visited, visited);
	iova_lock_release(&t->lock);
	return st;
}

static void lrb_walk_free(const void *state, iova_extent_fn fn, void *ctx)
{
	struct linux_rbtree *t = (struct linux_rbtree *)state;
	iova_lock_acquire(&t->lock);
	uint64_t next = t->space.first;
	for (struct iova_rb_node *n = iova_rb_first(&t->tree); n; n = iova_rb_next(n)) {
		const struct range *r = to_range(n);
		if (r == &t->anchor)
			break;
		if (r->lo > next && !fn(ctx, next, r->lo - next))
			goto done;
		next = r->hi + 1;
	}
	if (next < t->space.end)
		fn(ctx, next, t->space.end - next);
done:
	iova_lock_release(&t->lock);
}

static void lrb_destroy(void *state)
{
	struct linux_rbtree *t = state;
	if (!t)
		return;
	iova_pool_release(&t->pool);
	iova_lock_destroy(&t->lock);
	free(t);
}

static iova_status lrb_check_options(const char *options, char *msg, size_t msg_size)
{
	return iova_opts_parse("linux-rbtree", options, NULL, 0, NULL, NULL, msg, msg_size);
}

static iova_status lrb_create(const iova_space *space, const char *options, void **state)
{
	iova_status st = lrb_check_options(options, NULL, 0);
	if (st)
		return st;
	struct linux_rbtree *t = calloc(1, sizeof *t);
	if (!t)
		return IOVA_ERR_NO_MEMORY;
	iova_lock_init(&t->lock);
	t->space = *space;
	iova_pool_init(&t->pool, sizeof(struct range));
	t->dma_32bit_pfn = (UINT64_C(1) << 32) >> space->granule_shift;
	t->max32_alloc_size = t->dma_32bit_pfn;
	t->anchor.lo = t->anchor.hi = ANCHOR;
	iova_rb_link(&t->anchor.rb, NULL, &t->tree.root);
	iova_rb_insert_fixup(&t->tree, &t->anchor.rb);
	t->cached_node = t->cached32_node = &t->anchor.rb;
	*state = t;
	return IOVA_OK;
}

static uint64_t lrb_metadata_reserved(const void *state)
{
	struct linux_rbtree *t = (struct linux_rbtree *)state;
	iova_lock_acquire(&t->lock);
	uint64_t r = sizeof *t + t->pool.reserved_bytes;
	iova_lock_release(&t->lock);
	return r;
}

static uint64_t lrb_metadata_resident(const void *state)
{
	struct linux_rbtree *t = (struct linux_rbtree *)state;
	iova_lock_acquire(&t->lock);
	uint64_t r = sizeof *t + iova_pool_resident(&t->pool);
	iova_lock_release(&t->lock);
	return r;
}

static void lrb_counters(const void *state, iova_counter_fn fn, void *ctx)
{
	const struct linux_rbtree *t = state;
	fn(ctx, "lock_acquisitions", iova_counter_read(&t->lock.acquisitions), IOVA_COUNTER_TOTAL);
	fn(ctx, "lock_contended", iova_counter_read(&t->lock.contended), IOVA_COUNTER_TOTAL);
	fn(ctx, "nodes_visited", iova_counter_read(&t->nodes_visited), IOVA_COUNTER_TOTAL);
	fn(ctx, "max_walk", iova_counter_read(&t->max_walk), IOVA_COUNTER_PEAK);
	fn(ctx, "retries", iova_counter_read(&t->retries), IOVA_COUNTER_TOTAL);
	fn(ctx, "fast_fails_32bit", iova_counter_read(&t->fast_fails), IOVA_COUNTER_TOTAL);
	fn(ctx, "failed_allocs", iova_counter_read(&t->failed), IOVA_COUNTER_TOTAL);
	fn(ctx, "live_nodes", iova_counter_read(&t->live_nodes), IOVA_COUNTER_LEVEL);
}

const iova_strategy_ops iova_linux_rbtree_ops = {
	.name = "linux-rbtree",
	.description = "Linux's IOVA allocator: rbtree of ranges under one lock, top-down from a cached node",
	.caps = IOVA_CAP_WINDOW | IOVA_CAP_ALIGNMENT | IOVA_CAP_EXACT_SIZE, /* always top-down */
	.create = lrb_create,
	.destroy = lrb_destroy,
	.alloc = lrb_alloc,
	.free = lrb_free,
	.walk_free = lrb_walk_free,
	.metadata_reserved = lrb_metadata_reserved,
	.metadata_resident = lrb_metadata_resident,
	.counters = lrb_counters,
	.check_options = lrb_check_options,
};
