/* The nn domain's op list; terminated by an entry with a NULL name. */
#include "ops/nn/nn_ops.h"
#include "ops/ops.h"

const nnl_op_def nnl_ops_nn[] = {
    NNL_OP_ENTRY("Conv", nnl_nn_conv),
    NNL_OP_ENTRY("ConvTranspose", nnl_nn_convt),
    NNL_OP_ENTRY("Gemm", nnl_nn_gemm),
    NNL_OP_ENTRY("MatMul", nnl_nn_matmul),
    NNL_OP_ENTRY("MaxPool", nnl_nn_pool),
    NNL_OP_ENTRY("AveragePool", nnl_nn_pool),
    NNL_OP_ENTRY("LpPool", nnl_nn_pool),
    NNL_OP_ENTRY("GlobalAveragePool", nnl_nn_global_pool),
    NNL_OP_ENTRY("GlobalMaxPool", nnl_nn_global_pool),
    NNL_OP_ENTRY("BatchNormalization", nnl_nn_batchnorm),
    NNL_OP_ENTRY("InstanceNormalization", nnl_nn_instancenorm),
    NNL_OP_ENTRY("LayerNormalization", nnl_nn_layernorm),
    NNL_OP_ENTRY("LpNormalization", nnl_nn_lpnorm),
    NNL_OP_ENTRY("MeanVarianceNormalization", nnl_nn_mvn),
    NNL_OP_ENTRY("LRN", nnl_nn_lrn),
    NNL_OP_ENTRY("MaxUnpool", nnl_nn_maxunpool),
    NNL_OP_ENTRY("NegativeLogLikelihoodLoss", nnl_nn_loss),
    NNL_OP_ENTRY("SoftmaxCrossEntropyLoss", nnl_nn_loss),
    {0},
};
