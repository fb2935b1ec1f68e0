/* LRN (float32, across channels). */
#include <math.h>
#include <string.h>

#include "ops/nn/nn_ops.h"

/* ---- LRN ---------------------------------------------------------------------------- */

nnl_status nnl_nn_lrn_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"alpha", "beta", "bias", "size", NULL};
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, 1);
    if (st) return st;
    const nnl_attr *size = nnl_attr_get(c, "size");
    if (!size || size->type != NNL_ATTR_INT || size->i < 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'size' must be a positive integer");
    const nnl_tensor *x = c->in[0];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "X must be N x C x ...");
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, x->dims))) return st;
    r->flops = (double)nnl_tensor_numel(x) * (double)(size->i + 4);
    return NNL_OK;
}

typedef struct lrn_job {
    const float *x;
    float *y;
    int64_t C, inner, lo, hi;  /* window [c - lo, c + hi] */
    float alpha, beta, bias;
} lrn_job;

/* One item is one (n, c) plane. */
static void lrn_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const lrn_job *j = ctx;
    (void)thread;
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t n = pl / j->C, ch = pl % j->C;
        const int64_t c0 = ch - j->lo < 0 ? 0 : ch - j->lo;
        const int64_t c1 = ch + j->hi > j->C - 1 ? j->C - 1 : ch + j->hi;
        const float *base = j->x + n * j->C * j->inner;
        const float *xp = base + ch * j->inner;
        float *yp = j->y + pl * j->inner;
        for (int64_t i = 0; i < j->inner; i++) {
            float sq = 0;
            for (int64_t k = c0; k <= c1; k++) {
                const float v = base[k * j->inner + i];
                sq += v * v;
            }
            yp[i] = xp[i] / powf(j->bias + j->alpha * sq, j->beta);
        }
    }
}

nnl_status nnl_nn_lrn_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    const int64_t size = nnl_attr_int(c, "size", 1);
    lrn_job j = {x->data, c->out[0]->data, x->dims[1], nnl_op_prod(x->dims, 2, x->rank),
                 (size - 1) / 2, size - 1 - (size - 1) / 2,
                 nnl_attr_float(c, "alpha", 1e-4f) / (float)size,
                 nnl_attr_float(c, "beta", 0.75f), nnl_attr_float(c, "bias", 1.0f)};
    const int64_t planes = x->dims[0] * x->dims[1];
    nnl_op_parallel(c->pool, planes, j.inner >= 4096 ? 1 : 4096 / (j.inner ? j.inner : 1),
                    lrn_planes, &j);
    return NNL_OK;
}
