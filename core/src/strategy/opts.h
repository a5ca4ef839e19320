/* SPDX-License-Identifier: MIT */
/*
 * opts.h - parsing a strategy's "key=value,key=value" options string.
 *
 * Each strategy describes its keys in a table; the parser fills a struct the
 * strategy owns, rejects unknown or repeated keys and out-of-range values,
 * and writes one sentence naming the offending key, the bad value and what
 * is accepted. Values: decimal or 0x-prefixed hexadecimal integers; booleans
 * as 0/1, true/false, yes/no, on/off; choices by name. Spaces around keys
 * and values are ignored.
 */
#ifndef IOVA_STRATEGY_OPTS_H
#define IOVA_STRATEGY_OPTS_H

#include "../internal.h"

#include <stddef.h>

enum iova_opt_type {
	IOVA_OPT_U64,    /* uint64_t in [min, max] */
	IOVA_OPT_BOOL,   /* bool */
	IOVA_OPT_CHOICE, /* unsigned: index into choices */
};

struct iova_opt {
	const char *key;
	enum iova_opt_type type;
	size_t offset;              /* of the field in the caller's struct */
	uint64_t min, max;          /* IOVA_OPT_U64 */
	const char *const *choices; /* IOVA_OPT_CHOICE: NULL-terminated */
};

#define IOVA_OPT_U64_FIELD(k, type_, field, lo, hi) {k, IOVA_OPT_U64, offsetof(type_, field), lo, hi, NULL}
#define IOVA_OPT_BOOL_FIELD(k, type_, field) {k, IOVA_OPT_BOOL, offsetof(type_, field), 0, 1, NULL}
#define IOVA_OPT_CHOICE_FIELD(k, type_, field, ch) {k, IOVA_OPT_CHOICE, offsetof(type_, field), 0, 0, ch}

/**
 * iova_opts_parse() - parse @options into @out following @spec.
 * @who:     strategy name, used in messages.
 * @options: NULL or "" (nothing to do), or "key=value,...".
 * @out:     the struct the offsets in @spec refer to; fields not named in
 *           @options keep the values the caller put there (the defaults).
 * @rest:    NULL: unknown keys are errors. Otherwise unknown "key=value"
 *           pairs are copied, comma-separated, into *@rest (malloc'd, the
 *           caller frees it; NULL when there were none) for another layer.
 * @msg:     receives the error sentence; may be NULL.
 *
 * Return: IOVA_OK, IOVA_ERR_INVALID_ARGUMENT (see @msg) or IOVA_ERR_NO_MEMORY.
 */
iova_status iova_opts_parse(const char *who, const char *options, const struct iova_opt *spec, size_t n_spec,
			    void *out, char **rest, char *msg, size_t msg_size);

/** iova_opts_message() - write a printf-style sentence into @msg (if any). */
void iova_opts_message(char *msg, size_t msg_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
