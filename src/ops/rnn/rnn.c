/*
 * RNN, GRU and LSTM (ONNX opsets 7-14 forms) over float32.
 *
 * The input projections W x_t of all steps come first, as one GEMM per
 * direction into the scratch (when it stays under XW_MAX_BYTES; else
 * they are computed step by step).  Then each (direction, batch row) pair
 * is an independent recurrence, so the pool runs whole sequences, one
 * pair per work item; the per-item state lives in the thread's scratch.
 * Activations: the defaults (Tanh for RNN, Sigmoid/Tanh for GRU,
 * Sigmoid/Tanh/Tanh for LSTM) or an `activations` list of the ones without
 * parameters (Relu, Tanh, Sigmoid, Softsign, Softplus; torch.nn.RNN
 * exports ["Tanh"] or ["Relu"]); activation_alpha/beta and `clip` are
 * refused by the attribute check, as is LSTM's input_forget=1.
 *
 * Gate order in W, R and B is ONNX's: LSTM i, o, f, c; GRU z, r, h.
 * Past a row's sequence_lens entry Y is zero and the state stops
 * changing; the reverse direction starts at the row's last valid step.
 */
#include <math.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops/rnn/rnn_ops.h"

/* Above this the input projections are computed step by step instead of
 * all at once into the scratch. */
#define XW_MAX_BYTES ((size_t)64 << 20)

/* Floats of one sequence's working vectors (rnn_bufs). */
static size_t bufs_floats(int G, int64_t H) { return (size_t)(2 * G + 3) * (size_t)H; }

/* Bytes of all input projections; UINT64_MAX when that overflows (S * B
 * is unbounded when X is empty along its input dim). */
static uint64_t xw_bytes(int nd, int64_t S, int64_t B, int G, int64_t H) {
    const uint64_t f[5] = {(uint64_t)nd, (uint64_t)S, (uint64_t)B, (uint64_t)G, (uint64_t)H};
    uint64_t v = sizeof(float);
    for (int i = 0; i < 5; i++)
        if (nnl_mul_overflow_u64(v, f[i], &v)) return UINT64_MAX;
    return v;
}

typedef enum rnn_kind { K_RNN, K_GRU, K_LSTM } rnn_kind;

typedef enum rnn_act { A_TANH, A_SIGMOID, A_RELU, A_SOFTSIGN, A_SOFTPLUS } rnn_act;

/* Activations per cell: f, g, h (RNN uses f, GRU f and g). */
static int acts_of(rnn_kind k) { return k == K_LSTM ? 3 : k == K_GRU ? 2 : 1; }

/* acts[d][i] from the `activations` attribute, or the defaults. */
static nnl_status read_acts(const nnl_op_call *c, rnn_kind kind, int nd, rnn_act acts[2][3]) {
    static const char *const names[] = {"Tanh", "Sigmoid", "Relu", "Softsign", "Softplus"};
    const int na = acts_of(kind);
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < 3; i++) acts[d][i] = kind != K_RNN && i == 0 ? A_SIGMOID : A_TANH;
    const nnl_attr *a = nnl_attr_get(c, "activations");
    if (!a) return NNL_OK;
    if (a->type != NNL_ATTR_STRINGS || a->n != na * nd)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "attribute 'activations' must list %d names (%d per direction)",
                           na * nd, na);
    for (int k = 0; k < a->n; k++) {
        int found = -1;
        for (int m = 0; m < 5; m++)
            if (strcmp(a->strs[k], names[m]) == 0) found = m;
        if (found < 0)
            return nnl_op_fail(c, NNL_ERR_UNSUPPORTED,
                               "activation '%s' is not supported (Relu, Tanh, Sigmoid, Softsign, Softplus)",
                               a->strs[k]);
        acts[k / na][k % na] = (rnn_act)found;
    }
    return NNL_OK;
}

static inline float act_apply(rnn_act a, float v) {
    switch (a) {
    case A_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case A_RELU: return v > 0.0f ? v : 0.0f;
    case A_SOFTSIGN: return v / (1.0f + fabsf(v));
    case A_SOFTPLUS: return v > 20.0f ? v : log1pf(expf(v));
    default: return tanhf(v);
    }
}

static rnn_kind kind_of(const char *op) {
    return strcmp(op, "LSTM") == 0 ? K_LSTM : strcmp(op, "GRU") == 0 ? K_GRU : K_RNN;
}

static int gates_of(rnn_kind k) { return k == K_LSTM ? 4 : k == K_GRU ? 3 : 1; }

/* Directions from the `direction` attribute: 1 or 2, *rev0 set when the
 * only direction runs backwards. */
static nnl_status directions(const nnl_op_call *c, int *nd, int *rev0) {
    const char *d = nnl_attr_str(c, "direction", "forward");
    *rev0 = 0;
    if (strcmp(d, "forward") == 0) *nd = 1;
    else if (strcmp(d, "reverse") == 0) *nd = 1, *rev0 = 1;
    else if (strcmp(d, "bidirectional") == 0) *nd = 2;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "direction '%s' is not supported", d);
    return NNL_OK;
}

static nnl_status need_shape(const nnl_op_call *c, const nnl_tensor *t, const char *what, int rank,
                             const int64_t *dims) {
    if (t->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "%s has dtype %s (float32 only)", what,
                           nnl_dtype_name(t->dtype));
    bool ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++) ok = t->dims[i] == dims[i];
    if (!ok) {
        char buf[96];
        return nnl_op_fail(c, NNL_ERR_SHAPE, "%s has shape %s, expected rank %d [%lld, %lld%s",
                           what, nnl_shape_str(t, buf, sizeof buf), rank, (long long)dims[0],
                           (long long)dims[1], rank > 2 ? ", ...]" : "]");
    }
    return NNL_OK;
}

nnl_status nnl_rnn_infer(nnl_op_call *c, nnl_infer_result *r) {
    const rnn_kind kind = kind_of(c->op);
    static const char *const known_rnn[] = {"activations", "direction", "hidden_size", "layout", NULL};
    static const char *const known_gru[] = {"activations", "direction", "hidden_size", "layout",
                                            "linear_before_reset", NULL};
    static const char *const known_lstm[] = {"activations", "direction", "hidden_size", "layout", "input_forget",
                                             NULL};
    nnl_status st = nnl_attr_check(c, kind == K_LSTM  ? known_lstm
                                      : kind == K_GRU ? known_gru
                                                      : known_rnn);
    if (st) return st;
    if (kind == K_LSTM && nnl_attr_int(c, "input_forget", 0) != 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "input_forget=1 is not supported");
    const int64_t layout = nnl_attr_int(c, "layout", 0);
    if (layout != 0 && layout != 1)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "layout %lld is not 0 or 1", (long long)layout);
    int nd, rev0;
    if ((st = directions(c, &nd, &rev0))) return st;
    rnn_act acts[2][3];
    if ((st = read_acts(c, kind, nd, acts))) return st;
    const int max_in = kind == K_LSTM ? 8 : 6;
    const int max_out = kind == K_LSTM ? 3 : 2;
    if ((st = nnl_op_check_io(c, 3, max_in, 3, 0, max_out)) || (st = nnl_op_check_inputs(c)))
        return st;

    const nnl_tensor *x = c->in[0], *w = c->in[1], *rw = c->in[2];
    if (x->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X has dtype %s (float32 only)",
                           nnl_dtype_name(x->dtype));
    if (x->rank != 3) return nnl_op_fail(c, NNL_ERR_SHAPE, "X must have rank 3");
    const int64_t S = layout ? x->dims[1] : x->dims[0], B = layout ? x->dims[0] : x->dims[1];
    const int64_t I = x->dims[2];
    const int G = gates_of(kind);
    if (w->rank != 3 || w->dims[1] % G != 0)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "W must be [num_directions, %d*hidden, input]", G);
    const int64_t H = w->dims[1] / G;
    const int64_t hs = nnl_attr_int(c, "hidden_size", H);
    if (hs != H)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "hidden_size %lld does not match W (%lld)",
                           (long long)hs, (long long)H);
    if ((st = need_shape(c, w, "W", 3, (const int64_t[]){nd, G * H, I}))) return st;
    if ((st = need_shape(c, rw, "R", 3, (const int64_t[]){nd, G * H, H}))) return st;
    const nnl_tensor *b = nnl_op_in(c, 3), *sl = nnl_op_in(c, 4);
    if (b && (st = need_shape(c, b, "B", 2, (const int64_t[]){nd, 2 * G * H}))) return st;
    if (sl) {
        if (sl->dtype != NNL_DT_INT32 && sl->dtype != NNL_DT_INT64)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "sequence_lens must be int32");
        if (sl->rank != 1 || sl->dims[0] != B)
            return nnl_op_fail(c, NNL_ERR_SHAPE, "sequence_lens must have shape [%lld]",
                               (long long)B);
    }
    const int64_t sdims[3] = {layout ? B : nd, layout ? nd : B, H};
    const nnl_tensor *h0 = nnl_op_in(c, 5);
    if (h0 && (st = need_shape(c, h0, "initial_h", 3, sdims))) return st;
    if (kind == K_LSTM) {
        const nnl_tensor *c0 = nnl_op_in(c, 6), *p = nnl_op_in(c, 7);
        if (c0 && (st = need_shape(c, c0, "initial_c", 3, sdims))) return st;
        if (p && (st = need_shape(c, p, "P", 2, (const int64_t[]){nd, 3 * H}))) return st;
    }
    if (bufs_floats(G, H) * sizeof(float) > NNL_THREAD_SCRATCH_BYTES)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "hidden_size %lld is too large",
                           (long long)H);

    nnl_tensor *y = nnl_op_out(c, 0), *yh = nnl_op_out(c, 1), *yc = nnl_op_out(c, 2);
    if (y) {
        const int64_t yd[4] = {layout ? B : S, layout ? S : nd, layout ? nd : B, H};
        if ((st = nnl_op_set_out(c, y, NNL_DT_FLOAT, 4, yd))) return st;
    }
    if (yh && (st = nnl_op_set_out(c, yh, NNL_DT_FLOAT, 3, sdims))) return st;
    if (yc && (st = nnl_op_set_out(c, yc, NNL_DT_FLOAT, 3, sdims))) return st;
    r->flops = 2.0 * (double)S * (double)B * nd * G * (double)H * (double)(I + H);
    const uint64_t xwb = xw_bytes(nd, S, B, G, H);
    r->scratch_bytes = xwb <= XW_MAX_BYTES ? (size_t)xwb : 0;
    return NNL_OK;
}

typedef struct rnn_job {
    rnn_kind kind;
    int nd, rev0, layout, lbr;
    int64_t S, B, I, H;
    const float *x, *w, *r, *b, *h0, *c0, *p;
    const float *xw;           /* [nd][row of X][G*H] input projections, or NULL */
    const void *sl;
    nnl_dtype sl_dt;
    float *y, *yh, *yc;
    void *const *tscratch;
    rnn_act act[2][3];         /* [direction][f, g, h] */
} rnn_job;

/* Per-sequence working vectors: W x_t (G*H), R h (G*H), h, c, scratch (H). */
typedef struct rnn_bufs {
    float *xp, *rh, *h, *cs, *tmp;
} rnn_bufs;

static rnn_bufs bufs_at(float *base, int G, int64_t H) {
    rnn_bufs s = {base, base + G * H, base + 2 * G * H, base + (2 * G + 1) * H,
                  base + (2 * G + 2) * H};
    return s;
}

/* Eight partial sums: a loop shape that vectorises without reassociating
 * one accumulator. */
static float dot(const float *a, const float *b, int64_t n) {
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    float s = 0;
    for (; i < n; i++) s += a[i] * b[i];
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}

static int64_t seq_len(const rnn_job *j, int64_t b) {
    if (!j->sl) return j->S;
    return j->sl_dt == NNL_DT_INT64 ? ((const int64_t *)j->sl)[b]
                                    : (int64_t)((const int32_t *)j->sl)[b];
}

/* Offset of the state vector of (direction d, row b) in [nd, B, H] or,
 * layout 1, [B, nd, H]. */
static int64_t state_off(const rnn_job *j, int d, int64_t b) {
    return (j->layout ? b * j->nd + d : d * j->B + b) * j->H;
}

/* out[k] = m[k] . v for rows [0, rows) of the H-column matrix m.  (Splitting
 * it over the pool per step was measured slower on a loaded 2-core host:
 * waking the pool 100s of times costs more than the product.) */
static void matvec(const rnn_job *j, const float *m, const float *v, float *out, int64_t rows) {
    for (int64_t k = 0; k < rows; k++) out[k] = dot(m + k * j->H, v, j->H);
}

/* One step of direction d: s->xp holds W x_t (no bias); updates s->h and,
 * for LSTM, s->cs.  ONNX's equations; f, g, h are j->act[d]. */
static void cell(const rnn_job *j, int d, const float *xp, rnn_bufs *s) {
    const int G = gates_of(j->kind);
    const int64_t H = j->H;
    const float *r = j->r + (int64_t)d * G * H * H;
    const float *bias = j->b ? j->b + (int64_t)d * 2 * G * H : NULL;
    float *rh = s->rh, *h = s->h, *cs = s->cs;
    const rnn_act f = j->act[d][0], g = j->act[d][1], ha = j->act[d][2];
#define WB(k) (bias ? bias[k] : 0.0f)
#define RB(k) (bias ? bias[G * H + (k)] : 0.0f)
    if (j->kind == K_RNN) {
        matvec(j, r, h, rh, H);
        for (int64_t k = 0; k < H; k++) h[k] = act_apply(f, xp[k] + rh[k] + WB(k) + RB(k));
    } else if (j->kind == K_LSTM) {
        matvec(j, r, h, rh, 4 * H);
        const float *p = j->p ? j->p + (int64_t)d * 3 * H : NULL;
        for (int64_t k = 0; k < H; k++) {
            /* gate blocks i, o, f, c; peepholes i, o, f */
            const float pi = xp[k] + rh[k] + WB(k) + RB(k);
            const float po = xp[H + k] + rh[H + k] + WB(H + k) + RB(H + k);
            const float pf = xp[2 * H + k] + rh[2 * H + k] + WB(2 * H + k) + RB(2 * H + k);
            const float pc = xp[3 * H + k] + rh[3 * H + k] + WB(3 * H + k) + RB(3 * H + k);
            const float ig = act_apply(f, pi + (p ? p[k] * cs[k] : 0));
            const float fg = act_apply(f, pf + (p ? p[2 * H + k] * cs[k] : 0));
            const float cn = fg * cs[k] + ig * act_apply(g, pc);
            const float og = act_apply(f, po + (p ? p[H + k] * cn : 0));
            cs[k] = cn;
            h[k] = og * act_apply(ha, cn);
        }
    } else {
        /* z and r from the old h; without linear_before_reset the
         * candidate's R product needs r * h first. */
        matvec(j, r, h, rh, j->lbr ? 3 * H : 2 * H);
        for (int64_t k = 0; k < 2 * H; k++) rh[k] = act_apply(f, xp[k] + rh[k] + WB(k) + RB(k));
        const float *z = rh, *rg = rh + H;
        float *hr = rh + 2 * H;
        if (!j->lbr) {
            for (int64_t k = 0; k < H; k++) s->tmp[k] = rg[k] * h[k];
            matvec(j, r + 2 * H * H, s->tmp, hr, H);
        }
        for (int64_t k = 0; k < H; k++) {
            const float xh = xp[2 * H + k] + WB(2 * H + k);
            const float cand = j->lbr ? xh + rg[k] * (hr[k] + RB(2 * H + k))
                                      : xh + hr[k] + RB(2 * H + k);
            h[k] = (1.0f - z[k]) * act_apply(g, cand) + z[k] * h[k];
        }
    }
#undef WB
#undef RB
}

/* The whole sequence of (direction d, batch row b). */
static void run_sequence(const rnn_job *j, int d, int64_t b, rnn_bufs *s) {
    const int G = gates_of(j->kind);
    const int64_t H = j->H, I = j->I, S = j->S, B = j->B;
    const int rev = d == 1 || j->rev0;
    const int64_t L = seq_len(j, b);
    const int64_t so = state_off(j, d, b);
    if (j->h0) memcpy(s->h, j->h0 + so, (size_t)H * sizeof(float));
    else memset(s->h, 0, (size_t)H * sizeof(float));
    if (j->c0) memcpy(s->cs, j->c0 + so, (size_t)H * sizeof(float));
    else memset(s->cs, 0, (size_t)H * sizeof(float));
    const float *w = j->w + (int64_t)d * G * H * I;
    for (int64_t step = 0; step < S; step++) {
        const int64_t t = rev ? S - 1 - step : step;
        float *yt = j->y ? j->y + (j->layout ? (b * S + t) * j->nd + d : (t * j->nd + d) * B + b) * H
                         : NULL;
        if (t >= L) {
            if (yt) memset(yt, 0, (size_t)H * sizeof *yt);
            continue;
        }
        const int64_t row = j->layout ? b * S + t : t * B + b;
        const float *xp;
        if (j->xw) {
            xp = j->xw + ((int64_t)d * S * B + row) * G * H;
        } else {
            const float *xt = j->x + row * I;
            for (int64_t k = 0; k < G * H; k++) s->xp[k] = dot(w + k * I, xt, I);
            xp = s->xp;
        }
        cell(j, d, xp, s);
        if (yt) memcpy(yt, s->h, (size_t)H * sizeof *yt);
    }
    if (j->yh) memcpy(j->yh + so, s->h, (size_t)H * sizeof(float));
    if (j->yc) memcpy(j->yc + so, s->cs, (size_t)H * sizeof(float));
}

static void rnn_seq(void *ctx, int64_t begin, int64_t end, int thread) {
    const rnn_job *j = ctx;
    rnn_bufs s = bufs_at(j->tscratch[thread], gates_of(j->kind), j->H);
    for (int64_t item = begin; item < end; item++)
        run_sequence(j, (int)(item / j->B), item % j->B, &s);
}

nnl_status nnl_rnn_exec(const nnl_op_call *c) {
    const rnn_kind kind = kind_of(c->op);
    int nd, rev0;
    nnl_status st = directions(c, &nd, &rev0);
    if (st) return st;
    const int layout = (int)nnl_attr_int(c, "layout", 0);
    const nnl_tensor *x = c->in[0], *sl = nnl_op_in(c, 4);
    rnn_job j = {
        .kind = kind, .nd = nd, .rev0 = rev0, .layout = layout,
        .lbr = kind == K_GRU && nnl_attr_int(c, "linear_before_reset", 0) != 0,
        .S = layout ? x->dims[1] : x->dims[0], .B = layout ? x->dims[0] : x->dims[1],
        .I = x->dims[2], .H = c->in[1]->dims[1] / gates_of(kind),
        .x = x->data, .w = c->in[1]->data, .r = c->in[2]->data,
        .tscratch = c->thread_scratch,
    };
    if ((st = read_acts(c, kind, nd, j.act))) return st;
    const nnl_tensor *b = nnl_op_in(c, 3), *h0 = nnl_op_in(c, 5);
    const nnl_tensor *c0 = kind == K_LSTM ? nnl_op_in(c, 6) : NULL;
    const nnl_tensor *p = kind == K_LSTM ? nnl_op_in(c, 7) : NULL;
    j.b = b ? b->data : NULL;
    j.h0 = h0 ? h0->data : NULL;
    j.c0 = c0 ? c0->data : NULL;
    j.p = p ? p->data : NULL;
    if (sl) {
        j.sl = sl->data;
        j.sl_dt = sl->dtype;
        for (int64_t i = 0; i < j.B; i++) {
            const int64_t L = seq_len(&j, i);
            if (L < 0 || L > j.S)
                return nnl_op_fail(c, NNL_ERR_INVALID_ARG,
                                   "sequence_lens[%lld] = %lld is outside [0, %lld]",
                                   (long long)i, (long long)L, (long long)j.S);
        }
    }
    nnl_tensor *y = nnl_op_out(c, 0), *yh = nnl_op_out(c, 1);
    nnl_tensor *yc = kind == K_LSTM ? nnl_op_out(c, 2) : NULL;
    j.y = y ? y->data : NULL;
    j.yh = yh ? yh->data : NULL;
    j.yc = yc ? yc->data : NULL;
    const int G = gates_of(kind);
    if (c->scratch && xw_bytes(nd, j.S, j.B, G, j.H) <= XW_MAX_BYTES) {
        /* No overflow: rows * cols * nd * 4 bytes fit XW_MAX_BYTES. */
        const int64_t rows = j.S * j.B, cols = G * j.H;
        float *xw = c->scratch;
        if (j.I == 0 || rows == 0 || cols == 0) {
            memset(xw, 0, (size_t)xw_bytes(nd, j.S, j.B, G, j.H));
        } else {
            for (int d = 0; d < nd; d++) {
                /* XW_d = X W_d^T: B[k][n] = W_d[n][k] */
                nnl_gemm_ptrs sp = {.a = j.x, .b = j.w + (int64_t)d * cols * j.I, .c = xw + (int64_t)d * rows * cols};
                nnl_gemm_desc gd = {
                    .m = rows, .n = cols, .k = j.I, .batch = 1,
                    .a_rs = j.I, .a_cs = 1,
                    .b_kind = NNL_BSRC_STRIDED, .b_rs = 1, .b_cs = j.I,
                    .ldc = cols, .epi = {.alpha = 1.0f}, .res_cs = 1,
                    .ptrs = nnl_gemm_single, .ctx = &sp,
                };
                if ((st = nnl_gemm(&gd, NULL, c->pool, c->thread_scratch))) return st;
            }
        }
        j.xw = xw;
    }
    nnl_op_parallel(c->pool, (int64_t)nd * j.B, 1, rnn_seq, &j);
    return NNL_OK;
}
