/*
 * What a QDQ model quantizes, decided on the float model's graph.
 *
 * Quantizable ops: Conv, ConvTranspose, Gemm, MatMul.  For each:
 *   - its float weight (input 1, a constant) is stored as int8, symmetric
 *     (zero point 0, range [-127, 127]), one scale per output channel:
 *     axis 0 for Conv and Gemm with transB = 1, axis 1 for ConvTranspose
 *     ([C, M/group, ...]) and Gemm with transB = 0, the last axis for
 *     MatMul;
 *   - its activation inputs get a QuantizeLinear -> DequantizeLinear pair;
 *   - so does its output, after any chain of single-consumer Relu / Clip
 *     nodes (the tensor an int8 kernel would requantize after its fused
 *     activation), unless that tensor is a graph output;
 *   - its bias (Conv, ConvTranspose, Gemm input 2: a 1-D constant used by
 *     this node only, one value per weight channel) is stored as int32
 *     with scale input_scale * weight_scale[c], as ONNX Runtime's
 *     quantizer writes it and QLinearConv takes it.
 * Every consumer of a quantized activation reads the dequantized tensor;
 * graph outputs keep the float one.  A weight used with two different
 * channel axes stays float.
 */
#include <math.h>
#include <string.h>

#include "quant/quant.h"

static bool qop(const char *op) {
    return !strcmp(op, "Conv") || !strcmp(op, "ConvTranspose") || !strcmp(op, "Gemm") ||
           !strcmp(op, "MatMul");
}

static int add_act(qplan *p, int v) {
    const nnl_value *val = &p->m->values[v];
    if (val->kind == NNL_VAL_CONST) return -1;
    if (val->kind == NNL_VAL_INPUT && val->t.dtype != NNL_DT_FLOAT) return -1;
    for (int i = 0; i < p->n_acts; i++)
        if (p->acts[i].value == v) return i;
    qact *a = nnl_realloc(p->acts, (size_t)(p->n_acts + 1) * sizeof *a);
    if (!a) return -2;
    p->acts = a;
    memset(&a[p->n_acts], 0, sizeof *a);
    a[p->n_acts].value = v;
    a[p->n_acts].name = val->name;
    a[p->n_acts].use = true;
    return p->n_acts++;
}

/* Channel axis of node n's weight w, or -1 when it is not quantized. */
static int weight_axis(const nnl_node *n, const nnl_value *w) {
    if (w->kind != NNL_VAL_CONST || w->t.dtype != NNL_DT_FLOAT) return -1;
    int r = w->t.rank;
    if (!strcmp(n->op, "Conv")) return r >= 3 ? 0 : -1;
    if (!strcmp(n->op, "ConvTranspose")) return r >= 3 ? 1 : -1;
    if (!strcmp(n->op, "Gemm")) {
        const nnl_attr *tb = nnl_node_attr(n, "transB");
        return r != 2 ? -1 : tb && tb->i ? 0 : 1;
    }
    return r >= 2 ? r - 1 : -1;   /* MatMul */
}

static nnl_status add_weight(qplan *p, const nnl_node *n, int act) {
    int v = n->in[1];
    int axis = weight_axis(n, &p->m->values[v]);
    if (axis < 0) return NNL_OK;
    for (int i = 0; i < p->n_ws; i++) {
        qweight *w = &p->ws[i];
        if (w->value != v) continue;
        /* Shared weight: one set of scales; its biases stay float. */
        if (w->axis != axis) w->axis = -1;
        w->act = -1;
        w->bias = -1;
        return NNL_OK;
    }
    qweight *ws = nnl_realloc(p->ws, (size_t)(p->n_ws + 1) * sizeof *ws);
    if (!ws) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    p->ws = ws;
    qweight *w = &ws[p->n_ws++];
    memset(w, 0, sizeof *w);
    w->value = v;
    w->name = p->m->values[v].name;
    w->axis = axis;
    w->act = act;
    w->channels = p->m->values[v].t.dims[axis];
    w->bias = -1;
    int b = n->n_in > 2 && strcmp(n->op, "MatMul") ? n->in[2] : -1;
    if (b >= 0 && act >= 0) {
        const nnl_value *bv = &p->m->values[b];
        if (bv->kind == NNL_VAL_CONST && bv->t.dtype == NNL_DT_FLOAT && bv->t.rank == 1 &&
            bv->t.dims[0] == w->channels && nnl_model_use_count(p->m, b) == 1)
            w->bias = b;
    }
    return NNL_OK;
}

/* The only node reading v, or -1 (none, several, or v is a graph output). */
static int sole_consumer(const nnl_model *m, int v) {
    int who = -1;
    if (m->values[v].is_output) return -1;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] != v) continue;
            if (who >= 0 && who != i) return -1;
            who = i;
        }
    }
    return who;
}

nnl_status nnl_qplan_build(qplan *p) {
    nnl_model *m = p->m;
    /* Quantizing again would treat dequantized weights as activations. */
    for (int i = 0; i < m->n_nodes; i++) {
        const char *op = m->nodes[i].op;
        if (!strcmp(op, "QuantizeLinear") || !strcmp(op, "DequantizeLinear") || !strncmp(op, "QLinear", 7) ||
            !strcmp(op, "DynamicQuantizeLinear") || !strcmp(op, "ConvInteger") || !strcmp(op, "MatMulInteger"))
            return nnl_fail(NNL_ERR_UNSUPPORTED, "the model is already quantized (node '%s' is %s); "
                            "quantize its float original", m->nodes[i].name, op);
    }
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead || !qop(n->op) || n->n_in < 2 || n->n_out < 1) continue;
        int act = -1;
        for (int j = 0; j < 2; j++) {
            if (n->in[j] < 0) continue;
            int a = add_act(p, n->in[j]);
            if (a == -2) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
            if (j == 0) act = a;
        }
        if (n->in[1] >= 0) {
            nnl_status s = add_weight(p, n, act);
            if (s) return s;
        }
        int out = n->out[0];
        for (int c; out >= 0 && (c = sole_consumer(m, out)) >= 0;) {
            const char *op = m->nodes[c].op;
            if (strcmp(op, "Relu") && strcmp(op, "Clip")) break;
            out = m->nodes[c].out[0];
        }
        if (out >= 0 && !m->values[out].is_output && add_act(p, out) == -2)
            return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    }
    if (!p->n_acts && !p->n_ws)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "nothing to quantize: the model has no Conv, "
                        "ConvTranspose, Gemm or MatMul with float inputs");
    return NNL_OK;
}

void nnl_qplan_free(qplan *p) {
    for (int i = 0; i < p->n_acts; i++) nnl_free(p->acts[i].hist);
    for (int i = 0; i < p->n_ws; i++) {
        nnl_free(p->ws[i].q);
        nnl_free(p->ws[i].scale);
        nnl_free(p->ws[i].bias_q);
        nnl_free(p->ws[i].bias_scale);
    }
    nnl_free(p->acts);
    nnl_free(p->ws);
    p->acts = NULL;
    p->ws = NULL;
    p->n_acts = p->n_ws = 0;
}

/* Bias as int32 with scale in_scale * w_scale[c]; left float (bias_q NULL)
 * when a value would not fit. */
static nnl_status quantize_bias(qplan *p, qweight *w) {
    const qact *a = &p->acts[w->act];
    const float *b = p->m->values[w->bias].t.data;
    w->bias_q = nnl_malloc((size_t)w->channels * sizeof *w->bias_q);
    w->bias_scale = nnl_malloc((size_t)w->channels * sizeof *w->bias_scale);
    if (!w->bias_q || !w->bias_scale) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    for (int64_t c = 0; c < w->channels; c++) {
        float s = a->scale * w->scale[c];
        double q = s > 0 ? rint((double)b[c] / s) : 0;
        if (!(fabs(q) <= 2147483647.0)) {
            nnl_free(w->bias_q);
            nnl_free(w->bias_scale);
            w->bias_q = NULL;
            w->bias_scale = NULL;
            return NNL_OK;
        }
        w->bias_scale[c] = s;
        w->bias_q[c] = (int32_t)q;
    }
    return NNL_OK;
}

nnl_status nnl_qplan_quantize_weights(qplan *p) {
    for (int i = 0; i < p->n_ws; i++) {
        qweight *w = &p->ws[i];
        if (w->axis < 0) continue;
        const nnl_tensor *t = &p->m->values[w->value].t;
        int64_t outer = 1, inner = 1, C = w->channels;
        for (int d = 0; d < w->axis; d++) outer *= t->dims[d];
        for (int d = w->axis + 1; d < t->rank; d++) inner *= t->dims[d];
        const float *x = t->data;
        const int64_t numel = outer * C * inner;
        w->q = nnl_malloc((size_t)(numel > 0 ? numel : 1));
        w->scale = nnl_malloc((size_t)(C ? C : 1) * sizeof *w->scale);
        if (!w->q || !w->scale) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
        for (int64_t c = 0; c < C; c++) {
            float amax = 0;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t k = 0; k < inner; k++) amax = fmaxf(amax, fabsf(x[(o * C + c) * inner + k]));
            if (!isfinite(amax))
                return nnl_fail(NNL_ERR_FORMAT, "weight '%s' holds NaN or infinite values", w->name);
            /* An all-zero channel quantizes to zeros whatever its scale. */
            w->scale[c] = amax > 0 ? amax / (float)p->wmax : 1.0f;
        }
        for (int64_t o = 0; o < outer; o++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t k = 0; k < inner; k++) {
                    int64_t e = (o * C + c) * inner + k;
                    float q = rintf(x[e] / w->scale[c]);
                    w->q[e] = (int8_t)fminf((float)p->wmax, fmaxf(-(float)p->wmax, q));
                }
        if (w->bias >= 0 && w->act >= 0 && p->acts[w->act].use) {
            nnl_status s = quantize_bias(p, w);
            if (s) return s;
        }
    }
    return NNL_OK;
}
