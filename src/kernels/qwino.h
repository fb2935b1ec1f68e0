/*
 * 8-bit Winograd F(2x2, 3x3) for QLinearConv: 3x3 kernels, stride 1, one
 * group, any dilation and padding, on the PACK_Q8 weight (transformed on
 * the fly, as the float Winograd does: no layout of its own, so linking
 * and files are unchanged).  Exact: the same bytes as nnl_qconv2d_ref.
 *
 * In integers, with G' = 2 G (G, B and A of Lavin's F(2x2, 3x3)) every
 * transform has integer entries: U' = G' g G'^T = 4 U, V = B^T d B on d =
 * x - zx, and A^T (sum over channels of U' . V) A = 4 Y exactly, Y the
 * conv's sum of w (x - zx).  The arithmetic is that of the ring Z / 2^32
 * (int32 lanes that wrap), so 4 Y comes out right whatever the
 * intermediate sums do, as long as 4 Y itself fits an int32: |Y| <= 9 C
 * 255 wmax < 2^29 (wmax 64 for 7-bit weights, 128 for int8), which
 * nnl_qwino_ok checks; Y is then 4 Y >> 2, and the epilogue adds the bias
 * and requantizes as every 8-bit conv does (nnl_requant).  U' (|.| <=
 * 1152) and V (|.| <= 4 x 255) are int16, so the products are pairs of
 * int16 multiply-adds (AVX2 vpmaddwd: 16 per instruction, as vpmaddubsw's
 * 32 byte products cost two instructions), 16 per output tile of 4
 * instead of 36 products: 2.25x fewer.  Where the set's 8-bit microkernel
 * has no dot product instruction of its own, this is the faster conv on
 * maps wide enough (nnl_qukr.wino_ow).
 *
 * A dilation-d conv is d x d independent undilated convs on the phase
 * sub-grids (outputs oy = py + d a, ox = px + d b): a tile is (image,
 * phase, 2x2 block of the phase's outputs), its 4x4 input window read at
 * stride d.
 */
#ifndef NNL_KERNELS_QWINO_H
#define NNL_KERNELS_QWINO_H

#include "kernels/qconv.h"

/* Whether nnl_qwino_conv runs this conv exactly (w7: the weight's values
 * lie within [-64, 64]). */
bool nnl_qwino_ok(const nnl_conv_params *p, bool w7);
/* Whether it also pays against microkernel uk (nnl_qukr.wino_ow): a
 * phase's outputs (every d-th of a dilation-d conv) at least uk->wino_ow
 * wide and half that high. */
bool nnl_qwino_pays(const nnl_conv_params *p, const nnl_qukr *uk);
/* The conv on kern's Winograd (kern->qwino non-NULL); a as nnl_qconv2d's,
 * its w PACK_Q8. */
nnl_status nnl_qwino_conv(const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_kernel *kern, nnl_pool *pool,
                          void *const *thread_scratch);

#endif
