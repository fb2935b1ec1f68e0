/*
 * Dead taps trimmed at compile time.  A Conv whose constant weight has
 * taps that no output reads at the bound input shape (a dilated conv on a
 * small map: DeepLabV3's ASPP convs, dilation 24 and 36 on 16x16, read
 * only their centre tap) becomes the conv of its live box: a weight of its
 * own holding the box's columns, kernel_shape the box, pads shrunk to
 * match (kernels/conv.h nnl_conv_trim, the run's own rule).  Trimmed at
 * run time, the live columns of the whole weight were copied into scratch
 * at every run: 4.9% of DeepLabV3-MobileNetV3's time at 1 thread (perf,
 * Xeon).
 * A conv that then runs by taps (kernels/conv_taps.h: a quarter or more
 * of its multiply-adds still on padding) gets its weight by taps, (kh kw
 * oc) x c, tap after tap, and the attribute nnl_taps: packed, each tap's
 * GEMM reads its panels in place where the run gathered every tap's
 * columns out of the whole weight (tap_panel, 8.5% of DeepLabV3-
 * MobileNetV3 at 1 thread; 20.2 -> 18.5 ms, Xeon avx512).
 * Both depend on the input shape, so their weights are named after the
 * weight and the box ("w.taps1x1@1,1") or the order ("w.bytap"): graphs
 * linked from other shapes share them where they agree (name and bytes),
 * and one that needs neither keeps the whole weight.
 */
#include <stdio.h>
#include <string.h>

#include "kernels/conv.h"
#include "kernels/conv_taps.h"
#include "ops/nn/conv_geom.h"
#include "passes/passes.h"

nnl_status nnl_derived_weight(nnl_model *m, const char *name, int len, int rank, const int64_t *dims,
                              nnl_layout layout, int *out, float **fill) {
    *out = -1;
    *fill = NULL;
    if (len < 0 || (size_t)len >= 1024) return NNL_OK;
    int v = nnl_model_find_value(m, name);
    if (v >= 0) {
        const nnl_value *t = &m->values[v];
        if (t->kind == NNL_VAL_CONST && t->t.rank == rank && t->t.dtype == NNL_DT_FLOAT && t->t.layout == layout &&
            memcmp(t->t.dims, dims, (size_t)rank * sizeof *dims) == 0)
            *out = v;
        return NNL_OK;
    }
    nnl_tensor shape = {.dtype = NNL_DT_FLOAT, .rank = rank, .layout = layout};
    memcpy(shape.dims, dims, (size_t)rank * sizeof *dims);
    float *d = nnl_aligned_alloc(nnl_tensor_nbytes(&shape));
    if (!d) return nnl_fail(NNL_ERR_NOMEM, "out of memory deriving weight '%s'", name);
    v = nnl_model_add_value(m, name, NNL_VAL_CONST);
    nnl_status st = v < 0 ? nnl_fail(NNL_ERR_NOMEM, "out of memory deriving weight '%s'", name)
                          : nnl_value_set_const(&m->values[v], NNL_DT_FLOAT, rank, dims, d, true);
    if (st) {
        nnl_aligned_free(d);
        return st;
    }
    m->values[v].t.layout = layout;
    *out = v;
    *fill = d;
    return NNL_OK;
}

/* *out: the trimmed weight of value w for box b (-1: keep w). */
static nnl_status trimmed_weight(nnl_model *m, int w, const nnl_tap_box *b, int *out) {
    char name[1024];
    int len = snprintf(name, sizeof name, "%s.taps%lldx%lld@%lld,%lld", m->values[w].name, (long long)b->ny,
                       (long long)b->nx, (long long)b->y0, (long long)b->x0);
    const int64_t oc = m->values[w].t.dims[0], ic = m->values[w].t.dims[1];
    const int64_t kh = m->values[w].t.dims[2], kw = m->values[w].t.dims[3];
    float *d;
    nnl_status st = nnl_derived_weight(m, name, len, 4, (const int64_t[]){oc, ic, b->ny, b->nx}, NNL_LAYOUT_PLAIN,
                                        out, &d);
    if (st || !d) return st;
    const float *s = m->values[w].t.data;
    for (int64_t r = 0; r < oc * ic; r++)
        for (int64_t y = 0; y < b->ny; y++)
            memcpy(d + (r * b->ny + y) * b->nx, s + (r * kh + b->y0 + y) * kw + b->x0,
                   (size_t)b->nx * sizeof(float));
    return NNL_OK;
}

/* *out: value w (oc x c x kh x kw) by taps, (kh kw oc) x c, tap t =
 * ky kw + kx in rows [t oc, (t + 1) oc) (-1: keep w). */
static nnl_status by_taps_weight(nnl_model *m, int w, int *out) {
    char name[1024];
    int len = snprintf(name, sizeof name, "%s.bytap", m->values[w].name);
    const int64_t oc = m->values[w].t.dims[0], ic = m->values[w].t.dims[1];
    const int64_t taps = m->values[w].t.dims[2] * m->values[w].t.dims[3];
    float *d;
    nnl_status st = nnl_derived_weight(m, name, len, 2, (const int64_t[]){taps * oc, ic}, NNL_LAYOUT_PLAIN, out, &d);
    if (st || !d) return st;
    const float *s = m->values[w].t.data;
    for (int64_t t = 0; t < taps; t++)
        for (int64_t o = 0; o < oc; o++)
            for (int64_t c = 0; c < ic; c++) d[(t * oc + o) * ic + c] = s[(o * ic + c) * taps + t];
    return NNL_OK;
}

nnl_status nnl_pass_trim_taps(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *n = &m->nodes[i];
        if (n->dead || strcmp(n->op, "Conv") != 0 || n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0) continue;
        const nnl_value *x = &m->values[n->in[0]], *w = &m->values[n->in[1]];
        if (!x->shape_known || x->t.rank != 4 || w->kind != NNL_VAL_CONST || w->t.rank != 4 ||
            w->t.dtype != NNL_DT_FLOAT || w->t.layout != NNL_LAYOUT_PLAIN || !w->t.data)
            continue;
        nnl_op_call c = {.op = n->op, .node = n->name, .attrs = n->attrs, .n_attrs = n->n_attrs};
        nnl_conv_params p, q;
        nnl_tap_box b;
        nnl_status s = nnl_conv_geometry(&c, &x->t, &w->t, false, &p);
        if (s) return s;
        p.x_scaled = n->n_in > 4 && n->in[4] >= 0;
        int v;
        if (nnl_conv_trim(&p, &b, &q)) {
            if ((s = trimmed_weight(m, n->in[1], &b, &v))) return s;
            if (v >= 0) {
                n = &m->nodes[i];
                n->in[1] = v;
                const int64_t k[2] = {q.kh, q.kw}, pads[4] = {q.pt, q.pl, q.pb, q.pr};
                if ((s = nnl_node_set_attr_ints(n, "kernel_shape", k, 2)) ||
                    (s = nnl_node_set_attr_ints(n, "pads", pads, 4)))
                    return s;
                if (nnl_node_attr(n, "auto_pad") && (s = nnl_node_set_attr_str(n, "auto_pad", "NOTSET"))) return s;
                p = q;
            }
        }
        /* a conv that runs by taps gets its weight by taps (each tap's
         * PACK_A8 panels then read in place) */
        if (p.oc % NNL_MR || !nnl_conv_taps_pays(&p, NNL_LAYOUT_PACK_A8)) continue;
        if ((s = by_taps_weight(m, m->nodes[i].in[1], &v))) return s;
        if (v < 0) continue;
        n = &m->nodes[i];
        n->in[1] = v;
        const int64_t k[2] = {p.kh, p.kw};
        if ((s = nnl_node_set_attr_ints(n, "kernel_shape", k, 2)) || (s = nnl_node_set_attr_int(n, "nnl_taps", 1)))
            return s;
    }
    return NNL_OK;
}
