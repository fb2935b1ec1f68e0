/*
 * nnl_extract_graph: one graph of a .nnl file, with only the weights it
 * uses (in their original order), written to its own file.  Like the
 * linker, it streams weight data from the input mapping and checks each
 * weight against its recorded hash on the way.
 */
#include <stdio.h>

#include "format/fmt_internal.h"
#include "link/link_internal.h"

nnl_status nnl_extract_graph(const char *in_path, const char *graph_name, const char *out_path) {
    if (!in_path || !out_path || !*out_path)
        return nnl_fail(NNL_ERR_INVALID_ARG, "extract: no input or output path");
    nnl_file *f = NULL;
    nnl_status s = nnl_file_read(in_path, &f);
    if (s) return s;
    int g = 0;
    int *map = NULL;
    nnl_frec_weight *W = NULL;
    nnl_frec_tensor *T = NULL;
    if ((s = nnl_file_pick_graph(f, graph_name, &g))) {
        nnl_fail_context(s, "%s: ", in_path);
        goto done;
    }
    const nnl_frec_graph *src = &f->graphs[g];
    map = nnl_malloc(sizeof(int) * ((size_t)f->n_weights + 1));
    W = nnl_calloc((size_t)f->n_weights + 1, sizeof *W);
    T = nnl_calloc((size_t)src->n_tensors + 1, sizeof *T);
    if (!map || !W || !T) {
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory extracting from %s", in_path);
        goto done;
    }
    for (int w = 0; w < f->n_weights; w++) map[w] = -1;
    for (int t = 0; t < src->n_tensors; t++)
        if (src->tensors[t].kind == NNL_TK_WEIGHT) map[src->tensors[t].where] = 0;
    int nw = 0;
    for (int w = 0; w < f->n_weights; w++)
        if (map[w] == 0) {
            map[w] = nw;
            W[nw++] = f->weights[w];
        }
    memcpy(T, src->tensors, sizeof *T * (size_t)src->n_tensors);
    for (int t = 0; t < src->n_tensors; t++)
        if (T[t].kind == NNL_TK_WEIGHT) T[t].where = (uint64_t)map[T[t].where];
    nnl_frec_graph G = *src;
    G.tensors = T;
    nnl_file out = {
        .format_version = NNL_FORMAT_VERSION,
        .layout_version = f->layout_version,
        .target = f->target,
        .tool_version = NNL_VERSION_STRING,
        .n_weights = nw,
        .weights = W,
        .n_graphs = 1,
        .graphs = &G,
        .default_graph = -1,
    };
    const char **sources = nnl_malloc(sizeof *sources * ((size_t)nw + 1));
    if (!sources) {
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory extracting from %s", in_path);
        goto done;
    }
    for (int w = 0; w < nw; w++) sources[w] = in_path;
    s = nnl_file_write_ex(&out, out_path, NNL_WRITE_CHECK_HASHES, sources);
    nnl_free(sources);
done:
    nnl_free(map);
    nnl_free(W);
    nnl_free(T);
    nnl_file_close(f);
    return s;
}
