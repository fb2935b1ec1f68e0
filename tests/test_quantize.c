/*
 * nnl_quantize_file on the tinyseg fixture (tests/fixtures/quant,
 * made by tools/quant_fixture.py): the QDQ model it writes, compiled by
 * nnlink at both mission shapes, must give ONNX Runtime's outputs on the
 * committed QDQ model (ORT ran it with its integer kernels), and be as
 * close to PyTorch's float output as ORT's are.  Bad calibration data must
 * fail with a message naming the problem and leave the output untouched.
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
#include <unistd.h>

#include "core/core.h"
#include "format/nnl_file.h"
#include "onnx/onnx_import.h"
#include "onnx/onnx_internal.h"
#include "onnx/pb_write.h"
#include "util/npy.h"

#define FX "tests/fixtures/"
#define QFX FX "quant/"

static char tmpdir[256];

static const char *tpath(const char *name) {
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static nnl_tensor load(const char *path) {
    nnl_tensor t;
    nnl_status s = nnl_npy_read(path, &t);
    if (s) fail_msg("%s: %s", path, nnl_last_error());
    return t;
}

static double sqnr_db(const nnl_tensor *ref, const float *got) {
    const float *r = ref->data;
    double sig = 0, noise = 0;
    for (int64_t i = 0; i < nnl_tensor_numel(ref); i++) {
        sig += (double)r[i] * r[i];
        noise += ((double)r[i] - got[i]) * ((double)r[i] - got[i]);
    }
    return noise > 0 ? 10 * log10(sig / noise) : INFINITY;
}

static double max_rel(const nnl_tensor *ref, const float *got) {
    const float *r = ref->data;
    double m = 0, e = 0;
    for (int64_t i = 0; i < nnl_tensor_numel(ref); i++) {
        m = fmax(m, fabs(r[i]));
        e = fmax(e, isfinite(got[i]) ? fabs((double)got[i] - r[i]) : INFINITY);
    }
    return e / (m > 0 ? m : 1);
}

/* What the compiled file computes in integers: int8 weights packed for
 * the integer conv (PACK_Q8), and rank-4 float32 weights, i.e. convs the
 * QDQ rewrite left on the float path (depthwise ones, for instance). */
typedef struct wcount {
    int q8, dw8, conv_f32;     /* PACK_Q8, PLAIN int8 rank 4 (depthwise, kernels/qdw.h), float rank 4 */
} wcount;

static wcount count_weights(const nnl_plan *p) {
    wcount c = {0, 0, 0};
    for (int i = 0; i < nnl_plan_weight_count(p); i++) {
        nnl_weight_info wi;
        assert_int_equal(nnl_plan_weight_info(p, i, &wi), NNL_OK);
        if (!strcmp(wi.layout, "pack_q8")) {
            assert_int_equal(wi.dtype, NNL_DT_INT8);
            c.q8++;
        }
        c.dw8 += !strcmp(wi.layout, "plain") && wi.dtype == NNL_DT_INT8 && wi.rank == 4;
        c.conv_f32 += wi.dtype == NNL_DT_FLOAT && wi.rank == 4;
    }
    return c;
}

static wcount last_count;
/* QuantizeLinear steps of the last run_plan's plan */
static int last_quantize_steps;

/* Compile model at the shape of case's image and run it; *out is a copy of
 * the output (caller frees), *ref_float PyTorch's.  cas is a tinyseg case
 * or "<fixture>/default" of a classifier.  last_count gets the file's
 * weight census. */
/* model compiled at x's shape (input `in`) and opened. */
static nnl_plan *compile_open(const char *model, const char *in, const nnl_tensor *x) {
    nnl_input_shape sh = {.name = in, .rank = x->rank};
    memcpy(sh.dims, x->dims, sizeof sh.dims);
    nnl_compile_options co = {.size = sizeof co, .inputs = &sh, .n_inputs = 1};
    const char *nnl = tpath("m.nnl");
    if (nnl_compile_file(model, nnl, &co)) fail_msg("compile %s: %s", model, nnl_last_error());
    nnl_plan *p;
    assert_int_equal(nnl_plan_open(nnl, &p), NNL_OK);
    return p;
}

/* One run of plan p on x; output 0 must have like's shape; returns a
 * copy of it (caller frees). */
static float *run_plan(nnl_plan *p, const char *in, const nnl_tensor *x, int threads, const nnl_tensor *like) {
    nnl_session *s;
    nnl_session_options so = {.size = sizeof so, .n_threads = threads};
    assert_int_equal(nnl_session_create(p, 0, &so, &s), NNL_OK);
    assert_int_equal(nnl_session_set_input(s, in, x->dtype, x->rank, x->dims, x->data), NNL_OK);
    assert_int_equal(nnl_session_set_profiling(s, 1), NNL_OK);
    assert_int_equal(nnl_session_run(s), NNL_OK);
    last_quantize_steps = 0;
    for (int i = 0; i < nnl_session_layer_count(s); i++) {
        nnl_layer_time lt;
        assert_int_equal(nnl_session_layer_time(s, i, &lt), NNL_OK);
        last_quantize_steps += !strcmp(lt.op, "QuantizeLinear");
    }
    nnl_tensor_info info;
    const void *d;
    assert_int_equal(nnl_session_output(s, 0, &info, &d), NNL_OK);
    assert_int_equal(info.rank, like->rank);
    assert_memory_equal(info.dims, like->dims, (size_t)info.rank * sizeof *info.dims);
    size_t nb = (size_t)nnl_tensor_numel(like) * sizeof(float);
    float *out = malloc(nb);
    memcpy(out, d, nb);
    nnl_session_free(s);
    return out;
}

static void run_case(const char *model, const char *cas, float **out, nnl_tensor *ref_float) {
    char path[512];
    bool cls = strchr(cas, '/') != NULL;
    snprintf(path, sizeof path, FX "%s%s.image.npy", cls ? "" : "tinyseg/", cas);
    nnl_tensor x = load(path);
    nnl_plan *p = compile_open(model, "image", &x);
    last_count = count_weights(p);
    snprintf(path, sizeof path, FX "%s%s.%s.npy", cls ? "" : "tinyseg/", cas, cls ? "logits" : "out");
    *ref_float = load(path);
    *out = run_plan(p, "image", &x, 1, ref_float);
    nnl_plan_free(p);
    nnl_aligned_free(x.data);
}

/* nnlink's output of model on case against ORT's (ort_file): close, and at
 * least as close to the float output (within 0.5 dB of SQNR).  The file
 * must hold at least min_q8 PACK_Q8 weights and exactly dw8 int8
 * depthwise ones (convs run in integers), no float conv weight. */
static void check_against_ort(const char *model, const char *cas, const char *ort_file, int min_q8, int dw8) {
    float *got;
    nnl_tensor ref;
    run_case(model, cas, &got, &ref);
    print_message("  %d int8 conv and Gemm weights (PACK_Q8), %d int8 depthwise, %d float conv weights\n", last_count.q8,
                  last_count.dw8, last_count.conv_f32);
    assert_true(last_count.q8 >= min_q8);
    assert_int_equal(last_count.dw8, dw8);
    assert_int_equal(last_count.conv_f32, 0);
    nnl_tensor ort = load(ort_file);
    double s_ort = sqnr_db(&ref, ort.data), s_nnl = sqnr_db(&ref, got), s_pair = sqnr_db(&ort, got);
    double rel = max_rel(&ort, got);
    print_message("  %s %s: SQNR vs float: ORT %.2f dB, nnlink %.2f dB; nnlink vs ORT %.1f dB, max rel %.2g\n",
                  model, cas, s_ort, s_nnl, s_pair, rel);
    /* Not bit-exact: the convs run in integers as ORT's do, but the float
     * islands between them (Resize, pooling, convs left on the float path)
     * are not ORT's arithmetic, so a value on a rounding boundary may land
     * one step apart, and later layers carry that on.  The two must still
     * agree far better (10 dB) than either agrees with float, and nnlink
     * must be as accurate as ORT (0.5 dB, the criterion). */
    assert_true(rel < 5e-2);
    assert_true(s_pair > s_ort + 10);
    assert_true(s_nnl > s_ort - 0.5);
    /* the quantized model is not the float one */
    assert_true(s_ort < 60);
    free(got);
    nnl_aligned_free(ref.data);
    nnl_aligned_free(ort.data);
}

static nnl_status quantize(const char *out, const nnl_calib_input *c, nnl_dtype act,
                           nnl_quant_method method, double pct) {
    nnl_quantize_options o = {.size = sizeof o, .calib = c, .n_calib = 1, .activations = act,
                              .method = method, .percentile = pct};
    return nnl_quantize_file(FX "tinyseg/model.onnx", out, &o, NULL);
}

static nnl_calib_input calib_of(const nnl_tensor *t) {
    nnl_calib_input c = {.name = "image", .dtype = t->dtype, .rank = t->rank, .data = t->data};
    memcpy(c.dims, t->dims, sizeof c.dims);
    return c;
}

static void test_committed_qdq_matches_ort(void **st) {
    (void)st;
    check_against_ort(QFX "model.qdq.onnx", "landscape", QFX "landscape.ort.npy", 14, 0);
    check_against_ort(QFX "model.qdq.onnx", "portrait", QFX "portrait.ort.npy", 14, 0);
    check_against_ort(QFX "model.qdq_s8.onnx", "landscape", QFX "landscape.ort_s8.npy", 14, 0);
}

/* The same command reproduces the committed models: its output, compiled
 * at both shapes, matches what ORT computed on the committed files. */
static void test_quantize_reproduces(void **st) {
    (void)st;
    nnl_tensor t = load(QFX "calib.npy");
    nnl_calib_input c = calib_of(&t);
    const char *q = tpath("q.onnx");
    nnl_quantize_summary sum;
    nnl_quantize_options o = {.size = sizeof o, .calib = &c, .n_calib = 1};
    if (nnl_quantize_file(FX "tinyseg/model.onnx", q, &o, &sum)) fail_msg("%s", nnl_last_error());
    assert_int_equal(sum.weights, 14);
    assert_int_equal(sum.biases, 14);
    assert_true(sum.activations > 10);
    check_against_ort(q, "landscape", QFX "landscape.ort.npy", 14, 0);
    check_against_ort(q, "portrait", QFX "portrait.ort.npy", 14, 0);
    const char *q8 = tpath("q8.onnx");
    assert_int_equal(quantize(q8, &c, NNL_DT_INT8, NNL_QUANT_MINMAX, 0), NNL_OK);
    check_against_ort(q8, "landscape", QFX "landscape.ort_s8.npy", 14, 0);
    nnl_aligned_free(t.data);
}

/* Int8 constants of a QDQ model, and the largest magnitude among them. */
static int int8_weights(const char *model, int *amax) {
    nnl_model *m;
    if (nnl_onnx_load(model, &m)) fail_msg("%s: %s", model, nnl_last_error());
    int n = 0;
    *amax = 0;
    for (int v = 0; v < m->n_values; v++) {
        const nnl_tensor *t = &m->values[v].t;
        if (m->values[v].kind != NNL_VAL_CONST || t->dtype != NNL_DT_INT8 || t->rank < 2 || !t->data) continue;
        n++;
        for (int64_t i = 0; i < nnl_tensor_numel(t); i++) {
            const int a = abs(((const int8_t *)t->data)[i]);
            *amax = a > *amax ? a : *amax;
        }
    }
    nnl_model_free(m);
    return n;
}

/* QLinearConv / NnlQGemm nodes of the last compile_open (m.nnl), and
 * those of them marked nnl_w7 = 1 (weights within [-64, 64]). */
static void w7_nodes(int *nodes, int *w7) {
    nnl_file *f;
    assert_int_equal(nnl_file_read(tpath("m.nnl"), &f), NNL_OK);
    *nodes = *w7 = 0;
    for (int g = 0; g < f->n_graphs; g++)
        for (int i = 0; i < f->graphs[g].n_nodes; i++) {
            const nnl_frec_node *n = &f->graphs[g].nodes[i];
            if (strcmp(n->op, "QLinearConv") && strcmp(n->op, "NnlQGemm")) continue;
            ++*nodes;
            for (int a = 0; a < n->n_attrs; a++)
                *w7 += !strcmp(n->attrs[a].name, "nnl_w7") && n->attrs[a].type == NNL_ATTR_INT && n->attrs[a].i == 1;
        }
    nnl_file_close(f);
}

/* --weights int7 (weight_bits 7): every int8 weight within [-64, 64], the
 * compiled convs marked so (7-bit microkernels may run them), and the
 * output ONNX Runtime's on the committed int7 file, as accurate as ORT;
 * full-range int8 weights (127 somewhere in every channel) are not marked. */
static void test_int7_weights(void **st) {
    (void)st;
    nnl_tensor t = load(QFX "calib.npy");
    nnl_calib_input c = calib_of(&t);
    nnl_quantize_options o = {.size = sizeof o, .calib = &c, .n_calib = 1, .weight_bits = 7};
    const char *q7 = tpath("q7.onnx");
    if (nnl_quantize_file(FX "tinyseg/model.onnx", q7, &o, NULL)) fail_msg("%s", nnl_last_error());
    int amax, nodes, w7;
    assert_int_equal(int8_weights(q7, &amax), 14);
    assert_int_equal(amax, 64);
    assert_int_equal(int8_weights(QFX "model.qdq.onnx", &amax), 14);
    assert_int_equal(amax, 127);
    check_against_ort(QFX "model.qdq_w7.onnx", "landscape", QFX "landscape.ort_w7.npy", 14, 0);
    check_against_ort(q7, "landscape", QFX "landscape.ort_w7.npy", 14, 0);
    check_against_ort(q7, "portrait", QFX "portrait.ort_w7.npy", 14, 0);
    w7_nodes(&nodes, &w7);
    assert_int_equal(nodes, 14);
    assert_int_equal(w7, 14);
    check_against_ort(QFX "model.qdq.onnx", "landscape", QFX "landscape.ort.npy", 14, 0);
    w7_nodes(&nodes, &w7);
    assert_int_equal(nodes, 14);
    assert_int_equal(w7, 0);
    o.weight_bits = 6;
    assert_int_equal(nnl_quantize_file(FX "tinyseg/model.onnx", tpath("q6.onnx"), &o, NULL), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(nnl_last_error(), "6-bit"));
    nnl_aligned_free(t.data);
}

/* The file m.nnl rewritten (checksums recomputed by the writer, so only
 * the payload checks can object) to out: node `node` of graph 0 given
 * nnl_w7 = 1 when mark, and wsum[0] of its weight moved by bump; then
 * nnlink verify's library call on it. */
static nnl_status verify_tampered(const char *out, int node, bool mark, int bump) {
    nnl_file *f;
    assert_int_equal(nnl_file_read(tpath("m.nnl"), &f), NNL_OK);
    nnl_file w = *f;
    nnl_frec_graph g = f->graphs[0];
    nnl_frec_node *nodes = malloc(sizeof *nodes * (size_t)g.n_nodes);
    nnl_frec_weight *ws = malloc(sizeof *ws * (size_t)f->n_weights);
    assert_non_null(nodes);
    assert_non_null(ws);
    memcpy(nodes, g.nodes, sizeof *nodes * (size_t)g.n_nodes);
    memcpy(ws, f->weights, sizeof *ws * (size_t)f->n_weights);
    nnl_frec_node *n = &nodes[node];
    nnl_attr *attrs = calloc((size_t)n->n_attrs + 1, sizeof *attrs);
    assert_non_null(attrs);
    memcpy(attrs, n->attrs, sizeof *attrs * (size_t)n->n_attrs);
    if (mark) attrs[n->n_attrs++] = (nnl_attr){.name = "nnl_w7", .type = NNL_ATTR_INT, .i = 1};
    n->attrs = attrs;
    nnl_frec_weight *wt = &ws[g.tensors[n->in[3]].where]; /* QLinearConv's w */
    assert_int_equal(wt->layout, NNL_LAYOUT_PACK_Q8);
    uint8_t *bytes = malloc(wt->nbytes);
    assert_non_null(bytes);
    memcpy(bytes, wt->data, wt->nbytes);
    int32_t *wsum = (int32_t *)(bytes + (wt->dims[0] + 7) / 8 * 8 * 4);
    wsum[0] += bump;
    wt->data = bytes;
    g.nodes = nodes;
    w.graphs = &g;
    w.n_graphs = 1;
    w.weights = ws;
    assert_int_equal(nnl_file_write(&w, out), NNL_OK);
    free(bytes);
    free(attrs);
    free(ws);
    free(nodes);
    nnl_file_close(f);
    nnl_plan *p;
    assert_int_equal(nnl_plan_open(out, &p), NNL_OK);
    nnl_status st = nnl_plan_verify(p);
    nnl_plan_free(p);
    return st;
}

/* nnlink verify checks what the 8-bit kernels trust in a PACK_Q8 payload:
 * a file whose checksums are right but whose conv states nnl_w7 over
 * full-range weights, or whose row sum is off by one, is refused naming
 * the node or the weight; the untouched rewrite and the int7 file pass. */
static void test_verify_payloads(void **st) {
    (void)st;
    nnl_tensor x = load(FX "tinyseg/landscape.image.npy");
    nnl_plan_free(compile_open(QFX "model.qdq.onnx", "image", &x));
    nnl_file *f;
    assert_int_equal(nnl_file_read(tpath("m.nnl"), &f), NNL_OK);
    int conv = -1;
    const nnl_frec_graph *g = &f->graphs[0];
    for (int i = 0; i < g->n_nodes && conv < 0; i++)
        if (!strcmp(g->nodes[i].op, "QLinearConv") &&
            g->tensors[g->nodes[i].in[3]].kind == NNL_TK_WEIGHT &&
            f->weights[g->tensors[g->nodes[i].in[3]].where].layout == NNL_LAYOUT_PACK_Q8)
            conv = i;
    nnl_file_close(f);
    assert_true(conv >= 0);
    if (verify_tampered(tpath("same.nnl"), conv, false, 0)) fail_msg("%s", nnl_last_error());
    assert_int_equal(verify_tampered(tpath("w7.nnl"), conv, true, 0), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "nnl_w7"));
    assert_non_null(strstr(nnl_last_error(), "outside [-64, 64]"));
    assert_int_equal(verify_tampered(tpath("wsum.nnl"), conv, false, 1), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "row sum"));
    nnl_plan_free(compile_open(QFX "model.qdq_w7.onnx", "image", &x));
    assert_int_equal(verify_tampered(tpath("w7ok.nnl"), conv, true, 0), NNL_OK);
    nnl_aligned_free(x.data);
}

/* percentile 100 clips nothing: the same scales as minmax, so the same
 * output; percentile 99.9 and mse clip, so the output moves but stays a
 * quantized version of the float one. */
/* Depthwise convs, Clip chains, residual Adds and a Gemm (transB = 1:
 * channel axis 0), quantized from the tinyseg samples tiled to the
 * classifiers' fixed 64x64 input. */
static void test_classifiers(void **st) {
    (void)st;
    nnl_tensor t = load(QFX "calib.npy");
    int64_t n = t.dims[0], h = t.dims[3], w = t.dims[4];
    float *x = t.data, *y = malloc((size_t)(n * 3 * 4 * h * w) * sizeof *y);
    for (int64_t i = 0; i < n * 3; i++)
        for (int64_t r = 0; r < 2 * h; r++)
            for (int64_t c = 0; c < 2 * w; c++) y[(i * 2 * h + r) * 2 * w + c] = x[(i * h + r % h) * w + c % w];
    nnl_calib_input c = {.name = "image", .dtype = NNL_DT_FLOAT, .rank = 5, .dims = {n, 1, 3, 2 * h, 2 * w},
                         .data = y};
    nnl_quantize_options o = {.size = sizeof o, .calib = &c, .n_calib = 1};
    static const char *const nets[] = {"mobilenet_v2", "resnet_tiny"};
    /* mobilenet_v2's 17 depthwise convs (one channel per group) run
     * kernels/qdw.h on PLAIN int8 weights */
    /* and their classifier's Gemm runs NnlQGemm on a PACK_Q8 weight */
    static const int min_q8[] = {35 + 1, 12 + 1};
    static const int dw8[] = {17, 0};
    for (int i = 0; i < 2; i++) {
        char model[256], cas[256], ort[256], qdq[256];
        snprintf(model, sizeof model, FX "%s/model.onnx", nets[i]);
        snprintf(cas, sizeof cas, "%s/default", nets[i]);
        snprintf(ort, sizeof ort, QFX "%s.ort.npy", nets[i]);
        snprintf(qdq, sizeof qdq, QFX "%s.qdq.onnx", nets[i]);
        /* the committed QDQ file, which ORT ran */
        check_against_ort(qdq, cas, ort, min_q8[i], dw8[i]);
        /* resnet_tiny quantizes its image and, in float, its pooled
         * features before the Gemm; the MaxPool's DequantizeLinear ->
         * QuantizeLinear pair of one scale is dropped (fuse_qdq.c) */
        if (i == 1) assert_int_equal(last_quantize_steps, 2);
        /* quantized again here: the same integer paths, and as accurate
         * as ORT on the committed file within 1 dB (another kernel set's
         * float calibration gives slightly different scales, so the two
         * QDQ files are not the same) */
        if (nnl_quantize_file(model, tpath("c.onnx"), &o, NULL)) fail_msg("%s: %s", model, nnl_last_error());
        float *got;
        nnl_tensor ref, ortv = load(ort);
        run_case(tpath("c.onnx"), cas, &got, &ref);
        assert_true(last_count.q8 >= min_q8[i]);
        assert_int_equal(last_count.dw8, dw8[i]);
        assert_int_equal(last_count.conv_f32, 0);
        double s_ort = sqnr_db(&ref, ortv.data), s_nnl = sqnr_db(&ref, got);
        print_message("  %s quantized again: SQNR vs float %.2f dB (ORT on the committed file %.2f dB)\n", nets[i],
                      s_nnl, s_ort);
        assert_true(s_nnl > s_ort - 1.0);
        free(got);
        nnl_aligned_free(ref.data);
        nnl_aligned_free(ortv.data);
    }
    free(y);
    nnl_aligned_free(t.data);
}

/* A model of ONNX QLinearConv nodes (tools/qlinear_fixture.py) takes the
 * same integer path: c1 (grouped, per-channel scales, bias) and c2 (per-
 * tensor scale) get PACK_Q8 weights, c3 (weight zero point 3) keeps the
 * reference op; the output is ONNX Runtime's exactly, both requantizing
 * in float32. */
static void test_onnx_qlinearconv(void **st) {
    (void)st;
    nnl_tensor x = load(QFX "qlinearconv.x.npy"), ort = load(QFX "qlinearconv.ort.npy");
    nnl_plan *p = compile_open(QFX "qlinearconv.onnx", "x", &x);
    for (int i = 0; i < nnl_plan_weight_count(p); i++) {
        nnl_weight_info wi;
        assert_int_equal(nnl_plan_weight_info(p, i, &wi), NNL_OK);
        bool packed = !strcmp(wi.name, "w1") || !strcmp(wi.name, "w2");
        assert_string_equal(wi.layout, packed ? "pack_q8" : "plain");
    }
    float *got = run_plan(p, "x", &x, 2, &ort);
    assert_memory_equal(got, ort.data, (size_t)nnl_tensor_numel(&ort) * sizeof(float));
    free(got);
    nnl_plan_free(p);
    nnl_aligned_free(x.data);
    nnl_aligned_free(ort.data);
}

static void test_methods(void **st) {
    (void)st;
    nnl_tensor t = load(QFX "calib.npy");
    nnl_calib_input c = calib_of(&t);
    float *mm, *p100, *p999, *mse;
    nnl_tensor ref;
    assert_int_equal(quantize(tpath("mm.onnx"), &c, 0, NNL_QUANT_MINMAX, 0), NNL_OK);
    assert_int_equal(quantize(tpath("p100.onnx"), &c, 0, NNL_QUANT_PERCENTILE, 100), NNL_OK);
    assert_int_equal(quantize(tpath("p999.onnx"), &c, 0, NNL_QUANT_PERCENTILE, 99.9), NNL_OK);
    assert_int_equal(quantize(tpath("mse.onnx"), &c, 0, NNL_QUANT_MSE, 0), NNL_OK);
    run_case(tpath("mm.onnx"), "landscape", &mm, &ref);
    nnl_aligned_free(ref.data);
    run_case(tpath("p100.onnx"), "landscape", &p100, &ref);
    nnl_aligned_free(ref.data);
    run_case(tpath("p999.onnx"), "landscape", &p999, &ref);
    nnl_aligned_free(ref.data);
    run_case(tpath("mse.onnx"), "landscape", &mse, &ref);
    size_t n = (size_t)nnl_tensor_numel(&ref);
    assert_memory_equal(mm, p100, n * sizeof(float));
    assert_true(memcmp(mm, p999, n * sizeof(float)) != 0);
    print_message("  SQNR vs float: minmax %.2f, percentile 99.9 %.2f, mse %.2f dB\n", sqnr_db(&ref, mm),
                  sqnr_db(&ref, p999), sqnr_db(&ref, mse));
    assert_true(sqnr_db(&ref, p999) > 5);
    assert_true(sqnr_db(&ref, mse) > 15);
    free(mm);
    free(p100);
    free(p999);
    free(mse);
    nnl_aligned_free(ref.data);
    nnl_aligned_free(t.data);
}

/* A failing quantize names the problem and leaves the output as it was. */
static void expect_fail(const nnl_calib_input *c, const nnl_input_shape *sh, const char *want) {
    const char *out = tpath("kept.onnx");
    FILE *fp = fopen(out, "w");
    fputs("old", fp);
    fclose(fp);
    nnl_quantize_options o = {.size = sizeof o, .calib = c, .n_calib = 1, .inputs = sh, .n_inputs = sh != NULL};
    nnl_status s = nnl_quantize_file(FX "tinyseg/model.onnx", out, &o, NULL);
    assert_int_not_equal(s, NNL_OK);
    if (!strstr(nnl_last_error(), want)) fail_msg("message '%s' lacks '%s'", nnl_last_error(), want);
    char buf[8] = {0};
    fp = fopen(out, "r");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof buf, fp), 3);
    fclose(fp);
    assert_string_equal(buf, "old");
}

static void test_bad_calibration(void **st) {
    (void)st;
    nnl_tensor t = load(QFX "calib.npy");
    nnl_calib_input c = calib_of(&t);
    nnl_calib_input bad = c;
    bad.name = "img";
    expect_fail(&bad, NULL, "no input 'img' (its inputs: 'image')");
    bad = c;
    bad.dtype = NNL_DT_INT32;
    expect_fail(&bad, NULL, "is int32, the input is float32");
    bad = c;
    bad.dims[2] = 4;   /* 4 channels, the model takes 3 */
    bad.dims[3] = 16;
    expect_fail(&bad, NULL, "samples of 1x4x16x32, but the input is 1x3x");
    bad = c;
    bad.rank = 4;      /* one sample without the leading axis */
    memmove(bad.dims, bad.dims + 1, 4 * sizeof *bad.dims);
    expect_fail(&bad, NULL, "but the input is");
    bad = c;
    bad.dims[0] = 0;
    expect_fail(&bad, NULL, "empty (0 samples)");
    float *x = t.data;
    float keep = x[3 * 3072 + 5];
    x[3 * 3072 + 5] = NAN;
    expect_fail(&c, NULL, "holds NaN (sample 3)");
    x[3 * 3072 + 5] = INFINITY;
    expect_fail(&c, NULL, "holds an infinite value (sample 3)");
    x[3 * 3072 + 5] = keep;
    nnl_input_shape sh = {.name = "image", .rank = 4, .dims = {1, 3, 64, 96}};
    expect_fail(&c, &sh, "holds samples of 1x3x32x32, but --input gives 1x3x64x96");
    nnl_aligned_free(t.data);
}

/* Opset 11 with Unsqueeze (attribute form until opset 13): raising the
 * opset would change the node, so quantize refuses and says why. */
static void test_old_opset(void **st) {
    (void)st;
    nnl_tensor t = load(QFX "calib.npy");
    nnl_calib_input c = calib_of(&t);
    nnl_quantize_options o = {.size = sizeof o, .calib = &c, .n_calib = 1};
    assert_int_equal(nnl_quantize_file(FX "tinyseg_op11/model.onnx", tpath("op11.onnx"), &o, NULL),
                     NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(nnl_last_error(), "opset 11"));
    assert_non_null(strstr(nnl_last_error(), "(Unsqueeze)"));
    assert_int_not_equal(access(tpath("op11.onnx"), F_OK), 0);
    nnl_aligned_free(t.data);
}

/* ValueInfoProto: float32 tensor name with dims (-1: dim_param "d<i>"). */
static void put_value_info(pb_buf *g, uint32_t field, const char *name, int rank, const int64_t *dims) {
    pb_buf vi = {0}, type = {0}, tt = {0}, shape = {0};
    for (int i = 0; i < rank; i++) {
        pb_buf dim = {0};
        char param[16];
        snprintf(param, sizeof param, "d%d", i);
        if (dims[i] < 0) pb_put_str(&dim, ONNX_DIM_PARAM, param);
        else pb_put_varint(&dim, ONNX_DIM_VALUE, (uint64_t)dims[i]);
        pb_put_msg(&shape, ONNX_SHAPE_DIM, &dim);
        pb_buf_free(&dim);
    }
    pb_put_varint(&tt, ONNX_TENSORTYPE_ELEM_TYPE, NNL_DT_FLOAT);
    pb_put_msg(&tt, ONNX_TENSORTYPE_SHAPE, &shape);
    pb_put_msg(&type, ONNX_TYPE_TENSOR_TYPE, &tt);
    pb_put_str(&vi, ONNX_VALUEINFO_NAME, name);
    pb_put_msg(&vi, ONNX_VALUEINFO_TYPE, &type);
    pb_put_msg(g, field, &vi);
    pb_buf_free(&vi);
    pb_buf_free(&type);
    pb_buf_free(&tt);
    pb_buf_free(&shape);
}

/* An opset 11, IR 6 model written with pb_write: x (1x2xHxW, dynamic) ->
 * Conv 3x3 (3 channels) -> Relu -> Conv 1x1 -> y.  Quantize raises the
 * opset to 13 and the result still compiles at two shapes and follows the
 * float model (nnlink's float run of the original is the reference here:
 * this checks the opset rewrite, the CI fixtures check the numbers). */
static void test_opset_raised(void **st) {
    (void)st;
    float w1[3 * 2 * 9], b1[3] = {0.1f, -0.2f, 0.05f}, w2[3 * 3];
    for (int i = 0; i < 54; i++) w1[i] = (float)((i * 37) % 19 - 9) / 9.0f;
    for (int i = 0; i < 9; i++) w2[i] = (float)((i * 5) % 7 - 3) / 3.0f;
    const int64_t d1[4] = {3, 2, 3, 3}, db[1] = {3}, d2[4] = {3, 3, 1, 1}, dx[4] = {1, 2, -1, -1}, dy[4] = {1, 3, -1, -1};
    pb_buf g = {0}, m = {0}, op = {0};
    const char *c1[3] = {"x", "w1", "b1"}, *r[1] = {"h"}, *c2[2] = {"hr", "w2"};
    onnx_put_node(&g, ONNX_GRAPH_NODE, "Conv", "conv1", c1, 3, "h", -1);
    onnx_put_node(&g, ONNX_GRAPH_NODE, "Relu", "relu", r, 1, "hr", -1);
    onnx_put_node(&g, ONNX_GRAPH_NODE, "Conv", "conv2", c2, 2, "y", -1);
    pb_put_str(&g, ONNX_GRAPH_NAME, "g");
    onnx_put_tensor(&g, ONNX_GRAPH_INITIALIZER, "w1", NNL_DT_FLOAT, 4, d1, w1);
    onnx_put_tensor(&g, ONNX_GRAPH_INITIALIZER, "b1", NNL_DT_FLOAT, 1, db, b1);
    onnx_put_tensor(&g, ONNX_GRAPH_INITIALIZER, "w2", NNL_DT_FLOAT, 4, d2, w2);
    put_value_info(&g, ONNX_GRAPH_INPUT, "x", 4, dx);
    put_value_info(&g, ONNX_GRAPH_OUTPUT, "y", 4, dy);
    pb_put_varint(&m, ONNX_MODEL_IR_VERSION, 6);
    pb_put_varint(&op, ONNX_OPSET_VERSION, 11);
    pb_put_msg(&m, ONNX_MODEL_OPSET_IMPORT, &op);
    pb_put_msg(&m, ONNX_MODEL_GRAPH, &g);
    assert_int_equal(pb_buf_status(&m), NNL_OK);
    FILE *fp = fopen(tpath("op11.onnx"), "wb");
    assert_int_equal(fwrite(m.p, 1, m.n, fp), m.n);
    fclose(fp);
    pb_buf_free(&g);
    pb_buf_free(&m);
    pb_buf_free(&op);

    float *x = malloc(6 * 2 * 8 * 8 * sizeof *x);
    for (int i = 0; i < 6 * 128; i++) x[i] = sinf((float)i * 0.37f) * 2.0f;
    nnl_calib_input c = {.name = "x", .dtype = NNL_DT_FLOAT, .rank = 5, .dims = {6, 1, 2, 8, 8}, .data = x};
    nnl_quantize_options o = {.size = sizeof o, .calib = &c, .n_calib = 1};
    nnl_quantize_summary sum;
    if (nnl_quantize_file(tpath("op11.onnx"), tpath("op13.onnx"), &o, &sum)) fail_msg("%s", nnl_last_error());
    assert_int_equal(sum.opset_from, 11);
    assert_int_equal(sum.opset_to, 13);
    assert_int_equal(sum.weights, 2);
    assert_int_equal(sum.biases, 1);
    for (int k = 0; k < 2; k++) {
        const int64_t h = k ? 8 : 5, w = k ? 8 : 11;
        nnl_input_shape sh = {.name = "x", .rank = 4, .dims = {1, 2, h, w}};
        nnl_compile_options co = {.size = sizeof co, .inputs = &sh, .n_inputs = 1};
        float *out[2];
        const int64_t n = 3 * (h - 2) * (w - 2);   /* unpadded 3x3 */
        for (int v = 0; v < 2; v++) {
            if (nnl_compile_file(tpath(v ? "op13.onnx" : "op11.onnx"), tpath("o.nnl"), &co))
                fail_msg("%s", nnl_last_error());
            nnl_plan *p;
            nnl_session *s;
            const void *d;
            nnl_tensor_info info;
            assert_int_equal(nnl_plan_open(tpath("o.nnl"), &p), NNL_OK);
            assert_int_equal(nnl_session_create(p, 0, NULL, &s), NNL_OK);
            assert_int_equal(nnl_session_set_input(s, "x", NNL_DT_FLOAT, 4, sh.dims, x), NNL_OK);
            assert_int_equal(nnl_session_run(s), NNL_OK);
            assert_int_equal(nnl_session_output(s, 0, &info, &d), NNL_OK);
            assert_int_equal(info.dims[1] * info.dims[2] * info.dims[3], n);
            out[v] = malloc((size_t)n * sizeof(float));
            memcpy(out[v], d, (size_t)n * sizeof(float));
            nnl_session_free(s);
            nnl_plan_free(p);
        }
        nnl_tensor ref = {.dtype = NNL_DT_FLOAT, .rank = 1, .dims = {n}, .data = out[0]};
        double q = sqnr_db(&ref, out[1]);
        print_message("  opset 11 -> 13 model at 1x2x%lldx%lld: SQNR %.1f dB\n", (long long)h, (long long)w, q);
        assert_true(q > 25 && q < 80);
        free(out[0]);
        free(out[1]);
    }
    free(x);
}

static int setup(void **st) {
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnl_test_quantize_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st) {
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed_qdq_matches_ort),
        cmocka_unit_test(test_onnx_qlinearconv),
        cmocka_unit_test(test_quantize_reproduces),
        cmocka_unit_test(test_classifiers),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_int7_weights),
        cmocka_unit_test(test_verify_payloads),
        cmocka_unit_test(test_bad_calibration),
        cmocka_unit_test(test_old_opset),
        cmocka_unit_test(test_opset_raised),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
