/* The IOTLB on its own: hits and misses, replacement policies, the three
 * invalidation scopes, large entries, and the fill guard. */
#include "check.h"
#include "iommu/iotlb.h"

static bool hit(struct iotlb *t, uint16_t did, uint64_t g, uint64_t *frame)
{
	unsigned level;
	uint64_t f = 0;
	bool h = iotlb_lookup(t, did, g, &f, &level);
	if (frame)
		*frame = f;
	return h;
}

static void fill(struct iotlb *t, uint16_t did, uint64_t g, unsigned level, uint64_t frame, bool *evicted)
{
	bool ev;
	CHECK(iotlb_fill(t, did, g, level, frame, iotlb_seq(t), &ev));
	if (evicted)
		*evicted = ev;
}

static void test_hit_miss(void)
{
	struct iotlb t;
	CHECK_STATUS(iotlb_init(&t, 64, 4, IOVA_IOTLB_LRU, 9), IOVA_OK);
	uint64_t f;
	CHECK(!hit(&t, 1, 10, NULL));
	fill(&t, 1, 10, 1, 777, NULL);
	CHECK(hit(&t, 1, 10, &f));
	CHECK_EQ(f, 777);
	CHECK(!hit(&t, 2, 10, NULL)); /* tagged by domain */
	CHECK(!hit(&t, 1, 11, NULL));
	/* Filling the same translation twice keeps one entry. */
	fill(&t, 1, 10, 1, 777, NULL);
	CHECK_EQ(iotlb_count(&t, 1, false), 1);
	iotlb_fini(&t);
}

/* Pages 0, 64, 128, ... share set 0 of a 64-set IOTLB. */
static void test_replacement(iova_iotlb_replacement r)
{
	struct iotlb t;
	CHECK_STATUS(iotlb_init(&t, 64, 4, r, 9), IOVA_OK);
	bool ev;
	for (uint64_t i = 0; i < 4; i++) {
		fill(&t, 1, i * 64, 1, 100 + i, &ev);
		CHECK(!ev);
	}
	CHECK(hit(&t, 1, 0, NULL)); /* page 0 becomes the most recently used */
	fill(&t, 1, 4 * 64, 1, 104, &ev);
	CHECK(ev);
	CHECK(hit(&t, 1, 4 * 64, NULL));
	unsigned present = 0;
	for (uint64_t i = 0; i < 4; i++)
		present += hit(&t, 1, i * 64, NULL);
	CHECK_EQ(present, 3);
	if (r == IOVA_IOTLB_LRU) {
		CHECK(hit(&t, 1, 0, NULL));
		CHECK(!hit(&t, 1, 64, NULL)); /* least recently used */
	} else if (r == IOVA_IOTLB_FIFO) {
		CHECK(!hit(&t, 1, 0, NULL)); /* first in, despite its recent use */
	}
	iotlb_fini(&t);
}

static void test_random_reproducible(void)
{
	struct iotlb a, b;
	CHECK_STATUS(iotlb_init(&a, 8, 2, IOVA_IOTLB_RANDOM, 9), IOVA_OK);
	CHECK_STATUS(iotlb_init(&b, 8, 2, IOVA_IOTLB_RANDOM, 9), IOVA_OK);
	for (uint64_t i = 0; i < 200; i++) {
		fill(&a, 1, i * 8 % 96, 1, i, NULL);
		fill(&b, 1, i * 8 % 96, 1, i, NULL);
	}
	for (uint64_t g = 0; g < 96; g++)
		CHECK_EQ(hit(&a, 1, g, NULL), hit(&b, 1, g, NULL));
	iotlb_fini(&a);
	iotlb_fini(&b);
}

static void test_scopes(void)
{
	struct iotlb t;
	CHECK_STATUS(iotlb_init(&t, 64, 8, IOVA_IOTLB_LRU, 9), IOVA_OK);
	for (uint64_t g = 0; g < 32; g++) {
		fill(&t, 1, g, 1, 1000 + g, NULL);
		fill(&t, 2, g, 1, 2000 + g, NULL);
	}
	const uint64_t s0 = iotlb_seq(&t);
	/* Page-selective: only [8, 12) of domain 1. */
	CHECK_EQ(iotlb_inv_pages(&t, 1, 8, 4), s0 + 1);
	for (uint64_t g = 0; g < 32; g++) {
		CHECK_EQ(hit(&t, 1, g, NULL), g < 8 || g >= 12);
		CHECK(hit(&t, 2, g, NULL));
	}
	/* Domain-selective: all of domain 1, none of domain 2. */
	CHECK_EQ(iotlb_inv_domain(&t, 1), s0 + 2);
	CHECK_EQ(iotlb_count(&t, 1, false), 0);
	CHECK_EQ(iotlb_count(&t, 2, false), 32);
	/* A range wider than the sets takes the scan-everything path. */
	CHECK_EQ(iotlb_inv_pages(&t, 2, 4, 1000), s0 + 3);
	CHECK_EQ(iotlb_count(&t, 2, false), 4);
	/* Global: everything. */
	fill(&t, 3, 5, 1, 5, NULL);
	CHECK_EQ(iotlb_inv_global(&t), s0 + 4);
	CHECK_EQ(iotlb_count(&t, 0, true), 0);
	iotlb_fini(&t);
}

static void test_large_entries(void)
{
	struct iotlb t;
	CHECK_STATUS(iotlb_init(&t, 64, 4, IOVA_IOTLB_LRU, 9), IOVA_OK);
	uint64_t f;
	fill(&t, 1, 512 * 7 + 3, 2, 512 * 100, NULL); /* one level-2 entry covers 512 granules */
	CHECK(hit(&t, 1, 512 * 7, &f));
	CHECK_EQ(f, 512 * 100);
	CHECK(hit(&t, 1, 512 * 7 + 511, &f));
	CHECK_EQ(f, 512 * 100 + 511);
	CHECK(!hit(&t, 1, 512 * 8, NULL));
	fill(&t, 1, (UINT64_C(1) << 18) * 3, 3, 0, NULL);
	CHECK(hit(&t, 1, (UINT64_C(1) << 18) * 3 + 99999, &f));
	CHECK_EQ(f, 99999);
	/* Invalidating one granule of a large page drops the whole entry. */
	iotlb_inv_pages(&t, 1, 512 * 7 + 200, 1);
	CHECK(!hit(&t, 1, 512 * 7, NULL));
	CHECK(hit(&t, 1, (UINT64_C(1) << 18) * 3, NULL));
	iotlb_fini(&t);
}

static void test_fill_guard(void)
{
	struct iotlb t;
	CHECK_STATUS(iotlb_init(&t, 64, 4, IOVA_IOTLB_LRU, 9), IOVA_OK);
	const uint64_t seq0 = iotlb_seq(&t); /* a walk starts */
	iotlb_inv_pages(&t, 7, 1000, 1);     /* any invalidation meanwhile */
	bool ev;
	CHECK(!iotlb_fill(&t, 1, 42, 1, 4242, seq0, &ev)); /* its result is not cached */
	CHECK(!hit(&t, 1, 42, NULL));
	CHECK(iotlb_fill(&t, 1, 42, 1, 4242, iotlb_seq(&t), &ev));
	CHECK(hit(&t, 1, 42, NULL));
	iotlb_fini(&t);
}

int main(void)
{
	test_hit_miss();
	test_replacement(IOVA_IOTLB_LRU);
	test_replacement(IOVA_IOTLB_FIFO);
	test_replacement(IOVA_IOTLB_RANDOM);
	test_random_reproducible();
	test_scopes();
	test_large_entries();
	test_fill_guard();
	return check_exit_code();
}
