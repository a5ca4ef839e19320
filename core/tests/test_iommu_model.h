/*
 * test_iommu_model.h - an obviously correct model of what the IOMMU API
 * promises for one caller's allocations, and a random driver that runs the
 * real domain and the model side by side (used by the differential and the
 * stress tests; each thread drives its own model).
 *
 * Per slot the model knows: nothing, allocated (not mapped), mapped. From
 * that alone it predicts every status the API returns, and that a device
 * operation on a mapped allocation succeeds without any stale translation.
 */
#ifndef TEST_IOMMU_MODEL_H
#define TEST_IOMMU_MODEL_H

#include "check.h"
#include "iova.h"

#include <string.h>

#define MODEL_SLOTS 8
#define MODEL_PAGE 4096u

enum model_state { M_EMPTY, M_ALLOCATED, M_MAPPED };

struct model {
	iova_domain *d;
	uint64_t rng;
	bool large; /* sometimes ask for 2 MiB-aligned blocks of 2 MiB and more */
	struct {
		enum model_state state;
		iova_allocation a;
		uint64_t bytes;
	} slot[MODEL_SLOTS];
	uint64_t recent[4]; /* IOVAs of the last ranges freed, for rogue accesses */
	uint64_t ops, rogue_accesses;
};

static inline uint64_t model_rand(struct model *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

static inline iova_status model_dma(struct model *m, uint64_t iova, uint64_t bytes, iova_dma_result *res)
{
	iova_dma_request q = {.op = model_rand(m) & 1 ? IOVA_DMA_FILL : IOVA_DMA_TRANSFER,
			      .src = iova, .dst = iova, .bytes = bytes};
	return iova_device_dma(m->d, &q, res);
}

static inline void model_forget(struct model *m, int i)
{
	memmove(&m->recent[1], &m->recent[0], sizeof m->recent - sizeof m->recent[0]);
	m->recent[0] = m->slot[i].a.iova;
	m->slot[i].state = M_EMPTY;
}

/* One random operation on the domain, checked against the model. */
static inline void model_step(struct model *m)
{
	const int i = (int)(model_rand(m) % MODEL_SLOTS);
	const unsigned op = (unsigned)(model_rand(m) % 100);
	iova_domain *d = m->d;
	m->ops++;
	switch (m->slot[i].state) {
	case M_EMPTY: {
		uint64_t pages = 1 + model_rand(m) % 16;
		iova_request r = {.size = pages * MODEL_PAGE - model_rand(m) % 64};
		if (m->large && op % 16 == 0) {
			r.size = (2u << 20) * (1 + model_rand(m) % 2) + MODEL_PAGE * (model_rand(m) % 3);
			r.alignment = 2u << 20;
		}
		iova_status st = op < 70 ? iova_alloc_map(d, &r, &m->slot[i].a) : iova_alloc(d, &r, &m->slot[i].a);
		CHECK_STATUS(st, IOVA_OK);
		if (st == IOVA_OK) {
			m->slot[i].state = op < 70 ? M_MAPPED : M_ALLOCATED;
			m->slot[i].bytes = r.size;
		}
		break;
	}
	case M_ALLOCATED:
		if (op < 10) {
			CHECK_STATUS(iova_unmap(d, m->slot[i].a.handle), IOVA_ERR_NOT_MAPPED);
			CHECK_STATUS(iova_unmap_free(d, m->slot[i].a.handle), IOVA_ERR_NOT_MAPPED);
		} else if (op < 60) {
			CHECK_STATUS(iova_map(d, m->slot[i].a.handle), IOVA_OK);
			m->slot[i].state = M_MAPPED;
		} else {
			CHECK_STATUS(iova_free(d, m->slot[i].a.handle), IOVA_OK);
			model_forget(m, i);
		}
		break;
	case M_MAPPED:
		if (op < 40) {
			iova_dma_result res;
			uint64_t off = model_rand(m) % m->slot[i].bytes;
			CHECK_STATUS(model_dma(m, m->slot[i].a.iova + off, m->slot[i].bytes - off, &res), IOVA_OK);
			CHECK_EQ(res.stale_hits, 0); /* a live mapping is never served a stale translation */
			CHECK_EQ(res.faults, 0);
		} else if (op < 45) {
			CHECK_STATUS(iova_map(d, m->slot[i].a.handle), IOVA_ERR_ALREADY_MAPPED);
			CHECK_STATUS(iova_free(d, m->slot[i].a.handle), IOVA_ERR_STILL_MAPPED);
		} else if (op < 70) {
			CHECK_STATUS(iova_unmap(d, m->slot[i].a.handle), IOVA_OK);
			m->slot[i].state = M_ALLOCATED;
		} else {
			CHECK_STATUS(iova_unmap_free(d, m->slot[i].a.handle), IOVA_OK);
			model_forget(m, i);
		}
		break;
	}
	/* A rogue device retrying a recently freed address: it may be served
	 * by a stale translation or blocked, but must not break anything. */
	if (op % 10 == 0 && m->recent[op / 10 % 4]) {
		iova_dma_result res;
		(void)model_dma(m, m->recent[op / 10 % 4], MODEL_PAGE, &res);
		m->rogue_accesses++;
	}
}

/* Check what the domain says about our live allocations. */
static inline void model_check(struct model *m)
{
	for (int i = 0; i < MODEL_SLOTS; i++) {
		if (m->slot[i].state == M_EMPTY)
			continue;
		uint64_t phys, phys_last;
		iova_status st = iova_translate(m->d, m->slot[i].a.iova, &phys);
		const iova_iommu_config *c = iova_domain_get_config(m->d).iommu;
		if (c->policy == IOVA_INVAL_NONE) {
			CHECK_STATUS(st, IOVA_ERR_NO_IOMMU);
		} else if (m->slot[i].state == M_MAPPED) {
			CHECK_STATUS(st, IOVA_OK);
			const uint64_t last = m->slot[i].a.size - MODEL_PAGE;
			CHECK_STATUS(iova_translate(m->d, m->slot[i].a.iova + last, &phys_last), IOVA_OK);
			CHECK_EQ(phys_last, phys + last); /* contiguous frames */
		} else {
			CHECK_STATUS(st, IOVA_ERR_NOT_MAPPED);
		}
		for (int j = 0; j < i; j++) /* our allocations never overlap */
			if (m->slot[j].state != M_EMPTY)
				CHECK(m->slot[i].a.iova + m->slot[i].a.size <= m->slot[j].a.iova ||
				      m->slot[j].a.iova + m->slot[j].a.size <= m->slot[i].a.iova);
	}
}

/* Give everything back. */
static inline void model_drain(struct model *m)
{
	for (int i = 0; i < MODEL_SLOTS; i++) {
		if (m->slot[i].state == M_MAPPED)
			CHECK_STATUS(iova_unmap_free(m->d, m->slot[i].a.handle), IOVA_OK);
		else if (m->slot[i].state == M_ALLOCATED)
			CHECK_STATUS(iova_free(m->d, m->slot[i].a.handle), IOVA_OK);
		m->slot[i].state = M_EMPTY;
	}
}

static inline unsigned model_live(const struct model *m)
{
	unsigned n = 0;
	for (int i = 0; i < MODEL_SLOTS; i++)
		n += m->slot[i].state != M_EMPTY;
	return n;
}

/* After everything was given back and flushed: the end state every policy
 * must reach. */
static inline void check_quiescent(iova_domain *d, const char *what)
{
	iova_iommu_statistics s;
	CHECK_STATUS(iova_iommu_stats(d, &s), IOVA_OK);
	iova_stats ds;
	CHECK_STATUS(iova_domain_stats(d, &ds), IOVA_OK);
	CHECK_MSG(s.oracle_violations == 0, "%s: %" PRIu64 " oracle violations (first at 0x%" PRIx64 ")", what,
		  s.oracle_violations, s.oracle_first_violation);
	CHECK_MSG(s.oracle_overlaps == 0, "%s: %" PRIu64 " overlaps", what, s.oracle_overlaps);
	CHECK_MSG(s.release_errors == 0, "%s: %" PRIu64 " release errors", what, s.release_errors);
	CHECK_MSG(s.ranges_pending == 0, "%s: %" PRIu64 " ranges still queued", what, s.ranges_pending);
	CHECK_MSG(s.ranges_queued == s.ranges_released, "%s: queued %" PRIu64 " released %" PRIu64, what,
		  s.ranges_queued, s.ranges_released);
	CHECK_MSG(s.table_pages_pending == 0, "%s: %" PRIu64 " table pages pending", what, s.table_pages_pending);
	CHECK_MSG(s.maps == s.unmaps, "%s: maps %" PRIu64 " unmaps %" PRIu64, what, s.maps, s.unmaps);
	CHECK_MSG(ds.free_bytes == ds.total_bytes, "%s: %" PRIu64 " bytes still held", what,
		  ds.total_bytes - ds.free_bytes);
	CHECK_EQ(ds.live_allocations, 0);
}

#endif
