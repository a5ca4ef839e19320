/* Each invalidation policy's release rule: when an unmapped range's IOVA
 * goes back to the strategy, what was invalidated, what the window was. */
#include "check.h"
#include "iommu/iommu.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#define PAGE 4096u

static iova_domain *make(iova_iommu_config *ic)
{
	iova_domain_config cfg = {.size = UINT64_C(1) << 34, .iommu = ic};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	return d;
}

static uint64_t held_bytes(const iova_domain *d)
{
	iova_stats s;
	CHECK_STATUS(iova_domain_stats(d, &s), IOVA_OK);
	return s.allocated_bytes;
}

static iova_iommu_statistics stats(const iova_domain *d)
{
	iova_iommu_statistics s;
	CHECK_STATUS(iova_iommu_stats(d, &s), IOVA_OK);
	return s;
}

static iova_allocation map_pages(iova_domain *d, uint64_t pages)
{
	iova_request r = {.size = pages * PAGE};
	iova_allocation a;
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
	return a;
}

static iova_status fill(iova_domain *d, uint64_t iova, uint64_t bytes, iova_dma_result *res)
{
	iova_dma_request q = {.op = IOVA_DMA_FILL, .dst = iova, .bytes = bytes};
	return iova_device_dma(d, &q, res);
}

static void test_strict(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_STRICT};
	iova_domain *d = make(&ic);
	iova_allocation a = map_pages(d, 4);
	CHECK_STATUS(fill(d, a.iova, 4 * PAGE, NULL), IOVA_OK);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	CHECK_EQ(held_bytes(d), 0); /* released at once */
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.inv_page, 1);
	CHECK_EQ(s.inv_domain, 0);
	CHECK_EQ(s.window_count, 1);
	CHECK_EQ(s.window_max, 2100); /* submit + wait, nothing queued ahead */
	CHECK_EQ(s.window_p50, 2100);
	/* Cost model, modelled clock: 4 leaves + 3 new table entries written,
	 * 4 cleared, 20 cycles each; one invalidation of 2,100. */
	CHECK_EQ(s.pte_written, 7);
	CHECK_EQ(s.pte_cleared, 4);
	CHECK_EQ(s.clock_max, 11 * 20 + 2100);
	CHECK_EQ(s.cycles_invalidate, 2100);
	/* Nothing stale to reach: the device is blocked. */
	iova_dma_result res;
	CHECK_STATUS(fill(d, a.iova, PAGE, &res), IOVA_ERR_DEVICE_FAULT);
	CHECK_EQ(res.stale_hits, 0);
	CHECK_EQ(res.fault_iova, a.iova);
	iova_domain_destroy(d);

	/* Other costs: the window follows them. */
	ic = (iova_iommu_config){.policy = IOVA_INVAL_STRICT, .costs = {.inv_submit = 100, .inv_wait = 900,
									  .pte_write = IOVA_IOMMU_ZERO}};
	d = make(&ic);
	a = map_pages(d, 1);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	s = stats(d);
	CHECK_EQ(s.window_max, 1000);
	CHECK_EQ(s.clock_max, 1000);
	CHECK_EQ(s.config.costs.pte_write, IOVA_IOMMU_ZERO);
	iova_domain_destroy(d);
}

static void test_percpu_full_ring(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_PERCPU_QUEUE, .fq_entries = 4};
	iova_domain *d = make(&ic);
	for (int i = 0; i < 4; i++) {
		iova_allocation a = map_pages(d, 1);
		CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	}
	CHECK_EQ(held_bytes(d), 4 * PAGE); /* all four wait for a flush */
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.ranges_queued, 4);
	CHECK_EQ(s.ranges_pending, 4);
	CHECK_EQ(s.flushes, 0);
	CHECK_EQ(s.inv_page, 0);
	iova_allocation a = map_pages(d, 1);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK); /* the ring is full: one flush */
	s = stats(d);
	CHECK_EQ(s.flushes, 1);
	CHECK_EQ(s.flushes_full, 1);
	CHECK_EQ(s.inv_domain, 1);
	CHECK_EQ(s.ranges_released, 4);
	CHECK_EQ(s.ranges_pending, 1);
	CHECK_EQ(s.window_count, 4);
	CHECK_EQ(held_bytes(d), PAGE);
	CHECK_EQ(s.oracle_violations, 0);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	CHECK_EQ(held_bytes(d), 0);
	iova_domain_destroy(d);
}

/* The two-counter rule: a flush that started before the unmap finished
 * does not release it, even if it finishes afterwards. */
static void test_two_counters(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_PERCPU_QUEUE};
	iova_domain *d = make(&ic);
	struct iommu *m = d->iommu;
	iova_allocation a = map_pages(d, 2);
	atomic_fetch_add(&m->fq_start, 1); /* a straggler flush starts ... */
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	atomic_fetch_add(&m->fq_finish, 1); /* ... and finishes after the unmap */
	const unsigned slot = iova_thread_slot();
	fq_drain_all(m, cpu_of(m, slot), slot);
	CHECK_EQ(held_bytes(d), 2 * PAGE);
	CHECK_EQ(stats(d).ranges_pending, 1);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK); /* starts after: releases */
	CHECK_EQ(held_bytes(d), 0);
	CHECK_EQ(stats(d).ranges_pending, 0);
	iova_domain_destroy(d);
}

static void test_timeouts(iova_inval_policy policy, uint64_t timeout_cycles)
{
	iova_iommu_config ic = {.policy = policy};
	iova_domain *d = make(&ic);
	iova_allocation a = map_pages(d, 1);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	const uint64_t t = iova_iommu_now(d);
	iova_iommu_charge(d, timeout_cycles - 1000);
	CHECK_EQ(held_bytes(d), PAGE);
	CHECK_EQ(stats(d).flushes, 0);
	iova_iommu_charge(d, 2000); /* past the deadline: the timer fires */
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.flushes_timeout, 1);
	CHECK_EQ(held_bytes(d), 0);
	CHECK_EQ(s.window_count, 1);
	CHECK_MSG(s.window_max >= timeout_cycles && s.window_max <= timeout_cycles + 10000,
		  "window %" PRIu64 " vs timeout %" PRIu64, s.window_max, timeout_cycles);
	CHECK(iova_iommu_now(d) >= t + timeout_cycles + 1000 + 2100);
	iova_domain_destroy(d);
}

static void test_spin_timeout(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_PERCPU_QUEUE, .clock = IOVA_CLOCK_SPIN, .fq_timeout_us = 2000};
	iova_domain *d = make(&ic);
	iova_allocation a = map_pages(d, 1);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	CHECK_EQ(held_bytes(d), PAGE);
	struct timespec ts = {0, 5 * 1000 * 1000}; /* real time passes the 2 ms deadline */
	while (nanosleep(&ts, &ts))
		;
	iova_iommu_charge(d, 0);
	CHECK_EQ(held_bytes(d), 0);
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.flushes_timeout, 1);
	CHECK(s.window_max >= 2000 * 2000); /* at least the timeout, in cycles */
	CHECK(s.clock_sum >= 2100);          /* spin mode: cycles actually spent */
	iova_domain_destroy(d);
}

/* Work done on threads that stay alive until finish_threads(), so that each
 * keeps its own thread slot ("CPU"): a slot is reused once its thread exits. */
struct worker {
	iova_domain *d;
	int ops;
	int timer_cycles; /* > 0: instead, just advance this CPU's clock */
	_Atomic int done;
};

static _Atomic int threads_may_exit;
static pthread_t threads[4];
static struct worker workers[4];
static int nthreads;

static void *work(void *p)
{
	struct worker *w = p;
	if (w->timer_cycles) {
		iova_iommu_charge(w->d, (uint64_t)w->timer_cycles);
	} else {
		for (int i = 0; i < w->ops; i++) {
			iova_allocation a = map_pages(w->d, 1);
			CHECK_STATUS(iova_unmap_free(w->d, a.handle), IOVA_OK);
		}
	}
	atomic_store(&w->done, 1);
	while (!atomic_load(&threads_may_exit))
		sched_yield();
	return NULL;
}

static void run_on_thread(iova_domain *d, int ops, int timer_cycles)
{
	struct worker *w = &workers[nthreads];
	w->d = d;
	w->ops = ops;
	w->timer_cycles = timer_cycles;
	atomic_store(&w->done, 0);
	pthread_create(&threads[nthreads++], NULL, work, w);
	while (!atomic_load(&w->done))
		sched_yield();
}

static void finish_threads(void)
{
	atomic_store(&threads_may_exit, 1);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
	atomic_store(&threads_may_exit, 0);
}

/* One queue for everybody: B's full queue releases A's entries too. Per
 * CPU: B's flush covers A's entries, but they stay in A's queue until
 * drained. */
static void test_queue_sharing(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_GLOBAL_QUEUE, .fq_entries = 4};
	iova_domain *d = make(&ic);
	run_on_thread(d, 2, 0);
	run_on_thread(d, 3, 0);
	finish_threads();
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.flushes_full, 1);
	CHECK_EQ(s.ranges_released, 4);
	CHECK_EQ(held_bytes(d), PAGE);
	iova_domain_destroy(d);

	ic = (iova_iommu_config){.policy = IOVA_INVAL_PERCPU_QUEUE, .fq_entries = 4};
	d = make(&ic);
	run_on_thread(d, 4, 0);
	run_on_thread(d, 5, 0);
	s = stats(d);
	CHECK_EQ(s.flushes_full, 1);
	CHECK_EQ(s.ranges_released, 4);
	CHECK_EQ(held_bytes(d), 5 * PAGE);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK); /* drains every CPU's queue */
	CHECK_EQ(held_bytes(d), 0);
	finish_threads();
	iova_domain_destroy(d);

	/* The timer, fired by another CPU, drains every queue. */
	ic = (iova_iommu_config){.policy = IOVA_INVAL_PERCPU_QUEUE};
	d = make(&ic);
	run_on_thread(d, 1, 0);
	CHECK_EQ(held_bytes(d), PAGE);
	run_on_thread(d, 0, 25 * 1000 * 1000); /* 12.5 ms of another CPU */
	CHECK_EQ(stats(d).flushes_timeout, 1);
	CHECK_EQ(held_bytes(d), 0);
	finish_threads();
	iova_domain_destroy(d);
}

static void test_none(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_NONE};
	iova_domain *d = make(&ic);
	iova_allocation a = map_pages(d, 3);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	CHECK_EQ(held_bytes(d), 0);
	iova_dma_result res;
	CHECK_STATUS(fill(d, a.iova, PAGE, &res), IOVA_OK); /* no protection at all */
	CHECK_EQ(res.accesses, 1);
	CHECK_EQ(res.iotlb_hits + res.iotlb_misses, 0);
	uint64_t phys;
	CHECK_STATUS(iova_translate(d, a.iova, &phys), IOVA_ERR_NO_IOMMU);
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.inv_page + s.inv_domain, 0);
	CHECK_EQ(s.window_count, 0);
	CHECK_EQ(s.clock_max, 0);
	CHECK_EQ(s.maps, 1);
	CHECK_EQ(s.unmaps, 1);
	iova_domain_destroy(d);
}

static void test_stale_access(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_PERCPU_QUEUE};
	iova_domain *d = make(&ic);
	iova_allocation a = map_pages(d, 2);
	iova_dma_result res;
	CHECK_STATUS(fill(d, a.iova, 2 * PAGE, &res), IOVA_OK);
	CHECK_EQ(res.iotlb_misses, 2);
	CHECK_EQ(res.stale_hits, 0);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	/* Within the window the device still reaches the old frames. */
	CHECK_STATUS(fill(d, a.iova, 2 * PAGE, &res), IOVA_OK);
	CHECK_EQ(res.iotlb_hits, 2);
	CHECK_EQ(res.stale_hits, 2);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	CHECK_STATUS(fill(d, a.iova, 2 * PAGE, &res), IOVA_ERR_DEVICE_FAULT);
	CHECK_EQ(stats(d).stale_hits, 2);
	CHECK_EQ(stats(d).dma_faults, 1);
	iova_domain_destroy(d);
}

static void test_separate_unmap_free(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_PERCPU_QUEUE};
	iova_domain *d = make(&ic);
	iova_allocation a = map_pages(d, 3);
	CHECK_STATUS(iova_unmap(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_unmap(d, a.handle), IOVA_ERR_NOT_MAPPED);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK); /* deferred behind the unmap */
	CHECK_STATUS(iova_free(d, a.handle), IOVA_ERR_DOUBLE_FREE);
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.iovas_deferred, 1);
	CHECK_EQ(s.ranges_pending, 2);
	CHECK_EQ(held_bytes(d), 3 * PAGE);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	CHECK_EQ(held_bytes(d), 0);
	CHECK_EQ(stats(d).ranges_released, 2);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_ERR_DOUBLE_FREE); /* now the strategy says so */

	/* Never mapped: nothing to invalidate, released at once. */
	iova_request r = {.size = PAGE};
	CHECK_STATUS(iova_alloc(d, &r, &a), IOVA_OK);
	CHECK_STATUS(iova_free(d, a.handle), IOVA_OK);
	CHECK_EQ(held_bytes(d), 0);
	CHECK_EQ(stats(d).iovas_deferred, 1);
	iova_domain_destroy(d);
}

static void test_remap_before_flush(void)
{
	iova_iommu_config ic = {.policy = IOVA_INVAL_PERCPU_QUEUE};
	iova_domain *d = make(&ic);
	iova_allocation a = map_pages(d, 2);
	CHECK_STATUS(fill(d, a.iova, 2 * PAGE, NULL), IOVA_OK);
	uint64_t before, after;
	CHECK_STATUS(iova_translate(d, a.iova, &before), IOVA_OK);
	CHECK_STATUS(iova_unmap(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_map(d, a.handle), IOVA_OK); /* the old translation is still cached */
	CHECK_STATUS(iova_translate(d, a.iova, &after), IOVA_OK);
	CHECK(before != after); /* new frames */
	iova_iommu_statistics s = stats(d);
	CHECK_EQ(s.flushes_forced, 1);
	iova_dma_result res;
	CHECK_STATUS(fill(d, a.iova, 2 * PAGE, &res), IOVA_OK);
	CHECK_EQ(res.stale_hits, 0);
	CHECK_EQ(res.iotlb_misses, 2);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
	CHECK_EQ(held_bytes(d), 0);
	CHECK_EQ(stats(d).oracle_violations, 0);
	iova_domain_destroy(d);
}

/* A table page emptied by an unmap is freed only after the invalidation. */
static void test_table_page_freeing(iova_inval_policy policy)
{
	iova_iommu_config ic = {.policy = policy, .flags = IOVA_IOMMU_NO_L2_LEAVES | IOVA_IOMMU_NO_L3_LEAVES};
	iova_domain *d = make(&ic);
	iova_request r = {.size = 2u << 20, .alignment = 2u << 20};
	iova_allocation a;
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
	CHECK_EQ(stats(d).table_pages_allocated, 3);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	iova_iommu_statistics s = stats(d);
	if (policy == IOVA_INVAL_STRICT) {
		CHECK_EQ(s.table_pages_freed, 1);
		CHECK_EQ(s.table_pages_pending, 0);
	} else {
		CHECK_EQ(s.table_pages_freed, 0);
		CHECK_EQ(s.table_pages_pending, 1);
		CHECK_STATUS(iova_iommu_flush(d), IOVA_OK);
		s = stats(d);
		CHECK_EQ(s.table_pages_freed, 1);
		CHECK_EQ(s.table_pages_pending, 0);
	}
	/* Mapping the span again takes a table page from the pool. */
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
	CHECK_EQ(stats(d).table_pages_allocated, 4);
	CHECK_STATUS(iova_unmap_free(d, a.handle), IOVA_OK);
	iova_domain_destroy(d);

	/* With large leaves: no table page at all below the 2 MiB leaf. */
	ic.flags = 0;
	d = make(&ic);
	CHECK_STATUS(iova_alloc_map(d, &r, &a), IOVA_OK);
	s = stats(d);
	CHECK_EQ(s.large_leaves, 1);
	CHECK_EQ(s.table_pages_allocated, 2);
	iova_dma_result res;
	CHECK_STATUS(fill(d, a.iova, r.size, &res), IOVA_OK);
	CHECK_EQ(res.iotlb_misses, 1); /* one entry serves the 512 pages */
	CHECK_EQ(res.iotlb_hits, 511);
	iova_domain_destroy(d);
}

/* Modelled mode with one thread is reproducible: the same work gives the
 * same clocks, windows and IOTLB behaviour, to the cycle. */
static iova_iommu_statistics deterministic_run(iova_inval_policy policy)
{
	iova_iommu_config ic = {.policy = policy, .fq_entries = 32, .iotlb_replacement = IOVA_IOTLB_RANDOM};
	iova_domain *d = make(&ic);
	uint64_t rng = 42;
	iova_allocation fifo[4] = {0};
	for (int i = 0; i < 3000; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		const uint64_t pages = 1 + (rng >> 33) % 16;
		if (i >= 4)
			CHECK_STATUS(iova_unmap_free(d, fifo[i % 4].handle), IOVA_OK);
		fifo[i % 4] = map_pages(d, pages);
		CHECK_STATUS(fill(d, fifo[i % 4].iova, pages * PAGE, NULL), IOVA_OK);
		if (i % 7 == 0)
			(void)fill(d, fifo[(i + 1) % 4].iova + PAGE * 40, PAGE, NULL); /* stray: may fault */
	}
	iova_iommu_statistics s = stats(d);
	iova_domain_destroy(d);
	return s;
}

static void test_deterministic(void)
{
	for (int p = IOVA_INVAL_STRICT; p <= IOVA_INVAL_GLOBAL_QUEUE; p++) {
		iova_iommu_statistics a = deterministic_run((iova_inval_policy)p);
		iova_iommu_statistics b = deterministic_run((iova_inval_policy)p);
		CHECK(a.clock_max > 0);
		CHECK_EQ(a.clock_max, b.clock_max);
		CHECK_EQ(a.window_count, b.window_count);
		CHECK_EQ(a.window_p50, b.window_p50);
		CHECK_EQ(a.window_max, b.window_max);
		CHECK_EQ(a.iotlb_hits, b.iotlb_hits);
		CHECK_EQ(a.iotlb_evictions, b.iotlb_evictions);
		CHECK_EQ(a.dma_faults, b.dma_faults);
		CHECK_EQ(a.flushes, b.flushes);
		CHECK_EQ(a.device_cycles, b.device_cycles);
	}
}

int main(void)
{
	test_deterministic();
	test_strict();
	test_percpu_full_ring();
	test_two_counters();
	test_timeouts(IOVA_INVAL_PERCPU_QUEUE, 10000 * 2000);
	test_timeouts(IOVA_INVAL_GLOBAL_QUEUE, UINT64_C(1000000) * 2000);
	test_spin_timeout();
	test_queue_sharing();
	test_none();
	test_stale_access();
	test_separate_unmap_free();
	test_remap_before_flush();
	test_table_page_freeing(IOVA_INVAL_STRICT);
	test_table_page_freeing(IOVA_INVAL_PERCPU_QUEUE);
	test_table_page_freeing(IOVA_INVAL_GLOBAL_QUEUE);
	return check_exit_code();
}
