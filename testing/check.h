/* SPDX-License-Identifier: MIT */
/*
 * check.h - assertions for test executables.
 *
 * Unlike assert(), a failed CHECK does not stop the test: it prints where and
 * what, counts the failure, and the test's main() ends with
 * `return check_exit_code();`. Safe to call from any number of threads at
 * once (the counter is atomic, each report is one write to stderr).
 */
#ifndef IOVA_CHECK_H
#define IOVA_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

void check_failed(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int check_failure_count(void);
/** check_exit_code() - print a summary line; 0 if no CHECK failed, else 1. */
int check_exit_code(void);

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond))                                                         \
			check_failed(__FILE__, __LINE__, "CHECK(%s)", #cond);        \
	} while (0)

#define CHECK_MSG(cond, ...)                                                         \
	do {                                                                         \
		if (!(cond))                                                         \
			check_failed(__FILE__, __LINE__, __VA_ARGS__);               \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);         \
		if (check_a_ != check_b_)                                            \
			check_failed(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %" PRIu64   \
				     " (0x%" PRIx64 ") != %" PRIu64 " (0x%" PRIx64 ")",  \
				     #a, #b, check_a_, check_a_, check_b_, check_b_);   \
	} while (0)

/* For functions returning iova_status: prints both names on mismatch. */
#define CHECK_STATUS(expr, want)                                                     \
	do {                                                                         \
		iova_status check_got_ = (expr);                                     \
		if (check_got_ != (want))                                            \
			check_failed(__FILE__, __LINE__, "%s returned %s, want %s", #expr, \
				     iova_status_name(check_got_), iova_status_name(want)); \
	} while (0)

#endif
