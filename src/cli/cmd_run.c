/* nnlink run FILE.nnl [--graph NAME] --input NAME=PATH.npy ... -o OUTDIR */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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
    "for every graph output (names sanitized: docs/CLI.md).\n"
    "  --graph NAME       graph to run; required when the file holds several\n"
    "                     graphs and names no default\n"
    "  --input NAME=PATH  .npy file for a graph input (every input is required)\n"
    "  -o, --output DIR   folder for the outputs (created if missing)\n"
    "  --threads N        worker threads (default: all CPUs)\n";

/* An output's file name: its name with every byte but [A-Za-z0-9_+-.]
 * replaced by '_' (ONNX names may hold '/', control bytes, anything), no
 * leading '.', and "_<index>" appended when that makes it collide with an
 * earlier output's, so a hostile name can neither leave the output folder,
 * hide a file nor overwrite another output. */
static void sanitize(char *dst, size_t n, const char *name) {
    size_t j = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && j + 1 < n; c++, j++)
        dst[j] = (isalnum(*c) || strchr("_+-.", *c)) && !(j == 0 && *c == '.') ? (char)*c : '_';
    if (j == 0) dst[j++] = '_';
    dst[j] = 0;
}

#define FILE_NAME_MAX 256

/* names[i] (FILE_NAME_MAX bytes each) becomes output i's file name: its
 * sanitized name, made unique among the earlier ones by "_<i>", then
 * "_<i>_<n>" for n = 1, 2, ... */
static void out_file_name(char (*names)[FILE_NAME_MAX], int i, const char *name) {
    sanitize(names[i], FILE_NAME_MAX - 32, name);
    size_t base = strlen(names[i]);
    for (int tries = 0;; tries++) {
        bool clash = false;
        for (int k = 0; k < i && !clash; k++) clash = strcmp(names[k], names[i]) == 0;
        if (!clash) return;
        if (tries == 0)
            snprintf(names[i] + base, 32, "_%d", i);
        else
            snprintf(names[i] + base, 32, "_%d_%d", i, tries);
    }
}

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
    int n_out = nnl_plan_output_count(p, gi);
    char (*files)[FILE_NAME_MAX] = calloc(n_out > 0 ? (size_t)n_out : 1, FILE_NAME_MAX);
    if (!files) st = NNL_ERR_NOMEM;
    for (int i = 0; !st && i < n_out; i++) {
        nnl_tensor_info info;
        const void *data;
        st = nnl_session_output(s, i, &info, &data);
        if (st) break;
        nnl_tensor t = {.dtype = info.dtype, .rank = info.rank, .data = (void *)data};
        memcpy(t.dims, info.dims, sizeof t.dims);
        char path[4096];
        out_file_name(files, i, info.name);
        snprintf(path, sizeof path, "%s/%s.npy", outdir, files[i]);
        st = nnl_npy_write(path, &t);
        if (!st) printf("%s: %s\n", cli_esc(info.name), cli_esc(path));
    }
    free(files);
    if (st && !rc) rc = cli_fail(st);
done:
    nnl_session_free(s);
    nnl_plan_free(p);
    return rc;
}
