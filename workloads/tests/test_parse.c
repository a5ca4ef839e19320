/* Text format: every operation parsed and written back; every kind of
 * malformed input rejected with its line; name and lifetime checks. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "wl_trace.h"

static const char sample[] =
	"# a comment before the header\n"
	"\n"
	"iovatrace 1 source=hand-written future_key=whatever\n"
	"0 0 alloc a 4096\n"
	"10 0 alloc b 2M lowest=0x800000 highest=0xffffffff boundary=0x400000 align=64K cache=wc  # trailing\n"
	"20 gfx map pl 0x3000 segments=3\r\n"
	"\t30\tgfx\ttransfer a 0 b 4096 4096\n"
	"40 0 fill b 8 16 value=0xff\n"
	"50 1 flush\n"
	"60 1 flush a\n"
	"70 1 evict b\n"
	"80 1 resident b\n"
	"90 0 signal f1\n"
	"95 1 wait f1\n"
	"100 1 free a\n"
	"110 gfx unmap pl\n"
	"120 0 free b\n"
	"130 0 alloc a 1K cache=cached\n";

static wl_trace *parse_ok(const char *text)
{
	wl_trace *t = NULL;
	wl_error err;
	if (!wl_trace_parse(text, strlen(text), "t.trace", &t, &err))
		check_failed(__FILE__, __LINE__, "parse failed: %s", err.message);
	return t;
}

/* Parse must fail (or check, if @check) with @line and a message containing @want. */
static void expect_error(const char *text, bool check, uint32_t line, const char *want, int at)
{
	wl_trace *t = NULL;
	wl_error err = {{0}, 0};
	bool ok = wl_trace_parse(text, strlen(text), "bad.trace", &t, &err);
	if (check) {
		if (!ok) {
			check_failed(__FILE__, at, "unexpected parse error: %s", err.message);
			return;
		}
		ok = wl_trace_check(t, &err);
		wl_trace_free(t);
	} else {
		CHECK_MSG(t == NULL || ok, "a failed parse returned a trace");
		wl_trace_free(t);
	}
	if (ok) {
		check_failed(__FILE__, at, "accepted, want error '%s'", want);
		return;
	}
	if (err.line != line || !strstr(err.message, want))
		check_failed(__FILE__, at, "error '%s' (line %u), want line %u and '%s'", err.message, err.line, line, want);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "bad.trace:%u: ", line);
	if (line && strncmp(err.message, prefix, strlen(prefix)) != 0)
		check_failed(__FILE__, at, "error '%s' does not start with '%s'", err.message, prefix);
}
#define BAD(text, line, want) expect_error("iovatrace 1\n" text, false, line, want, __LINE__)
#define BAD_CHECK(text, line, want) expect_error("iovatrace 1\n" text, true, line, want, __LINE__)

static void kind_names(void)
{
	for (int k = 0; k < WL_OP_KIND_COUNT; k++) {
		const char *n = wl_op_kind_name((wl_op_kind)k);
		CHECK_MSG(wl_op_kind_from_name(n, strlen(n)) == (wl_op_kind)k, "kind name '%s' does not map back", n);
	}
	const char *no[] = {"", "a", "al", "allo", "allocx", "evic", "signa", "transfe", "residents", "Alloc", "frees"};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		CHECK_MSG(wl_op_kind_from_name(no[i], strlen(no[i])) == WL_OP_KIND_COUNT, "'%s' taken for a kind", no[i]);
	CHECK(strcmp(wl_op_kind_name(WL_OP_KIND_COUNT), "?") == 0);
}

int main(void)
{
	kind_names();
	wl_trace *t = parse_ok(sample);
	CHECK(t != NULL);
	if (!t)
		return check_exit_code();
	wl_error err;
	CHECK_MSG(wl_trace_check(t, &err), "%s", err.message);
	CHECK_EQ(wl_trace_count(t), 15);
	CHECK(strcmp(wl_trace_header(t, "source"), "hand-written") == 0);
	CHECK(strcmp(wl_trace_header(t, "future_key"), "whatever") == 0);
	CHECK_EQ(wl_trace_stream_count(t), 3);

	wl_op op;
	wl_trace_get(t, 1, &op);
	CHECK_EQ(op.kind, WL_OP_ALLOC);
	CHECK(strcmp(wl_trace_name(t, op.id), "b") == 0);
	CHECK_EQ(op.size, 2 << 20);
	CHECK_EQ(op.lowest, 0x800000);
	CHECK_EQ(op.highest, 0xffffffffu);
	CHECK_EQ(op.boundary, 0x400000);
	CHECK_EQ(op.alignment, 65536);
	CHECK_EQ(op.cache, IOVA_CACHE_WRITE_COMBINED);
	CHECK_EQ(op.line, 5);
	CHECK_EQ(op.ts_ns, 10);
	wl_trace_get(t, 2, &op);
	CHECK_EQ(op.kind, WL_OP_MAP);
	CHECK_EQ(op.size, 0x3000);
	CHECK_EQ(op.segments, 3);
	CHECK(strcmp(wl_trace_stream_name(t, op.stream), "gfx") == 0);
	wl_trace_get(t, 3, &op);
	CHECK_EQ(op.kind, WL_OP_TRANSFER);
	CHECK(strcmp(wl_trace_name(t, op.id), "a") == 0 && strcmp(wl_trace_name(t, op.id2), "b") == 0);
	CHECK_EQ(op.offset, 0);
	CHECK_EQ(op.offset2, 4096);
	CHECK_EQ(op.size, 4096);
	wl_trace_get(t, 4, &op);
	CHECK_EQ(op.kind, WL_OP_FILL);
	CHECK_EQ(op.offset, 8);
	CHECK_EQ(op.size, 16);
	CHECK_EQ(op.value, 0xff);
	wl_trace_get(t, 5, &op);
	CHECK_EQ(op.kind, WL_OP_FLUSH);
	CHECK_EQ(op.id, WL_NO_ID);
	wl_trace_get(t, 14, &op);
	CHECK_EQ(op.cache, IOVA_CACHE_CACHED);
	CHECK_EQ(op.size, 1024);

	/* Write, parse again: the same operations, the same header. */
	char path[] = "/tmp/wl_test_parse_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_MSG(wl_trace_save(t, path, &err), "%s", err.message);
	wl_trace *u = NULL;
	CHECK_MSG(wl_trace_load(path, &u, &err), "%s", err.message);
	char why[256];
	CHECK_MSG(u && wl_trace_equal(t, u, why, sizeof why), "round trip: %s", why);
	CHECK(u && strcmp(wl_trace_header(u, "future_key"), "whatever") == 0);
	wl_trace_free(u);
	unlink(path);

	/* Saving into a folder that does not exist fails and leaves nothing. */
	CHECK(!wl_trace_save(t, "/nonexistent-dir/x.trace", &err));
	CHECK(strstr(err.message, "/nonexistent-dir/x.trace") != NULL);
	CHECK(!wl_trace_load("/nonexistent-dir/x.trace", &u, &err));
	CHECK(strstr(err.message, "cannot open") != NULL);
	wl_trace_free(t);

	/* Syntax errors. */
	expect_error("", false, 0, "no 'iovatrace 1' header", __LINE__);
	expect_error("# only a comment\n\n", false, 0, "no 'iovatrace 1' header", __LINE__);
	expect_error("tracefile 1\n", false, 1, "not a trace", __LINE__);
	expect_error("\niovatrace 2\n0 0 alloc a 1\n", false, 2, "unsupported trace version 2", __LINE__);
	expect_error("iovatrace\n", false, 1, "expected a version number", __LINE__);
	expect_error("iovatrace 1 novalue\n", false, 1, "expected key=value", __LINE__);
	BAD("0 0 alloc a 4096\n5 0 frobnicate a\n", 3, "unknown operation 'frobnicate'");
	BAD("0 0 alloc a 12x\n", 2, "not a number");
	BAD("0 0 alloc a 99999999999999999999\n", 2, "not a number");
	BAD("0 0 alloc a 0x\n", 2, "not a number");
	BAD("0 0 alloc a 17179869184T\n", 2, "not a number");
	BAD("zero 0 alloc a 4096\n", 2, "timestamp");
	BAD("0 0 alloc a\n", 2, "alloc: expected 2 or more arguments, got 1");
	BAD("0 0 alloc a 4096\n0 0 free a b\n", 3, "free: expected 1 argument, got 2");
	BAD("0 0 transfer a 0 b 0\n", 2, "transfer: expected 5 arguments");
	BAD("0 0 alloc a 4096 colour=red\n", 2, "unknown argument 'colour'");
	BAD("0 0 alloc a 4096 4096\n", 2, "unexpected argument '4096'");
	BAD("0 0 alloc a 4096 align=4K align=8K\n", 2, "given twice");
	BAD("0 0 alloc a 4096 cache=mauve\n", 2, "cache must be");
	BAD("0 0 map m 4096 segments=0x100000000\n", 2, "above 2^32-1");
	BAD("0 0 map m 4096 align=4K\n", 2, "unknown argument 'align'");
	BAD("0 0 alloc a 0\n", 2, "size is zero");
	BAD("0 0 alloc a 4096\n0 0 fill a 0 0\n", 3, "byte count is zero");
	BAD("10 0 alloc a 4096\n5 0 free a\n", 3, "before the previous one of stream 0");
	BAD("0 0 alloc a=b 4096\n", 2, "bad id");
	BAD("0 0 alloc a 4096 1 2 3 4 5 6 7 8 9 10 11 12 13 14\n", 2, "too many fields");
	BAD("0 0 alloc a\x01 4096\n", 2, "bad id");
	BAD("0 0 flush a b\n", 2, "flush: expected");
	/* A later stream may start earlier: order is per stream. */
	t = parse_ok("iovatrace 1\n10 0 alloc a 4096\n5 1 free a\n");
	wl_trace_free(t);

	/* Names and lifetimes (wl_trace_check). */
	BAD_CHECK("0 0 free a\n", 2, "free of unknown id 'a'");
	BAD_CHECK("0 0 alloc a 4096\n1 0 free a\n2 1 free a\n", 4, "free of 'a', already released at line 3");
	BAD_CHECK("0 0 alloc a 4096\n1 0 alloc a 4096\n", 3, "alloc of 'a', which is still live (allocated at line 2)");
	BAD_CHECK("0 0 alloc a 4096\n1 0 unmap a\n", 3, "use free");
	BAD_CHECK("0 0 map a 4096\n1 0 free a\n", 3, "use unmap");
	BAD_CHECK("0 0 alloc a 4096\n0 0 alloc b 4096\n1 0 transfer a 1 b 0 4096\n", 4, "runs past the end of 'a'");
	BAD_CHECK("0 0 alloc a 4096\n0 0 alloc b 4096\n1 0 transfer a 0 b 0xffffffffffffffff 1\n", 4,
		  "runs past the end of 'b'");
	BAD_CHECK("0 0 alloc a 4096\n1 0 fill a 4000 100\n", 3, "runs past the end");
	BAD_CHECK("0 0 alloc a 4096\n1 0 evict a\n2 0 evict a\n", 4, "already evicted");
	BAD_CHECK("0 0 alloc a 4096\n1 0 resident a\n", 3, "not evicted");
	BAD_CHECK("0 0 wait f\n", 2, "no earlier line signals");
	BAD_CHECK("0 1 wait f\n1 0 signal f\n", 2, "no earlier line signals");
	BAD_CHECK("0 0 alloc a 4096\n1 0 signal a\n", 3, "signal of 'a', which is a live buffer");
	BAD_CHECK("0 0 signal a\n1 0 alloc a 4096\n", 3, "which is a fence");
	BAD_CHECK("0 0 signal a\n1 0 free a\n", 3, "which is a fence");
	BAD_CHECK("0 0 alloc a 4096\n0 0 wait a\n", 3, "no earlier line signals");
	BAD_CHECK("0 0 flush a\n", 2, "flush of unknown id 'a'");
	/* Legal: reuse after free, frees on another stream, re-signal, leaks. */
	t = parse_ok("iovatrace 1\n0 0 alloc a 4096\n1 1 free a\n2 0 alloc a 8192\n3 0 signal f\n4 1 wait f\n"
		     "5 0 signal f\n6 1 wait f\n7 1 alloc leak 4096\n");
	CHECK(t && wl_trace_check(t, &err));
	wl_trace_free(t);

	/* In-memory traces report operation numbers instead of lines. */
	t = wl_trace_new("mem");
	wl_op o = {.kind = WL_OP_FREE, .id = wl_trace_intern(t, "x", 1), .stream = wl_trace_stream(t, "0", 1)};
	CHECK(wl_trace_append(t, &o, &err));
	CHECK(!wl_trace_check(t, &err));
	CHECK_MSG(strstr(err.message, "mem: operation 1: free of unknown id 'x'") != NULL, "%s", err.message);
	o.stream = 7;
	CHECK(!wl_trace_append(t, &o, &err));
	o.stream = 0;
	o.kind = WL_OP_KIND_COUNT;
	CHECK(!wl_trace_append(t, &o, &err));
	CHECK_EQ(wl_trace_intern(t, "has space", 9), WL_NO_ID);
	CHECK_EQ(wl_trace_intern(t, "", 0), WL_NO_ID);
	CHECK(!wl_trace_set_header(t, "k=", "v"));
	wl_trace_free(t);
	return check_exit_code();
}
