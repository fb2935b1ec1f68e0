/*
 * nnlink public C API.
 *
 * Three objects:
 *   - compile: ONNX model + fixed input shapes -> single-graph .nnl file
 *     (nnl_compile_file).  The mutable graph IR stays inside the library.
 *   - nnl_plan: an opened .nnl file (memory-mapped, immutable, validated).
 *     Holds any number of graphs over one shared weights section.
 *   - nnl_session: scratch memory (one arena) and threads for ONE graph of
 *     a plan.  Sessions on the same plan share its mapped weights.
 *
 * Conventions: every fallible call returns nnl_status; results come back
 * through out-parameters; on failure nnl_last_error() gives a readable
 * message for the calling thread.  Every *_free(NULL) is a no-op.  The
 * library never aborts or exits on bad input.
 */
#ifndef NNLINK_H
#define NNLINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NNL_VERSION_STRING "0.1.0"
#define NNL_MAX_RANK 8

typedef enum nnl_status {
    NNL_OK = 0,
    NNL_ERR_INVALID_ARG,   /* caller passed something unusable */
    NNL_ERR_IO,            /* open/read/write/rename failed */
    NNL_ERR_FORMAT,        /* file corrupt, truncated or not what it claims */
    NNL_ERR_UNSUPPORTED,   /* valid input that nnlink does not implement */
    NNL_ERR_SHAPE,         /* shapes or dtypes do not fit */
    NNL_ERR_NOT_FOUND,     /* graph / input / output name unknown */
    NNL_ERR_NOMEM,         /* allocation failed */
    NNL_ERR_MISMATCH,      /* link: files compiled for another target/version */
    NNL_ERR_INTERNAL
} nnl_status;

/* Element types use ONNX TensorProto numbering. */
typedef enum nnl_dtype {
    NNL_DT_UNDEFINED = 0,
    NNL_DT_FLOAT = 1,
    NNL_DT_UINT8 = 2,
    NNL_DT_INT8 = 3,
    NNL_DT_UINT16 = 4,
    NNL_DT_INT16 = 5,
    NNL_DT_INT32 = 6,
    NNL_DT_INT64 = 7,
    NNL_DT_BOOL = 9,
    NNL_DT_FLOAT16 = 10,
    NNL_DT_DOUBLE = 11,
    NNL_DT_UINT32 = 12,
    NNL_DT_UINT64 = 13
} nnl_dtype;

/* Library version string (static storage). */
const char *nnl_version(void);
/* Static name of a status ("ok", "format error", ...). */
const char *nnl_status_string(nnl_status s);
/* Message of the last failed call on this thread (thread-local storage,
 * valid until the next failing call on the same thread; never NULL). */
const char *nnl_last_error(void);
/* Static name of a dtype ("float32", "int64", ...); "undefined" if unknown. */
const char *nnl_dtype_name(nnl_dtype dt);
/* Size of one element in bytes, 0 for unknown types. */
size_t nnl_dtype_size(nnl_dtype dt);

/* ------------------------------------------------------------------ */
/* Compile                                                             */
/* ------------------------------------------------------------------ */

typedef struct nnl_input_shape {
    const char *name;              /* graph input name */
    int rank;
    int64_t dims[NNL_MAX_RANK];
} nnl_input_shape;

typedef struct nnl_compile_options {
    size_t size;                   /* sizeof(nnl_compile_options) */
    const char *graph_name;        /* NULL -> "main" */
    const nnl_input_shape *inputs; /* fixed shapes for inputs; may be NULL */
    int n_inputs;
    /* 0 (default): weights keep their size; stride-1 3x3 convolutions
     * with >= 256 input and output channels (dilated too) still run as
     * Winograd F(4x4, 3x3), their weights transformed at run time, chunk
     * by chunk (NNL_WINOGRAD=0 in the environment turns that off).
     * 1: those weights are stored transformed instead, 4x larger; no
     * faster on the measured networks, kept for files that want no
     * run-time transform. */
    int winograd;
    /* Element type of the weights Conv, Gemm and MatMul multiply by
     * (docs/CLI.md, "compile --weights"): NNL_WEIGHTS_FP32 (0, the
     * default); NNL_WEIGHTS_FP16: stored as IEEE float16 (file and mapped
     * memory about 0.56 of float32) and widened to float32 while the graph
     * runs, except those the graph reads first, up to a tenth of their
     * bytes (early layers' rounding errors pass through the whole
     * network); NNL_WEIGHTS_FP16_ALL: every one of them (0.50).  Added after winograd: a caller built
     * against the older header passes the older size and gets float32. */
    int weights;
} nnl_compile_options;

enum { NNL_WEIGHTS_FP32 = 0, NNL_WEIGHTS_FP16 = 1, NNL_WEIGHTS_FP16_ALL = 2 };

/* Compile an ONNX file into a single-graph .nnl at out_path.  The output is
 * written to a temporary file in the same folder and renamed, so out_path
 * is either the complete new file or untouched.  opts may be NULL. */
nnl_status nnl_compile_file(const char *onnx_path, const char *out_path,
                            const nnl_compile_options *opts);

/* ------------------------------------------------------------------ */
/* Plan: an opened .nnl file                                           */
/* ------------------------------------------------------------------ */

typedef struct nnl_plan nnl_plan;

/* Open and validate a .nnl file.  The file is memory-mapped; weights are
 * never copied.  On success *out owns the mapping; free with
 * nnl_plan_free. */
nnl_status nnl_plan_open(const char *path, nnl_plan **out);
/* Like nnl_plan_open, with every check but one: a file compiled for
 * another target or weight-layout version opens too, for reading its
 * graphs, weights and checksums (nnlink info, verify); sessions on it fail
 * with NNL_ERR_MISMATCH.  Free with nnl_plan_free. */
nnl_status nnl_plan_open_inspect(const char *path, nnl_plan **out);
/* Why the plan cannot run here (owned by the plan), or NULL when it can. */
const char *nnl_plan_foreign(const nnl_plan *plan);
void nnl_plan_free(nnl_plan *plan);

/* Check every byte of the file against its checksums (opening checks only
 * the metadata), and the weight payloads' own contracts that kernels rely
 * on (8-bit weights: row sums, zero padding, the nnl_w7 range).
 * NNL_ERR_FORMAT naming the damaged part. */
nnl_status nnl_plan_verify(const nnl_plan *plan);

int nnl_plan_graph_count(const nnl_plan *plan);
/* Name of graph i (owned by the plan), NULL if i is out of range. */
const char *nnl_plan_graph_name(const nnl_plan *plan, int i);
/* Default graph index, or -1 if the file names none. */
int nnl_plan_default_graph(const nnl_plan *plan);
/* Resolve a graph name: NULL name selects the only graph or the default.
 * A missing or unknown name fails with NNL_ERR_NOT_FOUND and a message
 * that lists the graph names. */
nnl_status nnl_plan_find_graph(const nnl_plan *plan, const char *name, int *index);

typedef struct nnl_tensor_info {
    const char *name;              /* owned by the plan */
    nnl_dtype dtype;
    int rank;
    int64_t dims[NNL_MAX_RANK];
} nnl_tensor_info;

int nnl_plan_input_count(const nnl_plan *plan, int graph);
int nnl_plan_output_count(const nnl_plan *plan, int graph);
nnl_status nnl_plan_input_info(const nnl_plan *plan, int graph, int i, nnl_tensor_info *info);
nnl_status nnl_plan_output_info(const nnl_plan *plan, int graph, int i, nnl_tensor_info *info);
/* Bytes of weights graph uses (graph >= 0), or stored in the file (-1). */
uint64_t nnl_plan_weight_bytes(const nnl_plan *plan, int graph);
/* Bytes of the activation arena a session of this graph allocates. */
uint64_t nnl_plan_arena_bytes(const nnl_plan *plan, int graph);

typedef struct nnl_file_info {
    uint32_t format_version;
    uint32_t layout_version;
    const char *target;            /* owned by the plan; byte order, docs/FORMAT.md "Portability" */
    const char *tool_version;      /* owned by the plan */
    double open_ms;                /* time nnl_plan_open took */
    const char *runs_on;           /* the CPUs that can run the file (static string) */
} nnl_file_info;
nnl_status nnl_plan_file_info(const nnl_plan *plan, nnl_file_info *info);

typedef struct nnl_weight_info {
    const char *name;              /* owned by the plan */
    nnl_dtype dtype;
    int rank;
    int64_t dims[NNL_MAX_RANK];
    const char *layout;            /* "plain", "pack_a8", "wino43", "pack_a8t", "pack_q8" (static) */
    uint64_t bytes;
    int n_graphs;                  /* graphs that use it */
} nnl_weight_info;
int nnl_plan_weight_count(const nnl_plan *plan);
nnl_status nnl_plan_weight_info(const nnl_plan *plan, int i, nnl_weight_info *info);
/* 1 if graph uses weight w, else 0. */
int nnl_plan_weight_used_by(const nnl_plan *plan, int w, int graph);

/* ------------------------------------------------------------------ */
/* Session: run one graph                                              */
/* ------------------------------------------------------------------ */

typedef struct nnl_session nnl_session;

typedef struct nnl_session_options {
    size_t size;                   /* sizeof(nnl_session_options) */
    int n_threads;                 /* 0 -> number of online CPUs */
} nnl_session_options;

/* Create a session for graph `graph` of plan.  Allocates that graph's arena
 * only.  The plan must outlive the session.  opts may be NULL. */
nnl_status nnl_session_create(const nnl_plan *plan, int graph,
                              const nnl_session_options *opts, nnl_session **out);
void nnl_session_free(nnl_session *s);

/* Copy input data in.  dtype and dims must equal the compiled ones. */
nnl_status nnl_session_set_input(nnl_session *s, const char *name, nnl_dtype dtype,
                                 int rank, const int64_t *dims, const void *data);
nnl_status nnl_session_run(nnl_session *s);
/* Floating-point operations of one run, counted by the ops' own shape
 * inference when the session was created (not read from the file). */
double nnl_session_flops(const nnl_session *s);
/* Output i after a run: *data points into the session (valid until the
 * next run or free). */
nnl_status nnl_session_output(nnl_session *s, int i, nnl_tensor_info *info,
                              const void **data);

/* ------------------------------------------------------------------ */
/* Profiling                                                           */
/* ------------------------------------------------------------------ */

typedef struct nnl_layer_time {
    const char *name;              /* compiled step label (ONNX node names) */
    const char *op;                /* op type */
    double ms;                     /* time of the last profiled run */
    double flops;                  /* floating point operations of the step */
    int thread;                    /* thread that ran the step */
    double start_ms;               /* start relative to the run start */
} nnl_layer_time;

/* Enable (1) or disable (0) per-layer timing for the following runs.
 * With timing off, runs take no timestamps. */
nnl_status nnl_session_set_profiling(nnl_session *s, int enable);
int nnl_session_layer_count(const nnl_session *s);
/* Layer i of the last profiled run. */
nnl_status nnl_session_layer_time(const nnl_session *s, int i, nnl_layer_time *out);
/* Threads of the session's pool (thread 0 is the caller's). */
int nnl_session_thread_count(const nnl_session *s);
/* What thread t did in layer i of the last profiled run: *start_ms from the
 * run's start, *busy_ms its busy time; both 0 when it did no work there. */
nnl_status nnl_session_layer_thread(const nnl_session *s, int i, int t, double *start_ms, double *busy_ms);

/* ------------------------------------------------------------------ */
/* Link                                                                */
/* ------------------------------------------------------------------ */

typedef enum nnl_share_mode {
    NNL_SHARE_NAME_CONTENT = 0,    /* same name and identical content */
    NNL_SHARE_CONTENT = 1,         /* identical content, any name */
    NNL_SHARE_NONE = 2
} nnl_share_mode;

typedef struct nnl_link_input {
    const char *path;              /* compiled .nnl file */
    const char *rename_from;       /* graph to rename, or NULL */
    const char *rename_to;
} nnl_link_input;

typedef struct nnl_link_options {
    size_t size;                   /* sizeof(nnl_link_options) */
    nnl_share_mode share;
    const char *default_graph;     /* NULL: none */
    const char *report_json_path;  /* NULL: no JSON report */
} nnl_link_options;

typedef struct nnl_link_summary {
    int graphs;
    int weights_in;                /* weights over all inputs */
    int weights_stored;
    int weights_shared;            /* input weights that reuse a stored one */
    uint64_t bytes_in;
    uint64_t bytes_stored;
    uint64_t bytes_saved;
} nnl_link_summary;

/* Link inputs into one .nnl at out_path (atomic write).  summary may be
 * NULL. */
nnl_status nnl_link_files(const nnl_link_input *inputs, int n_inputs, const char *out_path,
                          const nnl_link_options *opts, nnl_link_summary *summary);

/* Write graph `graph_name` of in_path (with only the weights it uses) to
 * out_path. */
nnl_status nnl_extract_graph(const char *in_path, const char *graph_name, const char *out_path);

/* ------------------------------------------------------------------ */
/* Quantize: float ONNX model + calibration data -> QDQ ONNX model     */
/* ------------------------------------------------------------------ */

typedef enum nnl_quant_method {
    NNL_QUANT_MINMAX = 0,          /* the observed min and max */
    NNL_QUANT_PERCENTILE = 1,      /* |x| clipped at a percentile (default 99.99) */
    NNL_QUANT_MSE = 2              /* the clip that minimises the quantization MSE */
} nnl_quant_method;

/* Calibration samples of one graph input: N samples stacked on a new
 * leading axis (dims[0] == N, dims[1..] the input's shape). */
typedef struct nnl_calib_input {
    const char *name;
    nnl_dtype dtype;
    int rank;
    int64_t dims[NNL_MAX_RANK];
    const void *data;
} nnl_calib_input;

typedef struct nnl_quantize_options {
    size_t size;                   /* sizeof(nnl_quantize_options) */
    const nnl_calib_input *calib;  /* one per graph input */
    int n_calib;
    /* Shapes calibration compiles at; each must equal one sample's shape.
     * May be NULL: the samples' shapes.  The written model keeps the
     * original input dims either way. */
    const nnl_input_shape *inputs;
    int n_inputs;
    nnl_dtype weights;             /* NNL_DT_INT8 (0: int8) */
    nnl_dtype activations;         /* NNL_DT_UINT8 (0) or NNL_DT_INT8 */
    nnl_quant_method method;
    double percentile;             /* NNL_QUANT_PERCENTILE; 0: 99.99 */
    /* Called after each calibration run (phase "range" or "histogram");
     * may be NULL. */
    void (*progress)(void *ctx, const char *phase, int done, int total);
    void *progress_ctx;
    /* 8 (0: 8): weights within [-127, 127].  7: within [-64, 64], one bit
     * of precision less (ONNX Runtime's reduce_range); CPUs without
     * 8-bit dot-product instructions (AVX2 without VNNI) multiply those
     * exactly at twice the rate (docs/CLI.md, "quantize --weights"). */
    int weight_bits;
} nnl_quantize_options;

typedef struct nnl_quantize_summary {
    int activations;               /* tensors given a QuantizeLinear/DequantizeLinear pair */
    int weights;                   /* weights stored as int8 */
    int biases;                    /* biases stored as int32 */
    int64_t opset_from, opset_to;  /* default-domain opset before and after */
} nnl_quantize_summary;

/* Quantize the ONNX model at onnx_path into a QDQ ONNX model at out_path
 * (atomic write: out_path is the complete new file or untouched).  summary
 * may be NULL. */
nnl_status nnl_quantize_file(const char *onnx_path, const char *out_path,
                             const nnl_quantize_options *opts, nnl_quantize_summary *summary);

#ifdef __cplusplus
}
#endif
#endif
