/* Replayer: per-instance order and cross-stream rules under concurrency
 * (checked by an executor that would see any broken handoff, and by TSan),
 * counts, failure reasons, stop at first failure, warm-up and loops, timed
 * mode's lag report. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "wl_gen.h"
#include "wl_replay.h"

#define MAGIC 0x5eed5eedull
#define MAX_TOKENS 400000

/* A checking executor: every buffer lifetime gets a token; the state of a
 * token is touched without synchronisation, so a broken handoff between
 * workers is a data race (TSan) and usually an order violation (CHECK). */
typedef struct token_state {
	int live;
	uint32_t last_value;
} token_state;

static token_state tokens[MAX_TOKENS];
static _Atomic uint64_t next_token = 1;
static _Atomic uint64_t frees_called, allocs_called;

static token_state *state_of(const wl_handle *h)
{
	if (h->u64[1] != MAGIC || h->u64[0] == 0 || h->u64[0] >= MAX_TOKENS) {
		check_failed(__FILE__, __LINE__, "handle not set by an alloc/map (%llx %llx)", (unsigned long long)h->u64[0],
			     (unsigned long long)h->u64[1]);
		return NULL;
	}
	return &tokens[h->u64[0]];
}

static iova_status ck_create(wl_handle *out)
{
	uint64_t tok = atomic_fetch_add(&next_token, 1);
	CHECK(tok < MAX_TOKENS);
	if (tok >= MAX_TOKENS)
		return IOVA_ERR_NO_MEMORY;
	tokens[tok].live = 1;
	tokens[tok].last_value = 0;
	out->u64[0] = tok;
	out->u64[1] = MAGIC;
	atomic_fetch_add(&allocs_called, 1);
	return IOVA_OK;
}
static iova_status ck_alloc(void *w, const wl_alloc_args *a, wl_handle *out)
{
	(void)w, (void)a;
	return ck_create(out);
}
static iova_status ck_map(void *w, uint64_t size, uint32_t seg, wl_handle *out)
{
	(void)w, (void)size, (void)seg;
	return ck_create(out);
}
static iova_status ck_release(void *w, wl_handle *h)
{
	(void)w;
	token_state *s = state_of(h);
	CHECK_MSG(s && s->live == 1, "release of a buffer that is not live");
	if (s)
		s->live = 0;
	atomic_fetch_add(&frees_called, 1);
	return IOVA_OK;
}
static iova_status ck_fill(void *w, wl_handle *h, uint64_t off, uint64_t n, uint32_t value)
{
	(void)w, (void)off, (void)n;
	token_state *s = state_of(h);
	CHECK_MSG(s && s->live == 1, "fill of a buffer that is not live");
	/* value = the operation's index in file order: must increase per buffer */
	CHECK_MSG(s && value > s->last_value, "fill %u after %u on one buffer: file order broken", value,
		  s ? s->last_value : 0);
	if (s)
		s->last_value = value;
	return IOVA_OK;
}
static iova_status ck_transfer(void *w, wl_handle *a, uint64_t ao, wl_handle *b, uint64_t bo, uint64_t n)
{
	(void)w, (void)ao, (void)bo, (void)n;
	token_state *s = state_of(a), *d = state_of(b);
	CHECK(s && s->live == 1 && d && d->live == 1);
	return IOVA_OK;
}

static const wl_executor checking = {
	.name = "checking",
	.alloc = ck_alloc,
	.free = ck_release,
	.map = ck_map,
	.unmap = ck_release,
	.fill = ck_fill,
	.transfer = ck_transfer,
};

static uint32_t stream(wl_trace *t, unsigned s) { return wl_trace_stream_u64(t, s); }

/* A random trace over @nstreams streams: buffers allocated on one stream,
 * filled, copied and freed on any, fences across streams, some leaked. */
static wl_trace *random_trace(uint64_t seed, unsigned nstreams, unsigned nops)
{
	wl_trace *t = wl_trace_new("random");
	wl_rng rng;
	wl_rng_seed(&rng, seed);
	enum { NAMES = 64 };
	int live[NAMES] = {0}; /* 0 free, 1 alloc, 2 map */
	bool signalled[8] = {0};
	wl_error err;
	for (unsigned i = 1; i <= nops; i++) {
		wl_op op = {.ts_ns = i, .stream = stream(t, (unsigned)wl_rng_below(&rng, nstreams)), .value = i};
		unsigned n = (unsigned)wl_rng_below(&rng, NAMES);
		uint32_t id = wl_trace_intern_u64(t, n);
		unsigned what = (unsigned)wl_rng_below(&rng, 10);
		if (!live[n]) {
			op.kind = what < 7 ? WL_OP_ALLOC : WL_OP_MAP;
			op.id = id;
			op.size = 4096;
			live[n] = op.kind == WL_OP_ALLOC ? 1 : 2;
		} else if (what < 5) {
			op.kind = WL_OP_FILL;
			op.id = id;
			op.size = 64;
		} else if (what < 7) {
			unsigned m = (unsigned)wl_rng_below(&rng, NAMES);
			if (!live[m])
				m = n;
			op.kind = WL_OP_TRANSFER;
			op.id = id;
			op.id2 = wl_trace_intern_u64(t, m);
			op.size = 128;
		} else if (what < 9) {
			op.kind = live[n] == 1 ? WL_OP_FREE : WL_OP_UNMAP;
			op.id = id;
			live[n] = 0;
		} else {
			unsigned f = (unsigned)wl_rng_below(&rng, 8);
			char name[8];
			snprintf(name, sizeof name, "f%u", f);
			op.id = wl_trace_intern(t, name, strlen(name));
			op.kind = signalled[f] && wl_rng_below(&rng, 2) ? WL_OP_WAIT : WL_OP_SIGNAL;
			signalled[f] = true;
		}
		CHECK_MSG(wl_trace_append(t, &op, &err), "%s", err.message);
	}
	CHECK_MSG(wl_trace_check(t, &err), "%s", err.message);
	return t;
}

static void count_kinds(const wl_trace *t, uint64_t *count)
{
	memset(count, 0, WL_OP_KIND_COUNT * sizeof *count);
	for (size_t i = 0; i < wl_trace_count(t); i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		count[op.kind]++;
	}
}

static void test_concurrent_order(void)
{
	const unsigned worker_counts[] = {1, 2, 3, 5};
	for (unsigned round = 0; round < 8; round++) {
		wl_trace *t = random_trace(100 + round, 7, 6000);
		uint64_t want[WL_OP_KIND_COUNT];
		count_kinds(t, want);
		wl_compile_options co = {.workers = worker_counts[round % 4],
					 .assign = round % 2 ? WL_ASSIGN_ROUND_ROBIN : WL_ASSIGN_BALANCED};
		wl_compiled *c;
		wl_error err;
		CHECK_MSG(wl_compile(t, &co, &c, &err), "%s", err.message);
		if (co.workers > 1)
			CHECK_MSG(wl_compiled_cross_deps(c) > 0, "a random 7-stream trace should have cross-worker deps");
		atomic_store(&next_token, 1);
		atomic_store(&allocs_called, 0);
		atomic_store(&frees_called, 0);
		wl_replay_options o = {.loops = 3, .latency = round % 3, .pin = round == 1, .seed = round};
		wl_replay_result *r;
		CHECK_MSG(wl_replay(c, &checking, &o, &r, &err), "%s", err.message);
		CHECK_EQ(r->failed, 0);
		CHECK_EQ(r->workers, co.workers);
		for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++)
			CHECK_EQ(r->count[k], 3 * want[k]);
		CHECK_EQ(r->ops, 3 * wl_trace_count(t));
		/* Leaks are released after each loop: every buffer was freed. */
		CHECK_EQ(atomic_load(&allocs_called), 3 * (want[WL_OP_ALLOC] + want[WL_OP_MAP]));
		CHECK_EQ(atomic_load(&frees_called), atomic_load(&allocs_called));
		if (o.latency != WL_LATENCY_OFF)
			CHECK_EQ(r->latency[WL_OP_FILL].count, 3 * want[WL_OP_FILL]);
		else
			CHECK_EQ(r->all_latency.count, 0);
		wl_replay_result_free(r);
		wl_compiled_free(c);
		wl_trace_free(t);
	}
}

/* A free on another stream than its alloc, with the two streams on two
 * workers, always waits for the alloc. */
static void test_cross_stream_free(void)
{
	wl_trace *t = wl_trace_new("cross");
	wl_error err;
	uint32_t s0 = stream(t, 0), s1 = stream(t, 1);
	for (unsigned i = 0; i < 20000; i++) {
		uint32_t id = wl_trace_intern_u64(t, i % 100);
		wl_op a = {.ts_ns = i, .stream = s0, .kind = WL_OP_ALLOC, .id = id, .size = 4096};
		wl_op f = {.ts_ns = i, .stream = s1, .kind = WL_OP_FREE, .id = id};
		CHECK(wl_trace_append(t, &a, &err) && wl_trace_append(t, &f, &err));
	}
	wl_compile_options co = {.workers = 2, .assign = WL_ASSIGN_ROUND_ROBIN};
	wl_compiled *c;
	CHECK_MSG(wl_compile(t, &co, &c, &err), "%s", err.message);
	CHECK_EQ(wl_compiled_stream_worker(c, s0), 0);
	CHECK_EQ(wl_compiled_stream_worker(c, s1), 1);
	CHECK_EQ(wl_compiled_cross_deps(c), 20000); /* every free; a re-alloc of a name is a new lifetime */
	atomic_store(&next_token, 1);
	atomic_store(&frees_called, 0);
	wl_replay_result *r;
	wl_replay_options o = {0};
	CHECK(wl_replay(c, &checking, &o, &r, &err));
	CHECK_EQ(r->failed, 0);
	CHECK_EQ(atomic_load(&frees_called), 20000);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	wl_trace_free(t);
}

static wl_trace *parse(const char *text)
{
	wl_trace *t = NULL;
	wl_error err;
	CHECK_MSG(wl_trace_parse(text, strlen(text), "t", &t, &err), "%s", err.message);
	return t;
}

static void test_failures_with_core(void)
{
	/* 64 KiB domain: 16 pages. */
	iova_domain *d;
	iova_domain_config cfg = {.base = 0, .size = 65536};
	CHECK_STATUS(iova_domain_create(&cfg, &d), IOVA_OK);
	wl_iova_executor x;
	wl_iova_executor_init(&x, d, IOVA_PLACE_BOTTOM_UP);
	wl_trace *t = parse("iovatrace 1\n"
			    "0 0 alloc a 32K\n"
			    "1 0 alloc b 32K\n"
			    "2 0 alloc c 4K\n"             /* line 5: no space */
			    "3 0 alloc d 8K boundary=4K\n" /* unsatisfiable */
			    "4 0 alloc e 4K lowest=1M\n"   /* outside the domain */
			    "5 0 fill c 0 4K\n"            /* skipped: c failed */
			    "6 0 free c\n"                 /* skipped */
			    "7 0 map m 4K\n"               /* unsupported */
			    "8 0 unmap m\n"                /* skipped */
			    "9 0 free a\n"
			    "10 0 alloc c 4K\n");           /* leaked: cleaned after the loop */
	wl_compiled *c;
	wl_error err;
	CHECK_MSG(wl_compile(t, NULL, &c, &err), "%s", err.message);
	wl_replay_result *r;
	wl_replay_options o = {.loops = 2};
	CHECK_MSG(wl_replay(c, &x.ex, &o, &r, &err), "%s", err.message);
	CHECK_EQ(r->failures[WL_OP_ALLOC][WL_FAIL_NO_SPACE], 2);
	CHECK_EQ(r->failures[WL_OP_ALLOC][WL_FAIL_UNSATISFIABLE], 4);
	CHECK_EQ(r->failures[WL_OP_FILL][WL_FAIL_SKIPPED], 2);
	CHECK_EQ(r->failures[WL_OP_FREE][WL_FAIL_SKIPPED], 2);
	CHECK_EQ(r->failures[WL_OP_MAP][WL_FAIL_UNSUPPORTED], 2);
	CHECK_EQ(r->failures[WL_OP_UNMAP][WL_FAIL_SKIPPED], 2);
	CHECK_EQ(r->status[WL_OP_ALLOC][IOVA_OK], 6);
	CHECK_EQ(r->status[WL_OP_ALLOC][IOVA_ERR_NO_SPACE], 2);
	CHECK_EQ(r->status[WL_OP_FREE][IOVA_OK], 2);
	CHECK_EQ(r->failed, 14);
	CHECK(!r->stopped);
	wl_replay_result_free(r);
	/* Everything was given back: the whole domain is one free block. */
	iova_stats st;
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.live_allocations, 0);
	CHECK_EQ(st.free_bytes, 65536);

	o.stop_on_failure = true;
	CHECK(wl_replay(c, &x.ex, &o, &r, &err));
	CHECK(r->stopped);
	CHECK_MSG(strcmp(r->stop_reason, "line 4: alloc: IOVA_ERR_NO_SPACE") == 0, "%s", r->stop_reason);
	CHECK_EQ(r->failed, 1);
	CHECK_EQ(r->ops, 3);
	wl_replay_result_free(r);
	CHECK_STATUS(iova_domain_stats(d, &st), IOVA_OK);
	CHECK_EQ(st.live_allocations, 0);
	wl_compiled_free(c);
	wl_trace_free(t);
	iova_domain_destroy(d);
}

static void test_null_warmup(void)
{
	wl_trace *t = random_trace(7, 3, 3000);
	wl_compiled *c;
	wl_error err;
	CHECK(wl_compile(t, NULL, &c, &err));
	wl_replay_result *r;
	wl_replay_options o = {.loops = 2, .warmup_loops = 1, .latency = WL_LATENCY_CHAINED};
	CHECK(wl_replay(c, wl_executor_null(), &o, &r, &err));
	CHECK_EQ(r->ops, 2 * wl_trace_count(t));
	CHECK_EQ(r->failed, 0);
	CHECK_EQ(r->all_latency.count, r->ops);
	CHECK_EQ(r->loops, 2);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	wl_trace_free(t);
}

/* An executor whose alloc takes at least 2 ms. */
static iova_status slow_alloc(void *w, const wl_alloc_args *a, wl_handle *out)
{
	(void)w, (void)a, (void)out;
	struct timespec ts = {0, 2000000};
	while (nanosleep(&ts, &ts) != 0)
		;
	return IOVA_OK;
}

static void test_timed(void)
{
	/* Five allocs 100 us apart, each taking >= 2 ms: alloc i starts at
	 * >= 2i ms but was due at 0.1i ms, so the replay falls behind by at
	 * least 1.9 ms per operation. */
	wl_trace *t = parse("iovatrace 1\n0 0 alloc a 4K\n100000 0 alloc b 4K\n200000 0 alloc c 4K\n"
			    "300000 0 alloc d 4K\n400000 0 alloc e 4K\n");
	wl_compiled *c;
	wl_error err;
	CHECK(wl_compile(t, NULL, &c, &err));
	wl_executor slow = *wl_executor_null();
	slow.alloc = slow_alloc;
	wl_replay_result *r;
	wl_replay_options o = {.mode = WL_REPLAY_TIMED, .late_threshold_ns = 1000000};
	CHECK(wl_replay(c, &slow, &o, &r, &err));
	CHECK_EQ(r->lag.count, 5);
	CHECK_MSG(r->lag_final_ns >= 7600000, "final lag %llu ns, want >= 7.6 ms", (unsigned long long)r->lag_final_ns);
	CHECK(r->lag_max_ns >= r->lag_final_ns);
	CHECK_EQ(r->late_ops, 4);
	CHECK_EQ(r->schedule_ns, 400000);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	wl_trace_free(t);

	/* Time scale: a 20 ms schedule at 0.5 takes at least 10 ms, and an
	 * operation is never started before its time. */
	t = parse("iovatrace 1\n0 0 alloc a 4K\n20000000 1 free a\n");
	CHECK(wl_compile(t, &(wl_compile_options){.workers = 2}, &c, &err));
	o = (wl_replay_options){.mode = WL_REPLAY_TIMED, .time_scale = 0.5};
	CHECK(wl_replay(c, wl_executor_null(), &o, &r, &err));
	CHECK_EQ(r->schedule_ns, 10000000);
	CHECK_MSG(r->elapsed_ns >= 10000000, "elapsed %llu ns", (unsigned long long)r->elapsed_ns);
	CHECK_EQ(r->failed, 0);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	wl_trace_free(t);
}

static void *refuse_init(void *ctx, unsigned w, uint64_t seed, bool *ok)
{
	(void)ctx, (void)seed;
	*ok = w != 1;
	return NULL;
}

static void test_setup_failure(void)
{
	wl_trace *t = random_trace(9, 4, 500);
	wl_compiled *c;
	wl_error err;
	CHECK(wl_compile(t, &(wl_compile_options){.workers = 3}, &c, &err));
	wl_executor ex = *wl_executor_null();
	ex.name = "refuser";
	ex.worker_init = refuse_init;
	wl_replay_result *r = NULL;
	CHECK(!wl_replay(c, &ex, NULL, &r, &err));
	CHECK(r == NULL);
	CHECK_MSG(strstr(err.message, "refuser") != NULL, "%s", err.message);
	wl_compiled_free(c);
	wl_trace_free(t);
}

int main(void)
{
	test_concurrent_order();
	test_cross_stream_free();
	test_failures_with_core();
	test_null_warmup();
	test_timed();
	test_setup_failure();
	return check_exit_code();
}
