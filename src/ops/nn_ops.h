/*
 * Conv / ConvTranspose / Gemm / MatMul: the infer/exec pairs ops_nn.c lists, and the small
 * helpers their files share.  Messages read "<op> node '<name>': ...".
 */
#ifndef NNL_NN_OPS_H
#define NNL_NN_OPS_H

#include "ops/op_util.h"

nnl_status nnl_nn_conv_infer(nnl_op_call *c, nnl_infer_result *r);
nnl_status nnl_nn_conv_exec(const nnl_op_call *c);
nnl_status nnl_nn_convt_infer(nnl_op_call *c, nnl_infer_result *r);
nnl_status nnl_nn_convt_exec(const nnl_op_call *c);
nnl_status nnl_nn_gemm_infer(nnl_op_call *c, nnl_infer_result *r);
nnl_status nnl_nn_gemm_exec(const nnl_op_call *c);
nnl_status nnl_nn_matmul_infer(nnl_op_call *c, nnl_infer_result *r);
nnl_status nnl_nn_matmul_exec(const nnl_op_call *c);

/* A present input must be float32 (what names it in the message). */
nnl_status nn_check_float(const nnl_op_call *c, const nnl_tensor *t, const char *what);
/* Fused activation attributes (nnl_act, nnl_act_a, nnl_act_b), checked. */
nnl_status nn_act(const nnl_op_call *c, nnl_act *act, float *a, float *b);
#endif
