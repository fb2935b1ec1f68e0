/*
 * Model -> file form.  Constants become weights (named by their value
 * names, which for ONNX initializers are the PyTorch parameter names: the
 * linker's sharing key), everything else a tensor with an arena offset.
 */
#include <string.h>

#include "compiler/compiler.h"

nnl_status nnl_emit_file(const nnl_model *m, nnl_file **out) {
    *out = NULL;
    nnl_file *f = nnl_calloc(1, sizeof *f);
    nnl_frec_graph *g = nnl_calloc(1, sizeof *g);
    int nv = m->n_values;
    nnl_frec_weight *w = nnl_calloc((size_t)(nv ? nv : 1), sizeof *w);
    nnl_frec_tensor *t = nnl_calloc((size_t)(nv ? nv : 1), sizeof *t);
    nnl_frec_node *nd = nnl_calloc((size_t)(m->n_nodes ? m->n_nodes : 1), sizeof *nd);
    if (!f || !g || !w || !t || !nd) {
        nnl_free(f); nnl_free(g); nnl_free(w); nnl_free(t); nnl_free(nd);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory emitting the plan");
    }
    int nw = 0;
    for (int v = 0; v < nv; v++) {
        const nnl_value *val = &m->values[v];
        nnl_frec_tensor *r = &t[v];
        r->name = val->name;
        r->dtype = val->t.dtype;
        r->rank = val->t.rank;
        memcpy(r->dims, val->t.dims, sizeof r->dims);
        r->layout = val->t.layout;
        if (val->kind == NNL_VAL_CONST) {
            nnl_frec_weight *wr = &w[nw];
            wr->name = val->name;
            wr->dtype = val->t.dtype;
            wr->rank = val->t.rank;
            memcpy(wr->dims, val->t.dims, sizeof wr->dims);
            wr->layout = val->t.layout;
            wr->nbytes = nnl_tensor_nbytes(&val->t);
            wr->data = val->t.data;
            r->kind = NNL_TK_WEIGHT;
            r->where = (uint64_t)nw++;
            continue;
        }
        r->kind = val->kind == NNL_VAL_INPUT ? NNL_TK_INPUT : NNL_TK_ACT;
        for (int i = 0; i < m->n_outputs; i++)
            if (m->outputs[i] == v && r->kind == NNL_TK_ACT) r->kind = NNL_TK_OUTPUT;
        r->where = (uint64_t)val->arena_offset;
    }
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        for (int a = 0; a < n->n_attrs; a++)
            if (n->attrs[a].type == NNL_ATTR_TENSOR) {
                nnl_free(f); nnl_free(g); nnl_free(w); nnl_free(t); nnl_free(nd);
                return nnl_fail(NNL_ERR_UNSUPPORTED, "node '%s' (%s): tensor attribute '%s' cannot be stored",
                                n->name, n->op, n->attrs[a].name);
            }
        /* int and int32_t differ only in name on every supported target */
        nd[i].op = n->op;
        nd[i].name = n->name;
        nd[i].n_in = n->n_in;
        nd[i].n_out = n->n_out;
        nd[i].in = (const int32_t *)n->in;
        nd[i].out = (const int32_t *)n->out;
        nd[i].n_attrs = n->n_attrs;
        nd[i].attrs = n->attrs;
        nd[i].scratch_bytes = n->info.scratch_bytes;
        nd[i].flops = n->info.flops;
    }
    g->name = m->graph_name ? m->graph_name : "main";
    g->n_tensors = nv;
    g->tensors = t;
    g->n_nodes = m->n_nodes;
    g->nodes = nd;
    g->n_inputs = m->n_inputs;
    g->inputs = (const int32_t *)m->inputs;
    g->n_outputs = m->n_outputs;
    g->outputs = (const int32_t *)m->outputs;
    g->arena_bytes = m->arena_bytes;
    g->scratch_offset = m->scratch_offset;
    g->opset = m->opset;
    f->format_version = NNL_FORMAT_VERSION;
    f->layout_version = NNL_LAYOUT_VERSION;
    f->target = NNL_TARGET_PORTABLE;
    f->tool_version = NNL_VERSION_STRING;
    f->n_weights = nw;
    f->weights = w;
    f->n_graphs = 1;
    f->graphs = g;
    f->default_graph = -1;
    *out = f;
    return NNL_OK;
}

void nnl_emit_free(nnl_file *f) {
    if (!f) return;
    if (f->graphs) {
        nnl_free((void *)f->graphs[0].tensors);
        nnl_free((void *)f->graphs[0].nodes);
        nnl_free((void *)f->graphs);
    }
    nnl_free((void *)f->weights);
    nnl_free(f);
}
