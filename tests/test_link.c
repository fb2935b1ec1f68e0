/*
 * Linker and extractor on synthetic single-graph files: each sharing mode,
 * the report's reasons (checked against differences the test planted), name
 * clashes, target/version refusal, renames, extraction, determinism and
 * atomic output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format/fmt_internal.h"
#include "format/nnl_file.h"
#include "format/verify.h"
#include "kernels/qconv.h"
#include "test_util.h"

/* ---- synthetic single-graph files ---------------------------------------- */

typedef struct wspec {
    const char *name;
    nnl_dtype dtype;
    int rank;
    int64_t dims[4];
    nnl_layout layout;
    const void *data;
} wspec;

typedef struct fspec {
    const char *target;        /* NULL: host */
    uint32_t layout_version;   /* 0: current */
} fspec;

/* A graph "y = Sum(x, weights...)" over the given weights. */
static void make_file(const char *path, const char *graph, const wspec *ws, int n, const fspec *fs) {
    nnl_frec_weight W[16];
    nnl_frec_tensor T[18];
    int32_t in[17];
    const int64_t one[] = {1};
    assert_true(n <= 16);
    memset(W, 0, sizeof W);
    memset(T, 0, sizeof T);
    T[0] = (nnl_frec_tensor){.name = "x", .kind = NNL_TK_INPUT, .dtype = NNL_DT_FLOAT, .rank = 1, .where = 0};
    T[0].dims[0] = one[0];
    in[0] = 0;
    for (int i = 0; i < n; i++) {
        nnl_frec_weight *w = &W[i];
        w->name = ws[i].name;
        w->dtype = ws[i].dtype;
        w->rank = ws[i].rank;
        memcpy(w->dims, ws[i].dims, sizeof ws[i].dims);
        w->layout = ws[i].layout;
        assert_true(nnl_tensor_nbytes_checked(w->dtype, w->rank, w->dims, w->layout, &w->nbytes));
        w->data = ws[i].data;
        T[1 + i] = (nnl_frec_tensor){.name = ws[i].name, .kind = NNL_TK_WEIGHT, .dtype = w->dtype,
                                     .rank = w->rank, .layout = w->layout, .where = (uint64_t)i};
        memcpy(T[1 + i].dims, w->dims, sizeof w->dims);
        in[1 + i] = 1 + i;
    }
    int32_t out[] = {n + 1}, gin[] = {0}, gout[] = {n + 1};
    T[n + 1] = (nnl_frec_tensor){.name = "y", .kind = NNL_TK_OUTPUT, .dtype = NNL_DT_FLOAT, .rank = 1, .where = 64};
    T[n + 1].dims[0] = 1;
    nnl_frec_node node = {.op = "Sum", .name = "sum", .n_in = n + 1, .in = in, .n_out = 1, .out = out};
    nnl_frec_graph g = {.name = graph, .n_tensors = n + 2, .tensors = T, .n_nodes = 1, .nodes = &node,
                        .n_inputs = 1, .inputs = gin, .n_outputs = 1, .outputs = gout,
                        .arena_bytes = 128, .scratch_offset = 128, .opset = 17};
    nnl_file f = {.format_version = NNL_FORMAT_VERSION,
                  .layout_version = fs && fs->layout_version ? fs->layout_version : NNL_LAYOUT_VERSION,
                  .target = fs && fs->target ? fs->target : nnl_file_host_target(),
                  .tool_version = NNL_VERSION_STRING, .n_weights = n, .weights = W, .n_graphs = 1,
                  .graphs = &g, .default_graph = -1};
    assert_int_equal(nnl_file_write(&f, path), NNL_OK);
}

static float A[64], B[64], C[48];
static int64_t I64[32];

static void fill(void) {
    for (int i = 0; i < 64; i++) A[i] = (float)i * 0.5f;
    for (int i = 0; i < 64; i++) B[i] = (float)(i * i) - 7.0f;
    for (int i = 0; i < 48; i++) C[i] = -(float)i;
    for (int i = 0; i < 32; i++) I64[i] = 1000 + i;
}

static wspec ws(const char *name, const void *data, int rows, int cols) {
    return (wspec){.name = name, .dtype = NNL_DT_FLOAT, .rank = 2, .dims = {rows, cols}, .data = data};
}

static nnl_link_options opts(nnl_share_mode m, const char *report) {
    return (nnl_link_options){.size = sizeof(nnl_link_options), .share = m, .report_json_path = report};
}

static nnl_status link2(const char *a, const char *b, const char *out, nnl_share_mode m,
                        const char *report, nnl_link_summary *sum) {
    nnl_link_input in[2] = {{.path = a}, {.path = b}};
    nnl_link_options o = opts(m, report);
    return nnl_link_files(in, 2, out, &o, sum);
}

/* The report's entry of weight `name` from input `source`. */
static json_t *entry(json_t *rep, const char *name, const char *source) {
    json_t *ws_ = json_object_get(rep, "weights");
    for (size_t i = 0; i < json_array_size(ws_); i++) {
        json_t *e = json_array_get(ws_, i);
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0 &&
            strcmp(json_string_value(json_object_get(e, "source")), source) == 0)
            return e;
    }
    fail_msg("no report entry for %s from %s", name, source);
    return NULL;
}

static const char *reason(json_t *e) {
    json_t *r = json_object_get(e, "reason");
    return json_is_string(r) ? json_string_value(r) : NULL;
}

static json_t *load(const char *path) {
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j) fail_msg("report %s: %s", path, err.text);
    return j;
}

/* The weight graph `g` of f uses under tensor name `name`. */
static const nnl_frec_weight *weight_of(const nnl_file *f, const char *g, const char *name, int *index) {
    for (int i = 0; i < f->n_graphs; i++) {
        if (strcmp(f->graphs[i].name, g) != 0) continue;
        for (int t = 0; t < f->graphs[i].n_tensors; t++) {
            const nnl_frec_tensor *x = &f->graphs[i].tensors[t];
            if (x->kind == NNL_TK_WEIGHT && strcmp(x->name, name) == 0) {
                if (index) *index = (int)x->where;
                return &f->weights[x->where];
            }
        }
    }
    fail_msg("graph %s has no weight tensor %s", g, name);
    return NULL;
}

static int setup(void **state) {
    (void)state;
    fill();
    return tmpdir_make("test_link");
}

static int teardown(void **state) {
    (void)state;
    return tmpdir_remove();
}

/* ---- tests ----------------------------------------------------------------- */

static void test_full_sharing(void **state) {
    (void)state;
    wspec w[] = {ws("conv.weight", A, 8, 8), ws("fc.weight", C, 6, 8)};
    make_file(tpath("a.nnl"), "small", w, 2, NULL);
    make_file(tpath("b.nnl"), "large", w, 2, NULL);
    nnl_link_summary s;
    assert_int_equal(link2(tpath("a.nnl"), tpath("b.nnl"), tpath("ab.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("ab.json"), &s), NNL_OK);
    assert_int_equal(s.graphs, 2);
    assert_int_equal(s.weights_in, 4);
    assert_int_equal(s.weights_stored, 2);
    assert_int_equal(s.weights_shared, 2);
    assert_int_equal(s.bytes_in, 2 * (sizeof A + sizeof C));
    assert_int_equal(s.bytes_stored, sizeof A + sizeof C);
    assert_int_equal(s.bytes_saved, sizeof A + sizeof C);

    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("ab.nnl"), &f), NNL_OK);
    assert_int_equal(nnl_file_verify(f), NNL_OK);
    assert_int_equal(f->n_graphs, 2);
    assert_string_equal(f->graphs[0].name, "small");
    assert_string_equal(f->graphs[1].name, "large");
    assert_int_equal(f->n_weights, 2);
    assert_int_equal(f->default_graph, -1);
    int i0, i1;
    const nnl_frec_weight *x = weight_of(f, "small", "conv.weight", &i0);
    weight_of(f, "large", "conv.weight", &i1);
    assert_int_equal(i0, i1);
    assert_memory_equal(x->data, A, sizeof A);
    assert_memory_equal(weight_of(f, "large", "fc.weight", NULL)->data, C, sizeof C);
    nnl_file_close(f);

    json_t *rep = load(tpath("ab.json"));
    assert_string_equal(json_string_value(json_object_get(rep, "share")), "name+content");
    json_t *graphs = json_object_get(rep, "graphs");
    assert_int_equal(json_array_size(graphs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(graphs, 1), "source")), tpath("b.nnl"));
    json_t *sum = json_object_get(rep, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "bytes_saved")), sizeof A + sizeof C);
    json_t *e = entry(rep, "conv.weight", tpath("b.nnl"));
    assert_true(json_is_true(json_object_get(e, "shared")));
    assert_int_equal(json_integer_value(json_object_get(e, "stored_as")), i0);
    assert_int_equal(json_array_size(json_object_get(e, "graphs")), 2);
    assert_int_equal(json_integer_value(json_object_get(e, "bytes")), sizeof A);
    assert_null(reason(e));
    json_decref(rep);
}

static void test_partial_sharing(void **state) {
    (void)state;
    float B2[64];
    memcpy(B2, B, sizeof B);
    ((uint8_t *)B2)[4 * 37 + 2] ^= 0x01;   /* one bit of element 37 */
    wspec wa[] = {ws("shared.w", A, 8, 8), ws("head.w", B, 8, 8), ws("a_only", C, 6, 8)};
    wspec wb[] = {ws("shared.w", A, 8, 8), ws("head.w", B2, 8, 8)};
    make_file(tpath("pa.nnl"), "a", wa, 3, NULL);
    make_file(tpath("pb.nnl"), "b", wb, 2, NULL);
    nnl_link_summary s;
    assert_int_equal(link2(tpath("pa.nnl"), tpath("pb.nnl"), tpath("p.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("p.json"), &s), NNL_OK);
    assert_int_equal(s.weights_in, 5);
    assert_int_equal(s.weights_stored, 4);
    assert_int_equal(s.bytes_saved, sizeof A);
    json_t *rep = load(tpath("p.json"));
    json_t *e = entry(rep, "shared.w", tpath("pa.nnl"));
    assert_true(json_is_true(json_object_get(e, "shared")));
    e = entry(rep, "head.w", tpath("pb.nnl"));
    assert_true(json_is_false(json_object_get(e, "shared")));
    assert_string_equal(reason(e), "bytes differ at offset 150");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "compared_with"), "graph")), "a");
    e = entry(rep, "head.w", tpath("pa.nnl"));
    assert_string_equal(reason(e), "bytes differ at offset 150");
    /* a weight only one graph has needs no reason */
    assert_null(reason(entry(rep, "a_only", tpath("pa.nnl"))));
    json_decref(rep);
    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("p.nnl"), &f), NNL_OK);
    assert_memory_equal(weight_of(f, "b", "head.w", NULL)->data, B2, sizeof B2);
    assert_memory_equal(weight_of(f, "a", "head.w", NULL)->data, B, sizeof B);
    nnl_file_close(f);
}

static void test_reasons_meta(void **state) {
    (void)state;
    wspec wa[] = {ws("d", A, 8, 8), ws("s", A, 8, 8), ws("l", C, 8, 6)};
    wspec wb[] = {{.name = "d", .dtype = NNL_DT_INT64, .rank = 2, .dims = {4, 8}, .data = I64},
                  ws("s", A, 4, 16), ws("l", C, 8, 6)};
    wb[2].layout = NNL_LAYOUT_PACK_A8;   /* 8 rows: no padding, same bytes */
    make_file(tpath("ma.nnl"), "a", wa, 3, NULL);
    make_file(tpath("mb.nnl"), "b", wb, 3, NULL);
    assert_int_equal(link2(tpath("ma.nnl"), tpath("mb.nnl"), tpath("m.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("m.json"), NULL), NNL_OK);
    json_t *rep = load(tpath("m.json"));
    assert_non_null(strstr(reason(entry(rep, "d", tpath("mb.nnl"))), "dtype differs"));
    assert_string_equal(reason(entry(rep, "s", tpath("mb.nnl"))), "shape differs (4x16 vs 8x8)");
    assert_string_equal(reason(entry(rep, "s", tpath("ma.nnl"))), "shape differs (8x8 vs 4x16)");
    assert_string_equal(reason(entry(rep, "l", tpath("mb.nnl"))), "layout differs");
    json_decref(rep);
}

/* Quantized weights (PACK_Q8: the per-channel scales inside the bytes):
 * shared only when values and scales both match, and the reason names
 * which differed. */
static void test_reasons_q8(void **state) {
    (void)state;
    int8_t v0[32], v1[32];
    float s0[8], s1[8];
    for (int i = 0; i < 32; i++) v0[i] = v1[i] = (int8_t)(i * 7 - 100);
    for (int i = 0; i < 8; i++) s0[i] = s1[i] = 0.01f * (float)(i + 1);
    v1[17] = 3;
    s1[5] = 0.5f;
    static uint8_t base[96], dv[96], ds[96], db[96];
    nnl_pack_q8(base, v0, s0, 8, 4, 1);
    nnl_pack_q8(dv, v1, s0, 8, 4, 1);
    nnl_pack_q8(ds, v0, s1, 8, 4, 1);
    nnl_pack_q8(db, v1, s1, 8, 4, 1);
    const int64_t d[4] = {8, 4, 1, 1};
    uint64_t nb;
    assert_true(nnl_tensor_nbytes_checked(NNL_DT_INT8, 4, d, NNL_LAYOUT_PACK_Q8, &nb));
    assert_int_equal(nb, sizeof base);
    const char *names[] = {"same", "vals", "scales", "both"};
    const void *bdata[] = {base, dv, ds, db};
    wspec wa[4], wb[4];
    for (int i = 0; i < 4; i++) {
        wa[i] = (wspec){.name = names[i], .dtype = NNL_DT_INT8, .rank = 4, .dims = {8, 4, 1, 1},
                        .layout = NNL_LAYOUT_PACK_Q8, .data = base};
        wb[i] = wa[i];
        wb[i].data = bdata[i];
    }
    make_file(tpath("qa.nnl"), "a", wa, 4, NULL);
    make_file(tpath("qb.nnl"), "b", wb, 4, NULL);
    nnl_link_summary sum;
    assert_int_equal(link2(tpath("qa.nnl"), tpath("qb.nnl"), tpath("q.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("q.json"), &sum), NNL_OK);
    json_t *rep = load(tpath("q.json"));
    assert_true(json_is_true(json_object_get(entry(rep, "same", tpath("qb.nnl")), "shared")));
    assert_null(reason(entry(rep, "same", tpath("qb.nnl"))));
    /* byte 64 (after 8 scales and 8 row sums) + 4 * 4 + 1: row 4, column 1 */
    assert_string_equal(reason(entry(rep, "vals", tpath("qb.nnl"))), "int8 values differ (first at byte 81), scales equal");
    assert_string_equal(reason(entry(rep, "scales", tpath("qb.nnl"))), "scales differ, int8 values equal");
    assert_string_equal(reason(entry(rep, "both", tpath("qb.nnl"))), "int8 values and scales differ");
    json_decref(rep);
}

static void test_content_mode(void **state) {
    (void)state;
    wspec wa[] = {ws("encoder.0.weight", A, 8, 8), ws("x", C, 6, 8), ws("bias1", I64, 4, 16),
                  ws("bias2", I64, 4, 16)};
    wspec wb[] = {ws("model.encoder.0.weight", A, 8, 8), ws("x", B, 8, 8)};
    make_file(tpath("ca.nnl"), "a", wa, 4, NULL);
    make_file(tpath("cb.nnl"), "b", wb, 2, NULL);
    nnl_link_summary s;
    /* name+content: the renamed copy stays separate, and the report says why */
    assert_int_equal(link2(tpath("ca.nnl"), tpath("cb.nnl"), tpath("c1.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("c1.json"), &s), NNL_OK);
    assert_int_equal(s.weights_stored, 6);
    json_t *rep = load(tpath("c1.json"));
    assert_string_equal(reason(entry(rep, "model.encoder.0.weight", tpath("cb.nnl"))),
                        "same content, different name (use --share content)");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            entry(rep, "model.encoder.0.weight", tpath("cb.nnl")), "compared_with"), "name")),
                        "encoder.0.weight");
    /* equal weights inside one graph are not what the report explains */
    assert_null(reason(entry(rep, "bias2", tpath("ca.nnl"))));
    assert_non_null(strstr(reason(entry(rep, "x", tpath("cb.nnl"))), "shape differs"));
    json_decref(rep);
    /* content: shared despite the names */
    assert_int_equal(link2(tpath("ca.nnl"), tpath("cb.nnl"), tpath("c2.nnl"), NNL_SHARE_CONTENT,
                           tpath("c2.json"), &s), NNL_OK);
    assert_int_equal(s.weights_stored, 4);   /* bias2 joins bias1 in content mode */
    assert_int_equal(s.bytes_saved, sizeof A + sizeof I64);
    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("c2.nnl"), &f), NNL_OK);
    int i0, i1;
    weight_of(f, "a", "encoder.0.weight", &i0);
    weight_of(f, "b", "model.encoder.0.weight", &i1);
    assert_int_equal(i0, i1);
    nnl_file_close(f);
    rep = load(tpath("c2.json"));
    assert_string_equal(json_string_value(json_object_get(rep, "share")), "content");
    assert_true(json_is_true(json_object_get(entry(rep, "model.encoder.0.weight", tpath("cb.nnl")), "shared")));
    json_decref(rep);
}

static void test_none_mode(void **state) {
    (void)state;
    wspec w[] = {ws("w", A, 8, 8)};
    make_file(tpath("na.nnl"), "a", w, 1, NULL);
    make_file(tpath("nb.nnl"), "b", w, 1, NULL);
    nnl_link_summary s;
    assert_int_equal(link2(tpath("na.nnl"), tpath("nb.nnl"), tpath("n.nnl"), NNL_SHARE_NONE,
                           tpath("n.json"), &s), NNL_OK);
    assert_int_equal(s.weights_stored, 2);
    assert_int_equal(s.weights_shared, 0);
    assert_int_equal(s.bytes_saved, 0);
    /* a report that cannot be written fails the call; the output is complete */
    assert_int_equal(link2(tpath("na.nnl"), tpath("nb.nnl"), tpath("n2.nnl"), NNL_SHARE_NONE,
                           tpath("no-such-dir/n.json"), NULL), NNL_ERR_IO);
    assert_non_null(strstr(nnl_last_error(), "report"));
    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("n2.nnl"), &f), NNL_OK);
    nnl_file_close(f);
    json_t *rep = load(tpath("n.json"));
    assert_string_equal(reason(entry(rep, "w", tpath("nb.nnl"))), "sharing disabled");
    assert_true(json_is_false(json_object_get(entry(rep, "w", tpath("na.nnl")), "shared")));
    json_decref(rep);
}

static void test_clash(void **state) {
    (void)state;
    wspec w[] = {ws("w", A, 8, 8)};
    make_file(tpath("k1.nnl"), "main", w, 1, NULL);
    make_file(tpath("k2.nnl"), "main", w, 1, NULL);
    FILE *fp = fopen(tpath("k.nnl"), "w");
    fputs("old", fp);
    fclose(fp);
    assert_int_equal(link2(tpath("k1.nnl"), tpath("k2.nnl"), tpath("k.nnl"), NNL_SHARE_NAME_CONTENT,
                           NULL, NULL), NNL_ERR_INVALID_ARG);
    const char *msg = nnl_last_error();
    assert_non_null(strstr(msg, "'main'"));
    assert_non_null(strstr(msg, tpath("k1.nnl")));
    assert_non_null(strstr(msg, tpath("k2.nnl")));
    size_t n;
    uint8_t *b = slurp(tpath("k.nnl"), &n);   /* failed link leaves the old output */
    assert_int_equal(n, 3);
    assert_memory_equal(b, "old", 3);
    free(b);
}

static void test_mismatch(void **state) {
    (void)state;
    wspec w[] = {ws("w", A, 8, 8)};
    make_file(tpath("x1.nnl"), "a", w, 1, NULL);
    fspec other = {.target = "riscv64"};
    make_file(tpath("x2.nnl"), "b", w, 1, &other);
    assert_int_equal(link2(tpath("x1.nnl"), tpath("x2.nnl"), tpath("x.nnl"), NNL_SHARE_NAME_CONTENT,
                           NULL, NULL), NNL_ERR_MISMATCH);
    assert_non_null(strstr(nnl_last_error(), tpath("x2.nnl")));
    assert_non_null(strstr(nnl_last_error(), "riscv64"));
    assert_non_null(strstr(nnl_last_error(), nnl_file_host_target()));
    fspec lay = {.layout_version = NNL_LAYOUT_VERSION + 1};
    make_file(tpath("x3.nnl"), "c", w, 1, &lay);
    assert_int_equal(link2(tpath("x1.nnl"), tpath("x3.nnl"), tpath("x.nnl"), NNL_SHARE_NAME_CONTENT,
                           NULL, NULL), NNL_ERR_MISMATCH);
    assert_non_null(strstr(nnl_last_error(), "layout version"));
    assert_non_null(strstr(nnl_last_error(), tpath("x3.nnl")));
    /* a newer format version is refused when the input is opened */
    size_t n;
    uint8_t *b = slurp(tpath("x1.nnl"), &n);
    nnl_put_u32(b + NNL_FMT_OFF_FORMAT, NNL_FORMAT_VERSION + 1);
    FILE *fp = fopen(tpath("x4.nnl"), "wb");
    fwrite(b, 1, n, fp);
    fclose(fp);
    free(b);
    assert_int_equal(link2(tpath("x1.nnl"), tpath("x4.nnl"), tpath("x.nnl"), NNL_SHARE_NAME_CONTENT,
                           NULL, NULL), NNL_ERR_MISMATCH);
    assert_non_null(strstr(nnl_last_error(), tpath("x4.nnl")));
    assert_non_null(strstr(nnl_last_error(), "format version"));
    assert_int_equal(access(tpath("x.nnl"), F_OK), -1);
}

static void test_rename_and_multi(void **state) {
    (void)state;
    wspec w[] = {ws("w", A, 8, 8), ws("v", B, 8, 8)};
    make_file(tpath("r1.nnl"), "main", w, 2, NULL);
    make_file(tpath("r2.nnl"), "main", w, 1, NULL);
    nnl_link_input in[2] = {{.path = tpath("r1.nnl"), .rename_to = "fp32"},
                            {.path = tpath("r2.nnl"), .rename_from = "main", .rename_to = "lite"}};
    nnl_link_options o = opts(NNL_SHARE_NAME_CONTENT, NULL);
    o.default_graph = "lite";
    assert_int_equal(nnl_link_files(in, 2, tpath("r.nnl"), &o, NULL), NNL_OK);
    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("r.nnl"), &f), NNL_OK);
    assert_string_equal(f->graphs[0].name, "fp32");
    assert_string_equal(f->graphs[1].name, "lite");
    assert_int_equal(f->default_graph, 1);
    assert_int_equal(f->n_weights, 2);
    nnl_file_close(f);

    /* link the two-graph result with a third file; renaming needs OLD= now */
    make_file(tpath("r3.nnl"), "main", w, 2, NULL);
    nnl_link_input in2[2] = {{.path = tpath("r.nnl"), .rename_to = "x"}, {.path = tpath("r3.nnl")}};
    assert_int_equal(nnl_link_files(in2, 2, tpath("r4.nnl"), NULL, NULL), NNL_ERR_INVALID_ARG);
    assert_non_null(strstr(nnl_last_error(), "2 graphs"));
    in2[0] = (nnl_link_input){.path = tpath("r.nnl"), .rename_from = "nope", .rename_to = "x"};
    assert_int_equal(nnl_link_files(in2, 2, tpath("r4.nnl"), NULL, NULL), NNL_ERR_NOT_FOUND);
    assert_non_null(strstr(nnl_last_error(), "fp32, lite"));
    in2[0] = (nnl_link_input){.path = tpath("r.nnl"), .rename_from = "lite", .rename_to = "lite_v1"};
    nnl_link_summary s;
    assert_int_equal(nnl_link_files(in2, 2, tpath("r4.nnl"), NULL, &s), NNL_OK);
    assert_int_equal(s.graphs, 3);
    assert_int_equal(s.weights_in, 4);
    assert_int_equal(s.weights_stored, 2);
    assert_int_equal(nnl_file_read(tpath("r4.nnl"), &f), NNL_OK);
    assert_string_equal(f->graphs[1].name, "lite_v1");
    assert_string_equal(f->graphs[2].name, "main");
    assert_int_equal(f->default_graph, -1);
    nnl_file_close(f);

    o.default_graph = "missing";
    assert_int_equal(nnl_link_files(in, 2, tpath("r5.nnl"), &o, NULL), NNL_ERR_NOT_FOUND);
    assert_non_null(strstr(nnl_last_error(), "missing"));
    /* rename onto a name another input uses */
    in[0].rename_to = "main";
    in[1].rename_from = NULL;
    in[1].rename_to = NULL;
    assert_int_equal(nnl_link_files(in, 2, tpath("r5.nnl"), NULL, NULL), NNL_ERR_INVALID_ARG);
    assert_int_equal(access(tpath("r5.nnl"), F_OK), -1);
    nnl_link_options bad = opts(NNL_SHARE_NAME_CONTENT, NULL);
    bad.size = 3;
    assert_int_equal(nnl_link_files(in, 2, tpath("r5.nnl"), &bad, NULL), NNL_ERR_INVALID_ARG);
}

static void test_extract(void **state) {
    (void)state;
    wspec wa[] = {ws("shared", A, 8, 8), ws("only_a", C, 6, 8)};
    wspec wb[] = {ws("only_b", B, 8, 8), ws("shared", A, 8, 8)};
    make_file(tpath("ea.nnl"), "a", wa, 2, NULL);
    make_file(tpath("eb.nnl"), "b", wb, 2, NULL);
    assert_int_equal(link2(tpath("ea.nnl"), tpath("eb.nnl"), tpath("e.nnl"), NNL_SHARE_NAME_CONTENT,
                           NULL, NULL), NNL_OK);
    assert_int_equal(nnl_extract_graph(tpath("e.nnl"), "b", tpath("e_b.nnl")), NNL_OK);
    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("e_b.nnl"), &f), NNL_OK);
    assert_int_equal(f->n_graphs, 1);
    assert_string_equal(f->graphs[0].name, "b");
    assert_int_equal(f->n_weights, 2);   /* only_a is gone */
    assert_memory_equal(weight_of(f, "b", "only_b", NULL)->data, B, sizeof B);
    assert_memory_equal(weight_of(f, "b", "shared", NULL)->data, A, sizeof A);
    nnl_file_close(f);
    /* extracting the only graph of an input gives back its original bytes */
    assert_int_equal(nnl_extract_graph(tpath("e.nnl"), "a", tpath("e_a.nnl")), NNL_OK);
    size_t n1, n2;
    uint8_t *b1 = slurp(tpath("e_a.nnl"), &n1), *b2 = slurp(tpath("ea.nnl"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1), free(b2);
    assert_int_equal(nnl_extract_graph(tpath("e.nnl"), "c", tpath("e_c.nnl")), NNL_ERR_NOT_FOUND);
    assert_non_null(strstr(nnl_last_error(), "a, b"));
    assert_int_equal(nnl_extract_graph(tpath("e.nnl"), NULL, tpath("e_c.nnl")), NNL_ERR_NOT_FOUND);
    assert_int_equal(nnl_extract_graph(tpath("ea.nnl"), NULL, tpath("e_c.nnl")), NNL_OK);
}

static void test_deterministic(void **state) {
    (void)state;
    wspec wa[] = {ws("w", A, 8, 8), ws("u", C, 6, 8)};
    wspec wb[] = {ws("w", A, 8, 8), ws("v", B, 8, 8)};
    make_file(tpath("da.nnl"), "a", wa, 2, NULL);
    make_file(tpath("db.nnl"), "b", wb, 2, NULL);
    assert_int_equal(link2(tpath("da.nnl"), tpath("db.nnl"), tpath("d1.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("d1.json"), NULL), NNL_OK);
    assert_int_equal(link2(tpath("da.nnl"), tpath("db.nnl"), tpath("d2.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("d2.json"), NULL), NNL_OK);
    size_t n1, n2;
    uint8_t *b1 = slurp(tpath("d1.nnl"), &n1), *b2 = slurp(tpath("d2.nnl"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1), free(b2);
    /* linking over the output in place works: inputs stay mapped */
    nnl_link_input in[2] = {{.path = tpath("d1.nnl"), .rename_from = "a", .rename_to = "a2"},
                            {.path = tpath("db.nnl"), .rename_to = "b2"}};
    assert_int_equal(nnl_link_files(in, 2, tpath("d1.nnl"), NULL, NULL), NNL_OK);
    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("d1.nnl"), &f), NNL_OK);
    assert_int_equal(f->n_graphs, 3);
    assert_int_equal(f->n_weights, 3);
    nnl_file_close(f);
}

static void test_corrupt_input(void **state) {
    (void)state;
    wspec w[] = {ws("w", A, 8, 8)};
    make_file(tpath("ok.nnl"), "a", w, 1, NULL);
    make_file(tpath("bad.nnl"), "b", w, 1, NULL);
    size_t n;
    uint8_t *b = slurp(tpath("bad.nnl"), &n);
    b[n - 5] ^= 0x40;   /* inside the weight data */
    FILE *fp = fopen(tpath("bad.nnl"), "wb");
    fwrite(b, 1, n, fp);
    fclose(fp);
    free(b);
    assert_int_equal(link2(tpath("ok.nnl"), tpath("bad.nnl"), tpath("cx.nnl"), NNL_SHARE_NAME_CONTENT,
                           NULL, NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), tpath("bad.nnl")));
    assert_int_equal(nnl_extract_graph(tpath("bad.nnl"), NULL, tpath("cx.nnl")), NNL_ERR_FORMAT);
    assert_int_equal(access(tpath("cx.nnl"), F_OK), -1);
}

/* b.nnl claims (with valid checksums) that its "w" hashes like a.nnl's
 * although the bytes differ: sharing must not follow the hash, and the
 * lie must be caught when b's bytes are written. */
static void test_forged_hash(void **state) {
    (void)state;
    wspec wa[] = {ws("w", A, 8, 8)}, wb[] = {ws("w", B, 8, 8)};
    make_file(tpath("ha.nnl"), "a", wa, 1, NULL);
    make_file(tpath("hb.nnl"), "b", wb, 1, NULL);
    size_t na, nb;
    uint8_t *a = slurp(tpath("ha.nnl"), &na), *b = slurp(tpath("hb.nnl"), &nb);
    const uint64_t rec_a = nnl_get_u64(a + NNL_FMT_HEADER_SIZE + NNL_FMT_SECTION_ENTRY + 8);
    const uint64_t rec_b = nnl_get_u64(b + NNL_FMT_HEADER_SIZE + NNL_FMT_SECTION_ENTRY + 8);
    memcpy(b + rec_b + 104, a + rec_a + 104, 8);
    const uint64_t wdata = nnl_get_u64(b + NNL_FMT_HEADER_SIZE + 8 * NNL_FMT_SECTION_ENTRY + 8);
    nnl_put_u64(b + NNL_FMT_OFF_META_SUM, nnl_fmt_meta_checksum(b, wdata));
    FILE *fp = fopen(tpath("hb.nnl"), "wb");
    fwrite(b, 1, nb, fp);
    fclose(fp);
    free(a), free(b);
    nnl_file *f = NULL;
    assert_int_equal(nnl_file_read(tpath("hb.nnl"), &f), NNL_OK);   /* a valid file... */
    assert_int_equal(nnl_file_verify(f), NNL_OK);                   /* ...with intact bytes */
    nnl_file_close(f);
    assert_int_equal(link2(tpath("ha.nnl"), tpath("hb.nnl"), tpath("h.nnl"), NNL_SHARE_NAME_CONTENT,
                           NULL, NULL), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), tpath("hb.nnl")));
    assert_non_null(strstr(nnl_last_error(), "'w'"));
    assert_int_equal(access(tpath("h.nnl"), F_OK), -1);
}

static void test_alloc_failures(void **state) {
    (void)state;
    wspec wa[] = {ws("w", A, 8, 8), ws("u", C, 6, 8)};
    wspec wb[] = {ws("w", A, 8, 8), ws("u", B, 8, 8)};
    make_file(tpath("fa.nnl"), "a", wa, 2, NULL);
    make_file(tpath("fb.nnl"), "b", wb, 2, NULL);
    int k;
    for (k = 1; k < 200; k++) {
        nnl_alloc_fail_at(k);
        nnl_status s = link2(tpath("fa.nnl"), tpath("fb.nnl"), tpath("f.nnl"), NNL_SHARE_NAME_CONTENT,
                             tpath("f.json"), NULL);
        nnl_alloc_fail_at(0);
        if (s == NNL_OK) break;
        assert_int_equal(s, NNL_ERR_NOMEM);
    }
    assert_true(k < 200);
}

/* Throughput of a link of two 192 MiB files that share half their weights
 * (set NNL_LINK_BENCH=1; not part of the normal run). */
static void test_bench(void **state) {
    (void)state;
    if (!getenv("NNL_LINK_BENCH")) {
        skip();
        return;
    }
    const int nw = 12;
    const size_t per = (size_t)16 << 20;
    static char names[12][16];
    wspec wa[12], wb[12];
    float *data = malloc(per * (size_t)nw + per * 6);
    for (size_t i = 0; i < (per * (size_t)nw + per * 6) / 4; i++) data[i] = (float)(i % 1000);
    for (int i = 0; i < nw; i++) {
        snprintf(names[i], sizeof names[i], "w%d", i);
        wa[i] = ws(names[i], (uint8_t *)data + per * (size_t)i, (int)(per / 4096), 1024);
        wb[i] = wa[i];
        if (i % 2) wb[i].data = (uint8_t *)data + per * (size_t)(nw + i / 2);
    }
    make_file(tpath("ba.nnl"), "a", wa, nw, NULL);
    make_file(tpath("bb.nnl"), "b", wb, nw, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nnl_link_summary s;
    assert_int_equal(link2(tpath("ba.nnl"), tpath("bb.nnl"), tpath("b.nnl"), NNL_SHARE_NAME_CONTENT,
                           tpath("b.json"), &s), NNL_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    fprintf(stderr, "  link: %.0f MB in, %.0f MB out in %.3f s: %.2f GB/s in, %.2f GB/s out\n",
            (double)s.bytes_in / 1e6, (double)s.bytes_stored / 1e6, sec,
            (double)s.bytes_in / sec / 1e9, (double)s.bytes_stored / sec / 1e9);
    free(data);
    unlink(tpath("ba.nnl")), unlink(tpath("bb.nnl")), unlink(tpath("b.nnl"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_sharing),
        cmocka_unit_test(test_partial_sharing),
        cmocka_unit_test(test_reasons_meta),
        cmocka_unit_test(test_reasons_q8),
        cmocka_unit_test(test_content_mode),
        cmocka_unit_test(test_none_mode),
        cmocka_unit_test(test_clash),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_rename_and_multi),
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_corrupt_input),
        cmocka_unit_test(test_forged_hash),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
