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

/* Under NNL_WEIGHTS_FP16 (not _ALL) the weights the graph reads first stay
 * float32, in execution order until the bytes before one reach this share
 * of all the candidates' bytes.  A rounding error in an early layer passes
 * through every later one; these networks (random weights, as the models
 * here are) amplify it a lot: FCN ResNet-50's output moved by 2.4e-2 of
 * its largest value when its first 3x3 conv alone was rounded, by 3e-4
 * for a layer4 conv.  Max |fp16 - fp32| / max |fp32| of the output and
 * file size / float32 file size, measured per head share:
 *   share      resnet18     mobilenet_v2  efficientnet_b0  vit_b_16     FCN 256x384
 *   0 (_ALL)   1.0e-3 0.50  1.1e-2 0.50   1.4e-3 0.50      6.1e-4 0.50  4.2e-2 0.50
 *   0.05       3.8e-4 0.53  9.6e-4 0.53   5.0e-4 0.53      4.9e-4 0.53  5.9e-3 0.53
 *   0.10       3.2e-4 0.57  6.1e-4 0.55   4.5e-4 0.56      4.6e-4 0.56  3.6e-3 0.56
 *   0.15       3.0e-4 0.59  4.8e-4 0.58   4.7e-4 0.58      4.0e-4 0.59  2.9e-3 0.58
 * A share of the bytes rather than a size limit: small weights are early
 * in some networks (MobileNetV2) but FCN's head is large, and no element
 * count kept FCN within 5e-3 without keeping most of MobileNetV2
 * (262144 elements: FCN 4.4e-3 at 0.57, MobileNetV2 0.72, EfficientNet
 * 0.81).  Depends on the graph's weights and order only, never on its
 * input shape, so fp16 compiles at two shapes still share every weight. */
#define FP32_HEAD_SHARE 0.10

/* Whether v may become float16: a float constant every live reader takes
 * as the weight of Conv / Gemm / MatMul, packed or read by Conv alone.
 * *first: the first node reading it (nodes are in execution order). */
static bool halvable(const nnl_model *m, int v, int *first) {
    const nnl_value *val = &m->values[v];
    if (val->kind != NNL_VAL_CONST || val->is_output || val->t.dtype != NNL_DT_FLOAT || !val->t.data ||
        nnl_tensor_numel(&val->t) == 0)
        return false;
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == v) return false;
    bool conv_only = true;
    *first = -1;
    for (int i = 0; i < m->n_nodes; i++) {
        const nnl_node *n = &m->nodes[i];
        if (n->dead) continue;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] != v) continue;
            if (!is_weight_reader(n, j)) return false;
            if (*first < 0) *first = i;
            conv_only &= strcmp(n->op, "Conv") == 0;
        }
    }
    return *first >= 0 && (val->t.layout != NNL_LAYOUT_PLAIN || conv_only);
}

static nnl_status to_half(nnl_model *m, int v) {
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
    return NNL_OK;
}

nnl_status nnl_pass_half_weights(nnl_model *m) {
    /* first reader of each value, -1 when it stays float32 */
    int *first = nnl_malloc((size_t)(m->n_values > 0 ? m->n_values : 1) * sizeof *first);
    if (!first) return nnl_fail(NNL_ERR_NOMEM, "out of memory choosing float16 weights");
    double total = 0;
    for (int v = 0; v < m->n_values; v++) {
        if (!halvable(m, v, &first[v])) first[v] = -1;
        if (first[v] >= 0) total += (double)nnl_tensor_nbytes(&m->values[v].t);
    }
    /* the head: weights in the order their first readers run, until the
     * bytes before one reach the share */
    double before = 0, head = FP32_HEAD_SHARE * total;
    for (int i = 0; m->weights == NNL_WEIGHTS_FP16 && i < m->n_nodes && before < head; i++)
        for (int v = 0; v < m->n_values; v++)
            if (first[v] == i && before < head) {
                before += (double)nnl_tensor_nbytes(&m->values[v].t);
                first[v] = -1;
            }
    nnl_status s = NNL_OK;
    for (int v = 0; !s && v < m->n_values; v++)
        if (first[v] >= 0) s = to_half(m, v);
    nnl_free(first);
    return s;
}
