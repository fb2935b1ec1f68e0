/* The one convolution geometry; see conv_geom.h. */
#include <string.h>

#include "ops/nn/conv_geom.h"

/* Values from files bounded so every product below stays far from 2^63. */
#define GEOM_LIM ((int64_t)1 << 20)

nnl_status nnl_conv_auto_pad(const nnl_op_call *c, nnl_auto_pad *ap) {
    const char *s = nnl_attr_str(c, "auto_pad", "NOTSET");
    if (strcmp(s, "NOTSET") == 0 || !s[0]) *ap = NNL_AUTO_PAD_NOTSET;
    else if (strcmp(s, "VALID") == 0) *ap = NNL_AUTO_PAD_VALID;
    else if (strcmp(s, "SAME_UPPER") == 0) *ap = NNL_AUTO_PAD_SAME_UPPER;
    else if (strcmp(s, "SAME_LOWER") == 0) *ap = NNL_AUTO_PAD_SAME_LOWER;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'auto_pad' value '%s' is not supported", s);
    return NNL_OK;
}

void nnl_conv_same_pads(int64_t in, int64_t ext, int64_t s, bool upper, int64_t *out, int64_t *pb,
                        int64_t *pe) {
    *out = (in + s - 1) / s;
    int64_t total = (*out - 1) * s + ext - in;
    if (total < 0) total = 0;
    *pb = upper ? total / 2 : total - total / 2;
    *pe = total - *pb;
}

/* Transposed only: output_padding into op, output_shape's spatial dims
 * into os (*has_os says whether it is given). */
static nnl_status convt_attrs(const nnl_op_call *c, int ns, const int64_t *s, const int64_t *d, int64_t *op,
                              int64_t *os, bool *has_os) {
    nnl_status st = nnl_op_ints_attr(c, "output_padding", ns, 0, 0, op);
    const int64_t *v;
    int n;
    if (st || (st = nnl_op_attr_ints(c, "output_shape", &v, &n))) return st;
    if (n >= 0 && n != ns && n != ns + 2)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'output_shape' must list %d ints", ns);
    *has_os = n >= 0;
    for (int i = 0; i < ns; i++) {
        os[i] = *has_os ? v[n - ns + i] : 0;
        if (op[i] >= s[i] && op[i] >= d[i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'output_padding' must be smaller than stride or dilation");
        if (op[i] > GEOM_LIM || os[i] < 0 || os[i] > (int64_t)NNL_MAX_ELEMS)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output padding or output shape out of range");
    }
    return NNL_OK;
}

/* Channels and groups; sets p->n, c, oc, group. */
static nnl_status channels(const nnl_op_call *c, const nnl_tensor *x, const nnl_tensor *w, bool transposed,
                           nnl_conv_params *p) {
    nnl_status st = nnl_op_attr_int(c, "group", 1, &p->group);
    if (st) return st;
    p->n = x->dims[0];
    p->c = x->dims[1];
    const int64_t g = p->group;
    if (transposed) {
        /* c == 0 divides by any group: bound g before the product */
        if (g < 1 || w->dims[0] != p->c || p->c % g || w->dims[1] < 1 || g > (p->c > 0 ? p->c : 1))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "group %lld does not fit %lld input channels and a weight of %lld x %lld",
                               (long long)g, (long long)p->c, (long long)w->dims[0], (long long)w->dims[1]);
        p->oc = w->dims[1] * g;
        return NNL_OK;
    }
    p->oc = w->dims[0];
    /* oc >= 1 first: then g <= oc, and w->dims[1] * g <= the weight's size */
    if (g < 1 || p->oc < 1 || p->oc % g || w->dims[1] * g != p->c)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "group %lld does not fit %lld input channels and a weight of %lld x %lld channels",
                           (long long)g, (long long)p->c, (long long)p->oc, (long long)w->dims[1]);
    return NNL_OK;
}

nnl_status nnl_conv_geometry(const nnl_op_call *c, const nnl_tensor *x, const nnl_tensor *w,
                             bool transposed, nnl_conv_params *p) {
    memset(p, 0, sizeof *p);
    if (x->rank != 3 && x->rank != 4)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input of rank %d: only 1-D and 2-D convolutions (rank 3 or 4)",
                           x->rank);
    if (w->rank != x->rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "weight rank %d differs from input rank %d", w->rank, x->rank);
    const int ns = x->rank - 2;
    int64_t k[2], s[2], d[2], pads[4], op[2] = {0, 0}, os[2] = {0, 0};
    bool has_os = false;
    nnl_status st;
    if ((st = nnl_op_ints_attr(c, "strides", ns, 1, 1, s)) || (st = nnl_op_ints_attr(c, "dilations", ns, 1, 1, d)) ||
        (st = nnl_op_ints_attr(c, "pads", 2 * ns, 0, 0, pads)) ||
        (st = nnl_op_ints_attr(c, "kernel_shape", ns, 1, 1, k)))
        return st;
    if (transposed && (st = convt_attrs(c, ns, s, d, op, os, &has_os))) return st;
    for (int i = 0; i < ns; i++) {
        if (nnl_attr_get(c, "kernel_shape") && k[i] != w->dims[2 + i])
            return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'kernel_shape' does not match the weight's shape");
        k[i] = w->dims[2 + i];
        if (k[i] < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "weight has an empty kernel");
        /* also what the row kernels take as int */
        if (k[i] > GEOM_LIM || s[i] > GEOM_LIM || d[i] > GEOM_LIM)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "kernel, stride or dilation outside [1, 2^20]");
    }
    for (int i = 0; i < 2 * ns; i++)
        if (pads[i] > GEOM_LIM)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "pad %lld outside [0, 2^20]", (long long)pads[i]);
    if ((st = channels(c, x, w, transposed, p))) return st;
    nnl_auto_pad ap;
    if ((st = nnl_conv_auto_pad(c, &ap))) return st;
    /* A convolution's pads only stand beside NOTSET (ConvTranspose has
     * always ignored them under auto_pad, and still does). */
    if (!transposed && ap != NNL_AUTO_PAD_NOTSET && nnl_attr_get(c, "pads"))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "attribute 'pads' together with auto_pad '%s'",
                           nnl_attr_str(c, "auto_pad", ""));
    const bool same = ap == NNL_AUTO_PAD_SAME_UPPER || ap == NNL_AUTO_PAD_SAME_LOWER;
    const bool upper = ap == NNL_AUTO_PAD_SAME_UPPER, valid = ap == NNL_AUTO_PAD_VALID;
    int64_t in[2], out[2], pb[2], pe[2];
    for (int i = 0; i < ns; i++) {
        in[i] = x->dims[2 + i];
        const int64_t ext = (k[i] - 1) * d[i] + 1;
        if (transposed) {
            const int64_t full = s[i] * (in[i] - 1) + op[i] + ext;
            if (has_os || same) {
                /* padding chosen so the output has the requested size; a
                 * negative total extends the output past the last tap
                 * (those outputs get only the bias); halves round toward
                 * -inf */
                out[i] = has_os ? os[i] : in[i] * s[i];
                if (out[i] < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'output_shape' has an empty dim");
                const int64_t total = full - out[i];
                const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
                pb[i] = upper ? half : total - half;
            } else {
                pb[i] = valid ? 0 : pads[i];
                out[i] = full - pb[i] - (valid ? 0 : pads[ns + i]);
                if (out[i] < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "padding leaves an empty output");
            }
            pe[i] = 0;
        } else if (same) {
            nnl_conv_same_pads(in[i], ext, s[i], upper, &out[i], &pb[i], &pe[i]);
        } else {
            pb[i] = valid ? 0 : pads[i];
            pe[i] = valid ? 0 : pads[ns + i];
            const int64_t span = in[i] + pb[i] + pe[i] - ext;
            if (span < 0)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "kernel extent %lld exceeds padded input %lld", (long long)ext,
                                   (long long)(in[i] + pb[i] + pe[i]));
            out[i] = span / s[i] + 1;
        }
    }
    /* a 1-D conv is a 2-D one of height 1: its one spatial dim is the width */
    const int wi = ns - 1;
    p->h = ns == 2 ? in[0] : 1, p->kh = ns == 2 ? k[0] : 1, p->sh = ns == 2 ? s[0] : 1;
    p->dh = ns == 2 ? d[0] : 1, p->pt = ns == 2 ? pb[0] : 0, p->pb = ns == 2 ? pe[0] : 0;
    p->oh = ns == 2 ? out[0] : 1;
    p->w = in[wi], p->kw = k[wi], p->sw = s[wi], p->dw = d[wi], p->pl = pb[wi], p->pr = pe[wi], p->ow = out[wi];
    return NNL_OK;
}
