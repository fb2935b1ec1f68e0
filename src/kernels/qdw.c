/*
 * 8-bit depthwise convolution (kernels/qdw.h).  One task is one (image,
 * channel) plane, as the float depthwise driver (kernels/conv.c) with its
 * polyphase trick: the padded input plane (hp x wp) is split into sh x sw
 * phase planes, phase (ry, rx) holding padded rows ry, ry + sh, ... and
 * columns rx, rx + sw, ..., wq = ceil(wp / sw) columns each, staged as
 * bytes in the thread's scratch (int8 input flipped to uint8 by x ^ 0x80,
 * zx + 128; padding is the zero point's byte).  Output (oy, ox) is virtual
 * pixel f = oy * wq + ox and reads tap (ky, kx) from phase ((ky dh) % sh,
 * (kx dw) % sw) at f + (ky dh / sh) * wq + kx dw / sw, so the kernel
 * (nnl_kernel.qdw) runs the whole plane in one call over unit-stride rows;
 * the virtual columns ox >= ow are computed and dropped.  The zero point
 * is not subtracted per element: off = bias - zx * (sum of the taps).
 */
#include <math.h>
#include <string.h>

#include "kernels/qconv_pack.h"
#include "kernels/qdw.h"

typedef struct qdw_plan {
    int64_t wq;                /* phase plane width */
    int64_t rows;              /* phase rows staged: those any tap reads, one more for the column overflow */
    int64_t plane;             /* bytes a phase plane takes, slack included */
    int64_t npx;               /* virtual pixels: (oh - 1) * wq + ow */
} qdw_plan;

/* Taps a kernel may have (nnl_qdw_ok). */
#define QDW_TAPS_MAX 1024

typedef struct qdw_ctx {
    const nnl_conv_params *p;
    const nnl_qdw_args *a;
    const nnl_kernel *kern;
    void *const *ts;
    qdw_plan g;
    int64_t off[QDW_TAPS_MAX]; /* tap t's row: staged planes + off[t] (divisions once a conv, not a plane) */
} qdw_ctx;

static int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }

/* Scratch bytes of one plane: tap pointers, the phase planes, the virtual
 * output (every row read or written padded to the kernel's block), a
 * padded input row and 16 bytes a vector may touch past it. */
static uint64_t qdw_bytes(const nnl_conv_params *p, qdw_plan *g) {
    int64_t wp = p->pl + p->w + p->pr;
    g->wq = (wp + p->sw - 1) / p->sw;
    g->rows = p->oh + (p->kh - 1) * p->dh / p->sh + 1;
    g->npx = (p->oh - 1) * g->wq + p->ow;
    g->plane = round_up(g->rows * g->wq + NNL_QDW_BLOCK, 64);
    return (uint64_t)round_up(p->kh * p->kw * (int64_t)sizeof(void *), 64) +
           (uint64_t)(p->sh * p->sw) * (uint64_t)g->plane + (uint64_t)round_up(g->npx + NNL_QDW_BLOCK, 64) +
           (uint64_t)(p->sw * g->wq + 16) + (p->sw == 2 ? (uint64_t)(p->h * p->w + 16) : 0);
}

bool nnl_qdw_ok(const nnl_conv_params *p) {
    if (!nnl_conv_is_depthwise(p) || p->oc != p->c || p->sh < 1 || p->sw < 1 || p->sh > 16 || p->sw > 16)
        return false;
    if (p->kh * p->kw > QDW_TAPS_MAX || p->h > (1 << 20) || p->w > (1 << 20)) return false;
    /* the grid covers exactly the outputs: the conv's own size formula */
    int64_t hp = p->pt + p->h + p->pb, wp = p->pl + p->w + p->pr;
    if (p->oh != (hp - (p->kh - 1) * p->dh - 1) / p->sh + 1 || p->ow != (wp - (p->kw - 1) * p->dw - 1) / p->sw + 1)
        return false;
    qdw_plan g;
    return qdw_bytes(p, &g) <= NNL_THREAD_SCRATCH_BYTES;
}

/* A padded input row: pl pads, the row ^ flip, pads to n (rows are a few
 * dozen bytes: no library calls). */
static void pad_row(uint8_t *t, const uint8_t *src, int64_t pl, int64_t w, int64_t n, uint8_t pad, uint8_t flip) {
    typedef uint8_t v16 __attribute__((vector_size(16)));
    nnl_fill(t, pad, pl);
    nnl_copy_run(t + pl, src, w);
    for (int64_t j = 0; flip && j < w; j += 16) { /* t has room past w: its pads and the plane's slack */
        v16 v;
        memcpy(&v, t + pl + j, 16);
        v ^= flip;
        memcpy(t + pl + j, &v, 16);
    }
    nnl_fill(t + pl + w, pad, n - pl - w);
}

/* x ^= flip over n bytes (a multiple of 16). */
static void flip_all(uint8_t *x, size_t n, uint8_t flip) {
    typedef uint8_t v16 __attribute__((vector_size(16)));
    if (!flip) return;
    for (size_t j = 0; j < n; j += 16) {
        v16 v;
        memcpy(&v, x + j, 16);
        v ^= flip;
        memcpy(x + j, &v, 16);
    }
}

/* The phase planes of one input plane; a padded row is split into its sw
 * column phases (two at once for stride 2). */
static void stage(const qdw_ctx *d, uint8_t *ph, uint8_t *tmp, const uint8_t *plane, uint8_t pad, uint8_t flip) {
    const nnl_conv_params *p = d->p;
    const qdw_plan *g = &d->g;
    const int64_t len = p->sw * g->wq;
    if (p->sw <= 2) {
        /* the phase planes' pads in one memset, then each image row in its
         * place, split into its two column phases at stride 2 (per row,
         * pads of a byte or two cost a branchy loop each: with the row
         * copies, most of MobileNetV2's depthwise time).  Source column j
         * is padded column j + pl: phase (j + pl) % 2, at (j + pl) / 2. */
        /* int8 input: pads of pad ^ 0x80 and the rows as they are, then
         * every byte flipped once (planes are whole 64-byte blocks) */
        const size_t all = (size_t)(p->sh * p->sw * g->plane);
        memset(ph, pad ^ flip, all);
        if (p->sh == 1 && p->sw == 1) {
            for (int64_t iy = 0; iy < p->h && iy + p->pt < g->rows; iy++)
                nnl_copy_run(ph + (iy + p->pt) * g->wq + p->pl, plane + iy * p->w, p->w);
            flip_all(ph, all, flip);
            return;
        }
        /* even widths under 32: the whole plane split into its even and
         * odd columns at once (tmp: E then O, h x w / 2 each), the rows
         * then copied; a row's own split of under 16 pairs is a scalar
         * loop (MobileNetV2's 28x28 and 14x14 stride-2 layers 0.058 ->
         * 0.036 and 0.068 -> 0.054 ms; its 112- and 56-wide rows split
         * in vectors as they are, the extra pass 8-13% slower) */
        const bool whole = p->sw == 2 && p->w % 2 == 0 && p->w < 32;
        const int64_t hw2 = p->h * p->w / 2;
        if (whole) nnl_split2(tmp, tmp + hw2, plane, hw2);
        /* padded row iy + pt is phase ry's row r (no division a row) */
        int64_t ry = p->pt % p->sh, r = p->pt / p->sh;
        for (int64_t iy = 0; iy < p->h; iy++, ry == p->sh - 1 ? (ry = 0, r++) : ry++) {
            if (r >= g->rows) break;
            uint8_t *o = ph + ry * p->sw * g->plane + r * g->wq;
            const uint8_t *x = plane + iy * p->w;
            if (p->sw == 1) {
                nnl_copy_run(o + p->pl, x, p->w);
                continue;
            }
            uint8_t *ev = o + (p->pl & 1) * g->plane + (p->pl >> 1), *od = o + ((p->pl + 1) & 1) * g->plane + ((p->pl + 1) >> 1);
            if (whole) {
                nnl_copy_run(ev, tmp + iy * (p->w / 2), p->w / 2);
                nnl_copy_run(od, tmp + hw2 + iy * (p->w / 2), p->w / 2);
                continue;
            }
            nnl_split2(ev, od, x, p->w / 2);
            if (p->w & 1) ev[p->w / 2] = x[p->w - 1];
        }
        flip_all(ph, all, flip);
        return;
    }
    for (int64_t ry = 0; ry < p->sh; ry++) {
        for (int64_t r = 0; r < g->rows; r++) {
            /* phase (ry, rx) row r is padded row r sh + ry, columns rx, rx + sw, ... */
            uint8_t *o = ph + ry * p->sw * g->plane + r * g->wq;
            int64_t iy = r * p->sh + ry - p->pt;
            if (iy < 0 || iy >= p->h) {
                for (int64_t rx = 0; rx < p->sw; rx++) nnl_fill(o + rx * g->plane, pad, g->wq);
                continue;
            }
            uint8_t *t = p->sw == 1 ? o : tmp;
            pad_row(t, plane + iy * p->w, p->pl, p->w, len, pad, flip);
            if (p->sw == 2)
                nnl_split2(o, o + g->plane, t, g->wq);
            else if (p->sw > 2)
                for (int64_t rx = 0; rx < p->sw; rx++)
                    for (int64_t c = 0; c < g->wq; c++) o[rx * g->plane + c] = t[c * p->sw + rx];
        }
        for (int64_t rx = 0; rx < p->sw; rx++) {
            uint8_t *o = ph + (ry * p->sw + rx) * g->plane + g->rows * g->wq;
            nnl_fill(o, pad, g->plane - g->rows * g->wq);
        }
    }
}

/* The epilogue constants of channel c. */
static nnl_qdw_epi qdw_epi(const qdw_ctx *d, int64_t c, uint32_t zx) {
    const nnl_qdw_args *a = d->a;
    const int64_t nt = d->p->kh * d->p->kw;
    uint32_t wsum = 0;
    for (int64_t t = 0; t < nt; t++) wsum += (uint32_t)(int32_t)a->w[c * nt + t];
    return (nnl_qdw_epi){
        .off = (int32_t)((a->bias ? (uint32_t)a->bias[c] : 0u) - zx * wsum),
        .mult = a->x_scale * a->w_scale[a->w_scale_per_tensor ? 0 : c] / a->y_scale,
        .zy = (float)a->y_zp,
        .lo = (float)a->y_min,
        .hi = (float)a->y_max,
    };
}

static void qdw_task(void *vctx, int64_t item, int thread) {
    const qdw_ctx *d = vctx;
    const nnl_conv_params *p = d->p;
    const nnl_qdw_args *a = d->a;
    const qdw_plan *g = &d->g;
    const int64_t c = item % p->c, nt = p->kh * p->kw;
    char *ts = d->ts[thread];
    const uint8_t **src = (const uint8_t **)(void *)ts;
    uint8_t *ph = (uint8_t *)ts + round_up(nt * (int64_t)sizeof(void *), 64);
    uint8_t *out = ph + p->sh * p->sw * g->plane, *tmp = out + round_up(g->npx + NNL_QDW_BLOCK, 64);
    const uint8_t flip = a->x_signed ? 0x80 : 0;
    const uint32_t zx = (uint32_t)(a->x_signed ? a->x_zp + 128 : a->x_zp);
    stage(d, ph, tmp, (const uint8_t *)a->x + item * p->h * p->w, (uint8_t)zx, flip);
    const int8_t *w = a->w + c * nt;
    for (int64_t t = 0; t < nt; t++) src[t] = ph + d->off[t];
    const nnl_qdw_epi e = qdw_epi(d, c, zx);
    d->kern->qdw(out, src, w, (int)nt, g->npx, &e);
    uint8_t *y = (uint8_t *)a->y + item * p->oh * p->ow;
    int64_t oy = 0;
    /* rows under 16 bytes as one 16-byte store each, running into the next
     * row, which the next store rewrites; the last row exactly */
    if (p->ow < 16)
        for (; oy + 1 < p->oh && (p->oh - oy - 1) * p->ow >= 16; oy++) memcpy(y + oy * p->ow, out + oy * g->wq, 16);
    for (; oy < p->oh; oy++) nnl_copy_run(y + oy * p->ow, out + oy * g->wq, p->ow);
}

/* Small maps take the set's channels-in-lanes kernel (nnl_kernel.qdwl)
 * where it has one: a plane's staging, window setup and copy-out cost more
 * than its taps there.  MobileNetV2 int8, 1 thread, Zen 5 (per plane ->
 * lanes, ms): 7x7 x 960 0.044 -> 0.031, 14x14/2 -> 7x7 x 576 0.052 ->
 * 0.030, 28x28/2 -> 14x14 0.036 -> 0.031; but 14x14 stride 1 0.029 ->
 * 0.035 and 28x28 0.035 -> 0.058 (the transposes in and out cost more
 * than the planes' overhead saves): at most QDWL_PIX outputs, or
 * QDWL_PIX_S2 with a stride, whose per-plane path stages phase planes.
 * The AVX2 set's (no VNNI: int16 pairs) on Zen 3, MobileNetV2 int7:
 * 7x7 x 960 0.078 -> 0.069, 14x14/2 0.085 -> 0.062, 28x28/2 0.063 either
 * way; beyond the same limits slower (14x14 0.070 -> 0.075, 28x28 0.110
 * -> 0.129, 56x56/2 0.128 -> 0.180: its staged pairs outgrow L1). */
#define QDWL_PIX 64
#define QDWL_PIX_S2 256

/* A block of 16 channels on the set's lanes kernel; if it declines, each
 * of its planes as qdw_task does. */
static void qdwl_task(void *vctx, int64_t item, int thread) {
    const qdw_ctx *d = vctx;
    const nnl_conv_params *p = d->p;
    const nnl_qdw_args *a = d->a;
    const int64_t nblk = (p->c + 15) / 16, img = item / nblk, c0 = item % nblk * 16;
    const uint32_t zx = (uint32_t)(a->x_signed ? a->x_zp + 128 : a->x_zp);
    nnl_qdwl_args l = {.x = (const uint8_t *)a->x + (img * p->c + c0) * p->h * p->w, .h = p->h, .w = p->w,
                       .oh = p->oh, .ow = p->ow, .kh = p->kh, .kw = p->kw, .sh = p->sh, .sw = p->sw, .dh = p->dh,
                       .dw = p->dw, .pt = p->pt, .pl = p->pl, .nc = (int)(p->c - c0 < 16 ? p->c - c0 : 16),
                       .wt = a->w + c0 * p->kh * p->kw, .flip = a->x_signed ? 0x80 : 0, .pad = (uint8_t)zx,
                       .zy = (float)a->y_zp, .lo = (float)a->y_min, .hi = (float)a->y_max,
                       .y = (uint8_t *)a->y + (img * p->c + c0) * p->oh * p->ow, .scratch = d->ts[thread]};
    for (int c = 0; c < l.nc; c++) {
        const nnl_qdw_epi e = qdw_epi(d, c0 + c, zx);
        l.off[c] = e.off;
        l.mult[c] = e.mult;
    }
    if (d->kern->qdwl(&l)) return;
    for (int c = 0; c < l.nc; c++) qdw_task(vctx, img * p->c + c0 + c, thread);
}

nnl_status nnl_qdw2d(const nnl_conv_params *p, const nnl_qdw_args *a, const nnl_kernel *kern, nnl_pool *pool,
                     void *const *thread_scratch) {
    if (!nnl_qdw_ok(p))
        return nnl_fail(NNL_ERR_UNSUPPORTED, "8-bit depthwise conv: not a depthwise geometry its kernel runs");
    if (p->n <= 0 || p->c <= 0 || p->oh <= 0 || p->ow <= 0) return NNL_OK;
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "8-bit depthwise conv called without thread scratch");
    qdw_ctx d = {.p = p, .a = a, .kern = kern ? kern : nnl_kernel_get(), .ts = thread_scratch};
    qdw_bytes(p, &d.g);
    for (int64_t t = 0; t < p->kh * p->kw; t++) {
        int64_t oy = t / p->kw * p->dh, ox = t % p->kw * p->dw;
        d.off[t] = ((oy % p->sh) * p->sw + ox % p->sw) * d.g.plane + oy / p->sh * d.g.wq + ox / p->sw;
    }
    const int64_t hp = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1, wq = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
    const int64_t ohw = p->oh * p->ow;
    if (d.kern->qdwl && (ohw <= QDWL_PIX || (p->sh * p->sw > 1 && ohw <= QDWL_PIX_S2)) &&
        nnl_qdwl_scratch(hp, wq, ohw) <= NNL_THREAD_SCRATCH_BYTES) {
        nnl_pool_run(pool, p->n * ((p->c + 15) / 16), qdwl_task, &d);
        return NNL_OK;
    }
    nnl_pool_run(pool, p->n * p->c, qdw_task, &d);
    return NNL_OK;
}

void nnl_qdw2d_ref(const nnl_conv_params *p, const nnl_qdw_args *a) {
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t c = 0; c < p->c; c++) {
            float mult = a->x_scale * a->w_scale[a->w_scale_per_tensor ? 0 : c] / a->y_scale;
            for (int64_t oy = 0; oy < p->oh; oy++)
                for (int64_t ox = 0; ox < p->ow; ox++) {
                    uint32_t acc = a->bias ? (uint32_t)a->bias[c] : 0u; /* wraps as the kernels' sums */
                    for (int64_t ky = 0; ky < p->kh; ky++)
                        for (int64_t kx = 0; kx < p->kw; kx++) {
                            int64_t iy = oy * p->sh - p->pt + ky * p->dh, ix = ox * p->sw - p->pl + kx * p->dw;
                            if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
                            int64_t xi = ((n * p->c + c) * p->h + iy) * p->w + ix;
                            int32_t xv = a->x_signed ? ((const int8_t *)a->x)[xi] : ((const uint8_t *)a->x)[xi];
                            acc += (uint32_t)(a->w[(c * p->kh + ky) * p->kw + kx] * (xv - a->x_zp));
                        }
                    float v = nearbyintf((float)(int32_t)acc * mult) + (float)a->y_zp;
                    v = v < (float)a->y_min ? (float)a->y_min : v > (float)a->y_max ? (float)a->y_max : v;
                    ((uint8_t *)a->y)[((n * p->c + c) * p->oh + oy) * p->ow + ox] = (uint8_t)(int32_t)v;
                }
        }
}
