/*
 * The QDQ model: the original ModelProto rewritten.
 *
 * Every model and graph field is copied byte for byte except:
 *   - the default-domain opset import, raised to 13 (per-axis
 *     DequantizeLinear) when lower, and ir_version raised to 7 with it;
 *   - quantized weights and int32 biases: their float initializers (or the
 *     Constant nodes that define them, or old-style graph inputs naming
 *     them) are dropped; an int8 / int32 initializer "<name>_quantized"
 *     with "<name>_scale" (and "_zero_point" for weights) feeds a
 *     DequantizeLinear whose output keeps the original name, so consumers
 *     are unchanged and a compiled weight keeps its parameter name;
 *   - before the first node reading a quantized activation T:
 *     QuantizeLinear(T) -> "<T>_quantized", DequantizeLinear ->
 *     "<T>_dequantized", and every node reading T reads the latter.
 * New names get a numeric suffix when the model already uses them.
 */
#include <stdio.h>
#include <string.h>

#include "format/atomic_out.h"
#include "onnx/onnx_internal.h"
#include "onnx/onnx_node.h"
#include "onnx/pb_write.h"
#include "quant/quant.h"

#define QDQ_OPSET 13

typedef struct wr {
    const qplan *p;
    onnx_src src;
    char **names;              /* every generated name, for uniqueness */
    int n_names;
    char **aq, **adq, **ascale, **azp;   /* per act */
    bool *emitted;             /* per act: Q/DQ pair written */
    char **wq, **wscale, **wzp, **bq, **bscale;   /* per weight */
    bool weights_done;
} wr;

static bool weight_live(const qweight *w) { return w->axis >= 0 && w->q; }

/* base + suffix, made unique against the model's names and earlier ones. */
static nnl_status unique(wr *W, const char *base, const char *suffix, char **out) {
    size_t n = strlen(base) + strlen(suffix) + 16;
    char *s = nnl_malloc(n);
    char **names = nnl_realloc(W->names, (size_t)(W->n_names + 1) * sizeof *names);
    if (!s || !names) {
        nnl_free(s);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    }
    W->names = names;
    for (int k = 0;; k++) {
        if (k) snprintf(s, n, "%s%s_%d", base, suffix, k);
        else snprintf(s, n, "%s%s", base, suffix);
        bool taken = nnl_model_find_value(W->p->m, s) >= 0;
        for (int i = 0; !taken && i < W->n_names; i++) taken = !strcmp(W->names[i], s);
        if (!taken) break;
    }
    W->names[W->n_names++] = s;
    *out = s;
    return NNL_OK;
}

static nnl_status make_names(wr *W) {
    const qplan *p = W->p;
    int na = p->n_acts ? p->n_acts : 1, nw = p->n_ws ? p->n_ws : 1;
    char ***arrs[] = {&W->aq, &W->adq, &W->ascale, &W->azp, &W->wq, &W->wscale, &W->wzp, &W->bq, &W->bscale};
    for (int i = 0; i < 9; i++)
        if (!(*arrs[i] = nnl_calloc((size_t)(i < 4 ? na : nw), sizeof(char *))))
            return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    if (!(W->emitted = nnl_calloc((size_t)na, sizeof *W->emitted))) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    nnl_status s = NNL_OK;
    for (int a = 0; !s && a < p->n_acts; a++) {
        const char *n = p->acts[a].name;
        if (!p->acts[a].use) continue;
        if (!(s = unique(W, n, "_quantized", &W->aq[a])) && !(s = unique(W, n, "_dequantized", &W->adq[a])) &&
            !(s = unique(W, n, "_scale", &W->ascale[a])))
            s = unique(W, n, "_zero_point", &W->azp[a]);
    }
    for (int i = 0; !s && i < p->n_ws; i++) {
        const qweight *w = &p->ws[i];
        if (!weight_live(w)) continue;
        if (!(s = unique(W, w->name, "_quantized", &W->wq[i])) && !(s = unique(W, w->name, "_scale", &W->wscale[i])))
            s = unique(W, w->name, "_zero_point", &W->wzp[i]);
        if (!s && w->bias_q) {
            const char *b = p->m->values[w->bias].name;
            if (!(s = unique(W, b, "_quantized", &W->bq[i]))) s = unique(W, b, "_scale", &W->bscale[i]);
        }
    }
    return s;
}

static void free_names(wr *W) {
    for (int i = 0; i < W->n_names; i++) nnl_free(W->names[i]);
    nnl_free(W->names);
    char **arrs[] = {W->aq, W->adq, W->ascale, W->azp, W->wq, W->wscale, W->wzp, W->bq, W->bscale};
    for (int i = 0; i < 9; i++) nnl_free(arrs[i]);
    nnl_free(W->emitted);
}

/* Quantized activation index of tensor name, or -1. */
static int act_of(const wr *W, const char *name) {
    for (int a = 0; a < W->p->n_acts; a++)
        if (W->p->acts[a].use && !strcmp(W->p->acts[a].name, name)) return a;
    return -1;
}

/* True when name is a float weight or bias the rewrite replaces. */
static bool replaced(const wr *W, const char *name) {
    const qplan *p = W->p;
    for (int i = 0; i < p->n_ws; i++) {
        const qweight *w = &p->ws[i];
        if (!weight_live(w)) continue;
        if (!strcmp(w->name, name)) return true;
        if (w->bias_q && !strcmp(p->m->values[w->bias].name, name)) return true;
    }
    return false;
}

static void put_weight_nodes(wr *W, pb_buf *g) {
    const qplan *p = W->p;
    for (int i = 0; i < p->n_ws; i++) {
        const qweight *w = &p->ws[i];
        if (!weight_live(w)) continue;
        const char *in[3] = {W->wq[i], W->wscale[i], W->wzp[i]};
        char label[512];
        snprintf(label, sizeof label, "%s_DequantizeLinear", w->name);
        onnx_put_node(g, ONNX_GRAPH_NODE, "DequantizeLinear", label, in, 3, w->name, w->axis);
        if (!w->bias_q) continue;
        const char *bname = p->m->values[w->bias].name;
        const char *bin[2] = {W->bq[i], W->bscale[i]};
        snprintf(label, sizeof label, "%s_DequantizeLinear", bname);
        onnx_put_node(g, ONNX_GRAPH_NODE, "DequantizeLinear", label, bin, 2, bname, 0);
    }
}

static void put_initializers(wr *W, pb_buf *g) {
    const qplan *p = W->p;
    for (int i = 0; i < p->n_ws; i++) {
        const qweight *w = &p->ws[i];
        if (!weight_live(w)) continue;
        const nnl_tensor *t = &p->m->values[w->value].t;
        onnx_put_tensor(g, ONNX_GRAPH_INITIALIZER, W->wq[i], NNL_DT_INT8, t->rank, t->dims, w->q);
        onnx_put_tensor(g, ONNX_GRAPH_INITIALIZER, W->wscale[i], NNL_DT_FLOAT, 1, &w->channels, w->scale);
        int8_t *zeros = nnl_calloc((size_t)w->channels, 1);
        if (!zeros) {
            g->oom = true;
            return;
        }
        onnx_put_tensor(g, ONNX_GRAPH_INITIALIZER, W->wzp[i], NNL_DT_INT8, 1, &w->channels, zeros);
        nnl_free(zeros);
        if (!w->bias_q) continue;
        onnx_put_tensor(g, ONNX_GRAPH_INITIALIZER, W->bq[i], NNL_DT_INT32, 1, &w->channels, w->bias_q);
        onnx_put_tensor(g, ONNX_GRAPH_INITIALIZER, W->bscale[i], NNL_DT_FLOAT, 1, &w->channels, w->bias_scale);
    }
    for (int a = 0; a < p->n_acts; a++) {
        const qact *q = &p->acts[a];
        if (!W->emitted[a]) continue;
        /* one byte either way: int8 zero points in two's complement */
        uint8_t zp[1] = {(uint8_t)q->zero_point};
        onnx_put_tensor(g, ONNX_GRAPH_INITIALIZER, W->ascale[a], NNL_DT_FLOAT, 0, NULL, &q->scale);
        onnx_put_tensor(g, ONNX_GRAPH_INITIALIZER, W->azp[a], p->act_dtype, 0, NULL, zp);
    }
}

static void put_act_pair(wr *W, pb_buf *g, int a) {
    const char *name = W->p->acts[a].name;
    char label[512];
    const char *qin[3] = {name, W->ascale[a], W->azp[a]};
    snprintf(label, sizeof label, "%s_QuantizeLinear", name);
    onnx_put_node(g, ONNX_GRAPH_NODE, "QuantizeLinear", label, qin, 3, W->aq[a], -1);
    const char *dqin[3] = {W->aq[a], W->ascale[a], W->azp[a]};
    snprintf(label, sizeof label, "%s_DequantizeLinear", name);
    onnx_put_node(g, ONNX_GRAPH_NODE, "DequantizeLinear", label, dqin, 3, W->adq[a], -1);
    W->emitted[a] = true;
}

/* One NodeProto: dropped (a Constant defining a replaced weight), copied,
 * or copied with its quantized inputs renamed, after the Q/DQ pairs of
 * activations it is the first to read. */
static nnl_status put_node(wr *W, pb_buf *g, pb_reader *graph, const pb_field *f) {
    onode n;
    nnl_status s = onode_read(&W->src, graph, f, false, &n);
    if (s) return s;
    bool rename = false, drop = !strcmp(n.op, "Constant") && n.n_out == 1 && replaced(W, n.out[0]);
    for (int i = 0; !drop && i < n.n_in; i++) {
        int a = *n.in[i] ? act_of(W, n.in[i]) : -1;
        if (a < 0) continue;
        rename = true;
        if (!W->emitted[a]) put_act_pair(W, g, a);
    }
    onode_clear(&n);
    if (drop) return NNL_OK;
    if (!rename) {
        pb_put_field(g, graph, f);
        return NNL_OK;
    }
    pb_reader r;
    pb_field nf;
    pb_buf nb = {0};
    if ((s = pb_sub(graph, f, &r))) return s;
    while (!(s = pb_next(&r, &nf)) && nf.num) {
        char *in = NULL;
        int a = -1;
        if (nf.num == ONNX_NODE_INPUT) {
            if ((s = onnx_string(&nf, "node input", &in))) break;
            a = *in ? act_of(W, in) : -1;
            nnl_free(in);
        }
        if (a >= 0) pb_put_str(&nb, ONNX_NODE_INPUT, W->adq[a]);
        else pb_put_field(&nb, &r, &nf);
    }
    if (!s) pb_put_msg(g, ONNX_GRAPH_NODE, &nb);
    pb_buf_free(&nb);
    return s;
}

/* The string field num of the message in field f, or NULL (caller frees). */
static nnl_status msg_string(const pb_reader *parent, const pb_field *f, uint32_t num, char **out) {
    pb_reader r;
    pb_field g;
    *out = NULL;
    nnl_status s = pb_sub(parent, f, &r);
    while (!s && !(s = pb_next(&r, &g)) && g.num)
        if (g.num == num) {
            nnl_free(*out);
            s = onnx_string(&g, "name", out);
        }
    return s;
}

static nnl_status put_graph(wr *W, pb_buf *out, const pb_reader *model, const pb_field *gf) {
    pb_reader r;
    pb_field f;
    pb_buf g = {0};
    nnl_status s = pb_sub(model, gf, &r);
    while (!s && !(s = pb_next(&r, &f)) && f.num) {
        char *name = NULL;
        switch (f.num) {
        case ONNX_GRAPH_NODE:
            if (!W->weights_done) put_weight_nodes(W, &g);
            W->weights_done = true;
            s = put_node(W, &g, &r, &f);
            break;
        case ONNX_GRAPH_INITIALIZER: case ONNX_GRAPH_INPUT:
            s = msg_string(&r, &f, f.num == ONNX_GRAPH_INPUT ? ONNX_VALUEINFO_NAME : ONNX_TENSOR_NAME, &name);
            if (!s && !(name && replaced(W, name))) pb_put_field(&g, &r, &f);
            nnl_free(name);
            break;
        default:
            pb_put_field(&g, &r, &f);
        }
    }
    if (!s) {
        put_initializers(W, &g);
        pb_put_msg(out, ONNX_MODEL_GRAPH, &g);
    }
    pb_buf_free(&g);
    return s;
}

/* Ops whose inputs or attributes changed form by opset 13: a model using
 * them at an older opset cannot simply import 13. */
nnl_status nnl_qdq_check_opset(const nnl_model *m) {
    if (m->opset >= QDQ_OPSET) return NNL_OK;
    const int64_t from = m->opset;
    static const char *const changed[] = {"Squeeze", "Unsqueeze", "Split", "ReduceSum", "Upsample", NULL};
    for (int i = 0; i < m->n_nodes; i++)
        for (int k = 0; changed[k]; k++)
            if (!strcmp(m->nodes[i].op, changed[k]))
                return nnl_fail(NNL_ERR_UNSUPPORTED, "the model imports opset %lld; per-channel "
                                "DequantizeLinear needs opset %d, where node '%s' (%s) takes another "
                                "form: export the model at opset %d or later", (long long)from, QDQ_OPSET,
                                m->nodes[i].name, m->nodes[i].op, QDQ_OPSET);
    return NNL_OK;
}

static nnl_status put_opset(pb_buf *out, const pb_reader *model, const pb_field *f) {
    pb_reader r;
    pb_field g;
    char *domain = NULL;
    nnl_status s = pb_sub(model, f, &r);
    while (!s && !(s = pb_next(&r, &g)) && g.num)
        if (g.num == ONNX_OPSET_DOMAIN) {
            nnl_free(domain);
            s = onnx_string(&g, "opset domain", &domain);
        }
    if (s) return s;
    bool dflt = !domain || !*domain || !strcmp(domain, "ai.onnx");
    nnl_free(domain);
    if (!dflt) {
        pb_put_field(out, model, f);
        return NNL_OK;
    }
    pb_buf o = {0};
    r.p = f->data;   /* again from the start: copy all but the version */
    while (!(s = pb_next(&r, &g)) && g.num)
        if (g.num != ONNX_OPSET_VERSION) pb_put_field(&o, &r, &g);
        else pb_put_varint(&o, ONNX_OPSET_VERSION, g.u < QDQ_OPSET ? QDQ_OPSET : g.u);
    pb_put_msg(out, ONNX_MODEL_OPSET_IMPORT, &o);
    pb_buf_free(&o);
    return s;
}

nnl_status nnl_qdq_write(const char *onnx_path, const char *out_path, const qplan *p,
                         int64_t *opset_from, int64_t *opset_to) {
    wr W = {.p = p};
    onnx_map map = {0};
    pb_buf out = {0};
    char *dir = onnx_dirname(onnx_path);
    W.src.path = onnx_path;
    W.src.dir = dir;
    *opset_from = p->m->opset;
    *opset_to = p->m->opset < QDQ_OPSET ? QDQ_OPSET : p->m->opset;
    nnl_status s = dir ? NNL_OK : nnl_fail(NNL_ERR_NOMEM, "out of memory");
    if (!s) s = nnl_qdq_check_opset(p->m);
    if (!s) s = make_names(&W);
    if (!s) s = onnx_map_file(onnx_path, &map);
    pb_reader r;
    pb_field f;
    if (!s) pb_init(&r, map.data, map.size);
    while (!s && !(s = pb_next(&r, &f)) && f.num) {
        if (f.num == ONNX_MODEL_GRAPH) s = put_graph(&W, &out, &r, &f);
        else if (f.num == ONNX_MODEL_OPSET_IMPORT) s = put_opset(&out, &r, &f);
        else if (f.num == ONNX_MODEL_IR_VERSION && f.wire == PB_VARINT && f.u < 7)
            pb_put_varint(&out, ONNX_MODEL_IR_VERSION, 7);
        else pb_put_field(&out, &r, &f);
    }
    if (!s) s = pb_buf_status(&out);
    if (s) nnl_fail_context(s, "%s: ", onnx_path);
    nnl_out o;
    if (!s && !(s = nnl_out_open(&o, out_path, out.n))) {
        s = nnl_out_put(&o, out.p, out.n);
        if (!s) s = nnl_out_commit(&o);
        else nnl_out_abort(&o);
    }
    pb_buf_free(&out);
    onnx_unmap(&map);
    free_names(&W);
    nnl_free(dir);
    return s;
}
