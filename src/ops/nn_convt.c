/*
 * ConvTranspose (1-D and 2-D, float32) as GEMM + col2im: per (image,
 * group) the columns cols[(oc, ky, kx)][(iy, ix)] = W_g^T * X_g go to the
 * shared scratch, then every output channel gathers its taps, in parallel
 * over channels so no two threads write one output.
 */
#include <string.h>

#include "kernels/gemm.h"
#include "ops/nn_ops.h"

static const char *const convt_attrs[] = {"auto_pad", "dilations", "group", "kernel_shape", "output_padding",
                                          "output_shape", "pads", "strides", NULL};

/* Largest column buffer accepted (bytes). */
#define COLS_MAX ((uint64_t)1 << 31)

typedef struct convt_geom {
    int64_t n, c, h, w;        /* input */
    int64_t oc, kh, kw, group; /* oc = all output channels */
    int64_t sh, sw, dh, dw, pt, pl;
    int64_t oh, ow;
} convt_geom;

static nnl_status ints_attr(const nnl_op_call *c, const char *name, int n, int64_t def, int64_t min, int64_t *v) {
    const nnl_attr *a = nnl_attr_get(c, name);
    for (int i = 0; i < n; i++) v[i] = def;
    if (!a) return NNL_OK;
    if (a->type != NNL_ATTR_INTS || a->n != n)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' must list %d ints", name, n);
    for (int i = 0; i < n; i++) {
        if (a->ints[i] < min)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' has value %lld < %lld", name, (long long)a->ints[i],
                           (long long)min);
        v[i] = a->ints[i];
    }
    return NNL_OK;
}

static nnl_status convt_geometry(const nnl_op_call *c, convt_geom *g) {
    const nnl_tensor *x = c->in[0], *w = c->in[1];
    memset(g, 0, sizeof *g);
    if (x->rank != 3 && x->rank != 4)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input of rank %d: only 1-D and 2-D transposed convolutions",
                       x->rank);
    if (w->rank != x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "weight rank %d differs from input rank %d", w->rank, x->rank);
    if (w->layout != NNL_LAYOUT_PLAIN) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed weight");
    const int ns = x->rank - 2;
    int64_t k[2], s[2], d[2], pads[4], op[2], os[4];
    nnl_status st;
    if ((st = ints_attr(c, "strides", ns, 1, 1, s))) return st;
    if ((st = ints_attr(c, "dilations", ns, 1, 1, d))) return st;
    if ((st = ints_attr(c, "pads", 2 * ns, 0, 0, pads))) return st;
    if ((st = ints_attr(c, "output_padding", ns, 0, 0, op))) return st;
    if ((st = ints_attr(c, "kernel_shape", ns, 1, 1, k))) return st;
    const nnl_attr *osa = nnl_attr_get(c, "output_shape");
    if (osa && (osa->type != NNL_ATTR_INTS || (osa->n != ns && osa->n != ns + 2)))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'output_shape' must list %d ints", ns);
    for (int i = 0; osa && i < ns; i++) os[i] = osa->ints[osa->n - ns + i];
    for (int i = 0; i < ns; i++) {
        if (nnl_attr_get(c, "kernel_shape") && k[i] != w->dims[2 + i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'kernel_shape' does not match the weight's shape");
        k[i] = w->dims[2 + i];
        if (k[i] < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "weight has an empty kernel");
        if (op[i] >= s[i] && op[i] >= d[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'output_padding' must be smaller than stride or dilation");
        if (op[i] < 0 || op[i] > (1 << 20) || (osa && (os[i] < 0 || os[i] > (int64_t)NNL_MAX_ELEMS)))
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output padding or output shape out of range");
    }
    if ((st = nn_check_geometry(c, ns, k, s, d, pads))) return st;
    const nnl_attr *ga = nnl_attr_get(c, "group");
    if (ga && ga->type != NNL_ATTR_INT) return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'group' must be an int");
    g->group = ga ? ga->i : 1;
    g->n = x->dims[0];
    g->c = x->dims[1];
    if (g->group < 1 || w->dims[0] != g->c || g->c % g->group || w->dims[1] < 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "group %lld does not fit %lld input channels and a weight of %lld x %lld",
                       (long long)g->group, (long long)g->c, (long long)w->dims[0], (long long)w->dims[1]);
    g->oc = w->dims[1] * g->group;
    const char *ap = nnl_attr_str(c, "auto_pad", "NOTSET");
    bool upper = strcmp(ap, "SAME_UPPER") == 0, lower = strcmp(ap, "SAME_LOWER") == 0;
    bool valid = strcmp(ap, "VALID") == 0, notset = strcmp(ap, "NOTSET") == 0 || !ap[0];
    if (!upper && !lower && !valid && !notset)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'auto_pad' value '%s' is not supported", ap);
    int64_t in[2], out[2], pb[2];
    for (int i = 0; i < ns; i++) {
        in[i] = x->dims[2 + i];
        int64_t full = s[i] * (in[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1;
        if (osa || upper || lower) {
            /* padding chosen so the output has the requested size */
            out[i] = osa ? os[i] : in[i] * s[i];
            if (out[i] < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'output_shape' has an empty dim");
            /* a negative total extends the output past the last tap (those
             * outputs get only the bias); halves round toward -inf */
            int64_t total = full - out[i];
            int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
            pb[i] = upper ? half : total - half;
        } else {
            pb[i] = valid ? 0 : pads[i];
            int64_t pe = valid ? 0 : pads[ns + i];
            out[i] = full - pb[i] - pe;
            if (out[i] < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "padding leaves an empty output");
        }
    }
    if (ns == 1) {
        g->h = 1, g->kh = 1, g->sh = 1, g->dh = 1, g->pt = 0, g->oh = 1;
        g->w = in[0], g->kw = k[0], g->sw = s[0], g->dw = d[0], g->pl = pb[0], g->ow = out[0];
    } else {
        g->h = in[0], g->kh = k[0], g->sh = s[0], g->dh = d[0], g->pt = pb[0], g->oh = out[0];
        g->w = in[1], g->kw = k[1], g->sw = s[1], g->dw = d[1], g->pl = pb[1], g->ow = out[1];
    }
    return NNL_OK;
}

static uint64_t cols_bytes(const convt_geom *g) {
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
    convt_geom g;
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
    const convt_geom *g;
    const float *a, *b;
    float *cols;
    float *y;                  /* output of this item's first channel */
    const float *bias;         /* of this item's first channel, or NULL */
    nnl_act act;
    float act_a, act_b;
    const nnl_kernel *kern;
} convt_ctx;

static void convt_ptrs(const nnl_gemm_desc *d, int64_t i, nnl_gemm_ptrs *p) {
    (void)i;
    const convt_ctx *x = d->ctx;
    p->a = x->a;
    p->b = x->b;
    p->c = x->cols;
    p->bias_row = p->bias_col = p->res = NULL;
}

static void col2im_channel(void *vctx, int64_t oc, int thread) {
    (void)thread;
    const convt_ctx *x = vctx;
    const convt_geom *g = x->g;
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
    x->kern->epi_row(y, ohw, bias, NULL, 0.0f, x->act, x->act_a, x->act_b);
}

nnl_status nnl_nn_convt_exec(const nnl_op_call *c) {
    convt_geom g;
    nnl_status st = convt_geometry(c, &g);
    if (st) return st;
    if (!c->scratch) return nnl_op_fail(c, NNL_ERR_INTERNAL, "no scratch for the column buffer");
    const nnl_tensor *b = nnl_op_in(c, 2);
    int64_t icg = g.c / g.group, ocg = g.oc / g.group, m = ocg * g.kh * g.kw, hw = g.h * g.w;
    convt_ctx x = {.g = &g, .cols = c->scratch, .kern = nnl_kernel_get()};
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
        .ptrs = convt_ptrs,
        .ctx = &x,
    };
    for (int64_t img = 0; img < g.n; img++)
        for (int64_t gi = 0; gi < g.group; gi++) {
            x.a = w + gi * icg * m;
            x.b = in + (img * g.c + gi * icg) * hw;
            x.y = y + (img * g.oc + gi * ocg) * g.oh * g.ow;
            x.bias = b ? (const float *)b->data + gi * ocg : NULL;
            if ((st = nnl_gemm(&d, x.kern, c->pool, c->thread_scratch))) return st;
            nnl_pool_run(c->pool, ocg, col2im_channel, &x);
        }
    return NNL_OK;
}
