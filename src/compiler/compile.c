/* The compile pipeline: the order of passes is part of their contract. */
#include <stddef.h>
#include <string.h>

#include "compiler/compiler.h"
#include "onnx/onnx_import.h"
#include "passes/pack_weights.h"
#include "passes/passes.h"

static bool valid_graph_name(const char *s) {
    if (!s || !*s || strlen(s) > 255) return false;
    for (; *s; s++)
        if (*s == ':' || *s == '=' || *s == ',' || (unsigned char)*s < 0x20) return false;
    return true;
}

nnl_status nnl_compile_model(nnl_model *m, const nnl_compile_options *opts) {
    const char *gname = opts && opts->graph_name ? opts->graph_name : "main";
    if (!valid_graph_name(gname))
        return nnl_fail(NNL_ERR_INVALID_ARG,
                        "invalid graph name '%s' (1-255 characters, none of ':', '=', ',' or control characters)",
                        gname);
    nnl_free(m->graph_name);
    if (!(m->graph_name = nnl_strdup(gname))) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    m->winograd = opts && opts->winograd;
    m->weights = opts && opts->size > offsetof(nnl_compile_options, weights) ? opts->weights : NNL_WEIGHTS_FP32;
    if (m->weights != NNL_WEIGHTS_FP32 && m->weights != NNL_WEIGHTS_FP16 && m->weights != NNL_WEIGHTS_FP16_ALL)
        return nnl_fail(NNL_ERR_INVALID_ARG, "compile: unknown weights type %d (0 fp32, 1 fp16, 2 fp16-all)",
                        m->weights);
    nnl_status s = nnl_pass_bind_inputs(m, opts ? opts->inputs : NULL, opts ? opts->n_inputs : 0);
    if (!s) s = nnl_pass_remove_identity(m);
    if (!s) s = nnl_pass_fuse_qconv(m);
    if (!s) s = nnl_pass_infer_fold(m);
    if (!s) s = nnl_pass_fuse_qislands(m);
    if (!s) s = nnl_pass_dead_nodes(m);
    if (!s) s = nnl_pass_fold_batchnorm(m);
    if (!s) s = nnl_pass_fuse_layernorm(m);
    if (!s) s = nnl_pass_fuse_epilogue(m);
    if (!s) s = nnl_pass_fuse_channel_scale(m);
    if (!s) s = nnl_pass_trim_taps(m);
    if (!s) s = nnl_pass_dead_nodes(m);
    if (!s) s = nnl_pass_pack_weights(m);
    if (!s) s = nnl_pass_pick_winograd(m);
    if (!s) s = nnl_pass_pack_q8(m);
    if (!s) s = nnl_model_toposort(m);
    /* after the sort: the float16 choice follows execution order */
    if (!s && m->weights != NNL_WEIGHTS_FP32) s = nnl_pass_half_weights(m);
    /* Fusion changed inputs and attributes: infer again for final shapes,
     * scratch sizes and FLOP counts, and to check the fused forms. */
    if (!s) s = nnl_pass_infer_fold(m);
    if (!s) s = nnl_pass_plan_arena(m);
    for (int i = 0; !s && i < m->n_outputs; i++)
        if (m->values[m->outputs[i]].kind == NNL_VAL_INPUT)
            s = nnl_fail(NNL_ERR_UNSUPPORTED, "graph output '%s' is a graph input; nothing to compute",
                         m->values[m->outputs[i]].name);
    return s;
}

nnl_status nnl_compile_file(const char *onnx_path, const char *out_path, const nnl_compile_options *opts) {
    if (!onnx_path || !out_path) return nnl_fail(NNL_ERR_INVALID_ARG, "compile: missing input or output path");
    /* the size before `weights` was added is the older header's */
    if (opts && opts->size != sizeof *opts && opts->size != offsetof(nnl_compile_options, weights))
        return nnl_fail(NNL_ERR_INVALID_ARG, "compile: nnl_compile_options.size is %zu, expected %zu",
                        opts->size, sizeof *opts);
    nnl_model *m = NULL;
    nnl_status s = nnl_onnx_load(onnx_path, &m);
    if (s) return s;
    s = nnl_compile_model(m, opts);
    if (s) {
        nnl_fail_context(s, "cannot compile %s: ", onnx_path);
        nnl_model_free(m);
        return s;
    }
    nnl_file *f = NULL;
    s = nnl_emit_file(m, &f);
    if (!s) s = nnl_file_write(f, out_path);
    nnl_emit_free(f);
    nnl_model_free(m);
    return s;
}
