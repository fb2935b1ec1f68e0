/*
 * Per-tensor QuantizeLinear (ops/quant/quantize.c) as a kernel:
 *   y = saturate(rint(x / s) + z), NaN -> z
 * in the float32 arithmetic the ONNX op defines: x / s a true division
 * (every set's lanes give the correctly rounded quotient), clamped to
 * [lo, hi] (the type's range minus z: the same as clamping after
 * rounding, the bounds being integers), rounded half to even by adding
 * 1.5 * 2^23 (where the float spacing is 1, for the clamped magnitudes
 * below 2^22), the integer read from the sum's bits.  NNL_QUANT_REF is the
 * scalar definition; NNL_QUANT_N the same in vectors of the set's width
 * (vbytes / 4 lanes; the division is most of the time, and its lanes are
 * what a wider set adds), its tail the reference.  The finishing steps
 * (NaN, clamp, rounding, the zero point, the byte) are also the 8-bit
 * add's (kernels/qadd_body.h).
 */
#ifndef NNL_KERNELS_QUANT_BODY_H
#define NNL_KERNELS_QUANT_BODY_H

#include <string.h>

#include "kernels/gemm.h"

/* Byte i of y from a quotient v: NaN -> 0, clamped to [lo, hi], rounded
 * half to even, z added. */
static inline void nnl_q8_finish(void *y, int64_t i, float v, float lo, float hi, int32_t z, bool u8) {
    v = v == v ? v : 0.0f;
    v = v < lo ? lo : v > hi ? hi : v;
    v = (v + 12582912.0f) - 12582912.0f;
    int32_t r = (int32_t)v + z;
    if (u8)
        ((uint8_t *)y)[i] = (uint8_t)r;
    else
        ((int8_t *)y)[i] = (int8_t)r;
}

static inline void nnl_quant_one(void *y, const float *x, int64_t i, const nnl_quant_params *p) {
    nnl_q8_finish(y, i, x[i] / p->s, p->lo, p->hi, p->z, p->y_u8);
}

#define NNL_QUANT_REF(y, x, n, p)                                                                     \
    do {                                                                                              \
        for (int64_t i_ = 0; i_ < (n); i_++) nnl_quant_one(y, x, i_, p);                              \
    } while (0)

/* nnl_q8_finish on the lanes of v_ (vf_, its int32 twin vi_): int32 lanes
 * whose low byte is the result.  NaN made 0 by an and with the v == v
 * mask, clamped by lane masks (C has no vector ?:), z added to the rounded
 * sum's bits. */
#define NNL_Q8_LANES_(vf_, vi_, v_, lo_, hi_, z, out_)                                                \
    do {                                                                                              \
        vf_ q_ = (vf_)((vi_)(v_) & ((v_) == (v_)));                                                   \
        vi_ m_ = q_ < (lo_);                                                                          \
        q_ = (vf_)(((vi_)(lo_) & m_) | ((vi_)q_ & ~m_));                                              \
        m_ = q_ > (hi_);                                                                              \
        q_ = (vf_)(((vi_)(hi_) & m_) | ((vi_)q_ & ~m_));                                              \
        out_ = (vi_)(q_ + 12582912.0f) + ((z) - 0x4B400000);                                          \
    } while (0)

/* The low bytes of L_ int32 lanes r_ stored at dst.  clang narrows with
 * one conversion; GCC (12 lowers that lane by lane in scalar code) moves
 * each byte to its place in its word, ORs the 4 lanes of a word together
 * by two permutes and gathers the words by a third.  NNL_Q8_NARROW_INIT_
 * declares what the store uses. */
#if defined(__clang__)
#define NNL_Q8_NARROW_INIT_(vi_, L_) typedef uint8_t vbn_ __attribute__((vector_size(L_)))
#define NNL_Q8_NARROW_STORE_(vi_, L_, r_, dst)                                                        \
    do {                                                                                              \
        vbn_ o_ = __builtin_convertvector((r_) & 0xff, vbn_);                                         \
        memcpy((dst), &o_, L_);                                                                       \
    } while (0)
#else
#define NNL_Q8_NARROW_INIT_(vi_, L_)                                                                  \
    vi_ lane_;                                                                                        \
    for (int k_ = 0; k_ < (L_); k_++) lane_[k_] = k_;                                                 \
    const vi_ sh_ = (lane_ & 3) * 8, x1_ = lane_ ^ 1, x2_ = lane_ ^ 2, pick_ = (lane_ * 4) & ((L_) - 1)
#define NNL_Q8_NARROW_STORE_(vi_, L_, r_, dst)                                                        \
    do {                                                                                              \
        vi_ w_ = ((r_) & 0xff) << sh_;                                                                \
        w_ |= __builtin_shuffle(w_, x1_);                                                             \
        w_ |= __builtin_shuffle(w_, x2_);                                                             \
        w_ = __builtin_shuffle(w_, pick_);                                                            \
        memcpy((dst), &w_, L_);                                                                       \
    } while (0)
#endif

#define NNL_QUANT_N(vbytes, y, x, n, p)                                                               \
    do {                                                                                              \
        typedef float vf_ __attribute__((vector_size(vbytes)));                                      \
        typedef int32_t vi_ __attribute__((vector_size(vbytes)));                                    \
        enum { L_ = (vbytes) / 4 };                                                                   \
        const vf_ s_ = (vf_){0} + (p)->s, lo_ = (vf_){0} + (p)->lo, hi_ = (vf_){0} + (p)->hi;         \
        NNL_Q8_NARROW_INIT_(vi_, L_);                                                                 \
        int64_t i_ = 0;                                                                               \
        for (; i_ + L_ <= (n); i_ += L_) {                                                           \
            vf_ xv_;                                                                                  \
            memcpy(&xv_, (x) + i_, vbytes);                                                           \
            xv_ = xv_ / s_;                                                                           \
            vi_ r_;                                                                                   \
            NNL_Q8_LANES_(vf_, vi_, xv_, lo_, hi_, (p)->z, r_);                                       \
            NNL_Q8_NARROW_STORE_(vi_, L_, r_, (uint8_t *)(y) + i_);                                   \
        }                                                                                             \
        for (; i_ < (n); i_++) nnl_quant_one(y, x, i_, p);                                            \
    } while (0)

#endif
