/*
 * The harness of the op tests that call ops directly (test_ops_math.c,
 * test_ops_extra.c): the reference-case types the generators' tables
 * (tests/refs/ops_*_refs.inc) are written in, the run of one case (infer
 * as at compile time, then exec on a two-thread pool, compare), and calls
 * built by hand.  Include after <cmocka.h>; one test file per binary.
 */
#ifndef NNL_OP_HARNESS_H
#define NNL_OP_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

typedef struct ref_tensor {
    nnl_dtype dt;              /* 0: omitted optional input */
    int rank;
    int64_t dims[NNL_MAX_RANK];
    const void *data;          /* NULL when empty */
    int constant;              /* has data at infer time */
} ref_tensor;

typedef struct ref_case {
    const char *name, *op;
    int64_t opset;
    const nnl_attr *attrs;
    int n_attrs;
    const ref_tensor *in;
    int n_in;
    const ref_tensor *out;
    int n_out;
    double tol;                /* floats: |got - want| <= tol * max(1, |want|) */
} ref_case;

#define MAXIO 10

static nnl_pool *g_pool;
static void *g_tscratch[2]; /* per pool thread, as a session has */
/* Exec without the shared scratch: the recurrent ops' fallback for input
 * projections too large to keep (they compute them step by step). */
static bool ref_no_scratch;

static double elem(nnl_dtype dt, const void *p, int64_t i) {
    switch (dt) {
    case NNL_DT_FLOAT: return ((const float *)p)[i];
    case NNL_DT_DOUBLE: return ((const double *)p)[i];
    default: return NAN;
    }
}

/* Number of elements that differ (the first few are printed). */
static int compare(const char *name, int k, nnl_dtype dt, const void *got, const void *want,
                   int64_t n, double tol) {
    const size_t es = nnl_dtype_size(dt);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        bool ok;
        if (dt == NNL_DT_FLOAT || dt == NNL_DT_DOUBLE) {
            const double a = elem(dt, got, i), b = elem(dt, want, i);
            ok = (isnan(a) && isnan(b)) || a == b ||
                 fabs(a - b) <= tol * (fabs(b) > 1 ? fabs(b) : 1);
            if (!ok && bad < 3)
                printf("  %s: output %d [%lld] = %.9g, want %.9g\n", name, k, (long long)i, a, b);
        } else {
            ok = memcmp((const char *)got + i * es, (const char *)want + i * es, es) == 0;
            if (!ok && bad < 3) {
                int64_t a = 0, b = 0;
                memcpy(&a, (const char *)got + i * es, es);
                memcpy(&b, (const char *)want + i * es, es);
                printf("  %s: output %d [%lld] = %lld, want %lld\n", name, k, (long long)i,
                       (long long)a, (long long)b);
            }
        }
        bad += !ok;
    }
    return bad;
}

static size_t ref_nbytes(const ref_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->dims[i];
    return (size_t)n * nnl_dtype_size(t->dt);
}

/* Infer (constant inputs only carry data), check the output types and
 * shapes, exec on the pool, compare.  Returns the number of problems. */
static int run_case(const ref_case *rc) {
    const nnl_op_def *def = nnl_op_find(rc->op);
    if (!def) {
        printf("  %s: op %s not found\n", rc->name, rc->op);
        return 1;
    }
    if (rc->n_in > MAXIO || rc->n_out > MAXIO) {
        printf("  %s: too many inputs or outputs for the harness\n", rc->name);
        return 1;
    }
    nnl_tensor in[MAXIO], out[MAXIO];
    nnl_tensor *inp[MAXIO], *outp[MAXIO];
    void *bufs[2 * MAXIO] = {0};
    void *scratch = NULL;
    int fails = 0;
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    for (int i = 0; i < rc->n_in; i++) {
        const ref_tensor *r = &rc->in[i];
        inp[i] = NULL;
        if (!r->dt) continue;
        in[i].dtype = r->dt;
        in[i].rank = r->rank;
        memcpy(in[i].dims, r->dims, sizeof r->dims);
        const size_t nb = ref_nbytes(r);
        bufs[i] = malloc(nb ? nb : 1);
        if (nb) memcpy(bufs[i], r->data, nb);
        in[i].data = r->constant ? bufs[i] : NULL;
        inp[i] = &in[i];
    }
    for (int k = 0; k < rc->n_out; k++) outp[k] = &out[k];
    nnl_op_call c = {.op = rc->op, .node = rc->name, .attrs = rc->attrs, .n_attrs = rc->n_attrs,
                     .in = inp, .n_in = rc->n_in, .out = outp, .n_out = rc->n_out,
                     .opset = rc->opset};
    nnl_infer_result ir = {0};
    nnl_status s = def->infer(&c, &ir);
    if (s != NNL_OK) {
        printf("  %s: infer: %s\n", rc->name, nnl_last_error());
        fails++;
        goto done;
    }
    for (int k = 0; k < rc->n_out; k++) {
        const ref_tensor *w = &rc->out[k];
        bool same = out[k].dtype == w->dt && out[k].rank == w->rank;
        for (int d = 0; same && d < w->rank; d++) same = out[k].dims[d] == w->dims[d];
        if (!same) {
            char a[128];
            printf("  %s: output %d is %s %s, want dtype %d rank %d\n", rc->name, k,
                   nnl_dtype_name(out[k].dtype), nnl_shape_str(&out[k], a, sizeof a),
                   (int)w->dt, w->rank);
            fails++;
            goto done;
        }
    }
    for (int i = 0; i < rc->n_in; i++)
        if (inp[i]) in[i].data = bufs[i];
    for (int k = 0; k < rc->n_out; k++) {
        const size_t nb = nnl_tensor_nbytes(&out[k]);
        bufs[MAXIO + k] = malloc(nb ? nb : 1);
        memset(bufs[MAXIO + k], 0xcd, nb ? nb : 1);
        out[k].data = bufs[MAXIO + k];
    }
    scratch = malloc(ir.scratch_bytes ? ir.scratch_bytes : 1);
    c.scratch = ref_no_scratch ? NULL : scratch;
    c.pool = g_pool;
    c.thread_scratch = g_tscratch;
    if ((s = def->exec(&c)) != NNL_OK) {
        printf("  %s: exec: %s\n", rc->name, nnl_last_error());
        fails++;
        goto done;
    }
    for (int k = 0; k < rc->n_out; k++)
        fails += compare(rc->name, k, rc->out[k].dt, out[k].data, rc->out[k].data,
                         nnl_tensor_numel(&out[k]), rc->tol) != 0;
done:
    for (int i = 0; i < 2 * MAXIO; i++) free(bufs[i]);
    free(scratch);
    return fails;
}

/* Run cases[0..n) whose op passes keep (NULL: all); returns how many ran
 * and fails the test if any case failed. */
static int ref_check_cases(const ref_case *cases, int n, bool (*keep)(const char *op)) {
    int fails = 0, ran = 0;
    for (int i = 0; i < n; i++) {
        if (keep && !keep(cases[i].op)) continue;
        fails += run_case(&cases[i]) != 0;
        ran++;
    }
    printf("  %d of %d reference cases failed\n", fails, ran);
    assert_int_equal(fails, 0);
    return ran;
}

/* ---- a call built by hand ------------------------------------------------------- */

typedef struct call {
    nnl_tensor in[8], out[3];
    nnl_tensor *inp[8], *outp[3];
    nnl_op_call c;
    void *scratch;
} call;

static void call_init(call *k, const char *op, int64_t opset, const nnl_attr *attrs,
                      int n_attrs, int n_in, int n_out) {
    memset(k, 0, sizeof *k);
    for (int i = 0; i < 8; i++) k->inp[i] = &k->in[i];
    for (int i = 0; i < 3; i++) k->outp[i] = &k->out[i];
    k->c = (nnl_op_call){.op = op, .node = "node", .attrs = attrs, .n_attrs = n_attrs,
                         .in = k->inp, .n_in = n_in, .out = k->outp, .n_out = n_out,
                         .opset = opset, .pool = g_pool, .thread_scratch = g_tscratch};
}

static void set_in(call *k, int i, nnl_dtype dt, int rank, const int64_t *dims, void *data) {
    k->in[i].dtype = dt;
    k->in[i].rank = rank;
    for (int d = 0; d < rank; d++) k->in[i].dims[d] = dims[d];
    k->in[i].data = data;
}

static nnl_status call_infer(call *k) {
    nnl_infer_result r = {0};
    const nnl_op_def *def = nnl_op_find(k->c.op);
    assert_non_null(def);
    nnl_status s = def->infer(&k->c, &r);
    if (s == NNL_OK) {
        free(k->scratch);
        k->scratch = malloc(r.scratch_bytes ? r.scratch_bytes : 1);
        k->c.scratch = k->scratch;
    }
    return s;
}

/* The group fixture: the pool and per-thread scratch the calls run with. */
static int harness_setup(void **state) {
    (void)state;
    for (int i = 0; i < 2; i++)
        if (!(g_tscratch[i] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES))) return -1;
    return nnl_pool_create(2, &g_pool) == NNL_OK ? 0 : -1;
}

static int harness_teardown(void **state) {
    (void)state;
    nnl_pool_free(g_pool);
    for (int i = 0; i < 2; i++) nnl_aligned_free(g_tscratch[i]);
    return 0;
}

#endif
