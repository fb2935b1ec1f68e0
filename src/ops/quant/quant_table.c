/* The quant domain's op list; terminated by an entry with a NULL name. */
#include "ops/quant/quant_ops.h"
#include "ops/ops.h"

const nnl_op_def nnl_ops_quant[] = {
    NNL_OP_ENTRY("QuantizeLinear", nnl_quant_quantize),
    NNL_OP_ENTRY("DequantizeLinear", nnl_quant_dequantize),
    NNL_OP_ENTRY("DynamicQuantizeLinear", nnl_quant_dynquant),
    NNL_OP_ENTRY("MatMulInteger", nnl_quant_qmatmul),
    NNL_OP_ENTRY("QLinearMatMul", nnl_quant_qmatmul),
    NNL_OP_ENTRY("ConvInteger", nnl_quant_qconv),
    NNL_OP_ENTRY("QLinearConv", nnl_quant_qconv),
    NNL_OP_ENTRY("NnlQLinearAdd", nnl_quant_qadd),
    NNL_OP_ENTRY("NnlQGemm", nnl_quant_qgemm),
    {0},
};
