/*
 * Pack GEMM weights once at compile time so no run pays for it.  A
 * constant is packed only when every live reader wants the same packed
 * form: PACK_A8 (rows = dims[0]) for Conv and Gemm(transB = 1), WINO43 for
 * 3x3 stride-1 group-1 convs with enough channels, PACK_A8T (the
 * transpose's PACK_A8) for MatMul and Gemm(transB = 0); one other reader,
 * or a graph output, keeps it PLAIN, because no op but Conv / Gemm /
 * MatMul reads packed data.
 */
#include <stdio.h>
#include <string.h>

#include "kernels/gemm.h"
#include "kernels/wino.h"
#include "ops/nn/conv_geom.h"
#include "passes/pack_weights.h"
#include "passes/passes.h"
#include "passes/pattern.h"

/* Winograd cuts a 3x3 conv's multiplications 4x but, in float32, about
 * doubles its rounding error, and its transforms cost more relative to
 * the GEMMs as channels shrink.  Both channel counts must reach
 * WINO_MIN_CH: on FCN ResNet-50 that takes layer3, layer4 and the
 * classifier (almost all 3x3 time) at an output error against PyTorch of
 * 1.35e-4 of max |ref| (direct: 1.36e-4), while adding layer1/2 (64 and
 * 128 channels, a few ms) raised it to 2.06e-4.  The layout may depend on
 * the weight's dims and the node's attributes only, never on the input
 * shape, because linked graphs of other shapes share the weight; so
 * small outputs run Winograd too, with partial tiles. */
#define WINO_MIN_CH 256
/* A dilation-d conv runs as d*d phase convs of about 1/d of the output
 * size each; once that nears one 4x4 tile most of every tile is padding
 * (DeepLabV3's ASPP, dilations 12/24/36 on a 32x32 map, ran 5x slower
 * than direct), so large dilations stay direct. */
#define WINO_MAX_DIL 4

/* Whether every value of INTS attribute `name` (default 1) is <= max. */
static bool ints_at_most(const nnl_node *n, const char *name, int64_t max) {
    const nnl_attr *a = nnl_node_attr(n, name);
    if (!a) return true;
    if (a->type != NNL_ATTR_INTS) return false;
    for (int i = 0; i < a->n; i++)
        if (a->ints[i] > max) return false;
    return true;
}

/* A layout is chosen only for a shape it suits within NNL_MAX_ELEMS: the
 * same function decides what the .nnl writer and reader accept
 * (format/check.c), so a packed weight never makes an unwritable file. */
static bool format_accepts(const nnl_tensor *t, nnl_layout l) {
    uint64_t bytes;
    return nnl_tensor_nbytes_checked(t->dtype, t->rank, t->dims, l, &bytes);
}

static bool conv_wants_wino(const nnl_model *m, const nnl_node *n, const nnl_tensor *t) {
    return m->winograd && t->rank == 4 && t->dims[2] == 3 && t->dims[3] == 3 && nnl_node_int(n, "group", 1) == 1 &&
           ints_at_most(n, "strides", 1) && ints_at_most(n, "dilations", WINO_MAX_DIL) &&
           t->dims[0] >= WINO_MIN_CH && t->dims[1] >= WINO_MIN_CH &&
           format_accepts(t, NNL_LAYOUT_WINO43);
}

/* The layout node n wants for value v read at input `slot`, or PLAIN when
 * it wants v unpacked (or does not read it as a weight). */
static nnl_layout wanted(const nnl_model *m, const nnl_node *n, int slot, int v) {
    const nnl_tensor *t = &m->values[v].t;
    if (slot != 1) return NNL_LAYOUT_PLAIN;
    if (strcmp(n->op, "Conv") == 0) {
        /* a weight by taps (passes/trim_taps.c): each tap's oc rows whole panels */
        if (nnl_node_int(n, "nnl_taps", 0)) return t->rank == 2 ? NNL_LAYOUT_PACK_A8 : NNL_LAYOUT_PLAIN;
        int64_t g = nnl_node_int(n, "group", 1);
        if (t->rank < 3 || t->rank > 4 || g < 1 || t->dims[0] % g) return NNL_LAYOUT_PLAIN;
        if (conv_wants_wino(m, n, t)) return NNL_LAYOUT_WINO43;
        /* groups must start on a panel boundary */
        return g == 1 || (t->dims[0] / g) % 8 == 0 ? NNL_LAYOUT_PACK_A8 : NNL_LAYOUT_PLAIN;
    }
    if (strcmp(n->op, "Gemm") == 0 && t->rank == 2 && nnl_node_int(n, "transB", 0) == 1) return NNL_LAYOUT_PACK_A8;
    if (t->rank == 2 && format_accepts(t, NNL_LAYOUT_PACK_A8T) &&
        (strcmp(n->op, "MatMul") == 0 || (strcmp(n->op, "Gemm") == 0 && nnl_node_int(n, "transB", 0) == 0)))
        return NNL_LAYOUT_PACK_A8T;
    return NNL_LAYOUT_PLAIN;
}

/* The layout every live reader of v agrees on, PLAIN if any disagrees. */
static nnl_layout packable(const nnl_model *m, int v) {
    const nnl_value *val = &m->values[v];
    if (val->kind != NNL_VAL_CONST || val->is_output || val->t.dtype != NNL_DT_FLOAT ||
        val->t.layout != NNL_LAYOUT_PLAIN || !val->t.data || val->t.rank < 2)
        return NNL_LAYOUT_PLAIN;
    for (int i = 0; i < val->t.rank; i++)
        if (val->t.dims[i] <= 0) return NNL_LAYOUT_PLAIN;
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v) return NNL_LAYOUT_PLAIN;
    nnl_layout want = NNL_LAYOUT_PLAIN;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] != v) continue;
            nnl_layout l = wanted(m, n, j, v);
            if (l == NNL_LAYOUT_PLAIN || (want != NNL_LAYOUT_PLAIN && l != want)) return NNL_LAYOUT_PLAIN;
            want = l;
        }
    }
    return want;
}

nnl_status nnl_pass_pack_weights(nnl_model *m) {
    for (int v = 0; v < m->n_values; v++) {
        nnl_layout l = packable(m, v);
        if (l == NNL_LAYOUT_PLAIN) continue;
        nnl_tensor *t = &m->values[v].t;
        int64_t rows = t->dims[0], cols = nnl_tensor_numel(t) / rows;
        t->layout = l;
        float *p = nnl_aligned_alloc(nnl_tensor_nbytes(t));
        if (!p) {
            t->layout = NNL_LAYOUT_PLAIN;
            return nnl_fail(NNL_ERR_NOMEM, "out of memory packing weight '%s'", m->values[v].name);
        }
        if (l == NNL_LAYOUT_WINO43)
            nnl_wino_pack(p, t->data, rows, t->dims[1]);
        else if (l == NNL_LAYOUT_PACK_A8T)
            nnl_pack_a8t(p, t->data, rows, cols);
        else
            nnl_pack_a8(p, t->data, rows, cols);
        nnl_aligned_free(t->data);
        t->data = p;
    }
    return NNL_OK;
}

/* *out: the WINO43 form of PACK_A8 conv weight w, "NAME.wino43" (-1: keep w). */
static nnl_status wino_weight(nnl_model *m, int w, int *out) {
    char name[1024];
    int len = snprintf(name, sizeof name, "%s.wino43", m->values[w].name);
    int64_t dims[4];
    memcpy(dims, m->values[w].t.dims, sizeof dims);
    float *d;
    nnl_status st = nnl_derived_weight(m, name, len, 4, dims, NNL_LAYOUT_WINO43, out, &d);
    if (st || !d) return st;
    const int64_t oc = dims[0], ic = dims[1];
    float *plain = nnl_aligned_alloc((size_t)(oc * ic * 9) * sizeof(float));
    if (!plain) return nnl_fail(NNL_ERR_NOMEM, "out of memory deriving weight '%s'", name);
    nnl_unpack_a8(plain, m->values[w].t.data, oc, ic * 9);
    nnl_wino_pack(d, plain, oc, ic);
    nnl_aligned_free(plain);
    return NNL_OK;
}

nnl_status nnl_pass_pick_winograd(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *n = &m->nodes[i];
        if (n->dead || strcmp(n->op, "Conv") != 0 || n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0) continue;
        const nnl_value *wv = &m->values[n->in[1]];
        const nnl_tensor *x = &m->values[n->in[0]].t, *w = &wv->t;
        if (w->layout != NNL_LAYOUT_PACK_A8 || w->rank != 4 || w->dims[2] != 3 || w->dims[3] != 3) continue;
        nnl_op_call c = {.op = n->op, .node = n->name, .attrs = n->attrs, .n_attrs = n->n_attrs};
        nnl_conv_params p;
        nnl_status s = nnl_conv_geometry(&c, x, w, false, &p);
        if (s) return s;
        const bool pick = nnl_wino_choose(&p);
        /* Winograd at this shape on every kernel set, with fewer than
         * WINO_MIN_CH channels on a side: the weight goes in transformed,
         * a derived WINO43 weight (kernels/wino.h).  Transformed at every
         * run (writing 4x the weight's floats, by every block of tiles
         * where U and a block do not fit L2 together) it was 4-6% of
         * ResNet-18, VGG-11 and GoogLeNet (wino_wt, perf, Xeon); ResNet-
         * 18's 128-channel convs at 28x28 spent ~18% on it.  4x the
         * bytes, but of small weights (ResNet-18's file 46.8 -> 53.8 MB;
         * the convs that transform once a run, 64 channels, gave half the
         * gain for a quarter of the bytes); wider convs keep theirs unless
         * --winograd (FCN ResNet-50 would go 132 -> 372 MB, for no
         * measured gain).  Narrow convs pick Winograd on 16-lane sets
         * only, so they keep the plain weight. */
        if (pick && !nnl_wino_narrow(&p) && (p.c < WINO_MIN_CH || p.oc < WINO_MIN_CH) &&
            wv->kind == NNL_VAL_CONST && w->dtype == NNL_DT_FLOAT && w->data && format_accepts(w, NNL_LAYOUT_WINO43)) {
            int v;
            if ((s = wino_weight(m, m->nodes[i].in[1], &v))) return s;
            if (v >= 0) {
                m->nodes[i].in[1] = v;
                continue;
            }
        }
        if ((s = nnl_node_set_attr_int(&m->nodes[i], "nnl_wino", pick ? 1 : 0))) return s;
    }
    return NNL_OK;
}
