/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers shared by the core tests: a seeded generator,
 * snapshots of a domain's free space, and comparisons that report what
 * differs through the check macros.
 */
#ifndef IOVA_TEST_UTIL_H
#define IOVA_TEST_UTIL_H

#include "check.h"
#include "iova.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sanitizer builds run fewer operations where a test says so. */
#if defined(__SANITIZE_THREAD__)
#define TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_UNDER_TSAN 1
#endif
#endif
#ifndef TEST_UNDER_TSAN
#define TEST_UNDER_TSAN 0
#endif

#define PAGE UINT64_C(4096)

/* ---- xoshiro256** seeded through splitmix64: reproducible from one seed. ---- */

typedef struct test_rng {
	uint64_t s[4];
} test_rng;

static inline uint64_t test_splitmix(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline void rng_seed(test_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = test_splitmix(&seed);
}

static inline uint64_t rng_next(test_rng *r)
{
	uint64_t *s = r->s;
	uint64_t x = s[1] * 5;
	uint64_t result = ((x << 7) | (x >> 57)) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

/* Uniform in [0, n); n > 0. The bias of a 64-bit modulo is irrelevant here. */
static inline uint64_t rng_below(test_rng *r, uint64_t n) { return rng_next(r) % n; }

/* True with probability per_mille / 1000. */
static inline bool rng_chance(test_rng *r, unsigned per_mille) { return rng_below(r, 1000) < per_mille; }

/* The seed: argv[1] if given (decimal or 0x hex), else @fallback. Printed so a
 * failure can be replayed. */
static inline uint64_t test_seed(int argc, char **argv, uint64_t fallback, const char *test)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : fallback;
	printf("%s: seed %" PRIu64 " (pass it as the first argument to replay)\n", test, seed);
	fflush(stdout);
	return seed;
}

/* ---- Free-space snapshots. ---- */

typedef struct extent {
	uint64_t iova, bytes;
} extent;

typedef struct extent_list {
	extent *e;
	size_t n, cap;
} extent_list;

static inline bool extent_list_add(void *ctx, uint64_t iova, uint64_t bytes)
{
	extent_list *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->e = realloc(l->e, l->cap * sizeof *l->e);
		if (!l->e) {
			fprintf(stderr, "out of memory\n");
			abort();
		}
	}
	l->e[l->n++] = (extent){iova, bytes};
	return true;
}

static inline void extent_list_reset(extent_list *l) { l->n = 0; }
static inline void extent_list_free(extent_list *l)
{
	free(l->e);
	memset(l, 0, sizeof *l);
}

static inline void domain_extents(const iova_domain *d, extent_list *l)
{
	extent_list_reset(l);
	iova_domain_for_each_free(d, extent_list_add, l);
}

/* Compare two extent lists; report the first difference. True if equal. */
static inline bool extents_equal(const extent_list *got, const extent_list *want, const char *where)
{
	size_t n = got->n < want->n ? got->n : want->n;
	for (size_t i = 0; i < n; i++) {
		if (got->e[i].iova != want->e[i].iova || got->e[i].bytes != want->e[i].bytes) {
			CHECK_MSG(false, "%s: free extent %zu is [0x%" PRIx64 ", +0x%" PRIx64 "), want [0x%" PRIx64 ", +0x%" PRIx64 ")",
				  where, i, got->e[i].iova, got->e[i].bytes, want->e[i].iova, want->e[i].bytes);
			return false;
		}
	}
	if (got->n != want->n) {
		CHECK_MSG(false, "%s: %zu free extents, want %zu", where, got->n, want->n);
		return false;
	}
	return true;
}

/* Compare the space fields of two stats snapshots (not counters or metadata). */
static inline bool space_stats_equal(const iova_stats *got, const iova_stats *want, const char *where)
{
	bool ok = true;
#define STAT_EQ(field)                                                                                    \
	do {                                                                                              \
		if (got->field != want->field) {                                                          \
			CHECK_MSG(false, "%s: stats." #field " = %" PRIu64 ", want %" PRIu64, where,      \
				  (uint64_t)got->field, (uint64_t)want->field);                           \
			ok = false;                                                                       \
		}                                                                                         \
	} while (0)
	STAT_EQ(granule);
	STAT_EQ(total_bytes);
	STAT_EQ(free_bytes);
	STAT_EQ(allocated_bytes);
	STAT_EQ(free_extents);
	STAT_EQ(largest_free_extent);
	STAT_EQ(largest_free_block);
	for (unsigned k = 0; k < IOVA_MAX_ORDER; k++) {
		STAT_EQ(free_blocks[k]);
		STAT_EQ(free_extents_by_order[k]);
	}
#undef STAT_EQ
	return ok;
}

/* Everything a bad free must leave unchanged: the free space and the space
 * statistics. */
typedef struct domain_snapshot {
	extent_list extents;
	iova_stats stats;
} domain_snapshot;

static inline void snapshot_take(const iova_domain *d, domain_snapshot *s)
{
	domain_extents(d, &s->extents);
	CHECK_STATUS(iova_domain_stats(d, &s->stats), IOVA_OK);
}

/* Compare the domain with an earlier snapshot; the counters may differ only
 * by @failed_frees more failed frees. */
static inline bool snapshot_unchanged(const iova_domain *d, const domain_snapshot *before, uint64_t failed_frees,
				      const char *where)
{
	domain_snapshot now = {0};
	snapshot_take(d, &now);
	bool ok = extents_equal(&now.extents, &before->extents, where) &&
		  space_stats_equal(&now.stats, &before->stats, where);
	if (now.stats.live_allocations != before->stats.live_allocations ||
	    now.stats.requested_bytes != before->stats.requested_bytes || now.stats.allocs != before->stats.allocs ||
	    now.stats.frees != before->stats.frees ||
	    now.stats.failed_frees != before->stats.failed_frees + failed_frees) {
		CHECK_MSG(false,
			  "%s: counters moved: live %" PRIu64 "->%" PRIu64 " requested %" PRIu64 "->%" PRIu64
			  " frees %" PRIu64 "->%" PRIu64 " failed_frees %" PRIu64 "->%" PRIu64 " (want +%" PRIu64 ")",
			  where, before->stats.live_allocations, now.stats.live_allocations, before->stats.requested_bytes,
			  now.stats.requested_bytes, before->stats.frees, now.stats.frees, before->stats.failed_frees,
			  now.stats.failed_frees, failed_frees);
		ok = false;
	}
	extent_list_free(&now.extents);
	return ok;
}

static inline void snapshot_free(domain_snapshot *s) { extent_list_free(&s->extents); }

/* Does [iova, iova + bytes) cross a multiple of @boundary (0: none)? */
static inline bool crosses_boundary(uint64_t iova, uint64_t bytes, uint64_t boundary)
{
	return boundary && (iova / boundary) != ((iova + bytes - 1) / boundary);
}

static inline unsigned test_log2_ceil(uint64_t x) { return x <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(x - 1); }

#endif
