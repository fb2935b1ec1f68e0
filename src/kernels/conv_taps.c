/*
 * Dilated convs on small maps, tap by tap (kernels/conv_taps.h).
 *
 * Tap (ky, kx) of output (oy, ox) reads input (oy sh - pt + ky dh, ox sw -
 * pl + kx dw); it is live where that lies inside the image, and the live
 * outputs of a tap form a rectangle, since each axis bounds one
 * coordinate.  DeepLabV3's ASPP convs (dilation 12 to 36 on 16x16 or 32x32
 * maps) have a quarter to a half of their multiply-adds on padding, and
 * every output's live taps differ near the borders, so no one trimmed
 * kernel fits them.  Here each tap is a 1x1 conv over its rectangle:
 *   y = bias;  for each tap: y[rect] += W[:, :, ky, kx] . window of x;
 *   then the residual and the activation;
 * one GEMM a tap (M = OC, K = C, N = the rectangle's pixels; the small
 * ones take the transposed tiles), its weight columns gathered into
 * PACK_A8 panels and its input window into rows, both in the op's
 * scratch.  Exactly the live multiply-adds run; the sum's order differs
 * from the direct conv's (taps outermost), within float rounding.
 */
#include <string.h>

#include "kernels/conv_taps.h"

/* Tap count up to which a conv is split (the ASPP's 3x3; 5x5 and 7x7
 * dilated kernels fit too). */
#define TAPS_MAX 49

typedef struct rect {
    int64_t o0, o1;            /* live outputs of one axis: o0 <= o < o1 */
} rect;

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static size_t aligned(size_t b) { return (b + NNL_ALIGN - 1) / NNL_ALIGN * NNL_ALIGN; }

static rect axis_live(int64_t t, int64_t d, int64_t s, int64_t pad, int64_t in, int64_t out) {
    rect r;
    nnl_tap_outputs(t, d, s, pad, in, out, &r.o0, &r.o1);
    return r;
}

static int64_t rect_pixels(const nnl_conv_params *p, int64_t ky, int64_t kx) {
    rect r = axis_live(ky, p->dh, p->sh, p->pt, p->h, p->oh), c = axis_live(kx, p->dw, p->sw, p->pl, p->w, p->ow);
    return max64(r.o1 - r.o0, 0) * max64(c.o1 - c.o0, 0);
}

bool nnl_conv_taps_pays(const nnl_conv_params *p, nnl_layout w_layout) {
    if (w_layout != NNL_LAYOUT_PLAIN && w_layout != NNL_LAYOUT_PACK_A8) return false;
    if (p->group != 1 || p->x_scaled || (p->dh < 2 && p->dw < 2) || p->kh * p->kw > TAPS_MAX) return false;
    if (p->n <= 0 || p->oh <= 0 || p->ow <= 0) return false;
    int64_t live = 0, rows = 0, cols = 0;
    for (int64_t ky = 0; ky < p->kh; ky++) {
        rect r = axis_live(ky, p->dh, p->sh, p->pt, p->h, p->oh);
        rows += r.o1 > r.o0;
        for (int64_t kx = 0; kx < p->kw; kx++) live += rect_pixels(p, ky, kx);
    }
    for (int64_t kx = 0; kx < p->kw; kx++) {
        rect c = axis_live(kx, p->dw, p->sw, p->pl, p->w, p->ow);
        cols += c.o1 > c.o0;
    }
    /* A quarter of the multiply-adds saved pays for the extra passes,
     * counted against the conv trimmed to its live tap rows and columns
     * (conv.c, conv_trim): where every live output reads the same taps
     * (DeepLabV3's dilation 24 and 36 at 16x16: the centre alone) that
     * one runs them as one GEMM, 1.6-2.3x faster than by taps. */
    return 4 * live <= 3 * rows * cols * p->oh * p->ow;
}

/* The scratch: the tap's weight panels, its input window, its output. */
typedef struct taps_layout {
    size_t w, x, c, pre;       /* byte offsets */
    size_t total;
    int64_t most;              /* pixels of the largest rectangle */
} taps_layout;

static taps_layout layout(const nnl_conv_params *p) {
    taps_layout l = {0};
    for (int64_t ky = 0; ky < p->kh; ky++)
        for (int64_t kx = 0; kx < p->kw; kx++) l.most = max64(l.most, rect_pixels(p, ky, kx));
    l.x = aligned((size_t)((p->oc + NNL_MR - 1) / NNL_MR * NNL_MR * p->c) * sizeof(float));
    l.c = l.x + aligned((size_t)(p->c * l.most) * sizeof(float));
    l.pre = l.c + aligned((size_t)(p->oc * l.most) * sizeof(float));
    l.total = l.pre + nnl_gemm_prepack_bytes(1, p->c, l.most);
    return l;
}

size_t nnl_conv_taps_scratch_bytes(const nnl_conv_params *p) { return layout(p).total; }

typedef struct taps_job {
    const nnl_conv_params *p;
    const nnl_conv_args *a;
    const nnl_kernel *kern;
    int64_t img, ky, kx;
    rect r, c;                 /* the tap's live outputs */
    float *w, *x, *cbuf;       /* scratch pieces */
} taps_job;

/* Panel q of the tap's weight: columns (ic, ky, kx) of every input
 * channel, as PACK_A8 panels of a matrix with C columns. */
static void tap_panel(void *ctx, int64_t q, int thread) {
    (void)thread;
    const taps_job *j = ctx;
    const nnl_conv_params *p = j->p;
    const nnl_conv_args *a = j->a;
    const int64_t khw = p->kh * p->kw, k = p->c * khw, t = j->ky * p->kw + j->kx;
    float *dst = j->w + q * p->c * NNL_MR;
    if (a->w_taps) {
        /* a PLAIN weight by taps: rows t oc + o, C columns each */
        for (int64_t i = 0; i < NNL_MR; i++) {
            const int64_t o = q * NNL_MR + i, at = (t * p->oc + o) * p->c;
            for (int64_t ic = 0; ic < p->c; ic++)
                dst[ic * NNL_MR + i] = o >= p->oc ? 0.0f : a->wh ? nnl_half_to_float(a->wh[at + ic]) : a->w[at + ic];
        }
        return;
    }
    if (a->w_layout == NNL_LAYOUT_PACK_A8) {
        const int64_t at = (q * k + t) * NNL_MR, step = khw * NNL_MR;
        if (a->wh) {
            for (int64_t ic = 0; ic < p->c; ic++) j->kern->h2f(dst + ic * NNL_MR, a->wh + at + ic * step, NNL_MR);
            return;
        }
        /* a column group is 32 bytes: one vector move, not a library call
         * (the calls were 12% of DeepLabV3-MobileNetV3) */
        typedef float v8f __attribute__((vector_size(NNL_MR * sizeof(float))));
        for (int64_t ic = 0; ic < p->c; ic++) {
            v8f v;
            memcpy(&v, a->w + at + ic * step, sizeof v);
            memcpy(dst + ic * NNL_MR, &v, sizeof v);
        }
        return;
    }
    for (int64_t ic = 0; ic < p->c; ic++)
        for (int64_t i = 0; i < NNL_MR; i++) {
            int64_t o = q * NNL_MR + i, at = o * k + ic * khw + t;
            dst[ic * NNL_MR + i] = o >= p->oc ? 0.0f : a->wh ? nnl_half_to_float(a->wh[at]) : a->w[at];
        }
}

/* Input channel ic's window: the rectangle's rows of the pixels its
 * outputs read, packed row after row. */
static void tap_window(void *ctx, int64_t ic, int thread) {
    (void)thread;
    const taps_job *j = ctx;
    const nnl_conv_params *p = j->p;
    const int64_t cols = j->c.o1 - j->c.o0, n = (j->r.o1 - j->r.o0) * cols;
    const float *src = j->a->x + (j->img * p->c + ic) * p->h * p->w;
    float *dst = j->x + ic * n;
    for (int64_t oy = j->r.o0; oy < j->r.o1; oy++) {
        const float *s = src + (oy * p->sh - p->pt + j->ky * p->dh) * p->w + j->c.o0 * p->sw - p->pl + j->kx * p->dw;
        float *d = dst + (oy - j->r.o0) * cols;
        if (p->sw == 1)
            memcpy(d, s, (size_t)cols * sizeof(float));
        else
            for (int64_t x = 0; x < cols; x++) d[x] = s[x * p->sw];
    }
}

/* Output channel oc's plane: the bias (before the first tap). */
static void plane_bias(void *ctx, int64_t oc, int thread) {
    (void)thread;
    const taps_job *j = ctx;
    const nnl_conv_params *p = j->p;
    float *y = j->a->y + (j->img * p->oc + oc) * p->oh * p->ow, b = j->a->bias ? j->a->bias[oc] : 0.0f;
    for (int64_t i = 0; i < p->oh * p->ow; i++) y[i] = b;
}

/* The tap's GEMM output of channel oc added into its rectangle. */
static void plane_add(void *ctx, int64_t oc, int thread) {
    (void)thread;
    const taps_job *j = ctx;
    const nnl_conv_params *p = j->p;
    const int64_t cols = j->c.o1 - j->c.o0, n = (j->r.o1 - j->r.o0) * cols;
    float *y = j->a->y + (j->img * p->oc + oc) * p->oh * p->ow;
    const float *c = j->cbuf + oc * n;
    for (int64_t oy = j->r.o0; oy < j->r.o1; oy++) {
        float *d = y + oy * p->ow + j->c.o0;
        j->kern->epi_row(d, d, cols, 0.0f, c + (oy - j->r.o0) * cols, 1.0f, NNL_ACT_NONE, 0.0f, 0.0f);
    }
}

/* The residual and the activation over channel oc's plane (after the last tap). */
static void plane_epi(void *ctx, int64_t oc, int thread) {
    (void)thread;
    const taps_job *j = ctx;
    const nnl_conv_params *p = j->p;
    const nnl_conv_args *a = j->a;
    int64_t at = (j->img * p->oc + oc) * p->oh * p->ow;
    j->kern->epi_row(a->y + at, a->y + at, p->oh * p->ow, 0.0f, a->res ? a->res + at : NULL, 1.0f, a->act,
                     a->act_a, a->act_b);
}

nnl_status nnl_conv_taps_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                             nnl_pool *pool, void *const *thread_scratch) {
    taps_layout l = layout(p);
    if (!a->scratch || a->scratch_bytes < l.total)
        return nnl_fail(NNL_ERR_INTERNAL, "conv by taps: scratch of %zu bytes, needs %zu", a->scratch_bytes, l.total);
    if (a->w_taps && (p->oc % NNL_MR || (a->w_layout != NNL_LAYOUT_PLAIN && a->w_layout != NNL_LAYOUT_PACK_A8)))
        return nnl_fail(NNL_ERR_INTERNAL, "conv by taps: a weight by taps for %lld output channels in layout %d",
                        (long long)p->oc, (int)a->w_layout);
    char *s = a->scratch;
    taps_job j = {.p = p, .a = a, .kern = kern, .w = (float *)s, .x = (float *)(s + l.x), .cbuf = (float *)(s + l.c)};
    /* a PACK_A8 weight by taps is each tap's A as it stands: read in place */
    const bool in_place = a->w_taps && a->w_layout == NNL_LAYOUT_PACK_A8;
    nnl_gemm_ptrs gp = {.a = j.w, .b = j.x, .c = j.cbuf};
    for (j.img = 0; j.img < p->n; j.img++) {
        nnl_pool_run(pool, p->oc, plane_bias, &j);
        for (j.ky = 0; j.ky < p->kh; j.ky++)
            for (j.kx = 0; j.kx < p->kw; j.kx++) {
                j.r = axis_live(j.ky, p->dh, p->sh, p->pt, p->h, p->oh);
                j.c = axis_live(j.kx, p->dw, p->sw, p->pl, p->w, p->ow);
                int64_t n = (j.r.o1 - j.r.o0) * (j.c.o1 - j.c.o0);
                if (n <= 0) continue;
                const int64_t tap_at = (j.ky * p->kw + j.kx) * p->oc * p->c;
                if (!in_place) {
                    nnl_pool_run(pool, (p->oc + NNL_MR - 1) / NNL_MR, tap_panel, &j);
                    gp.a = j.w;
                } else if (a->wh) {
                    gp.ah = a->wh + tap_at;
                } else {
                    gp.a = a->w + tap_at;
                }
                nnl_pool_run(pool, p->c, tap_window, &j);
                nnl_gemm_desc d = {
                    .m = p->oc,
                    .n = n,
                    .k = p->c,
                    .batch = 1,
                    .a_packed = true,
                    .a_f16 = in_place && a->wh,
                    .b_kind = NNL_BSRC_STRIDED,
                    .b_rs = n,
                    .b_cs = 1,
                    .ldc = n,
                    .epi = {.alpha = 1.0f, .beta = 1.0f},
                    .res_cs = 1,
                    .b_prepack = (float *)(s + l.pre),
                    .b_prepack_bytes = l.total - l.pre,
                    .ptrs = nnl_gemm_single,
                    .ctx = &gp,
                };
                nnl_status st = nnl_gemm(&d, kern, pool, thread_scratch);
                if (st) return st;
                nnl_pool_run(pool, p->oc, plane_add, &j);
            }
        if (a->res || a->act != NNL_ACT_NONE) nnl_pool_run(pool, p->oc, plane_epi, &j);
    }
    return NNL_OK;
}
