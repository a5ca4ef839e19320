/* The I/O page table on its own: walks, large leaves, fallbacks, tombstones,
 * table-page detaching, other geometries, and a differential run against a
 * flat reference map. */
#include "check.h"
#include "iommu/pagetable.h"

#include <stdlib.h>
#include <string.h>

#define L2 4u /* leaf_levels bits */
#define L3 8u

static uint64_t span(const struct pt *pt, unsigned level) { return UINT64_C(1) << pt_span_log2(pt, level); }

/* Every granule of [g, g+n) translates to frame + offset. */
static void check_mapped(const struct pt *pt, uint64_t g, uint64_t n, uint64_t frame)
{
	for (uint64_t k = 0; k < n; k++) {
		struct pt_walk w;
		pt_walk(pt, g + k, &w);
		CHECK_MSG(pte_is_leaf(w.entry), "granule %" PRIu64 " not mapped", g + k);
		uint64_t f = pte_frame(w.entry) + ((g + k) & (span(pt, w.level) - 1));
		CHECK_MSG(f == frame + k, "granule %" PRIu64 ": frame %" PRIu64 ", want %" PRIu64, g + k, f, frame + k);
	}
}

static void check_unmapped(const struct pt *pt, uint64_t g, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++) {
		struct pt_walk w;
		pt_walk(pt, g + k, &w);
		CHECK_MSG(!(w.entry & PTE_PRESENT), "granule %" PRIu64 " still mapped", g + k);
	}
}

static void test_walks(void)
{
	struct pt pt;
	CHECK_STATUS(pt_init(&pt, 4, 9, L2 | L3), IOVA_OK);
	struct pt_walk w;
	pt_walk(&pt, 12345, &w);
	CHECK_EQ(w.entry, 0);
	CHECK_EQ(w.level, 4);
	CHECK_EQ(w.reads, 1);

	struct pt_stats st = {0};
	uint64_t done;
	CHECK_EQ(pt_map(&pt, 100, 16, 7000, 0, &done, &st), PT_OK);
	CHECK_EQ(done, 16);
	CHECK_EQ(st.pages_alloc, 3); /* levels 3, 2, 1 below the root */
	CHECK_EQ(st.written, 16 + 3);
	CHECK_EQ(st.large, 0);
	check_mapped(&pt, 100, 16, 7000);
	pt_walk(&pt, 105, &w);
	CHECK_EQ(w.level, 1);
	CHECK_EQ(w.reads, 4);
	check_unmapped(&pt, 99, 1);
	check_unmapped(&pt, 116, 1);

	/* Overlap: refused at once, nothing written. */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 110, 16, 9000, 0, &done, &st), PT_ALREADY_MAPPED);
	CHECK_EQ(done, 0);
	CHECK_EQ(st.written, 0);
	check_mapped(&pt, 100, 16, 7000);

	/* Unmap: 16 entries cleared, no table page (none is covered). */
	struct pt_page *det = NULL;
	memset(&st, 0, sizeof st);
	pt_unmap(&pt, 100, 16, 0, 0, &det, &st);
	CHECK_EQ(st.cleared, 16);
	CHECK(det == NULL);
	check_unmapped(&pt, 100, 16);
	pt_fini(&pt);
}

static void test_large_leaves(void)
{
	struct pt pt;
	CHECK_STATUS(pt_init(&pt, 4, 9, L2 | L3), IOVA_OK);
	struct pt_stats st = {0};
	uint64_t done;
	/* 2 MiB aligned, frame aligned: one level-2 leaf. */
	CHECK_EQ(pt_map(&pt, 512 * 3, 512, 512 * 40, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 1);
	CHECK_EQ(st.pages_alloc, 2);
	struct pt_walk w;
	pt_walk(&pt, 512 * 3 + 77, &w);
	CHECK_EQ(w.level, 2);
	CHECK_EQ(w.reads, 3);
	check_mapped(&pt, 512 * 3, 512, 512 * 40);

	/* 1 GiB aligned: one level-3 leaf. */
	const uint64_t G = UINT64_C(1) << 18;
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 5 * G, G, 9 * G, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 1);
	pt_walk(&pt, 5 * G + 123456, &w);
	CHECK_EQ(w.level, 3);
	CHECK_EQ(pte_frame(w.entry), 9 * G);

	/* Frames not aligned: level-1 leaves only. */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 512 * 8, 512, 512 * 50 + 1, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 0);
	CHECK_EQ(st.written, 512 + 1); /* + the new level-1 table's entry */
	check_mapped(&pt, 512 * 8, 512, 512 * 50 + 1);

	/* 4 MiB + 5 pages from an aligned start: two level-2 leaves, then 5. */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 512 * 10, 512 * 2 + 5, 512 * 60, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 2);
	check_mapped(&pt, 512 * 10, 512 * 2 + 5, 512 * 60);

	/* Unaligned start: leaves of level 1 until the boundary, then large. */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 512 * 20 - 3, 512 + 3, 512 * 70 - 3, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 1);
	check_mapped(&pt, 512 * 20 - 3, 512 + 3, 512 * 70 - 3);

	/* Unmapping a large leaf clears one entry. */
	struct pt_page *det = NULL;
	memset(&st, 0, sizeof st);
	pt_unmap(&pt, 512 * 3, 512, 0, 0, &det, &st);
	CHECK_EQ(st.cleared, 1);
	CHECK(det == NULL);
	check_unmapped(&pt, 512 * 3, 512);
	pt_fini(&pt);

	/* Level-2 leaves disallowed: an aligned 2 MiB takes a level-1 table. */
	CHECK_STATUS(pt_init(&pt, 4, 9, L3), IOVA_OK);
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 512, 512, 512, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 0);
	CHECK_EQ(st.pages_alloc, 3);
	pt_fini(&pt);
}

static void test_fallback_under_table(void)
{
	struct pt pt;
	CHECK_STATUS(pt_init(&pt, 4, 9, L2 | L3), IOVA_OK);
	struct pt_stats st = {0};
	uint64_t done;
	struct pt_page *det = NULL;
	/* A single page leaves a level-1 table under the 2 MiB span ... */
	CHECK_EQ(pt_map(&pt, 1024 + 9, 1, 5, 0, &done, &st), PT_OK);
	pt_unmap(&pt, 1024 + 9, 1, 0, 0, &det, &st);
	CHECK(det == NULL); /* not covered: the table stays, as in Linux */
	/* ... so a 2 MiB mapping there uses that table, with level-1 leaves. */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 1024, 512, 512 * 9, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 0);
	CHECK_EQ(st.pages_alloc, 0);
	CHECK_EQ(st.written, 512);
	check_mapped(&pt, 1024, 512, 512 * 9);
	pt_fini(&pt);
}

static void test_table_pages(void)
{
	struct pt pt;
	CHECK_STATUS(pt_init(&pt, 4, 9, 0), IOVA_OK); /* no large leaves */
	struct pt_stats st = {0};
	uint64_t done;
	CHECK_EQ(pt_map(&pt, 2048, 512, 100000, 0, &done, &st), PT_OK);
	CHECK_EQ(st.pages_alloc, 3);
	/* Unmapping the whole 2 MiB span detaches its level-1 table. */
	struct pt_page *det = NULL;
	memset(&st, 0, sizeof st);
	pt_unmap(&pt, 2048, 512, pte_tomb(5), pte_tomb(5), &det, &st);
	CHECK_EQ(st.pages_detached, 1);
	CHECK_EQ(st.cleared, 1); /* one level-2 entry; the leaves go with their page */
	CHECK(det != NULL && det->next == NULL);
	struct pt_walk w;
	pt_walk(&pt, 2048 + 7, &w);
	CHECK_EQ(w.level, 2);
	CHECK_EQ(w.entry, pte_tomb(5));
	/* The tombstone blocks a new mapping until its token is clean. */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 2048, 1, 1, 5, &done, &st), PT_DIRTY);
	CHECK_EQ(pt_pages_put(&pt, det), 1);
	CHECK_EQ(pt_map(&pt, 2048, 1, 1, 6, &done, &st), PT_OK);
	CHECK_EQ(st.pages_alloc, 1); /* from the pool */
	check_mapped(&pt, 2048, 1, 1);
	check_unmapped(&pt, 2049, 511);

	/* A whole 1 GiB: 512 level-1 tables and their level-2 table. */
	const uint64_t G = UINT64_C(1) << 18;
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 3 * G, G, 0, 0, &done, &st), PT_OK);
	CHECK_EQ(st.pages_alloc, 513);
	det = NULL;
	memset(&st, 0, sizeof st);
	pt_unmap(&pt, 3 * G, G, 0, 0, &det, &st);
	CHECK_EQ(st.pages_detached, 513);
	CHECK_EQ(pt_pages_put(&pt, det), 513);
	check_unmapped(&pt, 3 * G, G);
	pt_fini(&pt);
}

static void test_tombstones(void)
{
	struct pt pt;
	CHECK_STATUS(pt_init(&pt, 4, 9, L2 | L3), IOVA_OK);
	struct pt_stats st = {0};
	uint64_t done;
	struct pt_page *det = NULL;
	CHECK_EQ(pt_map(&pt, 40, 8, 400, 0, &done, &st), PT_OK);
	pt_unmap(&pt, 40, 8, pte_tomb(3), pte_tomb(3) | PTE_FREED, &det, &st);
	struct pt_walk w;
	pt_walk(&pt, 40, &w);
	CHECK_EQ(w.entry, pte_tomb(3) | PTE_FREED);
	CHECK_EQ(pt_map(&pt, 41, 7, 400, 3, &done, &st), PT_DIRTY);
	/* A retomb replaces only what it expects: 42 changed meanwhile. */
	atomic_store(w.slot + 2, pte_tomb(5));
	pt_retomb(&pt, 40, 8, pte_tomb(3), pte_tomb(3) | PTE_FREED, pte_tomb(7), pte_tomb(7) | PTE_FREED);
	pt_walk(&pt, 42, &w);
	CHECK_EQ(w.entry, pte_tomb(5));
	pt_walk(&pt, 40, &w);
	CHECK_EQ(w.entry, pte_tomb(7) | PTE_FREED);
	pt_walk(&pt, 41, &w);
	CHECK_EQ(w.entry, pte_tomb(7));
	CHECK(!pte_is_clean(pte_tomb(7), 7));
	CHECK(pte_is_clean(pte_tomb(7), 8));
	CHECK(!pte_is_clean(pte_tomb(7) | PTE_FREED, 8));
	/* FREED is refused even when clean; the rest can be mapped. */
	CHECK_EQ(pt_map(&pt, 40, 8, 400, 8, &done, &st), PT_FREED);
	CHECK_EQ(done, 0);
	CHECK_EQ(pt_map(&pt, 41, 7, 401, 8, &done, &st), PT_OK);
	/* A failed map in the middle reports how far it got. */
	CHECK_EQ(pt_map(&pt, 30, 20, 300, 8, &done, &st), PT_FREED);
	CHECK_EQ(done, 10);
	CHECK_EQ(pt_map(&pt, 45, 10, 300, 8, &done, &st), PT_ALREADY_MAPPED);
	CHECK_EQ(done, 0);
	pt_fini(&pt);
}

static void test_geometry(void)
{
	struct pt pt;
	CHECK_STATUS(pt_init(&pt, 3, 10, L2 | L3), IOVA_OK); /* 1024 entries; level 3 is the root */
	struct pt_stats st = {0};
	uint64_t done;
	CHECK_EQ(pt_map(&pt, 1024 * 5, 1024, 1024 * 2, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 1);
	struct pt_walk w;
	pt_walk(&pt, 1024 * 5 + 1000, &w);
	CHECK_EQ(w.level, 2);
	CHECK_EQ(w.reads, 2);
	/* Leaves are never allowed at the root. */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, UINT64_C(1) << 20, UINT64_C(1) << 20, 0, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 1024);
	pt_fini(&pt);

	CHECK_STATUS(pt_init(&pt, 2, 4, L2 | L3), IOVA_OK); /* 16 entries, 2 levels: no large leaves */
	memset(&st, 0, sizeof st);
	CHECK_EQ(pt_map(&pt, 16, 16, 16, 0, &done, &st), PT_OK);
	CHECK_EQ(st.large, 0);
	check_mapped(&pt, 16, 16, 16);
	pt_fini(&pt);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random disjoint ranges mapped and unmapped, checked granule by granule
 * against a flat array. */
static void test_differential(void)
{
	enum { SPACE = 1 << 14, RANGES = 64 };
	struct pt pt;
	CHECK_STATUS(pt_init(&pt, 4, 4, L2 | L3), IOVA_OK); /* 16 entries: large leaves of 16 and 256 */
	static uint64_t ref[SPACE]; /* frame + 1, 0 when unmapped */
	memset(ref, 0, sizeof ref);
	struct {
		uint64_t g, n;
		bool mapped;
	} r[RANGES];
	for (int i = 0; i < RANGES; i++) /* fixed disjoint slots of 256 granules */
		r[i].g = (uint64_t)i * 256, r[i].n = 0, r[i].mapped = false;
	uint64_t frame = 1000;
	for (int step = 0; step < 20000; step++) {
		int i = (int)(next_rand() % RANGES);
		struct pt_stats st = {0};
		uint64_t done;
		if (!r[i].mapped) {
			uint64_t off = next_rand() % 64, n = 1 + next_rand() % (256 - off);
			if (next_rand() % 4 == 0)
				off = 0, n = 256;
			r[i].g = (uint64_t)i * 256 + off;
			r[i].n = n;
			frame = iova_round_up(frame, 256) + (r[i].g & 255);
			CHECK_EQ(pt_map(&pt, r[i].g, n, frame, 0, &done, &st), PT_OK);
			for (uint64_t k = 0; k < n; k++)
				ref[r[i].g + k] = frame + k + 1;
			frame += n;
			r[i].mapped = true;
		} else {
			struct pt_page *det = NULL;
			pt_unmap(&pt, r[i].g, r[i].n, 0, 0, &det, &st);
			pt_pages_put(&pt, det);
			for (uint64_t k = 0; k < r[i].n; k++)
				ref[r[i].g + k] = 0;
			r[i].mapped = false;
		}
		if (step % 1000 == 0 || step == 19999)
			for (uint64_t g = 0; g < SPACE; g++) {
				struct pt_walk w;
				pt_walk(&pt, g, &w);
				uint64_t got = pte_is_leaf(w.entry)
						       ? pte_frame(w.entry) + (g & (span(&pt, w.level) - 1)) + 1
						       : 0;
				CHECK_MSG(got == ref[g], "step %d granule %" PRIu64 ": %" PRIu64 " != %" PRIu64, step, g,
					  got, ref[g]);
			}
	}
	pt_fini(&pt);
}

int main(void)
{
	test_walks();
	test_large_leaves();
	test_fallback_under_table();
	test_table_pages();
	test_tombstones();
	test_geometry();
	test_differential();
	return check_exit_code();
}
