/*
 * NodeProto and AttributeProto decoding: one node's strings and attributes
 * into the form nnl_model_add_node takes, and Constant nodes into values.
 */
#include <limits.h>
#include <string.h>

#include "onnx/onnx_node.h"

void onode_clear(onode *n) {
    nnl_free(n->op);
    nnl_free(n->name);
    nnl_free(n->domain);
    for (int i = 0; i < n->n_in; i++) nnl_free(n->in[i]);
    for (int i = 0; i < n->n_out; i++) nnl_free(n->out[i]);
    nnl_free(n->in);
    nnl_free(n->out);
    for (int i = 0; i < n->n_attrs; i++) nnl_attr_clear(&n->attrs[i]);
    nnl_free(n->attrs);
    memset(n, 0, sizeof *n);
}

/* Append a copied string field to a growing list. */
static nnl_status push_string(const pb_field *f, const char *what, char ***list, int *n) {
    if (*n == INT_MAX) return nnl_fail(NNL_ERR_FORMAT, "too many %ss", what);
    char *s;
    nnl_status st = onnx_string(f, what, &s);
    if (st) return st;
    char **p = nnl_realloc(*list, (size_t)(*n + 1) * sizeof *p);
    if (!p) {
        nnl_free(s);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    }
    p[(*n)++] = s;
    *list = p;
    return NNL_OK;
}

static const char *attr_type_name(int64_t t) {
    switch (t) {
    case ONNX_AT_GRAPH: return "GRAPH";
    case ONNX_AT_GRAPHS: return "GRAPHS";
    case ONNX_AT_SPARSE_TENSOR: return "SPARSE_TENSOR";
    case ONNX_AT_SPARSE_TENSORS: return "SPARSE_TENSORS";
    case ONNX_AT_TYPE_PROTO: return "TYPE_PROTO";
    case ONNX_AT_TYPE_PROTOS: return "TYPE_PROTOS";
    case ONNX_AT_STRINGS: return "STRINGS";
    case ONNX_AT_TENSORS: return "TENSORS";
    default: return NULL;
    }
}

/* Fill a->ints or a->floats from every occurrence of field num (packed or
 * not); count was established by the first pass. */
static nnl_status fill_list(pb_reader *msg, uint32_t num, pb_wire w, size_t count, nnl_attr *a) {
    void *arr = nnl_malloc((count ? count : 1) * (w == PB_I32 ? sizeof(float) : sizeof(int64_t)));
    if (!arr) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    pb_reader r = *msg;
    pb_field f;
    pb_scalars it;
    uint64_t v;
    size_t i = 0;
    while (pb_next(&r, &f) == NNL_OK && f.num) {
        if (f.num != num || pb_scalars_begin(&f, w, "", &it)) continue;
        while (i < count && pb_scalars_next(&it, &v)) {
            if (w == PB_I32) ((float *)arr)[i++] = pb_as_float(v);
            else ((int64_t *)arr)[i++] = (int64_t)v;
        }
    }
    if (w == PB_I32) a->floats = arr;
    else a->ints = arr;
    a->n = (int)count;
    return NNL_OK;
}

/* The count strings of field ONNX_ATTR_STRINGS, copied into one block. */
static nnl_status fill_strings(pb_reader *msg, size_t count, nnl_attr *a) {
    char **tmp = nnl_calloc(count ? count : 1, sizeof *tmp);
    if (!tmp) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    pb_reader r = *msg;
    pb_field f;
    size_t i = 0;
    nnl_status s = NNL_OK;
    while (!s && i < count && pb_next(&r, &f) == NNL_OK && f.num)
        if (f.num == ONNX_ATTR_STRINGS) s = onnx_string(&f, "attribute strings", &tmp[i++]);
    if (!s) {
        a->strs = nnl_strings_dup((const char *const *)tmp, (int)count);
        if (!a->strs) s = nnl_fail(NNL_ERR_NOMEM, "out of memory");
        a->n = (int)count;
    }
    for (size_t k = 0; k < count; k++) nnl_free(tmp[k]);
    nnl_free(tmp);
    return s;
}

static nnl_status read_attr(const onnx_src *src, pb_reader *parent, const pb_field *af,
                            nnl_attr *a) {
    pb_reader r;
    pb_field f, tf = {0};
    nnl_status s = pb_sub(parent, af, &r);
    if (s) return s;
    pb_reader msg = r;
    int64_t type = ONNX_AT_UNDEFINED;
    size_t n_floats = 0, n_ints = 0, n_strings = 0;
    bool has_s = false, ref = false;
    pb_field sf = {0};
    pb_scalars it;
    char *name = NULL;
    while (!(s = pb_next(&r, &f)) && f.num) {
        switch (f.num) {
        case ONNX_ATTR_NAME:
            nnl_free(name);
            s = onnx_string(&f, "attribute name", &name);
            break;
        case ONNX_ATTR_TYPE:
            if (!(s = pb_expect(&f, PB_VARINT, "attribute type"))) type = (int64_t)f.u;
            break;
        case ONNX_ATTR_F:
            if (!(s = pb_expect(&f, PB_I32, "attribute f"))) a->f = pb_as_float(f.u);
            break;
        case ONNX_ATTR_I:
            if (!(s = pb_expect(&f, PB_VARINT, "attribute i"))) a->i = (int64_t)f.u;
            break;
        case ONNX_ATTR_S:
            if (!(s = pb_expect(&f, PB_LEN, "attribute s"))) {
                sf = f;
                has_s = true;
            }
            break;
        case ONNX_ATTR_T:
            if (!(s = pb_expect(&f, PB_LEN, "attribute t"))) tf = f;
            break;
        case ONNX_ATTR_FLOATS:
            if (!(s = pb_scalars_begin(&f, PB_I32, "attribute floats", &it))) n_floats += it.count;
            break;
        case ONNX_ATTR_INTS:
            if (!(s = pb_scalars_begin(&f, PB_VARINT, "attribute ints", &it))) n_ints += it.count;
            break;
        case ONNX_ATTR_STRINGS:
            if (!(s = pb_expect(&f, PB_LEN, "attribute strings"))) n_strings++;
            break;
        case ONNX_ATTR_REF_ATTR_NAME:
            ref = true;
            break;
        default:
            break;             /* doc_string, and values of types refused below */
        }
        if (s) break;
    }
    a->name = name;
    if (s) return s;
    if (!name || !*name) return nnl_fail(NNL_ERR_FORMAT, "attribute without a name");
    if (strncmp(name, "nnl_", 4) == 0)
        return nnl_fail(NNL_ERR_FORMAT, "attribute '%s': names starting with nnl_ are reserved "
                        "for nnlink's own use", name);
    if (ref)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "attribute '%s' refers to a function attribute, "
                        "which is only valid inside functions", name);
    switch (type) {
    case ONNX_AT_FLOAT:
        a->type = NNL_ATTR_FLOAT;
        return NNL_OK;
    case ONNX_AT_INT:
        a->type = NNL_ATTR_INT;
        return NNL_OK;
    case ONNX_AT_STRING: {
        a->type = NNL_ATTR_STRING;
        char *str;
        if (!has_s) str = nnl_strdup("");
        else if ((s = onnx_string(&sf, "string attribute", &str)))
            return nnl_fail_context(s, "attribute '%s': ", name);
        if (!str) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
        a->s = str;
        return NNL_OK;
    }
    case ONNX_AT_FLOATS:
    case ONNX_AT_INTS: {
        bool fl = type == ONNX_AT_FLOATS;
        size_t count = fl ? n_floats : n_ints;
        if (count > INT_MAX)
            return nnl_fail(NNL_ERR_FORMAT, "attribute '%s' has too many values", name);
        a->type = fl ? NNL_ATTR_FLOATS : NNL_ATTR_INTS;
        return fill_list(&msg, fl ? ONNX_ATTR_FLOATS : ONNX_ATTR_INTS, fl ? PB_I32 : PB_VARINT,
                         count, a);
    }
    case ONNX_AT_STRINGS:
        if (n_strings > 65536)
            return nnl_fail(NNL_ERR_FORMAT, "attribute '%s' has too many strings", name);
        a->type = NNL_ATTR_STRINGS;
        if ((s = fill_strings(&msg, n_strings, a))) return nnl_fail_context(s, "attribute '%s': ", name);
        return NNL_OK;
    case ONNX_AT_TENSOR: {
        a->type = NNL_ATTR_TENSOR;
        if (!tf.num) return nnl_fail(NNL_ERR_FORMAT, "tensor attribute '%s' holds no tensor", name);
        nnl_tensor *t = nnl_calloc(1, sizeof *t);
        if (!t) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
        pb_reader tr;
        if (!(s = pb_sub(&msg, &tf, &tr)))
            s = onnx_decode_tensor(src, &tr, "tensor", "(unnamed)", t, NULL);
        if (s) {
            nnl_free(t);
            return nnl_fail_context(s, "attribute '%s': ", name);
        }
        a->t = t;
        return NNL_OK;
    }
    case ONNX_AT_UNDEFINED:
        return nnl_fail(NNL_ERR_FORMAT, "attribute '%s' has no type", name);
    default: {
        const char *tn = attr_type_name(type);
        if (tn)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "attribute '%s' has type %s, which nnlink does "
                            "not support", name, tn);
        return nnl_fail(NNL_ERR_FORMAT, "attribute '%s' has unknown type %lld", name,
                        (long long)type);
    }
    }
}

nnl_status onode_read(const onnx_src *src, pb_reader *graph, const pb_field *nf, bool attrs,
                      onode *n) {
    memset(n, 0, sizeof *n);
    pb_reader r;
    pb_field f;
    nnl_status s = pb_sub(graph, nf, &r);
    if (s) return s;
    pb_reader msg = r;
    int n_attr_fields = 0;
    while (!(s = pb_next(&r, &f)) && f.num) {
        switch (f.num) {
        case ONNX_NODE_INPUT: s = push_string(&f, "node input", &n->in, &n->n_in); break;
        case ONNX_NODE_OUTPUT: s = push_string(&f, "node output", &n->out, &n->n_out); break;
        case ONNX_NODE_NAME:
            nnl_free(n->name);
            s = onnx_string(&f, "node name", &n->name);
            break;
        case ONNX_NODE_OP_TYPE:
            nnl_free(n->op);
            s = onnx_string(&f, "op_type", &n->op);
            break;
        case ONNX_NODE_DOMAIN:
            nnl_free(n->domain);
            s = onnx_string(&f, "node domain", &n->domain);
            break;
        case ONNX_NODE_ATTRIBUTE:
            if (!(s = pb_expect(&f, PB_LEN, "node attribute"))) n_attr_fields++;
            break;
        default:
            break;
        }
        if (s) return s;
    }
    if (s) return s;
    if (!n->op || !*n->op) return nnl_fail(NNL_ERR_FORMAT, "node has no op_type");
    if (!attrs || !n_attr_fields) return NNL_OK;
    n->attrs = nnl_calloc((size_t)n_attr_fields, sizeof *n->attrs);
    if (!n->attrs) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    r = msg;
    while (!(s = pb_next(&r, &f)) && f.num) {
        if (f.num != ONNX_NODE_ATTRIBUTE) continue;
        s = read_attr(src, &msg, &f, &n->attrs[n->n_attrs++]);
        if (s) return s;
        const char *an = n->attrs[n->n_attrs - 1].name;
        for (int i = 0; i < n->n_attrs - 1; i++)
            if (strcmp(n->attrs[i].name, an) == 0)
                return nnl_fail(NNL_ERR_FORMAT, "attribute '%s' appears twice", an);
    }
    return s;
}

nnl_status onode_constant(onode *n, nnl_value *v) {
    if (n->n_in != 0) return nnl_fail(NNL_ERR_FORMAT, "Constant node has inputs");
    if (n->n_attrs != 1)
        return nnl_fail(NNL_ERR_FORMAT, "Constant node has %d attributes, expected exactly one",
                        n->n_attrs);
    nnl_attr *a = &n->attrs[0];
    int64_t len = a->n;
    struct { const char *name; nnl_attr_type type; } known[] = {
        {"value", NNL_ATTR_TENSOR}, {"value_float", NNL_ATTR_FLOAT},
        {"value_floats", NNL_ATTR_FLOATS}, {"value_int", NNL_ATTR_INT},
        {"value_ints", NNL_ATTR_INTS}};
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        if (strcmp(a->name, known[k].name) != 0) continue;
        if (a->type != known[k].type)
            return nnl_fail(NNL_ERR_FORMAT, "Constant attribute '%s' has the wrong type", a->name);
        switch (a->type) {
        case NNL_ATTR_TENSOR: {
            nnl_status s = nnl_value_set_const(v, a->t->dtype, a->t->rank, a->t->dims,
                                               a->t->data, true);
            /* read_attr allocated this tensor; its data now belongs to the model. */
            if (s == NNL_OK) ((nnl_tensor *)a->t)->data = NULL;
            return s;
        }
        case NNL_ATTR_FLOAT: return nnl_value_set_const(v, NNL_DT_FLOAT, 0, NULL, &a->f, false);
        case NNL_ATTR_INT: return nnl_value_set_const(v, NNL_DT_INT64, 0, NULL, &a->i, false);
        case NNL_ATTR_FLOATS: {
            float none = 0;    /* a valid pointer for an empty list */
            void *d = a->n ? (void *)a->floats : &none;
            return nnl_value_set_const(v, NNL_DT_FLOAT, 1, &len, d, false);
        }
        case NNL_ATTR_INTS: {
            int64_t none = 0;
            void *d = a->n ? (void *)a->ints : &none;
            return nnl_value_set_const(v, NNL_DT_INT64, 1, &len, d, false);
        }
        default: break;
        }
    }
    return nnl_fail(NNL_ERR_UNSUPPORTED, "Constant attribute '%s' is not supported", a->name);
}
