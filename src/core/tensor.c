/* dtype helpers, tensor sizes and attribute access. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

size_t nnl_dtype_size(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: case NNL_DT_INT32: case NNL_DT_UINT32: return 4;
    case NNL_DT_UINT8: case NNL_DT_INT8: case NNL_DT_BOOL: return 1;
    case NNL_DT_UINT16: case NNL_DT_INT16: case NNL_DT_FLOAT16: return 2;
    case NNL_DT_INT64: case NNL_DT_DOUBLE: case NNL_DT_UINT64: return 8;
    default: return 0;
    }
}

const char *nnl_dtype_name(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: return "float32";
    case NNL_DT_UINT8: return "uint8";
    case NNL_DT_INT8: return "int8";
    case NNL_DT_UINT16: return "uint16";
    case NNL_DT_INT16: return "int16";
    case NNL_DT_INT32: return "int32";
    case NNL_DT_INT64: return "int64";
    case NNL_DT_BOOL: return "bool";
    case NNL_DT_FLOAT16: return "float16";
    case NNL_DT_DOUBLE: return "float64";
    case NNL_DT_UINT32: return "uint32";
    case NNL_DT_UINT64: return "uint64";
    default: return "undefined";
    }
}

/* A zero dim makes the tensor empty whatever the others claim; checking it
 * first keeps a hostile [huge, huge, 0] from overflowing the product.
 * Callers bound the product of the non-zero dims by NNL_MAX_ELEMS (plan
 * validation, compile), but an op's inference may ask before that check (its
 * FLOP count of an output a hostile file blew up): a product that does not
 * fit saturates at INT64_MAX, which every bound refuses. */
int64_t nnl_tensor_numel(const nnl_tensor *t) {
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] == 0) return 0;
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0 || __builtin_mul_overflow(n, t->dims[i], &n)) return INT64_MAX;
    return n;
}

/* Packed layouts pad the row count up to whole panels; see kernels/gemm.h. */
size_t nnl_tensor_nbytes(const nnl_tensor *t) {
    size_t es = nnl_dtype_size(t->dtype);
    if (t->layout == NNL_LAYOUT_PACK_A8 && t->rank >= 1) {
        int64_t m = t->dims[0], k = nnl_tensor_numel(t) / (m ? m : 1);
        return (size_t)((m + 7) / 8 * 8) * (size_t)k * es;
    }
    /* 36 transform points, each a PACK_A8 matrix of dims[0] x dims[1] */
    if (t->layout == NNL_LAYOUT_WINO43 && t->rank == 4)
        return (size_t)36 * (size_t)((t->dims[0] + 7) / 8 * 8) * (size_t)t->dims[1] * es;
    /* PACK_A8 of the dims[1] x dims[0] transpose */
    if (t->layout == NNL_LAYOUT_PACK_A8T && t->rank == 2)
        return (size_t)((t->dims[1] + 7) / 8 * 8) * (size_t)t->dims[0] * es;
    /* scales and row sums, then quads of 4 input channels at one tap
     * (kernels/qconv.h) */
    if (t->layout == NNL_LAYOUT_PACK_Q8 && t->rank >= 2) {
        int64_t taps = 1;
        for (int i = 2; i < t->rank; i++) taps *= t->dims[i];
        size_t rows = (size_t)((t->dims[0] + 7) / 8 * 8);
        return rows * 8 + rows * (size_t)((t->dims[1] + 3) / 4 * 4 * taps);
    }
    return (size_t)nnl_tensor_numel(t) * es;
}

bool nnl_tensor_nbytes_checked(nnl_dtype dt, int rank, const int64_t *dims, nnl_layout layout,
                               uint64_t *out) {
    if (nnl_dtype_size(dt) == 0 || rank < 0 || rank > NNL_MAX_RANK) return false;
    /* the product of the non-zero dims: a zero dim must not hide huge ones */
    uint64_t n = 1;
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 || (dims[i] > 0 && (nnl_mul_overflow_u64(n, (uint64_t)dims[i], &n) ||
                                            n > NNL_MAX_ELEMS)))
            return false;
    /* float layouts hold float32 or float16 (2-byte elements in the same
     * order), PACK_Q8 int8 only: the only types their readers take */
    if (layout == NNL_LAYOUT_PACK_Q8 ? dt != NNL_DT_INT8
                                     : layout != NNL_LAYOUT_PLAIN && dt != NNL_DT_FLOAT && dt != NNL_DT_FLOAT16)
        return false;
    switch (layout) {
    case NNL_LAYOUT_PLAIN: break;
    case NNL_LAYOUT_PACK_A8: if (rank < 1) return false; break;
    case NNL_LAYOUT_WINO43: if (rank != 4 || dims[2] != 3 || dims[3] != 3) return false; break;
    case NNL_LAYOUT_PACK_A8T: if (rank != 2) return false; break;
    case NNL_LAYOUT_PACK_Q8: if (rank < 2) return false; break;
    default: return false;
    }
    /* below NNL_MAX_ELEMS, layout padding (at most 32x: WINO43 with one
     * output channel) and element size (<= 8) fit in 64 bits */
    nnl_tensor t = {.dtype = dt, .rank = rank, .layout = layout};
    memcpy(t.dims, dims, sizeof(int64_t) * (size_t)rank);
    *out = nnl_tensor_nbytes(&t);
    return true;
}

const char *nnl_layout_name(nnl_layout l) {
    switch (l) {
    case NNL_LAYOUT_PACK_A8: return "pack_a8";
    case NNL_LAYOUT_WINO43: return "wino43";
    case NNL_LAYOUT_PACK_A8T: return "pack_a8t";
    case NNL_LAYOUT_PACK_Q8: return "pack_q8";
    default: return "plain";
    }
}

const char *nnl_shape_str(const nnl_tensor *t, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    if (t->rank == 0) {
        snprintf(buf, n, "scalar");
        return buf;
    }
    for (int i = 0; i < t->rank && used < n; i++) {
        int w = snprintf(buf + used, n - used, i ? "x%lld" : "%lld", (long long)t->dims[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

const nnl_attr *nnl_attr_get(const nnl_op_call *c, const char *name) {
    for (int i = 0; i < c->n_attrs; i++)
        if (strcmp(c->attrs[i].name, name) == 0) return &c->attrs[i];
    return NULL;
}

int64_t nnl_attr_int(const nnl_op_call *c, const char *name, int64_t def) {
    const nnl_attr *a = nnl_attr_get(c, name);
    return a && a->type == NNL_ATTR_INT ? a->i : def;
}

float nnl_attr_float(const nnl_op_call *c, const char *name, float def) {
    const nnl_attr *a = nnl_attr_get(c, name);
    if (!a) return def;
    if (a->type == NNL_ATTR_FLOAT) return a->f;
    if (a->type == NNL_ATTR_INT) return (float)a->i;
    return def;
}

const char *nnl_attr_str(const nnl_op_call *c, const char *name, const char *def) {
    const nnl_attr *a = nnl_attr_get(c, name);
    return a && a->type == NNL_ATTR_STRING ? a->s : def;
}

/* Internal fusion attributes are accepted everywhere the compiler may put
 * them; ONNX files cannot carry them (the importer refuses "nnl_" names). */
nnl_status nnl_attr_check(const nnl_op_call *c, const char *const *known) {
    for (int i = 0; i < c->n_attrs; i++) {
        const char *n = c->attrs[i].name;
        bool ok = strncmp(n, "nnl_", 4) == 0;
        for (const char *const *k = known; !ok && k && *k; k++) ok = strcmp(*k, n) == 0;
        if (!ok)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "%s node '%s': attribute '%s' is not supported",
                            c->op, c->node ? c->node : "", n);
    }
    return NNL_OK;
}
