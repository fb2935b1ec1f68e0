/* Compile-time weight packing (layouts in kernels/gemm.h). */
#ifndef NNL_PACK_WEIGHTS_H
#define NNL_PACK_WEIGHTS_H

#include "ir/model.h"

/* Rewrite float constants that serve only as the GEMM weight of live
 * Conv nodes (input 1) or Gemm nodes with transB = 1 (input 1) into
 * NNL_LAYOUT_PACK_A8, or, when m->winograd is set, for 3x3 stride-1
 * group-1 convs with at least 256 input and output channels, into
 * NNL_LAYOUT_WINO43 (kernels/wino.h).
 * Dims stay the logical ONNX dims.  Constants used in any other way stay
 * PLAIN.  Deterministic byte for byte. */
nnl_status nnl_pass_pack_weights(nnl_model *m);

#endif
