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
#include "test_util.h"

typedef struct ref_tensor {
    nnl_dtype dt;              /* 0: omitted optional input */
    int rank;
    int64_t dims[NNL_MAX_RANK];
    const void *data;          /* NULL when empty */
    int constant;              /* has data at infer time */
} ref_tensor;

typedef struct ref_case {
    const char *name, *op;
    int64_t opset;
    const nnl_attr *attrs;
    int n_attrs;
    const ref_tensor *in;
    int n_in;
    const ref_tensor *out;
    int n_out;
    double tol;                /* floats: |got - want| <= tol * max(1, |want|) */
} ref_case;

/* the ref_cases[] table and its arrays (tools/gen_extra_refs.py) */
#include "refs/ops_extra_refs.inc"

#define MAXIO 10

static nnl_pool *g_pool;
static void *g_tscratch[2]; /* per pool thread, as a session has */
/* Exec without the shared scratch: the recurrent ops' fallback for input
 * projections too large to keep (they compute them step by step). */
static bool g_no_scratch;

/* Number of elements that differ (the first few are printed). */
static int compare(const char *name, int k, nnl_dtype dt, const void *got, const void *want,
                   int64_t n, double tol) {
    const size_t es = nnl_dtype_size(dt);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        bool ok;
        if (dt == NNL_DT_FLOAT) {
            const double a = ((const float *)got)[i], b = ((const float *)want)[i];
            ok = (isnan(a) && isnan(b)) || a == b ||
                 fabs(a - b) <= tol * (fabs(b) > 1 ? fabs(b) : 1);
            if (!ok && bad < 3)
                printf("  %s: output %d [%lld] = %.9g, want %.9g\n", name, k, (long long)i, a, b);
        } else {
            ok = memcmp((const char *)got + i * es, (const char *)want + i * es, es) == 0;
            if (!ok && bad < 3) {
                int64_t a = 0, b = 0;
                memcpy(&a, (const char *)got + i * es, es);
                memcpy(&b, (const char *)want + i * es, es);
                printf("  %s: output %d [%lld] = %lld, want %lld\n", name, k, (long long)i,
                       (long long)a, (long long)b);
            }
        }
        bad += !ok;
    }
    return bad;
}

static size_t ref_nbytes(const ref_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return (size_t)n * nnl_dtype_size(t->dt);
}

/* Infer (constant inputs only carry data), check the output types and
 * shapes, exec on the pool, compare.  Returns the number of problems. */
static int run_case(const ref_case *rc) {
    const nnl_op_def *def = nnl_op_find(rc->op);
    if (!def) {
        printf("  %s: op %s not found\n", rc->name, rc->op);
        return 1;
    }
    if (rc->n_in > MAXIO || rc->n_out > MAXIO) {
        printf("  %s: too many inputs or outputs for the harness\n", rc->name);
        return 1;
    }
    nnl_tensor in[MAXIO], out[MAXIO];
    nnl_tensor *inp[MAXIO], *outp[MAXIO];
    void *bufs[2 * MAXIO] = {0};
    void *scratch = NULL;
    int fails = 0;
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    for (int i = 0; i < rc->n_in; i++) {
        const ref_tensor *r = &rc->in[i];
        inp[i] = NULL;
        if (!r->dt) continue;
        in[i].dtype = r->dt;
        in[i].rank = r->rank;
        memcpy(in[i].dims, r->dims, sizeof r->dims);
        const size_t nb = ref_nbytes(r);
        bufs[i] = malloc(nb ? nb : 1);
        if (nb) memcpy(bufs[i], r->data, nb);
        in[i].data = r->constant ? bufs[i] : NULL;
        inp[i] = &in[i];
    }
    for (int k = 0; k < rc->n_out; k++) outp[k] = &out[k];
    nnl_op_call c = {.op = rc->op, .node = rc->name, .attrs = rc->attrs, .n_attrs = rc->n_attrs,
                     .in = inp, .n_in = rc->n_in, .out = outp, .n_out = rc->n_out,
                     .opset = rc->opset};
    nnl_infer_result ir = {0};
    nnl_status s = def->infer(&c, &ir);
    if (s != NNL_OK) {
        printf("  %s: infer: %s\n", rc->name, nnl_last_error());
        fails++;
        goto done;
    }
    for (int k = 0; k < rc->n_out; k++) {
        const ref_tensor *w = &rc->out[k];
        bool same = out[k].dtype == w->dt && out[k].rank == w->rank;
        for (int d = 0; same && d < w->rank; d++) same = out[k].dims[d] == w->dims[d];
        if (!same) {
            char a[128];
            printf("  %s: output %d is %s %s, want dtype %d rank %d\n", rc->name, k,
                   nnl_dtype_name(out[k].dtype), nnl_shape_str(&out[k], a, sizeof a),
                   (int)w->dt, w->rank);
            fails++;
            goto done;
        }
    }
    for (int i = 0; i < rc->n_in; i++)
        if (inp[i]) in[i].data = bufs[i];
    for (int k = 0; k < rc->n_out; k++) {
        const size_t nb = nnl_tensor_nbytes(&out[k]);
        bufs[MAXIO + k] = malloc(nb ? nb : 1);
        memset(bufs[MAXIO + k], 0xcd, nb ? nb : 1);
        out[k].data = bufs[MAXIO + k];
    }
    scratch = malloc(ir.scratch_bytes ? ir.scratch_bytes : 1);
    c.scratch = g_no_scratch ? NULL : scratch;
    c.pool = g_pool;
    c.thread_scratch = g_tscratch;
    if ((s = def->exec(&c)) != NNL_OK) {
        printf("  %s: exec: %s\n", rc->name, nnl_last_error());
        fails++;
        goto done;
    }
    for (int k = 0; k < rc->n_out; k++)
        fails += compare(rc->name, k, rc->out[k].dt, out[k].data, rc->out[k].data,
                         nnl_tensor_numel(&out[k]), rc->tol) != 0;
done:
    for (int i = 0; i < 2 * MAXIO; i++) free(bufs[i]);
    free(scratch);
    return fails;
}

static void test_reference_cases(void **state) {
    (void)state;
    const int n = (int)(sizeof ref_cases / sizeof *ref_cases);
    int fails = 0;
    for (int i = 0; i < n; i++) fails += run_case(&ref_cases[i]) != 0;
    printf("  %d of %d reference cases failed\n", fails, n);
    assert_int_equal(fails, 0);
}

static void test_rnn_without_scratch(void **state) {
    (void)state;
    const int n = (int)(sizeof ref_cases / sizeof *ref_cases);
    int fails = 0, ran = 0;
    g_no_scratch = true;
    for (int i = 0; i < n; i++) {
        const char *op = ref_cases[i].op;
        if (strcmp(op, "LSTM") && strcmp(op, "GRU") && strcmp(op, "RNN")) continue;
        fails += run_case(&ref_cases[i]) != 0;
        ran++;
    }
    g_no_scratch = false;
    printf("  %d of %d recurrent cases failed without scratch\n", fails, ran);
    assert_true(ran > 10);
    assert_int_equal(fails, 0);
}

/* ---- a call built by hand ------------------------------------------------------- */

typedef struct call {
    nnl_tensor in[8], out[3];
    nnl_tensor *inp[8], *outp[3];
    nnl_op_call c;
    void *scratch;
} call;

static void call_init(call *k, const char *op, int64_t opset, const nnl_attr *attrs,
                      int n_attrs, int n_in, int n_out) {
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 8; i++) k->inp[i] = &k->in[i];
    for (int i = 0; i < 3; i++) k->outp[i] = &k->out[i];
    k->c = (nnl_op_call){.op = op, .node = "node", .attrs = attrs, .n_attrs = n_attrs,
                         .in = k->inp, .n_in = n_in, .out = k->outp, .n_out = n_out,
                         .opset = opset, .pool = g_pool, .thread_scratch = g_tscratch};
}

static void set_in(call *k, int i, nnl_dtype dt, int rank, const int64_t *dims, void *data) {
    k->in[i].dtype = dt;
    k->in[i].rank = rank;
    for (int d = 0; d < rank; d++) k->in[i].dims[d] = dims[d];
    k->in[i].data = data;
}

static nnl_status call_infer(call *k) {
    nnl_infer_result r = {0};
    const nnl_op_def *def = nnl_op_find(k->c.op);
    assert_non_null(def);
    nnl_status s = def->infer(&k->c, &r);
    if (s == NNL_OK) {
        free(k->scratch);
        k->scratch = malloc(r.scratch_bytes ? r.scratch_bytes : 1);
        k->c.scratch = k->scratch;
    }
    return s;
}

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

static int setup(void **state) {
    (void)state;
    for (int i = 0; i < 2; i++)
        if (!(g_tscratch[i] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES))) return -1;
    return nnl_pool_create(2, &g_pool) == NNL_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    nnl_pool_free(g_pool);
    for (int i = 0; i < 2; i++) nnl_aligned_free(g_tscratch[i]);
    return 0;
}

int main(void) {
    if (isa_check_forced()) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_cases),
        cmocka_unit_test(test_rnn_without_scratch),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_runtime_rejects),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
