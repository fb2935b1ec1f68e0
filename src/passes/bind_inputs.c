/* Binding user-given input shapes to the model's (possibly dynamic) inputs. */
#include <stdio.h>
#include <string.h>

#include "passes/passes.h"

static void list_inputs(const nnl_model *m, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < m->n_inputs; i++) nnl_msg_list_add(buf, n, &used, m->values[m->inputs[i]].name, true);
}

static const char *dim_label(const nnl_value *v, int d, char *buf, size_t n) {
    if (v->dim_param[d]) snprintf(buf, n, " ('%s')", v->dim_param[d]);
    else buf[0] = 0;
    return buf;
}

nnl_status nnl_pass_bind_inputs(nnl_model *m, const nnl_input_shape *shapes, int n) {
    char names[512], lab[128];
    for (int s = 0; s < n; s++) {
        int idx = -1;
        for (int i = 0; i < m->n_inputs; i++)
            if (strcmp(m->values[m->inputs[i]].name, shapes[s].name) == 0) idx = m->inputs[i];
        if (idx < 0) {
            list_inputs(m, names, sizeof names);
            return nnl_fail(NNL_ERR_NOT_FOUND, "the model has no input '%s' (its inputs: %s)",
                            shapes[s].name, names);
        }
        nnl_value *v = &m->values[idx];
        if (v->t.rank >= 0 && v->t.rank != shapes[s].rank)
            return nnl_fail(NNL_ERR_SHAPE, "input '%s' has rank %d in the model but %d dims were given",
                            v->name, v->t.rank, shapes[s].rank);
        if (shapes[s].rank > NNL_MAX_RANK)
            return nnl_fail(NNL_ERR_SHAPE, "input '%s': rank %d is more than %d", v->name,
                            shapes[s].rank, NNL_MAX_RANK);
        for (int d = 0; d < shapes[s].rank; d++) {
            int64_t want = shapes[s].dims[d];
            if (want < 0)
                return nnl_fail(NNL_ERR_SHAPE, "input '%s': dimension %d is %lld; sizes must be >= 0",
                                v->name, d, (long long)want);
            if (v->t.rank >= 0 && v->t.dims[d] >= 0 && v->t.dims[d] != want)
                return nnl_fail(NNL_ERR_SHAPE,
                                "input '%s': dimension %d is fixed to %lld in the model, but %lld was given",
                                v->name, d, (long long)v->t.dims[d], (long long)want);
        }
        v->t.rank = shapes[s].rank;
        for (int d = 0; d < shapes[s].rank; d++) v->t.dims[d] = shapes[s].dims[d];
    }
    for (int i = 0; i < m->n_inputs; i++) {
        nnl_value *v = &m->values[m->inputs[i]];
        if (v->t.rank < 0)
            return nnl_fail(NNL_ERR_SHAPE, "input '%s' has no shape in the model; give one with --input %s=D0,D1,...",
                            v->name, v->name);
        for (int d = 0; d < v->t.rank; d++)
            if (v->t.dims[d] < 0)
                return nnl_fail(NNL_ERR_SHAPE,
                                "dimension %d%s of input '%s' is dynamic and was not set; give the shape with --input %s=D0,D1,...",
                                d, dim_label(v, d, lab, sizeof lab), v->name, v->name);
        v->shape_known = true;
    }
    return NNL_OK;
}
