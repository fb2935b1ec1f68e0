/*
 * .nnl format version 1: round trip of a synthetic two-graph file, the byte
 * layout checked against docs/FORMAT.md by an independent decoder written
 * here, XXH64 against published vectors, and robustness: every truncation,
 * random byte flips (with and without a repaired metadata checksum), wrong
 * file kinds, newer versions, failing writes, failing allocations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/atomic_out.h"
#include "format/fmt_internal.h"
#include "format/nnl_file.h"
#include "format/verify.h"
#include "format/xxh64.h"
#include "kernels/gemm.h"
#include "kernels/qconv.h"
#include "kernels/wino.h"
#include "test_util.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- the synthetic file ------------------------------------------------- */

static float w0[12];                 /* float32 [4,3] */
static int64_t w1[5];                /* int64 [5] */
static uint16_t w2[8];               /* float16 [2,2,2] */
static float w3[16 * 4];             /* float32 [9,4] PACK_A8: 9 rows padded to 16 */
static const int64_t ints_a[] = {1, -2, INT64_MAX, INT64_MIN};
static float floats_a[4];
static nnl_attr attrs1[6];
static nnl_attr attrs2[1];
static nnl_frec_weight W[4];
static nnl_frec_tensor T1[5], T2[4];
static const int32_t n1_in[] = {0, 1, -1}, n1_out[] = {2}, n2_in[] = {2, 3}, n2_out[] = {4, -1};
static const int32_t n3_in[] = {0, 1, 2}, n3_out[] = {3};
static nnl_frec_node N1[2], N2[1];
static const int32_t g1_in[] = {0}, g1_out[] = {4}, g2_in[] = {0}, g2_out[] = {3};
static nnl_frec_graph G[2];

static nnl_frec_tensor tensor(const char *name, nnl_tensor_kind k, nnl_dtype dt, int rank,
                              const int64_t *dims, uint64_t where) {
    nnl_frec_tensor t = {.name = name, .kind = k, .dtype = dt, .rank = rank, .where = where};
    for (int i = 0; i < rank; i++) t.dims[i] = dims[i];
    return t;
}

static nnl_frec_weight weight(const char *name, nnl_dtype dt, int rank, const int64_t *dims,
                              nnl_layout layout, const void *data, uint64_t nbytes) {
    nnl_frec_weight w = {.name = name, .dtype = dt, .rank = rank, .layout = layout, .data = data,
                         .nbytes = nbytes};
    for (int i = 0; i < rank; i++) w.dims[i] = dims[i];
    return w;
}

static nnl_file synth(void) {
    for (int i = 0; i < 12; i++) w0[i] = (float)i * 0.25f - 1.0f;
    for (int i = 0; i < 5; i++) w1[i] = (int64_t)0x0102030405060708ll * (i + 1);
    for (int i = 0; i < 8; i++) w2[i] = (uint16_t)(0x3c00 + i);
    for (int i = 0; i < 64; i++) w3[i] = i < 36 ? (float)i : 0.0f;
    const int64_t d43[] = {4, 3}, d5[] = {5}, d222[] = {2, 2, 2}, d94[] = {9, 4};
    const int64_t d13[] = {1, 3}, d14[] = {1, 4}, d1[] = {1};
    W[0] = weight("w0", NNL_DT_FLOAT, 2, d43, NNL_LAYOUT_PLAIN, w0, sizeof w0);
    W[1] = weight("layer.1.bias", NNL_DT_INT64, 1, d5, NNL_LAYOUT_PLAIN, w1, sizeof w1);
    W[2] = weight("half", NNL_DT_FLOAT16, 3, d222, NNL_LAYOUT_PLAIN, w2, sizeof w2);
    W[3] = weight("packed", NNL_DT_FLOAT, 2, d94, NNL_LAYOUT_PACK_A8, w3, sizeof w3);
    W[3].dims[0] = 9;

    floats_a[0] = 1.5f;
    floats_a[1] = -0.0f;
    floats_a[2] = nnl_bits_f32(0x7fc00001u);   /* a NaN payload must survive */
    floats_a[3] = 3.4e38f;
    attrs1[0] = (nnl_attr){.name = "alpha", .type = NNL_ATTR_FLOAT, .f = 0.125f};
    attrs1[1] = (nnl_attr){.name = "axis", .type = NNL_ATTR_INT, .i = -9000000000ll};
    attrs1[2] = (nnl_attr){.name = "mode", .type = NNL_ATTR_STRING, .s = "constant"};
    attrs1[3] = (nnl_attr){.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = ints_a};
    attrs1[4] = (nnl_attr){.name = "scales", .type = NNL_ATTR_FLOATS, .n = 4, .floats = floats_a};
    attrs1[5] = (nnl_attr){.name = "empty", .type = NNL_ATTR_INTS, .n = 0, .ints = NULL};
    attrs2[0] = (nnl_attr){.name = "mode", .type = NNL_ATTR_STRING, .s = ""};

    T1[0] = tensor("x", NNL_TK_INPUT, NNL_DT_FLOAT, 2, d13, 0);
    T1[1] = tensor("w0", NNL_TK_WEIGHT, NNL_DT_FLOAT, 2, d43, 0);
    T1[2] = tensor("h", NNL_TK_ACT, NNL_DT_FLOAT, 2, d14, 64);
    T1[3] = tensor("bias", NNL_TK_WEIGHT, NNL_DT_INT64, 1, d5, 1);
    T1[4] = tensor("y", NNL_TK_OUTPUT, NNL_DT_FLOAT, 2, d14, 128);
    N1[0] = (nnl_frec_node){.op = "Gemm", .name = "fc1", .n_in = 3, .in = n1_in, .n_out = 1,
                            .out = n1_out, .n_attrs = 6, .attrs = attrs1, .scratch_bytes = 32,
                            .flops = 24.0};
    N1[1] = (nnl_frec_node){.op = "Add", .name = NULL, .n_in = 2, .in = n2_in, .n_out = 2,
                            .out = n2_out, .n_attrs = 0, .flops = 4.0};
    G[0] = (nnl_frec_graph){.name = "first", .n_tensors = 5, .tensors = T1, .n_nodes = 2,
                            .nodes = N1, .n_inputs = 1, .inputs = g1_in, .n_outputs = 1,
                            .outputs = g1_out, .arena_bytes = 256, .scratch_offset = 192,
                            .opset = 17};

    T2[0] = tensor("in", NNL_TK_INPUT, NNL_DT_FLOAT, 1, d1, 0);
    T2[1] = tensor("half", NNL_TK_WEIGHT, NNL_DT_FLOAT16, 3, d222, 2);
    T2[2] = tensor("packed", NNL_TK_WEIGHT, NNL_DT_FLOAT, 2, d94, 3);
    T2[2].layout = NNL_LAYOUT_PACK_A8;
    T2[3] = tensor("out", NNL_TK_OUTPUT, NNL_DT_FLOAT, 1, d1, 64);
    N2[0] = (nnl_frec_node){.op = "Custom", .name = "n", .n_in = 3, .in = n3_in, .n_out = 1,
                            .out = n3_out, .n_attrs = 1, .attrs = attrs2, .flops = 1e300};
    G[1] = (nnl_frec_graph){.name = "second", .n_tensors = 4, .tensors = T2, .n_nodes = 1,
                            .nodes = N2, .n_inputs = 1, .inputs = g2_in, .n_outputs = 1,
                            .outputs = g2_out, .arena_bytes = 128, .scratch_offset = 128,
                            .opset = 13};
    return (nnl_file){.format_version = NNL_FORMAT_VERSION, .layout_version = NNL_LAYOUT_VERSION,
                      .target = "x86_64", .tool_version = "0.1.0-test", .n_weights = 4,
                      .weights = W, .n_graphs = 2, .graphs = G, .default_graph = 1};
}

static const char *S(const char *s) { return s ? s : ""; }

static void assert_attr_equal(const nnl_attr *a, const nnl_attr *b) {
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case NNL_ATTR_INT: assert_int_equal(a->i, b->i); break;
    case NNL_ATTR_FLOAT: assert_int_equal(nnl_f32_bits(a->f), nnl_f32_bits(b->f)); break;
    case NNL_ATTR_STRING: assert_string_equal(S(a->s), b->s); break;
    case NNL_ATTR_INTS:
        assert_int_equal(a->n, b->n);
        for (int i = 0; i < a->n; i++) assert_int_equal(a->ints[i], b->ints[i]);
        break;
    case NNL_ATTR_FLOATS:
        assert_int_equal(a->n, b->n);
        for (int i = 0; i < a->n; i++) assert_int_equal(nnl_f32_bits(a->floats[i]), nnl_f32_bits(b->floats[i]));
        break;
    default: fail();
    }
}

/* b (read back) equals a (written); hashes are the writer's XXH64. */
static void assert_file_equal(const nnl_file *a, const nnl_file *b) {
    assert_int_equal(b->format_version, NNL_FORMAT_VERSION);
    assert_int_equal(a->layout_version, b->layout_version);
    assert_string_equal(a->target, b->target);
    assert_string_equal(S(a->tool_version), b->tool_version);
    assert_int_equal(a->default_graph, b->default_graph);
    assert_int_equal(a->n_weights, b->n_weights);
    for (int i = 0; i < a->n_weights; i++) {
        const nnl_frec_weight *x = &a->weights[i], *y = &b->weights[i];
        assert_string_equal(S(x->name), y->name);
        assert_int_equal(x->dtype, y->dtype);
        assert_int_equal(x->rank, y->rank);
        assert_memory_equal(x->dims, y->dims, sizeof(int64_t) * (size_t)x->rank);
        assert_int_equal(x->layout, y->layout);
        assert_int_equal(x->nbytes, y->nbytes);
        assert_memory_equal(x->data, y->data, (size_t)x->nbytes);
        assert_int_equal(y->hash, nnl_xxh64(x->data, (size_t)x->nbytes, 0));
        assert_int_equal(y->offset % 64, 0);
        assert_int_equal((uintptr_t)y->data % 64, 0);
    }
    assert_int_equal(a->n_graphs, b->n_graphs);
    for (int g = 0; g < a->n_graphs; g++) {
        const nnl_frec_graph *x = &a->graphs[g], *y = &b->graphs[g];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->opset, y->opset);
        assert_int_equal(x->arena_bytes, y->arena_bytes);
        assert_int_equal(x->scratch_offset, y->scratch_offset);
        assert_int_equal(x->n_inputs, y->n_inputs);
        assert_int_equal(x->n_outputs, y->n_outputs);
        assert_memory_equal(x->inputs, y->inputs, sizeof(int32_t) * (size_t)x->n_inputs);
        assert_memory_equal(x->outputs, y->outputs, sizeof(int32_t) * (size_t)x->n_outputs);
        assert_int_equal(x->n_tensors, y->n_tensors);
        for (int t = 0; t < x->n_tensors; t++) {
            const nnl_frec_tensor *p = &x->tensors[t], *q = &y->tensors[t];
            assert_string_equal(S(p->name), q->name);
            assert_int_equal(p->kind, q->kind);
            assert_int_equal(p->dtype, q->dtype);
            assert_int_equal(p->rank, q->rank);
            assert_memory_equal(p->dims, q->dims, sizeof(int64_t) * (size_t)p->rank);
            assert_int_equal(p->layout, q->layout);
            assert_int_equal(p->where, q->where);
        }
        assert_int_equal(x->n_nodes, y->n_nodes);
        for (int n = 0; n < x->n_nodes; n++) {
            const nnl_frec_node *p = &x->nodes[n], *q = &y->nodes[n];
            assert_string_equal(p->op, q->op);
            assert_string_equal(S(p->name), q->name);
            assert_int_equal(p->n_in, q->n_in);
            assert_int_equal(p->n_out, q->n_out);
            assert_memory_equal(p->in, q->in, sizeof(int32_t) * (size_t)p->n_in);
            assert_memory_equal(p->out, q->out, sizeof(int32_t) * (size_t)p->n_out);
            assert_int_equal(p->scratch_bytes, q->scratch_bytes);
            assert_int_equal(nnl_f64_bits(p->flops), nnl_f64_bits(q->flops));
            assert_int_equal(p->n_attrs, q->n_attrs);
            for (int k = 0; k < p->n_attrs; k++) assert_attr_equal(&p->attrs[k], &q->attrs[k]);
        }
    }
}

static int setup(void **state) {
    (void)state;
    return tmpdir_make("test_format");
}

static int teardown(void **state) {
    (void)state;
    return tmpdir_remove();
}

/* ---- tests ---------------------------------------------------------------- */

static void test_xxh64_vectors(void **state) {
    (void)state;
    /* Published XXH64 (seed 0) values. */
    assert_int_equal(nnl_xxh64("", 0, 0), 0xEF46DB3751D8E999ull);
    assert_int_equal(nnl_xxh64("a", 1, 0), 0xD24EC4F1A98C6E5Bull);
    assert_int_equal(nnl_xxh64("abc", 3, 0), 0x44BC2CF5AD770999ull);
    assert_int_equal(nnl_xxh64("xxhash", 6, 0), 0x32DD38952C4BC720ull);
    assert_int_equal(nnl_xxh64("abcdefghijklmnopqrstuvwxyz12345", 31, 0), 0x467605901B01D6F6ull);
    const char *s36 = "0123456789abcdefghijklmnopqrstuvwxyz";
    assert_int_equal(nnl_xxh64(s36, 36, 0), 0x69196C1B3AF0BFF9ull);
    /* Streaming in arbitrary pieces equals one shot. */
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rng();
    for (int trial = 0; trial < 50; trial++) {
        size_t n = rng() % sizeof buf;
        nnl_xxh64_state s;
        nnl_xxh64_init(&s, 0);
        for (size_t done = 0; done < n;) {
            size_t k = 1 + rng() % 70;
            if (k > n - done) k = n - done;
            nnl_xxh64_update(&s, buf + done, k);
            done += k;
        }
        assert_int_equal(nnl_xxh64_final(&s), nnl_xxh64(buf, n, 0));
    }
}

static void test_round_trip(void **state) {
    (void)state;
    nnl_file f = synth();
    const char *p = tpath("rt.nnl");
    assert_int_equal(nnl_file_write(&f, p), NNL_OK);
    nnl_file *r = NULL;
    assert_int_equal(nnl_file_read(p, &r), NNL_OK);
    assert_file_equal(&f, r);
    /* Weights are never copied: they point into the mapping. */
    for (int i = 0; i < r->n_weights; i++) {
        const uint8_t *d = r->weights[i].data, *m = r->map;
        assert_true(d >= m && d + r->weights[i].nbytes <= m + r->map_size);
        assert_ptr_equal(d, m + r->weights[i].offset);
    }
    assert_int_equal(nnl_file_verify(r), NNL_OK);
    /* Writing the read-back file reproduces the bytes exactly. */
    const char *p2 = tpath("rt2.nnl");
    assert_int_equal(nnl_file_write(r, p2), NNL_OK);
    size_t n1, n2;
    uint8_t *b1 = slurp(p, &n1), *b2 = slurp(p2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1), free(b2);
    nnl_file_close(r);
}

/* A file of a few MB: written in 2 MB-aligned blocks (every write but the
 * last ends on a 2 MB offset, whatever the sizes put), read back equal and
 * mapped at a 2 MB-aligned address, so that its page cache folios can be
 * mapped as huge pages (format/nnl_file_read.c). */
static float big_w[4 * (3 << 17)];
static void test_large_file(void **state) {
    (void)state;
    const size_t mb2 = (size_t)2 << 20;
    for (size_t i = 0; i < sizeof big_w / sizeof *big_w; i++) big_w[i] = (float)(rng() % 1000) - 500.0f;
    const char *p = tpath("big_out.bin");
    nnl_out o;
    assert_int_equal(nnl_out_open(&o, p, 0), NNL_OK);
    const size_t sizes[] = {3, 100, mb2 - 50, 2 * mb2 + 7, 1, mb2 / 3, 2 * mb2, 17}; /* each < big_w - 4096 */
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        assert_int_equal(nnl_out_put(&o, (const uint8_t *)big_w + total % 4096, sizes[i]), NNL_OK);
        total += sizes[i];
        assert_int_equal(o.written % mb2, 0);
        assert_true(o.written + o.nstage == total);
    }
    assert_int_equal(nnl_out_commit(&o), NNL_OK);
    size_t n;
    uint8_t *b = slurp(p, &n);
    assert_int_equal(n, total);
    for (size_t i = 0, at = 0; i < sizeof sizes / sizeof *sizes; at += sizes[i++])
        assert_memory_equal(b + at, (const uint8_t *)big_w + at % 4096, sizes[i]);
    free(b);

    nnl_file f = synth();
    const int64_t dbig[] = {4, 3 << 17};
    W[0] = weight("w0", NNL_DT_FLOAT, 2, dbig, NNL_LAYOUT_PLAIN, big_w, sizeof big_w);
    T1[1] = tensor("w0", NNL_TK_WEIGHT, NNL_DT_FLOAT, 2, dbig, 0);
    p = tpath("big.nnl");
    assert_int_equal(nnl_file_write(&f, p), NNL_OK);
    nnl_file *r = NULL;
    assert_int_equal(nnl_file_read(p, &r), NNL_OK);
    assert_true(r->map_size > sizeof big_w);
    assert_file_equal(&f, r);
    assert_int_equal(nnl_file_verify(r), NNL_OK);
#if defined(__linux__)
    assert_int_equal((uintptr_t)r->map % mb2, 0);
#endif
    nnl_file_close(r);
}

static void test_deterministic(void **state) {
    (void)state;
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("d1.nnl")), NNL_OK);
    assert_int_equal(nnl_file_write(&f, tpath("d2.nnl")), NNL_OK);
    size_t n1, n2;
    uint8_t *b1 = slurp(tpath("d1.nnl"), &n1), *b2 = slurp(tpath("d2.nnl"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1), free(b2);
}

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/* An independent decoder of the header, section table and weight records
 * following docs/FORMAT.md. */
static void test_byte_layout(void **state) {
    (void)state;
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("bl.nnl")), NNL_OK);
    size_t n;
    uint8_t *b = slurp(tpath("bl.nnl"), &n);
    assert_memory_equal(b, "\x89NNL\r\n\x1a\n", 8);
    assert_int_equal(le32(b + 8), 1);
    assert_int_equal(le32(b + 12), NNL_LAYOUT_VERSION);
    assert_int_equal(le32(b + 16), 128);
    assert_int_equal(le32(b + 20), 9);
    assert_int_equal(le64(b + 24), n);
    assert_int_equal((int32_t)le32(b + 64), 1);
    uint64_t off[10], len[10], end = 128 + 9 * 24;
    for (int id = 1; id <= 9; id++) {
        const uint8_t *e = b + 128 + (id - 1) * 24;
        assert_int_equal(le32(e), id);
        off[id] = le64(e + 8);
        len[id] = le64(e + 16);
        assert_true(off[id] >= end);
        end = off[id] + len[id];
    }
    assert_int_equal(end, n);
    assert_int_equal(off[9] % 64, 0);
    const uint8_t *strs = b + off[1];
    /* header strings */
    assert_string_equal((const char *)strs + le32(b + 48), "x86_64");
    assert_int_equal(le32(b + 52), 6);
    assert_string_equal((const char *)strs + le32(b + 56), "0.1.0-test");
    /* checksums */
    uint8_t *tmp = malloc(off[9]);
    memcpy(tmp, b, off[9]);
    memset(tmp + 32, 0, 8);
    nnl_xxh64_state s;
    nnl_xxh64_init(&s, 0);
    nnl_xxh64_update(&s, tmp, 32);
    nnl_xxh64_update(&s, tmp + 40, off[9] - 40);
    assert_int_equal(le64(b + 32), nnl_xxh64_final(&s));
    free(tmp);
    assert_int_equal(le64(b + 40), nnl_xxh64(b + off[9], len[9], 0));
    /* weight records: 112 bytes each */
    assert_int_equal(len[2], 4 * 112);
    for (int i = 0; i < 4; i++) {
        const uint8_t *r = b + off[2] + 112 * i;
        assert_string_equal((const char *)strs + le32(r), W[i].name);
        assert_int_equal(le32(r + 4), strlen(W[i].name));
        assert_int_equal(le32(r + 8), W[i].dtype);
        assert_int_equal(le32(r + 12), W[i].layout);
        assert_int_equal(le32(r + 16), W[i].rank);
        for (int d = 0; d < 8; d++) assert_int_equal(le64(r + 24 + 8 * d), d < W[i].rank ? (uint64_t)W[i].dims[d] : 0);
        uint64_t o = le64(r + 88), nb = le64(r + 96);
        assert_int_equal(o % 64, 0);
        assert_int_equal(nb, W[i].nbytes);
        assert_memory_equal(b + off[9] + o, W[i].data, nb);
        assert_int_equal(le64(r + 104), nnl_xxh64(W[i].data, nb, 0));
    }
    /* graph records: 64 bytes; tensor records: 96 */
    assert_int_equal(len[3], 2 * 64);
    assert_int_equal(len[4], (5 + 4) * 96);
    const uint8_t *g1 = b + off[3] + 64;
    assert_string_equal((const char *)strs + le32(g1), "second");
    assert_int_equal(le64(g1 + 8), 13);
    assert_int_equal(le64(g1 + 16), 128);
    assert_int_equal(le32(g1 + 32), 5);   /* its tensors follow the first graph's five */
    assert_int_equal(le32(g1 + 36), 4);
    const uint8_t *t = b + off[4] + 96 * 6;   /* "half", a weight tensor */
    assert_string_equal((const char *)strs + le32(t), "half");
    assert_int_equal(le32(t + 8), NNL_TK_WEIGHT);
    assert_int_equal(le64(t + 88), 2);
    /* node "fc1": 56 bytes, attributes 24 bytes */
    assert_int_equal(len[5], 3 * 56);
    const uint8_t *nd = b + off[5];
    assert_string_equal((const char *)strs + le32(nd), "Gemm");
    assert_int_equal(le32(nd + 20), 3);
    const uint8_t *idx = b + off[7] + 4 * le32(nd + 16);
    assert_int_equal((int32_t)le32(idx + 8), -1);
    assert_int_equal(le64(nd + 48), nnl_f64_bits(24.0));
    assert_int_equal(len[6], 7 * 24);
    const uint8_t *at = b + off[6] + 24 * 3;   /* "pads": INTS */
    assert_int_equal(le32(at + 8), NNL_ATTR_INTS);
    assert_int_equal(le32(at + 12), 4);
    assert_int_equal(le64(at + 16) % 8, 0);
    assert_int_equal((int64_t)le64(b + off[8] + le64(at + 16) + 16), INT64_MAX);
    free(b);
}

static nnl_status read_status(const char *path) {
    nnl_file *r = NULL;
    nnl_status s = nnl_file_read(path, &r);
    if (s == NNL_OK) {
        assert_non_null(r);
        nnl_file_close(r);
    } else {
        assert_null(r);
    }
    return s;
}

static void test_truncation(void **state) {
    (void)state;
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("full.nnl")), NNL_OK);
    size_t n;
    uint8_t *b = slurp(tpath("full.nnl"), &n);
    for (size_t len = 0; len < n; len++) {
        spit(tpath("cut.nnl"), b, len);
        nnl_status s = read_status(tpath("cut.nnl"));
        if (s != NNL_ERR_FORMAT) fprintf(stderr, "length %zu: %s\n", len, nnl_last_error());
        assert_int_equal(s, NNL_ERR_FORMAT);
    }
    spit(tpath("cut.nnl"), b, 200);
    read_status(tpath("cut.nnl"));
    assert_non_null(strstr(nnl_last_error(), "truncated"));
    /* Appended bytes are refused too. */
    uint8_t *longer = calloc(1, n + 1);
    memcpy(longer, b, n);
    spit(tpath("cut.nnl"), longer, n + 1);
    assert_int_equal(read_status(tpath("cut.nnl")), NNL_ERR_FORMAT);
    free(longer);
    free(b);
}

/* Walks everything a reader hands out, so the sanitizers see any pointer
 * that escapes the mapping or the arena. */
static void touch(const nnl_file *r) {
    volatile size_t sink = strlen(r->target) + strlen(r->tool_version);
    for (int i = 0; i < r->n_weights; i++) {
        const uint8_t *d = r->weights[i].data;
        sink += strlen(r->weights[i].name);
        for (uint64_t k = 0; k < r->weights[i].nbytes; k++) sink += d[k];
    }
    for (int g = 0; g < r->n_graphs; g++) {
        const nnl_frec_graph *gr = &r->graphs[g];
        sink += strlen(gr->name);
        for (int t = 0; t < gr->n_tensors; t++) sink += strlen(gr->tensors[t].name);
        for (int i = 0; i < gr->n_inputs; i++) sink += (size_t)gr->inputs[i];
        for (int i = 0; i < gr->n_outputs; i++) sink += (size_t)gr->outputs[i];
        for (int n = 0; n < gr->n_nodes; n++) {
            const nnl_frec_node *nd = &gr->nodes[n];
            sink += strlen(nd->op) + strlen(nd->name);
            for (int i = 0; i < nd->n_in; i++) assert_true(nd->in[i] >= -1 && nd->in[i] < gr->n_tensors);
            for (int i = 0; i < nd->n_out; i++) assert_true(nd->out[i] >= -1 && nd->out[i] < gr->n_tensors);
            for (int a = 0; a < nd->n_attrs; a++) {
                const nnl_attr *at = &nd->attrs[a];
                sink += strlen(at->name);
                if (at->type == NNL_ATTR_STRING) sink += strlen(at->s);
                for (int k = 0; at->type == NNL_ATTR_INTS && k < at->n; k++) sink += (size_t)at->ints[k];
                for (int k = 0; at->type == NNL_ATTR_FLOATS && k < at->n; k++) sink += (size_t)(at->floats[k] != 0);
            }
        }
    }
    (void)sink;
}

/* Interesting values for a 4- or 8-byte field: zero, one, signs, limits,
 * sizes just past the file. */
static uint64_t boundary(size_t n) {
    static const uint64_t v[] = {0, 1, 2, 7, 8, 9, 63, 64, 65, 0x7f, 0x80, 0xff, 0xffff,
                                 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
                                 0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX};
    uint64_t k = rng() % (sizeof v / sizeof *v + 4);
    if (k < sizeof v / sizeof *v) return v[k];
    return n + (k - sizeof v / sizeof *v) - 2;
}

static void fuzz(bool fix_checksum, int iters) {
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("fz.nnl")), NNL_OK);
    size_t n;
    uint8_t *b = slurp(tpath("fz.nnl"), &n), *m = malloc(n);
    int ok = 0, bad = 0, weights_bad = 0;
    const uint64_t meta_end = le64(b + 128 + 8 * 24 + 8);
    for (int it = 0; it < iters; it++) {
        memcpy(m, b, n);
        int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; k++) {
            /* With the checksum repaired, aim at the metadata the decoder reads:
             * half the time a whole aligned field set to a boundary value. */
            size_t at = fix_checksum ? rng() % meta_end : rng() % n;
            if (fix_checksum && rng() % 2) {
                size_t w = rng() % 2 ? 4 : 8;
                at &= ~(w - 1);
                uint64_t v = boundary(n);
                if (w == 4) nnl_put_u32(m + at, (uint32_t)v);
                else if (at + 8 <= meta_end) nnl_put_u64(m + at, v);
            } else {
                m[at] ^= (uint8_t)(1 + rng() % 255);
            }
        }
        if (fix_checksum) {
            uint64_t w = le64(m + 128 + 8 * 24 + 8);
            if (w >= 48 && w <= n) nnl_put_u64(m + 32, nnl_fmt_meta_checksum(m, w));
        }
        spit(tpath("fzm.nnl"), m, n);
        nnl_file *r = NULL;
        nnl_status s = nnl_file_read(tpath("fzm.nnl"), &r);
        if (s == NNL_OK) {
            touch(r);
            if (nnl_file_verify(r) != NNL_OK) weights_bad++;
            nnl_file_close(r);
            ok++;
        } else {
            assert_true(s == NNL_ERR_FORMAT || s == NNL_ERR_MISMATCH);
            assert_null(r);
            assert_true(strlen(nnl_last_error()) > 0);
            bad++;
        }
    }
    fprintf(stderr, "  fuzz (%s checksum): %d opened (%d failed verify), %d refused\n",
            fix_checksum ? "repaired" : "original", ok, weights_bad, bad);
    assert_true(bad > 0);
    free(b), free(m);
}

static void test_flips(void **state) {
    (void)state;
    fuzz(false, 1500);
}

static void test_flips_repaired_checksum(void **state) {
    (void)state;
    fuzz(true, 6000);
}

/* A damaged weight byte passes open (the weights are not read then) but not
 * nnl_file_verify, which names the weight. */
static void test_verify(void **state) {
    (void)state;
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("v.nnl")), NNL_OK);
    size_t n;
    uint8_t *b = slurp(tpath("v.nnl"), &n);
    nnl_file *r = NULL;
    assert_int_equal(nnl_file_read(tpath("v.nnl"), &r), NNL_OK);
    uint64_t at = r->weights[1].offset + 3;
    nnl_file_close(r);
    b[at] ^= 0x10;
    spit(tpath("v.nnl"), b, n);
    assert_int_equal(nnl_file_read(tpath("v.nnl"), &r), NNL_OK);
    assert_int_equal(nnl_file_verify(r), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "layer.1.bias"));
    nnl_file_close(r);
    free(b);
    nnl_file unread = synth();
    assert_int_equal(nnl_file_verify(&unread), NNL_ERR_INVALID_ARG);
}

static void test_not_nnl(void **state) {
    (void)state;
    /* a real ONNX model */
    const char *onnx = "/work/shared/onnx-conformance/node/test_relu/model.onnx";
    if (access(onnx, R_OK) != 0) {
        /* the bytes torch.onnx.export starts with: ir_version, producer_name */
        static const uint8_t head[] = {0x08, 0x07, 0x12, 0x07, 'p', 'y', 't', 'o', 'r', 'c', 'h'};
        uint8_t big[1000] = {0};
        memcpy(big, head, sizeof head);
        spit(tpath("m.onnx"), big, sizeof big);
        onnx = tpath("m.onnx");
    }
    assert_int_equal(read_status(onnx), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "looks like an ONNX model"));
    assert_non_null(strstr(nnl_last_error(), "nnlink compile"));
    /* the same bytes with another name */
    size_t n;
    uint8_t *b = slurp(onnx, &n);
    spit(tpath("model.bin"), b, n);
    free(b);
    assert_int_equal(read_status(tpath("model.bin")), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "ONNX"));

    spit(tpath("empty.nnl"), "", 0);
    assert_int_equal(read_status(tpath("empty.nnl")), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "empty"));

    char text[600];
    memset(text, 'a', sizeof text);
    spit(tpath("t.nnl"), text, sizeof text);
    assert_int_equal(read_status(tpath("t.nnl")), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "text"));

    uint8_t zip[600] = "PK\x03\x04";
    spit(tpath("z.nnl"), zip, sizeof zip);
    assert_int_equal(read_status(tpath("z.nnl")), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "zip"));

    /* a .nnl whose CR LF became LF */
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("crlf.nnl")), NNL_OK);
    b = slurp(tpath("crlf.nnl"), &n);
    memmove(b + 4, b + 5, n - 5);
    spit(tpath("crlf.nnl"), b, n - 1);
    free(b);
    assert_int_equal(read_status(tpath("crlf.nnl")), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "line-ending"));

    assert_int_equal(read_status(tpath("does-not-exist.nnl")), NNL_ERR_IO);
    assert_int_equal(read_status(tmpdir), NNL_ERR_IO);
    assert_int_equal(nnl_file_read(NULL, NULL), NNL_ERR_INVALID_ARG);
}

static void test_newer_version(void **state) {
    (void)state;
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("v2.nnl")), NNL_OK);
    size_t n;
    uint8_t *b = slurp(tpath("v2.nnl"), &n);
    nnl_put_u32(b + 8, 2);
    nnl_put_u64(b + 32, nnl_fmt_meta_checksum(b, le64(b + 128 + 8 * 24 + 8)));
    spit(tpath("v2.nnl"), b, n);
    assert_int_equal(read_status(tpath("v2.nnl")), NNL_ERR_MISMATCH);
    assert_non_null(strstr(nnl_last_error(), "format version 2"));
    nnl_put_u32(b + 8, 0);
    spit(tpath("v2.nnl"), b, n);
    assert_int_equal(read_status(tpath("v2.nnl")), NNL_ERR_FORMAT);
    free(b);
}

/* Section sizes beyond the file are refused before any table is
 * allocated: the file's own size bounds every allocation. */
static void test_huge_claims(void **state) {
    (void)state;
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("h.nnl")), NNL_OK);
    size_t n;
    uint8_t *b = slurp(tpath("h.nnl"), &n), *m = malloc(n);
    for (int id = 1; id <= 9; id++) {
        static const uint64_t sizes[] = {(uint64_t)1 << 40, UINT64_MAX, UINT64_MAX - 100, 1ull << 63};
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            memcpy(m, b, n);
            nnl_put_u64(m + 128 + (id - 1) * 24 + 16, sizes[k]);
            nnl_put_u64(m + 32, nnl_fmt_meta_checksum(m, le64(m + 128 + 8 * 24 + 8)));
            spit(tpath("hm.nnl"), m, n);
            nnl_alloc_fail_at(1);   /* any allocation would now fail with NOMEM */
            nnl_status s = read_status(tpath("hm.nnl"));
            nnl_alloc_fail_at(0);
            assert_int_equal(s, NNL_ERR_FORMAT);
        }
    }
    /* a count field far beyond its table */
    memcpy(m, b, n);
    uint64_t goff = le64(m + 128 + 2 * 24 + 8);
    nnl_put_u32(m + goff + 36, 0xffffffffu);
    nnl_put_u64(m + 32, nnl_fmt_meta_checksum(m, le64(m + 128 + 8 * 24 + 8)));
    spit(tpath("hm.nnl"), m, n);
    assert_int_equal(read_status(tpath("hm.nnl")), NNL_ERR_FORMAT);
    free(b), free(m);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int k = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) k += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return k;
}

static void test_write_failures(void **state) {
    (void)state;
    nnl_file f = synth();
    char sub[512];
    snprintf(sub, sizeof sub, "%s/wf", tmpdir);
    assert_int_equal(mkdir(sub, 0755), 0);
    char target[600];
    snprintf(target, sizeof target, "%s/out.nnl", sub);
    spit(target, "previous", 8);

    /* invalid content: refused before anything is created */
    nnl_file g = f;
    nnl_frec_weight bad[4];
    memcpy(bad, W, sizeof bad);
    bad[0].nbytes -= 4;
    g.weights = bad;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);
    bad[0] = W[0];
    bad[0].rank = 9;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);
    g = f;
    nnl_frec_graph dup[2] = {G[0], G[0]};
    g.graphs = dup;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);
    assert_non_null(strstr(nnl_last_error(), "first"));
    g = f;
    g.n_graphs = 0;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);
    g = f;
    g.default_graph = 2;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);
    nnl_tensor tt = {.dtype = NNL_DT_FLOAT};
    nnl_attr tattr = {.name = "value", .type = NNL_ATTR_TENSOR, .t = &tt};
    nnl_frec_node tn = N2[0];
    tn.attrs = &tattr;
    nnl_frec_graph g2[2] = {G[0], G[1]};
    g2[1].nodes = &tn;
    g = f;
    g.graphs = g2;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);
    /* a node writing into a weight */
    nnl_frec_node wn = N2[0];
    static const int32_t into_weight[] = {1};
    wn.out = into_weight;
    g2[1].nodes = &wn;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);
    /* an activation past the arena */
    nnl_frec_tensor big[5];
    memcpy(big, T1, sizeof big);
    big[2].where = 250;
    g2[1] = G[1];
    g2[0].tensors = big;
    assert_int_equal(nnl_file_write(&g, target), NNL_ERR_INVALID_ARG);

    /* rename onto a directory fails: the temporary file is removed */
    char dirtarget[600];
    snprintf(dirtarget, sizeof dirtarget, "%s/adir", sub);
    assert_int_equal(mkdir(dirtarget, 0755), 0);
    spit(tpath("wf/adir/keep"), "x", 1);
    assert_int_equal(nnl_file_write(&f, dirtarget), NNL_ERR_IO);
    /* missing folder */
    assert_int_equal(nnl_file_write(&f, tpath("wf/nope/out.nnl")), NNL_ERR_IO);
    /* allocation failures at every point */
    for (long k = 1; k < 40; k++) {
        nnl_alloc_fail_at(k);
        nnl_status s = nnl_file_write(&f, target);
        nnl_alloc_fail_at(0);
        if (s == NNL_OK) break;
        assert_int_equal(s, NNL_ERR_NOMEM);
        size_t n;
        uint8_t *b = slurp(target, &n);
        assert_int_equal(n, 8);
        assert_memory_equal(b, "previous", 8);
        free(b);
    }
    assert_int_equal(count_entries(sub), 2);   /* out.nnl and adir: no temporary left */
    nnl_file *r = NULL;
    assert_int_equal(nnl_file_read(target, &r), NNL_OK);
    nnl_file_close(r);
    unlink(tpath("wf/adir/keep"));
    rmdir(dirtarget);
    unlink(target);
    rmdir(sub);
}

static void test_read_alloc_failures(void **state) {
    (void)state;
    nnl_file f = synth();
    assert_int_equal(nnl_file_write(&f, tpath("af.nnl")), NNL_OK);
    for (long k = 1; k < 20; k++) {
        nnl_alloc_fail_at(k);
        nnl_file *r = NULL;
        nnl_status s = nnl_file_read(tpath("af.nnl"), &r);
        nnl_alloc_fail_at(0);
        if (s == NNL_OK) {
            nnl_file_close(r);
            break;
        }
        assert_int_equal(s, NNL_ERR_NOMEM);
        assert_null(r);
    }
}

static void test_relative_path(void **state) {
    (void)state;
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    nnl_file f = synth();
    nnl_status s = nnl_file_write(&f, "rel.nnl");
    nnl_file *r = NULL;
    nnl_status s2 = nnl_file_read("rel.nnl", &r);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(s, NNL_OK);
    assert_int_equal(s2, NNL_OK);
    assert_file_equal(&f, r);
    nnl_file_close(r);
}

static void test_host_target(void **state) {
    (void)state;
#if defined(__x86_64__)
    assert_string_equal(nnl_file_host_target(), "x86_64");
#elif defined(__aarch64__)
    assert_string_equal(nnl_file_host_target(), "aarch64");
#endif
}

/* NNL_MAX_ELEMS (2^48, the product of the non-zero dims) binds every
 * tensor whatever its layout: a plain weight [2^25, 2^25, 0] holds no byte
 * but would overflow any element count a reader derives from its dims.
 * The writer used to accept it (the checks applied the cap to packed
 * layouts only) and leave plan validation to refuse the file. */
static void test_max_elems_every_layout(void **state) {
    (void)state;
    nnl_file f = synth();
    nnl_frec_weight w[4];
    memcpy(w, W, sizeof w);
    const int64_t huge[] = {(int64_t)1 << 25, (int64_t)1 << 25, 0};
    w[1] = weight("empty", NNL_DT_INT64, 3, huge, NNL_LAYOUT_PLAIN, NULL, 0);
    f.weights = w;
    nnl_frec_tensor t1[5];
    memcpy(t1, T1, sizeof t1);
    t1[3] = tensor("empty", NNL_TK_WEIGHT, NNL_DT_INT64, 3, huge, 1);
    nnl_frec_graph g[2] = {G[0], G[1]};
    g[0].tensors = t1;
    f.graphs = g;
    assert_int_equal(nnl_file_write(&f, tpath("huge_empty.nnl")), NNL_ERR_INVALID_ARG);
    assert_non_null(strstr(nnl_last_error(), "2^48"));
    /* one dim less is within the cap and written */
    w[1].dims[0] = t1[3].dims[0] = (int64_t)1 << 23;
    assert_int_equal(nnl_file_write(&f, tpath("huge_empty.nnl")), NNL_OK);
    unlink(tpath("huge_empty.nnl"));
}

/* The packed layouts, computed here from the formulas of docs/FORMAT.md
 * ("Weight layouts"), equal the kernels' packing byte for byte: the spec
 * is what the code writes.  Sizes odd on purpose (partial panels). */
static void test_layouts_match_spec(void **state) {
    (void)state;
    enum { R = 11, C = 5, OC = 10, IC = 3 };
    float w[R * C], wk[OC * IC * 9];
    for (int i = 0; i < R * C; i++) w[i] = (float)(rng() % 2001) / 256.0f - 3.9f;
    for (int i = 0; i < OC * IC * 9; i++) wk[i] = (float)(rng() % 4001) / 1024.0f - 1.7f;
    const int64_t drc[] = {R, C}, dk[] = {OC, IC, 3, 3};
    uint64_t nb;

    /* PACK_A8 of W (R x C): packed[(p*C + c)*8 + i] = W[8p+i][c] */
    static float want[36 * 16 * IC], got[36 * 16 * IC];
    assert_true(nnl_tensor_nbytes_checked(NNL_DT_FLOAT, 2, drc, NNL_LAYOUT_PACK_A8, &nb));
    assert_int_equal(nb, (R + 7) / 8 * 8 * C * 4);
    for (int p = 0; p < (R + 7) / 8; p++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < 8; i++) want[(p * C + c) * 8 + i] = 8 * p + i < R ? w[(8 * p + i) * C + c] : 0.0f;
    nnl_pack_a8(got, w, R, C);
    assert_memory_equal(got, want, nb);

    /* PACK_A8T of W (K = R, N = C): packed[(p*K + k)*8 + i] = W[k][8p+i] */
    assert_true(nnl_tensor_nbytes_checked(NNL_DT_FLOAT, 2, drc, NNL_LAYOUT_PACK_A8T, &nb));
    assert_int_equal(nb, (C + 7) / 8 * 8 * R * 4);
    for (int p = 0; p < (C + 7) / 8; p++)
        for (int k = 0; k < R; k++)
            for (int i = 0; i < 8; i++) want[(p * R + k) * 8 + i] = 8 * p + i < C ? w[k * C + 8 * p + i] : 0.0f;
    nnl_pack_a8t(got, w, R, C);
    assert_memory_equal(got, want, nb);

    /* WINO43: U = G g G^T in binary64 in the stated order, rounded to float */
    static const double G[6][3] = {{1, 0, 0},           {-1.0 / 3, -1.0 / 3, -1.0 / 3},
                                   {1.0 / 3, -1.0 / 3, 1.0 / 3}, {1.0 / 15, 2.0 / 15, 4.0 / 15},
                                   {-16.0 / 15, 8.0 / 15, -4.0 / 15}, {0, 0, 1}};
    assert_true(nnl_tensor_nbytes_checked(NNL_DT_FLOAT, 4, dk, NNL_LAYOUT_WINO43, &nb));
    const int P = (OC + 7) / 8 * 8 * IC;
    assert_int_equal(nb, 36 * P * 4);
    memset(want, 0, sizeof want);
    for (int o = 0; o < OC; o++)
        for (int i = 0; i < IC; i++) {
            const float *g = wk + (o * IC + i) * 9;
            double t[6][3];
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 3; c++) t[r][c] = (G[r][0] * g[c] + G[r][1] * g[3 + c]) + G[r][2] * g[6 + c];
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 6; c++)
                    want[(6 * r + c) * P + ((o / 8) * IC + i) * 8 + o % 8] =
                        (float)((t[r][0] * G[c][0] + t[r][1] * G[c][1]) + t[r][2] * G[c][2]);
        }
    nnl_wino_pack(got, wk, OC, IC);
    assert_memory_equal(got, want, nb);

    /* the float16 variants: the same elements, 2 bytes each; no other
     * dtype in a float layout */
    static const nnl_layout fl[] = {NNL_LAYOUT_PACK_A8, NNL_LAYOUT_PACK_A8T, NNL_LAYOUT_WINO43};
    for (size_t i = 0; i < sizeof fl / sizeof *fl; i++) {
        int rank = fl[i] == NNL_LAYOUT_WINO43 ? 4 : 2;
        const int64_t *d = rank == 4 ? dk : drc;
        uint64_t nb32, nb16;
        assert_true(nnl_tensor_nbytes_checked(NNL_DT_FLOAT, rank, d, fl[i], &nb32));
        assert_true(nnl_tensor_nbytes_checked(NNL_DT_FLOAT16, rank, d, fl[i], &nb16));
        assert_int_equal(nb16 * 2, nb32);
        assert_false(nnl_tensor_nbytes_checked(NNL_DT_INT8, rank, d, fl[i], &nb));
        assert_false(nnl_tensor_nbytes_checked(NNL_DT_DOUBLE, rank, d, fl[i], &nb));
        assert_false(nnl_tensor_nbytes_checked(NNL_DT_UINT16, rank, d, fl[i], &nb));
    }
}

/* PACK_Q8 from its docs/FORMAT.md formulas (scales, row sums, 8-row
 * panels of quads of 4 input channels at one tap) equals nnl_pack_q8 byte
 * for byte; partial panel and partial channel quad on purpose, and a
 * rank-2 weight (one tap). */
static void test_layout_q8_matches_spec(void **state) {
    (void)state;
    enum { R = 11, G = 5, T = 3, C = G * T };
    int8_t w[R * C];
    float sc[R];
    for (int i = 0; i < R * C; i++) w[i] = (int8_t)(rng() % 255 - 127);
    for (int r = 0; r < R; r++) sc[r] = (float)(rng() % 1000 + 1) / 4096.0f;
    const int64_t d[] = {R, G, T}, d2[] = {R, C};
    uint64_t nb;
    enum { P = (R + 7) / 8, Q = (G + 3) / 4 * T, Q2 = (C + 3) / 4 };
    assert_true(nnl_tensor_nbytes_checked(NNL_DT_INT8, 3, d, NNL_LAYOUT_PACK_Q8, &nb));
    assert_int_equal(nb, 8 * P * 8 + 8 * P * 4 * Q);
    assert_true(nnl_tensor_nbytes_checked(NNL_DT_INT8, 2, d2, NNL_LAYOUT_PACK_Q8, &nb));
    assert_int_equal(nb, 8 * P * 8 + 8 * P * 4 * Q2);
    assert_false(nnl_tensor_nbytes_checked(NNL_DT_FLOAT, 3, d, NNL_LAYOUT_PACK_Q8, &nb));
    assert_false(nnl_tensor_nbytes_checked(NNL_DT_INT8, 1, d, NNL_LAYOUT_PACK_Q8, &nb));
    static uint8_t want[8 * P * 8 + 8 * P * 4 * Q], got[sizeof want];
    memset(want, 0, sizeof want);
    for (int r = 0; r < R; r++) {
        int32_t sum = 0;
        for (int c = 0; c < C; c++) sum += w[r * C + c];
        memcpy(want + 4 * r, &sc[r], 4);
        memcpy(want + 4 * (8 * P + r), &sum, 4);
    }
    /* quad q = g4 * T + t holds W[r][4 g4 + j][t] */
    for (int p = 0; p < P; p++)
        for (int q = 0; q < Q; q++)
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 4; j++) {
                    int r = 8 * p + i, g = 4 * (q / T) + j, t = q % T;
                    if (r < R && g < G)
                        want[8 * P * 8 + ((p * Q + q) * 8 + i) * 4 + j] = (uint8_t)w[(r * G + g) * T + t];
                }
    memset(got, 0xa5, sizeof got);
    nnl_pack_q8(got, w, sc, R, G, T);
    assert_memory_equal(got, want, sizeof want);

    /* malformed PACK_Q8 weights are refused by the writer, naming them */
    nnl_file f = synth();
    nnl_frec_weight ws[4];
    memcpy(ws, W, sizeof ws);
    f.weights = ws;
    ws[3] = weight("q8", NNL_DT_FLOAT, 3, d, NNL_LAYOUT_PACK_Q8, want, sizeof want);
    assert_int_equal(nnl_file_write(&f, tpath("q8.nnl")), NNL_ERR_INVALID_ARG);
    assert_non_null(strstr(nnl_last_error(), "'q8': more than 2^48 elements, or a shape its layout does not suit"));
    ws[3] = weight("q8", NNL_DT_INT8, 3, d, NNL_LAYOUT_PACK_Q8, want, sizeof want - 4);
    assert_int_equal(nnl_file_write(&f, tpath("q8.nnl")), NNL_ERR_INVALID_ARG);
    assert_non_null(strstr(nnl_last_error(), "'q8': 508 bytes, its shape needs 512"));
    assert_int_equal(access(tpath("q8.nnl"), F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xxh64_vectors),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_byte_layout),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_flips),
        cmocka_unit_test(test_flips_repaired_checksum),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_not_nnl),
        cmocka_unit_test(test_newer_version),
        cmocka_unit_test(test_huge_claims),
        cmocka_unit_test(test_write_failures),
        cmocka_unit_test(test_read_alloc_failures),
        cmocka_unit_test(test_large_file),
        cmocka_unit_test(test_relative_path),
        cmocka_unit_test(test_host_target),
        cmocka_unit_test(test_max_elems_every_layout),
        cmocka_unit_test(test_layouts_match_spec),
        cmocka_unit_test(test_layout_q8_matches_spec),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
