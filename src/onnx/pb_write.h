/*
 * Protocol buffers wire-format writer, and the few ONNX messages nnlink
 * writes (TensorProto, NodeProto) on top of it.
 *
 * A pb_buf grows as fields are appended.  Errors are sticky: the first
 * failed allocation sets `oom`, later calls do nothing, and the owner
 * checks pb_buf_status once at the end, so a sequence of appends needs no
 * check after each one.  A sub-message is built in its own pb_buf and
 * appended with pb_put_msg (protobuf length-prefixes every message, so its
 * size must be known before its first byte is written).
 */
#ifndef NNL_PB_WRITE_H
#define NNL_PB_WRITE_H

#include "onnx/pb.h"

typedef struct pb_buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} pb_buf;

void pb_buf_free(pb_buf *b);
/* NNL_OK, or NNL_ERR_NOMEM after any failed append. */
nnl_status pb_buf_status(const pb_buf *b);

void pb_put_raw(pb_buf *b, const void *data, size_t n);
void pb_put_varint(pb_buf *b, uint32_t num, uint64_t v);
void pb_put_bytes(pb_buf *b, uint32_t num, const void *data, size_t n);
void pb_put_str(pb_buf *b, uint32_t num, const char *s);
void pb_put_float(pb_buf *b, uint32_t num, float v);
/* The whole of sub as length-delimited field num. */
void pb_put_msg(pb_buf *b, uint32_t num, const pb_buf *sub);
/* Field f, just read by r (r->p is at its end), copied byte for byte. */
void pb_put_field(pb_buf *b, const pb_reader *r, const pb_field *f);

/* ---- ONNX ---------------------------------------------------------------- */

/* TensorProto {dims, data_type, name, raw_data} as field num of b. */
void onnx_put_tensor(pb_buf *b, uint32_t num, const char *name, nnl_dtype dt, int rank,
                     const int64_t *dims, const void *data);
/* NodeProto of the default domain with up to three inputs and one output;
 * axis >= 0 adds the int attribute "axis". */
void onnx_put_node(pb_buf *b, uint32_t num, const char *op, const char *name,
                   const char *const *in, int n_in, const char *out, int64_t axis);

#endif
