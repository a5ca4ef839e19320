/* SPDX-License-Identifier: MIT */
/*
 * test_cache_map.c - the cache layer's state-map layout (cache.h): a
 * bijection that keeps every granule's byte in its own page of the map;
 * granules less than 16 apart, and aligned buddy blocks of every order, in
 * different 128-byte pairs of cache lines (so threads freeing neighbouring
 * blocks do not share one); and a run of consecutive granules spread over
 * 32 pairs, each visited in order (so a sweep keeps its locality).
 */
#include "check.h"
#include "cache/cache.h"

#include <stdlib.h>

#define PAGE (UINT64_C(1) << CACHE_MAP_PAGE_LOG2)
#define SPAN (4 * PAGE)
#define PAIR(x) ((x) >> CACHE_MAP_PAIR_LOG2)

int main(void)
{
	uint8_t *seen = calloc(SPAN, 1);
	CHECK(seen != NULL);
	if (!seen)
		return check_exit_code();
	for (uint64_t i = 0; i < SPAN; i++) {
		const uint64_t x = cache_map_index(i);
		CHECK_MSG(x < SPAN && !seen[x], "granule %llu maps to %llu, taken or outside", (unsigned long long)i,
			  (unsigned long long)x);
		if (x < SPAN)
			seen[x] = 1;
		CHECK_EQ(x / PAGE, i / PAGE);
		for (uint64_t d = 1; d < 16 && i + d < SPAN; d++)
			CHECK_MSG(PAIR(cache_map_index(i + d)) != PAIR(x), "granules %llu and %llu share a pair",
				  (unsigned long long)i, (unsigned long long)(i + d));
		for (unsigned k = 0; k < 14; k++) {
			const uint64_t buddy = i ^ (UINT64_C(1) << k);
			if (!(i & ((UINT64_C(1) << k) - 1)) && buddy < SPAN)
				CHECK_MSG(PAIR(cache_map_index(buddy)) != PAIR(x),
					  "order-%u buddies at %llu and %llu share a pair", k, (unsigned long long)i,
					  (unsigned long long)buddy);
		}
	}
	/* Locality: 32 consecutive granules use 32 pairs, and the next 32 the
	 * same pairs one byte further on. */
	for (uint64_t i = 0; i < SPAN; i += 32)
		for (uint64_t j = i; j < i + 32; j++)
			CHECK_EQ(cache_map_index(j) % 128, (i / 32) % 128);
	free(seen);
	return check_exit_code();
}
