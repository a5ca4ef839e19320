/* SPDX-License-Identifier: MIT */
/*
 * test_memory.c - prim/memory.h: coloured allocations and reservations
 * start at their page offset, are zeroed and whole (ASan sees the ends),
 * and the structures the colour table names are placed by it.
 */
#include "check.h"
#include "domain.h"
#include "cache/cache.h"
#include "prim/memory.h"

#include <stdint.h>

static void check_zero_and_fill(unsigned char *p, size_t bytes)
{
	size_t nonzero = 0;
	for (size_t i = 0; i < bytes; i++)
		nonzero += p[i] != 0;
	CHECK_EQ(nonzero, 0);
	for (size_t i = 0; i < bytes; i++)
		p[i] = (unsigned char)i; /* past the end would be ASan's report */
}

int main(void)
{
	static const size_t colours[] = {0, 64, 0x240, 0x880, 0xfc0};
	static const size_t sizes[] = {1, 152, 448, 4096, 10000};
	for (size_t c = 0; c < sizeof colours / sizeof colours[0]; c++)
		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			unsigned char *p = iova_alloc_coloured(sizes[s], colours[c]);
			CHECK(p != NULL);
			if (!p)
				continue;
			CHECK_EQ((uintptr_t)p & (IOVA_COLOUR_PAGE - 1), colours[c]);
			CHECK(iova_coloured_bytes(sizes[s], colours[c]) >= colours[c] + sizes[s]);
			CHECK_EQ(iova_coloured_bytes(sizes[s], colours[c]) % IOVA_COLOUR_PAGE, 0);
			check_zero_and_fill(p, sizes[s]);
			iova_free_coloured(p);

			unsigned char *r = iova_reserve_coloured(sizes[s], colours[c]);
			CHECK(r != NULL);
			if (!r)
				continue;
			CHECK_EQ((uintptr_t)r & (IOVA_COLOUR_PAGE - 1), colours[c]);
			check_zero_and_fill(r, sizes[s]);
			CHECK(iova_resident_bytes(r, sizes[s]) >= 4096); /* written: backed */
			iova_release_coloured(r, sizes[s]);
		}
	iova_free_coloured(NULL); /* a no-op, as free(NULL) */

	/* The table: distinct, and clear of the first 32 bytes of every 256,
	 * where the default magazines' headers and first entries sit. */
	static const size_t table[] = {IOVA_COLOUR_CACHE, IOVA_COLOUR_CACHE_MAP, IOVA_COLOUR_DOMAIN};
	const size_t n = sizeof table / sizeof table[0];
	for (size_t i = 0; i < n; i++) {
		CHECK(table[i] % 256 >= 32);
		for (size_t j = i + 1; j < n; j++)
			CHECK(table[i] != table[j]);
	}

	/* The structures it names are where it says. */
	const iova_domain_config cfg = {.base = 0, .size = UINT64_C(1) << 32, .granule = 4096, .strategy = "buddy-lf+cache"};
	iova_domain *d = NULL;
	CHECK_EQ(iova_domain_create(&cfg, &d), IOVA_OK);
	if (d) {
		CHECK_EQ((uintptr_t)d & (IOVA_COLOUR_PAGE - 1), IOVA_COLOUR_DOMAIN);
		CHECK(d->fast_cache != NULL);
		if (d->fast_cache) {
			CHECK_EQ((uintptr_t)d->fast_cache & (IOVA_COLOUR_PAGE - 1), IOVA_COLOUR_CACHE);
			CHECK_EQ((uintptr_t)d->fast_cache->map & (IOVA_COLOUR_PAGE - 1), IOVA_COLOUR_CACHE_MAP);
		}
		iova_domain_destroy(d);
	}
	return check_exit_code();
}
