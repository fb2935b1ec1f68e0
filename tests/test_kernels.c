/*
 * GEMM / conv kernels: every kernel set this CPU supports against naive
 * double-precision references, on sizes that hit every tail (M, N, K not
 * multiples of the tile, several K blocks), every B source, every
 * epilogue piece and both weight layouts; threaded and inline.
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

#include "kernels/conv.h"
#include "kernels/conv_taps.h"
#include "kernels/dwc_body.h"
#include "kernels/kernels_isa.h"
#include "kernels/pool2d.h"

static void *ts[2];
static nnl_pool *pool2;

static double act_ref(double x, nnl_act act, double a, double b) {
    switch (act) {
    case NNL_ACT_RELU: return x < 0 ? 0 : x;
    case NNL_ACT_CLIP: return x < a ? a : x > b ? b : x;
    case NNL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case NNL_ACT_HARDSIGMOID: return fmax(0, fmin(1, a * x + b));
    case NNL_ACT_HARDSWISH: return x * fmax(0, fmin(1, x / 6 + 0.5));
    case NNL_ACT_LEAKYRELU: return x >= 0 ? x : a * x;
    case NNL_ACT_SILU: return x / (1.0 + exp(-x));
    case NNL_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    default: return x;
    }
}

/* |got - want| <= tol * (1 + sum of |terms|) elementwise. */
static void check_close(const float *got, const double *want, const double *mag, int64_t n, double tol,
                        const char *what) {
    for (int64_t i = 0; i < n; i++) {
        double err = fabs(got[i] - want[i]);
        if (!(err <= tol * (1.0 + mag[i]))) {
            fail_msg("%s: element %lld: got %.8g want %.8g", what, (long long)i, got[i], want[i]);
        }
    }
}

/* ---- PACK_A8 --------------------------------------------------------------- */

static void test_pack_a8_layout(void **state) {
    (void)state;
    /* 10 x 3 matrix: 2 panels of 3 x 8, rows 10..15 zero */
    float src[30], dst[48], back[30];
    for (int i = 0; i < 30; i++) src[i] = (float)(i + 1);
    int64_t dims[2] = {10, 3};
    assert_int_equal(nnl_pack_a8_bytes(2, dims), 48 * sizeof(float));
    int64_t dims4[4] = {9, 2, 3, 3};
    assert_int_equal(nnl_pack_a8_bytes(4, dims4), 16 * 18 * sizeof(float));
    memset(dst, 0xFF, sizeof dst);
    nnl_pack_a8(dst, src, 10, 3);
    assert_true(dst[0] == src[0] && dst[1] == src[3] && dst[7] == src[21]); /* column 0 of rows 0..7 */
    assert_true(dst[8] == src[1]);                                         /* column 1 of row 0 */
    assert_true(dst[24] == src[24] && dst[25] == src[27] && dst[26] == 0.0f); /* panel 1, col 0 */
    assert_true(dst[47] == 0.0f);
    nnl_unpack_a8(back, dst, 10, 3);
    assert_memory_equal(back, src, sizeof src);
}

/* PACK_A8T of W (K x N) is PACK_A8 of W^T, which the A8T GEMM tests
 * below run; checked byte for byte on sizes with partial panels. */
static void test_pack_a8t_layout(void **state) {
    (void)state;
    static const int64_t sizes[][2] = {{1, 1}, {5, 8}, {7, 13}, {33, 17}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int64_t k = sizes[s][0], n = sizes[s][1], np = (n + 7) / 8 * 8;
        float *w = rnd(k * n, 7), *wt = rnd(k * n, 8), *x = rnd(np * k, 9), *y = rnd(np * k, 10);
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < n; j++) wt[j * k + i] = w[i * n + j];
        nnl_pack_a8t(x, w, k, n);
        nnl_pack_a8(y, wt, n, k);
        assert_memory_equal(x, y, (size_t)(np * k) * sizeof(float));
        nnl_tensor t = {.dtype = NNL_DT_FLOAT, .rank = 2, .dims = {k, n}, .layout = NNL_LAYOUT_PACK_A8T};
        assert_int_equal(nnl_tensor_nbytes(&t), (size_t)(np * k) * sizeof(float));
        nnl_aligned_free(w);
        nnl_aligned_free(wt);
        nnl_aligned_free(x);
        nnl_aligned_free(y);
    }
}

/* ---- GEMM -------------------------------------------------------------------- */

typedef struct gcase {
    int64_t m, n, k, batch;
    int a_mode;                /* 0 plain row-major, 1 plain transposed, 2 packed */
    int b_mode;                /* 0 row-major, 1 transposed, 2 A8T */
    bool bias_row, bias_col;
    int res_mode;              /* 0 none, 1 full, 2 row broadcast (rs 0), 3 column broadcast (cs 0) */
    float alpha, beta;
    nnl_act act;
    float act_a, act_b;
    bool half;                 /* the weight (B when b_mode 2, else A) in float16 */
} gcase;

typedef struct gdata {
    const gcase *g;
    const float *a, *b, *bias_r, *bias_c, *res;
    float *c;
    int64_t a_item, b_item;
    const uint16_t *ah, *bh;
} gdata;

/* n floats rounded to float16 values in place; the halves into h (when
 * not NULL). */
static void to_half(float *f, uint16_t *h, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint16_t v = nnl_double_to_half(f[i]);
        if (h) h[i] = v;
        f[i] = nnl_half_to_float(v);
    }
}

static void gptrs(const nnl_gemm_desc *d, int64_t i, nnl_gemm_ptrs *p) {
    const gdata *gd = d->ctx;
    if (gd->ah) p->ah = gd->ah + i * gd->a_item;
    if (gd->bh) p->bh = gd->bh + i * gd->b_item;
    p->a = gd->a + i * gd->a_item;
    p->b = gd->b + i * gd->b_item;
    p->c = gd->c + i * gd->g->m * gd->g->n;
    p->bias_row = gd->bias_r;
    p->bias_col = gd->bias_c;
    p->res = gd->res ? gd->res + (gd->g->res_mode == 1 ? i * gd->g->m * gd->g->n : 0) : NULL;
}

static void run_gemm_case(const gcase *g, const nnl_kernel *kern, nnl_pool *pool) {
    int64_t m = g->m, n = g->n, k = g->k, nb = g->batch;
    float *a = rnd(nb * m * k, 11), *b = rnd(nb * k * n, 22);
    float *bias_r = g->bias_row ? rnd(m, 33) : NULL, *bias_c = g->bias_col ? rnd(n, 44) : NULL;
    int64_t res_n = g->res_mode == 1 ? nb * m * n : g->res_mode == 2 ? n : g->res_mode == 3 ? m : 0;
    float *res = g->res_mode ? rnd(res_n, 55) : NULL;
    float *c = rnd(nb * m * n, 66);
    /* a float16 weight: the reference multiplies by its rounded values */
    bool half_b = g->half && g->b_mode == 2, half_a = g->half && !half_b;
    if (half_a) to_half(a, NULL, nb * m * k);
    if (half_b) to_half(b, NULL, nb * k * n);
    /* reference */
    double *want = calloc((size_t)(nb * m * n), sizeof(double)), *mag = calloc((size_t)(nb * m * n), sizeof(double));
    for (int64_t it = 0; it < nb; it++)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0, sm = 0;
                for (int64_t kk = 0; kk < k; kk++) {
                    double t = (double)a[it * m * k + i * k + kk] * b[it * k * n + kk * n + j];
                    s += t;
                    sm += fabs(t);
                }
                s *= g->alpha;
                sm *= fabs(g->alpha);
                if (bias_r) s += bias_r[i], sm += fabs(bias_r[i]);
                if (bias_c) s += bias_c[j], sm += fabs(bias_c[j]);
                if (res) {
                    double r = g->res_mode == 1 ? res[it * m * n + i * n + j] : g->res_mode == 2 ? res[j] : res[i];
                    s += g->beta * r;
                    sm += fabs(g->beta * r);
                }
                want[it * m * n + i * n + j] = act_ref(s, g->act, g->act_a, g->act_b);
                mag[it * m * n + i * n + j] = sm;
            }
    /* operands in the requested forms */
    float *ax = rnd(nb * ((m + 7) / 8 * 8) * k, 1), *bx = rnd(nb * ((n + 7) / 8 * 8) * k, 2);
    int64_t a_item = m * k, b_item = k * n;
    nnl_gemm_desc d = {.m = m, .n = n, .k = k, .batch = nb, .ldc = n, .ptrs = gptrs};
    if (g->a_mode == 0) {
        memcpy(ax, a, (size_t)(nb * m * k) * sizeof(float));
        d.a_rs = k, d.a_cs = 1;
    } else if (g->a_mode == 1) {
        for (int64_t it = 0; it < nb; it++)
            for (int64_t i = 0; i < m; i++)
                for (int64_t kk = 0; kk < k; kk++) ax[it * m * k + kk * m + i] = a[it * m * k + i * k + kk];
        d.a_rs = 1, d.a_cs = m;
    } else {
        a_item = (m + 7) / 8 * 8 * k;
        for (int64_t it = 0; it < nb; it++) nnl_pack_a8(ax + it * a_item, a + it * m * k, m, k);
        d.a_packed = true;
    }
    if (g->b_mode == 0) {
        memcpy(bx, b, (size_t)(nb * k * n) * sizeof(float));
        d.b_rs = n, d.b_cs = 1;
    } else {
        float *bt = malloc((size_t)(k * n) * sizeof(float));
        for (int64_t it = 0; it < nb; it++) {
            for (int64_t kk = 0; kk < k; kk++)
                for (int64_t j = 0; j < n; j++) bt[j * k + kk] = b[it * k * n + kk * n + j];
            if (g->b_mode == 1) {
                memcpy(bx + it * k * n, bt, (size_t)(k * n) * sizeof(float));
            } else {
                b_item = (n + 7) / 8 * 8 * k;
                nnl_pack_a8(bx + it * b_item, bt, n, k);
            }
        }
        free(bt);
        if (g->b_mode == 1) d.b_rs = 1, d.b_cs = k;
        d.b_kind = g->b_mode == 2 ? NNL_BSRC_A8T : NNL_BSRC_STRIDED;
    }
    d.epi = (nnl_epilogue){.alpha = g->alpha, .beta = g->beta, .act = g->act, .act_a = g->act_a,
                           .act_b = g->act_b};
    d.res_cs = 1;
    if (g->res_mode == 1) d.epi.res_rs = n;
    if (g->res_mode == 2) d.epi.res_rs = 0;
    if (g->res_mode == 3) d.epi.res_rs = 1, d.res_cs = 0;
    gdata gd = {g, ax, bx, bias_r, bias_c, res, c, a_item, b_item, NULL, NULL};
    uint16_t *wh = NULL;
    if (g->half) {
        assert_true(half_b || g->a_mode != 1);   /* a plain float16 A has unit column stride */
        int64_t wn = nb * (half_b ? b_item : a_item);
        wh = nnl_aligned_alloc((size_t)wn * sizeof *wh);
        to_half(half_b ? bx : ax, wh, wn);
        if (half_b)
            gd.bh = wh, d.b_f16 = true;
        else
            gd.ah = wh, d.a_f16 = true;
    }
    d.ctx = &gd;
    /* half the threaded cases may pack B once into shared scratch */
    if (pool && (m + n + k) % 2 == 0 && (d.b_prepack_bytes = nnl_gemm_prepack_bytes(nb, k, n)))
        d.b_prepack = nnl_aligned_alloc(d.b_prepack_bytes);
    assert_int_equal(nnl_gemm(&d, kern, pool, ts), NNL_OK);
    nnl_aligned_free(d.b_prepack);
    nnl_aligned_free(wh);
    char what[200];
    snprintf(what, sizeof what, "gemm %s m%lld n%lld k%lld b%lld a%d b%d res%d act%d half%d", kern->name,
             (long long)m, (long long)n, (long long)k, (long long)nb, g->a_mode, g->b_mode, g->res_mode, g->act,
             g->half);
    check_close(c, want, mag, nb * m * n, 2e-6 * (double)(k + 4), what);
    free(want);
    free(mag);
    nnl_aligned_free(a);
    nnl_aligned_free(b);
    nnl_aligned_free(ax);
    nnl_aligned_free(bx);
    nnl_aligned_free(bias_r);
    nnl_aligned_free(bias_c);
    nnl_aligned_free(res);
    nnl_aligned_free(c);
}

static void test_gemm_shapes(void **state) {
    (void)state;
    static const int64_t ms[] = {1, 7, 8, 9, 23, 64, 130};
    static const int64_t ns[] = {1, 5, 16, 17, 47, 48, 49, 100, 401};
    static const int64_t ks[] = {1, 3, 64, 129, 300};
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
            for (size_t j = 0; j < sizeof ns / sizeof *ns; j++)
                for (size_t l = 0; l < sizeof ks / sizeof *ks; l++) {
                    gcase g = {.m = ms[i], .n = ns[j], .k = ks[l], .batch = 1, .a_mode = (int)((i + j) % 3),
                               .b_mode = (int)((j + l) % 3), .alpha = 1, .beta = 1};
                    run_gemm_case(&g, kern, (i + l) % 2 ? pool2 : NULL);
                    /* the float16 weight forms: A packed or plain, B in A8T panels */
                    g.half = g.b_mode == 2 || g.a_mode != 1;
                    if (g.half) run_gemm_case(&g, kern, (i + l) % 2 ? NULL : pool2);
                }
    }
}

static void test_gemm_epilogues(void **state) {
    (void)state;
    static const nnl_act acts[] = {NNL_ACT_NONE,        NNL_ACT_RELU,      NNL_ACT_CLIP,      NNL_ACT_SIGMOID,
                                   NNL_ACT_HARDSIGMOID, NNL_ACT_HARDSWISH, NNL_ACT_LEAKYRELU, NNL_ACT_SILU,
                                   NNL_ACT_GELU};
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (size_t ai = 0; ai < sizeof acts / sizeof *acts; ai++)
            for (int res = 0; res < 4; res++)
                for (int bias = 0; bias < 4; bias++) {
                    gcase g = {.m = 19, .n = 53, .k = 150, .batch = 2, .a_mode = 2, .b_mode = res % 3,
                               .bias_row = bias & 1, .bias_col = bias & 2, .res_mode = res,
                               .alpha = bias == 3 ? 0.5f : 1.0f, .beta = res == 2 ? -2.0f : 1.0f,
                               .act = acts[ai], .act_a = acts[ai] == NNL_ACT_CLIP ? -0.7f : 0.3f,
                               .act_b = acts[ai] == NNL_ACT_CLIP ? 0.9f : 0.45f};
                    run_gemm_case(&g, kern, ai % 2 ? pool2 : NULL);
                    /* the dot-product path: a few rows of X against an
                     * A8T weight, and a packed weight against one column */
                    gcase r = g;
                    r.m = 3, r.a_mode = bias % 2, r.b_mode = 2;
                    run_gemm_case(&r, kern, ai % 2 ? pool2 : NULL);
                    gcase v = g;
                    v.n = 1, v.b_mode = 0;
                    run_gemm_case(&v, kern, ai % 2 ? NULL : pool2);
                    /* few columns, a packed weight: output channels in the
                     * lanes where the set has tukr (49 = 7 x 7 pixels, 40
                     * rows: 5 panels, the last vector half) */
                    gcase t = g;
                    t.m = 40, t.n = 49, t.k = 400, t.b_mode = 0;
                    run_gemm_case(&t, kern, ai % 2 ? pool2 : NULL);
                }
    }
}

/* Small GEMMs on 2 threads (gemm.c small_tiles): the 1x1 convs of
 * MnasNet's and MobileNets' 14x14 and 7x7 maps, B in plain rows that are
 * packed (196 and 49 floats a row), split by columns only (40 x 196) or
 * by rows with or without a shared prepacked B (576 x 49: K even or odd
 * picks run_gemm_case's prepack); each against the reference. */
static void test_gemm_small_split(void **state) {
    (void)state;
    static const int64_t shapes[][3] = {{40, 196, 240}, {40, 196, 241}, {48, 196, 288}, {576, 49, 96},
                                        {576, 49, 97},  {24, 100, 72},  {130, 17, 300}, {8, 383, 16}};
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        if (!nnl_kernels[ki]->supported()) continue;
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
            gcase g = {.m = shapes[i][0], .n = shapes[i][1], .k = shapes[i][2], .batch = 1, .a_mode = 2,
                       .b_mode = 0, .bias_row = true, .res_mode = (int)(i % 2), .alpha = 1, .beta = 1,
                       .act = NNL_ACT_RELU};
            run_gemm_case(&g, nnl_kernels[ki], pool2);
        }
        /* a plain A of 600 rows: its run-time A block caps a task at
         * MC_RT rows, so the split starts from 3 row blocks */
        gcase t = {.m = 600, .n = 144, .k = 24, .batch = 1, .a_mode = 0, .b_mode = 0, .alpha = 1, .beta = 1};
        run_gemm_case(&t, nnl_kernels[ki], pool2);
    }
}

/* Tall packed A: several row tiles per item, with and without a
 * prepacked B. */
static void test_gemm_tall(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        if (!nnl_kernels[ki]->supported()) continue;
        gcase g = {.m = 1100, .n = 70, .k = 150, .batch = 2, .a_mode = 2, .b_mode = 0, .bias_row = true,
                   .res_mode = 1, .alpha = 1, .beta = 1, .act = NNL_ACT_RELU};
        run_gemm_case(&g, nnl_kernels[ki], NULL);
        run_gemm_case(&g, nnl_kernels[ki], pool2);
        g.n = 71;
        run_gemm_case(&g, nnl_kernels[ki], pool2);
        /* X W with many rows of X and K >= 384: transposed tiles (ConvNeXt's
         * MLP contractions) where the set has them */
        gcase x = {.m = 1100, .n = 70, .k = 400, .batch = 2, .a_mode = 0, .b_mode = 2, .bias_col = true,
                   .res_mode = 1, .alpha = 1, .beta = 1, .act = NNL_ACT_GELU};
        run_gemm_case(&x, nnl_kernels[ki], NULL);
        run_gemm_case(&x, nnl_kernels[ki], pool2);
        /* X W with X over 1 MB and a small C (ViT-B's fc2): C accumulates
         * between pool runs over slices of K, the epilogue in place, with
         * and without alpha (the vector and the scalar epilogue) */
        gcase c = {.m = 100, .n = 64, .k = 3000, .batch = 2, .a_mode = 0, .b_mode = 2, .bias_col = true,
                   .res_mode = 1, .alpha = 1, .beta = 1, .act = NNL_ACT_GELU};
        run_gemm_case(&c, nnl_kernels[ki], NULL);
        run_gemm_case(&c, nnl_kernels[ki], pool2);
        c.alpha = 0.5f, c.res_mode = 0, c.act = NNL_ACT_RELU;
        run_gemm_case(&c, nnl_kernels[ki], pool2);
    }
}

/* Dot-product path large enough to split into pool tasks. */
static void test_gemv_split(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        if (!nnl_kernels[ki]->supported()) continue;
        gcase r = {.m = 2, .n = 1001, .k = 700, .batch = 2, .a_mode = 0, .b_mode = 2, .bias_col = true,
                   .res_mode = 1, .alpha = 1, .beta = 1, .act = NNL_ACT_RELU};
        run_gemm_case(&r, nnl_kernels[ki], pool2);
        gcase v = {.m = 1003, .n = 1, .k = 650, .batch = 1, .a_mode = 2, .b_mode = 0, .bias_row = true,
                   .alpha = 1, .beta = 1};
        run_gemm_case(&v, nnl_kernels[ki], pool2);
        /* float16 panels, widened GEMV_HK rows at a time (700 and 650 are
         * not multiples of it) */
        r.half = v.half = true;
        run_gemm_case(&r, nnl_kernels[ki], pool2);
        run_gemm_case(&v, nnl_kernels[ki], NULL);
    }
}

typedef void (*unary_kernel)(const nnl_kernel *k, float *y, const float *x, int64_t n);

/* Worst error in ulp of the float result of f against ref (double) over
 * every 97th float32 bit pattern (all exponents, both signs); NaN must
 * stay NaN, and errors up to abs_ok count as none (results below float's
 * normal range).  Under an emulator (NNL_EMULATED, set by make
 * TARGET=aarch64 test) every 9973rd: still ~840 per binade, at 1% of the
 * cost. */
static double ulp_sweep(const nnl_kernel *kern, unary_kernel f, double (*ref)(double), double abs_ok,
                        float *worst_x) {
    enum { B = 4096 };
    static float x[B], y[B];
    const uint64_t step = getenv("NNL_EMULATED") ? 9973 : 97;
    double worst = 0;
    uint64_t u = 0;
    while (u < ((uint64_t)1 << 32)) {
        int n = 0;
        for (; n < B && u < ((uint64_t)1 << 32); n++, u += step) {
            uint32_t b = (uint32_t)u;
            memcpy(&x[n], &b, 4);
        }
        f(kern, y, x, n);
        for (int i = 0; i < n; i++) {
            if (isnan(x[i])) {
                if (!isnan(y[i])) fail_msg("%s: f(NaN) = %g", kern->name, y[i]);
                continue;
            }
            double want = ref((double)x[i]);
            if (fabs(y[i] - want) <= abs_ok) continue;
            float wf = (float)want;
            double ulp = fabs(nextafterf(wf, INFINITY) - wf);
            if (ulp == 0 || isinf(ulp)) ulp = 1.0 / (1 << 23);
            double e = fabs((double)y[i] - want) / ulp;
            if (!(e <= worst)) worst = e, *worst_x = x[i];
        }
    }
    return worst;
}

static void erf_of(const nnl_kernel *k, float *y, const float *x, int64_t n) { k->erf(y, x, n); }
static void sigmoid_of(const nnl_kernel *k, float *y, const float *x, int64_t n) { k->sigmoid(y, x, n); }
static double sigmoid_ref(double x) { return 1.0 / (1.0 + exp(-x)); }

/* nnl_kernel.erf against double erf within 2 ulp, special values, and n
 * not a multiple of 16. */
static void test_erf(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        float worst_x = 0;
        double worst = ulp_sweep(kern, erf_of, erf, 0.0, &worst_x);
        print_message("erf %s: worst %.2f ulp at %g\n", kern->name, worst, worst_x);
        if (!(worst <= 2.0)) fail_msg("%s: erf error %.2f ulp at %.9g", kern->name, worst, worst_x);
        const float sp[7] = {0.0f, -0.0f, INFINITY, -INFINITY, 1e-40f, 3.99999f, 4.0f};
        float out[7];
        kern->erf(out, sp, 7);
        assert_true(out[0] == 0.0f && !signbit(out[0]) && out[1] == 0.0f && signbit(out[1]));
        assert_true(out[2] == 1.0f && out[3] == -1.0f && out[6] == 1.0f);
        assert_true(fabs(out[5] - erf(3.99999)) < 1e-7);
    }
}

/* nnl_kernel.sigmoid against double 1 / (1 + exp(-x)) within 4 ulp, or
 * 2e-38 absolute where the result is below float's normal range
 * (x < -87). */
static void test_sigmoid(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        float worst_x = 0;
        double worst = ulp_sweep(kern, sigmoid_of, sigmoid_ref, 2e-38, &worst_x);
        print_message("sigmoid %s: worst %.2f ulp at %g\n", kern->name, worst, worst_x);
        if (!(worst <= 4.0)) fail_msg("%s: sigmoid error %.2f ulp at %.9g", kern->name, worst, worst_x);
    }
}

/* Row lengths for the row kernels: every tail of every set's vector, a few
 * whole vectors, attention's 197 and the widths of ConvNeXt and ViT. */
static const int64_t row_lens[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 64, 96, 197, 768, 1001};
enum { N_ROW_LENS = sizeof row_lens / sizeof row_lens[0] };

/* Uniform in [-1, 1): a 64-bit LCG's top 24 bits. */
static double row_rand(uint64_t *seed) {
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*seed >> 40) / (double)(1 << 24) * 2.0 - 1.0;
}

/* nnl_kernel.softmax against the double definition, relative 2e-6 (exp
 * within a few ulp, the sum's rounding), in place and not; -inf entries
 * give 0, a row of -inf gives NaN (0 / 0) as the definition does, NaN
 * spreads to the whole row. */
static void test_softmax_rows(void **state) {
    (void)state;
    static float x[1001], y[1001];
    static double want[1001];
    uint64_t seed = 7;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (int li = 0; li < N_ROW_LENS; li++) {
            const int64_t n = row_lens[li];
            for (int pass = 0; pass < 4; pass++) {
                for (int64_t i = 0; i < n; i++) x[i] = (float)(row_rand(&seed) * 20.0) + (pass == 3 ? 300.0f : 0.0f);
                if (pass == 1) x[(n - 1) / 2] = -INFINITY;
                if (pass == 2)
                    for (int64_t i = 0; i < n; i++) x[i] = -INFINITY;
                double m = -INFINITY, s = 0;
                for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
                if (m == -INFINITY) m = 0;
                /* x - m rounded to float as the kernels do: at |x - m| ~ 40 its
                 * rounding alone moves exp by 2e-6 */
                for (int64_t i = 0; i < n; i++) s += want[i] = exp((double)(x[i] - (float)m));
                for (int64_t i = 0; i < n; i++) want[i] /= s;
                for (int inplace = 0; inplace < 2; inplace++) {
                    float *out = inplace ? x : y;
                    float keep[1001];
                    memcpy(keep, x, (size_t)n * sizeof(float));
                    kern->softmax(out, x, n);
                    for (int64_t i = 0; i < n; i++)
                        if (isnan(want[i]) ? !isnan(out[i]) : !(fabs(out[i] - want[i]) <= 2e-6 * want[i] + 1e-37))
                            fail_msg("%s softmax n=%lld pass %d: [%lld] = %.9g, want %.9g", kern->name,
                                     (long long)n, pass, (long long)i, out[i], want[i]);
                    memcpy(x, keep, (size_t)n * sizeof(float));
                }
            }
            x[n / 3] = NAN;
            kern->softmax(y, x, n);
            for (int64_t i = 0; i < n; i++)
                if (!isnan(y[i])) fail_msg("%s softmax n=%lld: NaN in, [%lld] = %g", kern->name, (long long)n, (long long)i, y[i]);
        }
    }
}

/* nnl_kernel.layernorm against double statistics: the output within 2e-5
 * of a unit-variance result's scale, and also with a mean 1000 times the
 * spread (a one-pass variance in float would be off by whole units
 * there); mean and inv returned; bias absent or given; in place. */
static void test_layernorm_rows(void **state) {
    (void)state;
    static float x[1001], y[1001], sc[1001], bi[1001];
    uint64_t seed = 11;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        if (!nnl_kernels[ki]->supported()) continue;
        const nnl_kernel *kern = nnl_kernels[ki];
        for (int li = 0; li < N_ROW_LENS; li++) {
            const int64_t n = row_lens[li];
            for (int pass = 0; pass < 4; pass++) {
                const double off = pass >= 2 ? 1000.0 : 0.0;
                for (int64_t i = 0; i < n; i++) {
                    const double u = row_rand(&seed);
                    x[i] = (float)(off + u);
                    sc[i] = (float)(0.5 + u * u);
                    bi[i] = (float)(u * 0.25);
                }
                const bool with_bias = pass & 1;
                double mu = 0, var = 0;
                for (int64_t i = 0; i < n; i++) mu += x[i];
                mu /= (double)n;
                for (int64_t i = 0; i < n; i++) var += ((double)x[i] - mu) * ((double)x[i] - mu);
                var /= (double)n;
                const double inv = 1.0 / sqrt(var + 1e-5);
                float keep[1001], mean = 0, ivf = 0;
                memcpy(keep, x, (size_t)n * sizeof(float));
                float *out = pass == 1 ? x : y;
                kern->layernorm(out, x, n, 1e-5f, sc, with_bias ? bi : NULL, &mean, &ivf);
                for (int64_t i = 0; i < n; i++) {
                    double want = ((double)keep[i] - mu) * inv * sc[i] + (with_bias ? bi[i] : 0.0);
                    /* plus the mean's rounding to float, which x - mean carries */
                    if (!(fabs(out[i] - want) <= 2e-5 * (1.0 + fabs(want)) + 1.2e-7 * fabs(mu) * inv * sc[i]))
                        fail_msg("%s layernorm n=%lld pass %d: [%lld] = %.9g, want %.9g", kern->name, (long long)n, pass,
                                 (long long)i, out[i], want);
                }
                if (!(fabs(mean - mu) <= 1e-6 * (1.0 + fabs(mu))) || !(fabs(ivf - inv) <= 1e-5 * inv))
                    fail_msg("%s layernorm n=%lld: mean %.9g inv %.9g, want %.9g %.9g", kern->name, (long long)n, mean,
                             ivf, mu, inv);
                memcpy(x, keep, (size_t)n * sizeof(float));
            }
        }
    }
}

/* The 8-bit residual add: every set byte for byte against the scalar
 * set's (the definition in kernels/qadd_body.h), over every combination of
 * types, clamps that bite, saturating and NaN-making scales, a subnormal
 * output scale (its reciprocal overflows), and lengths that leave every
 * tail. */
static void test_qadd(void **state) {
    (void)state;
    enum { N = 300 };
    uint8_t a[N], b[N], want[N], got[N];
    uint32_t seed = 5;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = (uint8_t)(seed >> 24);
        b[i] = (uint8_t)(seed >> 16);
    }
    /* and quotients at exact halves (ties) or an ulp beside them: the x86
     * sets correct a reciprocal's quotient instead of dividing */
    const float scales[][3] = {{0.02f, 0.05f, 0.04f}, {0.5f, 0.5f, 0.001f}, {1e-3f, 2e-3f, 0.7f},
                               {INFINITY, 0.1f, 0.1f}, {0.031f, 0.0172f, 0.0543f}, {0.02f, 0.02f, 0.04f},
                               {0.013f, 0.039f, 0.026f}, {0.02f, 0.02f, 0.040000003f}, {0.02f, 0.06f, 0.039999996f},
                               {1e-30f, 1e-30f, 1e-40f}};
    int cases = 0;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (int t = 0; t < 8; t++)
            for (size_t si = 0; si < sizeof scales / sizeof *scales; si++)
                for (int clamp = 0; clamp < 2; clamp++) {
                    bool yu = t & 4;
                    nnl_qadd_params p = {.sa = scales[si][0], .sb = scales[si][1], .sy = scales[si][2],
                                         .za = t & 1 ? 130 : -3, .zb = t & 2 ? 7 : 0, .zy = yu ? 128 : 5,
                                         .a_u8 = t & 1, .b_u8 = t & 2, .y_u8 = yu};
                    if (!p.a_u8) p.za = -3;
                    if (!p.b_u8) p.zb = 11;
                    p.lo = (yu ? 0.0f : -128.0f) - (float)p.zy + (clamp ? 40.0f : 0.0f);
                    p.hi = (yu ? 255.0f : 127.0f) - (float)p.zy - (clamp ? 30.0f : 0.0f);
                    for (int n = 0; n <= N; n += n < 40 ? 1 : 37) {
                        memset(want, 0xAA, sizeof want);
                        memset(got, 0xAA, sizeof got);
                        nnl_kernel_scalar.qadd(want, a, b, n, &p);
                        kern->qadd(got, a, b, n, &p);
                        if (memcmp(want, got, N) != 0)
                            fail_msg("qadd %s: types %d scales %zu clamp %d n %d differ", kern->name, t, si, clamp, n);
                        cases++;
                    }
                }
    }
    /* every pair of bytes under random scales of one magnitude, where
     * quotients land near halves often: the fast x86 path (tame scales)
     * must round each one as the division does */
    enum { ALL = 65536 };
    uint8_t *pa = malloc(ALL), *pb = malloc(ALL), *pw = malloc(ALL), *pg = malloc(ALL);
    assert_non_null(pa && pb && pw && pg);
    for (int i = 0; i < ALL; i++) pa[i] = (uint8_t)i, pb[i] = (uint8_t)(i >> 8);
    for (int r = 0; r < 24; r++) {
        float sc[3];
        for (int k = 0; k < 3; k++) {
            seed = seed * 1664525u + 1013904223u;
            sc[k] = 0.01f + (float)(seed >> 8) * (0.05f / 16777216.0f);
        }
        int t = r % 8;
        nnl_qadd_params p = {.sa = sc[0], .sb = sc[1], .sy = sc[2], .za = t & 1 ? 131 : -7, .zb = t & 2 ? 3 : 12,
                             .zy = t & 4 ? 120 : -2, .a_u8 = t & 1, .b_u8 = t & 2, .y_u8 = t & 4};
        p.lo = (p.y_u8 ? 0.0f : -128.0f) - (float)p.zy + (float)(r % 3 == 0 ? 9 : 0);
        p.hi = (p.y_u8 ? 255.0f : 127.0f) - (float)p.zy - (float)(r % 3 == 1 ? 17 : 0);
        nnl_kernel_scalar.qadd(pw, pa, pb, ALL, &p);
        for (int ki = 0; nnl_kernels[ki]; ki++) {
            if (!nnl_kernels[ki]->supported()) continue;
            nnl_kernels[ki]->qadd(pg, pa, pb, ALL, &p);
            if (memcmp(pw, pg, ALL) != 0) fail_msg("qadd %s: all pairs, scales %d differ", nnl_kernels[ki]->name, r);
            cases++;
        }
    }
    free(pa), free(pb), free(pw), free(pg);
    print_message("qadd: %d cases\n", cases);
}

/* Per-tensor QuantizeLinear: every set byte for byte against the scalar
 * set's (the definition in kernels/quant_body.h) on values that hit every
 * rounding tie (multiples of s / 2), saturate, are NaN, infinite, signed
 * zeros or subnormal, under scales small, large and of every mantissa, both
 * output types with zero points that shift the clamp, and lengths that
 * leave every tail. */
static void test_quant(void **state) {
    (void)state;
    enum { N = 1000 };
    static float x[N];
    uint8_t want[N], got[N];
    const float scales[] = {0.0625f, 0.013f, 1e-3f, 3.7f, 1.0f / 3.0f, 1e-30f, 2e30f};
    uint32_t seed = 77;
    int cases = 0;
    for (size_t si = 0; si < sizeof scales / sizeof scales[0]; si++) {
        const float s = scales[si];
        for (int i = 0; i < N; i++) {
            seed = seed * 1664525u + 1013904223u;
            int v = (int)(seed >> 8) % 1400 - 700;
            x[i] = i % 3 == 0 ? (float)v * (s / 2) : i % 3 == 1 ? (float)v * s * 0.37f : (float)v * (s / 16);
        }
        x[3] = NAN, x[4] = INFINITY, x[5] = -INFINITY, x[6] = -0.0f, x[7] = 1e-42f, x[8] = -3e38f, x[9] = 0.5f * s;
        x[10] = -0.5f * s, x[11] = 1.5f * s, x[12] = 2.5f * s, x[13] = 127.5f * s, x[14] = -128.5f * s;
        const uint32_t payload = 0x7FC12345u; /* a NaN whose quotient keeps its low bits */
        memcpy(&x[15], &payload, sizeof payload);
        for (int t = 0; t < 4; t++) {
            const bool u8 = t & 1;
            const int32_t z = t & 2 ? (u8 ? 200 : -100) : (u8 ? 0 : 3);
            const nnl_quant_params p = {.s = s, .lo = (u8 ? 0.0f : -128.0f) - (float)z,
                                        .hi = (u8 ? 255.0f : 127.0f) - (float)z, .z = z, .y_u8 = u8};
            for (int n = 0; n <= N; n += n < 70 ? 1 : 311) {
                nnl_kernel_scalar.quant(want, x, n, &p);
                for (int ki = 0; nnl_kernels[ki]; ki++) {
                    if (!nnl_kernels[ki]->supported()) continue;
                    memset(got, 0xAB, sizeof got);
                    nnl_kernels[ki]->quant(got, x, n, &p);
                    if (memcmp(want, got, (size_t)n) != 0 || (n < N && got[n] != 0xAB))
                        fail_msg("quant %s: scale %g type %d n %d differs", nnl_kernels[ki]->name, (double)s, t, n);
                    cases++;
                }
            }
        }
    }
    print_message("quant: %d cases\n", cases);
}

static void test_gemm_k_zero(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        if (!nnl_kernels[ki]->supported()) continue;
        gcase g = {.m = 9, .n = 20, .k = 0, .batch = 1, .a_mode = 0, .b_mode = 0, .bias_col = true,
                   .alpha = 1, .beta = 1, .act = NNL_ACT_RELU};
        run_gemm_case(&g, nnl_kernels[ki], NULL);
    }
}

/* ---- conv ------------------------------------------------------------------- */

typedef struct ccase {
    int64_t n, c, h, w, oc, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
} ccase;

/* Whether tap (ky, kx) reads the padding for every output of p. */
static bool tap_dead(const nnl_conv_params *p, int64_t ky, int64_t kx) {
    for (int64_t oy = 0; oy < p->oh; oy++)
        for (int64_t ox = 0; ox < p->ow; ox++) {
            int64_t iy = oy * p->sh - p->pt + ky * p->dh, ix = ox * p->sw - p->pl + kx * p->dw;
            if (iy >= 0 && iy < p->h && ix >= 0 && ix < p->w) return false;
        }
    return true;
}

static void poison_dead_taps(const nnl_conv_params *p, float *w) {
    int64_t cg = p->c / p->group;
    for (int64_t ky = 0; ky < p->kh; ky++)
        for (int64_t kx = 0; kx < p->kw; kx++)
            if (tap_dead(p, ky, kx))
                for (int64_t i = 0; i < p->oc * cg; i++) w[(i * p->kh + ky) * p->kw + kx] = NAN;
}

static void run_conv_case(const ccase *cc, const nnl_kernel *kern, nnl_pool *pool, bool bias, bool scale, bool res,
                          nnl_act act, bool packed, bool half) {
    nnl_conv_params p = {.n = cc->n, .c = cc->c, .h = cc->h, .w = cc->w, .oc = cc->oc, .kh = cc->kh,
                         .kw = cc->kw, .group = cc->group, .sh = cc->sh, .sw = cc->sw, .dh = cc->dh,
                         .dw = cc->dw, .pt = cc->pt, .pl = cc->pl, .pb = cc->pb, .pr = cc->pr};
    p.oh = (p.h + p.pt + p.pb - (p.kh - 1) * p.dh - 1) / p.sh + 1;
    p.ow = (p.w + p.pl + p.pr - (p.kw - 1) * p.dw - 1) / p.sw + 1;
    int64_t cg = p.c / p.group, mg = p.oc / p.group, ksz = cg * p.kh * p.kw;
    int64_t ny = p.n * p.oc * p.oh * p.ow;
    float *x = rnd(p.n * p.c * p.h * p.w, 7), *w = rnd(p.oc * ksz, 8);
    float *b = bias ? rnd(p.oc, 9) : NULL, *z = res ? rnd(ny, 10) : NULL, *y = rnd(ny, 12);
    if (half) to_half(w, NULL, p.oc * ksz);
    /* With scratch, a conv skips its dead taps (every output reads them in
     * the padding): poisoned with NaN, they must never be read. */
    if (pool && !nnl_conv_is_depthwise(&p)) poison_dead_taps(&p, w);
    /* a fused channel scale of x (squeeze-and-excitation) on the GEMM path */
    float *xs = scale && !nnl_conv_is_depthwise(&p) ? rnd(p.n * p.c, 13) : NULL;
    /* its 1x1 convs scale the weight instead of x, in scratch sized for it */
    p.x_scaled = xs != NULL;
    double *want = calloc((size_t)ny, sizeof(double)), *mag = calloc((size_t)ny, sizeof(double));
    for (int64_t img = 0; img < p.n; img++)
        for (int64_t o = 0; o < p.oc; o++)
            for (int64_t oy = 0; oy < p.oh; oy++)
                for (int64_t ox = 0; ox < p.ow; ox++) {
                    double s = b ? b[o] : 0, sm = b ? fabs(b[o]) : 0;
                    int64_t g = o / mg;
                    for (int64_t ic = 0; ic < cg; ic++)
                        for (int64_t ky = 0; ky < p.kh; ky++)
                            for (int64_t kx = 0; kx < p.kw; kx++) {
                                int64_t iy = oy * p.sh - p.pt + ky * p.dh, ix = ox * p.sw - p.pl + kx * p.dw;
                                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
                                double t = (double)x[((img * p.c + g * cg + ic) * p.h + iy) * p.w + ix] *
                                           w[((o * cg + ic) * p.kh + ky) * p.kw + kx] *
                                           (xs ? xs[img * p.c + g * cg + ic] : 1.0);
                                s += t;
                                sm += fabs(t);
                            }
                    int64_t yi = ((img * p.oc + o) * p.oh + oy) * p.ow + ox;
                    if (z) s += z[yi], sm += fabs(z[yi]);
                    want[yi] = act_ref(s, act, 0.1, 0.5);
                    mag[yi] = sm;
                }
    nnl_conv_args a = {.x = x, .w = w, .w_layout = NNL_LAYOUT_PLAIN, .bias = b, .res = z, .y = y, .act = act,
                       .act_a = 0.1f, .act_b = 0.5f, .x_scale = xs};
    float *wp = NULL;
    if (packed) {
        int64_t dims[4] = {p.oc, cg, p.kh, p.kw};
        wp = nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(4, dims));
        nnl_pack_a8(wp, w, p.oc, ksz);
        a.w = wp;
        a.w_layout = NNL_LAYOUT_PACK_A8;
    }
    uint16_t *wh = NULL;
    if (half) { /* the same layout in float16 */
        int64_t wn = packed ? (p.oc + 7) / 8 * 8 * ksz : p.oc * ksz;
        wh = nnl_aligned_alloc((size_t)wn * sizeof *wh);
        to_half((float *)a.w, wh, wn);
        a.wh = wh;
        a.w = NULL;
    }
    if (pool && (a.scratch_bytes = nnl_conv_scratch_bytes(&p, a.w_layout))) {
        /* NaN bytes: a conv that reads scratch it did not write (a pad it
         * forgot to zero) turns its outputs into NaN */
        a.scratch = nnl_aligned_alloc(a.scratch_bytes);
        memset(a.scratch, 0xff, a.scratch_bytes);
    }
    assert_int_equal(nnl_conv2d(&p, &a, kern, pool, ts), NNL_OK);
    nnl_aligned_free(a.scratch);
    char what[200];
    snprintf(what, sizeof what, "conv %s c%lld %lldx%lld oc%lld k%lldx%lld g%lld s%lld,%lld d%lld,%lld packed%d half%d",
             kern->name, (long long)p.c, (long long)p.h, (long long)p.w, (long long)p.oc, (long long)p.kh,
             (long long)p.kw, (long long)p.group, (long long)p.sh, (long long)p.sw, (long long)p.dh,
             (long long)p.dw, packed, half);
    check_close(y, want, mag, ny, 2e-6 * (double)(ksz + 4), what);
    /* the same conv on its weight by taps (passes/trim_taps.c: only where
     * it runs by taps), in the same layout and precision */
    if (pool && !xs && p.oc % NNL_MR == 0 && nnl_conv_taps_pays(&p, a.w_layout)) {
        const int64_t taps = p.kh * p.kw, rows = taps * p.oc;
        float *wt = nnl_aligned_alloc((size_t)(rows * p.c) * sizeof(float)), *wtp = NULL;
        for (int64_t t = 0; t < taps; t++)
            for (int64_t o = 0; o < p.oc; o++)
                for (int64_t ic = 0; ic < p.c; ic++) wt[(t * p.oc + o) * p.c + ic] = w[(o * p.c + ic) * taps + t];
        nnl_conv_args at = a;
        at.w_taps = true;
        at.w = wt;
        at.wh = NULL;
        at.w_layout = NNL_LAYOUT_PLAIN;
        if (packed) {
            wtp = nnl_aligned_alloc((size_t)(rows * p.c) * sizeof(float));
            nnl_pack_a8(wtp, wt, rows, p.c);
            at.w = wtp;
            at.w_layout = NNL_LAYOUT_PACK_A8;
        }
        uint16_t *wth = NULL;
        if (half) {
            wth = nnl_aligned_alloc((size_t)(rows * p.c) * sizeof *wth);
            to_half((float *)at.w, wth, rows * p.c);
            at.wh = wth;
            at.w = NULL;
        }
        at.scratch_bytes = nnl_conv_taps_scratch_bytes(&p);
        at.scratch = nnl_aligned_alloc(at.scratch_bytes);
        memset(at.scratch, 0xff, at.scratch_bytes);
        memset(y, 0xff, (size_t)ny * sizeof(float));
        assert_int_equal(nnl_conv2d(&p, &at, kern, pool, ts), NNL_OK);
        snprintf(what + strlen(what), sizeof what - strlen(what), " by taps");
        check_close(y, want, mag, ny, 2e-6 * (double)(ksz + 4), what);
        nnl_aligned_free(at.scratch);
        nnl_aligned_free(wt);
        nnl_aligned_free(wtp);
        nnl_aligned_free(wth);
    }
    free(want);
    free(mag);
    nnl_aligned_free(x);
    nnl_aligned_free(w);
    nnl_aligned_free(wp);
    nnl_aligned_free(wh);
    nnl_aligned_free(b);
    nnl_aligned_free(z);
    nnl_aligned_free(y);
    nnl_aligned_free(xs);
}

static const ccase conv_cases[] = {
    /* n  c   h   w  oc kh kw  g sh sw dh dw pt pl pb pr */
    {1, 3, 17, 23, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* small, padded */
    {2, 16, 9, 13, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},    /* pointwise, batch 2 */
    {1, 13, 11, 11, 17, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},   /* 1x1 stride 2 */
    {2, 12, 15, 20, 8, 1, 1, 2, 2, 3, 1, 1, 0, 0, 0, 0},    /* 1x1 stride 2x3, groups, batch 2 */
    {1, 64, 28, 29, 160, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},  /* 1x1 stride 2 to 14x15 (RegNetX) */
    {1, 8, 40, 37, 16, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},    /* 1x1 stride 2, rows of 19: the set's split2 */
    {2, 40, 7, 7, 64, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     /* SE projection at 7x7: X scaled into scratch */
    {1, 96, 14, 14, 200, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  /* ... at 14x14, M above N */
    {1, 7, 20, 31, 9, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1},     /* stride 2 */
    {1, 3, 97, 130, 8, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1},    /* stride 2, phase planes padded row by row */
    {1, 4, 23, 37, 16, 3, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1},    /* stride 2, no left pad, odd width */
    {1, 128, 28, 28, 256, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1}, /* ResNet 3x3/2 to 14x14 as tiles: a padded copy a thread */
    {1, 32, 14, 14, 32, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1},   /* grouped stride 2 to 7x7 (RegNetX) */
    {1, 6, 19, 22, 10, 3, 3, 1, 1, 1, 2, 3, 2, 3, 2, 3},    /* dilation */
    {1, 4, 10, 12, 8, 3, 5, 1, 1, 2, 1, 1, 0, 2, 1, 0},     /* asymmetric pads, rect kernel */
    {1, 8, 12, 12, 16, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},    /* groups, 8 per group */
    {2, 12, 9, 10, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* groups, 2 per group */
    {1, 3, 40, 40, 8, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3},     /* stem-like */
    {1, 200, 6, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* K = 1800, several K blocks */
    {1, 10, 1, 50, 12, 1, 5, 1, 1, 1, 1, 2, 0, 2, 0, 2},    /* conv1d-shaped */
    {1, 5, 30, 600, 3, 1, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1},    /* N = 18000, many tasks */
    {1, 16, 15, 17, 16, 3, 3, 16, 1, 1, 1, 1, 1, 1, 1, 1},  /* depthwise */
    {2, 12, 14, 37, 12, 3, 3, 12, 2, 2, 1, 1, 1, 1, 1, 1},  /* depthwise stride 2 */
    {1, 9, 16, 40, 9, 5, 5, 9, 1, 2, 2, 1, 4, 2, 3, 1},     /* depthwise dilation, mixed stride */
    {1, 4, 7, 70, 4, 3, 3, 4, 3, 3, 1, 1, 0, 0, 2, 2},      /* depthwise stride 3 */
    {1, 8, 12, 30, 8, 3, 3, 8, 1, 1, 2, 2, 2, 2, 2, 2},     /* depthwise dilation 2, stride 1 */
    {1, 24, 7, 7, 24, 3, 3, 24, 1, 1, 1, 1, 1, 1, 1, 1},    /* depthwise 7x7 plane: one block */
    {1, 6, 14, 14, 6, 5, 5, 6, 2, 2, 1, 1, 2, 2, 2, 2},     /* depthwise 5x5 stride 2 (EfficientNet) */
    {1, 3, 300, 301, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   /* depthwise plane in several bands */
    {1, 2, 150, 161, 2, 3, 3, 2, 2, 2, 1, 1, 0, 1, 1, 0},   /* banded, stride 2, one-sided pads */
    {1, 2, 9, 5000, 2, 1, 7, 2, 1, 3, 1, 2, 0, 6, 0, 1},    /* wide rows: one output row a band */
    {1, 5, 21, 33, 5, 3, 3, 5, 2, 2, 1, 1, 0, 0, 1, 1},     /* depthwise stride 2, no left pad */
    {1, 8, 8, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* 1x1 with padding */
    {1, 20, 6, 7, 16, 3, 3, 1, 1, 1, 8, 8, 8, 8, 8, 8},     /* ASPP-like: only the centre tap lives */
    {1, 10, 9, 11, 9, 3, 3, 1, 1, 1, 6, 6, 6, 6, 0, 0},     /* top row and left column dead */
    {1, 16, 5, 5, 16, 3, 3, 2, 1, 1, 5, 5, 5, 5, 5, 5},     /* centre only, groups of 8 */
    {1, 6, 5, 5, 8, 3, 3, 1, 4, 4, 3, 3, 3, 3, 3, 3},       /* strides wider than the image */
    {2, 12, 4, 9, 10, 5, 3, 1, 1, 2, 4, 1, 8, 1, 8, 1},     /* rows trimmed to one, columns kept */
    {1, 32, 7, 7, 32, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},    /* groups of 16 at 7x7: transposed tiles, K 144 */
    {1, 160, 7, 7, 96, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  /* 1x1 at 7x7, K 160: tukr_small_k on avx512 */
    {2, 320, 7, 7, 72, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  /* ... K 320 on avx512 and avx2, batch 2 */
    {1, 64, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* 3x3 at 7x7, K 576: two K blocks of the transposed tile */
    {1, 12, 16, 16, 16, 3, 3, 1, 1, 1, 6, 6, 6, 6, 6, 6},  /* by taps: tap rows 1-2, 0-2, 0-1 */
    {2, 8, 20, 18, 8, 3, 3, 1, 2, 2, 5, 4, 5, 4, 5, 4},     /* by taps, stride 2, batch 2 */
    {1, 24, 16, 16, 24, 3, 3, 2, 1, 1, 12, 12, 12, 12, 12, 12}, /* ASPP-like, groups of 12: the whole conv */
    {1, 40, 16, 16, 24, 3, 3, 1, 1, 1, 12, 12, 12, 12, 12, 12}, /* ASPP d12: by taps, 4 to 256 pixels each */
    {1, 9, 11, 19, 10, 5, 5, 1, 2, 1, 1, 4, 2, 8, 2, 8},    /* 5x5 dilated along columns only, stride 2 rows */
    /* phase planes past 512 KB, filled a band of output rows at a time */
    {1, 32, 109, 112, 32, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1}, /* RegNetX's grouped 3x3/2: 7 bands of 7 rows, 6 */
    {1, 3, 224, 224, 16, 3, 3, 1, 2, 2, 1, 1, 0, 0, 1, 1},  /* stem, pads right and below only */
    {2, 8, 100, 90, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* stride 1, batch 2 */
    {1, 16, 100, 90, 16, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2},  /* dilation 2: halos of 4 rows */
};

static void test_conv_cases(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (size_t i = 0; i < sizeof conv_cases / sizeof *conv_cases; i++) {
            const ccase *cc = &conv_cases[i];
            nnl_conv_params p = {.c = cc->c, .oc = cc->oc, .group = cc->group};
            bool pack_ok = nnl_conv_a8_ok(&p);
            run_conv_case(cc, kern, NULL, true, true, false, NNL_ACT_NONE, false, false);
            /* every other even case Sigmoid: the depthwise kernels step
             * Sigmoid and SiLU over a block's vectors together */
            run_conv_case(cc, kern, pool2, i % 2, i % 2, true,
                          i % 2 ? NNL_ACT_RELU : i % 4 ? NNL_ACT_SIGMOID : NNL_ACT_SILU, false, false);
            /* a float16 weight, plain (depthwise, grouped) */
            run_conv_case(cc, kern, i % 2 ? NULL : pool2, true, i % 3 == 1, i % 2, NNL_ACT_RELU, false, true);
            if (pack_ok) {
                /* even cases without the input scale: the transposed tile
                 * runs only unscaled, and two threads on a strided conv
                 * each pad their own copy of the phase planes */
                run_conv_case(cc, kern, pool2, true, i % 2 == 1, i % 3 == 0, NNL_ACT_LEAKYRELU, true, false);
                run_conv_case(cc, kern, NULL, false, false, false, NNL_ACT_HARDSWISH, true, false);
                run_conv_case(cc, kern, i % 2 ? pool2 : NULL, true, false, false, NNL_ACT_NONE, true, true);
            }
        }
    }
}

/* 1x1 convs on small maps with more input than output channels, on two
 * threads: the transposed tile splits K between the threads and sums the
 * parts with the epilogue in a second pass (gemm.c tg_ksplit / tg_reduce):
 * K split unevenly by blocks, output channels past whole vectors, a
 * residual, every activation kind the reduce applies. */
static const ccase ksplit_cases[] = {
    /* n  c   h   w  oc kh kw g sh sw dh dw pt pl pb pr */
    {1, 384, 14, 14, 64, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  /* MobileNetV2's projection */
    {1, 300, 10, 11, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  /* K 300: parts of 150 */
    {1, 520, 7, 7, 40, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},    /* 7x7, 40 channels */
    {1, 256, 16, 16, 128, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, /* 256 pixels, K = 2 M */
};

static void test_conv_ksplit(void **state) {
    (void)state;
    static const nnl_act acts[] = {NNL_ACT_NONE, NNL_ACT_RELU, NNL_ACT_CLIP, NNL_ACT_HARDSWISH, NNL_ACT_SILU};
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (size_t i = 0; i < sizeof ksplit_cases / sizeof *ksplit_cases; i++)
            for (size_t a = 0; a < sizeof acts / sizeof *acts; a++)
                run_conv_case(&ksplit_cases[i], kern, pool2, a % 2 == 0, false, a % 3 != 1, acts[a], true, false);
    }
}

/* 1x1 stride-1 convs whose planes are whole cache lines, and with scratch
 * every stride-1 conv on the wide pixel grid, read their input in place
 * (whole NR-column tiles, the N tail packed): tails of every width, none, several K blocks and row blocks,
 * groups and batch 2, pads, dilation, with and without the channel scale
 * (which packs), bias, residual and activation. */
static const ccase in_place_cases[] = {
    /* n  c   h   w   oc kh kw g sh sw dh dw pt pl pb pr */
    {2, 16, 16, 26, 32, 1, 1, 2, 1, 1, 1, 1, 0, 0, 0, 0},   /* N 416: tails 32 / 8, groups, batch 2 */
    {1, 300, 8, 14, 40, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},  /* N 112: tail 16, 3 K blocks */
    {1, 24, 12, 12, 600, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, /* N 144: no tail on any set, tall M */
    {1, 8, 3, 5, 16, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},     /* N 15: unaligned rows, packed */
    {2, 16, 11, 13, 32, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},  /* wide grid: groups, batch 2 */
    {1, 12, 4, 30, 520, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2}, /* wide grid: dilation, tall M */
    {1, 12, 15, 9, 520, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2}, /* grid's extra tile too dear: im2col */
    {1, 40, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* wide grid: 3 K blocks */
    {1, 4, 3, 60, 8, 1, 5, 1, 1, 1, 1, 1, 0, 2, 0, 1},    /* wide grid: 1x5, uneven pads */
    {1, 8, 6, 9, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1},     /* wide grid: padded 1x1 */
    /* rows of at least a tile (ow >= nr): tiles store y themselves past
     * each row's virtual pixels (nnl_ukr_args.gap), tiles starting in them */
    {1, 3, 101, 112, 16, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1}, /* stem: ow 56, gap 1 */
    {1, 40, 6, 50, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* 2 K blocks accumulate in y */
    {1, 5, 9, 101, 8, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3},   /* 7x7 stride 2: gap 3 */
    {1, 6, 10, 60, 8, 3, 3, 1, 1, 1, 4, 4, 4, 4, 4, 4},   /* dilation 4: gap 8 */
    /* K <= 64 with whole-vector rows: tiles start at row starts instead
     * (gemm.c row_tiles), blocks of the threaded runs starting mid-row */
    {1, 3, 60, 224, 16, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1}, /* stem: ow 112 */
    {1, 3, 30, 222, 8, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0},  /* ow 110: a narrow last tile a row */
    {1, 7, 9, 96, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* stride 1, K 63 */
    /* a small map whose grid pixel tiles would refuse (virtual columns x
     * 256 rows): planned for the transposed tile, which takes it where the
     * set has one, else im2col from the same scratch */
    {1, 64, 13, 13, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
};

static void test_conv_in_place(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (size_t i = 0; i < sizeof in_place_cases / sizeof *in_place_cases; i++) {
            const ccase *cc = &in_place_cases[i];
            run_conv_case(cc, kern, NULL, true, false, true, NNL_ACT_RELU, true, false);
            run_conv_case(cc, kern, pool2, true, false, true, NNL_ACT_SILU, true, false);
            run_conv_case(cc, kern, pool2, true, false, false, NNL_ACT_HARDSWISH, false, false);
            run_conv_case(cc, kern, pool2, false, true, true, NNL_ACT_CLIP, true, false);
        }
    }
}

/* Each vector set's activations agree with the scalar definition. */
static void test_act_rows(void **state) {
    (void)state;
    static const nnl_act acts[] = {NNL_ACT_NONE,        NNL_ACT_RELU,      NNL_ACT_CLIP,      NNL_ACT_SIGMOID,
                                   NNL_ACT_HARDSIGMOID, NNL_ACT_HARDSWISH, NNL_ACT_LEAKYRELU, NNL_ACT_SILU,
                                   NNL_ACT_GELU};
    enum { N = 203 };
    float x[N], y[N], res[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i - 101) * 0.37f;
        res[i] = (float)(i % 7) - 3.0f;
    }
    x[0] = -200.0f;
    x[1] = 200.0f;
    x[2] = -88.5f;
    x[3] = 88.5f;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        /* in place, and from x into y (a tile's row stored out) */
        for (size_t c = 0; c < 2 * sizeof acts / sizeof *acts; c++) {
            size_t ai = c / 2;
            if (c % 2)
                memset(y, 0xFF, sizeof y);   /* NaN: a kernel reading y fails */
            else
                memcpy(y, x, sizeof x);
            kern->epi_row(y, c % 2 ? x : y, N, 0.25f, res, 0.5f, acts[ai], -1.5f, 2.5f);
            for (int i = 0; i < N; i++) {
                double v = (double)x[i] + 0.25 + 0.5 * res[i];
                double want = act_ref(v, acts[ai], -1.5, 2.5);
                if (!(fabs(y[i] - want) <= 1e-6 * (1 + fabs(want))))
                    fail_msg("%s act %d x=%g: got %.9g want %.9g", kern->name, acts[ai], v, y[i], want);
            }
        }
    }
}

/* Each set's transposed tile against the definition: 1 to 6 panels of
 * output channels, as many pixels as nnl_tukr_px allows at scattered
 * offsets, in runs of 7 or 8 consecutive ones (a map's rows, which
 * kernels may take as runs) or evenly spaced (rows of X), B rows at
 * arbitrary offsets, overwrite and accumulate; with 16-lane weight
 * vectors both the joining call and one on its joined copy (poisoned
 * before: a join that leaves lanes unwritten shows); nothing written
 * past the tile's pixels and channels. */
static void test_tukr(void **state) {
    (void)state;
    enum { K = 37, PANELS = 6, LDT = 56 };
    float *a = rnd(PANELS * K * NNL_MR, 81), *b = rnd(4096, 82), *t0 = rnd(NNL_TUKR_PX * LDT, 83);
    float t[NNL_TUKR_PX * LDT];
    _Alignas(64) float join[NNL_TUKR_JOIN_FLOATS(K)];
    enum { PATTERNS = 4 };
    int64_t off[K], pixs[PATTERNS][NNL_TUKR_PX];
    for (int k = 0; k < K; k++) off[k] = (k * 61) % 3000;
    for (int j = 0; j < NNL_TUKR_PX; j++) {
        pixs[0][j] = (j * 37) % 101 * 3 + (j & 1);    /* scattered */
        pixs[1][j] = j / 7 * 9 + j % 7 + 5;          /* a 7x7 map's rows on a 9-wide grid */
        pixs[2][j] = j / 8 * 11 + j % 8 + 2;         /* runs of 8 */
        pixs[3][j] = j * 37 + 4;                     /* evenly spaced: a MatMul's rows of X */
    }
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported() || !kern->tukr) continue;
        for (int c = 0; c < PATTERNS * PANELS; c++)
            for (int nj = 1, run = c / PANELS, np = c % PANELS + 1; nj <= nnl_tukr_px(np); nj++)
                for (int acc = 0; acc < 2; acc++)
                    /* tukr_lanes 16: joining the panels (keeping the joined copy), then from that copy */
                    for (int mode = 0; mode < (kern->tukr_lanes == 16 ? 2 : 1); mode++) {
                        memcpy(t, t0, sizeof t);
                        const int64_t *pix = pixs[run];
                        nnl_tukr_args u = {.kc = K, .a = a, .a_ps = K * NNL_MR, .b = b, .b_off = off, .pix = pix,
                                           .t = t, .ldt = LDT, .np = np, .nj = nj, .accumulate = acc};
                        if (kern->tukr_lanes == 16 && mode == 0) {
                            memset(join, 0xff, sizeof join);
                            u.join = join;
                        } else if (kern->tukr_lanes == 16) {
                            u.a = join;
                            u.a_ps = K * 16;
                        }
                        kern->tukr(&u);
                        for (int j = 0; j < NNL_TUKR_PX; j++)
                            for (int o = 0; o < LDT; o++) {
                                float got = t[j * LDT + o];
                                if (j >= nj || o >= np * NNL_MR) {
                                    if (got != t0[j * LDT + o])
                                        fail_msg("%s tukr np %d nj %d wrote pixel %d channel %d", kern->name, np, nj,
                                                 j, o);
                                    continue;
                                }
                                double s = acc ? t0[j * LDT + o] : 0.0;
                                for (int k = 0; k < K; k++)
                                    s += (double)a[(o / NNL_MR * K + k) * NNL_MR + o % NNL_MR] * b[off[k] + pix[j]];
                                if (!(fabs(got - s) <= 1e-5 * (1 + fabs(s))))
                                    fail_msg("%s tukr np %d nj %d acc %d mode %d (%d, %d): got %.9g want %.9g",
                                             kern->name, np, nj, acc, mode, j, o, got, s);
                            }
                    }
    }
    nnl_aligned_free(a);
    nnl_aligned_free(b);
    nnl_aligned_free(t0);
}

/* Each set's tile transposition (tile_t) against its definition: tiles
 * of 1 .. 50 rows (whole register blocks, tails of one, a 7x7 map's 49)
 * and 1 .. 48 columns at a row stride past the columns; exact copies,
 * nothing written outside the destination's rows and columns.  Then with
 * an epilogue (bias per destination row, a residual at its own stride,
 * each activation) against nnl_tile_t_ref's, within a float's rounding of
 * the fused multiply-add. */
static void test_tile_t(void **state) {
    (void)state;
    enum { LDS = 53, LDD = 57, MAXR = 50, MAXC = 48 };
    float *src = rnd(MAXR * LDS, 91), *d0 = rnd(MAXC * LDD, 92), *d = rnd(MAXC * LDD, 93);
    static const int rows[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 49, 50};
    static const int cols[] = {1, 3, 8, 9, 15, 16, 17, 24, 31, 33, 47, 48};
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported() || !kern->tukr) continue;
        assert_non_null(kern->tile_t);
        for (size_t ri = 0; ri < sizeof rows / sizeof *rows; ri++)
            for (size_t ci = 0; ci < sizeof cols / sizeof *cols; ci++) {
                const int nr = rows[ri], nc = cols[ci];
                memcpy(d, d0, MAXC * LDD * sizeof *d);
                kern->tile_t(d, LDD, src, LDS, nr, nc, NULL);
                for (int c = 0; c < MAXC; c++)
                    for (int r = 0; r < LDD; r++) {
                        float want = c < nc && r < nr ? src[r * LDS + c] : d0[c * LDD + r];
                        if (memcmp(&d[c * LDD + r], &want, sizeof want))
                            fail_msg("%s tile_t %d x %d: (%d, %d) got %.9g want %.9g", kern->name, nr, nc, c, r,
                                     d[c * LDD + r], want);
                    }
            }
    }
    enum { RS = 61 };
    float *bias = rnd(MAXC, 94), *res = rnd(MAXC * RS, 95), *want = rnd(MAXC * LDD, 96);
    static const nnl_act acts[] = {NNL_ACT_NONE, NNL_ACT_RELU, NNL_ACT_CLIP, NNL_ACT_HARDSWISH, NNL_ACT_SIGMOID};
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported() || !kern->tukr) continue;
        for (size_t ai = 0; ai < sizeof acts / sizeof *acts; ai++)
            for (int with_res = 0; with_res < 2; with_res++) {
                const nnl_epilogue e = {.alpha = 1.0f, .bias_row = bias, .res = with_res ? res : NULL, .res_rs = RS,
                                        .beta = 0.75f, .act = acts[ai], .act_a = -0.25f, .act_b = 0.5f};
                for (size_t ri = 0; ri < sizeof rows / sizeof *rows; ri++)
                    for (size_t ci = 0; ci < sizeof cols / sizeof *cols; ci++) {
                        const int nr = rows[ri], nc = cols[ci];
                        memcpy(d, d0, MAXC * LDD * sizeof *d);
                        memcpy(want, d0, MAXC * LDD * sizeof *d);
                        kern->tile_t(d, LDD, src, LDS, nr, nc, &e);
                        nnl_tile_t_ref(want, LDD, src, LDS, nr, nc, &e);
                        for (int c = 0; c < MAXC; c++)
                            for (int r = 0; r < LDD; r++) {
                                const float g = d[c * LDD + r], w = want[c * LDD + r];
                                if (fabsf(g - w) > 1e-6f * (1.0f + fabsf(w)) || (c >= nc || r >= nr ? g != w : 0))
                                    fail_msg("%s tile_t %d x %d act %d res %d: (%d, %d) got %.9g want %.9g",
                                             kern->name, nr, nc, (int)acts[ai], with_res, c, r, g, w);
                            }
                    }
            }
    }
    nnl_aligned_free(bias);
    nnl_aligned_free(res);
    nnl_aligned_free(want);
    nnl_aligned_free(src);
    nnl_aligned_free(d0);
    nnl_aligned_free(d);
}

/* Each set's depthwise kernel (channels in lanes) against the definition
 * (double sums) with every fused activation: blocks of 1 .. lanes
 * channels, bands that start inside the plane, strides, dilations, pads
 * past the kernel, rows around the lane and register blocks; nothing
 * written outside the block's channels and the band's rows. */
static void test_dwc(void **state) {
    (void)state;
    static const nnl_act acts[] = {NNL_ACT_NONE, NNL_ACT_RELU, NNL_ACT_CLIP, NNL_ACT_SIGMOID,
                                   NNL_ACT_HARDSIGMOID, NNL_ACT_HARDSWISH, NNL_ACT_LEAKYRELU, NNL_ACT_SILU};
    /* h w kh kw sh sw dh dw pt pl pb pr oy0 rows */
    static const int64_t geo[][14] = {
        {7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 7},     {14, 14, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 0, 7},
        {9, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 4},    {12, 17, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, 2, 3},
        {16, 40, 5, 5, 1, 2, 2, 1, 4, 2, 3, 1, 5, 6},   {7, 70, 3, 3, 3, 3, 1, 1, 0, 0, 2, 2, 1, 2},
        {5, 5, 3, 3, 1, 1, 4, 4, 4, 4, 4, 4, 2, 3},     {3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 3},
        {6, 23, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3, 0, 6},    {4, 16, 1, 3, 1, 4, 1, 2, 0, 5, 0, 0, 1, 2},
        /* AVX-512's pixels-in-lanes path (dwp_avx512.h): 3x3 and 5x5 at
         * stride 1 and 2, rows of 1 to 6 vectors (blocks of 8, 4 and 2
         * rows; a row's last block narrower), bands that end inside a block
         * of rows, loads past both ends of a row and rows wide enough for
         * blocks with no masked load */
        {11, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 9},   {20, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 17},
        {9, 83, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 9},    {13, 112, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 5},
        {13, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 5},   {10, 61, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 0, 5},
        {21, 150, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 8},  {30, 27, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 0, 14},
        {12, 47, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 3, 7},   {17, 100, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 1, 6},
        {9, 64, 5, 5, 1, 1, 1, 1, 0, 4, 4, 0, 0, 9},    {28, 28, 5, 5, 2, 2, 1, 1, 1, 2, 2, 1, 0, 13},
        {6, 150, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 6},   {7, 300, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 0, 4},
        /* rows whose last 16-lane vector holds one output: at 33 the
         * vector before it would read past the row (dwp_avx512.h leaves
         * that geometry to the body), at 17 the first vector meets both ends;
         * rows of 8, 12, 25 and 33 outputs at both strides, around the
         * pixel path's minimum width */
        {6, 33, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 0, 6},    {6, 17, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, 5},
        {9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, 9},     {12, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 6},
        {10, 49, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 1, 4},   {8, 65, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 4},
        /* a right pad of 40: whole vectors of outputs over padding only */
        {5, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 40, 0, 5},
    };
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        const int lanes = kern->dwc_lanes;
        for (size_t gi = 0; gi < sizeof geo / sizeof *geo; gi++) {
            const int64_t *g = geo[gi];
            nnl_dwc_args a = {.h = g[0], .w = g[1], .kh = g[2], .kw = g[3], .sh = g[4], .sw = g[5], .dh = g[6],
                              .dw = g[7], .pt = g[8], .pl = g[9], .oy0 = g[12], .rows = g[13]};
            int64_t oh = (a.h + a.pt + g[10] - (a.kh - 1) * a.dh - 1) / a.sh + 1;
            a.ow = (a.w + a.pl + g[11] - (a.kw - 1) * a.dw - 1) / a.sw + 1;
            assert_true(a.oy0 + a.rows <= oh);
            int64_t nt = a.kh * a.kw, plane = oh * a.ow;
            float *x = rnd(lanes * a.h * a.w, 73), *wt = rnd(nt * lanes, 74), *bias = rnd(lanes, 75);
            float *y = nnl_aligned_alloc((size_t)(lanes * plane) * sizeof(float));
            float *buf = nnl_aligned_alloc((size_t)nnl_dwc_buf_floats(&a, lanes) * sizeof(float));
            for (size_t ai = 0; ai < sizeof acts / sizeof *acts; ai++) {
                int nc = 1 + (int)((gi + ai) % (size_t)lanes);
                for (int64_t i = 0; i < lanes * plane; i++) y[i] = 12345.0f;
                a.x = x, a.xcs = a.h * a.w, a.nc = nc, a.wt = wt, a.bias = bias, a.y = y, a.ycs = plane;
                a.act = acts[ai], a.act_a = -1.5f, a.act_b = 2.5f, a.buf = buf;
                kern->dwc(&a);
                for (int c = 0; c < lanes; c++)
                    for (int64_t oy = 0; oy < oh; oy++)
                        for (int64_t ox = 0; ox < a.ow; ox++) {
                            float got = y[c * plane + oy * a.ow + ox];
                            if (c >= nc || oy < a.oy0 || oy >= a.oy0 + a.rows) {
                                if (got != 12345.0f)
                                    fail_msg("%s dwc geometry %zu wrote channel %d row %lld outside its block",
                                             kern->name, gi, c, (long long)oy);
                                continue;
                            }
                            double s = bias[c];
                            for (int64_t t = 0; t < nt; t++) {
                                int64_t iy = oy * a.sh - a.pt + t / a.kw * a.dh;
                                int64_t ix = ox * a.sw - a.pl + t % a.kw * a.dw;
                                if (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w)
                                    s += (double)wt[t * lanes + c] * x[c * a.xcs + iy * a.w + ix];
                            }
                            double want = act_ref(s, acts[ai], -1.5, 2.5);
                            if (!(fabs(got - want) <= 1e-5 * (1 + fabs(want))))
                                fail_msg("%s dwc geometry %zu act %d channel %d (%lld, %lld): got %.9g want %.9g",
                                         kern->name, gi, acts[ai], c, (long long)oy, (long long)ox, got, want);
                        }
            }
            nnl_aligned_free(x);
            nnl_aligned_free(wt);
            nnl_aligned_free(bias);
            nnl_aligned_free(y);
            nnl_aligned_free(buf);
        }
    }
}

/* The scalar conversions against IEEE binary16 by hand: every class of
 * value, and round to nearest even at each boundary. */
static void test_half_scalar(void **state) {
    (void)state;
    static const struct { uint16_t h; float f; } exact[] = {
        {0x3c00, 1.0f}, {0xc000, -2.0f}, {0x7bff, 65504.0f}, {0x0400, 6.103515625e-5f},
        {0x0001, 5.9604644775390625e-8f}, {0x03ff, 6.097555160522461e-5f}, {0x8001, -5.9604644775390625e-8f},
        {0x3555, 0.333251953125f}, {0x7c00, INFINITY}, {0xfc00, -INFINITY},
    };
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        assert_true(nnl_half_to_float(exact[i].h) == exact[i].f);
        assert_int_equal(nnl_double_to_half(exact[i].f), exact[i].h);
    }
    assert_true(signbit(nnl_half_to_float(0x8000)) && nnl_half_to_float(0x8000) == 0.0f);
    /* NaN: quiet, payload kept, as vcvtph2ps / fcvtl give it */
    float qn = nnl_half_to_float(0x7d01);
    uint32_t bits;
    memcpy(&bits, &qn, 4);
    assert_int_equal(bits, 0x7fe02000u); /* 0x7f800000 | 0x101 << 13 | quiet bit */
    assert_true(isnan(nnl_half_to_float(0xfe00)));
    assert_int_equal(nnl_double_to_half(NAN) & 0x7e00, 0x7e00);
    /* ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 */
    assert_int_equal(nnl_double_to_half(1.0 + 1.0 / 2048), 0x3c00);
    assert_int_equal(nnl_double_to_half(1.0 + 3.0 / 2048), 0x3c02);
    assert_int_equal(nnl_double_to_half(1.0 + 1.0 / 2048 + 1e-9), 0x3c01);
    assert_int_equal(nnl_double_to_half(65519.99), 0x7bff);   /* below the tie with "65536" */
    assert_int_equal(nnl_double_to_half(65520.0), 0x7c00);    /* the tie rounds to even: infinity */
    assert_int_equal(nnl_double_to_half(-1e6), 0xfc00);
    assert_int_equal(nnl_double_to_half(ldexp(1, -25)), 0x0000);     /* half the smallest subnormal: even */
    assert_int_equal(nnl_double_to_half(ldexp(3, -25)), 0x0002);     /* 1.5 of it: even */
    assert_int_equal(nnl_double_to_half(ldexp(1.0001, -25)), 0x0001);
    assert_int_equal(nnl_double_to_half(ldexp(1023.5, -24)), 0x0400); /* subnormal rounds up to the smallest normal */
    /* every non-NaN half survives the round trip */
    for (uint32_t h = 0; h < 65536; h++)
        if ((h & 0x7c00) != 0x7c00 || (h & 0x3ff) == 0)
            assert_int_equal(nnl_double_to_half(nnl_half_to_float((uint16_t)h)), h);
}

/* Rows [b, e) of MaxPool g over x (PL planes) by every set the CPU has,
 * against the scalar set's definition into want, y, of ny floats, first
 * filled with -7 so a write outside the rows shows. */
static void maxpool_case(const nnl_pool2d *g, const float *x, float *y, float *want, int64_t ny, int64_t b, int64_t e,
                         void *scratch) {
    for (int64_t i = 0; i < ny; i++) want[i] = -7.0f;
    nnl_kernel_scalar.maxpool(g, x, want, b, e, scratch);
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (int64_t i = 0; i < ny; i++) y[i] = -7.0f;
        kern->maxpool(g, x, y, b, e, scratch);
        for (int64_t i = 0; i < ny; i++)
            if (!(y[i] == want[i]))
                fail_msg("%s maxpool %lldx%lld k %lldx%lld s %lldx%lld d %lldx%lld pads %lld,%lld rows "
                         "[%lld, %lld): y[%lld] = %g, want %g", kern->name, (long long)g->in[0],
                         (long long)g->in[1], (long long)g->k[0], (long long)g->k[1], (long long)g->s[0],
                         (long long)g->s[1], (long long)g->d[0], (long long)g->d[1], (long long)g->pb[0],
                         (long long)g->pb[1], (long long)b, (long long)e, (long long)i, y[i], want[i]);
    }
}

/* Each set's float MaxPool (kernels/maxpool_f32.h: every vector width it
 * has) equals the scalar set's definition on random geometries (widths
 * around the vector sizes, strides 1-4, dilations, pads, windows wider than
 * MP_TAPS), on 3x3 / 1 / 1 pools of small planes (the flat path: whole
 * planes, ranges starting or ending inside one, blocks of planes) and on 2x2 / 2 ones
 * inside the plane (the in-plane path), on 3x3 / 2 ones of the shapes
 * networks pool (the masked path), with NaN and
 * infinities among the values, and writes only the rows [b, e) it is
 * given. */
static void test_maxpool(void **state) {
    (void)state;
    enum { PL = 3, NX = PL * 6 * 140, NY = PL * 6 * 140 + 64 };
    float *x = malloc(NX * sizeof *x), *y = malloc(NY * sizeof *y), *want = malloc(NY * sizeof *want);
    void *scratch = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    assert_true(x && y && want && scratch);
    uint32_t seed = 5;
    int ran = 0;
#define RND(n) ((int64_t)((seed = seed * 1664525u + 1013904223u) >> 8) % (n))
    for (int i = 0; i < NX; i++) {
        const int64_t r = RND(40);
        x[i] = r == 0 ? NAN : r == 1 ? -INFINITY : r == 2 ? INFINITY : (float)(RND(2001) - 1000) / 8;
    }
    for (int it = 0; it < 300; it++) {
        nnl_pool2d g = {.in = {1 + RND(6)}};
        g.in[1] = 1 + RND(140);
        for (int i = 0; i < 2; i++) {
            g.k[i] = 1 + RND(it % 10 == 0 ? 18 : 4);
            g.s[i] = it % 3 == 0 ? 2 : 1 + RND(4);
            g.d[i] = it % 4 == 0 ? 1 + RND(3) : 1;
            const int64_t ek = (g.k[i] - 1) * g.d[i] + 1;
            g.pb[i] = RND(ek);
            int64_t pe = RND(ek);
            if (g.in[i] + g.pb[i] + pe < ek) pe = ek - g.in[i] - g.pb[i];
            g.out[i] = (g.in[i] + g.pb[i] + pe - ek) / g.s[i] + 1;
        }
        const int64_t rows = PL * g.out[0], ny = rows * g.out[1];
        if (ny > NY - 64 || nnl_pool2d_scratch_bytes(&g, 4) > (int64_t)NNL_THREAD_SCRATCH_BYTES) continue;
        const int64_t b = RND(rows), e = b + 1 + RND(rows - b);
        maxpool_case(&g, x, y, want, NY, b, e, scratch);
        ran++;
    }
    static const int64_t hw[][2] = {{7, 7}, {14, 14}, {13, 13}, {28, 28}, {1, 1}, {2, 3}, {5, 17}, {32, 32}, {1, 20}};
    for (size_t c = 0; c < sizeof hw / sizeof *hw; c++)
        for (int r = 0; r < 3; r++) {
            nnl_pool2d g = {.in = {hw[c][0], hw[c][1]}, .out = {hw[c][0], hw[c][1]}, .k = {3, 3}, .s = {1, 1},
                            .d = {1, 1}, .pb = {1, 1}};
            const int64_t rows = PL * g.out[0];
            const int64_t b = r == 0 ? 0 : r == 1 ? g.out[0] / 2 : 1 + RND(rows);
            const int64_t e = r == 2 ? rows - RND(g.out[0]) : rows;
            if (rows * g.out[1] > NY - 64 || e <= b) continue;
            maxpool_case(&g, x, y, want, NY, b, e, scratch);
            ran++;
        }
    /* 45 planes of 7x7: the flat path's blocks of 20 planes, its bounds
     * taken from the start of the block again, and ranges of planes that
     * start and end inside blocks and planes */
    {
        const nnl_pool2d g = {.in = {7, 7}, .out = {7, 7}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}};
        maxpool_case(&g, x, y, want, NY, 0, 45 * 7, scratch);
        maxpool_case(&g, x, y, want, NY, 3, 44 * 7 + 2, scratch);
        maxpool_case(&g, x, y, want, NY, 7 * 19, 7 * 41, scratch);
        ran += 3;
    }
    /* 2 x 2 / 2 inside the plane (the in-plane path), odd sizes dropping a
     * row and a column, rows of outputs below and past each vector width */
    static const int64_t h2[][2] = {{14, 14}, {7, 7}, {28, 28}, {13, 27}, {2, 2}, {4, 6}, {6, 64}, {3, 41}, {2, 100}};
    for (size_t c = 0; c < sizeof h2 / sizeof *h2; c++)
        for (int r = 0; r < 2; r++) {
            nnl_pool2d g = {.in = {h2[c][0], h2[c][1]}, .out = {h2[c][0] / 2, h2[c][1] / 2}, .k = {2, 2},
                            .s = {2, 2}, .d = {1, 1}};
            const int64_t rows = PL * g.out[0];
            const int64_t b = r == 0 ? 0 : RND(rows), e = r == 0 ? rows : b + 1 + RND(rows - b);
            if (rows * g.out[1] > NY - 64 || PL * g.in[0] * g.in[1] > NX) continue;
            maxpool_case(&g, x, y, want, NY, b, e, scratch);
            ran++;
        }
    /* 3x3 / 2 (the AVX-512 masked path where its rows are 8-15 outputs,
     * or 48 and more after a left pad; the row path elsewhere): windows
     * inside the plane, ceil_mode ones past its end, a left pad, ranges of
     * rows starting and ending inside planes */
    static const int64_t h3[][5] = {{27, 27, 0, 13, 13}, {28, 28, 0, 14, 14}, {112, 112, 1, 56, 56},
                                    {30, 100, 1, 15, 50}, {9, 29, 1, 5, 15}, {20, 17, 0, 10, 8},
                                    {10, 97, 1, 5, 49}, {8, 31, 0, 4, 15}, {6, 15, 0, 3, 7}};
    for (size_t c = 0; c < sizeof h3 / sizeof *h3; c++)
        for (int r = 0; r < 2; r++) {
            nnl_pool2d g = {.in = {h3[c][0], h3[c][1]}, .out = {h3[c][3], h3[c][4]}, .k = {3, 3}, .s = {2, 2},
                            .d = {1, 1}, .pb = {h3[c][2], h3[c][2]}};
            const int64_t rows = PL * g.out[0];
            const int64_t b = r == 0 ? 0 : RND(rows), e = r == 0 ? rows : b + 1 + RND(rows - b);
            if (rows * g.out[1] > NY - 64 || PL * g.in[0] * g.in[1] > NX) continue;
            maxpool_case(&g, x, y, want, NY, b, e, scratch);
            ran++;
        }
#undef RND
    assert_true(ran > 285);
    nnl_aligned_free(scratch);
    free(x);
    free(y);
    free(want);
}

/* Each set's split2 (where it has one) splits a row into its even and
 * odd columns at every length around its vector widths, reading the row
 * from an allocation of exactly 2n floats (AddressSanitizer sees a read
 * past it) and writing nothing past n; with odd NULL the even columns
 * alone, from exactly 2n - 1 floats. */
static void test_split2(void **state) {
    (void)state;
    enum { MAXN = 80, GUARD = 16 };
    float e[MAXN + GUARD], o[MAXN + GUARD];
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported() || !kern->split2) continue;
        for (int both = 1; both >= 0; both--)
            for (int m = 0; m <= MAXN; m++) {
                const int len = both ? 2 * m : 2 * m - 1;
                float *s = malloc((size_t)(len > 0 ? len : 1) * sizeof *s);
                assert_non_null(s);
                for (int i = 0; i < len; i++) s[i] = (float)(i * 3 + 1);
                for (int i = 0; i < MAXN + GUARD; i++) e[i] = o[i] = -7.0f;
                kern->split2(e, both ? o : NULL, s, m);
                for (int i = 0; i < MAXN + GUARD; i++) {
                    float we = i < m ? s[2 * i] : -7.0f, wo = both && i < m ? s[2 * i + 1] : -7.0f;
                    if (e[i] != we || o[i] != wo)
                        fail_msg("%s split2 n %d%s: element %d is %g / %g, want %g / %g", kern->name, m,
                                 both ? "" : " (even only)", i, e[i], o[i], we, wo);
                }
                free(s);
            }
    }
}

/* Each set's pad_plane (where it has one) against the definition in
 * kernels/gemm.h, element by element, over strides 1 and 2, widths 1 to
 * NNL_PAD_PLANE_MAX (as its limits allow), pads 0 to 3 and a first phase
 * row of 0 or 1 (a band), writing nothing past its planes. */
static void test_pad_plane(void **state) {
    (void)state;
    enum { GUARD = 64 };
    float *x = malloc(40 * NNL_PAD_PLANE_MAX * sizeof *x);
    float *d = malloc((4 * 40 * NNL_PAD_PLANE_MAX + GUARD) * sizeof *d);
    assert_true(x && d);
    for (int i = 0; i < 40 * NNL_PAD_PLANE_MAX; i++) x[i] = (float)(i + 1);
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported() || !kern->pad_plane) continue;
        for (int s = 1; s <= 2; s++)
            for (int h = 1; h <= 30; h += 3)
                for (int w = 1; w <= NNL_PAD_PLANE_MAX; w++)
                    for (int pad = 0; pad < 16; pad++) {
                        const int64_t pt = pad % 4, pl = (pad / 4 + w) % 4, pb = pad % 3, pr = pad / 4 % 3,
                                      r0 = pad % 2;
                        const int64_t hp = (pt + h + pb + s - 1) / s - r0, wp = (pl + w + pr + s - 1) / s;
                        if (hp < 1 || s * wp > NNL_PAD_PLANE_MAX || (s == 1 && pl + w > wp)) continue;
                        const int64_t n = s * s * hp * wp;
                        for (int64_t i = 0; i < n + GUARD; i++) d[i] = -7.0f;
                        kern->pad_plane(d, x, h, w, pt, pl, r0, hp, wp, s);
                        for (int64_t i = 0; i < n + GUARD; i++) {
                            float want = -7.0f;
                            if (i < n) {
                                const int64_t ph = i / (hp * wp), ry = ph / s, rx = ph % s;
                                const int64_t y = (r0 + i / wp % hp) * s + ry - pt, c = i % wp * s + rx - pl;
                                want = y >= 0 && y < h && c >= 0 && c < w ? x[y * w + c] : 0.0f;
                            }
                            if (d[i] != want)
                                fail_msg("%s pad_plane s %d h %d w %d pads %lld %lld r0 %lld: element %lld is %g, "
                                         "want %g", kern->name, s, h, w, (long long)pt, (long long)pl, (long long)r0,
                                         (long long)i, d[i], want);
                        }
                    }
    }
    free(x);
    free(d);
}

/* Each set's h2f equals nnl_half_to_float bit for bit on all 65536
 * halves, at every length and misalignment around its vector width, never
 * writing past n. */
static void test_h2f(void **state) {
    (void)state;
    enum { N = 65536 };
    uint16_t *x = malloc(N * sizeof *x);
    float *y = malloc((N + 64) * sizeof *y);
    assert_true(x && y);
    for (uint32_t i = 0; i < N; i++) x[i] = (uint16_t)(i * 40503u); /* a permutation: odd multiplier */
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        kern->h2f(y, x, N);
        for (uint32_t i = 0; i < N; i++) {
            float want = nnl_half_to_float(x[i]);
            if (memcmp(&y[i], &want, 4) != 0)
                fail_msg("%s h2f(0x%04x) = %.9g, want %.9g", kern->name, x[i], y[i], want);
        }
        for (int off = 0; off < 3; off++)
            for (int n = 0; n <= 40; n++) {
                for (int i = 0; i < n + 16; i++) y[i] = -7.0f;
                kern->h2f(y + off, x + 1000 + off, n);
                for (int i = 0; i < n + 16; i++) {
                    float want = i >= off && i < off + n ? nnl_half_to_float(x[1000 + i]) : -7.0f;
                    if (memcmp(&y[i], &want, 4) != 0)
                        fail_msg("%s h2f n %d offset %d: element %d is %.9g, want %.9g", kern->name, n, off, i,
                                 y[i], want);
                }
            }
    }
    free(x);
    free(y);
}

static void test_kernel_table(void **state) {
    (void)state;
    assert_non_null(nnl_kernel_find("scalar"));
    assert_null(nnl_kernel_find("bogus"));
    assert_null(nnl_kernel_find(NULL));
    /* main() set NNL_ISA=scalar before the first choice */
    assert_string_equal(nnl_kernel_get()->name, "scalar");
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *k = nnl_kernels[ki];
        assert_true(k->nr % 8 == 0 && k->nr <= NNL_NR_MAX && k->nc % k->nr == 0 && k->kc > 0);
        printf("kernel %-7s %s\n", k->name, k->supported() ? "supported" : "not supported here");
    }
}

/* `test_kernels --list-isa`: the kernel sets this CPU supports, one per
 * line, the one an unforced run uses (nnl_kernel_get) marked with " *".
 * tests/run_all.sh runs the op tests once on each, so a set added to the
 * kernel table is tested without editing the script. */
static int list_isa(void) {
    for (int ki = 0; nnl_kernels[ki]; ki++)
        if (nnl_kernels[ki]->supported())
            printf("%s%s\n", nnl_kernels[ki]->name, nnl_kernels[ki] == nnl_kernel_get() ? " *" : "");
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--list-isa") == 0) return list_isa();
    /* every test here takes its kernel set from nnl_kernels[] explicitly;
     * the choice of the library (nnl_kernel_get) is pinned to scalar */
    setenv("NNL_ISA", "scalar", 1);
    for (int t = 0; t < 2; t++) ts[t] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    if (nnl_pool_create(2, &pool2)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_table),
        cmocka_unit_test(test_half_scalar),
        cmocka_unit_test(test_h2f),
        cmocka_unit_test(test_split2),
        cmocka_unit_test(test_pad_plane),
        cmocka_unit_test(test_dwc),
        cmocka_unit_test(test_conv_ksplit),
        cmocka_unit_test(test_tukr),
        cmocka_unit_test(test_tile_t),
        cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_softmax_rows),
        cmocka_unit_test(test_layernorm_rows),
        cmocka_unit_test(test_qadd),
        cmocka_unit_test(test_quant),
        cmocka_unit_test(test_pack_a8_layout),
        cmocka_unit_test(test_act_rows),
        cmocka_unit_test(test_pack_a8t_layout),
        cmocka_unit_test(test_gemv_split),
        cmocka_unit_test(test_erf),
        cmocka_unit_test(test_gemm_k_zero),
        cmocka_unit_test(test_gemm_small_split),
        cmocka_unit_test(test_gemm_tall),
        cmocka_unit_test(test_gemm_epilogues),
        cmocka_unit_test(test_gemm_shapes),
        cmocka_unit_test(test_conv_cases),
        cmocka_unit_test(test_conv_in_place),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    nnl_pool_free(pool2);
    nnl_aligned_free(ts[0]);
    nnl_aligned_free(ts[1]);
    return r;
}
