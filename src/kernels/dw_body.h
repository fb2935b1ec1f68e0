/*
 * Depthwise tap sums, written with GCC vector extensions so each kernel
 * file that includes this header gets them in its own ISA (like
 * gemv_body.h): y[f] = bias + sum_t w[t] * src[t][f].  The driver
 * (kernels/conv.c) turns every stride and dilation into unit-stride tap
 * rows, so one body serves all of them.  The taps are summed in the same
 * order as the scalar reference, so only the rounding of mul + add differs;
 * the activation is applied before the store (sigmoid and SiLU through the
 * vector sigmoid of kernels/vmath.h, the others as lane-wise selects).
 */
#ifndef NNL_KERNELS_DW_BODY_H
#define NNL_KERNELS_DW_BODY_H

#include <stdint.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/vmath.h"

/* Vector sets compute whole blocks of NNL_DW_BLOCK outputs: callers give
 * y and every src[t] room for n rounded up to it. */
#define NNL_DW_BLOCK 32

/* The body for one ISA's native vector of B bytes (16, 32 or 64):
 * NNL_DW_BLOCK / (B / 4) accumulators (8, 4 or 2) hide the add latency.
 * Written for the native width only: GCC splits wider generic vectors
 * badly (scalar broadcasts through the stack), and spelled out
 * accumulator by accumulator because an array of them stays in memory.
 * The `NA_ > k` tests are constants, so unused accumulators vanish. */
#define NNL_DW_ACC_(k, op)                                                                             \
    if (NA_ > k) {                                                                                     \
        op(a##k##_, k);                                                                                \
    }
#define NNL_DW_ALL_(op)                                                                                \
    NNL_DW_ACC_(0, op) NNL_DW_ACC_(1, op) NNL_DW_ACC_(2, op) NNL_DW_ACC_(3, op) NNL_DW_ACC_(4, op)     \
    NNL_DW_ACC_(5, op) NNL_DW_ACC_(6, op) NNL_DW_ACC_(7, op)
#define NNL_DW_INIT_(a, k) a = b_
#define NNL_DW_FMA_(a, k)                                                                              \
    do {                                                                                               \
        memcpy(&v_, s_ + (k) * L_, sizeof v_);                                                         \
        a += w_ * v_;                                                                                  \
    } while (0)
#define NNL_DW_STORE_(a, k) memcpy(yf_ + (k) * L_, &a, sizeof a)


#define NNL_DW_ACT_(a, k)                                                                              \
    do {                                                                                               \
        switch (act_) {                                                                                \
        case NNL_ACT_RELU: a = NNL_VMAX(vt_, vi_, a, zero_); break;                                 \
        case NNL_ACT_CLIP: a = NNL_VMIN(vt_, vi_, NNL_VMAX(vt_, vi_, a, pa_), pb_); break;         \
        case NNL_ACT_HARDSIGMOID:                                                                      \
            a = NNL_VMIN(vt_, vi_, NNL_VMAX(vt_, vi_, pa_ * a + pb_, zero_), one_);               \
            break;                                                                                     \
        case NNL_ACT_HARDSWISH:                                                                        \
            a = a * NNL_VMIN(vt_, vi_, NNL_VMAX(vt_, vi_, a * sixth_ + half_, zero_), one_);      \
            break;                                                                                     \
        case NNL_ACT_LEAKYRELU: {                                                                      \
            vi_ neg_ = (vi_)(a < zero_);                                                               \
            a = (vt_)(((vi_)a & ~neg_) | ((vi_)(pa_ * a) & neg_));                                     \
            break;                                                                                     \
        }                                                                                              \
        default: break;                                                                                \
        }                                                                                              \
    } while (0)

#define NNL_DW_TAPS_BODY(B, y, src, w, nt, n, bias, act, act_a, act_b)                                 \
    do {                                                                                               \
        typedef float vt_ __attribute__((vector_size(B)));                                             \
        typedef int32_t vi_ __attribute__((vector_size(B)));                                           \
        enum { L_ = (B) / 4, NA_ = NNL_DW_BLOCK / L_ };                                                \
        const vt_ b_ = (vt_){0} + (bias), zero_ = {0}, one_ = zero_ + 1.0f, sixth_ = zero_ + 1.0f / 6.0f; \
        const vt_ half_ = zero_ + 0.5f, pa_ = zero_ + (act_a), pb_ = zero_ + (act_b);                   \
        const nnl_act act_ = (act) == NNL_ACT_SIGMOID || (act) == NNL_ACT_SILU ? NNL_ACT_NONE : (act);  \
        for (int64_t f_ = 0; f_ < (n); f_ += NNL_DW_BLOCK) {                                           \
            vt_ a0_ = b_, a1_ = b_, a2_ = b_, a3_ = b_, a4_ = b_, a5_ = b_, a6_ = b_, a7_ = b_, v_;     \
            for (int t_ = 0; t_ < (nt); t_++) {                                                        \
                const float *s_ = (src)[t_] + f_;                                                      \
                const vt_ w_ = (vt_){0} + (w)[t_];                                                     \
                NNL_DW_ALL_(NNL_DW_FMA_)                                                               \
            }                                                                                          \
            NNL_DW_ALL_(NNL_DW_ACT_)                                                                   \
            float *yf_ = (y) + f_;                                                                     \
            NNL_DW_ALL_(NNL_DW_STORE_)                                                                 \
            if ((act) == NNL_ACT_SIGMOID) NNL_SIGMOID_N(B, yf_, yf_, NNL_DW_BLOCK);                     \
            if ((act) == NNL_ACT_SILU) {                                                               \
                float sg_[NNL_DW_BLOCK];                                                               \
                NNL_SIGMOID_N(B, sg_, yf_, NNL_DW_BLOCK);                                              \
                for (int i_ = 0; i_ < NNL_DW_BLOCK; i_++) yf_[i_] *= sg_[i_];                          \
            }                                                                                          \
        }                                                                                              \
    } while (0)

#endif
