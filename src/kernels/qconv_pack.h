/*
 * The 8-bit conv driver's plan (qconv_run.c) and the packing of its
 * activations (qconv_pack.c): internal to the two.
 *
 * Convs run on a "wide" pixel grid.  The padded input plane (hp x wp) is
 * split into sh x sw phase planes, phase (ry, rx) holding padded rows ry,
 * ry + sh, ... and columns rx, rx + sw, ..., wq = ceil(wp / sw) columns
 * each (the stride-1 plane is its own single phase).  Output pixel
 * (oy, ox) is virtual pixel f = oy * wq + ox, ox running to wq, past ow.
 * Tap (ic, ky, kx) of f reads phase ((ky dh) % sh, (kx dw) % sw) at
 * f + (ky dh / sh) * wq + kx dw / sw: each im2col row is one contiguous
 * slice, so packing is a plain interleave of four slices with no per-row
 * runs or bounds checks (a 7x7 image has 7-pixel runs; their bookkeeping
 * cost more than the multiply-adds).  The wq - ow virtual columns a row
 * are computed and dropped (3.5% more work at 56x56, 29% at 7x7, 2.7% for
 * the 224x224 stem at stride 2).  Stride 1 without pads reads the image
 * itself; otherwise each task first copies the phase rows it reads (all
 * channels of its group) into its scratch.
 */
#ifndef NNL_KERNELS_QCONV_PACK_H
#define NNL_KERNELS_QCONV_PACK_H

#include "kernels/qconv.h"

/* Pixels per task (at most): with the rows' int32 sums (mc x nc) and the
 * packed block, well inside the thread scratch. */
#define NNL_QNC 384

typedef struct nnl_qconv_ctx {
    const nnl_conv_params *p;
    const nnl_qconv_args *a;
    const nnl_qukr *uk;
    void *const *ts;
    int64_t mg, cg, kk, nq, ohw;
    int64_t npx;               /* pixels the GEMM tiles: ohw, or the wide grid's (oh - 1) * wq + ow */
    int64_t mc, nc, m_tiles, n_tiles, nkb;
    size_t epi_bytes, blk_bytes, sum_bytes, w16_bytes, strip_bytes; /* thread scratch: epilogues, packed
                                                                     * block, sums, int16 weights, strip,
                                                                     * a padded row */
    bool wide;                 /* on the wide grid (else im2col rows gathered per row run) */
    bool strip;                /* wide, from phase rows the task copies (pads or strides) */
    int64_t wq;                /* wide grid row width */
    uint8_t pad;               /* padding tap as stored in x (its zero point's byte) */
    uint32_t flip;             /* 0x80808080 for int8 x: uint8 = x ^ 0x80 */
} nnl_qconv_ctx;

/* Where a task's packing reads the wide grid: tap (ic, ky, kx) of virtual
 * pixel f is base[(ic * sh * sw + phase) * cs + f - f0 + (ky dh / sh) * wq
 * + kx dw / sw]. */
typedef struct nnl_qsrc {
    const uint8_t *base;
    int64_t cs, f0;
} nnl_qsrc;

/* The int16 form of kq quads of one PACK_Q8 panel (nnl_qukr.w16). */
void nnl_qukr_w16(int16_t *dst, const int8_t *w, int64_t kq);

/* Phase rows of the wide grid a task with virtual pixels [n0, n0 + cnt)
 * reads (the strip's height). */
int64_t nnl_qstrip_rows(const nnl_qconv_ctx *q, int64_t n0, int64_t cnt);
/* The task's source on the wide grid; with a strip, its phase rows copied
 * into strip (cg x sh x sw planes of nnl_qstrip_rows x wq bytes), row
 * holding a padded input row (sw * wq bytes). */
nnl_qsrc nnl_qsrc_make(const nnl_qconv_ctx *q, uint8_t *strip, uint8_t *row, const uint8_t *xg, int64_t n0,
                       int64_t cnt);
/* Quads [q0, q0 + kqc) of im2col(X_g) for pixels [n0, n0 + cnt) into
 * nr-pixel panels of kqc x nr x 4 bytes; pixels past cnt are zeros.  On
 * the wide grid the rows come from src, else gathered from xg. */
void nnl_qpack_block(const nnl_qconv_ctx *q, uint8_t *dst, const nnl_qsrc *src, const uint8_t *xg, int64_t q0,
                     int64_t kqc, int64_t n0, int64_t cnt);

#endif
