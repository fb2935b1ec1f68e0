/*
 * Ops whose output shape depends on input values: NonZero and Unique need
 * a constant input (infer computes the shape from its data); TopK needs
 * only a constant K.  Sorting is a heap sort over int64 positions with a
 * total order (value, then position), so results never depend on the sort
 * algorithm and exec needs only the scratch declared by infer.
 */
#include <math.h>
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

static int fcmp(double x, double y) {
    int xn = x != x, yn = y != y;
    if (xn || yn) return xn - yn;   /* NaN above everything, NaNs equal */
    return (x > y) - (x < y);
}

/* Three-way compare of two elements of type dt. */
static int cmp_vals(nnl_dtype dt, const uint8_t *a, const uint8_t *b) {
    switch (dt) {
#define CMP(T)                                                          \
    {                                                                   \
        T x, y;                                                         \
        memcpy(&x, a, sizeof x);                                        \
        memcpy(&y, b, sizeof y);                                        \
        return (x > y) - (x < y);                                       \
    }
    case NNL_DT_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return fcmp(x, y);
    }
    case NNL_DT_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return fcmp(x, y);
    }
    case NNL_DT_FLOAT16: {
        uint16_t x, y;
        memcpy(&x, a, 2);
        memcpy(&y, b, 2);
        return fcmp(nnl_half_to_float(x), nnl_half_to_float(y));
    }
    case NNL_DT_INT8: CMP(int8_t)
    case NNL_DT_INT16: CMP(int16_t)
    case NNL_DT_INT32: CMP(int32_t)
    case NNL_DT_INT64: CMP(int64_t)
    case NNL_DT_UINT16: CMP(uint16_t)
    case NNL_DT_UINT32: CMP(uint32_t)
    case NNL_DT_UINT64: CMP(uint64_t)
    case NNL_DT_BOOL: return (*a != 0) - (*b != 0);
    default: CMP(uint8_t)
#undef CMP
    }
}

/* ---- heap sort of positions ------------------------------------------------ */

/* before(ctx, a, b): a sorts strictly before b (a total order). */
typedef bool (*before_fn)(const void *ctx, int64_t a, int64_t b);

/* Max-heap on `before`: the root is the element that sorts last. */
static void sift_down(int64_t *h, int64_t n, int64_t i, before_fn before, const void *ctx) {
    for (;;) {
        int64_t w = i, l = 2 * i + 1, r = l + 1;
        if (l < n && before(ctx, h[w], h[l])) w = l;
        if (r < n && before(ctx, h[w], h[r])) w = r;
        if (w == i) return;
        int64_t t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void heap_sort(int64_t *h, int64_t n, before_fn before, const void *ctx) {
    for (int64_t i = n / 2 - 1; i >= 0; i--) sift_down(h, n, i, before, ctx);
    for (int64_t e = n - 1; e > 0; e--) {
        int64_t t = h[0];
        h[0] = h[e];
        h[e] = t;
        sift_down(h, e, 0, before, ctx);
    }
}

/* ---- NonZero --------------------------------------------------------------- */

static bool nonzero_at(nnl_dtype dt, const uint8_t *p) {
    switch (dt) {
    case NNL_DT_FLOAT: {
        float v;
        memcpy(&v, p, 4);
        return v != 0;
    }
    case NNL_DT_DOUBLE: {
        double v;
        memcpy(&v, p, 8);
        return v != 0;
    }
    case NNL_DT_FLOAT16: {
        uint16_t v;
        memcpy(&v, p, 2);
        return (v & 0x7fff) != 0;
    }
    default:
        for (size_t i = 0; i < nnl_dtype_size(dt); i++)
            if (p[i]) return true;
        return false;
    }
}

static int64_t count_nonzero(const nnl_tensor *x) {
    int64_t n = nnl_tensor_numel(x), k = 0;
    size_t es = nnl_dtype_size(x->dtype);
    for (int64_t i = 0; i < n; i++) k += nonzero_at(x->dtype, (const uint8_t *)x->data + (size_t)i * es);
    return k;
}

nnl_status tn_NonZero_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    nnl_status s = nnl_op_begin(c, NULL, 1, 1, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    if (!x->data)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED,
                           "needs a constant input: its output shape depends on the input values");
    int64_t d[2] = {x->rank, count_nonzero(x)};
    return nnl_op_set_out(c, c->out[0], NNL_DT_INT64, 2, d);
}

nnl_status tn_NonZero_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *y = c->out[0];
    int64_t n = nnl_tensor_numel(x), nnz = y->dims[1], k = 0, idx[NNL_MAX_RANK] = {0};
    size_t es = nnl_dtype_size(x->dtype);
    if (count_nonzero(x) != nnz)
        return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "input changed since the shape was computed");
    int64_t *o = y->data;
    for (int64_t i = 0; i < n; i++) {
        if (nonzero_at(x->dtype, (const uint8_t *)x->data + (size_t)i * es)) {
            for (int d = 0; d < x->rank; d++) o[d * nnz + k] = idx[d];
            k++;
        }
        for (int d = x->rank - 1; d >= 0; d--) {
            if (++idx[d] < x->dims[d]) break;
            idx[d] = 0;
        }
    }
    return NNL_OK;
}

/* ---- TopK ----------------------------------------------------------------------- */

typedef struct topk_ctx {
    const uint8_t *base;       /* first element of the lane */
    int64_t stride;            /* bytes between lane elements */
    nnl_dtype dt;
    bool largest;
} topk_ctx;

/* a ranks before b: larger (or smaller) value, ties by lower position. */
static bool topk_before(const void *ctx, int64_t a, int64_t b) {
    const topk_ctx *t = ctx;
    int c = cmp_vals(t->dt, t->base + a * t->stride, t->base + b * t->stride);
    if (!t->largest) c = -c;
    return c > 0 || (c == 0 && a < b);
}

static nnl_status topk_k(const nnl_op_call *c, int64_t *k) {
    if (nnl_op_in(c, 1)) {
        int64_t v[1];
        int n;
        nnl_status s = tn_read_ints(c, 1, "K", v, 1, &n);
        if (s) return s;
        if (n != 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "K must hold one value");
        *k = v[0];
        return NNL_OK;
    }
    nnl_status s = nnl_op_attr_int(c, "k", -1, k);
    if (s) return s;
    if (*k < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs K");
    return NNL_OK;
}

nnl_status tn_TopK_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axis", "largest", "sorted", "k", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 2, 1, 1, 2);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int64_t a, k, tmp;
    int axis;
    if ((s = nnl_op_attr_int(c, "axis", -1, &a)) || (s = nnl_op_axis(c, a, x->rank, "axis", &axis)) ||
        (s = nnl_op_attr_int(c, "largest", 1, &tmp)) || (s = nnl_op_attr_int(c, "sorted", 1, &tmp)) ||
        (s = topk_k(c, &k)))
        return s;
    if (!tn_is_int_type(x->dtype) && !tn_is_float_type(x->dtype))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input type %s", nnl_dtype_name(x->dtype));
    if (k < 0 || k > x->dims[axis])
        return nnl_op_fail(c, NNL_ERR_SHAPE, "K = %lld is out of range for an axis of size %lld",
                           (long long)k, (long long)x->dims[axis]);
    int64_t d[NNL_MAX_RANK];
    memcpy(d, x->dims, sizeof d);
    d[axis] = k;
    if ((s = nnl_op_set_out(c, c->out[0], x->dtype, x->rank, d))) return s;
    if (nnl_op_out(c, 1) && (s = nnl_op_set_out(c, c->out[1], NNL_DT_INT64, x->rank, d))) return s;
    r->scratch_bytes = (size_t)k * sizeof(int64_t);
    return NNL_OK;
}

nnl_status tn_TopK_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *vals = c->out[0], *inds = nnl_op_out(c, 1);
    int axis = (int)nnl_attr_int(c, "axis", -1);
    if (axis < 0) axis += x->rank;
    int64_t k = vals->dims[axis], n = x->dims[axis];
    if (k == 0 || nnl_tensor_numel(x) == 0) return NNL_OK;
    size_t es = nnl_dtype_size(x->dtype);
    int64_t outer = nnl_op_prod(x->dims, 0, axis), inner = nnl_op_prod(x->dims, axis + 1, x->rank);
    int64_t *h = c->scratch;
    topk_ctx t = {NULL, inner * (int64_t)es, x->dtype, nnl_attr_int(c, "largest", 1) != 0};
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            t.base = (const uint8_t *)x->data + (size_t)(o * n * inner + i) * es;
            /* keep the k best seen so far in a heap whose root is the worst */
            for (int64_t j = 0; j < k; j++) h[j] = j;
            for (int64_t j = k / 2 - 1; j >= 0; j--) sift_down(h, k, j, topk_before, &t);
            for (int64_t j = k; j < n; j++)
                if (topk_before(&t, j, h[0])) {
                    h[0] = j;
                    sift_down(h, k, 0, topk_before, &t);
                }
            heap_sort(h, k, topk_before, &t);
            for (int64_t j = 0; j < k; j++) {
                size_t oo = (size_t)((o * k + j) * inner + i);
                memcpy((uint8_t *)vals->data + oo * es, t.base + h[j] * t.stride, es);
                if (inds) ((int64_t *)inds->data)[oo] = h[j];
            }
        }
    return NNL_OK;
}

/* ---- Unique ------------------------------------------------------------------------ */

/* X viewed as [outer, A, inner]; the A slices are the items made unique
 * (single elements when there is no axis). */
typedef struct uniq_ctx {
    const uint8_t *data;
    nnl_dtype dt;
    size_t es;
    int64_t outer, a, inner;
} uniq_ctx;

static int slice_cmp(const uniq_ctx *u, int64_t p, int64_t q) {
    for (int64_t o = 0; o < u->outer; o++)
        for (int64_t i = 0; i < u->inner; i++) {
            int c = cmp_vals(u->dt, u->data + (size_t)((o * u->a + p) * u->inner + i) * u->es,
                             u->data + (size_t)((o * u->a + q) * u->inner + i) * u->es);
            if (c) return c;
        }
    return 0;
}

static bool uniq_before(const void *ctx, int64_t a, int64_t b) {
    int c = slice_cmp(ctx, a, b);
    return c < 0 || (c == 0 && a < b);
}

static nnl_status uniq_setup(const nnl_op_call *c, uniq_ctx *u, int *axis) {
    const nnl_tensor *x = c->in[0];
    const nnl_attr *aa = nnl_attr_get(c, "axis");
    u->data = x->data;
    u->dt = x->dtype;
    u->es = nnl_dtype_size(x->dtype);
    *axis = -1;
    if (aa) {
        nnl_status s = aa->type == NNL_ATTR_INT ? nnl_op_axis(c, aa->i, x->rank, "axis", axis)
                                               : nnl_op_fail(c, NNL_ERR_SHAPE, "'axis' must be an int");
        if (s) return s;
        u->outer = nnl_op_prod(x->dims, 0, *axis);
        u->a = x->dims[*axis];
        u->inner = nnl_op_prod(x->dims, *axis + 1, x->rank);
    } else {
        u->outer = u->inner = 1;
        u->a = nnl_tensor_numel(x);
    }
    return NNL_OK;
}

/* Fills scratch (5 * A int64: order, group of each item, first item of
 * each group, count of each group, output position of each group) and
 * returns the number of groups. */
static int64_t uniq_run(const uniq_ctx *u, int64_t *scratch, bool sorted) {
    int64_t A = u->a, *order = scratch, *group = order + A, *first = group + A, *count = first + A,
            *pos = count + A, g = -1;
    for (int64_t i = 0; i < A; i++) order[i] = i;
    heap_sort(order, A, uniq_before, u);
    for (int64_t t = 0; t < A; t++) {
        if (t == 0 || slice_cmp(u, order[t - 1], order[t]) != 0) {
            g++;
            first[g] = order[t];
            count[g] = 0;
        }
        count[g]++;
        group[order[t]] = g;
    }
    int64_t ng = g + 1, next = 0;
    if (sorted) {
        for (int64_t i = 0; i < ng; i++) pos[i] = i;
    } else {
        for (int64_t i = 0; i < A; i++)
            if (first[group[i]] == i) pos[group[i]] = next++;
    }
    return ng;
}

nnl_status tn_Unique_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axis", "sorted", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 1, 1, 1, 4);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int64_t sorted;
    if ((s = nnl_op_attr_int(c, "sorted", 1, &sorted))) return s;
    uniq_ctx u;
    int axis;
    if ((s = uniq_setup(c, &u, &axis))) return s;
    if (!x->data)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED,
                           "needs a constant input: its output shape depends on the input values");
    size_t bytes = (size_t)(5 * (u.a > 0 ? u.a : 1)) * sizeof(int64_t);
    int64_t *scratch = nnl_malloc(bytes);
    if (!scratch) return nnl_op_fail(c, NNL_ERR_NOMEM, "out of memory");
    int64_t ng = uniq_run(&u, scratch, sorted != 0);
    nnl_free(scratch);
    r->scratch_bytes = bytes;
    int64_t d[NNL_MAX_RANK];
    if (axis >= 0) {
        memcpy(d, x->dims, sizeof d);
        d[axis] = ng;
        s = nnl_op_set_out(c, c->out[0], x->dtype, x->rank, d);
    } else {
        s = nnl_op_set_out(c, c->out[0], x->dtype, 1, &ng);
    }
    for (int i = 1; !s && i < c->n_out; i++)
        if (c->out[i]) s = nnl_op_set_out(c, c->out[i], NNL_DT_INT64, 1, i == 2 ? &u.a : &ng);
    return s;
}

nnl_status tn_Unique_exec(const nnl_op_call *c) {
    uniq_ctx u;
    int axis;
    nnl_status s = uniq_setup(c, &u, &axis);
    if (s) return s;
    int64_t A = u.a, *order = c->scratch, *group = order + A, *first = group + A,
            *count = first + A, *pos = count + A;
    int64_t ng = uniq_run(&u, c->scratch, nnl_attr_int(c, "sorted", 1) != 0);
    const nnl_tensor *y = c->out[0], *yi = nnl_op_out(c, 1), *yinv = nnl_op_out(c, 2), *ycnt = nnl_op_out(c, 3);
    int64_t want = axis >= 0 ? y->dims[axis] : y->dims[0];
    if (ng != want)
        return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "input changed since the shape was computed");
    size_t slice = (size_t)u.inner * u.es;
    for (int64_t g = 0; g < ng; g++) {
        for (int64_t o = 0; o < u.outer; o++)
            memcpy((uint8_t *)y->data + (size_t)(o * ng + pos[g]) * slice,
                   u.data + (size_t)(o * A + first[g]) * slice, slice);
        if (yi) ((int64_t *)yi->data)[pos[g]] = first[g];
        if (ycnt) ((int64_t *)ycnt->data)[pos[g]] = count[g];
    }
    if (yinv)
        for (int64_t i = 0; i < A; i++) ((int64_t *)yinv->data)[i] = pos[group[i]];
    return NNL_OK;
}
