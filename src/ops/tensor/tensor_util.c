/* Shared helpers of the tensor ops; see tensor_util.h. */
#include <stdio.h>
#include <string.h>

#include "ops/tensor/tensor_util.h"

nnl_status tn_esize(const nnl_op_call *c, const nnl_tensor *t, const char *what, size_t *es) {
    *es = nnl_dtype_size(t->dtype);
    if (*es == 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s has unsupported element type %d", what,
                           (int)t->dtype);
    return NNL_OK;
}

bool tn_is_index_type(nnl_dtype dt) { return dt == NNL_DT_INT32 || dt == NNL_DT_INT64; }

bool tn_is_int_type(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_UINT8: case NNL_DT_INT8: case NNL_DT_UINT16: case NNL_DT_INT16:
    case NNL_DT_INT32: case NNL_DT_INT64: case NNL_DT_UINT32: case NNL_DT_UINT64:
        return true;
    default:
        return false;
    }
}

bool tn_is_float_type(nnl_dtype dt) {
    return dt == NNL_DT_FLOAT || dt == NNL_DT_DOUBLE || dt == NNL_DT_FLOAT16;
}

nnl_status tn_read_ints(const nnl_op_call *c, int idx, const char *what, int64_t *vals,
                        int max, int *n) {
    const nnl_tensor *t = nnl_op_in(c, idx);
    if (!t) return nnl_op_fail(c, NNL_ERR_SHAPE, "missing '%s' input", what);
    if (!tn_is_index_type(t->dtype))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'%s' input must be int32 or int64, not %s", what,
                           nnl_dtype_name(t->dtype));
    if (t->rank > 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'%s' input must be 1-D, got rank %d", what, t->rank);
    int64_t cnt = nnl_tensor_numel(t);
    if (cnt > max)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'%s' input has %lld values, at most %d allowed", what,
                           (long long)cnt, max);
    if (!t->data)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "needs a constant '%s' input", what);
    for (int64_t i = 0; i < cnt; i++) vals[i] = tn_index_at(t->data, t->dtype, i);
    *n = (int)cnt;
    return NNL_OK;
}

void tn_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

void tn_fill(void *dst, int64_t n, const void *value, size_t esize) {
    if (n <= 0) return;
    switch (esize) {
    case 1: memset(dst, *(const uint8_t *)value, (size_t)n); return;
#define TN_FILL(T)                                         \
    {                                                      \
        T v;                                               \
        memcpy(&v, value, sizeof v);                       \
        for (int64_t i = 0; i < n; i++) ((T *)dst)[i] = v; \
        return;                                            \
    }
    case 2: TN_FILL(uint16_t)
    case 4: TN_FILL(uint32_t)
    default: TN_FILL(uint64_t)
#undef TN_FILL
    }
}

/* ---- strided copy ---------------------------------------------------- */

typedef struct copy_ctx {
    uint8_t *dst;
    const uint8_t *src;
    int rank;                  /* >= 1 after coalescing */
    int64_t dims[TN_MAX_COPY_RANK];
    int64_t stride[TN_MAX_COPY_RANK];   /* source, bytes */
    size_t esize;
    /* 2-D tiled transpose: output dim tj (the input's contiguous dim) and
     * the last output dim are walked in tiles; -1 when not used. */
    int tj;
} copy_ctx;

/* Copy one output row (the last dim) from a strided source. */
static void copy_row(uint8_t *d, const uint8_t *s, int64_t n, int64_t st, size_t es) {
    if (st == (int64_t)es) {
        memcpy(d, s, (size_t)n * es);
        return;
    }
    if (st == 0) {
        tn_fill(d, n, s, es);
        return;
    }
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++) d[i] = s[i * st];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) memcpy(d + 2 * i, s + i * st, 2);
        break;
    case 4:
        for (int64_t i = 0; i < n; i++) memcpy(d + 4 * i, s + i * st, 4);
        break;
    default:
        for (int64_t i = 0; i < n; i++) memcpy(d + 8 * i, s + i * st, 8);
        break;
    }
}

/* Rows [b, e) of the output, a row being the last dim. */
static void copy_rows(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    const copy_ctx *k = ctx;
    int r = k->rank;
    int64_t n = k->dims[r - 1];
    int64_t idx[TN_MAX_COPY_RANK];
    int64_t rem = b, off = 0;
    for (int i = r - 2; i >= 0; i--) {
        idx[i] = rem % k->dims[i];
        rem /= k->dims[i];
        off += idx[i] * k->stride[i];
    }
    uint8_t *d = k->dst + (size_t)b * (size_t)n * k->esize;
    for (int64_t row = b; row < e; row++) {
        copy_row(d, k->src + off, n, k->stride[r - 1], k->esize);
        d += (size_t)n * k->esize;
        for (int i = r - 2; i >= 0; i--) {
            off += k->stride[i];
            if (++idx[i] < k->dims[i]) break;
            off -= idx[i] * k->stride[i];
            idx[i] = 0;
        }
    }
}

#define TN_TILE 32

/* One TN_TILE x TN_TILE block: output rows along dim tj (contiguous in the
 * source), output columns along the last dim. */
static void transpose_tile(uint8_t *d, int64_t d_rs, const uint8_t *s, int64_t s_cs, int64_t nr,
                           int64_t nc, size_t es) {
    switch (es) {
#define TN_TILE_LOOP(T)                                                       \
    for (int64_t r = 0; r < nr; r++) {                                        \
        T *dr = (T *)(void *)(d + r * d_rs);                                  \
        const uint8_t *sr = s + (size_t)r * sizeof(T);                        \
        for (int64_t cc = 0; cc < nc; cc++) memcpy(&dr[cc], sr + cc * s_cs, sizeof(T)); \
    }                                                                         \
    break;
    case 1: TN_TILE_LOOP(uint8_t)
    case 2: TN_TILE_LOOP(uint16_t)
    case 4: TN_TILE_LOOP(uint32_t)
    default: TN_TILE_LOOP(uint64_t)
#undef TN_TILE_LOOP
    }
}

/* Work item = (outer index over all dims but tj and the last) x (tile of
 * dim tj).  Output strides are dense. */
static void copy_tiles(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    const copy_ctx *k = ctx;
    int r = k->rank, tj = k->tj;
    int64_t ostr[TN_MAX_COPY_RANK];
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        ostr[i] = s;
        s *= k->dims[i];
    }
    int64_t nt = (k->dims[tj] + TN_TILE - 1) / TN_TILE;
    int64_t ncols = k->dims[r - 1];
    size_t es = k->esize;
    for (int64_t w = b; w < e; w++) {
        int64_t tile = w % nt, outer = w / nt;
        int64_t soff = 0, doff = 0;
        for (int i = r - 2; i >= 0; i--) {
            if (i == tj) continue;
            int64_t x = outer % k->dims[i];
            outer /= k->dims[i];
            soff += x * k->stride[i];
            doff += x * ostr[i];
        }
        int64_t r0 = tile * TN_TILE, nr = k->dims[tj] - r0 < TN_TILE ? k->dims[tj] - r0 : TN_TILE;
        soff += r0 * k->stride[tj];
        doff += r0 * ostr[tj];
        for (int64_t c0 = 0; c0 < ncols; c0 += TN_TILE) {
            int64_t nc = ncols - c0 < TN_TILE ? ncols - c0 : TN_TILE;
            transpose_tile(k->dst + (size_t)(doff + c0) * es, ostr[tj] * (int64_t)es,
                           k->src + soff + c0 * k->stride[r - 1], k->stride[r - 1], nr, nc, es);
        }
    }
}

void tn_copy_strided(nnl_pool *pool, void *dst, const void *src, int rank, const int64_t *dims,
                     const int64_t *src_stride, size_t esize) {
    copy_ctx k;
    int64_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    if (total == 0) return;
    /* Drop size-1 dims, then merge neighbours the source walks
     * contiguously: a transpose or slice often reduces to few dims. */
    int r = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 1) continue;
        if (r > 0 && k.stride[r - 1] == src_stride[i] * dims[i]) {
            k.dims[r - 1] *= dims[i];
            k.stride[r - 1] = src_stride[i];
            continue;
        }
        k.dims[r] = dims[i];
        k.stride[r] = src_stride[i];
        r++;
    }
    if (r == 0) {
        memcpy(dst, src, esize);
        return;
    }
    k.dst = dst;
    k.src = src;
    k.rank = r;
    k.esize = esize;
    k.tj = -1;
    /* A last dim that strides through the source is a transpose: walk it in
     * square tiles against the dim the source reads contiguously. */
    if (r >= 2 && k.stride[r - 1] != (int64_t)esize && k.stride[r - 1] != 0 && k.dims[r - 1] >= 8)
        for (int i = r - 2; i >= 0; i--)
            if (k.stride[i] == (int64_t)esize && k.dims[i] >= 8) {
                k.tj = i;
                break;
            }
    if (k.tj >= 0) {
        int64_t items = (total / (k.dims[k.tj] * k.dims[r - 1])) *
                        ((k.dims[k.tj] + TN_TILE - 1) / TN_TILE);
        double bytes = (double)total * (double)esize / (double)items;
        nnl_op_parallel_bytes(pool, items, bytes, copy_tiles, &k);
        return;
    }
    int64_t rows = total / k.dims[r - 1];
    nnl_op_parallel_bytes(pool, rows, (double)k.dims[r - 1] * (double)esize, copy_rows, &k);
}
