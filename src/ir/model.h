/*
 * The model: mutable graph IR used while compiling.
 *
 * Values (tensors) and nodes live in growable arrays and are referred to by
 * index.  Passes mark nodes dead instead of deleting them; nnl_model_compact
 * drops dead nodes and unused values.  A value is either a graph input, a
 * constant (data owned by the model), or produced by exactly one node.
 */
#ifndef NNL_MODEL_H
#define NNL_MODEL_H

#include "core/core.h"

typedef enum nnl_value_kind {
    NNL_VAL_ACT = 0,           /* produced by a node */
    NNL_VAL_INPUT = 1,         /* graph input */
    NNL_VAL_CONST = 2          /* initializer or folded constant */
} nnl_value_kind;

typedef struct nnl_value {
    char *name;
    nnl_value_kind kind;
    nnl_tensor t;              /* dtype/shape; t.data owned for constants */
    bool shape_known;          /* false for dynamic dims before shape inference */
    char *dim_param[NNL_MAX_RANK]; /* ONNX names of dynamic dims (dims[i] == -1), owned, may be NULL */
    bool is_output;            /* a graph output */
    int producer;              /* node index, -1 if none */
    /* arena plan (activations and inputs/outputs) */
    int64_t arena_offset;
} nnl_value;

typedef struct nnl_node {
    char *op;
    char *name;                /* ONNX node name(s); fused nodes join names with '+' */
    int *in;                   /* value indices, -1 = omitted optional input */
    int n_in;
    int *out;
    int n_out;
    nnl_attr *attrs;           /* names, strings and arrays owned by the node */
    int n_attrs;
    bool dead;
    nnl_infer_result info;     /* filled by shape inference */
} nnl_node;

typedef struct nnl_model {
    char *graph_name;
    nnl_value *values;
    int n_values, cap_values;
    nnl_node *nodes;
    int n_nodes, cap_nodes;
    int *inputs;               /* graph input value indices, in order */
    int n_inputs;
    int *outputs;              /* graph output value indices, in order */
    int n_outputs;
    int64_t opset;
    uint64_t arena_bytes;      /* set by the arena planner */
    uint64_t scratch_offset;   /* op scratch region inside the arena */
    bool winograd;             /* compile option: Winograd weights for 3x3 convs */
    int weights;               /* compile option: NNL_WEIGHTS_* (passes/half_weights.c) */
} nnl_model;

nnl_model *nnl_model_new(void);
void nnl_model_free(nnl_model *m);

/* Add a value; returns its index or -1 on allocation failure.  name is
 * copied. */
int nnl_model_add_value(nnl_model *m, const char *name, nnl_value_kind kind);
/* Find a value by name, -1 if none. */
int nnl_model_find_value(const nnl_model *m, const char *name);
/* Add a node; in/out arrays and strings are copied, attrs are deep-copied.
 * Returns node index or -1. */
int nnl_model_add_node(nnl_model *m, const char *op, const char *name,
                       const int *in, int n_in, const int *out, int n_out,
                       const nnl_attr *attrs, int n_attrs);
/* Deep copy of an attribute into dst (for node construction). */
nnl_status nnl_attr_copy(nnl_attr *dst, const nnl_attr *src);
void nnl_attr_clear(nnl_attr *a);
/* n strings and their pointers in one nnl_malloc block (free it whole), or
 * NULL when out of memory. */
const char *const *nnl_strings_dup(const char *const *src, int n);
/* Set/replace an int/float/ints attribute on a node. */
nnl_status nnl_node_set_attr_int(nnl_node *n, const char *name, int64_t v);
nnl_status nnl_node_set_attr_float(nnl_node *n, const char *name, float v);
nnl_status nnl_node_set_attr_str(nnl_node *n, const char *name, const char *s);
nnl_status nnl_node_set_attr_ints(nnl_node *n, const char *name, const int64_t *v, int count);
const nnl_attr *nnl_node_attr(const nnl_node *n, const char *name);

/* Replace every use of value `from` (node inputs and graph outputs) by `to`. */
void nnl_model_replace_uses(nnl_model *m, int from, int to);
/* Number of live nodes that read value v (graph outputs count as one). */
int nnl_model_use_count(const nnl_model *m, int v);
/* Recompute producer links; drop dead nodes and values nothing refers to. */
nnl_status nnl_model_compact(nnl_model *m);
/* Sort live nodes topologically; fails on cycles. */
nnl_status nnl_model_toposort(nnl_model *m);
/* Make a constant value owning a copy (or taking ownership when take=true)
 * of data. */
nnl_status nnl_value_set_const(nnl_value *v, nnl_dtype dt, int rank, const int64_t *dims,
                               void *data, bool take);

#endif
