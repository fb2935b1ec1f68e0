/*
 * Winograd F(4x4, 3x3) conv (kernels/wino.h): every kernel set this CPU
 * supports, threaded and inline, against a direct double-precision conv
 * on the plain weight: odd sizes, dilations 1/2/4 (phase sub-grids of
 * unequal size), asymmetric pads, partial tiles, outputs smaller than one
 * tile, batch > 1, several tile blocks, bias + residual + activation.
 * The error bound is relative to the sum of |terms| of each output (the
 * scale float32 rounding works on), and the worst case is reported.
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

#include "kernels/wino.h"

static void *ts[2];
static nnl_pool *pool2;

typedef struct wcase {
    int64_t n, c, h, w, oc;
    int64_t dh, dw, pt, pl, pb, pr;
    bool bias, res;
    nnl_act act;
} wcase;

static nnl_conv_params params(const wcase *k) {
    nnl_conv_params p = {.n = k->n, .c = k->c, .h = k->h, .w = k->w, .oc = k->oc, .kh = 3, .kw = 3, .group = 1,
                         .sh = 1, .sw = 1, .dh = k->dh, .dw = k->dw, .pt = k->pt, .pl = k->pl, .pb = k->pb,
                         .pr = k->pr};
    p.oh = k->h + k->pt + k->pb - 2 * k->dh;
    p.ow = k->w + k->pl + k->pr - 2 * k->dw;
    return p;
}

/* Worst |got - want| / (1 + sum|terms|) of one case on one kernel set,
 * the weight stored as WINO43 (a8 false) or as PACK_A8 and transformed
 * on the fly (a8 true). */
static double run_case_on(const wcase *k, const nnl_kernel *kern, nnl_pool *pool, bool a8) {
    nnl_conv_params p = params(k);
    assert_true(p.oh > 0 && p.ow > 0);
    assert_true(nnl_wino_ok(&p));
    int64_t xn = p.n * p.c * p.h * p.w, yn = p.n * p.oc * p.oh * p.ow, wn = p.oc * p.c * 9;
    float *x = rnd(xn, 1), *w = rnd(wn, 2), *b = rnd(p.oc, 3), *r = rnd(yn, 4), *y = rnd(yn, 5);
    int64_t wdims[4] = {p.oc, p.c, 3, 3};
    float *u = nnl_aligned_alloc(a8 ? (size_t)nnl_pack_a8_bytes(4, wdims) : (size_t)nnl_wino_bytes(p.oc, p.c));
    assert_non_null(u);
    if (a8)
        nnl_pack_a8(u, w, p.oc, p.c * 9);
    else
        nnl_wino_pack(u, w, p.oc, p.c);
    size_t sb = nnl_wino_scratch_bytes(&p);
    void *scratch = nnl_aligned_alloc(sb);
    assert_non_null(scratch);
    nnl_conv_args a = {.x = x, .w = u, .w_layout = a8 ? NNL_LAYOUT_PACK_A8 : NNL_LAYOUT_WINO43, .bias = k->bias ? b : NULL,
                       .res = k->res ? r : NULL, .y = y, .act = k->act, .act_a = 0.1f, .act_b = 0.5f,
                       .scratch = scratch, .scratch_bytes = sb};
    /* nnl_conv2d picks Winograd for PACK_A8 only by nnl_wino_auto */
    assert_int_equal(a8 ? nnl_wino_conv(&p, &a, kern, pool, ts) : nnl_conv2d(&p, &a, kern, pool, ts), NNL_OK);
    double worst = 0;
    for (int64_t i = 0; i < p.n; i++)
        for (int64_t o = 0; o < p.oc; o++)
            for (int64_t oy = 0; oy < p.oh; oy++)
                for (int64_t ox = 0; ox < p.ow; ox++) {
                    double s = k->bias ? b[o] : 0, mag = fabs(s);
                    for (int64_t c = 0; c < p.c; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int64_t iy = oy - p.pt + ky * p.dh, ix = ox - p.pl + kx * p.dw;
                                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
                                double t = (double)x[((i * p.c + c) * p.h + iy) * p.w + ix] *
                                           w[((o * p.c + c) * 3 + ky) * 3 + kx];
                                s += t;
                                mag += fabs(t);
                            }
                    int64_t at = ((i * p.oc + o) * p.oh + oy) * p.ow + ox;
                    if (k->res) {
                        s += r[at];
                        mag += fabs(r[at]);
                    }
                    if (k->act == NNL_ACT_RELU) s = s < 0 ? 0 : s;
                    if (k->act == NNL_ACT_LEAKYRELU) s = s < 0 ? 0.1 * s : s;
                    double e = fabs(y[at] - s) / (1.0 + mag);
                    if (!(e <= 1.0)) fail_msg("element %lld: got %g want %g", (long long)at, y[at], s);
                    if (e > worst) worst = e;
                }
    nnl_aligned_free(x);
    nnl_aligned_free(w);
    nnl_aligned_free(b);
    nnl_aligned_free(r);
    nnl_aligned_free(y);
    nnl_aligned_free(u);
    nnl_aligned_free(scratch);
    return worst;
}

static double run_case(const wcase *k, const nnl_kernel *kern, nnl_pool *pool) {
    double e1 = run_case_on(k, kern, pool, false), e2 = run_case_on(k, kern, pool, true);
    return e1 > e2 ? e1 : e2;
}

/* F(4, 3) in float32 rounds more than direct summation (transform
 * entries up to 8 and 16/15); measured worst here about 9e-7 of the term
 * magnitude on every kernel set.  5e-6 leaves room for other compilers'
 * contraction choices while a wrong tap, tile or coefficient shows as
 * 1e-3 or more. */
#define WINO_TOL 5e-6

static const wcase cases[] = {
    /* n, c, h, w, oc, dh, dw, pt, pl, pb, pr, bias, res, act */
    {1, 1, 6, 6, 1, 1, 1, 0, 0, 0, 0, false, false, NNL_ACT_NONE},     /* one exact tile */
    {1, 3, 7, 9, 5, 1, 1, 1, 1, 1, 1, true, false, NNL_ACT_NONE},      /* partial tiles, OC < 8 */
    {2, 17, 13, 11, 19, 1, 1, 1, 0, 2, 1, true, true, NNL_ACT_RELU},   /* batch, odd pads */
    {1, 9, 3, 3, 10, 1, 1, 1, 1, 1, 1, true, true, NNL_ACT_LEAKYRELU}, /* output 3x3 < one tile */
    {1, 8, 1, 1, 8, 1, 1, 1, 1, 1, 1, false, false, NNL_ACT_NONE},     /* 1x1 input */
    {1, 16, 20, 22, 24, 2, 2, 2, 2, 2, 2, true, true, NNL_ACT_RELU},   /* dilation 2 */
    {1, 12, 19, 21, 9, 2, 2, 2, 2, 2, 2, true, false, NNL_ACT_NONE},   /* dilation 2, odd phases */
    {1, 16, 32, 48, 16, 4, 4, 4, 4, 4, 4, true, true, NNL_ACT_RELU},   /* FCN layer4 geometry */
    {1, 5, 11, 14, 7, 4, 4, 4, 4, 4, 4, false, true, NNL_ACT_NONE},    /* dilation 4, uneven phases */
    {1, 6, 9, 10, 6, 2, 4, 3, 0, 1, 5, true, false, NNL_ACT_NONE},     /* dh != dw, asymmetric pads */
    {1, 4, 5, 5, 4, 4, 4, 4, 4, 4, 4, true, true, NNL_ACT_NONE},       /* more phases than rows */
    {1, 33, 37, 41, 40, 1, 1, 1, 1, 1, 1, true, true, NNL_ACT_RELU},   /* several 16-tile groups */
    {1, 8, 34, 66, 9, 1, 1, 0, 0, 0, 0, true, false, NNL_ACT_NONE},    /* groups of 16 interior tiles */
    {2, 7, 36, 68, 8, 2, 2, 0, 0, 0, 0, false, true, NNL_ACT_RELU},    /* the same, dilation 2 */
    /* > 64 input channels (several weight-transform chunks) and > 64
     * outputs (several tasks, the last one partial, OC % 8 != 0) */
    {1, 150, 14, 15, 133, 1, 1, 1, 1, 1, 1, true, true, NNL_ACT_RELU},
    /* the fused blocks (U and a block's V + M within L2, one image, unit
     * dilation): blocks of 48 tiles across tile rows (11 a row), partial
     * tiles at the right and bottom, a last block of 25; 64 channels */
    {1, 48, 42, 41, 56, 1, 1, 1, 1, 1, 1, true, true, NNL_ACT_RELU},
    {1, 64, 23, 57, 64, 1, 1, 0, 2, 1, 0, false, true, NNL_ACT_NONE},
    {1, 70, 13, 18, 72, 2, 2, 2, 2, 2, 2, true, false, NNL_ACT_NONE},
};

static void test_wino_cases(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        double worst = 0;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            for (int threaded = 0; threaded < 2; threaded++) {
                double e = run_case(&cases[i], kern, threaded ? pool2 : NULL);
                if (!(e <= WINO_TOL)) fail_msg("%s case %zu: error %.3g > %.3g", kern->name, i, e, WINO_TOL);
                if (e > worst) worst = e;
            }
        }
        print_message("winograd %s: worst error %.3g of the term magnitude\n", kern->name, worst);
    }
}

/* Enough channels that one block cannot hold every tile: the tile loop
 * runs several blocks, the last one partial. */
static void test_wino_blocks(void **state) {
    (void)state;
    wcase k = {1, 1024, 90, 90, 8, 1, 1, 1, 1, 1, 1, true, true, NNL_ACT_RELU};
    nnl_conv_params p = params(&k);
    /* V + M of all 23^2 tiles would be 36 * 1032 * 529 floats = 79 MB */
    int64_t tiles = ((p.oh + 3) / 4) * ((p.ow + 3) / 4);
    assert_true(nnl_wino_scratch_bytes(&p) < (size_t)(36 * 1032 * tiles) * sizeof(float));
    double e = run_case(&k, nnl_kernel_get(), pool2);
    assert_true(e <= WINO_TOL);
}

/* Each set's wino_in_runs against its wino_in on the same patches
 * gathered: one run of 16, runs split across tile rows, a run of one,
 * lanes left past the runs (zeros), bit for bit. */
static void test_wino_in_runs(void **state) {
    (void)state;
    enum { PS = 120, ROWS = 16 };
    static float plane[ROWS * PS + 96];
    for (int i = 0; i < ROWS * PS + 96; i++) plane[i] = (float)((i * 7919) % 1013) / 97.0f - 5.0f;
    /* runs: lanes, tiles, patch origin (row, column) */
    static const int cfg[][4][4] = {
        {{0, 16, 0, 0}},
        {{0, 5, 2, 36}, {5, 11, 6, 0}},
        {{0, 1, 10, 8}, {1, 7, 4, 12}, {8, 8, 0, 4}},
        {{0, 3, 1, 1}},
    };
    static const int counts[] = {1, 2, 3, 1};
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
            nnl_wino_runs r = {.count = counts[ci], .ps = PS};
            float d[36 * 16] = {0}, want[36 * 16], got[36 * 16];
            for (int q = 0; q < r.count; q++) {
                const int *c = cfg[ci][q];
                r.l0[q] = c[0];
                r.p[q] = plane + c[2] * PS + c[3];
                r.covered = c[0] + c[1];
                for (int k = 0; k < c[1]; k++)
                    for (int e = 0; e < 36; e++) d[e * 16 + c[0] + k] = r.p[q][e / 6 * PS + 4 * k + e % 6];
            }
            kern->wino_in(want, 16, d);
            memset(got, 0xff, sizeof got);
            kern->wino_in_runs(got, 16, &r);
            for (int i = 0; i < 36 * 16; i++)
                if (memcmp(&got[i], &want[i], sizeof got[i]))
                    fail_msg("%s wino_in_runs config %zu: point %d lane %d got %.9g want %.9g", kern->name, ci,
                             i / 16, i % 16, got[i], want[i]);
        }
    }
}

/* n floats rounded to float16 values in place; the halves into h. */
static void to_half(float *f, uint16_t *h, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        h[i] = nnl_double_to_half(f[i]);
        f[i] = nnl_half_to_float(h[i]);
    }
}

/* A float16 weight (compile --weights fp16), stored WINO43 (a8 false) or
 * PACK_A8 and transformed on the fly (a8 true), widened in the driver:
 * the output must equal bit for bit the float32 run on the same values,
 * since the widening is exact and the products run in the same order. */
static void run_half_on(const wcase *k, const nnl_kernel *kern, nnl_pool *pool, bool a8) {
    nnl_conv_params p = params(k);
    int64_t yn = p.n * p.oc * p.oh * p.ow, wn = p.oc * p.c * 9;
    float *x = rnd(p.n * p.c * p.h * p.w, 1), *w = rnd(wn, 2), *b = rnd(p.oc, 3), *r = rnd(yn, 4);
    float *y32 = rnd(yn, 5), *y16 = rnd(yn, 6);
    int64_t wdims[4] = {p.oc, p.c, 3, 3};
    size_t un = (a8 ? (size_t)nnl_pack_a8_bytes(4, wdims) : (size_t)nnl_wino_bytes(p.oc, p.c)) / sizeof(float);
    float *u = nnl_aligned_alloc(un * sizeof(float));
    uint16_t *uh = nnl_aligned_alloc(un * sizeof(uint16_t));
    assert_true(u && uh);
    if (a8)
        nnl_pack_a8(u, w, p.oc, p.c * 9);
    else
        nnl_wino_pack(u, w, p.oc, p.c);
    to_half(u, uh, (int64_t)un);
    size_t sb = nnl_wino_scratch_bytes(&p);
    void *scratch = nnl_aligned_alloc(sb);
    assert_non_null(scratch);
    nnl_conv_args a = {.x = x, .w = u, .w_layout = a8 ? NNL_LAYOUT_PACK_A8 : NNL_LAYOUT_WINO43,
                       .bias = k->bias ? b : NULL, .res = k->res ? r : NULL, .y = y32, .act = k->act,
                       .act_a = 0.1f, .act_b = 0.5f, .scratch = scratch, .scratch_bytes = sb};
    assert_int_equal(nnl_wino_conv(&p, &a, kern, pool, ts), NNL_OK);
    a.w = NULL;
    a.wh = uh;
    a.y = y16;
    assert_int_equal(nnl_wino_conv(&p, &a, kern, pool, ts), NNL_OK);
    for (int64_t i = 0; i < yn; i++)
        if (memcmp(&y16[i], &y32[i], sizeof(float)) != 0)
            fail_msg("%s float16 %s: element %lld: %.9g, float32 run on the same values %.9g", kern->name,
                     a8 ? "PACK_A8" : "WINO43", (long long)i, y16[i], y32[i]);
    nnl_aligned_free(x);
    nnl_aligned_free(w);
    nnl_aligned_free(b);
    nnl_aligned_free(r);
    nnl_aligned_free(y32);
    nnl_aligned_free(y16);
    nnl_aligned_free(u);
    nnl_aligned_free(uh);
    nnl_aligned_free(scratch);
}

static void test_wino_half(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *kern = nnl_kernels[ki];
        if (!kern->supported()) continue;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
            for (int a8 = 0; a8 < 2; a8++) run_half_on(&cases[i], kern, i % 2 ? pool2 : NULL, a8);
    }
}

/* The layout: size, panel placement of U, zero padding rows. */
static void test_wino_layout(void **state) {
    (void)state;
    int64_t dims[4] = {10, 3, 3, 3};
    nnl_tensor t = {.dtype = NNL_DT_FLOAT, .rank = 4, .layout = NNL_LAYOUT_WINO43};
    memcpy(t.dims, dims, sizeof dims);
    assert_int_equal(nnl_tensor_nbytes(&t), nnl_wino_bytes(10, 3));
    assert_int_equal(nnl_wino_bytes(10, 3), 36 * 16 * 3 * sizeof(float));
    float w[10 * 3 * 9] = {0};
    /* the centre tap only: U = 36 * G[:, 1] G[:, 1]^T */
    w[(9 * 3 + 2) * 9 + 4] = 36.0f; /* o = 9, i = 2 */
    float *u = nnl_aligned_alloc((size_t)nnl_wino_bytes(10, 3));
    assert_non_null(u);
    nnl_wino_pack(u, w, 10, 3);
    int64_t P = 16 * 3;
    for (int xi = 0; xi < 36; xi++)
        for (int64_t j = 0; j < P; j++) {
            float v = u[xi * P + j];
            int64_t panel = j / (3 * 8), i = j / 8 % 3, o = panel * 8 + j % 8;
            float want = 0.0f;
            if (o == 9 && i == 2) {
                static const double g1[6] = {0, -1.0 / 3, -1.0 / 3, 2.0 / 15, 8.0 / 15, 0};
                want = (float)(36.0 * g1[xi / 6] * g1[xi % 6]);
            }
            if (fabsf(v - want) > 1e-6f)
                fail_msg("xi %d o %lld i %lld: %g want %g", xi, (long long)o, (long long)i, v, want);
        }
    nnl_aligned_free(u);
}

static int setup(void **state) {
    (void)state;
    for (int i = 0; i < 2; i++) ts[i] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    return nnl_pool_create(2, &pool2) == NNL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    nnl_pool_free(pool2);
    for (int i = 0; i < 2; i++) nnl_aligned_free(ts[i]);
    return 0;
}

int main(void) {
    if (isa_check_forced()) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wino_layout),
        cmocka_unit_test(test_wino_in_runs),
        cmocka_unit_test(test_wino_half),
        cmocka_unit_test(test_wino_cases),
        cmocka_unit_test(test_wino_blocks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
