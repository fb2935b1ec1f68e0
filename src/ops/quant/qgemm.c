/*
 * NnlQGemm (nnlink's own op, made by passes/fuse_qdq.c from a QDQ model's
 * Gemm: a classifier head over DequantizeLinear'd activations, an int8
 * weight and an int32 bias, its output left in float):
 *   inputs  x (M x K, uint8 / int8), x_scale, x_zero_point (per tensor),
 *           w (N x K int8, PLAIN or PACK_Q8), w_scale (1 or N),
 *           w_zero_point (all 0, or absent), bias (N int32, scale
 *           x_scale * w_scale[n]; optional)
 *   attrs   the Gemm's transA = 0, transB = 1, alpha = beta = 1; nnl_w7 = 1
 *           when w lies within [-64, 64] (passes/pack_q8.c)
 *   y[m][n] = (float)(sum_k w[n][k] (x[m][k] - zx) + bias[n]) * (x_scale * w_scale[n])
 * int32 sums (kernels/qconv.h nnl_qgemm_f32), as ONNX Runtime's QGemm of
 * the same file computes them; the float Gemm it replaces summed the
 * dequantized values in float instead (outputs within float rounding of
 * each other).  A PLAIN weight (one that something else also reads) runs
 * the same arithmetic as loops.
 */
#include <math.h>
#include <string.h>

#include "ops/quant/quant_ops.h"
#include "kernels/qconv.h"

static bool is_q8(nnl_dtype dt) { return dt == NNL_DT_UINT8 || dt == NNL_DT_INT8; }

static int32_t q8_at(const nnl_tensor *t, int64_t i) {
    return t->dtype == NNL_DT_UINT8 ? ((const uint8_t *)t->data)[i] : ((const int8_t *)t->data)[i];
}

static bool all_zero8(const nnl_tensor *t) {
    if (!t->data) return false; /* not a value known here */
    for (int64_t i = 0; i < nnl_tensor_numel(t); i++)
        if (((const int8_t *)t->data)[i]) return false;
    return true;
}

static float scale_at(const nnl_tensor *s, int64_t i) {
    return ((const float *)s->data)[nnl_tensor_numel(s) == 1 ? 0 : i];
}

nnl_status nnl_quant_qgemm_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"transA", "transB", "alpha", "beta", "nnl_w7", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st || (st = nnl_op_check_io(c, 5, 7, 5, 1, 1))) return st;
    const nnl_tensor *x = c->in[0], *sx = c->in[1], *zx = c->in[2], *w = c->in[3], *sw = c->in[4];
    const nnl_tensor *zw = c->n_in > 5 ? c->in[5] : NULL, *b = c->n_in > 6 ? c->in[6] : NULL;
    int64_t ta, tb;
    const nnl_attr *al = NULL, *be = NULL;
    for (int i = 0; i < c->n_attrs; i++) {
        if (!strcmp(c->attrs[i].name, "alpha")) al = &c->attrs[i];
        if (!strcmp(c->attrs[i].name, "beta")) be = &c->attrs[i];
    }
    if ((st = nnl_op_attr_int(c, "transA", 0, &ta)) || (st = nnl_op_attr_int(c, "transB", 1, &tb))) return st;
    if (ta != 0 || tb != 1 || (al && (al->type != NNL_ATTR_FLOAT || al->f != 1.0f)) ||
        (be && (be->type != NNL_ATTR_FLOAT || be->f != 1.0f)))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "runs transA = 0, transB = 1, alpha = beta = 1 only");
    if (!is_q8(x->dtype) || x->layout != NNL_LAYOUT_PLAIN || x->rank != 2)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "x must be a uint8 / int8 matrix");
    if (w->dtype != NNL_DT_INT8 || w->rank != 2 ||
        (w->layout != NNL_LAYOUT_PLAIN && w->layout != NNL_LAYOUT_PACK_Q8) || w->dims[1] != x->dims[1])
        return nnl_op_fail(c, NNL_ERR_SHAPE, "w must be an int8 N x K matrix of x's K (%lld)", (long long)x->dims[1]);
    const int64_t n = w->dims[0];
    if (sx->dtype != NNL_DT_FLOAT || nnl_tensor_numel(sx) != 1 || zx->dtype != x->dtype || nnl_tensor_numel(zx) != 1 ||
        sw->dtype != NNL_DT_FLOAT || (nnl_tensor_numel(sw) != 1 && nnl_tensor_numel(sw) != n) ||
        (zw && (zw->dtype != NNL_DT_INT8 || !all_zero8(zw))) ||
        (b && (b->dtype != NNL_DT_INT32 || nnl_tensor_numel(b) != n)))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "scales, zero points or bias of the wrong type or size");
    if (w->layout == NNL_LAYOUT_PACK_Q8 && (zw || !nnl_qgemm_fits(x->dims[1])))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed weight with a zero point or a K the kernel does not run");
    const int64_t od[2] = {x->dims[0], n};
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, 2, od))) return st;
    r->flops = 2.0 * (double)x->dims[0] * (double)n * (double)x->dims[1];
    return NNL_OK;
}

nnl_status nnl_quant_qgemm_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *w = c->in[3], *sw = c->in[4];
    const nnl_tensor *b = c->n_in > 6 ? c->in[6] : NULL;
    const float sx = *(const float *)c->in[1]->data;
    if (!(sx > 0) || !isfinite(sx)) return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "x_scale %g must be positive", (double)sx);
    nnl_qgemm_args a = {.x = x->data, .x_signed = x->dtype == NNL_DT_INT8, .x_zp = q8_at(c->in[2], 0), .x_scale = sx,
                        .w = w->data, .bias = b ? b->data : NULL, .y = c->out[0]->data, .m = x->dims[0],
                        .n = w->dims[0], .k = x->dims[1]};
    if (w->layout == NNL_LAYOUT_PACK_Q8) {
        nnl_status st = nnl_quant_w7(c, &a.w7);
        if (st) return st;
        st = nnl_qgemm_f32(&a, NULL, c->pool, c->thread_scratch);
        return st ? nnl_op_fail(c, st, "the integer GEMM refused it") : NNL_OK;
    }
    const int8_t *wv = w->data;
    for (int64_t m = 0; m < a.m; m++)
        for (int64_t r = 0; r < a.n; r++) {
            uint32_t acc = a.bias ? (uint32_t)a.bias[r] : 0u;
            for (int64_t k = 0; k < a.k; k++) acc += (uint32_t)(wv[r * a.k + k] * (q8_at(x, m * a.k + k) - a.x_zp));
            a.y[m * a.n + r] = (float)(int32_t)acc * (sx * scale_at(sw, r));
        }
    return NNL_OK;
}
