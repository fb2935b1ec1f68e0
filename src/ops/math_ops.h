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

#include "core/core.h"

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

/* fn(ctx, begin, end, thread) over consecutive pieces of [0, n), at least
 * `grain` items each (the last may be shorter), spread over the pool.  With
 * one piece it runs inline, so small tensors pay no pool overhead. */
typedef void (*nnl_math_range_fn)(void *ctx, int64_t begin, int64_t end, int thread);
void nnl_math_parallel(nnl_pool *pool, int64_t n, int64_t grain, nnl_math_range_fn fn,
                       void *ctx);

/* Input count within [lo, hi] and required inputs (index < n_req) present;
 * every present input plain-layout with a known dtype; out[0] present. */
nnl_status nnl_math_check_io(const nnl_op_call *c, int lo, int hi, int n_req);

/* Multidirectional (numpy) broadcast of shapes a and b into out. */
nnl_status nnl_math_broadcast(const nnl_op_call *c, const nnl_tensor *a, const nnl_tensor *b,
                              int *rank, int64_t *dims);

/* Normalise axis into [0, rank), failing with a message naming attr. */
nnl_status nnl_math_axis(const nnl_op_call *c, int64_t axis, int rank, const char *what,
                         int *out);

/* Product of dims[lo..hi). */
int64_t nnl_math_prod(const int64_t *dims, int lo, int hi);

/* Reads element i of an integer tensor (int32 or int64) into *v. */
nnl_status nnl_math_int_at(const nnl_op_call *c, const nnl_tensor *t, int64_t i, const char *what,
                           int64_t *v);

/* Copies out[0] shape/dtype from t. */
void nnl_math_set_like(nnl_tensor *out, const nnl_tensor *t, nnl_dtype dt);

/* Whether dt is float32 or float64. */
static inline int nnl_math_is_float(nnl_dtype dt) {
    return dt == NNL_DT_FLOAT || dt == NNL_DT_DOUBLE;
}

#endif
