/* Importers on fixtures written for this project and on malformed input:
 * ftrace (both IOMMU event forms, dev=, DMA events, trace-cmd style), VMA,
 * MiniMalloc and Android text; problems counted with line numbers; strict
 * mode stops at the first. */
#include <string.h>

#include "check.h"
#include "workloads.h"

#define FIXTURES "workloads/tests/fixtures/"

static void count_kinds(const wl_trace *t, uint64_t *c)
{
	memset(c, 0, WL_OP_KIND_COUNT * sizeof *c);
	for (size_t i = 0; i < wl_trace_count(t); i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		c[op.kind]++;
	}
}

/* The operation on name @name of kind @kind, or fails. */
static bool find_op(const wl_trace *t, wl_op_kind kind, const char *name, wl_op *out)
{
	for (size_t i = 0; i < wl_trace_count(t); i++) {
		wl_trace_get(t, i, out);
		if (out->kind == kind && strcmp(wl_trace_name(t, out->id), name) == 0)
			return true;
	}
	return false;
}

static void test_ftrace(void)
{
	wl_trace *t;
	wl_import_report rep;
	wl_error err;
	CHECK_MSG(wl_import_file("ftrace", FIXTURES "ftrace_iommu.txt", NULL, &t, &rep, &err), "%s", err.message);
	if (!t)
		return;
	uint64_t k[WL_OP_KIND_COUNT];
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_MAP], 5);
	CHECK_EQ(k[WL_OP_UNMAP], 5);
	CHECK_EQ(k[WL_OP_ALLOC], 1);
	CHECK_EQ(k[WL_OP_FREE], 1);
	CHECK_EQ(rep.ops, 12);
	CHECK_EQ(rep.lines, 29);
	CHECK_EQ(rep.events, 15);
	CHECK_EQ(rep.ignored, 13);
	CHECK_EQ(rep.problems[WL_IMPORT_UNKNOWN_FREE], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_ZERO_SIZE], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_UNPARSEABLE], 1);
	CHECK_EQ(rep.nnotes, 3);
	CHECK_EQ(rep.notes[0].line, 24); /* dma_unmap_page of fd800000 */
	CHECK_EQ(rep.notes[0].problem, WL_IMPORT_UNKNOWN_FREE);
	CHECK_EQ(rep.notes[1].line, 25);
	CHECK_EQ(rep.notes[2].line, 27);
	CHECK_EQ(wl_trace_stream_count(t), 4);
	wl_op op;
	CHECK(find_op(t, WL_OP_MAP, "iommu@fffff000", &op));
	CHECK_EQ(op.size, 4096);
	CHECK_EQ(op.ts_ns, UINT64_C(1000000100000));
	CHECK(strcmp(wl_trace_stream_name(t, op.stream), "001") == 0);
	CHECK(find_op(t, WL_OP_UNMAP, "iommu@fffff000", &op)); /* on another CPU */
	CHECK(strcmp(wl_trace_stream_name(t, op.stream), "000") == 0);
	CHECK(find_op(t, WL_OP_MAP, "iommu@ffe00000", &op)); /* the form without "- 0xEND" */
	CHECK_EQ(op.size, 2 << 20);
	CHECK(find_op(t, WL_OP_UNMAP, "iommu@ffe00000", &op));
	CHECK(find_op(t, WL_OP_MAP, "0000:01:00.0@10000", &op)); /* dev= */
	CHECK_EQ(op.size, 32768);
	CHECK(find_op(t, WL_OP_MAP, "0000:c2:00.0@fe000000", &op));
	CHECK(find_op(t, WL_OP_ALLOC, "0000:c2:00.0@fe980000", &op));
	CHECK_EQ(op.size, 524288);
	CHECK(find_op(t, WL_OP_MAP, "0000:c2:00.0@sg150000000", &op));
	CHECK_EQ(op.size, 0x18000);
	CHECK_EQ(op.segments, 2);
	CHECK(find_op(t, WL_OP_UNMAP, "0000:c2:00.0@sg150000000", &op));
	/* the result replays */
	wl_compiled *c;
	CHECK(wl_compile(t, &(wl_compile_options){.workers = 2}, &c, &err));
	wl_replay_result *r;
	CHECK(wl_replay(c, wl_executor_null(), NULL, &r, &err));
	CHECK_EQ(r->failed, 0);
	wl_replay_result_free(r);
	wl_compiled_free(c);
	wl_trace_free(t);

	/* strict: the first problem, with its line */
	wl_import_options strict = {.strict = true};
	CHECK(!wl_import_file("ftrace", FIXTURES "ftrace_iommu.txt", &strict, &t, &rep, &err));
	CHECK_MSG(strstr(err.message, "ftrace_iommu.txt:24: unknown-free") != NULL, "%s", err.message);

	/* as=alloc, events=iommu */
	wl_import_options o = {.params = "as=alloc events=iommu"};
	CHECK(wl_import_file("ftrace", FIXTURES "ftrace_iommu.txt", &o, &t, &rep, &err));
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 3);
	CHECK_EQ(k[WL_OP_FREE], 3);
	CHECK_EQ(k[WL_OP_MAP], 0);
	wl_trace_free(t);
	o.params = "as=both";
	CHECK(!wl_import_file("ftrace", FIXTURES "ftrace_iommu.txt", &o, &t, &rep, &err));
	o.params = "colour=red";
	CHECK(!wl_import_file("ftrace", FIXTURES "ftrace_iommu.txt", &o, &t, &rep, &err));
	CHECK_MSG(strstr(err.message, "unknown parameter 'colour'"), "%s", err.message);

	/* trace-cmd report style: no flags column, "system:event:" names */
	CHECK_MSG(wl_import_file("ftrace", FIXTURES "ftrace_tracecmd.txt", NULL, &t, &rep, &err), "%s", err.message);
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_MAP], 1);
	CHECK_EQ(k[WL_OP_UNMAP], 1);
	CHECK_EQ(rep.ignored, 1);
	wl_trace_free(t);
}

static void test_vma_inline(void)
{
	const char *text = "Vulkan Memory Allocator,Calls recording\n1,8\nConfig,Begin\nPhysicalDevice,apiVersion,1\nConfig,End\n"
			   "1,0.001,0,vmaCreateAllocator\n"
			   "1,0.010,0,vmaCreateBuffer,0,65536,1,0,36,3,0,0,0,0000000000000000,00000000000000A0,buf\n"
			   "2,0.020,0,vmaAllocateMemory,1000000,4096,1,0,0,0,0,0,0000000000000000,00000000000000B0,\n"
			   "2,0.021,0,vmaCreateImage,0,1,131,64,64,1,1,1,1,0,32,0,0,0,1,0,0,0,0000000000000000,00000000000000C0,bc1\n"
			   "2,0.022,0,vmaCreateImage,0,1,37,64,32,1,3,2,1,0,32,0,0,0,1,0,0,0,0000000000000000,00000000000000D0,rgba\n"
			   "1,0.030,1,vmaDestroyBuffer,00000000000000A0\n"
			   "1,0.031,1,vmaDestroyImage,00000000000000C0\n"
			   "1,0.032,1,vmaFreeMemory,00000000000000E0\n"
			   "1,0.033,1,vmaCreateBuffer,0,notanumber\n"
			   "2,0.040,1,vmaAllocateMemoryPages,8192,256,1,0,0,0,0,0,0000000000000000,2,0F0 0F8,\n"
			   "2,0.041,1,vmaFreeMemoryPages,0F0 0F8\n"
			   "1,0.050,1,vmaDestroyAllocator\n";
	wl_trace *t;
	wl_import_report rep;
	wl_error err;
	CHECK_MSG(wl_import_buffer("vma", text, strlen(text), "inline.csv", NULL, &t, &rep, &err), "%s", err.message);
	uint64_t k[WL_OP_KIND_COUNT];
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 5); /* buffer, memory, rgba image, two pages */
	CHECK_EQ(k[WL_OP_FREE], 3);
	CHECK_EQ(rep.problems[WL_IMPORT_UNCONVERTIBLE], 1); /* BC1 image: size unknown */
	CHECK_EQ(rep.problems[WL_IMPORT_UNKNOWN_FREE], 1);  /* E0 */
	CHECK_EQ(rep.problems[WL_IMPORT_UNPARSEABLE], 1);
	CHECK_EQ(rep.notes[2].line, 14);
	wl_op op;
	CHECK(find_op(t, WL_OP_ALLOC, "00000000000000B0", &op));
	CHECK_EQ(op.size, 1000000);
	CHECK_EQ(op.alignment, 4096);
	CHECK_EQ(op.ts_ns, 20000000);
	CHECK(find_op(t, WL_OP_ALLOC, "00000000000000D0", &op));
	CHECK_EQ(op.size, 4 * 2 * (64 * 32 + 32 * 16 + 16 * 8)); /* 3 mips, 2 layers */
	wl_trace_free(t);
	CHECK(!wl_import_buffer("vma", "hello\n", 6, "x.csv", NULL, &t, &rep, &err));
	CHECK_MSG(strstr(err.message, "x.csv:1: not a VMA recording"), "%s", err.message);
	const char *v2 = "Vulkan Memory Allocator,Calls recording\n2,0\n";
	CHECK(!wl_import_buffer("vma", v2, strlen(v2), "x.csv", NULL, &t, &rep, &err));
	CHECK_MSG(strstr(err.message, "x.csv:2: unsupported VMA recording version"), "%s", err.message);
}

static void test_minimalloc_inline(void)
{
	const char *text = "id,lower,upper,size\n0,0,10,100\n1,10,20,200\n2,5,15,0\nx,1\n3,7,7,10\n4,0,20,50\n";
	wl_trace *t;
	wl_import_report rep;
	wl_error err;
	CHECK_MSG(wl_import_buffer("minimalloc", text, strlen(text), "dir/Q.4096.csv", NULL, &t, &rep, &err), "%s",
		  err.message);
	CHECK_EQ(rep.problems[WL_IMPORT_ZERO_SIZE], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_UNPARSEABLE], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_UNCONVERTIBLE], 1);
	CHECK_EQ(wl_trace_count(t), 6);
	CHECK(strcmp(wl_trace_header(t, "capacity"), "4096") == 0);
	/* at time 10 buffer 0's free comes before buffer 1's alloc */
	const char *order[] = {"alloc 0", "alloc 4", "free 0", "alloc 1", "free 1", "free 4"};
	for (size_t i = 0; i < 6 && i < wl_trace_count(t); i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		char got[32];
		snprintf(got, sizeof got, "%s %s", wl_op_kind_name(op.kind), wl_trace_name(t, op.id));
		CHECK_MSG(strcmp(got, order[i]) == 0, "operation %zu is '%s', want '%s'", i, got, order[i]);
	}
	wl_trace_free(t);
	CHECK(!wl_import_buffer("minimalloc", "a,b\n", 4, "m.csv", NULL, &t, &rep, &err));
	CHECK_MSG(strstr(err.message, "m.csv:1: not a MiniMalloc CSV"), "%s", err.message);
}

static void test_android_inline(void)
{
	const char *text = "10: malloc 0x1000 64\n"
			   "11: free 0x1000\n"          /* freed on another thread */
			   "10: calloc 0x2000 4 8\n"
			   "10: memalign 0x3000 4096 100\n"
			   "10: realloc 0x4000 0x2000 256\n"
			   "10: realloc 0x5000 0x0 16\n"
			   "10: free 0x0\n"
			   "12: free 0x9999\n"          /* the dump started mid-run */
			   "12: malloc 0x6000 0\n"
			   "12: free 0x6000\n"
			   "12: malloc 0x3000 8\n"      /* 0x3000 still live: freed first */
			   "12: frobnicate 0x1\n"
			   "10: thread_done 0x0\n";
	wl_trace *t;
	wl_import_report rep;
	wl_error err;
	CHECK_MSG(wl_import_buffer("android", text, strlen(text), "a.txt", NULL, &t, &rep, &err), "%s", err.message);
	uint64_t k[WL_OP_KIND_COUNT];
	count_kinds(t, k);
	CHECK_EQ(k[WL_OP_ALLOC], 6);
	CHECK_EQ(k[WL_OP_FREE], 3);
	CHECK_EQ(rep.problems[WL_IMPORT_UNKNOWN_FREE], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_ZERO_SIZE], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_LIVE_REALLOC], 1);
	CHECK_EQ(rep.problems[WL_IMPORT_UNPARSEABLE], 1);
	CHECK_EQ(rep.notes[0].line, 8);
	CHECK_EQ(rep.notes[3].line, 12);
	wl_op op;
	CHECK(find_op(t, WL_OP_ALLOC, "0x2000", &op));
	CHECK_EQ(op.size, 32);
	CHECK(find_op(t, WL_OP_ALLOC, "0x3000", &op));
	CHECK_EQ(op.alignment, 4096);
	CHECK(find_op(t, WL_OP_FREE, "0x1000", &op));
	CHECK(strcmp(wl_trace_stream_name(t, op.stream), "11") == 0);
	CHECK_EQ(op.ts_ns, 2);
	wl_trace_free(t);
	wl_import_options strict = {.strict = true};
	CHECK(!wl_import_buffer("android", text, strlen(text), "a.txt", &strict, &t, &rep, &err));
	CHECK_MSG(strstr(err.message, "a.txt:8: unknown-free"), "%s", err.message);
}

static void test_errors(void)
{
	wl_trace *t;
	wl_error err;
	CHECK(!wl_import_file("nosuch", FIXTURES "ftrace_iommu.txt", NULL, &t, NULL, &err));
	CHECK_MSG(strstr(err.message, "unknown import format 'nosuch'"), "%s", err.message);
	CHECK(!wl_import_file("pytorch", "x.pickle", NULL, &t, NULL, &err));
	CHECK_MSG(strstr(err.message, "pytorch_snapshot.py"), "%s", err.message);
	CHECK(!wl_import_file("android", "/nonexistent.zip", NULL, &t, NULL, &err));
	CHECK_MSG(strstr(err.message, "/nonexistent.zip"), "%s", err.message);
	CHECK(wl_import_count() == 4);
	for (size_t i = 0; i < wl_import_count(); i++)
		CHECK(wl_import_name(i) && wl_import_description(i) && wl_import_params(i));
}

int main(void)
{
	test_ftrace();
	test_vma_inline();
	test_minimalloc_inline();
	test_android_inline();
	test_errors();
	return check_exit_code();
}
