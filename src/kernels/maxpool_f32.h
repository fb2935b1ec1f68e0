/*
 * The float32 MaxPool kernel (gemm.h nnl_maxpool_fn) of a vector set:
 * kernels/maxpool_body.h at 16-byte vectors, and at 32 and 64 bytes where
 * the file's target has them (AVX, AVX-512F).  A pool runs at the widest
 * width its rows fill (narrower rows would take the body's one output at a
 * time paths); 2x2 / 2 pools inside the plane, 3x3 / 1 / 1 ones on small
 * planes and (AVX-512) some 3x3 / 2 ones take paths of their own below.
 * Included by kernels/generic_set.h.
 */
#ifndef NNL_KERNELS_MAXPOOL_F32_H
#define NNL_KERNELS_MAXPOOL_F32_H

#include <math.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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

/* ---- 3x3 / 2 windows by masked vectors (AVX-512) --------------------
 * A row of 16 outputs straight from its input rows, no row buffer: the
 * window's rows reduced into the vectors of columns c0.. and c0 + 16..
 * (taps 0 and 1: their even and odd lanes) and of the pair one column on
 * (tap 2: its odd lanes), then the taps in order, so the bits are the row
 * path's.  A lane outside the row (a left pad, ceil_mode windows past its
 * end) loads -inf under the load's mask and is never read from memory, and
 * a row's last block stores only its outputs: no overlapping blocks, no
 * scalar columns.  Where it runs (the set's maxpool called alone, Zen 4,
 * warm, best of 300 calls): rows of 8 to 15 outputs, which fill no
 * 16-lane vector of the row path (SqueezeNet's 256 x 27x27 -> 13x13 0.033
 * -> 0.028 ms, GoogLeNet's 480 x 28x28 -> 14x14 0.065 -> 0.059), and rows
 * of 48 outputs or more after a left pad, whose buffer the row path fills
 * out of step with its blocks (ResNet's 64 x 112x112 -> 56x56 0.107 ->
 * 0.084, FCN's portrait 192x128 -> 96x64 0.224 -> 0.173; in ResNet-18
 * 0.122 -> 0.094 ms at 1 thread, 0.133 -> 0.085 at 2).  The row path stays
 * faster on 56- and 55-wide rows without pads (GoogLeNet, SqueezeNet: 0.071
 * -> 0.080 this way), on rows of fewer than 8 outputs and at stride 1. */
#if defined(__AVX512F__)
/* Most blocks of 16 outputs a row may have (rows wider take the row path). */
#define MPM_BLOCKS 64

static inline bool nnl_mp_f32_masked(const nnl_pool2d *g) {
    const int64_t ow = g->out[1];
    return g->k[1] == 3 && g->d[1] == 1 && g->s[1] == 2 && ow <= 16 * MPM_BLOCKS &&
           ((ow >= 8 && ow < 16) || (g->pb[1] == 1 && ow >= 48));
}

/* Lanes of the 16 columns from c that lie in a row of w. */
static inline __mmask16 mpm_mask(int64_t c, int64_t w) {
    const int64_t lo = c < 0 ? -c : 0, hi = w - c < 16 ? w - c : 16;
    return hi > lo ? (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1)) : 0;
}

/* Columns [c, c + 16) of row xr under mask m, -inf in the other lanes.  The
 * address is made as an integer: c may be -1 (a left pad), whose lane the
 * mask leaves unread. */
static inline mp_f32x16 mpm_load(const float *xr, int64_t c, __mmask16 m) {
    const float *p = (const float *)((uintptr_t)xr + (uintptr_t)c * sizeof(float));
    return (mp_f32x16)_mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, p);
}

/* Rows [b, e) of output (nnl_mp_f32_masked). */
static inline void mpm_rows(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e) {
    const int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    const int64_t nb = (OW + 15) / 16, rs = g->d[0] * W;
    /* per block: the masks of its column vectors (c0.., c0 + 16.., c0 +
     * 1.., c0 + 17..) and of its outputs */
    __mmask16 m[MPM_BLOCKS][5];
    for (int64_t k = 0; k < nb; k++) {
        const int64_t c0 = k * 32 - g->pb[1];
        m[k][0] = mpm_mask(c0, W);
        m[k][1] = mpm_mask(c0 + 16, W);
        m[k][2] = mpm_mask(c0 + 1, W);
        m[k][3] = mpm_mask(c0 + 17, W);
        m[k][4] = mpm_mask(k * 16, OW);
    }
    int64_t ahead, pf;
    mp_prefetch_plan(g, (int64_t)sizeof(float), &ahead, &pf);
    const mp_f32x16 low = (mp_f32x16){0} + (-INFINITY);
    int64_t plane = b / OH, oh = b % OH;
    for (int64_t row = b; row < e; row++) {
        const int64_t hs = oh * g->s[0] - g->pb[0];
        int64_t kh0, kh1;
        nnl_tap_range(hs, g->k[0], g->d[0], H, &kh0, &kh1);
        const int64_t n = kh1 - kh0;
        const float *x0 = x + plane * H * W + (n ? (hs + kh0 * g->d[0]) * W : 0);
        if (pf && n) mp_prefetch(x0, ahead, pf);
        float *yr = y + plane * OH * OW + oh * OW;
        for (int64_t k = 0; k < nb; k++) {
            const int64_t c0 = k * 32 - g->pb[1];
            mp_f32x16 v0 = low, v1 = low, v2 = low, v3 = low;
            for (int64_t r = 0; r < n; r++) {
                const float *xr = x0 + r * rs;
                v0 = mp_f32x16_max(v0, mpm_load(xr, c0, m[k][0]));
                v1 = mp_f32x16_max(v1, mpm_load(xr, c0 + 16, m[k][1]));
                v2 = mp_f32x16_max(v2, mpm_load(xr, c0 + 1, m[k][2]));
                v3 = mp_f32x16_max(v3, mpm_load(xr, c0 + 17, m[k][3]));
            }
            const mp_f32x16 o =
                mp_f32x16_max(mp_f32x16_max(MPF_EV16(v0, v1), MPF_OD16(v0, v1)), MPF_OD16(v2, v3));
            _mm512_mask_storeu_ps(yr + k * 16, m[k][4], (__m512)o);
        }
        if (++oh == OH) {
            oh = 0;
            plane++;
        }
    }
}
#endif

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
#if defined(__AVX512F__)
    if (nnl_mp_f32_masked(g)) {
        mpm_rows(g, x, y, b, e);
        return;
    }
#endif
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
