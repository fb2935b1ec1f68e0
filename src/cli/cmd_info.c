/* nnlink info FILE.nnl [--json] [--weights] */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char help[] =
    "usage: nnlink info FILE.nnl [--json] [--weights]\n"
    "\n"
    "List the graphs of a .nnl file (inputs and outputs with dtypes and\n"
    "shapes, weight and arena bytes), the weights stored and how they are\n"
    "shared between graphs.\n"
    "  --json      machine-readable output (schema in docs/CLI.md)\n"
    "  --weights   list every weight in the text output\n";

static void shape_text(const nnl_tensor_info *t, char *buf, size_t n) {
    size_t u = 0;
    u += (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < t->rank && u < n; d++) u += (size_t)snprintf(buf + u, n - u, d ? ", %lld" : "%lld", (long long)t->dims[d]);
    if (u < n) snprintf(buf + u, n - u, "]");
}

static json_t *tensor_json(const nnl_tensor_info *t) {
    json_t *shape = json_array();
    for (int d = 0; d < t->rank; d++) json_array_append_new(shape, json_integer(t->dims[d]));
    return json_pack("{s:s, s:s, s:o}", "name", cli_esc(t->name), "dtype", nnl_dtype_name(t->dtype), "shape", shape);
}

static uint64_t shared_bytes(const nnl_plan *p) {
    uint64_t b = 0;
    for (int w = 0; w < nnl_plan_weight_count(p); w++) {
        nnl_weight_info wi;
        nnl_plan_weight_info(p, w, &wi);
        if (wi.n_graphs > 1) b += wi.bytes;
    }
    return b;
}

static int print_json(const nnl_plan *p) {
    nnl_file_info fi;
    nnl_plan_file_info(p, &fi);
    json_t *root = json_object(), *graphs = json_array(), *weights = json_array();
    int dg = nnl_plan_default_graph(p);
    for (int g = 0; g < nnl_plan_graph_count(p); g++) {
        json_t *ins = json_array(), *outs = json_array();
        nnl_tensor_info t;
        for (int i = 0; i < nnl_plan_input_count(p, g); i++)
            if (!nnl_plan_input_info(p, g, i, &t)) json_array_append_new(ins, tensor_json(&t));
        for (int i = 0; i < nnl_plan_output_count(p, g); i++)
            if (!nnl_plan_output_info(p, g, i, &t)) json_array_append_new(outs, tensor_json(&t));
        json_array_append_new(graphs, json_pack("{s:s, s:o, s:o, s:I, s:I}", "name", cli_esc(nnl_plan_graph_name(p, g)),
                                                "inputs", ins, "outputs", outs, "weight_bytes",
                                                (json_int_t)nnl_plan_weight_bytes(p, g), "arena_bytes",
                                                (json_int_t)nnl_plan_arena_bytes(p, g)));
    }
    for (int w = 0; w < nnl_plan_weight_count(p); w++) {
        nnl_weight_info wi;
        nnl_plan_weight_info(p, w, &wi);
        json_t *shape = json_array(), *users = json_array();
        for (int d = 0; d < wi.rank; d++) json_array_append_new(shape, json_integer(wi.dims[d]));
        for (int g = 0; g < nnl_plan_graph_count(p); g++)
            if (nnl_plan_weight_used_by(p, w, g)) json_array_append_new(users, json_string(cli_esc(nnl_plan_graph_name(p, g))));
        json_array_append_new(weights, json_pack("{s:s, s:s, s:o, s:s, s:I, s:o}", "name", cli_esc(wi.name), "dtype",
                                                 nnl_dtype_name(wi.dtype), "shape", shape, "layout", cli_esc(wi.layout),
                                                 "bytes", (json_int_t)wi.bytes, "graphs", users));
    }
    json_object_set_new(root, "format_version", json_integer(fi.format_version));
    json_object_set_new(root, "layout_version", json_integer(fi.layout_version));
    json_object_set_new(root, "target", json_string(cli_esc(fi.target)));
    json_object_set_new(root, "runs_on", json_string(fi.runs_on));
    json_object_set_new(root, "tool_version", json_string(cli_esc(fi.tool_version)));
    json_object_set_new(root, "default_graph", dg >= 0 ? json_string(cli_esc(nnl_plan_graph_name(p, dg))) : json_null());
    /* a file for another target or layout version is described, not run */
    json_object_set_new(root, "runnable", json_boolean(!nnl_plan_foreign(p)));
    if (nnl_plan_foreign(p)) json_object_set_new(root, "not_runnable_because", json_string(cli_esc(nnl_plan_foreign(p))));
    json_object_set_new(root, "graphs", graphs);
    json_object_set_new(root, "weight_bytes", json_integer((json_int_t)nnl_plan_weight_bytes(p, -1)));
    json_object_set_new(root, "shared_weight_bytes", json_integer((json_int_t)shared_bytes(p)));
    json_object_set_new(root, "weights", weights);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s) {
        fprintf(stderr, "nnlink info: out of memory\n");
        return 1;
    }
    puts(s);
    free(s);
    return 0;
}

static void print_text(const nnl_plan *p, const char *path, bool list_weights) {
    nnl_file_info fi;
    nnl_plan_file_info(p, &fi);
    int ng = nnl_plan_graph_count(p), dg = nnl_plan_default_graph(p);
    printf("%s: nnl format %u, layout %u, target %s, written by nnlink %s\n", cli_esc(path), fi.format_version,
           fi.layout_version, cli_esc(fi.target), cli_esc(fi.tool_version));
    printf("runs on %s\n", fi.runs_on);
    if (nnl_plan_foreign(p)) printf("note: cannot run here: %s\n", cli_esc(nnl_plan_foreign(p)));
    printf("%d graph%s%s%s\n", ng, ng == 1 ? "" : "s", dg >= 0 ? ", default " : "", dg >= 0 ? cli_esc(nnl_plan_graph_name(p, dg)) : "");
    for (int g = 0; g < ng; g++) {
        printf("\ngraph '%s'%s: weights %.2f MB, arena %.2f MB\n", cli_esc(nnl_plan_graph_name(p, g)), g == dg ? " (default)" : "",
               nnl_plan_weight_bytes(p, g) / 1e6, nnl_plan_arena_bytes(p, g) / 1e6);
        nnl_tensor_info t;
        char sh[256];
        for (int i = 0; i < nnl_plan_input_count(p, g); i++)
            if (!nnl_plan_input_info(p, g, i, &t)) {
                shape_text(&t, sh, sizeof sh);
                printf("  input  %-24s %-8s %s\n", cli_esc(t.name), nnl_dtype_name(t.dtype), sh);
            }
        for (int i = 0; i < nnl_plan_output_count(p, g); i++)
            if (!nnl_plan_output_info(p, g, i, &t)) {
                shape_text(&t, sh, sizeof sh);
                printf("  output %-24s %-8s %s\n", cli_esc(t.name), nnl_dtype_name(t.dtype), sh);
            }
    }
    uint64_t used = 0;
    int nshared = 0;
    for (int w = 0; w < nnl_plan_weight_count(p); w++) {
        nnl_weight_info wi;
        nnl_plan_weight_info(p, w, &wi);
        used += wi.bytes * (uint64_t)wi.n_graphs;
        nshared += wi.n_graphs > 1;
    }
    printf("\nweights: %d stored, %.2f MB; %d shared by several graphs (%.2f MB); without sharing %.2f MB\n",
           nnl_plan_weight_count(p), nnl_plan_weight_bytes(p, -1) / 1e6, nshared, shared_bytes(p) / 1e6, used / 1e6);
    if (!list_weights) return;
    for (int w = 0; w < nnl_plan_weight_count(p); w++) {
        nnl_weight_info wi;
        nnl_plan_weight_info(p, w, &wi);
        nnl_tensor_info t = {.rank = wi.rank};
        memcpy(t.dims, wi.dims, sizeof t.dims);
        char sh[256];
        shape_text(&t, sh, sizeof sh);
        printf("  %-48s %-8s %-20s %-8s %10llu B  graphs:", cli_esc(wi.name), nnl_dtype_name(wi.dtype), sh, cli_esc(wi.layout),
               (unsigned long long)wi.bytes);
        for (int g = 0; g < ng; g++)
            if (nnl_plan_weight_used_by(p, w, g)) printf(" %s", cli_esc(nnl_plan_graph_name(p, g)));
        printf("\n");
    }
}

int cmd_info(int argc, char **argv) {
    const char *file = NULL;
    bool json = false, weights = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--weights") == 0) {
            weights = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("info", "unknown option '%s'", argv[i]);
        } else if (!file) {
            file = argv[i];
        } else {
            return cli_usage_error("info", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!file) return cli_usage_error("info", "no .nnl file given");
    nnl_plan *p = NULL;
    nnl_status s = nnl_plan_open_inspect(file, &p);
    if (s) return cli_fail(s);
    int rc = 0;
    if (json) rc = print_json(p);
    else print_text(p, file, weights);
    nnl_plan_free(p);
    return rc;
}
