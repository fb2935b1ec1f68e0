/*
 * The window generators HannWindow, HammingWindow, BlackmanWindow (their
 * length is an input, so it must be a constant: it decides the output
 * shape).
 */
#include <math.h>
#include <string.h>

#include "ops/signal/signal_ops.h"

/* ---- windows ------------------------------------------------------------------------ */

static nnl_status window_size(const nnl_op_call *c, int64_t *n) {
    const nnl_tensor *s = c->in[0];
    if (s->rank != 0 && !(s->rank == 1 && s->dims[0] == 1))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "size must be a scalar");
    return nnl_op_int_at(c, s, 0, "size", n);
}

nnl_status nnl_signal_window_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"output_datatype", "periodic", NULL};
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, 1);
    if (st) return st;
    const int64_t dt = nnl_attr_int(c, "output_datatype", NNL_DT_FLOAT);
    if (dt != NNL_DT_FLOAT && dt != NNL_DT_DOUBLE)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output_datatype %lld (float32 or float64 "
                           "only)", (long long)dt);
    int64_t n;
    if ((st = window_size(c, &n))) return st;
    if (n < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "size %lld is negative", (long long)n);
    /* A symmetric window of one point divides by zero in the definition. */
    if (n == 1 && nnl_attr_int(c, "periodic", 1) == 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "symmetric window of size 1");
    if ((st = nnl_op_set_out(c, c->out[0], (nnl_dtype)dt, 1, &n))) return st;
    r->flops = 4.0 * (double)n;
    return NNL_OK;
}

nnl_status nnl_signal_window_exec(const nnl_op_call *c) {
    int64_t n;
    nnl_status st = window_size(c, &n);
    if (st) return st;
    const double N = nnl_attr_int(c, "periodic", 1) ? (double)n : (double)(n - 1);
    const double tau = 2 * M_PI;
    nnl_tensor *o = c->out[0];
    for (int64_t i = 0; i < n; i++) {
        const double a = tau * (double)i / N;
        double v;
        if (strcmp(c->op, "HannWindow") == 0) v = 0.5 - 0.5 * cos(a);
        else if (strcmp(c->op, "HammingWindow") == 0) v = 25.0 / 46.0 - (21.0 / 46.0) * cos(a);
        else v = 0.42 - 0.5 * cos(a) + 0.08 * cos(2 * a);
        if (o->dtype == NNL_DT_DOUBLE) ((double *)o->data)[i] = v;
        else ((float *)o->data)[i] = (float)v;
    }
    return NNL_OK;
}
