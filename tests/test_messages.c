/*
 * Error messages never carry a file's raw bytes to the terminal: nnl_escape
 * writes control bytes, terminal-active code points and invalid UTF-8 as
 * \xNN and keeps valid text, and every way of recording an error (nnl_fail,
 * nnl_op_fail, nnl_fail_context) goes through it.  The expected strings
 * follow from the UTF-8 definition (RFC 3629), not from running the code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

/* true if s is well-formed UTF-8 with no C0/C1 control or DEL */
static bool clean(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7F) return false;
        if (*p < 0x80) { p++; continue; }
        int n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
        if (*p < 0xC2 || *p > 0xF4) return false;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        if (*p == 0xC2 && p[1] < 0xA0) return false;   /* U+0080..U+009F */
        p += n;
    }
    return true;
}

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
        assert_true(clean(buf));
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
    assert_true(clean(nnl_last_error()));
    /* a long hostile name fills the buffer: still clean, never overrun */
    char big[3000];
    memset(big, 0x1b, sizeof big - 1);
    big[sizeof big - 1] = 0;
    nnl_fail(NNL_ERR_FORMAT, "%s", big);
    assert_true(clean(nnl_last_error()));
    assert_true(strlen(nnl_last_error()) > 1000);
    nnl_fail_context(NNL_ERR_FORMAT, "%s", big);
    assert_true(clean(nnl_last_error()));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_table),
        cmocka_unit_test(test_escape_cut),
        cmocka_unit_test(test_fail_paths_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
