/* SPDX-License-Identifier: MIT */
/*
 * extent_set.c - free ranges, coalesced, first fit (see extent_set.h).
 */
#include "extent_set.h"

struct range {
	struct iova_rb_node rb;
	uint64_t start, end;
};

static inline struct range *to_range(const struct iova_rb_node *n) { return IOVA_RB_ENTRY(n, struct range, rb); }

void extent_set_init(struct extent_set *s)
{
	s->tree.root = NULL;
	iova_pool_init(&s->pool, sizeof(struct range));
	s->free_granules = 0;
}

void extent_set_release(struct extent_set *s)
{
	iova_pool_release(&s->pool);
	s->tree.root = NULL;
	s->free_granules = 0;
}

/* The range with the highest start <= g, or NULL. */
static struct range *at_or_below(const struct extent_set *s, uint64_t g)
{
	struct iova_rb_node *n = s->tree.root, *best = NULL;
	while (n) {
		if (to_range(n)->start <= g) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best ? to_range(best) : NULL;
}

static void insert(struct extent_set *s, struct range *r)
{
	struct iova_rb_node **link = &s->tree.root, *parent = NULL;
	while (*link) {
		parent = *link;
		link = r->start < to_range(parent)->start ? &parent->left : &parent->right;
	}
	iova_rb_link(&r->rb, parent, link);
	iova_rb_insert_fixup(&s->tree, &r->rb);
}

bool extent_set_add(struct extent_set *s, uint64_t start, uint64_t len)
{
	const uint64_t end = start + len;
	struct range *pred = at_or_below(s, start);
	struct iova_rb_node *sn = pred ? iova_rb_next(&pred->rb) : iova_rb_first(&s->tree);
	struct range *succ = sn ? to_range(sn) : NULL;
	if ((pred && pred->end > start) || (succ && succ->start < end))
		return false;
	if (pred && pred->end == start) {
		pred->end = end;
		if (succ && succ->start == end) {
			pred->end = succ->end;
			iova_rb_erase(&s->tree, &succ->rb);
			iova_pool_put(&s->pool, succ);
		}
	} else if (succ && succ->start == end) {
		succ->start = start; /* still between pred and succ's successor */
	} else {
		struct range *r = iova_pool_get(&s->pool);
		if (!r)
			return false;
		r->start = start;
		r->end = end;
		insert(s, r);
	}
	s->free_granules += len;
	return true;
}

/* Remove [p, p+len) from range r, which contains it. */
static bool carve(struct extent_set *s, struct range *r, uint64_t p, uint64_t len)
{
	if (p == r->start && p + len == r->end) {
		iova_rb_erase(&s->tree, &r->rb);
		iova_pool_put(&s->pool, r);
	} else if (p == r->start) {
		r->start += len;
	} else if (p + len == r->end) {
		r->end = p;
	} else {
		struct range *tail = iova_pool_get(&s->pool);
		if (!tail)
			return false;
		tail->start = p + len;
		tail->end = r->end;
		r->end = p;
		insert(s, tail);
	}
	s->free_granules -= len;
	return true;
}

bool extent_set_take(struct extent_set *s, uint64_t len, uint64_t align, uint64_t *start)
{
	for (struct iova_rb_node *n = iova_rb_first(&s->tree); n; n = iova_rb_next(n)) {
		struct range *r = to_range(n);
		uint64_t p = iova_round_up(r->start, align);
		if (p >= r->start && p < r->end && r->end - p >= len) {
			if (!carve(s, r, p, len))
				return false;
			*start = p;
			return true;
		}
	}
	return false;
}

bool extent_set_take_at(struct extent_set *s, uint64_t start, uint64_t len)
{
	struct range *r = at_or_below(s, start);
	return r && r->end >= start + len && carve(s, r, start, len);
}

void extent_set_walk(const struct extent_set *s, iova_extent_fn fn, void *ctx)
{
	for (struct iova_rb_node *n = iova_rb_first(&s->tree); n; n = iova_rb_next(n))
		if (!fn(ctx, to_range(n)->start, to_range(n)->end - to_range(n)->start))
			return;
}
