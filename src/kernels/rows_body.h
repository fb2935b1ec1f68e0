/*
 * Row kernels of the transformer layers, written with GCC vector
 * extensions in the set's native vector of B bytes so each kernel file
 * that includes this header gets them in its own ISA: softmax over the
 * last axis (nnl_softmax_fn) and LayerNormalization (nnl_layernorm_fn), and
 * GELU in place (the epilogue of nnl_act NNL_ACT_GELU; its polynomials
 * contracted into fused multiply-adds, half the instructions of the ISO C
 * form) over rows of a tile or a whole row, the whole vectors four at a
 * time across the rows (NNL_VGELU_N: one at a time, a 16-lane vector took
 * ~80 cycles on a Xeon, latency-bound; four together ~37).
 * NNL_ROWS_DEFINE(isa, B) defines softmax_<isa>, layernorm_<isa> and
 * gelu_<isa>, which the set's file declares before its epilogues.
 * The scalar set has plain references of its own (kset_scalar.c), which
 * tests/test_kernels.c compares these with.
 *
 * Softmax: a vector max (NaN lanes never win the compare, as in the
 * reference), exp(x - max) by NNL_VEXP on the difference clamped to
 * [-87, 0] and set to 0 below -87 (so -inf gives exactly 0; the reference
 * gives at most 1.7e-38 there), lanes summed in float and the lane sums
 * in double, then one multiply by the reciprocal.
 *
 * LayerNorm: a first pass for an estimate m of the mean, a second for the
 * sums of d = x - m and d^2 in float lanes (the correction sum(d) / n
 * makes the mean exact to float rounding even when it is large against
 * the spread), the lane sums in double.
 */
#ifndef NNL_KERNELS_ROWS_BODY_H
#define NNL_KERNELS_ROWS_BODY_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/dwc_body.h" /* NNL_FP_CONTRACT_FN */
#include "kernels/vmath.h"

/* Sum of the L lanes of vector v in double, and the largest lane (NaN
 * lanes never win), as pairwise trees: a chain of L dependent adds was a
 * sixth of a 197-long softmax row. */
#define NNL_ROWS_HSUM_(L, v, out)                                                                      \
    do {                                                                                               \
        float l_[L];                                                                                   \
        double d_[L];                                                                                  \
        memcpy(l_, &(v), sizeof l_);                                                                   \
        _Pragma("GCC unroll 16") for (int k_ = 0; k_ < (L); k_++) d_[k_] = l_[k_];                    \
        _Pragma("GCC unroll 4") for (int w_ = (L) / 2; w_ >= 1; w_ /= 2)                              \
            _Pragma("GCC unroll 8") for (int k_ = 0; k_ < w_; k_++) d_[k_] += d_[k_ + w_];             \
        (out) = d_[0];                                                                                 \
    } while (0)
#define NNL_ROWS_HMAX_(L, v, out)                                                                      \
    do {                                                                                               \
        float l_[L];                                                                                   \
        memcpy(l_, &(v), sizeof l_);                                                                   \
        _Pragma("GCC unroll 4") for (int w_ = (L) / 2; w_ >= 1; w_ /= 2)                              \
            _Pragma("GCC unroll 8") for (int k_ = 0; k_ < w_; k_++)                                    \
                l_[k_] = l_[k_ + w_] > l_[k_] ? l_[k_ + w_] : l_[k_];                                  \
        (out) = l_[0];                                                                                 \
    } while (0)

#define NNL_ROWS_DEFINE(isa, B)                                                                        \
    NNL_FP_CONTRACT_FN __attribute__((noinline)) static void gelu_##isa(float *y, int64_t ldy, int64_t rows,\
                                                                        int64_t n) {               \
        typedef float vt __attribute__((vector_size(B)));                                          \
        typedef int32_t vi __attribute__((vector_size(B)));                                        \
        enum { L = (B) / 4 };                                                                      \
        /* vectors stepped together: 4, but 1 with AVX2's 16 registers, where                          \
         * the stepped chains spill (epi_row's GELU on the Xeon, cycles a 16                           \
         * floats: 56 one at a time, 153 two, 108 three, 85 four) */                                   \
        enum { G = (B) == 32 ? 1 : 4 };                                                                \
        vt w[G];                                                                                       \
        float *at[G];                                                                              \
        int q = 0;                                                                                 \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            float *row = y + r * ldy;                                                              \
            int64_t i = 0;                                                                         \
            for (; i + L <= n; i += L) {                                                           \
                at[q] = row + i;                                                                   \
                memcpy(&w[q], row + i, sizeof w[0]);                                               \
                if (++q == G) {                                                                    \
                    NNL_VGELU_N(vt, vi, G, w);                                                     \
                    for (int j = 0; j < G; j++) memcpy(at[j], &w[j], sizeof w[0]);                 \
                    q = 0;                                                                         \
                }                                                                                  \
            }                                                                                      \
            if (i < n) {                                                                           \
                vt v = {0};                                                                        \
                memcpy(&v, row + i, (size_t)(n - i) * sizeof(float));                              \
                NNL_VGELU(vt, vi, v, v);                                                           \
                memcpy(row + i, &v, (size_t)(n - i) * sizeof(float));                              \
            }                                                                                      \
        }                                                                                          \
        for (int j = 0; j < q; j++) {                                                              \
            NNL_VGELU(vt, vi, w[j], w[j]);                                                         \
            memcpy(at[j], &w[j], sizeof w[0]);                                                     \
        }                                                                                          \
    }                                                                                              \
    NNL_FP_CONTRACT_FN static void softmax_##isa(float *y, const float *x, int64_t n) {               \
        typedef float vt __attribute__((vector_size(B)));                                              \
        typedef int32_t vi __attribute__((vector_size(B)));                                            \
        enum { L = (B) / 4 };                                                                          \
        const vt ninf = (vt){0} - INFINITY, lo = (vt){0} - 87.0f;                                      \
        vi iota;                                                                                       \
        for (int k = 0; k < L; k++) iota[k] = k;                                                       \
        const int64_t nf = n / L * L;                                                                  \
        const int rem = (int)(n - nf);                                                                 \
        const vi past = iota >= rem; /* tail lanes beyond the row */                                  \
        vt vm = ninf, v = {0};                                                                         \
        for (int64_t i = 0; i < nf; i += L) {                                                          \
            memcpy(&v, x + i, sizeof v);                                                               \
            vm = NNL_VMAX(vt, vi, vm, v);                                                              \
        }                                                                                              \
        if (rem) {                                                                                     \
            NNL_DWC_LDN_##B(v, x + nf, rem);                                                           \
            vm = NNL_VMAX(vt, vi, vm, NNL_VSEL(vt, vi, past, ninf, v));                                \
        }                                                                                              \
        float m;                                                                                       \
        NNL_ROWS_HMAX_(L, vm, m);                                                                      \
        if (m == -INFINITY) m = 0;                                                                     \
        vt vs = {0};                                                                                   \
        for (int64_t i = 0; i <= nf; i += L) {                                                         \
            if (i == nf && !rem) break;                                                                \
            if (i < nf)                                                                                \
                memcpy(&v, x + i, sizeof v);                                                           \
            else                                                                                       \
                NNL_DWC_LDN_##B(v, x + i, rem);                                                        \
            vt e = v - m, ex;                                                                          \
            vi under = (vi)(e < lo) | (i < nf ? (vi){0} : past);                                       \
            e = NNL_VMAX(vt, vi, e, lo);                                                               \
            NNL_VEXP(vt, vi, ex, e);                                                                   \
            ex = (vt)((vi)ex & ~under);                                                                \
            vs += ex;                                                                                  \
            if (i < nf)                                                                                \
                memcpy(y + i, &ex, sizeof ex);                                                         \
            else                                                                                       \
                NNL_DWC_STN_##B(y + i, ex, rem);                                                       \
        }                                                                                              \
        double s;                                                                                      \
        NNL_ROWS_HSUM_(L, vs, s);                                                                      \
        const float inv = (float)(1.0 / s);                                                            \
        for (int64_t i = 0; i < nf; i += L) {                                                          \
            memcpy(&v, y + i, sizeof v);                                                               \
            v *= inv;                                                                                  \
            memcpy(y + i, &v, sizeof v);                                                               \
        }                                                                                              \
        for (int64_t i = nf; i < n; i++) y[i] *= inv;                                                  \
    }                                                                                                  \
    NNL_FP_CONTRACT_FN static void layernorm_##isa(float *y, const float *x, int64_t n, float eps, const float *scale,   \
                                const float *bias, float *mean, float *inv) {                          \
        typedef float vt __attribute__((vector_size(B)));                                              \
        enum { L = (B) / 4 };                                                                          \
        vt v, s1 = {0}, s2 = {0};                                                                      \
        int64_t i = 0;                                                                                 \
        for (; i + L <= n; i += L) {                                                                   \
            memcpy(&v, x + i, sizeof v);                                                               \
            s1 += v;                                                                                   \
        }                                                                                              \
        double t = 0, t2 = 0;                                                                          \
        for (int64_t k = i; k < n; k++) t += x[k];                                                     \
        double sum;                                                                                    \
        NNL_ROWS_HSUM_(L, s1, sum);                                                                    \
        const float m0 = (float)((sum + t) / (double)n);                                               \
        s1 = (vt){0};                                                                                  \
        t = 0;                                                                                         \
        for (i = 0; i + L <= n; i += L) {                                                              \
            memcpy(&v, x + i, sizeof v);                                                               \
            v -= m0;                                                                                   \
            s1 += v;                                                                                   \
            s2 += v * v;                                                                               \
        }                                                                                              \
        for (int64_t k = i; k < n; k++) {                                                              \
            const double d = x[k] - m0;                                                                \
            t += d;                                                                                    \
            t2 += d * d;                                                                               \
        }                                                                                              \
        double d1, d2;                                                                                 \
        NNL_ROWS_HSUM_(L, s1, d1);                                                                     \
        NNL_ROWS_HSUM_(L, s2, d2);                                                                     \
        d1 = (d1 + t) / (double)n;                                                                     \
        double var = (d2 + t2) / (double)n - d1 * d1;                                                  \
        const float iv = (float)(1.0 / sqrt((var > 0 ? var : 0) + eps));                               \
        const float mf = (float)(m0 + d1);                                                             \
        vt sc, bi = {0};                                                                               \
        for (i = 0; i + L <= n; i += L) {                                                              \
            memcpy(&v, x + i, sizeof v);                                                               \
            memcpy(&sc, scale + i, sizeof sc);                                                         \
            if (bias) memcpy(&bi, bias + i, sizeof bi);                                                \
            v = (v - mf) * iv * sc + bi;                                                               \
            memcpy(y + i, &v, sizeof v);                                                               \
        }                                                                                              \
        for (; i < n; i++) y[i] = (x[i] - mf) * iv * scale[i] + (bias ? bias[i] : 0.0f);              \
        if (mean) *mean = mf;                                                                          \
        if (inv) *inv = iv;                                                                            \
    }

#endif
