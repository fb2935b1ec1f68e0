/*
 * Error messages never carry a file's raw bytes to the terminal: nnl_escape
 * writes control bytes, terminal-active code points and invalid UTF-8 as
 * \xNN and keeps valid text, and every way of recording an error (nnl_fail,
 * nnl_op_fail, nnl_fail_context) goes through it.  The expected strings
 * follow from the UTF-8 definition (RFC 3629), not from running the code.
 * The last tests compile ONNX models with hostile names through the public
 * API (tests/hostile_names.py does the same through the CLI).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "msg_clean.h"
#include "test_util.h"

static void test_escape_table(void **state) {
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        {"plain name_1/conv", "plain name_1/conv"},
        {"\x1b[31mred\x1b[0m", "\\x1B[31mred\\x1B[0m"},
        {"a\nb\tc\rd\x7f", "a\\x0Ab\\x09c\\x0Dd\\x7F"},
        {"op\xff\xfe", "op\\xFF\\xFE"},
        {"\xc3(", "\\xC3("},                           /* lead byte without its continuation */
        {"\xc0\xaf", "\\xC0\\xAF"},                    /* overlong '/' */
        {"\xed\xa0\x80", "\\xED\\xA0\\x80"},           /* a UTF-16 surrogate */
        {"\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80"},  /* above U+10FFFF */
        {"\xe2\x82", "\\xE2\\x82"},                    /* truncated at the end */
        {"\xc2\x9b" "2J", "\\xC2\\x9B2J"},             /* U+009B, CSI to some terminals */
        {"ab\xe2\x80\xae" "cd", "ab\\xE2\\x80\\xAEcd"},/* U+202E right-to-left override */
        {"Gr\xc3\xb6\xc3\x9f" "e \xe5\x90\x8d \xf0\x9f\x98\x80", "Gr\xc3\xb6\xc3\x9f" "e \xe5\x90\x8d \xf0\x9f\x98\x80"},
        {"back\\slash", "back\\slash"},
        {"", ""},
    };
    char buf[128];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_string_equal(nnl_escape(cases[i].in, buf, sizeof buf), cases[i].out);
        assert_true(msg_clean(buf));
        /* escaping is idempotent: nnl_fail_context re-escapes a message */
        char again[128];
        assert_string_equal(nnl_escape(buf, again, sizeof again), buf);
    }
    assert_string_equal(nnl_escape(NULL, buf, sizeof buf), "");
}

/* A too-small buffer cuts before a character or an escape, never inside. */
static void test_escape_cut(void **state) {
    (void)state;
    char buf[6];
    assert_string_equal(nnl_escape("ab\x1b" "cd", buf, sizeof buf), "ab");        /* \x1B needs 4 */
    assert_string_equal(nnl_escape("abc\xe5\x90\x8d", buf, sizeof buf), "abc");   /* 3-byte char needs 3 */
    assert_string_equal(nnl_escape("ab\xe5\x90\x8d", buf, sizeof buf), "ab\xe5\x90\x8d");
    char one[1];
    assert_string_equal(nnl_escape("x", one, 1), "");
    assert_ptr_equal(nnl_escape("x", one, 0), one);
}

static void test_fail_paths_escape(void **state) {
    (void)state;
    assert_int_equal(nnl_fail(NNL_ERR_FORMAT, "tensor '%s' bad", "t\x1b]0;x\x07\xff"), NNL_ERR_FORMAT);
    assert_string_equal(nnl_last_error(), "tensor 't\\x1B]0;x\\x07\\xFF' bad");
    nnl_fail_context(NNL_ERR_FORMAT, "graph '%s': ", "g\n\xc3");
    assert_string_equal(nnl_last_error(), "graph 'g\\x0A\\xC3': tensor 't\\x1B]0;x\\x07\\xFF' bad");
    nnl_op_call c = {.op = "Re\x9blu", .node = "n\x1b"};
    nnl_op_fail(&c, NNL_ERR_SHAPE, "input '%s'", "\xe2\x80\xae");
    assert_string_equal(nnl_last_error(), "Re\\x9Blu node 'n\\x1B': input '\\xE2\\x80\\xAE'");
    assert_true(msg_clean(nnl_last_error()));
    /* a long hostile name fills the buffer: still clean, never overrun */
    char big[3000];
    memset(big, 0x1b, sizeof big - 1);
    big[sizeof big - 1] = 0;
    nnl_fail(NNL_ERR_FORMAT, "%s", big);
    assert_true(msg_clean(nnl_last_error()));
    assert_true(strlen(nnl_last_error()) > 1000);
    nnl_fail_context(NNL_ERR_FORMAT, "%s", big);
    assert_true(msg_clean(nnl_last_error()));
}

/* ---- hostile models through the library ---------------------------------------- */

/* A protobuf message being written (wire types 0 and 2 are all ONNX needs). */
typedef struct pbuf {
    uint8_t b[512];
    size_t n;
} pbuf;

static void pb_varint(pbuf *m, uint64_t v) {
    do {
        assert_true(m->n < sizeof m->b);
        m->b[m->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void pb_int(pbuf *m, unsigned field, uint64_t v) {
    pb_varint(m, field << 3);
    pb_varint(m, v);
}
static void pb_bytes(pbuf *m, unsigned field, const void *p, size_t n) {
    pb_varint(m, field << 3 | 2);
    pb_varint(m, n);
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void pb_str(pbuf *m, unsigned field, const char *s) { pb_bytes(m, field, s, strlen(s)); }
static void pb_msg(pbuf *m, unsigned field, const pbuf *sub) { pb_bytes(m, field, sub->b, sub->n); }

/* ValueInfoProto: a float tensor [1, 4] named name. */
static pbuf value_info(const char *name) {
    pbuf dim = {0}, shape = {0}, tensor = {0}, type = {0}, vi = {0};
    pb_int(&dim, 1, 4);                                   /* Dimension.dim_value */
    pbuf one = {0};
    pb_int(&one, 1, 1);
    pb_msg(&shape, 1, &one);                              /* TensorShapeProto.dim */
    pb_msg(&shape, 1, &dim);
    pb_int(&tensor, 1, 1);                                /* elem_type FLOAT */
    pb_msg(&tensor, 2, &shape);
    pb_msg(&type, 1, &tensor);                            /* TypeProto.tensor_type */
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    return vi;
}

/* An opset-13 model of one node op(in) -> out named node, graph input x and
 * output y, written to tmpdir/name. */
static const char *write_model(const char *name, const char *op, const char *node, const char *in,
                               const char *out, const char *x, const char *y) {
    pbuf n = {0}, g = {0}, os = {0}, m = {0};
    pb_str(&n, 1, in);
    pb_str(&n, 2, out);
    pb_str(&n, 3, node);
    pb_str(&n, 4, op);
    pb_msg(&g, 1, &n);                                    /* GraphProto.node */
    pb_str(&g, 2, "g");
    pbuf vx = value_info(x), vy = value_info(y);
    pb_msg(&g, 11, &vx);
    pb_msg(&g, 12, &vy);
    pb_int(&m, 1, 8);                                     /* ir_version */
    pb_msg(&m, 7, &g);
    pb_str(&os, 1, "");
    pb_int(&os, 2, 13);
    pb_msg(&m, 8, &os);                                   /* opset_import */
    const char *path = tpath(name);
    spit(path, m.b, m.n);
    return path;
}

#define ESC "\x1b[31mred\x1b]0;t\x07"
#define ESC_SHOWN "\\x1B[31mred\\x1B]0;t\\x07"
#define BAD "op\xff\xfe\xc3("
#define BAD_SHOWN "op\\xFF\\xFE\\xC3("

/* the last error is clean and names the culprit as escaped */
static void expect_named(nnl_status s, const char *shown) {
    assert_int_not_equal(s, NNL_OK);
    const char *e = nnl_last_error();
    if (!msg_clean(e) || !strstr(e, shown)) print_message("message: %s\n", e);
    assert_true(msg_clean(e));
    assert_non_null(strstr(e, shown));
}

static void test_compile_hostile_names(void **state) {
    (void)state;
    const char *out = tpath("h.nnl");
    /* the two the issue found: an operator type and a tensor name */
    expect_named(nnl_compile_file(write_model("op.onnx", BAD, "n", "x", "y", "x", "y"), out, NULL), BAD_SHOWN);
    expect_named(nnl_compile_file(write_model("op2.onnx", ESC, "n", "x", "y", "x", "y"), out, NULL), ESC_SHOWN);
    expect_named(nnl_compile_file(write_model("in.onnx", "Relu", "n", BAD, "y", "x", "y"), out, NULL), BAD_SHOWN);
    expect_named(nnl_compile_file(write_model("out.onnx", "Relu", "n", "x", ESC, "x", "y"), out, NULL), "y");
    /* names that compile: the messages of the runtime quote them escaped */
    assert_int_equal(nnl_compile_file(write_model("ok.onnx", "Relu", ESC, ESC, BAD, ESC, BAD), out, NULL), NNL_OK);
    nnl_plan *p = NULL;
    assert_int_equal(nnl_plan_open(out, &p), NNL_OK);
    int gi;
    expect_named(nnl_plan_find_graph(p, BAD, &gi), BAD_SHOWN);
    nnl_session *s = NULL;
    assert_int_equal(nnl_session_create(p, 0, NULL, &s), NNL_OK);
    const float x[4] = {1, -2, 3, -4};
    const int64_t dims[2] = {1, 4};
    expect_named(nnl_session_set_input(s, BAD, NNL_DT_FLOAT, 2, dims, x), ESC_SHOWN);  /* lists the inputs */
    expect_named(nnl_session_set_input(s, ESC, NNL_DT_FLOAT, 1, dims, x), ESC_SHOWN);
    nnl_session_free(s);
    nnl_plan_free(p);
}

static int setup(void **state) {
    (void)state;
    return tmpdir_make("messages");
}

static int teardown(void **state) {
    (void)state;
    return tmpdir_remove();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_escape_cut),
        cmocka_unit_test(test_fail_paths_escape),
        cmocka_unit_test(test_compile_hostile_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
