/*
 * The 8-bit Winograd's driver (kernels/qwino.h) over a kernel set's
 * nnl_qwino.  A task is (a chunk of up to NNL_QWINO_OC output channels, a
 * range of tile blocks), one task a thread.  Per block of up to QW_NT
 * tiles and K block of up to QW_KP channel pairs: the chunk's weights
 * transformed into U' (once per task when it holds every channel pair,
 * QW_UCAP), the block's input windows into V, then per transform point
 * one transposed-tile product M_xi += U'_xi V_xi (output channels in the
 * lanes, tiles broadcast) into the block's int32 sums; after the last K
 * block the output transform and the epilogue write the tiles' outputs
 * (with one K block, 16 tiles at a time, their sums still in L1 / L2).
 * Thread scratch: U' (16 x 16 panels x QW_UCAP pairs x 32 bytes, 1 MB), V
 * (16 x QW_KP x QW_NTS x 4), M (16 x QW_NT x NNL_QWINO_OC x 4), the
 * offsets, the epilogues and 16 window rows.
 */
#include <string.h>

#include "kernels/qconv_pack.h"
#include "kernels/qwino.h"

#define QW_NT 64
/* V's tiles a channel pair: a kernel's input transform may write 16
 * tiles past a row's last (the next row's overwrite them). */
#define QW_NTS (QW_NT + 16)
#define QW_KP 64
/* Channel pairs whose U' a task keeps for all its tile blocks: 1 MB. */
#define QW_UCAP 128
/* Panels of a task's rows: NNL_QWINO_OC. */
#define QW_PAN (NNL_QWINO_OC / NNL_MR)
#define QW_PHASES 64
/* Bytes of a window row: 2 QW_NT + 2, and 32 a kernel may read past. */
#define QW_ROW 192

typedef struct qw_ctx {
    const nnl_conv_params *p;
    const nnl_qconv_args *a;
    const nnl_qwino *k;
    void *const *ts;
    int64_t d, cp, nkb, chunks, nblk, ranges, per_img;
    int64_t tw[QW_PHASES], first[QW_PHASES + 1]; /* phase ph: tile rows tw[ph] wide, tiles first[ph] .. */
    int zx;
    uint8_t flip, pad;
} qw_ctx;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

bool nnl_qwino_ok(const nnl_conv_params *p, bool w7) {
    if (p->kh != 3 || p->kw != 3 || p->sh != 1 || p->sw != 1 || p->group != 1 || p->dh != p->dw || p->dh < 1 ||
        p->dh * p->dh > QW_PHASES || p->oc % NNL_MR || p->n < 1 || p->c < 1)
        return false;
    /* the outputs are exactly the conv's size formula's */
    if (p->oh != p->pt + p->h + p->pb - 2 * p->dh || p->ow != p->pl + p->w + p->pr - 2 * p->dw || p->oh < 1 ||
        p->ow < 1)
        return false;
    /* 4 Y must fit an int32 (qwino.h) */
    return (double)p->c * 9.0 * 255.0 * (w7 ? 64.0 : 128.0) < (double)(1 << 29);
}

bool nnl_qwino_pays(const nnl_conv_params *p, const nnl_qukr *uk) {
    if (!uk || uk->wino_ow <= 0 || p->dh < 1) return false;
    /* a phase's outputs (dilation d: every d-th) */
    const int64_t owp = (p->ow + p->dh - 1) / p->dh, ohp = (p->oh + p->dh - 1) / p->dh;
    return owp >= uk->wino_ow && 2 * ohp >= uk->wino_ow;
}

/* Tile t of the conv: image, phase (py, px), tile row ta and column tb. */
typedef struct qw_tile {
    int64_t img, py, px, ta, tb, tw;
} qw_tile;

static qw_tile tile_of(const qw_ctx *q, int64_t t) {
    qw_tile r = {.img = t / q->per_img};
    int64_t i = t % q->per_img, ph = 0;
    while (i >= q->first[ph + 1]) ph++;
    i -= q->first[ph];
    r.py = ph / q->d;
    r.px = ph % q->d;
    r.tw = q->tw[ph];
    r.ta = i / r.tw;
    r.tb = i % r.tw;
    return r;
}

/* Row i of channel c's window for nb tiles from tile tl into buf: 2 nb +
 * 2 bytes of the padded input at stride d (the pad byte outside). */
static void window_row(const qw_ctx *q, const qw_tile *tl, int64_t c, int i, int64_t nb, uint8_t *buf) {
    const nnl_conv_params *p = q->p;
    const int64_t n = 2 * nb + 2, d = q->d;
    const int64_t iy = tl->py + d * (2 * tl->ta + i) - p->pt, ix0 = tl->px + d * 2 * tl->tb - p->pl;
    if (c >= p->c || iy < 0 || iy >= p->h) {
        nnl_fill(buf, q->pad, n);
        return;
    }
    const uint8_t *row = (const uint8_t *)q->a->x + ((tl->img * p->c + c) * p->h + iy) * p->w;
    if (d == 1) {
        /* pads on the left, the image's run, pads on the right */
        const int64_t l = ix0 < 0 ? min64(-ix0, n) : 0, e = max64(l, min64(n, p->w - ix0));
        if (l) nnl_fill(buf, q->pad, l);
        if (e > l) nnl_copy_run(buf + l, row + ix0 + l, e - l);
        if (n > e) nnl_fill(buf + e, q->pad, n - e);
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        const int64_t ix = ix0 + d * j;
        buf[j] = ix >= 0 && ix < p->w ? row[ix] : q->pad;
    }
}

/* Scratch parts of a task (see the file's comment). */
typedef struct qw_scratch {
    int16_t *u, *v;
    int32_t *m;
    int64_t *xoff, *pix;
    nnl_qepi *epi;
    uint8_t *rows;
} qw_scratch;

#define QW_U_BYTES ((size_t)16 * QW_PAN * QW_UCAP * 32)
#define QW_V_BYTES ((size_t)16 * QW_KP * QW_NTS * 4)
#define QW_M_BYTES ((size_t)16 * QW_NT * NNL_QWINO_OC * 4)

static qw_scratch scratch_of(const qw_ctx *q, int thread) {
    uint8_t *b = q->ts[thread];
    qw_scratch s;
    s.u = (int16_t *)b;
    s.v = (int16_t *)(b + QW_U_BYTES);
    s.m = (int32_t *)(b + QW_U_BYTES + QW_V_BYTES);
    s.xoff = (int64_t *)(b + QW_U_BYTES + QW_V_BYTES + QW_M_BYTES);
    s.pix = s.xoff + QW_KP;
    s.epi = (nnl_qepi *)(s.pix + QW_NT);
    s.rows = (uint8_t *)(s.epi + QW_PAN);
    return s;
}

/* The products of transform points 0..15 for tiles [j0, j0 + nj) of the
 * block (V at v, vs int16 between points; U' at u, us between points and
 * ws bytes a panel) into m (ms int32 between points, first: start at 0). */
static void qw_products(const qw_ctx *q, const qw_scratch *s, const int16_t *u, int64_t us, int64_t ws,
                        const int16_t *v, int64_t vs, int64_t kpn, int64_t npan, int64_t j0, int64_t nj, int32_t *m,
                        int64_t ms, bool first) {
    for (int xi = 0; xi < 16; xi++) {
        nnl_qtukr_args a = {
            .kq = kpn,
            .w = (const int8_t *)(u + xi * us),
            .w_ps = ws,
            .x = (const uint8_t *)(v + xi * vs) + 4 * j0,
            .xoff = s->xoff,
            .pix = s->pix,
            .acc = m + xi * ms,
            .first = first,
            .last = false,
            .np = (int)npan,
            .nj = (int)nj,
        };
        q->k->mm(&a);
    }
}

/* Tiles [t0, t1) out of their sums at m (tile t0 first, ms int32 between
 * transform points), rows [m0, m0 + 8 npan), a run along a tile row at a
 * time. */
static void qw_outputs(const qw_ctx *q, const qw_scratch *s, int64_t t0, int64_t t1, const int32_t *m, int64_t ms,
                       int64_t m0, int64_t npan) {
    const nnl_conv_params *p = q->p;
    const int64_t ohw = p->oh * p->ow;
    for (int64_t tt = t0; tt < t1;) {
        const qw_tile tl = tile_of(q, tt);
        const int64_t nb = min64(t1 - tt, tl.tw - tl.tb);
        const int64_t oy = tl.py + q->d * 2 * tl.ta, ox = tl.px + q->d * 2 * tl.tb;
        const int nr = oy + q->d < p->oh ? 2 : 1;
        const int nc = (int)min64(2 * nb, (p->ow - 1 - ox) / q->d + 1);
        uint8_t *y = (uint8_t *)q->a->y + (tl.img * p->oc + m0) * ohw + oy * p->ow + ox;
        for (int64_t i = 0; i < npan; i++)
            q->k->out(y + 8 * i * ohw, ohw, q->d * p->ow, q->d, nr, nc, (int)nb,
                      m + (tt - t0) * NNL_QWINO_OC + 8 * i, ms, &s->epi[i]);
        tt += nb;
    }
}

/* Tiles a step of the products and the output transform when one K block
 * holds every channel: their sums (16 x QW_SUB x 64 int32, 64 KB) are
 * read back from L1 / L2; a whole block's (256 KB) came from L3 on a
 * 512 KB L2 beside V and U' (Zen 3: the output transform's loads were a
 * third of its time). */
#define QW_SUB 16

static void qw_task(void *vctx, int64_t t, int thread) {
    const qw_ctx *q = vctx;
    const nnl_conv_params *p = q->p;
    const nnl_qconv_args *a = q->a;
    const int64_t chunk = t / q->ranges, range = t % q->ranges;
    /* the chunk's rows: 16-channel units split evenly */
    const int64_t units = (p->oc + 15) / 16;
    const int64_t m0 = 16 * (units * chunk / q->chunks), m1 = min64(16 * (units * (chunk + 1) / q->chunks), p->oc);
    const int64_t rows = m1 - m0, npan = (rows + NNL_MR - 1) / NNL_MR;
    const int64_t b0 = q->nblk * range / q->ranges, b1 = q->nblk * (range + 1) / q->ranges;
    if (rows <= 0 || b1 <= b0) return;
    const qw_scratch s = scratch_of(q, thread);
    nnl_qepi_fill(s.epi, a, p->oc, 0, m0, rows, rows); /* zx 0: the input transform subtracts it */
    for (int64_t j = 0; j < QW_NT; j++) s.pix[j] = 4 * j;
    for (int64_t i = 0; i < QW_KP; i++) s.xoff[i] = i * QW_NTS * 4;
    memset(s.rows, 0, 16 * QW_ROW);
    /* U' of every channel pair once when it fits (kept), else per block
     * and K block */
    const bool kept = q->cp <= QW_UCAP;
    const int64_t quads = (p->c + 3) / 4 * 9;
    const int8_t *w8 = nnl_q8_panels(a->w, p->oc) + m0 / NNL_MR * quads * 32;
    int64_t u_kb = -1;
    for (int64_t blk = b0; blk < b1; blk++) {
        const int64_t tiles = q->per_img * p->n, t0 = tiles * blk / q->nblk, t1 = tiles * (blk + 1) / q->nblk;
        for (int64_t kb = 0; kb < q->nkb; kb++) {
            const int64_t cpa = q->cp * kb / q->nkb, cpb = q->cp * (kb + 1) / q->nkb, kpn = cpb - cpa;
            /* U'_xi: npan panels x ucp pairs x 16 int16 (kept: this K
             * block's pairs are [cpa, cpb) of all q->cp) */
            const int64_t vs = kpn * QW_NTS * 2, ucp = kept ? q->cp : kpn, us = npan * ucp * 16;
            const int16_t *uk = s.u + (kept ? cpa * 16 : 0);
            if (kept ? u_kb < 0 : u_kb != kb) {
                const int64_t c0 = kept ? 0 : cpa;
                for (int64_t i = 0; i < npan; i++) q->k->wt(s.u + i * ucp * 16, us, w8 + i * quads * 32, c0, ucp);
                u_kb = kb;
            }
            for (int64_t tt = t0; tt < t1;) {
                /* a run of tiles along a tile row, and the next run with it
                 * when both are short (one vector takes 8 of each) */
                const qw_tile tl = tile_of(q, tt);
                const int64_t nb = min64(t1 - tt, tl.tw - tl.tb);
                qw_tile tl2 = tl;
                int64_t nb2 = 0;
                if (nb <= 8 && tt + nb < t1) {
                    tl2 = tile_of(q, tt + nb);
                    nb2 = min64(t1 - tt - nb, tl2.tw - tl2.tb);
                    if (nb2 > 8) nb2 = 0;
                }
                const uint8_t *r[16];
                for (int i = 0; i < 16; i++) r[i] = s.rows + i * QW_ROW;
                for (int64_t cp = cpa; cp < cpb; cp++) {
                    for (int i = 0; i < 8; i++) window_row(q, &tl, 2 * cp + i / 4, i % 4, nb, s.rows + i * QW_ROW);
                    for (int i = 0; i < 8 && nb2; i++)
                        window_row(q, &tl2, 2 * cp + i / 4, i % 4, nb2, s.rows + (8 + i) * QW_ROW);
                    q->k->in(s.v + (cp - cpa) * QW_NTS * 2 + 2 * (tt - t0), vs, r, nb, nb2, q->zx, q->flip);
                }
                tt += nb + nb2;
            }
            if (q->nkb == 1) {
                for (int64_t j0 = 0; j0 < t1 - t0; j0 += QW_SUB) {
                    const int64_t nj = min64(QW_SUB, t1 - t0 - j0), ms = QW_SUB * NNL_QWINO_OC;
                    qw_products(q, &s, uk, us, ucp * 32, s.v, vs, kpn, npan, j0, nj, s.m, ms, true);
                    qw_outputs(q, &s, t0 + j0, t0 + j0 + nj, s.m, ms, m0, npan);
                }
            } else {
                qw_products(q, &s, uk, us, ucp * 32, s.v, vs, kpn, npan, 0, t1 - t0, s.m, QW_NT * NNL_QWINO_OC,
                            kb == 0);
            }
        }
        if (q->nkb > 1) qw_outputs(q, &s, t0, t1, s.m, QW_NT * NNL_QWINO_OC, m0, npan);
    }
}

nnl_status nnl_qwino_conv(const nnl_conv_params *p, const nnl_qconv_args *a, const nnl_kernel *kern, nnl_pool *pool,
                          void *const *thread_scratch) {
    if (!kern || !kern->qwino) return nnl_fail(NNL_ERR_INTERNAL, "8-bit Winograd: the kernel set has none");
    if (!nnl_qwino_ok(p, a->w7)) return nnl_fail(NNL_ERR_INTERNAL, "8-bit Winograd: not a conv it runs exactly");
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "8-bit Winograd called without thread scratch");
    if (QW_U_BYTES + QW_V_BYTES + QW_M_BYTES + (QW_KP + QW_NT) * 8 + QW_PAN * sizeof(nnl_qepi) + 16 * QW_ROW >
        NNL_THREAD_SCRATCH_BYTES)
        return nnl_fail(NNL_ERR_INTERNAL, "8-bit Winograd: scratch too small");
    qw_ctx q = {.p = p, .a = a, .k = kern->qwino, .ts = thread_scratch, .d = p->dh};
    const int64_t nph = q.d * q.d;
    q.first[0] = 0;
    for (int64_t ph = 0; ph < nph; ph++) {
        const int64_t py = ph / q.d, px = ph % q.d;
        const int64_t ohp = (p->oh - py + q.d - 1) / q.d, owp = (p->ow - px + q.d - 1) / q.d;
        q.tw[ph] = (owp + 1) / 2;
        q.first[ph + 1] = q.first[ph] + (ohp + 1) / 2 * q.tw[ph];
    }
    q.per_img = q.first[nph];
    q.cp = (p->c + 1) / 2;
    q.nkb = (q.cp + QW_KP - 1) / QW_KP;
    /* the activations in uint8's domain (int8 as x ^ 0x80), their zero
     * point subtracted by the input transform; pads are the zero point */
    q.flip = a->x_signed ? 0x80 : 0;
    q.zx = (int)nnl_qukr_zx(NULL, a->x_signed, a->x_zp);
    q.pad = (uint8_t)(q.zx ^ q.flip);
    const int64_t units = (p->oc + 15) / 16, tiles = q.per_img * p->n;
    q.chunks = (units + QW_PAN / 2 - 1) / (QW_PAN / 2);
    /* blocks of equal size (at most QW_NT tiles), as many a task, the
     * tasks as many as the threads: each transforms its chunk's U' once
     * (ResNet-18 int7 at 2 threads took 12.6 -> 14.0 ms with 3 tasks a
     * thread), and the blocks a multiple of the ranges (196 tiles at 28x28
     * ran as blocks of 64, 64, 64 and 4, one thread taking two of 64) */
    const int threads = nnl_pool_threads(pool);
    q.ranges = max64(1, min64((threads + q.chunks - 1) / q.chunks, tiles / 16));
    q.nblk = ((tiles + QW_NT - 1) / QW_NT + q.ranges - 1) / q.ranges * q.ranges;
    nnl_pool_run(pool, q.chunks * q.ranges, qw_task, &q);
    return NNL_OK;
}
