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

#include "passes/passes.h"

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

nnl_status nnl_pass_plan_arena(nnl_model *m) {
    int nv = m->n_values;
    item *it = nnl_calloc((size_t)(nv ? nv : 1), sizeof *it);
    int *slot = nnl_malloc((size_t)(nv ? nv : 1) * sizeof(int));
    if (!it || !slot) {
        nnl_free(it);
        nnl_free(slot);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory planning the arena");
    }
    int n = 0;
    for (int v = 0; v < nv; v++) {
        slot[v] = -1;
        nnl_value *val = &m->values[v];
        val->arena_offset = -1;
        if (val->kind == NNL_VAL_CONST) continue;
        slot[v] = n;
        it[n].v = v;
        it[n].first = val->kind == NNL_VAL_INPUT ? -1 : val->producer;
        it[n].last = it[n].first;
        it[n].size = align_up(nnl_tensor_nbytes(&val->t));
        n++;
    }
    for (int i = 0; i < m->n_nodes; i++)
        for (int j = 0; j < m->nodes[i].n_in; j++) {
            int v = m->nodes[i].in[j];
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
    uint64_t scratch = 0;
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].info.scratch_bytes > scratch) scratch = m->nodes[i].info.scratch_bytes;
    m->scratch_offset = end;
    m->arena_bytes = end + align_up(scratch);
    nnl_free(it);
    nnl_free(slot);
    return NNL_OK;
}
