/*
 * Per-tensor QuantizeLinear / DequantizeLinear arithmetic, 16 values at a
 * time as 4 float lanes (one SSE / NEON register) in GCC vector
 * extensions (SSE2 on any x86-64, NEON on aarch64, no kernel-set
 * dispatch), bit for bit what ops/quant/quantize.c's element loops
 * compute:
 *   dequantize  (float)(q - z) * s
 *   quantize    saturate(rintf(x / s) + z), NaN -> z
 * Quantizing clamps x / s to [lo - z, hi - z] before rounding (the same:
 * rounding is monotonic and the bounds are integers) and rounds with the
 * 1.5 * 2^23 sum, which is rintf under the default rounding mode for the
 * clamped magnitudes (< 2^22).
 */
#ifndef NNL_QVEC_H
#define NNL_QVEC_H

#include <stdint.h>
#include <string.h>

typedef float nnl_v4f __attribute__((vector_size(16)));
typedef int32_t nnl_v4i __attribute__((vector_size(16)));

/* Quantization to one 8-bit type with scale s and zero point z. */
typedef struct nnl_qparam {
    float s, lo, hi;           /* lo / hi: the type's range minus z */
    int32_t z;
    bool u8;                   /* uint8, else int8 */
} nnl_qparam;

static inline nnl_qparam nnl_qparam_make(float s, int32_t z, bool u8) {
    nnl_qparam p = {.s = s, .z = z, .u8 = u8};
    p.lo = (u8 ? 0.0f : -128.0f) - (float)z;
    p.hi = (u8 ? 255.0f : 127.0f) - (float)z;
    return p;
}

static inline nnl_v4f nnl_v4f_splat(float v) { return (nnl_v4f){v, v, v, v}; }

static inline nnl_v4f nnl_v4f_sel(nnl_v4i mask, nnl_v4f a, nnl_v4f b) {
    return (nnl_v4f)(((nnl_v4i)a & mask) | ((nnl_v4i)b & ~mask));
}

typedef uint8_t nnl_v16u8 __attribute__((vector_size(16)));
typedef int16_t nnl_v8s16 __attribute__((vector_size(16)));
typedef uint32_t nnl_v4u32 __attribute__((vector_size(16)));

/* 16 values of q dequantized into out[0..3].  Interleaving the bytes
 * with themselves, then the 16-bit pairs with themselves, puts 4 copies of
 * byte k in lane k % 4 of vector k / 4; a shift by 24 (logical for uint8,
 * arithmetic for int8) leaves it extended.  SSE2 does that with punpck,
 * NEON with zip: a widening conversion of 4 bytes is element by element. */
static inline void nnl_dq16(const void *q, const nnl_qparam *p, nnl_v4f out[4]) {
    nnl_v16u8 b;
    memcpy(&b, q, 16);
    const nnl_v8s16 w0 = (nnl_v8s16)__builtin_shufflevector(b, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22,
                                                            7, 23);
    const nnl_v8s16 w1 = (nnl_v8s16)__builtin_shufflevector(b, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14,
                                                            30, 15, 31);
    nnl_v4i d[4] = {(nnl_v4i)__builtin_shufflevector(w0, w0, 0, 8, 1, 9, 2, 10, 3, 11),
                    (nnl_v4i)__builtin_shufflevector(w0, w0, 4, 12, 5, 13, 6, 14, 7, 15),
                    (nnl_v4i)__builtin_shufflevector(w1, w1, 0, 8, 1, 9, 2, 10, 3, 11),
                    (nnl_v4i)__builtin_shufflevector(w1, w1, 4, 12, 5, 13, 6, 14, 7, 15)};
    for (int k = 0; k < 4; k++) {
        nnl_v4i v = p->u8 ? (nnl_v4i)((nnl_v4u32)d[k] >> 24) : d[k] >> 24;
        out[k] = __builtin_convertvector(v - p->z, nnl_v4f) * p->s;
    }
}

/* 4 x 4 values in the clamped integer range (nnl_q16's i) to 16 bytes:
 * the low bytes, which are the values of either 8-bit type; two 16-bit
 * and one byte de-interleave (SSE2: punpck + packuswb; NEON: uzp). */
static inline nnl_v16u8 nnl_narrow16(const nnl_v4i i[4]) {
    nnl_v8s16 lo = __builtin_shufflevector((nnl_v8s16)i[0], (nnl_v8s16)i[1], 0, 2, 4, 6, 8, 10, 12, 14);
    nnl_v8s16 hi = __builtin_shufflevector((nnl_v8s16)i[2], (nnl_v8s16)i[3], 0, 2, 4, 6, 8, 10, 12, 14);
    return __builtin_shufflevector((nnl_v16u8)lo, (nnl_v16u8)hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                   28, 30);
}

/* 16 floats x[0..3] quantized into q. */
static inline void nnl_q16(void *q, const nnl_v4f x[4], const nnl_qparam *p) {
    const nnl_v4f magic = nnl_v4f_splat(12582912.0f), lo = nnl_v4f_splat(p->lo), hi = nnl_v4f_splat(p->hi);
    nnl_v4i i[4];
    for (int k = 0; k < 4; k++) {
        nnl_v4f v = x[k] / p->s;
        v = nnl_v4f_sel(v == v, v, nnl_v4f_splat(0.0f));
        v = nnl_v4f_sel(v < lo, lo, v);
        v = nnl_v4f_sel(v > hi, hi, v);
        v = (v + magic) - magic;
        i[k] = __builtin_convertvector(v, nnl_v4i) + p->z;
    }
    nnl_v16u8 b = nnl_narrow16(i);
    memcpy(q, &b, 16);
}

/* The same for one value (tails). */
static inline float nnl_dq1(const void *q, int64_t i, const nnl_qparam *p) {
    int32_t v = p->u8 ? (int32_t)((const uint8_t *)q)[i] : (int32_t)((const int8_t *)q)[i];
    return (float)(v - p->z) * p->s;
}

static inline void nnl_q1(void *q, int64_t i, float x, const nnl_qparam *p) {
    float v = x / p->s;
    v = v == v ? v : 0.0f;
    v = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
    v = (v + 12582912.0f) - 12582912.0f;
    int32_t r = (int32_t)v + p->z;
    if (p->u8) ((uint8_t *)q)[i] = (uint8_t)r;
    else ((int8_t *)q)[i] = (int8_t)r;
}

#endif
