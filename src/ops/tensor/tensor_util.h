/*
 * Helpers of the shape and data-movement ops (the files of ops/tensor/,
 * beside the helpers of every family in ops/op_util.h): element sizes and
 * types, reading constant int tensors, and the strided copy engine every
 * layout-changing op reduces to.
 *
 * Messages name the op and node: "Slice node 'x': ...".
 */
#ifndef NNL_TENSOR_UTIL_H
#define NNL_TENSOR_UTIL_H

#include "ops/op_util.h"

/* Element size of a data-movement dtype; fails (0) for undefined types. */
nnl_status tn_esize(const nnl_op_call *c, const nnl_tensor *t, const char *what, size_t *es);
bool tn_is_index_type(nnl_dtype dt);      /* int32 / int64 */
bool tn_is_int_type(nnl_dtype dt);        /* any integer type, not bool */
bool tn_is_float_type(nnl_dtype dt);      /* float16 / float / double */

/* Values of an int32/int64 input (rank 0 or 1) as int64, at most max of
 * them.  Fails with NNL_ERR_UNSUPPORTED "... needs a constant '<what>'
 * input" when the data is unknown (compile time, non-constant input). */
nnl_status tn_read_ints(const nnl_op_call *c, int idx, const char *what, int64_t *vals,
                        int max, int *n);
/* Load element i of an int32/int64 buffer. */
static inline int64_t tn_index_at(const void *p, nnl_dtype dt, int64_t i) {
    return dt == NNL_DT_INT64 ? ((const int64_t *)p)[i] : (int64_t)((const int32_t *)p)[i];
}

/* Position in an index tensor of GatherElements / ScatterElements, walked
 * in order: idx the coordinates, base the data offset (in elements, with
 * data strides xs) of the position with the `axis` coordinate left out, to
 * which the element's index times xs[axis] is added.  Start zeroed. */
typedef struct tn_elem_walk {
    int64_t idx[NNL_MAX_RANK];
    int64_t base;
} tn_elem_walk;
/* Advance to the next position of an index tensor of shape dims[0..rank). */
static inline void tn_elem_walk_next(tn_elem_walk *w, const int64_t *dims, int rank, int axis,
                                     const int64_t *xs) {
    for (int d = rank - 1; d >= 0; d--) {
        if (d != axis) w->base += xs[d];
        if (++w->idx[d] < dims[d]) break;
        if (d != axis) w->base -= w->idx[d] * xs[d];
        w->idx[d] = 0;
    }
}

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

#endif
