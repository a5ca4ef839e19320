/* SPDX-License-Identifier: MIT */
/*
 * test_large_domain.c - domains of 16 GiB, 1 TiB and 2^46 bytes (64 TiB) of
 * 4 KiB granules: 2^22, 2^28 and 2^34 granules.
 *
 * iova.h promises that metadata is reserved, not committed: creating a 1 TiB
 * domain costs a few pages until blocks are used. Checked here:
 *  - metadata_reserved_bytes <= 4 bits per granule, everything included
 *    (at most 2 MiB for 16 GiB of 4 KiB granules, as required);
 *  - metadata_resident_bytes <= FRESH_RESIDENT right after creation, grows
 *    once blocks are placed, and stays within a budget of
 *    RESIDENT_PER_BLOCK per live block (plus 1 MiB) after blocks are spread
 *    over the whole space with narrow windows;
 *  - the whole space is one block; the top-most granule and blocks of every
 *    order near the top are reachable with windows near the top, and at the
 *    largest alignments the space allows; stats and extents stay exact.
 * Also at an unaligned base with a non-power-of-two size near 2^46 bytes.
 */
#include "testutil.h"

#include <stdio.h>

#define MIB (UINT64_C(1) << 20)
/* A block placed far from any other touches at most one metadata page per
 * level of the tree (at most 8 levels for 2^34 granules): 32 KiB. Pages once
 * touched may stay resident after the blocks are freed, so the budget counts
 * every block ever placed; and whatever the count, "a few MiB at most". */
#define RESIDENT_PER_BLOCK (8 * PAGE)
#define RESIDENT_CAP (4 * MIB)
/* A fresh domain has written only the words on the edges of its space, a
 * page or two of words and of hints per level and edge (at most 9 levels:
 * 144 KiB when neither edge is aligned), and the per-thread slots (32 KiB).
 * Less than what eagerly writing any level of a 16 GiB domain would make
 * resident but its top ones (its level 1 alone is 640 KiB). */
#define FRESH_RESIDENT (256 * 1024)

struct big {
	const char *name;
	uint64_t base, size;
};

static iova_stats stats_of(const iova_domain *d)
{
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	return st;
}

/* Checks the bounds above; returns the resident bytes. */
static uint64_t check_metadata(const struct big *b, const iova_domain *d, uint64_t placed, const char *when)
{
	const iova_stats st = stats_of(d);
	const uint64_t granules = b->size / PAGE;
	/* No slack: the bound covers the thread slots and every fixed cost too. */
	CHECK_MSG(st.metadata_reserved_bytes <= granules / 2,
		  "%s, %s: %" PRIu64 " bytes reserved for %" PRIu64 " granules (more than 4 bits each)", b->name, when,
		  st.metadata_reserved_bytes, granules);
	if (!placed)
		CHECK_MSG(st.metadata_resident_bytes <= FRESH_RESIDENT,
			  "%s, %s: %" PRIu64 " bytes of metadata resident before any block was placed", b->name, when,
			  st.metadata_resident_bytes);
	CHECK_MSG(st.metadata_resident_bytes <= MIB + placed * RESIDENT_PER_BLOCK &&
			  st.metadata_resident_bytes <= RESIDENT_CAP,
		  "%s, %s: %" PRIu64 " bytes of metadata resident after %" PRIu64 " blocks were placed", b->name, when,
		  st.metadata_resident_bytes, placed);
	CHECK_MSG(st.metadata_resident_bytes <= st.metadata_reserved_bytes, "%s, %s: more resident than reserved", b->name,
		  when);
	printf("%s, %s: metadata reserved %.2f MiB, resident %.1f KiB\n", b->name, when,
	       (double)st.metadata_reserved_bytes / MIB, (double)st.metadata_resident_bytes / 1024);
	return st.metadata_resident_bytes;
}

static bool inside(const iova_allocation *a, const iova_request *r)
{
	return a->iova >= r->lowest && (!r->highest || a->iova + a->size - 1 <= r->highest) &&
	       (!r->alignment || a->iova % r->alignment == 0) && !crosses_boundary(a->iova, a->size, r->boundary);
}

static void test_domain(const struct big *b, uint64_t seed)
{
	iova_domain_config cfg = {.base = b->base, .size = b->size};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	if (!d)
		return;
	const uint64_t end = b->base + b->size;
	const bool pow2_aligned = !(b->size & (b->size - 1)) && b->base % b->size == 0;
	const uint64_t fresh_resident = check_metadata(b, d, 0, "created");
	iova_stats st = stats_of(d);
	CHECK_EQ(st.free_bytes, b->size);
	CHECK_EQ(st.free_extents, 1);
	CHECK_EQ(st.largest_free_extent, b->size);

	/* The whole space as one block (when it is one naturally aligned block). */
	iova_allocation a;
	iova_request whole = {.size = b->size};
	if (pow2_aligned) {
		CHECK_STATUS(iova_alloc(d, &whole, &a), IOVA_OK);
		CHECK_EQ(a.iova, b->base);
		CHECK_EQ(a.size, b->size);
		CHECK_EQ(stats_of(d).free_bytes, 0);
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = PAGE}, &(iova_allocation){0}), IOVA_ERR_NO_SPACE);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	} else {
		CHECK_STATUS(iova_alloc(d, &whole, &a), IOVA_ERR_UNSATISFIABLE);
	}
	CHECK_EQ(stats_of(d).free_bytes, b->size);

	/* The top-most granule, three ways. */
	iova_request top[3] = {
		{.size = PAGE, .lowest = end - PAGE},
		{.size = 1, .lowest = end - PAGE, .highest = end - 1},
		{.size = PAGE, .lowest = end - 64 * MIB, .alignment = 32 * MIB, .placement = IOVA_PLACE_TOP_DOWN},
	};
	const uint64_t top_want[3] = {end - PAGE, end - PAGE, (end - PAGE) & ~(32 * MIB - 1)};
	for (int i = 0; i < 3; i++) {
		iova_status s = iova_alloc(d, &top[i], &a);
		CHECK_MSG(s == IOVA_OK && a.iova == top_want[i], "%s: top request %d: %s at 0x%" PRIx64 ", want 0x%" PRIx64,
			  b->name, i, iova_status_name(s), a.iova, top_want[i]);
		if (s == IOVA_OK)
			CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	}

	/* Large alignments: the highest multiple of 2^30, 2^34, ... bytes in the
	 * space, top-down, from a window one alignment wide below the top. */
	for (unsigned al = 30; al < 64; al += 4) {
		const uint64_t alignment = UINT64_C(1) << al;
		iova_request r = {.size = 5 * PAGE, .alignment = alignment, .placement = IOVA_PLACE_TOP_DOWN,
				  .lowest = end > alignment ? end - alignment : 0};
		iova_status s = iova_alloc(d, &r, &a);
		const uint64_t want = (end - 8 * PAGE) & ~(alignment - 1); /* its rounded block is 8 pages */
		if (want < b->base || want < r.lowest) {
			CHECK_MSG(s == IOVA_ERR_UNSATISFIABLE, "%s: alignment 2^%u: %s", b->name, al, iova_status_name(s));
			continue;
		}
		CHECK_MSG(s == IOVA_OK && a.iova == want, "%s: alignment 2^%u: %s at 0x%" PRIx64 ", want 0x%" PRIx64, b->name, al,
			  iova_status_name(s), a.iova, want);
		if (s == IOVA_OK)
			CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	}

	/* Blocks of every order, power of two and not, each in a window of four
	 * rounded blocks ending at the top of the space; held together, so each
	 * must find its own place among the others. */
	test_rng g;
	rng_seed(&g, seed);
	iova_allocation held[256];
	uint64_t nheld = 0, held_bytes = 0, placed = 8; /* the probes above */
	const unsigned max_order = 63u - (unsigned)__builtin_clzll(b->size / PAGE);
	for (unsigned k = 0; k + 4 <= max_order; k++) {
		for (int v = 0; v < 2; v++) {
			const uint64_t pages = v ? (UINT64_C(1) << k) : (UINT64_C(1) << k) + (k ? rng_below(&g, UINT64_C(1) << k) : 0);
			const unsigned rk = test_log2_ceil(pages);
			iova_request r = {.size = pages * PAGE - rng_below(&g, PAGE), .lowest = end - (PAGE << (rk + 2)),
					  .placement = (iova_placement)v, .cache_type = (iova_cache_type)(k % 3)};
			if (rng_chance(&g, 500))
				r.highest = end - 1;
			iova_status s = iova_alloc(d, &r, &a);
			/* Where the earlier blocks went is the allocator's choice; the
			 * outcome is not: it must succeed exactly when some aligned place
			 * in the window is clear of them (they are all that is held). */
			const uint64_t bs = PAGE << rk;
			unsigned places = 0, clear = 0;
			for (uint64_t at = (r.lowest + bs - 1) & ~(bs - 1); at + bs <= end; at += bs) {
				places++;
				bool taken = false;
				for (uint64_t i = 0; i < nheld && !taken; i++)
					taken = held[i].iova < at + bs && at < held[i].iova + held[i].size;
				clear += !taken;
			}
			const iova_status want = !places ? IOVA_ERR_UNSATISFIABLE : clear ? IOVA_OK : IOVA_ERR_NO_SPACE;
			CHECK_MSG(s == want, "%s: %" PRIu64 " pages near the top (%u of %u places clear): %s, want %s", b->name, pages,
				  clear, places, iova_status_name(s), iova_status_name(want));
			if (s != IOVA_OK)
				continue;
			CHECK_MSG(inside(&a, &r) && a.iova % bs == 0 && a.cache_type == r.cache_type,
				  "%s: %" PRIu64 " pages near the top at 0x%" PRIx64, b->name, pages, a.iova);
			held[nheld++] = a;
			held_bytes += a.size;
		}
	}
	placed += nheld;
	printf("%s: %" PRIu64 " blocks of orders 0..%u held together near the top\n", b->name, nheld, max_order - 4);
	CHECK_MSG(nheld >= max_order / 2, "%s: only %" PRIu64 " blocks near the top", b->name, nheld);
	st = stats_of(d);
	CHECK_EQ(st.allocated_bytes, held_bytes);
	CHECK_EQ(st.live_allocations, nheld);
	for (uint64_t i = 0; i < nheld; i++)
		for (uint64_t j = i + 1; j < nheld; j++)
			CHECK_MSG(held[i].iova + held[i].size <= held[j].iova || held[j].iova + held[j].size <= held[i].iova,
				  "%s: blocks near the top %" PRIu64 " and %" PRIu64 " overlap", b->name, i, j);
	for (uint64_t i = 0; i < nheld; i++)
		CHECK_STATUS(iova_free(d, held[i].handle), IOVA_OK);
	CHECK_EQ(stats_of(d).free_bytes, b->size);
	CHECK_EQ(stats_of(d).free_extents, 1);
	nheld = held_bytes = 0;

	/* Spread blocks over the whole space, each in a narrow window of its own
	 * 1/64 of the space: metadata is touched only where blocks are. */
	const uint64_t slice = b->size / 64 & ~(PAGE - 1);
	for (int i = 0; i < 64; i++) {
		const uint64_t lo = b->base + slice * (uint64_t)i + rng_below(&g, slice / PAGE / 2) * PAGE;
		iova_request r = {.size = (1 + rng_below(&g, 40)) * PAGE, .lowest = lo, .highest = lo + 1024 * PAGE - 1};
		iova_status s = iova_alloc(d, &r, &a);
		CHECK_MSG(s == IOVA_OK && inside(&a, &r), "%s: spread block %d: %s", b->name, i, iova_status_name(s));
		if (s == IOVA_OK) {
			held[nheld++] = a;
			held_bytes += a.size;
		}
	}
	placed += nheld;
	/* Each spread block lies in metadata pages no earlier block touched: if
	 * the resident count did not grow, it measures nothing, and the bounds
	 * on it prove nothing. */
	const uint64_t spread_resident = check_metadata(b, d, placed, "blocks spread over the space");
	CHECK_MSG(spread_resident >= fresh_resident + 32 * PAGE,
		  "%s: %" PRIu64 " bytes of metadata resident after spreading %" PRIu64 " blocks, %" PRIu64 " before",
		  b->name, spread_resident, nheld, fresh_resident);
	st = stats_of(d);
	CHECK_EQ(st.free_bytes, b->size - held_bytes);
	CHECK_EQ(st.live_allocations, nheld);
	/* Distinct blocks: sorted by address, none overlaps the next. */
	for (uint64_t i = 0; i < nheld; i++)
		for (uint64_t j = i + 1; j < nheld; j++)
			CHECK_MSG(held[i].iova + held[i].size <= held[j].iova || held[j].iova + held[j].size <= held[i].iova,
				  "%s: blocks %" PRIu64 " and %" PRIu64 " overlap", b->name, i, j);
	/* The free extents are the complement of the blocks. */
	extent_list l = {0};
	domain_extents(d, &l);
	uint64_t sum = 0;
	for (size_t i = 0; i < l.n; i++) {
		sum += l.e[i].bytes;
		for (uint64_t j = 0; j < nheld; j++)
			CHECK(held[j].iova + held[j].size <= l.e[i].iova || l.e[i].iova + l.e[i].bytes <= held[j].iova);
	}
	CHECK_EQ(sum, b->size - held_bytes);
	CHECK(l.n <= nheld + 1);
	extent_list_free(&l);

	for (uint64_t i = 0; i < nheld; i++)
		CHECK_STATUS(iova_free(d, held[i].handle), IOVA_OK);
	st = stats_of(d);
	CHECK_EQ(st.free_bytes, b->size);
	CHECK_EQ(st.free_extents, 1);
	if (pow2_aligned) { /* coalesced back into one block */
		CHECK_STATUS(iova_alloc(d, &whole, &a), IOVA_OK);
		CHECK_EQ(a.iova, b->base);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	} else { /* the largest root is whole again */
		const uint64_t big = UINT64_C(1) << (63u - (unsigned)__builtin_clzll(b->size));
		const uint64_t at = (b->base + big - 1) & ~(big - 1);
		iova_request r = {.size = at + big <= end ? big : big / 2};
		CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
		CHECK_EQ(a.iova % r.size, 0);
		CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	}
	check_metadata(b, d, placed, "all freed");
	iova_domain_destroy(d);
}

int main(int argc, char **argv)
{
	const uint64_t seed = test_seed(argc, argv, 4046, "test_large_domain");
	const struct big doms[] = {
		{"16 GiB at 0", 0, UINT64_C(1) << 34}, /* at most 2 MiB reserved */
		{"1 TiB at 0", 0, UINT64_C(1) << 40},
		{"1 TiB at 3 TiB", UINT64_C(3) << 40, UINT64_C(1) << 40},
		{"2^46 bytes at 0", 0, UINT64_C(1) << 46},
		{"2^46 bytes at 2^46", UINT64_C(1) << 46, UINT64_C(1) << 46},
		{"2^46 - 5 pages at 2^46 + 3 pages", (UINT64_C(1) << 46) + 3 * PAGE, (UINT64_C(1) << 46) - 5 * PAGE},
	};
	for (size_t i = 0; i < sizeof doms / sizeof doms[0]; i++)
		test_domain(&doms[i], seed + i);
	return check_exit_code();
}
