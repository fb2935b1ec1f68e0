/* Compile driver: ONNX file -> passes -> .nnl file. */
#ifndef NNL_COMPILER_H
#define NNL_COMPILER_H

#include "format/nnl_file.h"
#include "ir/model.h"

/* Run every pass on a loaded model with the given input shapes. */
nnl_status nnl_compile_model(nnl_model *m, const nnl_compile_options *opts);
/* File form of a compiled model; it borrows the model's storage, so free
 * it (nnl_emit_free) before the model. */
nnl_status nnl_emit_file(const nnl_model *m, nnl_file **out);
void nnl_emit_free(nnl_file *f);

#endif
