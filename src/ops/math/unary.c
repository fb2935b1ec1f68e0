/*
 * Elementwise unary ops (activations, math functions, tests) and Clip.
 *
 * Float kernels are written once as an expression over a value v of type T
 * and instantiated for float and double; <tgmath.h> makes exp(v) mean expf
 * for float, so the float kernels never detour through double.
 */
#include <string.h>
#include <tgmath.h>

#include "kernels/gemm.h"
#include "ops/math/math_ops.h"

typedef struct un_params {
    double alpha, beta;                /* per-op, see the table */
} un_params;

typedef void (*un_kernel)(const void *x, void *y, int64_t n, const un_params *p);

enum { U_F32, U_F64, U_I8, U_I16, U_I32, U_I64, U_BOOL, U_N };

static int uindex(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: return U_F32;
    case NNL_DT_DOUBLE: return U_F64;
    case NNL_DT_INT8: return U_I8;
    case NNL_DT_INT16: return U_I16;
    case NNL_DT_INT32: return U_I32;
    case NNL_DT_INT64: return U_I64;
    case NNL_DT_BOOL: return U_BOOL;
    default: return -1;
    }
}

/* TX in, TY out; EXPR sees v (the input), T (= TX), alpha and beta.
 * Blocks of 8 loaded into locals first: the loop shape GCC's -O2 cost
 * model vectorises (see binary.c). */
#define KERNEL(name, TX, TY, EXPR)                                               \
    static void name(const void *px, void *py, int64_t n, const un_params *p) { \
        typedef TX T;                                                            \
        const T *x = px;                                                         \
        TY *y = py;                                                              \
        const T alpha = (T)p->alpha, beta = (T)p->beta;                          \
        (void)alpha;                                                             \
        (void)beta;                                                              \
        int64_t i = 0;                                                           \
        for (; i + 8 <= n; i += 8) {                                             \
            T xb[8];                                                             \
            TY yb[8];                                                            \
            for (int k = 0; k < 8; k++) xb[k] = x[i + k];                        \
            for (int k = 0; k < 8; k++) {                                        \
                const T v = xb[k];                                               \
                yb[k] = (TY)(EXPR);                                              \
            }                                                                    \
            for (int k = 0; k < 8; k++) y[i + k] = yb[k];                        \
        }                                                                        \
        for (; i < n; i++) {                                                     \
            const T v = x[i];                                                    \
            y[i] = (TY)(EXPR);                                                   \
        }                                                                        \
    }
#define FLOAT_K(name, EXPR)                      \
    KERNEL(u_##name##_f32, float, float, EXPR)   \
    KERNEL(u_##name##_f64, double, double, EXPR)
#define INT_K(name, EXPR)                          \
    KERNEL(u_##name##_i8, int8_t, int8_t, EXPR)    \
    KERNEL(u_##name##_i16, int16_t, int16_t, EXPR) \
    KERNEL(u_##name##_i32, int32_t, int32_t, EXPR) \
    KERNEL(u_##name##_i64, int64_t, int64_t, EXPR)

/* Numerically stable log(1 + exp(v)). */
#define SOFTPLUS(v) ((v) > 0 ? (v) + log1p(exp(-(v))) : log1p(exp(v)))

FLOAT_K(relu, v > 0 ? v : (T)0)
FLOAT_K(leakyrelu, v < 0 ? alpha * v : v)
FLOAT_K(elu, v < 0 ? alpha * expm1(v) : v)
FLOAT_K(selu, v <= 0 ? beta * alpha * expm1(v) : beta * v)
FLOAT_K(celu, (v > 0 ? v : (T)0) + (v < 0 ? alpha * expm1(v / alpha) : (T)0))
KERNEL(u_sigmoid_f64, double, double, 1 / (1 + exp(-v)))
/* Clamp to [0, 1], keeping NaN: fmax/fmin would be library calls, and
 * two clamps in sequence on one variable are what GCC turns into min/max. */
static inline float unit_f(float z) {
    z = z < 0.0f ? 0.0f : z;
    return z > 1.0f ? 1.0f : z;
}
static inline double unit_d(double z) {
    z = z < 0.0 ? 0.0 : z;
    return z > 1.0 ? 1.0 : z;
}
#define UNIT(z) _Generic((z), float: unit_f, default: unit_d)(z)
FLOAT_K(hardsigmoid, UNIT(alpha * v + beta))
FLOAT_K(hardswish, v * UNIT(v * (T)(1.0 / 6) + (T)0.5))
FLOAT_K(tanh, tanh(v))
FLOAT_K(exp, exp(v))
FLOAT_K(log, log(v))
FLOAT_K(neg, -v)
FLOAT_K(abs, fabs(v))
FLOAT_K(sqrt, sqrt(v))
FLOAT_K(reciprocal, (T)1 / v)
KERNEL(u_erf_f64, double, double, erf(v))
/* float32 Erf (GELU as PyTorch exports it) through the kernel set's vector
 * erf (kernels/vmath.h, within 2 ulp): libm's erf per element was a
 * quarter of a GPT prefill step. */
static void u_erf_f32(const void *px, void *py, int64_t n, const un_params *p) {
    (void)p;
    (nnl_kernel_get()->erf)(py, px, n);   /* parenthesised: tgmath.h makes erf a macro */
}
FLOAT_K(floor, floor(v))
FLOAT_K(ceil, ceil(v))
FLOAT_K(round, nearbyint(v)) /* default rounding mode: half to even */
FLOAT_K(sign, v > 0 ? (T)1 : v < 0 ? (T)-1 : v)
FLOAT_K(sin, sin(v))
FLOAT_K(cos, cos(v))
FLOAT_K(tan, tan(v))
FLOAT_K(asin, asin(v))
FLOAT_K(acos, acos(v))
FLOAT_K(atan, atan(v))
FLOAT_K(sinh, sinh(v))
FLOAT_K(cosh, cosh(v))
FLOAT_K(asinh, asinh(v))
FLOAT_K(acosh, acosh(v))
FLOAT_K(atanh, atanh(v))
FLOAT_K(softplus, SOFTPLUS(v))
FLOAT_K(softsign, v / ((T)1 + fabs(v)))
FLOAT_K(gelu, (T)0.5 * v * ((T)1 + erf(v * (T)0.70710678118654752440)))
FLOAT_K(gelu_tanh, (T)0.5 * v * ((T)1 + tanh((T)0.79788456080286535588 *
                                               (v + (T)0.044715 * v * v * v))))
FLOAT_K(mish, v * tanh(SOFTPLUS(v)))
FLOAT_K(thresholdedrelu, v > alpha ? v : (T)0)
FLOAT_K(shrink, v < -alpha ? v + beta : v > alpha ? v - beta : (T)0)

INT_K(relu, v > 0 ? v : 0)
/* Negation through uint64_t wraps INT_MIN to itself instead of overflowing. */
INT_K(abs, v < 0 ? (T)(0 - (uint64_t)v) : v)
INT_K(neg, (T)(0 - (uint64_t)v))
INT_K(sign, (v > 0) - (v < 0))

/* Sigmoid (SiLU's half) in float through the kernel set's vector sigmoid
 * (kernels/vmath.h): the baseline-ISA exp here cost ~50 instructions an
 * element, a quarter of EfficientNet-B0's run. */
static void u_sigmoid_f32(const void *px, void *py, int64_t n, const un_params *p) {
    (void)p;
    nnl_kernel_get()->sigmoid(py, px, n);
}

/* alpha/beta select which infinities IsInf reports. */
KERNEL(u_isnan_f32, float, uint8_t, isnan(v))
KERNEL(u_isnan_f64, double, uint8_t, isnan(v))
KERNEL(u_isinf_f32, float, uint8_t, (v == INFINITY && beta != 0) || (v == -INFINITY && alpha != 0))
KERNEL(u_isinf_f64, double, uint8_t, (v == INFINITY && beta != 0) || (v == -INFINITY && alpha != 0))
KERNEL(u_not_b, uint8_t, uint8_t, v == 0)

/* ---- op table ------------------------------------------------------------ */

typedef struct un_op {
    const char *name;
    const char *a_name, *b_name;       /* attributes read into alpha / beta */
    double a_def, b_def;
    bool to_bool;
    un_kernel k[U_N];
} un_op;

#define FLOATS(n) {u_##n##_f32, u_##n##_f64}
#define ALL_SIGNED(n) {u_##n##_f32, u_##n##_f64, u_##n##_i8, u_##n##_i16, u_##n##_i32, u_##n##_i64}

enum { GELU_TANH = 1 };

static const un_op un_ops[] = {
    {"Gelu", "approximate", NULL, 0, 0, false, FLOATS(gelu)},
    [GELU_TANH] = {"Gelu", "approximate", NULL, 0, 0, false, FLOATS(gelu_tanh)},
    {"Relu", NULL, NULL, 0, 0, false, ALL_SIGNED(relu)},
    {"LeakyRelu", "alpha", NULL, 0.01, 0, false, FLOATS(leakyrelu)},
    {"Elu", "alpha", NULL, 1.0, 0, false, FLOATS(elu)},
    {"Selu", "alpha", "gamma", 1.67326319217681884765625, 1.05070102214813232421875, false,
     FLOATS(selu)},
    {"Celu", "alpha", NULL, 1.0, 0, false, FLOATS(celu)},
    {"Sigmoid", NULL, NULL, 0, 0, false, FLOATS(sigmoid)},
    {"HardSigmoid", "alpha", "beta", 0.2, 0.5, false, FLOATS(hardsigmoid)},
    {"HardSwish", NULL, NULL, 0, 0, false, FLOATS(hardswish)},
    {"Tanh", NULL, NULL, 0, 0, false, FLOATS(tanh)},
    {"Exp", NULL, NULL, 0, 0, false, FLOATS(exp)},
    {"Log", NULL, NULL, 0, 0, false, FLOATS(log)},
    {"Neg", NULL, NULL, 0, 0, false, ALL_SIGNED(neg)},
    {"Abs", NULL, NULL, 0, 0, false, ALL_SIGNED(abs)},
    {"Sqrt", NULL, NULL, 0, 0, false, FLOATS(sqrt)},
    {"Reciprocal", NULL, NULL, 0, 0, false, FLOATS(reciprocal)},
    {"Erf", NULL, NULL, 0, 0, false, FLOATS(erf)},
    {"Floor", NULL, NULL, 0, 0, false, FLOATS(floor)},
    {"Ceil", NULL, NULL, 0, 0, false, FLOATS(ceil)},
    {"Round", NULL, NULL, 0, 0, false, FLOATS(round)},
    {"Sign", NULL, NULL, 0, 0, false, ALL_SIGNED(sign)},
    {"Sin", NULL, NULL, 0, 0, false, FLOATS(sin)},
    {"Cos", NULL, NULL, 0, 0, false, FLOATS(cos)},
    {"Tan", NULL, NULL, 0, 0, false, FLOATS(tan)},
    {"Asin", NULL, NULL, 0, 0, false, FLOATS(asin)},
    {"Acos", NULL, NULL, 0, 0, false, FLOATS(acos)},
    {"Atan", NULL, NULL, 0, 0, false, FLOATS(atan)},
    {"Sinh", NULL, NULL, 0, 0, false, FLOATS(sinh)},
    {"Cosh", NULL, NULL, 0, 0, false, FLOATS(cosh)},
    {"Asinh", NULL, NULL, 0, 0, false, FLOATS(asinh)},
    {"Acosh", NULL, NULL, 0, 0, false, FLOATS(acosh)},
    {"Atanh", NULL, NULL, 0, 0, false, FLOATS(atanh)},
    {"Softplus", NULL, NULL, 0, 0, false, FLOATS(softplus)},
    {"Softsign", NULL, NULL, 0, 0, false, FLOATS(softsign)},
    {"Mish", NULL, NULL, 0, 0, false, FLOATS(mish)},
    {"ThresholdedRelu", "alpha", NULL, 1.0, 0, false, FLOATS(thresholdedrelu)},
    {"Shrink", "lambd", "bias", 0.5, 0.0, false, FLOATS(shrink)},
    {"IsNaN", NULL, NULL, 0, 0, true, FLOATS(isnan)},
    {"IsInf", "detect_negative", "detect_positive", 1, 1, true, FLOATS(isinf)},
    {"Not", NULL, NULL, 0, 0, false, {[U_BOOL] = u_not_b}},
};
#define N_UN_OPS ((int)(sizeof un_ops / sizeof *un_ops))

static const un_op *un_find(const nnl_op_call *c) {
    for (int i = 0; i < N_UN_OPS; i++) {
        if (strcmp(un_ops[i].name, c->op) != 0) continue;
        if (i == 0 && strcmp(nnl_attr_str(c, "approximate", "none"), "tanh") == 0)
            return &un_ops[GELU_TANH];
        return &un_ops[i];
    }
    return NULL;
}

/* An attribute that may be stored as int or float (IsInf's flags are
 * ints, everything else floats). */
static double attr_num(const nnl_op_call *c, const char *name, double def) {
    const nnl_attr *a = name ? nnl_attr_get(c, name) : NULL;
    if (!a) return def;
    if (a->type == NNL_ATTR_INT) return (double)a->i;
    if (a->type == NNL_ATTR_FLOAT) return a->f;
    return def;
}

nnl_status nnl_math_unary_infer(nnl_op_call *c, nnl_infer_result *r) {
    const un_op *op = un_find(c);
    if (!op) return nnl_op_fail(c, NNL_ERR_INTERNAL, "not a unary op");
    const char *known[] = {op->a_name, op->b_name, NULL};
    if (!op->a_name) known[0] = NULL;
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    if (strcmp(op->name, "Gelu") == 0) {
        const char *ap = nnl_attr_str(c, "approximate", "none");
        if (strcmp(ap, "none") != 0 && strcmp(ap, "tanh") != 0)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "approximate '%s' is not supported", ap);
    }
    const nnl_tensor *x = c->in[0];
    int t = uindex(x->dtype);
    if (t < 0 || !op->k[t])
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported",
                           nnl_dtype_name(x->dtype));
    if ((st = nnl_op_set_like(c, c->out[0], x, op->to_bool ? NNL_DT_BOOL : x->dtype))) return st;
    r->flops = (double)nnl_tensor_numel(x);
    return NNL_OK;
}

typedef struct un_job {
    un_kernel k;
    un_params p;
    const char *x;
    char *y;
    size_t ex, ey;
} un_job;

static void un_range(void *ctx, int64_t b, int64_t e, int thread) {
    const un_job *j = ctx;
    (void)thread;
    j->k(j->x + b * j->ex, j->y + b * j->ey, e - b, &j->p);
}

nnl_status nnl_math_unary_exec(const nnl_op_call *c) {
    const un_op *op = un_find(c);
    const nnl_tensor *x = c->in[0];
    int t = uindex(x->dtype);
    if (!op || t < 0 || !op->k[t]) return nnl_op_fail(c, NNL_ERR_INTERNAL, "no kernel");
    un_job j = {op->k[t],
                {attr_num(c, op->a_name, op->a_def), attr_num(c, op->b_name, op->b_def)},
                x->data, c->out[0]->data, nnl_dtype_size(x->dtype),
                nnl_dtype_size(c->out[0]->dtype)};
    nnl_op_parallel(c->pool, nnl_tensor_numel(x), 1 << 14, un_range, &j);
    return NNL_OK;
}

/* ---- Clip ------------------------------------------------------------------ */

/* Bounds are kept as double, which holds every bound of the types below
 * except int64/uint64 beyond 2^53; the integer kernels convert back with
 * saturation so such a bound still clamps to the type's range. */
typedef void (*clip_kernel)(const void *x, void *y, int64_t n, double lo, double hi);

#define CLIP_K(s, T, TMIN, TMAX)                                                     \
    static void clip_##s(const void *px, void *py, int64_t n, double dlo, double dhi) { \
        const T *x = px;                                                             \
        T *y = py;                                                                   \
        const T lo = dlo <= (double)(TMIN) ? (TMIN) : (T)dlo;                        \
        const T hi = dhi >= (double)(TMAX) ? (TMAX) : (T)dhi;                        \
        int64_t i = 0;                                                               \
        for (; i + 8 <= n; i += 8) {                                                 \
            T b[8];                                                                  \
            for (int k = 0; k < 8; k++) b[k] = x[i + k];                             \
            for (int k = 0; k < 8; k++) {                                            \
                b[k] = b[k] < lo ? lo : b[k];                                        \
                b[k] = b[k] > hi ? hi : b[k];                                        \
            }                                                                        \
            for (int k = 0; k < 8; k++) y[i + k] = b[k];                             \
        }                                                                            \
        for (; i < n; i++) {                                                         \
            T v = x[i];                                                              \
            v = v < lo ? lo : v;                                                     \
            y[i] = v > hi ? hi : v;                                                  \
        }                                                                            \
    }
CLIP_K(f32, float, -INFINITY, INFINITY)
CLIP_K(f64, double, -INFINITY, INFINITY)
CLIP_K(i8, int8_t, INT8_MIN, INT8_MAX)
CLIP_K(u8, uint8_t, 0, UINT8_MAX)
CLIP_K(i16, int16_t, INT16_MIN, INT16_MAX)
CLIP_K(u16, uint16_t, 0, UINT16_MAX)
CLIP_K(i32, int32_t, INT32_MIN, INT32_MAX)
CLIP_K(u32, uint32_t, 0, UINT32_MAX)
CLIP_K(i64, int64_t, INT64_MIN, INT64_MAX)
CLIP_K(u64, uint64_t, 0, UINT64_MAX)

static clip_kernel clip_find(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: return clip_f32;
    case NNL_DT_DOUBLE: return clip_f64;
    case NNL_DT_INT8: return clip_i8;
    case NNL_DT_UINT8: return clip_u8;
    case NNL_DT_INT16: return clip_i16;
    case NNL_DT_UINT16: return clip_u16;
    case NNL_DT_INT32: return clip_i32;
    case NNL_DT_UINT32: return clip_u32;
    case NNL_DT_INT64: return clip_i64;
    case NNL_DT_UINT64: return clip_u64;
    default: return NULL;
    }
}

/* Bound from optional input i (opset >= 11) or attribute (before). */
static double clip_bound(const nnl_op_call *c, int i, const char *attr, double def) {
    if (c->opset < 11) return attr_num(c, attr, def);
    const nnl_tensor *t = i < c->n_in ? c->in[i] : NULL;
    return t && t->data ? nnl_math_load_d(t->data, 0, t->dtype) : def;
}

nnl_status nnl_math_clip_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const old_attrs[] = {"min", "max", NULL};
    static const char *const none[] = {NULL};
    nnl_status st = nnl_op_begin(c, c->opset < 11 ? old_attrs : none,
                                 1, c->opset < 11 ? 1 : 3, 1, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if (!clip_find(x->dtype))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported",
                           nnl_dtype_name(x->dtype));
    for (int i = 1; i < c->n_in; i++) {
        const nnl_tensor *b = c->in[i];
        if (!b) continue;
        if (b->dtype != x->dtype || nnl_tensor_numel(b) != 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "%s must be a one-element %s tensor",
                               i == 1 ? "min" : "max", nnl_dtype_name(x->dtype));
    }
    if ((st = nnl_op_set_like(c, c->out[0], x, x->dtype))) return st;
    r->flops = (double)nnl_tensor_numel(x);
    return NNL_OK;
}

typedef struct clip_job {
    clip_kernel k;
    double lo, hi;
    const char *x;
    char *y;
    size_t es;
} clip_job;

static void clip_range(void *ctx, int64_t b, int64_t e, int thread) {
    const clip_job *j = ctx;
    (void)thread;
    j->k(j->x + b * j->es, j->y + b * j->es, e - b, j->lo, j->hi);
}

nnl_status nnl_math_clip_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    clip_job j = {clip_find(x->dtype), clip_bound(c, 1, "min", -INFINITY),
                  clip_bound(c, 2, "max", INFINITY), x->data, c->out[0]->data,
                  nnl_dtype_size(x->dtype)};
    if (!j.k) return nnl_op_fail(c, NNL_ERR_INTERNAL, "no kernel");
    nnl_op_parallel(c->pool, nnl_tensor_numel(x), 1 << 15, clip_range, &j);
    return NNL_OK;
}
