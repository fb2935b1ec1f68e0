/*
 * Convolution throughput on ResNet-50-like shapes (FCN ResNet-50 at a
 * 256x384 input: dilated layer3/4 keep 32x48), at 1 and 2 threads, with
 * the kernel set nnl_kernel_get() picks (NNL_ISA forces one).
 *
 *   bench_kernels [min_seconds_per_case [name_substring]]
 *
 * 3x3 stride-1 group-1 shapes run twice: direct (PACK_A8 implicit GEMM)
 * and Winograd F(4x4, 3x3) on the same PACK_A8 weight, transformed while
 * it runs ("wino" rows, what nnl_wino_auto picks by default); the GFLOP/s
 * of both count the direct conv's FLOPs, so they compare as speed.
 *
 * Besides wall-clock GFLOP/s it prints a CPU-time figure: FLOPs over the
 * process's CPU seconds, times the thread count.  On a machine shared
 * with other jobs the wall figure drops, the CPU one much less (pool
 * spinning and imbalance still count against it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/wino.h"

typedef struct shape {
    const char *name;
    int64_t c, h, w, oc, k, s, pad, dil, group;
} shape;

static const shape shapes[] = {
    {"stem 7x7/2 3->64", 3, 256, 384, 64, 7, 2, 3, 1, 1},
    {"l1 1x1 64->64", 64, 64, 96, 64, 1, 1, 0, 1, 1},
    {"l1 3x3 64->64", 64, 64, 96, 64, 3, 1, 1, 1, 1},
    {"l1 1x1 64->256", 64, 64, 96, 256, 1, 1, 0, 1, 1},
    {"l1 1x1 256->64", 256, 64, 96, 64, 1, 1, 0, 1, 1},
    {"l2 3x3/2 128->128", 128, 64, 96, 128, 3, 2, 1, 1, 1},
    {"l2 3x3 128->128", 128, 32, 48, 128, 3, 1, 1, 1, 1},
    {"l2 1x1 128->512", 128, 32, 48, 512, 1, 1, 0, 1, 1},
    {"l3 3x3 d2 256->256", 256, 32, 48, 256, 3, 1, 2, 2, 1},
    {"l3 1x1 1024->256", 1024, 32, 48, 256, 1, 1, 0, 1, 1},
    {"l4 3x3 d4 512->512", 512, 32, 48, 512, 3, 1, 4, 4, 1},
    {"l4 1x1 512->2048", 512, 32, 48, 2048, 1, 1, 0, 1, 1},
    {"l4 1x1 2048->512", 2048, 32, 48, 512, 1, 1, 0, 1, 1},
    {"head 3x3 2048->512", 2048, 32, 48, 512, 3, 1, 1, 1, 1},
    {"dw 3x3 256", 256, 64, 96, 256, 3, 1, 1, 1, 256},
    /* ResNet-50 at 224x224: small spatial sizes */
    {"r224 l3 3x3 256 14x14", 256, 14, 14, 256, 3, 1, 1, 1, 1},
    {"r224 l4 3x3 512 7x7", 512, 7, 7, 512, 3, 1, 1, 1, 1},
    {"r224 l4 1x1 2048->512", 2048, 7, 7, 512, 1, 1, 0, 1, 1},
};

static float *filled(int64_t n, unsigned seed) {
    float *p = nnl_aligned_alloc((size_t)n * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

static double cpu_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

int main(int argc, char **argv) {
    double min_s = argc > 1 ? atof(argv[1]) : 0.5;
    const char *only = argc > 2 ? argv[2] : NULL;
    const nnl_kernel *kern = nnl_kernel_get();
    printf("kernel set: %s\n", kern->name);
    printf("%-24s %7s %18s %18s\n", "", "", "1 thread", "2 threads");
    printf("%-24s %7s %9s %8s %9s %8s\n", "shape", "GFLOP", "wall", "cpu", "wall", "cpu");
    void *ts[2];
    for (int t = 0; t < 2; t++) ts[t] = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    nnl_pool *pools[2];
    if (nnl_pool_create(1, &pools[0]) || nnl_pool_create(2, &pools[1])) {
        fprintf(stderr, "pool: %s\n", nnl_last_error());
        return 1;
    }
    double total_flops = 0, total_ms[2] = {0, 0}, wino_ms[2] = {0, 0}, direct_ms[2] = {0, 0};
    for (size_t i = 0; i < 2 * sizeof shapes / sizeof *shapes; i++) {
        const shape *s = &shapes[i / 2];
        bool wino = i % 2;
        nnl_conv_params p = {.n = 1, .c = s->c, .h = s->h, .w = s->w, .oc = s->oc, .kh = s->k, .kw = s->k,
                             .group = s->group, .sh = s->s, .sw = s->s, .dh = s->dil, .dw = s->dil,
                             .pt = s->pad, .pl = s->pad, .pb = s->pad, .pr = s->pad};
        p.oh = (s->h + 2 * s->pad - (s->k - 1) * s->dil - 1) / s->s + 1;
        p.ow = (s->w + 2 * s->pad - (s->k - 1) * s->dil - 1) / s->s + 1;
        if ((wino && !nnl_wino_ok(&p)) || (only && !strstr(s->name, only))) continue;
        int64_t wn = s->oc * (s->c / s->group) * s->k * s->k;
        float *x = filled(s->c * s->h * s->w, 1), *w = filled(wn, 2), *bias = filled(s->oc, 3);
        float *y = filled(s->oc * p.oh * p.ow, 4);
        nnl_conv_args a = {.x = x, .w = w, .w_layout = NNL_LAYOUT_PLAIN, .bias = bias, .y = y,
                           .act = NNL_ACT_RELU};
        float *wp = NULL;
        size_t sb = nnl_conv_direct_scratch_bytes(&p, NNL_LAYOUT_PACK_A8);
        if (!nnl_conv_is_depthwise(&p)) {
            int64_t dims[4] = {s->oc, s->c / s->group, s->k, s->k};
            wp = nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(4, dims));
            nnl_pack_a8(wp, w, s->oc, wn / s->oc);
            a.w = wp;
            a.w_layout = NNL_LAYOUT_PACK_A8;
            if (wino) sb = nnl_wino_scratch_bytes(&p);
        } else {
            sb = nnl_conv_direct_scratch_bytes(&p, NNL_LAYOUT_PLAIN);
        }
        a.scratch = sb ? nnl_aligned_alloc(sb) : NULL;
        a.scratch_bytes = sb;
        double flops = 2.0 * (double)wn * (double)(p.oh * p.ow);
        double gf[2], gc[2];
        for (int t = 0; t < 2; t++) {
            /* nnl_conv2d would pick by nnl_wino_auto; force each path */
#define RUN() (wino ? nnl_wino_conv(&p, &a, kern, pools[t], ts) : nnl_conv2d_direct(&p, &a, kern, pools[t], ts))
            RUN(); /* warm-up */
            int reps = 0;
            double t0 = nnl_now_ms(), c0 = cpu_ms(), el;
            do {
                if (RUN()) {
                    fprintf(stderr, "%s: %s\n", s->name, nnl_last_error());
                    return 1;
                }
                reps++;
                el = nnl_now_ms() - t0;
            } while (el < min_s * 1000.0);
            gf[t] = flops * reps / (el * 1e6);
            gc[t] = flops * reps * (t + 1) / ((cpu_ms() - c0) * 1e6);
            if (!wino) {
                total_ms[t] += el / reps;
                wino_ms[t] += el / reps;
                direct_ms[t] = el / reps;
            } else if (nnl_wino_auto(&p)) {
                wino_ms[t] += el / reps - direct_ms[t];
            }
        }
        if (!wino) total_flops += flops;
        char name[64];
        snprintf(name, sizeof name, "%s%s", wino ? "  wino " : "", s->name);
        printf("%-24.24s %7.3f %9.1f %8.1f %9.1f %8.1f\n", name, flops * 1e-9, gf[0], gc[0], gf[1], gc[1]);
        nnl_aligned_free(x);
        nnl_aligned_free(w);
        nnl_aligned_free(wp);
        nnl_aligned_free(bias);
        nnl_aligned_free(y);
        nnl_aligned_free(a.scratch);
    }
    printf("%-24s %7.3f %9.1f %8s %9.1f\n", "all (time-weighted)", total_flops * 1e-9,
           total_flops / (total_ms[0] * 1e6), "", total_flops / (total_ms[1] * 1e6));
    printf("%-24s %7.3f %9.1f %8s %9.1f\n", "all, wino where picked", total_flops * 1e-9,
           total_flops / (wino_ms[0] * 1e6), "", total_flops / (wino_ms[1] * 1e6));
    nnl_pool_free(pools[0]);
    nnl_pool_free(pools[1]);
    nnl_aligned_free(ts[0]);
    nnl_aligned_free(ts[1]);
    return 0;
}
