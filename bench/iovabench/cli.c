/* SPDX-License-Identifier: MIT */
/*
 * cli.c - the command line: --name=value or --name value for every job-file
 * option, a few flags of the subcommands, and positional arguments. An
 * unknown flag or a bad value is an error naming it.
 */
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

static bool take_value(int argc, char **argv, int *i, const char *flag, const char *inline_value, char **out,
		       ib_error *e)
{
	if (inline_value) {
		*out = ib_strdup(inline_value);
		return true;
	}
	if (*i + 1 >= argc) {
		ib_fail(e, "%s needs a value (%s=VALUE)", flag, flag);
		return false;
	}
	*out = ib_strdup(argv[++*i]);
	return true;
}

bool ib_cli_parse(int argc, char **argv, unsigned allow, ib_cli *c, ib_error *e)
{
	memset(c, 0, sizeof *c);
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
			c->pos = ib_realloc(c->pos, (size_t)c->npos + 1, sizeof *c->pos);
			c->pos[c->npos++] = ib_strdup(a);
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options_done = true;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			c->help = true;
			continue;
		}
		if ((allow & CLI_OUT) && strcmp(a, "-o") == 0) {
			free(c->out);
			if (!take_value(argc, argv, &i, "-o", NULL, &c->out, e))
				goto fail;
			continue;
		}
		if (a[1] != '-') {
			ib_fail(e, "unknown option '%s'", a);
			goto fail;
		}
		/* --name[=value] */
		char name[128];
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
		if (len >= sizeof name) {
			ib_fail(e, "unknown option '%.60s...'", a);
			goto fail;
		}
		memcpy(name, a + 2, len);
		name[len] = '\0';
		const char *iv = eq ? eq + 1 : NULL;
		char flag[140];
		snprintf(flag, sizeof flag, "--%s", name);
		if ((allow & CLI_OUT) && strcmp(name, "out") == 0) {
			free(c->out);
			if (!take_value(argc, argv, &i, flag, iv, &c->out, e))
				goto fail;
			continue;
		}
		if ((allow & CLI_STRICT) && strcmp(name, "strict") == 0 && !iv) {
			c->strict = true;
			continue;
		}
		if ((allow & CLI_THRESHOLD) && strcmp(name, "threshold") == 0) {
			char *v;
			if (!take_value(argc, argv, &i, flag, iv, &v, e))
				goto fail;
			char *end;
			double t = strtod(v, &end);
			bool ok = end != v && !*end && t >= 0 && t < 1;
			if (!ok)
				ib_fail(e, "--threshold: '%s' is not a fraction in [0, 1) (e.g. 0.05 for 5%%)", v);
			free(v);
			if (!ok)
				goto fail;
			c->threshold = t;
			c->threshold_set = true;
			continue;
		}
		if ((allow & CLI_JOB) && strcmp(name, "dry-run") == 0 && !iv) {
			c->dry_run = true;
			continue;
		}
		if ((allow & CLI_JOB) && strcmp(name, "job") == 0) {
			free(c->job_filter);
			if (!take_value(argc, argv, &i, flag, iv, &c->job_filter, e))
				goto fail;
			continue;
		}
		int o = (allow & CLI_JOB) ? ib_option_find(name) : -1;
		if (o < 0) {
			const char *s = (allow & CLI_JOB) ? ib_option_suggest(name) : NULL;
			if (s)
				ib_fail(e, "unknown option '%s'; did you mean '--%s'?", flag, s);
			else
				ib_fail(e, "unknown option '%s'", flag);
			goto fail;
		}
		char *v;
		if (!take_value(argc, argv, &i, flag, iv, &v, e))
			goto fail;
		bool ok = ib_option_check((size_t)o, v, flag, e);
		if (ok) {
			if (c->opts.value[o])
				ib_fail(e, "%s is given twice", flag), ok = false;
			else
				ib_optset_set(&c->opts, (size_t)o, v, flag);
		}
		free(v);
		if (!ok)
			goto fail;
	}
	return true;
fail:
	ib_cli_free(c);
	return false;
}

void ib_cli_free(ib_cli *c)
{
	ib_optset_free(&c->opts);
	ib_free_list(c->pos, c->npos);
	free(c->job_filter);
	free(c->out);
	memset(c, 0, sizeof *c);
}
