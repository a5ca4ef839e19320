/* SPDX-License-Identifier: MIT */
/*
 * vma.c - Vulkan Memory Allocator call recordings (VmaRecorder, CSV, format
 * 1.x): "Vulkan Memory Allocator,Calls recording", then "1,<minor>", a
 * Config,Begin ... Config,End block, then one call a line:
 *   threadId,seconds,frameIndex,function,args...
 * Calls that create an allocation (buffer, image, raw memory, pages) become
 * allocs named by the allocation handle; the matching destroy/free calls
 * become frees. Images carry no size: it is derived from format, extent,
 * mip levels, layers and samples (uncompressed formats only; an image of
 * another format is dropped and counted as unconvertible). Threads become
 * streams. Other calls (map, flush, pools, defragmentation) are ignored.
 */
#include <string.h>

#include "imp.h"

#define MAX_FIELDS 32


static bool null_handle(sv v)
{
	for (size_t i = 0; i < v.n; i++)
		if (v.s[i] != '0')
			return false;
	return true;
}

/* Bytes per texel of an uncompressed VkFormat; 0 if unknown. */
static unsigned texel_bytes(uint64_t f)
{
	if (f >= 1 && f <= 2) return f == 1 ? 1 : 2;  /* R4G4, R4G4B4A4 */
	if (f >= 3 && f <= 8) return 2;               /* 16-bit packed */
	if (f >= 9 && f <= 15) return 1;              /* R8 */
	if (f >= 16 && f <= 22) return 2;             /* R8G8 */
	if (f >= 23 && f <= 36) return 3;             /* R8G8B8, B8G8R8 */
	if (f >= 37 && f <= 57) return 4;             /* R8G8B8A8, B8G8R8A8, A8B8G8R8 */
	if (f >= 58 && f <= 69) return 4;             /* A2R10G10B10, A2B10G10R10 */
	if (f >= 70 && f <= 76) return 2;             /* R16 */
	if (f >= 77 && f <= 83) return 4;             /* R16G16 */
	if (f >= 84 && f <= 90) return 6;             /* R16G16B16 */
	if (f >= 91 && f <= 97) return 8;             /* R16G16B16A16 */
	if (f >= 98 && f <= 100) return 4;            /* R32 */
	if (f >= 101 && f <= 103) return 8;           /* R32G32 */
	if (f >= 104 && f <= 106) return 12;          /* R32G32B32 */
	if (f >= 107 && f <= 109) return 16;          /* R32G32B32A32 */
	if (f >= 110 && f <= 112) return 8;           /* R64 */
	if (f >= 113 && f <= 115) return 16;          /* R64G64 */
	if (f >= 116 && f <= 118) return 24;          /* R64G64B64 */
	if (f >= 119 && f <= 121) return 32;          /* R64G64B64A64 */
	if (f == 122 || f == 123) return 4;           /* B10G11R11, E5B9G9R9 */
	if (f == 124) return 2;                       /* D16 */
	if (f == 125 || f == 126) return 4;           /* X8_D24, D32 */
	if (f == 127) return 1;                       /* S8 */
	if (f == 128 || f == 129) return 4;           /* D16_S8 (padded), D24_S8 */
	if (f == 130) return 8;                       /* D32_S8 (padded) */
	return 0;
}

static uint64_t image_bytes(uint64_t format, uint64_t w, uint64_t h, uint64_t d, uint64_t mips, uint64_t layers,
			    uint64_t samples)
{
	unsigned tb = texel_bytes(format);
	if (!tb || !w || !h || !d || !mips || !layers || !samples || mips > 32 || w > (1u << 20) || h > (1u << 20) ||
	    d > (1u << 20) || layers > 4096 || samples > 64)
		return 0;
	uint64_t texels = 0;
	for (uint64_t i = 0; i < mips; i++) {
		uint64_t mw = w >> i ? w >> i : 1, mh = h >> i ? h >> i : 1, md = d >> i ? d >> i : 1;
		texels += mw * mh * md;
	}
	return texels * layers * samples * tb;
}

static bool bad(imp *m, const char *what, sv line)
{
	return imp_problem(m, WL_IMPORT_UNPARSEABLE, "%s: '%.*s'", what, (int)(line.n > 80 ? 80 : line.n), line.s);
}

/* Allocations named in @v, separated by spaces (vma*MemoryPages). */
static bool each_handle(imp *m, sv v, uint64_t ts, uint32_t stream, uint64_t size, uint64_t align, bool create)
{
	size_t i = 0;
	while (i < v.n) {
		while (i < v.n && v.s[i] == ' ')
			i++;
		size_t b = i;
		while (i < v.n && v.s[i] != ' ')
			i++;
		if (i == b)
			break;
		bool ok = create ? imp_create(m, ts, stream, v.s + b, i - b, size, align, false, 0)
				 : imp_release(m, ts, stream, v.s + b, i - b);
		if (!ok)
			return false;
	}
	return true;
}

static bool call(imp *m, sv line)
{
	sv f[MAX_FIELDS];
	int n = sv_split_commas(line, f, MAX_FIELDS);
	uint64_t ts, x;
	if (n < 4 || !sv_num(f[0], &x) || !imp_seconds_ns(f[1].s, f[1].n, &ts))
		return bad(m, "not a call line (threadId,seconds,frame,function,...)", line);
	uint32_t stream = imp_stream(m, f[0].s, f[0].n);
	if (stream == WL_NO_ID)
		return !m->failed;
	sv fn = f[3];
	uint64_t size = 0, align = 0;
	int handle = -1;
	if (sv_is(fn, "vmaCreateBuffer")) {
		if (n < 15 || !sv_num(f[5], &size))
			return bad(m, "vmaCreateBuffer: expected size in column 6", line);
		handle = 14;
	} else if (sv_is(fn, "vmaCreateImage")) {
		uint64_t v[8];
		int cols[8] = {6, 7, 8, 9, 10, 11, 12, 0};
		for (int k = 0; k < 7; k++)
			if (n < 24 || !sv_num(f[cols[k]], &v[k]))
				return bad(m, "vmaCreateImage: expected format, extent, mips, layers, samples", line);
		handle = 23;
		size = image_bytes(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
		if (!size) {
			m->rep->events++;
			if (!imp_drop(m, f[handle].s, f[handle].n))
				return false;
			return imp_problem(m, WL_IMPORT_UNCONVERTIBLE, "image %.*s of format %.*s: size unknown, dropped",
					   (int)f[handle].n, f[handle].s, (int)f[6].n, f[6].s);
		}
	} else if (sv_is(fn, "vmaAllocateMemory")) {
		if (n < 14 || !sv_num(f[4], &size) || !sv_num(f[5], &align))
			return bad(m, "vmaAllocateMemory: expected size and alignment", line);
		handle = 13;
	} else if (sv_is(fn, "vmaAllocateMemoryForBuffer") || sv_is(fn, "vmaAllocateMemoryForImage")) {
		if (n < 16 || !sv_num(f[4], &size) || !sv_num(f[5], &align))
			return bad(m, "vmaAllocateMemoryFor*: expected size and alignment", line);
		handle = 15;
	} else if (sv_is(fn, "vmaAllocateMemoryPages")) {
		if (n < 15 || !sv_num(f[4], &size) || !sv_num(f[5], &align))
			return bad(m, "vmaAllocateMemoryPages: expected size and alignment", line);
		m->rep->events++;
		return each_handle(m, f[14], ts, stream, size, align & (align - 1) ? 0 : align, true);
	} else if (sv_is(fn, "vmaFreeMemoryPages")) {
		if (n < 5)
			return bad(m, "vmaFreeMemoryPages: expected allocations", line);
		m->rep->events++;
		return each_handle(m, f[4], ts, stream, 0, 0, false);
	} else if (sv_is(fn, "vmaDestroyBuffer") || sv_is(fn, "vmaDestroyImage") || sv_is(fn, "vmaFreeMemory")) {
		if (n < 5)
			return bad(m, "destroy/free: expected an allocation", line);
		m->rep->events++;
		if (null_handle(f[4]))
			return true; /* destroying nothing is allowed */
		return imp_release(m, ts, stream, f[4].s, f[4].n);
	} else {
		m->rep->ignored++;
		return true;
	}
	m->rep->events++;
	if (null_handle(f[handle]))
		return imp_problem(m, WL_IMPORT_UNCONVERTIBLE, "%.*s returned no allocation", (int)fn.n, fn.s);
	if (align & (align - 1))
		align = 0; /* Vulkan promises powers of two; do not pass anything else on */
	return imp_create(m, ts, stream, f[handle].s, f[handle].n, size, align, false, 0);
}

static bool run_vma(imp *m, const char *data, size_t len, wl_params *p)
{
	(void)p;
	const char *s = data, *end = data + len;
	bool in_config = false;
	wl_trace_set_header(m->t, "time", "vma-seconds");
	sv line;
	while (!m->failed && imp_next_line(m, &s, end, &line)) {
		if (m->line == 1) {
			if (!sv_is(line, "Vulkan Memory Allocator,Calls recording"))
				return wl_set_error(m->err, m->source, 1,
						    "not a VMA recording: expected 'Vulkan Memory Allocator,Calls recording'"),
				       false;
			m->rep->ignored++;
			continue;
		}
		if (m->line == 2) {
			sv f[3];
			uint64_t major;
			if (sv_split_commas(line, f, 3) != 2 || !sv_num(f[0], &major) || major != 1)
				return wl_set_error(m->err, m->source, 2, "unsupported VMA recording version '%.*s' (1.x known)",
						    (int)(line.n > 20 ? 20 : line.n), line.s),
				       false;
			wl_trace_set_header(m->t, "vma_version", "1");
			m->rep->ignored++;
			continue;
		}
		if (!line.n || sv_is(line, "Config,Begin") || sv_is(line, "Config,End") || in_config) {
			if (sv_is(line, "Config,Begin"))
				in_config = true;
			else if (sv_is(line, "Config,End"))
				in_config = false;
			m->rep->ignored++;
			continue;
		}
		if (!call(m, line))
			return false;
	}
	if (m->line < 2)
		return wl_set_error(m->err, m->source, 0, "not a VMA recording: too short"), false;
	return !m->failed;
}

const imp_entry wl_imp_vma = {"vma", "Vulkan Memory Allocator call recordings (CSV, format 1.x); threads become streams",
			      "", run_vma, false};
