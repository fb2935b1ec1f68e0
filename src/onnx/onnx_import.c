/*
 * ONNX ModelProto → nnl_model.
 *
 * The model message is checked field by field first (that is where a file
 * that is not ONNX at all is told apart from a corrupt one), then the graph
 * is read in passes, so that nodes may come in any order: initializers,
 * graph inputs, every node's outputs (Constant nodes become constants),
 * then the nodes themselves with their inputs resolved by name, then the
 * graph outputs.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "onnx/onnx_import.h"
#include "onnx/onnx_internal.h"
#include "onnx/onnx_node.h"

/* Value names → value index: open addressing over indices into m->values
 * (whose name strings do not move when the array grows). */
typedef struct imp {
    onnx_src src;
    nnl_model *m;
    int *slot;                 /* value index + 1, 0 = empty */
    size_t cap;                /* power of two */
    int used;
    bool no_opset;             /* the file imports no ai.onnx opset */
} imp;

static size_t slot_of(const imp *I, const char *name) {
    return (size_t)nnl_hash64(name, strlen(name)) & (I->cap - 1);
}

static int lookup(const imp *I, const char *name) {
    if (!I->cap) return -1;
    for (size_t h = slot_of(I, name);; h = (h + 1) & (I->cap - 1)) {
        int v = I->slot[h] - 1;
        if (v < 0) return -1;
        if (strcmp(I->m->values[v].name, name) == 0) return v;
    }
}

static nnl_status table_insert(imp *I, int v) {
    if ((size_t)(I->used + 1) * 2 > I->cap) {
        size_t nc = I->cap ? I->cap * 2 : 256;
        int *ns = nnl_calloc(nc, sizeof *ns), *old = I->slot;
        if (!ns) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
        size_t oc = I->cap;
        I->slot = ns;
        I->cap = nc;
        for (size_t i = 0; i < oc; i++) {
            if (!old[i]) continue;
            size_t h = slot_of(I, I->m->values[old[i] - 1].name);
            while (ns[h]) h = (h + 1) & (nc - 1);
            ns[h] = old[i];
        }
        nnl_free(old);
    }
    size_t h = slot_of(I, I->m->values[v].name);
    while (I->slot[h]) h = (h + 1) & (I->cap - 1);
    I->slot[h] = v + 1;
    I->used++;
    return NNL_OK;
}

static const char *kind_name(nnl_value_kind k) {
    switch (k) {
    case NNL_VAL_INPUT: return "a graph input";
    case NNL_VAL_CONST: return "a constant";
    default: return "a node output";
    }
}

/* A new value named name; every name may be defined once. */
static nnl_status define(imp *I, const char *name, nnl_value_kind kind, int *idx) {
    if (!*name) return nnl_fail(NNL_ERR_FORMAT, "%s has an empty name", kind_name(kind));
    int old = lookup(I, name);
    if (old >= 0)
        return nnl_fail(NNL_ERR_FORMAT, "'%s' is defined twice (as %s and as %s)", name,
                        kind_name(I->m->values[old].kind), kind_name(kind));
    int v = nnl_model_add_value(I->m, name, kind);
    if (v < 0) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    *idx = v;
    return table_insert(I, v);
}

/* ---- graph inputs ------------------------------------------------------ */

static nnl_status read_shape(pb_reader *tt, const pb_field *sf, nnl_value *v) {
    pb_reader r, dr;
    pb_field f, g;
    nnl_status s = pb_sub(tt, sf, &r);
    v->t.rank = 0;
    v->shape_known = true;
    while (!s && !(s = pb_next(&r, &f)) && f.num) {
        if (f.num != ONNX_SHAPE_DIM) continue;
        if ((s = pb_sub(&r, &f, &dr))) break;
        if (v->t.rank >= NNL_MAX_RANK)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "more than %d dimensions", NNL_MAX_RANK);
        int d = v->t.rank++;
        int64_t dim = -1;
        char *param = NULL;
        while (!(s = pb_next(&dr, &g)) && g.num) {
            if (g.num == ONNX_DIM_VALUE) {
                if ((s = pb_expect(&g, PB_VARINT, "dim_value"))) break;
                if ((int64_t)g.u < 0) {
                    s = nnl_fail(NNL_ERR_FORMAT, "dimension %d is negative (%lld)", d,
                                 (long long)g.u);
                    break;
                }
                /* dim_value and dim_param are a oneof: the last one wins. */
                dim = (int64_t)g.u;
                nnl_free(param);
                param = NULL;
            } else if (g.num == ONNX_DIM_PARAM) {
                nnl_free(param);
                if ((s = onnx_string(&g, "dim_param", &param))) break;
                dim = -1;
            }
        }
        v->t.dims[d] = dim;
        v->dim_param[d] = param;   /* freed with the value, also on failure */
        if (dim < 0) v->shape_known = false;
    }
    return s;
}

static nnl_status read_input_type(pb_reader *vi, const pb_field *tf, nnl_value *v) {
    pb_reader r, tt;
    pb_field f, g;
    bool tensor = false, shape = false;
    nnl_status s = pb_sub(vi, tf, &r);
    while (!s && !(s = pb_next(&r, &f)) && f.num) {
        const char *other = NULL;
        switch (f.num) {
        case ONNX_TYPE_TENSOR_TYPE:
            tensor = true;
            if ((s = pb_sub(&r, &f, &tt))) break;
            while (!(s = pb_next(&tt, &g)) && g.num) {
                if (g.num == ONNX_TENSORTYPE_ELEM_TYPE) {
                    if ((s = pb_expect(&g, PB_VARINT, "elem_type"))) break;
                    nnl_dtype dt = onnx_dtype((int64_t)g.u, &s);
                    if (dt == NNL_DT_UNDEFINED) break;
                    v->t.dtype = dt;
                } else if (g.num == ONNX_TENSORTYPE_SHAPE) {
                    shape = true;
                    if ((s = read_shape(&tt, &g, v))) break;
                }
            }
            break;
        case ONNX_TYPE_SEQUENCE_TYPE: other = "a sequence"; break;
        case ONNX_TYPE_MAP_TYPE: other = "a map"; break;
        case ONNX_TYPE_OPAQUE_TYPE: other = "opaque"; break;
        case ONNX_TYPE_SPARSE_TENSOR_TYPE: other = "a sparse tensor"; break;
        case ONNX_TYPE_OPTIONAL_TYPE: other = "optional"; break;
        default: break;
        }
        if (other) return nnl_fail(NNL_ERR_UNSUPPORTED, "type is %s, not a tensor", other);
    }
    if (s) return s;
    if (!tensor) return nnl_fail(NNL_ERR_FORMAT, "type is not a tensor type");
    if (v->t.dtype == NNL_DT_UNDEFINED) return nnl_fail(NNL_ERR_FORMAT, "no element type");
    if (!shape) {
        v->t.rank = -1;        /* rank unknown: the compiler must be given a shape */
        v->shape_known = false;
    }
    return NNL_OK;
}

/* Name of a ValueInfoProto, and (when typef != NULL) its type field. */
static nnl_status read_value_info(pb_reader *graph, const pb_field *vf, char **name,
                                  pb_reader *msg, pb_field *typef) {
    pb_reader r;
    pb_field f;
    *name = NULL;
    if (typef) memset(typef, 0, sizeof *typef);
    nnl_status s = pb_sub(graph, vf, &r);
    if (s) return s;
    *msg = r;
    while (!(s = pb_next(&r, &f)) && f.num) {
        if (f.num == ONNX_VALUEINFO_NAME) {
            nnl_free(*name);
            *name = NULL;
            if ((s = onnx_string(&f, "value name", name))) break;
        } else if (f.num == ONNX_VALUEINFO_TYPE && typef) {
            if ((s = pb_expect(&f, PB_LEN, "value type"))) break;
            *typef = f;
        }
    }
    if (!s && (!*name || !**name)) s = nnl_fail(NNL_ERR_FORMAT, "value without a name");
    if (s) {
        nnl_free(*name);
        *name = NULL;
    }
    return s;
}

static nnl_status add_input(imp *I, pb_reader *graph, const pb_field *vf, int index) {
    char *name;
    pb_reader msg;
    pb_field tf;
    nnl_status s = read_value_info(graph, vf, &name, &msg, &tf);
    if (s) return nnl_fail_context(s, "graph input #%d: ", index);
    int v = lookup(I, name);
    /* Older exporters also list initializers as inputs: they stay constants. */
    if (v >= 0 && I->m->values[v].kind == NNL_VAL_CONST) {
        nnl_free(name);
        return NNL_OK;
    }
    if (!(s = define(I, name, NNL_VAL_INPUT, &v))) {
        if (!tf.num)
            s = nnl_fail(NNL_ERR_FORMAT, "no type");
        else
            s = read_input_type(&msg, &tf, &I->m->values[v]);
    }
    if (!s) {
        nnl_model *m = I->m;
        int *p = nnl_realloc(m->inputs, (size_t)(m->n_inputs + 1) * sizeof *p);
        if (!p) {
            s = nnl_fail(NNL_ERR_NOMEM, "out of memory");
        } else {
            m->inputs = p;
            m->inputs[m->n_inputs++] = v;
        }
    }
    if (s) nnl_fail_context(s, "graph input '%s': ", name);
    nnl_free(name);
    return s;
}

static nnl_status add_output(imp *I, pb_reader *graph, const pb_field *vf, int index) {
    char *name;
    pb_reader msg;
    nnl_status s = read_value_info(graph, vf, &name, &msg, NULL);
    if (s) return nnl_fail_context(s, "graph output #%d: ", index);
    int v = lookup(I, name);
    if (v < 0) {
        s = nnl_fail(NNL_ERR_FORMAT, "graph output '%s' is not defined by any input, "
                     "initializer or node", name);
    } else {
        nnl_model *m = I->m;
        int *p = nnl_realloc(m->outputs, (size_t)(m->n_outputs + 1) * sizeof *p);
        if (!p) {
            s = nnl_fail(NNL_ERR_NOMEM, "out of memory");
        } else {
            m->outputs = p;
            m->outputs[m->n_outputs++] = v;
            m->values[v].is_output = true;
        }
    }
    nnl_free(name);
    return s;
}

/* ---- initializers and nodes ---------------------------------------------- */

static nnl_status add_initializer(imp *I, pb_reader *graph, const pb_field *f, int index) {
    pb_reader r;
    nnl_tensor t;
    char *name, fallback[32];
    snprintf(fallback, sizeof fallback, "#%d", index);
    nnl_status s = pb_sub(graph, f, &r);
    if (s) return nnl_fail_context(s, "initializer %s: ", fallback);
    if ((s = onnx_decode_tensor(&I->src, &r, "initializer", fallback, &t, &name))) return s;
    int v;
    if (!(s = define(I, name, NNL_VAL_CONST, &v)))
        s = nnl_value_set_const(&I->m->values[v], t.dtype, t.rank, t.dims, t.data, true);
    if (s) {
        nnl_aligned_free(t.data);
        nnl_fail_context(s, "initializer %s: ", *name ? name : fallback);
    }
    nnl_free(name);
    return s;
}

static bool default_domain(const char *d) {
    return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static const char *node_label(const onode *n, int index, char *buf, size_t cap) {
    if (n->name && *n->name) return n->name;
    snprintf(buf, cap, "%s_%d", n->op ? n->op : "node", index);
    return buf;
}

/* Pass 1: define every node's outputs, so inputs can be resolved whatever
 * the node order. */
static nnl_status define_outputs(imp *I, pb_reader *graph, const pb_field *nf, int index) {
    onode n;
    char buf[96];
    nnl_status s = onode_read(&I->src, graph, nf, false, &n);
    if (!s && !default_domain(n.domain))
        s = nnl_fail(NNL_ERR_UNSUPPORTED, "operator domain '%s' is not supported (only ai.onnx)",
                     n.domain);
    if (!s && I->no_opset)
        s = nnl_fail(NNL_ERR_FORMAT, "the model imports no ai.onnx opset");
    bool constant = !s && strcmp(n.op, "Constant") == 0;
    if (constant) {
        onode_clear(&n);
        /* Constants need their attributes now. */
        s = onode_read(&I->src, graph, nf, true, &n);
        int v = -1;
        if (!s && n.n_out != 1)
            s = nnl_fail(NNL_ERR_FORMAT, "Constant node has %d outputs", n.n_out);
        if (!s) s = define(I, n.out[0], NNL_VAL_CONST, &v);
        if (!s) s = onode_constant(&n, &I->m->values[v]);
    }
    for (int i = 0; !s && !constant && i < n.n_out; i++) {
        int v;
        if (*n.out[i]) s = define(I, n.out[i], NNL_VAL_ACT, &v);
    }
    if (s) nnl_fail_context(s, "node '%s' (%s): ", node_label(&n, index, buf, sizeof buf),
                            n.op ? n.op : "no op_type");
    onode_clear(&n);
    return s;
}

/* Pass 2: the node itself. */
static nnl_status add_node(imp *I, pb_reader *graph, const pb_field *nf, int index) {
    onode n;
    char buf[96];
    int *in = NULL, *out = NULL;
    nnl_status s = onode_read(&I->src, graph, nf, true, &n);
    const char *label = node_label(&n, index, buf, sizeof buf);
    if (!s && strcmp(n.op, "Constant") == 0) {
        onode_clear(&n);
        return NNL_OK;
    }
    if (!s) {
        in = nnl_malloc((size_t)(n.n_in ? n.n_in : 1) * sizeof *in);
        out = nnl_malloc((size_t)(n.n_out ? n.n_out : 1) * sizeof *out);
        if (!in || !out) s = nnl_fail(NNL_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; !s && i < n.n_in; i++) {
        in[i] = *n.in[i] ? lookup(I, n.in[i]) : -1;
        if (*n.in[i] && in[i] < 0)
            s = nnl_fail(NNL_ERR_FORMAT, "input '%s' is not defined by any graph input, "
                         "initializer or node", n.in[i]);
    }
    int n_out = n.n_out;
    while (n_out > 0 && !*n.out[n_out - 1]) n_out--;
    for (int i = 0; !s && i < n_out; i++) out[i] = *n.out[i] ? lookup(I, n.out[i]) : -1;
    if (!s && nnl_model_add_node(I->m, n.op, label, in, n.n_in, out, n_out, n.attrs,
                                 n.n_attrs) < 0)
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory");
    if (s) nnl_fail_context(s, "node '%s' (%s): ", label, n.op ? n.op : "no op_type");
    nnl_free(in);
    nnl_free(out);
    onode_clear(&n);
    return s;
}

/* ---- graph --------------------------------------------------------------- */

typedef nnl_status (*field_fn)(imp *, pb_reader *, const pb_field *, int);

/* Run fn over every field number num of the graph, in file order. */
static nnl_status each(imp *I, pb_reader *graph, uint32_t num, field_fn fn) {
    pb_reader r = *graph;
    pb_field f;
    nnl_status s;
    int index = 0;
    while (!(s = pb_next(&r, &f)) && f.num) {
        if (f.num != num) continue;
        if (index == INT_MAX) return nnl_fail(NNL_ERR_FORMAT, "too many graph elements");
        if ((s = fn(I, graph, &f, index++))) return s;
    }
    return s;
}

static nnl_status read_graph(imp *I, pb_reader *g) {
    pb_reader r = *g;
    pb_field f;
    nnl_status s;
    /* Check every graph field's wire type once, so the passes below can
     * assume the message is well formed. */
    while (!(s = pb_next(&r, &f)) && f.num) {
        switch (f.num) {
        case ONNX_GRAPH_NAME:
            nnl_free(I->m->graph_name);
            I->m->graph_name = NULL;
            if ((s = onnx_string(&f, "graph name", &I->m->graph_name))) return s;
            break;
        case ONNX_GRAPH_SPARSE_INITIALIZER:
            return nnl_fail(NNL_ERR_UNSUPPORTED, "sparse initializers are not supported");
        case ONNX_GRAPH_NODE: case ONNX_GRAPH_INITIALIZER: case ONNX_GRAPH_INPUT:
        case ONNX_GRAPH_OUTPUT:
            if ((s = pb_expect(&f, PB_LEN, "graph element"))) return s;
            break;
        default:
            break;
        }
    }
    if (s) return s;
    if ((s = each(I, g, ONNX_GRAPH_INITIALIZER, add_initializer))) return s;
    if ((s = each(I, g, ONNX_GRAPH_INPUT, add_input))) return s;
    if ((s = each(I, g, ONNX_GRAPH_NODE, define_outputs))) return s;
    if ((s = each(I, g, ONNX_GRAPH_NODE, add_node))) return s;
    if ((s = each(I, g, ONNX_GRAPH_OUTPUT, add_output))) return s;
    if (I->m->n_outputs == 0) return nnl_fail(NNL_ERR_FORMAT, "graph has no outputs");
    return NNL_OK;
}

/* ---- model ------------------------------------------------------------- */

/* Wire type each ModelProto field must have (0 for unknown fields, which
 * a newer writer may add and are skipped). */
static int model_field_wire(uint32_t num) {
    switch (num) {
    case ONNX_MODEL_IR_VERSION: case ONNX_MODEL_MODEL_VERSION: return PB_VARINT + 1;
    case ONNX_MODEL_PRODUCER_NAME: case ONNX_MODEL_PRODUCER_VERSION: case ONNX_MODEL_DOMAIN:
    case ONNX_MODEL_DOC_STRING: case ONNX_MODEL_GRAPH: case ONNX_MODEL_OPSET_IMPORT:
    case ONNX_MODEL_METADATA_PROPS: case ONNX_MODEL_TRAINING_INFO: case ONNX_MODEL_FUNCTIONS:
        return PB_LEN + 1;
    default: return 0;
    }
}

static nnl_status read_opset(pb_reader *model, const pb_field *f, int64_t *opset) {
    pb_reader r;
    pb_field g;
    char *domain = NULL;
    int64_t version = -1;
    nnl_status s = pb_sub(model, f, &r);
    while (!s && !(s = pb_next(&r, &g)) && g.num) {
        if (g.num == ONNX_OPSET_DOMAIN) {
            nnl_free(domain);
            s = onnx_string(&g, "opset domain", &domain);
        } else if (g.num == ONNX_OPSET_VERSION) {
            if (!(s = pb_expect(&g, PB_VARINT, "opset version"))) version = (int64_t)g.u;
        }
    }
    if (!s && default_domain(domain)) {
        if (version < 1)
            s = nnl_fail(NNL_ERR_FORMAT, "invalid ai.onnx opset version %lld", (long long)version);
        else
            *opset = version;
    }
    nnl_free(domain);
    return s;
}

/* First look at the model message.  A wire error or a known field of the
 * wrong kind before any good field means the file is not ONNX at all. */
static nnl_status scan_model(const char *path, const onnx_map *map, pb_reader *top,
                             pb_field *graph, int64_t *opset) {
    pb_reader r = *top;
    pb_field f;
    nnl_status s;
    bool any = false, ir = false;
    memset(graph, 0, sizeof *graph);
    if (map->size == 0)
        return nnl_fail(NNL_ERR_FORMAT, "%s is not an ONNX model: empty file", path);
    while (!(s = pb_next(&r, &f)) && f.num) {
        int want = model_field_wire(f.num);
        if (want && (int)f.wire != want - 1) {
            s = nnl_fail(NNL_ERR_FORMAT, "field %u at offset %zu has the wrong wire type", f.num,
                         f.offset);
            break;
        }
        if (f.num == ONNX_MODEL_IR_VERSION) ir = true;
        if (f.num == ONNX_MODEL_GRAPH) {
            if (graph->num) {
                s = nnl_fail(NNL_ERR_FORMAT, "more than one graph at offset %zu", f.offset);
                break;
            }
            *graph = f;
        }
        if (f.num == ONNX_MODEL_OPSET_IMPORT && (s = read_opset(top, &f, opset))) break;
        any |= want != 0;
    }
    if (s) {
        if (!any) return nnl_fail_context(s, "%s is not an ONNX model: ", path);
        return nnl_fail_context(s, "%s: corrupt or truncated ONNX model: ", path);
    }
    if (!ir || !graph->num)
        return nnl_fail(NNL_ERR_FORMAT, "%s is not an ONNX model: no %s", path,
                        !ir ? "ir_version" : "graph");
    return NNL_OK;
}

nnl_status nnl_onnx_load(const char *path, nnl_model **out) {
    if (!path || !out) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_onnx_load: NULL argument");
    *out = NULL;
    onnx_map map;
    nnl_status s = onnx_map_file(path, &map);
    if (s) return s;
    imp I;
    memset(&I, 0, sizeof I);
    I.src.path = path;
    char *dir = onnx_dirname(path);
    I.src.dir = dir;
    I.m = nnl_model_new();
    if (!dir || !I.m) {
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory loading %s", path);
        goto done;
    }
    pb_reader top, g;
    pb_field gf;
    int64_t opset = -1;
    pb_init(&top, map.data, map.size);
    if ((s = scan_model(path, &map, &top, &gf, &opset))) goto done;
    /* Without an ai.onnx import only nodes of other domains could be valid;
     * those are refused by name, so that message comes first. */
    if (opset > 0) I.m->opset = opset;
    else I.no_opset = true;
    if ((s = pb_sub(&top, &gf, &g)) || (s = read_graph(&I, &g))) {
        nnl_fail_context(s, "%s: ", path);
        goto done;
    }
    *out = I.m;
    I.m = NULL;
done:
    nnl_model_free(I.m);
    nnl_free(I.slot);
    nnl_free(dir);
    onnx_unmap(&map);
    return s;
}
