/*
 * Conv (ONNX opset 1..) over NCHW / NCW float32, plus nnlink's fused
 * extras: optional input 3 "Z" (residual, Y's shape) and the nnl_act
 * attributes.  The weight may be PLAIN, PACK_A8 (kernels/gemm.h) or, for
 * 3x3 stride-1 group-1 convs, WINO43 (kernels/wino.h).
 */
#include <string.h>

#include "kernels/conv.h"
#include "kernels/wino.h"
#include "ops/nn_ops.h"

static const char *const conv_attrs[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};

static nnl_status ints_attr(const nnl_op_call *c, const char *name, int n, int64_t def, int64_t min, int64_t *v) {
    const nnl_attr *a = nnl_attr_get(c, name);
    for (int i = 0; i < n; i++) v[i] = def;
    if (!a) return NNL_OK;
    if (a->type != NNL_ATTR_INTS || a->n != n)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' must list %d ints", name, n);
    for (int i = 0; i < n; i++) {
        if (a->ints[i] < min)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute '%s' has value %lld < %lld", name, (long long)a->ints[i],
                           (long long)min);
        v[i] = a->ints[i];
    }
    return NNL_OK;
}

nnl_status nn_check_geometry(const nnl_op_call *c, int ns, const int64_t *k, const int64_t *s, const int64_t *d,
                             const int64_t *pads) {
    const int64_t lim = 1 << 20;
    for (int i = 0; i < ns; i++)
        if (k[i] < 1 || k[i] > lim || s[i] < 1 || s[i] > lim || d[i] < 1 || d[i] > lim)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "kernel, stride or dilation outside [1, 2^20]");
    for (int i = 0; pads && i < 2 * ns; i++)
        if (pads[i] < -lim || pads[i] > lim)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "pad %lld outside [-2^20, 2^20]", (long long)pads[i]);
    return NNL_OK;
}

/* Geometry from the input and weight shapes and the attributes; infer and
 * exec share it so they cannot disagree. */
static nnl_status conv_geometry(const nnl_op_call *c, nnl_conv_params *p) {
    const nnl_tensor *x = c->in[0], *w = c->in[1];
    memset(p, 0, sizeof *p);
    if (x->rank != 3 && x->rank != 4)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input of rank %d: only 1-D and 2-D convolutions (rank 3 or 4)",
                       x->rank);
    if (w->rank != x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "weight rank %d differs from input rank %d", w->rank, x->rank);
    const int ns = x->rank - 2;
    int64_t k[2], s[2], d[2], pads[4];
    nnl_status st;
    if ((st = ints_attr(c, "strides", ns, 1, 1, s))) return st;
    if ((st = ints_attr(c, "dilations", ns, 1, 1, d))) return st;
    if ((st = ints_attr(c, "pads", 2 * ns, 0, 0, pads))) return st;
    if ((st = ints_attr(c, "kernel_shape", ns, 1, 1, k))) return st;
    for (int i = 0; i < ns; i++) {
        if (nnl_attr_get(c, "kernel_shape") && k[i] != w->dims[2 + i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'kernel_shape' does not match the weight's shape");
        k[i] = w->dims[2 + i];
        if (k[i] < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "weight has an empty kernel");
    }
    /* also what the row kernels take as int */
    if ((st = nn_check_geometry(c, ns, k, s, d, pads))) return st;
    const nnl_attr *ga = nnl_attr_get(c, "group");
    if (ga && ga->type != NNL_ATTR_INT) return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'group' must be an int");
    p->group = ga ? ga->i : 1;
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->oc = w->dims[0];
    if (p->group < 1 || p->oc % p->group || w->dims[1] * p->group != p->c || p->oc < 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE,
                       "group %lld does not fit %lld input channels and a weight of %lld x %lld channels",
                       (long long)p->group, (long long)p->c, (long long)p->oc, (long long)w->dims[1]);
    const char *ap = nnl_attr_str(c, "auto_pad", "NOTSET");
    bool upper = strcmp(ap, "SAME_UPPER") == 0, lower = strcmp(ap, "SAME_LOWER") == 0;
    bool valid = strcmp(ap, "VALID") == 0, notset = strcmp(ap, "NOTSET") == 0 || !ap[0];
    if (!upper && !lower && !valid && !notset)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'auto_pad' value '%s' is not supported", ap);
    if (!notset && nnl_attr_get(c, "pads"))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'pads' together with auto_pad '%s'", ap);
    int64_t in[2], out[2], pb[2], pe[2];
    for (int i = 0; i < ns; i++) {
        in[i] = x->dims[2 + i];
        int64_t ext = (k[i] - 1) * d[i] + 1;
        if (upper || lower) {
            out[i] = (in[i] + s[i] - 1) / s[i];
            int64_t total = (out[i] - 1) * s[i] + ext - in[i];
            if (total < 0) total = 0;
            pb[i] = upper ? total / 2 : total - total / 2;
            pe[i] = total - pb[i];
        } else {
            pb[i] = valid ? 0 : pads[i];
            pe[i] = valid ? 0 : pads[ns + i];
            int64_t span = in[i] + pb[i] + pe[i] - ext;
            if (span < 0)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel extent %lld exceeds padded input %lld", (long long)ext,
                               (long long)(in[i] + pb[i] + pe[i]));
            out[i] = span / s[i] + 1;
        }
    }
    if (ns == 1) {
        p->h = 1, p->kh = 1, p->sh = 1, p->dh = 1, p->pt = 0, p->pb = 0, p->oh = 1;
        p->w = in[0], p->kw = k[0], p->sw = s[0], p->dw = d[0], p->pl = pb[0], p->pr = pe[0], p->ow = out[0];
    } else {
        p->h = in[0], p->kh = k[0], p->sh = s[0], p->dh = d[0], p->pt = pb[0], p->pb = pe[0], p->oh = out[0];
        p->w = in[1], p->kw = k[1], p->sw = s[1], p->dw = d[1], p->pl = pb[1], p->pr = pe[1], p->ow = out[1];
    }
    return NNL_OK;
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
    if ((st = nnl_op_check_io(c, 2, 4, 2, 1, 1))) return st;
    if ((st = nnl_attr_check(c, conv_attrs))) return st;
    const nnl_tensor *x = c->in[0], *w = c->in[1], *b = nnl_op_in(c, 2), *z = nnl_op_in(c, 3);
    if ((st = nn_check_float(c, x, "input X"))) return st;
    if ((st = nn_check_float(c, w, "weight W"))) return st;
    if ((st = nn_check_float(c, b, "bias B"))) return st;
    if ((st = nn_check_float(c, z, "residual Z"))) return st;
    if (x->layout != NNL_LAYOUT_PLAIN || (b && b->layout) || (z && z->layout))
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
    if (b && (b->rank != 1 || b->dims[0] != p.oc))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "bias must have %lld elements in one dim", (long long)p.oc);
    int64_t dims[4];
    out_dims(c, &p, dims);
    if (z) {
        bool same = z->rank == x->rank;
        for (int i = 0; same && i < z->rank; i++) same = z->dims[i] == dims[i];
        if (!same) return nnl_op_fail(c, NNL_ERR_SHAPE, "residual Z must have the output's shape");
    }
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, x->rank, dims))) return st;
    r->scratch_bytes = nnl_conv_scratch_bytes(&p, w->layout);
    r->flops = 2.0 * (double)p.n * (double)p.oc * (double)(p.oh * p.ow) * (double)(p.c / p.group) *
               (double)(p.kh * p.kw);
    return NNL_OK;
}

nnl_status nnl_nn_conv_exec(const nnl_op_call *c) {
    nnl_conv_params p;
    nnl_status st = conv_geometry(c, &p);
    if (st) return st;
    const nnl_tensor *b = nnl_op_in(c, 2), *z = nnl_op_in(c, 3);
    nnl_conv_args a = {
        .x = c->in[0]->data,
        .w = c->in[1]->data,
        .w_layout = c->in[1]->layout,
        .bias = b ? b->data : NULL,
        .res = z ? z->data : NULL,
        .y = c->out[0]->data,
        .scratch = c->scratch,
        .scratch_bytes = c->scratch ? nnl_conv_scratch_bytes(&p, c->in[1]->layout) : 0,
    };
    if ((st = nn_act(c, &a.act, &a.act_a, &a.act_b))) return st;
    return nnl_conv2d(&p, &a, NULL, c->pool, c->thread_scratch);
}
