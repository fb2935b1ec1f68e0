/*
 * Internal core types shared by the compiler, the runtime and the kernels:
 * errors, tensors, attributes, the op interface and the thread pool.
 */
#ifndef NNL_CORE_H
#define NNL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nnlink.h"

/* Most elements any tensor may have (the product of its non-zero dims):
 * every op's shape inference refuses larger outputs (nnl_op_set_out),
 * compile refuses larger values, and nnl_tensor_nbytes_checked (so the
 * .nnl writer and reader) refuses every tensor over it, whatever its
 * layout.  Below it, element size and layout padding cannot overflow
 * 64-bit byte counts. */
#define NNL_MAX_ELEMS ((uint64_t)1 << 48)

/* ---- errors ---------------------------------------------------------- */

/* Record a printf-style message as this thread's last error and return s. */
nnl_status nnl_fail(nnl_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prepend context ("while compiling node X: ") to the current message. */
nnl_status nnl_fail_context(nnl_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copy s into buf[n] with every byte that is not valid UTF-8 or that a
 * terminal may act on written as \xNN (see error.c); buf is returned,
 * cut at a character boundary when it is too small.  Every nnl_fail message
 * passes through it; the CLI uses it for names it prints itself. */
const char *nnl_escape(const char *s, char *buf, size_t n);

/* Append ", " (unless first) and s, quoted when quote is set, to the list
 * being built in buf[n] for an error message; *used tracks its length and
 * the text is cut, never overrun, when it does not fit. */
void nnl_msg_list_add(char *buf, size_t n, size_t *used, const char *s, bool quote);

/* ---- checked arithmetic: every size read from a file goes through here */

static inline bool nnl_mul_overflow_u64(uint64_t a, uint64_t b, uint64_t *r) {
    return __builtin_mul_overflow(a, b, r);
}
static inline bool nnl_add_overflow_u64(uint64_t a, uint64_t b, uint64_t *r) {
    return __builtin_add_overflow(a, b, r);
}

/* Greatest common divisor of a, b >= 0 (gcd(a, 0) = a): tasks that
 * divide evenly among threads. */
static inline int64_t nnl_gcd64(int64_t a, int64_t b) {
    while (b) {
        const int64_t r = a % b;
        a = b, b = r;
    }
    return a;
}

/* ---- a prefetch the compiler keeps ------------------------------------
 * p's cache line into L2 (a hint: never faults, any address).  GCC 12
 * treats __builtin_prefetch as free of side effects: a static function
 * that only prefetched was removed with its calls (a weight prefetch of
 * gemm.c's transposed tile had compiled to nothing); an asm statement
 * stays. */
static inline void nnl_prefetch_l2(const void *p) {
#if defined(__x86_64__)
    __asm__ __volatile__("prefetcht1 (%0)" : : "r"(p));
#elif defined(__aarch64__)
    __asm__ __volatile__("prfm pldl2keep, [%0]" : : "r"(p));
#else
    __builtin_prefetch(p, 0, 2);
#endif
}

/* The lines of [p, p + bytes) into L2, from the one holding p. */
static inline void nnl_prefetch_l2_range(const void *p, size_t bytes) {
    for (size_t b = 0; b < bytes; b += 64) nnl_prefetch_l2((const char *)p + b);
}

/* ---- allocation: one place, so tests can inject failures -------------- */

void *nnl_malloc(size_t n);
void *nnl_calloc(size_t n, size_t size);
void *nnl_realloc(void *p, size_t n);
void nnl_free(void *p);
char *nnl_strdup(const char *s);
/* 64-byte aligned allocation (free with nnl_aligned_free). */
void *nnl_aligned_alloc(size_t n);
void nnl_aligned_free(void *p);
/* Page-aligned, zero-filled memory for activation arenas (mmap). */
void *nnl_arena_alloc(size_t n);
void nnl_arena_free(void *p, size_t n);
/* mmap of n bytes (anonymous and writable when fd < 0, else fd's first n
 * bytes, read-only, private): from 2 MB on at a 2 MB-aligned address with
 * the transparent huge page advice.  MAP_FAILED (errno set) on failure;
 * release with munmap(p, n). */
void *nnl_map_aligned(size_t n, int fd);
/* Test hook: the n-th allocation from now fails (0 = never). */
void nnl_alloc_fail_at(long n);

/* ---- tensors --------------------------------------------------------- */

/* Physical layout of a tensor's bytes.  Weight layouts never depend on the
 * input shape of a graph: that is what lets the linker share them. */
typedef enum nnl_layout {
    NNL_LAYOUT_PLAIN = 0,      /* dense row-major, the ONNX layout */
    NNL_LAYOUT_PACK_A8 = 1,    /* GEMM "A" operand in 8-row panels, see kernels/gemm.h */
    NNL_LAYOUT_WINO43 = 2,     /* 3x3 conv weight Winograd-transformed, see kernels/wino.h */
    NNL_LAYOUT_PACK_A8T = 3,   /* PACK_A8 of a rank-2 weight's transpose, see kernels/gemm.h */
    NNL_LAYOUT_PACK_Q8 = 4     /* int8 weight with its scales in 8-row panels, see kernels/qconv.h */
} nnl_layout;

/* "plain", "pack_a8", "wino43", "pack_a8t", "pack_q8" (static). */
const char *nnl_layout_name(nnl_layout l);

#define NNL_ALIGN 64

typedef struct nnl_tensor {
    nnl_dtype dtype;
    int rank;
    int64_t dims[NNL_MAX_RANK];
    nnl_layout layout;
    void *data;                /* NULL while unknown (compile time) */
} nnl_tensor;

int64_t nnl_tensor_numel(const nnl_tensor *t);
/* Bytes of the tensor's data including layout padding.  For tensors
 * already known valid (see nnl_tensor_nbytes_checked). */
size_t nnl_tensor_nbytes(const nnl_tensor *t);
/* The one validating size function: bytes of a dtype/shape/layout, or
 * false for an unknown dtype or layout, a rank outside 0..NNL_MAX_RANK, a
 * negative dim, more than NNL_MAX_ELEMS elements (product of the non-zero
 * dims) or a layout the dtype or shape does not suit (docs/FORMAT.md,
 * "Weight layouts"). */
bool nnl_tensor_nbytes_checked(nnl_dtype dt, int rank, const int64_t *dims, nnl_layout layout,
                               uint64_t *out);
/* IEEE binary16 (stored as its bit pattern) to float, exact for every
 * input: subnormals, infinities, NaN payloads (quieted as the hardware
 * conversions do).  To binary16: rounded to nearest, ties to even, in one
 * step (a float converts to double exactly); beyond the largest half
 * (65504, and 65520 rounds up) gives infinity.  src/core/half.c. */
float nnl_half_to_float(uint16_t h);
uint16_t nnl_double_to_half(double d);
/* "1x3x224x224" into buf. */
const char *nnl_shape_str(const nnl_tensor *t, char *buf, size_t n);

/* ---- attributes ------------------------------------------------------ */

typedef enum nnl_attr_type {
    NNL_ATTR_INT = 1,
    NNL_ATTR_FLOAT = 2,
    NNL_ATTR_STRING = 3,
    NNL_ATTR_INTS = 4,
    NNL_ATTR_FLOATS = 5,
    NNL_ATTR_TENSOR = 6,       /* compile time only (Constant, ConstantOfShape) */
    NNL_ATTR_STRINGS = 7
} nnl_attr_type;

typedef struct nnl_attr {
    const char *name;
    nnl_attr_type type;
    int64_t i;
    float f;
    const char *s;             /* STRING (NUL-terminated) */
    int n;                     /* element count of INTS / FLOATS / STRINGS */
    const int64_t *ints;
    const float *floats;
    const nnl_tensor *t;       /* TENSOR */
    /* STRINGS: n NUL-terminated strings.  In the IR one allocation holds
     * the pointers and the bytes (nnl_attr_copy); in a plan they point
     * into the mapped string table. */
    const char *const *strs;
} nnl_attr;

/* ---- ops -------------------------------------------------------------- */

typedef struct nnl_pool nnl_pool;

/* One call of an op: the same structure serves shape inference at compile
 * time, constant folding and execution at run time. */
typedef struct nnl_op_call {
    const char *op;            /* op type, e.g. "Conv" */
    const char *node;          /* node name for messages */
    const nnl_attr *attrs;
    int n_attrs;
    nnl_tensor *const *in;     /* in[i] == NULL for an omitted optional input */
    int n_in;
    nnl_tensor *const *out;
    int n_out;
    int64_t opset;             /* default-domain opset of the source model */
    /* run time only */
    nnl_pool *pool;
    void *scratch;             /* scratch_bytes from infer, 64-byte aligned */
    void *const *thread_scratch; /* per pool thread, NNL_THREAD_SCRATCH_BYTES each */
} nnl_op_call;

/* Fail with "<op> node '<name>': <message>": the one error form of every
 * op family (ops/op_util.h has the helpers built on it). */
nnl_status nnl_op_fail(const nnl_op_call *c, nnl_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Per-thread scratch every session allocates once (packing buffers of the
 * GEMM).  Kernels must not need more. */
#define NNL_THREAD_SCRATCH_BYTES ((size_t)2 << 20)

/* Activation fused into Conv / Gemm / MatMul by the compiler: attribute
 * "nnl_act" (int) with parameters "nnl_act_a" and "nnl_act_b" (floats),
 * applied after bias and residual: y = act(op(x) + bias + residual). */
typedef enum nnl_act {
    NNL_ACT_NONE = 0,
    NNL_ACT_RELU = 1,
    NNL_ACT_CLIP = 2,          /* min a, max b */
    NNL_ACT_SIGMOID = 3,
    NNL_ACT_HARDSIGMOID = 4,   /* max(0, min(1, a*x + b)) */
    NNL_ACT_HARDSWISH = 5,     /* x * max(0, min(1, x/6 + 1/2)) */
    NNL_ACT_LEAKYRELU = 6,     /* slope a */
    NNL_ACT_SILU = 7,          /* x * sigmoid(x): Sigmoid + Mul as PyTorch exports SiLU */
    NNL_ACT_GELU = 8           /* x / 2 (1 + erf(x / sqrt 2)): PyTorch's GELU export (Div, Erf, Add,
                                * Mul, Mul); Gemm and MatMul only (Conv refuses it) */
} nnl_act;

typedef struct nnl_infer_result {
    size_t scratch_bytes;      /* shared scratch the exec needs */
    double flops;              /* for profiling */
    /* The output is input 0's bytes from byte view_at on, as they lie (a
     * Slice of one contiguous block): the arena may place it there and
     * the exec then copies nothing (passes/arena.c plan_views). */
    bool view;
    uint64_t view_at;
} nnl_infer_result;

typedef struct nnl_op_def {
    const char *name;
    /* Compile time: check attributes (refusing unknown or unsupported ones
     * with NNL_ERR_UNSUPPORTED), check input dtypes/shapes and set every
     * output's dtype, rank and dims.  in[i]->data is non-NULL only for
     * constant inputs; an op whose output shape depends on input values
     * must fail when they are not constant. */
    nnl_status (*infer)(nnl_op_call *c, nnl_infer_result *r);
    /* Run: all data pointers set; outputs do not alias inputs. */
    nnl_status (*exec)(const nnl_op_call *c);
} nnl_op_def;

/* ops/ops.h has the registry: nnl_op_find and the domain tables. */

/* Attribute access (NULL/default if absent).  nnl_attr_check fails with
 * NNL_ERR_UNSUPPORTED naming the first attribute not in `known`
 * (a NULL-terminated list). */
const nnl_attr *nnl_attr_get(const nnl_op_call *c, const char *name);
int64_t nnl_attr_int(const nnl_op_call *c, const char *name, int64_t def);
float nnl_attr_float(const nnl_op_call *c, const char *name, float def);
const char *nnl_attr_str(const nnl_op_call *c, const char *name, const char *def);
nnl_status nnl_attr_check(const nnl_op_call *c, const char *const *known);

/* ---- thread pool ------------------------------------------------------ */

/* fn(ctx, i, thread) for i in [0, n); blocks until all are done.  Runs on
 * the caller's thread when pool is NULL or has one thread. */
typedef void (*nnl_pool_fn)(void *ctx, int64_t i, int thread);
nnl_status nnl_pool_create(int n_threads, nnl_pool **out);
void nnl_pool_free(nnl_pool *p);
int nnl_pool_threads(const nnl_pool *p);
void nnl_pool_run(nnl_pool *p, int64_t n, nnl_pool_fn fn, void *ctx);
/* Profiling: while first/busy (arrays of nnl_pool_threads entries) are set,
 * each thread records in first[t] the start of its first item (if first[t]
 * < 0) and adds its busy time to busy[t].  NULL, NULL stops recording.
 * Work run inline (pool NULL or one thread) is not recorded. */
void nnl_pool_trace(nnl_pool *p, double *first, double *busy);

/* ---- misc ------------------------------------------------------------- */

uint64_t nnl_hash64(const void *data, size_t n);   /* FNV-1a / xxhash-like, not cryptographic */
double nnl_now_ms(void);

#endif
