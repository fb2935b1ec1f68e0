/* MaxUnpool (float32; indices flattened over the whole output, as MaxPool's
 * Indices output numbers them). */
#include <math.h>
#include <string.h>

#include "ops/nn/nn_ops.h"

/* ---- MaxUnpool ---------------------------------------------------------------------- */

/* Output shape: the output_shape input (a constant) or, without it,
 * (in - 1) * stride + kernel - pad_begin - pad_end per spatial dim. */
static nnl_status unpool_shape(const nnl_op_call *c, int64_t *od) {
    const nnl_tensor *x = c->in[0], *os = nnl_op_in(c, 2);
    const int ns = x->rank - 2;
    const nnl_attr *k = nnl_attr_get(c, "kernel_shape"), *s = nnl_attr_get(c, "strides");
    const nnl_attr *p = nnl_attr_get(c, "pads");
    if (!k || k->type != NNL_ATTR_INTS || k->n != ns)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel_shape must list %d ints", ns);
    if (s && (s->type != NNL_ATTR_INTS || s->n != ns))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "strides must list %d ints", ns);
    if (p && (p->type != NNL_ATTR_INTS || p->n != 2 * ns))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "pads must list %d ints", 2 * ns);
    od[0] = x->dims[0];
    od[1] = x->dims[1];
    for (int i = 0; i < ns; i++) {
        const int64_t st = s ? s->ints[i] : 1, pb = p ? p->ints[i] : 0, pe = p ? p->ints[ns + i] : 0;
        if (k->ints[i] < 1 || st < 1 || pb < 0 || pe < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel, strides or pads out of range");
        od[2 + i] = (x->dims[2 + i] - 1) * st + k->ints[i] - pb - pe;
        if (x->dims[2 + i] == 0) od[2 + i] = 0;
        if (od[2 + i] < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "negative output size");
    }
    if (os) {
        if (os->rank != 1 || os->dims[0] != x->rank)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output_shape must list %d dims", x->rank);
        for (int i = 0; i < x->rank; i++) {
            int64_t v;
            nnl_status st = nnl_op_int_at(c, os, i, "output_shape", &v);
            if (st) return st;
            if (v < 0 || (i < 2 && v != od[i]))
                return nnl_op_fail(c, NNL_ERR_SHAPE, "output_shape does not fit the input");
            od[i] = v;
        }
    }
    return NNL_OK;
}

nnl_status nnl_nn_maxunpool_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"kernel_shape", "pads", "strides", NULL};
    nnl_status st = nnl_op_begin(c, known, 2, 3, 2, 1, 1);
    if (st) return st;
    const nnl_tensor *x = c->in[0], *ix = c->in[1];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 3) return nnl_op_fail(c, NNL_ERR_SHAPE, "X must be N x C x D1 ...");
    bool same = ix->dtype == NNL_DT_INT64 && ix->rank == x->rank;
    for (int i = 0; same && i < x->rank; i++) same = ix->dims[i] == x->dims[i];
    if (!same) return nnl_op_fail(c, NNL_ERR_SHAPE, "I must be int64 with X's shape");
    int64_t od[NNL_MAX_RANK];
    if ((st = unpool_shape(c, od))) return st;
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, od))) return st;
    r->flops = 0;
    return NNL_OK;
}

nnl_status nnl_nn_maxunpool_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    const int64_t *idx = c->in[1]->data;
    const float *xv = x->data;
    float *y = c->out[0]->data;
    const int64_t n = nnl_tensor_numel(x), total = nnl_tensor_numel(c->out[0]);
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= total)
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "index %lld is outside the output's "
                               "%lld elements", (long long)idx[i], (long long)total);
    memset(y, 0, (size_t)total * sizeof *y);
    /* In input order, so of two values sent to one place the later wins. */
    for (int64_t i = 0; i < n; i++) y[idx[i]] = xv[i];
    return NNL_OK;
}
