/*
 * Softmax, LogSoftmax and Hardmax over float32.
 *
 * Before opset 13 the input is coerced to 2-D at `axis` (default 1) and the
 * op runs over all dims from axis on; from 13 it runs over the one dim
 * `axis` (default -1).  Both are a [outer, n, inner] view: the old form is
 * the new one with inner = 1 and n = product of the trailing dims.
 */
#include <math.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops/math/math_ops.h"

enum { SM_SOFTMAX, SM_LOG, SM_HARD };

static int sm_kind(const char *op) {
    return strcmp(op, "LogSoftmax") == 0 ? SM_LOG : strcmp(op, "Hardmax") == 0 ? SM_HARD
                                                                               : SM_SOFTMAX;
}

typedef struct sm_job {
    int kind;
    int64_t n, inner;
    const float *x;
    float *y;
} sm_job;

/* y[i] = exp(x[i] - m[i]) for i < n (m[i] = m0 when m is NULL), adding
 * each into s[i] (s[i % 8] when acc8); eight lanes at a time. */
static void exp_minus(const float *x, const float *m, float m0, float *y, float *s, bool acc8,
                      int64_t n) {
    for (int64_t i = 0; i < n; i += 8) {
        const int64_t w = n - i < 8 ? n - i : 8;
        float a[8], mb[8];
        for (int k = 0; k < 8; k++) a[k] = -INFINITY;
        for (int k = 0; k < 8; k++) mb[k] = m0;
        if (w == 8) {
            for (int k = 0; k < 8; k++) a[k] = x[i + k];
            if (m)
                for (int k = 0; k < 8; k++) mb[k] = m[i + k];
        } else {
            for (int64_t k = 0; k < w; k++) a[k] = x[i + k];
            if (m)
                for (int64_t k = 0; k < w; k++) mb[k] = m[i + k];
        }
        for (int k = 0; k < 8; k++) a[k] -= mb[k];
        nnl_math_exp8(a);
        if (w == 8)
            for (int k = 0; k < 8; k++) y[i + k] = a[k];
        else
            for (int64_t k = 0; k < w; k++) y[i + k] = a[k];
        if (acc8)
            for (int k = 0; k < 8; k++) s[k] += a[k];
        else
            for (int64_t k = 0; k < w; k++) s[i + k] += a[k];
    }
}

/* One contiguous row of n values: Softmax through the kernel set (the
 * rows of attention are most of a transformer's non-GEMM time). */
static void sm_row(int kind, const float *x, float *y, int64_t n) {
    if (kind == SM_HARD) {
        int64_t best = 0;
        for (int64_t i = 1; i < n; i++)
            if (x[i] > x[best]) best = i;
        for (int64_t i = 0; i < n; i++) y[i] = i == best ? 1.0f : 0.0f;
        return;
    }
    if (kind == SM_SOFTMAX) {
        nnl_kernel_get()->softmax(y, x, n);
        return;
    }
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    /* A row of -inf stays well defined instead of computing -inf - -inf. */
    if (m == -INFINITY) m = 0;
    float s8[8] = {0};
    exp_minus(x, NULL, m, y, s8, true, n);
    double s = 0;
    for (int k = 0; k < 8; k++) s += s8[k];
    const float ls = (float)log(s);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] - m - ls;
}

/* n rows of `inner` contiguous values, the op running down each column.
 * Columns go in blocks so the per-column max and sum live on the stack and
 * the loops over a block's columns are innermost. */
#define SM_BLOCK 256

static void sm_cols(int kind, const float *x, float *y, int64_t n, int64_t inner) {
    for (int64_t j0 = 0; j0 < inner; j0 += SM_BLOCK) {
        const int64_t w = inner - j0 < SM_BLOCK ? inner - j0 : SM_BLOCK;
        const float *xb = x + j0;
        float *yb = y + j0;
        float m[SM_BLOCK], s[SM_BLOCK];
        int64_t best[SM_BLOCK];
        for (int64_t k = 0; k < w; k++) {
            m[k] = xb[k];
            best[k] = 0;
            s[k] = 0;
        }
        for (int64_t i = 1; i < n; i++)
            for (int64_t k = 0; k < w; k++)
                if (xb[i * inner + k] > m[k]) {
                    m[k] = xb[i * inner + k];
                    best[k] = i;
                }
        if (kind == SM_HARD) {
            for (int64_t i = 0; i < n; i++)
                for (int64_t k = 0; k < w; k++) yb[i * inner + k] = best[k] == i ? 1.0f : 0.0f;
            continue;
        }
        for (int64_t k = 0; k < w; k++)
            if (m[k] == -INFINITY) m[k] = 0;
        for (int64_t i = 0; i < n; i++)
            exp_minus(xb + i * inner, m, 0, yb + i * inner, s, false, w);
        for (int64_t k = 0; k < w; k++) s[k] = kind == SM_LOG ? logf(s[k]) : 1.0f / s[k];
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < w; k++) {
                float *o = &yb[i * inner + k];
                *o = kind == SM_LOG ? xb[i * inner + k] - m[k] - s[k] : *o * s[k];
            }
    }
}

static void sm_range(void *ctx, int64_t b, int64_t e, int thread) {
    const sm_job *j = ctx;
    (void)thread;
    const int64_t blk = j->n * j->inner;
    for (int64_t o = b; o < e; o++) {
        if (j->inner == 1)
            sm_row(j->kind, j->x + o * blk, j->y + o * blk, j->n);
        else
            sm_cols(j->kind, j->x + o * blk, j->y + o * blk, j->n, j->inner);
    }
}

/* [outer, n, inner] of the op's view of x. */
static nnl_status sm_view(const nnl_op_call *c, int64_t *outer, int64_t *n, int64_t *inner) {
    const nnl_tensor *x = c->in[0];
    bool old = c->opset < 13;
    int axis;
    if (x->rank == 0) {
        *outer = *n = *inner = 1;
        return NNL_OK;
    }
    int64_t a = nnl_attr_int(c, "axis", old ? 1 : -1);
    /* The 2-D coercion also accepts axis == rank (an [N, 1] view); the
     * default axis 1 of a 1-D input is that case. */
    if (old && a == x->rank) {
        *outer = nnl_op_prod(x->dims, 0, x->rank);
        *n = *inner = 1;
        return NNL_OK;
    }
    nnl_status st = nnl_op_axis(c, a, x->rank, "axis", &axis);
    if (st) return st;
    *outer = nnl_op_prod(x->dims, 0, axis);
    if (old) {
        *n = nnl_op_prod(x->dims, axis, x->rank);
        *inner = 1;
    } else {
        *n = x->dims[axis];
        *inner = nnl_op_prod(x->dims, axis + 1, x->rank);
    }
    return NNL_OK;
}

nnl_status nnl_math_softmax_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axis", NULL};
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported (float32 only)",
                           nnl_dtype_name(x->dtype));
    int64_t outer, n, inner;
    if ((st = sm_view(c, &outer, &n, &inner))) return st;
    if ((st = nnl_op_set_like(c, c->out[0], x, x->dtype))) return st;
    r->flops = 5.0 * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

nnl_status nnl_math_softmax_exec(const nnl_op_call *c) {
    sm_job j = {sm_kind(c->op), 0, 0, c->in[0]->data, c->out[0]->data};
    int64_t outer;
    nnl_status st = sm_view(c, &outer, &j.n, &j.inner);
    if (st) return st;
    if (j.n == 0 || j.inner == 0) return NNL_OK;
    int64_t per = j.n * j.inner;
    nnl_op_parallel(c->pool, outer, per >= 4096 ? 1 : 4096 / per, sm_range, &j);
    return NNL_OK;
}
