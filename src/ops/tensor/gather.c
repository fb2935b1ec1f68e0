/*
 * Index-driven reads: Gather, GatherElements, GatherND, OneHot.
 *
 * Indices come from run-time data, so every exec checks all of them before
 * it copies anything and fails with NNL_ERR_INVALID_ARG on the first one
 * out of range; the copy loops can then trust them.
 */
#include <math.h>
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

/* Check every index against [-d, d) (negative ones count from the end). */
static nnl_status check_indices(const nnl_op_call *c, const nnl_tensor *ind, int64_t d,
                                const char *what) {
    int64_t n = nnl_tensor_numel(ind);
    for (int64_t i = 0; i < n; i++) {
        int64_t v = tn_index_at(ind->data, ind->dtype, i);
        if (v < -d || v >= d)
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "index %lld is out of range for %s of size %lld",
                               (long long)v, what, (long long)d);
    }
    return NNL_OK;
}

static void copy_elem(uint8_t *d, const uint8_t *s, size_t n) {
    switch (n) {
    case 1: *d = *s; break;
    case 2: memcpy(d, s, 2); break;
    case 4: memcpy(d, s, 4); break;
    case 8: memcpy(d, s, 8); break;
    default: memcpy(d, s, n); break;
    }
}

/* ---- Gather ----------------------------------------------------------------- */

/* The start of Gather's and GatherElements' infer: their checks, the axis
 * and int32 / int64 indices. */
static nnl_status axis_args(nnl_op_call *c, int *axis) {
    static const char *const known[] = {"axis", NULL};
    int64_t a;
    nnl_status s = nnl_op_begin(c, known, 2, 2, 2, 1, 1);
    if (!s) s = nnl_op_attr_int(c, "axis", 0, &a);
    if (!s) s = nnl_op_axis(c, a, c->in[0]->rank, "axis", axis);
    if (s) return s;
    if (!tn_is_index_type(c->in[1]->dtype))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "indices must be int32 or int64, not %s",
                           nnl_dtype_name(c->in[1]->dtype));
    return NNL_OK;
}

nnl_status tn_Gather_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    int axis;
    nnl_status s = axis_args(c, &axis);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *ind = c->in[1];
    int rank = x->rank - 1 + ind->rank;
    if (rank > NNL_MAX_RANK)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output rank %d exceeds the maximum", rank);
    if (ind->data && (s = check_indices(c, ind, x->dims[axis], "the gathered axis"))) return s;
    int64_t d[NNL_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++) d[k++] = x->dims[i];
    for (int i = 0; i < ind->rank; i++) d[k++] = ind->dims[i];
    for (int i = axis + 1; i < x->rank; i++) d[k++] = x->dims[i];
    return nnl_op_set_out(c, c->out[0], x->dtype, rank, d);
}

typedef struct gather_ctx {
    const nnl_tensor *x, *ind;
    uint8_t *out;
    int64_t n, dim;            /* indices per outer row, size of the axis */
    size_t inner;              /* bytes per gathered slice */
} gather_ctx;

/* Items are (outer, index) pairs in output order. */
static void gather_items(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    const gather_ctx *g = ctx;
    const uint8_t *src = g->x->data;
    for (int64_t it = b; it < e; it++) {
        int64_t o = it / g->n, i = it % g->n;
        int64_t v = tn_index_at(g->ind->data, g->ind->dtype, i);
        if (v < 0) v += g->dim;
        copy_elem(g->out + (size_t)it * g->inner, src + (size_t)(o * g->dim + v) * g->inner,
                  g->inner);
    }
}

nnl_status tn_Gather_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *ind = c->in[1];
    int axis = (int)nnl_attr_int(c, "axis", 0);
    if (axis < 0) axis += x->rank;
    nnl_status s = check_indices(c, ind, x->dims[axis], "the gathered axis");
    if (s) return s;
    gather_ctx g = {x, ind, c->out[0]->data, nnl_tensor_numel(ind), x->dims[axis],
                    (size_t)nnl_op_prod(x->dims, axis + 1, x->rank) * nnl_dtype_size(x->dtype)};
    int64_t items = nnl_op_prod(x->dims, 0, axis) * g.n;
    if (items == 0 || g.inner == 0) return NNL_OK;
    nnl_op_parallel_bytes(c->pool, items, (double)g.inner + 16, gather_items, &g);
    return NNL_OK;
}

/* ---- GatherElements ----------------------------------------------------------- */

static nnl_status elements_shapes(const nnl_op_call *c, const nnl_tensor *x,
                                  const nnl_tensor *ind, int axis, const char *what) {
    if (ind->rank != x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s rank %d differs from data rank %d", what, ind->rank,
                           x->rank);
    for (int i = 0; i < x->rank; i++)
        if (i != axis && ind->dims[i] > x->dims[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "%s dimension %d (%lld) exceeds the data's (%lld)",
                               what, i, (long long)ind->dims[i], (long long)x->dims[i]);
    return NNL_OK;
}

nnl_status tn_GatherElements_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    int axis;
    nnl_status s = axis_args(c, &axis);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *ind = c->in[1];
    if ((s = elements_shapes(c, x, ind, axis, "indices"))) return s;
    if (ind->data && (s = check_indices(c, ind, x->dims[axis], "the gathered axis"))) return s;
    return nnl_op_set_out(c, c->out[0], x->dtype, ind->rank, ind->dims);
}

nnl_status tn_GatherElements_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *ind = c->in[1];
    int axis = (int)nnl_attr_int(c, "axis", 0);
    if (axis < 0) axis += x->rank;
    nnl_status s = check_indices(c, ind, x->dims[axis], "the gathered axis");
    if (s) return s;
    size_t es = nnl_dtype_size(x->dtype);
    int64_t n = nnl_tensor_numel(ind), xs[NNL_MAX_RANK];
    tn_strides(x->rank, x->dims, xs);
    const uint8_t *src = x->data;
    uint8_t *dst = c->out[0]->data;
    tn_elem_walk w = {{0}, 0};
    for (int64_t i = 0; i < n; i++) {
        int64_t v = tn_index_at(ind->data, ind->dtype, i);
        if (v < 0) v += x->dims[axis];
        copy_elem(dst + (size_t)i * es, src + (size_t)(w.base + v * xs[axis]) * es, es);
        tn_elem_walk_next(&w, ind->dims, ind->rank, axis, xs);
    }
    return NNL_OK;
}

/* ---- GatherND ---------------------------------------------------------------- */

nnl_status tn_GatherND_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"batch_dims", NULL};
    nnl_status s = nnl_op_begin(c, known, 2, 2, 2, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *ind = c->in[1];
    int64_t b;
    if ((s = nnl_op_attr_int(c, "batch_dims", 0, &b))) return s;
    if (!tn_is_index_type(ind->dtype))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "indices must be int32 or int64");
    if (x->rank < 1 || ind->rank < 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "data and indices must have rank >= 1");
    if (b < 0 || b >= ind->rank || b >= x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "batch_dims %lld is out of range", (long long)b);
    int64_t k = ind->dims[ind->rank - 1];
    if (k < 1 || k > x->rank - b)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "indices' last dimension %lld must be in [1, %lld]",
                           (long long)k, (long long)(x->rank - b));
    for (int i = 0; i < b; i++)
        if (x->dims[i] != ind->dims[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "batch dimension %d differs between data and indices",
                               i);
    int64_t d[NNL_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < ind->rank - 1; i++) d[rank++] = ind->dims[i];
    for (int i = (int)(b + k); i < x->rank; i++) {
        if (rank >= NNL_MAX_RANK) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output rank too large");
        d[rank++] = x->dims[i];
    }
    return nnl_op_set_out(c, c->out[0], x->dtype, rank, d);
}

nnl_status tn_GatherND_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *ind = c->in[1];
    int b = (int)nnl_attr_int(c, "batch_dims", 0);
    int k = (int)ind->dims[ind->rank - 1];
    size_t es = nnl_dtype_size(x->dtype);
    int64_t xs[NNL_MAX_RANK];
    tn_strides(x->rank, x->dims, xs);
    int64_t batches = nnl_op_prod(x->dims, 0, b);
    int64_t per_batch = nnl_op_prod(ind->dims, b, ind->rank - 1);   /* index tuples */
    size_t slice = (size_t)nnl_op_prod(x->dims, b + k, x->rank) * es;
    size_t batch_bytes = (size_t)(b > 0 ? xs[b - 1] : nnl_tensor_numel(x)) * es;
    for (int64_t t = 0; t < batches * per_batch; t++)
        for (int j = 0; j < k; j++) {
            int64_t v = tn_index_at(ind->data, ind->dtype, t * k + j), dd = x->dims[b + j];
            if (v < -dd || v >= dd)
                return nnl_op_fail(c, NNL_ERR_INVALID_ARG,
                                   "index %lld is out of range for axis %d of size %lld",
                                   (long long)v, b + j, (long long)dd);
        }
    if (slice == 0) return NNL_OK;
    const uint8_t *src = x->data;
    uint8_t *dst = c->out[0]->data;
    for (int64_t bi = 0; bi < batches; bi++)
        for (int64_t n = 0; n < per_batch; n++) {
            int64_t t = bi * per_batch + n, off = 0;
            for (int j = 0; j < k; j++) {
                int64_t v = tn_index_at(ind->data, ind->dtype, t * k + j);
                if (v < 0) v += x->dims[b + j];
                off += v * xs[b + j];
            }
            memcpy(dst + (size_t)t * slice, src + (size_t)bi * batch_bytes + (size_t)off * es,
                   slice);
        }
    return NNL_OK;
}

/* ---- OneHot ------------------------------------------------------------------- */

static bool numeric(nnl_dtype dt) { return tn_is_int_type(dt) || tn_is_float_type(dt); }

nnl_status tn_OneHot_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"axis", NULL};
    nnl_status s = nnl_op_begin(c, known, 3, 3, 3, 1, 1);
    if (s) return s;
    const nnl_tensor *ind = c->in[0], *dep = c->in[1], *val = c->in[2];
    int64_t a;
    int axis;
    if ((s = nnl_op_attr_int(c, "axis", -1, &a)) ||
        (s = nnl_op_axis(c, a, ind->rank + 1, "axis", &axis)))
        return s;
    if (!numeric(ind->dtype) || !numeric(dep->dtype))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "indices and depth must be numeric");
    if (nnl_tensor_numel(dep) != 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "depth must be a scalar");
    if (nnl_tensor_numel(val) != 2 || val->rank != 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "values must hold [off, on]");
    if (!dep->data) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "needs a constant 'depth' input");
    double dv = tn_to_double(dep->dtype, dep->data);
    if (!(dv >= 1 && dv < (double)NNL_MAX_ELEMS))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "depth %g is invalid", dv);
    int64_t d[NNL_MAX_RANK];
    for (int i = 0, j = 0; i <= ind->rank; i++) d[i] = i == axis ? (int64_t)dv : ind->dims[j++];
    return nnl_op_set_out(c, c->out[0], val->dtype, ind->rank + 1, d);
}

nnl_status tn_OneHot_exec(const nnl_op_call *c) {
    const nnl_tensor *ind = c->in[0], *val = c->in[2], *y = c->out[0];
    int axis = (int)nnl_attr_int(c, "axis", -1);
    if (axis < 0) axis += y->rank;
    size_t es = nnl_dtype_size(y->dtype);
    int64_t depth = y->dims[axis];
    int64_t outer = nnl_op_prod(y->dims, 0, axis), inner = nnl_op_prod(y->dims, axis + 1, y->rank);
    const uint8_t *off = val->data, *on = off + es;
    tn_fill(y->data, nnl_tensor_numel(y), off, es);
    uint8_t *dst = y->data;
    size_t isz = nnl_dtype_size(ind->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double v = tn_to_double(ind->dtype, (const uint8_t *)ind->data + (size_t)(o * inner + i) * isz);
            if (isnan(v)) continue;
            v = trunc(v);
            if (v < 0) v += (double)depth;
            if (v < 0 || v >= (double)depth) continue;
            memcpy(dst + (size_t)((o * depth + (int64_t)v) * inner + i) * es, on, es);
        }
    return NNL_OK;
}
