/*
 * Ops that cut or join along axes: Slice, Split, Concat, Pad.
 *
 * Exec recomputes the parameters it needs from the same constant inputs
 * that infer read (they are kept as weights), so infer and exec cannot
 * disagree.
 */
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

/* ---- Slice --------------------------------------------------------------- */

/* Per input dim: first element, step and output length. */
typedef struct slice_plan {
    int64_t start[NNL_MAX_RANK], step[NNL_MAX_RANK], len[NNL_MAX_RANK];
} slice_plan;

static nnl_status slice_vals(const nnl_op_call *c, int idx, const char *attr, int64_t *v, int *n) {
    if (c->n_in > 1) {
        if (!nnl_op_in(c, idx)) {
            *n = -1;
            return NNL_OK;
        }
        return tn_read_ints(c, idx, attr, v, NNL_MAX_RANK, n);
    }
    const int64_t *a;
    nnl_status s = nnl_op_attr_ints(c, attr, &a, n);
    if (s) return s;
    if (*n > NNL_MAX_RANK) return nnl_op_fail(c, NNL_ERR_SHAPE, "'%s' has too many values", attr);
    if (*n > 0) memcpy(v, a, (size_t)*n * sizeof *a);
    return NNL_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static nnl_status slice_plan_make(const nnl_op_call *c, slice_plan *p) {
    const nnl_tensor *x = c->in[0];
    int64_t st[NNL_MAX_RANK], en[NNL_MAX_RANK], ax[NNL_MAX_RANK], sp[NNL_MAX_RANK];
    int ns, ne, na, nsp;
    nnl_status s;
    if ((s = slice_vals(c, 1, "starts", st, &ns)) || (s = slice_vals(c, 2, "ends", en, &ne)) ||
        (s = slice_vals(c, 3, "axes", ax, &na)) || (s = slice_vals(c, 4, "steps", sp, &nsp)))
        return s;
    if (ns < 0 || ne < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs 'starts' and 'ends'");
    if (ne != ns || (na >= 0 && na != ns) || (nsp >= 0 && nsp != ns))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "starts, ends, axes and steps differ in length");
    for (int i = 0; i < x->rank; i++) {
        p->start[i] = 0;
        p->step[i] = 1;
        p->len[i] = x->dims[i];
    }
    bool seen[NNL_MAX_RANK] = {false};
    for (int i = 0; i < ns; i++) {
        int a;
        if ((s = nnl_op_axis(c, na >= 0 ? ax[i] : i, x->rank, "axis", &a))) return s;
        if (seen[a]) return nnl_op_fail(c, NNL_ERR_SHAPE, "axis %d is repeated", a);
        seen[a] = true;
        int64_t d = x->dims[a], step = nsp >= 0 ? sp[i] : 1, b = st[i], e = en[i], len;
        if (step == 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "step is zero on axis %d", a);
        if (b < 0) b += d;
        if (e < 0) e += d;
        if (d == 0) {
            b = 0;
            len = 0;
        } else if (step > 0) {
            b = clamp64(b, 0, d);
            e = clamp64(e, 0, d);
            len = e > b ? (e - b - 1) / step + 1 : 0;
        } else {
            b = clamp64(b, 0, d - 1);
            e = clamp64(e, -1, d - 1);
            /* -step cannot overflow: step == INT64_MIN still gives len 1 */
            len = b > e ? (int64_t)(((uint64_t)(b - e) - 1) / (0 - (uint64_t)step)) + 1 : 0;
        }
        p->start[a] = b;
        p->step[a] = step;
        p->len[a] = len;
    }
    return NNL_OK;
}

/* Byte offset in x of the first element p takes, and x's strides in
 * elements (xs); false when p takes none. */
static bool slice_offset(const nnl_tensor *x, const slice_plan *p, int64_t *xs, int64_t *off) {
    tn_strides(x->rank, x->dims, xs);
    *off = 0;
    for (int i = 0; i < x->rank; i++) {
        if (p->len[i] == 0) return false;
        *off += p->start[i] * xs[i] * (int64_t)nnl_dtype_size(x->dtype);
    }
    return true;
}

/* Whether p takes one contiguous block of x in order: one index on every
 * axis before some axis a, a run of step 1 on a, every index after it
 * (a channel split of a batch-1 NCHW tensor: ShuffleNet's 26). */
static bool slice_contiguous(const nnl_tensor *x, const slice_plan *p) {
    int a = 0;
    while (a < x->rank && p->len[a] == 1) a++;
    if (a < x->rank && p->len[a] > 1 && p->step[a] != 1) return false;
    for (int i = a + 1; i < x->rank; i++)
        if (p->len[i] != x->dims[i]) return false;
    return true;
}

nnl_status tn_Slice_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"starts", "ends", "axes", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 5, 1, 1, 1);
    if (s) return s;
    slice_plan p;
    if ((s = slice_plan_make(c, &p))) return s;
    int64_t xs[NNL_MAX_RANK], off;
    if (slice_offset(c->in[0], &p, xs, &off) && slice_contiguous(c->in[0], &p)) {
        r->view = true;
        r->view_at = (uint64_t)off;
    }
    return nnl_op_set_out(c, c->out[0], c->in[0]->dtype, c->in[0]->rank, p.len);
}

nnl_status tn_Slice_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    slice_plan p;
    nnl_status s = slice_plan_make(c, &p);
    if (s) return s;
    int64_t es = (int64_t)nnl_dtype_size(x->dtype), xs[NNL_MAX_RANK], st[NNL_MAX_RANK], off;
    if (!slice_offset(x, &p, xs, &off)) return NNL_OK;
    const uint8_t *from = (const uint8_t *)x->data + off, *xe = (const uint8_t *)x->data + nnl_tensor_nbytes(x);
    const uint8_t *y = c->out[0]->data, *ye = y + nnl_tensor_nbytes(c->out[0]);
    /* A view placed by the arena holds its bytes already.  The plan lets
     * a Slice's output overlap its input only by lying inside it
     * (runtime/plan.c), which is right only on the block it takes. */
    if (y == from && slice_contiguous(x, &p)) return NNL_OK;
    if (y < xe && (const uint8_t *)x->data < ye)
        return nnl_op_fail(c, NNL_ERR_FORMAT, "output overlaps the input other than as the slice it takes");
    for (int i = 0; i < x->rank; i++)
        /* one element taken: the step (any size the file says) is unused */
        st[i] = p.len[i] == 1 ? 0 : p.step[i] * xs[i] * es;
    tn_copy_strided(c->pool, c->out[0]->data, from, x->rank, p.len, st, (size_t)es);
    return NNL_OK;
}

/* ---- Split --------------------------------------------------------------- */

#define TN_MAX_SPLIT 1024

static nnl_status split_lens(const nnl_op_call *c, int *axis, int64_t *lens) {
    const nnl_tensor *x = c->in[0];
    int64_t a;
    nnl_status s = nnl_op_attr_int(c, "axis", 0, &a);
    if (!s) s = nnl_op_axis(c, a, x->rank, "axis", axis);
    if (s) return s;
    int64_t d = x->dims[*axis], nout = c->n_out, num;
    if ((s = nnl_op_attr_int(c, "num_outputs", -1, &num))) return s;
    const int64_t *sv = NULL;
    int n = -1;
    if ((s = nnl_op_attr_ints(c, "split", &sv, &n))) return s;
    if (n >= 0) {
        if (n > TN_MAX_SPLIT) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "too many outputs");
        memcpy(lens, sv, (size_t)n * sizeof *sv);
    } else if (nnl_op_in(c, 1)) {
        if ((s = tn_read_ints(c, 1, "split", lens, TN_MAX_SPLIT, &n))) return s;
        /* an empty 'split' tensor means "not given" */
        if (n == 0 && nout > 0) n = -1;
    }
    if (n >= 0) {
        if (n != nout)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "'split' has %d values for %lld outputs", n,
                               (long long)nout);
        int64_t sum = 0;
        for (int i = 0; i < n; i++) {
            if (lens[i] < 0 || lens[i] > d)
                return nnl_op_fail(c, NNL_ERR_SHAPE, "split size %lld is invalid", (long long)lens[i]);
            sum += lens[i];
        }
        if (sum != d)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "split sizes add up to %lld, not the dimension %lld",
                               (long long)sum, (long long)d);
        return NNL_OK;
    }
    if (num >= 0 && num != nout)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'num_outputs' is %lld but the node has %lld outputs",
                           (long long)num, (long long)nout);
    if (nout > TN_MAX_SPLIT) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "too many outputs");
    /* Opset 18 num_outputs: ceil-sized chunks, the last one smaller.
     * Before that an equal split must divide exactly. */
    int64_t chunk = num >= 0 ? (d + nout - 1) / nout : d / nout;
    if (num < 0 && d % nout != 0)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "dimension %lld does not split into %lld equal parts",
                           (long long)d, (long long)nout);
    if (chunk * (nout - 1) > d)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "dimension %lld cannot feed %lld outputs", (long long)d,
                           (long long)nout);
    for (int64_t i = 0; i < nout; i++) lens[i] = i < nout - 1 ? chunk : d - chunk * (nout - 1);
    return NNL_OK;
}

nnl_status tn_Split_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"axis", "split", "num_outputs", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 2, 1, 1, TN_MAX_SPLIT);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int axis;
    int64_t lens[TN_MAX_SPLIT];
    if ((s = split_lens(c, &axis, lens))) return s;
    for (int i = 0; i < c->n_out; i++) {
        if (!c->out[i]) continue;
        int64_t d[NNL_MAX_RANK];
        memcpy(d, x->dims, sizeof d);
        d[axis] = lens[i];
        if ((s = nnl_op_set_out(c, c->out[i], x->dtype, x->rank, d))) return s;
    }
    return NNL_OK;
}

nnl_status tn_Split_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0];
    int axis;
    int64_t lens[TN_MAX_SPLIT];
    nnl_status s = split_lens(c, &axis, lens);
    if (s) return s;
    size_t es = nnl_dtype_size(x->dtype);
    int64_t outer = nnl_op_prod(x->dims, 0, axis);
    size_t inner = (size_t)nnl_op_prod(x->dims, axis + 1, x->rank) * es;
    size_t row = (size_t)x->dims[axis] * inner;
    size_t off = 0;
    for (int i = 0; i < c->n_out; i++) {
        size_t chunk = (size_t)lens[i] * inner;
        if (c->out[i] && chunk)
            for (int64_t o = 0; o < outer; o++)
                memcpy((uint8_t *)c->out[i]->data + (size_t)o * chunk,
                       (const uint8_t *)x->data + (size_t)o * row + off, chunk);
        off += chunk;
    }
    return NNL_OK;
}

/* ---- Concat ---------------------------------------------------------------- */

static nnl_status concat_axis(const nnl_op_call *c, int *axis) {
    int64_t a;
    nnl_status s = nnl_op_attr_int(c, "axis", c->opset > 0 && c->opset < 4 ? 1 : INT64_MIN, &a);
    if (s) return s;
    if (a == INT64_MIN) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs the 'axis' attribute");
    return nnl_op_axis(c, a, c->in[0]->rank, "axis", axis);
}

nnl_status tn_Concat_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"axis", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 1 << 20, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0];
    int axis;
    if ((s = concat_axis(c, &axis))) return s;
    int64_t d[NNL_MAX_RANK];
    memcpy(d, x->dims, sizeof d);
    d[axis] = 0;
    for (int i = 0; i < c->n_in; i++) {
        const nnl_tensor *t = c->in[i];
        if (!t) return nnl_op_fail(c, NNL_ERR_SHAPE, "input %d is missing", i);
        if (t->dtype != x->dtype || t->rank != x->rank)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "input %d is %s rank %d, input 0 is %s rank %d", i,
                               nnl_dtype_name(t->dtype), t->rank, nnl_dtype_name(x->dtype), x->rank);
        for (int k = 0; k < x->rank; k++)
            if (k != axis && t->dims[k] != x->dims[k]) {
                char a[128], b[128];
                return nnl_op_fail(c, NNL_ERR_SHAPE, "input %d has shape %s, input 0 has %s", i,
                                   nnl_shape_str(t, a, sizeof a), nnl_shape_str(x, b, sizeof b));
            }
        d[axis] += t->dims[axis];
    }
    return nnl_op_set_out(c, c->out[0], x->dtype, x->rank, d);
}

typedef struct concat_ctx {
    const nnl_op_call *c;
    int axis;
    size_t inner, out_row;     /* bytes */
    size_t chunk;              /* bytes of an output row an item copies */
    int64_t chunks;            /* items a row */
} concat_ctx;

/* Items are byte ranges of the output rows, not whole rows: a batch of
 * one concatenated along channels is a single row, which one thread
 * copied while the others waited (DenseNet's concats, 5% of its time at
 * 2 threads). */
#define CONCAT_CHUNK ((size_t)64 << 10)

static void concat_rows(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    const concat_ctx *k = ctx;
    const nnl_op_call *c = k->c;
    for (int64_t it = b; it < e; it++) {
        const int64_t o = it / k->chunks;
        const size_t lo = (size_t)(it % k->chunks) * k->chunk;
        const size_t hi = lo + k->chunk < k->out_row ? lo + k->chunk : k->out_row;
        uint8_t *row = (uint8_t *)c->out[0]->data + (size_t)o * k->out_row;
        size_t at = 0;
        for (int i = 0; i < c->n_in && at < hi; i++) {
            size_t n = (size_t)c->in[i]->dims[k->axis] * k->inner;
            const uint8_t *src = (const uint8_t *)c->in[i]->data + (size_t)o * n;
            size_t s0 = at > lo ? at : lo, s1 = at + n < hi ? at + n : hi;
            /* an input the arena plan put in place (passes/arena.c) is
             * not copied; memmove: a file may overlap them otherwise */
            if (s1 > s0 && src != row + at) memmove(row + s0, src + (s0 - at), s1 - s0);
            at += n;
        }
    }
}

nnl_status tn_Concat_exec(const nnl_op_call *c) {
    const nnl_tensor *y = c->out[0];
    int axis;
    nnl_status s = concat_axis(c, &axis);
    if (s) return s;
    if (nnl_tensor_numel(y) == 0) return NNL_OK;
    concat_ctx k = {c, axis, (size_t)nnl_op_prod(y->dims, axis + 1, y->rank) * nnl_dtype_size(y->dtype), 0, 0, 1};
    k.out_row = (size_t)y->dims[axis] * k.inner;
    k.chunk = k.out_row > CONCAT_CHUNK ? CONCAT_CHUNK : k.out_row;
    k.chunks = (int64_t)((k.out_row + k.chunk - 1) / k.chunk);
    nnl_op_parallel_bytes(c->pool, nnl_op_prod(y->dims, 0, axis) * k.chunks, (double)k.chunk, concat_rows, &k);
    return NNL_OK;
}

/* ---- Pad --------------------------------------------------------------------- */

typedef enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } pad_mode;

typedef struct pad_plan {
    int64_t before[NNL_MAX_RANK], after[NNL_MAX_RANK];
    pad_mode mode;
} pad_plan;

static nnl_status pad_plan_make(const nnl_op_call *c, pad_plan *p) {
    const nnl_tensor *x = c->in[0];
    int r = x->rank;
    const char *m = nnl_attr_str(c, "mode", "constant");
    if (strcmp(m, "constant") == 0) p->mode = PAD_CONSTANT;
    else if (strcmp(m, "reflect") == 0) p->mode = PAD_REFLECT;
    else if (strcmp(m, "edge") == 0) p->mode = PAD_EDGE;
    else if (strcmp(m, "wrap") == 0) p->mode = PAD_WRAP;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "mode '%s'", m);
    int64_t pads[2 * NNL_MAX_RANK], axes_v[NNL_MAX_RANK];
    int np, na = -1;
    nnl_status s;
    if (c->n_in > 1 && c->in[1]) {
        if ((s = tn_read_ints(c, 1, "pads", pads, 2 * NNL_MAX_RANK, &np))) return s;
        if (nnl_op_in(c, 3) && (s = tn_read_ints(c, 3, "axes", axes_v, NNL_MAX_RANK, &na))) return s;
    } else {
        const int64_t *v;
        if ((s = nnl_op_attr_ints(c, "pads", &v, &np))) return s;
        if (np < 0 && (s = nnl_op_attr_ints(c, "paddings", &v, &np))) return s;
        if (np < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs 'pads'");
        if (np > 2 * NNL_MAX_RANK) return nnl_op_fail(c, NNL_ERR_SHAPE, "too many pads");
        memcpy(pads, v, (size_t)np * sizeof *v);
    }
    int nax = na >= 0 ? na : r;
    if (np != 2 * nax)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'pads' has %d values, expected %d", np, 2 * nax);
    for (int i = 0; i < r; i++) p->before[i] = p->after[i] = 0;
    bool seen[NNL_MAX_RANK] = {false};
    for (int i = 0; i < nax; i++) {
        int a = i;
        if (na >= 0 && (s = nnl_op_axis(c, axes_v[i], r, "axis", &a))) return s;
        if (seen[a]) return nnl_op_fail(c, NNL_ERR_SHAPE, "axis %d is repeated", a);
        seen[a] = true;
        p->before[a] = pads[i];
        p->after[a] = pads[i + nax];
        if (pads[i] < -x->dims[a] || pads[i + nax] < -x->dims[a] ||
            pads[i] > (int64_t)NNL_MAX_ELEMS || pads[i + nax] > (int64_t)NNL_MAX_ELEMS ||
            x->dims[a] + pads[i] + pads[i + nax] < 0)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "pads %lld, %lld do not fit axis %d of size %lld",
                               (long long)pads[i], (long long)pads[i + nax], a,
                               (long long)x->dims[a]);
        if (p->mode != PAD_CONSTANT && x->dims[a] == 0 && (pads[i] > 0 || pads[i + nax] > 0))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot %s-pad the empty axis %d", m, a);
    }
    return NNL_OK;
}

nnl_status tn_Pad_infer(nnl_op_call *c, nnl_infer_result *r) {
    (void)r;
    static const char *const known[] = {"mode", "pads", "value", "paddings", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, 4, 1, 1, 1);
    if (s) return s;
    const nnl_tensor *x = c->in[0], *cv = nnl_op_in(c, 2);
    pad_plan p;
    if ((s = pad_plan_make(c, &p))) return s;
    if (cv && (cv->dtype != x->dtype || nnl_tensor_numel(cv) > 1))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "'constant_value' must be one %s",
                           nnl_dtype_name(x->dtype));
    int64_t d[NNL_MAX_RANK];
    for (int i = 0; i < x->rank; i++) d[i] = x->dims[i] + p.before[i] + p.after[i];
    return nnl_op_set_out(c, c->out[0], x->dtype, x->rank, d);
}

/* Source index of padded position i (outside [0, d)) along an axis of
 * size d > 0.  Reflect repeats with period 2(d-1) as numpy does. */
static int64_t pad_src(int64_t i, int64_t d, pad_mode m) {
    switch (m) {
    case PAD_EDGE:
        return i < 0 ? 0 : d - 1;
    case PAD_WRAP:
        return ((i % d) + d) % d;
    default: {
        if (d == 1) return 0;
        int64_t per = 2 * (d - 1);
        i = ((i % per) + per) % per;
        return i >= d ? per - i : i;
    }
    }
}

typedef struct pad_ctx {
    const nnl_op_call *c;
    pad_plan p;
    uint8_t fill[8];
    size_t es;
    int64_t xs[NNL_MAX_RANK];  /* input strides, elements */
} pad_ctx;

static void pad_rows(void *ctx, int64_t b, int64_t e, int thread) {
    (void)thread;
    const pad_ctx *k = ctx;
    const nnl_tensor *x = k->c->in[0], *y = k->c->out[0];
    int r = x->rank;
    size_t es = k->es;
    int64_t n = y->dims[r - 1], d = x->dims[r - 1], pb = k->p.before[r - 1];
    /* output columns [lo, hi) read the input directly */
    int64_t lo = pb > 0 ? pb : 0, hi = pb + d < n ? pb + d : n;
    if (hi < lo) hi = lo;
    for (int64_t row = b; row < e; row++) {
        uint8_t *o = (uint8_t *)y->data + (size_t)(row * n) * es;
        int64_t rem = row, off = 0;
        bool fill_row = false;
        for (int i = r - 2; i >= 0; i--) {
            int64_t oi = rem % y->dims[i], si = oi - k->p.before[i];
            rem /= y->dims[i];
            if (si < 0 || si >= x->dims[i]) {
                if (k->p.mode == PAD_CONSTANT) {
                    fill_row = true;
                    break;
                }
                si = pad_src(si, x->dims[i], k->p.mode);
            }
            off += si * k->xs[i];
        }
        if (fill_row) {
            tn_fill(o, n, k->fill, es);
            continue;
        }
        const uint8_t *src = (const uint8_t *)x->data + (size_t)off * es;
        if (hi > lo) memcpy(o + (size_t)lo * es, src + (size_t)(lo - pb) * es, (size_t)(hi - lo) * es);
        if (k->p.mode == PAD_CONSTANT) {
            tn_fill(o, lo, k->fill, es);
            tn_fill(o + (size_t)hi * es, n - hi, k->fill, es);
            continue;
        }
        for (int64_t j = 0; j < lo; j++)
            memcpy(o + (size_t)j * es, src + (size_t)pad_src(j - pb, d, k->p.mode) * es, es);
        for (int64_t j = hi; j < n; j++)
            memcpy(o + (size_t)j * es, src + (size_t)pad_src(j - pb, d, k->p.mode) * es, es);
    }
}

nnl_status tn_Pad_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *y = c->out[0], *cv = nnl_op_in(c, 2);
    pad_ctx k;
    k.c = c;
    k.es = nnl_dtype_size(x->dtype);
    nnl_status s = pad_plan_make(c, &k.p);
    if (s) return s;
    memset(k.fill, 0, sizeof k.fill);
    if (cv && nnl_tensor_numel(cv) == 1)
        memcpy(k.fill, cv->data, k.es);
    else if (!cv && c->n_in <= 1)
        tn_from_double(x->dtype, nnl_attr_float(c, "value", 0.0f), k.fill);
    int64_t n = nnl_tensor_numel(y);
    if (n == 0) return NNL_OK;
    if (x->rank == 0) {
        memcpy(y->data, x->data, k.es);
        return NNL_OK;
    }
    if (nnl_tensor_numel(x) == 0) {
        /* only constant mode gets here with padding on an empty axis */
        tn_fill(y->data, n, k.fill, k.es);
        return NNL_OK;
    }
    tn_strides(x->rank, x->dims, k.xs);
    int64_t inner = y->dims[y->rank - 1];
    nnl_op_parallel_bytes(c->pool, n / inner, (double)inner * (double)k.es, pad_rows, &k);
    return NNL_OK;
}
