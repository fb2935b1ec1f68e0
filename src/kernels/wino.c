/*
 * Winograd F(4x4, 3x3) driver (layout and plan in kernels/wino.h).  The
 * transforms of 16 tiles at a time come from the kernel set; this file
 * gathers patches, scatters outputs, transforms PACK_A8 weights on the fly
 * and runs the 36 products through the kernel set's GEMM microkernel.
 * Shared scratch: V (36 x IC x NT floats, in NR-column panels), M (36 x OC
 * x NT), the block's tile table.  Thread scratch: one task's transformed
 * weight chunk (36 x WMB x WKC floats).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/wino.h"

/* Upper bound of V + M per tile block.  Every task streams the whole
 * block's V, so V should stay in the last-level cache: FCN's head (2048
 * input channels) ran 5-8% faster in blocks of 48 tiles (V 14 MB) than in
 * one block of 96 (28 MB), although a second block transforms every
 * weight a second time. */
#define WINO_BLOCK_BYTES ((size_t)20 << 20)
#define LANES 16
/* Block capacity is a multiple of 48: of LANES and of every kernel's NR
 * (16, 24, 48), so V's panels and the 16-tile transform groups tile it. */
#define UNIT 48
/* A task owns WMB output channels; it transforms their weights WKC input
 * channels at a time into thread scratch (36 * 64 * 64 floats = 590 KB,
 * which with the task's 36 x 64 x NT accumulators stays in L2), then
 * multiplies that chunk against V.  WMB sets how often V is read: once
 * per WMB output channels.  (64/128, 32/128, 128/32 and 128/64 measured
 * within noise of 64/64 on FCN's head and layer4.) */
#define WMB 64
#define WKC 64
/* gemm_task's chunk: 36 points, each WMB x WKC plus 16 floats of padding;
 * after it, for a float16 PACK_A8 weight, two panels' taps widened (2 x WKC
 * x 72 floats) */
#define UBUF_FLOATS ((size_t)36 * (WMB * WKC + 16))
_Static_assert((UBUF_FLOATS + 2 * WKC * 72) * sizeof(float) <= NNL_THREAD_SCRATCH_BYTES,
               "a task's transformed weight chunk must fit its thread scratch");
/* Automatic choice on PACK_A8 weights (nnl_wino_choose): with the
 * transforms taken from a padded plane in runs, 64-channel convs at 56x56
 * run 25% and 128-channel ones at 28x28 20% faster than direct (ResNet-18,
 * 1 thread, Xeon avx512); 256 at 14x14 (16 tiles) and 512 at 7x7 ran 12%
 * and 3x slower.  Files without a recorded choice keep AUTO_OLD_MIN_CH.
 * Narrower convs (32 to 63 channels on a side) pay on big maps only, and
 * only with 16-lane kernels (nnl_kernel.wino_narrow, checked at run time;
 * single convs, 1 thread, Xeon, Winograd / direct): 128 -> 32 at 56x56
 * (DenseNet-121's first block) 0.67 on avx512 (0.66 at 2 threads) but
 * 1.26 on the avx2 set; 32 -> 128 at 54x54 (SqueezeNet 1.0) 0.70 / 0.78 /
 * 0.87; at 28x28 (49 tiles) 128 -> 32 0.96-0.99, 32 -> 128 1.02-1.08,
 * 48 -> 192 0.86 but 1.11 at 2 threads; 16 -> 64 at 55x55 1.10. */
#define AUTO_MIN_CH 64
#define AUTO_OLD_MIN_CH 256
#define AUTO_MIN_TILES 32
#define AUTO_MAX_DIL 4
#define AUTO_NARROW_MIN_CH 32
#define AUTO_NARROW_MIN_TILES 128

/* G of F(4, 3) for points 0, 1, -1, 2, -1/2, infinity (kernels/wino_xform.h):
 * row j = (1, a_j, a_j^2) / prod_{l != j} (a_j - a_l). */
static const double G[6][3] = {
    {1.0, 0, 0},
    {-1.0 / 3, -1.0 / 3, -1.0 / 3},
    {1.0 / 3, -1.0 / 3, 1.0 / 3},
    {1.0 / 15, 2.0 / 15, 4.0 / 15},
    {-16.0 / 15, 8.0 / 15, -4.0 / 15},
    {0, 0, 1},
};

bool nnl_wino_ok(const nnl_conv_params *p) {
    return p->group == 1 && p->kh == 3 && p->kw == 3 && p->sh == 1 && p->sw == 1;
}

uint64_t nnl_wino_bytes(int64_t oc, int64_t ic) {
    return 36u * (uint64_t)((oc + 7) / 8 * 8) * (uint64_t)ic * sizeof(float);
}

void nnl_wino_pack(float *dst, const float *w, int64_t oc, int64_t ic) {
    int64_t ocp = (oc + 7) / 8 * 8, P = ocp * ic;
    for (int64_t o = 0; o < ocp; o++)
        for (int64_t i = 0; i < ic; i++) {
            double u[36] = {0}, t[6][3];
            if (o < oc) {
                const float *g = w + (o * ic + i) * 9;
                for (int r = 0; r < 6; r++)
                    for (int c = 0; c < 3; c++)
                        t[r][c] = G[r][0] * g[c] + G[r][1] * g[3 + c] + G[r][2] * g[6 + c];
                for (int r = 0; r < 6; r++)
                    for (int c = 0; c < 6; c++)
                        u[6 * r + c] = t[r][0] * G[c][0] + t[r][1] * G[c][1] + t[r][2] * G[c][2];
            }
            for (int xi = 0; xi < 36; xi++) dst[xi * P + ((o / 8) * ic + i) * 8 + o % 8] = (float)u[xi];
        }
}

/* Tile grid: th x tw tiles per phase, dh x dw phases per image. */
typedef struct tiles {
    int64_t th, tw, per_img, total;
} tiles;

static tiles tile_grid(const nnl_conv_params *p) {
    tiles t;
    int64_t ohp = (p->oh + p->dh - 1) / p->dh, owp = (p->ow + p->dw - 1) / p->dw;
    t.th = (ohp + 3) / 4;
    t.tw = (owp + 3) / 4;
    t.per_img = p->dh * p->dw * t.th * t.tw;
    t.total = p->n * t.per_img;
    return t;
}

static _Atomic int auto_mode = -1;   /* -1 unread, 0 never, 1 heuristic, 2 always */

int nnl_wino_mode(void) {
    int m = atomic_load_explicit(&auto_mode, memory_order_relaxed);
    if (m >= 0) return m;
    /* NNL_WINOGRAD=0|1 forces the choice for every eligible conv: a testing
     * and benchmarking aid, like NNL_ISA. */
    const char *e = getenv("NNL_WINOGRAD");
    m = !e || !*e ? 1 : (strcmp(e, "0") == 0 ? 0 : 2);
    atomic_store_explicit(&auto_mode, m, memory_order_relaxed);
    return m;
}

static bool wino_rule(const nnl_conv_params *p, int64_t min_ch, bool narrow) {
    if (!nnl_wino_ok(p) || p->n <= 0 || p->oh <= 0 || p->ow <= 0) return false;
    int m = nnl_wino_mode();
    if (m != 1) return m == 2;
    if (p->dh > AUTO_MAX_DIL || p->dw > AUTO_MAX_DIL) return false;
    const int64_t tiles = tile_grid(p).total, least = p->c < p->oc ? p->c : p->oc;
    return (least >= min_ch && tiles >= AUTO_MIN_TILES) ||
           (narrow && least >= AUTO_NARROW_MIN_CH && tiles >= AUTO_NARROW_MIN_TILES);
}

bool nnl_wino_choose(const nnl_conv_params *p) { return wino_rule(p, AUTO_MIN_CH, true); }

bool nnl_wino_narrow(const nnl_conv_params *p) { return p->c < AUTO_MIN_CH || p->oc < AUTO_MIN_CH; }

bool nnl_wino_auto(const nnl_conv_params *p, const nnl_kernel *kern) {
    if (p->wino_pick == NNL_WINO_RULE) return wino_rule(p, AUTO_OLD_MIN_CH, false);
    if (p->wino_pick != NNL_WINO_YES || !nnl_wino_ok(p)) return false;
    return !kern || kern->wino_narrow || !nnl_wino_narrow(p) || nnl_wino_mode() == 2;
}

/* Tiles per block: a multiple of UNIT, as many as the budget allows. */
static int64_t block_tiles(const nnl_conv_params *p, const tiles *t) {
    int64_t all = (t->total + UNIT - 1) / UNIT * UNIT;
    int64_t per = 36 * (p->c + p->oc) * (int64_t)sizeof(float);
    int64_t fit = (int64_t)(WINO_BLOCK_BYTES / (size_t)per) / UNIT * UNIT;
    if (fit < UNIT) fit = UNIT;
    return all < fit ? all : fit;
}

/* Where tile t sits: image, output origin (oy0, ox0) of its (0, 0)
 * element (its elements step by (dh, dw)), and whether its whole input
 * patch lies inside the image.  Tabled once per block: the divisions
 * would otherwise run once per tile and channel. */
typedef struct tile_pos {
    int64_t img, oy0, ox0;
    bool interior;
} tile_pos;

/* ---- fused blocks --------------------------------------------------------
 * Where U and a block's V + M fit in L2 (below), one image and unit
 * dilation, a task is a block of up to FUSED_TILES tiles run end to end in
 * its thread's scratch: input transform of every channel (from the
 * block's rows of the plane, zero-padded), the 36 products, output
 * transform and epilogue.  The block's V and M stay in its core's L2; as
 * three passes over the whole conv they went to memory and back (64
 * channels at 56x56: V 2.2 MB, its stores 0.24 of 1.1 ms) and the second
 * thread read what the first wrote.  The weights are transformed once per
 * run into the op's scratch (U, the WINO43 layout), not by every task.
 * Every block's products read all of U, so U + V + M must stay within
 * FUSED_BYTES (about 3/4 of a 2 MB L2) with blocks of at least 32 tiles
 * (two vectors of columns): 64 + 64 channels, 48 tiles a block; wider
 * convs take the streamed blocks below (U read a chunk at a time).  Block
 * columns are counted at NNL_NR_MAX, so the choice and the scratch do not
 * depend on the kernel set. */
#define FUSED_TILES 48
#define FUSED_MIN_TILES 32
#define FUSED_BYTES ((size_t)1536 << 10)

typedef struct fused_geo {
    int64_t bt;                /* tiles a block, multiple of LANES */
    int64_t nblk;
    int64_t rows, wp;          /* a block's padded input rows */
    int64_t ocb;               /* output channels a pass of the products (M holds ocb x cols) */
    bool stream;               /* U read in chunks (u_chunk), not from the op's scratch */
} fused_geo;

/* Floats of the fused path's U: the weights transformed, WINO43. */
static size_t fused_u_floats(const nnl_conv_params *p) { return 36 * (size_t)((p->oc + 7) / 8 * 8) * (size_t)p->c; }

/* f's padded rows for blocks of f->bt tiles, and whether a block's V, M
 * (f->ocb output channels) and rows fit the thread scratch.  Block
 * columns are counted at NNL_NR_MAX, so the choice and the scratch do not
 * depend on the kernel set. */
static bool fused_fits(const nnl_conv_params *p, const tiles *t, fused_geo *f) {
    f->nblk = (t->total + f->bt - 1) / f->bt;
    /* a block's tiles span at most bt / tw + 2 tile rows; a patch row
     * reads 80 floats from its tile's left edge (wino_in_runs) */
    f->rows = 4 * ((f->bt + t->tw - 1) / t->tw + 1) + 2;
    f->wp = (t->tw - 1) * 4 + 80;
    if (f->wp < p->pl + p->w) f->wp = p->pl + p->w;
    const size_t cols = (size_t)((f->bt + NNL_NR_MAX - 1) / NNL_NR_MAX * NNL_NR_MAX);
    const size_t chunk = f->stream ? 16 + UBUF_FLOATS + 2 * WKC * 72 : 0;
    const size_t need =
        (36 * (size_t)(p->c + f->ocb) * cols + (size_t)(f->rows * f->wp) + 2 * 16 * LANES + chunk) * sizeof(float);
    return need <= NNL_THREAD_SCRATCH_BYTES;
}

static bool fused_geometry(const nnl_conv_params *p, const tiles *t, fused_geo *f) {
    if (p->n != 1 || p->dh != 1 || p->dw != 1) return false;
    const size_t u = fused_u_floats(p) * sizeof(float);
    f->bt = FUSED_TILES;
    f->ocb = p->oc;
    f->stream = false;
    while (f->bt >= FUSED_MIN_TILES && u + (size_t)(36 * (p->c + p->oc) * f->bt) * sizeof(float) > FUSED_BYTES)
        f->bt -= LANES;
    if (f->bt < FUSED_MIN_TILES) return false;
    return fused_fits(p, t, f);
}

/* ---- fused blocks with U streamed ----------------------------------------
 * Where U does not fit L2 with a block (128 channels and up at 28x28),
 * the three passes split the products by output channels: every thread
 * read all of V, half of it just written by the other core, and wrote V
 * again on the next run over lines the other core held.  At 2 threads
 * those passes ran no faster than on 1 (Zen 5, 128 -> 128 at 28x28: in
 * 0.33, products 0.32, out 0.12 ms against 0.28, 0.40, 0.16 on 1 thread).
 * Fused blocks keep each thread on its own tiles, V and M; each block
 * reads U in chunks of WMB output by WKC input channels (u_chunk: a
 * float32 WINO43 weight in place, both cores sharing its lines; a PACK_A8
 * one transformed into the thread scratch, where it stays in L2 -- U
 * transformed once into the op's scratch and read by every block went out
 * to memory and, at 2 threads, half of it to the other core: ResNet-18's
 * layer2 convs 0.68 -> 0.93 ms in the network).  A block transforms all of
 * U, so a thread with several blocks does it several times; that costs
 * the 56x56 convs 5-8% on one thread with warm caches, and is still
 * faster with the caches cold (bench: 1-thread networks 0.96-1.00x).  The
 * products run STREAM_OCB output channels at a time through M (fewer,
 * down to STREAM_MIN_OCB, where V takes most of the thread scratch), so
 * that V of up to 192 input channels and the M of a pass fit it; wider
 * convs keep the three passes.  Blocks of 48 or 32 tiles, whichever gives
 * the threads the fewest 16-tile column vectors to run one after the
 * other (49 tiles on 2 threads: 32 + 17, two vectors each, not 48 + 1).
 * Single convs alone, PACK_A8 weight, caches evicted (Zen 5, avx512, ms,
 * three passes -> blocks): 128 -> 128 at 28x28 0.83 -> 0.76 (1 thread),
 * 0.76 -> 0.61 (2); 64 -> 192 at 56x56 2.0 -> 1.9, 1.6 -> 1.18.  Only
 * where 16 transformed columns fill one panel (nr a multiple of LANES,
 * the AVX-512 set): with the AVX2 set's panels of 24 the blocks ran
 * ResNet-18's layer2 convs 20% and GoogLeNet's 64 -> 192 at 56x56 24%
 * slower than the three passes at 2 threads on the same Zen 5. */
#define STREAM_OCB 64
#define STREAM_MIN_OCB 16

/* Column vectors of the thread that runs most, blocks of bt tiles shared
 * as nnl_pool does (a contiguous range a thread). */
static int64_t stream_span(int64_t total, int64_t bt, int threads) {
    const int64_t nblk = (total + bt - 1) / bt;
    int64_t span = 0;
    for (int t = 0; t < threads; t++) {
        int64_t v = 0;
        for (int64_t b = nblk * t / threads; b < nblk * (t + 1) / threads; b++) {
            const int64_t n = total - b * bt < bt ? total - b * bt : bt;
            v += (n + LANES - 1) / LANES;
        }
        if (v > span) span = v;
    }
    return span;
}

static bool stream_geometry(const nnl_conv_params *p, const tiles *t, int threads, fused_geo *f) {
    if (p->n != 1 || p->dh != 1 || p->dw != 1) return false;
    f->bt = stream_span(t->total, 32, threads) < stream_span(t->total, FUSED_TILES, threads) ? 32 : FUSED_TILES;
    f->stream = true;
    /* fewer output channels a pass where V takes most of the scratch
     * (160 input channels: 32, 192: 16) */
    for (f->ocb = p->oc < STREAM_OCB ? (p->oc + 7) / 8 * 8 : STREAM_OCB; f->ocb >= STREAM_MIN_OCB; f->ocb /= 2)
        if (fused_fits(p, t, f)) return true;
    return false;
}

size_t nnl_wino_scratch_bytes(const nnl_conv_params *p) {
    if (p->n <= 0 || p->oh <= 0 || p->ow <= 0) return 0;
    tiles t = tile_grid(p);
    fused_geo f;
    if (fused_geometry(p, &t, &f)) return fused_u_floats(p) * sizeof(float);
    int64_t nt = block_tiles(p, &t);
    return (size_t)(36 * (p->c + p->oc) * nt) * sizeof(float) + (size_t)nt * sizeof(tile_pos);
}

static tile_pos tile_at(const nnl_conv_params *p, const tiles *g, int64_t t) {
    tile_pos r;
    r.img = t / g->per_img;
    int64_t k = t % g->per_img, per_phase = g->th * g->tw;
    int64_t ph = k / per_phase, rest = k % per_phase;
    r.oy0 = ph / p->dw + rest / g->tw * 4 * p->dh;
    r.ox0 = ph % p->dw + rest % g->tw * 4 * p->dw;
    int64_t iy0 = r.oy0 - p->pt, ix0 = r.ox0 - p->pl;
    r.interior = iy0 >= 0 && iy0 + 5 * p->dh < p->h && ix0 >= 0 && ix0 + 5 * p->dw < p->w;
    return r;
}

typedef struct wino_ctx {
    const nnl_conv_params *p;
    const nnl_conv_args *a;
    const nnl_kernel *kern;
    void *const *ts;
    bool stored;               /* a->w is WINO43, else PACK_A8 transformed here */
    tiles g;
    int64_t nt;                /* V / M column capacity, multiple of UNIT */
    int64_t np;                /* V panels per transform point: nt / NR */
    int64_t t0, nb, valid;     /* block: first tile, columns (multiple of LANES), tiles that exist */
    /* gemm_task's parts per channel group, ranges of the 36 transform
     * points: as many that the tasks (groups x parts) divide among the
     * threads evenly, each part transforming the group's weights itself.
     * Three groups (192 output channels) on two threads ran one thread's
     * two groups while the other had one (GoogLeNet's 28x28 convs scaled
     * 1.35-1.47x at 2 threads); split by columns of tiles instead, a
     * block of 49 tiles made parts of 48 and 1. */
    int64_t xsplit;
    float *v, *m;
    tile_pos *pos;             /* nb entries: tile t0 + j at pos[j] */
    /* in_task copies a channel's plane zero-padded to hp rows of wp
     * floats (every patch inside it, and 80 floats from every tile's
     * left edge for wino_in_runs) into its thread scratch, where that
     * fits */
    bool padded;
    int64_t hp, wp;
    fused_geo f;               /* the fused path's blocks */
    const float *u;            /* the fused path's U (WINO43 layout) */
    float *uw;                 /* U being written (fused_wt_task) */
} wino_ctx;

/* Tile j's 6 x 6 input patch of channel ic, row by row, into q (zeros
 * outside the image and past the block's last tile); pp: the channel's
 * plane padded (wino_ctx.padded) or NULL. */
static void patch(const wino_ctx *w, const float *pp, float *q, int64_t j, int64_t ic) {
    const nnl_conv_params *p = w->p;
    if (j >= w->valid) {
        memset(q, 0, 36 * sizeof *q);
        return;
    }
    const tile_pos *tp = &w->pos[j];
    /* output (oy, ox) reads input (oy - pt + r*dh, ox - pl + c*dw) */
    int64_t iy0 = tp->oy0 - p->pt, ix0 = tp->ox0 - p->pl;
    const float *x = w->a->x + (tp->img * p->c + ic) * p->h * p->w;
    if (pp || tp->interior) {
        const int64_t rs = pp ? w->wp : p->w;
        const float *row = pp ? pp + tp->oy0 * rs + tp->ox0 : x + iy0 * rs + ix0;
        for (int r = 0; r < 6; r++, row += p->dh * rs) {
            if (p->dw == 1) memcpy(q + 6 * r, row, 6 * sizeof *q);
            else
                for (int c = 0; c < 6; c++) q[6 * r + c] = row[c * p->dw];
        }
        return;
    }
    for (int r = 0; r < 6; r++) {
        int64_t iy = iy0 + r * p->dh;
        for (int c = 0; c < 6; c++) {
            int64_t ix = ix0 + c * p->dw;
            bool in = iy >= 0 && iy < p->h && ix >= 0 && ix < p->w;
            q[6 * r + c] = in ? x[iy * p->w + ix] : 0.0f;
        }
    }
}

/* Rows r0 .. r1 - 1 of channel plane x zero-padded (row r is input row
 * r - pt, pl zeros on the left, zeros to wp floats), rows wp apart.  The
 * zeros only with `zeros`: the callers pad every channel of a block into
 * the same rows, so after the first the zeros are in place (the right
 * border, wide for the transform's 80-float reads, was most of the
 * writes; the pass was 2% of ResNet-18, perf). */
static void pad_rows(float *dst, int64_t wp, const float *x, const nnl_conv_params *p, int64_t r0, int64_t r1,
                     bool zeros) {
    for (int64_t r = r0; r < r1; r++) {
        float *row = dst + (r - r0) * wp;
        const int64_t y = r - p->pt;
        if (y < 0 || y >= p->h) {
            if (zeros) memset(row, 0, (size_t)wp * sizeof *row);
            continue;
        }
        if (zeros) {
            memset(row, 0, (size_t)p->pl * sizeof *row);
            memset(row + p->pl + p->w, 0, (size_t)(wp - p->pl - p->w) * sizeof *row);
        }
        memcpy(row + p->pl, x + y * p->w, (size_t)p->w * sizeof *row);
    }
}

/* The runs along tile rows of the up to LANES tiles pos[0..n), for
 * wino_in_runs: their patches in a padded plane whose row 0 is patch row
 * r0, rows wp floats apart. */
static nnl_wino_runs tile_runs(const tile_pos *pos, int64_t n, const float *pp, int64_t r0, int64_t wp) {
    nnl_wino_runs r = {.count = 0, .covered = 0, .ps = wp};
    for (int l = 0; l < LANES && l < n; l++) {
        const tile_pos *tp = &pos[l];
        if (l == 0 || tp->oy0 != tp[-1].oy0 || tp->ox0 != tp[-1].ox0 + 4) {
            r.p[r.count] = pp + (tp->oy0 - r0) * wp + tp->ox0;
            r.l0[r.count++] = l;
        }
        r.covered = l + 1;
    }
    return r;
}

/* 16 transformed columns t (36 rows of LANES) into V's columns j0.. (up
 * to cols) of channel ic, where the set's panels (nr) split them: one run
 * of columns a panel, copied row by row (an index divided out per element
 * was 15% of ResNet-18's time on the AVX2 set, nr 24). */
static void v_scatter(float *v, const float *t, int64_t xs, int64_t nr, int64_t c, int64_t ic, int64_t j0,
                      int64_t cols) {
    for (int64_t l0 = 0; l0 < LANES && j0 + l0 < cols;) {
        const int64_t col = j0 + l0, in = col % nr;
        int64_t n = nr - in;
        if (n > LANES - l0) n = LANES - l0;
        if (n > cols - col) n = cols - col;
        float *d = v + ((col / nr) * c + ic) * nr + in;
        for (int xi = 0; xi < 36; xi++)
            for (int64_t k = 0; k < n; k++) d[xi * xs + k] = t[xi * LANES + l0 + k];
        l0 += n;
    }
}

/* V element (xi, ic, column col) sits in panel col / NR of point xi,
 * k-major like a packed GEMM B: v[((xi * np + col / NR) * IC + ic) * NR +
 * col % NR]. */
/* Input channels an in_task takes, and the most 16-tile groups whose
 * runs it keeps: every channel's plane is padded into the same thread
 * scratch, so the runs are made once a task (made once a channel they
 * were 6% of a 256 -> 256 conv at 28x28). */
#define IN_CHANNELS 8
#define IN_RUNS_MAX 64

static void in_task(void *vctx, int64_t task, int thread) {
    const wino_ctx *w = vctx;
    const nnl_conv_params *p = w->p;
    const int64_t nr = w->kern->nr, xs = w->np * p->c * nr;
    const int64_t c0 = task * IN_CHANNELS, c1 = c0 + IN_CHANNELS < p->c ? c0 + IN_CHANNELS : p->c;
    /* 16 tiles' patches side by side (a tile's 36 values contiguous, copied
     * row by row), then turned point-major by the set's transpose: an
     * element-by-element gather of 16 tiles cost more than the transform
     * and the products together at 64 channels */
    float d[36 * LANES], t[36 * LANES], q[LANES * 36];
    /* the block's tiles are of one image when the plane is padded */
    float *pp = w->padded ? w->ts[thread] : NULL;
    /* unit steps: runs of tiles along the padded plane's rows */
    const bool runs = pp && p->dh == 1 && p->dw == 1;
    nnl_wino_runs kept[IN_RUNS_MAX];
    const bool keep = runs && w->nb / LANES <= IN_RUNS_MAX;
    for (int64_t j = 0; keep && j < w->nb; j += LANES)
        kept[j / LANES] = tile_runs(w->pos + j, w->valid - j, pp, 0, w->wp);
    for (int64_t ic = c0; ic < c1; ic++) {
        if (pp) pad_rows(pp, w->wp, w->a->x + (w->pos[0].img * p->c + ic) * p->h * p->w, p, 0, w->hp, ic == c0);
        for (int64_t j = 0; j < w->nb; j += LANES) {
            float *dst = w->v + ((j / nr) * p->c + ic) * nr + j % nr;
            /* straight into V where the 16 columns share one panel (always
             * on AVX-512, nr 48; two groups of three on AVX2 and NEON, nr
             * 24) */
            const bool one_panel = j % nr + LANES <= nr;
            float *out = one_panel ? dst : t;
            const int64_t os = one_panel ? xs : LANES;
            if (keep) {
                w->kern->wino_in_runs(out, os, &kept[j / LANES]);
            } else if (runs) {
                const nnl_wino_runs r = tile_runs(w->pos + j, w->valid - j, pp, 0, w->wp);
                w->kern->wino_in_runs(out, os, &r);
            } else {
                for (int l = 0; l < LANES; l++) patch(w, pp, q + l * 36, j + l, ic);
                w->kern->tile_t(d, LANES, q, 36, LANES, 36, NULL);
                w->kern->wino_in(out, os, d);
            }
            if (out != dst) v_scatter(w->v, t, xs, nr, p->c, ic, j, w->nb);
        }
    }
}

/* The 9 x 8 taps of input channels k0.. (kc of them) of PACK_A8 panel
 * `panel`: in place for float32, widened into buf (kc * 72 floats) for
 * float16. */
static const float *wt_panel(const wino_ctx *w, float *buf, int64_t panel, int64_t k0, int64_t kc) {
    int64_t off = (panel * w->p->c * 9 + k0 * 9) * 8;
    if (!w->a->wh) return w->a->w + off;
    w->kern->h2f(buf, w->a->wh + off, kc * 72);
    return buf;
}

/* U of PACK_A8 panels [p0, p0 + npl) and input channels [k0, k0 + kc):
 * point xi's panel pl at the result + xi * sxi + pl * spl, kc x 8 floats.
 * In place for a float32 WINO43 weight, else transformed (or widened) into
 * ubuf (UBUF_FLOATS, then 2 x WKC x 72 floats for widened taps). */
static const float *u_chunk(const wino_ctx *w, float *ubuf, int64_t p0, int64_t npl, int64_t k0, int64_t kc,
                            int64_t *sxi, int64_t *spl) {
    const nnl_kernel *kern = w->kern;
    const int64_t ic = w->p->c, ocp = (w->p->oc + 7) / 8 * 8;
    if (w->stored && !w->a->wh) {
        *sxi = ocp * ic;
        *spl = ic * 8;
        return w->a->w + (p0 * ic + k0) * 8;
    }
    /* +16: the 36 points of one channel would otherwise sit a power of
     * two apart and fight over the same L1 sets */
    *sxi = npl * kc * 8 + 16;
    *spl = kc * 8;
    if (w->stored) { /* float16 WINO43: widen the chunk's 36 x npl panel slices */
        for (int64_t xi = 0; xi < 36; xi++)
            for (int64_t pl = 0; pl < npl; pl++)
                kern->h2f(ubuf + xi * *sxi + pl * *spl, w->a->wh + xi * ocp * ic + ((p0 + pl) * ic + k0) * 8, kc * 8);
        return ubuf;
    }
    float *gbuf = ubuf + UBUF_FLOATS;
    for (int64_t pl = 0; pl < npl; pl += 2) {
        const int64_t q = pl + 1 < npl ? pl + 1 : pl;   /* an odd last panel goes twice */
        kern->wino_wt(ubuf + pl * *spl, ubuf + q * *spl, *sxi, wt_panel(w, gbuf, p0 + pl, k0, kc),
                      wt_panel(w, gbuf + WKC * 72, p0 + q, k0, kc), kc);
    }
    return ubuf;
}

/* Task t: output channels [g * WMB, +WMB) for g = t / xsplit, the points
 * xi of part t % xsplit of xsplit, M_xi = U_xi V_xi by the GEMM
 * microkernel, WKC input channels at a time. */
static void gemm_task(void *vctx, int64_t t, int thread) {
    const wino_ctx *w = vctx;
    const nnl_conv_params *p = w->p;
    const nnl_kernel *kern = w->kern;
    const int64_t nr = kern->nr, ic = p->c, ocp = (p->oc + 7) / 8 * 8, g = t / w->xsplit;
    const int64_t p0 = g * (WMB / 8), p1 = (g + 1) * (WMB / 8) < ocp / 8 ? (g + 1) * (WMB / 8) : ocp / 8;
    const int64_t npl = p1 - p0, ncol = (w->valid + nr - 1) / nr, part = t % w->xsplit;
    const int64_t x0 = 36 * part / w->xsplit, x1 = 36 * (part + 1) / w->xsplit;
    float *ubuf = w->ts[thread];
    for (int64_t k0 = 0; k0 < ic; k0 += WKC) {
        int64_t kc = ic - k0 < WKC ? ic - k0 : WKC;
        int64_t sxi, spl;
        const float *u = u_chunk(w, ubuf, p0, npl, k0, kc, &sxi, &spl);
        for (int64_t xi = x0; xi < x1; xi++)
            for (int64_t c = 0; c < ncol; c++) {
                int64_t cols = w->valid - c * nr < nr ? w->valid - c * nr : nr;
                const float *b = w->v + ((xi * w->np + c) * ic + k0) * nr;
                for (int64_t pl = 0; pl < npl; pl++) {
                    int64_t row = (p0 + pl) * 8;
                    const float *a = u + xi * sxi + pl * spl;
                    nnl_ukr_args ua = {
                        .kc = kc,
                        .a = a,
                        .a_next = pl + 1 < npl ? a + spl : a,
                        .b = b,
                        .c = w->m + (xi * p->oc + row) * w->nt + c * nr,
                        .ldc = w->nt,
                        .mr = (int)(p->oc - row < 8 ? p->oc - row : 8),
                        .nr = (int)cols,
                        .accumulate = k0 > 0,
                        .epi = NULL,
                    };
                    kern->ukr(&ua);
                }
            }
    }
}

static void out_task(void *vctx, int64_t oc, int thread) {
    (void)thread;
    const wino_ctx *w = vctx;
    const nnl_conv_params *p = w->p;
    const nnl_conv_args *a = w->a;
    float bias = a->bias ? a->bias[oc] : 0.0f;
    /* one block of whole images: the outputs as they are, then bias,
     * residual and activation over each plane in one pass */
    const bool planes = w->t0 == 0 && w->valid == w->g.total;
    float o[16 * LANES], ot[LANES * 16];
    for (int64_t j = 0; j < w->valid; j += LANES) {
        w->kern->wino_out(o, w->m + oc * w->nt + j, p->oc * w->nt);
        w->kern->tile_t(ot, 16, o, LANES, 16, LANES, NULL);   /* tile l's 4 x 4 outputs at ot + 16 l */
        for (int l = 0; l < LANES && j + l < w->valid; l++) {
            const tile_pos *tp = &w->pos[j + l];
            int64_t plane = (tp->img * p->oc + oc) * p->oh * p->ow;
            const float *v = ot + 16 * l;
            for (int i = 0; i < 4; i++, v += 4) {
                int64_t oy = tp->oy0 + i * p->dh;
                if (oy >= p->oh) break;
                float *y = a->y + plane + oy * p->ow;
                if (planes && p->dw == 1 && tp->ox0 + 4 <= p->ow) {
                    memcpy(y + tp->ox0, v, 4 * sizeof *v);
                    continue;
                }
                for (int k = 0; k < 4; k++) {
                    int64_t ox = tp->ox0 + k * p->dw;
                    if (ox >= p->ow) break;
                    if (planes) {
                        y[ox] = v[k];
                        continue;
                    }
                    float e = v[k] + bias;
                    if (a->res) e += a->res[plane + oy * p->ow + ox];
                    y[ox] = a->act ? nnl_act_apply(e, a->act, a->act_a, a->act_b) : e;
                }
            }
        }
    }
    if (!planes) return;
    const int64_t hw = p->oh * p->ow;
    for (int64_t img = 0; img < p->n; img++) {
        float *y = a->y + (img * p->oc + oc) * hw;
        w->kern->epi_row(y, y, hw, bias, a->res ? a->res + (y - a->y) : NULL, 1.0f, a->act, a->act_a, a->act_b);
    }
}

/* Task q: PACK_A8 panels 2q and 2q + 1 (or 2q twice, the last of an odd
 * count) into U. */
static void fused_wt_task(void *vctx, int64_t q, int thread) {
    const wino_ctx *w = vctx;
    const int64_t ic = w->p->c, np = (w->p->oc + 7) / 8, p0 = 2 * q, p1 = 2 * q + 1 < np ? 2 * q + 1 : 2 * q;
    float *buf = w->ts[thread];
    w->kern->wino_wt(w->uw + p0 * ic * 8, w->uw + p1 * ic * 8, np * 8 * ic, wt_panel(w, buf, p0, 0, ic),
                     wt_panel(w, buf + ic * 72, p1, 0, ic), ic);
}

/* The epilogue over what tiles pos[0..nt) of output channel o cover:
 * runs of tiles along a tile row, four output rows each. */
static void fused_epilogue(const wino_ctx *w, const tile_pos *pos, int64_t nt, int64_t o) {
    const nnl_conv_params *p = w->p;
    const nnl_conv_args *a = w->a;
    const float bias = a->bias ? a->bias[o] : 0.0f;
    for (int64_t j = 0; j < nt;) {
        int64_t e = j + 1;
        while (e < nt && pos[e].oy0 == pos[j].oy0 && pos[e].ox0 == pos[e - 1].ox0 + 4) e++;
        const int64_t x0 = pos[j].ox0, x1 = pos[e - 1].ox0 + 4 < p->ow ? pos[e - 1].ox0 + 4 : p->ow;
        for (int64_t oy = pos[j].oy0; oy < pos[j].oy0 + 4 && oy < p->oh; oy++) {
            const int64_t at = (o * p->oh + oy) * p->ow + x0;
            w->kern->epi_row(a->y + at, a->y + at, x1 - x0, bias, a->res ? a->res + at : NULL, 1.0f, a->act,
                             a->act_a, a->act_b);
        }
        j = e;
    }
}

/* Block b of the fused path: in thread scratch V (36 x c x cols), M (36 x
 * ocb x cols) and the block's padded input rows. */
static void fused_task(void *vctx, int64_t b, int thread) {
    const wino_ctx *w = vctx;
    const nnl_conv_params *p = w->p;
    const nnl_conv_args *a = w->a;
    const nnl_kernel *kern = w->kern;
    const int64_t nr = kern->nr, ic = p->c, oc = p->oc, ocp = (oc + 7) / 8 * 8;
    const int64_t t0 = b * w->f.bt, nt = w->g.total - t0 < w->f.bt ? w->g.total - t0 : w->f.bt;
    const int64_t np = (nt + nr - 1) / nr, ldm = np * nr, xs = np * ic * nr, wp = w->f.wp;
    float *v = w->ts[thread], *m = v + 36 * ic * ldm, *pp = m + 36 * w->f.ocb * ldm;
    tile_pos pos[FUSED_TILES];
    if (nt <= 0) return;
    for (int64_t j = 0; j < nt; j++) pos[j] = tile_at(p, &w->g, t0 + j);
    /* padded rows r0 .. r1 - 1 (row r is input row r - pt) */
    const int64_t r0 = pos[0].oy0, r1 = pos[nt - 1].oy0 + 6;
    float t[36 * LANES];
    /* every channel's plane is padded into the same pp: the runs once (made
     * for each channel they were 8% of ResNet-18's 64 -> 64 at 56x56) */
    nnl_wino_runs runs[FUSED_TILES / LANES];
    for (int64_t g = 0; g < nt; g += LANES) runs[g / LANES] = tile_runs(pos + g, nt - g, pp, r0, wp);
    for (int64_t c = 0; c < ic; c++) {
        pad_rows(pp, wp, a->x + c * p->h * p->w, p, r0, r1, c == 0);
        for (int64_t g = 0; g < nt; g += LANES) {
            const nnl_wino_runs *r = &runs[g / LANES];
            if (nr % LANES == 0) {   /* the 16 columns share one panel */
                kern->wino_in_runs(v + ((g / nr) * ic + c) * nr + g % nr, xs, r);
                continue;
            }
            kern->wino_in_runs(t, LANES, r);
            v_scatter(v, t, xs, nr, ic, c, g, ldm);
        }
    }
    /* M_xi = U_xi V_xi for output channels [o0, o0 + ocn), WKC input
     * channels at a time (a B slice stays in L1 across the row panels),
     * then their outputs: 16 tiles' 4 x 4 made tile-major, stored a row of
     * 4 at a time */
    const int64_t ocb = w->f.ocb;
    float ob[16 * LANES], ot[LANES * 16];
    /* the streamed path's U chunks after the padded rows, on a cache line */
    float *ubuf = pp + (w->f.rows * wp + 2 * 16 * LANES + 15) / 16 * 16;
    for (int64_t o0 = 0; o0 < oc; o0 += ocb) {
        const int64_t ocn = oc - o0 < ocb ? oc - o0 : ocb, pl0 = o0 / 8, pl1 = (o0 + ocn + 7) / 8;
        for (int64_t k0 = 0; k0 < ic; k0 += WKC) {
            const int64_t kc = ic - k0 < WKC ? ic - k0 : WKC;
            int64_t sxi = ocp * ic, spl = ic * 8;
            const float *u = w->u ? w->u + (pl0 * ic + k0) * 8 : u_chunk(w, ubuf, pl0, pl1 - pl0, k0, kc, &sxi, &spl);
            for (int64_t xi = 0; xi < 36; xi++)
                for (int64_t cp = 0; cp < np; cp++) {
                    const int cols = (int)(nt - cp * nr < nr ? nt - cp * nr : nr);
                    for (int64_t pl = pl0; pl < pl1; pl++) {
                        const float *ua = u + xi * sxi + (pl - pl0) * spl;
                        nnl_ukr_args ua_args = {
                            .kc = kc,
                            .a = ua,
                            .a_next = pl + 1 < pl1 ? ua + spl : ua,
                            .b = v + ((xi * np + cp) * ic + k0) * nr,
                            .c = m + (xi * ocn + (pl - pl0) * 8) * ldm + cp * nr,
                            .ldc = ldm,
                            .mr = (int)(oc - pl * 8 < 8 ? oc - pl * 8 : 8),
                            .nr = cols,
                            .accumulate = k0 > 0,
                            .epi = NULL,
                        };
                        kern->ukr(&ua_args);
                    }
                }
        }
        /* the sizes and the plane read once (GCC reloaded them after
         * every store through y), a tile's rows in a row */
        const int64_t oh = p->oh, ow = p->ow;
        for (int64_t o = o0; o < o0 + ocn; o++) {
            float *const yo = a->y + o * oh * ow;
            for (int64_t g = 0; g < nt; g += LANES) {
                kern->wino_out(ob, m + (o - o0) * ldm + g, ocn * ldm);
                kern->tile_t(ot, 16, ob, LANES, 16, LANES, NULL);
                for (int l = 0; l < LANES && g + l < nt; l++) {
                    const tile_pos *tp = &pos[g + l];
                    const float *tv = ot + 16 * l;
                    const int64_t rows = oh - tp->oy0 < 4 ? oh - tp->oy0 : 4;
                    float *y = yo + tp->oy0 * ow + tp->ox0;
                    if (tp->ox0 + 4 <= ow) {
                        for (int i = 0; i < rows; i++) memcpy(y + i * ow, tv + 4 * i, 4 * sizeof *y);
                    } else {
                        for (int i = 0; i < rows; i++)
                            for (int k = 0; tp->ox0 + k < ow; k++) y[i * ow + k] = tv[4 * i + k];
                    }
                }
            }
            fused_epilogue(w, pos, nt, o);
        }
    }
}

/* The fused path: U (the file's WINO43 weight, widened, or transformed
 * here), then the blocks. */
static void wino_fused(wino_ctx *w, nnl_pool *pool) {
    const nnl_conv_params *p = w->p;
    if (w->f.stream) {
        w->u = NULL;
        nnl_pool_run(pool, w->f.nblk, fused_task, w);
        return;
    }
    w->uw = w->a->scratch;
    if (w->stored && !w->a->wh) {
        w->u = w->a->w;
        nnl_pool_run(pool, w->f.nblk, fused_task, w);
        return;
    }
    if (w->stored)
        w->kern->h2f(w->uw, w->a->wh, (int64_t)fused_u_floats(p));
    else
        nnl_pool_run(pool, ((p->oc + 7) / 8 + 1) / 2, fused_wt_task, w);
    w->u = w->uw;
    nnl_pool_run(pool, w->f.nblk, fused_task, w);
}

nnl_status nnl_wino_conv(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                         nnl_pool *pool, void *const *thread_scratch) {
    if (!kern) kern = nnl_kernel_get();
    if (!nnl_wino_ok(p)) return nnl_fail(NNL_ERR_INTERNAL, "Winograd on a conv that is not 3x3 stride 1 group 1");
    if (a->w_layout != NNL_LAYOUT_WINO43 && a->w_layout != NNL_LAYOUT_PACK_A8)
        return nnl_fail(NNL_ERR_INTERNAL, "Winograd conv on weight layout %d", (int)a->w_layout);
    if (p->n <= 0 || p->oc <= 0 || p->oh <= 0 || p->ow <= 0) return NNL_OK;
    if (UNIT % kern->nr != 0)
        return nnl_fail(NNL_ERR_INTERNAL, "Winograd conv: kernel panel width %d does not divide %d", kern->nr,
                        UNIT);
    size_t need = nnl_wino_scratch_bytes(p);
    if (!a->scratch || a->scratch_bytes < need)
        return nnl_fail(NNL_ERR_INTERNAL, "Winograd conv needs %zu bytes of scratch, has %zu", need,
                        a->scratch ? a->scratch_bytes : 0);
    if (!thread_scratch) return nnl_fail(NNL_ERR_INTERNAL, "Winograd conv called without thread scratch");
    wino_ctx w = {.p = p, .a = a, .kern = kern, .ts = thread_scratch, .g = tile_grid(p)};
    w.stored = a->w_layout == NNL_LAYOUT_WINO43;
    if (fused_geometry(p, &w.g, &w.f)) {
        wino_fused(&w, pool);
        return NNL_OK;
    }
    if (kern->nr % LANES == 0 && stream_geometry(p, &w.g, nnl_pool_threads(pool), &w.f)) {
        wino_fused(&w, pool);
        return NNL_OK;
    }
    w.nt = block_tiles(p, &w.g);
    w.np = w.nt / kern->nr;
    w.v = a->scratch;
    w.m = w.v + 36 * p->c * w.nt;
    w.pos = (tile_pos *)(void *)(w.m + 36 * p->oc * w.nt);
    int64_t groups = ((p->oc + 7) / 8 * 8 + WMB - 1) / WMB;
    const int threads = nnl_pool_threads(pool);
    w.xsplit = threads / nnl_gcd64(groups, threads);
    if (w.xsplit > 36) w.xsplit = 36;
    /* rows and columns the patches reach: from -pt / -pl to the last
     * tile's origin plus 5 taps */
    w.hp = (w.g.th - 1) * 4 * p->dh + p->dh - 1 + 5 * p->dh + 1;
    w.wp = (w.g.tw - 1) * 4 * p->dw + p->dw - 1 + 5 * p->dw + 1;
    if (w.hp < p->h + p->pt) w.hp = p->h + p->pt;
    if (w.wp < p->w + p->pl) w.wp = p->w + p->pl;
    if (w.wp < (w.g.tw - 1) * 4 + 80) w.wp = (w.g.tw - 1) * 4 + 80;
    w.padded = p->n == 1 && (size_t)(w.hp * w.wp) * sizeof(float) <= NNL_THREAD_SCRATCH_BYTES;
    for (w.t0 = 0; w.t0 < w.g.total; w.t0 += w.nt) {
        int64_t left = w.g.total - w.t0;
        w.valid = left < w.nt ? left : w.nt;
        /* whole panels of V are written (zeros past the last tile): the
         * microkernel reads all NR columns of its B panel */
        w.nb = (w.valid + UNIT - 1) / UNIT * UNIT;
        for (int64_t j = 0; j < w.valid; j++) w.pos[j] = tile_at(p, &w.g, w.t0 + j);
        nnl_pool_run(pool, (p->c + IN_CHANNELS - 1) / IN_CHANNELS, in_task, &w);
        nnl_pool_run(pool, groups * w.xsplit, gemm_task, &w);
        nnl_pool_run(pool, p->oc, out_task, &w);
    }
    return NNL_OK;
}
