/* SPDX-License-Identifier: MIT */
/*
 * jemalloc.c - the "jemalloc" strategy: jemalloc 5.3 managing the simulated
 * IOVA space through custom extent hooks.
 *
 * Pointers. The space has no memory behind it, so jemalloc is given a
 * stand-in: a range of the process's virtual address space, reserved with
 * PROT_NONE and never backed, one jemalloc page per granule. Reserving it
 * keeps the stand-in pointers out of jemalloc's way - jemalloc indexes every
 * extent of every arena by address in one process-wide radix tree - and any
 * stray access faults at once. Granule G is the page at
 *     base + (G - first) * page,
 * with base chosen so that a pointer is aligned to page * 2^k exactly when G
 * is aligned to 2^k, for every 2^k up to the space's size rounded up to a
 * power of two; a larger alignment has at most one candidate in the space,
 * which that alignment already selects.
 *
 * Arenas. The documented arenas.create would place jemalloc's own metadata
 * (arena structures, extent records, bitmaps) in memory obtained through the
 * hooks - our unbacked range - and crash. jemalloc 5.3 also has
 * experimental.arenas_create_ext, whose config can keep metadata on the
 * default hooks (real memory); with it jemalloc never touches the range.
 * One arena per thread slot, created on first use, for fairness with the
 * per-thread designs; each owned slot also gets an explicit thread cache
 * (tcache.create), since jemalloc with a thread cache is jemalloc as used.
 * A thread cache holds blocks of any of the domain's arenas (frees from
 * other threads), so teardown destroys every thread cache before any arena.
 * Blocks are asked for with MALLOCX_LG_ALIGN of their natural alignment
 * (or the request's), never zeroed or junk-filled.
 *
 * Extent hooks. They hand out ranges of the space from an extent set of our
 * own (extent_set.h: coalesced free ranges, first fit, under a mutex) and
 * take them back in whatever pieces jemalloc returns them; split and merge
 * are allowed, commit is implicit, purge and decommit are declined (so
 * decayed extents come back through dalloc).
 *
 * Process-wide setting, in malloc_conf below: retain:false, so that purged
 * extents return through the dalloc hook rather than being kept by jemalloc
 * forever (flushing a domain can then return all of its space). Linking
 * jemalloc makes it the process's malloc (except under a sanitizer), so this
 * applies to the host heap too; it is jemalloc's default on other
 * platforms. MALLOC_CONF can override it (counter opt_retain shows it).
 *
 * Accounting. jemalloc rounds to its size classes (4 per doubling above 16
 * KiB, and 2-granule blocks aligned to 8 KiB become 16 KiB): the usable
 * size counts as held by the live block, so the waste shows up as internal
 * fragmentation. Space jemalloc holds without a live block (thread caches,
 * dirty extents, slab slack) is reported as cached - including one page
 * (granule) per large block: Debian's jemalloc is built cache-oblivious,
 * which pads every large extent by a page (sz_large_pad) and cannot be
 * switched off at run time. So a block as large as the whole space never
 * fits.
 *
 * Errors. jemalloc cannot tell a bad pointer, so a byte map over the granules
 * records each live block's start and exact size (a varint spread over its
 * first granules' bytes); a free claims the block with one compare-and-swap
 * on its first byte, so double frees and stale sizes are refused. A stale
 * handle naming a granule inside a live block is refused as unknown when it
 * names one of the size bytes, as a double free deeper inside (the map
 * marks starts, not extents); either way nothing changes.
 *
 * What jemalloc cannot do: place a block inside an address window (no
 * IOVA_CAP_WINDOW: such requests fail with IOVA_ERR_UNSUPPORTED), hold
 * exactly the granules asked for, or honour a placement preference. Create
 * fails with IOVA_ERR_UNSUPPORTED if the jemalloc found is not 5.3, or is
 * set (MALLOC_CONF) to junk-fill or zero, which would write to the range.
 *
 * Lock discipline. Allocation and free are jemalloc's own (its thread cache
 * needs no lock; arenas take their bin and extent mutexes). Ours: the extent
 * set's mutex inside the hooks; a slot's first-use set-up under the
 * domain's setup mutex and the process-wide jemalloc control mutex (arena
 * and tcache creation, destruction and statistics: see je_ctl_lock);
 * flushing thread caches of other slots under slot quiescence
 * (cache/quiesce.h), so owners use their tcache without a lock.
 *
 * Options: tcache=0|1 (1), dirty_decay_ms=, muzzy_decay_ms= (jemalloc's
 * defaults if absent), purge_on_failure=0|1 (1: when an allocation fails,
 * flush thread caches and purge every arena of the domain, then retry once -
 * space one arena holds dirty is otherwise unusable by the others).
 */
#define _GNU_SOURCE
#include "../cache/quiesce.h"
#include "../prim/memory.h"
#include "../prim/thread_slot.h"
#include "extent_set.h"
#include "opts.h"

#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* See the comment at the top. */
const char *malloc_conf = "retain:false";

/*
 * experimental.arenas_create_ext's argument. jemalloc 5.3.0 defines it as
 * arena_config_t in its internal header arena_types.h, which is not
 * installed; the public header does not declare it. The layout below is
 * 5.3.0's; create() refuses any other jemalloc version rather than guess.
 */
struct je_arena_config {
	extent_hooks_t *extent_hooks;
	bool metadata_use_hooks; /* false: arena metadata from the default hooks */
};

#define NO_ARENA UINT32_MAX

/*
 * jemalloc's control operations that create, destroy or read every arena
 * (arena and tcache creation and destruction, the statistics epoch) run
 * under this process-wide lock. jemalloc makes them safe by itself, but it
 * publishes new arenas with atomics that ThreadSanitizer cannot see (the
 * library is not instrumented), so without the lock a statistics refresh
 * racing an arena creation in another domain is reported as a data race.
 * None of these is on the allocation path.
 */
static pthread_mutex_t je_ctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* Domains whose teardown jemalloc refused (see je_destroy): kept, not freed. */
static _Atomic uint64_t je_leaked_domains;

struct je_opts {
	bool tcache, purge_on_failure;
	uint64_t dirty_decay_ms, muzzy_decay_ms; /* UINT64_MAX: jemalloc's default */
};

static const struct iova_opt je_spec[] = {
	IOVA_OPT_BOOL_FIELD("tcache", struct je_opts, tcache),
	IOVA_OPT_U64_FIELD("dirty_decay_ms", struct je_opts, dirty_decay_ms, 0, 3600000),
	IOVA_OPT_U64_FIELD("muzzy_decay_ms", struct je_opts, muzzy_decay_ms, 0, 3600000),
	IOVA_OPT_BOOL_FIELD("purge_on_failure", struct je_opts, purge_on_failure),
};
#define JE_SPEC_N (sizeof je_spec / sizeof je_spec[0])

struct je_slot {
	_Atomic unsigned busy;   /* quiescence: the owner is using its tcache */
	_Atomic unsigned arena;  /* NO_ARENA until first use */
	unsigned tcache;
	bool has_tcache;
	_Atomic uint64_t held;   /* granules of live blocks, += on alloc, -= on free (may wrap per slot) */
	_Atomic uint64_t splits, merges; /* hook calls made on this slot's thread (every large block) */
} __attribute__((aligned(IOVA_WRITE_SPAN)));

struct jem {
	extent_hooks_t hooks; /* first: the hooks receive its address */
	iova_space space;
	struct je_opts o;
	size_t page;
	unsigned lg_page, span_log2; /* pointer alignment tracks granule alignment up to 2^span_log2 */
	char *base;                  /* pointer of granule `first` */
	void *va;                    /* the reservation */
	size_t va_bytes;
	pthread_mutex_t extent_lock;
	struct extent_set extents;
	_Atomic uint8_t *map;
	size_t map_bytes;
	struct je_slot *slots;
	pthread_mutex_t setup_lock; /* arena creation for the shared slot, flushes' arena list */
	struct iova_quiesce q;
	bool retain;
	_Atomic uint64_t arenas, tcaches, extent_allocs, extent_alloc_failures, extent_deallocs, extent_errors,
		purge_retries, misplaced;
};

static inline struct jem *from_hooks(extent_hooks_t *h) { return (struct jem *)h; }

static inline uint64_t granule_of(const struct jem *j, const void *p)
{
	return j->space.first + (uint64_t)(((const char *)p - j->base) >> j->lg_page);
}

static inline void *pointer_of(const struct jem *j, uint64_t g)
{
	return j->base + ((size_t)(g - j->space.first) << j->lg_page);
}

static inline void bump(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }

/* ---- extent hooks (called by jemalloc, any thread) ---- */

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t alignment, bool *zero, bool *commit,
			unsigned arena_ind)
{
	(void)arena_ind;
	struct jem *j = from_hooks(h);
	const uint64_t n = size >> j->lg_page;
	uint64_t align = alignment >> j->lg_page, g;
	if (!align)
		align = 1;
	if (align > (UINT64_C(1) << j->span_log2))
		align = UINT64_C(1) << j->span_log2; /* the alignment picks at most one place: see the top */
	bool ok;
	pthread_mutex_lock(&j->extent_lock);
	if (new_addr) {
		g = granule_of(j, new_addr);
		ok = (char *)new_addr >= j->base && g < j->space.end && extent_set_take_at(&j->extents, g, n);
	} else {
		ok = extent_set_take(&j->extents, n, align, &g);
	}
	pthread_mutex_unlock(&j->extent_lock);
	if (!ok) {
		bump(&j->extent_alloc_failures);
		return NULL;
	}
	bump(&j->extent_allocs);
	*zero = true; /* nobody ever reads it: "zeroed" holds vacuously, so jemalloc never writes */
	*commit = true;
	return pointer_of(j, g);
}

static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena_ind)
{
	(void)committed, (void)arena_ind;
	struct jem *j = from_hooks(h);
	pthread_mutex_lock(&j->extent_lock);
	bool ok = extent_set_add(&j->extents, granule_of(j, addr), size >> j->lg_page);
	pthread_mutex_unlock(&j->extent_lock);
	bump(ok ? &j->extent_deallocs : &j->extent_errors);
	return !ok; /* false: done */
}

static void hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena_ind)
{
	hook_dalloc(h, addr, size, committed, arena_ind);
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a, size_t size_b, bool committed,
		       unsigned arena_ind)
{
	(void)addr, (void)size, (void)size_a, (void)size_b, (void)committed, (void)arena_ind;
	const unsigned slot = iova_thread_slot();
	iova_slot_add(&from_hooks(h)->slots[slot].splits, 1, slot);
	return false; /* ranges are just ranges here: any split is fine */
}

static bool hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b, size_t size_b, bool committed,
		       unsigned arena_ind)
{
	(void)addr_a, (void)size_a, (void)addr_b, (void)size_b, (void)committed, (void)arena_ind;
	const unsigned slot = iova_thread_slot();
	iova_slot_add(&from_hooks(h)->slots[slot].merges, 1, slot);
	return false;
}

/* ---- the byte map: each live block's start and exact size ---- */

/*
 * First byte: 10ssssss for s < 64 granules; 11000nnn for larger, followed by
 * n bytes 01dddddd holding s six bits at a time, low first (a block of s >= 64
 * granules has room for them in its own granules). 0: no live block starts
 * here. A byte 01xxxxxx: inside a live block.
 */
#define MAP_SMALL 0x80u
#define MAP_LARGE 0xC0u
#define MAP_CONT 0x40u

static void map_set(struct jem *j, uint64_t g, uint64_t s)
{
	_Atomic uint8_t *m = &j->map[g - j->space.first];
	if (s < 64) {
		atomic_store_explicit(m, (uint8_t)(MAP_SMALL | s), memory_order_relaxed);
		return;
	}
	unsigned n = 0;
	for (uint64_t x = s; x; x >>= 6)
		atomic_store_explicit(&m[++n], (uint8_t)(MAP_CONT | (x & 63)), memory_order_relaxed);
	atomic_store_explicit(m, (uint8_t)(MAP_LARGE | n), memory_order_relaxed);
}

/* The size recorded at g's first byte @b (>= 0x80). */
static uint64_t map_size(const struct jem *j, uint64_t g, uint8_t b)
{
	if ((b & MAP_LARGE) == MAP_SMALL)
		return b & 63;
	const _Atomic uint8_t *m = &j->map[g - j->space.first];
	uint64_t s = 0;
	for (unsigned i = (b & 7); i >= 1; i--)
		s = (s << 6) | (atomic_load_explicit(&m[i], memory_order_relaxed) & 63);
	return s;
}

static void map_clear_rest(struct jem *j, uint64_t g, uint8_t b)
{
	if ((b & MAP_LARGE) == MAP_LARGE)
		for (unsigned i = 1; i <= (b & 7u); i++)
			atomic_store_explicit(&j->map[g - j->space.first + i], 0, memory_order_relaxed);
}

/* ---- slots and arenas ---- */

static int mallctl_arena(const char *fmt, unsigned arena, void *oldp, size_t *oldlen, void *newp, size_t newlen)
{
	char name[64];
	snprintf(name, sizeof name, fmt, arena);
	return mallctl(name, oldp, oldlen, newp, newlen);
}

/* Called with je_ctl_lock held. */
static unsigned new_arena(struct jem *j)
{
	struct je_arena_config cfg = {&j->hooks, false};
	unsigned ind;
	size_t sz = sizeof ind;
	if (mallctl("experimental.arenas_create_ext", &ind, &sz, &cfg, sizeof cfg))
		return NO_ARENA;
	ssize_t ms;
	if (j->o.dirty_decay_ms != UINT64_MAX) {
		ms = (ssize_t)j->o.dirty_decay_ms;
		mallctl_arena("arena.%u.dirty_decay_ms", ind, NULL, NULL, &ms, sizeof ms);
	}
	if (j->o.muzzy_decay_ms != UINT64_MAX) {
		ms = (ssize_t)j->o.muzzy_decay_ms;
		mallctl_arena("arena.%u.muzzy_decay_ms", ind, NULL, NULL, &ms, sizeof ms);
	}
	bump(&j->arenas);
	return ind;
}

/* The slot's arena, created on first use (by the owner; the shared slot
 * under setup_lock). NO_ARENA if jemalloc refuses. */
static unsigned slot_arena(struct jem *j, struct je_slot *s, unsigned slot)
{
	unsigned a = atomic_load_explicit(&s->arena, memory_order_acquire);
	if (IOVA_LIKELY(a != NO_ARENA))
		return a;
	pthread_mutex_lock(&j->setup_lock);
	pthread_mutex_lock(&je_ctl_lock);
	a = atomic_load_explicit(&s->arena, memory_order_relaxed);
	if (a == NO_ARENA && (a = new_arena(j)) != NO_ARENA) {
		if (j->o.tcache && !iova_slot_is_shared(slot)) {
			size_t sz = sizeof s->tcache;
			s->has_tcache = mallctl("tcache.create", &s->tcache, &sz, NULL, 0) == 0;
			if (s->has_tcache)
				bump(&j->tcaches);
		}
		atomic_store_explicit(&s->arena, a, memory_order_release);
	}
	pthread_mutex_unlock(&je_ctl_lock);
	pthread_mutex_unlock(&j->setup_lock);
	return a;
}

static void je_flush(void *state);

static iova_status je_alloc(void *state, const iova_req *req, uint64_t *out)
{
	struct jem *j = state;
	struct je_slot *s = &j->slots[req->slot];
	const unsigned arena = slot_arena(j, s, req->slot);
	if (IOVA_UNLIKELY(arena == NO_ARENA))
		return IOVA_ERR_NO_MEMORY;
	const size_t size = (size_t)req->granules << j->lg_page;
	const unsigned lg_align = j->lg_page + iova_min(iova_log2_floor(req->align), j->span_log2);
	const int flags = MALLOCX_ARENA(arena) | MALLOCX_LG_ALIGN(lg_align);
	void *p = NULL;
	for (int attempt = 0; attempt < 2 && !p; attempt++) {
		if (attempt) {
			if (!j->o.purge_on_failure)
				break;
			bump(&j->purge_retries);
			je_flush(j);
		}
		bool entered = s->has_tcache && iova_quiesce_enter(&j->q, &s->busy);
		p = mallocx(size, flags | (entered ? MALLOCX_TCACHE(s->tcache) : MALLOCX_TCACHE_NONE));
		if (entered)
			iova_quiesce_exit(&s->busy);
	}
	if (!p)
		return IOVA_ERR_NO_SPACE;
	const uint64_t g = granule_of(j, p);
	if (IOVA_UNLIKELY((g & (req->align - 1)) || g < req->lo || g + req->granules > req->hi)) {
		bump(&j->misplaced); /* cannot happen: see the top */
		dallocx(p, MALLOCX_TCACHE_NONE);
		return IOVA_ERR_NO_SPACE;
	}
	map_set(j, g, req->granules);
	const uint64_t held = nallocx(size, flags) >> j->lg_page;
	if (iova_slot_is_shared(req->slot))
		atomic_fetch_add_explicit(&s->held, held, memory_order_relaxed);
	else
		atomic_store_explicit(&s->held, atomic_load_explicit(&s->held, memory_order_relaxed) + held,
				      memory_order_relaxed);
	*out = g;
	return IOVA_OK;
}

static iova_status je_free(void *state, uint64_t g, uint64_t granules, unsigned slot)
{
	struct jem *j = state;
	if (g < j->space.first || g >= j->space.end || !granules || granules > j->space.end - g)
		return IOVA_ERR_UNKNOWN_HANDLE;
	_Atomic uint8_t *m = &j->map[g - j->space.first];
	uint8_t b = atomic_load_explicit(m, memory_order_relaxed);
	for (;;) {
		if (!(b & MAP_SMALL))
			return b ? IOVA_ERR_UNKNOWN_HANDLE : IOVA_ERR_DOUBLE_FREE; /* inside a block / nothing */
		if (map_size(j, g, b) != granules)
			return IOVA_ERR_UNKNOWN_HANDLE;
		/* Of two frees of one block, exactly one clears the first byte. */
		if (atomic_compare_exchange_strong_explicit(m, &b, 0, memory_order_relaxed, memory_order_relaxed))
			break;
	}
	map_clear_rest(j, g, b);
	void *p = pointer_of(j, g);
	const uint64_t held = sallocx(p, 0) >> j->lg_page;
	struct je_slot *s = &j->slots[slot];
	bool entered = s->has_tcache && atomic_load_explicit(&s->arena, memory_order_relaxed) != NO_ARENA &&
		       iova_quiesce_enter(&j->q, &s->busy);
	dallocx(p, entered ? MALLOCX_TCACHE(s->tcache) : MALLOCX_TCACHE_NONE);
	if (entered)
		iova_quiesce_exit(&s->busy);
	if (iova_slot_is_shared(slot))
		atomic_fetch_sub_explicit(&s->held, held, memory_order_relaxed);
	else
		atomic_store_explicit(&s->held, atomic_load_explicit(&s->held, memory_order_relaxed) - held,
				      memory_order_relaxed);
	return IOVA_OK;
}

/* Thread caches back to their arenas (other slots' under quiescence), then
 * every arena's dirty and muzzy extents back through the dalloc hook. */
static void je_flush(void *state)
{
	struct jem *j = state;
	iova_quiesce_begin(&j->q);
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		struct je_slot *js = &j->slots[s];
		/* Acquire: a slot's tcache fields were written before its arena. */
		if (atomic_load_explicit(&js->arena, memory_order_acquire) == NO_ARENA)
			continue;
		iova_quiesce_wait(&js->busy);
		if (js->has_tcache)
			mallctl("tcache.flush", NULL, NULL, &js->tcache, sizeof js->tcache);
	}
	iova_quiesce_end(&j->q);
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		unsigned a = atomic_load_explicit(&j->slots[s].arena, memory_order_acquire);
		if (a != NO_ARENA)
			mallctl_arena("arena.%u.purge", a, NULL, NULL, NULL, 0);
	}
}

static bool count_free(void *ctx, uint64_t g, uint64_t n)
{
	(void)g;
	*(uint64_t *)ctx += n;
	return true;
}

static void je_walk_free(const void *state, iova_extent_fn fn, void *ctx)
{
	struct jem *j = (struct jem *)state;
	pthread_mutex_lock(&j->extent_lock);
	extent_set_walk(&j->extents, fn, ctx);
	pthread_mutex_unlock(&j->extent_lock);
}

/* Granules jemalloc took from the space but no live block holds. */
static uint64_t je_cached(const void *state)
{
	struct jem *j = (struct jem *)state;
	uint64_t free_g = 0, held = 0;
	je_walk_free(j, count_free, &free_g);
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++)
		held += atomic_load_explicit(&j->slots[s].held, memory_order_relaxed);
	uint64_t taken = (j->space.end - j->space.first) - free_g;
	return held < taken ? taken - held : 0;
}

static void je_destroy(void *state)
{
	struct jem *j = state;
	if (!j)
		return;
	if (j->slots) {
		/*
		 * Every thread cache first, then every arena. A slot's tcache
		 * holds blocks of any arena of the domain (a block freed by
		 * another thread than the one that allocated it, a magazine of
		 * the cache layer given back by another slot), and flushing one
		 * looks up each block's extent, which destroying its arena
		 * has discarded: a tcache destroyed after one of those arenas
		 * read a NULL extent inside jemalloc. jemalloc requires it too
		 * (arena.<i>.destroy: "all thread caches which were used ...
		 * in conjunction with the arena must be flushed beforehand").
		 */
		bool leak = false;
		pthread_mutex_lock(&je_ctl_lock);
		for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
			struct je_slot *js = &j->slots[s];
			if (js->has_tcache && mallctl("tcache.destroy", NULL, NULL, &js->tcache, sizeof js->tcache))
				leak = true;
		}
		for (unsigned s = 0; s < IOVA_THREAD_SLOTS && !leak; s++) {
			unsigned a = atomic_load_explicit(&j->slots[s].arena, memory_order_relaxed);
			if (a != NO_ARENA && mallctl_arena("arena.%u.destroy", a, NULL, NULL, NULL, 0))
				leak = true;
		}
		pthread_mutex_unlock(&je_ctl_lock);
		if (IOVA_UNLIKELY(leak)) {
			/* An arena that outlives us still calls our hooks and
			 * keeps its extents - addresses in our stand-in range -
			 * in jemalloc's global extent map: keep both alive
			 * rather than let them dangle (cannot happen: no
			 * thread is ever bound to our arenas). */
			atomic_fetch_add_explicit(&je_leaked_domains, 1, memory_order_relaxed);
			return;
		}
		free(j->slots);
	}
	if (j->va)
		munmap(j->va, j->va_bytes);
	iova_release((void *)j->map, j->map_bytes);
	extent_set_release(&j->extents);
	pthread_mutex_destroy(&j->extent_lock);
	pthread_mutex_destroy(&j->setup_lock);
	iova_quiesce_destroy(&j->q);
	free(j);
}

static iova_status parse(const char *options, struct je_opts *o, char *msg, size_t msg_size)
{
	*o = (struct je_opts){.tcache = true, .purge_on_failure = true, .dirty_decay_ms = UINT64_MAX, .muzzy_decay_ms = UINT64_MAX};
	return iova_opts_parse("jemalloc", options, je_spec, JE_SPEC_N, o, NULL, msg, msg_size);
}

/*
 * Junk filling or zeroing (MALLOC_CONF=junk:true, zero:true) would make
 * jemalloc write to the stand-in range, which has no memory behind it.
 * Return: IOVA_OK if neither is on; else IOVA_ERR_UNSUPPORTED, with a
 * sentence naming the setting in @msg.
 */
static iova_status fill_refusal(char *msg, size_t msg_size)
{
	const char *junk = "false";
	bool zero = false;
	size_t sz = sizeof junk;
	(void)mallctl("opt.junk", &junk, &sz, NULL, 0); /* absent unless built with fill support */
	sz = sizeof zero;
	(void)mallctl("opt.zero", &zero, &sz, NULL, 0);
	if (strcmp(junk, "false")) {
		iova_opts_message(msg, msg_size,
				  "jemalloc: MALLOC_CONF turns on junk filling (opt.junk \"%s\"), which would write into "
				  "the simulated range; unset it",
				  junk);
		return IOVA_ERR_UNSUPPORTED;
	}
	if (zero) {
		iova_opts_message(msg, msg_size,
				  "jemalloc: MALLOC_CONF turns on zeroing (opt.zero), which would write into the "
				  "simulated range; unset it");
		return IOVA_ERR_UNSUPPORTED;
	}
	return IOVA_OK;
}

static iova_status je_check_options(const char *options, char *msg, size_t msg_size)
{
	struct je_opts o;
	iova_status st = parse(options, &o, msg, msg_size);
	return st != IOVA_OK ? st : fill_refusal(msg, msg_size);
}

/* Reserve the stand-in range: @bytes, placed so that base is congruent to
 * (first mod 2^span_log2) pages modulo 2^span_log2 pages. */
static bool reserve_va(struct jem *j, uint64_t granules)
{
	const size_t bytes = (size_t)granules << j->lg_page, align = (size_t)1 << (j->span_log2 + j->lg_page);
	const size_t offset = (size_t)(j->space.first & ((UINT64_C(1) << j->span_log2) - 1)) << j->lg_page;
	j->va_bytes = bytes + 2 * align;
	if (j->va_bytes < bytes)
		return false;
	void *va = mmap(NULL, j->va_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (va == MAP_FAILED)
		return false;
	j->va = va;
	uintptr_t b = ((uintptr_t)va + align - 1) & ~(uintptr_t)(align - 1);
	j->base = (char *)(b + offset);
	return true;
}

static iova_status je_create(const iova_space *space, const char *options, void **state)
{
	struct je_opts o;
	iova_status st = parse(options, &o, NULL, 0);
	if (st)
		return st;
	const char *version;
	size_t sz = sizeof version;
	if (mallctl("version", &version, &sz, NULL, 0) || strncmp(version, "5.3.", 4))
		return IOVA_ERR_UNSUPPORTED; /* struct je_arena_config is 5.3's */
	struct jem *j = calloc(1, sizeof *j);
	if (!j)
		return IOVA_ERR_NO_MEMORY;
	j->space = *space;
	j->o = o;
	pthread_mutex_init(&j->extent_lock, NULL);
	pthread_mutex_init(&j->setup_lock, NULL);
	iova_quiesce_init(&j->q);
	extent_set_init(&j->extents);
	sz = sizeof j->page;
	if (mallctl("arenas.page", &j->page, &sz, NULL, 0) || !iova_is_pow2(j->page)) {
		je_destroy(j);
		return IOVA_ERR_UNSUPPORTED;
	}
	sz = sizeof j->retain;
	if (mallctl("opt.retain", &j->retain, &sz, NULL, 0))
		j->retain = true;
	if (fill_refusal(NULL, 0) != IOVA_OK) {
		je_destroy(j);
		return IOVA_ERR_UNSUPPORTED;
	}
	j->lg_page = iova_log2_floor(j->page);
	const uint64_t granules = space->end - space->first;
	j->span_log2 = iova_log2_ceil(granules);
	if (granules > (SIZE_MAX >> (j->lg_page + 2)) || !reserve_va(j, granules)) {
		je_destroy(j);
		return IOVA_ERR_NO_MEMORY; /* the stand-in range does not fit this process's address space */
	}
	j->map_bytes = (size_t)granules;
	j->map = iova_reserve(j->map_bytes);
	j->slots = aligned_alloc(_Alignof(struct je_slot), IOVA_THREAD_SLOTS * sizeof *j->slots);
	if (!j->map || !j->slots || !extent_set_add(&j->extents, space->first, granules)) {
		je_destroy(j);
		return IOVA_ERR_NO_MEMORY;
	}
	memset(j->slots, 0, IOVA_THREAD_SLOTS * sizeof *j->slots);
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++)
		atomic_init(&j->slots[s].arena, NO_ARENA);
	j->hooks = (extent_hooks_t){
		.alloc = hook_alloc,
		.dalloc = hook_dalloc,
		.destroy = hook_destroy,
		.split = hook_split,
		.merge = hook_merge,
	};
	*state = j;
	return IOVA_OK;
}

static uint64_t arena_base_bytes(const struct jem *j)
{
	uint64_t epoch = 1, total = 0;
	size_t sz = sizeof epoch;
	pthread_mutex_lock(&je_ctl_lock);
	mallctl("epoch", &epoch, &sz, &epoch, sz); /* refresh jemalloc's statistics */
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		unsigned a = atomic_load_explicit(&((struct jem *)j)->slots[s].arena, memory_order_acquire);
		size_t base;
		sz = sizeof base;
		if (a != NO_ARENA && !mallctl_arena("stats.arenas.%u.base", a, &base, &sz, NULL, 0))
			total += base;
	}
	pthread_mutex_unlock(&je_ctl_lock);
	return total;
}

static uint64_t je_metadata_reserved(const void *state)
{
	const struct jem *j = state;
	struct jem *mj = (struct jem *)state;
	pthread_mutex_lock(&mj->extent_lock);
	uint64_t pool = j->extents.pool.reserved_bytes;
	pthread_mutex_unlock(&mj->extent_lock);
	return sizeof *j + IOVA_THREAD_SLOTS * sizeof *j->slots + j->map_bytes + pool + arena_base_bytes(j);
}

static uint64_t je_metadata_resident(const void *state)
{
	const struct jem *j = state;
	struct jem *mj = (struct jem *)state;
	pthread_mutex_lock(&mj->extent_lock);
	uint64_t pool = iova_pool_resident(&j->extents.pool);
	pthread_mutex_unlock(&mj->extent_lock);
	return sizeof *j + IOVA_THREAD_SLOTS * sizeof *j->slots + iova_resident_bytes((const void *)j->map, j->map_bytes) +
	       pool + arena_base_bytes(j);
}

static void je_counters(const void *state, iova_counter_fn fn, void *ctx)
{
	const struct jem *j = state;
#define C(name, field)                                                                                                 \
	fn(ctx, name, atomic_load_explicit(&((struct jem *)j)->field, memory_order_relaxed), IOVA_COUNTER_TOTAL)
	C("jemalloc_arenas", arenas);
	C("jemalloc_tcaches", tcaches);
	C("extent_hook_allocs", extent_allocs);
	C("extent_hook_alloc_failures", extent_alloc_failures);
	C("extent_hook_deallocs", extent_deallocs);
	C("extent_hook_errors", extent_errors);
	uint64_t splits = 0, merges = 0;
	for (unsigned s = 0; s < IOVA_THREAD_SLOTS; s++) {
		splits += atomic_load_explicit(&j->slots[s].splits, memory_order_relaxed);
		merges += atomic_load_explicit(&j->slots[s].merges, memory_order_relaxed);
	}
	fn(ctx, "extent_hook_splits", splits, IOVA_COUNTER_TOTAL);
	fn(ctx, "extent_hook_merges", merges, IOVA_COUNTER_TOTAL);
	C("purge_retries", purge_retries);
	C("misplaced", misplaced);
#undef C
	fn(ctx, "opt_retain", j->retain, IOVA_COUNTER_LEVEL);
	fn(ctx, "jemalloc_leaked_domains", atomic_load_explicit(&je_leaked_domains, memory_order_relaxed),
	   IOVA_COUNTER_LEVEL);
}

const iova_strategy_ops iova_jemalloc_ops = {
	.name = "jemalloc",
	.description = "jemalloc 5.3 over the space through extent hooks: arena and tcache per thread, no windows",
	.caps = IOVA_CAP_ALIGNMENT,
	.create = je_create,
	.destroy = je_destroy,
	.alloc = je_alloc,
	.free = je_free,
	.walk_free = je_walk_free,
	.metadata_reserved = je_metadata_reserved,
	.metadata_resident = je_metadata_resident,
	.counters = je_counters,
	.flush = je_flush,
	.cached = je_cached,
	.check_options = je_check_options,
};
