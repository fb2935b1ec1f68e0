/*
 * nnl_session: one graph's arena, per-thread scratch, thread pool and the
 * prepared op calls.  Creation re-runs every op's shape inference on the
 * file's shapes and refuses a graph whose recorded shapes disagree, so the
 * kernels can trust them.  Running allocates nothing.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ops/ops.h"
#include "runtime/runtime.h"

/* Below both, a node runs without the pool (see prepare). */
#define SERIAL_MAX_FLOPS 131072.0
#define SERIAL_MAX_BYTES ((uint64_t)65536)

struct nnl_session {
    const nnl_plan *plan;
    int graph;
    const nnl_frec_graph *g;
    const nnl_op_def **defs;
    nnl_tensor *tensors;
    nnl_tensor **io;           /* in/out pointer arrays of all calls */
    nnl_tensor *omitted;       /* buffers for outputs the file omits (-1) */
    int n_omitted;
    nnl_op_call *calls;
    void *arena;
    void **tscratch;
    int n_threads;
    nnl_pool *pool;
    bool profiling;
    double flops;              /* one run, as the ops' inference counts it here */
    double *layer_ms, *layer_start;
    double *thr_start, *thr_busy;  /* [layer * n_threads + thread] */
};

static bool same_shape(const nnl_tensor *a, const nnl_frec_tensor *b) {
    if (a->dtype != b->dtype || a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

/* An optional output the file omits (index -1, docs/FORMAT.md) still gets
 * a buffer of the shape the op infers, owned by the session: kernels may
 * write every output they have, and only some test for an absent one.  The
 * compiler never omits one (it gives each an arena slot); other writers
 * may. */
static nnl_status omitted_output(nnl_session *s, const nnl_frec_node *n, int j, const nnl_tensor *inferred,
                                 nnl_tensor **out) {
    nnl_tensor *t = &s->omitted[s->n_omitted];
    uint64_t nb;
    if (!nnl_tensor_nbytes_checked(inferred->dtype, inferred->rank, inferred->dims, NNL_LAYOUT_PLAIN, &nb) ||
        nb > SIZE_MAX)
        return nnl_fail(NNL_ERR_FORMAT, "graph '%s', node '%s' (%s): omitted output %d would be too large",
                        s->g->name, n->name, n->op, j);
    *t = *inferred;
    t->layout = NNL_LAYOUT_PLAIN;
    if (!(t->data = nnl_aligned_alloc((size_t)nb)))
        return nnl_fail(NNL_ERR_NOMEM, "out of memory for omitted output %d of node '%s'", j, n->name);
    s->n_omitted++;
    *out = t;
    return NNL_OK;
}

static nnl_status prepare(nnl_session *s) {
    const nnl_frec_graph *g = s->g;
    const nnl_file *f = s->plan->f;
    size_t n_io = 0, n_omit = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        n_io += (size_t)g->nodes[i].n_in + (size_t)g->nodes[i].n_out;
        for (int j = 0; j < g->nodes[i].n_out; j++) n_omit += g->nodes[i].out[j] < 0;
    }
    s->omitted = nnl_calloc(n_omit ? n_omit : 1, sizeof *s->omitted);    s->tensors = nnl_calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *s->tensors);
    s->io = nnl_calloc(n_io ? n_io : 1, sizeof *s->io);
    s->calls = nnl_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *s->calls);
    s->defs = nnl_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *s->defs);
    s->layer_ms = nnl_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(double));
    s->layer_start = nnl_calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(double));
    if (!s->tensors || !s->io || !s->calls || !s->defs || !s->layer_ms || !s->layer_start || !s->omitted)
        return nnl_fail(NNL_ERR_NOMEM, "out of memory creating a session for graph '%s'", g->name);
    for (int i = 0; i < g->n_tensors; i++) {
        const nnl_frec_tensor *r = &g->tensors[i];
        nnl_tensor *t = &s->tensors[i];
        t->dtype = r->dtype;
        t->rank = r->rank;
        memcpy(t->dims, r->dims, sizeof t->dims);
        t->layout = r->layout;
        t->data = r->kind == NNL_TK_WEIGHT ? (void *)f->weights[r->where].data : (char *)s->arena + r->where;
    }
    size_t k = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nnl_frec_node *n = &g->nodes[i];
        nnl_op_call *c = &s->calls[i];
        s->defs[i] = nnl_op_find(n->op);
        c->op = n->op;
        c->node = n->name;
        c->attrs = n->attrs;
        c->n_attrs = n->n_attrs;
        c->opset = g->opset;
        c->n_in = n->n_in;
        c->n_out = n->n_out;
        nnl_tensor **in = &s->io[k];
        k += (size_t)n->n_in;
        nnl_tensor **out = &s->io[k];
        k += (size_t)n->n_out;
        for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] < 0 ? NULL : &s->tensors[n->in[j]];
        c->in = in;
        c->out = out;
        /* infer into copies of the recorded outputs, then compare */
        nnl_tensor tmp[16], *tp[16];
        if (n->n_out > 16) return nnl_fail(NNL_ERR_UNSUPPORTED, "node '%s' has too many outputs", n->name);
        for (int j = 0; j < n->n_out; j++) {
            memset(&tmp[j], 0, sizeof tmp[j]);
            tp[j] = &tmp[j];
        }
        nnl_op_call ic = *c;
        ic.out = tp;
        nnl_infer_result r = {0};
        nnl_status st = s->defs[i]->infer(&ic, &r);
        if (st) return nnl_fail_context(st, "graph '%s', node '%s' (%s): ", g->name, n->name, n->op);
        /* kernels of another nnlink version may plan more scratch than the
         * file's arena holds */
        if (r.scratch_bytes > g->arena_bytes - g->scratch_offset)
            return nnl_fail(NNL_ERR_FORMAT,
                            "graph '%s', node '%s': needs %llu bytes of scratch, the file's arena has %llu (a file "
                            "compiled by another nnlink version?); recompile it with this nnlink",
                            g->name, n->name, (unsigned long long)r.scratch_bytes,
                            (unsigned long long)(g->arena_bytes - g->scratch_offset));
        for (int j = 0; j < n->n_out; j++) {
            if (n->out[j] < 0) {
                nnl_status so = omitted_output(s, n, j, &tmp[j], &out[j]);
                if (so) return so;
                continue;
            }
            if (!same_shape(&tmp[j], &g->tensors[n->out[j]]))
                return nnl_fail(NNL_ERR_FORMAT, "graph '%s', node '%s' (%s): output %d shape disagrees with the op",
                                g->name, n->name, n->op, j);
            out[j] = &s->tensors[n->out[j]];
        }
        c->scratch = (char *)s->arena + g->scratch_offset;
        c->thread_scratch = s->tscratch;
        /* An op this small is done on the calling thread before a hand-off
         * to the pool (waking a worker, waiting for it) would pay off: a
         * decode step's ops, shape arithmetic.  Measured on the GPT decoder:
         * 0.050 ms per step at 2 threads with every op pooled, 0.023 ms at 1. */
        s->flops += r.flops;
        uint64_t out_bytes = 0;
        for (int j = 0; j < n->n_out; j++) out_bytes += nnl_tensor_nbytes(out[j]);
        c->pool = r.flops < SERIAL_MAX_FLOPS && out_bytes < SERIAL_MAX_BYTES ? NULL : s->pool;
    }
    return NNL_OK;
}

nnl_status nnl_session_create(const nnl_plan *plan, int graph, const nnl_session_options *opts, nnl_session **out) {
    if (!out) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_session_create: out is NULL");
    *out = NULL;
    if (!plan || graph < 0 || graph >= plan->f->n_graphs)
        return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_session_create: no graph %d", graph);
    if (plan->foreign) return nnl_fail(NNL_ERR_MISMATCH, "%s", plan->foreign);
    if (opts && opts->size != sizeof *opts)
        return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_session_options.size is %zu, expected %zu", opts->size, sizeof *opts);
    int nt = opts && opts->n_threads > 0 ? opts->n_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nt < 1) nt = 1;
    if (nt > 256) return nnl_fail(NNL_ERR_INVALID_ARG, "%d threads is too many (at most 256)", nt);
    nnl_session *s = nnl_calloc(1, sizeof *s);
    if (!s) return nnl_fail(NNL_ERR_NOMEM, "out of memory creating a session");
    s->plan = plan;
    s->graph = graph;
    s->g = &plan->f->graphs[graph];
    nnl_status st = NNL_OK;
    if (!(s->arena = nnl_arena_alloc(s->g->arena_bytes)))
        st = nnl_fail(NNL_ERR_NOMEM, "cannot allocate the %llu-byte arena of graph '%s'",
                      (unsigned long long)s->g->arena_bytes, s->g->name);
    if (!st && !(s->tscratch = nnl_calloc((size_t)nt, sizeof(void *))))
        st = nnl_fail(NNL_ERR_NOMEM, "out of memory creating a session");
    if (!st) s->n_threads = nt;
    for (int i = 0; !st && i < nt; i++)
        if (!(s->tscratch[i] = nnl_arena_alloc(NNL_THREAD_SCRATCH_BYTES)))
            st = nnl_fail(NNL_ERR_NOMEM, "out of memory for thread scratch");
    if (!st) st = nnl_pool_create(nt, &s->pool);
    size_t nlt = (size_t)(s->g->n_nodes ? s->g->n_nodes : 1) * (size_t)nt;
    if (!st && (!(s->thr_start = nnl_calloc(nlt, sizeof(double))) || !(s->thr_busy = nnl_calloc(nlt, sizeof(double)))))
        st = nnl_fail(NNL_ERR_NOMEM, "out of memory creating a session");
    if (!st) st = prepare(s);
    if (st) {
        nnl_session_free(s);
        return st;
    }
    *out = s;
    return NNL_OK;
}

void nnl_session_free(nnl_session *s) {
    if (!s) return;
    nnl_pool_free(s->pool);
    for (int i = 0; i < s->n_threads; i++) nnl_arena_free(s->tscratch[i], NNL_THREAD_SCRATCH_BYTES);
    nnl_free(s->tscratch);
    nnl_arena_free(s->arena, s->g->arena_bytes);
    nnl_free(s->tensors);
    nnl_free(s->io);
    for (int i = 0; i < s->n_omitted; i++) nnl_aligned_free(s->omitted[i].data);
    nnl_free(s->omitted);
    nnl_free(s->calls);
    nnl_free(s->defs);
    nnl_free(s->layer_ms);
    nnl_free(s->layer_start);
    nnl_free(s->thr_start);
    nnl_free(s->thr_busy);
    nnl_free(s);
}

nnl_status nnl_session_set_input(nnl_session *s, const char *name, nnl_dtype dtype, int rank, const int64_t *dims,
                                 const void *data) {
    if (!s || !name || (!data && rank > 0) || (rank > 0 && !dims))
        return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_session_set_input: NULL argument");
    const nnl_frec_graph *g = s->g;
    for (int i = 0; i < g->n_inputs; i++) {
        const nnl_frec_tensor *r = &g->tensors[g->inputs[i]];
        if (strcmp(r->name, name) != 0) continue;
        nnl_tensor *t = &s->tensors[g->inputs[i]];
        char want[128], got[128];
        nnl_tensor given = {.dtype = dtype, .rank = rank};
        if (rank < 0 || rank > NNL_MAX_RANK)
            return nnl_fail(NNL_ERR_SHAPE, "input '%s': rank %d is out of range", name, rank);
        for (int d = 0; d < rank; d++) given.dims[d] = dims[d];
        if (dtype != r->dtype)
            return nnl_fail(NNL_ERR_SHAPE, "input '%s' of graph '%s' is %s, but %s data was given", name, g->name,
                            nnl_dtype_name(r->dtype), nnl_dtype_name(dtype));
        if (!same_shape(&given, r))
            return nnl_fail(NNL_ERR_SHAPE, "input '%s' of graph '%s' was compiled for shape %s, but %s was given",
                            name, g->name, nnl_shape_str(t, want, sizeof want), nnl_shape_str(&given, got, sizeof got));
        size_t nb = nnl_tensor_nbytes(t);
        if (nb) memcpy(t->data, data, nb);
        return NNL_OK;
    }
    char names[512];
    size_t used = 0;
    names[0] = 0;
    for (int i = 0; i < g->n_inputs; i++) nnl_msg_list_add(names, sizeof names, &used, g->tensors[g->inputs[i]].name, true);
    return nnl_fail(NNL_ERR_NOT_FOUND, "graph '%s' has no input '%s' (its inputs: %s)", g->name, name, names);
}

nnl_status nnl_session_run(nnl_session *s) {
    if (!s) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_session_run: NULL session");
    const nnl_frec_graph *g = s->g;
    double t0 = s->profiling ? nnl_now_ms() : 0;
    int nt = s->n_threads;
    for (int i = 0; i < g->n_nodes; i++) {
        double a = 0, *first = NULL, *busy = NULL;
        if (s->profiling) {
            first = &s->thr_start[(size_t)i * (size_t)nt];
            busy = &s->thr_busy[(size_t)i * (size_t)nt];
            for (int t = 0; t < nt; t++) first[t] = -1, busy[t] = 0;
            nnl_pool_trace(s->pool, first, busy);
            a = nnl_now_ms();
        }
        nnl_status st = s->defs[i]->exec(&s->calls[i]);
        if (s->profiling) {
            double b = nnl_now_ms();
            nnl_pool_trace(s->pool, NULL, NULL);
            s->layer_start[i] = a - t0;
            s->layer_ms[i] = b - a;
            /* work the op ran inline belongs to the calling thread */
            if (first[0] < 0) first[0] = a, busy[0] = b - a;
            for (int t = 0; t < nt; t++) first[t] = first[t] < 0 ? 0 : first[t] - t0;
        }
        if (st) return nnl_fail_context(st, "graph '%s', node '%s' (%s): ", g->name, g->nodes[i].name, g->nodes[i].op);
    }
    return NNL_OK;
}

nnl_status nnl_session_output(nnl_session *s, int i, nnl_tensor_info *info, const void **data) {
    if (!s || i < 0 || i >= s->g->n_outputs)
        return nnl_fail(NNL_ERR_INVALID_ARG, "output %d out of range", i);
    int t = s->g->outputs[i];
    const nnl_frec_tensor *r = &s->g->tensors[t];
    if (info) {
        info->name = r->name;
        info->dtype = r->dtype;
        info->rank = r->rank;
        memcpy(info->dims, r->dims, sizeof info->dims);
    }
    if (data) *data = s->tensors[t].data;
    return NNL_OK;
}

nnl_status nnl_session_set_profiling(nnl_session *s, int enable) {
    if (!s) return nnl_fail(NNL_ERR_INVALID_ARG, "NULL session");
    s->profiling = enable != 0;
    return NNL_OK;
}

int nnl_session_layer_count(const nnl_session *s) { return s ? s->g->n_nodes : 0; }

double nnl_session_flops(const nnl_session *s) { return s ? s->flops : 0; }

nnl_status nnl_session_layer_time(const nnl_session *s, int i, nnl_layer_time *out) {
    if (!s || !out || i < 0 || i >= s->g->n_nodes) return nnl_fail(NNL_ERR_INVALID_ARG, "layer %d out of range", i);
    out->name = s->g->nodes[i].name;
    out->op = s->g->nodes[i].op;
    out->ms = s->layer_ms[i];
    out->flops = s->g->nodes[i].flops;
    out->thread = 0;
    out->start_ms = s->layer_start[i];
    return NNL_OK;
}

int nnl_session_thread_count(const nnl_session *s) { return s ? s->n_threads : 0; }

nnl_status nnl_session_layer_thread(const nnl_session *s, int i, int t, double *start_ms, double *busy_ms) {
    if (!s || i < 0 || i >= s->g->n_nodes || t < 0 || t >= s->n_threads || !start_ms || !busy_ms)
        return nnl_fail(NNL_ERR_INVALID_ARG, "layer %d / thread %d out of range", i, t);
    *start_ms = s->thr_start[(size_t)i * (size_t)s->n_threads + (size_t)t];
    *busy_ms = s->thr_busy[(size_t)i * (size_t)s->n_threads + (size_t)t];
    return NNL_OK;
}
