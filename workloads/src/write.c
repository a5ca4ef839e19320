/* SPDX-License-Identifier: MIT */
/* write.c - writing the text form, reading files, saving atomically. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

typedef struct outbuf {
	char buf[1 << 16];
	size_t n;
	FILE *f;
	bool failed;
} outbuf;

static void flush_out(outbuf *o)
{
	if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
		o->failed = true;
	o->n = 0;
}

static void put(outbuf *o, const char *s, size_t n)
{
	if (o->n + n > sizeof o->buf)
		flush_out(o);
	memcpy(o->buf + o->n, s, n);
	o->n += n;
}

static void puts_(outbuf *o, const char *s) { put(o, s, strlen(s)); }

static void put_u64(outbuf *o, uint64_t v)
{
	char tmp[24];
	int i = 24;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + i, (size_t)(24 - i));
}

static void put_hex(outbuf *o, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "0x%" PRIx64, v);
	put(o, tmp, (size_t)n);
}

static void put_kv_hex(outbuf *o, const char *key, uint64_t v)
{
	if (!v)
		return;
	puts_(o, key);
	put_hex(o, v);
}

bool wl_trace_write(const wl_trace *t, FILE *f, wl_error *err)
{
	outbuf *o = malloc(sizeof *o);
	if (!o)
		return wl_set_error(err, t->source, 0, "out of memory"), false;
	o->n = 0;
	o->f = f;
	o->failed = false;
	puts_(o, WL_TRACE_FORMAT_NAME " 1");
	for (size_t i = 0; i < t->nhdr; i++) {
		put(o, " ", 1);
		puts_(o, t->hkey[i]);
		put(o, "=", 1);
		puts_(o, t->hval[i]);
	}
	put(o, "\n", 1);
	static const char *const cache[] = {"nc", "cached", "wc"};
	for (size_t i = 0; i < t->nops; i++) {
		wl_op op;
		wl_trace_get(t, i, &op);
		put_u64(o, op.ts_ns);
		put(o, " ", 1);
		puts_(o, wl_trace_stream_name(t, op.stream));
		put(o, " ", 1);
		puts_(o, wl_op_kind_name(op.kind));
		if (op.id != WL_NO_ID) {
			put(o, " ", 1);
			puts_(o, wl_trace_name(t, op.id));
		}
		switch (op.kind) {
		case WL_OP_ALLOC:
			put(o, " ", 1);
			put_u64(o, op.size);
			put_kv_hex(o, " lowest=", op.lowest);
			put_kv_hex(o, " highest=", op.highest);
			put_kv_hex(o, " boundary=", op.boundary);
			put_kv_hex(o, " align=", op.alignment);
			if (op.cache != IOVA_CACHE_NON_CACHED) {
				puts_(o, " cache=");
				puts_(o, cache[op.cache]);
			}
			break;
		case WL_OP_MAP:
			put(o, " ", 1);
			put_u64(o, op.size);
			if (op.segments) {
				puts_(o, " segments=");
				put_u64(o, op.segments);
			}
			break;
		case WL_OP_TRANSFER:
			put(o, " ", 1);
			put_u64(o, op.offset);
			put(o, " ", 1);
			puts_(o, wl_trace_name(t, op.id2));
			put(o, " ", 1);
			put_u64(o, op.offset2);
			put(o, " ", 1);
			put_u64(o, op.size);
			break;
		case WL_OP_FILL:
			put(o, " ", 1);
			put_u64(o, op.offset);
			put(o, " ", 1);
			put_u64(o, op.size);
			put_kv_hex(o, " value=", op.value);
			break;
		default:
			break;
		}
		put(o, "\n", 1);
	}
	flush_out(o);
	bool ok = !o->failed && fflush(f) == 0 && !ferror(f);
	free(o);
	if (!ok)
		wl_set_error(err, t->source, 0, "write failed: %s", strerror(errno));
	return ok;
}

bool wl_trace_save(const wl_trace *t, const char *path, wl_error *err)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 16);
	if (!tmp)
		return wl_set_error(err, path, 0, "out of memory"), false;
	snprintf(tmp, n + 16, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		wl_set_error(err, path, 0, "cannot create a temporary file: %s", strerror(errno));
		free(tmp);
		return false;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		wl_set_error(err, path, 0, "fdopen: %s", strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return false;
	}
	bool ok = wl_trace_write(t, f, err);
	if (ok && fsync(fileno(f)) != 0) {
		wl_set_error(err, path, 0, "fsync: %s", strerror(errno));
		ok = false;
	}
	if (fclose(f) != 0 && ok) {
		wl_set_error(err, path, 0, "close: %s", strerror(errno));
		ok = false;
	}
	if (ok && rename(tmp, path) != 0) {
		wl_set_error(err, path, 0, "rename: %s", strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok;
}

/* Reads a whole file; the caller frees *@out. */
bool wl_read_file(const char *path, char **out, size_t *len, wl_error *err)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return wl_set_error(err, path, 0, "cannot open: %s", strerror(errno)), false;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return wl_set_error(err, path, 0, "not a regular file"), false;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return wl_set_error(err, path, 0, "out of memory"), false;
	}
	for (;;) {
		if (n + 1 >= cap) {
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				close(fd);
				return wl_set_error(err, path, 0, "out of memory"), false;
			}
			buf = b;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			wl_set_error(err, path, 0, "read: %s", strerror(errno));
			free(buf);
			close(fd);
			return false;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return true;
}

bool wl_trace_load(const char *path, wl_trace **out, wl_error *err)
{
	char *buf;
	size_t len;
	*out = NULL;
	if (!wl_read_file(path, &buf, &len, err))
		return false;
	wl_trace *t;
	bool ok = wl_trace_parse(buf, len, path, &t, err);
	free(buf);
	if (!ok)
		return false;
	if (!wl_trace_check(t, err)) {
		wl_trace_free(t);
		return false;
	}
	*out = t;
	return true;
}
