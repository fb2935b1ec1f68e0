/* ReverseSequence (any dtype). */
#include <math.h>
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

/* ---- ReverseSequence ---------------------------------------------------------------- */

nnl_status tn_ReverseSequence_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"batch_axis", "time_axis", NULL};
    nnl_status st = nnl_op_begin(c, known, 2, 2, 2, 1, 1);
    if (st) return st;
    const int64_t ba = nnl_attr_int(c, "batch_axis", 1), ta = nnl_attr_int(c, "time_axis", 0);
    if (!((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "batch_axis and time_axis must be 0 and 1");
    const nnl_tensor *x = c->in[0], *sl = c->in[1];
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "input must have rank >= 2");
    if (nnl_dtype_size(x->dtype) == 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input has unsupported dtype");
    if (sl->dtype != NNL_DT_INT64 && sl->dtype != NNL_DT_INT32)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "sequence_lens must be int64");
    if (sl->rank != 1 || sl->dims[0] != x->dims[ba])
        return nnl_op_fail(c, NNL_ERR_SHAPE, "sequence_lens must have shape [%lld]",
                           (long long)x->dims[ba]);
    if ((st = nnl_op_set_out(c, c->out[0], x->dtype, x->rank, x->dims))) return st;
    r->flops = 0;
    return NNL_OK;
}

nnl_status tn_ReverseSequence_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *sl = c->in[1];
    const int ba = (int)nnl_attr_int(c, "batch_axis", 1), ta = 1 - ba;
    const size_t es = nnl_dtype_size(x->dtype);
    const int64_t B = x->dims[ba], S = x->dims[ta];
    const size_t row = (size_t)nnl_op_prod(x->dims, 2, x->rank) * es;
    for (int64_t b = 0; b < B; b++) {
        const int64_t L = sl->dtype == NNL_DT_INT64 ? ((const int64_t *)sl->data)[b]
                                                    : ((const int32_t *)sl->data)[b];
        if (L < 0 || L > S)
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG,
                               "sequence_lens[%lld] = %lld is outside [0, %lld]",
                               (long long)b, (long long)L, (long long)S);
    }
    for (int64_t b = 0; b < B; b++) {
        const int64_t L = sl->dtype == NNL_DT_INT64 ? ((const int64_t *)sl->data)[b]
                                                    : ((const int32_t *)sl->data)[b];
        for (int64_t t = 0; t < S; t++) {
            const int64_t src_t = t < L ? L - 1 - t : t;
            const int64_t so = ta == 0 ? src_t * B + b : b * S + src_t;
            const int64_t dof = ta == 0 ? t * B + b : b * S + t;
            memcpy((char *)c->out[0]->data + (size_t)dof * row,
                   (const char *)x->data + (size_t)so * row, row);
        }
    }
    return NNL_OK;
}
