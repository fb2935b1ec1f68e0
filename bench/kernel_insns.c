/*
 * Drives one kernel of one set REPS times on fixed operands, for counting
 * instructions per FLOP under an emulator (bench/kernel_insns.sh runs it
 * under qemu-aarch64 with one instruction per translation block and counts
 * the executed ones; two REPS values cancel start-up and setup).
 *
 * usage: kernel_insns SET KERNEL REPS
 *   SET     scalar | neon | avx2 | avx512 (nnl_kernel_find)
 *   KERNEL  ukr   one full microkernel tile, 8 x nr, kc = 256, no epilogue
 *           ukr_epi  the same with bias + residual + ReLU epilogue
 *           ukr_k24  one tile at kc = 24 with bias + ReLU (a mobile
 *                 network's 1x1 expansion, where the epilogue weighs most)
 *           qdw   8-bit depthwise taps (nnl_qdw_fn): 9 taps over 256
 *                 pixels, requantized (MACs counted as 2 FLOPs)
 *           dot8  one 8-row panel dot product, k = 256
 *           erf   256 elements
 * Prints the FLOPs of one repetition (erf: elements) on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h"

#define KC 256
#define DW_N 96   /* erf's elements */

static float a[NNL_MR * KC], b[KC * NNL_NR_MAX], c[NNL_MR * NNL_NR_MAX], res[NNL_MR * NNL_NR_MAX];
static float bias[NNL_MR], y[DW_N + 8], e[KC];
#define QDW_N 256
static uint8_t qx[9][QDW_N + NNL_QDW_BLOCK], qy[QDW_N + NNL_QDW_BLOCK];

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: kernel_insns SET ukr|ukr_epi|ukr_k24|qdw|dot8|erf REPS\n");
        return 2;
    }
    const nnl_kernel *k = nnl_kernel_find(argv[1]);
    if (!k) {
        fprintf(stderr, "kernel set %s is not built in or not supported here\n", argv[1]);
        return 2;
    }
    const long reps = atol(argv[3]);
    for (int i = 0; i < NNL_MR * KC; i++) a[i] = (float)(i % 7) * 0.125f - 0.25f;
    for (int i = 0; i < KC * NNL_NR_MAX; i++) b[i] = (float)(i % 5) * 0.25f - 0.5f;
    for (int i = 0; i < NNL_MR * NNL_NR_MAX; i++) res[i] = (float)(i % 3);
    for (int i = 0; i < NNL_MR; i++) bias[i] = (float)i;
    for (int i = 0; i < KC; i++) e[i] = (float)(i - 128) / 32.0f;
    nnl_epilogue epi = {.alpha = 1.0f, .bias_row = bias, .res = res, .res_rs = k->nr, .beta = 1.0f,
                        .act = NNL_ACT_RELU};
    nnl_ukr_args u = {.kc = KC, .a = a, .a_next = a, .b = b, .c = c, .ldc = k->nr, .mr = NNL_MR, .nr = k->nr};
    float acc[8] = {0};
    double flops;
    if (strcmp(argv[2], "ukr") == 0 || strcmp(argv[2], "ukr_epi") == 0) {
        if (argv[2][3]) u.epi = &epi;
        for (long r = 0; r < reps; r++) k->ukr(&u);
        flops = 2.0 * NNL_MR * k->nr * KC;
    } else if (strcmp(argv[2], "ukr_k24") == 0) {
        epi.res = NULL;
        u.epi = &epi;
        u.kc = 24;
        for (long r = 0; r < reps; r++) k->ukr(&u);
        flops = 2.0 * NNL_MR * k->nr * 24;
    } else if (strcmp(argv[2], "qdw") == 0) {
        const uint8_t *src[9];
        int8_t wq[9];
        for (int t = 0; t < 9; t++) {
            for (int i = 0; i < QDW_N; i++) qx[t][i] = (uint8_t)(i * 7 + t);
            src[t] = qx[t];
            wq[t] = (int8_t)(t * 29 - 100);
        }
        const nnl_qdw_epi qe = {.off = 1000, .mult = 0.001f, .zy = 3, .lo = 0, .hi = 255};
        for (long r = 0; r < reps; r++) k->qdw(qy, src, wq, 9, QDW_N, &qe);
        flops = 2.0 * 9 * QDW_N;
        acc[0] = qy[5];
        for (long r = 0; r < reps; r++) k->dot8(a, b, 1, KC, acc);
        flops = 2.0 * 8 * KC;
    } else if (strcmp(argv[2], "erf") == 0) {
        for (long r = 0; r < reps; r++) k->erf(y, e, DW_N);
        flops = DW_N;
    } else {
        fprintf(stderr, "unknown kernel %s\n", argv[2]);
        return 2;
    }
    /* the results feed the exit status, so no repetition is dead code */
    printf("%.0f\n", flops + (c[0] + y[0] + acc[0] == 12345.0f));
    return 0;
}
