/*
 * Convolution drivers on top of nnl_gemm and the depthwise row kernels.
 */
#include <string.h>

#include "kernels/conv.h"
#include "kernels/wino.h"

bool nnl_conv_is_depthwise(const nnl_conv_params *p) {
    return p->group > 1 && p->group == p->c && p->group == p->oc;
}

bool nnl_conv_a8_ok(const nnl_conv_params *p) { return p->group == 1 || (p->oc / p->group) % NNL_MR == 0; }

/* ---- implicit GEMM ------------------------------------------------------- */

typedef struct conv_gemm {
    const nnl_conv_params *p;
    const nnl_conv_args *a;
} conv_gemm;

static void conv_ptrs(const nnl_gemm_desc *d, int64_t item, nnl_gemm_ptrs *o) {
    const conv_gemm *cg = d->ctx;
    const nnl_conv_params *p = cg->p;
    const nnl_conv_args *a = cg->a;
    int64_t img = item / p->group, g = item % p->group;
    int64_t mg = p->oc / p->group, cgc = p->c / p->group, ohw = p->oh * p->ow;
    if (d->a_packed)
        o->a = a->w + g * mg / NNL_MR * d->k * NNL_MR;
    else
        o->a = a->w + g * mg * d->k;
    o->b = a->x + (img * p->c + g * cgc) * p->h * p->w;
    int64_t yoff = (img * p->oc + g * mg) * ohw;
    o->c = a->y + yoff;
    o->bias_row = a->bias ? a->bias + g * mg : NULL;
    o->bias_col = NULL;
    o->res = a->res ? a->res + yoff : NULL;
}

static nnl_status conv_gemm_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                                nnl_pool *pool, void *const *ts) {
    conv_gemm cg = {p, a};
    int64_t cgc = p->c / p->group, ohw = p->oh * p->ow;
    nnl_gemm_desc d = {
        .m = p->oc / p->group,
        .n = ohw,
        .k = cgc * p->kh * p->kw,
        .batch = p->n * p->group,
        .a_packed = a->w_layout == NNL_LAYOUT_PACK_A8,
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

/* ---- depthwise --------------------------------------------------------- */

typedef struct dw_ctx {
    const nnl_conv_params *p;
    const nnl_conv_args *a;
    const nnl_kernel *kern;
    void *const *ts;
    int64_t pw, ph;            /* padded plane width / height */
    bool whole_plane;          /* the padded plane fits in thread scratch */
    bool flat;                 /* stride 1 and room for a plane of sums after it */
} dw_ctx;

/* Padded input row iy (in padded coordinates) into dst. */
static void pad_row(float *dst, const dw_ctx *d, const float *plane, int64_t iy) {
    const nnl_conv_params *p = d->p;
    int64_t y = iy - p->pt;
    if (y < 0 || y >= p->h) {
        memset(dst, 0, (size_t)d->pw * sizeof(float));
        return;
    }
    memset(dst, 0, (size_t)p->pl * sizeof(float));
    memcpy(dst + p->pl, plane + y * p->w, (size_t)p->w * sizeof(float));
    memset(dst + p->pl + p->w, 0, (size_t)(d->pw - p->pl - p->w) * sizeof(float));
}

static void dw_task(void *vctx, int64_t item, int thread) {
    const dw_ctx *d = vctx;
    const nnl_conv_params *p = d->p;
    const nnl_conv_args *a = d->a;
    int64_t ch = item % p->c;
    const float *plane = a->x + item * p->h * p->w;
    const float *w = a->w + ch * p->kh * p->kw;
    float *y = a->y + item * p->oh * p->ow;
    const float *res = a->res ? a->res + item * p->oh * p->ow : NULL;
    float bias = a->bias ? a->bias[ch] : 0.0f;
    float *buf = d->ts[thread];
    if (d->whole_plane)
        for (int64_t iy = 0; iy < d->ph; iy++) pad_row(buf + iy * d->pw, d, plane, iy);
    if (d->flat) {
        /* Stride 1: output (oy, ox) reads padded input from flat index
         * oy * pw + ox on, so one long row per kernel row covers the whole
         * plane (columns ox >= ow are computed and dropped). */
        float *acc = buf + d->ph * d->pw;
        int64_t n = (p->oh - 1) * d->pw + p->ow;
        memset(acc, 0, (size_t)n * sizeof(float));
        for (int64_t ky = 0; ky < p->kh; ky++)
            d->kern->dw_row(acc, buf + ky * p->dh * d->pw, w + ky * p->kw, n, (int)p->kw, 1, (int)p->dw);
        for (int64_t oy = 0; oy < p->oh; oy++) {
            float *out = y + oy * p->ow;
            memcpy(out, acc + oy * d->pw, (size_t)p->ow * sizeof(float));
            d->kern->epi_row(out, p->ow, bias, res ? res + oy * p->ow : NULL, 1.0f, a->act, a->act_a, a->act_b);
        }
        return;
    }
    for (int64_t oy = 0; oy < p->oh; oy++) {
        float *out = y + oy * p->ow;
        memset(out, 0, (size_t)p->ow * sizeof(float));
        for (int64_t ky = 0; ky < p->kh; ky++) {
            int64_t iy = oy * p->sh + ky * p->dh;
            const float *row;
            if (d->whole_plane) {
                row = buf + iy * d->pw;
            } else {
                int64_t y0 = iy - p->pt;
                if (y0 < 0 || y0 >= p->h) continue;
                pad_row(buf, d, plane, iy);
                row = buf;
            }
            d->kern->dw_row(out, row, w + ky * p->kw, p->ow, (int)p->kw, (int)p->sw, (int)p->dw);
        }
        d->kern->epi_row(out, p->ow, bias, res ? res + oy * p->ow : NULL, 1.0f, a->act, a->act_a, a->act_b);
    }
}

static nnl_status conv_dw_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                              nnl_pool *pool, void *const *ts) {
    dw_ctx d = {.p = p, .a = a, .kern = kern, .ts = ts};
    /* wide enough for every tap of every output, and for the input */
    int64_t need_w = (p->ow - 1) * p->sw + (p->kw - 1) * p->dw + 1;
    int64_t need_h = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
    d.pw = p->pl + p->w + p->pr;
    if (d.pw < need_w) d.pw = need_w;
    if (d.pw < p->pl + p->w) d.pw = p->pl + p->w;
    d.ph = p->pt + p->h + p->pb;
    if (d.ph < need_h) d.ph = need_h;
    if ((uint64_t)d.pw * sizeof(float) > NNL_THREAD_SCRATCH_BYTES)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "depthwise conv: input rows of %lld floats are too wide",
                        (long long)p->w);
    d.whole_plane = (uint64_t)d.pw * (uint64_t)d.ph * sizeof(float) <= NNL_THREAD_SCRATCH_BYTES;
    d.flat = p->sh == 1 && p->sw == 1 &&
             (uint64_t)d.pw * (uint64_t)(d.ph + p->oh) * sizeof(float) <= NNL_THREAD_SCRATCH_BYTES;
    nnl_pool_run(pool, p->n * p->c, dw_task, &d);
    return NNL_OK;
}

size_t nnl_conv_direct_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout) {
    if (w_layout != NNL_LAYOUT_PACK_A8 && nnl_conv_is_depthwise(p)) return 0;
    return nnl_gemm_prepack_bytes(p->n * p->group, p->c / p->group * p->kh * p->kw, p->oh * p->ow);
}

/* The one choice of path: scratch sizing and the run must agree. */
static bool runs_wino(const nnl_conv_params *p, nnl_layout w_layout) {
    return w_layout == NNL_LAYOUT_WINO43 || (w_layout == NNL_LAYOUT_PACK_A8 && nnl_wino_auto(p));
}

size_t nnl_conv_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout) {
    if (runs_wino(p, w_layout)) return nnl_wino_scratch_bytes(p);
    return nnl_conv_direct_scratch_bytes(p, w_layout);
}

nnl_status nnl_conv2d(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern, nnl_pool *pool,
                      void *const *thread_scratch) {
    /* both paths default the kernel set and check scratch and empty shapes */
    if (runs_wino(p, a->w_layout)) return nnl_wino_conv(p, a, kern, pool, thread_scratch);
    return nnl_conv2d_direct(p, a, kern, pool, thread_scratch);
}

nnl_status nnl_conv2d_direct(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                             nnl_pool *pool, void *const *thread_scratch) {
    if (!kern) kern = nnl_kernel_get();
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "conv called without thread scratch");
    if (p->n <= 0 || p->oc <= 0 || p->oh <= 0 || p->ow <= 0) return NNL_OK;
    if (a->w_layout == NNL_LAYOUT_WINO43) return nnl_fail(NNL_ERR_INTERNAL, "a WINO43 weight runs only as Winograd");
    bool packed = a->w_layout == NNL_LAYOUT_PACK_A8;
    if (packed && !nnl_conv_a8_ok(p))
        return nnl_fail(NNL_ERR_INTERNAL, "conv: packed weight with %lld output channels per group",
                        (long long)(p->oc / p->group));
    if (!packed && nnl_conv_is_depthwise(p)) return conv_dw_run(p, a, kern, pool, thread_scratch);
    return conv_gemm_run(p, a, kern, pool, thread_scratch);
}
