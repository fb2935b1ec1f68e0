/*
 * Resize (opset 10 to 19) and Upsample (7, 9) over float32.
 *
 * Every mode ONNX defines is separable: the output is a 1-D resampling along
 * each axis in turn, each output index along an axis reading T taps (nearest
 * 1, linear 2, cubic 4) of the input with fixed weights.  So the op builds a
 * tap table per axis and runs one pass per axis that actually changes,
 * innermost axis first.  For upsampling this does the cheap gather pass on
 * the small tensor and leaves the large pass to combine whole contiguous
 * rows, which vectorises (FCN's 8x bilinear upsampling of a 21x32x48 map
 * costs about 2 multiply-adds per output).
 *
 * tf_crop_and_resize marks taps outside the input as "extrapolate"; an
 * output is the extrapolation value when any axis says so.  Passes preserve
 * that: the weights of every tap set sum to one, so a later pass mixing
 * rows that are all the extrapolation value reproduces it.
 *
 * scales/sizes (and roi) must be constant at compile time: the output
 * shape depends on them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/image/image_ops.h"
#include "ops/math/math_ops.h"

enum { M_NEAREST, M_LINEAR, M_CUBIC };
enum { C_HALF_PIXEL, C_PYTORCH_HALF_PIXEL, C_ALIGN_CORNERS, C_ASYMMETRIC, C_TF_HALF_PIXEL,
       C_TF_CROP, C_HALF_PIXEL_SYM };
/* N_SIMPLE: Resize-10 / Upsample: floor, or ceil when downsampling (as
 * onnxruntime does). */
enum { N_ROUND_FLOOR, N_ROUND_CEIL, N_FLOOR, N_CEIL, N_SIMPLE };

typedef struct rs_plan {
    int rank;
    int64_t in[NNL_MAX_RANK], out[NNL_MAX_RANK];
    double scale[NNL_MAX_RANK];
    /* Output length the coordinate transforms use: in * scale, not
     * floored (the ONNX reference), or the size when sizes are given. */
    double len_out[NNL_MAX_RANK];
    double roi_lo[NNL_MAX_RANK], roi_hi[NNL_MAX_RANK];
    int mode, ctm, nearest, taps;
    double cubic_a;
    bool exclude_outside;
    float extrapolation;
} rs_plan;

/* One output index along an axis: taps idx[t] (-1 = extrapolate) with
 * weights w[t]. */
typedef struct rs_axis {
    int64_t *idx;
    float *w;
} rs_axis;

static int str_index(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* Float values of a constant 1-D tensor (float / double). */
static nnl_status const_floats(const nnl_op_call *c, const nnl_tensor *t, const char *what,
                               double *v, int64_t n) {
    if (!t->data)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED,
                           "%s must be a constant at compile time", what);
    if (!nnl_math_is_float(t->dtype))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s must be float", what);
    for (int64_t i = 0; i < n; i++) v[i] = nnl_math_load_d(t->data, i, t->dtype);
    return NNL_OK;
}

static nnl_status rs_attrs(const nnl_op_call *c, bool upsample) {
    static const char *const up_attrs[] = {"mode", "scales", NULL};
    static const char *const r10[] = {"mode", NULL};
    static const char *const r11[] = {"coordinate_transformation_mode", "cubic_coeff_a",
                                      "exclude_outside", "extrapolation_value", "mode",
                                      "nearest_mode", NULL};
    static const char *const r18[] = {"antialias", "axes", "coordinate_transformation_mode",
                                      "cubic_coeff_a", "exclude_outside", "extrapolation_value",
                                      "keep_aspect_ratio_policy", "mode", "nearest_mode", NULL};
    return nnl_attr_check(c, upsample ? up_attrs : c->opset < 11 ? r10 : c->opset < 18 ? r11 : r18);
}

/* Output dims and scales from a constant sizes input. */
static nnl_status rs_sizes(const nnl_op_call *c, rs_plan *p, const nnl_tensor *sizes,
                           const int *axes, int n_axes) {
    int64_t sz[NNL_MAX_RANK];
    if (sizes->dtype != NNL_DT_INT64 || nnl_tensor_numel(sizes) != n_axes)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "sizes must be %d int64 values", n_axes);
    if (!sizes->data)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "sizes must be a constant at compile "
                           "time (it decides the output shape)");
    for (int i = 0; i < n_axes; i++) sz[i] = ((const int64_t *)sizes->data)[i];
    const char *pol = nnl_attr_str(c, "keep_aspect_ratio_policy", "stretch");
    bool larger = strcmp(pol, "not_larger") == 0, smaller = strcmp(pol, "not_smaller") == 0;
    if (!larger && !smaller && strcmp(pol, "stretch") != 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "keep_aspect_ratio_policy '%s'", pol);
    /* not_larger / not_smaller: one scale for all axes, the smallest /
     * largest of the per-axis ones. */
    double keep = larger ? INFINITY : 0;
    for (int i = 0; i < n_axes; i++) {
        if (sz[i] < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "negative size");
        double s = p->in[axes[i]] ? (double)sz[i] / (double)p->in[axes[i]] : 1;
        keep = larger ? fmin(keep, s) : fmax(keep, s);
    }
    for (int d = 0; d < p->rank; d++) {
        p->out[d] = p->in[d];
        p->len_out[d] = (double)p->in[d];
    }
    for (int i = 0; i < n_axes; i++) {
        int d = axes[i];
        if (larger || smaller) {
            p->scale[d] = keep;
            p->out[d] = (int64_t)round(keep * (double)p->in[d]);
            p->len_out[d] = keep * (double)p->in[d];
        } else {
            p->out[d] = sz[i];
            p->scale[d] = p->in[d] ? (double)sz[i] / (double)p->in[d] : 1;
            p->len_out[d] = (double)sz[i];
        }
    }
    return NNL_OK;
}

static nnl_status rs_setup(const nnl_op_call *c, rs_plan *p) {
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const ctms[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                       "asymmetric", "tf_half_pixel_for_nearest",
                                       "tf_crop_and_resize", "half_pixel_symmetric"};
    static const char *const nmodes[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                         "ceil"};
    const bool upsample = strcmp(c->op, "Upsample") == 0;
    const bool legacy = upsample || c->opset < 11; /* X, scales; asymmetric */
    const nnl_tensor *x = c->in[0];
    memset(p, 0, sizeof *p);
    p->rank = x->rank;
    memcpy(p->in, x->dims, sizeof p->in);
    const char *mode = nnl_attr_str(c, "mode", "nearest");
    p->mode = str_index(mode, modes, 3);
    if (legacy && strcmp(mode, "bilinear") == 0) p->mode = M_LINEAR;
    if (p->mode < 0 || (legacy && p->mode == M_CUBIC))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "mode '%s' is not supported", mode);
    p->taps = p->mode == M_NEAREST ? 1 : p->mode == M_LINEAR ? 2 : 4;
    if (legacy) {
        p->ctm = C_ASYMMETRIC;
        p->nearest = N_SIMPLE;
    } else {
        const char *ctm = nnl_attr_str(c, "coordinate_transformation_mode", "half_pixel");
        const char *nm = nnl_attr_str(c, "nearest_mode", "round_prefer_floor");
        p->ctm = str_index(ctm, ctms, 7);
        if (p->ctm < 0)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s' is "
                               "not supported", ctm);
        p->nearest = str_index(nm, nmodes, 4);
        if (p->nearest < 0)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "nearest_mode '%s' is not supported", nm);
        p->cubic_a = nnl_attr_float(c, "cubic_coeff_a", -0.75f);
        p->exclude_outside = nnl_attr_int(c, "exclude_outside", 0) != 0;
        p->extrapolation = nnl_attr_float(c, "extrapolation_value", 0.0f);
        if (nnl_attr_int(c, "antialias", 0) != 0)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "antialias is not supported");
    }

    /* Axes the scales / sizes / roi refer to (opset 18 axes, else all). */
    int axes[NNL_MAX_RANK], n_axes = p->rank;
    bool seen[NNL_MAX_RANK] = {false};
    const nnl_attr *axes_a = nnl_attr_get(c, "axes");
    if (axes_a && !legacy) {
        if (axes_a->type != NNL_ATTR_INTS || axes_a->n > p->rank)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "bad axes");
        n_axes = axes_a->n;
        for (int i = 0; i < n_axes; i++) {
            nnl_status st = nnl_op_axis(c, axes_a->ints[i], p->rank, "axis", &axes[i]);
            if (st) return st;
            if (seen[axes[i]]) return nnl_op_fail(c, NNL_ERR_SHAPE, "axis repeated");
            seen[axes[i]] = true;
        }
    } else {
        for (int i = 0; i < n_axes; i++) axes[i] = i;
    }

    const nnl_tensor *roi = NULL, *scales = NULL, *sizes = NULL;
    if (legacy) {
        scales = c->n_in > 1 ? c->in[1] : NULL;
    } else {
        roi = c->n_in > 1 ? c->in[1] : NULL;
        scales = c->n_in > 2 ? c->in[2] : NULL;
        sizes = c->n_in > 3 ? c->in[3] : NULL;
    }
    /* An empty tensor stands for an omitted input (opset 11 requires the
     * scales input even when sizes are given). */
    if (scales && nnl_tensor_numel(scales) == 0) scales = NULL;
    if (sizes && nnl_tensor_numel(sizes) == 0) sizes = NULL;
    if (roi && nnl_tensor_numel(roi) == 0) roi = NULL;

    double sc[NNL_MAX_RANK];
    nnl_status st;
    for (int d = 0; d < p->rank; d++) {
        p->scale[d] = 1;
        p->roi_lo[d] = 0;
        p->roi_hi[d] = 1;
    }
    if (roi && p->ctm == C_TF_CROP) {
        double r[2 * NNL_MAX_RANK];
        if (nnl_tensor_numel(roi) != 2 * n_axes)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "roi must have %d values", 2 * n_axes);
        if ((st = const_floats(c, roi, "roi", r, 2 * n_axes))) return st;
        for (int i = 0; i < n_axes; i++) {
            p->roi_lo[axes[i]] = r[i];
            p->roi_hi[axes[i]] = r[n_axes + i];
        }
    }
    if (upsample && c->opset < 9) {
        const nnl_attr *a = nnl_attr_get(c, "scales");
        if (!a || a->type != NNL_ATTR_FLOATS || a->n != p->rank)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "scales must list %d floats", p->rank);
        for (int d = 0; d < p->rank; d++) sc[d] = a->floats[d];
    } else {
        if (!!scales == !!sizes)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "exactly one of scales and sizes must be given");
        if (sizes) return rs_sizes(c, p, sizes, axes, n_axes);
        double v[NNL_MAX_RANK];
        if (nnl_tensor_numel(scales) != n_axes)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "scales must have %d values", n_axes);
        if ((st = const_floats(c, scales, "scales", v, n_axes))) return st;
        for (int d = 0; d < p->rank; d++) sc[d] = 1;
        for (int i = 0; i < n_axes; i++) sc[axes[i]] = v[i];
    }
    for (int d = 0; d < p->rank; d++) {
        if (!(sc[d] > 0) || !isfinite(sc[d]))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "scales must be positive");
        p->scale[d] = sc[d];
        double len = (double)p->in[d] * (p->ctm == C_TF_CROP ? p->roi_hi[d] - p->roi_lo[d] : 1);
        double o = floor(len * sc[d]);
        if (o < 0 || o > (double)INT64_MAX / 2)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output dim %d out of range", d);
        p->out[d] = (int64_t)o;
        p->len_out[d] = (double)p->in[d] * sc[d];
    }
    return NNL_OK;
}

/* ---- tap tables -------------------------------------------------------------------- */

static double rs_coord(const rs_plan *p, int d, int64_t xo) {
    const double x = (double)xo, s = p->scale[d];
    const double L = (double)p->in[d], O = p->len_out[d];
    switch (p->ctm) {
    case C_PYTORCH_HALF_PIXEL: return O > 1 ? (x + 0.5) / s - 0.5 : 0;
    case C_ALIGN_CORNERS: return O == 1 ? 0 : x * (L - 1) / (O - 1);
    case C_ASYMMETRIC: return x / s;
    case C_TF_HALF_PIXEL: return (x + 0.5) / s;
    case C_TF_CROP: {
        const double lo = p->roi_lo[d], hi = p->roi_hi[d];
        return O > 1 ? lo * (L - 1) + x * (hi - lo) * (L - 1) / (O - 1) : 0.5 * (lo + hi) * (L - 1);
    }
    case C_HALF_PIXEL_SYM: {
        const double adj = (double)p->out[d] / O, off = L / 2 * (1 - adj);
        return off + (x + 0.5) / s - 0.5;
    }
    default: return (x + 0.5) / s - 0.5;
    }
}

static void cubic_weights(double t, double a, double *w) {
    const double d[4] = {1 + t, t, 1 - t, 2 - t};
    for (int i = 0; i < 4; i++) {
        const double z = d[i];
        w[i] = z <= 1 ? ((a + 2) * z - (a + 3)) * z * z + 1
                      : ((a * z - 5 * a) * z + 8 * a) * z - 4 * a;
    }
}

static int64_t clamp_i(int64_t v, int64_t n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

/* Fills axis d's table (out[d] * taps entries). */
static void rs_axis_fill(const rs_plan *p, int d, rs_axis *ax) {
    const int64_t L = p->in[d], T = p->taps;
    for (int64_t xo = 0; xo < p->out[d]; xo++) {
        int64_t *idx = ax->idx + xo * T;
        float *w = ax->w + xo * T;
        double x = rs_coord(p, d, xo);
        if (p->ctm == C_TF_CROP && (x < 0 || x > (double)(L - 1))) {
            for (int t = 0; t < T; t++) {
                idx[t] = -1;
                w[t] = t == 0 ? 1.0f : 0.0f;
            }
            continue;
        }
        if (p->mode == M_NEAREST) {
            double r;
            switch (p->nearest) {
            case N_ROUND_CEIL: r = floor(x + 0.5); break;
            case N_FLOOR: r = floor(x); break;
            case N_CEIL: r = ceil(x); break;
            case N_SIMPLE: r = p->scale[d] < 1 ? ceil(x) : floor(x); break;
            default: r = ceil(x - 0.5); break;
            }
            idx[0] = clamp_i(r < -1 ? -1 : r > (double)L ? L : (int64_t)r, L);
            w[0] = 1;
        } else if (p->mode == M_LINEAR) {
            x = x < 0 ? 0 : x > (double)(L - 1) ? (double)(L - 1) : x;
            int64_t i0 = (int64_t)floor(x);
            double f = x - (double)i0;
            idx[0] = clamp_i(i0, L);
            idx[1] = clamp_i(i0 + 1, L);
            w[0] = (float)(1 - f);
            w[1] = (float)f;
        } else {
            double fl = floor(x), cw[4], sum = 0;
            cubic_weights(x - fl, p->cubic_a, cw);
            /* Coordinates far outside (extreme downsampling) only need
             * clamping; keep the arithmetic in range. */
            if (fl < -4) fl = -4;
            if (fl > (double)L + 4) fl = (double)L + 4;
            for (int t = 0; t < 4; t++) {
                int64_t i = (int64_t)fl - 1 + t;
                if (p->exclude_outside && (i < 0 || i >= L)) cw[t] = 0;
                sum += cw[t];
                idx[t] = clamp_i(i, L);
            }
            for (int t = 0; t < 4; t++)
                w[t] = (float)(p->exclude_outside && sum != 0 ? cw[t] / sum : cw[t]);
        }
    }
}

/* Whether axis d's table maps every index to itself. */
static bool rs_axis_identity(const rs_plan *p, int d, const rs_axis *ax) {
    if (p->in[d] != p->out[d]) return false;
    for (int64_t xo = 0; xo < p->out[d]; xo++)
        for (int t = 0; t < p->taps; t++) {
            int64_t i = ax->idx[xo * p->taps + t];
            float w = ax->w[xo * p->taps + t];
            if (i < 0 || (i == xo ? (t == 0 ? w != 1 : w != 0 && ax->idx[xo * p->taps] != xo)
                                  : w != 0))
                return false;
        }
    return true;
}

/* Scratch layout: the tap tables of all axes, then two ping-pong buffers
 * for the tensors between passes.  Computed identically by infer (to size
 * it) and exec (to use it). */
typedef struct rs_layout {
    rs_axis axes[NNL_MAX_RANK];
    bool active[NNL_MAX_RANK];
    int n_active;
    size_t tables_bytes, buf_elems;
} rs_layout;

static size_t al64(size_t n) { return (n + 63) & ~(size_t)63; }

static size_t rs_table_bytes(const rs_plan *p) {
    size_t b = 0;
    for (int d = 0; d < p->rank; d++) {
        const size_t n = (size_t)p->out[d] * p->taps;
        b += al64(n * sizeof(int64_t)) + al64(n * sizeof(float));
    }
    return b;
}

static void rs_layout_build(const rs_plan *p, void *tables, rs_layout *lay) {
    char *q = tables;
    lay->n_active = 0;
    for (int d = 0; d < p->rank; d++) {
        const size_t n = (size_t)p->out[d] * p->taps;
        lay->axes[d].idx = (int64_t *)q;
        q += al64(n * sizeof(int64_t));
        lay->axes[d].w = (float *)q;
        q += al64(n * sizeof(float));
        rs_axis_fill(p, d, &lay->axes[d]);
        lay->active[d] = !rs_axis_identity(p, d, &lay->axes[d]);
        lay->n_active += lay->active[d];
    }
    lay->tables_bytes = rs_table_bytes(p);
    /* Tensors between passes: shape after each pass but the last. */
    int64_t cur[NNL_MAX_RANK];
    memcpy(cur, p->in, sizeof cur);
    int done = 0;
    lay->buf_elems = 0;
    for (int d = p->rank - 1; d >= 0; d--) {
        if (!lay->active[d]) continue;
        cur[d] = p->out[d];
        if (++done == lay->n_active) break;
        size_t n = (size_t)nnl_op_prod(cur, 0, p->rank);
        if (n > lay->buf_elems) lay->buf_elems = n;
    }
}

/* ---- infer / exec ------------------------------------------------------------------- */

nnl_status nnl_image_resize_infer(nnl_op_call *c, nnl_infer_result *r) {
    const bool upsample = strcmp(c->op, "Upsample") == 0;
    nnl_status st = rs_attrs(c, upsample);
    if (st) return st;
    int max_in = upsample ? (c->opset < 9 ? 1 : 2) : c->opset < 11 ? 2 : 4;
    if ((st = nnl_op_check_io(c, upsample && c->opset < 9 ? 1 : 2, max_in, 1, 1, NNL_OP_ANY)) ||
        (st = nnl_op_check_inputs(c)))
        return st;
    const nnl_tensor *x = c->in[0];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported (float32 only)",
                           nnl_dtype_name(x->dtype));
    rs_plan p;
    if ((st = rs_setup(c, &p))) return st;
    for (int d = 0; d < p.rank; d++) {
        /* Bounds the tap tables' size arithmetic as well. */
        if (p.out[d] > (int64_t)NNL_MAX_ELEMS)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "output dim %d (%lld) is too large", d,
                               (long long)p.out[d]);
        if (p.in[d] == 0 && p.out[d] > 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot resize an empty dim %d to %lld", d,
                               (long long)p.out[d]);
    }
    nnl_tensor *y = c->out[0];
    if ((st = nnl_op_set_out(c, y, NNL_DT_FLOAT, p.rank, p.out))) return st;
    /* Build the tables once here to learn which axes need a pass. */
    size_t tb = rs_table_bytes(&p);
    /* the tables grow with the output dims, which come from the file */
    if (tb > ((size_t)1 << 30) || nnl_op_prod(p.out, 0, p.rank) > ((int64_t)1 << 36))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "output of %lld elements is too large",
                           (long long)nnl_op_prod(p.out, 0, p.rank));
    void *tables = nnl_malloc(tb ? tb : 1);
    if (!tables) return nnl_op_fail(c, NNL_ERR_NOMEM, "out of memory");
    rs_layout lay;
    rs_layout_build(&p, tables, &lay);
    nnl_free(tables);
    r->scratch_bytes = lay.tables_bytes + 2 * al64(lay.buf_elems * sizeof(float));
    r->flops = (double)nnl_tensor_numel(y) * p.taps * (lay.n_active ? lay.n_active : 1);
    return NNL_OK;
}

typedef struct rs_pass {
    const float *src;
    float *dst;
    int64_t L, O, inner;
    int T;
    const rs_axis *ax;
    float extrap;
} rs_pass;

/* Items are (outer, output index) pairs: one output row of `inner`. */
static void rs_pass_rows(void *ctx, int64_t b, int64_t e, int thread) {
    const rs_pass *q = ctx;
    (void)thread;
    const int64_t inner = q->inner, T = q->T;
    for (int64_t it = b; it < e; it++) {
        const int64_t o = it / q->O, xo = it % q->O;
        const float *src = q->src + o * q->L * inner;
        float *dst = q->dst + it * inner;
        const int64_t *idx = q->ax->idx + xo * T;
        const float *w = q->ax->w + xo * T;
        if (idx[0] < 0) {
            for (int64_t i = 0; i < inner; i++) dst[i] = q->extrap;
        } else if (T == 1) {
            memcpy(dst, src + idx[0] * inner, (size_t)inner * sizeof(float));
        } else {
            /* Blocks of 8 via locals: the loop shape GCC -O2 vectorises. */
            const float *r[4];
            float wt[4] = {0, 0, 0, 0};
            for (int64_t t = 0; t < 4; t++) {
                r[t] = src + idx[t < T ? t : 0] * inner;
                wt[t] = t < T ? w[t] : 0.0f;
            }
            int64_t i = 0;
            if (T == 2) {
                for (; i + 8 <= inner; i += 8) {
                    float a[8], b[8], o[8];
                    for (int k = 0; k < 8; k++) {
                        a[k] = r[0][i + k];
                        b[k] = r[1][i + k];
                    }
                    for (int k = 0; k < 8; k++) o[k] = wt[0] * a[k] + wt[1] * b[k];
                    for (int k = 0; k < 8; k++) dst[i + k] = o[k];
                }
            }
            for (; i < inner; i++)
                dst[i] = wt[0] * r[0][i] + wt[1] * r[1][i] + wt[2] * r[2][i] + wt[3] * r[3][i];
        }
    }
}

/* Innermost axis: items are input rows, each output element a gather. */
static void rs_pass_gather(void *ctx, int64_t b, int64_t e, int thread) {
    const rs_pass *q = ctx;
    (void)thread;
    const int64_t T = q->T, O = q->O;
    const int64_t *idx = q->ax->idx;
    const float *w = q->ax->w;
    for (int64_t o = b; o < e; o++) {
        const float *src = q->src + o * q->L;
        float *dst = q->dst + o * O;
        if (T == 1) {
            for (int64_t xo = 0; xo < O; xo++) dst[xo] = idx[xo] < 0 ? q->extrap : src[idx[xo]];
        } else {
            for (int64_t xo = 0; xo < O; xo++) {
                const int64_t *ix = idx + xo * T;
                const float *wx = w + xo * T;
                if (ix[0] < 0) {
                    dst[xo] = q->extrap;
                    continue;
                }
                float acc = 0;
                for (int64_t t = 0; t < T; t++) acc += wx[t] * src[ix[t]];
                dst[xo] = acc;
            }
        }
    }
}

nnl_status nnl_image_resize_exec(const nnl_op_call *c) {
    rs_plan p;
    nnl_status st = rs_setup(c, &p);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    nnl_tensor *y = c->out[0];
    if (nnl_tensor_numel(y) == 0) return NNL_OK;
    rs_layout lay;
    rs_layout_build(&p, c->scratch, &lay);
    if (lay.n_active == 0) {
        memcpy(y->data, x->data, nnl_tensor_nbytes(y));
        return NNL_OK;
    }
    float *bufs[2];
    bufs[0] = (float *)((char *)c->scratch + lay.tables_bytes);
    bufs[1] = bufs[0] + al64(lay.buf_elems * sizeof(float)) / sizeof(float);
    int64_t cur[NNL_MAX_RANK];
    memcpy(cur, p.in, sizeof cur);
    const float *src = x->data;
    int done = 0;
    for (int d = p.rank - 1; d >= 0; d--) {
        if (!lay.active[d]) continue;
        rs_pass q = {.src = src, .L = p.in[d], .O = p.out[d], .T = p.taps, .ax = &lay.axes[d],
                     .extrap = p.extrapolation};
        q.inner = nnl_op_prod(cur, d + 1, p.rank);
        const int64_t outer = nnl_op_prod(cur, 0, d);
        cur[d] = p.out[d];
        q.dst = ++done == lay.n_active ? (float *)y->data : bufs[done & 1];
        if (outer * q.O * q.inner > 0) {
            if (q.inner == 1)
                nnl_op_parallel(c->pool, outer, q.O >= 4096 ? 1 : 4096 / q.O, rs_pass_gather, &q);
            else
                nnl_op_parallel(c->pool, outer * q.O, q.inner >= 8192 ? 1 : 8192 / q.inner,
                                rs_pass_rows, &q);
        }
        src = q.dst;
    }
    return NNL_OK;
}
