/*
 * ONNX importer tests.
 *
 * Real files: ONNX conformance models (expected op types, attributes,
 * shapes and data were read once with the onnx Python package and are
 * written here).  Edge cases: models this file encodes itself with a small
 * protobuf writer (independent of the importer's reader; field numbers
 * typed from onnx.proto here, not shared with the importer).  Robustness:
 * every truncation of a small model, random byte flips and allocation
 * failures must fail cleanly (run under `make SAN=1` for ASan/UBSan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/onnx_import.h"
#include "onnx/pb.h"
#include "test_util.h"


/* The conformance cases live in shared/, beside the repo (CI's layout) or
 * at /work/shared; NNL_CONFORMANCE_DIR overrides.  Tests that need them
 * are skipped, not passed, without them. */
static char conf_dir[512];

static void find_conformance(void) {
    const char *env = getenv("NNL_CONFORMANCE_DIR");
    const char *cands[] = {env, "../shared/onnx-conformance", "/work/shared/onnx-conformance"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        char probe[600];
        if (!cands[i]) continue;
        snprintf(probe, sizeof probe, "%s/node/test_conv_with_strides_padding/model.onnx",
                 cands[i]);
        if (access(probe, R_OK) == 0) {
            snprintf(conf_dir, sizeof conf_dir, "%s", cands[i]);
            return;
        }
    }
}

/* Path of a conformance file; a few calls' results may be live at once. */
static const char *C(const char *rel) {
    static char ring[4][700];
    static int next;
    char *p = ring[next++ & 3];
    snprintf(p, sizeof ring[0], "%s%s", conf_dir, rel);
    return p;
}

#define NEED_CONF() do { if (!conf_dir[0]) { skip(); return; } } while (0)

static nnl_model *load_ok(const char *path) {
    nnl_model *m = NULL;
    nnl_status s = nnl_onnx_load(path, &m);
    if (s != NNL_OK) fail_msg("loading %s: %s", path, nnl_last_error());
    assert_non_null(m);
    return m;
}

static int value_named(const nnl_model *m, const char *name) {
    int v = nnl_model_find_value(m, name);
    if (v < 0) fail_msg("no value '%s'", name);
    return v;
}

static const nnl_attr *attr_of(const nnl_node *n, const char *name, nnl_attr_type type) {
    const nnl_attr *a = nnl_node_attr(n, name);
    if (!a) fail_msg("node %s has no attribute %s", n->name, name);
    assert_int_equal(a->type, type);
    return a;
}

static void assert_ints(const nnl_attr *a, const int64_t *want, int n) {
    assert_int_equal(a->n, n);
    for (int i = 0; i < n; i++) assert_int_equal(a->ints[i], want[i]);
}

static void assert_dims(const nnl_tensor *t, const int64_t *want, int rank) {
    assert_int_equal(t->rank, rank);
    for (int i = 0; i < rank; i++) assert_int_equal(t->dims[i], want[i]);
}

static void assert_err_contains(const char *needle) {
    if (!strstr(nnl_last_error(), needle))
        fail_msg("error '%s' does not mention '%s'", nnl_last_error(), needle);
}

static void expect_fail(const char *path, nnl_status want, const char *needle) {
    nnl_model *m = (nnl_model *)1;
    nnl_status s = nnl_onnx_load(path, &m);
    if (s != want)
        fail_msg("%s: status %d (%s), expected %d", path, s, nnl_last_error(), want);
    assert_null(m);
    if (needle) assert_err_contains(needle);
}

/* ---- conformance models ------------------------------------------------ */

static void test_conv(void **st) {
    (void)st;
    NEED_CONF();
    nnl_model *m = load_ok(C("/node/test_conv_with_strides_padding/model.onnx"));
    assert_int_equal(m->opset, 11);
    assert_string_equal(m->graph_name, "test_conv_with_strides_padding");
    assert_int_equal(m->n_inputs, 2);
    const nnl_value *x = &m->values[m->inputs[0]], *w = &m->values[m->inputs[1]];
    assert_string_equal(x->name, "x");
    assert_string_equal(w->name, "W");
    assert_int_equal(x->kind, NNL_VAL_INPUT);
    assert_int_equal(x->t.dtype, NNL_DT_FLOAT);
    assert_true(x->shape_known);
    assert_dims(&x->t, (int64_t[]){1, 1, 7, 5}, 4);
    assert_dims(&w->t, (int64_t[]){1, 1, 3, 3}, 4);
    assert_int_equal(m->n_nodes, 1);
    const nnl_node *n = &m->nodes[0];
    assert_string_equal(n->op, "Conv");
    assert_string_equal(n->name, "Conv_0");
    assert_int_equal(n->n_in, 2);
    assert_int_equal(n->in[0], m->inputs[0]);
    assert_int_equal(n->in[1], m->inputs[1]);
    assert_int_equal(n->n_out, 1);
    assert_int_equal(n->n_attrs, 3);
    assert_ints(attr_of(n, "kernel_shape", NNL_ATTR_INTS), (int64_t[]){3, 3}, 2);
    assert_ints(attr_of(n, "pads", NNL_ATTR_INTS), (int64_t[]){1, 1, 1, 1}, 4);
    assert_ints(attr_of(n, "strides", NNL_ATTR_INTS), (int64_t[]){2, 2}, 2);
    assert_int_equal(m->n_outputs, 1);
    assert_int_equal(m->outputs[0], n->out[0]);
    const nnl_value *y = &m->values[n->out[0]];
    assert_string_equal(y->name, "y");
    assert_true(y->is_output);
    assert_int_equal(y->kind, NNL_VAL_ACT);
    assert_int_equal(y->producer, 0);
    nnl_model_free(m);
}

static void test_constant_node(void **st) {
    (void)st;
    NEED_CONF();
    nnl_model *m = load_ok(C("/node/test_constant/model.onnx"));
    assert_int_equal(m->n_nodes, 0);
    assert_int_equal(m->n_inputs, 0);
    assert_int_equal(m->n_outputs, 1);
    const nnl_value *v = &m->values[m->outputs[0]];
    assert_string_equal(v->name, "values");
    assert_int_equal(v->kind, NNL_VAL_CONST);
    assert_true(v->is_output);
    assert_int_equal(v->t.dtype, NNL_DT_FLOAT);
    assert_dims(&v->t, (int64_t[]){5, 5}, 2);
    assert_int_equal((uintptr_t)v->t.data % 64, 0);
    const float *d = v->t.data;
    /* The file stores these as float_data; values from numpy_helper. */
    assert_true(d[0] == 1.764052391052246f);
    assert_true(d[1] == 0.40015721321105957f);
    assert_true(d[5] == -0.9772778749465942f);
    assert_true(d[24] == 2.269754648208618f);
    /* The conformance output is the same tensor stored as raw_data. */
    nnl_tensor t;
    char *name;
    assert_int_equal(nnl_onnx_load_tensor(C("/node/test_constant/test_data_set_0/output_0.pb"),
                                          &t, &name), NNL_OK);
    assert_string_equal(name, "values");
    assert_dims(&t, (int64_t[]){5, 5}, 2);
    assert_memory_equal(t.data, d, 25 * sizeof(float));
    nnl_aligned_free(t.data);
    nnl_free(name);
    nnl_model_free(m);
}

static void test_tensor_attr_and_floats(void **st) {
    (void)st;
    NEED_CONF();
    nnl_model *m = load_ok(C("/node/test_constantofshape_float_ones/model.onnx"));
    assert_int_equal(m->opset, 9);
    assert_int_equal(m->values[m->inputs[0]].t.dtype, NNL_DT_INT64);
    const nnl_attr *a = attr_of(&m->nodes[0], "value", NNL_ATTR_TENSOR);
    assert_int_equal(a->t->dtype, NNL_DT_FLOAT);
    assert_dims(a->t, (int64_t[]){1}, 1);
    assert_true(((const float *)a->t->data)[0] == 1.0f);
    nnl_model_free(m);

    m = load_ok(C("/node/test_gemm_all_attributes/model.onnx"));
    const nnl_node *n = &m->nodes[0];
    assert_string_equal(n->op, "Gemm");
    assert_int_equal(n->n_in, 3);
    assert_true(attr_of(n, "alpha", NNL_ATTR_FLOAT)->f == 0.25f);
    assert_true(attr_of(n, "beta", NNL_ATTR_FLOAT)->f == 0.35f);
    assert_int_equal(attr_of(n, "transA", NNL_ATTR_INT)->i, 1);
    assert_int_equal(attr_of(n, "transB", NNL_ATTR_INT)->i, 1);
    assert_dims(&m->values[m->inputs[2]].t, (int64_t[]){1, 5}, 2);
    nnl_model_free(m);
}

static void test_optional_inputs_outputs(void **st) {
    (void)st;
    NEED_CONF();
    nnl_model *m = load_ok(C("/node/test_resize_downsample_scales_cubic/model.onnx"));
    const nnl_node *n = &m->nodes[0];
    assert_int_equal(n->n_in, 3);
    assert_int_equal(n->in[0], value_named(m, "X"));
    assert_int_equal(n->in[1], -1);
    assert_int_equal(n->in[2], value_named(m, "scales"));
    assert_string_equal(attr_of(n, "mode", NNL_ATTR_STRING)->s, "cubic");
    nnl_model_free(m);

    /* LSTM outputs ['', 'Y_h']: the omitted Y stays a hole. */
    m = load_ok(C("/node/test_lstm_defaults/model.onnx"));
    n = &m->nodes[0];
    assert_int_equal(n->n_out, 2);
    assert_int_equal(n->out[0], -1);
    assert_int_equal(n->out[1], value_named(m, "Y_h"));
    assert_int_equal(attr_of(n, "hidden_size", NNL_ATTR_INT)->i, 3);
    nnl_model_free(m);

    m = load_ok(C("/node/test_dropout_default_mask/model.onnx"));
    assert_int_equal(m->nodes[0].n_out, 2);
    assert_int_equal(m->n_outputs, 2);
    assert_string_equal(m->values[m->outputs[1]].name, "z");
    nnl_model_free(m);
}

static void test_simple_models(void **st) {
    (void)st;
    NEED_CONF();
    nnl_model *m = load_ok(C("/simple/test_single_relu_model/model.onnx"));
    assert_string_equal(m->graph_name, "SingleRelu");
    assert_int_equal(m->n_nodes, 1);
    assert_string_equal(m->nodes[0].name, "test");
    assert_string_equal(m->nodes[0].op, "Relu");
    assert_dims(&m->values[m->inputs[0]].t, (int64_t[]){1, 2}, 2);
    nnl_model_free(m);

    /* Sequence ops are default-domain ops: the importer takes them and the
     * compiler refuses them later. */
    m = load_ok(C("/simple/test_sequence_model1/model.onnx"));
    assert_int_equal(m->n_nodes, 5);
    assert_string_equal(m->nodes[0].op, "SequenceEmpty");
    assert_int_equal(m->nodes[0].n_in, 0);
    /* pos and pos_at are graph inputs with initializers: constants (the
     * case's data set feeds only X, Y and Z). */
    assert_int_equal(m->n_inputs, 3);
    assert_string_equal(m->values[m->inputs[2]].name, "Z");
    const nnl_value *pos = &m->values[value_named(m, "pos")];
    assert_int_equal(pos->kind, NNL_VAL_CONST);
    assert_int_equal(pos->t.dtype, NNL_DT_INT64);
    assert_int_equal(pos->t.rank, 0);
    assert_int_equal(*(const int64_t *)pos->t.data, 1);
    assert_int_equal(*(const int64_t *)m->values[value_named(m, "pos_at")].t.data, 2);
    nnl_model_free(m);

    /* 30 nodes, Constants among them; every input resolves. */
    m = load_ok(C("/node/test_layer_normalization_2d_axis0_expanded/model.onnx"));
    assert_int_equal(m->opset, 17);
    assert_int_equal(m->n_outputs, 3);
    int consts = 0;
    for (int i = 0; i < m->n_values; i++) consts += m->values[i].kind == NNL_VAL_CONST;
    assert_true(consts > 0);
    assert_int_equal(m->n_nodes + consts, 30);
    const nnl_value *eps = &m->values[value_named(
        m, "LayerNormalization_test_layer_normalization_2d_axis0_expanded_function_FloatEpsilon")];
    assert_int_equal(eps->kind, NNL_VAL_CONST);
    assert_int_equal(eps->t.rank, 0);
    assert_true(*(const float *)eps->t.data == 9.999999747378752e-06f);
    for (int i = 0; i < m->n_nodes; i++)
        for (int j = 0; j < m->nodes[i].n_in; j++)
            assert_true(m->nodes[i].in[j] >= 0 && m->nodes[i].in[j] < m->n_values);
    nnl_model_free(m);

    /* Opset 6 files are read; ops judge their own semantics by opset. */
    m = load_ok(C("/node/test_elu/model.onnx"));
    assert_int_equal(m->opset, 6);
    nnl_model_free(m);
}

static void test_conformance_refusals(void **st) {
    (void)st;
    NEED_CONF();
    expect_fail(C("/node/test_if/model.onnx"), NNL_ERR_UNSUPPORTED, "GRAPH");
    assert_err_contains("branch");
    assert_err_contains("If");
    expect_fail(C("/node/test_cast_BFLOAT16_to_FLOAT/model.onnx"), NNL_ERR_UNSUPPORTED,
                "bfloat16");
    assert_err_contains("'input'");
    expect_fail(C("/node/test_adagrad/model.onnx"), NNL_ERR_UNSUPPORTED,
                "ai.onnx.preview.training");
    assert_err_contains("Adagrad");
    expect_fail(C("/simple/test_strnorm_model_monday_empty_output/model.onnx"),
                NNL_ERR_UNSUPPORTED, "string");
}

static void test_load_tensor_pb(void **st) {
    (void)st;
    NEED_CONF();
    nnl_tensor t;
    char *name;
    assert_int_equal(nnl_onnx_load_tensor(C("/node/test_cast_FLOAT16_to_FLOAT/test_data_set_0/"
                                          "input_0.pb"), &t, &name), NNL_OK);
    assert_string_equal(name, "input");
    assert_int_equal(t.dtype, NNL_DT_FLOAT16);
    assert_dims(&t, (int64_t[]){3, 4}, 2);
    assert_int_equal((uintptr_t)t.data % 64, 0);
    const uint16_t want16[] = {12178, 14623, 12438, 15247, 14381, 13986};
    assert_memory_equal(t.data, want16, sizeof want16);
    nnl_aligned_free(t.data);
    nnl_free(name);

    assert_int_equal(nnl_onnx_load_tensor(C("/node/test_constantofshape_float_ones/"
                                          "test_data_set_0/input_0.pb"), &t, NULL), NNL_OK);
    assert_int_equal(t.dtype, NNL_DT_INT64);
    const int64_t want64[] = {4, 3, 2};
    assert_memory_equal(t.data, want64, sizeof want64);
    nnl_aligned_free(t.data);

    assert_int_equal(nnl_onnx_load_tensor(C("/node/test_not_2d/test_data_set_0/input_0.pb"),
                                          &t, NULL), NNL_OK);
    assert_int_equal(t.dtype, NNL_DT_BOOL);
    const uint8_t wantb[] = {1, 1, 1, 1, 1, 0};
    assert_memory_equal(t.data, wantb, sizeof wantb);
    nnl_aligned_free(t.data);

    /* A model is not a tensor. */
    assert_int_not_equal(nnl_onnx_load_tensor(C("/node/test_conv_with_strides_padding/"
                                              "model.onnx"), &t, NULL), NNL_OK);
    assert_null(t.data);
}

/* ---- a small protobuf writer for hand-made models ---------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void b_put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void b_varint(buf *b, uint64_t v) {
    uint8_t tmp[10];
    int n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    b_put(b, tmp, (size_t)n);
}

enum { W_VARINT = 0, W_I64 = 1, W_LEN = 2, W_I32 = 5 };

static void f_tag(buf *b, uint32_t num, int wire) { b_varint(b, (uint64_t)num << 3 | (unsigned)wire); }
static void f_varint(buf *b, uint32_t num, uint64_t v) { f_tag(b, num, W_VARINT); b_varint(b, v); }
static void f_bytes(buf *b, uint32_t num, const void *d, size_t n) {
    f_tag(b, num, W_LEN);
    b_varint(b, n);
    b_put(b, d, n);
}
static void f_str(buf *b, uint32_t num, const char *s) { f_bytes(b, num, s, strlen(s)); }
static void f_f32(buf *b, uint32_t num, float v) { f_tag(b, num, W_I32); b_put(b, &v, 4); }
/* Append sub as message field num, and free sub. */
static void f_msg(buf *b, uint32_t num, buf *sub) {
    f_bytes(b, num, sub->p, sub->n);
    free(sub->p);
    memset(sub, 0, sizeof *sub);
}

/* onnx.proto field numbers, typed here independently of the importer. */
enum {
    M_IR = 1, M_PRODUCER = 2, M_GRAPH = 7, M_OPSET = 8,
    OS_DOMAIN = 1, OS_VERSION = 2,
    G_NODE = 1, G_NAME = 2, G_INIT = 5, G_INPUT = 11, G_OUTPUT = 12,
    N_IN = 1, N_OUT = 2, N_NAME = 3, N_OP = 4, N_ATTR = 5, N_DOMAIN = 7,
    A_NAME = 1, A_F = 2, A_I = 3, A_S = 4, A_T = 5, A_G = 6, A_FLOATS = 7, A_INTS = 8, A_TYPE = 20,
    VI_NAME = 1, VI_TYPE = 2, TP_TENSOR = 1, TT_ELEM = 1, TT_SHAPE = 2, SH_DIM = 1,
    D_VALUE = 1, D_PARAM = 2,
    T_DIMS = 1, T_DTYPE = 2, T_FLOAT = 4, T_INT32 = 5, T_STRING = 6, T_INT64 = 7, T_NAME = 8,
    T_RAW = 9, T_DOUBLE = 10, T_UINT64 = 11, T_EXT = 13, T_LOC = 14,
    E_KEY = 1, E_VALUE = 2
};

static buf tensor_head(const char *name, int dtype, int rank, const int64_t *dims) {
    buf t = {0};
    for (int i = 0; i < rank; i++) f_varint(&t, T_DIMS, (uint64_t)dims[i]);
    f_varint(&t, T_DTYPE, (uint64_t)dtype);
    if (name) f_str(&t, T_NAME, name);
    return t;
}

static buf tensor_raw(const char *name, int dtype, int rank, const int64_t *dims, const void *d,
                      size_t n) {
    buf t = tensor_head(name, dtype, rank, dims);
    f_bytes(&t, T_RAW, d, n);
    return t;
}

/* ValueInfoProto; rank < 0: no shape field; params[i] names dim i when
 * dims[i] < 0. */
static buf value_info(const char *name, int elem, int rank, const int64_t *dims,
                      const char *const *params) {
    buf vi = {0}, tp = {0}, tt = {0}, sh = {0};
    f_str(&vi, VI_NAME, name);
    f_varint(&tt, TT_ELEM, (uint64_t)elem);
    if (rank >= 0) {
        for (int i = 0; i < rank; i++) {
            buf d = {0};
            if (dims[i] >= 0) f_varint(&d, D_VALUE, (uint64_t)dims[i]);
            else if (params && params[i]) f_str(&d, D_PARAM, params[i]);
            f_msg(&sh, SH_DIM, &d);
        }
        f_msg(&tt, TT_SHAPE, &sh);
    }
    f_msg(&tp, TP_TENSOR, &tt);
    f_msg(&vi, VI_TYPE, &tp);
    return vi;
}

static buf out_info(const char *name) {
    buf vi = {0};
    f_str(&vi, VI_NAME, name);
    return vi;
}

/* A node; ins/outs are NULL-terminated lists. attrs (may be NULL) are
 * already-encoded AttributeProtos, n_attrs of them. */
static buf node(const char *op, const char *name, const char *const *ins,
                const char *const *outs, buf *attrs, int n_attrs) {
    buf n = {0};
    for (; ins && *ins; ins++) f_str(&n, N_IN, *ins);
    for (; outs && *outs; outs++) f_str(&n, N_OUT, *outs);
    if (name) f_str(&n, N_NAME, name);
    f_str(&n, N_OP, op);
    for (int i = 0; i < n_attrs; i++) f_msg(&n, N_ATTR, &attrs[i]);
    return n;
}

static buf attr_int(const char *name, int64_t v) {
    buf a = {0};
    f_str(&a, A_NAME, name);
    f_varint(&a, A_I, (uint64_t)v);
    f_varint(&a, A_TYPE, 2);
    return a;
}

static buf model(buf *graph, int64_t opset) {
    buf m = {0}, os = {0};
    f_varint(&m, M_IR, 8);
    f_str(&m, M_PRODUCER, "test_onnx");
    f_msg(&m, M_GRAPH, graph);
    f_str(&os, OS_DOMAIN, "");
    f_varint(&os, OS_VERSION, (uint64_t)opset);
    f_msg(&m, M_OPSET, &os);
    return m;
}

/* Write m (freed) as a model file and load it. */
static nnl_status load_model_buf(buf *m, nnl_model **out) {
    const char *p = tpath("m.onnx");
    spit(p, m->p, m->n);
    free(m->p);
    memset(m, 0, sizeof *m);
    *out = NULL;
    return nnl_onnx_load(p, out);
}

/* A graph: input x (float [2,3]), initializer list, nodes, output y. */
static buf graph_with(buf *inits, int n_inits, buf *nodes, int n_nodes, const char *out) {
    buf g = {0}, vi;
    f_str(&g, G_NAME, "g");
    for (int i = 0; i < n_nodes; i++) f_msg(&g, G_NODE, &nodes[i]);
    for (int i = 0; i < n_inits; i++) f_msg(&g, G_INIT, &inits[i]);
    vi = value_info("x", 1, 2, (int64_t[]){2, 3}, NULL);
    f_msg(&g, G_INPUT, &vi);
    vi = out_info(out);
    f_msg(&g, G_OUTPUT, &vi);
    return g;
}

/* Model with one initializer t feeding Add(x, t) -> y. */
static nnl_status load_with_init(buf *t, nnl_model **m) {
    buf n = node("Add", "add", (const char *[]){"x", "w", NULL}, (const char *[]){"y", NULL},
                 NULL, 0);
    buf g = graph_with(t, 1, &n, 1, "y");
    buf mb = model(&g, 13);
    return load_model_buf(&mb, m);
}

static const nnl_value *init_value(nnl_model *m) {
    const nnl_value *v = &m->values[value_named(m, "w")];
    assert_int_equal(v->kind, NNL_VAL_CONST);
    assert_int_equal((uintptr_t)v->t.data % 64, 0);
    return v;
}

/* ---- hand-made models ---------------------------------------------------- */

static void test_initializer_forms(void **st) {
    (void)st;
    nnl_model *m;
    const float f6[6] = {1.5f, -2, 3.25f, 0, -0.0f, 1e30f};

    buf t = tensor_raw("w", 1, 2, (int64_t[]){2, 3}, f6, sizeof f6);
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    const nnl_value *v = init_value(m);
    assert_dims(&v->t, (int64_t[]){2, 3}, 2);
    assert_memory_equal(v->t.data, f6, sizeof f6);
    assert_int_equal(m->n_inputs, 1);       /* the initializer is not an input */
    nnl_model_free(m);

    /* float_data packed in two chunks plus one unpacked value. */
    t = tensor_head("w", 1, 2, (int64_t[]){2, 3});
    f_bytes(&t, T_FLOAT, f6, 8);
    f_bytes(&t, T_FLOAT, f6 + 2, 12);
    f_f32(&t, T_FLOAT, f6[5]);
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    assert_memory_equal(init_value(m)->t.data, f6, sizeof f6);
    nnl_model_free(m);

    /* int64_data unpacked, with negative values (10-byte varints). */
    const int64_t i3[3] = {-1, INT64_MIN, 1234567890123};
    t = tensor_head("w", 7, 1, (int64_t[]){3});
    for (int i = 0; i < 3; i++) f_varint(&t, T_INT64, (uint64_t)i3[i]);
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    v = init_value(m);
    assert_int_equal(v->t.dtype, NNL_DT_INT64);
    assert_memory_equal(v->t.data, i3, sizeof i3);
    nnl_model_free(m);

    /* int32_data carries int8, uint8, bool and float16 (bit pattern). */
    struct { int dt; int64_t in[3]; uint8_t want[6]; size_t wn; } cases[] = {
        {3, {-1, 127, -128}, {0xff, 0x7f, 0x80}, 3},
        {2, {0, 255, 17}, {0, 255, 17}, 3},
        {9, {1, 0, 1}, {1, 0, 1}, 3},
        {10, {0x3c00, 0xc000, 0x7bff}, {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b}, 6},
        {5, {-2, 300, 0}, {0xfe, 0xff, 0x2c, 0x01, 0, 0}, 6},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        buf packed = {0};
        for (int i = 0; i < 3; i++) b_varint(&packed, (uint64_t)cases[c].in[i]);
        t = tensor_head("w", cases[c].dt, 1, (int64_t[]){3});
        f_bytes(&t, T_INT32, packed.p, packed.n);
        free(packed.p);
        assert_int_equal(load_with_init(&t, &m), NNL_OK);
        v = init_value(m);
        assert_int_equal(v->t.dtype, cases[c].dt);
        assert_memory_equal(v->t.data, cases[c].want, cases[c].wn);
        nnl_model_free(m);
    }

    /* double_data (fixed64) and uint64_data for uint32. */
    const double d2[2] = {3.141592653589793, -1e-300};
    t = tensor_head("w", 11, 1, (int64_t[]){2});
    f_bytes(&t, T_DOUBLE, d2, sizeof d2);
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    assert_memory_equal(init_value(m)->t.data, d2, sizeof d2);
    nnl_model_free(m);
    t = tensor_head("w", 12, 1, (int64_t[]){2});
    f_varint(&t, T_UINT64, 4000000000u);
    f_varint(&t, T_UINT64, 7);
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    const uint32_t u2[2] = {4000000000u, 7};
    assert_memory_equal(init_value(m)->t.data, u2, sizeof u2);
    nnl_model_free(m);

    /* Scalars and empty tensors. */
    t = tensor_raw("w", 1, 0, NULL, f6, 4);
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    assert_int_equal(init_value(m)->t.rank, 0);
    assert_true(*(float *)init_value(m)->t.data == 1.5f);
    nnl_model_free(m);
    t = tensor_head("w", 1, 2, (int64_t[]){0, 3});
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    assert_dims(&init_value(m)->t, (int64_t[]){0, 3}, 2);
    nnl_model_free(m);
}

/* BatchNormalization -> Relu with no conv before the BN (DenseNet's
 * pre-activation): compiled into one BN step with the ReLU fused
 * (passes/fuse.c), the results those of the two ops. */
static void test_bn_relu_fused(void **st) {
    (void)st;
    const float sc[3] = {1.5f, -2.0f, 0.5f}, bi[3] = {0.25f, -0.5f, 1.0f}, mu[3] = {0.1f, -0.3f, 2.0f},
                va[3] = {1.0f, 0.25f, 4.0f};
    const float *vec[4] = {sc, bi, mu, va};
    const char *names[4] = {"s", "b", "m", "v"};
    buf inits[4];
    for (int i = 0; i < 4; i++) inits[i] = tensor_raw(names[i], 1, 1, (int64_t[]){3}, vec[i], sizeof sc);
    buf nodes[2] = {node("BatchNormalization", "bn", (const char *[]){"x", "s", "b", "m", "v", NULL},
                         (const char *[]){"t", NULL}, NULL, 0),
                    node("Relu", "relu", (const char *[]){"t", NULL}, (const char *[]){"y", NULL}, NULL, 0)};
    buf g = graph_with(inits, 4, nodes, 2, "y");
    buf mb = model(&g, 15);
    const char *onnx = tpath("bnrelu.onnx"), *out = tpath("bnrelu.nnl");
    spit(onnx, mb.p, mb.n);
    free(mb.p);
    assert_int_equal(nnl_compile_file(onnx, out, NULL), NNL_OK);
    nnl_plan *plan = NULL;
    nnl_session *s = NULL;
    assert_int_equal(nnl_plan_open(out, &plan), NNL_OK);
    assert_int_equal(nnl_session_create(plan, 0, NULL, &s), NNL_OK);
    const float x[6] = {-1.0f, 0.5f, 3.0f, 2.0f, -0.75f, 0.0f};
    assert_int_equal(nnl_session_set_input(s, "x", NNL_DT_FLOAT, 2, (int64_t[]){2, 3}, x), NNL_OK);
    assert_int_equal(nnl_session_set_profiling(s, 1), NNL_OK);
    assert_int_equal(nnl_session_run(s), NNL_OK);
    assert_int_equal(nnl_session_layer_count(s), 1);
    nnl_layer_time lt;
    assert_int_equal(nnl_session_layer_time(s, 0, &lt), NNL_OK);
    assert_string_equal(lt.op, "BatchNormalization");
    nnl_tensor_info info;
    const void *data;
    assert_int_equal(nnl_session_output(s, 0, &info, &data), NNL_OK);
    const float *y = data;
    int negatives = 0;
    for (int i = 0; i < 6; i++) {
        int c = i % 3;
        double t = sc[c] * (x[i] - mu[c]) / sqrt(va[c] + 1e-5) + bi[c];
        negatives += t < 0;
        double want = t < 0 ? 0.0 : t;
        if (!(fabs(y[i] - want) <= 1e-6 * (1 + fabs(want)))) fail_msg("y[%d] = %.9g, want %.9g", i, y[i], want);
    }
    assert_true(negatives >= 2);   /* the ReLU did something */
    nnl_session_free(s);
    nnl_plan_free(plan);
}

static void test_initializer_errors(void **st) {
    (void)st;
    nnl_model *m;
    const float f6[6] = {0};

    buf t = tensor_raw("w", 1, 2, (int64_t[]){2, 3}, f6, 20);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    assert_null(m);
    assert_err_contains("initializer 'w'");
    assert_err_contains("m.onnx");

    t = tensor_head("w", 1, 1, (int64_t[]){7});
    f_bytes(&t, T_FLOAT, f6, 24);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    assert_err_contains("'w'");

    /* Huge claimed sizes fail before any allocation. */
    t = tensor_raw("w", 1, 2, (int64_t[]){1 << 30, 1 << 30}, f6, 24);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    t = tensor_raw("w", 7, 3, (int64_t[]){INT64_MAX, INT64_MAX, 2}, f6, 24);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    assert_err_contains("overflow");
    t = tensor_head("w", 1, 1, (int64_t[]){-3});
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);

    /* Wrong typed field for the dtype, and two forms at once. */
    t = tensor_head("w", 1, 1, (int64_t[]){1});
    f_varint(&t, T_INT64, 5);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    assert_err_contains("int64_data");
    t = tensor_raw("w", 1, 1, (int64_t[]){1}, f6, 4);
    f_f32(&t, T_FLOAT, 1);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);

    /* Types nnlink does not take. */
    t = tensor_head("w", 8, 1, (int64_t[]){1});
    f_str(&t, T_STRING, "hello");
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_UNSUPPORTED);
    assert_err_contains("string");
    t = tensor_raw("w", 16, 1, (int64_t[]){2}, f6, 4);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_UNSUPPORTED);
    assert_err_contains("bfloat16");
    t = tensor_raw("w", 14, 1, (int64_t[]){1}, f6, 8);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_UNSUPPORTED);
    assert_err_contains("complex");
    t = tensor_raw("w", 0, 1, (int64_t[]){1}, f6, 4);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    t = tensor_raw("w", 1, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, f6, 4);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_UNSUPPORTED);

    /* Missing data, duplicate and unnamed initializers. */
    t = tensor_head("w", 1, 1, (int64_t[]){2});
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    buf two[2] = {tensor_raw("w", 1, 1, (int64_t[]){1}, f6, 4),
                  tensor_raw("w", 1, 1, (int64_t[]){1}, f6, 4)};
    buf n = node("Add", NULL, (const char *[]){"x", "w", NULL}, (const char *[]){"y", NULL},
                 NULL, 0);
    buf g = graph_with(two, 2, &n, 1, "y");
    buf mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
    assert_err_contains("'w' is defined twice");
    t = tensor_raw(NULL, 1, 1, (int64_t[]){1}, f6, 4);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
}

static buf ext_tensor(const char *location, const char *offset, const char *length) {
    buf t = tensor_head("w", 1, 1, (int64_t[]){3});
    const char *kv[3][2] = {{"location", location}, {"offset", offset}, {"length", length}};
    for (int i = 0; i < 3; i++) {
        if (!kv[i][1]) continue;
        buf e = {0};
        f_str(&e, E_KEY, kv[i][0]);
        f_str(&e, E_VALUE, kv[i][1]);
        f_msg(&t, T_EXT, &e);
    }
    f_varint(&t, T_LOC, 1);
    return t;
}

static void test_external_data(void **st) {
    (void)st;
    nnl_model *m;
    float blob[8];
    for (int i = 0; i < 8; i++) blob[i] = (float)i * 0.5f;
    spit(tpath("weights.bin"), blob, sizeof blob);
    mkdir(tpath("sub"), 0700);
    spit(tpath("sub/w2.bin"), blob, 12);

    buf t = ext_tensor("weights.bin", "8", "12");
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    assert_memory_equal(init_value(m)->t.data, blob + 2, 12);
    nnl_model_free(m);
    t = ext_tensor("sub/w2.bin", NULL, NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_OK);
    assert_memory_equal(init_value(m)->t.data, blob, 12);
    nnl_model_free(m);

    t = ext_tensor("weights.bin", "24", NULL);           /* 24 + 12 > 32 */
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    assert_err_contains("weights.bin");
    t = ext_tensor("weights.bin", "0", "16");            /* length != 12 */
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    t = ext_tensor("weights.bin", "-4", NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    t = ext_tensor("weights.bin", "18446744073709551615", NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    t = ext_tensor("/etc/passwd", NULL, NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    assert_err_contains("absolute");
    t = ext_tensor("../weights.bin", NULL, NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    t = ext_tensor("sub/../../x", NULL, NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
    assert_err_contains("leaves");
    t = ext_tensor("missing.bin", NULL, NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_IO);
    t = ext_tensor("sub", NULL, NULL);                   /* a folder */
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_IO);
    t = ext_tensor(NULL, "0", NULL);
    assert_int_equal(load_with_init(&t, &m), NNL_ERR_FORMAT);
}

static void test_inputs_shapes(void **st) {
    (void)st;
    buf g = {0}, vi, n;
    vi = value_info("a", 1, 3, (int64_t[]){-1, 3, -1}, (const char *[]){"batch", NULL, NULL});
    f_msg(&g, G_INPUT, &vi);
    vi = value_info("b", 7, -1, NULL, NULL);
    f_msg(&g, G_INPUT, &vi);
    vi = value_info("c", 1, 0, NULL, NULL);
    f_msg(&g, G_INPUT, &vi);
    /* An input that is also an initializer (old exporters) stays constant. */
    vi = value_info("w", 1, 1, (int64_t[]){1}, NULL);
    f_msg(&g, G_INPUT, &vi);
    buf t = tensor_raw("w", 1, 1, (int64_t[]){1}, (float[]){2}, 4);
    f_msg(&g, G_INIT, &t);
    n = node("Sum", NULL, (const char *[]){"a", "c", "w", NULL}, (const char *[]){"y", NULL},
             NULL, 0);
    f_msg(&g, G_NODE, &n);
    vi = out_info("y");
    f_msg(&g, G_OUTPUT, &vi);
    vi = out_info("b");      /* an input may be an output too */
    f_msg(&g, G_OUTPUT, &vi);
    buf mb = model(&g, 17);
    nnl_model *m;
    assert_int_equal(load_model_buf(&mb, &m), NNL_OK);
    assert_int_equal(m->n_inputs, 3);
    const nnl_value *a = &m->values[m->inputs[0]];
    assert_string_equal(a->name, "a");
    assert_dims(&a->t, (int64_t[]){-1, 3, -1}, 3);
    assert_false(a->shape_known);
    assert_string_equal(a->dim_param[0], "batch");
    assert_null(a->dim_param[1]);
    assert_null(a->dim_param[2]);
    const nnl_value *b = &m->values[m->inputs[1]];
    assert_int_equal(b->t.rank, -1);
    assert_int_equal(b->t.dtype, NNL_DT_INT64);
    assert_false(b->shape_known);
    assert_true(b->is_output);
    const nnl_value *c = &m->values[m->inputs[2]];
    assert_int_equal(c->t.rank, 0);
    assert_true(c->shape_known);
    assert_int_equal(m->values[value_named(m, "w")].kind, NNL_VAL_CONST);
    assert_int_equal(m->nodes[0].n_in, 3);
    assert_string_equal(m->nodes[0].name, "Sum_0");
    assert_int_equal(m->n_outputs, 2);
    assert_int_equal(m->outputs[1], m->inputs[1]);
    nnl_model_free(m);
}

static void test_graph_structure(void **st) {
    (void)st;
    nnl_model *m;
    /* Nodes out of order: Relu reads what Neg (later in the file) makes. */
    buf ns[2] = {node("Relu", "r", (const char *[]){"t", NULL}, (const char *[]){"y", NULL}, NULL, 0),
                 node("Neg", "n", (const char *[]){"x", NULL}, (const char *[]){"t", NULL}, NULL, 0)};
    buf g = graph_with(NULL, 0, ns, 2, "y");
    buf mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_OK);
    assert_int_equal(m->n_nodes, 2);
    assert_string_equal(m->nodes[0].op, "Relu");
    assert_int_equal(m->nodes[0].in[0], m->nodes[1].out[0]);
    assert_int_equal(m->values[m->nodes[0].in[0]].producer, 1);
    nnl_model_free(m);

    /* Undefined input. */
    ns[0] = node("Relu", "r", (const char *[]){"nowhere", NULL}, (const char *[]){"y", NULL}, NULL, 0);
    g = graph_with(NULL, 0, ns, 1, "y");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
    assert_err_contains("'nowhere'");
    assert_err_contains("node 'r' (Relu)");

    /* Undefined graph output, node output redefining an input. */
    ns[0] = node("Relu", "r", (const char *[]){"x", NULL}, (const char *[]){"y", NULL}, NULL, 0);
    g = graph_with(NULL, 0, ns, 1, "zz");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
    assert_err_contains("'zz'");
    ns[0] = node("Relu", "r", (const char *[]){"x", NULL}, (const char *[]){"x", NULL}, NULL, 0);
    g = graph_with(NULL, 0, ns, 1, "x");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
    assert_err_contains("defined twice");

    /* Other domain, reserved attribute names, graph attributes. */
    ns[0] = node("Relu", "r", (const char *[]){"x", NULL}, (const char *[]){"y", NULL}, NULL, 0);
    f_str(&ns[0], N_DOMAIN, "com.microsoft");
    g = graph_with(NULL, 0, ns, 1, "y");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_UNSUPPORTED);
    assert_err_contains("com.microsoft");
    assert_err_contains("node 'r' (Relu)");

    buf at = attr_int("nnl_act", 1);
    ns[0] = node("Relu", "r", (const char *[]){"x", NULL}, (const char *[]){"y", NULL}, &at, 1);
    g = graph_with(NULL, 0, ns, 1, "y");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
    assert_err_contains("nnl_act");

    buf gattr = {0}, sub = {0};
    f_str(&gattr, A_NAME, "body");
    f_str(&sub, G_NAME, "inner");
    f_msg(&gattr, A_G, &sub);
    f_varint(&gattr, A_TYPE, 5);
    ns[0] = node("Loop", "l", (const char *[]){"x", NULL}, (const char *[]){"y", NULL}, &gattr, 1);
    g = graph_with(NULL, 0, ns, 1, "y");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_UNSUPPORTED);
    assert_err_contains("'body'");
    assert_err_contains("node 'l' (Loop)");

    /* Duplicate attribute, attribute without type. */
    buf two[2] = {attr_int("axis", 1), attr_int("axis", 2)};
    ns[0] = node("Softmax", "s", (const char *[]){"x", NULL}, (const char *[]){"y", NULL}, two, 2);
    g = graph_with(NULL, 0, ns, 1, "y");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
    buf untyped = {0};
    f_str(&untyped, A_NAME, "axis");
    f_varint(&untyped, A_I, 1);
    ns[0] = node("Softmax", "s", (const char *[]){"x", NULL}, (const char *[]){"y", NULL}, &untyped, 1);
    g = graph_with(NULL, 0, ns, 1, "y");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
}

static void test_attributes_and_constants(void **st) {
    (void)st;
    nnl_model *m;
    buf at[5] = {0};
    f_str(&at[0], A_NAME, "fl");
    f_bytes(&at[0], A_FLOATS, (float[]){0.5f, -1}, 8);
    f_f32(&at[0], A_FLOATS, 7);
    f_varint(&at[0], A_TYPE, 6);
    f_str(&at[1], A_NAME, "in");
    f_varint(&at[1], A_INTS, (uint64_t)-5);
    f_varint(&at[1], A_INTS, 9);
    f_varint(&at[1], A_TYPE, 7);
    f_str(&at[2], A_NAME, "empty");
    f_varint(&at[2], A_TYPE, 7);
    f_str(&at[3], A_NAME, "s");
    f_str(&at[3], A_S, "NOTSET");
    f_varint(&at[3], A_TYPE, 3);
    f_str(&at[4], A_NAME, "f");
    f_f32(&at[4], A_F, -2.5f);
    f_varint(&at[4], A_TYPE, 1);

    buf cv[2] = {0};     /* Constant value_ints, Constant value_float */
    f_str(&cv[0], A_NAME, "value_ints");
    f_bytes(&cv[0], A_INTS, "\x01\x7f", 2);
    f_varint(&cv[0], A_TYPE, 7);
    f_str(&cv[1], A_NAME, "value_float");
    f_f32(&cv[1], A_F, 0.125f);
    f_varint(&cv[1], A_TYPE, 1);

    buf ns[3] = {
        node("Constant", NULL, NULL, (const char *[]){"ci", NULL}, &cv[0], 1),
        node("Constant", "c2", NULL, (const char *[]){"cf", NULL}, &cv[1], 1),
        node("Custom", "k", (const char *[]){"x", "ci", "cf", NULL}, (const char *[]){"y", NULL}, at, 5)};
    buf g = graph_with(NULL, 0, ns, 3, "y");
    buf mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_OK);
    assert_int_equal(m->n_nodes, 1);
    const nnl_node *n = &m->nodes[0];
    const nnl_attr *a = attr_of(n, "fl", NNL_ATTR_FLOATS);
    assert_int_equal(a->n, 3);
    assert_true(a->floats[0] == 0.5f && a->floats[1] == -1 && a->floats[2] == 7);
    assert_ints(attr_of(n, "in", NNL_ATTR_INTS), (int64_t[]){-5, 9}, 2);
    assert_int_equal(attr_of(n, "empty", NNL_ATTR_INTS)->n, 0);
    assert_string_equal(attr_of(n, "s", NNL_ATTR_STRING)->s, "NOTSET");
    assert_true(attr_of(n, "f", NNL_ATTR_FLOAT)->f == -2.5f);
    const nnl_value *ci = &m->values[n->in[1]], *cf = &m->values[n->in[2]];
    assert_int_equal(ci->kind, NNL_VAL_CONST);
    assert_int_equal(ci->t.dtype, NNL_DT_INT64);
    assert_dims(&ci->t, (int64_t[]){2}, 1);
    assert_int_equal(((int64_t *)ci->t.data)[1], 127);
    assert_int_equal(cf->t.rank, 0);
    assert_true(*(float *)cf->t.data == 0.125f);
    nnl_model_free(m);

    /* Constant forms nnlink does not take. */
    buf sv = {0};
    f_str(&sv, A_NAME, "value_string");
    f_str(&sv, A_S, "x");
    f_varint(&sv, A_TYPE, 3);
    ns[0] = node("Constant", "cs", NULL, (const char *[]){"y", NULL}, &sv, 1);
    g = graph_with(NULL, 0, ns, 1, "y");
    mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_UNSUPPORTED);
    assert_err_contains("value_string");
}

/* ---- wire format ---------------------------------------------------------- */

static nnl_status pb_one(const void *d, size_t n, pb_field *f) {
    pb_reader r;
    pb_init(&r, d, n);
    return pb_next(&r, f);
}

static void test_pb_wire(void **st) {
    (void)st;
    pb_field f;
    /* The largest varint: nine 0xff bytes and a final 0x01. */
    const uint8_t max[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(pb_one(max, sizeof max, &f), NNL_OK);
    assert_int_equal(f.num, 1);
    assert_true(f.u == UINT64_MAX);
    const uint8_t over[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    assert_int_equal(pb_one(over, sizeof over, &f), NNL_ERR_FORMAT);
    assert_int_equal(pb_one(max, 5, &f), NNL_ERR_FORMAT);                 /* cut varint */
    assert_int_equal(pb_one("\x00\x01", 2, &f), NNL_ERR_FORMAT);          /* field 0 */
    assert_int_equal(pb_one("\x0e\x01", 2, &f), NNL_ERR_FORMAT);          /* wire type 6 */
    assert_int_equal(pb_one("\x0f\x01", 2, &f), NNL_ERR_FORMAT);          /* wire type 7 */
    assert_int_equal(pb_one("\x0b\x0c", 2, &f), NNL_ERR_FORMAT);          /* group start */
    assert_int_equal(pb_one("\x0d\x01\x02\x03", 4, &f), NNL_ERR_FORMAT);  /* short fixed32 */
    assert_int_equal(pb_one("\x09\x01\x02\x03\x04\x05\x06\x07", 8, &f), NNL_ERR_FORMAT);
    assert_int_equal(pb_one("\x0a\x03\x01\x02", 4, &f), NNL_ERR_FORMAT);  /* LEN overrun */
    /* A length near 2^64 must not wrap the bounds check. */
    const uint8_t huge[] = {0x0a, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0};
    assert_int_equal(pb_one(huge, sizeof huge, &f), NNL_ERR_FORMAT);
    /* Field numbers above 2^29 - 1 do not exist. */
    const uint8_t bignum[] = {0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
    assert_int_equal(pb_one(bignum, sizeof bignum, &f), NNL_ERR_FORMAT);
    assert_int_equal(pb_one("", 0, &f), NNL_OK);
    assert_int_equal(f.num, 0);

    /* Packed repeated scalars. */
    pb_scalars it;
    uint64_t v;
    assert_int_equal(pb_one("\x0a\x03\x01\x96\x01", 5, &f), NNL_OK);
    assert_int_equal(pb_scalars_begin(&f, PB_VARINT, "ints", &it), NNL_OK);
    assert_int_equal(it.count, 2);
    assert_true(pb_scalars_next(&it, &v) && v == 1);
    assert_true(pb_scalars_next(&it, &v) && v == 150);
    assert_false(pb_scalars_next(&it, &v));
    assert_int_equal(pb_one("\x0a\x02\x01\x96", 4, &f), NNL_OK);
    assert_int_equal(pb_scalars_begin(&f, PB_VARINT, "ints", &it), NNL_ERR_FORMAT);
    assert_int_equal(pb_one("\x0a\x03\x01\x02\x03", 5, &f), NNL_OK);
    assert_int_equal(pb_scalars_begin(&f, PB_I32, "floats", &it), NNL_ERR_FORMAT);
    assert_int_equal(pb_one("\x0d\x00\x00\x80\x3f", 5, &f), NNL_OK);
    assert_int_equal(pb_scalars_begin(&f, PB_VARINT, "ints", &it), NNL_ERR_FORMAT);
    assert_int_equal(pb_scalars_begin(&f, PB_I32, "floats", &it), NNL_OK);
    assert_true(pb_scalars_next(&it, &v) && pb_as_float(v) == 1.0f);

    /* Nesting depth is bounded. */
    pb_reader r, sub;
    pb_init(&r, "\x0a\x00", 2);
    assert_int_equal(pb_next(&r, &f), NNL_OK);
    r.depth = PB_MAX_DEPTH - 1;
    assert_int_equal(pb_sub(&r, &f, &sub), NNL_OK);
    assert_int_equal(pb_sub(&sub, &f, &r), NNL_ERR_FORMAT);
    assert_err_contains("nested");
}

/* ---- not ONNX, corrupt, truncated --------------------------------------- */

static void test_not_onnx(void **st) {
    (void)st;
    const char *p = tpath("bad.onnx");
    spit(p, "", 0);
    expect_fail(p, NNL_ERR_FORMAT, "is not an ONNX model");
    spit(p, "NNLK\x01\x00\x00\x00garbage", 15);
    expect_fail(p, NNL_ERR_FORMAT, "is not an ONNX model");
    assert_err_contains("bad.onnx");
    spit(p, "hello world, this is text\n", 26);
    expect_fail(p, NNL_ERR_FORMAT, "is not an ONNX model");
    /* A valid protobuf that is not a model. */
    spit(p, "\x0a\x03\x61\x62\x63", 5);
    expect_fail(p, NNL_ERR_FORMAT, "is not an ONNX model");
    /* Over-long varint, group wire type. */
    spit(p, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11);
    expect_fail(p, NNL_ERR_FORMAT, "varint");
    spit(p, "\x08\x07\x3b\x00", 4);
    expect_fail(p, NNL_ERR_FORMAT, "group");
    expect_fail(tmpdir, NNL_ERR_IO, NULL);
    expect_fail(tpath("does-not-exist.onnx"), NNL_ERR_IO, "does-not-exist");
    nnl_tensor t;
    assert_int_equal(nnl_onnx_load_tensor(tpath("does-not-exist.pb"), &t, NULL), NNL_ERR_IO);
    nnl_model *m;
    assert_int_equal(nnl_onnx_load(NULL, &m), NNL_ERR_INVALID_ARG);
    /* A length that overruns its message but not the file. */
    buf g = {0}, inner = {0};
    f_str(&inner, G_NAME, "abc");
    inner.p[1] = 50;
    f_msg(&g, G_NODE, &inner);
    buf mb = model(&g, 13);
    assert_int_equal(load_model_buf(&mb, &m), NNL_ERR_FORMAT);
    assert_err_contains("remain");
}

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)len + 1);
    assert_non_null(d);
    assert_int_equal(fread(d, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return d;
}

/* Whatever a corrupted file makes the importer return, a model it accepts
 * must be internally consistent. */
static void check_consistent(const nnl_model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        assert_non_null(n->op);
        for (int j = 0; j < n->n_in; j++) assert_true(n->in[j] >= -1 && n->in[j] < m->n_values);
        for (int j = 0; j < n->n_out; j++) assert_true(n->out[j] >= -1 && n->out[j] < m->n_values);
    }
    for (int i = 0; i < m->n_inputs; i++) assert_true(m->inputs[i] >= 0 && m->inputs[i] < m->n_values);
    for (int i = 0; i < m->n_outputs; i++) assert_true(m->outputs[i] >= 0 && m->outputs[i] < m->n_values);
    for (int i = 0; i < m->n_values; i++) {
        const nnl_value *v = &m->values[i];
        assert_true(v->t.rank >= -1 && v->t.rank <= NNL_MAX_RANK);
        if (v->kind == NNL_VAL_CONST) {
            /* Touch every byte so ASan checks the buffer's size. */
            size_t nb = nnl_tensor_nbytes(&v->t);
            volatile uint8_t sum = 0;
            for (size_t k = 0; k < nb; k++) sum ^= ((const uint8_t *)v->t.data)[k];
            (void)sum;
        }
    }
}

static void fuzz_file(const char *src, int flips_per_round, int rounds, unsigned seed) {
    size_t n;
    uint8_t *orig = read_all(src, &n);
    const char *p = tpath("cut.onnx");
    nnl_model *m;
    /* Every proper prefix is missing something the model needs. */
    for (size_t len = 0; len < n; len++) {
        spit(p, orig, len);
        nnl_status s = nnl_onnx_load(p, &m);
        if (s == NNL_OK) fail_msg("%s cut to %zu of %zu bytes loaded", src, len, n);
        assert_null(m);
        assert_true(s == NNL_ERR_FORMAT || s == NNL_ERR_UNSUPPORTED);
        assert_non_null(strstr(nnl_last_error(), "cut.onnx"));
    }
    uint8_t *d = malloc(n);
    assert_non_null(d);
    srand(seed);
    int ok = 0;
    for (int r = 0; r < rounds; r++) {
        memcpy(d, orig, n);
        for (int k = 0; k < flips_per_round; k++) {
            size_t at = (size_t)rand() % n;
            if (rand() & 1) d[at] ^= (uint8_t)(1u << (rand() & 7));
            else d[at] = (uint8_t)rand();
        }
        spit(p, d, n);
        nnl_status s = nnl_onnx_load(p, &m);
        if (s == NNL_OK) {
            ok++;
            check_consistent(m);
            nnl_model_free(m);
        } else {
            assert_null(m);
            assert_true(nnl_last_error()[0] != 0);
        }
    }
    free(d);
    free(orig);
    (void)ok;
}

static void test_truncation_and_flips(void **st) {
    (void)st;
    NEED_CONF();
    fuzz_file(C("/node/test_conv_with_strides_padding/model.onnx"), 1, 1500, 1);
    fuzz_file(C("/node/test_constant/model.onnx"), 3, 800, 2);
    fuzz_file(C("/node/test_constantofshape_float_ones/model.onnx"), 2, 800, 3);
    fuzz_file(C("/node/test_resize_downsample_scales_cubic/model.onnx"), 2, 800, 4);
}

static void test_tensor_pb_truncation(void **st) {
    (void)st;
    NEED_CONF();
    size_t n;
    uint8_t *orig = read_all(C("/node/test_constant/test_data_set_0/output_0.pb"), &n);
    const char *p = tpath("cut.pb");
    for (size_t len = 0; len < n; len++) {
        nnl_tensor t;
        spit(p, orig, len);
        /* Cutting inside raw_data or a header field must fail; cutting
         * between fields leaves a tensor without its data, which must
         * fail too (the element count no longer matches). */
        assert_int_not_equal(nnl_onnx_load_tensor(p, &t, NULL), NNL_OK);
        assert_null(t.data);
    }
    free(orig);
}

/* Every allocation the importer makes may fail: it must report NOMEM and
 * leak nothing (LeakSanitizer checks the latter under SAN=1). */
static void test_alloc_failures(void **st) {
    (void)st;
    NEED_CONF();
    const char *files[] = {C("/node/test_layer_normalization_2d_axis0_expanded/model.onnx"),
                           C("/node/test_constantofshape_float_ones/model.onnx"),
                           C("/node/test_conv_with_strides_padding/model.onnx")};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        for (long k = 1;; k++) {
            nnl_model *m;
            nnl_alloc_fail_at(k);
            nnl_status s = nnl_onnx_load(files[f], &m);
            nnl_alloc_fail_at(0);
            if (s == NNL_OK) {
                nnl_model_free(m);
                break;
            }
            if (s != NNL_ERR_NOMEM) fail_msg("failing allocation %ld: %s", k, nnl_last_error());
            assert_null(m);
            assert_true(k < 100000);
        }
    }
}

static int setup(void **st) {
    (void)st;
    find_conformance();
    return tmpdir_make("test_onnx");
}

static int teardown(void **st) {
    (void)st;
    return tmpdir_remove();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_constant_node),
        cmocka_unit_test(test_tensor_attr_and_floats),
        cmocka_unit_test(test_optional_inputs_outputs),
        cmocka_unit_test(test_simple_models),
        cmocka_unit_test(test_conformance_refusals),
        cmocka_unit_test(test_load_tensor_pb),
        cmocka_unit_test(test_initializer_forms),
        cmocka_unit_test(test_initializer_errors),
        cmocka_unit_test(test_external_data),
        cmocka_unit_test(test_inputs_shapes),
        cmocka_unit_test(test_graph_structure),
        cmocka_unit_test(test_attributes_and_constants),
        cmocka_unit_test(test_pb_wire),
        cmocka_unit_test(test_not_onnx),
        cmocka_unit_test(test_truncation_and_flips),
        cmocka_unit_test(test_tensor_pb_truncation),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_bn_relu_fused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
