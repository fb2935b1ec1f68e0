/*
 * NnlQLinearAdd (nnlink's own op, made by passes/fuse_qdq.c from a
 * residual island of a QDQ model):
 *   inputs  a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale,
 *           y_zero_point (8-bit, per tensor, a and b of one shape)
 *   attrs   nnl_ymin, nnl_ymax (a fused Relu / Clip, in y's type)
 *   y = clamp(QuantizeLinear(DequantizeLinear(a) + DequantizeLinear(b)),
 *             nnl_ymin, nnl_ymax)
 * with the float32 arithmetic of those ops (kernels/qadd_body.h, a kernel
 * table entry, so it runs at the set's vector width), so it
 * equals the DequantizeLinear -> Add -> Relu -> QuantizeLinear chain it
 * replaces bit for bit, in one pass over 8-bit data instead of four over
 * float.
 */
#include "ops/quant/quant_ops.h"
#include "kernels/gemm.h"

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
    const char *a, *b;
    char *y;
    nnl_qadd_params p;
    const nnl_kernel *kern;
} qadd_job;

static void qadd_range(void *ctx, int64_t b, int64_t e, int thread) {
    const qadd_job *j = ctx;
    (void)thread;
    j->kern->qadd(j->y + b, j->a + b, j->b + b, e - b, &j->p);
}

nnl_status nnl_quant_qadd_exec(const nnl_op_call *c) {
    const nnl_tensor *a = c->in[0], *b = c->in[3], *yz = c->in[7];
    const int64_t lo = yz->dtype == NNL_DT_UINT8 ? 0 : -128, hi = yz->dtype == NNL_DT_UINT8 ? 255 : 127;
    int64_t ymin, ymax;
    nnl_status st = nnl_op_attr_int(c, "nnl_ymin", lo, &ymin);
    if (!st) st = nnl_op_attr_int(c, "nnl_ymax", hi, &ymax);
    if (st) return st;
    const int32_t zy = zp_of(yz);
    /* the clamp as quantized-domain bounds minus the zero point, where the
     * kernel clamps before rounding */
    qadd_job j = {
        .a = a->data, .b = b->data, .y = c->out[0]->data, .kern = nnl_kernel_get(),
        .p = {.sa = *(const float *)c->in[1]->data, .sb = *(const float *)c->in[4]->data,
              .sy = *(const float *)c->in[6]->data, .lo = (float)((int32_t)ymin - zy), .hi = (float)((int32_t)ymax - zy),
              .za = zp_of(c->in[2]), .zb = zp_of(c->in[5]), .zy = zy, .a_u8 = a->dtype == NNL_DT_UINT8,
              .b_u8 = b->dtype == NNL_DT_UINT8, .y_u8 = yz->dtype == NNL_DT_UINT8},
    };
    nnl_op_parallel_bytes(c->pool, nnl_tensor_numel(a), 3.0, qadd_range, &j);
    return NNL_OK;
}
