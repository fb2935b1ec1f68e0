/*
 * Det (float32, LU with partial pivoting in double, one matrix per work
 * item in the thread's scratch).
 */
#include <math.h>
#include <string.h>

#include "ops/math/math_ops.h"

/* ---- Det ---------------------------------------------------------------------------- */

nnl_status nnl_math_det_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st = nnl_op_begin(c, (const char *const[]){NULL}, 1, 1, 1, 1, 1);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2])
        return nnl_op_fail(c, NNL_ERR_SHAPE, "X must be [*, M, M]");
    const int64_t m = x->dims[x->rank - 1];
    if ((uint64_t)m * (uint64_t)m * sizeof(double) > NNL_THREAD_SCRATCH_BYTES)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "matrices of %lld x %lld are too large",
                           (long long)m, (long long)m);
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank - 2, x->dims))) return st;
    r->flops = (double)nnl_tensor_numel(x) * (double)m;
    return NNL_OK;
}

typedef struct det_job {
    const float *x;
    float *y;
    int64_t m;
    void *const *tscratch;
} det_job;

static void det_items(void *ctx, int64_t b, int64_t e, int thread) {
    const det_job *j = ctx;
    const int64_t m = j->m;
    double *a = j->tscratch[thread];
    for (int64_t item = b; item < e; item++) {
        const float *src = j->x + item * m * m;
        for (int64_t i = 0; i < m * m; i++) a[i] = src[i];
        double det = 1;
        for (int64_t k = 0; k < m && det != 0; k++) {
            int64_t p = k;
            for (int64_t i = k + 1; i < m; i++)
                if (fabs(a[i * m + k]) > fabs(a[p * m + k])) p = i;
            if (a[p * m + k] == 0) {
                det = 0;
                break;
            }
            if (p != k) {
                for (int64_t t = 0; t < m; t++) {
                    const double v = a[k * m + t];
                    a[k * m + t] = a[p * m + t];
                    a[p * m + t] = v;
                }
                det = -det;
            }
            const double piv = a[k * m + k];
            det *= piv;
            for (int64_t i = k + 1; i < m; i++) {
                const double f = a[i * m + k] / piv;
                for (int64_t t = k + 1; t < m; t++) a[i * m + t] -= f * a[k * m + t];
            }
        }
        j->y[item] = (float)det;
    }
}

nnl_status nnl_math_det_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    const int64_t m = x->dims[x->rank - 1];
    det_job j = {x->data, c->out[0]->data, m, c->thread_scratch};
    const int64_t work = m * m * m;
    nnl_op_parallel(c->pool, nnl_op_prod(x->dims, 0, x->rank - 2),
                    work >= 4096 ? 1 : 4096 / (work > 0 ? work : 1), det_items, &j);
    return NNL_OK;
}
