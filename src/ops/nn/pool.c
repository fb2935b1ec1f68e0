/*
 * MaxPool, AveragePool, LpPool and the global pools over NCHW float32;
 * MaxPool also over uint8 / int8 (1-D and 2-D).
 *
 * 1-D and 2-D pools run as 2-D (a 1-D pool is a 2-D pool of height 1).
 * MaxPool runs the kernel set's float MaxPool (kernels/maxpool_f32.h), and
 * the same body over bytes for 8-bit data, over a padded row buffer in the
 * thread scratch.  Average pools split each output row into a border,
 * where taps are checked against the input, and an interior, where every
 * tap is inside and the loops over output columns run without checks (they
 * vectorise when the stride is 1); LpPool, and pools without the scratch,
 * check every tap.  3-D pools take a plain checked path.
 *
 * Output size follows PyTorch, which the ONNX rule matches except in one
 * case: with ceil_mode a last window that would start in the end padding
 * is dropped.  count_include_pad counts the taps inside the padded extent
 * (PyTorch's divisor), which the ONNX rule equals whenever windows stay
 * within the padding.
 */
#include <math.h>
#include <string.h>

#include "ops/nn/nn_ops.h"
#include "ops/nn/conv_geom.h"
#include "kernels/pool2d.h"

#define POOL_MAX_SPATIAL 3

enum { P_MAX, P_AVG, P_LP };

typedef struct pool_geom {
    int kind;
    int ns;                            /* spatial dims */
    int64_t planes;                    /* N * C */
    int64_t in[POOL_MAX_SPATIAL], out[POOL_MAX_SPATIAL];
    int64_t k[POOL_MAX_SPATIAL], s[POOL_MAX_SPATIAL], d[POOL_MAX_SPATIAL];
    int64_t pb[POOL_MAX_SPATIAL], pe[POOL_MAX_SPATIAL]; /* pads at begin / end */
    bool include_pad;
    float p;                           /* LpPool */
} pool_geom;

static int pool_kind(const char *op) {
    return strcmp(op, "MaxPool") == 0 ? P_MAX : strcmp(op, "AveragePool") == 0 ? P_AVG : P_LP;
}

/* Geometry from x's shape and the attributes; also used by exec. */
static nnl_status pool_geometry(const nnl_op_call *c, pool_geom *g) {
    const nnl_tensor *x = c->in[0];
    memset(g, 0, sizeof *g);
    g->kind = pool_kind(c->op);
    g->ns = x->rank - 2;
    if (g->ns < 1 || g->ns > POOL_MAX_SPATIAL)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%d-D input not supported (3-D to 5-D NCHW)",
                           x->rank);
    g->planes = x->dims[0] * x->dims[1];
    const int ns = g->ns;
    const nnl_attr *ks = nnl_attr_get(c, "kernel_shape");
    if (!ks || ks->type != NNL_ATTR_INTS || ks->n != ns)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel_shape must list %d ints", ns);
    int64_t pads[2 * POOL_MAX_SPATIAL];
    nnl_status st;
    if ((st = nnl_op_ints_attr(c, "strides", ns, 1, INT64_MIN, g->s))) return st;
    if ((st = nnl_op_ints_attr(c, "dilations", ns, 1, INT64_MIN, g->d))) return st;
    if ((st = nnl_op_ints_attr(c, "pads", 2 * ns, 0, INT64_MIN, pads))) return st;
    nnl_auto_pad ap;
    if ((st = nnl_conv_auto_pad(c, &ap))) return st;
    const bool same = ap == NNL_AUTO_PAD_SAME_UPPER || ap == NNL_AUTO_PAD_SAME_LOWER;
    const bool valid = ap == NNL_AUTO_PAD_VALID;
    bool ceil_mode = nnl_attr_int(c, "ceil_mode", 0) != 0;
    g->include_pad = nnl_attr_int(c, "count_include_pad", 0) != 0;
    g->p = (float)nnl_attr_int(c, "p", 2);
    for (int i = 0; i < ns; i++) {
        g->in[i] = x->dims[2 + i];
        g->k[i] = ks->ints[i];
        if (g->k[i] < 1 || g->s[i] < 1 || g->d[i] < 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel, strides and dilations must be >= 1");
        /* Keeps the window arithmetic below far from int64 overflow. */
        if (g->k[i] > INT32_MAX || g->s[i] > INT32_MAX || g->d[i] > INT32_MAX ||
            pads[i] > INT32_MAX || pads[ns + i] > INT32_MAX)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel, strides, dilations or pads too large");
        const int64_t ek = (g->k[i] - 1) * g->d[i] + 1;
        if (same) {
            nnl_conv_same_pads(g->in[i], ek, g->s[i], ap == NNL_AUTO_PAD_SAME_UPPER, &g->out[i],
                               &g->pb[i], &g->pe[i]);
            continue;
        }
        g->pb[i] = valid ? 0 : pads[i];
        g->pe[i] = valid ? 0 : pads[ns + i];
        if (g->pb[i] < 0 || g->pe[i] < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "negative pads");
        const int64_t span = g->in[i] + g->pb[i] + g->pe[i] - ek;
        if (span < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel extent %lld exceeds padded input %lld",
                               (long long)ek, (long long)(g->in[i] + g->pb[i] + g->pe[i]));
        g->out[i] = (ceil_mode ? (span + g->s[i] - 1) / g->s[i] : span / g->s[i]) + 1;
        if (ceil_mode && (g->out[i] - 1) * g->s[i] >= g->in[i] + g->pb[i]) g->out[i]--;
    }
    return NNL_OK;
}

/* A 1-D pool as a 2-D one of height 1. */
static void as_2d(pool_geom *g) {
    if (g->ns != 1) return;
    g->in[1] = g->in[0], g->out[1] = g->out[0], g->k[1] = g->k[0];
    g->s[1] = g->s[0], g->d[1] = g->d[0], g->pb[1] = g->pb[0], g->pe[1] = g->pe[0];
    g->in[0] = g->out[0] = g->k[0] = g->s[0] = g->d[0] = 1;
    g->pb[0] = g->pe[0] = 0;
    g->ns = 2;
}

/* The kernels' view of a 1-D or 2-D pool (after as_2d). */
static nnl_pool2d pool2d_of(const pool_geom *g, nnl_dtype dt) {
    nnl_pool2d p = {.int8 = dt == NNL_DT_INT8};
    for (int i = 0; i < 2; i++) {
        p.in[i] = g->in[i], p.out[i] = g->out[i], p.k[i] = g->k[i];
        p.s[i] = g->s[i], p.d[i] = g->d[i], p.pb[i] = g->pb[i];
    }
    return p;
}

nnl_status nnl_nn_pool_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const max_attrs[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape",
                                            "pads", "storage_order", "strides", NULL};
    static const char *const avg_attrs[] = {"auto_pad", "ceil_mode", "count_include_pad",
                                            "dilations", "kernel_shape", "pads", "strides", NULL};
    static const char *const lp_attrs[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape",
                                           "p", "pads", "strides", NULL};
    int kind = pool_kind(c->op);
    const char *const *known = kind == P_MAX ? max_attrs : kind == P_AVG ? avg_attrs : lp_attrs;
    nnl_status st = nnl_op_begin(c, known, 1, 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    if (c->n_out > 1 && c->out[1])
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "the Indices output is not supported");
    const nnl_tensor *x = c->in[0];
    const bool q8 = kind == P_MAX && (x->dtype == NNL_DT_UINT8 || x->dtype == NNL_DT_INT8);
    if (x->dtype != NNL_DT_FLOAT && !q8)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported (float32; uint8 and int8 for MaxPool)",
                           nnl_dtype_name(x->dtype));
    pool_geom g;
    if ((st = pool_geometry(c, &g))) return st;
    /* The 8-bit row buffer: the padded row, or two phases of it. */
    pool_geom g2 = g;
    as_2d(&g2);
    const nnl_pool2d p2 = pool2d_of(&g2, x->dtype);
    if (q8 && (g.ns > 2 || nnl_pool2d_scratch_bytes(&p2, 1) > (int64_t)NNL_THREAD_SCRATCH_BYTES))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "8-bit MaxPool is 1-D or 2-D, rows of at most %d values "
                           "with their pads", (int)(NNL_THREAD_SCRATCH_BYTES - 128));
    nnl_tensor *y = c->out[0];
    if ((st = nnl_op_set_like(c, y, x, x->dtype))) return st;
    double taps = 1;
    for (int i = 0; i < g.ns; i++) {
        y->dims[2 + i] = g.out[i];
        taps *= (double)g.k[i];
    }
    r->flops = (double)nnl_tensor_numel(y) * taps;
    return NNL_OK;
}

/* ---- 2-D path -------------------------------------------------------------------- */

/* Number of taps t in [0, k) with lo <= start + t*d < hi. */
static int64_t taps_in(int64_t start, int64_t k, int64_t d, int64_t lo, int64_t hi) {
    int64_t t0 = start >= lo ? 0 : (lo - start + d - 1) / d;
    int64_t t1 = start + (k - 1) * d < hi ? k : nnl_div_floor(hi - 1 - start, d) + 1;
    if (t1 > k) t1 = k;
    return t1 > t0 ? t1 - t0 : 0;
}

typedef struct pool_job {
    pool_geom g;                       /* 1-D shown as 2-D: index 0 = H, 1 = W */
    const float *x;
    float *y;
    void *const *tscratch;             /* row buffer per thread, may be NULL */
    nnl_dtype dt;                      /* of x and y: float32, or uint8 / int8 (MaxPool only) */
    nnl_pool2d p2;                     /* g for the MaxPool kernels */
} pool_job;

static inline float pow_p(float v, float p) {
    v = fabsf(v);
    return p == 2 ? v * v : p == 1 ? v : powf(v, p);
}

#define OP_MAX(a, v) ((v) > (a) ? (v) : (a))

/* One output with every tap checked (LpPool, and when no row buffer). */
static float pool_one(const pool_geom *g, const float *x, int64_t hs, int64_t kh0, int64_t kh1,
                      int64_t ow) {
    const int64_t W = g->in[1], KW = g->k[1], DW = g->d[1], ws = ow * g->s[1] - g->pb[1];
    int64_t kw0, kw1;
    nnl_tap_range(ws, KW, DW, W, &kw0, &kw1);
    float acc = g->kind == P_MAX ? -INFINITY : 0.0f;
    for (int64_t kh = kh0; kh < kh1; kh++) {
        const float *xr = x + (hs + kh * g->d[0]) * W + ws;
        for (int64_t kw = kw0; kw < kw1; kw++) {
            const float v = xr[kw * DW];
            acc = g->kind == P_MAX ? OP_MAX(acc, v) : g->kind == P_AVG ? acc + v
                                                                       : acc + pow_p(v, g->p);
        }
    }
    return acc;
}

/* Window sums of one row of output (average pools; MaxPool has its own
 * rows below).  A sum is separable: first reduce the window's rows into
 * one row buffer (contiguous, vectorised), then reduce the columns of that
 * row.  Loops run in blocks of 8 held in locals, the loop shape GCC's -O2
 * cost model vectorises. */
static void sep_sum(const pool_geom *g, const float *x, int64_t hs, int64_t kh0, int64_t kh1, float *v, float *y,
                    int64_t ow_lo, int64_t ow_hi) {
    const int64_t W = g->in[1], OW = g->out[1], KW = g->k[1], SW = g->s[1];
    const int64_t DW = g->d[1], PL = g->pb[1], rs = g->d[0] * W;
    const float *x0 = x + (hs + kh0 * g->d[0]) * W;
    int64_t w = 0;
    for (; w + 8 <= W; w += 8) {
        float acc[8], t[8];
        for (int k = 0; k < 8; k++) acc[k] = 0.0f;
        for (int64_t kh = 0; kh < kh1 - kh0; kh++) {
            for (int k = 0; k < 8; k++) t[k] = x0[kh * rs + w + k];
            for (int k = 0; k < 8; k++) acc[k] += t[k];
        }
        for (int k = 0; k < 8; k++) v[w + k] = acc[k];
    }
    for (; w < W; w++) {
        float acc = 0.0f;
        for (int64_t kh = 0; kh < kh1 - kh0; kh++) acc += x0[kh * rs + w];
        v[w] = acc;
    }
    /* Columns: the interior needs no checks; stride 1 runs in blocks. */
    int64_t ow = ow_lo;
    if (SW == 1) {
        for (; ow + 8 <= ow_hi; ow += 8) {
            float acc[8], t[8];
            for (int k = 0; k < 8; k++) acc[k] = 0.0f;
            for (int64_t kw = 0; kw < KW; kw++) {
                const float *vc = v + ow - PL + kw * DW;
                for (int k = 0; k < 8; k++) t[k] = vc[k];
                for (int k = 0; k < 8; k++) acc[k] += t[k];
            }
            for (int k = 0; k < 8; k++) y[ow + k] = acc[k];
        }
    } else if (ow_hi > ow_lo) {
        /* Strided: the window at every column of the interior span, in
         * blocks, into the second row buffer; then every SW-th of them. */
        float *m = v + NNL_ROW_STRIDE(W);
        const int64_t x1 = ow_lo * SW - PL, x2 = (ow_hi - 1) * SW - PL + 1;
        int64_t xx = x1;
        for (; xx + 8 <= x2; xx += 8) {
            float acc[8], t[8];
            for (int k = 0; k < 8; k++) acc[k] = 0.0f;
            for (int64_t kw = 0; kw < KW; kw++) {
                for (int k = 0; k < 8; k++) t[k] = v[xx + kw * DW + k];
                for (int k = 0; k < 8; k++) acc[k] += t[k];
            }
            for (int k = 0; k < 8; k++) m[xx + k] = acc[k];
        }
        for (; xx < x2; xx++) {
            float acc = 0.0f;
            for (int64_t kw = 0; kw < KW; kw++) acc += v[xx + kw * DW];
            m[xx] = acc;
        }
        for (; ow < ow_hi; ow++) y[ow] = m[ow * SW - PL];
    }
    for (; ow < ow_hi; ow++) {
        const float *vc = v + ow * SW - PL;
        float acc = 0.0f;
        for (int64_t kw = 0; kw < KW; kw++) acc += vc[kw * DW];
        y[ow] = acc;
    }
    for (int side = 0; side < 2; side++)
        for (ow = side ? ow_hi : 0; ow < (side ? OW : ow_lo); ow++) {
            const int64_t ws = ow * SW - PL;
            int64_t kw0, kw1;
            nnl_tap_range(ws, KW, DW, W, &kw0, &kw1);
            float acc = 0.0f;
            for (int64_t kw = kw0; kw < kw1; kw++) acc += v[ws + kw * DW];
            y[ow] = acc;
        }
}

typedef float pool_v4 __attribute__((vector_size(16)));

/* 2 x 2 windows at stride 2, all inside the plane (DenseNet's transition
 * pools): one pass over the two input rows.  The sums are sep_sum's,
 * column pairs of row sums, times the same 1/4: ((x0 + x1) + (x0' + x1'))
 * / 4.  The general path's three passes and divisor pass a row ran 3.2x
 * ORT's time on DenseNet-121's three pools. */
static bool avg2x2(const pool_geom *g) {
    return g->kind == P_AVG && g->k[0] == 2 && g->k[1] == 2 && g->s[0] == 2 && g->s[1] == 2 && g->d[0] == 1 &&
           g->d[1] == 1 && g->pb[0] == 0 && g->pb[1] == 0 && 2 * g->out[0] <= g->in[0] &&
           2 * g->out[1] <= g->in[1];
}

static void avg2x2_row(float *y, const float *x0, const float *x1, int64_t ow) {
    const pool_v4 q = {0.25f, 0.25f, 0.25f, 0.25f};
    int64_t i = 0;
    for (; i + 4 <= ow; i += 4) {
        pool_v4 a0, b0, a1, b1;
        memcpy(&a0, x0 + 2 * i, sizeof a0);
        memcpy(&b0, x0 + 2 * i + 4, sizeof b0);
        memcpy(&a1, x1 + 2 * i, sizeof a1);
        memcpy(&b1, x1 + 2 * i + 4, sizeof b1);
        const pool_v4 va = a0 + a1, vb = b0 + b1;
        const pool_v4 r = (__builtin_shufflevector(va, vb, 0, 2, 4, 6) + __builtin_shufflevector(va, vb, 1, 3, 5, 7)) * q;
        memcpy(y + i, &r, sizeof r);
    }
    for (; i < ow; i++) y[i] = ((x0[2 * i] + x1[2 * i]) + (x0[2 * i + 1] + x1[2 * i + 1])) * 0.25f;
}

static void pool2d_rows(void *ctx, int64_t b, int64_t e, int thread) {
    const pool_job *j = ctx;
    const pool_geom *g = &j->g;
    const int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    const int64_t KH = g->k[0], KW = g->k[1], SW = g->s[1], DW = g->d[1], PL = g->pb[1];
    const int kind = g->kind;
    float *v = kind == P_AVG && j->tscratch &&
                       (size_t)(NNL_ROW_STRIDE(W) + W) * sizeof(float) <= NNL_THREAD_SCRATCH_BYTES
                   ? j->tscratch[thread]
                   : NULL;
    /* Interior columns: every tap of the window inside [0, W). */
    int64_t ow_lo = (PL + SW - 1) / SW;
    int64_t ow_hi = W - 1 + PL - (KW - 1) * DW >= 0 ? (W - 1 + PL - (KW - 1) * DW) / SW + 1 : 0;
    if (ow_hi > OW) ow_hi = OW;
    if (ow_lo > ow_hi) ow_lo = ow_hi;
    if (avg2x2(g)) {
        for (int64_t row = b; row < e; row++) {
            const int64_t plane = row / OH, oh = row % OH;
            const float *x0 = j->x + plane * H * W + 2 * oh * W;
            avg2x2_row(j->y + plane * OH * OW + oh * OW, x0, x0 + W, OW);
        }
        return;
    }
    for (int64_t row = b; row < e; row++) {
        const int64_t plane = row / OH, oh = row % OH;
        const float *x = j->x + plane * H * W;
        float *y = j->y + plane * OH * OW + oh * OW;
        const int64_t hs = oh * g->s[0] - g->pb[0];
        int64_t kh0, kh1;
        nnl_tap_range(hs, KH, g->d[0], H, &kh0, &kh1);
        if (v)
            sep_sum(g, x, hs, kh0, kh1, v, y, ow_lo, ow_hi);
        else
            for (int64_t ow = 0; ow < OW; ow++) y[ow] = pool_one(g, x, hs, kh0, kh1, ow);
        if (kind == P_MAX) continue;
        if (kind == P_LP) {
            const float p = g->p;
            for (int64_t ow = 0; ow < OW; ow++)
                y[ow] = p == 2 ? sqrtf(y[ow]) : p == 1 ? y[ow] : powf(y[ow], 1.0f / p);
            continue;
        }
        /* Average: the divisor factors into a row part and a column part. */
        const int64_t cnt_h = g->include_pad ? taps_in(hs, KH, g->d[0], -g->pb[0], H + g->pe[0])
                                             : kh1 - kh0;
        const float inv = cnt_h > 0 ? 1.0f / (float)(cnt_h * KW) : 0.0f;
        int64_t ow = ow_lo;
        for (; ow + 8 <= ow_hi; ow += 8) {
            float t[8];
            for (int k = 0; k < 8; k++) t[k] = y[ow + k];
            for (int k = 0; k < 8; k++) y[ow + k] = t[k] * inv;
        }
        for (; ow < ow_hi; ow++) y[ow] *= inv;
        for (int side = 0; side < 2; side++)
            for (ow = side ? ow_hi : 0; ow < (side ? OW : ow_lo); ow++) {
                const int64_t ws = ow * SW - PL;
                int64_t kw0, kw1;
                nnl_tap_range(ws, KW, DW, W, &kw0, &kw1);
                const int64_t cnt =
                    cnt_h * (g->include_pad ? taps_in(ws, KW, DW, -PL, W + g->pe[1]) : kw1 - kw0);
                y[ow] = cnt > 0 ? y[ow] / (float)cnt : 0.0f;
            }
    }
}

/* ---- MaxPool rows ----------------------------------------------------------------------- */

/* Float32 runs the kernel set's MaxPool (kernels/maxpool_f32.h); 8-bit
 * data (QDQ models, passes/fuse_qdq.c) the same body (kernels/
 * maxpool_body.h) here, on 16-byte vectors (SSE2 / NEON).  int8 runs as
 * uint8 with the sign bit flipped on load and back on store (x ^ 0x80
 * keeps the order), so one unsigned max serves both; 0 stands for
 * -infinity (the type's least value, what an empty window gives). */
typedef uint8_t q8v __attribute__((vector_size(16)));

static inline q8v q8_max(q8v a, q8v v) {
#ifdef __clang__
    const q8v m = (q8v)(v > a);   /* clang: pmaxub / umax from the select */
    return (v & m) | (a & ~m);
#else
    q8v r;                        /* GCC: pmaxub / umax from the loop */
    for (int k = 0; k < 16; k++) r[k] = v[k] > a[k] ? v[k] : a[k];
    return r;
#endif
}

#define MP_T uint8_t
#define MP_V q8v
#define MP_L 16
#define MP_FN(name) q8_##name
#define MP_LOW 0
#define MP_MAX(a, v) q8_max(a, v)
#define MP_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define MP_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define MP_IN(x, f) ((x) ^ (f))
#define MP_FLIP8 0x80
#define MP_VP 1
#define MP_HV 2
#include "kernels/maxpool_body.h"

/* Rows of a MaxPool over the thread's scratch (exec checked it holds a
 * row buffer). */
static void maxpool_rows(void *ctx, int64_t b, int64_t e, int thread) {
    const pool_job *j = ctx;
    if (j->dt == NNL_DT_FLOAT)
        nnl_kernel_get()->maxpool(&j->p2, j->x, j->y, b, e, j->tscratch[thread]);
    else
        q8_rows(&j->p2, j->x, j->y, b, e, j->tscratch[thread]);
}

/* Planes [b, e) of a MaxPool, as maxpool_rows: from MAXPOOL_PLANE_PIECES
 * planes on, a MaxPool is split in whole planes (fewer go by rows). */
#define MAXPOOL_PLANE_PIECES 32
static void maxpool_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const pool_job *j = ctx;
    maxpool_rows(ctx, b * j->p2.out[0], e * j->p2.out[0], thread);
}

/* ---- N-D path (3-D pools) ---------------------------------------------------------- */

static void poolnd_rows(void *ctx, int64_t b, int64_t e, int thread) {
    const pool_job *j = ctx;
    const pool_geom *g = &j->g;
    (void)thread;
    const int ns = g->ns;
    int64_t in_sz = 1, out_sz = 1;
    for (int i = 0; i < ns; i++) {
        in_sz *= g->in[i];
        out_sz *= g->out[i];
    }
    for (int64_t item = b; item < e; item++) {
        const int64_t plane = item / out_sz;
        int64_t rem = item % out_sz;
        int64_t o[POOL_MAX_SPATIAL], st[POOL_MAX_SPATIAL], t0[POOL_MAX_SPATIAL],
            t1[POOL_MAX_SPATIAL];
        int64_t ntaps = 1, cnt_pad = 1;
        for (int i = ns - 1; i >= 0; i--) {
            o[i] = rem % g->out[i];
            rem /= g->out[i];
        }
        for (int i = 0; i < ns; i++) {
            st[i] = o[i] * g->s[i] - g->pb[i];
            nnl_tap_range(st[i], g->k[i], g->d[i], g->in[i], &t0[i], &t1[i]);
            ntaps *= t1[i] - t0[i];
            cnt_pad *= taps_in(st[i], g->k[i], g->d[i], -g->pb[i], g->in[i] + g->pe[i]);
        }
        const float *x = j->x + plane * in_sz;
        float acc = g->kind == P_MAX ? -INFINITY : 0.0f;
        int64_t t[POOL_MAX_SPATIAL];
        for (int i = 0; i < ns; i++) t[i] = t0[i];
        for (int64_t n = 0; n < ntaps; n++) {
            int64_t off = 0;
            for (int i = 0; i < ns; i++) off = off * g->in[i] + st[i] + t[i] * g->d[i];
            const float v = x[off];
            if (g->kind == P_MAX) acc = v > acc ? v : acc;
            else if (g->kind == P_AVG) acc += v;
            else acc += pow_p(v, g->p);
            for (int i = ns - 1; i >= 0; i--) {
                if (++t[i] < t1[i]) break;
                t[i] = t0[i];
            }
        }
        if (g->kind == P_AVG) {
            const int64_t cnt = g->include_pad ? cnt_pad : ntaps;
            acc = cnt > 0 ? acc / (float)cnt : 0.0f;
        } else if (g->kind == P_LP) {
            acc = powf(acc, 1.0f / g->p);
        }
        j->y[item] = acc;
    }
}

nnl_status nnl_nn_pool_exec(const nnl_op_call *c) {
    pool_job j;
    nnl_status st = pool_geometry(c, &j.g);
    if (st) return st;
    j.x = c->in[0]->data;
    j.y = c->out[0]->data;
    j.tscratch = c->thread_scratch;
    j.dt = c->in[0]->dtype;
    if (j.dt != NNL_DT_FLOAT && !j.tscratch)
        return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "8-bit MaxPool needs the per-thread scratch");
    pool_geom *g = &j.g;
    int64_t out_sz = 1;
    for (int i = 0; i < g->ns; i++) out_sz *= g->out[i];
    if (g->planes * out_sz == 0) return NNL_OK;
    if (g->ns <= 2) {
        as_2d(g);
        j.p2 = pool2d_of(g, j.dt);
        const int64_t per_row = g->out[1] * g->k[0] * g->k[1];
        /* MaxPool over the row buffer when it fits the thread scratch (8-bit
         * rows always do, infer checked), else window by window. */
        const bool rowbuf = g->kind == P_MAX && j.tscratch &&
                            nnl_pool2d_scratch_bytes(&j.p2, (int64_t)nnl_dtype_size(j.dt)) <=
                                (int64_t)NNL_THREAD_SCRATCH_BYTES;
        const int64_t grain = per_row >= 8192 ? 1 : 8192 / (per_row ? per_row : 1);
        /* A MaxPool of many planes in pieces of whole planes: the flat path
         * takes whole planes (a piece's partial ones went by rows, 4x the
         * time) and makes its bounds once a piece. */
        if (rowbuf && g->planes >= MAXPOOL_PLANE_PIECES)
            nnl_op_parallel(c->pool, g->planes, (grain + g->out[0] - 1) / g->out[0], maxpool_planes, &j);
        else
            nnl_op_parallel(c->pool, g->planes * g->out[0], grain, rowbuf ? maxpool_rows : pool2d_rows, &j);
    } else {
        nnl_op_parallel(c->pool, g->planes * out_sz, 1024, poolnd_rows, &j);
    }
    return NNL_OK;
}

/* ---- GlobalAveragePool / GlobalMaxPool ---------------------------------------------- */

nnl_status nnl_nn_global_pool_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const none[] = {NULL};
    nnl_status st = nnl_op_begin(c, none, 1, 1, 1, 1, NNL_OP_ANY);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "dtype %s is not supported (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank < 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "input must be N x C x ...");
    nnl_tensor *y = c->out[0];
    if ((st = nnl_op_set_like(c, y, x, NNL_DT_FLOAT))) return st;
    for (int i = 2; i < x->rank; i++) y->dims[i] = 1;
    r->flops = (double)nnl_tensor_numel(x);
    return NNL_OK;
}

typedef struct gpool_job {
    const float *x;
    float *y;
    int64_t n;
    bool max;
} gpool_job;

static void gpool_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const gpool_job *j = ctx;
    (void)thread;
    const int64_t n = j->n;
    for (int64_t pl = b; pl < e; pl++) {
        const float *x = j->x + pl * n;
        /* Eight partial results: independent chains that vectorise. */
        float q[8];
        int64_t i = 0;
        for (int k = 0; k < 8; k++) q[k] = j->max ? -INFINITY : 0.0f;
        if (j->max) {
            for (; i + 8 <= n; i += 8)
                for (int k = 0; k < 8; k++) q[k] = x[i + k] > q[k] ? x[i + k] : q[k];
            for (; i < n; i++) q[0] = x[i] > q[0] ? x[i] : q[0];
            float m = q[0];
            for (int k = 1; k < 8; k++) m = q[k] > m ? q[k] : m;
            j->y[pl] = m;
        } else {
            for (; i + 8 <= n; i += 8)
                for (int k = 0; k < 8; k++) q[k] += x[i + k];
            for (; i < n; i++) q[0] += x[i];
            float s = 0;
            for (int k = 0; k < 8; k++) s += q[k];
            j->y[pl] = n ? s / (float)n : NAN;
        }
    }
}

nnl_status nnl_nn_global_pool_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    gpool_job j = {x->data, c->out[0]->data, nnl_op_prod(x->dims, 2, x->rank),
                   strcmp(c->op, "GlobalMaxPool") == 0};
    int64_t planes = x->dims[0] * x->dims[1];
    nnl_op_parallel(c->pool, planes, j.n >= 16384 ? 1 : 16384 / (j.n ? j.n : 1), gpool_planes,
                    &j);
    return NNL_OK;
}
