/*
 * Ops that only relabel the shape (the bytes are copied unchanged):
 * Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout; and the shape
 * readers Shape and Size, whose exec never reads the input's data.
 */
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

/* Shared exec: out[0] gets in[0]'s bytes, which it already holds where
 * the arena placed it on them (nnl_op_is_view). */
static nnl_status exec_copy(const nnl_op_call *c) {
    size_t n = (size_t)nnl_tensor_numel(c->in[0]) * nnl_dtype_size(c->in[0]->dtype);
    if (n && c->out[0]->data != c->in[0]->data) memcpy(c->out[0]->data, c->in[0]->data, n);
    return NNL_OK;
}

static nnl_status same_numel(const nnl_op_call *c, const nnl_tensor *in, const nnl_tensor *out) {
    if (nnl_tensor_numel(in) != nnl_tensor_numel(out)) {
        char a[128], b[128];
        return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot reshape %s into %s", nnl_shape_str(in, a, sizeof a),
                           nnl_shape_str(out, b, sizeof b));
    }
    return NNL_OK;
}

/* ---- Reshape --------------------------------------------------------- */

nnl_status tn_Reshape_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"allowzero", "shape", "consumed_inputs", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 2, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int64_t allowzero;
    if ((s = nnl_op_attr_int(c, "allowzero", 0, &allowzero))) return s;
    int64_t shape[NNL_MAX_RANK];
    int n = 0;
    if (nnl_op_in(c, 1)) {
        if ((s = tn_read_ints(c, 1, "shape", shape, NNL_MAX_RANK, &n))) return s;
    } else {
        const int64_t *v;
        if ((s = nnl_op_attr_ints(c, "shape", &v, &n))) return s;
        if (n < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs a 'shape' input");
        if (n > NNL_MAX_RANK)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "target rank %d is too large", n);
        memcpy(shape, v, (size_t)n * sizeof *v);
    }
    int infer_at = -1;
    int64_t known_prod = 1;
    for (int i = 0; i < n; i++) {
        if (shape[i] == -1) {
            if (infer_at >= 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "more than one -1 in the shape");
            infer_at = i;
            continue;
        }
        if (shape[i] == 0 && !allowzero) {
            if (i >= x->rank)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "shape[%d] = 0 copies a dimension the input lacks",
                                   i);
            shape[i] = x->dims[i];
        } else if (shape[i] < 0) {
            return nnl_op_fail(c, NNL_ERR_SHAPE, "invalid shape value %lld", (long long)shape[i]);
        }
        if (__builtin_mul_overflow(known_prod, shape[i], &known_prod))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "shape values overflow");
    }
    if (infer_at >= 0) {
        int64_t total = nnl_tensor_numel(x);
        if (known_prod == 0 || total % known_prod != 0) {
            char a[128];
            return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot infer the -1 dimension reshaping %s",
                               nnl_shape_str(x, a, sizeof a));
        }
        shape[infer_at] = total / known_prod;
    }
    if ((s = nnl_op_set_out(c, c->out[0], x->dtype, n, shape))) return s;
    return same_numel(c, x, c->out[0]);
}

nnl_status tn_Reshape_exec(const nnl_op_call *c) { return exec_copy(c); }

/* ---- Flatten --------------------------------------------------------- */

nnl_status tn_Flatten_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"axis", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 1, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int64_t axis;
    int ax;
    if ((s = nnl_op_attr_int(c, "axis", 1, &axis)) ||
        (s = axis == x->rank ? NNL_OK : nnl_op_axis(c, axis, x->rank, "axis", &ax)))
        return s;
    if (axis == x->rank) ax = x->rank; /* Flatten's axis may also be rank */
    int64_t d[2] = {nnl_op_prod(x->dims, 0, ax), nnl_op_prod(x->dims, ax, x->rank)};
    return nnl_op_set_out(c, c->out[0], x->dtype, 2, d);
}

nnl_status tn_Flatten_exec(const nnl_op_call *c) { return exec_copy(c); }

/* ---- Squeeze / Unsqueeze ----------------------------------------------- */

/* The start of Squeeze's and Unsqueeze's infer: their checks, then the
 * axes from the attribute (opset < 13) or the second input (>= 13); either
 * is accepted whatever the opset.  *n = -1 when neither is given. */
static nnl_status axes_args(nnl_op_call *c, int64_t *axes, int *n) {
    static const char *const known[] = {"axes", NULL};
    const int64_t *v;
    nnl_status s = nnl_op_begin(c, known, 1, 2, 1, 1, 1);
    if (!s) s = nnl_op_attr_ints(c, "axes", &v, n);
    if (s) return s;
    if (*n >= 0) {
        if (*n > 2 * NNL_MAX_RANK) return nnl_op_fail(c, NNL_ERR_SHAPE, "too many axes");
        memcpy(axes, v, (size_t)*n * sizeof *v);
        return NNL_OK;
    }
    if (nnl_op_in(c, 1)) return tn_read_ints(c, 1, "axes", axes, 2 * NNL_MAX_RANK, n);
    return NNL_OK;
}

nnl_status tn_Squeeze_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    int64_t axes[2 * NNL_MAX_RANK];
    int n;
    nnl_status s = axes_args(c, axes, &n);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    bool drop[NNL_MAX_RANK] = {false};
    if (n < 0) {
        for (int i = 0; i < x->rank; i++) drop[i] = x->dims[i] == 1;
    } else {
        if ((s = nnl_op_axes_mark(c, axes, n, x->rank, drop))) return s;
        for (int a = 0; a < x->rank; a++)
            if (drop[a] && x->dims[a] != 1)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot squeeze axis %d of size %lld", a,
                                   (long long)x->dims[a]);
    }
    int64_t d[NNL_MAX_RANK];
    int rank = 0;
    for (int i = 0; i < x->rank; i++)
        if (!drop[i]) d[rank++] = x->dims[i];
    return nnl_op_set_out(c, c->out[0], x->dtype, rank, d);
}

nnl_status tn_Squeeze_exec(const nnl_op_call *c) { return exec_copy(c); }

nnl_status tn_Unsqueeze_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    int64_t axes[2 * NNL_MAX_RANK];
    int n;
    nnl_status s = axes_args(c, axes, &n);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    if (n < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs 'axes'");
    int rank = x->rank + n;
    if (rank > NNL_MAX_RANK)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output rank %d exceeds the maximum %d", rank,
                           NNL_MAX_RANK);
    bool ins[NNL_MAX_RANK] = {false};
    if ((s = nnl_op_axes_mark(c, axes, n, rank, ins))) return s;
    int64_t d[NNL_MAX_RANK];
    for (int i = 0, j = 0; i < rank; i++) d[i] = ins[i] ? 1 : x->dims[j++];
    return nnl_op_set_out(c, c->out[0], x->dtype, rank, d);
}

nnl_status tn_Unsqueeze_exec(const nnl_op_call *c) { return exec_copy(c); }

/* ---- Identity / Dropout --------------------------------------------------- */

nnl_status tn_Identity_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    nnl_status s = nnl_op_begin(c, NULL, 1, 1, 1, 1, 1);
    if (s) return s;
    return nnl_op_set_out(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
}

nnl_status tn_Identity_exec(const nnl_op_call *c) { return exec_copy(c); }

/* Inference only: the output is the input and the mask is all true (all
 * ones of the input type before opset 10).  Training mode would need
 * random numbers, so a constant true training_mode is refused, and so is
 * one that is not constant. */
nnl_status tn_Dropout_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"ratio", "seed", "is_test", "consumed_inputs", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 3, 1, 1, 2);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    const nnl_tensor *tm = nnl_op_in(c, 2);
    if (tm) {
        if (tm->dtype != NNL_DT_BOOL || nnl_tensor_numel(tm) != 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "'training_mode' must be one bool");
        if (!tm->data)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "needs a constant 'training_mode' input");
        if (*(const uint8_t *)tm->data)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "training mode is not supported");
    }
    if ((s = nnl_op_set_out(c, c->out[0], x->dtype, x->rank, x->dims))) return s;
    nnl_tensor *mask = nnl_op_out(c, 1);
    if (mask) {
        nnl_dtype mdt = c->opset > 0 && c->opset < 10 ? x->dtype : NNL_DT_BOOL;
        if ((s = nnl_op_set_out(c, mask, mdt, x->rank, x->dims))) return s;
    }
    return NNL_OK;
}

nnl_status tn_Dropout_exec(const nnl_op_call *c) {
    exec_copy(c);
    nnl_tensor *mask = nnl_op_out(c, 1);
    if (mask) {
        uint8_t one[8];
        tn_from_double(mask->dtype, 1.0, one);
        tn_fill(mask->data, nnl_tensor_numel(mask), one, nnl_dtype_size(mask->dtype));
    }
    return NNL_OK;
}

/* ---- Shape / Size -------------------------------------------------------- */

static void shape_range(const nnl_op_call *c, int rank, int *lo, int *hi) {
    int64_t st = nnl_attr_int(c, "start", 0), en = nnl_attr_int(c, "end", rank);
    if (st < 0) st += rank;
    if (en < 0) en += rank;
    st = st < 0 ? 0 : st > rank ? rank : st;
    en = en < 0 ? 0 : en > rank ? rank : en;
    *lo = (int)st;
    *hi = (int)(en > st ? en : st);
}

nnl_status tn_Shape_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"start", "end", NULL};
    nnl_status s = nnl_attr_check(c, known);
    if (!s) s = nnl_op_check_io(c, 1, 1, 1, 1, 1);
    if (s) return s;
    int64_t tmp;
    if ((s = nnl_op_attr_int(c, "start", 0, &tmp)) || (s = nnl_op_attr_int(c, "end", 0, &tmp))) return s;
    int lo, hi;
    shape_range(c, c->in[0]->rank, &lo, &hi);
    int64_t d = hi - lo;
    return nnl_op_set_out(c, c->out[0], NNL_DT_INT64, 1, &d);
}

nnl_status tn_Shape_exec(const nnl_op_call *c) {
    int lo, hi;
    shape_range(c, c->in[0]->rank, &lo, &hi);
    int64_t *o = c->out[0]->data;
    for (int i = lo; i < hi; i++) o[i - lo] = c->in[0]->dims[i];
    return NNL_OK;
}

nnl_status tn_Size_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    nnl_status s = nnl_attr_check(c, NULL);
    if (!s) s = nnl_op_check_io(c, 1, 1, 1, 1, 1);
    if (s) return s;
    return nnl_op_set_out(c, c->out[0], NNL_DT_INT64, 0, NULL);
}

nnl_status tn_Size_exec(const nnl_op_call *c) {
    *(int64_t *)c->out[0]->data = nnl_tensor_numel(c->in[0]);
    return NNL_OK;
}
