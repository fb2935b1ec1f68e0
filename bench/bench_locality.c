/*
 * Why convs scale worse on 2 threads inside a network than alone: one
 * 1x1 conv (MobileNetV2's 384 -> 64 projection at 14x14, or any C, OC
 * and map size given) run on the session's path (nnl_conv2d_direct on a
 * PACK_A8 weight, the pool's threads), its input written just before by
 * a producer job on the same pool in one of these ways:
 *
 *   0  nothing: the input stays as the previous run left it (read only)
 *   1  each thread adds to half the channels (a channel-split producer:
 *      a depthwise conv, a BatchNorm, a conv split by output channels)
 *   2  each thread adds to half of every channel's pixels (a spatial
 *      split)
 *   3  each thread only reads half the channels (no writes)
 *
 *   bench_locality [threads [mode [C OC H W [runs]]]]
 *
 * Prints the conv's best and mean wall time over the runs after the
 * first third (the producer is not timed).  Measured on an Intel Xeon
 * (2 vCPUs, 2026-12-05, docs/BENCH.md): 1 thread 66 us in every mode; 2
 * threads 36 us in mode 0 and 3, 58 us in mode 1, 49 us in mode 2 -- lines
 * just written by either core, not the threads' arithmetic, cost the time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnlink.h"
#include "kernels/conv.h"
#include "kernels/gemm.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct job {
    float *x;
    int64_t c, hw;
    int mode;
    volatile float sink;
} job;

static void produce(void *ctx, int64_t t, int thread) {
    (void)thread;
    job *j = ctx;
    const int64_t c0 = t * j->c / 2, c1 = (t + 1) * j->c / 2, p0 = t * j->hw / 2, p1 = (t + 1) * j->hw / 2;
    float s = 0.0f;
    switch (j->mode) {
    case 1:
        for (int64_t c = c0; c < c1; c++)
            for (int64_t i = 0; i < j->hw; i++) j->x[c * j->hw + i] += 1e-7f;
        break;
    case 2:
        for (int64_t c = 0; c < j->c; c++)
            for (int64_t i = p0; i < p1; i++) j->x[c * j->hw + i] += 1e-7f;
        break;
    case 3:
        for (int64_t c = c0; c < c1; c++)
            for (int64_t i = 0; i < j->hw; i++) s += j->x[c * j->hw + i];
        j->sink = s;
        break;
    default: break;
    }
}

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 2, mode = argc > 2 ? atoi(argv[2]) : 1;
    const int64_t C = argc > 3 ? atoll(argv[3]) : 384, OC = argc > 4 ? atoll(argv[4]) : 64;
    const int64_t H = argc > 5 ? atoll(argv[5]) : 14, W = argc > 6 ? atoll(argv[6]) : 14;
    const int runs = argc > 7 ? atoi(argv[7]) : 3000;
    if (threads < 1 || threads > 2 || mode < 0 || mode > 3 || C < 2 || OC < 1 || H < 1 || W < 1 || runs < 3) {
        fprintf(stderr, "usage: bench_locality [threads (1|2) [mode 0-3 [C OC H W [runs]]]]\n");
        return 2;
    }
    nnl_pool *pool = NULL;
    if (nnl_pool_create(threads, &pool) != NNL_OK) return 1;
    nnl_conv_params p = {.n = 1, .c = C, .h = H, .w = W, .oc = OC, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1,
                         .dw = 1, .group = 1, .oh = H, .ow = W};
    const int64_t dims[2] = {OC, C};
    float *w = nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(2, dims)), *wr = malloc(sizeof(float) * (size_t)(OC * C));
    float *x = nnl_aligned_alloc(sizeof(float) * (size_t)(C * H * W)), *y = nnl_aligned_alloc(sizeof(float) * (size_t)(OC * H * W));
    void *ts[2] = {nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES), nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES)};
    if (!w || !wr || !x || !y || !ts[0] || !ts[1]) return 1;
    for (int64_t i = 0; i < OC * C; i++) wr[i] = (float)(i % 7) * 0.01f;
    nnl_pack_a8(w, wr, OC, C);
    for (int64_t i = 0; i < C * H * W; i++) x[i] = (float)(i % 5) * 0.1f;
    nnl_conv_args a = {.x = x, .w = w, .w_layout = NNL_LAYOUT_PACK_A8, .y = y};
    job j = {.x = x, .c = C, .hw = H * W, .mode = mode};
    double best = 1e30, sum = 0.0;
    int counted = 0;
    for (int r = 0; r < runs; r++) {
        nnl_pool_run(pool, 2, produce, &j);
        const double t0 = now_us();
        if (nnl_conv2d_direct(&p, &a, NULL, pool, ts) != NNL_OK) {
            fprintf(stderr, "conv failed: %s\n", nnl_last_error());
            return 1;
        }
        const double t = now_us() - t0;
        if (t < best) best = t;
        if (r >= runs / 3) sum += t, counted++;
    }
    printf("threads %d mode %d conv %lldx%lld %lldx%lld: best %.1f us mean %.1f us\n", threads, mode, (long long)C,
           (long long)OC, (long long)H, (long long)W, best, sum / counted);
    nnl_pool_free(pool);
    return 0;
}
