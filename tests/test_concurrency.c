/*
 * One opened plan shared by several threads: tinyseg compiled for the
 * landscape (1x3x64x96) and portrait (1x3x96x64) shapes and linked into one
 * file; 4 threads, each with its own session (2 per graph, each session
 * with its own 2-thread pool), run 20 times on the PyTorch inputs.  Every
 * output must be byte-identical to the serial run's, and the serial run
 * must match PyTorch.  `make tsan-test` runs this under ThreadSanitizer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "util/npy.h"
#include "test_util.h"

#define FIXTURES "tests/fixtures"
#ifndef TINYSEG_ONNX   /* -D for trying another export by hand */
#define TINYSEG_ONNX FIXTURES "/tinyseg/model.onnx"
#endif
#define N_THREADS 4
#define N_RUNS 20
#define POOL_THREADS 2
/* PyTorch agreement, as in MANIFEST.json's tolerances for tinyseg */
#define MAX_REL_ERR 1e-3

static const char *const graphs[2] = {"landscape", "portrait"};
static const int64_t shapes[2][4] = {{1, 3, 64, 96}, {1, 3, 96, 64}};

static nnl_plan *plan;
static nnl_tensor input[2];            /* per graph, from the fixtures */
static void *ref[2][8];                /* serial outputs per graph */
static size_t ref_n[2][8];
static int n_out[2];

static size_t info_bytes(const nnl_tensor_info *ti) {
    size_t n = nnl_dtype_size(ti->dtype);
    for (int d = 0; d < ti->rank; d++) n *= (size_t)ti->dims[d];
    return n;
}

static int setup(void **state) {
    (void)state;
    if (tmpdir_make("conc")) return -1;
    char part[2][512];
    for (int g = 0; g < 2; g++) {
        nnl_input_shape sh = {.name = "image", .rank = 4};
        memcpy(sh.dims, shapes[g], sizeof shapes[g]);
        nnl_compile_options o = {.size = sizeof o, .graph_name = graphs[g], .inputs = &sh, .n_inputs = 1};
        snprintf(part[g], sizeof part[g], "%s/%s.nnl", tmpdir, graphs[g]);
        if (nnl_compile_file(TINYSEG_ONNX, part[g], &o)) {
            print_error("compile %s: %s\n", graphs[g], nnl_last_error());
            return -1;
        }
        char npy[256];
        snprintf(npy, sizeof npy, FIXTURES "/tinyseg/%s.image.npy", graphs[g]);
        if (nnl_npy_read(npy, &input[g])) {
            print_error("%s\n", nnl_last_error());
            return -1;
        }
    }
    nnl_link_input in[2] = {{.path = part[0]}, {.path = part[1]}};
    nnl_link_options lo = {.size = sizeof lo, .share = NNL_SHARE_NAME_CONTENT};
    if (nnl_link_files(in, 2, tpath("linked.nnl"), &lo, NULL) || nnl_plan_open(tpath("linked.nnl"), &plan)) {
        print_error("link/open: %s\n", nnl_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    nnl_plan_free(plan);
    for (int g = 0; g < 2; g++) {
        nnl_aligned_free(input[g].data);
        for (int i = 0; i < n_out[g]; i++) free(ref[g][i]);
    }
    return tmpdir_remove();
}

static int graph_index(int g) {
    int idx = -1;
    if (nnl_plan_find_graph(plan, graphs[g], &idx)) return -1;
    return idx;
}

static nnl_status make_session(int g, nnl_session **s) {
    nnl_session_options so = {.size = sizeof so, .n_threads = POOL_THREADS};
    nnl_status st = nnl_session_create(plan, graph_index(g), &so, s);
    if (!st) st = nnl_session_set_input(*s, "image", input[g].dtype, input[g].rank, input[g].dims, input[g].data);
    return st;
}

/* Serial reference, checked against PyTorch. */
static void test_serial_matches_pytorch(void **state) {
    (void)state;
    assert_int_equal(nnl_plan_graph_count(plan), 2);
    for (int g = 0; g < 2; g++) {
        nnl_session *s = NULL;
        if (make_session(g, &s)) fail_msg("%s", nnl_last_error());
        assert_int_equal(nnl_session_run(s), NNL_OK);
        n_out[g] = nnl_plan_output_count(plan, graph_index(g));
        assert_true(n_out[g] >= 1 && n_out[g] <= 8);
        for (int i = 0; i < n_out[g]; i++) {
            nnl_tensor_info ti;
            const void *data;
            assert_int_equal(nnl_session_output(s, i, &ti, &data), NNL_OK);
            ref_n[g][i] = info_bytes(&ti);
            ref[g][i] = malloc(ref_n[g][i]);
            memcpy(ref[g][i], data, ref_n[g][i]);
        }
        char npy[256];
        snprintf(npy, sizeof npy, FIXTURES "/tinyseg/%s.out.npy", graphs[g]);
        nnl_tensor want;
        assert_int_equal(nnl_npy_read(npy, &want), NNL_OK);
        assert_int_equal(want.dtype, NNL_DT_FLOAT);
        assert_int_equal(nnl_tensor_nbytes(&want), ref_n[g][0]);
        const float *a = ref[g][0], *b = want.data;
        double maxref = 0, maxerr = 0;
        for (size_t k = 0; k < ref_n[g][0] / 4; k++) {
            maxref = fmax(maxref, fabs(b[k]));
            maxerr = fmax(maxerr, fabs((double)a[k] - b[k]));
            if (!isfinite(a[k])) maxerr = INFINITY;
        }
        nnl_aligned_free(want.data);
        print_message("%s: max |err| / max |ref| = %.3g\n", graphs[g], maxerr / maxref);
        assert_true(maxerr / maxref < MAX_REL_ERR);
        nnl_session_free(s);
    }
}

typedef struct worker {
    int id, g;
    int mismatches, failures;
    char msg[256];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    nnl_session *s = NULL;
    if (make_session(w->g, &s)) {
        snprintf(w->msg, sizeof w->msg, "session: %s", nnl_last_error());
        w->failures++;
        return NULL;
    }
    for (int r = 0; r < N_RUNS; r++) {
        /* set the input every time: another thread's session must not be
         * able to disturb ours between runs either */
        if (nnl_session_set_input(s, "image", input[w->g].dtype, input[w->g].rank, input[w->g].dims,
                                  input[w->g].data) ||
            nnl_session_run(s)) {
            snprintf(w->msg, sizeof w->msg, "run %d: %s", r, nnl_last_error());
            w->failures++;
            break;
        }
        for (int i = 0; i < n_out[w->g]; i++) {
            nnl_tensor_info ti;
            const void *data;
            if (nnl_session_output(s, i, &ti, &data) || info_bytes(&ti) != ref_n[w->g][i] ||
                memcmp(data, ref[w->g][i], ref_n[w->g][i]) != 0)
                w->mismatches++;
        }
    }
    nnl_session_free(s);
    return NULL;
}

static void test_threads_match_serial(void **state) {
    (void)state;
    if (!ref[0][0] || !ref[1][0]) skip();
    pthread_t th[N_THREADS];
    worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){.id = i, .g = i % 2};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    int bad = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].failures || w[i].mismatches)
            print_error("thread %d (%s): %d failures, %d output mismatches %s\n", i, graphs[w[i].g], w[i].failures,
                        w[i].mismatches, w[i].msg);
        bad += w[i].failures + w[i].mismatches;
    }
    assert_int_equal(bad, 0);
}

/* Back-to-back pool jobs of alternating sizes, each item counted: every
 * item of every job must run exactly once, and never with another job's
 * context.  A worker that read a finished small job's claim word and then
 * a new, larger job's parameters used to claim an item of the new job
 * under the old generation: it ran twice, was counted twice, and the
 * caller returned while the worker was still in it.  Jobs of many items
 * are claimed several items at a time: each still runs once. */
typedef struct stress_job {
    int64_t n;
    int hits[577];
    _Atomic int bad;
} stress_job;

static void stress_item(void *ctx, int64_t i, int thread) {
    stress_job *j = ctx;
    (void)thread;
    if (i < 0 || i >= j->n) {
        atomic_store(&j->bad, 1);
        return;
    }
    __atomic_fetch_add(&j->hits[i], 1, __ATOMIC_RELAXED);
}

static void test_pool_jobs_back_to_back(void **state) {
    (void)state;
    nnl_pool *pool;
    assert_int_equal(nnl_pool_create(2, &pool), NNL_OK);
    /* 100 and 577 items: claims of several items at once (nnl_pool_run) */
    static const int64_t sizes[] = {3, 12, 2, 16, 5, 9, 577, 100};
    for (int round = 0; round < 800000; round++) {
        stress_job j = {.n = sizes[round % 8]};
        nnl_pool_run(pool, j.n, stress_item, &j);
        if (atomic_load(&j.bad)) fail_msg("round %d: an item index beyond its job's %lld", round, (long long)j.n);
        for (int64_t i = 0; i < j.n; i++)
            if (j.hits[i] != 1)
                fail_msg("round %d: item %lld of %lld ran %d times", round, (long long)i, (long long)j.n, j.hits[i]);
    }
    nnl_pool_free(pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_matches_pytorch),
        cmocka_unit_test(test_threads_match_serial),
        cmocka_unit_test(test_pool_jobs_back_to_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
