/*
 * Entry points of the shape and data-movement ops, listed in
 * tensor_table.c: each op X has the family tn_X (tn_X_infer, tn_X_exec).
 */
#ifndef NNL_TENSOR_OPS_H
#define NNL_TENSOR_OPS_H

#include "ops/op_util.h"

#define TN_OP(x) NNL_OP_FAMILY(tn_##x);

/* shape.c */
TN_OP(Reshape)
TN_OP(Flatten)
TN_OP(Squeeze)
TN_OP(Unsqueeze)
TN_OP(Shape)
TN_OP(Size)
TN_OP(Identity)
TN_OP(Dropout)
/* bcast.c */
TN_OP(Expand)
TN_OP(Tile)
TN_OP(Where)
TN_OP(ConstantOfShape)
TN_OP(EyeLike)
TN_OP(Range)
TN_OP(Trilu)
/* transpose.c */
TN_OP(Transpose)
TN_OP(DepthToSpace)
TN_OP(SpaceToDepth)
/* slice.c */
TN_OP(Slice)
TN_OP(Split)
TN_OP(Concat)
TN_OP(Pad)
/* gather.c */
TN_OP(Gather)
TN_OP(GatherElements)
TN_OP(GatherND)
TN_OP(OneHot)
/* scatter.c */
TN_OP(ScatterND)
TN_OP(ScatterElements)
/* cast.c */
TN_OP(Cast)
TN_OP(CastLike)
/* data.c: data-dependent shapes */
TN_OP(NonZero)
TN_OP(TopK)
TN_OP(Unique)
/* einsum.c */
TN_OP(Einsum)
/* reverse_sequence.c */
TN_OP(ReverseSequence)

#undef TN_OP

/* Element conversion (cast.c), ONNX Cast rules: float -> int
 * truncates toward zero and saturates (NaN -> 0), int -> int wraps,
 * anything -> bool is "!= 0". */
void tn_convert(const void *src, nnl_dtype sdt, void *dst, nnl_dtype ddt, int64_t n);
/* One element of dtype dt from a double (same rules) / to a double. */
void tn_from_double(nnl_dtype dt, double v, void *dst);
double tn_to_double(nnl_dtype dt, const void *p);

#endif
