/*
 * Window arithmetic of 2-D pools (gemm.h nnl_pool2d), shared by the pool
 * ops (ops/nn/pool.c) and the MaxPool kernels (kernels/maxpool_body.h).
 */
#ifndef NNL_KERNELS_POOL2D_H
#define NNL_KERNELS_POOL2D_H

#include "kernels/gemm.h"

/* Elements from one row buffer to the next: a multiple of 64. */
#define NNL_ROW_STRIDE(w) (((w) + 63) / 64 * 64)

static inline int64_t nnl_div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* First tap index t with start + t*d >= 0, and one past the last with
 * start + t*d < n. */
static inline void nnl_tap_range(int64_t start, int64_t k, int64_t d, int64_t n, int64_t *t0, int64_t *t1) {
    *t0 = start >= 0 ? 0 : (-start + d - 1) / d;
    int64_t hi = start + (k - 1) * d < n ? k : nnl_div_floor(n - 1 - start, d) + 1;
    *t1 = hi < *t0 ? *t0 : hi;
}

/* The MaxPool row buffer holds the padded row: the pads before, the row,
 * and whatever the last window reaches beyond it (end pads, ceil_mode). */
static inline int64_t nnl_pool2d_padded(const nnl_pool2d *g) {
    const int64_t reach = g->out[1] > 0 ? (g->out[1] - 1) * g->s[1] + (g->k[1] - 1) * g->d[1] + 1 : 0;
    return reach > g->pb[1] + g->in[1] ? reach : g->pb[1] + g->in[1];
}

/* Elements of one phase of the row buffer (stride 2 keeps two). */
static inline int64_t nnl_pool2d_phase(int64_t padded) { return NNL_ROW_STRIDE((padded + 1) / 2); }

/* Bytes of one row buffer of elements of esize bytes (room for two phases
 * whatever the stride). */
static inline int64_t nnl_pool2d_scratch_bytes(const nnl_pool2d *g, int64_t esize) {
    return 2 * nnl_pool2d_phase(nnl_pool2d_padded(g)) * esize;
}

#endif
