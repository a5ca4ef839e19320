/* Importers on the real third-party traces in ../shared/traces/, with counts
 * checked against ones computed independently (a Python pass over the same
 * files, numbers recorded below, and an in-test sweep for MiniMalloc).
 * Skips (exit 77) when the folder is absent. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "workloads.h"

#define SHARED "../shared/traces/"

static void count_kinds(const wl_trace *t, uint64_t *c)
{
	memset(c, 0, WL_OP_KIND_COUNT * sizeof *c);
	for (size_t i = 0; i < wl_trace_count(t); i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		c[op.kind]++;
	}
}

static void test_android(void)
{
	wl_trace *t;
	wl_import_report rep;
	wl_error err;
	if (!wl_import_file("android", SHARED "android-memory-replay/systemui.zip", NULL, &t, &rep, &err)) {
		check_failed(__FILE__, __LINE__, "%s", err.message);
		return;
	}
	/* Independent counts (Python over the unzipped text, same rules):
	 * 786,454 lines; 421,233 allocations (malloc, calloc, memalign,
	 * realloc's new block) of nonzero size; 367,589 frees of live blocks
	 * (free, realloc's old block); one malloc of 0 bytes; 393 threads. */
	uint64_t k[WL_OP_KIND_COUNT];
	count_kinds(t, k);
	CHECK_EQ(rep.lines, 786454);
	CHECK_EQ(rep.events, 786454);
	CHECK_EQ(k[WL_OP_ALLOC], 421233);
	CHECK_EQ(k[WL_OP_FREE], 367589);
	CHECK_EQ(rep.problems[WL_IMPORT_ZERO_SIZE], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_UNKNOWN_FREE], 0);
	CHECK_EQ(rep.problems[WL_IMPORT_UNPARSEABLE], 0);
	CHECK_EQ(wl_trace_stream_count(t), 393);
	CHECK(strstr(wl_trace_source(t), "systemui.zip:systemui.txt") != NULL);
	/* Hundreds of threads on two workers, frees across threads: replays. */
	wl_compiled *c;
	CHECK(wl_compile(t, &(wl_compile_options){.workers = 2}, &c, &err));
	CHECK(wl_compiled_cross_deps(c) > 0);
	wl_replay_result *r;
	CHECK(wl_replay(c, wl_executor_null(), &(wl_replay_options){.latency = WL_LATENCY_OFF}, &r, &err));
	CHECK_EQ(r->failed, 0);
	CHECK_EQ(r->ops, 421233 + 367589);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	wl_trace_free(t);
}

/* Peak of the sum of sizes of buffers live at some instant, straight from
 * the CSV rows: [lower, upper) intervals. */
static uint64_t csv_peak(const char *path, unsigned *rows)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[256];
	uint64_t lo[1024], hi[1024], sz[1024];
	unsigned n = 0;
	while (fgets(line, sizeof line, f) && n < 1024) {
		unsigned long long id, a, b, s;
		if (sscanf(line, "%llu,%llu,%llu,%llu", &id, &a, &b, &s) == 4) {
			lo[n] = a;
			hi[n] = b;
			sz[n] = s;
			n++;
		}
	}
	fclose(f);
	uint64_t peak = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t live = 0;
		for (unsigned j = 0; j < n; j++)
			if (lo[j] <= lo[i] && lo[i] < hi[j])
				live += sz[j];
		peak = live > peak ? live : peak;
	}
	*rows = n;
	return peak;
}

static void test_minimalloc(void)
{
	const char *files[] = {"A", "B", "C", "D", "E", "F"};
	for (size_t i = 0; i < 6; i++) {
		char path[256];
		snprintf(path, sizeof path, SHARED "minimalloc/%s.1048576.csv", files[i]);
		unsigned rows = 0;
		uint64_t want_peak = csv_peak(path, &rows);
		wl_trace *t;
		wl_import_report rep;
		wl_error err;
		if (!wl_import_file("minimalloc", path, NULL, &t, &rep, &err)) {
			check_failed(__FILE__, __LINE__, "%s", err.message);
			continue;
		}
		uint64_t k[WL_OP_KIND_COUNT];
		count_kinds(t, k);
		CHECK_MSG(rows > 100, "%s: %u rows", path, rows);
		CHECK_EQ(k[WL_OP_ALLOC], rows);
		CHECK_EQ(k[WL_OP_FREE], rows);
		CHECK_EQ(rep.events, rows);
		CHECK(strcmp(wl_trace_header(t, "capacity"), "1048576") == 0);
		uint64_t live = 0, peak = 0, *size = calloc(wl_trace_name_count(t), sizeof *size);
		for (size_t j = 0; j < wl_trace_count(t); j++) {
			wl_op op;
			wl_trace_get(t, j, &op);
			if (op.kind == WL_OP_ALLOC) {
				size[op.id] = op.size;
				live += op.size;
			} else {
				live -= size[op.id];
			}
			peak = live > peak ? live : peak;
		}
		free(size);
		CHECK_MSG(peak == want_peak, "%s: peak live %llu bytes, CSV says %llu", path, (unsigned long long)peak,
			  (unsigned long long)want_peak);
		CHECK_MSG(peak <= 1048576, "%s: peak %llu above the capacity", path, (unsigned long long)peak);
		wl_trace_free(t);
	}
}

static void test_vma(void)
{
	wl_trace *t;
	wl_import_report rep;
	wl_error err;
	if (!wl_import_file("vma", SHARED "vma-recording/inexor_gtx660m_vma_recording_v1.8.csv", NULL, &t, &rep, &err)) {
		check_failed(__FILE__, __LINE__, "%s", err.message);
		return;
	}
	/* 36 calls: 15 vmaCreateBuffer, 3 vmaCreateImage, 15 vmaDestroyBuffer,
	 * 1 vmaDestroyImage (grep -c), plus create/destroy allocator. */
	uint64_t k[WL_OP_KIND_COUNT];
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 18);
	CHECK_EQ(k[WL_OP_FREE], 16);
	CHECK_EQ(rep.events, 34);
	CHECK_EQ(rep.problems[WL_IMPORT_UNKNOWN_FREE] + rep.problems[WL_IMPORT_UNPARSEABLE] +
			 rep.problems[WL_IMPORT_UNCONVERTIBLE],
		 0);
	CHECK_EQ(wl_trace_stream_count(t), 1);
	wl_op op;
	wl_trace_get(t, 0, &op); /* the depth buffer: D32_SFLOAT 800x600 */
	CHECK_EQ(op.size, 800 * 600 * 4);
	CHECK_EQ(op.ts_ns, 134000000);
	wl_trace_get(t, 2, &op); /* example_texture_1: R8G8B8A8 1024x1024 */
	CHECK_EQ(op.size, 1024 * 1024 * 4);
	wl_trace_free(t);
}

int main(void)
{
	struct stat st;
	if (stat(SHARED, &st) != 0) {
		printf("SKIP: %s not found (run from the project root with shared/ beside it)\n", SHARED);
		return 77;
	}
	test_android();
	test_minimalloc();
	test_vma();
	return check_exit_code();
}
