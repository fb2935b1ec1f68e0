/*
 * LayerNorm fusion.  Before opset 17 PyTorch exports nn.LayerNorm as
 *   m = ReduceMean(x); d = Sub(x, m); v = ReduceMean(Pow(d, 2));
 *   y = Div(d, Sqrt(Add(v, eps))) [* gamma] [+ beta]
 * over the trailing axes.  Nine passes over the activation become one
 * LayerNormalization (statistics in double, see ops/math_norm.c).  Every
 * intermediate must be used only inside the pattern, so nothing observable
 * changes.
 */
#include <stdio.h>

#include "passes/passes.h"
#include "passes/pattern.h"

/* ReduceMean over the trailing axes of its input with keepdims; returns the
 * first reduced axis (>= 1) or -1. */
static int trailing_mean_axis(const nnl_model *m, const nnl_node *n) {
    if (strcmp(n->op, "ReduceMean") != 0 || n->n_in < 1 || n->in[0] < 0) return -1;
    const nnl_attr *kd = nnl_node_attr(n, "keepdims");
    if (kd && kd->i != 1) return -1;
    const nnl_tensor *x = &m->values[n->in[0]].t;
    const int64_t *axes = NULL;
    int na = 0;
    const nnl_attr *aa = nnl_node_attr(n, "axes");
    if (aa && aa->type == NNL_ATTR_INTS) {
        axes = aa->ints;
        na = aa->n;
    } else if (n->n_in >= 2 && n->in[1] >= 0 && m->values[n->in[1]].kind == NNL_VAL_CONST &&
               m->values[n->in[1]].t.dtype == NNL_DT_INT64) {
        axes = m->values[n->in[1]].t.data;
        na = (int)nnl_tensor_numel(&m->values[n->in[1]].t);
    }
    if (na < 1 || na >= x->rank) return -1;
    bool seen[NNL_MAX_RANK] = {false};
    for (int i = 0; i < na; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + x->rank : axes[i];
        if (a < 1 || a >= x->rank || seen[a]) return -1;
        seen[a] = true;
    }
    int first = x->rank - na;
    for (int a = first; a < x->rank; a++)
        if (!seen[a]) return -1;
    return first;
}

static bool const_vec(const nnl_model *m, int v, int64_t n) {
    if (v < 0 || m->values[v].kind != NNL_VAL_CONST || m->values[v].t.dtype != NNL_DT_FLOAT) return false;
    return nnl_tensor_numel(&m->values[v].t) == n;
}

nnl_status nnl_pass_fuse_layernorm(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *rm1 = &m->nodes[i];
        if (rm1->dead) continue;
        int axis = trailing_mean_axis(m, rm1);
        if (axis < 0) continue;
        int x = rm1->in[0];
        const nnl_tensor *xt = &m->values[x].t;
        if (xt->dtype != NNL_DT_FLOAT) continue;
        int64_t inner = 1;
        for (int a = axis; a < xt->rank; a++) inner *= xt->dims[a];
        int sub = nnl_sole_consumer(m, rm1->out[0]);
        if (!nnl_node_is(m, sub, "Sub") || m->nodes[sub].in[0] != x || m->nodes[sub].in[1] != rm1->out[0]) continue;
        int d = m->nodes[sub].out[0];
        if (nnl_is_graph_output(m, d) || nnl_model_use_count(m, d) != 2) continue;
        /* d feeds Pow and Div */
        int pw = -1, dv = -1;
        for (int k = 0; k < m->n_nodes; k++) {
            if (m->nodes[k].dead) continue;
            if (nnl_node_is(m, k, "Pow") && m->nodes[k].in[0] == d) pw = k;
            if (nnl_node_is(m, k, "Div") && m->nodes[k].in[0] == d) dv = k;
        }
        float two, eps;
        if (pw < 0 || dv < 0 || !nnl_scalar_const(m, m->nodes[pw].in[1], &two) || two != 2.0f) continue;
        int rm2 = nnl_sole_consumer(m, m->nodes[pw].out[0]);
        if (rm2 < 0 || trailing_mean_axis(m, &m->nodes[rm2]) != axis) continue;
        int add = nnl_sole_consumer(m, m->nodes[rm2].out[0]);
        if (!nnl_node_is(m, add, "Add")) continue;
        int ev = m->nodes[add].in[0] == m->nodes[rm2].out[0] ? m->nodes[add].in[1] : m->nodes[add].in[0];
        if (!nnl_scalar_const(m, ev, &eps)) continue;
        int sq = nnl_sole_consumer(m, m->nodes[add].out[0]);
        if (!nnl_node_is(m, sq, "Sqrt") || nnl_sole_consumer(m, m->nodes[sq].out[0]) != dv ||
            m->nodes[dv].in[1] != m->nodes[sq].out[0])
            continue;
        int last = dv, gamma = -1, beta = -1;
        int mul = nnl_sole_consumer(m, m->nodes[dv].out[0]);
        if (nnl_node_is(m, mul, "Mul")) {
            int g = m->nodes[mul].in[0] == m->nodes[dv].out[0] ? m->nodes[mul].in[1] : m->nodes[mul].in[0];
            if (const_vec(m, g, inner) && m->values[g].t.rank <= xt->rank - axis) {
                gamma = g;
                last = mul;
                int ad = nnl_sole_consumer(m, m->nodes[mul].out[0]);
                if (nnl_node_is(m, ad, "Add")) {
                    int b = m->nodes[ad].in[0] == m->nodes[mul].out[0] ? m->nodes[ad].in[1] : m->nodes[ad].in[0];
                    if (const_vec(m, b, inner) && m->values[b].t.rank <= xt->rank - axis) {
                        beta = b;
                        last = ad;
                    }
                }
            }
        }
        if (gamma < 0) {
            char name[512];
            snprintf(name, sizeof name, "%s.ln_scale", rm1->name);
            gamma = nnl_model_add_value(m, name, NNL_VAL_CONST);
            float *ones = nnl_aligned_alloc((size_t)inner * sizeof(float));
            if (gamma < 0 || !ones) {
                nnl_aligned_free(ones);
                return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing LayerNorm");
            }
            for (int64_t k = 0; k < inner; k++) ones[k] = 1.0f;
            int64_t dims[1] = {inner};
            nnl_status s = nnl_value_set_const(&m->values[gamma], NNL_DT_FLOAT, 1, dims, ones, true);
            if (s) return s;
        }
        int in[3] = {x, gamma, beta};
        int out[1] = {m->nodes[last].out[0]};
        nnl_attr attrs[2] = {{.name = "axis", .type = NNL_ATTR_INT, .i = axis},
                             {.name = "epsilon", .type = NNL_ATTR_FLOAT, .f = eps}};
        char name[1024];
        snprintf(name, sizeof name, "%s..%s", m->nodes[i].name, m->nodes[last].name);
        int nodes_in_pattern[] = {i, sub, pw, rm2, add, sq, dv, last == dv ? -1 : mul, beta >= 0 ? last : -1};
        int ln = nnl_model_add_node(m, "LayerNormalization", name, in, beta >= 0 ? 3 : 2, out, 1, attrs, 2);
        if (ln < 0) return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing LayerNorm");
        for (size_t k = 0; k < sizeof nodes_in_pattern / sizeof *nodes_in_pattern; k++)
            if (nodes_in_pattern[k] >= 0) m->nodes[nodes_in_pattern[k]].dead = true;
        m->values[out[0]].producer = ln;
    }
    return nnl_model_compact(m);
}
