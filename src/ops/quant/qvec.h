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
 * clamped magnitudes (< 2^22).  The 16 values stay in registers: four
 * loads, four divisions, max / min, the sum's bits as the integer, one
 * narrowing, one store (about 3 instructions a value with SSE2; the
 * division is not what limits it).
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

/* Lane-wise max / min of 4 floats (x86: maxps / minps): the loop form is
 * the one GCC turns into the instruction, the mask form the one clang
 * does; the result is the same, (a > b ? a : b) per lane. */
static inline nnl_v4f nnl_v4f_max(nnl_v4f a, nnl_v4f b) {
#ifdef __clang__
    return nnl_v4f_sel(a > b, a, b);
#else
    nnl_v4f r;
    for (int k = 0; k < 4; k++) r[k] = a[k] > b[k] ? a[k] : b[k];
    return r;
#endif
}

static inline nnl_v4f nnl_v4f_min(nnl_v4f a, nnl_v4f b) {
#ifdef __clang__
    return nnl_v4f_sel(a < b, a, b);
#else
    nnl_v4f r;
    for (int k = 0; k < 4; k++) r[k] = a[k] < b[k] ? a[k] : b[k];
    return r;
#endif
}

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

/* 4 x 4 int32 lanes to 16 bytes: the low byte of each, which is the value
 * of either 8-bit type; two 16-bit and one byte de-interleave (SSE2:
 * punpck + packuswb; NEON: uzp). */
static inline nnl_v16u8 nnl_narrow16(nnl_v4i i0, nnl_v4i i1, nnl_v4i i2, nnl_v4i i3) {
    nnl_v8s16 lo = __builtin_shufflevector((nnl_v8s16)i0, (nnl_v8s16)i1, 0, 2, 4, 6, 8, 10, 12, 14);
    nnl_v8s16 hi = __builtin_shufflevector((nnl_v8s16)i2, (nnl_v8s16)i3, 0, 2, 4, 6, 8, 10, 12, 14);
    return __builtin_shufflevector((nnl_v16u8)lo, (nnl_v16u8)hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                   28, 30);
}

/* 4 floats quantized: int32 lanes whose low byte is the 8-bit result.
 * x / s with NaN made 0 (an and with the v == v mask), clamped to
 * [lo, hi] (then v + 1.5 * 2^23 lies in [2^23, 2^24), where the float
 * spacing is 1, so the sum rounds v half to even, the parity of the even
 * constant not mattering), and the rounded integer read from the sum's
 * bits, 0x4B400000 + rint(v), with z added in the same integer add. */
static inline nnl_v4i nnl_q4(nnl_v4f x, const nnl_qparam *p) {
    nnl_v4f v = x / p->s;
    v = (nnl_v4f)((nnl_v4i)v & (v == v));
    v = nnl_v4f_min(nnl_v4f_max(v, nnl_v4f_splat(p->lo)), nnl_v4f_splat(p->hi));
    return (nnl_v4i)(v + 12582912.0f) + (p->z - 0x4B400000);
}

/* 16 floats of x (unaligned) quantized into q. */
static inline void nnl_q16(void *q, const float *x, const nnl_qparam *p) {
    nnl_v4f x0, x1, x2, x3;
    memcpy(&x0, x, 16);
    memcpy(&x1, x + 4, 16);
    memcpy(&x2, x + 8, 16);
    memcpy(&x3, x + 12, 16);
    const nnl_v16u8 b = nnl_narrow16(nnl_q4(x0, p), nnl_q4(x1, p), nnl_q4(x2, p), nnl_q4(x3, p));
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
