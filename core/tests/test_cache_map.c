/* SPDX-License-Identifier: MIT */
/*
 * test_cache_map.c - the cache layer's state-map layout (cache.h): a
 * bijection that keeps each 2^16-granule unit in its own 2^16 bytes, and
 * puts granules less than 512 apart - so the first granules of any two
 * neighbouring blocks of up to 256 granules - in different 128-byte pairs of
 * cache lines, so that threads freeing neighbouring blocks do not share one.
 */
#include "check.h"
#include "cache/cache.h"

#include <stdlib.h>

#define UNITS 4
#define SPAN ((uint64_t)UNITS << CACHE_MAP_UNIT_LOG2)

int main(void)
{
	uint8_t *seen = calloc(SPAN, 1);
	CHECK(seen != NULL);
	if (!seen)
		return check_exit_code();
	for (uint64_t i = 0; i < SPAN; i++) {
		uint64_t x = cache_map_index(i);
		CHECK_MSG(x < SPAN && !seen[x], "granule %llu maps to %llu, taken or outside", (unsigned long long)i,
			  (unsigned long long)x);
		if (x < SPAN)
			seen[x] = 1;
		CHECK_EQ(x >> CACHE_MAP_UNIT_LOG2, i >> CACHE_MAP_UNIT_LOG2);
		const uint64_t unit_end = (i | ((UINT64_C(1) << CACHE_MAP_UNIT_LOG2) - 1)) + 1;
		for (uint64_t d = 1; d < 512 && i + d < unit_end; d++)
			if (cache_map_index(i + d) / 128 == x / 128)
				CHECK_MSG(0, "granules %llu and %llu share a 128-byte pair", (unsigned long long)i,
					  (unsigned long long)(i + d));
	}
	/* The same-line partner of a granule is 512 granules away. */
	CHECK_EQ(cache_map_index(512), cache_map_index(0) + 1);
	free(seen);
	return check_exit_code();
}
