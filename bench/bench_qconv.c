/*
 * 8-bit conv throughput (nnl_qconv2d_with, every int8 microkernel this
 * CPU runs) beside the float conv (nnl_conv2d on a PACK_A8 weight, which
 * takes Winograd where nnl_wino_auto picks it, and nnl_conv2d_direct) of
 * the same shape, on ResNet-18/50 layer shapes at 224x224, 1 thread.
 *
 *   bench_qconv [runs [name_substring [ukr_name]]]
 *
 * Time is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), the
 * minimum over `runs` runs (default 20) after one warm-up: on a machine
 * shared with other jobs the wall clock measures the neighbours.  GMAC/s
 * counts the direct conv's multiply-adds for every row, Winograd too.
 * A microkernel with a transposed tile (nnl_qukr.tfn) is also timed
 * without it, as "<name> px": pixel tiles only, the two in alternating
 * rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/qconv.h"
#include "kernels/qwino.h"

typedef struct shape {
    const char *name;
    int64_t c, h, w, oc, k, s, pad, d; /* d: dilation */
} shape;

static const shape shapes[] = {
    {"r18 conv1 7x7/2 3->64 224", 3, 224, 224, 64, 7, 2, 3, 1},
    {"r18 l1 3x3 64->64 56", 64, 56, 56, 64, 3, 1, 1, 1},
    {"r18 l2 3x3/2 64->128 56", 64, 56, 56, 128, 3, 2, 1, 1},
    {"r18 l2 3x3 128->128 28", 128, 28, 28, 128, 3, 1, 1, 1},
    {"r18 l3 3x3 256->256 14", 256, 14, 14, 256, 3, 1, 1, 1},
    {"r18 l4 3x3/2 256->512 14", 256, 14, 14, 512, 3, 2, 1, 1},
    {"r18 l4 1x1/2 256->512 14", 256, 14, 14, 512, 1, 2, 0, 1},
    {"r18 l4 3x3 512->512 7", 512, 7, 7, 512, 3, 1, 1, 1},
    {"r18 l3 3x3/2 128->256 28", 128, 28, 28, 256, 3, 2, 1, 1},
    {"r50 l4 1x1 512->2048 7", 512, 7, 7, 2048, 1, 1, 0, 1},
    {"r50 l4 1x1 2048->512 7", 2048, 7, 7, 512, 1, 1, 0, 1},
    {"mnv2 1x1 16->96 112", 16, 112, 112, 96, 1, 1, 0, 1},
    {"mnv2 1x1 24->144 56", 24, 56, 56, 144, 1, 1, 0, 1},
    {"mnv2 1x1 160->960 7", 160, 7, 7, 960, 1, 1, 0, 1},
    {"mnv2 1x1 960->160 7", 960, 7, 7, 160, 1, 1, 0, 1},
    {"mnv2 1x1 96->576 14", 96, 14, 14, 576, 1, 1, 0, 1},
    {"mnv2 1x1 576->96 14", 576, 14, 14, 96, 1, 1, 0, 1},
    {"r50 l3 1x1 256->1024 14", 256, 14, 14, 1024, 1, 1, 0, 1},
    {"r50 l2 1x1 512->128 28", 512, 28, 28, 128, 1, 1, 0, 1},
    {"fcn l1 3x3 64 64x96", 64, 64, 96, 64, 3, 1, 1, 1},
    {"fcn l1 1x1 256->64 64x96", 256, 64, 96, 64, 1, 1, 0, 1},
    {"fcn l1 1x1 64->256 64x96", 64, 64, 96, 256, 1, 1, 0, 1},
    {"fcn l4 3x3 d4 512 32x48", 512, 32, 48, 512, 3, 1, 4, 4},
    {"fcn l4 3x3 d4 512 48x32", 512, 48, 32, 512, 3, 1, 4, 4},
    {"fcn l3 3x3 d2 256 48x32", 256, 48, 32, 256, 3, 1, 2, 2},
    {"fcn l3 3x3 d2 256 32x48", 256, 32, 48, 256, 3, 1, 2, 2},
    {"fcn l2 3x3 128 32x48", 128, 32, 48, 128, 3, 1, 1, 1},
    {"fcn head 3x3 2048->512", 2048, 32, 48, 512, 3, 1, 1, 1},
    {"fcn l4 1x1 2048->512 32x48", 2048, 32, 48, 512, 1, 1, 0, 1},
    {"fcn l4 1x1 512->2048 32x48", 512, 32, 48, 2048, 1, 1, 0, 1},
    {"fcn l4 1x1 1024->2048 32x48", 1024, 32, 48, 2048, 1, 1, 0, 1},
};

static double thread_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *must(void *p) {
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

typedef nnl_status (*run_fn)(const void *ctx);

/* Minimum thread CPU seconds of one run. */
static double best_s(run_fn f, const void *ctx, int runs) {
    if (f(ctx) != NNL_OK) return -1.0;
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double t0 = thread_s();
        f(ctx);
        double t = thread_s() - t0;
        if (t < best) best = t;
    }
    return best;
}

typedef struct job {
    const nnl_conv_params *p;
    const nnl_qconv_args *qa;
    const nnl_conv_args *fa;
    const nnl_qukr *uk;
    const nnl_kernel *kern;
    void *const *ts;
} job;

static nnl_status run_q(const void *c) {
    const job *j = c;
    return nnl_qconv2d_with(j->p, j->qa, j->uk, NULL, j->ts);
}
static nnl_status run_w(const void *c) {
    const job *j = c;
    return nnl_qwino_conv(j->p, j->qa, j->kern, NULL, j->ts);
}
static nnl_status run_f(const void *c) {
    const job *j = c;
    return nnl_conv2d(j->p, j->fa, j->kern, NULL, j->ts);
}
static nnl_status run_fd(const void *c) {
    const job *j = c;
    return nnl_conv2d_direct(j->p, j->fa, j->kern, NULL, j->ts);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 20;
    const char *only = argc > 2 ? argv[2] : NULL;
    const char *only_uk = argc > 3 ? argv[3] : NULL;
    if (runs < 1) runs = 1;
    void *ts[1] = {must(nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES))};
    printf("1 thread, GMAC/s = direct-conv multiply-adds / min thread CPU time of %d runs\n", runs);
    printf("%-26s %7s %-8s %-12s %8s %8s %8s %6s\n", "shape", "GMAC", "set", "int8 ukr", "int8", "f32",
           "f32 dir", "x f32");
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        const shape *s = &shapes[si];
        if (only && !strstr(s->name, only)) continue;
        nnl_conv_params p = {.n = 1, .c = s->c, .h = s->h, .w = s->w, .oc = s->oc, .kh = s->k, .kw = s->k,
                             .group = 1, .sh = s->s, .sw = s->s, .dh = s->d, .dw = s->d,
                             .pt = s->pad, .pl = s->pad,
                             .pb = s->pad, .pr = s->pad};
        p.oh = (p.h + 2 * s->pad - (s->k - 1) * p.dh - 1) / s->s + 1;
        p.ow = (p.w + 2 * s->pad - (s->k - 1) * p.dw - 1) / s->s + 1;
        int64_t kk = s->c * s->k * s->k, nx = s->c * s->h * s->w, ny = s->oc * p.oh * p.ow;
        double macs = (double)ny * (double)kk;
        /* int8 operands */
        uint8_t *xq = must(malloc((size_t)nx)), *yq = must(malloc((size_t)ny));
        int8_t *wq = must(malloc((size_t)(s->oc * kk)));
        float *scale = must(malloc((size_t)s->oc * sizeof(float)));
        int32_t *bias = must(malloc((size_t)s->oc * sizeof(int32_t)));
        unsigned seed = 1;
        for (int64_t i = 0; i < nx; i++) xq[i] = (uint8_t)((seed = seed * 1664525u + 1013904223u) >> 24);
        /* 7-bit weights (nnl_qukr.w7): every microkernel runs them */
        for (int64_t i = 0; i < s->oc * kk; i++)
            wq[i] = (int8_t)((int)(((seed = seed * 1664525u + 1013904223u) >> 24) % 129) - 64);
        for (int64_t i = 0; i < s->oc; i++) scale[i] = 0.004f, bias[i] = (int32_t)i * 10;
        int64_t dims[4] = {s->oc, s->c, s->k, s->k};
        void *packed = must(nnl_aligned_alloc((size_t)nnl_pack_q8_bytes(4, dims)));
        nnl_pack_q8(packed, wq, scale, s->oc, s->c, s->k * s->k);
        nnl_qconv_args qa = {.x = xq, .x_zp = 128, .x_scale = 0.02f, .w = packed, .w7 = true, .bias = bias, .y = yq,
                             .y_zp = 0, .y_scale = 0.5f, .y_min = 0, .y_max = 255};
        /* float operands */
        float *xf = must(nnl_aligned_alloc((size_t)nx * sizeof(float)));
        float *yf = must(nnl_aligned_alloc((size_t)ny * sizeof(float)));
        float *wf = must(nnl_aligned_alloc((size_t)(s->oc * kk) * sizeof(float)));
        float *wp = must(nnl_aligned_alloc((size_t)nnl_pack_a8_bytes(4, dims)));
        for (int64_t i = 0; i < nx; i++) xf[i] = (float)xq[i] / 256.0f;
        for (int64_t i = 0; i < s->oc * kk; i++) wf[i] = (float)wq[i] / 128.0f;
        nnl_pack_a8(wp, wf, s->oc, kk);
        nnl_conv_args fa = {.x = xf, .w = wp, .w_layout = NNL_LAYOUT_PACK_A8, .y = yf, .act = NNL_ACT_RELU};
        /* float convs are measured without the shared scratch (as with one task) */
        for (int ki = 0; nnl_kernels[ki]; ki++) {
            const nnl_kernel *k = nnl_kernels[ki];
            if (!k->supported() || strcmp(k->name, "scalar") == 0) continue;
            bool has_uk = !only_uk || (k->qwino && strcmp(only_uk, "winograd") == 0);
            for (int u = 0; u < NNL_QUKR_MAX && k->qukr[u]; u++)
                has_uk |= only_uk && strcmp(only_uk, k->qukr[u]->name) == 0;
            if (!has_uk) continue;
            job j = {.p = &p, .qa = &qa, .fa = &fa, .kern = k, .ts = ts};
            /* with a microkernel named, only it runs (for profilers) */
            double tf = only_uk ? 0.0 : best_s(run_f, &j, runs), tfd = only_uk ? 0.0 : best_s(run_fd, &j, runs);
            for (int u = 0; u < NNL_QUKR_MAX && k->qukr[u]; u++) {
                if (!k->qukr[u]->supported()) continue;
                if (only_uk && strcmp(only_uk, k->qukr[u]->name) != 0) continue;
                /* a microkernel with a transposed tile also without it (pixel
                 * tiles only), the two timed in alternating rounds */
                nnl_qukr px = *k->qukr[u];
                px.tfn = NULL;
                const nnl_qukr *var[2] = {k->qukr[u], &px};
                const int nvar = k->qukr[u]->tfn ? 2 : 1;
                double tq[2] = {1e30, 1e30};
                for (int round = 0; round < 4; round++)
                    for (int v = 0; v < nvar; v++) {
                        j.uk = var[v];
                        double t = best_s(run_q, &j, (runs + 3) / 4);
                        if (t < tq[v]) tq[v] = t;
                    }
                for (int v = 0; v < nvar; v++)
                    printf("%-26s %7.3f %-8s %-10s %-2s %8.1f %8.1f %8.1f %5.2fx\n", s->name, macs * 1e-9, k->name,
                           k->qukr[u]->name, v ? "px" : "", macs / tq[v] * 1e-9, macs / tf * 1e-9, macs / tfd * 1e-9,
                           tf / tq[v]);
            }
            /* the set's 8-bit Winograd, where it runs the conv (rated by
             * the direct conv's multiply-adds, so comparable) */
            if (k->qwino && nnl_qwino_ok(&p, qa.w7) && (!only_uk || strcmp(only_uk, "winograd") == 0)) {
                const double tw = best_s(run_w, &j, runs);
                printf("%-26s %7.3f %-8s %-10s %-2s %8.1f %8.1f %8.1f %5.2fx\n", s->name, macs * 1e-9, k->name,
                       "winograd", "", macs / tw * 1e-9, macs / tf * 1e-9, macs / tfd * 1e-9, tf / tw);
            }
        }
        free(xq), free(yq), free(wq), free(scale), free(bias);
        nnl_aligned_free(packed), nnl_aligned_free(xf), nnl_aligned_free(yf), nnl_aligned_free(wf),
            nnl_aligned_free(wp);
    }
    nnl_aligned_free(ts[0]);
    return 0;
}
