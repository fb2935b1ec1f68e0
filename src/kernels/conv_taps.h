/*
 * Dilated convs on small maps as one 1x1 conv a tap over the outputs
 * where the tap reads inside the image (kernels/conv_taps.c): only the
 * live multiply-adds run.  Used by nnl_conv2d_direct where it pays.
 */
#ifndef NNL_KERNELS_CONV_TAPS_H
#define NNL_KERNELS_CONV_TAPS_H

#include "kernels/conv.h"

/* The outputs o0 <= o < o1 of one axis whose tap t (dilation d, stride s,
 * leading pad) reads inside an input of `in` (o1 <= o0: none): the live
 * range the trim (conv.c) and the taps both go by. */
static inline void nnl_tap_outputs(int64_t t, int64_t d, int64_t s, int64_t pad, int64_t in, int64_t out,
                                   int64_t *o0, int64_t *o1) {
    int64_t c = t * d - pad;   /* input index of output 0 */
    int64_t lo = c >= 0 ? 0 : (-c + s - 1) / s, hi = in - 1 - c >= 0 ? (in - 1 - c) / s + 1 : 0;
    *o0 = lo;
    *o1 = hi < lo ? lo : hi > out ? out : hi;
}

/* Whether p runs by taps: a dilated conv of one group, PLAIN or PACK_A8
 * weight, no input channel scale, at most 49 taps, with a quarter or more
 * of its multiply-adds on padding even when trimmed to its live tap rows
 * and columns. */
bool nnl_conv_taps_pays(const nnl_conv_params *p, nnl_layout w_layout);
/* The op's scratch it needs (depends on the shape only). */
size_t nnl_conv_taps_scratch_bytes(const nnl_conv_params *p);
/* Run (kern not NULL); the scratch must hold nnl_conv_taps_scratch_bytes. */
nnl_status nnl_conv_taps_run(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                             nnl_pool *pool, void *const *thread_scratch);

#endif
