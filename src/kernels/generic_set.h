/*
 * The kernels written once with GCC vector extensions (Winograd tile and
 * weight transforms, panel dot products, erf) compiled into each ISA's
 * kernel file: NNL_GENERIC_KERNELS(isa) defines the wrappers, with the
 * file's own target flags, and NNL_GENERIC_ENTRIES(isa) fills them into
 * that file's nnl_kernel.  A kernel file includes this header once.
 * NNL_GENERIC_VECTOR_KERNELS / _ENTRIES(isa) add the kernels whose scalar set has
 * a plain reference of its own (the vector body would test itself); the
 * MaxPool kernel picks its vector width from the file's target.
 */
#ifndef NNL_KERNELS_GENERIC_SET_H
#define NNL_KERNELS_GENERIC_SET_H

#include "kernels/dwc_body.h"
#include "kernels/gemv_body.h"
#include "kernels/maxpool_f32.h"
#include "kernels/qadd_body.h"
#include "kernels/qdw_body.h"
#include "kernels/quant_body.h"
#include "kernels/rows_body.h"
#include "kernels/vmath.h"
#include "kernels/wino_xform.h"

/* No contraction of a * b + c into a fused multiply-add in one function:
 * GCC takes a function attribute, clang the standard pragma. */
#if defined(__clang__)
#define NNL_NO_FP_CONTRACT_FN
#define NNL_NO_FP_CONTRACT_BODY _Pragma("STDC FP_CONTRACT OFF")
#else
#define NNL_NO_FP_CONTRACT_FN __attribute__((optimize("fp-contract=off")))
#define NNL_NO_FP_CONTRACT_BODY
#endif

/* Everything but dot8: a set with its own dot8 (NEON) uses these two. */
#define NNL_GENERIC_KERNELS_BUT_DOT8(isa)                                                              \
    static void wino_in_##isa(float *v, int64_t vs, const float *d) { nnl_wino_in16(v, vs, d); }       \
    static void wino_out_##isa(float *y, const float *m, int64_t ms) { nnl_wino_out16(y, m, ms); }     \
    static void wino_in_runs_##isa(float *v, int64_t vs, const nnl_wino_runs *r) {                     \
        nnl_wino_in_runs16(v, vs, r->p, r->l0, r->count, r->covered, r->ps);                           \
    }                                                                                                  \
    static void wino_wt_##isa(float *u0, float *u1, int64_t us, const float *g0, const float *g1,       \
                              int64_t n) {                                                             \
        nnl_wino_wt16(u0, u1, us, g0, g1, n);                                                          \
    }                                                                                                  \
    NNL_FP_CONTRACT_FN static void erf_##isa(float *y, const float *x, int64_t n) { nnl_erf_n(y, x, n); }

#define NNL_GENERIC_ENTRIES_BUT_DOT8(isa)                                                              \
    .wino_in = wino_in_##isa, .wino_in_runs = wino_in_runs_##isa, .wino_out = wino_out_##isa, .wino_wt = wino_wt_##isa, .erf = erf_##isa

#define NNL_GENERIC_KERNELS(isa)                                                                       \
    NNL_GENERIC_KERNELS_BUT_DOT8(isa)                                                                  \
    static void dot8_##isa(const float *panel, const float *x, int64_t xs, int64_t k, float *acc) {    \
        nnl_dot8_body(panel, x, xs, k, acc);                                                           \
    }

#define NNL_GENERIC_ENTRIES(isa) NNL_GENERIC_ENTRIES_BUT_DOT8(isa), .dot8 = dot8_##isa

/* vbytes: the set's native vector width in bytes.  pixels: the set's
 * depthwise path with pixels in the lanes, void (const nnl_dwc_args *),
 * run for the geometries pixels_takes (bool (const nnl_dwc_args *))
 * accepts (nnl_dwc_no_pixels: none). */
static inline bool nnl_dwc_no_pixels_takes(const nnl_dwc_args *a) {
    (void)a;
    return false;
}
static inline void nnl_dwc_no_pixels(const nnl_dwc_args *a) { (void)a; }
#define NNL_GENERIC_VECTOR_KERNELS(isa, vbytes) NNL_GENERIC_VECTOR_KERNELS_PX(isa, vbytes, nnl_dwc_no_pixels)
#define NNL_GENERIC_VECTOR_KERNELS_PX(isa, vbytes, pixels)                                             \
    NNL_DWC_DEFINE(dwcl_##isa, vbytes)                                                               \
    static bool pixels_##isa(const nnl_dwc_args *a) { return pixels##_takes(a); }                      \
    static void dwc_##isa(const nnl_dwc_args *a) {                                                     \
        if (pixels##_takes(a)) pixels(a);                                                              \
        else dwcl_##isa(a);                                                                            \
    }                                                                                                  \
    NNL_ROWS_DEFINE(isa, vbytes)                                                                     \
    static void sigmoid_##isa(float *y, const float *x, int64_t n) { NNL_SIGMOID_N(vbytes, y, x, n); }   \
    static void maxpool_##isa(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e,      \
                              void *scratch) {                                                         \
        nnl_maxpool_f32(g, x, y, b, e, scratch);                                                       \
    }                                                                                                  \
    /* bit-exact with the scalar definition: no fused multiply-add even in  \
     * sets built with -ffp-contract=fast (NEON) or by clang; x86 sets wrap \
     * it (a division per lane is slow there) */                            \
    NNL_NO_FP_CONTRACT_FN static void qadd_div_##isa(void *y, const void *a, const void *b, int64_t n,   \
                                                     const nnl_qadd_params *p) {                       \
        NNL_NO_FP_CONTRACT_BODY                                                                        \
        NNL_QADD_N(vbytes, y, a, b, n, p);                                                             \
    }                                                                                                  \
    static void quant_##isa(void *y, const float *x, int64_t n, const nnl_quant_params *p) {           \
        NNL_QUANT_N(vbytes, y, x, n, p);                                                               \
    }
/* .qadd and .qdw are the set's own (qadd_div_<isa> or a faster form with
 * the same results; NNL_QDW_BODY or intrinsics). */
#define NNL_GENERIC_VECTOR_ENTRIES(isa, vbytes)                                                        \
    .dwc = dwc_##isa, .dwc_lanes = (vbytes) / 4, .dwc_pixels = pixels_##isa, .sigmoid = sigmoid_##isa,   \
    .maxpool = maxpool_##isa, .softmax = softmax_##isa, .layernorm = layernorm_##isa, .quant = quant_##isa

#endif
