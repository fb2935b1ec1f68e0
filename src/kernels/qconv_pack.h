/*
 * The 8-bit conv driver's plan (qconv_run.c) and the staging of its
 * activations (qconv_pack.c): internal to the 8-bit drivers.
 *
 * PACK_Q8 takes K as quads of 4 input channels at one tap (kernels/
 * qconv.h), so the microkernel's operand for quad (channel quad c4, tap)
 * is 4 channels of nr consecutive output pixels, interleaved.  Convs run
 * on a "wide" pixel grid where every tap of a pixel run is one contiguous
 * run: the padded input plane (hp x wp) is split into sh x sw phase
 * planes, phase (ry, rx) holding padded rows ry, ry + sh, ... and columns
 * rx, rx + sw, ..., wq = ceil(wp / sw) columns each (stride 1: one phase).
 * Output pixel (oy, ox) is virtual pixel f = oy * wq + ox, ox running to
 * wq, past ow; tap (ky, kx) of f reads phase ((ky dh) % sh, (kx dw) % sw)
 * at f + (ky dh / sh) * wq + kx dw / sw.  So a task stages, per K block,
 * the block's channel quads once, as phase planes interleaved by 4
 * channels ([c4][phase][pixel][4 bytes], the "strip"), and the
 * microkernel reads every tap's operand in place at its offset: the
 * staging costs the input's bytes once instead of im2col's once per tap.
 * The wq - ow virtual columns a row are computed and dropped (3.5% more
 * work at 56x56, 29% at 7x7).  Stride 1 without pads stages the image's
 * pixels as they are; otherwise the strip holds the phase rows the task
 * reads.  When the grid does not fit (output size other than the grid's,
 * strides over NNL_QPH_MAX, a strip over the scratch) the task packs
 * im2col panels quad after quad instead (same operand, offsets q * nr *
 * 4).
 */
#ifndef NNL_KERNELS_QCONV_PACK_H
#define NNL_KERNELS_QCONV_PACK_H

#include <string.h>

#include "kernels/qconv.h"

/* Pixels per task (at most): with the rows' int32 sums (mc x nc) and the
 * staged block, well inside the thread scratch. */
#define NNL_QNC 384
/* Phases a dimension may have on the wide grid (its stride). */
#define NNL_QPH_MAX 16

typedef struct nnl_qconv_ctx {
    const nnl_conv_params *p;
    const nnl_qconv_args *a;
    const nnl_qukr *uk;
    void *const *ts;
    int64_t mg, cg, cq, khw, nq, ohw;  /* cq channel quads, khw taps, nq = cq * khw quads */
    int64_t npx;               /* pixels the GEMM tiles: ohw, or the wide grid's (oh - 1) * wq + ow */
    int64_t npan;              /* nr-pixel panels of npx */
    int64_t mc, nc, m_tiles, n_tiles, nkb; /* nc: pixels of the largest pixel tile */
    /* thread scratch: epilogues, staged block, sums, int16 weights, quad
     * offsets, row buffers, the transposed tiles' pixel offsets */
    size_t epi_bytes, blk_bytes, sum_bytes, wp_bytes, off_bytes, row_bytes, pix_bytes;
    bool wide;                 /* on the wide grid (else im2col panels gathered per row run) */
    bool strip;                /* wide, from phase rows (pads or strides); else the image's pixels */
    int64_t wq;                /* wide grid row width */
    int64_t spx;               /* pixels a task stages a plane: nnl_qstage_pixels of the worst task */
    int64_t cs;                /* pixels from a staged plane to the next: nnl_qstage_stride(spx) */
    int nphy, nphx;            /* phase rows and columns some tap reads */
    int8_t phy[NNL_QPH_MAX], phx[NNL_QPH_MAX]; /* their index among those, -1 if none reads it */
    uint8_t pad;               /* padding tap as stored in x (its zero point's byte) */
    uint32_t flip;             /* 0x80808080 for int8 x: uint8 = x ^ 0x80 */
    /* Transposed tiles (nnl_qukr.tfn, qconv_run.c): tasks are (image,
     * group, one of `chunks` runs of 16-channel units); pixels go in
     * groups of grp real ones.  Over a shared staging, tasks are (one of
     * `chunks` channel tiles, one of npr ranges of pixel groups). */
    bool tr;
    int64_t chunks, grp, npr;
} nnl_qconv_ctx;

/* A task's staged K block: channel quads [c4a, c4b) as planes of q->cs
 * pixels (4 bytes each) from virtual pixel f0, plane (c4 - c4a) * nph +
 * phase index: the same offsets for every block and task. */
typedef struct nnl_qstage {
    const uint8_t *base;
    int64_t f0;
} nnl_qstage;

/* memcpy of a run of an image row (tens of bytes: a library call per run
 * cost as much as the copy), in 16-byte pieces, the last one overlapping;
 * 4 to 15 bytes (7x7 and 14x14 maps' rows) as two overlapping words. */
static inline void nnl_copy_run(uint8_t *dst, const uint8_t *src, int64_t n) {
    if (n < 16) {
        if (n >= 8) {
            uint64_t a, b;
            memcpy(&a, src, 8);
            memcpy(&b, src + n - 8, 8);
            memcpy(dst, &a, 8);
            memcpy(dst + n - 8, &b, 8);
        } else if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, src, 4);
            memcpy(&b, src + n - 4, 4);
            memcpy(dst, &a, 4);
            memcpy(dst + n - 4, &b, 4);
        } else {
            for (int64_t j = 0; j < n; j++) dst[j] = src[j];
        }
        return;
    }
    for (int64_t j = 0; j + 16 < n; j += 16) memcpy(dst + j, src + j, 16);
    memcpy(dst + n - 16, src + n - 16, 16);
}

/* memset for the few pad bytes a row has (a library call cost more):
 * 8 to 31 bytes as two overlapping stores of 8 or 16. */
static inline void nnl_fill(uint8_t *dst, uint8_t v, int64_t n) {
    if (n >= 32) {
        memset(dst, v, (size_t)n);
        return;
    }
    if (n >= 16) {
        uint8_t b[16];
        memset(b, v, 16);
        memcpy(dst, b, 16);
        memcpy(dst + n - 16, b, 16);
        return;
    }
    if (n >= 8) {
        uint64_t b = 0x0101010101010101u * v;
        memcpy(dst, &b, 8);
        memcpy(dst + n - 8, &b, 8);
        return;
    }
    for (int64_t j = 0; j < n; j++) dst[j] = v;
}

/* Even and odd bytes of src[0 .. 2n) into e and o: the two column phases
 * of a stride-2 row (also the 8-bit depthwise conv's, kernels/qdw.c). */
void nnl_split2(uint8_t *e, uint8_t *o, const uint8_t *src, int64_t n);

/* Epilogues (nnl_qepi, 8 rows a panel) of output channels [r0, r0 + n),
 * n rounded up to whole panels, of a conv with oc of them and weight
 * a->w: off = bias - zx wsum, mult = sx scale / sy; rows from real on are
 * padding (off and mult 0).  The 8-bit Winograd passes zx 0: its input
 * transform subtracts the zero point. */
void nnl_qepi_fill(nnl_qepi *e, const nnl_qconv_args *a, int64_t oc, uint32_t zx, int64_t r0, int64_t n,
                   int64_t real);


/* Pixels of a staged plane for a task of cnt virtual pixels from n0
 * (cnt a multiple of the microkernel's nr: panels read whole); the plan
 * takes the worst task's (nnl_qconv_ctx.spx). */
int64_t nnl_qstage_pixels(const nnl_qconv_ctx *q, int64_t n0, int64_t cnt);
/* The planes' stride for px staged pixels: px rounded up to an odd number
 * of 64-byte lines.  A microkernel reads one line of each of a K block's
 * 128 planes at one offset; at a stride of an even number of lines those
 * fall into few L1 sets and evict each other (384 pixels, 24 lines: 8 of
 * the 64 sets), at an odd number into all of them (FCN-ResNet50's 1x1
 * convs at 32x48, bench_qconv, Zen 3: 85-88 -> 88-91 GMAC/s). */
int64_t nnl_qstage_stride(int64_t px);
/* Stage channel quads [c4a, c4b) for the task from virtual pixel n0 into
 * dst (q->cs pixels a plane; row: the row buffers, row_bytes). */
nnl_qstage nnl_qstage_make(const nnl_qconv_ctx *q, uint8_t *dst, uint8_t *row, const uint8_t *xg, int64_t c4a,
                           int64_t c4b, int64_t n0);
/* Bytes of the row buffers nnl_qstage_make takes on a strip of planes
 * of cs pixels. */
size_t nnl_qstage_row_bytes(const nnl_qconv_ctx *q, int64_t cs);
/* xoff[i], i < n: byte offset of a block's quad i's operand in its
 * staged planes, from the task's first pixel (blocks start at a channel
 * quad). */
void nnl_qstage_offs(const nnl_qconv_ctx *q, int64_t *xoff, int64_t n);
/* Quads [q0, q0 + kqc) of im2col(X_g) for pixels [n0, n0 + cnt) into
 * nr-pixel panels of kqc x nr x 4 bytes (pixels past cnt are zeros),
 * gathered from xg: the path off the wide grid. */
void nnl_qpack_block(const nnl_qconv_ctx *q, uint8_t *dst, const uint8_t *xg, int64_t q0, int64_t kqc, int64_t n0,
                     int64_t cnt);

#endif
