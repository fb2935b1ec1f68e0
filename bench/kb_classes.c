/*
 * The kernel classes of bench_kernels: how a case of each is set up and
 * run.  Convolutions call the conv entry points directly, so a 3x3 conv can
 * be timed both direct and as Winograd on the same PACK_A8 weight (the
 * graph's Conv op follows the compiler's nnl_wino record); the other classes run their
 * ONNX op through the registry (infer, then exec), as a compiled graph does.
 */
#include <stdlib.h>
#include <string.h>

#include "kb.h"
#include "ops/ops.h"

static void *kb_alloc(kb_run *r, size_t bytes) {
    void *p = r->n_bufs < KB_MAX_BUFS ? nnl_aligned_alloc(bytes ? bytes : 1) : NULL;
    if (p) r->bufs[r->n_bufs++] = p;
    return p;
}

/* n floats in [-0.5, 0.5), a fixed sequence per seed. */
static float *kb_filled(kb_run *r, int64_t n, unsigned seed) {
    float *p = kb_alloc(r, (size_t)n * sizeof(float));
    for (int64_t i = 0; p && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

void kb_run_free(kb_run *r) {
    for (int i = 0; i < r->n_bufs; i++) nnl_aligned_free(r->bufs[i]);
    r->n_bufs = 0;
}

static nnl_status oom(const kb_run *r) { return nnl_fail(NNL_ERR_NOMEM, "%s: out of memory", r->kc->name); }

/* ---- convolutions ------------------------------------------------------- */

static nnl_status conv_setup(kb_run *r, nnl_layout wl, bool wino) {
    const kb_case *k = r->kc;
    nnl_conv_params *p = &r->p;
    *p = (nnl_conv_params){.n = 1, .c = k->c, .h = k->h, .w = k->w, .oc = k->oc, .kh = k->k, .kw = k->k,
                           .group = k->group, .sh = k->s, .sw = k->s, .dh = k->dil, .dw = k->dil,
                           .pt = k->pad, .pl = k->pad, .pb = k->pad, .pr = k->pad};
    p->oh = (k->h + 2 * k->pad - (k->k - 1) * k->dil - 1) / k->s + 1;
    p->ow = (k->w + 2 * k->pad - (k->k - 1) * k->dil - 1) / k->s + 1;
    if (wino && !nnl_wino_ok(p)) return nnl_fail(NNL_ERR_INVALID_ARG, "%s: not a Winograd shape", k->name);
    if ((wl == NNL_LAYOUT_PLAIN) != nnl_conv_is_depthwise(p))
        return nnl_fail(NNL_ERR_INVALID_ARG, "%s: depthwise shapes only in the depthwise class", k->name);
    const int64_t cols = k->c / k->group * k->k * k->k, wn = k->oc * cols, yn = k->oc * p->oh * p->ow;
    float *w = kb_filled(r, wn, 2);
    r->a = (nnl_conv_args){.x = kb_filled(r, k->c * k->h * k->w, 1), .w = w, .w_layout = wl,
                           .bias = kb_filled(r, k->oc, 3), .y = kb_alloc(r, (size_t)yn * sizeof(float)),
                           .act = NNL_ACT_RELU};
    if (wl == NNL_LAYOUT_PACK_A8) {
        const int64_t dims[2] = {k->oc, cols};
        float *wp = kb_alloc(r, (size_t)nnl_pack_a8_bytes(2, dims));
        if (wp && w) nnl_pack_a8(wp, w, k->oc, cols);
        r->a.w = wp;
    }
    r->a.scratch_bytes = wino ? nnl_wino_scratch_bytes(p) : nnl_conv_direct_scratch_bytes(p, wl);
    r->a.scratch = kb_alloc(r, r->a.scratch_bytes);
    if (!r->a.x || !r->a.w || !r->a.bias || !r->a.y || !r->a.scratch) return oom(r);
    r->flops = 2.0 * (double)wn * (double)(p->oh * p->ow);
    r->bytes = 4.0 * (double)(k->c * k->h * k->w + yn + wn + k->oc);
    return NNL_OK;
}

static nnl_status gemm_conv_setup(kb_run *r) { return conv_setup(r, NNL_LAYOUT_PACK_A8, false); }
static nnl_status wino_setup(kb_run *r) { return conv_setup(r, NNL_LAYOUT_PACK_A8, true); }
static nnl_status dw_setup(kb_run *r) { return conv_setup(r, NNL_LAYOUT_PLAIN, false); }

static nnl_status direct_run(kb_run *r) { return nnl_conv2d_direct(&r->p, &r->a, NULL, NULL, r->tscratch); }
static nnl_status wino_run(kb_run *r) { return nnl_wino_conv(&r->p, &r->a, NULL, NULL, r->tscratch); }

/* ---- the microkernel alone --------------------------------------------- */

/* h * w rows (whole 8-row A panels) of one kc x NR B panel, K = c: the
 * sweep nnl_gemm makes over a B panel it has packed, with nothing packed,
 * so its distance to the FMA ceiling is the microkernel's own and the rest
 * of a GEMM class's gap is the driver's (packing, edges, K blocks). */
static nnl_status ukr_setup(kb_run *r) {
    const kb_case *k = r->kc;
    const nnl_kernel *kern = r->kern = nnl_kernel_get();
    const int64_t m = k->h * k->w / NNL_MR * NNL_MR;
    float *a = kb_filled(r, m * k->c, 1), *b = kb_filled(r, k->c * kern->nr, 2), *bias = kb_filled(r, m, 3);
    float *c = kb_alloc(r, (size_t)(m * kern->nr) * sizeof(float));
    if (!a || !b || !bias || !c) return oom(r);
    r->epi = (nnl_epilogue){.alpha = 1.0f, .bias_row = bias, .act = NNL_ACT_RELU};
    r->u = (nnl_ukr_args){.kc = k->c, .a = a, .b = b, .c = c, .ldc = kern->nr, .mr = NNL_MR, .nr = kern->nr,
                          .epi = &r->epi};
    r->rows = m;
    r->flops = 2.0 * (double)(m * k->c * kern->nr);
    r->bytes = 4.0 * (double)(m * k->c + k->c * kern->nr + m * kern->nr);
    return NNL_OK;
}

static nnl_status ukr_run(kb_run *r) {
    nnl_ukr_args u = r->u;
    const float *a0 = u.a, *bias0 = r->epi.bias_row;
    float *c0 = u.c;
    for (int64_t i = 0; i < r->rows; i += NNL_MR) {
        nnl_epilogue e = r->epi;
        e.bias_row = bias0 + i;
        u.a = a0 + i * u.kc;
        u.a_next = i + NNL_MR < r->rows ? u.a + NNL_MR * u.kc : u.a;
        u.c = c0 + i * u.ldc;
        u.epi = &e;
        r->kern->ukr(&u);
    }
    return NNL_OK;
}

/* ---- ops through the registry ------------------------------------------- */

/* Input i: random floats of the given dims, stored in layout l (the packed
 * layouts a graph's weights have). */
static nnl_status op_input(kb_run *r, int i, int rank, const int64_t *dims, nnl_layout l) {
    nnl_tensor *t = &r->t_in[i];
    *t = (nnl_tensor){.dtype = NNL_DT_FLOAT, .rank = rank, .layout = l};
    memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    float *plain = kb_filled(r, nnl_tensor_numel(t), 1 + (unsigned)i);
    t->data = l == NNL_LAYOUT_PLAIN ? plain : kb_alloc(r, nnl_tensor_nbytes(t));
    if (!plain || !t->data) return oom(r);
    switch (l) {
    case NNL_LAYOUT_PLAIN: break;
    case NNL_LAYOUT_PACK_A8T: nnl_pack_a8t(t->data, plain, dims[0], dims[1]); break;
    default: return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: no packer for layout %s", r->kc->name, nnl_layout_name(l));
    }
    r->in[i] = t;
    r->bytes += 4.0 * (double)nnl_tensor_numel(t);
    return NNL_OK;
}

/* An INTS attribute of two values (v, v), or four for "pads". */
static void op_ints(kb_run *r, int i, const char *name, int64_t v) {
    const int n = strcmp(name, "pads") == 0 ? 4 : 2;
    for (int j = 0; j < n; j++) r->ints[i][j] = v;
    r->attrs[i] = (nnl_attr){.name = name, .type = NNL_ATTR_INTS, .n = n, .ints = r->ints[i]};
}

/* The call of r->kc->op on inputs [0, n_in) and attributes [0, n_attrs):
 * infer (every input counts as constant, as weights are), then the output
 * and the scratch infer asks for. */
static nnl_status op_finish(kb_run *r, int n_in, int n_attrs) {
    const kb_case *k = r->kc;
    if (!(r->def = nnl_op_find(k->op))) return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: no op %s", k->name, k->op);
    r->out[0] = &r->t_out;
    r->call = (nnl_op_call){.op = k->op, .node = k->name, .attrs = r->attrs, .n_attrs = n_attrs, .in = r->in,
                            .n_in = n_in, .out = r->out, .n_out = 1, .opset = 18,
                            .thread_scratch = r->tscratch};
    nnl_infer_result ir = {0};
    nnl_status st = r->def->infer(&r->call, &ir);
    if (st) return st;
    if (!(r->t_out.data = kb_alloc(r, nnl_tensor_nbytes(&r->t_out)))) return oom(r);
    if (ir.scratch_bytes && !(r->call.scratch = kb_alloc(r, ir.scratch_bytes))) return oom(r);
    r->flops = ir.flops;
    r->bytes += 4.0 * (double)nnl_tensor_numel(&r->t_out);
    return NNL_OK;
}

static nnl_status op_run(kb_run *r) { return r->def->exec(&r->call); }

/* MatMul (M x K) x (K x N) with the weight PACK_A8T, as compiled. */
static nnl_status matmul_setup(kb_run *r) {
    const kb_case *k = r->kc;
    const int64_t a[2] = {k->h * k->w, k->c}, b[2] = {k->c, k->oc};
    nnl_status st = op_input(r, 0, 2, a, NNL_LAYOUT_PLAIN);
    if (!st) st = op_input(r, 1, 2, b, NNL_LAYOUT_PACK_A8T);
    return st ? st : op_finish(r, 2, 0);
}

static const int64_t *image_dims(const kb_case *k, int64_t dims[4]) {
    dims[0] = 1, dims[1] = k->c, dims[2] = k->h, dims[3] = k->w;
    return dims;
}

/* MaxPool / AveragePool k x k, stride s, padding pad; global pools (k 0)
 * take no attributes. */
static nnl_status pool_setup(kb_run *r) {
    const kb_case *k = r->kc;
    int64_t d[4];
    nnl_status st = op_input(r, 0, 4, image_dims(k, d), NNL_LAYOUT_PLAIN);
    if (st || !k->k) return st ? st : op_finish(r, 1, 0);
    op_ints(r, 0, "kernel_shape", k->k);
    op_ints(r, 1, "strides", k->s);
    op_ints(r, 2, "pads", k->pad);
    return op_finish(r, 1, 3);
}

/* A unary op on a 1 x c x h x w tensor, or a binary one (Add, Mul) on two. */
static nnl_status eltwise_setup(kb_run *r) {
    const kb_case *k = r->kc;
    const int n_in = strcmp(k->op, "Add") == 0 || strcmp(k->op, "Mul") == 0 ? 2 : 1;
    int64_t d[4];
    for (int i = 0; i < n_in; i++) {
        nnl_status st = op_input(r, i, 4, image_dims(k, d), NNL_LAYOUT_PLAIN);
        if (st) return st;
    }
    return op_finish(r, n_in, 0);
}

/* ---- the classes -------------------------------------------------------- */

/* Issue 10, criterion 3: dense kernels at >= 75% of the FMA ceiling,
 * depthwise at >= 50% of what its bytes allow at the memory bandwidth.
 * Winograd counts the direct conv's FLOPs (it replaces one); pooling,
 * elementwise and single-row GEMM get the depthwise rule by analogy, the
 * microkernel alone the dense one. */
const kb_class kb_classes[] = {
    {"ukr", KB_FMA, 0.75, false, ukr_setup, ukr_run},
    {"dense", KB_FMA, 0.75, true, gemm_conv_setup, direct_run},
    {"1x1", KB_FMA, 0.75, true, gemm_conv_setup, direct_run},
    {"gemm", KB_FMA, 0.75, true, matmul_setup, op_run},
    {"winograd", KB_FMA, 0.75, true, wino_setup, wino_run},
    {"depthwise", KB_MEM, 0.50, true, dw_setup, direct_run},
    {"gemv", KB_MEM, 0.50, false, matmul_setup, op_run},
    {"pool", KB_MEM, 0.50, false, pool_setup, op_run},
    {"eltwise", KB_MEM, 0.50, false, eltwise_setup, op_run},
    {NULL, KB_FMA, 0, false, NULL, NULL},
};

const kb_class *kb_class_find(const char *name) {
    for (const kb_class *c = kb_classes; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

nnl_status kb_run_setup(kb_run *r, const kb_class *cls) {
    r->flops = r->bytes = 0;
    r->n_bufs = 0;
    return cls->setup(r);
}
