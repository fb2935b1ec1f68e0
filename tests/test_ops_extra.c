/*
 * Tests of the extra ops (ops_extra.c, extra_*.c): recurrent layers,
 * quantization, LRN, ReverseSequence, GridSample and the losses, called
 * directly through nnl_op_find.
 *
 * The reference cases of tests/refs/ops_extra_refs.inc come from PyTorch and
 * numpy (tools/gen_extra_refs.py: torch.nn.LSTM/GRU/RNN with their weights
 * in ONNX gate order, F.grid_sample, F.nll_loss / F.cross_entropy, ...).
 * During infer only constant inputs carry data, as at compile time; exec
 * runs on a two-thread pool.  The other tests check empty tensors, run-time
 * rejection of bad lengths and targets, and refusals with their messages.
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

#include "core/core.h"
#include "ops/ops.h"
#include "test_util.h"

#include "op_harness.h"

/* the ref_cases[] table and its arrays (tools/gen_extra_refs.py) */
#include "refs/ops_extra_refs.inc"

static void test_reference_cases(void **state) {
    (void)state;
    ref_check_cases(ref_cases, (int)(sizeof ref_cases / sizeof *ref_cases), NULL);
}

static bool recurrent(const char *op) { return !strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN"); }

static void test_rnn_without_scratch(void **state) {
    (void)state;
    ref_no_scratch = true;
    int ran = ref_check_cases(ref_cases, (int)(sizeof ref_cases / sizeof *ref_cases), recurrent);
    ref_no_scratch = false;
    assert_true(ran > 10);
}

/* ---- a call built by hand ------------------------------------------------------- */

/* Infer, then exec with fresh output buffers; returns exec's status.  The
 * caller frees the outputs with call_free. */
static nnl_status call_exec(call *k) {
    assert_int_equal(call_infer(k), NNL_OK);
    for (int i = 0; i < k->c.n_out; i++) {
        if (!k->outp[i]) continue;
        const size_t nb = nnl_tensor_nbytes(&k->out[i]);
        k->out[i].data = malloc(nb ? nb : 1);
    }
    return nnl_op_find(k->c.op)->exec(&k->c);
}

static void call_free(call *k) {
    for (int i = 0; i < 3; i++) free(k->out[i].data);
    free(k->scratch);
    k->scratch = NULL;
}

static void expect_fail(call *k, nnl_status want, const char *needle) {
    nnl_status s = call_infer(k);
    if (s != want || !strstr(nnl_last_error(), needle))
        printf("  %s: got %s '%s', want %s mentioning '%s'\n", k->c.op, nnl_status_string(s),
               nnl_last_error(), nnl_status_string(want), needle);
    assert_int_equal(s, want);
    assert_non_null(strstr(nnl_last_error(), needle));
    free(k->scratch);
    k->scratch = NULL;
}

/* LSTM with batch 0 and GRU over a zero-length sequence without initial
 * state: empty outputs, zero final state. */
static void test_empty(void **state) {
    (void)state;
    float w[4 * 3 * 2] = {0}, r[4 * 3 * 3] = {0};
    call k;
    call_init(&k, "LSTM", 7, NULL, 0, 3, 3);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){4, 0, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 12, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 12, 3}, r);
    float x[1];
    k.in[0].data = x;
    assert_int_equal(call_exec(&k), NNL_OK);
    assert_int_equal(k.out[0].rank, 4);
    assert_int_equal(k.out[0].dims[2], 0);
    assert_int_equal(nnl_tensor_numel(&k.out[1]), 0);
    call_free(&k);

    call_init(&k, "GRU", 7, NULL, 0, 3, 2);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){0, 2, 2}, x);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 9, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 9, 3}, r);
    k.outp[0] = NULL; /* Y not requested */
    assert_int_equal(call_exec(&k), NNL_OK);
    const float *h = k.out[1].data;
    assert_int_equal(nnl_tensor_numel(&k.out[1]), 6);
    for (int i = 0; i < 6; i++) assert_true(h[i] == 0.0f);
    call_free(&k);

    /* No input features: the projections are all zero. */
    call_init(&k, "LSTM", 7, NULL, 0, 3, 2);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){3, 2, 0}, x);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 12, 0}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 12, 3}, r);
    assert_int_equal(call_exec(&k), NNL_OK);
    for (int i = 0; i < 18; i++) assert_true(((float *)k.out[0].data)[i] == 0.0f);
    call_free(&k);

    /* An empty X admits any sequence and batch size; Y's would overflow. */
    call_init(&k, "RNN", 7, NULL, 0, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){(int64_t)1 << 40, (int64_t)1 << 30, 0}, x);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 4, 0}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 4, 4}, r);
    assert_int_equal(call_infer(&k), NNL_ERR_SHAPE);
    assert_non_null(strstr(nnl_last_error(), "too large"));
    call_free(&k);

    call_init(&k, "GridSample", 16, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, (int64_t[]){1, 2, 3, 3}, w);
    set_in(&k, 1, NNL_DT_FLOAT, 4, (int64_t[]){1, 0, 4, 2}, x);
    assert_int_equal(call_exec(&k), NNL_OK);
    assert_int_equal(nnl_tensor_numel(&k.out[0]), 0);
    call_free(&k);

    call_init(&k, "DynamicQuantizeLinear", 11, NULL, 0, 1, 3);
    set_in(&k, 0, NNL_DT_FLOAT, 1, (int64_t[]){0}, x);
    assert_int_equal(call_exec(&k), NNL_OK);
    assert_true(*(float *)k.out[1].data == 0.0f);
    assert_int_equal(*(uint8_t *)k.out[2].data, 0);
    call_free(&k);
}

/* Values only known at run time that are out of range fail exec. */
static void test_runtime_rejects(void **state) {
    (void)state;
    float x[2 * 3 * 2] = {0}, w[3 * 2] = {0}, r[3 * 3] = {0};
    int32_t lens[3] = {2, 3, 2};
    call k;
    call_init(&k, "RNN", 7, NULL, 0, 5, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){2, 3, 2}, x);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 3, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 3, 3}, r);
    k.inp[3] = NULL;
    set_in(&k, 4, NNL_DT_INT32, 1, (int64_t[]){3}, lens);
    assert_int_equal(call_exec(&k), NNL_ERR_INVALID_ARG);
    assert_non_null(strstr(nnl_last_error(), "sequence_lens"));
    call_free(&k);

    int64_t tg[2] = {1, 7};
    call_init(&k, "NegativeLogLikelihoodLoss", 13, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 2, (int64_t[]){2, 3}, x);
    set_in(&k, 1, NNL_DT_INT64, 1, (int64_t[]){2}, tg);
    assert_int_equal(call_exec(&k), NNL_ERR_INVALID_ARG);
    assert_non_null(strstr(nnl_last_error(), "target 7"));
    call_free(&k);

    int64_t sl[2] = {3, 1};
    call_init(&k, "ReverseSequence", 10, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 2, (int64_t[]){2, 2}, x);
    set_in(&k, 1, NNL_DT_INT64, 1, (int64_t[]){2}, sl);
    assert_int_equal(call_exec(&k), NNL_ERR_INVALID_ARG);
    call_free(&k);
}

static void test_refusals(void **state) {
    (void)state;
    float w[64] = {0};
    call k;

    const nnl_attr clip[] = {{.name = "clip", .type = NNL_ATTR_FLOAT, .f = 3}};
    call_init(&k, "LSTM", 7, clip, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){2, 1, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 8, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 8, 2}, w);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "clip");

    const nnl_attr alpha[] = {{.name = "activation_alpha", .type = NNL_ATTR_FLOATS, .n = 1,
                               .floats = (float[]){1}}};
    call_init(&k, "GRU", 7, alpha, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){2, 1, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 6, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 6, 2}, w);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "activation_alpha");

    const nnl_attr forget[] = {{.name = "input_forget", .type = NNL_ATTR_INT, .i = 1}};
    call_init(&k, "LSTM", 7, forget, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){2, 1, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 8, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 8, 2}, w);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "input_forget");

    const nnl_attr hs[] = {{.name = "hidden_size", .type = NNL_ATTR_INT, .i = 3}};
    call_init(&k, "RNN", 7, hs, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){2, 1, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 2, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 2, 2}, w);
    expect_fail(&k, NNL_ERR_SHAPE, "hidden_size");

    const nnl_attr bidir[] = {{.name = "direction", .type = NNL_ATTR_STRING, .s = "bidirectional"}};
    call_init(&k, "RNN", 7, bidir, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){2, 1, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 3, (int64_t[]){1, 2, 2}, w);
    set_in(&k, 2, NNL_DT_FLOAT, 3, (int64_t[]){1, 2, 2}, w);
    expect_fail(&k, NNL_ERR_SHAPE, "W has shape");

    const nnl_attr blk[] = {{.name = "block_size", .type = NNL_ATTR_INT, .i = 2}};
    call_init(&k, "QuantizeLinear", 21, blk, 1, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 2, (int64_t[]){2, 4}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 2, (int64_t[]){2, 2}, w);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "block_size");

    call_init(&k, "QuantizeLinear", 13, NULL, 0, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 2, (int64_t[]){2, 4}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 0, NULL, w);
    set_in(&k, 2, NNL_DT_INT32, 0, NULL, w);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "int32");

    call_init(&k, "DequantizeLinear", 13, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_UINT8, 2, (int64_t[]){2, 4}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 1, (int64_t[]){3}, w);
    expect_fail(&k, NNL_ERR_SHAPE, "scale has 3 elements");

    call_init(&k, "GridSample", 20, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 5, (int64_t[]){1, 1, 2, 2, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 5, (int64_t[]){1, 2, 2, 2, 3}, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "4-D");

    const nnl_attr gm[] = {{.name = "mode", .type = NNL_ATTR_STRING, .s = "area"}};
    call_init(&k, "GridSample", 16, gm, 1, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, (int64_t[]){1, 1, 2, 2}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 4, (int64_t[]){1, 2, 2, 2}, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "area");

    const nnl_attr red[] = {{.name = "reduction", .type = NNL_ATTR_STRING, .s = "max"}};
    call_init(&k, "SoftmaxCrossEntropyLoss", 13, red, 1, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 2, (int64_t[]){2, 3}, NULL);
    set_in(&k, 1, NNL_DT_INT64, 1, (int64_t[]){2}, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "reduction 'max'");

    call_init(&k, "NegativeLogLikelihoodLoss", 13, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){2, 3, 4}, NULL);
    set_in(&k, 1, NNL_DT_INT64, 2, (int64_t[]){2, 3}, NULL);
    expect_fail(&k, NNL_ERR_SHAPE, "target shape");

    const nnl_attr bogus[] = {{.name = "bogus_attr", .type = NNL_ATTR_INT, .i = 1}};
    call_init(&k, "LRN", 13, bogus, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, (int64_t[]){1, 3, 2, 2}, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "bogus_attr");

    call_init(&k, "LRN", 13, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, (int64_t[]){1, 3, 2, 2}, NULL);
    expect_fail(&k, NNL_ERR_SHAPE, "size");

    /* An output the op does not have. */
    call_init(&k, "Det", 11, NULL, 0, 1, 2);
    set_in(&k, 0, NNL_DT_FLOAT, 2, (int64_t[]){3, 3}, NULL);
    expect_fail(&k, NNL_ERR_SHAPE, "output 1 is extra");

    /* Only avg RoiAlign; STFT's frame_step decides the shape. */
    const nnl_attr rmax[] = {{.name = "mode", .type = NNL_ATTR_STRING, .s = "max"}};
    call_init(&k, "RoiAlign", 16, rmax, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, (int64_t[]){1, 1, 4, 4}, NULL);
    set_in(&k, 1, NNL_DT_FLOAT, 2, (int64_t[]){2, 4}, NULL);
    set_in(&k, 2, NNL_DT_INT64, 1, (int64_t[]){2}, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "mode 'max'");

    call_init(&k, "STFT", 17, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 3, (int64_t[]){1, 64, 1}, NULL);
    set_in(&k, 1, NNL_DT_INT64, 0, NULL, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "constant");
}

/* ---- QLinearConv / ConvInteger read their attributes as Conv does -------------- */

/* A call of op on a 1x2x3x3 input and a 2x2x1x1 weight (group 1 fits, so
 * only the attribute under test can make it fail); QLinearConv gets
 * per-tensor scales and zero points. */
static void qconv_call(call *k, const char *op, const nnl_attr *attrs, int n_attrs) {
    const int64_t xd[4] = {1, 2, 3, 3}, wd[4] = {2, 2, 1, 1};
    if (strcmp(op, "QLinearConv") == 0) {
        call_init(k, op, 10, attrs, n_attrs, 8, 1);
        set_in(k, 0, NNL_DT_UINT8, 4, xd, NULL);
        set_in(k, 3, NNL_DT_UINT8, 4, wd, NULL);
        for (int i = 1; i < 8; i += 1)
            if (i != 3) set_in(k, i, i == 2 || i == 5 || i == 7 ? NNL_DT_UINT8 : NNL_DT_FLOAT, 0, NULL, NULL);
    } else {
        const bool int8 = strcmp(op, "ConvInteger") == 0;
        call_init(k, op, 10, attrs, n_attrs, 2, 1);
        set_in(k, 0, int8 ? NNL_DT_UINT8 : NNL_DT_FLOAT, 4, xd, NULL);
        set_in(k, 1, int8 ? NNL_DT_UINT8 : NNL_DT_FLOAT, 4, wd, NULL);
    }
}

/* They used to read `group` with a default (a FLOAT group became 1) and to
 * take `pads` beside auto_pad SAME_*, both of which Conv refuses. */
static void test_qconv_attrs_as_conv(void **state) {
    (void)state;
    const char *const ops[] = {"Conv", "ConvInteger", "QLinearConv"};
    const nnl_attr fgroup[] = {{.name = "group", .type = NNL_ATTR_FLOAT, .f = 1}};
    const int64_t zeros[4] = {0};
    const nnl_attr same_pads[] = {{.name = "auto_pad", .type = NNL_ATTR_STRING, .s = "SAME_UPPER"},
                                  {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = zeros}};
    call k;
    for (int i = 0; i < 3; i++) {
        qconv_call(&k, ops[i], NULL, 0);
        assert_int_equal(call_infer(&k), NNL_OK);
        call_free(&k);
        qconv_call(&k, ops[i], fgroup, 1);
        expect_fail(&k, NNL_ERR_SHAPE, "'group' must be an int");
        qconv_call(&k, ops[i], same_pads, 2);
        expect_fail(&k, NNL_ERR_UNSUPPORTED, "'pads' together with auto_pad");
    }
}

/* NnlQLinearAdd's 8 inputs: a and b of dims (1, n) with their per-tensor
 * parameters, y's scale and zero point, all of type dt. */
static void qadd_inputs(call *k, nnl_dtype dt, int64_t n, void *a, void *b, const float *s, uint8_t *z) {
    set_in(k, 0, dt, 2, (int64_t[]){1, n}, a);
    set_in(k, 1, NNL_DT_FLOAT, 0, NULL, (void *)&s[0]);
    set_in(k, 2, dt, 0, NULL, &z[0]);
    set_in(k, 3, dt, 2, (int64_t[]){1, n}, b);
    set_in(k, 4, NNL_DT_FLOAT, 0, NULL, (void *)&s[1]);
    set_in(k, 5, dt, 0, NULL, &z[1]);
    set_in(k, 6, NNL_DT_FLOAT, 0, NULL, (void *)&s[2]);
    set_in(k, 7, dt, 0, NULL, &z[2]);
}

/* ONNX QuantizeLinear of one value: x / s rounded half to even, NaN to
 * 0, plus z, saturated; written out here independently of the op. */
static int32_t q_ref(float x, float s, int32_t z, bool u8) {
    float v = rintf(x / s);
    if (isnan(v)) v = 0;
    v += (float)z;
    const float lo = u8 ? 0.0f : -128.0f, hi = u8 ? 255.0f : 127.0f;
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static int32_t q8_at(const void *p, bool u8, int64_t i) {
    return u8 ? ((const uint8_t *)p)[i] : ((const int8_t *)p)[i];
}

/* The per-tensor QuantizeLinear / DequantizeLinear (4 lanes at a time,
 * ops/quant/qvec.h) and NnlQLinearAdd (the fused DequantizeLinear x2 ->
 * Add -> Relu/Clip -> QuantizeLinear of QDQ residual blocks) equal the
 * ONNX arithmetic bit for bit: ties of rounding, NaN, infinities,
 * saturation, lengths that leave a tail, both 8-bit types. */
static void test_qdq_islands_exact(void **state) {
    (void)state;
    enum { N = 4099 };
    static float x[N], y_dq[N];
    static uint8_t a[N], b[N];
    const float s = 0.0625f;
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        /* multiples of s/2 hit every rounding tie; a wide range saturates */
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((int)(seed >> 8) % 1200 - 600) * (s / 2);
        a[i] = (uint8_t)(seed >> 24);
        b[i] = (uint8_t)(seed >> 16);
    }
    x[5] = NAN, x[6] = INFINITY, x[7] = -INFINITY, x[8] = 1e30f, x[9] = -0.0f;
    for (int u = 0; u < 2; u++) {
        const bool u8 = u == 0;
        const nnl_dtype dt = u8 ? NNL_DT_UINT8 : NNL_DT_INT8;
        uint8_t zq = u8 ? 131 : (uint8_t)(int8_t)-7;
        const int32_t z = u8 ? 131 : -7;
        call k;
        call_init(&k, "QuantizeLinear", 13, NULL, 0, 3, 1);
        set_in(&k, 0, NNL_DT_FLOAT, 1, (int64_t[]){N}, x);
        set_in(&k, 1, NNL_DT_FLOAT, 0, NULL, (void *)&s);
        set_in(&k, 2, dt, 0, NULL, &zq);
        assert_int_equal(call_exec(&k), NNL_OK);
        int bad = 0;
        for (int i = 0; i < N; i++) bad += q8_at(k.out[0].data, u8, i) != q_ref(x[i], s, z, u8);
        assert_int_equal(bad, 0);
        call_free(&k);

        call_init(&k, "DequantizeLinear", 13, NULL, 0, 3, 1);
        set_in(&k, 0, dt, 1, (int64_t[]){N}, a);
        set_in(&k, 1, NNL_DT_FLOAT, 0, NULL, (void *)&s);
        set_in(&k, 2, dt, 0, NULL, &zq);
        assert_int_equal(call_exec(&k), NNL_OK);
        for (int i = 0; i < N; i++) y_dq[i] = (float)(q8_at(a, u8, i) - z) * s;
        assert_memory_equal(k.out[0].data, y_dq, sizeof y_dq);
        call_free(&k);

        /* a + b (a per-tensor int8 or uint8 pair each), y of the same type,
         * clamped as a fused Relu makes it: [z_y, max] */
        const float sc[3] = {0.05f, 0.11f, 0.13f};   /* a, b, y */
        uint8_t zs[3] = {u8 ? 120 : 3, u8 ? 7 : (uint8_t)(int8_t)-100, u8 ? 40 : (uint8_t)(int8_t)-20};
        const nnl_attr clamp[] = {{.name = "nnl_ymin", .type = NNL_ATTR_INT, .i = u8 ? 40 : -20},
                                  {.name = "nnl_ymax", .type = NNL_ATTR_INT, .i = u8 ? 255 : 127}};
        call_init(&k, "NnlQLinearAdd", 13, clamp, 2, 8, 1);
        qadd_inputs(&k, dt, N, a, b, sc, zs);
        assert_int_equal(call_exec(&k), NNL_OK);
        bad = 0;
        const int32_t iza = q8_at(zs, u8, 0), izb = q8_at(zs, u8, 1), izy = q8_at(zs, u8, 2);
        for (int i = 0; i < N; i++) {
            float v = (float)(q8_at(a, u8, i) - iza) * sc[0] + (float)(q8_at(b, u8, i) - izb) * sc[1];
            v = v > 0 ? v : 0;   /* the Relu the clamp stands for */
            bad += q8_at(k.out[0].data, u8, i) != q_ref(v, sc[2], izy, u8);
        }
        assert_int_equal(bad, 0);
        call_free(&k);

        /* a clamp outside y's type is refused */
        const nnl_attr wide[] = {{.name = "nnl_ymin", .type = NNL_ATTR_INT, .i = -129}};
        call_init(&k, "NnlQLinearAdd", 13, wide, 1, 8, 1);
        qadd_inputs(&k, dt, N, NULL, NULL, sc, zs);
        expect_fail(&k, NNL_ERR_SHAPE, "clamp [-129,");
    }
}

/* A value in [0, n) from the LCG state *seed. */
static int64_t lcg_below(uint32_t *seed, int64_t n) {
    *seed = *seed * 1664525u + 1013904223u;
    return (int64_t)(*seed >> 8) % n;
}

/* Per-tensor QuantizeLinear / DequantizeLinear against the ONNX
 * arithmetic written out here, over scales that are not powers of two (so
 * x / s rounds) and values at and next to every rounding tie of them
 * (k + 0.5) * s and its float neighbours, the saturation bounds and past
 * them, NaN, infinities, zeros of both signs, subnormals; zero points at
 * the ends of each type; lengths and start offsets that leave every tail
 * (the op is also split between two threads); then per axis, each of
 * three axes. */
static void test_qdq_rounding_exact(void **state) {
    (void)state;
    enum { N = 1200 };
    static float x[N + 16], y_dq[N];
    static uint8_t a[N + 16];
    uint32_t seed = 777;
    const float scales[] = {0.0173f, 0.1f, 1.0f / 3.0f, 0.0078125f, 7.31f, 1e-3f, 3e-5f, 1.5e-38f, 2e-39f};
    const int32_t zps[2][4] = {{0, 255, 128, 3}, {0, -128, 127, -7}};
    for (int si = 0; si < (int)(sizeof scales / sizeof *scales); si++)
        for (int u = 0; u < 2; u++)
            for (int zi = 0; zi < 4; zi++) {
                const bool u8 = u == 0;
                const float s = scales[si];
                const int32_t z = zps[u][zi];
                uint8_t zq = (uint8_t)z;
                for (int i = 0; i < N + 16; i++) {
                    const int64_t k = lcg_below(&seed, 700) - 350;
                    float v;
                    switch (lcg_below(&seed, 8)) {
                    case 0: v = ((float)k + 0.5f) * s; break;
                    case 1: v = nextafterf(((float)k + 0.5f) * s, INFINITY); break;
                    case 2: v = nextafterf(((float)k + 0.5f) * s, -INFINITY); break;
                    case 3: v = (float)k * s; break;
                    case 4: v = (float)(lcg_below(&seed, 2000001) - 1000000) * 1e-3f * s; break;
                    case 5: {
                        static const float odd[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-45f, -1e-40f,
                                                    3e38f, -3e38f, 8388608.5f, 4194304.5f, -12582912.0f};
                        v = odd[lcg_below(&seed, (int64_t)(sizeof odd / sizeof *odd))];
                        break;
                    }
                    default: v = (float)(lcg_below(&seed, 2001) - 1000) * 0.37f * s; break;
                    }
                    x[i] = v;
                    a[i] = (uint8_t)lcg_below(&seed, 256);
                }
                const int64_t off = lcg_below(&seed, 16), n = N - lcg_below(&seed, 40);
                call k;
                call_init(&k, "QuantizeLinear", 13, NULL, 0, 3, 1);
                set_in(&k, 0, NNL_DT_FLOAT, 1, (int64_t[]){n}, x + off);
                set_in(&k, 1, NNL_DT_FLOAT, 0, NULL, (void *)&s);
                set_in(&k, 2, u8 ? NNL_DT_UINT8 : NNL_DT_INT8, 0, NULL, &zq);
                assert_int_equal(call_exec(&k), NNL_OK);
                int bad = 0;
                for (int64_t i = 0; i < n; i++) {
                    const int32_t got = q8_at(k.out[0].data, u8, i), want = q_ref(x[off + i], s, z, u8);
                    if (got != want && bad++ < 5)
                        printf("  quantize %.9g / %.9g, z %d: %d, want %d\n", (double)x[off + i], (double)s, (int)z,
                               (int)got, (int)want);
                }
                assert_int_equal(bad, 0);
                call_free(&k);

                call_init(&k, "DequantizeLinear", 13, NULL, 0, 3, 1);
                set_in(&k, 0, u8 ? NNL_DT_UINT8 : NNL_DT_INT8, 1, (int64_t[]){n}, a + off);
                set_in(&k, 1, NNL_DT_FLOAT, 0, NULL, (void *)&s);
                set_in(&k, 2, u8 ? NNL_DT_UINT8 : NNL_DT_INT8, 0, NULL, &zq);
                assert_int_equal(call_exec(&k), NNL_OK);
                for (int64_t i = 0; i < n; i++) y_dq[i] = (float)(q8_at(a, u8, off + i) - z) * s;
                assert_memory_equal(k.out[0].data, y_dq, (size_t)n * sizeof(float));
                call_free(&k);
            }

    /* per axis: one scale and zero point per slice of axis 0, 1 or 2 of
     * 2 x 7 x 37 (runs of 37 * 7, 37 and 1 elements) */
    const int64_t dims[3] = {2, 7, 37}, nx = 2 * 7 * 37;
    for (int axis = 0; axis < 3; axis++)
        for (int u = 0; u < 2; u++) {
            const bool u8 = u == 0;
            const nnl_dtype dt = u8 ? NNL_DT_UINT8 : NNL_DT_INT8;
            const int64_t na = dims[axis], inner = axis == 0 ? 7 * 37 : axis == 1 ? 37 : 1;
            float sc[37];
            uint8_t zq[37];
            for (int64_t i = 0; i < na; i++) {
                sc[i] = scales[lcg_below(&seed, 7)] * (1.0f + (float)lcg_below(&seed, 100) / 37.0f);
                zq[i] = (uint8_t)lcg_below(&seed, 256);
            }
            for (int64_t i = 0; i < nx; i++) {
                const float s = sc[(i / inner) % na];
                x[i] = lcg_below(&seed, 2) ? ((float)(lcg_below(&seed, 700) - 350) + 0.5f) * s
                                           : (float)(lcg_below(&seed, 2001) - 1000) * 0.37f * s;
                a[i] = (uint8_t)lcg_below(&seed, 256);
            }
            const nnl_attr ax = {.name = "axis", .type = NNL_ATTR_INT, .i = axis};
            call k;
            call_init(&k, "QuantizeLinear", 13, &ax, 1, 3, 1);
            set_in(&k, 0, NNL_DT_FLOAT, 3, dims, x);
            set_in(&k, 1, NNL_DT_FLOAT, 1, &na, sc);
            set_in(&k, 2, dt, 1, &na, zq);
            assert_int_equal(call_exec(&k), NNL_OK);
            int bad = 0;
            for (int64_t i = 0; i < nx; i++) {
                const int64_t c = (i / inner) % na;
                bad += q8_at(k.out[0].data, u8, i) != q_ref(x[i], sc[c], q8_at(zq, u8, c), u8);
            }
            assert_int_equal(bad, 0);
            call_free(&k);
            call_init(&k, "DequantizeLinear", 13, &ax, 1, 3, 1);
            set_in(&k, 0, dt, 3, dims, a);
            set_in(&k, 1, NNL_DT_FLOAT, 1, &na, sc);
            set_in(&k, 2, dt, 1, &na, zq);
            assert_int_equal(call_exec(&k), NNL_OK);
            for (int64_t i = 0; i < nx; i++) {
                const int64_t c = (i / inner) % na;
                y_dq[i] = (float)(q8_at(a, u8, i) - q8_at(zq, u8, c)) * sc[c];
            }
            assert_memory_equal(k.out[0].data, y_dq, (size_t)nx * sizeof(float));
            call_free(&k);
        }
}

/* MaxPool over uint8 / int8 (what a QDQ model's DequantizeLinear ->
 * MaxPool becomes) equals MaxPool over the same values in float32: every
 * geometry path (borders, stride-1 blocks, ceil_mode, dilation, 1-D). */
static const int64_t *ints_of(const nnl_attr *a, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].name, name) == 0) return a[i].ints;
    return NULL;
}

/* Outputs of a float MaxPool call (x of dims (N, C, [H,] W)) that differ
 * from the max over the window's taps inside the input, for the output
 * size the op chose. */
static int pool_brute_force_mismatches(const call *k, const float *x, const nnl_attr *a, int na) {
    const nnl_tensor *y = &k->out[0];
    int ns = y->rank - 2, bad = 0;
    const int64_t *ks = ints_of(a, na, "kernel_shape"), *st = ints_of(a, na, "strides");
    const int64_t *pd = ints_of(a, na, "pads"), *dl = ints_of(a, na, "dilations");
    int64_t ih = ns == 2 ? k->in[0].dims[2] : 1, iw = k->in[0].dims[ns + 1];
    int64_t oh = ns == 2 ? y->dims[2] : 1, ow = y->dims[ns + 1], planes = y->dims[0] * y->dims[1];
    int64_t kh = ns == 2 ? ks[0] : 1, kw = ks[ns - 1], sh = ns == 2 ? st[0] : 1, sw = st[ns - 1];
    int64_t ph = ns == 2 ? pd[0] : 0, pw = pd[ns - 1], dh = ns == 2 && dl ? dl[0] : 1, dw = dl ? dl[ns - 1] : 1;
    for (int64_t p = 0; p < planes; p++)
        for (int64_t r = 0; r < oh; r++)
            for (int64_t c = 0; c < ow; c++) {
                float m = -INFINITY;
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++) {
                        int64_t yy = r * sh - ph + i * dh, xx = c * sw - pw + j * dw;
                        if (yy >= 0 && yy < ih && xx >= 0 && xx < iw && x[(p * ih + yy) * iw + xx] > m)
                            m = x[(p * ih + yy) * iw + xx];
                    }
                bad += ((float *)y->data)[(p * oh + r) * ow + c] != m;
            }
    return bad;
}

static void test_maxpool_8bit(void **state) {
    (void)state;
    enum { N = 2 * 3 * 13 * 37 };
    static int8_t q[N];
    static float f[N];
    uint32_t seed = 99;
    const int64_t k33[] = {3, 3}, s22[] = {2, 2}, s11[] = {1, 1}, p1[] = {1, 1, 1, 1}, d2[] = {2, 2}, p0[] = {0, 0, 0, 0};
    const int64_t k5[] = {5}, s1[] = {1}, p2[] = {2, 1}, s3[] = {3}, d21[] = {2, 1}, s23[] = {2, 3}, p3[] = {2, 1, 0, 2};
    const nnl_attr geoms[][5] = {
        {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = k33},
         {.name = "strides", .type = NNL_ATTR_INTS, .n = 2, .ints = s22},
         {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = p1},
         {.name = "ceil_mode", .type = NNL_ATTR_INT, .i = 1}},
        {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = k33},
         {.name = "strides", .type = NNL_ATTR_INTS, .n = 2, .ints = s11},
         {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = p0},
         {.name = "dilations", .type = NNL_ATTR_INTS, .n = 2, .ints = d2}},
        {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 1, .ints = k5},
         {.name = "strides", .type = NNL_ATTR_INTS, .n = 1, .ints = s1},
         {.name = "pads", .type = NNL_ATTR_INTS, .n = 2, .ints = p2}},
        /* strided columns with dilation (the window-then-pick path) */
        {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = k33},
         {.name = "strides", .type = NNL_ATTR_INTS, .n = 2, .ints = s23},
         {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = p3},
         {.name = "dilations", .type = NNL_ATTR_INTS, .n = 2, .ints = d21}},
        {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 1, .ints = k5},
         {.name = "strides", .type = NNL_ATTR_INTS, .n = 1, .ints = s3},
         {.name = "pads", .type = NNL_ATTR_INTS, .n = 2, .ints = p2}},
    };
    const int n_attrs[] = {4, 4, 3, 4, 3};
    for (int u = 0; u < 2; u++) {
        const nnl_dtype dt = u ? NNL_DT_INT8 : NNL_DT_UINT8;
        for (int i = 0; i < N; i++) {
            seed = seed * 1664525u + 1013904223u;
            q[i] = (int8_t)(seed >> 24);
            f[i] = u ? (float)q[i] : (float)(uint8_t)q[i];
        }
        for (int gi = 0; gi < 5; gi++) {
            const int rank = gi == 2 || gi == 4 ? 3 : 4;
            const int64_t d4[] = {2, 3, 13, 37}, d3[] = {2, 39, 37};
            call kq, kf;
            call_init(&kq, "MaxPool", 12, geoms[gi], n_attrs[gi], 1, 1);
            set_in(&kq, 0, dt, rank, rank == 4 ? d4 : d3, q);
            assert_int_equal(call_exec(&kq), NNL_OK);
            assert_int_equal(kq.out[0].dtype, dt);
            call_init(&kf, "MaxPool", 12, geoms[gi], n_attrs[gi], 1, 1);
            set_in(&kf, 0, NNL_DT_FLOAT, rank, rank == 4 ? d4 : d3, f);
            assert_int_equal(call_exec(&kf), NNL_OK);
            const int64_t n = nnl_tensor_numel(&kf.out[0]);
            assert_int_equal(nnl_tensor_numel(&kq.out[0]), n);
            int bad = 0;
            for (int64_t i = 0; i < n; i++) {
                float v = u ? (float)((int8_t *)kq.out[0].data)[i] : (float)((uint8_t *)kq.out[0].data)[i];
                bad += v != ((float *)kf.out[0].data)[i];
            }
            assert_int_equal(bad, 0);
            assert_int_equal(pool_brute_force_mismatches(&kf, f, geoms[gi], n_attrs[gi]), 0);
            call_free(&kq);
            call_free(&kf);
        }
    }
}

/* A random MaxPool geometry for the tests below: widths from the
 * caller's list around its block sizes, heights 1-9 (1-D one case in
 * five), every stride 1-4, dilations, pads up to beyond the kernel (empty
 * windows), ceil_mode, auto_pad.  a[] points into the struct. */
typedef struct pool_case {
    bool two_d;
    int ns, na, rank;
    int64_t in[2], k[2], st[2], dl[2];  /* index 0 = H (1 for 1-D), 1 = W */
    int64_t pb[2];                      /* pads at the begin (auto_pad's too) */
    int64_t kk[2], ss[2], dd[2], pads[4], dims[4];
    const char *ap;
    nnl_attr a[6];
} pool_case;

/* Draws case it; false when auto_pad leaves no window inside the input. */
static bool pool_case_draw(pool_case *c, uint32_t *seed, int it, const int64_t *widths, int n_widths) {
    static const char *const autopads[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    memset(c, 0, sizeof *c);
    c->two_d = it % 5 != 0;
    c->ns = c->two_d ? 2 : 1;
    c->rank = c->ns + 2;
    c->in[0] = c->two_d ? 1 + lcg_below(seed, 9) : 1;
    c->in[1] = widths[lcg_below(seed, n_widths)];
    for (int i = 0; i < 2; i++) {
        c->k[i] = 1 + lcg_below(seed, it % 7 == 0 ? 17 : 5);
        c->st[i] = 1 + lcg_below(seed, 4);
        if (it % 3 == 0) c->st[i] = 2;
        c->dl[i] = it % 4 == 0 ? 1 + lcg_below(seed, 3) : 1;
    }
    if (!c->two_d) c->k[0] = c->st[0] = c->dl[0] = 1;
    const int first = c->two_d ? 0 : 1;
    for (int i = 0; i < c->ns; i++) {
        const int j = first + i;
        const int64_t ek = (c->k[j] - 1) * c->dl[j] + 1;
        c->kk[i] = c->k[j], c->ss[i] = c->st[j], c->dd[i] = c->dl[j];
        c->pads[i] = lcg_below(seed, ek + (it % 11 == 0 ? 3 : 0));
        c->pads[c->ns + i] = lcg_below(seed, ek + (it % 13 == 0 ? 3 : 0));
        if (c->in[j] + c->pads[i] + c->pads[c->ns + i] < ek) c->pads[c->ns + i] = ek - c->in[j] - c->pads[i];
        c->pb[j] = c->pads[i];
    }
    c->ap = autopads[it % 9 == 0 ? 1 + lcg_below(seed, 3) : 0];
    const bool same = strncmp(c->ap, "SAME", 4) == 0;
    for (int j = first; j < 2 && strcmp(c->ap, "NOTSET") != 0; j++) {
        /* SAME / VALID: a window must fit the input; SAME pads as ONNX
         * sets them (the odd one at the end for SAME_UPPER) */
        const int64_t ek = (c->k[j] - 1) * c->dl[j] + 1, out = (c->in[j] + c->st[j] - 1) / c->st[j];
        const int64_t total = same && (out - 1) * c->st[j] + ek > c->in[j] ? (out - 1) * c->st[j] + ek - c->in[j] : 0;
        if (ek > c->in[j]) return false;
        c->pb[j] = strcmp(c->ap, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
    }
    int64_t *d = c->dims;   /* (2, 3, [H,] W) */
    d[0] = 2, d[1] = 3, d[2] = c->two_d ? c->in[0] : c->in[1], d[3] = c->in[1];
    const nnl_attr a[6] = {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = c->ns, .ints = c->kk},
                           {.name = "strides", .type = NNL_ATTR_INTS, .n = c->ns, .ints = c->ss},
                           {.name = "dilations", .type = NNL_ATTR_INTS, .n = c->ns, .ints = c->dd},
                           {.name = "ceil_mode", .type = NNL_ATTR_INT, .i = it % 6 == 1},
                           {.name = "auto_pad", .type = NNL_ATTR_STRING, .s = c->ap},
                           {.name = "pads", .type = NNL_ATTR_INTS, .n = 2 * c->ns, .ints = c->pads}};
    memcpy(c->a, a, sizeof a);
    c->na = strcmp(c->ap, "NOTSET") == 0 ? 6 : 5;
    return true;
}

/* Index into x (6 planes of in[0] x in[1]) of tap (i, j) of output (r, c)
 * of plane pl, or -1 outside the input. */
static int64_t pool_case_tap(const pool_case *c, int64_t pl, int64_t r, int64_t col, int64_t i, int64_t j) {
    const int64_t yy = r * c->st[0] - c->pb[0] + i * c->dl[0], xx = col * c->st[1] - c->pb[1] + j * c->dl[1];
    if (yy < 0 || yy >= c->in[0] || xx < 0 || xx >= c->in[1]) return -1;
    return (pl * c->in[0] + yy) * c->in[1] + xx;
}

static void pool_case_print(const pool_case *c, const char *type, int it, int bad) {
    printf("  %s %s %lldx%lld k %lldx%lld s %lldx%lld d %lldx%lld pads %lld,%lld ceil %d: %d wrong\n", type,
           c->ap, (long long)c->in[0], (long long)c->in[1], (long long)c->k[0], (long long)c->k[1],
           (long long)c->st[0], (long long)c->st[1], (long long)c->dl[0], (long long)c->dl[1],
           (long long)c->pb[0], (long long)c->pb[1], it % 6 == 1, bad);
}

/* The 8-bit MaxPool's vector paths (row buffers of the padded row, stride-2
 * phases, blocks of 16 / 32 with an overlapping last block) against the
 * window's max computed here and against the float32 MaxPool, over random
 * geometries (pool_case_draw), both types. */
static void test_maxpool_8bit_geometries(void **state) {
    (void)state;
    static const int64_t widths[] = {1, 2, 5, 15, 16, 17, 31, 32, 33, 34, 47, 63, 64, 65, 66, 97, 112, 113, 130};
    enum { NMAX = 2 * 3 * 9 * 130 };
    static uint8_t q[NMAX];
    static float f[NMAX];
    uint32_t seed = 2024;
    int cases = 0;
    for (int it = 0; it < 400; it++) {
        const bool u8 = it % 2 == 0;
        pool_case pc;
        if (!pool_case_draw(&pc, &seed, it, widths, (int)(sizeof widths / sizeof *widths))) continue;
        const int64_t n = 6 * pc.in[0] * pc.in[1];
        for (int64_t i = 0; i < n; i++) {
            /* a quarter any byte, the rest the ends of both types (ties,
             * and where a signed and an unsigned max differ) */
            static const uint8_t ends[] = {0x00, 0xff, 0x7f, 0x80};
            q[i] = (uint8_t)(lcg_below(&seed, 4) == 0 ? lcg_below(&seed, 256) : ends[lcg_below(&seed, 4)]);
            f[i] = u8 ? (float)q[i] : (float)(int8_t)q[i];
        }
        call kq, kf;
        call_init(&kq, "MaxPool", 12, pc.a, pc.na, 1, 1);
        set_in(&kq, 0, u8 ? NNL_DT_UINT8 : NNL_DT_INT8, pc.rank, pc.dims, q);
        call_init(&kf, "MaxPool", 12, pc.a, pc.na, 1, 1);
        set_in(&kf, 0, NNL_DT_FLOAT, pc.rank, pc.dims, f);
        assert_int_equal(call_exec(&kq), NNL_OK);
        assert_int_equal(call_exec(&kf), NNL_OK);
        const nnl_tensor *y = &kq.out[0];
        const int64_t oh = pc.two_d ? y->dims[2] : 1, ow = y->dims[pc.rank - 1], m = nnl_tensor_numel(y);
        assert_int_equal(nnl_tensor_numel(&kf.out[0]), m);
        int bad = 0;
        for (int64_t i = 0; i < m; i++) {
            const float want = ((float *)kf.out[0].data)[i];
            const int32_t got = q8_at(y->data, u8, i);
            bad += got != (want == -INFINITY ? (u8 ? 0 : -128) : (int32_t)want);
        }
        /* the window's max over the taps inside the input */
        for (int64_t pl = 0; pl < 6; pl++)
            for (int64_t r = 0; r < oh; r++)
                for (int64_t c = 0; c < ow; c++) {
                    int32_t want = u8 ? 0 : -128;
                    for (int64_t i = 0; i < pc.k[0]; i++)
                        for (int64_t j = 0; j < pc.k[1]; j++) {
                            const int64_t at = pool_case_tap(&pc, pl, r, c, i, j);
                            const int32_t v = at < 0 ? want : q8_at(q, u8, at);
                            want = v > want ? v : want;
                        }
                    bad += q8_at(y->data, u8, (pl * oh + r) * ow + c) != want;
                }
        if (bad) pool_case_print(&pc, u8 ? "uint8" : "int8", it, bad);
        assert_int_equal(bad, 0);
        call_free(&kq);
        call_free(&kf);
        cases++;
    }
    assert_true(cases > 300);

    /* a padded row wider than the row buffer, and a 3-D pool, are refused */
    static uint8_t one[8];
    const int64_t k1[] = {1, 1}, far[] = {0, 3000000, 0, 0}, k111[] = {1, 1, 1};
    const nnl_attr wide[] = {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = k1},
                             {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = far}};
    const nnl_attr cube[] = {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 3, .ints = k111}};
    call k;
    call_init(&k, "MaxPool", 12, wide, 2, 1, 1);
    set_in(&k, 0, NNL_DT_UINT8, 4, (int64_t[]){1, 1, 2, 4}, one);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "rows of at most");
    call_init(&k, "MaxPool", 12, cube, 1, 1, 1);
    set_in(&k, 0, NNL_DT_INT8, 5, (int64_t[]){1, 1, 2, 2, 2}, one);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "1-D or 2-D");
}

/* The float MaxPool (the 8-bit rows' structure over float vectors of 4)
 * against the window's max computed here over random geometries
 * (pool_case_draw) with widths around its blocks of 4, 8 and 16: values
 * with ties, infinities and NaN, which the max skips (a window of NaN and
 * pads only gives -inf, as the scalar rule x > m does). */
static void test_maxpool_float_geometries(void **state) {
    (void)state;
    static const int64_t widths[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 14, 15, 16, 17, 23, 28, 31, 32, 33, 56, 111, 112, 113};
    enum { NMAX = 2 * 3 * 9 * 113 };
    static float x[NMAX];
    uint32_t seed = 77;
    int cases = 0;
    for (int it = 0; it < 600; it++) {
        pool_case pc;
        if (!pool_case_draw(&pc, &seed, it, widths, (int)(sizeof widths / sizeof *widths))) continue;
        const int64_t n = 6 * pc.in[0] * pc.in[1];
        for (int64_t i = 0; i < n; i++) {
            static const float odd[] = {NAN, -INFINITY, INFINITY, -0.0f, 0.0f, 1.5f, -1e30f};
            const int64_t r = lcg_below(&seed, 16);
            x[i] = r < 7 && it % 2 ? odd[r] : (float)(lcg_below(&seed, 2001) - 1000) / 8;
        }
        call k;
        call_init(&k, "MaxPool", 12, pc.a, pc.na, 1, 1);
        set_in(&k, 0, NNL_DT_FLOAT, pc.rank, pc.dims, x);
        assert_int_equal(call_exec(&k), NNL_OK);
        const nnl_tensor *y = &k.out[0];
        const int64_t oh = pc.two_d ? y->dims[2] : 1, ow = y->dims[pc.rank - 1];
        int bad = 0;
        for (int64_t pl = 0; pl < 6; pl++)
            for (int64_t r = 0; r < oh; r++)
                for (int64_t c = 0; c < ow; c++) {
                    float want = -INFINITY;
                    for (int64_t i = 0; i < pc.k[0]; i++)
                        for (int64_t j = 0; j < pc.k[1]; j++) {
                            const int64_t at = pool_case_tap(&pc, pl, r, c, i, j);
                            if (at >= 0 && x[at] > want) want = x[at];
                        }
                    const float got = ((float *)y->data)[(pl * oh + r) * ow + c];
                    bad += memcmp(&got, &want, sizeof got) != 0 && !(got == 0 && want == 0);
                }
        if (bad) pool_case_print(&pc, "float", it, bad);
        assert_int_equal(bad, 0);
        call_free(&k);
        cases++;
    }
    assert_true(cases > 450);
}

int main(void) {
    if (isa_check_forced()) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_cases),
        cmocka_unit_test(test_rnn_without_scratch),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_runtime_rejects),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_qconv_attrs_as_conv),
        cmocka_unit_test(test_qdq_islands_exact),
        cmocka_unit_test(test_qdq_rounding_exact),
        cmocka_unit_test(test_maxpool_8bit),
        cmocka_unit_test(test_maxpool_8bit_geometries),
        cmocka_unit_test(test_maxpool_float_geometries),
    };
    return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
