/*
 * The 8-bit convolution's driver (kernels/qconv.h) over the kernel sets'
 * int8 microkernels (nnl_qukr in gemm.h): per (image, group) a GEMM
 * Y (OC/g x OH*OW) = W_g * im2col(X_g), split into tasks of (mc rows, nc
 * pixels).  A task walks K in blocks of whole channel quads (about the
 * microkernel's kq quads); per block it stages those channels once
 * (qconv_pack.h: interleaved by 4 on the wide grid) into its thread's
 * scratch, then sweeps the microkernel over (pixel panel, 8-row panel),
 * pixel panel outer so its operands stay in L1 while weight panels stream
 * from L2, each quad read at its tap's offset.  Sums between K blocks stay
 * as int32 tiles in the scratch; the last block requantizes into y.  The
 * zero point is not subtracted per element: the weight's row sums turn
 * sum W*x into sum W*(x - zx) in the epilogue (nnl_qepi.off), so padding
 * taps are staged as the byte zx and int8 inputs as x ^ 0x80 (then zx +
 * 128); for a kernel that reads int8 (nnl_qukr.sx) uint8 inputs are the
 * flipped ones instead (zx - 128), nnl_qukr_zx.
 * Small maps (7x7, 14x14) leave pixel lanes idle, so where the
 * microkernel has a transposed tile (nnl_qukr.tfn) and the lanes it saves
 * pay for its epilogue (qt_plan), tasks are runs of output channels over
 * the whole map instead, channels in the lanes and pixels broadcast
 * (qt_task): the same staging, the same int32 sums between K blocks and
 * the same requantization, so the bytes are the same as on pixel tiles.
 * On maps up to 64x64 the same rule also takes padded 3x3 convs, where
 * the transposed tile's weights staying in L1 measured faster still.
 */
#include <string.h>

#include "kernels/qconv_pack.h"
#include "kernels/qwino.h"
#include "kernels/wino.h"

/* Rows per task: every row block of a pixel tile stages the activations
 * again, so as many as the weight block (mc x kq quads, 1 MB at 2048)
 * allows in L2 (FCN-ResNet50 int8, 1 thread: 4-11% faster than 512). */
#define QMC 2048
/* Tasks a thread (at least) when threads share a conv, of at least
 * QTASK_PANELS pixel panels (a ResNet-18 14x14 1x1 conv in 5 tasks of one
 * panel took 70% longer than in 2). */
#define QTASKS 4
#define QTASK_PANELS 4
/* Pixels a task on the wide grid when the microkernel rearranges the
 * weights per task (nnl_qukr.wprep): more pixels share one rearrangement. */
#define QNC_WPREP (4 * NNL_QNC)
/* Bytes of weight slices a pass over the pixel panels keeps in L2. */
#define QW_L2 ((int64_t)256 << 10)

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }
static size_t align64(size_t b) { return (b + 63) / 64 * 64; }

void nnl_qepi_fill(nnl_qepi *e, const nnl_qconv_args *a, int64_t oc, uint32_t zx, int64_t r0, int64_t n,
                   int64_t real) {
    const float *scale = nnl_q8_scales(a->w);
    const int32_t *wsum = nnl_q8_wsum(a->w, oc);
    for (int64_t i = 0; i < round_up(n, NNL_MR); i++) {
        nnl_qepi *t = &e[i / NNL_MR];
        const int64_t r = r0 + i;
        const int k = (int)(i % NNL_MR);
        const bool is = i < real;
        const uint32_t bias = is && a->bias ? (uint32_t)a->bias[r] : 0u;
        t->off[k] = is ? (int32_t)(bias - zx * (uint32_t)wsum[r]) : 0;
        t->mult[k] = is ? a->x_scale * scale[r] / a->y_scale : 0.0f;
        if (k == 0) {
            t->zy = (float)a->y_zp;
            t->lo = (float)a->y_min;
            t->hi = (float)a->y_max;
        }
    }
}

/* Epilogues of the task's 8-row panels from row m0 of group g (rows past
 * the group's are padding). */
static void fill_epi(const nnl_qconv_ctx *q, nnl_qepi *e, int64_t g, int64_t m0, int64_t mcur) {
    const nnl_qconv_args *a = q->a;
    nnl_qepi_fill(e, a, q->p->oc, nnl_qukr_zx(q->uk, a->x_signed, a->x_zp), g * q->mg + m0, mcur, q->mg - m0);
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

/* Rows of one microkernel call. */
static int qukr_mr(const nnl_qukr *uk) { return uk->mr ? uk->mr : NNL_MR; }

/* A task's thread scratch, in the parts the plan sized (scratch_fits). */
typedef struct qscratch {
    nnl_qepi *epi;
    uint8_t *blk;              /* the staged K block */
    int32_t *sums;
    int8_t *wp;                /* weights as nnl_qukr.wprep wrote them */
    int64_t *xoff;
    uint8_t *row;
    int64_t *pix;              /* transposed tiles: the output pixels' byte offsets on the grid */
} qscratch;

static qscratch scratch_of(const nnl_qconv_ctx *q, int thread) {
    qscratch s;
    s.epi = (nnl_qepi *)q->ts[thread];
    s.blk = (uint8_t *)q->ts[thread] + q->epi_bytes;
    s.sums = (int32_t *)(s.blk + q->blk_bytes);
    s.wp = (int8_t *)s.sums + q->sum_bytes;
    s.xoff = (int64_t *)(s.wp + q->wp_bytes);
    s.row = (uint8_t *)s.xoff + q->off_bytes;
    s.pix = (int64_t *)(s.row + q->row_bytes);
    return s;
}

/* Channel quads [c4a, c4b) of K block kb of nkb: blocks of whole quads. */
static void k_block(const nnl_qconv_ctx *q, int64_t kb, int64_t *c4a, int64_t *c4b) {
    *c4a = q->cq * kb / q->nkb;
    *c4b = q->cq * (kb + 1) / q->nkb;
}

static void qconv_task(void *vctx, int64_t t, int thread) {
    const nnl_qconv_ctx *q = vctx;
    const nnl_conv_params *p = q->p;
    const nnl_qconv_args *a = q->a;
    const int nr = q->uk->nr, umr = qukr_mr(q->uk);
    int64_t per_item = q->m_tiles * q->n_tiles, item = t / per_item, r = t % per_item;
    int64_t img = item / p->group, g = item % p->group;
    /* pixel tile i: panels [npan i / n_tiles, npan (i + 1) / n_tiles) */
    int64_t i = r % q->n_tiles, m0 = r / q->n_tiles * q->mc;
    int64_t n0 = q->npan * i / q->n_tiles * nr, n1 = min64(q->npan * (i + 1) / q->n_tiles * nr, q->npx);
    int64_t mcur = min64(q->mc, q->mg - m0), ncur = n1 - n0;
    int64_t npan = (ncur + nr - 1) / nr;
    const qscratch sc = scratch_of(q, thread);
    nnl_qepi *epi = sc.epi;
    uint8_t *blk = sc.blk;
    int32_t *sums = sc.sums;
    int64_t *xoff = sc.xoff;
    fill_epi(q, epi, g, m0, mcur);
    const uint8_t *xg = (const uint8_t *)a->x + (img * p->c + g * q->cg) * p->h * p->w;
    const int8_t *wg = nnl_q8_panels(a->w, p->oc) + (g * q->mg + m0) / NNL_MR * q->nq * 4 * NNL_MR;
    uint8_t *yg = (uint8_t *)a->y + (img * p->oc + g * q->mg + m0) * q->ohw;
    /* virtual pixels are output pixels unless the wide grid has extra columns */
    bool scatter = q->wide && q->wq != p->ow;
    uint8_t tile[NNL_QUKR_MR_MAX * NNL_NR_MAX];
    int64_t kqmax = (q->cq + q->nkb - 1) / q->nkb * q->khw;
    if (q->wide)
        nnl_qstage_offs(q, xoff, kqmax);
    else
        for (int64_t k = 0; k < kqmax; k++) xoff[k] = k * nr * 4;
    for (int64_t kb = 0; kb < q->nkb; kb++) {
        int64_t c4a, c4b;
        k_block(q, kb, &c4a, &c4b);
        int64_t q0 = c4a * q->khw, kqc = (c4b - c4a) * q->khw;
        bool last = kb == q->nkb - 1;
        const uint8_t *x0;     /* pixel panel 0's operands */
        int64_t pan;           /* bytes from one pixel panel to the next */
        if (q->wide) {
            nnl_qstage st = nnl_qstage_make(q, blk, sc.row, xg, c4a, c4b, n0);
            x0 = st.base + (n0 - st.f0) * 4;
            pan = nr * 4;
        } else {
            nnl_qpack_block(q, blk, xg, q0, kqc, n0, ncur);
            x0 = blk;
            pan = kqc * nr * 4;
        }
        const int64_t wpb = q->uk->wprep ? q->uk->wprep_bytes(kqc, q->khw) : 0;
        if (wpb)
            for (int64_t im = 0; im < mcur; im += umr)
                q->uk->wprep(sc.wp + im / umr * wpb, wg + (im / NNL_MR * q->nq + q0) * 4 * NNL_MR, kqc, q->khw,
                             q->nq * 4 * NNL_MR, (int)((min64(umr, mcur - im) + NNL_MR - 1) / NNL_MR));
        /* rows in chunks whose weight slices stay in L2 while every pixel
         * panel passes them */
        const int64_t chunk = max64(umr, QW_L2 / (kqc * 4) / umr * umr);
        for (int64_t im0 = 0; im0 < mcur; im0 += chunk)
        for (int64_t jp = 0; jp < npan; jp++)
            for (int64_t im = im0; im < min64(im0 + chunk, mcur); im += umr) {
                nnl_qukr_args u = {
                    .kq = kqc,
                    .w = wpb ? sc.wp + im / umr * wpb : wg + (im / NNL_MR * q->nq + q0) * 4 * NNL_MR,
                    .x = x0 + jp * pan,
                    .xoff = xoff,
                    .acc = sums + (im / umr * npan + jp) * umr * nr,
                    .first = kb == 0,
                    .last = last,
                    .epi = &epi[im / NNL_MR],
                    .y = scatter ? tile : yg + im * q->ohw + n0 + jp * nr,
                    .ldy = scatter ? nr : q->ohw,
                    .mr = (int)min64(umr, mcur - im),
                    .nr = (int)min64(nr, ncur - jp * nr),
                    .tq = q->khw,
                };
                q->uk->fn(&u);
                if (last && scatter) wide_store(q, yg + im * q->ohw, tile, nr, u.mr, n0 + jp * nr, u.nr);
            }
    }
    if (q->uk->done) q->uk->done();
}

const nnl_qukr *nnl_qukr_pick(const nnl_kernel *kern, bool w7, int64_t cq, int64_t px, bool tile) {
    for (int i = 0; i < NNL_QUKR_MAX && kern->qukr[i]; i++) {
        const nnl_qukr *uk = kern->qukr[i];
        if (uk->supported() && (w7 || !uk->w7) && cq >= uk->min_cq && px >= uk->min_px && (!tile || uk->tfn))
            return uk;
    }
    return NULL;
}

/* Threads' load balance of m_tiles x n_tiles tasks a (image, group): the
 * work of an even share over that of the busiest thread (tasks of
 * ceil(npan / nt) panels, rounds of `threads` tasks). */
static double balance(int64_t mrows, int64_t mc, int64_t npan, int64_t nt, int64_t batch, int threads) {
    int64_t tasks = batch * ((mrows + mc - 1) / mc) * nt, rounds = (tasks + threads - 1) / threads;
    return (double)(mrows * npan * batch) / threads / ((double)rounds * (double)(mc * ((npan + nt - 1) / nt)));
}

/* The thread scratch of tasks of mc rows keeping nsum int32 sums between
 * K blocks, staging cnt virtual pixels from n0 (the wide grid's planes, or
 * im2col panels); false if it does not fit. */
static bool scratch_fits(nnl_qconv_ctx *q, int64_t mc, int64_t nsum, int64_t n0, int64_t cnt) {
    int64_t c4max = (q->cq + q->nkb - 1) / q->nkb, kqmax = c4max * q->khw;
    q->epi_bytes = align64((size_t)(round_up(mc, NNL_MR) / NNL_MR) * sizeof(nnl_qepi));
    q->sum_bytes = q->nkb > 1 ? align64((size_t)nsum * sizeof(int32_t)) : 0;
    q->wp_bytes = q->uk->wprep && !q->tr ? align64((size_t)(round_up(mc, qukr_mr(q->uk)) / qukr_mr(q->uk) *
                                                          q->uk->wprep_bytes(kqmax, q->khw)))
                                          : 0;
    q->off_bytes = align64((size_t)kqmax * sizeof(int64_t));
    q->pix_bytes = q->tr ? align64((size_t)q->ohw * sizeof(int64_t)) : 0;
    if (q->wide) {
        const int64_t spx = q->spx = nnl_qstage_pixels(q, n0, cnt);
        q->cs = nnl_qstage_stride(spx);
        q->blk_bytes = align64((size_t)(c4max * q->nphy * q->nphx * q->cs * 4));
        q->row_bytes = align64(q->strip ? nnl_qstage_row_bytes(q, spx) : (size_t)(4 * spx));
    } else {
        q->blk_bytes = align64((size_t)(kqmax * cnt * 4));
        q->row_bytes = 0;
    }
    return q->epi_bytes + q->blk_bytes + q->sum_bytes + q->wp_bytes + q->off_bytes + q->row_bytes +
               q->pix_bytes <=
           NNL_THREAD_SCRATCH_BYTES;
}

/* Task sizes and the thread scratch they take; false if it does not fit.
 * Tasks split pixels into n_tiles runs of whole panels (at most NNL_QNC
 * pixels) and rows into m_tiles blocks (at most QMC).  With threads, the
 * split is the one that keeps them busiest: 9 equal tasks on 2 threads
 * leave one idle a ninth of the time, ResNet-18's 14x14 layers made 3
 * pixel tasks, so rows are split too when that balances better (each
 * row task stages the same activations again, so not otherwise). */
static bool plan_tasks(nnl_qconv_ctx *q, int threads) {
    const nnl_conv_params *p = q->p;
    const nnl_qukr *uk = q->uk;
    const int64_t nr = uk->nr, batch = p->n * p->group, mrows = round_up(q->mg, NNL_MR);
    q->npx = q->wide ? (p->oh - 1) * q->wq + p->ow : q->ohw;
    q->npan = (q->npx + nr - 1) / nr;
    const int64_t qnc = q->wide && uk->wprep ? QNC_WPREP : NNL_QNC;
    const int64_t nt0 = (q->npan + qnc / nr - 1) / (qnc / nr);
    /* a microkernel of rearranged weights (int16, AMX's order) keeps the
     * task's rows so for a K block: at most half the thread scratch (2048
     * rows of 128 quads widened would be all of it, and fewer pixels could
     * not make room) */
    int64_t mcap = QMC;
    if (uk->wprep) {
        const int64_t kqmax = (q->cq + q->nkb - 1) / q->nkb * q->khw, umr = qukr_mr(uk);
        mcap = max64(umr, (int64_t)(NNL_THREAD_SCRATCH_BYTES / 2) / uk->wprep_bytes(kqmax, q->khw) * umr);
    }
    int64_t mc0 = min64(mrows, min64(QMC, mcap)), mt0 = (mrows + mc0 - 1) / mc0;
    q->mc = round_up((mrows + mt0 - 1) / mt0, NNL_MR);
    q->n_tiles = nt0;
    if (threads > 1) {
        double best = balance(mrows, q->mc, q->npan, nt0, batch, threads);
        for (int64_t mt = mt0; mt <= 8 * mt0; mt *= 2) {
            int64_t mc = round_up((mrows + mt - 1) / mt, NNL_MR);
            if (mt > mt0 && mc < 4 * NNL_MR) break;
            for (int64_t nt = nt0; nt <= min64(q->npan, nt0 + 4 * threads); nt++) {
                /* more tasks must pay for their extra staging */
                double b = balance(mrows, mc, q->npan, nt, batch, threads);
                if (b > best + 0.02) best = b, q->mc = mc, q->n_tiles = nt;
            }
        }
    }
    q->m_tiles = (q->mg + q->mc - 1) / q->mc;
    /* threads do not run at one speed (a busier vCPU measured 40% slower):
     * a few tasks a thread let the faster one take more; pixel runs cost
     * no extra staging */
    if (threads > 1)
        q->n_tiles = max64(q->n_tiles, min64(q->npan / QTASK_PANELS,
                                             (QTASKS * threads + q->m_tiles * batch - 1) / (q->m_tiles * batch)));
    q->nc = (q->npan + q->n_tiles - 1) / q->n_tiles * nr;
    /* a block of many channels can outgrow the scratch: fewer pixels a task
     * (the most pixels any task's planes take: its first pixel at the end
     * of a row) */
    while (!scratch_fits(q, q->mc, round_up(q->mc, qukr_mr(uk)) * q->nc, q->wq - 1, q->nc)) {
        if (q->nc <= uk->nr) return false;
        q->n_tiles = min64(q->npan, 2 * q->n_tiles);
        q->nc = (q->npan + q->n_tiles - 1) / q->n_tiles * nr;
    }
    return true;
}

/* ---- output channels in the lanes (nnl_qukr.tfn) ------------------------
 * A task is (image, group, a run of 16-channel units) over all pixels: per
 * K block it stages the block's channel quads for the whole map once,
 * then sweeps the transposed tile over (channel tile of up to
 * NNL_QTUKR_OC, pixel group), tile outer so the tile's weight slice (kq x
 * 192 bytes) stays in L1 across the pixel groups (pixel tiles stream the
 * weight panels from L2 for every pixel panel instead).  Pixel groups are
 * grp real pixels in order (the wide grid's virtual columns skipped), so
 * y's pixels of a group are consecutive. */

/* 16-channel units of the task's rows split into tiles of at most three
 * units, as even as whole units allow: tile i's rows [o0, o1) of mrows. */
static void qt_tile(int64_t mrows, int64_t ntile, int64_t i, int64_t *o0, int64_t *o1) {
    int64_t units = (mrows + 15) / 16;
    *o0 = 16 * (units * i / ntile);
    *o1 = min64(16 * (units * (i + 1) / ntile), mrows);
}

/* Rows [m0, m0 + mcur) of a group that task chunk c of q->chunks takes. */
static void qt_rows(const nnl_qconv_ctx *q, int64_t c, int64_t *m0, int64_t *mcur) {
    int64_t m1;
    qt_tile(q->mg, q->chunks, c, m0, &m1);
    *mcur = m1 - *m0;
}

/* The task's scratch for transposed tiles: epilogues of rows [m0, m0 +
 * mcur) of group g, the quads' offsets and the offsets on the grid of
 * output pixels [n0, n1) (pix[n]). */
static qscratch qt_scratch(const nnl_qconv_ctx *q, int thread, int64_t g, int64_t m0, int64_t mcur, int64_t n0,
                           int64_t n1) {
    const qscratch sc = scratch_of(q, thread);
    fill_epi(q, sc.epi, g, m0, mcur);
    int64_t kqmax = (q->cq + q->nkb - 1) / q->nkb * q->khw;
    nnl_qstage_offs(q, sc.xoff, kqmax);
    for (int64_t n = n0; n < n1; n++) sc.pix[n] = 4 * (n / q->p->ow * q->wq + n % q->p->ow);
    return sc;
}

/* K block kb (quads [c4a, c4b), staged at x, planes from virtual pixel 0)
 * of the rows [o0, o1) of the task's (w: their first panel, epi: their
 * epilogues, y: their first row) over pixel groups [g0, g1), group gi's
 * sums at acc + (gi - g0) tiles. */
static void qt_sweep(const nnl_qconv_ctx *q, const qscratch *sc, int64_t kb, const uint8_t *x, const int8_t *w,
                     const nnl_qepi *epi, uint8_t *y, int64_t o0, int64_t o1, int64_t g0, int64_t g1, int32_t *acc) {
    int64_t c4a, c4b;
    k_block(q, kb, &c4a, &c4b);
    for (int64_t gi = g0; gi < g1; gi++) {
        int64_t j0 = gi * q->grp;
        nnl_qtukr_args u = {
            .kq = (c4b - c4a) * q->khw,
            .w = w + c4a * q->khw * 4 * NNL_MR,
            .w_ps = q->nq * 4 * NNL_MR,
            .x = x,
            .xoff = sc->xoff,
            .pix = sc->pix + j0,
            .acc = acc + (gi - g0) * NNL_QTUKR_PX * NNL_QTUKR_OC,
            .first = kb == 0,
            .last = kb == q->nkb - 1,
            .epi = epi,
            .y = y + j0,
            .ldy = q->ohw,
            .np = (int)((o1 - o0 + NNL_MR - 1) / NNL_MR),
            .nj = (int)min64(q->grp, q->ohw - j0),
            .mr = (int)(o1 - o0),
        };
        q->uk->tfn(&u);
    }
}

static void qt_task(void *vctx, int64_t t, int thread) {
    const nnl_qconv_ctx *q = vctx;
    const nnl_conv_params *p = q->p;
    const nnl_qconv_args *a = q->a;
    int64_t item = t / q->chunks, img = item / p->group, g = item % p->group, m0, mcur;
    qt_rows(q, t % q->chunks, &m0, &mcur);
    if (mcur <= 0) return;
    const int64_t ntile = ((mcur + 15) / 16 + 2) / 3, ngrp = (q->ohw + q->grp - 1) / q->grp;
    const qscratch sc = qt_scratch(q, thread, g, m0, mcur, 0, q->ohw);
    const uint8_t *xg = (const uint8_t *)a->x + (img * p->c + g * q->cg) * p->h * p->w;
    const int8_t *wg = nnl_q8_panels(a->w, p->oc) + (g * q->mg + m0) / NNL_MR * q->nq * 4 * NNL_MR;
    uint8_t *yg = (uint8_t *)a->y + (img * p->oc + g * q->mg + m0) * q->ohw;
    for (int64_t kb = 0; kb < q->nkb; kb++) {
        int64_t c4a, c4b;
        k_block(q, kb, &c4a, &c4b);
        /* planes from virtual pixel 0: the grid's own offsets (pix) */
        nnl_qstage st = nnl_qstage_make(q, sc.blk, sc.row, xg, c4a, c4b, 0);
        for (int64_t i = 0; i < ntile; i++) {
            int64_t o0, o1;
            qt_tile(mcur, ntile, i, &o0, &o1);
            qt_sweep(q, &sc, kb, st.base - st.f0 * 4, wg + o0 / NNL_MR * q->nq * 4 * NNL_MR, sc.epi + o0 / NNL_MR,
                     yg + o0 * q->ohw, o0, o1, 0, ngrp, sc.sums + i * ngrp * NNL_QTUKR_PX * NNL_QTUKR_OC);
        }
    }
}

/* ---- transposed tiles over a shared staging (threads > 1) -------------
 * qt_task splits the output channels into one run per thread, each
 * staging the whole image per K block for itself: a thread that runs
 * slower (a busier vCPU: one of this project's 2-vCPU hosts measured its
 * worker 40% slower than the caller for the same task) keeps the other
 * waiting, and more runs would stage the image once more each.  Here the
 * image's planes are staged once into the op's shared scratch (every
 * channel quad, qt_stage_task, split over the threads), then tasks of one
 * channel tile (up to three 16-channel units) and a range of pixel groups
 * (qt_shared_task) are claimed as threads come free, several per thread,
 * reading the planes in place.  Same sums, same requantization: the same
 * bytes as qt_task. */
#define QT_STAGE_QUADS 8
/* 12 a thread measured 9% slower than 3 on ResNet-18 (2 threads) */
#define QT_TASKS_PER_THREAD 3

static uint8_t *qt_planes(const nnl_qconv_ctx *q, int64_t c4) {
    return (uint8_t *)q->a->scratch + c4 * q->nphy * q->nphx * q->cs * 4;
}

static void qt_stage_task(void *vctx, int64_t t, int thread) {
    const nnl_qconv_ctx *q = vctx;
    const int64_t c4a = t * QT_STAGE_QUADS, c4b = min64(q->cq, c4a + QT_STAGE_QUADS);
    nnl_qstage_make(q, qt_planes(q, c4a), scratch_of(q, thread).row, (const uint8_t *)q->a->x, c4a, c4b, 0);
}

static void qt_shared_task(void *vctx, int64_t t, int thread) {
    const nnl_qconv_ctx *q = vctx;
    const nnl_qconv_args *a = q->a;
    const int64_t ngrp = (q->ohw + q->grp - 1) / q->grp, tile = t / q->npr, r = t % q->npr;
    const int64_t g0 = ngrp * r / q->npr, g1 = ngrp * (r + 1) / q->npr;
    int64_t o0, o1;
    qt_tile(q->mg, q->chunks, tile, &o0, &o1);
    if (o1 <= o0 || g1 <= g0) return;
    const qscratch sc = qt_scratch(q, thread, 0, o0, o1 - o0, g0 * q->grp, min64(g1 * q->grp, q->ohw));
    const int8_t *wt = nnl_q8_panels(a->w, q->p->oc) + o0 / NNL_MR * q->nq * 4 * NNL_MR;
    for (int64_t kb = 0; kb < q->nkb; kb++) {
        int64_t c4a, c4b;
        k_block(q, kb, &c4a, &c4b);
        qt_sweep(q, &sc, kb, qt_planes(q, c4a), wt, sc.epi, (uint8_t *)a->y + o0 * q->ohw, o0, o1, g0, g1, sc.sums);
    }
}

/* Bytes of the whole image staged once for every transposed-tile task
 * (qt_shared): the wide grid's planes of all channel quads of one (image,
 * group) item, for maps any microkernel may take on transposed tiles
 * (tpix <= QT_SHARED_PIX) and a single item, when they stay in L2
 * (QT_SHARED_MAX); 0 where the plan never shares.  Larger planes came
 * from L3 for every task's K blocks: FCN-ResNet50's 958 KB - 3.5 MB ones
 * were 2% slower than qt_task's own blocks (2 threads, Zen 5), ResNet-18's
 * (up to 215 KB) 4% faster. */
#define QT_SHARED_PIX 4096
#define QT_SHARED_MAX ((int64_t)512 << 10)
static int64_t qt_shared_bytes(const nnl_qconv_ctx *q) {
    const nnl_conv_params *p = q->p;
    if (!q->wide || q->ohw > QT_SHARED_PIX || p->n * p->group != 1) return 0;
    int64_t npx = (p->oh - 1) * q->wq + p->ow, b = q->cq * q->nphy * q->nphx * nnl_qstage_pixels(q, 0, npx) * 4;
    return b <= QT_SHARED_MAX ? (int64_t)align64((size_t)b) : 0;
}

/* Whether the shared staging serves this transposed-tile plan (the op's
 * scratch holds it: files compiled before it keep qt_task), and its tasks:
 * q->chunks channel tiles of up to three units, q->npr pixel ranges each. */
static bool qt_shared_plan(nnl_qconv_ctx *q, int threads) {
    const int64_t need = qt_shared_bytes(q);
    if (need <= 0 || !q->a->scratch || (int64_t)q->a->scratch_bytes < need) return false;
    nnl_qconv_ctx s = *q;
    const int64_t units = (s.mg + 15) / 16, ngrp = (s.ohw + s.grp - 1) / s.grp;
    s.chunks = (units + 2) / 3;
    s.npr = min64(ngrp, max64(1, (QT_TASKS_PER_THREAD * threads + s.chunks - 1) / s.chunks));
    const int64_t per = (ngrp + s.npr - 1) / s.npr;
    if (!scratch_fits(&s, 48, per * NNL_QTUKR_PX * NNL_QTUKR_OC, 0, (s.p->oh - 1) * s.wq + s.p->ow)) return false;
    /* planes back to back, unpadded: the scratch compiled files hold */
    s.cs = s.spx;
    *q = s;
    return true;
}

/* Whether the conv runs on transposed tiles, and their plan: on the wide
 * grid, with the microkernel's tfn, where pixel tiles leave enough lanes
 * idle to pay for the transposed tile's dearer epilogue.  bench_qconv,
 * Zen 5, 1 thread, GMAC/s transposed vs pixel tiles: 3x3 512 ch at 7x7
 * 437 vs 304, 3x3 256 ch at 14x14 430 vs 377, 1x1 256 -> 1024 at 14x14
 * 404 vs 390, but 1x1 96 -> 576 at 14x14 (K 96) 305 vs 314.  AVX-VNNI
 * (ymm): 200 vs 144, 170 vs 157, but 1x1 256 -> 1024 at 14x14 165 vs 174,
 * within this rule's margin.  Larger maps (up to the microkernel's tpix):
 * a padded 3x3 conv's few virtual columns pass the rule, and it pays (3x3
 * 256 ch at 28x28 396 vs 360, 64 ch at 56x56 381 vs 337, FCN's 3x3 512 d4
 * at 32x48 405 vs 338); 1x1 convs with no idle lane do not pass, and
 * forced measured 0-12% slower (64 -> 256 at 56x56 249 vs 285). */
static bool qt_plan(nnl_qconv_ctx *q, int threads) {
    const nnl_conv_params *p = q->p;
    if (!q->uk->tfn || !q->wide || q->ohw > q->uk->tpix) return false;
    const int64_t nr = q->uk->nr, npx = (p->oh - 1) * q->wq + p->ow;
    /* pixel tiles: whole panels of nr, the tail in vectors (a third of nr
     * on the x86 sets) */
    int64_t tail = nr % 3 ? nr : nr / 3, lanes_px = npx / nr * nr + round_up(npx % nr, tail);
    q->grp = q->ohw % 8 && q->ohw % 7 == 0 ? 7 : 8;
    /* work per output, in vpdpbusd a vector: nq quads and the epilogue,
     * about 2 for pixel tiles and 5 for the transposed one's (it also
     * transposes the bytes): fitted to bench_qconv's px rows, Zen 5 */
    double tr = (double)round_up(q->ohw, q->grp) * (double)round_up(q->mg, 16) * (double)(q->nq + 5);
    if (tr >= (double)lanes_px * (double)round_up(q->mg, NNL_MR) * (double)(q->nq + 2)) return false;
    q->tr = true;
    /* as many tasks a group as make the items a multiple of the threads;
     * too few channels for a task a thread: pixel tiles, which split pixels */
    const int64_t units = (q->mg + 15) / 16, items = p->n * p->group, ngrp = (q->ohw + q->grp - 1) / q->grp;
    q->chunks = min64(threads / nnl_gcd64(items, threads), units);
    if (items * q->chunks < threads) return q->tr = false;
    for (;;) {
        int64_t rows = 16 * ((units + q->chunks - 1) / q->chunks), ntile = (rows / 16 + 2) / 3;
        if (scratch_fits(q, rows, ntile * ngrp * NNL_QTUKR_PX * NNL_QTUKR_OC, 0, npx)) return true;
        if (q->chunks >= units) return q->tr = false;
        q->chunks = min64(units, 2 * q->chunks);
    }
}

/* Which phase rows (columns) of the wide grid some tap reads, indexed
 * compactly; false if the stride has more phases than the grid allows. */
static bool phases(int64_t k, int64_t d, int64_t s, int8_t *idx, int *n) {
    if (s > NNL_QPH_MAX) return false;
    memset(idx, -1, NNL_QPH_MAX);
    for (int64_t i = 0; i < k; i++) idx[i * d % s] = 0;
    *n = 0;
    for (int64_t r = 0; r < s; r++)
        if (idx[r] == 0) idx[r] = (int8_t)(*n)++;
    return true;
}

/* The plan's geometry, the part that does not depend on the arguments'
 * values (a may be NULL: nnl_qconv_scratch_bytes), or on uk but for the K
 * blocks (uk NULL: 128 quads, every set's kq). */
static void qctx_init(nnl_qconv_ctx *q, const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_qukr *uk,
                      void *const *thread_scratch) {
    *q = (nnl_qconv_ctx){.p = p, .a = a, .uk = uk, .ts = thread_scratch};
    q->mg = p->oc / p->group;
    q->cg = p->c / p->group;
    q->cq = (q->cg + 3) / 4;
    q->khw = p->kh * p->kw;
    q->nq = q->cq * q->khw;
    q->ohw = p->oh * p->ow;
    q->pad = a ? (uint8_t)a->x_zp : 0;
    q->flip = a && a->x_signed != (uk && uk->sx) ? 0x80808080u : 0u;
    /* K blocks of whole channel quads, about kq quads each */
    const int64_t kq = !uk ? 128 : q->khw > 1 && uk->kq_taps ? uk->kq_taps : uk->kq;
    q->nkb = min64(q->cq, (q->nq + kq - 1) / kq);
    if (q->nkb < 1) q->nkb = 1;
    /* the grid reads phase rows and columns up to those of the last real
     * output, which the conv's own size formula keeps inside the plane */
    int64_t hp = p->pt + p->h + p->pb, wp = p->pl + p->w + p->pr;
    q->wq = (wp + p->sw - 1) / p->sw;
    q->wide = p->oh == (hp - (p->kh - 1) * p->dh - 1) / p->sh + 1 && p->ow == (wp - (p->kw - 1) * p->dw - 1) / p->sw + 1 &&
              phases(p->kh, p->dh, p->sh, q->phy, &q->nphy) && phases(p->kw, p->dw, p->sw, q->phx, &q->nphx);
    q->strip = q->wide && (p->pt || p->pl || p->pb || p->pr || p->sh > 1 || p->sw > 1);
}

size_t nnl_qconv_scratch_bytes(const nnl_conv_params *p) {
    if (!nnl_qconv_ok(p) || p->n <= 0 || p->oc <= 0 || p->oh <= 0 || p->ow <= 0) return 0;
    nnl_qconv_ctx q;
    qctx_init(&q, p, NULL, NULL, NULL);
    return (size_t)qt_shared_bytes(&q);
}

nnl_status nnl_qconv2d_with(const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_qukr *uk, nnl_pool *pool,
                            void *const *thread_scratch) {
    if (!nnl_qconv_ok(p)) return nnl_fail(NNL_ERR_UNSUPPORTED, "8-bit conv: %lld output channels per group, not "
                                          "a multiple of 8", (long long)(p->oc / p->group));
    if (p->n <= 0 || p->oc <= 0 || p->oh <= 0 || p->ow <= 0) return NNL_OK;
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "8-bit conv called without thread scratch");
    if (!uk) return nnl_fail(NNL_ERR_INTERNAL, "8-bit conv: the kernel set has no int8 microkernel here");
    if (uk->w7 && !a->w7)
        return nnl_fail(NNL_ERR_INTERNAL, "8-bit conv: microkernel %s needs weights within [-64, 64]", uk->name);
    nnl_qconv_ctx q;
    qctx_init(&q, p, a, uk, thread_scratch);
    int threads = nnl_pool_threads(pool);
    if (qt_plan(&q, threads)) {
        if (threads > 1 && qt_shared_plan(&q, threads)) {
            nnl_pool_run(pool, (q.cq + QT_STAGE_QUADS - 1) / QT_STAGE_QUADS, qt_stage_task, &q);
            nnl_pool_run(pool, q.chunks * q.npr, qt_shared_task, &q);
        } else {
            nnl_pool_run(pool, p->n * p->group * q.chunks, qt_task, &q);
        }
        return NNL_OK;
    }
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
    const nnl_kernel *k = kern ? kern : nnl_kernel_get();
    const nnl_qukr *uk = nnl_qukr_pick(k, a->w7, (p->c / p->group + 3) / 4, p->oh * p->ow, false);
    const int wm = k->qwino ? nnl_wino_mode() : 0;
    if (wm && (wm == 2 || nnl_qwino_pays(p, uk)) && nnl_qwino_ok(p, a->w7))
        return nnl_qwino_conv(p, a, k, pool, thread_scratch);
    return nnl_qconv2d_with(p, a, uk, pool, thread_scratch);
}
