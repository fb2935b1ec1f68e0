/* Small graph queries the fusion passes share. */
#ifndef NNL_PATTERN_H
#define NNL_PATTERN_H

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

/* Value of a one-element float constant. */
static inline bool nnl_scalar_const(const nnl_model *m, int v, float *out) {
    if (v < 0 || m->values[v].kind != NNL_VAL_CONST || nnl_tensor_numel(&m->values[v].t) != 1) return false;
    if (m->values[v].t.dtype != NNL_DT_FLOAT) return false;
    *out = *(const float *)m->values[v].t.data;
    return true;
}

#endif
