/*
 * Convolution drivers on top of nnl_gemm and the depthwise tap kernel.
 */
#include <string.h>

#include "kernels/conv_taps.h"
#include "kernels/dwc_body.h"
#include "kernels/wino.h"

bool nnl_conv_is_depthwise(const nnl_conv_params *p) {
    return p->group > 1 && p->group == p->c && p->group == p->oc;
}

bool nnl_conv_a8_ok(const nnl_conv_params *p) { return p->group == 1 || (p->oc / p->group) % NNL_MR == 0; }

/* ---- implicit GEMM -------------------------------------------------------
 * B is the image's im2col, packed per block straight from the image; or,
 * given the scratch, the wide pixel grid: the input is copied once
 * zero-padded and split into sh x sw phase planes of hp x wp (phase
 * (ry, rx) holds padded rows ry, ry + sh, ... and columns rx, rx + sw, ...;
 * one plane at stride 1), and output (oy, ox) becomes virtual pixel
 * f = oy * wp + ox: tap (ky, kx) reads phase ((ky dh) % sh, (kx dw) % sw)
 * at f + (ky dh / sh) wp + kx dw / sw, so every im2col row is one
 * contiguous slice of a phase plane (NNL_BSRC_WIDE), which the microkernel
 * reads in place: nothing is packed but the N tail (im2col packing took
 * 23-54% of a 3x3 conv's time, its panel being reused only M/8 times).
 * C on the wide grid has wp - ow virtual columns a row: the GEMM delivers
 * the real output, its residual and the activation after it applied
 * (nnl_gemm_ptrs.y).  Costs: one pass over the input and scratch for the
 * planes. */

typedef struct conv_gemm {
    const nnl_conv_params *p;
    const nnl_conv_args *a;
    const nnl_kernel *kern;    /* its split2 and pad_plane pad the grid */
    const float *xpad;         /* wide grid: padded input, else NULL */
    int64_t hp, wp, npx;       /* phase plane, virtual pixels */
    /* a band of the wide grid (band_task): its first output row, which
     * is also the first phase row its planes hold (hp of them) */
    int64_t oy0;
} conv_gemm;

static void conv_ptrs(const nnl_gemm_desc *d, int64_t item, nnl_gemm_ptrs *o) {
    const conv_gemm *cg = d->ctx;
    const nnl_conv_params *p = cg->p;
    const nnl_conv_args *a = cg->a;
    int64_t img = item / p->group, g = item % p->group;
    int64_t mg = p->oc / p->group, cgc = p->c / p->group, ohw = p->oh * p->ow;
    int64_t woff = d->a_packed ? g * mg / NNL_MR * d->k * NNL_MR : g * mg * d->k;
    if (a->wh)
        o->ah = a->wh + woff;
    else
        o->a = a->w + woff;
    o->bias_row = a->bias ? a->bias + g * mg : NULL;
    o->bias_col = NULL;
    o->b_scale = a->x_scale ? a->x_scale + img * p->c + g * cgc : NULL;
    int64_t yoff = (img * p->oc + g * mg) * ohw;
    o->res = a->res ? a->res + yoff : NULL;
    if (cg->xpad) {
        const int64_t band = cg->oy0 * p->ow;
        o->b = cg->xpad + (img * p->c + g * cgc) * p->sh * p->sw * cg->hp * cg->wp;
        o->y = a->y + yoff + band;
        o->res = a->res ? a->res + yoff + band : NULL;
        return;
    }
    o->b = a->x + (img * p->c + g * cgc) * p->h * p->w;
    o->c = a->y + yoff;
}

/* Strides above this take im2col: their phase planes multiply. */
#define WIDE_MAX_STRIDE 4

/* Wide-grid geometry of p: phase plane hp x wp, virtual pixels npx;
 * false where the grid does not apply. */
static bool wide_geom(const nnl_conv_params *p, int64_t *hp, int64_t *wp, int64_t *npx) {
    if (p->sh > WIDE_MAX_STRIDE || p->sw > WIDE_MAX_STRIDE || nnl_conv_is_depthwise(p)) return false;
    if (p->kh == 1 && p->kw == 1 && p->pt == 0 && p->pl == 0 && p->pb == 0 && p->pr == 0) return false;
    *hp = (p->pt + p->h + p->pb + p->sh - 1) / p->sh;
    *wp = (p->pl + p->w + p->pr + p->sw - 1) / p->sw;
    *npx = (p->oh - 1) * *wp + p->ow;
    return true;
}

/* Whether the grid pays on pixel tiles: its virtual columns cost whole
 * tiles of multiply-adds (counted at the widest tile, NNL_NR_MAX, so the
 * choice and the scratch do not depend on the kernel set), and the im2col
 * packing it saves is about 32 / M of them (bench_kernels: 23-54% of the
 * time at M = 64-256); FCN's dilated 3x3 at 32x48, 14% more tiles at
 * M = 512, ran 15% slower on the grid, a 7x7 plane's 2 virtual columns
 * fit in the tail tile it has anyway. */
static bool wide_tiles_pay(const nnl_conv_params *p, int64_t npx) {
    int64_t tiles = (p->oh * p->ow + NNL_NR_MAX - 1) / NNL_NR_MAX;
    int64_t extra = (npx + NNL_NR_MAX - 1) / NNL_NR_MAX - tiles;
    return extra * (p->oc / p->group) <= 32 * tiles;
}

/* Whether p's scratch holds the grid: where pixel tiles pay, and on maps
 * small enough for the transposed tile, which computes real pixels only
 * and which the kernel set takes or not at run time (SqueezeNet's 64 ->
 * 256 3x3 at 13x13 packed im2col for pixel tiles, 22% of its time:
 * 0.42 -> 0.35 ms on the grid's transposed tiles, Xeon AMX, avx512). */
static bool wide_grid(const nnl_conv_params *p, int64_t *hp, int64_t *wp, int64_t *npx) {
    return wide_geom(p, hp, wp, npx) && (wide_tiles_pay(p, *npx) || p->oh * p->ow <= NNL_TG_CONV_MAX_PIX);
}

/* Floats of the wide grid's phase planes, all images and channels. */
static int64_t wide_in_floats(const nnl_conv_params *p, int64_t hp, int64_t wp) {
    return p->n * p->c * p->sh * p->sw * hp * wp;
}

/* ---- bands of the grid ------------------------------------------------
 * Phase planes past 2 BAND_BYTES are filled and read a band of output rows
 * at a time, each band by one thread into its own piece of the op's
 * scratch (band_task): a band's planes are still in L2 when its GEMM reads
 * them.  Filled whole, they went out to L3 and DRAM between the two
 * passes, and in a network, whose scratch lines are cold at each run, paid
 * a read for ownership as well (RegNetX-400MF's grouped 3x3/2 at 112x112,
 * 1.7 MB of planes: a third of its time where its input and scratch were
 * flushed from the caches).  A band's planes hold the halo rows of the
 * taps below it again (rows is at least 3 halos).  The scratch still holds
 * the whole grid, which runs where the bands of all threads do not fit.
 * Maps the transposed tiles may take (at most NNL_TG_CONV_MAX_PIX pixels)
 * stay whole: those tiles address the output as one grid. */
#define BAND_BYTES ((size_t)256 << 10)

/* Phase rows a band's taps read below its output rows. */
static int64_t band_halo(const nnl_conv_params *p) { return (p->kh - 1) * p->dh / p->sh; }

/* Output rows a band of p's grid holds on `threads` threads, 0 where the
 * grid is filled whole: also where the GEMM does more than BAND_MAX_REUSE
 * multiply-adds a plane float on one thread, whose time hides the planes'
 * trips (ResNet-18's 3x3s at 56x56, 576, ran 5% slower in bands; on
 * several threads a whole grid is filled by channels, and every GEMM task
 * then read planes from the other core: the 7x7/2 stems of ResNet-18/50,
 * GoogLeNet and DenseNet-121, 3136, 0.79-0.81 -> 0.70-0.72 ms in bands at 2
 * threads, Zen 5), and where a
 * band would hold fewer than BAND_MIN_PIX virtual pixels, whose short
 * GEMMs lose more in their tail tiles and calls than the band saves
 * (RegNetX's grouped 3x3/2 at 56x56: 7 rows of 29, 20% slower).  On
 * several threads at least 4 bands a thread, so that they finish together
 * (a stem's 3 bands of 47 rows on 2 threads: 2 against 1). */
#define BAND_MAX_REUSE 256
#define BAND_MIN_PIX 384
static int64_t band_rows(const nnl_conv_params *p, int64_t hp, int64_t wp, int threads) {
    if ((size_t)wide_in_floats(p, hp, wp) * sizeof(float) <= 2 * BAND_BYTES || p->oh * p->ow <= NNL_TG_CONV_MAX_PIX ||
        (threads == 1 && p->oc / p->group * p->kh * p->kw > BAND_MAX_REUSE * p->sh * p->sw))
        return 0;
    const int64_t halo = band_halo(p), row = p->n * p->c * p->sh * p->sw * wp * (int64_t)sizeof(float);
    int64_t rows = (int64_t)BAND_BYTES / row - halo;
    if (rows * wp < BAND_MIN_PIX) return 0;
    const int64_t even = (p->oh + 4 * threads - 1) / (4 * threads);
    if (threads > 1 && even < rows) rows = even;
    if (rows < 3 * halo) rows = 3 * halo;
    if (rows < 1) rows = 1;
    return rows < p->oh ? rows : 0;
}

/* Floats of the wide grid's scratch: the phase planes (C is a block per
 * GEMM task in thread scratch, nnl_gemm_ptrs.y). */
static size_t wide_floats(const nnl_conv_params *p, int64_t hp, int64_t wp) {
    return (size_t)wide_in_floats(p, hp, wp) + 2 * NNL_ALIGN / sizeof(float);
}

typedef float v4f __attribute__((vector_size(16)));

/* d[j] = s[2 j], j < n: a stride-2 phase row, a vector shuffle on every
 * ISA (the scalar gather was 5% of MnasNet's time, its stem's planes). */
static void every_other(float *d, const float *s, int64_t n) {
    int64_t j = 0;
    for (; j + 4 <= n && 2 * j + 8 <= 2 * n - 1; j += 4) {
        v4f a, b, e;
        memcpy(&a, s + 2 * j, sizeof a);
        memcpy(&b, s + 2 * j + 4, sizeof b);
        e = __builtin_shufflevector(a, b, 0, 2, 4, 6);
        memcpy(d + j, &e, sizeof e);
    }
    for (; j < n; j++) d[j] = s[2 * j];
}

/* d[0..n) = s[0..n): rows of small planes (7x7, 14x14) in 16-byte moves,
 * the last one overlapping, where a library call per row cost more than
 * the copy (pad_plane was 8% of RegNetX-400MF). */
static void copy_row(float *d, const float *s, int64_t n) {
    if (n < 4 || n > 64) {
        memcpy(d, s, (size_t)n * sizeof(float));
        return;
    }
    v4f t;
    for (int64_t j = 0; j + 4 < n; j += 4) {
        memcpy(&t, s + j, sizeof t);
        memcpy(d + j, &t, sizeof t);
    }
    memcpy(&t, s + n - 4, sizeof t);
    memcpy(d + n - 4, &t, sizeof t);
}

/* A padded row: zeros, then n0..n1 from copy(), then zeros up to wp.  With
 * pads of at most 4 and wp >= 4 the pads are one zero vector each, stored
 * before the copy overwrites what they cover of the interior. */
static void pad_row(float *row, int64_t wp, int64_t n0, int64_t n1) {
    if (n0 <= 4 && wp - n1 <= 4 && wp >= 4) {
        const v4f z = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(row, &z, sizeof z);
        memcpy(row + wp - 4, &z, sizeof z);
        return;
    }
    memset(row, 0, (size_t)n0 * sizeof(float));
    memset(row + n1, 0, (size_t)(wp - n1) * sizeof(float));
}

/* d[j] = s[j * sw], j < n: a row of every sw-th input column. */
static void strided_row(float *d, const float *s, int64_t n, int64_t sw) {
    if (sw == 1)
        copy_row(d, s, n);
    else if (sw == 2)
        every_other(d, s, n);
    else
        for (int64_t j = 0; j < n; j++) d[j] = s[j * sw];
}

/* Stride 2 across: an input row read once, its even columns to one column
 * phase and its odd ones to the other.  Input column x goes to phase
 * (x + pl) % 2 at (x + pl) / 2: the evens to phase pl % 2 from (pl - pl %
 * 2) / 2, the odds to the other from (pl + pl % 2) / 2.  (Two passes of
 * every_other over each row, one a phase, were 26-44% of RegNetX's
 * grouped stride-2 convs; in 16-byte shuffles this still took 27-34%
 * of them (perf, Xeon), hence the set's split2 where it has one, on rows
 * of at least SPLIT2_MIN columns a phase: RegNetX's 112-wide rows 7%
 * faster in its conv, 14-wide ones 5% slower, where the call and its
 * masks cost more than the few shuffles inline.) */
#define SPLIT2_MIN 16
static void split_row2(float *ph0, float *ph1, const float *s, int64_t w, int64_t pl, int64_t wp, bool pads,
                       nnl_split2_fn split2) {
    const int64_t e = pl % 2, oe = (pl - e) / 2, oo = (pl + e) / 2;
    float *de = e ? ph1 : ph0, *dd = e ? ph0 : ph1;
    int64_t ne = (w + 1) / 2, no = w / 2;
    if (ne > wp - oe) ne = wp - oe > 0 ? wp - oe : 0;
    if (no > wp - oo) no = wp - oo > 0 ? wp - oo : 0;
    if (pads) {
        pad_row(de, wp, oe, oe + ne);
        pad_row(dd, wp, oo, oo + no);
    }
    de += oe;
    dd += oo;
    int64_t k = 0;
    if (split2 && no >= SPLIT2_MIN && ne >= SPLIT2_MIN) {
        k = no < ne ? no : ne;
        split2(de, dd, s, k);
    }
    for (; k + 4 <= no && k + 4 <= ne && 2 * k + 8 <= w; k += 4) {
        v4f a, b, ev, od;
        memcpy(&a, s + 2 * k, sizeof a);
        memcpy(&b, s + 2 * k + 4, sizeof b);
        ev = __builtin_shufflevector(a, b, 0, 2, 4, 6);
        od = __builtin_shufflevector(a, b, 1, 3, 5, 7);
        memcpy(de + k, &ev, sizeof ev);
        memcpy(dd + k, &od, sizeof od);
    }
    for (int64_t j = k; j < ne; j++) de[j] = s[2 * j];
    for (int64_t j = k; j < no; j++) dd[j] = s[2 * j + 1];
}

/* Phase planes of at most this many floats are zeroed in one call. */
#define SMALL_PLANE_FLOATS 4096

/* Phase rows [i0, i1) of one input plane (image, channel) in its
 * zero-padded phase planes (of a band's rows when cg is a band's). */
static void pad_rows(const conv_gemm *cg, int64_t pl, int64_t i0, int64_t i1) {
    const nnl_conv_params *p = cg->p;
    const int64_t hp = cg->hp, wp = cg->wp, sh = p->sh, sw = p->sw;
    const float *src = cg->a->x + pl * p->h * p->w;
    float *dst = (float *)cg->xpad + pl * sh * sw * hp * wp;
    if (cg->kern->pad_plane && i0 == 0 && i1 == hp && sh == sw && sh <= 2 && sw * wp <= NNL_PAD_PLANE_MAX &&
        p->w <= NNL_PAD_PLANE_MAX && p->pl <= 15 && (sw == 2 || p->pl + p->w <= wp)) {
        cg->kern->pad_plane(dst, src, p->h, p->w, p->pt, p->pl, cg->oy0, hp, wp, (int)sh);
        return;
    }
    if (sw == 2) {
        /* small planes (14x14, 28x28) zeroed whole at once: per-row pads
         * of a few floats cost more in calls than the stores they save */
        const bool whole = sh * sw * hp * wp <= SMALL_PLANE_FLOATS;
        if (whole)
            for (int64_t ph = 0; ph < sh * sw; ph++)
                memset(dst + (ph * hp + i0) * wp, 0, (size_t)((i1 - i0) * wp) * sizeof(float));
        for (int64_t ry = 0; ry < sh; ry++)
            for (int64_t i = i0; i < i1; i++) {
                float *q0 = dst + (ry * 2 * hp + i) * wp, *q1 = q0 + hp * wp;
                int64_t y = (cg->oy0 + i) * sh + ry - p->pt;
                if (y >= 0 && y < p->h)
                    split_row2(q0, q1, src + y * p->w, p->w, p->pl, wp, !whole, cg->kern->split2);
                else if (!whole) {
                    memset(q0, 0, (size_t)wp * sizeof(float));
                    memset(q1, 0, (size_t)wp * sizeof(float));
                }
            }
        return;
    }
    if (sh == 1 && sw == 1 && hp * wp <= SMALL_PLANE_FLOATS && p->pl + p->w <= wp) {
        /* small planes (7x7 to 28x28 at stride 1: RegNetX's grouped
         * convs, the 3x3s of every ResNet stage end) zeroed whole, then
         * the rows: a pad call and a copy call a row were a quarter of a
         * 7x7 grouped conv's time */
        memset(dst + i0 * wp, 0, (size_t)((i1 - i0) * wp) * sizeof(float));
        int64_t y0 = i0 + cg->oy0 - p->pt, y1 = i1 + cg->oy0 - p->pt;
        y0 = y0 < 0 ? 0 : y0;
        y1 = y1 > p->h ? p->h : y1;
        for (int64_t y = y0; y < y1; y++)
            copy_row(dst + (y + p->pt - cg->oy0) * wp + p->pl, src + y * p->w, p->w);
        return;
    }
    for (int64_t ry = 0; ry < sh; ry++)
        for (int64_t rx = 0; rx < sw; rx++) {
            float *ph = dst + (ry * sw + rx) * hp * wp;
            /* phase column j reads input column j * sw + rx - pl: [j0, j1) of them exist */
            int64_t j0 = (p->pl - rx + sw - 1) / sw, j1 = (p->pl + p->w - rx + sw - 1) / sw;
            if (j0 > wp) j0 = wp;
            if (j1 > wp) j1 = wp;
            if (j1 < j0) j1 = j0;
            for (int64_t i = i0; i < i1; i++) {
                float *row = ph + i * wp;
                int64_t y = (cg->oy0 + i) * sh + ry - p->pt;
                if (y < 0 || y >= p->h) {
                    memset(row, 0, (size_t)wp * sizeof(float));
                    continue;
                }
                const float *s = src + y * p->w + j0 * sw + rx - p->pl;
                pad_row(row, wp, j0, j1);
                strided_row(row + j0, s, j1 - j0, sw);
            }
        }
}

/* A whole input plane (image, channel) into its zero-padded phase planes. */
static void pad_one(const conv_gemm *cg, int64_t pl) { pad_rows(cg, pl, 0, cg->hp); }

/* pad_one as a pool task, plane pl of the whole grid. */
static void pad_plane(void *ctx, int64_t pl, int thread) {
    (void)thread;
    pad_one(ctx, pl);
}

/* Task t of `tasks` bands of the whole grid's phase rows: those rows
 * of every plane. */
typedef struct pad_band_job {
    const conv_gemm *cg;
    int64_t planes, tasks;
} pad_band_job;

static void pad_band(void *ctx, int64_t t, int thread) {
    (void)thread;
    const pad_band_job *j = ctx;
    const int64_t hp = j->cg->hp, i0 = hp * t / j->tasks, i1 = hp * (t + 1) / j->tasks;
    for (int64_t pl = 0; pl < j->planes; pl++) pad_rows(j->cg, pl, i0, i1);
}

/* pad_one over the planes of GEMM item i (one image's group), for
 * nnl_gemm_desc.item_prep. */
static void pad_item(const nnl_gemm_desc *d, int64_t i) {
    const conv_gemm *cg = d->ctx;
    const int64_t cpg = cg->p->c / cg->p->group;
    for (int64_t pl = i * cpg; pl < (i + 1) * cpg; pl++) pad_one(cg, pl);
}

/* Copy `copy` of the padded input: every plane, at copy * copy_floats. */
typedef struct pad_copies {
    const conv_gemm *cg;
    int64_t planes, copy_floats;
} pad_copies;

static void pad_copy(void *ctx, int64_t copy, int thread) {
    (void)thread;
    const pad_copies *j = ctx;
    conv_gemm cg = *j->cg;
    cg.xpad += copy * j->copy_floats;
    for (int64_t pl = 0; pl < j->planes; pl++) pad_one(&cg, pl);
}

/* Pieces of the op's scratch start on NNL_ALIGN boundaries. */
static size_t aligned(size_t b) { return (b + NNL_ALIGN - 1) / NNL_ALIGN * NNL_ALIGN; }

/* ---- strided 1x1 -------------------------------------------------------
 * A 1x1 conv without pads and with stride reads every sh-th row's every
 * sw-th pixel.  im2col gathered them into each B panel; instead they are
 * copied once into an oh x ow plane a channel (op scratch) and the conv
 * runs as the pointwise one on it, whose B the microkernels read in place
 * (RegNetX's and ResNet's projection shortcuts ran 1.5-1.9x ORT's Conv
 * node on im2col). */
static bool strided_pointwise(const nnl_conv_params *p) {
    return p->kh == 1 && p->kw == 1 && (p->sh > 1 || p->sw > 1) && p->pt == 0 && p->pl == 0 && p->pb == 0 &&
           p->pr == 0;
}

/* p as the pointwise conv of its subsampled input. */
static nnl_conv_params subsampled(const nnl_conv_params *p) {
    nnl_conv_params q = *p;
    q.h = p->oh;
    q.w = p->ow;
    q.sh = q.sw = 1;
    q.dh = q.dw = 1;
    return q;
}

static size_t subsample_bytes(const nnl_conv_params *p) {
    return aligned((size_t)(p->n * p->c * p->oh * p->ow) * sizeof(float));
}

typedef struct subsample_job {
    const nnl_conv_params *p;
    const float *x;
    float *d;
    nnl_split2_fn split2;      /* the kernel set's (NULL: strided_row) */
} subsample_job;

/* One plane (image, channel): d[oy][ox] = x[oy sh][ox sw].  Stride-2
 * rows of SPLIT2_MIN and more through the set's split2 (even columns
 * only): in 16-byte shuffles they were a third of RegNetX's 32 -> 32
 * projection at 112x112, 0.086 ms against 0.051 for the conv on an
 * input already subsampled (Xeon, avx512). */
static void subsample_plane(void *ctx, int64_t pl, int thread) {
    (void)thread;
    const subsample_job *j = ctx;
    const nnl_conv_params *p = j->p;
    const float *src = j->x + pl * p->h * p->w;
    float *dst = j->d + pl * p->oh * p->ow;
    const bool vec = j->split2 && p->sw == 2 && p->ow >= SPLIT2_MIN;
    for (int64_t oy = 0; oy < p->oh; oy++)
        if (vec)
            j->split2(dst + oy * p->ow, NULL, src + oy * p->sh * p->w, p->ow);
        else
            strided_row(dst + oy * p->ow, src + oy * p->sh * p->w, p->ow, p->sw);
}

/* An input channel scale (squeeze-and-excitation) on a 1x1 conv:
 * W (X * s) = (W * s) X.  Scaling the weight's K columns costs M x K a
 * image, scaling X while packing it K x N and keeps X from being read in
 * place; the weight is scaled into the op's scratch where it is the
 * smaller (M below N: every SE block but those on 7x7 planes). */
static bool scale_weight_pays(const nnl_conv_params *p) {
    return p->x_scaled && p->group == 1 && p->kh == 1 && p->kw == 1 &&
           (p->oc + NNL_MR - 1) / NNL_MR * NNL_MR < p->oh * p->ow;
}

/* Where the weight is the larger (SE projections on 7x7 and 14x14 maps):
 * X scaled once into the op's scratch, so the conv reads its B in place
 * like any other.  Scaled while packed, B kept these convs off the
 * transposed tile, which takes no scale: pixel tiles at 49 pixels use 49
 * of 64 lanes and pack B per block. */
static bool scale_x_pays(const nnl_conv_params *p) {
    return p->x_scaled && !scale_weight_pays(p) && p->group == 1 && p->kh == 1 && p->kw == 1 && p->sh == 1 &&
           p->sw == 1 && p->pt == 0 && p->pl == 0 && p->pb == 0 && p->pr == 0 &&
           p->oh * p->ow <= NNL_TG_CONV_MAX_PIX;
}

static size_t scaled_x_bytes(const nnl_conv_params *p) {
    return aligned((size_t)(p->n * p->c * p->h * p->w) * sizeof(float));
}

typedef struct scale_x_job {
    const float *x, *s;
    float *d;
    int64_t hw;
} scale_x_job;

static void scale_x_plane(void *ctx, int64_t pl, int thread) {
    (void)thread;
    const scale_x_job *j = ctx;
    const float f = j->s[pl], *x = j->x + pl * j->hw;
    float *d = j->d + pl * j->hw;
    for (int64_t i = 0; i < j->hw; i++) d[i] = x[i] * f;
}

/* Bytes of the scaled weight (whole panels, PACK_A8 or PLAIN), aligned. */
static size_t scaled_weight_bytes(const nnl_conv_params *p) {
    return aligned((size_t)((p->oc + NNL_MR - 1) / NNL_MR * NNL_MR * p->c) * sizeof(float));
}

/* dst = the weight (float32 or float16, PACK_A8 or PLAIN) with column k
 * scaled by s[k], as float32 in the same layout. */
static void scale_weight(float *dst, const nnl_conv_params *p, const nnl_conv_args *a, const float *s,
                         const nnl_kernel *kern) {
    bool packed = a->w_layout == NNL_LAYOUT_PACK_A8;
    int64_t k = p->c, rows = packed ? (p->oc + NNL_MR - 1) / NNL_MR : p->oc, per = packed ? NNL_MR : 1;
    for (int64_t r = 0; r < rows; r++) {
        float *d = dst + r * k * per;
        if (a->wh)
            kern->h2f(d, a->wh + r * k * per, k * per);
        else
            memcpy(d, a->w + r * k * per, (size_t)(k * per) * sizeof(float));
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = 0; i < per; i++) d[j * per + i] *= s[j];
    }
}

static nnl_status conv_gemm_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                                nnl_pool *pool, void *const *ts);

/* a with the first `used` bytes of its scratch taken (they hold a
 * transformed operand the conv then reads). */
static nnl_conv_args past_scratch(const nnl_conv_args *a, size_t used) {
    nnl_conv_args t = *a;
    t.scratch = (char *)a->scratch + used;
    t.scratch_bytes = a->scratch_bytes - used;
    return t;
}

/* The conv image by image on a weight scaled for each. */
static nnl_status conv_scaled_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                                  nnl_pool *pool, void *const *ts) {
    size_t wbytes = scaled_weight_bytes(p);
    nnl_conv_params q = *p;
    q.n = 1;
    q.x_scaled = false;
    int64_t xs = p->c * p->h * p->w, ys = p->oc * p->oh * p->ow;
    for (int64_t img = 0; img < p->n; img++) {
        nnl_conv_args t = past_scratch(a, wbytes);
        scale_weight(a->scratch, p, a, a->x_scale + img * p->c, kern);
        t.w = a->scratch;
        t.wh = NULL;
        t.x_scale = NULL;
        t.x = a->x + img * xs;
        t.y = a->y + img * ys;
        t.res = a->res ? a->res + img * ys : NULL;
        nnl_status st = conv_gemm_run(&q, &t, kern, pool, ts);
        if (st) return st;
    }
    return NNL_OK;
}

typedef struct band_job {
    const conv_gemm *cg;       /* the whole grid's */
    const nnl_gemm_desc *w;    /* its GEMM */
    const nnl_kernel *kern;
    void *const *ts;
    float *buf;                /* thread t's band planes at t * floats */
    size_t floats;
    int64_t rows;
    nnl_status st;             /* a failed band's status */
} band_job;

/* Band t: its planes filled, then its GEMM, on this thread alone.  The
 * pool hands a thread a contiguous range of bands, so band t + 1 is
 * mostly this thread's next: its input rows are asked into L2 first (read
 * cold, a band's short runs of many planes kept the hardware prefetcher
 * from ramping up: RegNetX's 32 runs of 6 KB a band). */
static void band_task(void *ctx, int64_t t, int thread) {
    band_job *j = ctx;
    const conv_gemm *cg = j->cg;
    const nnl_conv_params *p = cg->p;
    const int64_t halo = band_halo(p), oy0 = t * j->rows, ob = oy0 + j->rows < p->oh ? j->rows : p->oh - oy0;
    conv_gemm b = *cg;
    b.xpad = j->buf + (size_t)thread * j->floats;
    b.oy0 = oy0;
    b.hp = ob + halo < cg->hp - oy0 ? ob + halo : cg->hp - oy0;
    b.npx = (ob - 1) * cg->wp + p->ow;
    int64_t f0 = (oy0 + j->rows) * p->sh - p->pt, f1 = (oy0 + 2 * j->rows + halo) * p->sh - p->pt;
    f0 = f0 < 0 ? 0 : f0 > p->h ? p->h : f0;
    f1 = f1 < f0 ? f0 : f1 > p->h ? p->h : f1;
    for (int64_t pl = 0; pl < p->n * p->c; pl++) {
        const float *src = cg->a->x + pl * p->h * p->w;
        nnl_prefetch_l2_range(src + f0 * p->w, (size_t)((f1 - f0) * p->w) * sizeof(float));
        pad_one(&b, pl);
    }
    nnl_gemm_desc d = *j->w;
    d.ctx = &b;
    d.n = d.ldc = b.npx;
    d.geom.h = b.hp;
    d.geom.oh = ob;
    d.y_cs = p->oh * p->ow;
    d.b_prepack = NULL;
    d.b_prepack_bytes = 0;
    nnl_status st = nnl_gemm(&d, j->kern, NULL, j->ts + thread);
    if (st) __atomic_store_n(&j->st, st, __ATOMIC_RELAXED);
}

static nnl_status conv_gemm_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                                nnl_pool *pool, void *const *ts) {
    if (a->x_scale && scale_weight_pays(p) && a->scratch && a->scratch_bytes >= scaled_weight_bytes(p))
        return conv_scaled_run(p, a, kern, pool, ts);
    size_t sb;
    if (a->x_scale && scale_x_pays(p) && a->scratch && a->scratch_bytes >= (sb = scaled_x_bytes(p))) {
        /* x_scale holds a scale per (image, channel): one per plane */
        scale_x_job j = {.x = a->x, .s = a->x_scale, .d = a->scratch, .hw = p->h * p->w};
        nnl_pool_run(pool, p->n * p->c, scale_x_plane, &j);
        nnl_conv_params q = *p;
        q.x_scaled = false;
        nnl_conv_args t = past_scratch(a, sb);
        t.x = a->scratch;
        t.x_scale = NULL;
        return conv_gemm_run(&q, &t, kern, pool, ts);
    }
    if (strided_pointwise(p) && a->scratch && a->scratch_bytes >= (sb = subsample_bytes(p))) {
        nnl_conv_params q = subsampled(p);
        subsample_job j = {.p = p, .x = a->x, .d = a->scratch, .split2 = kern->split2};
        nnl_pool_run(pool, p->n * p->c, subsample_plane, &j);
        nnl_conv_args t = past_scratch(a, sb);
        t.x = a->scratch;
        return conv_gemm_run(&q, &t, kern, pool, ts);
    }
    conv_gemm cg = {.p = p, .a = a, .kern = kern};
    int64_t cgc = p->c / p->group, ohw = p->oh * p->ow;
    nnl_gemm_desc d = {
        .m = p->oc / p->group,
        .n = ohw,
        .k = cgc * p->kh * p->kw,
        .batch = p->n * p->group,
        .a_packed = a->w_layout == NNL_LAYOUT_PACK_A8,
        .a_f16 = a->wh != NULL,
        .a_rs = cgc * p->kh * p->kw,
        .a_cs = 1,
        .ldc = ohw,
        .epi = {.alpha = 1.0f, .res_rs = ohw, .beta = 1.0f, .act = a->act, .act_a = a->act_a, .act_b = a->act_b},
        .res_cs = 1,
        .ptrs = conv_ptrs,
        .ctx = &cg,
        .b_prepack = a->scratch,
        .b_prepack_bytes = a->scratch_bytes,
    };
    size_t wf;
    if (wide_grid(p, &cg.hp, &cg.wp, &cg.npx) && a->scratch &&
        a->scratch_bytes >= (wf = wide_floats(p, cg.hp, cg.wp)) * sizeof(float)) {
        nnl_gemm_desc w = d;
        cg.xpad = a->scratch;
        w.n = cg.npx;
        w.ldc = cg.npx;
        w.b_kind = NNL_BSRC_WIDE;
        w.geom = (nnl_conv_geom){.c = cgc, .h = cg.hp, .w = cg.wp, .kh = p->kh, .kw = p->kw, .sh = p->sh, .sw = p->sw,
                                 .dh = p->dh, .dw = p->dw, .oh = p->oh, .ow = p->ow};
        w.b_prepack = (float *)((char *)a->scratch + wf * sizeof(float));
        w.b_prepack_bytes = a->scratch_bytes - wf * sizeof(float);
        if (wide_tiles_pay(p, cg.npx) || nnl_gemm_transposed(&w, kern)) {
            const int threads = nnl_pool_threads(pool);
            const int64_t rows = band_rows(p, cg.hp, cg.wp, threads);
            /* a band's planes hold rows + halo phase rows */
            const size_t bf = rows ? wide_floats(p, rows + band_halo(p), cg.wp) : 0;
            if (rows && (size_t)threads * bf <= wf) {
                band_job j = {.cg = &cg, .w = &w, .kern = kern, .ts = ts, .buf = a->scratch, .floats = bf,
                              .rows = rows};
                nnl_pool_run(pool, (p->oh + rows - 1) / rows, band_task, &j);
                return j.st;
            }
            /* Strided convs of one image and one group run as the
             * transposed tile give each thread its own copy of the phase
             * planes where the scratch holds them: every tile task reads
             * all of the input, and with one copy half of it came from the
             * planes the other thread had scattered, line by line out of
             * the other core's cache.  ResNet-50's 3x3/2 convs at 2
             * threads 1.28 -> 0.92 and 1.13 -> 0.94 ms on an EPYC whose
             * two vCPUs pass a line in ~240 ns, though the padding is done
             * twice.  Stride 1 gained 2-4% there (within noise) and
             * lost alone; RegNetX's grouped 3x3/2 convs lost 25-33%. */
            const int64_t cf = (int64_t)aligned(wf * sizeof(float)) / (int64_t)sizeof(float);
            if ((p->sh > 1 || p->sw > 1) && p->group == 1 && p->n == 1 && threads > 1 &&
                nnl_gemm_transposed(&w, kern) && (size_t)(threads * cf) * sizeof(float) <= a->scratch_bytes) {
                pad_copies j = {.cg = &cg, .planes = p->c, .copy_floats = cf};
                w.b_copy_floats = cf;
                w.b_prepack = NULL;
                w.b_prepack_bytes = 0;
                nnl_pool_run(pool, threads, pad_copy, &j);
                return nnl_gemm(&w, kern, pool, ts);
            }
            /* a grouped conv's items pad their own planes: on 2 threads
             * the pass over all planes before the GEMM took longer than on
             * 1 (RegNetX's 160 at 14x14: 9 us against 5.6) */
            /* one group on pixel tiles and several threads: padded by
             * bands of rows, 4 a thread, which the pool hands out in
             * contiguous ranges, as it does the GEMM's column blocks, so
             * a thread's tiles mostly read rows it padded (by planes, each
             * read half its rows from the other core's cache: SqueezeNet's
             * 3x3s at 55x55 5-9% slower at 2 threads, Zen 5) */
            if (p->group > 1)
                w.item_prep = pad_item;
            else if (threads > 1 && p->n == 1 && !nnl_gemm_transposed(&w, kern)) {
                pad_band_job j = {.cg = &cg, .planes = p->c, .tasks = 4 * threads};
                nnl_pool_run(pool, j.tasks, pad_band, &j);
            } else
                nnl_pool_run(pool, p->n * p->c, pad_plane, &cg);
            return nnl_gemm(&w, kern, pool, ts);
        }
        cg.xpad = NULL;
    }
    bool pointwise = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 &&
                     p->pb == 0 && p->pr == 0;
    if (pointwise) {
        d.b_kind = NNL_BSRC_STRIDED;
        d.b_rs = p->h * p->w;
        d.b_cs = 1;
    } else {
        d.b_kind = NNL_BSRC_IM2COL;
        d.geom = (nnl_conv_geom){.c = cgc, .h = p->h, .w = p->w, .kh = p->kh, .kw = p->kw, .sh = p->sh,
                                 .sw = p->sw, .dh = p->dh, .dw = p->dw, .pt = p->pt, .pl = p->pl,
                                 .oh = p->oh, .ow = p->ow};
    }
    return nnl_gemm(&d, kern, pool, ts);
}

/* ---- depthwise -------------------------------------------------------
 * Blocks of kern->dwc_lanes channels (kern->dwc: channels in the vector
 * lanes, kernels/dwc_body.h, or for the geometries kern->dwc_pixels
 * takes, output pixels in the lanes, kernels/dwp_avx512.h): a task is one
 * (image, channel block, band of output rows).  Its head of thread
 * scratch holds the block's taps transposed to lanes, the bias, and the
 * taps widened from a float16 weight; the kernel's buffer follows. */

typedef struct dw_ctx {
    const nnl_conv_params *p;
    const nnl_conv_args *a;
    const nnl_kernel *kern;
    void *const *ts;
    int64_t nblk, nband, bo;   /* channel blocks, bands, output rows a band */
    /* On several threads a task first asks for its block's input rows
     * (into L2): the layer before, split by pixels, left half of each
     * plane in the other core's cache, and the kernel's own loads reached
     * them one stride at a time (MnasNet-0.5's 3x3 and 5x5 depthwise
     * convs 1-12% faster in the network, Zen 5, avx512; on 1 thread the
     * rows are the core's own). */
    bool pre;
} dw_ctx;

static int64_t dw_head_floats(const nnl_conv_params *p, int lanes) {
    return nnl_dwc_up((2 * p->kh * p->kw + 1) * lanes, NNL_ALIGN / (int64_t)sizeof(float));
}

/* The kernel's geometry for a band of `rows` output rows. */
static nnl_dwc_args dw_geometry(const nnl_conv_params *p, int64_t rows) {
    return (nnl_dwc_args){.h = p->h, .w = p->w, .kh = p->kh, .kw = p->kw, .sh = p->sh, .sw = p->sw,
                          .dh = p->dh, .dw = p->dw, .pt = p->pt, .pl = p->pl, .ow = p->ow, .rows = rows};
}

static void dw_task(void *vctx, int64_t item, int thread) {
    const dw_ctx *d = vctx;
    const nnl_conv_params *p = d->p;
    const nnl_conv_args *a = d->a;
    const int lanes = d->kern->dwc_lanes;
    const int64_t band = item % d->nband, blk = item / d->nband % d->nblk, img = item / (d->nband * d->nblk);
    const int64_t c0 = blk * lanes, nt = p->kh * p->kw, oy0 = band * d->bo;
    const int nc = (int)(p->c - c0 < lanes ? p->c - c0 : lanes);
    float *wt = d->ts[thread], *bias = wt + nt * lanes, *wf = bias + lanes;
    const float *w = a->w + c0 * nt;
    if (a->wh) {
        d->kern->h2f(wf, a->wh + c0 * nt, nc * nt);
        w = wf;
    }
    for (int64_t t = 0; t < nt; t++)
        for (int c = 0; c < lanes; c++) wt[t * lanes + c] = c < nc ? w[c * nt + t] : 0.0f;
    for (int c = 0; c < lanes; c++) bias[c] = a->bias && c < nc ? a->bias[c0 + c] : 0.0f;
    nnl_dwc_args k = dw_geometry(p, p->oh - oy0 < d->bo ? p->oh - oy0 : d->bo);
    const int64_t plane = p->oh * p->ow, first = img * p->c + c0;
    if (d->pre) {
        int64_t y0 = oy0 * p->sh - p->pt, y1 = (oy0 + k.rows - 1) * p->sh - p->pt + (p->kh - 1) * p->dh + 1;
        y0 = y0 < 0 ? 0 : y0;
        y1 = y1 > p->h ? p->h : y1;
        for (int c = 0; c < nc && y1 > y0; c++)
            nnl_prefetch_l2_range(a->x + (first + c) * p->h * p->w + y0 * p->w,
                                  (size_t)((y1 - y0) * p->w) * sizeof(float));
    }
    k.x = a->x + first * p->h * p->w;
    k.xcs = p->h * p->w;
    k.nc = nc;
    k.oy0 = oy0;
    k.wt = wt;
    k.bias = bias;
    k.y = a->y + first * plane;
    k.ycs = plane;
    /* the activation follows the residual, so only without one is it fused */
    k.act = a->res ? NNL_ACT_NONE : a->act;
    k.act_a = a->act_a;
    k.act_b = a->act_b;
    k.buf = wt + dw_head_floats(p, lanes);
    d->kern->dwc(&k);
    if (!a->res) return;
    for (int c = 0; c < nc; c++)
        for (int64_t r = 0; r < k.rows; r++) {
            int64_t at = (first + c) * plane + (oy0 + r) * p->ow;
            d->kern->epi_row(a->y + at, a->y + at, p->ow, 0.0f, a->res + at, 1.0f, a->act, a->act_a, a->act_b);
        }
}

/* Staged input of a band, in floats: small enough to stay in L2 with
 * the band's output, large enough that bands rarely re-stage rows. */
#define DW_BAND_FLOATS ((int64_t)32 << 10)

static nnl_status conv_dw_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                              nnl_pool *pool, void *const *ts) {
    const int lanes = kern->dwc_lanes;
    const int64_t head = dw_head_floats(p, lanes), avail = (int64_t)(NNL_THREAD_SCRATCH_BYTES / sizeof(float));
    nnl_dwc_args g = dw_geometry(p, 1);
    if (head + nnl_dwc_buf_floats(&g, lanes) > avail)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "depthwise conv: a %lldx%lld kernel over rows of %lld floats does "
                        "not fit the thread scratch", (long long)p->kh, (long long)p->kw, (long long)p->w);
    int64_t budget = DW_BAND_FLOATS > avail - head ? avail - head : DW_BAND_FLOATS, bo = 1;
    /* the most rows whose buffer fits, found by doubling then halving */
    while (bo < p->oh && (g = dw_geometry(p, 2 * bo), nnl_dwc_buf_floats(&g, lanes) <= budget)) bo *= 2;
    for (int64_t step = bo / 2; step > 0; step /= 2)
        if (bo + step <= p->oh && (g = dw_geometry(p, bo + step), nnl_dwc_buf_floats(&g, lanes) <= budget))
            bo += step;
    if (bo > p->oh) bo = p->oh;
    /* whole planes for the pixel path while that leaves two tasks a thread */
    if (kern->dwc_pixels(&g) && p->n * ((p->c + lanes - 1) / lanes) >= 2 * nnl_pool_threads(pool)) bo = p->oh;
    dw_ctx d = {.p = p, .a = a, .kern = kern, .ts = ts, .nblk = (p->c + lanes - 1) / lanes,
                .nband = (p->oh + bo - 1) / bo, .bo = bo, .pre = nnl_pool_threads(pool) > 1};
    nnl_pool_run(pool, p->n * d.nblk * d.nband, dw_task, &d);
    return NNL_OK;
}

/* ---- dead taps -------------------------------------------------------
 * A tap row ky is dead when it reads padding for every output row: no oy
 * in [0, oh) has 0 <= oy * sh - pt + ky * dh < h (likewise columns).  A
 * dilated conv on a small map (DeepLabV3's ASPP: dilation 24 and 36 on a
 * 16x16 map) has only its centre tap alive; its dead taps would multiply
 * zeros.  When the live taps form a smaller box the conv runs as the conv
 * of that box, the pads shrunk by the dead rows and columns.  The compiler
 * stores a constant weight's box as a weight of its own (passes/
 * trim_taps.c); a weight the file holds whole (an input, or a file of an
 * older nnlink) has its live columns copied into the op's scratch at
 * every run. */

typedef nnl_tap_box tap_box;

static bool tap_live(int64_t k, int64_t d, int64_t s, int64_t pad, int64_t in, int64_t out) {
    int64_t o0, o1;
    nnl_tap_outputs(k, d, s, pad, in, out, &o0, &o1);
    return o1 > o0;
}

/* The live range of one axis, or false when it has a gap (strides wider
 * than the input can skip a middle tap). */
static bool live_range(int64_t k, int64_t d, int64_t s, int64_t pad, int64_t in, int64_t out, int64_t *k0,
                       int64_t *nk) {
    int64_t first = -1, last = -1;
    for (int64_t t = 0; t < k; t++)
        if (tap_live(t, d, s, pad, in, out)) {
            if (first < 0) first = t;
            else if (last != t - 1) return false;
            last = t;
        }
    if (first < 0) return false;
    *k0 = first;
    *nk = last - first + 1;
    return true;
}

bool nnl_conv_trim(const nnl_conv_params *p, tap_box *b, nnl_conv_params *q) {
    if (nnl_conv_is_depthwise(p) || p->oh <= 0 || p->ow <= 0) return false;
    if (!live_range(p->kh, p->dh, p->sh, p->pt, p->h, p->oh, &b->y0, &b->ny) ||
        !live_range(p->kw, p->dw, p->sw, p->pl, p->w, p->ow, &b->x0, &b->nx))
        return false;
    if (b->ny == p->kh && b->nx == p->kw) return false;
    *q = *p;
    q->kh = b->ny;
    q->kw = b->nx;
    q->pt = p->pt - b->y0 * p->dh;
    q->pl = p->pl - b->x0 * p->dw;
    q->pb = p->pb - (p->kh - b->y0 - b->ny) * p->dh;
    q->pr = p->pr - (p->kw - b->x0 - b->nx) * p->dw;
    /* the im2col geometry takes pads >= 0 only; a trim that would need a
     * negative one (strides wider than the image) keeps the full conv */
    return q->pt >= 0 && q->pl >= 0 && q->pb >= 0 && q->pr >= 0;
}

/* nnl_conv_trim for a weight of layout w_layout.  Depthwise convs and
 * Winograd weights keep their paths. */
static bool conv_trim(const nnl_conv_params *p, nnl_layout w_layout, tap_box *b, nnl_conv_params *q) {
    if (w_layout != NNL_LAYOUT_PLAIN && w_layout != NNL_LAYOUT_PACK_A8) return false;
    return nnl_conv_trim(p, b, q);
}

/* Floats of the trimmed weight (PACK_A8 rows padded to panels). */
static size_t trim_weight_floats(const nnl_conv_params *q) {
    return (size_t)((q->oc + NNL_MR - 1) / NNL_MR * NNL_MR) * (size_t)(q->c / q->group * q->kh * q->kw);
}

/* Copying the live columns of a weight (PLAIN or PACK_A8, elements of es
 * bytes: float32 or float16) into the same layout of the trimmed conv's,
 * one task a row (a panel for PACK_A8): the trimmed weight of an ASPP conv
 * is megabytes, which one thread copying leaves the other idle. */
typedef struct trim_job {
    void *dst;
    const void *w;
    size_t es;
    int64_t ic, k, kq, width;  /* channels, columns of p's and q's weight, elements per column */
    int64_t kh, kw;            /* p's kernel */
    tap_box b;
} trim_job;

static void trim_row(void *ctx, int64_t r, int thread) {
    (void)thread;
    const trim_job *j = ctx;
    for (int64_t c = 0; c < j->ic; c++)
        for (int64_t y = 0; y < j->b.ny; y++) {
            int64_t from = (r * j->k + (c * j->kh + j->b.y0 + y) * j->kw + j->b.x0) * j->width;
            int64_t to = (r * j->kq + (c * j->b.ny + y) * j->b.nx) * j->width;
            memcpy((char *)j->dst + (size_t)to * j->es, (const char *)j->w + (size_t)from * j->es,
                   (size_t)(j->b.nx * j->width) * j->es);
        }
}

static void trim_weight(void *dst, const void *w, size_t es, nnl_layout l, const nnl_conv_params *p,
                        const tap_box *b, const nnl_conv_params *q, nnl_pool *pool) {
    int64_t ic = p->c / p->group;
    bool packed = l == NNL_LAYOUT_PACK_A8;
    trim_job j = {.dst = dst, .w = w, .es = es, .ic = ic, .k = ic * p->kh * p->kw, .kq = ic * q->kh * q->kw,
                  .width = packed ? NNL_MR : 1, .kh = p->kh, .kw = p->kw, .b = *b};
    nnl_pool_run(pool, packed ? (p->oc + NNL_MR - 1) / NNL_MR : p->oc, trim_row, &j);
}

/* Largest wide-grid scratch a conv takes; past it the conv packs im2col
 * from the image instead (the arena would grow by the padded input). */
#define WIDE_MAX_BYTES ((size_t)64 << 20)

static size_t direct_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout) {
    if (w_layout != NNL_LAYOUT_PACK_A8 && nnl_conv_is_depthwise(p)) return 0;
    if (scale_weight_pays(p)) {
        nnl_conv_params q = *p;
        q.n = 1;
        q.x_scaled = false;
        return scaled_weight_bytes(p) + direct_scratch_bytes(&q, w_layout);
    }
    if (scale_x_pays(p)) {
        nnl_conv_params q = *p;
        q.x_scaled = false;
        return scaled_x_bytes(p) + direct_scratch_bytes(&q, w_layout);
    }
    if (strided_pointwise(p)) {
        nnl_conv_params q = subsampled(p);
        return subsample_bytes(p) + direct_scratch_bytes(&q, w_layout);
    }
    int64_t hp, wp, npx;
    if (wide_grid(p, &hp, &wp, &npx)) {
        size_t wide = wide_floats(p, hp, wp) * sizeof(float);
        if (wide <= WIDE_MAX_BYTES)
            return wide + nnl_gemm_prepack_bytes(p->n * p->group, p->c / p->group * p->kh * p->kw, npx);
    }
    return nnl_gemm_prepack_bytes(p->n * p->group, p->c / p->group * p->kh * p->kw, p->oh * p->ow);
}

/* Scratch of p with its dead taps trimmed. */
static size_t trimmed_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout) {
    tap_box b;
    nnl_conv_params q;
    if (conv_trim(p, w_layout, &b, &q))
        return trim_weight_floats(&q) * sizeof(float) + direct_scratch_bytes(&q, w_layout);
    return direct_scratch_bytes(p, w_layout);
}

size_t nnl_conv_direct_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout) {
    if (nnl_conv_taps_pays(p, w_layout)) return nnl_conv_taps_scratch_bytes(p);
    return trimmed_scratch_bytes(p, w_layout);
}

/* The one choice of path: scratch sizing and the run must agree.  kern
 * NULL: whether the conv may run as Winograd on some set (nnl_wino_auto),
 * which is what its scratch is sized for. */
static bool runs_wino(const nnl_conv_params *p, nnl_layout w_layout, const nnl_kernel *kern) {
    tap_box b;
    nnl_conv_params q;
    if (conv_trim(p, w_layout, &b, &q) || nnl_conv_taps_pays(p, w_layout)) return false;
    return w_layout == NNL_LAYOUT_WINO43 || (w_layout == NNL_LAYOUT_PACK_A8 && nnl_wino_auto(p, kern));
}

size_t nnl_conv_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout) {
    size_t direct = nnl_conv_direct_scratch_bytes(p, w_layout);
    if (!runs_wino(p, w_layout, NULL)) return direct;
    size_t wino = nnl_wino_scratch_bytes(p);
    /* a recorded Winograd conv keeps room for the direct path too: nnlink
     * builds from before the record run it direct in the file's arena */
    return p->wino_pick == NNL_WINO_YES && direct > wino ? direct : wino;
}

nnl_status nnl_conv2d(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern, nnl_pool *pool,
                      void *const *thread_scratch) {
    /* both paths default the kernel set and check scratch and empty shapes */
    if (!a->w_taps && runs_wino(p, a->w_layout, kern ? kern : nnl_kernel_get())) {
        if (a->x_scale) return nnl_fail(NNL_ERR_INTERNAL, "conv: an input channel scale on a Winograd conv");
        return nnl_wino_conv(p, a, kern, pool, thread_scratch);
    }
    return nnl_conv2d_direct(p, a, kern, pool, thread_scratch);
}

static nnl_status conv_trimmed_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                                   nnl_pool *pool, void *const *thread_scratch);

nnl_status nnl_conv2d_direct(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                             nnl_pool *pool, void *const *thread_scratch) {
    if (!kern) kern = nnl_kernel_get();
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "conv called without thread scratch");
    if (p->n <= 0 || p->oc <= 0 || p->oh <= 0 || p->ow <= 0) return NNL_OK;
    if (a->w_layout == NNL_LAYOUT_WINO43) return nnl_fail(NNL_ERR_INTERNAL, "a WINO43 weight runs only as Winograd");
    if (a->w_taps) {
        /* a weight by taps (passes/trim_taps.c) is read by the conv by taps alone */
        if (!nnl_conv_taps_pays(p, a->w_layout))
            return nnl_fail(NNL_ERR_INTERNAL, "conv: a weight by taps on a conv that does not run by taps");
        return nnl_conv_taps_run(p, a, kern, pool, thread_scratch);
    }
    bool packed = a->w_layout == NNL_LAYOUT_PACK_A8;
    if (packed && !nnl_conv_a8_ok(p))
        return nnl_fail(NNL_ERR_INTERNAL, "conv: packed weight with %lld output channels per group",
                        (long long)(p->oc / p->group));
    if (!packed && nnl_conv_is_depthwise(p)) {
        if (a->x_scale) return nnl_fail(NNL_ERR_INTERNAL, "conv: an input channel scale on a depthwise conv");
        return conv_dw_run(p, a, kern, pool, thread_scratch);
    }
    if (nnl_conv_taps_pays(p, a->w_layout) && a->scratch && a->scratch_bytes >= nnl_conv_taps_scratch_bytes(p))
        return nnl_conv_taps_run(p, a, kern, pool, thread_scratch);
    return conv_trimmed_run(p, a, kern, pool, thread_scratch);
}

/* p with its dead taps trimmed, when the scratch holds the trimmed weight. */
static nnl_status conv_trimmed_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                                   nnl_pool *pool, void *const *thread_scratch) {
    tap_box b;
    nnl_conv_params q;
    size_t wbytes;
    /* without the scratch the conv was sized for (a caller that passes
     * none), the full conv is still right, only slower */
    if (conv_trim(p, a->w_layout, &b, &q) && a->scratch &&
        a->scratch_bytes >= (wbytes = trim_weight_floats(&q) * sizeof(float))) {
        nnl_conv_args t = past_scratch(a, wbytes);
        if (a->wh) {
            trim_weight(a->scratch, a->wh, sizeof(uint16_t), a->w_layout, p, &b, &q, pool);
            t.wh = a->scratch;
        } else {
            trim_weight(a->scratch, a->w, sizeof(float), a->w_layout, p, &b, &q, pool);
            t.w = a->scratch;
        }
        return conv_gemm_run(&q, &t, kern, pool, thread_scratch);
    }
    return conv_gemm_run(p, a, kern, pool, thread_scratch);
}
