/*
 * Reduce*, ArgMax/ArgMin and CumSum.
 *
 * A reduction is planned as a walk over the input in memory order: size-1
 * dims are dropped and neighbours with the same kept/reduced status merged,
 * every kept dim has an output stride and every reduced dim stride 0.  The
 * innermost dim is one row: either a kept row (acc[i] op= x[i], which
 * vectorises) or a reduced row (a fold into one accumulator).  Accumulators
 * live in the output itself, initialised to the op's identity and finished
 * (mean, sqrt, log) afterwards.  Threads split the largest kept dim, so
 * they never write the same output.
 */
#include <math.h>
#include <string.h>

#include "ops/math/math_ops.h"

enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SUMSQ, R_LOGSUM, R_LSE, R_N };

static const char *const red_names[R_N] = {
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
    "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"};

static int red_kind(const char *op) {
    for (int i = 0; i < R_N; i++)
        if (strcmp(op, red_names[i]) == 0) return i;
    return -1;
}

/* ---- per-type row kernels -------------------------------------------------- */

/* acc points at the output of the row's first element; m (LogSumExp's
 * second pass) at the matching element of the max. */
typedef void (*red_seg)(const void *x, void *acc, const void *m, int64_t n, int reduced);

#define ID(v) (v)
#define ABS(v) ((v) < 0 ? -(v) : (v))
#define SQ(v) ((v) * (v))
#define ADD(a, b) ((a) + (b))
#define MUL(a, b) ((a) * (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* Eight partial results for a reduced row: independent chains the
 * compiler can keep in one vector register. */
#define SEG(name, T, F, COMB)                                                     \
    static void name(const void *px, void *pa, const void *pm, int64_t n, int red) { \
        const T *x = px;                                                          \
        T *a = pa;                                                                \
        (void)pm;                                                                 \
        int64_t i = 0;                                                            \
        if (!red) {                                                               \
            /* Blocks of 8 via locals: the loop shape GCC -O2 vectorises. */      \
            for (; i + 8 <= n; i += 8) {                                          \
                T ab[8], xb[8];                                                   \
                for (int k = 0; k < 8; k++) {                                     \
                    ab[k] = a[i + k];                                             \
                    xb[k] = x[i + k];                                             \
                }                                                                 \
                for (int k = 0; k < 8; k++) ab[k] = COMB(ab[k], F(xb[k]));        \
                for (int k = 0; k < 8; k++) a[i + k] = ab[k];                     \
            }                                                                     \
            for (; i < n; i++) a[i] = COMB(a[i], F(x[i]));                        \
            return;                                                               \
        }                                                                         \
        T r = a[0];                                                               \
        if (n >= 16) {                                                            \
            T q[8];                                                               \
            for (int k = 0; k < 8; k++) q[k] = F(x[k]);                           \
            for (i = 8; i + 8 <= n; i += 8)                                       \
                for (int k = 0; k < 8; k++) q[k] = COMB(q[k], F(x[i + k]));       \
            for (int k = 0; k < 8; k++) r = COMB(r, q[k]);                        \
        }                                                                         \
        for (; i < n; i++) r = COMB(r, F(x[i]));                                  \
        a[0] = r;                                                                 \
    }

/* LogSumExp pass 2: acc += exp(x - max). */
#define SEG_LSE(name, T, EXP)                                                     \
    static void name(const void *px, void *pa, const void *pm, int64_t n, int red) { \
        const T *x = px, *m = pm;                                                 \
        T *a = pa;                                                                \
        if (!red) {                                                               \
            for (int64_t i = 0; i < n; i++) a[i] += EXP(x[i] - m[i]);             \
            return;                                                               \
        }                                                                         \
        T r = a[0];                                                               \
        for (int64_t i = 0; i < n; i++) r += EXP(x[i] - m[0]);                    \
        a[0] = r;                                                                 \
    }

#define SEGS(s, T)                        \
    SEG(seg_sum_##s, T, ID, ADD)          \
    SEG(seg_prod_##s, T, ID, MUL)         \
    SEG(seg_max_##s, T, ID, MAX)          \
    SEG(seg_min_##s, T, ID, MIN)          \
    SEG(seg_l1_##s, T, ABS, ADD)          \
    SEG(seg_sq_##s, T, SQ, ADD)
SEGS(f32, float)
SEGS(f64, double)
SEGS(i32, int32_t)
SEGS(i64, int64_t)
SEG_LSE(seg_lse_f32, float, expf)
SEG_LSE(seg_lse_f64, double, exp)

enum { D_F32, D_F64, D_I32, D_I64, D_N };

static int dindex(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: return D_F32;
    case NNL_DT_DOUBLE: return D_F64;
    case NNL_DT_INT32: return D_I32;
    case NNL_DT_INT64: return D_I64;
    default: return -1;
    }
}

#define ROW4(k) {seg_##k##_f32, seg_##k##_f64, seg_##k##_i32, seg_##k##_i64}
#define ROW2(k) {seg_##k##_f32, seg_##k##_f64, NULL, NULL}

/* The pass that accumulates each kind (LogSumExp: its first pass, max). */
static const red_seg red_segs[R_N][D_N] = {
    [R_SUM] = ROW4(sum),   [R_MEAN] = ROW4(sum), [R_MAX] = ROW4(max),
    [R_MIN] = ROW4(min),   [R_PROD] = ROW4(prod), [R_L1] = ROW4(l1),
    [R_L2] = ROW2(sq),     [R_SUMSQ] = ROW4(sq),  [R_LOGSUM] = ROW2(sum),
    [R_LSE] = ROW2(max),
};

/* Identity of the accumulating pass, as double (exact for the types used
 * except int64 extremes, handled in acc_fill). */
static double red_identity(int kind) {
    switch (kind) {
    case R_PROD: return 1;
    case R_MAX: case R_LSE: return -INFINITY;
    case R_MIN: return INFINITY;
    default: return 0;
    }
}

static void acc_fill(void *a, nnl_dtype dt, int64_t n, double v) {
    for (int64_t i = 0; i < n; i++) {
        switch (dt) {
        case NNL_DT_FLOAT: ((float *)a)[i] = (float)v; break;
        case NNL_DT_DOUBLE: ((double *)a)[i] = v; break;
        case NNL_DT_INT32:
            ((int32_t *)a)[i] = v == INFINITY ? INT32_MAX : v == -INFINITY ? INT32_MIN : (int32_t)v;
            break;
        default:
            ((int64_t *)a)[i] = v == INFINITY ? INT64_MAX : v == -INFINITY ? INT64_MIN : (int64_t)v;
            break;
        }
    }
}

/* ---- axes and shapes --------------------------------------------------------- */

/* Whether this op at this opset takes axes as input 1 instead of an
 * attribute. */
static bool axes_as_input(const nnl_op_call *c, int kind) {
    return c->opset >= 18 || (kind == R_SUM && c->opset >= 13);
}

/* Marks reduced dims of x in red[]; *noop when the op is the identity. */
static nnl_status red_axes(const nnl_op_call *c, int kind, bool *red, bool *noop) {
    const nnl_tensor *x = c->in[0];
    int64_t n_axes = 0;
    const nnl_tensor *axes_t = NULL;
    const nnl_attr *axes_a = NULL;
    if (axes_as_input(c, kind)) {
        axes_t = c->n_in > 1 ? c->in[1] : NULL;
        if (axes_t) {
            if (!axes_t->data)
                return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "axes must be a constant");
            if (axes_t->dtype != NNL_DT_INT64 || axes_t->rank > 1)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "axes must be a 1-D int64 tensor");
            n_axes = nnl_tensor_numel(axes_t);
        }
    } else {
        axes_a = nnl_attr_get(c, "axes");
        if (axes_a) {
            if (axes_a->type != NNL_ATTR_INTS)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "axes must be a list of ints");
            n_axes = axes_a->n;
        }
    }
    *noop = false;
    for (int d = 0; d < x->rank; d++) red[d] = n_axes == 0;
    if (n_axes == 0) {
        *noop = nnl_attr_int(c, "noop_with_empty_axes", 0) != 0;
        if (*noop)
            for (int d = 0; d < x->rank; d++) red[d] = false;
        return NNL_OK;
    }
    return nnl_op_axes_mark(c, axes_t ? (const int64_t *)axes_t->data : axes_a->ints, n_axes,
                            x->rank, red);
}

nnl_status nnl_math_reduce_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const attr_form[] = {"axes", "keepdims", NULL};
    static const char *const input_form[] = {"keepdims", "noop_with_empty_axes", NULL};
    int kind = red_kind(c->op);
    if (kind < 0) return nnl_op_fail(c, NNL_ERR_INTERNAL, "not a reduction");
    bool by_input = axes_as_input(c, kind);
    nnl_status st = nnl_op_begin(c, by_input ? input_form : attr_form,
                                 1, by_input ? 2 : 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    int t = dindex(x->dtype);
    if (t < 0 || !red_segs[kind][t])
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported",
                           nnl_dtype_name(x->dtype));
    bool red[NNL_MAX_RANK], noop;
    if ((st = red_axes(c, kind, red, &noop))) return st;
    bool keep = nnl_attr_int(c, "keepdims", 1) != 0;
    nnl_tensor *y = c->out[0];
    int64_t dims[NNL_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++) {
        if (!red[d])
            dims[rank++] = x->dims[d];
        else if (keep)
            dims[rank++] = 1;
    }
    if ((st = nnl_op_set_out(c, y, x->dtype, rank, dims))) return st;
    r->flops = (double)nnl_tensor_numel(x) * (kind == R_LSE ? 3 : 1);
    /* LogSumExp keeps its sums beside the max it writes to the output. */
    r->scratch_bytes = kind == R_LSE ? nnl_tensor_nbytes(y) : 0;
    return NNL_OK;
}

/* ---- the walk ------------------------------------------------------------------ */

typedef struct red_plan {
    int rank;                          /* >= 1 */
    int64_t dims[NNL_MAX_RANK];
    int64_t xs[NNL_MAX_RANK], ys[NNL_MAX_RANK];
    bool red[NNL_MAX_RANK];
    int pdim;                          /* dim threads split, -1 if none */
} red_plan;

static void red_plan_build(red_plan *p, const nnl_tensor *x, const bool *red) {
    int64_t xs[NNL_MAX_RANK], ys[NNL_MAX_RANK], sx = 1, sy = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        xs[d] = sx;
        ys[d] = red[d] ? 0 : sy;
        sx *= x->dims[d];
        if (!red[d]) sy *= x->dims[d];
    }
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (x->dims[d] == 1) continue;
        if (r > 0 && p->red[r - 1] == red[d]) {
            /* Both strides of the outer merged dim are one row of d. */
            p->dims[r - 1] *= x->dims[d];
            p->xs[r - 1] = xs[d];
            p->ys[r - 1] = ys[d];
            continue;
        }
        p->dims[r] = x->dims[d];
        p->xs[r] = xs[d];
        p->ys[r] = ys[d];
        p->red[r] = red[d];
        r++;
    }
    if (r == 0) {
        p->dims[0] = 1;
        p->xs[0] = 1;
        p->ys[0] = 0;
        p->red[0] = true;
        r = 1;
    }
    p->rank = r;
    p->pdim = -1;
    for (int d = 0; d < r; d++)
        if (!p->red[d] && (p->pdim < 0 || p->dims[d] > p->dims[p->pdim])) p->pdim = d;
}

typedef struct red_job {
    red_plan plan;
    red_seg seg;
    const char *x;
    char *acc;
    const char *m;
    size_t es;
} red_job;

static void red_walk(const red_job *j, int d, int64_t lo, int64_t hi, int64_t xo, int64_t yo) {
    const red_plan *p = &j->plan;
    int64_t b = 0, e = p->dims[d];
    if (d == p->pdim) {
        b = lo;
        e = hi;
    }
    if (d == p->rank - 1) {
        int64_t yoff = (yo + b * p->ys[d]) * (int64_t)j->es;
        j->seg(j->x + (xo + b * p->xs[d]) * (int64_t)j->es, j->acc + yoff,
               j->m ? j->m + yoff : NULL, e - b, p->red[d]);
        return;
    }
    for (int64_t i = b; i < e; i++)
        red_walk(j, d + 1, lo, hi, xo + i * p->xs[d], yo + i * p->ys[d]);
}

static void red_range(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    red_walk(ctx, 0, b, e, 0, 0);
}

static void red_run(const nnl_op_call *c, red_job *j, int64_t numel) {
    const red_plan *p = &j->plan;
    if (p->pdim < 0) {
        red_walk(j, 0, 0, 0, 0, 0);
        return;
    }
    int64_t n = p->dims[p->pdim];
    int64_t per = numel / n;
    nnl_op_parallel(c->pool, n, per >= (1 << 15) ? 1 : (1 << 15) / (per ? per : 1), red_range,
                    j);
}

/* Finish: mean, sqrt, log, LogSumExp. */
#define FINISH(T, SQRT, LOG, EMPTY_MEAN)                                             \
    do {                                                                             \
        T *y = c->out[0]->data;                                                      \
        const T *s = c->scratch;                                                     \
        for (int64_t i = 0; i < ny; i++) {                                           \
            if (kind == R_MEAN) y[i] = count ? (T)(y[i] / (T)count) : (EMPTY_MEAN);  \
            else if (kind == R_L2) y[i] = SQRT(y[i]);                                \
            else if (kind == R_LOGSUM) y[i] = LOG(y[i]);                             \
            else if (kind == R_LSE) y[i] = y[i] + LOG(s[i]);                         \
        }                                                                            \
    } while (0)

nnl_status nnl_math_reduce_exec(const nnl_op_call *c) {
    int kind = red_kind(c->op);
    const nnl_tensor *x = c->in[0];
    nnl_tensor *y = c->out[0];
    int t = dindex(x->dtype);
    bool red[NNL_MAX_RANK], noop;
    if (kind < 0 || t < 0) return nnl_op_fail(c, NNL_ERR_INTERNAL, "no kernel");
    nnl_status st = red_axes(c, kind, red, &noop);
    if (st) return st;
    const int64_t nx = nnl_tensor_numel(x), ny = nnl_tensor_numel(y);
    if (noop) {
        if (nx) memcpy(y->data, x->data, nnl_tensor_nbytes(x));
        return NNL_OK;
    }
    if (ny == 0) return NNL_OK;
    const int64_t count = nx / ny;
    red_job j = {.seg = red_segs[kind][t], .x = x->data, .acc = y->data,
                 .es = nnl_dtype_size(x->dtype)};
    red_plan_build(&j.plan, x, red);
    acc_fill(y->data, y->dtype, ny, red_identity(kind));
    if (nx) red_run(c, &j, nx);
    if (kind == R_LSE) {
        /* Rows that are all -inf (or empty) keep max 0 so x - max stays
         * defined; their sum is then 0 and the result log(0) = -inf. */
        if (t == D_F32) {
            float *m = y->data;
            for (int64_t i = 0; i < ny; i++)
                if (m[i] == -INFINITY) m[i] = 0;
        } else {
            double *m = y->data;
            for (int64_t i = 0; i < ny; i++)
                if (m[i] == -INFINITY) m[i] = 0;
        }
        acc_fill(c->scratch, y->dtype, ny, 0);
        j.seg = t == D_F32 ? seg_lse_f32 : seg_lse_f64;
        j.acc = c->scratch;
        j.m = y->data;
        if (nx) red_run(c, &j, nx);
    }
    switch (t) {
    case D_F32: FINISH(float, sqrtf, logf, NAN); break;
    case D_F64: FINISH(double, sqrt, log, NAN); break;
    case D_I32: FINISH(int32_t, , , 0); break;
    default: FINISH(int64_t, , , 0); break;
    }
    return NNL_OK;
}

/* ---- ArgMax / ArgMin ------------------------------------------------------------ */

static nnl_status view3(const nnl_op_call *c, const nnl_tensor *x, int64_t axis_v, int64_t *outer,
                        int64_t *n, int64_t *inner, int *axis) {
    nnl_status st = nnl_op_axis(c, axis_v, x->rank, "axis", axis);
    if (st) return st;
    *outer = nnl_op_prod(x->dims, 0, *axis);
    *n = x->dims[*axis];
    *inner = nnl_op_prod(x->dims, *axis + 1, x->rank);
    return NNL_OK;
}

nnl_status nnl_math_argminmax_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axis", "keepdims", "select_last_index", NULL};
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    switch (x->dtype) {
    case NNL_DT_FLOAT: case NNL_DT_DOUBLE: case NNL_DT_INT32: case NNL_DT_INT64:
    case NNL_DT_INT8: case NNL_DT_UINT8:
        break;
    default:
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported",
                           nnl_dtype_name(x->dtype));
    }
    int64_t outer, n, inner;
    int axis;
    if ((st = view3(c, x, nnl_attr_int(c, "axis", 0), &outer, &n, &inner, &axis))) return st;
    if (n == 0 && outer * inner > 0)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot reduce an empty axis");
    nnl_tensor *y = c->out[0];
    if ((st = nnl_op_set_like(c, y, x, NNL_DT_INT64))) return st;
    if (nnl_attr_int(c, "keepdims", 1)) {
        y->dims[axis] = 1;
    } else {
        for (int d = axis; d + 1 < x->rank; d++) y->dims[d] = x->dims[d + 1];
        y->rank--;
    }
    r->flops = (double)nnl_tensor_numel(x);
    return NNL_OK;
}

/* Better: strictly better, or equal when the last index should win. */
#define ARG_K(s, T)                                                                     \
    static void arg_##s(const void *px, int64_t *y, int64_t outer, int64_t n,            \
                        int64_t inner, int want_max, int last) {                         \
        const T *x0 = px;                                                                \
        for (int64_t o = 0; o < outer; o++) {                                            \
            const T *x = x0 + o * n * inner;                                             \
            int64_t *yo = y + o * inner;                                                 \
            for (int64_t j = 0; j < inner; j++) {                                        \
                int64_t best = 0;                                                        \
                T bv = x[j];                                                             \
                for (int64_t i = 1; i < n; i++) {                                        \
                    T v = x[i * inner + j];                                              \
                    int better = want_max ? (last ? v >= bv : v > bv)                    \
                                          : (last ? v <= bv : v < bv);                   \
                    if (better) {                                                        \
                        bv = v;                                                          \
                        best = i;                                                        \
                    }                                                                    \
                }                                                                        \
                yo[j] = best;                                                            \
            }                                                                            \
        }                                                                                \
    }
ARG_K(f32, float)
ARG_K(f64, double)
ARG_K(i32, int32_t)
ARG_K(i64, int64_t)
ARG_K(i8, int8_t)
ARG_K(u8, uint8_t)

nnl_status nnl_math_argminmax_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    int64_t outer, n, inner;
    int axis;
    nnl_status st = view3(c, x, nnl_attr_int(c, "axis", 0), &outer, &n, &inner, &axis);
    if (st) return st;
    if (n == 0) return NNL_OK;
    int want_max = strcmp(c->op, "ArgMax") == 0;
    int last = nnl_attr_int(c, "select_last_index", 0) != 0;
    int64_t *y = c->out[0]->data;
    switch (x->dtype) {
    case NNL_DT_FLOAT: arg_f32(x->data, y, outer, n, inner, want_max, last); break;
    case NNL_DT_DOUBLE: arg_f64(x->data, y, outer, n, inner, want_max, last); break;
    case NNL_DT_INT32: arg_i32(x->data, y, outer, n, inner, want_max, last); break;
    case NNL_DT_INT64: arg_i64(x->data, y, outer, n, inner, want_max, last); break;
    case NNL_DT_INT8: arg_i8(x->data, y, outer, n, inner, want_max, last); break;
    case NNL_DT_UINT8: arg_u8(x->data, y, outer, n, inner, want_max, last); break;
    default: return nnl_op_fail(c, NNL_ERR_INTERNAL, "no kernel");
    }
    return NNL_OK;
}

/* ---- CumSum ----------------------------------------------------------------------- */

/* Rows of `inner` values along the axis; each output row is the previous
 * output row plus one input row, so the loops over a row vectorise. */
#define CUMSUM_K(s, T)                                                                 \
    static void cumsum_##s(const void *px, void *py, int64_t outer, int64_t n,          \
                           int64_t inner, int excl, int rev) {                          \
        for (int64_t o = 0; o < outer; o++) {                                           \
            const T *x = (const T *)px + o * n * inner;                                 \
            T *y = (T *)py + o * n * inner;                                             \
            for (int64_t k = 0; k < n; k++) {                                           \
                int64_t i = rev ? n - 1 - k : k, prev = rev ? i + 1 : i - 1;            \
                T *yr = y + i * inner;                                                  \
                const T *yp = y + prev * inner;                                         \
                const T *xr = x + (excl ? prev : i) * inner;                            \
                if (k == 0) {                                                           \
                    for (int64_t j = 0; j < inner; j++) yr[j] = excl ? 0 : xr[j];       \
                } else {                                                                \
                    for (int64_t j = 0; j < inner; j++) yr[j] = yp[j] + xr[j];          \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }
CUMSUM_K(f32, float)
CUMSUM_K(f64, double)
CUMSUM_K(i32, int32_t)
CUMSUM_K(i64, int64_t)
CUMSUM_K(u32, uint32_t)
CUMSUM_K(u64, uint64_t)

nnl_status nnl_math_cumsum_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"exclusive", "reverse", NULL};
    nnl_status st = nnl_op_begin(c, known, 2, 2, 2, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0], *ax = c->in[1];
    switch (x->dtype) {
    case NNL_DT_FLOAT: case NNL_DT_DOUBLE: case NNL_DT_INT32: case NNL_DT_INT64:
    case NNL_DT_UINT32: case NNL_DT_UINT64:
        break;
    default:
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported",
                           nnl_dtype_name(x->dtype));
    }
    if (ax->rank > 1 || nnl_tensor_numel(ax) != 1 ||
        (ax->dtype != NNL_DT_INT32 && ax->dtype != NNL_DT_INT64))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "axis must be an int32/int64 scalar");
    if (ax->data) {
        int64_t a;
        int d;
        if ((st = nnl_op_int_at(c, ax, 0, "axis", &a))) return st;
        if ((st = nnl_op_axis(c, a, x->rank, "axis", &d))) return st;
    }
    if ((st = nnl_op_set_like(c, c->out[0], x, x->dtype))) return st;
    r->flops = (double)nnl_tensor_numel(x);
    return NNL_OK;
}

nnl_status nnl_math_cumsum_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    int64_t a, outer, n, inner;
    int axis;
    nnl_status st = nnl_op_int_at(c, c->in[1], 0, "axis", &a);
    if (st) return st;
    if ((st = view3(c, x, a, &outer, &n, &inner, &axis))) return st;
    int excl = nnl_attr_int(c, "exclusive", 0) != 0, rev = nnl_attr_int(c, "reverse", 0) != 0;
    void *y = c->out[0]->data;
    if (nnl_tensor_numel(x) == 0) return NNL_OK;
    switch (x->dtype) {
    case NNL_DT_FLOAT: cumsum_f32(x->data, y, outer, n, inner, excl, rev); break;
    case NNL_DT_DOUBLE: cumsum_f64(x->data, y, outer, n, inner, excl, rev); break;
    case NNL_DT_INT32: cumsum_i32(x->data, y, outer, n, inner, excl, rev); break;
    case NNL_DT_INT64: cumsum_i64(x->data, y, outer, n, inner, excl, rev); break;
    case NNL_DT_UINT32: cumsum_u32(x->data, y, outer, n, inner, excl, rev); break;
    case NNL_DT_UINT64: cumsum_u64(x->data, y, outer, n, inner, excl, rev); break;
    default: return nnl_op_fail(c, NNL_ERR_INTERNAL, "no kernel");
    }
    return NNL_OK;
}
