/* nnlink run FILE.nnl [--graph NAME] --input NAME=PATH.npy ... -o OUTDIR */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/core.h"
#include "util/npy.h"

#define MAX_INPUTS 64

static const char help[] =
    "usage: nnlink run FILE.nnl [--graph NAME] --input NAME=PATH.npy ... -o OUTDIR [--threads N]\n"
    "\n"
    "Run one graph of a .nnl file on .npy inputs and write OUTDIR/<output>.npy\n"
    "for every graph output.\n"
    "  --graph NAME       graph to run; required when the file holds several\n"
    "                     graphs and names no default\n"
    "  --input NAME=PATH  .npy file for a graph input (every input is required)\n"
    "  -o, --output DIR   folder for the outputs (created if missing)\n"
    "  --threads N        worker threads (default: all CPUs)\n";

int cmd_run(int argc, char **argv) {
    const char *file = NULL, *graph = NULL, *outdir = NULL;
    static char names[MAX_INPUTS][256];
    const char *paths[MAX_INPUTS];
    int n = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(help, stdout);
            return 0;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            outdir = argv[++i];
        } else if (strcmp(a, "--graph") == 0 && i + 1 < argc) {
            graph = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%d", &threads) != 1 || threads < 1)
                return cli_usage_error("run", "bad --threads '%s'", argv[i]);
        } else if (strcmp(a, "--input") == 0 && i + 1 < argc) {
            if (n == MAX_INPUTS) return cli_usage_error("run", "too many inputs");
            if (!cli_split_assign(argv[++i], names[n], sizeof names[n], &paths[n]))
                return cli_usage_error("run", "bad --input '%s': expected NAME=PATH.npy", argv[i]);
            n++;
        } else {
            int rc = cli_positional("run", a, &file);
            if (rc) return rc;
        }
    }
    if (!file) return cli_usage_error("run", "no .nnl file given");
    if (!outdir) return cli_usage_error("run", "no output folder given (-o OUTDIR)");
    nnl_plan *p = NULL;
    int gi, rc = cli_open_graph(file, graph, &p, &gi);
    if (rc) return rc;
    nnl_session *s = NULL;
    nnl_session_options so = {.size = sizeof so, .n_threads = threads};
    nnl_status st = nnl_session_create(p, gi, &so, &s);
    for (int i = 0; !st && i < n; i++) st = cli_set_input_npy(s, names[i], paths[i]);
    /* every input must be given: running on zeros silently would be wrong */
    for (int i = 0; !st && i < nnl_plan_input_count(p, gi); i++) {
        nnl_tensor_info info;
        nnl_plan_input_info(p, gi, i, &info);
        bool given = false;
        for (int j = 0; j < n; j++) given |= strcmp(names[j], info.name) == 0;
        if (!given) {
            fprintf(stderr, "nnlink run: input '%s' of graph '%s' was not given (--input %s=PATH.npy)\n", cli_esc(info.name),
                    cli_esc(nnl_plan_graph_name(p, gi)), cli_esc(info.name));
            rc = 1;
            goto done;
        }
    }
    if (!st) st = nnl_session_run(s);
    if (!st && mkdir(outdir, 0777) != 0 && errno != EEXIST)
        st = NNL_ERR_IO, fprintf(stderr, "nnlink run: cannot create %s: %s\n", cli_esc(outdir), strerror(errno)), rc = 1;
    for (int i = 0; !st && i < nnl_plan_output_count(p, gi); i++) {
        nnl_tensor_info info;
        const void *data;
        st = nnl_session_output(s, i, &info, &data);
        if (st) break;
        nnl_tensor t = {.dtype = info.dtype, .rank = info.rank, .data = (void *)data};
        memcpy(t.dims, info.dims, sizeof t.dims);
        char path[4096];
        /* output names may hold '/' (ONNX allows it); keep files in outdir */
        char safe[1024];
        snprintf(safe, sizeof safe, "%s", info.name);
        for (char *c = safe; *c; c++)
            if (*c == '/') *c = '_';
        snprintf(path, sizeof path, "%s/%s.npy", outdir, safe);
        st = nnl_npy_write(path, &t);
        if (!st) printf("%s: %s\n", cli_esc(info.name), cli_esc(path));
    }
    if (st && !rc) rc = cli_fail(st);
done:
    nnl_session_free(s);
    nnl_plan_free(p);
    return rc;
}
