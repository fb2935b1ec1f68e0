/* Helpers shared by the end-to-end tests: run a compiled graph on .npy
 * inputs and compare with PyTorch's .npy outputs. */
#ifndef NNL_E2E_UTIL_H
#define NNL_E2E_UTIL_H

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "util/npy.h"

#define FIXTURES "tests/fixtures"

/* Largest |got - want| relative to max |want| (exact compare for ints:
 * returns INFINITY on any difference).  Shape/dtype mismatch -> INFINITY. */
static inline double e2e_rel_error(const nnl_tensor *got, const nnl_tensor *want) {
    if (got->dtype != want->dtype || got->rank != want->rank) return INFINITY;
    for (int i = 0; i < got->rank; i++)
        if (got->dims[i] != want->dims[i]) return INFINITY;
    int64_t n = nnl_tensor_numel(want);
    if (want->dtype != NNL_DT_FLOAT)
        return memcmp(got->data, want->data, nnl_tensor_nbytes(want)) == 0 ? 0 : INFINITY;
    const float *g = got->data, *w = want->data;
    double maxref = 0, maxerr = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(g[i])) return INFINITY;
        maxref = fmax(maxref, fabs(w[i]));
        maxerr = fmax(maxerr, fabs((double)g[i] - w[i]));
    }
    return maxerr / (maxref > 0 ? maxref : 1);
}

/* Set every input of the case from its .npy file; returns status. */
static inline nnl_status e2e_set_inputs(nnl_session *s, json_t *c) {
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(c, "inputs"), i, in) {
        char path[1024];
        snprintf(path, sizeof path, FIXTURES "/%s", json_string_value(json_object_get(in, "file")));
        nnl_tensor t;
        nnl_status st = nnl_npy_read(path, &t);
        if (st) return st;
        st = nnl_session_set_input(s, json_string_value(json_object_get(in, "name")), t.dtype, t.rank, t.dims, t.data);
        nnl_aligned_free(t.data);
        if (st) return st;
    }
    return NNL_OK;
}

/* Worst relative error over the case's outputs (run must have happened). */
static inline double e2e_check_outputs(nnl_session *s, const nnl_plan *p, int g, json_t *c) {
    double worst = 0;
    size_t i;
    json_t *out;
    json_array_foreach(json_object_get(c, "outputs"), i, out) {
        const char *name = json_string_value(json_object_get(out, "name"));
        char path[1024];
        snprintf(path, sizeof path, FIXTURES "/%s", json_string_value(json_object_get(out, "file")));
        nnl_tensor want;
        if (nnl_npy_read(path, &want)) return INFINITY;
        double e = INFINITY;
        for (int k = 0; k < nnl_plan_output_count(p, g); k++) {
            nnl_tensor_info info;
            const void *data;
            nnl_session_output(s, k, &info, &data);
            if (strcmp(info.name, name) != 0) continue;
            nnl_tensor got = {.dtype = info.dtype, .rank = info.rank, .data = (void *)data};
            memcpy(got.dims, info.dims, sizeof got.dims);
            e = e2e_rel_error(&got, &want);
        }
        nnl_aligned_free(want.data);
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

/* Fill compile shapes from the case's inputs (names point into c). */
static inline int e2e_shapes(json_t *c, nnl_input_shape *shapes, int max) {
    size_t i;
    json_t *in;
    int n = 0;
    json_array_foreach(json_object_get(c, "inputs"), i, in) {
        if (n == max) break;
        shapes[n].name = json_string_value(json_object_get(in, "name"));
        json_t *sh = json_object_get(in, "shape");
        shapes[n].rank = (int)json_array_size(sh);
        for (int d = 0; d < shapes[n].rank && d < NNL_MAX_RANK; d++)
            shapes[n].dims[d] = json_integer_value(json_array_get(sh, (size_t)d));
        n++;
    }
    return n;
}

#endif
