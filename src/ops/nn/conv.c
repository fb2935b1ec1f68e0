/*
 * Conv (ONNX opset 1..) over NCHW / NCW float32, plus nnlink's fused
 * extras: optional input 3 "Z" (residual, Y's shape), optional input 4
 * "S" (N x C values, shape (N, C, 1[, 1]): X's channels are scaled by S
 * before the conv, a squeeze-and-excitation Mul fused away; group-1
 * implicit-GEMM convs only) and the nnl_act attributes.  The weight may be PLAIN, PACK_A8 (kernels/gemm.h) or, for
 * 3x3 stride-1 group-1 convs, WINO43 (kernels/wino.h).
 */
#include "kernels/conv.h"
#include "kernels/conv_taps.h"
#include "kernels/wino.h"
#include "ops/nn/conv_geom.h"
#include "ops/nn/nn_ops.h"

static const char *const conv_attrs[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};

/* Whether the weight is by taps (nnl_taps 1, passes/trim_taps.c): a
 * (kh kw oc) x c matrix, tap after tap, the kernel in kernel_shape. */
static bool by_taps(const nnl_op_call *c) { return nnl_attr_int(c, "nnl_taps", 0) != 0; }

/* The weight's ONNX dims (oc, c / group, kh, kw): a weight by taps as
 * such a view of its shape (no data). */
static nnl_status weight_view(const nnl_op_call *c, nnl_tensor *v) {
    const nnl_tensor *w = c->in[1];
    *v = *w;
    if (!by_taps(c)) return NNL_OK;
    int64_t k[2];
    nnl_status st = nnl_op_ints_attr(c, "kernel_shape", 2, 1, 1, k);
    if (st) return st;
    if (!nnl_attr_get(c, "kernel_shape") || c->in[0]->rank != 4 || w->rank != 2 || k[0] > 7 || k[1] > 7 ||
        w->dims[0] % (k[0] * k[1]) || w->dims[0] / (k[0] * k[1]) % NNL_MR)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "a weight by taps (nnl_taps) must be (kh kw oc) x c with oc a "
                                                   "multiple of 8, kernel_shape given, at most 7x7, on a 2-D conv");
    v->rank = 4;
    v->dims[0] = w->dims[0] / (k[0] * k[1]);
    v->dims[1] = w->dims[1];
    v->dims[2] = k[0];
    v->dims[3] = k[1];
    return NNL_OK;
}

/* Geometry from the input and weight shapes and the attributes; infer and
 * exec share it so they cannot disagree. */
static nnl_status conv_geometry(const nnl_op_call *c, nnl_conv_params *p) {
    nnl_tensor w;
    nnl_status st = weight_view(c, &w);
    if (!st) st = nnl_conv_geometry(c, c->in[0], &w, false, p);
    p->x_scaled = nnl_op_in(c, 4) != NULL;
    if (nnl_attr_get(c, "nnl_wino")) p->wino_pick = nnl_attr_int(c, "nnl_wino", 0) ? NNL_WINO_YES : NNL_WINO_NO;
    return st;
}

static void out_dims(const nnl_op_call *c, const nnl_conv_params *p, int64_t *dims) {
    dims[0] = p->n;
    dims[1] = p->oc;
    if (c->in[0]->rank == 3) {
        dims[2] = p->ow;
    } else {
        dims[2] = p->oh;
        dims[3] = p->ow;
    }
}

nnl_status nnl_nn_conv_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st;
    if ((st = nnl_op_check_io(c, 2, 5, 2, 1, 1))) return st;
    if ((st = nnl_attr_check(c, conv_attrs))) return st;
    const nnl_tensor *x = c->in[0], *w = c->in[1], *b = nnl_op_in(c, 2), *z = nnl_op_in(c, 3);
    if ((st = nn_check_float(c, x, "input X"))) return st;
    if ((st = nn_check_weight(c, w, "weight W", true))) return st;
    if ((st = nn_check_float(c, b, "bias B"))) return st;
    if ((st = nn_check_float(c, z, "residual Z"))) return st;
    const nnl_tensor *sc = nnl_op_in(c, 4);
    if ((st = nn_check_float(c, sc, "channel scale S"))) return st;
    if (x->layout != NNL_LAYOUT_PLAIN || (b && b->layout) || (z && z->layout) || (sc && sc->layout))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed data layout on a non-weight input");
    nnl_act act;
    float aa, ab;
    if ((st = nn_act(c, &act, &aa, &ab))) return st;
    nnl_conv_params p;
    if ((st = conv_geometry(c, &p))) return st;
    if (w->layout == NNL_LAYOUT_PACK_A8 && !nnl_conv_a8_ok(&p))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed weight with %lld output channels per group",
                           (long long)(p.oc / p.group));
    if (w->layout == NNL_LAYOUT_WINO43 && !nnl_wino_ok(&p))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "Winograd weight on a conv that is not 2-D 3x3, stride 1, group 1");
    if (w->layout != NNL_LAYOUT_PLAIN && w->layout != NNL_LAYOUT_PACK_A8 && w->layout != NNL_LAYOUT_WINO43)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "weight layout %d is not supported", (int)w->layout);
    if (by_taps(c) && (sc || !nnl_conv_taps_pays(&p, w->layout)))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "a weight by taps (nnl_taps) on a conv that does not run by taps");
    if (b && (b->rank != 1 || b->dims[0] != p.oc))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "bias must have %lld elements in one dim", (long long)p.oc);
    if (sc) {
        bool ok = sc->rank == x->rank && sc->dims[0] == p.n && sc->dims[1] == p.c && p.group == 1 &&
                  w->layout != NNL_LAYOUT_WINO43 && p.kh == 1 && p.kw == 1;
        for (int i = 2; ok && i < sc->rank; i++) ok = sc->dims[i] == 1;
        if (!ok)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "channel scale S must be (N, C, 1, 1) on a 1x1 group-1 conv");
    }
    int64_t dims[4];
    out_dims(c, &p, dims);
    if (z) {
        bool same = z->rank == x->rank;
        for (int i = 0; same && i < z->rank; i++) same = z->dims[i] == dims[i];
        if (!same) return nnl_op_fail(c, NNL_ERR_SHAPE, "residual Z must have the output's shape");
    }
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, dims))) return st;
    r->scratch_bytes = by_taps(c) ? nnl_conv_taps_scratch_bytes(&p) : nnl_conv_scratch_bytes(&p, w->layout);
    r->flops = 2.0 * (double)p.n * (double)p.oc * (double)(p.oh * p.ow) * (double)(p.c / p.group) *
               (double)(p.kh * p.kw);
    return NNL_OK;
}

nnl_status nnl_nn_conv_exec(const nnl_op_call *c) {
    nnl_conv_params p;
    nnl_status st = conv_geometry(c, &p);
    if (st) return st;
    const nnl_tensor *b = nnl_op_in(c, 2), *z = nnl_op_in(c, 3), *sc = nnl_op_in(c, 4);
    bool half = c->in[1]->dtype == NNL_DT_FLOAT16;
    nnl_conv_args a = {
        .x_scale = sc ? sc->data : NULL,
        .x = c->in[0]->data,
        .w = half ? NULL : c->in[1]->data,
        .wh = half ? c->in[1]->data : NULL,
        .w_layout = c->in[1]->layout,
        .bias = b ? b->data : NULL,
        .res = z ? z->data : NULL,
        .y = c->out[0]->data,
        .scratch = c->scratch,
        .scratch_bytes = !c->scratch ? 0
                         : by_taps(c) ? nnl_conv_taps_scratch_bytes(&p)
                                      : nnl_conv_scratch_bytes(&p, c->in[1]->layout),
        .w_taps = by_taps(c),
    };
    if ((st = nn_act(c, &a.act, &a.act_a, &a.act_b))) return st;
    return nnl_conv2d(&p, &a, NULL, c->pool, c->thread_scratch);
}
