/*
 * AVX2 + FMA kernels.  Sixteen ymm registers do not hold an 8 x 24 tile,
 * so the microkernel runs the 8-row A panel as two halves of 4 rows: 12
 * accumulators, 3 B loads and 4 broadcasts per k for 12 FMAs.  The B
 * panel (kc x 24) stays in L1 across both halves.
 */
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/kernels_isa.h"
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
    default: return x;
    }
}

INLINE void store_vec(const nnl_ukr_args *p, __m256 x, int i, int col) {
    __m256i m = tail_mask(p->nr - col);
    float *c = p->c + i * p->ldc + col;
    if (p->accumulate) x = _mm256_add_ps(x, _mm256_maskload_ps(c, m));
    const nnl_epilogue *e = p->epi;
    if (e) {
        x = _mm256_mul_ps(x, _mm256_set1_ps(e->alpha));
        if (e->bias_row) x = _mm256_add_ps(x, _mm256_set1_ps(e->bias_row[i]));
        if (e->bias_col) x = _mm256_add_ps(x, _mm256_maskload_ps(e->bias_col + col, m));
        if (e->res)
            x = _mm256_fmadd_ps(_mm256_set1_ps(e->beta), _mm256_maskload_ps(e->res + i * e->res_rs + col, m), x);
        x = act256(x, e->act, e->act_a, e->act_b);
    }
    _mm256_maskstore_ps(c, m, x);
}

INLINE void half_nv(const nnl_ukr_args *p, int r0, const int nv) {
    __m256 c0[4], c1[4], c2[4];
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 4; i++) c0[i] = c1[i] = c2[i] = _mm256_setzero_ps();
    const float *a = p->a + r0, *b = p->b, *an = p->a_next;
    for (int64_t k = 0; k < p->kc; k++, a += 8, b += NR, an += 8) {
        if (r0 == 0) _mm_prefetch((const char *)an, _MM_HINT_T0);
        const float *bk = p->b_off ? p->b + p->b_off[k] : b;
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
        store_vec(p, c0[i], r0 + i, 0);
        if (nv > 1 && p->nr > 8) store_vec(p, c1[i], r0 + i, 8);
        if (nv > 2 && p->nr > 16) store_vec(p, c2[i], r0 + i, 16);
    }
}

static void ukr_avx2(const nnl_ukr_args *p) {
    for (int r0 = 0; r0 < 8 && r0 < p->mr; r0 += 4) {
        if (p->nr > 16)
            half_nv(p, r0, 3);
        else if (p->nr > 8)
            half_nv(p, r0, 2);
        else
            half_nv(p, r0, 1);
    }
}

static void epi_row_avx2(float *y, int64_t n, float bias, const float *res, float beta, nnl_act act, float a,
                         float b) {
    const __m256 vb = _mm256_set1_ps(bias), vbeta = _mm256_set1_ps(beta);
    for (int64_t i = 0; i < n; i += 8) {
        __m256i m = tail_mask(n - i);
        __m256 x = _mm256_add_ps(_mm256_maskload_ps(y + i, m), vb);
        if (res) x = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(res + i, m), x);
        _mm256_maskstore_ps(y + i, m, act256(x, act, a, b));
    }
}

NNL_GENERIC_KERNELS(avx2)
NNL_GENERIC_VECTOR_KERNELS(avx2, 32)

static bool supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const nnl_kernel nnl_kernel_avx2 = {
    .name = "avx2",
    .nr = NR,
    .kc = 256,
    .nc = 384,
    .supported = supported,
    .ukr = ukr_avx2,
    .epi_row = epi_row_avx2,
    NNL_GENERIC_ENTRIES(avx2),
    NNL_GENERIC_VECTOR_ENTRIES(avx2),
};
#endif
