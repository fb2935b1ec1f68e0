/*
 * DFT (opset 17 attribute form and opset 20 input form) and STFT over
 * float32, real ([..., 1]) or complex ([..., 2]) signals.
 *
 * Direct O(n^2) transforms in double with a table of n twiddles in the
 * shared scratch (indexed by k * j mod n, so no angle grows large):
 * exact enough for any length, and these ops are rare in exported models.
 * Lengths, steps and axes decide output shapes, so they must be
 * constants.  inverse scales by 1/n; onesided keeps bins [0, n/2] and is
 * refused for complex input and for the inverse transform.
 */
#include <math.h>
#include <string.h>

#include "ops/signal/signal_ops.h"

/* cos / sin of 2 pi m / n for m in [0, n) into tw[2m], tw[2m + 1]. */
static void twiddles(double *tw, int64_t n) {
    for (int64_t m = 0; m < n; m++) {
        const double a = 2 * M_PI * (double)m / (double)n;
        tw[2 * m] = cos(a);
        tw[2 * m + 1] = sin(a);
    }
}

/* Bins [0, nk) of the n-point transform of the n values of x (stride xs
 * elements between values, ci = 1 real / 2 complex per value; values past
 * len are zero, window scales them when given) into y (stride ys, complex). */
static void transform(const float *x, int64_t xs, int ci, int64_t len, const float *window,
                      const double *tw, int64_t n, int64_t nk, bool inverse, float *y,
                      int64_t ys) {
    const int64_t m = len < n ? len : n;
    for (int64_t k = 0; k < nk; k++) {
        double re = 0, im = 0;
        int64_t idx = 0; /* k * j mod n, advanced by k each step */
        for (int64_t j = 0; j < m; j++) {
            double xr = x[j * xs], xi = ci == 2 ? x[j * xs + 1] : 0;
            if (window) xr *= window[j], xi *= window[j];
            const double c = tw[2 * idx], s = tw[2 * idx + 1];
            if (inverse) {
                re += xr * c - xi * s;
                im += xi * c + xr * s;
            } else {
                re += xr * c + xi * s;
                im += xi * c - xr * s;
            }
            idx += k;
            if (idx >= n) idx %= n;
        }
        if (inverse) re /= (double)n, im /= (double)n;
        y[k * ys] = (float)re;
        y[k * ys + 1] = (float)im;
    }
}

/* A constant scalar integer input. */
static nnl_status const_int(const nnl_op_call *c, int i, const char *what, int64_t *v) {
    const nnl_tensor *t = c->in[i];
    if (nnl_tensor_numel(t) != 1 || t->rank > 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s must be a scalar", what);
    return nnl_op_int_at(c, t, 0, what, v);
}

/* ---- DFT ---------------------------------------------------------------------------- */

typedef struct dft_geom {
    int axis, ci;
    int64_t outer, len, inner, n, nk;
    bool inverse;
} dft_geom;

static nnl_status dft_geometry(const nnl_op_call *c, dft_geom *g) {
    const nnl_tensor *x = c->in[0];
    nnl_status st;
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 3 || (x->dims[x->rank - 1] != 1 && x->dims[x->rank - 1] != 2))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "input must be [batch, signal..., 1 or 2]");
    int64_t axis;
    if (c->opset >= 20) {
        axis = -2;
        if (nnl_op_in(c, 2) && (st = const_int(c, 2, "axis", &axis))) return st;
    } else {
        axis = nnl_attr_int(c, "axis", 1);
    }
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis > x->rank - 2)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "axis must name a dimension before the last");
    g->axis = (int)axis;
    g->ci = (int)x->dims[x->rank - 1];
    g->len = x->dims[axis];
    g->n = g->len;
    if (nnl_op_in(c, 1) && (st = const_int(c, 1, "dft_length", &g->n))) return st;
    if (g->n < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "dft_length must be positive");
    const bool onesided = nnl_attr_int(c, "onesided", 0) != 0;
    g->inverse = nnl_attr_int(c, "inverse", 0) != 0;
    if (onesided && (g->inverse || g->ci == 2))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "onesided with %s",
                           g->inverse ? "inverse" : "complex input");
    g->nk = onesided ? g->n / 2 + 1 : g->n;
    g->outer = nnl_op_prod(x->dims, 0, g->axis);
    g->inner = nnl_op_prod(x->dims, g->axis + 1, x->rank - 1);
    return NNL_OK;
}

nnl_status nnl_signal_dft_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"axis", "inverse", "onesided", NULL};
    static const char *const known20[] = {"inverse", "onesided", NULL};
    nnl_status st = nnl_op_begin(c, c->opset >= 20 ? known20 : known, 1, c->opset >= 20 ? 3 : 2, 1, 1, 1);
    if (st) return st;
    dft_geom g;
    if ((st = dft_geometry(c, &g))) return st;
    if (g.n > ((int64_t)1 << 24))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dft_length %lld is too large",
                           (long long)g.n);
    const nnl_tensor *x = c->in[0];
    int64_t od[NNL_MAX_RANK];
    memcpy(od, x->dims, sizeof od);
    od[g.axis] = g.nk;
    od[x->rank - 1] = 2;
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, od))) return st;
    r->scratch_bytes = (size_t)g.n * 2 * sizeof(double);
    r->flops = 8.0 * (double)g.outer * (double)g.inner * (double)g.nk * (double)g.n;
    return NNL_OK;
}

typedef struct dft_job {
    dft_geom g;
    const float *x;
    float *y;
    const double *tw;
} dft_job;

static void dft_lines(void *ctx, int64_t b, int64_t e, int thread) {
    const dft_job *j = ctx;
    const dft_geom *g = &j->g;
    (void)thread;
    for (int64_t line = b; line < e; line++) {
        const int64_t o = line / g->inner, i = line % g->inner;
        transform(j->x + (o * g->len * g->inner + i) * g->ci, g->inner * g->ci, g->ci, g->len, NULL,
                  j->tw, g->n, g->nk, g->inverse, j->y + (o * g->nk * g->inner + i) * 2,
                  g->inner * 2);
    }
}

nnl_status nnl_signal_dft_exec(const nnl_op_call *c) {
    dft_job j = {.x = c->in[0]->data, .y = c->out[0]->data, .tw = c->scratch};
    nnl_status st = dft_geometry(c, &j.g);
    if (st) return st;
    twiddles(c->scratch, j.g.n);
    const int64_t work = j.g.n * j.g.nk;
    nnl_op_parallel(c->pool, j.g.outer * j.g.inner, work >= 4096 ? 1 : 4096 / work, dft_lines,
                    &j);
    return NNL_OK;
}

/* ---- STFT --------------------------------------------------------------------------- */

typedef struct stft_geom {
    int ci;
    int64_t batch, len, step, fl, frames, nk;
} stft_geom;

static nnl_status stft_geometry(const nnl_op_call *c, stft_geom *g) {
    const nnl_tensor *x = c->in[0], *w = nnl_op_in(c, 2), *fl = nnl_op_in(c, 3);
    nnl_status st;
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "signal has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "signal must be [batch, length, 1 or 2]");
    g->ci = (int)x->dims[2];
    g->batch = x->dims[0];
    g->len = x->dims[1];
    if ((st = const_int(c, 1, "frame_step", &g->step))) return st;
    if (g->step < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "frame_step must be positive");
    g->fl = -1;
    if (fl && (st = const_int(c, 3, "frame_length", &g->fl))) return st;
    if (w) {
        if (w->dtype != NNL_DT_FLOAT || w->rank != 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "window must be float32 1-D");
        if (g->fl >= 0 && g->fl != w->dims[0])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "frame_length differs from the window's");
        g->fl = w->dims[0];
    }
    if (g->fl < 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "needs a window or a positive frame_length");
    if (g->fl > g->len)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "frame_length %lld exceeds the signal's %lld",
                           (long long)g->fl, (long long)g->len);
    const bool onesided = nnl_attr_int(c, "onesided", 1) != 0;
    if (onesided && g->ci == 2)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "onesided with complex input");
    g->frames = (g->len - g->fl) / g->step + 1;
    g->nk = onesided ? g->fl / 2 + 1 : g->fl;
    return NNL_OK;
}

nnl_status nnl_signal_stft_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"onesided", NULL};
    nnl_status st = nnl_op_begin(c, known, 2, 4, 2, 1, 1);
    if (st) return st;
    stft_geom g;
    if ((st = stft_geometry(c, &g))) return st;
    const int64_t od[4] = {g.batch, g.frames, g.nk, 2};
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, 4, od))) return st;
    r->scratch_bytes = (size_t)g.fl * 2 * sizeof(double);
    r->flops = 8.0 * (double)g.batch * (double)g.frames * (double)g.nk * (double)g.fl;
    return NNL_OK;
}

typedef struct stft_job {
    stft_geom g;
    const float *x, *w;
    float *y;
    const double *tw;
} stft_job;

static void stft_frames(void *ctx, int64_t b, int64_t e, int thread) {
    const stft_job *j = ctx;
    const stft_geom *g = &j->g;
    (void)thread;
    for (int64_t item = b; item < e; item++) {
        const int64_t bi = item / g->frames, f = item % g->frames;
        transform(j->x + (bi * g->len + f * g->step) * g->ci, g->ci, g->ci, g->fl, j->w, j->tw,
                  g->fl, g->nk, false, j->y + item * g->nk * 2, 2);
    }
}

nnl_status nnl_signal_stft_exec(const nnl_op_call *c) {
    const nnl_tensor *w = nnl_op_in(c, 2);
    stft_job j = {.x = c->in[0]->data, .w = w ? w->data : NULL, .y = c->out[0]->data,
                  .tw = c->scratch};
    nnl_status st = stft_geometry(c, &j.g);
    if (st) return st;
    twiddles(c->scratch, j.g.fl);
    const int64_t work = j.g.fl * j.g.nk;
    nnl_op_parallel(c->pool, j.g.batch * j.g.frames, work >= 4096 ? 1 : 4096 / work,
                    stft_frames, &j);
    return NNL_OK;
}
