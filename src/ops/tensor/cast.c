/*
 * Cast, CastLike and the element conversions other ops use.
 *
 * Rules (ONNX Cast): float -> int truncates toward zero; out-of-range
 * values, which ONNX leaves undefined, saturate to the target's range and
 * NaN becomes 0 (never C undefined behaviour).  int -> int keeps the low
 * bits (two's complement wrap, as numpy and PyTorch do).  Anything -> bool
 * is "!= 0" (NaN is true).  Conversions to float round to nearest even in
 * one step (float16 is rounded directly from the double, not via float).
 *
 * Values go through a small buffer of int64, uint64 or double, whichever
 * holds every value of the source type exactly.
 */
#include <math.h>
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

typedef enum wide_kind { W_I64, W_U64, W_F64 } wide_kind;

static wide_kind wide_of(nnl_dtype dt) {
    if (tn_is_float_type(dt)) return W_F64;
    return dt == NNL_DT_UINT64 ? W_U64 : W_I64;
}

#define TN_CHUNK 256

typedef union wide_buf {
    int64_t i[TN_CHUNK];
    uint64_t u[TN_CHUNK];
    double f[TN_CHUNK];
} wide_buf;

static void load(const void *p, nnl_dtype dt, wide_buf *w, int n) {
    switch (dt) {
#define LD(T, field)                                                   \
    for (int k = 0; k < n; k++) w->field[k] = ((const T *)p)[k];       \
    break;
    case NNL_DT_FLOAT: LD(float, f)
    case NNL_DT_DOUBLE: LD(double, f)
    case NNL_DT_INT8: LD(int8_t, i)
    case NNL_DT_INT16: LD(int16_t, i)
    case NNL_DT_INT32: LD(int32_t, i)
    case NNL_DT_INT64: LD(int64_t, i)
    case NNL_DT_UINT8: LD(uint8_t, i)
    case NNL_DT_UINT16: LD(uint16_t, i)
    case NNL_DT_UINT32: LD(uint32_t, i)
    case NNL_DT_UINT64: LD(uint64_t, u)
#undef LD
    case NNL_DT_BOOL:
        for (int k = 0; k < n; k++) w->i[k] = ((const uint8_t *)p)[k] != 0;
        break;
    case NNL_DT_FLOAT16:
        for (int k = 0; k < n; k++) w->f[k] = nnl_half_to_float(((const uint16_t *)p)[k]);
        break;
    default:
        memset(w, 0, sizeof *w);
        break;
    }
}

/* Truncate toward zero and clamp to [lo, hi]; NaN -> 0.  lo and hi are
 * exactly representable doubles for all targets up to 32 bits. */
static inline double trunc_clamp(double v, double lo, double hi) {
    if (v != v) return 0;
    v = trunc(v);
    return v < lo ? lo : v > hi ? hi : v;
}

static inline int64_t f2i64(double v) {
    if (v != v) return 0;
    if (v >= 9223372036854775808.0) return INT64_MAX;
    if (v < -9223372036854775808.0) return INT64_MIN;
    return (int64_t)v;
}

static inline uint64_t f2u64(double v) {
    if (v != v || v <= -1.0) return 0;
    if (v >= 18446744073709551616.0) return UINT64_MAX;
    return v < 0 ? 0 : (uint64_t)v;
}

static void store_f(const double *w, void *p, nnl_dtype dt, int n) {
    switch (dt) {
#define ST(T, expr)                                                    \
    for (int k = 0; k < n; k++) {                                      \
        double v = w[k];                                               \
        ((T *)p)[k] = (T)(expr);                                       \
    }                                                                  \
    break;
    case NNL_DT_FLOAT: ST(float, v)
    case NNL_DT_DOUBLE: ST(double, v)
    case NNL_DT_FLOAT16: ST(uint16_t, nnl_double_to_half(v))
    case NNL_DT_BOOL: ST(uint8_t, v != 0)
    case NNL_DT_INT8: ST(int8_t, trunc_clamp(v, -128.0, 127.0))
    case NNL_DT_INT16: ST(int16_t, trunc_clamp(v, -32768.0, 32767.0))
    case NNL_DT_INT32: ST(int32_t, trunc_clamp(v, -2147483648.0, 2147483647.0))
    case NNL_DT_INT64: ST(int64_t, f2i64(v))
    case NNL_DT_UINT8: ST(uint8_t, trunc_clamp(v, 0.0, 255.0))
    case NNL_DT_UINT16: ST(uint16_t, trunc_clamp(v, 0.0, 65535.0))
    case NNL_DT_UINT32: ST(uint32_t, trunc_clamp(v, 0.0, 4294967295.0))
    case NNL_DT_UINT64: ST(uint64_t, f2u64(v))
#undef ST
    default: break;
    }
}

/* Integer sources: narrower integer targets keep the low bits. */
#define STORE_INT(NAME, W)                                             \
    static void NAME(const W *w, void *p, nnl_dtype dt, int n) {       \
        switch (dt) {                                                  \
        case NNL_DT_FLOAT: ST(float, v)                                \
        case NNL_DT_DOUBLE: ST(double, v)                              \
        case NNL_DT_FLOAT16: ST(uint16_t, nnl_double_to_half((double)v)) \
        case NNL_DT_BOOL: ST(uint8_t, v != 0)                          \
        case NNL_DT_INT8: ST(int8_t, (uint8_t)v)                       \
        case NNL_DT_INT16: ST(int16_t, (uint16_t)v)                    \
        case NNL_DT_INT32: ST(int32_t, (uint32_t)v)                    \
        case NNL_DT_INT64: ST(int64_t, v)                              \
        case NNL_DT_UINT8: ST(uint8_t, v)                              \
        case NNL_DT_UINT16: ST(uint16_t, v)                            \
        case NNL_DT_UINT32: ST(uint32_t, v)                            \
        case NNL_DT_UINT64: ST(uint64_t, v)                            \
        default: break;                                                \
        }                                                              \
    }
#define ST(T, expr)                                                    \
    for (int k = 0; k < n; k++) {                                      \
        __typeof__(w[0]) v = w[k];                                     \
        ((T *)p)[k] = (T)(expr);                                       \
    }                                                                  \
    break;
STORE_INT(store_i, int64_t)
STORE_INT(store_u, uint64_t)
#undef ST

void tn_convert(const void *src, nnl_dtype sdt, void *dst, nnl_dtype ddt, int64_t n) {
    size_t ses = nnl_dtype_size(sdt), des = nnl_dtype_size(ddt);
    if (sdt == ddt) {
        if (n > 0) memcpy(dst, src, (size_t)n * ses);
        return;
    }
    wide_kind k = wide_of(sdt);
    wide_buf w;
    for (int64_t i = 0; i < n; i += TN_CHUNK) {
        int m = (int)(n - i < TN_CHUNK ? n - i : TN_CHUNK);
        const uint8_t *s = (const uint8_t *)src + (size_t)i * ses;
        uint8_t *d = (uint8_t *)dst + (size_t)i * des;
        load(s, sdt, &w, m);
        if (k == W_F64) store_f(w.f, d, ddt, m);
        else if (k == W_U64) store_u(w.u, d, ddt, m);
        else store_i(w.i, d, ddt, m);
    }
}

void tn_from_double(nnl_dtype dt, double v, void *dst) {
    tn_convert(&v, NNL_DT_DOUBLE, dst, dt, 1);
}

double tn_to_double(nnl_dtype dt, const void *p) {
    double v = 0;
    tn_convert(p, dt, &v, NNL_DT_DOUBLE, 1);
    return v;
}

/* ---- Cast / CastLike ------------------------------------------------------ */

static nnl_status cast_infer(nnl_op_call *c, nnl_dtype to) {
    const nnl_tensor *x = c->in[0];
    size_t es;
    nnl_status s = tn_esize(c, x, "input", &es);
    if (s) return s;
    if (nnl_dtype_size(to) == 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "cannot cast to element type %d", (int)to);
    return nnl_op_set_out(c, c->out[0], to, x->rank, x->dims);
}

nnl_status tn_Cast_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"to", "saturate", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 1, 1, 1, 1);
    if (s) return s;
    int64_t to;
    if ((s = nnl_op_attr_int(c, "to", -1, &to))) return s;
    if (to < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs the 'to' attribute");
    return cast_infer(c, (nnl_dtype)to);
}

nnl_status tn_CastLike_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"saturate", NULL};
    nnl_status s = nnl_op_begin(c, known, 2, 2, 2, 1, 1);
    if (s) return s;
    return cast_infer(c, c->in[1]->dtype);
}

typedef struct cast_ctx {
    const nnl_tensor *x, *y;
} cast_ctx;

static void cast_range(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    const cast_ctx *k = ctx;
    size_t ses = nnl_dtype_size(k->x->dtype), des = nnl_dtype_size(k->y->dtype);
    b *= 4096;
    e *= 4096;
    int64_t n = nnl_tensor_numel(k->x);
    if (e > n) e = n;
    tn_convert((const uint8_t *)k->x->data + (size_t)b * ses, k->x->dtype,
               (uint8_t *)k->y->data + (size_t)b * des, k->y->dtype, e - b);
}

nnl_status tn_Cast_exec(const nnl_op_call *c) {
    cast_ctx k = {c->in[0], c->out[0]};
    int64_t n = nnl_tensor_numel(k.x);
    size_t bytes = nnl_dtype_size(k.x->dtype) + nnl_dtype_size(k.y->dtype);
    nnl_op_parallel_bytes(c->pool, (n + 4095) / 4096, 4096.0 * (double)bytes, cast_range, &k);
    return NNL_OK;
}

nnl_status tn_CastLike_exec(const nnl_op_call *c) { return tn_Cast_exec(c); }
