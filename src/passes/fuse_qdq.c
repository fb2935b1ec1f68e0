/*
 * QDQ convolutions into integer ones (passes.h, nnl_pass_fuse_qconv):
 *
 *   DequantizeLinear(xq) ----------------.
 *   DequantizeLinear(int8 W, sw, 0) --> Conv -> [Relu | Clip]* -> QuantizeLinear -> yq
 *   DequantizeLinear(int32 B, sx*sw) --'
 *
 * becomes one QLinearConv(xq, sx, zx, W, sw, -, sy, zy, B) writing yq, with
 * the activations as the clamp nnl_ymin / nnl_ymax in yq's type.  That is
 * exact: QuantizeLinear is monotonic (x / s, then round, add, saturate), so
 * Q(max(v, a)) = max(Q(v), Q(a)) and Q(min(v, b)) = min(Q(v), Q(b)), and
 * Q(0) is the zero point.  The integer result is the one ONNX Runtime
 * computes for the same file (its QLinearConv), not the float path's.
 *
 * Only what kernels/qconv.h or kernels/qdw.h runs is rewritten: per-tensor
 * x and y scales and zero points (constants, y's scale > 0), a rank-4 int8
 * weight with zero point 0 whose groups start on 8-row panels
 * (nnl_qconv_ok) or that is depthwise, an int32 bias whose scale is
 * sx * sw[r] (to float rounding) or none.
 * Everything else (ConvTranspose, dynamic scales, a float bias, a conv
 * whose output anyone but the chain reads) keeps the float path.  The
 * DequantizeLinear nodes stay while something else reads them.  Runs
 * before infer_fold, which would fold the weights' DequantizeLinear into
 * float constants; nnl_pass_pack_q8 then packs the int8 weights.
 *
 * nnl_pass_fuse_qislands: the float islands between quantizations.  The
 * residual block
 *   DequantizeLinear(a), DequantizeLinear(b) -> Add -> [Relu | Clip]* -> QuantizeLinear
 * of equal shapes becomes NnlQLinearAdd (ops/quant/qadd.c), which computes
 * the same float arithmetic element by element in one pass, so it is
 * exact, not merely close; DequantizeLinear -> MaxPool becomes MaxPool on
 * the 8-bit data -> DequantizeLinear (swap_maxpool), and a
 * DequantizeLinear -> QuantizeLinear pair of one scale is dropped
 * (drop_requantize).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/qconv.h"
#include "passes/pack_weights.h"
#include "passes/passes.h"
#include "passes/pattern.h"

static const nnl_value *const_of(const nnl_model *m, int v) {
    return v >= 0 && m->values[v].kind == NNL_VAL_CONST && m->values[v].t.data ? &m->values[v] : NULL;
}

/* A QuantizeLinear / DequantizeLinear with plain (not blocked) parameters. */
static bool plain_q(const nnl_node *n) {
    const nnl_attr *b = nnl_node_attr(n, "block_size");
    return n->n_out == 1 && n->n_in >= 2 && n->n_in <= 3 && (!b || (b->type == NNL_ATTR_INT && b->i == 0));
}

/* Per-tensor scale (> 0, finite) and zero point of 8-bit type of node n's
 * inputs 1 and 2; the zero point must be present, it gives the type. */
static bool per_tensor_q8(const nnl_model *m, const nnl_node *n, float *scale, int32_t *zp, nnl_dtype *dt) {
    const nnl_value *s = const_of(m, n->in[1]), *z = n->n_in > 2 ? const_of(m, n->in[2]) : NULL;
    if (!s || !z || s->t.dtype != NNL_DT_FLOAT || nnl_tensor_numel(&s->t) != 1 || s->t.rank > 1 ||
        nnl_tensor_numel(&z->t) != 1 || z->t.rank > 1)
        return false;
    *scale = *(const float *)s->t.data;
    if (!(*scale > 0) || !isfinite(*scale)) return false;
    *dt = z->t.dtype;
    if (*dt == NNL_DT_UINT8) *zp = *(const uint8_t *)z->t.data;
    else if (*dt == NNL_DT_INT8) *zp = *(const int8_t *)z->t.data;
    else return false;
    return true;
}

/* The DequantizeLinear producing v, or -1. */
static int dq_of(const nnl_model *m, int v) {
    if (v < 0 || m->values[v].kind != NNL_VAL_ACT) return -1;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (!n->dead && n->n_out >= 1 && n->out[0] == v)
            return strcmp(n->op, "DequantizeLinear") == 0 && plain_q(n) ? i : -1;
    }
    return -1;
}

/* The weight's DequantizeLinear: int8 constant of the rank, scale per tensor or
 * per output channel (axis 0), zero point absent or 0.  Fills *ws (the
 * scale value) and its per-channel values. */
static bool weight_ok(const nnl_model *m, int dq, int rank, int *wq, int *ws) {
    const nnl_node *n = &m->nodes[dq];
    const nnl_value *w = const_of(m, n->in[0]), *s = const_of(m, n->in[1]);
    const nnl_value *z = n->n_in > 2 && n->in[2] >= 0 ? const_of(m, n->in[2]) : NULL;
    if (!w || !s || w->t.dtype != NNL_DT_INT8 || w->t.rank != rank || w->t.layout != NNL_LAYOUT_PLAIN ||
        s->t.dtype != NNL_DT_FLOAT || s->t.rank > 1)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0 && (!z || z->t.dtype != NNL_DT_INT8 || !nnl_const_all_zero(&z->t))) return false;
    int64_t oc = w->t.dims[0], ns = nnl_tensor_numel(&s->t);
    if (ns != 1) {
        const nnl_attr *ax = nnl_node_attr(n, "axis");
        int64_t axis = ax && ax->type == NNL_ATTR_INT ? ax->i : 1;
        if (ns != oc || (axis != 0 && axis != -rank)) return false;
    }
    const float *sv = s->t.data;
    for (int64_t r = 0; r < ns; r++)
        if (!(sv[r] > 0) || !isfinite(sv[r])) return false;
    *wq = n->in[0];
    *ws = n->in[1];
    return true;
}

/* The bias' DequantizeLinear: int32 [oc], zero point absent or 0, scale
 * sx * sw[r] to within float rounding (a quantizer may form the product
 * in double), so the int32 values are QLinearConv's B as they are. */
static bool bias_ok(const nnl_model *m, int dq, float sx, const nnl_value *ws, int64_t oc, int *bq) {
    const nnl_node *n = &m->nodes[dq];
    const nnl_value *b = const_of(m, n->in[0]), *s = const_of(m, n->in[1]);
    const nnl_value *z = n->n_in > 2 && n->in[2] >= 0 ? const_of(m, n->in[2]) : NULL;
    if (!b || !s || b->t.dtype != NNL_DT_INT32 || b->t.rank != 1 || b->t.dims[0] != oc ||
        s->t.dtype != NNL_DT_FLOAT || s->t.rank > 1)
        return false;
    if (n->n_in > 2 && n->in[2] >= 0 && (!z || z->t.dtype != NNL_DT_INT32 || !nnl_const_all_zero(&z->t))) return false;
    int64_t ns = nnl_tensor_numel(&s->t), nw = nnl_tensor_numel(&ws->t);
    if (ns != 1 && ns != oc) return false;
    const float *sb = s->t.data, *sw = ws->t.data;
    for (int64_t r = 0; r < oc; r++) {
        float want = sx * sw[nw == 1 ? 0 : r], got = sb[ns == 1 ? 0 : r];
        if (!(fabsf(got - want) <= 1e-6f * want)) return false;
    }
    *bq = n->in[0];
    return true;
}

/* QuantizeLinear's value of v (float) with scale s and zero point zp in
 * [lo, hi], the arithmetic of ops/quant/quantize.c. */
static int32_t q_of(float v, float s, int32_t zp, int32_t lo, int32_t hi) {
    float q = rintf(v / s);
    if (q != q) q = 0;
    q += (float)zp;
    return q < (float)lo ? lo : q > (float)hi ? hi : (int32_t)q;
}

/* Real bounds [a, b] of a Relu or Clip node, false for anything else. */
static bool act_bounds(const nnl_model *m, const nnl_node *n, float *a, float *b) {
    if (n->n_out != 1 || n->n_in < 1) return false;
    if (strcmp(n->op, "Relu") == 0 && n->n_in == 1) {
        *a = 0;
        *b = INFINITY;
        return true;
    }
    return strcmp(n->op, "Clip") == 0 && nnl_clip_bounds(m, n, a, b) && !isnan(*a) && !isnan(*b) && *a <= *b;
}

/* Clamp to [lo, hi] after a clamp to [*ymin, *ymax]: monotonic steps
 * compose into one clamp whose ends are the first's ends clamped again. */
static void compose_clamp(int32_t *ymin, int32_t *ymax, int32_t lo, int32_t hi) {
    *ymin = *ymin < lo ? lo : *ymin > hi ? hi : *ymin;
    *ymax = *ymax < lo ? lo : *ymax > hi ? hi : *ymax;
}

typedef struct qdq_match {
    int dqx, dqw, dqb;         /* DequantizeLinear nodes (dqb -1 without bias) */
    int chain[8], n_chain;     /* Relu / Clip nodes after the conv */
    int q;                     /* the QuantizeLinear */
    int wq, ws, bq;            /* int8 weight, its scale, int32 bias (-1) */
    int32_t ymin, ymax;
} qdq_match;

/* From v (a conv's or an add's float output): Relu / Clip nodes, each
 * value read by the next node alone, then a QuantizeLinear per tensor;
 * fills chain, q and the clamp they make in the quantized domain. */
static bool out_chain(const nnl_model *m, int v, qdq_match *r) {
    float a[8], b[8], sy;
    int32_t zy;
    nnl_dtype ydt;
    int next;
    r->n_chain = 0;
    for (;;) {
        next = nnl_sole_consumer(m, v);
        if (next < 0 || m->nodes[next].in[0] != v) return false;
        const nnl_node *n = &m->nodes[next];
        if (strcmp(n->op, "QuantizeLinear") == 0) break;
        if (r->n_chain == 8 || !act_bounds(m, n, &a[r->n_chain], &b[r->n_chain])) return false;
        r->chain[r->n_chain++] = next;
        v = n->out[0];
    }
    const nnl_node *q = &m->nodes[next];
    const nnl_attr *od = nnl_node_attr(q, "output_dtype");
    if (!plain_q(q) || !per_tensor_q8(m, q, &sy, &zy, &ydt) ||
        (od && (od->type != NNL_ATTR_INT || (od->i != 0 && od->i != (int64_t)ydt))))
        return false;
    r->q = next;
    int32_t lo = ydt == NNL_DT_UINT8 ? 0 : -128, hi = ydt == NNL_DT_UINT8 ? 255 : 127;
    r->ymin = lo;
    r->ymax = hi;
    for (int k = 0; k < r->n_chain; k++)
        compose_clamp(&r->ymin, &r->ymax, q_of(a[k], sy, zy, lo, hi), q_of(b[k], sy, zy, lo, hi));
    return true;
}

static bool match(const nnl_model *m, int ci, qdq_match *r) {
    const nnl_node *conv = &m->nodes[ci];
    if (conv->n_in < 2 || conv->n_in > 3 || conv->n_out != 1) return false;
    r->dqx = dq_of(m, conv->in[0]);
    r->dqw = dq_of(m, conv->in[1]);
    r->dqb = conv->n_in == 3 && conv->in[2] >= 0 ? dq_of(m, conv->in[2]) : -1;
    if (r->dqx < 0 || r->dqw < 0 || (conv->n_in == 3 && conv->in[2] >= 0 && r->dqb < 0)) return false;
    float sx;
    int32_t zx;
    nnl_dtype xdt;
    if (!per_tensor_q8(m, &m->nodes[r->dqx], &sx, &zx, &xdt) || !weight_ok(m, r->dqw, 4, &r->wq, &r->ws)) return false;
    const nnl_tensor *w = &m->values[r->wq].t;
    if (!nnl_q8_conv_fits(conv, w)) return false;
    r->bq = -1;
    if (r->dqb >= 0 && !bias_ok(m, r->dqb, sx, &m->values[r->ws], w->dims[0], &r->bq)) return false;
    return out_chain(m, conv->out[0], r);
}

/* Node ni becomes op with inputs in[0..n_in) writing the QuantizeLinear's
 * output, the chain's clamp as nnl_ymin / nnl_ymax; the chain and the
 * QuantizeLinear die, and so do the dequantizations dqs that nothing else
 * reads any more. */
static nnl_status rewrite(nnl_model *m, int ni, const qdq_match *r, const char *op, const int *in, int n_in,
                          const int *dqs, int n_dqs) {
    int *nin = nnl_realloc(m->nodes[ni].in, (size_t)n_in * sizeof(int));
    char *nop = nnl_strdup(op);
    if (nin) m->nodes[ni].in = nin;
    if (!nin || !nop) {
        nnl_free(nop);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
    }
    nnl_node *n = &m->nodes[ni];
    const nnl_node *q = &m->nodes[r->q];
    memcpy(n->in, in, (size_t)n_in * sizeof(int));
    n->n_in = n_in;
    nnl_free(n->op);
    n->op = nop;
    nnl_status s = nnl_node_set_attr_int(n, "nnl_ymin", r->ymin);
    if (!s) s = nnl_node_set_attr_int(n, "nnl_ymax", r->ymax);
    for (int k = 0; !s && k < r->n_chain; k++) {
        s = nnl_node_join_name(n, &m->nodes[r->chain[k]]);
        m->nodes[r->chain[k]].dead = true;
    }
    if (!s) s = nnl_node_join_name(n, q);
    if (s) return s;
    n->out[0] = q->out[0];
    m->values[q->out[0]].producer = ni;
    m->nodes[r->q].dead = true;
    for (int k = 0; k < n_dqs; k++)
        if (dqs[k] >= 0 && nnl_model_use_count(m, m->nodes[dqs[k]].out[0]) == 0) m->nodes[dqs[k]].dead = true;
    return NNL_OK;
}

/* A Gemm attribute's value, def when absent; false for another type. */
static bool gemm_attr(const nnl_node *n, const char *name, double def, double *v) {
    const nnl_attr *a = nnl_node_attr(n, name);
    *v = def;
    if (!a) return true;
    if (a->type == NNL_ATTR_INT) *v = (double)a->i;
    else if (a->type == NNL_ATTR_FLOAT) *v = a->f;
    else return false;
    return true;
}

/*   DequantizeLinear(xq) ------------------.
 *   DequantizeLinear(int8 W [N, K], sw, 0) --> Gemm(transB = 1) -> float y
 *   DequantizeLinear(int32 B, sx * sw) -----'
 * (a classifier head) becomes NnlQGemm(xq, sx, zx, W, sw, -, B) writing y
 * (ops/quant/qgemm.c): the integer sums ONNX Runtime's QGemm computes, a
 * quarter of the weight bytes.  The output stays float, so any reader
 * follows as before. */
static nnl_status fuse_qgemm(nnl_model *m, int gi, bool *done) {
    nnl_node *g = &m->nodes[gi];
    *done = false;
    double ta, tb, al, be;
    if (g->n_in < 2 || g->n_in > 3 || g->n_out != 1 || !gemm_attr(g, "transA", 0, &ta) ||
        !gemm_attr(g, "transB", 0, &tb) || !gemm_attr(g, "alpha", 1, &al) || !gemm_attr(g, "beta", 1, &be) ||
        ta != 0 || tb != 1 || al != 1 || be != 1)
        return NNL_OK;
    const int dqx = dq_of(m, g->in[0]), dqw = dq_of(m, g->in[1]);
    const int dqb = g->n_in == 3 && g->in[2] >= 0 ? dq_of(m, g->in[2]) : -1;
    if (dqx < 0 || dqw < 0 || (g->n_in == 3 && g->in[2] >= 0 && dqb < 0)) return NNL_OK;
    float sx;
    int32_t zx;
    nnl_dtype xdt;
    int wq, ws, bq = -1;
    if (!per_tensor_q8(m, &m->nodes[dqx], &sx, &zx, &xdt) || !weight_ok(m, dqw, 2, &wq, &ws)) return NNL_OK;
    const nnl_tensor *w = &m->values[wq].t;
    /* x's shape is not inferred yet; Gemm's A is a matrix of B's K */
    if (!nnl_qgemm_fits(w->dims[1])) return NNL_OK;
    if (dqb >= 0 && !bias_ok(m, dqb, sx, &m->values[ws], w->dims[0], &bq)) return NNL_OK;
    const nnl_node *d = &m->nodes[dqx];
    const int in[7] = {d->in[0], d->in[1], d->in[2], wq, ws, -1, bq};
    const int n_in = bq >= 0 ? 7 : 5;
    int *nin = nnl_realloc(g->in, 7 * sizeof(int));
    char *nop = nnl_strdup("NnlQGemm");
    if (nin) g->in = nin;
    if (!nin || !nop) {
        nnl_free(nop);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
    }
    memcpy(g->in, in, (size_t)n_in * sizeof(int));
    g->n_in = n_in;
    nnl_free(g->op);
    g->op = nop;
    const int dqs[3] = {dqx, dqw, dqb};
    for (int k = 0; k < 3; k++)
        if (dqs[k] >= 0 && nnl_model_use_count(m, m->nodes[dqs[k]].out[0]) == 0) m->nodes[dqs[k]].dead = true;
    *done = true;
    return NNL_OK;
}

nnl_status nnl_pass_fuse_qconv(nnl_model *m) {
    int fused = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        if (!m->nodes[i].dead && strcmp(m->nodes[i].op, "Gemm") == 0) {
            bool done;
            nnl_status s = fuse_qgemm(m, i, &done);
            if (s) return s;
            fused += done;
            continue;
        }
        if (m->nodes[i].dead || strcmp(m->nodes[i].op, "Conv") != 0) continue;
        qdq_match r;
        if (!match(m, i, &r)) continue;
        const nnl_node *dqx = &m->nodes[r.dqx], *q = &m->nodes[r.q];
        const int in[9] = {dqx->in[0], dqx->in[1], dqx->in[2], r.wq, r.ws, -1, q->in[1], q->in[2], r.bq};
        const int dqs[3] = {r.dqx, r.dqw, r.dqb};
        nnl_status s = rewrite(m, i, &r, "QLinearConv", in, r.bq >= 0 ? 9 : 8, dqs, 3);
        if (s) return s;
        fused++;
    }
    return fused ? nnl_model_compact(m) : NNL_OK;
}

static bool same_dims(const nnl_tensor *a, const nnl_tensor *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

/* Whether every window of MaxPool n over an input of rank `rank` holds a
 * tap inside the input: explicit pads below the kernel, dilation 1 (the
 * last window of ceil_mode never starts in the end padding, pool.c).  An
 * all-padding window would be -infinity in float, the type's least value
 * in 8 bits, and the two quantize differently. */
static bool windows_hit_input(const nnl_node *n, int rank) {
    const nnl_attr *k = nnl_node_attr(n, "kernel_shape"), *p = nnl_node_attr(n, "pads");
    const nnl_attr *d = nnl_node_attr(n, "dilations"), *ap = nnl_node_attr(n, "auto_pad");
    const nnl_attr *so = nnl_node_attr(n, "storage_order");
    const int ns = rank - 2;
    if (!k || k->type != NNL_ATTR_INTS || k->n != ns || (ns != 1 && ns != 2)) return false;
    if ((ap && (ap->type != NNL_ATTR_STRING || strcmp(ap->s, "NOTSET") != 0)) || (so && so->i != 0)) return false;
    for (int i = 0; d && i < d->n; i++)
        if (d->type != NNL_ATTR_INTS || d->ints[i] != 1) return false;
    if (p && (p->type != NNL_ATTR_INTS || p->n != 2 * ns)) return false;
    for (int i = 0; p && i < p->n; i++)
        if (p->ints[i] < 0 || p->ints[i] >= k->ints[i % ns]) return false;
    return true;
}

/* DequantizeLinear (per tensor) -> MaxPool  becomes  MaxPool on the 8-bit
 * data -> DequantizeLinear: max commutes with the monotonic dequantization,
 * so the values are the same, and the pool reads a quarter of the bytes
 * and dequantizes a kernel-area fraction of them. */
static nnl_status swap_maxpool(nnl_model *m, int pi, int dq) {
    const int x8 = m->nodes[dq].in[0], y = m->nodes[pi].out[0];
    char name[600];
    snprintf(name, sizeof name, "%.500s:int", m->values[y].name);
    for (int k = 1; nnl_model_find_value(m, name) >= 0; k++)
        snprintf(name, sizeof name, "%.500s:int%d", m->values[y].name, k);
    const int v = nnl_model_add_value(m, name, NNL_VAL_ACT);
    if (v < 0) return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
    m->values[v].t = m->values[y].t;
    m->values[v].t.dtype = m->values[x8].t.dtype;
    m->values[v].shape_known = true;
    const int in[3] = {v, m->nodes[dq].in[1], m->nodes[dq].in[2]};
    const int ni = nnl_model_add_node(m, "DequantizeLinear", m->nodes[dq].name, in, 3, &y, 1, NULL, 0);
    if (ni < 0) return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
    m->nodes[pi].in[0] = x8;
    m->nodes[pi].out[0] = v;
    m->values[v].producer = pi;
    m->values[y].producer = ni;
    if (nnl_model_use_count(m, m->nodes[dq].out[0]) == 0) m->nodes[dq].dead = true;
    return NNL_OK;
}

/* DequantizeLinear -> QuantizeLinear with one per-tensor scale, zero
 * point and type (the pair swap_maxpool leaves behind a MaxPool) is the
 * identity: with k = q - z, |k| <= 255, fl(fl(k s) / s) is within
 * 255 * 2^-23 of k when s is normal and k s finite, so it rounds back to k
 * and q comes out unchanged, saturation never biting.  Readers of the
 * QuantizeLinear's output read the 8-bit input instead (unless it is a
 * graph output, which keeps its name).  Returns how many were dropped. */
static int drop_requantize(nnl_model *m) {
    int dropped = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *q = &m->nodes[i];
        if (q->dead || strcmp(q->op, "QuantizeLinear") != 0 || !plain_q(q)) continue;
        int dq = dq_of(m, q->in[0]);
        float sq, sd;
        int32_t zq, zd;
        nnl_dtype tq, td;
        if (dq < 0 || !per_tensor_q8(m, q, &sq, &zq, &tq) || !per_tensor_q8(m, &m->nodes[dq], &sd, &zd, &td) ||
            sq != sd || zq != zd || tq != td || !(sq >= 1.17549435e-38f && sq <= 1e30f))
            continue;
        bool graph_out = false;
        for (int o = 0; o < m->n_outputs; o++) graph_out |= m->outputs[o] == q->out[0];
        if (graph_out) continue;
        nnl_model_replace_uses(m, q->out[0], m->nodes[dq].in[0]);
        q->dead = true;
        if (nnl_model_use_count(m, m->nodes[dq].out[0]) == 0) m->nodes[dq].dead = true;
        dropped++;
    }
    return dropped;
}

nnl_status nnl_pass_fuse_qislands(nnl_model *m) {
    int fused = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        if (!m->nodes[i].dead && strcmp(m->nodes[i].op, "MaxPool") == 0 && m->nodes[i].n_in == 1 &&
            m->nodes[i].n_out == 1) {
            int dq = dq_of(m, m->nodes[i].in[0]);
            float s;
            int32_t z;
            nnl_dtype dt;
            if (dq < 0 || !per_tensor_q8(m, &m->nodes[dq], &s, &z, &dt) ||
                !m->values[m->nodes[dq].in[0]].shape_known ||
                !windows_hit_input(&m->nodes[i], m->values[m->nodes[dq].in[0]].t.rank))
                continue;
            nnl_status st = swap_maxpool(m, i, dq);
            if (st) return st;
            fused++;
            continue;
        }
        const nnl_node *add = &m->nodes[i];
        if (add->dead || strcmp(add->op, "Add") != 0 || add->n_in != 2 || add->n_out != 1) continue;
        int da = dq_of(m, add->in[0]), db = dq_of(m, add->in[1]);
        float s;
        int32_t z;
        nnl_dtype dt;
        qdq_match r;
        if (da < 0 || db < 0 || !per_tensor_q8(m, &m->nodes[da], &s, &z, &dt) ||
            !per_tensor_q8(m, &m->nodes[db], &s, &z, &dt) || !m->values[add->in[0]].shape_known ||
            !same_dims(&m->values[add->in[0]].t, &m->values[add->in[1]].t) ||
            !same_dims(&m->values[add->in[0]].t, &m->values[add->out[0]].t) || !out_chain(m, add->out[0], &r))
            continue;
        const nnl_node *a = &m->nodes[da], *b = &m->nodes[db], *q = &m->nodes[r.q];
        const int in[8] = {a->in[0], a->in[1], a->in[2], b->in[0], b->in[1], b->in[2], q->in[1], q->in[2]};
        const int dqs[2] = {da, db};
        nnl_status st = rewrite(m, i, &r, "NnlQLinearAdd", in, 8, dqs, 2);
        if (st) return st;
        fused++;
    }
    fused += drop_requantize(m);
    return fused ? nnl_model_compact(m) : NNL_OK;
}
