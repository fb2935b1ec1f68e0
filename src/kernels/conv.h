/*
 * 2-D convolution, NCHW float32 (Conv1d is h = kh = 1).  Two algorithms:
 *   - implicit GEMM per (image, group): C (OC/g x OH*OW) = W_g (OC/g x
 *     C/g*KH*KW) * im2col(X_g), im2col done while packing B, so no column
 *     buffer; 1x1 / stride 1 / no pad reads X as B directly;
 *   - depthwise (group == C == OC): channels in the vector lanes
 *     (kernels/dwc_body.h, driven by conv.c);
 *   - Winograd F(4x4, 3x3) (kernels/wino.h) when the weight is WINO43:
 *     the pack pass chose it, and a WINO43 weight can only run that way.
 * Dilated convs on small maps run only their live taps: trimmed to the
 * box of taps any output reads (conv.c), or one GEMM a tap over the
 * outputs where it is live (kernels/conv_taps.h).
 */
#ifndef NNL_KERNELS_CONV_H
#define NNL_KERNELS_CONV_H

#include "kernels/gemm.h"

typedef struct nnl_conv_params {
    int64_t n, c, h, w;        /* input */
    int64_t oc, kh, kw;        /* weight (oc, c/group, kh, kw) */
    int64_t group;
    int64_t sh, sw, dh, dw;
    int64_t pt, pl, pb, pr;    /* explicit pads after auto_pad resolution */
    int64_t oh, ow;
    /* the conv takes an input channel scale (nnl_conv_args.x_scale): only
     * its scratch size depends on it */
    bool x_scaled;
    /* the compiler's Winograd choice (the node's nnl_wino attribute), or
     * NNL_WINO_RULE where the file has none (kernels/wino.h) */
    int wino_pick;
} nnl_conv_params;

typedef struct nnl_conv_args {
    const float *x;
    const float *w;
    nnl_layout w_layout;       /* PLAIN, PACK_A8 (see gemm.h) or WINO43 (wino.h) */
    const uint16_t *wh;        /* instead of w: the weight in float16, same layout */
    const float *bias;         /* oc values or NULL */
    const float *res;          /* same shape as y or NULL */
    /* x scaled by x_scale[img * c + ic] per image and input channel before
     * the conv, or NULL; implicit-GEMM path only (not depthwise/Winograd) */
    const float *x_scale;
    float *y;
    nnl_act act;
    float act_a, act_b;
    void *scratch;             /* c->scratch of nnl_conv_scratch_bytes, may be NULL */
    size_t scratch_bytes;
    /* the weight by taps (passes/trim_taps.c, Conv's nnl_taps): tap t =
     * ky * kw + kx is rows [t oc, (t + 1) oc) of a (kh kw oc) x c matrix,
     * PLAIN or PACK_A8 (oc a multiple of 8); only the conv by taps reads
     * it (kernels/conv_taps.h) */
    bool w_taps;
} nnl_conv_args;

bool nnl_conv_is_depthwise(const nnl_conv_params *p);
/* The box of taps any output reads: rows y0 .. y0 + ny - 1, columns
 * x0 .. x0 + nx - 1 of the kernel. */
typedef struct nnl_tap_box {
    int64_t y0, ny, x0, nx;
} nnl_tap_box;
/* Whether p (not depthwise) has dead taps around a box of live ones; then
 * fills the box and q, p as the conv of that box (same output; pads
 * shrunk by the dead rows and columns).  The compiler trims constant
 * weights this way (passes/trim_taps.c); the run trims the others. */
bool nnl_conv_trim(const nnl_conv_params *p, nnl_tap_box *b, nnl_conv_params *q);
/* Whether a PACK_A8 weight can serve this conv (groups on panel bounds). */
bool nnl_conv_a8_ok(const nnl_conv_params *p);
/* Shared scratch that speeds up this conv (0 if none helps). */
size_t nnl_conv_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout);
/* Scratch of the implicit-GEMM / depthwise paths alone. */
size_t nnl_conv_direct_scratch_bytes(const nnl_conv_params *p, nnl_layout w_layout);
/* Run; kern NULL = nnl_kernel_get().  Winograd when the weight is WINO43
 * or nnl_wino_auto picks it for PACK_A8 on kern, else nnl_conv2d_direct. */
nnl_status nnl_conv2d(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern, nnl_pool *pool,
                      void *const *thread_scratch);

/* The implicit-GEMM / depthwise paths only (benchmarks compare them with
 * Winograd on the same PACK_A8 weight). */
nnl_status nnl_conv2d_direct(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                             nnl_pool *pool, void *const *thread_scratch);

#endif
