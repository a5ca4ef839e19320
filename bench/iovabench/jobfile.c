/* SPDX-License-Identifier: MIT */
/*
 * jobfile.c - job files: INI as fio writes them, parsed by inih.
 *
 *   [global]              ; options for every job, and the run's own options
 *   strategy = buddy-lf, buddy-lf+cache
 *   threads = 1, all
 *
 *   [gpu]                 ; one job section (a matrix of jobs)
 *   workload = gpu-frame(frames=60)
 *
 * Comments are lines starting with ';' or '#', and ';' after a blank inside
 * a line (inih's rules). A line indented under "name = value" continues that
 * value (long lists). Errors name the file and line: unknown options (with a
 * suggestion), a run option outside [global], an option set twice in one
 * section, a section defined twice, lines longer than inih takes.
 *
 * inih tells the handler no line numbers (the Debian build), so the file is
 * fed to it through a reader that counts lines: the handler reads the
 * current line from it.
 */
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "iovabench.h"

typedef struct reader {
	const char *pos, *end;
	unsigned line;       /* of the line last handed to inih */
	bool indented;       /* that line starts with a blank: a continuation */
	unsigned long_line;  /* first line inih could not take whole */
	int max;
} reader;

static char *read_line(char *str, int num, void *stream)
{
	reader *r = stream;
	if (r->pos >= r->end)
		return NULL;
	const char *nl = memchr(r->pos, '\n', (size_t)(r->end - r->pos));
	const char *stop = nl ? nl + 1 : r->end;
	size_t len = (size_t)(stop - r->pos);
	r->line++;
	r->indented = *r->pos == ' ' || *r->pos == '\t';
	r->max = num;
	if (len > (size_t)num - 1) {
		if (!r->long_line)
			r->long_line = r->line;
		len = (size_t)num - 1;
	}
	memcpy(str, r->pos, len);
	str[len] = '\0';
	r->pos = stop;
	return str;
}

typedef struct ctx {
	ib_jobfile *jf;
	reader *rd;
	unsigned err_line;
	ib_error err;
	ib_optset *last_set;
	int last_opt;
	unsigned last_line;
} ctx;

static void error_at(ctx *c, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error_at(ctx *c, unsigned line, const char *fmt, ...)
{
	if (c->err_line && c->err_line <= line)
		return;
	char what[800];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	c->err_line = line;
	ib_fail(&c->err, "%s:%u: %s", c->jf->path, line, what);
}

static ib_optset *section_opts(ib_jobfile *jf, const char *name)
{
	if (strcmp(name, "global") == 0)
		return &jf->global;
	for (size_t i = 0; i < jf->nsections; i++)
		if (strcmp(jf->sections[i].name, name) == 0)
			return &jf->sections[i].opts;
	return NULL;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	ctx *c = user;
	unsigned line = c->rd->line;
	ib_optset *set = *section ? section_opts(c->jf, section) : NULL;
	if (!set) {
		error_at(c, line, "option '%s' before any section: put it under [global] or under a job's [name]", name);
		return 0;
	}
	int i = ib_option_find(name);
	/* An indented line right after an option continues its value. */
	if (c->rd->indented && set == c->last_set && i == c->last_opt && i >= 0 && line == c->last_line + 1) {
		size_t n = strlen(set->value[i]) + strlen(value) + 2;
		char *joined = ib_calloc(n, 1);
		snprintf(joined, n, "%s %s", set->value[i], value);
		free(set->value[i]);
		set->value[i] = joined;
		c->last_line = line;
		return 1;
	}
	c->last_set = set;
	c->last_opt = i;
	c->last_line = line;
	if (i < 0) {
		const char *s = ib_option_suggest(name);
		error_at(c, line, "unknown option '%s' in [%s]%s%s%s (iovabench run --help lists them)", name, section,
			 s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
		return 0;
	}
	const ib_option *o = ib_option_at((size_t)i);
	if ((o->flags & OPT_RUN) && set != &c->jf->global) {
		error_at(c, line, "option '%s' is about the whole run: put it under [global], not [%s]", name, section);
		return 0;
	}
	if (set->value[i]) {
		error_at(c, line, "option '%s' is set twice in [%s] (first at %s)", name, section, set->where[i]);
		return 0;
	}
	char where[1100];
	snprintf(where, sizeof where, "%s:%u", c->jf->path, line);
	ib_optset_set(set, (size_t)i, value, where);
	return 1;
}

/* Section headers, found before inih runs: inih does not report a section
 * without options, and a job section may have none. */
static bool scan_sections(ctx *c, const char *text)
{
	unsigned line = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		char buf[256];
		size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
		memcpy(buf, p, n);
		buf[n] = '\0';
		char *s = ib_trim(buf);
		if (line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
			s += 3;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (close) {
				*close = '\0';
				char *name = ib_trim(s + 1);
				if (!*name) {
					error_at(c, line, "empty section name");
				} else if (strlen(name) >= sizeof c->jf->sections[0].name) {
					error_at(c, line, "section name '%.40s...' is too long (at most 63 characters)", name);
				} else if (strcmp(name, "global") != 0) {
					char why[128];
					bool dup = section_opts(c->jf, name) != NULL;
					if (dup) {
						unsigned first = 0;
						for (size_t i = 0; i < c->jf->nsections; i++)
							if (strcmp(c->jf->sections[i].name, name) == 0)
								first = c->jf->sections[i].line;
						error_at(c, line, "section [%s] is defined twice (first at line %u)", name, first);
					} else {
						char *q = name;
						bool ok = true;
						for (; *q && ok; q++)
							ok = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
							     (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' || *q == '.' || *q == '+';
						if (!ok) {
							snprintf(why, sizeof why, "section name [%s]: only letters, digits, - _ . + are allowed",
								 name);
							error_at(c, line, "%s", why);
						}
						ib_jobfile *jf = c->jf;
						jf->sections = ib_realloc(jf->sections, jf->nsections + 1, sizeof *jf->sections);
						ib_section *sec = &jf->sections[jf->nsections++];
						memset(sec, 0, sizeof *sec);
						snprintf(sec->name, sizeof sec->name, "%s", name);
						sec->line = line;
					}
				}
			}
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return true;
}

bool ib_jobfile_parse(const char *path, const char *text, ib_jobfile *jf, ib_error *e)
{
	memset(jf, 0, sizeof *jf);
	snprintf(jf->path, sizeof jf->path, "%s", path);
	jf->text = ib_strdup(text);
	ctx c = {.jf = jf, .last_opt = -1};
	reader rd = {.pos = text, .end = text + strlen(text)};
	c.rd = &rd;
	scan_sections(&c, text);
	int rc = ini_parse_stream(read_line, &rd, handler, &c);
	if (rd.long_line)
		error_at(&c, rd.long_line, "line longer than %d characters: split the value over indented lines",
			 rd.max - 2);
	if (rc > 0 && (!c.err_line || (unsigned)rc < c.err_line))
		error_at(&c, (unsigned)rc, "expected '[section]' or 'name = value'");
	/* Values, now that continuations are joined. */
	for (size_t s = 0; s <= jf->nsections && !c.err_line; s++) {
		ib_optset *set = s == 0 ? &jf->global : &jf->sections[s - 1].opts;
		for (size_t i = 0; i < ib_option_count() && !c.err_line; i++)
			if (set->value[i] && !ib_option_check(i, set->value[i], set->where[i], &c.err))
				c.err_line = 1;
	}
	if (c.err_line) {
		*e = c.err;
		ib_jobfile_free(jf);
		return false;
	}
	return true;
}

bool ib_jobfile_load(const char *path, ib_jobfile *jf, ib_error *e)
{
	char *text;
	size_t len;
	memset(jf, 0, sizeof *jf);
	if (!ib_read_file(path, &text, &len, e))
		return false;
	if (memchr(text, '\0', len)) {
		free(text);
		ib_fail(e, "%s: not a job file (it contains NUL bytes)", path);
		return false;
	}
	bool ok = ib_jobfile_parse(path, text, jf, e);
	free(text);
	return ok;
}

void ib_jobfile_free(ib_jobfile *jf)
{
	ib_optset_free(&jf->global);
	for (size_t i = 0; i < jf->nsections; i++)
		ib_optset_free(&jf->sections[i].opts);
	free(jf->sections);
	free(jf->text);
	jf->sections = NULL;
	jf->nsections = 0;
	jf->text = NULL;
}
