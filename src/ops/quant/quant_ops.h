/*
 * Quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear
 * (quantize.c) and the integer matrix products and convolutions
 * MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv (qlinear.c),
 * nnlink's NnlQLinearAdd (qadd.c) and NnlQGemm (qgemm.c).
 */
#ifndef NNL_QUANT_OPS_H
#define NNL_QUANT_OPS_H

#include "ops/op_util.h"

NNL_OP_FAMILY(nnl_quant_quantize);   /* QuantizeLinear */
NNL_OP_FAMILY(nnl_quant_dequantize); /* DequantizeLinear */
NNL_OP_FAMILY(nnl_quant_dynquant);   /* DynamicQuantizeLinear */
NNL_OP_FAMILY(nnl_quant_qmatmul);    /* MatMulInteger, QLinearMatMul */
NNL_OP_FAMILY(nnl_quant_qconv);      /* ConvInteger, QLinearConv */
NNL_OP_FAMILY(nnl_quant_qadd);       /* NnlQLinearAdd (qadd.c: a fused QDQ residual add) */
NNL_OP_FAMILY(nnl_quant_qgemm);      /* NnlQGemm (qgemm.c: a fused QDQ Gemm, float output) */

/* The nnl_w7 attribute of a QLinearConv or NnlQGemm (passes/pack_q8.c):
 * *w7 when it is 1, i.e. every value of the PACK_Q8 weight lies within
 * [-64, 64] (qlinear.c). */
nnl_status nnl_quant_w7(const nnl_op_call *c, bool *w7);

#endif
