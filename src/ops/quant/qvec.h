/*
 * Per-tensor QuantizeLinear / DequantizeLinear arithmetic, 4 lanes (one
 * SSE / NEON register) at a time in GCC vector extensions (SSE2 on any x86-64, NEON on aarch64, no
 * kernel-set dispatch), bit for bit what ops/quant/quantize.c's element
 * loops compute:
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
typedef uint8_t nnl_v4u8 __attribute__((vector_size(4)));
typedef int8_t nnl_v4s8 __attribute__((vector_size(4)));

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

/* 4 values of q (uint8 or int8) dequantized. */
static inline nnl_v4f nnl_dq4(const void *q, const nnl_qparam *p) {
    nnl_v4i v;
    if (p->u8) {
        nnl_v4u8 b;
        memcpy(&b, q, 4);
        v = __builtin_convertvector(b, nnl_v4i);
    } else {
        nnl_v4s8 b;
        memcpy(&b, q, 4);
        v = __builtin_convertvector(b, nnl_v4i);
    }
    return __builtin_convertvector(v - p->z, nnl_v4f) * p->s;
}

/* 4 floats quantized into q. */
static inline void nnl_q4(void *q, nnl_v4f x, const nnl_qparam *p) {
    const nnl_v4f magic = nnl_v4f_splat(12582912.0f), lo = nnl_v4f_splat(p->lo), hi = nnl_v4f_splat(p->hi);
    nnl_v4f v = x / p->s;
    v = nnl_v4f_sel(v == v, v, nnl_v4f_splat(0.0f));
    v = nnl_v4f_sel(v < lo, lo, v);
    v = nnl_v4f_sel(v > hi, hi, v);
    v = (v + magic) - magic;
    nnl_v4i i = __builtin_convertvector(v, nnl_v4i) + p->z;
    if (p->u8) {
        nnl_v4u8 b = __builtin_convertvector(i, nnl_v4u8);
        memcpy(q, &b, 4);
    } else {
        nnl_v4s8 b = __builtin_convertvector(i, nnl_v4s8);
        memcpy(q, &b, 4);
    }
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
