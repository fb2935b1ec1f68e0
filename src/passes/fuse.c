/*
 * Fusions that remove whole passes over activations:
 *   Conv -> BatchNormalization        folded into the conv's weights/bias
 *   Conv/Gemm/MatMul -> Add(residual) becomes the op's 4th input "Z"
 *   ... -> Relu/Clip/Sigmoid/...      becomes the op's nnl_act attribute
 *   BatchNormalization -> Relu        (BN left unfolded) nnl_act RELU too
 *   y -> Sigmoid(y) -> Mul(y, s)      SiLU as PyTorch exports it: nnl_act SILU
 *   y -> HardSigmoid(y) -> Mul(y, s)  hardswish before opset 14: HARDSWISH
 *   y -> Div(y, sqrt 2) -> Erf -> Add 1 -> Mul y -> Mul 0.5
 *                                     GELU as PyTorch exports it: GELU
 *                                     (Gemm / MatMul only, the conv
 *                                     kernels do not apply it)
 *   MatMul -> Add(b[N])               the MatMul's input 2 "bias"
 *   MatMul -> Transpose -> Mul(g)     a per-channel scale folded into the
 *                                     MatMul's weight and bias (ConvNeXt)
 *   Div(q, c) -> MatMul               attention's 1 / sqrt(d): the
 *                                     MatMul's attribute nnl_alpha = 1 / c
 *   Mul(x, s[N,C,1,1]) -> 1x1 Conv    squeeze-and-excitation scale: the
 *                                     conv's input 4 "S", applied as it
 *                                     packs x (x may have other readers)
 * Only applied when the intermediate has exactly one use and is not a graph
 * output, so no value anyone can observe changes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "passes/passes.h"
#include "passes/pattern.h"

static bool const_f32(const nnl_model *m, int v, int64_t n) {
    return v >= 0 && m->values[v].kind == NNL_VAL_CONST && m->values[v].t.dtype == NNL_DT_FLOAT &&
           m->values[v].t.layout == NNL_LAYOUT_PLAIN && nnl_tensor_numel(&m->values[v].t) == n;
}

nnl_status nnl_pass_fold_batchnorm(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *conv = &m->nodes[i];
        if (conv->dead || strcmp(conv->op, "Conv") != 0 || conv->n_in < 2 || conv->n_in > 3) continue;
        int y = conv->out[0];
        int bi = nnl_sole_consumer(m, y);
        if (bi < 0) continue;
        nnl_node *bn = &m->nodes[bi];
        if (strcmp(bn->op, "BatchNormalization") != 0 || bn->n_in != 5 || bn->in[0] != y) continue;
        if (bn->n_out > 1) {
            bool extra = false;
            for (int j = 1; j < bn->n_out; j++) extra |= bn->out[j] >= 0 && nnl_model_use_count(m, bn->out[j]) > 0;
            if (extra) continue;
        }
        int w = conv->in[1];
        nnl_value *wv = &m->values[w];
        if (wv->kind != NNL_VAL_CONST || wv->t.dtype != NNL_DT_FLOAT || wv->t.rank < 3 ||
            nnl_model_use_count(m, w) != 1)
            continue;
        int64_t oc = wv->t.dims[0];
        int bias = conv->n_in == 3 ? conv->in[2] : -1;
        if (bias >= 0 && (!const_f32(m, bias, oc) || nnl_model_use_count(m, bias) != 1)) continue;
        if (!const_f32(m, bn->in[1], oc) || !const_f32(m, bn->in[2], oc) || !const_f32(m, bn->in[3], oc) ||
            !const_f32(m, bn->in[4], oc))
            continue;
        const nnl_attr *ea = nnl_node_attr(bn, "epsilon");
        double eps = ea && ea->type == NNL_ATTR_FLOAT ? ea->f : 1e-5;
        const float *g = m->values[bn->in[1]].t.data, *be = m->values[bn->in[2]].t.data;
        const float *mu = m->values[bn->in[3]].t.data, *var = m->values[bn->in[4]].t.data;
        float *nb = nnl_aligned_alloc((size_t)oc * sizeof(float));
        if (!nb) return nnl_fail(NNL_ERR_NOMEM, "out of memory folding batch norm");
        float *wd = wv->t.data;
        int64_t per = nnl_tensor_numel(&wv->t) / (oc ? oc : 1);
        const float *ob = bias >= 0 ? m->values[bias].t.data : NULL;
        for (int64_t o = 0; o < oc; o++) {
            double sc = g[o] / sqrt((double)var[o] + eps);
            for (int64_t k = 0; k < per; k++) wd[o * per + k] = (float)(wd[o * per + k] * sc);
            nb[o] = (float)(((ob ? ob[o] : 0.0) - mu[o]) * sc + be[o]);
        }
        int bv = bias;
        if (bv < 0) {
            /* name derived from the weight so equal graphs name it equally */
            char name[1024];
            snprintf(name, sizeof name, "%s.bnbias", wv->name);
            bv = nnl_model_add_value(m, name, NNL_VAL_CONST);
            if (bv < 0) {
                nnl_aligned_free(nb);
                return nnl_fail(NNL_ERR_NOMEM, "out of memory folding batch norm");
            }
            conv = &m->nodes[i];
            bn = &m->nodes[bi];
            int *in = nnl_realloc(conv->in, 3 * sizeof(int));
            if (!in) {
                nnl_aligned_free(nb);
                return nnl_fail(NNL_ERR_NOMEM, "out of memory folding batch norm");
            }
            conv->in = in;
            conv->in[2] = bv;
            conv->n_in = 3;
        }
        int64_t d[1] = {oc};
        nnl_status s = nnl_value_set_const(&m->values[bv], NNL_DT_FLOAT, 1, d, nb, true);
        if (s) {
            nnl_aligned_free(nb);
            return s;
        }
        /* The conv now writes the BN's output value (keeps its name). */
        conv->out[0] = bn->out[0];
        m->values[bn->out[0]].producer = i;
        if ((s = nnl_node_join_name(conv, bn))) return s;
        bn->dead = true;
    }
    return nnl_model_compact(m);
}

/* Recognise a fusable activation node; fills act and its parameters. */
static bool activation_of(const nnl_model *m, const nnl_node *n, int *act, float *a, float *b) {
    *a = 0;
    *b = 0;
    if (n->n_in < 1 || n->n_out != 1) return false;
    if (strcmp(n->op, "Relu") == 0) { *act = NNL_ACT_RELU; return true; }
    if (strcmp(n->op, "Sigmoid") == 0) { *act = NNL_ACT_SIGMOID; return true; }
    if (strcmp(n->op, "HardSwish") == 0) { *act = NNL_ACT_HARDSWISH; return true; }
    if (strcmp(n->op, "HardSigmoid") == 0) {
        const nnl_attr *al = nnl_node_attr(n, "alpha"), *be = nnl_node_attr(n, "beta");
        *a = al ? al->f : 0.2f;
        *b = be ? be->f : 0.5f;
        *act = NNL_ACT_HARDSIGMOID;
        return true;
    }
    if (strcmp(n->op, "LeakyRelu") == 0) {
        const nnl_attr *al = nnl_node_attr(n, "alpha");
        *a = al ? al->f : 0.01f;
        *act = NNL_ACT_LEAKYRELU;
        return true;
    }
    if (strcmp(n->op, "Clip") == 0) {
        *act = NNL_ACT_CLIP;
        return nnl_clip_bounds(m, n, a, b);
    }
    return false;
}

static bool is_fusable_op(const nnl_node *n) {
    return strcmp(n->op, "Conv") == 0 || strcmp(n->op, "Gemm") == 0 || strcmp(n->op, "MatMul") == 0;
}

static bool same_shape(const nnl_tensor *a, const nnl_tensor *b) {
    if (a->rank != b->rank || a->dtype != b->dtype) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

/* The gate of a gated activation: Sigmoid makes SiLU; HardSigmoid with
 * alpha 1/6 and beta 0.5 (as torch exports hardswish before opset 14)
 * makes HardSwish, whose epilogue computes the same x * (1/6) + 0.5. */
static int gate_act(const nnl_model *m, const nnl_node *n) {
    if (strcmp(n->op, "Sigmoid") == 0) return NNL_ACT_SILU;
    int act;
    float a, b;
    if (strcmp(n->op, "HardSigmoid") == 0 && activation_of(m, n, &act, &a, &b) && a == 1.0f / 6.0f && b == 0.5f)
        return NNL_ACT_HARDSWISH;
    return -1;
}

/* y * gate(y) as exported: y read by exactly a gate node s = gate(y) and a
 * Mul of y and s, s read by that Mul alone.  Returns the Mul's node (the
 * gate's in *sig, the fused activation in *act) or -1. */
static int gated_of(const nnl_model *m, int y, int *sig, int *act) {
    if (y < 0 || nnl_is_graph_output(m, y) || nnl_model_use_count(m, y) != 2) return -1;
    int s = -1, mul = -1;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        if (n->n_in == 1 && n->in[0] == y && n->n_out == 1 && gate_act(m, n) >= 0) s = i;
        else if (n->n_in == 2 && (n->in[0] == y || n->in[1] == y) && n->n_out == 1 && strcmp(n->op, "Mul") == 0)
            mul = i;
    }
    if (s < 0 || mul < 0 || nnl_sole_consumer(m, m->nodes[s].out[0]) != mul) return -1;
    const nnl_node *mn = &m->nodes[mul];
    int other = mn->in[0] == y ? mn->in[1] : mn->in[0];
    if (other != m->nodes[s].out[0]) return -1;
    *sig = s;
    *act = gate_act(m, &m->nodes[s]);
    return mul;
}

/* The live node other than `not` that reads v, and is op `op` with n_in
 * inputs, or -1. */
static int reader_of(const nnl_model *m, int v, const char *op, int n_in, int not) {
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (i == not || n->dead || n->n_in != n_in || n->n_out != 1 || strcmp(n->op, op) != 0) continue;
        for (int j = 0; j < n_in; j++)
            if (n->in[j] == v) return i;
    }
    return -1;
}

/* Whether binary node bi reads v and, as its other input, the float
 * scalar constant k (within tol). */
static bool with_scalar(const nnl_model *m, int bi, int v, float k, float tol) {
    const nnl_node *b = &m->nodes[bi];
    float c;
    int o = b->in[0] == v ? b->in[1] : b->in[1] == v ? b->in[0] : -2;
    return o != -2 && nnl_scalar_const(m, o, &c) && fabsf(c - k) <= tol;
}

/* The sole consumer of node i's output when it is op `op` with n_in
 * inputs, else -1. */
static int next_is(const nnl_model *m, int i, const char *op, int n_in) {
    int c = nnl_sole_consumer(m, m->nodes[i].out[0]);
    return c >= 0 && m->nodes[c].n_in == n_in && m->nodes[c].n_out == 1 && strcmp(m->nodes[c].op, op) == 0 ? c : -1;
}

/* Whether binary node n reads exactly u and v, in either order. */
static bool reads_pair(const nnl_node *n, int u, int v) {
    return (n->in[0] == u && n->in[1] == v) || (n->in[0] == v && n->in[1] == u);
}

/* GELU as PyTorch exports it, on y read by exactly these nodes:
 *   d = Div(y, sqrt 2), e = Erf(d), a = Add(e, 1),
 * then either p = Mul(y, a), f = Mul(p, 0.5) or p = Mul(y, 0.5), f =
 * Mul(p, a); each intermediate read by the next alone.  Returns f (whose
 * output y's producer takes over) with d, e, a, p in part[], or -1. */
static int gelu_of(const nnl_model *m, int y, int part[4]) {
    if (y < 0 || nnl_is_graph_output(m, y) || nnl_model_use_count(m, y) != 2) return -1;
    int d = reader_of(m, y, "Div", 2, -1);
    if (d < 0 || m->nodes[d].in[0] != y || !with_scalar(m, d, y, 1.41421356f, 1e-6f)) return -1;
    int e = next_is(m, d, "Erf", 1);
    int a = e >= 0 ? next_is(m, e, "Add", 2) : -1;
    if (a < 0 || !with_scalar(m, a, m->nodes[e].out[0], 1.0f, 0.0f)) return -1;
    int p = reader_of(m, y, "Mul", 2, d), f = p >= 0 ? next_is(m, p, "Mul", 2) : -1;
    if (f < 0) return -1;
    const int pv = m->nodes[p].out[0], av = m->nodes[a].out[0], an = next_is(m, a, "Mul", 2);
    bool first = an == p && reads_pair(&m->nodes[p], y, av) && with_scalar(m, f, pv, 0.5f, 0.0f);
    bool second = an == f && with_scalar(m, p, y, 0.5f, 0.0f) && reads_pair(&m->nodes[f], pv, av);
    if (!first && !second) return -1;
    part[0] = d, part[1] = e, part[2] = a, part[3] = p;
    return f;
}

/* Whether value v is x's per-channel scale: same rank, dims (N, C, 1...). */
static bool channel_scale_of(const nnl_model *m, int v, int x) {
    const nnl_tensor *s = &m->values[v].t, *t = &m->values[x].t;
    if (s->dtype != NNL_DT_FLOAT || t->dtype != NNL_DT_FLOAT || s->rank != t->rank || s->rank < 3) return false;
    if (s->dims[0] != t->dims[0] || s->dims[1] != t->dims[1]) return false;
    for (int i = 2; i < s->rank; i++)
        if (s->dims[i] != 1) return false;
    return true;
}

/* Mul(x, s) read only by a 1x1 group-1 Conv (as its input X) becomes that
 * conv's channel-scale input 4; run before packing, so no conv that takes
 * it can be Winograd. */
nnl_status nnl_pass_fuse_channel_scale(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *mul = &m->nodes[i];
        if (mul->dead || strcmp(mul->op, "Mul") != 0 || mul->n_in != 2 || mul->n_out != 1) continue;
        int ci = nnl_sole_consumer(m, mul->out[0]);
        if (ci < 0 || nnl_is_graph_output(m, mul->out[0])) continue;
        nnl_node *conv = &m->nodes[ci];
        if (strcmp(conv->op, "Conv") != 0 || conv->n_in < 2 || conv->n_in > 4 || conv->in[0] != mul->out[0] ||
            conv->in[1] == mul->out[0] || (conv->n_in > 2 && conv->in[2] == mul->out[0]) ||
            (conv->n_in > 3 && conv->in[3] == mul->out[0]) || nnl_node_int(conv, "group", 1) != 1)
            continue;
        const nnl_tensor *w = &m->values[conv->in[1]].t;
        if (w->rank != 4 || w->dims[2] != 1 || w->dims[3] != 1) continue;
        int x = mul->in[0], sc = mul->in[1];
        if (!channel_scale_of(m, sc, x)) {
            x = mul->in[1];
            sc = mul->in[0];
            if (!channel_scale_of(m, sc, x)) continue;
        }
        if (m->values[x].t.rank != 4 || m->values[x].t.dims[1] != w->dims[1]) continue;
        int *in = nnl_realloc(conv->in, 5 * sizeof(int));
        if (!in) return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
        conv->in = in;
        while (conv->n_in < 4) conv->in[conv->n_in++] = -1;
        conv->in[0] = x;
        conv->in[4] = sc;
        conv->n_in = 5;
        nnl_status s = nnl_node_join_name(conv, mul);
        if (s) return s;
        mul->dead = true;
    }
    return nnl_model_compact(m);
}

/* Input `slot` of node n becomes v; slots between the old count and it
 * are absent (-1). */
static nnl_status set_input(nnl_node *n, int slot, int v) {
    if (slot >= n->n_in) {
        int *in = nnl_realloc(n->in, (size_t)(slot + 1) * sizeof(int));
        if (!in) return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
        n->in = in;
        while (n->n_in <= slot) n->in[n->n_in++] = -1;
    }
    n->in[slot] = v;
    return NNL_OK;
}

/* Node i takes over the output (and the name) of node x, which dies. */
static nnl_status absorb(nnl_model *m, int i, int x) {
    nnl_node *n = &m->nodes[i], *xn = &m->nodes[x];
    nnl_status s = nnl_node_join_name(n, xn);
    if (s) return s;
    n->out[0] = xn->out[0];
    m->values[xn->out[0]].producer = i;
    xn->dead = true;
    return NNL_OK;
}

/* The operand of Add node ai other than v (-1 when both are v). */
static int add_other(const nnl_model *m, int ai, int v) {
    const nnl_node *add = &m->nodes[ai];
    return add->in[0] == add->in[1] ? -1 : add->in[0] == v ? add->in[1] : add->in[0];
}

/* MatMul (rank-2 B) -> Add(y, b) with b a float32 constant [N]: b becomes
 * the MatMul's bias input; returns the new sole consumer of the output. */
static nnl_status matmul_bias(nnl_model *m, int i, int *ci) {
    nnl_node *n = &m->nodes[i];
    if (*ci < 0 || strcmp(n->op, "MatMul") != 0 || n->n_in != 2 || strcmp(m->nodes[*ci].op, "Add") != 0 ||
        m->nodes[*ci].n_in != 2)
        return NNL_OK;
    const nnl_tensor *w = &m->values[n->in[1]].t;
    int b = add_other(m, *ci, n->out[0]);
    if (w->rank < 2 || b < 0 || !const_f32(m, b, w->dims[w->rank - 1]) || m->values[b].t.rank != 1) return NNL_OK;
    nnl_status s = set_input(n, 2, b);
    if (!s) s = absorb(m, i, *ci);
    *ci = nnl_sole_consumer(m, m->nodes[i].out[0]);
    return s;
}

/* Conv / MatMul -> Add(y, r), r computed (not constant) and of y's shape:
 * r becomes input 3 "Z". */
static nnl_status residual(nnl_model *m, int i, int *ci) {
    nnl_node *n = &m->nodes[i];
    if (*ci < 0 || (strcmp(n->op, "Conv") != 0 && strcmp(n->op, "MatMul") != 0) || n->n_in > 3 ||
        strcmp(m->nodes[*ci].op, "Add") != 0 || m->nodes[*ci].n_in != 2 || nnl_node_attr(n, "nnl_act"))
        return NNL_OK;
    int other = add_other(m, *ci, n->out[0]);
    if (other < 0 || !same_shape(&m->values[other].t, &m->values[n->out[0]].t) ||
        m->values[other].kind == NNL_VAL_CONST)
        return NNL_OK;
    nnl_status s = set_input(n, 3, other);
    if (!s) s = absorb(m, i, *ci);
    *ci = nnl_sole_consumer(m, m->nodes[i].out[0]);
    return s;
}

/* MatMul (constant B [K, N], a bias, no residual or activation) ->
 * Transpose -> Mul(t, g), g a float32 constant of N values along the axis
 * the Transpose moves the MatMul's last axis to (ConvNeXt's layer scale):
 * B's columns and the bias are scaled by g, the Transpose writes the Mul's
 * output and the Mul's pass over the activations is gone. */
static nnl_status layer_scale(nnl_model *m, int i, int ti) {
    const nnl_node *n = &m->nodes[i];
    if (ti < 0 || strcmp(n->op, "MatMul") != 0 || n->n_in != 3 || nnl_node_attr(n, "nnl_act") ||
        strcmp(m->nodes[ti].op, "Transpose") != 0)
        return NNL_OK;
    const int w = n->in[1], b = n->in[2], rank = m->values[n->out[0]].t.rank;
    const nnl_tensor *wt = &m->values[w].t;
    if (wt->rank != 2 || !const_f32(m, w, nnl_tensor_numel(wt)) || !const_f32(m, b, wt->dims[1]) ||
        nnl_model_use_count(m, w) != 1)
        return NNL_OK;
    const nnl_attr *perm = nnl_node_attr(&m->nodes[ti], "perm");
    int k = -1;
    for (int a = 0; perm && perm->type == NNL_ATTR_INTS && perm->n == rank && a < rank; a++)
        if (perm->ints[a] == rank - 1) k = a;
    const int mi = nnl_sole_consumer(m, m->nodes[ti].out[0]);
    if (k < 0 || mi < 0 || strcmp(m->nodes[mi].op, "Mul") != 0 || m->nodes[mi].n_in != 2) return NNL_OK;
    const int64_t nn = wt->dims[1];
    const int g = add_other(m, mi, m->nodes[ti].out[0]);
    if (g < 0 || !const_f32(m, g, nn) || m->values[g].t.rank > rank) return NNL_OK;
    const nnl_tensor *gt = &m->values[g].t;
    for (int a = 0; a < gt->rank; a++)
        if (gt->dims[a] != (rank - gt->rank + a == k ? nn : 1)) return NNL_OK;
    /* the bias scaled into a value of its own (biases of equal values
     * may be one constant shared by several layers), named after the
     * weight so equal graphs name it equally */
    float *bd = nnl_aligned_alloc((size_t)nn * sizeof(float));
    char name[1024];
    snprintf(name, sizeof name, "%s.scaled_bias", m->values[w].name);
    int bs = bd ? nnl_model_add_value(m, name, NNL_VAL_CONST) : -1;
    if (bs < 0) {
        nnl_aligned_free(bd);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
    }
    const float *gd = m->values[g].t.data, *b0 = m->values[b].t.data;
    for (int64_t j = 0; j < nn; j++) bd[j] = b0[j] * gd[j];
    nnl_status s = nnl_value_set_const(&m->values[bs], NNL_DT_FLOAT, 1, (int64_t[]){nn}, bd, true);
    if (s) {
        nnl_aligned_free(bd);
        return s;
    }
    float *wd = m->values[w].t.data;
    for (int64_t r = 0; r < m->values[w].t.dims[0]; r++)
        for (int64_t j = 0; j < nn; j++) wd[r * nn + j] *= gd[j];
    m->nodes[i].in[2] = bs;
    return absorb(m, ti, mi);
}

/* MatMul reading Div(q, c), c a nonzero float scalar constant, as either
 * operand, the Div read by it alone: the MatMul reads q and scales its
 * products by 1 / c (nnl_alpha, applied before bias and residual). */
static nnl_status matmul_scale(nnl_model *m, int i) {
    nnl_node *n = &m->nodes[i];
    if (strcmp(n->op, "MatMul") != 0 || n->n_in != 2 || nnl_node_attr(n, "nnl_alpha")) return NNL_OK;
    for (int k = 0; k < 2; k++) {
        int v = n->in[k], di = m->values[v].producer;
        float c;
        if (di < 0 || m->nodes[di].dead || strcmp(m->nodes[di].op, "Div") != 0 || m->nodes[di].n_in != 2 ||
            nnl_sole_consumer(m, v) != i || !nnl_scalar_const(m, m->nodes[di].in[1], &c) || c == 0.0f ||
            !isfinite(1.0f / c))
            continue;
        nnl_status s = nnl_node_set_attr_float(n, "nnl_alpha", 1.0f / c);
        if (!s) s = nnl_node_join_name(n, &m->nodes[di]);
        if (s) return s;
        n->in[k] = m->nodes[di].in[0];
        m->nodes[di].dead = true;
        return NNL_OK;
    }
    return NNL_OK;
}

/* BatchNormalization -> Relu, the BN not folded into a conv before it
 * (DenseNet's pre-activation: BN and ReLU on the concatenated features
 * before each conv): the ReLU applied in the BN's own pass, which saves a
 * read and a write of the tensor (62 such pairs in DenseNet-121). */
static nnl_status bn_relu(nnl_model *m, int i) {
    nnl_node *n = &m->nodes[i];
    if (n->n_out != 1 || nnl_node_attr(n, "nnl_act") || m->values[n->out[0]].t.dtype != NNL_DT_FLOAT) return NNL_OK;
    int ci = nnl_sole_consumer(m, n->out[0]), act;
    float a, b;
    if (ci < 0 || m->nodes[ci].in[0] != n->out[0] || !activation_of(m, &m->nodes[ci], &act, &a, &b) ||
        act != NNL_ACT_RELU)
        return NNL_OK;
    nnl_status s = nnl_node_set_attr_int(n, "nnl_act", NNL_ACT_RELU);
    return s ? s : absorb(m, i, ci);
}

nnl_status nnl_pass_fuse_epilogue(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *n = &m->nodes[i];
        if (!n->dead && strcmp(n->op, "BatchNormalization") == 0) {
            nnl_status s = bn_relu(m, i);
            if (s) return s;
            continue;
        }
        if (n->dead || !is_fusable_op(n) || n->n_out != 1) continue;
        if (m->values[n->out[0]].t.dtype != NNL_DT_FLOAT) continue;
        int ci = nnl_sole_consumer(m, n->out[0]);
        nnl_status s = matmul_scale(m, i);
        if (!s) s = matmul_bias(m, i, &ci);
        if (!s) s = residual(m, i, &ci);
        if (!s) s = layer_scale(m, i, ci);
        if (s) return s;
        if (nnl_node_attr(n, "nnl_act")) continue;
        /* the activation's nodes: ci, whose output the op takes over, and
         * the n_part others of a gated or GELU pattern */
        int act, part[4], n_part = 0;
        float a = 0, b = 0;
        if (ci < 0) {
            ci = gated_of(m, n->out[0], &part[0], &act);
            n_part = ci >= 0;
        }
        if (ci < 0 && strcmp(n->op, "Conv") != 0) {
            ci = gelu_of(m, n->out[0], part);
            n_part = 4;
            act = NNL_ACT_GELU;
        }
        if (ci < 0) continue;
        if (n_part == 0 && (m->nodes[ci].in[0] != n->out[0] || !activation_of(m, &m->nodes[ci], &act, &a, &b)))
            continue;
        for (int k = 0; k < n_part && !s; k++) {
            s = nnl_node_join_name(n, &m->nodes[part[k]]);
            m->nodes[part[k]].dead = true;
        }
        if (!s) s = nnl_node_set_attr_int(n, "nnl_act", act);
        if (!s) s = nnl_node_set_attr_float(n, "nnl_act_a", a);
        if (!s) s = nnl_node_set_attr_float(n, "nnl_act_b", b);
        if (!s) s = absorb(m, i, ci);
        if (s) return s;
    }
    return nnl_model_compact(m);
}
