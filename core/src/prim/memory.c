/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "memory.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static size_t page_size(void)
{
	static size_t cached;
	if (!cached)
		cached = (size_t)sysconf(_SC_PAGESIZE);
	return cached;
}

void *iova_reserve(size_t bytes)
{
	if (!bytes)
		bytes = 1;
	/* MAP_NORESERVE: the reservation may be far larger than what is ever touched. */
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void iova_release(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes ? bytes : 1);
}

/* The start of the allocation or reservation that coloured @p: its colour
 * is below IOVA_COLOUR_PAGE, so the caller need not say it again. */
static char *colour_base(void *p) { return (char *)((uintptr_t)p & ~(uintptr_t)(IOVA_COLOUR_PAGE - 1)); }

size_t iova_coloured_bytes(size_t bytes, size_t colour)
{
	return (colour + bytes + IOVA_COLOUR_PAGE - 1) & ~(size_t)(IOVA_COLOUR_PAGE - 1);
}

void *iova_alloc_coloured(size_t bytes, size_t colour)
{
	const size_t total = iova_coloured_bytes(bytes, colour);
	char *base = aligned_alloc(IOVA_COLOUR_PAGE, total);
	if (!base)
		return NULL;
	memset(base, 0, total);
	return base + colour;
}

void iova_free_coloured(void *p)
{
	if (p)
		free(colour_base(p));
}

void *iova_reserve_coloured(size_t bytes, size_t colour)
{
	char *base = iova_reserve(colour + bytes);
	return base ? base + colour : NULL;
}

void iova_release_coloured(void *p, size_t bytes)
{
	if (p)
		iova_release(colour_base(p), (size_t)((char *)p - colour_base(p)) + bytes);
}

uint64_t iova_resident_bytes(const void *p, size_t bytes)
{
	if (!p || !bytes)
		return 0;
	size_t ps = page_size();
	/* Every page [p, p+bytes) touches; p need not start one (colours). */
	const size_t lead = (uintptr_t)p & (ps - 1);
	p = (const char *)p - lead;
	size_t pages = (lead + bytes + ps - 1) / ps;
	unsigned char vec[4096];
	uint64_t resident = 0;
	for (size_t done = 0; done < pages;) {
		size_t n = pages - done < sizeof vec ? pages - done : sizeof vec;
		if (mincore((char *)p + done * ps, n * ps, vec) != 0)
			return resident;
		for (size_t i = 0; i < n; i++)
			resident += vec[i] & 1;
		done += n;
	}
	return resident * ps;
}

uint64_t iova_random_u64(void)
{
	uint64_t v;
	if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
		return v;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&v;
}
