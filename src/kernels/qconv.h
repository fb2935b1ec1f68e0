/*
 * 8-bit convolution: uint8 (or int8) activations, int8 weights with one
 * scale per output channel and zero point 0, int32 accumulation, the
 * requantization to the output's scale and zero point fused.  The
 * integer form of QLinearConv and of a DequantizeLinear -> Conv ->
 * [Relu | Clip] -> QuantizeLinear chain.
 *
 * ---- Weight layout NNL_LAYOUT_PACK_Q8 ----------------------------------
 * (Specified for files in docs/FORMAT.md, "Weight layouts"; a change here
 * is a change there and bumps NNL_LAYOUT_VERSION.)
 * An INT8 tensor of rank r >= 2, dims (d0, ..., d{r-1}), read as R = d0
 * rows (output channels) of G = d1 input channels at T = d2*...*d{r-1}
 * taps each (T = 1 for rank 2), W[r][g][t].  Columns are taken in quads of
 * 4 consecutive input channels at one tap: with G4 = ceil(G/4), quad
 * q = g4 * T + t holds W[r][4 g4 + j][t], j < 4 (0 where 4 g4 + j >= G).
 * With P = ceil(R/8) panels and Q = G4 * T quads the payload is, in order:
 *   float32 scale[8P]   scale[r] of row r (0.0f for padding rows)
 *   int32   wsum[8P]    sum of all W[r][g][t] (0 for padding rows)
 *   int8    q8[P*Q*32]  q8[((p * Q + q) * 8 + i) * 4 + j] = quad q of row 8p + i,
 *                       its j-th value (0 when 8p+i >= R)
 * all little-endian, 8P*8 + P*Q*32 bytes.  The scales travel with the
 * values, so one tensor's bytes are equal exactly when values and scales
 * are: the linker's byte comparison is scale-aware.  wsum is what the
 * input zero point costs: sum_c W[r][c] * (x - zx) = acc[r] - zx * wsum[r].
 * A kernel reads one 4-byte quad of a row as a unit (a broadcast int32
 * for VNNI's vpdpbusd, ARM's sdot), with the same 4 input channels of one
 * output pixel beside it: activations interleaved by channel quads
 * ([G4][pixel][4]) are the kernel's operand as they lie, for every tap,
 * so no per-tap im2col copy is made (qconv_run.c).  Grouped convs use the
 * layout only when OC/group is a multiple of 8, as PACK_A8.
 * The same bytes serve both microkernel shapes (gemm.h): the pixel tile
 * broadcasts a row's quad against a vector of pixels; the transposed
 * tile (small maps, nnl_qtukr_args) puts 16 rows in a vector, the
 * 32-byte quad slices of two panels side by side (a 256-bit load and an
 * insert), against a broadcast pixel.  Neither needs another layout, so
 * the file format does not depend on which one runs.
 *
 * ---- Arithmetic (the reference every kernel set must match exactly) --
 *   acc[r][n]  = sum_c W[r][c] * (X[c][n] - zx)   (int32; padding taps of
 *                the image are zx, i.e. real 0)
 *   v          = (float)(acc[r][n] + bias[r]) * (sx * scale[r] / sy)
 *   y          = clamp(nearbyintf(v) + zy, y_min, y_max)
 * bias is int32 with scale sx * scale[r] (QLinearConv's B); the multiplier
 * is computed in float32 in that order, round half to even, as ONNX
 * Runtime's requantization does.  int8 activations are uint8 ones
 * shifted by 128 (x ^ 0x80, zx + 128), so kernels see uint8 only.
 */
#ifndef NNL_KERNELS_QCONV_H
#define NNL_KERNELS_QCONV_H

#include "kernels/conv.h"

typedef struct nnl_qconv_args {
    const void *x;             /* N x C x H x W, uint8 (int8 when x_signed) */
    bool x_signed;
    int32_t x_zp;              /* in x's own type's range */
    float x_scale;
    const void *w;             /* PACK_Q8 payload of the (OC, C/group, KH, KW) weight */
    bool w7;                   /* every weight value within [-64, 64]: nnl_qukr.w7 kernels may run */
    const int32_t *bias;       /* OC values or NULL */
    void *y;                   /* N x OC x OH x OW, uint8 (int8 when y_signed) */
    bool y_signed;
    int32_t y_zp;
    float y_scale;
    int32_t y_min, y_max;      /* clamp in y's type: its range, narrowed by a fused Relu / Clip */
    void *scratch;             /* c->scratch of nnl_qconv_scratch_bytes, may be NULL */
    size_t scratch_bytes;
} nnl_qconv_args;

/* Bytes of a PACK_Q8 tensor of these dims (rank >= 2). */
uint64_t nnl_pack_q8_bytes(int rank, const int64_t *dims);
/* Pack a row-major rows x (chans x taps) int8 matrix (an ONNX Conv weight:
 * taps innermost) and its per-row scales into PACK_Q8 (dst holds
 * nnl_pack_q8_bytes; padding written as zeros). */
void nnl_pack_q8(void *dst, const int8_t *w, const float *scale, int64_t rows, int64_t chans, int64_t taps);
/* Views of a PACK_Q8 payload with `rows` rows. */
const float *nnl_q8_scales(const void *packed);
const int32_t *nnl_q8_wsum(const void *packed, int64_t rows);
const int8_t *nnl_q8_panels(const void *packed, int64_t rows);

/* Whether nnl_qconv2d runs this conv (groups on panel bounds, 2-D). */
bool nnl_qconv_ok(const nnl_conv_params *p);
/* Shared scratch that nnl_qconv2d wants (0 if none). */
size_t nnl_qconv_scratch_bytes(const nnl_conv_params *p);
/* Run; kern NULL = nnl_kernel_get().  Never allocates. */
nnl_status nnl_qconv2d(const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_kernel *kern, nnl_pool *pool,
                       void *const *thread_scratch);
/* The int8 microkernel nnl_qconv2d runs on kern: the first of
 * kern->qukr the CPU supports, unless w7 (weights within [-64, 64])
 * exact for every int8 weight, taking cq channel quads a group and px
 * output pixels an image (nnl_qukr.min_cq, min_px) and, with tile,
 * having the transposed tile (the 8-bit GEMM's) (NULL if none). */
const nnl_qukr *nnl_qukr_pick(const nnl_kernel *kern, bool w7, int64_t cq, int64_t px, bool tile);
/* The activations' zero point in the domain uk reads them in (uint8, or
 * int8 for nnl_qukr.sx; uk NULL: uint8), as the wrapping uint32 of the
 * epilogue's offset bias - zx * wsum. */
static inline uint32_t nnl_qukr_zx(const nnl_qukr *uk, bool x_signed, int32_t x_zp) {
    if (uk && uk->sx) return (uint32_t)(x_signed ? x_zp : x_zp - 128);
    return (uint32_t)(x_signed ? x_zp + 128 : x_zp);
}
/* nnl_qconv2d on a given microkernel (tests run each one the CPU has). */
nnl_status nnl_qconv2d_with(const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_qukr *uk, nnl_pool *pool,
                            void *const *thread_scratch);
/* The arithmetic above as plain loops, one thread: the reference the
 * tests hold every kernel set to. */
void nnl_qconv2d_ref(const nnl_conv_params *p, const nnl_qconv_args *a);

/* ---- 8-bit matrix product with a float32 result (kernels/qgemm.c) ----
 * y[m][r] = (float)(sum_k W[r][k] * (x[m][k] - zx) + bias[r]) * (sx * scale[r])
 * (int32 sums, wrapping; the multiplier in float32 in that order): the
 * integer form of a QDQ model's Gemm over DequantizeLinear'd x, int8 W
 * (PACK_Q8 of (n, k): rows r, one tap) and int32 bias, its output float. */
typedef struct nnl_qgemm_args {
    const void *x;             /* m x k, uint8 (int8 when x_signed) */
    bool x_signed;
    int32_t x_zp;
    float x_scale;
    const void *w;             /* PACK_Q8 payload of (n, k) */
    bool w7;                   /* as nnl_qconv_args.w7 */
    const int32_t *bias;       /* n values or NULL */
    float *y;                  /* m x n */
    int64_t m, n, k;
} nnl_qgemm_args;

/* Whether nnl_qgemm_f32 runs a K this long (its rows stay whole in the
 * thread scratch). */
bool nnl_qgemm_fits(int64_t k);
/* Run; kern NULL = nnl_kernel_get().  Never allocates. */
nnl_status nnl_qgemm_f32(const nnl_qgemm_args *a, const nnl_kernel *kern, nnl_pool *pool, void *const *thread_scratch);
/* On a given microkernel (tests run each the CPU has). */
nnl_status nnl_qgemm_f32_with(const nnl_qgemm_args *a, const nnl_qukr *uk, nnl_pool *pool,
                              void *const *thread_scratch);
/* The arithmetic as plain loops: the tests' reference. */
void nnl_qgemm_f32_ref(const nnl_qgemm_args *a);

#endif
