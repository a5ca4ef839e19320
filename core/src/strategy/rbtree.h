/* SPDX-License-Identifier: MIT */
/*
 * rbtree.h - an intrusive red-black tree (the Linux rb_node pattern).
 *
 * Written here rather than taken from a package: Debian has no small C
 * library with an intrusive, parent-linked tree whose search the caller
 * drives, and the Linux IOVA algorithm needs exactly that (walking
 * rb_prev() from a cached node, inserting next to a known node).
 *
 * The caller embeds a struct iova_rb_node in its objects, searches the tree
 * itself, links a new node where the search ended (iova_rb_link) and calls
 * iova_rb_insert_fixup(); iova_rb_erase() removes any node. The colour lives
 * in the low bit of the parent pointer.
 *
 * Invariants: the root is black; a red node has no red child; every path
 * from a node down to a missing child passes the same number of black
 * nodes. Hence the height is at most 2 log2(n + 1).
 * Not thread-safe: callers hold their lock.
 */
#ifndef IOVA_STRATEGY_RBTREE_H
#define IOVA_STRATEGY_RBTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iova_rb_node {
	uintptr_t parent_color; /* parent pointer | 1 if red */
	struct iova_rb_node *left, *right;
};

struct iova_rb_tree {
	struct iova_rb_node *root;
};

#define IOVA_RB_ENTRY(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline struct iova_rb_node *iova_rb_parent(const struct iova_rb_node *n)
{
	return (struct iova_rb_node *)(n->parent_color & ~(uintptr_t)1);
}

/** iova_rb_link() - hang @n, coloured red, at *@link below @parent (NULL for
 * the root); follow with iova_rb_insert_fixup(). */
static inline void iova_rb_link(struct iova_rb_node *n, struct iova_rb_node *parent, struct iova_rb_node **link)
{
	n->parent_color = (uintptr_t)parent | 1;
	n->left = n->right = NULL;
	*link = n;
}

/** iova_rb_insert_fixup() - restore the invariants after iova_rb_link(). */
void iova_rb_insert_fixup(struct iova_rb_tree *t, struct iova_rb_node *n);

/** iova_rb_erase() - remove @n (which must be in @t). */
void iova_rb_erase(struct iova_rb_tree *t, struct iova_rb_node *n);

/* In-order neighbours and ends; NULL past either end or for an empty tree. */
struct iova_rb_node *iova_rb_first(const struct iova_rb_tree *t);
struct iova_rb_node *iova_rb_last(const struct iova_rb_tree *t);
struct iova_rb_node *iova_rb_next(const struct iova_rb_node *n);
struct iova_rb_node *iova_rb_prev(const struct iova_rb_node *n);

/** iova_rb_check() - verify the invariants (for tests). Returns the black
 * height, or -1 if an invariant or a parent link is broken. */
int iova_rb_check(const struct iova_rb_tree *t);

#endif
