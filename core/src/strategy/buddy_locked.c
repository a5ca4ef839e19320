/* SPDX-License-Identifier: MIT */
/*
 * buddy_locked.c - the "buddy-locked" strategy: a classic buddy allocator
 * under one lock, after Linux's drm_buddy (drivers/gpu/drm/drm_buddy.c).
 *
 * Design: the space is cut into roots - maximal naturally aligned
 * power-of-two blocks, largest first where the space allows - and each root
 * is a binary tree of block records. A block is FREE, ALLOC or SPLIT (then
 * it has two children, at its start and its middle). Free blocks of each
 * order sit in a red-black tree keyed by address (drm_buddy keeps per-order
 * free trees too), so the lowest or highest fitting block inside a window is
 * found without scanning the whole order.
 *
 * Allocation (contiguous, as every request here is): the smallest order
 * holding a free block that contains an aligned start inside the window is
 * taken, split down to the request's rounded order, and the rounded block is
 * trimmed to exactly the granules asked for: the unused tail goes back to
 * the free trees as its buddy-sized pieces (drm_buddy_block_trim). When no
 * rounded block is free, "try harder" (drm's __alloc_contig_try_harder)
 * looks for the granules spanning adjacent free blocks that are not buddies:
 * an aligned free block of lower order whose right neighbours are free far
 * enough. An allocation is then one or more ALLOC blocks, the first marked
 * and carrying the allocation's size, which is what a free checks.
 *
 * Invariants (iova_buddy_locked_check verifies them, as drm's tests do):
 * every block is FREE, ALLOC or SPLIT; its start is a multiple of its size;
 * its buddy is at start XOR size; two free buddies never coexist (a free
 * merges upward at once); the free trees hold exactly the FREE blocks.
 *
 * Lock discipline: one iova_lock (lock.h; drm_buddy's caller-held mutex)
 * around every operation and walk. Block records come from a pool.
 *
 * Options: try_harder=0|1 (default 1).
 */
#include "lock.h"
#include "opts.h"
#include "pool.h"
#include "rbtree.h"
#include "strategies.h"

#include <stdio.h>
#include <stdlib.h>

enum block_state { B_FREE, B_ALLOC, B_SPLIT };

struct block {
	struct iova_rb_node rb; /* in free[order] while FREE */
	struct block *parent, *child[2];
	uint64_t start;
	uint64_t alloc_granules; /* first block of an allocation: the allocation's size */
	uint8_t order, state;
	bool first;
};

#define MAX_ORDER IOVA_MAX_GRANULES_LOG2
#define STASH (2 * (MAX_ORDER + 2))

struct stash {
	struct block *b[STASH];
	unsigned n;
};

struct buddy_locked_opts {
	bool try_harder;
};

static const struct iova_opt bl_spec[] = {
	IOVA_OPT_BOOL_FIELD("try_harder", struct buddy_locked_opts, try_harder),
};

struct buddy_locked {
	struct iova_lock lock;
	iova_space space;
	bool try_harder;
	struct iova_rb_tree free[MAX_ORDER + 1];
	struct block *roots[2 * (MAX_ORDER + 1)];
	unsigned nroots;
	struct iova_pool pool;
	struct stash stash;
	_Atomic uint64_t splits, merges, blocks_examined, try_harder_runs, try_harder_hits, failed;
};

static inline uint64_t bsize(const struct block *b) { return UINT64_C(1) << b->order; }
static inline uint64_t bend(const struct block *b) { return b->start + bsize(b); }
static inline struct block *to_block(const struct iova_rb_node *n) { return IOVA_RB_ENTRY(n, struct block, rb); }

static void free_insert(struct buddy_locked *bl, struct block *b)
{
	b->state = B_FREE;
	b->first = false;
	b->alloc_granules = 0;
	struct iova_rb_node **link = &bl->free[b->order].root, *parent = NULL;
	while (*link) {
		parent = *link;
		link = b->start < to_block(parent)->start ? &parent->left : &parent->right;
	}
	iova_rb_link(&b->rb, parent, link);
	iova_rb_insert_fixup(&bl->free[b->order], &b->rb);
}

static void free_remove(struct buddy_locked *bl, struct block *b) { iova_rb_erase(&bl->free[b->order], &b->rb); }

/* The block (of any state) with the lowest start >= g in free[k], or NULL. */
static struct iova_rb_node *free_lower_bound(const struct buddy_locked *bl, unsigned k, uint64_t g)
{
	struct iova_rb_node *n = bl->free[k].root, *best = NULL;
	while (n) {
		if (to_block(n)->start >= g) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/* The block with the highest start < g in free[k], or NULL. */
static struct iova_rb_node *free_below(const struct buddy_locked *bl, unsigned k, uint64_t g)
{
	struct iova_rb_node *n = bl->free[k].root, *best = NULL;
	while (n) {
		if (to_block(n)->start < g) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* The leaf block containing granule g (g inside the space). */
static struct block *block_find(const struct buddy_locked *bl, uint64_t g)
{
	unsigned lo = 0, hi = bl->nroots;
	while (hi - lo > 1) {
		unsigned mid = (lo + hi) / 2;
		if (bl->roots[mid]->start <= g)
			lo = mid;
		else
			hi = mid;
	}
	struct block *b = bl->roots[lo];
	while (b->state == B_SPLIT)
		b = b->child[g >= b->start + bsize(b) / 2];
	return b;
}

/* Top up the spare records for one allocation's splits before anything
 * changes, so that a host out of memory leaves the structure untouched. An
 * allocation splits at most MAX_ORDER blocks, two records each. */
static bool stash_fill(struct buddy_locked *bl, struct stash *s)
{
	while (s->n < STASH) {
		if (!(s->b[s->n] = iova_pool_get(&bl->pool)))
			return false;
		s->n++;
	}
	return true;
}

static void split(struct buddy_locked *bl, struct block *b, struct stash *s)
{
	for (int i = 0; i < 2; i++) {
		struct block *c = s->b[--s->n];
		*c = (struct block){.parent = b, .start = b->start + ((uint64_t)i << (b->order - 1)), .order = (uint8_t)(b->order - 1)};
		b->child[i] = c;
	}
	b->state = B_SPLIT;
	iova_count(&bl->splits, 1);
}

/*
 * Allocate the part of block b (FREE, out of the free trees) that lies in
 * [lo, hi): whole blocks inside become ALLOC, blocks outside go back to the
 * free trees, a block straddling an edge is split (the trim).
 */
static void alloc_range(struct buddy_locked *bl, struct block *b, uint64_t lo, uint64_t hi, struct stash *s)
{
	if (b->start >= lo && bend(b) <= hi) {
		b->state = B_ALLOC;
		b->first = b->start == lo;
		b->alloc_granules = b->first ? hi - lo : 0;
		return;
	}
	if (bend(b) <= lo || b->start >= hi) {
		free_insert(bl, b);
		return;
	}
	split(bl, b, s);
	alloc_range(bl, b->child[0], lo, hi, s);
	alloc_range(bl, b->child[1], lo, hi, s);
}

/* A free block of order k holding an aligned start p inside the window, the
 * lowest (or highest, top-down) such; NULL if none. */
static struct block *find_in_order(struct buddy_locked *bl, const iova_req *r, unsigned k, uint64_t *pos, uint64_t *examined)
{
	const uint64_t s = r->granules, rounded = UINT64_C(1) << r->order;
	if (r->placement != IOVA_PLACE_TOP_DOWN) {
		uint64_t from = r->lo >= (UINT64_C(1) << k) ? r->lo - (UINT64_C(1) << k) + 1 : 0;
		for (struct iova_rb_node *n = free_lower_bound(bl, k, from); n; n = iova_rb_next(n)) {
			struct block *b = to_block(n);
			(*examined)++;
			if (b->start >= r->hi)
				break;
			uint64_t p = iova_round_up(iova_max(b->start, r->lo), r->align);
			if (p < bend(b) && p <= r->hi - s && p >= b->start) {
				*pos = p;
				return b;
			}
		}
	} else {
		for (struct iova_rb_node *n = free_below(bl, k, r->hi); n; n = iova_rb_prev(n)) {
			struct block *b = to_block(n);
			(*examined)++;
			if (bend(b) <= r->lo)
				break;
			uint64_t p = iova_round_down(iova_min(bend(b) - rounded, r->hi - s), r->align);
			if (p >= b->start && p >= r->lo && p <= r->hi - s) {
				*pos = p;
				return b;
			}
		}
	}
	return NULL;
}

/* Are granules [p, p+s) all free, given that the free block b starts at p?
 * Fills @run with the free blocks covering them. */
static bool free_run(const struct buddy_locked *bl, struct block *b, uint64_t s, struct block **run, unsigned *n)
{
	const uint64_t end = b->start + s;
	*n = 0;
	for (uint64_t g = b->start; g < end;) {
		struct block *x = g == b->start ? b : block_find(bl, g);
		if (x->state != B_FREE || *n == STASH)
			return false;
		run[(*n)++] = x;
		g = bend(x);
	}
	return true;
}

/* drm_buddy's try-harder for contiguous requests: s granules spanning free
 * blocks that are not buddies. Only lower orders can start such a run (a
 * free block of the rounded order or above would have been found). */
static bool try_harder(struct buddy_locked *bl, const iova_req *r, uint64_t *out, struct stash *st, uint64_t *examined)
{
	const uint64_t s = r->granules;
	struct block *run[STASH];
	unsigned n;
	iova_count(&bl->try_harder_runs, 1);
	for (unsigned k = r->order; k-- > 0;) {
		const bool down = r->placement == IOVA_PLACE_TOP_DOWN;
		struct iova_rb_node *node = down ? free_below(bl, k, r->hi) : free_lower_bound(bl, k, r->lo);
		for (; node; node = down ? iova_rb_prev(node) : iova_rb_next(node)) {
			struct block *b = to_block(node);
			(*examined)++;
			if (down ? bend(b) <= r->lo : b->start >= r->hi)
				break;
			if (b->start < r->lo || (b->start & (r->align - 1)) || b->start > r->hi - s)
				continue;
			if (!free_run(bl, b, s, run, &n))
				continue;
			for (unsigned i = 0; i < n; i++) {
				free_remove(bl, run[i]);
				alloc_range(bl, run[i], b->start, b->start + s, st);
			}
			*out = b->start;
			iova_count(&bl->try_harder_hits, 1);
			return true;
		}
	}
	return false;
}

static iova_status bl_alloc(void *state, const iova_req *r, uint64_t *out)
{
	struct buddy_locked *bl = state;
	struct stash *st = &bl->stash;
	uint64_t examined = 0, p;
	iova_status ret = IOVA_ERR_NO_SPACE;
	iova_lock_acquire(&bl->lock);
	if (!stash_fill(bl, st)) {
		iova_lock_release(&bl->lock);
		return IOVA_ERR_NO_MEMORY;
	}
	for (unsigned k = r->order; k <= MAX_ORDER; k++) {
		if (!bl->free[k].root)
			continue;
		struct block *b = find_in_order(bl, r, k, &p, &examined);
		if (b) {
			free_remove(bl, b);
			alloc_range(bl, b, p, p + r->granules, st);
			*out = p;
			ret = IOVA_OK;
			break;
		}
	}
	if (ret != IOVA_OK && bl->try_harder && !iova_is_pow2(r->granules) && try_harder(bl, r, out, st, &examined))
		ret = IOVA_OK;
	if (ret != IOVA_OK)
		iova_count(&bl->failed, 1);
	iova_count(&bl->blocks_examined, examined);
	iova_lock_release(&bl->lock);
	return ret;
}

/* Mark b free and merge it with free buddies, upward. */
static void release(struct buddy_locked *bl, struct block *b)
{
	while (b->parent) {
		struct block *p = b->parent, *buddy = p->child[p->child[0] == b];
		if (buddy->state != B_FREE)
			break;
		free_remove(bl, buddy);
		iova_pool_put(&bl->pool, buddy);
		iova_pool_put(&bl->pool, b);
		p->child[0] = p->child[1] = NULL;
		b = p;
		iova_count(&bl->merges, 1);
	}
	free_insert(bl, b);
}

static iova_status bl_free(void *state, uint64_t g, uint64_t s, unsigned slot)
{
	(void)slot;
	struct buddy_locked *bl = state;
	if (g < bl->space.first || g >= bl->space.end || !s || s > bl->space.end - g)
		return IOVA_ERR_UNKNOWN_HANDLE;
	struct block *list[STASH];
	unsigned n = 0;
	iova_status st = IOVA_OK;
	iova_lock_acquire(&bl->lock);
	struct block *b = block_find(bl, g);
	if (b->state == B_FREE) {
		st = IOVA_ERR_DOUBLE_FREE;
	} else if (b->start != g || !b->first || b->alloc_granules != s) {
		st = IOVA_ERR_UNKNOWN_HANDLE;
	} else {
		/* Check every piece before changing anything. */
		for (uint64_t pos = g; pos < g + s && st == IOVA_OK;) {
			struct block *x = pos == g ? b : block_find(bl, pos);
			if (x->state != B_ALLOC || x->start != pos || (pos != g && x->first) || bend(x) > g + s || n == STASH)
				st = IOVA_ERR_UNKNOWN_HANDLE;
			else
				list[n++] = x;
			pos = bend(x);
		}
	}
	if (st == IOVA_OK)
		for (unsigned i = 0; i < n; i++)
			release(bl, list[i]);
	iova_lock_release(&bl->lock);
	return st;
}

/* Visit the leaves of every root in address order. */
static void for_each_leaf(const struct buddy_locked *bl, bool (*fn)(void *ctx, const struct block *b), void *ctx)
{
	const struct block *stack[2 * (MAX_ORDER + 2)];
	for (unsigned r = 0; r < bl->nroots; r++) {
		unsigned sp = 0;
		stack[sp++] = bl->roots[r];
		while (sp) {
			const struct block *b = stack[--sp];
			if (b->state == B_SPLIT) {
				stack[sp++] = b->child[1];
				stack[sp++] = b->child[0];
			} else if (!fn(ctx, b)) {
				return;
			}
		}
	}
}

struct walk_ctx {
	iova_extent_fn fn;
	void *ctx;
	uint64_t start, len;
	bool stopped;
};

static bool walk_leaf(void *c, const struct block *b)
{
	struct walk_ctx *w = c;
	if (b->state == B_FREE && w->len && w->start + w->len == b->start) {
		w->len += bsize(b);
		return true;
	}
	if (w->len && !w->fn(w->ctx, w->start, w->len)) {
		w->stopped = true;
		return false;
	}
	w->len = 0;
	if (b->state == B_FREE) {
		w->start = b->start;
		w->len = bsize(b);
	}
	return true;
}

static void bl_walk_free(const void *state, iova_extent_fn fn, void *ctx)
{
	struct buddy_locked *bl = (struct buddy_locked *)state;
	struct walk_ctx w = {fn, ctx, 0, 0, false};
	iova_lock_acquire(&bl->lock);
	for_each_leaf(bl, walk_leaf, &w);
	if (!w.stopped && w.len)
		fn(ctx, w.start, w.len);
	iova_lock_release(&bl->lock);
}

struct check_ctx {
	const struct buddy_locked *bl;
	char *msg;
	size_t msg_size;
	uint64_t free_leaves, next;
	bool ok;
};

static bool check_leaf(void *c, const struct block *b)
{
	struct check_ctx *k = c;
	const struct block *p = b->parent;
	if (b->start != k->next || (b->start & (bsize(b) - 1)) || b->state > B_SPLIT ||
	    (p && (p->state != B_SPLIT || p->child[b->start != p->start] != b || b->order + 1 != p->order))) {
		iova_opts_message(k->msg, k->msg_size, "block at %llu order %u is misplaced or mislinked",
				  (unsigned long long)b->start, b->order);
		return k->ok = false;
	}
	if (b->state == B_FREE) {
		k->free_leaves++;
		if (p && p->child[p->child[0] == b]->state == B_FREE) {
			iova_opts_message(k->msg, k->msg_size, "free buddies at %llu and %llu (order %u) did not merge",
					  (unsigned long long)p->child[0]->start, (unsigned long long)p->child[1]->start, b->order);
			return k->ok = false;
		}
		struct iova_rb_node *n = free_lower_bound(k->bl, b->order, b->start);
		if (!n || to_block(n) != b) {
			iova_opts_message(k->msg, k->msg_size, "free block at %llu order %u missing from its free tree",
					  (unsigned long long)b->start, b->order);
			return k->ok = false;
		}
	}
	k->next = bend(b);
	return true;
}

bool iova_buddy_locked_check(const void *state, char *msg, size_t msg_size)
{
	struct buddy_locked *bl = (struct buddy_locked *)state;
	struct check_ctx k = {bl, msg, msg_size, 0, bl->space.first, true};
	iova_lock_acquire(&bl->lock);
	for_each_leaf(bl, check_leaf, &k);
	uint64_t in_trees = 0;
	for (unsigned o = 0; o <= MAX_ORDER && k.ok; o++) {
		if (iova_rb_check(&bl->free[o]) < 0) {
			iova_opts_message(msg, msg_size, "free tree of order %u is not a valid red-black tree", o);
			k.ok = false;
		}
		for (struct iova_rb_node *n = iova_rb_first(&bl->free[o]); n; n = iova_rb_next(n))
			in_trees++;
	}
	if (k.ok && k.next != bl->space.end) {
		iova_opts_message(msg, msg_size, "blocks end at %llu, the space at %llu", (unsigned long long)k.next,
				  (unsigned long long)bl->space.end);
		k.ok = false;
	}
	if (k.ok && in_trees != k.free_leaves) {
		iova_opts_message(msg, msg_size, "%llu blocks in the free trees, %llu free blocks",
				  (unsigned long long)in_trees, (unsigned long long)k.free_leaves);
		k.ok = false;
	}
	iova_lock_release(&bl->lock);
	return k.ok;
}

static void bl_destroy(void *state)
{
	struct buddy_locked *bl = state;
	if (!bl)
		return;
	iova_pool_release(&bl->pool);
	iova_lock_destroy(&bl->lock);
	free(bl);
}

static iova_status bl_check_options(const char *options, char *msg, size_t msg_size)
{
	struct buddy_locked_opts o = {true};
	return iova_opts_parse("buddy-locked", options, bl_spec, 1, &o, NULL, msg, msg_size);
}

static iova_status bl_create(const iova_space *space, const char *options, void **state)
{
	struct buddy_locked_opts o = {true};
	iova_status st = iova_opts_parse("buddy-locked", options, bl_spec, 1, &o, NULL, NULL, 0);
	if (st)
		return st;
	struct buddy_locked *bl = calloc(1, sizeof *bl);
	if (!bl)
		return IOVA_ERR_NO_MEMORY;
	iova_lock_init(&bl->lock);
	bl->space = *space;
	bl->try_harder = o.try_harder;
	iova_pool_init(&bl->pool, sizeof(struct block));
	/* Roots: maximal aligned power-of-two blocks covering the space. */
	for (uint64_t g = space->first; g < space->end;) {
		unsigned k = iova_log2_floor(space->end - g);
		if (g && (unsigned)__builtin_ctzll(g) < k)
			k = (unsigned)__builtin_ctzll(g);
		if (k > MAX_ORDER)
			k = MAX_ORDER;
		struct block *b = iova_pool_get(&bl->pool);
		if (!b) {
			bl_destroy(bl);
			return IOVA_ERR_NO_MEMORY;
		}
		*b = (struct block){.start = g, .order = (uint8_t)k};
		bl->roots[bl->nroots++] = b;
		free_insert(bl, b);
		g += UINT64_C(1) << k;
	}
	*state = bl;
	return IOVA_OK;
}

static uint64_t bl_metadata_reserved(const void *state)
{
	struct buddy_locked *bl = (struct buddy_locked *)state;
	iova_lock_acquire(&bl->lock);
	uint64_t r = sizeof *bl + bl->pool.reserved_bytes;
	iova_lock_release(&bl->lock);
	return r;
}

static uint64_t bl_metadata_resident(const void *state)
{
	struct buddy_locked *bl = (struct buddy_locked *)state;
	iova_lock_acquire(&bl->lock);
	uint64_t r = sizeof *bl + iova_pool_resident(&bl->pool);
	iova_lock_release(&bl->lock);
	return r;
}

static void bl_counters(const void *state, iova_counter_fn fn, void *ctx)
{
	const struct buddy_locked *bl = state;
	fn(ctx, "lock_acquisitions", iova_counter_read(&bl->lock.acquisitions), IOVA_COUNTER_TOTAL);
	fn(ctx, "lock_contended", iova_counter_read(&bl->lock.contended), IOVA_COUNTER_TOTAL);
	fn(ctx, "splits", iova_counter_read(&bl->splits), IOVA_COUNTER_TOTAL);
	fn(ctx, "merges", iova_counter_read(&bl->merges), IOVA_COUNTER_TOTAL);
	fn(ctx, "blocks_examined", iova_counter_read(&bl->blocks_examined), IOVA_COUNTER_TOTAL);
	fn(ctx, "try_harder_runs", iova_counter_read(&bl->try_harder_runs), IOVA_COUNTER_TOTAL);
	fn(ctx, "try_harder_hits", iova_counter_read(&bl->try_harder_hits), IOVA_COUNTER_TOTAL);
	fn(ctx, "failed_allocs", iova_counter_read(&bl->failed), IOVA_COUNTER_TOTAL);
}

const iova_strategy_ops iova_buddy_locked_ops = {
	.name = "buddy-locked",
	.description = "classic buddy under one lock (drm_buddy): per-order free trees, trim, try-harder",
	.caps = IOVA_CAP_ALL,
	.create = bl_create,
	.destroy = bl_destroy,
	.alloc = bl_alloc,
	.free = bl_free,
	.walk_free = bl_walk_free,
	.metadata_reserved = bl_metadata_reserved,
	.metadata_resident = bl_metadata_resident,
	.counters = bl_counters,
	.check_options = bl_check_options,
};
