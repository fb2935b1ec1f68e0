/*
 * Portable kernels: the reference every vector kernel is tested against
 * and the fallback on CPUs without a vector set.  Written so the compiler
 * can vectorise the fixed-size inner loops, but correctness first.
 */
#include <math.h>

#include "kernels/kernels_isa.h"
#include "kernels/generic_set.h"

#define NR 16

static bool always(void) { return true; }

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
            if (j >= p->gap_at && j < p->gap_at + p->gap) continue;
            const int at = p->gap && j >= p->gap_at ? j - p->gap : j;
            float v = acc[i][j] + (p->accumulate ? c[at] : 0.0f);
            if (e) v = nnl_epi_apply(e, v, i, j, e->res ? e->res[i * e->res_rs + at] : 0.0f);
            c[at] = v;
        }
    }
}

static void tukr_scalar(const nnl_tukr_args *p) {
    for (int j = 0; j < p->nj; j++)
        for (int o = 0; o < p->np * NNL_MR; o++) {
            const float *a = p->a + o / NNL_MR * p->a_ps + o % NNL_MR;
            float s = 0.0f;
            for (int64_t k = 0; k < p->kc; k++) s += a[k * NNL_MR] * p->b[p->b_off[k] + p->pix[j]];
            float *t = p->t + j * p->ldt + o;
            *t = p->accumulate ? *t + s : s;
        }
}

/* The depthwise reference: every output its taps in order, padding skipped;
 * one channel a block (DWC_LANES). */
#define DWC_LANES 1
static void dwc_scalar(const nnl_dwc_args *a) {
    for (int c = 0; c < a->nc; c++)
        for (int64_t oy = a->oy0; oy < a->oy0 + a->rows; oy++)
            for (int64_t ox = 0; ox < a->ow; ox++) {
                float s = a->bias[c];
                for (int64_t ky = 0; ky < a->kh; ky++)
                    for (int64_t kx = 0; kx < a->kw; kx++) {
                        int64_t y = oy * a->sh - a->pt + ky * a->dh, x = ox * a->sw - a->pl + kx * a->dw;
                        if (y >= 0 && y < a->h && x >= 0 && x < a->w)
                            s += a->wt[(ky * a->kw + kx) * DWC_LANES + c] * a->x[c * a->xcs + y * a->w + x];
                    }
                a->y[c * a->ycs + oy * a->ow + ox] = nnl_act_apply(s, a->act, a->act_a, a->act_b);
            }
}

static void qadd_scalar(void *y, const void *a, const void *b, int64_t n, const nnl_qadd_params *p) {
    NNL_QADD_REF(y, a, b, n, p);
}

static void quant_scalar(void *y, const float *x, int64_t n, const nnl_quant_params *p) { NNL_QUANT_REF(y, x, n, p); }

static void qdw_scalar(uint8_t *y, const uint8_t *const *src, const int8_t *w, int nt, int64_t n,
                       const nnl_qdw_epi *e) {
    NNL_QDW_BODY(y, src, w, nt, n, e);
}

static void sigmoid_scalar(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = nnl_sigmoidf(x[i]);
}

static void softmax_scalar(float *y, const float *x, int64_t n) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    if (m == -INFINITY) m = 0;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += y[i] = expf(x[i] - m);
    const float inv = (float)(1.0 / s);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

/* Statistics in double, two passes. */
static void layernorm_scalar(float *y, const float *x, int64_t n, float eps, const float *scale, const float *bias,
                             float *mean, float *inv) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    const double mu = sum / (double)n;
    for (int64_t i = 0; i < n; i++) sq += (x[i] - mu) * (x[i] - mu);
    const float iv = (float)(1.0 / sqrt(sq / (double)n + eps)), mf = (float)mu;
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mf) * iv * scale[i] + (bias ? bias[i] : 0.0f);
    if (mean) *mean = mf;
    if (inv) *inv = iv;
}

static void epi_row_scalar(float *y, const float *x, int64_t n, float bias, const float *res, float beta,
                           nnl_act act, float a, float b) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] + bias;
        if (res) v += beta * res[i];
        y[i] = nnl_act_apply(v, act, a, b);
    }
}

static void h2f_scalar(float *y, const uint16_t *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = nnl_half_to_float(x[i]);
}

/* 8-bit tile: the definition of nnl_qukr_args in plain loops.  Sums are
 * unsigned so that they wrap as the vector lanes do instead of being
 * undefined; products of a uint8 and an int8 always fit. */
#define QNR 16

static void qukr_scalar(const nnl_qukr_args *p) {
    uint32_t acc[NNL_MR][QNR];
    for (int i = 0; i < NNL_MR; i++)
        for (int j = 0; j < QNR; j++) acc[i][j] = p->first ? 0u : (uint32_t)p->acc[i * QNR + j];
    const int8_t *w = p->w;
    for (int64_t q = 0; q < p->kq; q++, w += 4 * NNL_MR) {
        const uint8_t *x = p->x + p->xoff[q];
        for (int i = 0; i < NNL_MR; i++)
            for (int j = 0; j < QNR; j++)
                for (int t = 0; t < 4; t++) acc[i][j] += (uint32_t)(w[4 * i + t] * (int32_t)x[4 * j + t]);
    }
    for (int i = 0; i < NNL_MR; i++)
        for (int j = 0; j < QNR; j++) {
            if (!p->last)
                p->acc[i * QNR + j] = (int32_t)acc[i][j];
            else if (i < p->mr && j < p->nr)
                p->y[i * p->ldy + j] = nnl_requant((int32_t)acc[i][j], p->epi, i);
        }
}

/* The transposed tile (nnl_qtukr_args) in plain loops, the same
 * unsigned sums. */
static void qtukr_scalar(const nnl_qtukr_args *p) {
    for (int j = 0; j < p->nj; j++)
        for (int o = 0; o < p->np * NNL_MR; o++) {
            const int8_t *w = p->w + o / NNL_MR * p->w_ps + o % NNL_MR * 4;
            int32_t *acc = p->acc + j * NNL_QTUKR_OC + o;
            uint32_t s = p->first ? 0u : (uint32_t)*acc;
            for (int64_t q = 0; q < p->kq; q++) {
                const uint8_t *x = p->x + p->xoff[q] + p->pix[j];
                for (int t = 0; t < 4; t++) s += (uint32_t)(w[32 * q + t] * (int32_t)x[t]);
            }
            if (p->last) {
                if (o < p->mr) p->y[o * p->ldy + j] = nnl_requant((int32_t)s, &p->epi[o / NNL_MR], o % NNL_MR);
            } else
                *acc = (int32_t)s;
        }
}

static const nnl_qukr qukr_c = {.name = "scalar", .nr = QNR, .kq = 128, .supported = always, .fn = qukr_scalar,
                                .il4 = nnl_il4_generic, .tfn = qtukr_scalar, .tpix = 4096};

/* ---- 8-bit Winograd F(2x2, 3x3) (kernels/qwino.h): the definitions,
 * transform by transform, in wrapping uint32 where sums may leave int32. */
static void qw_wt_scalar(int16_t *u, int64_t us, const int8_t *p8, int64_t cp0, int64_t n) {
    for (int64_t k = 0; k < n; k++) {
        const int64_t g4 = (cp0 + k) / 2, h = (cp0 + k) % 2;
        for (int o = 0; o < 8; o++)
            for (int c = 0; c < 2; c++) {
                int g[3][3], t[4][3];
                for (int i = 0; i < 9; i++) g[i / 3][i % 3] = p8[((g4 * 9 + i) * 8 + o) * 4 + 2 * h + c];
                for (int x = 0; x < 3; x++) {
                    t[0][x] = 2 * g[0][x];
                    t[1][x] = g[0][x] + g[1][x] + g[2][x];
                    t[2][x] = g[0][x] - g[1][x] + g[2][x];
                    t[3][x] = 2 * g[2][x];
                }
                for (int r = 0; r < 4; r++) {
                    const int v[4] = {2 * t[r][0], t[r][0] + t[r][1] + t[r][2], t[r][0] - t[r][1] + t[r][2],
                                      2 * t[r][2]};
                    for (int j = 0; j < 4; j++) u[(4 * r + j) * us + k * 16 + o * 2 + c] = (int16_t)v[j];
                }
            }
    }
}

static void qw_in_scalar(int16_t *v, int64_t vs, const uint8_t *const r[16], int64_t nb, int64_t nb2, int zx,
                         uint8_t flip) {
    for (int64_t bb = 0; bb < nb + nb2; bb++)
        for (int c = 0; c < 2; c++) {
            const int64_t b = bb < nb ? bb : bb - nb;
            const uint8_t *const *rr = bb < nb ? r : r + 8;
            int d[4][4], t[4][4];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) d[i][j] = (int)(uint8_t)(rr[4 * c + i][2 * b + j] ^ flip) - zx;
            for (int i = 0; i < 4; i++) {
                t[i][0] = d[i][0] - d[i][2];
                t[i][1] = d[i][1] + d[i][2];
                t[i][2] = d[i][2] - d[i][1];
                t[i][3] = d[i][1] - d[i][3];
            }
            for (int j = 0; j < 4; j++) {
                const int o[4] = {t[0][j] - t[2][j], t[1][j] + t[2][j], t[2][j] - t[1][j], t[1][j] - t[3][j]};
                for (int i = 0; i < 4; i++) v[(4 * i + j) * vs + 2 * bb + c] = (int16_t)o[i];
            }
        }
}

static void qw_out_scalar(uint8_t *y, int64_t ly, int64_t ry, int64_t cx, int nr, int nc, int nt, const int32_t *m,
                          int64_t ms, const nnl_qepi *e) {
    for (int k = 0; k < nt; k++)
        for (int l = 0; l < 8; l++) {
            uint32_t mm[4][4], s[2][4];
            for (int xi = 0; xi < 16; xi++) mm[xi / 4][xi % 4] = (uint32_t)m[k * NNL_QWINO_OC + xi * ms + l];
            for (int j = 0; j < 4; j++) {
                s[0][j] = mm[0][j] + mm[1][j] + mm[2][j];
                s[1][j] = mm[1][j] - mm[2][j] - mm[3][j];
            }
            for (int i = 0; i < nr; i++)
                for (int j = 0; j < 2 && 2 * k + j < nc; j++) {
                    const uint32_t o = j ? s[i][1] - s[i][2] - s[i][3] : s[i][0] + s[i][1] + s[i][2];
                    y[l * ly + i * ry + (2 * k + j) * cx] = nnl_requant((int32_t)o >> 2, e, l);
                }
        }
}

static void qw_mm_scalar(const nnl_qtukr_args *p) {
    for (int i = 0; i < p->np; i++)
        for (int j = 0; j < p->nj; j++)
            for (int l = 0; l < 8; l++) {
                int32_t *acc = p->acc + j * NNL_QWINO_OC + 8 * i + l;
                const int16_t *w = (const int16_t *)(const void *)(p->w + i * p->w_ps);
                uint32_t s = p->first ? 0u : (uint32_t)*acc;
                for (int64_t q = 0; q < p->kq; q++) {
                    const int16_t *x = (const int16_t *)(const void *)(p->x + p->xoff[q] + p->pix[j]);
                    s += (uint32_t)((int32_t)w[q * 16 + 2 * l] * x[0] + (int32_t)w[q * 16 + 2 * l + 1] * x[1]);
                }
                *acc = (int32_t)s;
            }
}

static const nnl_qwino qwino_scalar = {.wt = qw_wt_scalar, .in = qw_in_scalar, .out = qw_out_scalar,
                                       .mm = qw_mm_scalar};

/* The definition: every tap of every window checked against the input. */
static void maxpool_scalar(const nnl_pool2d *g, const float *x, float *y, int64_t b, int64_t e, void *scratch) {
    (void)scratch;
    const int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    for (int64_t r = b; r < e; r++) {
        const float *xp = x + r / OH * H * W;
        const int64_t hs = r % OH * g->s[0] - g->pb[0];
        int64_t kh0, kh1, kw0, kw1;
        nnl_tap_range(hs, g->k[0], g->d[0], H, &kh0, &kh1);
        for (int64_t ow = 0; ow < OW; ow++) {
            const int64_t ws = ow * g->s[1] - g->pb[1];
            nnl_tap_range(ws, g->k[1], g->d[1], W, &kw0, &kw1);
            float m = -INFINITY;
            for (int64_t kh = kh0; kh < kh1; kh++)
                for (int64_t kw = kw0; kw < kw1; kw++) {
                    const float v = xp[(hs + kh * g->d[0]) * W + ws + kw * g->d[1]];
                    m = v > m ? v : m;
                }
            y[r * OW + ow] = m;
        }
    }
}

NNL_GENERIC_KERNELS(scalar)


const nnl_kernel nnl_kernel_scalar = {
    .name = "scalar",
    .nr = NR,
    .kc = 256,
    .nc = 256,
    .supported = always,
    .ukr = ukr_scalar,
    .tukr = tukr_scalar,
    .tile_t = nnl_tile_t_ref,
    .dwc = dwc_scalar,
    .dwc_lanes = DWC_LANES,
    .dwc_pixels = nnl_dwc_no_pixels_takes,
    .sigmoid = sigmoid_scalar,
    .softmax = softmax_scalar,
    .layernorm = layernorm_scalar,
    .qadd = qadd_scalar,
    .qwino = &qwino_scalar,
    .quant = quant_scalar,
    .qdw = qdw_scalar,
    .epi_row = epi_row_scalar,
    .h2f = h2f_scalar,
    .maxpool = maxpool_scalar,
    NNL_GENERIC_ENTRIES(scalar),
    .qukr = {&qukr_c},
};
