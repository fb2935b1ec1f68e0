/*
 * Semantic checks of an in-memory nnl_file, shared by the writer (before a
 * byte is written) and the reader (after decoding), so both sides enforce
 * the same invariants of docs/FORMAT.md.  The runtime relies on them: every
 * tensor a node writes lies inside the arena, graph inputs are arena
 * tensors, and a weight tensor agrees with the weight record it names.
 */
#include <stdlib.h>

#include "format/fmt_internal.h"

static const char *S(const char *s) { return s ? s : ""; }

static nnl_status check_string(const char *s, bool required, nnl_status st, const char *what,
                               const char *kind) {
    if (!s || !*s) {
        if (required) return nnl_fail(st, "%s: %s is empty", what, kind);
        return NNL_OK;
    }
    if (strnlen(s, (size_t)NNL_FMT_MAX_STRING + 1) > NNL_FMT_MAX_STRING)
        return nnl_fail(st, "%s: %s is longer than %d bytes", what, kind, NNL_FMT_MAX_STRING);
    return NNL_OK;
}

static nnl_status check_shape(nnl_dtype dt, int rank, const int64_t *dims, nnl_layout layout,
                              nnl_status st, const char *what, const char *kind, int idx,
                              const char *name) {
    if (nnl_dtype_size(dt) == 0)
        return nnl_fail(st, "%s: %s %d '%s': unknown dtype %d", what, kind, idx, name, (int)dt);
    if (rank < 0 || rank > NNL_MAX_RANK)
        return nnl_fail(st, "%s: %s %d '%s': rank %d outside 0..%d", what, kind, idx, name, rank,
                        NNL_MAX_RANK);
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0)
            return nnl_fail(st, "%s: %s %d '%s': negative dimension %lld", what, kind, idx, name,
                            (long long)dims[i]);
    if (layout != NNL_LAYOUT_PLAIN && layout != NNL_LAYOUT_PACK_A8 && layout != NNL_LAYOUT_WINO43 &&
        layout != NNL_LAYOUT_PACK_A8T && layout != NNL_LAYOUT_PACK_Q8)
        return nnl_fail(st, "%s: %s %d '%s': unknown layout %d", what, kind, idx, name,
                        (int)layout);
    return NNL_OK;
}

static nnl_status check_weights(const nnl_file *f, nnl_status st, const char *what) {
    if (f->n_weights < 0 || f->n_weights > NNL_FMT_MAX_WEIGHTS)
        return nnl_fail(st, "%s: weight count %d outside 0..%d", what, f->n_weights,
                        NNL_FMT_MAX_WEIGHTS);
    if (f->n_weights > 0 && !f->weights)
        return nnl_fail(st, "%s: weights table missing", what);
    for (int i = 0; i < f->n_weights; i++) {
        const nnl_frec_weight *w = &f->weights[i];
        nnl_status s = check_string(w->name, false, st, what, "weight name");
        if (s) return s;
        s = check_shape(w->dtype, w->rank, w->dims, w->layout, st, what, "weight", i, S(w->name));
        if (s) return s;
        uint64_t need;
        if (!nnl_tensor_nbytes_checked(w->dtype, w->rank, w->dims, w->layout, &need))
            return nnl_fail(st, "%s: weight %d '%s': more than 2^48 elements, or a shape its "
                            "layout does not suit", what, i, S(w->name));
        if (need != w->nbytes)
            return nnl_fail(st, "%s: weight %d '%s': %llu bytes, its shape needs %llu", what, i,
                            S(w->name), (unsigned long long)w->nbytes,
                            (unsigned long long)need);
        if (w->nbytes > 0 && !w->data)
            return nnl_fail(st, "%s: weight %d '%s': no data", what, i, S(w->name));
    }
    return NNL_OK;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

static nnl_status check_unique_names(const nnl_file *f, nnl_status st, const char *what) {
    const char **names = nnl_malloc(sizeof *names * (size_t)f->n_graphs);
    const char ***order = nnl_malloc(sizeof *order * (size_t)f->n_graphs);
    nnl_status s = NNL_OK;
    if (!names || !order) {
        s = nnl_fail(NNL_ERR_NOMEM, "%s: out of memory checking graph names", what);
        goto out;
    }
    for (int g = 0; g < f->n_graphs; g++) {
        names[g] = f->graphs[g].name;
        order[g] = &names[g];
    }
    qsort(order, (size_t)f->n_graphs, sizeof *order, cmp_name);
    for (int g = 1; g < f->n_graphs; g++)
        if (strcmp(*order[g - 1], *order[g]) == 0) {
            s = nnl_fail(st, "%s: graph name '%s' appears twice", what, *order[g]);
            goto out;
        }
out:
    nnl_free(names);
    nnl_free(order);
    return s;
}

static nnl_status check_range(uint64_t off, uint64_t n, uint64_t limit) {
    uint64_t end;
    return (nnl_add_overflow_u64(off, n, &end) || end > limit) ? NNL_ERR_FORMAT : NNL_OK;
}

static nnl_status check_attr(const nnl_attr *a, nnl_status st, const char *what, const char *g,
                             int node) {
    nnl_status s = check_string(a->name, true, st, what, "attribute name");
    if (s) return s;
    switch (a->type) {
    case NNL_ATTR_INT:
    case NNL_ATTR_FLOAT:
        return NNL_OK;
    case NNL_ATTR_STRING:
        if (!a->s)
            return nnl_fail(st, "%s: graph '%s' node %d: string attribute '%s' has no value",
                            what, g, node, a->name);
        return check_string(a->s, false, st, what, "string attribute");
    case NNL_ATTR_INTS:
    case NNL_ATTR_FLOATS:
        if (a->n < 0 || a->n > NNL_FMT_MAX_ATTR_ELEMS)
            return nnl_fail(st, "%s: graph '%s' node %d: attribute '%s' has %d elements", what,
                            g, node, a->name, a->n);
        if (a->n > 0 && (a->type == NNL_ATTR_INTS ? !a->ints : !a->floats))
            return nnl_fail(st, "%s: graph '%s' node %d: attribute '%s' has no values", what, g,
                            node, a->name);
        return NNL_OK;
    case NNL_ATTR_STRINGS:
        if (a->n < 0 || a->n > NNL_FMT_MAX_ATTR_ELEMS || (a->n > 0 && !a->strs))
            return nnl_fail(st, "%s: graph '%s' node %d: strings attribute '%s' has %d elements", what, g,
                            node, a->name, a->n);
        for (int i = 0; i < a->n; i++) {
            if (!a->strs[i])
                return nnl_fail(st, "%s: graph '%s' node %d: strings attribute '%s' has no value %d", what,
                                g, node, a->name, i);
            nnl_status s2 = check_string(a->strs[i], false, st, what, "strings attribute");
            if (s2) return s2;
        }
        return NNL_OK;
    default:
        return nnl_fail(st, "%s: graph '%s' node %d: attribute '%s' has type %d, not storable",
                        what, g, node, a->name, (int)a->type);
    }
}

static nnl_status check_tensor(const nnl_file *f, const nnl_frec_graph *gr, int i,
                               nnl_status st, const char *what) {
    const nnl_frec_tensor *t = &gr->tensors[i];
    nnl_status s = check_string(t->name, false, st, what, "tensor name");
    if (s) return s;
    s = check_shape(t->dtype, t->rank, t->dims, t->layout, st, what, "tensor", i, S(t->name));
    if (s) return nnl_fail_context(s, "graph '%s': ", gr->name);
    if (t->kind == NNL_TK_WEIGHT) {
        if (t->where >= (uint64_t)f->n_weights)
            return nnl_fail(st, "%s: graph '%s' tensor '%s': weight index %llu of %d", what,
                            gr->name, S(t->name), (unsigned long long)t->where, f->n_weights);
        const nnl_frec_weight *w = &f->weights[t->where];
        if (w->dtype != t->dtype || w->rank != t->rank || w->layout != t->layout ||
            memcmp(w->dims, t->dims, sizeof(int64_t) * (size_t)t->rank) != 0)
            return nnl_fail(st, "%s: graph '%s' tensor '%s' disagrees with weight %llu '%s' "
                            "on dtype, shape or layout", what, gr->name, S(t->name),
                            (unsigned long long)t->where, S(w->name));
        return NNL_OK;
    }
    if (t->kind != NNL_TK_ACT && t->kind != NNL_TK_INPUT && t->kind != NNL_TK_OUTPUT)
        return nnl_fail(st, "%s: graph '%s' tensor '%s': unknown kind %d", what, gr->name,
                        S(t->name), (int)t->kind);
    uint64_t bytes;
    if (!nnl_tensor_nbytes_checked(t->dtype, t->rank, t->dims, t->layout, &bytes) ||
        check_range(t->where, bytes, gr->arena_bytes))
        return nnl_fail(st, "%s: graph '%s' tensor '%s' (offset %llu) does not fit the "
                        "%llu-byte arena", what, gr->name, S(t->name),
                        (unsigned long long)t->where, (unsigned long long)gr->arena_bytes);
    return NNL_OK;
}

static nnl_status check_node(const nnl_frec_graph *gr, int n, nnl_status st, const char *what) {
    const nnl_frec_node *nd = &gr->nodes[n];
    nnl_status s = check_string(nd->op, true, st, what, "op type");
    if (s) return s;
    if ((s = check_string(nd->name, false, st, what, "node name"))) return s;
    if (nd->n_in < 0 || nd->n_in > NNL_FMT_MAX_NODE_IO || nd->n_out < 0 ||
        nd->n_out > NNL_FMT_MAX_NODE_IO || nd->n_attrs < 0 || nd->n_attrs > NNL_FMT_MAX_ATTRS)
        return nnl_fail(st, "%s: graph '%s' node %d (%s): bad input/output/attribute count",
                        what, gr->name, n, nd->op);
    if ((nd->n_in && !nd->in) || (nd->n_out && !nd->out) || (nd->n_attrs && !nd->attrs))
        return nnl_fail(st, "%s: graph '%s' node %d (%s): missing arrays", what, gr->name, n,
                        nd->op);
    for (int i = 0; i < nd->n_in; i++)
        if (nd->in[i] < -1 || nd->in[i] >= gr->n_tensors)
            return nnl_fail(st, "%s: graph '%s' node %d (%s): input %d names tensor %d of %d",
                            what, gr->name, n, nd->op, i, (int)nd->in[i], gr->n_tensors);
    for (int i = 0; i < nd->n_out; i++) {
        if (nd->out[i] == -1) continue;   /* omitted optional output */
        if (nd->out[i] < 0 || nd->out[i] >= gr->n_tensors)
            return nnl_fail(st, "%s: graph '%s' node %d (%s): output %d names tensor %d of %d",
                            what, gr->name, n, nd->op, i, (int)nd->out[i], gr->n_tensors);
        nnl_tensor_kind k = gr->tensors[nd->out[i]].kind;
        if (k != NNL_TK_ACT && k != NNL_TK_OUTPUT)
            return nnl_fail(st, "%s: graph '%s' node %d (%s) writes an %s tensor", what,
                            gr->name, n, nd->op, k == NNL_TK_WEIGHT ? "weight" : "input");
    }
    for (int a = 0; a < nd->n_attrs; a++)
        if ((s = check_attr(&nd->attrs[a], st, what, gr->name, n))) return s;
    if (check_range(gr->scratch_offset, nd->scratch_bytes, gr->arena_bytes))
        return nnl_fail(st, "%s: graph '%s' node %d (%s): %llu scratch bytes at %llu exceed "
                        "the %llu-byte arena", what, gr->name, n, nd->op,
                        (unsigned long long)nd->scratch_bytes,
                        (unsigned long long)gr->scratch_offset,
                        (unsigned long long)gr->arena_bytes);
    return NNL_OK;
}

static nnl_status check_graph(const nnl_file *f, const nnl_frec_graph *gr, nnl_status st,
                              const char *what, uint64_t *tensors, uint64_t *nodes) {
    nnl_status s = check_string(gr->name, true, st, what, "graph name");
    if (s) return s;
    if (gr->n_tensors < 0 || gr->n_nodes < 0 || gr->n_inputs < 0 || gr->n_outputs < 0 ||
        (gr->n_tensors && !gr->tensors) || (gr->n_nodes && !gr->nodes) ||
        (gr->n_inputs && !gr->inputs) || (gr->n_outputs && !gr->outputs))
        return nnl_fail(st, "%s: graph '%s': bad table counts", what, gr->name);
    *tensors += (uint64_t)gr->n_tensors;
    *nodes += (uint64_t)gr->n_nodes;
    if (*tensors > NNL_FMT_MAX_TENSORS || *nodes > NNL_FMT_MAX_NODES ||
        gr->n_inputs > gr->n_tensors || gr->n_outputs > gr->n_tensors)
        return nnl_fail(st, "%s: graph '%s': too many tensors, nodes or inputs", what, gr->name);
    if (gr->arena_bytes > NNL_FMT_MAX_ARENA || gr->scratch_offset > gr->arena_bytes)
        return nnl_fail(st, "%s: graph '%s': arena of %llu bytes with scratch at %llu", what,
                        gr->name, (unsigned long long)gr->arena_bytes,
                        (unsigned long long)gr->scratch_offset);
    if (gr->opset < 1)
        return nnl_fail(st, "%s: graph '%s': opset %lld", what, gr->name, (long long)gr->opset);
    for (int i = 0; i < gr->n_tensors; i++)
        if ((s = check_tensor(f, gr, i, st, what))) return s;
    for (int i = 0; i < gr->n_inputs; i++)
        if (gr->inputs[i] < 0 || gr->inputs[i] >= gr->n_tensors ||
            gr->tensors[gr->inputs[i]].kind != NNL_TK_INPUT)
            return nnl_fail(st, "%s: graph '%s': input %d is not an input tensor", what,
                            gr->name, i);
    for (int i = 0; i < gr->n_outputs; i++)
        if (gr->outputs[i] < 0 || gr->outputs[i] >= gr->n_tensors)
            return nnl_fail(st, "%s: graph '%s': output %d names tensor %d of %d", what,
                            gr->name, i, (int)gr->outputs[i], gr->n_tensors);
    for (int n = 0; n < gr->n_nodes; n++)
        if ((s = check_node(gr, n, st, what))) return s;
    return NNL_OK;
}

nnl_status nnl_file_check(const nnl_file *f, nnl_status st, const char *what) {
    nnl_status s = check_string(f->target, true, st, what, "target");
    if (s) return s;
    if ((s = check_string(f->tool_version, false, st, what, "tool version"))) return s;
    if (f->layout_version == 0) return nnl_fail(st, "%s: layout version 0", what);
    if ((s = check_weights(f, st, what))) return s;
    if (f->n_graphs < 1 || f->n_graphs > NNL_FMT_MAX_GRAPHS || !f->graphs)
        return nnl_fail(st, "%s: graph count %d outside 1..%d", what, f->n_graphs,
                        NNL_FMT_MAX_GRAPHS);
    if (f->default_graph < -1 || f->default_graph >= f->n_graphs)
        return nnl_fail(st, "%s: default graph %d of %d", what, f->default_graph, f->n_graphs);
    uint64_t tensors = 0, nodes = 0;
    for (int g = 0; g < f->n_graphs; g++)
        if ((s = check_graph(f, &f->graphs[g], st, what, &tensors, &nodes))) return s;
    return check_unique_names(f, st, what);
}
