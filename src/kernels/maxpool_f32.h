/*
 * The float32 MaxPool kernel (gemm.h nnl_maxpool_fn) of a vector set:
 * kernels/maxpool_body.h at 16-byte vectors, and at 32 and 64 bytes where
 * the file's target has them (AVX, AVX-512F).  A pool runs at the widest
 * width its rows fill (narrower rows would take the body's one output at a
 * time paths).  Included by kernels/generic_set.h.
 */
#ifndef NNL_KERNELS_MAXPOOL_F32_H
#define NNL_KERNELS_MAXPOOL_F32_H

#include <math.h>

#include "kernels/gemm.h"

/* v > a ? v : a lane-wise: maxps (whose NaN rule is this order's), NEON
 * compare and select. */
#define NNL_MP_F32_WIDTH(bytes, lanes)                                                      \
    typedef float mp_f32x##lanes __attribute__((vector_size(bytes)));                                 \
    static inline mp_f32x##lanes mp_f32x##lanes##_max(mp_f32x##lanes a, mp_f32x##lanes v) {          \
        mp_f32x##lanes r;                                                                              \
        for (int k = 0; k < (lanes); k++) r[k] = v[k] > a[k] ? v[k] : a[k];                            \
        return r;                                                                                      \
    }

/* The even and odd lanes of a then b, per width: the row path's phase
 * split (MP_EVEN / MP_ODD) and the 2x2 path's column pairs. */
#define MPF_EV4(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define MPF_OD4(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#define MPF_EV8(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define MPF_OD8(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#define MPF_EV16(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define MPF_OD16(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)

NNL_MP_F32_WIDTH(16, 4)
#define MP_T float
#define MP_V mp_f32x4
#define MP_L 4
#define MP_FN(name) mp_f32x4_##name
#define MP_LOW (-INFINITY)
#define MP_MAX(a, v) mp_f32x4_max(a, v)
#define MP_EVEN(a, b) MPF_EV4(a, b)
#define MP_ODD(a, b) MPF_OD4(a, b)
#define MP_IN(x, f) ((void)(f), (x))
#define MP_FLIP8 0
#define MP_VP 2
#define MP_HV 4
#include "kernels/maxpool_body.h"

#if defined(__AVX__)
NNL_MP_F32_WIDTH(32, 8)
#define MP_T float
#define MP_V mp_f32x8
#define MP_L 8
#define MP_FN(name) mp_f32x8_##name
#define MP_LOW (-INFINITY)
#define MP_MAX(a, v) mp_f32x8_max(a, v)
#define MP_EVEN(a, b) MPF_EV8(a, b)
#define MP_ODD(a, b) MPF_OD8(a, b)
#define MP_IN(x, f) ((void)(f), (x))
#define MP_FLIP8 0
#define MP_VP 2
#define MP_HV 4
#include "kernels/maxpool_body.h"
#endif

#if defined(__AVX512F__)
NNL_MP_F32_WIDTH(64, 16)
#define MP_T float
#define MP_V mp_f32x16
#define MP_L 16
#define MP_FN(name) mp_f32x16_##name
#define MP_LOW (-INFINITY)
#define MP_MAX(a, v) mp_f32x16_max(a, v)
#define MP_EVEN(a, b) MPF_EV16(a, b)
#define MP_ODD(a, b) MPF_OD16(a, b)
#define MP_IN(x, f) ((void)(f), (x))
#define MP_FLIP8 0
#define MP_VP 1
#define MP_HV 2
#include "kernels/maxpool_body.h"
#endif

/* Whether rows of g fill vectors of lanes floats: a vector of outputs, and
 * of input columns (a pair with stride 2, which splits pairs). */
static inline bool nnl_mp_f32_fills(const nnl_pool2d *g, int64_t lanes) {
    return g->in[1] >= (g->s[1] == 2 ? 2 : 1) * lanes && g->out[1] >= lanes;
}

/* ---- 3x3, stride 1, pads 1 on small planes, whole planes flat ----------
 * GoogLeNet's inception branches pool 3x3 / 1 / 1 over 28x28 to 7x7 planes
 * of up to 832 channels: row by row, a 14-wide row took two overlapping
 * vectors each way and its own row buffer, 4.7x ORT's time (0.140 against
 * 0.030 ms at 14x14x832).  Here a plane is one array: the max of the rows
 * above, at and below (a copy of the plane between rows of -inf, so whole
 * vectors run over it), then of the columns left, at and right, a lane in
 * the plane's first or last column taking -inf for its neighbour across
 * the row's edge.  The maxima are taken in the row path's order, so the
 * bits are the same.  Scratch: about 3 x MP_FLAT_MAX floats, like a batch
 * of row buffers (16 KB). */
#define MP_FLAT_MAX 1024
#if defined(__AVX512F__)
#define MPF_L 16
#define MPF_MAX mp_f32x16_max
typedef mp_f32x16 mpf_v;
#elif defined(__AVX__)
#define MPF_L 8
#define MPF_MAX mp_f32x8_max
typedef mp_f32x8 mpf_v;
#else
#define MPF_L 4
#define MPF_MAX mp_f32x4_max
typedef mp_f32x4 mpf_v;
#endif
typedef int32_t mpf_vi __attribute__((vector_size(MPF_L * 4)));

static inline bool nnl_mp_f32_flat(const nnl_pool2d *g) {
    return g->k[0] == 3 && g->k[1] == 3 && g->s[0] == 1 && g->s[1] == 1 && g->d[0] == 1 && g->d[1] == 1 &&
           g->pb[0] == 1 && g->pb[1] == 1 && g->out[0] == g->in[0] && g->out[1] == g->in[1] && g->in[1] <= 32 &&
           g->in[0] * g->in[1] <= MP_FLAT_MAX;
}

static inline mpf_v mpf_load(const float *p) {
    mpf_v v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* m ? a : b lane-wise, m all ones or zeros */
static inline mpf_v mpf_sel(mpf_vi m, mpf_v a, mpf_v b) { return (mpf_v)((m & (mpf_vi)a) | (~m & (mpf_vi)b)); }

/* Planes [p0, p1) of g (nnl_mp_f32_flat). */
static inline void mpf_planes(const nnl_pool2d *g, const float *x, float *y, int64_t p0, int64_t p1, void *scratch) {
    const int64_t H = g->in[0], W = g->in[1], n = H * W, nv = (n + MPF_L - 1) / MPF_L * MPF_L;
    float *xb = scratch;                          /* rows -1 .. H of the plane; -inf past it */
    float *tb = xb + (H + 2) * W + MPF_L;         /* -inf, the rows' maxima, -inf */
    int32_t *col = (int32_t *)(void *)(tb + nv + 2 + MPF_L);   /* a position's column */
    for (int64_t i = 0; i < W; i++) xb[i] = -INFINITY;
    for (int64_t i = (H + 1) * W; i < (H + 2) * W + MPF_L; i++) xb[i] = -INFINITY;
    tb[0] = -INFINITY;
    for (int64_t i = n + 1; i < nv + 2 + MPF_L; i++) tb[i] = -INFINITY;
    for (int64_t i = 0; i < nv; i++) col[i] = (int32_t)(i % W);
    const mpf_v low = (mpf_v){0} + (-INFINITY);
    for (int64_t p = p0; p < p1; p++) {
        memcpy(xb + W, x + p * n, (size_t)n * sizeof(float));
        for (int64_t i = 0; i < nv; i += MPF_L) {
            mpf_v a = MPF_MAX(low, mpf_load(xb + i));
            a = MPF_MAX(a, mpf_load(xb + i + W));
            a = MPF_MAX(a, mpf_load(xb + i + 2 * W));
            memcpy(tb + 1 + i, &a, sizeof a);
        }
        float *yp = y + p * n;
        for (int64_t i = 0; i < nv; i += MPF_L) {
            mpf_vi c;
            memcpy(&c, col + i, sizeof c);
            mpf_v a = mpf_sel(c != 0, mpf_load(tb + i), low);
            a = MPF_MAX(a, mpf_load(tb + i + 1));
            a = MPF_MAX(a, mpf_sel(c != (int32_t)(W - 1), mpf_load(tb + i + 2), low));
            memcpy(yp + i, &a, (size_t)(i + MPF_L <= n ? MPF_L : n - i) * sizeof(float));
        }
    }
}

/* ---- 2x2, stride 2, every window inside the plane -----------------------
 * GoogLeNet's maxpool4 (832 planes of 14x14 -> 7x7) went by the 4-lane row
 * path (its 14-wide rows fill no wider vector) at 4.4x ORT's time.  Here
 * an output row is read straight from its two input rows: the max of the
 * rows (from -inf, the row buffer's order), then of column pairs (the even
 * column first, as tap 0 starts a window), so the bits are the row
 * path's.  Blocks of L outputs at the widest width of at most OW lanes,
 * the last overlapping the one before; rows of fewer than 4 outputs (one
 * vector) stay with the row path. */
static inline bool nnl_mp_f32_2x2(const nnl_pool2d *g) {
    return g->k[0] == 2 && g->k[1] == 2 && g->s[0] == 2 && g->s[1] == 2 && g->d[0] == 1 && g->d[1] == 1 &&
           g->pb[0] == 0 && g->pb[1] == 0 && g->out[0] >= 1 && g->out[1] >= 4 && 2 * g->out[0] <= g->in[0] &&
           2 * g->out[1] <= g->in[1];
}

/* Outputs [i, i + L) of a row from input rows x0, x1. */
#define NNL_MP2_BLOCK(L)                                                                              \
    static inline void mp2_block_##L(float *y, const float *x0, const float *x1, int64_t i) {        \
        const mp_f32x##L low = (mp_f32x##L){0} + (-INFINITY);                                         \
        mp_f32x##L a0, b0, a1, b1;                                                                     \
        memcpy(&a0, x0 + 2 * i, sizeof a0);                                                            \
        memcpy(&b0, x0 + 2 * i + (L), sizeof b0);                                                      \
        memcpy(&a1, x1 + 2 * i, sizeof a1);                                                            \
        memcpy(&b1, x1 + 2 * i + (L), sizeof b1);                                                      \
        const mp_f32x##L va = mp_f32x##L##_max(mp_f32x##L##_max(low, a0), a1);                        \
        const mp_f32x##L vb = mp_f32x##L##_max(mp_f32x##L##_max(low, b0), b1);                        \
        const mp_f32x##L r = mp_f32x##L##_max(MPF_EV##L(va, vb), MPF_OD##L(va, vb));                  \
        memcpy(y + i, &r, sizeof r);                                                                   \
    }                                                                                                  \
    static inline void mp2_row_##L(float *y, const float *x0, const float *x1, int64_t ow) {         \
        int64_t i = 0;                                                                                 \
        for (; i + (L) <= ow; i += (L)) mp2_block_##L(y, x0, x1, i);                                  \
        if (i < ow) mp2_block_##L(y, x0, x1, ow - (L));                                               \
    }
NNL_MP2_BLOCK(4)
#if defined(__AVX__)
NNL_MP2_BLOCK(8)
#endif
#if defined(__AVX512F__)
NNL_MP2_BLOCK(16)
#endif

/* Rows [b, e) of output (nnl_mp_f32_2x2). */
static inline void mp2_rows(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e) {
    const int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    int64_t plane = b / OH, oh = b % OH;
    for (int64_t row = b; row < e; row++) {
        const float *x0 = x + plane * H * W + 2 * oh * W, *x1 = x0 + W;
        float *yr = y + plane * OH * OW + oh * OW;
#if defined(__AVX512F__)
        if (OW >= 16) mp2_row_16(yr, x0, x1, OW); else
#endif
#if defined(__AVX__)
        if (OW >= 8) mp2_row_8(yr, x0, x1, OW); else
#endif
        mp2_row_4(yr, x0, x1, OW);
        if (++oh == OH) {
            oh = 0;
            plane++;
        }
    }
}

static inline void nnl_maxpool_f32_rows(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e,
                                        void *scratch) {
#if defined(__AVX512F__)
    if (nnl_mp_f32_fills(g, 16)) {
        mp_f32x16_rows(g, x, y, b, e, scratch);
        return;
    }
#endif
#if defined(__AVX__)
    if (nnl_mp_f32_fills(g, 8)) {
        mp_f32x8_rows(g, x, y, b, e, scratch);
        return;
    }
#endif
    mp_f32x4_rows(g, x, y, b, e, scratch);
}

static inline void nnl_maxpool_f32(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e,
                                   void *scratch) {
    if (nnl_mp_f32_2x2(g)) {
        mp2_rows(g, x, y, b, e);
        return;
    }
    if (nnl_mp_f32_flat(g)) {
        /* whole planes flat, a partial one at either end by rows */
        const int64_t OH = g->out[0], p0 = (b + OH - 1) / OH, p1 = e / OH;
        if (p0 < p1) {
            if (b < p0 * OH) nnl_maxpool_f32_rows(g, x, y, b, p0 * OH, scratch);
            mpf_planes(g, x, y, p0, p1, scratch);
            if (p1 * OH < e) nnl_maxpool_f32_rows(g, x, y, p1 * OH, e, scratch);
            return;
        }
    }
    nnl_maxpool_f32_rows(g, x, y, b, e, scratch);
}

#endif
