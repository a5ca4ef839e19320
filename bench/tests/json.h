/* SPDX-License-Identifier: MIT */
/*
 * json.h - a small strict JSON reader for the bench tests, which check the
 * reports Google Benchmark writes. A dependency-free DOM is enough for
 * files of a few hundred kilobytes.
 *
 * The one extension: NaN, Infinity and -Infinity are accepted as numbers,
 * because Google Benchmark writes them, and a test should say "ops is not
 * finite" rather than "syntax error".
 */
#ifndef IOVA_BENCH_TESTS_JSON_H
#define IOVA_BENCH_TESTS_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jkind;

typedef struct jvalue {
	jkind kind;
	double number;        /* J_NUMBER */
	char *string;         /* J_STRING, NUL-terminated */
	size_t count;         /* J_ARRAY, J_OBJECT */
	struct jvalue *items; /* elements, or the members' values */
	char **keys;          /* J_OBJECT: the members' names */
} jvalue;

/**
 * json_parse_file() - read @path and parse it into @out.
 * Return: true; or false with "PATH:LINE:COL: problem" (or "PATH: cannot
 * read") in @err, and nothing to free.
 */
bool json_parse_file(const char *path, jvalue *out, char *err, size_t err_size);

/** json_free() - release what json_parse_file() built (not @v itself). */
void json_free(jvalue *v);

/** json_member() - @obj's member @key, or NULL (also when @obj is not an object). */
const jvalue *json_member(const jvalue *obj, const char *key);

/** json_member_string() - @obj's member @key if it is a string, else NULL. */
const char *json_member_string(const jvalue *obj, const char *key);

#endif
