/*
 * float16 weights (compile --weights fp16; rule in passes/pack_weights.h).
 * Runs after packing, so a packed weight's padding and a WINO43 weight's
 * transformed values are what gets rounded: the layouts keep their element
 * order with 2-byte elements (docs/FORMAT.md, "Weight layouts").  Only the
 * readers whose drivers widen halves (Conv, Gemm, MatMul: kernels/gemm.c,
 * conv.c, wino.c) ever see one.
 */
#include <math.h>
#include <string.h>

#include "passes/pack_weights.h"

static bool is_weight_reader(const nnl_node *n, int slot) {
    return slot == 1 && (strcmp(n->op, "Conv") == 0 || strcmp(n->op, "Gemm") == 0 || strcmp(n->op, "MatMul") == 0);
}

/* Weights of at most this many elements stay float32 under
 * NNL_WEIGHTS_FP16 (not under NNL_WEIGHTS_FP16_ALL).  They are a small
 * share of the bytes (MobileNetV2: 0.25 of 7.3 MB) but they are the
 * networks' first layers, with few input channels: their rounding errors
 * average over few products and pass through every later layer.
 * Measured on torchvision's MobileNetV2 (max |fp16 - fp32| / max |fp32|
 * of the logits): every weight float16 1.08e-2; at most 1024 elements
 * float32 6.7e-3, 4096 2.6e-3, 16384 1.03e-3, 32768 5.5e-4 (file 7.07,
 * 7.07, 7.14, 7.32, 7.66 MB; float32 14.0 MB). */
#define FP16_MIN_ELEMS 16384

static bool halvable(const nnl_model *m, int v) {
    const nnl_value *val = &m->values[v];
    int64_t n = nnl_tensor_numel(&val->t);
    if (val->kind != NNL_VAL_CONST || val->is_output || val->t.dtype != NNL_DT_FLOAT || !val->t.data || n == 0 ||
        (m->weights == NNL_WEIGHTS_FP16 && n <= FP16_MIN_ELEMS))
        return false;
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v) return false;
    bool any = false, conv_only = true;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] != v) continue;
            if (!is_weight_reader(n, j)) return false;
            any = true;
            conv_only &= strcmp(n->op, "Conv") == 0;
        }
    }
    return any && (val->t.layout != NNL_LAYOUT_PLAIN || conv_only);
}

nnl_status nnl_pass_half_weights(nnl_model *m) {
    for (int v = 0; v < m->n_values; v++) {
        if (!halvable(m, v)) continue;
        nnl_tensor *t = &m->values[v].t;
        size_t n = nnl_tensor_nbytes(t) / sizeof(float);
        const float *src = t->data;
        for (size_t i = 0; i < n; i++)
            if (isfinite(src[i]) && isinf(nnl_half_to_float(nnl_double_to_half(src[i]))))
                return nnl_fail(NNL_ERR_UNSUPPORTED,
                                "weight '%s' holds %g (element %zu%s), beyond float16's range (largest 65504); "
                                "compile it with --weights fp32",
                                m->values[v].name, (double)src[i], i,
                                t->layout == NNL_LAYOUT_WINO43 ? " of its Winograd transform" : "");
        uint16_t *h = nnl_aligned_alloc(n * sizeof *h > 0 ? n * sizeof *h : 1);
        if (!h) return nnl_fail(NNL_ERR_NOMEM, "out of memory converting weight '%s' to float16", m->values[v].name);
        for (size_t i = 0; i < n; i++) h[i] = nnl_double_to_half(src[i]);
        nnl_aligned_free(t->data);
        t->data = h;
        t->dtype = NNL_DT_FLOAT16;
    }
    return NNL_OK;
}
