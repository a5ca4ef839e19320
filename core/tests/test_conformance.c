/* SPDX-License-Identifier: MIT */
/*
 * test_conformance.c - every strategy, without and with the cache layer,
 * held to the same contract, single-threaded (so every answer is exact):
 * request constraints honoured, no two live blocks overlapping (a shadow
 * map of granules), exact accounting, every error of the core API, full
 * recovery of the space after all frees and a flush. A strategy lacking a
 * capability must refuse the requests that need it with
 * IOVA_ERR_UNSUPPORTED; the matrix printed at the end says which
 * combinations were skipped and why.
 *
 * Usage: test_conformance [combination]   (e.g. "bitmap+cache")
 */
#include "test_counter.h"
#include "test_conformance_common.h"

#define BASE (UINT64_C(1) << 30) /* the domain starts at 1 GiB... */
#define SIZE (UINT64_C(64) << 20) /* ...and spans 64 MiB of 4 KiB granules */
#define GRANULE UINT64_C(4096)
#define NGRANULES (SIZE / GRANULE)
#define MAX_LIVE 4096

/* Bytes the cache layer holds a block of @bytes at, by default: rounded up
 * to a power of two up to 32 granules (rounding=pow2, classes=6). */
static uint64_t class_held(uint64_t bytes)
{
	uint64_t g = bytes / GRANULE;
	return g <= 32 ? (GRANULE << log2_ceil_u64(g)) : bytes;
}

struct live {
	iova_allocation a;
	iova_request r;
};

/* A domain under test with its shadow: which granules live blocks cover. */
struct harness {
	const struct combo *k;
	iova_domain_config cfg;
	iova_domain *d;
	uint8_t shadow[NGRANULES];
	struct live live[MAX_LIVE];
	size_t n_live;
	uint64_t requested, rounded; /* sums over live blocks */
	uint64_t class_held;         /* what the cache layer holds them at (default options) */
};

static void h_open(struct harness *h, const struct combo *k, const char *options)
{
	memset(h, 0, sizeof *h);
	h->k = k;
	h->cfg = (iova_domain_config){.base = BASE, .size = SIZE, .granule = GRANULE, .strategy = k->name, .options = options};
	CHECK_STATUS(iova_domain_create(&h->cfg, &h->d), IOVA_OK);
}

static void h_close(struct harness *h)
{
	iova_domain_destroy(h->d);
	h->d = NULL;
}

/* Allocate and check the block against its request and the shadow. */
static iova_status h_alloc(struct harness *h, const iova_request *r)
{
	iova_allocation a;
	iova_status st = iova_alloc(h->d, r, &a);
	if (st != IOVA_OK)
		return st;
	char why[256];
	CHECK_MSG(meets(&h->cfg, r, &a, why, sizeof why), "%s: %s", h->k->name, why);
	const uint64_t first = (a.iova - BASE) / GRANULE, n = a.size / GRANULE;
	for (uint64_t i = first; i < first + n && i < NGRANULES; i++) {
		CHECK_MSG(!h->shadow[i], "%s: block at 0x%llx overlaps a live block", h->k->name,
			  (unsigned long long)a.iova);
		h->shadow[i] = 1;
	}
	CHECK(h->n_live < MAX_LIVE);
	if (h->n_live < MAX_LIVE) {
		h->live[h->n_live++] = (struct live){a, *r};
		h->requested += r->size;
		h->rounded += a.size;
		h->class_held += class_held(a.size);
	}
	return IOVA_OK;
}

static void h_free(struct harness *h, size_t i)
{
	struct live l = h->live[i];
	const uint64_t first = (l.a.iova - BASE) / GRANULE;
	for (uint64_t j = first; j < first + l.a.size / GRANULE; j++)
		h->shadow[j] = 0;
	CHECK_STATUS(iova_free(h->d, l.a.handle), IOVA_OK);
	h->live[i] = h->live[--h->n_live];
	h->requested -= l.r.size;
	h->rounded -= l.a.size;
	h->class_held -= class_held(l.a.size);
}

static void h_free_all(struct harness *h)
{
	while (h->n_live)
		h_free(h, h->n_live - 1);
}

struct extent_check {
	const struct harness *h;
	uint64_t bytes, count, last_end;
	bool ok;
};

static bool check_extent(void *ctx, uint64_t iova, uint64_t bytes)
{
	struct extent_check *e = ctx;
	/* Increasing, maximal (never touching the previous one), inside the
	 * domain, and covering no granule of a live block. */
	if (!bytes || iova % GRANULE || bytes % GRANULE || iova < BASE || iova + bytes > BASE + SIZE ||
	    (e->count && iova <= e->last_end))
		e->ok = false;
	for (uint64_t g = (iova - BASE) / GRANULE; e->ok && g < (iova - BASE + bytes) / GRANULE; g++)
		if (e->h->shadow[g])
			e->ok = false;
	e->bytes += bytes;
	e->count++;
	e->last_end = iova + bytes;
	return true;
}

/* Statistics agree with the shadow: exact where the strategy is exact. */
static void h_check_accounting(const struct harness *h, bool exact_size)
{
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(h->d, &st), IOVA_OK);
	CHECK_EQ(st.total_bytes, SIZE);
	CHECK_EQ(st.free_bytes + st.allocated_bytes + st.cached_bytes, SIZE);
	CHECK_EQ(st.requested_bytes, h->requested);
	CHECK_EQ(st.live_allocations, h->n_live);
	CHECK_MSG(st.allocated_bytes >= h->rounded, "%s: held %llu < granule-rounded %llu", h->k->name,
		  (unsigned long long)st.allocated_bytes, (unsigned long long)h->rounded);
	if (exact_size)
		CHECK_EQ(st.allocated_bytes, h->rounded);
	/* Over an exact strategy, the cache layer holds blocks at their class
	 * size - unless it had to fall back to an exact, uncached block. */
	if (h->k->cached && strncmp(h->k->name, "jemalloc", 8) && test_counter(h->d, "cache_exact_fallbacks") == 0)
		CHECK_EQ(st.allocated_bytes, h->class_held);
	struct extent_check e = {h, 0, 0, 0, true};
	iova_domain_for_each_free(h->d, check_extent, &e);
	CHECK_MSG(e.ok, "%s: free extents are not increasing, maximal and disjoint from live blocks", h->k->name);
	CHECK_EQ(e.bytes, st.free_bytes);
	CHECK_EQ(e.count, st.free_extents);
	uint64_t by_order = 0;
	for (unsigned o = 0; o < IOVA_MAX_ORDER; o++)
		by_order += st.free_extents_by_order[o];
	CHECK_EQ(by_order, st.free_extents);
}

/* The largest block a strategy must be able to place in the empty domain:
 * the whole domain, except that jemalloc pads large extents by a page. */
static uint64_t whole_block(const struct combo *k)
{
	return strncmp(k->name, "jemalloc", 8) ? SIZE : SIZE / 2;
}

/* After everything is freed and the caches flushed: one free extent, the
 * whole domain, which one request can take. */
static void h_check_recovered(struct harness *h)
{
	iova_domain_flush_caches(h->d);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(h->d, &st), IOVA_OK);
	CHECK_MSG(st.free_bytes == SIZE && st.free_extents == 1 && st.largest_free_extent == SIZE,
		  "%s: after all frees and a flush: free %llu in %llu extents (largest %llu), cached %llu",
		  h->k->name, (unsigned long long)st.free_bytes, (unsigned long long)st.free_extents,
		  (unsigned long long)st.largest_free_extent, (unsigned long long)st.cached_bytes);
	CHECK_EQ(st.allocated_bytes, 0);
	CHECK_EQ(st.cached_bytes, 0);
	CHECK_EQ(st.requested_bytes, 0);
	CHECK_EQ(st.live_allocations, 0);
	iova_request whole = {.size = whole_block(h->k)};
	iova_allocation w;
	CHECK_STATUS(iova_alloc(h->d, &whole, &w), IOVA_OK);
	CHECK_STATUS(iova_free(h->d, w.handle), IOVA_OK);
}

/* ---- constraints ---- */

enum kind { K_PLAIN, K_WINDOW, K_BOUNDARY, K_ALIGNMENT, K_COUNT };
static const char *const kind_name[K_COUNT] = {"plain", "window", "boundary", "alignment"};

static uint64_t random_size(uint64_t *seed)
{
	uint64_t g = rnd_below(seed, 10) < 8 ? 1 + rnd_below(seed, 40) : 1 + rnd_below(seed, 1024);
	return g * GRANULE - (rnd_below(seed, 2) ? rnd_below(seed, GRANULE) : 0);
}

static iova_request random_request(uint64_t *seed, enum kind k)
{
	iova_request r = {.size = random_size(seed), .cache_type = (iova_cache_type)rnd_below(seed, 3),
			  .placement = (iova_placement)rnd_below(seed, 2)};
	switch (k) {
	case K_PLAIN:
		break;
	case K_WINDOW: {
		uint64_t span = r.size + rnd_below(seed, SIZE / 4);
		uint64_t lo = BASE + rnd_below(seed, SIZE - span + 1);
		r.lowest = lo + rnd_below(seed, 3); /* unaligned edges round inwards */
		r.highest = lo + span - 1;
		if (r.lowest + r.size > r.highest + 1)
			r.lowest = lo;
		break;
	}
	case K_BOUNDARY:
		r.boundary = (GRANULE << log2_ceil_u64((r.size + GRANULE - 1) / GRANULE)) << rnd_below(seed, 6);
		break;
	case K_ALIGNMENT:
		r.alignment = GRANULE << rnd_below(seed, 15);
		break;
	case K_COUNT:
		break;
	}
	return r;
}

/*
 * Known deviation, reported in the matrix rather than failed: the lock-free
 * buddy answers IOVA_ERR_UNSATISFIABLE when the window can hold the request's
 * granules at an aligned start but not the whole power-of-two block they
 * are rounded to (its alloc_search() tests the rounded size), although the
 * domain has already found the request satisfiable.
 */
static bool rounded_fits(const iova_request *r)
{
	/* A buddy rounds a block up to a power of two: the granules held must lie
	 * in the window, and the whole rounded block in the domain. A request that
	 * fits only without the rounding may be refused as IOVA_ERR_UNSATISFIABLE. */
	const uint64_t granules = (r->size + GRANULE - 1) / GRANULE;
	const uint64_t rounded = UINT64_C(1) << log2_ceil_u64(granules);
	const uint64_t align = r->alignment / GRANULE > rounded ? r->alignment / GRANULE : rounded;
	const uint64_t highest = r->highest ? r->highest : UINT64_MAX;
	uint64_t lo = (r->lowest + GRANULE - 1) / GRANULE, hi = highest / GRANULE + (highest % GRANULE == GRANULE - 1);
	if (lo < BASE / GRANULE)
		lo = BASE / GRANULE;
	if (hi > (BASE + SIZE) / GRANULE)
		hi = (BASE + SIZE) / GRANULE;
	uint64_t block_hi = hi + (rounded - granules);
	if (block_hi > (BASE + SIZE) / GRANULE)
		block_hi = (BASE + SIZE) / GRANULE;
	const uint64_t p = (lo + align - 1) / align * align;
	return p + granules <= hi && p + rounded <= block_hi;
}

/*
 * What the domain must answer before any strategy sees the request (the
 * contract of iova.h, modelled independently): IOVA_OK if the request is
 * valid, satisfiable in an empty domain and within the strategy's
 * capabilities; else the error, in the documented order.
 */
static iova_status expected_validation(const struct combo *k, const iova_request *r)
{
	const uint64_t granules = (r->size + GRANULE - 1) / GRANULE;
	const uint64_t natural = GRANULE << log2_ceil_u64(granules);
	const uint64_t highest = r->highest ? r->highest : UINT64_MAX;
	uint64_t lo = (r->lowest + GRANULE - 1) / GRANULE, hi = highest / GRANULE + (highest % GRANULE == GRANULE - 1);
	if (lo < BASE / GRANULE)
		lo = BASE / GRANULE;
	if (hi > (BASE + SIZE) / GRANULE)
		hi = (BASE + SIZE) / GRANULE;
	if (hi <= lo || hi - lo < granules)
		return IOVA_ERR_RANGE_TOO_SMALL;
	if (r->boundary && r->boundary < granules * GRANULE)
		return IOVA_ERR_BOUNDARY_TOO_SMALL;
	const bool window = lo != BASE / GRANULE || hi != (BASE + SIZE) / GRANULE;
	if ((window && !(k->caps & IOVA_CAP_WINDOW)) || (r->alignment > natural && !(k->caps & IOVA_CAP_ALIGNMENT)))
		return IOVA_ERR_UNSUPPORTED;
	const uint64_t align = (r->alignment > natural ? r->alignment : natural) / GRANULE;
	if ((lo + align - 1) / align * align + granules > hi)
		return IOVA_ERR_UNSATISFIABLE;
	return IOVA_OK;
}

static void test_constraints(struct matrix *m, size_t ci, const struct combo *k, uint64_t seed)
{
	static const unsigned need[K_COUNT] = {0, IOVA_CAP_WINDOW, 0, IOVA_CAP_ALIGNMENT};
	for (int kind = 0; kind < K_COUNT; kind++) {
		int before = check_failure_count();
		static struct harness h;
		h_open(&h, k, NULL);
		unsigned ok = 0, refused = 0, deviations = 0;
		for (int i = 0; i < 3000; i++) {
			if (h.n_live && (rnd_below(&seed, 100) < 45 || h.n_live == MAX_LIVE)) {
				h_free(&h, rnd_below(&seed, h.n_live));
				continue;
			}
			iova_request r = random_request(&seed, (enum kind)kind);
			iova_status want = expected_validation(k, &r);
			if (want != IOVA_OK) {
				iova_allocation a;
				CHECK_STATUS(iova_alloc(h.d, &r, &a), want);
				refused += want == IOVA_ERR_UNSUPPORTED;
				continue;
			}
			iova_status st = h_alloc(&h, &r);
			if (st == IOVA_ERR_UNSATISFIABLE && !rounded_fits(&r)) {
				deviations++; /* see rounded_fits() */
				continue;
			}
			CHECK_MSG(st == IOVA_OK || st == IOVA_ERR_NO_SPACE, "%s %s: %s", k->name, kind_name[kind],
				  iova_status_name(st));
			ok += st == IOVA_OK;
			if (i % 500 == 0)
				h_check_accounting(&h, (k->caps & IOVA_CAP_EXACT_SIZE) != 0);
		}
		CHECK_MSG(ok > 100 || !need[kind] || refused, "%s %s: only %u allocations succeeded", k->name,
			  kind_name[kind], ok);
		h_check_accounting(&h, (k->caps & IOVA_CAP_EXACT_SIZE) != 0);
		h_free_all(&h);
		h_check_recovered(&h);
		h_close(&h);
		char reason[160] = "";
		if (need[kind] && !(k->caps & need[kind]))
			snprintf(reason, sizeof reason, "no %s capability: all %u such requests refused with IOVA_ERR_UNSUPPORTED",
				 need[kind] == IOVA_CAP_WINDOW ? "IOVA_CAP_WINDOW" : "IOVA_CAP_ALIGNMENT", refused);
		matrix_set(m, ci, kind_name[kind], before, reason[0] ? reason : NULL);
		if (deviations)
			matrix_note(m, ci, kind_name[kind], "DEVIATION: %u satisfiable requests refused with "
				    "IOVA_ERR_UNSATISFIABLE (the rounded block would end past the domain)", deviations);
	}
}

/* ---- accounting ---- */

static void test_accounting(struct matrix *m, size_t ci, const struct combo *k, uint64_t seed)
{
	int before = check_failure_count();
	static struct harness h;
	h_open(&h, k, NULL);
	const bool exact = (k->caps & IOVA_CAP_EXACT_SIZE) != 0;
	for (int i = 0; i < 1500; i++) {
		if (h.n_live && rnd_below(&seed, 100) < 40)
			h_free(&h, rnd_below(&seed, h.n_live));
		else
			(void)h_alloc(&h, &(iova_request){.size = random_size(&seed)});
		h_check_accounting(&h, exact);
	}
	h_free_all(&h);
	h_check_accounting(&h, exact);
	h_check_recovered(&h);
	h_close(&h);
	matrix_set(m, ci, "exact-accounting", before,
		   exact ? NULL
		   : strncmp(k->name, "jemalloc", 8) ? NULL /* class-rounded holdings checked exactly */
		   : "jemalloc size classes: held bytes checked as bounds (>= granules asked), not equality");
}

/* ---- errors ---- */

static void test_errors(struct matrix *m, size_t ci, const struct combo *k)
{
	int before = check_failure_count();
	static struct harness h;
	h_open(&h, k, NULL);
	iova_allocation a, b;
	iova_request one = {.size = GRANULE};

	/* Double free, also once the block has left the caches. */
	CHECK_STATUS(iova_alloc(h.d, &one, &a), IOVA_OK);
	CHECK_STATUS(iova_free(h.d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_free(h.d, a.handle), IOVA_ERR_DOUBLE_FREE);
	iova_domain_flush_caches(h.d);
	CHECK_STATUS(iova_free(h.d, a.handle), IOVA_ERR_DOUBLE_FREE);

	/* Forged and foreign handles. */
	CHECK_STATUS(iova_alloc(h.d, &one, &a), IOVA_OK);
	iova_handle forged = a.handle;
	forged.opaque[0] ^= UINT64_C(1) << 13;
	CHECK_STATUS(iova_free(h.d, forged), IOVA_ERR_FORGED_HANDLE);
	forged = a.handle;
	forged.opaque[1] ^= 1;
	CHECK_STATUS(iova_free(h.d, forged), IOVA_ERR_FORGED_HANDLE);
	iova_domain *other;
	CHECK_STATUS(iova_domain_create(&h.cfg, &other), IOVA_OK);
	CHECK_STATUS(iova_alloc(other, &one, &b), IOVA_OK);
	CHECK_STATUS(iova_free(h.d, b.handle), IOVA_ERR_FORGED_HANDLE);
	CHECK_STATUS(iova_free(other, a.handle), IOVA_ERR_FORGED_HANDLE);
	CHECK_STATUS(iova_free(other, b.handle), IOVA_OK);
	iova_domain_destroy(other);
	CHECK_STATUS(iova_free(h.d, a.handle), IOVA_OK);

	/* Impossible constraints, in the order the domain checks them. */
	iova_allocation x;
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = 0}, &x), IOVA_ERR_ZERO_SIZE);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = SIZE + 1}, &x), IOVA_ERR_SIZE_TOO_LARGE);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = GRANULE, .lowest = BASE + 2 * GRANULE, .highest = BASE}, &x),
		     IOVA_ERR_RANGE_INVERTED);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = 4 * GRANULE, .lowest = BASE, .highest = BASE + 3 * GRANULE - 1}, &x),
		     IOVA_ERR_RANGE_TOO_SMALL);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = 4 * GRANULE, .boundary = 2 * GRANULE}, &x),
		     IOVA_ERR_BOUNDARY_TOO_SMALL);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = GRANULE, .boundary = 3 * GRANULE}, &x), IOVA_ERR_BAD_BOUNDARY);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = GRANULE, .alignment = 3 * GRANULE}, &x), IOVA_ERR_BAD_ALIGNMENT);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = GRANULE, .cache_type = 7}, &x), IOVA_ERR_BAD_CACHE_TYPE);
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = GRANULE, .placement = 9}, &x), IOVA_ERR_BAD_PLACEMENT);
	/* No address of the domain is 2 GiB aligned. */
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = GRANULE, .alignment = UINT64_C(1) << 31}, &x),
		     (k->caps & IOVA_CAP_ALIGNMENT) ? IOVA_ERR_UNSATISFIABLE : IOVA_ERR_UNSUPPORTED);
	/* A window with no 64 KiB-aligned granule in it. */
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = GRANULE, .lowest = BASE + GRANULE, .highest = BASE + 0x10000 - 1,
						     .alignment = 0x10000}, &x),
		     (k->caps & IOVA_CAP_WINDOW) ? IOVA_ERR_UNSATISFIABLE : IOVA_ERR_UNSUPPORTED);
	CHECK_STATUS(iova_alloc(NULL, &one, &x), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_STATUS(iova_alloc(h.d, NULL, &x), IOVA_ERR_INVALID_ARGUMENT);

	/*
	 * A stale handle whose address now starts a block of another size:
	 * free a 2-granule block, then fill the domain with 1-granule blocks
	 * (which flushes any cache), so that one of them starts where it was.
	 */
	iova_allocation two;
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = 2 * GRANULE}, &two), IOVA_OK);
	CHECK_STATUS(iova_free(h.d, two.handle), IOVA_OK);
	while (h.n_live < MAX_LIVE && h_alloc(&h, &one) == IOVA_OK) {
	}
	iova_stats s0, s1;
	iova_domain_stats(h.d, &s0);
	bool starts = false;
	for (size_t i = 0; i < h.n_live; i++)
		starts |= h.live[i].a.iova == two.iova;
	bool inside = h.shadow[(two.iova - BASE) / GRANULE];
	iova_status want = starts || inside ? IOVA_ERR_UNKNOWN_HANDLE : IOVA_ERR_DOUBLE_FREE;
	CHECK_STATUS(iova_free(h.d, two.handle), want);
	CHECK_MSG(starts || h.n_live == MAX_LIVE, "%s: no 1-granule block took the freed block's place", k->name);
	/* Failed frees changed nothing. */
	iova_domain_stats(h.d, &s1);
	CHECK_EQ(s1.free_bytes, s0.free_bytes);
	CHECK_EQ(s1.allocated_bytes, s0.allocated_bytes);
	CHECK_EQ(s1.live_allocations, s0.live_allocations);
	CHECK_EQ(s1.failed_frees, s0.failed_frees + 1);
	h_check_accounting(&h, (k->caps & IOVA_CAP_EXACT_SIZE) != 0);
	h_free_all(&h);
	h_check_recovered(&h);
	h_close(&h);
	matrix_set(m, ci, "errors", before, NULL);
}

/* ---- exhaustion: caching never makes an allocation fail ---- */

static void test_exhaustion(struct matrix *m, size_t ci, const struct combo *k, uint64_t seed)
{
	int before = check_failure_count();
	static struct harness h;
	h_open(&h, k, NULL);
	/* Fill with small blocks, free them all (into the caches, if any), then
	 * ask for the whole domain: the caches must be flushed for it. */
	while (h.n_live < MAX_LIVE && h_alloc(&h, &(iova_request){.size = (1 + rnd_below(&seed, 8)) * GRANULE}) == IOVA_OK) {
	}
	h_free_all(&h);
	iova_allocation w;
	CHECK_STATUS(iova_alloc(h.d, &(iova_request){.size = whole_block(k)}, &w), IOVA_OK);
	CHECK_STATUS(iova_free(h.d, w.handle), IOVA_OK);
	/* Same with a half-size block and a window (where supported). */
	while (h.n_live < MAX_LIVE && h_alloc(&h, &(iova_request){.size = (1 + rnd_below(&seed, 4)) * GRANULE}) == IOVA_OK) {
	}
	h_free_all(&h);
	iova_request half = {.size = whole_block(k) / 2};
	if (k->caps & IOVA_CAP_WINDOW)
		half.lowest = BASE + SIZE / 2;
	CHECK_STATUS(h_alloc(&h, &half), IOVA_OK);
	h_free_all(&h);
	h_check_recovered(&h);
	h_close(&h);
	matrix_set(m, ci, "exhaustion+flush", before,
		   whole_block(k) != SIZE ? "partly: a block of the whole domain cannot fit (page padding); "
					    "half of it is asked for instead" : NULL);
}

/* ---- options ---- */

static void test_options(struct matrix *m, size_t ci, const struct combo *k)
{
	int before = check_failure_count();
	char msg[256];
	CHECK_STATUS(iova_strategy_check(k->name, NULL, msg, sizeof msg), IOVA_OK);
	CHECK_STATUS(iova_strategy_check(k->name, "no_such_key=1", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
	CHECK_MSG(strstr(msg, "no_such_key"), "%s: message does not name the key: %s", k->name, msg);
	iova_domain *d;
	iova_domain_config cfg = {.base = BASE, .size = SIZE, .strategy = k->name, .options = "no_such_key=1"};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_ERR_INVALID_ARGUMENT);
	if (k->cached) {
		CHECK_STATUS(iova_strategy_check(k->name, "magazine_size=0", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
		CHECK_MSG(strstr(msg, "magazine_size") && strstr(msg, "outside"), "%s: %s", k->name, msg);
		CHECK_STATUS(iova_strategy_check(k->name, "rounding=maybe", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
		CHECK_MSG(strstr(msg, "pow2"), "%s: %s", k->name, msg);
		CHECK_STATUS(iova_strategy_check(k->name, "classes=3,classes=4", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
		CHECK_STATUS(iova_strategy_check(k->name, "classes=3,,trim_ms=0", msg, sizeof msg), IOVA_ERR_INVALID_ARGUMENT);
		CHECK_STATUS(iova_strategy_check(k->name, " magazine_size = 7 ,rounding=exact,classes=7,depot_target=0,trim_ms=0",
						 msg, sizeof msg), IOVA_OK);
	}
	matrix_set(m, ci, "options", before, NULL);
}

int main(int argc, char **argv)
{
	static struct combo combos[MAX_COMBOS];
	static struct matrix m;
	const size_t n = combos_list(combos, argc, argv);
	CHECK(n > 0);
	uint64_t seed = 0x5eed5eed12345678u;
	printf("seed 0x%llx\n", (unsigned long long)seed);
	for (size_t i = 0; i < n; i++) {
		test_constraints(&m, i, &combos[i], seed + i);
		test_accounting(&m, i, &combos[i], seed + 100 + i);
		test_errors(&m, i, &combos[i]);
		test_exhaustion(&m, i, &combos[i], seed + 200 + i);
		test_options(&m, i, &combos[i]);
		printf("done %s (failures so far: %d)\n", combos[i].name, check_failure_count());
		fflush(stdout);
	}
	matrix_print(&m, combos, n);
	return check_exit_code();
}
