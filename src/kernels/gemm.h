/*
 * Single-precision GEMM core: C = epilogue(A * B) with A (M x K) and
 * B (K x N), C row-major with unit column stride.
 *
 * ---- Weight layout NNL_LAYOUT_PACK_A8 ---------------------------------
 * (Specified for files in docs/FORMAT.md, "Weight layouts"; a change here
 * is a change there and bumps NNL_LAYOUT_VERSION.)
 * A tensor of rank r >= 2 and dims (d0, d1, ..., d{r-1}) is read as the
 * row-major matrix W with R = d0 rows and C = d1*...*d{r-1} columns (for a
 * Conv weight OC x IC/g x KH x KW: row = output channel, column =
 * (ic, kh, kw) flattened).  PACK_A8 stores ceil(R/8) panels back to back;
 * panel p holds rows 8p..8p+7 as C groups of 8 floats:
 *
 *     packed[(p * C + c) * 8 + i] = W[8p + i][c]     (0.0f when 8p+i >= R)
 *
 * so its size is ceil(R/8) * 8 * C floats.  It depends on nothing but the
 * tensor's dims: not on the input shape of a graph, not on the node's
 * attributes, not on the CPU, so one packed weight serves every graph and
 * every ISA.  Uses:
 *   - Conv weight as the GEMM A operand (rows = output channels).  Grouped
 *     convs use it only when OC/group is a multiple of 8, so every group
 *     starts on a panel boundary.
 *   - Gemm weight B with transB = 1 (dims N x K): panel p is directly the
 *     B operand for output columns 8p..8p+7 (B[k][n] = W[n][k]); with a
 *     single row of A (classifier heads) the weight is the A operand
 *     instead (Y^T = W X^T).
 *
 * ---- Weight layout NNL_LAYOUT_PACK_A8T --------------------------------
 * A rank-2 weight W (K x N: a MatMul B, a Gemm B with transB = 0) stored
 * as PACK_A8 of its transpose (N x K), panels over N:
 *
 *     packed[(p * K + k) * 8 + i] = W[k][8p + i]     (0.0f when 8p+i >= N)
 *
 * so its size is ceil(N/8) * 8 * K floats and it is read exactly like a
 * PACK_A8 Gemm weight with transB = 1 (NNL_BSRC_A8T as B, or as the A
 * operand of Y^T = W^T X^T for a single row).
 *
 * ---- float16 weights -----------------------------------------------------
 * PACK_A8, PACK_A8T (and WINO43, PLAIN) weights may hold IEEE halves in
 * the same element order (compile --weights fp16; docs/FORMAT.md).  No
 * kernel reads halves: the drivers widen the slice they are about to use
 * with the set's h2f into thread scratch (nnl_gemm_desc.a_f16 / b_f16,
 * conv.c, wino.c) and the float microkernels run on that.
 *
 * ---- Run-time packing ---------------------------------------------------
 * B with unit column stride and no b_scale is not packed: the microkernel
 * reads its whole NR-column tiles in place (rows located by nnl_ukr_args
 * b_off), for NNL_BSRC_WIDE always, for NNL_BSRC_STRIDED when rows are
 * whole cache lines apart; only the N tail is packed then.  Otherwise
 * B is packed per (KC x NC) block into the calling thread's
 * c->thread_scratch as NR-column panels, k-major (panel[k * NR + j]),
 * zero-padded to whole panels, rows scaled by b_scale when given.  Conv input is packed straight from the
 * image (implicit im2col), so no im2col buffer exists.  A that is not
 * pre-packed (PLAIN weights, activations) is packed the same way as
 * PACK_A8 panels of the current KC slice, also into thread scratch.  The
 * widest set needs (KC*NC + 256*KC) floats = 320 KB of the 2 MB
 * NNL_THREAD_SCRATCH_BYTES; depthwise conv uses the rest for a padded
 * input plane.  When C is split along M into several tasks, B is instead
 * packed once into the op's shared scratch (nnl_gemm_prepack_bytes).
 *
 * ---- Kernels --------------------------------------------------------------
 * One table (nnl_kernels) lists every microkernel set built for this CPU
 * family; nnl_kernel_get() picks the best one the CPU supports once, or the
 * one named by the environment variable NNL_ISA (scalar|avx2|avx512 on
 * x86_64, scalar|neon on aarch64).
 * Dispatch, tests and the benchmark all go through that table.
 */
#ifndef NNL_KERNELS_GEMM_H
#define NNL_KERNELS_GEMM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

#define NNL_MR 8            /* rows of an A panel: fixed by PACK_A8 */
#define NNL_NR_MAX 48       /* widest B panel of any kernel */
#define NNL_KC_MAX 256      /* largest K block (nnl_kernel.kc) of any kernel */

/* Epilogue applied once, when the last K block is accumulated:
 *   y = act(alpha * acc + bias_row[i] + bias_col[j] + beta * res[i][j])
 * Each pointer may be NULL.  res has unit column stride and row stride
 * res_rs (0 broadcasts one row to all rows). */
typedef struct nnl_epilogue {
    float alpha;
    const float *bias_row;
    const float *bias_col;
    const float *res;
    int64_t res_rs;
    float beta;
    nnl_act act;
    float act_a, act_b;
} nnl_epilogue;

/* One microkernel call: an (up to) 8 x NR tile of C.
 *   a: kc groups of 8 floats (an A panel slice), b: kc rows of NR floats,
 *      row k at b + k * NR (a packed panel) or, when b_off is not NULL, at
 *      b + b_off[k]: B read in place, the rows of a matrix or the slices
 *      of padded planes (NNL_BSRC_WIDE); a kernel may then read all NR
 *      columns of every row even when nr < NR, so the driver passes only
 *      full tiles.
 *   a_next: the A slice of the next call (kc * 8 floats, readable), which
 *      the kernel prefetches: weights stream from memory one 4 KB slice
 *      per call, too short for the hardware prefetcher to ramp up.
 *   c: tile origin, row stride ldc, unit column stride; only the first mr
 *      rows and nr columns exist.
 *   accumulate: add to what C holds (earlier K blocks); else overwrite.
 *   epi: NULL for an intermediate K block, else the final epilogue with
 *      bias_row / bias_col / res already offset to the tile origin.
 *   gap (0: none; every set's ukr honours it): the tile's columns
 *      [gap_at, gap_at + gap) are dropped and those from gap_at + gap on
 *      lie gap floats earlier, column j at c + j - gap, in C (stores and
 *      accumulate's reads) and in res (bias_col stays at j): the wide
 *      grid's virtual pixels between two output rows, so its tiles write
 *      the real output directly (gemm.c). */
typedef struct nnl_ukr_args {
    int64_t kc;
    const float *a;
    const float *a_next;
    const float *b;
    const int64_t *b_off;
    float *c;
    int64_t ldc;
    int mr, nr;
    bool accumulate;
    const nnl_epilogue *epi;
    int gap_at, gap;
} nnl_ukr_args;

typedef void (*nnl_ukr_fn)(const nnl_ukr_args *p);

/* Whether a gap tile's epilogue waits for the move past the gap: C's
 * earlier K blocks or the residual are added after the sums. */
static inline bool nnl_ukr_gap_late(const nnl_ukr_args *p) { return p->accumulate || (p->epi && p->epi->res); }

/* The call that computes gap tile p into t (row stride ldt) by a set's
 * plain path, with its whole epilogue unless nnl_ukr_gap_late. */
static inline nnl_ukr_args nnl_ukr_gap_plain(const nnl_ukr_args *p, float *t, int64_t ldt) {
    nnl_ukr_args q = *p;
    q.c = t;
    q.ldc = ldt;
    q.accumulate = false;
    q.gap_at = q.gap = 0;
    q.epi = nnl_ukr_gap_late(p) ? NULL : p->epi;
    return q;
}

/* A gap tile's call and epilogue copied into locals p and e (zeroed
 * where there is none), returning nnl_ukr_gap_plain of them: read through
 * the caller's pointer, every masked store of the move past the gap made
 * the next piece reload the call's fields. */
static inline nnl_ukr_args nnl_ukr_gap_local(const nnl_ukr_args *p0, nnl_ukr_args *p, nnl_epilogue *e, float *t,
                                             int64_t ldt) {
    *p = *p0;
    *e = p0->epi ? *p0->epi : (nnl_epilogue){0};
    return nnl_ukr_gap_plain(p, t, ldt);
}

/* A transposed tile, output channels in the vector lanes, for GEMMs with
 * few columns (convs on 7x7 and 14x14 maps, where pixel lanes leave a
 * 49-pixel row 64 lanes wide): t[j][o] (+)= sum over k < kc of
 * W[o][k] * B[k][pix[j]] for pixels j < nj (<= nnl_tukr_px(np)) and
 * weight rows o < np * 8 (np <= 6 panels), B row k at b + b_off[k].
 * W comes in vectors of L = the set's nnl_kernel.tukr_lanes channels.
 * L = 8: one PACK_A8 panel a vector, read in place, panel q's k-slice at
 * a + q * a_ps + k * 8.  L = 16: two panels side by side, either joined
 * by the kernel from the panels as above while it writes the joined
 * vectors to join (not NULL: vector v's k-slice at join + (v * kc + k) *
 * 16, 64-byte aligned, lanes past np * 8 unspecified), or, with join
 * NULL, read as such a joined copy at a (a_ps = kc * 16): the driver
 * joins once per task and K block, in its first call, and passes the
 * copy to the others.
 * t has row stride ldt; accumulate adds to it.  pre (sets with
 * nnl_kernel.tukr_pre): pre_n <= kc lines the kernel asks into L2, one a
 * K step from step 0, so the requests spread over the call (the driver's
 * share of the next K block's weight): pre_np panels pre_ps bytes apart,
 * a line of each in turn, then the next line (64 bytes on) of each; the
 * first at pre, panel 0.  A list of pointers the driver filled a call was
 * 8% of RegNetX's 400 -> 400 1x1 conv at 7x7 (perf, Xeon).  With one
 * or two panels (grouped convs of 8 or 16 channels a group) a call takes
 * up to 24 pixels: at 8, one vector of channels had 8 FMAs a step for 9
 * loads (RegNetX's grouped 3x3 at 33-80 GFLOP/s). */
#define NNL_TUKR_PX 24
static inline int nnl_tukr_px(int np) { return np <= 2 ? NNL_TUKR_PX : 8; }
typedef struct nnl_tukr_args {
    int64_t kc;
    const float *a;
    int64_t a_ps;
    const float *b;
    const int64_t *b_off;
    const int64_t *pix;
    float *t;
    int64_t ldt;
    int np, nj;
    bool accumulate;
    float *join;
    const char *pre;
    int64_t pre_ps, pre_n;
    int pre_np;
} nnl_tukr_args;
typedef void (*nnl_tukr_fn)(const nnl_tukr_args *p);
/* A tukr tile's channels into rows: dst[c * ldd + r] = src[r * lds + c]
 * for r < rows, c < cols.  The transposed tile's sums are pixel-major
 * (a pixel's channels side by side) and C's rows channel-major; a scalar
 * copy of the tile cost 12% of a 1x1 conv at 7x7 (RegNetX's 400 -> 400,
 * bench_kernels), the sets' register transposes a fraction of that.
 * e: NULL, or an epilogue applied on the way, dst's rows its rows:
 * (x + bias_row[c]) + beta * res[c * res_rs + r], then act; alpha 1 and
 * no bias_col (callers check).  A pass of epi_row over the rows after
 * the transpose was 7.5% of a 160 -> 1280 1x1 conv at 7x7 (Zen 5). */
typedef void (*nnl_tile_t_fn)(float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols,
                              const nnl_epilogue *e);
/* Floats of a tukr join buffer for K blocks of kc. */
#define NNL_TUKR_JOIN_FLOATS(kc) ((size_t)3 * 16 * (size_t)(kc))
/* Depthwise conv, channels in the vector lanes (kernels/dwc_body.h): one
 * block of nc <= lanes channels over output rows oy0 .. oy0 + rows - 1,
 * y = act(bias + sum over taps t = ky * kw + kx, in order, of wt[t][c] *
 * x[c][oy * sh - pt + ky * dh][ox * sw - pl + kx * dw]) with zeros outside
 * the input.  The weight comes transposed and the bias widened to the
 * set's lanes (zeros past nc); buf holds nnl_dwc_buf_floats(a, lanes). */
typedef struct nnl_dwc_args {
    const float *x;            /* channel c's input plane (h x w) at x + c * xcs */
    int64_t xcs;
    int nc;
    int64_t h, w, kh, kw, sh, sw, dh, dw, pt, pl;
    int64_t ow, oy0, rows;
    const float *wt;           /* kh * kw x lanes */
    const float *bias;         /* lanes */
    float *y;                  /* channel c's output plane (oh x ow) at y + c * ycs */
    int64_t ycs;
    nnl_act act;
    float act_a, act_b;
    float *buf;
} nnl_dwc_args;
typedef void (*nnl_dwc_fn)(const nnl_dwc_args *a);
/* 8-bit depthwise tap sums (kernels/qdw.h): one channel, y[f] =
 * requant(off + sum_{t < nt} w[t] * src[t][f]) for f < n over unit-stride
 * uint8 rows, the int32 sum exact (wrapping), requantized as the 8-bit
 * conv's epilogue (nnl_requant: float32 multiply, round half to even, the
 * zero point, the clamp), the low byte stored.  Sets compute whole blocks
 * of NNL_QDW_BLOCK: y and every src[t] must have room for n rounded up. */
#define NNL_QDW_BLOCK 32
typedef struct nnl_qdw_epi {
    int32_t off;               /* bias - zx * (sum of the channel's taps) */
    float mult, zy, lo, hi;    /* sx * sw / sy; output zero point and clamp, in y's type */
} nnl_qdw_epi;
typedef void (*nnl_qdw_fn)(uint8_t *y, const uint8_t *const *src, const int8_t *w, int nt, int64_t n,
                           const nnl_qdw_epi *e);
/* 8-bit depthwise, channels in the lanes (kernels/qdw.c, small maps): a
 * block of nc <= 16 channels of an (image) plane set, the whole map, the
 * arithmetic of nnl_qdw_fn.  The set stages the block's planes transposed
 * ([padded pixel][16 channels], pads = pad after the flip) into scratch
 * (nnl_qdwl_scratch bytes), sums each output pixel's taps for 16 channels
 * at once and transposes the bytes back into y.  Returns false, touching
 * nothing, when it cannot run (the CPU, or a geometry its windows do not
 * cover: kw > 4, dw > 1): the driver takes the per-plane path then. */
typedef struct nnl_qdwl_args {
    const uint8_t *x;          /* channel 0's plane; channel c at x + c * h * w */
    int64_t h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl;
    int nc;
    const int8_t *wt;          /* weights, channel c's taps at wt + c * kh * kw */
    uint8_t flip, pad;         /* 0x80 for int8 x; the zero point's byte after the flip */
    int32_t off[16];           /* per channel: bias - zx * (sum of its taps) */
    float mult[16];
    float zy, lo, hi;
    uint8_t *y;                /* channel 0's output plane; channel c at y + c * oh * ow */
    void *scratch;
} nnl_qdwl_args;
typedef bool (*nnl_qdwl_fn)(const nnl_qdwl_args *a);
/* Bytes of a set's staged pixels of 16 channels (S) and of their int16
 * pairs (P, 64 bytes a pixel) on a grid of hp x wp pixels. */
static inline uint64_t nnl_qdwl_s_bytes(int64_t hp, int64_t wp) {
    return (uint64_t)((hp * wp * 16 + 128 + 63) / 64 * 64);
}
static inline uint64_t nnl_qdwl_p_bytes(int64_t hp, int64_t wp) {
    return (uint64_t)((hp * wp * 64 + 63) / 64 * 64);
}
/* Scratch bytes an nnl_qdwl_fn takes for these sizes (wp: the columns
 * the kernel's window reaches; a set may round its kernel width up to
 * even, one column more): S, P and the outputs' pixels. */
static inline uint64_t nnl_qdwl_scratch(int64_t hp, int64_t wp, int64_t ohw) {
    return nnl_qdwl_s_bytes(hp, wp + 1) + nnl_qdwl_p_bytes(hp, wp + 1) + (uint64_t)((ohw + 16) * 16 + 128);
}
/* One contiguous row: y[i] = act(x[i] + bias + beta * res[i]) (res may be
 * NULL; x is y, or a row that does not overlap it): in place, or a tile's
 * row stored into the output with its epilogue in one pass. */
typedef void (*nnl_epi_row_fn)(float *y, const float *x, int64_t n, float bias, const float *res, float beta,
                               nnl_act act, float act_a, float act_b);

/* Winograd F(4x4, 3x3) transforms of 16 tiles (kernels/wino_xform.h). */
typedef void (*nnl_wino_in_fn)(float *v, int64_t vs, const float *d);
typedef void (*nnl_wino_out_fn)(float *y, const float *m, int64_t ms);
/* The input transform of 16 tiles straight from a zero-padded plane, unit
 * stride and dilation: the lanes in runs of tiles side by side in one
 * tile row, run q from lane l0[q] (increasing, l0[0] = 0) to the next
 * run's first lane or to covered, tile k of the run's 6 x 6 patch at
 * p[q] + 4 k, rows ps floats apart.  Reads 6 rows of 80 floats from each
 * p[q]; writes v + xi * vs as wino_in does, the same bits as wino_in on
 * the gathered patches, zeros in the lanes past the runs. */
typedef struct nnl_wino_runs {
    const float *p[16];
    int l0[16];
    int count, covered;
    int64_t ps;
} nnl_wino_runs;
typedef void (*nnl_wino_in_runs_fn)(float *v, int64_t vs, const nnl_wino_runs *r);
/* acc[i] = sum_k panel[k * 8 + i] * x[k * xs], i < 8 (kernels/gemv_body.h). */
typedef void (*nnl_dot8_fn)(const float *panel, const float *x, int64_t xs, int64_t k, float *acc);
/* y[i] = erf(x[i]) for float32, i < n (kernels/vmath.h). */
typedef void (*nnl_erf_fn)(float *y, const float *x, int64_t n);
/* y[i] = 1 / (1 + exp(-x[i])) for float32, i < n (kernels/vmath.h). */
typedef void (*nnl_sigmoid_fn)(float *y, const float *x, int64_t n);
/* y = softmax(x) over one row of n >= 1 floats (y may be x): e_i = exp(x[i]
 * - m) with m the largest non-NaN x[i] (0 when that is -inf: a row of -inf
 * gives 0 / 0, NaN, not -inf - -inf), y[i] = e_i / sum e
 * (kernels/rows_body.h). */
typedef void (*nnl_softmax_fn)(float *y, const float *x, int64_t n);
/* LayerNormalization of one row of n >= 1 floats (y may be x): y[i] =
 * (x[i] - mean) * inv * scale[i] + bias[i] (bias may be NULL), inv = 1 /
 * sqrt(variance + eps), the population variance; mean and inv also
 * returned (kernels/rows_body.h). */
typedef void (*nnl_layernorm_fn)(float *y, const float *x, int64_t n, float eps, const float *scale,
                                 const float *bias, float *mean, float *inv);
/* The 8-bit residual add of QDQ models (kernels/qadd_body.h): per-tensor
 * scales and zero points of a, b and y; lo / hi the clamp minus zy. */
typedef struct nnl_qadd_params {
    float sa, sb, sy, lo, hi;
    int32_t za, zb, zy;
    bool a_u8, b_u8, y_u8;     /* uint8, else int8 */
} nnl_qadd_params;
typedef void (*nnl_qadd_fn)(void *y, const void *a, const void *b, int64_t n, const nnl_qadd_params *p);
/* Per-tensor QuantizeLinear of n floats (kernels/quant_body.h): scale s,
 * zero point z, lo / hi the output type's range minus z. */
typedef struct nnl_quant_params {
    float s, lo, hi;
    int32_t z;
    bool y_u8;                 /* uint8, else int8 */
} nnl_quant_params;
typedef void (*nnl_quant_fn)(void *y, const float *x, int64_t n, const nnl_quant_params *p);
/* y[i] = the IEEE half x[i] as a float, i < n: float16 weights (FLOAT16
 * dtype of PLAIN, PACK_A8, PACK_A8T, WINO43) are widened by the op's
 * driver into thread scratch just before the float kernels read them.
 * Exact; every set must equal nnl_half_to_float bit for bit. */
typedef void (*nnl_h2f_fn)(float *y, const uint16_t *x, int64_t n);
/* even[j] = s[2 j] and odd[j] = s[2 j + 1], j < n: a stride-2 conv's
 * input row split into its two column phases (kernels/conv.c, the wide
 * grid); odd NULL: the even columns alone (a strided 1x1 conv's
 * subsampled rows).  Reads s[0 .. 2n - 1) at most, writes nothing past n. */
typedef void (*nnl_split2_fn)(float *even, float *odd, const float *s, int64_t n);
/* A narrow input plane x (h x w) into the s x s zero-padded phase planes
 * of a stride-s conv, s 1 or 2 (kernels/conv.c, the wide grid): phase
 * (ry, rx), at dst + (ry s + rx) hp wp, row i, column j holds
 * x[(r0 + i) s + ry - pt][j s + rx - pl], or 0 outside x.  Rows i < hp
 * of every phase, all of them written.  Only for s wp <= NNL_PAD_PLANE_MAX,
 * w <= NNL_PAD_PLANE_MAX, pl <= 15 and, at s 1, pl + w <= wp: RegNetX's
 * grouped convs pad thousands of 7x7 to 28x28 planes a run, where a call
 * and a few stores a row cost more than the copy. */
#define NNL_PAD_PLANE_MAX 32
typedef void (*nnl_pad_plane_fn)(float *dst, const float *x, int64_t h, int64_t w, int64_t pt, int64_t pl, int64_t r0,
                                 int64_t hp, int64_t wp, int s);
/* A 2-D pool's geometry over planes of NCHW data (kernels/pool2d.h): index
 * 0 the rows, 1 the columns (a 1-D pool is one of height 1); pb the pads
 * at the begin (the end pads only show in out). */
typedef struct nnl_pool2d {
    int64_t in[2], out[2], k[2], s[2], d[2], pb[2];
    bool int8;                 /* 8-bit data is int8, else uint8 (float: unused) */
} nnl_pool2d;
/* Float32 MaxPool (kernels/maxpool_body.h): rows [b, e) of y, row r being
 * output row r % out[0] of plane r / out[0], each output the max of its
 * window's taps inside the input by the rule v > m ? v : m from -inf (NaN
 * skipped, -inf for a window with none).  scratch: the thread's own
 * NNL_THREAD_SCRATCH_BYTES, 64-aligned, of which the row path takes its
 * row buffers (nnl_pool2d_scratch_bytes(g, 4) each, batches of up to
 * 16 KB) and the flat path its bounds (17 KB). */
typedef void (*nnl_maxpool_fn)(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e,
                               void *scratch);
/* Winograd weight transform of n input channels of two PACK_A8 panels
 * (kernels/wino_xform.h). */
typedef void (*nnl_wino_wt_fn)(float *u0, float *u1, int64_t us, const float *g0, const float *g1, int64_t n);

/* ---- 8-bit microkernels (the arithmetic of kernels/qconv.h) ------------
 * One call: an 8-row x nr-pixel tile of int32 sums acc[i][j] += sum over
 * kq quads of W quad (4 int8 of row i, PACK_Q8 order) . X quad (4 uint8
 * of pixel j: the same 4 input channels at the same tap), exact in 32
 * bits (wrapping), then either stored as partial sums (not the last K
 * block) or requantized into y.  Quad q's nr pixels are the nr * 4 bytes
 * at x + xoff[q]: an activation panel packed quad after quad, or the
 * channel-quad-interleaved image itself with one offset per (channel
 * quad, tap).  A microkernel may also have a transposed form for small
 * maps (nnl_qtukr_args below): the same sums and requantization with the
 * output channels in the lanes. */
typedef struct nnl_qepi {
    int32_t off[NNL_MR];       /* bias[r] - zx * wsum[r]: turns sum W * x into sum W * (x - zx) + bias */
    float mult[NNL_MR];        /* sx * scale[r] / sy, float32 in that order */
    float zy, lo, hi;          /* output zero point and clamp range, in y's type */
} nnl_qepi;

typedef struct nnl_qukr_args {
    int64_t kq;                /* quads of this K block */
    const int8_t *w;           /* kq x 8 x 4: the PACK_Q8 panel slice (or as nnl_qukr.wprep wrote it) */
    const uint8_t *x;          /* activations: quad q's nr x 4 bytes at x + xoff[q] (nr of the microkernel) */
    const int64_t *xoff;       /* kq byte offsets */
    int32_t *acc;              /* 8 x nr partial sums kept between K blocks */
    bool first, last;          /* first: start from 0, else from acc; last: requantize, else store acc */
    const nnl_qepi *epi;       /* rows of this tile */
    uint8_t *y;                /* tile origin: uint8 or int8 bytes, row stride ldy */
    int64_t ldy;
    int mr, nr;                /* rows and pixels that exist */
    /* Taps per channel quad: quad q is channel quad q / tq at tap q % tq
     * (kernels that group quads by tap, nnl_qukr.wprep, read it). */
    int64_t tq;
} nnl_qukr_args;

typedef void (*nnl_qukr_fn)(const nnl_qukr_args *p);

/* The transposed 8-bit tile, output channels in the vector lanes, for
 * convs on small maps (7x7, 14x14), where the pixel tile's lanes go
 * idle: a 7x7 map is 61 pixels on the wide grid, 64 lanes of pixel
 * panels, but 49 = 7 x 7 pixel slots here (the grid's virtual columns
 * are not computed); and for padded 3x3 convs up to 64x64, where its
 * weights staying in L1 pays (kernels/qconv_run.c qt_plan).
 * One call: acc[j][o] (+)= sum over kq quads of W
 * quad (row o, PACK_Q8) . X quad (pixel j) for o < 8 np (np <= 6 panels,
 * NNL_QTUKR_OC rows) and j < nj (<= NNL_QTUKR_PX pixels), exact and
 * wrapping as nnl_qukr_args; then stored as partial sums or requantized
 * (nnl_requant) into y.  W is read in place from the PACK_Q8 panels: quad
 * q of panel i at w + i * w_ps + 32 q (a vector of 16 channels is the
 * 32-byte slices of two panels side by side).  Pixel j's quad q is the 4
 * bytes at x + xoff[q] + pix[j]: the wide grid's staged planes, every
 * pixel a broadcast.  acc holds NNL_QTUKR_PX x NNL_QTUKR_OC int32,
 * acc[j * NNL_QTUKR_OC + o], between K blocks (lanes past 8 np and
 * pixels past nj are unspecified there).  y: channel o, pixel j at
 * y[o * ldy + j], only o < mr and j < nj written. */
#define NNL_QTUKR_PX 8
#define NNL_QTUKR_OC 48
typedef struct nnl_qtukr_args {
    int64_t kq;
    const int8_t *w;
    int64_t w_ps;              /* bytes from a panel to the next: 32 x the weight's quads */
    const uint8_t *x;
    const int64_t *xoff;       /* kq byte offsets */
    const int64_t *pix;        /* nj byte offsets */
    int32_t *acc;
    bool first, last;          /* as nnl_qukr_args */
    const nnl_qepi *epi;       /* np panels' epilogues, zy, lo and hi the same in all */
    uint8_t *y;
    int64_t ldy;
    int np, nj;
    int mr;                    /* rows of y that exist, 8 np - 7 .. 8 np */
} nnl_qtukr_args;
typedef void (*nnl_qtukr_fn)(const nnl_qtukr_args *p);
/* The activations' staging at the microkernel's width: o[j] = bytes
 * r[0][j], r[1][j], r[2][j], r[3][j] as one little-endian word, ^ flip,
 * for j < m (4 channels of a pixel side by side: one X quad). */
typedef void (*nnl_il4_fn)(uint32_t *o, const uint8_t *const r[4], int64_t m, uint32_t flip);

typedef struct nnl_qukr {
    const char *name;
    int nr;                    /* pixels of a packed activation panel, multiple of 8 */
    int kq;                    /* quads per K block: the panel (kq x nr x 4 bytes) stays in L1 */
    int kq_taps;               /* kq for convs of several taps (0: kq) */
    bool (*supported)(void);   /* the instructions it needs beyond its set's */
    nnl_qukr_fn fn;
    nnl_il4_fn il4;
    /* The transposed tile on the same activations (NULL: the set has none,
     * small maps take fn's pixel tiles), for convs of at most tpix output
     * pixels (qconv_run.c qt_plan; the largest maps where it measured
     * faster). */
    nnl_qtukr_fn tfn;
    int tpix;
    /* Reads activations as int8 (signed-only dot products: NEON sdot):
     * uint8 inputs are staged as x ^ 0x80 and their zero point taken in
     * that domain, int8 inputs as they are (kernels/qconv_run.c). */
    bool sx;
    /* Exact only for weights within [-64, 64] (ONNX Runtime's
     * reduce_range, `quantize --weights int7`): byte products summed in
     * int16 pairs (AVX2's vpmaddubsw) cannot saturate then.  Picked only
     * for a conv or GEMM whose weight says so (nnl_qconv_args.w7). */
    bool w7;
    /* The set's 8-bit Winograd (nnl_kernel.qwino) runs 3x3 stride-1 convs
     * faster than this microkernel from this output width on (of a phase:
     * width / dilation; kernels/qwino.c nnl_qwino_pays; 0: never). */
    int wino_ow;
    /* Rows a call computes: NNL_MR (0 reads as that) or 16 (two panels;
     * the call's acc is 16 x nr int32, its epi two panels'). */
    int mr;
    /* Reads w rearranged by the driver: wprep(dst, w, kq, tq, ps, np)
     * writes the K block (kq quads, tq taps a channel quad) of np <= mr /
     * NNL_MR panels, the first at w, the next ps bytes on, in the
     * kernel's order, wprep_bytes(kq, tq) bytes (NULL: w as it is in
     * PACK_Q8).  Kernels that multiply in int16 take it widened once
     * (nnl_qukr_w16); those whose operand tiles take K contiguous per row
     * (AMX) need a row's quads of one tap side by side. */
    void (*wprep)(int8_t *dst, const int8_t *w, int64_t kq, int64_t tq, int64_t ps, int np);
    int64_t (*wprep_bytes)(int64_t kq, int64_t tq);
    /* Picked for a conv only from this many channel quads a group on
     * (fewer leave its tiles mostly empty: a stem's 3 channels); it still
     * computes any conv exactly (tests run it on all of them). */
    int min_cq;
    /* ... and from this many output pixels an image on (0: any): below
     * it, rearranging w (wprep) for few pixels costs more than it saves
     * (7x7 maps, where the next kernel's transposed tile is as fast). */
    int min_px;
    /* Called by the driver when a task's calls are over (NULL: nothing to
     * do): AMX releases the tile state it configured, so code of other
     * libraries on the same thread finds it as they left it. */
    void (*done)(void);
} nnl_qukr;

/* ---- 8-bit Winograd F(2x2, 3x3) (kernels/qwino.h) ------------------------
 * Transform point xi = 4 rho + kappa of a 4x4 transform, 16 of them.  The
 * products' sums of a tile: NNL_QWINO_OC int32 (rows of up to 16 panels). */
#define NNL_QWINO_OC 128
typedef struct nnl_qwino {
    /* Channel pairs [cp0, cp0 + n) of one PACK_Q8 panel of a 3x3 weight
     * (8 rows; quad q = g4 * 9 + tap at p8 + 32 q) as U' = G' g G'^T, G' =
     * 2 G: at u + xi * us, per pair 8 rows x 2 channels of int16. */
    void (*wt)(int16_t *u, int64_t us, const int8_t *p8, int64_t cp0, int64_t n);
    /* Input transform V = B^T d B of nb tiles of one tile row for one
     * channel pair: r[4 c + i] is row i of channel c's 4 x (2 nb + 2)
     * window (bytes b, d = (b ^ flip) - zx), readable 32 bytes further;
     * tile t's V at v + xi * vs + 2 t + c.  nb2 > 0: as many tiles of a
     * second tile row too (windows r[8 ..], V from tile nb on; both at
     * most 8 tiles: one vector can take the two).  Up to 15 tiles past
     * the last may be written. */
    void (*in)(int16_t *v, int64_t vs, const uint8_t *const r[16], int64_t nb, int64_t nb2, int zx, uint8_t flip);
    /* Output transform of a run of nt tiles of a tile row for 8 rows:
     * tile k's sums M at m + k * NNL_QWINO_OC + xi * ms (8 int32 each),
     * A^T M A / 4 requantized by e; output row i < nr, column j < nc (of
     * the run's 2 nt) of row l at y + l * ly + i * ry + j * cx. */
    void (*out)(uint8_t *y, int64_t ly, int64_t ry, int64_t cx, int nr, int nc, int nt, const int32_t *m, int64_t ms,
                const nnl_qepi *e);
    /* The transposed tile (nnl_qtukr_args) on int16 pairs: a step is 8 rows
     * x 2 channels of int16 in w against a tile's 2 int16 in x, the sums
     * NNL_QWINO_OC int32 a tile; steps evenly spaced (xoff[q] = xoff[0] +
     * q (xoff[1] - xoff[0])), tiles 4 bytes apart (pix[j] = 4 j); never
     * called with last set. */
    nnl_qtukr_fn mm;
} nnl_qwino;

/* The portable staging interleave (GCC vector extensions: SSE2, NEON). */
void nnl_il4_generic(uint32_t *o, const uint8_t *const r[4], int64_t m, uint32_t flip);
/* The portable nnl_qukr.wprep of kernels that multiply in int16 and would
 * otherwise widen each quad per call (AVX2 without VNNI): kq quads of one
 * PACK_Q8 panel as int16, per quad and row (w0, w2, w1, w3) (kernels/
 * qconv_pack.c). */
void nnl_qukr_w16(int8_t *dst, const int8_t *w, int64_t kq, int64_t tq, int64_t ps, int np);
int64_t nnl_qukr_w16_bytes(int64_t kq, int64_t tq);

#define NNL_QUKR_MAX 4
#define NNL_QUKR_MR_MAX 16 /* most rows of one nnl_qukr call */

/* The requantization of one sum (row i of e): the scalar definition every
 * vector epilogue matches.  Unsigned addition: the sum wraps like the
 * vector lanes do. */
static inline uint8_t nnl_requant(int32_t acc, const nnl_qepi *e, int i) {
    float v = nearbyintf((float)(int32_t)((uint32_t)acc + (uint32_t)e->off[i]) * e->mult[i]) + e->zy;
    v = v < e->lo ? e->lo : v > e->hi ? e->hi : v;
    return (uint8_t)(int32_t)v;
}

typedef struct nnl_kernel {
    const char *name;          /* "scalar", "avx2", "avx512", "neon" */
    int nr;                    /* B panel width, multiple of 8, <= NNL_NR_MAX */
    int kc;                    /* K block: B panel kc x nr stays in L1 */
    int nc;                    /* N block per task, multiple of nr */
    bool (*supported)(void);
    nnl_ukr_fn ukr;
    nnl_tukr_fn tukr;          /* NULL: the set has none, few-column GEMMs use ukr */
    /* Channels of a tukr weight vector (nnl_tukr_args): 0 or 8, one
     * PACK_A8 panel read in place; 16, two panels side by side, joined
     * once per task and K block (AVX-512: joining the two 32-byte halves
     * in every call took one vinsertf32x8 per vector and K step, on Intel
     * a uop on one of the two FMA ports; ResNet-18's 7x7 and 14x14 convs
     * ran 12-15% faster without them.  Joined by the first call, not by a
     * copy pass before it: such a pass stalled on the weights' first read
     * from memory, which the calls' FMAs otherwise hide). */
    int tukr_lanes;
    bool tukr_pre;             /* tukr takes nnl_tukr_args.pre */
    nnl_tile_t_fn tile_t;      /* with tukr */
    /* tukr on a plain B (1x1 convs on small maps), not only on the wide
     * grid's and X W: its K block (0: plain B takes pixel tiles), and the
     * share of the pixel tiles' lanes, in percent, it must save.  Its B
     * rows are whole channel planes apart: on AVX2 a K block of them must
     * fit L1 (Zen 3: at K 256 ResNet's 1x1 convs at 7x7 ran 10% slower
     * than pixel tiles, at K 64 12-22% faster; at 14x14, 196 of 200
     * lanes, still 5% slower, hence the margin); AVX-512 reads them from
     * L2 in blocks of up to 512 (kset_avx512.c). */
    int tukr_plain_kc;
    int tukr_plain_gain;
    /* K from which convs on 7x7 maps take tukr (0: gemm.c's TG_MIN_K, 384).
     * Zen 4, bench_kernels: avx512 from 128, MobileNetV2's 320 -> 1280 at
     * 7x7 0.467 -> 0.420 ms, 160 -> 960 0.178 -> 0.172; MobileNetV2,
     * MnasNet-0.5 and ShuffleNet 1.6-2.3% faster at 1 thread, the others
     * within noise, all within noise or faster (to 2.8%) at 2.  avx2 from
     * 256: 320 -> 1280 0.478 -> 0.462, but 160 -> 960 0.183 -> 0.190. */
    int tukr_small_k;
    /* A plain B (1x1 convs) read in place also when its rows are not whole
     * cache lines apart, on maps past NNL_TG_CONV_MAX_PIX pixels: the
     * microkernel's loads then split lines, which costs AVX-512 on Zen 4
     * nothing measurable (SqueezeNet's 128 -> 16 at 55x55 0.166 -> 0.120-
     * 0.135 ms against its packed copy) and AVX2 there 2-4% (SqueezeNet
     * 1.1, GoogLeNet); below that size, or without it, such a B is
     * packed (gemm.c b_in_place). */
    bool b_rows_any;
    nnl_dwc_fn dwc;
    int dwc_lanes;             /* channels a dwc call takes: the set's float lanes */
    /* Whether dwc takes a's geometry (rows aside) with the output pixels
     * in the lanes, reading the input rows in place: it then needs of buf
     * only a row of w floats, and runs best over whole planes (one long
     * read a channel; MobileNetV2's stride-2 depthwise convs a fifth
     * faster than in bands of 7 rows on Zen 4).  a's rows do not matter.
     * Never NULL. */
    bool (*dwc_pixels)(const nnl_dwc_args *a);
    /* Winograd pays for the convs of 32 to 63 channels a side the compiler
     * records (kernels/wino.h nnl_wino_narrow): measured on avx512 only. */
    bool wino_narrow;
    nnl_epi_row_fn epi_row;
    nnl_wino_in_fn wino_in;
    nnl_wino_in_runs_fn wino_in_runs;
    nnl_wino_out_fn wino_out;
    nnl_wino_wt_fn wino_wt;
    nnl_dot8_fn dot8;
    nnl_erf_fn erf;
    nnl_sigmoid_fn sigmoid;
    nnl_softmax_fn softmax;
    nnl_layernorm_fn layernorm;
    nnl_qadd_fn qadd;
    nnl_quant_fn quant;
    nnl_qdw_fn qdw;
    nnl_qdwl_fn qdwl;          /* NULL: the set has none */
    nnl_h2f_fn h2f;
    /* NULL: conv.c's 16-byte shuffles (scalar set) */
    nnl_split2_fn split2;
    nnl_pad_plane_fn pad_plane; /* NULL: conv.c's rows */
    nnl_maxpool_fn maxpool;
    /* 8-bit conv microkernels, best first, NULL after the last: the first
     * whose supported() holds runs (kernels/qconv.c). */
    const nnl_qukr *qukr[NNL_QUKR_MAX];
    const nnl_qwino *qwino;    /* NULL: the set has none */
} nnl_kernel;

/* All kernel sets compiled in, best last; terminated by NULL.  Sets the
 * CPU cannot run are listed too (check ->supported()). */
extern const nnl_kernel *const nnl_kernels[];
/* The set in use: NNL_ISA if set and supported, else the best supported. */
const nnl_kernel *nnl_kernel_get(void);
/* By name, NULL if unknown or not supported by this CPU. */
const nnl_kernel *nnl_kernel_find(const char *name);

/* ---- operands ----------------------------------------------------------- */

typedef enum nnl_bsrc_kind {
    NNL_BSRC_STRIDED = 0,      /* B[k][n] = p[k * rs + n * cs] */
    NNL_BSRC_IM2COL = 1,       /* conv input image, see nnl_conv_geom */
    NNL_BSRC_A8T = 2,          /* B[k][n] = W[n][k] with W PACK_A8 (rows = n) */
    /* Conv input on the wide pixel grid: image b zero-padded and split
     * into geom.sh x geom.sw phase planes of geom.h x geom.w a channel,
     * column n the virtual pixel n = oy * geom.w + ox, so row k = (ic, ky,
     * kx) is one contiguous slice: B[k][n] = b[nnl_wide_row(geom, k) + n] */
    NNL_BSRC_WIDE = 3
} nnl_bsrc_kind;

/* Geometry of one 2-D convolution (Conv1d uses h = kh = 1). */
typedef struct nnl_conv_geom {
    int64_t c, h, w;           /* input channels of one group, image size */
    int64_t kh, kw;
    int64_t sh, sw, dh, dw;
    int64_t pt, pl;            /* top / left padding (bottom/right implied) */
    int64_t oh, ow;
} nnl_conv_geom;

/* Per-batch-item operand addresses, filled by the caller's callback. */
typedef struct nnl_gemm_ptrs {
    const float *a;            /* PACK_A8 base (panel 0 of this item) or plain origin */
    const float *b;
    float *c;
    const float *bias_row;     /* offset to row 0 of this item */
    const float *bias_col;
    const float *res;          /* offset to element (0, 0) of this item */
    /* NNL_BSRC_WIDE only, optional: the real output (row stride geom.oh *
     * geom.ow; virtual column n = oy * geom.w + ox is pixel oy * geom.ow +
     * ox, ox < geom.ow), res then at real positions (row stride
     * epi.res_rs).  The GEMM delivers y with the whole epilogue; c is
     * not used.  Transposed tiles store real pixels anyway and write y
     * directly; pixel tiles write each task's C block (virtual pixels) into
     * the thread scratch, copied to y's real pixels as the task ends with
     * the residual and the activation applied (one store per tile row
     * segment instead ran 8-25% slower on stems, bench_kernels, Zen 5; a
     * whole-output C and a pass after it cost a round trip of the output
     * through memory in the network: ResNet-18 fp32 4% slower). */
    float *y;
    /* Optional per-row scale of B: row k is multiplied by b_scale[k], or
     * for NNL_BSRC_IM2COL and NNL_BSRC_WIDE by b_scale[k / (kh * kw)]
     * (the input channel's), while it is packed.  A squeeze-and-excitation channel scale fused
     * into the conv that reads it costs no pass of its own. */
    const float *b_scale;
    /* Instead of a / b when the desc says a_f16 / b_f16: the same element
     * offsets into IEEE half data. */
    const uint16_t *ah, *bh;
} nnl_gemm_ptrs;

typedef struct nnl_gemm_desc {
    int64_t m, n, k;
    int64_t batch;             /* independent GEMMs of the same shape */
    /* A: pre-packed PACK_A8 panels of a matrix with k columns, or plain. */
    bool a_packed;
    /* A holds float16 (a weight compiled --weights fp16): each task widens
     * its A block (at most MC_RT rows x KC), a panel just before the
     * panel's first use, with the set's h2f into its thread scratch where
     * run-time packing puts a plain A, and runs the float microkernel on
     * that.  b_f16: likewise for an NNL_BSRC_A8T B, widened while it is
     * packed.  The GEMV path widens GEMV_HK rows of a panel at a time. */
    bool a_f16, b_f16;
    int64_t a_rs, a_cs;        /* plain A[i][k] = a[i * a_rs + k * a_cs] */
    /* B */
    nnl_bsrc_kind b_kind;
    int64_t b_rs, b_cs;        /* NNL_BSRC_STRIDED */
    nnl_conv_geom geom;        /* NNL_BSRC_IM2COL: B = im2col of image b; NNL_BSRC_WIDE */
    /* C and the epilogue (its pointers come from ptrs) */
    int64_t ldc;
    /* NNL_BSRC_WIDE with nnl_gemm_ptrs.y: y's channel stride, 0 for
     * geom.oh * geom.ow (a band of rows of a taller output sets it; such
     * a GEMM runs on pixel tiles, not the transposed ones) */
    int64_t y_cs;
    nnl_epilogue epi;
    /* Residual with zero column stride (Gemm C of shape (M,1) or scalar):
     * handled by a slower generic store.  res_cs is 1 or 0. */
    int64_t res_cs;
    /* Optional shared scratch (c->scratch) of b_prepack_bytes for packing
     * all of B once, used when C is split along M into several tasks that
     * would each pack the same B.  Size it with nnl_gemm_prepack_bytes. */
    float *b_prepack;
    size_t b_prepack_bytes;
    /* NNL_BSRC_WIDE run as the transposed tile: pool thread t reads B at
     * t * b_copy_floats past ptrs' B (per-thread copies of the padded
     * input); 0 for one copy all threads read. */
    int64_t b_copy_floats;
    /* pointers of batch item i; ctx is desc->ctx */
    void (*ptrs)(const struct nnl_gemm_desc *d, int64_t i, nnl_gemm_ptrs *p);
    const void *ctx;
    /* NULL, or what batch item i needs done before its GEMM reads B (a
     * grouped conv's padded planes of one group): done by the item's task
     * where one task takes the whole item (the transposed tile of a small
     * group), its planes then still in L1 when the tile reads them; else
     * by a pool pass over the items before the GEMM. */
    void (*item_prep)(const struct nnl_gemm_desc *d, int64_t i);
} nnl_gemm_desc;

/* Run the GEMM on pool (NULL: inline) with the given kernel set (NULL:
 * nnl_kernel_get()).  thread_scratch[t] is NNL_THREAD_SCRATCH_BYTES for
 * every pool thread t.  Never allocates. */
nnl_status nnl_gemm(const nnl_gemm_desc *d, const nnl_kernel *kern, nnl_pool *pool,
                    void *const *thread_scratch);

/* Maps of at most this many output pixels may take the transposed tile
 * (nnl_gemm_transposed): conv drivers plan the wide grid's scratch for
 * them whatever its pixel tiles would cost, the set decides at run time. */
#define NNL_TG_CONV_MAX_PIX 256

/* Whether nnl_gemm runs the conv GEMM d (NNL_BSRC_WIDE or plain B) as
 * transposed tiles with kern (NULL: nnl_kernel_get()), which compute the
 * wide grid's real pixels only. */
bool nnl_gemm_transposed(const nnl_gemm_desc *d, const nnl_kernel *kern);

/* nnl_gemm_desc.ptrs of a GEMM with one item whose pointers are all in
 * place: ctx is a const nnl_gemm_ptrs, handed out as it is. */
void nnl_gemm_single(const nnl_gemm_desc *d, int64_t item, nnl_gemm_ptrs *p);

/* Shared scratch that lets nnl_gemm pack B once for a GEMM of this shape,
 * or 0 when B is too large to keep whole (then B is packed per task).
 * Depends on the shape only, so infer can declare it. */
size_t nnl_gemm_prepack_bytes(int64_t batch, int64_t k, int64_t n);

/* ---- packing --------------------------------------------------------------- */

/* Bytes of a PACK_A8 tensor of the given dims (rank >= 1). */
uint64_t nnl_pack_a8_bytes(int rank, const int64_t *dims);
/* Pack a row-major rows x cols float matrix into PACK_A8 (dst holds
 * nnl_pack_a8_bytes); padding rows are written as zeros. */
void nnl_pack_a8(float *dst, const float *src, int64_t rows, int64_t cols);
/* PACK_A8T of a row-major rows (K) x cols (N) matrix (dst holds
 * nnl_pack_a8_bytes of the dims (cols, rows)). */
void nnl_pack_a8t(float *dst, const float *src, int64_t rows, int64_t cols);
/* Inverse (tests and constant folding): dst is rows x cols row-major. */
void nnl_unpack_a8(float *dst, const float *src, int64_t rows, int64_t cols);

/* Offset of row k = (ic, ky, kx) of NNL_BSRC_WIDE's B from the item's
 * phase planes (sh x sw planes of h x w a channel, kernels/conv.c). */
static inline int64_t nnl_wide_row(const nnl_conv_geom *g, int64_t k) {
    int64_t khw = g->kh * g->kw, r = k % khw, y = r / g->kw * g->dh, x = r % g->kw * g->dw;
    return ((k / khw * g->sh + y % g->sh) * g->sw + x % g->sw) * g->h * g->w + y / g->sh * g->w + x / g->sw;
}

/* Run-time packers used by nnl_gemm (exposed for tests).  dst receives
 * ceil(nc/nr) panels of kc x nr floats (columns past nc zeroed) holding
 * B[k0.., n0..]. */
void nnl_pack_b(float *dst, int nr, const nnl_gemm_desc *d, const float *b, const float *b_scale, int64_t k0,
                int64_t kc, int64_t n0, int64_t nc);
/* ceil(mc/8) panels of kc x 8 floats of plain A rows m0.. (rows past m
 * zeroed). */
void nnl_pack_a_plain(float *dst, const float *a, int64_t rs, int64_t cs, int64_t m, int64_t m0,
                      int64_t mc, int64_t k0, int64_t kc);
/* The same two from float16 sources (NNL_BSRC_A8T B; plain A with unit
 * column stride, the only plain weight a float16 file holds), widened by
 * h2f; kc <= NNL_KC_MAX. */
void nnl_pack_b_a8t_h(float *dst, int nr, const nnl_gemm_desc *d, const uint16_t *b, int64_t k0, int64_t kc,
                      int64_t n0, int64_t nc, nnl_h2f_fn h2f);
void nnl_pack_a_plain_h(float *dst, const uint16_t *a, int64_t rs, int64_t m, int64_t m0, int64_t mc, int64_t k0,
                        int64_t kc, nnl_h2f_fn h2f);

/* 1 / (1 + exp(-x)) without overflow for large |x|.  Inline here, with the
 * epilogue that uses it, so gemm.c does not depend on a kernel set's file. */
static inline float nnl_sigmoidf(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* Scalar activation: the reference every vector kernel must match. */
static inline float nnl_act_apply(float x, nnl_act act, float a, float b) {
    switch (act) {
    case NNL_ACT_RELU: return x < 0.0f ? 0.0f : x;
    case NNL_ACT_CLIP: return x < a ? a : (x > b ? b : x);
    case NNL_ACT_SIGMOID: return nnl_sigmoidf(x);
    case NNL_ACT_HARDSIGMOID: {
        float t = a * x + b;
        return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    }
    case NNL_ACT_HARDSWISH: {
        float t = x * (1.0f / 6.0f) + 0.5f;
        return x * (t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t));
    }
    case NNL_ACT_LEAKYRELU: return x >= 0.0f ? x : a * x;
    case NNL_ACT_SILU: return x * nnl_sigmoidf(x);
    case NNL_ACT_GELU: return x * 0.5f * (1.0f + erff(x * 0.70710678f));
    default: return x;
    }
}

/* The epilogue for one element, r = the residual element (ignored when
 * e->res is NULL): the scalar definition of nnl_epilogue. */
static inline float nnl_epi_apply(const nnl_epilogue *e, float acc, int64_t i, int64_t j, float r) {
    float v = e->alpha * acc;
    if (e->bias_row) v += e->bias_row[i];
    if (e->bias_col) v += e->bias_col[j];
    if (e->res) v += e->beta * r;
    return nnl_act_apply(v, e->act, e->act_a, e->act_b);
}

/* nnl_tile_t_fn's definition, the scalar and NEON sets' entry. */
static inline void nnl_tile_t_ref(float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols,
                                  const nnl_epilogue *e) {
    for (int64_t c = 0; c < cols; c++)
        for (int64_t r = 0; r < rows; r++) {
            const float x = src[r * lds + c];
            dst[c * ldd + r] = e ? nnl_epi_apply(e, x, c, r, e->res ? e->res[c * e->res_rs + r] : 0.0f) : x;
        }
}

#endif
