/*
 * Shared by the ONNX importer's files: field numbers of onnx.proto (the
 * subset the importer reads), file mapping, and TensorProto decoding.
 */
#ifndef NNL_ONNX_INTERNAL_H
#define NNL_ONNX_INTERNAL_H

#include "onnx/pb.h"

/* Field numbers, from onnx.proto (IR version 8). */
enum {
    ONNX_MODEL_IR_VERSION = 1,
    ONNX_MODEL_PRODUCER_NAME = 2,
    ONNX_MODEL_PRODUCER_VERSION = 3,
    ONNX_MODEL_DOMAIN = 4,
    ONNX_MODEL_MODEL_VERSION = 5,
    ONNX_MODEL_DOC_STRING = 6,
    ONNX_MODEL_GRAPH = 7,
    ONNX_MODEL_OPSET_IMPORT = 8,
    ONNX_MODEL_METADATA_PROPS = 14,
    ONNX_MODEL_TRAINING_INFO = 20,
    ONNX_MODEL_FUNCTIONS = 25,

    ONNX_OPSET_DOMAIN = 1,
    ONNX_OPSET_VERSION = 2,

    ONNX_GRAPH_NODE = 1,
    ONNX_GRAPH_NAME = 2,
    ONNX_GRAPH_INITIALIZER = 5,
    ONNX_GRAPH_INPUT = 11,
    ONNX_GRAPH_OUTPUT = 12,
    ONNX_GRAPH_SPARSE_INITIALIZER = 15,

    ONNX_NODE_INPUT = 1,
    ONNX_NODE_OUTPUT = 2,
    ONNX_NODE_NAME = 3,
    ONNX_NODE_OP_TYPE = 4,
    ONNX_NODE_ATTRIBUTE = 5,
    ONNX_NODE_DOMAIN = 7,

    ONNX_ATTR_NAME = 1,
    ONNX_ATTR_F = 2,
    ONNX_ATTR_I = 3,
    ONNX_ATTR_S = 4,
    ONNX_ATTR_T = 5,
    ONNX_ATTR_FLOATS = 7,
    ONNX_ATTR_INTS = 8,
    ONNX_ATTR_STRINGS = 9,
    ONNX_ATTR_TYPE = 20,
    ONNX_ATTR_REF_ATTR_NAME = 21,

    ONNX_VALUEINFO_NAME = 1,
    ONNX_VALUEINFO_TYPE = 2,

    ONNX_TYPE_TENSOR_TYPE = 1,
    ONNX_TYPE_SEQUENCE_TYPE = 4,
    ONNX_TYPE_MAP_TYPE = 5,
    ONNX_TYPE_OPAQUE_TYPE = 7,
    ONNX_TYPE_SPARSE_TENSOR_TYPE = 8,
    ONNX_TYPE_OPTIONAL_TYPE = 9,
    ONNX_TENSORTYPE_ELEM_TYPE = 1,
    ONNX_TENSORTYPE_SHAPE = 2,
    ONNX_SHAPE_DIM = 1,
    ONNX_DIM_VALUE = 1,
    ONNX_DIM_PARAM = 2,

    ONNX_TENSOR_DIMS = 1,
    ONNX_TENSOR_DATA_TYPE = 2,
    ONNX_TENSOR_SEGMENT = 3,
    ONNX_TENSOR_FLOAT_DATA = 4,
    ONNX_TENSOR_INT32_DATA = 5,
    ONNX_TENSOR_STRING_DATA = 6,
    ONNX_TENSOR_INT64_DATA = 7,
    ONNX_TENSOR_NAME = 8,
    ONNX_TENSOR_RAW_DATA = 9,
    ONNX_TENSOR_DOUBLE_DATA = 10,
    ONNX_TENSOR_UINT64_DATA = 11,
    ONNX_TENSOR_EXTERNAL_DATA = 13,
    ONNX_TENSOR_DATA_LOCATION = 14,

    ONNX_ENTRY_KEY = 1,
    ONNX_ENTRY_VALUE = 2
};

/* AttributeProto.AttributeType values. */
enum {
    ONNX_AT_UNDEFINED = 0,
    ONNX_AT_FLOAT = 1,
    ONNX_AT_INT = 2,
    ONNX_AT_STRING = 3,
    ONNX_AT_TENSOR = 4,
    ONNX_AT_GRAPH = 5,
    ONNX_AT_FLOATS = 6,
    ONNX_AT_INTS = 7,
    ONNX_AT_STRINGS = 8,
    ONNX_AT_TENSORS = 9,
    ONNX_AT_GRAPHS = 10,
    ONNX_AT_SPARSE_TENSOR = 11,
    ONNX_AT_SPARSE_TENSORS = 12,
    ONNX_AT_TYPE_PROTO = 13,
    ONNX_AT_TYPE_PROTOS = 14
};

/* TensorProto.DataType values nnlink does not take (the others equal
 * nnl_dtype), and TensorProto.DataLocation. */
enum {
    ONNX_DT_STRING = 8,
    ONNX_DT_COMPLEX64 = 14,
    ONNX_DT_COMPLEX128 = 15,
    ONNX_DT_BFLOAT16 = 16,
    ONNX_LOCATION_EXTERNAL = 1
};

/* A whole file mapped read-only.  An empty file has data == NULL. */
typedef struct onnx_map {
    const uint8_t *data;
    size_t size;
} onnx_map;

nnl_status onnx_map_file(const char *path, onnx_map *m);
void onnx_unmap(onnx_map *m);

/* Where a tensor came from: path names the file in messages, dir is the
 * folder external data paths are relative to. */
typedef struct onnx_src {
    const char *path;
    const char *dir;
} onnx_src;

/* Folder part of path ("." when it has none); nnl_free the result. */
char *onnx_dirname(const char *path);

/* NUL-terminated copy of a string field; refuses embedded NULs.  what
 * names the field in messages. */
nnl_status onnx_string(const pb_field *f, const char *what, char **out);

/* nnl_dtype for an ONNX elem_type, or NNL_DT_UNDEFINED after recording an
 * NNL_ERR_UNSUPPORTED / NNL_ERR_FORMAT message about it. */
nnl_dtype onnx_dtype(int64_t elem_type, nnl_status *err);

/* Decode the TensorProto that msg reads.  On success out->data is a
 * 64-byte aligned buffer (nnl_aligned_free) holding the elements densely
 * in row-major order, and *name (when name != NULL) an nnl_malloc'd copy
 * of the tensor's name ("" if it has none).  kind ("initializer", ...)
 * and fallback (used when the tensor has no name) prefix messages. */
nnl_status onnx_decode_tensor(const onnx_src *src, pb_reader *msg, const char *kind,
                              const char *fallback, nnl_tensor *out, char **name);

#endif
