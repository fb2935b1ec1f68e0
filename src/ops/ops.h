/*
 * The op registry as the rest of the library sees it: the domain tables
 * (one a folder of src/ops, each ended by an entry with a NULL name) and
 * the lookup the compiler, the passes and the runtime use.
 */
#ifndef NNL_OPS_H
#define NNL_OPS_H

#include "core/core.h"

extern const nnl_op_def nnl_ops_nn[];     /* nn/: conv, gemm, pooling, norms, losses */
extern const nnl_op_def nnl_ops_math[];   /* math/: elementwise, reductions, softmax, Det */
extern const nnl_op_def nnl_ops_tensor[]; /* tensor/: shape and data movement */
extern const nnl_op_def nnl_ops_quant[];  /* quant/: quantization, integer matmul and conv */
extern const nnl_op_def nnl_ops_rnn[];    /* rnn/: RNN, GRU, LSTM */
extern const nnl_op_def nnl_ops_signal[]; /* signal/: DFT, STFT, windows */
extern const nnl_op_def nnl_ops_image[];  /* image/: resize and sampling */

/* Look up an op by type; NULL if unsupported. */
const nnl_op_def *nnl_op_find(const char *name);

/* Whether an op's one output is its first input's bytes as they are
 * (Reshape, Flatten, Squeeze, Unsqueeze, Identity): the compiler may place
 * the output on the input (passes/arena.c), the plan allows it there
 * (runtime/plan.c) and the op then copies nothing (tensor/shape.c). */
bool nnl_op_is_view(const char *name);

#endif
