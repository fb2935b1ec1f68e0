/* Small graph queries the fusion passes share. */
#ifndef NNL_PATTERN_H
#define NNL_PATTERN_H

#include <math.h>
#include <string.h>

#include "ir/model.h"

static inline bool nnl_is_graph_output(const nnl_model *m, int v) {
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v) return true;
    return false;
}

/* The single live consumer of v (v not a graph output), or -1. */
static inline int nnl_sole_consumer(const nnl_model *m, int v) {
    if (v < 0 || nnl_is_graph_output(m, v) || nnl_model_use_count(m, v) != 1) return -1;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] == v) return i;
    }
    return -1;
}

static inline bool nnl_node_is(const nnl_model *m, int node, const char *op) {
    return node >= 0 && !m->nodes[node].dead && strcmp(m->nodes[node].op, op) == 0;
}

/* INT attribute `name` of n, or def when absent or of another type. */
static inline int64_t nnl_node_int(const nnl_node *n, const char *name, int64_t def) {
    const nnl_attr *a = nnl_node_attr(n, name);
    return a && a->type == NNL_ATTR_INT ? a->i : def;
}

/* Fused steps are labelled with every ONNX node they came from:
 * into's name becomes "into+from". */
static inline nnl_status nnl_node_join_name(nnl_node *into, const nnl_node *from) {
    size_t a = strlen(into->name), b = strlen(from->name);
    char *s = nnl_realloc(into->name, a + b + 2);
    if (!s) return nnl_fail(NNL_ERR_NOMEM, "out of memory fusing");
    s[a] = '+';
    memcpy(s + a + 1, from->name, b + 1);
    into->name = s;
    return NNL_OK;
}

/* Value of a one-element float constant. */
static inline bool nnl_scalar_const(const nnl_model *m, int v, float *out) {
    if (v < 0 || m->values[v].kind != NNL_VAL_CONST || nnl_tensor_numel(&m->values[v].t) != 1) return false;
    if (m->values[v].t.dtype != NNL_DT_FLOAT) return false;
    *out = *(const float *)m->values[v].t.data;
    return true;
}

/* Bounds [*a, *b] of Clip node n (min/max attributes before opset 11,
 * constant scalar inputs after; absent bounds are infinite); false when a
 * bound is not a constant. */
static inline bool nnl_clip_bounds(const nnl_model *m, const nnl_node *n, float *a, float *b) {
    *a = -INFINITY;
    *b = INFINITY;
    if (m->opset < 11) {
        const nnl_attr *lo = nnl_node_attr(n, "min"), *hi = nnl_node_attr(n, "max");
        if (lo) *a = lo->f;
        if (hi) *b = hi->f;
        return true;
    }
    if (n->n_in >= 2 && n->in[1] >= 0 && !nnl_scalar_const(m, n->in[1], a)) return false;
    return !(n->n_in >= 3 && n->in[2] >= 0 && !nnl_scalar_const(m, n->in[2], b));
}

/* Whether every byte of constant tensor t is 0 (zero points). */
static inline bool nnl_const_all_zero(const nnl_tensor *t) {
    const char *p = t->data;
    for (size_t i = 0, n = nnl_tensor_nbytes(t); i < n; i++)
        if (p[i]) return false;
    return true;
}

#endif
