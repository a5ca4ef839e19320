/* SPDX-License-Identifier: MIT */
/*
 * pool.c - chunked fixed-size object pool (see pool.h).
 */
#include "pool.h"
#include "../prim/memory.h"

struct pool_chunk {
	struct pool_chunk *next;
	size_t bytes;
	max_align_t pad[]; /* objects follow, maximally aligned */
};

#define POOL_FIRST_CHUNK (64u << 10)
#define POOL_MAX_CHUNK (4u << 20)

void iova_pool_init(struct iova_pool *p, size_t obj_size)
{
	const size_t a = _Alignof(max_align_t) < 16 ? _Alignof(max_align_t) : 16;
	if (obj_size < sizeof(void *))
		obj_size = sizeof(void *);
	p->obj_size = (obj_size + a - 1) & ~(a - 1);
	p->free_list = NULL;
	p->chunks = NULL;
	p->bump = p->bump_end = NULL;
	p->next_chunk = POOL_FIRST_CHUNK;
	p->reserved_bytes = 0;
	p->live = 0;
}

void *iova_pool_get(struct iova_pool *p)
{
	void *o = p->free_list;
	if (o) {
		p->free_list = *(void **)o;
	} else {
		if ((size_t)(p->bump_end - p->bump) < p->obj_size) {
			size_t bytes = p->next_chunk;
			while (bytes - sizeof(struct pool_chunk) < p->obj_size)
				bytes *= 2;
			struct pool_chunk *c = iova_reserve(bytes);
			if (!c)
				return NULL;
			c->next = p->chunks;
			c->bytes = bytes;
			p->chunks = c;
			p->reserved_bytes += bytes;
			p->bump = (char *)(c + 1);
			p->bump_end = (char *)c + bytes;
			if (p->next_chunk < POOL_MAX_CHUNK)
				p->next_chunk *= 2;
		}
		o = p->bump;
		p->bump += p->obj_size;
	}
	p->live++;
	return o;
}

void iova_pool_put(struct iova_pool *p, void *obj)
{
	*(void **)obj = p->free_list;
	p->free_list = obj;
	p->live--;
}

void iova_pool_release(struct iova_pool *p)
{
	for (struct pool_chunk *c = p->chunks, *n; c; c = n) {
		n = c->next;
		iova_release(c, c->bytes);
	}
	iova_pool_init(p, p->obj_size);
}

uint64_t iova_pool_resident(const struct iova_pool *p)
{
	uint64_t r = 0;
	for (const struct pool_chunk *c = p->chunks; c; c = c->next)
		r += iova_resident_bytes(c, c->bytes);
	return r;
}
