/*
 * Pack the int8 weights of QLinearConv (and NnlQGemm) into NNL_LAYOUT_PACK_Q8
 * (kernels/qconv.h), the form nnl_qconv2d reads, with their per-channel
 * scales inside.  Covers the convs nnl_pass_fuse_qconv wrote and the
 * QLinearConv nodes of an ONNX file alike.  A weight is packed only when
 * every live reader is a QLinearConv reading it as w (input 3) with the
 * same scale values, zero point absent or 0 (it is then dropped from the
 * node) and groups the kernel runs; anything else keeps it PLAIN and the
 * reference op.  The decision reads the weight and the node's attributes
 * only, never the input's shape: linked graphs of other shapes share it.
 * A weight whose values all lie within [-64, 64] (ONNX Runtime's
 * reduce_range, `quantize --weights int7`) gets nnl_w7 = 1 on its
 * readers, which lets them take 7-bit microkernels (nnl_qukr.w7).
 */
#include <math.h>
#include <string.h>

#include "kernels/qconv.h"
#include "passes/pack_weights.h"
#include "passes/pattern.h"

static const nnl_value *const_at(const nnl_model *m, const nnl_node *n, int slot) {
    if (slot >= n->n_in || n->in[slot] < 0) return NULL;
    const nnl_value *v = &m->values[n->in[slot]];
    return v->kind == NNL_VAL_CONST && v->t.data ? v : NULL;
}

/* The conv's geometry from its weight and group attribute (false if the
 * weight is not rank 4 or the groups do not divide it). */
static bool weight_geom(const nnl_node *conv, const nnl_tensor *w, nnl_conv_params *p) {
    const nnl_attr *ga = nnl_node_attr(conv, "group");
    int64_t group = ga && ga->type == NNL_ATTR_INT ? ga->i : 1;
    if (w->rank != 4 || group < 1 || w->dims[0] % group) return false;
    *p = (nnl_conv_params){.oc = w->dims[0], .c = w->dims[1] * group, .kh = w->dims[2], .kw = w->dims[3],
                           .group = group};
    return true;
}

/* PACK_Q8's convs, or depthwise ones (one channel a group, as many
 * outputs): those run kernels/qdw.h on the PLAIN int8 weight. */
bool nnl_q8_conv_fits(const nnl_node *conv, const nnl_tensor *w) {
    nnl_conv_params p;
    if (!weight_geom(conv, w, &p)) return false;
    return nnl_qconv_ok(&p) || (p.group == p.c && p.oc == p.c);
}

static bool packs(const nnl_node *conv, const nnl_tensor *w) {
    nnl_conv_params p;
    return weight_geom(conv, w, &p) && nnl_qconv_ok(&p);
}

/* Whether QLinearConv or NnlQGemm n can read weight w packed; *scale its
 * w_scale (both take w, w_scale, w_zero_point as inputs 3 to 5). */
static bool reader_ok(const nnl_model *m, const nnl_node *n, const nnl_tensor *w, const nnl_value **scale) {
    const bool gemm = strcmp(n->op, "NnlQGemm") == 0;
    if (!gemm && strcmp(n->op, "QLinearConv") != 0) return false;
    if (w->rank != (gemm ? 2 : 4)) return false;
    const nnl_value *s = const_at(m, n, 4), *z = const_at(m, n, 5);
    if (!s || s->t.dtype != NNL_DT_FLOAT || s->t.rank > 1) return false;
    int64_t ns = nnl_tensor_numel(&s->t);
    if (ns != 1 && ns != w->dims[0]) return false;
    /* the integer kernel's multiplier must be a number */
    for (int64_t r = 0; r < ns; r++) {
        float v = ((const float *)s->t.data)[r];
        if (!(v > 0) || !isfinite(v)) return false;
    }
    if (n->n_in > 5 && n->in[5] >= 0 && (!z || z->t.dtype != NNL_DT_INT8 || !nnl_const_all_zero(&z->t)))
        return false;
    *scale = s;
    return gemm ? nnl_qgemm_fits(w->dims[1]) : packs(n, w);
}

static bool same_values(const nnl_tensor *a, const nnl_tensor *b) {
    return nnl_tensor_numel(a) == nnl_tensor_numel(b) && memcmp(a->data, b->data, nnl_tensor_nbytes(a)) == 0;
}

/* The scale every reader agrees on, or NULL when v stays PLAIN. */
static const nnl_value *packable(const nnl_model *m, int v) {
    const nnl_value *val = &m->values[v];
    const nnl_tensor *t = &val->t;
    uint64_t bytes;
    if (val->kind != NNL_VAL_CONST || val->is_output || t->dtype != NNL_DT_INT8 || t->layout != NNL_LAYOUT_PLAIN ||
        !t->data || (t->rank != 4 && t->rank != 2) ||
        !nnl_tensor_nbytes_checked(t->dtype, t->rank, t->dims, NNL_LAYOUT_PACK_Q8, &bytes))
        return NULL;
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] <= 0) return NULL;
    const nnl_value *scale = NULL;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] != v) continue;
            const nnl_value *s;
            if (j != 3 || !reader_ok(m, n, t, &s)) return NULL;
            if (scale && !same_values(&scale->t, &s->t)) return NULL;
            scale = s;
        }
    }
    return scale;
}

nnl_status nnl_pass_pack_q8(nnl_model *m) {
    for (int v = 0; v < m->n_values; v++) {
        const nnl_value *sv = packable(m, v);
        if (!sv) continue;
        nnl_tensor *t = &m->values[v].t;
        int64_t rows = t->dims[0], chans = t->dims[1], taps = nnl_tensor_numel(t) / rows / chans;
        const float *s = sv->t.data;
        float *per_row = nnl_malloc((size_t)rows * sizeof(float));
        void *p = nnl_aligned_alloc((size_t)nnl_pack_q8_bytes(t->rank, t->dims));
        if (!per_row || !p) {
            nnl_free(per_row);
            nnl_aligned_free(p);
            return nnl_fail(NNL_ERR_NOMEM, "out of memory packing weight '%s'", m->values[v].name);
        }
        for (int64_t r = 0; r < rows; r++) per_row[r] = s[nnl_tensor_numel(&sv->t) == 1 ? 0 : r];
        /* weights within [-64, 64]: the readers may take 7-bit kernels */
        const int8_t *wv = t->data;
        bool w7 = true;
        for (int64_t e = 0; e < rows * chans * taps; e++) w7 &= wv[e] >= -64 && wv[e] <= 64;
        nnl_pack_q8(p, t->data, per_row, rows, chans, taps);
        nnl_free(per_row);
        nnl_aligned_free(t->data);
        t->data = p;
        t->layout = NNL_LAYOUT_PACK_Q8;
        /* the zero point is 0 and packed readers take none */
        for (int i = 0; i < m->n_nodes; i++) {
            nnl_node *n = &m->nodes[i];
            if (n->dead || n->n_in <= 3 || n->in[3] != v) continue;
            if (n->n_in > 5) n->in[5] = -1;
            nnl_status st = w7 ? nnl_node_set_attr_int(n, "nnl_w7", 1) : NNL_OK;
            if (st) return st;
        }
    }
    return nnl_model_compact(m);
}
