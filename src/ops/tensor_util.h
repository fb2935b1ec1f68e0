/*
 * Helpers shared by the shape and data-movement ops (ops_tensor.c and the
 * tensor_*.c files): argument checks, reading constant int tensors, and the
 * strided copy engine every layout-changing op reduces to.
 *
 * Messages name the op and node: "Slice node 'x': ...".
 */
#ifndef NNL_TENSOR_UTIL_H
#define NNL_TENSOR_UTIL_H

#include "core/core.h"

/* Fail with "<op> node '<name>': <message>" (core's nnl_op_fail). */
#define tn_fail nnl_op_fail

/* Input/output counts and presence.  Inputs [0, required) must be present;
 * outputs [0, n_out) must all be present unless optional_out is set, in
 * which case only output 0 must be. */
nnl_status tn_check_io(const nnl_op_call *c, int min_in, int max_in, int min_out, int max_out);
/* in[i] if present (i < n_in and not NULL), else NULL. */
const nnl_tensor *tn_in(const nnl_op_call *c, int i);
/* out[i] if present, else NULL. */
nnl_tensor *tn_out(const nnl_op_call *c, int i);

/* Element size of a data-movement dtype; fails (0) for undefined types. */
nnl_status tn_esize(const nnl_op_call *c, const nnl_tensor *t, const char *what, size_t *es);
bool tn_is_index_type(nnl_dtype dt);      /* int32 / int64 */
bool tn_is_int_type(nnl_dtype dt);        /* any integer type, not bool */
bool tn_is_float_type(nnl_dtype dt);      /* float16 / float / double */

/* Integer attribute with a type check: missing -> def; not INT -> error. */
nnl_status tn_attr_int(const nnl_op_call *c, const char *name, int64_t def, int64_t *v);
/* INTS attribute: *n = -1 when absent. */
nnl_status tn_attr_ints(const nnl_op_call *c, const char *name, const int64_t **v, int *n);

/* Normalise an axis in [-rank, rank) (or [-rank, rank] with inclusive). */
nnl_status tn_axis(const nnl_op_call *c, int64_t axis, int rank, bool inclusive, int *out);

/* Values of an int32/int64 input (rank 0 or 1) as int64, at most max of
 * them.  Fails with NNL_ERR_UNSUPPORTED "... needs a constant '<what>'
 * input" when the data is unknown (compile time, non-constant input). */
nnl_status tn_read_ints(const nnl_op_call *c, int idx, const char *what, int64_t *vals,
                        int max, int *n);
/* Load element i of an int32/int64 buffer. */
static inline int64_t tn_index_at(const void *p, nnl_dtype dt, int64_t i) {
    return dt == NNL_DT_INT64 ? ((const int64_t *)p)[i] : (int64_t)((const int32_t *)p)[i];
}

/* Set an output's dtype and shape (layout plain); fails if rank is too
 * large or a dim is negative or the element count overflows. */
nnl_status tn_set_out(const nnl_op_call *c, nnl_tensor *t, nnl_dtype dt, int rank,
                      const int64_t *dims);
/* Product of dims[lo, hi). */
int64_t tn_prod(const int64_t *dims, int lo, int hi);
/* Inputs with packed layouts are for GEMM only. */
nnl_status tn_check_plain(const nnl_op_call *c);

/* Contiguous strides, in elements, of dims. */
void tn_strides(int rank, const int64_t *dims, int64_t *strides);

/* The strided copy engine.  dst is dense with shape dims[0..rank); element
 * (i0, ..., ik) is read at src + sum(i_j * src_stride[j]) bytes, so stride 0
 * broadcasts and negative strides reverse.  rank may be up to
 * TN_MAX_COPY_RANK.  Work is spread over the pool when large. */
#define TN_MAX_COPY_RANK (2 * NNL_MAX_RANK + 2)
void tn_copy_strided(nnl_pool *pool, void *dst, const void *src, int rank, const int64_t *dims,
                     const int64_t *src_stride, size_t esize);

/* Fill n elements of size esize with the element at value. */
void tn_fill(void *dst, int64_t n, const void *value, size_t esize);

/* Split [0, n) work items into chunks worth about `bytes_per_item` each and
 * run fn over them on the pool; small jobs run inline. */
typedef void (*tn_range_fn)(void *ctx, int64_t begin, int64_t end);
void tn_parallel(nnl_pool *pool, int64_t n, double bytes_per_item, tn_range_fn fn, void *ctx);

#endif
