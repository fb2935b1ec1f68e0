/*
 * NnlQLinearAdd (nnlink's own op, made by passes/fuse_qdq.c from a
 * residual island of a QDQ model):
 *   inputs  a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale,
 *           y_zero_point (8-bit, per tensor, a and b of one shape)
 *   attrs   nnl_ymin, nnl_ymax (a fused Relu / Clip, in y's type)
 *   y = clamp(QuantizeLinear(DequantizeLinear(a) + DequantizeLinear(b)),
 *             nnl_ymin, nnl_ymax)
 * with the float32 arithmetic of those ops (ops/quant/qvec.h), so it
 * equals the DequantizeLinear -> Add -> Relu -> QuantizeLinear chain it
 * replaces bit for bit, in one pass over 8-bit data instead of four over
 * float.
 */
#include "ops/quant/quant_ops.h"
#include "ops/quant/qvec.h"

static bool is_q8(nnl_dtype dt) { return dt == NNL_DT_UINT8 || dt == NNL_DT_INT8; }

static int32_t zp_of(const nnl_tensor *z) {
    return z->dtype == NNL_DT_UINT8 ? *(const uint8_t *)z->data : *(const int8_t *)z->data;
}

/* Scale (float, one element) and zero point (one element, q's type). */
static nnl_status check_pair(const nnl_op_call *c, const nnl_tensor *q, const nnl_tensor *s, const nnl_tensor *z,
                             const char *what) {
    if (!is_q8(q->dtype))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s has dtype %s (uint8 / int8 only)", what,
                           nnl_dtype_name(q->dtype));
    if (s->dtype != NNL_DT_FLOAT || nnl_tensor_numel(s) != 1 || s->rank > 1 || z->dtype != q->dtype ||
        nnl_tensor_numel(z) != 1 || z->rank > 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s needs a one-element float32 scale and zero point of its type", what);
    return NNL_OK;
}

nnl_status nnl_quant_qadd_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"nnl_ymin", "nnl_ymax", NULL};
    nnl_status st = nnl_op_begin(c, known, 8, 8, 8, 1, 1);
    if (st) return st;
    const nnl_tensor *a = c->in[0], *b = c->in[3], *yz = c->in[7];
    if ((st = check_pair(c, a, c->in[1], c->in[2], "a")) || (st = check_pair(c, b, c->in[4], c->in[5], "b")) ||
        (st = check_pair(c, yz, c->in[6], yz, "y")))
        return st;
    bool same = a->rank == b->rank;
    for (int i = 0; same && i < a->rank; i++) same = a->dims[i] == b->dims[i];
    if (!same) return nnl_op_fail(c, NNL_ERR_SHAPE, "a and b must have one shape");
    const int64_t lo = yz->dtype == NNL_DT_UINT8 ? 0 : -128, hi = yz->dtype == NNL_DT_UINT8 ? 255 : 127;
    int64_t ymin, ymax;
    if ((st = nnl_op_attr_int(c, "nnl_ymin", lo, &ymin)) || (st = nnl_op_attr_int(c, "nnl_ymax", hi, &ymax)))
        return st;
    if (ymin < lo || ymax > hi || ymin > ymax)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "clamp [%lld, %lld] outside %s's range or empty", (long long)ymin,
                           (long long)ymax, nnl_dtype_name(yz->dtype));
    if ((st = nnl_op_set_like(c, c->out[0], a, yz->dtype))) return st;
    r->flops = 6.0 * (double)nnl_tensor_numel(a);
    return NNL_OK;
}

typedef struct qadd_job {
    const void *a, *b;
    void *y;
    nnl_qparam pa, pb, py;
    int32_t ymin, ymax;
} qadd_job;

static void qadd_range(void *ctx, int64_t b, int64_t e, int thread) {
    const qadd_job *j = ctx;
    (void)thread;
    /* the clamp as quantized-domain bounds minus the zero point, which is
     * where nnl_q16 clamps before rounding */
    nnl_qparam py = j->py;
    py.lo = (float)(j->ymin - py.z);
    py.hi = (float)(j->ymax - py.z);
    const char *pa = j->a, *pb = j->b;
    char *y = j->y;
    int64_t i = b;
    for (; i + 16 <= e; i += 16) {
        nnl_v4f va[4], vb[4];
        nnl_dq16(pa + i, &j->pa, va);
        nnl_dq16(pb + i, &j->pb, vb);
        for (int k = 0; k < 4; k++) va[k] += vb[k];
        nnl_q16(y + i, va, &py);
    }
    for (; i < e; i++) nnl_q1(y, i, nnl_dq1(pa, i, &j->pa) + nnl_dq1(pb, i, &j->pb), &py);
}

nnl_status nnl_quant_qadd_exec(const nnl_op_call *c) {
    const nnl_tensor *a = c->in[0], *b = c->in[3], *yz = c->in[7];
    const int64_t lo = yz->dtype == NNL_DT_UINT8 ? 0 : -128, hi = yz->dtype == NNL_DT_UINT8 ? 255 : 127;
    int64_t ymin, ymax;
    nnl_status st = nnl_op_attr_int(c, "nnl_ymin", lo, &ymin);
    if (!st) st = nnl_op_attr_int(c, "nnl_ymax", hi, &ymax);
    if (st) return st;
    qadd_job j = {
        .a = a->data, .b = b->data, .y = c->out[0]->data,
        .pa = nnl_qparam_make(*(const float *)c->in[1]->data, zp_of(c->in[2]), a->dtype == NNL_DT_UINT8),
        .pb = nnl_qparam_make(*(const float *)c->in[4]->data, zp_of(c->in[5]), b->dtype == NNL_DT_UINT8),
        .py = nnl_qparam_make(*(const float *)c->in[6]->data, zp_of(yz), yz->dtype == NNL_DT_UINT8),
        .ymin = (int32_t)ymin, .ymax = (int32_t)ymax,
    };
    nnl_op_parallel_bytes(c->pool, nnl_tensor_numel(a), 3.0, qadd_range, &j);
    return NNL_OK;
}
