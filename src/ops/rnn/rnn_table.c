/* The rnn domain's op list; terminated by an entry with a NULL name. */
#include "ops/rnn/rnn_ops.h"
#include "ops/ops.h"

const nnl_op_def nnl_ops_rnn[] = {
    NNL_OP_ENTRY("RNN", nnl_rnn),
    NNL_OP_ENTRY("GRU", nnl_rnn),
    NNL_OP_ENTRY("LSTM", nnl_rnn),
    {0},
};
