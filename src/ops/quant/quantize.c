/*
 * QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear between
 * float32 and uint8 / int8 (DequantizeLinear also reads int32).
 *
 * Scale and zero point are per tensor (one element) or per axis (1-D, one
 * per slice of `axis`).  Quantizing divides in float32, rounds half to even
 * (rintf under the default rounding mode) and saturates, as the ONNX
 * reference does; NaN quantizes to the zero point.  Blocked quantization
 * (opset 21 block_size) is refused.
 */
#include <math.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops/quant/quant_ops.h"
#include "ops/quant/qvec.h"

/* Per-axis geometry: element i uses parameter (i / inner) % n. */
typedef struct qgeom {
    int64_t inner, n;
} qgeom;

static nnl_status check_params(const nnl_op_call *c, const nnl_tensor *x, const nnl_tensor *scale,
                               const nnl_tensor *zp, qgeom *g) {
    if (scale->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "scale has dtype %s (float32 only)",
                           nnl_dtype_name(scale->dtype));
    const int64_t ns = nnl_tensor_numel(scale);
    if (zp) {
        bool same = zp->rank == scale->rank;
        for (int i = 0; same && i < zp->rank; i++) same = zp->dims[i] == scale->dims[i];
        if (!same && !(nnl_tensor_numel(zp) == 1 && ns == 1))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "zero point and scale differ in shape");
    }
    g->inner = 1;
    g->n = 1;
    if (scale->rank > 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "scale must be a scalar or 1-D");
    /* One element is per tensor whatever the axis says. */
    if (ns == 1) return NNL_OK;
    int axis;
    nnl_status st = nnl_op_axis(c, nnl_attr_int(c, "axis", 1), x->rank, "axis", &axis);
    if (st) return st;
    if (ns != x->dims[axis])
        return nnl_op_fail(c, NNL_ERR_SHAPE, "scale has %lld elements, axis %d has %lld",
                           (long long)ns, axis, (long long)x->dims[axis]);
    g->n = ns;
    g->inner = nnl_op_prod(x->dims, axis + 1, x->rank);
    return NNL_OK;
}

static nnl_status check_attrs(const nnl_op_call *c) {
    static const char *const known[] = {"axis", "saturate", "block_size", "output_dtype", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    if (nnl_attr_int(c, "block_size", 0) != 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "block_size (blocked quantization) is not "
                           "supported");
    return NNL_OK;
}

/* The end (at most e) of the run of elements from i that share parameter
 * *k: the slice of `axis` holding i, or all of [i, e) per tensor. */
static int64_t slice_end(const qgeom *g, int64_t i, int64_t e, int64_t *k) {
    const int64_t slice = i / g->inner;
    *k = slice % g->n;
    return g->n == 1 || (slice + 1) * g->inner > e ? e : (slice + 1) * g->inner;
}

static bool is_q8(nnl_dtype dt) { return dt == NNL_DT_UINT8 || dt == NNL_DT_INT8; }

/* ---- QuantizeLinear ---------------------------------------------------------------- */

nnl_status nnl_quant_quantize_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st = check_attrs(c);
    if (st) return st;
    if ((st = nnl_op_check_io(c, 2, 3, 2, 1, 1)) || (st = nnl_op_check_inputs(c))) return st;
    const nnl_tensor *x = c->in[0], *zp = nnl_op_in(c, 2);
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "x has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    nnl_dtype odt = zp ? zp->dtype : NNL_DT_UINT8;
    const int64_t want = nnl_attr_int(c, "output_dtype", 0);
    if (want != 0 && zp && want != (int64_t)zp->dtype)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "output_dtype differs from the zero point's");
    if (want != 0) odt = (nnl_dtype)want;
    if (!is_q8(odt))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output dtype %s is not supported "
                           "(uint8 / int8 only)", nnl_dtype_name(odt));
    qgeom g;
    if ((st = check_params(c, x, c->in[1], zp, &g))) return st;
    if ((st = nnl_op_set_out(c, c->out[0], odt, x->rank, x->dims))) return st;
    r->flops = 2.0 * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

typedef struct q_job {
    const float *x, *scale;
    const void *zp;
    void *y;
    nnl_dtype dt;
    qgeom g;
    const nnl_kernel *kern;
} q_job;

/* Elements [b, e) a slice of one scale and zero point at a time (the whole
 * range when per tensor), each by the kernel set's quant. */
static void quant_range(void *ctx, int64_t b, int64_t e, int thread) {
    const q_job *j = ctx;
    (void)thread;
    const bool u8 = j->dt == NNL_DT_UINT8;
    for (int64_t i = b; i < e;) {
        int64_t k;
        const int64_t end = slice_end(&j->g, i, e, &k);
        const int32_t z = !j->zp ? 0 : u8 ? ((const uint8_t *)j->zp)[k] : ((const int8_t *)j->zp)[k];
        const nnl_quant_params p = {.s = j->scale[k], .lo = (u8 ? 0.0f : -128.0f) - (float)z,
                                    .hi = (u8 ? 255.0f : 127.0f) - (float)z, .z = z, .y_u8 = u8};
        j->kern->quant((char *)j->y + i, j->x + i, end - i, &p);
        i = end;
    }
}

nnl_status nnl_quant_quantize_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *zp = nnl_op_in(c, 2);
    q_job j = {x->data, c->in[1]->data, zp ? zp->data : NULL, c->out[0]->data, c->out[0]->dtype,
               {1, 1}, nnl_kernel_get()};
    nnl_status st = check_params(c, x, c->in[1], zp, &j.g);
    if (st) return st;
    nnl_op_parallel(c->pool, nnl_tensor_numel(x), 16384, quant_range, &j);
    return NNL_OK;
}

/* ---- DequantizeLinear -------------------------------------------------------------- */

nnl_status nnl_quant_dequantize_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st = check_attrs(c);
    if (st) return st;
    if ((st = nnl_op_check_io(c, 2, 3, 2, 1, 1)) || (st = nnl_op_check_inputs(c))) return st;
    const nnl_tensor *x = c->in[0], *zp = nnl_op_in(c, 2);
    if (!is_q8(x->dtype) && x->dtype != NNL_DT_INT32)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "x has dtype %s (uint8, int8, int32 only)",
                           nnl_dtype_name(x->dtype));
    if (zp && zp->dtype != x->dtype)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "zero point dtype %s differs from x's %s",
                           nnl_dtype_name(zp->dtype), nnl_dtype_name(x->dtype));
    if (nnl_attr_int(c, "output_dtype", 0) != 0 &&
        nnl_attr_int(c, "output_dtype", 0) != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output_dtype other than float32");
    qgeom g;
    if ((st = check_params(c, x, c->in[1], zp, &g))) return st;
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, x->dims))) return st;
    r->flops = 2.0 * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

typedef struct dq_job {
    const void *x, *zp;
    const float *scale;
    float *y;
    nnl_dtype dt;
    qgeom g;
} dq_job;

static int64_t load_q(const void *p, nnl_dtype dt, int64_t i) {
    switch (dt) {
    case NNL_DT_UINT8: return ((const uint8_t *)p)[i];
    case NNL_DT_INT8: return ((const int8_t *)p)[i];
    default: return ((const int32_t *)p)[i];
    }
}

/* int32 (per tensor or per axis), one element at a time. */
static void dequant_range32(void *ctx, int64_t b, int64_t e, int thread) {
    const dq_job *j = ctx;
    (void)thread;
    for (int64_t i = b; i < e; i++) {
        const int64_t k = (i / j->g.inner) % j->g.n;
        const int64_t z = j->zp ? load_q(j->zp, j->dt, k) : 0;
        j->y[i] = (float)(load_q(j->x, j->dt, i) - z) * j->scale[k];
    }
}

/* 8-bit: as quant_range, a slice of one scale and zero point at a time. */
static void dequant_range8(void *ctx, int64_t b, int64_t e, int thread) {
    const dq_job *j = ctx;
    (void)thread;
    const char *x = j->x;
    float *y = j->y;
    for (int64_t i = b; i < e;) {
        int64_t k;
        const int64_t end = slice_end(&j->g, i, e, &k);
        const nnl_qparam p = nnl_qparam_make(j->scale[k], j->zp ? (int32_t)load_q(j->zp, j->dt, k) : 0,
                                             j->dt == NNL_DT_UINT8);
        for (; i + 16 <= end; i += 16) nnl_dq16(x + i, &p, y + i);
        for (; i < end; i++) y[i] = nnl_dq1(x, i, &p);
    }
}

nnl_status nnl_quant_dequantize_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *zp = nnl_op_in(c, 2);
    dq_job j = {x->data, zp ? zp->data : NULL, c->in[1]->data, c->out[0]->data, x->dtype, {1, 1}};
    nnl_status st = check_params(c, x, c->in[1], zp, &j.g);
    if (st) return st;
    nnl_op_parallel(c->pool, nnl_tensor_numel(x), 16384, x->dtype == NNL_DT_INT32 ? dequant_range32 : dequant_range8,
                    &j);
    return NNL_OK;
}

/* ---- DynamicQuantizeLinear --------------------------------------------------------- */

nnl_status nnl_quant_dynquant_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st = nnl_op_begin(c, (const char *const[]){NULL}, 1, 1, 1, 0, 3);
    if (st) return st;
    const nnl_tensor *x = c->in[0];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "x has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    nnl_tensor *y = nnl_op_out(c, 0), *s = nnl_op_out(c, 1), *z = nnl_op_out(c, 2);
    if (y && (st = nnl_op_set_out(c, y, NNL_DT_UINT8, x->rank, x->dims))) return st;
    if (s && (st = nnl_op_set_out(c, s, NNL_DT_FLOAT, 0, NULL))) return st;
    if (z && (st = nnl_op_set_out(c, z, NNL_DT_UINT8, 0, NULL))) return st;
    r->flops = 3.0 * (double)nnl_tensor_numel(x);
    return NNL_OK;
}

nnl_status nnl_quant_dynquant_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    const float *xv = x->data;
    const int64_t n = nnl_tensor_numel(x);
    /* The range always includes 0 so that 0 is exactly representable. */
    float mn = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        mn = xv[i] < mn ? xv[i] : mn;
        mx = xv[i] > mx ? xv[i] : mx;
    }
    const float scale = (mx - mn) / 255.0f;
    float zpf = 0;
    if (scale > 0) {
        zpf = 0.0f - mn / scale;
        zpf = rintf(zpf < 0 ? 0 : zpf > 255 ? 255 : zpf);
    }
    const uint8_t zp = (uint8_t)zpf;
    nnl_tensor *y = nnl_op_out(c, 0), *s = nnl_op_out(c, 1), *z = nnl_op_out(c, 2);
    if (s) *(float *)s->data = scale;
    if (z) *(uint8_t *)z->data = zp;
    if (!y) return NNL_OK;
    if (!(scale > 0)) {
        /* All zeros (or NaN in the input): every value is the zero point. */
        memset(y->data, 0, (size_t)n);
        return NNL_OK;
    }
    q_job j = {xv, &scale, &zp, y->data, NNL_DT_UINT8, {1, 1}, nnl_kernel_get()};
    nnl_op_parallel(c->pool, n, 16384, quant_range, &j);
    return NNL_OK;
}
