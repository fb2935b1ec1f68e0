/*
 * Winograd F(4x4, 3x3) driver (layout and plan in kernels/wino.h).  The
 * transforms of 16 tiles at a time come from the kernel set; this file
 * gathers patches, scatters outputs and runs the 36 GEMMs.  Shared
 * scratch: V (36 x IC x NT floats), M (36 x OC x NT), the block's tile
 * table.  The GEMM packs B from V into thread scratch as for any strided
 * B; the transforms use only stack buffers.
 */
#include "kernels/wino.h"

/* Upper bound of V + M per tile block; larger blocks reuse each streamed
 * U_xi over more tiles (the weights of a 2048->512 conv are 151 MB in
 * this form, so a second block means a second pass over them). */
#define WINO_BLOCK_BYTES ((size_t)64 << 20)
#define LANES 16

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

/* Tiles per block: a multiple of LANES, as many as the budget allows. */
static int64_t block_tiles(const nnl_conv_params *p, const tiles *t) {
    int64_t all = (t->total + LANES - 1) / LANES * LANES;
    int64_t per = 36 * (p->c + p->oc) * (int64_t)sizeof(float);
    int64_t fit = (int64_t)(WINO_BLOCK_BYTES / (size_t)per) / LANES * LANES;
    if (fit < LANES) fit = LANES;
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

size_t nnl_wino_scratch_bytes(const nnl_conv_params *p) {
    if (p->n <= 0 || p->oh <= 0 || p->ow <= 0) return 0;
    tiles t = tile_grid(p);
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
    tiles g;
    int64_t nt;                /* V / M column count (block capacity) */
    int64_t t0, nb;            /* current block: first tile, tiles (multiple of LANES) */
    float *v, *m;
    tile_pos *pos;             /* nb entries: tile t0 + j at pos[j] */
    const float *u;
} wino_ctx;

static void gather(const wino_ctx *w, float *d, int lane, int64_t j, int64_t ic) {
    const nnl_conv_params *p = w->p;
    if (w->t0 + j >= w->g.total) {
        for (int s = 0; s < 36; s++) d[s * LANES + lane] = 0.0f;
        return;
    }
    const tile_pos *tp = &w->pos[j];
    const float *x = w->a->x + (tp->img * p->c + ic) * p->h * p->w;
    /* output (oy, ox) reads input (oy - pt + r*dh, ox - pl + c*dw) */
    int64_t iy0 = tp->oy0 - p->pt, ix0 = tp->ox0 - p->pl;
    if (tp->interior) {
        const float *row = x + iy0 * p->w + ix0;
        for (int r = 0; r < 6; r++, row += p->dh * p->w)
            for (int c = 0; c < 6; c++) d[(6 * r + c) * LANES + lane] = row[c * p->dw];
        return;
    }
    for (int r = 0; r < 6; r++) {
        int64_t iy = iy0 + r * p->dh;
        for (int c = 0; c < 6; c++) {
            int64_t ix = ix0 + c * p->dw;
            bool in = iy >= 0 && iy < p->h && ix >= 0 && ix < p->w;
            d[(6 * r + c) * LANES + lane] = in ? x[iy * p->w + ix] : 0.0f;
        }
    }
}

static void in_task(void *vctx, int64_t ic, int thread) {
    (void)thread;
    const wino_ctx *w = vctx;
    const nnl_conv_params *p = w->p;
    float d[36 * LANES];
    const float *base[LANES];
    for (int64_t j = 0; j < w->nb; j += LANES) {
        /* 16 tiles whose patches lie inside the image (the common case):
         * element (r, c) of every tile, then the next, so the stores run
         * along d's rows */
        bool inside = true;
        for (int l = 0; l < LANES && inside; l++) {
            const tile_pos *tp = &w->pos[j + l];
            inside = w->t0 + j + l < w->g.total && tp->interior;
            if (inside)
                base[l] = w->a->x + (tp->img * p->c + ic) * p->h * p->w + (tp->oy0 - p->pt) * p->w +
                          (tp->ox0 - p->pl);
        }
        if (inside) {
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 6; c++) {
                    int64_t off = r * p->dh * p->w + c * p->dw;
                    float *o = d + (6 * r + c) * LANES;
                    for (int l = 0; l < LANES; l++) o[l] = base[l][off];
                }
        } else {
            for (int l = 0; l < LANES; l++) gather(w, d, l, j + l, ic);
        }
        w->kern->wino_in(w->v + ic * w->nt + j, p->c * w->nt, d);
    }
}

static void out_task(void *vctx, int64_t oc, int thread) {
    (void)thread;
    const wino_ctx *w = vctx;
    const nnl_conv_params *p = w->p;
    const nnl_conv_args *a = w->a;
    float bias = a->bias ? a->bias[oc] : 0.0f;
    float o[16 * LANES];
    for (int64_t j = 0; j < w->nb; j += LANES) {
        w->kern->wino_out(o, w->m + oc * w->nt + j, p->oc * w->nt);
        for (int l = 0; l < LANES && w->t0 + j + l < w->g.total; l++) {
            const tile_pos *tp = &w->pos[j + l];
            int64_t plane = (tp->img * p->oc + oc) * p->oh * p->ow;
            for (int i = 0; i < 4; i++) {
                int64_t oy = tp->oy0 + i * p->dh;
                if (oy >= p->oh) break;
                for (int k = 0; k < 4; k++) {
                    int64_t ox = tp->ox0 + k * p->dw;
                    if (ox >= p->ow) break;
                    int64_t at = plane + oy * p->ow + ox;
                    float v = o[(4 * i + k) * LANES + l] + bias;
                    if (a->res) v += a->res[at];
                    a->y[at] = a->act ? nnl_act_apply(v, a->act, a->act_a, a->act_b) : v;
                }
            }
        }
    }
}

static void gemm_ptrs(const nnl_gemm_desc *d, int64_t xi, nnl_gemm_ptrs *o) {
    const wino_ctx *w = d->ctx;
    int64_t ocp = (w->p->oc + 7) / 8 * 8;
    o->a = w->u + xi * ocp * w->p->c;
    o->b = w->v + xi * w->p->c * w->nt;
    o->c = w->m + xi * w->p->oc * w->nt;
    o->bias_row = o->bias_col = NULL;
    o->res = NULL;
}

nnl_status nnl_wino_conv(const nnl_conv_params *p, const nnl_conv_args *a, const nnl_kernel *kern,
                         nnl_pool *pool, void *const *thread_scratch) {
    if (!kern) kern = nnl_kernel_get();
    if (!nnl_wino_ok(p)) return nnl_fail(NNL_ERR_INTERNAL, "Winograd weight on a conv that is not 3x3 stride 1");
    if (p->n <= 0 || p->oc <= 0 || p->oh <= 0 || p->ow <= 0) return NNL_OK;
    size_t need = nnl_wino_scratch_bytes(p);
    if (!a->scratch || a->scratch_bytes < need)
        return nnl_fail(NNL_ERR_INTERNAL, "Winograd conv needs %zu bytes of scratch, has %zu", need,
                        a->scratch ? a->scratch_bytes : 0);
    wino_ctx w = {.p = p, .a = a, .kern = kern, .g = tile_grid(p), .u = a->w};
    w.nt = block_tiles(p, &w.g);
    w.v = a->scratch;
    w.m = w.v + 36 * p->c * w.nt;
    w.pos = (tile_pos *)(void *)(w.m + 36 * p->oc * w.nt);
    nnl_gemm_desc d = {
        .k = p->c,
        .m = p->oc,
        .batch = 36,
        .a_packed = true,
        .b_kind = NNL_BSRC_STRIDED,
        .b_rs = w.nt,
        .b_cs = 1,
        .ldc = w.nt,
        .epi = {.alpha = 1.0f},
        .res_cs = 1,
        .ptrs = gemm_ptrs,
        .ctx = &w,
    };
    for (w.t0 = 0; w.t0 < w.g.total; w.t0 += w.nt) {
        int64_t left = w.g.total - w.t0;
        w.nb = left < w.nt ? (left + LANES - 1) / LANES * LANES : w.nt;
        for (int64_t j = 0; j < w.nb && w.t0 + j < w.g.total; j++) w.pos[j] = tile_at(p, &w.g, w.t0 + j);
        nnl_pool_run(pool, p->c, in_task, &w);
        /* columns past the last tile are never stored; leaving them out
         * of the GEMM matters when a whole image is a few tiles */
        d.n = left < w.nb ? left : w.nb;
        nnl_status st = nnl_gemm(&d, kern, pool, thread_scratch);
        if (st) return st;
        nnl_pool_run(pool, p->oc, out_task, &w);
    }
    return NNL_OK;
}
