/*
 * IEEE binary16 <-> binary32/64, the scalar definitions: Cast and the other
 * float16 ops use them, compile rounds float16 weights with them, and every
 * kernel set's vector conversion (nnl_kernel.h2f) is tested against
 * nnl_half_to_float on all 65536 inputs.
 */
#include <string.h>

#include "core/core.h"

float nnl_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0) {
        float v = (float)m * 5.9604644775390625e-8f;   /* m * 2^-24, exact */
        return sign ? -v : v;
    }
    if (e == 31) /* a signalling NaN comes out quiet, as from vcvtph2ps and fcvtl */
        bits = sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0);
    else
        bits = sign | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t nnl_double_to_half(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    uint16_t sign = (uint16_t)((b >> 48) & 0x8000);
    uint64_t a = b & 0x7fffffffffffffffull;
    if (a >= 0x7ff0000000000000ull) {
        if (a == 0x7ff0000000000000ull) return sign | 0x7c00;
        return (uint16_t)(sign | 0x7e00 | ((a >> 42) & 0x3ff));   /* quiet NaN */
    }
    int e = (int)(a >> 52) - 1023;
    uint64_t mant = a & ((1ull << 52) - 1);
    if (e > 15) return sign | 0x7c00;
    if (e >= -14) {
        uint32_t h = ((uint32_t)(e + 15) << 10) | (uint32_t)(mant >> 42);
        uint64_t rem = mant & ((1ull << 42) - 1), half = 1ull << 41;
        /* a carry out of the mantissa bumps the exponent, up to infinity */
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    /* subnormal half: round(|d| * 2^24) */
    uint64_t full = mant | (1ull << 52);
    int shift = 28 - e;
    if (shift > 63) return sign;
    uint64_t m = full >> shift, rem = full & ((1ull << shift) - 1), half = 1ull << (shift - 1);
    if (rem > half || (rem == half && (m & 1))) m++;
    return (uint16_t)(sign | m);
}
