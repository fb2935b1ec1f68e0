/* NumPy .npy files (format versions 1, 2 and 3, C order, little-endian). */
#ifndef NNL_NPY_H
#define NNL_NPY_H

#include "core/core.h"

/* Read path into *out; out->data is allocated with nnl_aligned_alloc and
 * owned by the caller.  Refuses Fortran order, big-endian data, object
 * arrays and files whose size does not match the header. */
nnl_status nnl_npy_read(const char *path, nnl_tensor *out);
/* Write t (PLAIN layout) to path via a temporary file and rename. */
nnl_status nnl_npy_write(const char *path, const nnl_tensor *t);

#endif
