/* Helpers shared by the math ops: parallel ranges, checks, broadcasting. */
#include <math.h>
#include <string.h>

#include "ops/math/math_ops.h"

nnl_status nnl_math_broadcast(const nnl_op_call *c, const nnl_tensor *a, const nnl_tensor *b,
                              int *rank, int64_t *dims) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[96], sb[96];
            return nnl_op_fail(c, NNL_ERR_SHAPE, "shapes %s and %s do not broadcast",
                               nnl_shape_str(a, sa, sizeof sa), nnl_shape_str(b, sb, sizeof sb));
        }
        dims[i] = da == 1 ? db : da;
    }
    *rank = r;
    return NNL_OK;
}

double nnl_math_load_d(const void *p, int64_t i, nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: return ((const float *)p)[i];
    case NNL_DT_DOUBLE: return ((const double *)p)[i];
    case NNL_DT_INT8: return ((const int8_t *)p)[i];
    case NNL_DT_UINT8: case NNL_DT_BOOL: return ((const uint8_t *)p)[i];
    case NNL_DT_INT16: return ((const int16_t *)p)[i];
    case NNL_DT_UINT16: return ((const uint16_t *)p)[i];
    case NNL_DT_INT32: return ((const int32_t *)p)[i];
    case NNL_DT_UINT32: return ((const uint32_t *)p)[i];
    case NNL_DT_INT64: return (double)((const int64_t *)p)[i];
    case NNL_DT_UINT64: return (double)((const uint64_t *)p)[i];
    default: return 0;
    }
}

void nnl_math_axpb(const float *x, float *y, int64_t n, float a, float b, bool relu) {
    int64_t i = 0;
    /* Blocks of 8 through locals: the loop shape GCC's -O2 cost model
     * vectorises (it refuses loops that need a scalar epilogue); the
     * ReLU's select becomes a max. */
    const float lo = relu ? 0.0f : -INFINITY;
    for (; i + 8 <= n; i += 8) {
        float t[8];
        for (int k = 0; k < 8; k++) t[k] = x[i + k];
        for (int k = 0; k < 8; k++) {
            float v = a * t[k] + b;
            y[i + k] = v < lo ? lo : v;
        }
    }
    for (; i < n; i++) {
        float v = a * x[i] + b;
        y[i] = v < lo ? lo : v;
    }
}
