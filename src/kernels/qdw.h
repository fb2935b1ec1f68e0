/*
 * 8-bit depthwise convolution: the integer form of a depthwise
 * QLinearConv (or DequantizeLinear -> depthwise Conv -> [Relu | Clip] ->
 * QuantizeLinear), group = input channels = output channels, uint8 / int8
 * activations with per-tensor scale and zero point, an int8 weight
 * (C, 1, KH, KW) stored PLAIN with one scale per channel (or one for all)
 * and zero point 0, int32 bias of scale sx * sw[c].  The arithmetic is the
 * 8-bit conv's (kernels/qconv.h): int32 sums of w * (x - zx), then
 *   y = clamp(nearbyintf((float)(acc + bias) * (sx * sw[c] / sy)) + zy)
 * with the multiplier formed in float32 in that order.
 */
#ifndef NNL_KERNELS_QDW_H
#define NNL_KERNELS_QDW_H

#include "kernels/conv.h"

typedef struct nnl_qdw_args {
    const void *x;             /* N x C x H x W, uint8 (int8 when x_signed) */
    bool x_signed;
    int32_t x_zp;
    float x_scale;
    const int8_t *w;           /* C x KH x KW */
    const float *w_scale;      /* C values, or 1 when w_scale_per_tensor */
    bool w_scale_per_tensor;
    const int32_t *bias;       /* C values or NULL */
    void *y;                   /* N x C x OH x OW */
    bool y_signed;
    int32_t y_zp;
    float y_scale;
    int32_t y_min, y_max;      /* clamp in y's type */
} nnl_qdw_args;

/* Whether p is a depthwise conv nnl_qdw2d runs (2-D, one channel a group,
 * strides it can split into phases, a plane that fits the thread scratch). */
bool nnl_qdw_ok(const nnl_conv_params *p);
/* Run; kern NULL = nnl_kernel_get().  Never allocates. */
nnl_status nnl_qdw2d(const nnl_conv_params *p, const nnl_qdw_args *a, const nnl_kernel *kern, nnl_pool *pool,
                     void *const *thread_scratch);
/* The arithmetic above as plain loops, one thread: the tests' reference. */
void nnl_qdw2d_ref(const nnl_conv_params *p, const nnl_qdw_args *a);

#endif
