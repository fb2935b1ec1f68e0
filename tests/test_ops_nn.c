/*
 * Conv / Gemm / MatMul through the op interface (infer + exec) and the
 * weight packing pass.  References: the ONNX operator documentation's
 * worked example, naive double loops written here, and the plain-weight
 * result for packed weights.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/model.h"
#include "kernels/gemm.h"
#include "kernels/wino.h"
#include "ops/ops.h"
#include "passes/pack_weights.h"
#include "passes/passes.h"

static void *ts[2];
static nnl_pool *pool2;

/* ---- call construction ------------------------------------------------------ */

typedef struct call {
    nnl_tensor t[5];           /* inputs 0..3, output 4 */
    nnl_tensor *in[4];
    nnl_tensor *out[1];
    nnl_attr attrs[8];
    int n_attrs;
    int64_t ints[8][8];
    nnl_op_call c;
    nnl_infer_result r;
} call;

static void call_init(call *k, const char *op, int n_in) {
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 4; i++) k->in[i] = i < n_in ? &k->t[i] : NULL;
    k->out[0] = &k->t[4];
    k->c.op = op;
    k->c.node = "n";
    k->c.in = k->in;
    k->c.n_in = n_in;
    k->c.out = k->out;
    k->c.n_out = 1;
    k->c.attrs = k->attrs;
    k->c.opset = 13;
    k->c.thread_scratch = ts;
}

static void set_t(nnl_tensor *t, int rank, const int64_t *dims, float *data) {
    t->dtype = NNL_DT_FLOAT;
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
    t->data = data;
}

static void attr_int(call *k, const char *name, int64_t v) {
    k->attrs[k->n_attrs++] = (nnl_attr){.name = name, .type = NNL_ATTR_INT, .i = v};
    k->c.n_attrs = k->n_attrs;
}

static void attr_float(call *k, const char *name, float v) {
    k->attrs[k->n_attrs++] = (nnl_attr){.name = name, .type = NNL_ATTR_FLOAT, .f = v};
    k->c.n_attrs = k->n_attrs;
}

static void attr_str(call *k, const char *name, const char *v) {
    k->attrs[k->n_attrs++] = (nnl_attr){.name = name, .type = NNL_ATTR_STRING, .s = v};
    k->c.n_attrs = k->n_attrs;
}

static void attr_ints(call *k, const char *name, int n, const int64_t *v) {
    memcpy(k->ints[k->n_attrs], v, (size_t)n * sizeof *v);
    k->attrs[k->n_attrs] = (nnl_attr){.name = name, .type = NNL_ATTR_INTS, .n = n, .ints = k->ints[k->n_attrs]};
    k->c.n_attrs = ++k->n_attrs;
}

static nnl_status infer(call *k) { return nnl_op_find(k->c.op)->infer(&k->c, &k->r); }

/* infer, allocate the output, exec; returns the output (caller frees) */
static float *run(call *k, nnl_pool *pool) {
    assert_int_equal(infer(k), NNL_OK);
    float *y = nnl_aligned_alloc(nnl_tensor_nbytes(&k->t[4]) + 4);
    assert_non_null(y);
    k->t[4].data = y;
    k->c.pool = pool;
    /* the shared scratch infer asked for (Winograd cannot run without) */
    void *scratch = k->r.scratch_bytes ? nnl_aligned_alloc(k->r.scratch_bytes) : NULL;
    k->c.scratch = scratch;
    nnl_status s = nnl_op_find(k->c.op)->exec(&k->c);
    k->c.scratch = NULL;
    nnl_aligned_free(scratch);
    if (s) fail_msg("exec: %s", nnl_last_error());
    return y;
}

static void close_to(const float *got, const double *want, int64_t n, double tol) {
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol * (1 + fabs(want[i]))))
            fail_msg("element %lld: got %.8g want %.8g", (long long)i, got[i], want[i]);
}

/* ---- Conv --------------------------------------------------------------------- */

/* ONNX Conv documentation example "conv_with_padding". */
static void test_conv_onnx_example(void **state) {
    (void)state;
    static const float want[25] = {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
                                   93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
    float x[25], w[9];
    for (int i = 0; i < 25; i++) x[i] = (float)i;
    for (int i = 0; i < 9; i++) w[i] = 1.0f;
    call k;
    call_init(&k, "Conv", 2);
    set_t(&k.t[0], 4, (int64_t[]){1, 1, 5, 5}, x);
    set_t(&k.t[1], 4, (int64_t[]){1, 1, 3, 3}, w);
    attr_ints(&k, "kernel_shape", 2, (int64_t[]){3, 3});
    attr_ints(&k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    float *y = run(&k, NULL);
    assert_int_equal(k.t[4].rank, 4);
    assert_int_equal(k.t[4].dims[2], 5);
    assert_true(k.r.flops == 2.0 * 25 * 9);
    for (int i = 0; i < 25; i++) assert_true(y[i] == want[i]);
    nnl_aligned_free(y);
    /* same with stride 2 and no padding: ONNX "conv_with_strides_no_padding" */
    call_init(&k, "Conv", 2);
    set_t(&k.t[0], 4, (int64_t[]){1, 1, 5, 5}, x);
    set_t(&k.t[1], 4, (int64_t[]){1, 1, 3, 3}, w);
    attr_ints(&k, "strides", 2, (int64_t[]){2, 2});
    y = run(&k, pool2);
    static const float want2[4] = {54, 72, 144, 162};
    assert_int_equal(k.t[4].dims[2], 2);
    for (int i = 0; i < 4; i++) assert_true(y[i] == want2[i]);
    nnl_aligned_free(y);
}

typedef struct conv_cfg {
    int rank;                  /* 3 or 4 */
    int64_t n, c, h, w, oc, kh, kw, group, sh, sw, dh, dw;
    const char *auto_pad;      /* NULL: explicit pads */
    int64_t pads[4];
    bool bias, res;
    nnl_act act;
} conv_cfg;

/* Output size and begin pads per the ONNX rules, written independently of
 * the op. */
static void ref_geom(int64_t in, int64_t k, int64_t s, int64_t d, const char *ap, int64_t p0, int64_t p1, int64_t *out,
                     int64_t *pb) {
    int64_t ext = (k - 1) * d + 1;
    if (ap && strncmp(ap, "SAME", 4) == 0) {
        *out = (in + s - 1) / s;
        int64_t tot = (*out - 1) * s + ext - in;
        if (tot < 0) tot = 0;
        *pb = strcmp(ap, "SAME_UPPER") == 0 ? tot / 2 : tot - tot / 2;
    } else if (ap && strcmp(ap, "VALID") == 0) {
        *out = (in - ext) / s + 1;
        *pb = 0;
    } else {
        *out = (in + p0 + p1 - ext) / s + 1;
        *pb = p0;
    }
}

static void conv_check(const conv_cfg *f, nnl_pool *pool) {
    bool one_d = f->rank == 3;
    int64_t h = one_d ? 1 : f->h, kh = one_d ? 1 : f->kh;
    int64_t oh, ow, pt, pl;
    ref_geom(h, kh, one_d ? 1 : f->sh, one_d ? 1 : f->dh, f->auto_pad, one_d ? 0 : f->pads[0],
             one_d ? 0 : f->pads[2], &oh, &pt);
    ref_geom(f->w, f->kw, f->sw, f->dw, f->auto_pad, one_d ? f->pads[0] : f->pads[1],
             one_d ? f->pads[1] : f->pads[3], &ow, &pl);
    int64_t cg = f->c / f->group, mg = f->oc / f->group, ksz = cg * kh * f->kw;
    int64_t ny = f->n * f->oc * oh * ow;
    float *x = rnd(f->n * f->c * h * f->w, 3), *w = rnd(f->oc * ksz, 4), *b = rnd(f->oc, 5), *z = rnd(ny, 6);
    double *want = calloc((size_t)ny, sizeof(double));
    for (int64_t img = 0; img < f->n; img++)
        for (int64_t o = 0; o < f->oc; o++)
            for (int64_t oy = 0; oy < oh; oy++)
                for (int64_t ox = 0; ox < ow; ox++) {
                    double s = f->bias ? b[o] : 0;
                    for (int64_t ic = 0; ic < cg; ic++)
                        for (int64_t ky = 0; ky < kh; ky++)
                            for (int64_t kx = 0; kx < f->kw; kx++) {
                                int64_t iy = oy * (one_d ? 1 : f->sh) - pt + ky * (one_d ? 1 : f->dh);
                                int64_t ix = ox * f->sw - pl + kx * f->dw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= f->w) continue;
                                s += (double)x[((img * f->c + o / mg * cg + ic) * h + iy) * f->w + ix] *
                                     w[((o * cg + ic) * kh + ky) * f->kw + kx];
                            }
                    int64_t yi = ((img * f->oc + o) * oh + oy) * ow + ox;
                    if (f->res) s += z[yi];
                    if (f->act == NNL_ACT_RELU && s < 0) s = 0;
                    if (f->act == NNL_ACT_CLIP) s = s < -0.5 ? -0.5 : s > 0.5 ? 0.5 : s;
                    want[yi] = s;
                }
    bool wino = f->rank == 4 && f->kh == 3 && f->kw == 3 && f->sh == 1 && f->sw == 1 && f->group == 1;
    /* 0 plain, 1 PACK_A8, 2 WINO43, 3 PACK_A8 recorded as Winograd (the
     * compiler's nnl_wino 1: transformed while it runs, as in networks) */
    for (int packed = 0; packed < (wino ? 4 : 2); packed++) {
        call k;
        call_init(&k, "Conv", f->res ? 4 : f->bias ? 3 : 2);
        int64_t xd[4] = {f->n, f->c, h, f->w}, wd[4] = {f->oc, cg, kh, f->kw};
        if (one_d) xd[2] = f->w, wd[2] = f->kw;
        set_t(&k.t[0], f->rank, xd, x);
        set_t(&k.t[1], f->rank, wd, w);
        float *wp = NULL;
        if (packed == 2) {
            wp = nnl_aligned_alloc((size_t)nnl_wino_bytes(f->oc, f->c));
            nnl_wino_pack(wp, w, f->oc, f->c);
            k.t[1].data = wp;
            k.t[1].layout = NNL_LAYOUT_WINO43;
        } else if (packed) {
            if (f->group > 1 && mg % 8) break;
            wp = nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(f->rank, wd));
            nnl_pack_a8(wp, w, f->oc, ksz);
            k.t[1].data = wp;
            k.t[1].layout = NNL_LAYOUT_PACK_A8;
        }
        if (f->bias || f->res) set_t(&k.t[2], 1, (int64_t[]){f->oc}, b);
        if (!f->bias && f->res) k.in[2] = NULL;
        int64_t yd[4] = {f->n, f->oc, oh, ow};
        if (one_d) yd[2] = ow;
        if (f->res) set_t(&k.t[3], f->rank, yd, z);
        if (f->auto_pad) attr_str(&k, "auto_pad", f->auto_pad);
        else if (one_d) attr_ints(&k, "pads", 2, f->pads);
        else attr_ints(&k, "pads", 4, f->pads);
        if (one_d) {
            attr_ints(&k, "strides", 1, (int64_t[]){f->sw});
            attr_ints(&k, "dilations", 1, (int64_t[]){f->dw});
        } else {
            attr_ints(&k, "strides", 2, (int64_t[]){f->sh, f->sw});
            attr_ints(&k, "dilations", 2, (int64_t[]){f->dh, f->dw});
        }
        attr_int(&k, "group", f->group);
        if (packed == 3) attr_int(&k, "nnl_wino", 1);
        if (f->act) {
            attr_int(&k, "nnl_act", f->act);
            attr_float(&k, "nnl_act_a", -0.5f);
            attr_float(&k, "nnl_act_b", 0.5f);
        }
        float *y = run(&k, pool);
        for (int i = 0; i < f->rank; i++) assert_int_equal(k.t[4].dims[i], yd[i]);
        /* float32 sums of ksz products: the rounding grows with K (Winograd's
         * transforms add some), an indexing slip gives errors of order 1 */
        close_to(y, want, ny, ksz > 256 ? 2e-5 * (double)ksz / 128 : 1e-5);
        nnl_aligned_free(y);
        nnl_aligned_free(wp);
    }
    free(want);
    nnl_aligned_free(x);
    nnl_aligned_free(w);
    nnl_aligned_free(b);
    nnl_aligned_free(z);
}

static void test_conv_variants(void **state) {
    (void)state;
    static const conv_cfg cfgs[] = {
        /* rank n c h w oc kh kw g sh sw dh dw auto_pad pads bias res act */
        {4, 1, 3, 11, 13, 8, 3, 3, 1, 2, 2, 1, 1, "SAME_UPPER", {0}, true, false, NNL_ACT_NONE},
        {4, 1, 3, 11, 13, 8, 3, 3, 1, 2, 2, 1, 1, "SAME_LOWER", {0}, true, false, NNL_ACT_RELU},
        {4, 2, 4, 10, 9, 5, 4, 2, 1, 3, 1, 1, 2, "SAME_UPPER", {0}, false, false, NNL_ACT_NONE},
        {4, 1, 4, 10, 9, 5, 4, 2, 1, 3, 1, 1, 2, "SAME_LOWER", {0}, true, true, NNL_ACT_CLIP},
        {4, 1, 6, 12, 12, 6, 3, 3, 1, 1, 1, 2, 2, "VALID", {0}, true, false, NNL_ACT_NONE},
        {4, 2, 9, 17, 14, 11, 3, 3, 1, 1, 1, 4, 2, NULL, {4, 1, 3, 2}, true, true, NNL_ACT_RELU},
        {4, 1, 5, 10, 10, 7, 3, 3, 1, 1, 1, 1, 1, "SAME_UPPER", {0}, false, true, NNL_ACT_CLIP},
        {4, 1, 6, 12, 12, 16, 3, 3, 2, 1, 2, 1, 1, NULL, {2, 0, 1, 3}, true, true, NNL_ACT_RELU},
        {4, 1, 6, 9, 9, 6, 3, 3, 6, 1, 1, 1, 1, NULL, {1, 1, 1, 1}, true, true, NNL_ACT_RELU}, /* depthwise */
        /* grouped, 16 channels a group: on the transposed tile each group's
         * task pads its own planes (two images: items past the first); on
         * the wide grid's pixel tiles a pool pass pads them first */
        {4, 2, 48, 14, 14, 48, 3, 3, 3, 1, 1, 1, 1, NULL, {1, 1, 1, 1}, true, false, NNL_ACT_RELU},
        {4, 1, 32, 30, 30, 32, 3, 3, 2, 1, 1, 1, 1, NULL, {1, 1, 1, 1}, true, true, NNL_ACT_RELU},
        {4, 1, 64, 14, 14, 64, 1, 1, 1, 1, 1, 1, 1, NULL, {0, 0, 0, 0}, true, true, NNL_ACT_RELU},
        {3, 2, 5, 1, 40, 7, 1, 5, 1, 1, 2, 1, 3, NULL, {4, 1}, true, false, NNL_ACT_NONE}, /* conv1d */
        {3, 1, 8, 1, 33, 8, 1, 3, 8, 1, 1, 1, 1, "SAME_UPPER", {0}, true, true, NNL_ACT_NONE},
        /* Winograd blocks with U streamed (kernels/wino.c): products in
         * passes of 64 output channels, the last one short of a panel */
        {4, 1, 128, 20, 18, 70, 3, 3, 1, 1, 1, 1, 1, NULL, {1, 1, 1, 1}, true, true, NNL_ACT_RELU},
        {4, 1, 96, 28, 28, 136, 3, 3, 1, 1, 1, 1, 1, NULL, {1, 1, 1, 1}, true, false, NNL_ACT_CLIP},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof *cfgs; i++) conv_check(&cfgs[i], i % 2 ? pool2 : NULL);
}

static void test_conv_refusals(void **state) {
    (void)state;
    float d[1] = {0};
    call k;
#define CONV(xr, wr)                                                                   \
    call_init(&k, "Conv", 2);                                                          \
    set_t(&k.t[0], 4, (int64_t[]){1, 4, 8, 8}, d);                                     \
    set_t(&k.t[1], 4, (int64_t[]){6, 4, 3, 3}, d);                                     \
    k.t[0].rank = xr;                                                                  \
    k.t[1].rank = wr
    CONV(4, 4);
    assert_int_equal(infer(&k), NNL_OK);
    assert_int_equal(k.t[4].dims[1], 6);
    assert_int_equal(k.t[4].dims[2], 6);
    CONV(4, 4);
    k.t[0].rank = 5, k.t[0].dims[4] = 3, k.t[1].rank = 5, k.t[1].dims[4] = 3;
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(nnl_last_error(), "rank 5"));
    CONV(4, 4);
    k.t[0].dtype = NNL_DT_DOUBLE;
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    CONV(4, 4);
    attr_int(&k, "bogus", 1);
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(nnl_last_error(), "bogus"));
    CONV(4, 4);
    attr_int(&k, "group", 2);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    CONV(4, 4);
    attr_str(&k, "auto_pad", "SAME_UPPER");
    attr_ints(&k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(nnl_last_error(), "pads"));
    CONV(4, 4);
    attr_str(&k, "auto_pad", "SAME_MIDDLE");
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(nnl_last_error(), "auto_pad"));
    CONV(4, 4);
    attr_ints(&k, "kernel_shape", 2, (int64_t[]){5, 5});
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    CONV(4, 4);
    attr_ints(&k, "strides", 2, (int64_t[]){0, 1});
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    CONV(4, 4);
    k.t[0].dims[2] = 2; /* kernel larger than input */
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    CONV(4, 4);
    k.c.n_in = 3;
    k.in[2] = &k.t[2];
    set_t(&k.t[2], 1, (int64_t[]){5}, d);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    CONV(4, 4);
    attr_int(&k, "nnl_act", 42);
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    CONV(4, 4);
    k.t[1].dims[0] = 12;
    attr_int(&k, "group", 4);
    k.t[1].dims[1] = 1;
    k.t[1].layout = NNL_LAYOUT_PACK_A8; /* 3 channels per group: not on panel bounds */
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    CONV(4, 4);
    k.t[1].layout = NNL_LAYOUT_WINO43;
    assert_int_equal(infer(&k), NNL_OK);
    CONV(4, 4);
    k.t[1].layout = NNL_LAYOUT_WINO43;
    attr_ints(&k, "strides", 2, (int64_t[]){2, 2});
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(nnl_last_error(), "Winograd"));
    CONV(4, 4);
    k.t[1].layout = NNL_LAYOUT_PACK_A8T;
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
#undef CONV
}

/* ---- ConvTranspose --------------------------------------------------------------- */

typedef struct convt_cfg {
    int rank;
    int64_t n, c, h, w, ocg, kh, kw, group, sh, sw, dh, dw;
    int64_t pads[4], outpad[2];
    bool bias;
} convt_cfg;

static void convt_check(const convt_cfg *f, nnl_pool *pool) {
    bool one_d = f->rank == 3;
    int64_t h = one_d ? 1 : f->h, kh = one_d ? 1 : f->kh, sh = one_d ? 1 : f->sh, dh = one_d ? 1 : f->dh;
    int64_t pt = one_d ? 0 : f->pads[0], pbm = one_d ? 0 : f->pads[2];
    int64_t pl = one_d ? f->pads[0] : f->pads[1], pr = one_d ? f->pads[1] : f->pads[3];
    int64_t oph = one_d ? 0 : f->outpad[0], opw = one_d ? f->outpad[0] : f->outpad[1];
    int64_t oh = sh * (h - 1) + oph + (kh - 1) * dh + 1 - pt - pbm;
    int64_t ow = f->sw * (f->w - 1) + opw + (f->kw - 1) * f->dw + 1 - pl - pr;
    int64_t oc = f->ocg * f->group, icg = f->c / f->group, ny = f->n * oc * oh * ow;
    float *x = rnd(f->n * f->c * h * f->w, 21), *w = rnd(f->c * f->ocg * kh * f->kw, 22), *b = rnd(oc, 23);
    double *want = calloc((size_t)ny, sizeof(double));
    for (int64_t img = 0; img < f->n; img++)
        for (int64_t o = 0; o < oc; o++) {
            int64_t g = o / f->ocg, og = o % f->ocg;
            for (int64_t i = 0; i < oh * ow; i++) want[(img * oc + o) * oh * ow + i] = f->bias ? b[o] : 0;
            for (int64_t ic = 0; ic < icg; ic++)
                for (int64_t iy = 0; iy < h; iy++)
                    for (int64_t ix = 0; ix < f->w; ix++)
                        for (int64_t ky = 0; ky < kh; ky++)
                            for (int64_t kx = 0; kx < f->kw; kx++) {
                                int64_t oy = iy * sh - pt + ky * dh, ox = ix * f->sw - pl + kx * f->dw;
                                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                                int64_t ci = g * icg + ic;
                                want[((img * oc + o) * oh + oy) * ow + ox] +=
                                    (double)x[((img * f->c + ci) * h + iy) * f->w + ix] *
                                    w[((ci * f->ocg + og) * kh + ky) * f->kw + kx];
                            }
        }
    call k;
    call_init(&k, "ConvTranspose", f->bias ? 3 : 2);
    int64_t xd[4] = {f->n, f->c, h, f->w}, wd[4] = {f->c, f->ocg, kh, f->kw};
    if (one_d) xd[2] = f->w, wd[2] = f->kw;
    set_t(&k.t[0], f->rank, xd, x);
    set_t(&k.t[1], f->rank, wd, w);
    if (f->bias) set_t(&k.t[2], 1, (int64_t[]){oc}, b);
    if (one_d) {
        attr_ints(&k, "pads", 2, f->pads);
        attr_ints(&k, "strides", 1, (int64_t[]){f->sw});
        attr_ints(&k, "dilations", 1, (int64_t[]){f->dw});
        attr_ints(&k, "output_padding", 1, f->outpad);
    } else {
        attr_ints(&k, "pads", 4, f->pads);
        attr_ints(&k, "strides", 2, (int64_t[]){f->sh, f->sw});
        attr_ints(&k, "dilations", 2, (int64_t[]){f->dh, f->dw});
        attr_ints(&k, "output_padding", 2, f->outpad);
    }
    attr_int(&k, "group", f->group);
    assert_int_equal(infer(&k), NNL_OK);
    void *scratch = nnl_aligned_alloc(k.r.scratch_bytes);
    k.c.scratch = scratch;
    float *y = run(&k, pool);
    assert_int_equal(k.t[4].dims[1], oc);
    assert_int_equal(k.t[4].dims[f->rank - 1], ow);
    if (!one_d) assert_int_equal(k.t[4].dims[2], oh);
    close_to(y, want, ny, 1e-5);
    nnl_aligned_free(y);
    nnl_aligned_free(scratch);
    free(want);
    nnl_aligned_free(x);
    nnl_aligned_free(w);
    nnl_aligned_free(b);
}

static void test_convtranspose(void **state) {
    (void)state;
    static const convt_cfg cfgs[] = {
        /* rank n c h w ocg kh kw g sh sw dh dw pads outpad bias */
        {4, 1, 3, 5, 6, 4, 3, 3, 1, 2, 2, 1, 1, {1, 1, 1, 1}, {1, 0}, true},
        {4, 2, 4, 4, 5, 3, 4, 2, 2, 2, 3, 1, 2, {0, 1, 2, 0}, {0, 2}, false},
        {4, 1, 16, 7, 9, 16, 3, 3, 1, 1, 1, 2, 2, {2, 2, 2, 2}, {0, 0}, true},
        {3, 1, 6, 1, 11, 5, 1, 4, 3, 3, 3, 1, 1, {1, 2}, {2}, true},
    };
    for (size_t i = 0; i < sizeof cfgs / sizeof *cfgs; i++) convt_check(&cfgs[i], i % 2 ? pool2 : NULL);
    /* refusals */
    float d[1] = {0};
    call k;
    call_init(&k, "ConvTranspose", 2);
    set_t(&k.t[0], 5, (int64_t[]){1, 2, 3, 3, 3}, d);
    set_t(&k.t[1], 5, (int64_t[]){2, 2, 3, 3, 3}, d);
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    call_init(&k, "ConvTranspose", 2);
    set_t(&k.t[0], 4, (int64_t[]){1, 2, 3, 3}, d);
    set_t(&k.t[1], 4, (int64_t[]){2, 2, 3, 3}, d);
    attr_ints(&k, "output_padding", 2, (int64_t[]){1, 1}); /* not below stride 1 */
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    call_init(&k, "ConvTranspose", 2);
    set_t(&k.t[0], 4, (int64_t[]){1, 2, 3, 3}, d);
    set_t(&k.t[1], 4, (int64_t[]){3, 2, 3, 3}, d); /* weight rows must equal input channels */
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
}

/* ---- Gemm ---------------------------------------------------------------------- */

static void gemm_check(int64_t m, int64_t n, int64_t kk, bool ta, bool tb, int c_rank, const int64_t *cdims,
                       float alpha, float beta, bool packed, nnl_act act, nnl_pool *pool) {
    float *a = rnd(m * kk, 1), *b = rnd(kk * n, 2), *cc = rnd(m * n, 3);
    double *want = calloc((size_t)(m * n), sizeof(double));
    int64_t cm = c_rank == 2 ? cdims[0] : 1, cn = c_rank >= 1 ? cdims[c_rank - 1] : 1;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t l = 0; l < kk; l++)
                s += (double)(ta ? a[l * m + i] : a[i * kk + l]) * (tb ? b[j * kk + l] : b[l * n + j]);
            s *= alpha;
            if (c_rank >= 0) s += beta * cc[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
            if (act == NNL_ACT_LEAKYRELU && s < 0) s *= 0.25;
            want[i * n + j] = s;
        }
    call k;
    call_init(&k, "Gemm", c_rank >= 0 ? 3 : 2);
    set_t(&k.t[0], 2, ta ? (int64_t[]){kk, m} : (int64_t[]){m, kk}, a);
    set_t(&k.t[1], 2, tb ? (int64_t[]){n, kk} : (int64_t[]){kk, n}, b);
    if (c_rank >= 0) set_t(&k.t[2], c_rank, cdims, cc);
    float *wp = NULL;
    if (packed) {
        wp = nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(2, k.t[1].dims));
        nnl_pack_a8(wp, b, n, kk);
        k.t[1].data = wp;
        k.t[1].layout = NNL_LAYOUT_PACK_A8;
    }
    if (ta) attr_int(&k, "transA", 1);
    if (tb) attr_int(&k, "transB", 1);
    if (alpha != 1.0f) attr_float(&k, "alpha", alpha);
    if (beta != 1.0f) attr_float(&k, "beta", beta);
    if (act) {
        attr_int(&k, "nnl_act", act);
        attr_float(&k, "nnl_act_a", 0.25f);
    }
    float *y = run(&k, pool);
    assert_int_equal(k.t[4].dims[0], m);
    assert_int_equal(k.t[4].dims[1], n);
    close_to(y, want, m * n, 1e-5 * (double)(kk + 1));
    nnl_aligned_free(y);
    nnl_aligned_free(wp);
    free(want);
    nnl_aligned_free(a);
    nnl_aligned_free(b);
    nnl_aligned_free(cc);
}

static void test_gemm(void **state) {
    (void)state;
    int64_t mn[2] = {13, 37}, n1[1] = {37}, m1[2] = {13, 1}, one[1] = {1};
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = t & 2;
        gemm_check(13, 37, 29, ta, tb, -1, NULL, 1, 1, false, NNL_ACT_NONE, NULL);
        gemm_check(13, 37, 29, ta, tb, 2, mn, 0.5f, -1.5f, false, NNL_ACT_NONE, pool2);
        gemm_check(13, 37, 29, ta, tb, 1, n1, 1, 1, false, NNL_ACT_LEAKYRELU, NULL);
        gemm_check(13, 37, 29, ta, tb, 2, m1, 2, 0.5f, false, NNL_ACT_NONE, pool2);
        gemm_check(13, 37, 29, ta, tb, 0, NULL, 1, 2, false, NNL_ACT_NONE, NULL);
        gemm_check(13, 37, 29, ta, tb, 1, one, 1, 1, false, NNL_ACT_NONE, NULL);
        if (tb) {
            gemm_check(13, 37, 29, ta, tb, 1, n1, 1, 1, true, NNL_ACT_LEAKYRELU, pool2);
            gemm_check(1, 1000, 300, ta, tb, 1, (int64_t[]){1000}, 1, 1, true, NNL_ACT_NONE, pool2);
        }
    }
    /* one row of A: the transposed orientation */
    int64_t n77[1] = {77}, r77[2] = {1, 77};
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = t & 2;
        gemm_check(1, 77, 300, ta, tb, 1, n77, 0.5f, 2, false, NNL_ACT_LEAKYRELU, t % 2 ? pool2 : NULL);
        gemm_check(1, 77, 300, ta, tb, 2, r77, 1, 1, tb, NNL_ACT_NONE, pool2);
        gemm_check(1, 77, 300, ta, tb, 0, NULL, 1, -1, tb, NNL_ACT_NONE, NULL);
        gemm_check(1, 77, 300, ta, tb, -1, NULL, 1, 1, false, NNL_ACT_NONE, NULL);
    }
    int64_t n50[1] = {50};
    gemm_check(64, 50, 700, false, false, 1, n50, 1, 0, false, NNL_ACT_NONE, pool2); /* beta 0 ignores C */
}

static void test_gemm_refusals(void **state) {
    (void)state;
    float d[1] = {0};
    call k;
    call_init(&k, "Gemm", 2);
    set_t(&k.t[0], 2, (int64_t[]){3, 4}, d);
    set_t(&k.t[1], 2, (int64_t[]){5, 6}, d);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    call_init(&k, "Gemm", 3);
    set_t(&k.t[0], 2, (int64_t[]){3, 4}, d);
    set_t(&k.t[1], 2, (int64_t[]){4, 6}, d);
    set_t(&k.t[2], 2, (int64_t[]){2, 6}, d);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    call_init(&k, "Gemm", 2);
    set_t(&k.t[0], 2, (int64_t[]){3, 4}, d);
    set_t(&k.t[1], 2, (int64_t[]){4, 6}, d);
    k.t[1].layout = NNL_LAYOUT_PACK_A8; /* packed needs transB */
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
    call_init(&k, "Gemm", 2);
    set_t(&k.t[0], 2, (int64_t[]){3, 4}, d);
    set_t(&k.t[1], 2, (int64_t[]){4, 6}, d);
    k.t[0].dtype = NNL_DT_INT64;
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
}

/* ---- MatMul -------------------------------------------------------------------- */

static void matmul_check(int ar, const int64_t *ad, int br, const int64_t *bd, int orank, const int64_t *od,
                         nnl_pool *pool) {
    int64_t an = 1, bn = 1, on = 1;
    for (int i = 0; i < ar; i++) an *= ad[i];
    for (int i = 0; i < br; i++) bn *= bd[i];
    for (int i = 0; i < orank; i++) on *= od[i];
    float *a = rnd(an, 7), *b = rnd(bn, 8);
    call k;
    call_init(&k, "MatMul", 2);
    set_t(&k.t[0], ar, ad, a);
    set_t(&k.t[1], br, bd, b);
    float *y = run(&k, pool);
    assert_int_equal(k.t[4].rank, orank);
    for (int i = 0; i < orank; i++) assert_int_equal(k.t[4].dims[i], od[i]);
    /* reference by numpy's rules, with every operand promoted to rank 4 */
    int64_t A[4] = {1, 1, 1, 1}, B[4] = {1, 1, 1, 1};
    if (ar == 1) A[3] = ad[0];
    else for (int i = 0; i < ar; i++) A[4 - ar + i] = ad[i];
    if (br == 1) B[2] = bd[0];
    else for (int i = 0; i < br; i++) B[4 - br + i] = bd[i];
    int64_t d0 = A[0] > B[0] ? A[0] : B[0], d1 = A[1] > B[1] ? A[1] : B[1];
    int64_t m = A[2], kk = A[3], n = B[3];
    double *want = calloc((size_t)on, sizeof(double));
    int64_t o = 0;
    for (int64_t i0 = 0; i0 < d0; i0++)
        for (int64_t i1 = 0; i1 < d1; i1++)
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    double s = 0;
                    int64_t ab = ((A[0] > 1 ? i0 : 0) * A[1] + (A[1] > 1 ? i1 : 0)) * m * kk;
                    int64_t bb = ((B[0] > 1 ? i0 : 0) * B[1] + (B[1] > 1 ? i1 : 0)) * kk * n;
                    for (int64_t l = 0; l < kk; l++) s += (double)a[ab + i * kk + l] * b[bb + l * n + j];
                    want[o++] = s;
                }
    assert_int_equal(o, on);
    close_to(y, want, on, 1e-5 * (double)(kk + 1));
    free(want);
    nnl_aligned_free(y);
    nnl_aligned_free(a);
    nnl_aligned_free(b);
}

static void test_matmul(void **state) {
    (void)state;
    matmul_check(2, (int64_t[]){7, 9}, 2, (int64_t[]){9, 20}, 2, (int64_t[]){7, 20}, NULL);
    matmul_check(1, (int64_t[]){9}, 1, (int64_t[]){9}, 0, NULL, NULL);
    matmul_check(1, (int64_t[]){9}, 2, (int64_t[]){9, 5}, 1, (int64_t[]){5}, NULL);
    matmul_check(2, (int64_t[]){6, 9}, 1, (int64_t[]){9}, 1, (int64_t[]){6}, pool2);
    matmul_check(3, (int64_t[]){3, 6, 9}, 1, (int64_t[]){9}, 2, (int64_t[]){3, 6}, pool2);
    matmul_check(1, (int64_t[]){9}, 3, (int64_t[]){3, 9, 4}, 2, (int64_t[]){3, 4}, pool2);
    matmul_check(3, (int64_t[]){4, 10, 33}, 2, (int64_t[]){33, 50}, 3, (int64_t[]){4, 10, 50}, pool2);
    matmul_check(4, (int64_t[]){2, 1, 3, 4}, 3, (int64_t[]){5, 4, 6}, 4, (int64_t[]){2, 5, 3, 6}, pool2);
    matmul_check(2, (int64_t[]){3, 4}, 4, (int64_t[]){2, 2, 4, 7}, 4, (int64_t[]){2, 2, 3, 7}, NULL);
    matmul_check(3, (int64_t[]){1, 300, 70}, 3, (int64_t[]){2, 70, 130}, 3, (int64_t[]){2, 300, 130}, pool2);
    float d[1] = {0};
    call k;
    call_init(&k, "MatMul", 2);
    set_t(&k.t[0], 3, (int64_t[]){2, 3, 4}, d);
    set_t(&k.t[1], 3, (int64_t[]){3, 4, 5}, d);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    call_init(&k, "MatMul", 2);
    set_t(&k.t[0], 2, (int64_t[]){3, 4}, d);
    set_t(&k.t[1], 2, (int64_t[]){5, 4}, d);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
}

/* MatMul's fused extras (passes/fuse.c): bias [N], residual Z, GELU and
 * nnl_alpha, Y = gelu(alpha A B + bias + Z), on the tiled path (plain and PACK_A8T B), the
 * dot-product path (a few rows against a packed B), batched A, and Z
 * without a bias on a batched B. */
static void matmul_epi_check(int64_t batch, int64_t m, int64_t kk, int64_t n, bool packed, bool with_bias,
                             float alpha, nnl_pool *pool) {
    /* unpacked B without a bias: one B per batch item (batched GEMMs) */
    const int64_t nb = packed || with_bias ? 1 : batch;
    float *a = rnd(batch * m * kk, 11), *b = rnd(nb * kk * n, 12), *bias = rnd(n, 13), *z = rnd(batch * m * n, 14);
    double *want = calloc((size_t)(batch * m * n), sizeof(double));
    for (int64_t r = 0; r < batch * m; r++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t l = 0; l < kk; l++) s += (double)a[r * kk + l] * b[(nb > 1 ? r / m : 0) * kk * n + l * n + j];
            s = alpha * s + z[r * n + j] + (with_bias ? bias[j] : 0.0);
            want[r * n + j] = 0.5 * s * (1.0 + erf(s / sqrt(2.0)));
        }
    call k;
    call_init(&k, "MatMul", 4);
    set_t(&k.t[0], 3, (int64_t[]){batch, m, kk}, a);
    if (nb > 1)
        set_t(&k.t[1], 3, (int64_t[]){nb, kk, n}, b);
    else
        set_t(&k.t[1], 2, (int64_t[]){kk, n}, b);
    set_t(&k.t[2], 1, (int64_t[]){n}, bias);
    set_t(&k.t[3], 3, (int64_t[]){batch, m, n}, z);
    if (!with_bias) k.in[2] = NULL;
    float *wp = NULL;
    if (packed) {
        wp = nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(2, (int64_t[]){n, kk}));
        nnl_pack_a8t(wp, b, kk, n);
        k.t[1].data = wp;
        k.t[1].layout = NNL_LAYOUT_PACK_A8T;
    }
    attr_int(&k, "nnl_act", NNL_ACT_GELU);
    if (alpha != 1.0f) attr_float(&k, "nnl_alpha", alpha);
    float *y = run(&k, pool);
    close_to(y, want, batch * m * n, 1e-5 * (double)(kk + 1));
    nnl_aligned_free(y);
    nnl_aligned_free(wp);
    free(want);
    nnl_aligned_free(a);
    nnl_aligned_free(b);
    nnl_aligned_free(bias);
    nnl_aligned_free(z);
}

static void test_matmul_epilogue(void **state) {
    (void)state;
    matmul_epi_check(2, 10, 33, 50, false, true, 1.0f, pool2);
    matmul_epi_check(1, 37, 70, 101, true, true, 1.0f, NULL);
    matmul_epi_check(1, 2, 300, 77, true, true, 0.3f, pool2);
    matmul_epi_check(3, 5, 20, 9, false, false, 0.125f, NULL);
    /* refused: a bias that is not [N], a Z not of the output's shape, GELU on a Conv */
    float d[64] = {0};
    call k;
    call_init(&k, "MatMul", 3);
    set_t(&k.t[0], 2, (int64_t[]){3, 4}, d);
    set_t(&k.t[1], 2, (int64_t[]){4, 6}, d);
    set_t(&k.t[2], 2, (int64_t[]){1, 6}, d);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    call_init(&k, "MatMul", 4);
    set_t(&k.t[0], 2, (int64_t[]){3, 4}, d);
    set_t(&k.t[1], 2, (int64_t[]){4, 6}, d);
    set_t(&k.t[2], 1, (int64_t[]){6}, d);
    set_t(&k.t[3], 2, (int64_t[]){1, 6}, d);
    assert_int_equal(infer(&k), NNL_ERR_SHAPE);
    call_init(&k, "Conv", 2);
    set_t(&k.t[0], 4, (int64_t[]){1, 2, 3, 3}, d);
    set_t(&k.t[1], 4, (int64_t[]){2, 2, 1, 1}, d);
    attr_int(&k, "nnl_act", NNL_ACT_GELU);
    assert_int_equal(infer(&k), NNL_ERR_UNSUPPORTED);
}

/* ---- pack pass ------------------------------------------------------------------ */

static int add_const(nnl_model *m, const char *name, int rank, const int64_t *dims, unsigned seed) {
    int v = nnl_model_add_value(m, name, NNL_VAL_CONST);
    assert_true(v >= 0);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *p = rnd(n, seed);
    assert_int_equal(nnl_value_set_const(&m->values[v], NNL_DT_FLOAT, rank, dims, p, true), NNL_OK);
    return v;
}

static int add_act(nnl_model *m, const char *name) {
    int v = nnl_model_add_value(m, name, NNL_VAL_ACT);
    assert_true(v >= 0);
    return v;
}

/* The compiler's Winograd record (passes/pack_weights.h): nnl_wino 1 on
 * a 64-channel 3x3 conv at 56x56 and on a narrow one (32 output channels)
 * there, 0 where the choice says direct (stride 2, a 14x14 map of 16
 * tiles); the run follows the record, the narrow conv only on a set with
 * wino_narrow, while the scratch has room for both paths; a conv without
 * a record (a file from before it) keeps the old rule, under which 64
 * channels ran direct. */
static void test_pick_winograd(void **state) {
    (void)state;
    nnl_model *m = nnl_model_new();
    assert_non_null(m);
    int xs[3];
    const int64_t hw[3] = {56, 14, 28}, ch[3] = {64, 64, 128};
    for (int i = 0; i < 3; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "x%lld", (long long)hw[i]);
        xs[i] = nnl_model_add_value(m, nm, NNL_VAL_INPUT);
        nnl_tensor *t = &m->values[xs[i]].t;
        t->dtype = NNL_DT_FLOAT;
        t->rank = 4;
        t->dims[0] = 1, t->dims[1] = ch[i], t->dims[2] = hw[i], t->dims[3] = hw[i];
        m->values[xs[i]].shape_known = true;
    }
    int w64 = add_const(m, "w64", 4, (int64_t[]){64, 64, 3, 3}, 11), w32 = add_const(m, "w32", 4, (int64_t[]){32, 64, 3, 3}, 12);
    int w128 = add_const(m, "w128", 4, (int64_t[]){128, 128, 3, 3}, 13);
    int y[6];
    for (int i = 0; i < 6; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "y%d", i);
        y[i] = add_act(m, nm);
    }
    const size_t wn = 128 * 128 * 9;
    float *plain = malloc(wn * sizeof(float)), *u = malloc(nnl_wino_bytes(128, 128));
    assert_non_null(plain);
    assert_non_null(u);
    memcpy(plain, m->values[w128].t.data, wn * sizeof(float));
    nnl_wino_pack(u, plain, 128, 128);
    nnl_attr pad = {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = (int64_t[]){1, 1, 1, 1}};
    nnl_attr st2[2] = {pad, {.name = "strides", .type = NNL_ATTR_INTS, .n = 2, .ints = (int64_t[]){2, 2}}};
    assert_true(nnl_model_add_node(m, "Conv", "wino", (int[]){xs[0], w64}, 2, &y[0], 1, &pad, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "s2", (int[]){xs[0], w64}, 2, &y[1], 1, st2, 2) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "oc32", (int[]){xs[0], w32}, 2, &y[2], 1, &pad, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "small", (int[]){xs[1], w64}, 2, &y[3], 1, &pad, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "blocks", (int[]){xs[2], w128}, 2, &y[4], 1, &pad, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "blocks2", (int[]){xs[2], w128}, 2, &y[5], 1, &pad, 1) >= 0);
    assert_int_equal(nnl_pass_pack_weights(m), NNL_OK);
    assert_int_equal(nnl_pass_pick_winograd(m), NNL_OK);
    /* -1: Winograd on a derived WINO43 weight, no record; the narrow conv
     * keeps its weight and the record (Winograd on 16-lane sets only) */
    static const int64_t want[6] = {-1, 0, 1, 0, -1, -1};
    for (int i = 0; i < 6; i++) {
        const nnl_node *n = &m->nodes[i];
        const nnl_attr *a = nnl_node_attr(n, "nnl_wino");
        const nnl_value *w = &m->values[n->in[1]];
        if (want[i] < 0) {
            assert_null(a);
            assert_string_equal(w->name, i == 0 ? "w64.wino43" : "w128.wino43");
            assert_int_equal(w->t.layout, NNL_LAYOUT_WINO43);
            continue;
        }
        assert_non_null(a);
        assert_true(n->in[1] == (i == 2 ? w32 : w64));
        if (a->i != want[i]) fail_msg("node %s: nnl_wino %lld, want %lld", n->name, (long long)a->i, (long long)want[i]);
    }
    /* one derived weight for both 128-channel readers: the transform of
     * the plain weight, not of its packed bytes */
    const nnl_value *d = &m->values[m->nodes[4].in[1]];
    assert_int_equal(m->nodes[5].in[1], m->nodes[4].in[1]);
    assert_int_equal(nnl_tensor_nbytes(&d->t), nnl_wino_bytes(128, 128));
    assert_memory_equal(d->t.data, u, nnl_wino_bytes(128, 128));
    free(plain);
    free(u);
    nnl_conv_params p = {.n = 1, .c = 64, .h = 56, .w = 56, .oc = 64, .kh = 3, .kw = 3, .group = 1, .sh = 1, .sw = 1,
                         .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1, .oh = 56, .ow = 56};
    if (nnl_wino_mode() == 1) {
        nnl_kernel wide = *nnl_kernel_find("scalar"), plain = wide;
        wide.wino_narrow = true;
        plain.wino_narrow = false;
        assert_false(nnl_wino_auto(&p, NULL));   /* no record: the old rule */
        p.wino_pick = NNL_WINO_YES;
        assert_true(nnl_wino_auto(&p, NULL));
        assert_true(nnl_wino_auto(&p, &plain));
        /* room for both paths: builds from before the record run it direct */
        size_t both = nnl_conv_scratch_bytes(&p, NNL_LAYOUT_PACK_A8);
        assert_true(both >= nnl_wino_scratch_bytes(&p));
        assert_true(both >= nnl_conv_direct_scratch_bytes(&p, NNL_LAYOUT_PACK_A8));
        p.wino_pick = NNL_WINO_NO;
        assert_false(nnl_wino_auto(&p, NULL));
        assert_true(nnl_conv_scratch_bytes(&p, NNL_LAYOUT_PACK_A8) == nnl_conv_direct_scratch_bytes(&p, NNL_LAYOUT_PACK_A8));
        /* narrow: recorded, run by the sets that have it, room for both */
        p.oc = 32;
        p.wino_pick = NNL_WINO_YES;
        assert_true(nnl_wino_narrow(&p) && nnl_wino_choose(&p));
        assert_true(nnl_wino_auto(&p, NULL) && nnl_wino_auto(&p, &wide));
        assert_false(nnl_wino_auto(&p, &plain));
        both = nnl_conv_scratch_bytes(&p, NNL_LAYOUT_PACK_A8);
        assert_true(both >= nnl_wino_scratch_bytes(&p));
        assert_true(both >= nnl_conv_direct_scratch_bytes(&p, NNL_LAYOUT_PACK_A8));
        p.c = 16;   /* 16 channels in: never */
        assert_false(nnl_wino_choose(&p));
    }
    nnl_model_free(m);
}

static void test_pack_pass(void **state) {
    (void)state;
    nnl_model *m = nnl_model_new();
    assert_non_null(m);
    int x = nnl_model_add_value(m, "x", NNL_VAL_INPUT);
    int w1 = add_const(m, "w1", 4, (int64_t[]){10, 3, 3, 3}, 1);   /* Conv, shared by two Convs */
    int w2 = add_const(m, "w2", 4, (int64_t[]){12, 1, 3, 3}, 2);   /* group 4: 3 per group */
    int w3 = add_const(m, "w3", 4, (int64_t[]){10, 3, 1, 1}, 3);   /* also read by an Add */
    int w4 = add_const(m, "w4", 2, (int64_t[]){20, 30}, 4);        /* Gemm transB = 1 */
    int w5 = add_const(m, "w5", 2, (int64_t[]){30, 20}, 5);        /* Gemm transB = 0 */
    int w6 = add_const(m, "w6", 4, (int64_t[]){16, 2, 3, 3}, 6);   /* group 2: 8 per group */
    int w7 = add_const(m, "w7", 4, (int64_t[]){256, 256, 3, 3}, 7); /* Winograd */
    int w8 = add_const(m, "w8", 4, (int64_t[]){256, 256, 3, 3}, 8); /* stride 2: direct */
    int w9 = add_const(m, "w9", 4, (int64_t[]){256, 256, 3, 3}, 9); /* dilation 12: direct */
    int w10 = add_const(m, "w10", 4, (int64_t[]){128, 256, 3, 3}, 10); /* too few channels */
    int y[12];
    char nm[16];
    for (int i = 0; i < 12; i++) {
        snprintf(nm, sizeof nm, "y%d", i);
        y[i] = add_act(m, nm);
    }
    nnl_attr g4 = {.name = "group", .type = NNL_ATTR_INT, .i = 4};
    nnl_attr g2 = {.name = "group", .type = NNL_ATTR_INT, .i = 2};
    nnl_attr tb = {.name = "transB", .type = NNL_ATTR_INT, .i = 1};
    assert_true(nnl_model_add_node(m, "Conv", "c1", (int[]){x, w1}, 2, &y[0], 1, NULL, 0) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c2", (int[]){x, w1}, 2, &y[1], 1, NULL, 0) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c3", (int[]){x, w2}, 2, &y[2], 1, &g4, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c4", (int[]){x, w3}, 2, &y[3], 1, NULL, 0) >= 0);
    assert_true(nnl_model_add_node(m, "Add", "a", (int[]){w3, w3}, 2, &y[4], 1, NULL, 0) >= 0);
    assert_true(nnl_model_add_node(m, "Gemm", "g1", (int[]){x, w4}, 2, &y[5], 1, &tb, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Gemm", "g2", (int[]){x, w5}, 2, &y[6], 1, NULL, 0) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c5", (int[]){x, w6}, 2, &y[7], 1, &g2, 1) >= 0);
    nnl_attr d2 = {.name = "dilations", .type = NNL_ATTR_INTS, .n = 2, .ints = (int64_t[]){2, 4}};
    nnl_attr s2 = {.name = "strides", .type = NNL_ATTR_INTS, .n = 2, .ints = (int64_t[]){2, 2}};
    nnl_attr d12 = {.name = "dilations", .type = NNL_ATTR_INTS, .n = 2, .ints = (int64_t[]){12, 12}};
    assert_true(nnl_model_add_node(m, "Conv", "c6", (int[]){x, w7}, 2, &y[8], 1, &d2, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c7", (int[]){x, w8}, 2, &y[9], 1, &s2, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c8", (int[]){x, w9}, 2, &y[10], 1, &d12, 1) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c9", (int[]){x, w10}, 2, &y[11], 1, NULL, 0) >= 0);
    float *orig7 = malloc(256 * 256 * 9 * sizeof(float));
    memcpy(orig7, m->values[w7].t.data, 256 * 256 * 9 * sizeof(float));
    float *orig1 = malloc(270 * sizeof(float)), *orig4 = malloc(600 * sizeof(float));
    memcpy(orig1, m->values[w1].t.data, 270 * sizeof(float));
    memcpy(orig4, m->values[w4].t.data, 600 * sizeof(float));
    m->winograd = true;
    assert_int_equal(nnl_pass_pack_weights(m), NNL_OK);
    assert_int_equal(m->values[w1].t.layout, NNL_LAYOUT_PACK_A8);
    assert_int_equal(m->values[w2].t.layout, NNL_LAYOUT_PLAIN);
    assert_int_equal(m->values[w3].t.layout, NNL_LAYOUT_PLAIN);
    assert_int_equal(m->values[w4].t.layout, NNL_LAYOUT_PACK_A8);
    /* PLAIN until ops/nn_gemm.c reads PACK_A8T (passes/pack_weights.c) */
    assert_true(m->values[w5].t.layout == NNL_LAYOUT_PLAIN || m->values[w5].t.layout == NNL_LAYOUT_PACK_A8T);
    if (m->values[w5].t.layout == NNL_LAYOUT_PACK_A8T) {
        assert_int_equal(nnl_tensor_nbytes(&m->values[w5].t), 24 * 30 * sizeof(float));
    }
    assert_int_equal(m->values[w6].t.layout, NNL_LAYOUT_PACK_A8);
    assert_int_equal(m->values[w8].t.layout, NNL_LAYOUT_PACK_A8);
    assert_int_equal(m->values[w9].t.layout, NNL_LAYOUT_PACK_A8);
    assert_int_equal(m->values[w10].t.layout, NNL_LAYOUT_PACK_A8);
    /* WINO43 once the file format accepts it (format/check.c), PACK_A8
     * before: the pass never writes a layout a file cannot hold */
    uint64_t wb;
    if (nnl_tensor_nbytes_checked(NNL_DT_FLOAT, 4, m->values[w7].t.dims, NNL_LAYOUT_WINO43, &wb)) {
        assert_int_equal(m->values[w7].t.layout, NNL_LAYOUT_WINO43);
        assert_int_equal(nnl_tensor_nbytes(&m->values[w7].t), nnl_wino_bytes(256, 256));
        float *e7 = nnl_aligned_alloc((size_t)nnl_wino_bytes(256, 256));
        nnl_wino_pack(e7, orig7, 256, 256);
        assert_memory_equal(m->values[w7].t.data, e7, (size_t)nnl_wino_bytes(256, 256));
        nnl_aligned_free(e7);
    } else {
        assert_int_equal(m->values[w7].t.layout, NNL_LAYOUT_PACK_A8);
    }
    free(orig7);
    /* logical dims kept, bytes exactly the documented layout */
    assert_int_equal(m->values[w1].t.dims[0], 10);
    assert_int_equal(m->values[w1].t.rank, 4);
    assert_int_equal(nnl_tensor_nbytes(&m->values[w1].t), 16 * 27 * sizeof(float));
    float *expect = calloc(16 * 27, sizeof(float));
    nnl_pack_a8(expect, orig1, 10, 27);
    assert_memory_equal(m->values[w1].t.data, expect, 16 * 27 * sizeof(float));
    float *expect4 = calloc(24 * 30, sizeof(float));
    nnl_pack_a8(expect4, orig4, 20, 30);
    assert_memory_equal(m->values[w4].t.data, expect4, 24 * 30 * sizeof(float));
    /* running it again changes nothing */
    assert_int_equal(nnl_pass_pack_weights(m), NNL_OK);
    assert_memory_equal(m->values[w1].t.data, expect, 16 * 27 * sizeof(float));
    free(expect);
    free(expect4);
    free(orig1);
    free(orig4);
    nnl_model_free(m);
}

/* A failed allocation leaves the model as it was. */
/* Value v an activation of float32 dims (the shapes inference would set). */
static void set_shape(nnl_model *m, int v, int rank, const int64_t *dims) {
    m->values[v].t.dtype = NNL_DT_FLOAT;
    m->values[v].t.rank = rank;
    memcpy(m->values[v].t.dims, dims, (size_t)rank * sizeof(int64_t));
}

/* trim_taps: a dilated conv on a small map becomes the conv of its live
 * taps with a weight of their own (the same one for two such convs), pads
 * shrunk; a conv with every tap alive keeps its weight. */
static void test_trim_taps_pass(void **state) {
    (void)state;
    nnl_model *m = nnl_model_new();
    assert_non_null(m);
    int x = nnl_model_add_value(m, "x", NNL_VAL_INPUT);
    m->values[x].shape_known = true;
    set_shape(m, x, 4, (int64_t[]){1, 4, 6, 10});
    int w = add_const(m, "w", 4, (int64_t[]){3, 4, 3, 3}, 11);
    int y[3] = {add_act(m, "y0"), add_act(m, "y1"), add_act(m, "y2")};
    /* rows: dilation 6 on 6 rows leaves the middle row; columns:
     * dilation 6 on 10 columns with pad 6 leaves all three */
    nnl_attr at[2] = {{.name = "dilations", .type = NNL_ATTR_INTS, .n = 2, .ints = (int64_t[]){6, 6}},
                      {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = (int64_t[]){6, 6, 6, 6}}};
    nnl_attr full[1] = {{.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = (int64_t[]){1, 1, 1, 1}}};
    assert_true(nnl_model_add_node(m, "Conv", "c0", (int[]){x, w}, 2, &y[0], 1, at, 2) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c1", (int[]){x, w}, 2, &y[1], 1, at, 2) >= 0);
    assert_true(nnl_model_add_node(m, "Conv", "c2", (int[]){x, w}, 2, &y[2], 1, full, 1) >= 0);
    float orig[3 * 4 * 9];
    memcpy(orig, m->values[w].t.data, sizeof orig);
    assert_int_equal(nnl_pass_trim_taps(m), NNL_OK);
    int t = m->nodes[0].in[1];
    assert_true(t != w);
    assert_int_equal(m->nodes[1].in[1], t);
    assert_int_equal(m->nodes[2].in[1], w);
    assert_string_equal(m->values[t].name, "w.taps1x3@1,0");
    const int64_t dims[4] = {3, 4, 1, 3};
    assert_memory_equal(m->values[t].t.dims, dims, sizeof dims);
    const float *d = m->values[t].t.data;
    for (int r = 0; r < 12; r++)
        for (int kx = 0; kx < 3; kx++) assert_true(d[r * 3 + kx] == orig[r * 9 + 3 + kx]);
    const nnl_attr *k = nnl_node_attr(&m->nodes[0], "kernel_shape"), *p = nnl_node_attr(&m->nodes[0], "pads");
    assert_non_null(k);
    assert_non_null(p);
    assert_int_equal(k->n, 2);
    assert_true(k->ints[0] == 1 && k->ints[1] == 3);
    assert_int_equal(p->n, 4);
    assert_true(p->ints[0] == 0 && p->ints[1] == 6 && p->ints[2] == 0 && p->ints[3] == 6);
    assert_null(nnl_node_attr(&m->nodes[2], "kernel_shape"));
    nnl_model_free(m);
}

/* ConvNeXt's block end, MatMul -> Add(bias) -> Transpose(0, 3, 1, 2) ->
 * Mul(g [N, 1, 1]): the pass folds the bias into the MatMul and g into its
 * weight's columns and a scaled copy of the (shared) bias, the Transpose
 * writes the Mul's output; with g along another axis nothing is folded. */
static void test_fuse_layer_scale(void **state) {
    (void)state;
    for (int wrong_axis = 0; wrong_axis < 2; wrong_axis++) {
        nnl_model *m = nnl_model_new();
        assert_non_null(m);
        int x = nnl_model_add_value(m, "x", NNL_VAL_INPUT);
        int w = add_const(m, "w", 2, (int64_t[]){8, 5}, 21), b = add_const(m, "b", 1, (int64_t[]){5}, 22);
        int g = wrong_axis ? add_const(m, "g", 1, (int64_t[]){5}, 23) : add_const(m, "g", 3, (int64_t[]){5, 1, 1}, 23);
        int y = add_act(m, "y"), yb = add_act(m, "yb"), t = add_act(m, "t"), o = add_act(m, "o"), o2 = add_act(m, "o2");
        set_shape(m, x, 4, (int64_t[]){1, 3, 5, 8});
        set_shape(m, y, 4, (int64_t[]){1, 3, 5, 5});
        set_shape(m, yb, 4, (int64_t[]){1, 3, 5, 5});
        set_shape(m, t, 4, (int64_t[]){1, 5, 3, 5});
        set_shape(m, o, 4, (int64_t[]){1, 5, 3, 5});
        set_shape(m, o2, 1, (int64_t[]){5});
        nnl_attr perm = {.name = "perm", .type = NNL_ATTR_INTS, .n = 4, .ints = (int64_t[]){0, 3, 1, 2}};
        assert_true(nnl_model_add_node(m, "MatMul", "mm", (int[]){x, w}, 2, &y, 1, NULL, 0) >= 0);
        assert_true(nnl_model_add_node(m, "Add", "add", (int[]){y, b}, 2, &yb, 1, NULL, 0) >= 0);
        assert_true(nnl_model_add_node(m, "Transpose", "tr", (int[]){yb}, 1, &t, 1, &perm, 1) >= 0);
        assert_true(nnl_model_add_node(m, "Mul", "mul", (int[]){g, t}, 2, &o, 1, NULL, 0) >= 0);
        assert_true(nnl_model_add_node(m, "Add", "other", (int[]){b, b}, 2, &o2, 1, NULL, 0) >= 0); /* b shared */
        m->outputs = nnl_malloc(2 * sizeof(int));
        assert_non_null(m->outputs);
        m->outputs[0] = o;
        m->outputs[1] = o2;
        m->n_outputs = 2;
        float w0[40], b0[5], g0[5];
        memcpy(w0, m->values[w].t.data, sizeof w0);
        memcpy(b0, m->values[b].t.data, sizeof b0);
        memcpy(g0, m->values[g].t.data, sizeof g0);
        assert_int_equal(nnl_pass_fuse_epilogue(m), NNL_OK);
        int mm = -1, mul = -1, tr = -1;
        for (int i = 0; i < m->n_nodes; i++) {
            if (strcmp(m->nodes[i].op, "MatMul") == 0) mm = i;
            if (strcmp(m->nodes[i].op, "Mul") == 0) mul = i;
            if (strcmp(m->nodes[i].op, "Transpose") == 0) tr = i;
        }
        assert_true(mm >= 0 && tr >= 0);
        assert_int_equal(m->nodes[mm].n_in, 3); /* the bias fused either way */
        const float *wf = m->values[m->nodes[mm].in[1]].t.data, *bf = m->values[m->nodes[mm].in[2]].t.data;
        if (wrong_axis) {
            assert_true(mul >= 0);
            assert_memory_equal(wf, w0, sizeof w0);
            nnl_model_free(m);
            continue;
        }
        assert_int_equal(mul, -1);
        assert_int_equal(m->nodes[tr].out[0], m->outputs[0]);
        for (int r = 0; r < 8; r++)
            for (int j = 0; j < 5; j++) assert_true(wf[r * 5 + j] == w0[r * 5 + j] * g0[j]);
        for (int j = 0; j < 5; j++) assert_true(bf[j] == b0[j] * g0[j]);
        /* the other reader of b still sees it unscaled */
        const nnl_node *other = NULL;
        for (int i = 0; i < m->n_nodes; i++)
            if (strcmp(m->nodes[i].name, "other") == 0) other = &m->nodes[i];
        assert_non_null(other);
        assert_memory_equal(m->values[other->in[0]].t.data, b0, sizeof b0);
        nnl_model_free(m);
    }
}

/* Div(q, 8) read by a MatMul alone becomes its nnl_alpha 1/8 and the
 * MatMul reads q; a Div with another reader stays. */
static void test_fuse_matmul_scale(void **state) {
    (void)state;
    for (int shared = 0; shared < 2; shared++) {
        nnl_model *m = nnl_model_new();
        assert_non_null(m);
        int q = nnl_model_add_value(m, "q", NNL_VAL_INPUT), k = nnl_model_add_value(m, "k", NNL_VAL_INPUT);
        int c = add_const(m, "c", 0, NULL, 31), qd = add_act(m, "qd"), y = add_act(m, "y");
        *(float *)m->values[c].t.data = 8.0f;
        set_shape(m, q, 3, (int64_t[]){2, 4, 6});
        set_shape(m, k, 3, (int64_t[]){2, 6, 4});
        set_shape(m, qd, 3, (int64_t[]){2, 4, 6});
        set_shape(m, y, 3, (int64_t[]){2, 4, 4});
        assert_true(nnl_model_add_node(m, "Div", "div", (int[]){q, c}, 2, &qd, 1, NULL, 0) >= 0);
        assert_true(nnl_model_add_node(m, "MatMul", "mm", (int[]){qd, k}, 2, &y, 1, NULL, 0) >= 0);
        m->outputs = nnl_malloc(2 * sizeof(int));
        assert_non_null(m->outputs);
        m->outputs[0] = y;
        m->outputs[1] = qd;
        m->n_outputs = 1 + shared;
        assert_int_equal(nnl_pass_fuse_epilogue(m), NNL_OK);
        int mm = -1, dv = -1;
        for (int i = 0; i < m->n_nodes; i++) {
            if (strcmp(m->nodes[i].op, "MatMul") == 0) mm = i;
            if (strcmp(m->nodes[i].op, "Div") == 0) dv = i;
        }
        assert_true(mm >= 0);
        const nnl_attr *al = nnl_node_attr(&m->nodes[mm], "nnl_alpha");
        if (shared) {
            assert_true(dv >= 0 && !al);
        } else {
            assert_true(dv < 0 && al && al->f == 0.125f);
            assert_string_equal(m->values[m->nodes[mm].in[0]].name, "q");
        }
        nnl_model_free(m);
    }
}

static void test_pack_pass_nomem(void **state) {
    (void)state;
    nnl_model *m = nnl_model_new();
    int x = nnl_model_add_value(m, "x", NNL_VAL_INPUT);
    int w = add_const(m, "w", 4, (int64_t[]){8, 2, 3, 3}, 1);
    int y = add_act(m, "y");
    assert_true(nnl_model_add_node(m, "Conv", "c", (int[]){x, w}, 2, &y, 1, NULL, 0) >= 0);
    nnl_alloc_fail_at(1);
    assert_int_equal(nnl_pass_pack_weights(m), NNL_ERR_NOMEM);
    nnl_alloc_fail_at(0);
    assert_int_equal(m->values[w].t.layout, NNL_LAYOUT_PLAIN);
    assert_non_null(m->values[w].t.data);
    nnl_model_free(m);
}

int main(void) {
    if (isa_check_forced()) return 1;
    for (int t = 0; t < 2; t++) ts[t] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    if (nnl_pool_create(2, &pool2)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_onnx_example),
        cmocka_unit_test(test_conv_variants),
        cmocka_unit_test(test_conv_refusals),
        cmocka_unit_test(test_convtranspose),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_gemm_refusals),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_epilogue),
        cmocka_unit_test(test_fuse_layer_scale),
        cmocka_unit_test(test_fuse_matmul_scale),
        cmocka_unit_test(test_pack_pass),
        cmocka_unit_test(test_trim_taps_pass),
        cmocka_unit_test(test_pick_winograd),
        cmocka_unit_test(test_pack_pass_nomem),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    nnl_pool_free(pool2);
    nnl_aligned_free(ts[0]);
    nnl_aligned_free(ts[1]);
    return r;
}
