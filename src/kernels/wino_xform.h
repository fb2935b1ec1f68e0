/*
 * Winograd F(4x4, 3x3) tile transforms on 16 tiles at once, written with
 * GCC vector extensions so each kernel file that includes this header gets
 * them in its own ISA (SSE/NEON in the scalar set, ymm in avx2, zmm in
 * avx512).  Only kernel files include it; they export the two functions
 * through nnl_kernel.wino_in / wino_out.
 *
 * Interpolation points 0, 1, -1, 2, -1/2 and infinity: against the usual
 * 0, +-1, +-2 they cut the float32 error about 3x (simulated on random
 * 256-channel tiles: 1.2e-5 vs 3.8e-5 of the output RMS), because the
 * largest entries of A^T shrink from 8 and 4 (twice) to one 8 and 4.
 *   B^T = [ 1  3/2   -2  -3/2    1  0 ]   A^T = [ 1  1  1  1     1  0 ]
 *         [ 0   -1 -5/2  -1/2    1  0 ]         [ 0  1 -1  2  -1/2  0 ]
 *         [ 0    1  1/2  -5/2    1  0 ]         [ 0  1  1  4   1/4  0 ]
 *         [ 0 -1/2   -1   1/2    1  0 ]         [ 0  1 -1  8  -1/8  1 ]
 *         [ 0    2   -1    -2    1  0 ]
 *         [ 0    1  3/2    -2 -3/2  1 ]
 * (G is applied at compile time, kernels/wino.c.)  The values are kept as
 * vectors in locals and never passed by value, so no vector ABI question
 * arises in files built without the wider ISA.
 */
#ifndef NNL_KERNELS_WINO_XFORM_H
#define NNL_KERNELS_WINO_XFORM_H

#include <stdint.h>
#include <string.h>

typedef float nnl_wv16 __attribute__((vector_size(64)));

#define WX_LD(v, p) memcpy(&(v), (p), sizeof(nnl_wv16))
#define WX_ST(p, v) memcpy((p), &(v), sizeof(nnl_wv16))

/* o = B^T x for six vectors */
#define WX_BT(x, o)                                                                                    \
    do {                                                                                               \
        (o)[0] = (x)[0] + 1.5f * (x)[1] - 2.0f * (x)[2] - 1.5f * (x)[3] + (x)[4];                      \
        (o)[1] = (x)[4] - (x)[1] - 2.5f * (x)[2] - 0.5f * (x)[3];                                      \
        (o)[2] = (x)[1] + 0.5f * (x)[2] - 2.5f * (x)[3] + (x)[4];                                      \
        (o)[3] = (x)[4] - 0.5f * (x)[1] - (x)[2] + 0.5f * (x)[3];                                      \
        (o)[4] = 2.0f * (x)[1] - (x)[2] - 2.0f * (x)[3] + (x)[4];                                      \
        (o)[5] = (x)[1] + 1.5f * (x)[2] - 2.0f * (x)[3] - 1.5f * (x)[4] + (x)[5];                      \
    } while (0)

/* o = A^T m for six vectors in, four out */
#define WX_AT(m, o)                                                                                    \
    do {                                                                                               \
        nnl_wv16 s_ = (m)[1] + (m)[2], d_ = (m)[1] - (m)[2];                                           \
        (o)[0] = (m)[0] + s_ + (m)[3] + (m)[4];                                                        \
        (o)[1] = d_ + 2.0f * (m)[3] - 0.5f * (m)[4];                                                   \
        (o)[2] = s_ + 4.0f * (m)[3] + 0.25f * (m)[4];                                                  \
        (o)[3] = d_ + 8.0f * (m)[3] - 0.125f * (m)[4] + (m)[5];                                        \
    } while (0)

/* d: 36 rows of 16 floats ds apart, row 6r+c = input patch element (r, c)
 * of 16 tiles; writes V = B^T d B as 36 rows of 16 floats, row xi at v +
 * xi*vs. */
static inline __attribute__((always_inline)) void nnl_wino_in16s(float *v, int64_t vs, const float *d, int64_t ds) {
    nnl_wv16 t[36], x[6], o[6];
    for (int c = 0; c < 6; c++) {
        for (int r = 0; r < 6; r++) WX_LD(x[r], d + (6 * r + c) * ds);
        WX_BT(x, o);
        for (int i = 0; i < 6; i++) t[6 * i + c] = o[i];
    }
    for (int i = 0; i < 6; i++) {
        WX_BT(t + 6 * i, o);
        for (int j = 0; j < 6; j++) WX_ST(v + (6 * i + j) * vs, o[j]);
    }
}
static inline __attribute__((always_inline)) void nnl_wino_in16(float *v, int64_t vs, const float *d) {
    nnl_wino_in16s(v, vs, d, 16);
}

/* nnl_wino_in16 on runs of tiles read from a padded plane (gemm.h
 * nnl_wino_runs): element (r, c) of the run's tiles is every fourth
 * float of the run's patch row r from column c, 16 at a time by
 * two-source shuffles of the row's 80 floats (columns 4 and 5: columns 0
 * and 1 one tile on), stored at the run's lanes of d, rows 32 floats
 * apart (a later run overwrites the lanes an earlier one spilled into);
 * then nnl_wino_in16 on d: the same bits as on the gathered patches. */
#define WX_EVERY4(a, b, c, d, k)                                                                       \
    __builtin_shufflevector(__builtin_shufflevector(a, b, k, k + 4, k + 8, k + 12, k + 16, k + 20, k + 24, k + 28), \
                            __builtin_shufflevector(c, d, k, k + 4, k + 8, k + 12, k + 16, k + 20, k + 24, k + 28), \
                            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
static inline __attribute__((always_inline)) void nnl_wino_in_runs16(float *v, int64_t vs, const float *const *rp,
                                                                     const int *l0, int count, int covered,
                                                                     int64_t ps) {
    float d[36 * 32];
    for (int q = 0; q < count; q++)
        for (int r = 0; r < 6; r++) {
            nnl_wv16 t0, t1, t2, t3, t4, c0, c1;
            const float *row = rp[q] + r * ps;
            WX_LD(t0, row);
            WX_LD(t1, row + 16);
            WX_LD(t2, row + 32);
            WX_LD(t3, row + 48);
            WX_LD(t4, row + 64);
            float *o = d + 6 * r * 32 + l0[q];
            c0 = WX_EVERY4(t0, t1, t2, t3, 0);
            c1 = WX_EVERY4(t0, t1, t2, t3, 1);
            nnl_wv16 c2 = WX_EVERY4(t0, t1, t2, t3, 2), c3 = WX_EVERY4(t0, t1, t2, t3, 3);
            nnl_wv16 c4 = __builtin_shufflevector(c0, t4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
            nnl_wv16 c5 = __builtin_shufflevector(c1, t4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17);
            WX_ST(o, c0);
            WX_ST(o + 32, c1);
            WX_ST(o + 64, c2);
            WX_ST(o + 96, c3);
            WX_ST(o + 128, c4);
            WX_ST(o + 160, c5);
        }
    if (covered < 16)
        for (int xi = 0; xi < 36; xi++) memset(d + xi * 32 + covered, 0, (size_t)(16 - covered) * sizeof(float));
    nnl_wino_in16s(v, vs, d, 32);
}

/* m: 36 rows of 16 floats, row xi at m + xi*ms; writes Y = A^T m A as 16
 * rows of 16 floats, row 4i+j = output (i, j) of the 16 tiles. */
static inline __attribute__((always_inline)) void nnl_wino_out16(float *y, const float *m, int64_t ms) {
    nnl_wv16 t[24], x[6], o[4];
    for (int c = 0; c < 6; c++) {
        for (int r = 0; r < 6; r++) WX_LD(x[r], m + (6 * r + c) * ms);
        WX_AT(x, o);
        for (int i = 0; i < 4; i++) t[6 * i + c] = o[i];
    }
    for (int i = 0; i < 4; i++) {
        WX_AT(t + 6 * i, o);
        for (int j = 0; j < 4; j++) WX_ST(y + (4 * i + j) * 16, o[j]);
    }
}

/* Weight transform U = G g G^T of n input channels of two PACK_A8 panels
 * at once (8 output channels each: 16 lanes).  g0 / g1 hold n groups of 9
 * taps x 8 floats (as PACK_A8 stores them); channel i's point xi goes to
 * u0 / u1 + xi*us + 8*i.  For a single panel pass it twice (g1 = g0, u1 =
 * u0).  In float: computing in double and rounding once was measured to
 * change nothing (FCN ResNet-50 1.35e-4 vs 1.36e-4 from PyTorch; unit
 * tests 8.0e-7 vs 7.95e-7) at twice the cost.  G's rows are combinations
 * of w0 + w2, so each 1-D pass costs 5 multiplies (G in kernels/wino.c). */
#define WX_G(w0, w1, w2, o)                                                                            \
    do {                                                                                               \
        nnl_wv16 s_ = (w0) + (w2);                                                                     \
        (o)[0] = (w0);                                                                                 \
        (o)[1] = -(s_ + (w1)) * (1.0f / 3.0f);                                                         \
        (o)[2] = (s_ - (w1)) * (1.0f / 3.0f);                                                          \
        (o)[3] = ((w0) + 2.0f * (w1) + 4.0f * (w2)) * (1.0f / 15.0f);                                  \
        (o)[4] = (-16.0f * (w0) + 8.0f * (w1) - 4.0f * (w2)) * (1.0f / 15.0f);                         \
        (o)[5] = (w2);                                                                                 \
    } while (0)

typedef float nnl_wv8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void nnl_wino_wt16(float *u0, float *u1, int64_t us, const float *g0,
                                                                const float *g1, int64_t n) {
    for (int64_t i = 0; i < n; i++, g0 += 72, g1 += 72, u0 += 8, u1 += 8) {
        /* halves joined and split by shuffles: through memory, two 32-byte
         * stores read back as one 64-byte load stall on store forwarding */
        nnl_wv16 w[9], t[3][6], r[6];
        for (int k = 0; k < 9; k++) {
            nnl_wv8 a, b;
            memcpy(&a, g0 + 8 * k, sizeof a);
            memcpy(&b, g1 + 8 * k, sizeof b);
            w[k] = __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        }
        for (int c = 0; c < 3; c++) WX_G(w[c], w[3 + c], w[6 + c], t[c]);   /* t[c][row] */
        for (int row = 0; row < 6; row++) {
            WX_G(t[0][row], t[1][row], t[2][row], r);
            for (int c = 0; c < 6; c++) {
                nnl_wv8 lo = __builtin_shufflevector(r[c], r[c], 0, 1, 2, 3, 4, 5, 6, 7);
                nnl_wv8 hi = __builtin_shufflevector(r[c], r[c], 8, 9, 10, 11, 12, 13, 14, 15);
                memcpy(u0 + (6 * row + c) * us, &lo, sizeof lo);
                memcpy(u1 + (6 * row + c) * us, &hi, sizeof hi);
            }
        }
    }
}

#endif
