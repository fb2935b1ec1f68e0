/*
 * The one op list: the module tables concatenated.  Lookup is linear over
 * a few hundred names and happens only at compile and plan-open time.
 */
#include <string.h>

#include "core/core.h"

extern const nnl_op_def nnl_ops_nn[];     /* conv, gemm, matmul, pooling kernels */
extern const nnl_op_def nnl_ops_math[];   /* elementwise, reductions, resize, norms */
extern const nnl_op_def nnl_ops_tensor[]; /* shape and data movement */
extern const nnl_op_def nnl_ops_extra[];  /* recurrent, quantization, losses, sampling */

const nnl_op_def *nnl_op_find(const char *name) {
    const nnl_op_def *const tables[] = {nnl_ops_nn, nnl_ops_math, nnl_ops_tensor, nnl_ops_extra};
    if (!name) return NULL;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const nnl_op_def *d = tables[t]; d->name; d++)
            if (strcmp(d->name, name) == 0) return d;
    return NULL;
}
