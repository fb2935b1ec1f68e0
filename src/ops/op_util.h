/*
 * The helper layer every op family shares: input/output access and checks,
 * output shapes under one size cap, axis normalisation, typed attribute
 * reads, dimension products and parallel ranges.
 *
 * Every failure goes through nnl_op_fail, so messages read
 * "<op> node '<name>': ...".
 */
#ifndef NNL_OP_UTIL_H
#define NNL_OP_UTIL_H

#include <limits.h>

#include "core/core.h"

/* The infer/exec pair f_infer / f_exec of an op family.  One pair may
 * serve several op types (all binary ops, the three RNNs, ...); it tells
 * them apart by c->op, so the domain tables stay the only place that list
 * op names. */
#define NNL_OP_FAMILY(f)                                          \
    nnl_status f##_infer(nnl_op_call *c, nnl_infer_result *r); \
    nnl_status f##_exec(const nnl_op_call *c)
/* The table entry of op type `name`, served by family f. */
#define NNL_OP_ENTRY(name, f) {name, f##_infer, f##_exec}

/* Input i when present (i < n_in and not omitted), else NULL. */
static inline const nnl_tensor *nnl_op_in(const nnl_op_call *c, int i) {
    return i >= 0 && i < c->n_in ? c->in[i] : NULL;
}
/* Output i when requested, else NULL. */
static inline nnl_tensor *nnl_op_out(const nnl_op_call *c, int i) {
    return i >= 0 && i < c->n_out ? c->out[i] : NULL;
}

/* No upper bound on the output count for nnl_op_check_io. */
#define NNL_OP_ANY INT_MAX

/* Counts and presence: n_in within [min_in, max_in], inputs [0, n_req)
 * present; at least one output, outputs [0, min_out) present and none
 * requested at index max_out or beyond. */
nnl_status nnl_op_check_io(const nnl_op_call *c, int min_in, int max_in, int n_req, int min_out,
                           int max_out);
/* The usual start of an infer: nnl_attr_check(c, known), then
 * nnl_op_check_io with the other arguments, then nnl_op_check_inputs. */
nnl_status nnl_op_begin(const nnl_op_call *c, const char *const *known, int min_in, int max_in,
                        int n_req, int min_out, int max_out);
/* Every present input has the plain layout (packed layouts are for the
 * GEMM weights of Conv / Gemm / MatMul only), a known dtype, a rank within
 * NNL_MAX_RANK and known (>= 0) dims. */
nnl_status nnl_op_check_inputs(const nnl_op_call *c);

/* Set an output's dtype and shape (plain layout, unused dims zeroed).
 * Fails when rank exceeds NNL_MAX_RANK, a dim is negative or the element
 * count exceeds NNL_MAX_ELEMS: products of input dims can overflow (an
 * empty input admits any other dim), and the arena sizes outputs. */
nnl_status nnl_op_set_out(const nnl_op_call *c, nnl_tensor *t, nnl_dtype dt, int rank,
                          const int64_t *dims);
/* out gets like's shape with dtype dt. */
static inline nnl_status nnl_op_set_like(const nnl_op_call *c, nnl_tensor *out,
                                         const nnl_tensor *like, nnl_dtype dt) {
    return nnl_op_set_out(c, out, dt, like->rank, like->dims);
}

/* Normalise axis from [-rank, rank) into [0, rank), failing with a message
 * that names it `what`. */
nnl_status nnl_op_axis(const nnl_op_call *c, int64_t axis, int rank, const char *what, int *out);

/* Normalise n axes (each in [-rank, rank)) and set mark[axis] for each;
 * the caller clears mark[0..rank).  A repeated axis fails. */
nnl_status nnl_op_axes_mark(const nnl_op_call *c, const int64_t *axes, int64_t n, int rank,
                            bool *mark);

/* Typed attribute reads.  INT: missing -> def, another type fails.  INTS:
 * *n = -1 and *v = NULL when absent, another type fails. */
nnl_status nnl_op_attr_int(const nnl_op_call *c, const char *name, int64_t def, int64_t *v);
nnl_status nnl_op_attr_ints(const nnl_op_call *c, const char *name, const int64_t **v, int *n);
/* An INTS attribute of exactly n values, each >= min, into v; v gets def
 * everywhere when it is absent. */
nnl_status nnl_op_ints_attr(const nnl_op_call *c, const char *name, int n, int64_t def, int64_t min,
                            int64_t *v);

/* Element i of a constant int32 / int64 tensor into *v; fails when t has
 * no data (not a constant) or another dtype, naming it `what`. */
nnl_status nnl_op_int_at(const nnl_op_call *c, const nnl_tensor *t, int64_t i, const char *what,
                         int64_t *v);

/* Product of dims[lo..hi); saturates at INT64_MAX (dims computed from a
 * file's attributes may be anything until the caller has bounded them). */
int64_t nnl_op_prod(const int64_t *dims, int lo, int hi);

/* fn(ctx, begin, end, thread) over consecutive pieces of [0, n) of at
 * least `grain` items (when n allows), a few per pool thread.  With one
 * piece it runs inline, so small tensors pay no pool overhead. */
typedef void (*nnl_op_range_fn)(void *ctx, int64_t begin, int64_t end, int thread);
void nnl_op_parallel(nnl_pool *pool, int64_t n, int64_t grain, nnl_op_range_fn fn, void *ctx);

/* Memory-bound work (data movement): the grain is the number of items that
 * make NNL_OP_PAR_BYTES, so below twice that the work runs inline, where
 * the pool's wake-up would cost more than a second core saves. */
#define NNL_OP_PAR_BYTES (128.0 * 1024)
static inline void nnl_op_parallel_bytes(nnl_pool *pool, int64_t n, double bytes_per_item,
                                         nnl_op_range_fn fn, void *ctx) {
    const double g = NNL_OP_PAR_BYTES / (bytes_per_item > 1 ? bytes_per_item : 1);
    nnl_op_parallel(pool, n, g < (double)n ? (int64_t)g : n, fn, ctx);
}

#endif
