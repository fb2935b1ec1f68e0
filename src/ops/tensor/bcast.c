/*
 * Broadcasting copies and generated tensors: Expand, Tile, Where,
 * ConstantOfShape, EyeLike, Range, Trilu.
 */
#include <math.h>
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

/* Numpy-style broadcast of n shapes into dims/rank. */
static nnl_status broadcast(const nnl_op_call *c, int n, const int *ranks,
                            const int64_t *const *shapes, int64_t *dims, int *rank) {
    int r = 0;
    for (int i = 0; i < n; i++) r = ranks[i] > r ? ranks[i] : r;
    for (int d = 0; d < r; d++) {
        int64_t v = 1;
        for (int i = 0; i < n; i++) {
            int k = d - (r - ranks[i]);
            if (k < 0) continue;
            int64_t x = shapes[i][k];
            if (x == v || x == 1) continue;
            if (v != 1)
                return nnl_op_fail(c, NNL_ERR_SHAPE,
                                   "shapes do not broadcast: dimension %d is %lld in one and %lld in "
                                   "another",
                                   d, (long long)v, (long long)x);
            v = x;
        }
        dims[d] = v;
    }
    *rank = r;
    return NNL_OK;
}

/* Byte strides of t read as a broadcast to dims[0..rank). */
static void bcast_strides(const nnl_tensor *t, int rank, const int64_t *dims, int64_t *st) {
    int64_t s = (int64_t)nnl_dtype_size(t->dtype);
    for (int d = rank - 1; d >= 0; d--) {
        int k = d - (rank - t->rank);
        if (k < 0 || (t->dims[k] == 1 && dims[d] != 1)) {
            st[d] = 0;
        } else {
            st[d] = s;
            s *= t->dims[k];
        }
    }
}

/* ---- Expand -------------------------------------------------------------- */

nnl_status tn_Expand_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    nnl_status s = nnl_op_begin(c, NULL, 2, 2, 2, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int64_t shape[NNL_MAX_RANK];
    int n;
    if ((s = tn_read_ints(c, 1, "shape", shape, NNL_MAX_RANK, &n)))
        return s;
    for (int i = 0; i < n; i++)
        if (shape[i] < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "shape value %lld is negative",
                               (long long)shape[i]);
    const int ranks[2] = {x->rank, n};
    const int64_t *shapes[2] = {x->dims, shape};
    int64_t d[NNL_MAX_RANK];
    int rank;
    if ((s = broadcast(c, 2, ranks, shapes, d, &rank))) return s;
    return nnl_op_set_out(c, c->out[0], x->dtype, rank, d);
}

nnl_status tn_Expand_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *y = c->out[0];
    int64_t st[NNL_MAX_RANK];
    bcast_strides(x, y->rank, y->dims, st);
    tn_copy_strided(c->pool, y->data, x->data, y->rank, y->dims, st, nnl_dtype_size(x->dtype));
    return NNL_OK;
}

/* ---- Tile ------------------------------------------------------------------ */

nnl_status tn_Tile_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    nnl_status s = nnl_op_begin(c, NULL, 2, 2, 2, 1, 1);
    if (s) return s;
    if (c->opset > 0 && c->opset < 6)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "Tile before opset 6 (tiles/axis inputs)");
    const nnl_tensor *x = c->in[0];
    int64_t rep[NNL_MAX_RANK];
    int n;
    if ((s = tn_read_ints(c, 1, "repeats", rep, NNL_MAX_RANK, &n)))
        return s;
    if (n != x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'repeats' has %d values for an input of rank %d", n,
                           x->rank);
    int64_t d[NNL_MAX_RANK];
    for (int i = 0; i < n; i++) {
        if (rep[i] < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "repeat %lld is negative", (long long)rep[i]);
        if (x->dims[i] && rep[i] > (int64_t)NNL_MAX_ELEMS / x->dims[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output is too large");
        d[i] = x->dims[i] * rep[i];
    }
    return nnl_op_set_out(c, c->out[0], x->dtype, n, d);
}

/* Output dim i viewed as (repeat, dim): the repeat axis has source stride
 * 0, so the strided copy engine does the whole job. */
nnl_status tn_Tile_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *y = c->out[0];
    if (nnl_tensor_numel(y) == 0) return NNL_OK;
    size_t es = nnl_dtype_size(x->dtype);
    int64_t xs[NNL_MAX_RANK], dims[2 * NNL_MAX_RANK], st[2 * NNL_MAX_RANK];
    tn_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++) {
        dims[2 * i] = y->dims[i] / x->dims[i];
        st[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        st[2 * i + 1] = xs[i] * (int64_t)es;
    }
    tn_copy_strided(c->pool, y->data, x->data, 2 * x->rank, dims, st, es);
    return NNL_OK;
}

/* ---- Where ----------------------------------------------------------------- */

nnl_status tn_Where_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    nnl_status s = nnl_op_begin(c, NULL, 3, 3, 3, 1, 1);
    if (s) return s;
    const nnl_tensor *cond = c->in[0], *x = c->in[1], *y = c->in[2];
    if (cond->dtype != NNL_DT_BOOL)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "condition must be bool, not %s",
                           nnl_dtype_name(cond->dtype));
    if (x->dtype != y->dtype)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "X is %s but Y is %s", nnl_dtype_name(x->dtype),
                           nnl_dtype_name(y->dtype));
    const int ranks[3] = {cond->rank, x->rank, y->rank};
    const int64_t *shapes[3] = {cond->dims, x->dims, y->dims};
    int64_t d[NNL_MAX_RANK];
    int rank;
    if ((s = broadcast(c, 3, ranks, shapes, d, &rank))) return s;
    return nnl_op_set_out(c, c->out[0], x->dtype, rank, d);
}

typedef struct where_ctx {
    const nnl_tensor *out;
    const uint8_t *cd, *xd, *yd;
    int64_t cs[NNL_MAX_RANK], xs[NNL_MAX_RANK], ys[NNL_MAX_RANK];   /* byte strides */
    size_t es;
} where_ctx;

static void where_rows(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    const where_ctx *w = ctx;
    int r = w->out->rank;
    int64_t n = r ? w->out->dims[r - 1] : 1;
    int64_t cst = r ? w->cs[r - 1] : 0, xst = r ? w->xs[r - 1] : 0, yst = r ? w->ys[r - 1] : 0;
    size_t es = w->es;
    for (int64_t row = b; row < e; row++) {
        int64_t rem = row, co = 0, xo = 0, yo = 0;
        for (int i = r - 2; i >= 0; i--) {
            int64_t k = rem % w->out->dims[i];
            rem /= w->out->dims[i];
            co += k * w->cs[i];
            xo += k * w->xs[i];
            yo += k * w->ys[i];
        }
        uint8_t *o = (uint8_t *)w->out->data + (size_t)(row * n) * es;
        const uint8_t *cp = w->cd + co, *xp = w->xd + xo, *yp = w->yd + yo;
        for (int64_t j = 0; j < n; j++)
            memcpy(o + (size_t)j * es, cp[j * cst] ? xp + j * xst : yp + j * yst, es);
    }
}

nnl_status tn_Where_exec(const nnl_op_call *c) {
    where_ctx w;
    const nnl_tensor *y = c->out[0];
    w.out = y;
    w.cd = c->in[0]->data;
    w.xd = c->in[1]->data;
    w.yd = c->in[2]->data;
    w.es = nnl_dtype_size(y->dtype);
    bcast_strides(c->in[0], y->rank, y->dims, w.cs);
    bcast_strides(c->in[1], y->rank, y->dims, w.xs);
    bcast_strides(c->in[2], y->rank, y->dims, w.ys);
    int64_t n = nnl_tensor_numel(y);
    if (n == 0) return NNL_OK;
    int64_t inner = y->rank ? y->dims[y->rank - 1] : 1;
    nnl_op_parallel_bytes(c->pool, n / inner, (double)inner * (double)w.es * 3, where_rows, &w);
    return NNL_OK;
}

/* ---- ConstantOfShape --------------------------------------------------------- */

nnl_status tn_ConstantOfShape_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"value", NULL};
    nnl_status s = nnl_attr_check(c, known);
    if (!s) s = nnl_op_check_io(c, 1, 1, 1, 1, 1);
    if (s) return s;
    nnl_dtype dt = NNL_DT_FLOAT;
    const nnl_attr *a = nnl_attr_get(c, "value");
    if (a) {
        if (a->type != NNL_ATTR_TENSOR || !a->t || !a->t->data)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'value' must be a tensor");
        if (nnl_tensor_numel(a->t) != 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'value' must hold one element");
        size_t es;
        if ((s = tn_esize(c, a->t, "value", &es))) return s;
        dt = a->t->dtype;
    }
    int64_t shape[NNL_MAX_RANK];
    int n;
    if (c->in[0]->dtype != NNL_DT_INT64)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "input must be int64");
    if ((s = tn_read_ints(c, 0, "shape", shape, NNL_MAX_RANK, &n))) return s;
    return nnl_op_set_out(c, c->out[0], dt, n, shape);
}

nnl_status tn_ConstantOfShape_exec(const nnl_op_call *c) {
    const nnl_attr *a = nnl_attr_get(c, "value");
    const nnl_tensor *y = c->out[0];
    if (a && a->type == NNL_ATTR_TENSOR && a->t && a->t->data)
        tn_fill(y->data, nnl_tensor_numel(y), a->t->data, nnl_dtype_size(y->dtype));
    else if (nnl_tensor_numel(y))
        memset(y->data, 0, (size_t)nnl_tensor_numel(y) * nnl_dtype_size(y->dtype));
    return NNL_OK;
}

/* ---- EyeLike ---------------------------------------------------------------- */

nnl_status tn_EyeLike_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"dtype", "k", NULL};
    nnl_status s = nnl_attr_check(c, known);
    if (!s) s = nnl_op_check_io(c, 1, 1, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int64_t dt, k;
    if ((s = nnl_op_attr_int(c, "dtype", x->dtype, &dt)) ||
        (s = nnl_op_attr_int(c, "k", 0, &k)))
        return s;
    if (x->rank != 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "input must be 2-D, got rank %d",
                                         x->rank);
    if (nnl_dtype_size((nnl_dtype)dt) == 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "unsupported dtype %lld", (long long)dt);
    return nnl_op_set_out(c, c->out[0], (nnl_dtype)dt, 2, x->dims);
}

nnl_status tn_EyeLike_exec(const nnl_op_call *c) {
    const nnl_tensor *y = c->out[0];
    size_t es = nnl_dtype_size(y->dtype);
    int64_t rows = y->dims[0], cols = y->dims[1], k = nnl_attr_int(c, "k", 0);
    if (rows * cols == 0) return NNL_OK;
    memset(y->data, 0, (size_t)(rows * cols) * es);
    uint8_t one[8];
    tn_from_double(y->dtype, 1.0, one);
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = i + k;
        if (j >= 0 && j < cols) memcpy((uint8_t *)y->data + (size_t)(i * cols + j) * es, one, es);
    }
    return NNL_OK;
}

/* ---- Range ------------------------------------------------------------------- */

static nnl_status range_len(const nnl_op_call *c, int64_t *n) {
    nnl_dtype dt = c->in[0]->dtype;
    double v[3];
    for (int i = 0; i < 3; i++) v[i] = tn_to_double(dt, c->in[i]->data);
    if (tn_is_int_type(dt)) {
        int64_t st = (int64_t)v[0], li = (int64_t)v[1], de = (int64_t)v[2];
        if (dt == NNL_DT_INT64) {
            st = *(const int64_t *)c->in[0]->data;
            li = *(const int64_t *)c->in[1]->data;
            de = *(const int64_t *)c->in[2]->data;
        }
        if (de == 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "delta is zero");
        __int128 span = (__int128)li - st, len;
        if (de > 0)
            len = span <= 0 ? 0 : (span + de - 1) / de;
        else
            len = span >= 0 ? 0 : (-span + (-(__int128)de) - 1) / (-(__int128)de);
        if (len > (int64_t)NNL_MAX_ELEMS) return nnl_op_fail(c, NNL_ERR_SHAPE, "output is too large");
        *n = (int64_t)len;
        return NNL_OK;
    }
    if (v[2] == 0 || isnan(v[0]) || isnan(v[1]) || isnan(v[2]))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "delta is zero or a value is NaN");
    double len = ceil((v[1] - v[0]) / v[2]);
    if (!(len < (double)NNL_MAX_ELEMS)) return nnl_op_fail(c, NNL_ERR_SHAPE, "output is too large");
    *n = len > 0 ? (int64_t)len : 0;
    return NNL_OK;
}

nnl_status tn_Range_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    nnl_status s = nnl_attr_check(c, NULL);
    if (!s) s = nnl_op_check_io(c, 3, 3, 3, 1, 1);
    if (s) return s;
    nnl_dtype dt = c->in[0]->dtype;
    if (dt != NNL_DT_FLOAT && dt != NNL_DT_DOUBLE && dt != NNL_DT_INT16 && dt != NNL_DT_INT32 &&
        dt != NNL_DT_INT64)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "unsupported type %s", nnl_dtype_name(dt));
    static const char *const names[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++) {
        if (c->in[i]->dtype != dt)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "'%s' is %s, expected %s", names[i],
                               nnl_dtype_name(c->in[i]->dtype), nnl_dtype_name(dt));
        if (nnl_tensor_numel(c->in[i]) != 1 || c->in[i]->rank > 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "'%s' must be a scalar", names[i]);
        if (!c->in[i]->data)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "needs a constant '%s' input", names[i]);
    }
    int64_t n;
    if ((s = range_len(c, &n))) return s;
    return nnl_op_set_out(c, c->out[0], dt, 1, &n);
}

nnl_status tn_Range_exec(const nnl_op_call *c) {
    const nnl_tensor *y = c->out[0];
    int64_t n = y->dims[0];
    void *o = y->data;
    const void *a = c->in[0]->data, *d = c->in[2]->data;
    switch (y->dtype) {
    case NNL_DT_FLOAT:
        for (int64_t i = 0; i < n; i++)
            ((float *)o)[i] = (float)((double)*(const float *)a + (double)i * *(const float *)d);
        break;
    case NNL_DT_DOUBLE:
        for (int64_t i = 0; i < n; i++)
            ((double *)o)[i] = *(const double *)a + (double)i * *(const double *)d;
        break;
    case NNL_DT_INT16:
        for (int64_t i = 0; i < n; i++)
            ((int16_t *)o)[i] = (int16_t)(*(const int16_t *)a + i * *(const int16_t *)d);
        break;
    case NNL_DT_INT32:
        for (int64_t i = 0; i < n; i++)
            ((int32_t *)o)[i] = (int32_t)(*(const int32_t *)a + i * *(const int32_t *)d);
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)o)[i] = *(const int64_t *)a + i * *(const int64_t *)d;
        break;
    }
    return NNL_OK;
}

/* ---- Trilu ------------------------------------------------------------------- */

nnl_status tn_Trilu_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"upper", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 2, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *k = nnl_op_in(c, 1);
    int64_t up;
    if ((s = nnl_op_attr_int(c, "upper", 1, &up))) return s;
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "input rank must be >= 2, got %d",
                                        x->rank);
    if (k && (k->dtype != NNL_DT_INT64 || nnl_tensor_numel(k) != 1))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'k' must be one int64");
    return nnl_op_set_out(c, c->out[0], x->dtype, x->rank, x->dims);
}

nnl_status tn_Trilu_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *y = c->out[0], *kt = nnl_op_in(c, 1);
    size_t es = nnl_dtype_size(x->dtype);
    int64_t k = kt ? *(const int64_t *)kt->data : 0;
    bool upper = nnl_attr_int(c, "upper", 1) != 0;
    int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
    int64_t mats = nnl_op_prod(x->dims, 0, x->rank - 2);
    if (mats * rows * cols == 0) return NNL_OK;
    const uint8_t *src = x->data;
    uint8_t *dst = y->data;
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < rows; i++) {
            size_t off = (size_t)((m * rows + i) * cols) * es;
            /* kept columns are [lo, hi) */
            int64_t lo = 0, hi = cols;
            if (upper) {
                /* keep j >= i + k; clamp before comparing to avoid overflow */
                int64_t t = k > cols ? cols : k < -rows ? -rows : k;
                lo = i + t;
            } else {
                int64_t t = k > cols ? cols : k < -rows - 1 ? -rows - 1 : k;
                hi = i + t + 1;
            }
            lo = lo < 0 ? 0 : lo > cols ? cols : lo;
            hi = hi < lo ? lo : hi > cols ? cols : hi;
            memset(dst + off, 0, (size_t)lo * es);
            memcpy(dst + off + (size_t)lo * es, src + off + (size_t)lo * es, (size_t)(hi - lo) * es);
            memset(dst + off + (size_t)hi * es, 0, (size_t)(cols - hi) * es);
        }
    return NNL_OK;
}
