/*
 * Portable kernels: the reference every vector kernel is tested against
 * and the fallback on CPUs without a vector set.  Written so the compiler
 * can vectorise the fixed-size inner loops, but correctness first.
 */
#include <math.h>

#include "kernels/kernels_isa.h"
#include "kernels/generic_set.h"

#define NR 16

static void ukr_scalar(const nnl_ukr_args *p) {
    float acc[NNL_MR][NR] = {{0}};
    const float *a = p->a, *b = p->b;
    for (int64_t k = 0; k < p->kc; k++, a += NNL_MR, b += NR) {
        const float *bk = p->b_off ? p->b + p->b_off[k] : b;
        for (int i = 0; i < NNL_MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += a[i] * bk[j];
    }
    const nnl_epilogue *e = p->epi;
    for (int i = 0; i < p->mr; i++) {
        float *c = p->c + i * p->ldc;
        for (int j = 0; j < p->nr; j++) {
            float v = acc[i][j] + (p->accumulate ? c[j] : 0.0f);
            if (e) v = nnl_epi_apply(e, v, i, j, e->res ? e->res[i * e->res_rs + j] : 0.0f);
            c[j] = v;
        }
    }
}

static void dw_taps_scalar(float *y, const float *const *src, const float *w, int nt, int64_t n, float bias,
                           nnl_act act, float act_a, float act_b) {
    for (int64_t f = 0; f < n; f++) {
        float s = bias;
        for (int t = 0; t < nt; t++) s += w[t] * src[t][f];
        y[f] = nnl_act_apply(s, act, act_a, act_b);
    }
}

static void sigmoid_scalar(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = nnl_sigmoidf(x[i]);
}

static void epi_row_scalar(float *y, int64_t n, float bias, const float *res, float beta, nnl_act act, float a,
                           float b) {
    for (int64_t i = 0; i < n; i++) {
        float v = y[i] + bias;
        if (res) v += beta * res[i];
        y[i] = nnl_act_apply(v, act, a, b);
    }
}

NNL_GENERIC_KERNELS(scalar)

static bool always(void) { return true; }

const nnl_kernel nnl_kernel_scalar = {
    .name = "scalar",
    .nr = NR,
    .kc = 256,
    .nc = 256,
    .supported = always,
    .ukr = ukr_scalar,
    .dw_taps = dw_taps_scalar,
    .sigmoid = sigmoid_scalar,
    .epi_row = epi_row_scalar,
    NNL_GENERIC_ENTRIES(scalar),
};
