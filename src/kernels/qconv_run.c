/*
 * The 8-bit convolution's driver (kernels/qconv.h) over the kernel sets'
 * int8 microkernels (nnl_qukr in gemm.h): per (image, group) a GEMM
 * Y (OC/g x OH*OW) = W_g * im2col(X_g), split into tasks of (mc rows, nc
 * pixels).  A task walks K in blocks of the microkernel's kq quads; per
 * block it packs im2col(X) straight from the image into its thread's
 * scratch (qconv_pack.c) as panels of nr pixels, quad-major ([quad]
 * [pixel][4 bytes]: the 4 K values a weight quad multiplies, side by
 * side), then sweeps the microkernel over (pixel panel, 8-row panel),
 * pixel panel outer so the panel stays in L1 while weight panels stream
 * from L2.  Sums between K blocks stay as int32 tiles in the scratch; the
 * last block requantizes into y.  The zero point is not subtracted per
 * element: the weight's row sums turn sum W*x into sum W*(x - zx) in the
 * epilogue (nnl_qepi.off), so padding taps are packed as the byte zx and
 * int8 inputs as x ^ 0x80 (then zx + 128).
 */
#include <string.h>

#include "kernels/qconv_pack.h"

/* Rows per task: the weight block (mc x kq quads) stays in L2. */
#define QMC 512

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }
static size_t align64(size_t b) { return (b + 63) / 64 * 64; }

/* Epilogues of the task's 8-row panels from row m0 of group g. */
static void fill_epi(const nnl_qconv_ctx *q, nnl_qepi *e, int64_t g, int64_t m0, int64_t mcur) {
    const nnl_qconv_args *a = q->a;
    const float *scale = nnl_q8_scales(a->w);
    const int32_t *wsum = nnl_q8_wsum(a->w, q->p->oc);
    uint32_t zx = (uint32_t)(a->x_signed ? a->x_zp + 128 : a->x_zp);
    for (int64_t i = 0; i < round_up(mcur, NNL_MR); i++) {
        nnl_qepi *t = &e[i / NNL_MR];
        int64_t m = m0 + i, r = g * q->mg + m;
        int k = (int)(i % NNL_MR);
        bool real = m < q->mg;
        uint32_t bias = real && a->bias ? (uint32_t)a->bias[r] : 0u;
        t->off[k] = real ? (int32_t)(bias - zx * (uint32_t)wsum[r]) : 0;
        t->mult[k] = real ? a->x_scale * scale[r] / a->y_scale : 0.0f;
        if (k == 0) {
            t->zy = (float)a->y_zp;
            t->lo = (float)a->y_min;
            t->hi = (float)a->y_max;
        }
    }
}

/* Rows of a tile computed on the wide grid (tile[i * nr + j] = virtual
 * pixel f0 + j) into y, dropping the virtual columns ox >= ow. */
static void wide_store(const nnl_qconv_ctx *q, uint8_t *y, const uint8_t *tile, int nr, int mr, int64_t f0, int n) {
    for (int64_t f = f0; f < f0 + n;) {
        int64_t oy = f / q->wq, ox = f % q->wq, seg = min64(q->wq - ox, f0 + n - f);
        if (ox < q->p->ow)
            for (int i = 0; i < mr; i++)
                memcpy(y + i * q->ohw + oy * q->p->ow + ox, tile + i * nr + (f - f0),
                       (size_t)min64(seg, q->p->ow - ox));
        f += seg;
    }
}

static void qconv_task(void *vctx, int64_t t, int thread) {
    const nnl_qconv_ctx *q = vctx;
    const nnl_conv_params *p = q->p;
    const nnl_qconv_args *a = q->a;
    const int nr = q->uk->nr;
    int64_t per_item = q->m_tiles * q->n_tiles, item = t / per_item, r = t % per_item;
    int64_t img = item / p->group, g = item % p->group;
    int64_t m0 = r / q->n_tiles * q->mc, n0 = r % q->n_tiles * q->nc;
    int64_t mcur = min64(q->mc, q->mg - m0), ncur = min64(q->nc, q->npx - n0);
    int64_t npan = (ncur + nr - 1) / nr;
    char *ts = q->ts[thread];
    nnl_qepi *epi = (nnl_qepi *)ts;
    uint8_t *blk = (uint8_t *)ts + q->epi_bytes;
    int32_t *sums = (int32_t *)(blk + q->blk_bytes);
    int16_t *w16 = (int16_t *)(blk + q->blk_bytes + q->sum_bytes);
    uint8_t *strip = blk + q->blk_bytes + q->sum_bytes + q->w16_bytes;
    fill_epi(q, epi, g, m0, mcur);
    const uint8_t *xg = (const uint8_t *)a->x + (img * p->c + g * q->cg) * p->h * p->w;
    const int8_t *wg = nnl_q8_panels(a->w, p->oc) + (g * q->mg + m0) / NNL_MR * q->nq * 4 * NNL_MR;
    uint8_t *yg = (uint8_t *)a->y + (img * p->oc + g * q->mg + m0) * q->ohw;
    /* virtual pixels are output pixels unless the wide grid has extra columns */
    bool scatter = q->wide && q->wq != p->ow;
    nnl_qsrc src = {0};
    if (q->wide) src = nnl_qsrc_make(q, strip, strip + q->strip_bytes, xg, n0, ncur);
    uint8_t tile[NNL_MR * NNL_NR_MAX];
    for (int64_t kb = 0; kb < q->nkb; kb++) {
        int64_t q0 = q->nq * kb / q->nkb, kqc = q->nq * (kb + 1) / q->nkb - q0;
        bool last = kb == q->nkb - 1;
        nnl_qpack_block(q, blk, &src, xg, q0, kqc, n0, ncur);
        if (q->uk->w16)
            for (int64_t im = 0; im < mcur; im += NNL_MR)
                nnl_qukr_w16(w16 + im * kqc * 4, wg + (im / NNL_MR * q->nq + q0) * 4 * NNL_MR, kqc);
        for (int64_t jp = 0; jp < npan; jp++)
            for (int64_t im = 0; im < mcur; im += NNL_MR) {
                nnl_qukr_args u = {
                    .kq = kqc,
                    .w = q->uk->w16 ? (const int8_t *)(w16 + im * kqc * 4)
                                    : wg + (im / NNL_MR * q->nq + q0) * 4 * NNL_MR,
                    .x = blk + jp * kqc * nr * 4,
                    .acc = sums + (im / NNL_MR * npan + jp) * NNL_MR * nr,
                    .first = kb == 0,
                    .last = last,
                    .epi = &epi[im / NNL_MR],
                    .y = scatter ? tile : yg + im * q->ohw + n0 + jp * nr,
                    .ldy = scatter ? nr : q->ohw,
                    .mr = (int)min64(NNL_MR, mcur - im),
                    .nr = (int)min64(nr, ncur - jp * nr),
                };
                q->uk->fn(&u);
                if (last && scatter) wide_store(q, yg + im * q->ohw, tile, nr, u.mr, n0 + jp * nr, u.nr);
            }
    }
}

const nnl_qukr *nnl_qukr_pick(const nnl_kernel *kern) {
    for (int i = 0; i < NNL_QUKR_MAX && kern->qukr[i]; i++)
        if (kern->qukr[i]->supported()) return kern->qukr[i];
    return NULL;
}

/* Task sizes and the thread scratch they take; false if it does not fit. */
static bool plan_tasks(nnl_qconv_ctx *q, int threads) {
    const nnl_conv_params *p = q->p;
    const nnl_qukr *uk = q->uk;
    q->npx = q->wide ? (p->oh - 1) * q->wq + p->ow : q->ohw;
    q->mc = min64(round_up(q->mg, NNL_MR), QMC);
    q->nc = min64(NNL_QNC / uk->nr * uk->nr, round_up(q->npx, uk->nr));
    /* Enough tasks that threads finish together: split pixels first (each
     * task keeps its whole weight block), then rows, but rows only up to one
     * task a thread: every row task packs the same activations again (on
     * ResNet-18's 7x7 and 14x14 layers 16 row tasks made 2 threads no
     * faster than 1). */
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1, batch = p->n * p->group;
    for (;;) {
        q->m_tiles = (q->mg + q->mc - 1) / q->mc;
        q->n_tiles = (q->npx + q->nc - 1) / q->nc;
        int64_t tasks = batch * q->m_tiles * q->n_tiles;
        if (tasks >= want) break;
        if (q->nc > 2 * uk->nr)
            q->nc = round_up(q->nc / 2, uk->nr);
        else if (q->mc > 4 * NNL_MR && tasks < threads)
            q->mc = round_up(q->mc / 2, NNL_MR);
        else
            break;
    }
    /* a strip of many channels can outgrow the scratch: fewer pixels a task */
    for (;;) {
        int64_t kqmax = (q->nq + q->nkb - 1) / q->nkb;
        q->epi_bytes = align64((size_t)(q->mc / NNL_MR) * sizeof(nnl_qepi));
        q->blk_bytes = align64((size_t)(kqmax * q->nc * 4));
        q->sum_bytes = q->nkb > 1 ? align64((size_t)(q->mc * q->nc) * sizeof(int32_t)) : 0;
        q->w16_bytes = uk->w16 ? align64((size_t)(round_up(q->mc, NNL_MR) * kqmax * 4) * sizeof(int16_t)) : 0;
        size_t row = 0;
        q->strip_bytes = 0;
        if (q->strip) {
            /* the most rows any task's pixels reach: its first pixel at the end of a row */
            int64_t rows = nnl_qstrip_rows(q, q->wq - 1, q->nc);
            q->strip_bytes = align64((size_t)(q->cg * p->sh * p->sw * rows * q->wq));
            row = (size_t)(p->sw * q->wq);
        }
        if (q->epi_bytes + q->blk_bytes + q->sum_bytes + q->w16_bytes + q->strip_bytes + row <=
            NNL_THREAD_SCRATCH_BYTES)
            break;
        if (q->nc <= uk->nr) return false;
        q->nc = round_up(q->nc / 2, uk->nr);
        q->n_tiles = (q->npx + q->nc - 1) / q->nc;
    }
    return true;
}

nnl_status nnl_qconv2d_with(const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_qukr *uk, nnl_pool *pool,
                            void *const *thread_scratch) {
    if (!nnl_qconv_ok(p)) return nnl_fail(NNL_ERR_UNSUPPORTED, "8-bit conv: %lld output channels per group, not "
                                          "a multiple of 8", (long long)(p->oc / p->group));
    if (p->n <= 0 || p->oc <= 0 || p->oh <= 0 || p->ow <= 0) return NNL_OK;
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "8-bit conv called without thread scratch");
    if (!uk) return nnl_fail(NNL_ERR_INTERNAL, "8-bit conv: the kernel set has no int8 microkernel here");
    nnl_qconv_ctx q = {.p = p, .a = a, .uk = uk, .ts = thread_scratch};
    q.mg = p->oc / p->group;
    q.cg = p->c / p->group;
    q.kk = q.cg * p->kh * p->kw;
    q.nq = (q.kk + 3) / 4;
    q.ohw = p->oh * p->ow;
    q.pad = (uint8_t)a->x_zp;
    q.flip = a->x_signed ? 0x80808080u : 0u;
    q.nkb = q.nq > 0 ? (q.nq + uk->kq - 1) / uk->kq : 1;
    /* the grid reads phase rows and columns up to those of the last real
     * output, which the conv's own size formula keeps inside the plane */
    int64_t hp = p->pt + p->h + p->pb, wp = p->pl + p->w + p->pr;
    q.wq = (wp + p->sw - 1) / p->sw;
    q.wide = p->oh == (hp - (p->kh - 1) * p->dh - 1) / p->sh + 1 && p->ow == (wp - (p->kw - 1) * p->dw - 1) / p->sw + 1;
    q.strip = q.wide && (p->pt || p->pl || p->pb || p->pr || p->sh > 1 || p->sw > 1);
    int threads = nnl_pool_threads(pool);
    if (!plan_tasks(&q, threads)) {
        q.wide = q.strip = false;
        if (!plan_tasks(&q, threads))
            return nnl_fail(NNL_ERR_INTERNAL, "8-bit conv: the packed blocks do not fit the thread scratch");
    }
    nnl_pool_run(pool, p->n * p->group * q.m_tiles * q.n_tiles, qconv_task, &q);
    return NNL_OK;
}

nnl_status nnl_qconv2d(const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_kernel *kern, nnl_pool *pool,
                       void *const *thread_scratch) {
    return nnl_qconv2d_with(p, a, nnl_qukr_pick(kern ? kern : nnl_kernel_get()), pool, thread_scratch);
}
