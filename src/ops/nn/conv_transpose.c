/*
 * ConvTranspose (1-D and 2-D, float32) as GEMM + col2im: per (image,
 * group) the columns cols[(oc, ky, kx)][(iy, ix)] = W_g^T * X_g go to the
 * shared scratch, then every output channel gathers its taps, in parallel
 * over channels so no two threads write one output.
 */
#include "kernels/gemm.h"
#include "ops/nn/conv_geom.h"
#include "ops/nn/nn_ops.h"

static const char *const convt_attrs[] = {"auto_pad", "dilations", "group", "kernel_shape", "output_padding",
                                          "output_shape", "pads", "strides", NULL};

/* Largest column buffer accepted (bytes). */
#define COLS_MAX ((uint64_t)1 << 31)

/* The geometry (pt/pl: the pads cut from the full output); a packed
 * weight is for Conv only. */
static nnl_status convt_geometry(const nnl_op_call *c, nnl_conv_params *g) {
    if (c->in[1]->layout != NNL_LAYOUT_PLAIN) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed weight");
    return nnl_conv_geometry(c, c->in[0], c->in[1], true, g);
}

static uint64_t cols_bytes(const nnl_conv_params *g) {
    return (uint64_t)(g->oc / g->group) * (uint64_t)(g->kh * g->kw) * (uint64_t)(g->h * g->w) * sizeof(float);
}

nnl_status nnl_nn_convt_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st;
    if ((st = nnl_op_check_io(c, 2, 3, 2, 1, 1))) return st;
    if ((st = nnl_attr_check(c, convt_attrs))) return st;
    const nnl_tensor *x = c->in[0], *w = c->in[1], *b = nnl_op_in(c, 2);
    if ((st = nn_check_float(c, x, "input X"))) return st;
    if ((st = nn_check_float(c, w, "weight W"))) return st;
    if ((st = nn_check_float(c, b, "bias B"))) return st;
    if (x->layout || (b && b->layout)) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed data layout on an input");
    nnl_act act;
    float aa, ab;
    if ((st = nn_act(c, &act, &aa, &ab))) return st;
    nnl_conv_params g;
    if ((st = convt_geometry(c, &g))) return st;
    if (b && (b->rank != 1 || b->dims[0] != g.oc))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "bias must have %lld elements in one dim", (long long)g.oc);
    if (cols_bytes(&g) > COLS_MAX)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "column buffer of %llu bytes is too large",
                           (unsigned long long)cols_bytes(&g));
    int64_t dims[4] = {g.n, g.oc, g.oh, g.ow};
    if (x->rank == 3) dims[2] = g.ow;
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, dims))) return st;
    r->scratch_bytes = (size_t)cols_bytes(&g);
    r->flops = 2.0 * (double)g.n * (double)g.c * (double)(g.h * g.w) * (double)(g.oc / g.group) *
               (double)(g.kh * g.kw);
    return NNL_OK;
}

typedef struct convt_ctx {
    const nnl_conv_params *g;
    nnl_gemm_ptrs gp;          /* the GEMM's operands: cols = W^T X of one item */
    float *cols;
    float *y;                  /* output of this item's first channel */
    const float *bias;         /* of this item's first channel, or NULL */
    nnl_act act;
    float act_a, act_b;
    const nnl_kernel *kern;
} convt_ctx;

static void col2im_channel(void *vctx, int64_t oc, int thread) {
    (void)thread;
    const convt_ctx *x = vctx;
    const nnl_conv_params *g = x->g;
    int64_t hw = g->h * g->w, ohw = g->oh * g->ow;
    float *y = x->y + oc * ohw;
    float bias = x->bias ? x->bias[oc] : 0.0f;
    for (int64_t i = 0; i < ohw; i++) y[i] = 0.0f;
    for (int64_t ky = 0; ky < g->kh; ky++)
        for (int64_t kx = 0; kx < g->kw; kx++) {
            const float *col = x->cols + ((oc * g->kh + ky) * g->kw + kx) * hw;
            for (int64_t iy = 0; iy < g->h; iy++) {
                int64_t oy = iy * g->sh - g->pt + ky * g->dh;
                if (oy < 0 || oy >= g->oh) continue;
                float *yr = y + oy * g->ow;
                const float *cr = col + iy * g->w;
                int64_t x0 = kx * g->dw - g->pl;
                /* valid ix: 0 <= ix * sw + x0 < ow */
                int64_t lo = x0 >= 0 ? 0 : (-x0 + g->sw - 1) / g->sw;
                int64_t hi = g->ow - x0 <= 0 ? 0 : (g->ow - x0 + g->sw - 1) / g->sw;
                if (hi > g->w) hi = g->w;
                for (int64_t ix = lo; ix < hi; ix++) yr[ix * g->sw + x0] += cr[ix];
            }
        }
    x->kern->epi_row(y, y, ohw, bias, NULL, 0.0f, x->act, x->act_a, x->act_b);
}

nnl_status nnl_nn_convt_exec(const nnl_op_call *c) {
    nnl_conv_params g;
    nnl_status st = convt_geometry(c, &g);
    if (st) return st;
    if (!c->scratch) return nnl_op_fail(c, NNL_ERR_INTERNAL, "no scratch for the column buffer");
    const nnl_tensor *b = nnl_op_in(c, 2);
    int64_t icg = g.c / g.group, ocg = g.oc / g.group, m = ocg * g.kh * g.kw, hw = g.h * g.w;
    convt_ctx x = {.g = &g, .gp.c = c->scratch, .cols = c->scratch, .kern = nnl_kernel_get()};
    if ((st = nn_act(c, &x.act, &x.act_a, &x.act_b))) return st;
    const float *w = c->in[1]->data, *in = c->in[0]->data;
    float *y = c->out[0]->data;
    nnl_gemm_desc d = {
        .m = m,
        .n = hw,
        .k = icg,
        .batch = 1,
        .a_rs = 1,
        .a_cs = m,
        .b_kind = NNL_BSRC_STRIDED,
        .b_rs = hw,
        .b_cs = 1,
        .ldc = hw,
        .epi = {.alpha = 1.0f, .beta = 1.0f},
        .res_cs = 1,
        .ptrs = nnl_gemm_single,
        .ctx = &x.gp,
    };
    for (int64_t img = 0; img < g.n; img++)
        for (int64_t gi = 0; gi < g.group; gi++) {
            x.gp.a = w + gi * icg * m;
            x.gp.b = in + (img * g.c + gi * icg) * hw;
            x.y = y + (img * g.oc + gi * ocg) * g.oh * g.ow;
            x.bias = b ? (const float *)b->data + gi * ocg : NULL;
            if ((st = nnl_gemm(&d, x.kern, c->pool, c->thread_scratch))) return st;
            nnl_pool_run(c->pool, ocg, col2im_channel, &x);
        }
    return NNL_OK;
}
