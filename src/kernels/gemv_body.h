/*
 * Panel dot products for GEMMs with a single row or column (decode steps,
 * classifier heads), written with GCC vector extensions so each kernel file
 * that includes this header gets them in its own ISA, like wino_xform.h.
 * acc[i] = sum_k panel[k * 8 + i] * x[k * xs] for one PACK_A8 panel (8 rows
 * of the weight side).  Four partial sums per lane hide the FMA latency;
 * the sums are combined in a fixed order, so the result does not depend on
 * threading.  The weight streams from L3 or memory once per run, page by
 * page; the hardware prefetchers stop at each 4 KB page's end, so the
 * loop asks for the lines a page ahead itself (classifier heads at 1
 * thread, Xeon: ResNet-50's 2048 -> 1000 0.73 -> 0.65 ms, MobileNetV2's
 * 1280 -> 1000 0.31-0.37 -> 0.24-0.26, RegNetX's 400 -> 1000 0.13-0.15 ->
 * 0.11-0.13; 2 KB ahead gained half of that).
 */
#ifndef NNL_KERNELS_GEMV_BODY_H
#define NNL_KERNELS_GEMV_BODY_H

#include <stdint.h>
#include <string.h>

/* Floats ahead of the current step the weight is prefetched from. */
#define NNL_GEMV_AHEAD 1024

typedef float nnl_gv8 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void nnl_dot8_body(const float *panel, const float *x, int64_t xs,
                                                                int64_t k, float *acc) {
    nnl_gv8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, a;
    int64_t j = 0;
    for (; j + 4 <= k; j += 4) {
        /* the two lines these four steps read, a page on (past the panel:
         * the next one; past the weight: a prefetch does not fault, and
         * the address is made as an integer, not as a pointer past it) */
        const uintptr_t ahead = (uintptr_t)(panel + 8 * j) + NNL_GEMV_AHEAD * sizeof(float);
        __builtin_prefetch((const void *)ahead);
        __builtin_prefetch((const void *)(ahead + 64));
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
