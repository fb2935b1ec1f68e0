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

nnl_status nn_check_float(const nnl_op_call *c, const nnl_tensor *t, const char *what) {
    if (t && t->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s is %s; only float32 is supported", what,
                           nnl_dtype_name(t->dtype));
    return NNL_OK;
}

nnl_status nn_act(const nnl_op_call *c, nnl_act *act, float *a, float *b) {
    int64_t v = nnl_attr_int(c, "nnl_act", NNL_ACT_NONE);
    if (v < NNL_ACT_NONE || v > NNL_ACT_LEAKYRELU)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'nnl_act' has unknown activation %lld", (long long)v);
    *act = (nnl_act)v;
    *a = nnl_attr_float(c, "nnl_act_a", 0.0f);
    *b = nnl_attr_float(c, "nnl_act_b", 0.0f);
    return NNL_OK;
}
