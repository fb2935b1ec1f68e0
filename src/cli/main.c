/* Command dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"compile", cmd_compile, "compile an ONNX model at fixed input shapes into a .nnl graph"},
    {"quantize", cmd_quantize, "quantize an ONNX model to int8 from calibration data (QDQ ONNX out)"},
    {"link", cmd_link, "link compiled .nnl files into one file sharing weights"},
    {"extract", cmd_extract, "write one graph of a .nnl file to its own file"},
    {"info", cmd_info, "list graphs, inputs, outputs and weights of a .nnl file"},
    {"verify", cmd_verify, "check every byte of a .nnl file against its checksums"},
    {"run", cmd_run, "run a graph on .npy inputs"},
    {"profile", cmd_profile, "time a graph (or all graphs) layer by layer"},
};

static void usage(FILE *f) {
    fprintf(f, "nnlink %s: compile, link and run neural networks\n\nusage: nnlink COMMAND [ARGS]\n\ncommands:\n",
            nnl_version());
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n`nnlink COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("nnlink %s\n", nnl_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "nnlink: unknown command '%s'\n\n", cli_esc(argv[1]));
    usage(stderr);
    return 2;
}
