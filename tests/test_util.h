/*
 * Helpers shared by the cmocka kernel and op tests.  Include after
 * <cmocka.h>.
 */
#ifndef NNL_TEST_UTIL_H
#define NNL_TEST_UTIL_H

#include "core/core.h"

/* n floats in [-1, 1) from a fixed linear congruential sequence (the
 * expected values of the tests were computed from exactly these), aligned
 * for the kernels; free with nnl_aligned_free. */
static inline float *rnd(int64_t n, unsigned seed) {
    float *p = nnl_aligned_alloc((size_t)(n ? n : 1) * sizeof(float));
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 9) & 0xFFFF) / 32768.0f - 1.0f;
    }
    return p;
}

#endif
