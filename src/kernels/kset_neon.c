/*
 * ARMv8.0 ASIMD (NEON) kernels.  32 128-bit registers: the microkernel
 * tile is 8 x 12 (24 accumulators, two A registers holding the 8 rows of
 * one k, three B registers: 29 live), each k one FMA by lane
 * (vfmaq_laneq_f32) per accumulator: 24 FMAs for 5 loads.  The B panel is
 * 24 wide like the AVX2 one (NR must divide the Winograd block unit 48,
 * gemm.h wants a multiple of 8), so one call runs the 8 x 12 tile twice,
 * over the panel's two column halves; the 8-row A slice (kc x 8 floats,
 * 8 KB) stays in L1 for the second pass.  Narrow tails (N < 24) use the
 * same code with fewer B vectors.  Panels are zero-padded (PACK_A8 rows,
 * run-time B columns), so the loads never need a mask; only stores do.
 * Winograd transforms and erf come from the generic vector-extension
 * kernels (generic_set.h), which GCC lowers to NEON 128-bit operations
 * (with FMLA: the Makefile builds *_neon.c with -ffp-contract=fast).
 */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>

#include "kernels/kernels_isa.h"
#include "kernels/generic_set.h"

#define NR 24
#define HALF 12
#define INLINE static inline __attribute__((always_inline))

/* The first n (1..4) floats of src, zeros after: no read past src + n. */
INLINE float32x4_t load_part(const float *src, int n) {
    if (n >= 4) return vld1q_f32(src);
    float t[4] = {0};
    memcpy(t, src, (size_t)n * sizeof(float));
    return vld1q_f32(t);
}

INLINE void store_part(float *dst, float32x4_t x, int n) {
    if (n >= 4) {
        vst1q_f32(dst, x);
        return;
    }
    float t[4];
    vst1q_f32(t, x);
    memcpy(dst, t, (size_t)n * sizeof(float));
}

/* exp(x): Cody-Waite reduction by ln 2, degree-6 polynomial, 2^n built in
 * the exponent field (the clamp keeps n in [-126, 127]); the same
 * coefficients as the AVX2 set. */
INLINE float32x4_t exp4(float32x4_t x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.3f));
    float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

/* FMAX/FMIN return NaN when either operand is NaN, like the scalar
 * reference's comparisons (a NaN input stays NaN through relu and clip). */
static void gelu_neon(float *y, int64_t ldy, int64_t rows, int64_t n); /* kernels/rows_body.h */

INLINE float32x4_t act4(float32x4_t x, nnl_act act, float a, float b) {
    const float32x4_t zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f);
    switch (act) {
    case NNL_ACT_RELU: return vmaxq_f32(zero, x);
    case NNL_ACT_CLIP: return vminq_f32(vdupq_n_f32(b), vmaxq_f32(vdupq_n_f32(a), x));
    case NNL_ACT_SIGMOID: return vdivq_f32(one, vaddq_f32(one, exp4(vnegq_f32(x))));
    case NNL_ACT_HARDSIGMOID: {
        float32x4_t t = vfmaq_n_f32(vdupq_n_f32(b), x, a);
        return vminq_f32(one, vmaxq_f32(zero, t));
    }
    case NNL_ACT_HARDSWISH: {
        float32x4_t t = vfmaq_n_f32(vdupq_n_f32(0.5f), x, 1.0f / 6.0f);
        return vmulq_f32(x, vminq_f32(one, vmaxq_f32(zero, t)));
    }
    case NNL_ACT_LEAKYRELU: return vbslq_f32(vcltq_f32(x, zero), vmulq_n_f32(x, a), x);
    case NNL_ACT_SILU: return vdivq_f32(x, vaddq_f32(one, exp4(vnegq_f32(x))));
    case NNL_ACT_GELU: {
        float t[4];
        vst1q_f32(t, x);
        gelu_neon(t, 0, 1, 4);
        return vld1q_f32(t);
    }
    default: return x;
    }
}

/* Row i, columns col..col+3 (those below nr): accumulate, epilogue, store.
 * e is the caller's local copy of the epilogue (stores into C, floats as
 * alpha and beta are, would make every piece reload it through p->epi)
 * and act a constant of ukr_neon's switch for the common activations;
 * alpha 1 (every conv) skips its multiply.  At kc = 24 (a mobile 1x1
 * expansion) this took a third of the instructions of a tile's call. */
INLINE void store_vec(const nnl_ukr_args *p, const nnl_epilogue *e, float32x4_t x, int i, int col,
                      const nnl_act act, int shift) {
    const int n = p->nr - col;
    float *c = p->c + i * p->ldc + col - shift;
    if (p->accumulate) x = vaddq_f32(x, load_part(c, n));
    if (e) {
        if (e->alpha != 1.0f) x = vmulq_n_f32(x, e->alpha);
        if (e->bias_row) x = vaddq_f32(x, vdupq_n_f32(e->bias_row[i]));
        if (e->bias_col) x = vaddq_f32(x, load_part(e->bias_col + col, n));
        if (e->res) x = vfmaq_n_f32(x, load_part(e->res + i * e->res_rs + col - shift, n), e->beta);
        x = act4(x, act, e->act_a, e->act_b);
    }
    store_part(c, x, n);
}

/* A piece of row i that meets the tile's gap (nnl_ukr_args), element by
 * element: at most two a row. */
static void store_gap(const nnl_ukr_args *p, const nnl_epilogue *e, const float *x, int i, int col) {
    for (int l = 0; l < 4 && col + l < p->nr; l++) {
        const int j = col + l;
        if (j >= p->gap_at && j < p->gap_at + p->gap) continue;
        const int at = j >= p->gap_at ? j - p->gap : j;
        float *c = p->c + i * p->ldc + at;
        float v = x[l] + (p->accumulate ? *c : 0.0f);
        if (e) v = nnl_epi_apply(e, v, i, j, e->res ? e->res[i * e->res_rs + at] : 0.0f);
        *c = v;
    }
}

/* One k step on one row: lane l of A register ar times the B vectors. */
#define ROW(i, ar, l)                                                                                  \
    do {                                                                                               \
        c0[i] = vfmaq_laneq_f32(c0[i], b0, ar, l);                                                     \
        if (nv > 1) c1[i] = vfmaq_laneq_f32(c1[i], b1, ar, l);                                         \
        if (nv > 2) c2[i] = vfmaq_laneq_f32(c2[i], b2, ar, l);                                         \
    } while (0)

/* The k loop of the 8 x (4 nv) tile of columns col0.., leaving the sums
 * in acc[i][4 v + l].  Alone in a function (one per width) so that the
 * 24 accumulators get registers: with the epilogue in the same function
 * GCC spilled a third of them inside the loop. */
INLINE void kloop_nv(const nnl_ukr_args *p, int col0, float acc[8][HALF], const int nv) {
    float32x4_t c0[8], c1[8], c2[8];
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) c0[i] = c1[i] = c2[i] = vdupq_n_f32(0.0f);
    const float *a = p->a, *b = p->b + col0, *an = p->a_next;
    for (int64_t k = 0; k < p->kc; k++, a += 8, b += NR, an += 8) {
        if (col0 == 0) __builtin_prefetch(an);
        const float *bk = p->b_off ? p->b + col0 + p->b_off[k] : b;
        const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        const float32x4_t b0 = vld1q_f32(bk);
        const float32x4_t b1 = nv > 1 ? vld1q_f32(bk + 4) : b0;
        const float32x4_t b2 = nv > 2 ? vld1q_f32(bk + 8) : b0;
        ROW(0, a0, 0);
        ROW(1, a0, 1);
        ROW(2, a0, 2);
        ROW(3, a0, 3);
        ROW(4, a1, 0);
        ROW(5, a1, 1);
        ROW(6, a1, 2);
        ROW(7, a1, 3);
    }
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) {
        vst1q_f32(acc[i], c0[i]);
        if (nv > 1) vst1q_f32(acc[i] + 4, c1[i]);
        if (nv > 2) vst1q_f32(acc[i] + 8, c2[i]);
    }
}
#undef ROW

static __attribute__((noinline)) void kloop3(const nnl_ukr_args *p, int col0, float acc[8][HALF]) {
    kloop_nv(p, col0, acc, 3);
}
static __attribute__((noinline)) void kloop2(const nnl_ukr_args *p, int col0, float acc[8][HALF]) {
    kloop_nv(p, col0, acc, 2);
}
static __attribute__((noinline)) void kloop1(const nnl_ukr_args *p, int col0, float acc[8][HALF]) {
    kloop_nv(p, col0, acc, 1);
}

INLINE void store_half(const nnl_ukr_args *p, const nnl_epilogue *e, float acc[8][HALF], int col0,
                       const nnl_act act) {
    const int left = p->nr - col0;
    for (int i = 0; i < p->mr; i++)
        for (int v = 0; v < HALF && v < left; v += 4) {
            const int col = col0 + v;
            if (!p->gap || col + 4 <= p->gap_at)
                store_vec(p, e, vld1q_f32(acc[i] + v), i, col, act, 0);
            else if (col >= p->gap_at + p->gap)
                store_vec(p, e, vld1q_f32(acc[i] + v), i, col, act, p->gap);
            else
                store_gap(p, e, acc[i] + v, i, col);
        }
}

static void ukr_neon(const nnl_ukr_args *p) {
    float acc[8][HALF];
    nnl_epilogue e;
    if (p->epi) e = *p->epi;
    const nnl_epilogue *ep = p->epi ? &e : NULL;
    for (int col0 = 0; col0 < NR && col0 < p->nr; col0 += HALF) {
        const int left = p->nr - col0;
        if (left > 8)
            kloop3(p, col0, acc);
        else if (left > 4)
            kloop2(p, col0, acc);
        else
            kloop1(p, col0, acc);
        switch (ep ? e.act : NNL_ACT_NONE) {
        case NNL_ACT_NONE: store_half(p, ep, acc, col0, NNL_ACT_NONE); break;
        case NNL_ACT_RELU: store_half(p, ep, acc, col0, NNL_ACT_RELU); break;
        case NNL_ACT_CLIP: store_half(p, ep, acc, col0, NNL_ACT_CLIP); break;
        case NNL_ACT_HARDSWISH: store_half(p, ep, acc, col0, NNL_ACT_HARDSWISH); break;
        case NNL_ACT_SILU: store_half(p, ep, acc, col0, NNL_ACT_SILU); break;
        default: store_half(p, ep, acc, col0, e.act); break;
        }
    }
}

static void epi_row_neon(float *y, const float *x, int64_t n, float bias, const float *res, float beta,
                         nnl_act act, float a, float b) {
    /* GELU over the whole row after it is stored: its vectors together */
    const nnl_act act1 = act == NNL_ACT_GELU ? NNL_ACT_NONE : act;
    for (int64_t i = 0; i < n; i += 4) {
        const int m = n - i < 4 ? (int)(n - i) : 4;
        float32x4_t v = vaddq_f32(load_part(x + i, m), vdupq_n_f32(bias));
        if (res) v = vfmaq_n_f32(v, load_part(res + i, m), beta);
        store_part(y + i, act4(v, act1, a, b), m);
    }
    if (act == NNL_ACT_GELU) gelu_neon(y, 0, 1, n);
}

/* acc[i] = sum_k panel[k * 8 + i] * x[k * xs]: the generic body's four
 * partial sums (k mod 4) combined in its order, in registers (GCC kept the
 * generic 32-byte vectors on the stack here: 0.77 instructions per FLOP
 * against 0.3 for this). */
static void dot8_neon(const float *panel, const float *x, int64_t xs, int64_t k, float *acc) {
    float32x4_t lo[4], hi[4];
    for (int q = 0; q < 4; q++) lo[q] = hi[q] = vdupq_n_f32(0.0f);
    int64_t j = 0;
    for (; j + 4 <= k; j += 4)
        _Pragma("GCC unroll 4")
        for (int q = 0; q < 4; q++) {
            const float xv = x[(j + q) * xs];
            lo[q] = vfmaq_n_f32(lo[q], vld1q_f32(panel + 8 * (j + q)), xv);
            hi[q] = vfmaq_n_f32(hi[q], vld1q_f32(panel + 8 * (j + q) + 4), xv);
        }
    for (; j < k; j++) {
        lo[0] = vfmaq_n_f32(lo[0], vld1q_f32(panel + 8 * j), x[j * xs]);
        hi[0] = vfmaq_n_f32(hi[0], vld1q_f32(panel + 8 * j + 4), x[j * xs]);
    }
    vst1q_f32(acc, vaddq_f32(vaddq_f32(lo[0], lo[1]), vaddq_f32(lo[2], lo[3])));
    vst1q_f32(acc + 4, vaddq_f32(vaddq_f32(hi[0], hi[1]), vaddq_f32(hi[2], hi[3])));
}

/* fcvtl, 4 halves at a time (ARMv8-A has it in the base ISA). */
static void h2f_neon(float *y, const uint16_t *x, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))));
    for (; i < n; i++) y[i] = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(x[i]))), 0);
}

/* nnl_split2_fn: vld2q's de-interleaving load, 4 of each phase. */
static void split2_neon(float *even, float *odd, const float *s, int64_t n) {
    int64_t j = 0;
    if (!odd) {
        /* s[2j + 7] exists while j + 4 < n */
        for (; j + 4 < n; j += 4) vst1q_f32(even + j, vld2q_f32(s + 2 * j).val[0]);
        for (; j < n; j++) even[j] = s[2 * j];
        return;
    }
    for (; j + 4 <= n; j += 4) {
        const float32x4x2_t v = vld2q_f32(s + 2 * j);
        vst1q_f32(even + j, v.val[0]);
        vst1q_f32(odd + j, v.val[1]);
    }
    for (; j < n; j++) {
        even[j] = s[2 * j];
        odd[j] = s[2 * j + 1];
    }
}

/* ---- 8-bit microkernel --------------------------------------------------
 * Tile 8 rows x 8 pixels as two halves of 4 rows.  A uint8 x int8 product
 * fits int16 (255 * -128 = -32640), so activations are widened to int16
 * (two pixels' quads a register), multiplied by the row's quad repeated
 * (vmulq_s16, exact) and adjacent products added pairwise into int32
 * lanes (vpadalq_s16): plain ARMv8.0, no dot-product extension needed.
 * c[i][j] holds (k01, k23) of pixels 2j and 2j + 1; vpaddq_s32 of two
 * gives four pixels' sums. */
#define QNR 8

/* Requantize 4 sums of row i (kernels/qconv.h) to their int32 values. */
INLINE int32x4_t q_requant(int32x4_t acc, const nnl_qepi *e, int i) {
    float32x4_t v = vmulq_n_f32(vcvtq_f32_s32(vaddq_s32(acc, vdupq_n_s32(e->off[i]))), e->mult[i]);
    v = vaddq_f32(vrndnq_f32(v), vdupq_n_f32(e->zy));
    v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(e->lo)), vdupq_n_f32(e->hi));
    return vcvtq_s32_f32(v);
}

static void qukr_neon(const nnl_qukr_args *p) {
    for (int r0 = 0; r0 < NNL_MR; r0 += 4) {
        if (p->last && r0 >= p->mr) break;
        int32x4_t c[4][4];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) c[i][j] = vdupq_n_s32(0);
        const int8_t *w = p->w + 4 * r0;
        for (int64_t q = 0; q < p->kq; q++, w += 4 * NNL_MR) {
            const uint8_t *x = p->x + p->xoff[q];
            const uint8x16_t xa = vld1q_u8(x), xb = vld1q_u8(x + 16);
            const int16x8_t xs[4] = {vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(xa))),
                                     vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(xa))),
                                     vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(xb))),
                                     vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(xb)))};
            const int16x8_t w01 = vmovl_s8(vld1_s8(w)), w23 = vmovl_s8(vld1_s8(w + 8));
            const int16x8_t wd[4] = {vcombine_s16(vget_low_s16(w01), vget_low_s16(w01)),
                                     vcombine_s16(vget_high_s16(w01), vget_high_s16(w01)),
                                     vcombine_s16(vget_low_s16(w23), vget_low_s16(w23)),
                                     vcombine_s16(vget_high_s16(w23), vget_high_s16(w23))};
            _Pragma("GCC unroll 4")
            for (int i = 0; i < 4; i++)
                _Pragma("GCC unroll 4")
                for (int j = 0; j < 4; j++) c[i][j] = vpadalq_s16(c[i][j], vmulq_s16(xs[j], wd[i]));
        }
        for (int i = 0; i < 4; i++) {
            int r = r0 + i;
            int32x4_t s0 = vpaddq_s32(c[i][0], c[i][1]), s1 = vpaddq_s32(c[i][2], c[i][3]);
            if (!p->first) {
                s0 = vaddq_s32(s0, vld1q_s32(p->acc + r * QNR));
                s1 = vaddq_s32(s1, vld1q_s32(p->acc + r * QNR + 4));
            }
            if (!p->last) {
                vst1q_s32(p->acc + r * QNR, s0);
                vst1q_s32(p->acc + r * QNR + 4, s1);
                continue;
            }
            if (r >= p->mr) break;
            /* the low byte of each value: uint8 or int8 alike */
            int16x8_t h = vcombine_s16(vmovn_s32(q_requant(s0, p->epi, r)), vmovn_s32(q_requant(s1, p->epi, r)));
            uint8_t bytes[QNR];
            vst1_u8(bytes, vreinterpret_u8_s8(vmovn_s16(h)));
            memcpy(p->y + r * p->ldy, bytes, (size_t)p->nr);
        }
    }
}

/* ---- the dot-product tile (ARMv8.2 DotProd: every phone core since
 * Cortex-A55/A75) ------------------------------------------------------
 * sdot multiplies signed bytes only, so this kernel reads activations as
 * int8 (nnl_qukr.sx: uint8 inputs are staged x ^ 0x80, the zero point
 * taken in that domain): one vdotq_laneq_s32 adds a row's quad . four
 * pixels' quads into four int32 lanes.  Tile 8 rows x 8 pixels: 16
 * accumulators, two pixel and two weight registers a quad (4 loads for
 * 16 sdot, 64 multiply-adds each, against vmulq/vpadalq's 8 a pair). */
#define QNR_DOT 8

#define DOT_ROW_(i, wv, lane)                                                                          \
    c[i][0] = vdotq_laneq_s32(c[i][0], x0, wv, lane);                                                  \
    c[i][1] = vdotq_laneq_s32(c[i][1], x1, wv, lane);

__attribute__((target("arch=armv8.2-a+dotprod"))) static void qukr_dot(const nnl_qukr_args *p) {
    int32x4_t c[NNL_MR][2];
    for (int i = 0; i < NNL_MR; i++)
        for (int v = 0; v < 2; v++) c[i][v] = p->first ? vdupq_n_s32(0) : vld1q_s32(p->acc + i * QNR_DOT + 4 * v);
    const int8_t *w = p->w;
    for (int64_t q = 0; q < p->kq; q++, w += 4 * NNL_MR) {
        const int8_t *x = (const int8_t *)p->x + p->xoff[q];
        const int8x16_t x0 = vld1q_s8(x), x1 = vld1q_s8(x + 16);
        const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16);
        DOT_ROW_(0, w0, 0) DOT_ROW_(1, w0, 1) DOT_ROW_(2, w0, 2) DOT_ROW_(3, w0, 3)
        DOT_ROW_(4, w1, 0) DOT_ROW_(5, w1, 1) DOT_ROW_(6, w1, 2) DOT_ROW_(7, w1, 3)
    }
    if (!p->last) {
        for (int i = 0; i < NNL_MR; i++)
            for (int v = 0; v < 2; v++) vst1q_s32(p->acc + i * QNR_DOT + 4 * v, c[i][v]);
        return;
    }
    for (int r = 0; r < p->mr; r++) {
        /* the low byte of each value: uint8 or int8 alike */
        int16x8_t h = vcombine_s16(vmovn_s32(q_requant(c[r][0], p->epi, r)), vmovn_s32(q_requant(c[r][1], p->epi, r)));
        uint8_t bytes[QNR_DOT];
        vst1_u8(bytes, vreinterpret_u8_s8(vmovn_s16(h)));
        memcpy(p->y + r * p->ldy, bytes, (size_t)p->nr);
    }
}

static bool has_dotprod(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }

/* 8-bit depthwise taps, 32 pixels a block: each tap's bytes widened to
 * int16 once (uxtl), then smlal / smlal2 multiply them by the tap's weight
 * and add the products to eight int32x4 sums (the portable loops widen to
 * 32 bits and multiply there: twice the multiplies).  A product fits int16
 * x int16 -> int32 exactly; the sums wrap as the reference's.  Then
 * nnl_requant's arithmetic, rounding to nearest even (frintn), narrowed to
 * the low bytes. */
static void qdw_neon(uint8_t *y, const uint8_t *const *src, const int8_t *w, int nt, int64_t n,
                     const nnl_qdw_epi *e) {
    const float32x4_t mult = vdupq_n_f32(e->mult), zy = vdupq_n_f32(e->zy), lo = vdupq_n_f32(e->lo),
                      hi = vdupq_n_f32(e->hi);
    for (int64_t f = 0; f < n; f += NNL_QDW_BLOCK) {
        int32x4_t acc[8];
        for (int k = 0; k < 8; k++) acc[k] = vdupq_n_s32(e->off);
        for (int t = 0; t < nt; t++) {
            const int16x4_t wt = vdup_n_s16((int16_t)w[t]);
            const uint8_t *s = src[t] + f;
            for (int h = 0; h < 2; h++) {
                const uint8x16_t b = vld1q_u8(s + 16 * h);
                const int16x8_t x0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(b)));
                const int16x8_t x1 = vreinterpretq_s16_u16(vmovl_high_u8(b));
                acc[4 * h] = vmlal_s16(acc[4 * h], vget_low_s16(x0), wt);
                acc[4 * h + 1] = vmlal_high_s16(acc[4 * h + 1], x0, vcombine_s16(wt, wt));
                acc[4 * h + 2] = vmlal_s16(acc[4 * h + 2], vget_low_s16(x1), wt);
                acc[4 * h + 3] = vmlal_high_s16(acc[4 * h + 3], x1, vcombine_s16(wt, wt));
            }
        }
        int16x8_t h16[4];
        for (int k = 0; k < 4; k++) {
            int32x4_t v[2];
            for (int j = 0; j < 2; j++) {
                float32x4_t r = vrndnq_f32(vmulq_f32(vcvtq_f32_s32(acc[2 * k + j]), mult));
                v[j] = vcvtq_s32_f32(vminq_f32(vmaxq_f32(vaddq_f32(r, zy), lo), hi));
            }
            h16[k] = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
        }
        /* the low byte of each value: uint8 or int8 alike */
        vst1q_u8(y + f, vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(h16[0]), vmovn_s16(h16[1]))));
        vst1q_u8(y + f + 16, vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(h16[2]), vmovn_s16(h16[3]))));
    }
}

/* nnl_il4_fn: st4 stores four registers' bytes interleaved, which is the
 * whole operation; the tail goes to the portable form. */
static void il4_neon(uint32_t *o, const uint8_t *const r[4], int64_t m, uint32_t flip) {
    const uint8x16_t f = vdupq_n_u8((uint8_t)flip);
    int64_t j = 0;
    for (; j + 16 <= m; j += 16) {
        uint8x16x4_t v = {{veorq_u8(vld1q_u8(r[0] + j), f), veorq_u8(vld1q_u8(r[1] + j), f),
                           veorq_u8(vld1q_u8(r[2] + j), f), veorq_u8(vld1q_u8(r[3] + j), f)}};
        vst4q_u8((uint8_t *)(o + j), v);
    }
    if (j < m) {
        const uint8_t *rt[4] = {r[0] + j, r[1] + j, r[2] + j, r[3] + j};
        nnl_il4_generic(o + j, rt, m - j, flip);
    }
}

static bool always(void) { return true; }

static const nnl_qukr qukr_n = {.name = "neon", .nr = QNR, .kq = 128, .supported = always, .fn = qukr_neon,
                                .il4 = il4_neon};
static const nnl_qukr qukr_sdot = {.name = "dotprod", .nr = QNR_DOT, .kq = 128, .supported = has_dotprod,
                                   .fn = qukr_dot, .il4 = il4_neon, .sx = true};

NNL_GENERIC_KERNELS_BUT_DOT8(neon)
NNL_GENERIC_VECTOR_KERNELS(neon, 16)

/* 4 quotients of a tame 8-bit add (nnl_qadd_tame: no NaN or overflow can
 * arise) rounded to nearest even, zy not yet added: the products and sum
 * as the unfused ops round them, then the reciprocal's corrected quotient
 * (kernels/qadd_body.h). */
NNL_NO_FP_CONTRACT_FN static inline int32x4_t qadd4_tame(int32x4_t ia, int32x4_t ib, const nnl_qadd_params *p,
                                                          float inv) {
    NNL_NO_FP_CONTRACT_BODY
    float32x4_t s = vaddq_f32(vmulq_n_f32(vcvtq_f32_s32(vsubq_s32(ia, vdupq_n_s32(p->za))), p->sa),
                              vmulq_n_f32(vcvtq_f32_s32(vsubq_s32(ib, vdupq_n_s32(p->zb))), p->sb));
    float32x4_t q = vmulq_n_f32(s, inv);
    q = vfmaq_n_f32(q, vfmsq_n_f32(s, q, p->sy), inv);
    return vcvtnq_s32_f32(q);
}

/* 16 bytes of an operand widened to int32 (uint8 or int8). */
static inline void widen16(const uint8_t *x, bool u8, int32x4_t out[4]) {
    int16x8_t lo, hi;
    if (u8) {
        uint8x16_t v = vld1q_u8(x);
        lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
        hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(v)));
    } else {
        int8x16_t v = vld1q_s8((const int8_t *)x);
        lo = vmovl_s8(vget_low_s8(v));
        hi = vmovl_s8(vget_high_s8(v));
    }
    out[0] = vmovl_s16(vget_low_s16(lo));
    out[1] = vmovl_s16(vget_high_s16(lo));
    out[2] = vmovl_s16(vget_low_s16(hi));
    out[3] = vmovl_s16(vget_high_s16(hi));
}

/* The 8-bit add, 16 bytes a step where the scales are tame (narrowed with
 * saturation, zy added in int16, the clamp on the bytes: as the x86 sets'
 * qadd_tame512), else the generic vector form; a tail through a local
 * copy. */
NNL_NO_FP_CONTRACT_FN static void qadd_neon(void *y, const void *a, const void *b, int64_t n,
                                            const nnl_qadd_params *p) {
    NNL_NO_FP_CONTRACT_BODY
    float inv;
    if (!nnl_qadd_recip(p, &inv) || !nnl_qadd_tame(p, inv)) {
        qadd_div_neon(y, a, b, n, p);
        return;
    }
    const int16x8_t zy = vdupq_n_s16((int16_t)p->zy);
    const int32_t lo = (int32_t)p->lo + p->zy, hi = (int32_t)p->hi + p->zy;
    for (int64_t i = 0; i < n; i += 16) {
        uint8_t ta[16], tb[16], ty[16];
        const uint8_t *pa = (const uint8_t *)a + i, *pb = (const uint8_t *)b + i;
        uint8_t *py = (uint8_t *)y + i;
        const int64_t m = n - i < 16 ? n - i : 16;
        if (m < 16) {
            memset(ta, 0, sizeof ta), memset(tb, 0, sizeof tb);
            memcpy(ta, pa, (size_t)m), memcpy(tb, pb, (size_t)m);
            pa = ta, pb = tb, py = ty;
        }
        int32x4_t ia[4], ib[4], r[4];
        widen16(pa, p->a_u8, ia);
        widen16(pb, p->b_u8, ib);
        for (int k = 0; k < 4; k++) r[k] = qadd4_tame(ia[k], ib[k], p, inv);
        int16x8_t w0 = vqaddq_s16(vcombine_s16(vqmovn_s32(r[0]), vqmovn_s32(r[1])), zy);
        int16x8_t w1 = vqaddq_s16(vcombine_s16(vqmovn_s32(r[2]), vqmovn_s32(r[3])), zy);
        if (p->y_u8) {
            uint8x16_t v = vcombine_u8(vqmovun_s16(w0), vqmovun_s16(w1));
            v = vminq_u8(vmaxq_u8(v, vdupq_n_u8((uint8_t)lo)), vdupq_n_u8((uint8_t)hi));
            vst1q_u8(py, v);
        } else {
            int8x16_t v = vcombine_s8(vqmovn_s16(w0), vqmovn_s16(w1));
            v = vminq_s8(vmaxq_s8(v, vdupq_n_s8((int8_t)lo)), vdupq_n_s8((int8_t)hi));
            vst1q_s8((int8_t *)py, v);
        }
        if (m < 16) memcpy((uint8_t *)y + i, ty, (size_t)m);
    }
}


/* ASIMD is part of every ARMv8-A Linux system; the kernel still reports it. */
static bool supported(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0; }

const nnl_kernel nnl_kernel_neon = {
    .name = "neon",
    .nr = NR,
    .kc = 256,
    .nc = 384,
    .supported = supported,
    .ukr = ukr_neon,
    .epi_row = epi_row_neon,
    .tile_t = nnl_tile_t_ref,   /* no transposed tile: only the Winograd driver uses it */
    .dot8 = dot8_neon,
    .h2f = h2f_neon,
    .split2 = split2_neon,
    NNL_GENERIC_ENTRIES_BUT_DOT8(neon),
    NNL_GENERIC_VECTOR_ENTRIES(neon, 16),
    .qadd = qadd_neon,
    .qdw = qdw_neon,
    .qukr = {&qukr_sdot, &qukr_n},
};
#endif
