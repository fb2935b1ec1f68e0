/* nnlink link / nnlink extract */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define MAX_FILES 256

static const char link_help[] =
    "usage: nnlink link IN.nnl[:OLD=NEW | :NEW]... -o OUT.nnl [--share name+content|content|none]\n"
    "                   [--report REPORT.json] [--default NAME]\n"
    "\n"
    "Link compiled .nnl files (single- or multi-graph) into one file holding\n"
    "every graph.  A weight is stored once when graphs share it:\n"
    "  name+content  (default) same name and identical dtype, shape, layout and\n"
    "                bytes (confirmed byte for byte, never by name or hash alone)\n"
    "  content       identical content under any name\n"
    "  none          nothing shared\n"
    "IN.nnl:OLD=NEW renames graph OLD of that input to NEW; IN.nnl:NEW renames\n"
    "the only graph of a single-graph input.\n"
    "  -o, --output OUT.nnl   file to write (atomically)\n"
    "  --report PATH          JSON report: every weight, shared with which graphs or why not;\n"
    "                         the weights left unshared beside a namesake are listed here too\n"
    "  --default NAME         graph that run/profile use when --graph is not given\n";

/* The report's weights that were not shared although another graph has
 * one of the same name, with the reason (for quantized weights: whether
 * the int8 values, the scales or both differ), a line each. */
static void print_unshared(const char *report) {
    json_t *root = json_load_file(report, 0, NULL), *ws = json_object_get(root, "weights");
    size_t n = 0, shown = 0;
    for (size_t i = 0; i < json_array_size(ws); i++) {
        json_t *e = json_array_get(ws, i);
        const char *why = json_string_value(json_object_get(e, "reason"));
        if (!why) continue;
        if (shown++ < 20)
            printf("  not shared: %s from %s: %s\n", cli_esc(json_string_value(json_object_get(e, "name"))),
                   cli_esc(json_string_value(json_object_get(e, "source"))), why);
        n++;
    }
    if (n > 20) printf("  ... %zu more not shared (see the report)\n", n - 20);
    json_decref(root);
}

static const char extract_help[] =
    "usage: nnlink extract FILE.nnl --graph NAME -o OUT.nnl\n"
    "\n"
    "Write one graph of a .nnl file, with only the weights it uses, to its own file.\n";

static char specs[MAX_FILES][3][1024];

/* "path", "path:new" or "path:old=new"; a path that exists as given wins. */
static bool parse_input(const char *arg, int k, nnl_link_input *in) {
    memset(in, 0, sizeof *in);
    const char *colon = strrchr(arg, ':');
    if (!colon || access(arg, F_OK) == 0) {
        in->path = arg;
        return true;
    }
    size_t pl = (size_t)(colon - arg);
    if (pl == 0 || pl >= sizeof specs[k][0] || strlen(colon + 1) >= sizeof specs[k][1]) return false;
    memcpy(specs[k][0], arg, pl);
    specs[k][0][pl] = 0;
    in->path = specs[k][0];
    const char *rn = colon + 1, *eq = strchr(rn, '=');
    if (!*rn) return false;
    if (eq) {
        if (eq == rn || !eq[1]) return false;
        memcpy(specs[k][1], rn, (size_t)(eq - rn));
        specs[k][1][eq - rn] = 0;
        snprintf(specs[k][2], sizeof specs[k][2], "%s", eq + 1);
        in->rename_from = specs[k][1];
    } else {
        snprintf(specs[k][2], sizeof specs[k][2], "%s", rn);
    }
    in->rename_to = specs[k][2];
    return true;
}

int cmd_link(int argc, char **argv) {
    static nnl_link_input ins[MAX_FILES];
    int n = 0;
    nnl_link_options o = {.size = sizeof o, .share = NNL_SHARE_NAME_CONTENT};
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(link_help, stdout);
            return 0;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--share") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "name+content") == 0) o.share = NNL_SHARE_NAME_CONTENT;
            else if (strcmp(m, "content") == 0) o.share = NNL_SHARE_CONTENT;
            else if (strcmp(m, "none") == 0) o.share = NNL_SHARE_NONE;
            else return cli_usage_error("link", "--share must be name+content, content or none, not '%s'", m);
        } else if (strcmp(a, "--report") == 0 && i + 1 < argc) {
            o.report_json_path = argv[++i];
        } else if (strcmp(a, "--default") == 0 && i + 1 < argc) {
            o.default_graph = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("link", "unknown or incomplete option '%s'", a);
        } else {
            if (n == MAX_FILES) return cli_usage_error("link", "more than %d inputs", MAX_FILES);
            if (!parse_input(a, n, &ins[n])) return cli_usage_error("link", "bad input '%s'", a);
            n++;
        }
    }
    if (n == 0) return cli_usage_error("link", "no input files given");
    if (!out) return cli_usage_error("link", "no output file given (-o OUT.nnl)");
    nnl_link_summary sum;
    nnl_status s = nnl_link_files(ins, n, out, &o, &sum);
    if (s) return cli_fail(s);
    printf("linked %d graph%s into %s: %d weights in, %d stored, %d shared; %.2f MB in, %.2f MB stored, %.2f MB saved\n",
           sum.graphs, sum.graphs == 1 ? "" : "s", cli_esc(out), sum.weights_in, sum.weights_stored, sum.weights_shared,
           sum.bytes_in / 1e6, sum.bytes_stored / 1e6, sum.bytes_saved / 1e6);
    if (o.report_json_path) {
        printf("report: %s\n", cli_esc(o.report_json_path));
        print_unshared(o.report_json_path);
    }
    return 0;
}

int cmd_extract(int argc, char **argv) {
    const char *file = NULL, *graph = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(extract_help, stdout);
            return 0;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--graph") == 0 && i + 1 < argc) {
            graph = argv[++i];
        } else {
            int rc = cli_positional("extract", a, &file);
            if (rc) return rc;
        }
    }
    if (!file) return cli_usage_error("extract", "no .nnl file given");
    if (!graph) return cli_usage_error("extract", "no graph given (--graph NAME)");
    if (!out) return cli_usage_error("extract", "no output file given (-o OUT.nnl)");
    nnl_status s = nnl_extract_graph(file, graph, out);
    if (s) return cli_fail(s);
    printf("extracted graph '%s' of %s -> %s\n", cli_esc(graph), cli_esc(file), cli_esc(out));
    return 0;
}
