/*
 * Staging of the 8-bit conv's activations (kernels/qconv_pack.h): four
 * channels' rows interleaved into [pixel][4 bytes], as the wide grid's
 * planes the microkernel reads in place or, as the fallback, as im2col
 * panels gathered row run by row run from the image.
 */
#include <string.h>

#include "kernels/qconv_pack.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

typedef int8_t v16s8 __attribute__((vector_size(16)));
typedef int16_t v8s16 __attribute__((vector_size(16)));

/* Sign extension as byte unpacks and shifts, reordering as 16-bit lane
 * shuffles: what SSE2 and NEON have (a byte shuffle with a convert left
 * GCC with scalar code). */
void nnl_qukr_w16(int8_t *dst8, const int8_t *w, int64_t kq, int64_t tq, int64_t ps, int np) {
    (void)tq, (void)ps, (void)np; /* one panel a call, quads in PACK_Q8's order */
    int16_t *dst = (int16_t *)(void *)dst8;
    int64_t i = 0, n = kq * NNL_MR; /* quads */
    for (; i + 4 <= n; i += 4, dst += 16, w += 16) {
        v16s8 v;
        memcpy(&v, w, 16);
        v8s16 lo = (v8s16)__builtin_shufflevector(v, v, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7) >> 8;
        v8s16 hi = (v8s16)__builtin_shufflevector(v, v, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15) >> 8;
        lo = __builtin_shufflevector(lo, lo, 0, 2, 1, 3, 4, 6, 5, 7);
        hi = __builtin_shufflevector(hi, hi, 0, 2, 1, 3, 4, 6, 5, 7);
        memcpy(dst, &lo, 16);
        memcpy(dst + 8, &hi, 16);
    }
    for (; i < n; i++, dst += 4, w += 4) {
        dst[0] = w[0];
        dst[1] = w[2];
        dst[2] = w[1];
        dst[3] = w[3];
    }
}

int64_t nnl_qukr_w16_bytes(int64_t kq, int64_t tq) {
    (void)tq;
    return kq * NNL_MR * 4 * (int64_t)sizeof(int16_t);
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
                nnl_copy_run(dst + lo, row + ix0 + lo, hi - lo);
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

/* Byte shuffles on 16 pixels at a time, or 8 (GCC lowers them to SSE2 /
 * NEON zips; at -O2 it leaves the plain loop scalar). */
void nnl_il4_generic(uint32_t *o, const uint8_t *const r[4], int64_t m, uint32_t flip) {
    const v16u8 f = (v16u8){0} + (uint8_t)(flip & 0xFF);
    v16u8 in[4], out[4];
    int64_t j = 0;
    for (; j + 16 <= m; j += 16) {
        for (int t = 0; t < 4; t++) memcpy(&in[t], r[t] + j, 16);
        interleave16(out, in[0], in[1], in[2], in[3], f);
        memcpy(o + j, out, sizeof out);
    }
    if (j + 8 <= m) { /* 8 pixels (NEON's panels, tails): half the vectors are spare */
        for (int t = 0; t < 4; t++) {
            in[t] = (v16u8){0};
            memcpy(&in[t], r[t] + j, 8);
        }
        interleave16(out, in[0], in[1], in[2], in[3], f);
        memcpy(o + j, out, sizeof out / 2);
        j += 8;
    }
    for (; j < m; j++)
        o[j] = ((uint32_t)r[0][j] | (uint32_t)r[1][j] << 8 | (uint32_t)r[2][j] << 16 | (uint32_t)r[3][j] << 24) ^ flip;
}

/* Even and odd bytes of src[2j .. 2j + 32) into e[j ..) and o[j ..). */
static inline void split16(uint8_t *e, uint8_t *o, const uint8_t *src, int64_t j) {
    v16u8 a, b;
    memcpy(&a, src + 2 * j, 16);
    memcpy(&b, src + 2 * j + 16, 16);
    v16u8 ev = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    v16u8 od = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    memcpy(e + j, &ev, 16);
    memcpy(o + j, &od, 16);
}

void nnl_split2(uint8_t *e, uint8_t *o, const uint8_t *src, int64_t n) {
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) split16(e, o, src, j);
    if (j < n && n >= 16) {
        split16(e, o, src, n - 16);
        return;
    }
    for (; j < n; j++) {
        e[j] = src[2 * j];
        o[j] = src[2 * j + 1];
    }
}

int64_t nnl_qstage_pixels(const nnl_qconv_ctx *q, int64_t n0, int64_t cnt) {
    const nnl_conv_params *p = q->p;
    if (!q->strip) return cnt + (p->kh - 1) * p->dh * q->wq + (p->kw - 1) * p->dw;
    /* output rows n0 / wq .. (n0 + cnt - 1) / wq, the kernel's reach below
     * them, and one more: a tap's column offset runs into the next row */
    return ((n0 + cnt - 1) / q->wq - n0 / q->wq + 2 + (p->kh - 1) * p->dh / p->sh) * q->wq;
}

int64_t nnl_qstage_stride(int64_t px) {
    const int64_t n = (px + 15) / 16 * 16;
    return n / 16 % 2 ? n : n + 16;
}

/* Stride 1, no pads: the grid is the image; planes are the pixels from n0,
 * those past the image read as pad (their outputs are dropped). */
/* Channel quads ahead whose runs stage_direct prefetches. */
#define STAGE_AHEAD 2

static void stage_direct(const nnl_qconv_ctx *q, uint8_t *dst, uint8_t *row, const uint8_t *xg, int64_t c4a,
                         int64_t c4b, int64_t n0, int64_t spx, int64_t cs) {
    const int64_t hw = q->p->h * q->p->w, have = n0 >= hw ? 0 : min64(spx, hw - n0);
    for (int64_t c4 = c4a; c4 < c4b; c4++) {
        /* each channel's run is a few lines at a plane's stride, too short
         * for the hardware prefetcher to pick up before it ends: the runs
         * of the quad STAGE_AHEAD on are requested now */
        for (int64_t ic = 4 * (c4 + STAGE_AHEAD); ic < min64(4 * (c4 + STAGE_AHEAD + 1), q->cg); ic++)
            for (int64_t b = 0; b < have; b += 64) __builtin_prefetch(xg + ic * hw + n0 + b);
        const uint8_t *r[4];
        for (int j = 0; j < 4; j++) {
            int64_t ic = 4 * c4 + j;
            if (ic < q->cg && have == spx) {
                r[j] = xg + ic * hw + n0;
                continue;
            }
            uint8_t *b = row + j * spx;
            int64_t n = ic < q->cg ? have : 0;
            if (n) memcpy(b, xg + ic * hw + n0, (size_t)n);
            memset(b + n, q->pad, (size_t)(spx - n));
            r[j] = b;
        }
        q->uk->il4((uint32_t *)(dst + (c4 - c4a) * cs * 4), r, spx, q->flip);
    }
}

typedef uint32_t v4u32 __attribute__((vector_size(16)));

static void fill4(uint32_t *d, uint32_t v, int64_t n) {
    for (int64_t j = 0; j < n; j++) d[j] = v;
}

/* Even and odd words of src[0 .. 2n) into e and o (shufps on SSE2). */
static void split2_u32(uint32_t *e, uint32_t *o, const uint32_t *src, int64_t n) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        v4u32 x0, x1;
        memcpy(&x0, src + 2 * j, 16);
        memcpy(&x1, src + 2 * j + 4, 16);
        v4u32 ev = __builtin_shufflevector(x0, x1, 0, 2, 4, 6), od = __builtin_shufflevector(x0, x1, 1, 3, 5, 7);
        memcpy(e + j, &ev, 16);
        memcpy(o + j, &od, 16);
    }
    for (; j < n; j++) {
        e[j] = src[2 * j];
        o[j] = src[2 * j + 1];
    }
}

/* One staged row of every column phase from an interleaved image row s
 * (w pixels of 4 bytes): phase rx's column c is padded column c sw + rx,
 * s[c sw + rx - pl], pad4 outside the image.  o: phase (row's, first
 * column phase), the next column phase ps words on; one no tap reads
 * (phx < 0) goes to junk (wq words).  For stride 2 the even image pixels
 * are one phase's columns from se on, the odd ones the other's from so;
 * every pixel lands below wq (pl + w <= sw wq). */
static void phase_row(const nnl_qconv_ctx *q, uint32_t *o, int64_t ps, const uint32_t *s, uint32_t pad4,
                      uint32_t *junk) {
    const nnl_conv_params *p = q->p;
    const int64_t wq = q->wq, w = p->w, pl = p->pl;
    if (p->sw == 1) {
        fill4(o, pad4, pl);
        memcpy(o + pl, s, (size_t)w * 4);
        fill4(o + pl + w, pad4, wq - pl - w);
    } else if (p->sw == 2) {
        const int64_t re = pl % 2, ro = 1 - re, se = (pl - re) / 2, so = (pl + 1 - ro) / 2;
        const int64_t ne = (w + 1) / 2, no = w / 2;
        uint32_t *e = q->phx[re] >= 0 ? o + q->phx[re] * ps : junk, *od = q->phx[ro] >= 0 ? o + q->phx[ro] * ps : junk;
        fill4(e, pad4, se);
        fill4(od, pad4, so);
        split2_u32(e + se, od + so, s, no);
        if (ne > no) e[se + no] = s[w - 1];
        fill4(e + se + ne, pad4, wq - se - ne);
        fill4(od + so + no, pad4, wq - so - no);
    } else {
        for (int64_t rx = 0; rx < p->sw; rx++)
            if (q->phx[rx] >= 0)
                for (int64_t c = 0; c < wq; c++) {
                    const int64_t ix = c * p->sw + rx - pl;
                    o[q->phx[rx] * ps + c] = ix >= 0 && ix < w ? s[ix] : pad4;
                }
    }
}

/* Bytes of the strip staging's row buffers for planes of cs pixels: a pad
 * plane and the interleaved image rows (4 bytes a pixel) the planes' rows
 * come from (sh of them a grid row), and a junk row. */
size_t nnl_qstage_row_bytes(const nnl_qconv_ctx *q, int64_t cs) {
    const int64_t img = cs / q->wq * q->p->sh * q->p->w;
    return (size_t)(5 * img + 4 * q->wq + 128);
}

nnl_qstage nnl_qstage_make(const nnl_qconv_ctx *q, uint8_t *dst, uint8_t *row, const uint8_t *xg, int64_t c4a,
                           int64_t c4b, int64_t n0) {
    const nnl_conv_params *p = q->p;
    const int64_t cs = q->cs;
    if (!q->strip) {
        stage_direct(q, dst, row, xg, c4a, c4b, n0, q->spx, cs);
        return (nnl_qstage){dst, n0};
    }
    /* Per channel quad, the image rows the grid rows [r0, r0 + rows) read
     * are interleaved at once (one il4 over whole rows), then each phase
     * row is placed from them as words: a padded row a channel, split and
     * interleaved a plane at a time, cost about 80 cycles a row in loop
     * overhead, a third of a stride-2 conv's time. */
    const int64_t wq = q->wq, rows = q->spx / wq, r0 = n0 / wq, nph = q->nphy * q->nphx;
    const int64_t iy0 = r0 * p->sh - p->pt < 0 ? 0 : r0 * p->sh - p->pt;
    const int64_t iy1 = min64(p->h, (r0 + rows) * p->sh - p->pt), m = iy1 > iy0 ? (iy1 - iy0) * p->w : 0;
    const int64_t img = rows * p->sh * p->w;
    uint8_t *padp = row;
    uint32_t *junk = (uint32_t *)(row + (img + 63) / 64 * 64), *t = junk + (wq + 15) / 16 * 16;
    const uint32_t pad4 = 0x01010101u * q->pad ^ q->flip;
    if (4 * c4b > q->cg) memset(padp, q->pad, (size_t)m); /* channels past cg: their weights are 0 */
    for (int64_t c4 = c4a; c4 < c4b; c4++) {
        const uint8_t *r[4];
        for (int j = 0; j < 4; j++) {
            const int64_t ic = 4 * c4 + j;
            r[j] = ic < q->cg ? xg + (ic * p->h + iy0) * p->w : padp;
        }
        if (m) q->uk->il4(t, r, m, q->flip);
        uint32_t *d = (uint32_t *)(dst + (c4 - c4a) * nph * cs * 4);
        for (int64_t ry = 0; ry < p->sh; ry++) {
            if (q->phy[ry] < 0) continue;
            for (int64_t rr = 0; rr < rows; rr++) {
                const int64_t iy = (r0 + rr) * p->sh + ry - p->pt;
                uint32_t *o = d + q->phy[ry] * q->nphx * cs + rr * wq;
                if (iy < 0 || iy >= p->h)
                    for (int x = 0; x < q->nphx; x++) fill4(o + x * cs, pad4, wq);
                else
                    phase_row(q, o, cs, t + (iy - iy0) * p->w, pad4, junk);
            }
        }
    }
    return (nnl_qstage){dst, r0 * wq};
}

/* Quad i's offset: channel quad i / khw's planes, tap i % khw's phase
 * and shift. */
static int64_t qstage_off(const nnl_qconv_ctx *q, int64_t i) {
    const nnl_conv_params *p = q->p;
    const int64_t c4 = i / q->khw, t = i % q->khw, oy = t / p->kw * p->dh, ox = t % p->kw * p->dw;
    const int64_t plane = c4 * q->nphy * q->nphx + q->phy[oy % p->sh] * q->nphx + q->phx[ox % p->sw];
    return (plane * q->cs + oy / p->sh * q->wq + ox / p->sw) * 4;
}

void nnl_qstage_offs(const nnl_qconv_ctx *q, int64_t *xoff, int64_t n) {
    /* a channel quad's planes are nphy nphx planes past the previous one's */
    const int64_t step = q->nphy * q->nphx * q->cs * 4;
    for (int64_t i = 0; i < n; i++) xoff[i] = i < q->khw ? qstage_off(q, i) : xoff[i - q->khw] + step;
}

static const uint8_t zero_row[NNL_QNC];

void nnl_qpack_block(const nnl_qconv_ctx *q, uint8_t *dst, const uint8_t *xg, int64_t q0, int64_t kqc, int64_t n0,
                     int64_t cnt) {
    const nnl_conv_params *p = q->p;
    const int nr = q->uk->nr;
    const int64_t plane = p->h * p->w;
    uint8_t rows[4][NNL_QNC];
    uint32_t *d = (uint32_t *)dst;
    for (int64_t qq = 0; qq < kqc; qq++) {
        const int64_t qd = q0 + qq, c4 = qd / q->khw, t = qd % q->khw;
        const uint8_t *r[4];
        for (int j = 0; j < 4; j++) {
            if (4 * c4 + j >= q->cg) {
                r[j] = zero_row; /* weights are 0 there */
                continue;
            }
            gather_row(rows[j], xg + (4 * c4 + j) * plane, p, t / p->kw, t % p->kw, n0, cnt, q->pad);
            r[j] = rows[j];
        }
        for (int64_t j0 = 0; j0 < cnt; j0 += nr) {
            uint32_t *o = d + (j0 / nr * kqc + qq) * nr;
            int64_t m = min64(nr, cnt - j0);
            const uint8_t *rj[4] = {r[0] + j0, r[1] + j0, r[2] + j0, r[3] + j0};
            q->uk->il4(o, rj, m, q->flip);
            for (int64_t j = m; j < nr; j++) o[j] = 0;
        }
    }
}
