/*
 * Op list of the shape and data-movement module; terminated by an entry
 * with a NULL name.  The implementations live in the tensor_*.c files
 * (declared in tensor_ops.h).
 *
 * Shape, Size and EyeLike never read their input's data, and ConstantOfShape
 * reads only its (constant) shape: a constant folder may run them on inputs
 * whose shape is known but whose data is not.
 */
#include "core/core.h"
#include "ops/tensor_ops.h"

#define OP(x) {#x, tn_infer_##x, tn_exec_##x}

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
    {"Scatter", tn_infer_ScatterElements, tn_exec_ScatterElements},
    OP(Cast),
    OP(CastLike),
    OP(NonZero),
    OP(TopK),
    OP(Unique),
    OP(Einsum),
    {0},
};
