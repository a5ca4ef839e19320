/* SPDX-License-Identifier: MIT */
/*
 * synthetic.c - the named workload generators that model a system:
 * gpu-frame, streaming-dma, fragmenter, long-lived-churn, ml-training.
 *
 * Each keeps one clock for all its streams, so file order is time order and a
 * timed replay of one worker never runs behind only because of the file.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------------------ */

#define GPU_PARAMS                                                                                                   \
	"frames=120 fps=60 streams=3 resident=48 transients=24 staging=6 pagetables=4 evict_every=8 "                 \
	"resident_size=loguniform:256K:256M:page transient_size=loguniform:64K:32M:page "                            \
	"staging_size=loguniform:64K:8M:page seed=1"

static bool gpu_frame(gb *b, wl_params *p, uint64_t seed)
{
	uint64_t frames, fps, streams, nres, ntr, nst, npt, evict_every;
	wl_sizedist *dres = NULL, *dtr = NULL, *dst = NULL;
	bool ok = gp_u64(b, p, "frames", 120, 1, 1000000, &frames) && gp_u64(b, p, "fps", 60, 1, 100000, &fps) &&
		  gp_u64(b, p, "streams", 3, 2, 3, &streams) && gp_u64(b, p, "resident", 48, 1, 100000, &nres) &&
		  gp_u64(b, p, "transients", 24, 1, 100000, &ntr) && gp_u64(b, p, "staging", 6, 0, 100000, &nst) &&
		  gp_u64(b, p, "pagetables", 4, 0, 100000, &npt) && gp_u64(b, p, "evict_every", 8, 0, 1000000, &evict_every) &&
		  gp_dist(b, p, "resident_size", "loguniform:256K:256M:page", &dres) &&
		  gp_dist(b, p, "transient_size", "loguniform:64K:32M:page", &dtr) &&
		  gp_dist(b, p, "staging_size", "loguniform:64K:8M:page", &dst) && gp_done(b, p, "gpu-frame");
	uint64_t *res_size = NULL, *tr_size = NULL, *st_size = NULL;
	uint8_t *evicted = NULL;
	if (!ok)
		goto out;
	res_size = calloc(nres, sizeof *res_size);
	evicted = calloc(nres, 1);
	tr_size = calloc(ntr, sizeof *tr_size);
	st_size = calloc(nst ? nst : 1, sizeof *st_size);
	if (!res_size || !evicted || !tr_size || !st_size) {
		wl_set_error(b->err, NULL, 0, "out of memory");
		b->ok = false;
		goto out;
	}
	wl_rng rng;
	wl_rng_seed(&rng, seed);
	uint32_t R = gb_stream(b, 0), C = gb_stream(b, 1), X = streams == 3 ? gb_stream(b, 2) : C;
	uint64_t period = 1000000000u / fps, now = 0;
	/* Long-lived resources: every 4th write-combined (CPU-written), every 8th a
	 * scanout surface that the display engine needs below 4 GiB. */
	for (uint64_t i = 0; i < nres; i++) {
		res_size[i] = wl_sizedist_sample(dres, &rng);
		uint32_t id = gb_name(b, "res%" PRIu64, i);
		gb_alloc_c(b, now, R, id, res_size[i], 0, i % 8 == 7 ? 0xffffffffu : 0, 0, 0,
			   i % 4 == 3 ? IOVA_CACHE_WRITE_COMBINED : IOVA_CACHE_NON_CACHED);
		gb_fill(b, now, R, id, 0, min_u64(res_size[i], 1 << 20), 0);
		now += 1000;
	}
	uint64_t per_frame = npt + 2 * ntr + 3 * nst + ntr / 4 + 2 * ntr + npt + 8;
	for (uint64_t f = 0; f < frames && b->ok; f++) {
		now = now > f * period ? now : f * period;
		uint64_t step = period * 9 / 10 / per_frame;
		if (!step)
			step = 1;
		/* page-table pages: 4 KiB, below 4 GiB, page aligned, not crossing 2 MiB */
		for (uint64_t k = 0; k < npt; k++, now += step)
			gb_alloc_c(b, now, R, gb_name(b, "pt%" PRIu64 ".%" PRIu64, f, k), 4096, 0, 0xffffffffu, 2 << 20, 4096,
				   IOVA_CACHE_NON_CACHED);
		for (uint64_t k = 0; k < ntr; k++) {
			tr_size[k] = wl_sizedist_sample(dtr, &rng);
			uint32_t id = gb_name(b, "tr%" PRIu64 ".%" PRIu64, f, k);
			gb_alloc(b, now, R, id, tr_size[k]);
			now += step;
			gb_fill(b, now, R, id, 0, min_u64(tr_size[k], 2 << 20), 0); /* clear */
			now += step;
		}
		for (uint64_t k = 0; k < nst; k++) {
			st_size[k] = wl_sizedist_sample(dst, &rng);
			uint32_t id = gb_name(b, "st%" PRIu64 ".%" PRIu64, f, k);
			gb_map(b, now, C, id, st_size[k], (uint32_t)(st_size[k] / 65536 + 1));
			now += step;
			/* upload into a surface of this frame or into a resident resource */
			if (wl_rng_below(&rng, 2)) {
				uint64_t t = k % ntr;
				gb_transfer(b, now, C, id, 0, gb_name(b, "tr%" PRIu64 ".%" PRIu64, f, t), 0,
					    min_u64(st_size[k], tr_size[t]));
			} else {
				uint64_t r = wl_rng_below(&rng, nres);
				gb_transfer(b, now, C, id, 0, gb_name(b, "res%" PRIu64, r), 0, min_u64(st_size[k], res_size[r]));
			}
			now += step;
		}
		if (evict_every && f % evict_every == evict_every - 1) {
			/* memory pressure: evict one resource, bring back an evicted one */
			uint64_t r = wl_rng_below(&rng, nres);
			uint32_t id = gb_name(b, "res%" PRIu64, r);
			if (!evicted[r]) {
				gb_simple(b, now, R, WL_OP_EVICT, id);
				gb_simple(b, now, R, WL_OP_FLUSH, id);
				evicted[r] = 1;
			}
			uint64_t back = wl_rng_below(&rng, nres);
			if (evicted[back] && back != r) {
				gb_simple(b, now, R, WL_OP_MAKE_RESIDENT, gb_name(b, "res%" PRIu64, back));
				evicted[back] = 0;
			}
			now += step;
		}
		for (uint64_t k = 0; k < ntr / 4; k++, now += step) {
			/* resolve a surface into a resident resource */
			uint64_t r = wl_rng_below(&rng, nres);
			gb_transfer(b, now, R, gb_name(b, "tr%" PRIu64 ".%" PRIu64, f, k), 0, gb_name(b, "res%" PRIu64, r), 0,
				    min_u64(tr_size[k], res_size[r]));
		}
		uint32_t fence = gb_name(b, "frame%" PRIu64, f);
		gb_simple(b, now, R, WL_OP_SIGNAL, fence);
		for (uint64_t k = 0; k < nst; k++, now += step)
			gb_simple(b, now, C, WL_OP_UNMAP, gb_name(b, "st%" PRIu64 ".%" PRIu64, f, k));
		/* retire the frame on another stream once its fence has signalled */
		gb_simple(b, now, X, WL_OP_WAIT, fence);
		for (uint64_t k = 0; k < ntr; k++, now += step)
			gb_simple(b, now, X, WL_OP_FREE, gb_name(b, "tr%" PRIu64 ".%" PRIu64, f, k));
		for (uint64_t k = 0; k < npt; k++, now += step)
			gb_simple(b, now, X, WL_OP_FREE, gb_name(b, "pt%" PRIu64 ".%" PRIu64, f, k));
	}
	for (uint64_t i = 0; i < nres; i++)
		gb_simple(b, now, X, WL_OP_FREE, gb_name(b, "res%" PRIu64, i));
out:
	free(res_size);
	free(evicted);
	free(tr_size);
	free(st_size);
	wl_sizedist_free(dres);
	wl_sizedist_free(dtr);
	wl_sizedist_free(dst);
	return b->ok;
}

const gen_entry wl_gen_gpu_frame = {
	"gpu-frame",
	"GPU frames: long-lived resources, per-frame surfaces, page-table pages and staging uploads, retired on another stream after a fence",
	GPU_PARAMS, gpu_frame};

/* ------------------------------------------------------------------------ */

#define DMA_PARAMS "cpus=2 packets=20000 ring=256 size=uniform:4K:64K:page remote=0.05 interval_ns=1000 op=map seed=1"

/* map or alloc, per op=; unmap or free to match */
typedef struct dma_ops {
	bool alloc;
} dma_ops;

static void dma_create(gb *b, const dma_ops *o, uint64_t ts, uint32_t s, uint32_t id, uint64_t size)
{
	if (o->alloc)
		gb_alloc(b, ts, s, id, size);
	else
		gb_map(b, ts, s, id, size, (uint32_t)(size / 4096));
}

static bool streaming_dma(gb *b, wl_params *p, uint64_t seed)
{
	uint64_t cpus, packets, ring, interval;
	double remote;
	wl_sizedist *d = NULL;
	bool ok = gp_u64(b, p, "cpus", 2, 1, 1024, &cpus) && gp_u64(b, p, "packets", 20000, 1, UINT64_C(1) << 32, &packets) &&
		  gp_u64(b, p, "ring", 256, 1, 1 << 20, &ring) && gp_dist(b, p, "size", "uniform:4K:64K:page", &d) &&
		  gp_double(b, p, "remote", 0.05, 0, 1, &remote) && gp_u64(b, p, "interval_ns", 1000, 1, UINT64_C(1) << 40, &interval);
	const char *op = wl_params_str(p, "op", "map");
	if (ok && strcmp(op, "map") != 0 && strcmp(op, "alloc") != 0) {
		wl_set_error(b->err, NULL, 0, "parameter op=%s: map or alloc", op);
		ok = b->ok = false;
	}
	ok = ok && gp_done(b, p, "streaming-dma");
	uint64_t *head = NULL, *count = NULL;
	if (!ok)
		goto out;
	dma_ops o = {.alloc = strcmp(op, "alloc") == 0};
	wl_op_kind release = o.alloc ? WL_OP_FREE : WL_OP_UNMAP;
	head = calloc(cpus, sizeof *head);
	count = calloc(cpus, sizeof *count);
	if (!head || !count) {
		wl_set_error(b->err, NULL, 0, "out of memory");
		b->ok = false;
		goto out;
	}
	wl_rng rng;
	wl_rng_seed(&rng, seed);
	uint64_t now = 0;
	for (uint64_t i = 0; i < packets && b->ok; i++) {
		for (uint64_t c = 0; c < cpus; c++) {
			uint32_t s = gb_stream(b, (unsigned)c);
			if (count[c] == ring) {
				/* completion of the oldest descriptor, sometimes on another CPU (TX) */
				uint64_t done_cpu = c;
				if (cpus > 1 && wl_rng_unit(&rng) < remote)
					done_cpu = (c + 1 + wl_rng_below(&rng, cpus - 1)) % cpus;
				gb_simple(b, now, gb_stream(b, (unsigned)done_cpu), release,
					  gb_name(b, "c%" PRIu64 ".%" PRIu64, c, head[c] % ring));
				head[c]++;
				count[c]--;
			}
			dma_create(b, &o, now, s, gb_name(b, "c%" PRIu64 ".%" PRIu64, c, (head[c] + count[c]) % ring),
				   wl_sizedist_sample(d, &rng));
			count[c]++;
			now += interval / cpus ? interval / cpus : 1;
		}
	}
	for (uint64_t c = 0; c < cpus; c++)
		for (; count[c]; count[c]--, head[c]++)
			gb_simple(b, now, gb_stream(b, (unsigned)c), release, gb_name(b, "c%" PRIu64 ".%" PRIu64, c, head[c] % ring));
out:
	free(head);
	free(count);
	wl_sizedist_free(d);
	return b->ok;
}

const gen_entry wl_gen_streaming_dma = {
	"streaming-dma",
	"network-driver rings: per CPU, map 1-16 pages per packet and unmap when the ring wraps, some completions on another CPU",
	DMA_PARAMS, streaming_dma};

/* ------------------------------------------------------------------------ */

#define FRAG_PARAMS "small=4K count=8192 large=1M requests=64 streams=1 seed=1"

static bool fragmenter(gb *b, wl_params *p, uint64_t seed)
{
	(void)seed;
	uint64_t small, count, large, requests, streams;
	if (!(gp_u64(b, p, "small", 4096, 1, UINT64_C(1) << 40, &small) && gp_u64(b, p, "count", 8192, 2, UINT64_C(1) << 28, &count) &&
	      gp_u64(b, p, "large", 1 << 20, 1, UINT64_C(1) << 50, &large) &&
	      gp_u64(b, p, "requests", 64, 1, UINT64_C(1) << 28, &requests) && gp_u64(b, p, "streams", 1, 1, 1024, &streams) &&
	      gp_done(b, p, "fragmenter")))
		return false;
	uint64_t now = 0;
	for (uint64_t j = 0; j < count && b->ok; j++, now += 100)
		gb_alloc(b, now, gb_stream(b, (unsigned)(j % streams)), gb_name(b, "s%" PRIu64, j), small);
	for (uint64_t j = 1; j < count && b->ok; j += 2, now += 100)
		gb_simple(b, now, gb_stream(b, (unsigned)(j % streams)), WL_OP_FREE, gb_name(b, "s%" PRIu64, j));
	for (uint64_t k = 0; k < requests && b->ok; k++, now += 100)
		gb_alloc(b, now, gb_stream(b, (unsigned)(k % streams)), gb_name(b, "L%" PRIu64, k), large);
	for (uint64_t k = 0; k < requests && b->ok; k++, now += 100)
		gb_simple(b, now, gb_stream(b, (unsigned)(k % streams)), WL_OP_FREE, gb_name(b, "L%" PRIu64, k));
	for (uint64_t j = 0; j < count && b->ok; j += 2, now += 100)
		gb_simple(b, now, gb_stream(b, (unsigned)(j % streams)), WL_OP_FREE, gb_name(b, "s%" PRIu64, j));
	return b->ok;
}

const gen_entry wl_gen_fragmenter = {
	"fragmenter",
	"fill with small blocks, free every other one, then ask for large contiguous blocks (fragmentation's worst case)",
	FRAG_PARAMS, fragmenter};

/* ------------------------------------------------------------------------ */

#define CHURN_PARAMS                                                                                                 \
	"long_lived=4000 long_size=loguniform:4K:1M:page churn=200000 churn_size=loguniform:4K:64K:page window=32 "  \
	"streams=2 seed=1"

static bool long_lived_churn(gb *b, wl_params *p, uint64_t seed)
{
	uint64_t nlong, churn, window, streams;
	wl_sizedist *dl = NULL, *dc = NULL;
	bool ok = gp_u64(b, p, "long_lived", 4000, 1, UINT64_C(1) << 26, &nlong) && gp_dist(b, p, "long_size", "loguniform:4K:1M:page", &dl) &&
		  gp_u64(b, p, "churn", 200000, 0, UINT64_C(1) << 36, &churn) &&
		  gp_dist(b, p, "churn_size", "loguniform:4K:64K:page", &dc) && gp_u64(b, p, "window", 32, 1, 1 << 20, &window) &&
		  gp_u64(b, p, "streams", 2, 1, 1024, &streams) && gp_done(b, p, "long-lived-churn");
	uint8_t *keep = NULL;
	uint64_t *head = NULL, *count = NULL;
	if (!ok)
		goto out;
	keep = malloc(2 * nlong);
	head = calloc(streams, sizeof *head);
	count = calloc(streams, sizeof *count);
	if (!keep || !head || !count) {
		wl_set_error(b->err, NULL, 0, "out of memory");
		b->ok = false;
		goto out;
	}
	wl_rng rng;
	wl_rng_seed(&rng, seed);
	uint64_t now = 0;
	uint32_t s0 = gb_stream(b, 0);
	/* Twice as many ranges as kept, then a random half freed: the survivors
	 * are spread over the space with holes between them, as after a long run. */
	for (uint64_t j = 0; j < 2 * nlong && b->ok; j++, now += 100)
		gb_alloc(b, now, s0, gb_name(b, "ll%" PRIu64, j), wl_sizedist_sample(dl, &rng));
	memset(keep, 0, 2 * nlong);
	for (uint64_t kept = 0; kept < nlong;) {
		uint64_t j = wl_rng_below(&rng, 2 * nlong);
		if (!keep[j]) {
			keep[j] = 1;
			kept++;
		}
	}
	for (uint64_t j = 0; j < 2 * nlong && b->ok; j++)
		if (!keep[j]) {
			gb_simple(b, now, s0, WL_OP_FREE, gb_name(b, "ll%" PRIu64, j));
			now += 100;
		}
	for (uint64_t i = 0; i < churn && b->ok; i++, now += 100) {
		uint64_t s = i % streams;
		uint32_t st = gb_stream(b, (unsigned)s);
		if (count[s] == window) {
			gb_simple(b, now, st, WL_OP_FREE, gb_name(b, "ch%" PRIu64 ".%" PRIu64, s, head[s] % window));
			head[s]++;
			count[s]--;
		}
		gb_alloc(b, now, st, gb_name(b, "ch%" PRIu64 ".%" PRIu64, s, (head[s] + count[s]) % window),
			 wl_sizedist_sample(dc, &rng));
		count[s]++;
	}
	for (uint64_t s = 0; s < streams; s++)
		for (; count[s]; count[s]--, head[s]++)
			gb_simple(b, now, gb_stream(b, (unsigned)s), WL_OP_FREE, gb_name(b, "ch%" PRIu64 ".%" PRIu64, s, head[s] % window));
	for (uint64_t j = 0; j < 2 * nlong && b->ok; j++)
		if (keep[j])
			gb_simple(b, now, s0, WL_OP_FREE, gb_name(b, "ll%" PRIu64, j));
out:
	free(keep);
	free(head);
	free(count);
	wl_sizedist_free(dl);
	wl_sizedist_free(dc);
	return b->ok;
}

const gen_entry wl_gen_churn = {
	"long-lived-churn",
	"thousands of long-lived ranges spread over the space, then high-rate alloc/free churn (Malka et al.'s linear-time case)",
	CHURN_PARAMS, long_lived_churn};

/* ------------------------------------------------------------------------ */

#define ML_PARAMS                                                                                                    \
	"layers=24 iterations=20 weight_size=loguniform:1M:64M:page activation_size=loguniform:4M:128M:page "        \
	"workspace=256M batch=16M seed=1"

static bool ml_training(gb *b, wl_params *p, uint64_t seed)
{
	uint64_t layers, iters, workspace, batch;
	wl_sizedist *dw = NULL, *da = NULL;
	bool ok = gp_u64(b, p, "layers", 24, 1, 100000, &layers) && gp_u64(b, p, "iterations", 20, 1, 10000000, &iters) &&
		  gp_dist(b, p, "weight_size", "loguniform:1M:64M:page", &dw) &&
		  gp_dist(b, p, "activation_size", "loguniform:4M:128M:page", &da) &&
		  gp_u64(b, p, "workspace", 256 << 20, 1, UINT64_C(1) << 44, &workspace) &&
		  gp_u64(b, p, "batch", 16 << 20, 1, UINT64_C(1) << 44, &batch) && gp_done(b, p, "ml-training");
	uint64_t *wsize = NULL, *asize = NULL;
	if (!ok)
		goto out;
	wsize = calloc(layers, sizeof *wsize);
	asize = calloc(layers, sizeof *asize);
	if (!wsize || !asize) {
		wl_set_error(b->err, NULL, 0, "out of memory");
		b->ok = false;
		goto out;
	}
	wl_rng rng;
	wl_rng_seed(&rng, seed);
	uint32_t compute = gb_stream(b, 0), copy = gb_stream(b, 1);
	uint64_t now = 0, step = 10000;
	/* Once: weights, their gradients and optimizer moments (same sizes), the input buffer. */
	for (uint64_t l = 0; l < layers && b->ok; l++) {
		wsize[l] = wl_sizedist_sample(dw, &rng);
		asize[l] = wl_sizedist_sample(da, &rng); /* shapes are fixed: one size per layer */
		gb_alloc(b, now, compute, gb_name(b, "w%" PRIu64, l), wsize[l]);
		gb_alloc(b, now, compute, gb_name(b, "g%" PRIu64, l), wsize[l]);
		gb_alloc(b, now, compute, gb_name(b, "m%" PRIu64, l), wsize[l]);
		now += step;
	}
	uint32_t input = gb_name(b, "input");
	gb_alloc(b, now, compute, input, batch);
	for (uint64_t it = 0; it < iters && b->ok; it++) {
		/* copy engine: pinned host pages in, then released */
		uint32_t host = gb_name(b, "host%" PRIu64, it), in = gb_name(b, "in%" PRIu64, it);
		if (it)
			gb_simple(b, now, copy, WL_OP_WAIT, gb_name(b, "step%" PRIu64, it - 1)); /* input buffer free again */
		gb_map(b, now, copy, host, batch, (uint32_t)(batch / 65536 + 1));
		now += step;
		gb_transfer(b, now, copy, host, 0, input, 0, batch);
		gb_simple(b, now, copy, WL_OP_SIGNAL, in);
		now += step;
		gb_simple(b, now, copy, WL_OP_UNMAP, host);
		/* compute: forward allocates activations, a large workspace lives through it */
		gb_simple(b, now, compute, WL_OP_WAIT, in);
		uint32_t ws = gb_name(b, "ws");
		gb_alloc(b, now, compute, ws, workspace);
		for (uint64_t l = 0; l < layers; l++, now += step)
			gb_alloc(b, now, compute, gb_name(b, "a%" PRIu64, l), asize[l]);
		gb_simple(b, now, compute, WL_OP_FREE, ws);
		for (uint64_t l = 0; l < layers; l++)
			gb_fill(b, now, compute, gb_name(b, "g%" PRIu64, l), 0, wsize[l], 0); /* zero grads */
		/* backward: activations freed in reverse, a temporary per layer */
		for (uint64_t l = layers; l-- > 0; now += step) {
			uint32_t tmp = gb_name(b, "t%" PRIu64, l);
			gb_alloc(b, now, compute, tmp, asize[l] / 2 ? asize[l] / 2 : 1);
			gb_simple(b, now, compute, WL_OP_FREE, gb_name(b, "a%" PRIu64, l));
			gb_simple(b, now, compute, WL_OP_FREE, tmp);
		}
		for (uint64_t l = 0; l < layers; l++) /* optimizer step */
			gb_transfer(b, now, compute, gb_name(b, "g%" PRIu64, l), 0, gb_name(b, "m%" PRIu64, l), 0, wsize[l]);
		gb_simple(b, now, compute, WL_OP_SIGNAL, gb_name(b, "step%" PRIu64, it));
		now += step;
	}
	for (uint64_t l = 0; l < layers; l++) {
		gb_simple(b, now, compute, WL_OP_FREE, gb_name(b, "w%" PRIu64, l));
		gb_simple(b, now, compute, WL_OP_FREE, gb_name(b, "g%" PRIu64, l));
		gb_simple(b, now, compute, WL_OP_FREE, gb_name(b, "m%" PRIu64, l));
	}
	gb_simple(b, now, compute, WL_OP_FREE, input);
out:
	free(wsize);
	free(asize);
	wl_sizedist_free(dw);
	wl_sizedist_free(da);
	return b->ok;
}

const gen_entry wl_gen_ml_training = {
	"ml-training",
	"training iterations: weights once, activations allocated forward and freed in reverse, a large workspace, input copies",
	ML_PARAMS, ml_training};
