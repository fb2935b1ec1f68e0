/*
 * The ceiling loops, written once in GCC vector extensions and compiled per
 * kernel set (kb_ceil_<set>.c defines KB_SET, KB_VB = vector bytes, KB_ACC =
 * accumulators, KB_HOW, then includes this) with that set's -m flags and
 * -ffp-contract=fast, so a * b + c is one FMA where the set has FMA, as in
 * its microkernels.
 *
 * KB_ACC independent chains cover the FMA latency: a chain issues once per
 * latency (4 cycles on recent x86 cores), so two FMA ports need >= 8.
 */
#include <string.h>

#include "kb.h"

#define KB_CAT_(a, b) a##b
#define KB_CAT(a, b) KB_CAT_(a, b)
#define KB_STR_(a) #a
#define KB_STR(a) KB_STR_(a)

typedef float kb_vf __attribute__((vector_size(KB_VB)));

static float KB_CAT(fma_, KB_SET)(int64_t iters) {
    /* acc * m + a with m just under 1 stays near a / (1 - m): no overflow
     * and no subnormals, whatever iters is */
    const kb_vf m = (kb_vf){0} + 0.999f, a = (kb_vf){0} + 1e-3f;
    kb_vf acc[KB_ACC];
    for (int j = 0; j < KB_ACC; j++) acc[j] = (kb_vf){0} + (float)j;
    for (int64_t i = 0; i < iters; i++) {
#pragma GCC unroll 32
        for (int j = 0; j < KB_ACC; j++) acc[j] = acc[j] * m + a;
    }
    kb_vf s = {0};
    for (int j = 0; j < KB_ACC; j++) s += acc[j];
    float r = 0;
    for (size_t l = 0; l < sizeof s / sizeof(float); l++) r += s[l];
    return r;
}

static void KB_CAT(scale_, KB_SET)(float *y, const float *x, int64_t n, float s) {
    for (int64_t i = 0; i < n; i += KB_VB / 4) {
        kb_vf v;
        memcpy(&v, x + i, KB_VB);
        v *= s;
        memcpy(y + i, &v, KB_VB);
    }
}

const kb_ceil KB_CAT(kb_ceil_, KB_SET) = {
    .set = KB_STR(KB_SET),
    .how = KB_HOW,
    .lanes = KB_VB / 4,
    .acc = KB_ACC,
    .fma = KB_CAT(fma_, KB_SET),
    .scale = KB_CAT(scale_, KB_SET),
};
