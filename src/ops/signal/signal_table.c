/* The signal domain's op list; terminated by an entry with a NULL name. */
#include "ops/signal/signal_ops.h"
#include "ops/ops.h"

const nnl_op_def nnl_ops_signal[] = {
    NNL_OP_ENTRY("DFT", nnl_signal_dft),
    NNL_OP_ENTRY("STFT", nnl_signal_stft),
    NNL_OP_ENTRY("HannWindow", nnl_signal_window),
    NNL_OP_ENTRY("HammingWindow", nnl_signal_window),
    NNL_OP_ENTRY("BlackmanWindow", nnl_signal_window),
    {0},
};
