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

NNL_MP_F32_WIDTH(16, 4)
#define MP_T float
#define MP_V mp_f32x4
#define MP_L 4
#define MP_FN(name) mp_f32x4_##name
#define MP_LOW (-INFINITY)
#define MP_MAX(a, v) mp_f32x4_max(a, v)
#define MP_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define MP_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
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
#define MP_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define MP_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
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
#define MP_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define MP_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
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

static inline void nnl_maxpool_f32(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e,
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

#endif
