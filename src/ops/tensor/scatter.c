/*
 * Index-driven writes: ScatterND, ScatterElements (and the older Scatter,
 * which is ScatterElements without reduction).  The output starts as a
 * copy of data; updates are applied in index order, so with reduction
 * "none" the last duplicate wins.  All indices are checked before the
 * output is touched.
 */
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

typedef enum red_op { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN } red_op;

static nnl_status get_reduction(const nnl_op_call *c, nnl_dtype dt, red_op *op) {
    const char *s = nnl_attr_str(c, "reduction", "none");
    if (strcmp(s, "none") == 0) *op = RED_NONE;
    else if (strcmp(s, "add") == 0) *op = RED_ADD;
    else if (strcmp(s, "mul") == 0) *op = RED_MUL;
    else if (strcmp(s, "max") == 0) *op = RED_MAX;
    else if (strcmp(s, "min") == 0) *op = RED_MIN;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "reduction '%s'", s);
    if (*op != RED_NONE && !tn_is_int_type(dt) && !tn_is_float_type(dt))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "reduction '%s' on %s", s, nnl_dtype_name(dt));
    return NNL_OK;
}

#define RED_APPLY(T, d, s)                                                    \
    do {                                                                      \
        T a_, b_;                                                             \
        memcpy(&a_, d, sizeof a_);                                            \
        memcpy(&b_, s, sizeof b_);                                            \
        switch (op) {                                                         \
        case RED_ADD: a_ = (T)(a_ + b_); break;                               \
        case RED_MUL: a_ = (T)(a_ * b_); break;                               \
        case RED_MAX: a_ = b_ > a_ ? b_ : a_; break;                          \
        case RED_MIN: a_ = b_ < a_ ? b_ : a_; break;                          \
        default: a_ = b_; break;                                              \
        }                                                                     \
        memcpy(d, &a_, sizeof a_);                                            \
    } while (0)

/* d = d (op) s for n elements.  Integer add/mul wrap as two's complement
 * (done in unsigned arithmetic to stay defined). */
static void reduce(red_op op, nnl_dtype dt, uint8_t *d, const uint8_t *s, int64_t n) {
    size_t es = nnl_dtype_size(dt);
    if (op == RED_NONE) {
        memcpy(d, s, (size_t)n * es);
        return;
    }
    for (int64_t i = 0; i < n; i++, d += es, s += es) {
        switch (dt) {
        case NNL_DT_FLOAT: RED_APPLY(float, d, s); break;
        case NNL_DT_DOUBLE: RED_APPLY(double, d, s); break;
        case NNL_DT_FLOAT16: {
            uint16_t hd, hs;
            memcpy(&hd, d, 2);
            memcpy(&hs, s, 2);
            float fd = nnl_half_to_float(hd), fs = nnl_half_to_float(hs);
            RED_APPLY(float, &fd, &fs);
            hd = nnl_double_to_half(fd);
            memcpy(d, &hd, 2);
            break;
        }
        case NNL_DT_INT8: case NNL_DT_INT16: case NNL_DT_INT32: case NNL_DT_INT64:
            if (op == RED_ADD || op == RED_MUL) {
                uint64_t a = 0, b = 0;
                memcpy(&a, d, es);
                memcpy(&b, s, es);
                uint64_t v = op == RED_ADD ? a + b : a * b;
                memcpy(d, &v, es);   /* little-endian: the low bytes */
            } else if (dt == NNL_DT_INT8) {
                RED_APPLY(int8_t, d, s);
            } else if (dt == NNL_DT_INT16) {
                RED_APPLY(int16_t, d, s);
            } else if (dt == NNL_DT_INT32) {
                RED_APPLY(int32_t, d, s);
            } else {
                RED_APPLY(int64_t, d, s);
            }
            break;
        case NNL_DT_UINT8: RED_APPLY(uint8_t, d, s); break;
        case NNL_DT_UINT16: {
            uint32_t a = 0, b = 0;
            memcpy(&a, d, 2);
            memcpy(&b, s, 2);
            RED_APPLY(uint32_t, &a, &b);
            memcpy(d, &a, 2);
            break;
        }
        case NNL_DT_UINT32: RED_APPLY(uint32_t, d, s); break;
        case NNL_DT_UINT64: RED_APPLY(uint64_t, d, s); break;
        default: break;
        }
    }
}

/* Common checks: data, int32/int64 indices, updates of data's dtype. */
static nnl_status scatter_common(nnl_op_call *c, const char *const *known, red_op *op) {
    nnl_status s = nnl_op_begin(c, known, 3, 3, 3, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
    size_t es;
    if ((s = tn_esize(c, x, "data", &es)) || (s = get_reduction(c, x->dtype, op))) return s;
    if (!tn_is_index_type(ind->dtype))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "indices must be int32 or int64");
    if (upd->dtype != x->dtype)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "updates are %s but data is %s",
                           nnl_dtype_name(upd->dtype), nnl_dtype_name(x->dtype));
    return NNL_OK;
}

/* ---- ScatterND ---------------------------------------------------------------- */

nnl_status tn_ScatterND_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"reduction", NULL};
    red_op op;
    nnl_status s = scatter_common(c, known, &op);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
    if (ind->rank < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "indices must have rank >= 1");
    int64_t k = ind->dims[ind->rank - 1];
    if (k < 1 || k > x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "indices' last dimension %lld must be in [1, %d]",
                           (long long)k, x->rank);
    /* updates: indices.shape[:-1] + data.shape[k:] */
    int ur = ind->rank - 1 + x->rank - (int)k;
    bool ok = upd->rank == ur;
    for (int i = 0; ok && i < ind->rank - 1; i++) ok = upd->dims[i] == ind->dims[i];
    for (int i = (int)k; ok && i < x->rank; i++) ok = upd->dims[ind->rank - 1 + i - k] == x->dims[i];
    if (!ok) {
        char a[128];
        return nnl_op_fail(c, NNL_ERR_SHAPE, "updates shape %s does not fit data and indices",
                           nnl_shape_str(upd, a, sizeof a));
    }
    return nnl_op_set_out(c, c->out[0], x->dtype, x->rank, x->dims);
}

nnl_status tn_ScatterND_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
    red_op op;
    get_reduction(c, x->dtype, &op);
    int k = (int)ind->dims[ind->rank - 1];
    int64_t tuples = nnl_op_prod(ind->dims, 0, ind->rank - 1), xs[NNL_MAX_RANK];
    tn_strides(x->rank, x->dims, xs);
    for (int64_t t = 0; t < tuples; t++)
        for (int j = 0; j < k; j++) {
            int64_t v = tn_index_at(ind->data, ind->dtype, t * k + j);
            if (v < -x->dims[j] || v >= x->dims[j])
                return nnl_op_fail(c, NNL_ERR_INVALID_ARG,
                                   "index %lld is out of range for axis %d of size %lld",
                                   (long long)v, j, (long long)x->dims[j]);
        }
    size_t es = nnl_dtype_size(x->dtype);
    int64_t n = nnl_tensor_numel(x);
    if (n == 0) return NNL_OK;
    memcpy(c->out[0]->data, x->data, (size_t)n * es);
    int64_t slice = nnl_op_prod(x->dims, k, x->rank);
    uint8_t *dst = c->out[0]->data;
    const uint8_t *src = upd->data;
    for (int64_t t = 0; t < tuples && slice; t++) {
        int64_t off = 0;
        for (int j = 0; j < k; j++) {
            int64_t v = tn_index_at(ind->data, ind->dtype, t * k + j);
            off += (v < 0 ? v + x->dims[j] : v) * xs[j];
        }
        reduce(op, x->dtype, dst + (size_t)off * es, src + (size_t)(t * slice) * es, slice);
    }
    return NNL_OK;
}

/* ---- ScatterElements / Scatter ------------------------------------------------- */

nnl_status tn_ScatterElements_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"axis", "reduction", NULL};
    red_op op;
    nnl_status s = scatter_common(c, known, &op);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
    int64_t a;
    int axis;
    if ((s = nnl_op_attr_int(c, "axis", 0, &a)) ||
        (s = nnl_op_axis(c, a, x->rank, "axis", &axis)))
        return s;
    if (ind->rank != x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "indices rank %d differs from data rank %d", ind->rank,
                           x->rank);
    for (int i = 0; i < x->rank; i++) {
        if (upd->rank != ind->rank || upd->dims[i] != ind->dims[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "updates and indices differ in shape");
        if (i != axis && ind->dims[i] > x->dims[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "indices dimension %d (%lld) exceeds the data's (%lld)",
                               i, (long long)ind->dims[i], (long long)x->dims[i]);
    }
    return nnl_op_set_out(c, c->out[0], x->dtype, x->rank, x->dims);
}

nnl_status tn_ScatterElements_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *ind = c->in[1], *upd = c->in[2];
    red_op op;
    get_reduction(c, x->dtype, &op);
    int axis = (int)nnl_attr_int(c, "axis", 0);
    if (axis < 0) axis += x->rank;
    int64_t n = nnl_tensor_numel(ind), dim = x->dims[axis];
    for (int64_t i = 0; i < n; i++) {
        int64_t v = tn_index_at(ind->data, ind->dtype, i);
        if (v < -dim || v >= dim)
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "index %lld is out of range for axis %d of size %lld",
                               (long long)v, axis, (long long)dim);
    }
    size_t es = nnl_dtype_size(x->dtype);
    int64_t total = nnl_tensor_numel(x);
    if (total) memcpy(c->out[0]->data, x->data, (size_t)total * es);
    int64_t xs[NNL_MAX_RANK];
    tn_strides(x->rank, x->dims, xs);
    uint8_t *dst = c->out[0]->data;
    const uint8_t *src = upd->data;
    tn_elem_walk w = {{0}, 0};
    for (int64_t i = 0; i < n; i++) {
        int64_t v = tn_index_at(ind->data, ind->dtype, i);
        if (v < 0) v += dim;
        reduce(op, x->dtype, dst + (size_t)(w.base + v * xs[axis]) * es, src + (size_t)i * es, 1);
        tn_elem_walk_next(&w, ind->dims, ind->rank, axis, xs);
    }
    return NNL_OK;
}
