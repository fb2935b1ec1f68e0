/*
 * Neural-network layers: Conv, ConvTranspose, Gemm, MatMul, the pools, the
 * normalisations, LRN, MaxUnpool and the losses.  The infer/exec pairs
 * nn_table.c lists, and the helpers of the float layers.
 */
#ifndef NNL_NN_OPS_H
#define NNL_NN_OPS_H

#include "ops/op_util.h"

NNL_OP_FAMILY(nnl_nn_conv);         /* Conv (conv.c) */
NNL_OP_FAMILY(nnl_nn_convt);        /* ConvTranspose (conv_transpose.c) */
NNL_OP_FAMILY(nnl_nn_gemm);         /* Gemm (gemm.c) */
NNL_OP_FAMILY(nnl_nn_matmul);       /* MatMul */
NNL_OP_FAMILY(nnl_nn_pool);         /* MaxPool, AveragePool, LpPool (pool.c) */
NNL_OP_FAMILY(nnl_nn_global_pool);  /* GlobalAveragePool, GlobalMaxPool */
NNL_OP_FAMILY(nnl_nn_batchnorm);    /* BatchNormalization (norm.c) */
NNL_OP_FAMILY(nnl_nn_instancenorm); /* InstanceNormalization */
NNL_OP_FAMILY(nnl_nn_layernorm);    /* LayerNormalization */
NNL_OP_FAMILY(nnl_nn_lpnorm);       /* LpNormalization */
NNL_OP_FAMILY(nnl_nn_mvn);          /* MeanVarianceNormalization */
NNL_OP_FAMILY(nnl_nn_lrn);          /* LRN (lrn.c) */
NNL_OP_FAMILY(nnl_nn_maxunpool);    /* MaxUnpool (maxunpool.c) */
NNL_OP_FAMILY(nnl_nn_loss);         /* NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss (loss.c) */

/* A present input must be float32 (what names it in the message). */
nnl_status nn_check_float(const nnl_op_call *c, const nnl_tensor *t, const char *what);
/* A weight: float32, or float16 (compile --weights fp16) when half_ok, i.e.
 * in a layout whose driver widens it (passes/pack_weights.h). */
nnl_status nn_check_weight(const nnl_op_call *c, const nnl_tensor *t, const char *what, bool half_ok);
/* Fused activation attributes (nnl_act, nnl_act_a, nnl_act_b), checked:
 * nn_act takes those every fused layer's kernels apply (up to SiLU),
 * nn_act_upto those up to `last` (Gemm and MatMul: GELU too). */
nnl_status nn_act(const nnl_op_call *c, nnl_act *act, float *a, float *b);
nnl_status nn_act_upto(const nnl_op_call *c, nnl_act last, nnl_act *act, float *a, float *b);
#endif
