/*
 * Static activation memory plan.  Every non-constant value gets an offset
 * in one arena so that two values whose lifetimes overlap never overlap in
 * memory.  Lifetimes are node-index intervals in the final (topological)
 * order: inputs are born before the first node, graph outputs live past the
 * last.  Placement is greedy, largest first, at the lowest free offset —
 * the classic heuristic that lands close to the peak-live-bytes lower bound
 * on CNNs.  The ops' scratch region follows the values.
 */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "passes/pattern.h"
#include "ops/ops.h"

typedef struct item {
    int v;
    int first, last;
    uint64_t size, off;
} item;

static int by_size_desc(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->v - y->v;   /* deterministic */
}

static uint64_t align_up(uint64_t x) { return (x + NNL_ALIGN - 1) / NNL_ALIGN * NNL_ALIGN; }

/* Concat in place: an input of a Concat whose output is one block per
 * input (every axis before the concat axis of size 1: batch 1 along
 * channels) is placed where the Concat would copy it, so its producer
 * writes it there and the copy becomes a no-op (ops/tensor/slice.c).
 * Only an input that nothing else reads (not a graph input or output,
 * made by a node that is not itself a Concat placed this way, one use),
 * starting on an NNL_ALIGN boundary; the output's lifetime then starts
 * at the first such producer.  SqueezeNet's fire modules and GoogLeNet's
 * inception blocks copied every branch once more (SqueezeNet 1.1: 8
 * Concats, 0.27 ms of 6.2 at 1 thread, slower on 2 threads).
 * alias[v] = the Concat output holding v (-1: none), at byte aoff[v]. */
static void plan_concats(const nnl_model *m, const int *uses, int *alias, uint64_t *aoff) {
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead || strcmp(n->op, "Concat") != 0 || n->n_out != 1 || n->out[0] < 0) continue;
        const nnl_value *y = &m->values[n->out[0]];
        if (y->kind == NNL_VAL_CONST || y->kind == NNL_VAL_INPUT) continue;
        int64_t axis = nnl_node_int(n, "axis", 0), r = y->t.rank;
        if (axis < 0) axis += r;
        if (axis < 0 || axis >= r) continue;
        bool one_block = true;
        for (int64_t d = 0; d < axis; d++) one_block = one_block && y->t.dims[d] == 1;
        if (!one_block) continue;
        uint64_t off = 0;
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v < 0) break;
            const nnl_value *x = &m->values[v];
            uint64_t bytes = nnl_tensor_nbytes(&x->t);
            int p = x->producer;
            if (x->kind != NNL_VAL_CONST && x->kind != NNL_VAL_INPUT && !x->is_output && p >= 0 && p < i &&
                uses[v] == 1 && alias[v] < 0 && strcmp(m->nodes[p].op, "Concat") != 0 && off % NNL_ALIGN == 0 &&
                bytes > 0 && x->t.dtype == y->t.dtype) {
                alias[v] = n->out[0];
                aoff[v] = off;
            }
            off += bytes;
        }
    }
}

/* Views in place: the output of a Reshape, Flatten, Squeeze, Unsqueeze or
 * Identity holds its input's bytes as they are, and a Slice that takes one
 * contiguous block (nnl_infer_result.view) holds a run of them, so it is
 * placed on them (alias to the input's block, at the input's own place in
 * it, plus the run's offset) and the copy becomes a no-op
 * (ops/tensor/shape.c, slice.c); the block then lives until the view's
 * last use.  Not for graph inputs and outputs (a session may
 * hand those their own memory), nor an output a Concat already holds.
 * ShuffleNet's channel shuffles are two Reshapes around a Transpose: 32
 * copies, 0.29 ms of ShuffleNet 0.5's 1.2 at 2 threads, where half of
 * each input sat in the other core's cache; its channel splits are 26
 * Slices, 0.15 ms at 2 threads. */
static void plan_views(const nnl_model *m, int *alias, uint64_t *aoff) {
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        const bool whole = nnl_op_is_view(n->op);
        if (n->dead || !(whole || n->info.view) || n->n_out != 1 || n->n_in < 1 || n->in[0] < 0 || n->out[0] < 0)
            continue;
        const int xv = n->in[0], yv = n->out[0];
        const nnl_value *x = &m->values[xv], *y = &m->values[yv];
        const uint64_t at = whole ? 0 : n->info.view_at, xb = nnl_tensor_nbytes(&x->t), yb = nnl_tensor_nbytes(&y->t);
        if (x->kind == NNL_VAL_CONST || x->kind == NNL_VAL_INPUT || x->is_output || y->kind == NNL_VAL_CONST ||
            y->kind == NNL_VAL_INPUT || y->is_output || alias[yv] >= 0 || x->t.dtype != y->t.dtype || yb == 0 ||
            (whole ? xb != yb : at > xb || yb > xb - at))
            continue;
        /* x's block: x itself, or the value x already lies in; a Slice's
         * place must keep the arena's alignment (plan.c checks it) */
        const uint64_t off = (alias[xv] >= 0 ? aoff[xv] : 0) + at;
        if (off % NNL_ALIGN) continue;
        alias[yv] = alias[xv] >= 0 ? alias[xv] : xv;
        aoff[yv] = off;
    }
}

nnl_status nnl_pass_plan_arena(nnl_model *m) {
    int nv = m->n_values;
    const size_t nn = (size_t)(nv ? nv : 1);
    item *it = nnl_calloc(nn, sizeof *it);
    int *slot = nnl_malloc(nn * sizeof(int)), *alias = nnl_malloc(nn * sizeof(int));
    int *uses = nnl_calloc(nn, sizeof(int));
    uint64_t *aoff = nnl_calloc(nn, sizeof(uint64_t));
    if (!it || !slot || !uses || !alias || !aoff) {
        nnl_free(it);
        nnl_free(slot);
        nnl_free(uses);
        nnl_free(alias);
        nnl_free(aoff);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory planning the arena");
    }
    for (int v = 0; v < nv; v++) alias[v] = -1;
    for (int i = 0; i < m->n_nodes; i++)
        for (int j = 0; j < m->nodes[i].n_in; j++)
            if (!m->nodes[i].dead && m->nodes[i].in[j] >= 0) uses[m->nodes[i].in[j]]++;
    plan_concats(m, uses, alias, aoff);
    plan_views(m, alias, aoff);
    int n = 0;
    for (int v = 0; v < nv; v++) {
        slot[v] = -1;
        nnl_value *val = &m->values[v];
        val->arena_offset = -1;
        if (val->kind == NNL_VAL_CONST || alias[v] >= 0) continue;
        slot[v] = n;
        it[n].v = v;
        it[n].first = val->kind == NNL_VAL_INPUT ? -1 : val->producer;
        it[n].last = it[n].first;
        it[n].size = align_up(nnl_tensor_nbytes(&val->t));
        n++;
    }
    /* a value read in another's block keeps that block alive */
    for (int i = 0; i < m->n_nodes; i++)
        for (int j = 0; j < m->nodes[i].n_in; j++) {
            int v = m->nodes[i].in[j];
            if (v >= 0 && alias[v] >= 0) v = alias[v];
            if (v >= 0 && slot[v] >= 0 && it[slot[v]].last < i) it[slot[v]].last = i;
        }
    /* Outputs must survive the run; inputs must survive it too, so that a
     * session can run again on the inputs it was given. */
    for (int i = 0; i < m->n_outputs; i++) {
        int v = m->outputs[i];
        if (slot[v] >= 0) it[slot[v]].last = m->n_nodes;
    }
    for (int i = 0; i < m->n_inputs; i++) {
        int v = m->inputs[i];
        if (slot[v] >= 0) it[slot[v]].last = m->n_nodes;
    }
    /* a Concat's output holds its in-place inputs from their producers on */
    for (int v = 0; v < nv; v++)
        if (alias[v] >= 0 && slot[alias[v]] >= 0 && m->values[v].producer < it[slot[alias[v]]].first)
            it[slot[alias[v]]].first = m->values[v].producer;
    qsort(it, (size_t)n, sizeof *it, by_size_desc);
    uint64_t end = 0;
    for (int a = 0; a < n; a++) {
        uint64_t off = 0;
        /* Rescan after every bump: a move past one block may hit another. */
        for (bool moved = true; moved;) {
            moved = false;
            for (int b = 0; b < a; b++) {
                if (it[b].last < it[a].first || it[a].last < it[b].first) continue;
                if (off < it[b].off + it[b].size && it[b].off < off + it[a].size) {
                    off = it[b].off + it[b].size;
                    moved = true;
                }
            }
        }
        it[a].off = off;
        m->values[it[a].v].arena_offset = (int64_t)off;
        if (off + it[a].size > end) end = off + it[a].size;
    }
    for (int v = 0; v < nv; v++)
        if (alias[v] >= 0) m->values[v].arena_offset = m->values[alias[v]].arena_offset + (int64_t)aoff[v];
    nnl_free(uses);
    nnl_free(alias);
    nnl_free(aoff);
    uint64_t scratch = 0;
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].info.scratch_bytes > scratch) scratch = m->nodes[i].info.scratch_bytes;
    m->scratch_offset = end;
    m->arena_bytes = end + align_up(scratch);
    nnl_free(it);
    nnl_free(slot);
    return NNL_OK;
}
