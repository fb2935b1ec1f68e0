/*
 * libFuzzer harness for the ONNX importer and the compiler behind it:
 * nnl_onnx_load on the input; when the model loads, compile it with every
 * dynamic dimension fixed to a small size, write the .nnl, reopen it and
 * run each graph once (fuzz_util.h).
 *
 * Invariant checked beyond "no crash, no leak": a file the writer accepted
 * must open (the writer and the reader share one checker), so a format
 * error from nnl_plan_open on our own output aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compiler/compiler.h"
#include "fuzz_util.h"
#include "onnx/onnx_import.h"

/* Small enough that any plausible network runs in milliseconds, large
 * enough that a few stride-2 stages (tinyseg) keep a non-empty map. */
#define FZ_DYN_DIM 16
#define FZ_DYN_DIM_HIGH_RANK 2   /* for rank > 4, where 16^rank gets large */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_init_dir();
    return 0;
}

static void compile_and_run(nnl_model *m) {
    nnl_input_shape shapes[64];
    int n = 0;
    for (int i = 0; i < m->n_inputs && n < 64; i++) {
        const nnl_value *v = &m->values[m->inputs[i]];
        nnl_input_shape *s = &shapes[n];
        memset(s, 0, sizeof *s);
        s->name = v->name;
        if (v->t.rank < 0) {
            s->rank = 1;
            s->dims[0] = 4;
            n++;
            continue;
        }
        if (v->t.rank > NNL_MAX_RANK) continue;
        bool dynamic = false;
        s->rank = v->t.rank;
        for (int d = 0; d < v->t.rank; d++) {
            s->dims[d] = v->t.dims[d];
            if (s->dims[d] < 0) {
                s->dims[d] = v->t.rank > 4 ? FZ_DYN_DIM_HIGH_RANK : FZ_DYN_DIM;
                dynamic = true;
            }
        }
        if (dynamic) n++;
    }
    nnl_compile_options o = {.size = sizeof o, .graph_name = "fuzz", .inputs = shapes, .n_inputs = n};
    if (nnl_compile_model(m, &o) != NNL_OK) return;
    nnl_file *f = NULL;
    nnl_status s = nnl_emit_file(m, &f);
    const char *out = fz_path("out.nnl");
    if (!s) s = nnl_file_write(f, out);
    nnl_emit_free(f);
    if (s) return;
    nnl_plan *p = NULL;
    s = nnl_plan_open(out, &p);
    if (s == NNL_ERR_FORMAT) {
        fprintf(stderr, "the reader refused the writer's output: %s\n", nnl_last_error());
        abort();
    }
    if (s) return;
    fz_exercise_plan(p);
    nnl_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fz_write("model.onnx", data, size);
    nnl_model *m = NULL;
    nnl_status s = nnl_onnx_load(path, &m);
    if (s) {
        if (m) abort();   /* documented: *out is NULL on failure */
        fz_check_message();
        return 0;
    }
    compile_and_run(m);
    nnl_model_free(m);
    fz_check_message();
    return 0;
}
