/* SPDX-License-Identifier: MIT */
/*
 * fuzz_import.c - libFuzzer target for the text importers. The first byte
 * picks the format; whatever an importer accepts must be a valid trace.
 */
#include <stdint.h>
#include <stdlib.h>

#include "wl_import.h"
#include "wl_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char *const formats[] = {"ftrace", "vma", "minimalloc", "android"};
	const char *format = formats[data[0] % 4];
	wl_import_options o = {.strict = (data[0] & 4) != 0};
	wl_trace *t;
	wl_import_report rep;
	wl_error err;
	if (!wl_import_buffer(format, (const char *)data + 1, size - 1, "fuzz", &o, &t, &rep, &err))
		return 0;
	if (!wl_trace_check(t, &err) || rep.ops != wl_trace_count(t))
		abort();
	wl_trace_free(t);
	return 0;
}
