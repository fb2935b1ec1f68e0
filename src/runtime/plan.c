/*
 * nnl_plan: an opened .nnl file.  nnl_file_read has checked the structure
 * and, with the format's own checker (format/check.c), every rule of
 * docs/FORMAT.md: tensor, weight and node indices in range (a node's input
 * or output may be -1, omitted), weight records agreeing with the tensors
 * that use them, arena tensors inside the arena, no node writing a weight
 * or a graph input, unique graph names.  Here only what this runtime adds
 * is checked: arena tensors 64-byte aligned and below the scratch region,
 * no node writing over its own inputs, op types this build knows, and the
 * target and layout version.  Shapes are checked against each op's own
 * inference when a session is created.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/verify.h"
#include "ops/ops.h"
#include "runtime/runtime.h"

/* Bytes of a tensor record the reader has checked. */
static uint64_t rec_bytes(const nnl_frec_tensor *r) {
    nnl_tensor t = {.dtype = r->dtype, .rank = r->rank, .layout = r->layout};
    memcpy(t.dims, r->dims, sizeof t.dims);
    return nnl_tensor_nbytes(&t);
}

/* An arena range [off, off + bytes) of one node's tensor. */
typedef struct span {
    uint64_t off, end;
} span;

static int by_off(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static bool in_arena(const nnl_frec_graph *g, int t, span *s) {
    if (t < 0 || g->tensors[t].kind == NNL_TK_WEIGHT) return false;
    uint64_t nb = rec_bytes(&g->tensors[t]);
    s->off = g->tensors[t].where;
    s->end = s->off + nb;   /* inside the arena (format/check.c) */
    return nb > 0;
}

/* A node's outputs must not overlap each other or its inputs in the arena:
 * the compiler's plan never does that (their lifetimes all include the
 * node), and kernels copy inputs to outputs with memcpy.  The exception
 * (docs/FORMAT.md, "Running"): an input of a Concat lying exactly where
 * the Concat puts it, at its output's start plus the bytes of the inputs
 * before it (passes/arena.c places inputs so when the output is one block
 * per input); the Concat skips such an input and moves, never copies,
 * any other.  And the output of a view (nnl_op_is_view) exactly on its
 * first input, or the output of a Slice inside its first input, which they
 * then do not copy (a Slice refuses an output inside but not where its
 * slice lies: ops/tensor/slice.c).  Sorted outputs, each input
 * looked up by bisection: a hostile node may list 2^20 of each. */
static nnl_status check_node_spans(const nnl_frec_graph *g, const nnl_frec_node *n, span *sp) {
    int no = 0;
    for (int j = 0; j < n->n_out; j++)
        if (in_arena(g, n->out[j], &sp[no])) no++;
    qsort(sp, (size_t)no, sizeof *sp, by_off);
    for (int j = 1; j < no; j++)
        if (sp[j].off < sp[j - 1].end)
            return nnl_fail(NNL_ERR_FORMAT, "graph '%s': node '%s' has outputs that overlap in the arena", g->name,
                            n->name);
    /* a Concat's output and where its input j goes (cat: still exact) */
    span out = {0, 0};
    bool cat = strcmp(n->op, "Concat") == 0 && n->n_out == 1 && in_arena(g, n->out[0], &out);
    const bool view_op = nnl_op_is_view(n->op) && n->n_out == 1;
    const bool slice_op = strcmp(n->op, "Slice") == 0 && n->n_out == 1;
    uint64_t at = out.off;
    for (int j = 0; j < n->n_in; j++) {
        span in;
        const uint64_t here = at;
        if (cat && n->in[j] >= 0) at += rec_bytes(&g->tensors[n->in[j]]);
        else cat = false;
        if (!in_arena(g, n->in[j], &in)) continue;
        int lo = 0, hi = no;   /* first output starting at or after in.end */
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (sp[mid].off < in.end) lo = mid + 1;
            else hi = mid;
        }
        /* a view's output exactly on its input (nnl_op_is_view), a Slice's inside it */
        const bool view = j == 0 && no == 1 &&
                          ((view_op && sp[0].off == in.off && sp[0].end == in.end) ||
                           (slice_op && sp[0].off >= in.off && sp[0].end <= in.end));
        if (lo > 0 && sp[lo - 1].end > in.off && !(cat && in.off == here && in.end <= out.end) && !view)
            return nnl_fail(NNL_ERR_FORMAT, "graph '%s': node '%s' writes over its input %d in the arena", g->name,
                            n->name, j);
    }
    return NNL_OK;
}

static nnl_status check_graph(const nnl_file *f, int gi, uint64_t *wbytes, uint8_t *uses) {
    const nnl_frec_graph *g = &f->graphs[gi];
    if (g->scratch_offset % NNL_ALIGN)
        return nnl_fail(NNL_ERR_FORMAT, "graph '%s': scratch offset not %d-byte aligned", g->name, NNL_ALIGN);
    *wbytes = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const nnl_frec_tensor *t = &g->tensors[i];
        if (t->kind == NNL_TK_WEIGHT) continue;
        /* the reader checked where + size <= arena_bytes without overflow */
        if (t->where + rec_bytes(t) > g->scratch_offset || t->where % NNL_ALIGN)
            return nnl_fail(NNL_ERR_FORMAT, "graph '%s': tensor '%s' overlaps the scratch region or is not %d-byte aligned",
                            g->name, t->name, NNL_ALIGN);
    }
    /* weight bytes: each referenced weight once */
    for (int i = 0; i < g->n_tensors; i++) {
        if (g->tensors[i].kind != NNL_TK_WEIGHT) continue;
        uint8_t *u = &uses[g->tensors[i].where * (uint64_t)f->n_graphs + (uint64_t)gi];
        if (!*u) *wbytes += f->weights[g->tensors[i].where].nbytes;
        *u = 1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const nnl_frec_node *n = &g->nodes[i];
        if (!nnl_op_find(n->op))
            return nnl_fail(NNL_ERR_UNSUPPORTED, "graph '%s': operator '%s' (node '%s') is unknown to nnlink %s",
                            g->name, n->op, n->name, NNL_VERSION_STRING);
    }
    int max_out = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].n_out > max_out) max_out = g->nodes[i].n_out;
    span *sp = nnl_malloc((size_t)(max_out ? max_out : 1) * sizeof *sp);
    if (!sp) return nnl_fail(NNL_ERR_NOMEM, "out of memory checking graph '%s'", g->name);
    for (int i = 0; i < g->n_nodes; i++) {
        nnl_status st = check_node_spans(g, &g->nodes[i], sp);
        if (st) {
            nnl_free(sp);
            return st;
        }
    }
    nnl_free(sp);
    return NNL_OK;
}

static nnl_status plan_open(const char *path, bool inspect, nnl_plan **out) {
    if (!out) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_plan_open: out is NULL");
    *out = NULL;
    if (!path) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_plan_open: path is NULL");
    double t0 = nnl_now_ms();
    nnl_plan *p = nnl_calloc(1, sizeof *p);
    if (!p) return nnl_fail(NNL_ERR_NOMEM, "out of memory opening %s", path);
    nnl_status s = nnl_file_read(path, &p->f);
    if (!s && !(p->graph_weight_bytes = nnl_calloc((size_t)(p->f->n_graphs ? p->f->n_graphs : 1), sizeof(uint64_t))))
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory opening %s", path);
    if (!s && !(p->uses = nnl_calloc((size_t)p->f->n_weights * (size_t)p->f->n_graphs + 1, 1)))
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory opening %s", path);
    for (int g = 0; !s && g < p->f->n_graphs; g++) s = check_graph(p->f, g, &p->graph_weight_bytes[g], p->uses);
    /* Packed layouts are CPU-independent, but a target this build does not
     * know (another byte order) or another layout family is refused here,
     * not misread later. */
    const char *why = s ? NULL : nnl_file_target_refusal(p->f->target);
    if (why)
        s = nnl_fail(NNL_ERR_MISMATCH, "target %s cannot run on this %s: %s; recompile it with this nnlink",
                     p->f->target, nnl_file_host_target(), why);
    if (!s && p->f->layout_version != NNL_LAYOUT_VERSION)
        s = nnl_fail(NNL_ERR_MISMATCH, "weight layout version %u, but this nnlink reads version %u; recompile it",
                     p->f->layout_version, NNL_LAYOUT_VERSION);
    /* p->f: a file of another format version fails in nnl_file_read with
     * MISMATCH and no file read; only a file that was read can be inspected */
    if (s == NNL_ERR_MISMATCH && inspect && p->f) {
        /* everything but the match was checked: keep the reason for
         * nnl_session_create and for the reader */
        if (!(p->foreign = nnl_strdup(nnl_last_error()))) s = nnl_fail(NNL_ERR_NOMEM, "out of memory opening %s", path);
        else s = NNL_OK;
    }
    if (s) {
        if (p->f) nnl_fail_context(s, "%s: ", path);
        nnl_plan_free(p);
        return s;
    }
    p->open_ms = nnl_now_ms() - t0;
    *out = p;
    return NNL_OK;
}

nnl_status nnl_plan_open(const char *path, nnl_plan **out) { return plan_open(path, false, out); }

nnl_status nnl_plan_open_inspect(const char *path, nnl_plan **out) { return plan_open(path, true, out); }

const char *nnl_plan_foreign(const nnl_plan *p) { return p ? p->foreign : NULL; }

void nnl_plan_free(nnl_plan *p) {
    if (!p) return;
    nnl_free(p->foreign);
    nnl_file_close(p->f);
    nnl_free(p->graph_weight_bytes);
    nnl_free(p->uses);
    nnl_free(p);
}

int nnl_plan_graph_count(const nnl_plan *p) { return p ? p->f->n_graphs : 0; }

const char *nnl_plan_graph_name(const nnl_plan *p, int i) {
    return p && i >= 0 && i < p->f->n_graphs ? p->f->graphs[i].name : NULL;
}

int nnl_plan_default_graph(const nnl_plan *p) { return p ? p->f->default_graph : -1; }

nnl_status nnl_plan_find_graph(const nnl_plan *p, const char *name, int *index) {
    if (!p || !index) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_plan_find_graph: NULL argument");
    return nnl_file_pick_graph(p->f, name, index);
}

static bool graph_ok(const nnl_plan *p, int g) { return p && g >= 0 && g < p->f->n_graphs; }

int nnl_plan_input_count(const nnl_plan *p, int g) { return graph_ok(p, g) ? p->f->graphs[g].n_inputs : 0; }
int nnl_plan_output_count(const nnl_plan *p, int g) { return graph_ok(p, g) ? p->f->graphs[g].n_outputs : 0; }

static nnl_status fill_info(const nnl_frec_graph *g, int t, nnl_tensor_info *info) {
    const nnl_frec_tensor *r = &g->tensors[t];
    info->name = r->name;
    info->dtype = r->dtype;
    info->rank = r->rank;
    memcpy(info->dims, r->dims, sizeof info->dims);
    return NNL_OK;
}

nnl_status nnl_plan_input_info(const nnl_plan *p, int g, int i, nnl_tensor_info *info) {
    if (!graph_ok(p, g) || i < 0 || i >= p->f->graphs[g].n_inputs || !info)
        return nnl_fail(NNL_ERR_INVALID_ARG, "input %d of graph %d out of range", i, g);
    return fill_info(&p->f->graphs[g], p->f->graphs[g].inputs[i], info);
}

nnl_status nnl_plan_output_info(const nnl_plan *p, int g, int i, nnl_tensor_info *info) {
    if (!graph_ok(p, g) || i < 0 || i >= p->f->graphs[g].n_outputs || !info)
        return nnl_fail(NNL_ERR_INVALID_ARG, "output %d of graph %d out of range", i, g);
    return fill_info(&p->f->graphs[g], p->f->graphs[g].outputs[i], info);
}

uint64_t nnl_plan_weight_bytes(const nnl_plan *p, int g) {
    if (!p) return 0;
    if (g < 0) {
        uint64_t s = 0;
        for (int i = 0; i < p->f->n_weights; i++) s += p->f->weights[i].nbytes;
        return s;
    }
    return graph_ok(p, g) ? p->graph_weight_bytes[g] : 0;
}

uint64_t nnl_plan_arena_bytes(const nnl_plan *p, int g) { return graph_ok(p, g) ? p->f->graphs[g].arena_bytes : 0; }

nnl_status nnl_plan_file_info(const nnl_plan *p, nnl_file_info *info) {
    if (!p || !info) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_plan_file_info: NULL argument");
    info->format_version = p->f->format_version;
    info->layout_version = p->f->layout_version;
    info->target = p->f->target;
    info->runs_on = nnl_file_target_cpus(p->f->target);
    info->tool_version = p->f->tool_version;
    info->open_ms = p->open_ms;
    return NNL_OK;
}

int nnl_plan_weight_count(const nnl_plan *p) { return p ? p->f->n_weights : 0; }

nnl_status nnl_plan_weight_info(const nnl_plan *p, int i, nnl_weight_info *info) {
    if (!p || !info || i < 0 || i >= p->f->n_weights)
        return nnl_fail(NNL_ERR_INVALID_ARG, "weight %d out of range", i);
    const nnl_frec_weight *w = &p->f->weights[i];
    info->name = w->name;
    info->dtype = w->dtype;
    info->rank = w->rank;
    memcpy(info->dims, w->dims, sizeof info->dims);
    info->layout = nnl_layout_name(w->layout);
    info->bytes = w->nbytes;
    info->n_graphs = 0;
    for (int g = 0; g < p->f->n_graphs; g++) info->n_graphs += p->uses[(size_t)i * (size_t)p->f->n_graphs + (size_t)g];
    return NNL_OK;
}

int nnl_plan_weight_used_by(const nnl_plan *p, int w, int g) {
    if (!p || w < 0 || w >= p->f->n_weights || g < 0 || g >= p->f->n_graphs) return 0;
    return p->uses[(size_t)w * (size_t)p->f->n_graphs + (size_t)g];
}

nnl_status nnl_plan_verify(const nnl_plan *p) {
    if (!p) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_plan_verify: NULL plan");
    nnl_status st = nnl_file_verify(p->f);
    return st ? st : nnl_plan_check_payloads(p->f);
}
