/*
 * The tensor domain's op list (shape and data movement); terminated by an
 * entry with a NULL name.  Implementations are declared in tensor_ops.h.
 *
 * Shape, Size and EyeLike never read their input's data, and ConstantOfShape
 * reads only its (constant) shape: a constant folder may run them on inputs
 * whose shape is known but whose data is not.
 */
#include "ops/ops.h"
#include "ops/tensor/tensor_ops.h"

#define OP(x) NNL_OP_ENTRY(#x, tn_##x)

const nnl_op_def nnl_ops_tensor[] = {
    OP(Reshape),
    OP(Flatten),
    OP(Squeeze),
    OP(Unsqueeze),
    OP(Shape),
    OP(Size),
    OP(Identity),
    OP(Dropout),
    OP(Expand),
    OP(Tile),
    OP(Where),
    OP(ConstantOfShape),
    OP(EyeLike),
    OP(Range),
    OP(Trilu),
    OP(Transpose),
    OP(DepthToSpace),
    OP(SpaceToDepth),
    OP(Slice),
    OP(Split),
    OP(Concat),
    OP(Pad),
    OP(Gather),
    OP(GatherElements),
    OP(GatherND),
    OP(OneHot),
    OP(ScatterND),
    OP(ScatterElements),
    /* opset 9-10 name of ScatterElements (no reduction attribute) */
    NNL_OP_ENTRY("Scatter", tn_ScatterElements),
    OP(Cast),
    OP(CastLike),
    OP(NonZero),
    OP(TopK),
    OP(Unique),
    OP(Einsum),
    OP(ReverseSequence),
    {0},
};
