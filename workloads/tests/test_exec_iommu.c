/* The core executor's IOMMU binding: which core call each operation kind
 * makes (counted by the IOMMU's own statistics), that device operations use
 * the buffers' IOVAs and offsets, the free of an evicted buffer, the
 * loop_end hook, and a two-worker replay with remote frees under a queued
 * policy (label concurrent: also under TSan). */
#include <string.h>

#include "check.h"
#include "wl_gen.h"
#include "wl_replay.h"

static iova_domain *make_domain(iova_inval_policy policy, bool with_iommu)
{
	iova_iommu_config mmu = {.policy = policy, .clock = IOVA_CLOCK_MODELLED};
	iova_domain_config cfg = {.base = 0, .size = 64ull << 20, .iommu = with_iommu ? &mmu : NULL};
	iova_domain *d = NULL;
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	return d;
}

static wl_compiled *compile_text(const char *text, unsigned workers)
{
	wl_trace *t = NULL;
	wl_compiled *c = NULL;
	wl_error err;
	CHECK_MSG(wl_trace_parse(text, strlen(text), "t", &t, &err), "%s", err.message);
	if (t)
		CHECK_MSG(wl_compile(t, &(wl_compile_options){.workers = workers}, &c, &err), "%s", err.message);
	wl_trace_free(t);
	return c;
}

/* Every kind, once or more, in a strict IOMMU domain: all succeed, and the
 * IOMMU counts exactly the maps, unmaps and device operations they imply. */
static void every_kind_binds(void)
{
	iova_domain *d = make_domain(IOVA_INVAL_STRICT, true);
	wl_iova_executor x;
	wl_iova_executor_init(&x, d, IOVA_PLACE_BOTTOM_UP);
	CHECK(x.iommu);
	wl_compiled *c = compile_text("iovatrace 1\n"
				      "0 0 alloc fb 1M align=64K cache=wc\n" /* map 1 */
				      "1 0 fill fb 4K 64K\n"                 /* dma 1 */
				      "2 1 map up 256K segments=4\n"         /* map 2 */
				      "3 1 transfer up 0 fb 512K 256K\n"     /* dma 2 */
				      "4 0 evict fb\n"                       /* unmap 1 */
				      "5 0 resident fb\n"                    /* map 3 */
				      "6 0 flush fb\n"
				      "7 0 flush\n"
				      "8 0 evict fb\n"                       /* unmap 2 */
				      "9 0 free fb\n"                        /* evicted: iova_free */
				      "10 1 unmap up\n",                     /* unmap 3 */
				      1);
	wl_replay_result *r = NULL;
	wl_error err;
	CHECK_MSG(c && wl_replay(c, &x.ex, NULL, &r, &err), "%s", err.message);
	if (r) {
		CHECK_MSG(r->failed == 0, "%llu failures", (unsigned long long)r->failed);
		for (unsigned k = WL_OP_ALLOC; k <= WL_OP_MAKE_RESIDENT; k++)
			CHECK_MSG(r->status[k][IOVA_OK] == r->count[k] && r->count[k] > 0, "%s: %llu of %llu ok",
				  wl_op_kind_name((wl_op_kind)k), (unsigned long long)r->status[k][IOVA_OK],
				  (unsigned long long)r->count[k]);
	}
	iova_iommu_statistics ms;
	CHECK_STATUS(iova_iommu_stats(d, &ms), IOVA_OK);
	CHECK_EQ(ms.maps, 3);
	CHECK_EQ(ms.unmaps, 3);
	CHECK_EQ(ms.dma_ops, 2);
	CHECK_EQ(ms.dma_faults, 0);
	CHECK_EQ(ms.map_errors + ms.unmap_errors, 0);
	CHECK_EQ(ms.oracle_violations, 0);
	CHECK(ms.dma_accesses >= 16 + 2 * 64); /* a 64K fill, a 256K transfer read and written */
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.live_allocations, 0);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	iova_domain_destroy(d);
}

/* Called directly: the handle carries the IOVA; device operations reach the
 * buffer at its offset, and fault once it is evicted (strict: no stale
 * translation survives the unmap). */
static void handle_carries_the_iova(void)
{
	iova_domain *d = make_domain(IOVA_INVAL_STRICT, true);
	wl_iova_executor x;
	wl_iova_executor_init(&x, d, IOVA_PLACE_BOTTOM_UP);
	wl_handle a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	CHECK_STATUS(x.ex.alloc(&x, &(wl_alloc_args){.size = 64 << 10, .lowest = 16 << 20}, &a), IOVA_OK);
	CHECK_STATUS(x.ex.map(&x, 32 << 10, 8, &b), IOVA_OK);
	CHECK(a.addr >= 16 << 20);
	CHECK(a.addr % 4096 == 0 && b.addr % 4096 == 0);
	CHECK(a.addr != b.addr);
	uint64_t phys;
	CHECK_STATUS(iova_translate(d, a.addr + (60 << 10), &phys), IOVA_OK);
	CHECK_STATUS(iova_translate(d, b.addr, &phys), IOVA_OK);
	CHECK_STATUS(x.ex.fill(&x, &a, 60 << 10, 4096, 0), IOVA_OK);
	CHECK_STATUS(x.ex.transfer(&x, &a, 0, &b, 16 << 10, 16 << 10), IOVA_OK);
	uint64_t a_addr = a.addr;
	CHECK_STATUS(x.ex.evict(&x, &a), IOVA_OK);
	CHECK_STATUS(iova_translate(d, a_addr, &phys), IOVA_ERR_NOT_MAPPED);
	CHECK_STATUS(x.ex.fill(&x, &a, 0, 4096, 0), IOVA_ERR_DEVICE_FAULT);
	CHECK_STATUS(x.ex.transfer(&x, &b, 0, &a, 0, 4096), IOVA_ERR_DEVICE_FAULT);
	CHECK_STATUS(x.ex.evict(&x, &a), IOVA_ERR_NOT_MAPPED);
	CHECK_STATUS(x.ex.make_resident(&x, &a), IOVA_OK);
	CHECK_EQ(a.addr, a_addr);
	CHECK_STATUS(x.ex.fill(&x, &a, 0, 4096, 0), IOVA_OK);
	CHECK_STATUS(x.ex.free(&x, &a), IOVA_OK);      /* mapped: unmap_free */
	CHECK(x.ex.free(&x, &a) != IOVA_OK); /* the core refuses it (its unmap finds nothing) */
	CHECK_STATUS(x.ex.evict(&x, &b), IOVA_OK);
	CHECK_STATUS(x.ex.unmap(&x, &b), IOVA_OK);     /* evicted: plain free */
	CHECK_STATUS(x.ex.flush(&x, NULL), IOVA_OK);
	iova_iommu_statistics ms;
	CHECK_STATUS(iova_iommu_stats(d, &ms), IOVA_OK);
	CHECK_EQ(ms.unmap_errors, 2); /* the second evict and the second free, nothing else */
	CHECK_EQ(ms.dma_faults, 2);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.live_allocations, 0);
	iova_domain_destroy(d);
}

/* Without an IOMMU only alloc and free are bound. */
static void no_iommu_binds_allocation_only(void)
{
	iova_domain *d = make_domain(IOVA_INVAL_STRICT, false);
	wl_iova_executor x;
	wl_iova_executor_init(&x, d, IOVA_PLACE_TOP_DOWN);
	CHECK(!x.iommu);
	CHECK(x.ex.alloc && x.ex.free);
	CHECK(!x.ex.map && !x.ex.unmap && !x.ex.transfer && !x.ex.fill && !x.ex.flush && !x.ex.evict &&
	      !x.ex.make_resident);
	wl_handle h;
	CHECK_STATUS(x.ex.alloc(&x, &(wl_alloc_args){.size = 4096, .highest = (8 << 20) - 1}, &h), IOVA_OK);
	CHECK(h.addr < 8 << 20 && h.addr % 4096 == 0);
	CHECK_STATUS(x.ex.free(&x, &h), IOVA_OK);
	CHECK_STATUS(x.ex.free(&x, &h), IOVA_ERR_DOUBLE_FREE);
	iova_domain_destroy(d);
}

/* loop_end: once per loop, warm-up included, when the loop's operations are
 * done and before the harness releases what is left live. */
typedef struct hook_probe {
	iova_domain *d;
	unsigned calls, last_loop;
	uint64_t live_seen[8];
} hook_probe;

static hook_probe probe;

static void probe_loop_end(void *ctx, unsigned loop)
{
	(void)ctx;
	iova_stats st;
	iova_domain_stats(probe.d, &st);
	if (probe.calls < 8)
		probe.live_seen[probe.calls] = st.live_allocations;
	probe.calls++;
	probe.last_loop = loop;
}

static void loop_end_hook(void)
{
	iova_domain *d = make_domain(IOVA_INVAL_PERCPU_QUEUE, true);
	wl_iova_executor x;
	wl_iova_executor_init(&x, d, IOVA_PLACE_BOTTOM_UP);
	x.ex.loop_end = probe_loop_end;
	memset(&probe, 0, sizeof probe);
	probe.d = d;
	wl_compiled *c = compile_text("iovatrace 1\n"
				      "0 0 alloc a 8K\n"
				      "1 1 alloc b 8K\n"
				      "2 0 map m 4K\n"
				      "3 1 free b\n" /* left live: a and m */
				      "4 0 signal f\n"
				      "5 1 wait f\n",
				      2);
	wl_replay_result *r = NULL;
	wl_error err;
	CHECK_MSG(c && wl_replay(c, &x.ex, &(wl_replay_options){.loops = 3, .warmup_loops = 2}, &r, &err), "%s",
		  err.message);
	CHECK_EQ(probe.calls, 5);
	CHECK_EQ(probe.last_loop, 4);
	for (unsigned i = 0; i < 5; i++)
		CHECK_MSG(probe.live_seen[i] == 2, "loop %u: %llu live at loop_end, want 2", i,
			  (unsigned long long)probe.live_seen[i]);
	if (r)
		CHECK_EQ(r->failed, 0);
	iova_iommu_flush(d); /* releases what the per-CPU queues still hold */
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.live_allocations, 0);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	iova_domain_destroy(d);
}

/* Two workers, per-CPU queues, completions on the other CPU: every operation
 * succeeds, nothing is reused before its invalidation, nothing leaks. */
static void two_workers_queued(void)
{
	iova_domain *d = make_domain(IOVA_INVAL_PERCPU_QUEUE, true);
	wl_iova_executor x;
	wl_iova_executor_init(&x, d, IOVA_PLACE_BOTTOM_UP);
	wl_trace *t = NULL;
	wl_error err;
	CHECK_MSG(wl_generate("streaming-dma", "cpus=2 packets=3000 ring=64 remote=0.3", &t, &err), "%s", err.message);
	wl_compiled *c = NULL;
	CHECK_MSG(t && wl_compile(t, &(wl_compile_options){.workers = 2}, &c, &err), "%s", err.message);
	wl_replay_result *r = NULL;
	CHECK_MSG(c && wl_replay(c, &x.ex, &(wl_replay_options){.loops = 2}, &r, &err), "%s", err.message);
	if (r) {
		CHECK_EQ(r->failed, 0);
		CHECK_EQ(r->status[WL_OP_MAP][IOVA_OK], 2 * 2 * 3000);
		CHECK_EQ(r->status[WL_OP_UNMAP][IOVA_OK], 2 * 2 * 3000);
	}
	iova_iommu_statistics ms;
	CHECK_STATUS(iova_iommu_stats(d, &ms), IOVA_OK);
	CHECK_EQ(ms.oracle_violations, 0);
	CHECK_EQ(ms.oracle_overlaps, 0);
	CHECK_EQ(ms.release_errors, 0);
	CHECK(ms.ranges_queued > 0);
	iova_iommu_flush(d);
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.live_allocations, 0);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	wl_trace_free(t);
	iova_domain_destroy(d);
}

int main(void)
{
	every_kind_binds();
	handle_carries_the_iova();
	no_iommu_binds_allocation_only();
	loop_end_hook();
	two_workers_queued();
	return check_exit_code();
}
