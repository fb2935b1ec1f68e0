/*
 * ONNX importer: reads an ONNX ModelProto (as torch.onnx.export writes it)
 * into the compiler IR, and single TensorProto files (.pb) as used by the
 * ONNX conformance cases.
 *
 * The file is untrusted: it is mapped read-only and every field, length
 * and size is checked before use.  Failures return NNL_ERR_FORMAT (not
 * ONNX, corrupt, inconsistent), NNL_ERR_UNSUPPORTED (valid ONNX that
 * nnlink does not take: other op domains, string/complex/bfloat16 tensors,
 * graph attributes, ...), NNL_ERR_IO or NNL_ERR_NOMEM, with a message that
 * names the file and the failing element.
 */
#ifndef NNL_ONNX_IMPORT_H
#define NNL_ONNX_IMPORT_H

#include "ir/model.h"

/* Load the model at path.  On success *out is a new model (nnl_model_free)
 * holding:
 *   - m->opset: the ai.onnx opset the file imports (>= 7);
 *   - graph inputs that are not initializers as NNL_VAL_INPUT values, in
 *     file order in m->inputs.  dims[i] == -1 for a dimension given by
 *     name (dim_param[i] holds it) or not given; shape_known is true when
 *     every dim is fixed.  An input without a shape has t.rank == -1.
 *   - initializers and Constant node outputs as NNL_VAL_CONST values with
 *     64-byte aligned data owned by the model;
 *   - every other node, in file order, with node names ("<op>_<index>"
 *     when the file gives none), inputs (-1 for an omitted optional input),
 *     outputs (-1 for an omitted optional output followed by a present one;
 *     trailing omitted outputs are dropped) and attributes;
 *   - graph outputs with is_output set, in order in m->outputs.
 * On failure *out is NULL. */
nnl_status nnl_onnx_load(const char *path, nnl_model **out);

/* Load a serialized TensorProto.  On success out->data is a 64-byte
 * aligned copy of the elements (free with nnl_aligned_free) and, when name
 * is not NULL, *name the tensor's name ("" if none; free with nnl_free). */
nnl_status nnl_onnx_load_tensor(const char *path, nnl_tensor *out, char **name);

#endif
