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
 * 0.030 ms at 14x14x832).  Here the planes a call owns are one array, read
 * in place: a vector of positions takes the max of the rows above, at and
 * below, then of its left, own and right neighbours, the last two vectors
 * of row maxima shifted by a lane each way in registers.  A lane whose
 * neighbour lies across its plane's edge takes -inf for it: a position's
 * four bounds (+inf or -inf, mpf_cut) repeat with the planes and are made
 * once a call for a block of them.  The maxima are taken in the row
 * path's order, so the bits are the same.  A copy of each plane between
 * rows of -inf, the row maxima through a buffer and a library call for
 * each vector's store took 0.037 ms for 480 planes of 14x14 and 0.026 for
 * 832 of 7x7 (bench_kernels, Zen 5, avx512); this takes 0.023 and 0.011
 * (ORT's MaxPool nodes in GoogLeNet: 0.014 and 0.009).  Scratch: 4 x
 * (MP_FLAT_MAX + lanes) floats, the bounds. */
#define MP_FLAT_MAX 1024
#if defined(__AVX512F__)
#define MPF_L 16
#define MPF_MAX mp_f32x16_max
typedef mp_f32x16 mpf_v;
/* lanes L-1 .. 2L-2 and 1 .. L of a then b */
#define MPF_LEFT(a, b) __builtin_shufflevector(a, b, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30)
#define MPF_RIGHT(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
#elif defined(__AVX__)
#define MPF_L 8
#define MPF_MAX mp_f32x8_max
typedef mp_f32x8 mpf_v;
#define MPF_LEFT(a, b) __builtin_shufflevector(a, b, 7, 8, 9, 10, 11, 12, 13, 14)
#define MPF_RIGHT(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4, 5, 6, 7, 8)
#else
#define MPF_L 4
#define MPF_MAX mp_f32x4_max
typedef mp_f32x4 mpf_v;
#define MPF_LEFT(a, b) __builtin_shufflevector(a, b, 3, 4, 5, 6)
#define MPF_RIGHT(a, b) __builtin_shufflevector(a, b, 1, 2, 3, 4)
#endif

static inline bool nnl_mp_f32_flat(const nnl_pool2d *g) {
    return g->k[0] == 3 && g->k[1] == 3 && g->s[0] == 1 && g->s[1] == 1 && g->d[0] == 1 && g->d[1] == 1 &&
           g->pb[0] == 1 && g->pb[1] == 1 && g->out[0] == g->in[0] && g->out[1] == g->in[1] && g->in[1] <= 32 &&
           g->in[0] * g->in[1] <= MP_FLAT_MAX;
}

/* x[at .. at + MPF_L), -inf in the lanes outside [lo, hi) */
static inline mpf_v mpf_load(const float *x, int64_t at, int64_t lo, int64_t hi) {
    mpf_v v;
    for (int k = 0; k < MPF_L; k++) v[k] = at + k >= lo && at + k < hi ? x[at + k] : -INFINITY;
    return v;
}

/* a where the bound is +inf, -inf where it is -inf; a NaN a stays NaN,
 * which the maxima after it skip as they skip -inf (b < a ? b : a: minps
 * with the bound first) */
static inline __attribute__((always_inline)) mpf_v mpf_cut(mpf_v a, const float *bound) {
    mpf_v b, r;
    memcpy(&b, bound, sizeof b);
    for (int k = 0; k < MPF_L; k++) r[k] = b[k] < a[k] ? b[k] : a[k];
    return r;
}

/* The row maxima of positions [i, i + MPF_L): of x's rows above, at and
 * below (x at i - W, i, i + W); up and down, the bounds of position i. */
static inline __attribute__((always_inline)) mpf_v mpf_rows(mpf_v above, mpf_v at, mpf_v below, const float *up,
                                                            const float *down) {
    const mpf_v low = (mpf_v){0} + (-INFINITY);
    mpf_v a = MPF_MAX(low, mpf_cut(above, up));
    a = MPF_MAX(a, at);
    return MPF_MAX(a, mpf_cut(below, down));
}

/* mpf_rows where a row's offset reaches past the planes x[lo, hi) (lo <= 0:
 * the planes before the call's are there to read): the first and last
 * vectors of a call */
static __attribute__((noinline)) mpf_v mpf_rows_edge(const float *x, int64_t i, int64_t W, int64_t lo, int64_t hi,
                                                     const float *up, const float *down) {
    return mpf_rows(mpf_load(x, i - W, lo, hi), mpf_load(x, i, lo, hi), mpf_load(x, i + W, lo, hi), up, down);
}

static inline __attribute__((always_inline)) mpf_v mpf_get(const float *p) {
    mpf_v v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The first n < MPF_L lanes of a to y (out of line: indexing a's lanes
 * kept it in memory through the whole loop) */
static __attribute__((noinline)) void mpf_tail(float *y, mpf_v a, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] = a[k];
}

/* Planes [p0, p1) of g (nnl_mp_f32_flat). */
static inline void mpf_planes(const nnl_pool2d *g, const float *x, float *y, int64_t p0, int64_t p1, void *scratch) {
    const int64_t H = g->in[0], W = g->in[1], n = H * W, cap = MP_FLAT_MAX / n * n, len = (p1 - p0) * n;
    /* position i's bounds at [i % cap]: a block of whole planes, and a
     * vector's worth past it (the planes repeat) */
    const int64_t nb = (len < cap ? len : cap) + MPF_L;
    float *up = scratch, *down = up + nb, *left = down + nb, *right = left + nb;
    /* a plane's, then copies of it (a branchy loop over every position
     * was 13% of the samples of 832 planes of 7x7) */
    for (int64_t i = 0; i < n; i++) {
        up[i] = i >= W ? INFINITY : -INFINITY;
        down[i] = i < n - W ? INFINITY : -INFINITY;
        left[i] = right[i] = INFINITY;
    }
    for (int64_t i = 0; i < n; i += W) {
        left[i] = -INFINITY;
        right[i + W - 1] = -INFINITY;
    }
    for (int64_t at = n; at < nb; at += n) {
        const size_t m = (size_t)(nb - at < n ? nb - at : n) * sizeof(float);
        memcpy(up + at, up, m);
        memcpy(down + at, down, m);
        memcpy(left + at, left, m);
        memcpy(right + at, right, m);
    }
    const float *xs = x + p0 * n;
    float *ys = y + p0 * n;
    const int64_t lo = -p0 * n;
    const mpf_v low = (mpf_v){0} + (-INFINITY);
    mpf_v prev = low, cur = mpf_rows_edge(xs, 0, W, lo, len, up, down);
    for (int64_t i = 0, j = 0; i < len; i += MPF_L) {
        int64_t jn = j + MPF_L;
        if (jn >= cap) jn -= cap;
        const int64_t in = i + MPF_L;
        mpf_v next = low;
        if (in - W >= lo && in + W + MPF_L <= len)
            next = mpf_rows(mpf_get(xs + in - W), mpf_get(xs + in), mpf_get(xs + in + W), up + jn, down + jn);
        else if (in < len)
            next = mpf_rows_edge(xs, in, W, lo, len, up + jn, down + jn);
        mpf_v a = mpf_cut(MPF_LEFT(prev, cur), left + j);
        a = MPF_MAX(a, cur);
        a = MPF_MAX(a, mpf_cut(MPF_RIGHT(cur, next), right + j));
        if (i + MPF_L <= len)
            memcpy(ys + i, &a, sizeof a);
        else
            mpf_tail(ys + i, a, len - i);
        prev = cur;
        cur = next;
        j = jn;
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
