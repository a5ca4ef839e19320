/* SPDX-License-Identifier: MIT */
/*
 * test_bitmap.c - bitmap against an obviously correct reference: a byte per
 * granule and a candidate-by-candidate scan. First fit (bottom-up), last
 * fit (top-down) and next fit must pick exactly the block the reference
 * picks, for random requests with windows and alignments, and frees must
 * give the same answers, errors included.
 */
#include "check.h"
#include "iova.h"

#include <string.h>

#define G UINT64_C(4096)
#define BASE (UINT64_C(7) << 20) /* granule 1792: aligned to 256 granules only */
#define PAGES 2000u

struct ref {
	uint32_t owner[PAGES]; /* 0 free, else the allocation's id */
	uint64_t size_of[40000];
	uint64_t hint;
	bool next_fit;
};

static bool ref_free_run(const struct ref *m, uint64_t p, uint64_t s)
{
	for (uint64_t i = p; i < p + s; i++)
		if (m->owner[i - BASE / G])
			return false;
	return true;
}

/* The block the reference picks, in absolute granules, or UINT64_MAX. */
static uint64_t ref_pick(const struct ref *m, uint64_t lo, uint64_t hi, uint64_t s, uint64_t a, bool down)
{
	if (down) {
		if (hi - lo < s)
			return UINT64_MAX;
		for (uint64_t p = (hi - s) / a * a; p >= lo && p + s <= hi; p -= a) {
			if (ref_free_run(m, p, s))
				return p;
			if (p < a)
				break;
		}
		return UINT64_MAX;
	}
	uint64_t from = lo;
	if (m->next_fit && m->hint > lo && m->hint < hi) {
		for (uint64_t p = (m->hint + a - 1) / a * a; p + s <= hi; p += a)
			if (ref_free_run(m, p, s))
				return p;
		hi = m->hint + s - 1 < hi ? m->hint + s - 1 : hi;
	}
	for (uint64_t p = (from + a - 1) / a * a; p + s <= hi; p += a)
		if (ref_free_run(m, p, s))
			return p;
	return UINT64_MAX;
}

static void differential(bool next_fit, uint64_t seed)
{
	static struct ref m;
	memset(&m, 0, sizeof m);
	m.next_fit = next_fit;
	m.hint = BASE / G;
	iova_domain *d;
	iova_domain_config cfg = {.base = BASE, .size = PAGES * G, .strategy = "bitmap", .options = next_fit ? "fit=next" : NULL};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	static iova_allocation live[40000];
	static uint32_t live_id[40000];
	int n = 0;
	uint32_t next_id = 1;
	static iova_allocation dead[64];
	int n_dead = 0;
	for (int step = 0; step < 30000; step++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		uint64_t r6 = seed % 100;
		if (r6 < 3 && n_dead) { /* a stale handle: same answer as the reference */
			iova_allocation x = dead[seed / 100 % (uint64_t)n_dead];
			uint64_t g = x.iova / G, s = x.size / G;
			uint32_t o = m.owner[g - BASE / G];
			iova_status want = !o ? IOVA_ERR_DOUBLE_FREE
					   : (g == BASE / G || m.owner[g - BASE / G - 1] != o) && m.size_of[o] == s
						   ? IOVA_OK /* same address and size: indistinguishable, skip */
						   : IOVA_ERR_UNKNOWN_HANDLE;
			if (want != IOVA_OK)
				CHECK_STATUS(iova_free(d, x.handle), want);
			continue;
		}
		if (n && (r6 < 48 || n == 40000)) {
			int i = (int)(seed / 100 % (uint64_t)n);
			uint64_t g = live[i].iova / G, s = live[i].size / G;
			CHECK_STATUS(iova_free(d, live[i].handle), IOVA_OK);
			for (uint64_t j = g; j < g + s; j++)
				m.owner[j - BASE / G] = 0;
			if (n_dead < 64)
				dead[n_dead++] = live[i];
			else
				dead[seed % 64] = live[i];
			live[i] = live[--n];
			live_id[i] = live_id[n];
			continue;
		}
		iova_request r = {.size = (1 + seed / 128 % 24) * G, .placement = (iova_placement)(seed / 4096 % 2)};
		if (seed / 8192 % 3 == 0) {
			r.lowest = BASE + seed / 65536 % PAGES * G;
			r.highest = r.lowest + (1 + seed / 99 % 400) * G - 1;
		}
		if (seed / 777 % 4 == 0)
			r.alignment = G << (seed / 7777 % 9);
		iova_allocation a;
		iova_status st = iova_alloc(d, &r, &a);
		if (st != IOVA_OK && st != IOVA_ERR_NO_SPACE)
			continue; /* invalid requests are the domain's business */
		/* The reference, from the normalised request. */
		uint64_t s = r.size / G, order = 0;
		while ((UINT64_C(1) << order) < s)
			order++;
		uint64_t a_g = (r.alignment / G > (UINT64_C(1) << order)) ? r.alignment / G : UINT64_C(1) << order;
		uint64_t lo = (r.lowest + G - 1) / G, hi = r.highest ? (r.highest + 1) / G : (BASE / G + PAGES);
		if (lo < BASE / G)
			lo = BASE / G;
		if (hi > BASE / G + PAGES)
			hi = BASE / G + PAGES;
		uint64_t p = ref_pick(&m, lo, hi, s, a_g, r.placement == IOVA_PLACE_TOP_DOWN);
		if (p == UINT64_MAX) {
			CHECK_MSG(st == IOVA_ERR_NO_SPACE, "step %d: bitmap found 0x%llx, the reference nothing", step,
				  (unsigned long long)a.iova);
			continue;
		}
		CHECK_MSG(st == IOVA_OK && a.iova == p * G, "step %d: bitmap %s 0x%llx, reference 0x%llx", step,
			  iova_status_name(st), (unsigned long long)a.iova, (unsigned long long)(p * G));
		if (st != IOVA_OK)
			continue;
		uint32_t id = next_id++;
		m.size_of[id] = s;
		for (uint64_t j = p; j < p + s; j++)
			m.owner[j - BASE / G] = id;
		m.hint = p + s;
		live[n] = a;
		live_id[n++] = id;
	}
	while (n)
		CHECK_STATUS(iova_free(d, live[--n].handle), IOVA_OK);
	iova_stats st;
	iova_domain_stats(d, &st);
	CHECK_EQ(st.free_bytes, PAGES * G);
	CHECK_EQ(st.free_extents, 1);
	iova_domain_destroy(d);
}

int main(void)
{
	differential(false, 0xB17);
	differential(true, 0xF17);
	return check_exit_code();
}
