/*
 * GEMM driver: splits C into (batch item, MC rows, NC columns) tasks for
 * the pool; each task walks K in blocks, packs its B block (and A block if
 * A is not pre-packed) into its thread's scratch and sweeps microkernels
 * over it, B panel outer so the kc x NR panel stays in L1 while A panels
 * stream from L2 (a short single K block: A panel outer, ROWS_OUTER_MAX_K).
 * The epilogue (bias, residual, activation) runs in the
 * microkernel on the last K block, so no pass over C follows.  When tasks
 * split M and B fits (nnl_gemm_prepack_bytes), B is packed once for all
 * of them into the op's shared scratch first.
 */
#include <string.h>

#include "kernels/gemm.h"

/* Floats of a 64-byte cache line. */
#define LINE_FLOATS (64 / (int64_t)sizeof(float))

/* Rows per task when A is packed at run time (bounds its scratch). */
#define MC_RT 256
/* Rows per task with pre-packed A: the task's C block (MC x NC) and A
 * block (MC x KC) must stay in L2 between K blocks, or C makes a round
 * trip to L3 per K block (measured: 2048-row 1x1 convs ran 25% slower
 * with all rows in one task). */
#define MC_PACKED 512
/* Largest whole packed B kept in shared scratch. */
#define PREPACK_MAX ((size_t)4 << 20)
/* Shortest K block for which prefetching a C / residual tile pays. */
#define PREFETCH_MIN_KC 64
/* A single K block at most this long sweeps its tiles M panel outer: each
 * panel writes its 8 output rows in runs of nc pixels (the hardware
 * prefetchers follow 8 streams, not M), the kc x nc B block re-read from
 * L2.  On a Zen 3, MobileNetV2's 32 -> 16 1x1 conv at 112x112 went
 * 0.48 -> 0.39 ms (min over 6 alternating processes); long-K convs keep
 * the B panel in L1 across M instead. */
#define ROWS_OUTER_MAX_K 64
/* Largest K block of any kernel set (row offsets of B read in place). */
#define KC_MAX 512

typedef struct gemm_ctx {
    const nnl_gemm_desc *d;
    const nnl_kernel *kern;
    void *const *ts;
    int64_t mc, nc, m_tiles, n_tiles, nkb;
    size_t b_floats;           /* B block floats; A block follows */
    float *pre;                /* whole packed B, or NULL */
    int64_t npad;              /* N rounded up to whole panels (prepacked B) */
    bool gap_y;                /* the wide grid's tiles write y directly (gap_tile) */
    bool row_tiles;            /* ... in tiles that start at row starts (row_tiles) */
} gemm_ctx;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }

void nnl_gemm_single(const nnl_gemm_desc *d, int64_t item, nnl_gemm_ptrs *p) {
    (void)item;
    *p = *(const nnl_gemm_ptrs *)d->ctx;
}

size_t nnl_gemm_prepack_bytes(int64_t batch, int64_t k, int64_t n) {
    uint64_t f;
    if (batch <= 0 || k <= 0 || n <= 0) return 0;
    if (nnl_mul_overflow_u64((uint64_t)batch, (uint64_t)k, &f) ||
        nnl_mul_overflow_u64(f, (uint64_t)round_up(n, NNL_NR_MAX), &f) || f > PREPACK_MAX / sizeof(float))
        return 0;
    return (size_t)f * sizeof(float);
}

/* Start of K block kb of nkb, the blocks balanced. */
static int64_t k_split(int64_t k, int64_t nkb, int64_t kb) { return k * kb / nkb; }

static int64_t k_begin(const gemm_ctx *g, int64_t kb) { return k_split(g->d->k, g->nkb, kb); }

/* Prepacked B of item, K block kb, panel of column n0: the K block holds
 * kc x npad floats, panel-major like a task's own B block. */
static float *pre_block(const gemm_ctx *g, int64_t item, int64_t kb, int64_t n0, int64_t kc) {
    return g->pre + (item * g->d->k + k_begin(g, kb)) * g->npad + n0 * kc;
}

static void pack_b(const gemm_ctx *g, float *dst, const nnl_gemm_ptrs *p, int64_t k0, int64_t kc, int64_t n0,
                   int64_t nc) {
    if (g->d->b_f16)
        nnl_pack_b_a8t_h(dst, g->kern->nr, g->d, p->bh, k0, kc, n0, nc, g->kern->h2f);
    else
        nnl_pack_b(dst, g->kern->nr, g->d, p->b, p->b_scale, k0, kc, n0, nc);
}

/* The A block of rows m0.. (mcur of them), K columns k0.. (kc), as float
 * PACK_A8 panels in abuf, for a plain A (float or float16). */
static void pack_a(const gemm_ctx *g, float *abuf, const nnl_gemm_ptrs *p, int64_t m0, int64_t mcur, int64_t k0,
                   int64_t kc) {
    const nnl_gemm_desc *d = g->d;
    if (!d->a_f16) {
        nnl_pack_a_plain(abuf, p->a, d->a_rs, d->a_cs, d->m, m0, mcur, k0, kc);
    } else {
        nnl_pack_a_plain_h(abuf, p->ah, d->a_rs, d->m, m0, mcur, k0, kc, g->kern->h2f);
    }
}

/* The float16 PACK_A8 slice (kc x 8 halves) of the panel at row `row`. */
static const uint16_t *a16_slice(const nnl_gemm_desc *d, const nnl_gemm_ptrs *p, int64_t row, int64_t k0) {
    return p->ah + (row / NNL_MR * d->k + k0) * NNL_MR;
}

/* Widen the float16 A panel at block row im just before its first use,
 * asking for the next panel's halves first: the weight streams from memory
 * under the microkernel's FMAs as a float32 one does through a_next.
 * (Widening the whole block up front waited on memory: h2f took 7% of
 * resnet18's time, almost all of it on its loads.) */
static void widen_a16(const gemm_ctx *g, float *abuf, const nnl_gemm_ptrs *p, int64_t m0, int64_t im, int64_t mcur,
                      int64_t k0, int64_t kc) {
    if (im + NNL_MR < mcur) {
        const char *next = (const char *)a16_slice(g->d, p, m0 + im + NNL_MR, k0);
        for (int64_t b = 0; b < kc * NNL_MR * 2; b += 64) __builtin_prefetch(next + b, 0, 3);
    }
    g->kern->h2f(abuf + im * kc, a16_slice(g->d, p, m0 + im, k0), kc * NNL_MR);
}

static void prepack_task(void *vctx, int64_t t, int thread) {
    (void)thread;
    const gemm_ctx *g = vctx;
    const nnl_gemm_desc *d = g->d;
    int64_t item = t / (g->nkb * g->n_tiles), r = t % (g->nkb * g->n_tiles);
    int64_t kb = r / g->n_tiles, n0 = r % g->n_tiles * g->nc;
    int64_t k0 = k_begin(g, kb), kc = k_begin(g, kb + 1) - k0;
    nnl_gemm_ptrs p = {0};
    d->ptrs(d, item, &p);
    pack_b(g, pre_block(g, item, kb, n0, kc), &p, k0, kc, n0, min64(g->nc, d->n - n0));
}

/* Rows whose residual broadcasts along columns cannot use the vector
 * epilogue: compute the tile plain, finish it here. */
static void generic_store(const nnl_gemm_desc *d, const float *tile, int ldt, const nnl_ukr_args *u,
                          const float *res_tile, bool last) {
    for (int i = 0; i < u->mr; i++) {
        float *c = u->c + i * u->ldc;
        for (int j = 0; j < u->nr; j++) {
            float v = tile[i * ldt + j] + (u->accumulate ? c[j] : 0.0f);
            if (last) {
                float r = res_tile ? res_tile[i * d->epi.res_rs + j * d->res_cs] : 0.0f;
                v = nnl_epi_apply(u->epi, v, i, j, r);
            }
            c[j] = v;
        }
    }
}

/* B read where it lies, not packed, when its rows have unit column
 * stride and no row scale: the padded planes of the wide grid, or a
 * matrix (1x1 stride-1 unpadded convs, MatMul activations) whose rows
 * start on the same offset in a cache line.  Its kc x nr tile is reused
 * across all MC rows of the task, so it comes to L1 from the caller's
 * tensor as well as from a packed copy, and the copy (23-54% of a conv's
 * time with B reused only M/8 times) is saved.  A matrix with rows
 * unaligned to each other (1x1 convs at 14x14 and 7x7) spreads the tile
 * over a third to two thirds more cache lines than its packed copy, and
 * there bench_kernels measured the packed path 3-15% faster; the wide
 * grid replaces a much costlier im2col packing and wins regardless.  On
 * bigger maps a set with b_rows_any reads unaligned rows in place too
 * (nnl_kernel). */
static bool b_in_place(const nnl_gemm_desc *d, const nnl_gemm_ptrs *p, const nnl_kernel *kern) {
    if (p->b_scale) return false;
    if (d->b_kind == NNL_BSRC_WIDE) return true;
    if (d->b_kind != NNL_BSRC_STRIDED || d->b_cs != 1) return false;
    return d->b_rs % LINE_FLOATS == 0 || (kern->b_rows_any && d->n > NNL_TG_CONV_MAX_PIX);
}

/* Offsets of rows k0.. of B read in place, from the item's origin.  The
 * wide grid's rows step through (ic, ky, kx): each tap's offset within a
 * channel is computed once a call (nnl_wide_row's divisions per row were
 * a sixth of a 7x7 conv's time), the taps by steps, without divisions
 * (nnl_wide_row's eight for each of 9 taps were 8% of RegNetX's grouped
 * 3x3 at 7x7, whose 25 tasks each compute the same 144 offsets). */
#define B_ROWS_TAPS 64
static void wide_taps(const nnl_conv_geom *g, int64_t *tap) {
    const int64_t plane = g->h * g->w;
    int64_t t = 0;
    /* y = ky dh = yq sh + yr, x = kx dw = xq sw + xr */
    for (int64_t ky = 0, yq = 0, yr = 0; ky < g->kh; ky++) {
        for (int64_t kx = 0, xq = 0, xr = 0; kx < g->kw; kx++) {
            tap[t++] = (yr * g->sw + xr) * plane + yq * g->w + xq;
            for (xr += g->dw; xr >= g->sw; xr -= g->sw) xq++;
        }
        for (yr += g->dh; yr >= g->sh; yr -= g->sh) yq++;
    }
}

static void b_rows(const nnl_gemm_desc *d, int64_t k0, int64_t kc, int64_t *off) {
    const nnl_conv_geom *g = &d->geom;
    const int64_t khw = g->kh * g->kw;
    if (d->b_kind != NNL_BSRC_WIDE || khw > B_ROWS_TAPS) {
        for (int64_t kk = 0; kk < kc; kk++)
            off[kk] = d->b_kind == NNL_BSRC_WIDE ? nnl_wide_row(g, k0 + kk) : (k0 + kk) * d->b_rs;
        return;
    }
    int64_t tap[B_ROWS_TAPS];
    const int64_t chan = g->sh * g->sw * g->h * g->w;
    wide_taps(g, tap);
    for (int64_t kk = 0, ic = k0 / khw, t = k0 % khw; kk < kc; kk++) {
        off[kk] = ic * chan + tap[t];
        if (++t == khw) t = 0, ic++;
    }
}

static void prefetch_tile(const float *p, int64_t ld, int rows, int cols, int write) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j += 16) {
            if (write)
                __builtin_prefetch(p + i * ld + j, 1, 3);
            else
                __builtin_prefetch(p + i * ld + j, 0, 3);
        }
}

/* Channel stride of the wide grid's output y (nnl_gemm_desc.y_cs). */
static int64_t wide_y_cs(const nnl_gemm_desc *d) { return d->y_cs ? d->y_cs : d->geom.oh * d->geom.ow; }

/* Row r of item t / m of a wide-grid C into the real output (gemm.h, y). */
/* The wide grid's output (nnl_gemm_ptrs.y): a task's C block, rows [m0,
 * m0 + mcur) x virtual pixels [n0, n0 + ncur) in thread scratch (row
 * stride ldct), copied to y's real pixels as the task ends, the residual
 * and the activation applied on the way. */
static void wide_out(const gemm_ctx *g, const nnl_gemm_ptrs *p, const float *cblk, int64_t ldct, int64_t m0,
                     int64_t mcur, int64_t n0, int64_t ncur) {
    const nnl_gemm_desc *d = g->d;
    const nnl_conv_geom *q = &d->geom;
    const nnl_epilogue *e = &d->epi;
    const int64_t ohw = wide_y_cs(d);
    for (int64_t r = m0; r < m0 + mcur; r++)
        for (int64_t f = n0; f < n0 + ncur;) {
            const int64_t oy = f / q->w, ox = f % q->w, seg = min64(q->w - ox, n0 + ncur - f);
            if (ox < q->ow) {
                const int64_t len = min64(seg, q->ow - ox), at = r * ohw + oy * q->ow + ox;
                const float *c = cblk + (r - m0) * ldct + (f - n0);
                if (p->res)
                    g->kern->epi_row(p->y + at, c, len, 0.0f, p->res + r * e->res_rs + oy * q->ow + ox, e->beta,
                                     e->act, e->act_a, e->act_b);
                else
                    memcpy(p->y + at, c, (size_t)len * sizeof(float));
            }
            f += seg;
        }
}

/* Where a tile of the wide grid's C starting at virtual pixel f, nr
 * columns, lies in the real output: returns the real pixel of its column
 * 0 (of its first column after a leading gap) and sets its gap
 * (nnl_ukr_args).  One gap at most: gap_y asks ow >= the tile's width. */
static int64_t gap_tile(const nnl_conv_geom *q, int64_t f, int nr, int *gap_at, int *gap) {
    const int64_t oy = f / q->w, ox = f % q->w;
    if (ox >= q->ow) {
        *gap_at = 0;
        *gap = (int)min64(q->w - ox, nr);
        return (oy + 1) * q->ow;
    }
    *gap_at = (int)min64(q->ow - ox, nr);
    *gap = (int)min64(q->w - q->ow, nr - *gap_at);
    return oy * q->ow + ox;
}

/* Most tiles row_tiles makes of a block: nc / nr whole ones and a
 * narrower one per row (ow >= nr: at most nc / nr + 2 rows), 34 on any
 * set; past it (never, by that bound) the block keeps gap tiles. */
#define ROW_TILES_MAX 128

/* The wide grid's virtual pixels [n0, n0 + ncur) as tiles that never
 * cross a row end: each row's real pixels from its start in tiles of nr,
 * the last one narrower, the virtual columns skipped.  Sets each tile's
 * offset from n0, width and first real pixel; returns the count, or -1
 * past ROW_TILES_MAX. */
static int row_tiles(const nnl_conv_geom *q, int64_t n0, int64_t ncur, int nr, int64_t *at, int *width,
                     int64_t *px) {
    int n = 0;
    for (int64_t f = n0, end = n0 + ncur; f < end;) {
        const int64_t oy = f / q->w, ox = f % q->w, row_end = min64(end, oy * q->w + q->ow);
        for (int64_t c = f; ox < q->ow && c < row_end; c += nr, n++) {
            if (n == ROW_TILES_MAX) return -1;
            at[n] = c - n0;
            width[n] = (int)min64(nr, row_end - c);
            px[n] = oy * q->ow + (c - oy * q->w);
        }
        f = (oy + 1) * q->w;
    }
    return n;
}

/* The wide grid's N tail (the last, partial tile of a column block) is
 * read in place, like the whole tiles before it, where the block has at
 * most WIDE_TAIL_MAX_M rows: its whole vectors reach at most a vector past
 * the last virtual pixel, into the next plane or the slack after the
 * planes (nnl_ukr_args).  Packing it cost more than the reads it saves
 * where a band or block has one tail and few A panels reuse it: RegNetX's
 * grouped 3x3/2 conv at 112x112 (16 rows a group, a tail every band) 12%
 * faster alone, 6% in the network (0.259 -> 0.243 ms, Zen 5, 1 thread).
 * Read in place by many panels, the tail's rows come from L2 once a panel
 * (ResNet-18's 3x3 128 at 28x28, 128 rows: 16% slower that way). */
#define WIDE_TAIL_MAX_M 32
static void gemm_task(void *vctx, int64_t t, int thread) {
    const gemm_ctx *g = vctx;
    const nnl_gemm_desc *d = g->d;
    const nnl_kernel *kern = g->kern;
    const int nr = kern->nr;
    int64_t per_item = g->m_tiles * g->n_tiles, item = t / per_item, r = t % per_item;
    int64_t m0 = r / g->n_tiles * g->mc, n0 = r % g->n_tiles * g->nc;
    int64_t mcur = min64(g->mc, d->m - m0), ncur = min64(g->nc, d->n - n0);
    nnl_gemm_ptrs p = {0};
    d->ptrs(d, item, &p);
    float *bbuf = g->ts[thread], *abuf = bbuf + g->b_floats;
    /* the wide grid's C block: after the A block, rows of nc */
    float *cblk = p.y && !g->gap_y ? abuf + (size_t)MC_RT * (size_t)kern->kc : NULL;
    const int64_t ohw = wide_y_cs(d);
    const int64_t ldct = g->nc;
    bool generic = d->res_cs != 1 && p.res;
    bool a_direct = d->a_packed && !d->a_f16;   /* the microkernel reads the weight's panels in place */
    float tile[NNL_MR * NNL_NR_MAX];
    int64_t boff[KC_MAX];
    /* Columns [n0, n0 + n_in) are read in place, whole tiles of nr (and
     * the wide grid's N tail where the block has at most WIDE_TAIL_MAX_M
     * rows); the rest from a packed panel starting at column n0 + n_in. */
    const bool wide_tail = d->b_kind == NNL_BSRC_WIDE && mcur <= WIDE_TAIL_MAX_M;
    int64_t n_in = !g->pre && b_in_place(d, &p, g->kern) ? (wide_tail ? ncur : min64(ncur, (d->n - n0) / nr * nr)) : 0;
    const bool rows_outer = g->nkb == 1 && d->k <= ROWS_OUTER_MAX_K;
    /* row tiles read all of B in place: a narrow tile reads whole vectors
     * of B (nnl_ukr_args), past its row into the next or, at the grid's
     * end, into the slack after the phase planes */
    int64_t rt_at[ROW_TILES_MAX], rt_px[ROW_TILES_MAX];
    int rt_w[ROW_TILES_MAX];
    /* not where B is packed (an input channel scale) */
    const int nrt = g->row_tiles && n_in > 0 ? row_tiles(&d->geom, n0, ncur, nr, rt_at, rt_w, rt_px) : -1;
    const bool rt = nrt >= 0;
    if (rt) n_in = ncur;
    for (int64_t kb = 0; kb < g->nkb; kb++) {
        int64_t k0 = k_begin(g, kb), kc = k_begin(g, kb + 1) - k0;
        bool last = kb == g->nkb - 1;
        const float *bblk = bbuf;
        if (g->pre)
            bblk = pre_block(g, item, kb, n0, kc);
        else if (n_in < ncur)
            pack_b(g, bbuf, &p, k0, kc, n0 + n_in, ncur - n_in);
        if (n_in) b_rows(d, k0, kc, boff);
        if (!d->a_packed) pack_a(g, abuf, &p, m0, mcur, k0, kc);
        const int64_t nj = rt ? nrt : (ncur + nr - 1) / nr, ni = (mcur + NNL_MR - 1) / NNL_MR;
        /* tiles in order (outer, inner): (A panel, column tile) with
         * rows_outer, else (column tile, A panel); counted, not divided
         * (a division a call was a third of gemm_task's time on stems) */
        const int64_t n_inner = rows_outer ? nj : ni;
        for (int64_t tile_i = 0, outer = 0, inner = 0; tile_i < nj * ni; tile_i++) {
            const int64_t jt = rows_outer ? inner : outer;
            const int64_t jn = rt ? rt_at[jt] : jt * nr;
            const int64_t im = (rows_outer ? outer : inner) * NNL_MR;
            if (++inner == n_inner) inner = 0, outer++;
            int64_t row = m0 + im, col = n0 + jn;
            nnl_epilogue e = d->epi;
            if (d->a_packed && d->a_f16 && jt == 0) widen_a16(g, abuf, &p, m0, im, mcur, k0, kc);
            const float *a = a_direct ? p.a + (row / NNL_MR * d->k + k0) * NNL_MR : abuf + im * kc;
            /* the next call's A slice: the same panel while a row of tiles goes on */
            const bool same_panel = rows_outer && jt + 1 < nj;
            const float *a_next =
                !same_panel && im + NNL_MR < mcur ? a + (a_direct ? d->k * NNL_MR : kc * NNL_MR) : a;
            nnl_ukr_args u = {
                .kc = kc,
                .a = a,
                .a_next = a_next,
                .b = jn < n_in ? p.b + col : bblk + (jn - n_in) * kc,
                .b_off = jn < n_in ? boff : NULL,
                /* the wide grid has no C (p.c NULL): its tiles go to y (gap_tile) */
                .c = cblk ? cblk + im * ldct + jn : p.c ? p.c + row * d->ldc + col : NULL,
                .ldc = cblk ? ldct : d->ldc,
                .mr = (int)min64(NNL_MR, mcur - im),
                .nr = rt ? rt_w[jt] : (int)min64(nr, ncur - jn),
                .accumulate = kb > 0,
                .epi = last ? &e : NULL,
            };
            e.bias_row = p.bias_row ? p.bias_row + row : NULL;
            e.bias_col = p.bias_col ? p.bias_col + col : NULL;
            e.res = p.res ? p.res + row * e.res_rs + col * d->res_cs : NULL;
            if (p.y && g->gap_y) {
                const int64_t px = rt ? rt_px[jt] : gap_tile(&d->geom, col, u.nr, &u.gap_at, &u.gap);
                u.c = p.y + row * ohw + px;
                u.ldc = ohw;
                e.res = p.res ? p.res + row * e.res_rs + px : NULL;
            } else if (p.y) {
                /* real-position residual: applied by the copy-out, with the activation after it */
                e.res = NULL;
                if (p.res) e.act = NNL_ACT_NONE;
            }
            if (!generic) {
                /* C is cold on the first K block and the residual on the
                 * last; the tile's rows are far apart, which the hardware
                 * prefetcher does not follow, so ask for them now: the
                 * microkernel's K loop hides the latency. */
                /* Not for short K blocks: there the loop is too short
                 * to hide it and the prefetches cost more than the
                 * misses (24% of the time at kc = 24). */
                if (kc >= PREFETCH_MIN_KC && !cblk) {
                    if (kb == 0) prefetch_tile(u.c, u.ldc, u.mr, u.nr, 1);
                    if (last && e.res) prefetch_tile(e.res, e.res_rs, u.mr, u.nr, 0);
                }
                kern->ukr(&u);
                continue;
            }
            nnl_ukr_args tu = u;
            tu.c = tile;
            tu.ldc = nr;
            tu.accumulate = false;
            tu.epi = NULL;
            tu.mr = NNL_MR;
            tu.nr = nr;
            kern->ukr(&tu);
            u.epi = &e;
            generic_store(d, tile, nr, &u, e.res, last);
        }
    }
    if (cblk) wide_out(g, &p, cblk, ldct, m0, mcur, n0, ncur);
}

/* ---- one row of X against a packed weight, or a packed weight against one
 * column: every output is a dot product of a PACK_A8 panel with a vector,
 * so nothing is packed and no microkernel row or column is padding (a
 * decode step's MatMuls would otherwise repack the whole weight as B and
 * use 1 of 8 microkernel rows). */
#define GEMV_MAX_ROWS 4

typedef struct gemv_ctx {
    const nnl_gemm_desc *d;
    const nnl_kernel *kern;
    int64_t panels;            /* PACK_A8 panels of the weight */
    int64_t chunk;             /* panels per task */
} gemv_ctx;

static bool gemv_fits(const nnl_gemm_desc *d) {
    bool wx = d->b_kind == NNL_BSRC_A8T && !d->a_packed && d->m <= GEMV_MAX_ROWS; /* Y = X W, W^T in panels */
    bool wv = d->a_packed && d->n == 1 && d->b_kind == NNL_BSRC_STRIDED;           /* y = W x */
    return (wx || wv) && d->res_cs == 1;
}

/* K rows of a float16 panel widened per step: 8 KB of floats on the stack,
 * reused by every row of X. */
#define GEMV_HK 256

/* gemv_task on a float16 weight: each panel is widened GEMV_HK rows at a
 * time and dotted with every row of X (at most GEMV_MAX_ROWS) before the
 * next step, so each weight byte is read and converted once; the partial
 * sums of the steps are added in order. */
static void gemv_half(const gemv_ctx *g, const nnl_gemm_ptrs *p, const nnl_epilogue *e, int64_t p0, int64_t p1) {
    const nnl_gemm_desc *d = g->d;
    const bool wv = d->a_packed;                /* y = W x: one "row" x = B's column */
    const uint16_t *w = wv ? p->ah : p->bh;
    const int64_t rows = wv ? 1 : d->m, xs = wv ? d->b_rs : d->a_cs, lim = wv ? d->m : d->n;
    float buf[GEMV_HK * NNL_MR], acc[GEMV_MAX_ROWS][NNL_MR], part[NNL_MR];
    for (int64_t q = p0; q < p1; q++) {
        memset(acc, 0, sizeof acc);
        for (int64_t k0 = 0; k0 < d->k; k0 += GEMV_HK) {
            int64_t kc = min64(GEMV_HK, d->k - k0);
            g->kern->h2f(buf, w + (q * d->k + k0) * NNL_MR, kc * NNL_MR);
            for (int64_t r = 0; r < rows; r++) {
                const float *x = wv ? p->b : p->a + r * d->a_rs;
                g->kern->dot8(buf, x + k0 * xs, xs, kc, part);
                for (int i = 0; i < NNL_MR; i++) acc[r][i] += part[i];
            }
        }
        for (int64_t r = 0; r < rows; r++)
            for (int64_t i = q * NNL_MR; i < min64(lim, (q + 1) * NNL_MR); i++) {
                float a = acc[r][i % NNL_MR];
                if (wv)
                    p->c[i * d->ldc] = nnl_epi_apply(e, a, i, 0, e->res ? e->res[i * e->res_rs] : 0.0f);
                else
                    p->c[r * d->ldc + i] = nnl_epi_apply(e, a, r, i, e->res ? e->res[r * e->res_rs + i] : 0.0f);
            }
    }
}

static void gemv_task(void *vctx, int64_t t, int thread) {
    (void)thread;
    const gemv_ctx *g = vctx;
    const nnl_gemm_desc *d = g->d;
    int64_t per = (g->panels + g->chunk - 1) / g->chunk, item = t / per, p0 = t % per * g->chunk;
    int64_t p1 = min64(p0 + g->chunk, g->panels);
    nnl_gemm_ptrs p = {0};
    d->ptrs(d, item, &p);
    nnl_epilogue e = d->epi;
    e.bias_row = p.bias_row;
    e.bias_col = p.bias_col;
    e.res = p.res;
    if (d->a_f16 || d->b_f16) {
        gemv_half(g, &p, &e, p0, p1);
        return;
    }
    float acc[NNL_MR];
    if (d->a_packed) { /* rows of C are weight rows, one column */
        for (int64_t q = p0; q < p1; q++) {
            g->kern->dot8(p.a + q * d->k * NNL_MR, p.b, d->b_rs, d->k, acc);
            for (int64_t i = q * NNL_MR; i < min64(d->m, (q + 1) * NNL_MR); i++)
                p.c[i * d->ldc] = nnl_epi_apply(&e, acc[i % NNL_MR], i, 0, e.res ? e.res[i * e.res_rs] : 0.0f);
        }
        return;
    }
    for (int64_t r = 0; r < d->m; r++) /* columns of C are weight rows */
        for (int64_t q = p0; q < p1; q++) {
            g->kern->dot8(p.b + q * d->k * NNL_MR, p.a + r * d->a_rs, d->a_cs, d->k, acc);
            for (int64_t j = q * NNL_MR; j < min64(d->n, (q + 1) * NNL_MR); j++)
                p.c[r * d->ldc + j] =
                    nnl_epi_apply(&e, acc[j % NNL_MR], r, j, e.res ? e.res[r * e.res_rs + j] : 0.0f);
        }
}

static void gemv_run(const nnl_gemm_desc *d, const nnl_kernel *kern, nnl_pool *pool) {
    gemv_ctx g = {.d = d, .kern = kern};
    g.panels = ((d->a_packed ? d->m : d->n) + NNL_MR - 1) / NNL_MR;
    /* ~64K multiply-adds per task: below that a hand-off to the pool costs
     * more than it saves (a decode step's MatMuls are all smaller) */
    int64_t per_panel = NNL_MR * d->k * (d->a_packed ? 1 : d->m);
    g.chunk = (65536 + per_panel - 1) / per_panel;
    if (g.chunk < 1) g.chunk = 1;
    int64_t tasks = d->batch * ((g.panels + g.chunk - 1) / g.chunk);
    if (tasks == 1) {
        gemv_task(&g, 0, 0);
        return;
    }
    nnl_pool_run(pool, tasks, gemv_task, &g);
}

/* ---- output channels in the lanes ---------------------------------------
 * With the kernel set's tukr a packed weight's panels are the vector
 * lanes (16 output channels a vector, two panels each) and the other
 * operand's vectors (pixels, tokens) are broadcasts, nothing packed:
 *  - conv form, C = W B with W PACK_A8 and few columns read in place (7x7
 *    and 14x14 maps), where pixel tiles waste lanes: 49 pixels take a
 *    48-wide tile and a 16-wide one.  Pixels go in groups of 7 or 8 real
 *    ones (the wide grid's virtual columns skipped), so a 7x7 map costs 49
 *    pixel slots; the tile (pixel-major) is transposed into C's rows.
 *  - X W form, C = X W with W PACK_A8T (MatMul / Gemm weights) and X's
 *    rows (tokens) the broadcasts: the pixel-tile path repacks the whole
 *    weight into 48-column panels on every call, 54% of an 8-row prefill
 *    GEMM's time; here the tile's rows are C's rows as they are.
 * A task is one item and at most TG_OC output channels (tg_tasks) over
 * all K blocks. */
#define TG_OC 48
/* Broadcast vectors a GEMM may have: up to 256 always (a 14x14 map, a
 * ViT's 197 tokens); up to 4096 rows of X in the X W form with K >= 384,
 * where the pixel tiles' per-call repacking of the weight and of X cost
 * more than the transposed tiles' store pass (ConvNeXt-T's 384 -> 96 and
 * 768 -> 192 MLP halves at 3136 and 784 rows: 2.10 -> 1.45 and 1.42 ->
 * 1.37 ms; its 96 -> 384 and 192 -> 768 ones ran 1.4-1.7x slower). The
 * tile takes rows x 48 floats of the thread scratch. */
#define TG_CONV_MAX_PIX NNL_TG_CONV_MAX_PIX
#define TG_MAX_PIX 4096
/* Floats of a task's tile and its rows (tg_store_conv), rounded up to
 * whole cache lines: the tukr join buffer follows them. */
#define TG_TILE_FLOATS(npix) (((size_t)(npix) * (2 * TG_OC) + 15) / 16 * 16)
_Static_assert((TG_TILE_FLOATS(TG_MAX_PIX) + NNL_TUKR_JOIN_FLOATS(KC_MAX)) * sizeof(float) <=
                   NNL_THREAD_SCRATCH_BYTES,
               "a transposed-tile task's tile, row and weight vectors must fit its thread scratch");
/* Conv form: the epilogue pass (the tile transposed into C, element by
 * element) costs about as much as 160 multiply-adds an output:
 * MobileNetV2's 160 -> 960 expansions at 7x7 ran 35% slower this way,
 * K = 960 and up faster.  With few rows (at most 32: grouped convs,
 * RegNetX's 16 channels a group) the pixel tiles cost more per output
 * than the epilogue pass does from K = 64: RegNetX-400MF's grouped 3x3
 * convs at 7x7 (K 144) 0.19 -> 0.105 ms; RegNetY's 8 a group (K 72) were
 * no faster on the Zen 5 and on the AVX2 Zen 3 ran 0.095 -> 0.063 ms at
 * 7x7, 0.090 -> 0.087 at 14x14 (min of 5 alternating processes), hence
 * TG_GROUP_MIN_K. */
#define TG_MIN_K 384
#define TG_GROUP_MIN_K 64
/* Maps of at most TG_SMALL_MAP_PIX pixels (7x7) take the tile from the
 * set's K tukr_small_k (nnl_kernel): since the tile goes out through
 * tile_t's register transposes and epi_row, not element by element, the
 * 15 of 64 lanes a 49-pixel map wastes in pixel tiles can cost more than
 * that pass. */
#define TG_SMALL_MAP_PIX 64

/* X W form with C as the accumulator (tg_run): X above TG_XW_X_MAX bytes,
 * C at most TG_XW_C_MAX, K in slices of X of TG_XW_X_SLICE (L2 2 MB on the
 * Intel machines, 1 MB on Zen 4 / 5). */
#define TG_XW_X_MAX ((uint64_t)1 << 20)
#define TG_XW_C_MAX ((uint64_t)1 << 20)
#define TG_XW_X_SLICE ((uint64_t)512 << 10)

typedef struct tg_ctx {
    const nnl_gemm_desc *d;
    const nnl_kernel *kern;
    void *const *ts;
    bool xw;                   /* X W form, else conv form */
    bool pre_b;                /* prefetch plain B rows (tg_prefetch_b) */
    bool prep;                 /* a task runs its item's item_prep (one task an item) */
    /* X W form, C as the accumulator (tg_run): this pool run's K blocks
     * [kb0, kb1) of nkb; else a tile in thread scratch, all K blocks */
    bool cacc;
    int64_t kb0, kb1;
    int64_t npix, grp, oc, oc_tiles, nkb;
    /* conv form on several threads: K split into ks parts (1: not split),
     * the part major in the task index, each part's sums into its own
     * buffer (tg_part), summed with the epilogue by tg_reduce; kc the K
     * block */
    int64_t ks, kc;
    int64_t pix[TG_MAX_PIX];   /* offsets of the broadcast vectors: real pixels, or X's rows */
    /* conv form with K at most TG_KOFF_MAX: B's row offsets, all of K,
     * computed once for every task (b_rows a task and K block was 7-8% of
     * RegNetX's grouped 3x3 at 7x7, 25 tasks of 144 rows); else NULL */
    const int64_t *koff;
} tg_ctx;
#define TG_KOFF_MAX 2048

/* How many broadcast vectors the GEMM has: X's rows (X W form), the
 * columns of B, or the wide grid's real pixels. */
static int64_t tg_count(const nnl_gemm_desc *d, bool xw) {
    return xw ? d->m : d->b_kind == NNL_BSRC_WIDE ? d->geom.oh * d->geom.ow : d->n;
}

/* Their offsets, in order (tg_count of them, at most TG_MAX_PIX). */
static void tg_columns(const nnl_gemm_desc *d, bool xw, int64_t *pix) {
    int64_t n = 0;
    if (xw)
        for (; n < d->m; n++) pix[n] = n * d->a_rs;
    else if (d->b_kind == NNL_BSRC_WIDE)
        for (int64_t oy = 0; oy < d->geom.oh; oy++)
            for (int64_t ox = 0; ox < d->geom.ow; ox++) pix[n++] = oy * d->geom.w + ox;
    else
        for (; n < d->n; n++) pix[n] = n;
}

/* Pixels a tukr call takes: 7 where that tiles n exactly and 8 does not
 * (a 7x7 map's rows), else 8. */
static int64_t tg_group(int64_t n) { return n % 8 && n % 7 == 0 ? 7 : 8; }

/* The X W form: any plain X with a float32 A8T weight, more rows than the
 * dot-product path takes. */
static bool tg_xw(const nnl_gemm_desc *d, const nnl_kernel *kern) {
    return kern->tukr && d->b_kind == NNL_BSRC_A8T && !d->b_f16 && !d->a_packed && !d->a_f16 && d->k > 0 &&
           (d->m <= TG_CONV_MAX_PIX || (d->m <= TG_MAX_PIX && d->k >= TG_MIN_K));
}

/* Channels of a tukr vector, whole PACK_A8 panels: the set's float lanes
 * (8 on AVX2, 16 on AVX-512), at least a panel (the scalar set's 1). */
static int64_t tg_unit(const nnl_kernel *kern) { return kern->dwc_lanes > NNL_MR ? kern->dwc_lanes : NNL_MR; }

/* The conv form where its transposed tiles waste fewer lanes than pixel
 * tiles of the set's nr. */
static bool tg_conv(const nnl_gemm_desc *d, const nnl_kernel *kern, const nnl_gemm_ptrs *p0) {
    if (!kern->tukr || !d->a_packed || d->a_f16 || d->b_f16 || p0->b_scale || d->y_cs) return false;
    const bool plain = d->b_kind != NNL_BSRC_WIDE;
    if (plain && !(d->b_kind == NNL_BSRC_STRIDED && d->b_cs == 1 && kern->tukr_plain_kc > 0)) return false;
    int64_t n = tg_count(d, false);
    const int64_t min_k = n <= TG_SMALL_MAP_PIX && kern->tukr_small_k > 0 ? kern->tukr_small_k : TG_MIN_K;
    if (n > TG_CONV_MAX_PIX || (d->k < min_k && (d->m > 32 || d->k < TG_GROUP_MIN_K))) return false;
    /* pixel tiles: whole ones of nr, then the tail in vectors (a third of
     * nr on the x86 sets) */
    int64_t tail = kern->nr % 3 ? kern->nr : kern->nr / 3;
    int64_t lanes_px = d->n / kern->nr * kern->nr + round_up(d->n % kern->nr, tail);
    int64_t slots = round_up(n, tg_group(n)), mv = round_up(d->m, tg_unit(kern));
    /* compare work per useful output: pixel lanes x rows of 8, against
     * pixel slots x channel lanes of 16 (bench_kernels, Zen 5, after the
     * unit-run broadcasts and the weight prefetch: 3x3 512 ch at 7x7, 49
     * of 64 lanes, 20-30% faster; 3x3 256 ch at 14x14, 196 of 208, 3%
     * faster, ResNet-50's layer3 3x3 convs 1.28-1.35 -> 1.22 ms; with a
     * 25% margin for the epilogue pass, which the tile had before those,
     * the 14x14 ones took pixel tiles) */
    const double gain = plain ? kern->tukr_plain_gain / 100.0 : 0.0;
    return (double)slots * (double)mv < (1.0 - gain) * (double)lanes_px * (double)round_up(d->m, NNL_MR);
}

bool nnl_gemm_transposed(const nnl_gemm_desc *d, const nnl_kernel *kern) {
    if (!kern) kern = nnl_kernel_get();
    nnl_gemm_ptrs p0 = {0};
    d->ptrs(d, 0, &p0);
    return !(gemv_fits(d) && d->k > 0) && !tg_xw(d, kern) && tg_conv(d, kern, &p0);
}

/* Conv form: the tile's channel o into row m0 + o of C with the epilogue
 * (through rows, mcur x npix floats, where C is the wide grid's). */
static void tg_store_conv(const tg_ctx *g, const nnl_gemm_ptrs *p, const float *tile, float *rows, int64_t m0,
                          int64_t mcur) {
    const nnl_gemm_desc *d = g->d;
    nnl_epilogue e = d->epi;
    e.bias_row = p->bias_row ? p->bias_row + m0 : NULL;
    e.bias_col = p->bias_col;
    e.res = p->res;
    /* real pixels in order: to C's rows unless C is the wide grid's */
    const bool dense = d->b_kind != NNL_BSRC_WIDE || p->y;
    const int64_t ldy = dense ? (p->y ? g->npix : d->ldc) : g->npix;
    float *y0 = dense ? (p->y ? p->y + m0 * g->npix : p->c + m0 * d->ldc) : rows;
    if (dense && e.alpha == 1.0f && !e.bias_col && (!p->res || d->res_cs == 1)) {
        /* the epilogue with the transpose, in one pass over the rows */
        e.res = p->res ? p->res + m0 * e.res_rs : NULL;
        g->kern->tile_t(y0, ldy, tile, TG_OC, g->npix, mcur, &e);
        return;
    }
    g->kern->tile_t(y0, ldy, tile, TG_OC, g->npix, mcur, NULL);
    for (int64_t o = 0; o < mcur; o++) {
        float *c = p->y ? p->y + (m0 + o) * g->npix : p->c + (m0 + o) * d->ldc;
        float *y = y0 + o * ldy;
        if (e.alpha == 1.0f && !e.bias_col && (!p->res || d->res_cs == 1)) {
            const float *res = p->res ? p->res + (m0 + o) * e.res_rs : NULL;
            g->kern->epi_row(y, y, g->npix, e.bias_row ? e.bias_row[o] : 0.0f, res, e.beta, e.act, e.act_a, e.act_b);
        } else {
            for (int64_t j = 0; j < g->npix; j++)
                y[j] = nnl_epi_apply(&e, y[j], o, p->y ? j : g->pix[j],
                                     p->res ? p->res[(m0 + o) * e.res_rs + (p->y ? j : g->pix[j]) * d->res_cs] : 0.0f);
        }
        if (!dense)
            for (int64_t j = 0; j < g->npix; j++) c[g->pix[j]] = y[j];
    }
}

/* X W form: tile row j is row j of C from column n0 (ncur of them). */
static void tg_store_xw(const tg_ctx *g, const nnl_gemm_ptrs *p, const float *tile, int64_t ldt, int64_t n0,
                        int64_t ncur) {
    const nnl_gemm_desc *d = g->d;
    nnl_epilogue e = d->epi;
    e.bias_row = p->bias_row;
    e.bias_col = p->bias_col ? p->bias_col + n0 : NULL;
    e.res = p->res;
    const bool vec = e.alpha == 1.0f && (!p->res || d->res_cs == 1);
    for (int64_t j = 0; j < d->m; j++) {
        float *c = p->c + j * d->ldc + n0;
        const float *t = tile + j * ldt;   /* may be c itself */
        const float *res = p->res ? p->res + j * e.res_rs + n0 * d->res_cs : NULL;
        if (vec) {
            /* the column bias rides as epi_row's residual (beta 1) when
             * there is no residual, else in a pass of its own */
            const float br = e.bias_row ? e.bias_row[j] : 0.0f;
            if (e.bias_col && res) {
                g->kern->epi_row(c, t, ncur, 0.0f, e.bias_col, 1.0f, NNL_ACT_NONE, 0.0f, 0.0f);
                g->kern->epi_row(c, c, ncur, br, res, e.beta, e.act, e.act_a, e.act_b);
            } else if (e.bias_col) {
                g->kern->epi_row(c, t, ncur, br, e.bias_col, 1.0f, e.act, e.act_a, e.act_b);
            } else {
                g->kern->epi_row(c, t, ncur, br, res, e.beta, e.act, e.act_a, e.act_b);
            }
        } else {
            for (int64_t o = 0; o < ncur; o++) c[o] = nnl_epi_apply(&e, t[o], j, o, res ? res[o * d->res_cs] : 0.0f);
        }
    }
}

/* Rows [n b / parts, n (b + 1) / parts) of a plain B block (1x1 convs:
 * off[] whole channel planes apart, span floats of each read) into L2.
 * The hardware prefetchers do not follow rows a plane apart, and after a
 * layer split over the threads by channels half of them sit in the other
 * core's cache: at 2 threads MobileNetV2's 14x14 projection convs (K 384
 * and 576, 2 tasks) ran no faster than on 1 (0.19 ms) until this brought
 * them in ahead (0.12).  Not for the wide grid: its taps re-read the same
 * lines, and the prefetches cost ResNets 2-3%; not on one thread, where
 * the rows are in the core's own L2 and the prefetches cost 1-2%; not on
 * 7x7 maps, whose projections (K 960, 4 lines a row) ran 5-8% slower. */
#define TG_PRE_B_MIN_PIX 100
#define TG_PRE_ALL ((int64_t)512 << 10)
static void tg_prefetch_b(const float *x, const int64_t *off, int64_t n, int64_t span, int64_t part, int64_t parts) {
    for (int64_t k = n * part / parts; k < n * (part + 1) / parts; k++)
        nnl_prefetch_l2_range(x + off[k], (size_t)span * sizeof(float));
}

/* Floats of a K part's sums, oc x npix, whole cache lines. */
static size_t tg_part_floats(int64_t oc, int64_t npix) { return ((size_t)oc * (size_t)npix + 15) / 16 * 16; }

/* K part kp's sums (channel-major) at the end of thread kp's scratch,
 * whichever thread computes them: after the tile and the join buffer at
 * its start (tg_ksplit checks the room), kept there between tg_run's two
 * pool runs. */
static float *tg_part(const tg_ctx *g, int64_t kp) {
    return (float *)g->ts[kp] + NNL_THREAD_SCRATCH_BYTES / sizeof(float) - tg_part_floats(g->oc, g->npix);
}

/* Tasks of tg_reduce: a few a part, at most one a channel. */
static int64_t tg_reduce_tasks(const tg_ctx *g) { return min64(g->oc, 4 * g->ks); }

/* C's channels [oc c / T, oc (c + 1) / T) for T tasks: the parts' sums
 * added, then the epilogue (tg_ksplit's: alpha 1, a row bias, a unit-
 * stride residual). */
static void tg_reduce(void *vctx, int64_t c, int thread) {
    (void)thread;
    const tg_ctx *g = vctx;
    const nnl_gemm_desc *d = g->d;
    nnl_gemm_ptrs p = {0};
    d->ptrs(d, 0, &p);
    const int64_t tasks = tg_reduce_tasks(g), o0 = g->oc * c / tasks, o1 = g->oc * (c + 1) / tasks;
    const nnl_epilogue *e = &d->epi;
    for (int64_t o = o0; o < o1; o++) {
        float *y = p.c + o * d->ldc;
        const float *src = tg_part(g, 0) + o * g->npix;
        for (int64_t kp = 1; kp < g->ks; kp++, src = y)
            g->kern->epi_row(y, src, g->npix, 0.0f, tg_part(g, kp) + o * g->npix, 1.0f, NNL_ACT_NONE, 0.0f, 0.0f);
        g->kern->epi_row(y, src, g->npix, p.bias_row ? p.bias_row[o] : 0.0f, p.res ? p.res + o * e->res_rs : NULL,
                         e->beta, e->act, e->act_a, e->act_b);
    }
}

/* K parts for the conv form on a plain B (1x1 convs on small maps), one a
 * thread, where the input has more channels than the output (projections,
 * DenseNet's 1x1 convs): each thread then reads only the input channels
 * of its K part, which a channel-split layer before it (depthwise,
 * BatchNorm, a conv) wrote on the same thread.  Split by output channels
 * every thread read all of them, half just written by the other core:
 * bench_locality mode 1 (2 threads, 384 -> 64 at 14x14) 53 us, against
 * 35 us for two K halves alone on the same input (untouched: 36 us).
 * Needs the parts' sums to fit at the end of the thread scratch. */
#define TG_KSPLIT_MIN_K 128
/* and at least this much of K a part (it was half of AVX-512's K block,
 * when that was 160) */
#define TG_KSPLIT_MIN_PART 80
static int64_t tg_ksplit(const nnl_gemm_desc *d, const nnl_gemm_ptrs *p0, bool xw, int64_t npix, int threads) {
    if (xw || threads <= 1 || d->batch != 1 || d->b_kind == NNL_BSRC_WIDE || p0->y) return 1;
    if (d->k < TG_KSPLIT_MIN_K || d->k < 2 * d->m || d->epi.alpha != 1.0f || p0->bias_col ||
        (p0->res && d->res_cs != 1))
        return 1;
    const int64_t ks = threads;
    if (d->k / ks < TG_KSPLIT_MIN_PART) return 1;
    const size_t need = TG_TILE_FLOATS(npix) + NNL_TUKR_JOIN_FLOATS(KC_MAX) + tg_part_floats(d->m, npix);
    return need * sizeof(float) <= NNL_THREAD_SCRATCH_BYTES ? ks : 1;
}

/* First output channel of task q of an item (g->oc for q = oc_tiles):
 * units [q U / T, (q + 1) U / T) of the U vectors of channels. */
static int64_t tg_chan(const tg_ctx *g, int64_t q) {
    const int64_t vl = tg_unit(g->kern), units = (g->oc + vl - 1) / vl;
    return min64(q * units / g->oc_tiles * vl, g->oc);
}

/* d's item_prep over its items, before a GEMM whose tasks do not run it. */
typedef struct prep_job {
    const nnl_gemm_desc *d;
} prep_job;
static void prep_task(void *ctx, int64_t i, int thread) {
    (void)thread;
    const prep_job *j = ctx;
    j->d->item_prep(j->d, i);
}
static void prep_items(const nnl_gemm_desc *d, nnl_pool *pool) {
    prep_job j = {.d = d};
    nnl_pool_run(pool, d->batch, prep_task, &j);
}

/* The conv form's B row offsets for K rows [k0, k0 + kc): g->koff's, or
 * b_rows' into buf. */
static const int64_t *tg_rows(const tg_ctx *g, int64_t k0, int64_t kc, int64_t *buf) {
    if (g->koff) return g->koff + k0;
    b_rows(g->d, k0, kc, buf);
    return buf;
}

/* Weight lines a tukr call asks for itself at most (tg_task). */
#define TG_PRE_BURST 64

static void tg_task(void *vctx, int64_t t, int thread) {
    const tg_ctx *g = vctx;
    const nnl_gemm_desc *d = g->d;
    /* task q of an item's K part: channels [tg_chan(q), tg_chan(q + 1)),
     * K rows [klo, klo + kn) in nkb blocks */
    const int64_t per = g->oc_tiles * g->ks, kp = t % per / g->oc_tiles;
    const int64_t q = t % g->oc_tiles;
    int64_t item = t / per, o0 = tg_chan(g, q);
    const int64_t klo = d->k * kp / g->ks, kn = d->k * (kp + 1) / g->ks - klo;
    const int64_t nkb = g->ks > 1 ? (kn + g->kc - 1) / g->kc : g->nkb;
#define TG_KB(b) (klo + k_split(kn, nkb, (b)))
    int64_t ocur = tg_chan(g, q + 1) - o0;
    if (g->prep) d->item_prep(d, item);
    nnl_gemm_ptrs p = {0};
    d->ptrs(d, item, &p);
    if (!g->xw) p.b += thread * d->b_copy_floats;
    float *tile = g->ts[thread], *rows = tile + g->npix * TG_OC, *join = tile + TG_TILE_FLOATS(g->npix);
    /* the weight's panels and the broadcast vectors' origin */
    const float *w = g->xw ? p.b : p.a, *x = g->xw ? p.a : p.b;
    int64_t boff[KC_MAX];
    /* whole 7- or 8-pixel groups, as many as the call takes */
    const int np = (int)((ocur + NNL_MR - 1) / NNL_MR);
    const int64_t grp = nnl_tukr_px(np) / g->grp * g->grp;
    /* plain B: the pixels' span in a row, the next K block's rows */
    const float *xb = x + g->pix[0];
    const int64_t span = g->pix[g->npix - 1] - g->pix[0] + 1;
    int64_t bnext_buf[KC_MAX];
    const int64_t *bnext = bnext_buf;
    /* the sums' rows: the tile's, or C's own (cacc) */
    float *const t0 = g->cacc ? p.c + o0 : tile;
    const int64_t ldt = g->cacc ? d->ldc : TG_OC;
    const int64_t groups = (g->npix + grp - 1) / grp;
    const bool joins = g->kern->tukr_lanes == 16;
    /* all of the task's B rows at once, then each next block again while
     * the calls go: the other core's lines arrive sooner with every
     * request in flight (bench_locality mode 1, 384 -> 64 at 14x14 on 2
     * threads: 58 -> 50 us; the first block alone up front, 58; all
     * blocks up front without the per-block requests, 56), MobileNetV2's
     * 14x14 projections 5-13% faster in the network, DenseNet-121,
     * GoogLeNet and ResNet-50 1%); at most TG_PRE_ALL bytes of them, half
     * of the smallest L2 seen (pre_b: the conv form, K from block 0) */
    const int64_t pre_nkb = !g->pre_b ? 0 : kn * span * (int64_t)sizeof(float) <= TG_PRE_ALL ? nkb : 1;
    for (int64_t b2 = 0; b2 < pre_nkb; b2++) {
        const int64_t k2 = TG_KB(b2), c2 = TG_KB(b2 + 1) - k2;
        tg_prefetch_b(xb, tg_rows(g, k2, c2, bnext_buf), c2, span, 0, 1);
    }
    const int64_t kb0 = g->ks > 1 ? 0 : g->kb0, kb1 = g->ks > 1 ? nkb : g->kb1;
    for (int64_t kb = kb0; kb < kb1; kb++) {
        int64_t k0 = TG_KB(kb), kc = TG_KB(kb + 1) - k0;
        const int64_t *bo = boff;
        if (g->xw)
            for (int64_t kk = 0; kk < kc; kk++) boff[kk] = (k0 + kk) * d->a_cs;
        else
            bo = tg_rows(g, k0, kc, boff);
        const int64_t kcn = g->pre_b && kb + 1 < nkb ? TG_KB(kb + 2) - (k0 + kc) : 0;
        if (kcn) bnext = tg_rows(g, k0 + kc, kcn, bnext_buf);
        const float *a = w + (o0 / NNL_MR * d->k + k0) * NNL_MR;
        /* The weight slice the task reads next, into L2 a share a call
         * from the second call of a block on (the first joins or reads
         * this block's): this K block's successor, or after the last the
         * next task's first (a thread claims its range's tasks in order).
         * Read from L3 at the start of each block it stalled the block's
         * first call: RegNetX's 24 1x1 convs 400 -> 400 at 7x7 0.187 ->
         * 0.175 ms in the network (ORT 0.157; alone, weight in L2, 0.157),
         * on Zen 4 the network 2.1% faster at 1 and 2 threads (avx512),
         * 2.8% (avx2). */
        const float *wn = NULL;
        int64_t wn_kc = 0, wn_np = 0;
        if (groups > 1) {
            if (kb + 1 < kb1) {
                wn = a + kc * NNL_MR, wn_kc = TG_KB(kb + 2) - (k0 + kc), wn_np = np;
            } else if (g->ks == 1 && q + 1 < g->oc_tiles) {
                const int64_t o1 = tg_chan(g, q + 1), oc1 = tg_chan(g, q + 2) - o1;
                wn = w + (o1 / NNL_MR * d->k + TG_KB(kb0)) * NNL_MR;
                wn_kc = TG_KB(kb0 + 1) - TG_KB(kb0), wn_np = (oc1 + NNL_MR - 1) / NNL_MR;
            }
        }
        for (int64_t j0 = 0; j0 < g->npix; j0 += grp) {
            if (kcn) tg_prefetch_b(xb, bnext, kcn, span, j0 / grp, groups);
            int64_t npre = 0, l0_pre = 0;
            if (wn && j0 > 0) {
                /* this call's share of the slice's lines, into L2.  Past
                 * TG_PRE_BURST of them, asked one a K step by the kernel
                 * where it takes a list, in the order the next block
                 * reads them (its K steps, each across the panels): all
                 * at once before the call, a 7x7 map's 1x1 convs (512 K
                 * steps a block, 7 calls, 256 lines a call) ran 4-8%
                 * faster in ResNet-50 with no requests at all; spread by
                 * the kernel ResNet-50's and ResNeXt's 1x1 convs at 7x7
                 * run 10-18% faster, ResNet-34's 3x3s at 7x7 10% (Zen 5,
                 * 1 thread: the networks 1.4-2.3%; 2 threads within
                 * noise).  Listed panel by panel, the last panels' lines
                 * came late and the gain was gone.  Shorter shares (ViT-B's
                 * MatMuls, 14x14 maps) are asked here a panel's range at
                 * a time: line by line across the panels, ViT-B's MatMuls
                 * ran 2-5% slower. */
                const int64_t part = j0 / grp - 1, parts = groups - 1, lines = wn_kc * NNL_MR / LINE_FLOATS;
                const int64_t l0 = lines * part / parts, l1 = lines * (part + 1) / parts;
                const bool listed = g->kern->tukr_pre && (l1 - l0) * wn_np > TG_PRE_BURST;
                if (listed) {
                    /* the kernel's kc lines, the rest here (in the same order) */
                    const int64_t lines_n = (l1 - l0) * wn_np;
                    npre = min64(lines_n, kc);
                    l0_pre = l0;
                    for (int64_t e = npre; e < lines_n; e++)
                        nnl_prefetch_l2(wn + e % wn_np * d->k * NNL_MR + (l0 + e / wn_np) * LINE_FLOATS);
                } else
                    for (int64_t qq = 0; qq < wn_np; qq++)
                        nnl_prefetch_l2_range(wn + qq * d->k * NNL_MR + l0 * LINE_FLOATS,
                                              (size_t)((l1 - l0) * LINE_FLOATS) * sizeof(float));
            }
            /* the K block's first call joins the panels, the others read them joined */
            const bool joined = joins && j0 > 0;
            nnl_tukr_args u = {
                .kc = kc,
                .a = joined ? join : a,
                .a_ps = joined ? kc * 16 : d->k * NNL_MR,
                .b = x,
                .b_off = bo,
                .pix = g->pix + j0,
                .t = t0 + j0 * ldt,
                .ldt = ldt,
                .np = np,
                .nj = (int)min64(grp, g->npix - j0),
                .accumulate = kb > 0,
                .join = joins && j0 == 0 ? join : NULL,
                .pre = npre ? (const char *)(wn + l0_pre * LINE_FLOATS) : NULL,
                .pre_ps = d->k * NNL_MR * (int64_t)sizeof(float),
                .pre_n = npre,
                .pre_np = (int)wn_np,
            };
            g->kern->tukr(&u);
        }
    }
#undef TG_KB
    if (g->ks > 1) {
        /* this part's sums, channel-major, for tg_reduce */
        g->kern->tile_t(tg_part(g, kp) + o0 * g->npix, g->npix, tile, TG_OC, g->npix, ocur, NULL);
        return;
    }
    if (g->kb1 < g->nkb) return;   /* cacc: later pool runs add the rest of K */
    if (g->xw)
        tg_store_xw(g, &p, t0, ldt, o0, ocur);
    else
        tg_store_conv(g, &p, tile, rows, o0, ocur);
}

/* Tasks per item: at most TG_OC channels each, as many as the threads
 * share evenly; tg_task gives them equal numbers of the set's vectors of
 * channels (a tukr vector: 8 channels on AVX2, 16 on AVX-512), give or
 * take one.  A 256-channel conv as 5 tasks of 48 and one of 16 left 2
 * threads 144 and 112 channels; 6 tasks of 40-48 leave them 128 each. */
static int64_t tg_tasks(int64_t oc, int64_t batch, int threads, int64_t unit) {
    int64_t t = (oc + TG_OC - 1) / TG_OC;
    while (threads > 1 && batch * t % threads && t < (oc + unit - 1) / unit) t++;
    return t;
}

/* The conv form's K block: the set's tukr_plain_kc on the plain B of 1x1
 * convs, and on the wide grid from TG_WIDE_LONG_K_PIX pixels on where it
 * is the longer one (avx512: 512 against 160; fewer passes over the sums,
 * the panels joined fewer times): 3x3 convs at 14x14 (256 channels,
 * ResNet layer3) 4-9% faster in the networks with 512 against 160 (Zen 5,
 * 1 thread), at 7x7 (512 channels) 3-7% (1 and 2 threads).  At 7x7 the
 * 9.4 MB weights come from memory: while the next block's weight was
 * asked into L2 all at once before each of a block's 7 calls, 512 was
 * 1-4% slower there; tukr now asks for it one line a K step (tg_task).
 * Smaller maps keep 160. */
#define TG_WIDE_LONG_K_PIX 49

static void tg_run(const nnl_gemm_desc *d, const nnl_gemm_ptrs *p0, const nnl_kernel *kern, bool xw, nnl_pool *pool,
                   void *const *ts) {
    tg_ctx g = {.d = d, .kern = kern, .ts = ts, .xw = xw};
    int64_t koff[TG_KOFF_MAX];
    if (!xw && d->k <= TG_KOFF_MAX) {
        b_rows(d, 0, d->k, koff);
        g.koff = koff;
    }
    g.npix = tg_count(d, xw);
    tg_columns(d, xw, g.pix);
    g.grp = tg_group(g.npix);
    g.oc = xw ? d->n : d->m;
    g.ks = tg_ksplit(d, p0, xw, g.npix, nnl_pool_threads(pool));
    /* K parts take the threads: whole TG_OC tiles of channels in each */
    g.oc_tiles = tg_tasks(g.oc, d->batch, g.ks > 1 ? 1 : nnl_pool_threads(pool), tg_unit(kern));
    g.pre_b = !xw && d->b_kind != NNL_BSRC_WIDE && nnl_pool_threads(pool) > 1 && g.npix >= TG_PRE_B_MIN_PIX;
    g.prep = d->item_prep && !xw && g.ks == 1 && g.oc_tiles == 1;
    if (d->item_prep && !g.prep) prep_items(d, pool);
    const bool plain = !xw && d->b_kind != NNL_BSRC_WIDE;
    const bool long_k = !xw && d->b_kind == NNL_BSRC_WIDE && g.npix >= TG_WIDE_LONG_K_PIX &&
                        kern->tukr_plain_kc > kern->kc;
    const int64_t kc = plain || long_k ? kern->tukr_plain_kc : kern->kc;
    g.kc = kc;
    g.nkb = (d->k + kc - 1) / kc;
    if (g.ks > 1) {
        nnl_pool_run(pool, g.ks * g.oc_tiles, tg_task, &g);
        nnl_pool_run(pool, tg_reduce_tasks(&g), tg_reduce, &g);
        return;
    }
    /* X W with an X larger than L2 and a C well inside it: K in runs of
     * blocks whose slice of X stays in L2, C accumulating between them,
     * instead of every task streaming all of X (ViT-B's fc2, X 197 x 3072
     * = 2.4 MB, read by 16 tasks from beyond L2: 69% of the FMA ceiling
     * in bench_kernels against 86-88% for fc1 and qkv).  Needs whole
     * 16-channel vectors (the tile stores into C's rows) and unit-stride
     * residuals. */
    const uint64_t xb = (uint64_t)d->m * (uint64_t)d->k * sizeof(float);
    const uint64_t cb = (uint64_t)d->m * (uint64_t)d->n * sizeof(float);
    g.cacc = xw && xb > TG_XW_X_MAX && cb <= TG_XW_C_MAX && d->n % 16 == 0 && (!p0->res || d->res_cs == 1);
    const int64_t per = g.cacc ? (int64_t)(TG_XW_X_SLICE / ((uint64_t)d->m * sizeof(float)) / (uint64_t)kc) : g.nkb;
    for (g.kb0 = 0; g.kb0 < g.nkb; g.kb0 = g.kb1) {
        g.kb1 = min64(g.nkb, g.kb0 + (per > 0 ? per : 1));
        nnl_pool_run(pool, d->batch * g.oc_tiles, tg_task, &g);
    }
}

/* Whether row tiles (row_tiles) beat gap tiles on the wide grid of d: a
 * gap tile's pass through a stack tile is a fixed cost a call, which
 * counts where K is short (3-channel stems: K 27); a row's narrow last
 * tile runs whole vectors at a lower rate.  Xeon (1 thread, 10 alternated
 * runs): MobileNetV2's and SqueezeNet's stems (ow 112, 111; K 27) 10-11%
 * faster on avx512, 4-6% on avx2; a 7x7 stem (K 147) even; 3x3 convs at
 * ow 55 and 56 (K 144) 2-8% slower on both.  Past ROW_TILES_MAX_K, or
 * where the narrow tile wastes more lanes than the grid's virtual columns
 * (plus two), gap tiles stay. */
#define ROW_TILES_MAX_K 64
static bool row_tiles_pay(const nnl_gemm_desc *d, const nnl_kernel *kern) {
    const nnl_conv_geom *q = &d->geom;
    const int64_t lanes = kern->nr % 3 ? kern->nr : kern->nr / 3, tail = q->ow % kern->nr;
    const int64_t waste = tail ? round_up(tail, lanes) - tail : 0;
    return d->k <= ROW_TILES_MAX_K && waste <= q->w - q->ow + 2;
}

/* Whether a row-split GEMM packs B once into the shared prepack (d's
 * scratch holds it, B is not read in place) instead of in every task. */
static bool shared_prepack(const nnl_gemm_desc *d, bool in_place) {
    const size_t bytes = nnl_gemm_prepack_bytes(d->batch, d->k, d->n);
    return !in_place && d->b_prepack && bytes > 0 && d->b_prepack_bytes >= bytes;
}

/* ---- blocks of small GEMMs on several threads ----------------------------
 * A GEMM of at most SMALL_MACS multiply-adds runs in a few tens of
 * microseconds, where the large GEMMs' rule (4 blocks a thread, N halved
 * first, then M) costs more than it balances: MnasNet's 240 -> 40 1x1
 * conv at 14x14 went to 6 blocks of 24 or 16 rows by 96, 96 and 4
 * columns, its B (plain rows of 196 floats, not read in place) packed
 * once more for the second row block, and ran as long on 2 threads as on
 * 1 (0.044 against 0.043 ms).  Here every split into m_tiles x n_tiles
 * blocks (whole MR panels, whole nr tiles but the last) is costed in
 * multiply-adds with what it packs, and the pool's claiming (nnl_pool:
 * a contiguous range a thread, then the others' in turn) simulated; the
 * cheapest is kept. */
#define SMALL_MACS ((int64_t)8 << 20)
/* Costs in multiply-adds (about 60 a nanosecond on a Zen 4 core): a
 * task's fixed part (its call, its first A and C lines), a float packed
 * (a strided read and a store), a pool run's round trip with the shared
 * prepack's wait (MnasNet's 288 -> 48 at 14x14 on 2 threads: 0.063 ms as
 * 2 x 3 blocks with B prepacked, 0.045 as 1 x 3 blocks packing their own
 * columns). */
#define SMALL_TASK_MACS 4096
#define SMALL_PACK_MACS 12
#define SMALL_RUN_MACS 600000
#define SMALL_TILES_MAX 64

/* When the last of tasks[0..n) ends on `threads` threads claiming as
 * nnl_pool does. */
static int64_t pool_makespan(const int64_t *tasks, int64_t n, int threads) {
    int64_t next[SMALL_TILES_MAX], end[SMALL_TILES_MAX], busy[SMALL_TILES_MAX];
    for (int t = 0; t < threads; t++) {
        next[t] = n * t / threads;
        end[t] = n * (t + 1) / threads;
        busy[t] = 0;
    }
    for (int64_t left = n; left > 0; left--) {
        int t = 0;
        for (int u = 1; u < threads; u++)
            if (busy[u] < busy[t]) t = u;
        int r = t;
        while (next[r] >= end[r]) r = (r + 1) % threads;
        busy[t] += tasks[next[r]++];
    }
    int64_t span = 0;
    for (int t = 0; t < threads; t++)
        if (busy[t] > span) span = busy[t];
    return span;
}

/* g's block sizes and counts for a small GEMM on `threads` threads, B
 * read in place (in_place) or packed; mc and nc at most the caps g holds.
 * False, g unchanged, where no split fits them. */
static bool small_tiles(gemm_ctx *g, int threads, bool in_place) {
    const nnl_gemm_desc *d = g->d;
    const int64_t nr = g->kern->nr, lanes = nr % 3 ? nr : nr / 3;
    const int64_t mu = (d->m + NNL_MR - 1) / NNL_MR, full = d->n / nr, nu = (d->n + nr - 1) / nr;
    int64_t best = -1, tasks[SMALL_TILES_MAX];
    const int64_t mc_cap = g->mc, nc_cap = g->nc;
    const int64_t mt0 = (d->m + mc_cap - 1) / mc_cap;   /* the fewest row blocks the cap allows */
    for (int64_t mt = mt0; mt <= mu && mt < mt0 + threads; mt++)
        for (int64_t nt = 1, v = 0; nt <= nu && nt <= 2 * threads; nt += v, v = !v) {
            const int64_t mc = (mu + mt - 1) / mt * NNL_MR;
            /* nr tiles shared evenly: the short last one with the others
             * (v = 0), or on its own (v = 1) */
            const int64_t nc = (v && full >= nt ? (full + nt - 1) / nt : (nu + nt - 1) / nt) * nr;
            const int64_t mtiles = (d->m + mc - 1) / mc, ntiles = (d->n + nc - 1) / nc;
            if (mtiles != mt || mc > mc_cap || nc > nc_cap || mtiles * ntiles > SMALL_TILES_MAX) continue;
            const bool pre = mtiles > 1 && shared_prepack(d, in_place);
            int64_t n = 0;
            for (int64_t i = 0; i < mtiles; i++)
                for (int64_t j = 0; j < ntiles; j++) {
                    const int64_t mcur = min64(mc, d->m - i * mc), ncur = min64(nc, d->n - j * nc);
                    const int64_t packed = in_place ? ncur % nr : pre ? 0 : ncur;
                    tasks[n++] = round_up(mcur, NNL_MR) * round_up(ncur, lanes) * d->k + SMALL_TASK_MACS +
                                 SMALL_PACK_MACS * packed * d->k;
                }
            int64_t cost = pool_makespan(tasks, n, threads);
            if (pre) cost += SMALL_RUN_MACS + SMALL_PACK_MACS * d->k * d->n / threads;
            if (best < 0 || cost < best) {
                best = cost;
                g->m_tiles = mtiles;
                g->n_tiles = ntiles;
                g->mc = mc;
                g->nc = nc;
            }
        }
    return best >= 0;
}

nnl_status nnl_gemm(const nnl_gemm_desc *d, const nnl_kernel *kern, nnl_pool *pool,
                    void *const *thread_scratch) {
    if (!kern) kern = nnl_kernel_get();
    if (d->m <= 0 || d->n <= 0 || d->batch <= 0) return NNL_OK;
    if (gemv_fits(d) && d->k > 0) {
        if (d->item_prep) prep_items(d, pool);
        gemv_run(d, kern, pool);
        return NNL_OK;
    }
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "GEMM called without thread scratch");
    if (kern->kc > KC_MAX) return nnl_fail(NNL_ERR_INTERNAL, "GEMM kernel %s: K block over %d", kern->name, KC_MAX);
    nnl_gemm_ptrs p0 = {0};
    d->ptrs(d, 0, &p0);
    bool xw = tg_xw(d, kern);
    if (xw || tg_conv(d, kern, &p0)) {
        tg_run(d, &p0, kern, xw, pool, thread_scratch);
        return NNL_OK;
    }
    if (d->item_prep) prep_items(d, pool);
    int threads = nnl_pool_threads(pool);
    const int nr = kern->nr;
    gemm_ctx g = {.d = d, .kern = kern, .ts = thread_scratch};
    /* a float16 A is widened into the run-time A block, which holds MC_RT rows */
    g.mc = min64(round_up(d->m, NNL_MR), d->a_packed && !d->a_f16 ? MC_PACKED : MC_RT);
    if ((d->a_f16 || d->b_f16) && kern->kc > NNL_KC_MAX)
        return nnl_fail(NNL_ERR_INTERNAL, "GEMM kernel %s: K block %d exceeds %d", kern->name, kern->kc, NNL_KC_MAX);
    g.nc = min64(kern->nc, round_up(d->n, nr));
    g.nkb = d->k > 0 ? (d->k + kern->kc - 1) / kern->kc : 1;
    g.b_floats = (size_t)kern->kc * (size_t)kern->nc;
    size_t need = (g.b_floats + (size_t)MC_RT * (size_t)kern->kc) * sizeof(float);
    /* The wide grid's tiles store the real output themselves, dropping
     * their virtual pixels (nnl_ukr_args.gap), where a tile meets at most
     * one row end (ow >= nr) and no GELU runs on the stored tile; else C
     * goes through thread scratch and wide_out (a pass over the output: a
     * quarter of SqueezeNet's stem). */
    g.gap_y = p0.y && d->epi.act != NNL_ACT_GELU && d->geom.ow >= nr;
    g.row_tiles = g.gap_y && row_tiles_pay(d, kern);
    if (p0.y && !g.gap_y) {
        /* the task's C block (mc x nc) follows in thread scratch: as many
         * rows as fit (MC_PACKED x 384 floats, 768 KB, on every set) */
        const int64_t room = ((int64_t)(NNL_THREAD_SCRATCH_BYTES - min64((int64_t)need, (int64_t)NNL_THREAD_SCRATCH_BYTES)) /
                              (int64_t)sizeof(float)) / kern->nc / NNL_MR * NNL_MR;
        if (room < NNL_MR) return nnl_fail(NNL_ERR_INTERNAL, "GEMM kernel %s: no room for the wide grid's C block", kern->name);
        g.mc = min64(g.mc, room);
        need += (size_t)g.mc * (size_t)kern->nc * sizeof(float);
    }
    if (need > NNL_THREAD_SCRATCH_BYTES)
        return nnl_fail(NNL_ERR_INTERNAL, "GEMM kernel %s needs %zu bytes of thread scratch", kern->name, need);
    const bool in_place = b_in_place(d, &p0, kern);
    /* small GEMMs on maps below 4 tiles a thread (14x14, 7x7): small_tiles */
    const bool small = threads > 1 && 4 * threads <= SMALL_TILES_MAX && d->batch == 1 &&
                       d->n < 4 * threads * nr && d->k <= SMALL_MACS &&
                       d->m <= SMALL_MACS / (d->n * (d->k > 0 ? d->k : 1)) &&
                       small_tiles(&g, threads, in_place);
    if (!small) {
        /* Enough tasks that threads finish together: split N first (keeps the
         * whole A block per task), then M. */
        int64_t want = threads > 1 ? 4 * (int64_t)threads : 1;
        for (;;) {
            g.m_tiles = (d->m + g.mc - 1) / g.mc;
            g.n_tiles = (d->n + g.nc - 1) / g.nc;
            if (d->batch * g.m_tiles * g.n_tiles >= want) break;
            if (g.nc > 2 * nr)
                g.nc = round_up(g.nc / 2, nr);
            else if (g.mc > 4 * NNL_MR)
                g.mc = round_up(g.mc / 2, NNL_MR);
            else
                break;
        }
        /* the same counts of blocks, evened out: halving left 576 rows as
         * 256 + 256 + 64 and 196 columns as 96 + 96 + 4 (MobileNetV2's 96 ->
         * 576 at 14x14 on 2 threads: 1.5x its 1-thread time) */
        g.mc = round_up((d->m + g.m_tiles - 1) / g.m_tiles, NNL_MR);
        g.nc = round_up((d->n + g.n_tiles - 1) / g.n_tiles, nr);
        g.m_tiles = (d->m + g.mc - 1) / g.mc;
        g.n_tiles = (d->n + g.nc - 1) / g.nc;
    }
    if (g.m_tiles > 1 && shared_prepack(d, in_place)) {
        g.pre = d->b_prepack;
        g.npad = round_up(d->n, nr);
        nnl_pool_run(pool, d->batch * g.nkb * g.n_tiles, prepack_task, &g);
    }
    nnl_pool_run(pool, d->batch * g.m_tiles * g.n_tiles, gemm_task, &g);
    return NNL_OK;
}
