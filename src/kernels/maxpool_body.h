/*
 * The MaxPool rows of one element type and vector width: the float32
 * kernels of every vector set (kernels/maxpool_f32.h, 16, 32 and 64-byte
 * vectors) and the 8-bit MaxPool (ops/nn/pool.c, uint8 for both 8-bit
 * types) run this one structure.  The includer defines, then this header
 * undefines:
 *   MP_T          the element type
 *   MP_V          a vector of it (GCC vector extensions)
 *   MP_L          its lanes
 *   MP_FN(name)   the functions' names for this type
 *   MP_LOW        the least value: pads and empty windows (float -inf)
 *   MP_MAX(a, v)  lane-wise v > a ? v : a, the scalar rule's order: with
 *                 float a NaN v leaves a, and a (the running max) is never
 *                 NaN, so NaN inputs are skipped as the scalar paths do
 *   MP_EVEN(a, b), MP_ODD(a, b)  the even / odd lanes of a then b
 *   MP_IN(x, f)   a loaded vector or value x as ordered (int8 flips the sign
 *                 bit with f = 0x80, so unsigned max orders it; float
 *                 ignores f)
 *   MP_FLIP8      f for int8 data (0 for float)
 *   MP_VP         pairs of vectors a column block reduces over rows
 *   MP_HV         vectors a block of outputs holds
 *
 * A row of output is made rows first: the window's input rows reduced into
 * a row buffer, then windows along it (rows go in batches: the buffers of
 * a batch, then its windows).  A row buffer holds the padded row: the pads
 * are MP_LOW, written once per range of rows, so every output is a window
 * without checks.  With stride 2 it is kept as its even
 * and odd columns (two "phases", split while reducing), so tap kw of
 * output ow, padded column 2 * ow + kw * d, is phase (kw * d) & 1 at
 * ow + (kw * d) / 2: MP_L outputs are one unaligned load per tap, as with
 * stride 1.  A row not a multiple of the block is finished by one block
 * overlapping the one before (the same max computed twice).  Other
 * strides, and windows of more than MP_TAPS taps, gather along the buffer
 * one output at a time.
 */

#ifndef NNL_KERNELS_MAXPOOL_BODY_ONCE
#define NNL_KERNELS_MAXPOOL_BODY_ONCE
#include <string.h>

#include "kernels/pool2d.h"

/* Widest window the vector paths take (more taps go one output at a time). */
#define MP_TAPS 16
/* Most rows of output a batch makes. */
#define MP_BATCH 16
/* Rows of output ahead whose input is prefetched. */
#define MP_AHEAD 8

/* Input straight from memory (a conv's output gone from the caches) took
 * twice what the memory bandwidth allows (ResNet-18's pool: 4 MB in 0.25
 * ms, 0.15 with the prefetches): the hardware prefetchers do not run far
 * enough ahead of short rows.  Rows narrower than MP_PREFETCH_BYTES
 * (GoogLeNet's 56 to 7 wide, smaller tensors) gained nothing from them. */
#define MP_PREFETCH_BYTES 256

/* bytes from p + at on, which may lie past the tensor: the address is made
 * as an integer, and a prefetch does not fault. */
static inline void mp_prefetch(const void *p, int64_t at, int64_t bytes) {
    for (int64_t i = 0; i < bytes; i += 64) __builtin_prefetch((const void *)((uintptr_t)p + (uintptr_t)(at + i)));
}

/* What a row of output prefetches (mp_prefetch from its first input row):
 * the input rows that the row MP_AHEAD rows on first reads, *bytes of
 * them from *ahead bytes on; *bytes 0 where rows are short. */
static inline void mp_prefetch_plan(const nnl_pool2d *g, int64_t esize, int64_t *ahead, int64_t *bytes) {
    const int64_t row = g->in[1] * esize;
    *ahead = ((g->k[0] - 1) * g->d[0] + 1 + (MP_AHEAD - 1) * g->s[0]) * row;
    *bytes = row >= MP_PREFETCH_BYTES ? g->s[0] * row : 0;
}
#endif

/* Columns of input one vertical block covers. */
#define MP_VW (2 * MP_VP * MP_L)

/* Up to four accumulators a0..a3, spelled out (an array of them is kept
 * in memory); the `n > k` tests are constants after inlining. */
#define MP_EACH_(n, op)                                                                                \
    do {                                                                                               \
        op(0);                                                                                         \
        if ((n) > 1) op(1);                                                                            \
        if ((n) > 2) op(2);                                                                            \
        if ((n) > 3) op(3);                                                                            \
    } while (0)

typedef struct MP_FN(plan) {
    MP_T *v;                           /* the row buffers, slot elements apart */
    int64_t slot;
    int64_t half;                      /* phase size with stride 2, else 0 */
    int64_t ev, od;                    /* where padded columns pl and pl + 1 are */
    bool vec;                          /* windows by vectors: at[] set */
    int64_t at[MP_TAPS];
    int64_t ahead, pf;                 /* prefetch pf bytes from ahead bytes past a row's x0 */
} MP_FN(plan);

static inline MP_V MP_FN(load)(const MP_T *p, MP_T flip) {
    MP_V v;
    memcpy(&v, p, sizeof v);
    return MP_IN(v, flip);
}

static inline void MP_FN(store)(MP_T *p, MP_V v) { memcpy(p, &v, sizeof v); }

/* Padded column p of the row buffer. */
static inline MP_T *MP_FN(col)(MP_T *v, int64_t half, int64_t p) {
    return half ? v + (p & 1) * half + (p >> 1) : v + p;
}

/* Columns [w, w + MP_L * nv) of the row (nv a constant at each call: 1,
 * 2 or 2 * MP_VP, even when split): the max over n input rows (stride rs)
 * from x0 + w into the buffer at ev / od: its even and odd columns when
 * split into phases, else all of them at ev.  The accumulators start at
 * MP_LOW (n may be 0, and a first NaN row must not be kept). */
static inline __attribute__((always_inline)) void MP_FN(vblock)(const MP_T *x0, int64_t rs, int64_t n, int nv,
                                                                MP_T flip, bool split, MP_T *ev, MP_T *od) {
    const MP_V low = (MP_V){0} + MP_LOW;
    MP_V a0 = low, a1 = low, a2 = low, a3 = low;
    for (int64_t kh = 0; kh < n; kh++) {
        const MP_T *p = x0 + kh * rs;
#define MP_ROW_(k) a##k = MP_MAX(a##k, MP_FN(load)(p + (k) * MP_L, flip))
        MP_EACH_(nv, MP_ROW_);
#undef MP_ROW_
    }
    if (!split) {
#define MP_PUT_(k) MP_FN(store)(ev + (k) * MP_L, a##k)
        MP_EACH_(nv, MP_PUT_);
#undef MP_PUT_
        return;
    }
    MP_FN(store)(ev, MP_EVEN(a0, a1));
    MP_FN(store)(od, MP_ODD(a0, a1));
    if (nv > 2) {
        MP_FN(store)(ev + MP_L, MP_EVEN(a2, a3));
        MP_FN(store)(od + MP_L, MP_ODD(a2, a3));
    }
}

/* Outputs [ow, ow + MP_L * nv) (nv a constant at each call): tap kw of
 * output ow is v[at[kw] + ow].  The buffer holds no NaN, so tap 0 starts
 * the max. */
static inline __attribute__((always_inline)) void MP_FN(hblock)(const MP_T *v, const int64_t *at, int64_t KW,
                                                                int nv, MP_T flip, MP_T *y, int64_t ow) {
    MP_V a0, a1, a2, a3;
    const MP_T *p = v + at[0] + ow;
#define MP_FIRST_(k) a##k = MP_FN(load)(p + (k) * MP_L, 0)
    MP_EACH_(nv, MP_FIRST_);
#undef MP_FIRST_
    for (int64_t kw = 1; kw < KW; kw++) {
        p = v + at[kw] + ow;
#define MP_TAP_(k) a##k = MP_MAX(a##k, MP_FN(load)(p + (k) * MP_L, 0))
        MP_EACH_(nv, MP_TAP_);
#undef MP_TAP_
    }
#define MP_OUT_(k) MP_FN(store)(y + ow + (k) * MP_L, MP_IN(a##k, flip))
    MP_EACH_(nv, MP_OUT_);
#undef MP_OUT_
}

/* The row buffer's columns: the max over the n input rows from x0. */
static inline __attribute__((always_inline)) void MP_FN(vrow)(const nnl_pool2d *g, const MP_FN(plan) *q, MP_T *v,
                                                              const MP_T *x0, int64_t n, MP_T flip) {
    const int64_t W = g->in[1], PL = g->pb[1], rs = g->d[0] * W, half = q->half;
    MP_T *ev = v + q->ev, *od = v + q->od;
    const bool split = half != 0;
    int64_t w = 0;
    const int sh = split ? 1 : 0;   /* w is even here: column w of either phase is at w / 2 */
    for (; w + MP_VW <= W; w += MP_VW)
        MP_FN(vblock)(x0 + w, rs, n, 2 * MP_VP, flip, split, ev + (w >> sh), od + (w >> 1));
    /* the rest by pairs of vectors, the last overlapping the one before;
     * then (unsplit) by single vectors */
    for (; MP_VP > 1 && w + 2 * MP_L <= W; w += 2 * MP_L)
        MP_FN(vblock)(x0 + w, rs, n, 2, flip, split, ev + (w >> sh), od + (w >> 1));
    if (w < W && W >= 2 * MP_L) {
        w = W - 2 * MP_L;
        MP_FN(vblock)(x0 + w, rs, n, 2, flip, split, MP_FN(col)(v, half, PL + w), MP_FN(col)(v, half, PL + w + 1));
        w = W;
    }
    if (w < W && W >= MP_L && !split) {
        if (w + MP_L < W) MP_FN(vblock)(x0 + w, rs, n, 1, flip, false, v + PL + w, NULL);
        MP_FN(vblock)(x0 + W - MP_L, rs, n, 1, flip, false, v + PL + W - MP_L, NULL);
        w = W;
    }
    for (; w < W; w++) {
        MP_T acc = MP_LOW;
        for (int64_t kh = 0; kh < n; kh++) {
            const MP_T t = MP_IN(x0[kh * rs + w], flip);
            acc = t > acc ? t : acc;
        }
        *MP_FN(col)(v, half, PL + w) = acc;
    }
}

/* A row of output from the row buffer v by vectors (q->vec).  The tap
 * offsets are copied to locals: 8-bit stores to y could alias them. */
static inline __attribute__((always_inline)) void MP_FN(hrow)(const MP_FN(plan) *q, const MP_T *v, int64_t KW,
                                                              int64_t OW, MP_T flip, MP_T *y) {
    int64_t at[MP_TAPS];
    for (int64_t kw = 0; kw < KW; kw++) at[kw] = q->at[kw];
    int64_t ow = 0;
    for (; ow + MP_HV * MP_L <= OW; ow += MP_HV * MP_L) MP_FN(hblock)(v, at, KW, MP_HV, flip, y, ow);
    for (; ow + MP_L <= OW; ow += MP_L) MP_FN(hblock)(v, at, KW, 1, flip, y, ow);
    if (ow < OW) MP_FN(hblock)(v, at, KW, 1, flip, y, OW - MP_L);
}

/* nr rows of output: row i from the n[i] input rows at x0[i] into y[i],
 * each through its own row buffer, all buffers first: a window read right
 * after the stores it straddles waited on them (store forwarding fails on
 * unaligned loads), most of the time on rows of 7 to 28 outputs.  Always
 * inlined: each call site has a constant flip.  Three taps (3x3 windows,
 * nearly every MaxPool) get loops of constant length. */
static inline __attribute__((always_inline)) void MP_FN(batch)(const nnl_pool2d *g, const MP_FN(plan) *q, int nr,
                                                               const MP_T *const *x0, const int64_t *n,
                                                               MP_T *const *y, MP_T flip) {
    const int64_t OW = g->out[1], KW = g->k[1], SW = g->s[1], DW = g->d[1];
    for (int i = 0; i < nr; i++) {
        if (q->pf) mp_prefetch(x0[i], q->ahead, q->pf);
        if (n[i] == 3)
            MP_FN(vrow)(g, q, q->v + i * q->slot, x0[i], 3, flip);
        else
            MP_FN(vrow)(g, q, q->v + i * q->slot, x0[i], n[i], flip);
    }
    for (int i = 0; i < nr; i++) {
        const MP_T *v = q->v + i * q->slot;
        if (q->vec && KW == 3) {
            MP_FN(hrow)(q, v, 3, OW, flip, y[i]);
        } else if (q->vec) {
            MP_FN(hrow)(q, v, KW, OW, flip, y[i]);
        } else {
            for (int64_t ow = 0; ow < OW; ow++) {
                MP_T acc = MP_LOW;
                for (int64_t kw = 0; kw < KW; kw++) {
                    const MP_T t = *MP_FN(col)((MP_T *)v, q->half, ow * SW + kw * DW);
                    acc = t > acc ? t : acc;
                }
                y[i][ow] = MP_IN(acc, flip);
            }
        }
    }
}

/* Rows [b, e) of output (gemm.h nnl_maxpool_fn) over the scratch, which
 * holds nnl_pool2d_scratch_bytes (one row buffer), by batches of up to
 * MP_BATCH rows whose buffers stay within 16 KB.  Inline only so that a
 * file may leave an instance unused. */
static inline void MP_FN(rows)(const nnl_pool2d *g, const void *xv, void *yv, int64_t b, int64_t e,
                               void *scratch) {
    const int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1], padded = nnl_pool2d_padded(g);
    MP_FN(plan) q = {.v = scratch, .half = g->s[1] == 2 ? nnl_pool2d_phase(padded) : 0};
    q.slot = q.half ? 2 * q.half : NNL_ROW_STRIDE(padded);
    q.ev = MP_FN(col)(q.v, q.half, g->pb[1]) - q.v;
    q.od = MP_FN(col)(q.v, q.half, g->pb[1] + 1) - q.v;
    q.vec = g->s[1] <= 2 && g->k[1] <= MP_TAPS && OW >= MP_L;
    for (int64_t kw = 0; q.vec && kw < g->k[1]; kw++) q.at[kw] = MP_FN(col)(q.v, q.half, kw * g->d[1]) - q.v;
    mp_prefetch_plan(g, (int64_t)sizeof(MP_T), &q.ahead, &q.pf);
    int64_t batch = (int64_t)(16384 / sizeof(MP_T)) / q.slot;
    batch = batch < 1 ? 1 : batch > MP_BATCH ? MP_BATCH : batch;
    /* the pads; the rows' columns are rewritten */
    for (int64_t i = 0; i < batch * q.slot; i++) q.v[i] = MP_LOW;
    const MP_T *x = xv;
    MP_T *y = yv;
    /* plane and oh stepped, not divided out of row (a division a row
     * showed in profiles) */
    int64_t plane = b / OH, oh = b % OH;
    for (int64_t row = b; row < e; row += batch) {
        const int nr = (int)(e - row < batch ? e - row : batch);
        const MP_T *x0[MP_BATCH];
        int64_t n[MP_BATCH];
        MP_T *yr[MP_BATCH];
        for (int i = 0; i < nr; i++) {
            const int64_t hs = oh * g->s[0] - g->pb[0];
            int64_t kh0, kh1;
            nnl_tap_range(hs, g->k[0], g->d[0], H, &kh0, &kh1);
            n[i] = kh1 - kh0;
            /* (a window all in the pads reads no row: x0 stays inside x) */
            x0[i] = n[i] ? x + plane * H * W + (hs + kh0 * g->d[0]) * W : x;
            yr[i] = y + plane * OH * OW + oh * OW;
            if (++oh == OH) {
                oh = 0;
                plane++;
            }
        }
        if (MP_FLIP8 && g->int8)
            MP_FN(batch)(g, &q, nr, x0, n, yr, MP_FLIP8);
        else
            MP_FN(batch)(g, &q, nr, x0, n, yr, 0);
    }
}

#undef MP_VW
#undef MP_EACH_
#undef MP_T
#undef MP_V
#undef MP_L
#undef MP_FN
#undef MP_LOW
#undef MP_MAX
#undef MP_EVEN
#undef MP_ODD
#undef MP_IN
#undef MP_FLIP8
#undef MP_VP
#undef MP_HV
