/* Op list of this module; terminated by an entry with a NULL name. */
#include "ops/extra_ops.h"

#define FAMILY(name, f) {name, nnl_extra_##f##_infer, nnl_extra_##f##_exec}

const nnl_op_def nnl_ops_extra[] = {
    /* extra_rnn.c */
    FAMILY("RNN", rnn), FAMILY("GRU", rnn), FAMILY("LSTM", rnn),
    /* extra_quant.c */
    FAMILY("QuantizeLinear", quantize), FAMILY("DequantizeLinear", dequantize),
    FAMILY("DynamicQuantizeLinear", dynquant),
    /* extra_misc.c */
    FAMILY("LRN", lrn), FAMILY("ReverseSequence", revseq), FAMILY("MaxUnpool", maxunpool),
    /* extra_grid.c */
    FAMILY("GridSample", gridsample),
    /* extra_loss.c */
    FAMILY("NegativeLogLikelihoodLoss", loss), FAMILY("SoftmaxCrossEntropyLoss", loss),
    /* extra_qlinear.c */
    FAMILY("MatMulInteger", qmatmul), FAMILY("QLinearMatMul", qmatmul),
    FAMILY("ConvInteger", qconv), FAMILY("QLinearConv", qconv),
    /* extra_linalg.c */
    FAMILY("Det", det),
    FAMILY("HannWindow", window), FAMILY("HammingWindow", window),
    FAMILY("BlackmanWindow", window),
    /* extra_roi.c */
    FAMILY("RoiAlign", roialign),
    /* extra_dft.c */
    FAMILY("DFT", dft), FAMILY("STFT", stft),
    {0},
};
