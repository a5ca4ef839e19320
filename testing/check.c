/* SPDX-License-Identifier: MIT */
#include "check.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic int failures;

void check_failed(const char *file, int line, const char *fmt, ...)
{
	int n = atomic_fetch_add(&failures, 1);
	if (n >= 50)
		return; /* the first fifty tell the story */
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, msg);
}

int check_failure_count(void) { return atomic_load(&failures); }

int check_exit_code(void)
{
	int n = atomic_load(&failures);
	if (n)
		fprintf(stderr, "%d check(s) failed\n", n);
	return n ? 1 : 0;
}
