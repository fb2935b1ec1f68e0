/* The helper layer of every op family; see op_util.h. */
#include <string.h>

#include "ops/op_util.h"

nnl_status nnl_op_check_io(const nnl_op_call *c, int min_in, int max_in, int n_req, int min_out,
                           int max_out) {
    if (c->n_in < min_in || c->n_in > max_in) {
        if (min_in == max_in)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "expects %d inputs, got %d", min_in, c->n_in);
        return nnl_op_fail(c, NNL_ERR_SHAPE, "expects %d to %d inputs, got %d", min_in, max_in,
                           c->n_in);
    }
    for (int i = 0; i < n_req && i < c->n_in; i++)
        if (!c->in[i]) return nnl_op_fail(c, NNL_ERR_SHAPE, "input %d is required", i);
    if (c->n_out < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "expects at least one output");
    for (int i = 0; i < c->n_out; i++) {
        if (i < min_out && !c->out[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output %d is required", i);
        if (i >= max_out && c->out[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "has %d outputs, output %d is extra", max_out, i);
    }
    return NNL_OK;
}

nnl_status nnl_op_check_inputs(const nnl_op_call *c) {
    for (int i = 0; i < c->n_in; i++) {
        const nnl_tensor *t = c->in[i];
        if (!t) continue;
        if (t->layout != NNL_LAYOUT_PLAIN)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input %d has a packed layout", i);
        if (nnl_dtype_size(t->dtype) == 0)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input %d has unsupported dtype %s", i,
                               nnl_dtype_name(t->dtype));
        if (t->rank < 0 || t->rank > NNL_MAX_RANK)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "input %d has rank %d", i, t->rank);
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] < 0)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "input %d has unknown dimension %d", i, d);
    }
    return NNL_OK;
}

nnl_status nnl_op_begin(const nnl_op_call *c, const char *const *known, int min_in, int max_in,
                        int n_req, int min_out, int max_out) {
    nnl_status st = nnl_attr_check(c, known);
    if (!st) st = nnl_op_check_io(c, min_in, max_in, n_req, min_out, max_out);
    if (!st) st = nnl_op_check_inputs(c);
    return st;
}

nnl_status nnl_op_set_out(const nnl_op_call *c, nnl_tensor *t, nnl_dtype dt, int rank,
                          const int64_t *dims) {
    if (rank < 0 || rank > NNL_MAX_RANK)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d", rank,
                           NNL_MAX_RANK);
    uint64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output dimension %d is negative (%lld)", i,
                               (long long)dims[i]);
        if (nnl_mul_overflow_u64(n, (uint64_t)dims[i], &n) || n > NNL_MAX_ELEMS)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output is too large");
    }
    /* dims may alias t->dims (nnl_op_set_like(c, t, t, ...)): copy first */
    int64_t d[NNL_MAX_RANK] = {0};
    for (int i = 0; i < rank; i++) d[i] = dims[i];
    t->dtype = dt;
    t->rank = rank;
    memcpy(t->dims, d, sizeof d);
    t->layout = NNL_LAYOUT_PLAIN;
    return NNL_OK;
}

nnl_status nnl_op_axis(const nnl_op_call *c, int64_t axis, int rank, const char *what, int *out) {
    if (axis < -(int64_t)rank || axis >= rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s %lld is out of range for rank %d", what,
                           (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return NNL_OK;
}

nnl_status nnl_op_axes_mark(const nnl_op_call *c, const int64_t *axes, int64_t n, int rank,
                            bool *mark) {
    for (int64_t i = 0; i < n; i++) {
        int a;
        nnl_status st = nnl_op_axis(c, axes[i], rank, "axis", &a);
        if (st) return st;
        if (mark[a]) return nnl_op_fail(c, NNL_ERR_SHAPE, "axis %d is repeated", a);
        mark[a] = true;
    }
    return NNL_OK;
}

nnl_status nnl_op_attr_int(const nnl_op_call *c, const char *name, int64_t def, int64_t *v) {
    const nnl_attr *a = nnl_attr_get(c, name);
    *v = def;
    if (!a) return NNL_OK;
    if (a->type != NNL_ATTR_INT)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' must be an integer", name);
    *v = a->i;
    return NNL_OK;
}

nnl_status nnl_op_attr_ints(const nnl_op_call *c, const char *name, const int64_t **v, int *n) {
    const nnl_attr *a = nnl_attr_get(c, name);
    *v = NULL;
    *n = -1;
    if (!a) return NNL_OK;
    if (a->type != NNL_ATTR_INTS)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' must be a list of integers", name);
    *v = a->ints;
    *n = a->n;
    return NNL_OK;
}

nnl_status nnl_op_ints_attr(const nnl_op_call *c, const char *name, int n, int64_t def, int64_t min,
                            int64_t *v) {
    const int64_t *a;
    int na;
    nnl_status st = nnl_op_attr_ints(c, name, &a, &na);
    for (int i = 0; i < n; i++) v[i] = def;
    if (st || na < 0) return st;
    if (na != n) return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' must list %d ints", name, n);
    for (int i = 0; i < n; i++) {
        if (a[i] < min)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' has value %lld < %lld", name,
                               (long long)a[i], (long long)min);
        v[i] = a[i];
    }
    return NNL_OK;
}

nnl_status nnl_op_int_at(const nnl_op_call *c, const nnl_tensor *t, int64_t i, const char *what,
                         int64_t *v) {
    if (!t->data)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s must be a constant", what);
    if (i >= nnl_tensor_numel(t))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s has too few elements", what);
    if (t->dtype == NNL_DT_INT64)
        *v = ((const int64_t *)t->data)[i];
    else if (t->dtype == NNL_DT_INT32)
        *v = ((const int32_t *)t->data)[i];
    else
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s must be int32 or int64, not %s", what,
                           nnl_dtype_name(t->dtype));
    return NNL_OK;
}

int64_t nnl_op_prod(const int64_t *dims, int lo, int hi) {
    int64_t p = 1;
    for (int i = lo; i < hi; i++)
        if (dims[i] == 0) return 0;
    for (int i = lo; i < hi; i++)
        if (__builtin_mul_overflow(p, dims[i], &p)) return INT64_MAX;
    return p;
}

typedef struct range_job {
    nnl_op_range_fn fn;
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

void nnl_op_parallel(nnl_pool *pool, int64_t n, int64_t grain, nnl_op_range_fn fn, void *ctx) {
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
