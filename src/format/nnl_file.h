/*
 * In-memory form of a .nnl file (format version 1, docs/FORMAT.md).
 *
 * The compiler fills one from a model and writes it; the reader produces one
 * whose strings, arrays and weight data point into the mapped file; the
 * linker reads several and writes a merged one.  The runtime plan wraps a
 * read one.
 */
#ifndef NNL_FILE_H
#define NNL_FILE_H

#include "core/core.h"

#define NNL_FORMAT_VERSION 1
/* Weight layout family: bumps whenever any packed layout changes. */
#define NNL_LAYOUT_VERSION 3

typedef enum nnl_tensor_kind {
    NNL_TK_ACT = 0,            /* activation in the arena */
    NNL_TK_INPUT = 1,          /* graph input, in the arena */
    NNL_TK_OUTPUT = 2,         /* graph output, in the arena */
    NNL_TK_WEIGHT = 3          /* constant, in the shared weights section */
} nnl_tensor_kind;

typedef struct nnl_frec_weight {
    const char *name;
    nnl_dtype dtype;
    int rank;
    int64_t dims[NNL_MAX_RANK];
    nnl_layout layout;
    uint64_t nbytes;
    uint64_t hash;             /* XXH64 (seed 0) of the bytes; computed by nnl_file_write (the given value is ignored); a hint, never proof */
    const void *data;          /* writer: source bytes; reader: into the mapping */
    uint64_t offset;           /* reader: offset in the file */
} nnl_frec_weight;

typedef struct nnl_frec_tensor {
    const char *name;
    nnl_tensor_kind kind;
    nnl_dtype dtype;
    int rank;
    int64_t dims[NNL_MAX_RANK];
    nnl_layout layout;
    uint64_t where;            /* arena offset, or weight index for NNL_TK_WEIGHT */
} nnl_frec_tensor;

typedef struct nnl_frec_node {
    const char *op;
    const char *name;
    int n_in, n_out;
    const int32_t *in;         /* tensor indices of this graph; -1 = omitted */
    const int32_t *out;
    int n_attrs;
    const nnl_attr *attrs;     /* no TENSOR attributes in a file */
    uint64_t scratch_bytes;
    double flops;
} nnl_frec_node;

typedef struct nnl_frec_graph {
    const char *name;
    int n_tensors;
    const nnl_frec_tensor *tensors;
    int n_nodes;
    const nnl_frec_node *nodes;
    int n_inputs, n_outputs;
    const int32_t *inputs;     /* tensor indices */
    const int32_t *outputs;
    uint64_t arena_bytes;
    uint64_t scratch_offset;   /* op scratch region inside the arena */
    int64_t opset;             /* default-domain opset the ops follow */
} nnl_frec_graph;

typedef struct nnl_file {
    uint32_t format_version;   /* ignored by the writer (always writes NNL_FORMAT_VERSION) */
    uint32_t layout_version;
    const char *target;        /* NNL_TARGET_PORTABLE; older files "x86_64" / "aarch64" */
    const char *tool_version;  /* nnlink version that wrote it */
    int n_weights;
    const nnl_frec_weight *weights;
    int n_graphs;
    const nnl_frec_graph *graphs;
    int default_graph;         /* -1 = none */
    /* reader only: owning storage */
    void *map;
    size_t map_size;
    void *arena;               /* allocations of the decoded tables */
} nnl_file;

/* ---- the target field (docs/FORMAT.md, "Portability") ------------------
 * It records what a reader needs beyond the format and layout versions:
 * the byte order of the stored numbers.  Nothing in a file depends on the
 * CPU that compiled it (the packed layouts are defined in floats and
 * dims, kernels/gemm.h; the kernel set is chosen when the file runs), so
 * one file runs on every little-endian CPU.  Files are written with
 * NNL_TARGET_PORTABLE.  Files written before it name the compiling host,
 * "x86_64" or "aarch64": both little-endian, with the same layouts at the
 * same layout version, so they mean exactly NNL_TARGET_PORTABLE.  Any
 * other name is a file this nnlink does not know how to run. */
#define NNL_TARGET_PORTABLE "portable-le"

/* NNL_TARGET_PORTABLE for every name meaning it (the older host names),
 * else target itself: files whose canonical targets are equal can be
 * linked into one. */
const char *nnl_file_target_canon(const char *target);
/* NULL when a file of this target runs on this host, else why not (a
 * static string). */
const char *nnl_file_target_refusal(const char *target);
/* The CPUs a file of this target runs on, for `nnlink info`. */
const char *nnl_file_target_cpus(const char *target);
/* Name of this host's CPU family ("x86_64", "aarch64", ...). */
const char *nnl_file_host_target(void);

/* Write f to path atomically (temporary file in the same folder, fsync,
 * rename).  Weight data comes from weights[i].data. */
nnl_status nnl_file_write(const nnl_file *f, const char *path);

/* Map and validate path.  Every offset and size is bounds-checked; the
 * result's pointers point into the mapping.  Free with nnl_file_close. */
nnl_status nnl_file_read(const char *path, nnl_file **out);
void nnl_file_close(nnl_file *f);

/* Index of the graph called name, or -1. */
int nnl_file_find_graph(const nnl_file *f, const char *name);
/* "a, b, c": the file's graph names for a message, cut to fit cap. */
void nnl_file_graph_names(const nnl_file *f, char *buf, size_t cap);
/* The graph called name; without a name the only graph, else the default
 * one.  NNL_ERR_NOT_FOUND, listing the graphs, when there is none. */
nnl_status nnl_file_pick_graph(const nnl_file *f, const char *name, int *index);

#endif
