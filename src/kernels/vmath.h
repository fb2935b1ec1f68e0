/*
 * Vector erf and sigmoid for float32, 16 lanes at a time, written with GCC vector
 * extensions so each kernel file that includes it gets it in its own ISA
 * (like wino_xform.h); exported through nnl_kernel.erf and .sigmoid.  GELU as PyTorch
 * exports it (x/sqrt2, Erf, +1, *x, *0.5) spends most of its time here:
 * libm's erf is ~4 ns per element, this is a small fraction of that.
 *
 * |x| < 0.75:      erf(x) = x P(x^2), P of degree 5 (relative error 2e-9)
 * 0.75 <= |x| < 4: erf(x) = 1 - exp(L(|x| - 2.375) - x^2), L = log(erfc(t))
 *                  + t^2 of degree 10 (error 1e-8 in the exponent)
 * |x| >= 4:     +-1 (erfc(4) = 1.5e-8 is below half an ulp of 1)
 * NaN stays NaN.  Coefficients: least-squares fits in double (numpy)
 * against math.erf / math.erfc on Chebyshev and uniform nodes.  exp is
 * 2^k e^r with |r| <= ln2/2 and a degree-7 Taylor polynomial (error 6e-9).
 * Measured against double erf over every 97th float: within 2 ulp
 * (tests/test_kernels.c).
 */
#ifndef NNL_KERNELS_VMATH_H
#define NNL_KERNELS_VMATH_H

#include <stdint.h>
#include <string.h>

typedef float nnl_vf16 __attribute__((vector_size(64)));
typedef int32_t nnl_vi16 __attribute__((vector_size(64)));

/* x < lo ? lo : x and x > hi ? hi : x, lane by lane in vectors of type vt
 * (float lanes) and vi (int32 lanes of the same size), with NaN kept (as
 * nnl_act_apply): selects through masks, the form GCC lowers well at every
 * native width. */
#define NNL_VMAX(vt, vi, x, lo) ((vt)(((vi)(x) & ~(vi)((x) < (lo))) | ((vi)(lo) & (vi)((x) < (lo)))))
#define NNL_VMIN(vt, vi, x, hi) ((vt)(((vi)(x) & ~(vi)((x) > (hi))) | ((vi)(hi) & (vi)((x) > (hi)))))

/* d[j] = exp(e[j]) for j < N, arrays of N vectors of type vt (float
 * lanes) and vi (int32 lanes of the same size), e in [-87, 87] (callers
 * clamp): 2^k exp(r), |r| <= ln2/2, degree-7 Taylor polynomial (error
 * 6e-9).  Each step runs over all N vectors before the next, so N
 * independent chains interleave: one vector's chain is ~40 cycles of
 * latency, and the out-of-order window of a long loop of them fills with
 * waiting steps before it overlaps two (GELU over a row ran at ~47 cycles
 * a 16-lane vector on a Xeon, 2x its port bound).  d may be e. */
#define NNL_VEXP_N(vt, vi, N, d, e)                                                                \
    do {                                                                                           \
        vt xk_[N], xr_[N], xp_[N];                                                                 \
        NNL_VN_(N, xk_[j_] = ((e)[j_] * 1.44269504f + 12582912.0f) - 12582912.0f); /* round */     \
        NNL_VN_(N, xr_[j_] = ((e)[j_] - xk_[j_] * 0.693359375f) - xk_[j_] * -2.12194440e-4f);      \
        NNL_VN_(N, xp_[j_] = xr_[j_] * (1.0f / 5040) + (1.0f / 720));                              \
        NNL_VN_(N, xp_[j_] = xp_[j_] * xr_[j_] + (1.0f / 120));                                    \
        NNL_VN_(N, xp_[j_] = xp_[j_] * xr_[j_] + (1.0f / 24));                                     \
        NNL_VN_(N, xp_[j_] = xp_[j_] * xr_[j_] + (1.0f / 6));                                      \
        NNL_VN_(N, xp_[j_] = xp_[j_] * xr_[j_] + 0.5f);                                            \
        NNL_VN_(N, xp_[j_] = xp_[j_] * xr_[j_] + 1.0f);                                            \
        NNL_VN_(N, xp_[j_] = xp_[j_] * xr_[j_] + 1.0f);                                            \
        NNL_VN_(N, {                                                                               \
            vi sb_ = (__builtin_convertvector(xk_[j_], vi) + 127) << 23;                           \
            vt scale_;                                                                             \
            memcpy(&scale_, &sb_, sizeof scale_);                                                  \
            (d)[j_] = xp_[j_] * scale_;                                                            \
        });                                                                                        \
    } while (0)

/* One statement for j_ = 0 .. N-1, unrolled (NNL_VEXP_N, NNL_VGELU_N). */
#define NNL_VN_(N, ...) _Pragma("GCC unroll 8") for (int j_ = 0; j_ < (N); j_++) __VA_ARGS__

/* dst = exp(e) for one vector (NNL_VEXP_N). */
#define NNL_VEXP(vt, vi, dst, e)                                                                       \
    do {                                                                                               \
        vt e1_[1] = {(e)};                                                                             \
        NNL_VEXP_N(vt, vi, 1, e1_, e1_);                                                               \
        (dst) = e1_[0];                                                                                \
    } while (0)

/* dst = m ? a : b per lane for vectors of type vt (float lanes), m a
 * comparison result of type vi (0 or -1 per lane). */
#define NNL_VSEL(vt, vi, m, a, b) ((vt)(((vi)(a) & (m)) | ((vi)(b) & ~(m))))

/* p = c[0] s^(n-1) + c[1] s^(n-2) + ... + c[n-1] by Horner's rule in
 * vectors of type vt, n the length of the array c. */
#define NNL_VHORNER(vt, p, s, c)                                                                       \
    do {                                                                                               \
        (p) = (vt){0} + (c)[0];                                                                        \
        _Pragma("GCC unroll 16") for (int k_ = 1; k_ < (int)(sizeof(c) / sizeof((c)[0])); k_++)        \
            (p) = (p) * (s) + (c)[k_];                                                                 \
    } while (0)

/* dst = erf(v) lane by lane in vectors of type vt (float lanes) and vi
 * (int32 lanes of the same size): the definition at the top of this
 * file, at any width (16 lanes for the erf kernel, the set's native
 * vector in GELU epilogues). */
#define NNL_VERF(vt, vi, dst, v)                                                                       \
    do {                                                                                               \
        const vt x_ = (v);                                                                             \
        const vi sign_ = (vi)x_ & (int32_t)0x80000000;                                                 \
        const vt t_ = (vt)((vi)x_ & 0x7fffffff);                                                       \
        /* |x| < 0.75 */                                                                               \
        const vt u_ = t_ * t_;                                                                         \
        vt pa_ = -6.801260193e-04f * u_ + 5.121535306e-03f;                                            \
        pa_ = pa_ * u_ - 2.683813698e-02f;                                                             \
        pa_ = pa_ * u_ + 1.128344751e-01f;                                                             \
        pa_ = pa_ * u_ - 3.761262398e-01f;                                                             \
        /* the leading term on its own, with c0 split into a float and the                             \
         * rest: x (c0 + u Q) rounded as a whole piles roundings on the                                \
         * result (2.8 ulp measured), float(c0) alone is 0.45 ulp off */                              \
        const vt ra_ = t_ * 1.12837911f + t_ * (5.947839354e-08f + u_ * pa_);                          \
        /* 0.75 <= |x| < 4, on t clamped into [0.75, 4] (NaN too) so every                             \
         * lane's exp stays finite */                                                                  \
        const vt lo_ = (vt){0} + 0.75f, one_ = (vt){0} + 1.0f, four_ = (vt){0} + 4.0f;                 \
        vt tb_ = NNL_VSEL(vt, vi, t_ < lo_, lo_, t_);                                                  \
        tb_ = NNL_VSEL(vt, vi, tb_ < four_, tb_, four_);                                               \
        const vt s_ = tb_ - 2.375f;                                                                    \
        static const float lc_[] = {-7.947632512e-08f, 3.552106259e-08f, 2.078009695e-06f,             \
                                    -1.507100085e-05f, 8.878980837e-05f, -4.825469447e-04f,            \
                                    2.447639744e-03f,  -1.200995731e-02f, 6.038954172e-02f,            \
                                    -3.672337029e-01f, -1.511831768e+00f};                             \
        vt l_;                                                                                         \
        NNL_VHORNER(vt, l_, s_, lc_);                                                                  \
        const vt e_ = l_ - tb_ * tb_; /* in [-18, -1.25] */                                            \
        vt ex_;                                                                                        \
        NNL_VEXP(vt, vi, ex_, e_);                                                                     \
        vt res_ = NNL_VSEL(vt, vi, t_ < four_, 1.0f - ex_, one_);                                      \
        res_ = NNL_VSEL(vt, vi, t_ < lo_, ra_, res_);                                                  \
        res_ = (vt)((vi)res_ | sign_);                                                                 \
        (dst) = NNL_VSEL(vt, vi, x_ != x_, x_, res_); /* NaN in, NaN out */                            \
    } while (0)

/* x[j] = GELU(x[j]) = v Phi(v) = v / 2 (1 + erf(v / sqrt 2)) for j < N
 * (nnl_act NNL_ACT_GELU), an array of N vectors of type vt / vi stepped
 * together as in NNL_VEXP_N, through erfc in one branch:
 * with u = |v| / sqrt 2 clamped to [0, 4], erfc(u) = exp(P(u - 2) - u^2),
 * P of degree 11 fitted (least squares in double on Chebyshev nodes) to
 * log(erfc(u)) + u^2 on [0, 4] (error 2.6e-8; 2.2e-7 evaluated in float),
 * Phi = 1 - erfc(u) / 2 for v >= 0, erfc(u) / 2 below, and erfc 0 from u = 4
 * on (as the reference's 1 + erff(v / sqrt 2) rounds to there).  Unlike the
 * erf kernel this needs no relative accuracy of erf near 0, only of Phi:
 * measured within 7e-8 of (1 + |GELU|) of the double definition over
 * [-12, 12], and within 3e-6 relative for |v| < 5.5, where 1 + erff
 * cancels. */
#define NNL_VGELU_N(vt, vi, N, x)                                                                      \
    do {                                                                                               \
        static const float pc_[] = {7.857523910e-08f,  -3.400320642e-07f, 1.271296960e-07f,             \
                                    2.680331942e-06f,  -2.056091416e-05f, 1.338371740e-04f,            \
                                    -7.325399811e-04f, 3.572109312e-03f,  -1.646505816e-02f,           \
                                    7.624870149e-02f,  -4.181608135e-01f, -1.364941240e+00f};          \
        const vt four_ = (vt){0} + 4.0f;                                                               \
        vt t_[N], u_[N], s_[N], p_[N], ec_[N];                                                         \
        NNL_VN_(N, t_[j_] = (x)[j_] * 0.70710678f);                                                    \
        NNL_VN_(N, {                                                                                   \
            const vt a_ = (vt)((vi)t_[j_] & 0x7fffffff);                                               \
            u_[j_] = NNL_VMIN(vt, vi, a_, four_);                                                      \
        });                                                                                            \
        NNL_VN_(N, s_[j_] = u_[j_] - 2.0f);                                                            \
        NNL_VN_(N, p_[j_] = (vt){0} + pc_[0]);                                                         \
        _Pragma("GCC unroll 16") for (int k_ = 1; k_ < (int)(sizeof pc_ / sizeof pc_[0]); k_++)        \
            NNL_VN_(N, p_[j_] = p_[j_] * s_[j_] + pc_[k_]);                                            \
        NNL_VN_(N, p_[j_] = p_[j_] - u_[j_] * u_[j_]); /* in [-18, 0] */                               \
        NNL_VEXP_N(vt, vi, N, ec_, p_);                                                                \
        NNL_VN_(N, {                                                                                   \
            const vt h_ = (vt)((vi)(ec_[j_] * 0.5f) & ~(vi)(u_[j_] >= four_));                         \
            (x)[j_] = (x)[j_] * NNL_VSEL(vt, vi, t_[j_] >= 0.0f, 1.0f - h_, h_);                       \
        });                                                                                            \
    } while (0)

/* dst = GELU(v) for one vector (NNL_VGELU_N). */
#define NNL_VGELU(vt, vi, dst, v)                                                                      \
    do {                                                                                               \
        vt g1_[1] = {(v)};                                                                             \
        NNL_VGELU_N(vt, vi, 1, g1_);                                                                   \
        (dst) = g1_[0];                                                                                \
    } while (0)

static inline __attribute__((always_inline)) void nnl_erf16(float *y, const float *x) {
    nnl_vf16 v, r;
    memcpy(&v, x, sizeof v);
    NNL_VERF(nnl_vf16, nnl_vi16, r, v);
    memcpy(y, &r, sizeof r);
}

/* y[i] = erf(x[i]), i < n (y may be x). */
static inline __attribute__((always_inline)) void nnl_erf_n(float *y, const float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) nnl_erf16(y + i, x + i);
    if (i < n) {
        float a[16] = {0}, b[16];
        memcpy(a, x + i, (size_t)(n - i) * sizeof(float));
        nnl_erf16(b, a);
        memcpy(y + i, b, (size_t)(n - i) * sizeof(float));
    }
}

/* x = 1 / (1 + exp(-x)) for one vector: -x clamped to [-87, 87] by
 * VMAX / VMIN (macros with NNL_VMAX's arguments and NaN rule: a NaN x
 * comes through), NaN lanes kept.  NNL_SIGMOID_N's arithmetic, and the
 * depthwise kernel's fused Sigmoid / SiLU with its single-instruction
 * clamps (kernels/dwc_body.h). */
#define NNL_VSIGMOID(vt, vi, x, VMAX, VMIN)                                                            \
    do {                                                                                               \
        const vt z_ = {0};                                                                             \
        vt m_ = VMIN(vt, vi, VMAX(vt, vi, -(x), z_ - 87.0f), z_ + 87.0f), ex_;                          \
        NNL_VEXP(vt, vi, ex_, m_);                                                                     \
        vt r_ = 1.0f / (1.0f + ex_);                                                                   \
        vi nan_ = (vi)((x) != (x));                                                                    \
        (x) = (vt)(((vi)r_ & ~nan_) | ((vi)(x) & nan_));                                               \
    } while (0)

/* y[i] = 1 / (1 + exp(-x[i])), i < n (y may be x), in the ISA's native
 * vector of B bytes (wider generic vectors compile badly where the ISA
 * lacks them).  -x is clamped to [-87, 87], beyond which the result is 0
 * or 1 to float precision anyway; NaN stays NaN.  exp is NNL_VEXP:
 * within ~2.3 ulp of double over every 97th float (tests/test_kernels.c). */
#define NNL_SIGMOID_N(B, y, x, n)                                                                      \
    do {                                                                                               \
        typedef float vt_ __attribute__((vector_size(B)));                                             \
        typedef int32_t vi_ __attribute__((vector_size(B)));                                           \
        enum { L_ = (B) / 4 };                                                                         \
        for (int64_t i_ = 0; i_ < (n); i_ += L_) {                                                     \
            /* whole vectors by fixed-size copies; the tail through a zeroed one */                    \
            size_t nb_ = (n) - i_ < L_ ? (size_t)((n) - i_) * sizeof(float) : sizeof(vt_);             \
            vt_ v_ = {0};                                                                              \
            if (nb_ == sizeof v_)                                                                      \
                memcpy(&v_, (x) + i_, sizeof v_);                                                      \
            else                                                                                       \
                memcpy(&v_, (x) + i_, nb_);                                                            \
            NNL_VSIGMOID(vt_, vi_, v_, NNL_VMAX, NNL_VMIN);                                            \
            if (nb_ == sizeof v_)                                                                      \
                memcpy((y) + i_, &v_, sizeof v_);                                                      \
            else                                                                                       \
                memcpy((y) + i_, &v_, nb_);                                                            \
        }                                                                                              \
    } while (0)

#endif
