/*
 * ONNX conformance runner: for each case folder (model.onnx plus
 * test_data_set_N/{input_K.pb,output_K.pb}) compile the model at the
 * inputs' shapes, run it and compare with the expected outputs.
 *   passed       every output within rtol 1e-3 / atol 1e-7 (ONNX's runner)
 *   wrong        compiled but a wrong answer, a run error or a crash
 *   unsupported  refused at import or compile time
 * Exit status is non-zero when any case is wrong.
 * usage: conformance [-v] DIR...   (DIR = a case folder or a folder of cases)
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compiler/compiler.h"
#include "onnx/onnx_import.h"
#include "runtime/runtime.h"
#include "isa_check.h"

enum { PASSED, WRONG, UNSUPPORTED };
static int verbose;
static char tmpdir[256];

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static double elem(const nnl_tensor *t, int64_t i) {
    switch (t->dtype) {
    case NNL_DT_FLOAT: return ((const float *)t->data)[i];
    case NNL_DT_DOUBLE: return ((const double *)t->data)[i];
    case NNL_DT_INT64: return (double)((const int64_t *)t->data)[i];
    case NNL_DT_INT32: return ((const int32_t *)t->data)[i];
    case NNL_DT_INT16: return ((const int16_t *)t->data)[i];
    case NNL_DT_INT8: return ((const int8_t *)t->data)[i];
    case NNL_DT_UINT8: case NNL_DT_BOOL: return ((const uint8_t *)t->data)[i];
    case NNL_DT_UINT16: return ((const uint16_t *)t->data)[i];
    case NNL_DT_UINT32: return ((const uint32_t *)t->data)[i];
    case NNL_DT_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: return NAN;
    }
}

static bool compare(const nnl_tensor *got, const nnl_tensor *want, char *why, size_t n) {
    if (got->dtype != want->dtype) {
        snprintf(why, n, "dtype %s, expected %s", nnl_dtype_name(got->dtype), nnl_dtype_name(want->dtype));
        return false;
    }
    char a[128], b[128];
    bool same = got->rank == want->rank;
    for (int i = 0; same && i < got->rank; i++) same = got->dims[i] == want->dims[i];
    if (!same) {
        snprintf(why, n, "shape %s, expected %s", nnl_shape_str(got, a, sizeof a), nnl_shape_str(want, b, sizeof b));
        return false;
    }
    if (want->dtype == NNL_DT_FLOAT16) {
        if (memcmp(got->data, want->data, nnl_tensor_nbytes(want)) != 0) {
            snprintf(why, n, "float16 bytes differ");
            return false;
        }
        return true;
    }
    bool fl = want->dtype == NNL_DT_FLOAT || want->dtype == NNL_DT_DOUBLE;
    for (int64_t i = 0; i < nnl_tensor_numel(want); i++) {
        double g = elem(got, i), w = elem(want, i);
        if (isnan(w) && isnan(g)) continue;
        if (fl && isinf(w) && g == w) continue;
        if (fl ? !(fabs(g - w) <= 1e-7 + 1e-3 * fabs(w)) : g != w) {
            snprintf(why, n, "element %lld is %.9g, expected %.9g", (long long)i, g, w);
            return false;
        }
    }
    return true;
}

/* Load test_data_set_0's input_K.pb / output_K.pb files. */
static int load_set(const char *dir, const char *prefix, nnl_tensor *ts, int max) {
    int k = 0;
    for (; k < max; k++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/test_data_set_0/%s_%d.pb", dir, prefix, k);
        if (access(p, F_OK) != 0) break;
        if (nnl_onnx_load_tensor(p, &ts[k], NULL) != NNL_OK) return -1;
    }
    return k;
}

static int run_case(const char *dir, char *why, size_t n) {
    char path[1024];
    nnl_tensor in[32] = {{0}}, want[32] = {{0}};
    nnl_model *m = NULL;
    nnl_file *f = NULL;
    nnl_plan *p = NULL;
    nnl_session *s = NULL;
    int rc = UNSUPPORTED, n_in = 0, n_out = 0;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    n_in = load_set(dir, "input", in, 32);
    n_out = load_set(dir, "output", want, 32);
    if (n_in < 0 || n_out < 0) {
        snprintf(why, n, "cannot read test data: %s", nnl_last_error());
        goto done;
    }
    if (nnl_onnx_load(path, &m) != NNL_OK) {
        snprintf(why, n, "%s", nnl_last_error());
        goto done;
    }
    if (m->n_inputs != n_in) {
        snprintf(why, n, "model has %d inputs, test data %d", m->n_inputs, n_in);
        goto done;
    }
    nnl_input_shape shapes[32];
    for (int i = 0; i < n_in; i++) {
        shapes[i].name = m->values[m->inputs[i]].name;
        shapes[i].rank = in[i].rank;
        memcpy(shapes[i].dims, in[i].dims, sizeof shapes[i].dims);
        /* an input whose dtype we cannot feed is refused like an op */
        if (m->values[m->inputs[i]].t.dtype != in[i].dtype) {
            snprintf(why, n, "input dtype mismatch");
            goto done;
        }
    }
    nnl_compile_options o = {.size = sizeof o, .graph_name = "main", .inputs = shapes, .n_inputs = n_in};
    if (nnl_compile_model(m, &o) != NNL_OK) {
        snprintf(why, n, "%s", nnl_last_error());
        goto done;
    }
    /* From here on a failure is a wrong answer: the model compiled. */
    rc = WRONG;
    snprintf(path, sizeof path, "%s/case.nnl", tmpdir);
    if (nnl_emit_file(m, &f) || nnl_file_write(f, path) || nnl_plan_open(path, &p)) {
        snprintf(why, n, "write/open: %s", nnl_last_error());
        goto done;
    }
    nnl_session_options so = {.size = sizeof so, .n_threads = 1};
    if (nnl_session_create(p, 0, &so, &s)) {
        snprintf(why, n, "session: %s", nnl_last_error());
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        nnl_tensor_info info;
        nnl_plan_input_info(p, 0, i, &info);
        if (nnl_session_set_input(s, info.name, in[i].dtype, in[i].rank, in[i].dims, in[i].data)) {
            snprintf(why, n, "set input: %s", nnl_last_error());
            goto done;
        }
    }
    if (nnl_session_run(s)) {
        snprintf(why, n, "run: %s", nnl_last_error());
        goto done;
    }
    if (nnl_plan_output_count(p, 0) != n_out) {
        snprintf(why, n, "%d outputs, expected %d", nnl_plan_output_count(p, 0), n_out);
        goto done;
    }
    for (int i = 0; i < n_out; i++) {
        nnl_tensor_info info;
        const void *data;
        nnl_session_output(s, i, &info, &data);
        nnl_tensor got = {.dtype = info.dtype, .rank = info.rank, .data = (void *)data};
        memcpy(got.dims, info.dims, sizeof got.dims);
        char w[256];
        if (!compare(&got, &want[i], w, sizeof w)) {
            snprintf(why, n, "output %d '%s': %s", i, info.name, w);
            goto done;
        }
    }
    rc = PASSED;
done:
    nnl_session_free(s);
    nnl_plan_free(p);
    nnl_emit_free(f);
    nnl_model_free(m);
    for (int i = 0; i < 32; i++) {
        nnl_aligned_free(in[i].data);
        nnl_aligned_free(want[i].data);
    }
    return rc;
}

/* Each case runs in a child process so a crash is counted, reported and
 * does not stop the run. */
static int run_isolated(const char *dir, char *why, size_t n) {
    int fds[2];
    if (pipe(fds) != 0) return run_case(dir, why, n);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int r = run_case(dir, why, n);
        char buf[1100];
        int len = snprintf(buf, sizeof buf, "%d %s", r, why);
        if (write(fds[1], buf, (size_t)len) < 0) _exit(3);
        _exit(0);
    }
    close(fds[1]);
    char buf[1100] = "";
    ssize_t got = 0, k;
    while ((k = read(fds[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0) got += k;
    buf[got > 0 ? got : 0] = 0;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got <= 0) {
        snprintf(why, n, "crashed (status %d)", status);
        return WRONG;
    }
    int r = atoi(buf);
    const char *sp = strchr(buf, ' ');
    snprintf(why, n, "%s", sp ? sp + 1 : "");
    return r;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (isa_check_forced()) return 2;
    int counts[3] = {0};
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnl-conf-XXXXXX");
    if (!mkdtemp(tmpdir)) return 2;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-v") == 0) {
            verbose = 1;
            continue;
        }
        char model[1024];
        snprintf(model, sizeof model, "%s/model.onnx", argv[a]);
        char **cases = NULL;
        int nc = 0;
        if (access(model, F_OK) == 0) {
            cases = malloc(sizeof *cases);
            cases[nc++] = strdup(argv[a]);
        } else if (is_dir(argv[a])) {
            DIR *d = opendir(argv[a]);
            struct dirent *e;
            while ((e = readdir(d))) {
                if (e->d_name[0] == '.') continue;
                cases = realloc(cases, (size_t)(nc + 1) * sizeof *cases);
                char p[1024];
                snprintf(p, sizeof p, "%s/%s", argv[a], e->d_name);
                cases[nc++] = strdup(p);
            }
            closedir(d);
        }
        qsort(cases, (size_t)nc, sizeof *cases, cmp_str);
        for (int c = 0; c < nc; c++) {
            char why[1024] = "";
            int r = run_isolated(cases[c], why, sizeof why);
            counts[r]++;
            static const char *label[] = {"passed", "WRONG", "unsupported"};
            if (r == WRONG || verbose) printf("%-12s %s  %s\n", label[r], strrchr(cases[c], '/') + 1, why);
            free(cases[c]);
        }
        free(cases);
    }
    char p[300];
    snprintf(p, sizeof p, "%s/case.nnl", tmpdir);
    unlink(p);
    rmdir(tmpdir);
    printf("conformance: %d passed, %d wrong, %d unsupported\n", counts[PASSED], counts[WRONG], counts[UNSUPPORTED]);
    return counts[WRONG] ? 1 : 0;
}
