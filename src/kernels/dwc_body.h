/*
 * Depthwise convolution with channels in the vector lanes (nnl_dwc_fn in
 * gemm.h), written with GCC vector extensions so each kernel file that
 * includes this header gets it in its own ISA.  One call computes a band
 * of output rows of one block of L channels (L = the set's float lanes):
 *
 *   1. stage: the band's input rows, zero-padded, transposed so that pixel
 *      (r, s) of the padded band holds the L channels' values as one
 *      vector (buf[(r * wpa + s) * L + c]); L x L blocks go through the
 *      registers, log2(L) rounds of two-vector shuffles;
 *   2. taps: output pixel (oy, ox) is bias + sum over taps of the tap's
 *      L weights times the staged vector at (oy * sh + ky * dh, ox * sw +
 *      kx * dw), NNL_DWC_R pixels of a row at a time in registers, the
 *      activation applied before the row tile is stored;
 *   3. transposed back into the channels' output rows.
 *
 * Every stride, dilation and pad is an address step here, and a plane of
 * 7x7 costs 7 rows of 8 pixels, not a padded plane of its own: the cost per
 * output is the same for small and large planes.  Taps are summed in
 * order t = 0, 1, ... as in the scalar reference (kset_scalar.c), so only
 * the rounding of multiply + add differs (and the padding's zeros, which
 * add w * 0).
 */
#ifndef NNL_KERNELS_DWC_BODY_H
#define NNL_KERNELS_DWC_BODY_H

#include <stdint.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/vmath.h"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* The first n (0 < n < lanes) floats of a vector loaded (the rest zero) or
 * stored, without touching memory past them: a masked load / store where
 * the kernel file's ISA has one, else through a copy on the stack.  Rows
 * of 7x7 and 14x14 planes are all tails. */
#if defined(__AVX512F__)
static inline __m512 nnl_dwc_ld64(const float *p, int n) {
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}
static inline void nnl_dwc_st64(float *p, __m512 v, int n) {
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v);
}
#define NNL_DWC_LDN_64(v, p, n) (v = nnl_dwc_ld64(p, n))
#define NNL_DWC_STN_64(p, v, n) nnl_dwc_st64(p, v, n)
#endif
#if defined(__AVX2__)
static inline __m256i nnl_dwc_mask32(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/* The first n (0 < n < 8) lanes of v stored in pieces of 4, 2 and 1: AMD
 * microcodes vmaskmovps stores up to Zen 3 (bench_kernels' depthwise at
 * 14x14 and 7x7, every row a tail, ran at 48% and 35% of its memory bound
 * with them).  Masked loads are not microcoded and stay. */
static inline void nnl_st_part256(float *p, __m256 v, int n) {
    __m128 h = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(p, h);
        h = _mm256_extractf128_ps(v, 1);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)(void *)p, h);
        h = _mm_movehl_ps(h, h);
        p += 2;
        n -= 2;
    }
    if (n) _mm_store_ss(p, h);
}
#define NNL_DWC_LDN_32(v, p, n) (v = _mm256_maskload_ps(p, nnl_dwc_mask32(n)))
#define NNL_DWC_STN_32(p, v, n) nnl_st_part256(p, v, n)
#else
#define NNL_DWC_LDN_32(v, p, n) NNL_DWC_LDN_COPY_(v, p, n)
#define NNL_DWC_STN_32(p, v, n) NNL_DWC_STN_COPY_(p, v, n)
#endif
#define NNL_DWC_LDN_16(v, p, n) NNL_DWC_LDN_COPY_(v, p, n)
#define NNL_DWC_STN_16(p, v, n) NNL_DWC_STN_COPY_(p, v, n)
#define NNL_DWC_LDN_COPY_(v, p, n)                                                                     \
    do {                                                                                               \
        float t_[sizeof(v) / sizeof(float)] = {0};                                                     \
        memcpy(t_, p, (size_t)(n) * sizeof(float));                                                   \
        memcpy(&(v), t_, sizeof(v));                                                                   \
    } while (0)
#define NNL_DWC_STN_COPY_(p, v, n)                                                                     \
    do {                                                                                               \
        float t_[sizeof(v) / sizeof(float)];                                                           \
        memcpy(t_, &(v), sizeof(v));                                                                   \
        memcpy(p, t_, (size_t)(n) * sizeof(float));                                                    \
    } while (0)

/* Multiply-adds of the tap sums contracted into fused ones: ISO C mode
 * keeps GCC from contracting on its own (clang contracts within an
 * expression by default). */
#if defined(__clang__)
#define NNL_FP_CONTRACT_FN
#else
#define NNL_FP_CONTRACT_FN __attribute__((optimize("fp-contract=fast")))
#endif

/* Clamps of the fused activations: x < lo ? lo : x and x > hi ? hi : x,
 * as one max / min where the including kernel file's vectors have it (the
 * compare-and-select of NNL_VMAX / NNL_VMIN was two to three instructions
 * a clamp); the bound goes first, so a NaN x comes through as with the
 * generic form.  Each kernel file instantiates NNL_DWC_DEFINE at its own
 * width only: 64 bytes with AVX-512, 32 with AVX, 16 with NEON. */
#if defined(__AVX512F__)
#define NNL_DWC_VMAX(vt, vi, x, lo) ((vt)_mm512_max_ps((__m512)(lo), (__m512)(x)))
#define NNL_DWC_VMIN(vt, vi, x, hi) ((vt)_mm512_min_ps((__m512)(hi), (__m512)(x)))
#elif defined(__AVX__)
#define NNL_DWC_VMAX(vt, vi, x, lo) ((vt)_mm256_max_ps((__m256)(lo), (__m256)(x)))
#define NNL_DWC_VMIN(vt, vi, x, hi) ((vt)_mm256_min_ps((__m256)(hi), (__m256)(x)))
#else
#define NNL_DWC_VMAX(vt, vi, x, lo) NNL_VMAX(vt, vi, x, lo)
#define NNL_DWC_VMIN(vt, vi, x, hi) NNL_VMIN(vt, vi, x, hi)
#endif

/* x = 1 / (1 + exp(-x)) in registers, as NNL_SIGMOID_N computes it. */
#define NNL_DWC_SIGMOID_(vt, vi, x) NNL_VSIGMOID(vt, vi, x, NNL_DWC_VMAX, NNL_DWC_VMIN)

/* Output pixels of a row summed in registers at once. */
#define NNL_DWC_R 8

static inline int64_t nnl_dwc_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/* Width in pixels of a staged row: every column a register block reads
 * (whole blocks of NNL_DWC_R outputs) and the whole input row's transposed
 * blocks of lanes. */
static inline int64_t nnl_dwc_wpa(const nnl_dwc_args *a, int lanes) {
    int64_t need = (nnl_dwc_up(a->ow, NNL_DWC_R) - 1) * a->sw + (a->kw - 1) * a->dw + 1;
    int64_t in = a->pl + nnl_dwc_up(a->w, lanes);
    return need > in ? need : in;
}

/* Input rows a band of `rows` output rows reads. */
static inline int64_t nnl_dwc_rows_in(const nnl_dwc_args *a, int64_t rows) {
    return (rows - 1) * a->sh + (a->kh - 1) * a->dh + 1;
}

/* Floats of buf a call needs: the staged band and one output row tile. */
static inline int64_t nnl_dwc_buf_floats(const nnl_dwc_args *a, int lanes) {
    int64_t m = lanes > NNL_DWC_R ? lanes : NNL_DWC_R;
    return (nnl_dwc_rows_in(a, a->rows) * nnl_dwc_wpa(a, lanes) + nnl_dwc_up(a->ow, m)) * lanes;
}

/* One round of the transpose on the pair (x, y): lanes whose index has
 * bit h set swap places with the other vector's lanes h lower. */
#define NNL_DWC_PAIR_(x, y, LO, HI)                                                                    \
    do {                                                                                               \
        __typeof__(x) t_ = __builtin_shufflevector(x, y, LO);                                          \
        y = __builtin_shufflevector(x, y, HI);                                                         \
        x = t_;                                                                                        \
    } while (0)

/* Index lists of the rounds, per lane count and h. */
#define NNL_DWC_I16_8L 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define NNL_DWC_I16_8H 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define NNL_DWC_I16_4L 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define NNL_DWC_I16_4H 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define NNL_DWC_I16_2L 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define NNL_DWC_I16_2H 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define NNL_DWC_I16_1L 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define NNL_DWC_I16_1H 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define NNL_DWC_I8_4L 0, 1, 2, 3, 8, 9, 10, 11
#define NNL_DWC_I8_4H 4, 5, 6, 7, 12, 13, 14, 15
#define NNL_DWC_I8_2L 0, 1, 8, 9, 4, 5, 12, 13
#define NNL_DWC_I8_2H 2, 3, 10, 11, 6, 7, 14, 15
#define NNL_DWC_I8_1L 0, 8, 2, 10, 4, 12, 6, 14
#define NNL_DWC_I8_1H 1, 9, 3, 11, 5, 13, 7, 15
#define NNL_DWC_I4_2L 0, 1, 4, 5
#define NNL_DWC_I4_2H 2, 3, 6, 7
#define NNL_DWC_I4_1L 0, 4, 2, 6
#define NNL_DWC_I4_1H 1, 5, 3, 7

/* In-register transposes of L vectors named r0..r{L-1}: afterwards lane j
 * of r{i} is what lane i of r{j} was.  Spelled out pair by pair so the
 * vectors stay in registers. */
#define NNL_DWC_P_(a, b, W, h) NNL_DWC_PAIR_(r##a, r##b, NNL_DWC_I##W##_##h##L, NNL_DWC_I##W##_##h##H)
#define NNL_DWC_TR_64_                                                                                 \
    NNL_DWC_P_(0, 8, 16, 8); NNL_DWC_P_(1, 9, 16, 8); NNL_DWC_P_(2, 10, 16, 8); NNL_DWC_P_(3, 11, 16, 8); \
    NNL_DWC_P_(4, 12, 16, 8); NNL_DWC_P_(5, 13, 16, 8); NNL_DWC_P_(6, 14, 16, 8); NNL_DWC_P_(7, 15, 16, 8); \
    NNL_DWC_P_(0, 4, 16, 4); NNL_DWC_P_(1, 5, 16, 4); NNL_DWC_P_(2, 6, 16, 4); NNL_DWC_P_(3, 7, 16, 4);   \
    NNL_DWC_P_(8, 12, 16, 4); NNL_DWC_P_(9, 13, 16, 4); NNL_DWC_P_(10, 14, 16, 4); NNL_DWC_P_(11, 15, 16, 4); \
    NNL_DWC_P_(0, 2, 16, 2); NNL_DWC_P_(1, 3, 16, 2); NNL_DWC_P_(4, 6, 16, 2); NNL_DWC_P_(5, 7, 16, 2);   \
    NNL_DWC_P_(8, 10, 16, 2); NNL_DWC_P_(9, 11, 16, 2); NNL_DWC_P_(12, 14, 16, 2); NNL_DWC_P_(13, 15, 16, 2); \
    NNL_DWC_P_(0, 1, 16, 1); NNL_DWC_P_(2, 3, 16, 1); NNL_DWC_P_(4, 5, 16, 1); NNL_DWC_P_(6, 7, 16, 1);   \
    NNL_DWC_P_(8, 9, 16, 1); NNL_DWC_P_(10, 11, 16, 1); NNL_DWC_P_(12, 13, 16, 1); NNL_DWC_P_(14, 15, 16, 1)
#define NNL_DWC_TR_32_                                                                                 \
    NNL_DWC_P_(0, 4, 8, 4); NNL_DWC_P_(1, 5, 8, 4); NNL_DWC_P_(2, 6, 8, 4); NNL_DWC_P_(3, 7, 8, 4);       \
    NNL_DWC_P_(0, 2, 8, 2); NNL_DWC_P_(1, 3, 8, 2); NNL_DWC_P_(4, 6, 8, 2); NNL_DWC_P_(5, 7, 8, 2);       \
    NNL_DWC_P_(0, 1, 8, 1); NNL_DWC_P_(2, 3, 8, 1); NNL_DWC_P_(4, 5, 8, 1); NNL_DWC_P_(6, 7, 8, 1)
#define NNL_DWC_TR_16_                                                                                 \
    NNL_DWC_P_(0, 2, 4, 2); NNL_DWC_P_(1, 3, 4, 2); NNL_DWC_P_(0, 1, 4, 1); NNL_DWC_P_(2, 3, 4, 1)

/* op(k) for every vector k of the transposes */
#define NNL_DWC_EACH_16_(op) op(0) op(1) op(2) op(3)
#define NNL_DWC_EACH_32_(op) NNL_DWC_EACH_16_(op) op(4) op(5) op(6) op(7)
#define NNL_DWC_EACH_64_(op)                                                                           \
    NNL_DWC_EACH_32_(op) op(8) op(9) op(10) op(11) op(12) op(13) op(14) op(15)
#define NNL_DWC_DECL_(k) vt r##k;
/* row k of the block: channel k's np pixels, zeros past them and for k >= nc */
#define NNL_DWC_LDX_(k, B)                                                                              \
    if ((k) >= nc)                                                                                     \
        r##k = (vt){0};                                                                                \
    else if (np == L)                                                                                  \
        memcpy(&r##k, x + (k) * cs, sizeof(vt));                                                       \
    else                                                                                               \
        NNL_DWC_LDN_##B(r##k, x + (k) * cs, np);
#define NNL_DWC_LDX_64_(k) NNL_DWC_LDX_(k, 64)
#define NNL_DWC_LDX_32_(k) NNL_DWC_LDX_(k, 32)
#define NNL_DWC_LDX_16_(k) NNL_DWC_LDX_(k, 16)
#define NNL_DWC_STB_(k) memcpy(blk + (k) * L, &r##k, sizeof(vt));
#define NNL_DWC_LDB_(k) memcpy(&r##k, blk + (k) * L, sizeof(vt));
#define NNL_DWC_STY_(k, B)                                                                              \
    if ((k) < nc) {                                                                                    \
        if (np == L)                                                                                   \
            memcpy(y + (k) * cs, &r##k, sizeof(vt));                                                   \
        else                                                                                           \
            NNL_DWC_STN_##B(y + (k) * cs, r##k, np);                                                   \
    }

/* Defines `static void name(const nnl_dwc_args *a)` for vectors of B bytes
 * (16, 32 or 64). */
#define NNL_DWC_DEFINE(name, B)                                                                        \
    typedef float name##_vt __attribute__((vector_size(B)));                                           \
    typedef int32_t name##_vi __attribute__((vector_size(B)));                                         \
    enum { name##_L = (B) / 4 };                                                                       \
    /* blk[j * L + c] = x[c * cs + j] for c < nc, j < np; zeros elsewhere */                           \
    static inline __attribute__((always_inline)) void name##_in(float *blk, const float *x, int64_t cs, \
                                                                int nc, int np) {                      \
        typedef name##_vt vt;                                                                          \
        enum { L = name##_L };                                                                         \
        NNL_DWC_EACH_##B##_(NNL_DWC_DECL_)                                                             \
        NNL_DWC_EACH_##B##_(NNL_DWC_LDX_##B##_)                                                        \
        NNL_DWC_TR_##B##_;                                                                             \
        NNL_DWC_EACH_##B##_(NNL_DWC_STB_)                                                              \
    }                                                                                                  \
    /* y[c * cs + j] = blk[j * L + c] for c < nc, j < np */                                            \
    static inline __attribute__((always_inline)) void name##_out(float *y, int64_t cs, int nc, int np,  \
                                                                 const float *blk) {                   \
        typedef name##_vt vt;                                                                          \
        enum { L = name##_L };                                                                         \
        NNL_DWC_EACH_##B##_(NNL_DWC_DECL_)                                                             \
        NNL_DWC_EACH_##B##_(NNL_DWC_LDB_)                                                              \
        NNL_DWC_TR_##B##_;                                                                             \
        NNL_DWC_EACH_##B##_(NNL_DWC_STY_##B##_)                                                        \
    }                                                                                                  \
    /* The rows of output of a staged band, the activation a constant so    \
     * that its switch leaves the register tile's loop. */                \
    NNL_FP_CONTRACT_FN static inline __attribute__((always_inline)) void name##_rows(const nnl_dwc_args *a, \
                                                                              const float *st, float *tile, \
                                                                              const nnl_act act) {        \
        typedef name##_vt vt;                                                                          \
        typedef name##_vi vi;                                                                          \
        enum { L = name##_L };                                                                         \
        const int64_t wpa = nnl_dwc_wpa(a, L), rs = wpa * L;                                           \
        const vt zero = {0};                                                                           \
        const vt one = zero + 1.0f, sixth = zero + 1.0f / 6.0f, half = zero + 0.5f;        \
        const vt pa = zero + a->act_a, pb = zero + a->act_b;                                           \
        vt bias;                                                                                       \
        memcpy(&bias, a->bias, sizeof bias);                                                           \
        const int64_t xs = a->sw * L;                                                                  \
        for (int64_t i = 0; i < a->rows; i++) {                                                        \
            const float *s0 = st + i * a->sh * rs;                                                     \
            for (int64_t ox = 0; ox < a->ow; ox += NNL_DWC_R) {                                        \
                vt a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias; \
                const float *wk = a->wt;                                                               \
                for (int64_t ky = 0; ky < a->kh; ky++) {                                               \
                    const float *s = s0 + ky * a->dh * rs + ox * xs;                                   \
                    for (int64_t kx = 0; kx < a->kw; kx++, s += a->dw * L, wk += L) {                  \
                        vt w, v;                                                                       \
                        memcpy(&w, wk, sizeof w);                                                      \
                        NNL_DWC_FMA8_(s, xs);                                                          \
                    }                                                                                  \
                }                                                                                      \
                NNL_DWC_ALL8_(NNL_DWC_ACT_);                                                           \
                float *o = tile + ox * L;                                                              \
                NNL_DWC_ALL8_(NNL_DWC_STORE_);                                                         \
            }                                                                                          \
            float *yrow = a->y + (a->oy0 + i) * a->ow;                                                 \
            for (int64_t x0 = 0; x0 < a->ow; x0 += L)                                                  \
                name##_out(yrow + x0, a->ycs, a->nc, a->ow - x0 < L ? (int)(a->ow - x0) : L, tile + x0 * L); \
        }                                                                                              \
    }                                                                                                  \
    NNL_FP_CONTRACT_FN static void name(const nnl_dwc_args *a) {                                       \
        typedef name##_vt vt;                                                                          \
        enum { L = name##_L };                                                                         \
        const int64_t wpa = nnl_dwc_wpa(a, L), rin = nnl_dwc_rows_in(a, a->rows), rs = wpa * L;         \
        const int64_t wl = nnl_dwc_up(a->w, L), y0 = a->oy0 * a->sh - a->pt;                          \
        float *st = a->buf, *tile = a->buf + rin * rs;                                                 \
        const vt zero = {0};                                                                           \
        for (int64_t r = 0; r < rin; r++) {                                                            \
            float *row = st + r * rs;                                                                  \
            int64_t y = y0 + r;                                                                        \
            if (y < 0 || y >= a->h) {                                                                  \
                for (int64_t f = 0; f < rs; f += L) memcpy(row + f, &zero, sizeof zero);               \
                continue;                                                                              \
            }                                                                                          \
            for (int64_t f = 0; f < a->pl * L; f += L) memcpy(row + f, &zero, sizeof zero);            \
            for (int64_t x0 = 0; x0 < a->w; x0 += L)                                                   \
                name##_in(row + (a->pl + x0) * L, a->x + y * a->w + x0, a->xcs, a->nc,                 \
                          a->w - x0 < L ? (int)(a->w - x0) : L);                                       \
            for (int64_t f = (a->pl + wl) * L; f < rs; f += L) memcpy(row + f, &zero, sizeof zero);    \
        }                                                                                              \
        switch (a->act) {                                                                              \
        case NNL_ACT_NONE: name##_rows(a, st, tile, NNL_ACT_NONE); break;                              \
        case NNL_ACT_RELU: name##_rows(a, st, tile, NNL_ACT_RELU); break;                              \
        case NNL_ACT_CLIP: name##_rows(a, st, tile, NNL_ACT_CLIP); break;                              \
        case NNL_ACT_HARDSWISH: name##_rows(a, st, tile, NNL_ACT_HARDSWISH); break;                    \
        case NNL_ACT_SILU: name##_rows(a, st, tile, NNL_ACT_SILU); break;                              \
        default: name##_rows(a, st, tile, a->act); break;                                              \
        }                                                                                              \
    }

#define NNL_DWC_FMA8_(s, xs)                                                                           \
    do {                                                                                               \
        memcpy(&v, (s), sizeof v); a0 += w * v;                                                        \
        memcpy(&v, (s) + (xs), sizeof v); a1 += w * v;                                                 \
        memcpy(&v, (s) + 2 * (xs), sizeof v); a2 += w * v;                                             \
        memcpy(&v, (s) + 3 * (xs), sizeof v); a3 += w * v;                                             \
        memcpy(&v, (s) + 4 * (xs), sizeof v); a4 += w * v;                                             \
        memcpy(&v, (s) + 5 * (xs), sizeof v); a5 += w * v;                                             \
        memcpy(&v, (s) + 6 * (xs), sizeof v); a6 += w * v;                                             \
        memcpy(&v, (s) + 7 * (xs), sizeof v); a7 += w * v;                                             \
    } while (0)
#define NNL_DWC_ALL8_(op) op(a0, 0); op(a1, 1); op(a2, 2); op(a3, 3); op(a4, 4); op(a5, 5); op(a6, 6); op(a7, 7)
#define NNL_DWC_STORE_(x, k) memcpy(o + (k) * L, &x, sizeof x)
#define NNL_DWC_ACT_(x, k)                                                                             \
    do {                                                                                               \
        switch (act) {                                                                                 \
        case NNL_ACT_RELU: x = NNL_DWC_VMAX(vt, vi, x, zero); break;                                      \
        case NNL_ACT_CLIP: x = NNL_DWC_VMIN(vt, vi, NNL_DWC_VMAX(vt, vi, x, pa), pb); break;                  \
        case NNL_ACT_HARDSIGMOID: x = NNL_DWC_VMIN(vt, vi, NNL_DWC_VMAX(vt, vi, pa * x + pb, zero), one); break; \
        case NNL_ACT_HARDSWISH:                                                                        \
            x = x * NNL_DWC_VMIN(vt, vi, NNL_DWC_VMAX(vt, vi, x * sixth + half, zero), one);                  \
            break;                                                                                     \
        case NNL_ACT_SIGMOID: NNL_DWC_SIGMOID_(vt, vi, x); break;                                      \
        case NNL_ACT_SILU: {                                                                           \
            vt g_ = x;                                                                                 \
            NNL_DWC_SIGMOID_(vt, vi, g_);                                                              \
            x *= g_;                                                                                   \
            break;                                                                                     \
        }                                                                                              \
        case NNL_ACT_LEAKYRELU: {                                                                      \
            vi neg = (vi)(x < zero);                                                                   \
            x = (vt)(((vi)x & ~neg) | ((vi)(pa * x) & neg));                                           \
            break;                                                                                     \
        }                                                                                              \
        default: break;                                                                                \
        }                                                                                              \
    } while (0)

#define NNL_DWC_STY_64_(k) NNL_DWC_STY_(k, 64)
#define NNL_DWC_STY_32_(k) NNL_DWC_STY_(k, 32)
#define NNL_DWC_STY_16_(k) NNL_DWC_STY_(k, 16)

#endif
