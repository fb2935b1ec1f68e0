/*
 * Per-tensor DequantizeLinear arithmetic, 16 values at a time as 4 float
 * lanes (one SSE / NEON register) in GCC vector extensions (SSE2 on any
 * x86-64, NEON on aarch64, no kernel-set dispatch), bit for bit what
 * ops/quant/quantize.c's element loop computes: (float)(q - z) * s.
 * (QuantizeLinear, a division per value that wants the set's widest
 * lanes, is the kernel sets' quant: kernels/quant_body.h.)
 */
#ifndef NNL_QVEC_H
#define NNL_QVEC_H

#include <stdint.h>
#include <string.h>

typedef float nnl_v4f __attribute__((vector_size(16)));
typedef int32_t nnl_v4i __attribute__((vector_size(16)));

/* One 8-bit type's scale s and zero point z. */
typedef struct nnl_qparam {
    float s;
    int32_t z;
    bool u8;                   /* uint8, else int8 */
} nnl_qparam;

static inline nnl_qparam nnl_qparam_make(float s, int32_t z, bool u8) { return (nnl_qparam){.s = s, .z = z, .u8 = u8}; }

typedef uint8_t nnl_v16u8 __attribute__((vector_size(16)));
typedef int16_t nnl_v8s16 __attribute__((vector_size(16)));

/* 4 bytes of b from byte `at` (a multiple of 4) widened to 4 int32 lanes,
 * uint8 values (int8 data arrives biased by 0x80, see nnl_dq16).  Zero
 * bytes interleaved twice: SSE2 punpcklbw / punpcklwd, NEON zip. */
static inline nnl_v4i nnl_widen4(nnl_v16u8 b, int at) {
    const nnl_v16u8 zb = {0};
    const nnl_v8s16 zw = {0};
    const nnl_v8s16 w = at < 8 ? (nnl_v8s16)__builtin_shufflevector(b, zb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21,
                                                                     6, 22, 7, 23)
                               : (nnl_v8s16)__builtin_shufflevector(b, zb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28,
                                                                     13, 29, 14, 30, 15, 31);
    return at % 8 == 0 ? (nnl_v4i)__builtin_shufflevector(w, zw, 0, 8, 1, 9, 2, 10, 3, 11)
                       : (nnl_v4i)__builtin_shufflevector(w, zw, 4, 12, 5, 13, 6, 14, 7, 15);
}

/* 16 values of q dequantized into out (unaligned).  int8 is read as
 * uint8 with its sign bit flipped (v + 128) and a zero point 128 larger:
 * the difference q - z, an integer, is the same, so the float result is.
 * The widening is the same for both types and has no branch. */
static inline void nnl_dq16(const void *q, const nnl_qparam *p, float *out) {
    nnl_v16u8 b;
    memcpy(&b, q, 16);
    const uint8_t flip = p->u8 ? 0 : 0x80;
    b ^= flip;
    const int32_t z = p->u8 ? p->z : p->z + 128;
    const nnl_v4f o0 = __builtin_convertvector(nnl_widen4(b, 0) - z, nnl_v4f) * p->s;
    const nnl_v4f o1 = __builtin_convertvector(nnl_widen4(b, 4) - z, nnl_v4f) * p->s;
    const nnl_v4f o2 = __builtin_convertvector(nnl_widen4(b, 8) - z, nnl_v4f) * p->s;
    const nnl_v4f o3 = __builtin_convertvector(nnl_widen4(b, 12) - z, nnl_v4f) * p->s;
    memcpy(out, &o0, 16);
    memcpy(out + 4, &o1, 16);
    memcpy(out + 8, &o2, 16);
    memcpy(out + 12, &o3, 16);
}

/* One value (tails). */
static inline float nnl_dq1(const void *q, int64_t i, const nnl_qparam *p) {
    int32_t v = p->u8 ? (int32_t)((const uint8_t *)q)[i] : (int32_t)((const int8_t *)q)[i];
    return (float)(v - p->z) * p->s;
}

#endif
