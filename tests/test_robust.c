/*
 * Hostile files and faults on a real compiled network (tinyseg at
 * 1x3x32x32, compiled from the committed PyTorch export in the setup):
 *   - every truncation of the .nnl and random byte flips, raw and with the
 *     metadata checksum repaired so the flips reach the decoder and the
 *     semantic checks: nnl_plan_open either fails cleanly or gives a plan
 *     whose every graph survives a session + run;
 *   - allocation-failure injection (nnl_alloc_fail_at) for N = 1, 2, ...
 *     until success in plan open, session create, run, compile, link and
 *     extract: NNL_ERR_NOMEM each time, no output or temporary file left
 *     behind, and no leak (LeakSanitizer under `make SAN=1`);
 *   - files claiming huge tensors, tables or arenas: refused with a format
 *     error (or NOMEM at session create) without touching that memory.
 * The RNG seed is fixed; NNL_ROBUST_SEED=<n> picks another.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "format/fmt_internal.h"
#include "ops/ops.h"
#include "test_util.h"

#define FIXTURES "tests/fixtures"
#ifndef TINYSEG_ONNX   /* -D for trying another export by hand */
#define TINYSEG_ONNX FIXTURES "/tinyseg/model.onnx"
#endif
#define ONNX TINYSEG_ONNX
#define N_FLIPS 2000

/* A huge claimed allocation must come back NULL (-> NNL_ERR_NOMEM) rather
 * than stop the process, as it does without sanitizers. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static uint8_t *good;          /* the compiled tinyseg .nnl */
static size_t good_n;
static uint64_t rng_state;

static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static nnl_status compile_tinyseg(const char *out, const char *graph, int64_t h, int64_t w) {
    nnl_input_shape sh = {.name = "image", .rank = 4, .dims = {1, 3, h, w}};
    nnl_compile_options o = {.size = sizeof o, .graph_name = graph, .inputs = &sh, .n_inputs = 1};
    return nnl_compile_file(ONNX, out, &o);
}

/* Names in tmpdir other than the ones listed: leftovers (temporary files
 * of a failed write, partial outputs).  Returns the count, printing each. */
static int stray_files(const char *const *keep, int n_keep) {
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int stray = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        int known = 0;
        for (int i = 0; i < n_keep; i++) known |= !strcmp(e->d_name, keep[i]);
        if (!known) {
            print_message("stray file in %s: %s\n", tmpdir, e->d_name);
            stray++;
        }
    }
    closedir(d);
    return stray;
}

static const char *const base_files[] = {"t.nnl", "a.nnl", "b.nnl"};
#define N_BASE 3

static int setup(void **state) {
    (void)state;
    if (tmpdir_make("robust")) return -1;
    const char *seed = getenv("NNL_ROBUST_SEED");
    rng_state = seed ? strtoull(seed, NULL, 0) : 0x9E3779B97F4A7C15ull;
    if (!rng_state) rng_state = 1;
    print_message("seed %llu, files in %s\n", (unsigned long long)rng_state, tmpdir);
    if (compile_tinyseg(tpath("t.nnl"), "main", 32, 32) ||
        compile_tinyseg(tpath("a.nnl"), "landscape", 32, 48) ||
        compile_tinyseg(tpath("b.nnl"), "portrait", 48, 32)) {
        print_error("cannot compile %s: %s\n", ONNX, nnl_last_error());
        return -1;
    }
    good = slurp(tpath("t.nnl"), &good_n);
    return good ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    free(good);
    return tmpdir_remove();
}

/* Session + one run (zeroed inputs) for every graph; returns graphs run.
 * Errors are allowed (a flipped weight may, say, make a Gather index
 * invalid); crashes and sanitizer reports are what this looks for. */
static int run_every_graph(const nnl_plan *p) {
    int ran = 0;
    for (int g = 0; g < nnl_plan_graph_count(p); g++) {
        if (nnl_plan_arena_bytes(p, g) > ((uint64_t)64 << 20)) continue;
        nnl_session_options so = {.size = sizeof so, .n_threads = 1};
        nnl_session *s = NULL;
        if (nnl_session_create(p, g, &so, &s) != NNL_OK) {
            assert_null(s);
            continue;
        }
        if (nnl_session_run(s) == NNL_OK) {
            ran++;
            for (int i = 0; i < nnl_plan_output_count(p, g); i++) {
                nnl_tensor_info ti;
                const void *data;
                assert_int_equal(nnl_session_output(s, i, &ti, &data), NNL_OK);
                assert_non_null(data);
            }
        }
        nnl_session_free(s);
    }
    return ran;
}

/* Open path: a clean failure (no plan, a message) or a plan that runs. */
static int open_and_run(const char *path, nnl_status *st) {
    nnl_plan *p = (nnl_plan *)&p;   /* must be overwritten */
    *st = nnl_plan_open(path, &p);
    if (*st != NNL_OK) {
        assert_null(p);
        assert_true(strlen(nnl_last_error()) > 0);
        return -1;
    }
    assert_non_null(p);
    int ran = run_every_graph(p);
    nnl_plan_free(p);
    return ran;
}

static void refix_checksum(uint8_t *m, size_t n) {
    uint64_t off = nnl_get_u64(m + NNL_FMT_HEADER_SIZE + (NNL_SEC_WEIGHT_DATA - 1) * NNL_FMT_SECTION_ENTRY + 8);
    if (off >= NNL_FMT_TABLES_END && off <= n) nnl_put_u64(m + NNL_FMT_OFF_META_SUM, nnl_fmt_meta_checksum(m, off));
}

static const uint8_t *section(const uint8_t *m, int id, uint64_t *len) {
    const uint8_t *e = m + NNL_FMT_HEADER_SIZE + (id - 1) * NNL_FMT_SECTION_ENTRY;
    if (len) *len = nnl_get_u64(e + 16);
    return m + nnl_get_u64(e + 8);
}

/* ---- the untouched file -------------------------------------------------- */

static void test_good_file_runs(void **state) {
    (void)state;
    nnl_status st;
    assert_int_equal(open_and_run(tpath("t.nnl"), &st), 1);
}

/* ---- truncation ---------------------------------------------------------- */

/* Every prefix, shortest last: one file shrunk in place with truncate(). */
static void test_every_truncation(void **state) {
    (void)state;
    const char *p = tpath("trunc.nnl");
    spit(p, good, good_n);
    for (size_t n = good_n; n-- > 0;) {
        assert_int_equal(truncate(p, (off_t)n), 0);
        nnl_status st;
        int r = open_and_run(p, &st);
        if (r >= 0) fail_msg("a %zu-byte prefix of a %zu-byte file opened", n, good_n);
        if (st != NNL_ERR_FORMAT) fail_msg("prefix %zu: %s: %s", n, nnl_status_string(st), nnl_last_error());
    }
    unlink(p);
}

/* ---- byte flips ---------------------------------------------------------- */

static void flips(int repair) {
    uint8_t *m = malloc(good_n);
    const char *p = tpath("flip.nnl");
    int opened = 0, ran = 0;
    uint64_t meta_end = nnl_get_u64(good + NNL_FMT_HEADER_SIZE + (NNL_SEC_WEIGHT_DATA - 1) * NNL_FMT_SECTION_ENTRY + 8);
    for (int i = 0; i < N_FLIPS; i++) {
        memcpy(m, good, good_n);
        /* 1-4 flipped bytes; with repair, in the metadata (weight-data flips
         * are what the raw pass mostly exercises) */
        int k = 1 + (int)(rng() % 4);
        for (int j = 0; j < k; j++) {
            size_t at = repair ? (size_t)(rng() % meta_end) : (size_t)(rng() % good_n);
            m[at] ^= (uint8_t)(1 + rng() % 255);
        }
        if (repair) refix_checksum(m, good_n);
        spit(p, m, good_n);
        nnl_status st;
        int r = open_and_run(p, &st);
        /* a raw flip in the header's version fields reads as a file from a
         * newer nnlink (NNL_ERR_MISMATCH), which is what it then is */
        if (r >= 0) {
            opened++;
            ran += r;
        } else if (!repair && st != NNL_ERR_FORMAT && st != NNL_ERR_MISMATCH) {
            fail_msg("raw flip %d: %s: %s", i, nnl_status_string(st), nnl_last_error());
        }
    }
    print_message("%d flipped files (%s): %d opened, %d graph runs completed\n", N_FLIPS,
                  repair ? "metadata, checksum repaired" : "anywhere, raw", opened, ran);
    /* Raw flips in the weight data are not caught at open (only
     * nnl_file_verify reads the weights): those must open and run. */
    if (!repair) assert_true(opened > 0);
    unlink(p);
    free(m);
}

static void test_raw_flips(void **state) {
    (void)state;
    flips(0);
}

static void test_repaired_flips(void **state) {
    (void)state;
    flips(1);
}

/* ---- allocation failure -------------------------------------------------- */

typedef nnl_status (*op_fn)(void *ctx);

/* For N = 1, 2, ...: the N-th allocation fails; the call must fail with
 * NNL_ERR_NOMEM and leave nothing behind, until N passes the number of
 * allocations it makes and it succeeds.  Returns that N. */
static long until_success(const char *what, op_fn fn, void *ctx, int check_dir) {
    for (long n = 1; n < 1000000; n++) {
        nnl_alloc_fail_at(n);
        nnl_status st = fn(ctx);
        nnl_alloc_fail_at(0);
        if (st == NNL_OK) {
            print_message("%s: succeeded once %ld allocations could pass\n", what, n - 1);
            return n;
        }
        if (st != NNL_ERR_NOMEM)
            fail_msg("%s with allocation %ld failing: %s (%s), expected NNL_ERR_NOMEM", what, n,
                     nnl_status_string(st), nnl_last_error());
        /* no output, no temporary file */
        if (check_dir && stray_files(base_files, N_BASE))
            fail_msg("%s left files behind with allocation %ld failing", what, n);
    }
    fail_msg("%s never succeeded", what);
    return -1;
}

static nnl_status do_open(void *ctx) {
    nnl_plan *p = (nnl_plan *)ctx;   /* any non-NULL value: must be reset */
    nnl_status st = nnl_plan_open(tpath("t.nnl"), &p);
    if (st) assert_null(p);
    nnl_plan_free(p);
    return st;
}

static void test_nomem_plan_open(void **state) {
    (void)state;
    until_success("nnl_plan_open", do_open, &rng_state, 0);
}

typedef struct sess_ctx {
    nnl_plan *p;
    int threads;
} sess_ctx;

static nnl_status do_session(void *ctx) {
    sess_ctx *c = ctx;
    nnl_session_options so = {.size = sizeof so, .n_threads = c->threads};
    nnl_session *s = (nnl_session *)c;
    nnl_status st = nnl_session_create(c->p, 0, &so, &s);
    if (st) {
        assert_null(s);
        return st;
    }
    /* the session must be whole: it runs */
    st = nnl_session_run(s);
    nnl_session_free(s);
    assert_int_equal(st, NNL_OK);
    return NNL_OK;
}

static void test_nomem_session_create(void **state) {
    (void)state;
    sess_ctx c = {0};
    assert_int_equal(nnl_plan_open(tpath("t.nnl"), &c.p), NNL_OK);
    c.threads = 1;
    until_success("nnl_session_create (1 thread)", do_session, &c, 0);
    c.threads = 3;
    until_success("nnl_session_create (3 threads)", do_session, &c, 0);
    nnl_plan_free(c.p);
}

/* A run allocates nothing: with the next allocation armed to fail, runs
 * succeed and the armed failure is still pending afterwards. */
static void test_run_allocates_nothing(void **state) {
    (void)state;
    nnl_plan *p = NULL;
    nnl_session *s = NULL;
    nnl_session_options so = {.size = sizeof so, .n_threads = 2};
    assert_int_equal(nnl_plan_open(tpath("t.nnl"), &p), NNL_OK);
    assert_int_equal(nnl_session_create(p, 0, &so, &s), NNL_OK);
    nnl_alloc_fail_at(1);
    for (int i = 0; i < 3; i++) assert_int_equal(nnl_session_run(s), NNL_OK);
    void *probe = nnl_malloc(16);
    nnl_alloc_fail_at(0);
    if (probe) {
        nnl_free(probe);
        fail_msg("nnl_session_run allocated memory");
    }
    nnl_session_free(s);
    nnl_plan_free(p);
}

static nnl_status do_compile(void *ctx) {
    (void)ctx;
    return compile_tinyseg(tpath("c.nnl"), "main", 32, 32);
}

static void test_nomem_compile(void **state) {
    (void)state;
    unlink(tpath("c.nnl"));
    until_success("nnl_compile_file", do_compile, NULL, 1);
    /* the successful compile equals the setup's: same input, same bytes */
    size_t n;
    uint8_t *c = slurp(tpath("c.nnl"), &n);
    assert_non_null(c);
    assert_int_equal(n, good_n);
    assert_memory_equal(c, good, n);
    free(c);
    unlink(tpath("c.nnl"));
}

/* Over an existing output: a failed compile must leave it untouched. */
static void test_nomem_compile_over_existing(void **state) {
    (void)state;
    static const uint8_t old[] = "previous contents";
    spit(tpath("t2.nnl"), old, sizeof old);
    for (long n = 1;; n++) {
        nnl_alloc_fail_at(n);
        nnl_status st = compile_tinyseg(tpath("t2.nnl"), "main", 32, 32);
        nnl_alloc_fail_at(0);
        if (st == NNL_OK) break;
        assert_int_equal(st, NNL_ERR_NOMEM);
        size_t got_n;
        uint8_t *got = slurp(tpath("t2.nnl"), &got_n);
        assert_non_null(got);
        assert_int_equal(got_n, sizeof old);
        assert_memory_equal(got, old, sizeof old);
        free(got);
        const char *keep[] = {"t.nnl", "a.nnl", "b.nnl", "t2.nnl"};
        if (stray_files(keep, 4)) fail_msg("compile over an existing file left files behind (allocation %ld)", n);
        /* the compile is long; the early failures are covered above, so
         * sample the write's end where the output is touched */
        if (n > 64) n += n / 16;
    }
    unlink(tpath("t2.nnl"));
}

static nnl_status do_link(void *ctx) {
    (void)ctx;
    nnl_link_input in[2] = {{.path = tpath("a.nnl")}, {.path = tpath("b.nnl")}};
    nnl_link_options o = {.size = sizeof o, .share = NNL_SHARE_NAME_CONTENT, .default_graph = "portrait"};
    nnl_link_summary sum;
    return nnl_link_files(in, 2, tpath("l.nnl"), &o, &sum);
}

static void test_nomem_link(void **state) {
    (void)state;
    unlink(tpath("l.nnl"));
    until_success("nnl_link_files", do_link, NULL, 1);
    nnl_plan *p = NULL;
    assert_int_equal(nnl_plan_open(tpath("l.nnl"), &p), NNL_OK);
    assert_int_equal(nnl_plan_graph_count(p), 2);
    assert_int_equal(run_every_graph(p), 2);
    nnl_plan_free(p);
}

static nnl_status do_extract(void *ctx) {
    (void)ctx;
    return nnl_extract_graph(tpath("l.nnl"), "portrait", tpath("e.nnl"));
}

static void test_nomem_extract(void **state) {
    (void)state;
    if (access(tpath("l.nnl"), F_OK) != 0) assert_int_equal(do_link(NULL), NNL_OK);
    const char *keep[] = {"t.nnl", "a.nnl", "b.nnl", "l.nnl"};
    unlink(tpath("e.nnl"));
    for (long n = 1;; n++) {
        nnl_alloc_fail_at(n);
        nnl_status st = do_extract(NULL);
        nnl_alloc_fail_at(0);
        if (st == NNL_OK) {
            print_message("nnl_extract_graph: succeeded once %ld allocations could pass\n", n - 1);
            break;
        }
        if (st != NNL_ERR_NOMEM)
            fail_msg("extract with allocation %ld failing: %s (%s)", n, nnl_status_string(st), nnl_last_error());
        if (stray_files(keep, 4)) fail_msg("extract left files behind with allocation %ld failing", n);
    }
    nnl_plan *p = NULL;
    assert_int_equal(nnl_plan_open(tpath("e.nnl"), &p), NNL_OK);
    assert_int_equal(nnl_plan_graph_count(p), 1);
    nnl_plan_free(p);
    unlink(tpath("e.nnl"));
    unlink(tpath("l.nnl"));
}

/* ---- huge claims ----------------------------------------------------------- */

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Open a modified copy; expect `want` from nnl_plan_open and no growth of
 * the peak RSS beyond a few MB (nothing the size of the claim touched). */
static void expect_refused(uint8_t *m, const char *what, nnl_status want) {
    refix_checksum(m, good_n);
    spit(tpath("huge.nnl"), m, good_n);
    long before = max_rss_kb();
    nnl_plan *p = NULL;
    nnl_status st = nnl_plan_open(tpath("huge.nnl"), &p);
    if (st != want)
        fail_msg("%s: nnl_plan_open gave %s (%s), expected %s", what, nnl_status_string(st),
                 st ? nnl_last_error() : "", nnl_status_string(want));
    if (!st) {
        nnl_session *s = NULL;
        nnl_session_options so = {.size = sizeof so, .n_threads = 1};
        st = nnl_session_create(p, 0, &so, &s);
        nnl_session_free(s);
        nnl_plan_free(p);
        if (st != NNL_ERR_NOMEM && st != NNL_ERR_FORMAT)
            fail_msg("%s: nnl_session_create gave %s (%s)", what, nnl_status_string(st), nnl_last_error());
    }
    long grown = max_rss_kb() - before;
    print_message("%s: %s (peak RSS +%ld kB)\n", what, nnl_last_error(), grown);
    assert_true(grown < 32 * 1024);
}

/* Record of the first tensor of graph 0 with the given kind, or NULL. */
static uint8_t *tensor_of_kind(uint8_t *m, uint32_t kind) {
    uint64_t len;
    uint8_t *t = (uint8_t *)section(m, NNL_SEC_TENSORS, &len);
    for (uint64_t i = 0; i + NNL_REC_TENSOR <= len; i += NNL_REC_TENSOR)
        if (nnl_get_u32(t + i + 8) == kind) return t + i;
    return NULL;
}

static void test_huge_claims(void **state) {
    (void)state;
    uint8_t *m = malloc(good_n);
    uint64_t len;

    /* a plain weight claiming 2^40 floats, nbytes consistent */
    memcpy(m, good, good_n);
    uint8_t *w = (uint8_t *)section(m, NNL_SEC_WEIGHTS, &len), *pw = NULL;
    for (uint64_t i = 0; i + NNL_REC_WEIGHT <= len && !pw; i += NNL_REC_WEIGHT)
        if (nnl_get_u32(w + i + 12) == NNL_LAYOUT_PLAIN && nnl_get_u32(w + i + 8) == NNL_DT_FLOAT) pw = w + i;
    assert_non_null(pw);
    nnl_put_u32(pw + 16, 1);
    memset(pw + 24, 0, 64);
    nnl_put_u64(pw + 24, (uint64_t)1 << 40);
    nnl_put_u64(pw + 96, (uint64_t)4 << 40);
    expect_refused(m, "weight of 2^40 floats", NNL_ERR_FORMAT);

    /* an activation claiming 2^40 x 2^20 elements (bytes overflow 2^64) */
    memcpy(m, good, good_n);
    uint8_t *t = tensor_of_kind(m, NNL_TK_ACT);
    assert_non_null(t);
    nnl_put_u64(t + 24, (uint64_t)1 << 40);
    nnl_put_u64(t + 32, (uint64_t)1 << 20);
    expect_refused(m, "activation of 2^60 elements", NNL_ERR_FORMAT);

    /* an input claiming 2^31 elements at offset 0 (outside the arena) */
    memcpy(m, good, good_n);
    t = tensor_of_kind(m, NNL_TK_INPUT);
    assert_non_null(t);
    nnl_put_u64(t + 24 + 8 * 2, (uint64_t)1 << 31);
    expect_refused(m, "input of 2^31 x 3 x 32 floats", NNL_ERR_FORMAT);

    /* the tensor table claiming 2^40 bytes */
    memcpy(m, good, good_n);
    nnl_put_u64(m + NNL_FMT_HEADER_SIZE + (NNL_SEC_TENSORS - 1) * NNL_FMT_SECTION_ENTRY + 16,
                (uint64_t)NNL_REC_TENSOR << 34);
    expect_refused(m, "tensor table of 2^34 records", NNL_ERR_FORMAT);

    /* an arena beyond the 2^48 cap */
    memcpy(m, good, good_n);
    uint8_t *g = (uint8_t *)section(m, NNL_SEC_GRAPHS, &len);
    nnl_put_u64(g + 16, (uint64_t)1 << 52);
    expect_refused(m, "arena of 2^52 bytes", NNL_ERR_FORMAT);

    /* an arena inside the cap but beyond any machine: opens (legal), and
     * the session fails cleanly with NOMEM */
    memcpy(m, good, good_n);
    nnl_put_u64(g + 16, (uint64_t)1 << 47);
    expect_refused(m, "arena of 2^47 bytes", NNL_OK);
    free(m);
}

/* ViT-tiny compiled to `name`, checked to open and run, read back with
 * its one graph's tensor, node, string and index sections. */
typedef struct cfile {
    uint8_t *m, *t;
    const uint8_t *nodes, *strs, *idx;
    size_t n;
    uint64_t nlen;
} cfile;

static cfile compiled(const char *onnx, const char *name) {
    nnl_compile_options o = {.size = sizeof o, .graph_name = "g"};
    assert_int_equal(nnl_compile_file(onnx, tpath(name), &o), NNL_OK);
    nnl_status st;
    assert_int_equal(open_and_run(tpath(name), &st), 1);
    cfile v = {0};
    v.m = slurp(tpath(name), &v.n);
    assert_non_null(v.m);
    uint64_t len;
    v.t = (uint8_t *)section(v.m, NNL_SEC_TENSORS, &len);
    v.nodes = section(v.m, NNL_SEC_NODES, &v.nlen);
    v.strs = section(v.m, NNL_SEC_STRINGS, NULL);
    v.idx = section(v.m, NNL_SEC_INDICES, NULL);
    return v;
}

/* The tensor records of node record nd's input j and output j. */
static uint8_t *node_in(const cfile *v, const uint8_t *nd, uint64_t j) {
    return v->t + (uint64_t)nnl_get_u32(v->idx + 4 * (nnl_get_u32(nd + 16) + j)) * NNL_REC_TENSOR;
}
static uint8_t *node_out(const cfile *v, const uint8_t *nd, uint64_t j) {
    return v->t + (uint64_t)nnl_get_u32(v->idx + 4 * (nnl_get_u32(nd + 24) + j)) * NNL_REC_TENSOR;
}

/* Whether node record nd is an op of type op. */
static bool node_is(const cfile *v, const uint8_t *nd, const char *op) {
    const size_t n = strlen(op);
    return nnl_get_u32(nd + 4) == n && memcmp(v->strs + nnl_get_u32(nd), op, n) == 0;
}

/* The bytes of float32 tensor record r, from its dims. */
static uint64_t f32_bytes(const uint8_t *r) {
    uint64_t b = 4;
    for (uint32_t d = 0; d < nnl_get_u32(r + 20); d++) b *= nnl_get_u64(r + 24 + 8 * d);
    return b;
}

/* The first tensor record pick returns for a node record of v, or NULL. */
typedef uint8_t *(*rec_pick)(const cfile *v, const uint8_t *nd);
static uint8_t *first_pick(const cfile *v, rec_pick pick) {
    for (uint64_t i = 0; i + NNL_REC_NODE <= v->nlen; i += NNL_REC_NODE) {
        uint8_t *r = pick(v, v->nodes + i);
        if (r) return r;
    }
    return NULL;
}

/* The file with tensor record r's arena offset 64 bytes on: refused as a
 * node writing over its input. */
static void moved_refused(cfile *v, uint8_t *r, const char *name) {
    nnl_put_u64(r + 88, nnl_get_u64(r + 88) + 64);
    refix_checksum(v->m, v->n);
    spit(tpath(name), v->m, v->n);
    nnl_plan *p = NULL;
    assert_int_equal(nnl_plan_open(tpath(name), &p), NNL_ERR_FORMAT);
    assert_null(p);
    assert_non_null(strstr(nnl_last_error(), "writes over its input"));
    free(v->m);
    remove(tpath(name));
}

/* A Concat's second input where the Concat puts it (one graph: tensor
 * indices from 0). */
static uint8_t *concat_inner(const cfile *v, const uint8_t *nd) {
    if (!node_is(v, nd, "Concat") || nnl_get_u32(nd + 20) < 2) return NULL;
    uint8_t *in1 = node_in(v, nd, 1);
    return nnl_get_u64(in1 + 88) == nnl_get_u64(node_out(v, nd, 0) + 88) + f32_bytes(node_in(v, nd, 0)) ? in1
                                                                                                          : NULL;
}

/* A Concat's input placed where the Concat puts it (passes/arena.c: ViT's
 * class token + patch embeddings, batch 1) lies inside the Concat's
 * output: the file opens and runs; the same input moved 64 bytes on,
 * still inside the output, is a node writing over its input and refused
 * (docs/FORMAT.md, "Running"). */
static void test_concat_in_place(void **state) {
    (void)state;
    cfile v = compiled(FIXTURES "/vit_tiny/model.onnx", "v.nnl");
    uint8_t *inner = first_pick(&v, concat_inner);
    assert_non_null(inner);   /* the compiler placed one in place */
    moved_refused(&v, inner, "v2.nnl");
    remove(tpath("v.nnl"));
}

/* A view's output on its input. */
static uint8_t *view_on(const cfile *v, const uint8_t *nd) {
    char op[32] = {0};
    if (nnl_get_u32(nd + 4) >= sizeof op) return NULL;
    memcpy(op, v->strs + nnl_get_u32(nd), nnl_get_u32(nd + 4));
    if (!nnl_op_is_view(op) || nnl_get_u32(nd + 20) < 1) return NULL;
    uint8_t *out = node_out(v, nd, 0);
    return nnl_get_u64(out + 88) == nnl_get_u64(node_in(v, nd, 0) + 88) ? out : NULL;
}

/* A view's output placed on its input (passes/arena.c: ViT's Flatten of
 * the patch embedding, batch 1): the file opens and runs and the view
 * copies nothing; the same output moved 64 bytes on, still overlapping
 * the input, is a node writing over its input and refused (docs/FORMAT.md,
 * "Running"). */
static void test_view_in_place(void **state) {
    (void)state;
    cfile v = compiled(FIXTURES "/vit_tiny/model.onnx", "w.nnl");
    uint8_t *on = first_pick(&v, view_on);
    assert_non_null(on);   /* the compiler placed one in place */
    moved_refused(&v, on, "w2.nnl");
    remove(tpath("w.nnl"));
}

/* A Slice's output inside its input, past its start. */
static uint8_t *slice_inside(const cfile *v, const uint8_t *nd) {
    if (!node_is(v, nd, "Slice") || nnl_get_u32(nd + 20) < 1) return NULL;
    uint8_t *out = node_out(v, nd, 0);
    const uint64_t at = nnl_get_u64(out + 88), from = nnl_get_u64(node_in(v, nd, 0) + 88);
    return at > from && at < from + f32_bytes(node_in(v, nd, 0)) ? out : NULL;
}

/* A Slice taking one contiguous block (passes/arena.c: ShuffleNet's
 * channel splits, batch 1) placed on that block of its input: the file
 * opens and runs; the output moved 64 bytes back, still inside the input,
 * opens (plan.c cannot tell a Slice's offset) but the Slice refuses to
 * run on it (ops/tensor/slice.c) rather than copy over its own input. */
static void test_slice_in_place(void **state) {
    (void)state;
    cfile v = compiled(FIXTURES "/shufflenet_tiny/model.onnx", "s.nnl");
    uint8_t *on = first_pick(&v, slice_inside);
    assert_non_null(on);   /* a second half, placed inside its input */
    nnl_put_u64(on + 88, nnl_get_u64(on + 88) - 64);
    refix_checksum(v.m, v.n);
    spit(tpath("s2.nnl"), v.m, v.n);
    free(v.m);
    nnl_plan *p = NULL;
    assert_int_equal(nnl_plan_open(tpath("s2.nnl"), &p), NNL_OK);
    nnl_session_options so = {.size = sizeof so, .n_threads = 1};
    nnl_session *s = NULL;
    assert_int_equal(nnl_session_create(p, 0, &so, &s), NNL_OK);
    assert_int_equal(nnl_session_run(s), NNL_ERR_FORMAT);
    assert_non_null(strstr(nnl_last_error(), "overlaps the input"));
    nnl_session_free(s);
    nnl_plan_free(p);
    remove(tpath("s.nnl"));
    remove(tpath("s2.nnl"));
}

/* A file compiled for another weight-layout version: nnl_plan_open
 * refuses it; nnl_plan_open_inspect reads it (graphs, weights, checksums)
 * and says why it cannot run; a session on it fails with the same reason. */
static void test_inspect_foreign(void **state) {
    (void)state;
    size_t n;
    uint8_t *m = slurp(tpath("t.nnl"), &n);
    assert_non_null(m);
    nnl_put_u32(m + NNL_FMT_OFF_LAYOUT, nnl_get_u32(m + NNL_FMT_OFF_LAYOUT) + 5);
    refix_checksum(m, n);
    spit(tpath("foreign.nnl"), m, n);
    free(m);
    nnl_plan *p = NULL;
    assert_int_equal(nnl_plan_open(tpath("foreign.nnl"), &p), NNL_ERR_MISMATCH);
    assert_null(p);
    assert_int_equal(nnl_plan_open_inspect(tpath("foreign.nnl"), &p), NNL_OK);
    assert_non_null(nnl_plan_foreign(p));
    assert_non_null(strstr(nnl_plan_foreign(p), "layout version"));
    assert_int_equal(nnl_plan_graph_count(p), 1);
    assert_int_equal(nnl_plan_verify(p), NNL_OK);
    nnl_session *s = NULL;
    assert_int_equal(nnl_session_create(p, 0, NULL, &s), NNL_ERR_MISMATCH);
    assert_null(s);
    assert_non_null(strstr(nnl_last_error(), "layout version"));
    nnl_plan_free(p);
    /* a runnable file: no reason */
    assert_int_equal(nnl_plan_open_inspect(tpath("t.nnl"), &p), NNL_OK);
    assert_null(nnl_plan_foreign(p));
    nnl_plan_free(p);
    unlink(tpath("foreign.nnl"));
}

/* docs/FORMAT.md: a node output index of -1 is an omitted optional output.
 * The compiler never writes one, but the format allows it, so a file with
 * Dropout's mask omitted must open and run (plan validation used to refuse
 * it).  ONNX Dropout in inference mode is the identity on its data. */
static void test_omitted_optional_output(void **state) {
    (void)state;
    const int64_t d23[] = {2, 3};
    nnl_frec_tensor T[2] = {
        {.name = "x", .kind = NNL_TK_INPUT, .dtype = NNL_DT_FLOAT, .rank = 2, .where = 0},
        {.name = "y", .kind = NNL_TK_OUTPUT, .dtype = NNL_DT_FLOAT, .rank = 2, .where = 64},
    };
    memcpy(T[0].dims, d23, sizeof d23);
    memcpy(T[1].dims, d23, sizeof d23);
    static const int32_t in[] = {0}, out[] = {1, -1}, gin[] = {0}, gout[] = {1};
    nnl_frec_node N = {.op = "Dropout", .name = "drop", .n_in = 1, .in = in, .n_out = 2, .out = out};
    nnl_frec_graph G = {.name = "g", .n_tensors = 2, .tensors = T, .n_nodes = 1, .nodes = &N,
                        .n_inputs = 1, .inputs = gin, .n_outputs = 1, .outputs = gout,
                        .arena_bytes = 128, .scratch_offset = 128, .opset = 13};
    nnl_file f = {.layout_version = NNL_LAYOUT_VERSION, .target = nnl_file_host_target(),
                  .n_graphs = 1, .graphs = &G, .default_graph = -1};
    assert_int_equal(nnl_file_write(&f, tpath("omit.nnl")), NNL_OK);
    nnl_plan *p = NULL;
    nnl_session *s = NULL;
    assert_int_equal(nnl_plan_open(tpath("omit.nnl"), &p), NNL_OK);
    assert_int_equal(nnl_session_create(p, 0, NULL, &s), NNL_OK);
    const float x[6] = {1.5f, -2.0f, 0.0f, 3.25f, -0.5f, 7.0f};
    assert_int_equal(nnl_session_set_input(s, "x", NNL_DT_FLOAT, 2, d23, x), NNL_OK);
    assert_int_equal(nnl_session_run(s), NNL_OK);
    const void *y = NULL;
    assert_int_equal(nnl_session_output(s, 0, NULL, &y), NNL_OK);
    assert_memory_equal(y, x, sizeof x);
    nnl_session_free(s);
    nnl_plan_free(p);
    unlink(tpath("omit.nnl"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file_runs),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_raw_flips),
        cmocka_unit_test(test_repaired_flips),
        cmocka_unit_test(test_nomem_plan_open),
        cmocka_unit_test(test_nomem_session_create),
        cmocka_unit_test(test_run_allocates_nothing),
        cmocka_unit_test(test_nomem_compile),
        cmocka_unit_test(test_nomem_compile_over_existing),
        cmocka_unit_test(test_nomem_link),
        cmocka_unit_test(test_nomem_extract),
        cmocka_unit_test(test_huge_claims),
        cmocka_unit_test(test_inspect_foreign),
        cmocka_unit_test(test_concat_in_place),
        cmocka_unit_test(test_view_in_place),
        cmocka_unit_test(test_slice_in_place),
        cmocka_unit_test(test_omitted_optional_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
