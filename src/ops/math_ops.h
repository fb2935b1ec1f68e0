/*
 * Math ops (elementwise, reductions, softmax, pooling, resize, norms):
 * the infer/exec pairs the table in ops_math.c lists, and the small helpers
 * the math_*.c files share.
 *
 * One infer/exec pair serves a family of ops (all binary ops, all unary
 * ops, ...); it tells them apart by c->op, so the table stays the only
 * place that lists op names.
 */
#ifndef NNL_MATH_OPS_H
#define NNL_MATH_OPS_H

#include <math.h>

#include "ops/op_util.h"

/* ---- op families ------------------------------------------------------ */

#define NNL_MATH_FAMILY(f)                                                   \
    nnl_status nnl_math_##f##_infer(nnl_op_call *c, nnl_infer_result *r); \
    nnl_status nnl_math_##f##_exec(const nnl_op_call *c)

NNL_MATH_FAMILY(binary);     /* Add ... BitShift, PRelu */
NNL_MATH_FAMILY(variadic);   /* Sum, Mean, Max, Min */
NNL_MATH_FAMILY(unary);      /* Relu ... IsInf, Not */
NNL_MATH_FAMILY(clip);
NNL_MATH_FAMILY(softmax);    /* Softmax, LogSoftmax, Hardmax */
NNL_MATH_FAMILY(reduce);     /* Reduce* */
NNL_MATH_FAMILY(argminmax);
NNL_MATH_FAMILY(cumsum);
NNL_MATH_FAMILY(pool);       /* MaxPool, AveragePool, LpPool */
NNL_MATH_FAMILY(global_pool);
NNL_MATH_FAMILY(resize);     /* Resize, Upsample */
NNL_MATH_FAMILY(batchnorm);
NNL_MATH_FAMILY(instancenorm);
NNL_MATH_FAMILY(layernorm);
NNL_MATH_FAMILY(lpnorm);
NNL_MATH_FAMILY(mvn);

/* ---- shared helpers (math_util.c) ------------------------------------- */

/* Multidirectional (numpy) broadcast of the shapes of a and b into
 * rank / dims. */
nnl_status nnl_math_broadcast(const nnl_op_call *c, const nnl_tensor *a, const nnl_tensor *b,
                              int *rank, int64_t *dims);

/* Element i of a constant int32 / int64 tensor into *v; fails when t has
 * no data (not a constant) or another dtype, naming it `what`. */
nnl_status nnl_math_int_at(const nnl_op_call *c, const nnl_tensor *t, int64_t i, const char *what,
                           int64_t *v);

/* Element i of numeric data p of type dt, as double (0 for other types). */
double nnl_math_load_d(const void *p, int64_t i, nnl_dtype dt);

/* y[i] = a * x[i] + b; y may equal x. */
void nnl_math_axpb(const float *x, float *y, int64_t n, float a, float b);

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
