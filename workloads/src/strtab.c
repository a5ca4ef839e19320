/* SPDX-License-Identifier: MIT */
/* strtab.c - interned names (buffer and fence ids, stream names). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static inline uint32_t hash_bytes(const char *s, size_t len)
{
	/* FNV-1a: names are short, and this is not the bottleneck. */
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

bool wl_token_ok(const char *s, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '#' || c == '=' || c == 0x7f)
			return false;
	}
	return true;
}

static bool grow_slots(wl_strtab *s)
{
	uint32_t n = s->nslot ? s->nslot * 2 : 64;
	uint32_t *slot = calloc(n, sizeof *slot);
	if (!slot)
		return false;
	for (uint32_t i = 0; i < s->count; i++) {
		uint32_t j = s->hash[i] & (n - 1);
		while (slot[j])
			j = (j + 1) & (n - 1);
		slot[j] = i + 1;
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = n;
	return true;
}

uint32_t wl_strtab_intern(wl_strtab *s, const char *str, size_t len)
{
	if (!wl_token_ok(str, len))
		return WL_NO_ID;
	uint32_t h = hash_bytes(str, len);
	if (s->nslot) {
		for (uint32_t j = h & (s->nslot - 1);; j = (j + 1) & (s->nslot - 1)) {
			uint32_t e = s->slot[j];
			if (!e)
				break;
			e--;
			if (s->hash[e] == h) {
				const char *name = s->pool + s->off[e];
				/* the pool holds name + NUL, so reading len + 1 bytes is safe */
				if (name[len] == '\0' && memcmp(name, str, len) == 0)
					return e;
			}
		}
	}
	if (s->count == UINT32_MAX - 1)
		return WL_NO_ID;
	if ((uint64_t)(s->count + 1) * 2 > s->nslot && !grow_slots(s))
		return WL_NO_ID;
	if (s->count == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		uint32_t *off = realloc(s->off, cap * sizeof *off);
		if (!off)
			return WL_NO_ID;
		s->off = off;
		uint32_t *hash = realloc(s->hash, cap * sizeof *hash);
		if (!hash)
			return WL_NO_ID;
		s->hash = hash;
		s->cap = cap;
	}
	if (s->pool_len + len + 1 > s->pool_cap) {
		size_t cap = s->pool_cap ? s->pool_cap * 2 : 4096;
		while (cap < s->pool_len + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return WL_NO_ID;
		char *pool = realloc(s->pool, cap);
		if (!pool)
			return WL_NO_ID;
		s->pool = pool;
		s->pool_cap = cap;
	}
	uint32_t e = s->count++;
	s->off[e] = (uint32_t)s->pool_len;
	s->hash[e] = h;
	memcpy(s->pool + s->pool_len, str, len);
	s->pool[s->pool_len + len] = '\0';
	s->pool_len += len + 1;
	uint32_t j = h & (s->nslot - 1);
	while (s->slot[j])
		j = (j + 1) & (s->nslot - 1);
	s->slot[j] = e + 1;
	return e;
}

const char *wl_strtab_get(const wl_strtab *s, uint32_t i) { return i < s->count ? s->pool + s->off[i] : NULL; }

void wl_strtab_free(wl_strtab *s)
{
	free(s->pool);
	free(s->off);
	free(s->hash);
	free(s->slot);
	memset(s, 0, sizeof *s);
}
