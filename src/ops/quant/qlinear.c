/*
 * Integer matrix products and convolutions over uint8 / int8 with int32
 * accumulation: MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv.
 *
 * Zero points are subtracted before multiplying: per tensor (one element),
 * per row of A / per column of B for the matmuls, per output channel for
 * the weights of the convolutions.  Padding of the convolutions adds
 * nothing (it stands for the zero point).  The QLinear forms requantize
 * acc * (scale_a * scale_b / scale_y), the multiplier in float32 as the
 * scales are, the product in double, rounded half to even, plus the output
 * zero point, saturated.  Convolutions are 1-D or 2-D, computed directly
 * (no packing): these ops are rare in exported float models.  The
 * exception is QLinearConv with a PACK_Q8 weight (passes/pack_q8.c, for
 * the convs of QDQ models and QLinearConv with int8 weights of zero point
 * 0): it runs kernels/qconv.h, whose requantization multiplies in float32
 * as ONNX Runtime's does.  Its nnl_ymin / nnl_ymax attributes (a fused
 * Relu or Clip, passes/fuse_qconv.c) narrow the saturation on both paths;
 * nnl_w7 = 1 (passes/pack_q8.c) says the weight lies within [-64, 64].
 */
#include <math.h>
#include <string.h>

#include "ops/quant/quant_ops.h"
#include "kernels/qconv.h"
#include "kernels/qdw.h"
#include "ops/nn/conv_geom.h"

static bool is_q8(nnl_dtype dt) { return dt == NNL_DT_UINT8 || dt == NNL_DT_INT8; }

static inline int32_t ld8(const void *p, nnl_dtype dt, int64_t i) {
    return dt == NNL_DT_UINT8 ? (int32_t)((const uint8_t *)p)[i] : (int32_t)((const int8_t *)p)[i];
}

static bool is_qlinear(const nnl_op_call *c) { return strncmp(c->op, "QLinear", 7) == 0; }

/* A zero point / scale with numel 1 or n elements in one dim. */
static nnl_status check_param(const nnl_op_call *c, const nnl_tensor *t, const char *what,
                              nnl_dtype dt, int64_t n) {
    if (!t) return NNL_OK;
    if (t->dtype != dt)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s has dtype %s, expected %s", what,
                           nnl_dtype_name(t->dtype), nnl_dtype_name(dt));
    const int64_t k = nnl_tensor_numel(t);
    if (k == 1 && t->rank <= 1) return NNL_OK;
    if (t->rank == 1 && k == n) return NNL_OK;
    return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s must have 1 or %lld elements in one dim",
                       what, (long long)n);
}

/* Element i of a per-tensor or per-index parameter (0 when absent). */
static inline float par_f(const nnl_tensor *t, int64_t i) {
    if (!t) return 0;
    return ((const float *)t->data)[nnl_tensor_numel(t) == 1 ? 0 : i];
}
static inline int32_t par_q(const nnl_tensor *t, int64_t i) {
    if (!t) return 0;
    return ld8(t->data, t->dtype, nnl_tensor_numel(t) == 1 ? 0 : i);
}

/* Requantize an int32 accumulator, saturating to [lo, hi] (y's type's
 * range or narrower). */
static inline void requant(void *y, nnl_dtype dt, int64_t i, double acc, float mult, int32_t zp, double lo,
                           double hi) {
    double v = rint(acc * (double)mult) + zp;
    v = !(v >= lo) ? lo : v > hi ? hi : v;   /* NaN (zero scale) -> lo */
    if (dt == NNL_DT_UINT8) ((uint8_t *)y)[i] = (uint8_t)v;
    else ((int8_t *)y)[i] = (int8_t)v;
}

/* ---- matmuls ------------------------------------------------------------------------ */

typedef struct mm_geom {
    int64_t M, K, N, batch;
    int brank;                 /* batch rank of the output */
    int64_t bdims[NNL_MAX_RANK], astr[NNL_MAX_RANK], bstr[NNL_MAX_RANK];
    int out_rank;
    int64_t out_dims[NNL_MAX_RANK];
} mm_geom;

/* numpy matmul shapes: 1-D operands gain and then lose a unit dim, batch
 * dims broadcast.  astr/bstr are the matrix strides (in matrices) of A and
 * B per output batch dim, 0 where broadcast. */
static nnl_status mm_geometry(const nnl_op_call *c, const nnl_tensor *a, const nnl_tensor *b,
                              mm_geom *g) {
    if (a->rank < 1 || b->rank < 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "matmul operands must have rank >= 1");
    const int ra = a->rank, rb = b->rank;
    g->M = ra == 1 ? 1 : a->dims[ra - 2];
    g->K = a->dims[ra - 1];
    const int64_t kb = rb == 1 ? b->dims[0] : b->dims[rb - 2];
    g->N = rb == 1 ? 1 : b->dims[rb - 1];
    if (kb != g->K)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "inner dimensions %lld and %lld differ",
                           (long long)g->K, (long long)kb);
    const int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    g->brank = ba > bb ? ba : bb;
    int64_t sa = 1, sb = 1;
    g->batch = 1;
    for (int i = g->brank - 1; i >= 0; i--) {
        const int ia = i - (g->brank - ba), ib = i - (g->brank - bb);
        const int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "batch dimensions do not broadcast");
        g->bdims[i] = da == 1 ? db : da;
        g->astr[i] = da == 1 ? 0 : sa;
        g->bstr[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        g->batch *= g->bdims[i];
    }
    int r = 0;
    for (int i = 0; i < g->brank; i++) g->out_dims[r++] = g->bdims[i];
    if (ra > 1) g->out_dims[r++] = g->M;
    if (rb > 1) g->out_dims[r++] = g->N;
    g->out_rank = r;
    return NNL_OK;
}

/* Inputs: MatMulInteger (A, B, a_zp, b_zp); QLinearMatMul (a, a_scale,
 * a_zp, b, b_scale, b_zp, y_scale, y_zp). */
typedef struct mm_io {
    const nnl_tensor *a, *b, *azp, *bzp, *as, *bs, *ys, *yzp;
} mm_io;

static mm_io mm_inputs(const nnl_op_call *c) {
    mm_io io = {0};
    if (is_qlinear(c)) {
        io.a = c->in[0], io.as = c->in[1], io.azp = nnl_op_in(c, 2);
        io.b = c->in[3], io.bs = c->in[4], io.bzp = nnl_op_in(c, 5);
        io.ys = c->in[6], io.yzp = nnl_op_in(c, 7);
    } else {
        io.a = c->in[0], io.b = c->in[1], io.azp = nnl_op_in(c, 2), io.bzp = nnl_op_in(c, 3);
    }
    return io;
}

nnl_status nnl_quant_qmatmul_infer(nnl_op_call *c, nnl_infer_result *r) {
    const bool q = is_qlinear(c);
    nnl_status st = nnl_attr_check(c, (const char *const[]){NULL});
    if (st) return st;
    if ((st = q ? nnl_op_check_io(c, 7, 8, 7, 1, 1) : nnl_op_check_io(c, 2, 4, 2, 1, 1)) ||
        (st = nnl_op_check_inputs(c)))
        return st;
    if (q && !c->in[3]) return nnl_op_fail(c, NNL_ERR_SHAPE, "input b is required");
    if (q && !c->in[4]) return nnl_op_fail(c, NNL_ERR_SHAPE, "input b_scale is required");
    const mm_io io = mm_inputs(c);
    if (!is_q8(io.a->dtype) || !is_q8(io.b->dtype))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "operands must be uint8 or int8");
    mm_geom g;
    if ((st = mm_geometry(c, io.a, io.b, &g))) return st;
    /* Per-row / per-column parameters only for plain matrices. */
    const int64_t rows = io.a->rank == 2 ? g.M : 1, cols = io.b->rank == 2 ? g.N : 1;
    if ((st = check_param(c, io.azp, "A's zero point", io.a->dtype, rows))) return st;
    if ((st = check_param(c, io.bzp, "B's zero point", io.b->dtype, cols))) return st;
    nnl_dtype odt = NNL_DT_INT32;
    if (q) {
        if ((st = check_param(c, io.as, "a_scale", NNL_DT_FLOAT, rows))) return st;
        if ((st = check_param(c, io.bs, "b_scale", NNL_DT_FLOAT, cols))) return st;
        if ((st = check_param(c, io.ys, "y_scale", NNL_DT_FLOAT, 1))) return st;
        odt = io.yzp ? io.yzp->dtype : NNL_DT_UINT8;
        if (!is_q8(odt))
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "y_zero_point must be uint8 or int8");
        if ((st = check_param(c, io.yzp, "y_zero_point", odt, 1))) return st;
    }
    if ((st = nnl_op_set_out(c, c->out[0], odt, g.out_rank, g.out_dims))) return st;
    r->flops = 2.0 * (double)g.batch * (double)g.M * (double)g.N * (double)g.K;
    return NNL_OK;
}

typedef struct mm_job {
    mm_io io;
    mm_geom g;
    void *y;
    nnl_dtype ydt;
    bool q;
} mm_job;

/* One item is one row of one output matrix. */
static void mm_rows(void *ctx, int64_t b, int64_t e, int thread) {
    const mm_job *j = ctx;
    const mm_geom *g = &j->g;
    (void)thread;
    const nnl_dtype adt = j->io.a->dtype, bdt = j->io.b->dtype;
    for (int64_t item = b; item < e; item++) {
        const int64_t bi = item / g->M, m = item % g->M;
        int64_t ao = 0, bo = 0, rem = bi;
        for (int d = g->brank - 1; d >= 0; d--) {
            const int64_t idx = rem % g->bdims[d];
            rem /= g->bdims[d];
            ao += idx * g->astr[d];
            bo += idx * g->bstr[d];
        }
        const int64_t abase = (ao * g->M + m) * g->K, bbase = bo * g->K * g->N;
        const int32_t za = par_q(j->io.azp, m);
        for (int64_t nn = 0; nn < g->N; nn++) {
            const int32_t zb = par_q(j->io.bzp, nn);
            int64_t acc = 0;
            for (int64_t k = 0; k < g->K; k++)
                acc += (ld8(j->io.a->data, adt, abase + k) - za) *
                       (ld8(j->io.b->data, bdt, bbase + k * g->N + nn) - zb);
            const int64_t oi = item * g->N + nn;
            if (!j->q) {
                ((int32_t *)j->y)[oi] = (int32_t)acc;
            } else {
                const float mult = par_f(j->io.as, m) * par_f(j->io.bs, nn) / par_f(j->io.ys, 0);
                requant(j->y, j->ydt, oi, (double)(int32_t)acc, mult, par_q(j->io.yzp, 0),
                        j->ydt == NNL_DT_UINT8 ? 0 : -128, j->ydt == NNL_DT_UINT8 ? 255 : 127);
            }
        }
    }
}

nnl_status nnl_quant_qmatmul_exec(const nnl_op_call *c) {
    mm_job j = {.io = mm_inputs(c), .y = c->out[0]->data, .ydt = c->out[0]->dtype,
                .q = is_qlinear(c)};
    nnl_status st = mm_geometry(c, j.io.a, j.io.b, &j.g);
    if (st) return st;
    const int64_t work = j.g.N * j.g.K;
    nnl_op_parallel(c->pool, j.g.batch * j.g.M, work >= 8192 ? 1 : 8192 / (work ? work : 1),
                    mm_rows, &j);
    return NNL_OK;
}

/* ---- convolutions ------------------------------------------------------------------- */

/* ConvInteger (x, w, x_zp, w_zp); QLinearConv (x, x_scale, x_zp, w,
 * w_scale, w_zp, y_scale, y_zp, B). */
typedef struct cv_io {
    const nnl_tensor *x, *w, *xzp, *wzp, *xs, *ws, *ys, *yzp, *bias;
} cv_io;

static cv_io cv_inputs(const nnl_op_call *c) {
    cv_io io = {0};
    if (is_qlinear(c)) {
        io.x = c->in[0], io.xs = c->in[1], io.xzp = nnl_op_in(c, 2);
        io.w = c->in[3], io.ws = c->in[4], io.wzp = nnl_op_in(c, 5);
        io.ys = c->in[6], io.yzp = nnl_op_in(c, 7), io.bias = nnl_op_in(c, 8);
    } else {
        io.x = c->in[0], io.w = c->in[1], io.xzp = nnl_op_in(c, 2), io.wzp = nnl_op_in(c, 3);
    }
    return io;
}

/* The clamp of QLinearConv's output (nnl_ymin / nnl_ymax, what
 * passes/fuse_qconv.c makes of a Relu or Clip), within y's type. */
static nnl_status y_clamp(const nnl_op_call *c, nnl_dtype ydt, int32_t *lo, int32_t *hi) {
    const int64_t tlo = ydt == NNL_DT_UINT8 ? 0 : -128, thi = ydt == NNL_DT_UINT8 ? 255 : 127;
    int64_t a, b;
    nnl_status st = nnl_op_attr_int(c, "nnl_ymin", tlo, &a);
    if (!st) st = nnl_op_attr_int(c, "nnl_ymax", thi, &b);
    if (st) return st;
    if (a < tlo || b > thi || a > b)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "clamp [%lld, %lld] outside %s's range or empty", (long long)a,
                           (long long)b, nnl_dtype_name(ydt));
    *lo = (int32_t)a;
    *hi = (int32_t)b;
    return NNL_OK;
}

/* A PACK_Q8 weight (kernels/qconv.h): int8, zero point 0 (so no w_zp
 * input), a 2-D conv whose groups nnl_qconv2d runs. */
static nnl_status check_packed(const nnl_op_call *c, const cv_io *io, const nnl_conv_params *g) {
    if (io->w->layout != NNL_LAYOUT_PACK_Q8) return NNL_OK;
    if (io->w->dtype != NNL_DT_INT8 || io->wzp || io->x->rank != 4 || !nnl_qconv_ok(g))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed int8 weight on a conv the integer kernel does not "
                           "run (int8 weight, no w_zero_point, 2-D, groups of a multiple of 8 channels)");
    return NNL_OK;
}

nnl_status nnl_quant_qconv_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads",
                                        "strides", NULL};
    static const char *const known_q[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads",
                                          "strides", "nnl_ymin", "nnl_ymax", "nnl_w7", NULL};
    const bool q = is_qlinear(c);
    nnl_status st = nnl_attr_check(c, q ? known_q : known);
    if (st) return st;
    /* zero points may be omitted (0): a PACK_Q8 weight's always is */
    if ((st = q ? nnl_op_check_io(c, 8, 9, 2, 1, 1) : nnl_op_check_io(c, 2, 4, 2, 1, 1))) return st;
    /* QLinearConv's w (input 3) may be PACK_Q8; every other input plain */
    nnl_tensor wplain;
    nnl_tensor *in[9];
    nnl_op_call cc = *c;
    if (q && c->in[3] && c->in[3]->layout == NNL_LAYOUT_PACK_Q8) {
        memcpy(in, c->in, (size_t)c->n_in * sizeof *in);
        wplain = *c->in[3];
        wplain.layout = NNL_LAYOUT_PLAIN;
        in[3] = &wplain;
        cc.in = in;
    }
    if ((st = nnl_op_check_inputs(&cc))) return st;
    if (q && (!c->in[1] || !c->in[3] || !c->in[4] || !c->in[6]))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "x_scale, w, w_scale and y_scale are required");
    const cv_io io = cv_inputs(c);
    if (!is_q8(io.x->dtype) || !is_q8(io.w->dtype))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "x and w must be uint8 or int8");
    nnl_conv_params g;
    if ((st = nnl_conv_geometry(c, io.x, io.w, false, &g))) return st;
    if ((st = check_param(c, io.xzp, "x's zero point", io.x->dtype, 1))) return st;
    if ((st = check_param(c, io.wzp, "w's zero point", io.w->dtype, g.oc))) return st;
    nnl_dtype odt = NNL_DT_INT32;
    if (q) {
        if ((st = check_param(c, io.xs, "x_scale", NNL_DT_FLOAT, 1))) return st;
        if ((st = check_param(c, io.ws, "w_scale", NNL_DT_FLOAT, g.oc))) return st;
        if ((st = check_param(c, io.ys, "y_scale", NNL_DT_FLOAT, 1))) return st;
        odt = io.yzp ? io.yzp->dtype : NNL_DT_UINT8;
        if (!is_q8(odt))
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "y_zero_point must be uint8 or int8");
        if ((st = check_param(c, io.yzp, "y_zero_point", odt, 1))) return st;
        if (io.bias && (io.bias->dtype != NNL_DT_INT32 || io.bias->rank != 1 ||
                        io.bias->dims[0] != g.oc))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "B must be int32 [%lld]", (long long)g.oc);
        int32_t lo, hi;
        if ((st = y_clamp(c, odt, &lo, &hi)) || (st = check_packed(c, &io, &g))) return st;
        if (io.w->layout == NNL_LAYOUT_PACK_Q8) r->scratch_bytes = nnl_qconv_scratch_bytes(&g);
    }
    int64_t od[4] = {g.n, g.oc, g.oh, g.ow};
    if (io.x->rank == 3) od[2] = g.ow;
    if ((st = nnl_op_set_out(c, c->out[0], odt, io.x->rank, od))) return st;
    r->flops = 2.0 * (double)g.n * (double)g.oc * (double)g.oh * (double)g.ow *
               (double)(g.c / g.group) * (double)g.kh * (double)g.kw;
    return NNL_OK;
}

typedef struct cv_job {
    cv_io io;
    nnl_conv_params g;
    void *y;
    nnl_dtype ydt;
    bool q;
    int32_t ylo, yhi;
} cv_job;

/* One item is one (n, oc) output plane. */
static void cv_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const cv_job *j = ctx;
    const nnl_conv_params *g = &j->g;
    (void)thread;
    const nnl_dtype xdt = j->io.x->dtype, wdt = j->io.w->dtype;
    const int64_t icg = g->c / g->group, ocg = g->oc / g->group;
    const int32_t zx = par_q(j->io.xzp, 0);
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t n = pl / g->oc, oc = pl % g->oc, ic0 = (oc / ocg) * icg;
        const int32_t zw = par_q(j->io.wzp, oc);
        const int64_t wbase = oc * icg * g->kh * g->kw;
        float mult = 0;
        int32_t bias = 0, zy = 0;
        if (j->q) {
            mult = par_f(j->io.xs, 0) * par_f(j->io.ws, oc) / par_f(j->io.ys, 0);
            bias = j->io.bias ? ((const int32_t *)j->io.bias->data)[oc] : 0;
            zy = par_q(j->io.yzp, 0);
        }
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t acc = 0;
                for (int64_t ic = 0; ic < icg; ic++) {
                    const int64_t xplane = (n * g->c + ic0 + ic) * g->h * g->w;
                    for (int64_t ky = 0; ky < g->kh; ky++) {
                        const int64_t iy = oy * g->sh - g->pt + ky * g->dh;
                        if (iy < 0 || iy >= g->h) continue;
                        for (int64_t kx = 0; kx < g->kw; kx++) {
                            const int64_t ix = ox * g->sw - g->pl + kx * g->dw;
                            if (ix < 0 || ix >= g->w) continue;
                            acc += (ld8(j->io.x->data, xdt, xplane + iy * g->w + ix) - zx) *
                                   (ld8(j->io.w->data, wdt, wbase + (ic * g->kh + ky) * g->kw + kx) -
                                    zw);
                        }
                    }
                }
                const int64_t oi = (pl * g->oh + oy) * g->ow + ox;
                if (!j->q) ((int32_t *)j->y)[oi] = (int32_t)acc;
                else requant(j->y, j->ydt, oi, (double)(int32_t)(acc + bias), mult, zy, j->ylo, j->yhi);
            }
    }
}

/* The integer kernels multiply by x_scale * w_scale / y_scale and
 * convert: a zero, negative or non-finite scale would make that
 * undefined. */
static bool scale_ok(float s) { return s > 0 && isfinite(s); }
static bool xy_scales_ok(const cv_io *io) { return scale_ok(par_f(io->xs, 0)) && scale_ok(par_f(io->ys, 0)); }

nnl_status nnl_quant_w7(const nnl_op_call *c, bool *w7) {
    int64_t v;
    nnl_status st = nnl_op_attr_int(c, "nnl_w7", 0, &v);
    *w7 = !st && v == 1;
    return st;
}

/* The PACK_Q8 weight's path: kernels/qconv.h. */
static nnl_status qconv_packed(const nnl_op_call *c, const cv_job *j) {
    nnl_qconv_args a = {
        .x = j->io.x->data,
        .x_signed = j->io.x->dtype == NNL_DT_INT8,
        .x_zp = par_q(j->io.xzp, 0),
        .x_scale = par_f(j->io.xs, 0),
        .w = j->io.w->data,
        .bias = j->io.bias ? j->io.bias->data : NULL,
        .y = j->y,
        .y_signed = j->ydt == NNL_DT_INT8,
        .y_zp = par_q(j->io.yzp, 0),
        .y_scale = par_f(j->io.ys, 0),
        .y_min = j->ylo,
        .y_max = j->yhi,
        .scratch = c->scratch,
        .scratch_bytes = c->scratch ? nnl_qconv_scratch_bytes(&j->g) : 0,
    };
    if (!xy_scales_ok(&j->io))
        return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "x_scale %g and y_scale %g must be positive and finite",
                           (double)a.x_scale, (double)a.y_scale);
    nnl_status st = nnl_quant_w7(c, &a.w7);
    if (st) return st;
    st = nnl_qconv2d(&j->g, &a, NULL, c->pool, c->thread_scratch);
    return st ? nnl_op_fail(c, st, "the integer convolution refused this geometry") : NNL_OK;
}

/* A depthwise QLinearConv with a PLAIN int8 weight of zero point 0 and
 * per-tensor x and y parameters runs kernels/qdw.h; false: the loops
 * above. */
static bool qdw_fits(const cv_job *j) {
    const cv_io *io = &j->io;
    if (!j->q || io->x->rank != 4 || io->w->layout != NNL_LAYOUT_PLAIN || io->w->dtype != NNL_DT_INT8 ||
        nnl_tensor_numel(io->xs) != 1 || nnl_tensor_numel(io->ys) != 1 || !nnl_qdw_ok(&j->g))
        return false;
    if (io->xzp && nnl_tensor_numel(io->xzp) != 1) return false;
    if (io->yzp && nnl_tensor_numel(io->yzp) != 1) return false;
    /* per run, so the element loops read the data directly (par_q / par_f
     * count the elements again for every one) */
    if (io->wzp) {
        const int64_t nz = nnl_tensor_numel(io->wzp);
        for (int64_t i = 0; i < nz; i++)
            if (ld8(io->wzp->data, io->wzp->dtype, i) != 0) return false;
    }
    const int64_t ns = nnl_tensor_numel(io->ws);
    const float *ws = io->ws->data;
    for (int64_t i = 0; i < ns; i++)
        if (!scale_ok(ws[i])) return false;
    return xy_scales_ok(io);
}

static nnl_status qconv_depthwise(const nnl_op_call *c, const cv_job *j) {
    nnl_qdw_args a = {
        .x = j->io.x->data,
        .x_signed = j->io.x->dtype == NNL_DT_INT8,
        .x_zp = par_q(j->io.xzp, 0),
        .x_scale = par_f(j->io.xs, 0),
        .w = j->io.w->data,
        .w_scale = j->io.ws->data,
        .w_scale_per_tensor = nnl_tensor_numel(j->io.ws) == 1,
        .bias = j->io.bias ? j->io.bias->data : NULL,
        .y = j->y,
        .y_signed = j->ydt == NNL_DT_INT8,
        .y_zp = par_q(j->io.yzp, 0),
        .y_scale = par_f(j->io.ys, 0),
        .y_min = j->ylo,
        .y_max = j->yhi,
    };
    nnl_status st = nnl_qdw2d(&j->g, &a, NULL, c->pool, c->thread_scratch);
    return st ? nnl_op_fail(c, st, "the integer depthwise convolution refused this geometry") : NNL_OK;
}

nnl_status nnl_quant_qconv_exec(const nnl_op_call *c) {
    cv_job j = {.io = cv_inputs(c), .y = c->out[0]->data, .ydt = c->out[0]->dtype,
                .q = is_qlinear(c)};
    nnl_status st = nnl_conv_geometry(c, j.io.x, j.io.w, false, &j.g);
    if (st) return st;
    if (j.q && (st = y_clamp(c, j.ydt, &j.ylo, &j.yhi))) return st;
    if (j.q && j.io.w->layout == NNL_LAYOUT_PACK_Q8) return qconv_packed(c, &j);
    if (c->thread_scratch && qdw_fits(&j)) return qconv_depthwise(c, &j);
    nnl_op_parallel(c->pool, j.g.n * j.g.oc, 1, cv_planes, &j);
    return NNL_OK;
}
