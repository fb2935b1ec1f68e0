/*
 * bench_kernels' pieces: the kernel classes, the table of cases that
 * exercise them, and the machine's ceilings per kernel set.
 *
 * Adding a class is one kb_class entry (kb_classes.c: how to set a case up
 * and run it, which ceiling bounds it, the share of it issue 10 asks for)
 * and its rows in kb_cases.c.  Every case runs on the calling thread (pool
 * NULL) with the kernel set nnl_kernel_get() picks, so its time compares
 * with the ceilings of one core in that set's vector width.
 */
#ifndef NNL_BENCH_KB_H
#define NNL_BENCH_KB_H

#include "kernels/wino.h"

/* One row: a kernel call at one shape.  The fields read as a conv's (input
 * c x h x w, oc output channels, k x k window, stride s, padding pad,
 * dilation dil, group); a GEMM row is the 1x1 conv it equals, M = h * w,
 * K = c, N = oc.  Classes that run an ONNX op through the registry (pooling,
 * elementwise, MatMul) name it in op. */
typedef struct kb_case {
    const char *cls, *name, *op;
    int64_t c, h, w, oc, k, s, pad, dil, group;
} kb_case;

extern const kb_case kb_cases[];   /* ended by a NULL cls */

#define KB_MAX_BUFS 8
#define KB_MAX_IN 3
#define KB_MAX_ATTRS 4

/* A case made ready to run: its operands and what one call moves and
 * computes (bytes: inputs + outputs + weights, each once, unpadded). */
typedef struct kb_run {
    const kb_case *kc;
    void *const *tscratch;      /* one NNL_THREAD_SCRATCH_BYTES buffer */
    double flops, bytes;
    void *bufs[KB_MAX_BUFS];    /* owned, freed by kb_run_free (one more reads as out of memory) */
    int n_bufs;
    /* conv classes (nnl_conv2d_direct / nnl_wino_conv) */
    nnl_conv_params p;
    nnl_conv_args a;
    /* microkernel alone (kernel set's ukr over one L1-resident B panel) */
    const nnl_kernel *kern;
    nnl_ukr_args u;
    nnl_epilogue epi;
    int64_t rows;               /* of A and C, whole panels */
    /* op classes (registry infer + exec) */
    const nnl_op_def *def;
    nnl_op_call call;
    nnl_tensor t_in[KB_MAX_IN], t_out;
    nnl_tensor *in[KB_MAX_IN], *out[1];
    nnl_attr attrs[KB_MAX_ATTRS];
    int64_t ints[KB_MAX_ATTRS][4];
} kb_run;

typedef enum kb_bound {
    KB_FMA,                     /* compute-bound: FLOPs against the FMA ceiling */
    KB_MEM                      /* memory-bound: bytes against the DRAM bandwidth */
} kb_bound;

typedef struct kb_class {
    const char *name;
    kb_bound bound;
    double need;                /* share of the bound to reach (PASS / SHORT) */
    bool issue;                 /* need is issue 10's; else the rule of its bound, by analogy */
    nnl_status (*setup)(kb_run *r);
    nnl_status (*run)(kb_run *r);
} kb_class;

extern const kb_class kb_classes[]; /* ended by a NULL name */
const kb_class *kb_class_find(const char *name);
/* r->kc and r->tscratch set: allocate and fill the operands. */
nnl_status kb_run_setup(kb_run *r, const kb_class *cls);
void kb_run_free(kb_run *r);

/* The ceiling loops of one kernel set, compiled with its -m flags
 * (kb_ceil_<set>.c over kb_ceil_body.h). */
typedef struct kb_ceil {
    const char *set;            /* a kernel set's name (struct nnl_kernel) */
    const char *how;            /* the instruction the FMA loop runs */
    int lanes, acc;             /* floats per vector, independent accumulators */
    /* iters x acc vector multiply-adds (fused where the set has FMA);
     * returns a checksum so nothing is optimised away */
    float (*fma)(int64_t iters);
    /* y[i] = s * x[i], n a multiple of 16: a streaming read + write */
    void (*scale)(float *y, const float *x, int64_t n, float s);
} kb_ceil;

/* The ceiling loops of set `name`, NULL if none was built. */
const kb_ceil *kb_ceil_find(const char *name);

#endif
