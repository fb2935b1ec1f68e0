/*
 * Shape inference and constant folding in one walk.  Every op's infer
 * runs on the model's values; when all of a node's inputs are constants,
 * its exec runs right here (the same kernel as at run time) and its outputs
 * become constants.  The node is then dead.
 */
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"
#include "passes/passes.h"

#define MAX_IO 64
/* Folding allocates the outputs now and stores them in the file as
 * weights.  Past this size a constant must be justified by its inputs
 * (a transposed weight is; ConstantOfShape, Expand or Tile blowing a few
 * bytes up to gigabytes is not: a fuzzed model asked for 12.9 GB here), so
 * such nodes run at run time in the arena instead. */
#define FOLD_MAX_BYTES ((double)(64 << 20))

static double bytes_of(const nnl_tensor *t) {
    double n = (double)nnl_dtype_size(t->dtype);
    for (int i = 0; i < t->rank; i++) n *= (double)(t->dims[i] > 0 ? t->dims[i] : 0);
    return n;
}

static bool fold_justified(const nnl_op_call *c) {
    double in = 0, out = 0;
    for (int j = 0; j < c->n_in; j++)
        if (c->in[j]) in += bytes_of(c->in[j]);
    for (int j = 0; j < c->n_out; j++) out += bytes_of(c->out[j]);
    return out <= FOLD_MAX_BYTES || out <= 4.0 * in;
}

static nnl_status fold_node(nnl_model *m, nnl_node *n, const nnl_op_def *def, nnl_op_call *c,
                            const nnl_infer_result *r) {
    void *scratch = NULL, *tscratch = NULL;
    nnl_status s = NNL_OK;
    if (r->scratch_bytes && !(scratch = nnl_aligned_alloc(r->scratch_bytes)))
        return nnl_fail(NNL_ERR_NOMEM, "out of memory folding node '%s'", n->name);
    if (!(tscratch = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES))) {
        nnl_aligned_free(scratch);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory folding node '%s'", n->name);
    }
    for (int j = 0; j < c->n_out; j++) {
        nnl_tensor *t = c->out[j];
        t->data = nnl_aligned_alloc(nnl_tensor_nbytes(t));
        if (!t->data) {
            s = nnl_fail(NNL_ERR_NOMEM, "out of memory folding node '%s'", n->name);
            break;
        }
    }
    void *ts[1] = {tscratch};
    c->scratch = scratch;
    c->thread_scratch = ts;
    c->pool = NULL;
    if (s == NNL_OK) s = def->exec(c);
    for (int j = 0; j < c->n_out; j++) {
        nnl_tensor *t = c->out[j];
        if (s == NNL_OK && n->out[j] >= 0) {
            nnl_value *v = &m->values[n->out[j]];
            v->t = *t;
            v->kind = NNL_VAL_CONST;
            v->producer = -1;
        } else {
            nnl_aligned_free(t->data);
        }
        t->data = NULL;
    }
    nnl_aligned_free(scratch);
    nnl_aligned_free(tscratch);
    if (s == NNL_OK) n->dead = true;
    return s;
}

/* Kernels write every output they have, so omitted optional outputs get a
 * value of their own (an arena slot for the node's lifetime only). */
static nnl_status name_omitted_outputs(nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++)
        for (int j = 0; j < m->nodes[i].n_out; j++) {
            if (m->nodes[i].out[j] >= 0) continue;
            char name[512];
            snprintf(name, sizeof name, "%s:unused%d", m->nodes[i].name, j);
            int v = nnl_model_add_value(m, name, NNL_VAL_ACT);
            if (v < 0) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
            m->nodes[i].out[j] = v;
            m->values[v].producer = i;
        }
    return NNL_OK;
}

nnl_status nnl_pass_infer_fold(nnl_model *m) {
    nnl_status s = name_omitted_outputs(m);
    if (!s) s = nnl_model_toposort(m);
    if (s) return s;
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        const nnl_op_def *def = nnl_op_find(n->op);
        if (!def)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "operator '%s' (node '%s') is not supported", n->op, n->name);
        if (n->n_in > MAX_IO || n->n_out > MAX_IO)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "node '%s' has too many inputs or outputs", n->name);
        nnl_tensor in_t[MAX_IO], out_t[MAX_IO];
        nnl_tensor *in_p[MAX_IO], *out_p[MAX_IO];
        bool all_const = true;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0) {
                in_p[j] = NULL;
                continue;
            }
            nnl_value *v = &m->values[n->in[j]];
            if (!v->shape_known)
                return nnl_fail(NNL_ERR_SHAPE, "node '%s' (%s): input '%s' has no known shape", n->name,
                                n->op, v->name);
            in_t[j] = v->t;
            if (v->kind != NNL_VAL_CONST) {
                in_t[j].data = NULL;
                all_const = false;
            }
            in_p[j] = &in_t[j];
        }
        for (int j = 0; j < n->n_out; j++) {
            memset(&out_t[j], 0, sizeof out_t[j]);
            out_p[j] = &out_t[j];
        }
        nnl_op_call c = {
            .op = n->op, .node = n->name, .attrs = n->attrs, .n_attrs = n->n_attrs,
            .in = in_p, .n_in = n->n_in, .out = out_p, .n_out = n->n_out, .opset = m->opset,
        };
        nnl_infer_result r = {0};
        s = def->infer(&c, &r);
        if (s) return nnl_fail_context(s, "node '%s' (%s): ", n->name, n->op);
        n->info = r;
        for (int j = 0; j < n->n_out; j++) {
            /* NNL_MAX_ELEMS, caught here with the node's name rather than
             * by plan validation of the written file */
            double elems = 1;
            for (int d = 0; d < out_t[j].rank; d++) elems *= (double)(out_t[j].dims[d] > 0 ? out_t[j].dims[d] : 1);
            if (elems > (double)NNL_MAX_ELEMS)
                return nnl_fail(NNL_ERR_UNSUPPORTED, "node '%s' (%s): output %d would hold %.3g elements, more than 2^48",
                                n->name, n->op, j, elems);
            if (n->out[j] < 0) continue;
            nnl_value *v = &m->values[n->out[j]];
            v->t.dtype = out_t[j].dtype;
            v->t.rank = out_t[j].rank;
            memcpy(v->t.dims, out_t[j].dims, sizeof v->t.dims);
            v->t.layout = NNL_LAYOUT_PLAIN;
            v->shape_known = true;
        }
        /* Shapes are fixed at compile time: Shape and Size read only their
         * input's shape, so they fold even when its values are unknown. */
        if (!all_const && (strcmp(n->op, "Shape") == 0 || strcmp(n->op, "Size") == 0)) all_const = true;
        if (all_const && fold_justified(&c)) {
            s = fold_node(m, n, def, &c, &r);
            if (s) return nnl_fail_context(s, "folding node '%s' (%s): ", n->name, n->op);
        }
    }
    return nnl_model_compact(m);
}
