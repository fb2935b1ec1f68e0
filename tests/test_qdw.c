/*
 * 8-bit depthwise convolution (kernels/qdw.h): every kernel set this CPU
 * runs, through nnl_qdw2d's driver at 1 and 2 threads, against
 * nnl_qdw2d_ref byte for byte, over strides 1-3, dilations, pads wider
 * than the kernel, asymmetric pads, rectangular kernels, planes from 1x1
 * to wider than a kernel block, uint8 / int8 on both sides, nonzero zero
 * points, fused clamps and saturating extremes.  The reference itself is
 * checked against a double-precision dequantize -> conv -> quantize.
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

#include "kernels/qdw.h"

static void *ts[2];
static nnl_pool *pool2;

typedef struct dcase {
    int64_t n, c, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
} dcase;

static const dcase cases[] = {
    /* n  c   h    w  kh kw sh sw dh dw pt pl pb pr */
    {1, 8, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},    /* MobileNet 3x3 */
    {1, 5, 17, 23, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},    /* stride 2, odd sizes */
    {2, 3, 40, 45, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},    /* 5x5, batch 2, rows past a block */
    {1, 4, 21, 19, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2},    /* 5x5 stride 2 */
    {1, 3, 12, 14, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},    /* dilation 2 */
    {1, 3, 13, 11, 3, 3, 2, 1, 3, 2, 3, 2, 1, 2},    /* mixed stride / dilation, asymmetric */
    {1, 2, 9, 10, 3, 5, 3, 3, 1, 1, 0, 2, 1, 0},     /* stride 3, rectangular kernel */
    {1, 6, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},      /* a 1x1 plane: padding only around it */
    {1, 3, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},      /* 4x4 output */
    {1, 2, 4, 4, 2, 2, 1, 1, 1, 1, 3, 3, 3, 3},      /* pads wider than the kernel: all-pad outputs */
    {1, 40, 14, 14, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1},   /* 40 planes, pads at the end only */
    {1, 2, 3, 100, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3},    /* conv1d-shaped */
    {1, 20, 8, 8, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0},     /* the last row and column read by no output */
    {1, 17, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},     /* 7x7, 17 channels: a block of one */
};

typedef struct dmode {
    bool xs, ys, bias, per_tensor;
    int32_t xzp, yzp, ymin, ymax;
} dmode;

static const dmode modes[] = {
    {false, false, true, false, 131, 7, 0, 255},   /* uint8 -> uint8 */
    {true, false, true, true, -9, 0, 0, 255},      /* int8 -> uint8, fused Relu, one weight scale */
    {false, true, false, false, 0, -5, -60, 90},   /* uint8 -> int8, fused Clip, no bias */
    {true, true, true, false, 100, 12, 12, 127},   /* int8 -> int8, Relu at zy */
};

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

typedef struct ddata {
    nnl_conv_params p;
    nnl_qdw_args a;
    int64_t nx, ny;
} ddata;

/* xfill / wfill in range make every x byte / weight that value. */
static void ddata_make(ddata *d, const dcase *cc, const dmode *m, int xfill, int wfill, uint32_t seed) {
    memset(d, 0, sizeof *d);
    nnl_conv_params *p = &d->p;
    *p = (nnl_conv_params){.n = cc->n, .c = cc->c, .h = cc->h, .w = cc->w, .oc = cc->c, .kh = cc->kh,
                           .kw = cc->kw, .group = cc->c, .sh = cc->sh, .sw = cc->sw, .dh = cc->dh,
                           .dw = cc->dw, .pt = cc->pt, .pl = cc->pl, .pb = cc->pb, .pr = cc->pr};
    p->oh = (p->h + p->pt + p->pb - (p->kh - 1) * p->dh - 1) / p->sh + 1;
    p->ow = (p->w + p->pl + p->pr - (p->kw - 1) * p->dw - 1) / p->sw + 1;
    d->nx = p->n * p->c * p->h * p->w;
    d->ny = p->n * p->c * p->oh * p->ow;
    int64_t nw = p->c * p->kh * p->kw;
    uint8_t *x = malloc((size_t)d->nx + 1);
    int8_t *w = malloc((size_t)nw + 1);
    float *sc = malloc((size_t)p->c * sizeof(float));
    int32_t *bias = m->bias ? malloc((size_t)p->c * sizeof(int32_t)) : NULL;
    assert_true(x && w && sc);
    for (int64_t i = 0; i < d->nx; i++) x[i] = (uint8_t)(xfill >= 0 ? xfill : (int)(lcg(&seed) & 0xFF));
    for (int64_t i = 0; i < nw; i++) w[i] = (int8_t)(wfill >= -128 ? wfill : (int)(lcg(&seed) & 0xFF) - 128);
    for (int64_t c = 0; c < p->c; c++) {
        sc[c] = 0.002f + (float)(lcg(&seed) % 1000) * 1e-5f;
        if (bias) bias[c] = (int32_t)(lcg(&seed) % 20001) - 10000;
    }
    /* an output scale that spreads random sums over about +-60 steps */
    float sx = 0.02f, sy = sx * 0.007f * 74.0f * 74.0f * sqrtf((float)(p->kh * p->kw)) / 60.0f;
    d->a = (nnl_qdw_args){.x = x, .x_signed = m->xs, .x_zp = m->xzp, .x_scale = sx, .w = w, .w_scale = sc,
                          .w_scale_per_tensor = m->per_tensor, .bias = bias, .y_signed = m->ys, .y_zp = m->yzp,
                          .y_scale = sy, .y_min = m->ymin, .y_max = m->ymax};
}

static void ddata_free(ddata *d) {
    free((void *)d->a.x);
    free((void *)d->a.w);
    free((void *)d->a.w_scale);
    free((void *)d->a.bias);
}

enum { GUARD = 64 };

static void check_all(ddata *d, const char *what) {
    uint8_t *want = malloc((size_t)d->ny + 1), *got = malloc((size_t)d->ny + GUARD);
    assert_true(want && got);
    d->a.y = want;
    nnl_qdw2d_ref(&d->p, &d->a);
    d->a.y = got;
    assert_true(nnl_qdw_ok(&d->p));
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *k = nnl_kernels[ki];
        if (!k->supported()) continue;
        for (int threads = 1; threads <= 2; threads++) {
            memset(got, 0xA5, (size_t)d->ny + GUARD);
            assert_int_equal(nnl_qdw2d(&d->p, &d->a, k, threads == 2 ? pool2 : NULL, ts), NNL_OK);
            for (int64_t i = 0; i < d->ny; i++)
                if (got[i] != want[i])
                    fail_msg("%s, set %s, %d thread(s): byte %lld got %d want %d", what, k->name, threads,
                             (long long)i, got[i], want[i]);
            for (int i = 0; i < GUARD; i++)
                if (got[d->ny + i] != 0xA5) fail_msg("%s, set %s: wrote past y", what, k->name);
        }
    }
    free(want);
    free(got);
}

static void test_qdw_shapes(void **state) {
    (void)state;
    char what[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            ddata d;
            ddata_make(&d, &cases[i], &modes[m], -1, -1000, (uint32_t)(31 * i + m));
            snprintf(what, sizeof what, "case %zu mode %zu", i, m);
            check_all(&d, what);
            ddata_free(&d);
        }
}

/* Every product at its largest magnitude, all of one sign (sums far past
 * int16), with multipliers small enough that part of the output is not
 * clamped. */
static void test_qdw_extremes(void **state) {
    (void)state;
    static const int xv[] = {255, 0, 128};
    static const int wv[] = {-128, 127};
    char what[64];
    for (size_t m = 0; m < sizeof modes / sizeof *modes; m++)
        for (size_t xi = 0; xi < sizeof xv / sizeof *xv; xi++)
            for (size_t wi = 0; wi < sizeof wv / sizeof *wv; wi++) {
                ddata d;
                ddata_make(&d, &cases[2], &modes[m], xv[xi], wv[wi], 7);
                d.a.y_scale = d.a.x_scale * 0.007f * 255.0f * 128.0f * 25.0f / 200.0f;
                snprintf(what, sizeof what, "extremes mode %zu x %d w %d", m, xv[xi], wv[wi]);
                check_all(&d, what);
                ddata_free(&d);
            }
}

/* The reference against dequantize -> conv in double -> quantize: one
 * step at most apart (float32 multiplier vs double). */
static void test_qdw_ref(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const dmode *m = &modes[i % 4];
        ddata d;
        ddata_make(&d, &cases[i], m, -1, -1000, (uint32_t)(5 * i + 3));
        const nnl_conv_params *p = &d.p;
        uint8_t *y = malloc((size_t)d.ny + 1);
        d.a.y = y;
        nnl_qdw2d_ref(p, &d.a);
        const uint8_t *xb = d.a.x;
        for (int64_t n = 0; n < p->n; n++)
            for (int64_t c = 0; c < p->c; c++)
                for (int64_t oy = 0; oy < p->oh; oy++)
                    for (int64_t ox = 0; ox < p->ow; ox++) {
                        double sw = d.a.w_scale[m->per_tensor ? 0 : c];
                        double s = d.a.bias ? (double)d.a.bias[c] * d.a.x_scale * sw : 0.0;
                        for (int64_t ky = 0; ky < p->kh; ky++)
                            for (int64_t kx = 0; kx < p->kw; kx++) {
                                int64_t iy = oy * p->sh - p->pt + ky * p->dh, ix = ox * p->sw - p->pl + kx * p->dw;
                                if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
                                uint8_t b = xb[((n * p->c + c) * p->h + iy) * p->w + ix];
                                int xv = m->xs ? (int8_t)b : b;
                                s += (double)(xv - m->xzp) * d.a.x_scale * d.a.w[(c * p->kh + ky) * p->kw + kx] * sw;
                            }
                        double q = nearbyint(s / d.a.y_scale) + m->yzp;
                        q = q < m->ymin ? m->ymin : q > m->ymax ? m->ymax : q;
                        int64_t yi = ((n * p->c + c) * p->oh + oy) * p->ow + ox;
                        int got = m->ys ? (int8_t)y[yi] : y[yi];
                        if (fabs(got - q) > 1.0)
                            fail_msg("reference case %zu element %lld: %d, dequantized conv gives %g", i,
                                     (long long)yi, got, q);
                    }
        free(y);
        ddata_free(&d);
    }
}

/* Geometries the kernel does not take are refused, not run. */
static void test_qdw_refused(void **state) {
    (void)state;
    nnl_conv_params p = {.n = 1, .c = 8, .h = 8, .w = 8, .oc = 16, .kh = 3, .kw = 3, .group = 8, .sh = 1, .sw = 1,
                         .dh = 1, .dw = 1, .oh = 6, .ow = 6};
    assert_false(nnl_qdw_ok(&p)); /* two outputs a group */
    p.oc = 8;
    assert_true(nnl_qdw_ok(&p));
    p.sh = 17;
    p.oh = 1;
    assert_false(nnl_qdw_ok(&p)); /* more phases than the grid takes */
    nnl_qdw_args a = {0};
    assert_int_equal(nnl_qdw2d(&p, &a, NULL, NULL, ts), NNL_ERR_UNSUPPORTED);
}

static int setup(void **state) {
    (void)state;
    ts[0] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    ts[1] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    return ts[0] && ts[1] && nnl_pool_create(2, &pool2) == NNL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    nnl_pool_free(pool2);
    nnl_aligned_free(ts[0]);
    nnl_aligned_free(ts[1]);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qdw_ref),
        cmocka_unit_test(test_qdw_refused),
        cmocka_unit_test(test_qdw_shapes),
        cmocka_unit_test(test_qdw_extremes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
