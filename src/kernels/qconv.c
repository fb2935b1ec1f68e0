/*
 * 8-bit convolution (kernels/qconv.h): PACK_Q8 packing and the reference
 * arithmetic.  The fast path is qconv_run.c (driver) and qconv_pack.c
 * (activation packing) over the kernel sets' int8 microkernels.
 */
#include <math.h>
#include <string.h>

#include "kernels/qconv.h"

/* The formula lives with the other layouts' sizes (core/tensor.c). */
uint64_t nnl_pack_q8_bytes(int rank, const int64_t *dims) {
    if (rank < 2 || rank > NNL_MAX_RANK) return 0;
    nnl_tensor t = {.dtype = NNL_DT_INT8, .rank = rank, .layout = NNL_LAYOUT_PACK_Q8};
    memcpy(t.dims, dims, sizeof(int64_t) * (size_t)rank);
    return nnl_tensor_nbytes(&t);
}

const float *nnl_q8_scales(const void *packed) { return packed; }

const int32_t *nnl_q8_wsum(const void *packed, int64_t rows) {
    return (const int32_t *)((const char *)packed + (rows + 7) / 8 * 8 * 4);
}

const int8_t *nnl_q8_panels(const void *packed, int64_t rows) {
    return (const int8_t *)((const char *)packed + (rows + 7) / 8 * 8 * 8);
}

void nnl_pack_q8(void *dst, const int8_t *w, const float *scale, int64_t rows, int64_t chans, int64_t taps) {
    int64_t rp = (rows + 7) / 8 * 8, nq = (chans + 3) / 4 * taps, cols = chans * taps;
    float *sc = dst;
    int32_t *ws = (int32_t *)(sc + rp);
    int8_t *q = (int8_t *)(ws + rp);
    memset(dst, 0, (size_t)(rp * 8 + rp * nq * 4));
    for (int64_t r = 0; r < rows; r++) {
        int32_t s = 0;
        for (int64_t g = 0; g < chans; g++)
            for (int64_t t = 0; t < taps; t++) {
                int8_t v = w[r * cols + g * taps + t];
                s += v;
                q[((r / 8 * nq + g / 4 * taps + t) * 8 + r % 8) * 4 + g % 4] = v;
            }
        sc[r] = scale[r];
        ws[r] = s;
    }
}

bool nnl_qconv_ok(const nnl_conv_params *p) { return p->group == 1 || (p->oc / p->group) % 8 == 0; }

static int32_t x_at(const nnl_qconv_args *a, int64_t i) {
    return a->x_signed ? (int32_t)((const int8_t *)a->x)[i] : (int32_t)((const uint8_t *)a->x)[i];
}

void nnl_qconv2d_ref(const nnl_conv_params *p, const nnl_qconv_args *a) {
    int64_t cg = p->c / p->group, mg = p->oc / p->group, khw = p->kh * p->kw, kk = cg * khw;
    int64_t nq = (cg + 3) / 4 * khw;
    const float *scale = nnl_q8_scales(a->w);
    const int8_t *q8 = nnl_q8_panels(a->w, p->oc);
    for (int64_t n = 0; n < p->n; n++)
        for (int64_t g = 0; g < p->group; g++)
            for (int64_t m = 0; m < mg; m++) {
                int64_t r = g * mg + m;
                float mult = a->x_scale * scale[r] / a->y_scale;
                for (int64_t oy = 0; oy < p->oh; oy++)
                    for (int64_t ox = 0; ox < p->ow; ox++) {
                        int32_t acc = 0;
                        for (int64_t c = 0; c < kk; c++) {
                            int64_t ic = c / (p->kh * p->kw), ky = c / p->kw % p->kh, kx = c % p->kw;
                            int64_t iy = oy * p->sh - p->pt + ky * p->dh, ix = ox * p->sw - p->pl + kx * p->dw;
                            if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) continue;
                            int32_t xv = x_at(a, ((n * p->c + g * cg + ic) * p->h + iy) * p->w + ix);
                            int32_t wv = q8[((r / 8 * nq + ic / 4 * khw + c % khw) * 8 + r % 8) * 4 + ic % 4];
                            acc += wv * (xv - a->x_zp);
                        }
                        if (a->bias) acc += a->bias[r];
                        float v = nearbyintf((float)acc * mult) + (float)a->y_zp;
                        v = v < (float)a->y_min ? (float)a->y_min : v > (float)a->y_max ? (float)a->y_max : v;
                        int64_t yi = ((n * p->oc + r) * p->oh + oy) * p->ow + ox;
                        if (a->y_signed)
                            ((int8_t *)a->y)[yi] = (int8_t)v;
                        else
                            ((uint8_t *)a->y)[yi] = (uint8_t)v;
                    }
            }
}
