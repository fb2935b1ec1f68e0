/* Helpers shared by the extra ops; see extra_ops.h. */
#include <stdio.h>
#include <string.h>

#include "ops/extra_ops.h"

nnl_status nnl_extra_check_inputs(const nnl_op_call *c, int min_in, int max_in) {
    if (c->n_in < min_in || c->n_in > max_in)
        return nnl_extra_fail(c, NNL_ERR_SHAPE, "expects %d to %d inputs, got %d", min_in, max_in,
                              c->n_in);
    for (int i = 0; i < c->n_in; i++) {
        const nnl_tensor *t = c->in[i];
        if (!t) {
            if (i < min_in) return nnl_extra_fail(c, NNL_ERR_SHAPE, "input %d is required", i);
            continue;
        }
        if (t->layout != NNL_LAYOUT_PLAIN)
            return nnl_extra_fail(c, NNL_ERR_UNSUPPORTED, "input %d has a packed layout", i);
        if (t->rank < 0 || t->rank > NNL_MAX_RANK)
            return nnl_extra_fail(c, NNL_ERR_SHAPE, "input %d has rank %d", i, t->rank);
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] < 0)
                return nnl_extra_fail(c, NNL_ERR_SHAPE, "input %d has unknown dimension %d", i, d);
    }
    if (c->n_out < 1)
        return nnl_extra_fail(c, NNL_ERR_SHAPE, "expects at least one output");
    return NNL_OK;
}

nnl_status nnl_extra_set_out(const nnl_op_call *c, nnl_tensor *out, nnl_dtype dt, int rank,
                             const int64_t *dims) {
    /* Products of input dims can overflow (an empty input admits any other
     * dim): the output's bytes must fit, as the arena sizes them. */
    uint64_t bytes = nnl_dtype_size(dt);
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 || nnl_mul_overflow_u64(bytes, (uint64_t)dims[i], &bytes) ||
            bytes > ((uint64_t)1 << 62))
            return nnl_extra_fail(c, NNL_ERR_SHAPE, "output is too large");
    out->dtype = dt;
    out->rank = rank;
    memset(out->dims, 0, sizeof out->dims);
    for (int i = 0; i < rank; i++) out->dims[i] = dims[i];
    out->layout = NNL_LAYOUT_PLAIN;
    return NNL_OK;
}

nnl_status nnl_extra_check_outputs(const nnl_op_call *c, int max_out) {
    for (int i = max_out; i < c->n_out; i++)
        if (c->out[i])
            return nnl_extra_fail(c, NNL_ERR_SHAPE, "has %d outputs, output %d is extra", max_out,
                                  i);
    return NNL_OK;
}
