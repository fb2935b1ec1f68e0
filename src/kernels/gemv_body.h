/*
 * Panel dot products for GEMMs with a single row or column (decode steps,
 * classifier heads), written with GCC vector extensions so each kernel file
 * that includes this header gets them in its own ISA, like wino_xform.h.
 * acc[i] = sum_k panel[k * 8 + i] * x[k * xs] for one PACK_A8 panel (8 rows
 * of the weight side).  Four partial sums per lane hide the FMA latency;
 * the sums are combined in a fixed order, so the result does not depend on
 * threading.
 */
#ifndef NNL_KERNELS_GEMV_BODY_H
#define NNL_KERNELS_GEMV_BODY_H

#include <stdint.h>
#include <string.h>

typedef float nnl_gv8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void nnl_dot8_body(const float *panel, const float *x, int64_t xs,
                                                                int64_t k, float *acc) {
    nnl_gv8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, a;
    int64_t j = 0;
    for (; j + 4 <= k; j += 4) {
        memcpy(&a, panel + 8 * j, sizeof a);
        s0 += a * x[j * xs];
        memcpy(&a, panel + 8 * (j + 1), sizeof a);
        s1 += a * x[(j + 1) * xs];
        memcpy(&a, panel + 8 * (j + 2), sizeof a);
        s2 += a * x[(j + 2) * xs];
        memcpy(&a, panel + 8 * (j + 3), sizeof a);
        s3 += a * x[(j + 3) * xs];
    }
    for (; j < k; j++) {
        memcpy(&a, panel + 8 * j, sizeof a);
        s0 += a * x[j * xs];
    }
    s0 = (s0 + s1) + (s2 + s3);
    memcpy(acc, &s0, sizeof s0);
}

#endif
