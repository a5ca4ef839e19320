/* Fragmentation metrics against hand-computed cases (Linux mm/vmstat.c's
 * formulas, DOMAIN.md section 5), on free lists given directly and on a real
 * domain's statistics; and the option value parsers. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "iovabench.h"

#define CHECK_NEAR(a, b, eps)                                                                              \
	CHECK_MSG(fabs((double)(a) - (double)(b)) <= (eps), "%s = %.6f, want %.6f", #a, (double)(a), (double)(b))

/* Linux's integer form, in thousandths: what /sys/kernel/debug/extfrag shows. */
static long linux_unusable(const uint64_t *nr, unsigned n, unsigned o)
{
	uint64_t free_pages = 0, suitable = 0;
	for (unsigned k = 0; k < n; k++) {
		free_pages += nr[k] << k;
		if (k >= o)
			suitable += nr[k] << (k - o);
	}
	if (!free_pages)
		return 1000;
	return (long)(((free_pages - (suitable << o)) * 1000) / free_pages);
}

static long linux_fragindex(const uint64_t *nr, unsigned n, unsigned o)
{
	uint64_t free_pages = 0, total = 0, suitable = 0, requested = 1ull << o;
	for (unsigned k = 0; k < n; k++) {
		free_pages += nr[k] << k;
		total += nr[k];
		if (k >= o)
			suitable += nr[k] << (k - o);
	}
	if (suitable)
		return -1000;
	if (!total)
		return 0;
	return 1000 - (long)((1000 + free_pages * 1000 / requested) / total);
}

static void hand_computed(void)
{
	uint64_t nr[IOVA_MAX_ORDER];

	/* Nothing free: unusable 1, fragmentation index 0 (no free blocks). */
	memset(nr, 0, sizeof nr);
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 0), 1.0, 1e-12);
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 4), 0.0, 1e-12);

	/* One free block of order 10 (1024 granules). */
	nr[10] = 1;
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 0), 0.0, 1e-12);
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 10), 0.0, 1e-12);
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 11), 1.0, 1e-12); /* nothing that large */
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 10), -1.0, 1e-12);
	/* 1 - (1 + 1024/2048) / 1: negative, the request fails for lack of memory */
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 11), -0.5, 1e-12);

	/* DOMAIN.md's pathological case: 8 pages, single pages pinned so that
	 * half is free but no 2-page block is: nr_free[0] = 4. */
	memset(nr, 0, sizeof nr);
	nr[0] = 4;
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 0), 0.0, 1e-12);
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 1), 1.0, 1e-12);
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 1), 0.25, 1e-12); /* 1 - (1 + 4/2)/4 */
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 0), -1.0, 1e-12);

	/* Mixed: 3 x order 0, 2 x order 2, 1 x order 4: 27 granules in 6 blocks. */
	memset(nr, 0, sizeof nr);
	nr[0] = 3, nr[2] = 2, nr[4] = 1;
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 2), 3.0 / 27.0, 1e-12);  /* 6 blocks of 4 usable */
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 3), 11.0 / 27.0, 1e-12); /* 2 blocks of 8 */
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 4), 11.0 / 27.0, 1e-12);
	CHECK_NEAR(ib_unusable_index(nr, IOVA_MAX_ORDER, 5), 1.0, 1e-12);
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 4), -1.0, 1e-12);
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 5), 1.0 - (1.0 + 27.0 / 32.0) / 6.0, 1e-12);
	CHECK_NEAR(ib_fragmentation_index(nr, IOVA_MAX_ORDER, 8), 1.0 - (1.0 + 27.0 / 256.0) / 6.0, 1e-12);

	/* Linux's thousandths agree to within one unit on every order. */
	for (unsigned o = 0; o < 12; o++) {
		long lu = linux_unusable(nr, IOVA_MAX_ORDER, o), lf = linux_fragindex(nr, IOVA_MAX_ORDER, o);
		double u = ib_unusable_index(nr, IOVA_MAX_ORDER, o), f = ib_fragmentation_index(nr, IOVA_MAX_ORDER, o);
		CHECK_MSG(fabs(u * 1000 - (double)lu) < 1.0, "order %u: unusable %.4f vs Linux %ld/1000", o, u, lu);
		CHECK_MSG(fabs(f * 1000 - (double)lf) < 1.0, "order %u: fragindex %.4f vs Linux %ld/1000", o, f, lf);
	}
}

/* The same from a real domain: 8 pages, all taken, the even ones freed. */
static void from_domain(void)
{
	iova_domain_config cfg = {.size = 8 * 4096};
	iova_domain *d;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	iova_allocation a[8];
	for (int i = 0; i < 8; i++)
		CHECK_STATUS(iova_alloc(d, &(iova_request){.size = 4096 - 96}, &a[i]), IOVA_OK);
	for (int i = 0; i < 8; i++)
		if (a[i].iova / 4096 % 2 == 0)
			CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	unsigned orders[] = {0, 1, 3};
	ib_frag f;
	memset(&f, 0, sizeof f);
	ib_frag_from_stats(&st, orders, 3, &f);
	CHECK_EQ(f.total_bytes, 8 * 4096);
	CHECK_EQ(f.free_bytes, 4 * 4096);
	CHECK_EQ(f.largest_free_extent, 4096);
	CHECK_EQ(f.free_extents, 4);
	CHECK_EQ(f.live, 4);
	CHECK_NEAR(f.external, 0.75, 1e-12);                       /* 1 - 4K / 16K */
	CHECK_NEAR(f.internal, 96.0 / 4096.0, 1e-12);              /* each live block asked for 96 bytes less */
	CHECK_NEAR(f.unusable[0], 0.0, 1e-12);
	CHECK_NEAR(f.unusable[1], 1.0, 1e-12);
	CHECK_NEAR(f.unusable[2], 1.0, 1e-12);
	CHECK_NEAR(f.fragindex[0], -1.0, 1e-12);
	CHECK_NEAR(f.fragindex[1], 0.25, 1e-12);
	CHECK_NEAR(f.fragindex[2], 1.0 - (1.0 + 4.0 / 8.0) / 4.0, 1e-12);
	/* all free: one extent, nothing unusable */
	for (int i = 0; i < 8; i++)
		if (a[i].iova / 4096 % 2 == 1)
			CHECK_STATUS(iova_free(d, a[i].handle), IOVA_OK);
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	ib_frag_from_stats(&st, orders, 3, &f);
	CHECK_EQ(f.largest_free_extent, 8 * 4096);
	CHECK_NEAR(f.external, 0.0, 1e-12);
	CHECK_NEAR(f.internal, 0.0, 1e-12);
	CHECK_NEAR(f.unusable[2], 0.0, 1e-12);
	iova_domain_destroy(d);
}

static void values(void)
{
	uint64_t v;
	CHECK(ib_parse_size("4K", &v) && v == 4096);
	CHECK(ib_parse_size("64G", &v) && v == 64ull << 30);
	CHECK(ib_parse_size("0x100000", &v) && v == 1 << 20);
	CHECK(ib_parse_size("2MiB", &v) && v == 2 << 20);
	CHECK(!ib_parse_size("", &v) && !ib_parse_size("4X", &v) && !ib_parse_size("-1", &v) &&
	      !ib_parse_size("99999999999999999999", &v) && !ib_parse_size("16777216T", &v));
	CHECK(ib_parse_duration("100ms", &v) && v == 100000000);
	CHECK(ib_parse_duration("2", &v) && v == 2000000000);
	CHECK(ib_parse_duration("1.5s", &v) && v == 1500000000);
	CHECK(ib_parse_duration("250us", &v) && v == 250000);
	CHECK(!ib_parse_duration("fast", &v) && !ib_parse_duration("10 ms", &v) && !ib_parse_duration("-1s", &v));
	bool b;
	CHECK(ib_parse_bool("yes", &b) && b && ib_parse_bool("0", &b) && !b && !ib_parse_bool("maybe", &b));
	iova_inval_policy p;
	CHECK(ib_policy_from_name("batched", &p) && p == IOVA_INVAL_PERCPU_QUEUE);
	CHECK(ib_policy_from_name("strict", &p) && p == IOVA_INVAL_STRICT);
	CHECK(ib_policy_from_name("global", &p) && p == IOVA_INVAL_GLOBAL_QUEUE);
	CHECK(ib_policy_from_name("none", &p) && p == IOVA_INVAL_NONE);
	CHECK(!ib_policy_from_name("lazy", &p) && !ib_policy_from_name("percpu-queue", &p));
	CHECK(ib_policy_from_name("unsafe-early-release", &p) && p == IOVA_INVAL_UNSAFE_EARLY_RELEASE);
	char **items;
	int n = ib_split_list(" gpu-frame(a=1, b=2) , trace:x.trace,fragmenter ", &items);
	CHECK_EQ(n, 3);
	if (n == 3)
		CHECK(!strcmp(items[0], "gpu-frame(a=1, b=2)") && !strcmp(items[1], "trace:x.trace") &&
		      !strcmp(items[2], "fragmenter"));
	ib_free_list(items, n);
	CHECK_EQ(ib_split_list("a,,b", &items), (uint64_t)-1);
	CHECK_EQ(ib_split_list("a(b", &items), (uint64_t)-1);
	char buf[32];
	ib_format_bytes(68719476736ull - 4096, buf, sizeof buf);
	CHECK_MSG(!strcmp(buf, "63.9G"), "%s: a size is truncated, never rounded up", buf);
	ib_format_bytes(2 << 20, buf, sizeof buf);
	CHECK(!strcmp(buf, "2M"));
}

int main(void)
{
	hand_computed();
	from_domain();
	values();
	return check_exit_code();
}
