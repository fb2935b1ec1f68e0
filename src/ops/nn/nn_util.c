/* Helpers of the float layers; see nn_ops.h. */
#include "ops/nn/nn_ops.h"

nnl_status nn_check_float(const nnl_op_call *c, const nnl_tensor *t, const char *what) {
    if (t && t->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s is %s; only float32 is supported", what,
                           nnl_dtype_name(t->dtype));
    return NNL_OK;
}

nnl_status nn_check_weight(const nnl_op_call *c, const nnl_tensor *t, const char *what, bool half_ok) {
    if (t->dtype == NNL_DT_FLOAT16 && !half_ok)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s is float16 in layout %s; float16 weights are read only "
                           "packed (and by Conv also plain)", what, nnl_layout_name(t->layout));
    return t->dtype == NNL_DT_FLOAT16 ? NNL_OK : nn_check_float(c, t, what);
}

nnl_status nn_act(const nnl_op_call *c, nnl_act *act, float *a, float *b) {
    return nn_act_upto(c, NNL_ACT_SILU, act, a, b);
}

nnl_status nn_act_upto(const nnl_op_call *c, nnl_act last, nnl_act *act, float *a, float *b) {
    int64_t v = nnl_attr_int(c, "nnl_act", NNL_ACT_NONE);
    if (v < NNL_ACT_NONE || v > last)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'nnl_act' has unknown activation %lld", (long long)v);
    *act = (nnl_act)v;
    *a = nnl_attr_float(c, "nnl_act_a", 0.0f);
    *b = nnl_attr_float(c, "nnl_act_b", 0.0f);
    return NNL_OK;
}
