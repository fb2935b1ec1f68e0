/*
 * Op list of this module (terminated by an entry with a NULL name) and
 * the helpers the nn_*.c files share.
 */
#include <stdio.h>

#include "ops/nn_ops.h"

const nnl_op_def nnl_ops_nn[] = {
    {"Conv", nnl_nn_conv_infer, nnl_nn_conv_exec},
    {"ConvTranspose", nnl_nn_convt_infer, nnl_nn_convt_exec},
    {"Gemm", nnl_nn_gemm_infer, nnl_nn_gemm_exec},
    {"MatMul", nnl_nn_matmul_infer, nnl_nn_matmul_exec},
    {0},
};

const nnl_tensor *nn_in(const nnl_op_call *c, int i) { return i < c->n_in ? c->in[i] : NULL; }

nnl_status nn_check_io(const nnl_op_call *c, int min_in, int max_in) {
    if (c->n_in < min_in || c->n_in > max_in)
        return nn_fail(c, NNL_ERR_SHAPE, "takes %d to %d inputs, got %d", min_in, max_in, c->n_in);
    for (int i = 0; i < min_in; i++)
        if (!c->in[i]) return nn_fail(c, NNL_ERR_SHAPE, "input %d is required", i);
    if (c->n_out != 1 || !c->out[0]) return nn_fail(c, NNL_ERR_SHAPE, "must have exactly one output");
    return NNL_OK;
}

nnl_status nn_check_float(const nnl_op_call *c, const nnl_tensor *t, const char *what) {
    if (t && t->dtype != NNL_DT_FLOAT)
        return nn_fail(c, NNL_ERR_UNSUPPORTED, "%s is %s; only float32 is supported", what,
                       nnl_dtype_name(t->dtype));
    return NNL_OK;
}

nnl_status nn_act(const nnl_op_call *c, nnl_act *act, float *a, float *b) {
    int64_t v = nnl_attr_int(c, "nnl_act", NNL_ACT_NONE);
    if (v < NNL_ACT_NONE || v > NNL_ACT_SILU)
        return nn_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'nnl_act' has unknown activation %lld", (long long)v);
    *act = (nnl_act)v;
    *a = nnl_attr_float(c, "nnl_act_a", 0.0f);
    *b = nnl_attr_float(c, "nnl_act_b", 0.0f);
    return NNL_OK;
}

nnl_status nn_set_out(const nnl_op_call *c, int rank, const int64_t *dims) {
    nnl_tensor *y = c->out[0];
    if (rank > NNL_MAX_RANK) return nn_fail(c, NNL_ERR_UNSUPPORTED, "output rank %d is too large", rank);
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return nn_fail(c, NNL_ERR_SHAPE, "negative output dim");
        if (nnl_mul_overflow_u64(n, (uint64_t)dims[i], &n) || n > ((uint64_t)1 << 40))
            return nn_fail(c, NNL_ERR_SHAPE, "output is too large");
        y->dims[i] = dims[i];
    }
    y->dtype = NNL_DT_FLOAT;
    y->rank = rank;
    y->layout = NNL_LAYOUT_PLAIN;
    return NNL_OK;
}
