/*
 * The 8-bit residual add of QDQ models (NnlQLinearAdd, ops/quant/qadd.c):
 *   y = saturate(rint(((float)(a - za) * sa + (float)(b - zb) * sb) / sy) + zy)
 * clamped to [lo + zy, hi + zy], NaN -> zy: the float32 arithmetic of
 * DequantizeLinear, Add and QuantizeLinear, step for step, so every kernel
 * set gives the bytes the unfused ONNX ops give.  Rounding adds and
 * subtracts 1.5 * 2^23 (rint for the clamped magnitudes, < 2^22).
 * NNL_QADD_REF is the scalar definition; NNL_QADD_N the same in vectors of
 * the set's width (vbytes / 4 lanes), its tail the reference.
 */
#ifndef NNL_KERNELS_QADD_BODY_H
#define NNL_KERNELS_QADD_BODY_H

#include <string.h>

#include "kernels/gemm.h"
#include "kernels/quant_body.h"

static inline int32_t nnl_q8_at(const void *q, int64_t i, bool u8) {
    return u8 ? (int32_t)((const uint8_t *)q)[i] : (int32_t)((const int8_t *)q)[i];
}

static inline void nnl_qadd_one(void *y, const void *a, const void *b, int64_t i, const nnl_qadd_params *p) {
    float s = (float)(nnl_q8_at(a, i, p->a_u8) - p->za) * p->sa + (float)(nnl_q8_at(b, i, p->b_u8) - p->zb) * p->sb;
    nnl_q8_finish(y, i, s / p->sy, p->lo, p->hi, p->zy, p->y_u8);
}

/* x86 sets skip the per-lane division (a vdivps is ~12 cycles, the rest
 * of 16 lanes' work ~5): q = s * (1 / sy), once corrected, r = s - q sy
 * (exact with a fused multiply-add) and q' = q + r / sy ~ q + r * (1 / sy),
 * is the correctly rounded s / sy when 1 / sy is correctly rounded and q
 * is within an ulp of the quotient, no underflow or overflow on the way
 * (Markstein).  Outside that range the byte does not depend on the
 * difference: a quotient below the normal range rounds to 0 either way,
 * one past 2^24 clamps either way (the kernel keeps q there: the
 * correction of an infinite q is NaN), NaN stays NaN.  Where 1 / sy itself
 * is not normal the kernel takes the division; this says which, and the
 * reciprocal. */
static inline bool nnl_qadd_recip(const nnl_qadd_params *p, float *inv) {
    *inv = 1.0f / p->sy;
    float as = p->sy < 0 ? -p->sy : p->sy, ai = *inv < 0 ? -*inv : *inv;
    return as >= 1.17549435e-38f && ai >= 1.17549435e-38f && ai <= 3.40282347e38f;
}

/* Whether the quotients stay finite and far from the clamp's rounding
 * limits for every input byte, so a kernel may also drop the NaN mask and
 * the guard of the reciprocal's correction and clamp with min / max: the
 * scales finite, |a - za|, |b - zb| <= 255, and the largest |s / sy| below
 * 2^22 with room for the products' rounding.  Checked once a call. */
static inline bool nnl_qadd_tame(const nnl_qadd_params *p, float inv) {
    float as = p->sa < 0 ? -p->sa : p->sa, bs = p->sb < 0 ? -p->sb : p->sb, ai = inv < 0 ? -inv : inv;
    return as <= 1e30f && bs <= 1e30f && (double)255.0 * ((double)as + (double)bs) * (double)ai < 4e6;
}

#define NNL_QADD_REF(y, a, b, n, p)                                                                   \
    do {                                                                                              \
        for (int64_t i_ = 0; i_ < (n); i_++) nnl_qadd_one(y, a, b, i_, p);                            \
    } while (0)

/* The arithmetic on L lanes: ia, ib (int32) -> the result's int32 lanes
 * (the low byte of each). */
#define NNL_QADD_LANES_(vf_, vi_, ia_, ib_, p, lo_, hi_, out_)                                        \
    do {                                                                                              \
        vf_ s_ = __builtin_convertvector((ia_) - (p)->za, vf_) * (p)->sa +                           \
                 __builtin_convertvector((ib_) - (p)->zb, vf_) * (p)->sb;                            \
        vf_ v_ = s_ / (p)->sy;                                                                        \
        NNL_Q8_LANES_(vf_, vi_, v_, lo_, hi_, (p)->zy, out_);                                         \
    } while (0)

#if defined(__clang__)
/* clang turns byte <-> int32 conversions into single widening and
 * narrowing instructions (and has no variable-mask __builtin_shuffle). */
#define NNL_QADD_N(vbytes, y, a, b, n, p)                                                             \
    do {                                                                                              \
        typedef float vf_ __attribute__((vector_size(vbytes)));                                      \
        typedef int32_t vi_ __attribute__((vector_size(vbytes)));                                    \
        typedef uint8_t vbu_ __attribute__((vector_size((vbytes) / 4)));                             \
        typedef int8_t vbs_ __attribute__((vector_size((vbytes) / 4)));                              \
        enum { L_ = (vbytes) / 4 };                                                                   \
        const vf_ lo_ = (vf_){0} + (p)->lo, hi_ = (vf_){0} + (p)->hi;                                 \
        NNL_Q8_NARROW_INIT_(vi_, L_);                                                                 \
        int64_t i_ = 0;                                                                               \
        for (; i_ + L_ <= (n); i_ += L_) {                                                           \
            vbu_ ua_, ub_;                                                                            \
            memcpy(&ua_, (const uint8_t *)(a) + i_, L_);                                              \
            memcpy(&ub_, (const uint8_t *)(b) + i_, L_);                                              \
            vi_ ia_ = (p)->a_u8 ? __builtin_convertvector(ua_, vi_) : __builtin_convertvector((vbs_)ua_, vi_); \
            vi_ ib_ = (p)->b_u8 ? __builtin_convertvector(ub_, vi_) : __builtin_convertvector((vbs_)ub_, vi_); \
            vi_ r_;                                                                                   \
            NNL_QADD_LANES_(vf_, vi_, ia_, ib_, p, lo_, hi_, r_);                                     \
            NNL_Q8_NARROW_STORE_(vi_, L_, r_, (uint8_t *)(y) + i_);                                   \
        }                                                                                             \
        for (; i_ < (n); i_++) nnl_qadd_one(y, a, b, i_, p);                                          \
    } while (0)
#else
/* GCC: bytes are widened without __builtin_convertvector (GCC 12 extracts
 * byte to int lane by lane in scalar code): L bytes are read as the first
 * L / 4 words of a whole vector load (so the vector loop stops vbytes
 * before the end; the rest is the reference loop), each word copied to
 * its 4 lanes (one 32-bit permute) and shifted per lane; narrowing is the
 * reverse (NNL_Q8_NARROW_STORE_).  Every step is one vector instruction on
 * AVX2, AVX-512 and NEON. */
#define NNL_QADD_N(vbytes, y, a, b, n, p)                                                             \
    do {                                                                                              \
        typedef float vf_ __attribute__((vector_size(vbytes)));                                      \
        typedef int32_t vi_ __attribute__((vector_size(vbytes)));                                    \
        typedef uint32_t vu_ __attribute__((vector_size(vbytes)));                                   \
        enum { L_ = (vbytes) / 4 };                                                                   \
        const vf_ lo_ = (vf_){0} + (p)->lo, hi_ = (vf_){0} + (p)->hi;                                 \
        NNL_Q8_NARROW_INIT_(vi_, L_);                                                                 \
        const vi_ word_ = lane_ >> 2, up_ = 24 - sh_;                                                 \
        int64_t i_ = 0;                                                                               \
        /* whole-vector loads (only the first L bytes are used): a partial   */                    \
        /* load into a zeroed vector went through the stack and stalled     */                    \
        for (; i_ + (vbytes) <= (n); i_ += L_) {                                                     \
            vi_ ra_, rb_;                                                                             \
            memcpy(&ra_, (const uint8_t *)(a) + i_, vbytes);                                          \
            memcpy(&rb_, (const uint8_t *)(b) + i_, vbytes);                                          \
            ra_ = __builtin_shuffle(ra_, word_);                                                      \
            rb_ = __builtin_shuffle(rb_, word_);                                                      \
            vi_ ia_ = (p)->a_u8 ? (vi_)(((vu_)ra_ >> (vu_)sh_) & 0xff) : (ra_ << up_) >> 24;          \
            vi_ ib_ = (p)->b_u8 ? (vi_)(((vu_)rb_ >> (vu_)sh_) & 0xff) : (rb_ << up_) >> 24;          \
            vi_ r_;                                                                                   \
            NNL_QADD_LANES_(vf_, vi_, ia_, ib_, p, lo_, hi_, r_);                                     \
            NNL_Q8_NARROW_STORE_(vi_, L_, r_, (uint8_t *)(y) + i_);                                   \
        }                                                                                             \
        for (; i_ < (n); i_++) nnl_qadd_one(y, a, b, i_, p);                                          \
    } while (0)
#endif

#endif
