/*
 * 8-bit convolution (kernels/qconv.h): PACK_Q8 packing, the reference
 * arithmetic and the driver of the int8 microkernels (nnl_qukr in gemm.h).
 *
 * Driver: per (image, group) a GEMM Y (OC/g x OH*OW) = W_g * im2col(X_g),
 * split into tasks of (mc rows, nc pixels).  A task walks K in blocks of
 * the microkernel's kq quads; per block it packs im2col(X) straight from
 * the image into its thread's scratch as panels of nr pixels, quad-major
 * ([quad][pixel][4 bytes]: the 4 K values a weight quad multiplies, side
 * by side), then sweeps the microkernel over (pixel panel, 8-row panel),
 * pixel panel outer so the panel stays in L1 while weight panels stream
 * from L2.  Sums between K blocks stay as int32 tiles in the scratch; the
 * last block requantizes into y.  The zero point is not subtracted per
 * element: the weight's row sums turn sum W*x into sum W*(x - zx) in the
 * epilogue (nnl_qepi.off), so padding taps are packed as the byte zx and
 * int8 inputs as x ^ 0x80 (then zx + 128).
 */
#include <math.h>
#include <string.h>

#include "kernels/qconv.h"

uint64_t nnl_pack_q8_bytes(int rank, const int64_t *dims) {
    if (rank < 2) return 0;
    uint64_t k = 1;
    for (int i = 1; i < rank; i++) k *= (uint64_t)dims[i];
    uint64_t rows = ((uint64_t)dims[0] + 7) / 8 * 8;
    return rows * 8 + rows * ((k + 3) / 4 * 4);
}

const float *nnl_q8_scales(const void *packed) { return packed; }

const int32_t *nnl_q8_wsum(const void *packed, int64_t rows) {
    return (const int32_t *)((const char *)packed + (rows + 7) / 8 * 8 * 4);
}

const int8_t *nnl_q8_panels(const void *packed, int64_t rows) {
    return (const int8_t *)((const char *)packed + (rows + 7) / 8 * 8 * 8);
}

void nnl_pack_q8(void *dst, const int8_t *w, const float *scale, int64_t rows, int64_t cols) {
    int64_t rp = (rows + 7) / 8 * 8, nq = (cols + 3) / 4;
    float *sc = dst;
    int32_t *ws = (int32_t *)(sc + rp);
    int8_t *q = (int8_t *)(ws + rp);
    memset(dst, 0, (size_t)(rp * 8 + rp * nq * 4));
    for (int64_t r = 0; r < rows; r++) {
        int32_t s = 0;
        for (int64_t c = 0; c < cols; c++) {
            s += w[r * cols + c];
            q[((r / 8 * nq + c / 4) * 8 + r % 8) * 4 + c % 4] = w[r * cols + c];
        }
        sc[r] = scale[r];
        ws[r] = s;
    }
}

bool nnl_qconv_ok(const nnl_conv_params *p) { return p->group == 1 || (p->oc / p->group) % 8 == 0; }

/* Every task packs its own activations, so no shared scratch. */
size_t nnl_qconv_scratch_bytes(const nnl_conv_params *p) {
    (void)p;
    return 0;
}

static int32_t x_at(const nnl_qconv_args *a, int64_t i) {
    return a->x_signed ? (int32_t)((const int8_t *)a->x)[i] : (int32_t)((const uint8_t *)a->x)[i];
}

void nnl_qconv2d_ref(const nnl_conv_params *p, const nnl_qconv_args *a) {
    int64_t cg = p->c / p->group, mg = p->oc / p->group, kk = cg * p->kh * p->kw;
    int64_t nq = (kk + 3) / 4;
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
                            int32_t wv = q8[((r / 8 * nq + c / 4) * 8 + r % 8) * 4 + c % 4];
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

/* ---- the fast path ------------------------------------------------------ */

/* Rows per task: the weight block (mc x kq quads) stays in L2. */
#define QMC 512
/* Pixels per task (at most): with the rows' int32 sums (mc x nc) and the
 * packed block, well inside the thread scratch. */
#define QNC 384

/* Convs run on a "wide" pixel grid.  The padded input plane (hp x wp) is
 * split into sh x sw phase planes, phase (ry, rx) holding padded rows ry,
 * ry + sh, ... and columns rx, rx + sw, ..., wq = ceil(wp / sw) columns
 * each (the stride-1 plane is its own single phase).  Output pixel
 * (oy, ox) is virtual pixel f = oy * wq + ox, ox running to wq, past ow.
 * Tap (ic, ky, kx) of f reads phase ((ky dh) % sh, (kx dw) % sw) at
 * f + (ky dh / sh) * wq + kx dw / sw: each im2col row is one contiguous
 * slice, so packing is a plain interleave of four slices with no per-row
 * runs or bounds checks (a 7x7 image has 7-pixel runs; their bookkeeping
 * cost more than the multiply-adds).  The wq - ow virtual columns a row
 * are computed and dropped (3.5% more work at 56x56, 29% at 7x7, 2.7% for
 * the 224x224 stem at stride 2).  Stride 1 without pads reads the image
 * itself; otherwise each task first copies the phase rows it reads (all
 * channels of its group) into its scratch. */
typedef struct qconv_ctx {
    const nnl_conv_params *p;
    const nnl_qconv_args *a;
    const nnl_qukr *uk;
    void *const *ts;
    int64_t mg, cg, kk, nq, ohw;
    int64_t npx;               /* pixels the GEMM tiles: ohw, or the wide grid's (oh - 1) * wq + ow */
    int64_t mc, nc, m_tiles, n_tiles, nkb;
    size_t epi_bytes, blk_bytes, sum_bytes, strip_bytes; /* thread scratch: epilogues, packed block, sums,
                                                          * strip, a padded row */
    bool wide;                 /* on the wide grid (else im2col rows gathered per row run) */
    bool strip;                /* wide, from phase rows the task copies (pads or strides) */
    int64_t wq;                /* wide grid row width */
    uint8_t pad;               /* padding tap as stored in x (its zero point's byte) */
    uint32_t flip;             /* 0x80808080 for int8 x: uint8 = x ^ 0x80 */
} qconv_ctx;

/* Where a task's packing reads the wide grid: tap (ic, ky, kx) of virtual
 * pixel f is base[(ic * sh * sw + phase) * cs + f - f0 + (ky dh / sh) * wq
 * + kx dw / sw]. */
typedef struct wide_src {
    const uint8_t *base;
    int64_t cs, f0;
} wide_src;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }
static size_t align64(size_t b) { return (b + 63) / 64 * 64; }

/* memcpy of a run of an image row (tens of bytes: a library call per run
 * cost as much as the copy), in 16-byte pieces, the last one overlapping. */
static inline void copy_run(uint8_t *dst, const uint8_t *src, int64_t n) {
    if (n < 16) {
        for (int64_t j = 0; j < n; j++) dst[j] = src[j];
        return;
    }
    for (int64_t j = 0; j + 16 < n; j += 16) memcpy(dst + j, src + j, 16);
    memcpy(dst + n - 16, src + n - 16, 16);
}

/* Bytes of the im2col row (ic, ky, kx) for cnt pixels from pixel n0 of
 * one image plane; pads read as pad. */
static void gather_row(uint8_t *dst, const uint8_t *plane, const nnl_conv_params *p, int64_t ky, int64_t kx,
                       int64_t n0, int64_t cnt, uint8_t pad) {
    int64_t oy = n0 / p->ow, ox = n0 % p->ow;
    while (cnt > 0) {
        int64_t run = min64(p->ow - ox, cnt), iy = oy * p->sh - p->pt + ky * p->dh;
        if (iy < 0 || iy >= p->h) {
            memset(dst, pad, (size_t)run);
        } else {
            const uint8_t *row = plane + iy * p->w;
            int64_t ix0 = ox * p->sw - p->pl + kx * p->dw;
            if (p->sw == 1) {
                /* in bounds for the j with 0 <= ix0 + j < w */
                int64_t lo = ix0 < 0 ? min64(-ix0, run) : 0, hi = min64(run, p->w - ix0);
                if (hi < lo) hi = lo;
                for (int64_t j = 0; j < lo; j++) dst[j] = pad;
                copy_run(dst + lo, row + ix0 + lo, hi - lo);
                for (int64_t j = hi; j < run; j++) dst[j] = pad;
            } else {
                for (int64_t j = 0; j < run; j++) {
                    int64_t ix = ix0 + j * p->sw;
                    dst[j] = ix >= 0 && ix < p->w ? row[ix] : pad;
                }
            }
        }
        dst += run;
        cnt -= run;
        ox = 0;
        oy++;
    }
}

typedef uint8_t v16u8 __attribute__((vector_size(16)));

/* Bytes a[j], b[j], c[j], d[j] side by side for j < 16: out[q] holds j =
 * 4q .. 4q + 3, each xor f. */
static inline void interleave16(v16u8 out[4], v16u8 a, v16u8 b, v16u8 c, v16u8 d, v16u8 f) {
    v16u8 ab0 = __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v16u8 ab1 = __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    v16u8 cd0 = __builtin_shufflevector(c, d, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v16u8 cd1 = __builtin_shufflevector(c, d, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    out[0] = __builtin_shufflevector(ab0, cd0, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23) ^ f;
    out[1] = __builtin_shufflevector(ab0, cd0, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31) ^ f;
    out[2] = __builtin_shufflevector(ab1, cd1, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23) ^ f;
    out[3] = __builtin_shufflevector(ab1, cd1, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31) ^ f;
}

/* o[j] = bytes r[0..3][j0 + j] as one little-endian word, ^ flip, j < m:
 * byte shuffles on 16 pixels at a time, or 8 (GCC lowers them to SSE2 /
 * NEON zips; at -O2 it leaves the plain loop scalar). */
static void interleave4(uint32_t *o, const uint8_t *const r[4], int64_t j0, int64_t m, uint32_t flip) {
    const v16u8 f = (v16u8){0} + (uint8_t)(flip & 0xFF);
    v16u8 in[4], out[4];
    int64_t j = 0;
    for (; j + 16 <= m; j += 16) {
        for (int t = 0; t < 4; t++) memcpy(&in[t], r[t] + j0 + j, 16);
        interleave16(out, in[0], in[1], in[2], in[3], f);
        memcpy(o + j, out, sizeof out);
    }
    if (j + 8 <= m) { /* 8 pixels (NEON's panels, tails): half the vectors are spare */
        for (int t = 0; t < 4; t++) {
            in[t] = (v16u8){0};
            memcpy(&in[t], r[t] + j0 + j, 8);
        }
        interleave16(out, in[0], in[1], in[2], in[3], f);
        memcpy(o + j, out, sizeof out / 2);
        j += 8;
    }
    for (; j < m; j++)
        o[j] = ((uint32_t)r[0][j0 + j] | (uint32_t)r[1][j0 + j] << 8 | (uint32_t)r[2][j0 + j] << 16 |
                (uint32_t)r[3][j0 + j] << 24) ^ flip;
}

/* Phase rows of the wide grid a task with virtual pixels [n0, n0 + cnt)
 * reads: output rows n0 / wq .. (n0 + cnt - 1) / wq, the kernel's reach
 * below them, and one more: a virtual column past ow of the last row
 * reads a few bytes into the next (values dropped, but inside the strip). */
static int64_t strip_rows(const qconv_ctx *q, int64_t n0, int64_t cnt) {
    return (n0 + cnt - 1) / q->wq - n0 / q->wq + 2 + (q->p->kh - 1) * q->p->dh / q->p->sh;
}

/* Even and odd bytes of src[0 .. 2n) into e and o (stride-2 phases). */
static void split2(uint8_t *e, uint8_t *o, const uint8_t *src, int64_t n) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        v16u8 a, b;
        memcpy(&a, src + 2 * j, 16);
        memcpy(&b, src + 2 * j + 16, 16);
        v16u8 ev = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        v16u8 od = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        memcpy(e + j, &ev, 16);
        memcpy(o + j, &od, 16);
    }
    for (; j < n; j++) {
        e[j] = src[2 * j];
        o[j] = src[2 * j + 1];
    }
}

/* The task's source on the wide grid; with a strip, its phase rows copied
 * into dst (cg x sh x sw planes of strip_rows x wq bytes), tmp holding a
 * padded row (sw * wq bytes). */
static wide_src wide_source(const qconv_ctx *q, uint8_t *dst, uint8_t *tmp, const uint8_t *xg, int64_t n0,
                            int64_t cnt) {
    const nnl_conv_params *p = q->p;
    if (!q->strip) return (wide_src){xg, p->h * p->w, 0};
    const int64_t rows = strip_rows(q, n0, cnt), r0 = n0 / q->wq, wq = q->wq, sw = p->sw, len = sw * wq;
    for (int64_t ic = 0; ic < q->cg; ic++)
        for (int64_t ry = 0; ry < p->sh; ry++)
            for (int64_t r = 0; r < rows; r++) {
                /* phase (ry, rx) row r is padded row (r0 + r) sh + ry, columns rx, rx + sw, ... */
                uint8_t *d = dst + ((ic * p->sh + ry) * sw * rows + r) * wq;
                const int64_t ps = rows * wq; /* from phase rx to rx + 1 */
                int64_t iy = (r0 + r) * p->sh + ry - p->pt;
                uint8_t *pr = sw == 1 ? d : tmp;
                if (iy < 0 || iy >= p->h) {
                    memset(pr, q->pad, (size_t)len);
                } else {
                    memset(pr, q->pad, (size_t)p->pl);
                    copy_run(pr + p->pl, xg + (ic * p->h + iy) * p->w, p->w);
                    memset(pr + p->pl + p->w, q->pad, (size_t)(len - p->pl - p->w));
                }
                if (sw == 2)
                    split2(d, d + ps, tmp, wq);
                else if (sw > 2)
                    for (int64_t rx = 0; rx < sw; rx++)
                        for (int64_t c = 0; c < wq; c++) d[rx * ps + c] = tmp[c * sw + rx];
            }
    return (wide_src){dst, rows * wq, r0 * wq};
}

static const uint8_t zero_row[QNC];

/* Quads [q0, q0 + kqc) of im2col(X_g) for pixels [n0, n0 + cnt) into
 * nr-pixel panels of kqc x nr x 4 bytes; pixels past cnt are zeros.  On
 * the wide grid the rows come from src, else gathered from xg. */
static void pack_block(const qconv_ctx *q, uint8_t *dst, const wide_src *src, const uint8_t *xg, int64_t q0,
                       int64_t kqc, int64_t n0, int64_t cnt) {
    const nnl_conv_params *p = q->p;
    const int nr = q->uk->nr;
    const int64_t khw = p->kh * p->kw, plane = p->h * p->w;
    uint8_t rows[4][QNC];
    uint32_t *d = (uint32_t *)dst;
    /* tap (ic, ky, kx) of column k, stepped along k: a division per
     * column cost more than interleaving its pixels */
    int64_t k = 4 * q0, ic = k / khw, ky = k / p->kw % p->kh, kx = k % p->kw;
    for (int64_t qq = 0; qq < kqc; qq++) {
        const uint8_t *r[4];
        for (int t = 0; t < 4; t++, k++) {
            if (k >= q->kk) {
                r[t] = zero_row; /* weights are 0 there */
            } else if (q->wide) {
                int64_t oy = ky * p->dh, ox = kx * p->dw, ph = (oy % p->sh) * p->sw + ox % p->sw;
                r[t] = src->base + (ic * p->sh * p->sw + ph) * src->cs + n0 - src->f0 + oy / p->sh * q->wq +
                       ox / p->sw;
            } else {
                gather_row(rows[t], xg + ic * plane, p, ky, kx, n0, cnt, q->pad);
                r[t] = rows[t];
            }
            if (++kx == p->kw) {
                kx = 0;
                if (++ky == p->kh) ky = 0, ic++;
            }
        }
        for (int64_t j0 = 0; j0 < cnt; j0 += nr) {
            uint32_t *o = d + (j0 / nr * kqc + qq) * nr;
            int64_t m = min64(nr, cnt - j0);
            interleave4(o, r, j0, m, q->flip);
            for (int64_t j = m; j < nr; j++) o[j] = 0;
        }
    }
}

/* Epilogues of the task's 8-row panels from row m0 of group g. */
static void fill_epi(const qconv_ctx *q, nnl_qepi *e, int64_t g, int64_t m0, int64_t mcur) {
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
static void wide_store(const qconv_ctx *q, uint8_t *y, const uint8_t *tile, int nr, int mr, int64_t f0, int n) {
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
    const qconv_ctx *q = vctx;
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
    uint8_t *strip = blk + q->blk_bytes + q->sum_bytes;
    fill_epi(q, epi, g, m0, mcur);
    const uint8_t *xg = (const uint8_t *)a->x + (img * p->c + g * q->cg) * p->h * p->w;
    const int8_t *wg = nnl_q8_panels(a->w, p->oc) + (g * q->mg + m0) / NNL_MR * q->nq * 4 * NNL_MR;
    uint8_t *yg = (uint8_t *)a->y + (img * p->oc + g * q->mg + m0) * q->ohw;
    /* virtual pixels are output pixels unless the wide grid has extra columns */
    bool scatter = q->wide && q->wq != p->ow;
    wide_src src = {0};
    if (q->wide) src = wide_source(q, strip, strip + q->strip_bytes, xg, n0, ncur);
    uint8_t tile[NNL_MR * NNL_NR_MAX];
    for (int64_t kb = 0; kb < q->nkb; kb++) {
        int64_t q0 = q->nq * kb / q->nkb, kqc = q->nq * (kb + 1) / q->nkb - q0;
        bool last = kb == q->nkb - 1;
        pack_block(q, blk, &src, xg, q0, kqc, n0, ncur);
        for (int64_t jp = 0; jp < npan; jp++)
            for (int64_t im = 0; im < mcur; im += NNL_MR) {
                nnl_qukr_args u = {
                    .kq = kqc,
                    .w = wg + (im / NNL_MR * q->nq + q0) * 4 * NNL_MR,
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
static bool plan_tasks(qconv_ctx *q, int threads) {
    const nnl_conv_params *p = q->p;
    const nnl_qukr *uk = q->uk;
    q->npx = q->wide ? (p->oh - 1) * q->wq + p->ow : q->ohw;
    q->mc = min64(round_up(q->mg, NNL_MR), QMC);
    q->nc = min64(QNC / uk->nr * uk->nr, round_up(q->npx, uk->nr));
    /* Enough tasks that threads finish together: split pixels first (each
     * task keeps its whole weight block), then rows. */
    int64_t want = threads > 1 ? 4 * (int64_t)threads : 1, batch = p->n * p->group;
    for (;;) {
        q->m_tiles = (q->mg + q->mc - 1) / q->mc;
        q->n_tiles = (q->npx + q->nc - 1) / q->nc;
        if (batch * q->m_tiles * q->n_tiles >= want) break;
        if (q->nc > 2 * uk->nr)
            q->nc = round_up(q->nc / 2, uk->nr);
        else if (q->mc > 4 * NNL_MR)
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
        size_t row = 0;
        q->strip_bytes = 0;
        if (q->strip) {
            /* the most rows any task's pixels reach: its first pixel at the end of a row */
            int64_t rows = strip_rows(q, q->wq - 1, q->nc);
            q->strip_bytes = align64((size_t)(q->cg * p->sh * p->sw * rows * q->wq));
            row = (size_t)(p->sw * q->wq);
        }
        if (q->epi_bytes + q->blk_bytes + q->sum_bytes + q->strip_bytes + row <= NNL_THREAD_SCRATCH_BYTES) break;
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
    qconv_ctx q = {.p = p, .a = a, .uk = uk, .ts = thread_scratch};
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
