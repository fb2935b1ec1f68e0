/* Plan (opened file) and session internals shared by the runtime files. */
#ifndef NNL_RUNTIME_H
#define NNL_RUNTIME_H

#include "format/nnl_file.h"

struct nnl_plan {
    nnl_file *f;
    uint64_t *graph_weight_bytes;  /* per graph, bytes of weights it references */
    uint8_t *uses;                 /* [weight * n_graphs + graph] = 1 if used */
    double open_ms;
    /* Opened by nnl_plan_open_inspect though compiled for another target or
     * layout version: readable, not runnable; why says so. */
    char *foreign;
};

/* The payload contracts kernels rely on (runtime/payloads.c), for
 * nnl_plan_verify after the checksums. */
nnl_status nnl_plan_check_payloads(const nnl_file *f);

#endif
