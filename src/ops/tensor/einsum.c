/*
 * Einsum, computed directly from the equation: every output element sums,
 * over all values of the labels that do not appear in the output, the
 * product of the inputs' elements.  Each input reads a label through the
 * sum of the strides of its dims carrying that label, which also gives
 * diagonals ("ii") for free.  No matmul reordering: this is meant for the
 * small einsums of exported models, not as a GEMM.
 *
 * Labels 0..51 are the letters; 52.. are the dims covered by "...",
 * right-aligned across inputs and broadcast where an input has size 1.
 */
#include <string.h>

#include "ops/tensor/tensor_ops.h"
#include "ops/tensor/tensor_util.h"

#define ES_LETTERS 52
#define ES_LABELS (ES_LETTERS + NNL_MAX_RANK)
#define ES_MAX_IN 8
#define ES_MAX_EQ 256

typedef struct es_plan {
    int n_in;
    int n_out_labels, n_sum_labels;
    int out_labels[ES_LABELS], sum_labels[ES_LABELS];
    int64_t size[ES_LABELS];
    int64_t stride[ES_MAX_IN][ES_LABELS];   /* elements */
    int out_rank;
    int64_t out_dims[NNL_MAX_RANK];
} es_plan;

static int letter_id(char ch) {
    if (ch >= 'a' && ch <= 'z') return ch - 'a';
    if (ch >= 'A' && ch <= 'Z') return 26 + ch - 'A';
    return -1;
}

/* Parse one term into labels (ellipsis marked -2); returns count or -1. */
static int parse_term(const char *s, size_t n, int *labels, bool *has_ell) {
    int k = 0;
    *has_ell = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (*has_ell || i + 2 >= n || s[i + 1] != '.' || s[i + 2] != '.') return -1;
            *has_ell = true;
            labels[k++] = -2;
            i += 2;
        } else {
            int id = letter_id(s[i]);
            if (id < 0) return -1;
            labels[k++] = id;
        }
        if (k > NNL_MAX_RANK + 1) return -1;
    }
    return k;
}

static nnl_status es_plan_make(const nnl_op_call *c, es_plan *p) {
    const char *eq_attr = nnl_attr_str(c, "equation", NULL);
    if (!eq_attr) return nnl_op_fail(c, NNL_ERR_SHAPE, "needs the 'equation' attribute");
    char eq[ES_MAX_EQ];
    size_t n = 0;
    for (const char *q = eq_attr; *q; q++) {
        if (*q == ' ' || *q == '\t') continue;
        if (n + 1 >= sizeof eq) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "equation is too long");
        eq[n++] = *q;
    }
    eq[n] = 0;
    char *arrow = strstr(eq, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - eq) : n;
    memset(p, 0, sizeof *p);
    p->n_in = c->n_in;
    if (c->n_in > ES_MAX_IN) return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "too many inputs");
    int term_labels[ES_MAX_IN][NNL_MAX_RANK + 2], term_n[ES_MAX_IN];
    bool term_ell[ES_MAX_IN];
    int ell_rank = 0, ell_of[ES_MAX_IN];
    size_t pos = 0;
    for (int i = 0; i < c->n_in; i++) {
        size_t end = pos;
        while (end < lhs_len && eq[end] != ',') end++;
        if (i < c->n_in - 1 ? end >= lhs_len : end != lhs_len)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "equation '%s' does not have %d input terms", eq_attr,
                               c->n_in);
        term_n[i] = parse_term(eq + pos, end - pos, term_labels[i], &term_ell[i]);
        if (term_n[i] < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot parse equation '%s'", eq_attr);
        const nnl_tensor *x = c->in[i];
        int letters = term_n[i] - term_ell[i];
        ell_of[i] = x->rank - letters;
        if (ell_of[i] < 0 || (!term_ell[i] && ell_of[i] != 0))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "term %d of '%s' does not match rank %d", i, eq_attr,
                               x->rank);
        if (ell_of[i] > ell_rank) ell_rank = ell_of[i];
        pos = end + 1;
    }
    for (int l = 0; l < ES_LABELS; l++) p->size[l] = -1;
    int count[ES_LABELS] = {0};
    /* sizes and strides */
    for (int i = 0; i < c->n_in; i++) {
        const nnl_tensor *x = c->in[i];
        int64_t xs[NNL_MAX_RANK];
        tn_strides(x->rank, x->dims, xs);
        int d = 0;
        for (int t = 0; t < term_n[i]; t++) {
            int first = 0, cnt = 1;
            if (term_labels[i][t] == -2) {
                first = ES_LETTERS + ell_rank - ell_of[i];
                cnt = ell_of[i];
            }
            for (int e = 0; e < cnt; e++, d++) {
                int l = term_labels[i][t] == -2 ? first + e : term_labels[i][t];
                int64_t sz = x->dims[d];
                count[l]++;
                if (p->size[l] < 0) {
                    p->size[l] = sz;
                } else if (sz != p->size[l]) {
                    if (l < ES_LETTERS || (sz != 1 && p->size[l] != 1))
                        return nnl_op_fail(c, NNL_ERR_SHAPE, "label '%c' has sizes %lld and %lld",
                                           l < ES_LETTERS ? (l < 26 ? 'a' + l : 'A' + l - 26) : '.',
                                           (long long)p->size[l], (long long)sz);
                    if (sz != 1) p->size[l] = sz;
                }
                /* a broadcast (size-1) ellipsis dim always reads index 0 */
                if (!(sz == 1 && l >= ES_LETTERS)) p->stride[i][l] += xs[d];
            }
        }
    }
    bool in_out[ES_LABELS] = {false};
    if (arrow) {
        int ol[NNL_MAX_RANK + 2];
        bool oe;
        int on = parse_term(arrow + 2, strlen(arrow + 2), ol, &oe);
        if (on < 0) return nnl_op_fail(c, NNL_ERR_SHAPE, "cannot parse equation '%s'", eq_attr);
        for (int t = 0; t < on; t++) {
            if (ol[t] == -2) {
                for (int e = 0; e < ell_rank; e++) {
                    p->out_labels[p->n_out_labels++] = ES_LETTERS + e;
                    in_out[ES_LETTERS + e] = true;
                }
                continue;
            }
            if (count[ol[t]] == 0 || in_out[ol[t]])
                return nnl_op_fail(c, NNL_ERR_SHAPE, "output label %d of '%s' is unknown or repeated",
                                   t, eq_attr);
            in_out[ol[t]] = true;
            p->out_labels[p->n_out_labels++] = ol[t];
        }
    } else {
        for (int e = 0; e < ell_rank; e++) {
            p->out_labels[p->n_out_labels++] = ES_LETTERS + e;
            in_out[ES_LETTERS + e] = true;
        }
        for (int r = 0; r < ES_LETTERS; r++) {
            int l = r < 26 ? 26 + r : r - 26;   /* ASCII order: 'A'..'Z' first */
            if (count[l] == 1) {
                p->out_labels[p->n_out_labels++] = l;
                in_out[l] = true;
            }
        }
    }
    if (p->n_out_labels > NNL_MAX_RANK)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "output rank %d is too large", p->n_out_labels);
    for (int l = 0; l < ES_LETTERS + ell_rank; l++)
        if (count[l] && !in_out[l]) p->sum_labels[p->n_sum_labels++] = l;
    p->out_rank = p->n_out_labels;
    for (int k = 0; k < p->out_rank; k++) p->out_dims[k] = p->size[p->out_labels[k]];
    return NNL_OK;
}

nnl_status tn_Einsum_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"equation", NULL};
    nnl_status s = nnl_op_begin(c, known, 1, ES_MAX_IN, 1, 1, 1);
    if (s) return s;
    nnl_dtype dt = c->in[0]->dtype;
    if (dt != NNL_DT_FLOAT && dt != NNL_DT_DOUBLE && dt != NNL_DT_FLOAT16 && dt != NNL_DT_INT32 &&
        dt != NNL_DT_INT64)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "element type %s", nnl_dtype_name(dt));
    for (int i = 0; i < c->n_in; i++)
        if (!c->in[i] || c->in[i]->dtype != dt)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "all inputs must be present and %s",
                               nnl_dtype_name(dt));
    es_plan p;
    if ((s = es_plan_make(c, &p))) return s;
    double work = 1;
    for (int k = 0; k < p.n_out_labels; k++) work *= (double)p.size[p.out_labels[k]];
    for (int k = 0; k < p.n_sum_labels; k++) work *= (double)p.size[p.sum_labels[k]];
    r->flops = work * c->n_in;
    return nnl_op_set_out(c, c->out[0], dt, p.out_rank, p.out_dims);
}

static double es_load(nnl_dtype dt, const void *base, int64_t i) {
    switch (dt) {
    case NNL_DT_FLOAT: return ((const float *)base)[i];
    case NNL_DT_DOUBLE: return ((const double *)base)[i];
    case NNL_DT_FLOAT16: return nnl_half_to_float(((const uint16_t *)base)[i]);
    case NNL_DT_INT32: return ((const int32_t *)base)[i];
    default: return (double)((const int64_t *)base)[i];
    }
}

/* Integers accumulate in int64 (wrapping through uint64), floats in double. */
nnl_status tn_Einsum_exec(const nnl_op_call *c) {
    es_plan p;
    nnl_status s = es_plan_make(c, &p);
    if (s) return s;
    const nnl_tensor *y = c->out[0];
    nnl_dtype dt = y->dtype;
    bool integer = dt == NNL_DT_INT32 || dt == NNL_DT_INT64;
    int64_t n_out = nnl_tensor_numel(y);
    int64_t oidx[ES_LABELS] = {0};
    int64_t base[ES_MAX_IN] = {0};
    for (int64_t o = 0; o < n_out; o++) {
        double acc = 0;
        uint64_t iacc = 0;
        int64_t sidx[ES_LABELS] = {0}, off[ES_MAX_IN];
        bool empty = false;
        for (int k = 0; k < p.n_sum_labels; k++) empty |= p.size[p.sum_labels[k]] == 0;
        for (int i = 0; i < p.n_in; i++) off[i] = base[i];
        while (!empty) {
            if (integer) {
                uint64_t prod = 1;
                for (int i = 0; i < p.n_in; i++)
                    prod *= (uint64_t)(dt == NNL_DT_INT32
                                           ? (int64_t)((const int32_t *)c->in[i]->data)[off[i]]
                                           : ((const int64_t *)c->in[i]->data)[off[i]]);
                iacc += prod;
            } else {
                double prod = 1;
                for (int i = 0; i < p.n_in; i++) prod *= es_load(dt, c->in[i]->data, off[i]);
                acc += prod;
            }
            int k = p.n_sum_labels - 1;
            for (; k >= 0; k--) {
                int l = p.sum_labels[k];
                for (int i = 0; i < p.n_in; i++) off[i] += p.stride[i][l];
                if (++sidx[k] < p.size[l]) break;
                for (int i = 0; i < p.n_in; i++) off[i] -= sidx[k] * p.stride[i][l];
                sidx[k] = 0;
            }
            if (k < 0) break;
        }
        switch (dt) {
        case NNL_DT_FLOAT: ((float *)y->data)[o] = (float)acc; break;
        case NNL_DT_DOUBLE: ((double *)y->data)[o] = acc; break;
        case NNL_DT_FLOAT16: ((uint16_t *)y->data)[o] = nnl_double_to_half(acc); break;
        case NNL_DT_INT32: ((int32_t *)y->data)[o] = (int32_t)(uint32_t)iacc; break;
        default: ((int64_t *)y->data)[o] = (int64_t)iacc; break;
        }
        for (int k = p.n_out_labels - 1; k >= 0; k--) {
            int l = p.out_labels[k];
            for (int i = 0; i < p.n_in; i++) base[i] += p.stride[i][l];
            if (++oidx[k] < p.size[l]) break;
            for (int i = 0; i < p.n_in; i++) base[i] -= oidx[k] * p.stride[i][l];
            oidx[k] = 0;
        }
    }
    return NNL_OK;
}
