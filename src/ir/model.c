/* Graph IR storage: growable value and node arrays, deep-copied attributes. */
#include <string.h>

#include "ir/model.h"

nnl_model *nnl_model_new(void) {
    nnl_model *m = nnl_calloc(1, sizeof *m);
    if (m) m->opset = 13;
    return m;
}

const char *const *nnl_strings_dup(const char *const *src, int n) {
    size_t bytes = (size_t)n * sizeof(char *);
    for (int i = 0; i < n; i++) bytes += strlen(src[i]) + 1;
    char **p = nnl_malloc(bytes);
    if (!p) return NULL;
    char *at = (char *)(p + n);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(src[i]) + 1;
        memcpy(at, src[i], l);
        p[i] = at;
        at += l;
    }
    return (const char *const *)p;
}

void nnl_attr_clear(nnl_attr *a) {
    nnl_free((void *)a->name);
    nnl_free((void *)a->s);
    nnl_free((void *)a->ints);
    nnl_free((void *)a->floats);
    nnl_free((void *)a->strs);
    if (a->t) {
        nnl_aligned_free(a->t->data);
        nnl_free((void *)a->t);
    }
    memset(a, 0, sizeof *a);
}

nnl_status nnl_attr_copy(nnl_attr *dst, const nnl_attr *src) {
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->i = src->i;
    dst->f = src->f;
    dst->n = src->n;
    dst->name = nnl_strdup(src->name ? src->name : "");
    if (!dst->name) goto nomem;
    if (src->s && !(dst->s = nnl_strdup(src->s))) goto nomem;
    if (src->ints && src->n > 0) {
        int64_t *p = nnl_malloc((size_t)src->n * sizeof *p);
        if (!p) goto nomem;
        memcpy(p, src->ints, (size_t)src->n * sizeof *p);
        dst->ints = p;
    }
    if (src->floats && src->n > 0) {
        float *p = nnl_malloc((size_t)src->n * sizeof *p);
        if (!p) goto nomem;
        memcpy(p, src->floats, (size_t)src->n * sizeof *p);
        dst->floats = p;
    }
    if (src->strs && src->n > 0 && !(dst->strs = nnl_strings_dup(src->strs, src->n))) goto nomem;
    if (src->t) {
        nnl_tensor *t = nnl_malloc(sizeof *t);
        if (!t) goto nomem;
        *t = *src->t;
        size_t nb = nnl_tensor_nbytes(src->t);
        t->data = nnl_aligned_alloc(nb);
        if (!t->data) {
            nnl_free(t);
            goto nomem;
        }
        if (nb) memcpy(t->data, src->t->data, nb);
        dst->t = t;
    }
    return NNL_OK;
nomem:
    nnl_attr_clear(dst);
    return nnl_fail(NNL_ERR_NOMEM, "out of memory copying attribute");
}

static void node_clear(nnl_node *n) {
    nnl_free(n->op);
    nnl_free(n->name);
    nnl_free(n->in);
    nnl_free(n->out);
    for (int i = 0; i < n->n_attrs; i++) nnl_attr_clear(&n->attrs[i]);
    nnl_free(n->attrs);
}

static void value_clear(nnl_value *v) {
    nnl_free(v->name);
    for (int i = 0; i < NNL_MAX_RANK; i++) nnl_free(v->dim_param[i]);
    if (v->kind == NNL_VAL_CONST) nnl_aligned_free(v->t.data);
}

void nnl_model_free(nnl_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_values; i++) value_clear(&m->values[i]);
    for (int i = 0; i < m->n_nodes; i++) node_clear(&m->nodes[i]);
    nnl_free(m->values);
    nnl_free(m->nodes);
    nnl_free(m->inputs);
    nnl_free(m->outputs);
    nnl_free(m->graph_name);
    nnl_free(m);
}

static bool grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap) return true;
    int nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    void *p = nnl_realloc(*arr, (size_t)nc * elem);
    if (!p) return false;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return true;
}

int nnl_model_add_value(nnl_model *m, const char *name, nnl_value_kind kind) {
    if (!grow((void **)&m->values, &m->cap_values, m->n_values + 1, sizeof *m->values)) return -1;
    nnl_value *v = &m->values[m->n_values];
    memset(v, 0, sizeof *v);
    v->name = nnl_strdup(name ? name : "");
    if (!v->name) return -1;
    v->kind = kind;
    v->producer = -1;
    v->arena_offset = -1;
    return m->n_values++;
}

int nnl_model_find_value(const nnl_model *m, const char *name) {
    for (int i = m->n_values - 1; i >= 0; i--)
        if (strcmp(m->values[i].name, name) == 0) return i;
    return -1;
}

int nnl_model_add_node(nnl_model *m, const char *op, const char *name,
                       const int *in, int n_in, const int *out, int n_out,
                       const nnl_attr *attrs, int n_attrs) {
    if (!grow((void **)&m->nodes, &m->cap_nodes, m->n_nodes + 1, sizeof *m->nodes)) return -1;
    nnl_node *n = &m->nodes[m->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = nnl_strdup(op);
    n->name = nnl_strdup(name ? name : "");
    n->in = nnl_malloc((size_t)(n_in > 0 ? n_in : 1) * sizeof(int));
    n->out = nnl_malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof(int));
    n->attrs = nnl_calloc((size_t)(n_attrs > 0 ? n_attrs : 1), sizeof(nnl_attr));
    if (!n->op || !n->name || !n->in || !n->out || !n->attrs) goto fail;
    if (n_in) memcpy(n->in, in, (size_t)n_in * sizeof(int));
    if (n_out) memcpy(n->out, out, (size_t)n_out * sizeof(int));
    n->n_in = n_in;
    n->n_out = n_out;
    for (int i = 0; i < n_attrs; i++) {
        if (nnl_attr_copy(&n->attrs[i], &attrs[i]) != NNL_OK) goto fail;
        n->n_attrs = i + 1;
    }
    for (int i = 0; i < n_out; i++)
        if (out[i] >= 0 && out[i] < m->n_values) m->values[out[i]].producer = m->n_nodes;
    return m->n_nodes++;
fail:
    node_clear(n);
    memset(n, 0, sizeof *n);
    return -1;
}

const nnl_attr *nnl_node_attr(const nnl_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

static nnl_status set_attr(nnl_node *n, const nnl_attr *a) {
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, a->name) == 0) {
            nnl_attr tmp;
            nnl_status s = nnl_attr_copy(&tmp, a);
            if (s) return s;
            nnl_attr_clear(&n->attrs[i]);
            n->attrs[i] = tmp;
            return NNL_OK;
        }
    nnl_attr *p = nnl_realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *p);
    if (!p) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    n->attrs = p;
    nnl_status s = nnl_attr_copy(&n->attrs[n->n_attrs], a);
    if (s == NNL_OK) n->n_attrs++;
    return s;
}

nnl_status nnl_node_set_attr_int(nnl_node *n, const char *name, int64_t v) {
    nnl_attr a = {.name = name, .type = NNL_ATTR_INT, .i = v};
    return set_attr(n, &a);
}

nnl_status nnl_node_set_attr_float(nnl_node *n, const char *name, float v) {
    nnl_attr a = {.name = name, .type = NNL_ATTR_FLOAT, .f = v};
    return set_attr(n, &a);
}

nnl_status nnl_node_set_attr_str(nnl_node *n, const char *name, const char *s) {
    nnl_attr a = {.name = name, .type = NNL_ATTR_STRING, .s = s};
    return set_attr(n, &a);
}

nnl_status nnl_node_set_attr_ints(nnl_node *n, const char *name, const int64_t *v, int count) {
    nnl_attr a = {.name = name, .type = NNL_ATTR_INTS, .n = count, .ints = v};
    return set_attr(n, &a);
}

void nnl_model_replace_uses(nnl_model *m, int from, int to) {
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] == from) n->in[j] = to;
    }
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == from) m->outputs[i] = to;
}

int nnl_model_use_count(const nnl_model *m, int v) {
    int c = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++) c += n->in[j] == v;
    }
    for (int i = 0; i < m->n_outputs; i++) c += m->outputs[i] == v;
    return c;
}

nnl_status nnl_value_set_const(nnl_value *v, nnl_dtype dt, int rank, const int64_t *dims,
                               void *data, bool take) {
    nnl_tensor t = {.dtype = dt, .rank = rank, .layout = NNL_LAYOUT_PLAIN};
    if (rank < 0 || rank > NNL_MAX_RANK) return nnl_fail(NNL_ERR_SHAPE, "rank %d out of range", rank);
    for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
    void *d = data;
    if (!take) {
        size_t nb = nnl_tensor_nbytes(&t);
        d = nnl_aligned_alloc(nb);
        if (!d) return nnl_fail(NNL_ERR_NOMEM, "out of memory for constant '%s'", v->name);
        if (nb) memcpy(d, data, nb);
    }
    if (v->kind == NNL_VAL_CONST) nnl_aligned_free(v->t.data);
    t.data = d;
    v->t = t;
    v->kind = NNL_VAL_CONST;
    v->shape_known = true;
    v->producer = -1;
    return NNL_OK;
}

/* Kahn's algorithm over live nodes; a value is ready when it is an input, a
 * constant or its producer has been emitted. */
nnl_status nnl_model_toposort(nnl_model *m) {
    int n = m->n_nodes;
    int *order = nnl_malloc((size_t)(n ? n : 1) * sizeof(int));
    bool *done = nnl_calloc((size_t)(n ? n : 1), sizeof(bool));
    bool *ready = nnl_calloc((size_t)(m->n_values ? m->n_values : 1), sizeof(bool));
    if (!order || !done || !ready) {
        nnl_free(order); nnl_free(done); nnl_free(ready);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory sorting graph");
    }
    for (int v = 0; v < m->n_values; v++) ready[v] = m->values[v].kind != NNL_VAL_ACT;
    int k = 0, live = 0;
    for (int i = 0; i < n; i++) live += !m->nodes[i].dead;
    bool progress = true;
    while (k < live && progress) {
        progress = false;
        for (int i = 0; i < n; i++) {
            nnl_node *nd = &m->nodes[i];
            if (nd->dead || done[i]) continue;
            bool ok = true;
            for (int j = 0; j < nd->n_in && ok; j++) ok = nd->in[j] < 0 || ready[nd->in[j]];
            if (!ok) continue;
            done[i] = true;
            order[k++] = i;
            for (int j = 0; j < nd->n_out; j++)
                if (nd->out[j] >= 0) ready[nd->out[j]] = true;
            progress = true;
        }
    }
    nnl_status s = NNL_OK;
    if (k < live) {
        s = nnl_fail(NNL_ERR_FORMAT, "graph has a cycle or reads a value no node produces");
    } else {
        nnl_node *nodes = nnl_malloc((size_t)(n ? n : 1) * sizeof *nodes);
        if (!nodes) {
            s = nnl_fail(NNL_ERR_NOMEM, "out of memory sorting graph");
        } else {
            int w = 0;
            for (int i = 0; i < k; i++) nodes[w++] = m->nodes[order[i]];
            for (int i = 0; i < n; i++)
                if (m->nodes[i].dead) nodes[w++] = m->nodes[i];
            if (n) memcpy(m->nodes, nodes, (size_t)n * sizeof *nodes);
            nnl_free(nodes);
        }
    }
    nnl_free(order); nnl_free(done); nnl_free(ready);
    if (s == NNL_OK) s = nnl_model_compact(m);
    return s;
}

/* Drop dead nodes, then values no live node, input list or output list
 * refers to; renumber every reference. */
nnl_status nnl_model_compact(nnl_model *m) {
    int w = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        if (m->nodes[i].dead) {
            node_clear(&m->nodes[i]);
            continue;
        }
        m->nodes[w++] = m->nodes[i];
    }
    m->n_nodes = w;
    int *map = nnl_malloc((size_t)(m->n_values ? m->n_values : 1) * sizeof(int));
    if (!map) return nnl_fail(NNL_ERR_NOMEM, "out of memory compacting graph");
    for (int v = 0; v < m->n_values; v++) map[v] = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        for (int j = 0; j < m->nodes[i].n_in; j++)
            if (m->nodes[i].in[j] >= 0) map[m->nodes[i].in[j]] = 1;
        for (int j = 0; j < m->nodes[i].n_out; j++)
            if (m->nodes[i].out[j] >= 0) map[m->nodes[i].out[j]] = 1;
    }
    for (int i = 0; i < m->n_inputs; i++) map[m->inputs[i]] = 1;
    for (int i = 0; i < m->n_outputs; i++) map[m->outputs[i]] = 1;
    int nv = 0;
    for (int v = 0; v < m->n_values; v++) {
        if (!map[v]) {
            value_clear(&m->values[v]);
            map[v] = -1;
            continue;
        }
        map[v] = nv;
        m->values[nv++] = m->values[v];
    }
    m->n_values = nv;
    for (int v = 0; v < nv; v++) m->values[v].producer = -1;
    for (int i = 0; i < m->n_nodes; i++) {
        nnl_node *n = &m->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) n->in[j] = map[n->in[j]];
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) {
                n->out[j] = map[n->out[j]];
                m->values[n->out[j]].producer = i;
            }
    }
    for (int i = 0; i < m->n_inputs; i++) m->inputs[i] = map[m->inputs[i]];
    for (int i = 0; i < m->n_outputs; i++) m->outputs[i] = map[m->outputs[i]];
    nnl_free(map);
    return NNL_OK;
}
