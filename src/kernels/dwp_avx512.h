/*
 * Depthwise convolution with output pixels in the lanes, AVX-512: the
 * set's nnl_dwc_fn takes this path for square 3x3 and 5x5 kernels at
 * stride 1 or 2 without dilation whose output rows are at least
 * NNL_DWP_MIN_OW wide, and the channels-in-lanes body (dwc_body.h) for
 * everything else.  Included by kset_avx512.c once, after act512.
 *
 * Why: the channels-in-lanes body transposes every staged 16x16 block in
 * and every output block out (64 shuffles each); at stride 2 it stages
 * four input pixels an output, so shuffles outnumber the multiply-adds.
 * Here nothing is staged: a tap of 16 outputs of a row is one unaligned
 * load straight from the input row (masked at the row's ends, where the
 * masked-off lanes are the padding's zeros) and one fused multiply-add by
 * the tap's broadcast weight.  At stride 2 two loads of 32 input pixels
 * give taps kx and kx + 1 as the even and odd lanes (two two-source
 * permutes).
 *
 * Register block: R output rows x V vectors of 16 outputs of one channel,
 * R * V <= 8 accumulators; each input row is loaded once a block and
 * feeds every output row it is a tap row of (3 of them at stride 1 for a
 * 3x3 kernel), so a stride-1 3x3 block of 2 x 4 costs 4 * 3 loads a vector
 * of the 4 and 9 multiply-adds each.  Input rows outside the plane read a
 * zero row in buf (w floats), so the taps' loop is the same at the
 * plane's top and bottom.  A call runs a channel's blocks of one column
 * of vectors from its first row to its last, loading the taps' weights
 * into registers (3x3; 5x5 spills some) and the masks once: a call a
 * block paid them 14 times a 28-row plane (3x3 layers 5-14% slower,
 * Zen 4).  The activation is applied in
 * the registers before the stores (Relu, Clip, HardSwish, Sigmoid, SiLU;
 * the others on the stored rows).
 *
 * Measured on Zen 4 (nnlink profile, min of 3 rounds, against the
 * channels-in-lanes body): MobileNetV2's depthwise 3x3 0.92x, 3x3/2
 * 0.83x; EfficientNet-B0's 3x3 0.75x, 3x3/2 0.80x.  Small planes keep the
 * body: a flat form (the plane as one run of pixels, per-tap masks for
 * the row and column edges) ran 7x7 maps 2% faster at 3x3 and 6% slower
 * at 5x5 (EfficientNet-B0), its masks costing per call what a 16-channel
 * block of 7x7 taps costs.
 *
 * Taps are summed input row by input row (ky = 0, 1, ...), kx in order
 * within a row, as in the scalar reference; only fused rounding differs
 * (and the padding's w * 0 terms, added here as in the reference).
 */
#ifndef NNL_KERNELS_DWP_AVX512_H
#define NNL_KERNELS_DWP_AVX512_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernels/gemm.h"

/* Output width below which the channels-in-lanes body is faster: a row of
 * 7 fills 7 of 16 lanes (bench_kernels "depthwise", Zen 4). */
#define NNL_DWP_MIN_OW 12

/* Lanes i with 0 <= ix + i < w (lanes_below: kset_avx512.c). */
static inline __attribute__((always_inline)) __mmask16 dwp_in(int64_t ix, int64_t w) {
    return lanes_below(w - ix) & (__mmask16)~lanes_below(-ix);
}

/* A row's blocks of vectors, the same for every row and channel. */
#define DWP_XB_MAX 32
typedef struct dwp_xb {
    int64_t ix0;                 /* input column of vector 0, tap 0 */
    int v, m;                    /* vectors; whether a load crosses a row's end */
    __mmask16 ml[6], mr[6];      /* lanes inside the row: loads of the first and the last vector */
    __mmask16 tail;              /* lanes of the last vector stored */
} dwp_xb;

/* A call: one channel's output rows [oy0, oy0 + rows), one block of
 * vectors of each, R rows a register block. */
typedef struct dwp_blk {
    const float *plane, *zrow;   /* the channel's input plane; a zero row (rows outside it) */
    int64_t h, w, pt, oy0, rows;
    const __m512 *wv;            /* kh * kw broadcast weights */
    __m512 bias, lo, hi;         /* bias; Relu's and Clip's bounds */
    const dwp_xb *x;             /* the block's vectors of a row */
    float *y;                    /* output of row oy0, vector 0; rows ys apart */
    int64_t ys;
    nnl_act act;                 /* applied here, but for dwp_act_late ones */
} dwp_blk;

/* Load j of vector v (of V): only a block's first and last vectors load
 * through masks; takes() sends the geometries where another vector would
 * reach past the row to the channels-in-lanes body (dwp_inside). */
#define DWP_LD(M, p, ix, v, V, j)                                                                      \
    (!(M) || ((v) > 0 && (v) < (V) - 1) ? _mm512_loadu_ps((p) + (ix))                                  \
     : _mm512_maskz_loadu_ps((v) == 0 ? ml[j] : mr[j], (p) + (ix)))

/* Every loop of a block unrolled, so the accumulators and weights stay in
 * registers (-O2 unrolls none of them). */
#define DWP_UNROLL _Pragma("GCC unroll 32")

/* Block (r, v)'s vector stored (row r of the nr rows from yb), the last
 * vector of a row through its tail. */
#define DWP_STORE(yv)                                                                                  \
    do {                                                                                               \
        float *o_ = yb + r * b->ys + 16 * v;                                                           \
        if (v < V - 1) _mm512_storeu_ps(o_, yv);                                                       \
        else _mm512_mask_storeu_ps(o_, b->x->tail, yv);                                                \
    } while (0)

/* The rows' vectors stored, each as F, an expression of its sums x_. */
#define DWP_STORES(F)                                                                                  \
    DWP_UNROLL for (int r = 0; r < R; r++) {                                                           \
        if (r >= nr) break;                                                                            \
        DWP_UNROLL for (int v = 0; v < V; v++) {                                                       \
            const __m512 x_ = acc[r * V + v];                                                          \
            DWP_STORE(F);                                                                              \
        }                                                                                              \
    }

/* x[j] = x[j] sigmoid(x[j]) (silu) or sigmoid(x[j]) for j < n (a
 * constant, at most 4), exp512's arithmetic stepped over all n vectors together:
 * with one vector's chain (~90 cycles) at a time the out-of-order window
 * holds too few to overlap (a depthwise conv's SiLU cost ~19 cycles a
 * vector on the Xeon). */
INLINE void sigm512_n(__m512 *x, const int n, const bool silu) {
    __m512 t[4], k[4], r[4], p[4];
    _Pragma("GCC unroll 16") for (int j = 0; j < n; j++)
        t[j] = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), x[j]), _mm512_set1_ps(-87.3f)),
                             _mm512_set1_ps(88.3f));
    _Pragma("GCC unroll 16") for (int j = 0; j < n; j++)
        k[j] = _mm512_roundscale_ps(_mm512_mul_ps(t[j], _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _Pragma("GCC unroll 16") for (int j = 0; j < n; j++) {
        r[j] = _mm512_fnmadd_ps(k[j], _mm512_set1_ps(0.693359375f), t[j]);
        r[j] = _mm512_fnmadd_ps(k[j], _mm512_set1_ps(-2.12194440e-4f), r[j]);
    }
    static const float c[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                              4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
    _Pragma("GCC unroll 16") for (int j = 0; j < n; j++) p[j] = _mm512_set1_ps(c[0]);
    _Pragma("GCC unroll 6") for (int i = 1; i < 6; i++)
        _Pragma("GCC unroll 16") for (int j = 0; j < n; j++) p[j] = _mm512_fmadd_ps(p[j], r[j], _mm512_set1_ps(c[i]));
    _Pragma("GCC unroll 16") for (int j = 0; j < n; j++)
        p[j] = _mm512_fmadd_ps(p[j], _mm512_mul_ps(r[j], r[j]), _mm512_add_ps(r[j], _mm512_set1_ps(1.0f)));
    _Pragma("GCC unroll 16") for (int j = 0; j < n; j++) {
        const __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_scalef_ps(p[j], k[j]));
        x[j] = _mm512_div_ps(silu ? x[j] : _mm512_set1_ps(1.0f), d);
    }
}

/* Activations applied on the stored rows instead (act512 with the
 * activation a value, parameters a and b). */
static inline bool dwp_act_late(nnl_act act) {
    return act != NNL_ACT_NONE && act != NNL_ACT_RELU && act != NNL_ACT_CLIP && act != NNL_ACT_HARDSWISH &&
           act != NNL_ACT_SILU && act != NNL_ACT_SIGMOID;
}

/* The call's register blocks: K x K taps, stride S, R rows x V vectors,
 * M: whether some load crosses the row's ends (masked loads); then the
 * activation and the stores, one switch a block.  The weights and masks
 * are loaded once a call, which covers every row of the channel (a call
 * a block of 2 rows paid them, and the call, 14 times a 28-row plane). */
static inline __attribute__((always_inline)) void dwp_block(const dwp_blk *b, const int K, const int S,
                                                            const int R, const int V, const bool M) {
    __m512 wl[25];
    DWP_UNROLL for (int t = 0; t < K * K; t++) wl[t] = b->wv[t];
    __mmask16 ml[6], mr[6];
    DWP_UNROLL for (int j = 0; j < 6; j++) ml[j] = b->x->ml[j], mr[j] = b->x->mr[j];
    const int ni = (R - 1) * S + K;
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int64_t r0 = 0; r0 < b->rows; r0 += R) {
        const int nr = b->rows - r0 < R ? (int)(b->rows - r0) : R;
        float *const yb = b->y + r0 * b->ys;
        const float *in[2 * 7 + 5];
        const int64_t iy0 = (b->oy0 + r0) * S - b->pt;
        DWP_UNROLL for (int i = 0; i < ni; i++)
            in[i] = iy0 + i >= 0 && iy0 + i < b->h ? b->plane + (iy0 + i) * b->w : b->zrow;
        __m512 acc[8];
        DWP_UNROLL for (int j = 0; j < R * V; j++) acc[j] = b->bias;
        DWP_UNROLL for (int i = 0; i < ni; i++) {
            const float *row = in[i];
            DWP_UNROLL for (int v = 0; v < V; v++) {
                if (S == 1) {
                    DWP_UNROLL for (int kx = 0; kx < K; kx++) {
                        const int64_t ix = b->x->ix0 + 16 * v + kx;
                        const __m512 x = DWP_LD(M, row, ix, v, V, kx);
                        DWP_UNROLL for (int r = 0; r < R; r++) {
                            const int ky = i - r;
                            if (ky >= 0 && ky < K) acc[r * V + v] = _mm512_fmadd_ps(x, wl[ky * K + kx], acc[r * V + v]);
                        }
                    }
                } else {
                    DWP_UNROLL for (int kx = 0; kx < K; kx += 2) {
                        const int64_t ix = b->x->ix0 + 32 * v + kx;
                        const __m512 lo = DWP_LD(M, row, ix, v, V, kx), hi = DWP_LD(M, row, ix + 16, v, V, kx + 1);
                        const __m512 xe = _mm512_permutex2var_ps(lo, ev, hi);
                        const __m512 xo = _mm512_permutex2var_ps(lo, od, hi);
                        DWP_UNROLL for (int r = 0; r < R; r++) {
                            const int ky = i - 2 * r;
                            if (ky < 0 || ky >= K) continue;
                            acc[r * V + v] = _mm512_fmadd_ps(xe, wl[ky * K + kx], acc[r * V + v]);
                            if (kx + 1 < K) acc[r * V + v] = _mm512_fmadd_ps(xo, wl[ky * K + kx + 1], acc[r * V + v]);
                        }
                    }
                }
            }
        }
        switch (b->act) {
        case NNL_ACT_RELU:
        case NNL_ACT_CLIP: DWP_STORES(_mm512_min_ps(b->hi, _mm512_max_ps(b->lo, x_))); break;
        case NNL_ACT_HARDSWISH: DWP_STORES(act512(x_, NNL_ACT_HARDSWISH, 0.0f, 0.0f)); break;
        /* four vectors at a time: eight together spilled */
        case NNL_ACT_SILU:
            DWP_UNROLL for (int j = 0; j < R * V; j += 4) sigm512_n(acc + j, R * V - j < 4 ? R * V - j : 4, true);
            DWP_STORES(x_);
            break;
        case NNL_ACT_SIGMOID:
            DWP_UNROLL for (int j = 0; j < R * V; j += 4) sigm512_n(acc + j, R * V - j < 4 ? R * V - j : 4, false);
            DWP_STORES(x_);
            break;
        default: DWP_STORES(x_); break;
        }
    }
}

/* One function per (K, S, V, R, M). */
#define DWP_FN(K, S, V, R, M)                                                                          \
    static void dwp_##K##_##S##_##V##_##R##_##M(const dwp_blk *b) { dwp_block(b, K, S, R, V, M); }
#define DWP_FNS_V(K, S, V, R) DWP_FN(K, S, V, R, 0) DWP_FN(K, S, V, R, 1)
#define DWP_FNS(K, S)                                                                                  \
    DWP_FNS_V(K, S, 4, 2) DWP_FNS_V(K, S, 3, 2) DWP_FNS_V(K, S, 2, 2) DWP_FNS_V(K, S, 1, 2)              \
    DWP_FNS_V(K, S, 2, 4) DWP_FNS_V(K, S, 1, 8)
DWP_FNS(3, 1)
DWP_FNS(3, 2)
DWP_FNS(5, 1)
DWP_FNS(5, 2)

typedef void (*dwp_fn)(const dwp_blk *b);

/* Entry [k][s][shape][m]; shape 0..3: V = 4..1 with R = 2, 4: V 2 R 4, 5: V 1 R 8. */
#define DWP_ROW(K, S, V, R) {dwp_##K##_##S##_##V##_##R##_0, dwp_##K##_##S##_##V##_##R##_1}
#define DWP_SHAPES(K, S)                                                                               \
    {DWP_ROW(K, S, 4, 2), DWP_ROW(K, S, 3, 2), DWP_ROW(K, S, 2, 2), DWP_ROW(K, S, 1, 2), DWP_ROW(K, S, 2, 4), \
     DWP_ROW(K, S, 1, 8)}
static const dwp_fn dwp_table[2][2][6][2] = {
    {DWP_SHAPES(3, 1), DWP_SHAPES(3, 2)},
    {DWP_SHAPES(5, 1), DWP_SHAPES(5, 2)},
};

/* Rows a block for a row of nvec output vectors: 8 accumulators. */
static inline int dwp_rows(int64_t nvec) { return nvec >= 3 ? 2 : nvec == 2 ? 4 : 8; }

static inline int dwp_shape(int R, int V) { return R == 8 ? 5 : R == 4 ? 4 : 4 - V; }

static inline int64_t dwp_blocks(const nnl_dwc_args *a) {
    const int64_t nvec = (a->ow + 15) / 16, v0 = nvec < 4 ? nvec : 4;
    return (nvec + v0 - 1) / v0;
}

/* Whether every load of a vector between a block's first and last stays
 * inside the row (DWP_LD loads them unmasked).  The pads below 16 keep
 * all of them in but the last block's second to last vector, which still
 * reaches past the row where the last vector holds fewer outputs than the
 * right pad's overhang: a 5x5 kernel with pads 2 over rows of 16 n + 1
 * outputs read one column past the row unmasked (test_dwc: w 33).
 * Masking that vector instead slowed MobileNetV2's and EfficientNet's
 * 96-channel 3x3/2 at 112x112 by 3.5% (0.164 against 0.159 ms, Zen 4),
 * where it never crosses. */
static bool dwp_inside(const nnl_dwc_args *a) {
    const int64_t S = a->sh, K = a->kh;
    if (a->pl >= 16 || (a->ow - 1) * S + K - a->w - a->pl >= 16) return false;
    const int64_t nvec = (a->ow + 15) / 16, v0 = nvec < 4 ? nvec : 4, nxb = dwp_blocks(a);
    const int64_t v = nvec - (nxb - 1) * v0, ix0 = (nxb - 1) * v0 * 16 * S - a->pl;
    /* the end of vector v - 2's loads, as dwp_avx512's ends of a block's last */
    const int64_t end = S == 1 ? ix0 + 16 * (v - 1) + K - 1 : ix0 + 32 * (v - 1) + (K - 1) / 2 * 2;
    return v < 3 || end <= a->w;
}

static bool dwp_avx512_takes(const nnl_dwc_args *a) {
    return a->kh == a->kw && (a->kh == 3 || a->kh == 5) && a->sh == a->sw && (a->sh == 1 || a->sh == 2) &&
           a->dh == 1 && a->dw == 1 && a->ow >= NNL_DWP_MIN_OW && dwp_blocks(a) <= DWP_XB_MAX && dwp_inside(a);
}

/* Runs a geometry dwp_avx512_takes. */
static void dwp_avx512(const nnl_dwc_args *a) {
    const int64_t K = a->kh, S = a->sh;
    const int64_t nvec = (a->ow + 15) / 16, w = a->w;
    const int R = dwp_rows(nvec), V0 = nvec < 4 ? (int)nvec : 4;
    const int64_t nxb = dwp_blocks(a);
    dwp_xb xb[DWP_XB_MAX];
    for (int64_t k = 0; k < nxb; k++) {
        dwp_xb *x = &xb[k];
        const int64_t xv = k * V0;
        x->v = nvec - xv < V0 ? (int)(nvec - xv) : V0;
        x->ix0 = xv * 16 * S - a->pl;
        /* the last load's end: tap K - 1 at stride 1; the pair from K - 1
         * rounded down to even, 32 floats, at stride 2 */
        const int64_t end = S == 1 ? x->ix0 + 16 * x->v + K - 1 : x->ix0 + 32 * x->v + (K - 1) / 2 * 2;
        x->m = x->ix0 < 0 || end > w;
        for (int j = 0; j < 6; j++) {
            /* load j's column in a vector: tap j at stride 1; the pair of
             * tap j rounded down to even, j odd its upper half */
            const int64_t off = S == 1 ? j : j / 2 * 2 + (j & 1) * 16;
            x->ml[j] = dwp_in(x->ix0 + off, w);
            x->mr[j] = dwp_in(x->ix0 + (x->v - 1) * 16 * S + off, w);
            if (x->v == 1) x->ml[j] &= x->mr[j];
        }
        x->tail = tail_mask(a->ow - (xv + x->v - 1) * 16);
    }
    float *zrow = a->buf;
    memset(zrow, 0, (size_t)w * sizeof(float));
    __m512 wv[25];
    dwp_blk b;
    b.wv = wv;
    b.zrow = zrow;
    b.h = a->h;
    b.w = w;
    b.pt = a->pt;
    b.oy0 = a->oy0;
    b.rows = a->rows;
    b.ys = a->ow;
    b.act = a->act;
    b.lo = _mm512_set1_ps(a->act == NNL_ACT_CLIP ? a->act_a : 0.0f);
    b.hi = _mm512_set1_ps(a->act == NNL_ACT_CLIP ? a->act_b : __builtin_inff());
    const dwp_fn *fns = dwp_table[K == 5][S == 2][0];
    for (int c = 0; c < a->nc; c++) {
        const float *plane = a->x + c * a->xcs;
        for (int64_t t = 0; t < K * K; t++) wv[t] = _mm512_set1_ps(a->wt[t * 16 + c]);
        b.bias = _mm512_set1_ps(a->bias[c]);
        b.plane = plane;
        float *yc = a->y + c * a->ycs + a->oy0 * a->ow;
        for (int64_t k = 0; k < nxb; k++) {
            b.x = &xb[k];
            b.y = yc + k * V0 * 16;
            fns[dwp_shape(R, b.x->v) * 2 + b.x->m](&b);
        }
        /* the band's rows are one run of rows * ow floats */
        if (dwp_act_late(a->act))
            for (int64_t i = 0; i < a->rows * a->ow; i += 16) {
                const __mmask16 m = tail_mask(a->rows * a->ow - i);
                _mm512_mask_storeu_ps(yc + i, m, act512(_mm512_maskz_loadu_ps(m, yc + i), a->act, a->act_a, a->act_b));
            }
    }
}

#endif
