/* SPDX-License-Identifier: MIT */
/*
 * rbtree.c - red-black tree rebalancing (see rbtree.h). The algorithms are
 * the textbook ones (Cormen et al., ch. 13) with missing children standing
 * for the black leaves, so erase tracks the parent of the node that took
 * the removed one's place.
 */
#include "rbtree.h"

static inline bool is_red(const struct iova_rb_node *n) { return n && (n->parent_color & 1); }
static inline void set_black(struct iova_rb_node *n) { n->parent_color &= ~(uintptr_t)1; }
static inline void set_red(struct iova_rb_node *n) { n->parent_color |= 1; }
static inline void set_parent(struct iova_rb_node *n, struct iova_rb_node *p)
{
	n->parent_color = (uintptr_t)p | (n->parent_color & 1);
}
static inline void copy_colour(struct iova_rb_node *to, const struct iova_rb_node *from)
{
	to->parent_color = (to->parent_color & ~(uintptr_t)1) | (from->parent_color & 1);
}

/* Make @v take @u's place under @u's parent. */
static void replace_child(struct iova_rb_tree *t, struct iova_rb_node *u, struct iova_rb_node *v)
{
	struct iova_rb_node *p = iova_rb_parent(u);
	if (!p)
		t->root = v;
	else if (p->left == u)
		p->left = v;
	else
		p->right = v;
	if (v)
		set_parent(v, p);
}

static void rotate_left(struct iova_rb_tree *t, struct iova_rb_node *x)
{
	struct iova_rb_node *y = x->right;
	x->right = y->left;
	if (y->left)
		set_parent(y->left, x);
	replace_child(t, x, y);
	y->left = x;
	set_parent(x, y);
}

static void rotate_right(struct iova_rb_tree *t, struct iova_rb_node *x)
{
	struct iova_rb_node *y = x->left;
	x->left = y->right;
	if (y->right)
		set_parent(y->right, x);
	replace_child(t, x, y);
	y->right = x;
	set_parent(x, y);
}

void iova_rb_insert_fixup(struct iova_rb_tree *t, struct iova_rb_node *n)
{
	struct iova_rb_node *p;
	while ((p = iova_rb_parent(n)) && is_red(p)) {
		struct iova_rb_node *g = iova_rb_parent(p); /* a red node is never the root */
		if (p == g->left) {
			struct iova_rb_node *u = g->right;
			if (is_red(u)) {
				set_black(p);
				set_black(u);
				set_red(g);
				n = g;
				continue;
			}
			if (n == p->right) {
				rotate_left(t, p);
				n = p;
				p = iova_rb_parent(n);
			}
			set_black(p);
			set_red(g);
			rotate_right(t, g);
		} else {
			struct iova_rb_node *u = g->left;
			if (is_red(u)) {
				set_black(p);
				set_black(u);
				set_red(g);
				n = g;
				continue;
			}
			if (n == p->left) {
				rotate_right(t, p);
				n = p;
				p = iova_rb_parent(n);
			}
			set_black(p);
			set_red(g);
			rotate_left(t, g);
		}
	}
	set_black(t->root);
}

static struct iova_rb_node *leftmost(struct iova_rb_node *n)
{
	while (n->left)
		n = n->left;
	return n;
}

static struct iova_rb_node *rightmost(struct iova_rb_node *n)
{
	while (n->right)
		n = n->right;
	return n;
}

/* @x (possibly missing) carries an extra black; @xp is its parent. */
static void erase_fixup(struct iova_rb_tree *t, struct iova_rb_node *x, struct iova_rb_node *xp)
{
	while (x != t->root && !is_red(x)) {
		if (x == xp->left) {
			struct iova_rb_node *w = xp->right; /* exists: xp's right side is one black deeper */
			if (is_red(w)) {
				set_black(w);
				set_red(xp);
				rotate_left(t, xp);
				w = xp->right;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				set_red(w);
				x = xp;
				xp = iova_rb_parent(x);
			} else {
				if (!is_red(w->right)) {
					set_black(w->left);
					set_red(w);
					rotate_right(t, w);
					w = xp->right;
				}
				copy_colour(w, xp);
				set_black(xp);
				set_black(w->right);
				rotate_left(t, xp);
				x = t->root;
			}
		} else {
			struct iova_rb_node *w = xp->left;
			if (is_red(w)) {
				set_black(w);
				set_red(xp);
				rotate_right(t, xp);
				w = xp->left;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				set_red(w);
				x = xp;
				xp = iova_rb_parent(x);
			} else {
				if (!is_red(w->left)) {
					set_black(w->right);
					set_red(w);
					rotate_left(t, w);
					w = xp->left;
				}
				copy_colour(w, xp);
				set_black(xp);
				set_black(w->left);
				rotate_right(t, xp);
				x = t->root;
			}
		}
	}
	if (x)
		set_black(x);
}

void iova_rb_erase(struct iova_rb_tree *t, struct iova_rb_node *z)
{
	struct iova_rb_node *x, *xp;
	bool removed_red;
	if (!z->left || !z->right) {
		x = z->left ? z->left : z->right;
		xp = iova_rb_parent(z);
		removed_red = is_red(z);
		replace_child(t, z, x);
	} else {
		struct iova_rb_node *y = leftmost(z->right);
		removed_red = is_red(y);
		x = y->right;
		if (iova_rb_parent(y) == z) {
			xp = y;
		} else {
			xp = iova_rb_parent(y);
			replace_child(t, y, y->right);
			y->right = z->right;
			set_parent(y->right, y);
		}
		replace_child(t, z, y);
		y->left = z->left;
		set_parent(y->left, y);
		copy_colour(y, z);
	}
	if (!removed_red)
		erase_fixup(t, x, xp);
}

struct iova_rb_node *iova_rb_first(const struct iova_rb_tree *t) { return t->root ? leftmost(t->root) : NULL; }
struct iova_rb_node *iova_rb_last(const struct iova_rb_tree *t) { return t->root ? rightmost(t->root) : NULL; }

struct iova_rb_node *iova_rb_next(const struct iova_rb_node *n)
{
	if (n->right)
		return leftmost(n->right);
	struct iova_rb_node *p;
	while ((p = iova_rb_parent(n)) && n == p->right)
		n = p;
	return p;
}

struct iova_rb_node *iova_rb_prev(const struct iova_rb_node *n)
{
	if (n->left)
		return rightmost(n->left);
	struct iova_rb_node *p;
	while ((p = iova_rb_parent(n)) && n == p->left)
		n = p;
	return p;
}

static int check(const struct iova_rb_node *n, const struct iova_rb_node *parent)
{
	if (!n)
		return 1;
	if (iova_rb_parent(n) != parent || (is_red(n) && (is_red(n->left) || is_red(n->right))))
		return -1;
	int l = check(n->left, n), r = check(n->right, n);
	if (l < 0 || l != r)
		return -1;
	return l + !is_red(n);
}

int iova_rb_check(const struct iova_rb_tree *t)
{
	if (is_red(t->root))
		return -1;
	return check(t->root, NULL);
}
