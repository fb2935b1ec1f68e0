/* Protocol buffers writer; see pb_write.h. */
#include <string.h>

#include "onnx/onnx_internal.h"
#include "onnx/pb_write.h"

void pb_buf_free(pb_buf *b) {
    nnl_free(b->p);
    memset(b, 0, sizeof *b);
}

nnl_status pb_buf_status(const pb_buf *b) {
    return b->oom ? nnl_fail(NNL_ERR_NOMEM, "out of memory writing the ONNX model") : NNL_OK;
}

static bool reserve(pb_buf *b, size_t n) {
    if (b->oom) return false;
    if (b->cap - b->n >= n) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    uint8_t *p = nnl_realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void pb_put_raw(pb_buf *b, const void *data, size_t n) {
    if (!n || !reserve(b, n)) return;
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_uvarint(pb_buf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t k = 0;
    do {
        tmp[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[k] |= 0x80;
        k++;
    } while (v);
    pb_put_raw(b, tmp, k);
}

static void put_tag(pb_buf *b, uint32_t num, pb_wire w) { put_uvarint(b, (uint64_t)num << 3 | (uint64_t)w); }

void pb_put_varint(pb_buf *b, uint32_t num, uint64_t v) {
    put_tag(b, num, PB_VARINT);
    put_uvarint(b, v);
}

void pb_put_bytes(pb_buf *b, uint32_t num, const void *data, size_t n) {
    put_tag(b, num, PB_LEN);
    put_uvarint(b, n);
    pb_put_raw(b, data, n);
}

void pb_put_str(pb_buf *b, uint32_t num, const char *s) { pb_put_bytes(b, num, s, strlen(s)); }

void pb_put_float(pb_buf *b, uint32_t num, float v) {
    put_tag(b, num, PB_I32);
    pb_put_raw(b, &v, 4);   /* little-endian host (pb.c asserts it) */
}

void pb_put_msg(pb_buf *b, uint32_t num, const pb_buf *sub) {
    if (sub->oom) b->oom = true;
    pb_put_bytes(b, num, sub->p, sub->n);
}

void pb_put_field(pb_buf *b, const pb_reader *r, const pb_field *f) {
    const uint8_t *start = r->base + f->offset;
    pb_put_raw(b, start, (size_t)(r->p - start));
}

void onnx_put_tensor(pb_buf *b, uint32_t num, const char *name, nnl_dtype dt, int rank,
                     const int64_t *dims, const void *data) {
    pb_buf t = {0};
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        pb_put_varint(&t, ONNX_TENSOR_DIMS, (uint64_t)dims[i]);
        n *= dims[i];
    }
    pb_put_varint(&t, ONNX_TENSOR_DATA_TYPE, (uint64_t)dt);
    pb_put_str(&t, ONNX_TENSOR_NAME, name);
    pb_put_bytes(&t, ONNX_TENSOR_RAW_DATA, data, (size_t)n * nnl_dtype_size(dt));
    pb_put_msg(b, num, &t);
    pb_buf_free(&t);
}

void onnx_put_node(pb_buf *b, uint32_t num, const char *op, const char *name,
                   const char *const *in, int n_in, const char *out, int64_t axis) {
    pb_buf nd = {0};
    for (int i = 0; i < n_in; i++) pb_put_str(&nd, ONNX_NODE_INPUT, in[i]);
    pb_put_str(&nd, ONNX_NODE_OUTPUT, out);
    pb_put_str(&nd, ONNX_NODE_NAME, name);
    pb_put_str(&nd, ONNX_NODE_OP_TYPE, op);
    if (axis >= 0) {
        pb_buf a = {0};
        pb_put_str(&a, ONNX_ATTR_NAME, "axis");
        pb_put_varint(&a, ONNX_ATTR_I, (uint64_t)axis);
        pb_put_varint(&a, ONNX_ATTR_TYPE, ONNX_AT_INT);
        pb_put_msg(&nd, ONNX_NODE_ATTRIBUTE, &a);
        pb_buf_free(&a);
    }
    pb_put_msg(b, num, &nd);
    pb_buf_free(&nd);
}
