/* Generators: every one round-trips through the text form, replays without
 * failure, is deterministic; the classic four follow their definitions;
 * size distributions stay in range. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "workloads.h"

static const struct {
	const char *name, *params;
} small[] = {
	{"gpu-frame", "frames=12 resident=10 transients=6 staging=3 evict_every=2"},
	{"gpu-frame", "frames=5 streams=2 seed=9"},
	{"streaming-dma", "cpus=3 packets=2000 ring=16 remote=0.3"},
	{"streaming-dma", "cpus=2 packets=500 op=alloc"},
	{"fragmenter", "count=512 requests=8 streams=2"},
	{"long-lived-churn", "long_lived=200 churn=5000 window=8"},
	{"ml-training", "layers=6 iterations=4 workspace=8M batch=1M weight_size=fixed:64K activation_size=uniform:64K:1M"},
	{"cached-alloc", "scale=0.0005"},
	{"threadtest", "scale=0.004 threads=3"},
	{"constant-occupancy", "scale=0.0001"},
	{"linux-scalability", "scale=0.005"},
};

static void count_kinds(const wl_trace *t, uint64_t *c)
{
	memset(c, 0, WL_OP_KIND_COUNT * sizeof *c);
	for (size_t i = 0; i < wl_trace_count(t); i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		c[op.kind]++;
	}
}

static void roundtrip_and_replay(void)
{
	iova_domain *d;
	iova_domain_config cfg = {.base = 0, .size = UINT64_C(1) << 40};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
		wl_trace *t = NULL, *u = NULL, *v = NULL;
		wl_error err;
		if (!wl_generate(small[i].name, small[i].params, &t, &err)) {
			check_failed(__FILE__, __LINE__, "%s %s: %s", small[i].name, small[i].params, err.message);
			continue;
		}
		CHECK_MSG(wl_trace_check(t, &err), "%s: %s", small[i].name, err.message);
		CHECK_MSG(wl_trace_count(t) > 100, "%s: only %zu operations", small[i].name, wl_trace_count(t));
		CHECK(strcmp(wl_trace_header(t, "generator"), small[i].name) == 0);
		/* same parameters, same trace */
		CHECK(wl_generate(small[i].name, small[i].params, &v, &err));
		CHECK_MSG(v && wl_trace_equal(t, v, NULL, 0), "%s is not deterministic", small[i].name);
		wl_trace_free(v);
		/* generate -> write -> parse -> identical operations */
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		CHECK(wl_trace_write(t, f, &err));
		fclose(f);
		CHECK_MSG(wl_trace_parse(buf, len, "mem", &u, &err), "%s: %s", small[i].name, err.message);
		char why[256] = "";
		CHECK_MSG(u && wl_trace_equal(t, u, why, sizeof why), "%s round trip: %s", small[i].name, why);
		free(buf);
		/* replays cleanly on the null executor with 2 workers, and on the
		 * core where everything but the IOMMU operations succeeds */
		wl_compiled *c;
		CHECK_MSG(wl_compile(u ? u : t, &(wl_compile_options){.workers = 2}, &c, &err), "%s", err.message);
		wl_replay_result *r;
		CHECK(wl_replay(c, wl_executor_null(), NULL, &r, &err));
		CHECK_MSG(r->failed == 0, "%s: %llu failures on the null executor", small[i].name,
			  (unsigned long long)r->failed);
		CHECK_EQ(r->ops, wl_trace_count(t));
		wl_replay_result_free(r);
		wl_iova_executor x;
		wl_iova_executor_init(&x, d, IOVA_PLACE_BOTTOM_UP);
		CHECK(wl_replay(c, &x.ex, NULL, &r, &err));
		uint64_t k[WL_OP_KIND_COUNT];
		count_kinds(t, k);
		bool is_frag = strcmp(small[i].name, "fragmenter") == 0;
		CHECK_MSG(r->status[WL_OP_ALLOC][IOVA_OK] == k[WL_OP_ALLOC], "%s: %llu of %llu allocs succeeded", small[i].name,
			  (unsigned long long)r->status[WL_OP_ALLOC][IOVA_OK], (unsigned long long)k[WL_OP_ALLOC]);
		CHECK_EQ(r->failures[WL_OP_MAP][WL_FAIL_UNSUPPORTED], k[WL_OP_MAP]);
		CHECK_EQ(r->failures[WL_OP_ALLOC][WL_FAIL_NO_SPACE], 0);
		(void)is_frag;
		wl_replay_result_free(r);
		iova_stats st;
		iova_domain_stats(d, &st);
		CHECK_EQ(st.live_allocations, 0);
		wl_compiled_free(c);
		wl_trace_free(u);
		wl_trace_free(t);
	}
	iova_domain_destroy(d);
}

static void seeds_differ(void)
{
	wl_trace *a, *b;
	wl_error err;
	CHECK(wl_generate("long-lived-churn", "long_lived=50 churn=100 seed=1", &a, &err));
	CHECK(wl_generate("long-lived-churn", "long_lived=50 churn=100 seed=2", &b, &err));
	CHECK(!wl_trace_equal(a, b, NULL, 0));
	wl_trace_free(a);
	wl_trace_free(b);
}

/* Live bytes per stream after each operation, by simulation. */
static void classic_definitions(void)
{
	wl_trace *t;
	wl_error err;
	uint64_t k[WL_OP_KIND_COUNT];
	CHECK(wl_generate("cached-alloc", "threads=2 scale=0.001 size=8K", &t, &err));
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 2 * 5000);
	CHECK_EQ(k[WL_OP_FREE], 2 * 5000);
	CHECK_EQ(wl_trace_stream_count(t), 2);
	wl_op op;
	wl_trace_get(t, 0, &op);
	CHECK_EQ(op.size, 8192);
	wl_trace_free(t);

	CHECK(wl_generate("threadtest", "threads=2 scale=0.01", &t, &err)); /* 5 bursts of 25,000 */
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 2 * 5 * 25000);
	/* the first burst frees in allocation order */
	for (size_t i = 0; i < 25000; i++) {
		wl_op a, f;
		wl_trace_get(t, i, &a);
		wl_trace_get(t, 25000 + i, &f);
		CHECK(a.kind == WL_OP_ALLOC && f.kind == WL_OP_FREE && a.id == f.id);
	}
	wl_trace_free(t);

	CHECK(wl_generate("constant-occupancy", "threads=2 scale=0.0001 size=4K", &t, &err)); /* 2,500 rounds */
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 2 * (31 + 2500));
	CHECK_EQ(k[WL_OP_FREE], 2 * (31 + 2500));
	{
		/* occupancy: once all 31 are held, every free is followed by an alloc
		 * of the same size and name, so live bytes stay at 80 S */
		uint64_t live[2] = {0, 0}, *sz = calloc(wl_trace_name_count(t), sizeof *sz);
		unsigned held[2] = {0, 0};
		for (size_t i = 0; i < wl_trace_count(t); i++) {
			wl_trace_get(t, i, &op);
			if (op.kind == WL_OP_ALLOC) {
				sz[op.id] = op.size;
				live[op.stream] += op.size;
				held[op.stream]++;
				if (held[op.stream] >= 31)
					CHECK_EQ(live[op.stream], 80 * 4096);
			} else {
				live[op.stream] -= sz[op.id];
			}
		}
		free(sz);
	}
	wl_trace_free(t);

	CHECK(wl_generate("linux-scalability", "threads=1 scale=0.01", &t, &err)); /* 870 blocks, twice */
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 2 * 870);
	wl_trace_get(t, 870, &op);
	CHECK_EQ(op.kind, WL_OP_FREE);
	wl_trace_free(t);
}

static void bad_parameters(void)
{
	wl_trace *t = NULL;
	wl_error err;
	CHECK(!wl_generate("no-such", NULL, &t, &err));
	CHECK_MSG(strstr(err.message, "unknown generator 'no-such'") && strstr(err.message, "gpu-frame"), "%s", err.message);
	CHECK(!wl_generate("fragmenter", "count=10 colour=blue", &t, &err));
	CHECK_MSG(strstr(err.message, "unknown parameter 'colour'"), "%s", err.message);
	CHECK(!wl_generate("fragmenter", "count=ten", &t, &err));
	CHECK_MSG(strstr(err.message, "count=ten"), "%s", err.message);
	CHECK(!wl_generate("fragmenter", "count=1", &t, &err));
	CHECK(!wl_generate("gpu-frame", "transient_size=lognormal:1:2", &t, &err));
	CHECK_MSG(strstr(err.message, "transient_size") && strstr(err.message, "unknown kind"), "%s", err.message);
	CHECK(!wl_generate("streaming-dma", "op=teleport", &t, &err));
	CHECK(!wl_generate("fragmenter", "count", &t, &err));
	CHECK(t == NULL);
	CHECK(wl_gen_count() >= 9);
	for (size_t i = 0; i < wl_gen_count(); i++) {
		CHECK(wl_gen_name(i) && strlen(wl_gen_description(i)) > 10 && !strchr(wl_gen_description(i), '\n'));
		CHECK(strstr(wl_gen_params(i), "seed=") != NULL);
		/* the listed defaults are accepted as parameters */
		const char *name = wl_gen_name(i);
		if (strcmp(name, "gpu-frame") == 0 || strcmp(name, "fragmenter") == 0) {
			CHECK_MSG(wl_generate(name, wl_gen_params(i), &t, &err), "%s defaults: %s", name, err.message);
			wl_trace_free(t);
		}
	}
}

static void size_distributions(void)
{
	const char *specs[] = {"fixed:12K", "uniform:4K:64K", "loguniform:4K:256M:page", "powerlaw:4K:1G:1.5",
			       "powerlaw:1:100:1"};
	wl_rng rng;
	wl_rng_seed(&rng, 3);
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		wl_sizedist *d;
		wl_error err;
		CHECK_MSG(wl_sizedist_parse(specs[i], &d, &err), "%s: %s", specs[i], err.message);
		double below_double = 0;
		for (int j = 0; j < 20000; j++) {
			uint64_t s = wl_sizedist_sample(d, &rng);
			CHECK_MSG(s >= wl_sizedist_min(d) && s <= wl_sizedist_max(d), "%s drew %llu", specs[i],
				  (unsigned long long)s);
			if (strstr(specs[i], ":page"))
				CHECK(s % 4096 == 0);
			below_double += s <= 2 * wl_sizedist_min(d);
		}
		/* log-uniform over 2^16: each octave has 1/16 of the mass */
		if (i == 2)
			CHECK_MSG(fabs(below_double / 20000 - 1.0 / 16) < 0.01, "loguniform first octave %.3f", below_double / 20000);
		/* power law alpha 1.5 from 4K: P(x < 8K) = 1 - 2^-0.5 = 0.29 */
		if (i == 3)
			CHECK_MSG(fabs(below_double / 20000 - 0.293) < 0.015, "powerlaw first octave %.3f", below_double / 20000);
		wl_sizedist_free(d);
	}
	const char *bad[] = {"fixed:0", "uniform:8K:4K", "powerlaw:4K:8K:0", "powerlaw:4K:8K", "fixed:4K:huge", "", "empirical:/nonexistent"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		wl_sizedist *d = NULL;
		wl_error err;
		CHECK_MSG(!wl_sizedist_parse(bad[i], &d, &err), "accepted '%s'", bad[i]);
		CHECK(d == NULL);
	}
	/* empirical from a trace: only its sizes come out */
	wl_trace *t;
	wl_error err;
	CHECK(wl_generate("constant-occupancy", "threads=1 scale=0.00001 size=4K", &t, &err));
	wl_sizedist *d;
	CHECK(wl_sizedist_from_trace(t, &d, &err));
	for (int j = 0; j < 1000; j++) {
		uint64_t s = wl_sizedist_sample(d, &rng);
		CHECK(s == 4096 || s == 8192 || s == 16384 || s == 32768 || s == 65536);
	}
	wl_sizedist_free(d);
	wl_trace_free(t);
}

int main(void)
{
	roundtrip_and_replay();
	seeds_differ();
	classic_definitions();
	bad_parameters();
	size_distributions();
	return check_exit_code();
}
