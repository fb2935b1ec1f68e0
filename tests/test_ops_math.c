/*
 * Tests of the math ops (ops_math.c, math_*.c), called directly through
 * nnl_op_find.
 *
 * The reference cases of tests/refs/ops_math_refs.inc come from numpy and
 * PyTorch (tools/gen_math_refs.py: broadcasting, Softmax opset 11 vs 13,
 * pooling with ceil_mode / pads / count_include_pad as torch computes it,
 * Resize as torch.nn.functional.interpolate exports it, ...).  During infer
 * only constant inputs carry data, as at compile time.  The other tests run
 * larger tensors on a two-thread pool against scalar references written
 * here, and check refusals and their messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ops/ops.h"
#include "test_util.h"

#include "op_harness.h"

/* the ref_cases[] table and its arrays (tools/gen_math_refs.py) */
#include "refs/ops_math_refs.inc"

static void test_reference_cases(void **state) {
    (void)state;
    ref_check_cases(ref_cases, (int)(sizeof ref_cases / sizeof *ref_cases), NULL);
}

/* ---- a call built by hand ------------------------------------------------------- */

/* Infer (inputs keep their data) then exec into a fresh output buffer,
 * which the caller frees. */
static void *call_run(call *k) {
    assert_int_equal(call_infer(k), NNL_OK);
    const size_t nb = nnl_tensor_nbytes(&k->out[0]);
    k->out[0].data = malloc(nb ? nb : 1);
    assert_int_equal(nnl_op_find(k->c.op)->exec(&k->c), NNL_OK);
    free(k->scratch);
    k->scratch = NULL;
    return k->out[0].data;
}

static float *rand_floats(int64_t n, unsigned seed, float lo, float hi) {
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    srand(seed);
    for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * (float)rand() / (float)RAND_MAX;
    return v;
}

static int64_t numel(int rank, const int64_t *d) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= d[i];
    return n;
}

/* Offset into a tensor of shape d (rank r) broadcast to the output index
 * idx (rank ro, right-aligned). */
static int64_t bcast_off(int r, const int64_t *d, int ro, const int64_t *idx) {
    int64_t off = 0;
    for (int i = 0; i < r; i++) off = off * d[i] + (d[i] == 1 ? 0 : idx[ro - r + i]);
    return off;
}

/* ---- binary ops on larger shapes, split over threads ------------------------------- */

static void check_binary(const char *op, int ra, const int64_t *da, int rb, const int64_t *db) {
    call k;
    const int64_t na = numel(ra, da), nb = numel(rb, db);
    float *a = rand_floats(na, 1, -2, 2), *b = rand_floats(nb, 2, 0.5f, 2);
    call_init(&k, op, 14, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, ra, da, a);
    set_in(&k, 1, NNL_DT_FLOAT, rb, db, b);
    float *y = call_run(&k);
    const int ro = k.out[0].rank;
    int64_t idx[NNL_MAX_RANK] = {0};
    int bad = 0;
    for (int64_t i = 0; i < nnl_tensor_numel(&k.out[0]); i++) {
        const float u = a[bcast_off(ra, da, ro, idx)], v = b[bcast_off(rb, db, ro, idx)];
        const float want = op[0] == 'A' ? u + v : op[0] == 'M' ? u * v : op[0] == 'S' ? u - v
                                                                                    : u / v;
        if (y[i] != want && bad++ < 3)
            printf("  %s [%lld]: %g, want %g\n", op, (long long)i, y[i], want);
        for (int d = ro - 1; d >= 0 && ++idx[d] == k.out[0].dims[d]; d--) idx[d] = 0;
    }
    assert_int_equal(bad, 0);
    free(a);
    free(b);
    free(y);
}

static void test_binary_broadcast_big(void **state) {
    (void)state;
    const int64_t act[] = {2, 64, 37, 41}, chan[] = {1, 64, 1, 1}, row[] = {41};
    const int64_t col[] = {2, 1, 37, 1}, sc[] = {1}, a3[] = {5, 1, 999}, b3[] = {1, 33, 1};
    check_binary("Add", 4, act, 4, act);   /* same shape: one flat loop */
    check_binary("Mul", 4, act, 4, chan);  /* per-channel scale */
    check_binary("Sub", 4, chan, 4, act);  /* broadcast on the left */
    check_binary("Div", 4, act, 1, row);
    check_binary("Add", 4, act, 4, col);
    check_binary("Mul", 4, act, 0, sc);    /* rank-0 scalar */
    check_binary("Add", 3, a3, 3, b3);     /* outer product of rows */
}

static void test_int_division_edges(void **state) {
    (void)state;
    int32_t a[] = {7, -7, 7, -7, INT32_MIN, 5, 0};
    int32_t b[] = {2, 2, -2, -2, -1, 0, 0};
    const int32_t div[] = {3, -3, -3, 3, INT32_MIN, 0, 0};
    const int32_t mod[] = {1, 1, -1, -1, 0, 0, 0};
    const int64_t d[] = {7};
    call k;
    call_init(&k, "Div", 14, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_INT32, 1, d, a);
    set_in(&k, 1, NNL_DT_INT32, 1, d, b);
    int32_t *y = call_run(&k);
    assert_memory_equal(y, div, sizeof div);
    free(y);
    call_init(&k, "Mod", 13, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_INT32, 1, d, a);
    set_in(&k, 1, NNL_DT_INT32, 1, d, b);
    y = call_run(&k);
    assert_memory_equal(y, mod, sizeof mod);
    free(y);
}

/* ---- unary and softmax ------------------------------------------------------------------ */

static void test_sigmoid_big(void **state) {
    (void)state;
    const int64_t d[] = {3, 100003};
    float *x = rand_floats(d[0] * d[1], 3, -20, 20);
    call k;
    call_init(&k, "Sigmoid", 13, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 2, d, x);
    float *y = call_run(&k);
    int bad = 0;
    for (int64_t i = 0; i < d[0] * d[1]; i++) {
        const double want = 1 / (1 + exp(-(double)x[i]));
        bad += fabs(y[i] - want) > 1e-6 * fmax(1, want);
    }
    assert_int_equal(bad, 0);
    free(x);
    free(y);
}

static void test_softmax_big(void **state) {
    (void)state;
    const int64_t d[] = {3, 700, 45};
    const int64_t n = numel(3, d);
    float *x = rand_floats(n, 4, -8, 8);
    for (int axis = 1; axis <= 2; axis++) {
        const nnl_attr at[] = {{.name = "axis", .type = NNL_ATTR_INT, .i = axis}};
        call k;
        call_init(&k, "Softmax", 13, at, 1, 1, 1);
        set_in(&k, 0, NNL_DT_FLOAT, 3, d, x);
        float *y = call_run(&k);
        const int64_t len = d[axis], inner = axis == 1 ? d[2] : 1;
        int bad = 0;
        for (int64_t o = 0; o < d[0]; o++)
            for (int64_t j = 0; j < (axis == 1 ? d[2] : d[1]); j++) {
                const int64_t base = axis == 1 ? o * d[1] * d[2] + j : (o * d[1] + j) * d[2];
                double m = -INFINITY, s = 0;
                for (int64_t i = 0; i < len; i++) m = fmax(m, x[base + i * inner]);
                for (int64_t i = 0; i < len; i++) s += exp(x[base + i * inner] - m);
                for (int64_t i = 0; i < len; i++) {
                    const double want = exp(x[base + i * inner] - m) / s;
                    bad += fabs(y[base + i * inner] - want) > 1e-6;
                }
            }
        assert_int_equal(bad, 0);
        free(y);
    }
    free(x);
}

/* ---- reductions -------------------------------------------------------------------------- */

static void check_reduce(const char *op, int rank, const int64_t *d, const int64_t *axes,
                         int n_axes) {
    const int64_t n = numel(rank, d);
    float *x = rand_floats(n, 5, -1, 1);
    const nnl_attr at[] = {{.name = "axes", .type = NNL_ATTR_INTS, .n = n_axes, .ints = axes}};
    call k;
    call_init(&k, op, 11, at, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, rank, d, x);
    float *y = call_run(&k);
    bool red[NNL_MAX_RANK] = {false};
    for (int i = 0; i < n_axes; i++) red[axes[i]] = true;
    const int64_t ny = nnl_tensor_numel(&k.out[0]);
    double *acc = calloc((size_t)ny, sizeof *acc);
    const bool is_max = strcmp(op, "ReduceMax") == 0;
    for (int64_t o = 0; o < ny; o++) acc[o] = is_max ? -INFINITY : 0;
    int64_t idx[NNL_MAX_RANK] = {0};
    for (int64_t i = 0; i < n; i++) {
        int64_t o = 0;
        for (int a = 0; a < rank; a++) o = o * (red[a] ? 1 : d[a]) + (red[a] ? 0 : idx[a]);
        acc[o] = is_max ? fmax(acc[o], x[i]) : acc[o] + x[i];
        for (int a = rank - 1; a >= 0 && ++idx[a] == d[a]; a--) idx[a] = 0;
    }
    int bad = 0;
    for (int64_t o = 0; o < ny; o++) {
        const double want = strcmp(op, "ReduceMean") == 0 ? acc[o] / (double)(n / ny) : acc[o];
        if (fabs(y[o] - want) > 1e-4 && bad++ < 3)
            printf("  %s [%lld]: %g, want %g\n", op, (long long)o, y[o], want);
    }
    assert_int_equal(bad, 0);
    free(acc);
    free(x);
    free(y);
}

static void test_reduce_big(void **state) {
    (void)state;
    const int64_t se[] = {2, 64, 28, 28}, hw[] = {2, 3};
    const int64_t col[] = {300, 517}, a0[] = {0};
    const int64_t alt[] = {4, 30, 5, 40}, a13[] = {1, 3}, a02[] = {0, 2};
    check_reduce("ReduceMean", 4, se, hw, 2);   /* squeeze-excite: mean over H, W */
    check_reduce("ReduceSum", 2, col, a0, 1);   /* threads split the kept inner dim */
    check_reduce("ReduceMax", 4, alt, a13, 2);
    check_reduce("ReduceSum", 4, alt, a02, 2);
}

/* ---- pooling ------------------------------------------------------------------------------ */

/* Scalar pooling reference: PyTorch's rules (ceil_mode drops a window that
 * would start in the end padding; the average divisor with padding counts
 * taps inside the padded extent). */
static void pool_ref(bool max, bool include_pad, bool ceil_mode, const int64_t *d, int k, int s,
                     int p, const float *x, float *y, int64_t *oh_out, int64_t *ow_out) {
    int64_t o[2];
    for (int i = 0; i < 2; i++) {
        const int64_t in = d[2 + i], span = in + 2 * p - k;
        o[i] = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
        if (ceil_mode && (o[i] - 1) * s >= in + p) o[i]--;
    }
    *oh_out = o[0];
    *ow_out = o[1];
    const int64_t H = d[2], W = d[3];
    for (int64_t pl = 0; pl < d[0] * d[1]; pl++)
        for (int64_t oh = 0; oh < o[0]; oh++)
            for (int64_t ow = 0; ow < o[1]; ow++) {
                double acc = max ? -INFINITY : 0;
                int64_t cnt = 0, cnt_pad = 0;
                for (int64_t kh = 0; kh < k; kh++)
                    for (int64_t kw = 0; kw < k; kw++) {
                        const int64_t ih = oh * s - p + kh, iw = ow * s - p + kw;
                        if (ih < H + p && iw < W + p) cnt_pad++;
                        if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
                        const double v = x[(pl * H + ih) * W + iw];
                        acc = max ? fmax(acc, v) : acc + v;
                        cnt++;
                    }
                y[(pl * o[0] + oh) * o[1] + ow] =
                    (float)(max ? acc : acc / (double)(include_pad ? cnt_pad : cnt));
            }
}

static void check_pool(const char *op, const int64_t *d, int k, int s, int p, bool ceil_mode,
                       bool include_pad) {
    const int64_t ks[] = {k, k}, st[] = {s, s}, pads[] = {p, p, p, p};
    const nnl_attr at[] = {
        {.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = ks},
        {.name = "strides", .type = NNL_ATTR_INTS, .n = 2, .ints = st},
        {.name = "pads", .type = NNL_ATTR_INTS, .n = 4, .ints = pads},
        {.name = "ceil_mode", .type = NNL_ATTR_INT, .i = ceil_mode},
        {.name = "count_include_pad", .type = NNL_ATTR_INT, .i = include_pad},
    };
    const bool max = strcmp(op, "MaxPool") == 0;
    float *x = rand_floats(numel(4, d), 6, -5, 5);
    int64_t oh, ow;
    float *want = malloc((size_t)numel(4, d) * sizeof *want);
    pool_ref(max, include_pad, ceil_mode, d, k, s, p, x, want, &oh, &ow);
    /* With the per-thread row buffer (separable path) and without. */
    for (int direct = 0; direct < 2; direct++) {
        call k_;
        call_init(&k_, op, 12, at, max ? 4 : 5, 1, 1);
        if (direct) k_.c.thread_scratch = NULL;
        set_in(&k_, 0, NNL_DT_FLOAT, 4, d, x);
        float *y = call_run(&k_);
        assert_int_equal(k_.out[0].dims[2], oh);
        assert_int_equal(k_.out[0].dims[3], ow);
        assert_int_equal(
            compare(op, 0, NNL_DT_FLOAT, y, want, nnl_tensor_numel(&k_.out[0]), 1e-5), 0);
        free(y);
    }
    free(x);
    free(want);
}

static void test_pool_big(void **state) {
    (void)state;
    const int64_t stem[] = {1, 16, 57, 57}, odd[] = {2, 8, 33, 31}, small[] = {3, 5, 6, 6};
    check_pool("MaxPool", stem, 3, 2, 1, false, false);  /* ResNet stem */
    check_pool("MaxPool", odd, 2, 2, 0, true, false);
    check_pool("MaxPool", odd, 3, 1, 1, false, false);
    check_pool("AveragePool", odd, 3, 1, 1, false, false);
    check_pool("AveragePool", odd, 3, 2, 1, true, true);
    check_pool("AveragePool", stem, 5, 3, 2, true, false);
    /* 2x2/2 inside the plane (DenseNet's transitions: one pass), odd sizes
     * dropping the last row and column, and with ceil_mode (general path) */
    const int64_t dense[] = {1, 16, 56, 56};
    check_pool("AveragePool", dense, 2, 2, 0, false, false);
    check_pool("AveragePool", odd, 2, 2, 0, false, false);
    check_pool("AveragePool", odd, 2, 2, 0, true, false);
    check_pool("MaxPool", small, 7, 1, 3, false, false); /* no interior columns */
}

static void test_global_pool(void **state) {
    (void)state;
    const int64_t d[] = {2, 3, 17, 19};
    float *x = rand_floats(numel(4, d), 7, -1, 1);
    for (int m = 0; m < 2; m++) {
        call k;
        call_init(&k, m ? "GlobalMaxPool" : "GlobalAveragePool", 1, NULL, 0, 1, 1);
        set_in(&k, 0, NNL_DT_FLOAT, 4, d, x);
        float *y = call_run(&k);
        assert_int_equal(k.out[0].rank, 4);
        assert_int_equal(k.out[0].dims[2], 1);
        for (int64_t pl = 0; pl < 6; pl++) {
            double acc = m ? -INFINITY : 0;
            for (int64_t i = 0; i < 17 * 19; i++)
                acc = m ? fmax(acc, x[pl * 17 * 19 + i]) : acc + x[pl * 17 * 19 + i];
            if (!m) acc /= 17 * 19;
            assert_true(fabs(y[pl] - acc) < 1e-5);
        }
        free(y);
    }
    free(x);
}

/* ---- resize --------------------------------------------------------------------------------- */

/* Direct bilinear interpolation (not separable): PyTorch's formula. */
static float bilinear_ref(const float *x, int64_t H, int64_t W, int64_t OH, int64_t OW,
                          bool align, int64_t oy, int64_t ox) {
    double fy = align ? (OH > 1 ? (double)oy * (H - 1) / (OH - 1) : 0)
                      : fmax(0, (oy + 0.5) * H / OH - 0.5);
    double fx = align ? (OW > 1 ? (double)ox * (W - 1) / (OW - 1) : 0)
                      : fmax(0, (ox + 0.5) * W / OW - 0.5);
    int64_t y0 = (int64_t)fy, x0 = (int64_t)fx;
    if (y0 > H - 1) y0 = H - 1;
    if (x0 > W - 1) x0 = W - 1;
    const int64_t y1 = y0 + 1 < H ? y0 + 1 : H - 1, x1 = x0 + 1 < W ? x0 + 1 : W - 1;
    const double wy = fy - y0, wx = fx - x0;
    return (float)((1 - wy) * ((1 - wx) * x[y0 * W + x0] + wx * x[y0 * W + x1]) +
                   wy * ((1 - wx) * x[y1 * W + x0] + wx * x[y1 * W + x1]));
}

static void check_bilinear(const int64_t *d, int64_t OH, int64_t OW, bool align) {
    const nnl_attr at[] = {
        {.name = "mode", .type = NNL_ATTR_STRING, .s = "linear"},
        {.name = "coordinate_transformation_mode", .type = NNL_ATTR_STRING,
         .s = align ? "align_corners" : "pytorch_half_pixel"},
    };
    int64_t sizes[] = {d[0], d[1], OH, OW};
    const int64_t four[] = {4}, zero[] = {0};
    float *x = rand_floats(numel(4, d), 8, -3, 3);
    call k;
    call_init(&k, "Resize", 13, at, 2, 4, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d, x);
    k.inp[1] = NULL;
    set_in(&k, 2, NNL_DT_FLOAT, 1, zero, NULL);
    k.in[2].data = x; /* empty, but "constant" */
    set_in(&k, 3, NNL_DT_INT64, 1, four, sizes);
    const double t0 = nnl_now_ms();
    float *y = call_run(&k);
    const double ms = nnl_now_ms() - t0;
    printf("  bilinear %lldx%lldx%lldx%lld -> %lldx%lld%s: %.2f ms\n", (long long)d[0],
           (long long)d[1], (long long)d[2], (long long)d[3], (long long)OH, (long long)OW,
           align ? " (align_corners)" : "", ms);
    int bad = 0;
    for (int64_t pl = 0; pl < d[0] * d[1]; pl++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++) {
                const float want = bilinear_ref(x + pl * d[2] * d[3], d[2], d[3], OH, OW, align,
                                                oy, ox);
                const float got = y[(pl * OH + oy) * OW + ox];
                if (fabsf(got - want) > 1e-5f && bad++ < 3)
                    printf("  [%lld,%lld,%lld] %g, want %g\n", (long long)pl, (long long)oy,
                           (long long)ox, got, want);
            }
    assert_int_equal(bad, 0);
    free(x);
    free(y);
}

static void test_resize_bilinear_big(void **state) {
    (void)state;
    const int64_t fcn[] = {1, 21, 32, 48}, odd[] = {2, 3, 17, 23};
    check_bilinear(fcn, 256, 384, false); /* FCN's 8x upsampling */
    check_bilinear(odd, 40, 11, false);   /* up in H, down in W */
    check_bilinear(odd, 33, 45, true);
}

/* ---- empty tensors ------------------------------------------------------------------------------ */

static void expect_fail(call *k, nnl_status want, const char *needle);

static void test_empty_tensors(void **state) {
    (void)state;
    const int64_t e[] = {2, 0, 5, 5}, one[] = {1};
    float dummy = 0;
    call k;
    call_init(&k, "Relu", 14, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, e, &dummy);
    free(call_run(&k));
    assert_int_equal(k.out[0].dims[1], 0);
    call_init(&k, "Mul", 14, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, e, &dummy);
    set_in(&k, 1, NNL_DT_FLOAT, 1, one, &dummy);
    free(call_run(&k));
    const int64_t ks[] = {3, 3};
    const nnl_attr at[] = {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = ks}};
    call_init(&k, "MaxPool", 12, at, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, e, &dummy);
    free(call_run(&k));
    assert_int_equal(k.out[0].dims[2], 3);
    call_init(&k, "GlobalAveragePool", 1, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, e, &dummy);
    free(call_run(&k));
    const int64_t ax[] = {1};
    const nnl_attr rat[] = {{.name = "axes", .type = NNL_ATTR_INTS, .n = 1, .ints = ax}};
    call_init(&k, "ReduceSum", 11, rat, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, e, &dummy);
    float *y = call_run(&k);
    for (int i = 0; i < 50; i++) assert_true(y[i] == 0.0f);
    free(y);
    call_init(&k, "Softmax", 13, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, e, &dummy);
    free(call_run(&k));
    /* N = 0 through the ops that index channels or planes. */
    const int64_t n0[] = {0, 3, 4, 4}, c3[] = {3};
    float ch[3] = {1, 1, 1};
    call_init(&k, "BatchNormalization", 15, NULL, 0, 5, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, n0, &dummy);
    for (int i = 1; i < 5; i++) set_in(&k, i, NNL_DT_FLOAT, 1, c3, ch);
    free(call_run(&k));
    call_init(&k, "InstanceNormalization", 6, NULL, 0, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, n0, &dummy);
    for (int i = 1; i < 3; i++) set_in(&k, i, NNL_DT_FLOAT, 1, c3, ch);
    free(call_run(&k));
    const int64_t c4[] = {4};
    call_init(&k, "LayerNormalization", 17, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, n0, &dummy);
    set_in(&k, 1, NNL_DT_FLOAT, 1, c4, ch);
    free(call_run(&k));
    const nnl_attr ax1[] = {{.name = "axis", .type = NNL_ATTR_INT, .i = 1}};
    call_init(&k, "ArgMax", 13, ax1, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, n0, &dummy);
    free(call_run(&k));
    assert_int_equal(k.out[0].dims[1], 1);
    /* ...but there is no index of a maximum over an empty axis. */
    call_init(&k, "ArgMax", 13, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, n0, &dummy);
    expect_fail(&k, NNL_ERR_SHAPE, "empty");
    int64_t axis = 2;
    call_init(&k, "CumSum", 14, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, n0, &dummy);
    set_in(&k, 1, NNL_DT_INT64, 0, NULL, &axis);
    free(call_run(&k));
    const nnl_attr up[] = {{.name = "mode", .type = NNL_ATTR_STRING, .s = "linear"}};
    float sc[] = {1, 1, 2, 2};
    call_init(&k, "Resize", 13, up, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, n0, &dummy);
    k.inp[1] = NULL;
    set_in(&k, 2, NNL_DT_FLOAT, 1, c4, sc);
    free(call_run(&k));
    assert_int_equal(k.out[0].dims[3], 8);
}

/* ---- refusals ---------------------------------------------------------------------------------- */

static void expect_fail(call *k, nnl_status want, const char *needle) {
    nnl_status s = call_infer(k);
    if (s != want || !strstr(nnl_last_error(), needle))
        printf("  %s: got %s '%s', want %s mentioning '%s'\n", k->c.op, nnl_status_string(s),
               nnl_last_error(), nnl_status_string(want), needle);
    assert_int_equal(s, want);
    assert_non_null(strstr(nnl_last_error(), needle));
    free(k->scratch);
    k->scratch = NULL;
}

static void test_refusals(void **state) {
    (void)state;
    const int64_t d4[] = {1, 3, 8, 8}, d3[] = {3}, d5[] = {5}, four[] = {4};
    float x[192] = {0};
    float scales[] = {1, 1, 2, 2};
    call k;

    const nnl_attr bogus[] = {{.name = "bogus_attr", .type = NNL_ATTR_INT, .i = 1}};
    call_init(&k, "Relu", 14, bogus, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, x);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "bogus_attr");

    call_init(&k, "Add", 14, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 1, d3, x);
    set_in(&k, 1, NNL_DT_FLOAT, 1, d5, x);
    expect_fail(&k, NNL_ERR_SHAPE, "broadcast");

    call_init(&k, "Add", 14, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 1, d3, x);
    set_in(&k, 1, NNL_DT_INT64, 1, d3, x);
    expect_fail(&k, NNL_ERR_SHAPE, "differ");

    call_init(&k, "Softmax", 13, (nnl_attr[]){{.name = "axis", .type = NNL_ATTR_INT, .i = 4}}, 1,
              1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    expect_fail(&k, NNL_ERR_SHAPE, "axis");

    /* Resize scales must be constant: the output shape depends on them. */
    const nnl_attr lin[] = {{.name = "mode", .type = NNL_ATTR_STRING, .s = "linear"}};
    call_init(&k, "Resize", 13, lin, 1, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    k.inp[1] = NULL;
    set_in(&k, 2, NNL_DT_FLOAT, 1, four, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "constant");

    const nnl_attr aa[] = {{.name = "mode", .type = NNL_ATTR_STRING, .s = "linear"},
                           {.name = "antialias", .type = NNL_ATTR_INT, .i = 1}};
    call_init(&k, "Resize", 18, aa, 2, 3, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    k.inp[1] = NULL;
    set_in(&k, 2, NNL_DT_FLOAT, 1, four, scales);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "antialias");

    const int64_t ks[] = {2, 2};
    const nnl_attr mp[] = {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = ks}};
    call_init(&k, "MaxPool", 12, mp, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    k.c.n_out = 2;
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "Indices");

    call_init(&k, "MaxPool", 12, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    expect_fail(&k, NNL_ERR_SHAPE, "kernel_shape");

    const int64_t big_k[] = {9, 9};
    const nnl_attr mp9[] = {{.name = "kernel_shape", .type = NNL_ATTR_INTS, .n = 2, .ints = big_k}};
    call_init(&k, "AveragePool", 12, mp9, 1, 1, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    expect_fail(&k, NNL_ERR_SHAPE, "exceeds");

    const nnl_attr train[] = {{.name = "training_mode", .type = NNL_ATTR_INT, .i = 1}};
    call_init(&k, "BatchNormalization", 15, train, 1, 5, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    for (int i = 1; i < 5; i++) set_in(&k, i, NNL_DT_FLOAT, 1, d3, x);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "training_mode");

    /* ReduceSum's axes input (opset 13) decides the shape. */
    const int64_t one[] = {1};
    call_init(&k, "ReduceSum", 13, NULL, 0, 2, 1);
    set_in(&k, 0, NNL_DT_FLOAT, 4, d4, NULL);
    set_in(&k, 1, NNL_DT_INT64, 1, one, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "constant");

    call_init(&k, "Sigmoid", 13, NULL, 0, 1, 1);
    set_in(&k, 0, NNL_DT_INT32, 4, d4, NULL);
    expect_fail(&k, NNL_ERR_UNSUPPORTED, "int32");
}

int main(void) {
    if (isa_check_forced()) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_cases),
        cmocka_unit_test(test_binary_broadcast_big),
        cmocka_unit_test(test_int_division_edges),
        cmocka_unit_test(test_sigmoid_big),
        cmocka_unit_test(test_softmax_big),
        cmocka_unit_test(test_reduce_big),
        cmocka_unit_test(test_pool_big),
        cmocka_unit_test(test_global_pool),
        cmocka_unit_test(test_resize_bilinear_big),
        cmocka_unit_test(test_empty_tensors),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, harness_setup, harness_teardown);
}
