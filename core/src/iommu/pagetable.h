/* SPDX-License-Identifier: MIT */
/*
 * pagetable.h - the simulated I/O page table: a radix tree of table pages
 * (x86-style: 4 levels of 512 entries by default) mapping IOVA granules to
 * simulated physical frames, with leaves at levels 2 and 3 where a range is
 * aligned and large enough.
 *
 * Entry encoding (64-bit, read and written atomically):
 *   present table   page address | PTE_PRESENT              (pages are 64-byte aligned)
 *   present leaf    frame << 12  | PTE_LEAF | PTE_PRESENT   (frames below 2^40)
 *   empty           0
 *   tombstone       token << 4   | PTE_TOMB [| PTE_FREED]   (not present: walks stop, fault)
 * A tombstone is software state in a non-present entry (hardware ignores
 * those bits): "a translation that lived here may still be cached in the
 * IOTLB until the flush queue's finish counter exceeds @token". PTE_FREED
 * marks the first entry of a range whose IOVA waits in a flush queue for its
 * release. Who writes tombstones and what tokens mean is the caller's
 * business (glue.c); the table only keeps them and treats a tombstone as
 * empty when its token is below the @clean_below the caller passes.
 *
 * Invariants:
 *  P1 a present leaf at level L maps span(L) = 2^(bits*(L-1)) granules to as
 *     many consecutive frames, the first aligned to span(L);
 *  P2 every entry below a present table entry lies in the span of that entry,
 *     so ranges that do not overlap share table pages but never entries;
 *  P3 an unmap replaces exactly the entries "owned" by its range: the highest
 *     entries whose whole span lies inside the range. An owned present table
 *     is detached with its whole subtree (Linux VT-d's dma_pte_clear_level),
 *     and its pages are handed to the caller, who returns them with
 *     pt_pages_put() once no IOTLB or in-flight walk can use them;
 *  P4 table pages are never returned to the host before pt_fini(): a freed
 *     page goes to the table's pool, so a walk racing its detach reads
 *     memory that is still allocated (its result is then discarded, see
 *     device.c).
 * Concurrent map and unmap of disjoint ranges need no lock: new table pages
 * are installed with a compare-and-swap, and by P2/P3 no two ranges ever
 * write the same entry or free a page the other uses. The pool has a lock,
 * taken only to allocate or free a table page.
 */
#ifndef IOVA_IOMMU_PAGETABLE_H
#define IOVA_IOMMU_PAGETABLE_H

#include "../internal.h"
#include "spinlock.h"

#define PTE_PRESENT UINT64_C(1)
#define PTE_LEAF UINT64_C(2)
#define PTE_TOMB UINT64_C(4)
#define PTE_FREED UINT64_C(8)
#define PTE_TOKEN_SHIFT 4
#define PTE_FRAME_SHIFT 12
#define PTE_FRAME_BITS 40
#define PT_MAX_LEVELS 6
#define PT_MAX_BITS 12

struct pt_page {
	struct pt_page *next; /* detached list or pool; never read by walks */
	struct pt_page *all;  /* every page the table ever allocated */
	_Atomic uint64_t e[];
};

struct pt {
	unsigned levels;      /* root is at level `levels`, leaves of 1 granule at level 1 */
	unsigned bits;        /* log2 of entries per table page */
	unsigned leaf_levels; /* bit L set: level L may hold leaves (bit 1 always) */
	struct pt_page *root;
	size_t page_bytes;
	iommu_spinlock pool_lock;
	struct pt_page *pool; /* free pages, under pool_lock */
	struct pt_page *all;  /* under pool_lock */
};

/* What one operation did, for the caller's counters and cost model. */
struct pt_stats {
	uint64_t written;        /* entries written (leaves and new table entries) */
	uint64_t cleared;        /* present entries replaced by an unmap */
	uint64_t large;          /* leaves written above level 1 */
	uint64_t pages_alloc;    /* table pages installed */
	uint64_t pages_detached; /* table pages handed to the caller by an unmap */
};

enum pt_map_result {
	PT_OK = 0,
	PT_ALREADY_MAPPED, /* a present leaf in the range */
	PT_DIRTY,          /* a tombstone whose token is not below clean_below */
	PT_FREED,          /* a PTE_FREED tombstone: the range waits for its release */
	PT_NO_MEMORY,
};

static inline unsigned pt_span_log2(const struct pt *pt, unsigned level) { return pt->bits * (level - 1); }
static inline unsigned pt_index(const struct pt *pt, uint64_t g, unsigned level)
{
	return (unsigned)(g >> pt_span_log2(pt, level)) & ((1u << pt->bits) - 1);
}
static inline uint64_t pte_tomb(uint64_t token) { return PTE_TOMB | token << PTE_TOKEN_SHIFT; }
static inline uint64_t pte_token(uint64_t v) { return v >> PTE_TOKEN_SHIFT; }
static inline uint64_t pte_leaf(uint64_t frame) { return frame << PTE_FRAME_SHIFT | PTE_LEAF | PTE_PRESENT; }
static inline uint64_t pte_frame(uint64_t v) { return (v >> PTE_FRAME_SHIFT) & ((UINT64_C(1) << PTE_FRAME_BITS) - 1); }
static inline bool pte_is_leaf(uint64_t v) { return (v & (PTE_PRESENT | PTE_LEAF)) == (PTE_PRESENT | PTE_LEAF); }
static inline bool pte_is_table(uint64_t v) { return (v & (PTE_PRESENT | PTE_LEAF)) == PTE_PRESENT; }
static inline struct pt_page *pte_table(uint64_t v) { return (struct pt_page *)(uintptr_t)(v & ~UINT64_C(63)); }
/* Empty, or a tombstone whose translation can no longer be cached. */
static inline bool pte_is_clean(uint64_t v, uint64_t clean_below)
{
	return !v || ((v & (PTE_PRESENT | PTE_FREED)) == 0 && pte_token(v) < clean_below);
}

/** pt_init() - an empty table; @leaf_levels: bit L allows leaves at level L.
 * Return: IOVA_OK or IOVA_ERR_NO_MEMORY. */
iova_status pt_init(struct pt *pt, unsigned levels, unsigned bits, unsigned leaf_levels);

/** pt_fini() - free every table page, attached, pooled or detached. */
void pt_fini(struct pt *pt);

/* Where a walk for one granule stopped. */
struct pt_walk {
	uint64_t entry;        /* a leaf, or a non-present entry (0 or tombstone) */
	unsigned level;        /* the entry's level */
	unsigned reads;        /* entries read, root included */
	_Atomic uint64_t *slot;
};

/** pt_walk() - read the table from the root down for granule @g, as the
 * IOMMU's walker does. Loads are sequentially consistent (device.c relies on
 * it to order walks against unmaps). */
void pt_walk(const struct pt *pt, uint64_t g, struct pt_walk *w);

/**
 * pt_map() - map granules [g, g+n) to frames [frame, frame+n).
 * @clean_below: tombstones with a smaller token count as empty.
 * @done:        receives how many granules were mapped before a failure.
 *
 * Uses a leaf at level L >= 2 (if allowed) wherever g and the frame are
 * aligned to span(L) and the rest of the range covers it, unless a table
 * page already sits there. Return: enum pt_map_result. On failure the first
 * @done granules stay mapped: the caller unmaps them (and must invalidate,
 * since a device could have cached them).
 */
int pt_map(struct pt *pt, uint64_t g, uint64_t n, uint64_t frame, uint64_t clean_below, uint64_t *done,
	   struct pt_stats *st);

/**
 * pt_unmap() - replace the entries owned by [g, g+n) with @tomb, and the one
 * holding granule g with @tomb_first (P3).
 * @detached: table pages of owned subtrees are pushed here (linked by ->next).
 */
void pt_unmap(struct pt *pt, uint64_t g, uint64_t n, uint64_t tomb, uint64_t tomb_first, struct pt_page **detached,
	      struct pt_stats *st);

/**
 * pt_retomb() - in the entries owned by [g, g+n), replace the value @from by
 * @to, and in the one holding granule g @from_first by @to_first. Entries
 * that no longer hold the expected value are left alone.
 */
void pt_retomb(struct pt *pt, uint64_t g, uint64_t n, uint64_t from, uint64_t from_first, uint64_t to,
	       uint64_t to_first);

/** pt_pages_put() - return detached pages to the pool. Return: how many. */
uint64_t pt_pages_put(struct pt *pt, struct pt_page *list);

#endif
