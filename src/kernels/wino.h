/*
 * Winograd F(4x4, 3x3) convolution for stride-1, group-1 3x3 convs, any
 * dilation and padding.
 *
 * ---- Weight layout NNL_LAYOUT_WINO43 ---------------------------------
 * (Specified for files in docs/FORMAT.md, "Weight layouts", with G's values
 * and the order of its binary64 computation; a change here is a change
 * there and bumps NNL_LAYOUT_VERSION.)
 * For a Conv weight W of dims (OC, IC, 3, 3), U = G W[o][i] G^T is a 6x6
 * matrix per (o, i) (G in wino.c; stored WINO43 is computed in double).  The layout stores
 * 36 matrices U_xi (xi = 6 * row + col of U), each OC x IC in PACK_A8
 * form (kernels/gemm.h), back to back:
 *
 *     packed[xi * P + ((o / 8) * IC + i) * 8 + o % 8] = U[o][i][xi]
 *     P = ceil(OC / 8) * 8 * IC       (rows o >= OC are 0.0f)
 *
 * so its size is 36 * P floats.  Like PACK_A8 it depends on the weight's
 * dims only, never on the input shape or the CPU; U_xi is directly the A
 * operand of the batched GEMM for transform point xi.
 *
 * ---- Weights transformed on the fly ----------------------------------
 * A PACK_A8 conv weight (kernels/gemm.h) holds, per panel of 8 output
 * channels and input channel i, the 9 taps x 8 lanes that U needs, so a
 * conv that nnl_wino_auto accepts transforms them while it runs: each task
 * owns 64 output channels and turns 64 input channels at a time into U
 * (kern->wino_wt, two panels per call) in its thread scratch, then
 * multiplies that chunk.  The transform costs ~1/30 of the products (it is
 * per weight, the products per weight and tile), and the file, the page
 * cache and linking keep the plain-sized weight: WINO43 is 4x larger.
 * Repeated by every block of tiles and bound by writing U, it measured
 * more (4-6% of ResNet-18), so the compiler stores the narrower picks'
 * weights as WINO43 (passes/pack_weights.c) and only convs with >= 256
 * channels in and out (and files from before 2026-12-07) run this way.
 *
 * ---- Execution -----------------------------------------------------------
 * A dilation-d conv is d*d independent undilated convs on the phase
 * sub-grids x[i*d + p][j*d + q]; a tile is (image, phase, 4x4 block of
 * that phase's outputs), so the phases never need copying: the input
 * transform gathers its 6x6 patch with stride d and the output transform
 * scatters with stride d.  Tiles run in blocks of up to NT (a multiple of
 * 48): input transform into V (36 x IC x NT, stored as the GEMM
 * microkernel's B panels, so nothing is repacked), 36 products M_xi =
 * U_xi V_xi by the kernel set's microkernel, output transform with bias,
 * residual and activation fused, writing only the outputs that exist
 * (partial tiles).
 */
#ifndef NNL_KERNELS_WINO_H
#define NNL_KERNELS_WINO_H

#include "kernels/conv.h"

/* Whether the conv's geometry can run on a WINO43 weight: 2-D, 3x3,
 * stride 1, group 1.  (Padding and dilation are free.) */
bool nnl_wino_ok(const nnl_conv_params *p);
/* nnl_conv_params.wino_pick: the compiler records its choice in each 3x3
 * conv with a PACK_A8 weight (attribute nnl_wino, docs/FORMAT.md), since
 * the op's scratch, planned into the file's arena, follows it; files
 * written before 2026-12-04 have none and keep the rule they were
 * planned with. */
enum { NNL_WINO_RULE = 0, NNL_WINO_NO = 1, NNL_WINO_YES = 2 };
/* What the compiler records: whether a conv with a PACK_A8 weight may
 * run as Winograd, its weight transformed on the fly: nnl_wino_ok,
 * dilation <= 4, and >= 64 channels in and out with >= 32 tiles, or >= 32
 * (nnl_wino_narrow) with >= 128 tiles.  NNL_WINOGRAD=0 turns it off,
 * =2 on for every conv nnl_wino_ok accepts (tests use both). */
bool nnl_wino_choose(const nnl_conv_params *p);
/* Fewer than 64 channels on a side: Winograd only on sets with
 * nnl_kernel.wino_narrow (or under NNL_WINOGRAD=2). */
bool nnl_wino_narrow(const nnl_conv_params *p);
/* Whether a conv with a PACK_A8 weight runs as Winograd on kernel set
 * kern: the recorded choice (where nnl_wino_ok holds; a narrow conv only
 * where kern has wino_narrow), else the rule of files without one (>= 256
 * channels in and out, the rest as nnl_wino_choose).  kern NULL: on any
 * set, for sizing scratch (a recorded conv keeps room for both paths, so
 * the file's arena serves every set). */
bool nnl_wino_auto(const nnl_conv_params *p, const nnl_kernel *kern);
/* NNL_WINOGRAD, read once: 0 never Winograd, 1 where it measured faster
 * (the default), 2 wherever the geometry allows; the float convs' and the
 * 8-bit ones' (kernels/qwino.h). */
int nnl_wino_mode(void);
/* Bytes of a WINO43 weight of dims (oc, ic, 3, 3). */
uint64_t nnl_wino_bytes(int64_t oc, int64_t ic);
/* Transform a plain (oc, ic, 3, 3) weight into WINO43 (dst holds
 * nnl_wino_bytes). */
void nnl_wino_pack(float *dst, const float *w, int64_t oc, int64_t ic);
/* Shared scratch the conv needs (V and M of one tile block). */
size_t nnl_wino_scratch_bytes(const nnl_conv_params *p);
/* Run; a->w is WINO43, a->scratch holds nnl_wino_scratch_bytes. */
nnl_status nnl_wino_conv(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                         nnl_pool *pool, void *const *thread_scratch);

#endif
