/* trace_check FILE - load (parse and check) an iovatrace file and print its
 * operation counts, "alloc=N free=N ...", one line; exit 1 with the error
 * otherwise. A helper for the script-driven tests. */
#include <stdio.h>

#include "wl_trace.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: trace_check FILE\n");
		return 2;
	}
	wl_trace *t;
	wl_error err;
	if (!wl_trace_load(argv[1], &t, &err)) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	unsigned long long n[WL_OP_KIND_COUNT] = {0};
	for (size_t i = 0; i < wl_trace_count(t); i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		n[op.kind]++;
	}
	printf("ops=%zu streams=%u", wl_trace_count(t), wl_trace_stream_count(t));
	for (unsigned k = 0; k < WL_OP_KIND_COUNT; k++)
		printf(" %s=%llu", wl_op_kind_name((wl_op_kind)k), n[k]);
	printf("\n");
	wl_trace_free(t);
	return 0;
}
