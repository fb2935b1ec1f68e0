/*
 * Pack GEMM weights once at compile time so no run pays for it.  A
 * constant is packed only when every live reader wants exactly the
 * PACK_A8 form (rows = dims[0]); one other reader, or a graph output,
 * keeps it PLAIN, because no op but Conv / Gemm reads packed data.
 */
#include <string.h>

#include "kernels/gemm.h"
#include "passes/pack_weights.h"

static int64_t node_int(const nnl_node *n, const char *name, int64_t def) {
    const nnl_attr *a = nnl_node_attr(n, name);
    return a && a->type == NNL_ATTR_INT ? a->i : def;
}

/* Whether node n reads value v at input `slot` as a PACK_A8 weight. */
static bool wants_a8(const nnl_model *m, const nnl_node *n, int slot, int v) {
    const nnl_tensor *t = &m->values[v].t;
    if (slot != 1) return false;
    if (strcmp(n->op, "Conv") == 0) {
        int64_t g = node_int(n, "group", 1);
        if (t->rank < 3 || t->rank > 4 || g < 1 || t->dims[0] % g) return false;
        /* groups must start on a panel boundary */
        return g == 1 || (t->dims[0] / g) % 8 == 0;
    }
    if (strcmp(n->op, "Gemm") == 0) return t->rank == 2 && node_int(n, "transB", 0) == 1;
    return false;
}

static bool packable(const nnl_model *m, int v) {
    const nnl_value *val = &m->values[v];
    if (val->kind != NNL_VAL_CONST || val->is_output || val->t.dtype != NNL_DT_FLOAT ||
        val->t.layout != NNL_LAYOUT_PLAIN || !val->t.data || val->t.rank < 2)
        return false;
    for (int i = 0; i < val->t.rank; i++)
        if (val->t.dims[i] <= 0) return false;
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v) return false;
    int uses = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] != v) continue;
            if (!wants_a8(m, n, j, v)) return false;
            uses++;
        }
    }
    return uses > 0;
}

nnl_status nnl_pass_pack_weights(nnl_model *m) {
    for (int v = 0; v < m->n_values; v++) {
        if (!packable(m, v)) continue;
        nnl_tensor *t = &m->values[v].t;
        int64_t rows = t->dims[0], cols = nnl_tensor_numel(t) / rows;
        float *p = nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(t->rank, t->dims));
        if (!p) return nnl_fail(NNL_ERR_NOMEM, "out of memory packing weight '%s'", m->values[v].name);
        nnl_pack_a8(p, t->data, rows, cols);
        nnl_aligned_free(t->data);
        t->data = p;
        t->layout = NNL_LAYOUT_PACK_A8;
    }
    return NNL_OK;
}
