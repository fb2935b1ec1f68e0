/*
 * Packing of GEMM operands: the compile-time PACK_A8 weight layout and the
 * run-time B / A panels (layouts in kernels/gemm.h).  Packing is a copy
 * with the data arranged for the microkernel; its cost is O(K*N) per
 * block against O(M*K*N) arithmetic, but for small M it shows, so the
 * contiguous cases copy whole runs.
 */
#include <string.h>

#include "kernels/gemm.h"

uint64_t nnl_pack_a8_bytes(int rank, const int64_t *dims) {
    if (rank < 1) return 0;
    uint64_t cols = 1;
    for (int i = 1; i < rank; i++) cols *= (uint64_t)dims[i];
    return ((uint64_t)dims[0] + 7) / 8 * 8 * cols * sizeof(float);
}

void nnl_pack_a8(float *dst, const float *src, int64_t rows, int64_t cols) {
    for (int64_t p = 0; p < (rows + 7) / 8; p++) {
        float *d = dst + p * cols * 8;
        for (int i = 0; i < 8; i++) {
            int64_t r = p * 8 + i;
            if (r < rows)
                for (int64_t c = 0; c < cols; c++) d[c * 8 + i] = src[r * cols + c];
            else
                for (int64_t c = 0; c < cols; c++) d[c * 8 + i] = 0.0f;
        }
    }
}

void nnl_pack_a8t(float *dst, const float *src, int64_t rows, int64_t cols) {
    for (int64_t p = 0; p < (cols + 7) / 8; p++) {
        float *d = dst + p * rows * 8;
        int64_t n = cols - p * 8 < 8 ? cols - p * 8 : 8;
        for (int64_t r = 0; r < rows; r++) {
            const float *s = src + r * cols + p * 8;
            for (int64_t i = 0; i < 8; i++) d[r * 8 + i] = i < n ? s[i] : 0.0f;
        }
    }
}

void nnl_unpack_a8(float *dst, const float *src, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) dst[r * cols + c] = src[((r / 8) * cols + c) * 8 + r % 8];
}

/* Write position in one row kk of the panel layout: column j lives in
 * panel j / nr at offset j % nr; panels are kc * nr floats apart.  Moving
 * along the row never divides. */
typedef struct cursor {
    float *d;
    int64_t left;              /* columns left in the current panel */
    int64_t jump;              /* from a panel's row end to the next panel's row start */
} cursor;

static cursor cursor_at(float *dst, int nr, int64_t kc, int64_t kk, int64_t j) {
    cursor c = {dst + ((j / nr) * kc + kk) * nr + j % nr, nr - j % nr, (kc - 1) * nr};
    return c;
}

static inline void cur_next_panel(cursor *c, int nr) {
    if (c->left == 0) {
        c->d += c->jump;
        c->left = nr;
    }
}

/* len floats from src (NULL: zeros) at the cursor.  Runs are panel
 * pieces of up to nr floats: memcpy / memset beat a loop the compiler
 * leaves scalar once they pass a few vectors. */
static void cur_run(cursor *c, int nr, const float *src, int64_t len) {
    while (len > 0) {
        cur_next_panel(c, nr);
        int64_t n = c->left < len ? c->left : len;
        if (src) {
            if (n >= 8) {
                memcpy(c->d, src, (size_t)n * sizeof(float));
            } else {
                for (int64_t i = 0; i < n; i++) c->d[i] = src[i];
            }
            src += n;
        } else {
            if (n >= 8) {
                memset(c->d, 0, (size_t)n * sizeof(float));
            } else {
                for (int64_t i = 0; i < n; i++) c->d[i] = 0.0f;
            }
        }
        c->d += n;
        c->left -= n;
        len -= n;
    }
}

/* len floats row[0], row[s], ..., all inside the row. */
static void cur_strided(cursor *c, int nr, const float *row, int64_t s, int64_t len) {
    while (len > 0) {
        cur_next_panel(c, nr);
        int64_t n = c->left < len ? c->left : len;
        for (int64_t i = 0; i < n; i++) c->d[i] = row[i * s];
        row += n * s;
        c->d += n;
        c->left -= n;
        len -= n;
    }
}

/* Smallest t >= 0 with a + t * s >= b (s > 0). */
static int64_t first_at_least(int64_t a, int64_t s, int64_t b) { return a >= b ? 0 : (b - a + s - 1) / s; }

static void put_run(float *dst, int nr, int64_t kc, int64_t kk, int64_t j, const float *src, int64_t len) {
    cursor c = cursor_at(dst, nr, kc, kk, j);
    cur_run(&c, nr, src, len);
}

static void pack_im2col_row(float *dst, int nr, const nnl_conv_geom *g, const float *img, int64_t k,
                            int64_t kk, int64_t kc, int64_t n0, int64_t nc) {
    int64_t khw = g->kh * g->kw, ic = k / khw, r = k % khw;
    int64_t yoff = (r / g->kw) * g->dh - g->pt, xoff = (r % g->kw) * g->dw - g->pl;
    const float *plane = img + ic * g->h * g->w;
    int64_t n = n0, end = n0 + nc, oy = n0 / g->ow, ox = n0 % g->ow;
    cursor c = cursor_at(dst, nr, kc, kk, 0);
    while (n < end) {
        int64_t run = g->ow - ox < end - n ? g->ow - ox : end - n;
        int64_t iy = oy * g->sh + yoff;
        if (iy < 0 || iy >= g->h) {
            cur_run(&c, nr, NULL, run);
        } else {
            /* input columns x0 + t * sw for t in [0, run); the valid ones form one range */
            const float *row = plane + iy * g->w;
            int64_t x0 = ox * g->sw + xoff;
            int64_t lo = first_at_least(x0, g->sw, 0), hi = first_at_least(x0, g->sw, g->w);
            if (lo > run) lo = run;
            if (hi > run) hi = run;
            if (hi < lo) hi = lo;
            cur_run(&c, nr, NULL, lo);
            if (g->sw == 1)
                cur_run(&c, nr, row + x0 + lo, hi - lo);
            else
                cur_strided(&c, nr, row + x0 + lo * g->sw, g->sw, hi - lo);
            cur_run(&c, nr, NULL, run - hi);
        }
        n += run;
        ox = 0;
        oy++;
    }
}

/* Multiply packed row kk (nc columns over the panels) by f. */
static void scale_row(float *dst, int nr, int64_t kc, int64_t kk, int64_t nc, float f) {
    for (int64_t j = 0; j < nc; j += nr) {
        float *o = dst + (j / nr * kc + kk) * nr;
        int64_t n = nc - j < nr ? nc - j : nr;
        for (int64_t i = 0; i < n; i++) o[i] *= f;
    }
}

/* The microkernel reads whole panels, so pad columns must be finite.
 * A8T already wrote whole groups of 8 (W's zero padding rows). */
static void pad_b(float *dst, int nr, const nnl_gemm_desc *d, int64_t kc, int64_t nc) {
    int64_t done = d->b_kind == NNL_BSRC_A8T ? (nc + 7) / 8 * 8 : nc;
    int64_t w = (nc + nr - 1) / nr * nr;
    if (w > done)
        for (int64_t kk = 0; kk < kc; kk++) put_run(dst, nr, kc, kk, done, NULL, w - done);
}

void nnl_pack_b(float *dst, int nr, const nnl_gemm_desc *d, const float *b, const float *b_scale, int64_t k0,
                int64_t kc, int64_t n0, int64_t nc) {
    switch (d->b_kind) {
    case NNL_BSRC_IM2COL:
        for (int64_t kk = 0; kk < kc; kk++) pack_im2col_row(dst, nr, &d->geom, b, k0 + kk, kk, kc, n0, nc);
        break;
    case NNL_BSRC_WIDE:
        for (int64_t kk = 0; kk < kc; kk++) put_run(dst, nr, kc, kk, 0, b + nnl_wide_row(&d->geom, k0 + kk) + n0, nc);
        break;
    case NNL_BSRC_A8T:
        /* n0 and nr are multiples of 8, so every 8 columns are one panel of W */
        for (int64_t j = 0; j < nc; j += 8) {
            const float *src = b + ((n0 + j) / 8 * d->k + k0) * 8;
            float *o = dst + (j / nr) * kc * nr + j % nr;
            for (int64_t kk = 0; kk < kc; kk++) memcpy(o + kk * nr, src + kk * 8, 8 * sizeof(float));
        }
        break;
    default:
        if (d->b_cs == 1) {
            for (int64_t kk = 0; kk < kc; kk++) put_run(dst, nr, kc, kk, 0, b + (k0 + kk) * d->b_rs + n0, nc);
        } else if (d->b_rs == 1) {
            for (int64_t j = 0; j < nc; j++) {
                const float *src = b + (n0 + j) * d->b_cs + k0;
                float *o = dst + (j / nr) * kc * nr + j % nr;
                for (int64_t kk = 0; kk < kc; kk++) o[kk * nr] = src[kk];
            }
        } else {
            for (int64_t kk = 0; kk < kc; kk++)
                for (int64_t j = 0; j < nc; j++)
                    dst[((j / nr) * kc + kk) * nr + j % nr] = b[(k0 + kk) * d->b_rs + (n0 + j) * d->b_cs];
        }
        break;
    }
    if (b_scale) {
        int64_t per = d->b_kind == NNL_BSRC_IM2COL || d->b_kind == NNL_BSRC_WIDE ? d->geom.kh * d->geom.kw : 1;
        for (int64_t kk = 0; kk < kc; kk++) scale_row(dst, nr, kc, kk, nc, b_scale[(k0 + kk) / per]);
    }
    pad_b(dst, nr, d, kc, nc);
}

/* Columns per widening step of the A8T half packer: 64 K rows of a panel's
 * 8 columns, converted in one h2f call, then spread over the B panel rows. */
#define H_ROWS 64

void nnl_pack_b_a8t_h(float *dst, int nr, const nnl_gemm_desc *d, const uint16_t *b, int64_t k0, int64_t kc,
                      int64_t n0, int64_t nc, nnl_h2f_fn h2f) {
    float t[H_ROWS * 8];
    for (int64_t j = 0; j < nc; j += 8) {
        const uint16_t *src = b + ((n0 + j) / 8 * d->k + k0) * 8;
        float *o = dst + (j / nr) * kc * nr + j % nr;
        for (int64_t k1 = 0; k1 < kc; k1 += H_ROWS) {
            int64_t rows = kc - k1 < H_ROWS ? kc - k1 : H_ROWS;
            h2f(t, src + k1 * 8, rows * 8);
            for (int64_t kk = 0; kk < rows; kk++) memcpy(o + (k1 + kk) * nr, t + kk * 8, 8 * sizeof(float));
        }
    }
    pad_b(dst, nr, d, kc, nc);
}

/* Plain A rows m0.. into panels, from floats (a, column stride cs) or from
 * halves (ah, unit column stride) widened a row at a time by h2f. */
static void pack_a_rows(float *dst, const float *a, const uint16_t *ah, int64_t rs, int64_t cs, int64_t m,
                        int64_t m0, int64_t mc, int64_t k0, int64_t kc, nnl_h2f_fn h2f) {
    float row[NNL_KC_MAX];
    for (int64_t p = 0; p < (mc + 7) / 8; p++) {
        float *d = dst + p * kc * 8;
        for (int i = 0; i < 8; i++) {
            int64_t r = m0 + p * 8 + i;
            if (r >= m || p * 8 + i >= mc) {
                for (int64_t kk = 0; kk < kc; kk++) d[kk * 8 + i] = 0.0f;
                continue;
            }
            const float *src = row;
            int64_t s = 1;
            if (ah) {
                h2f(row, ah + r * rs + k0, kc);
            } else {
                src = a + r * rs + k0 * cs;
                s = cs;
            }
            for (int64_t kk = 0; kk < kc; kk++) d[kk * 8 + i] = src[kk * s];
        }
    }
}

void nnl_pack_a_plain(float *dst, const float *a, int64_t rs, int64_t cs, int64_t m, int64_t m0,
                      int64_t mc, int64_t k0, int64_t kc) {
    pack_a_rows(dst, a, NULL, rs, cs, m, m0, mc, k0, kc, NULL);
}

void nnl_pack_a_plain_h(float *dst, const uint16_t *a, int64_t rs, int64_t m, int64_t m0, int64_t mc, int64_t k0,
                        int64_t kc, nnl_h2f_fn h2f) {
    pack_a_rows(dst, NULL, a, rs, 1, m, m0, mc, k0, kc, h2f);
}
