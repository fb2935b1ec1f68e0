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

#endif
