/*
 * Compiler passes over the model IR, declared in the order
 * nnl_compile_model (compiler/compile.c) runs them:
 *   bind_inputs, remove_identity, fuse_qconv, infer_fold, fuse_qislands,
 *   dead_nodes, fold_batchnorm, fuse_layernorm, fuse_epilogue,
 *   fuse_channel_scale, trim_taps, dead_nodes again, pack_weights and pack_q8
 *   (passes/pack_weights.h), a topological sort, infer_fold again (final
 *   shapes, scratch and FLOPs of the fused nodes), plan_arena.
 * Each returns NNL_OK or a status with nnl_last_error() set.
 */
#ifndef NNL_PASSES_H
#define NNL_PASSES_H

#include "ir/model.h"

/* Fix dynamic input dims from the user's shapes; refuse unknown names,
 * contradictions with fixed dims and dims left dynamic. */
nnl_status nnl_pass_bind_inputs(nnl_model *m, const nnl_input_shape *shapes, int n);
/* Drop Identity and inference-mode Dropout. */
nnl_status nnl_pass_remove_identity(nnl_model *m);
/* DequantizeLinear -> Conv -> [Relu | Clip] -> QuantizeLinear into one
 * integer QLinearConv with a fused clamp (passes/fuse_qconv.c); before
 * infer_fold turns the weights' DequantizeLinear into float constants. */
nnl_status nnl_pass_fuse_qconv(nnl_model *m);
/* Float islands of QDQ models into 8-bit ops (passes/fuse_qdq.c):
 * DequantizeLinear x2 -> Add -> [Relu | Clip] -> QuantizeLinear of equal
 * shapes into one NnlQLinearAdd, DequantizeLinear -> MaxPool into MaxPool
 * on the 8-bit data -> DequantizeLinear; needs shapes, so it runs after
 * infer_fold. */
nnl_status nnl_pass_fuse_qislands(nnl_model *m);
/* Shape inference in topological order; nodes whose inputs are all
 * constant are executed now and become constants (this is what turns
 * PyTorch's Shape/Gather/Concat chains into literal sizes). */
nnl_status nnl_pass_infer_fold(nnl_model *m);
/* Remove nodes whose outputs nothing uses. */
nnl_status nnl_pass_dead_nodes(nnl_model *m);
/* Fold BatchNormalization into the preceding Conv's weights and bias. */
nnl_status nnl_pass_fold_batchnorm(nnl_model *m);
/* Fuse the decomposed LayerNorm that opsets < 17 carry. */
nnl_status nnl_pass_fuse_layernorm(nnl_model *m);
/* Fuse a residual Add and a following activation into Conv/Gemm/MatMul. */
nnl_status nnl_pass_fuse_epilogue(nnl_model *m);
/* Fuse a squeeze-and-excitation channel-scale Mul into the 1x1 Conv that
 * reads its output (the conv's input 4). */
nnl_status nnl_pass_fuse_channel_scale(nnl_model *m);
/* Trim a Conv's constant weight to the taps its outputs read at the bound
 * shape (passes/trim_taps.c). */
nnl_status nnl_pass_trim_taps(nnl_model *m);
/* A float32 constant derived from a weight for the bound shape, named
 * after it (`name`, len as snprintf returned it): *out its value and *fill
 * its data to write, nnl_tensor_nbytes of the dims and layout (NULL: it
 * exists already with those dims and layout, written by an earlier
 * reader); *out -1 when the name did not fit or is another value's. */
nnl_status nnl_derived_weight(nnl_model *m, const char *name, int len, int rank, const int64_t *dims,
                              nnl_layout layout, int *out, float **fill);
/* Give every activation an offset in one arena by lifetime. */
nnl_status nnl_pass_plan_arena(nnl_model *m);

#endif
