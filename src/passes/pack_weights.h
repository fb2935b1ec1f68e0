/* Compile-time weight packing (layouts in docs/FORMAT.md, "Weight layouts"). */
#ifndef NNL_PACK_WEIGHTS_H
#define NNL_PACK_WEIGHTS_H

#include "ir/model.h"

/* Rewrite float constants (rank >= 2, no zero dim) that serve only as
 * input 1 (the weight) of live nodes wanting the same packed form:
 *   - Conv: NNL_LAYOUT_PACK_A8 (rows = output channels; grouped convs only
 *     when each group's rows start on an 8-row panel), or, when
 *     m->winograd is set, NNL_LAYOUT_WINO43 for 3x3 group-1 convs with
 *     stride 1, dilation <= 4 and at least 256 input and output channels
 *     (kernels/wino.h);
 *   - Gemm with transB = 1: NNL_LAYOUT_PACK_A8 of the rank-2 weight;
 *   - MatMul, and Gemm with transB = 0: NNL_LAYOUT_PACK_A8T (PACK_A8 of the
 *     rank-2 weight's transpose).
 * Dims stay the logical ONNX dims.  Constants used in any other way, by
 * readers that disagree, or as graph outputs stay PLAIN.  Deterministic
 * byte for byte. */
nnl_status nnl_pass_pack_weights(nnl_model *m);
/* After packing, shapes known: every live 3x3 Conv with a PACK_A8 weight
 * gets attribute nnl_wino (INT), 1 where nnl_wino_choose picks Winograd,
 * else 0 (docs/FORMAT.md): the run follows the record, not a rule that
 * may change between nnlink versions, so the op's scratch planned into
 * the arena always fits.  Except a pick with 64 or more channels in and
 * out and fewer than 256 on a side: its input 1 becomes the derived
 * weight "NAME.wino43" (WINO43, from the weight's plain values), without
 * the record; the whole weight stays where other nodes read it. */
nnl_status nnl_pass_pick_winograd(nnl_model *m);
/* INT8 rank-4 constants read only as QLinearConv's w (input 3), with one
 * scale tensor (positive, finite) among all readers, zero point absent or 0 and groups
 * nnl_qconv_ok runs: NNL_LAYOUT_PACK_Q8 (kernels/qconv.h), and the
 * readers' zero point input is dropped (passes/pack_q8.c). */
nnl_status nnl_pass_pack_q8(nnl_model *m);
/* Whether an integer kernel runs conv (a Conv or QLinearConv node) with
 * the rank-4 weight w: packed (what nnl_qconv_ok says of the weight's dims
 * and the group attribute alone) or, depthwise, PLAIN (kernels/qdw.h).
 * The input's size is not looked at: it may not be known yet, and a
 * linked graph of another shape shares the weight. */
bool nnl_q8_conv_fits(const nnl_node *conv, const nnl_tensor *w);

/* After packing, with m->weights NNL_WEIGHTS_FP16(_ALL): every float32
 * constant whose live readers all take it as input 1 (the weight) of Conv,
 * Gemm or MatMul and that is packed (PACK_A8, PACK_A8T, WINO43) or read by
 * Conv alone (PLAIN: depthwise and grouped convs) becomes FLOAT16 in the
 * same layout, each value rounded to nearest even; under FP16 (not
 * FP16_ALL) except the first ones in execution order, up to a tenth of
 * their bytes (half_weights.c says why).  Runs after the topological
 * sort.  Everything else (biases,
 * norm scales, embeddings, batched MatMul operands left PLAIN) stays
 * float32.  A finite value beyond float16's range (|x| >= 65520, which
 * would round to infinity) is an error naming the weight: the graph would
 * compute infinities.  NaN and infinities stay what they are. */
nnl_status nnl_pass_half_weights(nnl_model *m);

#endif
