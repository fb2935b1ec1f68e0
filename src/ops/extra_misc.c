/*
 * LRN (float32, across channels), ReverseSequence (any dtype) and MaxUnpool
 * (float32; indices flattened over the whole output, as MaxPool's Indices
 * output numbers them).
 */
#include <math.h>
#include <string.h>

#include "ops/extra_ops.h"
#include "ops/math_ops.h"

/* ---- LRN ---------------------------------------------------------------------------- */

nnl_status nnl_extra_lrn_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"alpha", "beta", "bias", "size", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    if ((st = nnl_op_check_io(c, 1, 1, 1, 1, 1)) || (st = nnl_op_check_inputs(c))) return st;
    const nnl_attr *size = nnl_attr_get(c, "size");
    if (!size || size->type != NNL_ATTR_INT || size->i < 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'size' must be a positive integer");
    const nnl_tensor *x = c->in[0];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "X must be N x C x ...");
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, x->dims))) return st;
    r->flops = (double)nnl_tensor_numel(x) * (double)(size->i + 4);
    return NNL_OK;
}

typedef struct lrn_job {
    const float *x;
    float *y;
    int64_t C, inner, lo, hi;  /* window [c - lo, c + hi] */
    float alpha, beta, bias;
} lrn_job;

/* One item is one (n, c) plane. */
static void lrn_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const lrn_job *j = ctx;
    (void)thread;
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t n = pl / j->C, ch = pl % j->C;
        const int64_t c0 = ch - j->lo < 0 ? 0 : ch - j->lo;
        const int64_t c1 = ch + j->hi > j->C - 1 ? j->C - 1 : ch + j->hi;
        const float *base = j->x + n * j->C * j->inner;
        const float *xp = base + ch * j->inner;
        float *yp = j->y + pl * j->inner;
        for (int64_t i = 0; i < j->inner; i++) {
            float sq = 0;
            for (int64_t k = c0; k <= c1; k++) {
                const float v = base[k * j->inner + i];
                sq += v * v;
            }
            yp[i] = xp[i] / powf(j->bias + j->alpha * sq, j->beta);
        }
    }
}

nnl_status nnl_extra_lrn_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    const int64_t size = nnl_attr_int(c, "size", 1);
    lrn_job j = {x->data, c->out[0]->data, x->dims[1], nnl_op_prod(x->dims, 2, x->rank),
                 (size - 1) / 2, size - 1 - (size - 1) / 2,
                 nnl_attr_float(c, "alpha", 1e-4f) / (float)size,
                 nnl_attr_float(c, "beta", 0.75f), nnl_attr_float(c, "bias", 1.0f)};
    const int64_t planes = x->dims[0] * x->dims[1];
    nnl_op_parallel(c->pool, planes, j.inner >= 4096 ? 1 : 4096 / (j.inner ? j.inner : 1),
                    lrn_planes, &j);
    return NNL_OK;
}

/* ---- ReverseSequence ---------------------------------------------------------------- */

nnl_status nnl_extra_revseq_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"batch_axis", "time_axis", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    if ((st = nnl_op_check_io(c, 2, 2, 2, 1, 1)) || (st = nnl_op_check_inputs(c))) return st;
    const int64_t ba = nnl_attr_int(c, "batch_axis", 1), ta = nnl_attr_int(c, "time_axis", 0);
    if (!((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "batch_axis and time_axis must be 0 and 1");
    const nnl_tensor *x = c->in[0], *sl = c->in[1];
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "input must have rank >= 2");
    if (nnl_dtype_size(x->dtype) == 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input has unsupported dtype");
    if (sl->dtype != NNL_DT_INT64 && sl->dtype != NNL_DT_INT32)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "sequence_lens must be int64");
    if (sl->rank != 1 || sl->dims[0] != x->dims[ba])
        return nnl_op_fail(c, NNL_ERR_SHAPE, "sequence_lens must have shape [%lld]",
                           (long long)x->dims[ba]);
    if ((st = nnl_op_set_out(c, c->out[0], x->dtype, x->rank, x->dims))) return st;
    r->flops = 0;
    return NNL_OK;
}

nnl_status nnl_extra_revseq_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *sl = c->in[1];
    const int ba = (int)nnl_attr_int(c, "batch_axis", 1), ta = 1 - ba;
    const size_t es = nnl_dtype_size(x->dtype);
    const int64_t B = x->dims[ba], S = x->dims[ta];
    const size_t row = (size_t)nnl_op_prod(x->dims, 2, x->rank) * es;
    for (int64_t b = 0; b < B; b++) {
        const int64_t L = sl->dtype == NNL_DT_INT64 ? ((const int64_t *)sl->data)[b]
                                                    : ((const int32_t *)sl->data)[b];
        if (L < 0 || L > S)
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG,
                               "sequence_lens[%lld] = %lld is outside [0, %lld]",
                               (long long)b, (long long)L, (long long)S);
    }
    for (int64_t b = 0; b < B; b++) {
        const int64_t L = sl->dtype == NNL_DT_INT64 ? ((const int64_t *)sl->data)[b]
                                                    : ((const int32_t *)sl->data)[b];
        for (int64_t t = 0; t < S; t++) {
            const int64_t src_t = t < L ? L - 1 - t : t;
            const int64_t so = ta == 0 ? src_t * B + b : b * S + src_t;
            const int64_t dof = ta == 0 ? t * B + b : b * S + t;
            memcpy((char *)c->out[0]->data + (size_t)dof * row,
                   (const char *)x->data + (size_t)so * row, row);
        }
    }
    return NNL_OK;
}

/* ---- MaxUnpool ---------------------------------------------------------------------- */

/* Output shape: the output_shape input (a constant) or, without it,
 * (in - 1) * stride + kernel - pad_begin - pad_end per spatial dim. */
static nnl_status unpool_shape(const nnl_op_call *c, int64_t *od) {
    const nnl_tensor *x = c->in[0], *os = nnl_op_in(c, 2);
    const int ns = x->rank - 2;
    const nnl_attr *k = nnl_attr_get(c, "kernel_shape"), *s = nnl_attr_get(c, "strides");
    const nnl_attr *p = nnl_attr_get(c, "pads");
    if (!k || k->type != NNL_ATTR_INTS || k->n != ns)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel_shape must list %d ints", ns);
    if (s && (s->type != NNL_ATTR_INTS || s->n != ns))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "strides must list %d ints", ns);
    if (p && (p->type != NNL_ATTR_INTS || p->n != 2 * ns))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "pads must list %d ints", 2 * ns);
    od[0] = x->dims[0];
    od[1] = x->dims[1];
    for (int i = 0; i < ns; i++) {
        const int64_t st = s ? s->ints[i] : 1, pb = p ? p->ints[i] : 0, pe = p ? p->ints[ns + i] : 0;
        if (k->ints[i] < 1 || st < 1 || pb < 0 || pe < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel, strides or pads out of range");
        od[2 + i] = (x->dims[2 + i] - 1) * st + k->ints[i] - pb - pe;
        if (x->dims[2 + i] == 0) od[2 + i] = 0;
        if (od[2 + i] < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "negative output size");
    }
    if (os) {
        if (os->rank != 1 || os->dims[0] != x->rank)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output_shape must list %d dims", x->rank);
        for (int i = 0; i < x->rank; i++) {
            int64_t v;
            nnl_status st = nnl_math_int_at(c, os, i, "output_shape", &v);
            if (st) return st;
            if (v < 0 || (i < 2 && v != od[i]))
                return nnl_op_fail(c, NNL_ERR_SHAPE, "output_shape does not fit the input");
            od[i] = v;
        }
    }
    return NNL_OK;
}

nnl_status nnl_extra_maxunpool_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"kernel_shape", "pads", "strides", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    if ((st = nnl_op_check_io(c, 2, 3, 2, 1, 1)) || (st = nnl_op_check_inputs(c))) return st;
    const nnl_tensor *x = c->in[0], *ix = c->in[1];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 3) return nnl_op_fail(c, NNL_ERR_SHAPE, "X must be N x C x D1 ...");
    bool same = ix->dtype == NNL_DT_INT64 && ix->rank == x->rank;
    for (int i = 0; same && i < x->rank; i++) same = ix->dims[i] == x->dims[i];
    if (!same) return nnl_op_fail(c, NNL_ERR_SHAPE, "I must be int64 with X's shape");
    int64_t od[NNL_MAX_RANK];
    if ((st = unpool_shape(c, od))) return st;
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, od))) return st;
    r->flops = 0;
    return NNL_OK;
}

nnl_status nnl_extra_maxunpool_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    const int64_t *idx = c->in[1]->data;
    const float *xv = x->data;
    float *y = c->out[0]->data;
    const int64_t n = nnl_tensor_numel(x), total = nnl_tensor_numel(c->out[0]);
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= total)
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "index %lld is outside the output's "
                               "%lld elements", (long long)idx[i], (long long)total);
    memset(y, 0, (size_t)total * sizeof *y);
    /* In input order, so of two values sent to one place the later wins. */
    for (int64_t i = 0; i < n; i++) y[idx[i]] = xv[i];
    return NNL_OK;
}
