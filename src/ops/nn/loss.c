/*
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss over float32 input
 * [N, C] or [N, C, d1, ...] with int32/int64 targets [N] / [N, d1, ...].
 *
 * Per position: loss = -w[t] * logp[n, t, d] (w = 1 without weights); a
 * target equal to ignore_index contributes 0 to the loss and to the
 * weight sum.  reduction "none" keeps the [N, d1, ...] shape, "sum" adds,
 * "mean" divides the sum by the weight sum of the positions not ignored
 * (0/0 gives NaN, as PyTorch).  SoftmaxCrossEntropyLoss takes logp as
 * log_softmax over C of the scores and can output it.  A target outside
 * [0, C) that is not ignore_index fails at run time.
 */
#include <math.h>
#include <string.h>

#include "ops/nn/nn_ops.h"

enum { R_NONE, R_SUM, R_MEAN };

static int64_t target_at(const nnl_tensor *t, int64_t i) {
    return t->dtype == NNL_DT_INT64 ? ((const int64_t *)t->data)[i]
                                    : (int64_t)((const int32_t *)t->data)[i];
}

static nnl_status reduction(const nnl_op_call *c, int *red) {
    const char *s = nnl_attr_str(c, "reduction", "mean");
    if (strcmp(s, "none") == 0) *red = R_NONE;
    else if (strcmp(s, "sum") == 0) *red = R_SUM;
    else if (strcmp(s, "mean") == 0) *red = R_MEAN;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "reduction '%s' is not supported", s);
    return NNL_OK;
}

nnl_status nnl_nn_loss_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"reduction", "ignore_index", NULL};
    const bool sce = strcmp(c->op, "SoftmaxCrossEntropyLoss") == 0;
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    const nnl_attr *ii = nnl_attr_get(c, "ignore_index");
    if (ii && ii->type != NNL_ATTR_INT)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "ignore_index must be an integer");
    int red;
    if ((st = reduction(c, &red))) return st;
    if ((st = nnl_op_check_io(c, 2, 3, 2, 1, sce ? 2 : 1)) || (st = nnl_op_check_inputs(c))) return st;
    const nnl_tensor *x = c->in[0], *t = c->in[1], *w = nnl_op_in(c, 2);
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "input must be N x C x ...");
    if (t->dtype != NNL_DT_INT64 && t->dtype != NNL_DT_INT32)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "target must be int32 or int64");
    bool ok = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
    for (int i = 1; ok && i < t->rank; i++) ok = t->dims[i] == x->dims[i + 1];
    if (!ok) return nnl_op_fail(c, NNL_ERR_SHAPE, "target shape does not match input's");
    if (w && (w->dtype != NNL_DT_FLOAT || w->rank != 1 || w->dims[0] != x->dims[1]))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "weight must be float32 [C]");
    nnl_tensor *o = nnl_op_out(c, 0), *lp = sce ? nnl_op_out(c, 1) : NULL;
    if (!o) return nnl_op_fail(c, NNL_ERR_SHAPE, "output 0 is required");
    if ((st = nnl_op_set_out(c, o, NNL_DT_FLOAT, red == R_NONE ? t->rank : 0, t->dims)))
        return st;
    if (lp && (st = nnl_op_set_out(c, lp, NNL_DT_FLOAT, x->rank, x->dims))) return st;
    r->flops = (sce ? 4.0 : 1.0) * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

nnl_status nnl_nn_loss_exec(const nnl_op_call *c) {
    const bool sce = strcmp(c->op, "SoftmaxCrossEntropyLoss") == 0;
    int red;
    nnl_status st = reduction(c, &red);
    if (st) return st;
    const nnl_tensor *x = c->in[0], *t = c->in[1], *wt = nnl_op_in(c, 2);
    const nnl_attr *iia = nnl_attr_get(c, "ignore_index");
    const bool has_ii = iia != NULL;
    const int64_t ii = has_ii ? iia->i : 0;
    const int64_t N = x->dims[0], C = x->dims[1], D = nnl_op_prod(x->dims, 2, x->rank);
    const float *xv = x->data, *w = wt ? wt->data : NULL;
    nnl_tensor *o = c->out[0], *lpt = sce ? nnl_op_out(c, 1) : NULL;
    float *out = o->data, *lp = lpt ? lpt->data : NULL;

    /* Targets first, so a bad one fails before any output is written. */
    for (int64_t i = 0; i < N * D; i++) {
        const int64_t tg = target_at(t, i);
        if (has_ii && tg == ii) continue;
        if (tg < 0 || tg >= C)
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "target %lld is outside [0, %lld)",
                               (long long)tg, (long long)C);
    }
    double sum = 0, wsum = 0;
    for (int64_t n = 0; n < N; n++) {
        const float *xn = xv + n * C * D;
        for (int64_t d = 0; d < D; d++) {
            /* log-sum-exp over the classes of this position */
            double lse = 0;
            if (sce) {
                double mx = -INFINITY, s = 0;
                for (int64_t k = 0; k < C; k++) mx = xn[k * D + d] > mx ? xn[k * D + d] : mx;
                for (int64_t k = 0; k < C; k++) s += exp((double)xn[k * D + d] - mx);
                lse = mx + log(s);
                if (lp)
                    for (int64_t k = 0; k < C; k++)
                        lp[n * C * D + k * D + d] = (float)((double)xn[k * D + d] - lse);
            }
            const int64_t tg = target_at(t, n * D + d);
            double l = 0;
            if (!(has_ii && tg == ii)) {
                const double wk = w ? w[tg] : 1.0;
                l = -wk * ((double)xn[tg * D + d] - lse);
                wsum += wk;
            }
            if (red == R_NONE) out[n * D + d] = (float)l;
            else sum += l;
        }
    }
    if (red == R_SUM) *out = (float)sum;
    else if (red == R_MEAN) *out = (float)(sum / wsum);
    return NNL_OK;
}
