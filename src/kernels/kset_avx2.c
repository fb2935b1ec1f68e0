/*
 * AVX2 + FMA kernels.  Sixteen ymm registers do not hold an 8 x 24 tile,
 * so the microkernel runs the 8-row A panel as two halves of 4 rows: 12
 * accumulators, 3 B loads and 4 broadcasts per k for 12 FMAs.  The B
 * panel (kc x 24) stays in L1 across both halves.
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels_isa.h"
#include "kernels/x86_cpu.h"
#include "kernels/generic_set.h"

#define NR 24
#define INLINE static inline __attribute__((always_inline))

static const int32_t mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

INLINE __m256i tail_mask(int64_t left) {
    if (left > 8) left = 8;
    return _mm256_loadu_si256((const __m256i *)(mask_table + 8 - left));
}

/* exp(x): Cody-Waite reduction by ln 2, degree-6 polynomial, 2^n built in
 * the exponent field (the clamp keeps n in [-126, 127]). */
INLINE __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static void gelu_avx2(float *y, int64_t ldy, int64_t rows, int64_t n); /* kernels/rows_body.h */

INLINE __m256 act256(__m256 x, nnl_act act, float a, float b) {
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    switch (act) {
    case NNL_ACT_RELU: return _mm256_max_ps(zero, x);
    case NNL_ACT_CLIP: return _mm256_min_ps(_mm256_set1_ps(b), _mm256_max_ps(_mm256_set1_ps(a), x));
    case NNL_ACT_SIGMOID: {
        __m256 e = exp256(_mm256_sub_ps(zero, x));
        return _mm256_div_ps(one, _mm256_add_ps(one, e));
    }
    case NNL_ACT_HARDSIGMOID: {
        __m256 t = _mm256_fmadd_ps(_mm256_set1_ps(a), x, _mm256_set1_ps(b));
        return _mm256_min_ps(one, _mm256_max_ps(zero, t));
    }
    case NNL_ACT_HARDSWISH: {
        __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(1.0f / 6.0f), _mm256_set1_ps(0.5f));
        return _mm256_mul_ps(x, _mm256_min_ps(one, _mm256_max_ps(zero, t)));
    }
    case NNL_ACT_SILU: {
        __m256 e = exp256(_mm256_sub_ps(zero, x));
        return _mm256_div_ps(x, _mm256_add_ps(one, e));
    }
    case NNL_ACT_LEAKYRELU: {
        __m256 neg = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);
        return _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(a)), neg);
    }
    case NNL_ACT_GELU: {
        float t[8];
        _mm256_storeu_ps(t, x);
        gelu_avx2(t, 0, 1, 8);
        return _mm256_loadu_ps(t);
    }
    default: return x;
    }
}

/* Whole vectors go through plain loads and stores: AMD's vmaskmovps store
 * is microcoded up to Zen 3 (about 10x a plain store; bench_kernels' 1x1
 * convs on a Zen 3 at 21-62% of the FMA ceiling with it on every store of
 * a short-K tile), so whole vectors go plain and the N tail's stores in
 * pieces (nnl_st_part256); only loads are masked. */
INLINE __m256 ld_part(const float *x, int64_t left) {
    return left >= 8 ? _mm256_loadu_ps(x) : _mm256_maskload_ps(x, tail_mask(left));
}
INLINE void st_part(float *y, __m256 v, int64_t left) {
    if (left >= 8)
        _mm256_storeu_ps(y, v);
    else
        nnl_st_part256(y, v, (int)left);
}

/* A piece of a tile with a gap (nnl_ukr_args): its lanes [0, lo) at x,
 * [hi, n) at x - gap, the rest zero; lo and hi clamped to [0, 8]. */
INLINE __m256 ld_gap(const float *x, int lo, int hi, int n, int gap) {
    if (lo >= n) return ld_part(x, n);
    if (hi == 0) return ld_part(x - gap, n);
    __m256 a = _mm256_maskload_ps(x, tail_mask(lo));
    __m256i up = _mm256_andnot_si256(tail_mask(hi), tail_mask(n));
    return _mm256_or_ps(a, _mm256_maskload_ps(x - gap, up));
}

/* Stores as ld_gap reads; whole vectors plain, pieces as st_part's (no
 * vmaskmovps stores, see above): lanes from hi on shifted down first. */
INLINE void st_gap(float *y, __m256 v, int lo, int hi, int n, int gap) {
    if (lo >= n) {
        st_part(y, v, n);
    } else if (hi == 0) {
        st_part(y - gap, v, n);
    } else {
        if (lo > 0) nnl_st_part256(y, v, lo);
        if (hi < n) {
            const __m256i idx = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(hi));
            nnl_st_part256(y + hi - gap, _mm256_permutevar8x32_ps(v, idx), n - hi);
        }
    }
}

INLINE int clamp8(int x) { return x < 0 ? 0 : x > 8 ? 8 : x; }

/* A tile with a gap (a wide grid's row end), as ukr_gap_avx512: the
 * plain path into a tile on the stack, then to C in pieces past the gap
 * (whole vectors plain, the straddling ones in parts), the epilogue here
 * where C's earlier K blocks or the residual are added after the sums. */
static void ukr_avx2(const nnl_ukr_args *p);

static __attribute__((noinline)) void ukr_gap_avx2(const nnl_ukr_args *p0) {
    float t[NNL_MR * NR] __attribute__((aligned(32)));
    nnl_ukr_args p;
    nnl_epilogue e;
    const nnl_ukr_args q = nnl_ukr_gap_local(p0, &p, &e, t, NR);
    const bool late = nnl_ukr_gap_late(&p), epi = late && p.epi;
    ukr_avx2(&q);
    for (int col = 0; col < p.nr; col += 8) {
        const int left = p.nr - col, n = left < 8 ? left : 8, lo = clamp8(p.gap_at - col),
                  hi = clamp8(p.gap_at + p.gap - col);
        for (int i = 0; i < p.mr; i++) {
            float *c = p.c + i * p.ldc + col;
            __m256 x = _mm256_load_ps(t + i * NR + col);
            if (late) {
                if (p.accumulate) x = _mm256_add_ps(x, ld_gap(c, lo, hi, n, p.gap));
                if (epi) {
                    if (e.alpha != 1.0f) x = _mm256_mul_ps(x, _mm256_set1_ps(e.alpha));
                    if (e.bias_row) x = _mm256_add_ps(x, _mm256_set1_ps(e.bias_row[i]));
                    if (e.bias_col) x = _mm256_add_ps(x, ld_part(e.bias_col + col, left));
                    if (e.res)
                        x = _mm256_fmadd_ps(_mm256_set1_ps(e.beta), ld_gap(e.res + i * e.res_rs + col, lo, hi, n, p.gap),
                                            x);
                    x = act256(x, e.act, e.act_a, e.act_b);
                }
            }
            st_gap(c, x, lo, hi, n, p.gap);
        }
    }
}

/* One 8-wide piece of row i: accumulate, epilogue, store.  e is the
 * caller's local copy of the epilogue, so the stores into C (floats, as
 * alpha and beta are) do not make every later piece reload it; act is a
 * constant of ukr_avx2's switch for the common ones, so the 24 stores of
 * a tile pay no switch.  At K = 24 (MobileNet's expansions) the epilogue
 * read through p->epi took a quarter of the microkernel's time. */
INLINE void store_vec(const nnl_ukr_args *p, const nnl_epilogue *e, __m256 x, int i, int col, const nnl_act act) {
    const int left = p->nr - col;
    float *c = p->c + i * p->ldc + col;
    if (p->accumulate) x = _mm256_add_ps(x, ld_part(c, left));
    if (e) {
        if (e->alpha != 1.0f) x = _mm256_mul_ps(x, _mm256_set1_ps(e->alpha));
        if (e->bias_row) x = _mm256_add_ps(x, _mm256_set1_ps(e->bias_row[i]));
        if (e->bias_col) x = _mm256_add_ps(x, ld_part(e->bias_col + col, left));
        if (e->res) x = _mm256_fmadd_ps(_mm256_set1_ps(e->beta), ld_part(e->res + i * e->res_rs + col, left), x);
        if (act != NNL_ACT_GELU) x = act256(x, act, e->act_a, e->act_b);
    }
    st_part(c, x, left);
}

/* Rows r0 .. r0 + 3 of the tile (r0 a constant: 0 or 4), nv vectors of
 * columns; B rows at b_off (offs) or packed, two loops rather than a test
 * a step. */
INLINE void half_nv(const nnl_ukr_args *p, const nnl_epilogue *e, const int r0, const int nv, const bool offs,
                    const nnl_act act) {
    __m256 c0[4], c1[4], c2[4];
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++) c0[i] = c1[i] = c2[i] = _mm256_setzero_ps();
    const float *a = p->a + r0, *b = p->b, *an = p->a_next;
    const int64_t *off = p->b_off;
    for (int64_t k = 0; k < p->kc; k++, a += 8, b += NR, an += 8) {
        if (r0 == 0) _mm_prefetch((const char *)an, _MM_HINT_T0);
        const float *bk = offs ? p->b + off[k] : b;
        __m256 b0 = _mm256_loadu_ps(bk);
        __m256 b1 = nv > 1 ? _mm256_loadu_ps(bk + 8) : b0;
        __m256 b2 = nv > 2 ? _mm256_loadu_ps(bk + 16) : b0;
        _Pragma("GCC unroll 4")
        for (int i = 0; i < 4; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            if (nv > 1) c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
            if (nv > 2) c2[i] = _mm256_fmadd_ps(ai, b2, c2[i]);
        }
    }
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++) {
        if (r0 + i >= p->mr) break;
        store_vec(p, e, c0[i], r0 + i, 0, act);
        if (nv > 1 && p->nr > 8) store_vec(p, e, c1[i], r0 + i, 8, act);
        if (nv > 2 && p->nr > 16) store_vec(p, e, c2[i], r0 + i, 16, act);
    }
}

INLINE void tile_nv(const nnl_ukr_args *p, const nnl_epilogue *e, const int nv, const nnl_act act) {
    if (p->b_off) {
        half_nv(p, e, 0, nv, true, act);
        if (p->mr > 4) half_nv(p, e, 4, nv, true, act);
    } else {
        half_nv(p, e, 0, nv, false, act);
        if (p->mr > 4) half_nv(p, e, 4, nv, false, act);
    }
}

INLINE void tile_act(const nnl_ukr_args *p, const nnl_epilogue *e, const nnl_act act) {
    if (p->nr > 16)
        tile_nv(p, e, 3, act);
    else if (p->nr > 8)
        tile_nv(p, e, 2, act);
    else
        tile_nv(p, e, 1, act);
}

static void ukr_avx2(const nnl_ukr_args *p) {
    if (p->gap) {
        ukr_gap_avx2(p);
        return;
    }
    nnl_epilogue e;
    if (p->epi) e = *p->epi;
    const nnl_epilogue *ep = p->epi ? &e : NULL;
    /* the call's fields from a local copy too: the partial stores may
     * write any object whose address escaped, so through the caller's p
     * each reloaded c, ldc, nr (AVX2 on Zen 4, K 16: 320 -> 295 cycles a
     * tile; the AVX-512 set's store_tile says more) */
    const nnl_ukr_args q = *p;
    p = &q;
    /* the activations mobile networks fuse (SiLU: EfficientNet) as constants;
     * the rest read e.act */
    switch (ep ? e.act : NNL_ACT_NONE) {
    case NNL_ACT_NONE: tile_act(p, ep, NNL_ACT_NONE); break;
    case NNL_ACT_RELU: tile_act(p, ep, NNL_ACT_RELU); break;
    case NNL_ACT_CLIP: tile_act(p, ep, NNL_ACT_CLIP); break;
    case NNL_ACT_HARDSWISH: tile_act(p, ep, NNL_ACT_HARDSWISH); break;
    case NNL_ACT_SILU: tile_act(p, ep, NNL_ACT_SILU); break;
    default: tile_act(p, ep, e.act); break;
    }
    /* GELU (long polynomials) after every row is stored: as a call in the
     * epilogue it would spill the live accumulators around it */
    if (ep && e.act == NNL_ACT_GELU)
        gelu_avx2(p->c, p->ldc, p->mr, p->nr);
}

/* Transposed tile (gemm.h nnl_tukr_args): one vector is one PACK_A8 panel,
 * 8 output channels, so a call's np panels and nj pixels go in blocks of
 * NV panels x NJ pixels with NV x NJ <= 12 accumulators, NV weight
 * vectors and a broadcast: 16 registers at most.  Panel blocks outer: the
 * block's kc x NV x 8 weight floats (24 KB at NV 3) stay in L1 while its
 * pixel blocks pass.  The pixel offsets sit in general registers, so a
 * broadcast is base + offset with no address arithmetic. */
INLINE void tt_block(const nnl_tukr_args *p, int q0, int j0, const int NV, const int NJ) {
    __m256 acc[12];
    _Pragma("GCC unroll 12")
    for (int i = 0; i < NV * NJ; i++) acc[i] = _mm256_setzero_ps();
    const float *w = p->a + q0 * p->a_ps;
    int64_t pix[8];
    _Pragma("GCC unroll 8")
    for (int j = 0; j < NJ; j++) pix[j] = p->pix[j0 + j];
    for (int64_t k = 0; k < p->kc; k++, w += NNL_MR) {
        __m256 wv[3];
        _Pragma("GCC unroll 3")
        for (int v = 0; v < NV; v++) wv[v] = _mm256_loadu_ps(w + v * p->a_ps);
        const float *bk = p->b + p->b_off[k];
        _Pragma("GCC unroll 8")
        for (int j = 0; j < NJ; j++) {
            __m256 x = _mm256_broadcast_ss(bk + pix[j]);
            _Pragma("GCC unroll 3")
            for (int v = 0; v < NV; v++) acc[j * NV + v] = _mm256_fmadd_ps(x, wv[v], acc[j * NV + v]);
        }
    }
    _Pragma("GCC unroll 8")
    for (int j = 0; j < NJ; j++)
        _Pragma("GCC unroll 3")
        for (int v = 0; v < NV; v++) {
            float *t = p->t + (j0 + j) * p->ldt + (q0 + v) * NNL_MR;
            __m256 r = acc[j * NV + v];
            if (p->accumulate) r = _mm256_add_ps(r, _mm256_loadu_ps(t));
            _mm256_storeu_ps(t, r);
        }
}

/* The call's pixels against panels q0 .. q0 + NV - 1, in near-equal blocks
 * of at most MOST (NV x MOST <= 12 accumulators); the guards keep the
 * blocks wider than MOST, which never run, from being compiled. */
INLINE void tt_pixels(const nnl_tukr_args *p, int q0, const int NV, const int MOST) {
    const int blocks = (p->nj + MOST - 1) / MOST;
    for (int b = 0, j0 = 0; b < blocks; b++) {
        const int nj = (p->nj - j0) / (blocks - b);
        switch (nj) {
        case 1: tt_block(p, q0, j0, NV, 1); break;
        case 2: tt_block(p, q0, j0, NV, 2); break;
        case 3: tt_block(p, q0, j0, NV, 3); break;
        case 4: tt_block(p, q0, j0, NV, 4); break;
        case 5: tt_block(p, q0, j0, NV, MOST >= 5 ? 5 : 1); break;
        case 6: tt_block(p, q0, j0, NV, MOST >= 6 ? 6 : 1); break;
        case 7: tt_block(p, q0, j0, NV, MOST >= 7 ? 7 : 1); break;
        default: tt_block(p, q0, j0, NV, MOST >= 8 ? 8 : 1); break;
        }
        j0 += nj;
    }
}

static void tukr_avx2(const nnl_tukr_args *p) {
    for (int q0 = 0; q0 < p->np;) {
        /* 6 -> 3 + 3, 5 -> 3 + 2, 4 -> 2 + 2 */
        const int left = p->np - q0, nv = left == 4 ? 2 : left < 3 ? left : 3;
        if (nv == 3)
            tt_pixels(p, q0, 3, 4);
        else if (nv == 2)
            tt_pixels(p, q0, 2, 6);
        else
            tt_pixels(p, q0, 1, 8);
        q0 += nv;
    }
}

/* 8 x 8 in registers (pairs interleaved, then pairs of pairs, then the
 * 128-bit halves exchanged). */
static void tile_t_avx2(float *dst, int64_t ldd, const float *src, int64_t lds, int64_t rows, int64_t cols,
                        const nnl_epilogue *e0) {
    /* a local copy of the epilogue: see tile_t_avx512 */
    nnl_epilogue el = {0};
    if (e0) el = *e0;
    const nnl_epilogue *e = e0 ? &el : NULL;
    for (int64_t c0 = 0; c0 < cols; c0 += 8) {
        const int nc = (int)(cols - c0 < 8 ? cols - c0 : 8);
        const __m256i cm = _mm256_cmpgt_epi32(_mm256_set1_epi32(nc), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int64_t r0 = 0; r0 < rows; r0 += 8) {
            const int nr = (int)(rows - r0 < 8 ? rows - r0 : 8);
            __m256 v[8], t[8], u[8];
            for (int i = 0; i < 8; i++)
                v[i] = i < nr ? _mm256_maskload_ps(src + (r0 + i) * lds + c0, cm) : _mm256_setzero_ps();
            for (int i = 0; i < 8; i += 2) {
                t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
                t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
            }
            for (int i = 0; i < 8; i += 4) {
                u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
                u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
                u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
                u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
            }
            for (int i = 0; i < 4; i++) {
                v[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
                v[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
            }
            const __m256i rm = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            for (int c = 0; c < nc; c++) {
                __m256 x = v[c];
                if (e) {
                    if (e->bias_row) x = _mm256_add_ps(x, _mm256_set1_ps(e->bias_row[c0 + c]));
                    if (e->res)
                        x = _mm256_fmadd_ps(_mm256_set1_ps(e->beta),
                                            _mm256_maskload_ps(e->res + (c0 + c) * e->res_rs + r0, rm), x);
                    x = act256(x, e->act, e->act_a, e->act_b);
                }
                if (nr == 8) _mm256_storeu_ps(dst + (c0 + c) * ldd + r0, x);
                else _mm256_maskstore_ps(dst + (c0 + c) * ldd + r0, rm, x);
            }
        }
    }
}

static void epi_row_avx2(float *y, const float *x, int64_t n, float bias, const float *res, float beta,
                         nnl_act act, float a, float b) {
    const __m256 vb = _mm256_set1_ps(bias), vbeta = _mm256_set1_ps(beta);
    /* GELU over the whole row after it is stored: its vectors together */
    const nnl_act act1 = act == NNL_ACT_GELU ? NNL_ACT_NONE : act;
    for (int64_t i = 0; i < n; i += 8) {
        __m256 v = _mm256_add_ps(ld_part(x + i, n - i), vb);
        if (res) v = _mm256_fmadd_ps(vbeta, ld_part(res + i, n - i), v);
        st_part(y + i, act256(v, act1, a, b), n - i);
    }
    if (act == NNL_ACT_GELU) gelu_avx2(y, 0, 1, n);
}

/* F16C's vcvtph2ps, 8 halves at a time; the tail goes through a zeroed
 * group so nothing past x[n) or y[n) is touched. */
static void h2f_avx2(float *y, const uint16_t *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    if (i < n) {
        uint16_t t[8] = {0};
        float o[8];
        memcpy(t, x + i, (size_t)(n - i) * sizeof *x);
        _mm256_storeu_ps(o, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t)));
        memcpy(y + i, o, (size_t)(n - i) * sizeof *y);
    }
}

/* Lanes 0 1 4 5 2 3 6 7 of v (64-bit pairs 0 2 1 3): _mm256_shuffle_ps's
 * two in-lane halves put in order. */
static inline __m256 pairs_0213(__m256 v) {
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* nnl_split2_fn: 16 floats in, an in-lane shuffle and a 64-bit cross-lane
 * permute a phase; the tail element by element. */
static void split2_avx2(float *even, float *odd, const float *s, int64_t n) {
    int64_t j = 0;
    if (!odd) {
        /* s[2j + 15] exists while j + 8 < n */
        for (; j + 8 < n; j += 8) {
            const __m256 a = _mm256_loadu_ps(s + 2 * j), b = _mm256_loadu_ps(s + 2 * j + 8);
            _mm256_storeu_ps(even + j, pairs_0213(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))));
        }
        for (; j < n; j++) even[j] = s[2 * j];
        return;
    }
    for (; j + 8 <= n; j += 8) {
        const __m256 a = _mm256_loadu_ps(s + 2 * j), b = _mm256_loadu_ps(s + 2 * j + 8);
        _mm256_storeu_ps(even + j, pairs_0213(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))));
        _mm256_storeu_ps(odd + j, pairs_0213(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))));
    }
    for (; j < n; j++) {
        even[j] = s[2 * j];
        odd[j] = s[2 * j + 1];
    }
}

/* ---- 8-bit microkernels --------------------------------------------
 * Tiles of 8 rows run as two halves of 4 rows; a packed activation quad
 * of 8 pixels is one 32-byte load.  With AVX-VNNI one vpdpbusd per (row,
 * 8 pixels) does the quad; its 5-cycle latency needs more than the 8
 * independent sums of 4 x 16, so that tile is 4 x 24 (12 sums, 3 loads,
 * a weight broadcast: all 16 ymm).  Without VNNI the exact form, 4 x 16:
 * vpmaddubsw would saturate its int16 pair sums (255 * 127 * 2 > 32767),
 * so bytes are widened to int16 in place instead: the even bytes of each
 * dword (k = 0, 2) masked, the odd ones (k = 1, 3) shifted down, the
 * weights widened once per K block by the driver (nnl_qukr_w16: per call
 * they cost 3 shifts a row and quad), and two vpmaddwd give x0 w0 + x2 w2
 * and x1 w1 + x3 w3 per pixel lane, exact in int32. */
typedef int32_t i32u __attribute__((may_alias, aligned(1)));

/* The low byte of each of 8 int32: the values in uint8 or int8 alike. */
INLINE uint64_t low_bytes8(__m256i x) {
    const __m256i low = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                         0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i b = _mm256_shuffle_epi8(x, low);
    return (uint64_t)_mm_cvtsi128_si64(_mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)));
}

/* nnl_requant on 8 lanes: sums, their rows' off and mult, and the
 * output's zero point and clamp; the results as int32 lanes. */
INLINE __m256i requant256(__m256i acc, __m256i off, __m256 mult, __m256 zy, __m256 lo, __m256 hi) {
    /* clamped to [lo - zy, hi - zy] before the rounding conversion, zy
     * added after as an integer: the same bytes (the bounds are integers,
     * so clamping and rounding commute; a NaN product takes the lower
     * bound either way) in two instructions fewer than rounding, adding
     * zy and clamping in float (the bounds' differences hoist out of the
     * callers' loops) */
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, off)), mult);
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_sub_ps(lo, zy)), _mm256_sub_ps(hi, zy));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_cvttps_epi32(zy));
}

/* Requantize 8 sums of row i (kernels/qconv.h) and store those below nr. */
INLINE void q_store(const nnl_qukr_args *p, __m256i acc, int i, int col) {
    const nnl_qepi *e = p->epi;
    uint64_t bytes = low_bytes8(requant256(acc, _mm256_set1_epi32(e->off[i]), _mm256_set1_ps(e->mult[i]),
                                           _mm256_set1_ps(e->zy), _mm256_set1_ps(e->lo), _mm256_set1_ps(e->hi)));
    int n = p->nr - col < 8 ? p->nr - col : 8;
    memcpy(p->y + i * p->ldy + col, &bytes, (size_t)n);
}

/* Sums c[i][v] of rows r0 + i, pixels 8v.. of a tile nv * 8 wide. */
INLINE void q_load(const nnl_qukr_args *p, __m256i c[4][3], int r0, const int nv) {
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++)
        _Pragma("GCC unroll 3")
        for (int v = 0; v < nv; v++)
            c[i][v] = p->first ? _mm256_setzero_si256()
                               : _mm256_loadu_si256((const __m256i *)(p->acc + (r0 + i) * 8 * nv + 8 * v));
}

/* Requantized bytes of 16 pixels of a row from its two vectors of sums:
 * the int32 results (clamped, so within the output type) packed to int16
 * (lanes interleave the two vectors' halves, a qword permute restores the
 * order) and to bytes, saturating as the output type's sign says. */
INLINE __m128i q_bytes16(__m256i a0, __m256i a1, __m256i off, __m256 mult, __m256 zy, __m256 lo, __m256 hi, bool sgn) {
    __m256i w = _mm256_permute4x64_epi64(
        _mm256_packs_epi32(requant256(a0, off, mult, zy, lo, hi), requant256(a1, off, mult, zy, lo, hi)), 0xD8);
    __m128i l = _mm256_castsi256_si128(w), h = _mm256_extracti128_si256(w, 1);
    return sgn ? _mm_packs_epi16(l, h) : _mm_packus_epi16(l, h);
}

/* The tile's sums out: partial sums to acc, or (last K block) requantized
 * into y, 16 pixels of a row at a time with the epilogue's constants read
 * once (a store of 8 bytes per vector through q_store cost more than the
 * products of a short K: 1x1 convs of 16 channels). */
INLINE void q_out(const nnl_qukr_args *p, __m256i c[4][3], int r0, const int nv) {
    if (!p->last) {
        _Pragma("GCC unroll 4")
        for (int i = 0; i < 4; i++)
            _Pragma("GCC unroll 3")
            for (int v = 0; v < nv; v++) _mm256_storeu_si256((__m256i *)(p->acc + (r0 + i) * 8 * nv + 8 * v), c[i][v]);
        return;
    }
    const nnl_qepi *e = p->epi;
    const __m256 zy = _mm256_set1_ps(e->zy), lo = _mm256_set1_ps(e->lo), hi = _mm256_set1_ps(e->hi);
    const bool sgn = e->lo < 0;
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++) {
        if (r0 + i >= p->mr) break;
        const __m256i off = _mm256_set1_epi32(e->off[r0 + i]);
        const __m256 mult = _mm256_set1_ps(e->mult[r0 + i]);
        uint8_t *y = p->y + (r0 + i) * p->ldy;
        if (p->nr >= 16) {
            _mm_storeu_si128((__m128i *)y, q_bytes16(c[i][0], c[i][1], off, mult, zy, lo, hi, sgn));
        } else {
            uint8_t t[16];
            _mm_storeu_si128((__m128i *)t, q_bytes16(c[i][0], c[i][1], off, mult, zy, lo, hi, sgn));
            memcpy(y, t, (size_t)p->nr);
        }
        if (nv == 3 && p->nr > 16) q_store(p, c[i][2], r0 + i, 16);
    }
}

static void qukr_exact(const nnl_qukr_args *p) {
    const __m256i even = _mm256_set1_epi16(0x00FF);
    for (int r0 = 0; r0 < 8; r0 += 4) {
        if (p->last && r0 >= p->mr) break;
        __m256i c[4][3];
        q_load(p, c, r0, 2);
        /* int16 weights (nnl_qukr_w16): (w0, w2) and (w1, w3) of a row are
         * one dword each, a broadcast load */
        const i32u *w = (const i32u *)p->w + 2 * r0;
        for (int64_t q = 0; q < p->kq; q++, w += 16) {
            const uint8_t *x = p->x + p->xoff[q];
            __m256i x0 = _mm256_loadu_si256((const __m256i *)x), x1 = _mm256_loadu_si256((const __m256i *)(x + 32));
            __m256i xe0 = _mm256_and_si256(x0, even), xo0 = _mm256_srli_epi16(x0, 8);
            __m256i xe1 = _mm256_and_si256(x1, even), xo1 = _mm256_srli_epi16(x1, 8);
            _Pragma("GCC unroll 4")
            for (int i = 0; i < 4; i++) {
                __m256i we = _mm256_set1_epi32(w[2 * i]), wo = _mm256_set1_epi32(w[2 * i + 1]);
                c[i][0] = _mm256_add_epi32(c[i][0], _mm256_madd_epi16(xe0, we));
                c[i][0] = _mm256_add_epi32(c[i][0], _mm256_madd_epi16(xo0, wo));
                c[i][1] = _mm256_add_epi32(c[i][1], _mm256_madd_epi16(xe1, we));
                c[i][1] = _mm256_add_epi32(c[i][1], _mm256_madd_epi16(xo1, wo));
            }
        }
        q_out(p, c, r0, 2);
    }
}

/* Weights within [-64, 64] (nnl_qukr.w7; `quantize --weights int7`,
 * ONNX Runtime's reduce_range): a pair of byte products then sums to at
 * most 255 * 128 = 32640, so vpmaddubsw cannot saturate and, with a
 * vpmaddwd by ones adding the pairs, does exactly what one vpdpbusd does:
 * the VNNI tile's form without VNNI, on the same packed quads, 4 x 16 (8
 * sums, 2 loads, a broadcast, the ones and a product). */
INLINE __m256i dp_u7(__m256i c, __m256i x, __m256i w, __m256i ones) {
    return _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones));
}

static void qukr_u7(const nnl_qukr_args *p) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int r0 = 0; r0 < 8; r0 += 4) {
        if (p->last && r0 >= p->mr) break;
        __m256i c[4][3];
        q_load(p, c, r0, 2);
        const i32u *w = (const i32u *)p->w + r0;
        for (int64_t q = 0; q < p->kq; q++, w += 8) {
            const uint8_t *x = p->x + p->xoff[q];
            __m256i x0 = _mm256_loadu_si256((const __m256i *)x), x1 = _mm256_loadu_si256((const __m256i *)(x + 32));
            _Pragma("GCC unroll 4")
            for (int i = 0; i < 4; i++) {
                __m256i wq = _mm256_set1_epi32(w[i]);
                c[i][0] = dp_u7(c[i][0], x0, wq, ones);
                c[i][1] = dp_u7(c[i][1], x1, wq, ones);
            }
        }
        q_out(p, c, r0, 2);
    }
}

__attribute__((target("avxvnni"))) static void qukr_avxvnni(const nnl_qukr_args *p) {
    for (int r0 = 0; r0 < 8; r0 += 4) {
        if (p->last && r0 >= p->mr) break;
        __m256i c[4][3];
        q_load(p, c, r0, 3);
        const i32u *w = (const i32u *)p->w + r0;
        for (int64_t q = 0; q < p->kq; q++, w += 8) {
            const uint8_t *x = p->x + p->xoff[q];
            __m256i x0 = _mm256_loadu_si256((const __m256i *)x), x1 = _mm256_loadu_si256((const __m256i *)(x + 32));
            __m256i x2 = _mm256_loadu_si256((const __m256i *)(x + 64));
            _Pragma("GCC unroll 4")
            for (int i = 0; i < 4; i++) {
                __m256i wq = _mm256_set1_epi32(w[i]);
                c[i][0] = _mm256_dpbusd_avx_epi32(c[i][0], x0, wq);
                c[i][1] = _mm256_dpbusd_avx_epi32(c[i][1], x1, wq);
                c[i][2] = _mm256_dpbusd_avx_epi32(c[i][2], x2, wq);
            }
        }
        q_out(p, c, r0, 3);
    }
}

/* ---- the transposed 8-bit tile (gemm.h nnl_qtukr_args) ----------------
 * qt8_body.h, on AVX-VNNI and, for 7-bit weights, on AVX2. */
#define QTO NNL_QTUKR_OC

/* Requantize panel i's sums of PJ pixels and store channel rows of n
 * bytes (pixels j0 ..): the 8 x 4 bytes transposed by two unpack rounds. */
INLINE void qt_store(const nnl_qtukr_args *p, const __m256i *c, int i, int j0, int n, const int PJ) {
    const nnl_qepi *e = p->epi + i;
    const __m256i off = _mm256_loadu_si256((const __m256i *)e->off);
    const __m256 mult = _mm256_loadu_ps(e->mult), zy = _mm256_set1_ps(e->zy), lo = _mm256_set1_ps(e->lo),
                 hi = _mm256_set1_ps(e->hi);
    __m128i b[4];
    _Pragma("GCC unroll 4")
    for (int j = 0; j < 4; j++) {
        if (j >= PJ) {
            b[j] = _mm_setzero_si128();
            continue;
        }
        b[j] = _mm_cvtsi64_si128((long long)low_bytes8(requant256(c[j], off, mult, zy, lo, hi)));
    }
    __m128i t0 = _mm_unpacklo_epi8(b[0], b[1]), t1 = _mm_unpacklo_epi8(b[2], b[3]);
    uint32_t rows[8];
    _mm_storeu_si128((__m128i *)rows, _mm_unpacklo_epi16(t0, t1));
    _mm_storeu_si128((__m128i *)(rows + 4), _mm_unpackhi_epi16(t0, t1));
    const int nrow = p->mr - 8 * i < 8 ? p->mr - 8 * i : 8;
    for (int o = 0; o < nrow; o++) {
        uint8_t *y = p->y + (8 * i + o) * p->ldy + j0;
        if (n == 4) {
            memcpy(y, &rows[o], 4);
            continue;
        }
        for (int j = 0; j < n; j++) y[j] = (uint8_t)(rows[o] >> 8 * j);
    }
}

#define QT8_NAME(f) f##_avxvnni
#define QT8_ATTR __attribute__((target("avxvnni")))
#define QT8_DP(c, x, w) _mm256_dpbusd_avx_epi32(c, x, w)
#define QT8_PB 3
#include "kernels/qt8_body.h"

/* 7-bit weights without VNNI (dp_u7): the ones and a product take two of
 * the 16 ymm, so blocks of 2 panels x 4 pixels. */
#define QT8_NAME(f) f##_u7
#define QT8_ATTR
#define QT8_DP(c, x, w) dp_u7(c, x, w, _mm256_set1_epi16(1))
#define QT8_PB 2
#include "kernels/qt8_body.h"

/* ---- 8-bit Winograd F(2x2, 3x3) (kernels/qwino.h) ----------------------
 * The products: a transposed tile on int16 pairs, one vpmaddwd and an add
 * per 16 products, in blocks of PB <= 4 panels x PJ <= 2 tiles: a step is
 * PB weight loads, PJ broadcasts and PB PJ multiply-adds; more panels than
 * tiles a block since the products take one vpmaddwd, so loads and
 * broadcasts bound the step (qt8_body.h's 2 x 4 ran at 66 GMAC/s in
 * bench_qconv's Winograd, Zen 3).
 * Tiles are 4 bytes apart and steps xoff[1] (nnl_qwino.mm). */
INLINE void qw_mm_block(const nnl_qtukr_args *p, int i0, int j0, const int PB, const int PJ) {
    __m256i c[4][2];
    int32_t *acc = p->acc + j0 * NNL_QWINO_OC + 8 * i0;
    _Pragma("GCC unroll 4")
    for (int i = 0; i < PB; i++)
        _Pragma("GCC unroll 2")
        for (int j = 0; j < PJ; j++)
            c[i][j] = p->first ? _mm256_setzero_si256()
                               : _mm256_loadu_si256((const __m256i *)(acc + j * NNL_QWINO_OC + 8 * i));
    const int64_t xs = p->kq > 1 ? p->xoff[1] - p->xoff[0] : 0, ws = p->w_ps;
    const uint8_t *x = p->x + p->xoff[0] + 4 * j0;
    const int8_t *w = p->w + i0 * ws;
    _Pragma("GCC unroll 2")
    for (int64_t q = 0; q < p->kq; q++, w += 32, x += xs) {
        __m256i wv[4];
        _Pragma("GCC unroll 4")
        for (int i = 0; i < PB; i++) wv[i] = _mm256_loadu_si256((const __m256i *)(w + i * ws));
        _Pragma("GCC unroll 2")
        for (int j = 0; j < PJ; j++) {
            const __m256i b = _mm256_set1_epi32(*(const i32u *)(x + 4 * j));
            _Pragma("GCC unroll 4")
            for (int i = 0; i < PB; i++) c[i][j] = _mm256_add_epi32(c[i][j], _mm256_madd_epi16(b, wv[i]));
        }
    }
    _Pragma("GCC unroll 4")
    for (int i = 0; i < PB; i++)
        _Pragma("GCC unroll 2")
        for (int j = 0; j < PJ; j++) _mm256_storeu_si256((__m256i *)(acc + j * NNL_QWINO_OC + 8 * i), c[i][j]);
}

static void qw_mm_avx2(const nnl_qtukr_args *p) {
    for (int i0 = 0; i0 < p->np; i0 += 4) {
        const int pb = p->np - i0 < 4 ? p->np - i0 : 4;
        for (int j0 = 0; j0 < p->nj; j0 += 2) {
            const bool two = p->nj - j0 >= 2;
            switch (pb * 2 + two) {
            case 9: qw_mm_block(p, i0, j0, 4, 2); break;
            case 8: qw_mm_block(p, i0, j0, 4, 1); break;
            case 7: qw_mm_block(p, i0, j0, 3, 2); break;
            case 6: qw_mm_block(p, i0, j0, 3, 1); break;
            case 5: qw_mm_block(p, i0, j0, 2, 2); break;
            case 4: qw_mm_block(p, i0, j0, 2, 1); break;
            case 3: qw_mm_block(p, i0, j0, 1, 2); break;
            default: qw_mm_block(p, i0, j0, 1, 1); break;
            }
        }
    }
}

/* Channels 2h and 2h + 1 of a PACK_Q8 quad vector q (8 rows x 4 bytes)
 * as 8 rows x 2 int16. */
INLINE __m256i qw_pair(__m256i q, int h) {
    const __m256i sel = h ? _mm256_setr_epi8(2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 6, 7, 10,
                                             11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1)
                          : _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 4, 5, 8, 9,
                                             12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i b = _mm256_shuffle_epi8(q, sel);
    return _mm256_cvtepi8_epi16(_mm256_castsi256_si128(_mm256_permute4x64_epi64(b, 0x08)));
}

/* U' = G' g G'^T of one pair's 9 taps g (int16 lanes), at u, us apart. */
INLINE void qw_wt_pair(int16_t *u, int64_t us, const __m256i g[9]) {
    __m256i t[4][3];
    _Pragma("GCC unroll 3")
    for (int x = 0; x < 3; x++) {
        const __m256i a = g[x], b = g[3 + x], c = g[6 + x], ac = _mm256_add_epi16(a, c);
        t[0][x] = _mm256_add_epi16(a, a);
        t[1][x] = _mm256_add_epi16(ac, b);
        t[2][x] = _mm256_sub_epi16(ac, b);
        t[3][x] = _mm256_add_epi16(c, c);
    }
    _Pragma("GCC unroll 4")
    for (int r = 0; r < 4; r++) {
        const __m256i a = t[r][0], b = t[r][1], c = t[r][2], ac = _mm256_add_epi16(a, c);
        int16_t *o = u + 4 * r * us;
        _mm256_storeu_si256((__m256i *)o, _mm256_add_epi16(a, a));
        _mm256_storeu_si256((__m256i *)(o + us), _mm256_add_epi16(ac, b));
        _mm256_storeu_si256((__m256i *)(o + 2 * us), _mm256_sub_epi16(ac, b));
        _mm256_storeu_si256((__m256i *)(o + 3 * us), _mm256_add_epi16(c, c));
    }
}

/* A quad's 9 tap vectors loaded once for both of its pairs. */
static void qw_wt_avx2(int16_t *u, int64_t us, const int8_t *p8, int64_t cp0, int64_t n) {
    for (int64_t k = 0; k < n;) {
        const int64_t g4 = (cp0 + k) / 2;
        const int h0 = (int)((cp0 + k) % 2), np = h0 == 0 && k + 1 < n ? 2 : 1;
        /* unrolled, so q stays in registers (a loop made it a memcpy to the
         * stack, rep movsq, whose 8-byte stores the vector loads could not
         * forward from: 4.5% of ResNet-18 int7) */
        __m256i q[9], g[9];
        _Pragma("GCC unroll 9")
        for (int i = 0; i < 9; i++) q[i] = _mm256_loadu_si256((const __m256i *)(p8 + (g4 * 9 + i) * 32));
        for (int h = 0; h < np; h++) {
            _Pragma("GCC unroll 9")
            for (int i = 0; i < 9; i++) g[i] = qw_pair(q[i], h0 + h);
            qw_wt_pair(u + (k + h) * 16, us, g);
        }
        k += np;
    }
}

/* 32 bytes b, ^ flip, as int16 minus zx: the even bytes (e) and the odd
 * ones (o), in order within each 16-byte half. */
INLINE void qw_eo(__m256i b, __m256i flip, __m256i zx, __m256i *e, __m256i *o) {
    const __m256i sel = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12, 14,
                                         1, 3, 5, 7, 9, 11, 13, 15);
    b = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_xor_si256(b, flip), sel), 0xD8);
    *e = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(b)), zx);
    *o = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(b, 1)), zx);
}

/* 16 tiles of one row (s[i] = its window rows from the first), or 8 of
 * each of two rows (s2 non-NULL: the second row's in the upper lanes), a
 * tile a lane; bytes 2b .. 2b + 3 of a window row are the even and odd
 * bytes from 2b and from 2b + 2.  Stores the 16 lanes' pairs at o (the
 * first 8 at o, the upper 8 at o2). */
INLINE void qw_in16(int16_t *o, int16_t *o2, int64_t vs, const uint8_t *const s[8], const uint8_t *const *s2,
                    __m256i fl, __m256i z) {
    __m256i vv[2][16];
    for (int c = 0; c < 2; c++) {
        __m256i t[4][4];
        for (int i = 0; i < 4; i++) {
            const uint8_t *p = s[4 * c + i];
            __m256i x0, x2;
            if (s2) {
                const uint8_t *p2 = s2[4 * c + i];
                x0 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p)),
                                             _mm_loadu_si128((const __m128i *)p2), 1);
                x2 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(p + 2))),
                                             _mm_loadu_si128((const __m128i *)(p2 + 2)), 1);
            } else {
                x0 = _mm256_loadu_si256((const __m256i *)p);
                x2 = _mm256_loadu_si256((const __m256i *)(p + 2));
            }
            __m256i e, od, e2, o2v;
            qw_eo(x0, fl, z, &e, &od);
            qw_eo(x2, fl, z, &e2, &o2v);
            t[i][0] = _mm256_sub_epi16(e, e2);
            t[i][1] = _mm256_add_epi16(od, e2);
            t[i][2] = _mm256_sub_epi16(e2, od);
            t[i][3] = _mm256_sub_epi16(od, o2v);
        }
        for (int j = 0; j < 4; j++) {
            vv[c][j] = _mm256_sub_epi16(t[0][j], t[2][j]);
            vv[c][4 + j] = _mm256_add_epi16(t[1][j], t[2][j]);
            vv[c][8 + j] = _mm256_sub_epi16(t[2][j], t[1][j]);
            vv[c][12 + j] = _mm256_sub_epi16(t[1][j], t[3][j]);
        }
    }
    for (int xi = 0; xi < 16; xi++) {
        /* lanes 0-3 | 8-11 and 4-7 | 12-15, each a (c0, c1) pair */
        const __m256i lo = _mm256_unpacklo_epi16(vv[0][xi], vv[1][xi]), hi = _mm256_unpackhi_epi16(vv[0][xi], vv[1][xi]);
        _mm256_storeu_si256((__m256i *)(o + xi * vs), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(o2 + xi * vs), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
}

static void qw_in_avx2(int16_t *v, int64_t vs, const uint8_t *const r[16], int64_t nb, int64_t nb2, int zx,
                       uint8_t flip) {
    const __m256i fl = _mm256_set1_epi8((char)flip), z = _mm256_set1_epi16((short)zx);
    if (nb2 > 0 && nb <= 8 && nb2 <= 8) {
        /* the first row's 8 lanes stored first: the second's overwrite
         * what lies past nb */
        qw_in16(v, v + 2 * nb, vs, r, r + 8, fl, z);
        return;
    }
    for (int row = 0; row < (nb2 > 0 ? 2 : 1); row++) {
        const int64_t n = row ? nb2 : nb;
        int16_t *vr = v + (row ? 2 * nb : 0);
        for (int64_t b0 = 0; b0 < n; b0 += 16) {
            const uint8_t *s[8];
            for (int i = 0; i < 8; i++) s[i] = r[8 * row + i] + 2 * b0;
            qw_in16(vr + 2 * b0, vr + 2 * b0 + 16, vs, s, NULL, fl, z);
        }
    }
}

/* 8 bytes a row of 8 output channels from 8 columns of requantized sums
 * (c[j]: column j's 8 channels, values in the output type's range):
 * saturating packs (exact there) to columns 0-3 | 4-7 as bytes, a 4 x 4
 * byte transpose in each 128-bit lane, dword unpacks pairing the halves;
 * row l at o + l lo. */
INLINE void qw_store8x8(uint8_t *o, int64_t lo, const __m256i c[8], bool sgn) {
    const __m256i p0 = _mm256_packs_epi32(c[0], c[1]), p1 = _mm256_packs_epi32(c[2], c[3]);
    const __m256i p2 = _mm256_packs_epi32(c[4], c[5]), p3 = _mm256_packs_epi32(c[6], c[7]);
    const __m256i t = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2,
                                       6, 10, 14, 3, 7, 11, 15);
    const __m256i a = _mm256_shuffle_epi8(sgn ? _mm256_packs_epi16(p0, p1) : _mm256_packus_epi16(p0, p1), t);
    const __m256i b = _mm256_shuffle_epi8(sgn ? _mm256_packs_epi16(p2, p3) : _mm256_packus_epi16(p2, p3), t);
    /* u: rows 0, 1 | 4, 5; h: rows 2, 3 | 6, 7 */
    const __m256i u = _mm256_unpacklo_epi32(a, b), h = _mm256_unpackhi_epi32(a, b);
    const __m128i r[4] = {_mm256_castsi256_si128(u), _mm256_castsi256_si128(h), _mm256_extracti128_si256(u, 1),
                          _mm256_extracti128_si256(h, 1)};
    for (int q = 0; q < 4; q++) {
        _mm_storel_epi64((__m128i *)(o + 2 * q * lo), r[q]);
        _mm_storel_epi64((__m128i *)(o + (2 * q + 1) * lo), _mm_unpackhi_epi64(r[q], r[q]));
    }
}

/* 4 tiles at a time: their 8 columns of 8 rows' bytes, stored as 8 bytes
 * a row where the columns are adjacent (dilation 1), else byte by byte. */
static void qw_out_avx2(uint8_t *y, int64_t ly, int64_t ry, int64_t cx, int nr, int nc, int nt, const int32_t *m,
                        int64_t ms, const nnl_qepi *e) {
    const __m256i off = _mm256_loadu_si256((const __m256i *)e->off);
    const __m256 mult = _mm256_loadu_ps(e->mult), zy = _mm256_set1_ps(e->zy), lo = _mm256_set1_ps(e->lo),
                 hi = _mm256_set1_ps(e->hi);
    const bool sgn = e->lo < 0;
    for (int k0 = 0; k0 < nt; k0 += 4) {
        __m256i r[2][8];
        const int kn = nt - k0 < 4 ? nt - k0 : 4;
        for (int k = 0; k < kn; k++) {
            const int32_t *mk = m + (k0 + k) * NNL_QWINO_OC;
            __m256i s[2][4];
            _Pragma("GCC unroll 4")
            for (int j = 0; j < 4; j++) {
                const __m256i m0 = _mm256_loadu_si256((const __m256i *)(mk + j * ms));
                const __m256i m1 = _mm256_loadu_si256((const __m256i *)(mk + (4 + j) * ms));
                const __m256i m2 = _mm256_loadu_si256((const __m256i *)(mk + (8 + j) * ms));
                const __m256i m3 = _mm256_loadu_si256((const __m256i *)(mk + (12 + j) * ms));
                s[0][j] = _mm256_add_epi32(_mm256_add_epi32(m0, m1), m2);
                s[1][j] = _mm256_sub_epi32(_mm256_sub_epi32(m1, m2), m3);
            }
            _Pragma("GCC unroll 2")
            for (int i = 0; i < 2; i++) {
                const __m256i y0 = _mm256_add_epi32(_mm256_add_epi32(s[i][0], s[i][1]), s[i][2]);
                const __m256i y1 = _mm256_sub_epi32(_mm256_sub_epi32(s[i][1], s[i][2]), s[i][3]);
                r[i][2 * k] = requant256(_mm256_srai_epi32(y0, 2), off, mult, zy, lo, hi);
                r[i][2 * k + 1] = requant256(_mm256_srai_epi32(y1, 2), off, mult, zy, lo, hi);
            }
        }
        const int cols = nc - 2 * k0 < 8 ? nc - 2 * k0 : 8;
        uint8_t *yk = y + 2 * k0 * cx;
        for (int i = 0; i < nr; i++) {
            if (cols == 8 && cx == 1) {
                qw_store8x8(yk + i * ry, ly, r[i], sgn);
                continue;
            }
            for (int j = 0; j < cols; j++) {
                const uint64_t b = low_bytes8(r[i][j]);
                for (int l = 0; l < 8; l++) yk[l * ly + i * ry + j * cx] = (uint8_t)(b >> 8 * l);
            }
        }
    }
}

static const nnl_qwino qwino_avx2 = {.wt = qw_wt_avx2, .in = qw_in_avx2, .out = qw_out_avx2, .mm = qw_mm_avx2};

/* nnl_il4_fn on 32 pixels: byte then word unpacks interleave within each
 * 128-bit lane (o0 = pixels 0..3 | 16..19, o1 4..7 | 20..23, ...), lane
 * permutes put pixels in order; the tail goes to the portable form. */
static void il4_avx2(uint32_t *o, const uint8_t *const r[4], int64_t m, uint32_t flip) {
    const __m256i f = _mm256_set1_epi32((int)flip);
    int64_t j = 0;
    for (; j + 32 <= m; j += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(r[0] + j)), b = _mm256_loadu_si256((const __m256i *)(r[1] + j));
        __m256i c = _mm256_loadu_si256((const __m256i *)(r[2] + j)), d = _mm256_loadu_si256((const __m256i *)(r[3] + j));
        __m256i ab0 = _mm256_unpacklo_epi8(a, b), ab1 = _mm256_unpackhi_epi8(a, b);
        __m256i cd0 = _mm256_unpacklo_epi8(c, d), cd1 = _mm256_unpackhi_epi8(c, d);
        __m256i o0 = _mm256_unpacklo_epi16(ab0, cd0), o1 = _mm256_unpackhi_epi16(ab0, cd0);
        __m256i o2 = _mm256_unpacklo_epi16(ab1, cd1), o3 = _mm256_unpackhi_epi16(ab1, cd1);
        _mm256_storeu_si256((__m256i *)(o + j), _mm256_xor_si256(_mm256_permute2x128_si256(o0, o1, 0x20), f));
        _mm256_storeu_si256((__m256i *)(o + j + 8), _mm256_xor_si256(_mm256_permute2x128_si256(o2, o3, 0x20), f));
        _mm256_storeu_si256((__m256i *)(o + j + 16), _mm256_xor_si256(_mm256_permute2x128_si256(o0, o1, 0x31), f));
        _mm256_storeu_si256((__m256i *)(o + j + 24), _mm256_xor_si256(_mm256_permute2x128_si256(o2, o3, 0x31), f));
    }
    if (j < m) {
        const uint8_t *rt[4] = {r[0] + j, r[1] + j, r[2] + j, r[3] + j};
        nnl_il4_generic(o + j, rt, m - j, flip);
    }
}

static bool has_avxvnni(void) {
    __builtin_cpu_init();
    return nnl_x86_has_avxvnni();
}

static bool always(void) { return true; }

/* Transposed tiles up to 32x32 maps: on Zen 5 3x3 convs at 28x28 ran 3-6%
 * faster on them, ResNet's 3x3 64 ch at 56x56 6% slower. */
static const nnl_qukr qukr_vnni256 = {.name = "avxvnni", .nr = 24, .kq = 128, .supported = has_avxvnni,
                                      .fn = qukr_avxvnni, .il4 = il4_avx2, .tfn = qtukr_avxvnni,
                                      .tpix = 1024};
/* The 8-bit Winograd (wino_ow, a phase's output width) against the two
 * AVX2 microkernels, Zen 3, bench_qconv, direct-conv GMAC/s, Winograd vs
 * avx2u7 (avx2exact): 3x3 64 ch at 56x56 104 vs 86 (63), 128 ch at 28x28
 * 112 vs 91 (62), 256 ch at 14x14 95 vs 91 (60), FCN's 128 ch at 32x48
 * 121 vs 90, 256 ch dilation 2 (24-wide phases) 107 vs 91 (63), 2048 ->
 * 512 115 vs 90 (63); a tie at 12-wide phases (FCN's dilation 4: 90 vs
 * 89, exact 55), slower at 7x7 (37-48 vs 91, exact 47).  FCN portrait's
 * dilation-4 phases, 8 wide and 12 tall: 88 vs 90 (exact 50), so the exact
 * kernel's limit is 8 wide. */
/* The transposed tile measured faster than pixel tiles wherever qt_plan
 * takes it up to 56x56 maps (Zen 3, bench_qconv: 3x3 64 ch at 56x56 86 vs
 * 79 GMAC/s, 512 ch at 7x7 90 vs 69, FCN's 3x3 d4 at 32x48 90 vs 78).
 * K blocks of 256 quads: the call's fixed costs (sums in and out, the
 * second half of rows) over twice the products (the microkernel alone,
 * operands in L1 / L2: 94 -> 96 GMAC/s); FCN's 1x1 2048 -> 512 and 1024 ->
 * 2048 at 32x48 90 -> 92.5 and 91 -> 94, 3x3 512 at 7x7 90 -> 93; 384
 * quads lost on the transposed tile (3x3 d4 91 -> 85: its weight slice no
 * longer stays in L1).  avx2exact measured the same at 256 as at 128. */
const nnl_qukr nnl_qukr_avx2_u7 = {.name = "avx2u7", .nr = 16, .kq = 256, .supported = always, .fn = qukr_u7,
                                     .il4 = il4_avx2, .tfn = qtukr_u7, .tpix = 4096, .w7 = true, .wino_ow = 13};
const nnl_qukr nnl_qukr_avx2_exact = {.name = "avx2exact", .nr = 16, .kq = 128, .supported = always,
                                      .fn = qukr_exact, .wprep = nnl_qukr_w16,
                                      .wprep_bytes = nnl_qukr_w16_bytes, .il4 = il4_avx2, .wino_ow = 8};

NNL_GENERIC_KERNELS(avx2)
NNL_GENERIC_VECTOR_KERNELS(avx2, 32)

/* 8-bit depthwise taps (gemm.h nnl_qdw_fn): 32 pixels as four vectors of
 * 8 int32 sums, taps two at a time: both rows' bytes widened to int16 and
 * interleaved pixel by pixel, one vpmaddwd by the pair of weights adds
 * x0 w0 + x1 w1 (|.| <= 2 x 255 x 128: exact) to each pixel's sum; an odd
 * last tap pairs with itself at weight 0.  The interleave puts pixels 0-3
 * and 8-11 in acc[0], 4-7 and 12-15 in acc[1] (the halves of acc[2] and
 * acc[3] likewise 16 on): the saturating packs of the epilogue, which
 * works in 128-bit halves, restores their order.  Then requant256, which
 * adds the offset; the clamped values fit the output type, so the packs
 * (signed for an int8 output, whose clamp goes below 0) are exact.  Against
 * widening each tap to int32 for vpmulld (Zen 3, MobileNetV2 int7, one
 * thread): its 56x56 depthwise 0.346 -> 0.278 ms, 112x112/2 0.316 ->
 * 0.273, the network 8.55 -> 8.19 ms. */
static void qdw_avx2(uint8_t *y, const uint8_t *const *src, const int8_t *w, int nt, int64_t n,
                     const nnl_qdw_epi *e) {
    const __m256 mult = _mm256_set1_ps(e->mult), zy = _mm256_set1_ps(e->zy), lo = _mm256_set1_ps(e->lo),
                 hi = _mm256_set1_ps(e->hi);
    const __m256i off = _mm256_set1_epi32(e->off);
    const bool sgn = e->lo < 0;
    for (int64_t f = 0; f < n; f += NNL_QDW_BLOCK) {
        __m256i acc[4];
        for (int k = 0; k < 4; k++) acc[k] = _mm256_setzero_si256();
        for (int t = 0; t < nt; t += 2) {
            const bool pair = t + 1 < nt;
            const __m256i wp = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)w[t] |
                                                           (uint32_t)(uint16_t)(pair ? w[t + 1] : 0) << 16));
            const uint8_t *s0 = src[t] + f, *s1 = src[pair ? t + 1 : t] + f;
            _Pragma("GCC unroll 2")
            for (int h = 0; h < 2; h++) {
                __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s0 + 16 * h)));
                __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s1 + 16 * h)));
                acc[2 * h] = _mm256_add_epi32(acc[2 * h], _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp));
                acc[2 * h + 1] = _mm256_add_epi32(acc[2 * h + 1], _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp));
            }
        }
        const __m256i p01 = _mm256_packs_epi32(requant256(acc[0], off, mult, zy, lo, hi),
                                               requant256(acc[1], off, mult, zy, lo, hi));
        const __m256i p23 = _mm256_packs_epi32(requant256(acc[2], off, mult, zy, lo, hi),
                                               requant256(acc[3], off, mult, zy, lo, hi));
        const __m256i b = sgn ? _mm256_packs_epi16(p01, p23) : _mm256_packus_epi16(p01, p23);
        _mm256_storeu_si256((__m256i *)(y + f), _mm256_permute4x64_epi64(b, 0xD8));
    }
}

/* 8-bit depthwise with channels in the lanes (gemm.h nnl_qdwl_fn) on
 * AVX2, for 16 channels at once: the planes are transposed into staged
 * pixels of 16 bytes (S), each staged pixel then widened, beside its right
 * neighbour, into int16 pairs (P: (x[q][c], x[q + 1][c]) for 16 channels,
 * 64 bytes), so a kernel row's taps kx = 2j, 2j + 1 of an output pixel are
 * one P entry, two vpmaddwd with the pair of weights per channel: per
 * output pixel and kernel row ceil(kw / 2) steps of 16 channels, where the
 * per-plane kernel pays its staging, setup and copy-out for every channel.
 * Dilated columns decline (pairs are adjacent pixels). */
INLINE void t16x16(__m128i r[16]) {
    __m128i t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++)
        for (int h = 0; h < 2; h++) {
            r[4 * i + h] = _mm_unpacklo_epi16(t[4 * i + h], t[4 * i + 2 + h]);
            r[4 * i + 2 + h] = _mm_unpackhi_epi16(t[4 * i + h], t[4 * i + 2 + h]);
        }
    for (int i = 0; i < 2; i++)
        for (int h = 0; h < 4; h++) {
            t[8 * i + h] = _mm_unpacklo_epi32(r[8 * i + h], r[8 * i + 4 + h]);
            t[8 * i + 4 + h] = _mm_unpackhi_epi32(r[8 * i + h], r[8 * i + 4 + h]);
        }
    /* t[8 i + 4 a + 2 b + c] holds rows 8 i .. 8 i + 7, columns 8 c + 4 b + 2 a .. + 1 */
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++) {
                const int col = 8 * c + 4 * b + 2 * a, k = 4 * a + 2 * b + c;
                r[col] = _mm_unpacklo_epi64(t[k], t[8 + k]);
                r[col + 1] = _mm_unpackhi_epi64(t[k], t[8 + k]);
            }
}

#define QDWL_KW_MAX 8
#define QDWL_KH_MAX 16

/* Every output pixel's sums of KH kernel rows x NP pairs, requantized
 * into O (16 bytes a pixel): per half of the channels, its KH NP weight
 * vectors held while the pixels pass (constant KH and NP unroll into
 * registers), one vpmaddwd and an add a pair; the results' low bytes are
 * the output type's (clamped). */
INLINE void qdwl_sums(const nnl_qdwl_args *a, const uint8_t *P, uint8_t *O, int64_t wq,
                      const __m256i W[][QDWL_KW_MAX / 2][2], const int KH, const int NP) {
    const __m256 zy = _mm256_set1_ps(a->zy), lo = _mm256_set1_ps(a->lo), hi = _mm256_set1_ps(a->hi);
    for (int h = 0; h < 2; h++) {
        __m256i w[QDWL_KH_MAX][QDWL_KW_MAX / 2];
        _Pragma("GCC unroll 16")
        for (int ky = 0; ky < KH; ky++)
            _Pragma("GCC unroll 4")
            for (int j = 0; j < NP; j++) w[ky][j] = W[ky][j][h];
        const __m256i off = _mm256_loadu_si256((const __m256i *)(a->off + 8 * h));
        const __m256 mult = _mm256_loadu_ps(a->mult + 8 * h);
        const int64_t rs = a->dh * wq * 64;
        for (int64_t oy = 0, p = 0; oy < a->oh; oy++) {
            const uint8_t *b = P + oy * a->sh * wq * 64 + 32 * h;
            for (int64_t ox = 0; ox < a->ow; ox++, p++, b += a->sw * 64) {
                __m256i c = off;
                _Pragma("GCC unroll 16")
                for (int ky = 0; ky < KH; ky++)
                    _Pragma("GCC unroll 4")
                    for (int j = 0; j < NP; j++)
                        c = _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(b + ky * rs + 128 * j)),
                                                                  w[ky][j]));
                const uint64_t bytes = low_bytes8(requant256(c, _mm256_setzero_si256(), mult, zy, lo, hi));
                memcpy(O + p * 16 + 8 * h, &bytes, 8);
            }
        }
    }
}

static bool qdwl_avx2(const nnl_qdwl_args *a) {
    if (a->dw != 1 || a->kw > QDWL_KW_MAX || a->kh > QDWL_KH_MAX || a->nc < 1 || a->nc > 16) return false;
    const int np = (int)(a->kw + 1) / 2;
    const int64_t hp = (a->oh - 1) * a->sh + (a->kh - 1) * a->dh + 1, wq = (a->ow - 1) * a->sw + 2 * np;
    const int64_t hw = a->h * a->w, ohw = a->oh * a->ow, w = a->w, pt = a->pt, pl = a->pl;
    const int nc = a->nc;
    const uint8_t *x = a->x;
    uint8_t *S = a->scratch;
    uint8_t *P = S + nnl_qdwl_s_bytes(hp, wq), *O = P + nnl_qdwl_p_bytes(hp, wq);
    /* S: pads, then the image's pixels the grid holds, 16 at once */
    memset(S, a->pad, (size_t)((hp * wq + 1) * 16));
    const __m128i flip = _mm_set1_epi8((char)a->flip);
    /* a plane's last bytes short of 16: the 16 that end it, shifted down
     * (a copy through memory stalled the load on its byte stores) */
    static const int8_t down[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    /* every image pixel inside the grid: its bounds go unchecked */
    const bool inside = pt >= 0 && pl >= 0 && a->h + pt <= hp && w + pl <= wq;
    for (int64_t p0 = 0, iy = 0, ix = 0; p0 < hw; p0 += 16) {
        const int64_t n = hw - p0 < 16 ? hw - p0 : 16;
        const __m128i sh = _mm_loadu_si128((const __m128i *)(down + 16 - n));
        __m128i r[16];
        for (int c = 0; c < 16; c++) {
            if (c >= nc) {
                r[c] = _mm_setzero_si128();
            } else if (n == 16) {
                r[c] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + c * hw + p0)), flip);
            } else if (hw >= 16) {
                r[c] = _mm_xor_si128(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(x + c * hw + hw - 16)), sh), flip);
            } else {
                uint8_t t[16] = {0};
                memcpy(t, x + c * hw + p0, (size_t)n);
                r[c] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)t), flip);
            }
        }
        t16x16(r);
        for (int64_t i = 0; i < n; i++) {
            const int64_t row = iy + pt, col = ix + pl;
            if (inside || (row >= 0 && row < hp && col >= 0 && col < wq))
                _mm_storeu_si128((__m128i *)(S + (row * wq + col) * 16), r[i]);
            if (++ix == w) ix = 0, iy++;
        }
    }
    /* P at the columns some pair starts at: every one, or the even ones
     * for an even stride (q = ox sw + 2 j) */
    const int64_t qs = a->sw % 2 ? 1 : 2;
    for (int64_t row = 0; row < hp; row++)
        for (int64_t q = 0; q + 1 < wq; q += qs) {
            const uint8_t *s = S + (row * wq + q) * 16;
            const __m128i u = _mm_loadu_si128((const __m128i *)s), v = _mm_loadu_si128((const __m128i *)(s + 16));
            __m256i *d = (__m256i *)(P + (row * wq + q) * 64);
            _mm256_storeu_si256(d, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(u, v)));
            _mm256_storeu_si256(d + 1, _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(u, v)));
        }
    /* weights as P's pairs: row ky, step j, channels 0-7 and 8-15 */
    __m256i W[QDWL_KH_MAX][QDWL_KW_MAX / 2][2];
    for (int64_t ky = 0; ky < a->kh; ky++)
        for (int j = 0; j < np; j++)
            for (int h = 0; h < 2; h++) {
                int16_t wv[16];
                for (int c = 0; c < 8; c++) {
                    const int ch = 8 * h + c;
                    const int8_t *wc = a->wt + ch * a->kh * a->kw + ky * a->kw;
                    wv[2 * c] = (int16_t)(ch < a->nc ? wc[2 * j] : 0);
                    wv[2 * c + 1] = (int16_t)(ch < a->nc && 2 * j + 1 < a->kw ? wc[2 * j + 1] : 0);
                }
                W[ky][j][h] = _mm256_loadu_si256((const __m256i *)wv);
            }
    if (a->kh == 3 && np == 2)
        qdwl_sums(a, P, O, wq, W, 3, 2);
    else if (a->kh == 5 && np == 3)
        qdwl_sums(a, P, O, wq, W, 5, 3);
    else
        qdwl_sums(a, P, O, wq, W, (int)a->kh, np);
    /* back: 16 pixels x 16 channels a step into the channels' planes */
    for (int64_t p0 = 0; p0 < ohw; p0 += 16) {
        const int64_t n = ohw - p0 < 16 ? ohw - p0 : 16;
        __m128i r[16];
        for (int i = 0; i < 16; i++) r[i] = _mm_loadu_si128((const __m128i *)(O + (p0 + i) * 16));
        t16x16(r);
        for (int c = 0; c < a->nc; c++) {
            if (n == 16) {
                _mm_storeu_si128((__m128i *)(a->y + c * ohw + p0), r[c]);
            } else {
                uint8_t t[16];
                _mm_storeu_si128((__m128i *)t, r[c]);
                memcpy(a->y + c * ohw + p0, t, (size_t)n);
            }
        }
    }
    return true;
}

/* The 8-bit add without a division per lane (kernels/qadd_body.h,
 * nnl_qadd_recip); the products and their sum as the unfused ops round
 * them, so no contraction. */
typedef struct qadd256 {
    __m256 sa, sb, sy, vi;
    __m256i za, zb;
    bool au, bu;
} qadd256;

/* 8 quotients of a tame call (nnl_qadd_tame) rounded to int32, zy not
 * yet added, as kset_avx512.c's qadd16_tame. */
NNL_NO_FP_CONTRACT_FN static inline __m256i qadd8_tame(const qadd256 *c, const uint8_t *a, const uint8_t *b) {
    NNL_NO_FP_CONTRACT_BODY
    __m128i ra = _mm_loadl_epi64((const __m128i *)a), rb = _mm_loadl_epi64((const __m128i *)b);
    __m256i ia = c->au ? _mm256_cvtepu8_epi32(ra) : _mm256_cvtepi8_epi32(ra);
    __m256i ib = c->bu ? _mm256_cvtepu8_epi32(rb) : _mm256_cvtepi8_epi32(rb);
    __m256 s = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(ia, c->za)), c->sa),
                             _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(ib, c->zb)), c->sb));
    __m256 q = _mm256_mul_ps(s, c->vi);
    q = _mm256_fmadd_ps(_mm256_fnmadd_ps(q, c->sy, s), c->vi, q);
    return _mm256_cvtps_epi32(_mm256_round_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* A tame call, 32 bytes a step, narrowed and clamped as qadd_tame512
 * does; a tail shorter than 32 bytes goes through a local copy. */
NNL_NO_FP_CONTRACT_FN static void qadd_tame256(uint8_t *y, const uint8_t *a, const uint8_t *b, int64_t n,
                                               const nnl_qadd_params *p, float inv) {
    NNL_NO_FP_CONTRACT_BODY
    const qadd256 c = {.sa = _mm256_set1_ps(p->sa), .sb = _mm256_set1_ps(p->sb), .sy = _mm256_set1_ps(p->sy),
                       .vi = _mm256_set1_ps(inv), .za = _mm256_set1_epi32(p->za), .zb = _mm256_set1_epi32(p->zb),
                       .au = p->a_u8, .bu = p->b_u8};
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i zy16 = _mm256_set1_epi16((int16_t)p->zy);
    const int32_t lo = (int32_t)p->lo + p->zy, hi = (int32_t)p->hi + p->zy;
    const __m256i lo8 = _mm256_set1_epi8((char)lo), hi8 = _mm256_set1_epi8((char)hi);
    const bool yu = p->y_u8;
    for (int64_t i = 0; i < n; i += 32) {
        uint8_t ta[32], tb[32], ty[32];
        const uint8_t *pa = a + i, *pb = b + i;
        uint8_t *py = y + i;
        int64_t m = n - i < 32 ? n - i : 32;
        if (m < 32) {
            memset(ta, 0, sizeof ta), memset(tb, 0, sizeof tb);
            memcpy(ta, pa, (size_t)m), memcpy(tb, pb, (size_t)m);
            pa = ta, pb = tb, py = ty;
        }
        __m256i r0 = qadd8_tame(&c, pa, pb), r1 = qadd8_tame(&c, pa + 8, pb + 8);
        __m256i r2 = qadd8_tame(&c, pa + 16, pb + 16), r3 = qadd8_tame(&c, pa + 24, pb + 24);
        __m256i w0 = _mm256_adds_epi16(_mm256_packs_epi32(r0, r1), zy16);
        __m256i w1 = _mm256_adds_epi16(_mm256_packs_epi32(r2, r3), zy16);
        __m256i v = yu ? _mm256_min_epu8(_mm256_max_epu8(_mm256_packus_epi16(w0, w1), lo8), hi8)
                       : _mm256_min_epi8(_mm256_max_epi8(_mm256_packs_epi16(w0, w1), lo8), hi8);
        _mm256_storeu_si256((__m256i *)py, _mm256_permutevar8x32_epi32(v, order));
        if (m < 32) memcpy(y + i, ty, (size_t)m);
    }
}

NNL_NO_FP_CONTRACT_FN static void qadd_avx2(void *y, const void *a, const void *b, int64_t n,
                                            const nnl_qadd_params *p) {
    NNL_NO_FP_CONTRACT_BODY
    float inv;
    int64_t i = 0;
    if (nnl_qadd_recip(p, &inv) && nnl_qadd_tame(p, inv)) {
        qadd_tame256(y, a, b, n, p, inv);
        return;
    }
    if (nnl_qadd_recip(p, &inv)) {
        const __m256 sa = _mm256_set1_ps(p->sa), sb = _mm256_set1_ps(p->sb), sy = _mm256_set1_ps(p->sy);
        const __m256 vi = _mm256_set1_ps(inv), lo = _mm256_set1_ps(p->lo), hi = _mm256_set1_ps(p->hi);
        const __m256 magic = _mm256_set1_ps(12582912.0f), big = _mm256_set1_ps(16777216.0f);
        const __m256 sign = _mm256_set1_ps(-0.0f);
        const __m256i za = _mm256_set1_epi32(p->za), zb = _mm256_set1_epi32(p->zb), zy = _mm256_set1_epi32(p->zy);
        const bool au = p->a_u8, bu = p->b_u8; /* not reread after each store to y */
        for (; i + 8 <= n; i += 8) {
            __m128i ra = _mm_loadl_epi64((const __m128i *)((const uint8_t *)a + i));
            __m128i rb = _mm_loadl_epi64((const __m128i *)((const uint8_t *)b + i));
            __m256i ia = au ? _mm256_cvtepu8_epi32(ra) : _mm256_cvtepi8_epi32(ra);
            __m256i ib = bu ? _mm256_cvtepu8_epi32(rb) : _mm256_cvtepi8_epi32(rb);
            __m256 s = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(ia, za)), sa),
                                     _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(ib, zb)), sb));
            __m256 q = _mm256_mul_ps(s, vi);
            __m256 q2 = _mm256_fmadd_ps(_mm256_fnmadd_ps(q, sy, s), vi, q);
            __m256 v = _mm256_blendv_ps(q, q2, _mm256_cmp_ps(_mm256_andnot_ps(sign, q), big, _CMP_LT_OQ));
            v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
            v = _mm256_blendv_ps(v, lo, _mm256_cmp_ps(v, lo, _CMP_LT_OQ));
            v = _mm256_blendv_ps(v, hi, _mm256_cmp_ps(v, hi, _CMP_GT_OQ));
            v = _mm256_sub_ps(_mm256_add_ps(v, magic), magic);
            uint64_t bytes = low_bytes8(_mm256_add_epi32(_mm256_cvttps_epi32(v), zy));
            memcpy((uint8_t *)y + i, &bytes, 8);
        }
    }
    qadd_div_avx2((uint8_t *)y + i, (const uint8_t *)a + i, (const uint8_t *)b + i, n - i, p);
}

static bool supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           nnl_x86_has_f16c();
}

const nnl_kernel nnl_kernel_avx2 = {
    .name = "avx2",
    .nr = NR,
    .kc = 256,
    .nc = 384,
    .supported = supported,
    .ukr = ukr_avx2,
    .tukr = tukr_avx2,
    .tile_t = tile_t_avx2,
    .tukr_plain_kc = 64,
    .tukr_small_k = 256,
    .tukr_plain_gain = 10,
    .epi_row = epi_row_avx2,
    .h2f = h2f_avx2,
    .split2 = split2_avx2,
    NNL_GENERIC_ENTRIES(avx2),
    NNL_GENERIC_VECTOR_ENTRIES(avx2, 32),
    .qadd = qadd_avx2,
    .qdw = qdw_avx2,
    .qdwl = qdwl_avx2,
    .qukr = {&qukr_vnni256, &nnl_qukr_avx2_u7, &nnl_qukr_avx2_exact},
    .qwino = &qwino_avx2,
};
#endif
