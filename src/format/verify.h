/*
 * Full integrity check of an opened .nnl file.  nnl_file_read checks the
 * metadata checksum at every open but leaves the weight data alone, since
 * reading every weight byte would defeat mapping; this reads all of it.
 */
#ifndef NNL_VERIFY_H
#define NNL_VERIFY_H

#include "format/nnl_file.h"

/* Recompute the metadata and weights checksums of f (opened with
 * nnl_file_read) over the mapped bytes.  NNL_ERR_FORMAT naming the damaged
 * part when either differs; NNL_ERR_INVALID_ARG for a file not read from
 * disk. */
nnl_status nnl_file_verify(const nnl_file *f);

#endif
