/*
 * The one convolution geometry: Conv, ConvTranspose, ConvInteger and
 * QLinearConv read kernel_shape, strides, dilations, pads, group and
 * auto_pad here (ConvTranspose also output_padding and output_shape), so
 * they accept and refuse the same attributes; the pooling ops share the
 * auto_pad reading.
 */
#ifndef NNL_OPS_CONV_GEOM_H
#define NNL_OPS_CONV_GEOM_H

#include "kernels/conv.h"
#include "ops/op_util.h"

typedef enum nnl_auto_pad {
    NNL_AUTO_PAD_NOTSET = 0,   /* explicit pads (also the empty string) */
    NNL_AUTO_PAD_VALID,
    NNL_AUTO_PAD_SAME_UPPER,   /* the odd padding unit goes at the end */
    NNL_AUTO_PAD_SAME_LOWER
} nnl_auto_pad;

/* The auto_pad attribute (NOTSET when absent); other values fail with
 * NNL_ERR_UNSUPPORTED. */
nnl_status nnl_conv_auto_pad(const nnl_op_call *c, nnl_auto_pad *ap);

/* auto_pad SAME_*: out = ceil(in / s) and the total padding that takes for a
 * kernel extent ext, split with the odd unit at the end (upper) or at the
 * start; never negative. */
void nnl_conv_same_pads(int64_t in, int64_t ext, int64_t s, bool upper, int64_t *out, int64_t *pb,
                        int64_t *pe);

/* Geometry of the 1-D or 2-D convolution of x by w, from their shapes and
 * the node's attributes, in the 2-D form of nnl_conv_params (a 1-D conv is
 * one of height 1).  The weight is (oc, c/group, k...) for a convolution,
 * (c, oc/group, k...) when `transposed`; then pt/pl are the pads the
 * transposed conv removes from its full output and pb/pr are unused.
 * Kernel, stride and dilation are kept within [1, 2^20] and pads within
 * [0, 2^20]: within those bounds no geometry arithmetic can overflow. */
nnl_status nnl_conv_geometry(const nnl_op_call *c, const nnl_tensor *x, const nnl_tensor *w,
                             bool transposed, nnl_conv_params *p);

#endif
