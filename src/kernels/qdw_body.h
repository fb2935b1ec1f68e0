/*
 * 8-bit depthwise tap sums (nnl_qdw_fn in gemm.h), written as plain loops
 * over blocks of NNL_QDW_BLOCK pixels that GCC vectorizes in each kernel
 * file's ISA (zero-extend, multiply, add in 32-bit lanes; the epilogue in
 * float lanes with a rounding instruction).  The sums are unsigned so that
 * they wrap as vector lanes do instead of overflowing; a product of a
 * uint8 and an int8 always fits.  Requantization is nnl_requant's
 * arithmetic, so every set gives the same bytes.
 */
#ifndef NNL_KERNELS_QDW_BODY_H
#define NNL_KERNELS_QDW_BODY_H

#include <math.h>
#include <stdint.h>

#include "kernels/gemm.h"

#define NNL_QDW_BODY(y, src, w, nt, n, e)                                                              \
    do {                                                                                               \
        const float mult_ = (e)->mult, zy_ = (e)->zy, lo_ = (e)->lo, hi_ = (e)->hi;                    \
        for (int64_t f_ = 0; f_ < (n); f_ += NNL_QDW_BLOCK) {                                         \
            uint32_t acc_[NNL_QDW_BLOCK];                                                              \
            for (int k_ = 0; k_ < NNL_QDW_BLOCK; k_++) acc_[k_] = (uint32_t)(e)->off;                  \
            for (int t_ = 0; t_ < (nt); t_++) {                                                        \
                const uint8_t *s_ = (src)[t_] + f_;                                                    \
                const int32_t w_ = (w)[t_];                                                            \
                for (int k_ = 0; k_ < NNL_QDW_BLOCK; k_++) acc_[k_] += (uint32_t)(w_ * (int32_t)s_[k_]); \
            }                                                                                          \
            for (int k_ = 0; k_ < NNL_QDW_BLOCK; k_++) {                                               \
                float v_ = nearbyintf((float)(int32_t)acc_[k_] * mult_) + zy_;                          \
                v_ = v_ < lo_ ? lo_ : v_ > hi_ ? hi_ : v_;                                             \
                (y)[f_ + k_] = (uint8_t)(int32_t)v_;                                                   \
            }                                                                                          \
        }                                                                                              \
    } while (0)

#endif
