/* nnlink verify FILE.nnl... */
#include <stdio.h>

#include "cli/cli.h"

static const char help[] =
    "usage: nnlink verify FILE.nnl...\n"
    "\n"
    "Check every byte of each file: header, metadata and weights against their\n"
    "checksums, every graph's structure, and what the kernels take on trust in\n"
    "8-bit weights (row sums, zero padding, the 7-bit range an op states).\n"
    "Opening a file (run, profile, info) checks the metadata only, so that\n"
    "weights stay unread until used.\n";

int cmd_verify(int argc, char **argv) {
    int files = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(help, stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("verify", "unknown option '%s'", argv[i]);
    }
    for (int i = 1; i < argc; i++) {
        files++;
        nnl_plan *p = NULL;
        nnl_status s = nnl_plan_open_inspect(argv[i], &p);
        if (!s) s = nnl_plan_verify(p);
        if (s) {
            bad++;
            cli_fail(s);
        } else {
            printf("%s: ok (%d graph%s, %.2f MB of weights)\n", cli_esc(argv[i]), nnl_plan_graph_count(p),
                   nnl_plan_graph_count(p) == 1 ? "" : "s", nnl_plan_weight_bytes(p, -1) / 1e6);
        }
        nnl_plan_free(p);
    }
    if (!files) return cli_usage_error("verify", "no .nnl file given");
    return bad ? 1 : 0;
}
