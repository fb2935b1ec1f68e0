/* Helpers shared by the math ops: parallel ranges, checks, broadcasting. */
#include <string.h>

#include "ops/math_ops.h"

typedef struct range_job {
    nnl_math_range_fn fn;
    void *ctx;
    int64_t n, pieces;
} range_job;

static void range_piece(void *ctx, int64_t i, int thread) {
    const range_job *j = ctx;
    /* Pieces differ by at most one item, so no thread waits on a long tail:
     * the first n % pieces pieces take one extra. */
    const int64_t q = j->n / j->pieces, r = j->n % j->pieces;
    const int64_t b = q * i + (i < r ? i : r), e = b + q + (i < r);
    if (b < e) j->fn(j->ctx, b, e, thread);
}

void nnl_math_parallel(nnl_pool *pool, int64_t n, int64_t grain, nnl_math_range_fn fn,
                       void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int threads = pool ? nnl_pool_threads(pool) : 1;
    int64_t pieces = n / grain;
    /* A few pieces per thread even out threads that start late. */
    if (pieces > (int64_t)threads * 4) pieces = (int64_t)threads * 4;
    if (threads <= 1 || pieces <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    range_job j = {fn, ctx, n, pieces};
    nnl_pool_run(pool, pieces, range_piece, &j);
}

nnl_status nnl_math_check_io(const nnl_op_call *c, int lo, int hi, int n_req) {
    if (c->n_in < lo || c->n_in > hi) {
        if (lo == hi)
            return nnl_fail(NNL_ERR_SHAPE, "%s: expects %d inputs, got %d", c->op, lo, c->n_in);
        return nnl_fail(NNL_ERR_SHAPE, "%s: expects %d to %d inputs, got %d", c->op, lo, hi,
                        c->n_in);
    }
    for (int i = 0; i < c->n_in; i++) {
        const nnl_tensor *t = c->in[i];
        if (!t) {
            if (i < n_req)
                return nnl_fail(NNL_ERR_SHAPE, "%s: input %d is required", c->op, i);
            continue;
        }
        if (t->layout != NNL_LAYOUT_PLAIN)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: input %d has a packed layout", c->op, i);
        if (nnl_dtype_size(t->dtype) == 0)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: input %d has unsupported dtype %s", c->op,
                            i, nnl_dtype_name(t->dtype));
        if (t->rank < 0 || t->rank > NNL_MAX_RANK)
            return nnl_fail(NNL_ERR_SHAPE, "%s: input %d has rank %d", c->op, i, t->rank);
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] < 0)
                return nnl_fail(NNL_ERR_SHAPE, "%s: input %d has unknown dimension %d", c->op,
                                i, d);
    }
    if (c->n_out < 1 || !c->out[0])
        return nnl_fail(NNL_ERR_SHAPE, "%s: output 0 is required", c->op);
    return NNL_OK;
}

nnl_status nnl_math_broadcast(const nnl_op_call *c, const nnl_tensor *a, const nnl_tensor *b,
                              int *rank, int64_t *dims) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char sa[96], sb[96];
            return nnl_fail(NNL_ERR_SHAPE, "%s: shapes %s and %s do not broadcast", c->op,
                            nnl_shape_str(a, sa, sizeof sa), nnl_shape_str(b, sb, sizeof sb));
        }
        dims[i] = da == 1 ? db : da;
    }
    *rank = r;
    return NNL_OK;
}

nnl_status nnl_math_axis(const nnl_op_call *c, int64_t axis, int rank, const char *what,
                         int *out) {
    if (axis < -rank || axis >= rank)
        return nnl_fail(NNL_ERR_SHAPE, "%s: %s %lld out of range for rank %d", c->op, what,
                        (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return NNL_OK;
}

/* Saturates at INT64_MAX: dims computed from a file's attributes may be
 * anything until the caller has bounded them. */
int64_t nnl_math_prod(const int64_t *dims, int lo, int hi) {
    int64_t p = 1;
    for (int i = lo; i < hi; i++)
        if (dims[i] == 0) return 0;
    for (int i = lo; i < hi; i++)
        if (__builtin_mul_overflow(p, dims[i], &p)) return INT64_MAX;
    return p;
}

nnl_status nnl_math_int_at(const nnl_op_call *c, const nnl_tensor *t, int64_t i, const char *what,
                           int64_t *v) {
    if (!t->data)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: %s must be a constant", c->op, what);
    if (i >= nnl_tensor_numel(t))
        return nnl_fail(NNL_ERR_SHAPE, "%s: %s has too few elements", c->op, what);
    if (t->dtype == NNL_DT_INT64)
        *v = ((const int64_t *)t->data)[i];
    else if (t->dtype == NNL_DT_INT32)
        *v = ((const int32_t *)t->data)[i];
    else
        return nnl_fail(NNL_ERR_SHAPE, "%s: %s must be int32 or int64, not %s", c->op, what,
                        nnl_dtype_name(t->dtype));
    return NNL_OK;
}

void nnl_math_set_like(nnl_tensor *out, const nnl_tensor *t, nnl_dtype dt) {
    out->dtype = dt;
    out->rank = t->rank;
    memcpy(out->dims, t->dims, sizeof out->dims);
    out->layout = NNL_LAYOUT_PLAIN;
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

void nnl_math_axpb(const float *x, float *y, int64_t n, float a, float b) {
    int64_t i = 0;
    /* Blocks of 8 through locals: the loop shape GCC's -O2 cost model
     * vectorises (it refuses loops that need a scalar epilogue). */
    for (; i + 8 <= n; i += 8) {
        float t[8];
        for (int k = 0; k < 8; k++) t[k] = x[i + k];
        for (int k = 0; k < 8; k++) y[i + k] = a * t[k] + b;
    }
    for (; i < n; i++) y[i] = a * x[i] + b;
}
