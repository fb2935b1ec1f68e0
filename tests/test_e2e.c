/*
 * End to end against PyTorch: every case of tests/fixtures/MANIFEST.json
 * (networks exported by tools/export_fixtures.py with PyTorch's outputs) is
 * compiled at its input shapes, run, and compared.  Float outputs must be
 * within 1e-4 of PyTorch's, relative to the largest reference value.
 * Each case is compiled a second time with float16 weights (compile
 * --weights fp16; fp16-all where that leaves none) and must stay within
 * 5e-3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e_util.h"
#include "test_util.h"

#define REL_TOL 1e-4
#define FP16_TOL 5e-3

typedef struct tcase {
    json_t *fixture, *c;
    char name[256];
} tcase;

/* Weights of dtype dt, only packed ones when packed_only. */
static int count_weights(const nnl_plan *p, nnl_dtype dt, bool packed_only) {
    int n = 0;
    for (int i = 0; i < nnl_plan_weight_count(p); i++) {
        nnl_weight_info wi;
        assert_int_equal(nnl_plan_weight_info(p, i, &wi), NNL_OK);
        n += wi.dtype == dt && (!packed_only || strcmp(wi.layout, "plain") != 0);
    }
    return n;
}

static void run_fixture_case(void **state) {
    tcase *t = *state;
    char onnx[1024], out[1024];
    snprintf(onnx, sizeof onnx, FIXTURES "/%s", json_string_value(json_object_get(t->fixture, "onnx")));
    snprintf(out, sizeof out, "%s/case.nnl", tmpdir);
    nnl_input_shape shapes[16];
    int n = e2e_shapes(t->c, shapes, 16);
    nnl_compile_options o = {.size = sizeof o, .graph_name = json_string_value(json_object_get(t->c, "name")),
                             .inputs = shapes, .n_inputs = n};
    nnl_status st = nnl_compile_file(onnx, out, &o);
    if (st) fail_msg("compile %s: %s", t->name, nnl_last_error());
    nnl_plan *p = NULL;
    nnl_session *s = NULL;
    assert_int_equal(nnl_plan_open(out, &p), NNL_OK);
    nnl_session_options so = {.size = sizeof so, .n_threads = 2};
    assert_int_equal(nnl_session_create(p, 0, &so, &s), NNL_OK);
    st = e2e_set_inputs(s, t->c);
    if (st) fail_msg("inputs %s: %s", t->name, nnl_last_error());
    st = nnl_session_run(s);
    if (st) fail_msg("run %s: %s", t->name, nnl_last_error());
    double e = e2e_check_outputs(s, p, 0, t->c);
    print_message("%-40s rel error %.3g\n", t->name, e);
    assert_true(e <= REL_TOL);
    /* A session runs again on the inputs it holds: same answer.  (Catches
     * an arena plan that lets later layers overwrite the inputs.) */
    st = nnl_session_run(s);
    if (st) fail_msg("second run %s: %s", t->name, nnl_last_error());
    assert_true(e2e_check_outputs(s, p, 0, t->c) == e);
    /* the session's own count of the work agrees with what the compiler
     * recorded per layer (same inference, same shapes) */
    double rec = 0;
    for (int i = 0; i < nnl_session_layer_count(s); i++) {
        nnl_layer_time lt;
        assert_int_equal(nnl_session_layer_time(s, i, &lt), NNL_OK);
        rec += lt.flops;
    }
    assert_true(nnl_session_flops(s) > 0);
    assert_true(fabs(nnl_session_flops(s) - rec) <= 1e-9 * rec);
    nnl_session_free(s);
    uint64_t bytes32 = nnl_plan_weight_bytes(p, -1);
    int packed = count_weights(p, NNL_DT_FLOAT, true);   /* Conv/Gemm/MatMul weights, the float16 candidates */
    nnl_plan_free(p);
    p = NULL;
    unlink(out);

    int halves = 0;
    for (o.weights = NNL_WEIGHTS_FP16; !halves && o.weights <= NNL_WEIGHTS_FP16_ALL; o.weights++) {
        if (p) nnl_plan_free(p);
        if ((st = nnl_compile_file(onnx, out, &o))) fail_msg("compile %s fp16: %s", t->name, nnl_last_error());
        assert_int_equal(nnl_plan_open(out, &p), NNL_OK);
        halves = count_weights(p, NNL_DT_FLOAT16, false);
    }
    assert_int_equal(nnl_session_create(p, 0, &so, &s), NNL_OK);
    if ((st = e2e_set_inputs(s, t->c)) || (st = nnl_session_run(s))) fail_msg("fp16 %s: %s", t->name, nnl_last_error());
    double e16 = e2e_check_outputs(s, p, 0, t->c);
    print_message("%-40s %s: %d float16 weights, %.2f of the float32 bytes, rel error %.3g\n", t->name,
                  o.weights - 1 == NNL_WEIGHTS_FP16 ? "fp16" : "fp16-all", halves,
                  (double)nnl_plan_weight_bytes(p, -1) / (double)bytes32, e16);
    assert_true(e16 <= FP16_TOL);
    /* a fixture with packed weights (recurrent has none) has float16 ones */
    assert_true(packed == 0 || (halves > 0 && nnl_plan_weight_bytes(p, -1) < bytes32));
    nnl_session_free(s);
    nnl_plan_free(p);
    unlink(out);
}

int main(void) {
    if (isa_check_forced()) return 1;
    json_error_t err;
    json_t *m = json_load_file(FIXTURES "/MANIFEST.json", 0, &err);
    if (!m) {
        fprintf(stderr, "cannot read " FIXTURES "/MANIFEST.json: %s\n", err.text);
        return 1;
    }
    if (tmpdir_make("e2e")) return 1;
    struct CMUnitTest tests[256];
    tcase cases[256];
    int n = 0;
    size_t i, j;
    json_t *f, *c;
    json_array_foreach(json_object_get(m, "fixtures"), i, f) {
        json_array_foreach(json_object_get(f, "cases"), j, c) {
            if (n == 256) break;
            cases[n].fixture = f;
            cases[n].c = c;
            snprintf(cases[n].name, sizeof cases[n].name, "%s/%s", json_string_value(json_object_get(f, "name")),
                     json_string_value(json_object_get(c, "name")));
            tests[n] = (struct CMUnitTest){cases[n].name, run_fixture_case, NULL, NULL, &cases[n]};
            n++;
        }
    }
    int rc = _cmocka_run_group_tests("e2e_pytorch", tests, (size_t)n, NULL, NULL);
    tmpdir_remove();
    json_decref(m);
    return rc;
}
