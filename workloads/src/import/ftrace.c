/* SPDX-License-Identifier: MIT */
/*
 * ftrace.c - Linux ftrace text (trace-cmd report, /sys/kernel/tracing/trace).
 *
 *   <comm>-<pid> [<cpu>] [<flags>] <secs>.<frac>: <event>: <payload>
 *
 * IOMMU events (include/trace/events/iommu.h, all kernel versions):
 *   map:   IOMMU: [dev=<d> ]iova=0x<a>[ - 0x<end>] paddr=0x<p> size=<n>
 *   unmap: IOMMU: [dev=<d> ]iova=0x<a>[ - 0x<end>] size=<n> unmapped_size=<m>
 * DMA events (include/trace/events/dma.h):
 *   dma_map_page, dma_map_resource:   <dev> dir=<d> dma_addr=<hex> size=<n> ...
 *   dma_unmap_page, dma_unmap_resource: <dev> dir=<d> dma_addr=<hex> size=<n> ...
 *   dma_alloc:  <dev> dma_addr=<hex> size=<n> virt_addr=... (contiguous, coherent)
 *   dma_free:   <dev> dma_addr=<hex> size=<n> ...
 *   dma_map_sg: <dev> dir=<d> dma_addrs={0x..,..} sizes={..} phys_addrs={0x..,..} ...
 *   dma_unmap_sg: <dev> dir=<d> phys_addrs={0x..,..} ...
 * A mapping is named <dev>@<hex address> (the IOMMU events without dev= use
 * "iommu"); a scatterlist by its first physical address, the only thing its
 * unmap event carries. CPU numbers become streams.
 */
#include <inttypes.h>
#include <string.h>

#include "imp.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Value of "key=" in @p, up to the next space; empty if absent. */
static sv field(sv p, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl <= p.n; i++) {
		if ((i == 0 || p.s[i - 1] == ' ') && memcmp(p.s + i, key, kl) == 0) {
			size_t j = i + kl;
			while (j < p.n && p.s[j] != ' ')
				j++;
			return (sv){p.s + i + kl, j - i - kl};
		}
	}
	return (sv){NULL, 0};
}

static bool hex(sv v, uint64_t *out)
{
	if (v.n > 2 && v.s[0] == '0' && (v.s[1] == 'x' || v.s[1] == 'X'))
		v.s += 2, v.n -= 2;
	if (!v.n || v.n > 16)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < v.n; i++) {
		unsigned c = (unsigned char)v.s[i], d;
		if (c - '0' < 10)
			d = c - '0';
		else if ((c | 0x20) - 'a' < 6)
			d = (c | 0x20) - 'a' + 10;
		else
			return false;
		x = x << 4 | d;
	}
	*out = x;
	return true;
}

static bool dec(sv v, uint64_t *out)
{
	if (v.n > 2 && v.s[0] == '0' && v.s[1] == 'x')
		return hex(v, out);
	return wl_parse_u64(v.s, v.n, out) && v.n && is_digit(v.s[v.n - 1]);
}

/* {0x1,0x2}: count, sum and first element. */
static bool array(sv v, uint64_t *count, uint64_t *sum, uint64_t *first)
{
	if (v.n < 2 || v.s[0] != '{' || v.s[v.n - 1] != '}')
		return false;
	*count = *sum = *first = 0;
	size_t i = 1;
	while (i < v.n - 1) {
		size_t j = i;
		while (j < v.n - 1 && v.s[j] != ',')
			j++;
		uint64_t x;
		if (!dec((sv){v.s + i, j - i}, &x))
			return false;
		if (*count == 0)
			*first = x;
		(*count)++;
		*sum += x;
		i = j + 1;
	}
	return true;
}

typedef struct ft {
	imp *m;
	bool as_map, iommu, dma;
} ft;

static bool name_of(char *buf, size_t n, sv dev, const char *tag, uint64_t addr, size_t *len)
{
	int k = snprintf(buf, n, "%.*s@%s%" PRIx64, (int)(dev.n > 100 ? 100 : dev.n), dev.s, tag, addr);
	*len = (size_t)k;
	return k > 0 && (size_t)k < n;
}

static bool bad(imp *m, const char *what, sv line)
{
	return imp_problem(m, WL_IMPORT_UNPARSEABLE, "%s: '%.*s'", what, (int)(line.n > 80 ? 80 : line.n), line.s);
}

static bool event(ft *f, uint64_t ts, uint32_t stream, sv ev, sv payload, sv line)
{
	imp *m = f->m;
	char name[160];
	size_t nl;
	uint64_t addr, size;
#define EV(lit) (ev.n == sizeof(lit) - 1 && memcmp(ev.s, lit, ev.n) == 0)
	if (EV("map") || EV("unmap")) {
		if (!f->iommu || payload.n < 7 || memcmp(payload.s, "IOMMU: ", 7) != 0) {
			m->rep->ignored++;
			return true;
		}
		m->rep->events++;
		sv dev = field(payload, "dev=");
		if (!dev.s)
			dev = (sv){"iommu", 5};
		if (!hex(field(payload, "iova="), &addr) || !dec(field(payload, "size="), &size))
			return bad(m, "IOMMU event without iova= or size=", line);
		name_of(name, sizeof name, dev, "", addr, &nl);
		if (EV("map"))
			return imp_create(m, ts, stream, name, nl, size, 0, f->as_map, 0);
		return imp_release(m, ts, stream, name, nl);
	}
	bool map_page = EV("dma_map_page") || EV("dma_map_resource"), unmap_page = EV("dma_unmap_page") || EV("dma_unmap_resource");
	bool alloc = EV("dma_alloc"), dfree = EV("dma_free"), sg = EV("dma_map_sg"), unsg = EV("dma_unmap_sg");
#undef EV
	if (!(map_page || unmap_page || alloc || dfree || sg || unsg) || !f->dma) {
		m->rep->ignored++;
		return true;
	}
	m->rep->events++;
	size_t d = 0;
	while (d < payload.n && payload.s[d] != ' ')
		d++;
	sv dev = {payload.s, d};
	if (!d)
		return bad(m, "DMA event without a device", line);
	if (sg || unsg) {
		uint64_t n, sum, first, pn, psum, pfirst;
		if (!array(field(payload, "phys_addrs="), &pn, &psum, &pfirst) || !pn)
			return bad(m, "dma scatterlist event without phys_addrs={...}", line);
		name_of(name, sizeof name, dev, "sg", pfirst, &nl);
		if (unsg)
			return imp_release(m, ts, stream, name, nl);
		if (!array(field(payload, "sizes="), &n, &sum, &first))
			return bad(m, "dma_map_sg without sizes={...}", line);
		return imp_create(m, ts, stream, name, nl, sum, 0, f->as_map, (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n));
	}
	if (!hex(field(payload, "dma_addr="), &addr) || !dec(field(payload, "size="), &size))
		return bad(m, "DMA event without dma_addr= or size=", line);
	name_of(name, sizeof name, dev, "", addr, &nl);
	if (map_page)
		return imp_create(m, ts, stream, name, nl, size, 0, f->as_map, 0);
	if (alloc)
		return imp_create(m, ts, stream, name, nl, size, 0, false, 0);
	return imp_release(m, ts, stream, name, nl);
}

static bool parse_line(ft *f, sv line)
{
	imp *m = f->m;
	/* the CPU: the first " [digits]" */
	size_t i = 0, cpu_b = 0, cpu_e = 0;
	for (; i + 2 < line.n; i++) {
		if (line.s[i] == '[' && (i == 0 || line.s[i - 1] == ' ') && is_digit(line.s[i + 1])) {
			size_t j = i + 1;
			while (j < line.n && is_digit(line.s[j]))
				j++;
			if (j < line.n && line.s[j] == ']') {
				cpu_b = i + 1;
				cpu_e = j;
				break;
			}
		}
	}
	if (!cpu_e)
		return bad(m, "no [cpu] field", line);
	/* then tokens up to the timestamp "<secs>.<frac>:" */
	i = cpu_e + 1;
	uint64_t ts = 0;
	bool have_ts = false;
	while (i < line.n && !have_ts) {
		while (i < line.n && line.s[i] == ' ')
			i++;
		size_t b = i;
		while (i < line.n && line.s[i] != ' ')
			i++;
		if (i > b + 1 && line.s[i - 1] == ':' && imp_seconds_ns(line.s + b, i - b - 1, &ts))
			have_ts = true;
	}
	if (!have_ts)
		return bad(m, "no timestamp", line);
	while (i < line.n && line.s[i] == ' ')
		i++;
	size_t eb = i;
	while (i < line.n && line.s[i] != ' ')
		i++;
	if (i == eb || line.s[i - 1] != ':')
		return bad(m, "no event name", line);
	sv ev = {line.s + eb, i - eb - 1};
	/* "iommu:map:" style: keep the part after the system name */
	const char *colon = memchr(ev.s, ':', ev.n);
	if (colon)
		ev = (sv){colon + 1, ev.n - (size_t)(colon + 1 - ev.s)};
	while (i < line.n && line.s[i] == ' ')
		i++;
	sv payload = {line.s + i, line.n - i};
	uint32_t stream = imp_stream(m, line.s + cpu_b, cpu_e - cpu_b);
	if (stream == WL_NO_ID)
		return !m->failed;
	return event(f, ts, stream, ev, payload, line);
}

static bool run_ftrace(imp *m, const char *data, size_t len, wl_params *p)
{
	const char *as = wl_params_str(p, "as", "map"), *events = wl_params_str(p, "events", "all");
	ft f = {.m = m, .as_map = strcmp(as, "map") == 0, .iommu = true, .dma = true};
	if (strcmp(as, "map") != 0 && strcmp(as, "alloc") != 0)
		return wl_set_error(m->err, NULL, 0, "ftrace: as=%s: map or alloc", as), false;
	if (strcmp(events, "iommu") == 0)
		f.dma = false;
	else if (strcmp(events, "dma") == 0)
		f.iommu = false;
	else if (strcmp(events, "all") != 0)
		return wl_set_error(m->err, NULL, 0, "ftrace: events=%s: all, iommu or dma", events), false;
	wl_trace_set_header(m->t, "time", "ftrace");
	const char *s = data, *end = data + len;
	sv line;
	while (!m->failed && imp_next_line(m, &s, end, &line)) {
		size_t k = 0;
		while (k < line.n && (line.s[k] == ' ' || line.s[k] == '\t'))
			k++;
		if (k == line.n || line.s[k] == '#' || (line.n - k >= 5 && memcmp(line.s + k, "cpus=", 5) == 0) ||
		    (line.n - k >= 8 && memcmp(line.s + k, "version ", 8) == 0) ||
		    (line.n - k >= 4 && memcmp(line.s + k, "CPU:", 4) == 0))
			m->rep->ignored++; /* headers of the trace file and of trace-cmd */
		else if (!parse_line(&f, line))
			return false;
	}
	return !m->failed;
}

const imp_entry wl_imp_ftrace = {
	"ftrace", "Linux ftrace text: IOMMU map/unmap and DMA map/unmap/alloc/free/map_sg events; CPUs become streams",
	"as=map events=all", run_ftrace, false};
