/*
 * AVX-512 kernels.  Microkernel tile 8 x 48: 24 zmm accumulators, per k
 * three B loads and eight A broadcasts for 24 FMAs, so the FMA ports and
 * not the loads bound it.  Narrower tails use the same code with one or
 * two vectors per row (the B panel stride stays 48).
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "kernels/kernels_isa.h"
#include "kernels/x86_cpu.h"
#include "kernels/generic_set.h"

#define NR 48
#define INLINE static inline __attribute__((always_inline))

/* exp(x) for x in float range: Cody-Waite reduction by ln 2 and a degree-6
 * polynomial on [-ln2/2, ln2/2]; relative error about 2 ulp. */
INLINE __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

static void gelu_avx512(float *y, int64_t ldy, int64_t rows, int64_t n); /* kernels/rows_body.h */

INLINE __m512 act512(__m512 x, nnl_act act, float a, float b) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    switch (act) {
    case NNL_ACT_RELU: return _mm512_max_ps(zero, x);
    case NNL_ACT_CLIP: return _mm512_min_ps(_mm512_set1_ps(b), _mm512_max_ps(_mm512_set1_ps(a), x));
    case NNL_ACT_SIGMOID: {
        __m512 e = exp512(_mm512_sub_ps(zero, x));
        return _mm512_div_ps(one, _mm512_add_ps(one, e));
    }
    case NNL_ACT_HARDSIGMOID: {
        __m512 t = _mm512_fmadd_ps(_mm512_set1_ps(a), x, _mm512_set1_ps(b));
        return _mm512_min_ps(one, _mm512_max_ps(zero, t));
    }
    case NNL_ACT_HARDSWISH: {
        __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
        return _mm512_mul_ps(x, _mm512_min_ps(one, _mm512_max_ps(zero, t)));
    }
    case NNL_ACT_SILU: {
        __m512 e = exp512(_mm512_sub_ps(zero, x));
        return _mm512_div_ps(x, _mm512_add_ps(one, e));
    }
    case NNL_ACT_LEAKYRELU: {
        __mmask16 neg = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
        return _mm512_mask_mul_ps(x, neg, x, _mm512_set1_ps(a));
    }
    case NNL_ACT_GELU: {
        float t[16];
        _mm512_storeu_ps(t, x);
        gelu_avx512(t, 0, 1, 16);
        return _mm512_loadu_ps(t);
    }
    default: return x;
    }
}

INLINE __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}

/* Lanes i < n. */
INLINE __mmask16 lanes_below(int64_t n) { return n <= 0 ? (__mmask16)0 : tail_mask(n); }

/* x at lanes lo from at, at lanes hi from at - gap (nnl_ukr_args.gap). */
INLINE __m512 load_gap(const float *at, __mmask16 lo, __mmask16 hi, int gap) {
    return _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(lo, at), hi, at - gap);
}

/* A tile with a gap (a wide grid's row end): the plain path computes it
 * into a tile on the stack, then each 16-wide piece goes to C in two
 * masked stores, the lanes after the gap gap floats earlier.  The plain
 * path applies the whole epilogue where nothing is added after the sums
 * (stems: no residual, one K block); else it runs here on the sums with
 * C's earlier blocks and the residual read past the gap the same way.
 * One out-of-line path, the activation a value: a gap variant of every
 * templated store made the file's build under the fuzzing sanitizers
 * minutes longer, and the activation as a value inside the templated
 * stores spilled the accumulators (stems 1.5-1.7x slower). */
static void ukr_avx512(const nnl_ukr_args *p);

static __attribute__((noinline)) void ukr_gap_avx512(const nnl_ukr_args *p0) {
    float t[NNL_MR * NR] __attribute__((aligned(64)));
    nnl_ukr_args p;
    nnl_epilogue e;
    const nnl_ukr_args q = nnl_ukr_gap_local(p0, &p, &e, t, NR);
    const bool late = nnl_ukr_gap_late(&p), epi = late && p.epi;
    ukr_avx512(&q);
    for (int col = 0; col < p.nr; col += 16) {
        const __mmask16 m = tail_mask(p.nr - col), lo = m & lanes_below(p.gap_at - col),
                        hi = m & (__mmask16)~lanes_below(p.gap_at + p.gap - col);
        for (int i = 0; i < p.mr; i++) {
            float *c = p.c + i * p.ldc + col;
            __m512 x = _mm512_load_ps(t + i * NR + col);
            if (late) {
                if (p.accumulate) x = _mm512_add_ps(x, load_gap(c, lo, hi, p.gap));
                if (epi) {
                    if (e.alpha != 1.0f) x = _mm512_mul_ps(x, _mm512_set1_ps(e.alpha));
                    if (e.bias_row) x = _mm512_add_ps(x, _mm512_set1_ps(e.bias_row[i]));
                    if (e.bias_col) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, e.bias_col + col));
                    if (e.res)
                        x = _mm512_fmadd_ps(_mm512_set1_ps(e.beta), load_gap(e.res + i * e.res_rs + col, lo, hi, p.gap),
                                            x);
                    x = act512(x, e.act, e.act_a, e.act_b);
                }
            }
            _mm512_mask_storeu_ps(c, lo, x);
            if (hi) _mm512_mask_storeu_ps(c - p.gap, hi, x);
        }
    }
}

/* Store one 16-wide piece of row i: accumulate, epilogue, masked store.
 * act is a constant of the caller's branch, so the 24 stores of a tile
 * pay no switch; alpha 1 (every conv) skips its multiply. */
INLINE void store_vec(const nnl_ukr_args *p, __m512 x, int i, int col, const nnl_act act) {
    __mmask16 m = tail_mask(p->nr - col);
    float *c = p->c + i * p->ldc + col;
    if (p->accumulate) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, c));
    const nnl_epilogue *e = p->epi;
    if (e) {
        if (e->alpha != 1.0f) x = _mm512_mul_ps(x, _mm512_set1_ps(e->alpha));
        if (e->bias_row) x = _mm512_add_ps(x, _mm512_set1_ps(e->bias_row[i]));
        if (e->bias_col) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, e->bias_col + col));
        if (e->res)
            x = _mm512_fmadd_ps(_mm512_set1_ps(e->beta), _mm512_maskz_loadu_ps(m, e->res + i * e->res_rs + col),
                                x);
        /* GELU runs after the tile is stored (ukr_avx512); act is NONE then */
        x = act512(x, act, e->act_a, e->act_b);
    }
    _mm512_mask_storeu_ps(c, m, x);
}

/* The stores read the call and its epilogue from local copies: a masked
 * store is a builtin that may write any object whose address escaped, so
 * through the caller's p and p->epi each of the 24 stores made the next
 * reload and retest them all (c, ldc, nr, the bias pointers, alpha, the
 * clamps).  ~60 cycles a tile on Zen 4: MobileNetV3's 16 -> 64 1x1 conv
 * at 112x112 0.350 -> 0.309 ms; copying the epilogue alone kept most of
 * the loss (0.335). */
INLINE void store_tile(const nnl_ukr_args *p0, const __m512 *c0, const __m512 *c1, const __m512 *c2, const int nv,
                       const nnl_act act) {
    nnl_ukr_args q = *p0;
    nnl_epilogue e;
    if (q.epi) e = *q.epi, q.epi = &e;
    const nnl_ukr_args *p = &q;
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) {
        if (i >= p->mr) break;
        store_vec(p, c0[i], i, 0, act);
        if (nv > 1 && p->nr > 16) store_vec(p, c1[i], i, 16, act);
        if (nv > 2 && p->nr > 32) store_vec(p, c2[i], i, 32, act);
    }
}

INLINE void ukr_nv(const nnl_ukr_args *p, const int nv, const bool OFF) {
    __m512 c0[8], c1[8], c2[8];
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) c0[i] = c1[i] = c2[i] = _mm512_setzero_ps();
    const float *a = p->a, *b = p->b, *an = p->a_next;
    _Pragma("GCC unroll 2")
    for (int64_t k = 0; k < p->kc; k++, a += 8, b += NR, an += 8) {
        /* the next call's A slice, a line every other step */
        if (!(k & 1)) _mm_prefetch((const char *)an, _MM_HINT_T0);
        const float *bk = OFF ? p->b + p->b_off[k] : b;
        __m512 b0 = _mm512_loadu_ps(bk);
        __m512 b1 = nv > 1 ? _mm512_loadu_ps(bk + 16) : b0;
        __m512 b2 = nv > 2 ? _mm512_loadu_ps(bk + 32) : b0;
        _Pragma("GCC unroll 8")
        for (int i = 0; i < 8; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            if (nv > 1) c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
            if (nv > 2) c2[i] = _mm512_fmadd_ps(ai, b2, c2[i]);
        }
    }
    switch (p->epi ? p->epi->act : NNL_ACT_NONE) {
    case NNL_ACT_RELU: store_tile(p, c0, c1, c2, nv, NNL_ACT_RELU); break;
    case NNL_ACT_CLIP: store_tile(p, c0, c1, c2, nv, NNL_ACT_CLIP); break;
    case NNL_ACT_SIGMOID: store_tile(p, c0, c1, c2, nv, NNL_ACT_SIGMOID); break;
    case NNL_ACT_HARDSIGMOID: store_tile(p, c0, c1, c2, nv, NNL_ACT_HARDSIGMOID); break;
    case NNL_ACT_HARDSWISH: store_tile(p, c0, c1, c2, nv, NNL_ACT_HARDSWISH); break;
    case NNL_ACT_SILU: store_tile(p, c0, c1, c2, nv, NNL_ACT_SILU); break;
    case NNL_ACT_LEAKYRELU: store_tile(p, c0, c1, c2, nv, NNL_ACT_LEAKYRELU); break;
    default: store_tile(p, c0, c1, c2, nv, NNL_ACT_NONE); break;
    }
}

static void ukr_avx512(const nnl_ukr_args *p) {
    const bool off = p->b_off != NULL;
    if (p->gap) {
        ukr_gap_avx512(p);
        return;
    }
    if (p->nr > 32)
        off ? ukr_nv(p, 3, true) : ukr_nv(p, 3, false);
    else if (p->nr > 16)
        off ? ukr_nv(p, 2, true) : ukr_nv(p, 2, false);
    else
        off ? ukr_nv(p, 1, true) : ukr_nv(p, 1, false);
    /* GELU (long polynomials) after every row is stored: as a call in the
     * epilogue it would spill the live accumulators around it */
    if (p->epi && p->epi->act == NNL_ACT_GELU)
        gelu_avx512(p->c, p->ldc, p->mr, p->nr);
}

/* The transposed tile's accumulators zeroed and its weight pointers: with
 * JOIN the np PACK_A8 panels (past np panel 0 again: lanes whose sums are
 * never stored), else the NV vectors of joined pairs. */
INLINE void tukr_start(const nnl_tukr_args *p, __m512 acc[][3], const float *a[6], const int NJ, const int NV,
                       const bool JOIN) {
#pragma GCC unroll 24
    for (int j = 0; j < NJ; j++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) acc[j][v] = _mm512_setzero_ps();
    if (JOIN)
        for (int q = 0; q < 6; q++) a[q] = p->a + (q < p->np ? q : 0) * p->a_ps;
    else
        for (int v = 0; v < 3; v++) a[v] = p->a + (v < NV ? v : 0) * p->a_ps;
}

/* K step k's weights: a joined vector's one load; with JOIN two panels'
 * 32-byte slices and a vinsertf32x8 (a uop on an FMA port), the result
 * kept in p->join for the task's next calls. */
INLINE void tukr_weights(const nnl_tukr_args *p, __m512 w[3], const float *const a[6], int64_t k, const int NV,
                         const bool JOIN) {
#pragma GCC unroll 3
    for (int v = 0; v < NV; v++) {
        if (!JOIN) {
            w[v] = _mm512_loadu_ps(a[v] + k * 16);
            continue;
        }
        w[v] = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(a[2 * v] + k * NNL_MR)),
                                  _mm256_loadu_ps(a[2 * v + 1] + k * NNL_MR), 1);
        _mm512_store_ps(p->join + (v * p->kc + k) * 16, w[v]);
    }
}

/* The tile's sums stored (or added) to t, the pixels and channels that exist. */
INLINE void tukr_store(const nnl_tukr_args *p, __m512 acc[][3]) {
    const int nv = (p->np + 1) / 2;
    for (int j = 0; j < p->nj; j++)
        for (int v = 0; v < nv; v++) {
            float *t = p->t + j * p->ldt + 16 * v;
            __mmask16 m = 2 * v + 1 < p->np ? 0xFFFF : 0x00FF;
            __m512 r = p->accumulate ? _mm512_add_ps(acc[j][v], _mm512_maskz_loadu_ps(m, t)) : acc[j][v];
            _mm512_mask_storeu_ps(t, m, r);
        }
}

/* K step k of tukr_body (runs of L pixels from run[]) into acc. */
INLINE void tukr_step(const nnl_tukr_args *p, __m512 acc[][3], const float *const a[6], const int64_t *run,
                      int64_t k, const int NJ, const int NV, const int L, const bool JOIN) {
    const int R = NJ / L;
    __m512 w[3];
    tukr_weights(p, w, a, k, NV, JOIN);
    const float *bk = p->b + p->b_off[k];
#pragma GCC unroll 24
    for (int r = 0; r < R; r++) {
        const float *br = bk + run[r];
#pragma GCC unroll 8
        for (int x = 0; x < L; x++) {
            __m512 b = _mm512_set1_ps(br[x]);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) acc[r * L + x][v] = _mm512_fmadd_ps(b, w[v], acc[r * L + x][v]);
        }
    }
}

/* K step k of tukr_body_s (NJ pixels s apart from x0) into acc. */
INLINE void tukr_step_s(const nnl_tukr_args *p, __m512 acc[][3], const float *const a[6], const float *x0,
                        int64_t s, int64_t k, const int NJ, const int NV, const bool JOIN) {
    __m512 w[3];
    tukr_weights(p, w, a, k, NV, JOIN);
    const float *bk = x0 + p->b_off[k];
#pragma GCC unroll 24
    for (int j = 0; j < NJ; j++) {
        __m512 b = _mm512_set1_ps(bk[j * s]);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) acc[j][v] = _mm512_fmadd_ps(b, w[v], acc[j][v]);
    }
}

/* The K loop of a tukr body: its first pre_n steps each ask for one line
 * of the driver's list (nnl_tukr_args.pre) in a loop of their own, so
 * that the calls without a list (and the steps after it) run the loop
 * they had, with no test a step and no more general registers (short
 * in these loops: see tukr_body_s). */
#define TUKR_K_LOOP(STEP)                                                     \
    do {                                                                      \
        const int64_t kc = p->kc, n = p->pre_n < kc ? p->pre_n : kc;          \
        const char *line = p->pre;                                            \
        const int64_t ps = p->pre_ps, np_ = p->pre_np;                        \
        int64_t k = 0;                                                        \
        for (int64_t q = 0; k < n; k++) {                                     \
            _mm_prefetch(line, _MM_HINT_T1);                                  \
            line += ps;                                                       \
            if (++q == np_) {                                                 \
                q = 0;                                                        \
                line += 64 - np_ * ps;                                        \
            }                                                                 \
            STEP;                                                             \
        }                                                                     \
        for (; k < kc; k++) STEP;                                             \
    } while (0)

/* Transposed tile: NV vectors of 16 output channels (two PACK_A8 panels
 * side by side) for NJ pixels, every pixel a broadcast; NJ x NV <= 24
 * accumulators.  The pixels are NJ / L runs of L consecutive floats (a
 * 7x7 or 14x14 map's rows, 7 a run; L = 1: any offsets), so a broadcast is
 * its run's pointer plus a constant: per-pixel offsets cost an address
 * computation each and, with 8 or more, more general registers than
 * there are. */
INLINE void tukr_body(const nnl_tukr_args *p, const int NJ, const int NV, const int L, const bool JOIN) {
    __m512 acc[NNL_TUKR_PX][3];
    const float *a[6];
    tukr_start(p, acc, a, NJ, NV, JOIN);
    const int R = NJ / L;      /* runs */
    int64_t run[NNL_TUKR_PX];
    for (int r = 0; r < R; r++) run[r] = p->pix[r * L < p->nj ? r * L : p->nj - 1];
    TUKR_K_LOOP(tukr_step(p, acc, a, run, k, NJ, NV, L, JOIN));
    tukr_store(p, acc);
}

/* tukr_body for NJ pixels evenly spaced (pix[j] = pix[0] + j s: a
 * MatMul's rows of X): one pointer a K step and the stride, not NJ
 * offsets, which with the six panel pointers outgrew the general
 * registers (spilled and reloaded every K step). */
INLINE void tukr_body_s(const nnl_tukr_args *p, const int NJ, const int NV, const bool JOIN) {
    __m512 acc[NNL_TUKR_PX][3];
    const float *a[6];
    tukr_start(p, acc, a, NJ, NV, JOIN);
    const float *x0 = p->b + p->pix[0];
    const int64_t s = p->pix[1] - p->pix[0];
    TUKR_K_LOOP(tukr_step_s(p, acc, a, x0, s, k, NJ, NV, JOIN));
    tukr_store(p, acc);
}

/* Whether pix[0..n) are evenly spaced, n >= 2. */
static bool tukr_even(const int64_t *pix, int n) {
    for (int j = 2; j < n; j++)
        if (pix[j] - pix[j - 1] != pix[1] - pix[0]) return false;
    return n >= 2;
}

/* Whether pix[0..n) are runs of l consecutive offsets. */
static bool tukr_runs(const int64_t *pix, int n, int l) {
    if (n % l) return false;
    for (int j = 0; j < n; j++)
        if (pix[j] != pix[j - j % l] + j % l) return false;
    return true;
}

/* One body per (pixels, vectors, run length): the smallest NJ that holds
 * nj (7, 8; 21, 24 with one vector of channels), runs where the pixels
 * make them and fill NJ, else pixel by pixel with the last one repeated. */
#define TUKR_BODIES(NJ, NV, L, JOIN)                                          \
    do {                                                                      \
        if (p->nj == (NJ) && tukr_runs(p->pix, NJ, L)) tukr_body(p, NJ, NV, L, JOIN); \
        else if (p->nj == (NJ) && tukr_even(p->pix, NJ)) tukr_body_s(p, NJ, NV, JOIN); \
        else tukr_body(p, NJ, NV, 1, JOIN);                                   \
    } while (0)
#define TUKR_NJ(NJ, NV)                                                       \
    do {                                                                      \
        if (p->join) TUKR_BODIES(NJ, NV, (NJ) % 7 ? 8 : 7, true);             \
        else TUKR_BODIES(NJ, NV, (NJ) % 7 ? 8 : 7, false);                    \
        return;                                                               \
    } while (0)

INLINE void tukr_nv(const nnl_tukr_args *p, const int NV) {
    if (p->nj <= 7) TUKR_NJ(7, NV);
    if (p->nj <= 8 || NV > 1) TUKR_NJ(8, NV);
    if (p->nj <= 21) TUKR_NJ(21, 1);
    TUKR_NJ(24, 1);
}

static void tukr_avx512(const nnl_tukr_args *p) {
    int nv = (p->np + 1) / 2;
    if (nv == 3) tukr_nv(p, 3);
    else if (nv == 2) tukr_nv(p, 2);
    else tukr_nv(p, 1);
}

/* 16 x 16 in registers: level s swaps the off-diagonal s x s blocks of
 * every 2s x 2s block (row bit s with column bit s), one two-source
 * permute a row. */
/* tile_t (gemm.h nnl_tile_t_fn) with the epilogue's activation a
 * constant of the caller's switch; e the caller's local copy (the masked
 * stores would make every row reload it through a pointer). */
INLINE void tile_t_blocks(float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols,
                          const nnl_epilogue *e, const nnl_act act) {
    __m512i lo[4], hi[4];
    for (int q = 0, s = 8; s; q++, s /= 2) {
        int32_t l[16], h[16];
        for (int i = 0; i < 16; i++) {
            l[i] = i & s ? 16 + i - s : i;
            h[i] = i & s ? 16 + i : i + s;
        }
        lo[q] = _mm512_loadu_si512(l);
        hi[q] = _mm512_loadu_si512(h);
    }
    for (int64_t c0 = 0; c0 < cols; c0 += 16) {
        const int nc = (int)(cols - c0 < 16 ? cols - c0 : 16);
        const __mmask16 cm = (__mmask16)((1u << nc) - 1);
        for (int64_t r0 = 0; r0 < rows; r0 += 16) {
            const int nr = (int)(rows - r0 < 16 ? rows - r0 : 16);
            __m512 v[16];
            /* unrolled: left to itself GCC kept v[] on the stack and
             * tested i & s while running, each butterfly a store and a
             * reload (grouped 3x3 160 at 14x14: 0.060 -> 0.057 ms) */
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                v[i] = i < nr ? _mm512_maskz_loadu_ps(cm, src + (r0 + i) * lds + c0) : _mm512_setzero_ps();
#pragma GCC unroll 4
            for (int q = 0, s = 8; s; q++, s /= 2)
#pragma GCC unroll 16
                for (int i = 0; i < 16; i++)
                    if (!(i & s)) {
                        __m512 a = v[i], b = v[i + s];
                        v[i] = _mm512_permutex2var_ps(a, lo[q], b);
                        v[i + s] = _mm512_permutex2var_ps(a, hi[q], b);
                    }
            const __mmask16 rm = (__mmask16)((1u << nr) - 1);
#pragma GCC unroll 16
            for (int c = 0; c < nc; c++) {
                __m512 x = v[c];
                if (e) {
                    if (e->bias_row) x = _mm512_add_ps(x, _mm512_set1_ps(e->bias_row[c0 + c]));
                    if (e->res)
                        x = _mm512_fmadd_ps(_mm512_set1_ps(e->beta),
                                            _mm512_maskz_loadu_ps(rm, e->res + (c0 + c) * e->res_rs + r0), x);
                    x = act512(x, act, e->act_a, e->act_b);
                }
                _mm512_mask_storeu_ps(dst + (c0 + c) * ldd + r0, rm, x);
            }
        }
    }
}

static void tile_t_avx512(float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols,
                          const nnl_epilogue *e0) {
    if (!e0) {
        tile_t_blocks(dst, ldd, src, lds, rows, cols, NULL, NNL_ACT_NONE);
        return;
    }
    const nnl_epilogue e = *e0;
    switch (e.act) {
    case NNL_ACT_RELU: tile_t_blocks(dst, ldd, src, lds, rows, cols, &e, NNL_ACT_RELU); break;
    case NNL_ACT_CLIP: tile_t_blocks(dst, ldd, src, lds, rows, cols, &e, NNL_ACT_CLIP); break;
    case NNL_ACT_HARDSWISH: tile_t_blocks(dst, ldd, src, lds, rows, cols, &e, NNL_ACT_HARDSWISH); break;
    case NNL_ACT_NONE: tile_t_blocks(dst, ldd, src, lds, rows, cols, &e, NNL_ACT_NONE); break;
    default: tile_t_blocks(dst, ldd, src, lds, rows, cols, &e, e.act); break;
    }
}

static void epi_row_avx512(float *y, const float *x, int64_t n, float bias, const float *res, float beta,
                           nnl_act act, float a, float b) {
    const __m512 vb = _mm512_set1_ps(bias), vbeta = _mm512_set1_ps(beta);
    /* GELU over the whole row after it is stored: its vectors together */
    const nnl_act act1 = act == NNL_ACT_GELU ? NNL_ACT_NONE : act;
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i), vb);
        if (res) v = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(m, res + i), v);
        _mm512_mask_storeu_ps(y + i, m, act512(v, act1, a, b));
    }
    if (act == NNL_ACT_GELU) gelu_avx512(y, 0, 1, n);
}

/* vcvtph2ps on 16 halves; the tail is a masked load and store. */
static void h2f_avx512(float *y, const uint16_t *x, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)));
    }
}

/* nnl_pad_plane_fn: a padded row in one or two masked stores, its input
 * by an expanding load (stride 1) or two permutes of the input row
 * (stride 2, one a column phase). */
static void pad_plane_avx512(float *dst, const float *x, int64_t h, int64_t w, int64_t pt, int64_t pl, int64_t r0,
                             int64_t hp, int64_t wp, int s) {
    const __m512 z = _mm512_setzero_ps();
    if (s == 1) {
        /* lanes [pl, pl + w) of the row's two vectors hold x's row */
        const __mmask16 s0 = tail_mask(wp), s1 = lanes_below(wp - 16);
        const __mmask16 m0 = (__mmask16)(lanes_below(pl + w) & ~lanes_below(pl)), m1 = lanes_below(pl + w - 16);
        for (int64_t i = 0; i < hp; i++) {
            const int64_t y = r0 + i - pt;
            __m512 v0 = z, v1 = z;
            if (y >= 0 && y < h) {
                v0 = _mm512_maskz_expandloadu_ps(m0, x + y * w);
                v1 = _mm512_maskz_loadu_ps(m1, x + y * w + 16 - pl);
            }
            _mm512_mask_storeu_ps(dst + i * wp, s0, v0);
            _mm512_mask_storeu_ps(dst + i * wp + 16, s1, v1);
        }
        return;
    }
    /* phase rx's lane j: x's column 2 j + rx - pl, of the row's 32 lanes */
    const __m512i twice = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
    const __mmask16 sm = tail_mask(wp), l0 = tail_mask(w), l1 = lanes_below(w - 16);
    __m512i idx[2];
    __mmask16 ok[2];
    for (int rx = 0; rx < 2; rx++) {
        idx[rx] = _mm512_add_epi32(twice, _mm512_set1_epi32((int)(rx - pl)));
        ok[rx] = (__mmask16)(sm & _mm512_cmpge_epi32_mask(idx[rx], _mm512_setzero_si512()) &
                             _mm512_cmplt_epi32_mask(idx[rx], _mm512_set1_epi32((int)w)));
    }
    for (int ry = 0; ry < 2; ry++) {
        float *d0 = dst + 2 * ry * hp * wp, *d1 = d0 + hp * wp;
        for (int64_t i = 0; i < hp; i++) {
            const int64_t y = 2 * (r0 + i) + ry - pt;
            __m512 e = z, o = z;
            if (y >= 0 && y < h) {
                const __m512 a = _mm512_maskz_loadu_ps(l0, x + y * w), b = _mm512_maskz_loadu_ps(l1, x + y * w + 16);
                e = _mm512_maskz_permutex2var_ps(ok[0], a, idx[0], b);
                o = _mm512_maskz_permutex2var_ps(ok[1], a, idx[1], b);
            }
            _mm512_mask_storeu_ps(d0 + i * wp, sm, e);
            _mm512_mask_storeu_ps(d1 + i * wp, sm, o);
        }
    }
}

/* nnl_split2_fn: 32 floats in, two permutes; the tail in masked loads and
 * stores, so nothing past s[2n) or n is touched. */
static void split2_avx512(float *even, float *odd, const float *s, int64_t n) {
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    int64_t j = 0;
    if (!odd) {
        for (; j + 16 <= n; j += 16) {
            const __m512 a = _mm512_loadu_ps(s + 2 * j), b = _mm512_maskz_loadu_ps(0x7FFF, s + 2 * j + 16);
            _mm512_storeu_ps(even + j, _mm512_permutex2var_ps(a, ie, b));
        }
        if (j < n) {
            const int64_t r = n - j;   /* 1..15: 2r - 1 floats to read */
            const __m512 a = _mm512_maskz_loadu_ps(tail_mask(2 * r - 1), s + 2 * j);
            const __m512 b = _mm512_maskz_loadu_ps(lanes_below(2 * r - 17), s + 2 * j + 16);
            _mm512_mask_storeu_ps(even + j, tail_mask(r), _mm512_permutex2var_ps(a, ie, b));
        }
        return;
    }
    for (; j + 16 <= n; j += 16) {
        const __m512 a = _mm512_loadu_ps(s + 2 * j), b = _mm512_loadu_ps(s + 2 * j + 16);
        _mm512_storeu_ps(even + j, _mm512_permutex2var_ps(a, ie, b));
        _mm512_storeu_ps(odd + j, _mm512_permutex2var_ps(a, io, b));
    }
    if (j < n) {
        const int64_t r = n - j;   /* 1..15: 2r floats left */
        const __m512 a = _mm512_maskz_loadu_ps(tail_mask(2 * r), s + 2 * j);
        const __m512 b = _mm512_maskz_loadu_ps(lanes_below(2 * r - 16), s + 2 * j + 16);
        _mm512_mask_storeu_ps(even + j, tail_mask(r), _mm512_permutex2var_ps(a, ie, b));
        _mm512_mask_storeu_ps(odd + j, tail_mask(r), _mm512_permutex2var_ps(a, io, b));
    }
}

/* ---- 8-bit microkernel: AVX512-VNNI ----------------------------------
 * Tile 8 rows x 48 pixels: 24 zmm sums; per quad three 64-byte loads of
 * packed activations (16 pixels x 4 bytes each) and eight vpdpbusd per
 * load, the weight quad an embedded 32-bit broadcast.  vpdpbusd adds the
 * four u8 x s8 products to the int32 lane exactly, wrapping, never
 * saturating (that is vpdpbusds).  CPUs with AVX-512 but no VNNI
 * (Skylake-X) take the AVX2 set's kernels instead (qukr list). */
#define QNR 48

typedef int32_t i32u __attribute__((may_alias, aligned(1)));

/* nnl_requant on 16 lanes: sums, their rows' off and mult, and the
 * output's zero point and clamp; the results as int32 lanes. */
INLINE __m512i requant512(__m512i acc, __m512i off, __m512 mult, __m512 zy, __m512 lo, __m512 hi) {
    __m512 v = _mm512_cvtepi32_ps(_mm512_add_epi32(acc, off));
    v = _mm512_roundscale_ps(_mm512_mul_ps(v, mult), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, zy), lo), hi));
}

/* Requantize 16 sums of row i (kernels/qconv.h) and store those below nr. */
INLINE void q_store(const nnl_qukr_args *p, __m512i acc, int i, int col) {
    const nnl_qepi *e = p->epi;
    __m512i r = requant512(acc, _mm512_set1_epi32(e->off[i]), _mm512_set1_ps(e->mult[i]), _mm512_set1_ps(e->zy),
                           _mm512_set1_ps(e->lo), _mm512_set1_ps(e->hi));
    _mm512_mask_cvtepi32_storeu_epi8(p->y + i * p->ldy + col, tail_mask(p->nr - col), r);
}

/* Sums of row i, vector v: to acc (a K block follows) or into y. */
/* The epilogue in packed form (q_store_row) gives requant512's bytes when
 * no row's product can leave int32 before its clamp: every |mult| <= 0.5,
 * so |(acc + off) * mult| <= 2^30.  Tested once a call. */
INLINE bool q_packable(const nnl_qepi *e) {
    __m256 m = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_loadu_ps(e->mult));
    return _mm256_movemask_ps(_mm256_cmp_ps(m, _mm256_set1_ps(0.5f), _CMP_LE_OQ)) == 0xFF;
}

/* Row i's (up to 48) sums requantized and stored at once: rounded to int32
 * by the conversion, narrowed with saturation (past int16 a value
 * saturates on the side its clamp takes anyway), zy added in int16 with
 * saturation, narrowed to bytes (unsigned when the clamp starts at 0 or
 * above, else signed: both exact inside the output type) and clamped as
 * bytes; the bounds are integers, so clamping after rounding is clamping
 * before.  About 30% fewer instructions than requant512 a vector, which
 * matters for convs of few input channels (K 16-32: the epilogue is most
 * of their time). */
INLINE void q_store_row(const nnl_qukr_args *p, __m512i a0, __m512i a1, __m512i a2, int i) {
    const nnl_qepi *e = p->epi;
    const __m512i off = _mm512_set1_epi32(e->off[i]);
    const __m512 mult = _mm512_set1_ps(e->mult[i]);
#define QR_(a) _mm512_cvt_roundps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(a, off)), mult), \
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
    const __m512i r0 = QR_(a0), r1 = p->nr > 16 ? QR_(a1) : r0, r2 = p->nr > 32 ? QR_(a2) : r0;
#undef QR_
    const __m512i zy = _mm512_set1_epi16((int16_t)e->zy);
    const __m512i w0 = _mm512_adds_epi16(_mm512_packs_epi32(r0, r1), zy);
    const __m512i w1 = _mm512_adds_epi16(_mm512_packs_epi32(r2, r2), zy);
    __m512i b;
    if (e->lo >= 0.0f)
        b = _mm512_min_epu8(_mm512_max_epu8(_mm512_packus_epi16(w0, w1), _mm512_set1_epi8((char)(int)e->lo)),
                            _mm512_set1_epi8((char)(int)e->hi));
    else
        b = _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(w0, w1), _mm512_set1_epi8((char)(int)e->lo)),
                            _mm512_set1_epi8((char)(int)e->hi));
    /* per 128-bit lane: 4 values of r0, r1, r2, r2 in turn */
    b = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), b);
    _mm512_mask_storeu_epi8(p->y + i * p->ldy, ~(__mmask64)0 >> (64 - p->nr), b);
}

INLINE void q_out(const nnl_qukr_args *p, __m512i acc, int i, int v) {
    if (!p->last)
        _mm512_storeu_si512(p->acc + i * QNR + 16 * v, acc);
    else if (i < p->mr && 16 * v < p->nr)
        q_store(p, acc, i, 16 * v);
}

/* nnl_il4_fn on 64 pixels: byte then word unpacks interleave within each
 * 128-bit lane (lane L of o0..o3: pixels 16L + 0..3, 4..7, 8..11,
 * 12..15), then a 4 x 4 transpose of lanes puts pixels in order.  The tail
 * is masked. */
static void il4_avx512(uint32_t *o, const uint8_t *const r[4], int64_t m, uint32_t flip) {
    const __m512i f = _mm512_set1_epi32((int)flip);
    for (int64_t j = 0; j < m; j += 64) {
        const int64_t left = m - j;
        const __mmask64 lm = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        __m512i a = _mm512_maskz_loadu_epi8(lm, r[0] + j), b = _mm512_maskz_loadu_epi8(lm, r[1] + j);
        __m512i c = _mm512_maskz_loadu_epi8(lm, r[2] + j), d = _mm512_maskz_loadu_epi8(lm, r[3] + j);
        __m512i ab0 = _mm512_unpacklo_epi8(a, b), ab1 = _mm512_unpackhi_epi8(a, b);
        __m512i cd0 = _mm512_unpacklo_epi8(c, d), cd1 = _mm512_unpackhi_epi8(c, d);
        __m512i o0 = _mm512_unpacklo_epi16(ab0, cd0), o1 = _mm512_unpackhi_epi16(ab0, cd0);
        __m512i o2 = _mm512_unpacklo_epi16(ab1, cd1), o3 = _mm512_unpackhi_epi16(ab1, cd1);
        __m512i t0 = _mm512_shuffle_i64x2(o0, o1, 0x44), t1 = _mm512_shuffle_i64x2(o2, o3, 0x44);
        __m512i t2 = _mm512_shuffle_i64x2(o0, o1, 0xEE), t3 = _mm512_shuffle_i64x2(o2, o3, 0xEE);
        __m512i out[4] = {_mm512_shuffle_i64x2(t0, t1, 0x88), _mm512_shuffle_i64x2(t0, t1, 0xDD),
                          _mm512_shuffle_i64x2(t2, t3, 0x88), _mm512_shuffle_i64x2(t2, t3, 0xDD)};
        for (int k = 0; k < 4 && 16 * k < left; k++)
            _mm512_mask_storeu_epi32(o + j + 16 * k, tail_mask(left - 16 * k), _mm512_xor_si512(out[k], f));
    }
}

#define VNNI __attribute__((target("avx512vnni")))

VNNI INLINE void qukr_vnni_nv(const nnl_qukr_args *p, const int nv) {
    __m512i c0[8], c1[8], c2[8];
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) {
        c0[i] = p->first ? _mm512_setzero_si512() : _mm512_loadu_si512(p->acc + i * QNR);
        c1[i] = p->first || nv < 2 ? _mm512_setzero_si512() : _mm512_loadu_si512(p->acc + i * QNR + 16);
        c2[i] = p->first || nv < 3 ? _mm512_setzero_si512() : _mm512_loadu_si512(p->acc + i * QNR + 32);
    }
    const i32u *w = (const i32u *)p->w;
    for (int64_t q = 0; q < p->kq; q++, w += 8) {
        const uint8_t *x = p->x + p->xoff[q];
        __m512i b0 = _mm512_loadu_si512(x);
        __m512i b1 = nv > 1 ? _mm512_loadu_si512(x + 64) : b0;
        __m512i b2 = nv > 2 ? _mm512_loadu_si512(x + 128) : b0;
        _Pragma("GCC unroll 8")
        for (int i = 0; i < 8; i++) {
            __m512i wi = _mm512_set1_epi32(w[i]);
            c0[i] = _mm512_dpbusd_epi32(c0[i], b0, wi);
            if (nv > 1) c1[i] = _mm512_dpbusd_epi32(c1[i], b1, wi);
            if (nv > 2) c2[i] = _mm512_dpbusd_epi32(c2[i], b2, wi);
        }
    }
    if (p->last && q_packable(p->epi)) {
        _Pragma("GCC unroll 8")
        for (int i = 0; i < 8; i++)
            if (i < p->mr) q_store_row(p, c0[i], c1[i], c2[i], i);
        return;
    }
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) {
        q_out(p, c0[i], i, 0);
        if (nv > 1) q_out(p, c1[i], i, 1);
        if (nv > 2) q_out(p, c2[i], i, 2);
    }
}

VNNI static void qukr_vnni(const nnl_qukr_args *p) {
    if (p->nr > 32)
        qukr_vnni_nv(p, 3);
    else if (p->nr > 16)
        qukr_vnni_nv(p, 2);
    else
        qukr_vnni_nv(p, 1);
}

/* ---- the transposed 8-bit tile (gemm.h nnl_qtukr_args) ----------------
 * NV vectors of 16 output channels (panels 2v and 2v + 1: two 32-byte
 * quad slices, a load and a vinserti64x4) for NJ pixels, each pixel's
 * quad one 32-bit broadcast: NJ x NV <= 24 vpdpbusd a quad for NV
 * weight vectors and NJ broadcasts.  Past np the vector's upper half
 * reads panel 0 again; those lanes are never stored to y. */
#define QTO NNL_QTUKR_OC

/* Bytes of 8 pixels x 16 channels (b[j]: pixel j's channels) as 16 rows
 * of 8 (channel 2k + h in r[k]'s 64-bit half h): three rounds of unpacks,
 * each doubling the run of one channel's pixels. */
INLINE void qt_transpose(__m128i r[8], const __m128i b[8]) {
    __m128i t[8], u[8];
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm_unpacklo_epi8(b[2 * i], b[2 * i + 1]);
        t[2 * i + 1] = _mm_unpackhi_epi8(b[2 * i], b[2 * i + 1]);
    }
    _Pragma("GCC unroll 2")
    for (int i = 0; i < 2; i++) {
        u[4 * i] = _mm_unpacklo_epi16(t[4 * i], t[4 * i + 2]);
        u[4 * i + 1] = _mm_unpackhi_epi16(t[4 * i], t[4 * i + 2]);
        u[4 * i + 2] = _mm_unpacklo_epi16(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm_unpackhi_epi16(t[4 * i + 1], t[4 * i + 3]);
    }
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++) {
        r[2 * i] = _mm_unpacklo_epi32(u[i], u[4 + i]);
        r[2 * i + 1] = _mm_unpackhi_epi32(u[i], u[4 + i]);
    }
}

/* Requantize vector v of NJ pixels (q_store's arithmetic) and store its
 * channels' rows of nj bytes. */
INLINE void qt_store(const nnl_qtukr_args *p, __m512i acc[NNL_QTUKR_PX][3], int v, const int NJ) {
    const nnl_qepi *e = p->epi + 2 * v;
    const bool pair = 2 * v + 1 < p->np;
    const nnl_qepi *e1 = pair ? e + 1 : e;
    __m512i off = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)e->off)),
                                     _mm256_loadu_si256((const __m256i *)e1->off), 1);
    __m512 mult = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(e->mult)), _mm256_loadu_ps(e1->mult), 1);
    const __m512 zy = _mm512_set1_ps(e->zy), lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
    __m128i b[8], r[8];
    _Pragma("GCC unroll 8")
    for (int j = 0; j < 8; j++) {
        if (j >= NJ) {
            b[j] = _mm_setzero_si128();
            continue;
        }
        b[j] = _mm512_cvtepi32_epi8(requant512(acc[j][v], off, mult, zy, lo, hi));
    }
    qt_transpose(r, b);
    const __mmask16 m = (__mmask16)((1u << p->nj) - 1u);
    uint8_t *y = p->y + 16 * v * p->ldy;
    const int rows = p->mr - 16 * v; /* 1 .. 16: the last vector's may end inside a panel */
    _Pragma("GCC unroll 8")
    for (int k = 0; k < 8; k++) {
        if (2 * k >= rows) break;
        _mm_mask_storeu_epi8(y + 2 * k * p->ldy, m, r[k]);
        if (2 * k + 1 < rows) _mm_mask_storeu_epi8(y + (2 * k + 1) * p->ldy, m, _mm_srli_si128(r[k], 8));
    }
}

VNNI INLINE void qtukr_body(const nnl_qtukr_args *p, const int NJ, const int NV, const bool RUN) {
    __m512i acc[NNL_QTUKR_PX][3];
    _Pragma("GCC unroll 8")
    for (int j = 0; j < NJ; j++)
        _Pragma("GCC unroll 3")
        for (int v = 0; v < NV; v++)
            acc[j][v] = p->first ? _mm512_setzero_si512() : _mm512_loadu_si512(p->acc + j * QTO + 16 * v);
    const int8_t *w[6];
    for (int i = 0; i < 6; i++) w[i] = p->w + (i < p->np ? i : 0) * p->w_ps;
    int64_t pix[NNL_QTUKR_PX];
    for (int j = 0; j < NNL_QTUKR_PX; j++) pix[j] = p->pix[j < p->nj ? j : p->nj - 1];
    for (int64_t q = 0; q < p->kq; q++) {
        __m512i wv[3];
        _Pragma("GCC unroll 3")
        for (int v = 0; v < NV; v++)
            wv[v] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(w[2 * v] + 32 * q))),
                                       _mm256_loadu_si256((const __m256i *)(w[2 * v + 1] + 32 * q)), 1);
        const uint8_t *x = p->x + p->xoff[q];
        _Pragma("GCC unroll 8")
        for (int j = 0; j < NJ; j++) {
            __m512i b = _mm512_set1_epi32(*(const i32u *)(RUN ? x + 4 * j : x + pix[j]));
            _Pragma("GCC unroll 3")
            for (int v = 0; v < NV; v++) acc[j][v] = _mm512_dpbusd_epi32(acc[j][v], b, wv[v]);
        }
    }
    if (!p->last) {
        _Pragma("GCC unroll 8")
        for (int j = 0; j < NJ; j++)
            _Pragma("GCC unroll 3")
            for (int v = 0; v < NV; v++) _mm512_storeu_si512(p->acc + j * QTO + 16 * v, acc[j][v]);
        return;
    }
    _Pragma("GCC unroll 3")
    for (int v = 0; v < NV; v++) qt_store(p, acc, v, NJ);
}

VNNI INLINE void qtukr_nj(const nnl_qtukr_args *p, const bool RUN) {
    const int nv = (p->np + 1) / 2;
    if (p->nj == 1) {
        /* few pixels (the 8-bit GEMM's rows of x: a classifier's one) */
        if (nv == 3) qtukr_body(p, 1, 3, RUN);
        else if (nv == 2) qtukr_body(p, 1, 2, RUN);
        else qtukr_body(p, 1, 1, RUN);
    } else if (p->nj <= 4) {
        if (nv == 3) qtukr_body(p, 4, 3, RUN);
        else if (nv == 2) qtukr_body(p, 4, 2, RUN);
        else qtukr_body(p, 4, 1, RUN);
    } else if (p->nj == 7) {
        if (nv == 3) qtukr_body(p, 7, 3, RUN);
        else if (nv == 2) qtukr_body(p, 7, 2, RUN);
        else qtukr_body(p, 7, 1, RUN);
    } else {
        if (nv == 3) qtukr_body(p, 8, 3, RUN);
        else if (nv == 2) qtukr_body(p, 8, 2, RUN);
        else qtukr_body(p, 8, 1, RUN);
    }
}

/* Pixels that lie in a run (a 7x7 map's rows, half rows of 14x14) are
 * addressed by constant displacements: eight pixel offsets and six panel
 * pointers left too few registers for the loop otherwise (3x3 512 ch at
 * 7x7: 405 GMAC/s against 365 with the offsets spilled). */
VNNI static void qtukr_vnni(const nnl_qtukr_args *p) {
    bool run = p->nj >= 7;
    for (int j = 1; j < p->nj; j++) run = run && p->pix[j] == p->pix[0] + 4 * j;
    if (run) {
        nnl_qtukr_args r = *p;
        r.x += p->pix[0];
        qtukr_nj(&r, true);
    } else {
        qtukr_nj(p, false);
    }
}

static bool has_vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni");
}

/* Transposed tiles up to 64x64 maps: ResNet's 56x56 and FCN's 32x48 3x3
 * convs 10-20% faster on them (Zen 5); larger ones not measured. */
static const nnl_qukr qukr_vnni512 = {.name = "avx512vnni", .nr = QNR, .kq = 128, .supported = has_vnni,
                                      .fn = qukr_vnni, .il4 = il4_avx512, .tfn = qtukr_vnni,
                                      .tpix = 4096};

/* ---- 8-bit microkernel: AMX (Sapphire Rapids and later) -------------
 * A call computes 16 rows (two PACK_Q8 panels) x 48 pixels with the
 * operands qukr_vnni reads and the same epilogue, so the same bytes; the
 * products on the tile unit: tdpbsud C += A . B, A the 16 rows' signed
 * weights (16 x 4 kr bytes, K contiguous in a row), B the activations as
 * staged (kr rows of quads, 16 pixels x 4 bytes a row: the quad-
 * interleaved planes as they lie), C 16 rows x 16 pixels, three of them.
 * B's rows must be evenly spaced, so a step takes up to 16 channel quads
 * at one tap (planes one stride apart, the tap an offset), and A is the
 * K block rearranged to match by wprep_amx: per tap, per group of 16
 * channel quads, 16 rows x 64 bytes.  A block's last group of fewer than
 * 16 quads (of at least 16 in all) reads B backwards from its last quad:
 * the rows past it are earlier quads of the block, in bounds, their
 * weights 0.  Blocks under 16 quads configure kr = that many rows.  A
 * step is 16 x 16 x 64 products a tile in ~16 cycles, about 8x
 * vpdpbusd's rate, so staging and the epilogue decide the speed.  Sums
 * between K blocks: acc as 16 x QNR int32. */
typedef struct amx_cfg {
    uint8_t palette, start;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_cfg;

/* GCC 12's intrinsics declare neither the config's bytes nor the tiles'
 * memory to the compiler: these do. */
#define AMX_CFG(c) __asm__ volatile("ldtilecfg %0" ::"m"(*(c)))
#define AMX_LOAD(t, b, s) __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"(b), "r"((long)(s)) : "memory")
#define AMX_STORE(t, b, s) __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"(b), "r"((long)(s)) : "memory")
#define AMX_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
#define AMX_DP(c, a, b) __asm__ volatile("tdpbsud %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)

static int64_t wprep_bytes_amx(int64_t kq, int64_t tq) { return tq * ((kq / tq + 15) / 16) * 1024; }

/* Channel quad of row r of group g's step (of c4n in the block); -1: none. */
static int64_t amx_quad(int64_t c4n, int64_t g, int r) {
    const int64_t rem = c4n - 16 * g;
    if (r >= rem) return -1;
    return rem < 16 && c4n >= 16 ? c4n - 1 - r : 16 * g + r;
}

/* In place: r[j] lane i <- r[i] lane j. */
INLINE void tr16x16_epi32(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    /* u[4k + c], 128-bit block b: column 4b + c of rows 4k .. 4k + 3 */
    for (int k = 0; k < 4; k++) {
        u[4 * k] = _mm512_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
        u[4 * k + 1] = _mm512_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
        u[4 * k + 2] = _mm512_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
        u[4 * k + 3] = _mm512_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    for (int c = 0; c < 4; c++) {
        __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xDD);
        __m512i w0 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
        __m512i w1 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_i32x4(v0, w0, 0x88);
        r[8 + c] = _mm512_shuffle_i32x4(v0, w0, 0xDD);
        r[4 + c] = _mm512_shuffle_i32x4(v1, w1, 0x88);
        r[12 + c] = _mm512_shuffle_i32x4(v1, w1, 0xDD);
    }
}

/* A step's 16 quads of both panels as 16 vectors (quad r: row i of panel
 * h in lane 8h + i), transposed to 16 rows of 16 quads. */
static void wprep_amx(int8_t *dst, const int8_t *w, int64_t kq, int64_t tq, int64_t ps, int np) {
    const int64_t c4n = kq / tq, ng = (c4n + 15) / 16;
    for (int64_t t = 0; t < tq; t++)
        for (int64_t g = 0; g < ng; g++) {
            __m512i r[16];
            for (int i = 0; i < 16; i++) {
                const int64_t c4 = amx_quad(c4n, g, i);
                if (c4 < 0) {
                    r[i] = _mm512_setzero_si512();
                    continue;
                }
                const int8_t *src = w + (c4 * tq + t) * 32;
                const __m256i hi = np > 1 ? _mm256_loadu_si256((const __m256i *)(src + ps)) : _mm256_setzero_si256();
                r[i] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)src)), hi, 1);
            }
            tr16x16_epi32(r);
            int8_t *d = dst + (t * ng + g) * 1024;
            for (int j = 0; j < 16; j++) _mm512_storeu_si512(d + 64 * j, r[j]);
        }
}

/* The tile configuration this thread loaded (kr rows of B; 0: none).
 * Loading it drains the tile unit, so it stays between the calls of a
 * task and is released when the task is done (amx_done): another
 * library's AMX code on the thread (oneDNN, MLAS) may change or release
 * it between tasks, never inside one. */
static _Thread_local int amx_kr;

static void amx_done(void) {
    if (!amx_kr) return;
    __asm__ volatile("tilerelease" ::);
    amx_kr = 0;
}

static void amx_config(int kr) {
    if (amx_kr == kr) return;
    amx_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int v = 0; v < 3; v++) cfg.rows[v] = 16, cfg.colsb[v] = 64;
    cfg.rows[3] = 16, cfg.colsb[3] = (uint16_t)(4 * kr);
    for (int v = 4; v < 7; v++) cfg.rows[v] = (uint8_t)kr, cfg.colsb[v] = 64;
    AMX_CFG(&cfg);
    amx_kr = kr;
}

/* Rows [r0, r0 + 8) of the call's sums (buf, 16 x QNR) requantized. */
static void amx_out(const nnl_qukr_args *p0, const int32_t *buf, int r0, int nb) {
    nnl_qukr_args a = *p0, *p = &a;
    a.epi = p0->epi + r0 / 8;
    a.y = p0->y + r0 * p0->ldy;
    a.mr = p0->mr - r0 < 8 ? p0->mr - r0 : 8;
    if (q_packable(p->epi)) {
        for (int i = 0; i < p->mr; i++)
            q_store_row(p, _mm512_load_si512(buf + (r0 + i) * QNR), _mm512_load_si512(buf + (r0 + i) * QNR + 16),
                        _mm512_load_si512(buf + (r0 + i) * QNR + 32), i);
        return;
    }
    for (int i = 0; i < p->mr; i++)
        for (int v = 0; v < nb; v++) q_store(p, _mm512_load_si512(buf + (r0 + i) * QNR + 16 * v), i, 16 * v);
}

static void qukr_amx(const nnl_qukr_args *p) {
    const int64_t tq = p->tq, c4n = p->kq / tq, ng = (c4n + 15) / 16;
    const int kr = c4n < 16 ? (int)c4n : 16, nb = (p->nr + 15) / 16;
    amx_config(kr);
    if (p->first) {
        AMX_ZERO(0);
        AMX_ZERO(1);
        AMX_ZERO(2);
    } else {
        AMX_LOAD(0, p->acc, QNR * 4);
        AMX_LOAD(1, p->acc + 16, QNR * 4);
        AMX_LOAD(2, p->acc + 32, QNR * 4);
    }
    /* bytes from a channel quad's plane to the next at one tap */
    const int64_t cs = c4n > 1 ? p->xoff[tq] - p->xoff[0] : 0;
    const int8_t *a = p->w;
    for (int64_t t = 0; t < tq; t++)
        for (int64_t g = 0; g < ng; g++, a += 1024) {
            const bool back = c4n - 16 * g < 16 && c4n >= 16;
            const uint8_t *b = p->x + p->xoff[(back ? c4n - 1 : 16 * g) * tq + t];
            const int64_t s = back ? -cs : cs;
            AMX_LOAD(3, a, 64);
            AMX_LOAD(4, b, s);
            AMX_DP(0, 3, 4);
            if (nb > 1) {
                AMX_LOAD(5, b + 64, s);
                AMX_DP(1, 3, 5);
            }
            if (nb > 2) {
                AMX_LOAD(6, b + 128, s);
                AMX_DP(2, 3, 6);
            }
        }
    if (!p->last) {
        AMX_STORE(0, p->acc, QNR * 4);
        AMX_STORE(1, p->acc + 16, QNR * 4);
        AMX_STORE(2, p->acc + 32, QNR * 4);
        return;
    }
    int32_t buf[16 * QNR] __attribute__((aligned(64)));
    AMX_STORE(0, buf, QNR * 4);
    AMX_STORE(1, buf + 16, QNR * 4);
    AMX_STORE(2, buf + 32, QNR * 4);
    amx_out(p, buf, 0, nb);
    if (p->mr > 8) amx_out(p, buf, 8, nb);
}

/* CPUID.(7,0):EDX bits 24 (AMX-TILE) and 25 (AMX-INT8), the OS managing
 * tile state (XCR0 bits 17, 18) and, on Linux, granting it to this
 * process (arch_prctl ARCH_REQ_XCOMP_PERM; without it the first tile
 * instruction faults).  Asked once.  NNL_AMX=0 leaves AMX alone (the
 * VNNI kernel runs), for comparisons. */
static bool has_amx(void) {
    static _Atomic int known; /* 0 not asked, 1 no, 2 yes */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (!k) {
        bool ok = false;
#if defined(__linux__) && defined(SYS_arch_prctl)
        unsigned a, b, c, d;
        const char *env = getenv("NNL_AMX");
        if (!(env && env[0] == '0') && has_vnni() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 24 & 1) &&
            (d >> 25 & 1)) {
            unsigned lo, hi;
            __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            ok = (lo >> 17 & 3) == 3 && syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */,
                                                 18 /* XFEATURE_XTILEDATA */) == 0;
        }
#endif
        k = ok ? 2 : 1;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k == 2;
}

static const nnl_qukr qukr_amx512 = {.name = "amx", .nr = QNR, .kq = 576, .kq_taps = 144, .supported = has_amx, .fn = qukr_amx,
                                     .il4 = il4_avx512, .mr = 16, .wprep = wprep_amx,
                                     .wprep_bytes = wprep_bytes_amx, .min_cq = 8, .min_px = 100,
                                     .done = amx_done};

NNL_GENERIC_KERNELS(avx512)
/* The depthwise pixel path, but in clang's AddressSanitizer builds (the
 * fuzzing build): clang -O1 with ASan and UBSan spent over 15 minutes on
 * its unrolled blocks.  GCC's sanitizer build (make SAN=1) covers it. */
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NNL_DWP_OFF 1
#endif
#endif
#ifdef NNL_DWP_OFF
NNL_GENERIC_VECTOR_KERNELS(avx512, 64)
#else
#include "kernels/dwp_avx512.h"
NNL_GENERIC_VECTOR_KERNELS_PX(avx512, 64, dwp_avx512)
#endif

/* 8-bit depthwise taps (gemm.h nnl_qdw_fn): 32 pixels as two vectors of
 * 16 int32 sums, each tap a zero-extending load, a multiply by the
 * broadcast weight and an add; then nnl_requant's arithmetic and the low
 * bytes stored. */
/* With VNNI and VBMI: taps a few bytes apart on one staged row (a 3x3
 * kernel's row at stride 1; taps 0 and 2 of a stride-2 row, phase 0) form
 * one window: 4 bytes at its first tap's address, the taps' weights at
 * their offsets in a 32-bit word, zeros elsewhere.  Per window and 16
 * pixels, vpermb turns 19 loaded bytes into each pixel's 4-byte window and
 * one vpdpbusd adds the window's products (u8 x s8, exact in int32): a 3x3
 * kernel is 3 of them instead of 9 widening multiplies and adds. */
#define QDW_WIN_MAX 64

typedef struct qdw_win {
    const uint8_t *src[QDW_WIN_MAX];
    int32_t w[QDW_WIN_MAX];
    int n;
} qdw_win;

/* The taps as windows; false if there are more than QDW_WIN_MAX.  Called
 * per plane (7x7 planes have two blocks of work), so linear: a tap joins
 * one of the last two windows (two phases of a stride-2 row alternate) if
 * it lies 1 to 3 bytes past that window's last tap. */
static bool qdw_windows(qdw_win *v, const uint8_t *const *src, const int8_t *w, int nt) {
    const uint8_t *last[QDW_WIN_MAX];
    int n = 0;
    for (int t = 0; t < nt; t++) {
        int k = n - 1;
        for (; k >= 0 && k >= n - 2; k--)
            if (src[t] > last[k] && src[t] - v->src[k] < 4) break;
        if (k < 0 || k < n - 2) {
            if (n == QDW_WIN_MAX) return false;
            k = n++;
            v->src[k] = src[t];
            v->w[k] = 0;
        }
        last[k] = src[t];
        v->w[k] = (int32_t)((uint32_t)v->w[k] | (uint32_t)(uint8_t)w[t] << (8 * (src[t] - v->src[k])));
    }
    v->n = n;
    return true;
}

__attribute__((target("avx512vnni,avx512vbmi"))) static void qdw_win512(uint8_t *y, const qdw_win *v, int64_t n,
                                                                         const nnl_qdw_epi *e) {
    const __m512 mult = _mm512_set1_ps(e->mult), zy = _mm512_set1_ps(e->zy), lo = _mm512_set1_ps(e->lo),
                 hi = _mm512_set1_ps(e->hi);
    /* lane p: bytes p .. p + 3 */
    const __m512i idx = _mm512_add_epi8(_mm512_set1_epi32(0x03020100),
                                        _mm512_set_epi32(15 * 0x01010101, 14 * 0x01010101, 13 * 0x01010101,
                                                         12 * 0x01010101, 11 * 0x01010101, 10 * 0x01010101,
                                                         9 * 0x01010101, 8 * 0x01010101, 7 * 0x01010101,
                                                         6 * 0x01010101, 5 * 0x01010101, 4 * 0x01010101,
                                                         3 * 0x01010101, 2 * 0x01010101, 0x01010101, 0));
    const __mmask32 m19 = 0x7FFFF;
    const __m512i off = _mm512_set1_epi32(e->off);
    for (int64_t f = 0; f < n; f += NNL_QDW_BLOCK) {
        __m512i a0 = _mm512_setzero_si512(), a1 = a0;
        for (int k = 0; k < v->n; k++) {
            const __m512i wk = _mm512_set1_epi32(v->w[k]);
            const uint8_t *s = v->src[k] + f;
            /* 19 bytes (16 windows) a half: masked, so nothing past what
             * the last tap of the window reads is touched */
            __m512i x0 = _mm512_castsi256_si512(_mm256_maskz_loadu_epi8(m19, s));
            __m512i x1 = _mm512_castsi256_si512(_mm256_maskz_loadu_epi8(m19, s + 16));
            a0 = _mm512_dpbusd_epi32(a0, _mm512_permutexvar_epi8(idx, x0), wk);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_permutexvar_epi8(idx, x1), wk);
        }
        _mm_storeu_si128((__m128i *)(y + f), _mm512_cvtepi32_epi8(requant512(a0, off, mult, zy, lo, hi)));
        _mm_storeu_si128((__m128i *)(y + f + 16), _mm512_cvtepi32_epi8(requant512(a1, off, mult, zy, lo, hi)));
    }
}

static bool has_vnni_vbmi(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi");
}

/* 8-bit depthwise with channels in the lanes (gemm.h nnl_qdwl_fn), VNNI
 * and VBMI: 16 channels x 16 pixels are transposed by two vpermt2b and a
 * blend per 4 pixels (in) or 4 channels (out); an output pixel's kernel
 * row is one 64-byte load of 4 staged pixels x 16 channels, vpermb into
 * each channel's 4-byte window and one vpdpbusd with the row's weights. */
#define VBMI_VNNI __attribute__((target("avx512vnni,avx512vbmi")))

/* 64 bytes of 4 rows of 16 (a, b: rows 0-3 and 4-7 of a 16-row set; c, d:
 * 8-11, 12-15) to 4 columns of 16: out k holds columns 4k..4k+3, column
 * byte i its row i's.  idx[k] is qdwl_tidx's. */
VBMI_VNNI static inline void qdwl_t16(__m512i in[4], const __m512i idx[4]) {
    const __mmask64 hi8 = 0xFF00FF00FF00FF00ull;
    __m512i out[4];
    for (int k = 0; k < 4; k++)
        out[k] = _mm512_mask_blend_epi8(hi8, _mm512_permutex2var_epi8(in[0], idx[k], in[1]),
                                        _mm512_permutex2var_epi8(in[2], idx[k], in[3]));
    for (int k = 0; k < 4; k++) in[k] = out[k];
}

/* Index vectors of qdwl_t16: out k, byte 16 l + i (column 4k + l, row i)
 * is row i's byte 4k + l: row i % 8 of the pair, in its 64-byte half
 * (i % 8) / 4, at 16 (i % 4). */
static void qdwl_tidx(__m512i idx[4]) {
    for (int k = 0; k < 4; k++) {
        uint8_t b[64];
        for (int l = 0; l < 4; l++)
            for (int i = 0; i < 16; i++) b[16 * l + i] = (uint8_t)((i % 8) / 4 * 64 + (i % 4) * 16 + 4 * k + l);
        idx[k] = _mm512_loadu_si512(b);
    }
}

VBMI_VNNI static bool qdwl_avx512(const nnl_qdwl_args *a) {
    static int fast = -1;      /* benign race: every thread stores the same value */
    if (fast < 0) fast = has_vnni_vbmi();
    if (!fast || a->kw > 4 || a->dw != 1 || a->nc < 1 || a->nc > 16) return false;
    const int64_t hp = (a->oh - 1) * a->sh + (a->kh - 1) * a->dh + 1, wq = (a->ow - 1) * a->sw + a->kw;
    const int64_t hw = a->h * a->w, ohw = a->oh * a->ow;
    uint8_t *S = a->scratch, *O = S + nnl_qdwl_s_bytes(hp, wq);
    __m512i idx[4];
    qdwl_tidx(idx);
    /* stage: pads, then the image's pixels that the grid holds, 16 at once */
    memset(S, a->pad, (size_t)(hp * wq * 16));
    const __m512i flip = _mm512_set1_epi8((char)a->flip);
    for (int64_t p0 = 0, iy = 0, ix = 0; p0 < hw; p0 += 16) {
        const int64_t np = hw - p0 < 16 ? hw - p0 : 16;
        const __mmask16 pm = (__mmask16)((1u << np) - 1);
        __m512i in[4];
        for (int j = 0; j < 4; j++) {
            __m128i row[4];
            for (int r = 0; r < 4; r++)
                row[r] = 4 * j + r < a->nc ? _mm_maskz_loadu_epi8(pm, a->x + (4 * j + r) * hw + p0) : _mm_setzero_si128();
            __m512i v = _mm512_inserti32x4(_mm512_castsi128_si512(row[0]), row[1], 1);
            v = _mm512_inserti32x4(_mm512_inserti32x4(v, row[2], 2), row[3], 3);
            in[j] = _mm512_xor_si512(v, flip);
        }
        qdwl_t16(in, idx);
        uint8_t t[256];
        for (int k = 0; k < 4; k++) _mm512_storeu_si512(t + 64 * k, in[k]);
        for (int64_t i = 0; i < np; i++) {
            const int64_t r = iy + a->pt, col = ix + a->pl;
            if (r >= 0 && r < hp && col >= 0 && col < wq) memcpy(S + (r * wq + col) * 16, t + 16 * i, 16);
            if (++ix == a->w) ix = 0, iy++;
        }
    }
    /* each channel's row weights as one 32-bit word a lane */
    __m512i wrow[16];
    for (int64_t ky = 0; ky < a->kh && ky < 16; ky++) {
        int32_t wv[16];
        for (int c = 0; c < 16; c++) {
            uint32_t word = 0;
            for (int64_t kx = 0; kx < a->kw && c < a->nc; kx++)
                word |= (uint32_t)(uint8_t)a->wt[c * a->kh * a->kw + ky * a->kw + kx] << (8 * kx);
            wv[c] = (int32_t)word;
        }
        wrow[ky] = _mm512_loadu_si512(wv);
    }
    /* lane c: bytes c, 16 + c, 32 + c, 48 + c (the window's 4 pixels) */
    uint8_t pb[64];
    for (int c = 0; c < 16; c++)
        for (int k = 0; k < 4; k++) pb[4 * c + k] = (uint8_t)(16 * k + c);
    const __m512i pidx = _mm512_loadu_si512(pb);
    const __m512i off = _mm512_loadu_si512(a->off);
    const __m512 mult = _mm512_loadu_ps(a->mult), zy = _mm512_set1_ps(a->zy), lo = _mm512_set1_ps(a->lo),
                 hi = _mm512_set1_ps(a->hi);
    for (int64_t oy = 0, p = 0; oy < a->oh; oy++)
        for (int64_t ox = 0; ox < a->ow; ox++, p++) {
            const uint8_t *b = S + (oy * a->sh * wq + ox * a->sw) * 16;
            __m512i acc = _mm512_setzero_si512();
            for (int64_t ky = 0; ky < a->kh; ky++)
                acc = _mm512_dpbusd_epi32(acc, _mm512_permutexvar_epi8(pidx, _mm512_loadu_si512(b + ky * a->dh * wq * 16)),
                                          wrow[ky]);
            _mm_storeu_si128((__m128i *)(O + p * 16), _mm512_cvtepi32_epi8(requant512(acc, off, mult, zy, lo, hi)));
        }
    /* back: 16 pixels x 16 channels a step into the channels' planes */
    for (int64_t p0 = 0; p0 < ohw; p0 += 16) {
        const int64_t np = ohw - p0 < 16 ? ohw - p0 : 16;
        __m512i in[4];
        for (int j = 0; j < 4; j++) in[j] = _mm512_loadu_si512(O + (p0 + 4 * j) * 16);
        qdwl_t16(in, idx);
        uint8_t t[256];
        for (int k = 0; k < 4; k++) _mm512_storeu_si512(t + 64 * k, in[k]);
        const __mmask16 pm = (__mmask16)((1u << np) - 1);
        for (int c = 0; c < a->nc; c++)
            _mm_mask_storeu_epi8(a->y + c * ohw + p0, pm, _mm_loadu_si128((const __m128i *)(t + 16 * c)));
    }
    return true;
}

static void qdw_avx512(uint8_t *y, const uint8_t *const *src, const int8_t *w, int nt, int64_t n,
                       const nnl_qdw_epi *e) {
    static int fast = -1;      /* benign race: every thread stores the same value */
    if (fast < 0) fast = has_vnni_vbmi();
    qdw_win v;
    if (fast && qdw_windows(&v, src, w, nt)) {
        qdw_win512(y, &v, n, e);
        return;
    }
    const __m512 mult = _mm512_set1_ps(e->mult), zy = _mm512_set1_ps(e->zy), lo = _mm512_set1_ps(e->lo),
                 hi = _mm512_set1_ps(e->hi);
    for (int64_t f = 0; f < n; f += NNL_QDW_BLOCK) {
        __m512i a0 = _mm512_set1_epi32(e->off), a1 = a0;
        for (int t = 0; t < nt; t++) {
            const __m512i wt = _mm512_set1_epi32(w[t]);
            const uint8_t *s = src[t] + f;
            a0 = _mm512_add_epi32(a0, _mm512_mullo_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)s)), wt));
            a1 = _mm512_add_epi32(a1, _mm512_mullo_epi32(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(s + 16))), wt));
        }
        __m512i acc[2] = {a0, a1};
        for (int k = 0; k < 2; k++) {
            __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[k]), mult),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, zy), lo), hi);
            _mm_storeu_si128((__m128i *)(y + f + 16 * k), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
        }
    }
}

/* The 8-bit add without a division per lane (kernels/qadd_body.h,
 * nnl_qadd_recip); the products and their sum as the unfused ops round
 * them, so no contraction. */
typedef struct qadd512 {
    __m512 sa, sb, sy, vi, lo, hi;
    __m512i za, zb, zy;
    bool au, bu;
} qadd512;

/* 16 quotients of a tame call (nnl_qadd_tame) rounded to int32, zy not
 * yet added: no NaN or overflow can arise, so the correction needs no
 * guard and rounding to nearest even is the conversion's own. */
NNL_NO_FP_CONTRACT_FN static inline __m512i qadd16_tame(const qadd512 *c, __m128i ra, __m128i rb) {
    NNL_NO_FP_CONTRACT_BODY
    __m512i ia = c->au ? _mm512_cvtepu8_epi32(ra) : _mm512_cvtepi8_epi32(ra);
    __m512i ib = c->bu ? _mm512_cvtepu8_epi32(rb) : _mm512_cvtepi8_epi32(rb);
    __m512 s = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(ia, c->za)), c->sa),
                             _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(ib, c->zb)), c->sb));
    __m512 q = _mm512_mul_ps(s, c->vi);
    q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, c->sy, s), c->vi, q);
    return _mm512_cvt_roundps_epi32(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* A tame call, 64 bytes a step.  The clamp's bounds are integers, so
 * clamping the rounded value is clamping before rounding: the values are
 * narrowed with saturation (past int16 they saturate on the side they
 * would clamp to anyway), zy added in int16 with saturation, and the
 * bounds applied to the bytes. */
NNL_NO_FP_CONTRACT_FN static void qadd_tame512(uint8_t *y, const uint8_t *a, const uint8_t *b, int64_t n,
                                               const nnl_qadd_params *p, float inv) {
    NNL_NO_FP_CONTRACT_BODY
    const qadd512 c = {.sa = _mm512_set1_ps(p->sa), .sb = _mm512_set1_ps(p->sb), .sy = _mm512_set1_ps(p->sy),
                       .vi = _mm512_set1_ps(inv), .za = _mm512_set1_epi32(p->za), .zb = _mm512_set1_epi32(p->zb),
                       .au = p->a_u8, .bu = p->b_u8};
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i zy16 = _mm512_set1_epi16((int16_t)p->zy);
    const int32_t lo = (int32_t)p->lo + p->zy, hi = (int32_t)p->hi + p->zy;
    const __m512i lo8 = _mm512_set1_epi8((char)lo), hi8 = _mm512_set1_epi8((char)hi);
    const bool yu = p->y_u8;
    int64_t i = 0;
    for (; i < n; i += 64) {
        __m512i r[4];
        if (i + 64 <= n) {
            for (int k = 0; k < 4; k++)
                r[k] = qadd16_tame(&c, _mm_loadu_si128((const __m128i *)(a + i + 16 * k)),
                                   _mm_loadu_si128((const __m128i *)(b + i + 16 * k)));
        } else {
            for (int k = 0; k < 4; k++) {
                int64_t left = n - i - 16 * k;
                __mmask16 m = left >= 16 ? (__mmask16)0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
                r[k] = qadd16_tame(&c, _mm_maskz_loadu_epi8(m, a + i + 16 * k), _mm_maskz_loadu_epi8(m, b + i + 16 * k));
            }
        }
        /* per 128-bit lane: 4 values of each of r0..r3, in that order */
        __m512i w0 = _mm512_adds_epi16(_mm512_packs_epi32(r[0], r[1]), zy16);
        __m512i w1 = _mm512_adds_epi16(_mm512_packs_epi32(r[2], r[3]), zy16);
        __m512i v = yu ? _mm512_min_epu8(_mm512_max_epu8(_mm512_packus_epi16(w0, w1), lo8), hi8)
                       : _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(w0, w1), lo8), hi8);
        v = _mm512_permutexvar_epi32(order, v);
        if (i + 64 <= n)
            _mm512_storeu_si512(y + i, v);
        else
            _mm512_mask_storeu_epi8(y + i, ~(__mmask64)0 >> (64 - (n - i)), v);
    }
}

NNL_NO_FP_CONTRACT_FN static void qadd_avx512(void *y, const void *a, const void *b, int64_t n,
                                              const nnl_qadd_params *p) {
    NNL_NO_FP_CONTRACT_BODY
    float inv;
    int64_t i = 0;
    if (nnl_qadd_recip(p, &inv) && nnl_qadd_tame(p, inv)) {
        qadd_tame512(y, a, b, n, p, inv);
        return;
    }
    if (nnl_qadd_recip(p, &inv)) {
        const __m512 sa = _mm512_set1_ps(p->sa), sb = _mm512_set1_ps(p->sb), sy = _mm512_set1_ps(p->sy);
        const __m512 vi = _mm512_set1_ps(inv), lo = _mm512_set1_ps(p->lo), hi = _mm512_set1_ps(p->hi);
        const __m512 magic = _mm512_set1_ps(12582912.0f), big = _mm512_set1_ps(16777216.0f);
        const __m512i za = _mm512_set1_epi32(p->za), zb = _mm512_set1_epi32(p->zb), zy = _mm512_set1_epi32(p->zy);
        const bool au = p->a_u8, bu = p->b_u8; /* not reread after each store to y */
        for (; i + 16 <= n; i += 16) {
            __m128i ra = _mm_loadu_si128((const __m128i *)((const uint8_t *)a + i));
            __m128i rb = _mm_loadu_si128((const __m128i *)((const uint8_t *)b + i));
            __m512i ia = au ? _mm512_cvtepu8_epi32(ra) : _mm512_cvtepi8_epi32(ra);
            __m512i ib = bu ? _mm512_cvtepu8_epi32(rb) : _mm512_cvtepi8_epi32(rb);
            __m512 s = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(ia, za)), sa),
                                     _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(ib, zb)), sb));
            __m512 q = _mm512_mul_ps(s, vi);
            __m512 q2 = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, sy, s), vi, q);
            __m512 v = _mm512_mask_mov_ps(q, _mm512_cmp_ps_mask(_mm512_abs_ps(q), big, _CMP_LT_OQ), q2);
            v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
            v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), lo);
            v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, hi, _CMP_GT_OQ), hi);
            v = _mm512_sub_ps(_mm512_add_ps(v, magic), magic);
            /* the low byte of each value: uint8 or int8 alike */
            _mm_storeu_si128((__m128i *)((uint8_t *)y + i),
                             _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvttps_epi32(v), zy)));
        }
    }
    qadd_div_avx512((uint8_t *)y + i, (const uint8_t *)a + i, (const uint8_t *)b + i, n - i, p);
}

static bool supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("fma") && nnl_x86_has_f16c();
}

const nnl_kernel nnl_kernel_avx512 = {
    .name = "avx512",
    .nr = NR,
    .kc = 160,
    .nc = 384,
    .supported = supported,
    .ukr = ukr_avx512,
    .tukr = tukr_avx512,
    .tile_t = tile_t_avx512,
    .tukr_lanes = 16,
    .tukr_pre = true,
    /* all of K in one block up to 512 (KC_MAX): its weight and input rows
     * stream from L2 at 10 loads a 21 FMAs, while each block more re-reads
     * and re-stores the sums and joins the panels again (Zen 5, 1 thread,
     * against 160: 400 -> 400 at 7x7 0.088 -> 0.077 ms, 2048 -> 512 0.511
     * -> 0.485, 320 -> 1280 0.228 -> 0.202, 1024 -> 256 at 14x14 0.495 ->
     * 0.448; avx2 there is best at 64-128) */
    .tukr_plain_kc = 512,
    .tukr_small_k = 128,
    .b_rows_any = true,
    .wino_narrow = true,
    .epi_row = epi_row_avx512,
    .h2f = h2f_avx512,
    .split2 = split2_avx512,
    .pad_plane = pad_plane_avx512,
    NNL_GENERIC_ENTRIES(avx512),
    NNL_GENERIC_VECTOR_ENTRIES(avx512, 64),
    .qadd = qadd_avx512,
    .qdw = qdw_avx512,
    .qdwl = qdwl_avx512,
    .qukr = {&qukr_amx512, &qukr_vnni512, &nnl_qukr_avx2_u7, &nnl_qukr_avx2_exact},
};
#endif
