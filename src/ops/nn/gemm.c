/*
 * Gemm and MatMul (float32) on nnl_gemm.  The activation operand is the
 * GEMM "A" (packed at run time); the weight is "B", read either plain
 * (strided) or, for Gemm with transB = 1, from PACK_A8 panels.  Gemm's C
 * and the fused activation go through the GEMM epilogue.
 *
 * MatMul extras (written by the compiler's fusions, passes/fuse.c):
 * optional input 2 "bias" (float32 [N], added to every row) and optional
 * input 3 "Z" (a residual of the output's shape), both applied in the
 * epilogue before the activation, and attribute nnl_alpha (float, default
 * 1) scaling the products: Y = act(alpha A B + bias + Z).
 */
#include <string.h>

#include "kernels/gemm.h"
#include "ops/nn/nn_ops.h"

/* ---- Gemm ----------------------------------------------------------------- */

static const char *const gemm_attrs[] = {"alpha", "beta", "transA", "transB", "broadcast", NULL};

typedef struct gemm_shape {
    int64_t m, n, k;
    bool ta, tb;
    int64_t cm, cn;            /* C viewed as 2-D (1 where broadcast) */
} gemm_shape;

static nnl_status gemm_geometry(const nnl_op_call *c, gemm_shape *g) {
    const nnl_tensor *a = c->in[0], *b = c->in[1], *cc = nnl_op_in(c, 2);
    g->ta = nnl_attr_int(c, "transA", 0) != 0;
    g->tb = nnl_attr_int(c, "transB", 0) != 0;
    if (a->rank != 2 || b->rank != 2)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "A and B must be 2-D (ranks %d and %d)", a->rank, b->rank);
    g->m = a->dims[g->ta ? 1 : 0];
    g->k = a->dims[g->ta ? 0 : 1];
    int64_t kb = b->dims[g->tb ? 1 : 0];
    g->n = b->dims[g->tb ? 0 : 1];
    if (kb != g->k)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "inner dims differ: A gives %lld, B gives %lld", (long long)g->k,
                           (long long)kb);
    g->cm = g->cn = 0;
    if (cc) {
        if (cc->rank > 2) return nnl_op_fail(c, NNL_ERR_SHAPE, "C has rank %d > 2", cc->rank);
        g->cm = cc->rank == 2 ? cc->dims[0] : 1;
        g->cn = cc->rank >= 1 ? cc->dims[cc->rank - 1] : 1;
        if ((g->cm != 1 && g->cm != g->m) || (g->cn != 1 && g->cn != g->n))
            return nnl_op_fail(c, NNL_ERR_SHAPE, "C (%lld x %lld) does not broadcast to %lld x %lld", (long long)g->cm,
                               (long long)g->cn, (long long)g->m, (long long)g->n);
    }
    return NNL_OK;
}

nnl_status nnl_nn_gemm_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st;
    if ((st = nnl_op_check_io(c, 2, 3, 2, 1, 1))) return st;
    if ((st = nnl_attr_check(c, gemm_attrs))) return st;
    for (int i = 0; i < c->n_in; i++) {
        static const char *const names[] = {"input A", "input B", "input C"};
        if ((st = i == 1 ? nn_check_weight(c, c->in[1], names[1], c->in[1]->layout != NNL_LAYOUT_PLAIN)
                         : nn_check_float(c, c->in[i], names[i])))
            return st;
    }
    nnl_act act;
    float aa, ab;
    if ((st = nn_act_upto(c, NNL_ACT_GELU, &act, &aa, &ab))) return st;
    gemm_shape g;
    if ((st = gemm_geometry(c, &g))) return st;
    if (c->in[0]->layout || (nnl_op_in(c, 2) && nnl_op_in(c, 2)->layout))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed data layout on input A or C");
    /* PACK_A8 is W (N x K) in panels, PACK_A8T is W (K x N) transposed
     * into the same panels: both are read as NNL_BSRC_A8T */
    nnl_layout wl = c->in[1]->layout;
    if (wl != NNL_LAYOUT_PLAIN && !(wl == NNL_LAYOUT_PACK_A8 && g.tb) && !(wl == NNL_LAYOUT_PACK_A8T && !g.tb))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "weight layout %d does not fit transB = %d", (int)wl, (int)g.tb);
    int64_t dims[2] = {g.m, g.n};
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, 2, dims))) return st;
    r->scratch_bytes = nnl_gemm_prepack_bytes(1, g.k, g.n);
    r->flops = 2.0 * (double)g.m * (double)g.n * (double)g.k;
    return NNL_OK;
}

/* One row of A (a classifier head): computing Y^T = B^T A^T instead makes
 * the weight the A operand, read straight from its PACK_A8 panels, and Y^T
 * a single column, whose row stride is 1; otherwise seven of every eight
 * rows of the microkernel would be padding and the whole weight would be
 * repacked as B on every run. */
static nnl_status gemm_row(const nnl_op_call *c, const gemm_shape *g, nnl_gemm_desc *d, nnl_gemm_ptrs *sp) {
    const nnl_tensor *w = c->in[1];
    d->m = g->n;
    d->n = 1;
    d->a_packed = w->layout != NNL_LAYOUT_PLAIN;
    d->a_rs = g->tb ? g->k : 1;
    d->a_cs = g->tb ? 1 : g->n;
    d->b_kind = NNL_BSRC_STRIDED;
    d->b_rs = 1;
    d->b_cs = g->k;
    d->ldc = 1;
    d->res_cs = 1;
    d->epi.res_rs = g->cn == 1 ? 0 : 1;
    d->b_prepack = NULL;
    d->b_prepack_bytes = 0;
    const float *x = sp->a;
    sp->a = sp->b;
    sp->b = x;
    d->a_f16 = d->b_f16;
    d->b_f16 = false;
    sp->ah = sp->bh;
    sp->bh = NULL;
    return nnl_gemm(d, NULL, c->pool, c->thread_scratch);
}

nnl_status nnl_nn_gemm_exec(const nnl_op_call *c) {
    gemm_shape g;
    nnl_status st = gemm_geometry(c, &g);
    if (st) return st;
    const nnl_tensor *w = c->in[1], *cc = nnl_op_in(c, 2);
    float beta = nnl_attr_float(c, "beta", 1.0f);
    bool half = w->dtype == NNL_DT_FLOAT16;
    nnl_gemm_ptrs sp = {.a = c->in[0]->data, .b = half ? NULL : w->data, .bh = half ? w->data : NULL,
                        .res = cc && beta != 0.0f ? cc->data : NULL, .c = c->out[0]->data};
    nnl_gemm_desc d = {
        .m = g.m,
        .n = g.n,
        .k = g.k,
        .batch = 1,
        .a_rs = g.ta ? 1 : g.k,
        .a_cs = g.ta ? g.m : 1,
        .ldc = g.n,
        .epi = {.alpha = nnl_attr_float(c, "alpha", 1.0f), .beta = beta},
        .res_cs = 1,
        .b_f16 = half,
        .ptrs = nnl_gemm_single,
        .ctx = &sp,
        .b_prepack = c->scratch,
        .b_prepack_bytes = c->scratch ? nnl_gemm_prepack_bytes(1, g.k, g.n) : 0,
    };
    if ((st = nn_act_upto(c, NNL_ACT_GELU, &d.epi.act, &d.epi.act_a, &d.epi.act_b))) return st;
    if (g.m == 1) return gemm_row(c, &g, &d, &sp);
    if (w->layout != NNL_LAYOUT_PLAIN) {
        d.b_kind = NNL_BSRC_A8T;
    } else {
        d.b_kind = NNL_BSRC_STRIDED;
        d.b_rs = g.tb ? 1 : g.n;
        d.b_cs = g.tb ? g.k : 1;
    }
    if (sp.res) {
        /* C[i][j] at i * res_rs + j * res_cs; broadcast dims step 0 */
        d.epi.res_rs = g.cm == 1 ? 0 : g.cn;
        d.res_cs = g.cn == 1 ? 0 : 1;
    }
    return nnl_gemm(&d, NULL, c->pool, c->thread_scratch);
}

/* ---- MatMul ---------------------------------------------------------------- */

typedef struct mm_shape {
    int64_t m, n, k;
    int nb;                    /* output batch rank */
    int64_t bdims[NNL_MAX_RANK];
    int64_t a_bstride[NNL_MAX_RANK], b_bstride[NNL_MAX_RANK]; /* per batch dim, 0 = broadcast */
    int64_t batch;
    int out_rank;
    int64_t out[NNL_MAX_RANK];
} mm_shape;

static nnl_status mm_geometry(const nnl_op_call *c, mm_shape *g) {
    const nnl_tensor *a = c->in[0], *b = c->in[1];
    memset(g, 0, sizeof *g);
    if (a->rank < 1 || b->rank < 1) return nnl_op_fail(c, NNL_ERR_SHAPE, "operands must have rank >= 1");
    /* 1-D operands become a row (A) or column (B) matrix */
    int ar = a->rank, br = b->rank;
    g->m = ar == 1 ? 1 : a->dims[ar - 2];
    g->k = a->dims[ar - 1];
    int64_t kb = br == 1 ? b->dims[0] : b->dims[br - 2];
    g->n = br == 1 ? 1 : b->dims[br - 1];
    if (kb != g->k)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "inner dims differ: A gives %lld, B gives %lld", (long long)g->k,
                           (long long)kb);
    int anb = ar > 2 ? ar - 2 : 0, bnb = br > 2 ? br - 2 : 0;
    g->nb = anb > bnb ? anb : bnb;
    int64_t as = g->m * g->k, bs = g->k * g->n;
    g->batch = 1;
    for (int i = g->nb - 1; i >= 0; i--) {
        int ai = i - (g->nb - anb), bi = i - (g->nb - bnb);
        int64_t ad = ai >= 0 ? a->dims[ai] : 1, bd = bi >= 0 ? b->dims[bi] : 1;
        if (ad != bd && ad != 1 && bd != 1)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "batch dims %lld and %lld do not broadcast", (long long)ad,
                               (long long)bd);
        g->bdims[i] = ad > bd ? ad : bd;
        if (ad == 0 || bd == 0) g->bdims[i] = 0;
        g->a_bstride[i] = ad == 1 ? 0 : as;
        g->b_bstride[i] = bd == 1 ? 0 : bs;
        as *= ad;
        bs *= bd;
        g->batch *= g->bdims[i];
    }
    g->out_rank = 0;
    for (int i = 0; i < g->nb; i++) g->out[g->out_rank++] = g->bdims[i];
    if (ar > 1) g->out[g->out_rank++] = g->m;
    if (br > 1) g->out[g->out_rank++] = g->n;
    /* One B for every item and A's items contiguous: a single tall GEMM
     * (the usual activations x weight case) packs B once per column block. */
    bool shared_b = true, a_dense = true;
    int64_t expect = g->m * g->k;
    for (int i = g->nb - 1; i >= 0; i--) {
        shared_b &= g->b_bstride[i] == 0;
        a_dense &= g->a_bstride[i] == expect || g->bdims[i] == 1;
        expect *= g->bdims[i];
    }
    if (shared_b && a_dense && g->batch > 1) {
        g->m *= g->batch;
        g->batch = 1;
        g->nb = 0;
    }
    return NNL_OK;
}

nnl_status nnl_nn_matmul_infer(nnl_op_call *c, nnl_infer_result *r) {
    nnl_status st;
    if ((st = nnl_op_check_io(c, 2, 4, 2, 1, 1))) return st;
    if ((st = nnl_attr_check(c, NULL))) return st;
    if ((st = nn_check_float(c, c->in[0], "input A"))) return st;
    const nnl_tensor *bias = nnl_op_in(c, 2), *z = nnl_op_in(c, 3);
    if ((st = nn_check_float(c, bias, "bias")) || (st = nn_check_float(c, z, "residual Z"))) return st;
    if ((bias && bias->layout) || (z && z->layout))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "packed data layout on the bias or Z");
    if ((st = nn_check_weight(c, c->in[1], "input B", c->in[1]->layout == NNL_LAYOUT_PACK_A8T))) return st;
    if (c->in[0]->layout || (c->in[1]->layout && !(c->in[1]->layout == NNL_LAYOUT_PACK_A8T && c->in[1]->rank == 2)))
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "MatMul reads only a rank-2 PACK_A8T weight packed");
    nnl_act act;
    float aa, ab;
    if ((st = nn_act_upto(c, NNL_ACT_GELU, &act, &aa, &ab))) return st;
    mm_shape g;
    if ((st = mm_geometry(c, &g))) return st;
    if (bias && (bias->rank != 1 || bias->dims[0] != g.n || c->in[1]->rank < 2))
        return nnl_op_fail(c, NNL_ERR_SHAPE, "bias must have shape [%lld] (and B rank >= 2)", (long long)g.n);
    if (z) {
        bool same = z->rank == g.out_rank;
        for (int i = 0; same && i < z->rank; i++) same = z->dims[i] == g.out[i];
        if (!same) return nnl_op_fail(c, NNL_ERR_SHAPE, "residual Z must have the output's shape");
    }
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, g.out_rank, g.out))) return st;
    r->scratch_bytes = nnl_gemm_prepack_bytes(g.batch, g.k, g.n);
    r->flops = 2.0 * (double)g.batch * (double)g.m * (double)g.n * (double)g.k;
    return NNL_OK;
}

typedef struct mm_ctx {
    const mm_shape *g;
    const float *a, *b, *bias, *z;
    const uint16_t *bh;        /* a float16 PACK_A8T weight, in place of b */
    float *c;
} mm_ctx;

static void mm_item(const nnl_gemm_desc *d, int64_t item, nnl_gemm_ptrs *p) {
    const mm_ctx *x = d->ctx;
    const mm_shape *g = x->g;
    int64_t ao = 0, bo = 0, rest = item;
    for (int i = g->nb - 1; i >= 0; i--) {
        int64_t idx = rest % g->bdims[i];
        rest /= g->bdims[i];
        ao += idx * g->a_bstride[i];
        bo += idx * g->b_bstride[i];
    }
    p->a = x->a + ao;
    if (x->bh)
        p->bh = x->bh + bo;
    else
        p->b = x->b + bo;
    p->c = x->c + item * d->m * d->n;
    p->res = x->z ? x->z + item * d->m * d->n : NULL;
    p->bias_row = NULL;
    p->bias_col = x->bias;
}

nnl_status nnl_nn_matmul_exec(const nnl_op_call *c) {
    mm_shape g;
    nnl_status st = mm_geometry(c, &g);
    if (st) return st;
    bool half = c->in[1]->dtype == NNL_DT_FLOAT16;
    const nnl_tensor *bias = nnl_op_in(c, 2), *z = nnl_op_in(c, 3);
    mm_ctx x = {.g = &g, .a = c->in[0]->data, .b = half ? NULL : c->in[1]->data, .bh = half ? c->in[1]->data : NULL,
                .bias = bias ? bias->data : NULL, .z = z ? z->data : NULL, .c = c->out[0]->data};
    nnl_gemm_desc d = {
        .m = g.m,
        .n = g.n,
        .k = g.k,
        .batch = g.batch,
        .a_rs = g.k,
        .a_cs = 1,
        .b_kind = NNL_BSRC_STRIDED,
        .b_rs = g.n,
        .b_cs = 1,
        .ldc = g.n,
        .epi = {.alpha = nnl_attr_float(c, "nnl_alpha", 1.0f), .beta = 1.0f, .res_rs = g.n},
        .res_cs = 1,
        .b_f16 = half,
        .ptrs = mm_item,
        .ctx = &x,
        .b_prepack = c->scratch,
        .b_prepack_bytes = c->scratch ? nnl_gemm_prepack_bytes(g.batch, g.k, g.n) : 0,
    };
    if ((st = nn_act_upto(c, NNL_ACT_GELU, &d.epi.act, &d.epi.act_a, &d.epi.act_b))) return st;
    if (c->in[1]->layout == NNL_LAYOUT_PACK_A8T) d.b_kind = NNL_BSRC_A8T;
    return nnl_gemm(&d, NULL, c->pool, c->thread_scratch);
}
