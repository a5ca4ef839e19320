/* SPDX-License-Identifier: MIT */
/* util.c - errors, strings, lists, number formatting, files (atomic). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iovabench.h"

void ib_fail(ib_error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

void ib_fail_at(ib_error *e, const char *where, const char *fmt, ...)
{
	char what[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (where && *where)
		snprintf(e->msg, sizeof e->msg, "%s: %s", where, what);
	else
		snprintf(e->msg, sizeof e->msg, "%s", what);
}

static void oom(void)
{
	fputs("iovabench: out of memory\n", stderr);
	abort();
}

char *ib_strdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		oom();
	return d;
}

void *ib_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *ib_realloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	size_t bytes = n * size;
	void *q = realloc(p, bytes ? bytes : 1);
	if (!q)
		oom();
	return q;
}

char *ib_trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

int ib_split_list(const char *text, char ***items)
{
	*items = NULL;
	int n = 0, depth = 0;
	char **v = NULL;
	const char *start = text;
	for (const char *p = text;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth < 0)
			goto bad;
		if ((*p == ',' && depth == 0) || *p == '\0') {
			size_t len = (size_t)(p - start);
			char *item = ib_calloc(len + 1, 1);
			memcpy(item, start, len);
			char *t = ib_trim(item);
			if (!*t) {
				free(item);
				goto bad;
			}
			memmove(item, t, strlen(t) + 1);
			v = ib_realloc(v, (size_t)n + 1, sizeof *v);
			v[n++] = item;
			start = p + 1;
			if (!*p)
				break;
		}
	}
	if (depth != 0)
		goto bad;
	*items = v;
	return n;
bad:
	ib_free_list(v, n);
	return -1;
}

void ib_free_list(char **items, int n)
{
	for (int i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

void ib_format_bytes(uint64_t v, char *buf, size_t n)
{
	static const char *const suffix[] = {"", "K", "M", "G", "T", "P", "E"};
	unsigned k = 0;
	double d = (double)v;
	while (d >= 1024 && k < 6) {
		d /= 1024;
		k++;
	}
	/* Truncated, not rounded: 63.99G is "63.9G", never "64G". */
	int digits = d < 10 ? 2 : d < 100 ? 1 : 0;
	double scale = digits == 2 ? 100 : digits == 1 ? 10 : 1;
	double t = floor(d * scale) / scale;
	if (k == 0)
		snprintf(buf, n, "%llu", (unsigned long long)v);
	else if (t == (double)(uint64_t)t)
		snprintf(buf, n, "%llu%s", (unsigned long long)t, suffix[k]);
	else
		snprintf(buf, n, "%.*f%s", digits, t, suffix[k]);
}

void ib_format_si(double v, char *buf, size_t n)
{
	if (v >= 1e9)
		snprintf(buf, n, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, n, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, n, "%.1fk", v / 1e3);
	else
		snprintf(buf, n, "%.1f", v);
}

void ib_format_ns(double ns, char *buf, size_t n)
{
	if (ns < 1e3)
		snprintf(buf, n, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, n, "%.2f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, n, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
}

void ib_slug(const char *in, char *out, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; in[i] && j + 1 < n; i++) {
		char c = in[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '_' || c == '+' || c == '-';
		char o = ok ? c : '-';
		if (o == '-' && j > 0 && out[j - 1] == '-')
			continue; /* no runs of dashes */
		out[j++] = o;
	}
	while (j > 0 && out[j - 1] == '-')
		j--;
	out[j] = '\0';
}

bool ib_read_file(const char *path, char **out, size_t *len, ib_error *e)
{
	*out = NULL;
	*len = 0;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		ib_fail(e, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = ib_calloc(cap, 1);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = ib_realloc(buf, cap, 1);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	bool err = ferror(f);
	if (f != stdin)
		fclose(f);
	if (err) {
		free(buf);
		ib_fail(e, "%s: read error", path);
		return false;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return true;
}

bool ib_mkdir_p(const char *path, ib_error *e)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
				ib_fail(e, "%s: cannot create the folder: %s", tmp, strerror(errno));
				return false;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	return true;
}

bool ib_file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

bool ib_afile_open(ib_afile *a, const char *path, ib_error *e)
{
	snprintf(a->path, sizeof a->path, "%s", path);
	snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
	a->f = fopen(a->tmp, "w");
	if (!a->f) {
		ib_fail(e, "%s: cannot write: %s", a->tmp, strerror(errno));
		return false;
	}
	return true;
}

bool ib_afile_commit(ib_afile *a, ib_error *e)
{
	/* No fsync: the rename makes the file appear whole to any reader on
	 * this machine; surviving a power cut is not what results need. */
	bool ok = fflush(a->f) == 0 && !ferror(a->f);
	ok = fclose(a->f) == 0 && ok;
	a->f = NULL;
	if (ok && rename(a->tmp, a->path) == 0)
		return true;
	ib_fail(e, "%s: write failed: %s", a->path, strerror(errno));
	unlink(a->tmp);
	return false;
}

void ib_afile_abort(ib_afile *a)
{
	if (a->f)
		fclose(a->f);
	a->f = NULL;
	unlink(a->tmp);
}

bool ib_write_atomic(const char *path, const char *data, size_t len, ib_error *e)
{
	ib_afile a;
	if (!ib_afile_open(&a, path, e))
		return false;
	if (fwrite(data, 1, len, a.f) != len) {
		ib_afile_abort(&a);
		ib_fail(e, "%s: write failed", path);
		return false;
	}
	return ib_afile_commit(&a, e);
}
