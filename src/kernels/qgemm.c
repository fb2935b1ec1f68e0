/*
 * 8-bit matrix product with a float32 result (kernels/qconv.h,
 * nnl_qgemm_f32): the integer form of DequantizeLinear(x) ->
 * Gemm(B = DequantizeLinear(int8 W), C = DequantizeLinear(int32 bias)), a
 * classifier head of a QDQ model.  A task is (up to 8 rows of x, up to 48
 * rows of W), on the int8 conv's transposed tile (nnl_qukr.tfn: output
 * channels in the lanes, each row of x a broadcast pixel, so one row of x
 * wastes no lane) over all of K in one call, left as int32 sums (not the
 * last K block), which this file turns into floats: no requantization,
 * the output stays float as the Gemm's was.  x's rows are read in place,
 * or staged flipped to uint8 (int8 x) and padded to whole quads (the
 * pad's weights are 0).  Sets without a transposed tile take portable
 * vector code (qg_portable).
 */
#include <string.h>

#include "kernels/qconv_pack.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static size_t align64(size_t b) { return (b + 63) / 64 * 64; }

/* Rows of W a task takes. */
#define QG_ROWS NNL_QTUKR_OC

typedef struct qg_ctx {
    const nnl_qgemm_args *a;
    const nnl_qukr *uk;
    void *const *ts;
    int64_t k4, nmb;
} qg_ctx;

/* Thread scratch: the staged rows (int16 on the portable path), quad
 * offsets, pixel offsets, sums and an unused epilogue. */
static size_t qg_bytes(int64_t k4, size_t part[4]) {
    part[0] = align64((size_t)(k4 * 4 * NNL_QTUKR_PX) * sizeof(int16_t));
    part[1] = align64((size_t)k4 * sizeof(int64_t));
    part[2] = align64((size_t)NNL_QTUKR_PX * sizeof(int64_t));
    part[3] = align64((size_t)(QG_ROWS * NNL_QTUKR_PX) * sizeof(int32_t));
    return part[0] + part[1] + part[2] + part[3] + align64(sizeof(nnl_qepi) * (QG_ROWS / NNL_MR));
}

bool nnl_qgemm_fits(int64_t k) {
    /* the widest set's pixel tile (48) and int16 weights, with room */
    return k > 0 && k <= 16384;
}

/* Sets without a transposed tile (AVX2 without VNNI, NEON): a pixel tile
 * would leave all but one lane idle for a classifier's single row, so the
 * sums come from portable vector code instead, int16 products of the
 * packed quads widened into int32 lanes (SSE2 / NEON instructions as
 * they are; no slower than the float Gemm it replaces, a quarter of its
 * weight bytes).  x's rows as int16 x - zx at xh; sums of W (x - zx) at
 * acc[j * QG_ROWS + o]. */
typedef int16_t qg_v8h __attribute__((vector_size(16)));
typedef int32_t qg_v4i __attribute__((vector_size(16)));

/* 16 packed bytes (rows r..r+3, a quad each) against x's quad: int16
 * lanes hold byte pairs, so even and odd bytes come out by shifts (GCC 12
 * widens with __builtin_convertvector lane by lane in scalar code), their
 * products (|w (x - zx)| <= 128 * 255 fits int16) split into int32 lanes
 * the same way, each lane then row r + m's. */
static inline qg_v4i qg_quad16(const int8_t *w, qg_v8h xe, qg_v8h xo) {
    qg_v8h v;
    memcpy(&v, w, 16);
    qg_v8h pe = ((qg_v8h)(v << 8) >> 8) * xe, po = (v >> 8) * xo;
    qg_v4i e = (qg_v4i)pe, o = (qg_v4i)po;
    return ((e << 16) >> 16) + (e >> 16) + ((o << 16) >> 16) + (o >> 16);
}

static void qg_portable(const nnl_qgemm_args *a, const uint8_t *x, int64_t mj, int64_t n0, int64_t nn, int32_t zx,
                        int16_t *xh, int32_t *acc) {
    const int64_t k4 = (a->k + 3) / 4;
    for (int64_t j = 0; j < mj; j++)
        for (int64_t i = 0; i < k4 * 4; i++) {
            int32_t v = i < a->k ? (a->x_signed ? (int32_t)(int8_t)x[j * a->k + i] + 128 : x[j * a->k + i]) : zx;
            xh[j * k4 * 4 + i] = (int16_t)(v - zx);
        }
    const int8_t *panels = nnl_q8_panels(a->w, a->n);
    for (int64_t p = 0; p < (nn + NNL_MR - 1) / NNL_MR; p++) {
        const int8_t *w = panels + (n0 / NNL_MR + p) * k4 * 4 * NNL_MR;
        for (int64_t j = 0; j < mj; j++) {
            qg_v4i s0 = {0}, s1 = {0};
            const int16_t *xr = xh + j * k4 * 4;
            for (int64_t q = 0; q < k4; q++) {
                /* lane 2m is byte 4m + (0 | 1 for odd): x0 x2 / x1 x3 alternate */
                const int16_t x0 = xr[4 * q], x1 = xr[4 * q + 1], x2 = xr[4 * q + 2], x3 = xr[4 * q + 3];
                const qg_v8h xe = {x0, x2, x0, x2, x0, x2, x0, x2}, xo = {x1, x3, x1, x3, x1, x3, x1, x3};
                s0 += qg_quad16(w + q * 32, xe, xo);
                s1 += qg_quad16(w + q * 32 + 16, xe, xo);
            }
            for (int i = 0; i < NNL_MR && p * NNL_MR + i < nn; i++)
                acc[j * QG_ROWS + p * NNL_MR + i] = i < 4 ? s0[i] : s1[i - 4];
        }
    }
}

static void qg_task(void *vctx, int64_t t, int thread) {
    const qg_ctx *c = vctx;
    const nnl_qgemm_args *a = c->a;
    const nnl_qukr *uk = c->uk;
    const int64_t k4 = c->k4, m0 = t % c->nmb * NNL_QTUKR_PX, mj = min64(NNL_QTUKR_PX, a->m - m0);
    const int64_t n0 = t / c->nmb * QG_ROWS, nn = min64(QG_ROWS, a->n - n0);
    size_t part[4];
    qg_bytes(k4, part);
    uint8_t *xs = c->ts[thread];
    int64_t *xoff = (int64_t *)(xs + part[0]), *pix = (int64_t *)((char *)xoff + part[1]);
    int32_t *acc = (int32_t *)((char *)pix + part[2]);
    nnl_qepi *epi = (nnl_qepi *)((char *)acc + part[3]);
    const uint8_t *x = (const uint8_t *)a->x + m0 * a->k;
    /* sums of W x (transposed tile), or of W (x - zx) (portable); the
     * tile reads x in uk's domain (qconv_run.c's staging rule), the
     * portable form in uint8's */
    bool raw = uk->tfn != NULL;
    const uint8_t flip = raw && a->x_signed != uk->sx ? 0x80 : 0;
    const int32_t zx = (int32_t)nnl_qukr_zx(raw ? uk : NULL, a->x_signed, a->x_zp);
    if (raw) {
        /* quad q of row j at j * 4 k4 + 4 q: x's rows as they lie when
         * they are uint8 of whole quads, else a flipped, padded copy */
        const bool direct = !flip && a->k % 4 == 0;
        for (int64_t j = 0; j < mj; j++) {
            pix[j] = j * k4 * 4;
            if (direct) continue;
            uint8_t *r = xs + j * k4 * 4;
            for (int64_t i = 0; i < a->k; i++) r[i] = x[j * a->k + i] ^ flip;
            memset(r + a->k, (uint8_t)zx, (size_t)(k4 * 4 - a->k));
        }
        for (int64_t q = 0; q < k4; q++) xoff[q] = 4 * q;
        memset(epi, 0, sizeof(nnl_qepi) * (QG_ROWS / NNL_MR));
        nnl_qtukr_args u = {.kq = k4, .w = nnl_q8_panels(a->w, a->n) + n0 / NNL_MR * k4 * 4 * NNL_MR,
                            .w_ps = k4 * 4 * NNL_MR, .x = direct ? x : xs, .xoff = xoff, .pix = pix, .acc = acc,
                            .first = true, .last = false, .epi = epi, .ldy = 0,
                            .np = (int)((nn + NNL_MR - 1) / NNL_MR), .nj = (int)mj, .mr = (int)nn};
        uk->tfn(&u);
    } else {
        qg_portable(a, x, mj, n0, nn, zx, (int16_t *)(void *)xs, acc);
    }
    const float *scale = nnl_q8_scales(a->w);
    const int32_t *wsum = nnl_q8_wsum(a->w, a->n);
    for (int64_t o = 0; o < nn; o++) {
        const int64_t r = n0 + o;
        const uint32_t off = (a->bias ? (uint32_t)a->bias[r] : 0u) - (raw ? (uint32_t)zx * (uint32_t)wsum[r] : 0u);
        const float mult = a->x_scale * scale[r];
        for (int64_t j = 0; j < mj; j++)
            a->y[(m0 + j) * a->n + r] = (float)(int32_t)((uint32_t)acc[j * QG_ROWS + o] + off) * mult;
    }
}

nnl_status nnl_qgemm_f32_with(const nnl_qgemm_args *a, const nnl_qukr *uk, nnl_pool *pool,
                              void *const *thread_scratch) {
    if (a->m <= 0 || a->n <= 0) return NNL_OK;
    if (!nnl_qgemm_fits(a->k)) return nnl_fail(NNL_ERR_UNSUPPORTED, "8-bit GEMM: K %lld out of range", (long long)a->k);
    if (!uk || !thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "8-bit GEMM without a microkernel or scratch");
    if (uk->w7 && !a->w7)
        return nnl_fail(NNL_ERR_INTERNAL, "8-bit GEMM: microkernel %s needs weights within [-64, 64]", uk->name);
    qg_ctx c = {.a = a, .uk = uk, .ts = thread_scratch, .k4 = (a->k + 3) / 4};
    c.nmb = (a->m + NNL_QTUKR_PX - 1) / NNL_QTUKR_PX;
    size_t part[4];
    if (qg_bytes(c.k4, part) > NNL_THREAD_SCRATCH_BYTES)
        return nnl_fail(NNL_ERR_INTERNAL, "8-bit GEMM: K %lld outgrows the thread scratch", (long long)a->k);
    nnl_pool_run(pool, c.nmb * ((a->n + QG_ROWS - 1) / QG_ROWS), qg_task, &c);
    return NNL_OK;
}

nnl_status nnl_qgemm_f32(const nnl_qgemm_args *a, const nnl_kernel *kern, nnl_pool *pool, void *const *thread_scratch) {
    const nnl_kernel *k = kern ? kern : nnl_kernel_get();
    /* the transposed tile where the set has one (not AMX's pixel tiles),
     * else the first kernel, whose tile-less form runs portable loops */
    const nnl_qukr *uk = nnl_qukr_pick(k, a->w7, (a->k + 3) / 4, a->m, true);
    if (!uk) uk = nnl_qukr_pick(k, a->w7, (a->k + 3) / 4, a->m, false);
    return nnl_qgemm_f32_with(a, uk, pool, thread_scratch);
}

void nnl_qgemm_f32_ref(const nnl_qgemm_args *a) {
    const float *scale = nnl_q8_scales(a->w);
    const int8_t *q8 = nnl_q8_panels(a->w, a->n);
    const int64_t nq = (a->k + 3) / 4;
    for (int64_t m = 0; m < a->m; m++)
        for (int64_t r = 0; r < a->n; r++) {
            uint32_t acc = a->bias ? (uint32_t)a->bias[r] : 0u;
            for (int64_t k = 0; k < a->k; k++) {
                int32_t xv = a->x_signed ? ((const int8_t *)a->x)[m * a->k + k] : ((const uint8_t *)a->x)[m * a->k + k];
                int32_t wv = q8[((r / 8 * nq + k / 4) * 8 + r % 8) * 4 + k % 4];
                acc += (uint32_t)(wv * (xv - a->x_zp));
            }
            a->y[m * a->n + r] = (float)(int32_t)acc * (a->x_scale * scale[r]);
        }
}
