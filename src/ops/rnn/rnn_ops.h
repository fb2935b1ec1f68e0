/*
 * Recurrent layers: RNN, GRU and LSTM (rnn.c).
 */
#ifndef NNL_RNN_OPS_H
#define NNL_RNN_OPS_H

#include "ops/op_util.h"

NNL_OP_FAMILY(nnl_rnn); /* RNN, GRU, LSTM */

#endif
