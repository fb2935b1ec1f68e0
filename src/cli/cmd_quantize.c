/* nnlink quantize MODEL.onnx -o OUT.onnx --calibration NAME=PATH.npy... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/core.h"
#include "util/npy.h"

#define MAX_INPUTS 64

static const char help[] =
    "usage: nnlink quantize MODEL.onnx -o OUT.onnx --calibration NAME=PATH.npy...\n"
    "                       [--input NAME=D0,D1,...]... [--weights int8|int7]\n"
    "                       [--activations uint8|int8] [--method minmax|percentile|mse]\n"
    "                       [--percentile P]\n"
    "\n"
    "Quantize a float ONNX model into a QDQ ONNX model (ONNX Runtime and\n"
    "`nnlink compile` run it): int8 weights, symmetric, one scale per output\n"
    "channel, for Conv, ConvTranspose, Gemm and MatMul (their biases as int32);\n"
    "QuantizeLinear -> DequantizeLinear pairs with per-tensor scales on those\n"
    "ops' activation inputs and outputs.  The model keeps its dynamic\n"
    "dimensions.  `nnlink compile` turns the quantized convs and GEMMs into\n"
    "integer kernels.\n"
    "  -o, --output OUT.onnx      file to write (atomically: temp file + rename)\n"
    "  --calibration NAME=PATH    samples for input NAME: a float32 .npy of N samples\n"
    "                             stacked on a new leading axis (N x input shape);\n"
    "                             one per model input, the same N for all\n"
    "  --input NAME=D0,D1,...     shape calibration compiles at (default: one\n"
    "                             sample's shape, which it must equal)\n"
    "  --weights int8|int7        int8 (default): within [-127, 127]; int7: within\n"
    "                             [-64, 64], stored as int8 (ONNX Runtime's\n"
    "                             reduce_range): a bit less precise, faster\n"
    "                             on x86 CPUs without VNNI (AVX2 only)\n"
    "  --activations T            uint8 (default) or int8, asymmetric\n"
    "  --method M                 activation ranges: minmax (default), percentile\n"
    "                             (|x| clipped at --percentile, default 99.99) or mse\n"
    "                             (the clip with the least quantization error)\n";

static void progress(void *ctx, const char *phase, int done, int total) {
    (void)ctx;
    fprintf(stderr, "\rcalibrating (%s): sample %d/%d", phase, done, total);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
}

static int parse_method(const char *v, nnl_quant_method *m) {
    if (!strcmp(v, "minmax")) *m = NNL_QUANT_MINMAX;
    else if (!strcmp(v, "percentile")) *m = NNL_QUANT_PERCENTILE;
    else if (!strcmp(v, "mse")) *m = NNL_QUANT_MSE;
    else return -1;
    return 0;
}

int cmd_quantize(int argc, char **argv) {
    const char *model = NULL, *out = NULL;
    static nnl_input_shape shapes[MAX_INPUTS];
    static char shape_names[MAX_INPUTS][256], calib_names[MAX_INPUTS][256];
    static const char *calib_paths[MAX_INPUTS];
    int n_shapes = 0, n_calib = 0;
    nnl_quantize_options o = {.size = sizeof o};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(help, stdout);
            return 0;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--calibration") && i + 1 < argc) {
            if (n_calib == MAX_INPUTS) return cli_usage_error("quantize", "more than %d --calibration options", MAX_INPUTS);
            if (!cli_split_assign(argv[++i], calib_names[n_calib], sizeof calib_names[n_calib], &calib_paths[n_calib]) ||
                !*calib_paths[n_calib])
                return cli_usage_error("quantize", "bad --calibration '%s': expected NAME=PATH.npy", argv[i]);
            n_calib++;
        } else if (!strcmp(a, "--input") && i + 1 < argc) {
            if (n_shapes == MAX_INPUTS) return cli_usage_error("quantize", "more than %d --input options", MAX_INPUTS);
            if (!cli_parse_shape(argv[++i], &shapes[n_shapes], shape_names[n_shapes], sizeof shape_names[n_shapes]))
                return cli_usage_error("quantize", "bad --input '%s': expected NAME=D0,D1,... with dims >= 0", argv[i]);
            n_shapes++;
        } else if (!strcmp(a, "--weights") && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "int8") && strcmp(v, "int7"))
                return cli_usage_error("quantize", "--weights %s: expected int8 or int7", v);
            o.weights = NNL_DT_INT8;
            o.weight_bits = strcmp(v, "int7") ? 8 : 7;
        } else if (!strcmp(a, "--activations") && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(v, "uint8")) o.activations = NNL_DT_UINT8;
            else if (!strcmp(v, "int8")) o.activations = NNL_DT_INT8;
            else return cli_usage_error("quantize", "--activations %s: expected uint8 or int8", v);
        } else if (!strcmp(a, "--method") && i + 1 < argc) {
            if (parse_method(argv[++i], &o.method))
                return cli_usage_error("quantize", "--method %s: expected minmax, percentile or mse", argv[i]);
        } else if (!strcmp(a, "--percentile") && i + 1 < argc) {
            char *end;
            o.percentile = strtod(argv[++i], &end);
            if (*end || !(o.percentile > 0 && o.percentile <= 100))
                return cli_usage_error("quantize", "--percentile %s: expected a number in (0, 100]", argv[i]);
        } else {
            int rc = cli_positional("quantize", a, &model);
            if (rc) return rc;
        }
    }
    if (!model) return cli_usage_error("quantize", "no model given");
    if (!out) return cli_usage_error("quantize", "no output file given (-o OUT.onnx)");
    if (!n_calib) return cli_usage_error("quantize", "no calibration data given (--calibration NAME=PATH.npy)");
    static nnl_calib_input calib[MAX_INPUTS];
    nnl_tensor data[MAX_INPUTS];
    int loaded = 0, rc = 0;
    for (; loaded < n_calib; loaded++) {
        nnl_status s = nnl_npy_read(calib_paths[loaded], &data[loaded]);
        if (s) {
            nnl_fail_context(s, "calibration data for '%s': ", calib_names[loaded]);
            rc = cli_fail(s);
            break;
        }
        nnl_calib_input *c = &calib[loaded];
        c->name = calib_names[loaded];
        c->dtype = data[loaded].dtype;
        c->rank = data[loaded].rank;
        memcpy(c->dims, data[loaded].dims, sizeof c->dims);
        c->data = data[loaded].data;
    }
    if (!rc) {
        o.calib = calib;
        o.n_calib = n_calib;
        o.inputs = shapes;
        o.n_inputs = n_shapes;
        if (isatty(2)) o.progress = progress;
        nnl_quantize_summary sum;
        nnl_status s = nnl_quantize_file(model, out, &o, &sum);
        if (s) {
            rc = cli_fail(s);
        } else {
            printf("quantized %s -> %s: %d weights %s, %d biases int32, %d activations %s",
                   model, out, sum.weights, o.weight_bits == 7 ? "int7 (in int8)" : "int8", sum.biases, sum.activations,
                   nnl_dtype_name(o.activations ? o.activations : NNL_DT_UINT8));
            if (sum.opset_to != sum.opset_from)
                printf(", opset %lld -> %lld", (long long)sum.opset_from, (long long)sum.opset_to);
            printf("\n");
        }
    }
    for (int i = 0; i < loaded; i++) nnl_aligned_free(data[i].data);
    return rc;
}
