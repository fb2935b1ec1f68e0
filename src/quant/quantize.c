/* nnl_quantize_file: options and calibration data checked, then plan,
 * calibrate, quantize, write (see quant.h). */
#include <math.h>
#include <string.h>

#include "onnx/onnx_import.h"
#include "quant/quant.h"

static nnl_status check_options(const nnl_quantize_options *o) {
    if (o->size != sizeof *o)
        return nnl_fail(NNL_ERR_INVALID_ARG, "quantize: nnl_quantize_options.size is %zu, expected %zu",
                        o->size, sizeof *o);
    if (o->weights != NNL_DT_UNDEFINED && o->weights != NNL_DT_INT8)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "quantize: %s weights are not supported (int8 only)",
                        nnl_dtype_name(o->weights));
    if (o->weight_bits != 0 && o->weight_bits != 8 && o->weight_bits != 7)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "quantize: %d-bit weights are not supported (8 or 7)", o->weight_bits);
    if (o->activations != NNL_DT_UNDEFINED && o->activations != NNL_DT_UINT8 && o->activations != NNL_DT_INT8)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "quantize: %s activations are not supported (uint8 or int8)",
                        nnl_dtype_name(o->activations));
    if (o->method != NNL_QUANT_MINMAX && o->method != NNL_QUANT_PERCENTILE && o->method != NNL_QUANT_MSE)
        return nnl_fail(NNL_ERR_INVALID_ARG, "quantize: unknown calibration method %d", (int)o->method);
    if (o->percentile != 0 && !(o->percentile > 0 && o->percentile <= 100))
        return nnl_fail(NNL_ERR_INVALID_ARG, "quantize: percentile %g is not in (0, 100]", o->percentile);
    if (o->n_calib < 1 || !o->calib)
        return nnl_fail(NNL_ERR_INVALID_ARG, "quantize: no calibration data");
    if (o->n_inputs < 0 || (o->n_inputs && !o->inputs))
        return nnl_fail(NNL_ERR_INVALID_ARG, "quantize: bad input shapes");
    return NNL_OK;
}

static const char *shape_text(const int64_t *dims, int rank, char *buf, size_t n) {
    nnl_tensor t = {.rank = rank};
    memcpy(t.dims, dims, (size_t)rank * sizeof *dims);
    return nnl_shape_str(&t, buf, n);
}

/* One calibration array against model input v (and the --input shape). */
static nnl_status check_calib(const nnl_model *m, const nnl_quantize_options *o, const nnl_calib_input *c,
                              int64_t n0) {
    char a[128], b[128], c3[128];
    int v = -1;
    for (int i = 0; i < m->n_inputs; i++)
        if (!strcmp(m->values[m->inputs[i]].name, c->name)) v = m->inputs[i];
    if (v < 0) {
        char list[512];
        size_t used = 0;
        list[0] = 0;
        for (int i = 0; i < m->n_inputs; i++) nnl_msg_list_add(list, sizeof list, &used, m->values[m->inputs[i]].name, true);
        return nnl_fail(NNL_ERR_NOT_FOUND, "calibration data for '%s': the model has no input '%s' (its inputs: %s)",
                        c->name, c->name, list);
    }
    const nnl_tensor *t = &m->values[v].t;
    if (c->dtype != t->dtype)
        return nnl_fail(NNL_ERR_SHAPE, "calibration data for '%s' is %s, the input is %s", c->name,
                        nnl_dtype_name(c->dtype), nnl_dtype_name(t->dtype));
    if (c->rank < 1 || c->rank > NNL_MAX_RANK)
        return nnl_fail(NNL_ERR_SHAPE, "calibration data for '%s' has rank %d: expected samples stacked "
                        "on a leading axis (N x the input's shape)", c->name, c->rank);
    for (int d = 0; d < c->rank; d++)
        if (c->dims[d] < 0)
            return nnl_fail(NNL_ERR_SHAPE, "calibration data for '%s' has a negative dimension", c->name);
    if (!c->data && c->dims[0] > 0)
        return nnl_fail(NNL_ERR_INVALID_ARG, "calibration data for '%s' has no data", c->name);
    if (c->dims[0] == 0) return nnl_fail(NNL_ERR_SHAPE, "calibration data for '%s' is empty (0 samples)", c->name);
    if (c->dims[0] != n0)
        return nnl_fail(NNL_ERR_SHAPE, "calibration data for '%s' has %lld samples, for '%s' %lld", c->name,
                        (long long)c->dims[0], o->calib[0].name, (long long)n0);
    bool fits = t->rank < 0 || t->rank == c->rank - 1;
    for (int d = 0; fits && t->rank >= 0 && d < t->rank; d++)
        fits = t->dims[d] < 0 || t->dims[d] == c->dims[d + 1];
    if (!fits)
        return nnl_fail(NNL_ERR_SHAPE, "calibration data for '%s' is %s: %lld samples of %s, but the input is %s",
                        c->name, shape_text(c->dims, c->rank, a, sizeof a), (long long)c->dims[0],
                        shape_text(c->dims + 1, c->rank - 1, b, sizeof b), nnl_shape_str(t, c3, sizeof c3));
    for (int i = 0; i < o->n_inputs; i++) {
        const nnl_input_shape *s = &o->inputs[i];
        if (!s->name || strcmp(s->name, c->name)) continue;
        if (s->rank != c->rank - 1 || memcmp(s->dims, c->dims + 1, (size_t)s->rank * sizeof *s->dims))
            return nnl_fail(NNL_ERR_SHAPE, "calibration data for '%s' holds samples of %s, but --input gives %s",
                            c->name, shape_text(c->dims + 1, c->rank - 1, a, sizeof a),
                            shape_text(s->dims, s->rank, b, sizeof b));
    }
    if (c->dtype == NNL_DT_FLOAT) {
        int64_t n = 1;
        for (int d = 0; d < c->rank; d++) n *= c->dims[d];
        const float *x = c->data;
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(x[i]))
                return nnl_fail(NNL_ERR_INVALID_ARG, "calibration data for '%s' holds %s (sample %lld)", c->name,
                                isnan(x[i]) ? "NaN" : "an infinite value", (long long)(i / (n / c->dims[0])));
    }
    return NNL_OK;
}

static nnl_status check_data(const nnl_model *m, const nnl_quantize_options *o) {
    for (int i = 0; i < o->n_calib; i++) {
        if (!o->calib[i].name) return nnl_fail(NNL_ERR_INVALID_ARG, "calibration input %d has no name", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(o->calib[i].name, o->calib[j].name))
                return nnl_fail(NNL_ERR_INVALID_ARG, "calibration data for '%s' given twice", o->calib[i].name);
        nnl_status s = check_calib(m, o, &o->calib[i], o->calib[0].dims[0]);
        if (s) return s;
    }
    for (int i = 0; i < o->n_inputs; i++) {
        bool found = false;
        for (int j = 0; !found && j < o->n_calib; j++) found = o->inputs[i].name && !strcmp(o->inputs[i].name, o->calib[j].name);
        if (!found)
            return nnl_fail(NNL_ERR_NOT_FOUND, "input shape for '%s' given, but no calibration data for it",
                            o->inputs[i].name ? o->inputs[i].name : "(null)");
    }
    for (int i = 0; i < m->n_inputs; i++) {
        const char *name = m->values[m->inputs[i]].name;
        bool found = false;
        for (int j = 0; !found && j < o->n_calib; j++) found = !strcmp(name, o->calib[j].name);
        if (!found) return nnl_fail(NNL_ERR_NOT_FOUND, "no calibration data for input '%s'", name);
    }
    return NNL_OK;
}

nnl_status nnl_quantize_file(const char *onnx_path, const char *out_path, const nnl_quantize_options *o,
                             nnl_quantize_summary *summary) {
    if (!onnx_path || !out_path || !o)
        return nnl_fail(NNL_ERR_INVALID_ARG, "quantize: missing model, output path or options");
    nnl_status s = check_options(o);
    if (s) return s;
    qplan p = {.act_dtype = o->activations ? o->activations : NNL_DT_UINT8, .wmax = o->weight_bits == 7 ? 64 : 127};
    if ((s = nnl_onnx_load(onnx_path, &p.m))) return s;
    s = check_data(p.m, o);
    if (!s) s = nnl_qdq_check_opset(p.m);
    if (!s) s = nnl_qplan_build(&p);
    if (!s) s = nnl_calibrate(onnx_path, &p, o);
    double pct = o->percentile ? o->percentile : 99.99;
    for (int a = 0; !s && a < p.n_acts; a++) {
        qact *q = &p.acts[a];
        if (!q->use) continue;
        double lo, hi;
        nnl_qrange_choose(q, o->method, pct, p.act_dtype, &lo, &hi);
        nnl_qrange_params(lo, hi, p.act_dtype, &q->scale, &q->zero_point);
    }
    if (!s) s = nnl_qplan_quantize_weights(&p);
    int64_t from = 0, to = 0;
    if (!s) s = nnl_qdq_write(onnx_path, out_path, &p, &from, &to);
    if (!s && summary) {
        memset(summary, 0, sizeof *summary);
        for (int a = 0; a < p.n_acts; a++) summary->activations += p.acts[a].use;
        for (int i = 0; i < p.n_ws; i++) {
            summary->weights += p.ws[i].q != NULL;
            summary->biases += p.ws[i].bias_q != NULL;
        }
        summary->opset_from = from;
        summary->opset_to = to;
    }
    nnl_qplan_free(&p);
    nnl_model_free(p.m);
    return s;
}
