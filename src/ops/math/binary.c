/*
 * Elementwise binary ops with numpy broadcasting, and the variadic
 * Sum/Mean/Max/Min built from them.
 *
 * Broadcasting is planned once per call: size-1 output dims are dropped and
 * neighbouring dims that are contiguous in both inputs merged, so the
 * common CNN cases become one flat loop (same shape), a loop over a row
 * with a scalar (per-channel [1,C,1,1] or a scalar operand), and so on.
 * Inside a row each operand is either contiguous or a repeated scalar; the
 * kernels have one loop per combination, each simple enough to vectorise.
 */
#include <math.h>
#include <string.h>

#include "ops/math/math_ops.h"

/* ---- dtypes ------------------------------------------------------------- */

enum { T_F32, T_F64, T_I8, T_U8, T_I16, T_U16, T_I32, T_U32, T_I64, T_U64, T_BOOL, T_N };

static int tindex(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: return T_F32;
    case NNL_DT_DOUBLE: return T_F64;
    case NNL_DT_INT8: return T_I8;
    case NNL_DT_UINT8: return T_U8;
    case NNL_DT_INT16: return T_I16;
    case NNL_DT_UINT16: return T_U16;
    case NNL_DT_INT32: return T_I32;
    case NNL_DT_UINT32: return T_U32;
    case NNL_DT_INT64: return T_I64;
    case NNL_DT_UINT64: return T_U64;
    case NNL_DT_BOOL: return T_BOOL;
    default: return -1;
    }
}

/* Float to integer conversion that is defined for every input (NaN and
 * out-of-range values saturate) instead of undefined behaviour. */
#define SAT(T, lo, hi, v) ((v) != (v) ? (T)0 : (v) <= (double)(lo) ? (T)(lo) \
                           : (v) >= (double)(hi) ? (T)(hi) : (T)(v))

static void store_d(void *p, int64_t i, nnl_dtype dt, double v) {
    switch (dt) {
    case NNL_DT_FLOAT: ((float *)p)[i] = (float)v; break;
    case NNL_DT_DOUBLE: ((double *)p)[i] = v; break;
    case NNL_DT_INT8: ((int8_t *)p)[i] = SAT(int8_t, INT8_MIN, INT8_MAX, v); break;
    case NNL_DT_UINT8: ((uint8_t *)p)[i] = SAT(uint8_t, 0, UINT8_MAX, v); break;
    case NNL_DT_INT16: ((int16_t *)p)[i] = SAT(int16_t, INT16_MIN, INT16_MAX, v); break;
    case NNL_DT_UINT16: ((uint16_t *)p)[i] = SAT(uint16_t, 0, UINT16_MAX, v); break;
    case NNL_DT_INT32: ((int32_t *)p)[i] = SAT(int32_t, INT32_MIN, INT32_MAX, v); break;
    case NNL_DT_UINT32: ((uint32_t *)p)[i] = SAT(uint32_t, 0, UINT32_MAX, v); break;
    case NNL_DT_INT64: ((int64_t *)p)[i] = SAT(int64_t, INT64_MIN, INT64_MAX, v); break;
    case NNL_DT_UINT64: ((uint64_t *)p)[i] = SAT(uint64_t, 0, UINT64_MAX, v); break;
    default: break;
    }
}

/* ---- scalar ops per type class --------------------------------------- */

/* Floats. */
#define SCALARS_F(s, T)                                                               \
    static inline T add_##s(T u, T v) { return u + v; }                               \
    static inline T sub_##s(T u, T v) { return u - v; }                               \
    static inline T mul_##s(T u, T v) { return u * v; }                               \
    static inline T div_##s(T u, T v) { return u / v; }                               \
    static inline T max_##s(T u, T v) { return (u > v || u != u) ? u : v; }           \
    static inline T min_##s(T u, T v) { return (u < v || u != u) ? u : v; }          \
    static inline T fmod_##s(T u, T v) { return fmod(u, v); }                         \
    static inline T mod_##s(T u, T v) {                                               \
        T m = fmod(u, v);                                                             \
        return (m != 0 && ((m < 0) != (v < 0))) ? m + v : m;                          \
    }                                                                                 \
    static inline T prelu_##s(T u, T v) { return u < 0 ? u * v : u; }

/* Integers compute in W, an unsigned type at least as wide as int, so
 * arithmetic wraps instead of overflowing (uint16 * uint16 would overflow
 * int after promotion); division by zero gives 0 rather than a trap. */
#define SCALARS_S(s, T, UT)                                                           \
    static inline T add_##s(T u, T v) { return (T)((UT)u + (UT)v); }                  \
    static inline T sub_##s(T u, T v) { return (T)((UT)u - (UT)v); }                  \
    static inline T mul_##s(T u, T v) { return (T)((UT)u * (UT)v); }                  \
    static inline T div_##s(T u, T v) {                                               \
        return v == 0 ? 0 : v == -1 ? (T)(0 - (UT)u) : (T)(u / v);                    \
    }                                                                                 \
    static inline T max_##s(T u, T v) { return u > v ? u : v; }                       \
    static inline T min_##s(T u, T v) { return u < v ? u : v; }                       \
    static inline T fmod_##s(T u, T v) { return (v == 0 || v == -1) ? 0 : (T)(u % v); } \
    static inline T mod_##s(T u, T v) {                                               \
        T m = fmod_##s(u, v);                                                         \
        return (m != 0 && ((m < 0) != (v < 0))) ? (T)(m + v) : m;                     \
    }                                                                                 \
    static inline T prelu_##s(T u, T v) { return u < 0 ? mul_##s(u, v) : u; }

#define SCALARS_U(s, T, W)                                                            \
    static inline T add_##s(T u, T v) { return (T)((W)u + (W)v); }                    \
    static inline T sub_##s(T u, T v) { return (T)((W)u - (W)v); }                    \
    static inline T mul_##s(T u, T v) { return (T)((W)u * (W)v); }                    \
    static inline T div_##s(T u, T v) { return v == 0 ? 0 : (T)(u / v); }            \
    static inline T max_##s(T u, T v) { return u > v ? u : v; }                       \
    static inline T min_##s(T u, T v) { return u < v ? u : v; }                       \
    static inline T fmod_##s(T u, T v) { return v == 0 ? 0 : (T)(u % v); }            \
    static inline T mod_##s(T u, T v) { return fmod_##s(u, v); }                      \
    static inline T shl_##s(T u, T v) { return v >= sizeof(T) * 8 ? 0 : (T)(u << v); } \
    static inline T shr_##s(T u, T v) { return v >= sizeof(T) * 8 ? 0 : (T)(u >> v); }

SCALARS_F(f32, float)
SCALARS_F(f64, double)
SCALARS_S(i8, int8_t, unsigned)
SCALARS_S(i16, int16_t, unsigned)
SCALARS_S(i32, int32_t, unsigned)
SCALARS_S(i64, int64_t, uint64_t)
SCALARS_U(u8, uint8_t, unsigned)
SCALARS_U(u16, uint16_t, unsigned)
SCALARS_U(u32, uint32_t, unsigned)
SCALARS_U(u64, uint64_t, uint64_t)

/* ---- kernels ------------------------------------------------------------ */

typedef struct bin_aux {
    nnl_dtype ta, tb, ty;
} bin_aux;

/* Computes n outputs of one row.  mode bit 1: a advances, bit 0: b
 * advances; a non-advancing operand is the scalar at its pointer. */
typedef void (*bin_kernel)(const void *a, const void *b, void *y, int64_t n, int mode,
                           const bin_aux *aux);

/* GCC 12 at -O2 vectorises only loops that need no scalar epilogue and no
 * alias check ("very cheap" cost model).  A block of 8 that loads into
 * locals, computes, then stores is such a loop, so rows run in blocks of
 * 8 plus a scalar tail.  UA(j) / VA(j) read the operands. */
#define BLOCKS(TA, TY, UA, VA, EXPR)                                                \
    do {                                                                            \
        int64_t i = 0;                                                              \
        for (; i + 8 <= n; i += 8) {                                                \
            TA ub[8], vb[8];                                                        \
            TY rb[8];                                                               \
            for (int k = 0; k < 8; k++) {                                           \
                ub[k] = UA(i + k);                                                  \
                vb[k] = VA(i + k);                                                  \
            }                                                                       \
            for (int k = 0; k < 8; k++) {                                           \
                const TA u = ub[k], v = vb[k];                                      \
                rb[k] = (TY)(EXPR);                                                 \
            }                                                                       \
            for (int k = 0; k < 8; k++) y[i + k] = rb[k];                           \
        }                                                                           \
        for (; i < n; i++) {                                                        \
            const TA u = UA(i), v = VA(i);                                          \
            y[i] = (TY)(EXPR);                                                      \
        }                                                                           \
    } while (0)
#define ROW_A(j) a[j]
#define ROW_B(j) b[j]
#define ONE_A(j) a0
#define ONE_B(j) b0

#define KERNEL(name, TA, TY, EXPR)                                                  \
    static void name(const void *pa, const void *pb, void *py, int64_t n, int mode,  \
                     const bin_aux *aux) {                                          \
        const TA *a = pa, *b = pb;                                                  \
        const TA a0 = a[0], b0 = b[0];                                              \
        TY *y = py;                                                                 \
        (void)aux;                                                                  \
        if (mode == 3) BLOCKS(TA, TY, ROW_A, ROW_B, EXPR);                          \
        else if (mode == 2) BLOCKS(TA, TY, ROW_A, ONE_B, EXPR);                     \
        else if (mode == 1) BLOCKS(TA, TY, ONE_A, ROW_B, EXPR);                     \
        else BLOCKS(TA, TY, ONE_A, ONE_B, EXPR);                                    \
    }

/* Arithmetic ops exist for every numeric type; comparisons also for bool. */
#define NUMERIC(X, OP) \
    X(OP, f32, float) X(OP, f64, double) X(OP, i8, int8_t) X(OP, u8, uint8_t) \
    X(OP, i16, int16_t) X(OP, u16, uint16_t) X(OP, i32, int32_t) X(OP, u32, uint32_t) \
    X(OP, i64, int64_t) X(OP, u64, uint64_t)
#define SIGNED(X, OP) \
    X(OP, f32, float) X(OP, f64, double) X(OP, i8, int8_t) X(OP, i16, int16_t) \
    X(OP, i32, int32_t) X(OP, i64, int64_t)
#define UNSIGNED(X, OP) X(OP, u8, uint8_t) X(OP, u16, uint16_t) X(OP, u32, uint32_t) X(OP, u64, uint64_t)

#define ARITH_K(OP, s, T) KERNEL(k_##OP##_##s, T, T, OP##_##s(u, v))
NUMERIC(ARITH_K, add)
NUMERIC(ARITH_K, sub)
NUMERIC(ARITH_K, mul)
NUMERIC(ARITH_K, div)
NUMERIC(ARITH_K, max)
NUMERIC(ARITH_K, min)
NUMERIC(ARITH_K, mod)
NUMERIC(ARITH_K, fmod)
SIGNED(ARITH_K, prelu)
UNSIGNED(ARITH_K, shl)
UNSIGNED(ARITH_K, shr)

#define CMP_K(OP, s, T) KERNEL(k_##OP##_##s, T, uint8_t, OP(u, v))
#define EQ(u, v) ((u) == (v))
#define LT(u, v) ((u) < (v))
#define GT(u, v) ((u) > (v))
#define LE(u, v) ((u) <= (v))
#define GE(u, v) ((u) >= (v))
NUMERIC(CMP_K, EQ)
NUMERIC(CMP_K, LT)
NUMERIC(CMP_K, GT)
NUMERIC(CMP_K, LE)
NUMERIC(CMP_K, GE)
KERNEL(k_EQ_b, uint8_t, uint8_t, (u != 0) == (v != 0))
KERNEL(k_and_b, uint8_t, uint8_t, (u != 0) & (v != 0))
KERNEL(k_or_b, uint8_t, uint8_t, (u != 0) | (v != 0))
KERNEL(k_xor_b, uint8_t, uint8_t, (u != 0) ^ (v != 0))

KERNEL(k_pow_f32, float, float, powf(u, v))
KERNEL(k_pow_f64, double, double, pow(u, v))
/* x^2 with a scalar exponent (decomposed LayerNorm, variances): the same
 * result as powf(x, 2) for every x, but vectorisable.  v, the exponent, is
 * unused. */
KERNEL(k_square_f32, float, float, ((void)v, u * u))

/* Pow with any other type pair: numpy semantics, computed in double and
 * converted to the base type.  Rare enough that speed does not matter. */
static void k_pow_any(const void *a, const void *b, void *y, int64_t n, int mode,
                      const bin_aux *aux) {
    for (int64_t i = 0; i < n; i++) {
        double u = nnl_math_load_d(a, (mode & 2) ? i : 0, aux->ta);
        double v = nnl_math_load_d(b, (mode & 1) ? i : 0, aux->tb);
        store_d(y, i, aux->ty, pow(u, v));
    }
}

/* ---- op table ------------------------------------------------------------ */

enum { OUT_SAME, OUT_BOOL };

#define ROW_NUM(OP) {k_##OP##_f32, k_##OP##_f64, k_##OP##_i8, k_##OP##_u8, k_##OP##_i16, \
                     k_##OP##_u16, k_##OP##_i32, k_##OP##_u32, k_##OP##_i64, k_##OP##_u64, NULL}
#define ROW_SIGNED(OP) {k_##OP##_f32, k_##OP##_f64, k_##OP##_i8, NULL, k_##OP##_i16, NULL, \
                        k_##OP##_i32, NULL, k_##OP##_i64, NULL, NULL}
#define ROW_UNSIGNED(OP) {NULL, NULL, NULL, k_##OP##_u8, NULL, k_##OP##_u16, NULL, \
                          k_##OP##_u32, NULL, k_##OP##_u64, NULL}
#define ROW_BOOL(K) {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, K}

typedef struct bin_op {
    const char *name;
    int out;
    bin_kernel k[T_N];
} bin_op;

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_EQ, OP_MOD, OP_FMOD, OP_LT, OP_GT, OP_LE, OP_GE,
       OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR, OP_PRELU, OP_POW, OP_MAX, OP_MIN, N_BIN_OPS };

/* Mod and BitShift have two rows each; bin_find picks one by attribute. */
static const bin_op bin_ops[N_BIN_OPS] = {
    [OP_ADD] = {"Add", OUT_SAME, ROW_NUM(add)},
    [OP_SUB] = {"Sub", OUT_SAME, ROW_NUM(sub)},
    [OP_MUL] = {"Mul", OUT_SAME, ROW_NUM(mul)},
    [OP_DIV] = {"Div", OUT_SAME, ROW_NUM(div)},
    [OP_EQ] = {"Equal", OUT_BOOL, {k_EQ_f32, k_EQ_f64, k_EQ_i8, k_EQ_u8, k_EQ_i16, k_EQ_u16,
                                   k_EQ_i32, k_EQ_u32, k_EQ_i64, k_EQ_u64, k_EQ_b}},
    [OP_MOD] = {"Mod", OUT_SAME, ROW_NUM(mod)},
    [OP_FMOD] = {"Mod", OUT_SAME, ROW_NUM(fmod)},
    [OP_LT] = {"Less", OUT_BOOL, ROW_NUM(LT)},
    [OP_GT] = {"Greater", OUT_BOOL, ROW_NUM(GT)},
    [OP_LE] = {"LessOrEqual", OUT_BOOL, ROW_NUM(LE)},
    [OP_GE] = {"GreaterOrEqual", OUT_BOOL, ROW_NUM(GE)},
    [OP_AND] = {"And", OUT_BOOL, ROW_BOOL(k_and_b)},
    [OP_OR] = {"Or", OUT_BOOL, ROW_BOOL(k_or_b)},
    [OP_XOR] = {"Xor", OUT_BOOL, ROW_BOOL(k_xor_b)},
    [OP_SHL] = {"BitShift", OUT_SAME, ROW_UNSIGNED(shl)},
    [OP_SHR] = {"BitShift", OUT_SAME, ROW_UNSIGNED(shr)},
    [OP_PRELU] = {"PRelu", OUT_SAME, ROW_SIGNED(prelu)},
    [OP_POW] = {"Pow", OUT_SAME, {k_pow_f32, k_pow_f64}},
    [OP_MAX] = {"Max", OUT_SAME, ROW_NUM(max)},
    [OP_MIN] = {"Min", OUT_SAME, ROW_NUM(min)},
};

/* The op index for c: Mod and BitShift pick a row by attribute. */
static int bin_find(const nnl_op_call *c) {
    for (int i = 0; i < N_BIN_OPS; i++) {
        if (!bin_ops[i].name || strcmp(bin_ops[i].name, c->op) != 0) continue;
        if (i == OP_MOD) return nnl_attr_int(c, "fmod", 0) ? OP_FMOD : OP_MOD;
        if (i == OP_SHL) return strcmp(nnl_attr_str(c, "direction", ""), "RIGHT") == 0 ? OP_SHR
                                                                                       : OP_SHL;
        return i;
    }
    return -1;
}

/* ---- broadcast plan and the row walker ----------------------------------- */

typedef struct bin_plan {
    int rank;                          /* >= 1 */
    int64_t dims[NNL_MAX_RANK];
    int64_t sa[NNL_MAX_RANK], sb[NNL_MAX_RANK]; /* element strides, 0 = broadcast */
} bin_plan;

static void plan_build(bin_plan *p, const nnl_tensor *a, const nnl_tensor *b,
                       const nnl_tensor *y) {
    int64_t sa_full[NNL_MAX_RANK], sb_full[NNL_MAX_RANK];
    int64_t ca = 1, cb = 1;
    for (int i = y->rank - 1; i >= 0; i--) {
        int ia = i - (y->rank - a->rank), ib = i - (y->rank - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        sa_full[i] = da == 1 ? 0 : ca;
        sb_full[i] = db == 1 ? 0 : cb;
        ca *= da;
        cb *= db;
    }
    int r = 0;
    for (int i = 0; i < y->rank; i++) {
        int64_t d = y->dims[i];
        if (d == 1) continue;
        if (r > 0 && p->sa[r - 1] == sa_full[i] * d && p->sb[r - 1] == sb_full[i] * d) {
            /* Outer dim r-1 steps over exactly one row of dim i in both
             * operands: the two are one longer dim. */
            p->dims[r - 1] *= d;
            p->sa[r - 1] = sa_full[i];
            p->sb[r - 1] = sb_full[i];
            continue;
        }
        p->dims[r] = d;
        p->sa[r] = sa_full[i];
        p->sb[r] = sb_full[i];
        r++;
    }
    if (r == 0) {
        p->dims[0] = 1;
        p->sa[0] = p->sb[0] = 0;
        r = 1;
    }
    p->rank = r;
}

typedef struct bin_job {
    bin_plan plan;
    bin_kernel k;
    bin_aux aux;
    const char *a, *b;
    char *y;
    size_t ea, eb, ey;
} bin_job;

static void bin_range(void *ctx, int64_t begin, int64_t end, int thread) {
    const bin_job *j = ctx;
    const bin_plan *p = &j->plan;
    const int last = p->rank - 1;
    int64_t idx[NNL_MAX_RANK], oa = 0, ob = 0, rem = begin;
    (void)thread;
    for (int d = last; d >= 0; d--) {
        idx[d] = rem % p->dims[d];
        rem /= p->dims[d];
        oa += idx[d] * p->sa[d];
        ob += idx[d] * p->sb[d];
    }
    const int mode = (p->sa[last] != 0) << 1 | (p->sb[last] != 0);
    for (int64_t pos = begin; pos < end;) {
        int64_t seg = p->dims[last] - idx[last];
        if (seg > end - pos) seg = end - pos;
        j->k(j->a + oa * j->ea, j->b + ob * j->eb, j->y + pos * j->ey, seg, mode, &j->aux);
        pos += seg;
        idx[last] += seg;
        oa += seg * p->sa[last];
        ob += seg * p->sb[last];
        for (int d = last; d > 0 && idx[d] == p->dims[d]; d--) {
            oa += p->sa[d - 1] - idx[d] * p->sa[d];
            ob += p->sb[d - 1] - idx[d] * p->sb[d];
            idx[d] = 0;
            idx[d - 1]++;
        }
    }
}

/* y = a (op) b, broadcasting both to y's shape. */
static void bin_run(const nnl_op_call *c, bin_kernel k, const nnl_tensor *a,
                    const nnl_tensor *b, const nnl_tensor *y) {
    bin_job j;
    plan_build(&j.plan, a, b, y);
    j.k = k;
    j.aux = (bin_aux){a->dtype, b->dtype, y->dtype};
    j.a = a->data;
    j.b = b->data;
    j.y = y->data;
    j.ea = nnl_dtype_size(a->dtype);
    j.eb = nnl_dtype_size(b->dtype);
    j.ey = nnl_dtype_size(y->dtype);
    nnl_op_parallel(c->pool, nnl_tensor_numel(y), 1 << 15, bin_range, &j);
}

static bin_kernel kernel_for(int op, const nnl_tensor *a, const nnl_tensor *b) {
    int ta = tindex(a->dtype);
    if (ta < 0) return NULL;
    if (op == OP_POW && (a->dtype != b->dtype || !bin_ops[op].k[ta]))
        return (ta == T_BOOL || tindex(b->dtype) < 0 || tindex(b->dtype) == T_BOOL) ? NULL
                                                                                   : k_pow_any;
    if (a->dtype != b->dtype) return NULL;
    return bin_ops[op].k[ta];
}

/* ---- binary ops ------------------------------------------------------------ */

nnl_status nnl_math_binary_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const none[] = {NULL};
    static const char *const mod_attrs[] = {"fmod", NULL};
    static const char *const shift_attrs[] = {"direction", NULL};
    int op = bin_find(c);
    if (op < 0) return nnl_op_fail(c, NNL_ERR_INTERNAL, "not a binary op");
    nnl_status st = nnl_op_begin(c, (op == OP_MOD || op == OP_FMOD) ? mod_attrs
                                      : (op == OP_SHL || op == OP_SHR) ? shift_attrs
                                                                       : none, 2, 2, 2, 1, NNL_OP_ANY);
    if (st) return st;
    if (op == OP_SHL || op == OP_SHR) {
        const char *dir = nnl_attr_str(c, "direction", NULL);
        if (!dir || (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "direction must be LEFT or RIGHT");
    }
    const nnl_tensor *a = c->in[0], *b = c->in[1];
    if (a->dtype != b->dtype && op != OP_POW)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "input dtypes %s and %s differ",
                           nnl_dtype_name(a->dtype), nnl_dtype_name(b->dtype));
    if (!kernel_for(op, a, b))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported",
                           nnl_dtype_name(a->dtype));
    int rank;
    int64_t dims[NNL_MAX_RANK];
    if ((st = nnl_math_broadcast(c, a, b, &rank, dims))) return st;
    if (op == OP_PRELU) {
        /* The slope broadcasts to X, never the other way. */
        if (rank != a->rank || memcmp(dims, a->dims, sizeof(int64_t) * a->rank) != 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "slope does not broadcast to the input shape");
    }
    nnl_tensor *y = c->out[0];
    if ((st = nnl_op_set_out(c, y, bin_ops[op].out == OUT_BOOL ? NNL_DT_BOOL : a->dtype, rank,
                             dims)))
        return st;
    r->flops = (double)nnl_tensor_numel(y);
    return NNL_OK;
}

nnl_status nnl_math_binary_exec(const nnl_op_call *c) {
    int op = bin_find(c);
    bin_kernel k = op < 0 ? NULL : kernel_for(op, c->in[0], c->in[1]);
    if (!k) return nnl_op_fail(c, NNL_ERR_INTERNAL, "no kernel");
    if (k == k_pow_f32 && nnl_tensor_numel(c->in[1]) == 1) {
        const float e = *(const float *)c->in[1]->data;
        if (e == 2.0f) k = k_square_f32;
    }
    bin_run(c, k, c->in[0], c->in[1], c->out[0]);
    return NNL_OK;
}

/* ---- variadic Sum / Mean / Max / Min ------------------------------------- */

static int var_op(const char *name) {
    if (strcmp(name, "Max") == 0) return OP_MAX;
    if (strcmp(name, "Min") == 0) return OP_MIN;
    return OP_ADD; /* Sum and Mean */
}

nnl_status nnl_math_variadic_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const none[] = {NULL};
    nnl_status st = nnl_op_begin(c, none, 1, 1 << 20, c->n_in, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *a = c->in[0];
    int ta = tindex(a->dtype);
    int op = var_op(c->op);
    bool float_only = op == OP_ADD;
    if (ta < 0 || ta == T_BOOL || (float_only && !nnl_math_is_float(a->dtype)))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported",
                           nnl_dtype_name(a->dtype));
    nnl_tensor *y = c->out[0];
    if ((st = nnl_op_set_like(c, y, a, a->dtype))) return st;
    for (int i = 1; i < c->n_in; i++) {
        if (c->in[i]->dtype != a->dtype)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "input %d has dtype %s, input 0 %s", i,
                               nnl_dtype_name(c->in[i]->dtype), nnl_dtype_name(a->dtype));
        if ((st = nnl_math_broadcast(c, y, c->in[i], &y->rank, y->dims))) return st;
    }
    /* the broadcast of many inputs can outgrow every one of them */
    if ((st = nnl_op_set_out(c, y, a->dtype, y->rank, y->dims))) return st;
    r->flops = (double)nnl_tensor_numel(y) * c->n_in;
    return NNL_OK;
}

nnl_status nnl_math_variadic_exec(const nnl_op_call *c) {
    nnl_tensor *y = c->out[0];
    int op = var_op(c->op);
    int ta = tindex(y->dtype);
    bin_kernel k = bin_ops[op].k[ta];
    if (c->n_in == 1) {
        if (nnl_tensor_numel(y) > 0) memcpy(y->data, c->in[0]->data, nnl_tensor_nbytes(y));
        return NNL_OK;
    }
    bin_run(c, k, c->in[0], c->in[1], y);
    for (int i = 2; i < c->n_in; i++) bin_run(c, k, y, c->in[i], y);
    if (strcmp(c->op, "Mean") == 0) {
        float nf = (float)c->n_in;
        double nd = (double)c->n_in;
        nnl_tensor count = {.dtype = y->dtype, .rank = 0, .data = ta == T_F32 ? (void *)&nf
                                                                             : (void *)&nd};
        bin_run(c, bin_ops[OP_DIV].k[ta], y, &count, y);
    }
    return NNL_OK;
}
