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
    FAMILY("LRN", lrn), FAMILY("ReverseSequence", revseq),
    /* extra_grid.c */
    FAMILY("GridSample", gridsample),
    /* extra_loss.c */
    FAMILY("NegativeLogLikelihoodLoss", loss), FAMILY("SoftmaxCrossEntropyLoss", loss),
    {0},
};
