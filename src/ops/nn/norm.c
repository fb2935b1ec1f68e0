/*
 * Normalisations over float32: BatchNormalization (inference form),
 * InstanceNormalization, LayerNormalization, LpNormalization and
 * MeanVarianceNormalization.  Statistics accumulate in double.
 */
#include <math.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops/nn/nn_ops.h"
#include "ops/math/math_ops.h"

static nnl_status need_float(const nnl_op_call *c, const nnl_tensor *t, const char *what) {
    if (t->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s has dtype %s (float32 only)", what,
                           nnl_dtype_name(t->dtype));
    return NNL_OK;
}

/* A float32 vector of n values (per-channel parameters). */
static nnl_status need_vec(const nnl_op_call *c, const nnl_tensor *t, const char *what,
                           int64_t n) {
    nnl_status st = need_float(c, t, what);
    if (st) return st;
    if (t->rank != 1 || t->dims[0] != n)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s must have shape [%lld]", what,
                           (long long)n);
    return NNL_OK;
}

/* Outputs past the first must be absent (training-only outputs). */
static nnl_status only_first_output(const nnl_op_call *c, int allowed) {
    for (int i = allowed; i < c->n_out; i++)
        if (c->out[i])
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output %d is not supported", i);
    return NNL_OK;
}

/* ---- BatchNormalization ----------------------------------------------------------- */

nnl_status nnl_nn_batchnorm_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"epsilon", "momentum", "spatial", "training_mode",
                                        "is_test", "consumed_inputs", "nnl_act", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    if (nnl_attr_int(c, "training_mode", 0) != 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "training_mode=1 is not "
                           "supported (inference only)");
    if (nnl_attr_int(c, "spatial", 1) != 1)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "spatial=0 is not supported");
    if ((st = nnl_op_check_io(c, 5, 5, 5, 1, NNL_OP_ANY)) ||
        (st = nnl_op_check_inputs(c)))
        return st;
    if ((st = only_first_output(c, 1))) return st;
    /* the fused ReLU of nnl_pass_fuse_epilogue, the only activation here */
    nnl_act act;
    float aa, ab;
    if ((st = nn_act_upto(c, NNL_ACT_RELU, &act, &aa, &ab))) return st;
    const nnl_tensor *x = c->in[0];
    if ((st = need_float(c, x, "X"))) return st;
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "X must be N x C x ...");
    static const char *const names[] = {"", "scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++)
        if ((st = need_vec(c, c->in[i], names[i], x->dims[1]))) return st;
    if ((st = nnl_op_set_like(c, c->out[0], x, NNL_DT_FLOAT))) return st;
    r->flops = 2.0 * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

typedef struct bn_job {
    const float *x, *scale, *bias, *mean, *var;
    float *y;
    int64_t c, spatial;
    float eps;
    bool relu;
} bn_job;

static void bn_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const bn_job *j = ctx;
    (void)thread;
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t ch = pl % j->c;
        const float a = j->scale[ch] / sqrtf(j->var[ch] + j->eps);
        const float s = j->bias[ch] - j->mean[ch] * a;
        nnl_math_axpb(j->x + pl * j->spatial, j->y + pl * j->spatial, j->spatial, a, s, j->relu);
    }
}

nnl_status nnl_nn_batchnorm_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    nnl_act act;
    float aa, ab;
    nnl_status st = nn_act_upto(c, NNL_ACT_RELU, &act, &aa, &ab);
    if (st) return st;
    bn_job j = {x->data, c->in[1]->data, c->in[2]->data, c->in[3]->data, c->in[4]->data,
                c->out[0]->data, x->dims[1], nnl_op_prod(x->dims, 2, x->rank),
                nnl_attr_float(c, "epsilon", 1e-5f), act == NNL_ACT_RELU};
    nnl_op_parallel(c->pool, x->dims[0] * x->dims[1],
                    j.spatial >= 16384 ? 1 : 16384 / (j.spatial ? j.spatial : 1), bn_planes, &j);
    return NNL_OK;
}

/* ---- InstanceNormalization -------------------------------------------------------- */

nnl_status nnl_nn_instancenorm_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"epsilon", NULL};
    nnl_status st = nnl_op_begin(c, known, 3, 3, 3, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if ((st = need_float(c, x, "input"))) return st;
    if (x->rank < 3)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "input must be N x C x D1 ...");
    if ((st = need_vec(c, c->in[1], "scale", x->dims[1]))) return st;
    if ((st = need_vec(c, c->in[2], "B", x->dims[1]))) return st;
    if ((st = nnl_op_set_like(c, c->out[0], x, NNL_DT_FLOAT))) return st;
    r->flops = 5.0 * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

/* y = (x - mean) * inv * scale + bias over one group of n values; returns
 * mean and inverse standard deviation for callers that output them. */
static void normalize_row(const float *x, float *y, int64_t n, float eps, float s1, float b1) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    const double mean = n ? sum / (double)n : 0;
    for (int64_t i = 0; i < n; i++) {
        const double d = x[i] - mean;
        sq += d * d;
    }
    const float inv = (float)(1.0 / sqrt((n ? sq / (double)n : 0) + eps));
    const float m = (float)mean;
    /* (x - m) first: a * x + (b - m * a) would cancel when the mean is
     * large against the spread.  Blocks of 8 for the vectoriser. */
    const float a = inv * s1;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float t[8];
        for (int k = 0; k < 8; k++) t[k] = x[i + k];
        for (int k = 0; k < 8; k++) y[i + k] = (t[k] - m) * a + b1;
    }
    for (; i < n; i++) y[i] = (x[i] - m) * a + b1;
}

typedef struct in_job {
    const float *x, *scale, *bias;
    float *y;
    int64_t c, n;
    float eps;
} in_job;

static void in_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const in_job *j = ctx;
    (void)thread;
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t ch = pl % j->c;
        normalize_row(j->x + pl * j->n, j->y + pl * j->n, j->n, j->eps, j->scale[ch], j->bias[ch]);
    }
}

nnl_status nnl_nn_instancenorm_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    in_job j = {x->data, c->in[1]->data, c->in[2]->data, c->out[0]->data, x->dims[1],
                nnl_op_prod(x->dims, 2, x->rank), nnl_attr_float(c, "epsilon", 1e-5f)};
    nnl_op_parallel(c->pool, x->dims[0] * x->dims[1], j.n >= 8192 ? 1 : 8192 / (j.n ? j.n : 1),
                    in_planes, &j);
    return NNL_OK;
}

/* ---- LayerNormalization ------------------------------------------------------------ */

/* Expands t (broadcastable to dims[lo..rank)) into dst of prod(dims[lo..)). */
static void expand_to(const nnl_tensor *t, const int64_t *dims, int lo, int rank, float *dst) {
    const int r = rank - lo;
    int64_t st[NNL_MAX_RANK], idx[NNL_MAX_RANK] = {0}, s = 1;
    for (int i = r - 1; i >= 0; i--) {
        const int ti = i - (r - t->rank);
        const int64_t td = ti >= 0 ? t->dims[ti] : 1;
        st[i] = td == 1 ? 0 : s;
        s *= td;
    }
    const float *src = t->data;
    const int64_t n = nnl_op_prod(dims, lo, rank);
    int64_t off = 0;
    for (int64_t k = 0; k < n; k++) {
        dst[k] = src[off];
        for (int i = r - 1; i >= 0; i--) {
            off += st[i];
            if (++idx[i] < dims[lo + i]) break;
            off -= st[i] * idx[i];
            idx[i] = 0;
        }
    }
}

static nnl_status ln_axis(const nnl_op_call *c, int *axis) {
    return nnl_op_axis(c, nnl_attr_int(c, "axis", -1), c->in[0]->rank, "axis", axis);
}

nnl_status nnl_nn_layernorm_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axis", "epsilon", "stash_type", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    if (nnl_attr_int(c, "stash_type", 1) != 1)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "stash_type must be 1 (float)");
    if ((st = nnl_op_check_io(c, 2, 3, 2, 1, NNL_OP_ANY)) ||
        (st = nnl_op_check_inputs(c)))
        return st;
    const nnl_tensor *x = c->in[0];
    if ((st = need_float(c, x, "X"))) return st;
    int axis;
    if ((st = ln_axis(c, &axis))) return st;
    const int64_t m = nnl_op_prod(x->dims, axis, x->rank);
    bool expand = false;
    for (int i = 1; i < c->n_in; i++) {
        const nnl_tensor *t = c->in[i];
        if (!t) continue;
        if ((st = need_float(c, t, i == 1 ? "Scale" : "B"))) return st;
        /* Unidirectional broadcast to X's normalised dims. */
        nnl_tensor norm = {.rank = x->rank - axis};
        memcpy(norm.dims, x->dims + axis, sizeof(int64_t) * norm.rank);
        int rr;
        int64_t rd[NNL_MAX_RANK];
        if (t->rank > norm.rank || nnl_math_broadcast(c, &norm, t, &rr, rd) ||
            memcmp(rd, norm.dims, sizeof(int64_t) * rr) != 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "%s does not broadcast to the "
                               "normalised dims", i == 1 ? "Scale" : "B");
        if (nnl_tensor_numel(t) != m) expand = true;
    }
    if ((st = nnl_op_set_like(c, c->out[0], x, NNL_DT_FLOAT))) return st;
    for (int i = 1; i < c->n_out && i < 3; i++) {
        nnl_tensor *o = c->out[i];
        if (!o) continue;
        if ((st = nnl_op_set_like(c, o, x, NNL_DT_FLOAT))) return st;
        for (int d = axis; d < x->rank; d++) o->dims[d] = 1;
    }
    if ((st = only_first_output(c, 3))) return st;
    r->flops = 5.0 * (double)nnl_tensor_numel(x);
    r->scratch_bytes = expand ? 2 * (((size_t)m * sizeof(float) + 63) & ~(size_t)63) : 0;
    return NNL_OK;
}

typedef struct ln_job {
    const float *x, *scale, *bias;
    float *y, *mean, *inv;
    int64_t m;
    float eps;
    nnl_layernorm_fn row;
} ln_job;

static void ln_rows(void *ctx, int64_t b, int64_t e, int thread) {
    const ln_job *j = ctx;
    (void)thread;
    for (int64_t o = b; o < e; o++)
        j->row(j->y + o * j->m, j->x + o * j->m, j->m, j->eps, j->scale, j->bias, j->mean ? j->mean + o : NULL,
               j->inv ? j->inv + o : NULL);
}

nnl_status nnl_nn_layernorm_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    int axis;
    nnl_status st = ln_axis(c, &axis);
    if (st) return st;
    const int64_t m = nnl_op_prod(x->dims, axis, x->rank);
    const int64_t outer = nnl_op_prod(x->dims, 0, axis);
    ln_job j = {.x = x->data, .y = c->out[0]->data, .m = m,
                .eps = nnl_attr_float(c, "epsilon", 1e-5f), .row = nnl_kernel_get()->layernorm};
    if (m == 0) {
        /* empty rows: the statistics of nothing, as the definition's sums give them */
        for (int64_t o = 0; o < outer; o++) {
            if (c->n_out > 1 && c->out[1]) ((float *)c->out[1]->data)[o] = 0.0f;
            if (c->n_out > 2 && c->out[2]) ((float *)c->out[2]->data)[o] = (float)(1.0 / sqrt((double)j.eps));
        }
        return NNL_OK;
    }
    const nnl_tensor *sc = c->in[1], *bi = c->n_in > 2 ? c->in[2] : NULL;
    float *buf = c->scratch;
    const size_t stride = (((size_t)m * sizeof(float) + 63) & ~(size_t)63) / sizeof(float);
    j.scale = sc->data;
    if (nnl_tensor_numel(sc) != m) {
        expand_to(sc, x->dims, axis, x->rank, buf);
        j.scale = buf;
    }
    if (bi) {
        j.bias = bi->data;
        if (nnl_tensor_numel(bi) != m) {
            expand_to(bi, x->dims, axis, x->rank, buf + stride);
            j.bias = buf + stride;
        }
    }
    if (c->n_out > 1 && c->out[1]) j.mean = c->out[1]->data;
    if (c->n_out > 2 && c->out[2]) j.inv = c->out[2]->data;
    nnl_op_parallel(c->pool, outer, m >= 8192 ? 1 : 8192 / (m ? m : 1), ln_rows, &j);
    return NNL_OK;
}

/* ---- LpNormalization ------------------------------------------------------------------ */

nnl_status nnl_nn_lpnorm_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axis", "p", NULL};
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if ((st = need_float(c, x, "input"))) return st;
    int64_t p = nnl_attr_int(c, "p", 2);
    if (p != 1 && p != 2)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "p must be 1 or 2, not %lld",
                           (long long)p);
    int axis;
    if ((st = nnl_op_axis(c, nnl_attr_int(c, "axis", -1), x->rank, "axis", &axis))) return st;
    if ((st = nnl_op_set_like(c, c->out[0], x, NNL_DT_FLOAT))) return st;
    r->flops = 3.0 * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

nnl_status nnl_nn_lpnorm_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    int axis;
    nnl_status st = nnl_op_axis(c, nnl_attr_int(c, "axis", -1), x->rank, "axis", &axis);
    if (st) return st;
    const bool l1 = nnl_attr_int(c, "p", 2) == 1;
    const int64_t outer = nnl_op_prod(x->dims, 0, axis), n = x->dims[axis];
    const int64_t inner = nnl_op_prod(x->dims, axis + 1, x->rank);
    const float *xd = x->data;
    float *yd = c->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            const float *xv = xd + o * n * inner + j;
            float *yv = yd + o * n * inner + j;
            double s = 0;
            for (int64_t i = 0; i < n; i++)
                s += l1 ? fabs(xv[i * inner]) : (double)xv[i * inner] * xv[i * inner];
            const float norm = (float)(l1 ? s : sqrt(s));
            for (int64_t i = 0; i < n; i++) yv[i * inner] = xv[i * inner] / norm;
        }
    return NNL_OK;
}

/* ---- MeanVarianceNormalization ------------------------------------------------------ */

/* Marks reduced dims; default axes [0, 2, 3]. */
static nnl_status mvn_axes(const nnl_op_call *c, bool *red) {
    static const int64_t def[] = {0, 2, 3};
    const nnl_tensor *x = c->in[0];
    const nnl_attr *a = nnl_attr_get(c, "axes");
    const int64_t *ax = a ? a->ints : def;
    int n = a ? a->n : 3;
    if (a && a->type != NNL_ATTR_INTS)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "axes must be ints");
    for (int d = 0; d < x->rank; d++) red[d] = false;
    for (int i = 0; i < n; i++) {
        int d;
        nnl_status st = nnl_op_axis(c, ax[i], x->rank, "axis", &d);
        if (st) return st;
        red[d] = true;
    }
    return NNL_OK;
}

nnl_status nnl_nn_mvn_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axes", NULL};
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if ((st = need_float(c, x, "X"))) return st;
    bool red[NNL_MAX_RANK];
    if ((st = mvn_axes(c, red))) return st;
    int64_t groups = 1;
    for (int d = 0; d < x->rank; d++)
        if (!red[d]) groups *= x->dims[d];
    if ((st = nnl_op_set_like(c, c->out[0], x, NNL_DT_FLOAT))) return st;
    r->flops = 5.0 * (double)nnl_tensor_numel(x);
    r->scratch_bytes = (size_t)groups * 2 * sizeof(double);
    return NNL_OK;
}

/* Calls back with (flat index, group index) for every element of x in
 * memory order; a group is the index with the reduced dims dropped. */
#define MVN_WALK(BODY)                                                                  \
    do {                                                                                \
        int64_t idx[NNL_MAX_RANK] = {0}, g = 0;                                         \
        for (int64_t k = 0; k < n; k++) {                                               \
            BODY;                                                                       \
            for (int d = x->rank - 1; d >= 0; d--) {                                    \
                g += gs[d];                                                             \
                if (++idx[d] < x->dims[d]) break;                                       \
                g -= gs[d] * idx[d];                                                    \
                idx[d] = 0;                                                             \
            }                                                                           \
        }                                                                               \
    } while (0)

nnl_status nnl_nn_mvn_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    bool red[NNL_MAX_RANK];
    nnl_status st = mvn_axes(c, red);
    if (st) return st;
    int64_t gs[NNL_MAX_RANK], groups = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        gs[d] = red[d] ? 0 : groups;
        if (!red[d]) groups *= x->dims[d];
    }
    const int64_t n = nnl_tensor_numel(x);
    if (n == 0) return NNL_OK;
    const int64_t per = n / groups;
    double *sum = c->scratch, *sq = sum + groups;
    const float *xd = x->data;
    float *yd = c->out[0]->data;
    for (int64_t i = 0; i < groups; i++) sum[i] = sq[i] = 0;
    MVN_WALK({
        sum[g] += xd[k];
        sq[g] += (double)xd[k] * xd[k];
    });
    /* sum -> mean, sq -> 1 / (std + 1e-9), as the ONNX function defines. */
    for (int64_t i = 0; i < groups; i++) {
        const double mean = sum[i] / (double)per;
        double var = sq[i] / (double)per - mean * mean;
        sum[i] = mean;
        sq[i] = 1.0 / (sqrt(var > 0 ? var : 0) + 1e-9);
    }
    MVN_WALK(yd[k] = (float)((xd[k] - sum[g]) * sq[g]));
    return NNL_OK;
}
