/*
 * 8-bit convolution (kernels/qconv.h): every int8 microkernel of every
 * kernel set this CPU runs, through nnl_qconv2d's driver, against
 * nnl_qconv2d_ref, byte for byte, on shapes that hit every tail (K not a
 * multiple of 4, rows not a multiple of 8, pixels not a multiple of the
 * panel, several K blocks, several row and pixel tasks), every im2col case
 * (1x1, pads, strides, dilations, groups), uint8 / int8 on both sides,
 * nonzero zero points, fused clamps, saturating extremes, 1 and 2 threads;
 * small maps where the driver takes transposed tiles (nnl_qukr.tfn), and
 * each transposed tile call by call against the scalar one.
 * The reference itself is checked against a plain double-precision
 * dequantize -> conv -> quantize on the unpacked weights.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "kernels/qconv.h"
#include "kernels/qwino.h"

static void *ts[2];
static nnl_pool *pool2;

typedef struct qcase {
    int64_t n, c, h, w, oc, kh, kw, group, sh, sw, dh, dw, pt, pl, pb, pr;
} qcase;

static const qcase cases[] = {
    /* n  c   h   w   oc kh kw  g sh sw dh dw pt pl pb pr */
    {1, 64, 14, 14, 64, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},   /* pointwise */
    {2, 13, 9, 11, 17, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},    /* pointwise, K 13, OC 17, batch 2 */
    {1, 13, 11, 11, 17, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},   /* 1x1 stride 2 */
    {1, 8, 8, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* 1x1 with padding */
    {1, 16, 17, 23, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* 3x3 pad 1 */
    {1, 7, 20, 31, 9, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1},     /* stride 2, K 63 */
    {1, 6, 19, 22, 10, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2},    /* dilation 2 */
    {1, 6, 19, 22, 10, 3, 3, 1, 1, 2, 2, 3, 2, 3, 2, 3},    /* mixed stride and dilation */
    {1, 3, 40, 44, 16, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3},    /* ResNet stem, K 147 */
    {1, 5, 10, 12, 8, 3, 5, 1, 1, 2, 1, 1, 0, 2, 1, 0},     /* asymmetric pads, rect kernel */
    {1, 16, 12, 12, 32, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},   /* 2 groups of 16 */
    {2, 12, 9, 10, 32, 3, 3, 4, 1, 1, 1, 1, 1, 1, 1, 1},    /* 4 groups of 8, K 27 */
    {1, 300, 6, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* K 2700: several K blocks */
    {1, 5, 30, 200, 9, 1, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1},    /* 6000 pixels: many pixel tasks */
    {1, 32, 7, 7, 600, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* 600 rows: several row tasks */
    {1, 4, 3, 3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* 9 pixels, one partial panel */
    {1, 10, 1, 50, 12, 1, 5, 1, 1, 1, 1, 2, 0, 2, 0, 2},    /* conv1d-shaped */
    {1, 2, 5, 5, 3, 2, 2, 1, 3, 3, 1, 1, 4, 4, 4, 4},       /* pads wider than the kernel: all-pad pixels */
    {1, 128, 7, 9, 256, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* K 1152 */
    /* 2048 rows of 128 quads: avx2exact's int16 weights (nnl_qukr_w16) for that
     * many rows outgrew the thread scratch (FCN's layer4 1x1s failed) */
    {1, 512, 4, 6, 2048, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
    {1, 3, 45, 47, 16, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3},    /* stem, odd sizes */
    {1, 8, 23, 25, 8, 3, 3, 1, 3, 3, 2, 2, 2, 2, 2, 2},     /* stride 3, dilation 2 */
    /* 1000 channels: several K blocks of staged channel quads */
    {1, 1000, 1, 800, 8, 1, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1},
    {1, 1000, 1, 1600, 8, 1, 3, 1, 1, 2, 1, 1, 0, 1, 0, 1},
    /* off the wide grid, the row-by-row im2col gather: three padded rows
     * of 6000 pixels x 128 channels outgrow the thread scratch; a stride
     * of 17 has more phases than the grid takes */
    {1, 128, 1, 6000, 8, 1, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1},
    {1, 6, 40, 41, 8, 17, 17, 1, 17, 17, 1, 1, 0, 0, 0, 0},
    {1, 5, 37, 40, 16, 1, 1, 1, 18, 20, 1, 1, 0, 0, 0, 0},
    /* small maps, output channels in the lanes (transposed tiles): 7x7
     * rows of 7, 14x14 half rows, 10x10 groups across rows, OC not a
     * multiple of 16 (a half vector) or of 8 (a part panel), several K
     * blocks, strides, groups of 16, a batch */
    {1, 64, 7, 7, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 300, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 40, 14, 14, 40, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1},
    {1, 256, 13, 13, 48, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},
    {1, 600, 7, 7, 72, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
    {1, 32, 10, 10, 104, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 64, 7, 7, 64, 3, 3, 4, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 36, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 48, 14, 14, 97, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2},
    /* 8-bit Winograd (3x3 stride 1): several tile blocks and tile rows a
     * block, dilation 4 over odd sizes (phases of unequal size), no pads
     * with odd channels and a batch, several K blocks with dilation 3 */
    {1, 64, 30, 34, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 5, 9, 13, 16, 3, 3, 1, 1, 1, 4, 4, 4, 4, 4, 4},
    {2, 7, 12, 11, 24, 3, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0},
    {1, 130, 11, 10, 56, 3, 3, 1, 1, 1, 3, 3, 3, 3, 3, 3},
    /* a 40x40 map: its K blocks' sums for 320 rows outgrow the thread
     * scratch, so a task takes half the rows */
    {1, 64, 40, 40, 320, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
};

/* Output encodings, cycled over the cases. */
typedef struct qmode {
    bool xs, ys, bias;
    int32_t xzp, yzp, ymin, ymax;
} qmode;

static const qmode modes[] = {
    {false, false, true, 131, 7, 0, 255},      /* uint8 -> uint8 */
    {true, false, true, -9, 0, 0, 255},        /* int8 -> uint8, fused Relu (zy = 0) */
    {false, true, false, 0, -5, -60, 90},      /* uint8 -> int8, fused Clip */
    {true, true, true, 100, 12, 12, 127},      /* int8 -> int8, Relu at zy */
};

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void params_of(const qcase *cc, nnl_conv_params *p) {
    *p = (nnl_conv_params){.n = cc->n, .c = cc->c, .h = cc->h, .w = cc->w, .oc = cc->oc, .kh = cc->kh,
                           .kw = cc->kw, .group = cc->group, .sh = cc->sh, .sw = cc->sw, .dh = cc->dh,
                           .dw = cc->dw, .pt = cc->pt, .pl = cc->pl, .pb = cc->pb, .pr = cc->pr};
    p->oh = (p->h + p->pt + p->pb - (p->kh - 1) * p->dh - 1) / p->sh + 1;
    p->ow = (p->w + p->pl + p->pr - (p->kw - 1) * p->dw - 1) / p->sw + 1;
}

/* One conv's operands.  xfill / wfill >= 0 make every x byte / weight
 * that value (the extremes); else they are random. */
typedef struct qdata {
    nnl_conv_params p;
    nnl_qconv_args a;
    int8_t *w;                 /* plain (oc, c/g, kh, kw) */
    float *scale;
    int64_t nx, ny, kk;
} qdata;

#define GUARD 64

static void qdata_make(qdata *d, const qcase *cc, const qmode *m, int xfill, int wfill, uint32_t seed) {
    memset(d, 0, sizeof *d);
    params_of(cc, &d->p);
    const nnl_conv_params *p = &d->p;
    d->kk = p->c / p->group * p->kh * p->kw;
    d->nx = p->n * p->c * p->h * p->w;
    d->ny = p->n * p->oc * p->oh * p->ow;
    uint8_t *x = malloc((size_t)d->nx + 1);
    d->w = malloc((size_t)(p->oc * d->kk) + 1);
    d->scale = malloc((size_t)p->oc * sizeof(float));
    int32_t *bias = m->bias ? malloc((size_t)p->oc * sizeof(int32_t)) : NULL;
    assert_true(x && d->w && d->scale);
    for (int64_t i = 0; i < d->nx; i++) x[i] = (uint8_t)(xfill >= 0 ? xfill : (int)(lcg(&seed) & 0xFF));
    /* wfill -1001: random 7-bit weights, within [-64, 64] */
    bool w7 = true;
    for (int64_t i = 0; i < p->oc * d->kk; i++) {
        d->w[i] = (int8_t)(wfill >= -128 ? wfill
                           : wfill == -1001 ? (int)(lcg(&seed) % 129) - 64
                                            : (int)(lcg(&seed) & 0xFF) - 128);
        w7 &= d->w[i] >= -64 && d->w[i] <= 64;
    }
    for (int64_t r = 0; r < p->oc; r++) {
        d->scale[r] = 0.002f + (float)(lcg(&seed) % 1000) * 1e-5f;
        if (bias) bias[r] = (int32_t)(lcg(&seed) % 200001) - 100000;
    }
    int64_t dims[4] = {p->oc, p->c / p->group, p->kh, p->kw};
    void *packed = nnl_aligned_alloc((size_t)nnl_pack_q8_bytes(4, dims));
    nnl_pack_q8(packed, d->w, d->scale, p->oc, p->c / p->group, p->kh * p->kw);
    /* an output scale that spreads random sums over about +-60 steps */
    float sx = 0.02f, sy = sx * 0.007f * 74.0f * 74.0f * sqrtf((float)d->kk) / 60.0f;
    d->a = (nnl_qconv_args){.x = x, .x_signed = m->xs, .x_zp = m->xzp, .x_scale = sx, .w = packed, .w7 = w7,
                            .bias = bias,
                            .y_signed = m->ys, .y_zp = m->yzp, .y_scale = sy, .y_min = m->ymin,
                            .y_max = m->ymax};
}

static void qdata_free(qdata *d) {
    free((void *)d->a.x);
    free((void *)d->a.bias);
    nnl_aligned_free((void *)d->a.w);
    free(d->w);
    free(d->scale);
}

static const char *describe(const qdata *d, const char *uk, int threads) {
    static char s[256];
    const nnl_conv_params *p = &d->p;
    snprintf(s, sizeof s, "%s t%d: n%lld c%lld %lldx%lld oc%lld k%lldx%lld g%lld s%lld,%lld d%lld,%lld x%s y%s",
             uk, threads, (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w, (long long)p->oc,
             (long long)p->kh, (long long)p->kw, (long long)p->group, (long long)p->sh, (long long)p->sw,
             (long long)p->dh, (long long)p->dw, d->a.x_signed ? "s8" : "u8", d->a.y_signed ? "s8" : "u8");
    return s;
}

/* Whether this thread's AMX tile state is in use (XINUSE bits 17-18, by
 * XGETBV 1 where CPUID says it reads them; false elsewhere): a kernel that
 * configured tiles must have released them when its tasks are done, so
 * other libraries' AMX code on the thread finds them as they left them. */
static bool tiles_in_use(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d, lo, hi;
    if (!__get_cpuid_count(0xD, 1, &a, &b, &c, &d) || !(a >> 2 & 1)) return false;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    return (lo >> 17 & 3) != 0;
#else
    return false;
#endif
}

/* Cases check_all also ran with the op's shared scratch. */
static int shared_runs;

/* The microkernels run by check_all, for the log. */
static char seen[512];

static void note(const char *set, const char *uk) {
    char item[64];
    snprintf(item, sizeof item, " %s/%s", set, uk);
    if (!strstr(seen, item) && strlen(seen) + strlen(item) < sizeof seen) strcat(seen, item);
}

/* nnl_qconv2d_with on every microkernel of every supported set, 1 and 2
 * threads, equal to the reference in every byte and writing nothing past
 * y. */
static void check_all(qdata *d) {
    uint8_t *want = malloc((size_t)d->ny + 1), *got = malloc((size_t)d->ny + GUARD);
    assert_true(want && got);
    /* the op's shared scratch, as the arena gives it */
    const size_t shared_bytes = nnl_qconv_scratch_bytes(&d->p);
    uint8_t *shared = shared_bytes ? nnl_aligned_alloc(shared_bytes) : NULL;
    if (shared_bytes) assert_non_null(shared), shared_runs++;
    d->a.y = want;
    nnl_qconv2d_ref(&d->p, &d->a);
    d->a.y = got;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *k = nnl_kernels[ki];
        if (!k->supported()) continue;
        for (int u = 0; u < NNL_QUKR_MAX && k->qukr[u]; u++) {
            const nnl_qukr *uk = k->qukr[u];
            if (!uk->supported()) continue;
            if (uk->w7 && !d->a.w7) {
                /* refused, not run wrongly */
                d->a.y = got;
                assert_int_equal(nnl_qconv2d_with(&d->p, &d->a, uk, NULL, ts), NNL_ERR_INTERNAL);
                continue;
            }
            note(k->name, uk->name);
            /* 1 and 2 threads without the op's shared scratch (as files
             * compiled before it ran), then 2 threads with it */
            for (int run = 0; run < 3; run++) {
                const int threads = run ? 2 : 1;
                if (run == 2 && !shared) break;
                d->a.scratch = run == 2 ? shared : NULL;
                d->a.scratch_bytes = run == 2 ? shared_bytes : 0;
                if (shared) memset(shared, 0xCD, shared_bytes);
                memset(got, 0xA5, (size_t)d->ny + GUARD);
                assert_int_equal(nnl_qconv2d_with(&d->p, &d->a, uk, threads == 2 ? pool2 : NULL, ts), NNL_OK);
                if (threads == 1 && tiles_in_use()) fail_msg("%s: tile state left in use", describe(d, uk->name, 1));
                for (int64_t i = 0; i < d->ny; i++)
                    if (got[i] != want[i])
                        fail_msg("%s%s: byte %lld (row %lld, pixel %lld): got %d want %d",
                                 describe(d, uk->name, threads), run == 2 ? " shared scratch" : "", (long long)i,
                                 (long long)(i / (d->p.oh * d->p.ow) % d->p.oc),
                                 (long long)(i % (d->p.oh * d->p.ow)), got[i], want[i]);
                for (int i = 0; i < GUARD; i++)
                    if (got[d->ny + i] != 0xA5) fail_msg("%s: wrote past y", describe(d, uk->name, threads));
            }
        }
        /* the set's 8-bit Winograd where it applies, 1 and 2 threads */
        if (k->qwino && nnl_qwino_ok(&d->p, d->a.w7)) {
            note(k->name, "winograd");
            for (int threads = 1; threads <= 2; threads++) {
                memset(got, 0xA5, (size_t)d->ny + GUARD);
                assert_int_equal(nnl_qwino_conv(&d->p, &d->a, k, threads == 2 ? pool2 : NULL, ts), NNL_OK);
                for (int64_t i = 0; i < d->ny; i++)
                    if (got[i] != want[i])
                        fail_msg("%s: byte %lld (row %lld, pixel %lld): got %d want %d",
                                 describe(d, "winograd", threads), (long long)i,
                                 (long long)(i / (d->p.oh * d->p.ow) % d->p.oc),
                                 (long long)(i % (d->p.oh * d->p.ow)), got[i], want[i]);
                for (int i = 0; i < GUARD; i++)
                    if (got[d->ny + i] != 0xA5) fail_msg("%s: wrote past y", describe(d, "winograd", threads));
            }
        }
        /* and the set's own choice, through the public entry */
        memset(got, 0, (size_t)d->ny);
        d->a.scratch = shared;
        d->a.scratch_bytes = shared_bytes;
        assert_int_equal(nnl_qconv2d(&d->p, &d->a, k, pool2, ts), NNL_OK);
        assert_memory_equal(got, want, (size_t)d->ny);
    }
    d->a.scratch = NULL;
    d->a.scratch_bytes = 0;
    nnl_aligned_free(shared);
    free(want);
    free(got);
}

static void test_qconv_shapes(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            if (cases[i].c * cases[i].h * cases[i].w > 20000 && m != i % 4) continue; /* big ones once */
            qdata d;
            /* every other case with 7-bit weights, which every microkernel runs */
            qdata_make(&d, &cases[i], &modes[m], -1, (i + m) % 2 ? -1001 : -1000, (uint32_t)(17 * i + m));
            check_all(&d);
            qdata_free(&d);
        }
    printf("int8 microkernels checked:%s; %d cases also with the shared scratch\n", seen, shared_runs);
}

/* Every product at its largest magnitude, all of one sign: a pairwise
 * int16 sum (vpmaddubsw) would saturate; the int32 sums must not (K 2700 x
 * 255 x 128 = 88M).  Multipliers small enough that part of the output is
 * not clamped.  Weights of +-64, the largest 7-bit ones, put the pair sums
 * of nnl_qukr.w7 kernels at 255 x 128 = 32640, just inside int16. */
static void test_qconv_extremes(void **state) {
    (void)state;
    static const qcase ext[] = {
        {1, 16, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 300, 6, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
        {1, 13, 5, 7, 9, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
    };
    static const int xv[] = {255, 0, 128, 127};
    static const int wv[] = {-128, 127, -64, 64};
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++)
            for (size_t xi = 0; xi < sizeof xv / sizeof *xv; xi++)
                for (size_t wi = 0; wi < sizeof wv / sizeof *wv; wi++) {
                    qmode md = modes[m];
                    md.xzp = md.xs ? -128 + (int)xi * 60 : (int)xi * 80; /* x - zx up to 255 */
                    qdata d;
                    qdata_make(&d, &ext[i], &md, xv[xi], wv[wi], (uint32_t)(31 * i + m));
                    /* |sum| up to 255 * 128 * K: scale it to about +-200 steps */
                    d.a.y_scale = d.a.x_scale * 0.007f * 255.0f * (float)abs(wv[wi]) * (float)d.kk / 200.0f;
                    check_all(&d);
                    qdata_free(&d);
                }
}

/* The reference against dequantize -> conv in double -> quantize, on the
 * plain weights: checks nnl_pack_q8 and the reference's indexing.  Off by
 * one step at most (float32 multiplier vs double). */
static void test_qconv_ref(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i += 3) {
        const qmode *m = &modes[i % 4];
        qdata d;
        qdata_make(&d, &cases[i], m, -1, -1000, (uint32_t)(5 * i + 1));
        const nnl_conv_params *p = &d.p;
        uint8_t *y = malloc((size_t)d.ny + 1);
        d.a.y = y;
        nnl_qconv2d_ref(p, &d.a);
        const uint8_t *xb = d.a.x;
        int64_t cg = p->c / p->group, mg = p->oc / p->group;
        for (int64_t img = 0; img < p->n; img++)
            for (int64_t o = 0; o < p->oc; o++)
                for (int64_t oy = 0; oy < p->oh; oy++)
                    for (int64_t ox = 0; ox < p->ow; ox++) {
                        double s = d.a.bias ? (double)d.a.bias[o] * d.a.x_scale * d.scale[o] : 0.0;
                        int64_t g = o / mg;
                        for (int64_t ic = 0; ic < cg; ic++)
                            for (int64_t ky = 0; ky < p->kh; ky++)
                                for (int64_t kx = 0; kx < p->kw; kx++) {
                                    int64_t iy = oy * p->sh - p->pt + ky * p->dh;
                                    int64_t ix = ox * p->sw - p->pl + kx * p->dw;
                                    if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
                                    uint8_t b = xb[((img * p->c + g * cg + ic) * p->h + iy) * p->w + ix];
                                    int xv = m->xs ? (int8_t)b : b;
                                    s += (double)(xv - m->xzp) * d.a.x_scale *
                                         d.w[((o * cg + ic) * p->kh + ky) * p->kw + kx] * d.scale[o];
                                }
                        double q = nearbyint(s / d.a.y_scale) + m->yzp;
                        q = q < m->ymin ? m->ymin : q > m->ymax ? m->ymax : q;
                        int64_t yi = ((img * p->oc + o) * p->oh + oy) * p->ow + ox;
                        int got = m->ys ? (int8_t)y[yi] : y[yi];
                        if (fabs(got - q) > 1.0)
                            fail_msg("reference case %zu element %lld: %d, dequantized conv gives %g", i,
                                     (long long)yi, got, q);
                    }
        free(y);
        qdata_free(&d);
    }
}

/* Convs the int8 path does not take are refused with a message, not run. */
static void test_qconv_refused(void **state) {
    (void)state;
    static const qcase dw = {1, 16, 5, 5, 16, 3, 3, 16, 1, 1, 1, 1, 1, 1, 1, 1};
    qdata d;
    qdata_make(&d, &dw, &modes[0], -1, -1000, 3);
    uint8_t y[400];
    d.a.y = y;
    assert_false(nnl_qconv_ok(&d.p));
    assert_int_equal(nnl_qconv2d(&d.p, &d.a, NULL, NULL, ts), NNL_ERR_UNSUPPORTED);
    qdata_free(&d);
}

/* One transposed-tile call on tfn from the same operands: y (48 rows of
 * ldy bytes and a guard) and the partial sums start as given. */
#define QT_LDY 11
#define QT_YB (NNL_QTUKR_OC * QT_LDY + GUARD)
static void qt_call(nnl_qtukr_fn tfn, nnl_qtukr_args u, uint8_t *y, int32_t *acc, const int32_t *acc0) {
    memset(y, 0xA5, QT_YB);
    memcpy(acc, acc0, NNL_QTUKR_PX * NNL_QTUKR_OC * sizeof(int32_t));
    u.y = y;
    u.acc = acc;
    tfn(&u);
}

/* Every transposed tile (nnl_qukr.tfn) of every set the CPU runs against
 * the scalar one, call by call: 1 to 6 panels, 1 to 8 pixels, pixels in a
 * run and scattered, first, middle and last K blocks, rows ending inside
 * a panel, saturating requantizations; y byte for byte with nothing
 * written outside the tile, the partial sums in every lane that holds
 * one. */
static void test_qtukr(void **state) {
    (void)state;
    const nnl_qtukr_fn ref = nnl_kernel_find("scalar")->qukr[0]->tfn;
    assert_non_null(ref);
    enum { KQ = 40, XB = 8192 };
    static int8_t w[6 * (KQ + 3) * 32], w7[6 * (KQ + 3) * 32];
    static uint8_t x[XB], yr[QT_YB], yt[QT_YB];
    static int32_t acc0[NNL_QTUKR_PX * NNL_QTUKR_OC], ar[NNL_QTUKR_PX * NNL_QTUKR_OC],
        at[NNL_QTUKR_PX * NNL_QTUKR_OC];
    int64_t xoff[KQ], pix[NNL_QTUKR_PX];
    nnl_qepi epi[6];
    uint32_t seed = 77;
    for (size_t i = 0; i < sizeof w; i++) w[i] = (int8_t)(lcg(&seed) & 0xFF);
    for (size_t i = 0; i < sizeof w7; i++) w7[i] = (int8_t)((int)(lcg(&seed) % 129) - 64);
    for (int i = 0; i < XB; i++) x[i] = (uint8_t)lcg(&seed);
    for (int i = 0; i < NNL_QTUKR_PX * NNL_QTUKR_OC; i++) acc0[i] = (int32_t)(lcg(&seed) % 2000001) - 1000000;
    int calls = 0;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *k = nnl_kernels[ki];
        if (!k->supported()) continue;
        for (int ui = 0; ui < NNL_QUKR_MAX && k->qukr[ui]; ui++) {
            const nnl_qukr *uk = k->qukr[ui];
            if (!uk->supported() || !uk->tfn || uk->tfn == ref) continue;
            for (int np = 1; np <= 6; np++)
                for (int nj = 1; nj <= NNL_QTUKR_PX; nj++)
                    for (int mode = 0; mode < 8; mode++) {
                        const bool first = mode & 1, last = mode & 2, run = mode & 4;
                        const int64_t kq = 1 + lcg(&seed) % KQ;
                        for (int64_t q = 0; q < kq; q++) xoff[q] = lcg(&seed) % (XB / 2);
                        int64_t p0 = lcg(&seed) % (XB / 4);
                        for (int j = 0; j < nj; j++) pix[j] = run ? p0 + 4 * j : lcg(&seed) % (XB / 2 - 4);
                        /* one output's zero point and clamp (int8 with a Clip, or uint8) */
                        const float zy = (float)(int)(lcg(&seed) % 256) - (mode & 1 ? 128.0f : 0.0f);
                        for (int i = 0; i < np; i++) {
                            for (int r = 0; r < NNL_MR; r++) {
                                epi[i].off[r] = (int32_t)(lcg(&seed) % 200001) - 100000;
                                epi[i].mult[r] = 1e-5f + (float)(lcg(&seed) % 1000) * 2e-7f;
                            }
                            epi[i].zy = zy;
                            epi[i].lo = mode & 1 ? -128.0f : 0.0f;
                            epi[i].hi = mode & 1 ? 100.0f : 255.0f;
                        }
                        nnl_qtukr_args u = {.kq = kq, .w = uk->w7 ? w7 : w, .w_ps = (kq + 3) * 32, .x = x, .xoff = xoff,
                                            .pix = pix, .first = first, .last = last, .epi = epi,
                                            .ldy = QT_LDY, .np = np, .nj = nj,
                                            .mr = 8 * np - (int)(lcg(&seed) % 8)};
                        qt_call(ref, u, yr, ar, acc0);
                        qt_call(uk->tfn, u, yt, at, acc0);
                        calls++;
                        for (int i = 0; i < QT_YB; i++)
                            if (yr[i] != yt[i])
                                fail_msg("%s/%s np %d nj %d mr %d kq %lld%s%s%s: y byte %d (row %d): %d, scalar %d",
                                         k->name, uk->name, np, nj, u.mr, (long long)kq, first ? " first" : "",
                                         last ? " last" : "", run ? " run" : "", i, i / QT_LDY, yt[i], yr[i]);
                        if (last) continue;
                        for (int j = 0; j < nj; j++)
                            for (int o = 0; o < 8 * np; o++)
                                if (ar[j * NNL_QTUKR_OC + o] != at[j * NNL_QTUKR_OC + o])
                                    fail_msg("%s/%s np %d nj %d kq %lld: sum (pixel %d, row %d) %d, scalar %d",
                                             k->name, uk->name, np, nj, (long long)kq, j, o,
                                             at[j * NNL_QTUKR_OC + o], ar[j * NNL_QTUKR_OC + o]);
                    }
        }
    }
    printf("transposed tiles: %d calls checked against the scalar one\n", calls);
}

/* Every set has an int8 microkernel the CPU runs whenever it runs the set. */
static void test_qukr_table(void **state) {
    (void)state;
    for (int ki = 0; nnl_kernels[ki]; ki++) {
        const nnl_kernel *k = nnl_kernels[ki];
        if (!k->supported()) continue;
        /* full-range weights never get a 7-bit kernel */
        const nnl_qukr *uk = nnl_qukr_pick(k, false, 64, 3136, false), *uk7 = nnl_qukr_pick(k, true, 64, 3136, false);
        assert_non_null(uk);
        assert_non_null(uk7);
        assert_false(uk->w7);
        assert_true(uk->nr % 8 == 0 && uk->nr <= NNL_NR_MAX && uk->kq > 0);
        for (int u = 0; u < NNL_QUKR_MAX && k->qukr[u]; u++) {
            assert_true(!k->qukr[u]->tfn || k->qukr[u]->tpix > 0);
            printf("set %-7s int8 microkernel %-12s %s%s%s\n", k->name, k->qukr[u]->name,
                   !k->qukr[u]->supported() ? "not supported here"
                   : k->qukr[u] == uk       ? "used"
                   : k->qukr[u] == uk7      ? "used for 7-bit weights"
                                            : "supported",
                   k->qukr[u]->tfn ? ", transposed tile" : "", k->qukr[u]->w7 ? ", weights within [-64, 64]" : "");
        }
    }
}

/* The 8-bit GEMM with a float result (classifier heads of QDQ models):
 * every microkernel of every set, transposed tile or pixel tile, against
 * the reference loops, bit for bit; rows of x past one task, K not a
 * multiple of 4, int8 x, and 1 or 2 threads. */
static void test_qgemm(void **state) {
    (void)state;
    static const int64_t shapes[][3] = {{1, 1000, 1280}, {1, 10, 7}, {3, 100, 513}, {11, 57, 64}, {60, 9, 30}};
    int runs = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
        for (int sgn = 0; sgn < 2; sgn++) {
            const int64_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
            uint32_t seed = (uint32_t)(31 * si + sgn + 1);
            uint8_t *x = malloc((size_t)(m * k));
            int8_t *w = malloc((size_t)(n * k));
            float *scale = malloc((size_t)n * sizeof(float)), *want = malloc((size_t)(m * n) * sizeof(float));
            float *got = malloc((size_t)(m * n) * sizeof(float));
            int32_t *bias = malloc((size_t)n * sizeof(int32_t));
            assert_true(x && w && scale && want && got && bias);
            for (int64_t i = 0; i < m * k; i++) x[i] = (uint8_t)lcg(&seed);
            /* every other one with 7-bit weights, which every microkernel runs */
            const bool w7 = (si + sgn) % 2;
            for (int64_t i = 0; i < n * k; i++) w[i] = (int8_t)(w7 ? (int)(lcg(&seed) % 129) - 64 : (int)lcg(&seed));
            for (int64_t r = 0; r < n; r++) {
                scale[r] = 0.001f + (float)(lcg(&seed) % 1000) * 1e-5f;
                bias[r] = (int32_t)(lcg(&seed) % 20001) - 10000;
            }
            int64_t dims[2] = {n, k};
            void *packed = nnl_aligned_alloc((size_t)nnl_pack_q8_bytes(2, dims));
            assert_non_null(packed);
            nnl_pack_q8(packed, w, scale, n, k, 1);
            nnl_qgemm_args a = {.x = x, .x_signed = sgn, .x_zp = sgn ? -5 : 131, .x_scale = 0.03f, .w = packed,
                                .w7 = w7, .bias = si % 2 ? NULL : bias, .y = want, .m = m, .n = n, .k = k};
            nnl_qgemm_f32_ref(&a);
            a.y = got;
            for (int ki = 0; nnl_kernels[ki]; ki++) {
                const nnl_kernel *kern = nnl_kernels[ki];
                if (!kern->supported()) continue;
                for (int u = 0; u < NNL_QUKR_MAX && kern->qukr[u]; u++) {
                    if (!kern->qukr[u]->supported()) continue;
                    if (kern->qukr[u]->w7 && !w7) {
                        assert_int_equal(nnl_qgemm_f32_with(&a, kern->qukr[u], NULL, ts), NNL_ERR_INTERNAL);
                        continue;
                    }
                    for (int threads = 1; threads <= 2; threads++) {
                        memset(got, 0xFF, (size_t)(m * n) * sizeof(float));
                        assert_int_equal(nnl_qgemm_f32_with(&a, kern->qukr[u], threads == 2 ? pool2 : NULL, ts), NNL_OK);
                        if (memcmp(got, want, (size_t)(m * n) * sizeof(float)) != 0)
                            fail_msg("qgemm %s/%s t%d: m %lld n %lld k %lld %s differs", kern->name,
                                     kern->qukr[u]->name, threads, (long long)m, (long long)n, (long long)k,
                                     sgn ? "int8" : "uint8");
                        runs++;
                    }
                }
            }
            free(x), free(w), free(scale), free(want), free(got), free(bias);
            nnl_aligned_free(packed);
        }
    printf("8-bit GEMM: %d runs equal to the reference\n", runs);
}

int main(void) {
    setenv("NNL_ISA", "scalar", 1);
    for (int t = 0; t < 2; t++) {
        ts[t] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
        memset(ts[t], 0xCD, NNL_THREAD_SCRATCH_BYTES); /* the driver must not rely on zeroed scratch */
    }
    if (nnl_pool_create(2, &pool2)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qukr_table),
        cmocka_unit_test(test_qconv_ref),
        cmocka_unit_test(test_qconv_refused),
        cmocka_unit_test(test_qtukr),
        cmocka_unit_test(test_qconv_shapes),
        cmocka_unit_test(test_qconv_extremes),
        cmocka_unit_test(test_qgemm),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    nnl_pool_free(pool2);
    nnl_aligned_free(ts[0]);
    nnl_aligned_free(ts[1]);
    return r;
}
