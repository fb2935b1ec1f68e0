/*
 * Calibration: the float model, compiled at the samples' shape with every
 * planned activation as an extra graph output (so no fusion hides it), is
 * run on each sample.  Pass 1 records min, max and max |x|; percentile and
 * mse run the samples again to fill a histogram over [-absmax, absmax]
 * (the range must be known before the first count).  Graph inputs are
 * measured on the calibration data itself.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/compiler.h"
#include "onnx/onnx_import.h"
#include "quant/quant.h"

typedef struct calib {
    qplan *p;
    const nnl_quantize_options *o;
    nnl_plan *plan;
    nnl_session *s;
    int *src;                  /* per act: plan output index, or -1 - calib input index */
    int64_t n_samples;
} calib;

static size_t sample_bytes(const nnl_calib_input *c, int64_t *numel) {
    int64_t n = 1;
    for (int d = 1; d < c->rank; d++) n *= c->dims[d];
    *numel = n;
    return (size_t)n * nnl_dtype_size(c->dtype);
}

/* Compile the model (outputs marked) to a temporary plan and open a
 * session on it.  The file is unlinked once mapped. */
static nnl_status open_session(calib *C, nnl_model *m) {
    const nnl_quantize_options *o = C->o;
    nnl_input_shape *shapes = nnl_calloc((size_t)o->n_calib, sizeof *shapes);
    if (!shapes) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < o->n_calib; i++) {
        shapes[i].name = o->calib[i].name;
        shapes[i].rank = o->calib[i].rank - 1;
        memcpy(shapes[i].dims, o->calib[i].dims + 1, (size_t)shapes[i].rank * sizeof *shapes[i].dims);
    }
    nnl_compile_options co = {.size = sizeof co, .graph_name = "calibration", .inputs = shapes,
                              .n_inputs = o->n_calib};
    nnl_status s = nnl_compile_model(m, &co);
    nnl_free(shapes);
    if (s) return nnl_fail_context(s, "compiling the float model for calibration: ");
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/nnlink-calib-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) return nnl_fail(NNL_ERR_IO, "cannot create a temporary file in %s", dir);
    close(fd);
    nnl_file *f = NULL;
    s = nnl_emit_file(m, &f);
    if (!s) s = nnl_file_write(f, path);
    nnl_emit_free(f);
    if (!s) s = nnl_plan_open(path, &C->plan);
    unlink(path);
    if (!s) s = nnl_session_create(C->plan, 0, NULL, &C->s);
    return s;
}

/* Mark every planned activation computed by the model as an extra output
 * of m (a fresh load of the same file), recording where to read it. */
static nnl_status mark_outputs(calib *C, nnl_model *m) {
    qplan *p = C->p;
    for (int a = 0; a < p->n_acts; a++) {
        int v = nnl_model_find_value(m, p->acts[a].name);
        if (v < 0) return nnl_fail(NNL_ERR_INTERNAL, "calibration lost tensor '%s'", p->acts[a].name);
        if (m->values[v].kind == NNL_VAL_INPUT) {
            /* check_data made sure every input has calibration data */
            for (int i = 0; i < C->o->n_calib; i++)
                if (!strcmp(C->o->calib[i].name, p->acts[a].name)) C->src[a] = -1 - i;
            continue;
        }
        int k = -1;
        for (int i = 0; i < m->n_outputs; i++)
            if (m->outputs[i] == v) k = i;
        if (k < 0) {
            int *outs = nnl_realloc(m->outputs, (size_t)(m->n_outputs + 1) * sizeof *outs);
            if (!outs) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
            m->outputs = outs;
            k = m->n_outputs++;
            outs[k] = v;
            m->values[v].is_output = true;
        }
        C->src[a] = k;
    }
    return NNL_OK;
}

static nnl_status run_sample(calib *C, int64_t k) {
    for (int i = 0; i < C->o->n_calib; i++) {
        const nnl_calib_input *c = &C->o->calib[i];
        int64_t numel;
        size_t nb = sample_bytes(c, &numel);
        nnl_status s = nnl_session_set_input(C->s, c->name, c->dtype, c->rank - 1, c->dims + 1,
                                             (const uint8_t *)c->data + (size_t)k * nb);
        if (s) return s;
    }
    return nnl_session_run(C->s);
}

/* Activation a of the last run: data and element count. */
static nnl_status act_data(calib *C, int a, int64_t k, const float **x, int64_t *n) {
    if (C->src[a] < 0) {
        const nnl_calib_input *c = &C->o->calib[-1 - C->src[a]];
        size_t nb = sample_bytes(c, n);
        *x = (const float *)((const uint8_t *)c->data + (size_t)k * nb);
        return NNL_OK;
    }
    nnl_tensor_info info;
    const void *d;
    nnl_status s = nnl_session_output(C->s, C->src[a], &info, &d);
    if (s) return s;
    *n = 1;
    for (int i = 0; i < info.rank; i++) *n *= info.dims[i];
    *x = d;
    return NNL_OK;
}

static nnl_status pass(calib *C, bool hist) {
    qplan *p = C->p;
    const nnl_quantize_options *o = C->o;
    for (int64_t k = 0; k < C->n_samples; k++) {
        nnl_status s = run_sample(C, k);
        if (s) return nnl_fail_context(s, "calibration sample %lld: ", (long long)k);
        for (int a = 0; a < p->n_acts; a++) {
            qact *q = &p->acts[a];
            if (!q->use) continue;
            const float *x;
            int64_t n;
            if ((s = act_data(C, a, k, &x, &n))) return s;
            if (hist) {
                if (!q->hist) continue;   /* all zero: nothing to clip */
                const double scale = NNL_QHIST_BINS / (2 * q->absmax);
                for (int64_t i = 0; i < n; i++) {
                    int b = (int)((x[i] + q->absmax) * scale);
                    q->hist[b < 0 ? 0 : b >= NNL_QHIST_BINS ? NNL_QHIST_BINS - 1 : b]++;
                }
                continue;
            }
            double lo = q->min, hi = q->max;
            for (int64_t i = 0; i < n; i++) {
                /* NaN fails both comparisons; isfinite catches it below. */
                if (x[i] < lo) lo = x[i];
                if (x[i] > hi) hi = x[i];
                if (!isfinite(x[i]))
                    return nnl_fail(NNL_ERR_INVALID_ARG, "calibration sample %lld: tensor '%s' holds %s "
                                    "(the float model produces it from this sample)", (long long)k,
                                    q->name, isnan(x[i]) ? "NaN" : "an infinite value");
            }
            q->min = lo;
            q->max = hi;
            q->absmax = fmax(fabs(lo), fabs(hi));
        }
        if (o->progress) o->progress(o->progress_ctx, hist ? "histogram" : "range", (int)k + 1,
                                     (int)C->n_samples);
    }
    return NNL_OK;
}

nnl_status nnl_calibrate(const char *onnx_path, qplan *p, const nnl_quantize_options *o) {
    calib C = {.p = p, .o = o, .n_samples = o->calib[0].dims[0]};
    nnl_model *m = NULL;
    C.src = nnl_calloc((size_t)(p->n_acts ? p->n_acts : 1), sizeof *C.src);
    if (!C.src) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    nnl_status s = nnl_onnx_load(onnx_path, &m);
    if (!s) s = mark_outputs(&C, m);
    if (!s) s = open_session(&C, m);
    /* Only float32 tensors are quantized (the plan guessed for the ones
     * shape inference had not typed yet). */
    for (int a = 0; !s && a < p->n_acts; a++) {
        nnl_tensor_info info;
        if (C.src[a] < 0) continue;
        if (!(s = nnl_plan_output_info(C.plan, 0, C.src[a], &info)))
            p->acts[a].use = info.dtype == NNL_DT_FLOAT;
    }
    for (int a = 0; a < p->n_acts; a++) {
        p->acts[a].min = INFINITY;
        p->acts[a].max = -INFINITY;
    }
    if (!s) s = pass(&C, false);
    if (!s && o->method != NNL_QUANT_MINMAX) {
        bool any = false;
        for (int a = 0; !s && a < p->n_acts; a++) {
            qact *q = &p->acts[a];
            if (!q->use || !(q->absmax > 0)) continue;
            if (!(q->hist = nnl_calloc(NNL_QHIST_BINS, sizeof *q->hist)))
                s = nnl_fail(NNL_ERR_NOMEM, "out of memory");
            any = true;
        }
        if (!s && any) s = pass(&C, true);
    }
    nnl_session_free(C.s);
    nnl_plan_free(C.plan);
    nnl_model_free(m);
    nnl_free(C.src);
    return s;
}
