/*
 * Packing of the 8-bit conv's activations (kernels/qconv_pack.h): im2col
 * rows, four at a time, interleaved into [quad][pixel][4 bytes] panels,
 * from the wide grid's phase rows or, as the fallback, gathered row run by
 * row run from the image.
 */
#include <string.h>

#include "kernels/qconv_pack.h"

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

typedef int8_t v16s8 __attribute__((vector_size(16)));
typedef int16_t v8s16 __attribute__((vector_size(16)));

/* Sign extension as byte unpacks and shifts, reordering as 16-bit lane
 * shuffles: what SSE2 and NEON have (a byte shuffle with a convert left
 * GCC with scalar code). */
void nnl_qukr_w16(int16_t *dst, const int8_t *w, int64_t kq) {
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
int64_t nnl_qstrip_rows(const nnl_qconv_ctx *q, int64_t n0, int64_t cnt) {
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
nnl_qsrc nnl_qsrc_make(const nnl_qconv_ctx *q, uint8_t *dst, uint8_t *tmp, const uint8_t *xg, int64_t n0,
                       int64_t cnt) {
    const nnl_conv_params *p = q->p;
    if (!q->strip) return (nnl_qsrc){xg, p->h * p->w, 0};
    const int64_t rows = nnl_qstrip_rows(q, n0, cnt), r0 = n0 / q->wq, wq = q->wq, sw = p->sw, len = sw * wq;
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
    return (nnl_qsrc){dst, rows * wq, r0 * wq};
}

static const uint8_t zero_row[NNL_QNC];

/* Quads [q0, q0 + kqc) of im2col(X_g) for pixels [n0, n0 + cnt) into
 * nr-pixel panels of kqc x nr x 4 bytes; pixels past cnt are zeros.  On
 * the wide grid the rows come from src, else gathered from xg. */
void nnl_qpack_block(const nnl_qconv_ctx *q, uint8_t *dst, const nnl_qsrc *src, const uint8_t *xg, int64_t q0,
                     int64_t kqc, int64_t n0, int64_t cnt) {
    const nnl_conv_params *p = q->p;
    const int nr = q->uk->nr;
    const int64_t khw = p->kh * p->kw, plane = p->h * p->w;
    uint8_t rows[4][NNL_QNC];
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
