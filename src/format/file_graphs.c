/*
 * Finding a graph of an in-memory nnl_file by name, for the linker, the
 * extractor and the runtime: one rule for which graph a missing name means
 * and one wording of the messages that list the file's graphs.
 */
#include <string.h>

#include "format/nnl_file.h"

int nnl_file_find_graph(const nnl_file *f, const char *name) {
    for (int g = 0; g < f->n_graphs; g++)
        if (strcmp(f->graphs[g].name, name) == 0) return g;
    return -1;
}

void nnl_file_graph_names(const nnl_file *f, char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = 0;
    for (int g = 0; g < f->n_graphs; g++) nnl_msg_list_add(buf, cap, &used, f->graphs[g].name, false);
}

nnl_status nnl_file_pick_graph(const nnl_file *f, const char *name, int *index) {
    char names[1024];
    *index = name ? nnl_file_find_graph(f, name) : f->n_graphs == 1 ? 0 : f->default_graph;
    if (*index >= 0) return NNL_OK;
    nnl_file_graph_names(f, names, sizeof names);
    if (!name)
        return nnl_fail(NNL_ERR_NOT_FOUND, "the file holds %d graphs and names no default; choose one with --graph: %s",
                        f->n_graphs, names);
    return nnl_fail(NNL_ERR_NOT_FOUND, "no graph named '%s'; the file holds: %s", name, names);
}
