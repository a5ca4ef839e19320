/* Quick end-to-end check of the buddy through the public API. */
#include "check.h"
#include "iova.h"

#include <stdio.h>
#include <string.h>

static bool count_extent(void *ctx, uint64_t iova, uint64_t bytes)
{
	(void)iova;
	uint64_t *c = ctx;
	c[0]++;
	c[1] += bytes;
	return true;
}

int main(void)
{
	iova_domain *d;
	iova_domain_config cfg = {.base = 0, .size = UINT64_C(1) << 34};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	iova_allocation a[1000];
	for (int i = 0; i < 1000; i++) {
		iova_request r = {.size = 4096 * (uint64_t)(1 + i % 37)};
		CHECK_STATUS(iova_alloc(d, &r, &a[i]), IOVA_OK);
	}
	for (int i = 0; i < 1000; i++)
		for (int j = i + 1; j < 1000; j++)
			CHECK(a[i].iova + a[i].size <= a[j].iova || a[j].iova + a[j].size <= a[i].iova);
	iova_stats st;
	iova_domain_stats(d, &st);
	printf("free %llu extents %llu largest %llu meta %llu/%llu\n", (unsigned long long)st.free_bytes,
	       (unsigned long long)st.free_extents, (unsigned long long)st.largest_free_extent,
	       (unsigned long long)st.metadata_resident_bytes, (unsigned long long)st.metadata_reserved_bytes);
	for (int i = 0; i < 1000; i++)
		CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK_STATUS(iova_free(d, a[5].handle), IOVA_ERR_DOUBLE_FREE);
	uint64_t c[2] = {0, 0};
	iova_domain_for_each_free(d, count_extent, c);
	CHECK_EQ(c[0], 1);
	CHECK_EQ(c[1], cfg.size);
	iova_request whole = {.size = cfg.size};
	iova_allocation w;
	CHECK_STATUS(iova_alloc(d, &whole, &w), IOVA_OK);
	CHECK_EQ(w.iova, 0);
	CHECK_STATUS(iova_free(d, w.handle), IOVA_OK);
	iova_domain_destroy(d);
	return check_exit_code();
}
