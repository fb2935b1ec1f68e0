/*
 * Math ops: elementwise (binary.c, unary.c), reductions, ArgMax/ArgMin and
 * CumSum (reduce.c), softmax (softmax.c) and Det (det.c).  The infer/exec
 * pairs math_table.c lists, and the math helpers (math_util.c), which the
 * nn norms and image resize use too.
 */
#ifndef NNL_MATH_OPS_H
#define NNL_MATH_OPS_H

#include <math.h>

#include "ops/op_util.h"

/* ---- op families ------------------------------------------------------ */

NNL_OP_FAMILY(nnl_math_binary);    /* Add ... BitShift, PRelu */
NNL_OP_FAMILY(nnl_math_variadic);  /* Sum, Mean, Max, Min */
NNL_OP_FAMILY(nnl_math_unary);     /* Relu ... IsInf, Not */
NNL_OP_FAMILY(nnl_math_clip);
NNL_OP_FAMILY(nnl_math_softmax);   /* Softmax, LogSoftmax, Hardmax */
NNL_OP_FAMILY(nnl_math_reduce);    /* Reduce* */
NNL_OP_FAMILY(nnl_math_argminmax);
NNL_OP_FAMILY(nnl_math_cumsum);
NNL_OP_FAMILY(nnl_math_det);

/* ---- shared helpers (math_util.c) ------------------------------------- */

/* Multidirectional (numpy) broadcast of the shapes of a and b into
 * rank / dims. */
nnl_status nnl_math_broadcast(const nnl_op_call *c, const nnl_tensor *a, const nnl_tensor *b,
                              int *rank, int64_t *dims);

/* Element i of numeric data p of type dt, as double (0 for other types). */
double nnl_math_load_d(const void *p, int64_t i, nnl_dtype dt);

/* y[i] = a * x[i] + b, then max(0, .) if relu (NaN stays NaN); y may equal x. */
void nnl_math_axpb(const float *x, float *y, int64_t n, float a, float b, bool relu);

/* e^v for 8 floats in place, within 2 ulp of expf for v in [-87, 88];
 * below that 0, above 88.72 inf, in between 1.65e38; NaN stays NaN.
 * Cephes' polynomial on a range reduced by ln 2, and 2^n built in the
 * exponent bits (n + 127 stays in [1, 254], so the shift is defined).
 * Each step is its own loop over the 8 lanes: the shape GCC's -O2 cost
 * model vectorises (one loop with two clamps is "control flow" to it).
 * Always inlined: as a call, the lanes round-trip through memory. */
__attribute__((always_inline)) static inline void nnl_math_exp8(float *v) {
    union bits { float f; int32_t i; };
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float x[8], n[8];
    int32_t e[8];
    for (int k = 0; k < 8; k++) x[k] = v[k] > -87.0f ? v[k] : -87.0f;
    for (int k = 0; k < 8; k++) x[k] = x[k] < 88.0f ? x[k] : 88.0f;
    for (int k = 0; k < 8; k++) {
        union bits t = {x[k] * 1.44269504088896341f + magic};
        n[k] = t.f - magic;
        e[k] = (t.i - 0x4b400000 + 127) << 23;
    }
    for (int k = 0; k < 8; k++) {
        /* r = x - n ln2, ln2 split in two so n * hi is exact */
        const float r = x[k] - n[k] * 0.693359375f + n[k] * 2.12194440e-4f;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r * r + r + 1.0f;
        union bits s = {.i = e[k]};
        x[k] = p * s.f;
    }
    for (int k = 0; k < 8; k++) x[k] = v[k] < -87.0f ? 0.0f : x[k];
    for (int k = 0; k < 8; k++) x[k] = v[k] > 88.72283f ? INFINITY : x[k];
    for (int k = 0; k < 8; k++) v[k] = v[k] != v[k] ? v[k] : x[k];
}

/* Whether dt is float32 or float64. */
static inline int nnl_math_is_float(nnl_dtype dt) {
    return dt == NNL_DT_FLOAT || dt == NNL_DT_DOUBLE;
}

#endif
