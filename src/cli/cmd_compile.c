/* nnlink compile MODEL.onnx -o OUT.nnl [--graph NAME] [--input NAME=D0,D1,...]... */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_INPUTS 64

static const char help[] =
    "usage: nnlink compile MODEL.onnx -o OUT.nnl [--graph NAME] [--input NAME=D0,D1,...]... [--winograd]\n"
    "                      [--weights fp32|fp16|fp16-all]\n"
    "\n"
    "Compile an ONNX model (opset 11+, as torch.onnx.export writes it) into a\n"
    "single-graph .nnl file optimised for this CPU.\n"
    "  -o, --output OUT.nnl     file to write (atomically: temp file + rename)\n"
    "  --graph NAME             name of the compiled graph (default: main)\n"
    "  --input NAME=D0,D1,...   fixed shape of an input; required for every input\n"
    "                           with dynamic dimensions (e.g. image=1,3,256,384)\n"
    "  --winograd               store 3x3 conv weights with >= 256 channels Winograd-\n"
    "                           transformed (4x larger); by default such convs already\n"
    "                           run as Winograd F(4x4,3x3), transforming at run time\n"
    "                           (narrower ones that run as Winograd always store theirs\n"
    "                           transformed, NAME.wino43)\n"
    "  --weights fp32|fp16|fp16-all\n"
    "                           element type of Conv, Gemm and MatMul weights (default\n"
    "                           fp32); fp16 stores them as IEEE float16, rounded to\n"
    "                           nearest even, and widens them to float32 while running\n"
    "                           (file and mapped memory about 0.56x), except the ones the\n"
    "                           graph reads first, up to a tenth of their bytes (early\n"
    "                           layers' errors pass through the whole network); fp16-all\n"
    "                           converts those too (0.50x, larger output error).  Other\n"
    "                           constants (biases, norms, embeddings) stay fp32.  A weight\n"
    "                           beyond float16's range (|x| > 65504) is an error\n";

int cmd_compile(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *graph = NULL;
    static nnl_input_shape shapes[MAX_INPUTS];
    static char names[MAX_INPUTS][256];
    int n = 0, winograd = 0, weights = NNL_WEIGHTS_FP32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(help, stdout);
            return 0;
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--graph") == 0 && i + 1 < argc) {
            graph = argv[++i];
        } else if (strcmp(a, "--winograd") == 0) {
            winograd = 1;
        } else if (strcmp(a, "--weights") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "fp32") == 0 || strcmp(v, "float32") == 0)
                weights = NNL_WEIGHTS_FP32;
            else if (strcmp(v, "fp16") == 0 || strcmp(v, "float16") == 0)
                weights = NNL_WEIGHTS_FP16;
            else if (strcmp(v, "fp16-all") == 0)
                weights = NNL_WEIGHTS_FP16_ALL;
            else
                return cli_usage_error("compile", "bad --weights '%s': expected fp32, fp16 or fp16-all", v);
        } else if (strcmp(a, "--input") == 0 && i + 1 < argc) {
            if (n == MAX_INPUTS) return cli_usage_error("compile", "more than %d --input options", MAX_INPUTS);
            if (!cli_parse_shape(argv[++i], &shapes[n], names[n], sizeof names[n]))
                return cli_usage_error("compile", "bad --input '%s': expected NAME=D0,D1,... with dims >= 0", argv[i]);
            for (int j = 0; j < n; j++)
                if (strcmp(shapes[j].name, shapes[n].name) == 0)
                    return cli_usage_error("compile", "--input '%s' given twice", shapes[n].name);
            n++;
        } else {
            int rc = cli_positional("compile", a, &model);
            if (rc) return rc;
        }
    }
    if (!model) return cli_usage_error("compile", "no model given");
    if (!out) return cli_usage_error("compile", "no output file given (-o OUT.nnl)");
    nnl_compile_options o = {.size = sizeof o, .graph_name = graph, .inputs = shapes, .n_inputs = n,
                             .winograd = winograd, .weights = weights};
    nnl_status s = nnl_compile_file(model, out, &o);
    if (s) return cli_fail(s);
    nnl_plan *p = NULL;
    if (nnl_plan_open(out, &p) == NNL_OK) {
        printf("compiled %s -> %s: graph '%s', %.1f MB of weights, %.1f MB arena\n", cli_esc(model), cli_esc(out),
               cli_esc(nnl_plan_graph_name(p, 0)), nnl_plan_weight_bytes(p, -1) / 1e6, nnl_plan_arena_bytes(p, 0) / 1e6);
        nnl_plan_free(p);
    }
    return 0;
}
