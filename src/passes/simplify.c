/* Graph clean-up: Identity / inference Dropout removal and dead nodes. */
#include <string.h>

#include "passes/passes.h"

static bool is_graph_output(const nnl_model *m, int v) {
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v) return true;
    return false;
}

/* A pass-through node forwards in[0] to out[0].  Graph outputs keep their
 * ONNX names, so when the forwarded value is a graph output the producer of
 * the input is made to write the output value directly instead. */
nnl_status nnl_pass_remove_identity(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *n = &m->nodes[i];
        if (n->dead || n->n_in < 1 || n->in[0] < 0 || n->n_out < 1) continue;
        bool pass = strcmp(n->op, "Identity") == 0;
        if (strcmp(n->op, "Dropout") == 0) {
            /* Only the inference form: no mask consumer, training_mode absent. */
            bool train_input = n->n_in >= 3 && n->in[2] >= 0;
            bool mask_used = n->n_out >= 2 && n->out[1] >= 0 && nnl_model_use_count(m, n->out[1]) > 0;
            pass = !train_input && !mask_used;
        }
        if (!pass) continue;
        int in = n->in[0], out = n->out[0];
        if (!is_graph_output(m, out)) {
            nnl_model_replace_uses(m, out, in);
            n->dead = true;
            continue;
        }
        nnl_value *iv = &m->values[in];
        if (iv->kind != NNL_VAL_ACT || iv->producer < 0 || is_graph_output(m, in)) continue;
        nnl_node *p = &m->nodes[iv->producer];
        for (int j = 0; j < p->n_out; j++)
            if (p->out[j] == in) p->out[j] = out;
        n->dead = true;
        nnl_model_replace_uses(m, in, out);
        m->values[out].producer = iv->producer;
    }
    return nnl_model_compact(m);
}

nnl_status nnl_pass_dead_nodes(nnl_model *m) {
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = m->n_nodes - 1; i >= 0; i--) {
            nnl_node *n = &m->nodes[i];
            if (n->dead) continue;
            bool used = false;
            for (int j = 0; j < n->n_out && !used; j++)
                used = n->out[j] >= 0 && nnl_model_use_count(m, n->out[j]) > 0;
            if (!used) {
                n->dead = true;
                changed = true;
            }
        }
    }
    return nnl_model_compact(m);
}
