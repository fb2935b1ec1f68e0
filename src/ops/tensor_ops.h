/*
 * Entry points of the shape and data-movement ops, listed in ops_tensor.c.
 * Each op X has tn_infer_X and tn_exec_X with the nnl_op_def signatures.
 */
#ifndef NNL_TENSOR_OPS_H
#define NNL_TENSOR_OPS_H

#include "core/core.h"

#define TN_OP(x)                                                  \
    nnl_status tn_infer_##x(nnl_op_call *c, nnl_infer_result *r); \
    nnl_status tn_exec_##x(const nnl_op_call *c);

/* tensor_shape.c */
TN_OP(Reshape)
TN_OP(Flatten)
TN_OP(Squeeze)
TN_OP(Unsqueeze)
TN_OP(Shape)
TN_OP(Size)
TN_OP(Identity)
TN_OP(Dropout)
/* tensor_bcast.c */
TN_OP(Expand)
TN_OP(Tile)
TN_OP(Where)
TN_OP(ConstantOfShape)
TN_OP(EyeLike)
TN_OP(Range)
TN_OP(Trilu)
/* tensor_transpose.c */
TN_OP(Transpose)
TN_OP(DepthToSpace)
TN_OP(SpaceToDepth)
/* tensor_slice.c */
TN_OP(Slice)
TN_OP(Split)
TN_OP(Concat)
TN_OP(Pad)
/* tensor_gather.c */
TN_OP(Gather)
TN_OP(GatherElements)
TN_OP(GatherND)
TN_OP(OneHot)
/* tensor_scatter.c */
TN_OP(ScatterND)
TN_OP(ScatterElements)
/* tensor_cast.c */
TN_OP(Cast)
TN_OP(CastLike)
/* tensor_data.c: data-dependent shapes */
TN_OP(NonZero)
TN_OP(TopK)
TN_OP(Unique)
/* tensor_einsum.c */
TN_OP(Einsum)

#undef TN_OP

/* Element conversion (tensor_cast.c), ONNX Cast rules: float -> int
 * truncates toward zero and saturates (NaN -> 0), int -> int wraps,
 * anything -> bool is "!= 0". */
void tn_convert(const void *src, nnl_dtype sdt, void *dst, nnl_dtype ddt, int64_t n);
/* One element of dtype dt from a double (same rules) / to a double. */
void tn_from_double(nnl_dtype dt, double v, void *dst);
double tn_to_double(nnl_dtype dt, const void *p);
/* IEEE half <-> float, round to nearest even. */
float tn_half_to_float(uint16_t h);
uint16_t tn_double_to_half(double d);

#endif
