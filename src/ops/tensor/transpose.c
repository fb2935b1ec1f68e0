/*
 * Permuting copies: Transpose, DepthToSpace, SpaceToDepth.  Each computes
 * the source byte stride of every output dim (in a view of up to 6 dims)
 * and hands the rest to tn_copy_strided, which merges dims and tiles real
 * transposes.
 */
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

/* ---- Transpose --------------------------------------------------------- */

/* perm (default: the reversed axes) with negative entries normalised.
 * Unchecked: infer calls check_perm first, and exec runs only on calls
 * infer accepted (the session re-runs it on every node it opens). */
static void read_perm(const nnl_op_call *c, int rank, int *perm) {
    const nnl_attr *a = nnl_attr_get(c, "perm");
    for (int i = 0; i < rank; i++) {
        const int64_t p = a ? a->ints[i] : rank - 1 - i;
        perm[i] = (int)(p < 0 ? p + rank : p);
    }
}

/* perm is a list of rank distinct axes in [-rank, rank).  Negative entries
 * are not ONNX, but numpy accepts them and so do several runtimes. */
static nnl_status check_perm(const nnl_op_call *c, int rank) {
    const int64_t *p;
    int n;
    nnl_status s = nnl_op_attr_ints(c, "perm", &p, &n);
    if (s || n < 0) return s;
    if (n != rank)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'perm' has %d entries for an input of rank %d", n, rank);
    bool seen[NNL_MAX_RANK] = {false};
    return nnl_op_axes_mark(c, p, n, rank, seen);
}

nnl_status tn_Transpose_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"perm", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 1, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int perm[NNL_MAX_RANK];
    if ((s = check_perm(c, x->rank))) return s;
    read_perm(c, x->rank, perm);
    int64_t d[NNL_MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = x->dims[perm[i]];
    return nnl_op_set_out(c, c->out[0], x->dtype, x->rank, d);
}

nnl_status tn_Transpose_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *y = c->out[0];
    size_t es = nnl_dtype_size(x->dtype);
    int perm[NNL_MAX_RANK];
    read_perm(c, x->rank, perm);
    int64_t xs[NNL_MAX_RANK], st[NNL_MAX_RANK];
    tn_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++) st[i] = xs[perm[i]] * (int64_t)es;
    tn_copy_strided(c->pool, y->data, x->data, y->rank, y->dims, st, es);
    return NNL_OK;
}

/* ---- DepthToSpace / SpaceToDepth -------------------------------------- */

static nnl_status block_args(nnl_op_call *c, int64_t *b, size_t *es) {
    nnl_status s = nnl_op_check_io(c, 1, 1, 1, 1, 1);
    if (!s) s = nnl_op_check_inputs(c);
    if (!s) s = tn_esize(c, c->in[0], "input", es);
    if (!s) s = nnl_op_attr_int(c, "blocksize", 0, b);
    if (s) return s;
    if (*b <= 0 || *b > 4096)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'blocksize' must be positive, got %lld", (long long)*b);
    if (c->in[0]->rank != 4)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "input must be 4-D, got rank %d", c->in[0]->rank);
    return NNL_OK;
}

static bool is_crd(const nnl_op_call *c) {
    return strcmp(nnl_attr_str(c, "mode", "DCR"), "CRD") == 0;
}

nnl_status tn_DepthToSpace_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"blocksize", "mode", NULL};
    nnl_status s = nnl_attr_check(c, known);
    int64_t b;
    size_t es;
    if (!s) s = block_args(c, &b, &es);
    if (s) return s;
    const char *mode = nnl_attr_str(c, "mode", "DCR");
    if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "mode '%s' (expected DCR or CRD)", mode);
    const int64_t *d = c->in[0]->dims;
    if (d[1] % (b * b) != 0)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "channels %lld are not a multiple of blocksize^2 %lld",
                           (long long)d[1], (long long)(b * b));
    int64_t o[4] = {d[0], d[1] / (b * b), d[2] * b, d[3] * b};
    return nnl_op_set_out(c, c->out[0], c->in[0]->dtype, 4, o);
}

nnl_status tn_DepthToSpace_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    int64_t es = (int64_t)nnl_dtype_size(x->dtype);
    int64_t b = nnl_attr_int(c, "blocksize", 1);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], Co = C / (b * b);
    int64_t hw = H * W;
    /* output viewed as [N, Co, H, b(i), W, b(j)] */
    int64_t dims[6] = {N, Co, H, b, W, b};
    int64_t st[6] = {C * hw, 0, W, 0, 1, 0};
    if (is_crd(c)) {
        st[1] = b * b * hw;   /* channel c*b*b + i*b + j */
        st[3] = b * hw;
        st[5] = hw;
    } else {
        st[1] = hw;           /* channel (i*b + j)*Co + c */
        st[3] = b * Co * hw;
        st[5] = Co * hw;
    }
    for (int i = 0; i < 6; i++) st[i] *= es;
    tn_copy_strided(c->pool, c->out[0]->data, x->data, 6, dims, st, (size_t)es);
    return NNL_OK;
}

nnl_status tn_SpaceToDepth_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"blocksize", NULL};
    nnl_status s = nnl_attr_check(c, known);
    int64_t b;
    size_t es;
    if (!s) s = block_args(c, &b, &es);
    if (s) return s;
    const int64_t *d = c->in[0]->dims;
    if (d[2] % b != 0 || d[3] % b != 0)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "spatial size %lldx%lld is not a multiple of blocksize %lld",
                           (long long)d[2], (long long)d[3], (long long)b);
    int64_t o[4] = {d[0], d[1] * b * b, d[2] / b, d[3] / b};
    return nnl_op_set_out(c, c->out[0], c->in[0]->dtype, 4, o);
}

nnl_status tn_SpaceToDepth_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    int64_t es = (int64_t)nnl_dtype_size(x->dtype);
    int64_t b = nnl_attr_int(c, "blocksize", 1);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    /* output channel (i*b + j)*C + c at (h, w) reads input (c, h*b+i, w*b+j);
     * output viewed as [N, b(i), b(j), C, H/b, W/b] */
    int64_t dims[6] = {N, b, b, C, H / b, W / b};
    int64_t st[6] = {C * H * W, W, 1, H * W, b * W, b};
    for (int i = 0; i < 6; i++) st[i] *= es;
    tn_copy_strided(c->pool, c->out[0]->data, x->data, 6, dims, st, (size_t)es);
    return NNL_OK;
}
